/* SPDX-License-Identifier: MIT */
/*
 * xcells.h - one declared pair's table of cells over a range, and its
 * crowd-size rule (crosstab.h, DESIGN.md privacy rule 5).
 *
 * A slim cousin of struct hz_qres for the pair path: a cell keeps only what
 * a pair stores (visitors, visits, pageviews, events), so a 365-day table of
 * ten thousand cells stays small enough for the caches while a question sums
 * its ~150,000 day and month rows. Values "v1\x1fv2" sit in one pool; the
 * index is open addressing with linear probing, keyed by SipHash-1-3 under a
 * per-process key (values are chosen by strangers), and each slot keeps the
 * hash's low 32 bits so a probe compares bytes only on a likely match.
 */
#ifndef HZ_DASHBOARD_XCELLS_H
#define HZ_DASHBOARD_XCELLS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/store.h"

struct hz_xcell {
    uint64_t visitors, visits, pageviews, events;
    uint32_t voff, vlen; /* value: pool + voff, NUL-terminated */
    uint32_t l1, l2;     /* "v1\x1fv2": v1 its first l1 bytes, v2 its last l2 */
    int32_t dest;        /* the cell it was moved into (a country cell), itself, or -1 */
    uint32_t line[2];    /* row (v1) and column (v2) ids, while suppressing */
    int hidden;          /* suppressed (dest -1) or moved into a country cell */
};

struct hz_xcells {
    struct hz_xcell *c; /* malloc'd */
    size_t n, cap;
    char *pool; /* values, malloc'd */
    size_t plen, pcap;
    uint64_t *slot; /* (hash low 32 bits << 32) | (index + 1); 0 = empty */
    size_t scap;    /* power of two, at most half full */
    size_t nidx;    /* cells [0, nidx) are in the index (hz_xcells_seq defers it) */
    /* hz_xcells_seq: the cells in value order, and the current run. */
    struct hz_xcells_ref *acc, *pend; /* malloc'd */
    uint32_t *pendat; /* pend[i] goes just before acc[pendat[i]] (malloc'd, pendcap) */
    size_t nacc, accap, npend, pendcap, at;
    long last; /* the cell of the run's last value, or -1 */
    /* A plain breakdown's table (hz_xcells_wide): each cell's every
     * counter, kept beside the cells (the pair path keeps four). */
    struct hz_counts *wide; /* malloc'd, cap + 1 of them (never NULL, even at cap 0), or NULL */
};

struct hz_xcells_ref {
    uint32_t cell, voff, vlen;
};

void hz_xcells_init(struct hz_xcells *t);
void hz_xcells_free(struct hz_xcells *t); /* t may be initialised again */
/* Frees t's index and value order (a table only read from now on, by
 * cell: hz_xcells_v1, t->c, t->wide; not to be looked up or added to). */
void hz_xcells_trim(struct hz_xcells *t);

/* Keeps all eight counters of each cell in t->wide (a plain breakdown's
 * rows: dashboard/xscan.h hz_xscan_rows); for an empty table. The four of
 * struct hz_xcell stay as they are (zero unless the caller adds to them);
 * hz_xcells_merge adds the wide ones too. */
void hz_xcells_wide(struct hz_xcells *t);

/* Room for ncells cells with nbytes of values (and their NULs) without
 * growing: a table about as large as the last one. */
void hz_xcells_reserve(struct hz_xcells *t, size_t ncells, size_t nbytes);

/* Index of the cell with value (v, len) ("v1\x1fv2"; no separator: all of
 * it is v1), added with zero counters when absent. May move t->c. */
size_t hz_xcells_get(struct hz_xcells *t, const char *v, size_t len);
/* Index of the cell with that value, or -1. */
long hz_xcells_find(struct hz_xcells *t, const char *v, size_t len);

/*
 * The same as hz_xcells_get without hashing, for a store scan: the rows of
 * one period come in increasing byte order (LMDB's), so each run of
 * increasing values is merge-joined with the cells kept in value order; a
 * value not greater than the one before starts a new run. Any order gives
 * the right cells; the scan's order makes it cheap. hz_xcells_seq_end
 * after the last value (the index is built when first needed).
 */
size_t hz_xcells_seq_slow(struct hz_xcells *t, const char *v, size_t len);
void hz_xcells_seq_end(struct hz_xcells *t);

/* Most values of a year's scan are the next kept cell: that case inline. */
#define XC_AHEAD 4
static inline size_t
hz_xcells_seq(struct hz_xcells *t, const char *v, size_t len)
{
    if (t->at < t->nacc) {
        const struct hz_xcells_ref *a = &t->acc[t->at];
        if (a->vlen == len && memcmp(t->pool + a->voff, v, len) == 0) {
            if (t->at + XC_AHEAD < t->nacc) {
                /* The value and counters of a cell a few rows on: the
                 * table is larger than the caches once the rows went by. */
                const struct hz_xcells_ref *n = &t->acc[t->at + XC_AHEAD];
                __builtin_prefetch(t->pool + n->voff);
                __builtin_prefetch(&t->c[n->cell], 1);
                if (t->wide != NULL)
                    __builtin_prefetch(&t->wide[n->cell], 1);
            }
            t->at++;
            t->last = (long)a->cell;
            return a->cell;
        }
    }
    return hz_xcells_seq_slow(t, v, len);
}
/* Adds b's cells to a, both after hz_xcells_seq_end: a comes out as if
 * the values given to b had been given to a after its own, in the same
 * order (the same cells, counters, cell order and value order). order
 * (b->n cells) is the order in which b's cells first came in that
 * sequence when b was given them in another one; NULL: b's own. */
void hz_xcells_merge(struct hz_xcells *a, const struct hz_xcells *b, const uint32_t *order);
/* Drops the cells whose four counters are all zero (rows subtracted from a
 * month row: hz_store_dim_rows_prefix), after hz_xcells_seq_end and before
 * the index is built. A pair's table only: a wide one's four stay zero (its
 * counters are in t->wide), so every cell would go. */
void hz_xcells_drop_empty(struct hz_xcells *t);

static inline const char *
hz_xcells_v1(const struct hz_xcells *t, size_t i)
{
    return t->pool + t->c[i].voff;
}

static inline const char *
hz_xcells_v2(const struct hz_xcells *t, size_t i)
{
    return t->pool + t->c[i].voff + t->c[i].vlen - t->c[i].l2;
}

/* The pair's crowd-size rule over the table (crosstab.h: region fallback,
 * suppression under min_visitors, complementary suppression). Country
 * cells are appended. Returns the number of cells suppressed. */
uint64_t hz_xcells_suppress(struct hz_xcells *t, int region_side, uint64_t min_visitors);

#endif
