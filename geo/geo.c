/* SPDX-License-Identifier: MIT */
/*
 * geo.c - IP address -> region over libmaxminddb (1.7.1), read-only.
 *
 * The database is mapped once (MMDB_MODE_MMAP) and never written, so one
 * hz_geo serves every thread. A lookup copies the caller's address into a
 * local sockaddr (to turn IPv4-mapped IPv6 into plain IPv4), asks
 * libmaxminddb for the record, keeps only country.iso_code and
 * subdivisions[0].iso_code, and wipes the local copy before returning:
 * the address is neither stored, logged nor put in an error message
 * (DESIGN.md, privacy rule 1). Values from the file are input too: codes
 * that are not ISO-3166 shaped are dropped rather than repaired.
 *
 * Reading the two codes out of a record (two path walks through its maps)
 * costs more than finding the record, so each thread keeps the codes of
 * the records it read last, keyed by the record's place in the data
 * section (geo_memo). A record there describes a place that many
 * networks share (a city or a region), never one address: the memo holds
 * no address, no part of one and nothing tied to a visitor, only "data
 * record N reads as region R", which the database itself says.
 */
#include "geo/geo.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <maxminddb.h>

struct hz_geo {
    MMDB_s mmdb;
    uint64_t id; /* unique per open (never reused): the memo's owner */
};

static atomic_uint_fast64_t geo_ids;

/* The per-thread memo of data record -> region code: direct-mapped,
 * GEO_MEMO_SLOTS slots (a power of two), for one hz_geo at a time. */
#define GEO_MEMO_SLOTS 256
struct geo_memo_slot {
    uint32_t off1; /* the record's data-section offset + 1; 0: empty */
    char code[HZ_REGION_MAX];
};
static _Thread_local struct {
    uint64_t owner; /* hz_geo.id the slots belong to */
    struct geo_memo_slot slot[GEO_MEMO_SLOTS];
} geo_memo;

/* ------------------------------------------------------------ open/close */

/* Longest part of a path shown in a message: err->msg has room for the
 * reason after it. A longer path keeps its tail, the informative end. */
#define GEO_PATH_SHOWN 100

static const char *
geo_path_shown(const char *path)
{
    size_t n = strlen(path);

    return n > GEO_PATH_SHOWN ? path + (n - GEO_PATH_SHOWN) : path;
}

/* Fills err with "PATH: reason" and returns code. */
static int
geo_fail(struct hz_err *err, int code, const char *path, const char *reason)
{
    const char *shown = geo_path_shown(path);

    return hz_err_set(err, code, "%s%s: %s", shown == path ? "" : "...", shown, reason);
}

/* 1 if the metadata type names a database with the GeoIP2 City or
 * Country schema: GeoIP2-City, GeoLite2-Country, GeoIP2-City-Europe,
 * DBIP-City-Lite, Haze-Test-City, ... */
static int
geo_type_ok(const char *type)
{
    return type != NULL && (strstr(type, "City") != NULL || strstr(type, "Country") != NULL);
}

/* Copies the untrusted database_type into out, printable ASCII only. */
static void
geo_type_printable(char *out, size_t cap, const char *type)
{
    size_t i = 0;

    if (type != NULL)
        for (; type[i] != '\0' && i + 1 < cap; i++) {
            char c = type[i];
            if (c < 0x20 || c >= 0x7f)
                c = '?';
            out[i] = c;
        }
    out[i] = '\0';
}

int
hz_geo_open_flags(hz_geo **out, const char *path, unsigned flags, struct hz_err *err)
{
    char reason[HZ_ERR_MSG], type[48];
    struct stat sb;
    hz_geo *g;
    int status, saved;

    if (path == NULL || path[0] == '\0')
        return hz_err_set(err, HZ_EINVAL, "geo: no database file given");
    /* libmaxminddb would report these as a bare "IO error" (mmap of a
     * directory or of zero bytes), so name them first. */
    if (stat(path, &sb) != 0) {
        saved = errno;
        (void)snprintf(reason, sizeof(reason), "cannot open: %s", strerror(saved));
        return geo_fail(err, saved, path, reason);
    }
    if (S_ISDIR(sb.st_mode))
        return geo_fail(err, EISDIR, path, "cannot open: is a directory");
    if (sb.st_size == 0)
        return geo_fail(err, HZ_EINVAL, path, "empty file, not a MaxMind DB");

    g = calloc(1, sizeof(*g));
    if (g == NULL)
        return geo_fail(err, ENOMEM, path, "out of memory");
    errno = 0;
    status = MMDB_open(path, MMDB_MODE_MMAP, &g->mmdb);
    saved = errno;
    if (status != MMDB_SUCCESS) {
        /* MMDB_open has already released whatever it mapped. */
        free(g);
        if ((status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) && saved != 0) {
            (void)snprintf(reason, sizeof(reason), "cannot open: %s (%s)", MMDB_strerror(status),
                           strerror(saved));
            return geo_fail(err, saved, path, reason);
        }
        (void)snprintf(reason, sizeof(reason), "corrupt or truncated MaxMind DB: %s",
                       MMDB_strerror(status));
        return geo_fail(err, HZ_EINVAL, path, reason);
    }
    if (!(flags & HZ_GEO_ANYTYPE) && !geo_type_ok(g->mmdb.metadata.database_type)) {
        geo_type_printable(type, sizeof(type), g->mmdb.metadata.database_type);
        (void)snprintf(reason, sizeof(reason),
                       "database type '%s' is not a GeoIP2/GeoLite2 City or Country database",
                       type);
        hz_geo_close(g);
        return geo_fail(err, HZ_EINVAL, path, reason);
    }
    g->id = atomic_fetch_add(&geo_ids, 1) + 1;
    *out = g;
    return 0;
}

