/* SPDX-License-Identifier: MIT */
/*
 * col_stall_test.c - issue 10's numbers, scaled down: steady traffic from
 * haze-loadgen at 16 connections into a collector whose Redis is
 * persistent (appendonly, appendfsync always) and is paused past
 * redis_timeout_ms (SIGSTOP/SIGCONT) several times, then killed (-9) and
 * restarted from its AOF while XADDs are in flight. Every hit answered 2xx
 * must be in the stream exactly once.
 *
 * The duplicates this catches: a paused Redis still executes the XADDs it
 * had been sent once it runs again, even after the collector gave up on
 * the connection, so a duplicate search made before that connection was
 * finished missed them, and a replayed XADD that timed out was replayed
 * again without any search.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/integration/collector_env.h"

static void
st_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

struct st_ids {
    char (*ids)[17];
    size_t n, cap;
};

static void
st_id(const struct ce_entry *en, void *arg)
{
    struct st_ids *s = arg;
    const char *u = ce_field(en, "u");

    if (u == NULL)
        return;
    if (s->n == s->cap) {
        s->ids = realloc(s->ids, (s->cap *= 2) * 17);
        cr_assert(s->ids != NULL);
    }
    snprintf(s->ids[s->n++], 17, "%s", u);
}

/* Hit entries in the stream (those with a hit id "u"), and how many of
 * them repeat an id already seen. */
static void
st_count(struct ce *e, long *hits, long *dups)
{
    struct st_ids s = {calloc(1 << 16, 17), 0, 1 << 16};
    size_t n;
    char(*ids)[17];

    cr_assert(s.ids != NULL);
    cr_assert_geq(ce_each(e, st_id, &s), 0);
    ids = s.ids;
    n = s.n;
    qsort(ids, n, 17, (int (*)(const void *, const void *))strcmp);
    *hits = (long)n;
    *dups = 0;
    for (size_t i = 1; i < n; i++)
        *dups += strcmp(ids[i - 1], ids[i]) == 0;
    free(ids);
}

Test(collector_stall, redis_paused_and_killed_counts_every_hit_once, .timeout = 180)
{
    struct ce env;
    struct ht_proc lg;
    char bin[256], url[64], cmd[1024], totals[160];
    long hits = 0, dups = 0, ok;
    json_error_t jerr;
    json_t *t;

    ce_start(&env, 1, "redis_timeout_ms = 300\n");
    ht_bin(bin, "haze-loadgen");
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", env.port);
    snprintf(totals, sizeof(totals), "%s/totals.json", env.dir);
    snprintf(cmd, sizeof(cmd),
             "exec '%s' -u %s -S example.com -d 14 -r 1500 -c 16 --totals -q > '%s'", bin, url,
             totals);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    cr_assert_eq(ht_spawn(&lg, env.dir, "loadgen", argv), 0);

    /* Six pauses of 1 s (the timeout is 300 ms) at uneven moments, then
     * two kill -9 and restarts with hits in flight. */
    srand((unsigned)time(NULL));
    st_sleep_ms(800);
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(kill(env.redis.pid, SIGSTOP), 0);
        st_sleep_ms(1000);
        cr_assert_eq(kill(env.redis.pid, SIGCONT), 0);
        st_sleep_ms(200 + rand() % 500);
    }
    for (int i = 0; i < 2; i++) {
        ht_redis_stop(&env.redis, 1);
        st_sleep_ms(100 + rand() % 300);
        cr_assert_eq(ht_redis_start(&env.redis, env.dir, 1), 0, "redis restarts from its AOF");
        st_sleep_ms(400 + rand() % 400);
    }
    cr_assert_eq(ht_wait(&lg, 60000), 0, "loadgen finishes");
    t = json_load_file(totals, 0, &jerr);
    cr_assert(t != NULL, "totals: %s", jerr.text);
    ok = (long)json_integer_value(
        json_object_get(json_object_get(json_object_get(t, "responses"), "counted"), "ok"));
    json_decref(t);
    cr_assert_gt(ok, 5000, "loadgen got %ld hits answered 2xx", ok);

    /* Wait for the spools to drain, then a little longer for late
     * duplicates. */
    for (int i = 0; i < 300 && ce_metric(&env, "haze_spool_entries") != 0; i++)
        st_sleep_ms(100);
    st_sleep_ms(1500);
    st_count(&env, &hits, &dups);
    long dupes_found = ce_metric(&env, "haze_replay_duplicates_total");
    cr_log_info("2xx %ld, in the stream %ld, duplicated %ld, ambiguous found in the stream %ld", ok,
                hits, dups, dupes_found);
    cr_expect_eq(dups, 0, "%ld hits are in the stream twice", dups);
    cr_expect_eq(hits, ok, "%ld hits in the stream for %ld answered 2xx", hits, ok);
    /* The scenario really happened: hits were in flight when Redis stalled. */
    cr_expect_gt(ce_metric(&env, "haze_spooled_total"), 0);
    ce_stop(&env);
}
