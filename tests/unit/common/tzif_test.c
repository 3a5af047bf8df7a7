/* SPDX-License-Identifier: MIT */
/*
 * tzif_test.c - tz.c's own zone rules: the TZif reader and its POSIX TZ
 * footer against glibc's localtime_r over 1970-2200 for zones of every
 * shape (north, south, negative DST, half hours, no DST, rule changes),
 * conversions from two threads with two zones at once, and no process
 * state touched (TZ stays as it was).
 */
#include "common/tz.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

static const char *const zones[] = {
    "Europe/Berlin",       "America/New_York", "Australia/Sydney",  "Europe/Dublin",
    "Asia/Kolkata",        "America/St_Johns", "Pacific/Chatham",   "America/Santiago",
    "Africa/Casablanca",   "Asia/Tokyo",       "America/Sao_Paulo", "Europe/London",
    "Australia/Lord_Howe", "Pacific/Auckland", "America/Havana",    "Asia/Tehran",
};

/* glibc's offset at t in zone (TZ switched: this test is single-threaded). */
static long
libc_offset(const char *zone, int64_t t)
{
    char env[80];
    struct tm tm;
    time_t tt = (time_t)t;

    (void)snprintf(env, sizeof(env), ":%s", zone);
    setenv("TZ", env, 1);
    tzset();
    cr_assert_not_null(localtime_r(&tt, &tm));
    return tm.tm_gmtoff;
}

/* Every zone, every ~5 days and around every hour of the DST switches
 * glibc knows, agrees with glibc from 1970 to 2200 (the table ends in
 * 2037 for most: later years come from the footer rule). */
Test(tzif, agrees_with_glibc)
{
    struct hz_err e = {0, ""};

    for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
        struct hz_tz tz;
        long prev = 0;
        cr_assert_eq(hz_tz_load(zones[z], &e), 0, "%s", e.msg);
        hz_tz_init(&tz, zones[z]);
        for (int64_t t = 0; t < 7258118400LL; t += 5 * 86400 + 3607) {
            long want = libc_offset(zones[z], t);
            cr_assert_eq(hz_tz_offset(&tz, t), want, "%s at %lld: %ld, glibc %ld", zones[z],
                         (long long)t, hz_tz_offset(&tz, t), want);
            if (t > 0 && want != prev) {
                /* A switch in the last step: find it to the second. */
                int64_t lo = t - (5 * 86400 + 3607), hi = t;
                while (hi - lo > 1) {
                    int64_t mid = lo + (hi - lo) / 2;
                    if (libc_offset(zones[z], mid) == prev)
                        lo = mid;
                    else
                        hi = mid;
                }
                cr_assert_eq(hz_tz_zone_offset(tz.zone, lo), prev, "%s at %lld", zones[z],
                             (long long)lo);
                cr_assert_eq(hz_tz_zone_offset(tz.zone, hi), want, "%s at %lld", zones[z],
                             (long long)hi);
            }
            prev = want;
        }
    }
    unsetenv("TZ");
}

/* Past the table: 2150 in Berlin and Sydney from the footer alone. */
Test(tzif, footer_rule_past_the_table)
{
    struct hz_tz be, sy;

    hz_tz_init(&be, "Europe/Berlin");
    hz_tz_init(&sy, "Australia/Sydney");
    cr_assert_eq(hz_tz_offset(&be, 5695286400LL), 7200);  /* 2150-06-25 */
    cr_assert_eq(hz_tz_offset(&be, 5679475200LL), 3600);  /* 2149-12-25 */
    cr_assert_eq(hz_tz_offset(&sy, 5695286400LL), 36000); /* southern winter */
    cr_assert_eq(hz_tz_offset(&sy, 5679475200LL), 39600); /* southern summer */
}

/* A hand-made version-2 file with no transitions and only a footer, and
 * broken files refused. */
