/* SPDX-License-Identifier: MIT */
/*
 * col_search_test.c - the duplicate search's commands are timed like
 * XADDs (collector/publish.c, pub_tick): a Redis that stalls in the middle
 * of a search (SIGSTOP here; a slow fsync, a peer gone without a word)
 * gets its connection retired after redis_timeout_ms, as a stalled XADD
 * does, and the search starts again on a new connection once Redis
 * answers. Before, the search waited on the stalled connection until Redis
 * answered (a silent dead peer: until the kernel gave up), with nothing in
 * flight that the XADD timeout watches: hits were spooled meanwhile.
 *
 * The search has to last long enough to be paused in its middle: it reads
 * the two-minute window (the first hit's XADD, sent on a connection with
 * no acknowledged XADD, has no floor: col_floor_test.c), into which the
 * test puts SC_FILL entries first. Redis runs without AOF (no restart
 * here; col_floor_test.c says why).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/integration/collector_env.h"

TestSuite(collector_search, .fini = ht_cleanup);

#define SC_FILL "300000" /* stream entries before the first hit */
#define SC_HITS 30       /* hits: the first XADD runs late, the rest are spooled */
#define SC_MAX  (SC_HITS + 10)

Test(collector_search, a_redis_stalled_during_the_search_has_its_connection_retired, .timeout = 180)
{
    struct ce env;
    const char *fill[] = {"EVAL",
                          "for i = 1, tonumber(ARGV[1]) do "
                          "redis.call('XADD', KEYS[1], '*', 'x', '1') end "
                          "return tonumber(ARGV[1])",
                          "1", CE_STREAM, SC_FILL};
    long fill_n = atol(SC_FILL), errs, scanned, searches;
    unsigned char count[SC_MAX];
    int out_of_order = -1;
    hz_rs *rs;

    ce_start(&env, 0, "redis_timeout_ms = 300\nthreads = 1\n");
    rs = ht_rs_connect(&env.redis);
    cr_assert_eq(ht_cmd(rs, 5, fill), fill_n, "the stream was filled");
    hz_rs_close(rs);

    /* Hit 0's XADD is written to a paused Redis: retired after
     * redis_timeout_ms, hit 0 spooled as ambiguous, with no floor. */
    errs = ce_metric(&env, "haze_stream_errors_total");
    cr_assert_eq(kill(env.redis.pid, SIGSTOP), 0);
    ce_page_hits(&env, 0, 1);
    cr_assert_gt(ce_wait_above(&env, "haze_stream_errors_total", errs, 20000), errs,
                 "the XADD's connection was retired");
    ce_page_hits(&env, 1, 10);
    /* Resumed: Redis runs hit 0's XADD, the retired connection is done and
     * the search reads the window, SC_FILL entries and more. Paused again
     * once it has read a page. */
    cr_assert_eq(kill(env.redis.pid, SIGCONT), 0);
    (void)ce_wait_above(&env, "haze_dup_scanned_total", 0, 30000);
    errs = ce_metric(&env, "haze_stream_errors_total");
    cr_assert_eq(kill(env.redis.pid, SIGSTOP), 0);
    scanned = ce_metric(&env, "haze_dup_scanned_total");
    cr_log_info("paused after the search had read %ld of %ld entries", scanned, fill_n);
    cr_assert_gt(scanned, 0, "the search began");
    cr_assert_lt(scanned, fill_n, "paused in the middle of the search");
    /* Hits taken meanwhile are spooled behind the others (nothing in
     * flight for the XADD timeout to watch). */
    ce_page_hits(&env, 10, SC_HITS);
    cr_assert_gt(ce_wait_above(&env, "haze_stream_errors_total", errs, 10000), errs,
                 "the search's connection was retired while Redis was paused");
    cr_assert_gt(ce_metric(&env, "haze_spool_entries"), 0);
    cr_assert_eq(kill(env.redis.pid, SIGCONT), 0);

    /* The search starts again on a new connection and ends; the spool
     * drains; hit 0, found in the stream, is not added again. */
    for (int t = 0; t < 600 && ce_metric(&env, "haze_spool_entries") != 0; t++)
        ce_sleep_ms(100);
    cr_assert_eq(ce_metric(&env, "haze_spool_entries"), 0, "the spool drained");
    ce_sleep_ms(300); /* late duplicates would show now */
    cr_assert_geq(ce_page_counts(&env, count, SC_MAX, &out_of_order), 0);
    for (int i = 0; i < SC_HITS; i++)
        cr_assert_eq(count[i], 1, "hit %d is in the stream %d times", i, count[i]);
    for (int i = SC_HITS; i < SC_MAX; i++)
        cr_assert_eq(count[i], 0, "hit %d was never sent", i);
    cr_assert_eq(out_of_order, 0, "the stream holds the hits in their order");
    cr_expect_geq(ce_metric(&env, "haze_replay_duplicates_total"), 1, "hit 0 was found");
    searches = ce_metric(&env, "haze_dup_searches_total{start=\"window\"}");
    scanned = ce_metric(&env, "haze_dup_scanned_total");
    cr_log_info("%ld searches from the window read %ld entries", searches, scanned);
    cr_expect_geq(searches, 2, "the search started again");
    cr_expect_gt(scanned, fill_n, "the last search read the whole window");
    ce_stop(&env);
}
