/* SPDX-License-Identifier: MIT */
/*
 * record.c - stream record layout and strict decoding, both wire forms
 * (record.h). No I/O. One table (rec_fields) drives the multi-field
 * layout, the compact form and the decoder's checks.
 */
#include "common/record.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/str.h"

static const char *const kind_names[] = {NULL, "pv", "en", "ev", "dr"};

const char *
hz_kind_name(enum hz_kind k)
{
    if (k < HZ_KIND_PAGEVIEW || k > HZ_KIND_DROPS)
        return "?";
    return kind_names[k];
}

/* ------------------------------------------------------------ the table */

enum rec_type {
    RT_VER,    /* "1" (multi-field form only) */
    RT_TIME,   /* uint64_t ms, 2001-09-09 .. 2286 */
    RT_KIND,   /* enum hz_kind as its name */
    RT_TEXT,   /* char[cap], hz_text_valid */
    RT_PAGE,   /* RT_TEXT starting with '/' */
    RT_REGION, /* "CC" / "CC-SUB" */
    RT_HEX16,  /* 16 lowercase hex digits */
    RT_U64,    /* uint64_t, min..max */
    RT_FLAG,   /* int, "1" when set */
    RT_PROPS,  /* "pr" (hz_record_prop_add's form) */
    RT_PCT,    /* sd: int 0..100, sets has_scroll */
    RT_MAJOR   /* char[cap]: a major version ("131", "XP", "RT 8") */
};

#define KPV  (1u << HZ_KIND_PAGEVIEW)
#define KEN  (1u << HZ_KIND_ENGAGEMENT)
#define KEV  (1u << HZ_KIND_EVENT)
#define KDR  (1u << HZ_KIND_DROPS)
#define KALL (KPV | KEN | KEV | KDR)

/* flags */
#define RF_NONEMPTY 1u /* an empty value is refused (the compact form never has one) */
#define RF_REQUIRED 2u /* in every record ("missing required field") */
#define RF_CLAMP    4u /* RT_U64: written clamped to max, omitted when below min */

struct rec_desc {
    char name[4]; /* multi-field name; "" for an unused tag */
    unsigned char type, flags;
    unsigned char kinds; /* kinds it may appear with */
    unsigned char need;  /* kinds that must carry it */
    const char *group;   /* "<group> not allowed for this kind" */
    uint64_t min, max;   /* RT_U64 */
    size_t off, cap;     /* its member in struct hz_record; cap for text */
};

#define R_OFF(m) offsetof(struct hz_record, m)
#define R_CAP(m) sizeof(((struct hz_record *)0)->m)
#define TEXT(nm, m, fl)                                                                            \
    {                                                                                              \
        nm, RT_TEXT, fl, KALL, 0, NULL, 0, 0, R_OFF(m), R_CAP(m)                                   \
    }

/* Indexed by tag (the compact form's field number; tag 0 is "v", which the
 * compact form carries as its version byte). Never renumber a tag. */
