/* SPDX-License-Identifier: MIT */
/*
 * fold_test.c - the minimum crowd size: small rows fold into "(other)",
 * regions fall back to their country first, the store's own "(other)" row
 * absorbs the fold, exit pages count exits; then metric values, changes,
 * filters and ordering with pagination.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "dashboard/query.h"

/* Adds a row with visitors v (and visits v, pageviews 2v). */
static size_t
row(struct hz_qres *r, const char *value, uint64_t v)
{
    size_t i = hz_qres_row(r, value, strlen(value));

    r->rows[i].c.visitors = v;
    r->rows[i].c.visits = v;
    r->rows[i].c.pageviews = 2 * v;
    return i;
}

static long
find(const struct hz_qres *r, const char *value)
{
    return hz_qres_find(r, value, strlen(value));
}

/* Visible rows (not hidden). */
static size_t
visible(const struct hz_qres *r)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n; i++)
        n += !r->rows[i].hidden;
    return n;
}

Test(fold, small_rows_go_to_other)
{
    struct hz_qres r;
    long o;

    hz_qres_init(&r);
    row(&r, "/a", 10);
    row(&r, "/b", 5);
    row(&r, "/c", 4);
    row(&r, "/d", 1);
    cr_assert_eq(hz_query_fold(&r, HZ_P_PAGE, 5), 2);
    o = find(&r, HZ_OTHER_VALUE);
    cr_assert_geq(o, 0);
    cr_assert(r.rows[o].other);
    cr_assert_eq(r.rows[o].c.visitors, 5);
    cr_assert_eq(r.rows[o].c.pageviews, 10);
    cr_assert_eq(visible(&r), 3);
    cr_assert(r.rows[find(&r, "/c")].hidden);
    cr_assert_eq(r.rows[find(&r, "/c")].dest, o);
    cr_assert_not(r.rows[find(&r, "/b")].hidden);
    hz_qres_free(&r);
}

Test(fold, nothing_small_means_no_other_row)
{
    struct hz_qres r;

    hz_qres_init(&r);
    row(&r, "/a", 10);
    row(&r, "/b", 5);
    cr_assert_eq(hz_query_fold(&r, HZ_P_PAGE, 5), 0);
    cr_assert_eq(find(&r, HZ_OTHER_VALUE), -1);
    cr_assert_eq(visible(&r), 2);
    hz_qres_free(&r);
}

Test(fold, regions_fall_back_to_their_country)
{
    struct hz_qres r;
    long de, fr, o;

    hz_qres_init(&r);
    row(&r, "DE-BY", 3);
    row(&r, "DE-BE", 2);
    row(&r, "DE", 1);
    row(&r, "FR-IDF", 2);
    row(&r, "IT", 2);
    row(&r, "IT-21", 1);
    row(&r, "US-CA", 9);
    row(&r, "", 1);
    /* DE: 1 + 3 + 2 = 6 reaches 5, so both regions move into "DE".
     * FR: no FR row, 2 alone does not reach 5: FR-IDF goes to (other).
     * IT: 2 + 1 = 3: IT and IT-21 go to (other). "" goes to (other). */
    cr_assert_eq(hz_query_fold(&r, HZ_P_REGION, 5), 6);
    de = find(&r, "DE");
    cr_assert_eq(r.rows[de].c.visitors, 6);
    cr_assert_not(r.rows[de].hidden);
    cr_assert_eq(r.rows[find(&r, "DE-BY")].dest, de);
    fr = find(&r, "FR");
    cr_assert_geq(fr, 0); /* made for the test, then dropped */
    cr_assert(r.rows[fr].hidden);
    o = find(&r, HZ_OTHER_VALUE);
    cr_assert_eq(r.rows[o].c.visitors, 2 + 2 + 1 + 1);
    cr_assert_eq(r.rows[find(&r, "FR-IDF")].dest, o);
    cr_assert_eq(visible(&r), 3); /* DE, US-CA, (other) */
    hz_qres_free(&r);
}

