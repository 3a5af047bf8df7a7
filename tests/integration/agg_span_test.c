/* SPDX-License-Identifier: MIT */
/*
 * agg_span_test.c - batches that share one LMDB transaction while the
 * aggregator is behind (consume.h step 5): nothing is committed until the
 * span ends, the undo record meanwhile holds the position from before the
 * span and grows "_to" batch by batch, and draining commits the span once.
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

TestSuite(agg_span, .fini = ht_cleanup);

#define SITE   "span.test"
#define STREAM "span:events"
#define UNDO   "haze:agg:undo:" STREAM

/* HGET UNDO field through redis-cli, trailing newline cut ("" when absent). */
static void
span_undo(const struct ht_redis *r, const char *field, char *out, size_t n)
{
    const char *args[] = {"HGET", UNDO, field, NULL};
    char *s = ht_redis_cli(r, args);

    cr_assert_not_null(s);
    s[strcspn(s, "\n")] = '\0';
    (void)snprintf(out, n, "%s", s);
    free(s);
}

/* The stream position committed in the store ("" before the first commit). */
static void
span_pos(hz_agg *a, char out[64])
{
    hz_rtxn *t;
    struct hz_err e = {0};

    cr_assert_eq(hz_store_rbegin(hz_agg_store(a), &t, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_store_position(t, out), 0);
    hz_store_rend(t);
}

Test(agg_span, full_batches_share_one_transaction, .timeout = 60)
{
    struct ht_redis r;
    char dir[64], ini[256], pos[64], v[128];
    static struct hz_config cfg;
    struct hz_err e = {0};
    uint64_t t0 = ((uint64_t)time(NULL) - 3600) * 1000;
    struct hz_counts c;
    hz_agg *a;
    hz_rtxn *t;
    int n = 0;

    cr_assert_eq(ht_redis_start(&r, NULL, 0), 0);
    ht_tmpdir(dir);
    ht_agg_config(ini, dir, &r, STREAM, 7, "[site " SITE "]\ntimezone = UTC\n");
    hz_rs *rs = ht_rs_connect(&r);
    /* 50 pageviews of 10 visitors: batches of 7, the 8th of 1. */
    for (int i = 0; i < 50; i++) {
        char vh[17];
        (void)snprintf(vh, sizeof(vh), "%016x", i % 10 + 1);
        struct hz_record rec =
            ht_rec(HZ_KIND_PAGEVIEW, t0 + (uint64_t)i * 1000, SITE, i % 2 ? "/a" : "/b", vh);
        ht_xadd(rs, STREAM, &rec), n++;
    }
    ht_flush(rs, n);
    cr_assert_eq(hz_cfg_load(&cfg, ini, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_open(&a, &cfg, &e), 0, "%s", e.msg);

    /* A full batch: in Redis (states and undo record), not yet in LMDB. */
    cr_assert_eq(hz_agg_step(a, 2000, &e), 7, "%s", e.msg);
    span_pos(a, pos);
    cr_expect_str_eq(pos, "", "nothing committed while the span is open");
    span_undo(&r, "_pos", v, sizeof(v));
    cr_expect_str_eq(v, "", "the position before the span (none)");
    span_undo(&r, "_to", v, sizeof(v));
    char to1[128];
    (void)snprintf(to1, sizeof(to1), "%s", v);
    cr_expect_neq(to1[0], '\0', "the span's first batch is in the undo record");

    /* The next batch goes on the same span: _to moves, _pos stays. */
    cr_assert_eq(hz_agg_step(a, 2000, &e), 7, "%s", e.msg);
    span_pos(a, pos);
    cr_expect_str_eq(pos, "");
    span_undo(&r, "_to", v, sizeof(v));
    cr_expect_str_neq(v, to1, "_to is the span's last entry");
    span_undo(&r, "_pos", v, sizeof(v));
    cr_expect_str_eq(v, "");

    /* The rest: the last, short batch ends the span, one commit in all. */
    cr_assert_eq(hz_agg_drain(a, &e), 0, "%s", e.msg);
    cr_expect_eq(hz_agg_stats(a)->batches, 1, "LMDB transactions: %llu",
                 (unsigned long long)hz_agg_stats(a)->batches);
    cr_expect_eq(hz_agg_stats(a)->applied, 50);
    span_pos(a, pos);
    cr_expect_neq(pos[0], '\0', "committed");
    const char *exists[] = {"EXISTS", UNDO};
    cr_expect_eq(ht_cmd(rs, 2, exists), 0, "the undo record is deleted after the commit");
    cr_assert_eq(hz_store_rbegin(hz_agg_store(a), &t, &e), 0, "%s", e.msg);
    int32_t day = (int32_t)(t0 / 86400000);
    cr_assert_eq(hz_store_totals(t, SITE, day - 1, day + 1, &c), 0);
    cr_expect_eq(c.pageviews, 50);
    cr_expect_eq(c.visitors, 10);
    hz_store_rend(t);
    hz_agg_close(a);
    hz_rs_close(rs);
    ht_redis_stop(&r, 0);
    ht_rmdir(dir);
}
