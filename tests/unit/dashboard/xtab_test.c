/* SPDX-License-Identifier: MIT */
/*
 * xtab_test.c - the crowd-size rule of a declared pair's table
 * (hz_xquery_suppress): region fallback, primary and complementary
 * suppression, that no row or column is left with one folded cell, and
 * that the pair table's merge of sorted runs (hz_xcells_seq) finds the cells
 * hashing finds, and that answers from a store are the same whichever way
 * their rows are built; that a table read on two threads is the table one
 * thread reads.
 */
#include "dashboard/crosstab.h"
#include "dashboard/xcells.h"
#include "dashboard/xscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/groups.h"
#include "common/tz.h"
#include "dashboard/api.h"

#include <criterion/criterion.h>

static void
cell(struct hz_qres *r, const char *a, const char *b, uint64_t visitors)
{
    char key[128];
    size_t la = strlen(a), lb = strlen(b);

    memcpy(key, a, la);
    key[la] = '\x1f';
    memcpy(key + la + 1, b, lb);
    size_t i = hz_qres_row(r, key, la + 1 + lb); /* may move r->rows */
    r->rows[i].c.visitors = visitors;
}

static const struct hz_qrow *
get(const struct hz_qres *r, const char *a, const char *b)
{
    char key[128];
    size_t la = strlen(a), lb = strlen(b);
    long i;

    memcpy(key, a, la);
    key[la] = '\x1f';
    memcpy(key + la + 1, b, lb);
    i = hz_qres_find(r, key, la + 1 + lb);
    cr_assert_geq(i, 0, "%s x %s", a, b);
    return &r->rows[i];
}

Test(xtab_suppress, one_small_cell_takes_a_partner)
{
    struct hz_qres r;

    hz_qres_init(&r);
    cell(&r, "Cards", "/a", 9);
    cell(&r, "Cards", "/b", 7);
    cell(&r, "Cards", "/c", 2); /* under 5 */
    cell(&r, "Flyers", "/a", 8);
    cell(&r, "Flyers", "/b", 6);
    cell(&r, "Flyers", "/c", 5);
    cr_assert_eq(hz_xquery_suppress(&r, 0, 5), 4);
    /* Row Cards: /c folds, then its smallest visible cell /b (7); column
     * /c: Flyers /c (5) joins; column /b: Flyers /b (6) joins. */
    cr_assert(get(&r, "Cards", "/c")->hidden);
    cr_assert(get(&r, "Cards", "/b")->hidden);
    cr_assert(get(&r, "Flyers", "/c")->hidden);
    cr_assert(get(&r, "Flyers", "/b")->hidden);
    cr_assert_not(get(&r, "Cards", "/a")->hidden);
    cr_assert_not(get(&r, "Flyers", "/a")->hidden);
    hz_qres_free(&r);
}

Test(xtab_suppress, no_line_keeps_a_single_folded_cell_when_it_has_a_partner)
{
    struct hz_qres r;
    const char *rows[] = {"A", "B", "C", "D"}, *cols[] = {"w", "x", "y", "z"};

    hz_qres_init(&r);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            cell(&r, rows[i], cols[j], (uint64_t)((i * 7 + j * 3) % 11 + 1));
    (void)hz_xquery_suppress(&r, 0, 4);
    for (int k = 0; k < 8; k++) {
        int sup = 0, vis = 0;
        for (int m = 0; m < 4; m++) {
            const struct hz_qrow *c =
                k < 4 ? get(&r, rows[k], cols[m]) : get(&r, rows[m], cols[k - 4]);
            if (c->hidden)
                sup++;
            else
                vis++;
        }
        cr_assert(sup != 1 || vis == 0, "line %d has one folded cell and %d shown", k, vis);
    }
    hz_qres_free(&r);
}

