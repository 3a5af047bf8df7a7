/* SPDX-License-Identifier: MIT */
/*
 * dash_api_test.c - the real haze-dashboard binary over a hand-made LMDB.
 *
 * Each test builds the same small dataset through the store's write API in
 * a fresh mkdtemp folder (numbers chosen so every answer can be computed by
 * hand; they are written out in the expectations below), starts
 * $HZ_BIN/haze-dashboard on 127.0.0.1 and a random free port, asks over
 * HTTP and compares the exact answers. The fixture stops the dashboard by
 * pid with SIGTERM and checks that it exits 0.
 *
 * Days are relative to "today" in the site's zone: R is the 15th of the
 * month two months back (so fall in R's month), which keeps
 * every period inside the 400-day retention.
 *
 * Data (site example.com, Europe/Berlin, min_visitors 5):
 *   totals   R: 20 visitors, 25 visits, 60 pageviews, 15 non-bounce, 90 s/visit
 *          10, 12, 30, 6, 60 s/visit      R-7: 8, 10, 20, 5, 30 s/visit
 *   pages    R: /  12 v 20 pv 15 outs, /pricing 6 v 8 pv 2 outs, /blog/a 3 v,
 *              /<img src=x onerror=alert(1)> 5 v 5 pv, /rare 1 v
 *          R-1: /  6 v 10 pv 6 outs, /pricing 1 v, /blog/b 2 v
 *   engaged  R: / 10 x 20 s, /pricing 4 x 100 s
 *   funnel checkout R: 20 > 10 (30 s each) > 6 (60 s) > 2 (10 s)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "common/siphash.h"
#include "common/store.h"
#include "common/tz.h"
#include "dashboard/api.h"
#include "tests/integration/harness.h"
#include "tests/integration/http_client.h"

#define SITE  "example.com"
#define TOKEN "integration-token-42"
#define XSS   "/<img src=x onerror=alert(1)>"

static struct {
    char dir[64];
    char lmdb[96];
    char cfg[96];
    int port;
    pid_t pid;
    int32_t today, R;
    char d0[11], d1[11], d6[11], d7[11], dt[11]; /* R, R-1, R-6, R-7, today */
    struct stat before;                          /* data.mdb before the run */
    uint64_t digest;                             /* its bytes */
} E;

/* ================================================================ helpers */

/* SipHash of a whole file (a digest to compare before/after). */
static uint64_t
file_digest(const char *path)
{
    static const unsigned char key[HZ_SIPHASH_KEY] = {1, 2, 3};
    struct hz_siphash_ctx c;
    char buf[65536];
    int fd = open(path, O_RDONLY);
    ssize_t n;

    cr_assert_geq(fd, 0, "open %s", path);
    hz_siphash_init(&c, key);
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        hz_siphash_update(&c, buf, (size_t)n);
    close(fd);
    return hz_siphash_final(&c);
}

static void
add(hz_wtxn *t, int32_t day, enum hz_dim dim, const char *v, struct hz_counts c)
{
    cr_assert_eq(hz_store_add(t, SITE, day, dim, v, strlen(v), &c), 0);
}

/* The dataset described at the top of the file. */
static void
build_store(void)
{
    struct hz_err err = {0};
    hz_store *s;
    hz_wtxn *t;
    int32_t R = E.R;
    struct hz_tz tz;

    cr_assert_eq(hz_store_open(&s, E.lmdb, 0, 64u << 20, &err), 0, "%s", err.msg);
    cr_assert_eq(hz_store_wbegin(s, &t, 10000, &err), 0, "%s", err.msg);

    /* visitors, visits, pageviews, nonbounce, duration_ms, outs, events, engaged_ms */
    add(t, R, HZ_DIM_TOTAL, "", (struct hz_counts){20, 25, 60, 15, 2250000, 0, 0, 0});
    add(t, R - 1, HZ_DIM_TOTAL, "", (struct hz_counts){10, 12, 30, 6, 720000, 0, 0, 0});
    add(t, R - 7, HZ_DIM_TOTAL, "", (struct hz_counts){8, 10, 20, 5, 300000, 0, 0, 0});

    add(t, R, HZ_DIM_PAGE, "/", (struct hz_counts){12, 14, 20, 0, 0, 15, 10, 200000});
    add(t, R, HZ_DIM_PAGE, "/pricing", (struct hz_counts){6, 6, 8, 0, 0, 2, 4, 400000});
    add(t, R, HZ_DIM_PAGE, "/blog/a", (struct hz_counts){3, 3, 3, 0, 0, 1, 0, 0});
    add(t, R, HZ_DIM_PAGE, XSS, (struct hz_counts){5, 5, 5, 0, 0, 0, 0, 0});
    add(t, R, HZ_DIM_PAGE, "/rare", (struct hz_counts){1, 1, 1, 0, 0, 0, 0, 0});
    add(t, R - 1, HZ_DIM_PAGE, "/", (struct hz_counts){6, 6, 10, 0, 0, 6, 0, 0});
    add(t, R - 1, HZ_DIM_PAGE, "/pricing", (struct hz_counts){1, 1, 1, 0, 0, 0, 0, 0});
    add(t, R - 1, HZ_DIM_PAGE, "/blog/b", (struct hz_counts){2, 2, 2, 0, 0, 0, 0, 0});
    add(t, R - 7, HZ_DIM_PAGE, "/", (struct hz_counts){8, 10, 20, 0, 0, 10, 0, 0});

    add(t, R, HZ_DIM_ENTRY, "/", (struct hz_counts){9, 10, 30, 6, 1000000, 0, 0, 0});
    add(t, R, HZ_DIM_ENTRY, "/pricing", (struct hz_counts){4, 4, 6, 2, 200000, 0, 0, 0});
    add(t, R, HZ_DIM_ENTRY, XSS, (struct hz_counts){5, 5, 5, 0, 0, 0, 0, 0});
    add(t, R - 1, HZ_DIM_ENTRY, "/", (struct hz_counts){7, 8, 16, 3, 320000, 0, 0, 0});

    for (int i = 0; i < 10; i++)
        cr_assert_eq(hz_store_add_engaged(t, SITE, R, "/", 20000), 0);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(hz_store_add_engaged(t, SITE, R, "/pricing", 100000), 0);

    add(t, R, HZ_DIM_REGION, "DE-BY", (struct hz_counts){3, 3, 6, 2, 0, 0, 0, 0});
    add(t, R, HZ_DIM_REGION, "DE-BE", (struct hz_counts){2, 2, 4, 1, 0, 0, 0, 0});
    add(t, R, HZ_DIM_REGION, "FR-IDF", (struct hz_counts){7, 8, 20, 6, 0, 0, 0, 0});
    add(t, R, HZ_DIM_REGION, "IT-21", (struct hz_counts){2, 2, 4, 1, 0, 0, 0, 0});
    add(t, R, HZ_DIM_REGION, "US-CA", (struct hz_counts){6, 7, 16, 5, 0, 0, 0, 0});

    add(t, R, HZ_DIM_BROWSER, "Chrome", (struct hz_counts){12, 14, 30, 7, 0, 0, 0, 0});
    add(t, R, HZ_DIM_BROWSER, "Firefox", (struct hz_counts){6, 8, 20, 6, 0, 0, 0, 0});
    add(t, R, HZ_DIM_BROWSER, "Safari", (struct hz_counts){2, 3, 10, 0, 0, 0, 0, 0});

    add(t, R, HZ_DIM_SOURCE, "", (struct hz_counts){10, 12, 30, 8, 0, 0, 0, 0});
    add(t, R, HZ_DIM_SOURCE, "google.com", (struct hz_counts){8, 9, 20, 5, 0, 0, 0, 0});
    add(t, R, HZ_DIM_SOURCE, "evil.example", (struct hz_counts){2, 2, 2, 0, 0, 0, 0, 0});

    add(t, R, HZ_DIM_UTM_CAMPAIGN, "=cmd|' /C calc'!A0",
        (struct hz_counts){6, 6, 6, 0, 0, 0, 0, 0});
    add(t, R, HZ_DIM_UTM_CAMPAIGN, "spring", (struct hz_counts){5, 5, 5, 0, 0, 0, 0, 0});

    add(t, R, HZ_DIM_EVENT, "Signup", (struct hz_counts){5, 5, 0, 0, 0, 0, 7, 0});
    add(t, R, HZ_DIM_EVENT, "Download", (struct hz_counts){2, 2, 0, 0, 0, 0, 2, 0});

    add(t, R, HZ_DIM_DROP, "dnt", (struct hz_counts){0, 0, 0, 0, 0, 0, 3, 0});
    add(t, R, HZ_DIM_DROP, "bot", (struct hz_counts){0, 0, 0, 0, 0, 0, 4, 0});
    {
        struct hz_counts u = {0, 0, 0, 0, 0, 0, 9, 0};
        cr_assert_eq(hz_store_add(t, "*", R, HZ_DIM_DROP, "unknown_site", 12, &u), 0);
    }

    cr_assert_eq(hz_store_add_funnel(t, SITE, R, "checkout", 0, 20, 0, 0), 0);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(hz_store_add_funnel(t, SITE, R, "checkout", 1, 1, 1, 30000), 0);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(hz_store_add_funnel(t, SITE, R, "checkout", 2, 1, 1, 60000), 0);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(hz_store_add_funnel(t, SITE, R, "checkout", 3, 1, 1, 10000), 0);

    cr_assert_eq(hz_store_add_transition(t, SITE, R, "/", "/pricing", 6), 0);
    cr_assert_eq(hz_store_add_transition(t, SITE, R, "/", "/blog/a", 2), 0);
    cr_assert_eq(hz_store_add_transition(t, SITE, R, "/pricing", "/", 1), 0);
    cr_assert_eq(hz_store_add_transition(t, SITE, R, "/blog/a", "/", 5), 0);

    {
        struct hz_counts h9 = {8, 9, 20, 0, 0, 0, 0, 0}, h14 = {12, 16, 40, 0, 0, 0, 0, 0};
        struct hz_counts now = {3, 3, 4, 0, 0, 0, 0, 0};
        cr_assert_eq(hz_store_add_hour(t, SITE, R * 24 + 9, &h9), 0);
        cr_assert_eq(hz_store_add_hour(t, SITE, R * 24 + 14, &h14), 0);
        hz_tz_init(&tz, "Europe/Berlin");
        cr_assert_eq(hz_store_add_hour(t, SITE, hz_tz_hour(&tz, (int64_t)time(NULL)), &now), 0);
    }
    {
        /* Realtime: four visitors whose last hit is in the last five
         * minutes (kept within the window if a minute passes before the
         * query), one whose last hit is 20 minutes old. */
        uint32_t m = (uint32_t)(time(NULL) / 60);
        cr_assert_eq(hz_store_add_active(t, SITE, 0, m - 10), 0); /* A: moved on */
        cr_assert_eq(hz_store_add_active(t, SITE, m - 10, m - 2), 0);
        cr_assert_eq(hz_store_add_active(t, SITE, 0, m - 1), 0);  /* B */
        cr_assert_eq(hz_store_add_active(t, SITE, 0, m - 20), 0); /* C: gone */
        cr_assert_eq(hz_store_add_active(t, SITE, 0, m - 3), 0);  /* D */
        cr_assert_eq(hz_store_add_active(t, SITE, m - 3, m), 0);
        cr_assert_eq(hz_store_add_active(t, SITE, 0, m - 30), 0); /* E */
        cr_assert_eq(hz_store_add_active(t, SITE, m - 30, m - 2), 0);
    }
    cr_assert_eq(hz_store_set_position(t, "1-1"), 0);
    cr_assert_eq(hz_store_commit(t, &err), 0, "%s", err.msg);
    hz_store_close(s);
}

