/* SPDX-License-Identifier: MIT */
/*
 * http.h - the collector's HTTP side: one worker per thread, each with its
 * own event loop, HTTP front (front.h) on its own SO_REUSEPORT listener, Redis publisher
 * and UA cache. Endpoints (DESIGN.md "Collector endpoints"):
 *
 *   GET  /haze.js      the tracker, embedded at build time, with an ETag
 *   POST /api/event    JSON body (text/plain or application/json): 202
 *   GET  /p.gif        the pixel: 1x1 GIF, Cache-Control: no-store
 *   GET  /healthz      200 "ok" (and whether Redis is connected)
 *   GET  /metrics      Prometheus text
 *
 * Bad input gets a 4xx with a one-line reason and is not counted. The
 * limits ([collector] max_url, max_headers, max_body, timeout_ms,
 * request_timeout_ms, max_connections) are the front's.
 */
#ifndef HZ_COLLECTOR_HTTP_H
#define HZ_COLLECTOR_HTTP_H

#include <pthread.h>

#include <event2/util.h>

#include "common/cfg.h"
#include "common/tls.h"
#include "common/err.h"
#include "geo/geo.h"

typedef struct hz_worker hz_worker;

/* Binds a SO_REUSEPORT listener for cfg->collector_listen. Returns the
 * socket, or -1 with err filled in. */
evutil_socket_t hz_http_listen(const struct hz_config *cfg, struct hz_err *err);

/* Creates worker id (event base, front on fd, publisher: connects to
 * Redis, waiting up to retry_ms, then spooling until it is up). 0 or an
 * error with err->msg. */
int hz_worker_new(hz_worker **out, const struct hz_config *cfg, const hz_geo *geo,
                  evutil_socket_t fd, int id, int nthreads, long retry_ms, struct hz_err *err);
/* Serves HTTPS with tls (common/tls.c) from now on; call before
 * hz_worker_run. tls is borrowed and must outlive w. */
void hz_worker_set_tls(hz_worker *w, hz_tls *tls);
/* Runs the worker's loop until hz_worker_stop; pthread start routine. */
void *hz_worker_run(void *w);
/* Asks the worker to stop (thread-safe): it stops accepting, answers the
 * requests in flight (bounded wait), syncs its spool and returns. */
void hz_worker_stop(hz_worker *w);
void hz_worker_free(hz_worker *w);

/* Maps a haze code to an HTTP status (400/403/413/414/431/503). */
int hz_http_status(int rc);

#endif
