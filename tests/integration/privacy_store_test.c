/* SPDX-License-Identifier: MIT */
/*
 * privacy_store_test.c - the privacy model's points that reach past the
 * collector, through the real collector, Redis, aggregator, LMDB and
 * dashboard: 4 (aggregates only; the visitor hash never in LMDB, and in
 * Redis only under keys with a TTL), 5 (minimum crowd size) and 8
 * (retention deletes, and compaction leaves nothing behind in the file).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/integration/collector_env.h"

#define TOKEN    "privacy-test-token-0123"
#define PV(path) "{\"n\":\"pageview\",\"u\":\"https://example.com" path "\",\"d\":\"example.com\"}"

struct stack {
    struct ce ce;
    struct ht_proc agg, dash;
    int dport;
};

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void
start_stack(struct stack *s, int retention_days)
{
    char tail[1024];

    s->dport = ht_free_port();
    snprintf(tail, sizeof(tail),
             "[aggregator]\nlmdb = @DIR@/db\nretention_days = %d\nbatch = 500\nuser = root\n"
             "[dashboard]\nlisten = 127.0.0.1:%d\ntoken = " TOKEN
             "\nmin_visitors = 5\nuser = root\n",
             retention_days, s->dport);
    ce_start_tail(&s->ce, 0, NULL, tail);
}

static void
start_agg(struct stack *s, const char *ini)
{
    char bin[256];
    ht_bin(bin, "haze-aggregator");
    const char *argv[] = {bin, "-c", ini ? ini : s->ce.ini, NULL};
    cr_assert_eq(ht_spawn(&s->agg, s->ce.dir, "aggregator", argv), 0);
}

static void
start_dash(struct stack *s)
{
    char bin[256];
    ht_bin(bin, "haze-dashboard");
    const char *argv[] = {bin, "-c", s->ce.ini, NULL};
    cr_assert_eq(ht_spawn(&s->dash, s->ce.dir, "dashboard", argv), 0);
    cr_assert_eq(ht_wait_port(s->dport, 15000), 0, "dashboard listens");
}

static char *
api(struct stack *s, const char *target)
{
    struct ht_response r;
    char *body;

    cr_assert_eq(
        ht_http(s->dport, "GET", target, "Authorization: Bearer " TOKEN "\r\n", NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200, "%s: %d %s", target, r.status, r.body);
    body = r.body;
    r.body = NULL;
    return body;
}

/* Waits until the dashboard reports n pageviews today. */
static void
wait_pageviews(struct stack *s, int n)
{
    char want[64];
    snprintf(want, sizeof(want), "\"pageviews\":{\"value\":%d}", n);
    for (int i = 0; i < 300; i++) {
        char *b =
            api(s, "/api/v1/stats/aggregate?site_id=example.com&period=day&metrics=pageviews");
        int ok = strstr(b, want) != NULL;
        free(b);
        if (ok)
            return;
        sleep_ms(100);
    }
    cr_assert_fail("the aggregates never reached %d pageviews", n);
}

static void
stop_stack(struct stack *s)
{
    if (s->dash.pid > 0)
        cr_expect_eq(ht_stop(&s->dash, 0, 10000), 0, "dashboard exits 0");
    if (s->agg.pid > 0)
        cr_expect_eq(ht_stop(&s->agg, 0, 10000), 0, "aggregator exits 0");
    ce_stop(&s->ce);
}

static int
file_has(const char *path, const void *needle, size_t len)
{
    size_t n;
    char *buf = ht_slurp(path, &n);
    int found = buf != NULL && memmem(buf, n, needle, len) != NULL;
    free(buf);
    return found;
}

