/* SPDX-License-Identifier: MIT */
/*
 * tz_test.c - local day and hour numbers per IANA zone (UTC, Europe/Berlin
 * around both 2026 DST switches, America/New_York, Asia/Kolkata at +5:30),
 * civil-date conversion and YYYY-MM-DD parsing/formatting.
 *
 * Expected values were computed independently with Python's zoneinfo.
 */
#include "common/tz.h"

#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

struct tz_case {
    char zone[32];
    int64_t t;
    long offset;
    int32_t day;
    int32_t hour;
};

/* clang-format off */
static struct tz_case tz_cases[] = {
    /* UTC: the identity, including before the epoch */
    {"UTC", 0, 0, 0, 0},
    {"UTC", 86399, 0, 0, 23},
    {"UTC", 86400, 0, 1, 24},
    {"UTC", -1, 0, -1, -1},
    {"UTC", -86400, 0, -1, -24},
    {"UTC", -86401, 0, -2, -25},
    {"", 1774745999, 0, 20541, 492984},
    {"Etc/UTC", 1774745999, 0, 20541, 492984},
    /* Europe/Berlin, spring forward 2026-03-29 01:00Z: 02:00 CET -> 03:00 CEST */
    {"Europe/Berlin", 1774738799, 3600, 20540, 492983},  /* 03-28 23:59:59 local */
    {"Europe/Berlin", 1774738800, 3600, 20541, 492984},  /* 03-29 00:00:00 local */
    {"Europe/Berlin", 1774745999, 3600, 20541, 492985},  /* 01:59:59 CET */
    {"Europe/Berlin", 1774746000, 7200, 20541, 492987},  /* 03:00:00 CEST: hour 2 skipped */
    /* fall back 2026-10-25 01:00Z: 03:00 CEST -> 02:00 CET, hour 2 twice */
    {"Europe/Berlin", 1792886400, 7200, 20751, 498026},  /* 02:00:00 CEST */
    {"Europe/Berlin", 1792889999, 7200, 20751, 498026},  /* 02:59:59 CEST */
    {"Europe/Berlin", 1792890000, 3600, 20751, 498026},  /* 02:00:00 CET */
    {"Europe/Berlin", 1792893599, 3600, 20751, 498026},  /* 02:59:59 CET */
    {"Europe/Berlin", 1792893600, 3600, 20751, 498027},  /* 03:00:00 CET */
    {"Europe/Berlin", 1767292199, 3600, 20454, 490915},  /* winter */
    /* America/New_York: negative offsets floor correctly */
    {"America/New_York", 1772953199, -18000, 20520, 492481}, /* 03-08 01:59:59 EST */
    {"America/New_York", 1772953200, -14400, 20520, 492483}, /* 03:00:00 EDT */
    {"America/New_York", 1793512799, -14400, 20758, 498193}, /* 11-01 01:59:59 EDT */
    {"America/New_York", 1793512800, -18000, 20758, 498193}, /* 01:00:00 EST */
    {"America/New_York", 1774745999, -14400, 20540, 492980}, /* still 03-28 there */
    {"America/New_York", 1782878399, -14400, 20634, 495239}, /* 06-30 23:59:59 EDT */
    {"America/New_York", 1782878400, -14400, 20635, 495240}, /* 07-01 00:00:00 EDT */
    /* Asia/Kolkata, +5:30 all year: the day turns at 18:30Z */
    {"Asia/Kolkata", 1767292199, 19800, 20454, 490919},  /* 01-01 23:59:59 IST */
    {"Asia/Kolkata", 1767292200, 19800, 20455, 490920},  /* 01-02 00:00:00 IST */
    {"Asia/Kolkata", 1774745999, 19800, 20541, 492990},
    {"Asia/Kolkata", 1774746000, 19800, 20541, 492990},
};
/* clang-format on */

ParameterizedTestParameters(tz, day_and_hour)
{
    return cr_make_param_array(struct tz_case, tz_cases, sizeof(tz_cases) / sizeof(tz_cases[0]));
}

ParameterizedTest(struct tz_case *c, tz, day_and_hour)
{
    struct hz_tz tz;

    hz_tz_init(&tz, c->zone);
    cr_expect_eq(hz_tz_offset(&tz, c->t), c->offset, "%s @%lld: offset %ld", c->zone,
                 (long long)c->t, hz_tz_offset(&tz, c->t));
    cr_expect_eq(hz_tz_day(&tz, c->t), c->day, "%s @%lld: day %d", c->zone, (long long)c->t,
                 hz_tz_day(&tz, c->t));
    cr_expect_eq(hz_tz_hour(&tz, c->t), c->hour, "%s @%lld: hour %d", c->zone, (long long)c->t,
                 hz_tz_hour(&tz, c->t));
}

/* The per-zone cache and the process TZ switch: interleaved zones, and a
 * cached slot revisited after the other zone set TZ, stay right. */
Test(tz, zones_interleave)
{
    struct hz_tz be, ny, in;

    hz_tz_init(&be, "Europe/Berlin");
    hz_tz_init(&ny, "America/New_York");
    hz_tz_init(&in, "Asia/Kolkata");
    for (int round = 0; round < 3; round++) {
        cr_assert_eq(hz_tz_offset(&be, 1774746000), 7200);
        cr_assert_eq(hz_tz_offset(&ny, 1774746000), -14400);
        cr_assert_eq(hz_tz_offset(&in, 1774746000), 19800);
        cr_assert_eq(hz_tz_offset(&be, 1774745999), 3600); /* slot before the switch */
        cr_assert_eq(hz_tz_offset(&ny, 1772953199), -18000);
        cr_assert_eq(hz_tz_day(&in, 1767292200), 20455);
    }
}

