/* SPDX-License-Identifier: MIT */
/*
 * xtab_test.c - issue 11 end to end: a scripted day XADDed to a private
 * Redis, folded by the aggregator (in process), then asked through the
 * real haze-dashboard binary: page groups, goals, conversion_rate, the
 * declared pairs (v1 and v2), the 400 that names a missing pair, and the
 * pair crowd-size rule (a differencing attack that fails). Every expected
 * number is worked out by hand in the comments.
 *
 * Site shop.test (UTC), min_visitors 2, one visit per visitor:
 *   groups   Cards: /cards*     Flyers: /flyers*      (/posters/p: none)
 *   goals    Signup (event), /thanks* ("Visit /thanks*")
 *   pairs    event:group x visit:region, event:goal x visit:source,
 *            visit:source x event:page
 *
 *   V   region  source         hits
 *   1   DE-BY   google.com     /cards/a /cards/b /thanks
 *   2   DE-BY   google.com     /cards/a  ev Signup
 *   3   DE-BY   (direct)       /flyers/x
 *   4   DE-BE   google.com     /cards/a /thanks
 *   5   DE-BE   (direct)       /flyers/x /flyers/y
 *   6   FR-IDF  bing.com       /flyers/x /thanks
 *   7   FR-IDF  bing.com       /flyers/y  ev Signup
 *   8   FR-IDF  (direct)       /cards/a
 *   9   IT-21   (direct)       /flyers/x
 *  10   FR-IDF  bing.com       /posters/p /thanks
 *  11   DE-BY   google.com     /posters/p  ev Signup
 *  12   DE-BE   bing.com       /posters/p  ev Signup
 *  13   DE-BY   google.com     /posters/p
 *
 * 13 visitors. Sources: google.com 5 (1 2 4 11 13), bing.com 4, direct 4.
 * Funnel flyers: /flyers* > /thanks, funnel_by = visit:source.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "aggregator/consume.h"
#include "common/cfg.h"
#include "common/str.h"
#include "common/tz.h"
#include "tests/integration/harness.h"
#include "tests/integration/http_client.h"
#include "tests/integration/harness.h"

TestSuite(xtab, .fini = ht_cleanup);

#define SITE   "shop.test"
#define STREAM "xtab:events"
#define TOKEN  "xtab-token-1234"

static uint64_t t0;
static int dport;
static char dlog[320]; /* the dashboard's log, shown when a request fails */

struct xv {
    const char *region, *source;
    const char *hits[4]; /* pages; "!Name" is a custom event */
};

static const struct xv visitors[] = {
    {"DE-BY", "google.com", {"/cards/a", "/cards/b", "/thanks"}},
    {"DE-BY", "google.com", {"/cards/a", "!Signup"}},
    {"DE-BY", "", {"/flyers/x"}},
    {"DE-BE", "google.com", {"/cards/a", "/thanks"}},
    {"DE-BE", "", {"/flyers/x", "/flyers/y"}},
    {"FR-IDF", "bing.com", {"/flyers/x", "/thanks"}},
    {"FR-IDF", "bing.com", {"/flyers/y", "!Signup"}},
    {"FR-IDF", "", {"/cards/a"}},
    {"IT-21", "", {"/flyers/x"}},
    {"FR-IDF", "bing.com", {"/posters/p", "/thanks"}},
    {"DE-BY", "google.com", {"/posters/p", "!Signup"}},
    {"DE-BE", "bing.com", {"/posters/p", "!Signup"}},
    {"DE-BY", "google.com", {"/posters/p"}},
};
#define NV (sizeof(visitors) / sizeof(visitors[0]))