Test(fold, region_country_row_created_when_regions_reach_it)
{
    struct hz_qres r;
    long at;

    hz_qres_init(&r);
    row(&r, "AT-9", 3);
    row(&r, "AT-3", 3);
    cr_assert_eq(hz_query_fold(&r, HZ_P_REGION, 5), 2);
    at = find(&r, "AT");
    cr_assert_geq(at, 0);
    cr_assert_not(r.rows[at].hidden);
    cr_assert_eq(r.rows[at].c.visitors, 6);
    cr_assert_eq(find(&r, HZ_OTHER_VALUE), -1);
    hz_qres_free(&r);
}

Test(fold, stored_other_row_absorbs_the_fold)
{
    struct hz_qres r;
    long o;

    hz_qres_init(&r);
    row(&r, "/a", 7);
    o = (long)row(&r, HZ_OTHER_VALUE, 3); /* the aggregator's max_values overflow */
    row(&r, "/x", 2);
    cr_assert_eq(hz_query_fold(&r, HZ_P_PAGE, 5), 1);
    cr_assert_eq(find(&r, HZ_OTHER_VALUE), o);
    cr_assert_eq(r.rows[o].c.visitors, 5);
    cr_assert(r.rows[o].other);
    cr_assert_not(r.rows[o].hidden);
    hz_qres_free(&r);
}

Test(fold, exit_pages_count_exits)
{
    struct hz_qres r;
    struct hz_mval v;
    size_t i, j;

    hz_qres_init(&r);
    i = row(&r, "/leave", 10);
    r.rows[i].c.pageviews = 20;
    r.rows[i].c.outs = 12; /* 8 exits */
    j = row(&r, "/stay", 10);
    r.rows[j].c.pageviews = 20;
    r.rows[j].c.outs = 18; /* 2 exits: under the threshold as an exit page */
    cr_assert_eq(hz_query_visitors(HZ_P_EXIT, &r.rows[i]), 8);
    hz_query_value(HZ_P_EXIT, HZ_M_VISITS, &r.rows[i], &v);
    cr_assert_eq(v.v, 8);
    hz_query_value(HZ_P_EXIT, HZ_M_EXIT_RATE, &r.rows[i], &v);
    cr_assert_eq(v.v, 40.0);
    cr_assert_eq(v.decimals, 1);
    cr_assert_eq(hz_query_fold(&r, HZ_P_EXIT, 5), 1);
    cr_assert(r.rows[j].hidden);
    hz_qres_free(&r);
}

Test(fold, a_filter_cannot_isolate_a_folded_value)
{
    struct hz_qres r;
    struct hz_query q;
    struct hz_filter f = {.prop = HZ_P_PAGE, .op = HZ_FOP_IS, .nvalues = 1};

    memset(&q, 0, sizeof(q));
    q.prop = HZ_P_PAGE;
    q.order_metric = HZ_M_VISITORS;
    q.order_desc = 1;
    q.limit = 100;
    strcpy(f.values[0], "/secret");
    hz_qres_init(&r);
    row(&r, "/a", 10);
    row(&r, "/secret", 1);
    row(&r, "/b", 6);
    (void)hz_query_fold(&r, HZ_P_PAGE, 5);
    for (size_t i = 0; i < r.n; i++) {
        size_t len;
        const char *v = hz_qres_value(&r, i, &len);
        r.rows[i].matched = hz_query_filter_match(&f, v, len);
    }
    hz_query_order(&r, &q);
    cr_assert_eq(r.total_rows, 0);
    cr_assert_eq(r.count, 0);
    hz_qres_free(&r);
}

