/* SPDX-License-Identifier: MIT */
/*
 * url_test.c - the URL scrubber (collector/url.h), table-driven: schemes,
 * hosts, ports and userinfo, percent-decoding and its canonical form,
 * invalid text, dot segments and slashes, every placeholder rule with the
 * look-alikes that must stay, the query allow-list, the length caps, and
 * referrer -> source. Every accepted case is also checked for the output
 * properties (leading '/', no '?' '#', clean UTF-8, within the cap,
 * idempotent), and every rejected case for the error contract (output
 * untouched, a one-line reason that does not echo the input).
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "collector/url.h"
#include "common/str.h"

/* Rejected inputs carry this marker; no reason may repeat it. */
#define SECRET "SECRET"

/* The properties every scrubbed path has. */
static void
assert_path_props(const char *path)
{
    char again[HZ_PAGE_MAX];
    struct hz_err e = {0, ""};
    size_t n = strlen(path);

    cr_assert(n >= 1 && n <= HZ_PAGE_MAX - 1, "length %zu", n);
    cr_assert_eq(path[0], '/', "no leading slash: %s", path);
    cr_assert_null(strchr(path, '?'), "'?' in %s", path);
    cr_assert_null(strchr(path, '#'), "'#' in %s", path);
    cr_assert(hz_text_valid(path, n), "not clean UTF-8: %s", path);
    cr_assert(n == 1 || path[n - 1] != '/', "trailing slash: %s", path);
    cr_assert_null(strstr(path, "//"), "empty segment: %s", path);
    cr_assert_eq(hz_url_scrub_path(path, n, again, &e), 0, "rescrub failed: %s", e.msg);
    cr_assert_str_eq(again, path, "not idempotent");
}

static void
assert_reason(const struct hz_err *e)
{
    cr_assert_gt(strlen(e->msg), 0, "no reason");
    for (const char *p = e->msg; *p; p++)
        cr_assert(*p >= 0x20 && *p < 0x7f, "reason has byte 0x%02x", (unsigned char)*p);
    cr_assert_null(strstr(e->msg, SECRET), "reason echoes the input: %s", e->msg);
}

/* ------------------------------------------------------------ scrub table */

struct scrub_case {
    char in[160];
    int rc;
    char host[48];
    char path[96];
};

