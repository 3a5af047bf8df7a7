/* SPDX-License-Identifier: MIT */
/*
 * crosstab.c - questions across two properties from declared pairs, the
 * pair's crowd-size rule, and conversion rates (see crosstab.h).
 */
#include "dashboard/crosstab.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/groups.h"
#include "common/mem.h"
#include "common/record.h"
#include "dashboard/xcells.h"
#include "dashboard/xscan.h"

/* The pair dimension of property p, or -1 (exit pages: not a pair's). */
static int
xq_dim(enum hz_prop p)
{
    const char *name = hz_query_prop_name(p);

    if (p == HZ_P_NONE || name == NULL)
        return -1;
    return hz_crosstab_prop_find(name, strlen(name));
}

/* The property whose pair dimension is d. */
static enum hz_prop
xq_prop(enum hz_dim d)
{
    const char *name = hz_crosstab_prop_name(d);

    return name != NULL ? (enum hz_prop)hz_query_prop_find(name, strlen(name)) : HZ_P_NONE;
}

/* Adds p to the distinct properties in ps (n of them, at most 3 kept). */
static void
xq_add(enum hz_prop *ps, int *n, enum hz_prop p)
{
    if (p == HZ_P_NONE)
        return;
    for (int i = 0; i < *n; i++)
        if (ps[i] == p)
            return;
    if (*n < 3)
        ps[*n] = p;
    (*n)++;
}

int
hz_xquery_plan(struct hz_query *q, const struct hz_site *site, struct hz_err *err)
{
    enum hz_prop ps[3];
    int n = 0, dx, dy, goal_pair, event_pair;

    if (q->heat) {
        if (q->nfilters > 0)
            return hz_err_set(err, HZ_EINVAL,
                              "filters: hour rows are site totals; the heatmap takes none");
        for (int i = 0; i < q->nmetrics; i++)
            if (q->metrics[i] != HZ_M_VISITS && q->metrics[i] != HZ_M_PAGEVIEWS)
                return hz_err_set(err, HZ_EINVAL,
                                  "metrics: the heatmap counts visits or pageviews (hourly "
                                  "visitors are not summed)");
        q->order_metric = -1;
        return 0;
    }
    if (q->kind == HZ_Q_BREAKDOWN)
        xq_add(ps, &n, q->prop);
    xq_add(ps, &n, q->prop2);
    for (int i = 0; i < q->nfilters; i++)
        xq_add(ps, &n, q->filters[i].prop);
    if (n <= 1) {
        for (int i = 0; i < q->nmetrics; i++)
            if (q->metrics[i] == HZ_M_CONVERSION_RATE && q->kind == HZ_Q_TIMESERIES)
                return hz_err_set(err, HZ_EINVAL,
                                  "metrics: conversion_rate has no time series; ask for an "
                                  "aggregate or a breakdown");
        return 0;
    }
    if (n > 2)
        return hz_err_set(err, HZ_EINVAL,
                          "filters: at most two properties together (one declared pair)");
    if (q->kind == HZ_Q_TIMESERIES)
        return hz_err_set(err, HZ_EINVAL,
                          "filters: a question across two properties has no time series; "
                          "ask for a breakdown or an aggregate");
    if ((dx = xq_dim(ps[0])) < 0 || (dy = xq_dim(ps[1])) < 0)
        return hz_err_set(err, HZ_EINVAL, "filters: %s cannot be crossed with another property",
                          hz_query_prop_name(xq_dim(ps[0]) < 0 ? ps[0] : ps[1]));
    for (int i = 0; i < site->ncrosstabs; i++) {
        const struct hz_crosstab *x = &site->crosstabs[i];
        if (((int)x->a == dx && (int)x->b == dy) || ((int)x->a == dy && (int)x->b == dx)) {
            q->xtab = 1;
            q->xa = x->a;
            q->xb = x->b;
        }
    }
    if (!q->xtab) {
        /* The line names the filtered property first, the breakdown second. */
        enum hz_prop first = ps[0], second = ps[1];
        if (q->kind == HZ_Q_BREAKDOWN && q->prop2 == HZ_P_NONE && first == q->prop) {
            first = ps[1];
            second = ps[0];
        }
        return hz_err_set(err, HZ_EINVAL,
                          "filters: no declared pair covers %s with %s; add \"crosstab = %s x "
                          "%s\" to [site %.44s]",
                          hz_query_prop_name(first), hz_query_prop_name(second),
                          hz_query_prop_name(first), hz_query_prop_name(second), site->name);
    }
    goal_pair = q->xa == HZ_DIM_GOAL || q->xb == HZ_DIM_GOAL;
    event_pair = goal_pair || q->xa == HZ_DIM_EVENT || q->xb == HZ_DIM_EVENT;
    for (int i = 0; i < q->nmetrics; i++) {
        enum hz_metric m = q->metrics[i];
        if (m == HZ_M_LIFT && q->kind != HZ_Q_BREAKDOWN)
            return hz_err_set(err, HZ_EINVAL, "metrics: lift needs a breakdown");
        if (m == HZ_M_VISITORS || m == HZ_M_VISITS || (m == HZ_M_PAGEVIEWS && !event_pair) ||
            m == HZ_M_LIFT || (m == HZ_M_EVENTS && event_pair) ||
            (m == HZ_M_CONVERSION_RATE && goal_pair))
            continue;
        return hz_err_set(err, HZ_EINVAL,
                          "metrics: %s is not kept for pairs (visitors, visits, lift, %s%s)",
                          hz_query_metric_name(m), event_pair ? "events" : "pageviews",
                          goal_pair ? ", conversion_rate" : "");
    }
    if (q->order_metric >= 0 && q->order_metric != HZ_M_VISITORS) {
        int ok = 0;
        for (int i = 0; i < q->nmetrics; i++)
            ok |= (int)q->metrics[i] == q->order_metric;
        if (!ok)
            q->order_metric = HZ_M_VISITORS;
    }
    return 0;
}

