/* SPDX-License-Identifier: MIT */
/*
 * store_test.c - the LMDB store through its public API: write/read round
 * trips, month rollups equal day sums, histograms and quantiles, funnels,
 * transitions, the cardinality cap, retention with compaction (the deleted
 * page's bytes are gone from data.mdb), map growth, and a reader that keeps
 * the environment open across a compaction.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/store.h"
#include "common/tz.h"

static char dir[128];

static void
setup(void)
{
    (void)snprintf(dir, sizeof(dir), "/tmp/haze-store.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

/* Removes a folder tree (our store folders are two levels deep at most). */
static void
rm_rf(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char p[512];

    if (d == NULL) {
        (void)unlink(path);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        (void)snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
        rm_rf(p);
    }
    closedir(d);
    (void)rmdir(path);
}

static void
teardown(void)
{
    rm_rf(dir);
}

static hz_store *
wopen(size_t map)
{
    hz_store *s = NULL;
    struct hz_err e = {0};
    int rc = hz_store_open(&s, dir, 0, map, &e);
    cr_assert_eq(rc, 0, "open: %s", e.msg);
    return s;
}

static struct hz_counts
cnt(uint64_t visitors, uint64_t visits, uint64_t pageviews)
{
    struct hz_counts c;
    memset(&c, 0, sizeof(c));
    c.visitors = visitors;
    c.visits = visits;
    c.pageviews = pageviews;
    return c;
}

static void
commit(hz_wtxn *t)
{
    struct hz_err e = {0};
    cr_assert_eq(hz_store_commit(t, &e), 0, "commit: %s", e.msg);
}

/* ---------------------------------------------------------------- rows */

struct rows_acc {
    int n;
    char values[64][64];
    struct hz_counts c[64];
};

static void
rows_cb(const char *value, size_t vlen, const struct hz_counts *c, void *arg)
{
    struct rows_acc *a = arg;
    cr_assert_lt(a->n, 64);
    cr_assert_eq(strlen(value), vlen, "values are NUL-terminated");
    memcpy(a->values[a->n], value, vlen + 1);
    a->c[a->n] = *c;
    a->n++;
}

static const struct hz_counts *
rows_find(const struct rows_acc *a, const char *v)
{
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->values[i], v) == 0)
            return &a->c[i];
    return NULL;
}

TestSuite(store, .init = setup, .fini = teardown);

Test(store, round_trip_rows_totals_days_position)
{
    hz_store *s = wopen(1 << 20);
    hz_wtxn *w;
    hz_rtxn *r;
    struct hz_counts c = cnt(1, 1, 1), tot;
    int32_t day = hz_days_from_civil(2026, 3, 10);

    cr_assert_eq(hz_store_wbegin(s, &w, 100, NULL), 0);
    /* The same key added twice in one batch sums. */
    cr_assert_eq(hz_store_add(w, "example.com", day, HZ_DIM_PAGE, "/a", 2, &c), 0);
    cr_assert_eq(hz_store_add(w, "example.com", day, HZ_DIM_PAGE, "/a", 2, &c), 0);
    cr_assert_eq(hz_store_add(w, "example.com", day, HZ_DIM_PAGE, "/b", 2, &c), 0);
    c = cnt(3, 4, 5);
    c.nonbounce = 2;
    c.duration_ms = 1234;
    cr_assert_eq(hz_store_add(w, "example.com", day, HZ_DIM_TOTAL, "", 0, &c), 0);
    cr_assert_eq(hz_store_add(w, "example.com", day + 1, HZ_DIM_TOTAL, "", 0, &c), 0);
    cr_assert_eq(hz_store_add(w, "other.org", day, HZ_DIM_TOTAL, "", 0, &c), 0);
    cr_assert_eq(hz_store_set_position(w, "1700000000000-7"), 0);
    commit(w);

    /* A second batch adds to existing rows. */
    cr_assert_eq(hz_store_wbegin(s, &w, 100, NULL), 0);
    c = cnt(1, 0, 1);
    cr_assert_eq(hz_store_add(w, "example.com", day, HZ_DIM_PAGE, "/a", 2, &c), 0);
    cr_assert_eq(hz_store_set_position(w, "1700000000001-0"), 0);
    commit(w);

    cr_assert_eq(hz_store_rbegin(s, &r, NULL), 0);
    struct rows_acc a = {0};
    cr_assert_eq(hz_store_dim(r, "example.com", HZ_DIM_PAGE, day, day, rows_cb, &a), 0);
    cr_assert_eq(a.n, 2);
    cr_assert_eq(rows_find(&a, "/a")->pageviews, 3);
    cr_assert_eq(rows_find(&a, "/a")->visitors, 3);
    cr_assert_eq(rows_find(&a, "/a")->visits, 2);
    cr_assert_eq(rows_find(&a, "/b")->pageviews, 1);

    cr_assert_eq(hz_store_totals(r, "example.com", day, day + 1, &tot), 0);
    cr_assert_eq(tot.visitors, 6);
    cr_assert_eq(tot.visits, 8);
    cr_assert_eq(tot.pageviews, 10);
    cr_assert_eq(tot.nonbounce, 4);
    cr_assert_eq(tot.duration_ms, 2468);
    cr_assert_eq(hz_store_totals(r, "example.co", day, day + 1, &tot), 0);
    cr_assert_eq(tot.visits, 0, "a site name that is a prefix of another sees nothing");

    char pos[64];
    cr_assert_eq(hz_store_position(r, pos), 0);
    cr_assert_str_eq(pos, "1700000000001-0");
    int32_t first, last;
    cr_assert_eq(hz_store_span(r, "example.com", &first, &last), 0);
    cr_assert_eq(first, day);
    cr_assert_eq(last, day + 1);
    cr_assert_eq(hz_store_span(r, "nothing.net", &first, &last), HZ_ENOTFOUND);
    hz_store_rend(r);
    hz_store_close(s);

    /* Read-only reopen sees the same. */
    cr_assert_eq(hz_store_open(&s, dir, 1, 0, NULL), 0);
    cr_assert_eq(hz_store_rbegin(s, &r, NULL), 0);
    cr_assert_eq(hz_store_totals(r, "other.org", day, day, &tot), 0);
    cr_assert_eq(tot.pageviews, 5);
    hz_store_rend(r);
    hz_store_close(s);
}