static const struct rec_desc rec_fields[] = {
    {"v", RT_VER, RF_REQUIRED | RF_NONEMPTY, KALL, 0, NULL, 0, 0, 0, 0},
    {"t", RT_TIME, RF_REQUIRED | RF_NONEMPTY, KALL, 0, NULL, 1000000000000ULL, 9999999999999ULL,
     R_OFF(t_ms), 0},
    {"k", RT_KIND, RF_REQUIRED | RF_NONEMPTY, KALL, 0, NULL, 0, 0, R_OFF(kind), 0},
    TEXT("s", site, RF_REQUIRED | RF_NONEMPTY),
    {"p", RT_PAGE, RF_REQUIRED | RF_NONEMPTY, KALL, 0, NULL, 0, 0, R_OFF(page), R_CAP(page)},
    {"n", RT_TEXT, RF_NONEMPTY, KALL, KEV | KDR, NULL, 0, 0, R_OFF(name), R_CAP(name)},
    TEXT("src", source, 0),
    TEXT("um", utm_medium, 0),
    TEXT("uc", utm_campaign, 0),
    {"rg", RT_REGION, RF_NONEMPTY, KALL, 0, NULL, 0, 0, R_OFF(region), R_CAP(region)},
    TEXT("b", browser, 0),
    TEXT("o", os, 0),
    TEXT("dv", device, 0),
    {"ms", RT_U64, RF_NONEMPTY, KEN | KDR, KEN | KDR, "ms", 0, 1000000000ULL, R_OFF(ms), 0},
    {"px", RT_FLAG, RF_NONEMPTY, KALL, 0, NULL, 0, 0, R_OFF(pixel), 0},
    {"vh", RT_HEX16, RF_NONEMPTY, KALL, KPV | KEN | KEV, NULL, 0, 0, R_OFF(vh), R_CAP(vh)},
    {"vp", RT_HEX16, RF_NONEMPTY, KALL, 0, NULL, 0, 0, R_OFF(vp), R_CAP(vp)},
    {"u", RT_HEX16, RF_NONEMPTY, KALL, 0, NULL, 0, 0, R_OFF(id), R_CAP(id)},
    {"pr", RT_PROPS, RF_NONEMPTY, KEV | KPV, 0, "props", 0, 0, R_OFF(props), R_CAP(props)},
    {"pd", RT_U64, RF_NONEMPTY | RF_CLAMP, KEV | KPV, 0, "props", 1, 999999, R_OFF(props_dropped),
     0},
    {"ni", RT_FLAG, RF_NONEMPTY, KEV, 0, "ni", 0, 0, R_OFF(noninteractive), 0},
    {"sd", RT_PCT, RF_NONEMPTY, KEN, 0, "sd", 0, 100, R_OFF(scroll_depth), 0},
    TEXT("uo", utm_content, RF_NONEMPTY),
    TEXT("ut", utm_term, RF_NONEMPTY),
    TEXT("rf", referrer, RF_NONEMPTY),
    TEXT("hn", hostname, RF_NONEMPTY),
    {"bv", RT_MAJOR, RF_NONEMPTY, KALL, 0, NULL, 0, 0, R_OFF(browser_version),
     R_CAP(browser_version)},
    {"ov", RT_MAJOR, RF_NONEMPTY, KALL, 0, NULL, 0, 0, R_OFF(os_version), R_CAP(os_version)},
};

#define REC_NTAGS ((int)(sizeof(rec_fields) / sizeof(rec_fields[0])))

/* What the "<kind> without ..." check says, by kind. */
static const char *const kind_needs[] = {
    NULL, "pageview without visitor", "engagement without ms or visitor",
    "event without name or visitor", "drops without reason or count"};

static const char *
rec_cstr(const struct hz_record *r, const struct rec_desc *d, size_t *len)
{
    const char *s = (const char *)r + d->off;
    *len = strnlen(s, d->cap);
    return s;
}

static uint64_t
rec_u64(const struct hz_record *r, const struct rec_desc *d)
{
    uint64_t v;
    memcpy(&v, (const char *)r + d->off, sizeof(v));
    return v;
}

static int
rec_int(const struct hz_record *r, const struct rec_desc *d)
{
    int v;
    memcpy(&v, (const char *)r + d->off, sizeof(v));
    return v;
}

/* One field of r as written (value in numbuf for numbers, at most 20
 * bytes there); 0 when r does not carry it. */
static int
rec_value(const struct hz_record *r, int tag, char *numbuf, const char **val, size_t *len)
{
    const struct rec_desc *d = &rec_fields[tag];
    unsigned kbit = r->kind >= HZ_KIND_PAGEVIEW && r->kind <= HZ_KIND_DROPS ? 1u << r->kind : 0;
    uint64_t v;

    if (!(d->kinds & kbit))
        return 0;
    switch (d->type) {
    case RT_VER:
        *val = "1";
        *len = 1;
        return 1;
    case RT_KIND:
        *val = hz_kind_name(r->kind);
        *len = strlen(*val);
        return 1;
    case RT_TEXT:
    case RT_PAGE:
    case RT_REGION:
    case RT_HEX16:
    case RT_PROPS:
    case RT_MAJOR:
        *val = rec_cstr(r, d, len);
        return *len > 0;
    case RT_TIME:
    case RT_U64:
        v = rec_u64(r, d);
        if (d->flags & RF_CLAMP) {
            if (v < d->min)
                return 0;
            if (v > d->max)
                v = d->max;
        }
        *len = hz_utoa(v, numbuf);
        *val = numbuf;
        return 1;
    case RT_FLAG:
        *val = "1";
        *len = 1;
        return rec_int(r, d) != 0;
    case RT_PCT:
        v = (uint64_t)rec_int(r, d);
        if (!r->has_scroll || rec_int(r, d) < 0 || v > d->max)
            return 0;
        *len = hz_utoa(v, numbuf);
        *val = numbuf;
        return 1;
    }
    return 0;
}

