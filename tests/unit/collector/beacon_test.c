/* SPDX-License-Identifier: MIT */
/*
 * beacon_test.c - the POST /api/event JSON parser and the /p.gif query
 * parser: real Plausible tracker payloads, every rejection with its exact
 * code and one-line reason, field caps at and just over the limit, and the
 * error contract (output and arena untouched, no crash when the arena is
 * full, reasons that never echo the client's bytes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "collector/beacon.h"
#include "common/str.h"

/* Every rejection body below hides this marker in the client's data; no
 * reason may repeat it. */
#define SECRET "SECRET"

struct ctx {
    char mem[16384];
    struct hz_arena a;
    struct hz_beacon b;
    struct hz_err e;
};

static void
ctx_init(struct ctx *c, size_t cap)
{
    cr_assert(cap <= sizeof(c->mem));
    hz_arena_init(&c->a, c->mem, cap);
    memset(&c->b, 0xa5, sizeof(c->b));
    memset(&c->e, 0, sizeof(c->e));
}

static int
json(struct ctx *c, const char *body)
{
    return hz_beacon_parse_json(body, strlen(body), &c->a, &c->b, &c->e);
}

static int
query(struct ctx *c, const char *q)
{
    return hz_beacon_parse_query(q, strlen(q), &c->a, &c->b, &c->e);
}

/* The error contract: *out still holds the 0xa5 pattern, nothing is left
 * in the arena, the reason is one printable line without client data. */
static void
assert_untouched(const struct ctx *c)
{
    const unsigned char *raw = (const unsigned char *)&c->b;

    for (size_t i = 0; i < sizeof(c->b); i++)
        cr_assert_eq(raw[i], 0xa5, "output byte %zu was written on error", i);
    cr_assert_eq(c->a.used, 0, "arena not rolled back: %zu bytes", c->a.used);
    cr_assert_gt(strlen(c->e.msg), 0);
    for (const char *p = c->e.msg; *p; p++)
        cr_assert(*p >= 0x20 && *p < 0x7f, "reason has byte 0x%02x", (unsigned char)*p);
    cr_assert_null(strstr(c->e.msg, SECRET), "reason echoes client data: %s", c->e.msg);
}

static void
assert_opt_str(const char *got, const char *want)
{
    if (want == NULL)
        cr_assert_null(got, "expected NULL, got \"%s\"", got);
    else {
        cr_assert_not_null(got, "expected \"%s\", got NULL", want);
        cr_assert_eq(strlen(got), strlen(want));
        cr_assert(memcmp(got, want, strlen(want) + 1) == 0, "got \"%s\" want \"%s\"", got, want);
    }
}

/* The whole output, field by field. */
static void
assert_beacon(const struct hz_beacon *b, const char *name, const char *url, const char *domain,
              const char *ref, int width, int has_e, uint64_t e, int hash)
{
    assert_opt_str(b->name, name);
    assert_opt_str(b->url, url);
    assert_opt_str(b->domain, domain);
    assert_opt_str(b->referrer, ref);
    cr_assert_eq(b->width, width);
    cr_assert_eq(b->has_engaged, has_e);
    cr_assert_eq(b->engaged_ms, e);
    cr_assert_eq(b->hash_mode, hash);
}

/* ================================================================ JSON: accepted */

/* Plausible's current script (tracker/src/track.js): n, v, u, d, r, and p
 * when props are given; JSON.stringify's key order. */
Test(beacon_json, plausible_pageview)
{
    struct ctx c;

    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, "{\"n\":\"pageview\",\"v\":22,\"u\":\"https://shop.example.com/"
                          "products/mug?utm_source=news\",\"d\":\"shop.example.com\","
                          "\"r\":\"https://www.google.com/\"}"),
                 0, "%s", c.e.msg);
    assert_beacon(&c.b, "pageview", "https://shop.example.com/products/mug?utm_source=news",
                  "shop.example.com", "https://www.google.com/", -1, 0, 0, 0);
}

/* The older script: w (innerWidth), r null, h:1 for the hash variant,
 * m (legacy meta, a JSON string) and $ (revenue): unknown keys ignored. */
Test(beacon_json, plausible_legacy_pageview_with_width_and_hash)
{
    struct ctx c;

    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, "{\"n\":\"pageview\",\"u\":\"https://example.com/#/pricing\","
                          "\"d\":\"example.com\",\"r\":null,\"w\":1440,\"h\":1,"
                          "\"m\":\"{\\\"plan\\\":\\\"pro\\\"}\","
                          "\"$\":{\"amount\":\"29.90\",\"currency\":\"EUR\"}}"),
                 0, "%s", c.e.msg);
    assert_beacon(&c.b, "pageview", "https://example.com/#/pricing", "example.com", NULL, 1440, 0,
                  0, 1);
}

/* tracker/src/engagement.js: n, sd, d, u, p, e, v (and h with hashes). */
Test(beacon_json, plausible_engagement)
{
    struct ctx c;

    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, "{\"n\":\"engagement\",\"sd\":73,\"d\":\"example.com\","
                          "\"u\":\"https://example.com/blog/post\",\"p\":{},\"e\":15342,"
                          "\"v\":22,\"h\":1}"),
                 0, "%s", c.e.msg);
    assert_beacon(&c.b, "engagement", "https://example.com/blog/post", "example.com", NULL, -1, 1,
                  15342, 1);
}

/* JSON.stringify(NaN) is null: a zero-height document sends "sd":null. */
Test(beacon_json, engagement_with_null_scroll_depth)
{
    struct ctx c;

    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, "{\"n\":\"engagement\",\"sd\":null,\"d\":\"example.com\","
                          "\"u\":\"https://example.com/\",\"e\":0}"),
                 0, "%s", c.e.msg);
    assert_beacon(&c.b, "engagement", "https://example.com/", "example.com", NULL, -1, 1, 0, 0);
}

/* A custom event with props (scalars kept for the collector's allow-list,
 * a nested value dropped), interactive:false, and a UTF-8 name. */
