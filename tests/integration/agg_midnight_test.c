/* SPDX-License-Identifier: MIT */
/*
 * agg_midnight_test.c - days follow the site's time zone (Europe/Berlin):
 * a visit across local midnight is one visit of its first day while its
 * pageviews count on their own days; on the spring (23 h) and autumn (25 h)
 * daylight-saving days, hits land on the local day they belong to.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "aggregator/consume.h"
#include "common/cfg.h"
#include "common/store.h"
#include "common/tz.h"
#include "tests/integration/harness.h"

TestSuite(agg_midnight, .fini = ht_cleanup);

#define STREAM "midnight:events"
#define SITE   "berlin.test"

static uint64_t
utc_ms(int y, int m, int d, int hh, int mm)
{
    return ((uint64_t)hz_days_from_civil(y, m, d) * 86400 + (uint64_t)hh * 3600 +
            (uint64_t)mm * 60) *
           1000;
}

struct day_acc {
    int n;
    int32_t day[16];
    struct hz_counts c[16];
};

static void
days_cb(int32_t period, const struct hz_counts *c, void *arg)
{
    struct day_acc *a = arg;
    cr_assert_lt(a->n, 16);
    a->day[a->n] = period;
    a->c[a->n++] = *c;
}

static struct hz_counts
day_of(const struct day_acc *a, int32_t day)
{
    struct hz_counts z;
    for (int i = 0; i < a->n; i++)
        if (a->day[i] == day)
            return a->c[i];
    memset(&z, 0, sizeof(z));
    return z;
}

struct page_acc {
    int n;
    char v[8][32];
    uint64_t pv[8];
};

static void
page_cb(const char *value, size_t vlen, const struct hz_counts *c, void *arg)
{
    struct page_acc *a = arg;
    cr_assert_lt(a->n, 8);
    (void)snprintf(a->v[a->n], sizeof(a->v[0]), "%.*s", (int)vlen, value);
    a->pv[a->n++] = c->pageviews;
}

static uint64_t
page_pv(hz_rtxn *t, int32_t day, const char *page)
{
    struct page_acc a;
    memset(&a, 0, sizeof(a));
    cr_assert_eq(hz_store_dim(t, SITE, HZ_DIM_PAGE, day, day, page_cb, &a), 0);
    for (int i = 0; i < a.n; i++)
        if (strcmp(a.v[i], page) == 0)
            return a.pv[i];
    return 0;
}

Test(agg_midnight, berlin_days_and_dst, .timeout = 60)
{
    struct ht_redis r;
    char dir[64], ini[256];
    static struct hz_config cfg;
    struct hz_err e = {0};
    hz_agg *a;
    hz_rtxn *t;
    int n = 0;

    cr_assert_eq(ht_redis_start(&r, NULL, 0), 0);
    ht_tmpdir(dir);
    ht_agg_config(ini, dir, &r, STREAM, 100, "[site berlin.test]\ntimezone = Europe/Berlin\n");
    hz_rs *rs = ht_rs_connect(&r);

    /* 1. Winter (CET, UTC+1): 2026-01-14 22:50 UTC = 23:50 local on the
     * 14th, then 23:05 UTC = 00:05 local on the 15th, 23:20 = 00:20. */
    struct hz_record v;
    v = ht_rec(HZ_KIND_PAGEVIEW, utc_ms(2026, 1, 14, 22, 50), SITE, "/late", "1111111111111111");
    ht_xadd(rs, STREAM, &v), n++;
    v = ht_rec(HZ_KIND_PAGEVIEW, utc_ms(2026, 1, 14, 23, 5), SITE, "/after", "1111111111111111");
    ht_xadd(rs, STREAM, &v), n++;
    v = ht_rec(HZ_KIND_PAGEVIEW, utc_ms(2026, 1, 14, 23, 20), SITE, "/after2", "1111111111111111");
    ht_xadd(rs, STREAM, &v), n++;

    /* 2. Spring forward, 2026-03-29 (23 h): 22:30 UTC on the 28th is 23:30
     * CET on the 28th; 23:30 UTC is 00:30 CET on the 29th; 21:30 UTC on the
     * 29th is 23:30 CEST (29th); 22:30 UTC on the 29th is 00:30 on the 30th. */
    const struct {
        int d, hh;
        const char *page;
    } spring[] = {{28, 22, "/s1"}, {28, 23, "/s2"}, {29, 21, "/s3"}, {29, 22, "/s4"}};
    for (int i = 0; i < 4; i++) {
        char vh[17];
        (void)snprintf(vh, sizeof(vh), "2%015d", i);
        v = ht_rec(HZ_KIND_PAGEVIEW, utc_ms(2026, 3, spring[i].d, spring[i].hh, 30), SITE,
                   spring[i].page, vh);
        ht_xadd(rs, STREAM, &v), n++;
    }
    /* 3. Fall back, 2026-10-25 (25 h): 21:30 UTC on the 24th is 23:30 CEST
     * (24th); 22:30 UTC on the 24th is 00:30 CEST (25th); 22:30 UTC on the
     * 25th is 23:30 CET (still the 25th); 23:30 UTC is 00:30 on the 26th. */
    const struct {
        int d, hh;
        const char *page;
    } autumn[] = {{24, 21, "/a1"}, {24, 22, "/a2"}, {25, 22, "/a3"}, {25, 23, "/a4"}};
    for (int i = 0; i < 4; i++) {
        char vh[17];
        (void)snprintf(vh, sizeof(vh), "3%015d", i);
        v = ht_rec(HZ_KIND_PAGEVIEW, utc_ms(2026, 10, autumn[i].d, autumn[i].hh, 30), SITE,
                   autumn[i].page, vh);
        ht_xadd(rs, STREAM, &v), n++;
    }
    ht_flush(rs, n);

    cr_assert_eq(hz_cfg_load(&cfg, ini, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_open(&a, &cfg, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_drain(a, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_store_rbegin(hz_agg_store(a), &t, &e), 0, "%s", e.msg);

    /* 1. One visit, counted on the 14th; pageviews on their own days. */
    int32_t d14 = hz_days_from_civil(2026, 1, 14);
    struct day_acc days;
    memset(&days, 0, sizeof(days));
    cr_assert_eq(hz_store_days(t, SITE, d14, d14 + 1, days_cb, &days), 0);
    struct hz_counts c14 = day_of(&days, d14), c15 = day_of(&days, d14 + 1);
    cr_expect_eq(c14.visits, 1);
    cr_expect_eq(c15.visits, 0, "no second visit after midnight");
    cr_expect_eq(c14.pageviews, 1);
    cr_expect_eq(c15.pageviews, 2);
    cr_expect_eq(c14.nonbounce, 1, "the visit's 2nd pageview is after midnight");
    cr_expect_eq(c14.duration_ms, 30 * 60000, "22:50 to 23:20 UTC");
    cr_expect_eq(c14.visitors, 1);
    cr_expect_eq(c15.visitors, 1, "a new local day counts the visitor again");
    struct hz_counts tot;
    cr_assert_eq(hz_store_totals(t, SITE, d14, d14 + 1, &tot), 0);
    cr_expect_eq(tot.visits, 1);
    cr_expect_eq(page_pv(t, d14, "/late"), 1);
    cr_expect_eq(page_pv(t, d14 + 1, "/after"), 1);
    cr_expect_eq(page_pv(t, d14 + 1, "/after2"), 1);
    /* Hours are local too: 23:xx on the 14th, 00:xx on the 15th. */
    struct day_acc hours;
    memset(&hours, 0, sizeof(hours));
    cr_assert_eq(hz_store_hours(t, SITE, d14 * 24, d14 * 24 + 48, days_cb, &hours), 0);
    cr_expect_eq(hours.n, 2);
    cr_expect_eq(day_of(&hours, d14 * 24 + 23).pageviews, 1);
    cr_expect_eq(day_of(&hours, (d14 + 1) * 24 + 0).pageviews, 2);

    /* 2. Spring. */
    int32_t m28 = hz_days_from_civil(2026, 3, 28);
    cr_expect_eq(page_pv(t, m28, "/s1"), 1);
    cr_expect_eq(page_pv(t, m28 + 1, "/s2"), 1);
    cr_expect_eq(page_pv(t, m28 + 1, "/s3"), 1, "23:30 CEST is still the 29th");
    cr_expect_eq(page_pv(t, m28 + 2, "/s4"), 1, "22:30 UTC is already the 30th in CEST");
    cr_expect_eq(page_pv(t, m28 + 1, "/s4"), 0);
    /* 00:30 CET on the 29th is local hour 0; 23:30 CEST is local hour 23. */
    memset(&hours, 0, sizeof(hours));
    cr_assert_eq(hz_store_hours(t, SITE, (m28 + 1) * 24, (m28 + 1) * 24 + 23, days_cb, &hours), 0);
    cr_expect_eq(hours.n, 2);
    cr_expect_eq(day_of(&hours, (m28 + 1) * 24 + 0).pageviews, 1);
    cr_expect_eq(day_of(&hours, (m28 + 1) * 24 + 23).pageviews, 1);

    /* 3. Autumn. */
    int32_t o24 = hz_days_from_civil(2026, 10, 24);
    cr_expect_eq(page_pv(t, o24, "/a1"), 1);
    cr_expect_eq(page_pv(t, o24 + 1, "/a2"), 1, "00:30 CEST is the 25th");
    cr_expect_eq(page_pv(t, o24 + 1, "/a3"), 1, "23:30 CET is still the 25th");
    cr_expect_eq(page_pv(t, o24 + 2, "/a4"), 1);
    memset(&days, 0, sizeof(days));
    cr_assert_eq(hz_store_days(t, SITE, o24, o24 + 2, days_cb, &days), 0);
    cr_expect_eq(day_of(&days, o24 + 1).visits, 2);

    hz_store_rend(t);
    hz_agg_close(a);
    hz_rs_close(rs);
    ht_redis_stop(&r, 0);
    ht_rmdir(dir);
}
