/* SPDX-License-Identifier: MIT */
/*
 * tz.h - local days and hours in a site's IANA time zone.
 *
 * A "day number" is the count of local calendar days since 1970-01-01 in
 * the zone; an "hour number" is day * 24 + local hour. Both are what the
 * store keys on, so the aggregator and the dashboard must agree: they both
 * use this module. Offsets come from the system zoneinfo via localtime_r
 * with TZ switched, cached per 15-minute slot, so daylight saving is
 * followed exactly. Not thread-safe (TZ is process state): the aggregator
 * and the dashboard call it from one thread.
 */
#ifndef HZ_COMMON_TZ_H
#define HZ_COMMON_TZ_H

#include <stdint.h>

struct hz_tz {
    char name[64];
    int64_t slot;   /* cached 15-minute UTC slot, or INT64_MIN */
    long offset;    /* seconds east of UTC for that slot */
};

/* name "" or "UTC" is UTC. The name was validated by the config. */
void hz_tz_init(struct hz_tz *tz, const char *name);

/* Offset from UTC, in seconds, at unix time t (seconds). */
long hz_tz_offset(struct hz_tz *tz, int64_t t);

/* Local day number and hour number of unix time t. */
int32_t hz_tz_day(struct hz_tz *tz, int64_t t);
int32_t hz_tz_hour(struct hz_tz *tz, int64_t t);

/* Civil date <-> day number (proleptic Gregorian, no zone involved). */
int32_t hz_days_from_civil(int y, int m, int d);
void hz_civil_from_days(int32_t days, int *y, int *m, int *d);

/* Parses "YYYY-MM-DD" (exactly 10 bytes) into a day number. 0 or -1. */
int hz_date_parse(const char *s, int32_t *day);
/* Formats a day number as "YYYY-MM-DD" into out (11 bytes). */
void hz_date_format(int32_t day, char out[11]);

#endif