Test(fold, order_puts_other_last_and_pages)
{
    struct hz_qres r;
    struct hz_query q;
    size_t len;

    memset(&q, 0, sizeof(q));
    q.prop = HZ_P_PAGE;
    q.order_metric = HZ_M_VISITORS;
    q.order_desc = 1;
    q.limit = 2;
    q.offset = 1;
    hz_qres_init(&r);
    row(&r, "/c", 6);
    row(&r, "/a", 30);
    row(&r, "/tiny", 1);
    row(&r, "/b", 6);
    row(&r, "/d", 9);
    (void)hz_query_fold(&r, HZ_P_PAGE, 5);
    hz_query_order(&r, &q);
    cr_assert_eq(r.total_rows, 5); /* /a /d /b /c (other) */
    cr_assert_eq(r.first, 1);
    cr_assert_eq(r.count, 2);
    cr_assert_str_eq(hz_qres_value(&r, r.order[0], &len), "/a");
    cr_assert_str_eq(hz_qres_value(&r, r.order[1], &len), "/d");
    cr_assert_str_eq(hz_qres_value(&r, r.order[2], &len), "/b"); /* tie on 6: by value */
    cr_assert_str_eq(hz_qres_value(&r, r.order[3], &len), "/c");
    cr_assert_str_eq(hz_qres_value(&r, r.order[4], &len), HZ_OTHER_VALUE);
    /* Ascending by value: "(other)" follows the order like any row. */
    q.order_metric = -1;
    q.order_desc = 0;
    q.offset = 0;
    q.limit = 10;
    hz_query_order(&r, &q);
    cr_assert_str_eq(hz_qres_value(&r, r.order[0], &len), HZ_OTHER_VALUE);
    cr_assert_str_eq(hz_qres_value(&r, r.order[1], &len), "/a");
    cr_assert_str_eq(hz_qres_value(&r, r.order[4], &len), "/d");
    /* Ascending by visitors: "(other)" (1 visitor) comes first. */
    q.order_metric = HZ_M_VISITORS;
    hz_query_order(&r, &q);
    cr_assert_str_eq(hz_qres_value(&r, r.order[0], &len), HZ_OTHER_VALUE);
    /* v2 order_by with two keys: custom events desc (all 0, a tie), then value desc. */
    q.norder = 2;
    q.order[0].kind = HZ_OK_METRIC;
    q.order[0].metric = HZ_M_CUSTOM_EVENTS;
    q.order[0].desc = 1;
    q.order[1].kind = HZ_OK_DIMENSION;
    q.order[1].desc = 1;
    hz_query_order(&r, &q);
    cr_assert_str_eq(hz_qres_value(&r, r.order[0], &len), "/d");
    cr_assert_str_eq(hz_qres_value(&r, r.order[3], &len), "/a");
    cr_assert_str_eq(hz_qres_value(&r, r.order[4], &len), HZ_OTHER_VALUE);
    hz_qres_free(&r);
}

Test(fold, many_rows_keep_the_index_right)
{
    struct hz_qres r;
    char v[32];

    hz_qres_init(&r);
    for (int i = 0; i < 5000; i++) {
        (void)snprintf(v, sizeof(v), "/p/%d", i);
        row(&r, v, (uint64_t)(i % 10));
    }
    for (int i = 0; i < 5000; i += 7) {
        (void)snprintf(v, sizeof(v), "/p/%d", i);
        cr_assert_eq(find(&r, v), i);
    }
    cr_assert_eq(hz_query_fold(&r, HZ_P_PAGE, 5), 2500);
    cr_assert_eq(r.rows[find(&r, HZ_OTHER_VALUE)].c.visitors, 500 * (0 + 1 + 2 + 3 + 4));
    hz_qres_free(&r);
}

Test(fold, appended_rows_are_indexed_on_the_next_lookup)
{
    struct hz_qres r;
    char v[32];

    hz_qres_init(&r);
    for (int i = 0; i < 3000; i++) {
        (void)snprintf(v, sizeof(v), "/q/%d", i);
        cr_assert_eq(hz_qres_append(&r, v, strlen(v)), (size_t)i);
    }
    for (int i = 0; i < 3000; i += 11) {
        (void)snprintf(v, sizeof(v), "/q/%d", i);
        cr_assert_eq(find(&r, v), i);
    }
    cr_assert_eq(hz_qres_row(&r, "/q/7", 4), 7); /* no second row */
    cr_assert_eq(hz_qres_append(&r, "/new", 4), 3000);
    cr_assert_eq(hz_qres_row(&r, "/new", 4), 3000);
    cr_assert_eq(hz_qres_row(&r, "/newer", 6), 3001);
    cr_assert_eq(r.n, 3002);
    cr_assert_eq(find(&r, "/absent"), -1);
    hz_qres_free(&r);
}

