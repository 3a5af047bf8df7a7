/* SPDX-License-Identifier: MIT */
/*
 * query.c - the query engine (see query.h): names, period math, metric
 * values, the crowd-size fold, and answering a question from the store.
 *
 * Rows live in one growable array with their values in one string pool and
 * a small open-addressing hash index (SipHash with a per-process key: the
 * values are page paths and referrers, chosen by strangers). A breakdown
 * reads its dimension once over the range (the store sums month rows), joins
 * the entry rows and histograms it needs by value, folds, filters, sorts.
 */
#include "dashboard/query.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/funnel.h"
#include "common/mem.h"
#include "common/siphash.h"
#include "common/str.h"
#include "common/tz.h"
#include "dashboard/crosstab.h"
#include "dashboard/regex.h"
#include "dashboard/version.h"
#include "dashboard/xscan.h"

/* ================================================================ names */

/* clang-format off */
static const char *const metric_names[HZ_M_COUNT] = {
    "visitors", "visits", "pageviews", "bounce_rate", "visit_duration",
    "views_per_visit", "time_on_page", "time_on_page_p75", "events", "exit_rate",
    "time_on_page_mean", "time_on_page_median", "percentage", "custom_events",
    "conversion_rate", "lift", "scroll_depth",
};

static const struct {
    const char *name;
    const char *shortname;
    enum hz_dim dim;
} props[HZ_P_COUNT] = {
    [HZ_P_NONE]         = { "",                   "",             HZ_DIM_TOTAL },
    [HZ_P_PAGE]         = { "event:page",         "page",         HZ_DIM_PAGE },
    [HZ_P_ENTRY]        = { "visit:entry_page",   "entry_page",   HZ_DIM_ENTRY },
    [HZ_P_EXIT]         = { "visit:exit_page",    "exit_page",    HZ_DIM_PAGE },
    [HZ_P_SOURCE]       = { "visit:source",       "source",       HZ_DIM_SOURCE },
    [HZ_P_UTM_SOURCE]   = { "visit:utm_source",   "utm_source",   HZ_DIM_UTM_SOURCE },
    [HZ_P_UTM_MEDIUM]   = { "visit:utm_medium",   "utm_medium",   HZ_DIM_UTM_MEDIUM },
    [HZ_P_UTM_CAMPAIGN] = { "visit:utm_campaign", "utm_campaign", HZ_DIM_UTM_CAMPAIGN },
    [HZ_P_COUNTRY]      = { "visit:country",      "country",      HZ_DIM_COUNTRY },
    [HZ_P_REGION]       = { "visit:region",       "region",       HZ_DIM_REGION },
    [HZ_P_BROWSER]      = { "visit:browser",      "browser",      HZ_DIM_BROWSER },
    [HZ_P_OS]           = { "visit:os",           "os",           HZ_DIM_OS },
    [HZ_P_DEVICE]       = { "visit:device",       "device",       HZ_DIM_DEVICE },
    [HZ_P_NAME]         = { "event:name",         "name",         HZ_DIM_EVENT },
    [HZ_P_GROUP]        = { "event:group",        "group",        HZ_DIM_GROUP },
    [HZ_P_GOAL]         = { "event:goal",         "goal",         HZ_DIM_GOAL },
    [HZ_P_UTM_CONTENT]  = { "visit:utm_content",  "utm_content",  HZ_DIM_UTM_CONTENT },
    [HZ_P_UTM_TERM]     = { "visit:utm_term",     "utm_term",     HZ_DIM_UTM_TERM },
    [HZ_P_REFERRER]     = { "visit:referrer",     "referrer",     HZ_DIM_REFERRER },
    [HZ_P_HOSTNAME]     = { "event:hostname",     "hostname",     HZ_DIM_HOSTNAME },
    [HZ_P_BROWSER_VERSION] = { "visit:browser_version", "browser_version", HZ_DIM_BROWSER_VERSION },
    [HZ_P_OS_VERSION]   = { "visit:os_version",   "os_version",   HZ_DIM_OS_VERSION },
    /* Custom props: named per site (query.h prop_names); "" is never found. */
    [HZ_P_PROP0 + 0] = { "", "", HZ_DIM_PROP0 + 0 }, [HZ_P_PROP0 + 1] = { "", "", HZ_DIM_PROP0 + 1 },
    [HZ_P_PROP0 + 2] = { "", "", HZ_DIM_PROP0 + 2 }, [HZ_P_PROP0 + 3] = { "", "", HZ_DIM_PROP0 + 3 },
    [HZ_P_PROP0 + 4] = { "", "", HZ_DIM_PROP0 + 4 }, [HZ_P_PROP0 + 5] = { "", "", HZ_DIM_PROP0 + 5 },
    [HZ_P_PROP0 + 6] = { "", "", HZ_DIM_PROP0 + 6 }, [HZ_P_PROP0 + 7] = { "", "", HZ_DIM_PROP0 + 7 },
};
_Static_assert(HZ_P_PROP_LAST - HZ_P_PROP0 == HZ_DIM_PROP_LAST - HZ_DIM_PROP0,
               "one query property per stored prop dimension");

#define M(x) (1u << (x))
/* Visit-level rows carry visitors, visits, pageviews, nonbounce, duration. */
#define VISIT_METRICS (M(HZ_M_VISITORS) | M(HZ_M_VISITS) | M(HZ_M_PAGEVIEWS) |                   \
                       M(HZ_M_BOUNCE_RATE) | M(HZ_M_VISIT_DURATION) | M(HZ_M_VIEWS_PER_VISIT))
/* Which metrics each property's rows can answer (store.h: what each dim
 * fills). percentage is a breakdown metric: api_finish refuses it elsewhere. */
static const unsigned prop_metrics[HZ_P_COUNT] = {
    [HZ_P_NONE]  = VISIT_METRICS | M(HZ_M_TIME_ON_PAGE_MEDIAN) | M(HZ_M_TIME_ON_PAGE_P75) |
                   M(HZ_M_EVENTS) | M(HZ_M_CUSTOM_EVENTS),
    /* Bounce rate and visit duration of a page: of the visits that entered on it. */
    [HZ_P_PAGE]  = M(HZ_M_VISITORS) | M(HZ_M_VISITS) | M(HZ_M_PAGEVIEWS) |
                   M(HZ_M_BOUNCE_RATE) | M(HZ_M_VISIT_DURATION) | M(HZ_M_TIME_ON_PAGE) |
                   M(HZ_M_TIME_ON_PAGE_MEDIAN) | M(HZ_M_TIME_ON_PAGE_P75) |
                   M(HZ_M_EXIT_RATE) | M(HZ_M_TIME_ON_PAGE_MEAN) | M(HZ_M_PERCENTAGE) |
                   M(HZ_M_SCROLL_DEPTH),
    [HZ_P_ENTRY] = VISIT_METRICS | M(HZ_M_PERCENTAGE),
    [HZ_P_EXIT]  = M(HZ_M_VISITORS) | M(HZ_M_VISITS) | M(HZ_M_PAGEVIEWS) | M(HZ_M_EXIT_RATE) |
                   M(HZ_M_PERCENTAGE),
    [HZ_P_SOURCE] = VISIT_METRICS | M(HZ_M_PERCENTAGE),
    [HZ_P_UTM_SOURCE] = VISIT_METRICS | M(HZ_M_PERCENTAGE),
    [HZ_P_UTM_MEDIUM] = VISIT_METRICS | M(HZ_M_PERCENTAGE),
    [HZ_P_UTM_CAMPAIGN] = VISIT_METRICS | M(HZ_M_PERCENTAGE),
    [HZ_P_COUNTRY] = VISIT_METRICS | M(HZ_M_PERCENTAGE),
    [HZ_P_REGION] = VISIT_METRICS | M(HZ_M_PERCENTAGE),
    [HZ_P_BROWSER] = VISIT_METRICS | M(HZ_M_PERCENTAGE),
    [HZ_P_OS] = VISIT_METRICS | M(HZ_M_PERCENTAGE),
    [HZ_P_DEVICE] = VISIT_METRICS | M(HZ_M_PERCENTAGE),
    [HZ_P_NAME]  = M(HZ_M_VISITORS) | M(HZ_M_VISITS) | M(HZ_M_EVENTS) | M(HZ_M_CUSTOM_EVENTS) |
                   M(HZ_M_PERCENTAGE),
#define PROP_METRICS (M(HZ_M_VISITORS) | M(HZ_M_VISITS) | M(HZ_M_PAGEVIEWS) | M(HZ_M_EVENTS) |  \
                      M(HZ_M_CUSTOM_EVENTS) | M(HZ_M_PERCENTAGE))
    [HZ_P_UTM_CONTENT] = VISIT_METRICS | M(HZ_M_PERCENTAGE),
    [HZ_P_UTM_TERM] = VISIT_METRICS | M(HZ_M_PERCENTAGE),
    [HZ_P_REFERRER] = VISIT_METRICS | M(HZ_M_PERCENTAGE),
    [HZ_P_HOSTNAME] = PROP_METRICS,
    [HZ_P_BROWSER_VERSION] = VISIT_METRICS | M(HZ_M_PERCENTAGE),
    [HZ_P_OS_VERSION] = VISIT_METRICS | M(HZ_M_PERCENTAGE),
    [HZ_P_PROP0 + 0] = PROP_METRICS, [HZ_P_PROP0 + 1] = PROP_METRICS,
    [HZ_P_PROP0 + 2] = PROP_METRICS, [HZ_P_PROP0 + 3] = PROP_METRICS,
    [HZ_P_PROP0 + 4] = PROP_METRICS, [HZ_P_PROP0 + 5] = PROP_METRICS,
    [HZ_P_PROP0 + 6] = PROP_METRICS, [HZ_P_PROP0 + 7] = PROP_METRICS,
    /* Bounce rate and visit duration of a group: of the visits that entered on it. */
    [HZ_P_GROUP] = M(HZ_M_VISITORS) | M(HZ_M_VISITS) | M(HZ_M_PAGEVIEWS) |
                   M(HZ_M_BOUNCE_RATE) | M(HZ_M_VISIT_DURATION) | M(HZ_M_TIME_ON_PAGE_MEAN),
    [HZ_P_GOAL]  = M(HZ_M_VISITORS) | M(HZ_M_VISITS) | M(HZ_M_EVENTS) | M(HZ_M_CONVERSION_RATE),
};
/* clang-format on */