static void
xt_script(hz_rs *rs)
{
    int n = 0;

    for (size_t v = 0; v < NV; v++) {
        char vh[17];
        (void)snprintf(vh, sizeof(vh), "%016zx", v + 1);
        for (int h = 0; h < 4 && visitors[v].hits[h] != NULL; h++) {
            const char *hit = visitors[v].hits[h];
            uint64_t t = t0 + (uint64_t)(v * 60 + (size_t)h * 10) * 1000;
            struct hz_record r = ht_rec(hit[0] == '!' ? HZ_KIND_EVENT : HZ_KIND_PAGEVIEW, t, SITE,
                                        hit[0] == '!' ? "/cards/a" : hit, vh);
            if (hit[0] == '!')
                (void)hz_strlcpy(r.name, hit + 1, sizeof(r.name));
            (void)hz_strlcpy(r.region, visitors[v].region, sizeof(r.region));
            (void)hz_strlcpy(r.source, visitors[v].source, sizeof(r.source));
            ht_xadd(rs, STREAM, &r);
            n++;
        }
    }
    ht_flush(rs, n);
}

static char xt_extra[768];

/* Folds the script and starts the dashboard over the result. */
static pid_t
xt_setup(struct ht_redis *r, char dir[64])
{
    static struct hz_config cfg;
    struct hz_err e = {0};
    char ini[256], bin[256], log[320];
    hz_agg *a;
    int32_t day0 = (int32_t)(time(NULL) / 86400);

    t0 = ((uint64_t)day0 * 86400 + 10 * 3600) * 1000;
    cr_assert_eq(ht_redis_start(r, NULL, 0), 0, "redis-server did not start");
    ht_tmpdir(dir);
    dport = ht_free_port();
    (void)snprintf(xt_extra, sizeof(xt_extra),
                   "clock_skew_seconds = 86400\n" /* the scripted day is at 10:00 UTC */
                   "[dashboard]\nuser = root\nlisten = 127.0.0.1:%d\ntoken = " TOKEN
                   "\nmin_visitors = 2\n"
                   "[site " SITE "]\ntimezone = UTC\n"
                   "group = Cards: /cards*\ngroup = Flyers: /flyers*\n"
                   "goal = Signup\ngoal = /thanks*\n"
                   "crosstab = event:group x visit:region\n"
                   "crosstab = event:goal x visit:source\n"
                   "crosstab = visit:source x event:page\n"
                   "funnel = flyers: /flyers* > /thanks\nfunnel_by = visit:source\n",
                   dport);
    ht_agg_config(ini, dir, r, STREAM, 7, xt_extra);
    hz_rs *rs = ht_rs_connect(r);
    xt_script(rs);
    hz_rs_close(rs);
    cr_assert_eq(hz_cfg_load(&cfg, ini, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_open(&a, &cfg, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_drain(a, &e), 0, "%s", e.msg);
    cr_expect_eq(hz_agg_stats(a)->malformed, 0);
    hz_agg_close(a);

    const char *bd = getenv("HZ_BIN") ? getenv("HZ_BIN") : "bin";
    (void)snprintf(bin, sizeof(bin), "%s/haze-dashboard", bd);
    (void)snprintf(log, sizeof(log), "%s/dash.log", dir);
    (void)hz_strlcpy(dlog, log, sizeof(dlog));
    const char *argv[] = {bin, "-c", ini, NULL};
    pid_t pid = ht_run(argv, log);
    cr_assert_eq(hz_httpc_wait("127.0.0.1", dport, 10000), 0, "dashboard did not start");
    return pid;
}

static void
xt_teardown(struct ht_redis *r, char dir[64], pid_t pid)
{
    kill(pid, SIGTERM);
    cr_expect_eq(ht_waitpid(pid, 10000), 0, "dashboard exits 0");
    ht_redis_stop(r, 0);
    ht_rmdir(dir);
}

/* GET or POST with the token; returns the status, *out the parsed JSON
 * (NULL unless JSON), msg the body's first 255 bytes. */
static int
xt_req(const char *method, const char *path, const char *body, json_t **out, char msg[256])
{
    struct hz_httpc_resp resp;
    json_error_t je;
    int st;

    if (hz_httpc_request("127.0.0.1", dport, method, path,
                         "Authorization: Bearer " TOKEN "\r\n"
                         "Content-Type: application/json\r\n",
                         body, body != NULL ? strlen(body) : 0, &resp) != 0) {
        char *text = ht_slurp(dlog, NULL);
        cr_assert_fail("%s %s: no answer; dashboard log:\n%s", method, path,
                       text != NULL ? text : "(none)");
    }
    st = resp.status;
    if (msg != NULL)
        (void)snprintf(msg, 256, "%s", resp.body != NULL ? resp.body : "");
    if (out != NULL)
        *out = resp.body != NULL ? json_loads(resp.body, 0, &je) : NULL;
    hz_httpc_free(&resp);
    return st;
}

/* The v1 results row whose key is value, or NULL. */
static json_t *
v1_row(json_t *j, const char *key, const char *value)
{
    size_t i;
    json_t *row;

    json_array_foreach(json_object_get(j, "results"), i, row)
    {
        const char *v = json_string_value(json_object_get(row, key));
        if (v != NULL && strcmp(v, value) == 0)
            return row;
    }
    return NULL;
}

static long long
ival(json_t *row, const char *k)
{
    cr_assert_not_null(row);
    cr_assert(json_is_integer(json_object_get(row, k)), "%s is not an integer", k);
    return json_integer_value(json_object_get(row, k));
}

static double
rval(json_t *row, const char *k)
{
    cr_assert_not_null(row);
    cr_assert(json_is_number(json_object_get(row, k)), "%s is not a number", k);
    return json_number_value(json_object_get(row, k));
}

#define BD "/api/v1/stats/breakdown?site_id=" SITE "&period=day"

Test(xtab, groups_goals_pairs_exact, .timeout = 90)
{
    struct ht_redis r;
    char dir[64], msg[256];
    json_t *j, *row;
    pid_t pid = xt_setup(&r, dir);

    /* Groups. Cards: pageviews 1 1 1 1 + V1's /cards/b = 5, visitors 1 2 4 8;
     * entered by V1 (3 pv), V2 (1 pv and a Signup: a custom event ends a
     * bounce), V4 (2), V8 (1): 1 bounce of 4 = 25 %.
     * Flyers: visitors 3 5 6 7 9, pageviews 6 (V5 two); entered by all
     * five, V5 and V6 have 2 pageviews, V7 a Signup: 2 bounces of 5 = 40 %. */
    cr_assert_eq(xt_req("GET",
                        BD "&property=event:group&metrics=visitors,visits,pageviews,"
                           "bounce_rate",
                        NULL, &j, msg),
                 200, "%s", msg);
    row = v1_row(j, "group", "Cards");
    cr_expect_eq(ival(row, "visitors"), 4);
    cr_expect_eq(ival(row, "visits"), 4);
    cr_expect_eq(ival(row, "pageviews"), 5);
    cr_expect_eq(ival(row, "bounce_rate"), 25);
    row = v1_row(j, "group", "Flyers");
    cr_expect_eq(ival(row, "visitors"), 5);
    cr_expect_eq(ival(row, "pageviews"), 6);
    cr_expect_eq(ival(row, "bounce_rate"), 40);
    cr_expect_eq(json_array_size(json_object_get(j, "results")), 2, "posters: no group");
    json_decref(j);

    /* Goals: 4 of 13 visitors each = 30.8 %. */
    cr_assert_eq(xt_req("GET", BD "&property=event:goal&metrics=visitors,events,conversion_rate",
                        NULL, &j, msg),
                 200, "%s", msg);
    row = v1_row(j, "goal", "Signup");
    cr_expect_eq(ival(row, "visitors"), 4);
    cr_expect_eq(ival(row, "events"), 4);
    cr_expect_float_eq(rval(row, "conversion_rate"), 30.8, 1e-9);
    row = v1_row(j, "goal", "Visit /thanks*");
    cr_expect_eq(ival(row, "visitors"), 4);
    cr_expect_float_eq(rval(row, "conversion_rate"), 30.8, 1e-9);
    json_decref(j);
    cr_assert_eq(xt_req("GET",
                        "/api/v1/stats/aggregate?site_id=" SITE "&period=day&metrics=visitors,"
                        "conversion_rate&filters=event:goal%3D%3DSignup",
                        NULL, &j, msg),
                 200, "%s", msg);
    row = json_object_get(json_object_get(j, "results"), "conversion_rate");
    cr_expect_float_eq(rval(row, "value"), 30.8, 1e-9);
    json_decref(j);

    /* Conversion rate by source (pair event:goal x visit:source): Signup
     * by V2 V11 (google.com, 5 visitors) = 40.0, V7 V12 (bing.com, 4) =
     * 50.0. Every goal x source cell has 2 visitors: nothing folds. */
    cr_assert_eq(xt_req("GET",
                        BD "&property=visit:source&filters=event:goal%3D%3DSignup&metrics="
                           "visitors,events,conversion_rate",
                        NULL, &j, msg),
                 200, "%s", msg);
    row = v1_row(j, "source", "google.com");
    cr_expect_eq(ival(row, "visitors"), 2);
    cr_expect_eq(ival(row, "events"), 2);
    cr_expect_float_eq(rval(row, "conversion_rate"), 40.0, 1e-9);
    row = v1_row(j, "source", "bing.com");
    cr_expect_float_eq(rval(row, "conversion_rate"), 50.0, 1e-9);
    cr_expect_eq(json_array_size(json_object_get(j, "results")), 2);
    json_decref(j);

    /* Pages read by visitors from google.com (visit:source x event:page).
     * Cells: google /cards/a 3, /cards/b 1, /thanks 2, /posters/p 2;
     * direct /flyers/x 3, /flyers/y 1, /cards/a 1; bing /flyers/x 1,
     * /flyers/y 1, /thanks 2, /posters/p 2. Under 2: 5 cells. Then rows
     * and columns with one folded cell fold their smallest visible cell:
     * google row -> /posters/p, /cards/a column -> google, /flyers/x column
     * -> direct; then the /posters/p column -> bing. Left: /thanks x2.
     * google's (other): /cards/a 3 + /cards/b 1 + /posters/p 2 = 6. */
    cr_assert_eq(xt_req("GET",
                        BD "&property=event:page&filters=visit:source%3D%3Dgoogle.com&metrics="
                           "visitors,pageviews",
                        NULL, &j, msg),
                 200, "%s", msg);
    cr_expect_eq(json_array_size(json_object_get(j, "results")), 2, "%s", msg);
    row = v1_row(j, "page", "/thanks");
    cr_expect_eq(ival(row, "visitors"), 2);
    cr_expect_eq(ival(row, "pageviews"), 2);
    row = v1_row(j, "page", "(other)");
    cr_expect_eq(ival(row, "visitors"), 6);
    cr_expect_eq(ival(row, "pageviews"), 6);
    cr_expect_eq(ival(j, "folded"), 9);
    {
        char today[11];
        hz_date_format((int32_t)(t0 / 86400000), today);
        cr_expect_str_eq(json_string_value(json_object_get(j, "pair_since")), today);
    }
    json_decref(j);

    /* v2: two dimensions. group x region cells: Cards DE-BY 2, DE-BE 1,
     * FR-IDF 1; Flyers DE-BY 1, DE-BE 1, FR-IDF 2, IT-21 1. Flyers' two
     * German regions move into "DE" (1 + 1 = 2); Cards DE-BE, Cards FR-IDF
     * and Flyers IT-21 fold; Flyers has one folded cell, so its smallest
     * visible cell (FR-IDF, 2) folds too. (other) = 1 + 1 + 1 + 2 = 5 visitors
     * and 1 + 1 + 1 + 2 = 5 pageviews; DE has V3's 1 and V5's 2. (other)
     * is ordered like any row (Plausible's order_by): first, by visitors. */
    cr_assert_eq(xt_req("POST", "/api/v2/query",
                        "{\"site_id\":\"" SITE "\",\"date_range\":\"day\",\"metrics\":"
                        "[\"visitors\",\"pageviews\"],\"dimensions\":[\"event:group\","
                        "\"visit:region\"]}",
                        &j, msg),
                 200, "%s", msg);
    {
        json_t *res = json_object_get(j, "results");
        cr_assert_eq(json_array_size(res), 3, "%s", msg);
        const char *want[3][2] = {{"(other)", "(other)"}, {"Cards", "DE-BY"}, {"Flyers", "DE"}};
        long long wv[3] = {5, 2, 2}, wp[3] = {5, 3, 3};
        for (size_t i = 0; i < 3; i++) {
            json_t *dims = json_object_get(json_array_get(res, i), "dimensions");
            json_t *mets = json_object_get(json_array_get(res, i), "metrics");
            cr_expect_str_eq(json_string_value(json_array_get(dims, 0)), want[i][0]);
            cr_expect_str_eq(json_string_value(json_array_get(dims, 1)), want[i][1]);
            cr_expect_eq(json_integer_value(json_array_get(mets, 0)), wv[i], "row %zu", i);
            cr_expect_eq(json_integer_value(json_array_get(mets, 1)), wp[i], "row %zu", i);
        }
    }
    json_decref(j);

    /* v2 filter + dimension, CSV of the same through v1. */
    cr_assert_eq(xt_req("POST", "/api/v2/query",
                        "{\"site_id\":\"" SITE "\",\"date_range\":\"day\",\"metrics\":"
                        "[\"visitors\"],\"dimensions\":[\"visit:region\"],\"filters\":[[\"is\","
                        "\"event:group\",[\"Cards\"]]]}",
                        &j, msg),
                 200, "%s", msg);
    cr_expect_eq(json_array_size(json_object_get(j, "results")), 2, "DE-BY and (other)");
    json_decref(j);

    /* Lift = (cell / the region's visitors) / (the group's visitors / all
     * 13). Cards x DE-BY: (2 / 5) / (4 / 13) = 1.30. Flyers x DE (the
     * country: DE-BY 5 + DE-BE 3 = 8): (2 / 8) / (5 / 13) = 0.65. */
    cr_assert_eq(xt_req("POST", "/api/v2/query",
                        "{\"site_id\":\"" SITE "\",\"date_range\":\"day\",\"metrics\":"
                        "[\"visitors\",\"lift\"],\"dimensions\":[\"event:group\","
                        "\"visit:region\"]}",
                        &j, msg),
                 200, "%s", msg);
    {
        json_t *res = json_object_get(j, "results");
        double want[3] = {-1, 1.3, 0.65}; /* (other) first, as above */
        for (size_t i = 0; i < 3; i++) {
            json_t *l = json_array_get(json_object_get(json_array_get(res, i), "metrics"), 1);
            if (want[i] < 0)
                cr_expect(json_is_null(l), "(other) has no lift");
            else
                cr_expect_float_eq(json_number_value(l), want[i], 1e-9, "row %zu", i);
        }
    }
    json_decref(j);
    cr_assert_eq(xt_req("GET",
                        BD "&property=visit:region&filters=event:group%3D%3DCards&metrics="
                           "visitors,lift",
                        NULL, &j, msg),
                 200, "%s", msg);
    cr_expect_float_eq(rval(v1_row(j, "region", "DE-BY"), "lift"), 1.3, 1e-9);
    json_decref(j);

    /* When visitors come: every hit is at 10:xx UTC today; 13 visits and
     * 19 pageviews (3 1 1 2 2 2 1 1 1 2 1 1 1) in that one cell of 168. */
    cr_assert_eq(xt_req("POST", "/api/v2/query",
                        "{\"site_id\":\"" SITE "\",\"date_range\":\"day\",\"metrics\":"
                        "[\"visits\",\"pageviews\"],\"dimensions\":[\"time:weekday\","
                        "\"time:hour_of_day\"]}",
                        &j, msg),
                 200, "%s", msg);
    {
        json_t *res = json_object_get(j, "results"), *e;
        int32_t day0 = (int32_t)(t0 / 86400000);
        char wd[4];
        size_t k;
        long long sv = 0, sp = 0;
        (void)snprintf(wd, sizeof(wd), "%d", (int)((day0 + 3) % 7) + 1);
        cr_assert_eq(json_array_size(res), 168);
        json_array_foreach(res, k, e)
        {
            json_t *d = json_object_get(e, "dimensions"), *m = json_object_get(e, "metrics");
            long long v = json_integer_value(json_array_get(m, 0));
            long long pv = json_integer_value(json_array_get(m, 1));
            sv += v;
            sp += pv;
            if (strcmp(json_string_value(json_array_get(d, 0)), wd) == 0 &&
                strcmp(json_string_value(json_array_get(d, 1)), "10") == 0) {
                cr_expect_eq(v, 13);
                cr_expect_eq(pv, 19);
            }
        }
        cr_expect_eq(sv, 13, "no visit anywhere else");
        cr_expect_eq(sp, 19);
    }
    json_decref(j);
    cr_assert_eq(xt_req("POST", "/api/v2/query",
                        "{\"site_id\":\"" SITE "\",\"date_range\":\"day\",\"metrics\":"
                        "[\"visitors\"],\"dimensions\":[\"time:hour_of_day\"]}",
                        NULL, msg),
                 400);
    cr_expect(strstr(msg, "the heatmap counts visits or pageviews") != NULL, "%s", msg);

    /* CSV of a one-property group breakdown and of a pair breakdown. */
    cr_assert_eq(xt_req("GET", BD "&property=event:group&metrics=visitors,pageviews&format=csv",
                        NULL, NULL, msg),
                 200);
    cr_expect(strncmp(msg, "group,visitors,pageviews", 24) == 0, "%s", msg);
    cr_expect(strstr(msg, "Cards,4,5") != NULL && strstr(msg, "Flyers,5,6") != NULL, "%s", msg);
    cr_assert_eq(xt_req("GET",
                        BD "&property=visit:region&filters=event:group%3D%3DCards&metrics=visitors"
                           "&format=csv",
                        NULL, NULL, msg),
                 200);
    cr_expect(strstr(msg, "DE-BY,2") != NULL && strstr(msg, "(other),2") != NULL, "%s", msg);

    /* No pair covers group x device: a 400 naming the line to add. */
    cr_assert_eq(
        xt_req("GET", BD "&property=visit:device&filters=event:group%3D%3DCards", NULL, NULL, msg),
        400);
    cr_expect(strstr(msg, "crosstab = event:group x visit:device") != NULL, "%s", msg);

    xt_teardown(&r, dir, pid);
}

/*
 * Funnels by segment. flyers: /flyers* by V3 V5 V9 (direct), V6 V7 (bing)
 * = 5; /thanks after it by V6 only = 1, a drop of 80 %. Direct drops 3 of
 * 3 (100 %, 10 points or more above 80 %: named); bing 1 of 2 (50 %).
 */
Test(xtab, funnels_by_segment, .timeout = 90)
{
    struct ht_redis r;
    char dir[64], msg[256];
    json_t *j, *f, *st;
    pid_t pid = xt_setup(&r, dir);

    cr_assert_eq(
        xt_req("GET", "/api/v1/funnels?site_id=" SITE "&period=day&funnel=flyers", NULL, &j, msg),
        200, "%s", msg);
    f = json_array_get(json_object_get(j, "results"), 0);
    st = json_object_get(f, "steps");
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(st, 0), "visitors")), 5);
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(st, 1), "visitors")), 1);
    json_t *seg = json_object_get(f, "biggest_dropoff_segment");
    cr_assert(json_is_object(seg), "%s", msg);
    cr_expect_str_eq(json_string_value(json_object_get(seg, "property")), "visit:source");
    cr_expect_str_eq(json_string_value(json_object_get(seg, "value")), "Direct / None");
    cr_expect_float_eq(json_number_value(json_object_get(seg, "dropoff_rate")), 100.0, 1e-9);
    json_decref(j);

    cr_assert_eq(xt_req("GET",
                        "/api/v1/funnels?site_id=" SITE "&period=day&funnel=flyers&filters="
                        "visit:source%3D%3Dbing.com",
                        NULL, &j, msg),
                 200, "%s", msg);
    f = json_array_get(json_object_get(j, "results"), 0);
    st = json_object_get(f, "steps");
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(st, 0), "visitors")), 2);
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(st, 1), "visitors")), 1);
    cr_expect(json_is_false(json_object_get(f, "withheld")));
    json_decref(j);

    /* google.com never entered this funnel: under min_visitors, withheld. */
    cr_assert_eq(xt_req("GET",
                        "/api/v1/funnels?site_id=" SITE "&period=day&funnel=flyers&filters="
                        "visit:source%3D%3Dgoogle.com",
                        NULL, &j, msg),
                 200, "%s", msg);
    f = json_array_get(json_object_get(j, "results"), 0);
    cr_expect(json_is_true(json_object_get(f, "withheld")));
    json_decref(j);

    cr_assert_eq(xt_req("GET",
                        "/api/v1/funnels?site_id=" SITE "&period=day&filters=visit:device%3D%3D"
                        "mobile",
                        NULL, NULL, msg),
                 400);
    cr_expect(strstr(msg, "funnels are kept per visit:source (funnel_by)") != NULL, "%s", msg);
    xt_teardown(&r, dir, pid);
}

