/* SPDX-License-Identifier: MIT */
/*
 * versions_test.c - issue 13: visit:browser_version and visit:os_version
 * (major versions only, the family as their parent) from the real
 * collector's stream, through the aggregator into the store and out of the
 * Stats API's v1, v2 and CSV renderings; and server-side senders whose
 * X-Forwarded-For haze does not trust, through the real collector.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregator/consume.h"
#include "common/cfg.h"
#include "common/groups.h"
#include "common/store.h"
#include "common/str.h"
#include "dashboard/api.h"
#include "dashboard/csv.h"
#include "dashboard/query.h"
#include "tests/integration/collector_env.h"
#include "tests/integration/harness.h"

#define PV_BODY(page)                                                                              \
    "{\"n\":\"pageview\",\"u\":\"https://example.com" page "\",\"d\":\"example.com\"}"
#define IPHONE                                                                                     \
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "    \
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1"

/* The hit entry of page p, or NULL. */
static const struct ce_entry *
ve_page(const struct ce_entry *en, int n, const char *p)
{
    for (int i = 0; i < n; i++)
        if (ce_field(&en[i], "p") && strcmp(ce_field(&en[i], "p"), p) == 0)
            return &en[i];
    return NULL;
}

Test(versions, the_collector_writes_major_versions_only, .timeout = 60)
{
    struct ce env;
    static struct ce_entry en[8];
    const struct ce_entry *e;
    int n;

    ce_start(&env, 0, NULL);
    /* Chrome 131 on Windows NT 10.0, no hints: Windows "10" as uap-core says. */
    cr_assert_eq(ce_event(&env, PV_BODY("/a"), NULL), 202);
    /* The same browser with Client Hints: the full version list and the
     * platform version (13 and up is Windows 11). */
    cr_assert_eq(ce_event(&env, PV_BODY("/b"),
                          "Sec-CH-UA-Platform: \"Windows\"\r\n"
                          "Sec-CH-UA-Platform-Version: \"15.0.0\"\r\n"
                          "Sec-CH-UA-Full-Version-List: \"Google Chrome\";v=\"131.0.6778.86\", "
                          "\"Chromium\";v=\"131.0.6778.86\", \"Not_A Brand\";v=\"24.0.0.0\"\r\n"),
                 202);
    cr_assert_eq(ce_event(&env, PV_BODY("/c"), "User-Agent: " IPHONE "\r\n"), 202);

    n = ce_entries(&env, en, 8, 1);
    cr_assert_eq(n, 3);
    cr_assert_not_null(e = ve_page(en, n, "/a"));
    cr_expect_str_eq(ce_field(e, "b"), "Chrome");
    cr_expect_str_eq(ce_field(e, "bv"), "131");
    cr_expect_str_eq(ce_field(e, "o"), "Windows");
    cr_expect_str_eq(ce_field(e, "ov"), "10");
    cr_assert_not_null(e = ve_page(en, n, "/b"));
    cr_expect_str_eq(ce_field(e, "bv"), "131");
    cr_expect_str_eq(ce_field(e, "ov"), "11");
    cr_assert_not_null(e = ve_page(en, n, "/c"));
    cr_expect_str_eq(ce_field(e, "b"), "Safari");
    cr_expect_str_eq(ce_field(e, "bv"), "18");
    cr_expect_str_eq(ce_field(e, "o"), "iOS");
    cr_expect_str_eq(ce_field(e, "ov"), "18");
    /* Never a full version string. */
    for (int i = 0; i < n; i++)
        for (int f = 0; f < en[i].n; f++) {
            cr_expect_null(strstr(en[i].val[f], "6778"));
            cr_expect_null(strstr(en[i].val[f], "18.1"));
            cr_expect_null(strstr(en[i].val[f], "15.0"));
        }
    ce_stop(&env);
}

/* ------------------------------------------------------------ stats API */

