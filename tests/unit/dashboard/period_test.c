/* SPDX-License-Identifier: MIT */
/*
 * period_test.c - period -> local day range math, the reference date, the
 * retention window, and "today" in the site's time zone.
 */
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "common/tz.h"
#include "dashboard/api.h"
#include "dashboard/query.h"
#include "dash_fixture.h"

struct period_case {
    char period[12];
    char date[32]; /* "" = none */
    char from[11];
    char to[11];
};

/* Today is 2026-11-25 (a Wednesday) in every case. */
/* clang-format off */
static struct period_case period_cases[] = {
    { "day",    "",           "2026-11-25", "2026-11-25" },
    { "7d",     "",           "2026-11-19", "2026-11-25" },
    { "28d",    "",           "2026-10-29", "2026-11-25" },
    { "30d",    "",           "2026-10-27", "2026-11-25" },
    { "91d",    "",           "2026-08-27", "2026-11-25" },
    { "month",  "",           "2026-11-01", "2026-11-30" },
    { "6mo",    "",           "2026-06-01", "2026-11-30" },
    { "12mo",   "",           "2025-12-01", "2026-11-30" },
    { "year",   "",           "2026-01-01", "2026-12-31" },
    { "",       "",           "2026-10-27", "2026-11-25" },  /* default 30d */
    { "day",    "2026-03-01", "2026-03-01", "2026-03-01" },
    { "7d",     "2026-03-01", "2026-02-23", "2026-03-01" },
    { "month",  "2024-02-10", "2024-02-01", "2024-02-29" },  /* leap year */
    { "6mo",    "2026-02-10", "2025-09-01", "2026-02-28" },  /* across the year */
    { "12mo",   "2026-01-31", "2025-02-01", "2026-01-31" },
    { "custom", "2026-11-01,2026-11-03", "2026-11-01", "2026-11-03" },
    { "custom", "2026-11-03,2026-11-03", "2026-11-03", "2026-11-03" },
};
/* clang-format on */

ParameterizedTestParameters(period, ranges)
{
    return cr_make_param_array(struct period_case, period_cases,
                               sizeof(period_cases) / sizeof(period_cases[0]));
}

ParameterizedTest(struct period_case *c, period, ranges)
{
    int32_t today, from = 0, to = 0;
    struct hz_err err = {0};
    char f[11], t[11];

    cr_assert_eq(hz_date_parse("2026-11-25", &today), 0);
    cr_assert_eq(hz_query_period(c->period, c->date[0] ? c->date : NULL, today, &from, &to, &err),
                 0, "%s: %s", c->period, err.msg);
    hz_date_format(from, f);
    hz_date_format(to, t);
    cr_assert_str_eq(f, c->from, "%s %s", c->period, c->date);
    cr_assert_str_eq(t, c->to, "%s %s", c->period, c->date);
}

struct period_err {
    char period[12];
    char date[32];
    char msg[64]; /* expected prefix */
};

/* clang-format off */
static struct period_err period_errs[] = {
    { "week",   "",                      "period: expected" },
    { "1d",     "",                      "period: expected" },
    { "custom", "",                      "date: required for period=custom" },
    { "custom", "2026-11-01",            "date: expected YYYY-MM-DD,YYYY-MM-DD" },
    { "custom", "2026-11-05,2026-11-01", "date: the start is after the end" },
    { "custom", "2026-11-01,2026-13-01", "date: expected YYYY-MM-DD,YYYY-MM-DD" },
    { "day",    "2026-02-30",            "date: expected YYYY-MM-DD" },
    { "day",    "26-02-01",              "date: expected YYYY-MM-DD" },
    { "day",    "2026/02/01",            "date: expected YYYY-MM-DD" },
    { "day",    "2026-02-01x",           "date: expected YYYY-MM-DD" },
};
/* clang-format on */