Test(xtab_suppress, small_regions_fall_back_to_their_country)
{
    struct hz_qres r;

    hz_qres_init(&r);
    cell(&r, "Cards", "DE-BY", 3);
    cell(&r, "Cards", "DE-BE", 2);
    cell(&r, "Cards", "FR-IDF", 9);
    cell(&r, "Cards", "IT-21", 1);
    cell(&r, "Cards", "IT-45", 1);
    cr_assert_eq(hz_xquery_suppress(&r, 2, 5), 2, "IT-21 and IT-45 (1 + 1 < 5)");
    const struct hz_qrow *de = get(&r, "Cards", "DE");
    cr_assert_eq(de->c.visitors, 5);
    cr_assert_not(de->hidden);
    cr_assert(get(&r, "Cards", "DE-BY")->hidden);
    cr_assert_neq(get(&r, "Cards", "DE-BY")->dest, -1, "moved, not folded");
    cr_assert_eq(get(&r, "Cards", "IT-21")->dest, -1);
    cr_assert_not(get(&r, "Cards", "FR-IDF")->hidden);
    hz_qres_free(&r);
}

/* hz_xcells_seq gives the same cells as hashing, in runs sorted or not. */
Test(xtab_cells, seq_equals_get_in_any_order)
{
    struct hz_xcells a, b;
    uint64_t st = 3;

    hz_xcells_init(&a);
    hz_xcells_init(&b);
    for (int run = 0; run < 30; run++) {
        char v[40][16];
        int n = 1 + (int)((st = st * 6364136223846793005ULL + 1) >> 59) % 40;
        for (int i = 0; i < n; i++) {
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            (void)snprintf(v[i], sizeof(v[i]), "s%d\x1f/p%d", (int)(st >> 60),
                           (int)(st >> 33) % 50);
        }
        if (run % 3 != 0) /* most runs sorted, like a period of the store */
            qsort(v, (size_t)n, sizeof(v[0]), (int (*)(const void *, const void *))strcmp);
        for (int i = 0; i < n; i++) {
            size_t len = strlen(v[i]), k = hz_xcells_seq(&a, v[i], len);
            a.c[k].visitors++;
            k = hz_xcells_get(&b, v[i], len);
            b.c[k].visitors++;
        }
        if (run % 5 == 0)
            hz_xcells_seq_end(&a);
    }
    hz_xcells_seq_end(&a);
    cr_assert_eq(a.n, b.n);
    /* Every cell in the value order, once, in increasing byte order. */
    cr_assert_eq(a.nacc, a.n);
    for (size_t k = 1; k < a.nacc; k++) {
        const struct hz_xcells_ref *p = &a.acc[k - 1], *q = &a.acc[k];
        size_t m = p->vlen < q->vlen ? p->vlen : q->vlen;
        int c = memcmp(a.pool + p->voff, a.pool + q->voff, m);
        cr_assert(c < 0 || (c == 0 && p->vlen < q->vlen), "acc[%zu] not below acc[%zu]", k - 1, k);
        cr_assert_eq(a.c[q->cell].voff, q->voff);
    }
    for (size_t i = 0; i < b.n; i++) {
        long k = hz_xcells_find(&a, hz_xcells_v1(&b, i), b.c[i].vlen);
        cr_assert_geq(k, 0);
        cr_assert_eq(a.c[k].visitors, b.c[i].visitors);
        cr_assert_eq(a.c[k].l1, b.c[i].l1);
        cr_assert_eq(a.c[k].l2, b.c[i].l2);
    }
    hz_xcells_free(&a);
    hz_xcells_free(&b);
}

/* ---------------------------------------------------------------- answers */

static char xt_dir[64];

static void
xt_setup(void)
{
    (void)snprintf(xt_dir, sizeof(xt_dir), "/tmp/haze-xtab.XXXXXX");
    cr_assert_not_null(mkdtemp(xt_dir));
}

static void
xt_teardown(void)
{
    char p[128];

    (void)snprintf(p, sizeof(p), "%s/data.mdb", xt_dir);
    (void)unlink(p);
    (void)snprintf(p, sizeof(p), "%s/lock.mdb", xt_dir);
    (void)unlink(p);
    (void)rmdir(xt_dir);
}

/* Adds visitors v to cell (source, page) of visit:source x event:page. */
static void
xt_add(hz_wtxn *w, int32_t day, const char *source, const char *page, uint64_t v)
{
    char c[128];
    size_t n = hz_crosstab_cell(c, sizeof(c), HZ_DIM_SOURCE, HZ_DIM_PAGE, source, strlen(source),
                                page, strlen(page));
    struct hz_counts k = {v, v, 2 * v, 0, 0, 0, 0, 0};

    cr_assert_gt(n, 0);
    cr_assert_eq(hz_store_add(w, "x.test", day, HZ_DIM_CROSS, c, n, &k), 0);
}

