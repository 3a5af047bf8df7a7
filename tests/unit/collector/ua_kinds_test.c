/* SPDX-License-Identifier: MIT */
/*
 * ua_kinds_test.c - collector/ua: the mapping table (every family of
 * DESIGN.md is reached, unknown names are Other), each kind of bot the
 * classifier knows and each kind of person it must not call a bot, Client
 * Hints, and the databases' build (every pattern compiles, versions).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "collector/ua.h"

static struct hz_ua
classify(const char *ua)
{
    struct hz_ua got;

    hz_ua_classify(ua, strlen(ua), &got);
    return got;
}

/* ------------------------------------------------------------ mapping */

Test(ua_map, every_browser_family_and_its_variants)
{
    static const struct {
        const char *name;
        enum hz_browser want;
    } m[] = {
        {"Chrome", HZ_UA_CHROME},
        {"Chrome Mobile", HZ_UA_CHROME},
        {"Chrome Mobile iOS", HZ_UA_CHROME},
        {"Chrome Mobile WebView", HZ_UA_CHROME},
        {"Firefox", HZ_UA_FIREFOX},
        {"Firefox Mobile", HZ_UA_FIREFOX},
        {"Firefox iOS", HZ_UA_FIREFOX},
        {"Firefox (Shiretoko)", HZ_UA_FIREFOX},
        {"Safari", HZ_UA_SAFARI},
        {"Mobile Safari", HZ_UA_SAFARI},
        {"Mobile Safari UI/WKWebView", HZ_UA_SAFARI},
        {"Edge", HZ_UA_EDGE},
        {"Edge Mobile", HZ_UA_EDGE},
        {"Opera", HZ_UA_OPERA},
        {"Opera Mini", HZ_UA_OPERA},
        {"Opera Mobile", HZ_UA_OPERA},
        {"Samsung Internet", HZ_UA_SAMSUNG},
        {"IE", HZ_UA_IE},
        {"IE Mobile", HZ_UA_IE},
        {"Yandex Browser", HZ_UA_YANDEX},
        {"UC Browser", HZ_UA_UC},
        /* Unknown or not ours: Other, never a guess. */
        {"Vivaldi", HZ_UA_OTHER},
        {"Brave", HZ_UA_OTHER},
        {"Puffin", HZ_UA_OTHER},
        {"Facebook", HZ_UA_OTHER},
        {"Instagram", HZ_UA_OTHER},
        {"Googlebot", HZ_UA_OTHER},
        {"Firefox Focus", HZ_UA_OTHER},
        {"chrome", HZ_UA_OTHER},
        {"", HZ_UA_OTHER},
        {"Other", HZ_UA_OTHER},
    };
    int seen[HZ_UA_BROWSER_COUNT] = {0};

    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        cr_expect_eq(hz_ua_browser_of(m[i].name), m[i].want, "\"%s\"", m[i].name);
        seen[hz_ua_browser_of(m[i].name)] = 1;
    }
    cr_expect_eq(hz_ua_browser_of(NULL), HZ_UA_OTHER);
    for (int f = 0; f < HZ_UA_BROWSER_COUNT; f++)
        cr_expect(seen[f], "no name maps to %s", hz_ua_browser_name((enum hz_browser)f));
}

Test(ua_map, every_os_family)
{
    static const struct {
        const char *name;
        enum hz_os want;
    } m[] = {
        {"Windows", HZ_OS_WINDOWS},     {"Mac OS X", HZ_OS_MACOS},       {"iOS", HZ_OS_IOS},
        {"Android", HZ_OS_ANDROID},     {"Chrome OS", HZ_OS_CHROMEOS},   {"Linux", HZ_OS_LINUX},
        {"Ubuntu", HZ_OS_LINUX},        {"Fedora", HZ_OS_LINUX},         {"Debian", HZ_OS_LINUX},
        {"Windows Phone", HZ_OS_OTHER}, {"Windows Mobile", HZ_OS_OTHER}, {"tvOS", HZ_OS_OTHER},
        {"WatchOS", HZ_OS_OTHER},       {"KaiOS", HZ_OS_OTHER},          {"FreeBSD", HZ_OS_OTHER},
        {"webOS", HZ_OS_OTHER},         {"Other", HZ_OS_OTHER},          {"", HZ_OS_OTHER},
    };
    int seen[HZ_OS_COUNT] = {0};

    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        cr_expect_eq(hz_ua_os_of(m[i].name), m[i].want, "\"%s\"", m[i].name);
        seen[hz_ua_os_of(m[i].name)] = 1;
    }
    cr_expect_eq(hz_ua_os_of(NULL), HZ_OS_OTHER);
    for (int f = 0; f < HZ_OS_COUNT; f++)
        cr_expect(seen[f], "no name maps to %s", hz_ua_os_name((enum hz_os)f));
}