Test(privacy_store, p4_aggregates_only_visitor_hash_never_in_lmdb, .timeout = 120)
{
    static struct ce_entry en[64];
    struct stack s;
    char hdr[256], ip[32], mdb[160];
    int n;

    memset(&s, 0, sizeof(s));
    start_stack(&s, 400);
    for (int i = 0; i < 40; i++) {
        snprintf(ip, sizeof(ip), "192.0.2.%d", 1 + i % 8);
        snprintf(hdr, sizeof(hdr), "X-Forwarded-For: %s\r\n", ip);
        cr_assert_eq(ce_event(&s.ce, i % 2 ? PV("/a") : PV("/b"), hdr), 202);
    }
    n = ce_entries(&s.ce, en, 64, 1);
    cr_assert_eq(n, 40);
    start_agg(&s, NULL);
    start_dash(&s);
    wait_pageviews(&s, 40);

    snprintf(mdb, sizeof(mdb), "%s/db/data.mdb", s.ce.dir);
    for (int i = 0; i < n; i++) {
        const char *vh = ce_field(&en[i], "vh");
        unsigned char bin[8];
        cr_assert_not_null(vh);
        cr_assert(!file_has(mdb, vh, 16), "visitor hash %d as text in LMDB", i);
        for (int k = 0; k < 8; k++)
            sscanf(vh + 2 * k, "%2hhx", &bin[k]);
        cr_assert(!file_has(mdb, bin, 8), "visitor hash %d as bytes in LMDB", i);
    }
    for (int i = 1; i <= 8; i++) {
        unsigned char raw[4] = {192, 0, 2, (unsigned char)i};
        snprintf(ip, sizeof(ip), "192.0.2.%d", i);
        cr_assert(!file_has(mdb, ip, strlen(ip)), "address in LMDB");
        cr_assert(!file_has(mdb, raw, 4), "address bytes in LMDB");
    }
    cr_assert(!file_has(mdb, "Mozilla", 7), "user agent in LMDB");
    cr_assert(file_has(mdb, "/a", 2), "the page aggregates are there");

    /* In Redis, anything keyed by a visitor expires. */
    const char *keys[] = {"KEYS", "*", NULL};
    char *all = ht_redis_cli(&s.ce.redis, keys), *save = NULL;
    int checked = 0;
    for (char *k = strtok_r(all, "\n", &save); k; k = strtok_r(NULL, "\n", &save)) {
        int has_vh = 0;
        for (int i = 0; i < n && !has_vh; i++)
            has_vh = strstr(k, ce_field(&en[i], "vh")) != NULL;
        if (!has_vh)
            continue;
        const char *ttl[] = {"PTTL", k, NULL};
        char *t = ht_redis_cli(&s.ce.redis, ttl);
        cr_assert(t && strtol(t, NULL, 10) > 0, "key %.20s... has no TTL", k);
        free(t);
        checked++;
    }
    free(all);
    cr_log_info("%d visitor keys in Redis, all with a TTL", checked);
    stop_stack(&s);
}

Test(privacy_store, p5_minimum_crowd_size_folds_small_rows, .timeout = 120)
{
    struct stack s;
    char hdr[256], *b;
    /* 6 visitors in DE-BY, 5 in US-NY, 2 in US-CA, 1 in CN-JS. */
    static const struct {
        const char *net;
        int n;
    } groups[] = {{"192.0.2.", 6}, {"100.64.6.", 5}, {"198.51.100.", 2}, {"203.0.113.", 1}};
    int total = 0;

    memset(&s, 0, sizeof(s));
    start_stack(&s, 400);
    for (size_t g = 0; g < 4; g++)
        for (int i = 0; i < groups[g].n; i++) {
            snprintf(hdr, sizeof(hdr), "X-Forwarded-For: %s%d\r\n", groups[g].net, 10 + i);
            cr_assert_eq(ce_event(&s.ce, PV("/"), hdr), 202);
            total++;
        }
    start_agg(&s, NULL);
    start_dash(&s);
    wait_pageviews(&s, total);
    b = api(&s, "/api/v1/stats/breakdown?site_id=example.com&period=day&property=visit:region"
                "&metrics=visitors");
    cr_assert_not_null(strstr(b, "{\"region\":\"DE-BY\",\"visitors\":6}"), "%s", b);
    cr_assert_not_null(strstr(b, "{\"region\":\"US-NY\",\"visitors\":5}"), "%s", b);
    cr_assert_not_null(strstr(b, "{\"region\":\"(other)\",\"visitors\":3}"), "%s", b);
    cr_assert_null(strstr(b, "US-CA"), "a region of 2 visitors is not shown: %s", b);
    cr_assert_null(strstr(b, "CN-JS"), "a region of 1 visitor is not shown: %s", b);
    cr_assert_not_null(strstr(b, "\"folded\":2"), "%s", b);
    free(b);

    /* privacy.json states the threshold, publicly. */
    struct ht_response r;
    cr_assert_eq(ht_http(s.dport, "GET", "/privacy.json", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "\"min_visitors\":5"), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"retention_days\":400"), "%s", r.body);
    ht_response_free(&r);
    stop_stack(&s);
}