const char *
hz_query_metric_name(enum hz_metric m)
{
    return (unsigned)m < HZ_M_COUNT ? metric_names[m] : NULL;
}

/* Exact, case-sensitive names, as Plausible's. */
int
hz_query_metric_find(const char *s, size_t len)
{
    for (int i = 0; i < HZ_M_COUNT; i++)
        if (strlen(metric_names[i]) == len && memcmp(metric_names[i], s, len) == 0)
            return i;
    return -1;
}

const char *
hz_query_prop_name(enum hz_prop p)
{
    return (unsigned)p < HZ_P_COUNT ? props[p].name : NULL;
}

const char *
hz_query_prop_short(enum hz_prop p)
{
    return (unsigned)p < HZ_P_COUNT ? props[p].shortname : NULL;
}

/* HZ_P_NONE ("") is not a name a request may use. */
int
hz_query_prop_find(const char *s, size_t len)
{
    if (len == 0)
        return -1;
    for (int i = 1; i < HZ_P_COUNT; i++)
        if (strlen(props[i].name) == len && memcmp(props[i].name, s, len) == 0)
            return i;
    return -1;
}

enum hz_dim
hz_query_prop_dim(enum hz_prop p)
{
    return (unsigned)p < HZ_P_COUNT ? props[p].dim : HZ_DIM_TOTAL;
}

int
hz_query_metric_ok(enum hz_prop p, enum hz_metric m)
{
    if ((unsigned)p >= HZ_P_COUNT || (unsigned)m >= HZ_M_COUNT)
        return 0;
    return (prop_metrics[p] & M(m)) != 0;
}

int
hz_query_metric_hourly(enum hz_metric m)
{
    return m == HZ_M_VISITORS || m == HZ_M_VISITS || m == HZ_M_PAGEVIEWS;
}

/* ================================================================ periods */

/* Day number of the first of month (y, m), m may be outside 1..12. */
static int32_t
q_month_start(int y, int m)
{
    int mm = m - 1;
    y += mm >= 0 ? mm / 12 : -((11 - mm) / 12);
    mm = ((mm % 12) + 12) % 12;
    return hz_days_from_civil(y, mm + 1, 1);
}

/* Parses exactly "YYYY-MM-DD" from (s, len). */
static int
q_date(const char *s, size_t len, int32_t *day)
{
    char buf[11];

    if (len != 10)
        return -1;
    memcpy(buf, s, 10);
    buf[10] = '\0';
    return hz_date_parse(buf, day);
}

/*
 * Day arithmetic on local day numbers; months through q_month_start so
 * that "6mo" in February reaches back into the previous year.
 */
int
hz_query_period(const char *period, const char *date, int32_t today, int32_t *from, int32_t *to,
                struct hz_err *err)
{
    int32_t ref = today;
    int y, m, d;

    if (period == NULL || period[0] == '\0')
        period = "30d"; /* Plausible's default */
    if (strcmp(period, "custom") == 0) {
        const char *comma;
        int32_t a, b;
        if (date == NULL)
            return hz_err_set(err, HZ_EINVAL, "date: required for period=custom");
        comma = strchr(date, ',');
        if (comma == NULL || q_date(date, (size_t)(comma - date), &a) != 0 ||
            q_date(comma + 1, strlen(comma + 1), &b) != 0)
            return hz_err_set(err, HZ_EINVAL, "date: expected YYYY-MM-DD,YYYY-MM-DD");
        if (a > b)
            return hz_err_set(err, HZ_EINVAL, "date: the start is after the end");
        *from = a;
        *to = b;
        return 0;
    }
    if (date != NULL && q_date(date, strlen(date), &ref) != 0)
        return hz_err_set(err, HZ_EINVAL, "date: expected YYYY-MM-DD");
    hz_civil_from_days(ref, &y, &m, &d);
    if (strcmp(period, "day") == 0) {
        *from = *to = ref;
    } else if (strcmp(period, "7d") == 0 || strcmp(period, "28d") == 0 ||
               strcmp(period, "30d") == 0 || strcmp(period, "91d") == 0) {
        *from = ref - (int32_t)strtol(period, NULL, 10) + 1;
        *to = ref;
    } else if (strcmp(period, "month") == 0) {
        *from = q_month_start(y, m);
        *to = q_month_start(y, m + 1) - 1;
    } else if (strcmp(period, "6mo") == 0) {
        *from = q_month_start(y, m - 5);
        *to = q_month_start(y, m + 1) - 1;
    } else if (strcmp(period, "12mo") == 0) {
        *from = q_month_start(y, m - 11);
        *to = q_month_start(y, m + 1) - 1;
    } else if (strcmp(period, "year") == 0) {
        *from = q_month_start(y, 1);
        *to = q_month_start(y + 1, 1) - 1;
    } else {
        return hz_err_set(
            err, HZ_EINVAL,
            "period: expected day, 7d, 28d, 30d, 91d, month, 6mo, 12mo, year or custom");
    }
    return 0;
}

int32_t
hz_query_window_start(int32_t today, long retention_days)
{
    return today - (int32_t)retention_days + 1;
}

/*
 * The window is the retention_days days ending today: older days may
 * already be deleted, and answering them as zeros would be a lie.
 */
int
hz_query_check_range(int32_t from, int32_t to, int32_t today, long retention_days,
                     const char *param, struct hz_err *err)
{
    int32_t first = hz_query_window_start(today, retention_days);
    char d[11];

    if (from > to)
        return hz_err_set(err, HZ_EINVAL, "%s: the start is after the end", param);
    if (from < first) {
        hz_date_format(first, d);
        return hz_err_set(err, HZ_EINVAL,
                          "%s: the range starts before the retention window (%ld days, "
                          "first day %s)",
                          param, retention_days, d);
    }
    if (to > today + HZ_QUERY_FUTURE_MAX)
        return hz_err_set(err, HZ_EINVAL, "%s: the range ends more than a year from today", param);
    return 0;
}

/* ================================================================ rows */

struct q_index {
    size_t cap;     /* power of two, 0 before the first row */
    size_t nidx;    /* rows [0, nidx) are in it (hz_qres_append defers the rest) */
    uint64_t *slot; /* (hash low 32 bits << 32) | (row index + 1); 0 = empty */
};

static unsigned char q_key[HZ_SIPHASH_KEY];
static int q_key_set;

/*
 * SipHash of a value under a key drawn once per process: the values are
 * chosen by strangers (paths, referrers), so bucket collisions must not be
 * predictable.
 */
static uint64_t
q_hash(const char *v, size_t len)
{
    if (!q_key_set) {
        arc4random_buf(q_key, sizeof(q_key));
        q_key_set = 1;
    }
    return hz_siphash13(q_key, v, len);
}

/* An empty answer; rows, pool and index grow on demand. */
void
hz_qres_init(struct hz_qres *r)
{
    memset(r, 0, sizeof(*r));
}

void
hz_qres_free(struct hz_qres *r)
{
    struct q_index *ix;

    if (r == NULL)
        return;
    ix = r->index;
    if (ix != NULL)
        free(ix->slot);
    free(ix);
    free(r->rows);
    free(r->pool);
    free(r->order);
    hz_qres_init(r);
}

/*
 * Values are NUL-terminated in the pool, so callers may also use them as C
 * strings (the length is still authoritative: values may hold NULs).
 */
const char *
hz_qres_value(const struct hz_qres *r, size_t i, size_t *len)
{
    *len = r->rows[i].vlen;
    return r->pool ? r->pool + r->rows[i].voff : "";
}

