/* SPDX-License-Identifier: MIT */
/* tz.c - local day/hour numbers per IANA zone, with a per-zone cache. */
#include "common/tz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/str.h"

static char tz_current[64] = "\x01"; /* the TZ last set in the environment */

void
hz_tz_init(struct hz_tz *tz, const char *name)
{
    (void)hz_strlcpy(tz->name, name[0] ? name : "UTC", sizeof(tz->name));
    tz->slot = INT64_MIN;
    tz->offset = 0;
}

static int64_t
tz_floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

long
hz_tz_offset(struct hz_tz *tz, int64_t t)
{
    int64_t slot = tz_floordiv(t, 900);
    struct tm tm;
    time_t tt = (time_t)t;

    if (slot == tz->slot)
        return tz->offset;
    if (strcmp(tz->name, "UTC") == 0) {
        tz->slot = slot;
        tz->offset = 0;
        return 0;
    }
    if (strcmp(tz_current, tz->name) != 0) {
        /* ":" makes glibc read the zone file rather than parse a POSIX TZ. */
        char env[80];
        (void)snprintf(env, sizeof(env), ":%s", tz->name);
        (void)setenv("TZ", env, 1);
        tzset();
        (void)hz_strlcpy(tz_current, tz->name, sizeof(tz_current));
    }
    if (localtime_r(&tt, &tm) == NULL)
        return 0;
    tz->slot = slot;
    tz->offset = tm.tm_gmtoff;
    return tz->offset;
}

int32_t
hz_tz_day(struct hz_tz *tz, int64_t t)
{
    return (int32_t)tz_floordiv(t + hz_tz_offset(tz, t), 86400);
}

int32_t
hz_tz_hour(struct hz_tz *tz, int64_t t)
{
    return (int32_t)tz_floordiv(t + hz_tz_offset(tz, t), 3600);
}

/* Howard Hinnant's civil-date algorithms, in days since 1970-01-01. */
int32_t
hz_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

void
hz_civil_from_days(int32_t z, int *y, int *m, int *d)
{
    z += 719468;
    const int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)yoe + era * 400 + (*m <= 2);
}

int
hz_date_parse(const char *s, int32_t *day)
{
    uint64_t y, m, d;
    int y2, m2, d2;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    if (hz_parse_u64(s, 4, 9999, &y) != 0 || hz_parse_u64(s + 5, 2, 12, &m) != 0 ||
        hz_parse_u64(s + 8, 2, 31, &d) != 0 || y < 1970 || m < 1 || d < 1)
        return -1;
    *day = hz_days_from_civil((int)y, (int)m, (int)d);
    /* Round-trip rejects 2026-02-30. */
    hz_civil_from_days(*day, &y2, &m2, &d2);
    if (y2 != (int)y || m2 != (int)m || d2 != (int)d)
        return -1;
    return 0;
}

void
hz_date_format(int32_t day, char out[11])
{
    int y, m, d;

    hz_civil_from_days(day, &y, &m, &d);
    y = y < 0 ? 0 : y % 10000;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
}
