/* SPDX-License-Identifier: MIT */
/*
 * tz.c - local day/hour numbers per IANA zone: TZif files read once into
 * an immutable table, converted without libc's TZ state (see tz.h).
 */
#include "common/tz.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/str.h"

#define TZ_DIR      "/usr/share/zoneinfo"
#define TZ_FILE_MAX (1 << 20)
#define TZ_T_MAX    (INT64_C(1) << 40)

/* One end of daylight saving time in a POSIX TZ rule. */
struct tz_when {
    char kind;    /* 'J': Jn (1..365, no Feb 29), 'N': n (0..365), 'M': Mm.w.d */
    int a, b, c;  /* n, or m, w, d */
    int32_t secs; /* local time of day, may be negative or past 24 h */
};

struct tz_rule {
    int32_t std_off, dst_off; /* seconds east of UTC */
    int has_dst;
    struct tz_when start, end;
};

struct hz_tz_zone {
    char name[64];
    int32_t ntrans;
    int64_t *trans; /* transition times, ascending */
    int32_t *offs;  /* offset from each transition on */
    int32_t first;  /* offset before the first transition (type 0) */
    int has_rule;   /* the footer: times past the last transition */
    struct tz_rule rule;
};

/* The process's zones: written under the mutex (at start), read without
 * it (the count is published after the slot is filled). */
static struct hz_tz_zone *tz_zones[HZ_TZ_ZONES_MAX];
static _Atomic int tz_nzones;
static pthread_mutex_t tz_mu = PTHREAD_MUTEX_INITIALIZER;

static int64_t
tz_floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static int
tz_is_utc(const char *name)
{
    return name[0] == '\0' || strcmp(name, "UTC") == 0;
}

/* ------------------------------------------------------------ POSIX TZ */

/* A zone abbreviation: <...> or 3+ letters. Returns the rest, or NULL. */
static const char *
tz_posix_name(const char *p)
{
    const char *s = p;

    if (*p == '<') {
        while (*++p != '>')
            if (*p == '\0')
                return NULL;
        return p - s >= 4 ? p + 1 : NULL;
    }
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
        p++;
    return p - s >= 3 ? p : NULL;
}