/* The v1 JSON of a question, with its filters made case-insensitive when
 * icase (the same cells match: no source differs from another in case). */
static char *
xt_answer(hz_store *s, const struct hz_config *cfg, int64_t now, const char *qs, int icase)
{
    struct hz_qopts o = {(uint64_t)cfg->min_visitors, cfg->retention_days};
    struct hz_query q;
    struct hz_qres r;
    struct hz_jsonw w;
    struct hz_err err = {0};
    hz_rtxn *t;
    size_t len;

    cr_assert_eq(hz_api_parse_v1(HZ_API_BREAKDOWN, qs, strlen(qs), cfg, now, &q, &err), 0, "%s",
                 err.msg);
    for (int f = 0; f < q.nfilters; f++)
        q.filters[f].icase = icase;
    cr_assert_eq(hz_store_rbegin(s, &t, &err), 0);
    hz_qres_init(&r);
    cr_assert_eq(hz_query_run(t, &q, &o, &r, &err), 0, "%s", err.msg);
    hz_jsonw_init(&w);
    hz_api_v1(&w, &q, &r);
    hz_qres_free(&r);
    hz_store_rend(t);
    return hz_jsonw_take(&w, &len);
}

/* The config of site x.test (UTC, min_visitors mv, the lines of site),
 * its store in xt_dir and a write transaction on it. */
static void
xt_open(struct hz_config *cfg, hz_store **s, hz_wtxn **w, int mv, const char *site)
{
    char ini[512];
    struct hz_err err = {0};

    (void)snprintf(ini, sizeof(ini),
                   "[aggregator]\nlmdb = %s\nretention_days = 400\n"
                   "[dashboard]\ntoken = unit-test-token\nmin_visitors = %d\n"
                   "[site x.test]\ntimezone = UTC\n%s",
                   xt_dir, mv, site);
    cr_assert_eq(hz_cfg_parse_string(cfg, ini, "unit.ini", &err), 0, "%s", err.msg);
    cr_assert_eq(hz_store_open(s, xt_dir, 0, 8 << 20, &err), 0, "%s", err.msg);
    cr_assert_eq(hz_store_wbegin(*s, w, 1000, &err), 0);
}

TestSuite(xtab_run, .init = xt_setup, .fini = xt_teardown);

/* A breakdown filtered on one value of the other property gives each cell a
 * row of its own without a lookup; the answer is the one the looked-up rows
 * give (a case-insensitive filter takes that path), folded cells, the
 * stored "(other)" value and a page named "(other)" included. */
Test(xtab_run, appended_rows_answer_as_looked_up_rows)
{
    struct hz_config cfg;
    struct hz_err err = {0};
    hz_store *s;
    hz_wtxn *w;
    int32_t d0 = hz_days_from_civil(2026, 3, 1);
    int64_t now = (int64_t)(d0 + 40) * 86400;

    xt_open(&cfg, &s, &w, 5, "crosstab = visit:source x event:page\n");
    for (int d = 0; d < 35; d += 3) {
        xt_add(w, d0 + d, "google.com", "/a", 4);
        xt_add(w, d0 + d, "google.com", "/b", 1);
        xt_add(w, d0 + d, "google.com", HZ_OTHER_VALUE, 2);
        xt_add(w, d0 + d, "bing.com", "/a", 3);
        for (int p = 0; p < 30; p++) {
            char page[16];
            (void)snprintf(page, sizeof(page), "/p%d", p);
            xt_add(w, d0 + d, p % 2 ? "google.com" : "bing.com", page, (uint64_t)(p % 7));
        }
    }
    xt_add(w, d0 + 2, "google.com", "/tiny", 1); /* one day: folded */
    xt_add(w, d0 + 2, "bing.com", HZ_OTHER_VALUE, 1);
    cr_assert_eq(hz_store_commit(w, &err), 0, "%s", err.msg);
    const char *qs[] = {
        "site_id=x.test&period=custom&date=2026-03-01,2026-04-05&property=event:page&filters="
        "visit:source%3D%3Dgoogle.com&limit=100",
        "site_id=x.test&period=custom&date=2026-03-03,2026-03-03&property=event:page&filters="
        "visit:source%3D%3Dgoogle.com",
        "site_id=x.test&period=custom&date=2026-03-01,2026-03-31&property=event:page&filters="
        "visit:source%3D%3Dbing.com&limit=5&page=2",
        "site_id=x.test&period=custom&date=2026-03-01,2026-04-05&property=visit:source&filters="
        "event:page%3D%3D%2Fa",
        "site_id=x.test&period=custom&date=2026-03-01,2026-04-05&property=visit:source&filters="
        "event:page%3D%3D(other)",
    };
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        char *a = xt_answer(s, &cfg, now, qs[i], 0), *b = xt_answer(s, &cfg, now, qs[i], 1);
        cr_assert_str_eq(a, b, "question %zu", i);
        cr_assert(strstr(a, "\"results\":[{") != NULL, "question %zu: %s", i, a);
        free(a);
        free(b);
    }
    hz_store_close(s);
    hz_cfg_free(&cfg);
}