Test(store, rejects_bad_input)
{
    hz_store *s = wopen(1 << 20);
    hz_wtxn *w;
    struct hz_counts c = cnt(1, 1, 1);
    char big[300];

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    big[0] = '/';
    cr_assert_eq(hz_store_wbegin(s, &w, 100, NULL), 0);
    cr_assert_eq(hz_store_add(w, "", 1, HZ_DIM_PAGE, "/a", 2, &c), HZ_EINVAL);
    cr_assert_eq(hz_store_add(w, "a.b", 1, HZ_DIM_COUNT, "/a", 2, &c), HZ_EINVAL);
    cr_assert_eq(hz_store_add(w, "a.b", 1, HZ_DIM_PAGE, big, strlen(big), &c), HZ_EINVAL);
    cr_assert_eq(hz_store_add(w, "a.b", -1, HZ_DIM_PAGE, "/a", 2, &c), HZ_EINVAL);
    cr_assert_eq(hz_store_add(w, "a.b", 1, HZ_DIM_PAGE, "/\0a", 3, &c), HZ_EINVAL);
    cr_assert_eq(hz_store_set_position(w, ""), HZ_EINVAL);
    hz_store_abort(w);
    hz_store_close(s);
    /* A read-only open of a folder that holds no store fails with a message. */
    struct hz_err e = {0};
    hz_store *ro = NULL;
    cr_assert_eq(hz_store_open(&ro, "/nonexistent/haze", 1, 0, &e), HZ_ESTORE);
    cr_assert(strstr(e.msg, "/nonexistent/haze") != NULL);
}

/* ------------------------------------------------------- month rollups */

static uint64_t
lcg(uint64_t *st)
{
    *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
    return *st >> 33;
}

Test(store, month_rollups_equal_day_sums)
{
    hz_store *s = wopen(8 << 20);
    hz_wtxn *w;
    hz_rtxn *r;
    int32_t d0 = hz_days_from_civil(2025, 11, 20);
    uint64_t st = 42;
    const char *pages[] = {"/", "/a", "/b", "/c", "/d"};

    /* 100 days across four month boundaries, random counts. */
    cr_assert_eq(hz_store_wbegin(s, &w, 1000, NULL), 0);
    for (int i = 0; i < 600; i++) {
        int32_t day = d0 + (int32_t)(lcg(&st) % 100);
        const char *p = pages[lcg(&st) % 5];
        struct hz_counts c = cnt(lcg(&st) % 5, lcg(&st) % 3, lcg(&st) % 7);
        c.engaged_ms = lcg(&st) % 100000;
        cr_assert_eq(hz_store_add(w, "s.io", day, HZ_DIM_PAGE, p, strlen(p), &c), 0);
        cr_assert_eq(hz_store_add(w, "s.io", day, HZ_DIM_TOTAL, "", 0, &c), 0);
        cr_assert_eq(hz_store_add_engaged(w, "s.io", day, p, lcg(&st) % 600000), 0);
        cr_assert_eq(
            hz_store_add_funnel(w, "s.io", day, "buy", (int)(lcg(&st) % 3), 1, 1, lcg(&st) % 60000),
            0);
        cr_assert_eq(hz_store_add_transition(w, "s.io", day, p, pages[lcg(&st) % 5], 1), 0);
    }
    commit(w);

    cr_assert_eq(hz_store_rbegin(s, &r, NULL), 0);
    int32_t ranges[][2] = {{d0, d0 + 99},       {d0 + 11, d0 + 72}, {d0 + 3, d0 + 5},
                           {d0 - 10, d0 + 200}, {d0 + 42, d0 + 42}, {d0 + 12, d0 + 41}};
    for (size_t k = 0; k < sizeof(ranges) / sizeof(ranges[0]); k++) {
        int32_t from = ranges[k][0], to = ranges[k][1];
        struct rows_acc whole = {0};
        struct hz_counts sum[5], tot, dsum;
        uint64_t hw[HZ_HIST_BUCKETS], hd[HZ_HIST_BUCKETS], hsum[HZ_HIST_BUCKETS] = {0};
        struct hz_funnel_step_counts fw[3], fd[3], fsum[3];

        memset(sum, 0, sizeof(sum));
        memset(&dsum, 0, sizeof(dsum));
        memset(fsum, 0, sizeof(fsum));
        cr_assert_eq(hz_store_dim(r, "s.io", HZ_DIM_PAGE, from, to, rows_cb, &whole), 0);
        cr_assert_eq(hz_store_totals(r, "s.io", from, to, &tot), 0);
        cr_assert_eq(hz_store_hist(r, "s.io", "/a", from, to, hw), 0);
        cr_assert_eq(hz_store_funnel(r, "s.io", "buy", 3, from, to, fw), 0);
        for (int32_t d = from; d <= to; d++) {
            struct rows_acc one = {0};
            struct hz_counts t1;
            cr_assert_eq(hz_store_dim(r, "s.io", HZ_DIM_PAGE, d, d, rows_cb, &one), 0);
            for (int i = 0; i < one.n; i++)
                for (int p = 0; p < 5; p++)
                    if (strcmp(one.values[i], pages[p]) == 0) {
                        sum[p].visitors += one.c[i].visitors;
                        sum[p].pageviews += one.c[i].pageviews;
                        sum[p].engaged_ms += one.c[i].engaged_ms;
                    }
            cr_assert_eq(hz_store_totals(r, "s.io", d, d, &t1), 0);
            dsum.visits += t1.visits;
            cr_assert_eq(hz_store_hist(r, "s.io", "/a", d, d, hd), 0);
            for (int b = 0; b < HZ_HIST_BUCKETS; b++)
                hsum[b] += hd[b];
            cr_assert_eq(hz_store_funnel(r, "s.io", "buy", 3, d, d, fd), 0);
            for (int i = 0; i < 3; i++) {
                fsum[i].visitors += fd[i].visitors;
                for (int b = 0; b < HZ_HIST_BUCKETS; b++)
                    fsum[i].hist[b] += fd[i].hist[b];
            }
        }
        for (int p = 0; p < 5; p++) {
            const struct hz_counts *c = rows_find(&whole, pages[p]);
            uint64_t pv = c ? c->pageviews : 0, vi = c ? c->visitors : 0,
                     en = c ? c->engaged_ms : 0;
            cr_assert_eq(pv, sum[p].pageviews, "range %zu page %s", k, pages[p]);
            cr_assert_eq(vi, sum[p].visitors);
            cr_assert_eq(en, sum[p].engaged_ms);
        }
        cr_assert_eq(tot.visits, dsum.visits, "range %zu", k);
        cr_assert_arr_eq(hw, hsum, sizeof(hw));
        for (int i = 0; i < 3; i++) {
            cr_assert_eq(fw[i].visitors, fsum[i].visitors);
            cr_assert_arr_eq(fw[i].hist, fsum[i].hist, sizeof(fw[i].hist));
        }
    }
    hz_store_rend(r);
    hz_store_close(s);
}

