/* SPDX-License-Identifier: MIT */
/*
 * startup_test.c - issue 9 with the real binaries: any start order (each
 * daemon started before its dependencies waits, then works; hits sent
 * before Redis existed are counted), the drop from root, the edge against
 * hostile clients (out of file descriptors, trickling clients, the
 * connection cap), 405 with Allow and the CORS preflight, and forwarding
 * header lines read as one list.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/integration/harness.h"

#define TOKEN "startup-test-token"
#define UA    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    (void)nanosleep(&ts, NULL);
}

static int
alive(pid_t pid)
{
    return waitpid(pid, NULL, WNOHANG) == 0 && kill(pid, 0) == 0;
}

/* The real uid of a process from /proc/PID/status, or -1. */
static long
proc_uid(pid_t pid)
{
    char path[64], line[256];
    long uid = -1;
    FILE *f;

    (void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "Uid:", 4) == 0) {
            long r, e, s, fs;
            if (sscanf(line + 4, "%ld %ld %ld %ld", &r, &e, &s, &fs) == 4 && r == e && e == s &&
                s == fs)
                uid = r;
        }
    (void)fclose(f);
    return uid;
}

/* CPU seconds (user + system) of a process. */
static double
proc_cpu(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;
    size_t n;

    (void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((f = fopen(path, "r")) == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    (void)fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    cr_assert_not_null(p);
    /* after ") ": state(3) ... utime is field 14, stime 15 */
    cr_assert_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st), 2);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long
file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* A hit from a visitor behind the trusted loopback proxy. */
static int
hit(int port, int visitor)
{
    char hdr[256], body[256];
    struct ht_response r;
    int status;

    (void)snprintf(hdr, sizeof(hdr),
                   "User-Agent: " UA "\r\nContent-Type: application/json\r\n"
                   "X-Forwarded-For: 192.0.2.%d\r\n",
                   visitor);
    (void)snprintf(body, sizeof(body),
                   "{\"n\":\"pageview\",\"u\":\"https://example.com/p%d\",\"d\":\"example.com\"}",
                   visitor);
    if (ht_http(port, "POST", "/api/event", hdr, body, strlen(body), &r) != 0)
        return -1;
    status = r.status;
    ht_response_free(&r);
    return status;
}

/* The dashboard's pageviews today, or -1; *waiting: X-Haze-Store said so. */
static long
dash_pageviews(int port, int *waiting)
{
    struct ht_response r;
    char v[32];
    const char *p;
    long n = -1;

    if (ht_http(port, "GET",
                "/api/v1/stats/aggregate?site_id=example.com&period=day&metrics=pageviews",
                "Authorization: Bearer " TOKEN "\r\n", NULL, 0, &r) != 0)
        return -1;
    *waiting = ht_header(&r, "X-Haze-Store", v, sizeof(v)) == 0 && strcmp(v, "waiting") == 0;
    if (r.status == 200 && (p = strstr(r.body, "\"pageviews\":{\"value\":")) != NULL)
        n = strtol(p + strlen("\"pageviews\":{\"value\":"), NULL, 10);
    ht_response_free(&r);
    return n;
}

/* haze.ini for the whole stack in dir; collector/dashboard ports; extra
 * [collector] lines; users per daemon ("" leaves the default). */
static void
write_ini2(char ini[256], const char *dir, int cport, int dport, const char *extra,
           const char *dextra, const char *user)
{
    char text[4096], geo[256], userline[64] = "";

    ht_geo_fixture(geo);
    if (user != NULL)
        (void)snprintf(userline, sizeof(userline), "user = %s\n", user);
    (void)snprintf(text, sizeof(text),
                   "[redis]\naddress = unix:%s/redis.sock\n"
                   "[collector]\nlisten = 127.0.0.1:%d\nthreads = 1\n%s"
                   "spool_dir = %s/state/collector/spool\n%s"
                   "[geo]\ndatabase = %s\n"
                   "[aggregator]\nlmdb = %s/state/db\nbatch = 100\n%s"
                   "[dashboard]\nlisten = 127.0.0.1:%d\ntoken = " TOKEN "\n%s%s"
                   "[site example.com]\ntimezone = Europe/Berlin\n",
                   dir, cport, userline, dir, extra ? extra : "", geo, dir, userline, dport,
                   userline, dextra ? dextra : "");
    ht_write_file(ini, dir, "haze.ini", text);
}

static void
write_ini(char ini[256], const char *dir, int cport, int dport, const char *extra, const char *user)
{
    write_ini2(ini, dir, cport, dport, extra, NULL, user);
}

static void
start(struct ht_proc *p, const char *dir, const char *name, const char *ini)
{
    char bin[256];
    ht_bin(bin, name);
    const char *argv[] = {bin, "-c", ini, NULL};
    cr_assert_eq(ht_spawn(p, dir, name, argv), 0, "cannot start %s", name);
}

/* ------------------------------------------------------------ start order */

/* The reverse of the natural order: collector, dashboard, aggregator, and
 * Redis last. Each waits; the hits sent before Redis existed are counted. */
Test(startup, any_order_hits_before_redis_are_counted, .timeout = 120)
{
    char dir[64], ini[256], path[300], *log;
    struct ht_proc col, dash, agg;
    struct ht_redis redis;
    struct ht_response r;
    struct stat st;
    int cport = ht_free_port(), dport = ht_free_port(), waiting = 0;
    long pv = -1;

    ht_tmpdir(dir);
    write_ini(ini, dir, cport, dport, NULL, "root");
    start(&col, dir, "haze-collector", ini);
    cr_assert_eq(ht_wait_port(cport, 10000), 0, "the collector did not start without redis");
    /* Its spool folder was made, parents too, private. */
    (void)snprintf(path, sizeof(path), "%s/state/collector/spool", dir);
    cr_assert_eq(stat(path, &st), 0, "no spool folder");
    cr_assert_eq(st.st_mode & 0777, 0700);
    for (int i = 1; i <= 6; i++)
        cr_assert_eq(hit(cport, i), 202, "hit %d not accepted while redis is down", i);

    start(&dash, dir, "haze-dashboard", ini);
    cr_assert_eq(ht_wait_port(dport, 10000), 0, "the dashboard did not start without a store");
    cr_assert_eq(dash_pageviews(dport, &waiting), 0);
    cr_assert(waiting, "no X-Haze-Store: waiting before the first aggregates");
    cr_assert_eq(ht_http(dport, "GET", "/", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(r.body, "Waiting for the first aggregates"));
    ht_response_free(&r);

    start(&agg, dir, "haze-aggregator", ini);
    sleep_ms(1500);
    cr_assert(alive(agg.pid), "the aggregator exited without redis");
    cr_assert(alive(col.pid) && alive(dash.pid));

    cr_assert_eq(ht_redis_start(&redis, dir, 0), 0);
    for (int i = 0; i < 300 && (pv != 6 || waiting); i++) {
        sleep_ms(100);
        pv = dash_pageviews(dport, &waiting);
    }
    cr_assert_eq(pv, 6, "hits sent before redis existed: %ld counted, 6 sent", pv);
    cr_assert_not(waiting);
    /* And after: a hit now goes the usual way. */
    cr_assert_eq(hit(cport, 7), 202);
    for (int i = 0; i < 100 && pv != 7; i++) {
        sleep_ms(100);
        pv = dash_pageviews(dport, &waiting);
    }
    cr_assert_eq(pv, 7);
    /* The aggregator said once that it waits, and once that redis is back. */
    log = ht_slurp(agg.log, NULL);
    cr_assert_not_null(log);
    cr_assert_not_null(strstr(log, "waiting for redis"), "%s", log);
    cr_assert_not_null(strstr(log, "redis is back"), "%s", log);
    free(log);

    cr_assert_eq(ht_stop(&col, SIGTERM, 10000), 0);
    cr_assert_eq(ht_stop(&agg, SIGTERM, 10000), 0);
    cr_assert_eq(ht_stop(&dash, SIGTERM, 10000), 0);
    ht_redis_stop(&redis, 0);
    ht_rmdir(dir);
}

/* -t still fails fast on a bad file, whatever is up. */
Test(startup, check_fails_fast_on_a_bad_file)
{
    static const char *const names[] = {"haze-collector", "haze-aggregator", "haze-dashboard"};
    char dir[64], ini[256], bin[256];

    ht_tmpdir(dir);
    ht_write_file(ini, dir, "bad.ini", "[collector]\nuser = \n");
    for (size_t i = 0; i < 3; i++) {
        struct ht_proc p;
        ht_bin(bin, names[i]);
        const char *argv[] = {bin, "-t", "-c", ini, NULL};
        cr_assert_eq(ht_spawn(&p, dir, names[i], argv), 0);
        cr_assert_eq(ht_wait(&p, 3000), 1, "%s -t did not fail at once", names[i]);
    }
    ht_rmdir(dir);
}

/* A second aggregator on the same store is refused (each reads the whole
 * stream from its store's position: two would count every hit twice); the
 * first keeps running, and once it has stopped another may start. */
Test(startup, second_aggregator_on_a_store_is_refused, .timeout = 60)
{
    char dir[64], ini[256], lock[160], *log;
    struct ht_proc first, second, third;
    struct stat st;

    ht_tmpdir(dir);
    write_ini(ini, dir, ht_free_port(), ht_free_port(), NULL, "root");
    start(&first, dir, "haze-aggregator", ini); /* no Redis: it waits for it */
    (void)snprintf(lock, sizeof(lock), "%s/state/db/aggregator.lock", dir);
    for (int i = 0; i < 100 && stat(lock, &st) != 0; i++)
        sleep_ms(50);
    cr_assert_eq(stat(lock, &st), 0, "the first aggregator took its lock");
    sleep_ms(200);
    {
        char bin[256];
        ht_bin(bin, "haze-aggregator");
        const char *argv[] = {bin, "-c", ini, NULL};
        cr_assert_eq(ht_spawn(&second, dir, "second-aggregator", argv), 0);
    }
    cr_assert_eq(ht_wait(&second, 10000), 1, "the second aggregator exits 1");
    log = ht_slurp(second.log, NULL);
    cr_assert_not_null(log);
    cr_assert(strstr(log, "another haze-aggregator runs on this store") != NULL, "%s", log);
    free(log);
    cr_assert_eq(kill(first.pid, 0), 0, "the first one still runs");
    cr_assert_eq(ht_stop(&first, SIGTERM, 10000), 0);
    start(&third, dir, "haze-aggregator", ini);
    sleep_ms(500);
    cr_assert_eq(kill(third.pid, 0), 0, "a later one starts");
    cr_assert_eq(ht_stop(&third, SIGTERM, 10000), 0);
    ht_rmdir(dir);
}

/* ------------------------------------------------------------ least privilege */

/* Started as root with no user key, every daemon runs as another user
 * (haze, or nobody when there is no haze user), and the folders it writes
 * belong to that user. */
Test(startup, daemons_started_as_root_drop_privileges, .timeout = 60)
{
    char dir[64], ini[256], path[300], *log;
    struct ht_proc col, dash, agg;
    struct stat st;
    struct passwd *pw = getpwnam("haze");
    int cport = ht_free_port(), dport = ht_free_port();
    long want;

    if (geteuid() != 0)
        cr_skip_test("needs root");
    if (pw == NULL)
        pw = getpwnam("nobody");
    cr_assert_not_null(pw);
    want = (long)pw->pw_uid;
    ht_tmpdir(dir);
    cr_assert_eq(chmod(dir, 0755), 0); /* the daemons' user must reach its folders */
    write_ini(ini, dir, cport, dport, NULL, NULL);

    start(&col, dir, "haze-collector", ini);
    cr_assert_eq(ht_wait_port(cport, 10000), 0);
    /* The port accepts from its bind on; a hit is answered only by the
     * workers, which start after the drop. */
    cr_assert_eq(hit(cport, 1), 202); /* spooled by that user */
    cr_assert_eq(proc_uid(col.pid), want, "collector runs as uid %ld", proc_uid(col.pid));
    (void)snprintf(path, sizeof(path), "%s/state/collector/spool", dir);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq((long)st.st_uid, want, "the spool folder belongs to uid %ld", (long)st.st_uid);

    start(&agg, dir, "haze-aggregator", ini);
    (void)snprintf(path, sizeof(path), "%s/state/db/data.mdb", dir);
    for (int i = 0; i < 100 && stat(path, &st) != 0; i++)
        sleep_ms(50);
    cr_assert_eq(stat(path, &st), 0, "the aggregator did not open its store");
    cr_assert_eq((long)st.st_uid, want, "data.mdb belongs to uid %ld", (long)st.st_uid);
    cr_assert_eq(proc_uid(agg.pid), want);

    start(&dash, dir, "haze-dashboard", ini);
    cr_assert_eq(ht_wait_port(dport, 10000), 0);
    {
        /* It opened, as that user, the store the aggregator made as that
         * user (an answer comes from the event loop, after the drop). */
        int waiting = 1;
        cr_assert_eq(dash_pageviews(dport, &waiting), 0);
        cr_assert_not(waiting, "the dropped dashboard cannot open the store");
    }
    cr_assert_eq(proc_uid(dash.pid), want);

    log = ht_slurp(col.log, NULL);
    cr_assert_not_null(strstr(log, "running as user"), "%s", log);
    free(log);
    cr_assert_eq(ht_stop(&col, SIGTERM, 10000), 0);
    cr_assert_eq(ht_stop(&agg, SIGTERM, 10000), 0);
    cr_assert_eq(ht_stop(&dash, SIGTERM, 10000), 0);
    ht_rmdir(dir);
}

/* ------------------------------------------------------------ hostile clients */

/* Opens n connections to port (non-blocking connect, never written). */
static int
open_many(int port, int *fds, int n)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int ok = 0;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < n; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert_geq(fds[i], 0);
        if (connect(fds[i], (struct sockaddr *)&sin, sizeof(sin)) == 0)
            ok++;
    }
    return ok;
}