/* clang-format off */
static struct scrub_case scrub_cases[] = {
    /* schemes */
    { "http://example.com/", 0, "example.com", "/" },
    { "https://example.com", 0, "example.com", "/" },
    { "HTTPS://Example.COM/Path", 0, "example.com", "/Path" },
    { "HtTp://example.com/a", 0, "example.com", "/a" },
    { "javascript:alert('SECRET')", HZ_EINVAL, "", "" },
    { "data:text/html,SECRET", HZ_EINVAL, "", "" },
    { "ftp://example.com/SECRET", HZ_EINVAL, "", "" },
    { "/relative/SECRET", HZ_EINVAL, "", "" },
    { "//example.com/SECRET", HZ_EINVAL, "", "" },
    { "http:/example.com/SECRET", HZ_EINVAL, "", "" },
    { "httpx://example.com/", HZ_EINVAL, "", "" },
    { " http://example.com/", HZ_EINVAL, "", "" },
    { "", HZ_EINVAL, "", "" },
    /* app SDKs (Plausible's Events API): the host names nothing, "" */
    { "app://localhost/login", 0, "", "/login" },
    { "android-app://com.example.shop/cart/123456?utm_source=x", 0, "", "/cart/:id" },
    { "App+1.x://anything-at-all", 0, "", "/" },
    { "file:///etc/SECRET", HZ_EINVAL, "", "" },
    { "blob://x/SECRET", HZ_EINVAL, "", "" },
    { "javascript://x/SECRET", HZ_EINVAL, "", "" },
    { "1app://x/SECRET", HZ_EINVAL, "", "" },
    { "app:/x/SECRET", HZ_EINVAL, "", "" },
    /* hosts, ports, userinfo */
    { "http://example.com:8080/a", 0, "example.com", "/a" },
    { "http://example.com:/a", 0, "example.com", "/a" },
    { "http://user:pw@example.com/a", 0, "example.com", "/a" },
    { "http://user@evil.com@example.com/", 0, "example.com", "/" },
    { "http://[2001:DB8::1]:8443/x", 0, "[2001:db8::1]", "/x" },
    { "http://[::1]", 0, "[::1]", "/" },
    { "http://example.com./a", 0, "example.com", "/a" },
    { "http://xn--caf-dma.example/", 0, "xn--caf-dma.example", "/" },
    { "http://127.0.0.1:80/", 0, "127.0.0.1", "/" },
    { "http://my_shop.example.com/", 0, "my_shop.example.com", "/" },
    { "http://", HZ_EINVAL, "", "" },
    { "http:///SECRET", HZ_EINVAL, "", "" },
    { "http://SECRET@/", HZ_EINVAL, "", "" },
    { "http://:80/", HZ_EINVAL, "", "" },
    { "http://exa mple.com/", HZ_EINVAL, "", "" },
    { "http://exa%6Dple.com/", HZ_EINVAL, "", "" },
    { "http://caf\xc3\xa9.example/", HZ_EINVAL, "", "" },
    { "http://example.com:99999/", HZ_EINVAL, "", "" },
    { "http://example.com:80a/", HZ_EINVAL, "", "" },
    { "http://example.com:80:80/", HZ_EINVAL, "", "" },
    { "http://[2001:db8::zz]/", HZ_EINVAL, "", "" },
    { "http://[2001:db8::1/", HZ_EINVAL, "", "" },
    { "http://[1.2.3.4]/", HZ_EINVAL, "", "" },
    { "http://[::1]x/", HZ_EINVAL, "", "" },
    { "http://a..b/", HZ_EINVAL, "", "" },
    { "http://./", HZ_EINVAL, "", "" },
    { "http://.example.com/", HZ_EINVAL, "", "" },
    /* fragment and query leave the path */
    { "http://example.com/p#frag", 0, "example.com", "/p" },
    { "http://example.com/p#frag?utm_source=x", 0, "example.com", "/p" },
    { "http://example.com?x=1", 0, "example.com", "/" },
    { "http://example.com#top", 0, "example.com", "/" },
    { "http://example.com/a?b=/c/d#/e", 0, "example.com", "/a" },
    /* raw text */
    { "http://exam\x01ple.com/", HZ_EINVAL, "", "" },
    { "http://example.com/a\x7f", HZ_EINVAL, "", "" },
    { "http://example.com/\tSECRET", HZ_EINVAL, "", "" },
    { "http://example.com/p#\x1b", HZ_EINVAL, "", "" },
    { "http://example.com/\xc3\x28", HZ_EINVAL, "", "" },
    { "http://example.com/\xc2\x85", HZ_EINVAL, "", "" },
    { "http://example.com/caf\xc3\xa9", 0, "example.com", "/caf\xc3\xa9" },
    /* percent-decoding */
    { "http://example.com/caf%C3%A9", 0, "example.com", "/caf\xc3\xa9" },
    { "http://example.com/caf%c3%a9/m%C3%BCnchen", 0, "example.com",
      "/caf\xc3\xa9/m\xc3\xbcnchen" },
    { "http://example.com/%E2%82%AC", 0, "example.com", "/\xe2\x82\xac" },
    { "http://example.com/a%2Db", 0, "example.com", "/a-b" },
    { "http://example.com/%41%42c", 0, "example.com", "/ABc" },
    { "http://example.com/a%2fb", 0, "example.com", "/a%2Fb" },
    { "http://example.com/a%2F..%2Fb", 0, "example.com", "/a%2F..%2Fb" },
    { "http://example.com/a%252Fb", 0, "example.com", "/a%252Fb" },
    { "http://example.com/100%25", 0, "example.com", "/100%25" },
    { "http://example.com/a%3Fb%23c", 0, "example.com", "/a%3Fb%23c" },
    { "http://example.com/a%20b", 0, "example.com", "/a b" },
    { "http://example.com/a+b", 0, "example.com", "/a+b" },
    { "http://example.com/%00SECRET", HZ_EINVAL, "", "" },
    { "http://example.com/%0A", HZ_EINVAL, "", "" },
    { "http://example.com/%7F", HZ_EINVAL, "", "" },
    { "http://example.com/%C3%28", HZ_EINVAL, "", "" },
    { "http://example.com/%C0%AF", HZ_EINVAL, "", "" },
    { "http://example.com/%E0%80%AF", HZ_EINVAL, "", "" },
    { "http://example.com/%ED%A0%80", HZ_EINVAL, "", "" },
    { "http://example.com/%F4%90%80%80", HZ_EINVAL, "", "" },
    { "http://example.com/%C3", HZ_EINVAL, "", "" },
    { "http://example.com/%zzSECRET", HZ_EINVAL, "", "" },
    { "http://example.com/%4", HZ_EINVAL, "", "" },
    { "http://example.com/%", HZ_EINVAL, "", "" },
    /* dot segments and slashes */
    { "http://example.com/a//b/../c", 0, "example.com", "/a/c" },
    { "http://example.com/..", 0, "example.com", "/" },
    { "http://example.com/../../x", 0, "example.com", "/x" },
    { "http://example.com/a/./b/.", 0, "example.com", "/a/b" },
    { "http://example.com/a/%2E%2E/b", 0, "example.com", "/b" },
    { "http://example.com/a/%2e/b", 0, "example.com", "/a/b" },
    { "http://example.com/a/.../b", 0, "example.com", "/a/.../b" },
    { "http://example.com/cart/", 0, "example.com", "/cart" },
    { "http://example.com///", 0, "example.com", "/" },
    { "http://example.com//a///b//", 0, "example.com", "/a/b" },
    /* placeholders */
    { "http://example.com/user/john@example.com", 0, "example.com", "/user/:email" },
    { "http://example.com/u/john%40example.com/x", 0, "example.com", "/u/:email/x" },
    { "http://example.com/unsubscribe-jane.doe+news@mail.co.uk", 0, "example.com",
      "/:email" },
    { "http://example.com/@handle", 0, "example.com", "/@handle" },
    { "http://example.com/a@b", 0, "example.com", "/a@b" },
    { "http://example.com/a@b.c", 0, "example.com", "/a@b.c" },
    { "http://example.com/o/550e8400-e29b-41d4-a716-446655440000", 0, "example.com",
      "/o/:uuid" },
    { "http://example.com/f/550E8400-E29B-41D4-A716-446655440000.pdf", 0, "example.com",
      "/f/:uuid" },
    { "http://example.com/order/123456", 0, "example.com", "/order/:id" },
    { "http://example.com/order/123456/items", 0, "example.com", "/order/:id/items" },
    { "http://example.com/product/42", 0, "example.com", "/product/42" },
    { "http://example.com/2024/05/31/post", 0, "example.com", "/2024/05/31/post" },
    { "http://example.com/item-1234567-blue", 0, "example.com", "/:id" },
    { "http://example.com/call/+49%20170%201234567", 0, "example.com", "/call/:id" },
    { "http://example.com/reset/5d41402abc4b2a76b9719d911017c592", 0, "example.com",
      "/reset/:token" },
    { "http://example.com/t/deadbeefcafe1234", 0, "example.com", "/t/:token" },
    { "http://example.com/t/deadbeefcafe123", 0, "example.com", "/t/deadbeefcafe123" },
    { "http://example.com/t/deadbeefcafebabe", 0, "example.com", "/t/deadbeefcafebabe" },
    { "http://example.com/t/aaaaaaaaaaaaaaaaaaaaaaaaa", 0, "example.com",
      "/t/aaaaaaaaaaaaaaaaaaaaaaaaa" },
    { "http://example.com/s/aB3dE5fG7hJ9kL1mN3pQ", 0, "example.com", "/s/:token" },
    { "http://example.com/jwt/eyJhbGciOiJIUzI1NiJ9", 0, "example.com", "/jwt/:token" },
    { "http://example.com/page;jsessionid=A1B2C3D4E5F6A7B8C9D0", 0, "example.com",
      "/:token" },
    { "http://example.com/blog/how-to-bake-bread-in-2024", 0, "example.com",
      "/blog/how-to-bake-bread-in-2024" },
    { "http://example.com/p/iphone-15-pro-max-256gb-blue", 0, "example.com",
      "/p/iphone-15-pro-max-256gb-blue" },
    { "http://example.com/wiki/Albert_Einstein", 0, "example.com", "/wiki/Albert_Einstein" },
    { "http://example.com/Donaudampfschifffahrtsgesellschaft", 0, "example.com",
      "/Donaudampfschifffahrtsgesellschaft" },
    { "http://example.com/products/:id", 0, "example.com", "/products/:id" },
};
/* clang-format on */