static void
write_config(void)
{
    FILE *f = fopen(E.cfg, "w");

    cr_assert_not_null(f);
    fprintf(f,
            "[aggregator]\nlmdb = %s\nretention_days = 400\nuser = root\n"
            "[dashboard]\nlisten = 127.0.0.1:%d\ntoken = " TOKEN "\nmin_visitors = 5\nuser = root\n"
            "[site " SITE "]\ntimezone = Europe/Berlin\n"
            "funnel = checkout: /products/* > /cart > /checkout > /thanks\n",
            E.lmdb, E.port);
    fclose(f);
}

/* Starts the dashboard on a random port, retrying when the port is taken. */
static void
start_dashboard(void)
{
    const char *bindir = getenv("HZ_BIN") ? getenv("HZ_BIN") : "bin";
    char exe[256];

    (void)snprintf(exe, sizeof(exe), "%s/haze-dashboard", bindir);
    cr_assert_eq(access(exe, X_OK), 0, "%s is missing: build it first (make)", exe);
    for (int attempt = 0; attempt < 10; attempt++) {
        int status;
        /* A port nothing listens on (the kernel's pick): with a random
         * one, the wait below could reach another test's dashboard, which
         * answers the same requests, while this one failed to bind. */
        E.port = ht_free_port();
        write_config();
        E.pid = fork();
        cr_assert_geq(E.pid, 0);
        if (E.pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);
            if (devnull >= 0 && getenv("HZ_TEST_VERBOSE") == NULL)
                (void)dup2(devnull, 2);
            execl(exe, exe, "-c", E.cfg, (char *)NULL);
            _exit(127);
        }
        for (int i = 0; i < 250; i++) {
            struct timespec ms20 = {0, 20 * 1000 * 1000};
            if (waitpid(E.pid, &status, WNOHANG) == E.pid) {
                E.pid = 0; /* exited: the port was taken, try another */
                break;
            }
            if (hz_httpc_wait("127.0.0.1", E.port, 20) == 0)
                return;
            (void)nanosleep(&ms20, NULL);
        }
        if (E.pid > 0) {
            kill(E.pid, SIGKILL);
            waitpid(E.pid, &status, 0);
            E.pid = 0;
        }
    }
    cr_assert_fail("haze-dashboard did not start");
}

static void
rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        (void)snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (e->d_type == DT_DIR)
            rm_rf(p);
        else
            (void)unlink(p);
    }
    closedir(d);
    (void)rmdir(dir);
}

static void
setup(void)
{
    const char *tmp = getenv("HZ_TEST_TMP") ? getenv("HZ_TEST_TMP") : "/tmp";
    char path[160];
    int y, m, d;

    memset(&E, 0, sizeof(E));
    (void)snprintf(E.dir, sizeof(E.dir), "%s/dash.XXXXXX", tmp);
    cr_assert_not_null(mkdtemp(E.dir));
    (void)snprintf(E.lmdb, sizeof(E.lmdb), "%s/db", E.dir);
    (void)snprintf(E.cfg, sizeof(E.cfg), "%s/haze.ini", E.dir);
    cr_assert_eq(mkdir(E.lmdb, 0700), 0);
    E.today = hz_api_today("Europe/Berlin", (int64_t)time(NULL));
    hz_civil_from_days(E.today, &y, &m, &d);
    m -= 2;
    if (m < 1) {
        m += 12;
        y--;
    }
    E.R = hz_days_from_civil(y, m, 15);
    hz_date_format(E.R, E.d0);
    hz_date_format(E.R - 1, E.d1);
    hz_date_format(E.R - 6, E.d6);
    hz_date_format(E.R - 7, E.d7);
    hz_date_format(E.today, E.dt);
    build_store();
    (void)snprintf(path, sizeof(path), "%s/data.mdb", E.lmdb);
    cr_assert_eq(stat(path, &E.before), 0);
    E.digest = file_digest(path);
    start_dashboard();
}

static void
teardown(void)
{
    if (E.pid > 0) {
        int status = 0;
        kill(E.pid, SIGTERM);
        cr_assert_eq(waitpid(E.pid, &status, 0), E.pid);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "haze-dashboard did not exit 0 on SIGTERM (status %d)", status);
    }
    rm_rf(E.dir);
}

TestSuite(dash, .init = setup, .fini = teardown, .timeout = 60);

/* JSON escapes '/' as "\/": expectations are written with '/' and converted. */
static char *
js(const char *s)
{
    size_t n = 0;
    char *o = malloc(2 * strlen(s) + 1);

    for (; *s; s++) {
        if (*s == '/')
            o[n++] = '\\';
        o[n++] = *s;
    }
    o[n] = '\0';
    return o;
}

