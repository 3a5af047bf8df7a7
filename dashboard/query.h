/* SPDX-License-Identifier: MIT */
/*
 * query.h - the dashboard's one query engine: a parsed question (struct
 * hz_query, filled by api.c from a v1 query string or a v2 JSON body) is
 * answered from the store's marginals (common/store.h) into rows
 * (struct hz_qres), which api.c renders as v1 JSON, v2 JSON or CSV.
 *
 * What haze can answer is what it keeps: per (site, day, dimension, value)
 * counters, per-hour site totals, engaged-time histograms per page,
 * funnel step counts and page-to-page transitions. One dimension at a time:
 * a cross-tab of two dimensions is not kept and is refused by the parsers.
 *
 * Minimum crowd size (DESIGN.md privacy rule 5): hz_query_fold folds every
 * row with fewer than min_visitors visitors into one "(other)" row; regions
 * first fall back to their country ("DE-BY" -> "DE") when the country row
 * then reaches the threshold. Filters are applied after folding, so a
 * filter can never isolate a folded value. Totals are not folded.
 *
 * The pure parts (names, period math, metric values, folding) touch no
 * database and are what the unit tests and fuzzers call.
 */
#ifndef HZ_DASHBOARD_QUERY_H
#define HZ_DASHBOARD_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/err.h"
#include "common/store.h"

/* ------------------------------------------------------------ names */

enum hz_metric {
    HZ_M_VISITORS = 0,
    HZ_M_VISITS,
    HZ_M_PAGEVIEWS,
    HZ_M_BOUNCE_RATE,      /* percent, integer */
    HZ_M_VISIT_DURATION,   /* seconds, integer, mean per visit */
    HZ_M_VIEWS_PER_VISIT,  /* 2 decimals */
    HZ_M_TIME_ON_PAGE,     /* Plausible's: engaged seconds per visitor of the page (pages) */
    HZ_M_TIME_ON_PAGE_P75, /* 75th percentile engaged seconds */
    HZ_M_EVENTS,
    HZ_M_EXIT_RATE,           /* percent, 1 decimal: exits / pageviews */
    HZ_M_TIME_ON_PAGE_MEAN,   /* mean engaged seconds per engagement, 1 decimal (pages) */
    HZ_M_TIME_ON_PAGE_MEDIAN, /* median engaged seconds (histogram): haze's own */
    HZ_M_PERCENTAGE,          /* share of the total visitors, 1 decimal (breakdowns) */
    HZ_M_CUSTOM_EVENTS,       /* haze's events before Plausible's meaning: custom events only */
    HZ_M_CONVERSION_RATE,     /* goal visitors / all visitors, percent, 1 decimal (issue 11) */
    HZ_M_LIFT,                /* pairs: share of the where-value's visitors / share everywhere */
    HZ_M_SCROLL_DEPTH,        /* mean scroll depth, percent (pages; from engagement events) */
    HZ_M_COUNT
};

enum hz_prop {
    HZ_P_NONE = 0, /* no property: site totals */
    HZ_P_PAGE,     /* event:page */
    HZ_P_ENTRY,    /* visit:entry_page */
    HZ_P_EXIT,     /* visit:exit_page (derived from page rows) */
    HZ_P_SOURCE,
    HZ_P_UTM_SOURCE,
    HZ_P_UTM_MEDIUM,
    HZ_P_UTM_CAMPAIGN,
    HZ_P_COUNTRY,
    HZ_P_REGION,
    HZ_P_BROWSER,
    HZ_P_OS,
    HZ_P_DEVICE,
    HZ_P_NAME,            /* event:name */
    HZ_P_GROUP,           /* event:group (page groups) */
    HZ_P_GOAL,            /* event:goal */
    HZ_P_UTM_CONTENT,     /* visit:utm_content */
    HZ_P_UTM_TERM,        /* visit:utm_term */
    HZ_P_REFERRER,        /* visit:referrer: the referring site's host, never its path */
    HZ_P_HOSTNAME,        /* event:hostname */
    HZ_P_BROWSER_VERSION, /* visit:browser_version: major only, family as parent (version.h) */
    HZ_P_OS_VERSION,      /* visit:os_version */
    HZ_P_PROP0,           /* event:props:NAME, NAME the site's i-th allowed prop: HZ_P_PROP0 + i */
    HZ_P_PROP_LAST = HZ_P_PROP0 + 7,
    HZ_P_COUNT
};