/* ---------------------------------------------------------- histograms */

struct bucket_case {
    uint64_t ms;
    int bucket;
};

static struct bucket_case bucket_cases[] = {
    {0, 0},        {999, 0},      {1000, 1},     {1999, 1},      {2000, 2},
    {3999, 2},     {4000, 3},     {60000, 6},    {2047999, 11},  {2048000, 12},
    {4095999, 12}, {4096000, 13}, {3600000, 12}, {86400000, 13}, {UINT64_MAX, 13},
};

ParameterizedTestParameters(hist, bucket)
{
    return cr_make_param_array(struct bucket_case, bucket_cases,
                               sizeof(bucket_cases) / sizeof(bucket_cases[0]));
}

ParameterizedTest(struct bucket_case *c, hist, bucket)
{
    uint64_t lo, hi;
    int b = hz_hist_bucket(c->ms);
    cr_assert_eq(b, c->bucket, "ms %llu", (unsigned long long)c->ms);
    hz_hist_bounds(b, &lo, &hi);
    cr_assert_leq(lo, c->ms);
    if (b < HZ_HIST_BUCKETS - 1)
        cr_assert_lt(c->ms, hi);
}

Test(hist, quantiles)
{
    uint64_t h[HZ_HIST_BUCKETS] = {0};

    cr_assert_eq(hz_hist_quantile(h, 0.5), 0, "empty");
    /* Ten samples in [4 s, 8 s): the median is inside, geometric middle. */
    h[3] = 10;
    uint64_t m = hz_hist_quantile(h, 0.5);
    cr_assert(m >= 5600 && m <= 5700, "median %llu", (unsigned long long)m);
    cr_assert_eq(hz_hist_quantile(h, 1.0), 8000);
    cr_assert_eq(hz_hist_quantile(h, 0.0), 4000);
    /* 3 short (< 1 s), 1 long: the median is short, p75 at the top of bucket 0
     * and p90 in the long bucket. */
    memset(h, 0, sizeof(h));
    h[0] = 3;
    h[6] = 1;
    cr_assert_lt(hz_hist_quantile(h, 0.5), 1000);
    cr_assert_eq(hz_hist_quantile(h, 0.75), 1000);
    uint64_t p90 = hz_hist_quantile(h, 0.9);
    cr_assert(p90 >= 32000 && p90 < 64000, "p90 %llu", (unsigned long long)p90);
    /* Monotone in q. */
    uint64_t prev = 0;
    for (int i = 0; i <= 100; i++) {
        uint64_t q = hz_hist_quantile(h, i / 100.0);
        cr_assert_geq(q, prev);
        prev = q;
    }
}

struct hists_acc {
    int n;
    uint64_t all[HZ_HIST_BUCKETS];
    uint64_t a[HZ_HIST_BUCKETS];
};

static void
hists_cb(const char *page, size_t plen, const uint64_t h[HZ_HIST_BUCKETS], void *arg)
{
    struct hists_acc *x = arg;
    x->n++;
    if (plen == 0)
        memcpy(x->all, h, sizeof(x->all));
    else if (strcmp(page, "/a") == 0)
        memcpy(x->a, h, sizeof(x->a));
}

