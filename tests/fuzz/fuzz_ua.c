/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ua.c - libFuzzer target for the UA classifier (collector/ua.h).
 *
 * Any bytes are a valid UA, so every input must classify, and these
 * properties must hold (h2o's driver style: assert, don't just run):
 * - every family is in range and has a name; major versions have no '.'
 *   and are empty for a family of Other;
 * - classifying twice gives the same answer, and so does the cache, on a
 *   miss and on the hit that follows;
 * - only the first HZ_UA_MAX bytes count;
 * - an empty UA is a bot;
 * - Client Hints parsed from the input's first bytes never crash, give
 *   families in range, agree with the cache, and "not sent" is the same
 *   as no hints at all.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/ua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_range(const struct hz_ua *u)
{
    if ((unsigned)u->browser >= HZ_UA_BROWSER_COUNT || (unsigned)u->os >= HZ_OS_COUNT ||
        (unsigned)u->device >= HZ_DEV_COUNT || (u->bot != 0 && u->bot != 1))
        abort();
    if (hz_ua_browser_name(u->browser) == NULL || hz_ua_os_name(u->os) == NULL ||
        hz_ua_device_name(u->device) == NULL)
        abort();
    /* Majors only: NUL-terminated inside their buffer, no '.', none for Other. */
    if (memchr(u->browser_major, '\0', HZ_UA_MAJOR_MAX) == NULL ||
        memchr(u->os_major, '\0', HZ_UA_MAJOR_MAX) == NULL || strchr(u->browser_major, '.') ||
        strchr(u->os_major, '.') || (u->browser == HZ_UA_OTHER && u->browser_major[0] != '\0') ||
        (u->os == HZ_OS_OTHER && u->os_major[0] != '\0'))
        abort();
}

static void
check_same(const struct hz_ua *a, const struct hz_ua *b)
{
    if (a->browser != b->browser || a->os != b->os || a->device != b->device || a->bot != b->bot ||
        strcmp(a->browser_major, b->browser_major) != 0 || strcmp(a->os_major, b->os_major) != 0)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hz_ua_cache cache;
    static int ready;
    const char *ua = (const char *)data;
    struct hz_ua a, b;

    if (!ready) {
        hz_ua_cache_init(&cache);
        ready = 1;
    }
    hz_ua_classify(ua, size, &a);
    check_range(&a);
    hz_ua_classify(ua, size, &b);
    check_same(&a, &b);
    hz_ua_classify_cached(&cache, ua, size, &b);
    check_same(&a, &b);
    hz_ua_classify_cached(&cache, ua, size, &b);
    check_same(&a, &b);
    if (size > HZ_UA_MAX) {
        hz_ua_classify(ua, HZ_UA_MAX, &b);
        check_same(&a, &b);
    }
    if (size == 0 && !a.bot)
        abort();

    /* Hints from the first bytes: "?1"/"?0"-like and a platform. */
    {
        struct hz_ua_hints h, none = {0};
        size_t m = size < 2 ? size : 2, p = size - m < 12 ? size - m : 12;

        hz_ua_hints_parse(&h, ua, m, ua + m, p);
        if (h.mobile < -1 || h.mobile > 1 || h.os > HZ_OS_COUNT)
            abort();
        hz_ua_classify_hints(ua, size, &h, &b);
        check_range(&b);
        {
            struct hz_ua c;
            hz_ua_classify_cached_hints(&cache, ua, size, &h, &c);
            check_same(&b, &c);
        }
        hz_ua_classify_hints(ua, size, &none, &b);
        check_same(&a, &b);
    }
    return 0;
}
