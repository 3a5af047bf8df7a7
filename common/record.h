/* SPDX-License-Identifier: MIT */
/*
 * record.h - the stream record: one accepted hit as the collector XADDs it
 * and the aggregator reads it back. The only definition of the field names.
 *
 * Privacy: a record holds no IP address and no user agent, only what
 * DESIGN.md allows (region, families, scrubbed page, source) and the daily
 * visitor hash, which lives in Redis alone and never reaches LMDB.
 *
 * Wire form: the fields of one XADD entry, in this order, as name/value
 * pairs (absent optional values are omitted):
 *
 *   v   "1"                        format version
 *   t   ms since the epoch (UTC)   time of the hit at the collector
 *   k   kind: "pv" pageview | "en" engagement | "ev" custom event | "dr" drops
 *   s   site (config name)
 *   p   scrubbed page path ("/products/:id"), starts with '/'
 *   n   custom event name (k=ev), or drop reason (k=dr)
 *   src source (referrer host or utm_source/ref), optional
 *   um  utm_medium, optional      uc  utm_campaign, optional
 *   rg  region "CC-SUB" / "CC", optional
 *   b   browser family    o  os family    dv  device class
 *   ms  engaged milliseconds (k=en); drop count (k=dr)
 *   px  "1" when the hit came from the pixel (no engagement will follow)
 *   vh  visitor hash, 16 lowercase hex (today's salt)
 *   vp  visitor hash with yesterday's salt (only around UTC midnight)
 *   u   hit id, 16 lowercase hex, random per hit (not per visitor): lets a
 *       collector tell after a Redis outage whether an entry whose XADD
 *       got no reply reached the stream, so replay adds it exactly once
 *   pr  custom props kept by the site's allow-list (k=ev, k=pv), optional:
 *       "name\x1fvalue" pairs joined by "\x1e" (text never holds control
 *       characters), at most HZ_RECORD_PROPS_MAX, names and values scrubbed
 *   pd  props dropped (not allow-listed), a count (k=ev, k=pv), optional
 *   ni  "1" for a custom event sent with interactive: false (k=ev)
 *   uo  utm_content, optional     ut  utm_term, optional
 *   rf  referrer host (another site's; never the path), optional
 *   hn  the page's host name (the site or an alias; k=pv, k=ev), optional
 *   sd  scroll depth 0..100 (k=en), optional
 *   bv  the browser's major version ("131"), optional
 *   ov  the os's major version ("18", "10", "11", "XP"), optional: bv and ov
 *       are 1 to HZ_MAJOR_MAX - 1 letters, digits and inner single spaces,
 *       never a full version string
 *
 * Entries written before pr, pd, ni, sd, uo, ut, rf, hn, bv and ov existed decode unchanged (each
 * is optional); an aggregator older than them refuses entries that carry
 * them (unknown field), so aggregators are upgraded first.
 *
 * Data read from Redis is input: hz_record_decode validates every field.
 */
#ifndef HZ_COMMON_RECORD_H
#define HZ_COMMON_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define HZ_PAGE_MAX             256 /* scrubbed path, with NUL */
#define HZ_VALUE_MAX            128 /* source, utm values, event names */
#define HZ_HOST_MAX             128
#define HZ_REGION_MAX           8  /* "CC-SSS" + NUL */
#define HZ_FAMILY_MAX           24 /* "Samsung Internet" */
#define HZ_VHASH_LEN            16 /* hex digits */
#define HZ_MAJOR_MAX            12 /* a major version, with NUL (collector/ua.h) */
#define HZ_RECORD_FIELDS        28
#define HZ_RECORD_PROPS_MAX     8  /* props kept per hit (the allow-list's size) */
#define HZ_PROP_NAME_MAX        64 /* a prop name, with NUL */
#define HZ_RECORD_PROPS_ENC_MAX (HZ_RECORD_PROPS_MAX * (HZ_PROP_NAME_MAX + HZ_VALUE_MAX))

enum hz_kind { HZ_KIND_PAGEVIEW = 1, HZ_KIND_ENGAGEMENT, HZ_KIND_EVENT, HZ_KIND_DROPS };

struct hz_record {
    uint64_t t_ms;
    enum hz_kind kind;
    char site[HZ_HOST_MAX];
    char page[HZ_PAGE_MAX];
    char name[HZ_VALUE_MAX]; /* event name or drop reason */
    char source[HZ_VALUE_MAX];
    char utm_medium[HZ_VALUE_MAX];
    char utm_campaign[HZ_VALUE_MAX];
    char region[HZ_REGION_MAX];
    char browser[HZ_FAMILY_MAX];
    char os[HZ_FAMILY_MAX];
    char device[HZ_FAMILY_MAX];
    uint64_t ms; /* engaged ms, or drop count */
    int pixel;
    char vh[HZ_VHASH_LEN + 1];
    char vp[HZ_VHASH_LEN + 1];           /* "" when absent */
    char id[HZ_VHASH_LEN + 1];           /* hit id; "" when absent */
    char props[HZ_RECORD_PROPS_ENC_MAX]; /* "pr" as encoded; "" when none */
    uint64_t props_dropped;              /* "pd" */
    int noninteractive;                  /* "ni" */
    int has_scroll;                      /* "sd" given (k=en) */
    char utm_content[HZ_VALUE_MAX];      /* "uo" */
    char utm_term[HZ_VALUE_MAX];         /* "ut" */
    char referrer[HZ_HOST_MAX];          /* "rf" */
    char hostname[HZ_HOST_MAX];          /* "hn" */
    int scroll_depth;                    /* "sd": 0..100 */
    char browser_version[HZ_MAJOR_MAX];  /* "bv": major only; "" unknown */
    char os_version[HZ_MAJOR_MAX];       /* "ov": major only; "" unknown */
};

/* Appends prop (name, value) to r->props. 0, or HZ_EINVAL (bad text, empty
 * name, a name or value over its cap, or the record already full). */
int hz_record_prop_add(struct hz_record *r, const char *name, size_t nlen, const char *value,
                       size_t vlen);
/* Iterates r->props: *pos starts at 0; fills name/value (pointers into
 * r->props, not NUL-terminated) and returns 1, or 0 at the end. */
int hz_record_prop_next(const struct hz_record *r, size_t *pos, const char **name, size_t *nlen,
                        const char **value, size_t *vlen);

/* One field as a (pointer, length) pair; pointers borrow the record. */
struct hz_field {
    const char *name;
    const char *val;
    size_t vlen;
};

/* Lays out r as XADD field/value pairs into out (HZ_RECORD_FIELDS at most),
 * numbers formatted into numbuf (64 bytes). Returns the number of pairs.
 * Pointers borrow r and numbuf. */
int hz_record_fields(const struct hz_record *r, struct hz_field *out, char numbuf[64]);

/* Validates and decodes nfields name/value pairs (names[i], vals[i] with
 * lengths). 0 or HZ_EINVAL with a short reason (the field name) in err;
 * on error *out is left untouched. */
int hz_record_decode(const char *const *names, const size_t *nlens, const char *const *vals,
                     const size_t *vlens, int nfields, struct hz_record *out, struct hz_err *err);

const char *hz_kind_name(enum hz_kind k);

#endif
