/* SPDX-License-Identifier: MIT */
/* record.c - stream record layout and strict decoding. No I/O. */
#include "common/record.h"

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

static void
rec_add(struct hz_field *out, int *n, const char *name, const char *val, size_t len)
{
    out[*n].name = name;
    out[*n].val = val;
    out[*n].vlen = len;
    (*n)++;
}

int
hz_record_fields(const struct hz_record *r, struct hz_field *out, char numbuf[64])
{
    int n = 0, a, b;

    a = snprintf(numbuf, 32, "%llu", (unsigned long long)r->t_ms);
    b = snprintf(numbuf + 32, 32, "%llu", (unsigned long long)r->ms);
    rec_add(out, &n, "v", "1", 1);
    rec_add(out, &n, "t", numbuf, (size_t)a);
    rec_add(out, &n, "k", hz_kind_name(r->kind), strlen(hz_kind_name(r->kind)));
    rec_add(out, &n, "s", r->site, strlen(r->site));
    rec_add(out, &n, "p", r->page, strlen(r->page));
#define OPT(nm, f)                                                                                 \
    if (r->f[0] != '\0')                                                                           \
    rec_add(out, &n, nm, r->f, strlen(r->f))
    OPT("n", name);
    OPT("src", source);
    OPT("um", utm_medium);
    OPT("uc", utm_campaign);
    OPT("rg", region);
    OPT("b", browser);
    OPT("o", os);
    OPT("dv", device);
    if (r->kind == HZ_KIND_ENGAGEMENT || r->kind == HZ_KIND_DROPS)
        rec_add(out, &n, "ms", numbuf + 32, (size_t)b);
    if (r->pixel)
        rec_add(out, &n, "px", "1", 1);
    OPT("vh", vh);
    OPT("vp", vp);
    OPT("u", id);
    OPT("pr", props);
    OPT("uo", utm_content);
    OPT("ut", utm_term);
    OPT("rf", referrer);
    OPT("hn", hostname);
    OPT("bv", browser_version);
    OPT("ov", os_version);
#undef OPT
    if (r->props_dropped > 0 && (r->kind == HZ_KIND_EVENT || r->kind == HZ_KIND_PAGEVIEW)) {
        /* numbuf: t at 0 (14 bytes), ms at 32 (11 at most), pd at 48, sd at 56. */
        uint64_t pd = r->props_dropped > 999999 ? 999999 : r->props_dropped;
        int c = snprintf(numbuf + 48, 8, "%llu", (unsigned long long)pd);
        rec_add(out, &n, "pd", numbuf + 48, (size_t)c);
    }
    if (r->noninteractive && r->kind == HZ_KIND_EVENT)
        rec_add(out, &n, "ni", "1", 1);
    if (r->kind == HZ_KIND_ENGAGEMENT && r->has_scroll && r->scroll_depth >= 0 &&
        r->scroll_depth <= 100) {
        static const char *const dig = "0123456789";
        /* numbuf + 56: at most "100" and a NUL. */
        char *o = numbuf + 56;
        int d = r->scroll_depth, c = 0;
        if (d >= 100)
            o[c++] = '1';
        if (d >= 10)
            o[c++] = dig[(d / 10) % 10];
        o[c++] = dig[d % 10];
        o[c] = '\0';
        rec_add(out, &n, "sd", o, (size_t)c);
    }
    return n;
}

/* 1 if (s, len) is prop text: valid UTF-8, no control characters (so the
 * separators cannot occur in it). */
