/* SPDX-License-Identifier: MIT */
/*
 * xcells.c - a pair's table of cells and its crowd-size rule (xcells.h).
 */
#include "dashboard/xcells.h"

#include <stdlib.h>
#include <string.h>

#include "common/groups.h"
#include "common/mem.h"
#include "common/siphash.h"

static unsigned char xc_key[HZ_SIPHASH_KEY];
static int xc_key_set;

static uint32_t
xc_hash(const char *v, size_t len)
{
    if (!xc_key_set) {
        arc4random_buf(xc_key, sizeof(xc_key));
        xc_key_set = 1;
    }
    return (uint32_t)hz_siphash13(xc_key, v, len);
}

void
hz_xcells_init(struct hz_xcells *t)
{
    memset(t, 0, sizeof(*t));
    t->last = -1;
}

void
hz_xcells_free(struct hz_xcells *t)
{
    free(t->c);
    free(t->pool);
    free(t->slot);
    free(t->acc);
    free(t->pend);
    free(t->pendat);
    free(t->wide);
    hz_xcells_init(t);
}

void
hz_xcells_trim(struct hz_xcells *t)
{
    free(t->slot);
    free(t->acc);
    free(t->pend);
    free(t->pendat);
    t->slot = NULL;
    t->acc = t->pend = NULL;
    t->pendat = NULL;
    t->scap = t->nidx = t->nacc = t->accap = t->npend = t->pendcap = t->at = 0;
}

void
hz_xcells_wide(struct hz_xcells *t)
{
    if (t->wide == NULL)
        t->wide = hz_xcalloc(t->cap + 1, sizeof(*t->wide));
}

/* The cells' room is now cap: the wide counters' too. */
static void
xc_wide_grow(struct hz_xcells *t)
{
    if (t->wide != NULL)
        t->wide = hz_xreallocarray(t->wide, t->cap + 1, sizeof(*t->wide));
}

void
hz_xcells_reserve(struct hz_xcells *t, size_t ncells, size_t nbytes)
{
    if (ncells > t->cap) {
        t->c = hz_xreallocarray(t->c, ncells, sizeof(*t->c));
        t->cap = ncells;
        xc_wide_grow(t);
    }
    if (ncells > t->pendcap) {
        t->pend = hz_xreallocarray(t->pend, ncells, sizeof(*t->pend));
        t->pendat = hz_xreallocarray(t->pendat, ncells, sizeof(*t->pendat));
        t->pendcap = ncells;
    }
    if (nbytes > t->pcap) {
        t->pool = hz_xreallocarray(t->pool, nbytes, 1);
        t->pcap = nbytes;
    }
}

static long
xc_find(const struct hz_xcells *t, const char *v, size_t len, uint32_t h)
{
    if (t->scap == 0)
        return -1;
    for (size_t i = h & (t->scap - 1);; i = (i + 1) & (t->scap - 1)) {
        uint64_t s = t->slot[i];
        if (s == 0)
            return -1;
        if ((uint32_t)(s >> 32) != h)
            continue;
        const struct hz_xcell *c = &t->c[(uint32_t)s - 1];
        if (c->vlen == len && memcmp(t->pool + c->voff, v, len) == 0)
            return (long)((uint32_t)s - 1);
    }
}

/* Puts slot value s (hash h) into the index. */
static void
xc_place(uint64_t *slot, size_t cap, uint32_t h, uint64_t s)
{
    size_t i = h & (cap - 1);

    while (slot[i] != 0)
        i = (i + 1) & (cap - 1);
    slot[i] = s;
}

/* Indexes the next cell (nidx), whose value hashes to h; the index doubles
 * at half load, its slots keep their hashes: nothing is hashed again. */
static void
xc_index(struct hz_xcells *t, uint32_t h)
{
    if ((t->nidx + 1) * 2 > t->scap) {
        size_t cap = t->scap ? t->scap * 2 : 256;
        uint64_t *slot = hz_xcalloc(cap, sizeof(*slot));
        for (size_t i = 0; i < t->scap; i++)
            if (t->slot[i] != 0)
                xc_place(slot, cap, (uint32_t)(t->slot[i] >> 32), t->slot[i]);
        free(t->slot);
        t->slot = slot;
        t->scap = cap;
    }
    xc_place(t->slot, t->scap, h, ((uint64_t)h << 32) | (uint64_t)(t->nidx + 1));
    t->nidx++;
}