/* "visitors"...; NULL for an out-of-range value. */
const char *hz_query_metric_name(enum hz_metric m);
/* The metric named (s, len), or -1. */
int hz_query_metric_find(const char *s, size_t len);
/* "event:page" / "page" (the v1 breakdown key); NULL when out of range. */
const char *hz_query_prop_name(enum hz_prop p);
const char *hz_query_prop_short(enum hz_prop p);
/* The property named (s, len) ("event:page"; aliases such as "event:goal"
 * map to their property), or -1. HZ_P_NONE has no name; custom props
 * ("event:props:NAME") depend on the site and are found by api.c. */
int hz_query_prop_find(const char *s, size_t len);
/* The store dimension behind p (exit pages read page rows). */
enum hz_dim hz_query_prop_dim(enum hz_prop p);
/* 1 if metric m is defined for rows of p (HZ_P_NONE: site totals). */
int hz_query_metric_ok(enum hz_prop p, enum hz_metric m);
/* 1 if m is kept per hour (hour rows hold visitors, visits, pageviews). */
int hz_query_metric_hourly(enum hz_metric m);

/* ------------------------------------------------------------ the question */

enum hz_qkind {
    HZ_Q_AGGREGATE = 0,
    HZ_Q_TIMESERIES,
    HZ_Q_BREAKDOWN,
};

enum hz_interval {
    HZ_IV_DATE = 0,
    HZ_IV_HOUR,
    HZ_IV_MONTH,
    HZ_IV_WEEK, /* Monday to Sunday; the first bucket starts at the range's start */
};

enum hz_fop {
    HZ_FOP_IS = 0, /* exact match of one of the values */
    HZ_FOP_IS_NOT,
    HZ_FOP_CONTAINS, /* substring of one of the values */
    HZ_FOP_GLOB,     /* v1 "==" with '*' wildcards; v2 matches_wildcard */
    HZ_FOP_NOT_GLOB, /* v1 "!=" with '*' wildcards; v2 matches_wildcard_not */
    HZ_FOP_CONTAINS_NOT,
    HZ_FOP_MATCHES, /* regular expression (PCRE2, match-limited: dashboard/regex.h) */
    HZ_FOP_MATCHES_NOT,
    HZ_FOP_COUNT
};

#define HZ_FILTERS_MAX         8  /* leaves (simple filters) */
#define HZ_FNODES_MAX          24 /* nodes of the and/or/not tree, leaves included */
#define HZ_FNODE_KIDS          8  /* operands of one and/or */
#define HZ_FILTER_VALUES_MAX   8
#define HZ_FILTER_VALUE_MAX    256   /* a scrubbed page path fits (record.h HZ_PAGE_MAX) */
#define HZ_QUERY_LIMIT_MAX     1000  /* v1 limit */
#define HZ_QUERY_LIMIT_DEFAULT 100   /* v1 limit */
#define HZ_QUERY_V2_LIMIT_MAX  10000 /* v2 pagination.limit, also its default (Plausible's) */
#define HZ_ORDER_MAX           4     /* keys of order_by */
#define HZ_QUERY_HOURS_MAX     31    /* days an hourly series may span */
#define HZ_QUERY_FUTURE_MAX    366   /* days past today a range may end */

struct hz_filter {
    enum hz_prop prop;
    enum hz_fop op;
    int icase; /* v2 modifier case_sensitive: false (values kept as given) */
    int nvalues;
    char values[HZ_FILTER_VALUES_MAX][HZ_FILTER_VALUE_MAX];
};

/*
 * v2 logical filters as a small tree over the leaves (q->filters). Every
 * leaf still names one property, so a tree over one property is a row
 * predicate on that property's marginal; a tree over two properties needs a
 * declared pair (issue 11) and is refused by api_finish until then.
 */
enum hz_fnode_kind { HZ_FN_LEAF = 0, HZ_FN_AND, HZ_FN_OR, HZ_FN_NOT };