/* Walks a whole DST day in Berlin hour by hour: 23 local hours in March,
 * 25 in October, every hour number inside the day. */
Test(tz, dst_days_have_23_and_25_hours)
{
    struct hz_tz be;
    int64_t mar = 1774738800; /* 2026-03-29 00:00 local */
    int64_t oct = 1792879200; /* 2026-10-25 00:00 local */
    int n;

    hz_tz_init(&be, "Europe/Berlin");
    for (n = 0; hz_tz_day(&be, mar + n * 3600) == 20541; n++)
        cr_assert_eq(hz_tz_hour(&be, mar + n * 3600) / 24, 20541);
    cr_assert_eq(n, 23);
    cr_assert_eq(hz_tz_day(&be, oct), 20751);
    cr_assert_eq(hz_tz_day(&be, oct - 1), 20750);
    for (n = 0; hz_tz_day(&be, oct + n * 3600) == 20751; n++)
        ;
    cr_assert_eq(n, 25);
}

/* ---------------------------------------------------------- civil dates */

struct civil_case {
    int y, m, d;
    int32_t day;
};

/* clang-format off */
static struct civil_case civil_cases[] = {
    {1970, 1, 1, 0},
    {1969, 12, 31, -1},
    {2000, 3, 1, 11017},
    {2000, 2, 29, 11016},
    {2026, 1, 1, 20454},
    {2026, 3, 29, 20541},
    {2026, 10, 25, 20751},
    {2024, 2, 29, 19782},
    {2100, 3, 1, 47541},
    {1, 1, 1, -719162},
    {9999, 12, 31, 2932896},
};
/* clang-format on */

ParameterizedTestParameters(tz_civil, known_days)
{
    return cr_make_param_array(struct civil_case, civil_cases,
                               sizeof(civil_cases) / sizeof(civil_cases[0]));
}

ParameterizedTest(struct civil_case *c, tz_civil, known_days)
{
    int y, m, d;

    cr_assert_eq(hz_days_from_civil(c->y, c->m, c->d), c->day, "%04d-%02d-%02d", c->y, c->m, c->d);
    hz_civil_from_days(c->day, &y, &m, &d);
    cr_assert(y == c->y && m == c->m && d == c->d, "%d -> %04d-%02d-%02d", c->day, y, m, d);
}

Test(tz_civil, round_trip_every_day)
{
    int py = 0, pm = 0, pd = 0;

    /* 0001-01-01 .. 9999-12-31, and each day follows the one before */
    for (int32_t day = -719162; day <= 2932896; day++) {
        int y, m, d;
        hz_civil_from_days(day, &y, &m, &d);
        if (hz_days_from_civil(y, m, d) != day)
            cr_assert_fail("day %d -> %04d-%02d-%02d does not come back", day, y, m, d);
        if (day > -719162 &&
            !((y == py && m == pm && d == pd + 1) || (y == py && m == pm + 1 && d == 1) ||
              (y == py + 1 && m == 1 && d == 1 && pm == 12)))
            cr_assert_fail("%04d-%02d-%02d follows %04d-%02d-%02d", y, m, d, py, pm, pd);
        py = y;
        pm = m;
        pd = d;
    }
}

/* ------------------------------------------------------- parse / format */

struct date_case {
    char text[16];
    int32_t day; /* -99999999: rejected */
};

#define BAD (-99999999)

/* clang-format off */
static struct date_case date_cases[] = {
    {"1970-01-01", 0},
    {"2026-02-28", 20512},
    {"2026-03-01", 20513},
    {"2024-02-29", 19782},
    {"2000-02-29", 11016},
    {"2026-12-31", 20818},
    {"9999-12-31", 2932896},
    {"2026-02-29", BAD},
    {"2026-02-30", BAD},
    {"2100-02-29", BAD},
    {"2026-04-31", BAD},
    {"2026-13-01", BAD},
    {"2026-00-10", BAD},
    {"2026-01-00", BAD},
    {"2026-01-32", BAD},
    {"1969-12-31", BAD},
    {"0000-01-01", BAD},
    {"2026-1-01", BAD},
    {"2026-01-1", BAD},
    {"2026/01/01", BAD},
    {"2026-01-011", BAD},
    {"20260101", BAD},
    {" 2026-01-01", BAD},
    {"2026-01-01 ", BAD},
    {"2026-+1-01", BAD},
    {"abcd-01-01", BAD},
    {"", BAD},
};
/* clang-format on */

ParameterizedTestParameters(tz_date, parse)
{
    return cr_make_param_array(struct date_case, date_cases,
                               sizeof(date_cases) / sizeof(date_cases[0]));
}

ParameterizedTest(struct date_case *c, tz_date, parse)
{
    int32_t day = 4242;
    char back[11];

    if (c->day == BAD) {
        cr_assert_eq(hz_date_parse(c->text, &day), -1, "'%s' accepted as %d", c->text, day);
        return;
    }
    cr_assert_eq(hz_date_parse(c->text, &day), 0, "'%s'", c->text);
    cr_assert_eq(day, c->day, "'%s' -> %d", c->text, day);
    hz_date_format(day, back);
    cr_assert_str_eq(back, c->text);
}

Test(tz_date, format_round_trips)
{
    char buf[11];
    int32_t back;

    for (int32_t day = 0; day < 40000; day += 7) {
        hz_date_format(day, buf);
        cr_assert_eq(strlen(buf), 10);
        cr_assert_eq(hz_date_parse(buf, &back), 0, "%s", buf);
        cr_assert_eq(back, day, "%s", buf);
    }
    hz_date_format(20541, buf);
    cr_assert_str_eq(buf, "2026-03-29");
}
