/* SPDX-License-Identifier: MIT */
/*
 * beacon.h - parsers for what a browser sends: the POST /api/event JSON
 * body (Plausible's events API shape) and the GET /p.gif query string.
 *
 * Pure: (buf, len) in; strings out point into the arena (copies, decoded,
 * NUL-terminated), freed with it. Validation is strict (reject, don't
 * repair): invalid UTF-8, NUL or control bytes in any string, wrong types,
 * out-of-range numbers, oversized fields, duplicate keys.
 *
 * JSON keys (unknown keys are ignored, like Plausible):
 *   n  event name (required): "pageview", "engagement", or a custom name
 *   u  page URL (required), absolute http(s)
 *   d  domain (required): the site as configured, may be "a.com,b.com" (first wins)
 *   r  referrer (string or null)        w  screen width (integer, optional)
 *   e  engagement time in ms (integer 0..86400000; required for "engagement")
 *   sd scroll depth (accepted, ignored) h  hash routing flag (0/1, optional)
 *   p  props: object (accepted and ignored: haze keeps no custom properties)
 *   i  interactive flag (accepted, ignored)
 * Pixel query (application/x-www-form-urlencoded): d, u, r, n (default
 * "pageview"), w; u may be absent (the caller then uses the Referer header).
 */
#ifndef HZ_COLLECTOR_BEACON_H
#define HZ_COLLECTOR_BEACON_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/mem.h"

#define HZ_BEACON_URL_MAX 2048
#define HZ_BEACON_NAME_MAX 120
#define HZ_BEACON_DOMAIN_MAX 255

struct hz_beacon {
    const char *name;     /* never NULL after success */
    const char *url;      /* NULL only from the pixel when u is absent */
    const char *domain;   /* the first domain of d */
    const char *referrer; /* NULL when absent or null */
    int width;            /* -1 when absent */
    int has_engaged;
    uint64_t engaged_ms;
    int hash_mode;
};

/* 0, or HZ_EINVAL / HZ_ETOOBIG with a one-line reason naming the field.
 * On error *out is untouched. */
int hz_beacon_parse_json(const char *body, size_t len, struct hz_arena *a, struct hz_beacon *out,
                         struct hz_err *err);
int hz_beacon_parse_query(const char *query, size_t len, struct hz_arena *a,
                          struct hz_beacon *out, struct hz_err *err);

#endif
