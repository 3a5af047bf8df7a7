/* SPDX-License-Identifier: MIT */
/*
 * api.c - Plausible-shaped v1 and v2 requests in, JSON and CSV out (see
 * api.h). Parsing is strict about what it knows: every parameter is
 * percent-decoded with hz_pct_decode, must be valid UTF-8 text and may
 * appear once; a bad value is a 400 naming the parameter. Unknown v1
 * parameters are ignored, as Plausible does (clients send one parameter
 * set to every endpoint, and cache busters).
 */
#include "dashboard/api.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/str.h"
#include "common/tz.h"
#include "dashboard/crosstab.h"
#include "dashboard/regex.h"
#include "dashboard/version.h"

/* ================================================================ shared checks */

#define API_PROPS_PREFIX "event:props:"

/* Local day number of now in tz (see tz.h; the zone switch is cached). */
int32_t
hz_api_today(const char *tz, int64_t now)
{
    struct hz_tz z;

    hz_tz_init(&z, tz);
    return hz_tz_day(&z, now);
}

/* Fills the site part of q from its id. */
static int
api_site(const struct hz_config *cfg, const char *id, size_t len, int64_t now, struct hz_query *q,
         struct hz_err *err)
{
    const struct hz_site *s = hz_cfg_site(cfg, id, len);

    /* Plausible answers an unknown site like a bad key (401), so that
     * clients' "bad key or site" handling works unchanged. */
    if (s == NULL)
        return hz_err_set(err, HZ_ENOTFOUND, "%s", HZ_API_BAD_SITE);
    (void)hz_strlcpy(q->site, s->name, sizeof(q->site));
    (void)hz_strlcpy(q->tz, s->timezone, sizeof(q->tz));
    q->nprops =
        s->nprops < HZ_P_PROP_LAST - HZ_P_PROP0 + 1 ? s->nprops : HZ_P_PROP_LAST - HZ_P_PROP0 + 1;
    for (int i = 0; i < q->nprops; i++)
        (void)snprintf(q->prop_names[i], sizeof(q->prop_names[i]), "%s%s", API_PROPS_PREFIX,
                       s->props[i]);
    q->today = hz_api_today(s->timezone, now);
    return 0;
}

/*
 * Defaults before any parameter is read: order not chosen yet (-2, settled
 * by api_finish), the default limit, every funnel.
 */
static void
api_query_init(struct hz_query *q)
{
    memset(q, 0, sizeof(*q));
    q->order_metric = -2; /* not chosen yet */
    q->order_desc = 1;
    q->limit = HZ_QUERY_LIMIT_DEFAULT;
    q->funnel = -1;
}

/* 1 if q asks metric m. */
static int
api_has_metric(const struct hz_query *q, enum hz_metric m)
{
    for (int i = 0; i < q->nmetrics; i++)
        if (q->metrics[i] == m)
            return 1;
    return 0;
}

/* A property's name ("event:props:plan" for the site's custom props). */
static const char *
api_pname(const struct hz_query *q, enum hz_prop p)
{
    if (p >= HZ_P_PROP0 && p <= HZ_P_PROP_LAST)
        return q->prop_names[p - HZ_P_PROP0];
    return hz_query_prop_name(p);
}

/* Its v1 key ("page"; a custom prop's own name, as Plausible's v1). */
static const char *
api_pshort(const struct hz_query *q, enum hz_prop p)
{
    if (p >= HZ_P_PROP0 && p <= HZ_P_PROP_LAST)
        return q->prop_names[p - HZ_P_PROP0] + strlen(API_PROPS_PREFIX);
    return hz_query_prop_short(p);
}

/* The property named (s, len), the site's custom props included, or -1. */
static int
api_prop(const struct hz_query *q, const char *s, size_t len)
{
    size_t pl = strlen(API_PROPS_PREFIX);

    if (len > pl && memcmp(s, API_PROPS_PREFIX, pl) == 0) {
        for (int i = 0; i < q->nprops; i++)
            if (strlen(q->prop_names[i]) == len && memcmp(q->prop_names[i], s, len) == 0)
                return HZ_P_PROP0 + i;
        return -1;
    }
    return hz_query_prop_find(s, len);
}

/* A name for messages: the property, or "site totals". */
static const char *
api_prop_label(const struct hz_query *q, enum hz_prop p)
{
    return p == HZ_P_NONE ? "site totals" : api_pname(q, p);
}

/*
 * The checks both shapes share, once every field is read: metrics against
 * the property their numbers come from, hourly limits, the range against
 * retention, the default order.
 */
static int
api_finish(struct hz_query *q, const struct hz_config *cfg, struct hz_err *err)
{
    enum hz_prop vp;

    if (q->nmetrics == 0) {
        q->metrics[0] = HZ_M_VISITORS;
        q->nmetrics = 1;
    }
    /* Two properties: a declared pair answers, or a 400 names its line. */
    const struct hz_site *site = hz_cfg_site(cfg, q->site, strlen(q->site));
    /* A version property with its family: one dimension's rows (version.h). */
    (void)hz_version_plan(q);
    if (site != NULL && q->ver == HZ_P_NONE && hz_xquery_plan(q, site, err) != 0)
        return HZ_EINVAL;
    for (int i = 0; i < q->nfilters && !q->xtab && q->ver == HZ_P_NONE; i++) {
        if (q->filters[i].prop != q->filters[0].prop)
            return hz_err_set(err, HZ_EINVAL,
                              "filters: %s and %s together are a cross-tab; haze keeps "
                              "marginals only (one dimension at a time)",
                              api_pname(q, q->filters[0].prop), api_pname(q, q->filters[i].prop));
        if (q->kind == HZ_Q_BREAKDOWN && q->filters[i].prop != q->prop)
            return hz_err_set(err, HZ_EINVAL,
                              "filters: a filter on %s with a breakdown by %s is a cross-tab; "
                              "haze keeps marginals only (one dimension at a time)",
                              api_pname(q, q->filters[i].prop), api_pname(q, q->prop));
    }
    vp = hz_query_value_prop(q);
    for (int i = 0; i < q->nmetrics && !q->xtab && !q->heat; i++) {
        enum hz_metric m = q->metrics[i];
        if (m == HZ_M_CONVERSION_RATE && (site == NULL || site->ngoals == 0))
            return hz_err_set(err, HZ_EINVAL,
                              "metrics: conversion_rate needs goals, and this site has none");
        if (m == HZ_M_PERCENTAGE && q->kind != HZ_Q_BREAKDOWN)
            return hz_err_set(err, HZ_EINVAL,
                              "metrics: percentage is only available in a breakdown");
        if (m == HZ_M_TIME_ON_PAGE && vp != HZ_P_PAGE)
            return hz_err_set(err, HZ_EINVAL,
                              "metrics: time_on_page needs event:page as the dimension or "
                              "filter (time_on_page_median is the site-wide median)");
        if (!hz_query_metric_ok(vp, m))
            return hz_err_set(err, HZ_EINVAL, "metrics: %s is not available for %s",
                              hz_query_metric_name(m), api_prop_label(q, vp));
        if (q->kind == HZ_Q_TIMESERIES && q->interval == HZ_IV_HOUR && !hz_query_metric_hourly(m))
            return hz_err_set(err, HZ_EINVAL,
                              "metrics: %s is not kept per hour (visitors, visits and "
                              "pageviews are)",
                              hz_query_metric_name(m));
    }
    if (!q->all && hz_query_check_range(q->from, q->to, q->today, cfg->retention_days,
                                        q->v2                              ? "date_range"
                                        : strcmp(q->period, "custom") == 0 ? "date"
                                                                           : "period",
                                        err) != 0)
        return HZ_EINVAL;
    if (q->kind == HZ_Q_TIMESERIES && q->interval == HZ_IV_HOUR) {
        if (q->nfilters > 0)
            return hz_err_set(err, HZ_EINVAL,
                              "interval: hour rows are site totals; filters need interval=date");
        if (q->all || q->to - q->from + 1 > HZ_QUERY_HOURS_MAX)
            return hz_err_set(err, HZ_EINVAL, "interval: hour is limited to %d days",
                              HZ_QUERY_HOURS_MAX);
    }
    if (q->order_metric == -2) {
        /* Plausible sorts by visitors; without visitors, by the first metric. */
        q->order_metric = (int)q->metrics[0];
        for (int i = 0; i < q->nmetrics; i++)
            if (q->metrics[i] == HZ_M_VISITORS)
                q->order_metric = HZ_M_VISITORS;
        q->order_desc = 1;
    }
    return 0;
}

/* Adds metric m to q once. */
static int
api_add_metric(struct hz_query *q, int m, struct hz_err *err)
{
    if (m < 0)
        return hz_err_set(err, HZ_EINVAL, "metrics: unknown metric");
    for (int i = 0; i < q->nmetrics; i++)
        if ((int)q->metrics[i] == m)
            return hz_err_set(err, HZ_EINVAL, "metrics: %s is listed twice",
                              hz_query_metric_name((enum hz_metric)m));
    q->metrics[q->nmetrics++] = (enum hz_metric)m;
    return 0;
}

/* Adds value (v, len) to filter f. */
static int
api_filter_value(struct hz_filter *f, const char *v, size_t len, struct hz_err *err)
{
    if (f->nvalues >= HZ_FILTER_VALUES_MAX)
        return hz_err_set(err, HZ_EINVAL, "filters: at most %d values per filter",
                          HZ_FILTER_VALUES_MAX);
    if (len >= HZ_FILTER_VALUE_MAX)
        return hz_err_set(err, HZ_EINVAL, "filters: a value is longer than %d bytes",
                          HZ_FILTER_VALUE_MAX - 1);
    if (!hz_text_valid(v, len))
        return hz_err_set(err, HZ_EINVAL, "filters: a value is not valid text");
    memcpy(f->values[f->nvalues], v, len);
    f->values[f->nvalues][len] = '\0';
    f->nvalues++;
    return 0;
}

/*
 * Plausible's spellings of haze's families, so that a copied filter does
 * not silently match nothing: exact operators only (contains and patterns
 * see the value as stored).
 */
static void
api_filter_aliases(struct hz_filter *f)
{
    /* clang-format off */
    static const struct { enum hz_prop prop; const char *from, *to; } al[] = {
        { HZ_P_DEVICE, "Desktop", "desktop" }, { HZ_P_DEVICE, "Mobile", "mobile" },
        { HZ_P_DEVICE, "Tablet", "tablet" },   { HZ_P_OS, "Mac", "macOS" },
        { HZ_P_OS, "GNU/Linux", "Linux" },     { HZ_P_OS, "Chrome OS", "ChromeOS" },
    };
    /* clang-format on */

    if (f->op != HZ_FOP_IS && f->op != HZ_FOP_IS_NOT)
        return;
    for (int v = 0; v < f->nvalues; v++)
        for (size_t a = 0; a < sizeof(al) / sizeof(al[0]); a++)
            if (al[a].prop == f->prop && strcmp(f->values[v], al[a].from) == 0)
                (void)hz_strlcpy(f->values[v], al[a].to, sizeof(f->values[v]));
}

/* ================================================================ v1 */

enum {
    R_AGG = 1 << HZ_API_AGGREGATE,
    R_TS = 1 << HZ_API_TIMESERIES,
    R_BD = 1 << HZ_API_BREAKDOWN,
    R_RT = 1 << HZ_API_REALTIME,
    R_FUN = 1 << HZ_API_FUNNELS,
    R_PATH = 1 << HZ_API_PATHS,
    R_FILT = 1 << HZ_API_FILTERED,
    R_STATS = R_AGG | R_TS | R_BD,
    R_RANGE = R_STATS | R_FUN | R_PATH | R_FILT,
};

enum {
    P_SITE,
    P_PERIOD,
    P_DATE,
    P_METRICS,
    P_PROPERTY,
    P_FILTERS,
    P_INTERVAL,
    P_LIMIT,
    P_PAGE,
    P_COMPARE,
    P_FORMAT,
    P_IMPORTED,
    P_FUNNEL,
    P_COUNT
};

