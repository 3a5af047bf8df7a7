/* SPDX-License-Identifier: MIT */
/*
 * col_endpoints_test.c - the real collector against a real redis-server:
 * each endpoint's answer and the stream entry it leaves behind.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/integration/collector_env.h"

static struct ce env;

static void
setup(void)
{
    ce_start(&env, 0, NULL);
}

static void
teardown(void)
{
    ce_stop(&env);
}

TestSuite(collector, .init = setup, .fini = teardown, .timeout = 60);

Test(collector, event_api_adds_one_entry_with_region_and_families)
{
    struct ce_entry en[4];
    const char *body = "{\"n\":\"pageview\",\"u\":\"https://example.com/products/42?utm_source=nl"
                       "&secret=x#frag\",\"d\":\"example.com\",\"r\":\"https://duckduckgo.com/\","
                       "\"w\":1280}";

    cr_assert_eq(ce_event(&env, body, "X-Forwarded-For: 192.0.2.10\r\n"), 202);
    cr_assert_eq(ce_entries(&env, en, 4, 1), 1);
    cr_assert_str_eq(ce_field(&en[0], "k"), "pv");
    cr_assert_str_eq(ce_field(&en[0], "s"), "example.com");
    cr_assert_str_eq(ce_field(&en[0], "p"), "/products/42");
    cr_assert_str_eq(ce_field(&en[0], "src"), "nl");
    cr_assert_str_eq(ce_field(&en[0], "rg"), "DE-BY");
    cr_assert_str_eq(ce_field(&en[0], "b"), "Chrome");
    cr_assert_str_eq(ce_field(&en[0], "o"), "Windows");
    cr_assert_str_eq(ce_field(&en[0], "dv"), "desktop");
    cr_assert_eq(strlen(ce_field(&en[0], "vh")), 16);
    for (int i = 0; i < en[0].n; i++) {
        cr_assert_null(strstr(en[0].val[i], "192.0.2.10"), "no address in the entry");
        cr_assert_null(strstr(en[0].val[i], "Mozilla"), "no user agent in the entry");
        cr_assert_null(strstr(en[0].val[i], "secret"), "query scrubbed");
    }
}

Test(collector, pixel_answers_a_gif_and_adds_an_entry)
{
    struct ht_response r;
    struct ce_entry en[4];
    char v[128];

    cr_assert_eq(ht_http(env.port, "GET",
                         "/p.gif?d=example.com&u=https%3A%2F%2Fexample.com%2Fnojs&r=https%3A%2F%2F"
                         "news.example.net%2F",
                         "User-Agent: " CE_CHROME "\r\nX-Forwarded-For: 203.0.113.5\r\n", NULL, 0,
                         &r),
                 0);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body_len, 43);
    cr_assert_eq(memcmp(r.body, "GIF89a", 6), 0);
    cr_assert_eq(ht_header(&r, "Cache-Control", v, sizeof(v)), 0);
    cr_assert_not_null(strstr(v, "no-store"));
    ht_response_free(&r);

    cr_assert_eq(ce_entries(&env, en, 4, 1), 1);
    cr_assert_str_eq(ce_field(&en[0], "p"), "/nojs");
    cr_assert_str_eq(ce_field(&en[0], "px"), "1");
    cr_assert_str_eq(ce_field(&en[0], "rg"), "CN-JS");
    cr_assert_str_eq(ce_field(&en[0], "src"), "news.example.net");
}

Test(collector, pixel_without_u_uses_the_referer_header)
{
    struct ht_response r;
    struct ce_entry en[4];

    cr_assert_eq(ht_http(env.port, "GET", "/p.gif?d=example.com",
                         "User-Agent: " CE_CHROME "\r\nReferer: https://example.com/about?x=1\r\n",
                         NULL, 0, &r),
                 0);
    cr_assert_eq(r.status, 200);
    ht_response_free(&r);
    cr_assert_eq(ce_entries(&env, en, 4, 1), 1);
    cr_assert_str_eq(ce_field(&en[0], "p"), "/about");
}

Test(collector, engagement_and_custom_event)
{
    struct ce_entry en[4];

    cr_assert_eq(
        ce_event(&env,
                 "{\"n\":\"engagement\",\"u\":\"https://example.com/a\",\"d\":\"example.com\""
                 ",\"e\":5300}",
                 NULL),
        202);
    cr_assert_eq(
        ce_event(&env, "{\"n\":\"Signup\",\"u\":\"https://example.com/a\",\"d\":\"example.com\"}",
                 NULL),
        202);
    cr_assert_eq(ce_entries(&env, en, 4, 1), 2);
    cr_assert_str_eq(ce_field(&en[0], "k"), "en");
    cr_assert_str_eq(ce_field(&en[0], "ms"), "5300");
    cr_assert_str_eq(ce_field(&en[1], "k"), "ev");
    cr_assert_str_eq(ce_field(&en[1], "n"), "Signup");
}

Test(collector, tracker_healthz_and_metrics)
{
    struct ht_response r;
    char etag[64], v[128];

    cr_assert_eq(ht_http(env.port, "GET", "/haze.js", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "sendBeacon"));
    cr_assert_eq(ht_header(&r, "Content-Type", v, sizeof(v)), 0);
    cr_assert_not_null(strstr(v, "javascript"));
    cr_assert_eq(ht_header(&r, "ETag", etag, sizeof(etag)), 0);
    cr_assert_eq(ht_header(&r, "Set-Cookie", v, sizeof(v)), -1);
    ht_response_free(&r);
    snprintf(v, sizeof(v), "If-None-Match: %s\r\n", etag);
    cr_assert_eq(ht_http(env.port, "GET", "/haze.js", v, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 304);
    ht_response_free(&r);

    cr_assert_eq(ht_http(env.port, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200);
    ht_response_free(&r);

    cr_assert_eq(
        ce_event(&env, "{\"n\":\"pageview\",\"u\":\"https://example.com/\",\"d\":\"example.com\"}",
                 NULL),
        202);
    cr_assert_eq(
        ce_event(&env, "{\"n\":\"pageview\",\"u\":\"https://example.com/\",\"d\":\"example.com\"}",
                 "DNT: 1\r\n"),
        202);
    cr_assert_eq(ht_http(env.port, "GET", "/metrics", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "haze_hits_accepted_total 1\n"), "%s", r.body);
    cr_assert_not_null(strstr(r.body, "haze_hits_dropped_total{reason=\"dnt\"} 1\n"));
    cr_assert_not_null(strstr(r.body, "haze_spool_bytes 0\n"));
    ht_response_free(&r);
}

Test(collector, filtered_hits_look_accepted_but_add_nothing)
{
    struct ce_entry en[4];

    cr_assert_eq(
        ce_event(&env, "{\"n\":\"pageview\",\"u\":\"https://example.com/\",\"d\":\"example.com\"}",
                 "DNT: 1\r\n"),
        202);
    cr_assert_eq(
        ce_event(&env, "{\"n\":\"pageview\",\"u\":\"https://example.com/\",\"d\":\"example.com\"}",
                 "Sec-GPC: 1\r\n"),
        202);
    cr_assert_eq(
        ce_event(&env, "{\"n\":\"pageview\",\"u\":\"https://example.com/\",\"d\":\"example.com\"}",
                 "User-Agent: Mozilla/5.0 (compatible; bingbot/2.0; "
                 "+http://www.bing.com/bingbot.htm)\r\n"),
        202);
    cr_assert_eq(ce_entries(&env, en, 4, 1), 0);
}

Test(collector, drop_summaries_reach_the_stream)
{
    struct ce_entry en[8];
    int n, found = 0;

    cr_assert_eq(
        ce_event(&env, "{\"n\":\"pageview\",\"u\":\"https://example.com/\",\"d\":\"example.com\"}",
                 "DNT: 1\r\n"),
        202);
    /* Summaries are flushed every few seconds. */
    for (int i = 0; i < 80 && !found; i++) {
        n = ce_entries(&env, en, 8, 0);
        for (int j = 0; j < n; j++)
            if (ce_field(&en[j], "k") && strcmp(ce_field(&en[j], "k"), "dr") == 0) {
                cr_assert_str_eq(ce_field(&en[j], "s"), "example.com");
                cr_assert_str_eq(ce_field(&en[j], "n"), "dnt");
                cr_assert_str_eq(ce_field(&en[j], "ms"), "1");
                found = 1;
            }
        if (!found) {
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
        }
    }
    cr_assert(found, "a drop summary for dnt");
}
