/* SPDX-License-Identifier: MIT */
/*
 * col_replay_test.c - the replay's pace: a thread that keeps taking hits
 * after Redis is back replays at its own pace (pub_replay.c), and its spool
 * still drains while the hits go on; every hit answered 2xx is in the
 * stream once, in the order of arrival.
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

static int
rp_hit(struct ce *e, int i)
{
    char body[160];

    /* Two short numbers: a run of 5+ digits would become ":id". */
    snprintf(body, sizeof(body),
             "{\"n\":\"pageview\",\"u\":\"https://example.com/p/%d/%d\",\"d\":\"example.com\"}",
             i / 1000, i % 1000);
    return ce_event(e, body, NULL);
}

struct rp_seen {
    unsigned char *count;
    int last, out_of_order, bad;
};

static void
rp_one(const struct ce_entry *en, void *arg)
{
    struct rp_seen *s = arg;
    const char *p = ce_field(en, "p"), *q = p ? strchr(p + 3, '/') : NULL;
    int k = p && strncmp(p, "/p/", 3) == 0 && q ? atoi(p + 3) * 1000 + atoi(q + 1) : -1;

    if (k < 0 || k >= RP_MAX) {
        s->bad++;
        return;
    }
    if (s->count[k] < 255)
        s->count[k]++;
    s->out_of_order += k < s->last;
    s->last = k;
}

Test(collector_replay, a_busy_thread_drains_its_spool_in_order, .timeout = 120)
{
    struct ce env;
    struct rp_seen seen = {calloc(RP_MAX, 1), -1, 0, 0};
    int n = 0, accepted = 0;
    double t0, drained = -1;
    long spooled, replayed;

    cr_assert_not_null(seen.count);
    ce_start(&env, 1, "redis_timeout_ms = 300\nthreads = 1\n");
    for (; n < 20; n++)
        accepted += rp_hit(&env, n) == 202;
    /* Paused: the hit in flight times out, the connection is retired and
     * the hits from then on are spooled. */
    cr_assert_eq(kill(env.redis.pid, SIGSTOP), 0);
    for (; n < 20 + RP_BACKLOG; n++)
        accepted += rp_hit(&env, n) == 202;
    cr_assert_geq(ce_metric(&env, "haze_spool_entries"), RP_BACKLOG / 2);
    cr_assert_eq(kill(env.redis.pid, SIGCONT), 0);
    /* Hits go on without a pause (the thread stays busy) until the spool
     * is empty: at 5,000 entries a second beyond the new hits that takes
     * well under a second plus the duplicate search; 20 s is the bound. */
    t0 = rp_now();
    while (n < RP_MAX && rp_now() - t0 < 20) {
        for (int j = 0; j < 50 && n < RP_MAX; j++, n++)
            accepted += rp_hit(&env, n) == 202;
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
    cr_assert_geq(ce_each(&env, rp_one, &seen), 0);
    cr_assert_eq(seen.bad, 0);
    for (int k = 0; k < n; k++)
        cr_assert_eq(seen.count[k], 1, "hit %d is in the stream %d times", k, seen.count[k]);
    cr_assert_eq(seen.out_of_order, 0, "the stream holds the hits in their order");
    free(seen.count);
    ce_stop(&env);
}