/* ------------------------------------------------------------ suppression */

/* The two values of row i of r ("v1\x1fv2"). */
static void
xq_values(const struct hz_qres *r, size_t i, const char **v1, size_t *l1, const char **v2,
          size_t *l2)
{
    size_t len;
    const char *v = hz_qres_value(r, i, &len);
    const char *sep = memchr(v, HZ_CELL_SEP, len);

    if (sep == NULL)
        sep = v + len;
    *v1 = v;
    *l1 = (size_t)(sep - v);
    *v2 = sep < v + len ? sep + 1 : v + len;
    *l2 = (size_t)(v + len - *v2);
}

/* The rule itself lives in xcells.c, on the pair path's slim table; this
 * runs it over an answer's rows (country cells are appended to r). */
uint64_t
hz_xquery_suppress(struct hz_qres *r, int region_side, uint64_t min_visitors)
{
    struct hz_xcells t;
    uint64_t n;

    hz_xcells_init(&t);
    for (size_t i = 0; i < r->n; i++) {
        size_t len;
        const char *v = hz_qres_value(r, i, &len);
        size_t k = hz_xcells_get(&t, v, len); /* may move t.c */
        struct hz_xcell *c = &t.c[k];
        c->visitors = r->rows[i].c.visitors;
        c->visits = r->rows[i].c.visits;
        c->pageviews = r->rows[i].c.pageviews;
        c->events = r->rows[i].c.events;
    }
    n = hz_xcells_suppress(&t, region_side, min_visitors);
    for (size_t i = 0; i < t.n; i++) {
        size_t k = hz_qres_row(r, hz_xcells_v1(&t, i), t.c[i].vlen); /* i: same order */
        r->rows[k].c.visitors = t.c[i].visitors;
        r->rows[k].c.visits = t.c[i].visits;
        r->rows[k].c.pageviews = t.c[i].pageviews;
        r->rows[k].c.events = t.c[i].events;
        r->rows[k].hidden = t.c[i].hidden;
        r->rows[k].dest = t.c[i].dest;
    }
    hz_xcells_free(&t);
    return n;
}

/* ------------------------------------------------------------ answering */

struct xq_base {
    struct hz_qres *m; /* marginal rows of the non-goal property */
};

static void
xq_marg_cb(const char *value, size_t vlen, const struct hz_counts *c, void *arg)
{
    struct hz_qres *m = arg;
    size_t i = hz_qres_row(m, value, vlen);

    m->rows[i].c.visitors += c->visitors;
}

/* One side of the cells (property p: their v1 or v2) against q's filters
 * on p, with the last value's verdict kept: cells come grouped by v1. */
struct xq_side {
    enum hz_prop p;
    int any;       /* q has a filter on p */
    const char *v; /* the last value asked about (in the cells' pool), or NULL */
    size_t l;
    int ok;
};