/* GET with the bearer token; checks the status; returns the body (malloc'd). */
static char *get(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *
get(int status, const char *fmt, ...)
{
    struct hz_httpc_resp r;
    char path[2048];
    va_list ap;
    char *body;

    va_start(ap, fmt);
    (void)vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    cr_assert_eq(hz_httpc_request("127.0.0.1", E.port, "GET", path,
                                  "Authorization: Bearer " TOKEN "\r\n", NULL, 0, &r),
                 0, "GET %s failed", path);
    cr_assert_eq(r.status, status, "GET %s: %d %s", path, r.status, r.body);
    body = r.body;
    r.body = NULL;
    hz_httpc_free(&r);
    return body;
}

static char *
post_v2(int status, const char *json)
{
    struct hz_httpc_resp r;
    char *body;

    cr_assert_eq(hz_httpc_request("127.0.0.1", E.port, "POST", "/api/v2/query",
                                  "Authorization: Bearer " TOKEN "\r\n"
                                  "Content-Type: application/json\r\n",
                                  json, strlen(json), &r),
                 0);
    cr_assert_eq(r.status, status, "v2 %s: %d %s", json, r.status, r.body);
    body = r.body;
    r.body = NULL;
    hz_httpc_free(&r);
    return body;
}

/* Asserts body equals the expectation (with '/' escaped) and frees both. */
static void
expect_json(char *body, const char *want)
{
    char *w = js(want);

    cr_assert_str_eq(body, w);
    free(w);
    free(body);
}

/* ================================================================ stats v1 */

Test(dash, aggregate_7d_with_comparison)
{
    expect_json(get(200,
                    "/api/v1/stats/aggregate?site_id=" SITE "&period=7d&date=%s"
                    "&metrics=visitors,visits,pageviews,bounce_rate,visit_duration,"
                    "time_on_page_median&compare=previous_period",
                    E.d0),
                "{\"results\":{\"visitors\":{\"value\":30,\"change\":275},"
                "\"visits\":{\"value\":37,\"change\":270},"
                "\"pageviews\":{\"value\":90,\"change\":350},"
                "\"bounce_rate\":{\"value\":43,\"change\":-7},"
                "\"visit_duration\":{\"value\":80,\"change\":167},"
                "\"time_on_page_median\":{\"value\":26,\"change\":null}}}");
}

Test(dash, aggregate_each_period)
{
    /* R alone; R-1..R; R-7..R (R is the 15th, so its month holds all three). */
    static const struct {
        const char *period;
        int use_r;
        int visitors;
    } cases[] = {
        {"day", 1, 20},   {"7d", 1, 30},  {"30d", 1, 38},
        {"month", 1, 38}, {"6mo", 1, 38}, {"12mo", 0, 38},
    };
    char want[128];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        (void)snprintf(want, sizeof(want), "{\"results\":{\"visitors\":{\"value\":%d}}}",
                       cases[i].visitors);
        expect_json(get(200, "/api/v1/stats/aggregate?site_id=" SITE "&period=%s&date=%s",
                        cases[i].period, cases[i].use_r ? E.d0 : E.dt),
                    want);
    }
    expect_json(
        get(200, "/api/v1/stats/aggregate?site_id=" SITE "&period=custom&date=%s,%s", E.d1, E.d0),
        "{\"results\":{\"visitors\":{\"value\":30}}}");
    expect_json(get(200,
                    "/api/v1/stats/aggregate?site_id=" SITE "&period=custom&date=%s,%s"
                    "&metrics=views_per_visit,events",
                    E.d1, E.d0),
                "{\"results\":{\"views_per_visit\":{\"value\":2.43},\"events\":{\"value\":99}}}");
    /* No data on R-3 (and the default 30 days ending today may have none). */
    expect_json(get(200,
                    "/api/v1/stats/aggregate?site_id=" SITE "&period=day&date=%s"
                    "&metrics=visitors,bounce_rate,time_on_page_median",
                    E.d6),
                "{\"results\":{\"visitors\":{\"value\":0},\"bounce_rate\":{\"value\":0},"
                "\"time_on_page_median\":{\"value\":null}}}");
}

Test(dash, aggregate_with_a_filter_keeps_the_threshold)
{
    expect_json(get(200,
                    "/api/v1/stats/aggregate?site_id=" SITE "&period=custom&date=%s,%s"
                    "&metrics=visitors,pageviews&filters=event:page%%3D%%3D/pricing",
                    E.d1, E.d0),
                "{\"results\":{\"visitors\":{\"value\":7},\"pageviews\":{\"value\":9}},"
                "\"folded\":3}");
    /* /rare has one visitor: a filter cannot single it out. */
    expect_json(get(200,
                    "/api/v1/stats/aggregate?site_id=" SITE "&period=custom&date=%s,%s"
                    "&metrics=visitors,pageviews&filters=event:page%%3D%%3D/rare",
                    E.d1, E.d0),
                "{\"results\":{\"visitors\":{\"value\":0},\"pageviews\":{\"value\":0}},"
                "\"folded\":3}");
}

Test(dash, timeseries_days_and_hours)
{
    char want[2048], d[11];
    size_t n = 0;

    n += (size_t)snprintf(want + n, sizeof(want) - n, "{\"results\":[");
    for (int32_t day = E.R - 6; day <= E.R; day++) {
        int v = day == E.R ? 20 : day == E.R - 1 ? 10 : 0;
        hz_date_format(day, d);
        n += (size_t)snprintf(want + n, sizeof(want) - n,
                              "%s{\"date\":\"%s\",\"visitors\":%d,\"pageviews\":%d}",
                              day == E.R - 6 ? "" : ",", d, v, v * 3);
    }
    (void)snprintf(want + n, sizeof(want) - n, "]}");
    expect_json(get(200,
                    "/api/v1/stats/timeseries?site_id=" SITE "&period=7d&date=%s"
                    "&metrics=visitors,pageviews",
                    E.d0),
                want);

    n = (size_t)snprintf(want, sizeof(want), "{\"results\":[");
    for (int h = 0; h < 24; h++) {
        int v = h == 9 ? 8 : h == 14 ? 12 : 0, vs = h == 9 ? 9 : h == 14 ? 16 : 0;
        n += (size_t)snprintf(want + n, sizeof(want) - n,
                              "%s{\"date\":\"%s %02d:00:00\",\"visitors\":%d,\"visits\":%d}",
                              h ? "," : "", E.d0, h, v, vs);
    }
    (void)snprintf(want + n, sizeof(want) - n, "]}");
    expect_json(get(200,
                    "/api/v1/stats/timeseries?site_id=" SITE "&period=day&date=%s"
                    "&metrics=visitors,visits",
                    E.d0),
                want);
}

Test(dash, timeseries_by_month_and_filtered)
{
    char want[256], m1[11];
    int y, m, d;

    hz_civil_from_days(E.R, &y, &m, &d);
    hz_date_format(hz_days_from_civil(y, m, 1), m1);
    (void)snprintf(want, sizeof(want), "{\"results\":[{\"date\":\"%s\",\"visitors\":38}]}", m1);
    expect_json(get(200,
                    "/api/v1/stats/timeseries?site_id=" SITE "&period=custom&date=%s,%s"
                    "&interval=month",
                    E.d7, E.d0),
                want);
    (void)snprintf(want, sizeof(want),
                   "{\"results\":[{\"date\":\"%s\",\"visitors\":1},{\"date\":\"%s\","
                   "\"visitors\":6}],\"folded\":3}",
                   E.d1, E.d0);
    expect_json(get(200,
                    "/api/v1/stats/timeseries?site_id=" SITE "&period=custom&date=%s,%s"
                    "&filters=event:page%%3D%%3D/pricing",
                    E.d1, E.d0),
                want);
}

Test(dash, breakdown_pages_folds_small_rows)
{
    expect_json(get(200,
                    "/api/v1/stats/breakdown?site_id=" SITE "&period=custom&date=%s,%s"
                    "&property=event:page&metrics=visitors,pageviews,bounce_rate,"
                    "time_on_page_median,exit_rate",
                    E.d1, E.d0),
                "{\"results\":["
                "{\"page\":\"/\",\"visitors\":18,\"pageviews\":30,\"bounce_rate\":50,"
                "\"time_on_page_median\":23,\"exit_rate\":30.0},"
                "{\"page\":\"/pricing\",\"visitors\":7,\"pageviews\":9,\"bounce_rate\":50,"
                "\"time_on_page_median\":91,\"exit_rate\":77.8},"
                "{\"page\":\"(other)\",\"visitors\":6,\"pageviews\":6,\"bounce_rate\":null,"
                "\"time_on_page_median\":null,\"exit_rate\":83.3},"
                "{\"page\":\"" XSS "\",\"visitors\":5,\"pageviews\":5,\"bounce_rate\":100,"
                "\"time_on_page_median\":null,\"exit_rate\":100.0}],\"folded\":3}");
    /* Pagination: 2 rows a page, page 2. */
    expect_json(get(200,
                    "/api/v1/stats/breakdown?site_id=" SITE "&period=custom&date=%s,%s"
                    "&property=event:page&limit=2&page=2",
                    E.d1, E.d0),
                "{\"results\":[{\"page\":\"(other)\",\"visitors\":6},"
                "{\"page\":\"" XSS "\",\"visitors\":5}],\"folded\":3}");
}