ParameterizedTestParameters(url_scrub, table)
{
    return cr_make_param_array(struct scrub_case, scrub_cases,
                               sizeof(scrub_cases) / sizeof(scrub_cases[0]));
}

ParameterizedTest(struct scrub_case *c, url_scrub, table)
{
    struct hz_url u, pat;
    struct hz_err e = {0, ""};
    int rc;

    memset(&u, 0xa5, sizeof(u));
    memset(&pat, 0xa5, sizeof(pat));
    rc = hz_url_scrub(c->in, strlen(c->in), &u, &e);
    cr_assert_eq(rc, c->rc, "%s: rc %d want %d (%s)", c->in, rc, c->rc, e.msg);
    if (rc != 0) {
        cr_assert(memcmp(&u, &pat, sizeof(u)) == 0, "%s: output written on error", c->in);
        assert_reason(&e);
        return;
    }
    cr_assert_str_eq(u.host, c->host, "%s", c->in);
    cr_assert_str_eq(u.path, c->path, "%s", c->in);
    assert_path_props(u.path);
}

ParameterizedTestParameters(url_scrub_path, same_as_url)
{
    return cr_make_param_array(struct scrub_case, scrub_cases,
                               sizeof(scrub_cases) / sizeof(scrub_cases[0]));
}