static void
xq_side_init(struct xq_side *sd, const struct hz_query *q, enum hz_prop p)
{
    memset(sd, 0, sizeof(*sd));
    sd->p = p;
    for (int f = 0; f < q->nfilters; f++)
        sd->any |= q->filters[f].prop == p;
}

/* 1 if value (v, l) passes every filter of q on the side's property. */
static int
xq_side_match(struct xq_side *sd, const struct hz_query *q, const char *v, size_t l)
{
    if (!sd->any)
        return 1;
    if (sd->v != NULL && sd->l == l && memcmp(sd->v, v, l) == 0)
        return sd->ok;
    sd->ok = 1;
    for (int f = 0; f < q->nfilters && sd->ok; f++)
        if (q->filters[f].prop == sd->p)
            sd->ok = hz_query_filter_match(&q->filters[f], v, l);
    sd->v = v;
    sd->l = l;
    return sd->ok;
}

/* 1 if q keeps only cells whose value of property p is one given value
 * (an "is" filter on p, one value, compared byte for byte). */
static int
xq_pinned(const struct hz_query *q, enum hz_prop p)
{
    for (int f = 0; f < q->nfilters; f++) {
        const struct hz_filter *fl = &q->filters[f];
        if (fl->prop == p && fl->op == HZ_FOP_IS && fl->nvalues == 1 && !fl->icase)
            return 1;
    }
    return 0;
}

/* Store row callback: visitors of every value of one dimension. */
static void
xq_visitors_cb(const char *value, size_t vlen, const struct hz_counts *c, void *arg)
{
    struct hz_qres *m = arg;
    size_t i = hz_qres_row(m, value, vlen);

    m->rows[i].c.visitors += c->visitors;
}

/* Visitors of value v of property p (a region reduced to its country by
 * the fallback is looked up among the countries). */
static uint64_t
xq_marg(const struct hz_qres *m, const struct hz_qres *countries, enum hz_prop p, const char *v,
        size_t len)
{
    long i = hz_qres_find(m, v, len);

    if (i < 0 && p == HZ_P_REGION && len == 2)
        i = -2 - hz_qres_find(countries, v, len);
    if (i >= 0)
        return m->rows[i].c.visitors;
    if (i <= -2)
        return countries->rows[-2 - i].c.visitors;
    return 0;
}

/*
 * Lift of each row: the what-value's share of the where-value's visitors
 * divided by its share of all visitors. Two dimensions: what is the
 * first, where the second; a breakdown filtered on one value: what is the
 * filter's value, where the row's. Folded and withheld rows have none.
 */
static int
xq_lift(hz_rtxn *t, const struct hz_query *q, struct hz_qres *r)
{
    enum hz_prop what = q->prop2 != HZ_P_NONE ? q->prop : HZ_P_NONE;
    enum hz_prop where = q->prop2 != HZ_P_NONE ? q->prop2 : q->prop;
    const char *fv = NULL;
    struct hz_qres mw, mh, mc;
    struct hz_counts tot;
    int rc;

    for (size_t i = 0; i < r->n; i++)
        r->rows[i].lift = -1;
    if (what == HZ_P_NONE) {
        for (int f = 0; f < q->nfilters; f++)
            if (q->filters[f].prop != where && q->filters[f].op == HZ_FOP_IS &&
                q->filters[f].nvalues == 1) {
                what = q->filters[f].prop;
                fv = q->filters[f].values[0];
            }
        if (what == HZ_P_NONE)
            return 0; /* no single what-value: no lift */
    }
    hz_qres_init(&mw);
    hz_qres_init(&mh);
    hz_qres_init(&mc);
    rc = hz_store_totals(t, q->site, q->from, q->to, &tot);
    if (rc == 0)
        rc = hz_store_dim_rows(t, q->site, hz_query_prop_dim(what), q->from, q->to, xq_visitors_cb,
                               &mw);
    if (rc == 0)
        rc = hz_store_dim_rows(t, q->site, hz_query_prop_dim(where), q->from, q->to, xq_visitors_cb,
                               &mh);
    if (rc == 0 && where == HZ_P_REGION)
        rc = hz_store_dim_rows(t, q->site, HZ_DIM_COUNTRY, q->from, q->to, xq_visitors_cb, &mc);
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        struct hz_qrow *row = &r->rows[i];
        const char *v1, *v2;
        size_t l1, l2;
        if (row->other || row->withheld || !row->matched)
            continue;
        if (fv != NULL) {
            v1 = fv;
            l1 = strlen(fv);
            v2 = hz_qres_value(r, i, &l2);
        } else {
            xq_values(r, i, &v1, &l1, &v2, &l2);
        }
        uint64_t a = xq_marg(&mw, &mc, what, v1, l1), b = xq_marg(&mh, &mc, where, v2, l2);
        if (a == 0 || b == 0 || tot.visitors == 0)
            continue;
        row->lift = ((double)row->c.visitors / (double)b) / ((double)a / (double)tot.visitors);
    }
    hz_qres_free(&mw);
    hz_qres_free(&mh);
    hz_qres_free(&mc);
    return rc;
}