ParameterizedTestParameters(period, errors)
{
    return cr_make_param_array(struct period_err, period_errs,
                               sizeof(period_errs) / sizeof(period_errs[0]));
}

ParameterizedTest(struct period_err *c, period, errors)
{
    int32_t from = -1, to = -1;
    struct hz_err err = {0};

    cr_assert_eq(hz_query_period(c->period, c->date[0] ? c->date : NULL, 20000, &from, &to, &err),
                 HZ_EINVAL);
    cr_assert_eq(strncmp(err.msg, c->msg, strlen(c->msg)), 0, "got '%s'", err.msg);
    cr_assert_null(strchr(err.msg, '\n'));
}

Test(period, retention_window_and_future)
{
    struct hz_err err = {0};
    int32_t today = 20000;

    /* 400 days ending today: the first kept day is today - 399. */
    cr_assert_eq(hz_query_window_start(today, 400), today - 399);
    cr_assert_eq(hz_query_check_range(today - 399, today, today, 400, "period", &err), 0);
    cr_assert_eq(hz_query_check_range(today - 400, today, today, 400, "period", &err), HZ_EINVAL);
    cr_assert_eq(strncmp(err.msg, "period: the range starts before the retention window", 52), 0,
                 "%s", err.msg);
    cr_assert_eq(hz_query_check_range(today, today + HZ_QUERY_FUTURE_MAX, today, 400, "date", &err),
                 0);
    cr_assert_eq(
        hz_query_check_range(today, today + HZ_QUERY_FUTURE_MAX + 1, today, 400, "date", &err),
        HZ_EINVAL);
    cr_assert_eq(strncmp(err.msg, "date: the range ends", 20), 0, "%s", err.msg);
    cr_assert_eq(hz_query_check_range(today, today - 1, today, 400, "date", &err), HZ_EINVAL);
}

Test(period, today_follows_the_site_time_zone)
{
    char d[11];
    /* 2026-11-25 12:00 UTC: already the 26th in Auckland (UTC+13 in November). */
    int64_t noon = dash_utc(2026, 11, 25, 12, 0);
    /* 2026-11-25 02:00 UTC: still the 24th in Los Angeles (UTC-8). */
    int64_t early = dash_utc(2026, 11, 25, 2, 0);
    /* 2026-11-25 23:30 UTC: the 26th in Berlin (UTC+1). */
    int64_t late = dash_utc(2026, 11, 25, 23, 30);

    hz_date_format(hz_api_today("Pacific/Auckland", noon), d);
    cr_assert_str_eq(d, "2026-11-26");
    hz_date_format(hz_api_today("UTC", noon), d);
    cr_assert_str_eq(d, "2026-11-25");
    hz_date_format(hz_api_today("America/Los_Angeles", early), d);
    cr_assert_str_eq(d, "2026-11-24");
    hz_date_format(hz_api_today("Europe/Berlin", late), d);
    cr_assert_str_eq(d, "2026-11-26");
    hz_date_format(hz_api_today("", late), d);
    cr_assert_str_eq(d, "2026-11-25");
}

Test(period, day_period_uses_the_site_today)
{
    struct hz_config cfg;
    struct hz_query q;
    struct hz_err err = {0};
    char d[11];
    int64_t noon = dash_utc(2026, 11, 25, 12, 0);

    dash_fixture(&cfg);
    cr_assert_eq(
        hz_api_parse_v1(HZ_API_AGGREGATE, "site_id=shop.test&period=day", 28, &cfg, noon, &q, &err),
        0, "%s", err.msg);
    hz_date_format(q.from, d);
    cr_assert_str_eq(d, "2026-11-26");
    cr_assert_eq(hz_api_parse_v1(HZ_API_AGGREGATE, "site_id=example.com&period=day", 30, &cfg, noon,
                                 &q, &err),
                 0, "%s", err.msg);
    hz_date_format(q.from, d);
    cr_assert_str_eq(d, "2026-11-25");
}