/* Puts slot value sv (hash h) into the index ix. */
static void
q_place(struct q_index *ix, uint32_t h, uint64_t sv)
{
    size_t i = h & (ix->cap - 1);

    while (ix->slot[i] != 0)
        i = (i + 1) & (ix->cap - 1);
    ix->slot[i] = sv;
}

/* Adds the next row (nidx, value hash h) to the index, which doubles at
 * half load; slots keep their hashes, so no value is hashed again. */
static void
q_index_add(struct q_index *ix, uint64_t hash)
{
    uint32_t h = (uint32_t)hash;

    if ((ix->nidx + 1) * 2 > ix->cap) {
        struct q_index old = *ix;
        ix->cap = old.cap ? old.cap * 2 : 64;
        ix->slot = hz_xcalloc(ix->cap, sizeof(*ix->slot));
        for (size_t i = 0; i < old.cap; i++)
            if (old.slot[i] != 0)
                q_place(ix, (uint32_t)(old.slot[i] >> 32), old.slot[i]);
        free(old.slot);
    }
    q_place(ix, h, (uint64_t)h << 32 | (uint64_t)(ix->nidx + 1));
    ix->nidx++;
}

/* The index with every row in it (rows hz_qres_append added are hashed
 * now), or NULL when r never had a row. The index is the engine's own
 * memory: looking up in a const answer may still bring it up to date. */
static struct q_index *
q_index(const struct hz_qres *r)
{
    struct q_index *ix = r->index;

    while (ix != NULL && ix->nidx < r->n) {
        size_t len;
        const char *v = hz_qres_value(r, ix->nidx, &len);
        q_index_add(ix, q_hash(v, len));
    }
    return ix;
}

/*
 * Linear probing; the table is at most half full, so an empty slot ends
 * every search. Bytes are compared only where the hash's low bits agree.
 */
static long
q_find(const struct hz_qres *r, const struct q_index *ix, const char *v, size_t vlen, uint64_t hash)
{
    uint32_t h = (uint32_t)hash;

    if (ix == NULL || ix->cap == 0)
        return -1;
    for (size_t i = h & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
        uint64_t sv = ix->slot[i];
        if (sv == 0)
            return -1;
        if ((uint32_t)(sv >> 32) != h)
            continue;
        const struct hz_qrow *row = &r->rows[(uint32_t)sv - 1];
        if (row->vlen == vlen && memcmp(r->pool + row->voff, v, vlen) == 0)
            return (long)((uint32_t)sv - 1);
    }
}

long
hz_qres_find(const struct hz_qres *r, const char *v, size_t vlen)
{
    const struct q_index *ix = q_index(r);

    return ix == NULL ? -1 : q_find(r, ix, v, vlen, q_hash(v, vlen));
}

/*
 * Rows and the pool grow by doubling. voff is an offset, not a pointer, so
 * growing the pool moves nothing.
 */
size_t
hz_qres_append(struct hz_qres *r, const char *v, size_t vlen)
{
    struct hz_qrow *row;

    if (r->index == NULL)
        r->index = hz_xcalloc(1, sizeof(struct q_index));
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->rows = hz_xreallocarray(r->rows, r->cap, sizeof(*r->rows));
    }
    if (r->plen + vlen + 1 > r->pcap) {
        size_t cap = r->pcap ? r->pcap : 1024;
        while (cap < r->plen + vlen + 1)
            cap *= 2;
        r->pool = hz_xreallocarray(r->pool, cap, 1);
        r->pcap = cap;
    }
    row = &r->rows[r->n];
    memset(row, 0, sizeof(*row));
    row->voff = (uint32_t)r->plen;
    row->vlen = (uint32_t)vlen;
    row->dest = (int32_t)r->n;
    row->matched = 1;
    if (vlen > 0)
        memcpy(r->pool + r->plen, v, vlen);
    r->pool[r->plen + vlen] = '\0';
    r->plen += vlen + 1;
    return r->n++;
}

void
hz_qres_reserve(struct hz_qres *r, size_t nrows, size_t nbytes)
{
    if (nrows > r->cap) {
        r->rows = hz_xreallocarray(r->rows, nrows, sizeof(*r->rows));
        r->cap = nrows;
    }
    if (nbytes > r->pcap) {
        r->pool = hz_xreallocarray(r->pool, nbytes, 1);
        r->pcap = nbytes;
    }
}

size_t
hz_qres_row(struct hz_qres *r, const char *v, size_t vlen)
{
    uint64_t hash = q_hash(v, vlen); /* once: for the search and the insert */
    struct q_index *ix = q_index(r);
    long found = q_find(r, ix, v, vlen, hash);

    if (found >= 0)
        return (size_t)found;
    size_t i = hz_qres_append(r, v, vlen);
    q_index_add(r->index, hash); /* row i: every row before it is indexed */
    return i;
}

/* d += s, field by field. */
static void
q_counts_add(struct hz_counts *d, const struct hz_counts *s)
{
    hz_counts_add(d, s);
}

/* Adds every counter of s (its row, entry row and histogram) into d. */
static void
q_row_add(struct hz_qrow *d, const struct hz_qrow *s)
{
    q_counts_add(&d->c, &s->c);
    q_counts_add(&d->entry, &s->entry);
    for (int b = 0; b < HZ_HIST_BUCKETS; b++)
        d->hist[b] += s->hist[b];
    d->sd_sum += s->sd_sum;
    d->sd_n += s->sd_n;
}

void
hz_qrow_add(struct hz_qrow *d, const struct hz_qrow *s)
{
    q_row_add(d, s);
}

/* ================================================================ values */

/* Exits of a page: pageviews not followed by another pageview. */
static uint64_t
q_exits(const struct hz_counts *c)
{
    return c->pageviews > c->outs ? c->pageviews - c->outs : 0;
}

uint64_t
hz_query_visitors(enum hz_prop p, const struct hz_qrow *row)
{
    if (p == HZ_P_EXIT) {
        /* Distinct visitors who left here: at most the page's visitors and
         * at most its exits (one per visit). An upper bound, documented. */
        uint64_t ex = q_exits(&row->c);
        return row->c.visitors < ex ? row->c.visitors : ex;
    }
    return row->c.visitors;
}

/* 1 if the histogram holds no sample. */
static int
q_hist_empty(const uint64_t h[HZ_HIST_BUCKETS])
{
    for (int b = 0; b < HZ_HIST_BUCKETS; b++)
        if (h[b] != 0)
            return 0;
    return 1;
}

/*
 * Every metric from the counters of one row (store.h says which fields
 * each dimension fills). Rates round like Plausible: integer percent,
 * exit rate to one decimal, views per visit to two.
 */