Test(store, engaged_histograms)
{
    hz_store *s = wopen(1 << 20);
    hz_wtxn *w;
    hz_rtxn *r;
    int32_t day = 20000;
    uint64_t h[HZ_HIST_BUCKETS];

    cr_assert_eq(hz_store_wbegin(s, &w, 100, NULL), 0);
    cr_assert_eq(hz_store_add_engaged(w, "x.io", day, "/a", 500), 0);
    cr_assert_eq(hz_store_add_engaged(w, "x.io", day, "/a", 5000), 0);
    cr_assert_eq(hz_store_add_engaged(w, "x.io", day, "/a", 5500), 0);
    cr_assert_eq(hz_store_add_engaged(w, "x.io", day, "/b", 100000), 0);
    commit(w);
    cr_assert_eq(hz_store_rbegin(s, &r, NULL), 0);
    cr_assert_eq(hz_store_hist(r, "x.io", "/a", day, day, h), 0);
    cr_assert_eq(h[0], 1);
    cr_assert_eq(h[3], 2);
    cr_assert_eq(hz_store_hist(r, "x.io", "", day, day, h), 0);
    cr_assert_eq(h[0] + h[3] + h[7], 4, "the site-wide histogram has every sample");
    cr_assert_eq(h[7], 1);
    struct hists_acc x = {0};
    cr_assert_eq(hz_store_hists(r, "x.io", day, day, hists_cb, &x), 0);
    cr_assert_eq(x.n, 3);
    cr_assert_eq(x.a[3], 2);
    cr_assert_eq(x.all[7], 1);
    hz_store_rend(r);
    hz_store_close(s);
}

/* ------------------------------------------------ funnels, transitions */

Test(store, funnels)
{
    hz_store *s = wopen(1 << 20);
    hz_wtxn *w;
    hz_rtxn *r;
    struct hz_funnel_step_counts f[4];

    cr_assert_eq(hz_store_wbegin(s, &w, 100, NULL), 0);
    cr_assert_eq(hz_store_add_funnel(w, "x.io", 100, "checkout", 0, 10, 0, 0), 0);
    cr_assert_eq(hz_store_add_funnel(w, "x.io", 100, "checkout", 1, 1, 1, 3000), 0);
    cr_assert_eq(hz_store_add_funnel(w, "x.io", 100, "checkout", 1, 1, 1, 3500), 0);
    cr_assert_eq(hz_store_add_funnel(w, "x.io", 101, "checkout", 2, 1, 1, 70000), 0);
    cr_assert_eq(hz_store_add_funnel(w, "x.io", 100, "check", 0, 5, 0, 0), 0);
    commit(w);
    cr_assert_eq(hz_store_rbegin(s, &r, NULL), 0);
    cr_assert_eq(hz_store_funnel(r, "x.io", "checkout", 4, 100, 101, f), 0);
    cr_assert_eq(f[0].visitors, 10, "a funnel whose name prefixes another is separate");
    cr_assert_eq(f[1].visitors, 2);
    cr_assert_eq(f[1].hist[2], 2);
    cr_assert_eq(f[2].visitors, 1);
    cr_assert_eq(f[2].hist[hz_hist_bucket(70000)], 1);
    cr_assert_eq(f[3].visitors, 0);
    uint64_t sum = 0;
    for (int b = 0; b < HZ_HIST_BUCKETS; b++)
        sum += f[0].hist[b];
    cr_assert_eq(sum, 0, "step 0 has no time");
    hz_store_rend(r);
    hz_store_close(s);
}

struct trans_acc {
    int n;
    char from[8][300], to[8][300];
    uint64_t c[8];
};

static void
trans_cb(const char *f, size_t fl, const char *t, size_t tl, uint64_t n, void *arg)
{
    struct trans_acc *a = arg;
    cr_assert_lt(a->n, 8);
    cr_assert_eq(strlen(f), fl);
    cr_assert_eq(strlen(t), tl);
    memcpy(a->from[a->n], f, fl + 1);
    memcpy(a->to[a->n], t, tl + 1);
    a->c[a->n++] = n;
}

static uint64_t
trans_find(const struct trans_acc *a, const char *f, const char *t)
{
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->from[i], f) == 0 && strcmp(a->to[i], t) == 0)
            return a->c[i];
    return 0;
}

Test(store, transitions)
{
    hz_store *s = wopen(1 << 20);
    hz_wtxn *w;
    hz_rtxn *r;
    char longa[256], longb[256];

    /* Two 255-byte paths: 521 bytes of key, over LMDB's 511. */
    memset(longa, 'a', 255);
    memset(longb, 'b', 255);
    longa[0] = longb[0] = '/';
    longa[255] = longb[255] = 0;
    cr_assert_eq(hz_store_wbegin(s, &w, 100, NULL), 0);
    cr_assert_eq(hz_store_add_transition(w, "x.io", 50, "/", "/a", 2), 0);
    cr_assert_eq(hz_store_add_transition(w, "x.io", 51, "/", "/a", 1), 0);
    cr_assert_eq(hz_store_add_transition(w, "x.io", 51, "/a", "/", 1), 0);
    /* Too long for one LMDB key: folded, not dropped. */
    cr_assert_eq(hz_store_add_transition(w, "x.io", 51, longa, longb, 4), 0);
    commit(w);
    cr_assert_eq(hz_store_rbegin(s, &r, NULL), 0);
    struct trans_acc a = {0};
    cr_assert_eq(hz_store_transitions(r, "x.io", 50, 51, trans_cb, &a), 0);
    cr_assert_eq(a.n, 3);
    cr_assert_eq(trans_find(&a, "/", "/a"), 3);
    cr_assert_eq(trans_find(&a, "/a", "/"), 1);
    cr_assert_eq(trans_find(&a, "(other)", "(other)"), 4);
    hz_store_rend(r);
    hz_store_close(s);
}

/* ------------------------------------------------------ cardinality cap */