/* ---------------------------------------------------------------- two threads */

/* The same table, cell for cell: order, values, counters, value order. */
static void
xt_same_table(const struct hz_xcells *a, const struct hz_xcells *b, const char *what)
{
    cr_assert_eq(a->n, b->n, "%s: %zu cells, %zu", what, a->n, b->n);
    cr_assert_eq(a->nacc, b->nacc, "%s", what);
    for (size_t i = 0; i < a->n; i++) {
        const struct hz_xcell *x = &a->c[i], *y = &b->c[i];
        cr_assert_eq(x->vlen, y->vlen, "%s: cell %zu", what, i);
        cr_assert_eq(memcmp(hz_xcells_v1(a, i), hz_xcells_v1(b, i), x->vlen), 0, "%s: cell %zu",
                     what, i);
        cr_assert(x->visitors == y->visitors && x->visits == y->visits &&
                      x->pageviews == y->pageviews && x->events == y->events,
                  "%s: cell %zu", what, i);
        cr_assert_eq(x->l1, y->l1, "%s", what);
        cr_assert_eq(a->acc[i].cell, b->acc[i].cell, "%s: value order at %zu", what, i);
    }
}

/* Sorted runs of values "s<n>\x1f/p<n>" (some without a separator), like
 * the periods of a store scan: run r into t. */
static void
xt_run(struct hz_xcells *t, uint64_t seed, int r)
{
    char v[60][16];
    uint64_t st = seed * 1000 + (uint64_t)r;
    int n = 1 + (int)((st = st * 6364136223846793005ULL + 1) >> 59) % 60;

    for (int i = 0; i < n; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        if ((st >> 40) % 17 == 0)
            (void)snprintf(v[i], sizeof(v[i]), "bare%d", (int)(st >> 33) % 5);
        else
            (void)snprintf(v[i], sizeof(v[i]), "s%d\x1f/p%d", (int)(st >> 60),
                           (int)(st >> 33) % 80);
    }
    qsort(v, (size_t)n, sizeof(v[0]), (int (*)(const void *, const void *))strcmp);
    for (int i = 0; i < n; i++) {
        if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
            continue; /* one row a value in a period */
        size_t k = hz_xcells_seq(t, v[i], strlen(v[i]));
        t->c[k].visitors += 1 + (uint64_t)i;
        t->c[k].events += (uint64_t)r;
    }
}

/* A table read as two, the second merged into the first, is the table
 * read at once, wherever the cut is. */
Test(xtab_cells, merge_equals_one_read)
{
    for (uint64_t seed = 1; seed < 6; seed++)
        for (int cut = 0; cut <= 12; cut++) {
            struct hz_xcells one, a, b;
            hz_xcells_init(&one);
            hz_xcells_init(&a);
            hz_xcells_init(&b);
            for (int r = 0; r < 12; r++) {
                xt_run(&one, seed, r);
                xt_run(r < cut ? &a : &b, seed, r);
            }
            hz_xcells_seq_end(&one);
            hz_xcells_seq_end(&a);
            hz_xcells_seq_end(&b);
            hz_xcells_merge(&a, &b, NULL);
            xt_same_table(&one, &a, "merged");
            hz_xcells_free(&one);
            hz_xcells_free(&a);
            hz_xcells_free(&b);
        }
}

