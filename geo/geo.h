/* SPDX-License-Identifier: MIT */
/*
 * geo.h - IP address -> region ("CN-JS") over a MaxMind DB, read-only.
 *
 * The address is looked up and forgotten: nothing here stores, logs or
 * copies it (DESIGN.md, privacy rule 1). GeoIP2/GeoLite2 City and Country
 * schema: country.iso_code and subdivisions[0].iso_code.
 */
#ifndef HZ_GEO_GEO_H
#define HZ_GEO_GEO_H

#include <sys/socket.h>

#include "common/err.h"
#include "common/record.h"

typedef struct hz_geo hz_geo; /* one per process; immutable after open; thread-safe */

struct hz_region {
    char code[HZ_REGION_MAX]; /* "CC-SUB", "CC", or "" if unknown */
};

/* Opens path with MMDB_MODE_MMAP and checks it is a usable City/Country
 * database. 0, or HZ_EINVAL/errno with err->msg naming the file and why
 * (missing, truncated, corrupt, not a GeoIP2 database). On error *out is
 * left untouched. The database_type must contain "City" or "Country"
 * (GeoIP2-City, GeoLite2-Country, haze's own Haze-Test-City, ...). */
int hz_geo_open(hz_geo **out, const char *path, struct hz_err *err);

/* Flags for hz_geo_open_flags. */
#define HZ_GEO_ANYTYPE 0x1 /* skip the database_type check (tests, foreign DBs) */

/* hz_geo_open with flags (0 or HZ_GEO_ANYTYPE). With HZ_GEO_ANYTYPE any
 * MaxMind DB opens; lookups in a database without the GeoIP2 schema
 * simply yield "". */
int hz_geo_open_flags(hz_geo **out, const char *path, unsigned flags, struct hz_err *err);
/* NULL is a no-op. */
void hz_geo_close(hz_geo *g);
/* Never fails on odd input: an unknown or reserved address, or a lookup
 * error in a damaged record, yields code "". Accepts AF_INET, AF_INET6 and
 * IPv4-mapped IPv6. Returns 0. */
int hz_geo_lookup(const hz_geo *g, const struct sockaddr *sa, struct hz_region *out);

#endif
