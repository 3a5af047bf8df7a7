/* SPDX-License-Identifier: MIT */
/*
 * plausible_events_test.c - issue 13: what Plausible's Events API docs and
 * its trackers send, through the real collector (what reaches the stream),
 * and through the aggregator into the store and the query engine (what a
 * Stats API client then reads).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregator/consume.h"
#include "aggregator/fold.h"
#include "common/cfg.h"
#include "common/store.h"
#include "common/str.h"
#include "dashboard/api.h"
#include "dashboard/query.h"
#include "tests/integration/collector_env.h"
#include "tests/integration/harness.h"

/* ------------------------------------------------------------ collector */

/* The entry whose field f is v, or NULL. */
static const struct ce_entry *
pe_find(const struct ce_entry *en, int n, const char *f, const char *v)
{
    for (int i = 0; i < n; i++) {
        const char *x = ce_field(&en[i], f);
        if (x != NULL && strcmp(x, v) == 0)
            return &en[i];
    }
    return NULL;
}

Test(plausible_events, documented_requests_reach_the_stream, .timeout = 60)
{
    struct ce env;
    static struct ce_entry en[8];
    const struct ce_entry *e;
    int n;

    ce_start_tail(&env, 0, NULL, "props = plan, author\n");
    /* The docs' pageview, long field names. */
    cr_assert_eq(ce_event(&env,
                          "{\"name\":\"pageview\",\"url\":\"https://example.com/docs\","
                          "\"domain\":\"example.com\",\"referrer\":\"https://news.example/x\"}",
                          "Content-Type: application/json\r\n"),
                 202);
    /* A custom event with props; one off the allow-list, one an e-mail. */
    cr_assert_eq(ce_event(&env,
                          "{\"name\":\"Signup\",\"url\":\"https://example.com/join\","
                          "\"domain\":\"example.com\",\"props\":{\"plan\":\"Pro\","
                          "\"author\":\"jane.doe@example.org\",\"logged_in\":\"true\"},"
                          "\"interactive\":false}",
                          NULL),
                 202);
    /* props as a JSON string, as the docs allow. */
    cr_assert_eq(ce_event(&env,
                          "{\"name\":\"Download\",\"url\":\"https://example.com/files\","
                          "\"domain\":\"example.com\",\"props\":\"{\\\"plan\\\":\\\"Free\\\"}\"}",
                          NULL),
                 202);
    /* An app SDK's URL. */
    cr_assert_eq(ce_event(&env,
                          "{\"name\":\"pageview\",\"url\":\"app://localhost/login\","
                          "\"domain\":\"example.com\"}",
                          NULL),
                 202);
    /* The tracker's engagement event with scroll depth. */
    cr_assert_eq(ce_event(&env,
                          "{\"n\":\"engagement\",\"u\":\"https://example.com/docs\","
                          "\"d\":\"example.com\",\"e\":1500,\"sd\":80}",
                          NULL),
                 202);
    /* Both spellings of one field: ambiguous. */
    cr_assert_eq(ce_event(&env,
                          "{\"n\":\"pageview\",\"name\":\"pageview\",\"url\":\"https://"
                          "example.com/\",\"domain\":\"example.com\"}",
                          NULL),
                 400);

    n = ce_entries(&env, en, 8, 1);
    cr_assert_eq(n, 5);
    cr_assert_not_null(e = pe_find(en, n, "p", "/docs"));
    cr_assert_str_eq(ce_field(e, "k"), "pv");
    cr_assert_str_eq(ce_field(e, "src"), "news.example");
    cr_assert_not_null(e = pe_find(en, n, "n", "Signup"));
    cr_assert_str_eq(ce_field(e, "pr"), "plan\x1fPro\x1e"
                                        "author\x1f:email");
    cr_assert_str_eq(ce_field(e, "pd"), "1");
    cr_assert_str_eq(ce_field(e, "ni"), "1");
    cr_assert_not_null(e = pe_find(en, n, "n", "Download"));
    cr_assert_str_eq(ce_field(e, "pr"), "plan\x1f"
                                        "Free");
    cr_assert_null(ce_field(e, "ni"));
    cr_assert_not_null(e = pe_find(en, n, "p", "/login"));
    cr_assert_str_eq(ce_field(e, "s"), "example.com");
    cr_assert_not_null(e = pe_find(en, n, "k", "en"));
    cr_assert_str_eq(ce_field(e, "sd"), "80");
    for (int i = 0; i < n; i++)
        for (int f = 0; f < en[i].n; f++) {
            cr_assert_null(strstr(en[i].val[f], "jane"));
            cr_assert_null(strstr(en[i].val[f], "logged_in"));
        }
    ce_stop(&env);
}