/*
 * A breakdown by one property of the pair, each cell a row of its own:
 * cells stay cells (an index and a conversion-rate base each, 16 bytes)
 * through the ordering, and only the rows up to the requested page become
 * qrows. The same answer as the general loop of hz_xquery_run.
 */
struct xq_slim {
    uint32_t cell; /* UINT32_MAX: the "(other)" row */
    uint64_t cr_base;
};

struct xq_slim_ctx {
    const struct hz_xcells *cells;
    const struct xq_slim *s;
    int on_v1;            /* the breakdown's values are the cells' v1 */
    struct hz_qrow other; /* the folded cells' row */
};

static const char *
xq_slim_value(const struct xq_slim_ctx *x, const struct xq_slim *e, size_t *len)
{
    const struct hz_xcell *cell;

    if (e->cell == UINT32_MAX) {
        *len = strlen(HZ_OTHER_VALUE);
        return HZ_OTHER_VALUE;
    }
    cell = &x->cells->c[e->cell];
    *len = x->on_v1 ? cell->l1 : cell->l2;
    return x->on_v1 ? hz_xcells_v1(x->cells, e->cell) : hz_xcells_v2(x->cells, e->cell);
}

/* The qrow of slim row e into *row (zeroed first). */
static void
xq_slim_row(const struct xq_slim_ctx *x, const struct xq_slim *e, struct hz_qrow *row)
{
    if (e->cell == UINT32_MAX) {
        *row = x->other;
        return;
    }
    const struct hz_xcell *cell = &x->cells->c[e->cell];
    memset(row, 0, sizeof(*row));
    row->matched = 1;
    row->c.visitors = cell->visitors;
    row->c.visits = cell->visits;
    row->c.pageviews = cell->pageviews;
    row->c.events = cell->events;
    row->cr_base = e->cr_base;
}

static const struct hz_qrow *
xq_slim_at(void *arg, size_t i, struct hz_qrow *tmp, const char **v, size_t *vlen)
{
    const struct xq_slim_ctx *x = arg;

    xq_slim_row(x, &x->s[i], tmp);
    *v = xq_slim_value(x, &x->s[i], vlen);
    return tmp;
}

/* 0 when done; 1 when a cell holds a stored "(other)" value (it joins
 * the folded cells' row: the general loop answers, r untouched). */
static int
xq_slim_run(const struct hz_query *q, const struct hz_xcells *cells, const struct hz_qres *marg,
            struct xq_side *sa, struct xq_side *sb, int use_marg, struct hz_qres *r)
{
    struct xq_slim *s = hz_xreallocarray(NULL, cells->n + 1, sizeof(*s));
    struct xq_slim_ctx x = {.cells = cells, .s = s};
    size_t n = 0, other_cells = 0, *idx, nk, upto;
    long other = -1;