/* The path rules alone: hz_url_scrub_path gives the same path as the URL. */
ParameterizedTest(struct scrub_case *c, url_scrub_path, same_as_url)
{
    char path[HZ_PAGE_MAX];
    struct hz_err e = {0, ""};
    const char *p = c->in;
    int rc;

    if (c->rc != 0 || strncmp(c->path, "/", 1) != 0)
        return;
    p = strstr(p, "://") + 3;
    p += strcspn(p, "/?#");
    rc = hz_url_scrub_path(p, strlen(p), path, &e);
    cr_assert_eq(rc, 0, "%s: %s", p, e.msg);
    cr_assert_str_eq(path, c->path);
}

/* ------------------------------------------------------------- path table */

struct path_case {
    char in[96];
    int rc;
    char out[96];
};

/* clang-format off */
static struct path_case path_cases[] = {
    { "", 0, "/" },
    { "/", 0, "/" },
    { "products/1", 0, "/products/1" },
    { "/a?utm_source=x#y", 0, "/a" },
    { "/a#/b?c", 0, "/a" },
    { "?only=query", 0, "/" },
    { "/%C3%A9t%C3%A9/", 0, "/\xc3\xa9t\xc3\xa9" },
    { "/x/%2e%2E/%2E/y", 0, "/y" },
    { "/a%00", HZ_EINVAL, "" },
    { "/a%G0", HZ_EINVAL, "" },
    { "/a\x0d", HZ_EINVAL, "" },
    { "/:email/:uuid/:token/:id", 0, "/:email/:uuid/:token/:id" },
    { "/u/x@y.zz/../ok", 0, "/u/ok" },
};
/* clang-format on */

ParameterizedTestParameters(url_scrub_path, table)
{
    return cr_make_param_array(struct path_case, path_cases,
                               sizeof(path_cases) / sizeof(path_cases[0]));
}

ParameterizedTest(struct path_case *c, url_scrub_path, table)
{
    char out[HZ_PAGE_MAX], pat[HZ_PAGE_MAX];
    struct hz_err e = {0, ""};
    int rc;

    memset(out, 0x5a, sizeof(out));
    memset(pat, 0x5a, sizeof(pat));
    rc = hz_url_scrub_path(c->in, strlen(c->in), out, &e);
    cr_assert_eq(rc, c->rc, "%s: rc %d (%s)", c->in, rc, e.msg);
    if (rc != 0) {
        cr_assert(memcmp(out, pat, sizeof(out)) == 0, "output written on error");
        assert_reason(&e);
        return;
    }
    cr_assert_str_eq(out, c->out);
    assert_path_props(out);
}

/* ------------------------------------------------------------ query table */

struct query_case {
    char in[160];
    char source[40];
    char medium[24];
    char campaign[24];
    char content[24];
    char term[24];
    char ref[24];
};

