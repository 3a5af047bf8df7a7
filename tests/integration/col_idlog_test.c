/* SPDX-License-Identifier: MIT */
/*
 * col_idlog_test.c - the duplicate search finds an ambiguous hit that the
 * aggregator has applied and trimmed from the stream before the search
 * ran: its id is in the applied id log (common/idlog.h,
 * collector/pub_idlog.c). A collector exits with its hits spooled, the
 * first one's XADD still unread by a paused Redis; Redis runs it once
 * resumed, the real aggregator applies every entry and empties the stream;
 * the next collector's search finds that hit in the log only, replays the
 * others, and in the end the store counts every hit once.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/store.h"
#include "tests/integration/collector_env.h"

TestSuite(collector_idlog, .fini = ht_cleanup);

#define IL_BEFORE 300 /* hits in the stream before the pause */
#define IL_LATE   20  /* hits sent while Redis is paused: the first one's XADD runs late */
#define IL_MAX    (IL_BEFORE + IL_LATE + 10)

/* Runs the real aggregator until the stream is empty (all applied and
 * trimmed), then stops it. */
static void
il_aggregate(struct ce *e, const char *name)
{
    char bin[256];
    struct ht_proc agg;

    ht_bin(bin, "haze-aggregator");
    const char *argv[] = {bin, "-c", e->ini, NULL};
    cr_assert_eq(ht_spawn(&agg, e->dir, name, argv), 0);
    for (int t = 0; t < 300 && ht_redis_xlen(&e->redis, CE_STREAM) != 0; t++)
        ce_sleep_ms(100);
    cr_assert_eq(ht_redis_xlen(&e->redis, CE_STREAM), 0, "the aggregator emptied the stream");
    cr_assert_eq(ht_stop(&agg, SIGTERM, 10000), 0, "the aggregator exits 0");
}

static uint64_t
il_pageviews(struct ce *e)
{
    char db[128];
    hz_store *s;
    hz_rtxn *t;
    struct hz_err err = {0};
    struct hz_counts c = {0};

    (void)snprintf(db, sizeof(db), "%s/db", e->dir);
    cr_assert_eq(hz_store_open(&s, db, 1, 0, &err), 0, "%s", err.msg);
    cr_assert_eq(hz_store_rbegin(s, &t, &err), 0, "%s", err.msg);
    cr_assert_eq(hz_store_totals(t, "example.com", 0, 1 << 24, &c), 0);
    hz_store_rend(t);
    hz_store_close(s);
    return c.pageviews;
}

Test(collector_idlog, an_applied_and_trimmed_hit_is_found_in_the_id_log, .timeout = 120)
{
    struct ce env;
    char bin[256];
    unsigned char count[IL_MAX];
    int out_of_order = -1;
    long errs;

    ce_start_tail(&env, 1, "redis_timeout_ms = 300\nthreads = 1\n",
                  "[aggregator]\nlmdb = @DIR@/db\nuser = root\nmap_size_mb = 64\n");
    ce_page_hits(&env, 0, IL_BEFORE);
    /* Paused: the first hit's XADD is written and gets no answer; the
     * connection is retired, the hits spooled (the first as ambiguous). */
    errs = ce_metric(&env, "haze_stream_errors_total");
    cr_assert_eq(kill(env.redis.pid, SIGSTOP), 0);
    ce_page_hits(&env, IL_BEFORE, IL_BEFORE + IL_LATE);
    cr_assert_gt(ce_metric(&env, "haze_stream_errors_total"), errs, "the connection was retired");
    cr_assert_eq(ht_stop(&env.collector, SIGTERM, 10000), 0, "the collector exits 0");
    cr_assert_eq(kill(env.redis.pid, SIGCONT), 0);
    for (int t = 0; t < 50 && ht_redis_xlen(&env.redis, CE_STREAM) < IL_BEFORE + 1; t++)
        ce_sleep_ms(100);
    cr_assert_eq(ht_redis_xlen(&env.redis, CE_STREAM), IL_BEFORE + 1, "redis ran the late XADD");

    /* Applied and trimmed: the late hit is no longer in the stream. */
    il_aggregate(&env, "agg1");
    cr_assert_eq(il_pageviews(&env), IL_BEFORE + 1);

    ht_bin(bin, "haze-collector");
    const char *argv[] = {bin, "-c", env.ini, NULL};
    cr_assert_eq(ht_spawn(&env.collector, env.dir, "collector2", argv), 0);
    cr_assert_eq(ht_wait_port(env.port, 10000), 0);
    for (int t = 0; t < 300 && ce_metric(&env, "haze_spool_entries") != 0; t++)
        ce_sleep_ms(100);
    cr_assert_eq(ce_metric(&env, "haze_spool_entries"), 0, "the spool drained");
    ce_sleep_ms(300);

    /* The search found it in the log alone: only the others were replayed. */
    cr_log_info("the search read %ld stream entries and %ld logged ids",
                ce_metric(&env, "haze_dup_scanned_total"),
                ce_metric(&env, "haze_dup_logged_total"));
    cr_expect_eq(ce_metric(&env, "haze_replay_duplicates_total"), 1);
    cr_expect_geq(ce_metric(&env, "haze_dup_logged_total"), IL_BEFORE + 1);
    memset(count, 0, sizeof(count));
    cr_assert_eq(ce_page_counts(&env, count, IL_MAX, &out_of_order), 0);
    for (int i = 0; i < IL_MAX; i++)
        cr_assert_eq(count[i], i > IL_BEFORE && i < IL_BEFORE + IL_LATE,
                     "hit %d is in the stream %d times", i, count[i]);

    /* Everything counted once. */
    il_aggregate(&env, "agg2");
    cr_expect_eq(il_pageviews(&env), IL_BEFORE + IL_LATE);
    ce_stop(&env);
}