Test(beacon_json, custom_event_props_kept_nested_dropped)
{
    struct ctx c;

    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, "{\"n\":\"Signup \\u00e9t\\u00e9 \xe2\x9c\x93\",\"u\":\"https://"
                          "example.com/join\",\"d\":\"example.com\",\"r\":null,\"p\":{\"plan\":"
                          "\"pro\",\"nested\":{\"a\":[1,2,{\"b\":null}]},\"seats\":3,"
                          "\"trial\":true,\"gone\":null},\"i\":false}"),
                 0, "%s", c.e.msg);
    assert_beacon(&c.b, "Signup \xc3\xa9t\xc3\xa9 \xe2\x9c\x93", "https://example.com/join",
                  "example.com", NULL, -1, 0, 0, 0);
    cr_assert_eq(c.b.interactive, 0);
    cr_assert_eq(c.b.nprops, 3);
    cr_assert_str_eq(c.b.props[0].key, "plan");
    cr_assert_str_eq(c.b.props[0].value, "pro");
    cr_assert_str_eq(c.b.props[1].key, "seats");
    cr_assert_str_eq(c.b.props[1].value, "3");
    cr_assert_str_eq(c.b.props[2].value, "true");
}

/* Plausible's Events API docs: long field names, props as a JSON string,
 * an app's URL. */
Test(beacon_json, plausible_documented_long_names_and_string_props)
{
    struct ctx c;

    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, "{\"name\":\"Download\",\"url\":\"app://localhost/login\","
                          "\"domain\":\"example.com\",\"referrer\":\"https://news.example/\","
                          "\"props\":\"{\\\"method\\\":\\\"HTTP\\\",\\\"seats\\\":2}\","
                          "\"interactive\":false}"),
                 0, "%s", c.e.msg);
    assert_beacon(&c.b, "Download", "app://localhost/login", "example.com", "https://news.example/",
                  -1, 0, 0, 0);
    cr_assert_eq(c.b.interactive, 0);
    cr_assert_eq(c.b.nprops, 2);
    cr_assert_str_eq(c.b.props[0].key, "method");
    cr_assert_str_eq(c.b.props[0].value, "HTTP");
    cr_assert_str_eq(c.b.props[1].value, "2");
    /* Defaults: interactive, no scroll depth; sd over 100 is 100. */
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, "{\"n\":\"engagement\",\"u\":\"u\",\"d\":\"x\",\"e\":5,\"sd\":130}"), 0,
                 "%s", c.e.msg);
    cr_assert_eq(c.b.interactive, 1);
    cr_assert_eq(c.b.scroll_depth, 100);
    cr_assert_eq(c.b.nprops, 0);
}

/* Plausible's limits: 30 props; names up to 300 bytes, values up to 2000;
 * a long value is kept cut on a character boundary. */
Test(beacon_json, prop_limits)
{
    struct ctx c;
    char body[8192], val[2100];
    size_t n;

    memset(val, 0, sizeof(val));
    for (size_t i = 0; i + 2 <= 200; i += 2)
        memcpy(val + i, "\xc3\xa9", 2); /* 100 x U+00E9 */
    n = (size_t)snprintf(body, sizeof(body),
                         "{\"n\":\"x\",\"u\":\"u\",\"d\":\"x\",\"p\":{\"v\":\"%s\"}}", val);
    cr_assert_lt(n, sizeof(body));
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, body), 0, "%s", c.e.msg);
    cr_assert_eq(strlen(c.b.props[0].value), 126); /* 127 cut back to a boundary */
    memset(val, 'a', 2001);
    val[2001] = '\0';
    (void)snprintf(body, sizeof(body), "{\"n\":\"x\",\"u\":\"u\",\"d\":\"x\",\"p\":{\"v\":\"%s\"}}",
                   val);
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, body), HZ_ETOOBIG);
    cr_assert_str_eq(c.e.msg, "p: a prop value is over 2000 bytes");
    n = (size_t)snprintf(body, sizeof(body), "{\"n\":\"x\",\"u\":\"u\",\"d\":\"x\",\"p\":{");
    for (int i = 0; i < 31; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "%s\"k%d\":%d", i ? "," : "", i, i);
    (void)snprintf(body + n, sizeof(body) - n, "}}");
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, body), HZ_EINVAL);
    cr_assert_str_eq(c.e.msg, "p: more than 30 props");
}

/* haze.js's own payload shape (collector/assets/haze.js). */
Test(beacon_json, haze_js_payloads)
{
    struct ctx c;

    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, "{\"n\":\"pageview\",\"u\":\"http://localhost:8080/a\","
                          "\"d\":\"localhost\",\"r\":null,\"w\":390}"),
                 0, "%s", c.e.msg);
    assert_beacon(&c.b, "pageview", "http://localhost:8080/a", "localhost", NULL, 390, 0, 0, 0);
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, "{\"n\":\"engagement\",\"u\":\"http://localhost:8080/a\","
                          "\"d\":\"localhost\",\"r\":\"http://localhost:8080/\",\"w\":390,"
                          "\"e\":86400000}"),
                 0, "%s", c.e.msg);
    assert_beacon(&c.b, "engagement", "http://localhost:8080/a", "localhost",
                  "http://localhost:8080/", 390, 1, 86400000, 0);
}

/* d is "a.com,b.com" when one script reports to several sites: the first
 * entry wins, spaces around it trimmed. */
Test(beacon_json, domain_list_first_wins)
{
    struct ctx c;

    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, "{\"n\":\"pageview\",\"u\":\"https://b.org/\","
                          "\"d\":\"  a.com , b.org,c.net\"}"),
                 0, "%s", c.e.msg);
    assert_beacon(&c.b, "pageview", "https://b.org/", "a.com", NULL, -1, 0, 0, 0);
}

Test(beacon_json, empty_referrer_is_null_and_bounds_accepted)
{
    struct ctx c;

    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, " \t\r\n{\"e\":0,\"w\":100000,\"r\":\"\",\"d\":\"x\",\"u\":\"u\","
                          "\"n\":\"n\",\"h\":false} \n"),
                 0, "%s", c.e.msg);
    assert_beacon(&c.b, "n", "u", "x", NULL, 100000, 1, 0, 0);
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, "{\"n\":\"n\",\"u\":\"u\",\"d\":\"x\",\"w\":0,\"h\":true,"
                          "\"h2\":[],\"i\":true,\"p\":null,\"sd\":-1}"),
                 0, "%s", c.e.msg);
    assert_beacon(&c.b, "n", "u", "x", NULL, 0, 0, 0, 1);
}