struct hz_fnode {
    enum hz_fnode_kind kind;
    int leaf; /* HZ_FN_LEAF: index into q->filters */
    int nkids;
    int kids[HZ_FNODE_KIDS]; /* node indices; NOT has one */
};

/* One order_by key: a metric, the breakdown's dimension, or time. */
enum hz_okind { HZ_OK_METRIC = 0, HZ_OK_DIMENSION, HZ_OK_TIME };

struct hz_okey {
    enum hz_okind kind;
    int metric; /* HZ_OK_METRIC */
    int desc;
};

struct hz_query {
    enum hz_qkind kind;
    char site[HZ_SITE_MAX]; /* the config's site name */
    char tz[64];            /* its time zone */
    char period[8];         /* "day", "7d", "30d", "month", "6mo", "12mo", "year",
                             * "custom", "all" */
    int32_t today;          /* local day number of "now" in tz */
    int32_t from, to;       /* inclusive local days; for "all" set by the engine */
    int all;                /* range "all": from the first day with data */
    int compare;            /* previous period of the same length */
    int nmetrics;
    enum hz_metric metrics[HZ_M_COUNT];
    enum hz_prop prop; /* breakdown property, HZ_P_NONE otherwise */
    enum hz_interval interval;
    int nfilters;
    struct hz_filter filters[HZ_FILTERS_MAX];
    int nfnodes; /* 0: the filters are and-ed (v1) */
    int froot;   /* root node when nfnodes > 0 */
    struct hz_fnode fnodes[HZ_FNODES_MAX];
    int order_metric; /* metric to sort rows by, -1: by the value */
    int order_desc;
    int norder; /* v2 order_by keys, applied in order; 0: order_metric above */
    struct hz_okey order[HZ_ORDER_MAX];
    uint64_t limit, offset;
    int csv;         /* breakdown as CSV */
    int total_rows;  /* v2 include.total_rows */
    int time_labels; /* v2 include.time_labels */
    int imports;     /* v2 include.imports (echoed; haze imports nothing) */
    int has_include; /* v2 include given (echoed) */
    int v2;          /* parsed from a v2 body (names date_range in errors) */
    int nprops;      /* the site's allowed props: "event:props:NAME" is HZ_P_PROP0 + i */
    char prop_names[HZ_SITE_PROPS_MAX][HZ_SITE_PROP_MAX + 12];
    /* funnels and paths */
    int funnel; /* index into the site's funnels, -1: all */
    char page[HZ_FILTER_VALUE_MAX];
    /* Questions across two properties (issue 11, dashboard/crosstab.h):
     * answered from the declared pair (xa, xb) when xtab is set. */
    enum hz_prop prop2; /* v2: a second dimension, HZ_P_NONE otherwise */
    int xtab;
    enum hz_dim xa, xb;
    int heat; /* v2 time:weekday (1) and/or time:hour_of_day (2): the heatmap */
    /* A version property with or without its family (dashboard/version.h):
     * the version property whose rows answer, and how they are shown. */
    enum hz_prop ver; /* HZ_P_NONE (0) otherwise */
    int vproj;        /* enum hz_vproj */
};

/* Engine settings from the config. */
struct hz_qopts {
    uint64_t min_visitors;
    long retention_days;
};

/* ------------------------------------------------------------ periods */

/*
 * Resolves a Plausible period relative to today (a local day number):
 *   day    the reference day            7d, 28d, 30d, 91d  the N days ending on it
 *   month  its calendar month           6mo / 12mo its month and the 5 / 11 before
 *   year   its calendar year            custom     date = "YYYY-MM-DD,YYYY-MM-DD"
 * date (may be NULL) sets the reference day for all but custom, where it
 * is required. "all" is not resolved here (it needs the data). 0, or
 * HZ_EINVAL with a message naming "period" or "date".
 */
int hz_query_period(const char *period, const char *date, int32_t today, int32_t *from, int32_t *to,
                    struct hz_err *err);

/* Checks [from, to]: from <= to, from inside the retention window (the
 * retention_days days ending today), to at most HZ_QUERY_FUTURE_MAX days
 * after today. param names the parameter in the message. 0 or HZ_EINVAL. */
int hz_query_check_range(int32_t from, int32_t to, int32_t today, long retention_days,
                         const char *param, struct hz_err *err);