Test(dash, breakdown_entry_and_exit_pages)
{
    expect_json(get(200,
                    "/api/v1/stats/breakdown?site_id=" SITE "&period=custom&date=%s,%s"
                    "&property=visit:entry_page&metrics=visitors,visits,bounce_rate,"
                    "visit_duration",
                    E.d1, E.d0),
                "{\"results\":["
                "{\"entry_page\":\"/\",\"visitors\":16,\"visits\":18,\"bounce_rate\":50,"
                "\"visit_duration\":73},"
                "{\"entry_page\":\"" XSS "\",\"visitors\":5,\"visits\":5,\"bounce_rate\":100,"
                "\"visit_duration\":0},"
                "{\"entry_page\":\"(other)\",\"visitors\":4,\"visits\":4,\"bounce_rate\":50,"
                "\"visit_duration\":50}],\"folded\":1}");
    expect_json(get(200,
                    "/api/v1/stats/breakdown?site_id=" SITE "&period=custom&date=%s,%s"
                    "&property=visit:exit_page&metrics=visitors,visits,exit_rate",
                    E.d1, E.d0),
                "{\"results\":["
                "{\"exit_page\":\"/\",\"visitors\":9,\"visits\":9,\"exit_rate\":30.0},"
                "{\"exit_page\":\"/pricing\",\"visitors\":7,\"visits\":7,\"exit_rate\":77.8},"
                "{\"exit_page\":\"(other)\",\"visitors\":5,\"visits\":5,\"exit_rate\":83.3},"
                "{\"exit_page\":\"" XSS "\",\"visitors\":5,\"visits\":5,\"exit_rate\":100.0}],"
                "\"folded\":3}");
}

Test(dash, breakdown_regions_fall_back_to_country)
{
    expect_json(get(200,
                    "/api/v1/stats/breakdown?site_id=" SITE "&period=day&date=%s"
                    "&property=visit:region&metrics=visitors,visits",
                    E.d0),
                "{\"results\":[{\"region\":\"FR-IDF\",\"visitors\":7,\"visits\":8},"
                "{\"region\":\"US-CA\",\"visitors\":6,\"visits\":7},"
                "{\"region\":\"DE\",\"visitors\":5,\"visits\":5},"
                "{\"region\":\"(other)\",\"visitors\":2,\"visits\":2}],\"folded\":3}");
}

Test(dash, breakdown_browsers_sources_events)
{
    expect_json(get(200,
                    "/api/v1/stats/breakdown?site_id=" SITE "&period=day&date=%s"
                    "&property=visit:browser&metrics=visitors,bounce_rate",
                    E.d0),
                "{\"results\":[{\"browser\":\"Chrome\",\"visitors\":12,\"bounce_rate\":50},"
                "{\"browser\":\"Firefox\",\"visitors\":6,\"bounce_rate\":25},"
                "{\"browser\":\"(other)\",\"visitors\":2,\"bounce_rate\":100}],\"folded\":1}");
    expect_json(get(200,
                    "/api/v1/stats/breakdown?site_id=" SITE "&period=day&date=%s"
                    "&property=visit:source",
                    E.d0),
                "{\"results\":[{\"source\":\"\",\"visitors\":10},"
                "{\"source\":\"google.com\",\"visitors\":8},"
                "{\"source\":\"(other)\",\"visitors\":2}],\"folded\":1}");
    expect_json(get(200,
                    "/api/v1/stats/breakdown?site_id=" SITE "&period=day&date=%s"
                    "&property=event:name&metrics=visitors,events",
                    E.d0),
                "{\"results\":[{\"name\":\"Signup\",\"visitors\":5,\"events\":7},"
                "{\"name\":\"(other)\",\"visitors\":2,\"events\":2}],\"folded\":1}");
    /* Nothing on R-6. */
    expect_json(get(200,
                    "/api/v1/stats/breakdown?site_id=" SITE "&period=day&date=%s"
                    "&property=visit:os",
                    E.d6),
                "{\"results\":[],\"folded\":0}");
}

Test(dash, breakdown_csv_neutralizes_formulas)
{
    struct hz_httpc_resp r;
    char path[256], ct[64], cd[128];

    (void)snprintf(path, sizeof(path),
                   "/api/v1/stats/breakdown?site_id=" SITE "&period=day&date=%s"
                   "&property=visit:utm_campaign&format=csv",
                   E.d0);
    cr_assert_eq(hz_httpc_request("127.0.0.1", E.port, "GET", path,
                                  "Authorization: Bearer " TOKEN "\r\n", NULL, 0, &r),
                 0);
    cr_assert_eq(r.status, 200);
    cr_assert(hz_httpc_header(&r, "Content-Type", ct, sizeof(ct)));
    cr_assert_str_eq(ct, "text/csv; charset=utf-8");
    cr_assert(hz_httpc_header(&r, "Content-Disposition", cd, sizeof(cd)));
    cr_assert_not_null(strstr(cd, "attachment; filename=\"haze-example.com-utm_campaign-"));
    cr_assert_str_eq(r.body, "utm_campaign,visitors\r\n'=cmd|' /C calc'!A0,6\r\nspring,5\r\n");
    hz_httpc_free(&r);

    (void)snprintf(path, sizeof(path),
                   "/api/v1/stats/breakdown?site_id=" SITE "&period=day&date=%s"
                   "&property=event:page&metrics=visitors,exit_rate&format=csv",
                   E.d0);
    cr_assert_eq(hz_httpc_request("127.0.0.1", E.port, "GET", path,
                                  "Authorization: Bearer " TOKEN "\r\n", NULL, 0, &r),
                 0);
    cr_assert_str_eq(r.body, "page,visitors,exit_rate\r\n/,12,25.0\r\n/pricing,6,75.0\r\n" XSS
                             ",5,100.0\r\n(other),4,75.0\r\n");
    hz_httpc_free(&r);
}

Test(dash, realtime_counts_visitors_of_the_last_five_minutes)
{
    char *b = get(200, "/api/v1/stats/realtime/visitors?site_id=" SITE);

    cr_assert_str_eq(b, "4");
    free(b);
}

Test(dash, funnel_steps)
{
    char want[2048];

    (void)snprintf(
        want, sizeof(want),
        "{\"results\":[{\"funnel\":\"checkout\",\"steps\":["
        "{\"step\":1,\"name\":\"/products/*\",\"visitors\":20,\"conversion_from_previous\":100.0,"
        "\"conversion_from_first\":100.0,\"dropoff\":0,\"dropoff_rate\":0.0,"
        "\"median_seconds_from_previous\":null,\"p75_seconds_from_previous\":null},"
        "{\"step\":2,\"name\":\"/cart\",\"visitors\":10,\"conversion_from_previous\":50.0,"
        "\"conversion_from_first\":50.0,\"dropoff\":10,\"dropoff_rate\":50.0,"
        "\"median_seconds_from_previous\":23,\"p75_seconds_from_previous\":27},"
        "{\"step\":3,\"name\":\"/checkout\",\"visitors\":6,\"conversion_from_previous\":60.0,"
        "\"conversion_from_first\":30.0,\"dropoff\":4,\"dropoff_rate\":40.0,"
        "\"median_seconds_from_previous\":45,\"p75_seconds_from_previous\":54},"
        "{\"step\":4,\"name\":\"/thanks\",\"visitors\":2,\"conversion_from_previous\":33.3,"
        "\"conversion_from_first\":10.0,\"dropoff\":4,\"dropoff_rate\":66.7,"
        "\"median_seconds_from_previous\":11,\"p75_seconds_from_previous\":13}],"
        "\"biggest_dropoff_step\":2}],\"date_range\":[\"%s\",\"%s\"]}",
        E.d0, E.d0);
    expect_json(
        get(200, "/api/v1/funnels?site_id=" SITE "&funnel=checkout&period=day&date=%s", E.d0),
        want);
    /* Without funnel=: every funnel of the site (here the same one). */
    expect_json(get(200, "/api/v1/funnels?site_id=" SITE "&period=day&date=%s", E.d0), want);
}

Test(dash, paths_of_a_page)
{
    expect_json(get(200, "/api/v1/paths?site_id=" SITE "&page=/&period=day&date=%s", E.d0),
                "{\"page\":\"/\",\"withheld\":false,\"visitors\":12,\"pageviews\":20,"
                "\"entries\":10,\"exits\":5,"
                "\"came_from\":[{\"page\":\"/blog/a\",\"count\":5},{\"page\":\"(other)\","
                "\"count\":1}],"
                "\"went_to\":[{\"page\":\"/pricing\",\"count\":6},{\"page\":\"(other)\","
                "\"count\":2}],\"folded\":2}");
    expect_json(get(200, "/api/v1/paths?site_id=" SITE "&page=/rare&period=day&date=%s", E.d0),
                "{\"page\":\"/rare\",\"withheld\":true,\"visitors\":null,\"pageviews\":null,"
                "\"entries\":null,\"exits\":null,\"came_from\":[],\"went_to\":[],\"folded\":0}");
}