/* Indexes the cells hz_xcells_seq added. */
static void
xc_index_all(struct hz_xcells *t)
{
    while (t->nidx < t->n) {
        const struct hz_xcell *c = &t->c[t->nidx];
        xc_index(t, xc_hash(t->pool + c->voff, c->vlen));
    }
}

long
hz_xcells_find(struct hz_xcells *t, const char *v, size_t len)
{
    xc_index_all(t);
    return t->scap == 0 ? -1 : xc_find(t, v, len, xc_hash(v, len));
}

/* Appends a cell with value (v, len) and zero counters (not indexed). */
static size_t
xc_append(struct hz_xcells *t, const char *v, size_t len)
{
    struct hz_xcell *c;
    const char *sep;

    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->c = hz_xreallocarray(t->c, t->cap, sizeof(*t->c));
        xc_wide_grow(t);
    }
    if (t->plen + len + 1 > t->pcap) {
        size_t cap = t->pcap ? t->pcap : 4096;
        while (cap < t->plen + len + 1)
            cap *= 2;
        t->pool = hz_xreallocarray(t->pool, cap, 1);
        t->pcap = cap;
    }
    c = &t->c[t->n];
    memset(c, 0, sizeof(*c));
    c->voff = (uint32_t)t->plen;
    c->vlen = (uint32_t)len;
    sep = len > 0 ? memchr(v, HZ_CELL_SEP, len) : NULL;
    c->l1 = (uint32_t)(sep != NULL ? (size_t)(sep - v) : len);
    c->l2 = (uint32_t)(sep != NULL ? len - c->l1 - 1 : 0);
    c->dest = (int32_t)t->n;
    if (t->wide != NULL)
        memset(&t->wide[t->n], 0, sizeof(*t->wide));
    if (len > 0)
        memcpy(t->pool + t->plen, v, len);
    t->pool[t->plen + len] = '\0';
    t->plen += len + 1;
    return t->n++;
}

size_t
hz_xcells_get(struct hz_xcells *t, const char *v, size_t len)
{
    uint32_t h;
    long found;

    xc_index_all(t);
    h = xc_hash(v, len);
    if ((found = xc_find(t, v, len, h)) >= 0)
        return (size_t)found;
    size_t i = xc_append(t, v, len);
    xc_index(t, h);
    return i;
}

/* Byte order, shorter first on a common prefix: LMDB's order of keys. */
static int
xc_cmp(const char *a, size_t la, const char *b, size_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);

    return c != 0 ? c : (la > lb) - (la < lb);
}

/* cmp of the kept value at place k of the order with (v, len). */
static int
xc_acc_cmp(const struct hz_xcells *t, size_t k, const char *v, size_t len)
{
    return xc_cmp(t->pool + t->acc[k].voff, t->acc[k].vlen, v, len);
}

/*
 * Invariant between calls: the last value is below the one at acc[at] (it
 * was acc[at - 1], or went in just before acc[at]). So a value equal to
 * acc[at] continues the run without a look at the last one. Otherwise the
 * place of the value is found by galloping: runs of days are sparse in a
 * year's cells.
 */
size_t
hz_xcells_seq_slow(struct hz_xcells *t, const char *v, size_t len)
{
    int c = t->at < t->nacc ? xc_acc_cmp(t, t->at, v, len) : 1;
    size_t i;

    if (c != 0 && t->last >= 0 &&
        xc_cmp(t->pool + t->c[t->last].voff, t->c[t->last].vlen, v, len) >= 0) {
        hz_xcells_seq_end(t); /* not increasing: a new run */
        c = t->nacc > 0 ? xc_acc_cmp(t, 0, v, len) : 1;
    }
    if (c < 0) {
        /* acc[lo] < v; find the first place hi with acc[hi] >= v. */
        size_t lo = t->at, step = 1, hi;
        while (lo + step < t->nacc && xc_acc_cmp(t, lo + step, v, len) < 0) {
            lo += step;
            step *= 2;
        }
        hi = lo + step < t->nacc ? lo + step : t->nacc;
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (xc_acc_cmp(t, mid, v, len) < 0)
                lo = mid;
            else
                hi = mid;
        }
        t->at = hi;
        c = hi < t->nacc ? xc_acc_cmp(t, hi, v, len) : 1;
    }
    if (c == 0) {
        i = t->acc[t->at++].cell;
    } else {
        i = xc_append(t, v, len);
        if (t->npend == t->pendcap) {
            t->pendcap = t->pendcap ? t->pendcap * 2 : 1024;
            t->pend = hz_xreallocarray(t->pend, t->pendcap, sizeof(*t->pend));
            t->pendat = hz_xreallocarray(t->pendat, t->pendcap, sizeof(*t->pendat));
        }
        /* acc[at] is the first kept value above v (or at is nacc). */
        t->pendat[t->npend] = (uint32_t)t->at;
        t->pend[t->npend++] = (struct hz_xcells_ref){(uint32_t)i, t->c[i].voff, t->c[i].vlen};
    }
    t->last = (long)i;
    return i;
}

