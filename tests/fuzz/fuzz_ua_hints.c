/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ua_hints.c - libFuzzer target for the Client Hints version parser
 * and the major-version cut (collector/ua_hints.c, ua.h).
 *
 * The input is up to four lines: Sec-CH-UA-Full-Version-List, Sec-CH-UA,
 * Sec-CH-UA-Platform-Version and Sec-CH-UA-Platform (a missing line is a
 * header not sent). Properties (asserted, not just run):
 * - at most HZ_UA_BRANDS_MAX brands, each a family in range other than
 *   Other, each family once, each with a major in 1 .. 60001 (major + 1);
 * - the platform's major is 0 or in 1 .. 60001;
 * - parsing twice gives equal hints, and hz_ua_hints_eq says so;
 * - the versions a classification ends with (a Chrome UA on the hints'
 *   platform) are majors: letters, digits and inner single spaces, shorter
 *   than HZ_UA_MAJOR_MAX, no '.'; none for a family of Other;
 * - hz_ua_major_cut of the whole input is such a major too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/ua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_major(const char *m)
{
    size_t n = strlen(m);

    if (n >= HZ_UA_MAJOR_MAX || (n > 0 && (m[0] == ' ' || m[n - 1] == ' ')))
        abort();
    for (size_t i = 0; i < n; i++) {
        char c = m[i];
        int an = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!an && (c != ' ' || m[i + 1] == ' '))
            abort();
    }
}

static void
check_hints(const struct hz_ua_hints *h)
{
    if (h->nbrands > HZ_UA_BRANDS_MAX || h->platform_major > 60001)
        abort();
    for (int i = 0; i < h->nbrands; i++) {
        if (h->brand[i] == HZ_UA_OTHER || h->brand[i] >= HZ_UA_BROWSER_COUNT ||
            h->brand_major[i] == 0 || h->brand_major[i] > 60001)
            abort();
        for (int j = 0; j < i; j++)
            if (h->brand[j] == h->brand[i])
                abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char chrome[] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                                 "(KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";
    const char *s = (const char *)data, *part[4] = {NULL, NULL, NULL, NULL};
    size_t len[4] = {0, 0, 0, 0}, start = 0;
    int k = 0;
    struct hz_ua_hints a, b;
    struct hz_ua u;
    char cut[HZ_UA_MAJOR_MAX];

    for (size_t i = 0; i <= size && k < 4; i++)
        if (i == size || s[i] == '\n') {
            part[k] = s + start;
            len[k++] = i - start;
            start = i + 1;
        }
    hz_ua_hints_parse(&a, "?0", 2, part[3], len[3]);
    hz_ua_hints_versions(&a, part[0], len[0], part[1], len[1], part[2], len[2]);
    check_hints(&a);
    hz_ua_hints_parse(&b, "?0", 2, part[3], len[3]);
    hz_ua_hints_versions(&b, part[0], len[0], part[1], len[1], part[2], len[2]);
    if (!hz_ua_hints_eq(&a, &b) || !hz_ua_hints_eq(&b, &a))
        abort();
    hz_ua_classify_hints(chrome, sizeof chrome - 1, &a, &u);
    check_major(u.browser_major);
    check_major(u.os_major);
    if ((u.browser == HZ_UA_OTHER && u.browser_major[0] != '\0') ||
        (u.os == HZ_OS_OTHER && u.os_major[0] != '\0'))
        abort();
    hz_ua_major_cut(s, size, cut);
    check_major(cut);
    return 0;
}