Test(store, cardinality_cap_folds_into_other)
{
    hz_store *s = wopen(4 << 20);
    hz_wtxn *w;
    hz_rtxn *r;
    struct hz_counts c = cnt(1, 1, 1);
    char v[32];

    /* 15 values in batch 1, 10 more in batch 2 (5 of them old), cap 20. */
    cr_assert_eq(hz_store_wbegin(s, &w, 20, NULL), 0);
    for (int i = 0; i < 15; i++) {
        int n = snprintf(v, sizeof(v), "/p%02d", i);
        cr_assert_eq(hz_store_add(w, "x.io", 300, HZ_DIM_PAGE, v, (size_t)n, &c), 0);
        cr_assert_eq(hz_store_add_engaged(w, "x.io", 300, v, 1500), 0);
    }
    commit(w);
    cr_assert_eq(hz_store_wbegin(s, &w, 20, NULL), 0);
    for (int i = 10; i < 40; i++) {
        int n = snprintf(v, sizeof(v), "/p%02d", i);
        cr_assert_eq(hz_store_add(w, "x.io", 300, HZ_DIM_PAGE, v, (size_t)n, &c), 0);
        cr_assert_eq(hz_store_add_engaged(w, "x.io", 300, v, 1500), 0);
    }
    /* Another day and another dim have their own budget. */
    cr_assert_eq(hz_store_add(w, "x.io", 301, HZ_DIM_PAGE, "/new", 4, &c), 0);
    cr_assert_eq(hz_store_add(w, "x.io", 300, HZ_DIM_BROWSER, "Firefox", 7, &c), 0);
    commit(w);

    cr_assert_eq(hz_store_rbegin(s, &r, NULL), 0);
    struct rows_acc a = {0};
    cr_assert_eq(hz_store_dim(r, "x.io", HZ_DIM_PAGE, 300, 300, rows_cb, &a), 0);
    cr_assert_eq(a.n, 21, "20 values plus (other)");
    cr_assert_eq(rows_find(&a, "/p10")->pageviews, 2, "an existing value still counts");
    cr_assert_eq(rows_find(&a, "/p19")->pageviews, 1);
    cr_assert_null(rows_find(&a, "/p20"));
    cr_assert_eq(rows_find(&a, "(other)")->pageviews, 20);
    uint64_t total = 0;
    for (int i = 0; i < a.n; i++)
        total += a.c[i].pageviews;
    cr_assert_eq(total, 45, "nothing is dropped");
    /* The month row mirrors the day's values. */
    struct rows_acc m = {0};
    int32_t first = hz_days_from_civil(1970, 10, 1);
    cr_assert_eq(hz_store_dim(r, "x.io", HZ_DIM_PAGE, first, first + 30, rows_cb, &m), 0);
    cr_assert_eq(m.n, 22);
    cr_assert_eq(rows_find(&m, "(other)")->pageviews, 20);
    struct rows_acc b = {0};
    cr_assert_eq(hz_store_dim(r, "x.io", HZ_DIM_BROWSER, 300, 300, rows_cb, &b), 0);
    cr_assert_eq(b.n, 1);
    uint64_t h[HZ_HIST_BUCKETS];
    cr_assert_eq(hz_store_hist(r, "x.io", "(other)", 300, 300, h), 0);
    cr_assert_eq(h[1], 20, "engaged time past the cap folds too");
    hz_store_rend(r);
    hz_store_close(s);
}

/* A batch dropped unwritten leaves no trace in later cap decisions: the
 * values it admitted are not rows, so they count as new again. */
Test(store, cap_forgets_a_dropped_batch)
{
    hz_store *s = wopen(4 << 20);
    hz_wtxn *w;
    hz_rtxn *r;
    struct hz_counts c = cnt(1, 1, 1);

    cr_assert_eq(hz_store_wbegin(s, &w, 2, NULL), 0);
    cr_assert_eq(hz_store_add(w, "x.io", 300, HZ_DIM_PAGE, "/a", 2, &c), 0);
    cr_assert_eq(hz_store_add(w, "x.io", 300, HZ_DIM_PAGE, "/b", 2, &c), 0);
    commit(w);
    cr_assert_eq(hz_store_wbegin(s, &w, 3, NULL), 0);
    cr_assert_eq(hz_store_add(w, "x.io", 300, HZ_DIM_PAGE, "/c", 2, &c), 0);
    hz_store_abort(w);
    cr_assert_eq(hz_store_wbegin(s, &w, 3, NULL), 0);
    cr_assert_eq(hz_store_add(w, "x.io", 300, HZ_DIM_PAGE, "/d", 2, &c), 0);
    cr_assert_eq(hz_store_add(w, "x.io", 300, HZ_DIM_PAGE, "/c", 2, &c), 0);
    cr_assert_eq(hz_store_add(w, "x.io", 300, HZ_DIM_PAGE, "/a", 2, &c), 0);
    commit(w);

    cr_assert_eq(hz_store_rbegin(s, &r, NULL), 0);
    struct rows_acc a = {0};
    cr_assert_eq(hz_store_dim(r, "x.io", HZ_DIM_PAGE, 300, 300, rows_cb, &a), 0);
    cr_assert_eq(a.n, 4, "/a /b /d and (other)");
    cr_assert_eq(rows_find(&a, "/a")->pageviews, 2, "a committed value is a row");
    cr_assert_not_null(rows_find(&a, "/d"), "admitted: the dropped /c took no room");
    cr_assert_null(rows_find(&a, "/c"), "the dropped batch's value is new again");
    cr_assert_eq(rows_find(&a, "(other)")->pageviews, 1);
    hz_store_rend(r);
    hz_store_close(s);
}

/* ---------------------------------------------------------- retention */

/* 1 if the bytes of needle occur anywhere in file. */
static int
file_contains(const char *file, const char *needle)
{
    FILE *f = fopen(file, "rb");
    size_t n = strlen(needle), len = 0, cap = 0;
    char *buf = NULL;
    int found = 0;

    cr_assert_not_null(f, "%s", file);
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 1 << 20;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        if (r == 0)
            break;
        len += r;
    }
    fclose(f);
    for (size_t i = 0; i + n <= len && !found; i++)
        found = memcmp(buf + i, needle, n) == 0;
    free(buf);
    return found;
}