static int
healthz(int port)
{
    struct ht_response r;
    int s;

    if (ht_http(port, "GET", "/healthz", NULL, NULL, 0, &r) != 0)
        return -1;
    s = r.status;
    ht_response_free(&r);
    return s;
}

/* Under a limit of 64 open files, 100 connections: the listener backs off
 * (bounded CPU, a few log lines), and answers once they close. */
Test(hostile, out_of_file_descriptors_backs_off, .timeout = 60)
{
    char dir[64], ini[256], bin[256];
    struct ht_proc col;
    int fds[100], cport = ht_free_port(), dport = ht_free_port();
    double cpu0, cpu1;
    long logsize;

    ht_tmpdir(dir);
    write_ini(ini, dir, cport, dport, "request_timeout_ms = 60000\n", "root");
    ht_bin(bin, "haze-collector");
    const char *argv[] = {"/usr/bin/prlimit", "--nofile=64", bin, "-c", ini, NULL};
    cr_assert_eq(ht_spawn(&col, dir, "haze-collector", argv), 0);
    cr_assert_eq(ht_wait_port(cport, 10000), 0);
    cpu0 = proc_cpu(col.pid);
    cr_assert_eq(open_many(cport, fds, 100), 100); /* the backlog takes what is not accepted */
    sleep_ms(3000);
    cpu1 = proc_cpu(col.pid);
    logsize = file_size(col.log);
    cr_assert_lt(cpu1 - cpu0, 0.25, "%.2f s of CPU in 3 s: the listener spins", cpu1 - cpu0);
    cr_assert_lt(logsize, 4096, "log grew to %ld bytes", logsize);
    {
        char *log = ht_slurp(col.log, NULL);
        cr_assert_not_null(strstr(log, "backing off"), "%s", log);
        free(log);
    }
    for (int i = 0; i < 100; i++)
        (void)close(fds[i]);
    {
        int s = -1;
        for (int i = 0; i < 50 && s != 200; i++) {
            sleep_ms(100);
            s = healthz(cport);
        }
        cr_assert_eq(s, 200, "/healthz does not answer after the connections closed");
    }
    cr_assert_eq(ht_stop(&col, SIGTERM, 10000), 0);
    ht_rmdir(dir);
}