int
hz_record_fields(const struct hz_record *r, struct hz_field *out, char *numbuf)
{
    size_t used = 0;
    int n = 0;

    for (int tag = 0; tag < REC_NTAGS; tag++) {
        const char *v;
        size_t l;
        if (!rec_value(r, tag, numbuf + used, &v, &l))
            continue;
        if (v == numbuf + used) {
            numbuf[used + l] = '\0';
            used += l + 1;
        }
        out[n].name = rec_fields[tag].name;
        out[n].val = v;
        out[n].vlen = l;
        n++;
    }
    return n;
}

size_t
hz_record_pack(const struct hz_record *r, unsigned char *out)
{
    char num[24];
    size_t at = 0;
    unsigned kbit = r->kind >= HZ_KIND_PAGEVIEW && r->kind <= HZ_KIND_DROPS ? 1u << r->kind : 0;

    out[at++] = HZ_RECORD_PACKED;
    for (int tag = 1; tag < REC_NTAGS; tag++) {
        const struct rec_desc *d = &rec_fields[tag];
        const char *v;
        size_t l;
        if (d->cap != 0) {
            /* Text (every member with a cap): what rec_value gives, but an
             * empty one, the usual case for the optional fields, is
             * passed over without a call. */
            v = (const char *)r + d->off;
            if (v[0] == '\0' || !(d->kinds & kbit))
                continue;
            l = strnlen(v, d->cap);
        } else if (!rec_value(r, tag, num, &v, &l)) {
            continue;
        }
        out[at++] = (unsigned char)tag;
        if (l < 0x80) {
            out[at++] = (unsigned char)l;
        } else {
            out[at++] = (unsigned char)(0x80 | (l & 0x7f));
            out[at++] = (unsigned char)(l >> 7);
        }
        memcpy(out + at, v, l);
        at += l;
    }
    return at;
}

/* 1 if (s, len) is prop text: valid UTF-8, no control characters (so the
 * separators cannot occur in it). */
static int
rec_prop_text(const char *s, size_t len)
{
    return hz_text_valid(s, len);
}

void
hz_record_clear(struct hz_record *r)
{
    size_t at = offsetof(struct hz_record, props), after = at + sizeof(r->props);

    memset(r, 0, at);
    r->props[0] = '\0';
    memset((char *)r + after, 0, sizeof(*r) - after);
}

void
hz_record_wipe(struct hz_record *r)
{
    size_t at = offsetof(struct hz_record, props), after = at + sizeof(r->props);

    explicit_bzero(r->props, strnlen(r->props, sizeof(r->props) - 1) + 1);
    explicit_bzero(r, at);
    explicit_bzero((char *)r + after, sizeof(*r) - after);
}

int
hz_record_prop_add(struct hz_record *r, const char *name, size_t nlen, const char *value,
                   size_t vlen)
{
    size_t used = strlen(r->props), n = 0, pos = 0;
    const char *a, *b;
    size_t al, bl;

    while (hz_record_prop_next(r, &pos, &a, &al, &b, &bl))
        n++;
    if (n >= HZ_RECORD_PROPS_MAX || nlen == 0 || nlen >= HZ_PROP_NAME_MAX || vlen >= HZ_VALUE_MAX ||
        !rec_prop_text(name, nlen) || !rec_prop_text(value, vlen) ||
        used + (used ? 1 : 0) + nlen + 1 + vlen >= sizeof(r->props))
        return HZ_EINVAL;
    if (used)
        r->props[used++] = '\x1e';
    memcpy(r->props + used, name, nlen);
    used += nlen;
    r->props[used++] = '\x1f';
    memcpy(r->props + used, value, vlen);
    used += vlen;
    r->props[used] = '\0';
    return 0;
}

