/* SPDX-License-Identifier: MIT */
/*
 * record.h - the stream record: one accepted hit as the collector XADDs it
 * and the aggregator reads it back. The only definition of the field names.
 *
 * Privacy: a record holds no IP address and no user agent, only what
 * DESIGN.md allows (region, families, scrubbed page, source) and the daily
 * visitor hash, which lives in Redis alone and never reaches LMDB.
 *
 * Wire forms. Each is read; the collector writes the compact one, and a
 * batch of them when a loop turn has several hits.
 *
 * Compact (format 2): one field per XADD entry, named "r" (HZ_RECORD_KEY),
 * whose value is a version byte 0x02 followed by the fields present as
 *   tag (1 byte) | length (1 byte < 0x80, or 2 bytes: low 7 bits | 0x80,
 *   then the rest, 1..0x7f) | value (length bytes, length >= 1)
 * in strictly increasing tag order, each value in the same text form as
 * below (numbers in decimal without leading zeros). The encoding is
 * canonical: a record has exactly one. Tags are the field numbers below
 * (never reused). With one field name per entry Redis stores no field
 * names per entry at all (its listpacks share the master entry's).
 *
 * Batch (format 3): several records in one entry, in the same one field
 * "r", whose value is a version byte 0x03 followed by, for each record,
 *   length (1 byte < 0x80, or 2 bytes as above) | a compact record (format
 *   2, from its version byte 0x02 on)
 * with 2 to HZ_RECORD_BATCH_MAX records and nothing after the last. It is
 * canonical too: one record alone is written in format 2, never as a batch
 * of one. The collector puts the hits of one loop turn in one batch (one
 * XADD; at most HZ_RECORD_BATCH_MAX records and about
 * HZ_RECORD_BATCH_BYTES). A batch whose framing is damaged is rejected
 * whole, with a reason; inside a sound one each record is decoded (and
 * refused) on its own. hz_record_each walks an entry's records in any form.
 *
 * Multi-field (format 1, written before the compact form existed): the
 * fields of one XADD entry, in this order, as name/value pairs (absent
 * optional values are omitted); "v" is "1". hz_record_fields lays a record
 * out this way (the spool and tests still use it).
 *
 *   tag name
 *    -  v   "1"                        format version (format 1 only)
 *    1  t   ms since the epoch (UTC)   time of the hit at the collector
 *    2  k   kind: "pv" pageview | "en" engagement | "ev" custom event | "dr" drops
 *    3  s   site (config name)
 *    4  p   scrubbed page path ("/products/:id"), starts with '/'
 *    5  n   custom event name (k=ev), or drop reason (k=dr)
 *    6  src source (referrer host or utm_source/ref), optional
 *    7  um  utm_medium, optional      8 uc  utm_campaign, optional
 *    9  rg  region "CC-SUB" / "CC", optional
 *   10  b   browser family   11 o  os family   12 dv  device class
 *   13  ms  engaged milliseconds (k=en); drop count (k=dr)
 *   14  px  "1" when the hit came from the pixel (no engagement will follow)
 *   15  vh  visitor hash, 16 lowercase hex (today's salt)
 *   16  vp  visitor hash with yesterday's salt (only around UTC midnight)
 *   17  u   hit id, 16 lowercase hex, random per hit (not per visitor): lets a
 *           collector tell after a Redis outage whether an entry whose XADD
 *           got no reply reached the stream, so replay adds it exactly once
 *   18  pr  custom props kept by the site's allow-list (k=ev, k=pv), optional:
 *           "name\x1fvalue" pairs joined by "\x1e" (text never holds control
 *           characters), at most HZ_RECORD_PROPS_MAX, names and values scrubbed
 *   19  pd  props dropped (not allow-listed), a count (k=ev, k=pv), optional
 *   20  ni  "1" for a custom event sent with interactive: false (k=ev)
 *   21  sd  scroll depth 0..100 (k=en), optional
 *   22  uo  utm_content, optional     23 ut  utm_term, optional
 *   24  rf  referrer host (another site's; never the path), optional
 *   25  hn  the page's host name (the site or an alias; k=pv, k=ev), optional
 *   26  bv  the browser's major version ("131"), optional
 *   27  ov  the os's major version ("18", "10", "11", "XP"), optional: bv and ov
 *           are 1 to HZ_MAJOR_MAX - 1 letters, digits and inner single spaces,
 *           never a full version string
 *
 * A new field is one row in record.c's table (rec_fields: its tag, name,
 * type, the kinds it may or must appear with, where it lives in struct
 * hz_record) plus its member here. Every member of struct hz_record
 * belongs to a row (has_scroll goes with sd): the decoder writes each
 * member, not the whole struct. Entries written before a field existed
 * decode unchanged (each new one is optional); an aggregator older than a
 * field refuses entries that carry it (unknown field), so aggregators are
 * upgraded first -- the same holds for the compact form itself.
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
#define HZ_REGION_MAX           8     /* "CC-SSS" + NUL */
#define HZ_FAMILY_MAX           24    /* "Samsung Internet" */
#define HZ_VHASH_LEN            16    /* hex digits */
#define HZ_MAJOR_MAX            12    /* a major version, with NUL (collector/ua.h) */
#define HZ_RECORD_FIELDS        28    /* multi-field form: pairs at most (v + 27) */
#define HZ_RECORD_NUMBUF        128   /* hz_record_fields' number buffer */
#define HZ_RECORD_KEY           "r"   /* the compact form's one field name */
#define HZ_RECORD_PACKED        2     /* the compact form's version byte */
#define HZ_RECORD_BATCH         3     /* a batch's version byte */
#define HZ_RECORD_BATCH_MAX     64    /* records in one batch, at most */
#define HZ_RECORD_BATCH_BYTES   16384 /* the collector's cap on a batch's records, bytes */
#define HZ_RECORD_PROPS_MAX     8     /* props kept per hit (the allow-list's size) */
#define HZ_PROP_NAME_MAX        64    /* a prop name, with NUL */
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

