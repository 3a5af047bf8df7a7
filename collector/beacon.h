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
 * JSON keys (unknown keys are ignored, like Plausible), short or long
 * (Plausible's Events API documents the long ones; giving both spellings of
 * one field is refused as ambiguous):
 *   n  name        event name (required): "pageview", "engagement", or custom
 *   u  url         page URL (required): absolute http(s), or an app's scheme
 *   d  domain      the site as configured, may be "a.com,b.com" (first wins)
 *   r  referrer    string or null       w  screen width (integer, optional)
 *   e  engagement time in ms (integer 0..86400000; required for "engagement")
 *   sd scroll depth, percent (integer or null; over 100 is 100)
 *   h  hash routing flag (0/1, optional)
 *   p  props       custom properties: an object, or a JSON string holding
 *                  one (as Plausible accepts); values are strings, numbers
 *                  or booleans (null is dropped); at most
 *                  HZ_BEACON_PROPS_MAX, keys up to 300 bytes, values up to
 *                  2000 (Plausible's limits). Kept as given here; the
 *                  collector keeps only the site's allow-list (props =).
 *   i  interactive false: the event does not end a bounce
 * Pixel query (application/x-www-form-urlencoded): d, u, r, n (default
 * "pageview"), w; u may be absent (the caller then uses the Referer header).
 */
#ifndef HZ_COLLECTOR_BEACON_H
#define HZ_COLLECTOR_BEACON_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/mem.h"

/* Byte caps on the decoded strings; a longer field is HZ_ETOOBIG. */
#define HZ_BEACON_URL_MAX      2048     /* u, and the whole of d */
#define HZ_BEACON_NAME_MAX     120      /* n */
#define HZ_BEACON_DOMAIN_MAX   255      /* the first domain of d */
#define HZ_BEACON_REFERRER_MAX 2048     /* r */
#define HZ_BEACON_WIDTH_MAX    100000   /* w: 0..this */
#define HZ_BEACON_ENGAGED_MAX  86400000 /* e: 0..this (one day in ms) */

#define HZ_BEACON_BODY_MAX  65536 /* JSON body, whatever the caller allows */
#define HZ_BEACON_DEPTH_MAX 16    /* JSON nesting (the top-level object is 1) */
#define HZ_BEACON_QUERY_MAX 16384 /* pixel query: longer is HZ_ETOOLONGURL */

#define HZ_BEACON_PROPS_MAX       30   /* props per event (Plausible's) */
#define HZ_BEACON_PROP_KEY_MAX    300  /* bytes of a prop name (Plausible's) */
#define HZ_BEACON_PROP_VALUE_MAX  2000 /* bytes of a prop value (Plausible's) */
#define HZ_BEACON_PROP_KEY_KEEP   64   /* longer names are never allow-listed: not copied */
#define HZ_BEACON_PROP_VALUE_KEEP 127  /* values are copied cut to this (UTF-8 boundary) */

/* An arena with at least this much free space always holds one beacon's
 * strings (each cap plus a NUL and alignment). */
#define HZ_BEACON_ARENA_MIN 11264

struct hz_beacon {
    const char *name;     /* never NULL after success */
    const char *url;      /* NULL only from the pixel when u is absent */
    const char *domain;   /* the first domain of d */
    const char *referrer; /* NULL when absent or null */
    int width;            /* -1 when absent */
    int has_engaged;      /* 1 when e was given */
    uint64_t engaged_ms;  /* e, or 0 */
    int hash_mode;        /* h: 1 or true; else 0 */
    int interactive;      /* 0 only for i/interactive: false */
    int scroll_depth;     /* sd 0..100, -1 when absent or null */
    int nprops;
    struct hz_beacon_prop {
        const char *key;   /* NULL when over HZ_BEACON_PROP_KEY_KEEP bytes */
        const char *value; /* text; cut to HZ_BEACON_PROP_VALUE_KEEP bytes */
    } props[HZ_BEACON_PROPS_MAX];
};

/*
 * Both parsers return 0, or a code with a one-line reason in err (if not
 * NULL) that names the field or the part ("u: not a string", "body:
 * duplicate key") and never echoes the client's bytes:
 *   HZ_EINVAL       malformed: bad JSON (syntax, invalid UTF-8, \u0000,
 *                   duplicate key, trailing data, nesting over
 *                   HZ_BEACON_DEPTH_MAX), wrong type, missing or empty
 *                   field, number out of range, invalid text, bad escape,
 *                   "engagement" without e
 *   HZ_ETOOBIG      a field over its cap, or a body over HZ_BEACON_BODY_MAX
 *   HZ_ETOOLONGURL  a query over HZ_BEACON_QUERY_MAX (parse_query only)
 *   ENOMEM          the arena is full (see HZ_BEACON_ARENA_MIN), or jansson
 *                   could not allocate: the server's fault, not the client's
 * On error *out and the arena are untouched (a->used is restored). On
 * success the strings in *out live in a and are valid until it is reset.
 *
 * Strings are checked with hz_text_valid (UTF-8, no NUL, no control
 * characters). r "" means the same as null. d is a comma-separated list:
 * domain is its first entry with surrounding spaces removed. e, when
 * present, sets has_engaged and engaged_ms whatever n is. i is a boolean,
 * sd an integer >= 0 or null (JSON.stringify turns a NaN depth into null),
 * p an object, a JSON string holding an object, or null; unknown keys
 * (Plausible's v, m, $) are ignored.
 * Reentrant. A flat body of plain ASCII strings and small integers (what
 * haze.js and Plausible's script send) is read without allocating; any
 * other body goes to jansson, which mallocs while parsing and frees before
 * returning; it seeds its hash function from /dev/urandom on first use, so
 * a sandboxed caller calls json_object_seed(0) before it restricts itself.
 */
int hz_beacon_parse_json(const char *body, size_t len, struct hz_arena *a, struct hz_beacon *out,
                         struct hz_err *err);
/* The same through jansson alone, for every body: what the fast path must
 * agree with (the fuzzer and the unit tests compare the two). */
int hz_beacon_parse_json_jansson(const char *body, size_t len, struct hz_arena *a,
                                 struct hz_beacon *out, struct hz_err *err);

/*
 * The query of GET /p.gif (without the '?'): pairs split on '&', key and
 * value split on the first '=', both percent-decoded strictly ('+' is a
 * space; a '%' without two hex digits anywhere in the query is HZ_EINVAL).
 * Known keys d, u, r, n, w: each at most once (a repeat is HZ_EINVAL);
 * unknown keys and empty pairs are ignored. d is required; n defaults to
 * "pageview" (and may not be "engagement": the pixel carries no time); u
 * may be absent (url NULL); w is decimal digits in 0..HZ_BEACON_WIDTH_MAX.
 * Same caps, text rules and error contract as hz_beacon_parse_json.
 */
int hz_beacon_parse_query(const char *query, size_t len, struct hz_arena *a, struct hz_beacon *out,
                          struct hz_err *err);

#endif