/* Escapes decode to bytes; "\/" and a surrogate pair included. */
Test(beacon_json, escapes_decode)
{
    struct ctx c;

    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, "{\"n\":\"a\\\"b\\\\c\",\"u\":\"https:\\/\\/x.com\\/\\ud83d\\ude00\","
                          "\"d\":\"x.com\"}"),
                 0, "%s", c.e.msg);
    assert_beacon(&c.b, "a\"b\\c", "https://x.com/\xf0\x9f\x98\x80", "x.com", NULL, -1, 0, 0, 0);
}

/* A pageview whose p nests so that the body is depth levels deep (the
 * object itself is level 1); n holds brackets that must not count. */
static void
nested_body(char *buf, size_t sz, int depth)
{
    size_t n = (size_t)snprintf(buf, sz, "{\"n\":\"[[[[{{{{\",\"u\":\"u\",\"d\":\"d\",\"p\":");

    for (int i = 0; i < depth - 2; i++)
        n += (size_t)snprintf(buf + n, sz - n, "{\"k\":");
    n += (size_t)snprintf(buf + n, sz - n, "[]");
    for (int i = 0; i < depth - 2; i++)
        n += (size_t)snprintf(buf + n, sz - n, "}");
    n += (size_t)snprintf(buf + n, sz - n, "}");
    cr_assert_lt(n, sz);
}

Test(beacon_json, depth_limit_exact)
{
    struct ctx c;
    char body[512];

    nested_body(body, sizeof(body), HZ_BEACON_DEPTH_MAX);
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, body), 0, "%s", c.e.msg);
    assert_beacon(&c.b, "[[[[{{{{", "u", "d", NULL, -1, 0, 0, 0);

    nested_body(body, sizeof(body), HZ_BEACON_DEPTH_MAX + 1);
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, body), HZ_EINVAL);
    cr_assert_str_eq(c.e.msg, "body: nested deeper than 16");
    assert_untouched(&c);
}

/* ================================================================ JSON: rejected */

struct json_bad {
    char body[200];
    size_t len; /* 0: strlen(body) (for bodies holding a NUL byte) */
    int code;
    char reason[64];
};

#define PV_ "\"n\":\"pageview\",\"u\":\"https://a.com/" SECRET "\",\"d\":\"a.com\""

