/* SPDX-License-Identifier: MIT */
/*
 * crosstab.h - the counting rules of page groups, goals and declared
 * cross-tab cells (issue 11), called from fold.c's hit handlers. No I/O:
 * deltas go to the write transaction like every other row.
 *
 *  - event:group (GROUP rows): a pageview of a page in group G adds
 *    pageviews 1, visitors 1 the first time today, visits 1 the first time
 *    in the visit; an engagement sample on such a page adds engaged_ms and
 *    events. The group of a visit's entry page gets the visit-level counts
 *    (ENTRY_GROUP rows, as ENTRY), for bounce rate and visit duration.
 *  - event:goal (GOAL rows): each goal a hit reaches (a pageview matching a
 *    page goal, a custom event matching an event goal) adds events 1,
 *    visitors 1 the first time today, visits 1 the first time in the visit.
 *  - Cells (CROSS rows), for each declared pair whose two values the hit
 *    has: a pair with event:goal counts goal completions (events),
 *    one with event:name custom events (events), any other pair pageviews.
 *    Visitors are unique per day and cell, visits per visit and cell.
 *    Visit-level values come from the visit the hit belongs to; a custom
 *    event outside a visit has none and adds no cell of a visit property.
 *    Cells go to the hit's own day (and its month).
 */
#ifndef HZ_AGGREGATOR_CROSSTAB_H
#define HZ_AGGREGATOR_CROSSTAB_H

#include "aggregator/session.h"
#include "common/cfg.h"
#include "common/record.h"
#include "common/store.h"

/* A pageview r of site, s already updated for it (its visit is current). */
int hz_xfold_pageview(hz_wtxn *w, const struct hz_site *site, struct hz_session *s,
                      const struct hz_record *r, int32_t day, int today);
/* A custom event r; active: it belongs to s's current visit. */
int hz_xfold_event(hz_wtxn *w, const struct hz_site *site, struct hz_session *s,
                   const struct hz_record *r, int32_t day, int today, int active);
/* An engagement sample of r->ms on r->page. */
int hz_xfold_engaged(hz_wtxn *w, const struct hz_site *site, const struct hz_record *r,
                     int32_t day);
/* The visit-level deltas vc of s's visit to its entry page's group (start
 * day); count_visitor: a visit start on the seen set's day. */
int hz_xfold_visit(hz_wtxn *w, const struct hz_site *site, struct hz_session *s,
                   const struct hz_counts *vc, int count_visitor);

/* Funnel step step of funnel reached by s's visit: also counted for the
 * visit's value of each funnel_by property (hz_funnel_segment names). */
int hz_xfold_funnel(hz_wtxn *w, const struct hz_site *site, const struct hz_session *s,
                    const char *funnel, int step, int has_time, uint64_t ms);

#endif