/* The first offset+limit rows of a long breakdown (kept in a heap) are the
 * full sort's, ties and all, for every order and page. */
Test(fold, a_page_of_a_long_breakdown_is_the_full_sorts)
{
    struct hz_qres r;
    struct hz_query q;
    size_t *all;
    char v[32];
    const size_t n = 4000;
    const struct {
        int metric, desc;
        uint64_t offset, limit;
    } cases[] = {
        {HZ_M_VISITORS, 1, 0, 1},  {HZ_M_VISITORS, 1, 0, 100},   {HZ_M_VISITORS, 1, 300, 50},
        {HZ_M_VISITORS, 0, 0, 10}, {HZ_M_PAGEVIEWS, 1, 7, 93},   {-1, 0, 0, 25},
        {-1, 1, 990, 10},          {HZ_M_VISITORS, 1, 3990, 100}};

    hz_qres_init(&r);
    for (size_t i = 0; i < n; i++) {
        (void)snprintf(v, sizeof(v), "/p/%zu", (i * 7919) % n);
        row(&r, v, (i * 31) % 97); /* many ties on visitors */
    }
    all = calloc(n, sizeof(*all));
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        memset(&q, 0, sizeof(q));
        q.prop = HZ_P_PAGE;
        q.order_metric = cases[c].metric;
        q.order_desc = cases[c].desc;
        hz_query_order(&r, &q); /* no limit: all sorted */
        cr_assert_eq(r.norder, n);
        memcpy(all, r.order, n * sizeof(*all));
        q.offset = cases[c].offset;
        q.limit = cases[c].limit;
        hz_query_order(&r, &q);
        cr_assert_eq(r.total_rows, n);
        cr_assert_eq(r.first, cases[c].offset);
        cr_assert_eq(r.count,
                     cases[c].offset + cases[c].limit <= n ? cases[c].limit : n - cases[c].offset);
        for (size_t k = 0; k < r.first + r.count; k++)
            cr_assert_eq(r.order[k], all[k], "case %zu, place %zu", c, k);
    }
    free(all);
    hz_qres_free(&r);
}

/* ================================================================ values */

Test(values, rates_durations_and_rounding)
{
    struct hz_qrow row0;
    struct hz_mval v;

    memset(&row0, 0, sizeof(row0));
    row0.c.visitors = 7;
    row0.c.visits = 8;
    row0.c.pageviews = 21;
    row0.c.nonbounce = 5; /* 3 bounces of 8: 37.5% -> 38 */
    row0.c.duration_ms = 8 * 61500;
    hz_query_value(HZ_P_NONE, HZ_M_BOUNCE_RATE, &row0, &v);
    cr_assert_eq(v.v, 38);
    hz_query_value(HZ_P_NONE, HZ_M_VISIT_DURATION, &row0, &v);
    cr_assert_eq(v.v, 62); /* 61.5 s rounds up */
    hz_query_value(HZ_P_NONE, HZ_M_VIEWS_PER_VISIT, &row0, &v);
    cr_assert_float_eq(v.v, 2.63, 1e-9);
    cr_assert_eq(v.decimals, 2);
    hz_query_value(HZ_P_NONE, HZ_M_TIME_ON_PAGE_MEDIAN, &row0, &v);
    cr_assert(v.null);
    /* A page's bounce rate comes from the visits that entered on it. */
    row0.entry.visits = 4;
    row0.entry.nonbounce = 3;
    row0.entry.duration_ms = 4000;
    hz_query_value(HZ_P_PAGE, HZ_M_BOUNCE_RATE, &row0, &v);
    cr_assert_eq(v.v, 25);
    hz_query_value(HZ_P_PAGE, HZ_M_VISIT_DURATION, &row0, &v);
    cr_assert_eq(v.v, 1);
    /* Empty denominators give 0, not a division by zero. */
    memset(&row0, 0, sizeof(row0));
    hz_query_value(HZ_P_NONE, HZ_M_BOUNCE_RATE, &row0, &v);
    cr_assert_eq(v.v, 0);
    hz_query_value(HZ_P_PAGE, HZ_M_EXIT_RATE, &row0, &v);
    cr_assert_eq(v.v, 0);
    /* A page no visit started on has no bounce rate or visit duration. */
    hz_query_value(HZ_P_PAGE, HZ_M_BOUNCE_RATE, &row0, &v);
    cr_assert(v.null);
    hz_query_value(HZ_P_PAGE, HZ_M_VISIT_DURATION, &row0, &v);
    cr_assert(v.null);
}