/* 20 clients trickling one byte every 200 ms are closed by the request
 * deadline (1 s), while others are answered meanwhile. */
Test(hostile, trickling_clients_are_closed, .timeout = 60)
{
    static const char req[] = "POST /api/event HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                              "Content-Length: 60\r\n\r\n";
    char dir[64], ini[256];
    struct ht_proc col;
    int fds[20], open_ = 20, cport = ht_free_port(), dport = ht_free_port();
    struct timespec t0, t1;

    ht_tmpdir(dir);
    write_ini(ini, dir, cport, dport, "request_timeout_ms = 1000\n", "root");
    start(&col, dir, "haze-collector", ini);
    cr_assert_eq(ht_wait_port(cport, 10000), 0);
    cr_assert_eq(healthz(cport), 200); /* serving (the port is open during its start) */
    cr_assert_eq(open_many(cport, fds, 20), 20);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t k = 0; open_ > 0 && k < sizeof(req) - 1 + 60; k++) {
        open_ = 0;
        for (int i = 0; i < 20; i++) {
            char c = k < sizeof(req) - 1 ? req[k] : 'x', buf[256];
            if (fds[i] < 0)
                continue;
            ssize_t n = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN) || send(fds[i], &c, 1, MSG_NOSIGNAL) != 1) {
                (void)close(fds[i]);
                fds[i] = -1;
                continue;
            }
            open_++;
        }
        /* Someone else is answered meanwhile. */
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        cr_assert_eq(healthz(cport), 200);
        clock_gettime(CLOCK_MONOTONIC, &b);
        long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
        cr_assert_lt(ms, 500, "healthz took %ld ms at step %zu (%d open)", ms, k, open_);
        sleep_ms(200);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert_eq(open_, 0, "%d trickling clients still open", open_);
    cr_assert_lt(t1.tv_sec - t0.tv_sec, 4, "closed only after %ld s",
                 (long)(t1.tv_sec - t0.tv_sec));
    for (int i = 0; i < 20; i++)
        if (fds[i] >= 0)
            (void)close(fds[i]);
    cr_assert_eq(ht_stop(&col, SIGTERM, 10000), 0);
    ht_rmdir(dir);
}

