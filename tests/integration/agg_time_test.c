/* SPDX-License-Identifier: MIT */
/*
 * agg_time_test.c - stream entries are counted in their time: one dated in
 * the year 2286 (anything with access to Redis can XADD) or older than
 * retention is counted as invalid with its reason, and does not disturb
 * the visitor's later hits; and visit states live in Redis as long as
 * README says, whatever kind of hit made them (rest of the local day of
 * the last hit + session_minutes).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregator/consume.h"
#include "common/cfg.h"
#include "common/store.h"
#include "common/str.h"
#include "tests/integration/harness.h"

TestSuite(agg_time, .fini = ht_cleanup);

#define SITE   "shop.test"
#define STREAM "time:events"
#define VA     "aaaaaaaaaaaaaaaa"
#define VB     "bbbbbbbbbbbbbbbb"
#define VE     "eeeeeeeeeeeeeeee"
#define VG     "9999999999999999"
#define VP     "cccccccccccccccc"

struct tm_rows {
    int n;
    char v[16][64];
    uint64_t events[16];
};

static void
tm_rows_cb(const char *value, size_t vlen, const struct hz_counts *c, void *arg)
{
    struct tm_rows *r = arg;
    cr_assert_lt(r->n, 16);
    (void)snprintf(r->v[r->n], sizeof(r->v[0]), "%.*s", (int)vlen, value);
    r->events[r->n++] = c->events;
}

static uint64_t
tm_row(const struct tm_rows *r, const char *v)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->v[i], v) == 0)
            return r->events[i];
    return 0;
}

Test(agg_time, future_and_expired_entries_are_invalid, .timeout = 60)
{
    struct ht_redis r;
    char dir[64], ini[256];
    static struct hz_config cfg;
    struct hz_err e = {0};
    uint64_t now = (uint64_t)time(NULL) * 1000;
    uint64_t y2286 = 9999999999000ULL; /* 2286-11-20 */
    int32_t today = (int32_t)(now / 86400000), fday = (int32_t)(y2286 / 86400000);
    hz_agg *a;
    hz_rtxn *t;

    cr_assert_eq(ht_redis_start(&r, NULL, 0), 0);
    ht_tmpdir(dir);
    ht_agg_config(ini, dir, &r, STREAM, 100,
                  "[aggregator]\nretention_days = 30\n\n[site " SITE "]\ntimezone = UTC\n");
    hz_rs *rs = ht_rs_connect(&r);
    struct hz_record fut = ht_rec(HZ_KIND_PAGEVIEW, y2286, SITE, "/future", VA);
    struct hz_record old = ht_rec(HZ_KIND_PAGEVIEW, now - 40 * 86400000ULL, SITE, "/ancient", VB);
    struct hz_record a1 = ht_rec(HZ_KIND_PAGEVIEW, now - 60000, SITE, "/a", VA);
    struct hz_record a2 = ht_rec(HZ_KIND_PAGEVIEW, now - 30000, SITE, "/b", VA);
    ht_xadd(rs, STREAM, &fut);
    ht_xadd(rs, STREAM, &old);
    ht_xadd(rs, STREAM, &a1);
    ht_xadd(rs, STREAM, &a2);
    ht_flush(rs, 4);

    cr_assert_eq(hz_cfg_load(&cfg, ini, &e), 0, "%s", e.msg);
    cr_assert_eq(cfg.clock_skew_seconds, 300, "the default bound");
    cr_assert_eq(hz_agg_open(&a, &cfg, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_drain(a, &e), 0, "%s", e.msg);
    cr_expect_eq(hz_agg_stats(a)->applied, 2);
    cr_expect_eq(hz_agg_stats(a)->malformed, 2);

    cr_assert_eq(hz_store_rbegin(hz_agg_store(a), &t, &e), 0, "%s", e.msg);
    struct hz_counts c;
    /* The visitor's real hits: one visit of 2 pageviews by 1 visitor. */
    cr_assert_eq(hz_store_totals(t, SITE, today - 1, today, &c), 0);
    cr_expect_eq(c.pageviews, 2, "pageviews %llu", (unsigned long long)c.pageviews);
    cr_expect_eq(c.visitors, 1, "visitors %llu", (unsigned long long)c.visitors);
    cr_expect_eq(c.visits, 1);
    /* Nothing in 2286, nothing 40 days ago. */
    cr_assert_eq(hz_store_totals(t, SITE, fday - 1, fday + 1, &c), 0);
    cr_expect_eq(c.pageviews + c.visitors + c.visits, 0);
    cr_assert_eq(hz_store_totals(t, SITE, today - 45, today - 2, &c), 0);
    cr_expect_eq(c.pageviews, 0);
    /* Counted as invalid, under the site, with the reason. */
    struct tm_rows d;
    memset(&d, 0, sizeof(d));
    cr_assert_eq(hz_store_dim(t, SITE, HZ_DIM_DROP, today, today, tm_rows_cb, &d), 0);
    cr_expect_eq(tm_row(&d, "invalid: time ahead of now"), 1);
    cr_expect_eq(tm_row(&d, "invalid: time older than retention"), 1);
    hz_store_rend(t);

    /* The future entry left no state that would hide the visitor. */
    const char *get[] = {"PTTL", STREAM ":v:" SITE ":" VA};
    long long ms = ht_cmd(rs, 2, get);
    cr_expect(ms > 0 && ms <= 86400000LL + 30 * 60000LL, "pttl %lld", ms);
    hz_agg_close(a);
    hz_rs_close(rs);
    ht_redis_stop(&r, 0);
    ht_rmdir(dir);
}

