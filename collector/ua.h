/* SPDX-License-Identifier: MIT */
/*
 * ua.h - user agent -> coarse families (DESIGN.md): browser, os, device,
 * bot. Families are coarse on purpose: less to single anyone out.
 *
 * Pure: hz_ua_classify touches no global state. The optional cache is
 * owned by the caller (one per thread) and keyed by a hash of the UA.
 * The UA itself is never stored or logged (privacy).
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

/* Classifies (ua, len). Never fails: unknown input yields Other/Other/desktop,
 * an empty UA is a bot. */
void hz_ua_classify(const char *ua, size_t len, struct hz_ua *out);

/* Display names exactly as DESIGN.md spells them ("Samsung Internet", "macOS",
 * "desktop", ...). Static strings. */
const char *hz_ua_browser_name(enum hz_browser b);
const char *hz_ua_os_name(enum hz_os o);
const char *hz_ua_device_name(enum hz_device d);

/* A small fixed-size direct-mapped cache in front of hz_ua_classify. */
#define HZ_UA_CACHE_SLOTS 1024
struct hz_ua_cache {
    unsigned char key[16];           /* random per cache: hash key */
    struct {
        uint64_t h;                  /* 0 = empty */
        uint32_t len;
        struct hz_ua v;
    } slot[HZ_UA_CACHE_SLOTS];
};
void hz_ua_cache_init(struct hz_ua_cache *c); /* random key via arc4random_buf */
void hz_ua_classify_cached(struct hz_ua_cache *c, const char *ua, size_t len, struct hz_ua *out);

#endif