ParameterizedTestParameters(beacon_json, rejects)
{
    static struct json_bad cases[] = {
        /* malformed JSON */
        {"", 0, HZ_EINVAL, "body: empty"},
        {"{\"n\":\"pageview\",\"u\":\"" SECRET, 0, HZ_EINVAL, "body: truncated JSON"},
        {"{\"n\" \"" SECRET "\"}", 0, HZ_EINVAL, "body: malformed JSON (line 1, column 13)"},
        {"{" PV_ ",}", 0, HZ_EINVAL, "body: malformed JSON (line 1, column 56)"},
        {"{'n':'" SECRET "'}", 0, HZ_EINVAL, "body: malformed JSON (line 1, column 2)"},
        {"\"" SECRET "\"", 0, HZ_EINVAL, "body: malformed JSON (line 1, column 8)"},
        {"null", 0, HZ_EINVAL, "body: malformed JSON (line 1, column 4)"},
        {"{" PV_ "} " SECRET, 0, HZ_EINVAL, "body: data after the JSON value"},
        {"{" PV_ "}{" PV_ "}", 0, HZ_EINVAL, "body: data after the JSON value"},
        {"{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\"}\0 " SECRET, 33, HZ_EINVAL,
         "body: data after the JSON value"},
        {"{" PV_ ",\"w\":100000000000000000000}", 0, HZ_EINVAL, "body: number out of range"},
        /* top level must be an object */
        {"[{" PV_ "}]", 0, HZ_EINVAL, "body: not a JSON object"},
        /* duplicate keys, at the top and nested */
        {"{" PV_ ",\"n\":\"" SECRET "\"}", 0, HZ_EINVAL, "body: duplicate key"},
        {"{" PV_ ",\"p\":{\"a\":1,\"a\":2}}", 0, HZ_EINVAL, "body: duplicate key"},
        /* NUL, UTF-8, control characters */
        {"{\"n\":\"pageview\",\"u\":\"" SECRET "\\u0000\",\"d\":\"a.com\"}", 0, HZ_EINVAL,
         "body: NUL character in a string"},
        {"{" PV_ ",\"\\u0000" SECRET "\":1}", 0, HZ_EINVAL, "body: NUL character in a string"},
        {"{\"n\":\"pageview\",\"u\":\"" SECRET "\0\",\"d\":\"a.com\"}", 42, HZ_EINVAL,
         "body: malformed JSON (line 1, column 27)"},
        {"{\"n\":\"pageview\",\"u\":\"" SECRET "\xff\",\"d\":\"a.com\"}", 0, HZ_EINVAL,
         "body: invalid UTF-8"},
        {"{\"n\":\"pageview\",\"u\":\"" SECRET "\xc0\xaf\",\"d\":\"a.com\"}", 0, HZ_EINVAL,
         "body: invalid UTF-8"},
        {"{\"n\":\"pageview\",\"u\":\"" SECRET "\xed\xa0\x80\",\"d\":\"a.com\"}", 0, HZ_EINVAL,
         "body: invalid UTF-8"},
        {"{\"n\":\"pageview\",\"u\":\"" SECRET "\\ud800\",\"d\":\"a.com\"}", 0, HZ_EINVAL,
         "body: malformed JSON (line 1, column 34)"},
        {"{\"n\":\"pageview\",\"u\":\"" SECRET "\x01\",\"d\":\"a.com\"}", 0, HZ_EINVAL,
         "body: malformed JSON (line 1, column 27)"},
        {"{\"n\":\"pageview\",\"u\":\"" SECRET "\\u0001\",\"d\":\"a.com\"}", 0, HZ_EINVAL,
         "u: invalid UTF-8 or control character"},
        {"{\"n\":\"pageview\",\"u\":\"" SECRET "\\n\",\"d\":\"a.com\"}", 0, HZ_EINVAL,
         "u: invalid UTF-8 or control character"},
        {"{\"n\":\"pageview\",\"u\":\"" SECRET "\x7f\",\"d\":\"a.com\"}", 0, HZ_EINVAL,
         "u: invalid UTF-8 or control character"},
        {"{\"n\":\"" SECRET "\\u0085\",\"u\":\"u\",\"d\":\"a.com\"}", 0, HZ_EINVAL,
         "n: invalid UTF-8 or control character"},
        {"{\"n\":\"pageview\",\"u\":\"u\",\"d\":\"a.com\",\"r\":\"" SECRET "\\t\"}", 0, HZ_EINVAL,
         "r: invalid UTF-8 or control character"},
        {"{\"n\":\"pageview\",\"u\":\"u\",\"d\":\"" SECRET "\\u001b,b.com\"}", 0, HZ_EINVAL,
         "d: invalid UTF-8 or control character"},
        /* missing and empty fields */
        {"{\"u\":\"" SECRET "\",\"d\":\"a.com\"}", 0, HZ_EINVAL, "n: missing"},
        {"{\"n\":\"pageview\",\"d\":\"" SECRET "\"}", 0, HZ_EINVAL, "u: missing"},
        {"{\"n\":\"pageview\",\"u\":\"" SECRET "\"}", 0, HZ_EINVAL, "d: missing"},
        {"{}", 0, HZ_EINVAL, "n: missing"},
        {"{\"n\":\"\",\"u\":\"" SECRET "\",\"d\":\"a.com\"}", 0, HZ_EINVAL, "n: empty"},
        {"{\"n\":\"pageview\",\"u\":\"\",\"d\":\"" SECRET "\"}", 0, HZ_EINVAL, "u: empty"},
        {"{\"n\":\"pageview\",\"u\":\"" SECRET "\",\"d\":\" ,a.com\"}", 0, HZ_EINVAL, "d: empty"},
        /* wrong types */
        {"{\"n\":1,\"u\":\"" SECRET "\",\"d\":\"a.com\"}", 0, HZ_EINVAL, "n: not a string"},
        {"{\"n\":\"pageview\",\"u\":null,\"d\":\"" SECRET "\"}", 0, HZ_EINVAL, "u: not a string"},
        {"{\"n\":\"pageview\",\"u\":\"u\",\"d\":[\"" SECRET "\"]}", 0, HZ_EINVAL,
         "d: not a string"},
        {"{" PV_ ",\"r\":{\"" SECRET "\":1}}", 0, HZ_EINVAL, "r: not a string or null"},
        {"{" PV_ ",\"w\":\"1280\"}", 0, HZ_EINVAL, "w: not an integer"},
        {"{" PV_ ",\"w\":1280.0}", 0, HZ_EINVAL, "w: not an integer"},
        {"{" PV_ ",\"w\":null}", 0, HZ_EINVAL, "w: not an integer"},
        {"{" PV_ ",\"e\":\"15000\"}", 0, HZ_EINVAL, "e: not an integer"},
        {"{" PV_ ",\"h\":2}", 0, HZ_EINVAL, "h: not 0, 1 or a boolean"},
        {"{" PV_ ",\"h\":\"1\"}", 0, HZ_EINVAL, "h: not 0, 1 or a boolean"},
        {"{" PV_ ",\"p\":[\"" SECRET "\"]}", 0, HZ_EINVAL,
         "p: not an object, a JSON string or null"},
        {"{" PV_ ",\"p\":\"[\\\"" SECRET "\\\"]\"}", 0, HZ_EINVAL,
         "p: a string that is not a JSON object"},
        {"{" PV_ ",\"p\":\"{" SECRET "\"}", 0, HZ_EINVAL, "p: a string that is not a JSON object"},
        {"{" PV_ ",\"p\":{\"a\":1},\"props\":{\"b\":2}}", 0, HZ_EINVAL,
         "p: given twice (as p and props)"},
        {"{\"n\":\"pageview\",\"name\":\"pageview\",\"u\":\"u\",\"d\":\"" SECRET "\"}", 0,
         HZ_EINVAL, "n: given twice (as n and name)"},
        {"{" PV_ ",\"interactive\":\"no\"}", 0, HZ_EINVAL, "i: not a boolean"},
        {"{" PV_ ",\"p\":{\"\":\"" SECRET "\"}}", 0, HZ_EINVAL, "p: an empty prop name"},
        {"{" PV_ ",\"p\":{\"k\":\"" SECRET "\\u0007\"}}", 0, HZ_EINVAL,
         "p: a prop value is not valid text"},
        {"{" PV_ ",\"i\":0}", 0, HZ_EINVAL, "i: not a boolean"},
        {"{" PV_ ",\"sd\":\"50\"}", 0, HZ_EINVAL, "sd: not an integer or null"},
        /* ranges */
        {"{" PV_ ",\"w\":-1}", 0, HZ_EINVAL, "w: out of range 0..100000"},
        {"{" PV_ ",\"w\":100001}", 0, HZ_EINVAL, "w: out of range 0..100000"},
        {"{" PV_ ",\"e\":-1}", 0, HZ_EINVAL, "e: out of range 0..86400000"},
        {"{" PV_ ",\"e\":86400001}", 0, HZ_EINVAL, "e: out of range 0..86400000"},
        /* engagement needs its time */
        {"{\"n\":\"engagement\",\"u\":\"" SECRET "\",\"d\":\"a.com\",\"sd\":40}", 0, HZ_EINVAL,
         "e: missing (required for engagement)"},
        /* nesting */
        {"{" PV_ ",\"p\":[[[[[[[[[[[[[[[[\"" SECRET "\"]]]]]]]]]]]]]]]]}", 0, HZ_EINVAL,
         "body: nested deeper than 16"},
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 0, HZ_EINVAL,
         "body: nested deeper than 16"},
    };
    return cr_make_param_array(struct json_bad, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct json_bad *t, beacon_json, rejects)
{
    struct ctx c;
    size_t len = t->len ? t->len : strlen(t->body);

    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(hz_beacon_parse_json(t->body, len, &c.a, &c.b, &c.e), t->code,
                 "body %s: got %d (%s)", t->body, c.e.code, c.e.msg);
    cr_assert_eq(c.e.code, t->code);
    cr_assert_str_eq(c.e.msg, t->reason);
    assert_untouched(&c);
}

/* ================================================================ JSON: caps */