/* Calls check on 60 ranges of a day to a year and a half from about d0,
 * before and after retention cuts into a month (its month row then holds
 * fewer days than the month), then closes s. */
static void
xt_each_range(hz_store *s, int32_t d0, uint64_t st,
              void (*check)(hz_rtxn *t, int32_t from, int32_t to, const char *what, void *arg),
              void *arg)
{
    struct hz_err err = {0};
    hz_rtxn *t;

    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            cr_assert_eq(hz_store_retain(s, d0 + 100, &err), 0, "%s", err.msg);
        cr_assert_eq(hz_store_rbegin(s, &t, &err), 0);
        for (int q = 0; q < 60; q++) {
            char what[64];
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            int32_t from = d0 - 5 + (int32_t)((st >> 33) % 500);
            int32_t to = from + (int32_t)((st >> 20) % (q < 20 ? 40 : 540));
            (void)snprintf(what, sizeof(what), "days %d..%d, pass %d", from - d0, to - d0, pass);
            check(t, from, to, what, arg);
        }
        hz_store_rend(t);
    }
    hz_xscan_threads(1);
    hz_store_close(s);
}

/* One thread's and two threads' tables of the pair with prefix pre. */
static void
xt_pair_check(hz_rtxn *t, int32_t from, int32_t to, const char *what, void *pre)
{
    struct hz_xcells one, two;

    hz_xcells_init(&one);
    hz_xcells_init(&two);
    hz_xscan_threads(0);
    cr_assert_eq(hz_xscan_cells(t, "x.test", pre, from, to, &one), 0);
    hz_xscan_threads(2);
    cr_assert_eq(hz_xscan_cells(t, "x.test", pre, from, to, &two), 0);
    xt_same_table(&one, &two, what);
    hz_xcells_free(&one);
    hz_xcells_free(&two);
}

/* Reading a pair's cells on two threads gives the table one thread reads,
 * over ranges of a day to a year and a half across month edges, before
 * and after retention cut into a month (its month row then holds fewer
 * days than the month). */
Test(xtab_run, two_threads_read_the_one_thread_table)
{
    struct hz_err err = {0};
    hz_store *s;
    hz_wtxn *w;
    int32_t d0 = hz_days_from_civil(2025, 1, 10);
    uint64_t st = 11;
    char pre[8];

    cr_assert_eq(hz_crosstab_cell(pre, sizeof(pre), HZ_DIM_SOURCE, HZ_DIM_PAGE, "", 0, "", 0), 3);
    cr_assert_eq(hz_store_open(&s, xt_dir, 0, 64 << 20, &err), 0, "%s", err.msg);
    for (int d = 0; d < 520; d += 1 + (int)(d % 3)) {
        cr_assert_eq(hz_store_wbegin(s, &w, 100000, &err), 0);
        for (int k = 0; k < 25; k++) {
            char page[16];
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            (void)snprintf(page, sizeof(page), "/p%d", (int)((st >> 33) % 120 + (uint64_t)d / 4));
            xt_add(w, d0 + d, (st >> 60) % 3 ? "google.com" : "bing.com", page, 1 + (st >> 59));
        }
        /* Another pair's cells around this one's. */
        char c[64];
        struct hz_counts k = {3, 3, 0, 0, 0, 0, 0, 0};
        size_t n = hz_crosstab_cell(c, sizeof(c), HZ_DIM_GROUP, HZ_DIM_REGION, "G", 1, "DE-BY", 5);
        cr_assert_eq(hz_store_add(w, "x.test", d0 + d, HZ_DIM_CROSS, c, n, &k), 0);
        n = hz_crosstab_cell(c, sizeof(c), HZ_DIM_SOURCE, HZ_DIM_REGION, "a", 1, "DE-BY", 5);
        cr_assert_eq(hz_store_add(w, "x.test", d0 + d, HZ_DIM_CROSS, c, n, &k), 0);
        cr_assert_eq(hz_store_commit(w, &err), 0, "%s", err.msg);
    }
    xt_each_range(s, d0, st, xt_pair_check, pre);
}