int
hz_record_prop_next(const struct hz_record *r, size_t *pos, const char **name, size_t *nlen,
                    const char **value, size_t *vlen)
{
    const char *p = r->props + *pos, *us, *rs;

    if (*p == '\0')
        return 0;
    rs = strchr(p, '\x1e');
    us = memchr(p, '\x1f', rs ? (size_t)(rs - p) : strlen(p));
    if (us == NULL)
        return 0; /* decode never lets this through */
    *name = p;
    *nlen = (size_t)(us - p);
    *value = us + 1;
    *vlen = rs ? (size_t)(rs - us - 1) : strlen(us + 1);
    *pos = rs ? (size_t)(rs - r->props) + 1 : (size_t)(p - r->props) + strlen(p);
    return 1;
}

/* ------------------------------------------------------------ checking */

/* Validates "pr" (v, vl) without copying it. */
static int
rec_props_ok(const char *v, size_t vl)
{
    size_t i = 0;
    int n = 0;

    if (vl == 0 || vl >= R_CAP(props))
        return 0;
    while (i < vl) {
        const char *p = v + i, *rs = memchr(p, '\x1e', vl - i);
        size_t plen = rs ? (size_t)(rs - p) : vl - i;
        const char *us = memchr(p, '\x1f', plen);
        size_t nl, val;
        if (us == NULL || ++n > HZ_RECORD_PROPS_MAX)
            return 0;
        nl = (size_t)(us - p);
        val = plen - nl - 1;
        if (nl == 0 || nl >= HZ_PROP_NAME_MAX || val >= HZ_VALUE_MAX || !rec_prop_text(p, nl) ||
            !rec_prop_text(us + 1, val))
            return 0;
        i += plen + 1;
        if (rs != NULL && i == vl)
            return 0; /* a trailing separator */
    }
    return 1;
}

static int
rec_hex16_ok(const char *v, size_t len)
{
    if (len != HZ_VHASH_LEN)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
            return 0;
    return 1;
}

/* A region as geo makes it: "CC" or "CC-SUB", CC two letters A-Z and
 * SUB 1-3 of A-Z 0-9. */
static int
rec_region_ok(const char *v, size_t len)
{
    if (len != 2 && (len < 4 || len > 6 || v[2] != '-'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        int upper = v[i] >= 'A' && v[i] <= 'Z', digit = v[i] >= '0' && v[i] <= '9';
        if (i < 2 ? !upper : (i > 2 && !upper && !digit))
            return 0;
    }
    return 1;
}

/* A major version: 1 .. HZ_MAJOR_MAX - 1 letters and digits, with single
 * spaces between them ("131", "XP", "RT 8"). */
static int
rec_major_ok(const char *v, size_t len)
{
    if (len == 0 || len >= HZ_MAJOR_MAX || v[0] == ' ' || v[len - 1] == ' ')
        return 0;
    for (size_t i = 0, run = 0; i < len; i++) {
        char c = v[i];
        int an = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!an && (c != ' ' || v[i + 1] == ' '))
            return 0;
        if ((run = c >= '0' && c <= '9' ? run + 1 : 0) > 5)
            return 0; /* a number of more than 5 digits is no major version */
    }
    return 1;
}

static int
rec_is(const char *a, size_t alen, const char *b)
{
    return strlen(b) == alen && memcmp(a, b, alen) == 0;
}

/* Checks one value against its row; numbers and the kind into *num. The
 * compact form is canonical: no empty values, no leading zeros. 1 if good. */