/* clang-format off */
static const struct {
    const char *name;
    unsigned routes;
} v1_params[P_COUNT] = {
    [P_SITE]     = { "site_id",       R_RANGE | R_RT },
    [P_PERIOD]   = { "period",        R_RANGE },
    [P_DATE]     = { "date",          R_RANGE },
    [P_METRICS]  = { "metrics",       R_STATS },
    [P_PROPERTY] = { "property",      R_BD },
    [P_FILTERS]  = { "filters",       R_STATS | R_FUN }, /* funnels: funnel_by */
    [P_INTERVAL] = { "interval",      R_TS },
    [P_LIMIT]    = { "limit",         R_BD | R_PATH },
    [P_PAGE]     = { "page",          R_BD | R_PATH }, /* paths: the page path */
    [P_COMPARE]  = { "compare",       R_AGG },
    [P_FORMAT]   = { "format",        R_BD },
    [P_IMPORTED] = { "with_imported", R_STATS },
    [P_FUNNEL]   = { "funnel",        R_FUN },
};
/* clang-format on */

struct v1_vals {
    char pool[HZ_API_QUERY_MAX + P_COUNT];
    size_t used;
    const char *val[P_COUNT]; /* NUL-terminated, into pool; NULL when absent */
    size_t len[P_COUNT];
};

/* 1 if (s, len) is a short lowercase identifier, safe to echo in a message. */
static int
api_echoable(const char *s, size_t len)
{
    if (len == 0 || len > 32)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_'))
            return 0;
    return 1;
}

/* Splits and decodes qs into vv. */
static int
v1_split(enum hz_api_route route, const char *qs, size_t len, struct v1_vals *vv,
         struct hz_err *err)
{
    size_t i = 0;

    memset(vv->val, 0, sizeof(vv->val));
    vv->used = 0;
    if (len > HZ_API_QUERY_MAX)
        return hz_err_set(err, HZ_EINVAL, "query: longer than %d bytes", HZ_API_QUERY_MAX);
    /* Pairs are split on the raw bytes, before decoding, so an encoded
     * "%26" or "%3D" inside a value stays part of that value. */
    while (i < len) {
        const char *pair = qs + i, *amp = memchr(pair, '&', len - i);
        size_t plen = amp ? (size_t)(amp - pair) : len - i;
        const char *eq = memchr(pair, '=', plen);
        size_t klen = eq ? (size_t)(eq - pair) : plen;
        char key[40];
        long kl, vl;
        int p;

        i += plen + 1;
        if (plen == 0)
            continue; /* "a=1&&b=2" */
        kl = hz_pct_decode(key, sizeof(key) - 1, pair, klen, 1);
        if (kl < 0)
            continue; /* longer than any known name: unknown, ignored */
        key[kl] = '\0';
        for (p = 0; p < P_COUNT; p++)
            if (strcmp(key, v1_params[p].name) == 0)
                break;
        /* Unknown here (or known for another route, as interval on
         * aggregate): ignored, as Plausible does. */
        if (p == P_COUNT || !(v1_params[p].routes & (1u << route)))
            continue;
        if (vv->val[p] != NULL)
            return hz_err_set(err, HZ_EINVAL, "%s: given more than once", key);
        /* Decoded values are never longer than encoded ones, and the whole
         * query is capped, so the pool always has room. */
        char *out = vv->pool + vv->used;
        size_t cap = sizeof(vv->pool) - vv->used - 1;
        vl = eq ? hz_pct_decode(out, cap, eq + 1, plen - klen - 1, 1) : 0;
        if (vl < 0)
            return hz_err_set(err, HZ_EINVAL, "%s: bad percent-encoding", key);
        if (!hz_text_valid(out, (size_t)vl))
            return hz_err_set(err, HZ_EINVAL, "%s: not valid UTF-8 text", key);
        out[vl] = '\0';
        vv->val[p] = out;
        vv->len[p] = (size_t)vl;
        vv->used += (size_t)vl + 1;
    }
    return 0;
}

/* v1 filters: "event:page==/a|/b;event:page!=/c" ('~' is contains). */
static int
v1_filters(const char *s, size_t len, struct hz_query *q, struct hz_err *err)
{
    size_t i = 0;

    while (i < len) {
        const char *f = s + i, *semi = memchr(f, ';', len - i);
        size_t flen = semi ? (size_t)(semi - f) : len - i;
        size_t k = 0;
        struct hz_filter *fl;
        int prop, glob = 0;

        i += flen + 1;
        if (flen == 0)
            continue;
        if (q->nfilters >= HZ_FILTERS_MAX)
            return hz_err_set(err, HZ_EINVAL, "filters: at most %d filters", HZ_FILTERS_MAX);
        /* The property name runs up to the operator. */
        while (k < flen && (islower((unsigned char)f[k]) || f[k] == ':' || f[k] == '_'))
            k++;
        /* A custom prop's name also holds digits, capitals, '-' and '.'. */
        if (k == strlen(API_PROPS_PREFIX) && memcmp(f, API_PROPS_PREFIX, k) == 0)
            while (k < flen &&
                   (isalnum((unsigned char)f[k]) || f[k] == '_' || f[k] == '-' || f[k] == '.'))
                k++;
        if ((prop = api_prop(q, f, k)) < 0)
            return hz_err_set(err, HZ_EINVAL, "filters: unknown property");
        fl = &q->filters[q->nfilters];
        memset(fl, 0, sizeof(*fl));
        fl->prop = (enum hz_prop)prop;
        if (flen - k >= 2 && memcmp(f + k, "==", 2) == 0) {
            fl->op = HZ_FOP_IS;
            k += 2;
        } else if (flen - k >= 2 && memcmp(f + k, "!=", 2) == 0) {
            fl->op = HZ_FOP_IS_NOT;
            k += 2;
        } else if (flen - k >= 1 && f[k] == '~') {
            fl->op = HZ_FOP_CONTAINS;
            k += 1;
        } else {
            return hz_err_set(err, HZ_EINVAL, "filters: expected ==, != or ~ after %s",
                              api_pname(q, fl->prop));
        }
        /* Values split on '|'; "\\|" is a literal pipe, "\\\\" a backslash. */
        while (k <= flen) {
            char val[HZ_FILTER_VALUE_MAX];
            size_t vlen = 0;
            for (; k < flen && f[k] != '|'; k++) {
                char c = f[k];
                if (c == '\\' && k + 1 < flen && (f[k + 1] == '|' || f[k + 1] == '\\'))
                    c = f[++k];
                if (vlen >= sizeof(val))
                    return hz_err_set(err, HZ_EINVAL, "filters: a value is longer than %d bytes",
                                      HZ_FILTER_VALUE_MAX - 1);
                val[vlen++] = c;
            }
            if (memchr(val, '*', vlen) != NULL)
                glob = 1;
            if (api_filter_value(fl, val, vlen, err) != 0)
                return HZ_EINVAL;
            k++;
        }
        /* Plausible's v1 wildcards: any '*' in a value turns the filter into
         * a glob, where '*' matches any run of characters, slashes included. */
        if (glob && fl->op != HZ_FOP_CONTAINS)
            fl->op = fl->op == HZ_FOP_IS ? HZ_FOP_GLOB : HZ_FOP_NOT_GLOB;
        api_filter_aliases(fl);
        q->nfilters++;
    }
    return 0;
}

/* v1 "metrics=a,b,c": each name must be known and listed once. */
static int
v1_metrics(const char *s, size_t len, struct hz_query *q, struct hz_err *err)
{
    size_t i = 0;

    while (i <= len) {
        const char *m = s + i, *comma = memchr(m, ',', len - i);
        size_t mlen = comma ? (size_t)(comma - m) : len - i;
        if (api_add_metric(q, hz_query_metric_find(m, mlen), err) != 0)
            return HZ_EINVAL;
        i += mlen + 1;
    }
    return 0;
}

/* Reads a decimal parameter in [min, max]. */
static int
v1_number(const char *v, const char *name, long long min, long long max, uint64_t *out,
          struct hz_err *err)
{
    const char *es = NULL;
    long long n = hz_strtonum(v, min, max, &es);

    if (es != NULL)
        return hz_err_set(err, HZ_EINVAL, "%s: expected an integer from %lld to %lld", name, min,
                          max);
    *out = (uint64_t)n;
    return 0;
}

/*
 * v1: split and decode the query string, then read the parameters in a
 * fixed order (site, period and date, metrics, property, filters, interval,
 * compare, format, limit and page, route extras) so that the first error
 * reported is the most basic one. api_finish then checks the combination.
 */
int
hz_api_parse_v1(enum hz_api_route route, const char *qs, size_t len, const struct hz_config *cfg,
                int64_t now, struct hz_query *q, struct hz_err *err)
{
    struct v1_vals *vv = calloc(1, sizeof(*vv));
    const char *const *v;
    uint64_t page = 1;
    int rc = HZ_EINVAL;

    if (vv == NULL)
        return hz_err_set(err, ENOMEM, "query: out of memory");
    api_query_init(q);
    v = vv->val;
    if (route == HZ_API_SITES || route == HZ_API_V2 || (unsigned)route > HZ_API_V2) {
        hz_err_set(err, HZ_EINVAL, "query: not a v1 stats route");
        goto done;
    }
    if (v1_split(route, qs, len, vv, err) != 0)
        goto done;
    if (v[P_SITE] == NULL) {
        hz_err_set(err, HZ_EINVAL, "site_id: required");
        goto done;
    }
    if ((rc = api_site(cfg, v[P_SITE], vv->len[P_SITE], now, q, err)) != 0)
        goto done;
    rc = HZ_EINVAL;
    if (route == HZ_API_REALTIME) {
        rc = 0; /* the site is all realtime takes */
        goto done;
    }
    switch (route) {
    case HZ_API_TIMESERIES:
        q->kind = HZ_Q_TIMESERIES;
        break;
    case HZ_API_BREAKDOWN:
        q->kind = HZ_Q_BREAKDOWN;
        break;
    default:
        q->kind = HZ_Q_AGGREGATE;
        break;
    }
    /* Period and range. A period name longer than any known one is refused
     * before it is copied. */
    if (v[P_PERIOD] != NULL && vv->len[P_PERIOD] >= sizeof(q->period)) {
        hz_err_set(err, HZ_EINVAL,
                   "period: expected day, 7d, 28d, 30d, 91d, month, 6mo, 12mo, year or custom");
        goto done;
    }
    (void)hz_strlcpy(q->period, v[P_PERIOD] ? v[P_PERIOD] : "30d", sizeof(q->period));
    if (hz_query_period(q->period, v[P_DATE], q->today, &q->from, &q->to, err) != 0)
        goto done;
    /* Metrics, property, filters. */
    if (v[P_METRICS] != NULL && v1_metrics(v[P_METRICS], vv->len[P_METRICS], q, err) != 0)
        goto done;
    if (route == HZ_API_BREAKDOWN) {
        int p;
        if (v[P_PROPERTY] == NULL) {
            hz_err_set(err, HZ_EINVAL, "property: required");
            goto done;
        }
        if ((p = api_prop(q, v[P_PROPERTY], vv->len[P_PROPERTY])) < 0) {
            hz_err_set(err, HZ_EINVAL, "property: unknown property");
            goto done;
        }
        q->prop = (enum hz_prop)p;
    }
    if (v[P_FILTERS] != NULL && v1_filters(v[P_FILTERS], vv->len[P_FILTERS], q, err) != 0)
        goto done;
    if (v[P_INTERVAL] != NULL) {
        if (strcmp(v[P_INTERVAL], "date") == 0 || strcmp(v[P_INTERVAL], "day") == 0) {
            q->interval = HZ_IV_DATE;
        } else if (strcmp(v[P_INTERVAL], "hour") == 0) {
            q->interval = HZ_IV_HOUR;
        } else if (strcmp(v[P_INTERVAL], "month") == 0) {
            q->interval = HZ_IV_MONTH;
        } else if (strcmp(v[P_INTERVAL], "week") == 0) {
            q->interval = HZ_IV_WEEK;
        } else {
            hz_err_set(err, HZ_EINVAL, "interval: expected date, week, hour or month");
            goto done;
        }
    } else {
        /* Plausible's default: hours for one day, months for 6mo, 12mo and
         * year, days otherwise; but hour rows are site totals, so a filtered
         * day stays a single daily bucket. */
        q->interval = q->from == q->to ? HZ_IV_HOUR : HZ_IV_DATE;
        if (strcmp(q->period, "6mo") == 0 || strcmp(q->period, "12mo") == 0 ||
            strcmp(q->period, "year") == 0)
            q->interval = HZ_IV_MONTH;
        if (q->interval == HZ_IV_HOUR && q->nfilters > 0)
            q->interval = HZ_IV_DATE;
    }
    if (v[P_COMPARE] != NULL) {
        if (strcmp(v[P_COMPARE], "previous_period") != 0) {
            hz_err_set(err, HZ_EINVAL, "compare: expected previous_period");
            goto done;
        }
        q->compare = 1;
    }
    if (v[P_FORMAT] != NULL) {
        if (strcmp(v[P_FORMAT], "csv") == 0) {
            q->csv = 1;
        } else if (strcmp(v[P_FORMAT], "json") != 0) {
            hz_err_set(err, HZ_EINVAL, "format: expected json or csv");
            goto done;
        }
    }
    if (v[P_IMPORTED] != NULL && strcmp(v[P_IMPORTED], "true") != 0 &&
        strcmp(v[P_IMPORTED], "false") != 0) {
        hz_err_set(err, HZ_EINVAL, "with_imported: expected true or false");
        goto done;
    }
    if (v[P_LIMIT] != NULL &&
        v1_number(v[P_LIMIT], "limit", 1, HZ_QUERY_LIMIT_MAX, &q->limit, err) != 0)
        goto done;
    if (route == HZ_API_PATHS) {
        /* On paths, "page" is the page path, not a page number. */
        if (v[P_LIMIT] == NULL)
            q->limit = 10;
        if (v[P_PAGE] == NULL) {
            hz_err_set(err, HZ_EINVAL, "page: required");
            goto done;
        }
        if (v[P_PAGE][0] != '/' || vv->len[P_PAGE] >= sizeof(q->page)) {
            hz_err_set(err, HZ_EINVAL, "page: expected a path starting with / (under %zu bytes)",
                       sizeof(q->page));
            goto done;
        }
        memcpy(q->page, v[P_PAGE], vv->len[P_PAGE] + 1);
    } else if (v[P_PAGE] != NULL) {
        /* 1-based pages of `limit` rows; both are bounded, so no overflow. */
        if (v1_number(v[P_PAGE], "page", 1, 1000000, &page, err) != 0)
            goto done;
        q->offset = (page - 1) * q->limit;
    }
    if (v[P_FUNNEL] != NULL) {
        const struct hz_site *s = hz_cfg_site(cfg, q->site, strlen(q->site));
        for (int f = 0; s != NULL && f < s->nfunnels; f++)
            if (strcmp(s->funnels[f].name, v[P_FUNNEL]) == 0)
                q->funnel = f;
        if (q->funnel < 0) {
            hz_err_set(err, HZ_EINVAL, "funnel: unknown funnel");
            goto done;
        }
    }
    rc = api_finish(q, cfg, err);
    if (rc == 0 && route == HZ_API_FUNNELS) { /* funnel_by segments */
        const struct hz_site *s = hz_cfg_site(cfg, q->site, strlen(q->site));
        if (s != NULL && hz_xquery_funnel_check(q, s, err) != 0)
            rc = HZ_EINVAL;
    }
done:
    free(vv);
    return rc;
}