void
hz_query_value(enum hz_prop p, enum hz_metric m, const struct hz_qrow *row, struct hz_mval *out)
{
    const struct hz_counts *c = &row->c;
    const struct hz_counts *vc =
        p == HZ_P_PAGE || p == HZ_P_GROUP ? &row->entry : c; /* visit-level counters */

    out->null = 0;
    out->decimals = 0;
    out->v = 0;
    if (row->withheld) {
        out->null = 1; /* the (other) of a single cell (dashboard/crosstab.c) */
        return;
    }
    switch (m) {
    case HZ_M_VISITORS:
        out->v = (double)hz_query_visitors(p, row);
        break;
    case HZ_M_VISITS:
        out->v = (double)(p == HZ_P_EXIT ? q_exits(c) : c->visits);
        break;
    case HZ_M_PAGEVIEWS:
        out->v = (double)c->pageviews;
        break;
    case HZ_M_BOUNCE_RATE:
        if ((p == HZ_P_PAGE || p == HZ_P_GROUP) && vc->visits == 0) {
            out->null = 1; /* no visit started on this page: no bounce rate */
            break;
        }
        if (vc->visits > 0) {
            uint64_t nb = vc->nonbounce < vc->visits ? vc->nonbounce : vc->visits;
            out->v = round(100.0 * (double)(vc->visits - nb) / (double)vc->visits);
        }
        break;
    case HZ_M_VISIT_DURATION:
        if ((p == HZ_P_PAGE || p == HZ_P_GROUP) && vc->visits == 0) {
            out->null = 1;
            break;
        }
        if (vc->visits > 0)
            out->v = round((double)vc->duration_ms / (double)vc->visits / 1000.0);
        break;
    case HZ_M_VIEWS_PER_VISIT:
        out->decimals = 2;
        if (c->visits > 0)
            out->v = round(100.0 * (double)c->pageviews / (double)c->visits) / 100.0;
        break;
    case HZ_M_TIME_ON_PAGE:
        /* Plausible's engagement-based time on page: the page's engaged
         * time divided by its visitors, whole seconds. */
        if (c->visitors == 0) {
            out->null = 1;
            break;
        }
        out->v = round((double)c->engaged_ms / (double)c->visitors / 1000.0);
        break;
    case HZ_M_TIME_ON_PAGE_MEDIAN:
    case HZ_M_TIME_ON_PAGE_P75:
        if (q_hist_empty(row->hist)) {
            out->null = 1;
            break;
        }
        out->v =
            round((double)hz_hist_quantile(row->hist, m == HZ_M_TIME_ON_PAGE_MEDIAN ? 0.5 : 0.75) /
                  1000.0);
        break;
    case HZ_M_EVENTS:
        /* Plausible's: pageviews and custom events. Site totals carry the
         * summed custom events in c->events (q_totals); event rows only
         * custom events. */
        out->v = (double)(c->events + (p == HZ_P_NONE || p == HZ_P_HOSTNAME ||
                                               (p >= HZ_P_PROP0 && p <= HZ_P_PROP_LAST)
                                           ? c->pageviews
                                           : 0));
        break;
    case HZ_M_SCROLL_DEPTH:
        /* Plausible's: the mean scroll depth reached, whole percent. */
        if (row->sd_n == 0) {
            out->null = 1;
            break;
        }
        out->v = round((double)row->sd_sum / (double)row->sd_n);
        break;
    case HZ_M_CUSTOM_EVENTS:
        out->v = (double)c->events;
        break;
    case HZ_M_EXIT_RATE:
        out->decimals = 1;
        if (c->pageviews > 0)
            out->v = round(1000.0 * (double)q_exits(c) / (double)c->pageviews) / 10.0;
        break;
    case HZ_M_TIME_ON_PAGE_MEAN:
        /* The exact mean beside the histogram's median: PAGE rows keep the
         * sum of engaged ms and the number of samples (store.h). */
        out->decimals = 1;
        if (c->events == 0) {
            out->null = 1;
            break;
        }
        out->v = round((double)c->engaged_ms / (double)c->events / 100.0) / 10.0;
        break;
    case HZ_M_LIFT:
        out->decimals = 2;
        if (row->lift < 0 || row->other) {
            out->null = 1;
            break;
        }
        out->v = round(100.0 * row->lift) / 100.0;
        break;
    case HZ_M_CONVERSION_RATE:
        /* Plausible: unique converting visitors / unique visitors, one decimal. */
        out->decimals = 1;
        if (row->cr_base > 0)
            out->v = round(1000.0 * (double)c->visitors / (double)row->cr_base) / 10.0;
        break;
    default:
        out->null = 1;
        break;
    }
}

void
hz_query_row_value(const struct hz_qres *r, enum hz_prop p, enum hz_metric m,
                   const struct hz_qrow *row, struct hz_mval *out)
{
    if (m != HZ_M_PERCENTAGE) {
        hz_query_value(p, m, row, out);
        return;
    }
    /* Plausible rounds the share to one decimal. */
    out->null = 0;
    out->decimals = 1;
    out->v = r->pct_base == 0
                 ? 0.0
                 : round(1000.0 * (double)hz_query_visitors(p, row) / (double)r->pct_base) / 10.0;
}

/*
 * Changes are computed from the displayed (rounded) values, so they agree
 * with the numbers next to them.
 */
double
hz_query_change(enum hz_metric m, const struct hz_mval *cur, const struct hz_mval *prev)
{
    if (m == HZ_M_BOUNCE_RATE || m == HZ_M_EXIT_RATE)
        return cur->v - prev->v; /* percentage points, as Plausible */
    if (prev->v == 0)
        return cur->v > 0 ? 100 : 0;
    return round((cur->v - prev->v) / prev->v * 100.0);
}

/* ================================================================ folding */

/* Length of the country code of a region value "CC-SUB", or 0 if none. */
static size_t
q_region_country(const char *v, size_t len)
{
    const char *dash = memchr(v, '-', len);

    if (dash == NULL || dash == v)
        return 0;
    return (size_t)(dash - v);
}

/* The parent row of a row (v, len) of p into out: a region's country, a
 * version's family "(other)"; its length, or 0 when it has none. */
static size_t
q_parent(enum hz_prop p, const char *v, size_t len, char *out, size_t cap)
{
    size_t cc;

    if (p != HZ_P_REGION)
        return hz_version_parent(v, len, out, cap);
    if ((cc = q_region_country(v, len)) == 0 || cc >= cap)
        return 0;
    memcpy(out, v, cc);
    out[cc] = '\0';
    return cc;
}

/* Moves row i into row d (d stays visible). */
static void
q_fold_into(struct hz_qres *r, size_t i, size_t d)
{
    q_row_add(&r->rows[d], &r->rows[i]);
    r->rows[i].hidden = 1;
    r->rows[i].dest = (int32_t)d;
}

/*
 * Three passes: region fallback (regions only), the fold into "(other)",
 * then every dest is resolved to the row that finally holds it (a region
 * moved into a country row that itself folded ends in "(other)").
 */
uint64_t
hz_query_fold(struct hz_qres *r, enum hz_prop p, uint64_t min_visitors)
{
    size_t n0 = r->n;
    long other;
    uint64_t folded = 0;

    for (size_t i = 0; i < r->n; i++) {
        r->rows[i].hidden = 0;
        r->rows[i].dest = (int32_t)i;
        r->rows[i].other = 0;
        r->rows[i].absorbed = 0;
    }
    if (p == HZ_P_REGION || hz_version_family(p) != HZ_P_NONE) {
        /*
         * Parent fallback: for each parent (a region's country, a
         * version's family "(other)"), the small children's visitors plus
         * the parent row's own decide whether they all move into the
         * parent row. Parent rows created here start at zero; one that
         * does not reach the threshold disappears without being counted.
         */
        uint64_t *pending = hz_xcalloc(2 * n0 + 1, sizeof(uint64_t));
        unsigned char *created = hz_xcalloc(2 * n0 + 1, 1);
        for (size_t i = 0; i < n0; i++) {
            size_t len, cc;
            char code[HZ_FILTER_VALUE_MAX];
            const char *v = hz_qres_value(r, i, &len);
            if (hz_query_visitors(p, &r->rows[i]) >= min_visitors)
                continue;
            /* copied: hz_qres_row may move the pool */
            if ((cc = q_parent(p, v, len, code, sizeof(code))) == 0)
                continue;
            size_t before = r->n;
            size_t d = hz_qres_row(r, code, cc);
            if (r->n > before)
                created[d] = 1;
            pending[d] += r->rows[i].c.visitors;
        }
        for (size_t i = 0; i < n0; i++) {
            size_t len, cc;
            char code[HZ_FILTER_VALUE_MAX];
            const char *v = hz_qres_value(r, i, &len);
            if (hz_query_visitors(p, &r->rows[i]) >= min_visitors)
                continue;
            if ((cc = q_parent(p, v, len, code, sizeof(code))) == 0)
                continue;
            long d = hz_qres_find(r, code, cc);
            if (d < 0)
                continue;
            if (r->rows[d].c.visitors + pending[d] >= min_visitors) {
                q_fold_into(r, i, (size_t)d);
                if (p == HZ_P_REGION)
                    r->rows[d].absorbed = 1;
                else
                    r->rows[d].other = 1; /* the family's "(other)" */
                folded++;
            }
        }
        for (size_t d = n0; d < r->n; d++)
            if (created[d] && r->rows[d].c.visitors == 0) {
                r->rows[d].hidden = 1; /* never existed: nothing moved in */
                r->rows[d].dest = (int32_t)d;
            }
        free(pending);
        free(created);
    }
    other = hz_qres_find(r, HZ_OTHER_VALUE, strlen(HZ_OTHER_VALUE));
    if (other >= 0)
        r->rows[other].other = 1; /* the store's own overflow row */
    for (size_t i = 0; i < r->n; i++) {
        if (r->rows[i].hidden || (long)i == other)
            continue;
        if (hz_query_visitors(p, &r->rows[i]) >= min_visitors)
            continue;
        if (other < 0) {
            other = (long)hz_qres_row(r, HZ_OTHER_VALUE, strlen(HZ_OTHER_VALUE));
            r->rows[other].other = 1;
        }
        q_fold_into(r, i, (size_t)other);
        folded++;
    }
    /* Never an "(other)" row with nothing in it: exit pages fold the
     * pages nobody left from (no exits), which hold nothing to show. */
    if (other >= 0 && hz_query_visitors(p, &r->rows[other]) == 0) {
        r->rows[other].hidden = 1;
        r->rows[other].dest = (int32_t)other;
    }
    /* A region that moved into a country row which itself folded. */
    for (size_t i = 0; i < r->n; i++) {
        size_t d = (size_t)r->rows[i].dest;
        while (r->rows[d].hidden && (size_t)r->rows[d].dest != d)
            d = (size_t)r->rows[d].dest;
        r->rows[i].dest = (int32_t)d;
    }
    return folded;
}

/* ================================================================ filters, order */

/* 1 if the NUL-terminated needle occurs in (h, hlen). */
static int
q_contains(const char *h, size_t hlen, const char *needle)
{
    size_t nlen = strlen(needle);

    if (nlen == 0)
        return 1;
    for (size_t i = 0; i + nlen <= hlen; i++)
        if (memcmp(h + i, needle, nlen) == 0)
            return 1;
    return 0;
}

