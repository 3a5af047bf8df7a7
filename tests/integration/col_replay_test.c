/* SPDX-License-Identifier: MIT */
/*
 * col_replay_test.c - the replay's pace: a thread that keeps taking hits
 * after Redis is back replays at its own pace (pub_replay.c), and its spool
 * still drains while the hits go on; every hit answered 2xx is in the
 * stream once, in the order of arrival.
 *
 * Redis runs without AOF (the test never restarts it): with appendfsync
 * always, a disk kept busy by other work made each of Redis's loop turns
 * wait for an fsync, and the replay (PUB_REPLAY_WINDOW XADDs in flight)
 * then fell behind the test's hits, which arrive as fast as the loopback
 * allows, and Redis stalls past redis_timeout_ms retired connections.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/integration/collector_env.h"

#define RP_BACKLOG 3000 /* hits spooled while Redis is paused */
#define RP_MAX     60000

static double
rp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(collector_replay, a_busy_thread_drains_its_spool_in_order, .timeout = 120)
{
    struct ce env;
    unsigned char *count = calloc(RP_MAX, 1);
    int n = 0, accepted = 0, out_of_order = 0;
    double t0, drained = -1;
    long spooled, replayed;

    cr_assert_not_null(count);
    ce_start(&env, 0, "redis_timeout_ms = 300\nthreads = 1\n");
    for (; n < 20; n++)
        accepted += ce_page_hit(&env, n) == 202;
    /* Paused: the hit in flight times out, the connection is retired and
     * the hits from then on are spooled. */
    cr_assert_eq(kill(env.redis.pid, SIGSTOP), 0);
    for (; n < 20 + RP_BACKLOG; n++)
        accepted += ce_page_hit(&env, n) == 202;
    cr_assert_geq(ce_metric(&env, "haze_spool_entries"), RP_BACKLOG / 2);
    cr_assert_eq(kill(env.redis.pid, SIGCONT), 0);
    /* Hits go on without a pause (the thread stays busy) until the spool
     * is empty: at 5,000 entries a second beyond the new hits that takes
     * well under a second plus the duplicate search; 20 s is the bound. */
    t0 = rp_now();
    while (n < RP_MAX && rp_now() - t0 < 20) {
        for (int j = 0; j < 50 && n < RP_MAX; j++, n++)
            accepted += ce_page_hit(&env, n) == 202;
        if (ce_metric(&env, "haze_spool_entries") == 0) {
            drained = rp_now() - t0;
            break;
        }
    }
    cr_log_info("%d hits, %d accepted; the spool drained %.2f s after redis came back", n, accepted,
                drained);
    cr_assert_geq(drained, 0, "the spool drained while hits went on");
    cr_assert_eq(accepted, n, "every hit was answered 202");
    spooled = ce_metric(&env, "haze_spooled_total");
    replayed = ce_metric(&env, "haze_replayed_total");
    cr_assert_geq(spooled, RP_BACKLOG, "the hits were spooled (%ld)", spooled);
    cr_assert_geq(replayed + ce_metric(&env, "haze_replay_duplicates_total"), RP_BACKLOG / 2,
                  "and replayed (%ld)", replayed);

    /* Every hit once, in the order of arrival (one thread). */
    for (int t = 0; t < 100 && ht_redis_xlen(&env.redis, CE_STREAM) < accepted; t++) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    cr_assert_eq(ce_page_counts(&env, count, RP_MAX, &out_of_order), 0);
    for (int k = 0; k < n; k++)
        cr_assert_eq(count[k], 1, "hit %d is in the stream %d times", k, count[k]);
    cr_assert_eq(out_of_order, 0, "the stream holds the hits in their order");
    free(count);
    ce_stop(&env);
}