Test(store, retention_deletes_and_compacts)
{
    hz_store *s = wopen(4 << 20);
    hz_wtxn *w;
    hz_rtxn *r;
    struct hz_counts c = cnt(1, 1, 1), tot;
    int32_t old = hz_days_from_civil(2025, 1, 15), keep = hz_days_from_civil(2025, 3, 2);
    int32_t cutoff = hz_days_from_civil(2025, 3, 1);
    char path[256];

    cr_assert_eq(hz_store_wbegin(s, &w, 100, NULL), 0);
    const char *secret = "/secret-old-page-zq7";
    cr_assert_eq(hz_store_add(w, "x.io", old, HZ_DIM_PAGE, secret, strlen(secret), &c), 0);
    cr_assert_eq(hz_store_add(w, "x.io", old, HZ_DIM_TOTAL, "", 0, &c), 0);
    cr_assert_eq(hz_store_add_engaged(w, "x.io", old, secret, 3000), 0);
    cr_assert_eq(hz_store_add_transition(w, "x.io", old, "/", secret, 1), 0);
    cr_assert_eq(hz_store_add_hour(w, "x.io", old * 24 + 5, &c), 0);
    cr_assert_eq(hz_store_add(w, "x.io", keep, HZ_DIM_PAGE, "/kept", 5, &c), 0);
    cr_assert_eq(hz_store_add(w, "x.io", keep, HZ_DIM_TOTAL, "", 0, &c), 0);
    cr_assert_eq(hz_store_add_hour(w, "x.io", keep * 24 + 5, &c), 0);
    /* Many rows so the file has several pages. */
    for (int i = 0; i < 3000; i++) {
        char v[32];
        int n = snprintf(v, sizeof(v), "/filler/%d", i);
        cr_assert_eq(hz_store_add(w, "x.io", old + 1, HZ_DIM_PAGE, v, (size_t)n, &c), 0);
    }
    cr_assert_eq(hz_store_set_position(w, "5-5"), 0);
    commit(w);
    (void)snprintf(path, sizeof(path), "%s/data.mdb", dir);
    cr_assert(file_contains(path, secret));

    struct stat before, after;
    cr_assert_eq(stat(path, &before), 0);
    struct hz_err e = {0};
    cr_assert_eq(hz_store_retain(s, cutoff, &e), 0, "%s", e.msg);
    cr_assert_eq(stat(path, &after), 0);
    cr_assert_neq(before.st_ino, after.st_ino, "a compacted copy was swapped in");
    cr_assert_eq(hz_store_replaced(s), 0, "the writer reopened the new file");
    cr_assert_not(file_contains(path, secret), "the deleted page is gone from the file");
    cr_assert_not(file_contains(path, "/filler/17"));
    cr_assert(file_contains(path, "/kept"));
    (void)snprintf(path, sizeof(path), "%s/compact.tmp", dir);
    cr_assert_neq(access(path, F_OK), 0, "no temporary left behind");

    cr_assert_eq(hz_store_rbegin(s, &r, NULL), 0);
    cr_assert_eq(hz_store_totals(r, "x.io", old - 100, keep + 100, &tot), 0);
    cr_assert_eq(tot.pageviews, 1);
    char pos[64];
    cr_assert_eq(hz_store_position(r, pos), 0);
    cr_assert_str_eq(pos, "5-5", "the position survives compaction");
    int32_t ret;
    cr_assert_eq(hz_store_retained(r, &ret), 0);
    cr_assert_eq(ret, cutoff);
    int32_t first, last;
    cr_assert_eq(hz_store_span(r, "x.io", &first, &last), 0);
    cr_assert_eq(first, keep);
    hz_store_rend(r);

    /* The store keeps working after the swap. */
    cr_assert_eq(hz_store_wbegin(s, &w, 100, NULL), 0);
    cr_assert_eq(hz_store_add(w, "x.io", keep, HZ_DIM_TOTAL, "", 0, &c), 0);
    commit(w);
    cr_assert_eq(hz_store_rbegin(s, &r, NULL), 0);
    cr_assert_eq(hz_store_totals(r, "x.io", keep, keep, &tot), 0);
    cr_assert_eq(tot.pageviews, 2);
    hz_store_rend(r);
    hz_store_close(s);
}

/* A reader process keeps the environment (and its lock file) open while the
 * writer compacts, reopens and writes: the reader sees a frozen snapshot,
 * learns it was replaced, reopens and sees everything; the writer, which
 * shared the reader's lock file, wrote on the full data, not an empty meta. */