/* ------------------------------------------------------------ aggregator + query */

#define PSITE   "props.test"
#define PSTREAM "props:events"

static const char pe_sites[] = "[site " PSITE "]\ntimezone = UTC\nprops = plan, author\n";

static int pe_n;

static void
pe_add(hz_rs *rs, struct hz_record *r)
{
    ht_xadd(rs, PSTREAM, r);
    pe_n++;
}

/* Runs q (parsed from a v2 body) over the store. */
static void
pe_query(hz_rtxn *t, const struct hz_config *cfg, const char *body, struct hz_query *q,
         struct hz_qres *r)
{
    struct hz_qopts o = {1, 400}; /* min_visitors 1: the rows are few here */
    struct hz_err err = {0};

    cr_assert_eq(hz_api_parse_v2(body, strlen(body), cfg, (int64_t)time(NULL), q, &err), 0, "%s",
                 err.msg);
    hz_qres_init(r);
    cr_assert_eq(hz_query_run(t, q, &o, r, &err), 0, "%s", err.msg);
}

/* The rendered v2 answer of body (malloc'd). */
static char *
pe_v2(hz_rtxn *t, const struct hz_config *cfg, const char *body)
{
    struct hz_query *q = calloc(1, sizeof(*q));
    struct hz_qres r;
    struct hz_jsonw w;
    size_t len;
    char *out;

    cr_assert_not_null(q);
    pe_query(t, cfg, body, q, &r);
    hz_jsonw_init(&w);
    hz_api_v2(&w, q, &r, 1);
    out = hz_jsonw_take(&w, &len);
    hz_qres_free(&r);
    free(q);
    return out;
}