/* ================================================================ v2 */

static const char *const v2_ops[HZ_FOP_COUNT] = {
    [HZ_FOP_IS] = "is",
    [HZ_FOP_IS_NOT] = "is_not",
    [HZ_FOP_CONTAINS] = "contains",
    [HZ_FOP_CONTAINS_NOT] = "contains_not",
    [HZ_FOP_GLOB] = "matches_wildcard",
    [HZ_FOP_NOT_GLOB] = "matches_wildcard_not",
    [HZ_FOP_MATCHES] = "matches",
    [HZ_FOP_MATCHES_NOT] = "matches_not",
};

/* Two decimal digits at s in [0, max]. */
static int
api_2digits(const char *s, int max)
{
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0') <= max ? 0 : -1;
}

/*
 * A date_range bound: "YYYY-MM-DD", or an ISO 8601 datetime
 * "YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]". haze keeps days, so a
 * datetime names the local day of its date part (its time and offset are
 * checked, then dropped). 0 or -1.
 */
static int
api_iso_day(const char *s, size_t len, int32_t *day)
{
    char d[11];
    size_t i = 19;

    if (len < 10)
        return -1;
    memcpy(d, s, 10);
    d[10] = '\0';
    if (hz_date_parse(d, day) != 0)
        return -1;
    if (len == 10)
        return 0;
    if (len < 19 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || api_2digits(s + 11, 23) ||
        api_2digits(s + 14, 59) || api_2digits(s + 17, 59))
        return -1;
    if (i < len && s[i] == '.') {
        size_t j = ++i;
        while (i < len && isdigit((unsigned char)s[i]))
            i++;
        if (i == j || i - j > 9)
            return -1;
    }
    if (i == len)
        return 0;
    if (s[i] == 'Z' && i + 1 == len)
        return 0;
    if ((s[i] == '+' || s[i] == '-') && len - i == 6 && s[i + 3] == ':' &&
        api_2digits(s + i + 1, 23) == 0 && api_2digits(s + i + 4, 59) == 0)
        return 0;
    return -1;
}

#define V2_DR_EXPECTED                                                                             \
    "date_range: expected day, 24h, realtime, 7d, 28d, 30d, 91d, month, 6mo, 12mo, year, all "     \
    "or [from, to] (ISO dates or datetimes)"

/*
 * v2 date_range: a period name (relative to date or today), "all" (resolved
 * by the engine against the first day with data), "24h" (yesterday and
 * today: haze keeps days), "realtime" (today), or [from, to] as ISO dates or
 * datetimes. The messages name date_range, not period/date, because that is
 * the v2 field.
 */
static int
v2_date_range(json_t *dr, struct hz_query *q, const char *date, struct hz_err *err)
{
    if (json_is_string(dr)) {
        const char *s = json_string_value(dr);
        if (strcmp(s, "all") == 0) {
            q->all = 1;
            (void)hz_strlcpy(q->period, "all", sizeof(q->period));
            q->from = q->to = q->today;
            return 0;
        }
        if (strcmp(s, "24h") == 0 || strcmp(s, "realtime") == 0) {
            (void)hz_strlcpy(q->period, s[0] == '2' ? "24h" : "day", sizeof(q->period));
            q->to = q->today;
            q->from = s[0] == '2' ? q->today - 1 : q->today;
            return 0;
        }
        if (strlen(s) >= sizeof(q->period) || strcmp(s, "custom") == 0)
            return hz_err_set(err, HZ_EINVAL, V2_DR_EXPECTED);
        (void)hz_strlcpy(q->period, s, sizeof(q->period));
        if (hz_query_period(s, date, q->today, &q->from, &q->to, err) != 0) {
            if (strncmp(err ? err->msg : "", "date:", 5) == 0)
                return HZ_EINVAL;
            return hz_err_set(err, HZ_EINVAL, V2_DR_EXPECTED);
        }
        return 0;
    }
    if (json_is_array(dr) && json_array_size(dr) == 2 && json_is_string(json_array_get(dr, 0)) &&
        json_is_string(json_array_get(dr, 1))) {
        json_t *a = json_array_get(dr, 0), *b = json_array_get(dr, 1);
        if (api_iso_day(json_string_value(a), json_string_length(a), &q->from) != 0 ||
            api_iso_day(json_string_value(b), json_string_length(b), &q->to) != 0)
            return hz_err_set(err, HZ_EINVAL,
                              "date_range: expected [\"YYYY-MM-DD\", \"YYYY-MM-DD\"] or ISO "
                              "datetimes");
        if (q->from > q->to)
            return hz_err_set(err, HZ_EINVAL, "date_range: the start is after the end");
        (void)hz_strlcpy(q->period, "custom", sizeof(q->period));
        return 0;
    }
    return hz_err_set(err, HZ_EINVAL,
                      "date_range: expected a period name or [\"YYYY-MM-DD\", \"YYYY-MM-DD\"]");
}

/* Plausible's bucket for "time": hours for one day, months when the range
 * spans a month or more, days otherwise. */
static enum hz_interval
v2_auto_interval(const struct hz_query *q)
{
    int y1, m1, d1, y2, m2, d2;

    if (q->all)
        return HZ_IV_DATE;
    if (q->from == q->to)
        return HZ_IV_HOUR;
    hz_civil_from_days(q->from, &y1, &m1, &d1);
    hz_civil_from_days(q->to, &y2, &m2, &d2);
    if ((y2 * 12 + m2) - (y1 * 12 + m1) - (d2 < d1 ? 1 : 0) > 0)
        return HZ_IV_MONTH;
    return HZ_IV_DATE;
}

/*
 * v2 dimensions: none (aggregate), one time dimension (timeseries) or one
 * property (breakdown). Two are a cross-tab and refused. *auto_iv is set for
 * "time", whose interval the range decides.
 */
static int
v2_dimensions(json_t *dims, struct hz_query *q, int *auto_iv, struct hz_err *err)
{
    static const struct {
        const char *name;
        enum hz_interval iv;
    } times[] = {{"time:hour", HZ_IV_HOUR},
                 {"time:day", HZ_IV_DATE},
                 {"time:week", HZ_IV_WEEK},
                 {"time:month", HZ_IV_MONTH}};
    const char *d;
    int p;

    if (!json_is_array(dims))
        return hz_err_set(err, HZ_EINVAL, "dimensions: expected an array of names");
    if (json_array_size(dims) == 0) {
        q->kind = HZ_Q_AGGREGATE;
        return 0;
    }
    if (json_array_size(dims) == 2) {
        /* Two properties: answered from a declared pair (dashboard/crosstab.c). */
        json_t *d0 = json_array_get(dims, 0), *d1 = json_array_get(dims, 1);
        int p0, p1;
        if (!json_is_string(d0) || !json_is_string(d1))
            return hz_err_set(err, HZ_EINVAL, "dimensions: expected an array of names");
        if (hz_xquery_heat_dim(json_string_value(d0)) == 1 &&
            hz_xquery_heat_dim(json_string_value(d1)) == 2) {
            q->kind = HZ_Q_BREAKDOWN;
            q->heat = 3; /* the weekday x hour heatmap (dashboard/crosstab.c) */
            return 0;
        }
        p0 = hz_query_prop_find(json_string_value(d0), strlen(json_string_value(d0)));
        p1 = hz_query_prop_find(json_string_value(d1), strlen(json_string_value(d1)));
        if (p0 < 0 || p1 < 0)
            return hz_err_set(err, HZ_EINVAL, "dimensions: two dimensions must both be properties");
        if (p0 == p1)
            return hz_err_set(err, HZ_EINVAL, "dimensions: the same dimension twice");
        q->kind = HZ_Q_BREAKDOWN;
        q->prop = (enum hz_prop)p0;
        q->prop2 = (enum hz_prop)p1;
        return 0;
    }
    if (json_array_size(dims) > 2)
        return hz_err_set(err, HZ_EINVAL, "dimensions: at most two dimensions (a declared pair)");
    if (!json_is_string(json_array_get(dims, 0)))
        return hz_err_set(err, HZ_EINVAL, "dimensions: expected an array of names");
    d = json_string_value(json_array_get(dims, 0));
    if (strcmp(d, "time") == 0) {
        q->kind = HZ_Q_TIMESERIES;
        *auto_iv = 1;
        q->interval = v2_auto_interval(q);
        return 0;
    }
    if (hz_xquery_heat_dim(d) != 0) {
        q->kind = HZ_Q_BREAKDOWN;
        q->heat = hz_xquery_heat_dim(d);
        return 0;
    }
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
        if (strcmp(d, times[i].name) == 0) {
            q->kind = HZ_Q_TIMESERIES;
            q->interval = times[i].iv;
            return 0;
        }
    if ((p = api_prop(q, d, strlen(d))) < 0)
        return hz_err_set(err, HZ_EINVAL, "dimensions: unknown dimension");
    q->kind = HZ_Q_BREAKDOWN;
    q->prop = (enum hz_prop)p;
    return 0;
}

#define V2_FILTER_SHAPE "filters: expected [operator, dimension, [values]] or and/or/not"

/* A simple filter [op, dim, [values]] or [op, dim, [values], {modifiers}]
 * as leaf node *node. */