/* The run's new values go into the value order where they were found to
 * belong (pendat: increasing with them, as the run's values are), so the
 * merge compares no values. */
void
hz_xcells_seq_end(struct hz_xcells *t)
{
    if (t->npend > 0) {
        size_t n = t->nacc + t->npend, a = 0, k = 0;
        struct hz_xcells_ref *m = hz_xreallocarray(NULL, n, sizeof(*m));
        for (size_t b = 0; b < t->npend; b++) {
            size_t to = t->pendat[b];
            if (to > a)
                memcpy(m + k, t->acc + a, (to - a) * sizeof(*m));
            k += to - a;
            a = to;
            m[k++] = t->pend[b];
        }
        if (t->nacc > a)
            memcpy(m + k, t->acc + a, (t->nacc - a) * sizeof(*m));
        free(t->acc);
        t->acc = m;
        t->nacc = t->accap = n;
        t->npend = 0;
    }
    t->at = 0;
    t->last = -1;
}

/* A cell of b's that a does not have: map's high bit. */
#define XC_NEW 0x80000000u

void
hz_xcells_merge(struct hz_xcells *a, const struct hz_xcells *b, const uint32_t *order)
{
    uint32_t *map = hz_xcalloc(b->n + 1, sizeof(*map)); /* b's cell -> a's */
    size_t i = 0, j = 0, k = 0, nold = a->nacc, nnew = 0;
    struct hz_xcells_ref *m;

    /* Which of b's cells a has: both orders are by value. */
    while (j < b->nacc) {
        const struct hz_xcells_ref *y = &b->acc[j];
        int c = i < nold
                    ? xc_cmp(a->pool + a->acc[i].voff, a->acc[i].vlen, b->pool + y->voff, y->vlen)
                    : 1;
        if (c < 0) {
            i++;
            continue;
        }
        map[y->cell] = c == 0 ? a->acc[i++].cell : XC_NEW;
        nnew += c != 0;
        j++;
    }
    /* b's counters into a, its new cells appended in b's order: as if a's
     * scan had gone on with b's rows. */
    for (size_t o = 0; o < b->n; o++) {
        size_t n = order != NULL ? order[o] : o;
        const struct hz_xcell *s = &b->c[n];
        if (map[n] == XC_NEW)
            map[n] = (uint32_t)xc_append(a, b->pool + s->voff, s->vlen) | XC_NEW;
        struct hz_xcell *d = &a->c[map[n] & ~XC_NEW];
        d->visitors += s->visitors;
        d->visits += s->visits;
        d->pageviews += s->pageviews;
        d->events += s->events;
        if (a->wide != NULL && b->wide != NULL)
            hz_counts_add(&a->wide[map[n] & ~XC_NEW], &b->wide[n]);
    }
    /* The value order of the new cells, merged into a's. */
    m = hz_xreallocarray(NULL, nold + nnew + 1, sizeof(*m));
    i = 0;
    for (j = 0; j < b->nacc; j++) {
        uint32_t to = map[b->acc[j].cell];
        if (!(to & XC_NEW))
            continue;
        const struct hz_xcell *c = &a->c[to & ~XC_NEW];
        while (i < nold &&
               xc_cmp(a->pool + a->acc[i].voff, a->acc[i].vlen, a->pool + c->voff, c->vlen) < 0)
            m[k++] = a->acc[i++];
        m[k++] = (struct hz_xcells_ref){to & ~XC_NEW, c->voff, c->vlen};
    }
    while (i < nold)
        m[k++] = a->acc[i++];
    free(a->acc);
    a->acc = m;
    a->nacc = a->accap = k;
    a->at = 0;
    a->last = -1;
    free(map);
}

