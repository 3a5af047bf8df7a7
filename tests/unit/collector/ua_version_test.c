/* SPDX-License-Identifier: MIT */
/*
 * ua_version_test.c - collector/ua and ua_hints: major versions as the
 * family reports them, from the UA's matching rule and from Client Hints,
 * never a full version string.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "collector/ua.h"

struct ver_case {
    const char *ua;
    const char *browser, *bmajor, *os, *omajor;
};

static const struct ver_case ver_cases[] = {
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36",
     "Chrome", "131", "Windows", "10"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
     "Safari", "18", "iOS", "18"},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.6 Safari/605.1.15",
     "Safari", "17", "macOS", "10"},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox",
     "133", "Windows", "10"},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
     "Edge", "131", "Windows", "10"},
    {"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
     "Samsung Internet", "26", "Android", "14"},
    {"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Mobile Safari/537.36",
     "Chrome", "131", "Android", "10"},
    {"Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)", "Internet Explorer", "8",
     "Windows", "XP"},
    {"Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko", "Internet Explorer",
     "11", "Windows", "7"},
    /* A browser outside DESIGN.md's families has no version. */
    {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36 Vivaldi/6.5.3206.48",
     "Other", "", "Linux", NULL},
};

Test(ua_version, majors_from_the_matching_rule)
{
    for (size_t i = 0; i < sizeof ver_cases / sizeof ver_cases[0]; i++) {
        const struct ver_case *c = &ver_cases[i];
        struct hz_ua u;
        hz_ua_classify(c->ua, strlen(c->ua), &u);
        cr_expect_str_eq(hz_ua_browser_name(u.browser), c->browser, "case %zu", i);
        cr_expect_str_eq(u.browser_major, c->bmajor, "case %zu: browser major", i);
        cr_expect_str_eq(hz_ua_os_name(u.os), c->os, "case %zu", i);
        if (c->omajor != NULL)
            cr_expect_str_eq(u.os_major, c->omajor, "case %zu: os major", i);
        /* Never more than a major: no dot, no full version. */
        cr_expect_null(strchr(u.browser_major, '.'), "case %zu", i);
        cr_expect_null(strchr(u.os_major, '.'), "case %zu", i);
    }
}

Test(ua_version, other_families_and_garbage_have_none)
{
    struct hz_ua u;
    const char *lib = "curl/8.5.0";

    hz_ua_classify(lib, strlen(lib), &u);
    cr_expect_str_eq(u.browser_major, "");
    cr_expect_str_eq(u.os_major, "");
    hz_ua_classify(NULL, 0, &u);
    cr_expect_str_eq(u.browser_major, "");
    cr_expect_str_eq(u.os_major, "");
}

Test(ua_version, major_cut)
{
    static const char *const cut[][2] = {
        {"131.0.6778.86", "131"},
        {"10_15_7", "10"},
        {"RT 8", "RT 8"},
        {"XP", "XP"},
        {" 5", ""},
        {"8 ", "8"},
        {"", ""},
        {"abcdefghij kl", "abcdefghij"}, /* no space at the cap */
        {"98765432101.0", ""},           /* a number that long is no version */
        {"60000.1", "60000"},
    };
    char out[HZ_UA_MAJOR_MAX];

    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        hz_ua_major_cut(cut[i][0], strlen(cut[i][0]), out);
        cr_expect_str_eq(out, cut[i][1], "'%s'", cut[i][0]);
    }
    hz_ua_major_cut("abcdefghijklmnopqrstuvwxyz", 26, out);
    cr_expect_eq(strlen(out), HZ_UA_MAJOR_MAX - 1);
}

static const char chrome_win[] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                                 "(KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

/* Client Hints as Chromium sends them over HTTPS. */
static void
ver_hints(struct hz_ua_hints *h, const char *platform, const char *full, const char *brands,
          const char *pver)
{
    hz_ua_hints_parse(h, "?0", 2, platform, platform ? strlen(platform) : 0);
    hz_ua_hints_versions(h, full, full ? strlen(full) : 0, brands, brands ? strlen(brands) : 0,
                         pver, pver ? strlen(pver) : 0);
}