static int
v2_leaf(json_t *f, struct hz_query *q, int *node, struct hz_err *err)
{
    const char *op = json_string_value(json_array_get(f, 0)), *dim;
    struct hz_filter *fl;
    json_t *vals, *v, *mod;
    size_t j, n = json_array_size(f);
    int p, o = -1;

    for (int k = 0; k < HZ_FOP_COUNT; k++)
        if (v2_ops[k] != NULL && strcmp(v2_ops[k], op) == 0)
            o = k;
    if (o < 0)
        return hz_err_set(err, HZ_EINVAL,
                          "filters: unknown operator (is, is_not, contains, contains_not, "
                          "matches, matches_not, matches_wildcard, matches_wildcard_not, and, "
                          "or, not)");
    if ((n != 3 && n != 4) || !json_is_string(json_array_get(f, 1)) ||
        !json_is_array(json_array_get(f, 2)))
        return hz_err_set(err, HZ_EINVAL, V2_FILTER_SHAPE);
    if (q->nfilters >= HZ_FILTERS_MAX || q->nfnodes >= HZ_FNODES_MAX)
        return hz_err_set(err, HZ_EINVAL, "filters: at most %d filters", HZ_FILTERS_MAX);
    dim = json_string_value(json_array_get(f, 1));
    if ((p = api_prop(q, dim, strlen(dim))) < 0)
        return hz_err_set(err, HZ_EINVAL, "filters: unknown dimension");
    fl = &q->filters[q->nfilters];
    memset(fl, 0, sizeof(*fl));
    fl->prop = (enum hz_prop)p;
    fl->op = (enum hz_fop)o;
    if (n == 4) {
        const char *k;
        mod = json_array_get(f, 3);
        if (!json_is_object(mod))
            return hz_err_set(err, HZ_EINVAL, "filters: modifiers must be an object");
        json_object_foreach(mod, k, v)
        {
            if (strcmp(k, "case_sensitive") != 0)
                return hz_err_set(err, HZ_EINVAL, "filters: unknown modifier (case_sensitive)");
            if (!json_is_boolean(v))
                return hz_err_set(err, HZ_EINVAL, "filters: case_sensitive must be true or false");
            fl->icase = json_is_false(v);
        }
    }
    vals = json_array_get(f, 2);
    if (json_array_size(vals) == 0)
        return hz_err_set(err, HZ_EINVAL, "filters: expected at least one value");
    json_array_foreach(vals, j, v)
    {
        if (!json_is_string(v))
            return hz_err_set(err, HZ_EINVAL, "filters: values must be strings");
        if (api_filter_value(fl, json_string_value(v), json_string_length(v), err) != 0)
            return HZ_EINVAL;
        if (o == HZ_FOP_MATCHES || o == HZ_FOP_MATCHES_NOT) {
            hz_re *re = hz_re_compile(json_string_value(v), json_string_length(v), 0, err);
            if (re == NULL)
                return HZ_EINVAL;
            hz_re_free(re);
        }
    }
    api_filter_aliases(fl);
    q->fnodes[q->nfnodes].kind = HZ_FN_LEAF;
    q->fnodes[q->nfnodes].leaf = q->nfilters++;
    *node = q->nfnodes++;
    return 0;
}

/* A filter expression at nesting depth as node *node. */
static int
v2_filter(json_t *f, struct hz_query *q, int depth, int *node, struct hz_err *err)
{
    const char *op;
    struct hz_fnode *nd;
    int me;

    if (!json_is_array(f) || json_array_size(f) < 2 || !json_is_string(json_array_get(f, 0)))
        return hz_err_set(err, HZ_EINVAL, V2_FILTER_SHAPE);
    if (depth > 4)
        return hz_err_set(err, HZ_EINVAL, "filters: nested deeper than 4");
    op = json_string_value(json_array_get(f, 0));
    if (strcmp(op, "and") != 0 && strcmp(op, "or") != 0 && strcmp(op, "not") != 0)
        return v2_leaf(f, q, node, err);
    if (json_array_size(f) != 2)
        return hz_err_set(err, HZ_EINVAL, V2_FILTER_SHAPE);
    if (q->nfnodes >= HZ_FNODES_MAX)
        return hz_err_set(err, HZ_EINVAL, "filters: too many filters");
    me = q->nfnodes++;
    nd = &q->fnodes[me];
    memset(nd, 0, sizeof(*nd));
    if (op[0] == 'n') {
        nd->kind = HZ_FN_NOT;
        nd->nkids = 1;
        if (v2_filter(json_array_get(f, 1), q, depth + 1, &nd->kids[0], err) != 0)
            return HZ_EINVAL;
    } else {
        json_t *list = json_array_get(f, 1), *e;
        size_t i;
        nd->kind = op[0] == 'a' ? HZ_FN_AND : HZ_FN_OR;
        if (!json_is_array(list) || json_array_size(list) == 0 ||
            json_array_size(list) > HZ_FNODE_KIDS)
            return hz_err_set(err, HZ_EINVAL, "filters: %s takes a list of 1 to %d filters", op,
                              HZ_FNODE_KIDS);
        json_array_foreach(list, i, e)
        {
            int kid;
            if (v2_filter(e, q, depth + 1, &kid, err) != 0)
                return HZ_EINVAL;
            q->fnodes[me].kids[q->fnodes[me].nkids++] = kid;
        }
    }
    *node = me;
    return 0;
}

/*
 * v2 filters: a list (and-ed) of simple filters [operator, dimension,
 * [values], {modifiers}?] and logical ones ["and"|"or", [filters]],
 * ["not", filter], kept as a tree over the leaves (query.h). Every leaf
 * names its property; api_finish refuses leaves over two properties (a
 * cross-tab) until declared pairs exist.
 */
static int
v2_filters(json_t *fs, struct hz_query *q, struct hz_err *err)
{
    size_t i;
    json_t *f;
    int root;

    if (!json_is_array(fs))
        return hz_err_set(err, HZ_EINVAL, "filters: expected an array");
    if (json_array_size(fs) == 0)
        return 0;
    if (json_array_size(fs) > HZ_FNODE_KIDS)
        return hz_err_set(err, HZ_EINVAL, "filters: at most %d filters", HZ_FNODE_KIDS);
    root = q->nfnodes++;
    memset(&q->fnodes[root], 0, sizeof(q->fnodes[root]));
    q->fnodes[root].kind = HZ_FN_AND;
    json_array_foreach(fs, i, f)
    {
        int kid;
        if (v2_filter(f, q, 1, &kid, err) != 0)
            return HZ_EINVAL;
        q->fnodes[root].kids[q->fnodes[root].nkids++] = kid;
    }
    q->froot = root;
    return 0;
}

/*
 * v2 order_by: a list of [name, "asc"|"desc"], applied in order; each name
 * is a metric of the query, the breakdown's dimension, or the time
 * dimension of a series (Plausible's rule: order by what is asked).
 */
static int
v2_order_by(json_t *ob, struct hz_query *q, struct hz_err *err)
{
    size_t i;
    json_t *e;

    if (!json_is_array(ob) || json_array_size(ob) == 0 || json_array_size(ob) > HZ_ORDER_MAX)
        return hz_err_set(err, HZ_EINVAL,
                          "order_by: expected [[name, \"asc\"|\"desc\"], ...] (at most %d)",
                          HZ_ORDER_MAX);
    json_array_foreach(ob, i, e)
    {
        struct hz_okey *k = &q->order[q->norder];
        const char *name, *dir;
        int m;
        if (!json_is_array(e) || json_array_size(e) != 2 || !json_is_string(json_array_get(e, 0)) ||
            !json_is_string(json_array_get(e, 1)))
            return hz_err_set(err, HZ_EINVAL, "order_by: expected [[name, \"asc\"|\"desc\"], ...]");
        name = json_string_value(json_array_get(e, 0));
        dir = json_string_value(json_array_get(e, 1));
        if (strcmp(dir, "asc") != 0 && strcmp(dir, "desc") != 0)
            return hz_err_set(err, HZ_EINVAL, "order_by: direction is asc or desc");
        k->desc = dir[0] == 'd';
        m = hz_query_metric_find(name, strlen(name));
        if (q->kind == HZ_Q_BREAKDOWN && api_prop(q, name, strlen(name)) == (int)q->prop) {
            k->kind = HZ_OK_DIMENSION;
        } else if (q->kind == HZ_Q_TIMESERIES && strncmp(name, "time", 4) == 0 &&
                   (name[4] == '\0' || name[4] == ':')) {
            k->kind = HZ_OK_TIME;
        } else if (m >= 0 && api_has_metric(q, (enum hz_metric)m)) {
            k->kind = HZ_OK_METRIC;
            k->metric = m;
        } else {
            return hz_err_set(err, HZ_EINVAL,
                              "order_by: must name a metric of the query or its dimension");
        }
        q->norder++;
    }
    /* The first key also sets the single-key fields the v1 code reads. */
    q->order_metric = q->order[0].kind == HZ_OK_METRIC ? q->order[0].metric : -1;
    q->order_desc = q->order[0].desc;
    return 0;
}

/* v2 pagination: limit 1..10000 (default 10000, as Plausible) and offset. */
static int
v2_pagination(json_t *pg, struct hz_query *q, struct hz_err *err)
{
    const char *k;
    json_t *v;

    if (!json_is_object(pg))
        return hz_err_set(err, HZ_EINVAL, "pagination: expected {\"limit\": N, \"offset\": N}");
    json_object_foreach(pg, k, v)
    {
        json_int_t n;
        if (strcmp(k, "limit") != 0 && strcmp(k, "offset") != 0)
            return hz_err_set(err, HZ_EINVAL, "pagination: unknown field");
        if (!json_is_integer(v))
            return hz_err_set(err, HZ_EINVAL, "pagination: %s must be an integer", k);
        n = json_integer_value(v);
        if (k[0] == 'l') {
            if (n < 1 || n > HZ_QUERY_V2_LIMIT_MAX)
                return hz_err_set(err, HZ_EINVAL, "pagination: limit is 1 to %d",
                                  HZ_QUERY_V2_LIMIT_MAX);
            q->limit = (uint64_t)n;
        } else {
            if (n < 0 || n > 1000000)
                return hz_err_set(err, HZ_EINVAL, "pagination: offset is 0 to 1000000");
            q->offset = (uint64_t)n;
        }
    }
    return 0;
}

/*
 * v2 include: known booleans only; total_rows adds meta.total_rows,
 * time_labels meta.time_labels; imports is echoed (haze imports nothing).
 */
static int
v2_include(json_t *inc, struct hz_query *q, struct hz_err *err)
{
    const char *k;
    json_t *v;

    if (!json_is_object(inc))
        return hz_err_set(err, HZ_EINVAL, "include: expected an object");
    q->has_include = 1;
    json_object_foreach(inc, k, v)
    {
        if (strcmp(k, "total_rows") != 0 && strcmp(k, "imports") != 0 &&
            strcmp(k, "time_labels") != 0)
            return hz_err_set(err, HZ_EINVAL, "include: unknown field");
        if (!json_is_boolean(v))
            return hz_err_set(err, HZ_EINVAL, "include: %s must be true or false", k);
        if (strcmp(k, "total_rows") == 0)
            q->total_rows = json_is_true(v);
        else if (strcmp(k, "time_labels") == 0)
            q->time_labels = json_is_true(v);
        else
            q->imports = json_is_true(v);
    }
    return 0;
}

/*
 * v2: jansson parses the body (duplicate keys and NUL escapes refused, so
 * no field can be read two ways); every top-level field must be known.
 * Fields are then read in the same order as v1 and end in api_finish.
 */
int
hz_api_parse_v2(const char *body, size_t len, const struct hz_config *cfg, int64_t now,
                struct hz_query *q, struct hz_err *err)
{
    static const char *const known[] = {"site_id", "metrics",  "date_range", "date",   "dimensions",
                                        "filters", "order_by", "pagination", "include"};
    json_error_t je;
    json_t *root, *v;
    const char *k, *date = NULL;
    int rc = HZ_EINVAL, auto_iv = 0;

