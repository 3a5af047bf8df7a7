/* SPDX-License-Identifier: MIT */
/*
 * session.c - the visitor state's binary form and its small sets. The
 * decoder treats the bytes as hostile: every length is bounded, every
 * string checked as text, and nothing is read past the end.
 */
#include "aggregator/session.h"

#include <stdio.h>
#include <string.h>

#include "common/kmap.h"
#include "common/siphash.h"
#include "common/str.h"

/* 1: without utm_content, utm_term, referrer; 2: without the versions;
 * 3: fixed-width numbers and u16 string lengths. */
#define SES_VERSION 4

/* Version 4's flags byte: bit 2 says last_page is entry's bytes (and is
 * not written again). */
#define SES_F_PIXEL    1u
#define SES_F_ENGAGED  2u
#define SES_F_SAMEPAGE 4u

/* Version 4's family names (browser, os, device) written as one byte
 * SES_FAM_CODE + index; any other name as its length (< HZ_FAMILY_MAX) and
 * bytes. The collector's names (collector/ua.c). Append only: an index,
 * once written to Redis, keeps its name. */
#define SES_FAM_CODE 0x80u
#define SES_FAMILIES(X)                                                                            \
    X("Other"), X("Chrome"), X("Firefox"), X("Safari"), X("Edge"), X("Opera"),                     \
        X("Samsung Internet"), X("Internet Explorer"), X("Yandex Browser"), X("UC Browser"),       \
        X("Windows"), X("macOS"), X("iOS"), X("Android"), X("Linux"), X("ChromeOS"), X("desktop"), \
        X("mobile"), X("tablet")
#define SES_FAM_NAME(s) s
#define SES_FAM_LEN(s)  sizeof(s) - 1
static const char *const ses_families[] = {SES_FAMILIES(SES_FAM_NAME)};
static const unsigned char ses_famlen[] = {SES_FAMILIES(SES_FAM_LEN)};
#define SES_NFAMILIES (sizeof ses_famlen)

/* Version 4's visit-page entries: the index (< HZ_SEEN_MAX) of the same
 * hash's first place in the seen set, or SES_VP_LIT and the hash. */
#define SES_VP_LIT 0xffu

/* ------------------------------------------------------------ encoding */

struct ses_w {
    unsigned char *p;
    size_t n;
};

static void
ses_u8(struct ses_w *w, unsigned v)
{
    w->p[w->n++] = (unsigned char)v;
}

static void
ses_u32(struct ses_w *w, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        w->p[w->n++] = (unsigned char)(v >> (8 * i));
}