Test(dash, filtered_traffic_and_sites)
{
    char want[512];

    expect_json(get(200, "/api/v1/filtered?site_id=" SITE "&period=day&date=%s", E.d0),
                "{\"results\":[{\"reason\":\"bot\",\"events\":4},{\"reason\":\"dnt\","
                "\"events\":3}],\"unknown_site\":9}");
    (void)snprintf(want, sizeof(want),
                   "{\"results\":[{\"site_id\":\"" SITE "\",\"timezone\":\"Europe/Berlin\","
                   "\"today\":\"%s\",\"funnels\":[{\"name\":\"checkout\",\"steps\":"
                   "[\"/products/*\",\"/cart\",\"/checkout\",\"/thanks\"]}],"
                   "\"groups\":[],\"goals\":[],\"pairs\":[],\"funnel_by\":[]}],"
                   "\"min_visitors\":5,\"retention_days\":400,\"audit\":false}",
                   E.dt);
    {
        /* metrics_by_property: what each property's rows keep (the page
         * asks a filtered headline for those only); checked, then set
         * aside to compare the rest of the answer to the byte. */
        char *b = get(200, "/api/haze/sites"), *rest;
        json_error_t je;
        json_t *j = json_loads(b, 0, &je), *m, *g;
        cr_assert_not_null(j, "%s", je.text);
        m = json_object_get(j, "metrics_by_property");
        g = json_object_get(m, "event:goal");
        cr_assert(json_is_array(g) && json_array_size(g) == 4, "event:goal keeps 4 metrics");
        cr_assert_str_eq(json_string_value(json_array_get(g, 0)), "visitors");
        cr_assert_str_eq(json_string_value(json_array_get(g, 1)), "visits");
        cr_assert_str_eq(json_string_value(json_array_get(g, 2)), "events");
        cr_assert_str_eq(json_string_value(json_array_get(g, 3)), "conversion_rate");
        cr_assert_eq(json_array_size(json_object_get(m, "event:page")), 12);
        cr_assert_null(json_object_get(m, ""), "site totals are not a property");
        json_object_del(j, "metrics_by_property");
        rest = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ESCAPE_SLASH);
        json_decref(j);
        free(b);
        expect_json(rest, want);
    }
    /* Plausible's Sites API shape at Plausible's path. */
    expect_json(get(200, "/api/v1/sites"),
                "{\"sites\":[{\"domain\":\"" SITE "\",\"timezone\":\"Europe/Berlin\"}],"
                "\"meta\":{\"after\":null,\"before\":null,\"limit\":100}}");
}

/* ================================================================ stats v2 */

/* "YYYY-MM-DDT00:00:00+HH:MM" (or T23:59:59 when end) in Europe/Berlin:
 * how the v2 query echo writes a range, as Plausible's does. */
static const char *
iso_dt(char out[32], int32_t day, int end)
{
    struct hz_tz z;
    char d[11];
    long off;

    hz_tz_init(&z, "Europe/Berlin");
    off = hz_tz_offset(&z, (int64_t)day * 86400 + 43200);
    hz_date_format(day, d);
    (void)snprintf(out, 32, "%.10sT%s+%02d:00", d, end ? "23:59:59" : "00:00:00",
                   (int)(off / 3600) % 24);
    return out;
}

Test(dash, v2_breakdown_filter_order_pagination)
{
    char body[512], want[1024], a[32], b[32];

    (void)snprintf(body, sizeof(body),
                   "{\"site_id\":\"" SITE "\",\"metrics\":[\"visitors\",\"pageviews\"],"
                   "\"date_range\":[\"%s\",\"%s\"],\"dimensions\":[\"event:page\"],"
                   "\"filters\":[[\"is_not\",\"event:page\",[\"/\"]]],"
                   "\"order_by\":[[\"pageviews\",\"asc\"]],\"pagination\":{\"limit\":2},"
                   "\"include\":{\"total_rows\":true}}",
                   E.d1, E.d0);
    /* "(other)" (6 pageviews) follows order_by and is flagged in meta. */
    (void)snprintf(want, sizeof(want),
                   "{\"results\":[{\"dimensions\":[\"" XSS "\"],\"metrics\":[5,5]},"
                   "{\"dimensions\":[\"(other)\"],\"metrics\":[6,6]}],"
                   "\"meta\":{\"folded_rows\":3,\"min_visitors\":5,\"other_rows\":[1],"
                   "\"total_rows\":3},"
                   "\"query\":{\"site_id\":\"" SITE "\",\"metrics\":[\"visitors\",\"pageviews\"],"
                   "\"date_range\":[\"%s\",\"%s\"],\"dimensions\":[\"event:page\"],"
                   "\"filters\":[[\"is_not\",\"event:page\",[\"/\"]]],"
                   "\"order_by\":[[\"pageviews\",\"asc\"]],"
                   "\"include\":{\"imports\":false,\"time_labels\":false,\"total_rows\":true},"
                   "\"pagination\":{\"limit\":2,\"offset\":0}}}",
                   iso_dt(a, E.R - 1, 0), iso_dt(b, E.R, 1));
    expect_json(post_v2(200, body), want);
}

Test(dash, v2_aggregate_and_timeseries)
{
    char body[512], want[1024], a[32], b[32];

    /* events: pageviews (60) and custom events (9), as Plausible counts them. */
    (void)snprintf(body, sizeof(body),
                   "{\"site_id\":\"" SITE "\",\"metrics\":[\"visitors\",\"events\"],"
                   "\"date_range\":[\"%s\",\"%s\"]}",
                   E.d0, E.d0);
    (void)snprintf(want, sizeof(want),
                   "{\"results\":[{\"dimensions\":[],\"metrics\":[20,69]}],"
                   "\"meta\":{\"folded_rows\":0,\"min_visitors\":5},"
                   "\"query\":{\"site_id\":\"" SITE "\",\"metrics\":[\"visitors\",\"events\"],"
                   "\"date_range\":[\"%s\",\"%s\"],\"dimensions\":[],\"filters\":[],"
                   "\"order_by\":[],\"include\":{},"
                   "\"pagination\":{\"limit\":10000,\"offset\":0}}}",
                   iso_dt(a, E.R, 0), iso_dt(b, E.R, 1));
    expect_json(post_v2(200, body), want);

    (void)snprintf(body, sizeof(body),
                   "{\"site_id\":\"" SITE "\",\"metrics\":[\"visitors\"],"
                   "\"date_range\":[\"%s\",\"%s\"],\"dimensions\":[\"time:day\"]}",
                   E.d1, E.d0);
    (void)snprintf(want, sizeof(want),
                   "{\"results\":[{\"dimensions\":[\"%s\"],\"metrics\":[10]},"
                   "{\"dimensions\":[\"%s\"],\"metrics\":[20]}],"
                   "\"meta\":{\"folded_rows\":0,\"min_visitors\":5},"
                   "\"query\":{\"site_id\":\"" SITE "\",\"metrics\":[\"visitors\"],"
                   "\"date_range\":[\"%s\",\"%s\"],\"dimensions\":[\"time:day\"],\"filters\":[],"
                   "\"order_by\":[[\"time:day\",\"asc\"]],\"include\":{},"
                   "\"pagination\":{\"limit\":10000,\"offset\":0}}}",
                   E.d1, E.d0, iso_dt(a, E.R - 1, 0), iso_dt(b, E.R, 1));
    expect_json(post_v2(200, body), want);
}

/* ================================================================ errors */

