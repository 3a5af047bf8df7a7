/* SPDX-License-Identifier: MIT */
/*
 * privacy_test.c - one test per point of DESIGN.md's privacy model, run
 * against the real binaries. Points that need the aggregator or the
 * dashboard (4, 5, 8) live in privacy_store_test.c.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/integration/collector_env.h"

#define PV(path) "{\"n\":\"pageview\",\"u\":\"https://example.com" path "\",\"d\":\"example.com\"}"

/* Fails if needle (len bytes) occurs anywhere in the file. */
static void
assert_file_lacks(const char *path, const void *needle, size_t len, const char *what)
{
    size_t n;
    char *buf = ht_slurp(path, &n);

    if (buf == NULL)
        return;
    cr_assert_null(memmem(buf, n, needle, len), "%s found in %s", what, path);
    free(buf);
}

/* Applies assert_file_lacks to every regular file of dir (one level). */
static void
assert_dir_lacks(const char *dir, const void *needle, size_t len, const char *what)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[512];

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        assert_file_lacks(path, needle, len, what);
    }
    closedir(d);
}

Test(privacy, p1_no_ip_or_user_agent_at_rest, .timeout = 90)
{
    static const char *const uas[] = {
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0 HazeProbeUA1",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Version/18.1 Mobile/15E148 Safari/604.1 HazeProbeUA2",
    };
    struct ce env;
    char hdr[512], ip[64], spool[128];
    const char *args[] = {"SAVE", NULL};

    ce_start(&env, 0, NULL);
    for (int i = 0; i < 300; i++) {
        if (i % 3 == 2)
            snprintf(ip, sizeof(ip), "2001:db8:1::%x", 0x100 + i);
        else
            snprintf(ip, sizeof(ip), "%s.%d", i % 3 ? "198.51.100" : "192.0.2", 10 + i % 200);
        snprintf(hdr, sizeof(hdr), "X-Forwarded-For: %s\r\nUser-Agent: %s\r\n", ip, uas[i % 2]);
        cr_assert_eq(ce_event(&env, PV("/x"), hdr), 202);
    }
    free(ht_redis_cli(&env.redis, args));
    char dump[160];
    snprintf(dump, sizeof(dump), "%s/dump.rdb", env.dir);
    size_t n;
    char *rdb = ht_slurp(dump, &n);
    cr_assert_not_null(rdb, "SAVE wrote dump.rdb");
    cr_assert_gt(n, 1000, "the dump holds the stream");
    free(rdb);

    snprintf(spool, sizeof(spool), "%s/spool", env.dir);
    for (int i = 0; i < 300; i++) {
        if (i % 3 == 2)
            snprintf(ip, sizeof(ip), "2001:db8:1::%x", 0x100 + i);
        else
            snprintf(ip, sizeof(ip), "%s.%d", i % 3 ? "198.51.100" : "192.0.2", 10 + i % 200);
        unsigned char bin[16];
        int v6 = strchr(ip, ':') != NULL;
        cr_assert_eq(inet_pton(v6 ? AF_INET6 : AF_INET, ip, bin), 1);
        /* As text, as bytes; in Redis's dump, the spool and the log. */
        assert_file_lacks(dump, ip, strlen(ip), "an address as text");
        assert_file_lacks(dump, bin, v6 ? 16 : 4, "an address as bytes");
        assert_file_lacks(env.collector.log, ip, strlen(ip), "an address in the log");
        assert_dir_lacks(spool, ip, strlen(ip), "an address in the spool");
    }
    for (int i = 0; i < 2; i++) {
        assert_file_lacks(dump, "HazeProbeUA", 11, "a user agent");
        assert_file_lacks(dump, uas[i], 40, "a user agent");
        assert_file_lacks(env.collector.log, "HazeProbeUA", 11, "a user agent in the log");
    }
    ce_stop(&env);
}