/* [+-]h[h[h]][:mm[:ss]] in seconds; maxh bounds the hours. */
static const char *
tz_posix_time(const char *p, int maxh, int32_t *out)
{
    int sign = 1, h = 0, m = 0, sec = 0, n = 0;

    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    while (*p >= '0' && *p <= '9' && n < 3) {
        h = h * 10 + (*p++ - '0');
        n++;
    }
    if (n == 0 || h > maxh)
        return NULL;
    if (*p == ':') {
        if (p[1] < '0' || p[1] > '5' || p[2] < '0' || p[2] > '9')
            return NULL;
        m = (p[1] - '0') * 10 + (p[2] - '0');
        p += 3;
        if (*p == ':') {
            if (p[1] < '0' || p[1] > '5' || p[2] < '0' || p[2] > '9')
                return NULL;
            sec = (p[1] - '0') * 10 + (p[2] - '0');
            p += 3;
        }
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    return p;
}

static const char *
tz_posix_num(const char *p, int lo, int hi, int *out)
{
    int v = 0, n = 0;

    while (*p >= '0' && *p <= '9' && n < 4) {
        v = v * 10 + (*p++ - '0');
        n++;
    }
    if (n == 0 || v < lo || v > hi)
        return NULL;
    *out = v;
    return p;
}

/* Jn, n or Mm.w.d, then an optional /time (default 02:00). */
static const char *
tz_posix_when(const char *p, struct tz_when *w)
{
    memset(w, 0, sizeof(*w));
    if (*p == 'J') {
        w->kind = 'J';
        p = tz_posix_num(p + 1, 1, 365, &w->a);
    } else if (*p == 'M') {
        w->kind = 'M';
        p = tz_posix_num(p + 1, 1, 12, &w->a);
        if (p == NULL || *p != '.' || (p = tz_posix_num(p + 1, 1, 5, &w->b)) == NULL || *p != '.')
            return NULL;
        p = tz_posix_num(p + 1, 0, 6, &w->c);
    } else {
        w->kind = 'N';
        p = tz_posix_num(p, 0, 365, &w->a);
    }
    if (p == NULL)
        return NULL;
    w->secs = 7200;
    if (*p == '/')
        p = tz_posix_time(p + 1, 167, &w->secs);
    return p;
}

/* Parses a TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3". 0 or -1. */
static int
tz_posix_parse(const char *p, struct tz_rule *r)
{
    int32_t off;

    memset(r, 0, sizeof(*r));
    if ((p = tz_posix_name(p)) == NULL || (p = tz_posix_time(p, 24, &off)) == NULL)
        return -1;
    r->std_off = -off; /* POSIX offsets are west of Greenwich */
    if (*p == '\0')
        return 0;
    if ((p = tz_posix_name(p)) == NULL)
        return -1;
    r->has_dst = 1;
    r->dst_off = r->std_off + 3600;
    if (*p != ',' && *p != '\0') {
        if ((p = tz_posix_time(p, 24, &off)) == NULL)
            return -1;
        r->dst_off = -off;
    }
    if (*p == '\0') {
        /* POSIX leaves the default rule to the implementation: the US one. */
        r->start = (struct tz_when){'M', 3, 2, 0, 7200};
        r->end = (struct tz_when){'M', 11, 1, 0, 7200};
        return 0;
    }
    if (*p != ',' || (p = tz_posix_when(p + 1, &r->start)) == NULL || *p != ',' ||
        (p = tz_posix_when(p + 1, &r->end)) == NULL || *p != '\0')
        return -1;
    return 0;
}

static int
tz_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The day number of w in year y. */
static int64_t
tz_when_day(const struct tz_when *w, int y)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t jan1 = hz_days_from_civil(y, 1, 1), first, d;
    int len;

    switch (w->kind) {
    case 'J':
        return jan1 + w->a - 1 + (tz_leap(y) && w->a >= 60);
    case 'N':
        return jan1 + w->a;
    default:
        first = hz_days_from_civil(y, w->a, 1);
        /* 1970-01-01 was a Thursday (4). */
        d = first + (w->c - (int)((first % 7 + 7 + 4) % 7) + 7) % 7 + (int64_t)(w->b - 1) * 7;
        len = mdays[w->a - 1] + (w->a == 2 && tz_leap(y));
        while (d >= first + len)
            d -= 7;
        return d;
    }
}

static long
tz_rule_offset(const struct tz_rule *r, int64_t t)
{
    int y, m, d;
    int64_t start, end;
    int dst;

    if (!r->has_dst)
        return r->std_off;
    /* Far past and future alike (and no overflow below): +-30,000 years. */
    if (t > TZ_T_MAX)
        t = TZ_T_MAX;
    if (t < -TZ_T_MAX)
        t = -TZ_T_MAX;
    hz_civil_from_days((int32_t)tz_floordiv(t + r->std_off, 86400), &y, &m, &d);
    start = tz_when_day(&r->start, y) * 86400 + r->start.secs - r->std_off;
    end = tz_when_day(&r->end, y) * 86400 + r->end.secs - r->dst_off;
    if (start < end)
        dst = t >= start && t < end;
    else
        dst = !(t >= end && t < start); /* southern hemisphere, negative DST */
    return dst ? r->dst_off : r->std_off;
}

/* ------------------------------------------------------------ TZif */

static int64_t
tz_be(const unsigned char *p, int n)
{
    uint64_t v = 0;

    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    if (n == 4)
        return (int32_t)(uint32_t)v;
    return (int64_t)v;
}

void
hz_tz_zone_free(struct hz_tz_zone *z)
{
    if (z == NULL)
        return;
    free(z->trans);
    free(z->offs);
    free(z);
}