/* ASCII lower case of (s, len) into out (cap bytes); the length copied. */
static size_t
q_lower(char *out, size_t cap, const char *s, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;

    for (size_t i = 0; i < n; i++)
        out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
    out[n] = '\0';
    return n;
}

/* Filter values are at most HZ_FILTER_VALUE_MAX - 1 bytes; a row value
 * longer than this cannot equal one, but may contain one. */
#define Q_LOWER_MAX 1024

/*
 * One filter against one value; res holds its compiled expressions (one per
 * value) for the regular-expression operators. A filter with several values
 * matches when any value does (v1 "a|b", v2 ["a","b"]); the negated
 * operators then invert the answer. case_sensitive: false compares ASCII
 * lower case (values and row), and compiles expressions caseless.
 */
static int
q_filter_match(const struct hz_filter *f, hz_re *const *res, const char *v, size_t vlen)
{
    char lv[Q_LOWER_MAX], lf[HZ_FILTER_VALUE_MAX];
    int any = 0;

    if (f->icase && f->op != HZ_FOP_MATCHES && f->op != HZ_FOP_MATCHES_NOT) {
        if (vlen >= sizeof(lv) && (f->op == HZ_FOP_IS || f->op == HZ_FOP_IS_NOT))
            return f->op == HZ_FOP_IS_NOT; /* longer than any value */
        vlen = q_lower(lv, sizeof(lv), v, vlen);
        v = lv;
    }
    for (int i = 0; i < f->nvalues && !any; i++) {
        const char *fv = f->values[i];
        if (f->icase) {
            (void)q_lower(lf, sizeof(lf), fv, strlen(fv));
            fv = lf;
        }
        switch (f->op) {
        case HZ_FOP_IS:
        case HZ_FOP_IS_NOT:
            any = strlen(fv) == vlen && memcmp(fv, v, vlen) == 0;
            break;
        case HZ_FOP_CONTAINS:
        case HZ_FOP_CONTAINS_NOT:
            any = q_contains(v, vlen, fv);
            break;
        case HZ_FOP_GLOB:
        case HZ_FOP_NOT_GLOB:
            any = hz_glob_match(fv, v, vlen);
            break;
        case HZ_FOP_MATCHES:
        case HZ_FOP_MATCHES_NOT:
            any = res != NULL && res[i] != NULL && hz_re_match(res[i], v, vlen) == 1;
            break;
        default:
            break;
        }
    }
    if (f->op == HZ_FOP_IS_NOT || f->op == HZ_FOP_NOT_GLOB || f->op == HZ_FOP_CONTAINS_NOT ||
        f->op == HZ_FOP_MATCHES_NOT)
        return !any;
    return any;
}

/* Compiles f's expressions into res (NULL for the other operators). */
static void
q_filter_compile(const struct hz_filter *f, hz_re **res)
{
    for (int i = 0; i < HZ_FILTER_VALUES_MAX; i++)
        res[i] = NULL;
    if (f->op != HZ_FOP_MATCHES && f->op != HZ_FOP_MATCHES_NOT)
        return;
    for (int i = 0; i < f->nvalues; i++)
        res[i] = hz_re_compile(f->values[i], strlen(f->values[i]), f->icase, NULL);
}

static void
q_filter_release(hz_re **res)
{
    for (int i = 0; i < HZ_FILTER_VALUES_MAX; i++)
        hz_re_free(res[i]);
}

int
hz_query_filter_match(const struct hz_filter *f, const char *v, size_t vlen)
{
    hz_re *res[HZ_FILTER_VALUES_MAX];
    int rc;

    q_filter_compile(f, res);
    rc = q_filter_match(f, res, v, vlen);
    q_filter_release(res);
    return rc;
}

/* The tree at node n over the leaves' results (depth is bounded by the
 * node count: the parser builds no cycles). */
static int
q_fnode_eval(const struct hz_query *q, int n, const int *leaf, int depth)
{
    const struct hz_fnode *nd = &q->fnodes[n];
    int r;

    if (depth > HZ_FNODES_MAX)
        return 0;
    switch (nd->kind) {
    case HZ_FN_LEAF:
        return leaf[nd->leaf];
    case HZ_FN_NOT:
        return !q_fnode_eval(q, nd->kids[0], leaf, depth + 1);
    case HZ_FN_OR:
        r = 0;
        for (int k = 0; k < nd->nkids && !r; k++)
            r = q_fnode_eval(q, nd->kids[k], leaf, depth + 1);
        return r;
    default:
        r = 1;
        for (int k = 0; k < nd->nkids && r; k++)
            r = q_fnode_eval(q, nd->kids[k], leaf, depth + 1);
        return r;
    }
}

/* Every filter of q against one value, with compiled expressions. */
static int
q_filters_match(const struct hz_query *q, hz_re *(*res)[HZ_FILTER_VALUES_MAX], const char *v,
                size_t vlen)
{
    int leaf[HZ_FILTERS_MAX];

    for (int f = 0; f < q->nfilters; f++) {
        size_t plen = vlen;
        /* Version rows: a filter reads the part its property names. */
        const char *pv =
            q->ver != HZ_P_NONE ? hz_version_part(q->filters[f].prop, v, vlen, &plen) : v;
        leaf[f] = q_filter_match(&q->filters[f], res ? res[f] : NULL, pv, plen);
    }
    if (q->nfnodes > 0)
        return q_fnode_eval(q, q->froot, leaf, 0);
    for (int f = 0; f < q->nfilters; f++)
        if (!leaf[f])
            return 0;
    return 1;
}

int
hz_query_filters_match(const struct hz_query *q, const char *v, size_t vlen)
{
    hz_re *res[HZ_FILTERS_MAX][HZ_FILTER_VALUES_MAX];
    int rc;

    for (int f = 0; f < q->nfilters; f++)
        q_filter_compile(&q->filters[f], res[f]);
    rc = q_filters_match(q, res, v, vlen);
    for (int f = 0; f < q->nfilters; f++)
        q_filter_release(res[f]);
    return rc;
}

struct q_sortkey {
    double key[HZ_ORDER_MAX]; /* metric keys, already negated for descending order */
    double visitors;          /* tie-break: more visitors first */
    const char *v;
    size_t vlen;
    size_t idx;
};

/* The keys being sorted by (qsort has no context argument). */
static _Thread_local const struct hz_okey *q_sort_keys;
static _Thread_local int q_sort_nkeys;

static int
q_value_cmp(const struct q_sortkey *x, const struct q_sortkey *y)
{
    size_t n = x->vlen < y->vlen ? x->vlen : y->vlen;
    int c = memcmp(x->v, y->v, n);

    if (c == 0 && x->vlen != y->vlen)
        c = x->vlen < y->vlen ? -1 : 1;
    return c;
}

/*
 * qsort order: each key in turn (a metric, or the value itself), then more
 * visitors first, then by value bytes.
 */
static int
q_sortkey_cmp(const void *a, const void *b)
{
    const struct q_sortkey *x = a, *y = b;

    for (int k = 0; k < q_sort_nkeys; k++) {
        if (q_sort_keys[k].kind != HZ_OK_METRIC) {
            int c = q_value_cmp(x, y);
            if (c != 0)
                return q_sort_keys[k].desc ? -c : c;
            continue;
        }
        if (x->key[k] != y->key[k])
            return x->key[k] < y->key[k] ? -1 : 1;
    }
    if (x->visitors != y->visitors)
        return x->visitors > y->visitors ? -1 : 1;
    return q_value_cmp(x, y);
}

/* Moves keys[i] down the max-heap keys[0..n) (the root: last in order). */
static void
q_heap_down(struct q_sortkey *keys, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && q_sortkey_cmp(&keys[l], &keys[m]) > 0)
            m = l;
        if (l + 1 < n && q_sortkey_cmp(&keys[l + 1], &keys[m]) > 0)
            m = l + 1;
        if (m == i)
            return;
        struct q_sortkey x = keys[i];
        keys[i] = keys[m];
        keys[m] = x;
        i = m;
    }
}

/*
 * Puts the first k of keys[0..n) in order into keys[0..k); the others
 * follow in no order. The order is total (values are distinct and come
 * last), so these k are the same as a full sort's first k. A page of a
 * long breakdown (limit 100 of 10,000 rows) keeps the k first in a heap,
 * one comparison for most rows, instead of sorting them all.
 */
static void
q_sort_first(struct q_sortkey *keys, size_t n, size_t k)
{
    if (k > n / 4) {
        qsort(keys, n, sizeof(*keys), q_sortkey_cmp);
        return;
    }
    for (size_t i = k / 2; i-- > 0;)
        q_heap_down(keys, k, i);
    for (size_t i = k; i < n && k > 0; i++)
        if (q_sortkey_cmp(&keys[i], &keys[0]) < 0) {
            struct q_sortkey x = keys[0];
            keys[0] = keys[i];
            keys[i] = x;
            q_heap_down(keys, k, 0);
        }
    qsort(keys, k, sizeof(*keys), q_sortkey_cmp);
}