int
hz_geo_open(hz_geo **out, const char *path, struct hz_err *err)
{
    return hz_geo_open_flags(out, path, 0, err);
}

void
hz_geo_close(hz_geo *g)
{
    if (g == NULL)
        return;
    MMDB_close(&g->mmdb);
    free(g);
}

/* ---------------------------------------------------------------- lookup */

/* A local copy of the address, in the form libmaxminddb resolves best. */
union geo_addr {
    struct sockaddr sa;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
};

/* Copies sa into a, turning IPv4-mapped IPv6 (::ffff:a.b.c.d) into
 * AF_INET: an IPv4-only tree cannot take an IPv6 lookup, and a tree
 * without the ::ffff:0:0/96 alias would miss it. 0, or -1 for a family
 * that has no region. */
static int
geo_addr_copy(union geo_addr *a, const struct sockaddr *sa)
{
    memset(a, 0, sizeof(*a));
    if (sa->sa_family == AF_INET) {
        memcpy(&a->sin, sa, sizeof(a->sin));
        return 0;
    }
    if (sa->sa_family != AF_INET6)
        return -1;
    memcpy(&a->sin6, sa, sizeof(a->sin6));
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6.sin6_addr)) {
        struct in_addr v4;
        memcpy(&v4, &a->sin6.sin6_addr.s6_addr[12], sizeof(v4));
        memset(a, 0, sizeof(*a));
        a->sin.sin_family = AF_INET;
        a->sin.sin_addr = v4;
        explicit_bzero(&v4, sizeof(v4));
    }
    return 0;
}

/* Fetches the UTF-8 string at the path into buf (cap bytes with NUL).
 * Returns its length, or -1 when it is missing, not a string, too long,
 * or the record is damaged. */
static int
geo_string(MMDB_entry_s *entry, char *buf, size_t cap, const char *k1, const char *k2,
           const char *k3)
{
    MMDB_entry_data_s data;
    int status;

    memset(&data, 0, sizeof(data));
    if (k3 != NULL)
        status = MMDB_get_value(entry, &data, k1, k2, k3, NULL);
    else
        status = MMDB_get_value(entry, &data, k1, k2, NULL);
    if (status != MMDB_SUCCESS || !data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING ||
        data.data_size >= cap)
        return -1;
    memcpy(buf, data.utf8_string, data.data_size);
    buf[data.data_size] = '\0';
    return (int)data.data_size;
}

/* ISO 3166-1 alpha-2: two uppercase ASCII letters. */
static int
geo_country_ok(const char *s, int n)
{
    return n == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

/* The ISO 3166-2 part after the dash: 1-3 uppercase letters or digits
 * ("BY", "E", "13", and old numeric codes such as CN-22). */
static int
geo_subdivision_ok(const char *s, int n)
{
    if (n < 1 || n > 3)
        return 0;
    for (int i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return 0;
    return 1;
}

/* The region code of the record at entry (the two ISO codes, checked). */
static void
geo_region(MMDB_entry_s *entry, struct hz_region *out)
{
    char cc[8], sub[8];
    int ncc, nsub;

    ncc = geo_string(entry, cc, sizeof(cc), "country", "iso_code", NULL);
    if (!geo_country_ok(cc, ncc))
        return;
    memcpy(out->code, cc, 2);
    nsub = geo_string(entry, sub, sizeof(sub), "subdivisions", "0", "iso_code");
    if (geo_subdivision_ok(sub, nsub)) {
        out->code[2] = '-';
        memcpy(out->code + 3, sub, (size_t)nsub); /* 2 + 1 + 3 + NUL fits */
    }
}

/* geo_region through this thread's memo of g's records. */
static void
geo_region_memo(const hz_geo *g, MMDB_entry_s *entry, struct hz_region *out)
{
    struct geo_memo_slot *s;
    uint32_t off1 = entry->offset + 1;

    if (g->id == 0 || off1 == 0) {
        geo_region(entry, out);
        return;
    }
    if (geo_memo.owner != g->id) {
        memset(geo_memo.slot, 0, sizeof(geo_memo.slot));
        geo_memo.owner = g->id;
    }
    s = &geo_memo.slot[(off1 * 2654435761u) >> 24 & (GEO_MEMO_SLOTS - 1)];
    if (s->off1 == off1) {
        memcpy(out->code, s->code, sizeof(out->code));
        return;
    }
    geo_region(entry, out);
    s->off1 = off1;
    memcpy(s->code, out->code, sizeof(s->code));
}

int
hz_geo_lookup(const hz_geo *g, const struct sockaddr *sa, struct hz_region *out)
{
    union geo_addr a;
    MMDB_lookup_result_s res;
    int mmdb_error = MMDB_SUCCESS;

    memset(out, 0, sizeof(*out));
    if (g == NULL || sa == NULL || geo_addr_copy(&a, sa) != 0)
        return 0;
    res = MMDB_lookup_sockaddr(&g->mmdb, &a.sa, &mmdb_error);
    explicit_bzero(&a, sizeof(a));
    /* Unknown, reserved, or a corrupt tree: all simply "no region". */
    if (mmdb_error == MMDB_SUCCESS && res.found_entry)
        geo_region_memo(g, &res.entry, out);

    /* netmask and offsets in res say where in the tree the address fell. */
    explicit_bzero(&res, sizeof(res));
    return 0;
}
