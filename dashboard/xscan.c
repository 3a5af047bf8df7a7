/* SPDX-License-Identifier: MIT */
/*
 * xscan.c - a pair's cells, or a plain breakdown's rows, read on two
 * threads (xscan.h).
 */
#include "dashboard/xscan.h"

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"

/* Below this plan weight (hz_store_plan_weight: about days of rows), or
 * when the last table of the pair or dimension (scaled to this read's
 * weight: xs_hint_get) times the periods read is under XS_MIN_ROWS (the
 * first read of one too), one thread reads it all: handing over
 * costs more than it saves, and a helper kept off a core would make the
 * request wait for its period. */
#define XS_MIN_WEIGHT 8
#define XS_MIN_ROWS   20000

/* Adds a row's stored counters (clen bytes at counts, negated when neg)
 * to cell i of t, unless it is not a cell (no separator: it stays at
 * zero, and is dropped with the cells whose rows all were outside the
 * range) or the row is not counters. */
static inline void
xs_add(struct hz_xcells *t, size_t i, const unsigned char *counts, size_t clen, int neg)
{
    struct hz_xcell *d = &t->c[i];
    /* (x ^ ~0) - ~0 is 0 - x: negated, the sums wrap back; m = 0 keeps x. */
    uint64_t m = neg ? ~(uint64_t)0 : 0;

    _Static_assert(offsetof(struct hz_counts, visits) == 8 &&
                       offsetof(struct hz_counts, pageviews) == 16 &&
                       offsetof(struct hz_counts, events) == 48,
                   "hz_counts_at fields");
    if (d->l1 == d->vlen || clen != HZ_COUNTS_BYTES)
        return;
    d->visitors += (hz_counts_at(counts, 0) ^ m) - m;
    d->visits += (hz_counts_at(counts, 1) ^ m) - m;
    d->pageviews += (hz_counts_at(counts, 2) ^ m) - m;
    d->events += (hz_counts_at(counts, 6) ^ m) - m;
}

/* Store row callback: adds a cell of the pair (the scan gives only rows
 * starting with its two letters) to the table, keyed "v1\x1fv2". */
static void
xs_row_cb(const char *value, size_t vlen, const unsigned char *counts, size_t clen, int neg,
          void *arg)
{
    struct hz_xcells *t = arg;

    if (vlen >= 3)
        xs_add(t, hz_xcells_seq(t, value + 2, vlen - 2), counts, clen, neg);
}

/* Adds a plain row's stored counters (all eight) to cell i's wide ones
 * (hz_xcells_wide); a row of another size counts zeros. */
static inline void
xs_add_wide(struct hz_xcells *t, size_t i, const unsigned char *counts, size_t clen, int neg)
{
    struct hz_counts *d = &t->wide[i];
    /* (x ^ ~0) - ~0 is 0 - x: negated, the sums wrap back; m = 0 keeps x.
     * No local copy: the adds straight from the row. */
    uint64_t m = neg ? ~(uint64_t)0 : 0;

    _Static_assert(sizeof(*d) == HZ_COUNTS_BYTES, "hz_counts: as stored");
    if (clen != HZ_COUNTS_BYTES)
        return;
    d->visitors += (hz_counts_at(counts, 0) ^ m) - m;
    d->visits += (hz_counts_at(counts, 1) ^ m) - m;
    d->pageviews += (hz_counts_at(counts, 2) ^ m) - m;
    d->nonbounce += (hz_counts_at(counts, 3) ^ m) - m;
    d->duration_ms += (hz_counts_at(counts, 4) ^ m) - m;
    d->outs += (hz_counts_at(counts, 5) ^ m) - m;
    d->events += (hz_counts_at(counts, 6) ^ m) - m;
    d->engaged_ms += (hz_counts_at(counts, 7) ^ m) - m;
}

/* Store row callback of a plain breakdown: a row of the dimension, keyed
 * by its whole value. */
static void
xs_plain_cb(const char *value, size_t vlen, const unsigned char *counts, size_t clen, int neg,
            void *arg)
{
    struct hz_xcells *t = arg;

    xs_add_wide(t, hz_xcells_seq(t, value, vlen), counts, clen, neg);
}

