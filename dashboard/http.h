/* SPDX-License-Identifier: MIT */
/*
 * http.h - haze-dashboard's HTTP side over libevent's evhttp: routing,
 * authentication, limits, security headers, embedded assets, and the glue
 * from a request to api.c (parse, render) and query.c (answer).
 *
 * Access (dashboard/auth.c): every /api/ request and /metrics needs
 * "Authorization: Bearer <token>" of a [token NAME] (or the [dashboard]
 * token, the admin token "default") or the session cookie set by POST
 * /login. Each login gets its own random session id; POST /logout ends it
 * on the server. A token reads only its sites (others are 401, as unknown
 * ones are) and only an admin token reads the audit log and /metrics.
 * Failed logins and wrong bearer tokens are limited per client address
 * (429 with Retry-After). POST /login and /logout from another site are
 * refused (Sec-Fetch-Site, else Origin). The cookie is HttpOnly and
 * SameSite=Strict (plus Secure with TLS), which is also the CSRF defence
 * for the page's own POST /api/v2/query. Every authenticated request,
 * login, logout and failed login goes to the audit log (audit.c) when one
 * is configured. GET /privacy.json and the page's assets are public. The
 * page itself holds no data until it logs in.
 *
 * TLS (common/tls.c): with [dashboard] tls_cert and tls_key every
 * connection is HTTPS and every answer carries HSTS.
 *
 * Limits are set explicitly (libevent 2.1's defaults are unlimited): 8 KiB
 * of headers, a 16 KiB body, 10 s timeouts; a known path asked with a
 * method it does not take gets 405 with Allow. libevent 2.1 has no per-request hook before
 * the body is read, so requests without a valid token are held to smaller
 * limits in the handler: a 1 KiB request target and a 512-byte login form.
 *
 * The store snapshot is per request. The aggregator's retention compacts
 * the environment by renaming a new data.mdb over the old one, so before a
 * request the inode of <lmdb>/data.mdb is checked (at most once a second)
 * and the store is reopened when it changed. Single-threaded: one event
 * loop serves every connection (a large pair question shares its store
 * read with one helper thread within the request: xscan.h).
 */
#ifndef HZ_DASHBOARD_HTTP_H
#define HZ_DASHBOARD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/asset.h"
#include "common/cfg.h"
#include "common/err.h"
#include "common/store.h"

struct event_base;

typedef struct hz_dash hz_dash;

#define HZ_DASH_HEADERS_MAX     8192
#define HZ_DASH_BODY_MAX        16384
#define HZ_DASH_TIMEOUT_S       10
#define HZ_DASH_PREAUTH_URI_MAX 1024
#define HZ_DASH_LOGIN_BODY_MAX  512
#define HZ_DASH_COOKIE          "haze_session"

/*
 * Creates the server on base. cfg and assets are borrowed and must outlive
 * it; store is owned from now on (closed by hz_dash_free, replaced when the
 * file is swapped). store may be NULL when the aggregator has not written
 * anything yet: the API then answers empty results with the header
 * "X-Haze-Store: waiting", and the store is opened when it appears
 * (checked at most once a second). 0, or an error with err filled in.
 */
int hz_dash_new(hz_dash **out, struct event_base *base, const struct hz_config *cfg,
                const struct hz_asset *assets, hz_store *store, struct hz_err *err);
/* Hands over a store opened after hz_dash_new (the dashboard had none). */
void hz_dash_set_store(hz_dash *d, hz_store *store);
/* Binds cfg's [dashboard] listen address. 0, or errno/HZ_EINVAL with err. */
int hz_dash_bind(hz_dash *d, struct hz_err *err);
/* SIGHUP: loads tls_cert and tls_key again; open connections keep the
 * old ones. 0 (or no TLS), or HZ_ECONFIG with err (old ones kept). */
int hz_dash_reload_tls(hz_dash *d, struct hz_err *err);
/* Stops accepting new connections (SIGTERM); requests in flight finish. */
void hz_dash_stop(hz_dash *d);
/* Frees the server, its connections and the store. NULL is a no-op. */
void hz_dash_free(hz_dash *d);

/* ------------------------------------------------------------ pure helpers */

/* Finds cookie name in a Cookie header value; points (*val, *len) into it.
 * 1 if found, 0 otherwise. */
int hz_dash_cookie(const char *header, const char *name, const char **val, size_t *len);

/* 1 if a browser's POST may come from the page itself: Sec-Fetch-Site,
 * when sent, decides (same-origin or none); without it Origin, when sent,
 * must be http(s)://host. Each argument may be NULL (header absent). */
int hz_dash_same_origin(const char *origin, const char *fetch_site, const char *host, int https);

/* The form field name in an application/x-www-form-urlencoded body,
 * percent-decoded into out (cap bytes with NUL). Length, or -1. */
long hz_dash_form_field(const char *body, size_t len, const char *name, char *out, size_t cap);

#endif
