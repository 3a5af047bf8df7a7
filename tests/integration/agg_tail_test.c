/* SPDX-License-Identifier: MIT */
/*
 * agg_tail_test.c - a stream tailed live ([aggregator] batch_wait_ms): hits
 * that trickle in are folded in one batch, the first one waiting for the
 * others, and a visit's hits in that batch write its state to Redis once
 * (one SET per visitor, counted by Redis itself). A full batch does not
 * wait.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregator/consume.h"
#include "common/cfg.h"
#include "tests/integration/harness.h"

TestSuite(agg_tail, .fini = ht_cleanup);

#define STREAM "tail:events"
#define SITE   "shop.test"
#define VA     "0123456789abcdef"
#define VB     "fedcba9876543210"

static double
tail_now(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
tail_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    (void)nanosleep(&ts, NULL);
}

/* One pageview of visitor vh at t_ms. */
static void
tail_hit(hz_rs *rs, uint64_t t_ms, const char *page, const char *vh)
{
    struct hz_record rec = ht_rec(HZ_KIND_PAGEVIEW, t_ms, SITE, page, vh);
    ht_xadd_packed(rs, STREAM, &rec);
    ht_flush(rs, 1);
}

/* "calls=N" of `cmd` in INFO commandstats, or -1. */
static long
tail_calls(const struct ht_redis *r, const char *cmd)
{
    const char *args[] = {"INFO", "commandstats", NULL};
    char *out = ht_redis_cli(r, args), want[64], *p;
    long n = -1;

    (void)snprintf(want, sizeof(want), "cmdstat_%s:calls=", cmd);
    if (out != NULL && (p = strstr(out, want)) != NULL)
        n = strtol(p + strlen(want), NULL, 10);
    free(out);
    return n;
}

/* One test's parts. */
struct tail {
    struct hz_config cfg;
    struct ht_redis r;
    char dir[64];
    hz_rs *rs;
    hz_agg *a;
    uint64_t t0;
};

static struct tail *
tail_start(void)
{
    static struct tail f;

    memset(&f, 0, sizeof(f));
    f.t0 = (uint64_t)time(NULL) * 1000;
    cr_assert_eq(ht_redis_start(&f.r, NULL, 0), 0);
    f.rs = ht_rs_connect(&f.r);
    ht_tmpdir(f.dir);
    return &f;
}

static void
tail_end(struct tail *f)
{
    hz_agg_close(f->a);
    hz_rs_close(f->rs);
    ht_redis_stop(&f->r, 0);
    ht_rmdir(f->dir);
}

/* The aggregator in process; its reader runs from here on. */
static void
tail_open(struct tail *f, int batch, int wait_ms)
{
    char ini[256], extra[128];
    struct hz_err e = {0};

    (void)snprintf(extra, sizeof(extra), "batch_wait_ms = %d\n[site " SITE "]\ntimezone = UTC\n",
                   wait_ms);
    ht_agg_config(ini, f->dir, &f->r, STREAM, batch, extra);
    cr_assert_eq(hz_cfg_load(&f->cfg, ini, &e), 0, "%s", e.msg);
    cr_assert_eq(f->cfg.batch_wait_ms, wait_ms);
    cr_assert_eq(hz_agg_open(&f->a, &f->cfg, &e), 0, "%s", e.msg);
}

Test(agg_tail, trickle_is_one_batch_one_set_per_visitor, .timeout = 60)
{
    struct tail *f = tail_start();
    struct hz_err e = {0};

    tail_open(f, 1000, 1500);
    const char *reset[] = {"CONFIG", "RESETSTAT"};
    (void)ht_cmd(f->rs, 2, reset);

    /* One hit, then the rest of two visits a moment later: the reader has
     * seen the first alone, and waits for more. */
    tail_hit(f->rs, f->t0, "/", VA);
    tail_sleep_ms(200);
    tail_hit(f->rs, f->t0 + 1000, "/a", VA);
    tail_hit(f->rs, f->t0 + 2000, "/b", VA);
    tail_hit(f->rs, f->t0 + 3000, "/", VB);
    tail_hit(f->rs, f->t0 + 4000, "/c", VB);

    int n = hz_agg_step(f->a, 5000, &e);
    cr_assert_eq(n, 5, "one batch of 5, not %d (%s)", n, e.msg);
    cr_expect_eq(hz_agg_stats(f->a)->applied, 5);
    /* Each visitor's state written once, in the batch's MULTI/EXEC; read
     * once (one MGET for the batch). */
    cr_expect_eq(tail_calls(&f->r, "set"), 2);
    cr_expect_eq(tail_calls(&f->r, "exec"), 1);
    cr_expect_eq(tail_calls(&f->r, "mget"), 1);

    cr_assert_eq(hz_agg_drain(f->a, &e), 0, "%s", e.msg);
    cr_expect_eq(hz_agg_stats(f->a)->batches, 1);
    const char *undo[] = {"EXISTS", "haze:agg:undo:" STREAM};
    cr_expect_eq(ht_cmd(f->rs, 2, undo), 0);
    tail_end(f);
}

Test(agg_tail, full_batch_does_not_wait, .timeout = 60)
{
    struct tail *f = tail_start();
    struct hz_err e = {0};

    /* Four entries in the stream before the open: a full batch of 3. */
    for (int i = 0; i < 4; i++)
        tail_hit(f->rs, f->t0 + (uint64_t)i * 1000, i % 2 ? "/a" : "/", VA);
    double s = tail_now();
    tail_open(f, 3, 5000);
    int n = hz_agg_step(f->a, 5000, &e);
    cr_assert_eq(n, 3, "%d (%s)", n, e.msg);
    /* Less than batch_wait_ms (5 s): the batch was full. */
    cr_expect_lt(tail_now() - s, 4.0);
    tail_end(f);
}