static int
rec_prop_text(const char *s, size_t len)
{
    return hz_text_valid(s, len);
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

/* Validates an encoded "pr" value (v, vl) and copies it to r. */
static int
rec_props(struct hz_record *r, const char *v, size_t vl)
{
    size_t i = 0;
    int n = 0;

    if (vl == 0 || vl >= sizeof(r->props))
        return HZ_EINVAL;
    while (i < vl) {
        const char *p = v + i, *rs = memchr(p, '\x1e', vl - i);
        size_t plen = rs ? (size_t)(rs - p) : vl - i;
        const char *us = memchr(p, '\x1f', plen);
        size_t nl, val;
        if (us == NULL || ++n > HZ_RECORD_PROPS_MAX)
            return HZ_EINVAL;
        nl = (size_t)(us - p);
        val = plen - nl - 1;
        if (nl == 0 || nl >= HZ_PROP_NAME_MAX || val >= HZ_VALUE_MAX || !rec_prop_text(p, nl) ||
            !rec_prop_text(us + 1, val))
            return HZ_EINVAL;
        i += plen + 1;
        if (rs != NULL && i == vl)
            return HZ_EINVAL; /* a trailing separator */
    }
    memcpy(r->props, v, vl);
    r->props[vl] = '\0';
    return 0;
}

/* Copies a text value after checking length and content. */
static int
rec_text(char *dst, size_t cap, const char *v, size_t len)
{
    if (len >= cap || !hz_text_valid(v, len))
        return HZ_EINVAL;
    memcpy(dst, v, len);
    dst[len] = '\0';
    return 0;
}

static int
rec_vhash(char *dst, const char *v, size_t len)
{
    if (len != HZ_VHASH_LEN)
        return HZ_EINVAL;
    for (size_t i = 0; i < len; i++)
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
            return HZ_EINVAL;
    memcpy(dst, v, len);
    dst[len] = '\0';
    return 0;
}

/* A region as geo makes it: "CC" or "CC-SUB", CC two letters A-Z and
 * SUB 1-3 of A-Z 0-9. */
static int
rec_region(char *dst, const char *v, size_t len)
{
    if (len != 2 && (len < 4 || len > 6 || v[2] != '-'))
        return HZ_EINVAL;
    for (size_t i = 0; i < len; i++) {
        int upper = v[i] >= 'A' && v[i] <= 'Z', digit = v[i] >= '0' && v[i] <= '9';
        if (i < 2 ? !upper : (i > 2 && !upper && !digit))
            return HZ_EINVAL;
    }
    memcpy(dst, v, len);
    dst[len] = '\0';
    return 0;
}

/* A major version: 1 .. HZ_MAJOR_MAX - 1 letters and digits, with single
 * spaces between them ("131", "XP", "RT 8"). */
static int
rec_major(char *dst, const char *v, size_t len)
{
    if (len == 0 || len >= HZ_MAJOR_MAX || v[0] == ' ' || v[len - 1] == ' ')
        return HZ_EINVAL;
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        int an = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!an && (c != ' ' || v[i + 1] == ' '))
            return HZ_EINVAL;
    }
    memcpy(dst, v, len);
    dst[len] = '\0';
    return 0;
}

static int
rec_eq(const char *a, size_t alen, const char *b)
{
    return strlen(b) == alen && memcmp(a, b, alen) == 0;
}

