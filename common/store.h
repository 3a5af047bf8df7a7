/* SPDX-License-Identifier: MIT */
/*
 * store.h - haze's LMDB store of aggregates: the only code that knows the
 * key layout. The aggregator writes through it; the dashboard opens it
 * read-only (MDB_RDONLY) and reads through it. Nothing here describes one
 * visit or one visitor (DESIGN.md privacy rule 4): every row is a sum over
 * (site, period, dimension, value).
 *
 * Key layout (implemented in store.c; documented here as the contract).
 * Layout version 2 (meta "ver"); a file of another version is refused.
 *
 *   Named databases in one environment (MDB_maxdbs 8):
 *     "meta"   "pos"                               -> stream ID last applied ("ms-seq")
 *              "ver"                               -> u32 LE layout version (2)
 *              "ret"                               -> i32 LE cutoff day of the last retention
 *              'c' site\0 day class               -> u64 LE distinct values so far
 *     "rows"   site\0 gran dim period value        -> struct hz_counts (8 x u64 LE)
 *     "hist"   site\0 gran period page             -> u64 LE [HZ_HIST_BUCKETS] engaged time
 *     "fun"    site\0 gran period funnel\0 step    -> u64 LE [1 + HZ_HIST_BUCKETS]:
 *                                                     visitors, then the time histogram
 *     "trans"  site\0 gran period from\0 to        -> u64 LE count (page-to-page)
 *
 *   gran is one byte: 'd' day, 'm' month, 'h' hour, 'n' minute (UTC, dim
 *   HZ_DIM_TOTAL only: visitors = "in", outs = "out"; see hz_store_add_active). dim is one byte
 * (enum hz_dim). period is a u32 big-endian: a local day number ('d'), year*12 + month-1 ('m'), or
 * a local hour number ('h', rows of dim HZ_DIM_TOTAL only). Big-endian periods after the dim byte
 * make one dimension of one site a contiguous, time-ordered key range, so a range query is one
 * cursor scan per granularity. Every day row ('d') is also added to its month row ('m'), so a long
 * range reads whole months plus the edge days. Counters only ever add, so aggregator shards merge
 * by addition. The hist page "" holds the whole site's engaged time.
 *
 *   Cardinality: per (site, day, dim) at most max_values distinct values;
 *   past it a new value is written as "(other)" (which is never refused).
 *   The decision is taken when the value is added, in the order of the
 *   adds (the stream's order), against the store as committed plus the
 *   batch so far: so it does not depend on where batches begin and end.
 *   The count lives in meta under class = dim; engaged-time pages use class
 *   0x80 and transition pairs class 0x81 (a pair past the cap, or too long
 *   for an LMDB key, becomes "(other)" -> "(other)"). A month row takes the
 *   value its day row was written under, so months equal the sum of days.
 *
 *   "Visitors" over several days is the sum of daily unique visitors: the
 *   visitor hash changes every day by design (privacy rule 3), so visitors
 *   cannot be linked across days.
 *
 * Retention and compaction (hz_store_retain) replace data.mdb by a
 * compacted copy (rename over the old file). A reader that keeps the
 * environment open must reopen it when the file was replaced:
 * hz_store_replaced() says so (the dashboard checks it before each request).
 * Until it reopens, a reader sees a consistent but frozen snapshot.
 *
 * Opening the same environment twice in one process is not supported
 * (LMDB's rule: POSIX locks are per process).
 */
#ifndef HZ_COMMON_STORE_H
#define HZ_COMMON_STORE_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/err.h"

typedef struct hz_store hz_store; /* one environment; thread-safe for readers */
typedef struct hz_rtxn hz_rtxn;   /* a read snapshot; one thread at a time */
typedef struct hz_wtxn hz_wtxn;   /* the single writer's transaction */