/* The first day kept by retention (today - retention_days + 1). */
int32_t hz_query_window_start(int32_t today, long retention_days);

/* ------------------------------------------------------------ answers */

#define HZ_OTHER_VALUE "(other)"

struct hz_qrow {
    uint32_t voff, vlen;            /* value: the result's pool + voff */
    int32_t period;                 /* timeseries: first day, or hour number */
    int other;                      /* 1 for the "(other)" row */
    int absorbed;                   /* a country row that small regions folded into */
    int hidden;                     /* folded into another row */
    int matched;                    /* passes the filters */
    int32_t dest;                   /* index of the row it was folded into, or itself */
    struct hz_counts c;             /* the property's counters (site totals: events summed) */
    struct hz_counts entry;         /* event:page: the same page's entry row */
    uint64_t hist[HZ_HIST_BUCKETS]; /* engaged time (pages; site totals) */
    uint64_t cr_base;               /* conversion_rate: visitors it is a share of */
    int withheld;                   /* "(other)" of a single cell: no numbers */
    double lift;                    /* pairs: lift, < 0 when it has none */
    uint64_t sd_sum, sd_n;          /* scroll depth samples (pages) */
};

struct hz_qres {
    struct hz_qrow *rows; /* malloc'd */
    size_t n, cap;
    char *pool; /* values, malloc'd */
    size_t plen, pcap;
    void *index;   /* value -> row hash index (engine private) */
    size_t *order; /* visible rows in output order, malloc'd */
    size_t norder;
    struct hz_qrow total; /* aggregate answer */
    struct hz_qrow prev;  /* previous period, when has_prev */
    int has_prev;
    uint64_t folded;     /* rows folded by the crowd-size rule */
    uint64_t total_rows; /* rows matching, before pagination */
    uint64_t pct_base;   /* visitors that metric percentage divides by */
    size_t first, count; /* order[first .. first+count) is the requested page (sorted up to it) */
    int32_t from, to;    /* the range answered */
    int32_t xsince;      /* pair answers: first day of the range with cells, -1: none */
};

void hz_qres_init(struct hz_qres *r);
void hz_qres_free(struct hz_qres *r); /* NULL-safe; r may be initialised again */

/* Adds row s's numbers (counters, entry counters, histograms, scroll depth) to d. */
void hz_qrow_add(struct hz_qrow *d, const struct hz_qrow *s);

/* Appends a row with value (v, vlen) and zero counters, or returns the
 * existing one with that value. Returns its index. */
size_t hz_qres_row(struct hz_qres *r, const char *v, size_t vlen);
/* Appends a row with value (v, vlen) and zero counters, for a caller that
 * knows no row has that value yet: no hash now, the row is indexed by the
 * next hz_qres_row or hz_qres_find. Returns its index. */
size_t hz_qres_append(struct hz_qres *r, const char *v, size_t vlen);
/* Room for nrows rows in all and nbytes of values (each value takes its
 * length + 1), so that adding them moves nothing. */
void hz_qres_reserve(struct hz_qres *r, size_t nrows, size_t nbytes);
/* The value of row i (pointer into the pool, valid until r changes). */
const char *hz_qres_value(const struct hz_qres *r, size_t i, size_t *len);
/* Index of the row with value (v, vlen), or -1. */
long hz_qres_find(const struct hz_qres *r, const char *v, size_t vlen);

/* A metric's value for one row: null (no data, e.g. no time on page yet)
 * or v with `decimals` digits to print. */
struct hz_mval {
    int null;
    int decimals;
    double v;
};

void hz_query_value(enum hz_prop p, enum hz_metric m, const struct hz_qrow *row,
                    struct hz_mval *out);
/* The same within an answer: percentage divides by r->pct_base. */
void hz_query_row_value(const struct hz_qres *r, enum hz_prop p, enum hz_metric m,
                        const struct hz_qrow *row, struct hz_mval *out);
/* The property whose rows a question's numbers come from: the breakdown's,
 * else its filters', else HZ_P_NONE (site totals). */
enum hz_prop hz_query_value_prop(const struct hz_query *q);
/* Visitors used for the crowd-size rule (exit pages: min(visitors, exits)). */
uint64_t hz_query_visitors(enum hz_prop p, const struct hz_qrow *row);
/* Change between two values, as Plausible: percent (integer) for counts and
 * durations, percentage points for rates; 0/0 is 0, x/0 is 100. */
