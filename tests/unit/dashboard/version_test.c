/* SPDX-License-Identifier: MIT */
/*
 * version_test.c - dashboard/version: the version properties' planning,
 * their rows' parts, the fall back of a small version to its family's
 * "(other)" before "(other)", and the projections an answer shows.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "dashboard/query.h"
#include "dashboard/version.h"

static size_t
vrow(struct hz_qres *r, const char *value, uint64_t v)
{
    size_t i = hz_qres_row(r, value, strlen(value));

    r->rows[i].c.visitors = v;
    r->rows[i].c.visits = v;
    r->rows[i].matched = 1;
    return i;
}

Test(version, plan_takes_a_version_with_its_family_only)
{
    static struct hz_query q;

    memset(&q, 0, sizeof q);
    q.kind = HZ_Q_BREAKDOWN;
    q.prop = HZ_P_BROWSER_VERSION;
    q.nfilters = 1;
    q.filters[0].prop = HZ_P_BROWSER;
    cr_assert_eq(hz_version_plan(&q), 1);
    cr_expect_eq(q.ver, HZ_P_BROWSER_VERSION);
    cr_expect_eq(q.vproj, HZ_VPROJ_BOTH); /* v1: both keys */
    q.v2 = 1;
    cr_assert_eq(hz_version_plan(&q), 1);
    cr_expect_eq(q.vproj, HZ_VPROJ_VERSION);
    q.prop = HZ_P_BROWSER;
    q.prop2 = HZ_P_BROWSER_VERSION;
    q.nfilters = 0;
    cr_assert_eq(hz_version_plan(&q), 1);
    cr_expect_eq(q.vproj, HZ_VPROJ_BOTH);
    q.prop = HZ_P_BROWSER_VERSION;
    q.prop2 = HZ_P_BROWSER;
    cr_assert_eq(hz_version_plan(&q), 1);
    cr_expect_eq(q.vproj, HZ_VPROJ_SWAPPED);
    /* A family filter with the family's own breakdown: no version rows. */
    memset(&q, 0, sizeof q);
    q.kind = HZ_Q_BREAKDOWN;
    q.prop = HZ_P_OS;
    cr_expect_eq(hz_version_plan(&q), 0);
    /* A version filter with a family breakdown; "11.0" compares as "11". */
    q.nfilters = 1;
    q.filters[0].prop = HZ_P_OS_VERSION;
    q.filters[0].nvalues = 1;
    strcpy(q.filters[0].values[0], "11.0");
    cr_assert_eq(hz_version_plan(&q), 1);
    cr_expect_eq(q.vproj, HZ_VPROJ_FAMILY);
    cr_expect_str_eq(q.filters[0].values[0], "11");
    /* Another family, or another property: not ours. */
    memset(&q, 0, sizeof q);
    q.kind = HZ_Q_BREAKDOWN;
    q.prop = HZ_P_BROWSER_VERSION;
    q.prop2 = HZ_P_OS;
    cr_expect_eq(hz_version_plan(&q), 0);
    cr_expect_eq(q.ver, HZ_P_NONE);
    q.prop2 = HZ_P_NONE;
    q.nfilters = 1;
    q.filters[0].prop = HZ_P_COUNTRY;
    cr_expect_eq(hz_version_plan(&q), 0);
}

Test(version, parts_and_parents)
{
    static const char v[] = "Samsung Internet\03726";
    char out[64];
    size_t n;
    const char *p;

    p = hz_version_part(HZ_P_BROWSER, v, sizeof v - 1, &n);
    cr_expect(n == 16 && memcmp(p, "Samsung Internet", n) == 0);
    p = hz_version_part(HZ_P_BROWSER_VERSION, v, sizeof v - 1, &n);
    cr_expect(n == 2 && memcmp(p, "26", n) == 0);
    p = hz_version_part(HZ_P_BROWSER, "(other)", 7, &n);
    cr_expect(n == 7 && memcmp(p, "(other)", n) == 0);
    cr_expect_eq(hz_version_parent(v, sizeof v - 1, out, sizeof out), 24);
    cr_expect_str_eq(out, "Samsung Internet\x1f(other)");
    cr_expect_eq(hz_version_parent(out, strlen(out), out, sizeof out), 0, "already a parent");
    cr_expect_eq(hz_version_parent("(other)", 7, out, sizeof out), 0);
}

/* Small versions move to their family's (other) when it reaches the
 * threshold; the rest fold into (other); then projections sum them. */
Test(version, small_versions_fall_back_to_their_family)
{
    struct hz_qres r;

    hz_qres_init(&r);
    vrow(&r, "Chrome\037131", 9);
    vrow(&r, "Chrome\037130", 3);
    vrow(&r, "Chrome\037109", 2);
    vrow(&r, "Firefox\037133", 5);
    vrow(&r, "Firefox\037128", 1);
    vrow(&r, "Safari\03718", 2);
    cr_assert_eq(hz_query_fold(&r, HZ_P_BROWSER_VERSION, 5), 4);
    long co = hz_qres_find(&r, "Chrome\x1f(other)", 14), o = hz_qres_find(&r, "(other)", 7);
    cr_assert_geq(co, 0);
    cr_expect_eq(r.rows[co].c.visitors, 5);
    cr_expect(r.rows[co].other && !r.rows[co].hidden);
    cr_assert_geq(o, 0);
    cr_expect_eq(r.rows[o].c.visitors, 3, "Firefox 128 and Safari 18");
    long fo = hz_qres_find(&r, "Firefox\x1f(other)", 15);
    cr_expect(fo < 0 || r.rows[fo].hidden, "never made visible");
    for (size_t i = 0; i < r.n; i++)
        r.rows[i].matched = 1;
    hz_version_project(&r, HZ_VPROJ_FAMILY);
    cr_expect_eq(r.rows[hz_qres_find(&r, "Chrome", 6)].c.visitors, 14);
    cr_expect_eq(r.rows[hz_qres_find(&r, "Firefox", 7)].c.visitors, 5);
    cr_expect_eq(r.rows[hz_qres_find(&r, "(other)", 7)].c.visitors, 3);
    cr_expect(!r.rows[hz_qres_find(&r, "Chrome", 6)].other);
    cr_expect_eq(r.n, 3);
    hz_qres_free(&r);
}

Test(version, projections_by_version_and_swapped)
{
    struct hz_qres r;

    hz_qres_init(&r);
    vrow(&r, "Chrome\037131", 9);
    vrow(&r, "Edge\037131", 6);
    size_t hidden = vrow(&r, "Edge\037130", 1);
    r.rows[hidden].hidden = 1;
    size_t unmatched = vrow(&r, "Firefox\037133", 7);
    r.rows[unmatched].matched = 0;
    hz_version_project(&r, HZ_VPROJ_VERSION);
    cr_expect_eq(r.n, 1);
    cr_expect_eq(r.rows[hz_qres_find(&r, "131", 3)].c.visitors, 15);
    hz_qres_free(&r);
    hz_qres_init(&r);
    vrow(&r, "Chrome\037131", 9);
    hz_version_project(&r, HZ_VPROJ_SWAPPED);
    cr_expect_geq(hz_qres_find(&r, "131\037Chrome", 10), 0);
    hz_qres_free(&r);
}