Test(values, time_on_page_from_histogram)
{
    struct hz_qrow row0;
    struct hz_mval v50, v75;

    memset(&row0, 0, sizeof(row0));
    row0.hist[hz_hist_bucket(10000)] = 10; /* all samples in [8 s, 16 s) */
    hz_query_value(HZ_P_PAGE, HZ_M_TIME_ON_PAGE_MEDIAN, &row0, &v50);
    hz_query_value(HZ_P_PAGE, HZ_M_TIME_ON_PAGE_P75, &row0, &v75);
    cr_assert_not(v50.null);
    cr_assert_geq(v50.v, 8);
    cr_assert_leq(v50.v, 16);
    cr_assert_geq(v75.v, v50.v);
}

/* Plausible's metrics: time_on_page is engaged time per visitor of the
 * page; events are pageviews plus custom events; percentage is the share
 * of the answer's visitors. */
Test(values, plausible_time_on_page_events_and_percentage)
{
    struct hz_qrow row0;
    struct hz_qres r;
    struct hz_mval v;

    memset(&row0, 0, sizeof(row0));
    row0.c.visitors = 4;
    row0.c.engaged_ms = 4 * 30500;
    hz_query_value(HZ_P_PAGE, HZ_M_TIME_ON_PAGE, &row0, &v);
    cr_assert_not(v.null);
    cr_assert_eq(v.v, 31);
    row0.c.pageviews = 10;
    row0.c.events = 3;
    hz_query_value(HZ_P_NONE, HZ_M_EVENTS, &row0, &v);
    cr_assert_eq(v.v, 13);
    hz_query_value(HZ_P_NONE, HZ_M_CUSTOM_EVENTS, &row0, &v);
    cr_assert_eq(v.v, 3);
    hz_query_value(HZ_P_NAME, HZ_M_EVENTS, &row0, &v);
    cr_assert_eq(v.v, 3);
    hz_qres_init(&r);
    r.pct_base = 12;
    hz_query_row_value(&r, HZ_P_SOURCE, HZ_M_PERCENTAGE, &row0, &v);
    cr_assert_eq(v.decimals, 1);
    cr_assert_float_eq(v.v, 33.3, 1e-9);
    r.pct_base = 0;
    hz_query_row_value(&r, HZ_P_SOURCE, HZ_M_PERCENTAGE, &row0, &v);
    cr_assert_eq(v.v, 0);
    memset(&row0, 0, sizeof(row0));
    hz_query_value(HZ_P_PAGE, HZ_M_TIME_ON_PAGE, &row0, &v);
    cr_assert(v.null);
}

Test(values, changes)
{
    struct hz_mval a = {0, 0, 120}, b = {0, 0, 100}, z = {0, 0, 0};

    cr_assert_eq(hz_query_change(HZ_M_VISITORS, &a, &b), 20);
    cr_assert_eq(hz_query_change(HZ_M_VISITORS, &b, &a), -17);
    cr_assert_eq(hz_query_change(HZ_M_VISITORS, &a, &z), 100);
    cr_assert_eq(hz_query_change(HZ_M_VISITORS, &z, &z), 0);
    a.v = 40;
    b.v = 55;
    cr_assert_eq(hz_query_change(HZ_M_BOUNCE_RATE, &a, &b), -15); /* points */
}