static void
reader_across_compaction(int extra)
{
    int go[2], done[2];
    hz_store *s = wopen(4 << 20);
    hz_wtxn *w;
    struct hz_counts c = cnt(1, 1, 1);

    for (int i = 0; i < 3; i++) {
        /* Several commits so the txnid parity is not that of a fresh file. */
        cr_assert_eq(hz_store_wbegin(s, &w, 100, NULL), 0);
        cr_assert_eq(hz_store_add(w, "x.io", 20000, HZ_DIM_TOTAL, "", 0, &c), 0);
        commit(w);
    }
    for (int i = 0; i < extra; i++) {
        cr_assert_eq(hz_store_wbegin(s, &w, 100, NULL), 0);
        cr_assert_eq(hz_store_add(w, "x.io", 19000, HZ_DIM_TOTAL, "", 0, &c), 0);
        commit(w);
    }
    hz_store_close(s);
    cr_assert_eq(pipe(go), 0);
    cr_assert_eq(pipe(done), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        hz_store *ro;
        hz_rtxn *r;
        struct hz_counts t;
        char b;
        int ok = 1;
        alarm(20); /* never outlive a failed parent */
        if (hz_store_open(&ro, dir, 1, 0, NULL) != 0)
            _exit(2);
        ok &= write(done[1], "r", 1) == 1;
        ok &= read(go[0], &b, 1) == 1;
        /* Frozen: still 3 (the old file), and replaced. */
        ok &= hz_store_rbegin(ro, &r, NULL) == 0;
        ok &= hz_store_totals(r, "x.io", 20000, 20000, &t) == 0 && t.pageviews == 3;
        hz_store_rend(r);
        ok &= hz_store_replaced(ro) == 1;
        hz_store_close(ro);
        ok &= hz_store_open(&ro, dir, 1, 0, NULL) == 0;
        ok &= hz_store_rbegin(ro, &r, NULL) == 0;
        ok &= hz_store_totals(r, "x.io", 20000, 20000, &t) == 0 && t.pageviews == 5;
        hz_store_rend(r);
        ok &= hz_store_replaced(ro) == 0;
        hz_store_close(ro);
        _exit(ok ? 0 : 1);
    }
    char b;
    cr_assert_eq(read(done[0], &b, 1), 1);
    s = wopen(4 << 20);
    struct hz_err e = {0};
    cr_assert_eq(hz_store_retain(s, 10, &e), 0, "%s", e.msg);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(hz_store_wbegin(s, &w, 100, NULL), 0);
        cr_assert_eq(hz_store_add(w, "x.io", 20000, HZ_DIM_TOTAL, "", 0, &c), 0);
        commit(w);
    }
    hz_rtxn *r;
    struct hz_counts t;
    cr_assert_eq(hz_store_rbegin(s, &r, NULL), 0);
    cr_assert_eq(hz_store_totals(r, "x.io", 20000, 20000, &t), 0);
    cr_assert_eq(t.pageviews, 5);
    hz_store_rend(r);
    cr_assert_eq(write(go[1], "g", 1), 1);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "reader saw %d", WEXITSTATUS(status));
    hz_store_close(s);
}

/* Both parities of the lock file's transaction id. */
Test(store, reader_across_compaction_even)
{
    reader_across_compaction(0);
}

Test(store, reader_across_compaction_odd)
{
    reader_across_compaction(1);
}

/* ------------------------------------------------------------ map full */

static void
count_cb(const char *value, size_t vlen, const struct hz_counts *c, void *arg)
{
    (void)value;
    (void)vlen;
    *(uint64_t *)arg += c->pageviews;
}

Test(store, map_full_grows)
{
    hz_store *s = wopen(256 * 1024);
    hz_wtxn *w;
    hz_rtxn *r;
    struct hz_counts c = cnt(1, 1, 1);
    size_t before = hz_store_map_size(s);

    cr_assert_eq(hz_store_wbegin(s, &w, 1000000, NULL), 0);
    for (int i = 0; i < 20000; i++) {
        char v[64];
        int n = snprintf(v, sizeof(v), "/some/longer/page/path/number/%d", i);
        cr_assert_eq(hz_store_add(w, "x.io", 1000, HZ_DIM_PAGE, v, (size_t)n, &c), 0);
    }
    cr_assert_eq(hz_store_set_position(w, "9-9"), 0);
    commit(w);
    cr_assert_gt(hz_store_map_size(s), before, "the map grew");
    cr_assert_eq(hz_store_rbegin(s, &r, NULL), 0);
    uint64_t pv = 0;
    cr_assert_eq(hz_store_dim(r, "x.io", HZ_DIM_PAGE, 1000, 1000, count_cb, &pv), 0);
    cr_assert_eq(pv, 20000, "every row of the batch is there");
    char pos[64];
    cr_assert_eq(hz_store_position(r, pos), 0);
    cr_assert_str_eq(pos, "9-9");
    hz_store_rend(r);
    hz_store_close(s);
    /* Reopening with the configured (smaller) size keeps the data. */
    s = wopen(256 * 1024);
    cr_assert_eq(hz_store_rbegin(s, &r, NULL), 0);
    cr_assert_eq(hz_store_position(r, pos), 0);
    cr_assert_str_eq(pos, "9-9");
    hz_store_rend(r);
    hz_store_close(s);
}

/* ---------------------------------------------------------------- prefix */

/* Sums per value of the rows a scan hands over (values "P<n>" or "Q<n>"). */
struct pfx_acc {
    const char *vp; /* NULL: every row; else only rows starting with it */
    uint64_t visitors[2][16], rows;
};

static void
pfx_cb(const char *value, size_t vlen, const struct hz_counts *c, void *arg)
{
    struct pfx_acc *a = arg;
    size_t pl = a->vp != NULL ? strlen(a->vp) : 0;

    if (a->vp != NULL && (vlen < pl || memcmp(value, a->vp, pl) != 0))
        return;
    cr_assert(vlen >= 3 && (value[0] == 'P' || value[0] == 'Q'));
    a->visitors[value[0] == 'Q'][(value[1] - '0') * 10 + (value[2] - '0')] += c->visitors;
    a->rows++;
}

/* The rows a scan hands over, in order: value bytes and visitors. */
struct pfx_seq {
    char v[4096][8];
    uint64_t visitors[4096];
    size_t n;
};

static void
pfx_seq_cb(const char *value, size_t vlen, const struct hz_counts *c, void *arg)
{
    struct pfx_seq *q = arg;

    cr_assert_lt(q->n, 4096);
    cr_assert_lt(vlen, 8);
    memcpy(q->v[q->n], value, vlen);
    q->v[q->n][vlen] = '\0';
    q->visitors[q->n++] = c->visitors;
}

/* hz_store_dim_rows_prefix's rows are its plan's, and its plan's periods
 * read one by one give them again in the same order, each period's in
 * increasing order of value. */
