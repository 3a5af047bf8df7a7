/* SPDX-License-Identifier: MIT */
/*
 * pipeline.h - one hit through the collector's named steps (DESIGN.md):
 * parse and size limits -> known site -> DNT/GPC -> bot -> client address
 * (trusted proxies only) -> region (geo) -> URL scrubbing -> browser/OS/
 * device families -> visitor hash -> a stream record.
 *
 * Each step may drop the hit with a named reason (counted, and shown to the
 * site owner as filtered traffic). The raw address and user agent exist
 * only in the caller's request and this call's stack frame, and are wiped
 * here before returning: the record that comes out holds neither.
 * No I/O: the caller parses the body and sends the record.
 */
#ifndef HZ_COLLECTOR_PIPELINE_H
#define HZ_COLLECTOR_PIPELINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "collector/beacon.h"
#include "collector/proxy.h"
#include "collector/ua.h"
#include "collector/visitor.h"
#include "common/cfg.h"
#include "common/err.h"
#include "common/record.h"
#include "geo/geo.h"

/* Why a hit was not counted. Names are stable: metrics labels and the
 * dashboard's filtered-traffic panel use them. */
enum hz_drop {
    HZ_DROP_NONE = 0,
    HZ_DROP_INVALID,       /* malformed request, body, URL or header: 4xx */
    HZ_DROP_TOO_BIG,       /* over a size limit: 413/414/431 */
    HZ_DROP_UNKNOWN_SITE,  /* d is not a configured site: 403 */
    HZ_DROP_HOST,          /* the page's host is not the site: 400 */
    HZ_DROP_DNT,           /* DNT: 1 or Sec-GPC: 1 honoured: 202, not counted */
    HZ_DROP_BOT,           /* crawler, monitor, headless, library: 202, not counted */
    HZ_DROP_SPOOL_FULL,    /* Redis down and the spool full: 503 */
    HZ_DROP_UNTRUSTED_XFF, /* a sender that is no browser set X-Forwarded-For or Forwarded
                            * and is not in trusted_proxies: 400 (see hz_pipeline_run) */
    HZ_DROP_COUNT
};

const char *hz_drop_name(enum hz_drop d);

/* What the HTTP layer extracted from one request. Header pointers borrow
 * the request and may be NULL when absent. */
struct hz_hit_in {
    const struct sockaddr *peer;
    /* Every X-Forwarded-For and Forwarded line in order (proxy.h); when
     * nlines is 0, the single xff / fwd lines below are read instead. */
    const struct hz_proxy_line *lines;
    int nlines;
    const char *xff;
    size_t xff_len;
    const char *fwd;
    size_t fwd_len;
    const char *raw_ua;
    size_t ua_len;
    struct hz_ua_hints ua_hints; /* Sec-CH-UA-Mobile / -Platform; zero: not sent */
    const char *referer;         /* the Referer header: the pixel's page fallback */
    size_t referer_len;
    /* Fetch metadata only a browser sends: Sec-Fetch-Mode or Origin (a
     * script cannot set or remove them). */
    int browser_fetch;
    int dnt; /* DNT: 1 */
    int gpc; /* Sec-GPC: 1 */
    int pixel;
    uint64_t now_ms;
    const struct hz_beacon *b;
};

/* Long-lived inputs, shared read-only by a thread (the cache is per thread). */
struct hz_pipeline {
    const struct hz_config *cfg;
    const hz_geo *geo;
    struct hz_ua_cache *ua_cache; /* may be NULL */
    const struct hz_salts *salts;
    long session_ms; /* the midnight window for the previous salt */
    /* Hit ids: SipHash of a per-thread random key over a per-thread
     * counter (unique and unguessable without a syscall per hit). */
    const unsigned char *id_key; /* HZ_SIPHASH_KEY bytes */
    uint64_t *id_seq;
};

/*
 * The client-address step and server-side senders: a backend that sends
 * events for its visitors (Plausible's Events API) names each visitor in
 * X-Forwarded-For, and haze reads that only from trusted_proxies. When an
 * event (not the pixel) arrives from an untrusted address with an
 * X-Forwarded-For or Forwarded header and without a browser's fetch
 * metadata, it is a backend that is not listed: counting it would merge
 * all its visitors into one (its own address) in its own place, so it is
 * refused with a 400 saying what to do, and counted as filtered traffic
 * ("untrusted_xff"). A browser behind a forward proxy that adds the header
 * carries fetch metadata: it is counted as before, from the address it
 * connected from.
 *
 * Runs the steps. Returns 0 and fills *out; or HZ_EFILTERED with *drop set
 * (answer 202, count, store nothing); or HZ_EINVAL / HZ_ENOSITE with *drop
 * set and a one-line reason in err (answer 400 / 403). *out is built in
 * place (no copy of the large record): on any error it is left zeroed. */
int hz_pipeline_run(const struct hz_pipeline *p, const struct hz_hit_in *in, struct hz_record *out,
                    enum hz_drop *drop, struct hz_err *err);

#endif