    api_query_init(q);
    q->v2 = 1;
    q->limit = HZ_QUERY_V2_LIMIT_MAX;
    if (len > HZ_API_BODY_MAX)
        return hz_err_set(err, HZ_EINVAL, "body: longer than %d bytes", HZ_API_BODY_MAX);
    /* The position is safe to echo; jansson's text may quote the input. */
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return hz_err_set(err, HZ_EINVAL, "body: invalid JSON at line %d, column %d", je.line,
                          je.column);
    if (!json_is_object(root)) {
        hz_err_set(err, HZ_EINVAL, "body: expected a JSON object");
        goto done;
    }
    json_object_foreach(root, k, v)
    {
        size_t i;
        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (strcmp(k, known[i]) == 0)
                break;
        if (i == sizeof(known) / sizeof(known[0])) {
            if (api_echoable(k, strlen(k)))
                hz_err_set(err, HZ_EINVAL, "%s: unknown field", k);
            else
                hz_err_set(err, HZ_EINVAL, "body: unknown field");
            goto done;
        }
    }
    v = json_object_get(root, "site_id");
    if (!json_is_string(v)) {
        hz_err_set(err, HZ_EINVAL, "site_id: required (a string)");
        goto done;
    }
    if ((rc = api_site(cfg, json_string_value(v), json_string_length(v), now, q, err)) != 0)
        goto done;
    rc = HZ_EINVAL;
    if ((v = json_object_get(root, "date")) != NULL) {
        if (!json_is_string(v) || json_string_length(v) != 10) {
            hz_err_set(err, HZ_EINVAL, "date: expected YYYY-MM-DD");
            goto done;
        }
        date = json_string_value(v);
    }
    v = json_object_get(root, "metrics");
    if (!json_is_array(v) || json_array_size(v) == 0) {
        hz_err_set(err, HZ_EINVAL, "metrics: required (a non-empty array)");
        goto done;
    }
    {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m)
        {
            if (!json_is_string(m)) {
                hz_err_set(err, HZ_EINVAL, "metrics: expected names");
                goto done;
            }
            if (api_add_metric(q, hz_query_metric_find(json_string_value(m), json_string_length(m)),
                               err) != 0)
                goto done;
        }
    }
    v = json_object_get(root, "date_range");
    if (v == NULL) {
        hz_err_set(err, HZ_EINVAL, "date_range: required");
        goto done;
    }
    if (v2_date_range(v, q, date, err) != 0)
        goto done;
    if ((v = json_object_get(root, "dimensions")) != NULL &&
        v2_dimensions(v, q, &auto_iv, err) != 0)
        goto done;
    if ((v = json_object_get(root, "filters")) != NULL && v2_filters(v, q, err) != 0)
        goto done;
    if (auto_iv && q->nfilters > 0 && q->interval == HZ_IV_HOUR)
        q->interval = HZ_IV_DATE; /* "time" picks hours for a day, but hours are totals only */
    if ((v = json_object_get(root, "order_by")) != NULL && v2_order_by(v, q, err) != 0)
        goto done;
    if ((v = json_object_get(root, "pagination")) != NULL && v2_pagination(v, q, err) != 0)
        goto done;
    if ((v = json_object_get(root, "include")) != NULL && v2_include(v, q, err) != 0)
        goto done;
    rc = api_finish(q, cfg, err);
done:
    json_decref(root);
    return rc;
}

/* ================================================================ rendering */

/* {"error":msg}: the only body of a 4xx/5xx answer. */
void
hz_api_error(struct hz_jsonw *w, const char *msg)
{
    hz_jsonw_obj_begin(w);
    hz_jsonw_key(w, "error");
    hz_jsonw_cstr(w, msg);
    hz_jsonw_obj_end(w);
}

/* Writes a metric value: null, an integer, or fixed decimals. */
static void
api_mval(struct hz_jsonw *w, const struct hz_mval *v)
{
    if (v->null)
        hz_jsonw_null(w);
    else if (v->decimals == 0)
        hz_jsonw_int(w, (int64_t)v->v);
    else
        hz_jsonw_fixed(w, v->v, v->decimals);
}

/* One row's value for display: the row's own value string. */
static void
api_row_value(struct hz_jsonw *w, const struct hz_qres *r, size_t i)
{
    size_t len;
    const char *v = hz_qres_value(r, i, &len);

    hz_jsonw_str(w, v, len);
}

/* "pair_since": the first day of the range with cells of the pair that
 * answered (null: none), so a view can say from when the pair has data. */
static void
api_pair_since(struct hz_jsonw *w, const struct hz_qres *r)
{
    char d[11];

    hz_jsonw_key(w, "pair_since");
    if (r->xsince < 0) {
        hz_jsonw_null(w);
        return;
    }
    hz_date_format(r->xsince, d);
    hz_jsonw_cstr(w, d);
}

/* A two-dimension row "a\x1fb" as two strings ("(other)" as two). */
static void
api_row_values2(struct hz_jsonw *w, const struct hz_qres *r, size_t i)
{
    size_t len;
    const char *v = hz_qres_value(r, i, &len);
    const char *sep = memchr(v, HZ_CELL_SEP, len);

    if (sep == NULL) {
        hz_jsonw_str(w, v, len);
        hz_jsonw_str(w, v, len);
        return;
    }
    hz_jsonw_str(w, v, (size_t)(sep - v));
    hz_jsonw_str(w, sep + 1, len - (size_t)(sep - v) - 1);
}

/* A version row in v1 (Plausible's shape): the version and its family
 * under their own keys, {"browser":"Chrome","browser_version":"131"}; a
 * breakdown by the family (a version filter) names the family only. */
static void
api_v1_version(struct hz_jsonw *w, const struct hz_query *q, const struct hz_qres *r, size_t i)
{
    size_t len, fl, ml;
    const char *v = hz_qres_value(r, i, &len);
    enum hz_prop fam = hz_version_family(q->ver);

    if (q->vproj == HZ_VPROJ_FAMILY) {
        hz_jsonw_key(w, api_pshort(q, fam));
        hz_jsonw_str(w, v, len);
        return;
    }
    const char *f = hz_version_part(fam, v, len, &fl), *m = hz_version_part(q->ver, v, len, &ml);
    hz_jsonw_key(w, api_pshort(q, q->ver));
    hz_jsonw_str(w, m, ml);
    hz_jsonw_key(w, api_pshort(q, fam));
    hz_jsonw_str(w, f, fl);
}

/* v1 aggregate body: {"metric":{"value":v[,"change":c]}} per metric. */
static void
api_v1_aggregate(struct hz_jsonw *w, const struct hz_query *q, const struct hz_qres *r)
{
    enum hz_prop vp = hz_query_value_prop(q);

    hz_jsonw_key(w, "results");
    hz_jsonw_obj_begin(w);
    for (int i = 0; i < q->nmetrics; i++) {
        struct hz_mval cur, prev;
        hz_query_value(vp, q->metrics[i], &r->total, &cur);
        hz_jsonw_key(w, hz_query_metric_name(q->metrics[i]));
        hz_jsonw_obj_begin(w);
        hz_jsonw_key(w, "value");
        api_mval(w, &cur);
        if (q->compare) {
            hz_query_value(vp, q->metrics[i], &r->prev, &prev);
            hz_jsonw_key(w, "change");
            if (!r->has_prev || cur.null || prev.null)
                hz_jsonw_null(w);
            else if (q->metrics[i] == HZ_M_EXIT_RATE)
                hz_jsonw_fixed(w, hz_query_change(q->metrics[i], &cur, &prev), 1);
            else
                hz_jsonw_int(w, (int64_t)hz_query_change(q->metrics[i], &cur, &prev));
        }
        hz_jsonw_obj_end(w);
    }
    hz_jsonw_obj_end(w);
}

/*
 * v1 shapes (Plausible's):
 *   aggregate   {"results":{"visitors":{"value":30,"change":275}},["folded":n]}
 *   timeseries  {"results":[{"date":"2026-11-25","visitors":20}],["folded":n]}
 *   breakdown   {"results":[{"page":"/x","visitors":7}],"folded":n}
 * "folded" is there whenever rows could have been folded (breakdowns and
 * filtered questions).
 */
void
hz_api_v1(struct hz_jsonw *w, const struct hz_query *q, const struct hz_qres *r)
{
    enum hz_prop vp = hz_query_value_prop(q);

    hz_jsonw_obj_begin(w);
    if (q->kind == HZ_Q_AGGREGATE) {
        api_v1_aggregate(w, q, r);
    } else {
        hz_jsonw_key(w, "results");
        hz_jsonw_arr_begin(w);
        for (size_t k = r->first; k < r->first + r->count; k++) {
            size_t i = r->order[k];
            hz_jsonw_obj_begin(w);
            if (q->kind == HZ_Q_BREAKDOWN && q->ver != HZ_P_NONE)
                api_v1_version(w, q, r, i);
            else {
                hz_jsonw_key(w, q->kind == HZ_Q_TIMESERIES ? "date" : api_pshort(q, q->prop));
                api_row_value(w, r, i);
            }
            for (int m = 0; m < q->nmetrics; m++) {
                struct hz_mval mv;
                hz_query_row_value(r, vp, q->metrics[m], &r->rows[i], &mv);
                hz_jsonw_key(w, hz_query_metric_name(q->metrics[m]));
                api_mval(w, &mv);
            }
            hz_jsonw_obj_end(w);
        }
        hz_jsonw_arr_end(w);
    }
    if (q->kind == HZ_Q_BREAKDOWN || q->nfilters > 0) {
        hz_jsonw_key(w, "folded");
        hz_jsonw_uint(w, r->folded);
    }
    if (q->xtab)
        api_pair_since(w, r);
    hz_jsonw_obj_end(w);
}

/*
 * CSV: a header row (the property's short name, then the metrics) and one
 * line per row of the requested page; null metrics are empty cells.
 */
void
hz_api_csv(struct hz_csv *c, const struct hz_query *q, const struct hz_qres *r)
{
    enum hz_prop vp = hz_query_value_prop(q);
    const char *key = q->kind == HZ_Q_TIMESERIES ? "date" : api_pshort(q, vp);
    /* Version rows with both parts: two columns, in the order asked. */
    int two = q->kind == HZ_Q_BREAKDOWN && q->ver != HZ_P_NONE &&
              (q->vproj == HZ_VPROJ_BOTH || q->vproj == HZ_VPROJ_SWAPPED);
    enum hz_prop fam = hz_version_family(q->ver);

    if (q->kind == HZ_Q_BREAKDOWN && q->ver != HZ_P_NONE)
        key =
            api_pshort(q, q->vproj == HZ_VPROJ_FAMILY || q->vproj == HZ_VPROJ_BOTH ? fam : q->ver);
    hz_csv_text(c, key, strlen(key));
    if (two) {
        key = api_pshort(q, q->vproj == HZ_VPROJ_BOTH ? q->ver : fam);
        hz_csv_text(c, key, strlen(key));
    }
    for (int m = 0; m < q->nmetrics; m++)
        hz_csv_text(c, hz_query_metric_name(q->metrics[m]),
                    strlen(hz_query_metric_name(q->metrics[m])));
    hz_csv_eol(c);
    for (size_t k = r->first; k < r->first + r->count; k++) {
        size_t i = r->order[k], len;
        const char *v = hz_qres_value(r, i, &len);
        const char *sep = two ? memchr(v, HZ_CELL_SEP, len) : NULL;
        if (two && sep == NULL) {
            hz_csv_text(c, v, len); /* "(other)" in both columns */
            hz_csv_text(c, v, len);
        } else if (two) {
            hz_csv_text(c, v, (size_t)(sep - v));
            hz_csv_text(c, sep + 1, len - (size_t)(sep - v) - 1);
        } else {
            hz_csv_text(c, v, len);
        }
        for (int m = 0; m < q->nmetrics; m++) {
            struct hz_mval mv;
            hz_query_row_value(r, vp, q->metrics[m], &r->rows[i], &mv);
            if (mv.null)
                hz_csv_empty(c);
            else
                hz_csv_fixed(c, mv.v, mv.decimals);
        }
        hz_csv_eol(c);
    }
}

/* One simple filter back in v2 form. */
static void
api_v2_leaf(struct hz_jsonw *w, const struct hz_query *q, const struct hz_filter *fl)
{
    hz_jsonw_arr_begin(w);
    hz_jsonw_cstr(w, v2_ops[fl->op]);
    hz_jsonw_cstr(w, api_pname(q, fl->prop));
    hz_jsonw_arr_begin(w);
    for (int v = 0; v < fl->nvalues; v++)
        hz_jsonw_cstr(w, fl->values[v]);
    hz_jsonw_arr_end(w);
    if (fl->icase) {
        hz_jsonw_obj_begin(w);
        hz_jsonw_key(w, "case_sensitive");
        hz_jsonw_bool(w, 0);
        hz_jsonw_obj_end(w);
    }
    hz_jsonw_arr_end(w);
}

/* Node n of the filter tree back in v2 form (depth is bounded by the parser). */
static void
api_v2_fnode(struct hz_jsonw *w, const struct hz_query *q, int n, int depth)
{
    const struct hz_fnode *nd = &q->fnodes[n];

    if (nd->kind == HZ_FN_LEAF || depth > HZ_FNODES_MAX) {
        api_v2_leaf(w, q, &q->filters[nd->leaf]);
        return;
    }
    hz_jsonw_arr_begin(w);
    hz_jsonw_cstr(w, nd->kind == HZ_FN_NOT ? "not" : nd->kind == HZ_FN_OR ? "or" : "and");
    if (nd->kind == HZ_FN_NOT) {
        api_v2_fnode(w, q, nd->kids[0], depth + 1);
    } else {
        hz_jsonw_arr_begin(w);
        for (int k = 0; k < nd->nkids; k++)
            api_v2_fnode(w, q, nd->kids[k], depth + 1);
        hz_jsonw_arr_end(w);
    }
    hz_jsonw_arr_end(w);
}