static void
pfx_plan_check(hz_rtxn *r, const char *vp, int32_t from, int32_t to)
{
    static struct pfx_seq all, per;
    struct hz_store_plan p, one;

    all.n = per.n = 0;
    cr_assert_eq(hz_store_dim_rows_prefix(r, "s.io", HZ_DIM_CROSS, vp, strlen(vp), from, to,
                                          pfx_seq_cb, &all),
                 0);
    cr_assert_eq(hz_store_plan_prefix(r, "s.io", HZ_DIM_CROSS, vp, strlen(vp), from, to, &p), 0);
    for (size_t k = 0; k < hz_store_plan_periods(&p); k++) {
        size_t n0 = per.n;
        hz_store_plan_period(&p, k, &one);
        cr_assert_eq(one.n, 1);
        cr_assert_eq(hz_store_plan_rows(r, &one, pfx_seq_cb, &per), 0);
        for (size_t i = n0 + 1; i < per.n; i++)
            cr_assert_lt(strcmp(per.v[i - 1], per.v[i]), 0, "period %zu", k);
    }
    cr_assert_eq(per.n, all.n, "\"%s\" over %d..%d", vp, from, to);
    for (size_t i = 0; i < all.n; i++)
        cr_assert(strcmp(per.v[i], all.v[i]) == 0 && per.visitors[i] == all.visitors[i],
                  "\"%s\" over %d..%d: row %zu", vp, from, to, i);
}

Test(store, prefix_rows_sum_to_filtered_rows)
{
    hz_store *s = wopen(8 << 20);
    hz_wtxn *w;
    hz_rtxn *r;
    int32_t d0 = hz_days_from_civil(2025, 11, 20);
    uint64_t st = 7, seen = 0;

    /* 90 days across three month boundaries; two prefixes interleaved. */
    cr_assert_eq(hz_store_wbegin(s, &w, 1000, NULL), 0);
    for (int i = 0; i < 800; i++) {
        char v[8];
        int32_t day = d0 + (int32_t)(lcg(&st) % 90);
        int n = snprintf(v, sizeof(v), "%c%02d", lcg(&st) % 2 ? 'P' : 'Q', (int)(lcg(&st) % 16));
        struct hz_counts c = cnt(1 + lcg(&st) % 5, 1, 1);
        cr_assert_eq(hz_store_add(w, "s.io", day, HZ_DIM_CROSS, v, (size_t)n, &c), 0);
    }
    commit(w);
    /* Then retention cuts into December (it takes the deleted days out of
     * December's month row too). */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            struct hz_err e = {0};
            cr_assert_eq(hz_store_retain(s, hz_days_from_civil(2025, 12, 4), &e), 0, "%s", e.msg);
        }
        cr_assert_eq(hz_store_rbegin(s, &r, NULL), 0);
        for (int k = 0; k < 43; k++) {
            int32_t from = d0 - 5 + (int32_t)(lcg(&st) % 100), to = from + (int32_t)(lcg(&st) % 70);
            if (k >= 40) { /* edges read as month minus days, month alone, days */
                from = hz_days_from_civil(2025, 12, 10);
                to = hz_days_from_civil(2026, 2, k == 40 ? 5 : 17);
                if (k == 42)
                    from = hz_days_from_civil(2025, 12, 3);
            }
            const char *vps[] = {"P", "Q", "P0", "Q1", "P07", "R", ""};
            for (size_t j = 0; j < sizeof(vps) / sizeof(vps[0]); j++) {
                struct pfx_acc all = {vps[j], {{0}}, 0}, pfx = {NULL, {{0}}, 0};
                cr_assert_eq(hz_store_dim_rows(r, "s.io", HZ_DIM_CROSS, from, to, pfx_cb, &all), 0);
                cr_assert_eq(hz_store_dim_rows_prefix(r, "s.io", HZ_DIM_CROSS, vps[j],
                                                      strlen(vps[j]), from, to, pfx_cb, &pfx),
                             0);
                /* Sums, not rows: an edge month may come as its month row
                 * minus the days outside (negated counters, sums wrap back). */
                cr_assert_eq(memcmp(pfx.visitors, all.visitors, sizeof(all.visitors)), 0,
                             "sums of \"%s\" over %d..%d", vps[j], from, to);
                seen += pfx.rows;
                pfx_plan_check(r, vps[j], from, to);
            }
        }
        hz_store_rend(r);
    }
    cr_assert_gt(seen, 1000);
    hz_store_close(s);
}

/* Two read transactions see the same data exactly when their ids agree:
 * a commit in between gives the later one another id. */
Test(store, rtxn_ids_tell_snapshots_apart)
{
    hz_store *s = wopen(8 << 20);
    hz_wtxn *w;
    hz_rtxn *a, *b, *c;
    struct hz_counts k = cnt(1, 1, 1);

    cr_assert_eq(hz_store_wbegin(s, &w, 1000, NULL), 0);
    cr_assert_eq(hz_store_add(w, "s.io", 20000, HZ_DIM_PAGE, "/a", 2, &k), 0);
    commit(w);
    cr_assert_eq(hz_store_rbegin(s, &a, NULL), 0);
    cr_assert_eq(hz_store_rbegin(s, &b, NULL), 0);
    cr_assert_eq(hz_store_rtxn_id(a), hz_store_rtxn_id(b));
    cr_assert_eq(hz_store_of(a), s);
    cr_assert_eq(hz_store_wbegin(s, &w, 1000, NULL), 0);
    cr_assert_eq(hz_store_add(w, "s.io", 20000, HZ_DIM_PAGE, "/b", 2, &k), 0);
    commit(w);
    cr_assert_eq(hz_store_rbegin(s, &c, NULL), 0);
    cr_assert_neq(hz_store_rtxn_id(a), hz_store_rtxn_id(c));
    hz_store_rend(a);
    hz_store_rend(b);
    hz_store_rend(c);
    hz_store_close(s);
}
