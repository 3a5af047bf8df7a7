/* SPDX-License-Identifier: MIT */
/*
 * agg_limits_test.c - the limits that protect the store, through the
 * aggregator: the cardinality cap folds values past max_values into
 * "(other)" in stream order whatever the batch size, and retention deletes
 * old days and compacts, so an old page's name is gone from data.mdb.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregator/consume.h"
#include "common/cfg.h"
#include "common/store.h"
#include "tests/integration/harness.h"

TestSuite(agg_limits, .fini = ht_cleanup);

#define SITE "cap.test"

struct lim_rows {
    int n;
    char v[64][32];
    uint64_t pv[64];
};

static void
lim_cb(const char *value, size_t vlen, const struct hz_counts *c, void *arg)
{
    struct lim_rows *r = arg;
    cr_assert_lt(r->n, 64);
    (void)snprintf(r->v[r->n], sizeof(r->v[0]), "%.*s", (int)vlen, value);
    r->pv[r->n++] = c->pageviews;
}

static uint64_t
lim_pv(const struct lim_rows *r, const char *v)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->v[i], v) == 0)
            return r->pv[i];
    return 0;
}

static void
lim_run(int batch, struct lim_rows *pages, struct lim_rows *entries)
{
    struct ht_redis r;
    char dir[64], ini[256], extra[256];
    static struct hz_config cfg;
    struct hz_err e = {0};
    uint64_t t0 = ((uint64_t)time(NULL) - 3600) * 1000;
    int32_t day;
    hz_agg *a;
    hz_rtxn *t;
    int n = 0;

    cr_assert_eq(ht_redis_start(&r, NULL, 0), 0);
    ht_tmpdir(dir);
    (void)snprintf(extra, sizeof(extra),
                   "[aggregator]\nmax_values = 10\n\n[site " SITE "]\ntimezone = UTC\n");
    ht_agg_config(ini, dir, &r, "cap:events", batch, extra);
    hz_rs *rs = ht_rs_connect(&r);
    /* 25 visitors, each on its own page /p00../p24, then each views /p00. */
    for (int i = 0; i < 25; i++) {
        char page[16], vh[17];
        (void)snprintf(page, sizeof(page), "/p%02d", i);
        (void)snprintf(vh, sizeof(vh), "%016x", i + 1);
        struct hz_record v = ht_rec(HZ_KIND_PAGEVIEW, t0 + (uint64_t)i * 1000, SITE, page, vh);
        ht_xadd(rs, "cap:events", &v), n++;
    }
    for (int i = 0; i < 25; i++) {
        char vh[17];
        (void)snprintf(vh, sizeof(vh), "%016x", i + 1);
        struct hz_record v =
            ht_rec(HZ_KIND_PAGEVIEW, t0 + 60000 + (uint64_t)i * 1000, SITE, "/p00", vh);
        ht_xadd(rs, "cap:events", &v), n++;
    }
    ht_flush(rs, n);
    day = (int32_t)((t0 + 60000) / 86400000);
    cr_assert_eq(hz_cfg_load(&cfg, ini, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_open(&a, &cfg, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_drain(a, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_store_rbegin(hz_agg_store(a), &t, &e), 0, "%s", e.msg);
    memset(pages, 0, sizeof(*pages));
    memset(entries, 0, sizeof(*entries));
    cr_assert_eq(hz_store_dim(t, SITE, HZ_DIM_PAGE, day - 1, day, lim_cb, pages), 0);
    cr_assert_eq(hz_store_dim(t, SITE, HZ_DIM_ENTRY, day - 1, day, lim_cb, entries), 0);
    hz_store_rend(t);
    hz_agg_close(a);
    hz_rs_close(rs);
    ht_redis_stop(&r, 0);
    ht_rmdir(dir);
}

Test(agg_limits, cardinality_cap_in_stream_order, .timeout = 60)
{
    struct lim_rows p1, e1, p2, e2;

    lim_run(7, &p1, &e1);
    /* The first ten pages in stream order keep their rows; the other 15
     * first views fold into (other); /p00 keeps counting. */
    cr_expect_eq(p1.n, 11);
    cr_expect_eq(lim_pv(&p1, "/p00"), 26);
    cr_expect_eq(lim_pv(&p1, "/p09"), 1);
    cr_expect_eq(lim_pv(&p1, "/p10"), 0);
    cr_expect_eq(lim_pv(&p1, "(other)"), 15);
    cr_expect_eq(e1.n, 11);
    cr_expect_eq(lim_pv(&e1, "(other)"), 15 * 2, "entries: visits of 2 pageviews");
    /* Another batch size folds the same. */
    lim_run(1000, &p2, &e2);
    cr_expect_eq(p2.n, p1.n);
    for (int i = 0; i < p1.n; i++)
        cr_expect_eq(lim_pv(&p2, p1.v[i]), p1.pv[i], "%s", p1.v[i]);
}

static int
lim_file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    size_t n = strlen(needle), len;
    char *buf;
    int found = 0;

    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(len + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, len, f), len);
    fclose(f);
    for (size_t i = 0; i + n <= len && !found; i++)
        found = memcmp(buf + i, needle, n) == 0;
    free(buf);
    return found;
}