Test(privacy, p2_no_cookies_no_client_storage, .timeout = 30)
{
    struct ce env;
    struct ht_response r;
    char v[256];

    ce_start(&env, 0, NULL);
    cr_assert_eq(ht_http(env.port, "GET", "/haze.js", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_null(strstr(r.body, "document.cookie"));
    cr_assert_null(strstr(r.body, "localStorage"));
    cr_assert_null(strstr(r.body, "sessionStorage"));
    cr_assert_null(strstr(r.body, "indexedDB"));
    cr_assert_eq(ht_header(&r, "Set-Cookie", v, sizeof(v)), -1);
    ht_response_free(&r);
    cr_assert_eq(ht_http(env.port, "POST", "/api/event",
                         "Content-Type: text/plain\r\nUser-Agent: " CE_CHROME "\r\n", PV("/"),
                         strlen(PV("/")), &r),
                 0);
    cr_assert_eq(r.status, 202);
    cr_assert_eq(ht_header(&r, "Set-Cookie", v, sizeof(v)), -1);
    ht_response_free(&r);
    cr_assert_eq(ht_http(env.port, "GET", "/p.gif?d=example.com&u=https%3A%2F%2Fexample.com%2F",
                         "User-Agent: " CE_CHROME "\r\n", NULL, 0, &r),
                 0);
    cr_assert_eq(ht_header(&r, "Set-Cookie", v, sizeof(v)), -1);
    ht_response_free(&r);
    ce_stop(&env);
}

Test(privacy, p3_daily_salt_expires_and_hash_is_per_visitor, .timeout = 30)
{
    struct ce env;
    struct ce_entry en[4];
    const char *keys[] = {"KEYS", "haze:salt:*", NULL};
    char *k, ttlarg[64];

    ce_start(&env, 0, NULL);
    cr_assert_eq(ce_event(&env, PV("/a"), "X-Forwarded-For: 192.0.2.1\r\n"), 202);
    cr_assert_eq(ce_event(&env, PV("/b"), "X-Forwarded-For: 192.0.2.1\r\n"), 202);
    cr_assert_eq(ce_event(&env, PV("/c"), "X-Forwarded-For: 192.0.2.2\r\n"), 202);
    cr_assert_eq(ce_entries(&env, en, 4, 1), 3);
    cr_assert_str_eq(ce_field(&en[0], "vh"), ce_field(&en[1], "vh"), "same visitor, same day");
    cr_assert_str_neq(ce_field(&en[0], "vh"), ce_field(&en[2], "vh"));

    /* Today's salt, and tomorrow's made ahead (so that midnight needs no
     * round trip); each is gone at the end of the day after its own. */
    k = ht_redis_cli(&env.redis, keys);
    cr_assert_not_null(k);
    int nsalts = 0;
    time_t now = time(NULL);
    for (char *save = NULL, *line = strtok_r(k, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        struct tm tm = {0};
        cr_assert_eq(strncmp(line, "haze:salt:", 10), 0, "%s", line);
        cr_assert_not_null(strptime(line + 10, "%Y-%m-%d", &tm), "a date: %s", line);
        time_t day_start = timegm(&tm);
        cr_assert(day_start >= now - 86400 && day_start <= now + 86400, "today's or tomorrow's");
        snprintf(ttlarg, sizeof(ttlarg), "%s", line);
        const char *ttl[] = {"TTL", ttlarg, NULL};
        char *t = ht_redis_cli(&env.redis, ttl);
        long secs = strtol(t, NULL, 10);
        free(t);
        cr_assert(secs > 0 && now + secs <= day_start + 2 * 86400 + 1,
                  "the salt of %s expires by the end of the next day (TTL %ld)", line + 10, secs);
        nsalts++;
    }
    free(k);
    cr_assert(nsalts == 1 || nsalts == 2, "%d salts", nsalts);
    ce_stop(&env);
}

Test(privacy, p6_urls_are_scrubbed_before_they_count, .timeout = 30)
{
    struct ce env;
    struct ce_entry en[2];
    const char *body =
        "{\"n\":\"pageview\",\"u\":\"https://example.com/account/jane.doe@example.org/orders/"
        "12345678/f47ac10b-58cc-4372-a567-0e02b2c3d479?token=s3cr3t&utm_campaign=spring#pw\","
        "\"d\":\"example.com\"}";

    ce_start(&env, 0, NULL);
    cr_assert_eq(ce_event(&env, body, NULL), 202);
    cr_assert_eq(ce_entries(&env, en, 2, 1), 1);
    cr_assert_str_eq(ce_field(&en[0], "p"), "/account/:email/orders/:id/:uuid");
    cr_assert_str_eq(ce_field(&en[0], "uc"), "spring");
    for (int i = 0; i < en[0].n; i++) {
        cr_assert_null(strstr(en[0].val[i], "jane"));
        cr_assert_null(strstr(en[0].val[i], "s3cr3t"));
        cr_assert_null(strstr(en[0].val[i], "pw"));
    }
    ce_stop(&env);
}

Test(privacy, p7_dnt_gpc_and_bots_are_not_counted, .timeout = 30)
{
    struct ce env;
    struct ce_entry en[2];

    ce_start(&env, 0, NULL);
    cr_assert_eq(ce_event(&env, PV("/"), "DNT: 1\r\n"), 202);
    cr_assert_eq(ce_event(&env, PV("/"), "Sec-GPC: 1\r\n"), 202);
    cr_assert_eq(ce_event(&env, PV("/"), "User-Agent: curl/8.5.0\r\n"), 202);
    cr_assert_eq(ce_event(&env, PV("/"),
                          "User-Agent: Mozilla/5.0 (compatible; Googlebot/2.1; "
                          "+http://www.google.com/bot.html)\r\n"),
                 202);
    cr_assert_eq(ce_entries(&env, en, 2, 1), 0);
    ce_stop(&env);

    /* honor_dnt = no counts DNT hits (bots still not). */
    ce_start(&env, 0, "honor_dnt = no\n");
    cr_assert_eq(ce_event(&env, PV("/"), "DNT: 1\r\n"), 202);
    cr_assert_eq(ce_event(&env, PV("/"), "User-Agent: curl/8.5.0\r\n"), 202);
    cr_assert_eq(ce_entries(&env, en, 2, 1), 1);
    ce_stop(&env);
}
