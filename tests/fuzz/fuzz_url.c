/* SPDX-License-Identifier: MIT */
/*
 * fuzz_url.c - libFuzzer target for collector/url.h. The input is scrubbed
 * as a URL, as a path, and used as a referrer; each result is checked for
 * the properties url.h promises, and the run aborts if one fails:
 * - a path starts with '/', has no '?', '#', empty segment or trailing
 *   slash, is clean UTF-8 within HZ_PAGE_MAX-1 bytes, and scrubs to itself;
 * - a host is non-empty lowercase [a-z0-9.-_] or a bracketed IPv6 literal,
 *   and empty for an app's URL (any other scheme: the site is the beacon's);
 * - query values and the source are clean UTF-8 within HZ_VALUE_MAX-1;
 * - an error leaves the output untouched and gives a one-line reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/url.h"
#include "common/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok)
{
    if (!ok)
        abort();
}

static void
check_reason(const struct hz_err *e)
{
    check(e->msg[0] != '\0');
    for (const char *p = e->msg; *p; p++)
        check(*p >= 0x20 && *p < 0x7f);
}

static void
check_path(const char *p)
{
    char again[HZ_PAGE_MAX];
    size_t n = strnlen(p, HZ_PAGE_MAX);

    check(n >= 1 && n <= HZ_PAGE_MAX - 1);
    check(p[0] == '/');
    check(strchr(p, '?') == NULL && strchr(p, '#') == NULL);
    check(strstr(p, "//") == NULL);
    check(n == 1 || p[n - 1] != '/');
    check(hz_text_valid(p, n));
    check(hz_url_scrub_path(p, n, again, NULL) == 0);
    check(strcmp(again, p) == 0);
}

static void
check_value(const char *v, size_t cap)
{
    size_t n = strnlen(v, cap);

    check(n < cap);
    check(hz_text_valid(v, n));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct hz_url u, pat;
    struct hz_err e;
    char path[HZ_PAGE_MAX], ppat[HZ_PAGE_MAX], src[HZ_VALUE_MAX];
    int rc;

    memset(&u, 0xa5, sizeof(u));
    memset(&pat, 0xa5, sizeof(pat));
    memset(&e, 0, sizeof(e));
    rc = hz_url_scrub(s, size, &u, &e);
    if (rc == 0) {
        size_t hn = strnlen(u.host, HZ_HOST_MAX);
        /* An app's URL ("app://localhost/x") names no host: by design. */
        check(u.app ? hn == 0 : hn > 0 && hn < HZ_HOST_MAX);
        for (size_t i = 0; i < hn; i++) {
            char c = u.host[i];
            check((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  (c != '\0' && strchr(".-_[]:", c) != NULL));
        }
        check_path(u.path);
        check_value(u.utm_source, HZ_VALUE_MAX);
        check_value(u.utm_medium, HZ_VALUE_MAX);
        check_value(u.utm_campaign, HZ_VALUE_MAX);
        check_value(u.utm_content, HZ_VALUE_MAX);
        check_value(u.utm_term, HZ_VALUE_MAX);
        check_value(u.ref, HZ_VALUE_MAX);
    } else {
        check(rc == HZ_EINVAL || rc == HZ_ETOOBIG);
        check(memcmp(&u, &pat, sizeof(u)) == 0);
        check_reason(&e);
    }

    memset(path, 0x5a, sizeof(path));
    memset(ppat, 0x5a, sizeof(ppat));
    memset(&e, 0, sizeof(e));
    rc = hz_url_scrub_path(s, size, path, &e);
    if (rc == 0) {
        check_path(path);
    } else {
        check(rc == HZ_EINVAL || rc == HZ_ETOOBIG);
        check(memcmp(path, ppat, sizeof(path)) == 0);
        check_reason(&e);
    }

    /* The input as a referrer, with and without a page. */
    hz_url_source(NULL, s, size, "example.com", src);
    check_value(src, HZ_VALUE_MAX);
    if (hz_url_scrub("https://example.com/?ref=x", 26, &u, NULL) == 0) {
        u.ref[0] = '\0';
        hz_url_source(&u, s, size, NULL, src);
        check_value(src, HZ_VALUE_MAX);
    }
    return 0;
}