    x.on_v1 = q->prop == xq_prop(q->xa);
    for (size_t i = 0; i < cells->n; i++) {
        const struct hz_xcell *cell = &cells->c[i];
        const char *v1 = hz_xcells_v1(cells, i), *v2 = hz_xcells_v2(cells, i);
        size_t l1 = cell->l1, l2 = cell->l2;
        if (cell->hidden && cell->dest != -1)
            continue; /* counted in its country cell */
        if (!xq_side_match(sa, q, v1, l1) || !xq_side_match(sb, q, v2, l2))
            continue;
        const char *gv = q->xa == HZ_DIM_GOAL ? v2 : v1;
        size_t gl = q->xa == HZ_DIM_GOAL ? l2 : l1;
        long mi = use_marg ? hz_qres_find(marg, gv, gl) : -1;
        uint64_t base = mi >= 0 ? marg->rows[mi].c.visitors : 0;
        if (cell->hidden) {
            if (other < 0) {
                other = (long)n++;
                s[other].cell = UINT32_MAX;
                x.other.matched = 1;
                x.other.other = 1;
            }
            x.other.c.visitors += cell->visitors;
            x.other.c.visits += cell->visits;
            x.other.c.pageviews += cell->pageviews;
            x.other.c.events += cell->events;
            x.other.cr_base += base;
            other_cells++;
            continue;
        }
        size_t bl = x.on_v1 ? l1 : l2;
        const char *bv = x.on_v1 ? v1 : v2;
        if (bl >= HZ_PAGE_MAX)
            continue;
        if (bl == strlen(HZ_OTHER_VALUE) && memcmp(bv, HZ_OTHER_VALUE, bl) == 0) {
            free(s);
            return 1;
        }
        s[n].cell = (uint32_t)i;
        s[n].cr_base = base;
        n++;
    }
    x.other.withheld = other_cells == 1; /* one cell: its numbers would be the cell's */
    idx = hz_xreallocarray(NULL, n + 1, sizeof(*idx));
    nk = hz_query_order_by(r, q, n, xq_slim_at, &x, idx);
    /* Rows up to the end of the page, in order: what the answer reads. */
    upto = r->first + r->count;
    hz_qres_reserve(r, upto + 1, 0);
    free(r->order);
    r->order = hz_xreallocarray(NULL, upto + 1, sizeof(size_t));
    for (size_t k = 0; k < upto && k < nk; k++) {
        size_t len;
        const char *v = xq_slim_value(&x, &s[idx[k]], &len);
        size_t j = hz_qres_append(r, v, len);
        uint32_t voff = r->rows[j].voff;
        xq_slim_row(&x, &s[idx[k]], &r->rows[j]);
        r->rows[j].voff = voff;
        r->rows[j].vlen = (uint32_t)len;
        r->rows[j].dest = (int32_t)j;
        r->order[k] = j;
    }
    r->norder = upto;
    free(idx);
    free(s);
    return 0;
}

int
hz_xquery_run(hz_rtxn *t, const struct hz_query *q, const struct hz_qopts *o, struct hz_qres *r,
              struct hz_err *err)
{
    struct hz_xcells cells;
    struct hz_qres marg;
    struct xq_side sa, sb; /* filters on v1, on v2 */
    const char pre[3] = {(char)('A' + (int)q->xa), (char)('A' + (int)q->xb), 0};
    enum hz_prop pa = xq_prop(q->xa), pb = xq_prop(q->xb);
    int goal_pair = q->xa == HZ_DIM_GOAL || q->xb == HZ_DIM_GOAL;
    int need_cr = 0, need_lift = 0, rc, other_cells = 0, fresh;
    long other = -1;