struct field_cap {
    char key[4];
    char prefix[48]; /* the rest of a valid body, before the field */
    size_t cap;
    char reason[48];
};

/* A body whose field key holds n bytes of 'a' (for d: n bytes, optionally
 * after a short first domain so that only the list cap applies). */
static char *
body_with(const struct field_cap *f, size_t n, int list)
{
    size_t sz = n + 256;
    char *body = malloc(sz);
    int k;

    cr_assert_not_null(body);
    k = snprintf(body, sz, "{%s\"%s\":\"%s", f->prefix, f->key, list ? "a.com," : "");
    memset(body + k, 'a', n - (list ? 6 : 0));
    k += (int)(n - (list ? 6 : 0));
    (void)snprintf(body + k, sz - (size_t)k, "\"}");
    return body;
}

ParameterizedTestParameters(beacon_json, caps)
{
    static struct field_cap cases[] = {
        {"n", "\"u\":\"u\",\"d\":\"d\",", HZ_BEACON_NAME_MAX, "n: over 120 bytes"},
        {"u", "\"n\":\"n\",\"d\":\"d\",", HZ_BEACON_URL_MAX, "u: over 2048 bytes"},
        {"r", "\"n\":\"n\",\"u\":\"u\",\"d\":\"d\",", HZ_BEACON_REFERRER_MAX, "r: over 2048 bytes"},
        {"d", "\"n\":\"n\",\"u\":\"u\",", HZ_BEACON_DOMAIN_MAX, "d: first domain over 255 bytes"},
    };
    return cr_make_param_array(struct field_cap, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct field_cap *f, beacon_json, caps)
{
    struct ctx c;
    char *body;
    const char *got;

    /* At the cap: accepted, kept whole. */
    body = body_with(f, f->cap, 0);
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, body), 0, "%s", c.e.msg);
    got = f->key[0] == 'n'   ? c.b.name
          : f->key[0] == 'u' ? c.b.url
          : f->key[0] == 'r' ? c.b.referrer
                             : c.b.domain;
    cr_assert_eq(strlen(got), f->cap);
    cr_assert_eq(strspn(got, "a"), f->cap);
    free(body);

    /* One byte over: HZ_ETOOBIG naming the field. */
    body = body_with(f, f->cap + 1, 0);
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, body), HZ_ETOOBIG);
    cr_assert_str_eq(c.e.msg, f->reason);
    assert_untouched(&c);
    free(body);
}

/* The whole d list has the URL cap even when its first entry is short. */
Test(beacon_json, domain_list_cap)
{
    struct field_cap f = {"d", "\"n\":\"n\",\"u\":\"u\",", 0, ""};
    struct ctx c;
    char *body;

    body = body_with(&f, HZ_BEACON_URL_MAX, 1);
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, body), 0, "%s", c.e.msg);
    assert_opt_str(c.b.domain, "a.com");
    free(body);
    body = body_with(&f, HZ_BEACON_URL_MAX + 1, 1);
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, body), HZ_ETOOBIG);
    cr_assert_str_eq(c.e.msg, "d: over 2048 bytes");
    assert_untouched(&c);
    free(body);
}

/* Over 64 KiB is refused before parsing, even when it is valid JSON. */
Test(beacon_json, rejects_body_over_limit)
{
    struct ctx c;
    size_t len = HZ_BEACON_BODY_MAX + 1;
    char *body = malloc(len);
    const char *pv = "{\"n\":\"pageview\",\"u\":\"u\",\"d\":\"d\"}";

    cr_assert_not_null(body);
    memset(body, ' ', len);
    memcpy(body, pv, strlen(pv)); /* NOLINT(bugprone-not-null-terminated-result): (buf, len) */
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(hz_beacon_parse_json(body, len, &c.a, &c.b, &c.e), HZ_ETOOBIG);
    cr_assert_str_eq(c.e.msg, "body: over 65536 bytes");
    assert_untouched(&c);
    /* Exactly at the limit it parses. */
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(hz_beacon_parse_json(body, len - 1, &c.a, &c.b, &c.e), 0, "%s", c.e.msg);
    free(body);
}

/* ================================================================ arena */

/* Every arena size from 0 up: ENOMEM with nothing written until the beacon
 * fits, then the same result as with plenty of room. */
Test(beacon_json, arena_exhaustion_is_an_error)
{
    const char *body = "{\"n\":\"engagement\",\"u\":\"https://example.com/a/b/c\","
                       "\"d\":\"example.com\",\"r\":\"https://ref.example.org/\",\"e\":5}";
    struct ctx c;
    size_t cap;

    for (cap = 0; cap < 512; cap++) {
        ctx_init(&c, cap);
        int rc = json(&c, body);
        if (rc == 0)
            break;
        cr_assert_eq(rc, ENOMEM, "cap %zu: %d %s", cap, rc, c.e.msg);
        cr_assert_str_eq(c.e.msg, "arena: out of space");
        assert_untouched(&c);
    }
    cr_assert_gt(cap, 64, "a 64-byte arena cannot hold four strings");
    cr_assert_lt(cap, 512);
    assert_beacon(&c.b, "engagement", "https://example.com/a/b/c", "example.com",
                  "https://ref.example.org/", -1, 1, 5, 0);
}

/* The documented minimum holds the largest beacon, even after a misaligned
 * allocation. */
Test(beacon_json, arena_min_holds_largest_beacon)
{
    struct ctx c;
    size_t sz = 3 * HZ_BEACON_URL_MAX + 1024;
    char *body = malloc(sz);
    int k;

    cr_assert_not_null(body);
    k = snprintf(body, sz, "{\"n\":\"%0*d\",\"u\":\"%0*d\",\"d\":\"%0*d\",\"r\":\"%0*d\"}",
                 HZ_BEACON_NAME_MAX, 0, HZ_BEACON_URL_MAX, 0, HZ_BEACON_DOMAIN_MAX, 0,
                 HZ_BEACON_REFERRER_MAX, 0);
    cr_assert_lt((size_t)k, sz);
    ctx_init(&c, HZ_BEACON_ARENA_MIN + 1);
    cr_assert_not_null(hz_arena_alloc(&c.a, 1));
    cr_assert_eq(json(&c, body), 0, "%s", c.e.msg);
    cr_assert_eq(strlen(c.b.referrer), HZ_BEACON_REFERRER_MAX);
    free(body);
}