/* clang-format off */
static struct query_case query_cases[] = {
    { "?utm_source=Google&utm_medium=cpc&utm_campaign=Spring+Sale",
      "Google", "cpc", "Spring Sale", "", "", "" },
    { "?utm_content=a%20b&utm_term=red%2Bshoes", "", "", "", "a b", "red+shoes", "" },
    { "?ref=producthunt", "", "", "", "", "", "producthunt" },
    { "?source=newsletter", "", "", "", "", "", "newsletter" },
    { "?ref=a&source=b", "", "", "", "", "", "a" },
    { "?source=b&ref=a", "", "", "", "", "", "b" },
    { "?utm_source=a&utm_source=b", "a", "", "", "", "", "" },
    { "?utm_source=&utm_source=b", "", "", "", "", "", "" },
    { "?utm_source&utm_medium=m", "", "m", "", "", "", "" },
    { "?&&utm_source=x&&=&", "x", "", "", "", "", "" },
    { "?UTM_SOURCE=x&Ref=y", "", "", "", "", "", "" },
    { "?utm%5Fsource=x", "x", "", "", "", "", "" },
    { "?utm_source=%20%20spaced+out%20", "spaced out", "", "", "", "", "" },
    { "?utm_source=john%40example.com&ref=x@y.de", ":email", "", "", "", "", ":email" },
    { "?utm_source=%ZZ&utm_medium=ok", "", "ok", "", "", "", "" },
    { "?utm_source=%C3%28", "", "", "", "", "", "" },
    { "?utm_source=a%00b", "", "", "", "", "", "" },
    { "?utm_source=a%0Ab", "", "", "", "", "", "" },
    { "?utm_source=Caf%C3%A9", "Caf\xc3\xa9", "", "", "", "", "" },
    { "?gclid=abc&fbclid=x&email=a@b.com&utm_medium=m", "", "m", "", "", "", "" },
    { "?q=100%&utm_source=x", "x", "", "", "", "", "" },
    { "?utm_source=a=b", "a=b", "", "", "", "", "" },
    { "?utm_source=a#utm_medium=b", "a", "", "", "", "", "" },
    { "#x?utm_source=y", "", "", "", "", "", "" },
    { "?utm_term=%2Fpath%3Fq%23f", "", "", "", "", "/path?q#f", "" },
};
/* clang-format on */

ParameterizedTestParameters(url_query, table)
{
    return cr_make_param_array(struct query_case, query_cases,
                               sizeof(query_cases) / sizeof(query_cases[0]));
}

ParameterizedTest(struct query_case *c, url_query, table)
{
    char url[256];
    struct hz_url u;
    struct hz_err e = {0, ""};

    (void)snprintf(url, sizeof(url), "https://example.com/p%s", c->in);
    cr_assert_eq(hz_url_scrub(url, strlen(url), &u, &e), 0, "%s: %s", url, e.msg);
    cr_assert_str_eq(u.path, "/p");
    cr_assert_str_eq(u.utm_source, c->source, "%s", c->in);
    cr_assert_str_eq(u.utm_medium, c->medium, "%s", c->in);
    cr_assert_str_eq(u.utm_campaign, c->campaign, "%s", c->in);
    cr_assert_str_eq(u.utm_content, c->content, "%s", c->in);
    cr_assert_str_eq(u.utm_term, c->term, "%s", c->in);
    cr_assert_str_eq(u.ref, c->ref, "%s", c->in);
}

/* ------------------------------------------------------------ limits */

Test(url_scrub, limit_4096_bytes)
{
    static char url[HZ_URL_MAX + 2];
    struct hz_url u;
    struct hz_err e = {0, ""};
    size_t pre = strlen("http://example.com/");

    memcpy(url, "http://example.com/", pre);
    for (size_t i = pre; i < HZ_URL_MAX; i++)
        url[i] = (i % 10 == 0) ? '/' : 'a';
    cr_assert_eq(hz_url_scrub(url, HZ_URL_MAX, &u, &e), 0, "%s", e.msg);
    assert_path_props(u.path);
    url[HZ_URL_MAX] = 'a';
    cr_assert_eq(hz_url_scrub(url, HZ_URL_MAX + 1, &u, &e), HZ_ETOOBIG);
    cr_assert_eq(hz_url_scrub_path(url, HZ_URL_MAX + 1, u.path, &e), HZ_ETOOBIG);
}

Test(url_scrub_path, long_path_cut)
{
    char in[1024] = "", out[HZ_PAGE_MAX], want[HZ_PAGE_MAX] = "";

    /* 40 segments of "/seg-NN-abc" (11 bytes): 23 fit in 255 bytes, and
     * one more byte of the 24th. */
    for (int i = 0; i < 40; i++) {
        char s[32];
        (void)snprintf(s, sizeof(s), "/seg-%02d-abc", i);
        strcat(in, s);
        if (i < 23)
            strcat(want, s);
    }
    strcat(want, "/s");
    cr_assert_eq(hz_url_scrub_path(in, strlen(in), out, NULL), 0);
    cr_assert_str_eq(out, want);
    assert_path_props(out);

    /* The segment across the limit is classified again after the cut: 20
     * random characters then 50 'x' are not a token (20 class changes in
     * 70), but the 33 bytes that fit are. */
    memset(in, 0, sizeof(in));
    in[0] = '/';
    memset(in + 1, 'p', 220);
    strcat(in, "/aB3dE5fG7hJ9kL1mN3pQ");
    memset(in + strlen(in), 'x', 50);
    cr_assert_eq(hz_url_scrub_path(in + 221, strlen(in + 221), out, NULL), 0);
    cr_assert_eq(strlen(out), 71, "the whole segment is no token: %s", out);
    cr_assert_eq(hz_url_scrub_path(in, strlen(in), out, NULL), 0);
    cr_assert_eq(strlen(out), 221 + 7);
    cr_assert_str_eq(out + 221, "/:token");
    assert_path_props(out);

    /* A cut that would leave ".." drops the segment instead. */
    memset(in, 0, sizeof(in));
    in[0] = '/';
    memset(in + 1, 'p', 252);
    strcat(in, "/..x");
    cr_assert_eq(hz_url_scrub_path(in, strlen(in), out, NULL), 0);
    cr_assert_eq(strlen(out), 253);
    assert_path_props(out);
}