Test(dash, bad_requests_are_400_naming_the_parameter)
{
    char first[11], want[256];

    /* An unknown site is Plausible's 401, body and all. */
    expect_json(get(401, "/api/v1/stats/aggregate?site_id=nope.example"),
                "{\"error\":\"" HZ_API_BAD_SITE "\"}");
    expect_json(get(400, "/api/v1/stats/aggregate?site_id=" SITE "&metrics=visitors,clicks"),
                "{\"error\":\"metrics: unknown metric\"}");
    expect_json(get(400, "/api/v1/stats/breakdown?site_id=" SITE "&property=visit:city"),
                "{\"error\":\"property: unknown property\"}");
    expect_json(get(400, "/api/v1/stats/aggregate?site_id=" SITE "&period=day&date=2026-02-30"),
                "{\"error\":\"date: expected YYYY-MM-DD\"}");
    expect_json(
        get(400, "/api/v1/stats/aggregate?site_id=" SITE "&period=custom&date=%s,%s", E.d0, E.d1),
        "{\"error\":\"date: the start is after the end\"}");
    hz_date_format(E.today - 399, first);
    (void)snprintf(want, sizeof(want),
                   "{\"error\":\"date: the range starts before the retention window (400 days, "
                   "first day %s)\"}",
                   first);
    expect_json(get(400, "/api/v1/stats/aggregate?site_id=" SITE "&period=custom&date=%s,%s",
                    "2020-01-01", E.d0),
                want);
    expect_json(get(400, "/api/v1/stats/breakdown?site_id=" SITE "&property=event:page"
                         "&filters=visit:browser%%3D%%3DFirefox"),
                "{\"error\":\"filters: no declared pair covers visit:browser with event:page; "
                "add \\\"crosstab = visit:browser x event:page\\\" to [site example.com]\"}");
    expect_json(get(400, "/api/v1/stats/breakdown?site_id=" SITE "&property=event:page"
                         "&limit=5000"),
                "{\"error\":\"limit: expected an integer from 1 to 1000\"}");
    expect_json(get(400, "/api/v1/stats/breakdown?site_id=" SITE "&property=event:page&page=0"),
                "{\"error\":\"page: expected an integer from 1 to 1000000\"}");
    expect_json(post_v2(400, "{\"site_id\":\"" SITE "\",\"metrics\":[\"visitors\"],"
                             "\"date_range\":\"7d\",\"dimensions\":[\"event:page\","
                             "\"visit:country\"]}"),
                "{\"error\":\"filters: no declared pair covers event:page with visit:country; "
                "add \\\"crosstab = event:page x visit:country\\\" to [site example.com]\"}");
    expect_json(post_v2(400, "{\"site_id\": oops}"),
                "{\"error\":\"body: invalid JSON at line 1, column 16\"}");
}

Test(dash, unknown_paths_and_wrong_methods)
{
    struct hz_httpc_resp r;
    char allow[32];

    expect_json(get(404, "/api/v1/nothing"), "{\"error\":\"not found\"}");
    expect_json(get(404, "/nothing.html"), "{\"error\":\"not found\"}");
    cr_assert_eq(hz_httpc_request("127.0.0.1", E.port, "POST", "/api/v1/stats/aggregate",
                                  "Authorization: Bearer " TOKEN "\r\n", "", 0, &r),
                 0);
    cr_assert_eq(r.status, 405);
    cr_assert(hz_httpc_header(&r, "Allow", allow, sizeof(allow)));
    cr_assert_str_eq(allow, "GET, HEAD");
    hz_httpc_free(&r);
    expect_json(get(405, "/api/v2/query"), "{\"error\":\"method not allowed\"}");
    expect_json(get(405, "/login"), "{\"error\":\"method not allowed\"}");
    /* Any other method on a known path: 405 with Allow too (issue 9; it
     * was libevent's 501). */
    cr_assert_eq(hz_httpc_request("127.0.0.1", E.port, "PUT", "/",
                                  "Authorization: Bearer " TOKEN "\r\n", "x", 1, &r),
                 0);
    cr_assert_eq(r.status, 405);
    cr_assert(hz_httpc_header(&r, "Allow", allow, sizeof(allow)));
    cr_assert_str_eq(allow, "GET, HEAD");
    hz_httpc_free(&r);
}

Test(dash, oversized_requests)
{
    struct hz_httpc_resp r;
    size_t n = 20000;
    char *big = malloc(n + 1), path[1400];

    memset(big, 'a', n);
    big[n] = '\0';
    cr_assert_eq(hz_httpc_request("127.0.0.1", E.port, "POST", "/api/v2/query",
                                  "Authorization: Bearer " TOKEN "\r\n", big, n, &r),
                 0);
    cr_assert_eq(r.status, 413);
    hz_httpc_free(&r);
    /* Without a token, a long request target is refused before anything else. */
    memset(path, 'a', sizeof(path));
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    cr_assert_eq(hz_httpc_request("127.0.0.1", E.port, "GET", path, NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 414);
    hz_httpc_free(&r);
    free(big);
}

/* ================================================================ access */

static int
status_of(const char *method, const char *path, const char *headers, const char *body, char **out)
{
    struct hz_httpc_resp r;
    int st;

    cr_assert_eq(hz_httpc_request("127.0.0.1", E.port, method, path, headers, body,
                                  body ? strlen(body) : 0, &r),
                 0);
    st = r.status;
    if (out != NULL) {
        *out = r.body;
        r.body = NULL;
    }
    hz_httpc_free(&r);
    return st;
}

Test(dash, api_needs_the_token)
{
    char *b = NULL;
    static const char *paths[] = {
        "/api/v1/stats/aggregate?site_id=" SITE,
        "/api/v1/stats/breakdown?site_id=" SITE "&property=event:page",
        "/api/v1/sites",
        "/api/v1/funnels?site_id=" SITE,
        "/api/v1/nothing",
    };

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        cr_assert_eq(status_of("GET", paths[i], NULL, NULL, &b), 401, "%s", paths[i]);
        cr_assert_str_eq(b, "{\"error\":\"missing or wrong token\"}");
        free(b);
        cr_assert_eq(
            status_of("GET", paths[i], "Authorization: Bearer wrong-token-42\r\n", NULL, &b), 401);
        cr_assert_str_eq(b, "{\"error\":\"missing or wrong token\"}");
        free(b);
        cr_assert_eq(status_of("GET", paths[i], "Authorization: Bearer " TOKEN "x\r\n", NULL, NULL),
                     401);
        cr_assert_eq(status_of("GET", paths[i], "Authorization: Basic " TOKEN "\r\n", NULL, NULL),
                     401);
        cr_assert_eq(status_of("GET", paths[i], "Cookie: haze_session=" TOKEN "\r\n", NULL, NULL),
                     401);
        cr_assert_eq(status_of("GET", paths[i],
                               "Cookie: haze_session=00000000000000000000000000000000\r\n", NULL,
                               NULL),
                     401);
    }
    cr_assert_eq(status_of("POST", "/api/v2/query", NULL, "{}", NULL), 401);
}

Test(dash, login_sets_a_session_cookie)
{
    struct hz_httpc_resp r;
    char cookie[256], loc[64], hdr[300], *semi;

    /* Wrong token: back to the form, no cookie. */
    cr_assert_eq(hz_httpc_request("127.0.0.1", E.port, "POST", "/login",
                                  "Content-Type: application/x-www-form-urlencoded\r\n",
                                  "token=nope", 10, &r),
                 0);
    cr_assert_eq(r.status, 303);
    cr_assert(hz_httpc_header(&r, "Location", loc, sizeof(loc)));
    cr_assert_str_eq(loc, "/?login=failed");
    cr_assert_not(hz_httpc_header(&r, "Set-Cookie", cookie, sizeof(cookie)));
    hz_httpc_free(&r);

    cr_assert_eq(hz_httpc_request("127.0.0.1", E.port, "POST", "/login",
                                  "Content-Type: application/x-www-form-urlencoded\r\n",
                                  "token=" TOKEN, strlen("token=" TOKEN), &r),
                 0);
    cr_assert_eq(r.status, 303);
    cr_assert(hz_httpc_header(&r, "Location", loc, sizeof(loc)));
    cr_assert_str_eq(loc, "/");
    cr_assert(hz_httpc_header(&r, "Set-Cookie", cookie, sizeof(cookie)));
    hz_httpc_free(&r);
    cr_assert_eq(strncmp(cookie, "haze_session=", 13), 0, "%s", cookie);
    cr_assert_not_null(strstr(cookie, "; HttpOnly"));
    cr_assert_not_null(strstr(cookie, "; SameSite=Strict"));
    cr_assert_not_null(strstr(cookie, "; Path=/"));
    cr_assert_null(strstr(cookie, TOKEN), "the cookie must not carry the token");
    semi = strchr(cookie, ';');
    *semi = '\0';
    cr_assert_eq(strlen(cookie), 13 + 32);

    (void)snprintf(hdr, sizeof(hdr), "Cookie: other=1; %s\r\n", cookie);
    cr_assert_eq(status_of("GET", "/api/v1/sites", hdr, NULL, NULL), 200);
    /* One changed digit is a wrong cookie. */
    cookie[20] = cookie[20] == '0' ? '1' : '0';
    (void)snprintf(hdr, sizeof(hdr), "Cookie: %s\r\n", cookie);
    cr_assert_eq(status_of("GET", "/api/v1/sites", hdr, NULL, NULL), 401);

    cr_assert_eq(hz_httpc_request("127.0.0.1", E.port, "POST", "/logout", NULL, "", 0, &r), 0);
    cr_assert_eq(r.status, 303);
    cr_assert(hz_httpc_header(&r, "Set-Cookie", cookie, sizeof(cookie)));
    cr_assert_not_null(strstr(cookie, "Max-Age=0"));
    hz_httpc_free(&r);
}