/* ------------------------------------------------------------ bot kinds */

/* One real UA per way of being a bot; each would pass as a person if the
 * rule that catches it broke. */
Test(ua_bots, uap_core_spider_rules)
{
    /* uap-core's leading Spider rules: a mobile crawler on a phone's UA. */
    cr_expect(classify("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) "
                       "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile "
                       "Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
                  .bot);
    /* Its generic rule near the end of its device rules. */
    cr_expect(classify("Mozilla/5.0 (compatible; SomeNewCrawler/1.0)").bot);
}

Test(ua_bots, crawler_user_agents_patterns)
{
    /* A plain-string pattern, and one that is a regex. */
    cr_expect(classify("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)").bot);
    cr_expect(classify("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                       "Gecko) Chrome/120.0.0.0 Safari/537.36 (compatible; SISTRIX Crawler)")
                  .bot);
}

Test(ua_bots, isbot_words_without_a_device)
{
    cr_expect(classify("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                       "HeadlessChrome/120.0.6099.109 Safari/537.36")
                  .bot);
    cr_expect(classify("python-requests/2.31.0").bot);
    cr_expect(classify("Wget/1.21.4").bot);
}

Test(ua_bots, no_browser_signal)
{
    cr_expect(classify("Dart/3.2 (dart:io)").bot);
    cr_expect(classify("NewRelicPinger/1.0 (2234045)").bot);
    cr_expect(classify("Mozilla/5.0").bot);
    cr_expect(classify("-").bot);
    cr_expect(classify("").bot);
}

Test(ua_bots, control_bytes)
{
    static const char ua[] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                             "(KHTML, like Gecko) Chrome/131.0.0.0\x01 Safari/537.36";

    cr_expect(classify(ua).bot);
}

/* People the bot lists' broad patterns would catch: a phone's or TV's own
 * UA names its device, so it is a person. */
Test(ua_bots, in_app_tv_and_feature_phones_are_people)
{
    static const char *const people[] = {
        /* in-app browsers */
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Mobile/15E148 Instagram 347.0.2.17.105 (iPhone15,3; iOS 17_6_1; en_US; en; "
        "scale=3.00; 1290x2796; 630307584)",
        "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230901.001; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 "
        "[FB_IAB/FB4A;FBAV/444.0.0.38.114;]",
        "YahooMobile/1.0 (im; 1.8.4.15957); (Linux; U; Android 4.0.4; AllviewAX2 Build/Unknown);",
        /* TVs */
        "Mozilla/5.0 (Linux; GoogleTV 3.2; NSZ-GS7/GX70 Build/MASTER) AppleWebKit/534.24 (KHTML, "
        "like Gecko) Chrome/11.0.696.77 Safari/534.24",
        "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "76.0.3809.146/6.0 TV Safari/537.36",
        /* a feature phone, and a phone whose name has "bot" in it */
        "ALCATEL-OH1",
        "Mozilla/5.0 (Linux; Android 12; Cubot P60) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/119.0.6045.163 Mobile Safari/537.36",
    };

    for (size_t i = 0; i < sizeof people / sizeof people[0]; i++)
        cr_expect_eq(classify(people[i]).bot, 0, "%s", people[i]);
}

/* ------------------------------------------------------------ hints */

Test(ua_hints, parse)
{
    struct hz_ua_hints h;

    hz_ua_hints_parse(&h, "?1", 2, "\"Android\"", 9);
    cr_expect_eq(h.mobile, 1);
    cr_expect_eq(h.os, HZ_OS_ANDROID + 1);
    hz_ua_hints_parse(&h, "?0", 2, "\"Windows\"", 9);
    cr_expect_eq(h.mobile, -1);
    cr_expect_eq(h.os, HZ_OS_WINDOWS + 1);
    hz_ua_hints_parse(&h, "?2", 2, "\"Fuchsia\"", 9); /* unknown: not sent */
    cr_expect_eq(h.mobile, 0);
    cr_expect_eq(h.os, 0);
    hz_ua_hints_parse(&h, NULL, 0, NULL, 0);
    cr_expect_eq(h.mobile, 0);
    cr_expect_eq(h.os, 0);
    hz_ua_hints_parse(&h, "?1", 1, "\"Linux\"", 6); /* cut short */
    cr_expect_eq(h.mobile, 0);
    cr_expect_eq(h.os, 0);
}

/* Chrome's reduced UA on Android says "Android 10; K" whatever the device;
 * Sec-CH-UA-Mobile tells a phone from a tablet. */
Test(ua_hints, mobile_hint_decides_the_device)
{
    static const char ua[] = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like "
                             "Gecko) Chrome/131.0.0.0 Safari/537.36";
    struct hz_ua_hints h;
    struct hz_ua got;

    hz_ua_classify(ua, sizeof ua - 1, &got);
    cr_expect_eq(got.device, HZ_DEV_TABLET);
    hz_ua_hints_parse(&h, "?1", 2, "\"Android\"", 9);
    hz_ua_classify_hints(ua, sizeof ua - 1, &h, &got);
    cr_expect_eq(got.device, HZ_DEV_MOBILE);
    cr_expect_eq(got.os, HZ_OS_ANDROID);
    hz_ua_hints_parse(&h, "?0", 2, NULL, 0);
    hz_ua_classify_hints(ua, sizeof ua - 1, &h, &got);
    cr_expect_eq(got.device, HZ_DEV_TABLET);
}

/* The platform hint fills in an os the UA does not name, and never
 * overrides one it does. */
Test(ua_hints, platform_fills_only_an_unknown_os)
{
    static const char win[] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                              "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    static const char bare[] = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko) "
                               "Chrome/131.0.0.0 Safari/537.36";
    struct hz_ua_hints h;
    struct hz_ua got;

    hz_ua_hints_parse(&h, "?0", 2, "\"Linux\"", 7);
    hz_ua_classify_hints(win, sizeof win - 1, &h, &got);
    cr_expect_eq(got.os, HZ_OS_WINDOWS);
    hz_ua_classify_hints(bare, sizeof bare - 1, &h, &got);
    cr_expect_eq(got.os, HZ_OS_LINUX);
    cr_expect_eq(got.device, HZ_DEV_DESKTOP);
}

/* Hints are part of the cache key: the same UA with other hints is
 * another entry. */
Test(ua_hints, cache_keys_on_hints)
{
    static struct hz_ua_cache cache;
    static const char ua[] = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like "
                             "Gecko) Chrome/131.0.0.0 Safari/537.36";
    struct hz_ua_hints mob, none = {0};
    struct hz_ua got;

    hz_ua_cache_init(&cache);
    hz_ua_hints_parse(&mob, "?1", 2, NULL, 0);
    for (int round = 0; round < 2; round++) {
        hz_ua_classify_cached_hints(&cache, ua, sizeof ua - 1, &mob, &got);
        cr_expect_eq(got.device, HZ_DEV_MOBILE, "round %d", round);
        hz_ua_classify_cached_hints(&cache, ua, sizeof ua - 1, &none, &got);
        cr_expect_eq(got.device, HZ_DEV_TABLET, "round %d", round);
        hz_ua_classify_cached(&cache, ua, sizeof ua - 1, &got);
        cr_expect_eq(got.device, HZ_DEV_TABLET, "round %d", round);
    }
}

/* ------------------------------------------------------------ database */

Test(ua_db, every_pattern_compiles_and_versions_are_named)
{
    const char *v = hz_ua_versions();

    cr_expect_eq(hz_ua_init(), 0, "%zu database patterns did not compile", hz_ua_init());
    cr_expect_not_null(strstr(v, "uap-core "), "%s", v);
    cr_expect_not_null(strstr(v, "isbot "), "%s", v);
    cr_expect_not_null(strstr(v, "crawler-user-agents "), "%s", v);
}