/* Writes q's filters back in v2 form: the top-level list, as asked. */
static void
api_v2_filters(struct hz_jsonw *w, const struct hz_query *q)
{
    hz_jsonw_arr_begin(w);
    if (q->nfnodes > 0) {
        const struct hz_fnode *root = &q->fnodes[q->froot];
        for (int k = 0; k < root->nkids; k++)
            api_v2_fnode(w, q, root->kids[k], 1);
    } else {
        for (int f = 0; f < q->nfilters; f++)
            api_v2_leaf(w, q, &q->filters[f]);
    }
    hz_jsonw_arr_end(w);
}

/* "metrics":[...] of one v2 result row, in the query's order. */
static void
api_v2_metrics(struct hz_jsonw *w, const struct hz_query *q, enum hz_prop vp,
               const struct hz_qres *r, const struct hz_qrow *row)
{
    hz_jsonw_key(w, "metrics");
    hz_jsonw_arr_begin(w);
    for (int m = 0; m < q->nmetrics; m++) {
        struct hz_mval mv;
        hz_query_row_value(r, vp, q->metrics[m], row, &mv);
        api_mval(w, &mv);
    }
    hz_jsonw_arr_end(w);
}

/* The time dimension's name for the series' interval. */
static const char *
api_time_dim(const struct hz_query *q)
{
    switch (q->interval) {
    case HZ_IV_HOUR:
        return "time:hour";
    case HZ_IV_MONTH:
        return "time:month";
    case HZ_IV_WEEK:
        return "time:week";
    default:
        return "time:day";
    }
}

/*
 * An ISO 8601 datetime at the start (end = 0) or the end of local day in
 * the site's zone: "2026-11-01T00:00:00+01:00". The offset is the zone's at
 * that day's noon (a day that changes offset shows the noon one).
 */
static void
api_iso_datetime(char out[32], const struct hz_query *q, int32_t day, int end)
{
    struct hz_tz z;
    char d[11];
    long off, a;

    hz_tz_init(&z, q->tz);
    off = hz_tz_offset(&z, (int64_t)day * 86400 + 43200);
    a = off < 0 ? -off : off;
    if (a >= 24 * 3600)
        a = 0; /* no zone is a day off UTC */
    hz_date_format(day, d);
    (void)snprintf(out, 32, "%.10sT%s%c%02d:%02d", d, end ? "23:59:59" : "00:00:00",
                   off < 0 ? '-' : '+', (int)(a / 3600) % 24, (int)(a % 3600) / 60 % 60);
}

/*
 * v2 shape (Plausible's): results[{dimensions, metrics}], meta, query.
 * meta says which rows are not plain values: other_rows (indexes into
 * results of the "(other)" row that folds small rows) and
 * country_rows_with_regions (visit:region rows that are a country into
 * which small regions were folded). The query echo carries the resolved
 * date range as ISO datetimes, the effective order_by, include and
 * pagination.
 */
void
hz_api_v2(struct hz_jsonw *w, const struct hz_query *q, const struct hz_qres *r,
          uint64_t min_visitors)
{
    enum hz_prop vp = hz_query_value_prop(q);
    char dt[32];

    hz_jsonw_obj_begin(w);
    hz_jsonw_key(w, "results");
    hz_jsonw_arr_begin(w);
    if (q->kind == HZ_Q_AGGREGATE) {
        hz_jsonw_obj_begin(w);
        hz_jsonw_key(w, "dimensions");
        hz_jsonw_arr_begin(w);
        hz_jsonw_arr_end(w);
        api_v2_metrics(w, q, vp, r, &r->total);
        hz_jsonw_obj_end(w);
    } else {
        for (size_t k = r->first; k < r->first + r->count; k++) {
            size_t i = r->order[k];
            hz_jsonw_obj_begin(w);
            hz_jsonw_key(w, "dimensions");
            hz_jsonw_arr_begin(w);
            if (q->prop2 != HZ_P_NONE || q->heat == 3)
                api_row_values2(w, r, i);
            else
                api_row_value(w, r, i);
            hz_jsonw_arr_end(w);
            api_v2_metrics(w, q, vp, r, &r->rows[i]);
            hz_jsonw_obj_end(w);
        }
    }
    hz_jsonw_arr_end(w);

    hz_jsonw_key(w, "meta");
    hz_jsonw_obj_begin(w);
    hz_jsonw_key(w, "folded_rows");
    hz_jsonw_uint(w, r->folded);
    hz_jsonw_key(w, "min_visitors");
    hz_jsonw_uint(w, min_visitors);
    if (q->xtab)
        api_pair_since(w, r);
    if (q->kind == HZ_Q_BREAKDOWN) {
        hz_jsonw_key(w, "other_rows");
        hz_jsonw_arr_begin(w);
        for (size_t k = r->first; k < r->first + r->count; k++)
            if (r->rows[r->order[k]].other)
                hz_jsonw_uint(w, k - r->first);
        hz_jsonw_arr_end(w);
        if (q->prop == HZ_P_REGION) {
            hz_jsonw_key(w, "country_rows_with_regions");
            hz_jsonw_arr_begin(w);
            for (size_t k = r->first; k < r->first + r->count; k++)
                if (r->rows[r->order[k]].absorbed)
                    hz_jsonw_uint(w, k - r->first);
            hz_jsonw_arr_end(w);
        }
    }
    if (q->total_rows) {
        hz_jsonw_key(w, "total_rows");
        hz_jsonw_uint(w, q->kind == HZ_Q_AGGREGATE ? 1 : r->total_rows);
    }
    if (q->time_labels && q->kind == HZ_Q_TIMESERIES) {
        /* Every bucket of the range, in time order, data or not. */
        hz_jsonw_key(w, "time_labels");
        hz_jsonw_arr_begin(w);
        for (size_t i = 0; i < r->n; i++)
            api_row_value(w, r, i);
        hz_jsonw_arr_end(w);
    }
    hz_jsonw_obj_end(w);

    hz_jsonw_key(w, "query");
    hz_jsonw_obj_begin(w);
    hz_jsonw_key(w, "site_id");
    hz_jsonw_cstr(w, q->site);
    hz_jsonw_key(w, "metrics");
    hz_jsonw_arr_begin(w);
    for (int m = 0; m < q->nmetrics; m++)
        hz_jsonw_cstr(w, hz_query_metric_name(q->metrics[m]));
    hz_jsonw_arr_end(w);
    hz_jsonw_key(w, "date_range");
    hz_jsonw_arr_begin(w);
    api_iso_datetime(dt, q, r->from, 0);
    hz_jsonw_cstr(w, dt);
    api_iso_datetime(dt, q, r->to, 1);
    hz_jsonw_cstr(w, dt);
    hz_jsonw_arr_end(w);
    hz_jsonw_key(w, "dimensions");
    hz_jsonw_arr_begin(w);
    if (q->heat & 1)
        hz_jsonw_cstr(w, "time:weekday");
    if (q->heat & 2)
        hz_jsonw_cstr(w, "time:hour_of_day");
    if (q->kind == HZ_Q_BREAKDOWN && !q->heat)
        hz_jsonw_cstr(w, api_pname(q, q->prop));
    if (q->kind == HZ_Q_BREAKDOWN && q->prop2 != HZ_P_NONE)
        hz_jsonw_cstr(w, api_pname(q, q->prop2));
    else if (q->kind == HZ_Q_TIMESERIES)
        hz_jsonw_cstr(w, api_time_dim(q));
    hz_jsonw_arr_end(w);
    hz_jsonw_key(w, "filters");
    api_v2_filters(w, q);
    hz_jsonw_key(w, "order_by");
    hz_jsonw_arr_begin(w);
    if (q->norder > 0) {
        for (int k = 0; k < q->norder; k++) {
            const struct hz_okey *ok = &q->order[k];
            hz_jsonw_arr_begin(w);
            hz_jsonw_cstr(w, ok->kind == HZ_OK_METRIC ? hz_query_metric_name(ok->metric)
                             : ok->kind == HZ_OK_TIME ? api_time_dim(q)
                                                      : api_pname(q, q->prop));
            hz_jsonw_cstr(w, ok->desc ? "desc" : "asc");
            hz_jsonw_arr_end(w);
        }
    } else if (q->kind == HZ_Q_BREAKDOWN) {
        hz_jsonw_arr_begin(w);
        hz_jsonw_cstr(w, q->order_metric < 0
                             ? (q->heat ? "time" : api_pname(q, q->prop))
                             : hz_query_metric_name((enum hz_metric)q->order_metric));
        hz_jsonw_cstr(w, q->order_desc ? "desc" : "asc");
        hz_jsonw_arr_end(w);
    } else if (q->kind == HZ_Q_TIMESERIES) {
        hz_jsonw_arr_begin(w);
        hz_jsonw_cstr(w, api_time_dim(q));
        hz_jsonw_cstr(w, "asc");
        hz_jsonw_arr_end(w);
    }
    hz_jsonw_arr_end(w);
    hz_jsonw_key(w, "include");
    hz_jsonw_obj_begin(w);
    if (q->has_include) {
        hz_jsonw_key(w, "imports");
        hz_jsonw_bool(w, q->imports);
        hz_jsonw_key(w, "time_labels");
        hz_jsonw_bool(w, q->time_labels);
        hz_jsonw_key(w, "total_rows");
        hz_jsonw_bool(w, q->total_rows);
    }
    hz_jsonw_obj_end(w);
    hz_jsonw_key(w, "pagination");
    hz_jsonw_obj_begin(w);
    hz_jsonw_key(w, "limit");
    hz_jsonw_uint(w, q->limit);
    hz_jsonw_key(w, "offset");
    hz_jsonw_uint(w, q->offset);
    hz_jsonw_obj_end(w);
    hz_jsonw_obj_end(w);
    hz_jsonw_obj_end(w);
}

/* Percent with one decimal of a / b, 0 when b is 0. */
static double
api_pct1(uint64_t a, uint64_t b)
{
    return b == 0 ? 0 : (double)a * 100.0 / (double)b;
}

/* Seconds (rounded) of the q-quantile of a histogram, or null when empty. */
static void
api_seconds(struct hz_jsonw *w, const uint64_t hist[HZ_HIST_BUCKETS], double q)
{
    uint64_t n = 0;

    for (int b = 0; b < HZ_HIST_BUCKETS; b++)
        n += hist[b];
    if (n == 0)
        hz_jsonw_null(w);
    else
        hz_jsonw_int(w, (int64_t)((hz_hist_quantile(hist, q) + 500) / 1000));
}

/*
 * Funnel steps with conversions from the previous and the first step, the
 * drop-off (how many of the previous step did not get here), its rate, and
 * the median / p75 time from the previous step. biggest_dropoff_step names
 * the step that lost the most people, so the page can highlight it.
 */
/* funnel_by: the segment asked for (and whether it is withheld), or the
 * segment that drops most at the biggest drop. */
static void
api_funnel_note(struct hz_jsonw *w, const struct hz_query *q, const struct hz_funnel_note *nt)
{
    if (q->nfilters > 0) {
        hz_jsonw_key(w, "segment");
        hz_jsonw_obj_begin(w);
        hz_jsonw_key(w, "property");
        hz_jsonw_cstr(w, hz_query_prop_name(q->filters[0].prop));
        hz_jsonw_key(w, "value");
        hz_jsonw_cstr(w, q->filters[0].values[0]);
        hz_jsonw_obj_end(w);
        hz_jsonw_key(w, "withheld");
        hz_jsonw_bool(w, nt->withheld);
        return;
    }
    hz_jsonw_key(w, "biggest_dropoff_segment");
    if (!nt->has_segment) {
        hz_jsonw_null(w);
        return;
    }
    hz_jsonw_obj_begin(w);
    hz_jsonw_key(w, "property");
    hz_jsonw_cstr(w, nt->prop);
    hz_jsonw_key(w, "value");
    hz_jsonw_cstr(w, nt->value);
    hz_jsonw_key(w, "dropoff_rate");
    hz_jsonw_fixed(w, nt->rate, 1);
    hz_jsonw_obj_end(w);
}

void
hz_api_funnels(struct hz_jsonw *w, const struct hz_query *q, const struct hz_site *site,
               struct hz_funnel_step_counts steps[][HZ_FUNNEL_STEPS_MAX])
{
    hz_api_funnels_seg(w, q, site, steps, NULL);
}