int
hz_tz_zone_parse(const unsigned char *buf, size_t len, struct hz_tz_zone **out)
{
    const unsigned char *p = buf, *end = buf + len;
    uint64_t cnt[6]; /* isut, isstd, leap, time, type, char */
    int tsize = 4;
    struct hz_tz_zone *z;

    for (int pass = 0; pass < 2; pass++) {
        size_t body;
        if ((size_t)(end - p) < 44 || memcmp(p, "TZif", 4) != 0)
            return HZ_EINVAL;
        for (int i = 0; i < 6; i++)
            cnt[i] = (uint64_t)(uint32_t)tz_be(p + 20 + 4 * i, 4);
        if (cnt[4] == 0 || cnt[4] > 256 || cnt[3] > 1000000 || cnt[2] > 100000 || cnt[5] > 100000 ||
            cnt[0] > cnt[4] || cnt[1] > cnt[4])
            return HZ_EINVAL;
        body = cnt[3] * (size_t)tsize + cnt[3] + cnt[4] * 6 + cnt[5] +
               cnt[2] * (size_t)(tsize + 4) + cnt[1] + cnt[0];
        if ((size_t)(end - p - 44) < body)
            return HZ_EINVAL;
        if (pass == 0 && p[4] >= '2') {
            /* Version 2+: skip the 32-bit block for the 64-bit one. */
            p += 44 + body;
            tsize = 8;
            continue;
        }
        break;
    }
    p += 44;
    z = calloc(1, sizeof(*z));
    if (z == NULL)
        return HZ_EINVAL;
    z->ntrans = (int32_t)cnt[3];
    z->trans = malloc((cnt[3] + 1) * sizeof(int64_t));
    z->offs = malloc((cnt[3] + 1) * sizeof(int32_t));
    if (z->trans == NULL || z->offs == NULL) {
        hz_tz_zone_free(z);
        return HZ_EINVAL;
    }
    {
        const unsigned char *times = p, *idx = p + cnt[3] * (size_t)tsize;
        const unsigned char *types = idx + cnt[3];
        for (uint64_t i = 0; i < cnt[3]; i++) {
            int64_t ti = tz_be(times + i * (size_t)tsize, tsize);
            if (idx[i] >= cnt[4] || (i > 0 && ti <= z->trans[i - 1])) {
                hz_tz_zone_free(z);
                return HZ_EINVAL;
            }
            z->trans[i] = ti;
            z->offs[i] = (int32_t)tz_be(types + 6 * idx[i], 4);
        }
        for (uint64_t i = 0; i < cnt[4]; i++) {
            int64_t off = tz_be(types + 6 * i, 4);
            if (off < -89999 || off > 93599) { /* RFC 8536: -25:59:59 .. +25:59:59 */
                hz_tz_zone_free(z);
                return HZ_EINVAL;
            }
        }
        z->first = (int32_t)tz_be(types, 4);
        p = types + cnt[4] * 6 + cnt[5] + cnt[2] * (size_t)(tsize + 4) + cnt[1] + cnt[0];
    }
    /* The footer: "\n" TZ string "\n" (version 2+). */
    if (tsize == 8 && p < end && *p == '\n') {
        const unsigned char *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
        char tzs[128];
        if (nl != NULL && nl - p - 1 > 0 && (size_t)(nl - p - 1) < sizeof(tzs)) {
            memcpy(tzs, p + 1, (size_t)(nl - p - 1));
            tzs[nl - p - 1] = '\0';
            if (tz_posix_parse(tzs, &z->rule) != 0) {
                hz_tz_zone_free(z);
                return HZ_EINVAL;
            }
            z->has_rule = 1;
        }
    }
    *out = z;
    return 0;
}

