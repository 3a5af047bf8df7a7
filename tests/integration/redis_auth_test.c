/* SPDX-License-Identifier: MIT */
/*
 * redis_auth_test.c - [redis] password and user on a real redis-server
 * that requires them (requirepass for the default user, and an ACL user
 * "haze"): the collector's hits reach the stream and the aggregator reads
 * them only with the right credentials; with a wrong password nothing is
 * written, the reason is logged, and the password never is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/integration/harness.h"

#define TOPPW  "top-pw-7f3a9c"
#define ACLPW  "acl-pw-52e1bb"
#define STREAM "haze:test"
#define UA                                                                                         \
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "     \
    "Safari/537.36"

static struct {
    char dir[64], sock[128], ini[256];
    int port;
    struct ht_proc redis, collector, aggregator;
} R;

static void
ms_sleep(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* redis-cli as the admin (requirepass); its stdout (malloc'd). */
static char *
cli(const char *a1, const char *a2, const char *a3, const char *a4)
{
    char out[160];
    struct ht_proc p;
    const char *argv[] = {"/usr/bin/redis-cli",
                          "-s",
                          R.sock,
                          "--no-auth-warning",
                          "-a",
                          TOPPW,
                          "--raw",
                          a1,
                          a2,
                          a3,
                          a4,
                          NULL};

    (void)snprintf(out, sizeof(out), "cli-%ld", (long)random());
    cr_assert_eq(ht_spawn(&p, R.dir, out, argv), 0);
    cr_assert_eq(ht_wait(&p, 5000), 0);
    return ht_slurp(p.log, NULL);
}

static void
setup(void)
{
    const char *argv[] = {"/usr/bin/redis-server",
                          "--port",
                          "0",
                          "--unixsocket",
                          R.sock,
                          "--unixsocketperm",
                          "700",
                          "--dir",
                          R.dir,
                          "--save",
                          "",
                          "--appendonly",
                          "no",
                          "--requirepass",
                          TOPPW,
                          "--user",
                          "haze",
                          "on",
                          ">" ACLPW,
                          "~haze:*",
                          "&*",
                          "+@all",
                          NULL};

    memset(&R, 0, sizeof(R));
    ht_tmpdir(R.dir);
    (void)snprintf(R.sock, sizeof(R.sock), "%s/redis.sock", R.dir);
    argv[4] = R.sock;
    argv[8] = R.dir;
    cr_assert_eq(ht_spawn(&R.redis, R.dir, "redis", argv), 0);
    for (int i = 0; i < 500; i++) {
        char *pong = access(R.sock, F_OK) == 0 ? cli("PING", NULL, NULL, NULL) : NULL;
        int ok = pong != NULL && strncmp(pong, "PONG", 4) == 0;
        free(pong);
        if (ok)
            return;
        ms_sleep(10);
    }
    cr_assert_fail("redis-server with requirepass did not start");
}

static void
teardown(void)
{
    if (R.aggregator.pid > 0)
        cr_expect_eq(ht_stop(&R.aggregator, 0, 10000), 0);
    if (R.collector.pid > 0)
        cr_expect_eq(ht_stop(&R.collector, 0, 10000), 0);
    (void)ht_stop(&R.redis, 0, 5000);
    if (getenv("HZ_KEEP") == NULL)
        ht_rmdir(R.dir);
}

TestSuite(redis_auth, .init = setup, .fini = teardown, .timeout = 60);

/* haze.ini with the [redis] credential lines given. */
static void
config(const char *creds)
{
    char text[2048], geo[256];

    ht_geo_fixture(geo);
    R.port = ht_free_port();
    (void)snprintf(
        text, sizeof(text),
        "[redis]\naddress = unix:%s\nstream = " STREAM "\n%s"
        "[collector]\nuser = root\nlisten = 127.0.0.1:%d\nthreads = 1\nspool_dir = %s/spool\n"
        "redis_timeout_ms = 200\n"
        "[geo]\ndatabase = %s\n"
        "[aggregator]\nuser = root\nlmdb = %s/db\n"
        "[site example.com]\n",
        R.sock, creds, R.port, R.dir, geo, R.dir);
    ht_write_file(R.ini, R.dir, "haze.ini", text);
}

static void
start_collector(void)
{
    char bin[256];
    const char *argv[] = {bin, "-c", R.ini, NULL};

    ht_bin(bin, "haze-collector");
    cr_assert_eq(ht_spawn(&R.collector, R.dir, "collector", argv), 0);
    cr_assert_eq(ht_wait_port(R.port, 10000), 0, "collector did not listen");
}