/*
 * Orders n candidate rows, which row_at gives (NULL: not shown), into
 * idx[0 .. returned): the first r->first + r->count of them sorted.
 * Sets r->first, r->count and r->total_rows.
 */
size_t
hz_query_order_by(struct hz_qres *r, const struct hz_query *q, size_t n, hz_qrow_at row_at,
                  void *arg, size_t *idx)
{
    /* Filled below, up to nk: no need to zero it. */
    struct q_sortkey *keys = hz_xreallocarray(NULL, n + 1, sizeof(*keys));
    struct hz_okey one[1];
    const struct hz_okey *ok = q->order;
    int nok = q->norder;
    size_t nk = 0;

    if (nok == 0) {
        one[0].kind = q->order_metric < 0 ? HZ_OK_DIMENSION : HZ_OK_METRIC;
        one[0].metric = q->order_metric;
        one[0].desc = q->order_desc;
        ok = one;
        nok = 1;
    }
    for (size_t i = 0; i < n; i++) {
        struct hz_qrow tmp;
        const struct hz_qrow *row = row_at(arg, i, &tmp, &keys[nk].v, &keys[nk].vlen);
        struct hz_mval mv;
        if (row == NULL)
            continue;
        memset(keys[nk].key, 0, sizeof(keys[nk].key)); /* the value keys' */
        keys[nk].idx = i;
        keys[nk].visitors = (double)hz_query_visitors(q->prop, row);
        for (int k = 0; k < nok; k++) {
            if (ok[k].kind != HZ_OK_METRIC)
                continue;
            if (ok[k].metric == HZ_M_VISITORS && !row->withheld) {
                keys[nk].key[k] = keys[nk].visitors; /* hz_query_value's, without the call */
            } else {
                hz_query_row_value(r, q->prop, (enum hz_metric)ok[k].metric, row, &mv);
                keys[nk].key[k] = mv.null ? -1e300 : mv.v;
            }
            if (ok[k].desc)
                keys[nk].key[k] = -keys[nk].key[k];
        }
        nk++;
    }
    q_sort_keys = ok;
    q_sort_nkeys = nok;
    r->first = q->offset < nk ? (size_t)q->offset : nk;
    r->count = nk - r->first;
    if (q->limit > 0 && r->count > q->limit)
        r->count = (size_t)q->limit;
    q_sort_first(keys, nk, r->first + r->count);
    for (size_t i = 0; i < nk; i++)
        idx[i] = keys[i].idx;
    free(keys);
    r->total_rows = nk;
    return nk;
}

/* hz_qrow_at over r's own rows: the visible, matching ones. */
static const struct hz_qrow *
q_row_at(void *arg, size_t i, struct hz_qrow *tmp, const char **v, size_t *vlen)
{
    const struct hz_qres *r = arg;
    const struct hz_qrow *row = &r->rows[i];

    (void)tmp;
    if (row->hidden || !row->matched)
        return NULL;
    *v = hz_qres_value(r, i, vlen);
    return row;
}

/*
 * Only visible, matching rows are ordered, "(other)" among them: it follows
 * the order like any row (Plausible's clients sort what they get).
 */
void
hz_query_order(struct hz_qres *r, const struct hz_query *q)
{
    free(r->order);
    r->order = hz_xreallocarray(NULL, r->n + 1, sizeof(size_t));
    r->norder = hz_query_order_by(r, q, r->n, q_row_at, r, r->order);
}

/* ================================================================ store reads */

enum { Q_INTO_C, Q_INTO_ENTRY, Q_INTO_C_EXISTING };

struct q_collect {
    struct hz_qres *r;
    int into;
};

/*
 * Store row callback: adds a row's counters to the row with its value
 * (Q_INTO_C), or joins them to an existing row (entry rows of pages).
 */
static void
q_collect_cb(const char *value, size_t vlen, const struct hz_counts *c, void *arg)
{
    struct q_collect *qc = arg;
    long i;

    if (qc->into == Q_INTO_C) {
        /* The index first: hz_qres_row may move the rows array. */
        size_t k = hz_qres_row(qc->r, value, vlen);
        q_counts_add(&qc->r->rows[k].c, c);
        return;
    }
    if ((i = hz_qres_find(qc->r, value, vlen)) < 0)
        return; /* an entry page never seen as a page: nothing to join it to */
    if (qc->into == Q_INTO_ENTRY)
        q_counts_add(&qc->r->rows[i].entry, c);
    else
        q_counts_add(&qc->r->rows[i].c, c);
}

/* Store histogram callback: joins a page's histogram to its row. */
static void
q_hist_cb(const char *page, size_t plen, const uint64_t h[HZ_HIST_BUCKETS], void *arg)
{
    struct hz_qres *r = arg;
    long i;

    if (plen > 1 && (unsigned char)page[0] == HZ_SCROLL_KEY) {
        /* A page's scroll depth samples (store.h). */
        if ((i = hz_qres_find(r, page + 1, plen - 1)) >= 0) {
            r->rows[i].sd_sum += h[HZ_SCROLL_SUM];
            r->rows[i].sd_n += h[HZ_SCROLL_N];
        }
        return;
    }
    if (plen == 0 || (i = hz_qres_find(r, page, plen)) < 0)
        return; /* "" is the site-wide histogram */
    for (int b = 0; b < HZ_HIST_BUCKETS; b++)
        r->rows[i].hist[b] += h[b];
}

/*
 * A store failure as HZ_ESTORE with a line for the log (the client gets
 * "internal error").
 */
static int
q_store_err(int rc, const char *what, struct hz_err *err)
{
    return hz_err_set(err, HZ_ESTORE, "store: %s: %s", what, hz_strerror(rc));
}

/* Raw rows of one dimension, no joins, no folding (drop reasons). */
int
hz_query_collect(hz_rtxn *t, const char *site, enum hz_dim dim, int32_t from, int32_t to,
                 struct hz_qres *r)
{
    struct q_collect qc = {r, Q_INTO_C};

    return hz_store_dim_rows(t, site, dim, from, to, q_collect_cb, &qc);
}

/* Which joins the metrics of q need. */
static void
q_needs(const struct hz_query *q, enum hz_prop p, int *entry, int *hist, int *events)
{
    *entry = *hist = *events = 0;
    for (int i = 0; i < q->nmetrics; i++) {
        enum hz_metric m = q->metrics[i];
        if ((p == HZ_P_PAGE || p == HZ_P_GROUP) &&
            (m == HZ_M_BOUNCE_RATE || m == HZ_M_VISIT_DURATION))
            *entry = 1;
        if (m == HZ_M_TIME_ON_PAGE_MEDIAN || m == HZ_M_TIME_ON_PAGE_P75 || m == HZ_M_SCROLL_DEPTH)
            *hist = 1;
        if (m == HZ_M_EVENTS || m == HZ_M_CUSTOM_EVENTS)
            *events = 1;
    }
}

/*
 * The rows of dim over [a, b] into r as q_collect_cb would put them there
 * (into: Q_INTO_C, r empty, or Q_INTO_ENTRY), read with hz_xscan_rows: its table
 * (on two threads when large, and without hashing a value a row) has the
 * values in the order they first came, so the rows appended here are the
 * ones q_collect_cb appends, in the same order; joined rows are sums, in
 * any order the same.
 */
static int
q_read_dim(hz_rtxn *t, const char *site, enum hz_dim dim, int32_t a, int32_t b, struct hz_qres *r,
           int into)
{
    struct hz_xcells x;
    int rc;

    if (into == Q_INTO_ENTRY && r->n == 0)
        return 0; /* no page to join an entry row to */
    hz_xcells_init(&x);
    if ((rc = hz_xscan_rows(t, site, dim, a, b, &x)) == 0 && into == Q_INTO_C) {
        hz_xcells_trim(&x); /* the table's index and order: not needed to copy it */
        hz_qres_reserve(r, r->n + x.n + 1, r->plen + x.plen + 1);
        for (size_t i = 0; i < x.n; i++) {
            size_t k = hz_qres_append(r, hz_xcells_v1(&x, i), x.c[i].vlen);
            r->rows[k].c = x.wide[i];
        }
    } else if (rc == 0) {
        for (size_t i = 0; i < x.n; i++) {
            long k = hz_qres_find(r, hz_xcells_v1(&x, i), x.c[i].vlen);
            if (k >= 0) /* an entry page never seen as a page: nothing to join */
                q_counts_add(&r->rows[k].entry, &x.wide[i]);
        }
    }
    hz_xcells_free(&x);
    return rc;
}

/* The rows of property p over [a, b] with the joins q's metrics need. */
static int
q_rows(hz_rtxn *t, const struct hz_query *q, enum hz_prop p, int32_t a, int32_t b,
       struct hz_qres *r, struct hz_err *err)
{
    int need_entry, need_hist, need_events, rc;

