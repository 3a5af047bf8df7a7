/* SPDX-License-Identifier: MIT */
/*
 * col_floor_test.c - where the replay's duplicate search starts
 * (collector/pub_replay.c). When a connection's XADDs become ambiguous,
 * the search reads only the stream after the last ID acknowledged on that
 * connection (the floor), not the two minutes before the first ambiguous
 * hit, and still finds the hit whose XADD Redis ran after its pause; the
 * replay's own XADDs in flight when Redis pauses get the floor of their
 * connection. Entries left in the spool by an earlier run, or sent on a
 * connection on which no XADD was acknowledged yet, have no floor: the
 * search falls back to the time window, and finds a hit whose XADD ran
 * late (after that run had exited, or after the pause).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/integration/collector_env.h"

#define FL_BEFORE  1500  /* hits in the stream before the pause */
#define FL_BACKLOG 20000 /* hits spooled during the second test's pause */
#define FL_MAX     (FL_BEFORE + FL_BACKLOG + 100)

static void
fl_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Sends hits [from, to); asserts each is answered 202. */
static void
fl_hits(struct ce *e, int from, int to)
{
    for (int i = from; i < to; i++) {
        int st = ce_page_hit(e, i);
        cr_assert_eq(st, 202, "hit %d: status %d", i, st);
    }
}

/* Redis paused (SIGSTOP): the first hit's XADD is written to it and gets
 * no answer; after redis_timeout_ms the connection is retired and the hit
 * spooled as ambiguous, the others are spooled. Redis runs that XADD when
 * it is resumed. */
static void
fl_pause_with_one_in_flight(struct ce *e, int from, int to)
{
    long errs = ce_metric(e, "haze_stream_errors_total");

    cr_assert_eq(kill(e->redis.pid, SIGSTOP), 0);
    fl_hits(e, from, to);
    cr_assert_gt(ce_metric(e, "haze_stream_errors_total"), errs, "the connection was retired");
}

static void
fl_wait_drained(struct ce *e)
{
    for (int t = 0; t < 300 && ce_metric(e, "haze_spool_entries") != 0; t++)
        fl_sleep_ms(100);
    cr_assert_eq(ce_metric(e, "haze_spool_entries"), 0, "the spool drained");
    fl_sleep_ms(300); /* late duplicates would show now */
}

/* Every hit in [0, n) is in the stream exactly once, in order. */
static void
fl_assert_once(struct ce *e, int n)
{
    unsigned char *count = calloc(FL_MAX, 1);
    int out_of_order = -1;

    cr_assert_not_null(count);
    cr_assert_eq(ce_page_counts(e, count, FL_MAX, &out_of_order), 0);
    for (int i = 0; i < n; i++)
        cr_assert_eq(count[i], 1, "hit %d is in the stream %d times", i, count[i]);
    for (int i = n; i < FL_MAX; i++)
        cr_assert_eq(count[i], 0, "hit %d was never sent", i);
    cr_assert_eq(out_of_order, 0, "the stream holds the hits in their order");
    free(count);
}

Test(collector_floor, the_search_reads_only_what_follows_the_last_acknowledged_xadd, .timeout = 120)
{
    struct ce env;
    long scanned;

    ce_start(&env, 1, "redis_timeout_ms = 300\nthreads = 1\n");
    fl_hits(&env, 0, FL_BEFORE);
    fl_pause_with_one_in_flight(&env, FL_BEFORE, FL_BEFORE + 20);
    cr_assert_eq(kill(env.redis.pid, SIGCONT), 0);
    fl_wait_drained(&env);

    /* The XADD that Redis ran after the pause was found: no copy. */
    fl_assert_once(&env, FL_BEFORE + 20);
    cr_expect_geq(ce_metric(&env, "haze_replay_duplicates_total"), 1);
    /* One search, from the floor: it read the entries after the last
     * acknowledged XADD (the late one, perhaps a drop summary), not the
     * FL_BEFORE hits of the last two minutes. */
    scanned = ce_metric(&env, "haze_dup_scanned_total");
    cr_log_info("the search read %ld entries", scanned);
    cr_expect_eq(ce_metric(&env, "haze_dup_searches_total{start=\"floor\"}"), 1);
    cr_expect_eq(ce_metric(&env, "haze_dup_searches_total{start=\"window\"}"), 0);
    cr_expect_geq(scanned, 1);
    cr_expect_leq(scanned, 10, "the search read %ld entries", scanned);
    ce_stop(&env);
}