Test(url_scrub_path, long_segment_cut)
{
    char in[700], out[HZ_PAGE_MAX];

    /* One segment of 300 'a', then more: the segment is cut to 254 bytes. */
    in[0] = '/';
    memset(in + 1, 'a', 300);
    strcpy(in + 301, "/next");
    cr_assert_eq(hz_url_scrub_path(in, strlen(in), out, NULL), 0);
    cr_assert_eq(strlen(out), HZ_PAGE_MAX - 1);
    cr_assert_eq(strspn(out + 1, "a"), HZ_PAGE_MAX - 2);
    assert_path_props(out);
}

Test(url_scrub_path, cut_on_utf8_boundary)
{
    char in[700], out[HZ_PAGE_MAX];
    size_t n = 1;

    /* 253 ASCII then 'é': 255 bytes do not fit a 254-byte segment. */
    in[0] = '/';
    memset(in + n, 'b', 253);
    n += 253;
    memcpy(in + n, "\xc3\xa9\xc3\xa9", 4);
    n += 4;
    cr_assert_eq(hz_url_scrub_path(in, n, out, NULL), 0);
    cr_assert_eq(strlen(out), 254);
    assert_path_props(out);

    /* 200 'é' (400 bytes): 127 fit. */
    n = 1;
    for (int i = 0; i < 200; i++, n += 2)
        memcpy(in + n, "\xc3\xa9", 2);
    cr_assert_eq(hz_url_scrub_path(in, n, out, NULL), 0);
    cr_assert_eq(strlen(out), 1 + 254);
    assert_path_props(out);
}

Test(url_scrub_path, cut_never_splits_an_escape)
{
    char in[400] = "/", out[HZ_PAGE_MAX];

    /* 100 encoded slashes: 84 escapes (252 bytes) fit, never a partial one. */
    for (int i = 0; i < 100; i++)
        strcat(in, "%2f");
    cr_assert_eq(hz_url_scrub_path(in, strlen(in), out, NULL), 0);
    cr_assert_eq(strlen(out), 1 + 84 * 3);
    cr_assert_eq(out[strlen(out) - 3], '%');
    assert_path_props(out);
}

Test(url_scrub_path, long_token_after_cut_is_classified)
{
    char in[700] = "/x/", out[HZ_PAGE_MAX];

    /* 300 'a' then a hex id: the cut drops the hex, so the segment stays. */
    memset(in + 3, 'a', 300);
    strcpy(in + 303, "5d41402abc4b2a76b9719d911017c592");
    cr_assert_eq(hz_url_scrub_path(in, strlen(in), out, NULL), 0);
    cr_assert_eq(strlen(out), 2 + 1 + 252);
    assert_path_props(out);
    /* A hex id at the start is kept by the cut and replaced. */
    strcpy(in, "/x/5d41402abc4b2a76b9719d911017c592");
    memset(in + strlen(in), 'a', 300);
    in[35 + 300] = '\0';
    cr_assert_eq(hz_url_scrub_path(in, strlen(in), out, NULL), 0);
    cr_assert_str_eq(out, "/x/:token");
}

Test(url_query, value_capped_on_utf8_boundary)
{
    char url[1024] = "http://example.com/?utm_campaign=";
    struct hz_url u;

    /* 126 'c', then 'é' (2 bytes) would end at 128: cut to 126. */
    memset(url + strlen(url), 'c', 126);
    strcat(url, "%C3%A9tail&utm_source=s");
    cr_assert_eq(hz_url_scrub(url, strlen(url), &u, NULL), 0);
    cr_assert_eq(strlen(u.utm_campaign), 126);
    cr_assert_str_eq(u.utm_source, "s");

    strcpy(url, "http://example.com/?ref=");
    memset(url + strlen(url), 'r', 300);
    url[24 + 300] = '\0';
    cr_assert_eq(hz_url_scrub(url, strlen(url), &u, NULL), 0);
    cr_assert_eq(strlen(u.ref), HZ_VALUE_MAX - 1);
}