/*
 * One read on two threads. Its periods (hz_store_plan_period) are taken
 * one at a time: the caller's from the front into the caller's table, the
 * helper's from the back into its own, until they meet, so that a helper
 * kept off a core leaves its share to the caller. The helper's table gets
 * its periods backwards: first[] keeps, for each of its cells, the first
 * period (in reading order) with a row of it, which gives the order its
 * cells would have come in going forwards (by that period, then by value:
 * the rows of one period come in increasing order of value).
 */
struct xs_job {
    const struct hz_store_plan *p;
    hz_rtxn *tb;        /* the helper's snapshot (the caller's data) */
    struct hz_xcells b; /* the helper's table */
    size_t front, back; /* the periods [front, back) not taken yet (under xs_mu) */
    uint32_t *first;    /* b's cells: their first period (malloc'd, fcap) */
    size_t fcap;
    uint32_t period; /* the period the helper reads */
    int plain;       /* a plain breakdown's rows (xs_plain_cb), not a pair's */
    int rc;          /* the helper's */
};

/* The helper's row callback: xs_row_cb, and the cell's first period. */
static void
xs_row_back_cb(const char *value, size_t vlen, const unsigned char *counts, size_t clen, int neg,
               void *arg)
{
    struct xs_job *j = arg;
    size_t skip = j->plain ? 0 : 2; /* a pair's two letters */

    if (!j->plain && vlen < 3)
        return;
    size_t i = hz_xcells_seq(&j->b, value + skip, vlen - skip);
    if (i >= j->fcap) {
        j->fcap = 2 * i + 64;
        j->first = hz_xreallocarray(j->first, j->fcap, sizeof(*j->first));
    }
    j->first[i] = j->period; /* periods come backwards: the last one is the first */
    if (j->plain)
        xs_add_wide(&j->b, i, counts, clen, neg);
    else
        xs_add(&j->b, i, counts, clen, neg);
}

/* The helper thread: one job at a time, handed over under xs_mu. */
static pthread_mutex_t xs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t xs_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t xs_idle = PTHREAD_COND_INITIALIZER;
static struct xs_job *xs_posted; /* waiting for the helper */
static int xs_busy;              /* the helper runs a job */
static pid_t xs_pid;             /* the process the helper runs in (0: none, -pid: failed) */
static atomic_int xs_mode = 1;   /* hz_xscan_threads */
/* The size of the last table read of each pair (by its two letters) and
 * each plain breakdown (by its dimension) of a site: the next read of the
 * same is reserved about as large (growing a year's table by doubling
 * copies it a dozen times). Kept with the weight of the read that stored
 * it (hz_store_plan_weight) and scaled down for a lighter one (a month
 * after a year, a timeseries's bucket), so a small read stays small and on
 * one thread. Slots are shared: one of another site or key gives no hint.
 * Only a hint: its words may come from two reads. */
#define XS_HINTS 1024
struct xs_hint {
    atomic_uint_fast64_t key, weight; /* key 0: empty */
    atomic_size_t cells, bytes;
};
static struct xs_hint xs_hints[XS_HINTS];

/* The next period for the caller (from the front) or the helper (from
 * the back), or -1 when none is left. */
static long
xs_take(struct xs_job *j, int back)
{
    long k = -1;

    pthread_mutex_lock(&xs_mu);
    if (j->front < j->back)
        k = back ? (long)--j->back : (long)j->front++;
    pthread_mutex_unlock(&xs_mu);
    return k;
}

/* The helper's share (also run by the caller when the helper did not
 * pick the job up). */
static void
xs_back(struct xs_job *j)
{
    struct hz_store_plan one;
    long k;

    while (j->rc == 0 && (k = xs_take(j, 1)) >= 0) {
        hz_store_plan_period(j->p, (size_t)k, &one);
        j->period = (uint32_t)k;
        j->rc = hz_store_plan_raw(j->tb, &one, xs_row_back_cb, j);
    }
    hz_xcells_seq_end(&j->b);
}

static void *
xs_main(void *arg)
{
    (void)arg;
    for (;;) {
        struct xs_job *j;
        pthread_mutex_lock(&xs_mu);
        while (xs_posted == NULL)
            pthread_cond_wait(&xs_wake, &xs_mu);
        j = xs_posted;
        xs_posted = NULL;
        xs_busy = 1;
        pthread_mutex_unlock(&xs_mu);
        xs_back(j);
        pthread_mutex_lock(&xs_mu);
        xs_busy = 0;
        pthread_cond_signal(&xs_idle);
        pthread_mutex_unlock(&xs_mu);
    }
    return NULL;
}