/* Open sockets of a process. */
static int
proc_fds(pid_t pid)
{
    char path[64], cmd[128];
    int n = -1;
    FILE *f;

    (void)snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    (void)snprintf(cmd, sizeof(cmd), "ls %s | wc -l", path);
    if ((f = popen(cmd, "r")) == NULL)
        return -1;
    if (fscanf(f, "%d", &n) != 1)
        n = -1;
    (void)pclose(f);
    return n;
}

/* At max_connections the collector stops accepting: 60 idle connections
 * hold at most 16 of its descriptors; the rest wait, then are served. */
Test(hostile, connection_cap, .timeout = 60)
{
    char dir[64], ini[256];
    struct ht_proc col;
    int fds[60], cport = ht_free_port(), dport = ht_free_port(), base, held;

    ht_tmpdir(dir);
    write_ini(ini, dir, cport, dport, "max_connections = 16\nrequest_timeout_ms = 60000\n", "root");
    start(&col, dir, "haze-collector", ini);
    cr_assert_eq(ht_wait_port(cport, 10000), 0);
    sleep_ms(300);
    base = proc_fds(col.pid);
    cr_assert_eq(open_many(cport, fds, 60), 60);
    sleep_ms(1000);
    held = proc_fds(col.pid) - base;
    cr_assert_leq(held, 16, "%d connections accepted over a cap of 16", held);
    cr_assert_geq(held, 15, "only %d connections accepted", held);
    for (int i = 0; i < 60; i++)
        (void)close(fds[i]);
    {
        int s = -1;
        for (int i = 0; i < 50 && s != 200; i++) {
            sleep_ms(100);
            s = healthz(cport);
        }
        cr_assert_eq(s, 200);
    }
    cr_assert_eq(ht_stop(&col, SIGTERM, 10000), 0);
    ht_rmdir(dir);
}