static int
rec_check(const struct rec_desc *d, const char *v, size_t vl, int compact, uint64_t *num)
{
    if (vl == 0 && (compact || (d->flags & RF_NONEMPTY)))
        return 0;
    switch (d->type) {
    case RT_VER:
        return rec_is(v, vl, "1");
    case RT_KIND:
        for (int k = HZ_KIND_PAGEVIEW; k <= HZ_KIND_DROPS; k++)
            if (rec_is(v, vl, kind_names[k])) {
                *num = (uint64_t)k;
                return 1;
            }
        return 0;
    case RT_TEXT:
        return vl < d->cap && hz_text_valid(v, vl);
    case RT_PAGE:
        return v[0] == '/' && vl < d->cap && hz_text_valid(v, vl);
    case RT_REGION:
        return rec_region_ok(v, vl);
    case RT_HEX16:
        return rec_hex16_ok(v, vl);
    case RT_PROPS:
        return rec_props_ok(v, vl);
    case RT_MAJOR:
        return rec_major_ok(v, vl);
    case RT_FLAG:
        return rec_is(v, vl, "1");
    case RT_TIME:
    case RT_U64:
    case RT_PCT:
        /* sd was always written without leading zeros ("07" would not
         * encode back); the compact form holds every number to that. */
        if ((compact || d->type == RT_PCT) && vl > 1 && v[0] == '0')
            return 0;
        return hz_parse_u64(v, vl, d->max, num) == 0 && *num >= d->min;
    }
    return 0;
}

/* One field seen, by tag. */
struct rec_slot {
    const char *v;
    size_t len;
    uint64_t num;
};

/* The checks that span fields, then the record is written to out. */
static int
rec_finish(const struct rec_slot *s, uint64_t seen, int compact, struct hz_record *out,
           struct hz_err *err)
{
    unsigned kind, kbit;

    for (int tag = compact ? 1 : 0; tag < REC_NTAGS; tag++)
        if ((rec_fields[tag].flags & RF_REQUIRED) && !(seen & (1ULL << tag)))
            return hz_err_set(err, HZ_EINVAL, "missing required field");
    kind = (unsigned)s[2].num;
    kbit = 1u << kind;
    /* Each field only where it is written: accepting it elsewhere would
     * decode to a record that does not encode back. */
    for (int tag = 1; tag < REC_NTAGS; tag++)
        if ((seen & (1ULL << tag)) && !(rec_fields[tag].kinds & kbit))
            return hz_err_set(err, HZ_EINVAL, "%s not allowed for this kind",
                              rec_fields[tag].group);
    for (int tag = 1; tag < REC_NTAGS; tag++)
        if ((rec_fields[tag].need & kbit) && !(seen & (1ULL << tag)))
            return hz_err_set(err, HZ_EINVAL, "%s", kind_needs[kind]);

    /* Every member is written, absent ones as empty or 0, without
     * clearing the whole record (3 KB, most of it the tails of strings):
     * every member of struct hz_record belongs to a row of the table. */
    out->kind = (enum hz_kind)kind;
    out->has_scroll = 0;
    for (int tag = 1; tag < REC_NTAGS; tag++) {
        const struct rec_desc *d = &rec_fields[tag];
        char *m = (char *)out + d->off;
        int have = (seen & (1ULL << tag)) != 0, one = have, pct;
        uint64_t num = have ? s[tag].num : 0;
        switch (d->type) {
        case RT_VER:
        case RT_KIND:
            break;
        case RT_TEXT:
        case RT_PAGE:
        case RT_REGION:
        case RT_HEX16:
        case RT_PROPS:
        case RT_MAJOR:
            if (have)
                memcpy(m, s[tag].v, s[tag].len);
            m[have ? s[tag].len : 0] = '\0';
            break;
        case RT_TIME:
        case RT_U64:
            memcpy(m, &num, sizeof(uint64_t));
            break;
        case RT_FLAG:
            memcpy(m, &one, sizeof(one));
            break;
        case RT_PCT:
            pct = (int)num;
            memcpy(m, &pct, sizeof(pct));
            out->has_scroll = have;
            break;
        }
    }
    return 0;
}

static int
rec_bad(struct hz_err *err, int tag)
{
    return hz_err_set(err, HZ_EINVAL, "bad field '%s'", rec_fields[tag].name);
}