void
hz_xcells_drop_empty(struct hz_xcells *t)
{
    uint32_t *to = hz_xcalloc(t->n + 1, sizeof(*to)); /* new index + 1, 0: dropped */
    size_t n = 0, k = 0;

    for (size_t i = 0; i < t->n; i++) {
        const struct hz_xcell *c = &t->c[i];
        if ((c->visitors | c->visits | c->pageviews | c->events) == 0)
            continue;
        t->c[n] = *c;
        t->c[n].dest = (int32_t)n;
        if (t->wide != NULL)
            t->wide[n] = t->wide[i];
        to[i] = (uint32_t)++n;
    }
    for (size_t j = 0; j < t->nacc; j++)
        if (to[t->acc[j].cell] != 0) {
            t->acc[k] = t->acc[j];
            t->acc[k++].cell = to[t->acc[j].cell] - 1;
        }
    t->nacc = k;
    t->n = n;
    free(to);
}

/* ------------------------------------------------------------ suppression */

/* A region code "CC-SUB": the length of its country part, or 0. */
static size_t
xc_country(const char *v, size_t len)
{
    return len > 3 && v[2] == '-' ? 2 : 0;
}

/* The "other value \x1f country" key of a small region cell into key
 * (cap bytes): its length, or 0 when the cell is not a region code. */
static size_t
xc_region_key(const struct hz_xcells *t, size_t i, int side, char *key, size_t cap)
{
    const char *reg = side == 1 ? hz_xcells_v1(t, i) : hz_xcells_v2(t, i);
    const char *oth = side == 1 ? hz_xcells_v2(t, i) : hz_xcells_v1(t, i);
    size_t rl = side == 1 ? t->c[i].l1 : t->c[i].l2, ol = side == 1 ? t->c[i].l2 : t->c[i].l1;

    if (xc_country(reg, rl) == 0 || ol + 3 >= cap)
        return 0;
    if (side == 1) {
        memcpy(key, reg, 2);
        key[2] = HZ_CELL_SEP;
        memcpy(key + 3, oth, ol);
    } else {
        memcpy(key, oth, ol);
        key[ol] = HZ_CELL_SEP;
        memcpy(key + ol + 1, reg, 2);
    }
    return ol + 3;
}

/* Region fallback within each row: the small region cells of one country
 * move into a country cell ("DE-BY" -> "DE") when together they reach
 * min. The country cell's key has the same shape as a cell's. */
static void
xc_regions(struct hz_xcells *t, int side, uint64_t min)
{
    size_t n0 = t->n, kl;
    struct hz_xcells sums;
    char key[2 * 256 + 8];

    hz_xcells_init(&sums);
    for (size_t i = 0; i < n0; i++)
        if (t->c[i].visitors < min && (kl = xc_region_key(t, i, side, key, sizeof(key))) != 0) {
            size_t k = hz_xcells_get(&sums, key, kl);
            sums.c[k].visitors += t->c[i].visitors;
        }
    for (size_t i = 0; i < n0; i++) {
        long k;
        if (t->c[i].visitors >= min || (kl = xc_region_key(t, i, side, key, sizeof(key))) == 0 ||
            (k = hz_xcells_find(&sums, key, kl)) < 0 || sums.c[k].visitors < min)
            continue;
        size_t d = hz_xcells_get(t, key, kl); /* may move t->c */
        t->c[d].dest = (int32_t)d;
        t->c[d].visitors += t->c[i].visitors;
        t->c[d].visits += t->c[i].visits;
        t->c[d].pageviews += t->c[i].pageviews;
        t->c[d].events += t->c[i].events;
        t->c[i].hidden = 1;
        t->c[i].dest = (int32_t)d;
    }
    hz_xcells_free(&sums);
}

/* Numbers the distinct values of part k (0: v1, 1: v2) of the cells into
 * c->line[k] (first seen, first numbered): hashed, compared in the pool,
 * nothing copied. Returns how many there are. A part as long as a key may
 * be counts as "" (one line for all such cells). */
static size_t
xc_part_ids(struct hz_xcells *t, int k, size_t keymax)
{
    size_t cap = 64, n = 0;
    uint64_t *slot;

    while (cap < 2 * (t->n + 1))
        cap *= 2;
    slot = hz_xcalloc(cap, sizeof(*slot));
    for (size_t i = 0; i < t->n; i++) {
        struct hz_xcell *c = &t->c[i];
        const char *v = k == 0 ? hz_xcells_v1(t, i) : hz_xcells_v2(t, i);
        size_t len = k == 0 ? c->l1 : c->l2, j;
        if (c->l1 + 1 >= keymax || c->l2 + 1 >= keymax)
            len = 0;
        uint32_t h = xc_hash(v, len);
        for (j = h & (cap - 1); slot[j] != 0; j = (j + 1) & (cap - 1)) {
            if ((uint32_t)(slot[j] >> 32) != h)
                continue;
            const struct hz_xcell *o = &t->c[(uint32_t)slot[j] - 1];
            const char *ov = k == 0 ? hz_xcells_v1(t, (uint32_t)slot[j] - 1)
                                    : hz_xcells_v2(t, (uint32_t)slot[j] - 1);
            size_t olen = k == 0 ? o->l1 : o->l2;
            if (o->l1 + 1 >= keymax || o->l2 + 1 >= keymax)
                olen = 0;
            if (olen == len && memcmp(ov, v, len) == 0)
                break;
        }
        if (slot[j] != 0) {
            c->line[k] = t->c[(uint32_t)slot[j] - 1].line[k];
        } else {
            slot[j] = (uint64_t)h << 32 | (uint64_t)(i + 1);
            c->line[k] = (uint32_t)n++;
        }
    }
    free(slot);
    return n;
}