/* ------------------------------------------------------------ HTTP details */

Test(http_details, method_not_allowed_and_preflight, .timeout = 60)
{
    char dir[64], ini[256], v[128];
    struct ht_proc col, dash;
    struct ht_response r;
    int cport = ht_free_port(), dport = ht_free_port();

    ht_tmpdir(dir);
    write_ini(ini, dir, cport, dport, NULL, "root");
    start(&col, dir, "haze-collector", ini);
    start(&dash, dir, "haze-dashboard", ini);
    cr_assert_eq(ht_wait_port(cport, 10000), 0);
    cr_assert_eq(ht_wait_port(dport, 10000), 0);

    cr_assert_eq(ht_http(cport, "DELETE", "/api/event", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 405);
    cr_assert_eq(ht_header(&r, "Allow", v, sizeof(v)), 0);
    cr_assert_str_eq(v, "POST, OPTIONS");
    ht_response_free(&r);
    cr_assert_eq(ht_http(cport, "PUT", "/p.gif", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 405);
    cr_assert_eq(ht_header(&r, "Allow", v, sizeof(v)), 0);
    cr_assert_str_eq(v, "GET, HEAD");
    ht_response_free(&r);
    cr_assert_eq(ht_http(cport, "DELETE", "/nowhere", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 404);
    ht_response_free(&r);

    cr_assert_eq(ht_http(cport, "OPTIONS", "/api/event",
                         "Origin: https://example.com\r\nAccess-Control-Request-Method: POST\r\n"
                         "Access-Control-Request-Headers: content-type\r\n",
                         NULL, 0, &r),
                 0);
    cr_assert_eq(r.status, 204);
    cr_assert_eq(ht_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)), 0);
    cr_assert_str_eq(v, "*");
    cr_assert_eq(ht_header(&r, "Access-Control-Allow-Methods", v, sizeof(v)), 0);
    cr_assert_not_null(strstr(v, "POST"));
    cr_assert_eq(ht_header(&r, "Access-Control-Allow-Headers", v, sizeof(v)), 0);
    cr_assert_not_null(strcasestr(v, "content-type"));
    cr_assert_eq(ht_header(&r, "Access-Control-Max-Age", v, sizeof(v)), 0);
    cr_assert_gt(atoi(v), 0);
    ht_response_free(&r);

    cr_assert_eq(ht_http(dport, "DELETE", "/privacy.json", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 405);
    cr_assert_eq(ht_header(&r, "Allow", v, sizeof(v)), 0);
    cr_assert_str_eq(v, "GET, HEAD");
    ht_response_free(&r);
    cr_assert_eq(ht_http(dport, "PUT", "/api/v1/stats/aggregate",
                         "Authorization: Bearer " TOKEN "\r\n", NULL, 0, &r),
                 0);
    cr_assert_eq(r.status, 405);
    cr_assert_eq(ht_header(&r, "Allow", v, sizeof(v)), 0);
    cr_assert_str_eq(v, "GET, HEAD");
    ht_response_free(&r);

    cr_assert_eq(ht_stop(&col, SIGTERM, 10000), 0);
    cr_assert_eq(ht_stop(&dash, SIGTERM, 10000), 0);
    ht_rmdir(dir);
}

/* ------------------------------------------------------------ client address */

/* A client line, then the proxy's own X-Forwarded-For line, then a
 * client Forwarded header before... the proxy's line wins: the stream
 * holds the region of the proxy's address (192.0.2.x: DE-BY), never the
 * spoofed one (198.51.100.x: US-CA). */
Test(proxy_lines, several_header_lines_from_the_proxy, .timeout = 60)
{
    char dir[64], ini[256], *out;
    struct ht_proc col;
    struct ht_redis redis;
    struct ht_response r;
    int cport = ht_free_port(), dport = ht_free_port();
    static const char body[] =
        "{\"n\":\"pageview\",\"u\":\"https://example.com/\",\"d\":\"example.com\"}";

    ht_tmpdir(dir);
    cr_assert_eq(ht_redis_start(&redis, dir, 0), 0);
    write_ini(ini, dir, cport, dport, NULL, "root");
    start(&col, dir, "haze-collector", ini);
    cr_assert_eq(ht_wait_port(cport, 10000), 0);
    cr_assert_eq(ht_http(cport, "POST", "/api/event",
                         "User-Agent: " UA "\r\nContent-Type: text/plain\r\n"
                         "Forwarded: for=198.51.100.7\r\n"
                         "X-Forwarded-For: 198.51.100.8\r\n"
                         "X-Forwarded-For: 192.0.2.44\r\n",
                         body, strlen(body), &r),
                 0);
    cr_assert_eq(r.status, 202);
    ht_response_free(&r);
    {
        const char *const args[] = {"XRANGE", "haze:events", "-", "+", NULL};
        for (int i = 0; i < 50 && ht_redis_xlen(&redis, "haze:events") < 1; i++)
            sleep_ms(100);
        out = ht_redis_cli(&redis, args);
    }
    cr_assert_not_null(out);
    cr_assert_not_null(strstr(out, "DE-BY"), "%s", out);
    cr_assert_null(strstr(out, "US-CA"), "%s", out);
    free(out);
    cr_assert_eq(ht_stop(&col, SIGTERM, 10000), 0);
    ht_redis_stop(&redis, 0);
    ht_rmdir(dir);
}

/* ------------------------------------------------------------ the dashboard too */

static int
privacy_json(int port)
{
    struct ht_response r;
    int s;

    if (ht_http(port, "GET", "/privacy.json", NULL, NULL, 0, &r) != 0)
        return -1;
    s = r.status;
    ht_response_free(&r);
    return s;
}

/* The dashboard under a limit of 64 open files with 100 connections. */
Test(hostile, dashboard_out_of_file_descriptors_backs_off, .timeout = 60)
{
    char dir[64], ini[256], bin[256], *log;
    struct ht_proc dash;
    int fds[100], cport = ht_free_port(), dport = ht_free_port(), s = -1;
    double cpu0, cpu1;
    long logsize;

    ht_tmpdir(dir);
    write_ini2(ini, dir, cport, dport, NULL, "request_timeout_ms = 60000\n", "root");
    ht_bin(bin, "haze-dashboard");
    const char *argv[] = {"/usr/bin/prlimit", "--nofile=64", bin, "-c", ini, NULL};
    cr_assert_eq(ht_spawn(&dash, dir, "haze-dashboard", argv), 0);
    cr_assert_eq(ht_wait_port(dport, 10000), 0);
    cr_assert_eq(privacy_json(dport), 200);
    cpu0 = proc_cpu(dash.pid);
    cr_assert_eq(open_many(dport, fds, 100), 100);
    sleep_ms(3000);
    cpu1 = proc_cpu(dash.pid);
    logsize = file_size(dash.log);
    cr_assert_lt(cpu1 - cpu0, 0.25, "%.2f s of CPU in 3 s: the listener spins", cpu1 - cpu0);
    cr_assert_lt(logsize, 4096, "log grew to %ld bytes", logsize);
    log = ht_slurp(dash.log, NULL);
    cr_assert_not_null(strstr(log, "backing off"), "%s", log);
    free(log);
    for (int i = 0; i < 100; i++)
        (void)close(fds[i]);
    for (int i = 0; i < 50 && s != 200; i++) {
        sleep_ms(100);
        s = privacy_json(dport);
    }
    cr_assert_eq(s, 200, "the dashboard does not answer after the connections closed");
    cr_assert_eq(ht_stop(&dash, SIGTERM, 10000), 0);
    ht_rmdir(dir);
}

/* Trickling clients on the dashboard are closed by its deadline too, and
 * others are answered meanwhile. */
Test(hostile, dashboard_trickling_clients_are_closed, .timeout = 60)
{
    static const char req[] = "GET /privacy.json HTTP/1.1\r\nHost: x\r\nX-Slow: yes";
    char dir[64], ini[256];
    struct ht_proc dash;
    int fds[10], open_ = 10, cport = ht_free_port(), dport = ht_free_port();

    ht_tmpdir(dir);
    write_ini2(ini, dir, cport, dport, NULL, "request_timeout_ms = 1000\n", "root");
    start(&dash, dir, "haze-dashboard", ini);
    cr_assert_eq(ht_wait_port(dport, 10000), 0);
    cr_assert_eq(privacy_json(dport), 200);
    cr_assert_eq(open_many(dport, fds, 10), 10);
    for (size_t k = 0; open_ > 0 && k < 20; k++) {
        open_ = 0;
        for (int i = 0; i < 10; i++) {
            char buf[256];
            if (fds[i] < 0)
                continue;
            ssize_t n = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN) ||
                send(fds[i], &req[k % (sizeof(req) - 1)], 1, MSG_NOSIGNAL) != 1) {
                (void)close(fds[i]);
                fds[i] = -1;
                continue;
            }
            open_++;
        }
        cr_assert_eq(privacy_json(dport), 200);
        sleep_ms(200);
    }
    cr_assert_eq(open_, 0, "%d trickling clients still open after 4 s", open_);
    cr_assert_eq(ht_stop(&dash, SIGTERM, 10000), 0);
    ht_rmdir(dir);
}