double hz_query_change(enum hz_metric m, const struct hz_mval *cur, const struct hz_mval *prev);

/*
 * The crowd-size rule over r's rows (pure). Rows with fewer than
 * min_visitors visitors (hz_query_visitors) and any stored "(other)" row
 * are folded into one "(other)" row appended at the end; for HZ_P_REGION a
 * small region first moves to its country's row ("DE-BY" -> "DE", created
 * when absent) when that row's total then reaches min_visitors; for the
 * version properties a small version moves the same way to its family's
 * "(other)" row ("Chrome\x1f(other)", flagged other; version.h). Folded rows
 * stay in the array with hidden = 1 and dest = the row they went into.
 * Returns the number of rows folded (those that disappeared).
 */
uint64_t hz_query_fold(struct hz_qres *r, enum hz_prop p, uint64_t min_visitors);

/* 1 if value (v, vlen) passes filter f (a regular expression is compiled
 * for the call; the engine compiles each once per question). */
int hz_query_filter_match(const struct hz_filter *f, const char *v, size_t vlen);
/* 1 if value (v, vlen) passes every filter of q (the tree when there is one). */
int hz_query_filters_match(const struct hz_query *q, const char *v, size_t vlen);

/* Sorts the visible, matching rows into r->order and applies q->limit (0:
 * no limit) and q->offset. Keys: q->order (v2 order_by, in order), else
 * q->order_metric; ties by visitors (descending), then by value. "(other)"
 * is ordered like any row (by its own numbers; by value it sorts as
 * "(other)"). Only order[0 .. first+count) is in order: the rows past the
 * requested page follow unsorted (total_rows counts them). */
void hz_query_order(struct hz_qres *r, const struct hz_query *q);

/* Candidate row i of an ordering: the row (or NULL when it is not shown)
 * and its value; a caller without qrows may fill *tmp and return it. */
typedef const struct hz_qrow *(*hz_qrow_at)(void *arg, size_t i, struct hz_qrow *tmp,
                                            const char **v, size_t *vlen);
/* hz_query_order over n candidates that row_at gives: their indices in
 * order into idx (room for n), the number shown returned; r->first,
 * r->count and r->total_rows set as hz_query_order does (r's pct_base is
 * read). */
size_t hz_query_order_by(struct hz_qres *r, const struct hz_query *q, size_t n, hz_qrow_at row_at,
                         void *arg, size_t *idx);

/*
 * Answers q from the snapshot t: aggregate (r->total, r->prev), timeseries
 * (r->rows, one per bucket, period set) or breakdown (r->rows, ordered and
 * paged in r->order). 0, or HZ_ESTORE with err->msg (a 500).
 */
int hz_query_run(hz_rtxn *t, const struct hz_query *q, const struct hz_qopts *o, struct hz_qres *r,
                 struct hz_err *err);

/* Visitors active in the five minutes up to unix time now (the realtime figure). */
int hz_query_realtime(hz_rtxn *t, const char *site, int64_t now, uint64_t *visitors);

/* The raw rows of one dimension (no folding): filtered traffic. */
int hz_query_collect(hz_rtxn *t, const char *site, enum hz_dim dim, int32_t from, int32_t to,
                     struct hz_qres *r);

/* ------------------------------------------------------------ paths */

struct hz_paths {
    struct hz_qres from; /* pages visitors came from: c.visits = transitions */
    struct hz_qres to;   /* pages visitors went to next */
    struct hz_qrow page; /* the page's own row (page + entry counters) */
    int withheld;        /* the page has fewer than min_visitors visitors */
    uint64_t folded;     /* transitions folded into "(other)" */
};

void hz_paths_free(struct hz_paths *p); /* NULL-safe */

/* Where visitors of q->page came from and went next over [q->from, q->to]:
 * transitions with fewer than min_visitors moves fold into "(other)"; a page
 * under min_visitors visitors is withheld entirely. */
int hz_query_paths(hz_rtxn *t, const struct hz_query *q, const struct hz_qopts *o,
                   struct hz_paths *out, struct hz_err *err);

#endif