    q_needs(q, p, &need_entry, &need_hist, &need_events);
    if ((rc = q_read_dim(t, q->site, hz_query_prop_dim(p), a, b, r, Q_INTO_C)) != 0)
        return q_store_err(rc, "dimension", err);
    if (need_entry) {
        enum hz_dim ed = p == HZ_P_GROUP ? HZ_DIM_ENTRY_GROUP : HZ_DIM_ENTRY;
        if ((rc = q_read_dim(t, q->site, ed, a, b, r, Q_INTO_ENTRY)) != 0)
            return q_store_err(rc, "entry pages", err);
    }
    if (need_hist && p == HZ_P_PAGE) {
        if ((rc = hz_store_hists(t, q->site, a, b, q_hist_cb, r)) != 0)
            return q_store_err(rc, "histograms", err);
    }
    return 0;
}

/* The property a filtered question reads (its filters' property). */
static enum hz_prop
q_filter_prop(const struct hz_query *q)
{
    if (q->ver != HZ_P_NONE)
        return q->ver; /* a family filter reads the version rows (version.h) */
    return q->nfilters > 0 ? q->filters[0].prop : HZ_P_NONE;
}

/* Which property's semantics apply to an answer's numbers. */
enum hz_prop
hz_query_value_prop(const struct hz_query *q)
{
    if (q->ver != HZ_P_NONE)
        return q->ver;
    if (q->kind == HZ_Q_BREAKDOWN)
        return q->prop;
    return q_filter_prop(q);
}

/* Marks the rows that pass every filter; expressions compiled once. */
static void
q_filter(struct hz_qres *r, const struct hz_query *q)
{
    hz_re *res[HZ_FILTERS_MAX][HZ_FILTER_VALUES_MAX];

    for (int f = 0; f < q->nfilters; f++)
        q_filter_compile(&q->filters[f], res[f]);
    for (size_t i = 0; i < r->n; i++) {
        size_t len;
        const char *v = hz_qres_value(r, i, &len);
        r->rows[i].matched = q_filters_match(q, res, v, len);
    }
    for (int f = 0; f < q->nfilters; f++)
        q_filter_release(res[f]);
}

/* Rows of p over [a, b], folded and filtered: the common first step. */
static int
q_marginal(hz_rtxn *t, const struct hz_query *q, const struct hz_qopts *o, enum hz_prop p,
           int32_t a, int32_t b, struct hz_qres *r, struct hz_err *err)
{
    int rc = q_rows(t, q, p, a, b, r, err);

    if (rc != 0)
        return rc;
    r->folded = hz_query_fold(r, p, o->min_visitors);
    q_filter(r, q);
    return 0;
}

/* Site totals over [a, b] with the extras q's metrics need. */
static int
q_totals(hz_rtxn *t, const struct hz_query *q, int32_t a, int32_t b, struct hz_qrow *out,
         struct hz_err *err)
{
    int need_entry, need_hist, need_events, rc;

    memset(out, 0, sizeof(*out));
    q_needs(q, HZ_P_NONE, &need_entry, &need_hist, &need_events);
    if ((rc = hz_store_totals(t, q->site, a, b, &out->c)) != 0)
        return q_store_err(rc, "totals", err);
    out->c.events = 0; /* site rows do not fill events: they are summed below */
    if (need_hist && (rc = hz_store_hist(t, q->site, "", a, b, out->hist)) != 0)
        return q_store_err(rc, "histogram", err);
    if (need_events) {
        struct hz_qres ev;
        hz_qres_init(&ev);
        rc = hz_query_collect(t, q->site, HZ_DIM_EVENT, a, b, &ev);
        for (size_t i = 0; rc == 0 && i < ev.n; i++)
            out->c.events += ev.rows[i].c.events;
        hz_qres_free(&ev);
        if (rc != 0)
            return q_store_err(rc, "events", err);
    }
    return 0;
}

/* Aggregate of [a, b]: site totals, or the sum of the matching marginal rows. */
static int
q_aggregate(hz_rtxn *t, const struct hz_query *q, const struct hz_qopts *o, int32_t a, int32_t b,
            struct hz_qrow *out, uint64_t *folded, struct hz_err *err)
{
    struct hz_qres r;
    int rc;

    if (q->nfilters == 0)
        return q_totals(t, q, a, b, out, err);
    memset(out, 0, sizeof(*out));
    hz_qres_init(&r);
    rc = q_marginal(t, q, o, q_filter_prop(q), a, b, &r, err);
    for (size_t i = 0; rc == 0 && i < r.n; i++)
        if (!r.rows[i].hidden && r.rows[i].matched)
            q_row_add(out, &r.rows[i]);
    if (folded != NULL)
        *folded = r.folded;
    hz_qres_free(&r);
    return rc;
}

/* ================================================================ timeseries */

struct q_hours {
    struct hz_qres *r;
    int32_t first;
};

/* Store hour callback: adds an hour's totals to its bucket. */
static void
q_hours_cb(int32_t period, const struct hz_counts *c, void *arg)
{
    struct q_hours *h = arg;
    int64_t i = (int64_t)period - h->first;

    if (i >= 0 && (size_t)i < h->r->n)
        q_counts_add(&h->r->rows[i].c, c);
}

/* Appends a bucket row named label starting at period. */
static size_t
q_bucket(struct hz_qres *r, const char *label, int32_t period)
{
    size_t i = hz_qres_row(r, label, strlen(label));

    r->rows[i].period = period;
    return i;
}

/*
 * An hourly series: one bucket per local hour of [from, to], labelled
 * "YYYY-MM-DD HH:00:00", read in one scan of the hour rows.
 */
static int
q_timeseries_hours(hz_rtxn *t, const struct hz_query *q, struct hz_qres *r, struct hz_err *err)
{
    int32_t h0 = q->from * 24, h1 = q->to * 24 + 23;
    struct q_hours qh = {r, h0};
    int rc;

    for (int32_t h = h0; h <= h1; h++) {
        char label[24], d[11];
        int32_t day = h >= 0 ? h / 24 : (h - 23) / 24;
        hz_date_format(day, d);
        int hour = (int)(h - day * 24);
        label[0] = '\0';
        (void)snprintf(label, sizeof(label), "%s %02d:00:00", d, hour);
        (void)q_bucket(r, label, h);
    }
    if ((rc = hz_store_hours(t, q->site, h0, h1, q_hours_cb, &qh)) != 0)
        return q_store_err(rc, "hours", err);
    return 0;
}

/* The bucket [a, b] of a filtered series: rows of [a, b] mapped through the
 * range's fold (range) and kept when the row they fold into matches. */
static int
q_bucket_filtered(hz_rtxn *t, const struct hz_query *q, const struct hz_qres *range, int32_t a,
                  int32_t b, struct hz_qrow *out, struct hz_err *err)
{
    struct hz_qres br;
    int rc;

    hz_qres_init(&br);
    rc = q_rows(t, q, q_filter_prop(q), a, b, &br, err);
    for (size_t i = 0; rc == 0 && i < br.n; i++) {
        size_t len;
        const char *v = hz_qres_value(&br, i, &len);
        long j = hz_qres_find(range, v, len);
        if (j < 0)
            continue;
        const struct hz_qrow *d = &range->rows[range->rows[j].dest];
        if (d->matched && !d->hidden)
            q_row_add(out, &br.rows[i]);
    }
    hz_qres_free(&br);
    return rc;
}

/*
 * A daily or monthly series: one bucket per day or month (clipped to the
 * range). Without filters each bucket is the site totals; with filters the
 * range is folded once and each bucket sums the rows whose folded row
 * matches, so a bucket never shows a value the breakdown would hide.
 */
static int
q_timeseries(hz_rtxn *t, const struct hz_query *q, const struct hz_qopts *o, struct hz_qres *r,
             struct hz_err *err)
{
    struct hz_qres range;
    int rc = 0;

    if (q->interval == HZ_IV_HOUR)
        return q_timeseries_hours(t, q, r, err);
    hz_qres_init(&range);
    if (q->nfilters > 0 &&
        (rc = q_marginal(t, q, o, q_filter_prop(q), q->from, q->to, &range, err)) != 0)
        goto done;
    r->folded = range.folded;
    for (int32_t a = q->from; a <= q->to;) {
        int32_t b = a;
        char label[11];
        if (q->interval == HZ_IV_MONTH) {
            int y, m, d;
            hz_civil_from_days(a, &y, &m, &d);
            b = q_month_start(y, m + 1) - 1;
            if (b > q->to)
                b = q->to;
            hz_date_format(q_month_start(y, m), label);
        } else if (q->interval == HZ_IV_WEEK) {
            /* Day 0 (1970-01-01) was a Thursday: Monday is (day + 3) % 7 == 0.
             * A week bucket is labelled by its first day inside the range. */
            int32_t wd = ((a + 3) % 7 + 7) % 7;
            b = a - wd + 6;
            if (b > q->to)
                b = q->to;
            hz_date_format(a, label);
        } else {
            hz_date_format(a, label);
        }
        size_t i = q_bucket(r, label, a);
        struct hz_qrow row;
        if (q->nfilters > 0) {
            memset(&row, 0, sizeof(row));
            rc = q_bucket_filtered(t, q, &range, a, b, &row, err);
        } else {
            rc = q_totals(t, q, a, b, &row, err);
        }
        if (rc != 0)
            goto done;
        q_row_add(&r->rows[i], &row);
        a = b + 1;
    }
done:
    hz_qres_free(&range);
    return rc;
}