/* The multi-field form's name -> tag, or -1. */
static int
rec_tag_of(const char *nm, size_t nl)
{
    if (nl == 0 || nl > 3)
        return -1;
    for (int tag = 0; tag < REC_NTAGS; tag++)
        if (rec_is(nm, nl, rec_fields[tag].name))
            return tag;
    return -1;
}

/* The compact form's framing: the next (tag, value) at *pos. 1, 0 at the
 * end, -1 when damaged. */
static int
rec_tlv(const unsigned char *p, size_t len, size_t *pos, int *tag, const char **v, size_t *vl)
{
    size_t at = *pos, l;

    if (at >= len)
        return 0;
    if (len - at < 2)
        return -1;
    *tag = p[at++];
    l = p[at++];
    if (l & 0x80) {
        if (at >= len || p[at] == 0 || p[at] >= 0x80)
            return -1; /* the two-byte form only where one byte cannot do */
        l = (l & 0x7f) | (size_t)p[at++] << 7;
    }
    if (l > len - at)
        return -1;
    *v = (const char *)p + at;
    *vl = l;
    *pos = at + l;
    return 1;
}

int
hz_record_unpack(const void *buf, size_t len, struct hz_record *out, struct hz_err *err)
{
    const unsigned char *p = buf;
    struct rec_slot s[REC_NTAGS];
    uint64_t seen = 0;
    size_t pos = 1;
    int tag, prev = 0, rc;
    const char *v;
    size_t vl;

    if (len >= 1 && p[0] == HZ_RECORD_BATCH)
        return hz_err_set(err, HZ_EINVAL, "a batch, not one record");
    if (len < 1 || p[0] != HZ_RECORD_PACKED)
        return hz_err_set(err, HZ_EINVAL, "record version");
    s[2].num = 0;
    while ((rc = rec_tlv(p, len, &pos, &tag, &v, &vl)) == 1) {
        if (tag <= 0 || tag >= REC_NTAGS)
            return hz_err_set(err, HZ_EINVAL, "unknown field");
        if (tag == prev)
            return hz_err_set(err, HZ_EINVAL, "duplicate field");
        if (tag < prev)
            return hz_err_set(err, HZ_EINVAL, "field order");
        prev = tag;
        s[tag].v = v;
        s[tag].len = vl;
        if (!rec_check(&rec_fields[tag], v, vl, 1, &s[tag].num))
            return rec_bad(err, tag);
        seen |= 1ULL << tag;
    }
    if (rc < 0)
        return hz_err_set(err, HZ_EINVAL, "record framing");
    return rec_finish(s, seen, 1, out, err);
}

