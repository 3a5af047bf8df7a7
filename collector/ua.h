/* SPDX-License-Identifier: MIT */
/*
 * ua.h - user agent -> coarse families (DESIGN.md): browser, os, device,
 * bot. Families are coarse on purpose: less to single anyone out.
 *
 * Pure: hz_ua_classify reads only constant tables (the databases compiled
 * in from build/uadb, see collector/ua_db.h, whose matchers are built once,
 * under pthread_once) and is safe to call from any thread. The optional cache is owned by the
 * caller (one per thread) and keyed by a keyed hash of the UA. The UA itself is never stored,
 * copied or logged (privacy).
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

/* A major version as its family reports it ("131", "18", "10", "11",
 * "XP", "RT 8"), NUL-terminated; "" when unknown. Never the full version
 * (privacy: coarse technical data only). */
#define HZ_UA_MAJOR_MAX 12

struct hz_ua {
    enum hz_browser browser;
    enum hz_os os;
    enum hz_device device;
    int bot;                             /* 1: crawler, monitor, headless or library; not counted */
    char browser_major[HZ_UA_MAJOR_MAX]; /* "" for Other or unknown */
    char os_major[HZ_UA_MAJOR_MAX];      /* "" for Other or unknown */
};

#define HZ_UA_MAX 512 /* bytes of a UA that are read */

/* Client Hints a browser may send beside its UA (Chromium does, over
 * HTTPS): Sec-CH-UA-Mobile ("?1" / "?0") and Sec-CH-UA-Platform
 * ("\"Android\"", ...). Parsed from the header values by hz_ua_hints_parse;
 * zero means "not sent". */
#define HZ_UA_BRANDS_MAX 3 /* brands kept from Sec-CH-UA (GREASE aside) */
struct hz_ua_hints {
    signed char mobile; /* 1 "?1", -1 "?0", 0 absent or unreadable */
    unsigned char os;   /* an enum hz_os + 1, or 0 absent or unknown */
    /* Versions (collector/ua_hints.c): the brands of Sec-CH-UA-Full-Version-
     * List or Sec-CH-UA that name one of DESIGN.md's families, each with
     * its major version; and Sec-CH-UA-Platform-Version's major + 1. */
    unsigned char nbrands;
    unsigned char brand[HZ_UA_BRANDS_MAX]; /* an enum hz_browser */
    uint16_t brand_major[HZ_UA_BRANDS_MAX];
    uint16_t platform_major; /* major + 1, 0 absent or unreadable */
};

/* Fills *h from the two header values (each may be NULL: not sent). Never
 * fails: a value it cannot read counts as not sent. */
void hz_ua_hints_parse(struct hz_ua_hints *h, const char *mobile, size_t mobile_len,
                       const char *platform, size_t platform_len);

/* Fills the version fields of *h from Sec-CH-UA-Full-Version-List,
 * Sec-CH-UA and Sec-CH-UA-Platform-Version (each may be NULL: not sent).
 * Only brand majors and the platform's major are kept, never a full
 * version. Never fails: what it cannot read counts as not sent. */
void hz_ua_hints_versions(struct hz_ua_hints *h, const char *full_list, size_t full_len,
                          const char *brands, size_t brands_len, const char *pver, size_t pver_len);

/* 1 when two hints give the same answer (the cache's key). */
int hz_ua_hints_eq(const struct hz_ua_hints *a, const struct hz_ua_hints *b);

/* The versions' last step (called by the classifier): a family of Other
 * has no version; a Client Hints brand of the UA's family gives the
 * browser's major; Sec-CH-UA-Platform-Version gives the os's major for
 * Windows (13 and up is "11", 1 to 12 "10"; 0 leaves the UA's 7 / 8),
 * macOS and Android when the hints' platform is the UA's os. h may be NULL. */
void hz_ua_hints_apply(const struct hz_ua_hints *h, struct hz_ua *out);

/* Cuts a version text (v, len) to its major part into out
 * (HZ_UA_MAJOR_MAX): the leading letters, digits and inner spaces up to
 * the first other byte ("131.0.6778" -> "131", "10_15" -> "10", "RT 8"
 * stays); "" when it does not start with a letter or digit. */
