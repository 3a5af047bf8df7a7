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

#define SES_VERSION 3 /* 1: without utm_content, utm_term, referrer; 2: without the versions */

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

static void
ses_u64(struct ses_w *w, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        w->p[w->n++] = (unsigned char)(v >> (8 * i));
}

static void
ses_str(struct ses_w *w, const char *s)
{
    size_t n = strlen(s);
    w->p[w->n++] = (unsigned char)n;
    w->p[w->n++] = (unsigned char)(n >> 8);
    memcpy(w->p + w->n, s, n);
    w->n += n;
}

size_t
hz_session_encode(const struct hz_session *s, unsigned char *out)
{
    struct ses_w w = {out, 0};

    ses_u8(&w, SES_VERSION);
    ses_u64(&w, s->start_ms);
    ses_u64(&w, s->last_ms);
    ses_u64(&w, s->last_pv_ms);
    ses_u32(&w, (uint32_t)s->start_day);
    ses_u32(&w, (uint32_t)s->last_pv_day);
    ses_u32(&w, (uint32_t)s->seen_day);
    ses_u32(&w, (uint32_t)s->last_hour);
    ses_u32(&w, s->pageviews);
    ses_u8(&w, (s->last_pixel ? 1 : 0) | (s->engaged ? 2 : 0));
    ses_u8(&w, (unsigned)s->nfunnels);
    for (int i = 0; i < s->nfunnels; i++) {
        ses_u8(&w, s->fstep[i]);
        ses_u64(&w, s->ftime[i]);
    }
    ses_u8(&w, (unsigned)s->nseen);
    ses_u8(&w, (unsigned)s->seen_ring);
    for (int i = 0; i < s->nseen; i++)
        ses_u32(&w, s->seen[i]);
    ses_u8(&w, (unsigned)s->nvpages);
    ses_u8(&w, (unsigned)s->vpages_ring);
    for (int i = 0; i < s->nvpages; i++)
        ses_u32(&w, s->vpages[i]);
    ses_str(&w, s->entry);
    ses_str(&w, s->last_page);
    ses_str(&w, s->source);
    ses_str(&w, s->utm_medium);
    ses_str(&w, s->utm_campaign);
    ses_str(&w, s->region);
    ses_str(&w, s->browser);
    ses_str(&w, s->os);
    ses_str(&w, s->device);
    /* Version 2 appends these; a version 1 state decodes with them empty. */
    ses_str(&w, s->utm_content);
    ses_str(&w, s->utm_term);
    ses_str(&w, s->referrer);
    /* Version 3 appends the major versions. */
    ses_str(&w, s->browser_version);
    ses_str(&w, s->os_version);
    return w.n;
}

/* ------------------------------------------------------------ decoding */

struct ses_r {
    const unsigned char *p;
    size_t n, off;
    int bad;
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

/* A string of at most cap-1 valid text bytes; pages start with '/'. */
static void
ses_rstr(struct ses_r *r, char *dst, size_t cap, int page)
{
    const unsigned char *lp = ses_take(r, 2);
    size_t n = lp ? (size_t)(lp[0] | lp[1] << 8) : 0;
    const unsigned char *p;

    dst[0] = '\0';
    if (lp == NULL || n >= cap) {
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

int
hz_session_decode(const unsigned char *buf, size_t len, struct hz_session *s)
{
    struct ses_r r = {buf, len, 0, 0};

    memset(s, 0, sizeof(*s));
    unsigned version = ses_ru8(&r);
    if (version < 1 || version > SES_VERSION)
        return HZ_EINVAL;
    s->start_ms = ses_ru64(&r);
    s->last_ms = ses_ru64(&r);
    s->last_pv_ms = ses_ru64(&r);
    s->start_day = (int32_t)ses_ru32(&r);
    s->last_pv_day = (int32_t)ses_ru32(&r);
    s->seen_day = (int32_t)ses_ru32(&r);
    s->last_hour = (int32_t)ses_ru32(&r);
    s->pageviews = ses_ru32(&r);
    unsigned flags = ses_ru8(&r);
    if (flags > 3)
        return HZ_EINVAL;
    s->last_pixel = (int)(flags & 1);
    s->engaged = (int)(flags >> 1);
    s->nfunnels = (int)ses_ru8(&r);
    if (s->nfunnels > HZ_FUNNELS_MAX)
        return HZ_EINVAL;
    for (int i = 0; i < s->nfunnels; i++) {
        s->fstep[i] = (uint8_t)ses_ru8(&r);
        s->ftime[i] = ses_ru64(&r);
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
    for (int i = 0; i < s->nvpages; i++)
        s->vpages[i] = ses_ru32(&r);
    ses_rstr(&r, s->entry, sizeof(s->entry), 1);
    ses_rstr(&r, s->last_page, sizeof(s->last_page), 1);
    ses_rstr(&r, s->source, sizeof(s->source), 0);
    ses_rstr(&r, s->utm_medium, sizeof(s->utm_medium), 0);
    ses_rstr(&r, s->utm_campaign, sizeof(s->utm_campaign), 0);
    ses_rstr(&r, s->region, sizeof(s->region), 0);
    ses_rstr(&r, s->browser, sizeof(s->browser), 0);
    ses_rstr(&r, s->os, sizeof(s->os), 0);
    ses_rstr(&r, s->device, sizeof(s->device), 0);
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
