/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ua.c - libFuzzer target for the UA classifier (collector/ua.h).
 *
 * Any bytes are a valid UA, so every input must classify, and these
 * properties must hold (h2o's driver style: assert, don't just run):
 * - every family is in range and has a name;
 * - classifying twice gives the same answer, and so does the cache, on a
 *   miss and on the hit that follows;
 * - only the first HZ_UA_MAX bytes count;
 * - a UA shorter than HZ_UA_SHORT is a bot.
 */
#include <stdint.h>
#include <stdlib.h>

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
}

static void
check_same(const struct hz_ua *a, const struct hz_ua *b)
{
    if (a->browser != b->browser || a->os != b->os || a->device != b->device || a->bot != b->bot)
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
    if (size < HZ_UA_SHORT && !a.bot)
        abort();
    return 0;
}
