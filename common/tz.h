/* SPDX-License-Identifier: MIT */
/*
 * tz.h - local days and hours in a site's IANA time zone.
 *
 * A "day number" is the count of local calendar days since 1970-01-01 in
 * the zone; an "hour number" is day * 24 + local hour. Both are what the
 * store keys on, so the aggregator and the dashboard must agree: they both
 * use this module.
 *
 * Zone rules come from the system zoneinfo (TZif, RFC 8536): tz.c reads
 * the file itself, version 2+ with 64-bit transition times, and follows
 * its POSIX TZ footer for times past the table, so daylight saving is
 * followed exactly without libc's process-wide TZ state. Each zone is
 * loaded once, at start (hz_tz_load, before threads), into a table that is
 * only read afterwards: hz_tz_init and the conversions are safe from any
 * thread. A struct hz_tz is a per-caller cursor (it caches one 15-minute
 * slot): give each thread its own.
 */
#ifndef HZ_COMMON_TZ_H
#define HZ_COMMON_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define HZ_TZ_ZONES_MAX 64 /* distinct zones a process loads */

struct hz_tz_zone; /* parsed rules, immutable once loaded */

struct hz_tz {
    char name[64];
    const struct hz_tz_zone *zone; /* NULL: UTC */
    int64_t slot;                  /* cached 15-minute UTC slot, or INT64_MIN */
    long offset;                   /* seconds east of UTC for that slot */
};

/* Loads zone name's rules from the system zoneinfo into the process's
 * table (once; "" and "UTC" need nothing). Call at start, before threads:
 * afterwards the table is only read. Thread-safe anyway (a mutex guards
 * the writers). 0, or HZ_ENOTFOUND / HZ_EINVAL with err->msg. */
int hz_tz_load(const char *name, struct hz_err *err);

/* Parses TZif data (a whole zoneinfo file). For tests and fuzzing; the
 * result is freed with hz_tz_zone_free. 0 or HZ_EINVAL. */
int hz_tz_zone_parse(const unsigned char *buf, size_t len, struct hz_tz_zone **out);
void hz_tz_zone_free(struct hz_tz_zone *z);
/* Offset (seconds east) of zone z at unix time t. */
long hz_tz_zone_offset(const struct hz_tz_zone *z, int64_t t);

/* name "" or "UTC" is UTC. A zone not loaded yet is loaded now (logged:
 * hz_tz_load at start avoids it); one that cannot be read is UTC, with a
 * warning. */
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