/*
 * The attacker knows the one-property rows (groups, regions) and may ask
 * the pair from both sides. Flyers x IT-21 holds one visitor (V9). Without
 * complementary suppression, Flyers' (other) would be that cell alone and
 * "Flyers visitors - shown cells" would give it too. Every way of
 * subtracting what is shown must miss 1.
 */
Test(xtab, differencing_does_not_recover_a_folded_cell, .timeout = 90)
{
    struct ht_redis r;
    char dir[64], msg[256];
    json_t *j, *row;
    pid_t pid = xt_setup(&r, dir);
    long long flyers, shown = 0, other = -1, it = -1;
    size_t i;

    cr_assert_eq(xt_req("GET", BD "&property=event:group&metrics=visitors", NULL, &j, msg), 200);
    flyers = ival(v1_row(j, "group", "Flyers"), "visitors");
    cr_expect_eq(flyers, 5);
    json_decref(j);

    cr_assert_eq(xt_req("GET",
                        BD "&property=visit:region&filters=event:group%3D%3DFlyers&metrics="
                           "visitors",
                        NULL, &j, msg),
                 200, "%s", msg);
    json_array_foreach(json_object_get(j, "results"), i, row)
    {
        const char *v = json_string_value(json_object_get(row, "region"));
        if (strcmp(v, "(other)") == 0)
            other = ival(row, "visitors");
        else
            shown += ival(row, "visitors");
        if (strcmp(v, "IT-21") == 0)
            it = ival(row, "visitors");
    }
    json_decref(j);
    cr_expect_eq(it, -1, "the folded cell is not shown");
    cr_expect_eq(shown, 2, "only DE (2) is shown");
    cr_expect_eq(other, 3, "(other) holds IT-21 and FR-IDF");
    cr_expect_neq(flyers - shown, 1, "subtracting from the group's row misses the cell");
    cr_expect_neq(other, 1);

    /* From the other side: region IT-21 by group has a single folded cell,
     * so its (other) carries no numbers. */
    cr_assert_eq(xt_req("GET",
                        BD "&property=event:group&filters=visit:region%3D%3DIT-21&metrics="
                           "visitors",
                        NULL, &j, msg),
                 200, "%s", msg);
    row = v1_row(j, "group", "(other)");
    cr_assert_not_null(row, "%s", msg);
    cr_expect(json_is_null(json_object_get(row, "visitors")), "withheld: %s", msg);
    cr_expect_null(v1_row(j, "group", "Flyers"));
    json_decref(j);

    /* privacy.json lists the pairs and the threshold. */
    cr_assert_eq(xt_req("GET", "/privacy.json", NULL, &j, msg), 200);
    json_t *pairs = json_object_get(j, "pairs");
    cr_expect_eq(json_array_size(pairs), 3);
    json_t *p0 = json_array_get(pairs, 0);
    cr_expect_str_eq(json_string_value(json_array_get(json_object_get(p0, "properties"), 0)),
                     "event:group");
    cr_expect_str_eq(json_string_value(json_array_get(json_object_get(p0, "properties"), 1)),
                     "visit:region");
    cr_expect_eq(json_integer_value(json_object_get(p0, "min_visitors")), 2);
    json_decref(j);

    xt_teardown(&r, dir, pid);
}