    for (int i = 0; i < q->nmetrics; i++) {
        need_cr |= q->metrics[i] == HZ_M_CONVERSION_RATE;
        need_lift |= q->metrics[i] == HZ_M_LIFT;
    }
    hz_xcells_init(&cells);
    hz_qres_init(&marg);
    rc = hz_xscan_cells(t, q->site, pre, q->from, q->to, &cells);
    if (rc != 0) {
        hz_xcells_free(&cells);
        return hz_err_set(err, HZ_ESTORE, "store: cells: %s", hz_strerror(rc));
    }
    hz_xcells_drop_empty(&cells); /* all its rows outside the range, or not a cell */
    if (hz_store_first_day(t, q->site, HZ_DIM_CROSS, pre, 2, q->from, q->to, &r->xsince) != 0)
        r->xsince = -1;
    r->folded = hz_xcells_suppress(&cells,
                                   q->xa == HZ_DIM_REGION   ? 1
                                   : q->xb == HZ_DIM_REGION ? 2
                                                            : 0,
                                   o->min_visitors);
    if (need_cr && goal_pair) {
        enum hz_dim md = q->xa == HZ_DIM_GOAL ? q->xb : q->xa;
        rc = hz_store_dim_rows(t, q->site, md, q->from, q->to, xq_marg_cb, &marg);
        if (rc != 0) {
            hz_xcells_free(&cells);
            hz_qres_free(&marg);
            return hz_err_set(err, HZ_ESTORE, "store: marginal: %s", hz_strerror(rc));
        }
    }
    memset(&r->total, 0, sizeof(r->total));
    /* Cells are distinct pairs of values, so each gives a row of its own
     * (no lookup) with two dimensions, or with the other property pinned. */
    fresh = q->prop2 != HZ_P_NONE || xq_pinned(q, q->prop == pa ? pb : pa);
    xq_side_init(&sa, q, pa);
    xq_side_init(&sb, q, pb);
    if (fresh && q->kind == HZ_Q_BREAKDOWN && q->prop2 == HZ_P_NONE && !need_lift &&
        xq_slim_run(q, &cells, &marg, &sa, &sb, need_cr && goal_pair, r) == 0) {
        hz_xcells_free(&cells);
        hz_qres_free(&marg);
        return 0;
    }
    if (fresh && q->kind == HZ_Q_BREAKDOWN) /* room for every row at once, "(other)" too */
        hz_qres_reserve(r, cells.n + 1, cells.plen + sizeof(HZ_OTHER_VALUE));
    for (size_t i = 0; i < cells.n; i++) {
        const struct hz_xcell *cell = &cells.c[i];
        const char *v1 = hz_xcells_v1(&cells, i), *v2 = hz_xcells_v2(&cells, i);
        size_t l1 = cell->l1, l2 = cell->l2;
        if (cell->hidden && cell->dest != -1)
            continue; /* counted in its country cell */
        if (!xq_side_match(&sa, q, v1, l1) || !xq_side_match(&sb, q, v2, l2))
            continue;
        /* The non-goal value of the cell: its conversion-rate base. */
        const char *gv = q->xa == HZ_DIM_GOAL ? v2 : v1;
        size_t gl = q->xa == HZ_DIM_GOAL ? l2 : l1;
        long mi = need_cr && goal_pair ? hz_qres_find(&marg, gv, gl) : -1;
        uint64_t base = mi >= 0 ? marg.rows[mi].c.visitors : 0;
        if (q->kind == HZ_Q_AGGREGATE) {
            if (!cell->hidden) {
                r->total.c.visitors += cell->visitors;
                r->total.c.visits += cell->visits;
                r->total.c.pageviews += cell->pageviews;
                r->total.c.events += cell->events;
                r->total.cr_base += base;
            }
            continue;
        }
        size_t k;
        if (cell->hidden) {
            if (other < 0) {
                other = (long)hz_qres_row(r, HZ_OTHER_VALUE, strlen(HZ_OTHER_VALUE));
                r->rows[other].other = 1;
                r->rows[other].matched = 1;
                r->rows[other].dest = (int32_t)other;
            }
            k = (size_t)other;
            other_cells++;
        } else if (q->prop2 != HZ_P_NONE) {
            /* Two dimensions, in the question's order. */
            char key[2 * HZ_PAGE_MAX + 4];
            const char *f1 = q->prop == pa ? v1 : v2, *f2 = q->prop == pa ? v2 : v1;
            size_t g1 = q->prop == pa ? l1 : l2, g2 = q->prop == pa ? l2 : l1;
            if (g1 + g2 + 1 >= sizeof(key))
                continue;
            memcpy(key, f1, g1);
            key[g1] = HZ_CELL_SEP;
            memcpy(key + g1 + 1, f2, g2);
            k = fresh ? hz_qres_append(r, key, g1 + 1 + g2) : hz_qres_row(r, key, g1 + 1 + g2);
        } else {
            const char *bv = q->prop == pa ? v1 : v2;
            size_t bl = q->prop == pa ? l1 : l2;
            char key[HZ_PAGE_MAX];
            if (bl >= sizeof(key))
                continue;
            memcpy(key, bv, bl); /* cells' pool is not r's: no aliasing */
            /* A stored "(other)" value joins the folded cells' row. */
            if (fresh && !(bl == strlen(HZ_OTHER_VALUE) && memcmp(bv, HZ_OTHER_VALUE, bl) == 0))
                k = hz_qres_append(r, key, bl);
            else
                k = hz_qres_row(r, key, bl);
        }
        struct hz_qrow *row = &r->rows[k];
        row->matched = 1;
        row->dest = (int32_t)k;
        row->c.visitors += cell->visitors;
        row->c.visits += cell->visits;
        row->c.pageviews += cell->pageviews;
        row->c.events += cell->events;
        /* A row's base: the marginal of its own non-goal value once (a
         * breakdown by it), else the sum over the cells it gathers. */
        if (q->prop2 == HZ_P_NONE && q->prop != HZ_P_GOAL && !row->other)
            row->cr_base = base;
        else
            row->cr_base += base;
    }
    if (other >= 0 && other_cells == 1)
        r->rows[other].withheld = 1; /* one cell: its numbers would be the cell's */
    hz_xcells_free(&cells);
    hz_qres_free(&marg);
    for (int i = 0; i < q->nmetrics; i++)
        if (q->metrics[i] == HZ_M_LIFT && (rc = xq_lift(t, q, r)) != 0)
            return hz_err_set(err, HZ_ESTORE, "store: lift: %s", hz_strerror(rc));
    if (q->kind == HZ_Q_BREAKDOWN)
        hz_query_order(r, q);
    return 0;
}