enum hz_dim {
    HZ_DIM_TOTAL = 0, /* value "": the site's totals */
    HZ_DIM_PAGE,      /* event:page */
    HZ_DIM_ENTRY,     /* visit:entry_page (visit-level metrics) */
    HZ_DIM_SOURCE,    /* visit:source */
    HZ_DIM_UTM_SOURCE,
    HZ_DIM_UTM_MEDIUM,
    HZ_DIM_UTM_CAMPAIGN,
    HZ_DIM_COUNTRY, /* "DE" */
    HZ_DIM_REGION,  /* "DE-BY" */
    HZ_DIM_BROWSER,
    HZ_DIM_OS,
    HZ_DIM_DEVICE,
    HZ_DIM_EVENT,       /* event:name (custom events) */
    HZ_DIM_DROP,        /* filtered traffic by reason; events = count */
    HZ_DIM_GROUP,       /* event:group (page groups, common/groups.h): like PAGE */
    HZ_DIM_ENTRY_GROUP, /* the group of a visit's entry page: visit-level, like ENTRY */
    HZ_DIM_GOAL,        /* event:goal: visitors, visits, events (goal completions) */
    HZ_DIM_CROSS,       /* declared cross-tab cells (common/groups.h hz_crosstab_cell) */
    HZ_DIM_PROP0,       /* custom prop i of the site's allow-list is HZ_DIM_PROP0 + i */
    HZ_DIM_PROP_LAST = HZ_DIM_PROP0 + 7,
    HZ_DIM_UTM_CONTENT, /* visit:utm_content */
    HZ_DIM_UTM_TERM,    /* visit:utm_term */
    HZ_DIM_REFERRER,    /* visit:referrer: another site's host */
    HZ_DIM_HOSTNAME,    /* event:hostname: the page's host (the site or an alias) */
    /* visit:browser_version, visit:os_version: "family\x1fmajor" ("Chrome\x1f131",
     * "Chrome\x1f(not set)", "Windows\x1f11"): the family is the row's parent */
    HZ_DIM_BROWSER_VERSION,
    HZ_DIM_OS_VERSION,
    HZ_DIM_COUNT
};

/* Exit pages are derived, not stored: exits(page) = pageviews - outs. */

/* One row. Which fields a dimension fills (PROP rows: visitors, visits,
 * pageviews, events of the hits that carried the prop's value):
 *   TOTAL and visit-level dims (ENTRY, SOURCE, UTM_*, COUNTRY, REGION,
 *   BROWSER, OS, DEVICE, BROWSER_VERSION, OS_VERSION): visitors, visits, pageviews, nonbounce,
 *   duration_ms (sum of visit durations).
 *   PAGE: visitors, visits (visits that viewed the page), pageviews, outs
 *   (pageviews followed by another pageview in the same visit),
 *   engaged_ms (sum), and events = number of engaged-time samples.
 *   EVENT: visitors, visits, events.  DROP: events.
 *   GROUP: as PAGE, without outs.  ENTRY_GROUP: as ENTRY.
 *   GOAL: visitors, visits, events.  CROSS: visitors (unique per day and
 *   cell), visits, pageviews (pageview pairs) or events (goal and event
 *   pairs), all counted on the hit's day.
 * bounces = visits - nonbounce. */
struct hz_counts {
    uint64_t visitors;
    uint64_t visits;
    uint64_t pageviews;
    uint64_t nonbounce;
    uint64_t duration_ms;
    uint64_t outs;
    uint64_t events;
    uint64_t engaged_ms;
};

/* d += s, counter by counter. */
static inline void
hz_counts_add(struct hz_counts *d, const struct hz_counts *s)
{
    d->visitors += s->visitors;
    d->visits += s->visits;
    d->pageviews += s->pageviews;
    d->nonbounce += s->nonbounce;
    d->duration_ms += s->duration_ms;
    d->outs += s->outs;
    d->events += s->events;
    d->engaged_ms += s->engaged_ms;
}

/* Engaged time histogram: bucket 0 is [0, 1 s), bucket i (1..12) is
 * [2^(i-1), 2^i) seconds, bucket 13 is >= 4096 s (over an hour). */
#define HZ_HIST_BUCKETS 14
int hz_hist_bucket(uint64_t ms);
/* Lower and upper bound of bucket b in ms (upper of the last is 2 h). */
void hz_hist_bounds(int b, uint64_t *lo, uint64_t *hi);
/* q-quantile (0..1) in ms, interpolated geometrically inside its bucket;
 * 0 when the histogram is empty. */
uint64_t hz_hist_quantile(const uint64_t h[HZ_HIST_BUCKETS], double q);

struct hz_funnel_step_counts {
    uint64_t visitors;              /* visits that reached this step */
    uint64_t hist[HZ_HIST_BUCKETS]; /* time from the previous step */
};

/* ------------------------------------------------------------ open/close */

/* Opens (creating when !readonly) the environment in folder path.
 * map_size in bytes (0 = keep the file's). Read-only opens MDB_RDONLY and
 * MDB_NOTLS (read snapshots may move between threads) and never writes;
 * it handles MDB_MAP_RESIZED from a growing writer by adopting the new
 * size. 0, or HZ_ESTORE with err->msg naming the path. */