Test(values, filter_operators)
{
    struct hz_filter f = {.prop = HZ_P_PAGE, .nvalues = 2};

    strcpy(f.values[0], "/blog/*");
    strcpy(f.values[1], "/about");
    f.op = HZ_FOP_IS;
    cr_assert(hz_query_filter_match(&f, "/about", 6));
    cr_assert_not(hz_query_filter_match(&f, "/blog/x", 7));
    f.op = HZ_FOP_GLOB;
    cr_assert(hz_query_filter_match(&f, "/blog/x/y", 9));
    cr_assert_not(hz_query_filter_match(&f, "/blo", 4));
    f.op = HZ_FOP_NOT_GLOB;
    cr_assert_not(hz_query_filter_match(&f, "/blog/x", 7));
    cr_assert(hz_query_filter_match(&f, "/cart", 5));
    f.op = HZ_FOP_IS_NOT;
    cr_assert_not(hz_query_filter_match(&f, "/about", 6));
    f.op = HZ_FOP_CONTAINS;
    strcpy(f.values[0], "bou");
    cr_assert(hz_query_filter_match(&f, "/about", 6));
    cr_assert_not(hz_query_filter_match(&f, "/cart", 5));
}

Test(values, names_round_trip)
{
    for (int m = 0; m < HZ_M_COUNT; m++) {
        const char *n = hz_query_metric_name((enum hz_metric)m);
        cr_assert_eq(hz_query_metric_find(n, strlen(n)), m);
    }
    for (int p = 1; p < HZ_P_PROP0; p++) {
        const char *n = hz_query_prop_name((enum hz_prop)p);
        cr_assert_eq(hz_query_prop_find(n, strlen(n)), p);
    }
    /* Custom props are named per site (api.c), never by the table. */
    for (int p = HZ_P_PROP0; p <= HZ_P_PROP_LAST; p++) {
        cr_assert_str_eq(hz_query_prop_name((enum hz_prop)p), "");
        cr_assert_eq(hz_query_prop_dim((enum hz_prop)p), HZ_DIM_PROP0 + (p - HZ_P_PROP0));
    }
    cr_assert_eq(hz_query_prop_find("event:goal", 10), HZ_P_GOAL);
    cr_assert_eq(hz_query_prop_find("", 0), -1);
    cr_assert_str_eq(hz_query_prop_short(HZ_P_NAME), "name");
    cr_assert_eq(hz_query_prop_dim(HZ_P_EXIT), HZ_DIM_PAGE);
    cr_assert(hz_query_metric_ok(HZ_P_PAGE, HZ_M_TIME_ON_PAGE));
    cr_assert_not(hz_query_metric_ok(HZ_P_SOURCE, HZ_M_TIME_ON_PAGE));
    cr_assert_not(hz_query_metric_ok(HZ_P_NAME, HZ_M_BOUNCE_RATE));
}

/* Issue 9: a breakdown by visit:exit_page answered "(other)": 0 when the
 * rows that folded were pages nobody left from. */
Test(fold, exit_pages_without_exits_make_no_empty_other_row)
{
    struct hz_qres r;
    long o;
    size_t a, b, c;

    hz_qres_init(&r);
    a = row(&r, "/a", 10);
    r.rows[a].c.outs = 10; /* 20 pageviews, 10 went on: 10 exits */
    b = row(&r, "/b", 3);
    r.rows[b].c.outs = 6; /* 6 pageviews, all went on: no exit */
    c = row(&r, "/c", 2);
    r.rows[c].c.outs = 4;
    (void)hz_query_fold(&r, HZ_P_EXIT, 5);
    o = find(&r, HZ_OTHER_VALUE);
    cr_assert(o < 0 || r.rows[o].hidden, "an (other) row with nothing in it is shown");
    cr_assert_eq(visible(&r), 1);
    cr_assert_not(r.rows[a].hidden);
    hz_qres_free(&r);
}

Test(fold, exit_pages_with_few_exits_still_fold)
{
    struct hz_qres r;
    long o;
    size_t b;

    hz_qres_init(&r);
    row(&r, "/a", 10);
    b = row(&r, "/b", 3);
    r.rows[b].c.outs = 4; /* 6 pageviews, 2 exits */
    cr_assert_eq(hz_query_fold(&r, HZ_P_EXIT, 5), 1);
    o = find(&r, HZ_OTHER_VALUE);
    cr_assert_geq(o, 0);
    cr_assert_not(r.rows[o].hidden);
    cr_assert_eq(hz_query_visitors(HZ_P_EXIT, &r.rows[o]), 2);
    hz_qres_free(&r);
}
