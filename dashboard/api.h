/* SPDX-License-Identifier: MIT */
/*
 * api.h - the stats API's two shapes over one engine (query.h): parsing a
 * Plausible v1 query string or a v2 JSON body into a struct hz_query, and
 * rendering answers as v1 JSON, v2 JSON or CSV. Pure: no socket, no store,
 * no globals; "now" is passed in. These are what the fuzzer drives.
 *
 * Every parse error is HZ_EINVAL with a one-line err->msg that starts with
 * the parameter's name ("metrics: unknown metric"), for a 400 answer. Only
 * names haze defines are echoed back, never request bytes.
 */
#ifndef HZ_DASHBOARD_API_H
#define HZ_DASHBOARD_API_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/err.h"
#include "common/store.h"
#include "dashboard/crosstab.h"
#include "dashboard/csv.h"
#include "dashboard/jsonw.h"
#include "dashboard/query.h"

enum hz_api_route {
    HZ_API_AGGREGATE = 0, /* GET /api/v1/stats/aggregate */
    HZ_API_TIMESERIES,    /* GET /api/v1/stats/timeseries */
    HZ_API_BREAKDOWN,     /* GET /api/v1/stats/breakdown */
    HZ_API_REALTIME,      /* GET /api/v1/stats/realtime/visitors */
    HZ_API_FUNNELS,       /* GET /api/v1/funnels */
    HZ_API_PATHS,         /* GET /api/v1/paths */
    HZ_API_FILTERED,      /* GET /api/v1/filtered (haze: filtered traffic) */
    HZ_API_SITES,         /* GET /api/v1/sites (Plausible's shape: domain, timezone) */
    HZ_API_V2,            /* POST /api/v2/query */
    HZ_API_AUDIT,         /* GET /api/v1/audit (haze: the access log, admin scope) */
    HZ_API_HAZE_SITES,    /* GET /api/haze/sites (haze: sites, funnels, today) */
};

/* The body of Plausible's 401 for an unknown site (or a bad key): the
 * parsers return HZ_ENOTFOUND with this message. */
#define HZ_API_BAD_SITE                                                                            \
    "Invalid API key or site ID. Please make sure you're using a valid API key with access to "    \
    "the site you've requested."

/* Caps on what is parsed at all (before any other check). */
#define HZ_API_QUERY_MAX 4096  /* bytes of a query string */
#define HZ_API_BODY_MAX  16384 /* bytes of a v2 body */

/*
 * Parses the query string (qs, len) (without '?') of a v1 route. cfg gives
 * the sites, retention_days and min_visitors; now (unix seconds) gives
 * "today" in the site's time zone. On success q is complete: site, range
 * (checked against retention), metrics checked against the property,
 * filters checked for cross-tabs. 0 or HZ_EINVAL (err names the parameter),
 * or HZ_ENOTFOUND for an unknown site (err->msg is HZ_API_BAD_SITE: a 401).
 */
int hz_api_parse_v1(enum hz_api_route route, const char *qs, size_t len,
                    const struct hz_config *cfg, int64_t now, struct hz_query *q,
                    struct hz_err *err);

/* Parses a v2 query body (JSON) the same way. 0 or HZ_EINVAL. */
int hz_api_parse_v2(const char *body, size_t len, const struct hz_config *cfg, int64_t now,
                    struct hz_query *q, struct hz_err *err);

/* Local day number of unix time now in time zone tz. */
int32_t hz_api_today(const char *tz, int64_t now);

/* ------------------------------------------------------------ rendering */

/* {"error":"msg"} */
void hz_api_error(struct hz_jsonw *w, const char *msg);

/* v1 shapes: aggregate {"results":{"visitors":{"value":N[,"change":C]}}},
 * timeseries {"results":[{"date":..,"visitors":..}]}, breakdown
 * {"results":[{"page":..,"visitors":..}],"folded":N}. */
void hz_api_v1(struct hz_jsonw *w, const struct hz_query *q, const struct hz_qres *r);
/* A breakdown as CSV: header row (property short name, metrics), then rows. */
void hz_api_csv(struct hz_csv *c, const struct hz_query *q, const struct hz_qres *r);
/* v2 shape: {"results":[{"dimensions":[..],"metrics":[..]}],"meta":{..},"query":{..}}. */
void hz_api_v2(struct hz_jsonw *w, const struct hz_query *q, const struct hz_qres *r,
               uint64_t min_visitors);

/* Funnels of one site: steps[f][s] for each funnel f rendered (all when
 * q->funnel < 0, else only that one). */
void hz_api_funnels(struct hz_jsonw *w, const struct hz_query *q, const struct hz_site *site,
                    struct hz_funnel_step_counts steps[][HZ_FUNNEL_STEPS_MAX]);
/* The same with funnel_by notes per funnel (dashboard/crosstab.h; NULL: none). */
void hz_api_funnels_seg(struct hz_jsonw *w, const struct hz_query *q, const struct hz_site *site,
                        struct hz_funnel_step_counts steps[][HZ_FUNNEL_STEPS_MAX],
                        const struct hz_funnel_note *notes);
void hz_api_paths(struct hz_jsonw *w, const struct hz_query *q, const struct hz_paths *p);
/* Filtered traffic: the site's drop rows (in site->order, see
 * hz_query_order) and the unknown-site ("*") rows, summed. */
void hz_api_filtered(struct hz_jsonw *w, const struct hz_query *q, const struct hz_qres *site,
                     const struct hz_qres *unknown);
void hz_api_realtime(struct hz_jsonw *w, uint64_t visitors);
/* GET /api/v1/sites, Plausible's shape, listing the sites whose bit
 * (cfg->sites index) is set in mask (what the token may see):
 * {"sites":[{"domain":..,"timezone":..}],"meta":{"after":null,"before":null,"limit":N}}. */
void hz_api_sites(struct hz_jsonw *w, const struct hz_config *cfg, unsigned long long mask);
/* GET /api/haze/sites: haze's own listing (zone, today, funnels, groups,
 * goals, pairs, thresholds) that the dashboard page builds its pickers
 * from; the same mask. audit: this token may read the access log (an admin
 * token, and an audit log is configured), so the page shows it. */
void hz_api_haze_sites(struct hz_jsonw *w, const struct hz_config *cfg, int64_t now,
                       unsigned long long mask, int audit);
/* GET /privacy.json: every stored field, its granularity, retention and thresholds. */
void hz_api_privacy(struct hz_jsonw *w, const struct hz_config *cfg);

/* The site named in CSV download names: [A-Za-z0-9.-] kept, others '_'. */
void hz_api_csv_filename(char *out, size_t cap, const struct hz_query *q);

#endif