void
hz_api_funnels_seg(struct hz_jsonw *w, const struct hz_query *q, const struct hz_site *site,
                   struct hz_funnel_step_counts steps[][HZ_FUNNEL_STEPS_MAX],
                   const struct hz_funnel_note *notes)
{
    char d[11];

    hz_jsonw_obj_begin(w);
    hz_jsonw_key(w, "results");
    hz_jsonw_arr_begin(w);
    for (int f = 0; f < site->nfunnels; f++) {
        const struct hz_funnel *fn = &site->funnels[f];
        const struct hz_funnel_step_counts *st = steps[f];
        uint64_t worst = 0;
        int worst_step = -1;

        if (q->funnel >= 0 && q->funnel != f)
            continue;
        hz_jsonw_obj_begin(w);
        hz_jsonw_key(w, "funnel");
        hz_jsonw_cstr(w, fn->name);
        hz_jsonw_key(w, "steps");
        hz_jsonw_arr_begin(w);
        for (int s = 0; s < fn->nsteps; s++) {
            uint64_t v = st[s].visitors, prev = s > 0 ? st[s - 1].visitors : v;
            uint64_t drop = s > 0 && prev > v ? prev - v : 0;
            hz_jsonw_obj_begin(w);
            hz_jsonw_key(w, "step");
            hz_jsonw_int(w, s + 1);
            hz_jsonw_key(w, "name");
            hz_jsonw_cstr(w, fn->steps[s]);
            hz_jsonw_key(w, "visitors");
            hz_jsonw_uint(w, v);
            hz_jsonw_key(w, "conversion_from_previous");
            hz_jsonw_fixed(w, s == 0 ? 100.0 : api_pct1(v, prev), 1);
            hz_jsonw_key(w, "conversion_from_first");
            hz_jsonw_fixed(w, s == 0 ? 100.0 : api_pct1(v, st[0].visitors), 1);
            hz_jsonw_key(w, "dropoff");
            hz_jsonw_uint(w, drop);
            hz_jsonw_key(w, "dropoff_rate");
            hz_jsonw_fixed(w, s == 0 ? 0.0 : api_pct1(drop, prev), 1);
            hz_jsonw_key(w, "median_seconds_from_previous");
            if (s == 0)
                hz_jsonw_null(w);
            else
                api_seconds(w, st[s].hist, 0.5);
            hz_jsonw_key(w, "p75_seconds_from_previous");
            if (s == 0)
                hz_jsonw_null(w);
            else
                api_seconds(w, st[s].hist, 0.75);
            hz_jsonw_obj_end(w);
            if (s > 0 && drop > worst) {
                worst = drop;
                worst_step = s + 1;
            }
        }
        hz_jsonw_arr_end(w);
        hz_jsonw_key(w, "biggest_dropoff_step");
        if (worst_step < 0)
            hz_jsonw_null(w);
        else
            hz_jsonw_int(w, worst_step);
        if (notes != NULL)
            api_funnel_note(w, q, &notes[f]);
        hz_jsonw_obj_end(w);
    }
    hz_jsonw_arr_end(w);
    hz_jsonw_key(w, "date_range");
    hz_jsonw_arr_begin(w);
    hz_date_format(q->from, d);
    hz_jsonw_cstr(w, d);
    hz_date_format(q->to, d);
    hz_jsonw_cstr(w, d);
    hz_jsonw_arr_end(w);
    hz_jsonw_obj_end(w);
}

/* One side of a paths answer: [{"page":..,"count":n}] in r->order. */
static void
api_path_list(struct hz_jsonw *w, const char *key, const struct hz_qres *r)
{
    hz_jsonw_key(w, key);
    hz_jsonw_arr_begin(w);
    for (size_t k = r->first; k < r->first + r->count; k++) {
        size_t i = r->order[k];
        hz_jsonw_obj_begin(w);
        hz_jsonw_key(w, "page");
        api_row_value(w, r, i);
        hz_jsonw_key(w, "count");
        hz_jsonw_uint(w, r->rows[i].c.visitors);
        hz_jsonw_obj_end(w);
    }
    hz_jsonw_arr_end(w);
}

/* A page's paths; every figure of a withheld page is null. */
void
hz_api_paths(struct hz_jsonw *w, const struct hz_query *q, const struct hz_paths *p)
{
    const struct hz_counts *c = &p->page.c;

    hz_jsonw_obj_begin(w);
    hz_jsonw_key(w, "page");
    hz_jsonw_cstr(w, q->page);
    hz_jsonw_key(w, "withheld");
    hz_jsonw_bool(w, p->withheld);
    hz_jsonw_key(w, "visitors");
    if (p->withheld)
        hz_jsonw_null(w);
    else
        hz_jsonw_uint(w, c->visitors);
    hz_jsonw_key(w, "pageviews");
    if (p->withheld)
        hz_jsonw_null(w);
    else
        hz_jsonw_uint(w, c->pageviews);
    hz_jsonw_key(w, "entries");
    if (p->withheld)
        hz_jsonw_null(w);
    else
        hz_jsonw_uint(w, p->page.entry.visits);
    hz_jsonw_key(w, "exits");
    if (p->withheld)
        hz_jsonw_null(w);
    else
        hz_jsonw_uint(w, c->pageviews > c->outs ? c->pageviews - c->outs : 0);
    api_path_list(w, "came_from", &p->from);
    api_path_list(w, "went_to", &p->to);
    hz_jsonw_key(w, "folded");
    hz_jsonw_uint(w, p->folded);
    hz_jsonw_obj_end(w);
}

/* Filtered traffic: the site's reasons by count, and the unknown-site total. */
void
hz_api_filtered(struct hz_jsonw *w, const struct hz_query *q, const struct hz_qres *site,
                const struct hz_qres *unknown)
{
    uint64_t total = 0;

    (void)q;
    hz_jsonw_obj_begin(w);
    hz_jsonw_key(w, "results");
    hz_jsonw_arr_begin(w);
    for (size_t k = 0; k < site->norder; k++) {
        size_t i = site->order[k];
        hz_jsonw_obj_begin(w);
        hz_jsonw_key(w, "reason");
        api_row_value(w, site, i);
        hz_jsonw_key(w, "events");
        hz_jsonw_uint(w, site->rows[i].c.events);
        hz_jsonw_obj_end(w);
    }
    hz_jsonw_arr_end(w);
    for (size_t i = 0; i < unknown->n; i++)
        total += unknown->rows[i].c.events;
    hz_jsonw_key(w, "unknown_site");
    hz_jsonw_uint(w, total);
    hz_jsonw_obj_end(w);
}

/* A bare number, as Plausible's realtime endpoint. */
void
hz_api_realtime(struct hz_jsonw *w, uint64_t visitors)
{
    hz_jsonw_uint(w, visitors);
}

/* Plausible's Sites API list: every configured site, no paging needed
 * (the config holds them all), so after and before are null. */
void
hz_api_sites(struct hz_jsonw *w, const struct hz_config *cfg, unsigned long long mask)
{
    hz_jsonw_obj_begin(w);
    hz_jsonw_key(w, "sites");
    hz_jsonw_arr_begin(w);
    for (int i = 0; i < cfg->nsites; i++) {
        if (!((mask >> i) & 1))
            continue;
        hz_jsonw_obj_begin(w);
        hz_jsonw_key(w, "domain");
        hz_jsonw_cstr(w, cfg->sites[i].name);
        hz_jsonw_key(w, "timezone");
        hz_jsonw_cstr(w, cfg->sites[i].timezone[0] ? cfg->sites[i].timezone : "Etc/UTC");
        hz_jsonw_obj_end(w);
    }
    hz_jsonw_arr_end(w);
    hz_jsonw_key(w, "meta");
    hz_jsonw_obj_begin(w);
    hz_jsonw_key(w, "after");
    hz_jsonw_null(w);
    hz_jsonw_key(w, "before");
    hz_jsonw_null(w);
    hz_jsonw_key(w, "limit");
    hz_jsonw_int(w, cfg->nsites > 100 ? cfg->nsites : 100);
    hz_jsonw_obj_end(w);
    hz_jsonw_obj_end(w);
}

/*
 * The configured sites with their zone, today's local date and funnels:
 * what the page needs to build its pickers.
 */
/* A site's groups, goals and declared pairs (for the dashboard's panels). */
static void
api_site_issue11(struct hz_jsonw *w, const struct hz_site *s)
{
    hz_jsonw_key(w, "groups");
    hz_jsonw_arr_begin(w);
    for (int g = 0; g < s->ngroups; g++)
        hz_jsonw_cstr(w, s->groups[g].name);
    hz_jsonw_arr_end(w);
    hz_jsonw_key(w, "goals");
    hz_jsonw_arr_begin(w);
    for (int g = 0; g < s->ngoals; g++)
        hz_jsonw_cstr(w, s->goals[g].name);
    hz_jsonw_arr_end(w);
    hz_jsonw_key(w, "pairs");
    hz_jsonw_arr_begin(w);
    for (int k = 0; k < s->ncrosstabs; k++) {
        hz_jsonw_arr_begin(w);
        hz_jsonw_cstr(w, hz_crosstab_prop_name(s->crosstabs[k].a));
        hz_jsonw_cstr(w, hz_crosstab_prop_name(s->crosstabs[k].b));
        hz_jsonw_arr_end(w);
    }
    hz_jsonw_arr_end(w);
    hz_jsonw_key(w, "funnel_by");
    hz_jsonw_arr_begin(w);
    for (int k = 0; k < s->nfunnel_by; k++)
        hz_jsonw_cstr(w, hz_crosstab_prop_name(s->funnel_by[k]));
    hz_jsonw_arr_end(w);
}

void
hz_api_haze_sites(struct hz_jsonw *w, const struct hz_config *cfg, int64_t now,
                  unsigned long long mask, int audit)
{
    char d[11];

    hz_jsonw_obj_begin(w);
    hz_jsonw_key(w, "results");
    hz_jsonw_arr_begin(w);
    for (int i = 0; i < cfg->nsites; i++) {
        const struct hz_site *s = &cfg->sites[i];
        if (!((mask >> i) & 1))
            continue;
        hz_jsonw_obj_begin(w);
        hz_jsonw_key(w, "site_id");
        hz_jsonw_cstr(w, s->name);
        hz_jsonw_key(w, "timezone");
        hz_jsonw_cstr(w, s->timezone);
        hz_jsonw_key(w, "today");
        hz_date_format(hz_api_today(s->timezone, now), d);
        hz_jsonw_cstr(w, d);
        hz_jsonw_key(w, "funnels");
        hz_jsonw_arr_begin(w);
        for (int f = 0; f < s->nfunnels; f++) {
            hz_jsonw_obj_begin(w);
            hz_jsonw_key(w, "name");
            hz_jsonw_cstr(w, s->funnels[f].name);
            hz_jsonw_key(w, "steps");
            hz_jsonw_arr_begin(w);
            for (int k = 0; k < s->funnels[f].nsteps; k++)
                hz_jsonw_cstr(w, s->funnels[f].steps[k]);
            hz_jsonw_arr_end(w);
            hz_jsonw_obj_end(w);
        }
        hz_jsonw_arr_end(w);
        api_site_issue11(w, s);
        hz_jsonw_obj_end(w);
    }
    hz_jsonw_arr_end(w);
    /* Which metrics each property's rows keep: the page asks a filtered
     * headline or chart for those only (site totals keep them all). */
    hz_jsonw_key(w, "metrics_by_property");
    hz_jsonw_obj_begin(w);
    for (int p = HZ_P_NONE + 1; p < HZ_P_PROP0; p++) {
        hz_jsonw_key(w, hz_query_prop_name((enum hz_prop)p));
        hz_jsonw_arr_begin(w);
        for (int m = 0; m < HZ_M_COUNT; m++)
            if (hz_query_metric_ok((enum hz_prop)p, (enum hz_metric)m))
                hz_jsonw_cstr(w, hz_query_metric_name((enum hz_metric)m));
        hz_jsonw_arr_end(w);
    }
    hz_jsonw_obj_end(w);
    hz_jsonw_key(w, "min_visitors");
    hz_jsonw_int(w, cfg->min_visitors);
    hz_jsonw_key(w, "retention_days");
    hz_jsonw_int(w, cfg->retention_days);
    hz_jsonw_key(w, "audit");
    hz_jsonw_bool(w, audit);
    hz_jsonw_obj_end(w);
}

