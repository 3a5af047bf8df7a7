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
 *
 * Redis runs without AOF here (no test restarts it): with appendfsync
 * always, a loaded machine's disk kept it busy past redis_timeout_ms, and
 * the extra retirements that caused (handled exactly once, as they should
 * be) changed the searches the tests count. Counts are taken from the
 * moment the collector has settled before the pause (fl_before_pause).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/pub_int.h" /* PUB_REPLAY_WINDOW */
#include "tests/integration/collector_env.h"

#define FL_BEFORE  1500  /* hits in the stream before the pause */
#define FL_BACKLOG 20000 /* hits spooled during the second test's pause */
#define FL_MAX     (FL_BEFORE + FL_BACKLOG + 100)

/* The counters a test compares with their values before the pause. */
struct fl_base {
    long errs, floor, window, scanned, dupes, replayed;
    long xlen; /* the stream's entries */
};

/* Polls the stream's length on rs until it is at least want, for up to
 * ms; returns the last length read. */
static long
fl_wait_xlen(hz_rs *rs, long want, long ms)
{
    const char *xlen[] = {"XLEN", CE_STREAM};
    long n = -1;

    for (long t = 0; t < ms * 5 && (n = (long)ht_cmd(rs, 2, xlen)) < want; t++) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    return n;
}

/* The collector has settled: its spool is empty, so no search is pending
 * and nothing replayed is in flight, and every hit sent so far was
 * answered; with no hit in flight nothing can be retired before the next
 * one, so the counters read now hold until then. */
static struct fl_base
fl_settle(struct ce *e)
{
    struct fl_base b = {0};
    int settled = 0;

    for (int t = 0; t < 600 && !settled; t++) {
        if (ce_metric(e, "haze_spool_entries") != 0) {
            ce_sleep_ms(50);
            continue;
        }
        b.errs = ce_metric(e, "haze_stream_errors_total");
        b.floor = ce_metric(e, "haze_dup_searches_total{start=\"floor\"}");
        b.window = ce_metric(e, "haze_dup_searches_total{start=\"window\"}");
        b.scanned = ce_metric(e, "haze_dup_scanned_total");
        b.dupes = ce_metric(e, "haze_replay_duplicates_total");
        b.replayed = ce_metric(e, "haze_replayed_total");
        b.xlen = ht_redis_xlen(&e->redis, CE_STREAM);
        settled = ce_metric(e, "haze_spool_entries") == 0 && b.errs >= 0 && b.floor >= 0 &&
                  b.window >= 0 && b.scanned >= 0 && b.dupes >= 0 && b.replayed >= 0 && b.xlen >= 0;
    }
    cr_assert(settled, "the collector settled (spool empty)");
    return b;
}

/* Hits [0, n) before the pause, the last one once the collector has
 * settled, so that it is acknowledged on the connection the pause will
 * retire (its floor). A Redis or collector that a loaded machine kept off
 * the CPU longer than redis_timeout_ms during the earlier hits retired a
 * connection: a pause while the search that follows waits for Redis
 * would retire nothing more, and a connection that replayed nothing has
 * no floor. Returns the counters before the pause. */
static struct fl_base
fl_before_pause(struct ce *e, int n)
{
    struct fl_base b;
    long errs;

    ce_page_hits(e, 0, n > 0 ? n - 1 : 0);
    b = fl_settle(e);
    if (b.errs > 0)
        cr_log_info("%ld retirement(s) before the pause (a slow machine)", b.errs);
    if (n == 0)
        return b;
    errs = b.errs;
    ce_page_hits(e, n - 1, n);
    b = fl_settle(e);
    cr_assert_eq(b.errs, errs, "hit %d was acknowledged by Redis (not retired)", n - 1);
    return b;
}

/* Redis paused (SIGSTOP): the first hit's XADD is written to it and gets
 * no answer; after redis_timeout_ms the connection is retired and the hit
 * spooled as ambiguous, the others are spooled. Redis runs that XADD when
 * it is resumed. b: the counters from fl_before_pause. */
static void
fl_pause_with_one_in_flight(struct ce *e, const struct fl_base *b, int from, int to)
{
    cr_assert_eq(kill(e->redis.pid, SIGSTOP), 0);
    ce_page_hits(e, from, to);
    cr_assert_gt(ce_metric(e, "haze_stream_errors_total"), b->errs, "the connection was retired");
}

static void
fl_wait_drained(struct ce *e)
{
    for (int t = 0; t < 300 && ce_metric(e, "haze_spool_entries") != 0; t++)
        ce_sleep_ms(100);
    cr_assert_eq(ce_metric(e, "haze_spool_entries"), 0, "the spool drained");
    ce_sleep_ms(300); /* late duplicates would show now */
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
    struct fl_base b;
    long scanned;

    ce_start(&env, 0, "redis_timeout_ms = 300\nthreads = 1\n");
    b = fl_before_pause(&env, FL_BEFORE);
    fl_pause_with_one_in_flight(&env, &b, FL_BEFORE, FL_BEFORE + 20);
    cr_assert_eq(kill(env.redis.pid, SIGCONT), 0);
    fl_wait_drained(&env);

    /* The XADD that Redis ran after the pause was found: no copy. */
    fl_assert_once(&env, FL_BEFORE + 20);
    cr_expect_geq(ce_metric(&env, "haze_replay_duplicates_total") - b.dupes, 1);
    /* One search, from the floor: it read the entries after the last
     * acknowledged XADD (the late one, perhaps a drop summary), not the
     * FL_BEFORE hits of the last two minutes. */
    scanned = ce_metric(&env, "haze_dup_scanned_total") - b.scanned;
    cr_log_info("the search read %ld entries", scanned);
    cr_expect_eq(ce_metric(&env, "haze_dup_searches_total{start=\"floor\"}") - b.floor, 1);
    cr_expect_eq(ce_metric(&env, "haze_dup_searches_total{start=\"window\"}") - b.window, 0);
    cr_expect_geq(scanned, 1);
    cr_expect_leq(scanned, 10, "the search read %ld entries", scanned);
    ce_stop(&env);
}