/* Zeroes r for a new hit: every member as memset would leave it, except
 * the bytes of props after its first one (never read past its NUL), so a
 * hit does not pay for clearing 1.5 KiB of props it seldom has. */
void hz_record_clear(struct hz_record *r);
/* explicit_bzero of r, but of props only up to its NUL: what a record
 * made by hz_record_clear and filled holds. */
void hz_record_wipe(struct hz_record *r);

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

/* Lays out r in the multi-field form into out (HZ_RECORD_FIELDS at most),
 * numbers formatted into numbuf (HZ_RECORD_NUMBUF bytes). Returns the
 * number of pairs. Pointers borrow r and numbuf. */
int hz_record_fields(const struct hz_record *r, struct hz_field *out, char *numbuf);

/* The compact form of r into out (HZ_RECORD_PACK_MAX bytes); returns its
 * length. Only what hz_record_fields would write is written. The bound:
 * the version byte, a tag and at most 2 length bytes per field, every text
 * member's bytes (each fits its array), and for each of the three uint64
 * members written in decimal (t, ms, pd) its 20 digits; the int members
 * (px, ni, sd) write at most 3 digits, fewer than their own size. */
#define HZ_RECORD_PACK_MAX (1 + 3 * HZ_RECORD_FIELDS + sizeof(struct hz_record) + 3 * 20)
size_t hz_record_pack(const struct hz_record *r, unsigned char *out);

/* Validates and decodes one entry's nfields name/value pairs (names[i],
 * vals[i] with lengths), in either form: one pair named HZ_RECORD_KEY is
 * the compact form, anything else the multi-field one. 0 or HZ_EINVAL with
 * a short reason (the field name) in err; on error *out is left untouched.
 * The compact form is decoded without comparing field names. */
int hz_record_decode(const char *const *names, const size_t *nlens, const char *const *vals,
                     const size_t *vlens, int nfields, struct hz_record *out, struct hz_err *err);
/* The compact form alone (the value of the HZ_RECORD_KEY field). */
int hz_record_unpack(const void *buf, size_t len, struct hz_record *out, struct hz_err *err);

/* Expands a compact form that hz_record_pack made in this process from a
 * record that decoded (the aggregator keeps records read ahead that way)
 * into out, several times faster than hz_record_unpack: only the framing,
 * the kind, the numbers and each text's size (so that it fits its member)
 * are checked, not the field rules. Never for input from outside. 0 or
 * HZ_EINVAL. */
int hz_record_expand(const void *buf, size_t len, struct hz_record *out);

/* Walks a record's fields without decoding it, in either form, for
 * readers that want one field (a hit id) or to print them: *pos starts at
 * 0; fills the field's multi-field name (NUL-terminated; for the
 * multi-field form the entry's own name, not terminated: use nlen) and raw
 * value, and returns 1; 0 at the end; -1 when the compact form is damaged
 * (nothing is validated beyond the framing). A batch is no one record
 * (-1): walk its records with hz_record_each. */
int hz_record_next(const char *const *names, const size_t *nlens, const char *const *vals,
                   const size_t *vlens, int nfields, size_t *pos, const char **name, size_t *nlen,
                   const char **val, size_t *vlen);
/* The raw value of field name (e.g. "u") in a record of either form, or
 * NULL when absent or damaged (or a batch: see hz_record_each). */
const char *hz_record_find(const char *const *names, const size_t *nlens, const char *const *vals,
                           const size_t *vlens, int nfields, const char *name, size_t *vlen);

/* Appends the compact record rec (rlen bytes, from hz_record_pack) to the
 * batch being built in out (out[0] == HZ_RECORD_BATCH, len bytes so far:
 * 1 for an empty one); returns the new length, at most len + 2 + rlen.
 * The caller keeps to 2..HZ_RECORD_BATCH_MAX records (a single one is
 * written in format 2, without this). */
size_t hz_record_batch_add(unsigned char *out, size_t len, const void *rec, size_t rlen);

/* One record of an entry, as the arguments hz_record_decode, _next and
 * _find take. Filled by hz_record_each; used in place (for a record of a
 * batch, vals and vlens point into the struct itself). */
struct hz_record_part {
    const char *const *names;
    const size_t *nlens;
    const char *const *vals;
    const size_t *vlens;
    int nfields;
    const char *val_; /* a batch's record */
    size_t vlen_;
};

/* Walks the records of an entry: a batch gives each of its records as a
 * one-field entry in format 2, any other entry gives itself. *pos starts
 * at 0; returns 1 with *part filled, 0 at the end, or -1 (HZ_EINVAL in err
 * with the reason, which may be NULL) when a batch's framing is damaged: the
 * whole framing is checked on the first call, so a damaged batch yields no
 * record at all. The records themselves are not validated here. */
int hz_record_each(const char *const *names, const size_t *nlens, const char *const *vals,
                   const size_t *vlens, int nfields, size_t *pos, struct hz_record_part *part,
                   struct hz_err *err);

const char *hz_kind_name(enum hz_kind k);

#endif