/* LEB128: 7 bits a byte, low first, the high bit set on all but the last. */
static void
ses_var(struct ses_w *w, uint64_t v)
{
    while (v >= 0x80) {
        w->p[w->n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    w->p[w->n++] = (unsigned char)v;
}

/* A signed difference, zigzagged (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...). */
static void
ses_zvar(struct ses_w *w, int64_t d)
{
    ses_var(w, ((uint64_t)d << 1) ^ (d < 0 ? UINT64_MAX : 0));
}

/* u64 times as differences from base, modulo 2^64: every pair has one. */
static void
ses_dms(struct ses_w *w, uint64_t v, uint64_t base)
{
    ses_zvar(w, (int64_t)(v - base));
}

static void
ses_str(struct ses_w *w, const char *s)
{
    size_t n = strlen(s);
    w->p[w->n++] = (unsigned char)n; /* every string is shorter than 256 */
    memcpy(w->p + w->n, s, n);
    w->n += n;
}

/* The table index of the n bytes at s, or -1. */
static int
ses_fam_index(const char *s, size_t n)
{
    for (size_t i = 0; i < SES_NFAMILIES; i++)
        if (ses_famlen[i] == n && memcmp(s, ses_families[i], n) == 0)
            return (int)i;
    return -1;
}

static void
ses_fam(struct ses_w *w, const char *s)
{
    size_t n = strlen(s);
    int i = ses_fam_index(s, n);

    if (i >= 0) {
        ses_u8(w, SES_FAM_CODE + (unsigned)i);
        return;
    }
    ses_u8(w, (unsigned)n);
    memcpy(w->p + w->n, s, n);
    w->n += n;
}

/* The first place of h in the seen set, or -1. */
static int
ses_seen_at(const struct hz_session *s, int upto, uint32_t h)
{
    for (int i = 0; i < upto; i++)
        if (s->seen[i] == h)
            return i;
    return -1;
}

size_t
hz_session_encode(const struct hz_session *s, unsigned char *out)
{
    struct ses_w w = {out, 0};
    int same = strcmp(s->entry, s->last_page) == 0;

    ses_u8(&w, SES_VERSION);
    ses_var(&w, s->start_ms);
    ses_dms(&w, s->last_ms, s->start_ms);
    ses_dms(&w, s->last_pv_ms, s->start_ms);
    ses_var(&w, (uint32_t)s->start_day);
    ses_zvar(&w, (int64_t)s->last_pv_day - s->start_day);
    ses_zvar(&w, (int64_t)s->seen_day - s->start_day);
    ses_zvar(&w, (int64_t)s->last_hour - (int64_t)s->start_day * 24);
    ses_var(&w, s->pageviews);
    ses_u8(&w, (s->last_pixel ? SES_F_PIXEL : 0) | (s->engaged ? SES_F_ENGAGED : 0) |
                   (same ? SES_F_SAMEPAGE : 0));
    ses_u8(&w, (unsigned)s->nfunnels);
    for (int i = 0; i < s->nfunnels; i++) {
        ses_u8(&w, s->fstep[i]);
        ses_dms(&w, s->ftime[i], s->start_ms);
    }
    ses_u8(&w, (unsigned)s->nseen);
    ses_u8(&w, (unsigned)s->seen_ring);
    for (int i = 0; i < s->nseen; i++)
        ses_u32(&w, s->seen[i]);
    ses_u8(&w, (unsigned)s->nvpages);
    ses_u8(&w, (unsigned)s->vpages_ring);
    for (int i = 0; i < s->nvpages; i++) {
        int at = ses_seen_at(s, s->nseen, s->vpages[i]);
        if (at >= 0) {
            ses_u8(&w, (unsigned)at);
        } else {
            ses_u8(&w, SES_VP_LIT);
            ses_u32(&w, s->vpages[i]);
        }
    }
    ses_str(&w, s->entry);
    if (!same)
        ses_str(&w, s->last_page);
    ses_str(&w, s->source);
    ses_str(&w, s->utm_medium);
    ses_str(&w, s->utm_campaign);
    ses_str(&w, s->region);
    ses_fam(&w, s->browser);
    ses_fam(&w, s->os);
    ses_fam(&w, s->device);
    ses_str(&w, s->utm_content);
    ses_str(&w, s->utm_term);
    ses_str(&w, s->referrer);
    ses_str(&w, s->browser_version);
    ses_str(&w, s->os_version);
    return w.n;
}

/* ------------------------------------------------------------ decoding */

struct ses_r {
    const unsigned char *p;
    size_t n, off;
    int bad;
    int wide; /* versions 1 to 3: u16 string lengths */
};

static const unsigned char *
ses_take(struct ses_r *r, size_t n)
{
    if (r->bad || r->n - r->off < n) {
        r->bad = 1;
        return NULL;
    }
    r->off += n;
    return r->p + r->off - n;
}

static unsigned
ses_ru8(struct ses_r *r)
{
    const unsigned char *p = ses_take(r, 1);
    return p ? p[0] : 0;
}

static uint32_t
ses_ru32(struct ses_r *r)
{
    const unsigned char *p = ses_take(r, 4);
    uint32_t v = 0;
    for (int i = 3; p != NULL && i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t
ses_ru64(struct ses_r *r)
{
    const unsigned char *p = ses_take(r, 8);
    uint64_t v = 0;
    for (int i = 7; p != NULL && i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* A LEB128 number in its one shortest form (no trailing zero byte, no bits
 * past 64), at most max. */
static uint64_t
ses_rvar(struct ses_r *r, uint64_t max)
{
    uint64_t v = 0;

    for (int i = 0; i < 10; i++) {
        const unsigned char *p = ses_take(r, 1);
        if (p == NULL)
            return 0;
        if ((i == 9 && *p > 1) || (i > 0 && *p == 0))
            break;
        v |= (uint64_t)(*p & 0x7f) << (7 * i);
        if (!(*p & 0x80)) {
            if (v > max)
                break;
            return v;
        }
    }
    r->bad = 1;
    return 0;
}

static int64_t
ses_rzvar(struct ses_r *r)
{
    uint64_t u = ses_rvar(r, UINT64_MAX);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static uint64_t
ses_rdms(struct ses_r *r, uint64_t base)
{
    return base + (uint64_t)ses_rzvar(r);
}

/* base + a difference, which must land in 0..INT32_MAX (a day or an hour
 * number); any difference that does is one a real state can have. */
static int32_t
ses_rday(struct ses_r *r, int64_t base)
{
    int64_t d = ses_rzvar(r);

    if (d < -((int64_t)1 << 40) || d > ((int64_t)1 << 40) || base + d < 0 || base + d > INT32_MAX) {
        r->bad = 1;
        return 0;
    }
    return (int32_t)(base + d);
}

/* n bytes of valid text into dst (cap bytes); pages start with '/'. */
static void
ses_rtext(struct ses_r *r, size_t n, char *dst, size_t cap, int page)
{
    const unsigned char *p;

    dst[0] = '\0';
    if (n >= cap) {
        r->bad = 1;
        return;
    }
    if ((p = ses_take(r, n)) == NULL)
        return;
    if (!hz_text_valid((const char *)p, n) || (page && n > 0 && p[0] != '/')) {
        r->bad = 1;
        return;
    }
    memcpy(dst, p, n);
    dst[n] = '\0';
}

/* A string of at most cap-1 bytes after its u16 (versions 1 to 3) or u8
 * length. */
static void
ses_rstr(struct ses_r *r, char *dst, size_t cap, int page)
{
    const unsigned char *lp = ses_take(r, r->wide ? 2 : 1);

    dst[0] = '\0';
    if (lp == NULL)
        return;
    ses_rtext(r, r->wide ? (size_t)(lp[0] | lp[1] << 8) : lp[0], dst, cap, page);
}

/* A family name: a table index, or a name the table does not hold. */
static void
ses_rfam(struct ses_r *r, char *dst, size_t cap)
{
    unsigned c;

    if (r->wide) {
        ses_rstr(r, dst, cap, 0);
        return;
    }
    c = ses_ru8(r);
    dst[0] = '\0';
    if (c >= SES_FAM_CODE) {
        if (c - SES_FAM_CODE >= SES_NFAMILIES || ses_famlen[c - SES_FAM_CODE] >= cap) {
            r->bad = 1;
            return;
        }
        memcpy(dst, ses_families[c - SES_FAM_CODE], ses_famlen[c - SES_FAM_CODE] + 1u);
        return;
    }
    ses_rtext(r, c, dst, cap, 0);
    if (!r->bad && ses_fam_index(dst, c) >= 0)
        r->bad = 1; /* written as its index, always */
}

/* Version 4's numbers before the flags byte. */
static void
ses_rnums4(struct ses_r *r, struct hz_session *s)
{
    s->start_ms = ses_rvar(r, UINT64_MAX);
    s->last_ms = ses_rdms(r, s->start_ms);
    s->last_pv_ms = ses_rdms(r, s->start_ms);
    s->start_day = (int32_t)ses_rvar(r, INT32_MAX);
    s->last_pv_day = ses_rday(r, s->start_day);
    s->seen_day = ses_rday(r, s->start_day);
    s->last_hour = ses_rday(r, (int64_t)s->start_day * 24);
    s->pageviews = (uint32_t)ses_rvar(r, UINT32_MAX);
}

/* Version 4's visit pages: seen-set references or literal hashes. */
static int
ses_rvpages4(struct ses_r *r, struct hz_session *s)
{
    for (int i = 0; i < s->nvpages; i++) {
        unsigned c = ses_ru8(r);
        if (c == SES_VP_LIT) {
            s->vpages[i] = ses_ru32(r);
            if (ses_seen_at(s, s->nseen, s->vpages[i]) >= 0)
                return -1; /* written as a reference, always */
        } else if ((int)c < s->nseen && ses_seen_at(s, (int)c, s->seen[c]) < 0) {
            s->vpages[i] = s->seen[c];
        } else {
            return -1; /* past the set, or not the hash's first place */
        }
    }
    return 0;
}

int
hz_session_decode(const unsigned char *buf, size_t len, struct hz_session *s)
{
    struct ses_r r = {buf, len, 0, 0, 0};

    memset(s, 0, sizeof(*s));
    unsigned version = ses_ru8(&r);
    if (version < 1 || version > SES_VERSION)
        return HZ_EINVAL;
    r.wide = version < 4;
    if (r.wide) {
        s->start_ms = ses_ru64(&r);
        s->last_ms = ses_ru64(&r);
        s->last_pv_ms = ses_ru64(&r);
        s->start_day = (int32_t)ses_ru32(&r);
        s->last_pv_day = (int32_t)ses_ru32(&r);
        s->seen_day = (int32_t)ses_ru32(&r);
        s->last_hour = (int32_t)ses_ru32(&r);
        s->pageviews = ses_ru32(&r);
    } else {
        ses_rnums4(&r, s);
    }
    unsigned flags = ses_ru8(&r);
    if (flags > (r.wide ? 3u : 7u))
        return HZ_EINVAL;
    s->last_pixel = (int)(flags & SES_F_PIXEL);
    s->engaged = (int)((flags & SES_F_ENGAGED) >> 1);
    s->nfunnels = (int)ses_ru8(&r);
    if (s->nfunnels > HZ_FUNNELS_MAX)
        return HZ_EINVAL;
    for (int i = 0; i < s->nfunnels; i++) {
        s->fstep[i] = (uint8_t)ses_ru8(&r);
        s->ftime[i] = r.wide ? ses_ru64(&r) : ses_rdms(&r, s->start_ms);
        if (s->fstep[i] > HZ_FUNNEL_STEPS_MAX)
            return HZ_EINVAL;
    }
    s->nseen = (int)ses_ru8(&r);
    s->seen_ring = (int)ses_ru8(&r);
    if (s->nseen > HZ_SEEN_MAX || s->seen_ring >= HZ_SEEN_MAX)
        return HZ_EINVAL;
    for (int i = 0; i < s->nseen; i++)
        s->seen[i] = ses_ru32(&r);
    s->nvpages = (int)ses_ru8(&r);
    s->vpages_ring = (int)ses_ru8(&r);
    if (s->nvpages > HZ_VPAGES_MAX || s->vpages_ring >= HZ_VPAGES_MAX)
        return HZ_EINVAL;
    if (r.wide) {
        for (int i = 0; i < s->nvpages; i++)
            s->vpages[i] = ses_ru32(&r);
    } else if (ses_rvpages4(&r, s) != 0) {
        return HZ_EINVAL;
    }
    ses_rstr(&r, s->entry, sizeof(s->entry), 1);
    if (flags & SES_F_SAMEPAGE) {
        memcpy(s->last_page, s->entry, sizeof(s->last_page));
    } else {
        ses_rstr(&r, s->last_page, sizeof(s->last_page), 1);
        if (!r.wide && strcmp(s->entry, s->last_page) == 0)
            return HZ_EINVAL; /* written with the flag, always */
    }
    ses_rstr(&r, s->source, sizeof(s->source), 0);
    ses_rstr(&r, s->utm_medium, sizeof(s->utm_medium), 0);
    ses_rstr(&r, s->utm_campaign, sizeof(s->utm_campaign), 0);
    ses_rstr(&r, s->region, sizeof(s->region), 0);
    ses_rfam(&r, s->browser, sizeof(s->browser));
    ses_rfam(&r, s->os, sizeof(s->os));
    ses_rfam(&r, s->device, sizeof(s->device));
    if (version >= 2) {
        ses_rstr(&r, s->utm_content, sizeof(s->utm_content), 0);
        ses_rstr(&r, s->utm_term, sizeof(s->utm_term), 0);
        ses_rstr(&r, s->referrer, sizeof(s->referrer), 0);
    }
    if (version >= 3) {
        ses_rstr(&r, s->browser_version, sizeof(s->browser_version), 0);
        ses_rstr(&r, s->os_version, sizeof(s->os_version), 0);
    }
    if (r.bad || r.off != len)
        return HZ_EINVAL;
    /* Day numbers of a real state are small and positive. */
    if (s->start_day < 0 || s->last_pv_day < 0 || s->seen_day < 0 || s->last_hour < 0)
        return HZ_EINVAL;
    return 0;
}

/* ------------------------------------------------------------ keys, sets */

size_t
hz_session_key(char *out, size_t cap, const char *stream, const char *site, const char *vh)
{
    int n = snprintf(out, cap, "%s:v:%s:%s", stream, site, vh);
    return (n < 0 || (size_t)n >= cap) ? 0 : (size_t)n;
}

/* A per-thread memo of recent (dim, value) -> hash: a batch marks the same
 * few pages, cells and the total over and over, and SipHash-2-4 costs ~4x
 * the memo's probe. Direct-mapped by a cheap hash of the bytes and checked
 * against the stored value, so a crafted set of values only causes misses
 * (each a SipHash, as without the memo); the results are SipHash's. */
#define SES_MEMO      2048 /* slots, a power of two */
#define SES_MEMO_VLEN 58   /* longer values are not kept */

struct ses_memo {
    uint32_t h;
    uint8_t dim, len; /* len 0xff: empty slot */
    char v[SES_MEMO_VLEN];
};

static _Thread_local struct ses_memo ses_memo[SES_MEMO];
static _Thread_local int ses_memo_ready;

static uint32_t
ses_siphash(int dim, const char *value, size_t len)
{
    static const unsigned char key[HZ_SIPHASH_KEY] = "haze-seen-set-v1";
    unsigned char buf[1 + HZ_PAGE_MAX];

    /* One call on one buffer: values are at most a page path long. */
    if (len >= HZ_PAGE_MAX)
        len = HZ_PAGE_MAX - 1;
    buf[0] = (unsigned char)dim;
    memcpy(buf + 1, value, len);
    return (uint32_t)hz_siphash(key, buf, len + 1);
}

uint32_t
hz_session_hash(int dim, const char *value, size_t len)
{
    struct ses_memo *m;

    if (len > SES_MEMO_VLEN)
        return ses_siphash(dim, value, len);
    if (!ses_memo_ready) {
        for (size_t i = 0; i < SES_MEMO; i++)
            ses_memo[i].len = 0xff;
        ses_memo_ready = 1;
    }
    m = &ses_memo[hz_quick_hash((uint64_t)dim, value, len) & (SES_MEMO - 1)];
    if (m->len != len || m->dim != (uint8_t)dim || memcmp(m->v, value, len) != 0) {
        m->h = ses_siphash(dim, value, len);
        m->dim = (uint8_t)dim;
        m->len = (uint8_t)len;
        memcpy(m->v, value, len);
    }
    return m->h;
}

static int
ses_ring(uint32_t *set, int *n, int *ring, int max, uint32_t h)
{
    for (int i = 0; i < *n; i++)
        if (set[i] == h)
            return 1;
    if (*n < max) {
        set[(*n)++] = h;
    } else {
        set[*ring] = h;
        *ring = (*ring + 1) % max;
    }
    return 0;
}

int
hz_session_seen(struct hz_session *s, uint32_t h)
{
    return ses_ring(s->seen, &s->nseen, &s->seen_ring, HZ_SEEN_MAX, h);
}

int
hz_session_vseen(struct hz_session *s, uint32_t h)
{
    return ses_ring(s->vpages, &s->nvpages, &s->vpages_ring, HZ_VPAGES_MAX, h);
}

void
hz_session_mark(struct hz_session *s, int today, int in_visit, int dim, const char *value,
                size_t len, uint64_t *visitor, uint64_t *visit)
{
    uint32_t h;

    today = today && visitor != NULL;
    in_visit = in_visit && visit != NULL;
    if (!today && !in_visit)
        return;
    h = hz_session_hash(dim, value, len);
    if (today)
        *visitor = (uint64_t)!hz_session_seen(s, h);
    if (in_visit)
        *visit = (uint64_t)!hz_session_vseen(s, h);
}