int
hz_xquery_heat_dim(const char *name)
{
    if (strcmp(name, "time:weekday") == 0)
        return 1;
    if (strcmp(name, "time:hour_of_day") == 0)
        return 2;
    return 0;
}

struct xq_heat {
    uint64_t visits[7][24], pageviews[7][24];
};

static void
xq_heat_cb(int32_t hour, const struct hz_counts *c, void *arg)
{
    struct xq_heat *h = arg;
    int32_t day = hour >= 0 ? hour / 24 : (hour - 23) / 24;
    int wd = (int)(((day + 3) % 7 + 7) % 7); /* 0 = Monday: day 0 was a Thursday */
    int hr = (int)(hour - day * 24);

    h->visits[wd][hr] += c->visits;
    h->pageviews[wd][hr] += c->pageviews;
}

int
hz_xquery_heatmap(hz_rtxn *t, const struct hz_query *q, struct hz_qres *r, struct hz_err *err)
{
    struct xq_heat *h = hz_xcalloc(1, sizeof(*h));
    int rc = hz_store_hours(t, q->site, q->from * 24, q->to * 24 + 23, xq_heat_cb, h);

    if (rc != 0) {
        free(h);
        return hz_err_set(err, HZ_ESTORE, "store: hours: %s", hz_strerror(rc));
    }
    for (int wd = 0; wd < (q->heat & 1 ? 7 : 1); wd++)
        for (int hr = 0; hr < (q->heat & 2 ? 24 : 1); hr++) {
            char key[8];
            int n;
            uint64_t v = 0, p = 0;
            if (q->heat == 3)
                n = snprintf(key, sizeof(key), "%d\x1f%d", wd + 1, hr);
            else
                n = snprintf(key, sizeof(key), "%d", q->heat == 1 ? wd + 1 : hr);
            for (int a = 0; a < 7; a++)
                for (int b = 0; b < 24; b++)
                    if ((!(q->heat & 1) || a == wd) && (!(q->heat & 2) || b == hr)) {
                        v += h->visits[a][b];
                        p += h->pageviews[a][b];
                    }
            size_t k = hz_qres_row(r, key, (size_t)n);
            r->rows[k].c.visits = v;
            r->rows[k].c.pageviews = p;
            r->rows[k].matched = 1;
            r->rows[k].dest = (int32_t)k;
        }
    free(h);
    /* Natural order (Monday 0:00 first), all rows: a fixed grid. */
    free(r->order);
    r->order = hz_xcalloc(r->n + 1, sizeof(size_t));
    for (size_t i = 0; i < r->n; i++)
        r->order[i] = i;
    r->norder = r->total_rows = r->count = r->n;
    r->first = 0;
    return 0;
}

int
hz_xquery_cr_base(hz_rtxn *t, const struct hz_query *q, struct hz_qres *r, struct hz_err *err)
{
    struct hz_counts tot;
    int need = 0, rc;

    for (int i = 0; i < q->nmetrics; i++)
        need |= q->metrics[i] == HZ_M_CONVERSION_RATE;
    if (!need || q->xtab)
        return 0;
    if ((rc = hz_store_totals(t, q->site, r->from, r->to, &tot)) != 0)
        return hz_err_set(err, HZ_ESTORE, "store: totals: %s", hz_strerror(rc));
    r->total.cr_base = tot.visitors;
    for (size_t i = 0; i < r->n; i++)
        r->rows[i].cr_base = tot.visitors;
    return 0;
}

/* ------------------------------------------------------------ funnel_by */