long
hz_tz_zone_offset(const struct hz_tz_zone *z, int64_t t)
{
    int32_t lo = 0, hi;

    if (z == NULL)
        return 0;
    if (z->ntrans == 0 || t < z->trans[0])
        return z->ntrans == 0 && z->has_rule ? tz_rule_offset(&z->rule, t) : z->first;
    if (t >= z->trans[z->ntrans - 1])
        return z->has_rule ? tz_rule_offset(&z->rule, t) : z->offs[z->ntrans - 1];
    /* The last transition at or before t. */
    hi = z->ntrans - 1;
    while (hi - lo > 1) {
        int32_t mid = lo + (hi - lo) / 2;
        if (z->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->offs[lo];
}

/* ------------------------------------------------------------ the table */

static const struct hz_tz_zone *
tz_find(const char *name)
{
    int n = atomic_load_explicit(&tz_nzones, memory_order_acquire);

    for (int i = 0; i < n; i++)
        if (strcmp(tz_zones[i]->name, name) == 0)
            return tz_zones[i];
    return NULL;
}

/* Reads and parses the zone file of name (no "..", not absolute). */
static int
tz_read(const char *name, struct hz_tz_zone **out, struct hz_err *err)
{
    char path[160];
    unsigned char *buf;
    size_t n;
    FILE *f;
    int rc;

    if (name[0] == '/' || strstr(name, "..") != NULL || strlen(name) >= 64)
        return hz_err_set(err, HZ_EINVAL, "time zone %.64s: bad name", name);
    (void)snprintf(path, sizeof(path), "%s/%s", TZ_DIR, name);
    if ((f = fopen(path, "rb")) == NULL)
        return hz_err_set(err, HZ_ENOTFOUND, "time zone %s: %s", name, strerror(errno));
    buf = malloc(TZ_FILE_MAX);
    if (buf == NULL) {
        (void)fclose(f);
        return hz_err_set(err, ENOMEM, "time zone %s: out of memory", name);
    }
    n = fread(buf, 1, TZ_FILE_MAX, f);
    (void)fclose(f);
    rc = hz_tz_zone_parse(buf, n, out);
    free(buf);
    if (rc != 0)
        return hz_err_set(err, HZ_EINVAL, "time zone %s: not a TZif file", name);
    (void)hz_strlcpy((*out)->name, name, sizeof((*out)->name));
    return 0;
}

int
hz_tz_load(const char *name, struct hz_err *err)
{
    struct hz_tz_zone *z;
    int rc = 0, n;

    if (tz_is_utc(name) || tz_find(name) != NULL)
        return 0;
    pthread_mutex_lock(&tz_mu);
    n = atomic_load_explicit(&tz_nzones, memory_order_relaxed);
    if (tz_find(name) != NULL)
        goto done;
    if (n == HZ_TZ_ZONES_MAX) {
        rc = hz_err_set(err, HZ_EINVAL, "time zone %s: more than %d zones", name, HZ_TZ_ZONES_MAX);
        goto done;
    }
    if ((rc = tz_read(name, &z, err)) != 0)
        goto done;
    tz_zones[n] = z;
    atomic_store_explicit(&tz_nzones, n + 1, memory_order_release);
done:
    pthread_mutex_unlock(&tz_mu);
    return rc;
}

void
hz_tz_init(struct hz_tz *tz, const char *name)
{
    struct hz_err err = {0, ""};

    (void)hz_strlcpy(tz->name, tz_is_utc(name) ? "UTC" : name, sizeof(tz->name));
    tz->slot = INT64_MIN;
    tz->offset = 0;
    tz->zone = NULL;
    if (tz_is_utc(name))
        return;
    if ((tz->zone = tz_find(name)) != NULL)
        return;
    if (hz_tz_load(name, &err) != 0) {
        hz_log_warnx("tz: %s; counting in UTC", err.msg);
        return;
    }
    tz->zone = tz_find(name);
}

long
hz_tz_offset(struct hz_tz *tz, int64_t t)
{
    int64_t slot = tz_floordiv(t, 900);

    if (slot == tz->slot)
        return tz->offset;
    tz->offset = tz->zone != NULL ? hz_tz_zone_offset(tz->zone, t) : 0;
    tz->slot = slot;
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
