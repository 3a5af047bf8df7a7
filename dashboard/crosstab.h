/* SPDX-License-Identifier: MIT */
/*
 * crosstab.h - questions across two properties, answered from a site's
 * declared pairs ("crosstab =", common/groups.h), and conversion rates.
 *
 * A question names two properties when its filters and its breakdown (v1
 * filters + property; v2 filters + one or two dimensions) involve two
 * different properties. hz_xquery_plan finds the declared pair that covers
 * it, or refuses with a 400 naming the line that would answer it.
 *
 * Minimum crowd size across a pair (DESIGN.md privacy rule 5), applied to
 * the whole table of the pair over the range before any filter:
 *  1. a region cell under min_visitors first moves, with the other small
 *     region cells of its country in the same row, into a country cell
 *     ("DE-BY" -> "DE") when together they reach min_visitors;
 *  2. every cell still under min_visitors is suppressed (folds to
 *     "(other)");
 *  3. complementary suppression: while a row or a column of the table has
 *     exactly one suppressed cell, its smallest visible cell is suppressed
 *     too, so subtracting the shown cells from a one-property row (or
 *     from a total) never yields a single cell. When a question's
 *     "(other)" still holds only one cell (a row with no second cell), it
 *     is shown without numbers (withheld).
 * Filters are applied after this, so no filter can isolate a suppressed
 * cell either.
 */
#ifndef HZ_DASHBOARD_CROSSTAB_H
#define HZ_DASHBOARD_CROSSTAB_H

#include <stdint.h>

#include "common/cfg.h"
#include "common/funnel.h"
#include "common/err.h"
#include "common/store.h"
#include "dashboard/query.h"

/* After parsing: if q involves two properties, sets q->xtab and the pair,
 * or fails with HZ_EINVAL naming the missing "crosstab =" line; also checks
 * the metrics a pair can answer. One property: 0, q unchanged. */
int hz_xquery_plan(struct hz_query *q, const struct hz_site *site, struct hz_err *err);

/* Answers a q with q->xtab set: breakdown rows (one or two dimensions,
 * values "a" or "a\x1fb") or the aggregate in r->total. */
int hz_xquery_run(hz_rtxn *t, const struct hz_query *q, const struct hz_qopts *o, struct hz_qres *r,
                  struct hz_err *err);

/* conversion_rate of a one-property answer (event:goal breakdown or a
 * goal filter): sets cr_base of every row and of r->total to the site's
 * visitors over the range. */
int hz_xquery_cr_base(hz_rtxn *t, const struct hz_query *q, struct hz_qres *r, struct hz_err *err);

/*
 * The access-time heatmap (a documented extension of v2's time
 * dimensions): "time:weekday" (ISO 1 = Monday .. 7), "time:hour_of_day"
 * (0..23), or both, over the range in the site's time zone, summed from
 * the hour rows: visits and pageviews only (hourly visitors are per-hour
 * uniques, which do not add up). No filters: hour rows are site totals.
 */
/* 1 for "time:weekday", 2 for "time:hour_of_day", else 0. */
int hz_xquery_heat_dim(const char *name);
int hz_xquery_heatmap(hz_rtxn *t, const struct hz_query *q, struct hz_qres *r, struct hz_err *err);

/* ------------------------------------------------------------ funnel_by */

/* What a funnel's answer adds for segments (funnel_by). */
struct hz_funnel_note {
    int withheld;    /* a filtered funnel whose first step is under min_visitors */
    int has_segment; /* the biggest drop stands out in one segment */
    char prop[24];   /* "visit:device" */
    char value[128]; /* "mobile" */
    double rate;     /* that segment's drop rate at the biggest-drop step, % */
};

/* Checks a funnels question's filters: none, or one "is" filter with one
 * value on one of the site's funnel_by properties. 0 or HZ_EINVAL. */
int hz_xquery_funnel_check(const struct hz_query *q, const struct hz_site *site,
                           struct hz_err *err);
/* The store name of funnel f for q: the funnel's, or its segment's. */
const char *hz_xquery_funnel_name(const struct hz_query *q, const struct hz_site *site, int f,
                                  char buf[64]);
/* After the steps are read: withholds a small segment, and for an
 * unfiltered funnel names the segment (among each funnel_by property's
 * values with min_visitors visitors) whose drop rate at the biggest-drop
 * step is highest, when it is at least 10 points above the funnel's. */
int hz_xquery_funnel_notes(hz_rtxn *t, const struct hz_query *q, const struct hz_site *site,
                           struct hz_funnel_step_counts steps[][HZ_FUNNEL_STEPS_MAX],
                           uint64_t min_visitors, struct hz_funnel_note *notes);

/* The pure suppression of a pair's table: cells are the rows of r with
 * values "v1\x1fv2" (r->rows[i].c.visitors); region_side: 0 none, 1 the
 * first value is a region, 2 the second. Suppressed cells get hidden = 1
 * and dest = -1; region cells moved into a country cell get hidden = 1 and
 * dest = that cell. Returns the number of cells suppressed. */
uint64_t hz_xquery_suppress(struct hz_qres *r, int region_side, uint64_t min_visitors);

#endif