#define VSITE   "versions.test"
#define VSTREAM "versions:events"

static const char ve_sites[] = "[site " VSITE "]\ntimezone = UTC\n";

/* Visitors per (browser, major, os, major): the crowd-size rule at 3
 * keeps Chrome 131 (4) and Firefox 133 (3); Chrome 130 (1) and 129 (2)
 * fall back to "Chrome (other)" (3), Firefox 128 (1) and Safari 18 (1)
 * fold into "(other)". */
static const struct {
    const char *b, *bv, *o, *ov;
    int visitors;
} ve_data[] = {
    {"Chrome", "131", "Windows", "10", 2}, {"Chrome", "131", "Windows", "11", 2},
    {"Chrome", "130", "Windows", "11", 1}, {"Chrome", "129", "Windows", "11", 2},
    {"Firefox", "133", "Linux", "", 3},    {"Firefox", "128", "Linux", "", 1},
    {"Safari", "18", "iOS", "18", 1},
};

struct ve_store {
    struct ht_redis rd;
    char dir[64], ini[256];
    struct hz_config cfg;
    hz_agg *agg;
    hz_rtxn *t;
};

static void
ve_fill(struct ve_store *s)
{
    uint64_t now_ms = (uint64_t)time(NULL) * 1000, day_ms = now_ms / 86400000 * 86400000;
    uint64_t t0 = now_ms - 600000 >= day_ms ? now_ms - 600000 : day_ms + 1000;
    struct hz_err e = {0};
    int v = 0;
    hz_rs *rs;

    cr_assert_eq(ht_redis_start(&s->rd, NULL, 0), 0, "redis-server did not start");
    ht_tmpdir(s->dir);
    ht_agg_config(s->ini, s->dir, &s->rd, VSTREAM, 4, ve_sites);
    rs = ht_rs_connect(&s->rd);
    for (size_t i = 0; i < sizeof ve_data / sizeof ve_data[0]; i++)
        for (int k = 0; k < ve_data[i].visitors; k++, v++) {
            char vh[17];
            (void)snprintf(vh, sizeof vh, "%016x", 0xa000 + v);
            struct hz_record r = ht_rec(HZ_KIND_PAGEVIEW, t0 + (uint64_t)v, VSITE, "/", vh);
            (void)hz_strlcpy(r.browser, ve_data[i].b, sizeof r.browser);
            (void)hz_strlcpy(r.browser_version, ve_data[i].bv, sizeof r.browser_version);
            (void)hz_strlcpy(r.os, ve_data[i].o, sizeof r.os);
            (void)hz_strlcpy(r.os_version, ve_data[i].ov, sizeof r.os_version);
            ht_xadd(rs, VSTREAM, &r);
        }
    ht_flush(rs, v);
    cr_assert_eq(hz_cfg_load(&s->cfg, s->ini, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_open(&s->agg, &s->cfg, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_drain(s->agg, &e), 0, "%s", e.msg);
    cr_expect_eq(hz_agg_stats(s->agg)->malformed, 0);
    cr_assert_eq(hz_store_rbegin(hz_agg_store(s->agg), &s->t, &e), 0, "%s", e.msg);
}

/* Runs a parsed question with min_visitors 3. */
static void
ve_run(const struct ve_store *s, struct hz_query *q, struct hz_qres *r)
{
    struct hz_qopts o = {3, 400};
    struct hz_err err = {0};

    hz_qres_init(r);
    cr_assert_eq(hz_query_run(s->t, q, &o, r, &err), 0, "%s", err.msg);
}

/* The v2 answer to body (malloc'd), or NULL with the 400's reason in why. */
static char *
ve_v2(const struct ve_store *s, const char *body, char *why)
{
    static struct hz_query q;
    struct hz_qres r;
    struct hz_jsonw w;
    struct hz_err err = {0};
    size_t len;
    char *out;

    memset(&q, 0, sizeof q);
    if (hz_api_parse_v2(body, strlen(body), &s->cfg, (int64_t)time(NULL), &q, &err) != 0) {
        (void)hz_strlcpy(why, err.msg, 256);
        return NULL;
    }
    ve_run(s, &q, &r);
    hz_jsonw_init(&w);
    hz_api_v2(&w, &q, &r, 3);
    out = hz_jsonw_take(&w, &len);
    hz_qres_free(&r);
    return out;
}

/* The v1 breakdown answer to qs as JSON (csv 0) or CSV (malloc'd). */
static char *
ve_v1(const struct ve_store *s, const char *qs, int csv)
{
    static struct hz_query q;
    struct hz_qres r;
    struct hz_err err = {0};
    size_t len;
    char *out;

    memset(&q, 0, sizeof q);
    cr_assert_eq(
        hz_api_parse_v1(HZ_API_BREAKDOWN, qs, strlen(qs), &s->cfg, (int64_t)time(NULL), &q, &err),
        0, "%s", err.msg);
    ve_run(s, &q, &r);
    if (csv) {
        struct hz_csv c;
        hz_csv_init(&c);
        hz_api_csv(&c, &q, &r);
        out = hz_csv_take(&c, &len);
    } else {
        struct hz_jsonw w;
        hz_jsonw_init(&w);
        hz_api_v1(&w, &q, &r);
        out = hz_jsonw_take(&w, &len);
    }
    hz_qres_free(&r);
    return out;
}

#define V2(dims, extra)                                                                            \
    "{\"site_id\":\"" VSITE "\",\"metrics\":[\"visitors\"],\"date_range\":\"day\","                \
    "\"dimensions\":" dims extra "}"

Test(versions, the_stats_api_answers_by_family_and_major, .timeout = 60)
{
    static struct ve_store s;
    char why[256] = "", *a;

    ve_fill(&s);
    /* What Plausible's dashboard and browserslist-plausible ask: both
     * dimensions. Small versions fall back to their family's (other). */
    a = ve_v2(&s, V2("[\"visit:browser\",\"visit:browser_version\"]", ""), why);
    cr_assert_not_null(a, "%s", why);
    cr_expect_not_null(strstr(a,
                              "\"results\":[{\"dimensions\":[\"Chrome\",\"131\"],\"metrics\":[4]},"
                              "{\"dimensions\":[\"Chrome\",\"(other)\"],\"metrics\":[3]},"
                              "{\"dimensions\":[\"Firefox\",\"133\"],\"metrics\":[3]},"
                              "{\"dimensions\":[\"(other)\",\"(other)\"],\"metrics\":[2]}]"),
                       "%s", a);
    cr_expect_not_null(strstr(a, "\"other_rows\":[1,3]"), "%s", a);
    cr_expect_not_null(strstr(a, "\"dimensions\":[\"visit:browser\",\"visit:browser_version\"]"),
                       "%s", a);
    free(a);
    /* A breakdown by version within a family: filter on the family. */
    a = ve_v2(
        &s,
        V2("[\"visit:browser_version\"]", ",\"filters\":[[\"is\",\"visit:browser\",[\"Chrome\"]]]"),
        why);
    cr_assert_not_null(a, "%s", why);
    cr_expect_not_null(strstr(a, "\"results\":[{\"dimensions\":[\"131\"],\"metrics\":[4]},"
                                 "{\"dimensions\":[\"(other)\"],\"metrics\":[3]}]"),
                       "%s", a);
    free(a);
    /* The version alone, as Plausible: one row per major, across families. */
    a = ve_v2(&s, V2("[\"visit:browser_version\"]", ""), why);
    cr_assert_not_null(a, "%s", why);
    cr_expect_not_null(strstr(a, "{\"dimensions\":[\"(other)\"],\"metrics\":[5]}"), "%s", a);
    cr_expect_not_null(strstr(a, "{\"dimensions\":[\"131\"],\"metrics\":[4]}"), "%s", a);
    cr_expect_not_null(strstr(a, "{\"dimensions\":[\"133\"],\"metrics\":[3]}"), "%s", a);
    free(a);
    /* The other order of the two dimensions. */
    a = ve_v2(&s, V2("[\"visit:browser_version\",\"visit:browser\"]", ""), why);
    cr_assert_not_null(a, "%s", why);
    cr_expect_not_null(strstr(a, "{\"dimensions\":[\"131\",\"Chrome\"],\"metrics\":[4]}"), "%s", a);
    free(a);
    /* A Plausible value (major.minor) filters by its major. */
    a = ve_v2(&s,
              V2("[]", ",\"filters\":[[\"is\",\"visit:browser_version\",[\"131.0\"]],"
                       "[\"is\",\"visit:browser\",[\"Chrome\"]]]"),
              why);
    cr_assert_not_null(a, "%s", why);
    cr_expect_not_null(strstr(a, "\"results\":[{\"dimensions\":[],\"metrics\":[4]}]"), "%s", a);
    free(a);
    /* A version filter with a breakdown by the family. */
    a = ve_v2(&s, V2("[\"visit:os\"]", ",\"filters\":[[\"is\",\"visit:os_version\",[\"11\"]]]"),
              why);
    cr_assert_not_null(a, "%s", why);
    cr_expect_not_null(strstr(a, "\"results\":[{\"dimensions\":[\"Windows\"],\"metrics\":[5]}]"),
                       "%s", a);
    free(a);
    /* OS versions; a family without a major is "(not set)", as Plausible. */
    a = ve_v2(&s, V2("[\"visit:os\",\"visit:os_version\"]", ""), why);
    cr_assert_not_null(a, "%s", why);
    cr_expect_not_null(strstr(a, "{\"dimensions\":[\"Windows\",\"11\"],\"metrics\":[5]}"), "%s", a);
    cr_expect_not_null(strstr(a, "{\"dimensions\":[\"Linux\",\"(not set)\"],\"metrics\":[4]}"),
                       "%s", a);
    free(a);
    /* Another property with a version is a cross-tab: a 400 naming it. */
    cr_expect_null(ve_v2(&s, V2("[\"visit:browser_version\",\"visit:os\"]", ""), why));
    cr_expect_not_null(strstr(why, "visit:browser_version"), "%s", why);

    /* v1: the version and its family under their own keys. */
    a = ve_v1(&s,
              "site_id=" VSITE "&period=day&property=visit:browser_version"
              "&filters=visit:browser%3D%3DChrome",
              0);
    cr_expect_not_null(
        strstr(a,
               "\"results\":[{\"browser_version\":\"131\",\"browser\":\"Chrome\",\"visitors\":4},"
               "{\"browser_version\":\"(other)\",\"browser\":\"Chrome\",\"visitors\":3}]"),
        "%s", a);
    free(a);
    a = ve_v1(&s, "site_id=" VSITE "&period=day&property=visit:os_version", 1);
    cr_expect_not_null(strstr(a, "os,os_version,visitors\r\n"), "%s", a);
    cr_expect_not_null(strstr(a, "Windows,11,5\r\n"), "%s", a);
    free(a);

    /* What is stored: majors under their family, nothing finer. */
    struct hz_qres raw;
    hz_qres_init(&raw);
    int32_t today = hz_api_today("UTC", (int64_t)time(NULL));
    cr_assert_eq(hz_query_collect(s.t, VSITE, HZ_DIM_BROWSER_VERSION, today - 1, today, &raw), 0);
    cr_expect_eq(raw.n, 6);
    cr_expect_geq(hz_qres_find(&raw, "Chrome\037131", 10), 0);
    for (size_t i = 0; i < raw.n; i++) {
        size_t len;
        const char *v = hz_qres_value(&raw, i, &len);
        cr_expect_null(memchr(v, '.', len));
        cr_expect_not_null(memchr(v, HZ_CELL_SEP, len));
    }
    hz_qres_free(&raw);
    hz_store_rend(s.t);
    hz_agg_close(s.agg);
    ht_redis_stop(&s.rd, 0);
    ht_rmdir(s.dir);
}

/* ------------------------------------------------------------ X-Forwarded-For */

Test(untrusted_xff, a_server_side_sender_is_told_to_list_itself, .timeout = 60)
{
    struct ce env;
    static struct ce_entry en[8];
    struct ht_response r;
    int n, found = 0;

    /* The collector trusts a proxy elsewhere: loopback is a stranger. */
    ce_start(&env, 0, "trusted_proxies = 192.0.2.1\n");
    /* A backend sending for its visitor (Plausible's Events API docs). */
    cr_assert_eq(ht_http(env.port, "POST", "/api/event",
                         "Content-Type: application/json\r\nUser-Agent: " CE_CHROME "\r\n"
                         "X-Forwarded-For: 203.0.113.7\r\n",
                         PV_BODY("/server"), strlen(PV_BODY("/server")), &r),
                 0);
    cr_expect_eq(r.status, 400);
    cr_expect_not_null(strstr(r.body, "X-Forwarded-For from an untrusted sender: add its address "
                                      "to trusted_proxies"),
                       "%s", r.body);
    cr_expect_null(strstr(r.body, "203.0.113.7"), "the reason never quotes the address");
    ht_response_free(&r);
    /* Forwarded (RFC 7239) is the same thing. */
    cr_expect_eq(ce_event(&env, PV_BODY("/server"), "Forwarded: for=203.0.113.7\r\n"), 400);
    /* A browser behind a forward proxy that adds the header: counted, from
     * the address it connected from. */
    cr_expect_eq(ce_event(&env, PV_BODY("/browser"),
                          "X-Forwarded-For: 10.0.0.5\r\nSec-Fetch-Mode: no-cors\r\n"
                          "Origin: https://example.com\r\n"),
                 202);
    /* Without the header, and the pixel, as before. */
    cr_expect_eq(ce_event(&env, PV_BODY("/plain"), "X-Forwarded-For:  \r\n"), 202);
    cr_assert_eq(ht_http(env.port, "GET",
                         "/p.gif?d=example.com&u=https%3A%2F%2Fexample.com%2Fpixel",
                         "User-Agent: " CE_CHROME "\r\nX-Forwarded-For: 10.0.0.6\r\n", NULL, 0, &r),
                 0);
    cr_expect_eq(r.status, 200);
    ht_response_free(&r);

    n = ce_entries(&env, en, 8, 1);
    cr_expect_eq(n, 3);
    cr_expect_null(ve_page(en, n, "/server"));
    cr_expect_not_null(ve_page(en, n, "/browser"));
    /* The refused hits are filtered traffic under their own reason (in one
     * summary or two, as the flushes fall). */
    for (int i = 0; i < 80 && found < 2; i++) {
        found = 0;
        n = ce_entries(&env, en, 8, 0);
        for (int j = 0; j < n; j++)
            if (ce_field(&en[j], "k") && strcmp(ce_field(&en[j], "k"), "dr") == 0 &&
                strcmp(ce_field(&en[j], "n"), "untrusted_xff") == 0) {
                cr_expect_str_eq(ce_field(&en[j], "s"), "example.com");
                found += atoi(ce_field(&en[j], "ms"));
            }
        if (found < 2) {
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
        }
    }
    cr_expect_eq(found, 2, "drop summaries for untrusted_xff");
    ce_stop(&env);

    /* From a trusted proxy, the header is read as always. */
    ce_start(&env, 0, NULL);
    cr_expect_eq(ce_event(&env, PV_BODY("/server"), "X-Forwarded-For: 203.0.113.7\r\n"), 202);
    ce_stop(&env);
}