void hz_ua_major_cut(const char *v, size_t len, char out[HZ_UA_MAJOR_MAX]);

/* Classifies (ua, len): any bytes, NUL included; ua may be NULL when len is 0.
 * Never fails: unknown input yields Other/Other/desktop.
 *
 * Browser and os come from uap-core's rules (the first matching rule's
 * family), mapped onto DESIGN.md's families by the table in ua.c; a family
 * the table does not name is Other, never a guess. Major versions come
 * from the same rules (their v1 replacement or second group; see
 * hz_ua_hints_apply for Client Hints). Bots: an empty or
 * short UA, a control byte (no browser sends one), uap-core's bot rules
 * ("Spider"), isbot's patterns or crawler-user-agents' patterns. Their
 * families are still filled in, for haze-ua; the collector drops them.
 * Device: see ua_device in ua.c (tablet and phone tokens, the os, and
 * Client Hints when sent). */
void hz_ua_classify(const char *ua, size_t len, struct hz_ua *out);

/* hz_ua_classify with the Client Hints sent beside the UA (h may be NULL):
 * Sec-CH-UA-Mobile decides mobile or not, Sec-CH-UA-Platform the os when
 * the UA names none of DESIGN.md's. */
void hz_ua_classify_hints(const char *ua, size_t len, const struct hz_ua_hints *h,
                          struct hz_ua *out);

/* The fine names of the databases mapped onto DESIGN.md's families (the
 * mapping table in ua.c; unknown names are Other). For tests and tools. */
enum hz_browser hz_ua_browser_of(const char *uap_family);
enum hz_os hz_ua_os_of(const char *uap_os_family);

/* Builds the matchers (PCRE2, JIT) once; every classify call does it on
 * first use anyway. Returns the number of database patterns PCRE2 could not
 * compile (they are left out; 0 with the pinned databases). */
size_t hz_ua_init(void);

/* "uap-core X, isbot Y, crawler-user-agents Z": the databases built in. */
const char *hz_ua_versions(void);

/* Display names exactly as DESIGN.md spells them ("Samsung Internet", "macOS",
 * "desktop", ...). Static strings. */
const char *hz_ua_browser_name(enum hz_browser b);
const char *hz_ua_os_name(enum hz_os o);
const char *hz_ua_device_name(enum hz_device d);

/* A bounded, 4-way set-associative cache in front of hz_ua_classify (a
 * miss costs tens of microseconds of regex matching, a hit a SipHash):
 * set = SipHash(key, first HZ_UA_MAX bytes) mod HZ_UA_CACHE_SETS; a slot
 * holds the full 64-bit hash, the length and the Client Hints, never the
 * UA. A fifth UA in a full set replaces its ways in turn (FIFO). The random
 * key keeps an attacker from aiming UAs at one set. About 290 KiB; not
 * thread-safe: one cache per thread. */
#define HZ_UA_CACHE_WAYS  4
#define HZ_UA_CACHE_SETS  1024
#define HZ_UA_CACHE_SLOTS (HZ_UA_CACHE_WAYS * HZ_UA_CACHE_SETS)
struct hz_ua_cache {
    unsigned char key[16];                /* random per cache: hash key */
    unsigned char next[HZ_UA_CACHE_SETS]; /* per set: the way replaced next */
    struct {
        uint64_t h; /* 0 = empty */
        uint32_t len;
        struct hz_ua_hints hints;
        struct hz_ua v;
    } slot[HZ_UA_CACHE_SLOTS]; /* set s: slot[s * HZ_UA_CACHE_WAYS ...] */
};
void hz_ua_cache_init(struct hz_ua_cache *c); /* all slots empty; random key (arc4random_buf) */
/* Same answer as hz_ua_classify(ua, len, out), barring a 64-bit collision of
 * the keyed hash between two UAs of equal length. */
void hz_ua_classify_cached(struct hz_ua_cache *c, const char *ua, size_t len, struct hz_ua *out);
/* The same with Client Hints (h may be NULL); they are part of the key. */
void hz_ua_classify_cached_hints(struct hz_ua_cache *c, const char *ua, size_t len,
                                 const struct hz_ua_hints *h, struct hz_ua *out);

#endif