Test(dash, privacy_json_is_public_and_complete)
{
    char *b = NULL;
    json_error_t je;
    json_t *j, *never, *stored;
    const char *want_never[] = {"ip_address", "user_agent", "cookies", "visitor_hash"};

    cr_assert_eq(status_of("GET", "/privacy.json", NULL, NULL, &b), 200);
    j = json_loads(b, 0, &je);
    cr_assert_not_null(j, "%s", je.text);
    cr_assert_eq(json_integer_value(json_object_get(j, "retention_days")), 400);
    cr_assert_eq(json_integer_value(json_object_get(j, "min_visitors")), 5);
    stored = json_object_get(j, "stored");
    cr_assert(json_array_size(stored) >= 5);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(stored, 0), "table")),
                     "rows");
    cr_assert_eq(json_array_size(json_object_get(j, "row_fields")), 8);
    never = json_object_get(j, "never_stored");
    for (size_t i = 0; i < sizeof(want_never) / sizeof(want_never[0]); i++) {
        int found = 0;
        for (size_t k = 0; k < json_array_size(never); k++)
            found |= strcmp(json_string_value(json_object_get(json_array_get(never, k), "name")),
                            want_never[i]) == 0;
        cr_assert(found, "%s not listed as never stored", want_never[i]);
    }
    json_decref(j);
    free(b);
}

