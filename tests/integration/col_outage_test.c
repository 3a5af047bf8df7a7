/* SPDX-License-Identifier: MIT */
/*
 * col_outage_test.c - Redis dies while hits arrive and comes back: every
 * hit answered 2xx reaches the stream exactly once (the spool, the replay
 * and the duplicate search after an unanswered XADD).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/integration/collector_env.h"

#define OUT_HITS 300

static int
page_index(const char *p)
{
    return p && strncmp(p, "/p/", 3) == 0 ? atoi(p + 3) : -1;
}

Test(collector_outage, every_accepted_hit_reaches_the_stream_exactly_once, .timeout = 120)
{
    static struct ce_entry en[OUT_HITS + 50];
    struct ce env;
    int accepted = 0, seen[OUT_HITS] = {0}, n = 0;
    char body[256];

    /* One thread: the order of arrival is then one order to check. */
    ce_start(&env, 1, "redis_timeout_ms = 300\nthreads = 1\n");
    for (int i = 0; i < OUT_HITS; i++) {
        if (i == 100)
            ht_redis_stop(&env.redis, 1); /* SIGKILL, mid-stream */
        if (i == 200)
            cr_assert_eq(ht_redis_start(&env.redis, env.dir, 1), 0, "redis restarts");
        snprintf(body, sizeof(body),
                 "{\"n\":\"pageview\",\"u\":\"https://example.com/p/%d\",\"d\":\"example.com\"}",
                 i);
        int st = ce_event(&env, body, NULL);
        cr_assert(st == 202 || st == 503, "hit %d: status %d", i, st);
        accepted += st == 202;
    }
    cr_assert_eq(accepted, OUT_HITS, "the spool took every hit while redis was down");

    /* Wait for the replay to finish. */
    for (int t = 0; t < 200; t++) {
        n = ce_entries(&env, en, OUT_HITS + 50, 1);
        if (n >= accepted)
            break;
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    {
        /* A little longer, to catch late duplicates. */
        struct timespec ts = {0, 500000000};
        nanosleep(&ts, NULL);
        n = ce_entries(&env, en, OUT_HITS + 50, 1);
    }
    cr_assert_eq(n, accepted, "stream has %d hits for %d accepted", n, accepted);
    for (int i = 0; i < n; i++) {
        int k = page_index(ce_field(&en[i], "p"));
        cr_assert(k >= 0 && k < OUT_HITS, "unexpected page %s", ce_field(&en[i], "p"));
        seen[k]++;
    }
    for (int k = 0; k < OUT_HITS; k++)
        cr_assert_eq(seen[k], 1, "hit %d is in the stream %d times", k, seen[k]);
    /* The spool and the replay really ran (not a lucky fast restart). */
    struct ht_response r;
    cr_assert_eq(ht_http(env.port, "GET", "/metrics", NULL, NULL, 0, &r), 0);
    const char *sp = strstr(r.body, "\nhaze_spooled_total "),
               *rp = strstr(r.body, "\nhaze_replayed_total ");
    cr_assert(sp && rp);
    long spooled = strtol(sp + 20, NULL, 10), replayed = strtol(rp + 21, NULL, 10);
    cr_log_info("spooled %ld, replayed %ld", spooled, replayed);
    cr_assert_geq(spooled, 100, "hits taken while redis was down were spooled");
    cr_assert_geq(replayed, 100);
    ht_response_free(&r);
    /* The order of the replay is the order of arrival. */
    for (int i = 1; i < n; i++)
        cr_expect_lt(page_index(ce_field(&en[i - 1], "p")), page_index(ce_field(&en[i], "p")));
    ce_stop(&env);
}