static int
hit(const char *page)
{
    struct ht_response r;
    char body[256];
    int st;

    (void)snprintf(body, sizeof(body),
                   "{\"n\":\"pageview\",\"u\":\"https://example.com%s\",\"d\":\"example.com\"}",
                   page);
    cr_assert_eq(ht_http(R.port, "POST", "/api/event",
                         "Content-Type: text/plain\r\nUser-Agent: " UA "\r\n", body, strlen(body),
                         &r),
                 0);
    st = r.status;
    ht_response_free(&r);
    return st;
}

static long
xlen(void)
{
    char *out = cli("XLEN", STREAM, NULL, NULL);
    long n = out ? atol(out) : -1;
    free(out);
    return n;
}

/* Waits until the stream holds at least n entries; the count. */
static long
wait_xlen(long n)
{
    long have = 0;
    for (int i = 0; i < 200 && (have = xlen()) < n; i++)
        ms_sleep(20);
    return have;
}

Test(redis_auth, requirepass_password_lets_the_collector_write)
{
    config("password = " TOPPW "\n");
    start_collector();
    cr_assert_eq(hit("/with-password"), 202);
    cr_assert_geq(wait_xlen(1), 1);
    {
        char *all = cli("XRANGE", STREAM, "-", "+");
        cr_assert(all && strstr(all, "/with-password") != NULL, "%s", all ? all : "");
        free(all);
    }
}

Test(redis_auth, acl_user_for_the_collector_and_the_aggregator)
{
    char bin[256];
    const char *argv[] = {bin, "-c", R.ini, NULL};
    char *groups = NULL;

    config("user = haze\npassword = " ACLPW "\n");
    start_collector();
    cr_assert_eq(hit("/acl-user"), 202);
    cr_assert_geq(wait_xlen(1), 1);

    /* The aggregator, with the same credentials, creates its group and
     * reads the hit (the group's lag drops to 0). */
    ht_bin(bin, "haze-aggregator");
    cr_assert_eq(mkdir(R.dir, 0700) == 0 || access(R.dir, F_OK) == 0, 1);
    cr_assert_eq(ht_spawn(&R.aggregator, R.dir, "aggregator", argv), 0);
    for (int i = 0; i < 250; i++) {
        free(groups);
        groups = cli("XINFO", "GROUPS", STREAM, NULL);
        if (groups && strstr(groups, "haze-aggregator") && strstr(groups, "\nlag\n0\n"))
            break;
        ms_sleep(20);
    }
    cr_assert(groups && strstr(groups, "haze-aggregator"), "no consumer group: %s",
              groups ? groups : "");
    cr_assert(strstr(groups, "\nlag\n0\n") != NULL, "the hit was not read: %s", groups);
    free(groups);
}

Test(redis_auth, a_wrong_password_is_refused_and_logged_without_the_password)
{
    char bin[256], *log;
    const char *argv[] = {bin, "-c", R.ini, NULL};

    config("user = haze\npassword = wrong-pw-123\n");
    /* The collector does not start on a Redis it cannot use: it says why. */
    ht_bin(bin, "haze-collector");
    cr_assert_eq(ht_spawn(&R.collector, R.dir, "collector", argv), 0);
    cr_assert_neq(ht_wait(&R.collector, 20000), 0, "the collector must not run unauthenticated");
    R.collector.pid = 0;
    log = ht_slurp(R.collector.log, NULL);
    cr_assert(log && strstr(log, "redis AUTH: WRONGPASS") != NULL, "%s", log ? log : "");
    cr_assert_null(strstr(log, "wrong-pw-123"), "the password is never logged");
    free(log);
    cr_assert_eq(xlen(), 0);

    /* Nor does the aggregator read: it reports the refused AUTH. */
    ht_bin(bin, "haze-aggregator");
    cr_assert_eq(ht_spawn(&R.aggregator, R.dir, "aggregator", argv), 0);
    log = NULL;
    for (int i = 0; i < 250; i++) {
        log = ht_slurp(R.aggregator.log, NULL);
        if (log && strstr(log, "WRONGPASS"))
            break;
        free(log);
        log = NULL;
        ms_sleep(20);
    }
    cr_assert_not_null(log, "the aggregator did not report the refused AUTH");
    cr_assert_null(strstr(log, "wrong-pw-123"));
    free(log);
    (void)ht_stop(&R.aggregator, 0, 10000);
    R.aggregator.pid = 0;
    {
        char *groups = cli("XINFO", "GROUPS", STREAM, NULL);
        cr_assert(groups == NULL || strstr(groups, "haze-aggregator") == NULL, "%s", groups);
        free(groups);
    }
}