/* Parsing appends: strings of an earlier beacon in the same arena stay. */
Test(beacon_json, arena_keeps_earlier_data)
{
    struct ctx c;
    char *first;
    size_t used;

    ctx_init(&c, sizeof(c.mem));
    first = hz_arena_strndup(&c.a, "kept", 4);
    used = c.a.used;
    cr_assert_eq(json(&c, "{\"n\":\"x\",\"u\":1,\"d\":\"d\"}"), HZ_EINVAL);
    cr_assert_eq(c.a.used, used);
    cr_assert_str_eq(first, "kept");
}

Test(beacon_json, null_err_is_allowed)
{
    struct ctx c;

    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(hz_beacon_parse_json("[]", 2, &c.a, &c.b, NULL), HZ_EINVAL);
    cr_assert_eq(hz_beacon_parse_query("u=1", 3, &c.a, &c.b, NULL), HZ_EINVAL);
    cr_assert_eq(c.a.used, 0);
}

/* ================================================================ pixel: accepted */

Test(beacon_query, full_pixel)
{
    struct ctx c;

    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(query(&c, "d=example.com&u=https%3A%2F%2Fexample.com%2Fa%3Fb%3Dc%26d&"
                           "r=https%3a%2f%2fwww.google.com%2F&w=1280"),
                 0, "%s", c.e.msg);
    assert_beacon(&c.b, "pageview", "https://example.com/a?b=c&d", "example.com",
                  "https://www.google.com/", 1280, 0, 0, 0);
}

Test(beacon_query, only_domain)
{
    struct ctx c;

    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(query(&c, "d=example.com"), 0, "%s", c.e.msg);
    assert_beacon(&c.b, "pageview", NULL, "example.com", NULL, -1, 0, 0, 0);
}

Test(beacon_query, custom_name_plus_is_space)
{
    struct ctx c;

    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(query(&c, "n=Sign+Up%2B%C3%A9&d=a.com&u=https://a.com/x+y"), 0, "%s", c.e.msg);
    assert_beacon(&c.b, "Sign Up+\xc3\xa9", "https://a.com/x y", "a.com", NULL, -1, 0, 0, 0);
}

/* Unknown keys, empty pairs, a key without '=', an encoded key. */
Test(beacon_query, ignores_unknown_and_empty_pairs)
{
    struct ctx c;

    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(query(&c, "&&_=1700000000&%64=a.com%2Cb.com&flag&utm_source=x&dd=y&r=&w=0&"), 0,
                 "%s", c.e.msg);
    assert_beacon(&c.b, "pageview", NULL, "a.com", NULL, 0, 0, 0, 0);
}

/* The cap applies to the decoded bytes: 2048 bytes sent as %XX is fine. */
Test(beacon_query, cap_counts_decoded_bytes)
{
    struct ctx c;
    char q[3 * HZ_BEACON_URL_MAX + 64];
    int k = snprintf(q, sizeof(q), "d=a.com&u=");

    for (int i = 0; i < HZ_BEACON_URL_MAX; i++)
        k += snprintf(q + k, sizeof(q) - (size_t)k, "%%%02X", 'a' + i % 26);
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(query(&c, q), 0, "%s", c.e.msg);
    cr_assert_eq(strlen(c.b.url), HZ_BEACON_URL_MAX);
    cr_assert_eq(memcmp(c.b.url, "abcdefghijklmnopqrstuvwxyzab", 28), 0);
    (void)snprintf(q + k, sizeof(q) - (size_t)k, "a");
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(query(&c, q), HZ_ETOOBIG);
    cr_assert_str_eq(c.e.msg, "u: over 2048 bytes");
    assert_untouched(&c);
}

Test(beacon_query, rejects_query_over_limit)
{
    struct ctx c;
    char *q = malloc(HZ_BEACON_QUERY_MAX + 1);

    cr_assert_not_null(q);
    memcpy(q, "d=a.com&x=", 10); /* NOLINT(bugprone-not-null-terminated-result): (buf, len) */
    memset(q + 10, 'x', HZ_BEACON_QUERY_MAX + 1 - 10);
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(hz_beacon_parse_query(q, HZ_BEACON_QUERY_MAX + 1, &c.a, &c.b, &c.e),
                 HZ_ETOOLONGURL);
    cr_assert_str_eq(c.e.msg, "query: over 16384 bytes");
    assert_untouched(&c);
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(hz_beacon_parse_query(q, HZ_BEACON_QUERY_MAX, &c.a, &c.b, &c.e), 0, "%s", c.e.msg);
    free(q);
}

Test(beacon_query, arena_exhaustion_is_an_error)
{
    struct ctx c;
    size_t cap;

    for (cap = 0; cap < 256; cap++) {
        ctx_init(&c, cap);
        int rc = query(&c, "d=example.com&u=https%3A%2F%2Fexample.com%2F");
        if (rc == 0)
            break;
        cr_assert_eq(rc, ENOMEM, "cap %zu: %d %s", cap, rc, c.e.msg);
        assert_untouched(&c);
    }
    cr_assert_gt(cap, 32);
    assert_beacon(&c.b, "pageview", "https://example.com/", "example.com", NULL, -1, 0, 0, 0);
}

/* ================================================================ pixel: rejected */

struct query_bad {
    char q[160];
    size_t len;
    int code;
    char reason[64];
};