int
hz_record_expand(const void *buf, size_t len, struct hz_record *out)
{
    const unsigned char *p = buf;
    uint64_t seen = 0, num, absent;
    size_t pos = 1, vl;
    int tag, rc, one = 1, zero = 0;
    const char *v;

    if (len < 1 || p[0] != HZ_RECORD_PACKED)
        return HZ_EINVAL;
    out->has_scroll = 0;
    /* Each field present straight into its member (only what keeps the
     * writes within out is checked: the framing, a known tag, a text that
     * fits its member, digits), then the absent ones as empty or 0. */
    while ((rc = rec_tlv(p, len, &pos, &tag, &v, &vl)) == 1) {
        if (tag <= 0 || tag >= REC_NTAGS)
            return HZ_EINVAL;
        const struct rec_desc *d = &rec_fields[tag];
        char *m = (char *)out + d->off;
        switch (d->type) {
        case RT_KIND:
            out->kind = 0;
            for (int k = HZ_KIND_PAGEVIEW; k <= HZ_KIND_DROPS && vl == 2; k++)
                if (v[0] == kind_names[k][0] && v[1] == kind_names[k][1])
                    out->kind = (enum hz_kind)k;
            if (out->kind == 0)
                return HZ_EINVAL;
            break;
        case RT_TIME:
        case RT_U64:
        case RT_PCT:
            /* At most 19 digits: no overflow to check for. */
            if (vl == 0 || vl > 19)
                return HZ_EINVAL;
            num = 0;
            for (size_t i = 0; i < vl; i++) {
                unsigned dg = (unsigned char)v[i] - '0';
                if (dg > 9)
                    return HZ_EINVAL;
                num = num * 10 + dg;
            }
            if (num > d->max)
                return HZ_EINVAL;
            if (d->type == RT_PCT) {
                int pct = (int)num;
                memcpy(m, &pct, sizeof(pct));
                out->has_scroll = 1;
            } else {
                memcpy(m, &num, sizeof(num));
            }
            break;
        case RT_FLAG:
            memcpy(m, &one, sizeof(one));
            break;
        case RT_VER:
            return HZ_EINVAL;
        default: /* the text types */
            if (vl >= d->cap)
                return HZ_EINVAL;
            memcpy(m, v, vl);
            m[vl] = '\0';
            break;
        }
        seen |= 1ULL << tag;
    }
    if (rc < 0 || !(seen & (1ULL << 2)))
        return HZ_EINVAL;
    absent = ~seen & ((1ULL << REC_NTAGS) - 1) & ~1ULL; /* tag 0 is the version */
    for (; absent != 0; absent &= absent - 1) {
        const struct rec_desc *d = &rec_fields[__builtin_ctzll(absent)];
        char *m = (char *)out + d->off;
        num = 0;
        if (d->cap != 0)
            m[0] = '\0'; /* the text types */
        else if (d->type == RT_TIME || d->type == RT_U64)
            memcpy(m, &num, sizeof(num));
        else if (d->type == RT_FLAG || d->type == RT_PCT)
            memcpy(m, &zero, sizeof(zero));
    }
    return 0;
}

int
hz_record_decode(const char *const *names, const size_t *nlens, const char *const *vals,
                 const size_t *vlens, int nfields, struct hz_record *out, struct hz_err *err)
{
    struct rec_slot s[REC_NTAGS];
    uint64_t seen = 0;

    if (nfields == 1 && rec_is(names[0], nlens[0], HZ_RECORD_KEY))
        return hz_record_unpack(vals[0], vlens[0], out, err);
    if (nfields < 0 || nfields > HZ_RECORD_FIELDS)
        return hz_err_set(err, HZ_EINVAL, "field count");
    s[2].num = 0;
    for (int i = 0; i < nfields; i++) {
        int tag = rec_tag_of(names[i], nlens[i]);
        if (tag < 0)
            return hz_err_set(err, HZ_EINVAL, "unknown field");
        if (seen & (1ULL << tag))
            return hz_err_set(err, HZ_EINVAL, "duplicate field");
        seen |= 1ULL << tag;
        s[tag].v = vals[i];
        s[tag].len = vlens[i];
        if (!rec_check(&rec_fields[tag], vals[i], vlens[i], 0, &s[tag].num))
            return rec_bad(err, tag);
    }
    return rec_finish(s, seen, 0, out, err);
}

/* ------------------------------------------------------------ raw view */

int
hz_record_next(const char *const *names, const size_t *nlens, const char *const *vals,
               const size_t *vlens, int nfields, size_t *pos, const char **name, size_t *nlen,
               const char **val, size_t *vlen)
{
    if (nfields == 1 && rec_is(names[0], nlens[0], HZ_RECORD_KEY)) {
        const unsigned char *p = (const unsigned char *)vals[0];
        int tag, rc;
        if (vlens[0] < 1 || p[0] != HZ_RECORD_PACKED)
            return -1;
        if (*pos == 0)
            *pos = 1;
        rc = rec_tlv(p, vlens[0], pos, &tag, val, vlen);
        if (rc <= 0)
            return rc;
        if (tag <= 0 || tag >= REC_NTAGS)
            return -1;
        *name = rec_fields[tag].name;
        *nlen = strlen(*name);
        return 1;
    }
    if (nfields < 0 || *pos >= (size_t)nfields)
        return 0;
    *name = names[*pos];
    *nlen = nlens[*pos];
    *val = vals[*pos];
    *vlen = vlens[*pos];
    (*pos)++;
    return 1;
}

