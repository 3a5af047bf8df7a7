/* SPDX-License-Identifier: MIT */
/*
 * ua.h - user agent -> coarse families (DESIGN.md): browser, os, device,
 * bot. Families are coarse on purpose: less to single anyone out.
 *
 * Pure: hz_ua_classify reads only constant tables (a lookup index over
 * collector/ua_rules.inc is built once, under pthread_once) and is safe to
 * call from any thread. The optional cache is owned by the caller (one per
 * thread) and keyed by a keyed hash of the UA. The UA itself is never
 * stored, copied or logged (privacy).
 *
 * Only the first HZ_UA_MAX bytes of a UA are read: everything that decides
 * a family sits near the front, and it bounds the work per hit.
 */
#ifndef HZ_COLLECTOR_UA_H
#define HZ_COLLECTOR_UA_H

#include <stddef.h>
#include <stdint.h>

enum hz_browser {
    HZ_UA_OTHER = 0,
    HZ_UA_CHROME,
    HZ_UA_FIREFOX,
    HZ_UA_SAFARI,
    HZ_UA_EDGE,
    HZ_UA_OPERA,
    HZ_UA_SAMSUNG,
    HZ_UA_IE,
    HZ_UA_YANDEX,
    HZ_UA_UC,
    HZ_UA_BROWSER_COUNT
};

enum hz_os {
    HZ_OS_OTHER = 0,
    HZ_OS_WINDOWS,
    HZ_OS_MACOS,
    HZ_OS_IOS,
    HZ_OS_ANDROID,
    HZ_OS_LINUX,
    HZ_OS_CHROMEOS,
    HZ_OS_COUNT
};

enum hz_device { HZ_DEV_DESKTOP = 0, HZ_DEV_MOBILE, HZ_DEV_TABLET, HZ_DEV_COUNT };

struct hz_ua {
    enum hz_browser browser;
    enum hz_os os;
    enum hz_device device;
    int bot; /* 1: crawler, monitor, headless or library; not counted */
};

#define HZ_UA_MAX   512 /* bytes of a UA that are read */
#define HZ_UA_SHORT 12  /* a UA shorter than this is a bot ("-", "Mozilla/5.0") */

/* Classifies (ua, len): any bytes, NUL included; ua may be NULL when len is 0.
 * Never fails: unknown input yields Other/Other/desktop. Bots are an empty
 * or short UA, a control byte (no browser sends one), or a bot rule. Their
 * families are still filled in, for haze-ua; the collector drops them.
 *
 * Policy worth knowing (DESIGN.md families, see ua_rules.inc for tokens):
 * - mobile variants belong to their family (CriOS is Chrome, FxiOS Firefox,
 *   EdgA/EdgiOS Edge, OPR/OPiOS/Opera Mini Opera, Mobile Safari Safari);
 * - in-app webviews (Instagram, Facebook, WeChat, Android "; wv)") are
 *   users, counted as their engine: Chrome on Android, Safari on iOS
 *   (any iOS UA without another browser's token is Safari);
 * - "Safari" outside iOS/macOS is not Apple's (the old Android browser,
 *   GNOME Web, consoles) and counts as Other;
 * - iPadOS in desktop mode sends a Mac UA and counts as macOS/desktop:
 *   nothing in the UA tells them apart;
 * - Android without "Mobile" is a tablet (Chrome's and Firefox's rule),
 *   except on ChromeOS, which is desktop. */
void hz_ua_classify(const char *ua, size_t len, struct hz_ua *out);

/* The rule table, for tests: hz_ua_rule_count() rules, in table order. */
size_t hz_ua_rule_count(void);
const char *hz_ua_rule_token(size_t i); /* static string; NULL if i is out of range */

/* hz_ua_classify, and sets decided[i] = 1 for every rule i that decided part
 * of the answer: the winning browser, os and device rules, each bot rule
 * that matched and each NOTBOT rule that voided a bot word. decided has
 * hz_ua_rule_count() bytes and is not cleared first. */
void hz_ua_classify_trace(const char *ua, size_t len, struct hz_ua *out, unsigned char *decided);

/* Display names exactly as DESIGN.md spells them ("Samsung Internet", "macOS",
 * "desktop", ...). Static strings. */
const char *hz_ua_browser_name(enum hz_browser b);
const char *hz_ua_os_name(enum hz_os o);
const char *hz_ua_device_name(enum hz_device d);

/* A small fixed-size direct-mapped cache in front of hz_ua_classify: slot =
 * SipHash(key, first HZ_UA_MAX bytes) mod HZ_UA_CACHE_SLOTS; a slot holds
 * the full 64-bit hash and the length, never the UA. Another UA in the same
 * slot is a miss and replaces it. The random key keeps an attacker from
 * aiming UAs at one slot. Not thread-safe: one cache per thread. */
#define HZ_UA_CACHE_SLOTS 1024
struct hz_ua_cache {
    unsigned char key[16];           /* random per cache: hash key */
    struct {
        uint64_t h;                  /* 0 = empty */
        uint32_t len;
        struct hz_ua v;
    } slot[HZ_UA_CACHE_SLOTS];
};
void hz_ua_cache_init(struct hz_ua_cache *c); /* all slots empty; random key (arc4random_buf) */
/* Same answer as hz_ua_classify(ua, len, out), barring a 64-bit collision of
 * the keyed hash between two UAs of equal length. */
void hz_ua_classify_cached(struct hz_ua_cache *c, const char *ua, size_t len, struct hz_ua *out);

#endif
