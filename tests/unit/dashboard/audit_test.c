/* SPDX-License-Identifier: MIT */
/*
 * audit_test.c - the access log's line format, appending, daily rotation,
 * retention and reading back by day range and token.
 */
#include "dashboard/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "common/tz.h"

#define DAY0 ((int64_t)hz_days_from_civil(2027, 1, 15))

static char dir[64], path[128];

static void
setup(void)
{
    (void)snprintf(dir, sizeof(dir), "/tmp/haze-audit.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    (void)snprintf(path, sizeof(path), "%s/audit.log", dir);
}

static void
teardown(void)
{
    char cmd[128];
    (void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (strncmp(dir, "/tmp/haze-audit.", 16) == 0)
        cr_expect_eq(system(cmd), 0);
}

TestSuite(audit, .init = setup, .fini = teardown);

static struct hz_audit_entry
entry(int64_t day, int sec, const char *token)
{
    struct hz_audit_entry e = {0};
    e.t_ms = (day * 86400 + sec) * 1000 + 123;
    e.event = "request";
    e.token = token;
    e.client = "192.0.2.7";
    e.method = "GET";
    e.endpoint = "/api/v1/stats/aggregate";
    e.site = "shop.example";
    e.query = "site_id=shop.example&period=7d";
    e.qlen = strlen(e.query);
    e.status = 200;
    e.rows = 3;
    return e;
}

Test(audit, one_json_line_per_entry)
{
    struct hz_audit_entry e = entry(DAY0, 3600 + 62, "alice");
    size_t len;
    char *s = hz_audit_format(&e, &len);

    cr_assert_str_eq(s,
                     "{\"time\":\"2027-01-15T01:01:02.123Z\",\"event\":\"request\","
                     "\"token\":\"alice\",\"client\":\"192.0.2.7\",\"method\":\"GET\","
                     "\"endpoint\":\"\\/api\\/v1\\/stats\\/aggregate\",\"site\":\"shop.example\","
                     "\"query\":\"site_id=shop.example&period=7d\",\"status\":200,\"rows\":3}\n");
    cr_assert_eq(len, strlen(s));
    free(s);

    /* A failed login: no token, a reason; a long query is cut and marked;
     * newlines in it cannot start a second line. */
    {
        char q[3000];
        memset(q, 'a', sizeof(q));
        q[10] = '\n';
        e.event = "login_failed";
        e.token = NULL;
        e.reason = "wrong token";
        e.query = q;
        e.qlen = sizeof(q);
        e.rows = -1;
        s = hz_audit_format(&e, &len);
        cr_assert_eq(strchr(s, '\n'), s + len - 1);
        cr_assert(strstr(s, "\"token\":null") != NULL);
        cr_assert(strstr(s, "\"query_cut\":true") != NULL);
        cr_assert(strstr(s, "\"reason\":\"wrong token\"") != NULL);
        cr_assert_null(strstr(s, "\"rows\""));
        cr_assert_lt(len, HZ_AUDIT_QUERY_MAX + 400);
        free(s);
    }
}

Test(audit, appends_rotates_daily_prunes_and_reads_back)
{
    hz_audit *a;
    struct hz_err err = {0};
    struct hz_audit_entry e;
    char rotated[160];
    struct stat st;
    size_t len;
    char *s;

    cr_assert_eq(hz_audit_open(&a, path, 3, DAY0 * 86400, &err), 0, "%s", err.msg);
    e = entry(DAY0, 10, "alice");
    cr_assert_eq(hz_audit_write(a, &e), 0);
    e = entry(DAY0, 20, "ops");
    cr_assert_eq(hz_audit_write(a, &e), 0);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);

    /* The next day: the file is renamed to its day, a new one begun. */
    e = entry(DAY0 + 1, 5, "alice");
    cr_assert_eq(hz_audit_write(a, &e), 0);
    (void)snprintf(rotated, sizeof(rotated), "%s.2027-01-15", path);
    cr_assert_eq(stat(rotated, &st), 0, "no %s", rotated);

    s = hz_audit_read(a, (int32_t)DAY0, (int32_t)DAY0 + 1, NULL, &len);
    cr_assert_eq(len, strlen(s));
    cr_assert(strncmp(s, "{\"results\":[{\"time\":\"2027-01-15T00:00:10.123Z\"", 46) == 0, "%s", s);
    cr_assert(strstr(s, "2027-01-15T00:00:20.123Z") != NULL);
    cr_assert(strstr(s, "2027-01-16T00:00:05.123Z") != NULL);
    cr_assert(strstr(s, "\"truncated\":false}") != NULL);
    free(s);
    s = hz_audit_read(a, (int32_t)DAY0, (int32_t)DAY0 + 1, "ops", &len);
    cr_assert_null(strstr(s, "alice"));
    cr_assert(strstr(s, "\"token\":\"ops\"") != NULL);
    free(s);
    s = hz_audit_read(a, (int32_t)DAY0 + 1, (int32_t)DAY0 + 1, NULL, &len);
    cr_assert_null(strstr(s, "2027-01-15"));
    free(s);

    /* Four days later (retention 3 days): the 2027-01-15 file is deleted,
     * 2027-01-16 kept. */
    e = entry(DAY0 + 4, 1, "alice");
    cr_assert_eq(hz_audit_write(a, &e), 0);
    cr_assert_neq(stat(rotated, &st), 0, "%s outlived its retention", rotated);
    (void)snprintf(rotated, sizeof(rotated), "%s.2027-01-16", path);
    cr_assert_eq(stat(rotated, &st), 0);
    hz_audit_close(a);
}