Test(collector_floor, replayed_xadds_in_flight_get_the_floor_of_their_connection, .timeout = 150)
{
    struct ce env;
    struct fl_base b;
    long replayed, searches, scanned, errs;
    int n = FL_BEFORE + FL_BACKLOG;
    hz_rs *rs;

    ce_start(&env, 0, "redis_timeout_ms = 300\nthreads = 1\n");
    rs = ht_rs_connect(&env.redis);
    b = fl_before_pause(&env, FL_BEFORE);
    fl_pause_with_one_in_flight(&env, &b, FL_BEFORE, n);
    /* Resumed, and paused again while the backlog is being replayed: the
     * replayed XADDs in flight become ambiguous, with the last ID Redis
     * acknowledged on the replay's connection as their floor. */
    errs = ce_metric(&env, "haze_stream_errors_total");
    cr_assert_eq(kill(env.redis.pid, SIGCONT), 0);
    /* Paused again once Redis has run the late XADD and more replayed ones
     * than the replay keeps in flight: the collector sent the last of them
     * after it had read the answer to an earlier one, so its connection
     * has an acknowledged ID. Watched on a connection of our own, not on
     * /metrics, which the collector's thread answers between replay
     * slices (on a loaded machine the whole backlog was replayed before
     * it answered). */
    cr_assert_geq(fl_wait_xlen(rs, b.xlen + 2 + PUB_REPLAY_WINDOW, 20000),
                  b.xlen + 2 + PUB_REPLAY_WINDOW, "the replay began");
    cr_assert_eq(kill(env.redis.pid, SIGSTOP), 0);
    cr_assert_gt(ce_metric(&env, "haze_spool_entries"), 0, "paused during the replay");
    /* Until the replay's connection is retired (redis_timeout_ms, and a
     * tick, after its oldest XADD; later on a slow machine). */
    cr_assert_gt(ce_wait_above(&env, "haze_stream_errors_total", errs, 30000), errs,
                 "the replay's connection was retired");
    replayed = ce_metric(&env, "haze_replayed_total") - b.replayed;
    cr_assert_eq(kill(env.redis.pid, SIGCONT), 0);
    fl_wait_drained(&env);

    fl_assert_once(&env, n);
    searches = ce_metric(&env, "haze_dup_searches_total{start=\"floor\"}") - b.floor;
    scanned = ce_metric(&env, "haze_dup_scanned_total") - b.scanned;
    cr_log_info("%ld replayed before the second pause; %ld searches from a floor, %ld entries "
                "read, %ld duplicates found",
                replayed, searches, scanned,
                ce_metric(&env, "haze_replay_duplicates_total") - b.dupes);
    cr_expect_eq(searches, 2, "both searches started at a floor");
    cr_expect_eq(ce_metric(&env, "haze_dup_searches_total{start=\"window\"}") - b.window, 0);
    /* At most the XADDs in flight (512 replayed) and the late hit, never
     * the FL_BEFORE hits and the replayed ones before the floor. */
    cr_expect_leq(scanned, 600, "the searches read %ld entries", scanned);
    hz_rs_close(rs);
    ce_stop(&env);
}

Test(collector_floor, a_spool_from_an_earlier_run_is_searched_in_the_time_window, .timeout = 120)
{
    struct ce env;
    struct fl_base b;
    char bin[256];
    long scanned;

    ce_start(&env, 0, "redis_timeout_ms = 300\nthreads = 1\n");
    b = fl_before_pause(&env, FL_BEFORE);
    fl_pause_with_one_in_flight(&env, &b, FL_BEFORE, FL_BEFORE + 20);
    /* The collector exits with the hits spooled and the first one's XADD
     * still unread by Redis, which runs it once resumed. */
    cr_assert_eq(ht_stop(&env.collector, SIGTERM, 10000), 0, "the collector exits 0");
    cr_assert_eq(kill(env.redis.pid, SIGCONT), 0);
    for (int t = 0; t < 50 && ht_redis_xlen(&env.redis, CE_STREAM) < FL_BEFORE + 1; t++)
        ce_sleep_ms(100);
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
    struct fl_base b;

    ce_start(&env, 0, "redis_timeout_ms = 300\nthreads = 1\n");
    /* The first hit of the collector is the one in flight. */
    b = fl_before_pause(&env, 0);
    fl_pause_with_one_in_flight(&env, &b, 0, 20);
    cr_assert_eq(kill(env.redis.pid, SIGCONT), 0);
    fl_wait_drained(&env);

    fl_assert_once(&env, 20);
    cr_expect_geq(ce_metric(&env, "haze_replay_duplicates_total"), 1);
    cr_expect_eq(ce_metric(&env, "haze_dup_searches_total{start=\"window\"}"), 1);
    cr_expect_eq(ce_metric(&env, "haze_dup_searches_total{start=\"floor\"}"), 0);
    ce_stop(&env);
}