Test(tzif, parse_minimal_and_broken)
{
    unsigned char f[256];
    size_t n = 0;
    struct hz_tz_zone *z = NULL;
    static const char foot[] = "\n<+1030>-10:30<+11>-11,M10.1.0,M4.1.0\n";

    memset(f, 0, sizeof(f));
    for (int pass = 0; pass < 2; pass++) {
        memcpy(f + n, "TZif2", 5);
        f[n + 20 + 4 * 4 + 3] = 1; /* typecnt 1 */
        f[n + 20 + 5 * 4 + 3] = 4; /* charcnt 4 */
        n += 44;
        /* one type: +10:30, not DST, abbreviation 0 */
        f[n + 1] = 0;
        f[n + 2] = 0x93;
        f[n + 3] = 0xa8;
        n += 6;
        memcpy(f + n, "XYZ", 4);
        n += 4;
    }
    memcpy(f + n, foot, sizeof(foot) - 1);
    n += sizeof(foot) - 1;
    cr_assert_eq(hz_tz_zone_parse(f, n, &z), 0);
    cr_assert_eq(hz_tz_zone_offset(z, 1782864000), 37800); /* 2026-07-01: standard */
    cr_assert_eq(hz_tz_zone_offset(z, 1767225600), 39600); /* 2026-01-01: +11 */
    hz_tz_zone_free(z);
    for (size_t cut = 0; cut < 100; cut += 7)
        cr_assert_eq(hz_tz_zone_parse(f, cut, &z), HZ_EINVAL, "cut at %zu", cut);
    f[0] = 'X';
    cr_assert_eq(hz_tz_zone_parse(f, n, &z), HZ_EINVAL);
}

Test(tzif, unknown_zone_is_an_error)
{
    struct hz_err e = {0, ""};

    cr_assert_neq(hz_tz_load("Mars/Olympus_Mons", &e), 0);
    cr_assert_neq(hz_tz_load("../etc/passwd", &e), 0);
    cr_assert_eq(hz_tz_load("UTC", &e), 0);
}

/* ------------------------------------------------------------ threads */

struct tz_worker {
    const char *zone;
    int64_t t[4];
    long want[4];
    int bad;
};

static void *
tz_thread(void *arg)
{
    struct tz_worker *w = arg;
    struct hz_tz tz;

    for (int round = 0; round < 20000; round++) {
        hz_tz_init(&tz, w->zone); /* a fresh cursor each time: no cache */
        for (int i = 0; i < 4; i++)
            if (hz_tz_offset(&tz, w->t[i] + (round % 7) * 60) != w->want[i])
                w->bad++;
    }
    return NULL;
}

/* Two threads, two zones, at once: every answer right, TZ untouched. */
Test(tzif, two_threads_two_zones)
{
    struct hz_err e = {0, ""};
    struct tz_worker be = {"Europe/Berlin",
                           {1774745999 - 600, 1774746000, 1792889999 - 600, 1792893600},
                           {3600, 7200, 7200, 3600},
                           0};
    struct tz_worker sy = {"Australia/Sydney",
                           {1775318400 - 600, 1775318400, 1791043200 - 600, 1791043200},
                           {39600, 36000, 36000, 39600},
                           0};
    pthread_t a, b;

    setenv("TZ", "Pacific/Honolulu", 1);
    cr_assert_eq(hz_tz_load(be.zone, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_tz_load(sy.zone, &e), 0, "%s", e.msg);
    cr_assert_eq(pthread_create(&a, NULL, tz_thread, &be), 0);
    cr_assert_eq(pthread_create(&b, NULL, tz_thread, &sy), 0);
    (void)pthread_join(a, NULL);
    (void)pthread_join(b, NULL);
    cr_assert_eq(be.bad, 0, "%d wrong Berlin answers", be.bad);
    cr_assert_eq(sy.bad, 0, "%d wrong Sydney answers", sy.bad);
    cr_assert_str_eq(getenv("TZ"), "Pacific/Honolulu", "tz.c changed TZ");
    unsetenv("TZ");
}