/* Row (v1) and column (v2) ids of every cell; the number of each in n[].
 * Cells kept in value order (hz_xcells_seq) have the cells of one row
 * together (the values that start with "v1\x1f"): their row ids are
 * counted off in that order; columns, and other tables, are hashed. */
static void
xc_lines(struct hz_xcells *t, size_t n[2])
{
    int ordered = t->nacc == t->n;
    const size_t keymax = 2 * 256 + 8; /* as long as a key may be */

    for (size_t i = 0; i < t->n && ordered; i++)
        ordered = t->c[i].l1 + 1 < keymax && t->c[i].l2 + 1 < keymax;
    n[0] = 0;
    for (size_t k = 0; ordered && k < t->nacc; k++) {
        struct hz_xcell *c = &t->c[t->acc[k].cell];
        const struct hz_xcell *p = k > 0 ? &t->c[t->acc[k - 1].cell] : NULL;
        if (p == NULL || p->l1 != c->l1 || memcmp(t->pool + p->voff, t->pool + c->voff, c->l1) != 0)
            n[0]++;
        c->line[0] = (uint32_t)(n[0] - 1);
    }
    if (!ordered)
        n[0] = xc_part_ids(t, 0, keymax);
    n[1] = xc_part_ids(t, 1, keymax);
}

/* One round of complementary suppression: in every line with exactly one
 * suppressed cell, the smallest visible cell (the first on a tie) is
 * suppressed too. Returns the number of cells it suppressed. */
static uint64_t
xc_complement(struct hz_xcells *t, const size_t nl[2])
{
    size_t *nsup[2], total = nl[0] + nl[1];
    long *best[2];
    uint64_t added = 0;

    nsup[0] = hz_xcalloc(total + 1, sizeof(size_t));
    nsup[1] = nsup[0] + nl[0];
    best[0] = hz_xcalloc(total + 1, sizeof(long));
    best[1] = best[0] + nl[0];
    for (size_t l = 0; l < total; l++)
        best[0][l] = -1;
    for (size_t i = 0; i < t->n; i++) {
        const struct hz_xcell *c = &t->c[i];
        if (c->hidden && c->dest != -1)
            continue; /* moved into a country cell */
        for (int k = 0; k < 2; k++) {
            size_t l = c->line[k];
            if (c->hidden)
                nsup[k][l]++;
            else if (best[k][l] < 0 || c->visitors < t->c[best[k][l]].visitors)
                best[k][l] = (long)i;
        }
    }
    for (size_t l = 0; l < total; l++) {
        long b = best[0][l];
        if (nsup[0][l] != 1 || b < 0 || t->c[b].hidden)
            continue;
        t->c[b].hidden = 1;
        t->c[b].dest = -1;
        added++;
    }
    free(nsup[0]);
    free(best[0]);
    return added;
}

uint64_t
hz_xcells_suppress(struct hz_xcells *t, int region_side, uint64_t min_visitors)
{
    uint64_t n = 0, more;
    size_t nl[2];

    for (size_t i = 0; i < t->n; i++) {
        t->c[i].hidden = 0;
        t->c[i].dest = (int32_t)i;
    }
    if (region_side != 0)
        xc_regions(t, region_side, min_visitors);
    for (size_t i = 0; i < t->n; i++)
        if (!t->c[i].hidden && t->c[i].visitors < min_visitors) {
            t->c[i].hidden = 1;
            t->c[i].dest = -1;
            n++;
        }
    if (n == 0)
        return 0; /* no line with a suppressed cell: nothing to complement */
    xc_lines(t, nl);
    do {
        more = xc_complement(t, nl);
        n += more;
    } while (more > 0);
    return n;
}