Test(dash, page_and_assets_with_security_headers)
{
    struct hz_httpc_resp r;
    char h[512], etag[64], hdr[96];

    cr_assert_eq(hz_httpc_request("127.0.0.1", E.port, "GET", "/", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert(hz_httpc_header(&r, "Content-Security-Policy", h, sizeof(h)));
    cr_assert_not_null(strstr(h, "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                 "script-src 'self'; frame-ancestors 'none'"));
    cr_assert(hz_httpc_header(&r, "X-Content-Type-Options", h, sizeof(h)));
    cr_assert_str_eq(h, "nosniff");
    cr_assert(hz_httpc_header(&r, "Referrer-Policy", h, sizeof(h)));
    cr_assert_str_eq(h, "no-referrer");
    cr_assert(hz_httpc_header(&r, "Content-Type", h, sizeof(h)));
    cr_assert_str_eq(h, "text/html; charset=utf-8");
    cr_assert_not_null(strstr(r.body, "<script defer src=\"/app.js\"></script>"));
    cr_assert_not_null(strstr(r.body, "action=\"/login\""));
    cr_assert_null(strstr(r.body, "style="), "no inline style");
    cr_assert(hz_httpc_header(&r, "ETag", etag, sizeof(etag)));
    hz_httpc_free(&r);

    (void)snprintf(hdr, sizeof(hdr), "If-None-Match: %s\r\n", etag);
    cr_assert_eq(status_of("GET", "/", hdr, NULL, NULL), 304);

    cr_assert_eq(hz_httpc_request("127.0.0.1", E.port, "GET", "/app.js", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert(hz_httpc_header(&r, "Content-Type", h, sizeof(h)));
    cr_assert_str_eq(h, "application/javascript; charset=utf-8");
    cr_assert_null(strstr(r.body, "innerHTML"));
    hz_httpc_free(&r);
    cr_assert_eq(status_of("GET", "/app.css", NULL, NULL, NULL), 200);

    cr_assert_eq(hz_httpc_request("127.0.0.1", E.port, "HEAD", "/", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body_len, 0);
    cr_assert(hz_httpc_header(&r, "Content-Length", h, sizeof(h)));
    cr_assert_gt(strtol(h, NULL, 10), 500);
    hz_httpc_free(&r);
}

Test(dash, the_dashboard_never_writes_the_store)
{
    char path[160], *b;
    struct stat after;

    /* Exercise every reader. */
    free(get(200, "/api/v1/stats/aggregate?site_id=" SITE "&period=12mo&metrics=visitors,"
                  "time_on_page_median,events"));
    free(get(200,
             "/api/v1/stats/breakdown?site_id=" SITE "&property=event:page&period=6mo&"
             "date=%s&metrics=visitors,bounce_rate,time_on_page,time_on_page_median,percentage",
             E.d0));
    free(get(200, "/api/v1/paths?site_id=" SITE "&page=/&period=day&date=%s", E.d0));
    free(get(200, "/api/v1/funnels?site_id=" SITE "&period=30d&date=%s", E.d0));
    b = post_v2(200, "{\"site_id\":\"" SITE "\",\"metrics\":[\"visitors\"],\"date_range\":"
                     "\"all\",\"dimensions\":[\"time:month\"]}");
    free(b);
    kill(E.pid, SIGTERM);
    cr_assert_eq(waitpid(E.pid, NULL, 0), E.pid);
    E.pid = 0;
    (void)snprintf(path, sizeof(path), "%s/data.mdb", E.lmdb);
    cr_assert_eq(stat(path, &after), 0);
    cr_assert_eq(after.st_size, E.before.st_size);
    cr_assert_eq(after.st_mtim.tv_sec, E.before.st_mtim.tv_sec);
    cr_assert_eq(after.st_mtim.tv_nsec, E.before.st_mtim.tv_nsec);
    cr_assert_eq(file_digest(path), E.digest, "data.mdb changed");
}

Test(dash, reopens_the_store_after_compaction)
{
    struct hz_err err = {0};
    hz_store *s;
    struct timespec pause = {1, 100 * 1000 * 1000};

    expect_json(get(200, "/api/v1/stats/aggregate?site_id=" SITE "&period=day&date=%s", E.d7),
                "{\"results\":{\"visitors\":{\"value\":8}}}");
    /* Retention up to R-6 deletes R-7 and swaps in a compacted data.mdb. */
    cr_assert_eq(hz_store_open(&s, E.lmdb, 0, 0, &err), 0, "%s", err.msg);
    cr_assert_eq(hz_store_retain(s, E.R - 6, &err), 0, "%s", err.msg);
    hz_store_close(s);
    (void)nanosleep(&pause, NULL); /* the dashboard checks at most once a second */
    expect_json(get(200, "/api/v1/stats/aggregate?site_id=" SITE "&period=day&date=%s", E.d7),
                "{\"results\":{\"visitors\":{\"value\":0}}}");
    expect_json(get(200, "/api/v1/stats/aggregate?site_id=" SITE "&period=day&date=%s", E.d0),
                "{\"results\":{\"visitors\":{\"value\":20}}}");
}

Test(dash, answers_follow_new_data)
{
    struct hz_err err = {0};
    hz_store *s;
    hz_wtxn *t;
    struct hz_counts more = {5, 5, 5, 5, 0, 0, 0, 0};

    /* Twice the same question: the second answer may come from the cache. */
    for (int i = 0; i < 2; i++)
        expect_json(get(200, "/api/v1/stats/aggregate?site_id=" SITE "&period=day&date=%s", E.d0),
                    "{\"results\":{\"visitors\":{\"value\":20}}}");
    /* The aggregator commits more (a new stream position): the answer follows. */
    cr_assert_eq(hz_store_open(&s, E.lmdb, 0, 0, &err), 0, "%s", err.msg);
    cr_assert_eq(hz_store_wbegin(s, &t, 10000, &err), 0, "%s", err.msg);
    cr_assert_eq(hz_store_add(t, SITE, E.R, HZ_DIM_TOTAL, "", 0, &more), 0);
    cr_assert_eq(hz_store_set_position(t, "2-1"), 0);
    cr_assert_eq(hz_store_commit(t, &err), 0, "%s", err.msg);
    hz_store_close(s);
    expect_json(get(200, "/api/v1/stats/aggregate?site_id=" SITE "&period=day&date=%s", E.d0),
                "{\"results\":{\"visitors\":{\"value\":25}}}");
}

/* ================================================================ Plausible's clients (issue 13)
 */

/*
 * Requests written as Plausible's Stats API docs show them (the site id,
 * period and dates are ours), answered over the dataset above.
 */
Test(dash, plausible_v1_requests_as_documented)
{
    /* One parameter set for every endpoint, a cache buster, and the docs'
     * breakdown with limit and page. */
    expect_json(get(200,
                    "/api/v1/stats/aggregate?site_id=" SITE "&period=day&date=%s"
                    "&metrics=visitors,pageviews,events&interval=date&property=visit:source"
                    "&limit=5&page=1&_=1732536000",
                    E.d0),
                "{\"results\":{\"visitors\":{\"value\":20},\"pageviews\":{\"value\":60},"
                "\"events\":{\"value\":69}}}");
    expect_json(get(200,
                    "/api/v1/stats/breakdown?site_id=" SITE "&period=day&date=%s"
                    "&property=visit:browser&metrics=visitors,percentage&limit=1&page=2",
                    E.d0),
                "{\"results\":[{\"browser\":\"Firefox\",\"visitors\":6,\"percentage\":30.0}],"
                "\"folded\":1}");
    /* v1 filters: ';' joins, '|' alternates, "\|" is a literal pipe. */
    expect_json(
        get(200,
            "/api/v1/stats/aggregate?site_id=" SITE "&period=day&date=%s"
            "&filters=visit:browser%%3D%%3DChrome%%7CFirefox%%3Bvisit:browser!%%3DFire%%5C%%7Cfox",
            E.d0),
        "{\"results\":{\"visitors\":{\"value\":18}},\"folded\":1}");
    /* Plausible's spelling of an OS family matches haze's. */
    expect_json(get(200,
                    "/api/v1/stats/breakdown?site_id=" SITE "&period=day&date=%s"
                    "&property=visit:browser&filters=visit:browser%%3D%%3DChrome",
                    E.d0),
                "{\"results\":[{\"browser\":\"Chrome\",\"visitors\":12}],\"folded\":1}");
    /* time_on_page as Plausible: engaged time per visitor of the page; the
     * histogram median under its own name. */
    expect_json(get(200,
                    "/api/v1/stats/breakdown?site_id=" SITE "&period=day&date=%s"
                    "&property=event:page&metrics=visitors,time_on_page,time_on_page_median"
                    "&limit=2",
                    E.d0),
                "{\"results\":[{\"page\":\"/\",\"visitors\":12,\"time_on_page\":17,"
                "\"time_on_page_median\":23},{\"page\":\"/pricing\",\"visitors\":6,"
                "\"time_on_page\":67,\"time_on_page_median\":91}],\"folded\":2}");
    /* A week series: buckets start on Mondays (the first at the range start). */
    {
        char *b = get(200,
                      "/api/v1/stats/timeseries?site_id=" SITE "&period=custom&date=%s,%s"
                      "&interval=week",
                      E.d7, E.d0);
        json_error_t je;
        json_t *j = json_loads(b, 0, &je), *res = json_object_get(j, "results");
        uint64_t sum = 0;
        size_t i;
        json_t *row;
        cr_assert(json_is_array(res));
        cr_assert(json_array_size(res) >= 2 && json_array_size(res) <= 3);
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(res, 0), "date")), E.d7);
        json_array_foreach(res, i, row)
        {
            int32_t day;
            cr_assert_eq(hz_date_parse(json_string_value(json_object_get(row, "date")), &day), 0);
            if (i > 0)
                cr_assert_eq(((day + 3) % 7 + 7) % 7, 0, "week bucket not on a Monday");
            sum += (uint64_t)json_integer_value(json_object_get(row, "visitors"));
        }
        cr_assert_eq(sum, 38); /* 8 + 10 + 20 */
        json_decref(j);
        free(b);
    }
}

Test(dash, plausible_v2_requests_as_documented)
{
    char body[1024], want[2048], a[32], b[32];

    /* The docs' breakdown with percentage, ordered by two keys; the
     * "(other)" row is flagged in meta. */
    (void)snprintf(body, sizeof(body),
                   "{\"site_id\":\"" SITE "\",\"metrics\":[\"visitors\",\"percentage\"],"
                   "\"date_range\":[\"%sT00:00:00+01:00\",\"%sT23:59:59+01:00\"],"
                   "\"dimensions\":[\"visit:browser\"],"
                   "\"order_by\":[[\"visitors\",\"asc\"],[\"visit:browser\",\"asc\"]],"
                   "\"include\":{\"total_rows\":true}}",
                   E.d0, E.d0);
    (void)snprintf(
        want, sizeof(want),
        "{\"results\":[{\"dimensions\":[\"(other)\"],\"metrics\":[2,10.0]},"
        "{\"dimensions\":[\"Firefox\"],\"metrics\":[6,30.0]},"
        "{\"dimensions\":[\"Chrome\"],\"metrics\":[12,60.0]}],"
        "\"meta\":{\"folded_rows\":1,\"min_visitors\":5,\"other_rows\":[0],"
        "\"total_rows\":3},"
        "\"query\":{\"site_id\":\"" SITE "\",\"metrics\":[\"visitors\",\"percentage\"],"
        "\"date_range\":[\"%s\",\"%s\"],\"dimensions\":[\"visit:browser\"],"
        "\"filters\":[],\"order_by\":[[\"visitors\",\"asc\"],[\"visit:browser\",\"asc\"]],"
        "\"include\":{\"imports\":false,\"time_labels\":false,\"total_rows\":true},"
        "\"pagination\":{\"limit\":10000,\"offset\":0}}}",
        iso_dt(a, E.R, 0), iso_dt(b, E.R, 1));
    expect_json(post_v2(200, body), want);

    /* Logical and regular-expression filters over one property. */
    (void)snprintf(body, sizeof(body),
                   "{\"site_id\":\"" SITE "\",\"metrics\":[\"visitors\"],"
                   "\"date_range\":[\"%s\",\"%s\"],\"dimensions\":[\"event:page\"],"
                   "\"filters\":[[\"or\",[[\"matches\",\"event:page\",[\"^/PRI\"],"
                   "{\"case_sensitive\":false}],[\"is\",\"event:page\",[\"/\"]]]],"
                   "[\"not\",[\"contains\",\"event:page\",[\"blog\"]]]]}",
                   E.d0, E.d0);
    {
        char *r = post_v2(200, body);
        cr_assert_not_null(strstr(r, "\"results\":[{\"dimensions\":[\"\\/\"],\"metrics\":[12]},"
                                     "{\"dimensions\":[\"\\/pricing\"],\"metrics\":[6]}],"),
                           "%s", r);
        cr_assert_not_null(strstr(r, "\"filters\":[[\"or\",[[\"matches\",\"event:page\","
                                     "[\"^\\/PRI\"],{\"case_sensitive\":false}],"),
                           "%s", r);
        free(r);
    }

    /* Regions folded into their country are flagged: DE-BY (3) and DE-BE
     * (2) make a DE row of 5. */
    (void)snprintf(body, sizeof(body),
                   "{\"site_id\":\"" SITE "\",\"metrics\":[\"visitors\"],"
                   "\"date_range\":[\"%s\",\"%s\"],\"dimensions\":[\"visit:region\"]}",
                   E.d0, E.d0);
    {
        char *r = post_v2(200, body);
        cr_assert_not_null(strstr(r, "\"results\":[{\"dimensions\":[\"FR-IDF\"],\"metrics\":[7]},"
                                     "{\"dimensions\":[\"US-CA\"],\"metrics\":[6]},"
                                     "{\"dimensions\":[\"DE\"],\"metrics\":[5]},"
                                     "{\"dimensions\":[\"(other)\"],\"metrics\":[2]}],"),
                           "%s", r);
        cr_assert_not_null(strstr(r, "\"other_rows\":[3],\"country_rows_with_regions\":[2]"), "%s",
                           r);
        free(r);
    }

    /* "time" over one day picks hours; time_labels lists every bucket. */
    (void)snprintf(body, sizeof(body),
                   "{\"site_id\":\"" SITE "\",\"metrics\":[\"visitors\"],"
                   "\"date_range\":[\"%s\",\"%s\"],\"dimensions\":[\"time\"],"
                   "\"order_by\":[[\"time\",\"desc\"]],\"include\":{\"time_labels\":true},"
                   "\"pagination\":{\"limit\":1}}",
                   E.d0, E.d0);
    {
        char *r = post_v2(200, body), first[64], last[64];
        (void)snprintf(first, sizeof(first), "\"time_labels\":[\"%s 00:00:00\"", E.d0);
        (void)snprintf(last, sizeof(last), "\"%s 23:00:00\"]", E.d0);
        cr_assert_not_null(strstr(r, first), "%s", r);
        cr_assert_not_null(strstr(r, last), "%s", r);
        /* Newest hour first, one row. */
        (void)snprintf(first, sizeof(first), "\"results\":[{\"dimensions\":[\"%s 23:00:00\"]",
                       E.d0);
        cr_assert_not_null(strstr(r, first), "%s", r);
        cr_assert_not_null(strstr(r, "\"dimensions\":[\"time:hour\"]"), "%s", r);
        free(r);
    }

    /* Hourly data for a metric kept per day only: 400 naming it. */
    expect_json(post_v2(400, "{\"site_id\":\"" SITE "\",\"metrics\":[\"visitors\","
                             "\"bounce_rate\"],\"date_range\":\"day\",\"dimensions\":"
                             "[\"time:hour\"]}"),
                "{\"error\":\"metrics: bounce_rate is not kept per hour (visitors, visits and "
                "pageviews are)\"}");
    /* Unknown site: Plausible's 401. */
    expect_json(post_v2(401, "{\"site_id\":\"nope.example\",\"metrics\":[\"visitors\"],"
                             "\"date_range\":\"7d\"}"),
                "{\"error\":\"" HZ_API_BAD_SITE "\"}");
}