/*
 * A download name made only of [A-Za-z0-9.-] so that it can sit inside a
 * quoted Content-Disposition value as is.
 */
void
hz_api_csv_filename(char *out, size_t cap, const struct hz_query *q)
{
    char from[11], to[11];
    const char *prop = api_pshort(q, q->prop);

    hz_date_format(q->from, from);
    hz_date_format(q->to, to);
    (void)snprintf(out, cap, "haze-%s-%s-%s-%s.csv", q->site, prop[0] ? prop : "totals", from, to);
    for (char *p = out; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-'))
            *p = '_';
}

/* ================================================================ privacy.json */

/* clang-format off */
/* What each stored row holds: name, meaning. */
static const char *const privacy_row_fields[][2] = {
    { "visitors",    "distinct visitors of the day (daily keyed hash, never stored; "
                     "a period's visitors are the sum of its days)" },
    { "visits",      "visits (sessions) of the day" },
    { "pageviews",   "pageviews" },
    { "nonbounce",   "visits with more than one pageview or an engagement" },
    { "duration_ms", "sum of visit durations, milliseconds" },
    { "outs",        "pageviews followed by another pageview in the same visit (pages)" },
    { "events",      "custom events (event names), samples (pages), dropped hits (drops)" },
    { "engaged_ms",  "sum of engaged time, milliseconds (pages)" },
};

static const char *const privacy_dims[][2] = {
    { "event:page",         "scrubbed path: no fragment, no query string but an allow-list, "
                            "e-mails, long numbers, UUIDs and tokens replaced" },
    { "visit:entry_page",   "scrubbed path of the first pageview of a visit" },
    { "visit:source",       "referrer host or utm_source/ref; never the referrer path" },
    { "visit:utm_source",   "utm_source value" },
    { "visit:utm_medium",   "utm_medium value" },
    { "visit:utm_campaign", "utm_campaign value" },
    { "visit:country",      "ISO 3166-1 country code from the IP address, which is then dropped" },
    { "visit:region",       "ISO 3166-2 first subdivision code" },
    { "visit:browser",      "browser family (Chrome, Firefox, ...), no version" },
    { "visit:os",           "operating system family, no version" },
    { "visit:browser_version", "major version only, under its browser family (Chrome 131); "
                            "never the full version string" },
    { "visit:os_version",   "major version only, under its OS family (iOS 18, Windows 11, "
                            "macOS 10 as Safari reports it); never the full version string" },
    { "visit:device",       "desktop, mobile or tablet" },
    { "event:name",         "custom event name" },
    { "event:group",        "name of the configured page group the page belongs to" },
    { "event:goal",         "name of the configured goal a hit reached" },
    { "cross-tab cell",     "two property values of a declared pair (see pairs); visitors, "
                            "visits, pageviews or events per day and month" },
    { "visit:utm_content",  "utm_content value" },
    { "visit:utm_term",     "utm_term value" },
    { "visit:referrer",     "the referring site's host (another site's); never its path or query" },
    { "event:hostname",     "the page's host: the site or one of its configured aliases" },
    { "event:props:NAME",   "value of a custom prop the site keeps (props = in its config, "
                            "listed under custom_props): scrubbed like a URL path segment "
                            "(e-mails, long numbers, UUIDs, tokens replaced), at most 127 "
                            "bytes, distinct values per day capped into (other); every other "
                            "prop is dropped before counting and counted as prop_not_allowed" },
    { "filtered",           "reason a hit (or a custom prop: prop_not_allowed) was not counted "
                            "(bot, dnt, unknown site, invalid, untrusted_xff)" },
};

static const char *const privacy_never[][2] = {
    { "ip_address",   "reduced to country and region in the collector's memory, then dropped" },
    { "user_agent",   "reduced to browser, OS and device families and the browser's and OS's "
                      "major versions, then dropped" },
    { "cookies",      "haze sets none on tracked sites and uses no client storage" },
    { "visitor_hash", "keyed by a daily salt that is destroyed; kept only in Redis with an "
                      "expiry, never in the aggregates" },
    { "full_url",     "query strings and fragments are dropped before counting" },
    { "referrer_url", "only the referring host is kept" },
    { "per_visit_rows", "no row describes one visit or one visitor" },
};
/* clang-format on */

/* A list of {k1: pair[0], k2: pair[1]} objects (privacy.json tables). */
static void
privacy_pairs(struct hz_jsonw *w, const char *const (*pairs)[2], size_t n, const char *k1,
              const char *k2)
{
    hz_jsonw_arr_begin(w);
    for (size_t i = 0; i < n; i++) {
        hz_jsonw_obj_begin(w);
        hz_jsonw_key(w, k1);
        hz_jsonw_cstr(w, pairs[i][0]);
        hz_jsonw_key(w, k2);
        hz_jsonw_cstr(w, pairs[i][1]);
        hz_jsonw_obj_end(w);
    }
    hz_jsonw_arr_end(w);
}

/* One stored table: its key (granularity), its fields. */
static void
privacy_table(struct hz_jsonw *w, const char *name, const char *const *key, size_t nkey,
              const char *const *fields, size_t nfields, const char *note)
{
    hz_jsonw_obj_begin(w);
    hz_jsonw_key(w, "table");
    hz_jsonw_cstr(w, name);
    hz_jsonw_key(w, "granularity");
    hz_jsonw_arr_begin(w);
    for (size_t i = 0; i < nkey; i++)
        hz_jsonw_cstr(w, key[i]);
    hz_jsonw_arr_end(w);
    hz_jsonw_key(w, "fields");
    hz_jsonw_arr_begin(w);
    for (size_t i = 0; i < nfields; i++)
        hz_jsonw_cstr(w, fields[i]);
    hz_jsonw_arr_end(w);
    hz_jsonw_key(w, "note");
    hz_jsonw_cstr(w, note);
    hz_jsonw_obj_end(w);
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * GET /privacy.json: a machine-readable statement of what is stored (tables,
 * their granularity and fields), what each field means, how each dimension
 * value is reduced before it is stored, what is never stored, the retention
 * and the minimum crowd size.
 */
/* "pairs": every site's declared cross-tabs and the rule their cells
 * follow (issue 11, dashboard/crosstab.h). */
static void
privacy_xpairs(struct hz_jsonw *w, const struct hz_config *cfg)
{
    hz_jsonw_key(w, "pairs_rule");
    hz_jsonw_cstr(w, "cells of a declared pair are kept per day and month; a cell under "
                     "min_visitors folds into (other) (regions first fall back to their "
                     "country), and complementary suppression folds a second cell wherever "
                     "one folded cell could be worked out by subtracting shown numbers from "
                     "a total or a one-property row");
    hz_jsonw_key(w, "pairs");
    hz_jsonw_arr_begin(w);
    for (int i = 0; i < cfg->nsites; i++) {
        const struct hz_site *s = &cfg->sites[i];
        for (int k = 0; k < s->ncrosstabs; k++) {
            hz_jsonw_obj_begin(w);
            hz_jsonw_key(w, "site");
            hz_jsonw_cstr(w, s->name);
            hz_jsonw_key(w, "properties");
            hz_jsonw_arr_begin(w);
            hz_jsonw_cstr(w, hz_crosstab_prop_name(s->crosstabs[k].a));
            hz_jsonw_cstr(w, hz_crosstab_prop_name(s->crosstabs[k].b));
            hz_jsonw_arr_end(w);
            hz_jsonw_key(w, "min_visitors");
            hz_jsonw_int(w, cfg->min_visitors);
            hz_jsonw_obj_end(w);
        }
    }
    hz_jsonw_arr_end(w);
}

void
hz_api_privacy(struct hz_jsonw *w, const struct hz_config *cfg)
{
    static const char *const k_rows[] = {"site", "local day (and its month)", "dimension", "value"};
    static const char *const f_rows[] = {"visitors",    "visits", "pageviews", "nonbounce",
                                         "duration_ms", "outs",   "events",    "engaged_ms"};
    static const char *const k_hours[] = {"site", "local hour"};
    static const char *const f_hours[] = {"visitors", "visits", "pageviews"};
    static const char *const k_hist[] = {"site", "local day (and its month)", "page"};
    static const char *const f_hist[] = {"engaged time histogram: 14 buckets, [0,1) s then "
                                         "powers of two up to 4096 s and over"};
    static const char *const f_scroll[] = {"scroll depth per page: samples in 11 buckets of 10 %, "
                                           "their sum and count (engagement events)"};
    static const char *const k_fun[] = {"site", "local day (and its month)", "funnel", "step"};
    static const char *const f_fun[] = {"visits that reached the step",
                                        "time from the previous step, histogram"};
    static const char *const k_trans[] = {"site", "local day (and its month)", "from page",
                                          "to page"};
    static const char *const f_trans[] = {"count of moves from one page to the next"};
    static const char *const k_meta[] = {"site", "local day", "dimension"};
    static const char *const f_meta[] = {"stream position applied",
                                         "number of distinct values per dimension",
                                         "day of the last retention run"};

    hz_jsonw_obj_begin(w);
    hz_jsonw_key(w, "service");
    hz_jsonw_cstr(w, "haze");
    hz_jsonw_key(w, "retention_days");
    hz_jsonw_int(w, cfg->retention_days);
    hz_jsonw_key(w, "min_visitors");
    hz_jsonw_int(w, cfg->min_visitors);
    hz_jsonw_key(w, "min_visitors_rule");
    hz_jsonw_cstr(w, "report rows with fewer visitors are folded into one (other) row; a "
                     "region first falls back to its country, a version to its family's "
                     "(other); totals are not folded");
    hz_jsonw_key(w, "versions");
    hz_jsonw_cstr(w, "major"); /* visit:browser_version, visit:os_version: major only */
    hz_jsonw_key(w, "stored");
    hz_jsonw_arr_begin(w);
    privacy_table(w, "rows", k_rows, NELEM(k_rows), f_rows, NELEM(f_rows),
                  "dimensions are kept one at a time (marginals), crossed only in the "
                  "cells of the declared pairs (see pairs)");
    privacy_table(w, "hours", k_hours, NELEM(k_hours), f_hours, NELEM(f_hours),
                  "site totals only, no dimension");
    privacy_table(w, "engaged_time", k_hist, NELEM(k_hist), f_hist, NELEM(f_hist),
                  "engaged (visible, focused) time measured by haze.js");
    privacy_table(w, "scroll_depth", k_hist, NELEM(k_hist), f_scroll, NELEM(f_scroll),
                  "how far down a page was read, in percent, as the tracker reports it");
    privacy_table(w, "funnels", k_fun, NELEM(k_fun), f_fun, NELEM(f_fun),
                  "funnels are the ones configured for the site");
    privacy_table(w, "transitions", k_trans, NELEM(k_trans), f_trans, NELEM(f_trans),
                  "page-to-page moves, not whole paths");
    privacy_table(w, "meta", k_meta, NELEM(k_meta), f_meta, NELEM(f_meta),
                  "bookkeeping, no traffic data");
    hz_jsonw_arr_end(w);
    hz_jsonw_key(w, "row_fields");
    privacy_pairs(w, privacy_row_fields, NELEM(privacy_row_fields), "name", "meaning");
    hz_jsonw_key(w, "dimensions");
    privacy_pairs(w, privacy_dims, NELEM(privacy_dims), "name", "stored_as");
    hz_jsonw_key(w, "never_stored");
    privacy_pairs(w, privacy_never, NELEM(privacy_never), "name", "why");
    hz_jsonw_key(w, "sites");
    hz_jsonw_arr_begin(w);
    for (int i = 0; i < cfg->nsites; i++)
        hz_jsonw_cstr(w, cfg->sites[i].name);
    hz_jsonw_arr_end(w);
    privacy_xpairs(w, cfg);
    /* Which custom props each site keeps; all others are dropped. */
    hz_jsonw_key(w, "custom_props");
    hz_jsonw_arr_begin(w);
    for (int i = 0; i < cfg->nsites; i++) {
        hz_jsonw_obj_begin(w);
        hz_jsonw_key(w, "site");
        hz_jsonw_cstr(w, cfg->sites[i].name);
        hz_jsonw_key(w, "kept");
        hz_jsonw_arr_begin(w);
        for (int k = 0; k < cfg->sites[i].nprops; k++)
            hz_jsonw_cstr(w, cfg->sites[i].props[k]);
        hz_jsonw_arr_end(w);
        hz_jsonw_obj_end(w);
    }
    hz_jsonw_arr_end(w);
    hz_jsonw_obj_end(w);
}