/* Starts the helper in this process if it is not running (a fork has
 * none); with xs_mu held. 1 when it runs. */
static int
xs_start(void)
{
    pthread_t th;
    pthread_attr_t at;
    sigset_t all, old;
    pid_t pid = getpid();
    int rc;

    if (xs_pid == pid)
        return 1;
    if (xs_pid == -pid)
        return 0; /* could not start: not tried again */
    xs_posted = NULL;
    xs_busy = 0;
    /* Signals stay with the event loop's thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&th, &at, xs_main, NULL);
    pthread_attr_destroy(&at);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        hz_log_warnx("pair and breakdown reads: no helper thread (%s): one thread reads",
                     strerror(rc));
        xs_pid = -pid;
        return 0;
    }
    xs_pid = pid;
    return 1;
}

/* Posts j to the helper: 1, or 0 when it is busy or cannot run. */
static int
xs_post(struct xs_job *j)
{
    int ok;

    pthread_mutex_lock(&xs_mu);
    ok = xs_posted == NULL && !xs_busy && xs_start();
    if (ok) {
        xs_posted = j;
        pthread_cond_signal(&xs_wake);
    }
    pthread_mutex_unlock(&xs_mu);
    return ok;
}

/* After the caller took the last period: waits for the helper to be done
 * with j, or takes j back when it has not picked it up. 1 if taken back. */
static int
xs_wait(struct xs_job *j)
{
    int mine = 0;

    pthread_mutex_lock(&xs_mu);
    if (xs_posted == j) {
        xs_posted = NULL;
        mine = 1;
    } else {
        while (xs_busy)
            pthread_cond_wait(&xs_idle, &xs_mu);
    }
    pthread_mutex_unlock(&xs_mu);
    return mine;
}

void
hz_xscan_threads(int mode)
{
    atomic_store(&xs_mode, mode);
}

/* The order of the helper's cells going forwards: by first period, then
 * by value (a counting sort of the value order). */
static uint32_t *
xs_order(const struct xs_job *j, size_t nperiods)
{
    const struct hz_xcells *b = &j->b;
    size_t *at = hz_xcalloc(nperiods + 1, sizeof(*at));
    uint32_t *order = hz_xreallocarray(NULL, b->n + 1, sizeof(*order));

    for (size_t i = 0; i < b->n; i++)
        at[j->first[i] + 1]++;
    for (size_t k = 1; k <= nperiods; k++)
        at[k] += at[k - 1];
    for (size_t i = 0; i < b->nacc; i++) {
        uint32_t c = b->acc[i].cell;
        order[at[j->first[c]]++] = c;
    }
    free(at);
    return order;
}

/* The key of what (a pair's two letters, or 0x10000 + a dimension) of
 * site: FNV-1a (only picks a hint's slot; never 0). */
static uint64_t
xs_hint_key(const char *site, unsigned what)
{
    uint64_t h = 14695981039346656037u;

    for (const unsigned char *s = (const unsigned char *)site; *s != '\0'; s++)
        h = (h ^ *s) * 1099511628211u;
    for (int i = 0; i < 3; i++)
        h = (h ^ ((what >> (8 * i)) & 0xff)) * 1099511628211u;
    return h | 1;
}

/* The cells and bytes to reserve for plan p (of weight w) of key. */
static void
xs_hint_get(uint64_t key, uint64_t w, size_t *hn, size_t *hb)
{
    const struct xs_hint *s = &xs_hints[key % XS_HINTS];
    uint64_t w0 = atomic_load(&s->weight);

    *hn = *hb = 0;
    if (atomic_load(&s->key) != key || w0 == 0)
        return;
    *hn = atomic_load(&s->cells);
    *hb = atomic_load(&s->bytes);
    if (w < w0) { /* a lighter read: fewer cells, about in proportion */
        *hn = (size_t)((uint64_t)*hn * w / w0);
        *hb = (size_t)((uint64_t)*hb * w / w0);
    }
}

static void
xs_hint_put(uint64_t key, uint64_t w, const struct hz_xcells *cells)
{
    struct xs_hint *s = &xs_hints[key % XS_HINTS];

    atomic_store(&s->key, key);
    atomic_store(&s->weight, w);
    atomic_store(&s->cells, cells->n);
    atomic_store(&s->bytes, cells->plen);
}

/* Reads plan p into cells, on two threads when it is worth it. */
static int
xs_read_hinted(hz_rtxn *t, const struct hz_store_plan *p, uint64_t key, int plain,
               struct hz_xcells *cells)
{
    struct hz_store_plan one;
    struct xs_job j = {.p = p, .back = hz_store_plan_periods(p), .plain = plain};
    hz_raw_cb cb = plain ? xs_plain_cb : xs_row_cb;
    int rc = 0;
    long k;
    size_t hn, hb;
    uint64_t w = hz_store_plan_weight(p);

    xs_hint_get(key, w, &hn, &hb);
    hz_xcells_reserve(cells, hn + hn / 8, hb + hb / 8);
    int mode = atomic_load(&xs_mode);
    if (j.back >= 2 && mode != 0 &&
        (mode == 2 || (w >= XS_MIN_WEIGHT && hn * j.back >= XS_MIN_ROWS)) &&
        hz_store_rbegin_more(hz_store_of(t), &j.tb) == 0 &&
        hz_store_rtxn_id(j.tb) != hz_store_rtxn_id(t)) {
        /* The aggregator committed since t began: j.tb sees newer data. */
        hz_store_rend(j.tb);
        j.tb = NULL;
    }
    if (j.tb == NULL) {
        rc = hz_store_plan_raw(t, p, cb, cells);
        hz_xcells_seq_end(cells);
        return rc;
    }
    hz_xcells_init(&j.b);
    if (plain)
        hz_xcells_wide(&j.b);
    hz_xcells_reserve(&j.b, hn + hn / 8, hb + hb / 8);
    j.fcap = j.b.cap + 1;
    j.first = hz_xreallocarray(NULL, j.fcap, sizeof(*j.first));
    int posted = xs_post(&j);
    while (rc == 0 && (k = xs_take(&j, 0)) >= 0) {
        hz_store_plan_period(p, (size_t)k, &one);
        rc = hz_store_plan_raw(t, &one, cb, cells);
    }
    hz_xcells_seq_end(cells);
    if (!posted || xs_wait(&j))
        xs_back(&j); /* the helper did not pick it up: what is left */
    hz_store_rend(j.tb);
    if (rc == 0)
        rc = j.rc;
    if (rc == 0 && j.b.n > 0) {
        uint32_t *order = xs_order(&j, hz_store_plan_periods(p));
        hz_xcells_merge(cells, &j.b, order);
        free(order);
    }
    free(j.first);
    hz_xcells_free(&j.b);
    return rc;
}

/* Reads plan p into cells, reserved as the hint of key says (kept for the
 * next read), on two threads when it is worth it. */
static int
xs_read(hz_rtxn *t, const struct hz_store_plan *p, uint64_t key, int plain, struct hz_xcells *cells)
{
    int rc = xs_read_hinted(t, p, key, plain, cells);

    if (rc == 0)
        xs_hint_put(key, hz_store_plan_weight(p), cells);
    return rc;
}

int
hz_xscan_cells(hz_rtxn *t, const char *site, const char pre[2], int32_t from, int32_t to,
               struct hz_xcells *cells)
{
    struct hz_store_plan p;
    unsigned what = (unsigned)(unsigned char)pre[0] << 8 | (unsigned char)pre[1];
    int rc;

    if ((rc = hz_store_plan_prefix(t, site, HZ_DIM_CROSS, pre, 2, from, to, &p)) != 0)
        return rc;
    return xs_read(t, &p, xs_hint_key(site, what), 0, cells);
}

int
hz_xscan_rows(hz_rtxn *t, const char *site, enum hz_dim dim, int32_t from, int32_t to,
              struct hz_xcells *cells)
{
    struct hz_store_plan p;
    int rc;

    if ((rc = hz_store_plan_dim(site, dim, from, to, &p)) != 0)
        return rc;
    hz_xcells_wide(cells);
    return xs_read(t, &p, xs_hint_key(site, 0x10000u + (unsigned)dim), 1, cells);
}