Test(url_scrub, nul_inside_length_is_rejected)
{
    static const char url[] = "http://example.com/a\0b";
    struct hz_url u;

    cr_assert_eq(hz_url_scrub(url, sizeof(url) - 1, &u, NULL), HZ_EINVAL);
    cr_assert_eq(hz_url_scrub("http://ex\0ample.com/", 20, &u, NULL), HZ_EINVAL);
}

/* ------------------------------------------------------------ source */

struct source_case {
    char utm_source[24];
    char ref[24];
    char page_host[32];
    char referrer[96];
    char site[32];
    char want[48];
};

/* clang-format off */
static struct source_case source_cases[] = {
    { "google", "hn", "example.com", "https://bing.com/", "example.com", "google" },
    { "", "hn", "example.com", "https://bing.com/", "example.com", "hn" },
    { "", "", "example.com", "https://www.Google.com/search?q=x", "example.com", "google.com" },
    { "", "", "example.com", "https://news.ycombinator.com:443/item", "example.com",
      "news.ycombinator.com" },
    { "", "", "example.com", "https://user:pw@t.co/x", "example.com", "t.co" },
    { "", "", "example.com", "https://www.reddit.com", "example.com", "reddit.com" },
    { "", "", "example.com", "HTTP://DuckDuckGo.com./", "example.com", "duckduckgo.com" },
    { "", "", "example.com", "http://[2001:db8::1]:80/", "example.com", "[2001:db8::1]" },
    { "", "", "example.com", "", "example.com", "" },
    { "", "", "example.com", "android-app://com.google.android.gm/", "example.com", "" },
    { "", "", "example.com", "garbage", "example.com", "" },
    { "", "", "example.com", "https://bad host/", "example.com", "" },
    { "", "", "example.com", "https://a..b/", "example.com", "" },
    { "", "", "example.com", "https:///nohost", "example.com", "" },
    { "", "", "example.com", "https://example.com/page", "example.com", "" },
    { "", "", "example.com", "https://www.example.com/", "example.com", "" },
    { "", "", "example.com", "https://example.com/", "www.example.com", "" },
    { "", "", "example.com", "https://EXAMPLE.COM./", "Example.com", "" },
    { "", "", "shop.example.com", "https://shop.example.com/cart", "example.com", "" },
    { "", "", "example.com", "https://blog.example.com/", "example.com", "blog.example.com" },
    { "", "", "", "https://other.org/", "", "other.org" },
    { "", "", "example.com", "https://other.org/\x01\xff", "example.com", "other.org" },
};
/* clang-format on */

ParameterizedTestParameters(url_source, table)
{
    return cr_make_param_array(struct source_case, source_cases,
                               sizeof(source_cases) / sizeof(source_cases[0]));
}

ParameterizedTest(struct source_case *c, url_source, table)
{
    struct hz_url u;
    char out[HZ_VALUE_MAX];

    memset(&u, 0, sizeof(u));
    strcpy(u.utm_source, c->utm_source);
    strcpy(u.ref, c->ref);
    strcpy(u.host, c->page_host);
    memset(out, 'z', sizeof(out));
    hz_url_source(&u, c->referrer, strlen(c->referrer), c->site, out);
    cr_assert_str_eq(out, c->want, "referrer %s", c->referrer);
}

Test(url_source, null_arguments_never_fail)
{
    char out[HZ_VALUE_MAX];

    memset(out, 'z', sizeof(out));
    hz_url_source(NULL, NULL, 0, NULL, out);
    cr_assert_str_eq(out, "");
    hz_url_source(NULL, "https://www.x.org/", 18, NULL, out);
    cr_assert_str_eq(out, "x.org");
}

Test(url_source, long_referrer_host)
{
    char ref[400] = "https://";
    char out[HZ_VALUE_MAX];

    /* A host of 126 bytes is kept whole; one over HZ_HOST_MAX-1 gives "". */
    memset(ref + 8, 'h', 122);
    strcpy(ref + 130, ".org/");
    hz_url_source(NULL, ref, strlen(ref), "example.com", out);
    cr_assert_eq(strlen(out), 126);
    memset(ref + 8, 'h', 200);
    strcpy(ref + 208, ".org/");
    hz_url_source(NULL, ref, strlen(ref), "example.com", out);
    cr_assert_str_eq(out, "");
}