int hz_store_open(hz_store **out, const char *path, int readonly, size_t map_size,
                  struct hz_err *err);
void hz_store_close(hz_store *s); /* NULL is a no-op */

/* ------------------------------------------------------------ reading */

int hz_store_rbegin(hz_store *s, hz_rtxn **out, struct hz_err *err);
/* A second read transaction while another of this process is open (for a
 * helper thread): never adopts a grown map nor opens the databases, which
 * LMDB allows only with no transaction open; -1 when it would have to. */
int hz_store_rbegin_more(hz_store *s, hz_rtxn **out);
void hz_store_rend(hz_rtxn *t); /* NULL is a no-op */

/* Callback for rows: value is borrowed, valid during the call only. */
typedef void (*hz_row_cb)(const char *value, size_t vlen, const struct hz_counts *c, void *arg);

/* Sums dim over local days [from, to] (inclusive) and calls cb once per
 * distinct value, in no particular order. Uses month rows for whole months. */
int hz_store_dim(hz_rtxn *t, const char *site, enum hz_dim dim, int32_t from, int32_t to,
                 hz_row_cb cb, void *arg);

/* The same rows without summing: cb once per stored row (day or month),
 * so a value may come several times and the caller adds them up. Cheaper
 * when the caller keeps its own table anyway (the dashboard). */
int hz_store_dim_rows(hz_rtxn *t, const char *site, enum hz_dim dim, int32_t from, int32_t to,
                      hz_row_cb cb, void *arg);
/* The same, only the rows whose value starts with (vp, vplen): one seek per
 * period to the prefix, then its rows (one pair's cells among all pairs').
 * A range with whole months may read an edge month (one it covers in part)
 * as the month's row, and then the month's days outside the range with
 * their counters negated (two's complement): the caller's sums come out
 * exact once every row is in, and a value with no rows in the range sums
 * to all zeros (callers drop those). */
int hz_store_dim_rows_prefix(hz_rtxn *t, const char *site, enum hz_dim dim, const char *vp,
                             size_t vplen, int32_t from, int32_t to, hz_row_cb cb, void *arg);

/*
 * The same read in two steps, so that it can be shared between threads:
 * hz_store_plan_prefix decides which rows hz_store_dim_rows_prefix would
 * read (day and month periods, the edge months' seeks), as a list of steps
 * in reading order, and hz_store_plan_rows reads a plan's rows in that
 * order. A plan's periods, one at a time (hz_store_plan_period), read in
 * turn give the same rows in the same order; each one's rows come in
 * increasing order of value. A plan points at site and vp, which must
 * outlive it.
 */
#define HZ_STORE_PLAN_MAX 8
struct hz_store_step {
    char gran;         /* 'd' day, 'm' month */
    unsigned char neg; /* counters negated (days outside, taken from a month row) */
    uint32_t lo, hi;   /* periods */
    uint32_t w;        /* weight of one period: its rows, about, in days of rows */
};
struct hz_store_plan {
    const char *site;
    enum hz_dim dim;
    const char *vp;
    size_t vplen;
    int n;
    struct hz_store_step step[HZ_STORE_PLAN_MAX];
};
int hz_store_plan_prefix(hz_rtxn *t, const char *site, enum hz_dim dim, const char *vp,
                         size_t vplen, int32_t from, int32_t to, struct hz_store_plan *p);
/* The plan of hz_store_dim_rows' read (its rows, in its order: no edge
 * month is read as a month minus days). */
int hz_store_plan_dim(const char *site, enum hz_dim dim, int32_t from, int32_t to,
                      struct hz_store_plan *p);
int hz_store_plan_rows(hz_rtxn *t, const struct hz_store_plan *p, hz_row_cb cb, void *arg);
/* The same rows as stored, for hot loops that need a few counters only:
 * counters are clen bytes at counts (64 for a row of struct hz_counts:
 * eight u64, little-endian, in the struct's order; hz_counts_at reads
 * one), to be subtracted when neg. Valid during the call only. */
typedef void (*hz_raw_cb)(const char *value, size_t vlen, const unsigned char *counts, size_t clen,
                          int neg, void *arg);
int hz_store_plan_raw(hz_rtxn *t, const struct hz_store_plan *p, hz_raw_cb cb, void *arg);
#define HZ_COUNTS_BYTES 64
/* Field i (0 visitors, 1 visits, 2 pageviews, ... 6 events) of stored
 * counters. */