/* ================================================================ run */

/*
 * What metric percentage divides by: the site's visitors, or with filters
 * the visitors of the rows they keep (Plausible's share of the total under
 * the same filters).
 */
static int
q_pct_base(hz_rtxn *t, const struct hz_query *q, struct hz_qres *r, struct hz_err *err)
{
    struct hz_counts c;
    int want = 0, rc;

    for (int i = 0; i < q->nmetrics; i++)
        want |= q->metrics[i] == HZ_M_PERCENTAGE;
    r->pct_base = 0;
    if (!want)
        return 0;
    if (q->nfilters > 0) {
        for (size_t i = 0; i < r->n; i++)
            if (!r->rows[i].hidden && r->rows[i].matched)
                r->pct_base += hz_query_visitors(q->prop, &r->rows[i]);
        return 0;
    }
    if ((rc = hz_store_totals(t, q->site, q->from, q->to, &c)) != 0)
        return q_store_err(rc, "totals", err);
    r->pct_base = c.visitors;
    return 0;
}

/*
 * "all" becomes [first day with data (not before the retention window),
 * today] here, where the store is at hand; then one of the three shapes.
 */
int
hz_query_run(hz_rtxn *t, const struct hz_query *q, const struct hz_qopts *o, struct hz_qres *r,
             struct hz_err *err)
{
    struct hz_query qq = *q;
    int rc;

    if (qq.all) {
        int32_t first, last;
        int32_t w = hz_query_window_start(qq.today, o->retention_days);
        rc = hz_store_span(t, qq.site, &first, &last);
        if (rc == HZ_ENOTFOUND)
            first = qq.today;
        else if (rc != 0)
            return q_store_err(rc, "span", err);
        qq.from = first < w ? w : first;
        qq.to = qq.today;
        if (qq.from > qq.to)
            qq.from = qq.to;
    }
    r->from = qq.from;
    r->to = qq.to;
    if (qq.xtab) /* two properties: a declared pair (dashboard/crosstab.c) */
        return hz_xquery_run(t, &qq, o, r, err);
    if (qq.heat) /* weekday x hour of day, from the hour rows */
        return hz_xquery_heatmap(t, &qq, r, err);
    switch (qq.kind) {
    case HZ_Q_AGGREGATE:
        rc = q_aggregate(t, &qq, o, qq.from, qq.to, &r->total, &r->folded, err);
        if (rc == 0)
            rc = hz_xquery_cr_base(t, &qq, r, err);
        if (rc == 0 && qq.compare) {
            int32_t len = qq.to - qq.from + 1;
            /* A previous period outside the retention window has no data to
             * compare with: the change is then null, never a made-up 100%. */
            if (qq.from - len >= hz_query_window_start(qq.today, o->retention_days)) {
                rc = q_aggregate(t, &qq, o, qq.from - len, qq.from - 1, &r->prev, NULL, err);
                r->has_prev = rc == 0;
            }
        }
        return rc;
    case HZ_Q_TIMESERIES:
        rc = q_timeseries(t, &qq, o, r, err);
        if (rc == 0) {
            /* Buckets are in time order; order_by may only reverse them
             * (time) or sort them by a metric. */
            int by_time = qq.norder == 0 || qq.order[0].kind != HZ_OK_METRIC;
            if (!by_time) {
                qq.prop = hz_query_value_prop(&qq);
                hz_query_order(r, &qq);
            } else {
                int desc = qq.norder > 0 && qq.order[0].desc;
                free(r->order);
                r->order = hz_xcalloc(r->n + 1, sizeof(size_t));
                for (size_t i = 0; i < r->n; i++)
                    r->order[i] = desc ? r->n - 1 - i : i;
                r->norder = r->total_rows = r->n;
                r->first = qq.offset < r->n ? (size_t)qq.offset : r->n;
                r->count = r->n - r->first;
                if (qq.limit > 0 && r->count > qq.limit)
                    r->count = (size_t)qq.limit;
            }
        }
        return rc;
    case HZ_Q_BREAKDOWN:
        if ((rc = q_marginal(t, &qq, o, qq.ver != HZ_P_NONE ? qq.ver : qq.prop, qq.from, qq.to, r,
                             err)) != 0)
            return rc;
        if (qq.ver != HZ_P_NONE) {
            /* Shown per the parts asked for; numbers as the version rows'. */
            hz_version_project(r, (enum hz_vproj)qq.vproj);
            qq.prop = qq.ver;
        }
        if ((rc = q_pct_base(t, &qq, r, err)) != 0)
            return rc;
        hz_query_order(r, &qq);
        return hz_xquery_cr_base(t, &qq, r, err);
    }
    return hz_err_set(err, HZ_EINVAL, "query: unknown kind");
}

/* Visitors whose last hit lies in the last five minutes (UTC minutes,
 * the current one included): the minute rows' in - out (store.h). */
int
hz_query_realtime(hz_rtxn *t, const char *site, int64_t now, uint64_t *visitors)
{
    uint32_t m = (uint32_t)(now / 60);

    return hz_store_active(t, site, m - 4, m, visitors);
}

/* ================================================================ paths */

struct q_trans {
    struct hz_paths *p;
    const char *page;
    size_t plen;
};

/* Store transition callback: keeps the moves into and out of the page. */
static void
q_trans_cb(const char *from_page, size_t flen, const char *to_page, size_t tlen, uint64_t n,
           void *arg)
{
    struct q_trans *qt = arg;
    size_t i;

    /* A transition's count is a number of moves; it is kept in visitors so
     * that the crowd-size rule applies to it unchanged. */
    if (tlen == qt->plen && memcmp(to_page, qt->page, tlen) == 0) {
        i = hz_qres_row(&qt->p->from, from_page, flen);
        qt->p->from.rows[i].c.visitors += n;
        qt->p->from.rows[i].c.visits += n;
    }
    if (flen == qt->plen && memcmp(from_page, qt->page, flen) == 0) {
        i = hz_qres_row(&qt->p->to, to_page, tlen);
        qt->p->to.rows[i].c.visitors += n;
        qt->p->to.rows[i].c.visits += n;
    }
}

/* Frees both lists; the page row holds no memory. */
void
hz_paths_free(struct hz_paths *p)
{
    if (p == NULL)
        return;
    hz_qres_free(&p->from);
    hz_qres_free(&p->to);
}

/*
 * The page's own row comes from the same page/entry read as a breakdown, so
 * "withheld" here means exactly "folded" there.
 */
int
hz_query_paths(hz_rtxn *t, const struct hz_query *q, const struct hz_qopts *o, struct hz_paths *out,
               struct hz_err *err)
{
    struct hz_query qq = *q;
    struct hz_qres pages;
    struct q_trans qt = {out, q->page, strlen(q->page)};
    long i;
    int rc;

    memset(out, 0, sizeof(*out));
    hz_qres_init(&out->from);
    hz_qres_init(&out->to);
    hz_qres_init(&pages);
    qq.nmetrics = 2;
    qq.metrics[0] = HZ_M_VISITORS;
    qq.metrics[1] = HZ_M_BOUNCE_RATE; /* joins the entry rows */
    rc = q_rows(t, &qq, HZ_P_PAGE, q->from, q->to, &pages, err);
    if (rc == 0 && (i = hz_qres_find(&pages, qt.page, qt.plen)) >= 0)
        out->page = pages.rows[i];
    hz_qres_free(&pages);
    if (rc != 0)
        return rc;
    if (out->page.c.visitors < o->min_visitors) {
        /* A rare page is not shown in breakdowns; its paths would show it. */
        memset(&out->page, 0, sizeof(out->page));
        out->withheld = 1;
        return 0;
    }
    if ((rc = hz_store_transitions(t, q->site, q->from, q->to, q_trans_cb, &qt)) != 0)
        return q_store_err(rc, "transitions", err);
    out->folded = hz_query_fold(&out->from, HZ_P_NONE, o->min_visitors);
    out->folded += hz_query_fold(&out->to, HZ_P_NONE, o->min_visitors);
    qq.prop = HZ_P_NONE;
    qq.order_metric = HZ_M_VISITORS;
    qq.order_desc = 1;
    qq.offset = 0;
    hz_query_order(&out->from, &qq);
    hz_query_order(&out->to, &qq);
    return 0;
}