Test(plausible_events, props_bounce_and_scroll_depth_are_counted, .timeout = 60)
{
    struct ht_redis rd;
    char dir[64], ini[256], *a;
    static struct hz_config cfg;
    struct hz_err e = {0};
    /* Today, and not ahead of now (the aggregator refuses the future):
     * ten minutes ago, or just after midnight when that was yesterday. */
    uint64_t now_ms = (uint64_t)time(NULL) * 1000, day_ms = now_ms / 86400000 * 86400000;
    uint64_t t0 = now_ms - 600000 >= day_ms ? now_ms - 600000 : day_ms + 1000;
    hz_agg *agg;
    hz_rtxn *t;
    hz_rs *rs;
    struct hz_record r;

    cr_assert_eq(ht_redis_start(&rd, NULL, 0), 0, "redis-server did not start");
    ht_tmpdir(dir);
    ht_agg_config(ini, dir, &rd, PSTREAM, 4, pe_sites);
    rs = ht_rs_connect(&rd);

    /* A: one page, then an interactive custom event with props: not a bounce. */
    r = ht_rec(HZ_KIND_PAGEVIEW, t0, PSITE, "/pricing", "aaaaaaaaaaaaaaaa");
    pe_add(rs, &r);
    r = ht_rec(HZ_KIND_EVENT, t0 + 5000, PSITE, "/pricing", "aaaaaaaaaaaaaaaa");
    (void)hz_strlcpy(r.name, "Signup", sizeof(r.name));
    cr_assert_eq(hz_record_prop_add(&r, "plan", 4, "Pro", 3), 0);
    r.props_dropped = 2;
    pe_add(rs, &r);
    /* B: one page, a non-interactive event: still a bounce. */
    r = ht_rec(HZ_KIND_PAGEVIEW, t0 + 1000, PSITE, "/pricing", "bbbbbbbbbbbbbbbb");
    pe_add(rs, &r);
    r = ht_rec(HZ_KIND_EVENT, t0 + 6000, PSITE, "/pricing", "bbbbbbbbbbbbbbbb");
    (void)hz_strlcpy(r.name, "Scrolled", sizeof(r.name));
    cr_assert_eq(hz_record_prop_add(&r, "plan", 4, "Free", 4), 0);
    r.noninteractive = 1;
    pe_add(rs, &r);
    /* C: a pageview with a prop, then two pages: not a bounce (once). */
    r = ht_rec(HZ_KIND_PAGEVIEW, t0 + 2000, PSITE, "/pricing", "cccccccccccccccc");
    cr_assert_eq(hz_record_prop_add(&r, "author", 6, "ann", 3), 0);
    pe_add(rs, &r);
    r = ht_rec(HZ_KIND_EVENT, t0 + 3000, PSITE, "/pricing", "cccccccccccccccc");
    (void)hz_strlcpy(r.name, "Signup", sizeof(r.name));
    cr_assert_eq(hz_record_prop_add(&r, "plan", 4, "Pro", 3), 0);
    pe_add(rs, &r);
    r = ht_rec(HZ_KIND_PAGEVIEW, t0 + 9000, PSITE, "/thanks", "cccccccccccccccc");
    pe_add(rs, &r);
    /* D: a campaign visit from another site, on an alias host. */
    r = ht_rec(HZ_KIND_PAGEVIEW, t0 + 4000, PSITE, "/", "dddddddddddddddd");
    (void)hz_strlcpy(r.utm_content, "banner", sizeof(r.utm_content));
    (void)hz_strlcpy(r.utm_term, "flyers", sizeof(r.utm_term));
    (void)hz_strlcpy(r.referrer, "news.example", sizeof(r.referrer));
    (void)hz_strlcpy(r.hostname, "www." PSITE, sizeof(r.hostname));
    pe_add(rs, &r);
    /* Scroll depth from engagement events on /pricing: 40, 80, 90. */
    int depths[] = {40, 80, 90};
    const char *who[] = {"aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "cccccccccccccccc"};
    for (int i = 0; i < 3; i++) {
        r = ht_rec(HZ_KIND_ENGAGEMENT, t0 + 8000 + (uint64_t)i, PSITE, "/pricing", who[i]);
        r.ms = 4000;
        r.has_scroll = 1;
        r.scroll_depth = depths[i];
        pe_add(rs, &r);
    }

    ht_flush(rs, pe_n);
    cr_assert_eq(hz_cfg_load(&cfg, ini, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_open(&agg, &cfg, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_drain(agg, &e), 0, "%s", e.msg);
    cr_expect_eq(hz_agg_stats(agg)->malformed, 0);
    cr_expect_eq(hz_agg_stats(agg)->applied, (uint64_t)pe_n);
    cr_assert_eq(hz_store_rbegin(hz_agg_store(agg), &t, &e), 0, "%s", e.msg);

    /* event:props:plan as Plausible's docs ask for it. */
    a = pe_v2(t, &cfg,
              "{\"site_id\":\"" PSITE "\",\"metrics\":[\"visitors\",\"events\"],"
              "\"date_range\":\"day\",\"dimensions\":[\"event:props:plan\"]}");
    cr_assert_not_null(strstr(a, "\"results\":[{\"dimensions\":[\"Pro\"],\"metrics\":[2,2]},"
                                 "{\"dimensions\":[\"Free\"],\"metrics\":[1,1]}]"),
                       "%s", a);
    cr_assert_not_null(strstr(a, "\"dimensions\":[\"event:props:plan\"]"), "%s", a);
    free(a);
    a = pe_v2(t, &cfg,
              "{\"site_id\":\"" PSITE "\",\"metrics\":[\"visitors\",\"pageviews\"],"
              "\"date_range\":\"day\",\"dimensions\":[\"event:props:author\"]}");
    cr_assert_not_null(strstr(a, "\"results\":[{\"dimensions\":[\"ann\"],\"metrics\":[1,1]}]"),
                       "%s", a);
    free(a);
    /* Filtering by a prop value. */
    a = pe_v2(t, &cfg,
              "{\"site_id\":\"" PSITE "\",\"metrics\":[\"visitors\"],\"date_range\":\"day\","
              "\"filters\":[[\"is\",\"event:props:plan\",[\"Pro\"]]]}");
    cr_assert_not_null(strstr(a, "\"results\":[{\"dimensions\":[],\"metrics\":[2]}]"), "%s", a);
    free(a);
    /* Bounce rate: A and C engaged, B and D bounced: 2 of 4 visits. */
    a = pe_v2(t, &cfg,
              "{\"site_id\":\"" PSITE "\",\"metrics\":[\"visits\",\"bounce_rate\"],"
              "\"date_range\":\"day\"}");
    cr_assert_not_null(strstr(a, "\"metrics\":[4,50]"), "%s", a);
    free(a);
    /* Scroll depth of /pricing: (40 + 80 + 90) / 3 = 70. */
    a = pe_v2(t, &cfg,
              "{\"site_id\":\"" PSITE "\",\"metrics\":[\"visitors\",\"scroll_depth\"],"
              "\"date_range\":\"day\",\"dimensions\":[\"event:page\"]}");
    cr_assert_not_null(strstr(a, "{\"dimensions\":[\"\\/pricing\"],\"metrics\":[3,70]}"), "%s", a);
    cr_assert_not_null(strstr(a, "{\"dimensions\":[\"\\/thanks\"],\"metrics\":[1,null]}"), "%s", a);
    free(a);
    /* visit:utm_content, visit:utm_term, visit:referrer, event:hostname. */
    a = pe_v2(t, &cfg,
              "{\"site_id\":\"" PSITE "\",\"metrics\":[\"visitors\",\"visits\"],"
              "\"date_range\":\"day\",\"dimensions\":[\"visit:utm_content\"]}");
    cr_assert_not_null(strstr(a, "\"results\":[{\"dimensions\":[\"banner\"],\"metrics\":[1,1]}]"),
                       "%s", a);
    free(a);
    a = pe_v2(t, &cfg,
              "{\"site_id\":\"" PSITE "\",\"metrics\":[\"visitors\"],"
              "\"date_range\":\"day\",\"dimensions\":[\"visit:utm_term\"]}");
    cr_assert_not_null(strstr(a, "\"results\":[{\"dimensions\":[\"flyers\"],\"metrics\":[1]}]"),
                       "%s", a);
    free(a);
    a = pe_v2(t, &cfg,
              "{\"site_id\":\"" PSITE "\",\"metrics\":[\"visitors\",\"bounce_rate\"],"
              "\"date_range\":\"day\",\"dimensions\":[\"visit:referrer\"]}");
    cr_assert_not_null(
        strstr(a, "\"results\":[{\"dimensions\":[\"news.example\"],\"metrics\":[1,100]}]"), "%s",
        a);
    free(a);
    a = pe_v2(t, &cfg,
              "{\"site_id\":\"" PSITE "\",\"metrics\":[\"visitors\",\"pageviews\"],"
              "\"date_range\":\"day\",\"dimensions\":[\"event:hostname\"]}");
    cr_assert_not_null(
        strstr(a, "\"results\":[{\"dimensions\":[\"www." PSITE "\"],\"metrics\":[1,1]}]"), "%s", a);
    free(a);
    /* Dropped props are filtered traffic under their own reason. */
    {
        struct hz_qres d;
        long i;
        int32_t day = (int32_t)(t0 / 1000 / 86400);
        hz_qres_init(&d);
        cr_assert_eq(hz_query_collect(t, PSITE, HZ_DIM_DROP, day, day, &d), 0);
        i = hz_qres_find(&d, HZ_FOLD_PROP_DROPPED, strlen(HZ_FOLD_PROP_DROPPED));
        cr_assert_geq(i, 0);
        cr_assert_eq(d.rows[i].c.events, 2);
        hz_qres_free(&d);
    }
    /* A prop the site does not keep is not a dimension. */
    {
        struct hz_query *q = calloc(1, sizeof(*q));
        static const char body[] = "{\"site_id\":\"" PSITE "\",\"metrics\":[\"visitors\"],"
                                   "\"date_range\":\"day\",\"dimensions\":[\"event:props:x\"]}";
        cr_assert_eq(hz_api_parse_v2(body, strlen(body), &cfg, (int64_t)time(NULL), q, &e),
                     HZ_EINVAL);
        cr_assert_str_eq(e.msg, "dimensions: unknown dimension");
        free(q);
    }
    hz_store_rend(t);
    hz_agg_close(agg);
    hz_rs_close(rs);
    ht_redis_stop(&rd, 0);
    ht_rmdir(dir);
}