Test(ua_version, client_hints_give_the_brand_and_windows_11)
{
    struct hz_ua_hints h;
    struct hz_ua u;

    /* Sec-CH-UA only (low entropy): the brand's major. */
    ver_hints(&h, "\"Windows\"", NULL,
              "\"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\", \"Google Chrome\";v=\"131\"",
              NULL);
    cr_assert_eq(h.nbrands, 1);
    hz_ua_classify_hints(chrome_win, strlen(chrome_win), &h, &u);
    cr_expect_str_eq(u.browser_major, "131");
    cr_expect_str_eq(u.os_major, "10");
    /* The full list and the platform version: Windows 13+ is 11. */
    ver_hints(&h, "\"Windows\"",
              "\"Google Chrome\";v=\"131.0.6778.86\", \"Chromium\";v=\"131.0.6778.86\", "
              "\"Not_A Brand\";v=\"24.0.0.0\"",
              NULL, "\"15.0.0\"");
    hz_ua_classify_hints(chrome_win, strlen(chrome_win), &h, &u);
    cr_expect_str_eq(u.browser_major, "131");
    cr_expect_str_eq(u.os_major, "11");
    ver_hints(&h, "\"Windows\"", NULL, NULL, "\"10.0.0\"");
    hz_ua_classify_hints(chrome_win, strlen(chrome_win), &h, &u);
    cr_expect_str_eq(u.os_major, "10");
    cr_expect_str_eq(u.browser_major, "130"); /* the UA's */
    /* Windows 7 / 8 report 0.x: the UA's version stays. */
    ver_hints(&h, "\"Windows\"", NULL, NULL, "\"0.3.0\"");
    hz_ua_classify_hints(chrome_win, strlen(chrome_win), &h, &u);
    cr_expect_str_eq(u.os_major, "10");
    /* A platform that is not the UA's os is ignored. */
    ver_hints(&h, "\"macOS\"", NULL, NULL, "\"14.5.0\"");
    hz_ua_classify_hints(chrome_win, strlen(chrome_win), &h, &u);
    cr_expect_str_eq(u.os_major, "10");
}

Test(ua_version, client_hints_edge_brand_and_macos)
{
    static const char edge[] = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) "
                               "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
                               "Safari/537.36 Edg/131.0.0.0";
    struct hz_ua_hints h;
    struct hz_ua u;

    ver_hints(&h, "\"macOS\"",
              "\"Microsoft Edge\";v=\"132.0.2957.11\", \"Chromium\";v=\"132.0.6834.6\", "
              "\"Not A(Brand\";v=\"8.0.0.0\"",
              NULL, "\"14.5.0\"");
    cr_assert_eq(h.nbrands, 2);
    hz_ua_classify_hints(edge, strlen(edge), &h, &u);
    cr_expect_str_eq(hz_ua_browser_name(u.browser), "Edge");
    cr_expect_str_eq(u.browser_major, "132");
    cr_expect_str_eq(u.os_major, "14"); /* the real macOS, not the frozen 10_15_7 */
}

Test(ua_version, malformed_hints_count_as_not_sent)
{
    static const char *const bad[] = {
        "\"Google Chrome\";v=\"131\",",        /* trailing comma */
        "\"Google Chrome;v=\"131\"",           /* unterminated string */
        "Google Chrome;v=131",                 /* a token, not a string */
        "\"Google Chrome\";V=\"131\"",         /* a key must be lower case */
        "\"Google Chrome\";v=\"131\" x",       /* junk after an item */
        "\"Google\\x Chrome\";v=\"131\"",      /* a bad escape */
        "\"Google Chrome\";v=\"99999999999\"", /* no such major */
    };
    struct hz_ua_hints h;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ver_hints(&h, NULL, NULL, bad[i], "\"1x");
        cr_expect_eq(h.nbrands, 0, "%s", bad[i]);
        cr_expect_eq(h.platform_major, 0);
    }
    /* Parameters other than v and bare values are read and skipped. */
    ver_hints(&h, NULL, NULL, "\"Opera\";x=1;v=\"114\";y=?1, \"Chromium\";v=\"129\"", NULL);
    cr_expect_eq(h.nbrands, 2);
}

Test(ua_version, the_cache_keys_on_the_version_hints)
{
    static struct hz_ua_cache c;
    struct hz_ua_hints h10, h11;
    struct hz_ua a, b;

    hz_ua_cache_init(&c);
    ver_hints(&h10, "\"Windows\"", NULL, NULL, "\"10.0.0\"");
    ver_hints(&h11, "\"Windows\"", NULL, NULL, "\"15.0.0\"");
    cr_assert(!hz_ua_hints_eq(&h10, &h11));
    hz_ua_classify_cached_hints(&c, chrome_win, strlen(chrome_win), &h10, &a);
    hz_ua_classify_cached_hints(&c, chrome_win, strlen(chrome_win), &h11, &b);
    cr_expect_str_eq(a.os_major, "10");
    cr_expect_str_eq(b.os_major, "11");
    hz_ua_classify_cached_hints(&c, chrome_win, strlen(chrome_win), &h10, &a);
    cr_expect_str_eq(a.os_major, "10");
}