static inline uint64_t
hz_counts_at(const unsigned char *counts, size_t i)
{
    uint64_t v;

    memcpy(&v, counts + 8 * i, sizeof(v));
    return le64toh(v);
}
/* About the rows a plan reads, in days of rows (a month's row ~ a week's). */
uint64_t hz_store_plan_weight(const struct hz_store_plan *p);
/* The number of periods of p, and the plan of its k-th alone (k < that). */
size_t hz_store_plan_periods(const struct hz_store_plan *p);
void hz_store_plan_period(const struct hz_store_plan *p, size_t k, struct hz_store_plan *one);

/* The snapshot a read transaction sees (LMDB's transaction id): two read
 * transactions with the same id see the same data. */
uint64_t hz_store_rtxn_id(const hz_rtxn *t);
/* The store a read transaction belongs to. */
hz_store *hz_store_of(const hz_rtxn *t);

/* Site totals summed over [from, to]. */
int hz_store_totals(hz_rtxn *t, const char *site, int32_t from, int32_t to, struct hz_counts *out);

/* Per-day totals: cb(day, counts) for each day in [from, to] with data. */
typedef void (*hz_period_cb)(int32_t period, const struct hz_counts *c, void *arg);
int hz_store_days(hz_rtxn *t, const char *site, int32_t from, int32_t to, hz_period_cb cb,
                  void *arg);
/* Per-hour totals over local hour numbers [from, to]. */
int hz_store_hours(hz_rtxn *t, const char *site, int32_t from, int32_t to, hz_period_cb cb,
                   void *arg);

/* Engaged-time histogram of page ("" = all pages of the site) over [from, to]. */
int hz_store_hist(hz_rtxn *t, const char *site, const char *page, int32_t from, int32_t to,
                  uint64_t out[HZ_HIST_BUCKETS]);
/* Every page's histogram over [from, to]: cb once per page. */
typedef void (*hz_hist_cb)(const char *page, size_t plen, const uint64_t h[HZ_HIST_BUCKETS],
                           void *arg);
int hz_store_hists(hz_rtxn *t, const char *site, int32_t from, int32_t to, hz_hist_cb cb,
                   void *arg);

/* Funnel steps (nsteps from the config) over [from, to]. */
int hz_store_funnel(hz_rtxn *t, const char *site, const char *funnel, int nsteps, int32_t from,
                    int32_t to, struct hz_funnel_step_counts *out);

/* Page-to-page transitions over [from, to]; cb once per distinct pair. */
typedef void (*hz_trans_cb)(const char *from_page, size_t flen, const char *to_page, size_t tlen,
                            uint64_t n, void *arg);
int hz_store_transitions(hz_rtxn *t, const char *site, int32_t from, int32_t to, hz_trans_cb cb,
                         void *arg);

/* The first day in [from, to] with a row of dim whose value starts with
 * (vp, vplen) (one seek per day with data). 0, HZ_ENOTFOUND or HZ_ESTORE. */
int hz_store_first_day(hz_rtxn *t, const char *site, enum hz_dim dim, const char *vp, size_t vplen,
                       int32_t from, int32_t to, int32_t *first);

/* The stream ID last applied ("" if none), into out (64 bytes). */
int hz_store_position(hz_rtxn *t, char out[64]);

/* Lists days with data for site: first and last day, or HZ_ENOTFOUND. */
int hz_store_span(hz_rtxn *t, const char *site, int32_t *first, int32_t *last);

/* The cutoff day of the last hz_store_retain, or HZ_ENOTFOUND if none ran. */
int hz_store_retained(hz_rtxn *t, int32_t *cutoff);

/* 1 when data.mdb in the store's folder is no longer the file this handle
 * opened (hz_store_retain swapped in a compacted copy): close and reopen. */
int hz_store_replaced(const hz_store *s);

/* Current map size in bytes (grows on MDB_MAP_FULL). */
size_t hz_store_map_size(const hz_store *s);

/* ------------------------------------------------------------ writing */

/* Begins the single write transaction. max_values caps the distinct values
 * per (site, day, dim); past it new values fold into "(other)".
 * The hz_store_add* calls only add to an in-memory map of deltas (one entry
 * per key, however often it is added to); hz_store_commit writes them in key
 * order in one LMDB write transaction, together with the position. So the
 * add calls never fail on LMDB, and a map-full retry redoes the whole batch.
 * Values longer than the record limits (HZ_PAGE_MAX, HZ_HOST_MAX) are
 * HZ_EINVAL. */
