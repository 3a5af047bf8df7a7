/* SPDX-License-Identifier: MIT */
/*
 * fold.h - turns one validated record plus its visitor's state into store
 * deltas (hz_store_add*) and the visitor's next state. No I/O of its own:
 * consume.c loads and saves the states and owns the write transaction, so
 * this is where the counting rules live and can be read in one place.
 *
 * The rules (README "aggregator" section has the user-facing version):
 *  - A pageview continues the visit when it comes at most session_minutes
 *    after the visit's last hit (pageview, custom event or engagement),
 *    otherwise it starts a new visit. Only pageviews start visits.
 *  - Visit-level counts (visits, nonbounce, duration, and the pageviews of
 *    the visit-level dimensions ENTRY, SOURCE, UTM_*, COUNTRY, REGION,
 *    BROWSER, OS, DEVICE, BROWSER_VERSION, OS_VERSION) go to the visit's start day, in the site's
 * time zone: a visit across local midnight is one visit of its first day. Pageviews of TOTAL and
 * PAGE, events, engaged time and transitions go to the day of the hit itself.
 *  - nonbounce +1 when a visit gets its 2nd pageview or, before that, an
 *    interactive custom event (one not sent with interactive: false), once
 *    per visit (bounces = visits - nonbounce). Duration: each hit adds its gap to the previous hit
 * of the visit. PAGE outs +1 (on the earlier pageview's day) when a pageview is followed by another
 * in the same visit (exits = pageviews - outs), and a transition from -> to is counted on the later
 * pageview's day.
 *  - Unique visitors: +1 for (dim, value) the first time the visitor is seen
 *    with it on that local day (the day-seen set). Visit-level dims count
 *    the visitor when a visit starts; TOTAL, PAGE and EVENT on every hit.
 *    Hours: visitors (first hit in that local hour), visits (started in
 *    it), pageviews.
 *  - Engagement events add one engaged-time sample to the page's histogram
 *    and engaged_ms/events to its PAGE row, and their scroll depth (when
 *    sent) to the page's scroll histogram.
 *  - Custom props (the allow-list's) add a row per prop value in their own
 *    dimension; props dropped are counted as filtered traffic. A pixel pageview gets the gap to
 *    the next pageview of the visit (capped at HZ_FOLD_PIXEL_CAP_MS) as its
 *    sample; if the visit ends there, it gets none.
 *  - Visits (and a visit's dimension values) are added when the visit
 *    starts, so the cardinality cap sees values in stream order; the later
 *    visit-level deltas are summed in the state and added once per batch
 *    (hz_fold_flush): the same totals with a tenth of the row updates.
 *  - Funnels advance per visit: a hit matching the next step (pageview ->
 *    path, custom event -> name) reaches it; counted on the visit's start
 *    day with the time since the previous step.
 */
#ifndef HZ_AGGREGATOR_FOLD_H
#define HZ_AGGREGATOR_FOLD_H

#include <stdint.h>

#include "aggregator/session.h"
#include "common/cfg.h"
#include "common/record.h"
#include "common/store.h"
#include "common/tz.h"

#define HZ_FOLD_PIXEL_CAP_MS (30ULL * 60 * 1000)
#define HZ_FOLD_DIRECT       "Direct / None"    /* SOURCE of a visit without one */
#define HZ_FOLD_PROP_DROPPED "prop_not_allowed" /* drop reason of props off the allow-list */
#define HZ_FOLD_NOT_SET      "(not set)"        /* a version row's major when the UA named none */

/* A configured site, its time zone cache, and the site's TOTAL-by-day and
 * hour rows summed over the current run of hits (most hits of a batch share
 * the day and hour), added when the day or hour changes and at
 * hz_fold_site_flush. */
struct hz_fold_site {
    const struct hz_site *site;
    struct hz_tz tz;
    int32_t acc_day, acc_hour; /* -1: nothing summed */
    struct hz_counts acc_total, acc_hr;
};

void hz_fold_site_init(struct hz_fold_site *fs, const struct hz_site *site);
/* Adds the summed rows; call before the batch commits. 0 or a store error. */
int hz_fold_site_flush(hz_wtxn *w, struct hz_fold_site *fs);
/* Forgets the summed rows (their batch was aborted). */
void hz_fold_site_reset(struct hz_fold_site *fs);

/* Folds a pageview, custom event or engagement record r of site fs for the
 * visitor whose state is s (all zero for a visitor without state) into w,
 * and updates s. 0, or an error of hz_store_add* (HZ_EINVAL: a value the
 * store refuses; the caller counts the entry as malformed). */
int hz_fold_record(hz_wtxn *w, struct hz_fold_site *fs, uint64_t session_ms,
                   const struct hz_record *r, struct hz_session *s);

/* Adds s's pending visit-level deltas (s->pend) to the rows of its visit
 * and clears them. Called when a visit ends and for every state a batch
 * touched, before the batch commits. 0 or an error of hz_store_add. */
int hz_fold_flush(hz_wtxn *w, struct hz_fold_site *fs, struct hz_session *s);

/* Folds a drop summary: count into DROP (site, day, reason). */
int hz_fold_drop(hz_wtxn *w, const char *site, int32_t day, const char *reason, uint64_t count);

/* Milliseconds the state must live in Redis after its last hit of any kind
 * (pageview, event, engagement): rest of that hit's local day + session. */
uint64_t hz_fold_ttl_ms(struct hz_fold_site *fs, uint64_t session_ms, const struct hz_session *s);

#endif