/* The rows of a plain breakdown, as the one-thread hash path collects
 * them (hz_query_collect: one row per value in the order values first
 * came, eight counters summed), equal table t. */
static void
xt_same_rows(const struct hz_qres *r, const struct hz_xcells *t, const char *what)
{
    cr_assert_eq(r->n, t->n, "%s: %zu rows, %zu cells", what, r->n, t->n);
    for (size_t i = 0; i < r->n; i++) {
        size_t len;
        const char *v = hz_qres_value(r, i, &len);
        cr_assert_eq(len, t->c[i].vlen, "%s: row %zu", what, i);
        cr_assert_eq(memcmp(v, hz_xcells_v1(t, i), len), 0, "%s: row %zu", what, i);
        cr_assert_eq(memcmp(&r->rows[i].c, &t->wide[i], sizeof(t->wide[i])), 0,
                     "%s: row %zu counters", what, i);
    }
}

/* The collected rows of event:page, and one thread's and two threads'
 * plain tables of them. */
static void
xt_plain_check(hz_rtxn *t, int32_t from, int32_t to, const char *what, void *arg)
{
    struct hz_xcells one, two;
    struct hz_qres r;

    (void)arg;
    hz_qres_init(&r);
    cr_assert_eq(hz_query_collect(t, "x.test", HZ_DIM_PAGE, from, to, &r), 0);
    hz_xcells_init(&one);
    hz_xcells_init(&two);
    hz_xscan_threads(0);
    cr_assert_eq(hz_xscan_rows(t, "x.test", HZ_DIM_PAGE, from, to, &one), 0);
    hz_xscan_threads(2);
    cr_assert_eq(hz_xscan_rows(t, "x.test", HZ_DIM_PAGE, from, to, &two), 0);
    xt_same_rows(&r, &one, what);
    xt_same_rows(&r, &two, what);
    hz_qres_free(&r);
    hz_xcells_free(&one);
    hz_xcells_free(&two);
}

/* A plain breakdown's rows read on two threads (and on one through the
 * same table) are the rows the hash path collects: same values, order
 * and all eight counters, over ranges of a day to a year and a half
 * across month edges, before and after retention cut into a month. */
Test(xtab_run, plain_rows_on_two_threads_are_the_collected_rows)
{
    struct hz_err err = {0};
    hz_store *s;
    hz_wtxn *w;
    int32_t d0 = hz_days_from_civil(2025, 1, 10);
    uint64_t st = 7;

    cr_assert_eq(hz_store_open(&s, xt_dir, 0, 64 << 20, &err), 0, "%s", err.msg);
    for (int d = 0; d < 520; d += 1 + (int)(d % 3)) {
        cr_assert_eq(hz_store_wbegin(s, &w, 100000, &err), 0);
        for (int k = 0; k < 25; k++) {
            char page[16];
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            (void)snprintf(page, sizeof(page), "/p%d", (int)((st >> 33) % 120 + (uint64_t)d / 4));
            uint64_t v = 1 + (st >> 59);
            struct hz_counts c = {v, v + 1, 2 * v, v / 2, 1000 * v, v % 3, (uint64_t)k, 7 * v};
            cr_assert_eq(hz_store_add(w, "x.test", d0 + d, HZ_DIM_PAGE, page, strlen(page), &c), 0);
        }
        /* Rows of the next dimension, and an empty value. */
        struct hz_counts e = {2, 2, 2, 1, 5, 1, 0, 0};
        cr_assert_eq(hz_store_add(w, "x.test", d0 + d, HZ_DIM_PAGE, "", 0, &e), 0);
        cr_assert_eq(hz_store_add(w, "x.test", d0 + d, (enum hz_dim)(HZ_DIM_PAGE + 1), "/x", 2, &e),
                     0);
        cr_assert_eq(hz_store_commit(w, &err), 0, "%s", err.msg);
    }
    xt_each_range(s, d0, st, xt_plain_check, NULL);
}

/* One period's counters of a row of xt_joins' store. */
static struct hz_counts
xt_jc(int d, int k)
{
    uint64_t v = 1 + (uint64_t)((d * 7 + k * 3) % 5);
    struct hz_counts c = {v, v + 1, 3 * v, v / 2, 100 * v, 1, 0, 0};

    return c;
}