Test(url_scrub, end_to_end_with_source)
{
    static const char url[] =
        "HTTPS://user:pw@WWW.Example.com:443/shop//order/1234567/../cart/?utm_source=Newsletter"
        "&utm_medium=email&email=me@x.org&utm_campaign=spring%20sale#section";
    struct hz_url u;
    char src[HZ_VALUE_MAX];

    cr_assert_eq(hz_url_scrub(url, strlen(url), &u, NULL), 0);
    cr_assert_str_eq(u.host, "www.example.com");
    cr_assert_str_eq(u.path, "/shop/order/cart");
    cr_assert_str_eq(u.utm_source, "Newsletter");
    cr_assert_str_eq(u.utm_medium, "email");
    cr_assert_str_eq(u.utm_campaign, "spring sale");
    hz_url_source(&u, "https://mail.google.com/", 24, "example.com", src);
    cr_assert_str_eq(src, "Newsletter");
    u.utm_source[0] = '\0';
    hz_url_source(&u, "https://mail.google.com/", 24, "example.com", src);
    cr_assert_str_eq(src, "mail.google.com");
}

/* 1 if the bytes of (p, n) hold needle anywhere, NULs included. */
static int
holds(const void *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);

    for (size_t i = 0; i + k <= n; i++)
        if (memcmp((const char *)p + i, needle, k) == 0)
            return 1;
    return 0;
}

/* The URL of the integration test for privacy rule 6, checked here too. */
Test(url_scrub, privacy_rule_6_example)
{
    static const char url[] =
        "https://example.com/account/jane.doe@example.org/orders/12345678/"
        "f47ac10b-58cc-4372-a567-0e02b2c3d479?token=s3cr3t&utm_campaign=spring#pw";
    struct hz_url u;

    cr_assert_eq(hz_url_scrub(url, strlen(url), &u, NULL), 0);
    cr_assert_str_eq(u.path, "/account/:email/orders/:id/:uuid");
    cr_assert_str_eq(u.utm_campaign, "spring");
    cr_assert(!holds(&u, sizeof(u), "s3cr3t"), "the token survived");
    cr_assert(!holds(&u, sizeof(u), "jane"), "the address survived");
}

Test(url_source, nul_in_ipv6_referrer_is_no_source)
{
    static const char ref[] = "http://[::1\0evil]/";
    char out[HZ_VALUE_MAX];

    hz_url_source(NULL, ref, sizeof(ref) - 1, "example.com", out);
    cr_assert_str_eq(out, "");
}

/* Issue 14: a percent-escaped bidi control in the path is refused. */
Test(url_scrub, bidi_control_in_path_is_refused)
{
    struct hz_url u;
    struct hz_err e = {0};
    const char *url = "https://a.example/files/%E2%80%AEgnp.exe";

    cr_assert_neq(hz_url_scrub(url, strlen(url), &u, &e), 0);
    cr_assert(strstr(e.msg, "bidirectional") != NULL, "%s", e.msg);
    url = "https://a.example/files/%E2%81%A6x";
    cr_assert_neq(hz_url_scrub(url, strlen(url), &u, &e), 0);
    url = "https://a.example/files/%E2%80%A9x"; /* U+2029: not a bidi control */
    cr_assert_eq(hz_url_scrub(url, strlen(url), &u, &e), 0, "%s", e.msg);
}

/* Custom prop values (issue 13): one segment's rules, the value kept whole. */
Test(url_value, scrubbed_like_a_segment)
{
    static const char *const cases[][2] = {
        {"Pro", "Pro"},
        {"jane.doe@example.org", ":email"},
        {"order 12345678", ":id"},
        {"f47ac10b-58cc-4372-a567-0e02b2c3d479", ":uuid"},
        {"a/b?c#d%e", "a/b?c#d%e"},
        {"caf\xc3\xa9", "caf\xc3\xa9"},
        {"how-to-bake-bread-in-2024", "how-to-bake-bread-in-2024"},
    };
    char out[HZ_VALUE_MAX];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(hz_url_scrub_value(cases[i][0], strlen(cases[i][0]), out), 0, "%s",
                     cases[i][0]);
        cr_assert_str_eq(out, cases[i][1]);
    }
    cr_assert_eq(hz_url_scrub_value("", 0, out), HZ_EINVAL);
    cr_assert_eq(hz_url_scrub_value("..", 2, out), HZ_EINVAL);
    cr_assert_eq(hz_url_scrub_value("a\x01", 2, out), HZ_EINVAL);
}