int hz_store_wbegin(hz_store *s, hz_wtxn **out, uint64_t max_values, struct hz_err *err);
/* The same while prev, the batch before, is still being written by
 * hz_store_write in another thread: the cap decisions count prev's rows
 * and distinct values as committed, so the outcome is the one of begin
 * after prev's commit. prev (sealed) must stay valid until
 * hz_store_detach(t), which the owner calls once prev's write returned
 * (it also ends t's snapshot: one from before prev's commit would miss
 * prev's rows). */
int hz_store_wbegin_after(hz_store *s, hz_wtxn **out, uint64_t max_values, const hz_wtxn *prev,
                          struct hz_err *err);
void hz_store_detach(hz_wtxn *t);

/* Adds c to (site, day, dim, value) and to its month row. */
int hz_store_add(hz_wtxn *t, const char *site, int32_t day, enum hz_dim dim, const char *value,
                 size_t vlen, const struct hz_counts *c);
/* Adds c to (site, hour) totals (visitors, visits, pageviews). */
int hz_store_add_hour(hz_wtxn *t, const char *site, int32_t hour, const struct hz_counts *c);
/* Active visitors, exact at minute granularity: when a visitor's last hit
 * moves from minute `from_min` to minute `to_min` (UTC minutes since the
 * epoch), +1 "in" at to_min and +1 "out" at from_min (from_min 0: a new
 * visitor). The visitors whose last hit falls in a window are then
 * sum(in - out) over its minutes, and every counter still only adds.
 * Minute rows older than a day are dropped at retention. */
int hz_store_add_active(hz_wtxn *t, const char *site, uint32_t from_min, uint32_t to_min);
/* Visitors whose last hit lies in UTC minutes [from, to]. */
int hz_store_active(hz_rtxn *t, const char *site, uint32_t from, uint32_t to, uint64_t *out);

/* Adds one sample of ms to page's histogram and to the site's ("") one. */
int hz_store_add_engaged(hz_wtxn *t, const char *site, int32_t day, const char *page, uint64_t ms);
/* Scroll depth (0..100 percent) of one engagement sample on page: kept in
 * "hist" under the key HZ_SCROLL_KEY + page (a byte no page starts with),
 * buckets 0..10 counting depth / 10, HZ_SCROLL_SUM the sum of depths and
 * HZ_SCROLL_N the number of samples. */
#define HZ_SCROLL_KEY 0x01
#define HZ_SCROLL_SUM 12
#define HZ_SCROLL_N   13
int hz_store_add_scroll(hz_wtxn *t, const char *site, int32_t day, const char *page, int depth);
/* Adds visitors and a time sample to a funnel step (time ignored for step 0). */
int hz_store_add_funnel(hz_wtxn *t, const char *site, int32_t day, const char *funnel, int step,
                        uint64_t visitors, int has_time, uint64_t ms);
int hz_store_add_transition(hz_wtxn *t, const char *site, int32_t day, const char *from_page,
                            const char *to_page, uint64_t n);
/* Records the last applied stream ID in the same transaction. */
int hz_store_set_position(hz_wtxn *t, const char *id);

/* Commits (0) or aborts. MDB_MAP_FULL grows the map and is reported as
 * HZ_ESTORE only when growing fails: never a silent drop. Frees t. */
int hz_store_commit(hz_wtxn *t, struct hz_err *err);
/* Frees t without writing anything. NULL is a no-op. */
void hz_store_abort(hz_wtxn *t);

/* Committing in two halves, so that the next batch is folded while this
 * one is written and synced. hz_store_seal (the owner's thread) ends the
 * adds: afterwards t is read-only. hz_store_write writes and commits a
 * sealed t; it may run in another thread while the owner folds a
 * transaction begun with hz_store_wbegin_after(..., t, ...), and it reads
 * only t (it puts t's deltas in key order, which the owner's lookups in
 * t do not see). It does not grow the map: a full map is HZ_ETOOBIG with t
 * untouched, and the owner then detaches its newer transaction and calls
 * hz_store_commit(t), which grows the map (no snapshot may be open then).
 * Other failures are HZ_ESTORE. Either way t is still the owner's to free
 * (hz_store_abort) or to commit. */
void hz_store_seal(hz_wtxn *t);
int hz_store_write(hz_wtxn *t, struct hz_err *err);

/* Deletes every row of days before cutoff (and months wholly before it),
 * then compacts the environment (compacting copy swapped in atomically)
 * so deleted pages do not linger in the file. Writer only. */
int hz_store_retain(hz_store *s, int32_t cutoff_day, struct hz_err *err);

#endif
