/* SPDX-License-Identifier: MIT */
/*
 * col_batch_test.c - the hits of one loop turn share one stream entry (a
 * batch of records, common/record.h): a burst of pipelined hits on one
 * connection lands in fewer entries than hits, at most
 * HZ_RECORD_BATCH_MAX records each, every hit once and in order; the real
 * aggregator reads the batches and LMDB counts every hit exactly once
 * (through the real dashboard). A burst whose batches Redis runs only after
 * the connection was retired (paused past redis_timeout_ms) is found by the
 * duplicate search inside those entries: each hit once, in order.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/record.h"
#include "tests/integration/collector_env.h"

#define BT_HITS  300
#define BT_TOKEN "batch-test-token-0123456"

static void
bt_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Sends hits from..to-1 (numbered pageviews, ce_page_hit's pages) in one
 * write on one keep-alive connection; returns how many were answered 202. */
static int
bt_burst(int port, int from, int to)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    size_t cap = (size_t)(to - from) * 512 + 1, len = 0, n = 0;
    char *req = malloc(cap), *buf = malloc(1 << 20);
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok = 0;

    cr_assert(req != NULL && buf != NULL);
    for (int i = from; i < to; i++) {
        char body[160];
        int bl = snprintf(body, sizeof(body),
                          "{\"n\":\"pageview\",\"u\":\"https://example.com/p/%d/%d\","
                          "\"d\":\"example.com\"}",
                          i / 1000, i % 1000);
        len += (size_t)snprintf(req + len, cap - len,
                                "POST /api/event HTTP/1.1\r\nHost: x\r\nUser-Agent: " CE_CHROME
                                "\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
                                bl, body);
    }
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
    cr_assert_eq(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
    for (int answers = 0; answers < to - from;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t r;
        if (poll(&p, 1, 10000) != 1 || (r = recv(fd, buf + n, (1 << 20) - n - 1, 0)) <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
        answers = ok = 0;
        for (const char *at = buf; (at = strstr(at, "HTTP/1.1 ")) != NULL; at += 9) {
            answers++;
            ok += strncmp(at + 9, "202", 3) == 0;
        }
    }
    close(fd);
    free(req);
    free(buf);
    return ok;
}

static char *
bt_api(int port, const char *target)
{
    struct ht_response r;
    char *body;

    cr_assert_eq(
        ht_http(port, "GET", target, "Authorization: Bearer " BT_TOKEN "\r\n", NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200, "%s: %d %s", target, r.status, r.body);
    body = r.body;
    r.body = NULL;
    return body;
}

Test(collector_batch, a_burst_shares_entries_and_each_hit_counts_once, .timeout = 120)
{
    unsigned char *count = calloc(BT_HITS, 1);
    struct ce env;
    struct ht_proc agg = {0}, dash = {0};
    char tail[512], bin[256], want[64];
    int dport = ht_free_port(), ooo = 0, ok = 0, other;
    long entries;

    cr_assert_not_null(count);
    snprintf(tail, sizeof(tail),
             "[aggregator]\nlmdb = @DIR@/db\nbatch = 100\nuser = root\n"
             "[dashboard]\nlisten = 127.0.0.1:%d\ntoken = " BT_TOKEN
             "\nmin_visitors = 1\nuser = root\n",
             dport);
    ce_start_tail(&env, 0, "threads = 1\n", tail);
    ok = bt_burst(env.port, 0, BT_HITS);
    cr_assert_eq(ok, BT_HITS, "every hit answered 202 (%d)", ok);

    /* In the stream: every hit once, in order, in fewer entries. */
    other = ce_page_counts(&env, count, BT_HITS, &ooo);
    cr_assert_eq(other, 0);
    for (int i = 0; i < BT_HITS; i++)
        cr_assert_eq(count[i], 1, "hit %d is in the stream %d times", i, count[i]);
    cr_assert_eq(ooo, 0, "the hits are in their order");
    entries = ht_redis_xlen(&env.redis, CE_STREAM);
    cr_log_info("%d hits in %ld stream entries", BT_HITS, entries);
    cr_assert_lt(entries, BT_HITS / 2, "a burst shares entries (%ld for %d hits)", entries,
                 BT_HITS);
    cr_assert_geq(entries, (BT_HITS + HZ_RECORD_BATCH_MAX - 1) / HZ_RECORD_BATCH_MAX,
                  "at most %d records an entry", HZ_RECORD_BATCH_MAX);

    /* Folded: the aggregator (batches of 100 records, so an entry of many
     * records ends a batch early) counts each hit once. */
    ht_bin(bin, "haze-aggregator");
    const char *aargv[] = {bin, "-c", env.ini, NULL};
    cr_assert_eq(ht_spawn(&agg, env.dir, "aggregator", aargv), 0);
    ht_bin(bin, "haze-dashboard");
    const char *dargv[] = {bin, "-c", env.ini, NULL};
    cr_assert_eq(ht_spawn(&dash, env.dir, "dashboard", dargv), 0);
    cr_assert_eq(ht_wait_port(dport, 15000), 0, "dashboard listens");
    snprintf(want, sizeof(want), "\"pageviews\":{\"value\":%d}", BT_HITS);
    int seen = 0;
    char *b = NULL;
    for (int i = 0; i < 300 && !seen; i++) {
        free(b);
        b = bt_api(dport,
                   "/api/v1/stats/aggregate?site_id=example.com&period=day&metrics=pageviews");
        if (!(seen = strstr(b, want) != NULL))
            bt_sleep_ms(100);
    }
    cr_assert(seen, "LMDB counts %d pageviews: %s", BT_HITS, b ? b : "");
    free(b);
    /* A second look a moment later: nothing counted twice. */
    bt_sleep_ms(500);
    b = bt_api(dport, "/api/v1/stats/aggregate?site_id=example.com&period=day&metrics=pageviews");
    cr_assert_not_null(strstr(b, want), "still %d: %s", BT_HITS, b);
    free(b);
    cr_expect_eq(ht_stop(&dash, 0, 10000), 0, "dashboard exits 0");
    cr_expect_eq(ht_stop(&agg, 0, 10000), 0, "aggregator exits 0");
    ce_stop(&env);
    free(count);
}

Test(collector_batch, a_burst_in_flight_on_a_paused_redis_is_added_once, .timeout = 120)
{
    unsigned char *count = calloc(BT_HITS + 100, 1);
    struct ce env;
    int ooo = -1, ok;
    long dupes, errs;

    cr_assert_not_null(count);
    ce_start(&env, 1, "redis_timeout_ms = 300\nthreads = 1\n");
    ok = bt_burst(env.port, 0, 50); /* a floor: XADDs acknowledged */
    cr_assert_eq(ok, 50);
    errs = ce_metric(&env, "haze_stream_errors_total");
    /* Paused: the burst's batches are written and get no answer; after
     * redis_timeout_ms its hits are spooled as ambiguous and answered. */
    cr_assert_eq(kill(env.redis.pid, SIGSTOP), 0);
    ok = bt_burst(env.port, 50, BT_HITS);
    cr_assert_eq(ok, BT_HITS - 50, "every hit answered 202 (%d)", ok);
    cr_assert_gt(ce_metric(&env, "haze_stream_errors_total"), errs, "the connection was retired");
    /* Resumed: Redis runs the batches, then the search finds their ids. */
    cr_assert_eq(kill(env.redis.pid, SIGCONT), 0);
    for (int t = 0; t < 300 && ce_metric(&env, "haze_spool_entries") != 0; t++)
        bt_sleep_ms(100);
    cr_assert_eq(ce_metric(&env, "haze_spool_entries"), 0, "the spool drained");
    bt_sleep_ms(300);
    dupes = ce_metric(&env, "haze_replay_duplicates_total");
    cr_log_info("%ld ambiguous hits found in the stream; %ld entries", dupes,
                ht_redis_xlen(&env.redis, CE_STREAM));
    cr_expect_geq(dupes, 2, "hits of a batch that ran late were found");
    cr_assert_eq(ce_page_counts(&env, count, BT_HITS + 100, &ooo), 0);
    for (int i = 0; i < BT_HITS + 100; i++)
        cr_assert_eq(count[i], i < BT_HITS, "hit %d is in the stream %d times", i, count[i]);
    cr_assert_eq(ooo, 0, "the stream holds the hits in their order");
    ce_stop(&env);
    free(count);
}