const char *
hz_record_find(const char *const *names, const size_t *nlens, const char *const *vals,
               const size_t *vlens, int nfields, const char *name, size_t *vlen)
{
    size_t pos = 0, nl;
    const char *n, *v;

    while (hz_record_next(names, nlens, vals, vlens, nfields, &pos, &n, &nl, &v, vlen) == 1)
        if (rec_is(n, nl, name))
            return v;
    return NULL;
}

/* ------------------------------------------------------------ batches */

size_t
hz_record_batch_add(unsigned char *out, size_t len, const void *rec, size_t rlen)
{
    if (rlen < 0x80) {
        out[len++] = (unsigned char)rlen;
    } else {
        out[len++] = (unsigned char)(0x80 | (rlen & 0x7f));
        out[len++] = (unsigned char)(rlen >> 7);
    }
    memcpy(out + len, rec, rlen);
    return len + rlen;
}

/* The next record of a batch at *pos (after the version byte): 1, 0 at
 * the end, -1 when the framing is damaged. Its length prefix has the
 * compact form's shape (rec_tlv), without a tag. */
static int
rec_batch_next(const unsigned char *p, size_t len, size_t *pos, const char **rec, size_t *rlen)
{
    size_t at = *pos, l;

    if (at >= len)
        return 0;
    l = p[at++];
    if (l & 0x80) {
        if (at >= len || p[at] == 0 || p[at] >= 0x80)
            return -1;
        l = (l & 0x7f) | (size_t)p[at++] << 7;
    }
    if (l > len - at)
        return -1;
    *rec = (const char *)p + at;
    *rlen = l;
    *pos = at + l;
    return 1;
}

/* The whole framing of a batch (p[0] == HZ_RECORD_BATCH): 0 or HZ_EINVAL. */
static int
rec_batch_check(const unsigned char *p, size_t len, struct hz_err *err)
{
    size_t pos = 1, rl;
    const char *r;
    int n = 0, rc;

    while ((rc = rec_batch_next(p, len, &pos, &r, &rl)) == 1) {
        if (rl == 0 || (unsigned char)r[0] != HZ_RECORD_PACKED)
            return hz_err_set(err, HZ_EINVAL, "batch record version");
        if (++n > HZ_RECORD_BATCH_MAX)
            return hz_err_set(err, HZ_EINVAL, "batch too long");
    }
    if (rc < 0)
        return hz_err_set(err, HZ_EINVAL, "batch framing");
    if (n < 2)
        return hz_err_set(err, HZ_EINVAL, "batch of %s", n == 0 ? "none" : "one");
    return 0;
}

static const char *const rec_key_names[1] = {HZ_RECORD_KEY};
static const size_t rec_key_nlens[1] = {sizeof(HZ_RECORD_KEY) - 1};

int
hz_record_each(const char *const *names, const size_t *nlens, const char *const *vals,
               const size_t *vlens, int nfields, size_t *pos, struct hz_record_part *part,
               struct hz_err *err)
{
    const unsigned char *p;
    size_t at;

    if (!(nfields == 1 && rec_is(names[0], nlens[0], HZ_RECORD_KEY) && vlens[0] > 0 &&
          (unsigned char)vals[0][0] == HZ_RECORD_BATCH)) {
        if (*pos != 0)
            return 0;
        *pos = 1;
        part->names = names;
        part->nlens = nlens;
        part->vals = vals;
        part->vlens = vlens;
        part->nfields = nfields;
        return 1;
    }
    p = (const unsigned char *)vals[0];
    if (*pos == 0) {
        if (rec_batch_check(p, vlens[0], err) != 0)
            return -1;
        *pos = 1;
    }
    at = *pos;
    if (rec_batch_next(p, vlens[0], &at, &part->val_, &part->vlen_) != 1)
        return 0; /* checked above: only the end */
    *pos = at;
    part->names = rec_key_names;
    part->nlens = rec_key_nlens;
    part->vals = &part->val_;
    part->vlens = &part->vlen_;
    part->nfields = 1;
    return 1;
}
