/* SPDX-License-Identifier: MIT */
/*
 * dash_fixture.h - a config shared by the dashboard's unit tests: two
 * sites in different zones, a funnel, retention 400 days, min_visitors 5.
 */
#ifndef HZ_TESTS_DASH_FIXTURE_H
#define HZ_TESTS_DASH_FIXTURE_H

#include <criterion/criterion.h>

#include "common/cfg.h"
#include "common/tz.h"

static const char dash_fixture_ini[] =
    "[aggregator]\n"
    "lmdb = /tmp/haze-unit-none\n"
    "retention_days = 400\n"
    "[dashboard]\n"
    "token = unit-test-token\n"
    "min_visitors = 5\n"
    "[site example.com]\n"
    "timezone = Europe/Berlin\n"
    "funnel = checkout: /products/* > /cart > /checkout > /thanks\n"
    "[site shop.test]\n"
    "timezone = Pacific/Auckland\n";

/* Loads the fixture config into c; fails the test on error. */
static inline void
dash_fixture(struct hz_config *c)
{
    struct hz_err err = {0};

    cr_assert_eq(hz_cfg_parse_string(c, dash_fixture_ini, "unit.ini", &err), 0, "%s", err.msg);
}

/* Unix time of a UTC civil time. */
static inline int64_t
dash_utc(int y, int mo, int d, int h, int mi)
{
    return (int64_t)hz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

#endif