ParameterizedTestParameters(beacon_query, rejects)
{
    static struct query_bad cases[] = {
        /* strict percent decoding */
        {"d=a.com&u=%zz" SECRET, 0, HZ_EINVAL, "u: bad percent escape"},
        {"d=a.com&u=" SECRET "%4", 0, HZ_EINVAL, "u: bad percent escape"},
        {"d=a.com&r=" SECRET "%", 0, HZ_EINVAL, "r: bad percent escape"},
        {"d=%G1" SECRET, 0, HZ_EINVAL, "d: bad percent escape"},
        {"d=a.com&x=" SECRET "%", 0, HZ_EINVAL, "query: bad percent escape in a value"},
        {"%zz" SECRET "=1&d=a.com", 0, HZ_EINVAL, "query: bad percent escape in a key"},
        /* decoded text must be valid */
        {"d=a.com&u=" SECRET "%00", 0, HZ_EINVAL, "u: invalid UTF-8 or control character"},
        {"d=" SECRET "%00.com", 0, HZ_EINVAL, "d: invalid UTF-8 or control character"},
        {"d=a.com&n=" SECRET "%0A", 0, HZ_EINVAL, "n: invalid UTF-8 or control character"},
        {"d=a.com&u=" SECRET "%FF", 0, HZ_EINVAL, "u: invalid UTF-8 or control character"},
        {"d=a.com&r=" SECRET "%C0%AF", 0, HZ_EINVAL, "r: invalid UTF-8 or control character"},
        {"d=a.com&u=" SECRET "\0x", 18, HZ_EINVAL, "u: invalid UTF-8 or control character"},
        /* duplicates */
        {"d=a.com&d=" SECRET, 0, HZ_EINVAL, "d: given twice"},
        {"d=a.com&u=/a&u=" SECRET, 0, HZ_EINVAL, "u: given twice"},
        {"w=1&d=a.com&w=2&" SECRET, 0, HZ_EINVAL, "w: given twice"},
        {"n=x&d=a.com&%6E=" SECRET, 0, HZ_EINVAL, "n: given twice"},
        /* missing and empty */
        {"", 0, HZ_EINVAL, "d: missing"},
        {"u=https%3A%2F%2F" SECRET, 0, HZ_EINVAL, "d: missing"},
        {"D=a.com&u=" SECRET, 0, HZ_EINVAL, "d: missing"},
        {"d=&u=" SECRET, 0, HZ_EINVAL, "d: empty"},
        {"d&u=" SECRET, 0, HZ_EINVAL, "d: empty"},
        {"d=+,a.com&u=" SECRET, 0, HZ_EINVAL, "d: empty"},
        {"d=a.com&n=&u=" SECRET, 0, HZ_EINVAL, "n: empty"},
        {"d=a.com&u=&r=" SECRET, 0, HZ_EINVAL, "u: empty"},
        /* width */
        {"d=a.com&w=" SECRET, 0, HZ_EINVAL, "w: not an integer in 0..100000"},
        {"d=a.com&w=-1", 0, HZ_EINVAL, "w: not an integer in 0..100000"},
        {"d=a.com&w=100001", 0, HZ_EINVAL, "w: not an integer in 0..100000"},
        {"d=a.com&w=1234567", 0, HZ_EINVAL, "w: not an integer in 0..100000"},
        {"d=a.com&w=", 0, HZ_EINVAL, "w: not an integer in 0..100000"},
        {"d=a.com&w=+1", 0, HZ_EINVAL, "w: not an integer in 0..100000"},
        /* the pixel carries no engaged time */
        {"d=a.com&n=engagement&u=" SECRET, 0, HZ_EINVAL, "e: missing (required for engagement)"},
    };
    return cr_make_param_array(struct query_bad, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct query_bad *t, beacon_query, rejects)
{
    struct ctx c;
    size_t len = t->len ? t->len : strlen(t->q);

    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(hz_beacon_parse_query(t->q, len, &c.a, &c.b, &c.e), t->code,
                 "query %s: got %d (%s)", t->q, c.e.code, c.e.msg);
    cr_assert_eq(c.e.code, t->code);
    cr_assert_str_eq(c.e.msg, t->reason);
    assert_untouched(&c);
}

struct query_cap {
    char key[4];
    size_t cap;
    char reason[48];
};

ParameterizedTestParameters(beacon_query, caps)
{
    static struct query_cap cases[] = {
        {"n", HZ_BEACON_NAME_MAX, "n: over 120 bytes"},
        {"u", HZ_BEACON_URL_MAX, "u: over 2048 bytes"},
        {"r", HZ_BEACON_REFERRER_MAX, "r: over 2048 bytes"},
        {"d", HZ_BEACON_DOMAIN_MAX, "d: first domain over 255 bytes"},
    };
    return cr_make_param_array(struct query_cap, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct query_cap *f, beacon_query, caps)
{
    struct ctx c;
    char q[HZ_BEACON_URL_MAX + 64];
    int pre = snprintf(q, sizeof(q), "%s%s=", f->key[0] == 'd' ? "" : "d=a.com&", f->key);

    memset(q + pre, 'b', f->cap);
    q[pre + (int)f->cap] = '\0';
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(query(&c, q), 0, "%s", c.e.msg);
    q[pre + (int)f->cap] = 'b';
    q[pre + (int)f->cap + 1] = '\0';
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(query(&c, q), HZ_ETOOBIG);
    cr_assert_str_eq(c.e.msg, f->reason);
    assert_untouched(&c);
}

/* ================================================================ bidi (issue 14) */

/* A right-to-left override or isolate in any text field would let one
 * page or event name display as another: refused with a reason, in raw
 * UTF-8, in JSON escapes and in the pixel's percent escapes. */
Test(beacon_bidi, controls_are_refused_in_every_text_field)
{
    static const char *const bodies[] = {
        "{\"n\":\"pageview\",\"u\":\"https://a.example/\xe2\x80\xae"
        "fdp.exe\",\"d\":\"a.example\"}",
        "{\"n\":\"Sign\\u202eup\",\"u\":\"https://a.example/\",\"d\":\"a.example\"}",
        "{\"n\":\"x\\u2066y\",\"u\":\"https://a.example/\",\"d\":\"a.example\"}",
        "{\"n\":\"pageview\",\"u\":\"https://a.example/\",\"d\":\"a.example\","
        "\"r\":\"https://b.example/\\u2069\"}",
        "{\"n\":\"pageview\",\"u\":\"https://a.example/\",\"d\":\"a.exam\\u202aple\"}",
    };
    struct ctx c;

    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        ctx_init(&c, sizeof(c.mem));
        cr_assert_eq(json(&c, bodies[i]), HZ_EINVAL, "accepted body %zu", i);
        cr_assert(strstr(c.e.msg, "bidirectional") != NULL, "%zu: %s", i, c.e.msg);
        assert_untouched(&c);
    }
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(query(&c, "n=pageview&d=a.example&u=https%3A%2F%2Fa.example%2F%E2%80%AEx"),
                 HZ_EINVAL);
    assert_untouched(&c);
    /* The neighbours of the ranges are fine (U+2029, U+202F, U+2065, U+206A). */
    ctx_init(&c, sizeof(c.mem));
    cr_assert_eq(json(&c, "{\"n\":\"a\\u202fb\\u206ac\",\"u\":\"https://a.example/\","
                          "\"d\":\"a.example\"}"),
                 0, "%s", c.e.msg);
}

/* ================================================================ JSON: fast path */

/* Compares one body's answer from hz_beacon_parse_json (fast path first)
 * and from jansson alone: code, reason, arena use and every field. */
static void
assert_same_as_jansson(const char *body)
{
    struct ctx f, j;
    int rf, rj;

    ctx_init(&f, sizeof(f.mem));
    ctx_init(&j, sizeof(j.mem));
    rf = hz_beacon_parse_json(body, strlen(body), &f.a, &f.b, &f.e);
    rj = hz_beacon_parse_json_jansson(body, strlen(body), &j.a, &j.b, &j.e);
    cr_assert_eq(rf, rj, "%s: %d vs jansson %d", body, rf, rj);
    cr_assert_str_eq(f.e.msg, j.e.msg, "%s", body);
    cr_assert_eq(f.a.used, j.a.used, "%s", body);
    if (rf != 0)
        return;
    assert_opt_str(f.b.name, j.b.name);
    assert_opt_str(f.b.url, j.b.url);
    assert_opt_str(f.b.domain, j.b.domain);
    assert_opt_str(f.b.referrer, j.b.referrer);
    cr_assert_eq(f.b.width, j.b.width, "%s", body);
    cr_assert_eq(f.b.has_engaged, j.b.has_engaged, "%s", body);
    cr_assert_eq(f.b.engaged_ms, j.b.engaged_ms, "%s", body);
    cr_assert_eq(f.b.hash_mode, j.b.hash_mode, "%s", body);
    cr_assert_eq(f.b.interactive, j.b.interactive, "%s", body);
    cr_assert_eq(f.b.scroll_depth, j.b.scroll_depth, "%s", body);
    cr_assert_eq(f.b.nprops, j.b.nprops, "%s", body);
}

/* Bodies at the edges of what the fast path reads: each must get exactly
 * jansson's answer, whether the fast path takes it or hands it over. */
Test(beacon_json, fast_path_agrees_with_jansson)
{
    static const char *const bodies[] = {
        "{\"n\":\"pageview\",\"u\":\"https://shop.example/products/business-cards?utm_source="
        "newsletter\",\"d\":\"shop.example\",\"r\":\"https://www.google.com/\",\"w\":1920}",
        " \t\r\n{ \"n\" : \"pageview\" ,\n\"u\":\"https://a.example/\",\"d\":\"a.example\" } \n",
        "{\"n\":\"engagement\",\"u\":\"https://a.example/\",\"d\":\"a.example\",\"e\":0,\"sd\":0}",
        "{\"n\":\"engagement\",\"u\":\"https://a.example/\",\"d\":\"a.example\",\"e\":86400000,"
        "\"sd\":100000,\"h\":1,\"i\":false}",
        "{\"n\":\"engagement\",\"u\":\"https://a.example/\",\"d\":\"a.example\",\"e\":86400001}",
        "{\"n\":\"engagement\",\"u\":\"https://a.example/\",\"d\":\"a.example\"}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"h\":true,\"interactive\":true,\"sd\":null}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"h\":2}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"h\":null}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"i\":1}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"i\":true,\"interactive\":false}",
        "{\"name\":\"x\",\"url\":\"u\",\"domain\":\" a.com , b.com\",\"referrer\":\"\"}",
        "{\"n\":\"x\",\"name\":\"x\",\"u\":\"u\",\"d\":\"d\"}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"w\":100000}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"w\":100001}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"w\":-1}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"w\":-0}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"w\":0}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"w\":01}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"w\":1.0}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"w\":1e3}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"w\":123456789012345}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"w\":99999999999999999999}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"w\":\"1\"}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"x\":truex}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"x\":nul}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"x\":1,\"x\":2}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"v\":22,\"m\":\"meta\",\"$\":null,\"p\":null}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"p\":{\"plan\":\"pro\"}}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"props\":\"{\\\"plan\\\":1}\"}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"p\":null,\"props\":null}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\"} x",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\"}}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\"",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\" \"r\":null}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"r\":5}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"\"}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\",b.com\"}",
        "{\"n\":\"x\",\"u\":\"u\"}",
        "{\"n\":\"\\u0078\",\"u\":\"u\",\"d\":\"d\"}",
        "{\"n\":\"x\x7f\",\"u\":\"u\",\"d\":\"d\"}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"k\":\"\x7f\"}",
        "{\"n\":\"\xc3\xa9\",\"u\":\"u\",\"d\":\"d\"}",
        "{\"n\":\"\xc3\",\"u\":\"u\",\"d\":\"d\"}",
        "{\"n\":\"x\ty\",\"u\":\"u\",\"d\":\"d\"}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"a\":[1]}",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"a\":{}}",
        "{\"a\":1,\"b\":2,\"c\":3,\"e1\":4,\"f\":5,\"g\":6,\"j\":7,\"k\":8,\"l\":9,\"m\":0,"
        "\"o\":1,\"q\":2,\"s\":3,\"t\":4,\"n\":\"x\",\"u\":\"u\",\"d\":\"d\"}",
        "[]",
        "{}",
        "{ }",
        "\"x\"",
        "{\"n\":\"x\",\"u\":\"u\",\"d\":\"d\",\"\":1}",
    };

    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        assert_same_as_jansson(bodies[i]);
    /* A full arena is the same ENOMEM either way. */
    {
        const char *body = "{\"n\":\"pageview\",\"u\":\"https://a.example/p\",\"d\":\"a.example\"}";
        struct ctx f, j;
        ctx_init(&f, 40);
        ctx_init(&j, 40);
        cr_assert_eq(hz_beacon_parse_json(body, strlen(body), &f.a, &f.b, &f.e), ENOMEM);
        cr_assert_eq(hz_beacon_parse_json_jansson(body, strlen(body), &j.a, &j.b, &j.e), ENOMEM);
        cr_assert_str_eq(f.e.msg, j.e.msg);
        assert_untouched(&f);
    }
}