int
hz_record_decode(const char *const *names, const size_t *nlens, const char *const *vals,
                 const size_t *vlens, int nfields, struct hz_record *out, struct hz_err *err)
{
    struct hz_record r;
    unsigned seen = 0;
    int rc = 0;

    memset(&r, 0, sizeof(r));
    if (nfields < 0 || nfields > HZ_RECORD_FIELDS)
        return hz_err_set(err, HZ_EINVAL, "field count");
    for (int i = 0; i < nfields; i++) {
        const char *nm = names[i], *v = vals[i];
        size_t nl = nlens[i], vl = vlens[i];
        unsigned bit;
        uint64_t num = 0;

        if (rec_eq(nm, nl, "v")) {
            bit = 1u << 0;
            rc = rec_eq(v, vl, "1") ? 0 : HZ_EINVAL;
        } else if (rec_eq(nm, nl, "t")) {
            bit = 1u << 1;
            /* 2001-09-09 .. 2286: catches seconds-for-ms and garbage. */
            rc = hz_parse_u64(v, vl, 9999999999999ULL, &num);
            if (rc == 0 && num < 1000000000000ULL)
                rc = HZ_EINVAL;
            r.t_ms = num;
        } else if (rec_eq(nm, nl, "k")) {
            bit = 1u << 2;
            rc = HZ_EINVAL;
            for (int k = HZ_KIND_PAGEVIEW; k <= HZ_KIND_DROPS; k++)
                if (rec_eq(v, vl, kind_names[k])) {
                    r.kind = (enum hz_kind)k;
                    rc = 0;
                }
        } else if (rec_eq(nm, nl, "s")) {
            bit = 1u << 3;
            rc = vl == 0 ? HZ_EINVAL : rec_text(r.site, sizeof(r.site), v, vl);
        } else if (rec_eq(nm, nl, "p")) {
            bit = 1u << 4;
            rc = (vl == 0 || v[0] != '/') ? HZ_EINVAL : rec_text(r.page, sizeof(r.page), v, vl);
        } else if (rec_eq(nm, nl, "n")) {
            bit = 1u << 5;
            rc = vl == 0 ? HZ_EINVAL : rec_text(r.name, sizeof(r.name), v, vl);
        } else if (rec_eq(nm, nl, "src")) {
            bit = 1u << 6;
            rc = rec_text(r.source, sizeof(r.source), v, vl);
        } else if (rec_eq(nm, nl, "um")) {
            bit = 1u << 7;
            rc = rec_text(r.utm_medium, sizeof(r.utm_medium), v, vl);
        } else if (rec_eq(nm, nl, "uc")) {
            bit = 1u << 8;
            rc = rec_text(r.utm_campaign, sizeof(r.utm_campaign), v, vl);
        } else if (rec_eq(nm, nl, "rg")) {
            bit = 1u << 9;
            rc = rec_region(r.region, v, vl);
        } else if (rec_eq(nm, nl, "b")) {
            bit = 1u << 10;
            rc = rec_text(r.browser, sizeof(r.browser), v, vl);
        } else if (rec_eq(nm, nl, "o")) {
            bit = 1u << 11;
            rc = rec_text(r.os, sizeof(r.os), v, vl);
        } else if (rec_eq(nm, nl, "dv")) {
            bit = 1u << 12;
            rc = rec_text(r.device, sizeof(r.device), v, vl);
        } else if (rec_eq(nm, nl, "ms")) {
            bit = 1u << 13;
            rc = hz_parse_u64(v, vl, 1000000000ULL, &r.ms);
        } else if (rec_eq(nm, nl, "px")) {
            bit = 1u << 14;
            rc = rec_eq(v, vl, "1") ? 0 : HZ_EINVAL;
            r.pixel = 1;
        } else if (rec_eq(nm, nl, "vh")) {
            bit = 1u << 15;
            rc = rec_vhash(r.vh, v, vl);
        } else if (rec_eq(nm, nl, "vp")) {
            bit = 1u << 16;
            rc = rec_vhash(r.vp, v, vl);
        } else if (rec_eq(nm, nl, "u")) {
            bit = 1u << 17;
            rc = rec_vhash(r.id, v, vl);
        } else if (rec_eq(nm, nl, "pr")) {
            bit = 1u << 18;
            rc = rec_props(&r, v, vl);
        } else if (rec_eq(nm, nl, "pd")) {
            bit = 1u << 19;
            rc = hz_parse_u64(v, vl, 999999, &r.props_dropped);
            if (rc == 0 && r.props_dropped == 0)
                rc = HZ_EINVAL; /* never written as 0 */
        } else if (rec_eq(nm, nl, "ni")) {
            bit = 1u << 20;
            rc = rec_eq(v, vl, "1") ? 0 : HZ_EINVAL;
            r.noninteractive = 1;
        } else if (rec_eq(nm, nl, "uo")) {
            bit = 1u << 22;
            rc = vl == 0 ? HZ_EINVAL : rec_text(r.utm_content, sizeof(r.utm_content), v, vl);
        } else if (rec_eq(nm, nl, "ut")) {
            bit = 1u << 23;
            rc = vl == 0 ? HZ_EINVAL : rec_text(r.utm_term, sizeof(r.utm_term), v, vl);
        } else if (rec_eq(nm, nl, "rf")) {
            bit = 1u << 24;
            rc = vl == 0 ? HZ_EINVAL : rec_text(r.referrer, sizeof(r.referrer), v, vl);
        } else if (rec_eq(nm, nl, "hn")) {
            bit = 1u << 25;
            rc = vl == 0 ? HZ_EINVAL : rec_text(r.hostname, sizeof(r.hostname), v, vl);
        } else if (rec_eq(nm, nl, "bv")) {
            bit = 1u << 26;
            rc = rec_major(r.browser_version, v, vl);
        } else if (rec_eq(nm, nl, "ov")) {
            bit = 1u << 27;
            rc = rec_major(r.os_version, v, vl);
        } else if (rec_eq(nm, nl, "sd")) {
            bit = 1u << 21;
            rc = hz_parse_u64(v, vl, 100, &num);
            /* Written without leading zeros: "07" would not encode back. */
            if (rc == 0 && vl > 1 && v[0] == '0')
                rc = HZ_EINVAL;
            r.scroll_depth = (int)num;
            r.has_scroll = 1;
        } else {
            return hz_err_set(err, HZ_EINVAL, "unknown field");
        }
        if (seen & bit)
            return hz_err_set(err, HZ_EINVAL, "duplicate field");
        seen |= bit;
        if (rc != 0)
            return hz_err_set(err, HZ_EINVAL, "bad field '%.*s'", (int)(nl > 8 ? 8 : nl), nm);
    }
    /* v, t, k, s, p always; vh except for drop summaries. */
    if ((seen & 0x1f) != 0x1f)
        return hz_err_set(err, HZ_EINVAL, "missing required field");
    /* hz_record_fields writes ms only for these kinds: accepting it
     * elsewhere would decode to a record that does not encode back. */
    if ((seen & (1u << 13)) && r.kind != HZ_KIND_ENGAGEMENT && r.kind != HZ_KIND_DROPS)
        return hz_err_set(err, HZ_EINVAL, "ms not allowed for this kind");
    /* The same for the newer fields: each only where it is written. */
    if ((seen & (3u << 18)) && r.kind != HZ_KIND_EVENT && r.kind != HZ_KIND_PAGEVIEW)
        return hz_err_set(err, HZ_EINVAL, "props not allowed for this kind");
    if ((seen & (1u << 20)) && r.kind != HZ_KIND_EVENT)
        return hz_err_set(err, HZ_EINVAL, "ni not allowed for this kind");
    if ((seen & (1u << 21)) && r.kind != HZ_KIND_ENGAGEMENT)
        return hz_err_set(err, HZ_EINVAL, "sd not allowed for this kind");
    switch (r.kind) {
    case HZ_KIND_EVENT:
        if (!(seen & (1u << 5)) || !(seen & (1u << 15)))
            return hz_err_set(err, HZ_EINVAL, "event without name or visitor");
        break;
    case HZ_KIND_ENGAGEMENT:
        if (!(seen & (1u << 13)) || !(seen & (1u << 15)))
            return hz_err_set(err, HZ_EINVAL, "engagement without ms or visitor");
        break;
    case HZ_KIND_PAGEVIEW:
        if (!(seen & (1u << 15)))
            return hz_err_set(err, HZ_EINVAL, "pageview without visitor");
        break;
    case HZ_KIND_DROPS:
        if (!(seen & (1u << 5)) || !(seen & (1u << 13)))
            return hz_err_set(err, HZ_EINVAL, "drops without reason or count");
        break;
    }
    *out = r;
    return 0;
}