Test(agg_limits, retention_deletes_and_compacts, .timeout = 60)
{
    struct ht_redis r;
    char dir[64], ini[256], data[128];
    static struct hz_config cfg;
    struct hz_err e = {0};
    int64_t now = (int64_t)time(NULL);
    hz_agg *a;
    hz_rtxn *t;

    cr_assert_eq(ht_redis_start(&r, NULL, 0), 0);
    ht_tmpdir(dir);
    ht_agg_config(ini, dir, &r, "ret:events", 100,
                  "[aggregator]\nretention_days = 30\n\n[site ret.test]\ntimezone = UTC\n");
    hz_rs *rs = ht_rs_connect(&r);
    /* 29 days old: counted now, and past retention at the run below,
     * which pretends to be two days later. */
    struct hz_record old = ht_rec(HZ_KIND_PAGEVIEW, (uint64_t)(now - 29 * 86400) * 1000, "ret.test",
                                  "/old-secret-page-qx", "1111111111111111");
    struct hz_record recent = ht_rec(HZ_KIND_PAGEVIEW, (uint64_t)(now - 3600) * 1000, "ret.test",
                                     "/recent-page", "2222222222222222");
    ht_xadd(rs, "ret:events", &old);
    ht_xadd(rs, "ret:events", &recent);
    ht_flush(rs, 2);
    cr_assert_eq(hz_cfg_load(&cfg, ini, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_open(&a, &cfg, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_drain(a, &e), 0, "%s", e.msg);
    (void)snprintf(data, sizeof(data), "%s/db/data.mdb", dir);
    cr_assert(lim_file_has(data, "/old-secret-page-qx"), "stored before retention");

    cr_assert_eq(hz_agg_retain(a, now + 2 * 86400, &e), 1, "ran: %s", e.msg);
    cr_assert_eq(hz_agg_retain(a, now + 2 * 86400, &e), 0, "once a day");
    cr_assert_not(lim_file_has(data, "/old-secret-page-qx"), "gone from data.mdb");
    cr_assert(lim_file_has(data, "/recent-page"));
    cr_assert_eq(hz_store_rbegin(hz_agg_store(a), &t, &e), 0, "%s", e.msg);
    struct hz_counts c;
    int32_t today = (int32_t)(now / 86400);
    cr_assert_eq(hz_store_totals(t, "ret.test", today - 400, today, &c), 0);
    cr_expect_eq(c.pageviews, 1);
    hz_store_rend(t);
    /* The aggregator keeps folding after the swap. */
    struct hz_record more = ht_rec(HZ_KIND_PAGEVIEW, (uint64_t)(now - 60) * 1000, "ret.test",
                                   "/recent-page", "3333333333333333");
    ht_xadd(rs, "ret:events", &more);
    ht_flush(rs, 1);
    cr_assert_eq(hz_agg_drain(a, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_store_rbegin(hz_agg_store(a), &t, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_store_totals(t, "ret.test", today - 400, today, &c), 0);
    cr_expect_eq(c.pageviews, 2);
    hz_store_rend(t);
    hz_agg_close(a);
    hz_rs_close(rs);
    ht_redis_stop(&r, 0);
    ht_rmdir(dir);
}