int
hz_xquery_funnel_check(const struct hz_query *q, const struct hz_site *site, struct hz_err *err)
{
    const struct hz_filter *f = &q->filters[0];
    int d, ok = 0;

    if (q->nfilters == 0)
        return 0;
    d = xq_dim(f->prop);
    for (int i = 0; i < site->nfunnel_by; i++)
        ok |= (int)site->funnel_by[i] == d;
    if (q->nfilters > 1 || f->op != HZ_FOP_IS || f->nvalues != 1 || !ok) {
        char list[128];
        size_t n = 0;
        list[0] = '\0';
        for (int i = 0; i < site->nfunnel_by && n < sizeof(list) - 24; i++)
            n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
                                  hz_crosstab_prop_name(site->funnel_by[i]));
        return hz_err_set(err, HZ_EINVAL,
                          "filters: funnels are kept per %s (funnel_by); filter on one value "
                          "of one of them",
                          n > 0 ? list : "no property");
    }
    return 0;
}

const char *
hz_xquery_funnel_name(const struct hz_query *q, const struct hz_site *site, int f, char buf[64])
{
    const struct hz_filter *fl = &q->filters[0];
    int d;

    if (q->nfilters == 0 || (d = xq_dim(fl->prop)) < 0 ||
        hz_funnel_segment(buf, 64, site->funnels[f].name, (enum hz_dim)d, fl->values[0],
                          strlen(fl->values[0])) == 0)
        return site->funnels[f].name;
    return buf;
}

int
hz_xquery_funnel_notes(hz_rtxn *t, const struct hz_query *q, const struct hz_site *site,
                       struct hz_funnel_step_counts steps[][HZ_FUNNEL_STEPS_MAX],
                       uint64_t min_visitors, struct hz_funnel_note *notes)
{
    int rc = 0;

    for (int f = 0; f < site->nfunnels && rc == 0; f++) {
        const struct hz_funnel *fn = &site->funnels[f];
        struct hz_funnel_note *nt = &notes[f];
        uint64_t worst = 0;
        int ws = -1;

        memset(nt, 0, sizeof(*nt));
        if (q->funnel >= 0 && q->funnel != f)
            continue;
        if (q->nfilters > 0) {
            if (steps[f][0].visitors < min_visitors) {
                nt->withheld = 1; /* a small segment: no numbers at all */
                memset(steps[f], 0, sizeof(steps[f]));
            }
            continue;
        }
        for (int s = 1; s < fn->nsteps; s++) {
            uint64_t prev = steps[f][s - 1].visitors, v = steps[f][s].visitors;
            if (prev > v && prev - v > worst) {
                worst = prev - v;
                ws = s;
            }
        }
        if (ws < 0 || steps[f][ws - 1].visitors == 0)
            continue;
        double base = 100.0 * (double)worst / (double)steps[f][ws - 1].visitors;
        double best = base + 10.0;
        for (int i = 0; i < site->nfunnel_by && rc == 0; i++) {
            struct hz_qres vals;
            hz_qres_init(&vals);
            rc =
                hz_store_dim(t, q->site, site->funnel_by[i], q->from, q->to, xq_visitors_cb, &vals);
            for (size_t k = 0; rc == 0 && k < vals.n; k++) {
                struct hz_funnel_step_counts seg[HZ_FUNNEL_STEPS_MAX];
                char name[64];
                size_t vl;
                const char *v = hz_qres_value(&vals, k, &vl);
                if (vals.rows[k].c.visitors < min_visitors ||
                    hz_funnel_segment(name, sizeof(name), fn->name, site->funnel_by[i], v, vl) == 0)
                    continue;
                rc = hz_store_funnel(t, q->site, name, fn->nsteps, q->from, q->to, seg);
                uint64_t prev = seg[ws - 1].visitors, cur = seg[ws].visitors;
                if (rc != 0 || prev < min_visitors || cur > prev)
                    continue;
                double r = 100.0 * (double)(prev - cur) / (double)prev;
                if (r >= best && vl < sizeof(nt->value)) {
                    best = r;
                    nt->has_segment = 1;
                    nt->rate = round(r * 10.0) / 10.0;
                    (void)snprintf(nt->prop, sizeof(nt->prop), "%s",
                                   hz_crosstab_prop_name(site->funnel_by[i]));
                    memcpy(nt->value, v, vl);
                    nt->value[vl] = '\0';
                }
            }
            hz_qres_free(&vals);
        }
    }
    return rc;
}