/* The row of value v in r (-1: none). */
static long
xt_row(const struct hz_qres *r, const char *v)
{
    return hz_qres_find(r, v, strlen(v));
}

/* A breakdown by page (or group) with bounce_rate, through the query
 * engine: each row's entry counters are the sums of its value's entry
 * rows, and entry rows of values that are not rows (an entry page no
 * event:page row has) join nothing; on one thread and on two. */
Test(xtab_run, breakdown_joins_entry_rows_per_value)
{
    static const char *pages[] = {"/a", "/b", "/c"}, *entries[] = {"/a", "/c", "/zz"};
    static const char *groups[] = {"A", "B"}, *egroups[] = {"A", "Q"};
    static const enum hz_dim dims[] = {HZ_DIM_PAGE, HZ_DIM_ENTRY, HZ_DIM_GROUP, HZ_DIM_ENTRY_GROUP};
    const char *const *vals[] = {pages, entries, groups, egroups};
    const int nvals[] = {3, 3, 2, 2};
    struct hz_config cfg;
    struct hz_err err = {0};
    hz_store *s;
    hz_wtxn *w;
    int32_t d0 = hz_days_from_civil(2026, 1, 1);
    int64_t now = (int64_t)(d0 + 100) * 86400;

    xt_open(&cfg, &s, &w, 1, "group = A: /a\ngroup = B: /b\n");
    for (int d = 0; d < 90; d += 2)
        for (int di = 0; di < 4; di++)
            for (int k = 0; k < nvals[di]; k++) {
                struct hz_counts c = xt_jc(d, k);
                cr_assert_eq(hz_store_add(w, "x.test", d0 + d, dims[di], vals[di][k],
                                          strlen(vals[di][k]), &c),
                             0);
            }
    cr_assert_eq(hz_store_commit(w, &err), 0, "%s", err.msg);

    for (int mode = 0; mode <= 2; mode += 2) {
        hz_xscan_threads(mode);
        for (int g = 0; g < 2; g++) {
            char qs[256];
            struct hz_qopts o = {(uint64_t)cfg.min_visitors, cfg.retention_days};
            struct hz_query q;
            struct hz_qres r;
            hz_rtxn *t;
            const char *const *rows = g ? groups : pages, *const *ent = g ? egroups : entries;
            int nrows = g ? 2 : 3, nent = g ? 2 : 3;

            (void)snprintf(qs, sizeof(qs),
                           "site_id=x.test&period=custom&date=2026-01-01,2026-03-31"
                           "&property=event:%s&metrics=visitors,bounce_rate",
                           g ? "group" : "page");
            cr_assert_eq(hz_api_parse_v1(HZ_API_BREAKDOWN, qs, strlen(qs), &cfg, now, &q, &err), 0,
                         "%s", err.msg);
            cr_assert_eq(hz_store_rbegin(s, &t, &err), 0);
            hz_qres_init(&r);
            cr_assert_eq(hz_query_run(t, &q, &o, &r, &err), 0, "%s", err.msg);
            for (int k = 0; k < nrows; k++) {
                struct hz_counts want = {0}, went = {0};
                long i = xt_row(&r, rows[k]);
                cr_assert_geq(i, 0, "%s", rows[k]);
                for (int d = 0; d < 90; d += 2) {
                    struct hz_counts c = xt_jc(d, k);
                    hz_counts_add(&want, &c);
                    for (int e = 0; e < nent; e++)
                        if (strcmp(ent[e], rows[k]) == 0) {
                            c = xt_jc(d, e);
                            hz_counts_add(&went, &c);
                        }
                }
                cr_assert_eq(memcmp(&r.rows[i].c, &want, sizeof(want)), 0, "%s (mode %d)", rows[k],
                             mode);
                cr_assert_eq(memcmp(&r.rows[i].entry, &went, sizeof(went)), 0, "%s (mode %d)",
                             rows[k], mode);
            }
            cr_assert_lt(xt_row(&r, g ? "Q" : "/zz"), 0); /* joined nothing, not a row */
            hz_qres_free(&r);
            hz_store_rend(t);
        }
    }
    hz_xscan_threads(1);
    hz_store_close(s);
    hz_cfg_free(&cfg);
}