Test(collector_floor, replayed_xadds_in_flight_get_the_floor_of_their_connection, .timeout = 150)
{
    struct ce env;
    long replayed, searches, scanned;
    int n = FL_BEFORE + FL_BACKLOG;

    ce_start(&env, 1, "redis_timeout_ms = 300\nthreads = 1\n");
    fl_hits(&env, 0, FL_BEFORE);
    fl_pause_with_one_in_flight(&env, FL_BEFORE, n);
    /* Resumed, and paused again while the backlog is being replayed: the
     * replayed XADDs in flight become ambiguous, with the last ID Redis
     * acknowledged on the replay's connection as their floor. */
    cr_assert_eq(kill(env.redis.pid, SIGCONT), 0);
    for (int t = 0; t < 20000 && ce_metric(&env, "haze_replayed_total") <= 0; t++)
        fl_sleep_ms(1);
    cr_assert_eq(kill(env.redis.pid, SIGSTOP), 0);
    replayed = ce_metric(&env, "haze_replayed_total");
    cr_assert_gt(ce_metric(&env, "haze_spool_entries"), 0, "paused during the replay");
    fl_sleep_ms(800); /* > redis_timeout_ms: retired */
    cr_assert_eq(kill(env.redis.pid, SIGCONT), 0);
    fl_wait_drained(&env);

    fl_assert_once(&env, n);
    searches = ce_metric(&env, "haze_dup_searches_total{start=\"floor\"}");
    scanned = ce_metric(&env, "haze_dup_scanned_total");
    cr_log_info("%ld replayed before the second pause; %ld searches from a floor, %ld entries "
                "read, %ld duplicates found",
                replayed, searches, scanned, ce_metric(&env, "haze_replay_duplicates_total"));
    cr_expect_eq(searches, 2, "both searches started at a floor");
    cr_expect_eq(ce_metric(&env, "haze_dup_searches_total{start=\"window\"}"), 0);
    /* At most the XADDs in flight (512 replayed) and the late hit, never
     * the FL_BEFORE hits and the replayed ones before the floor. */
    cr_expect_leq(scanned, 600, "the searches read %ld entries", scanned);
    ce_stop(&env);
}

Test(collector_floor, a_spool_from_an_earlier_run_is_searched_in_the_time_window, .timeout = 120)
{
    struct ce env;
    char bin[256];
    long scanned;

    ce_start(&env, 1, "redis_timeout_ms = 300\nthreads = 1\n");
    fl_hits(&env, 0, FL_BEFORE);
    fl_pause_with_one_in_flight(&env, FL_BEFORE, FL_BEFORE + 20);
    /* The collector exits with the hits spooled and the first one's XADD
     * still unread by Redis, which runs it once resumed. */
    cr_assert_eq(ht_stop(&env.collector, SIGTERM, 10000), 0, "the collector exits 0");
    cr_assert_eq(kill(env.redis.pid, SIGCONT), 0);
    for (int t = 0; t < 50 && ht_redis_xlen(&env.redis, CE_STREAM) < FL_BEFORE + 1; t++)
        fl_sleep_ms(100);
    cr_assert_geq(ht_redis_xlen(&env.redis, CE_STREAM), FL_BEFORE + 1, "redis ran the late XADD");

    ht_bin(bin, "haze-collector");
    const char *argv[] = {bin, "-c", env.ini, NULL};
    cr_assert_eq(ht_spawn(&env.collector, env.dir, "collector2", argv), 0);
    cr_assert_eq(ht_wait_port(env.port, 10000), 0);
    fl_wait_drained(&env);

    fl_assert_once(&env, FL_BEFORE + 20);
    scanned = ce_metric(&env, "haze_dup_scanned_total");
    cr_log_info("the search read %ld entries", scanned);
    cr_expect_geq(ce_metric(&env, "haze_replay_duplicates_total"), 1);
    cr_expect_eq(ce_metric(&env, "haze_dup_searches_total{start=\"window\"}"), 1);
    cr_expect_eq(ce_metric(&env, "haze_dup_searches_total{start=\"floor\"}"), 0);
    cr_expect_geq(scanned, FL_BEFORE + 1, "the window covers the earlier hits");
    ce_stop(&env);
}

Test(collector_floor, a_connection_with_no_acknowledged_xadd_has_no_floor, .timeout = 60)
{
    struct ce env;

    ce_start(&env, 1, "redis_timeout_ms = 300\nthreads = 1\n");
    /* The first hit of the collector is the one in flight. */
    fl_pause_with_one_in_flight(&env, 0, 20);
    cr_assert_eq(kill(env.redis.pid, SIGCONT), 0);
    fl_wait_drained(&env);

    fl_assert_once(&env, 20);
    cr_expect_geq(ce_metric(&env, "haze_replay_duplicates_total"), 1);
    cr_expect_eq(ce_metric(&env, "haze_dup_searches_total{start=\"window\"}"), 1);
    cr_expect_eq(ce_metric(&env, "haze_dup_searches_total{start=\"floor\"}"), 0);
    ce_stop(&env);
}