/* README: a state lives session_minutes after the visitor's last hit,
 * extended to the end of that hit's local day (+ session). */
static long long
tm_expected_ttl(uint64_t hit_ms)
{
    uint64_t end = (hit_ms / 86400000 + 1) * 86400000;
    return (long long)(end - hit_ms + 30 * 60000);
}

Test(agg_time, visit_state_lifetimes_for_every_kind_of_hit, .timeout = 60)
{
    struct ht_redis r;
    char dir[64], ini[256];
    static struct hz_config cfg;
    struct hz_err e = {0};
    uint64_t hit = (uint64_t)time(NULL) * 1000 - 10000;
    hz_agg *a;

    cr_assert_eq(ht_redis_start(&r, NULL, 0), 0);
    ht_tmpdir(dir);
    ht_agg_config(ini, dir, &r, STREAM, 100, "[site " SITE "]\ntimezone = UTC\n");
    hz_rs *rs = ht_rs_connect(&r);
    struct hz_record ev = ht_rec(HZ_KIND_EVENT, hit, SITE, "/", VE);
    (void)hz_strlcpy(ev.name, "Signup", sizeof(ev.name));
    struct hz_record en = ht_rec(HZ_KIND_ENGAGEMENT, hit, SITE, "/", VG);
    en.ms = 5000;
    struct hz_record pv = ht_rec(HZ_KIND_PAGEVIEW, hit, SITE, "/", VP);
    ht_xadd(rs, STREAM, &ev);
    ht_xadd(rs, STREAM, &en);
    ht_xadd(rs, STREAM, &pv);
    ht_flush(rs, 3);
    cr_assert_eq(hz_cfg_load(&cfg, ini, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_open(&a, &cfg, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_drain(a, &e), 0, "%s", e.msg);
    cr_expect_eq(hz_agg_stats(a)->applied, 3);

    const char *who[] = {"custom event only", "engagement only", "pageview"};
    const char *keys[] = {STREAM ":v:" SITE ":" VE, STREAM ":v:" SITE ":" VG,
                          STREAM ":v:" SITE ":" VP};
    long long want = tm_expected_ttl(hit);
    for (int i = 0; i < 3; i++) {
        const char *pttl[] = {"PTTL", keys[i]};
        long long ms = ht_cmd(rs, 2, pttl);
        if (ms == -2) /* no state is fine: nothing to keep */
            continue;
        cr_expect(ms > 0 && ms <= want && ms > want - 15000,
                  "%s: the state lives %lld ms, README says %lld", who[i], ms, want);
    }
    /* The custom-event-only visitor has a state (today's uniques). */
    const char *ex[] = {"EXISTS", keys[0]};
    cr_expect_eq(ht_cmd(rs, 2, ex), 1);
    hz_agg_close(a);
    hz_rs_close(rs);
    ht_redis_stop(&r, 0);
    ht_rmdir(dir);
}