Test(privacy_store, p8_retention_deletes_and_compaction_leaves_no_trace, .timeout = 120)
{
    struct stack s;
    char cmd_t[32], mdb[160], ini2[256], *text, *at;
    const char *marker = "/p8-expired-page-marker";
    uint64_t old_ms = (uint64_t)time(NULL) * 1000 - 5ULL * 86400000ULL;

    memset(&s, 0, sizeof(s));
    start_stack(&s, 400);
    /* A hit from five days ago (XADDed as a collector would have), and one now. */
    snprintf(cmd_t, sizeof(cmd_t), "%llu", (unsigned long long)old_ms);
    const char *xadd[] = {
        "XADD",    CE_STREAM, "*",     "v",           "1",       "t",    cmd_t,
        "k",       "pv",      "s",     "example.com", "p",       marker, "b",
        "Firefox", "o",       "Linux", "dv",          "desktop", "vh",   "00112233445566aa",
        NULL};
    free(ht_redis_cli(&s.ce.redis, xadd));
    cr_assert_eq(ce_event(&s.ce, PV("/fresh"), NULL), 202);
    start_agg(&s, NULL);
    start_dash(&s);
    wait_pageviews(&s, 1);
    snprintf(mdb, sizeof(mdb), "%s/db/data.mdb", s.ce.dir);
    for (int i = 0; i < 100 && !file_has(mdb, marker, strlen(marker)); i++)
        sleep_ms(100);
    cr_assert(file_has(mdb, marker, strlen(marker)), "the old day was folded first");
    cr_assert_eq(ht_stop(&s.agg, 0, 10000), 0);

    /* Restart with a 2-day retention: the old day goes, and not a byte of it stays. */
    text = ht_slurp(s.ce.ini, NULL);
    at = strstr(text, "retention_days = 400");
    cr_assert_not_null(at);
    memcpy(at, "retention_days = 002", 20);
    ht_write_file(ini2, s.ce.dir, "haze2.ini", text);
    free(text);
    start_agg(&s, ini2);
    for (int i = 0; i < 150 && file_has(mdb, marker, strlen(marker)); i++)
        sleep_ms(100);
    cr_assert(!file_has(mdb, marker, strlen(marker)), "the expired page is gone from data.mdb");
    cr_assert(file_has(mdb, "/fresh", 6), "today's data stays");
    stop_stack(&s);
}

/* Not a privacy point, but the same stack: the realtime figure through the
 * real pipeline is the number of distinct visitors of the last minutes,
 * however many pages each of them viewed. */
Test(stack, realtime_counts_recent_visitors_once, .timeout = 120)
{
    struct stack s;
    char hdr[256], *b;

    memset(&s, 0, sizeof(s));
    start_stack(&s, 400);
    for (int v = 0; v < 7; v++)
        for (int p = 0; p < 3; p++) {
            snprintf(hdr, sizeof(hdr), "X-Forwarded-For: 192.0.2.%d\r\n", 100 + v);
            cr_assert_eq(ce_event(&s.ce,
                                  p == 0   ? PV("/")
                                  : p == 1 ? PV("/a")
                                           : PV("/b"),
                                  hdr),
                         202);
        }
    start_agg(&s, NULL);
    start_dash(&s);
    wait_pageviews(&s, 21);
    b = api(&s, "/api/v1/stats/realtime/visitors?site_id=example.com");
    cr_assert_str_eq(b, "7");
    free(b);
    stop_stack(&s);
}
