/* SPDX-License-Identifier: MIT */
/*
 * http.c - routes, authentication and replies of haze-dashboard (see
 * http.h). Every handler replies exactly once; errors are JSON
 * {"error":"..."} with one line that names the parameter, and never carry
 * data. The process only reads the store: it has no code that writes it.
 */
#include "dashboard/http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/conns.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/str.h"
#include "common/tls.h"
#include "common/tz.h"
#include "dashboard/api.h"
#include "dashboard/audit.h"
#include "dashboard/auth.h"
#include "dashboard/csv.h"
#include "dashboard/jsonw.h"
#include "dashboard/query.h"

/*
 * Answer cache. The same question over the same data has the same answer,
 * and a dashboard page asks a dozen questions each time it is opened, so
 * 200 answers of the stats routes are kept (LRU, bounded in entries and
 * bytes) under the exact request (route, query string, body). The whole
 * cache is dropped when the data may have changed: another stream position
 * in the store (the aggregator committed), a reopened store, or another
 * minute (periods are relative to "today"). Realtime is never cached.
 */
#define DASH_CACHE_SLOTS     64
#define DASH_CACHE_BYTES     (8u << 20)
#define DASH_CACHE_ENTRY_MAX (1u << 20)

struct dash_centry {
    char *key; /* route \n query \n body; NULL = free slot */
    size_t klen;
    char *body;
    size_t blen;
    const char *ctype; /* static string */
    char *disposition; /* Content-Disposition, or NULL */
    uint64_t used;     /* LRU clock */
};

struct dash_cache {
    struct dash_centry e[DASH_CACHE_SLOTS];
    size_t bytes;
    uint64_t clock;
    char pos[64]; /* store position the entries belong to */
    int64_t minute;
    const void *store;
    /* The request being answered, while its answer may be kept. */
    char *want;
    size_t wantlen;
};

struct hz_dash {
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    hz_conns *conns; /* connection cap, request deadline, accept backoff */
    const struct hz_config *cfg;
    const struct hz_asset *assets;
    hz_store *store;
    time_t checked; /* last swap check (monotonic seconds) */
    struct hz_qopts qopts;
    struct dash_cache cache;
    hz_auth *auth;   /* tokens, sessions, throttle (auth.c) */
    hz_audit *audit; /* access log, or NULL */
    hz_tls *tls;     /* HTTPS, or NULL */
    uint64_t audit_errors;
};

/*
 * The request being answered, for its audit entry: filled while it is
 * routed, its status taken from the one reply (dash_send). The dashboard
 * has one thread and answers every request before returning, so one
 * static slot is enough.
 */
struct dash_cur {
    int active;
    int status;
    long rows;
    const struct hz_token *tok;
    char site[HZ_SITE_MAX];
};
static struct dash_cur dash_now;
static int dash_https; /* HSTS and Secure cookies */

/* clang-format off */
static const char csp[] =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
/* clang-format on */

/* ================================================================ pure helpers */

/*
 * Cookie header parsing: "a=1; b=2", names matched exactly (a prefix or
 * suffix of the name is another cookie).
 */
int
hz_dash_cookie(const char *header, const char *name, const char **val, size_t *len)
{
    size_t nlen = strlen(name);
    const char *p = header;

    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *end = strchr(p, ';');
        size_t plen = end ? (size_t)(end - p) : strlen(p);
        if (plen > nlen && memcmp(p, name, nlen) == 0 && p[nlen] == '=') {
            *val = p + nlen + 1;
            *len = plen - nlen - 1;
            while (*len > 0 && ((*val)[*len - 1] == ' ' || (*val)[*len - 1] == '\t'))
                (*len)--;
            return 1;
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/* Percent-decoding with '+' as space (form encoding), strict escapes. */
long
hz_dash_form_field(const char *body, size_t len, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name), i = 0;

    while (i < len) {
        const char *pair = body + i, *amp = memchr(pair, '&', len - i);
        size_t plen = amp ? (size_t)(amp - pair) : len - i;
        if (plen > nlen && memcmp(pair, name, nlen) == 0 && pair[nlen] == '=') {
            long n =
                cap > 0 ? hz_pct_decode(out, cap - 1, pair + nlen + 1, plen - nlen - 1, 1) : -1;
            if (n < 0)
                return -1;
            out[n] = '\0';
            return n;
        }
        i += plen + 1;
    }
    return -1;
}

/* ================================================================ cache */

/* Frees one entry and its share of the byte count. */
static void
cache_drop(struct dash_cache *c, struct dash_centry *e)
{
    if (e->key == NULL)
        return;
    c->bytes -= e->klen + e->blen;
    free(e->key);
    free(e->body);
    free(e->disposition);
    memset(e, 0, sizeof(*e));
}

/* Empties the cache (new data, a reopened store, a new minute, exit). */
static void
cache_flush(struct dash_cache *c)
{
    for (int i = 0; i < DASH_CACHE_SLOTS; i++)
        cache_drop(c, &c->e[i]);
}

/* Drops everything when the data or the day may have changed. */
static void
cache_validate(struct dash_cache *c, const void *store, const char *pos, int64_t now)
{
    if (c->store == store && c->minute == now / 60 && strcmp(c->pos, pos) == 0)
        return;
    cache_flush(c);
    c->store = store;
    c->minute = now / 60;
    (void)hz_strlcpy(c->pos, pos, sizeof(c->pos));
}

/* The entry for exactly this request, refreshed in the LRU order, or NULL. */
static struct dash_centry *
cache_find(struct dash_cache *c, const char *key, size_t klen)
{
    for (int i = 0; i < DASH_CACHE_SLOTS; i++) {
        struct dash_centry *e = &c->e[i];
        if (e->key != NULL && e->klen == klen && memcmp(e->key, key, klen) == 0) {
            e->used = ++c->clock;
            return e;
        }
    }
    return NULL;
}

/* Keeps a copy of an answer under c->want (then cleared). */
static void
cache_put(struct dash_cache *c, const char *ctype, const char *disposition, const char *body,
          size_t blen)
{
    struct dash_centry *slot = NULL;

    if (c->want == NULL || blen > DASH_CACHE_ENTRY_MAX)
        goto done;
    for (;;) {
        struct dash_centry *lru = NULL;
        slot = NULL;
        for (int i = 0; i < DASH_CACHE_SLOTS; i++) {
            struct dash_centry *e = &c->e[i];
            if (e->key == NULL && slot == NULL)
                slot = e;
            if (e->key != NULL && (lru == NULL || e->used < lru->used))
                lru = e;
        }
        if (slot != NULL && c->bytes + c->wantlen + blen <= DASH_CACHE_BYTES)
            break;
        if (lru == NULL)
            goto done; /* empty and still too big */
        cache_drop(c, lru);
    }
    slot->key = c->want;
    slot->klen = c->wantlen;
    slot->body = hz_xmalloc(blen + 1);
    memcpy(slot->body, body, blen);
    slot->blen = blen;
    slot->ctype = ctype;
    slot->disposition = disposition ? hz_xstrdup(disposition) : NULL;
    slot->used = ++c->clock;
    c->bytes += slot->klen + blen;
    c->want = NULL; /* owned by the slot now */
done:
    free(c->want);
    c->want = NULL;
    c->wantlen = 0;
}

/* ================================================================ replies */

/* Seconds of a clock that never jumps (for "at most once a second"). */
static time_t
dash_monotonic(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* evbuffer cleanup: frees a body handed over with evbuffer_add_reference. */
static void
dash_free_cb(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)(uintptr_t)data);
}

/* Headers every answer carries. */
static void
dash_headers(struct evhttp_request *req, const char *ctype)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);

    evhttp_add_header(h, "Content-Type", ctype);
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    evhttp_add_header(h, "Content-Security-Policy", csp);
    if (dash_https)
        evhttp_add_header(h, "Strict-Transport-Security", "max-age=31536000");
}

/*
 * Sends status with body (malloc'd, taken over). HEAD gets the headers and
 * the Content-Length of the body it would have had, and no body.
 */
static void
dash_send(hz_dash *d, struct evhttp_request *req, int status, const char *reason, const char *ctype,
          char *body, size_t len)
{
    struct evbuffer *out = evbuffer_new();
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);

    if (dash_now.active)
        dash_now.status = status;
    if (d != NULL && d->cache.want != NULL) {
        if (status == 200)
            cache_put(&d->cache, ctype, evhttp_find_header(h, "Content-Disposition"), body, len);
        else
            cache_put(&d->cache, NULL, NULL, NULL, DASH_CACHE_ENTRY_MAX + 1); /* forget */
    }
    dash_headers(req, ctype);
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        char cl[24];
        (void)snprintf(cl, sizeof(cl), "%zu", len);
        evhttp_add_header(h, "Content-Length", cl);
        free(body);
    } else if (out != NULL && len > 0) {
        if (evbuffer_add_reference(out, body, len, dash_free_cb, NULL) != 0)
            free(body);
    } else {
        free(body);
    }
    evhttp_send_reply(req, status, reason, out);
    if (out != NULL)
        evbuffer_free(out);
}

/*
 * Sends a JSON answer from w (taken over) with Cache-Control: no-store.
 * d (may be NULL) lets the answer be kept in the cache.
 */
static void
dash_json(hz_dash *d, struct evhttp_request *req, int status, const char *reason,
          struct hz_jsonw *w)
{
    size_t len;
    char *body;

    if (w->err != 0) {
        /* A writer misuse is our bug: answer 500 rather than broken JSON. */
        hz_log_warnx("%s: JSON writer misuse", __func__);
        hz_jsonw_free(w);
        hz_api_error(w, "internal error");
        status = 500;
        reason = "Internal Server Error";
    }
    body = hz_jsonw_take(w, &len);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
    dash_send(d, req, status, reason, "application/json; charset=utf-8", body, len);
}

/* An error answer: {"error":msg}, never cached, never with data. */
static void
dash_error(struct evhttp_request *req, int status, const char *reason, const char *msg)
{
    struct hz_jsonw w;

    hz_jsonw_init(&w);
    hz_api_error(&w, msg);
    dash_json(NULL, req, status, reason, &w);
}

/* A known path asked with the wrong method: 405 with the methods it takes. */
static void
dash_405(struct evhttp_request *req, const char *allow)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
    dash_error(req, 405, "Method Not Allowed", "method not allowed");
}

/* No valid token or cookie: 401 with a Bearer challenge and no data. */
static void
dash_401(struct evhttp_request *req, const char *why)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                      "Bearer realm=\"haze\"");
    dash_error(req, 401, "Unauthorized", why ? why : "missing or wrong token");
}

/* ================================================================ store */

/* Opens the store once the aggregator has created it (the dashboard
 * starts in any order; until then every answer is empty and says so). */
static void
dash_store_appear(hz_dash *d)
{
    char data[HZ_CFG_PATH_MAX + 16];
    struct hz_err err = {0};
    struct stat st;

    (void)snprintf(data, sizeof(data), "%s/data.mdb", d->cfg->lmdb);
    if (stat(data, &st) != 0)
        return;
    if (hz_store_open(&d->store, d->cfg->lmdb, 1, 0, &err) != 0) {
        d->store = NULL;
        hz_log_debug("%s: not yet: %s", __func__, err.msg);
        return;
    }
    hz_log_info("%s: store opened: the first aggregates are in", __func__);
}

/* Reopens the store when the aggregator swapped data.mdb (compaction);
 * checked at most once a second (hz_store_replaced compares inodes). */
static void
dash_store_check(hz_dash *d)
{
    time_t now = dash_monotonic();
    hz_store *s;
    struct hz_err err = {0};

    if (now == d->checked)
        return;
    d->checked = now;
    if (d->store == NULL) {
        dash_store_appear(d);
        return;
    }
    if (!hz_store_replaced(d->store))
        return;
    if (hz_store_open(&s, d->cfg->lmdb, 1, 0, &err) != 0) {
        hz_log_warnx("%s: reopen after compaction failed: %s", __func__, err.msg);
        return; /* keep serving the old snapshot; retried next second */
    }
    hz_store_close(d->store);
    d->store = s;
    hz_log_info("%s: store reopened (data.mdb was replaced)", __func__);
}

/* ================================================================ auth */

/*
 * Who is asking (auth.c): the bearer token, else the session cookie.
 * Returns HZ_AUTH_OK with *tok, HZ_AUTH_EXPIRED with *why, or HZ_AUTH_BAD;
 * *bearer says whether a bearer token was presented (a wrong one counts
 * against the client's login limit, a stale cookie does not).
 */
static int
dash_identify(hz_dash *d, struct evhttp_request *req, const struct hz_token **tok, const char **why,
              int *bearer)
{
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    const char *auth = evhttp_find_header(h, "Authorization");
    const char *cookie = evhttp_find_header(h, "Cookie");
    int64_t now = (int64_t)time(NULL);
    const char *v;
    size_t len;
    int rc;

    *tok = NULL;
    *why = NULL;
    *bearer = 0;
    if (auth != NULL && strncmp(auth, "Bearer ", 7) == 0) {
        const char *t = auth + 7;
        while (*t == ' ')
            t++;
        *bearer = 1;
        rc = hz_auth_token(d->auth, t, strlen(t), (int32_t)(now / 86400), tok);
        if (rc == HZ_AUTH_EXPIRED)
            *why = "token expired";
        return rc;
    }
    if (cookie != NULL && hz_dash_cookie(cookie, HZ_DASH_COOKIE, &v, &len)) {
        rc = hz_auth_session_get(d->auth, v, len, now, tok);
        if (rc == HZ_AUTH_EXPIRED)
            *why = "session expired: log in again";
        return rc;
    }
    return HZ_AUTH_BAD;
}

/* The client's numeric address into out ("" if unknown). Never logged:
 * it goes to the audit log (an employee's address) and the throttle. */
static const struct sockaddr *
dash_client(struct evhttp_request *req, char *out, size_t cap)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    const struct sockaddr *sa = conn ? evhttp_connection_get_addr(conn) : NULL;
    char *host = NULL;
    ev_uint16_t port = 0;

    out[0] = '\0';
    if (conn != NULL) {
        evhttp_connection_get_peer(conn, &host, &port);
        if (host != NULL)
            (void)hz_strlcpy(out, host, cap);
    }
    return sa;
}

static const char *
dash_method(struct evhttp_request *req)
{
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    default:
        return "OTHER";
    }
}

/*
 * One audit entry (no-op without [dashboard] audit_log). Everything it
 * needs is passed in, not read from the request: it may be written after
 * the reply, when the request is libevent's again. A failed write is
 * counted and logged, without the entry.
 */
static void
dash_audit(hz_dash *d, const char *client, const char *method, const char *event,
           const struct hz_token *tok, const char *endpoint, const char *site, const char *query,
           size_t qlen, int status, long rows, const char *reason)
{
    struct hz_audit_entry e;
    struct timespec ts;
    int rc;

    if (d->audit == NULL)
        return;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    memset(&e, 0, sizeof(e));
    e.t_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    e.event = event;
    e.token = tok ? tok->name : NULL;
    e.client = client;
    e.method = method;
    e.endpoint = endpoint;
    e.site = site != NULL && site[0] != '\0' ? site : NULL;
    e.query = query;
    e.qlen = query ? qlen : 0;
    e.status = status;
    e.rows = rows;
    e.reason = reason;
    if ((rc = hz_audit_write(d->audit, &e)) != 0) {
        d->audit_errors++;
        hz_log_warnx("%s: audit log write failed: %s", __func__, strerror(rc));
    }
}

/* 429 with Retry-After when the client is over its login limit. */
static int
dash_throttled(hz_dash *d, struct evhttp_request *req, const struct sockaddr *sa)
{
    int retry;
    char ra[16];

    if (!hz_auth_throttled(d->auth, sa, (int64_t)time(NULL), &retry))
        return 0;
    (void)snprintf(ra, sizeof(ra), "%d", retry);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", ra);
    dash_error(req, 429, "Too Many Requests",
               "too many failed logins from this address; retry later");
    return 1;
}

/*
 * POST /login and /logout come from the dashboard's own page. A browser
 * says where a request comes from with Sec-Fetch-Site, which is then
 * decisive (same-origin, or none for a typed URL): the page's
 * Referrer-Policy no-referrer makes Chromium send "Origin: null" with its
 * own form posts, so Origin alone cannot be required. Without
 * Sec-Fetch-Site (older browsers) Origin must be this server; a client
 * that sends neither (curl, scripts) is not a browser page and may post.
 */
int
hz_dash_same_origin(const char *origin, const char *fetch_site, const char *host, int https)
{
    char want[300];

    if (fetch_site != NULL)
        return strcmp(fetch_site, "same-origin") == 0 || strcmp(fetch_site, "none") == 0;
    if (origin == NULL)
        return 1;
    if (host == NULL)
        return 0;
    (void)snprintf(want, sizeof(want), "%s://%s", https ? "https" : "http", host);
    return strcmp(origin, want) == 0;
}

static int
dash_origin_ok(hz_dash *d, struct evhttp_request *req)
{
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);

    (void)d;
    if (hz_dash_same_origin(evhttp_find_header(h, "Origin"),
                            evhttp_find_header(h, "Sec-Fetch-Site"), evhttp_find_header(h, "Host"),
                            dash_https))
        return 1;
    dash_error(req, 403, "Forbidden", "origin: cross-site form posts are refused");
    return 0;
}

/* Request body as a NUL-terminated copy (malloc'd), or NULL when over max. */
static char *
dash_body(struct evhttp_request *req, size_t max, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    char *b;

    if (n > max)
        return NULL;
    b = hz_xmalloc(n + 1);
    if (evbuffer_copyout(in, b, n) != (ev_ssize_t)n) {
        free(b);
        return NULL;
    }
    b[n] = '\0';
    *len = n;
    return b;
}

/* 303 See Other to a local path (after the login and logout forms). */
static void
dash_redirect(struct evhttp_request *req, const char *to)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Location", to);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
    dash_send(NULL, req, 303, "See Other", "text/plain; charset=utf-8", NULL, 0);
}

/*
 * POST /login: the form's token; on success a new session (auth.c) in the
 * cookie. Over the login limit: 429. A failure is audited with its reason
 * and counted against the client's address.
 */
static void
dash_login(hz_dash *d, struct evhttp_request *req)
{
    char tok[sizeof(d->cfg->token) + 1];
    char cookie[160], sid[HZ_AUTH_SID_HEX], client[64];
    const struct sockaddr *sa = dash_client(req, client, sizeof(client));
    const struct hz_token *t = NULL;
    int64_t now = (int64_t)time(NULL);
    size_t len;
    char *body;
    long n;
    int rc;

    if (!dash_origin_ok(d, req) || dash_throttled(d, req, sa))
        return;
    if ((body = dash_body(req, HZ_DASH_LOGIN_BODY_MAX, &len)) == NULL) {
        dash_error(req, 413, "Payload Too Large", "body: the login form is at most 512 bytes");
        return;
    }
    n = hz_dash_form_field(body, len, "token", tok, sizeof(tok));
    explicit_bzero(body, len);
    free(body);
    rc = n < 0 ? HZ_AUTH_BAD : hz_auth_token(d->auth, tok, (size_t)n, (int32_t)(now / 86400), &t);
    explicit_bzero(tok, sizeof(tok));
    if (rc != HZ_AUTH_OK) {
        const char *why = rc == HZ_AUTH_EXPIRED ? "token expired" : "wrong token";
        hz_auth_failed(d->auth, sa, now);
        hz_log_info("%s: failed login (%s)", __func__, why);
        dash_audit(d, client, "POST", "login_failed", t, "/login", NULL, NULL, 0, 303, -1, why);
        dash_redirect(req, rc == HZ_AUTH_EXPIRED ? "/?login=expired" : "/?login=failed");
        return;
    }
    hz_auth_session_new(d->auth, t, now, sid);
    (void)snprintf(cookie, sizeof(cookie), "%s=%s; HttpOnly; SameSite=Strict; Path=/%s",
                   HZ_DASH_COOKIE, sid, dash_https ? "; Secure" : "");
    explicit_bzero(sid, sizeof(sid));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", cookie);
    explicit_bzero(cookie, sizeof(cookie));
    dash_audit(d, client, "POST", "login", t, "/login", NULL, NULL, 0, 303, -1, NULL);
    dash_redirect(req, "/");
}

/* POST /logout: ends the session on the server and expires the cookie. */
static void
dash_logout(hz_dash *d, struct evhttp_request *req)
{
    const char *cookie = evhttp_find_header(evhttp_request_get_input_headers(req), "Cookie");
    const struct hz_token *t = NULL;
    char client[64];
    const char *v;
    size_t len;

    (void)dash_client(req, client, sizeof(client));
    if (!dash_origin_ok(d, req))
        return;
    if (cookie != NULL && hz_dash_cookie(cookie, HZ_DASH_COOKIE, &v, &len) &&
        hz_auth_session_get(d->auth, v, len, (int64_t)time(NULL), &t) != HZ_AUTH_BAD)
        (void)hz_auth_session_end(d->auth, v, len);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie",
                      dash_https ? HZ_DASH_COOKIE "=; HttpOnly; SameSite=Strict; Path=/; "
                                                  "Max-Age=0; Secure"
                                 : HZ_DASH_COOKIE
                          "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    if (t != NULL)
        dash_audit(d, client, "POST", "logout", t, "/logout", NULL, NULL, 0, 303, -1, NULL);
    dash_redirect(req, "/");
}

/* ================================================================ assets */

/*
 * An embedded asset ("/" is index.html): ETag and 304, HEAD, no copy of
 * the bytes (they are static), the security headers on every answer.
 */
static void
dash_asset(hz_dash *d, struct evhttp_request *req, const char *path)
{
    const struct hz_asset *a =
        hz_asset_find(d->assets, strcmp(path, "/") == 0 ? "/index.html" : path);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
    struct evbuffer *out;

    if (a == NULL) {
        dash_error(req, 404, "Not Found", "not found");
        return;
    }
    dash_headers(req, a->ctype);
    evhttp_add_header(h, "ETag", a->etag);
    evhttp_add_header(h, "Cache-Control", "no-cache");
    if (inm != NULL && strcmp(inm, a->etag) == 0) {
        evhttp_send_reply(req, 304, "Not Modified", NULL);
        return;
    }
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        char cl[24];
        (void)snprintf(cl, sizeof(cl), "%zu", a->len);
        evhttp_add_header(h, "Content-Length", cl);
        evhttp_send_reply(req, 200, "OK", NULL);
        return;
    }
    out = evbuffer_new();
    if (out != NULL)
        (void)evbuffer_add_reference(out, a->data, a->len, NULL, NULL); /* static: no copy */
    evhttp_send_reply(req, 200, "OK", out);
    if (out != NULL)
        evbuffer_free(out);
}

/* ================================================================ API */

/* Runs q and replies in its shape (v1 JSON, CSV, v2 JSON). */
static void
dash_stats(hz_dash *d, struct evhttp_request *req, hz_rtxn *t, const struct hz_query *q, int v2)
{
    struct hz_qres r;
    struct hz_err err = {0};
    struct hz_jsonw w;

    hz_qres_init(&r);
    if (hz_query_run(t, q, &d->qopts, &r, &err) != 0) {
        hz_log_warnx("%s: %s", __func__, err.msg);
        hz_qres_free(&r);
        dash_error(req, 500, "Internal Server Error", "internal error");
        return;
    }
    dash_now.rows = (long)(r.count > 0 ? r.count : 1);
    if (q->csv) {
        struct hz_csv c;
        char name[HZ_SITE_MAX + 64], disp[HZ_SITE_MAX + 96];
        size_t len;
        char *body;
        hz_csv_init(&c);
        hz_api_csv(&c, q, &r);
        body = hz_csv_take(&c, &len);
        hz_api_csv_filename(name, sizeof(name), q);
        (void)snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", name);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Disposition", disp);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
        dash_send(d, req, 200, "OK", "text/csv; charset=utf-8", body, len);
    } else {
        hz_jsonw_init(&w);
        if (v2)
            hz_api_v2(&w, q, &r, d->qopts.min_visitors);
        else
            hz_api_v1(&w, q, &r);
        dash_json(d, req, 200, "OK", &w);
    }
    hz_qres_free(&r);
}

/*
 * GET /api/v1/funnels: the store's step counts for the site's funnels
 * (the asked one, or all), rendered with conversions and times.
 */
static int
dash_funnels(hz_dash *d, struct evhttp_request *req, hz_rtxn *t, const struct hz_query *q,
             struct hz_err *err)
{
    const struct hz_site *s = hz_cfg_site(d->cfg, q->site, strlen(q->site));
    struct hz_funnel_step_counts(*steps)[HZ_FUNNEL_STEPS_MAX];
    struct hz_jsonw w;
    int rc = 0;

    if (s == NULL)
        return hz_err_set(err, HZ_ESTORE, "site vanished");
    steps = hz_xcalloc(HZ_FUNNELS_MAX, sizeof(*steps));
    struct hz_funnel_note notes[HZ_FUNNELS_MAX];
    char seg[64];
    for (int f = 0; f < s->nfunnels && rc == 0; f++)
        if (q->funnel < 0 || q->funnel == f) /* a funnel_by segment when filtered */
            rc = hz_store_funnel(t, q->site, hz_xquery_funnel_name(q, s, f, seg),
                                 s->funnels[f].nsteps, q->from, q->to, steps[f]);
    if (rc == 0 && s->nfunnel_by > 0)
        rc = hz_xquery_funnel_notes(t, q, s, steps, (uint64_t)d->cfg->min_visitors, notes);
    if (rc != 0) {
        free(steps);
        return hz_err_set(err, HZ_ESTORE, "funnel: %s", hz_strerror(rc));
    }
    hz_jsonw_init(&w);
    hz_api_funnels_seg(&w, q, s, steps, s->nfunnel_by > 0 ? notes : NULL);
    free(steps);
    dash_json(d, req, 200, "OK", &w);
    return 0;
}

/* GET /api/v1/paths: transitions into and out of one page. */
static int
dash_paths(hz_dash *d, struct evhttp_request *req, hz_rtxn *t, const struct hz_query *q,
           struct hz_err *err)
{
    struct hz_paths p;
    struct hz_jsonw w;
    int rc = hz_query_paths(t, q, &d->qopts, &p, err);

    if (rc == 0) {
        hz_jsonw_init(&w);
        hz_api_paths(&w, q, &p);
        dash_json(d, req, 200, "OK", &w);
    }
    hz_paths_free(&p);
    return rc;
}

/* GET /api/v1/filtered: the site's drop rows and the unknown-site rows. */
static int
dash_filtered(hz_dash *d, struct evhttp_request *req, hz_rtxn *t, const struct hz_query *q,
              struct hz_err *err)
{
    struct hz_qres site, unknown;
    struct hz_jsonw w;
    int rc;

    hz_qres_init(&site);
    hz_qres_init(&unknown);
    rc = hz_query_collect(t, q->site, HZ_DIM_DROP, q->from, q->to, &site);
    if (rc == 0)
        rc = hz_query_collect(t, "*", HZ_DIM_DROP, q->from, q->to, &unknown);
    if (rc == 0) {
        struct hz_query byn = *q;
        /* Reasons by count, largest first; drop rows hold no visitors, so
         * there is nothing to fold. */
        byn.prop = HZ_P_NONE;
        byn.order_metric = HZ_M_EVENTS;
        byn.order_desc = 1;
        byn.limit = 0;
        byn.offset = 0;
        hz_query_order(&site, &byn);
        hz_jsonw_init(&w);
        hz_api_filtered(&w, q, &site, &unknown);
        dash_json(d, req, 200, "OK", &w);
    } else {
        hz_err_set(err, HZ_ESTORE, "filtered: %s", hz_strerror(rc));
    }
    hz_qres_free(&site);
    hz_qres_free(&unknown);
    return rc;
}

/*
 * GET /api/v1/stats/realtime/visitors: visitors active in the last five
 * minutes. Never cached: it moves every minute.
 */
static int
dash_realtime(struct evhttp_request *req, hz_rtxn *t, const struct hz_query *q, int64_t now,
              struct hz_err *err)
{
    struct hz_jsonw w;
    uint64_t v = 0;
    int rc;

    if ((rc = hz_query_realtime(t, q->site, now, &v)) != 0)
        return hz_err_set(err, HZ_ESTORE, "realtime: %s", hz_strerror(rc));
    hz_jsonw_init(&w);
    hz_api_realtime(&w, v);
    dash_json(NULL, req, 200, "OK", &w); /* never cached */
    return 0;
}

static const struct {
    const char *path;
    enum hz_api_route route;
} api_routes[] = {
    {"/api/v1/stats/aggregate", HZ_API_AGGREGATE},
    {"/api/v1/stats/timeseries", HZ_API_TIMESERIES},
    {"/api/v1/stats/breakdown", HZ_API_BREAKDOWN},
    {"/api/v1/stats/realtime/visitors", HZ_API_REALTIME},
    {"/api/v1/funnels", HZ_API_FUNNELS},
    {"/api/v1/paths", HZ_API_PATHS},
    {"/api/v1/filtered", HZ_API_FILTERED},
    {"/api/v1/sites", HZ_API_SITES},
    {"/api/v2/query", HZ_API_V2},
    {"/api/v1/audit", HZ_API_AUDIT},
    {"/api/haze/sites", HZ_API_HAZE_SITES},
};

/*
 * GET /api/v1/audit?from=&to=&token= (admin scope): the access log of UTC
 * days from..to (default today), optionally of one token.
 */
static void
dash_audit_read(hz_dash *d, struct evhttp_request *req, const char *query, int64_t now)
{
    char from[16] = "", to[16] = "", token[HZ_TOKEN_NAME_MAX + 2] = "";
    const char *qs = query ? query : "";
    int32_t f, t, today = (int32_t)(now / 86400);
    size_t len;
    char *body;

    if (dash_now.tok == NULL || dash_now.tok->scope != HZ_SCOPE_ADMIN) {
        dash_error(req, 403, "Forbidden", "audit: admin scope required");
        return;
    }
    if (d->audit == NULL) {
        dash_error(req, 404, "Not Found", "audit: no [dashboard] audit_log is configured");
        return;
    }
    f = t = today;
    if (hz_dash_form_field(qs, strlen(qs), "from", from, sizeof(from)) >= 0 &&
        hz_date_parse(from, &f) != 0) {
        dash_error(req, 400, "Bad Request", "from: expected YYYY-MM-DD");
        return;
    }
    if (hz_dash_form_field(qs, strlen(qs), "to", to, sizeof(to)) >= 0 &&
        hz_date_parse(to, &t) != 0) {
        dash_error(req, 400, "Bad Request", "to: expected YYYY-MM-DD");
        return;
    }
    if (to[0] == '\0' && from[0] != '\0')
        t = today;
    if (f > t || t - f > 3660) {
        dash_error(req, 400, "Bad Request",
                   "from, to: from must not be after to (at most 10 years)");
        return;
    }
    if (hz_dash_form_field(qs, strlen(qs), "token", token, sizeof(token)) > HZ_TOKEN_NAME_MAX) {
        dash_error(req, 400, "Bad Request", "token: a token name is at most 40 bytes");
        return;
    }
    body = hz_audit_read(d->audit, f, t, token[0] ? token : NULL, &len);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
    dash_send(NULL, req, 200, "OK", "application/json; charset=utf-8", body, len);
}

/*
 * Answers from the cache when it can (1); otherwise arms it so that the
 * answer about to be sent is kept (0).
 */
static int
dash_cached(hz_dash *d, struct evhttp_request *req, hz_rtxn *t, const char *path, const char *query,
            const char *body, size_t blen, int64_t now)
{
    size_t plen = strlen(path), qlen = query ? strlen(query) : 0;
    char pos[64];
    struct dash_centry *e;
    char *key;

    if (hz_store_position(t, pos) != 0)
        return 0;
    cache_validate(&d->cache, d->store, pos, now);
    key = hz_xmalloc(plen + qlen + blen + 3);
    memcpy(key, path, plen);
    key[plen] = '\n';
    if (qlen > 0)
        memcpy(key + plen + 1, query, qlen);
    key[plen + 1 + qlen] = '\n';
    if (blen > 0)
        memcpy(key + plen + qlen + 2, body, blen);
    key[plen + qlen + blen + 2] = '\0';
    e = cache_find(&d->cache, key, plen + qlen + blen + 2);
    if (e == NULL) {
        d->cache.want = key;
        d->cache.wantlen = plen + qlen + blen + 2;
        return 0;
    }
    free(key);
    if (e->disposition != NULL)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Disposition",
                          e->disposition);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
    {
        char *copy = hz_xmalloc(e->blen + 1);
        memcpy(copy, e->body, e->blen);
        dash_send(NULL, req, 200, "OK", e->ctype, copy, e->blen);
    }
    return 1;
}

/*
 * No store yet: the answer the route would give over no data (zeros, no
 * rows), marked "X-Haze-Store: waiting" so the page can say so. Never
 * cached.
 */
static void
dash_api_waiting(hz_dash *d, struct evhttp_request *req, enum hz_api_route route,
                 const struct hz_query *q, int v2)
{
    const struct hz_site *s = hz_cfg_site(d->cfg, q->site, strlen(q->site));
    struct hz_qres r, r2;
    struct hz_jsonw w;

    hz_qres_init(&r);
    hz_qres_init(&r2);
    r.from = q->from; /* the range asked, as a query over data would say */
    r.to = q->to;
    hz_jsonw_init(&w);
    switch (route) {
    case HZ_API_REALTIME:
        hz_api_realtime(&w, 0);
        break;
    case HZ_API_FUNNELS: {
        struct hz_funnel_step_counts(*steps)[HZ_FUNNEL_STEPS_MAX] =
            hz_xcalloc(HZ_FUNNELS_MAX, sizeof(*steps));
        if (s != NULL)
            hz_api_funnels(&w, q, s, steps);
        free(steps);
        break;
    }
    case HZ_API_PATHS: {
        struct hz_paths p;
        memset(&p, 0, sizeof(p));
        hz_qres_init(&p.from);
        hz_qres_init(&p.to);
        hz_api_paths(&w, q, &p);
        hz_paths_free(&p);
        break;
    }
    case HZ_API_FILTERED:
        hz_api_filtered(&w, q, &r, &r2);
        break;
    default:
        if (q->csv) {
            struct hz_csv c;
            size_t len;
            char *body;
            hz_csv_init(&c);
            hz_api_csv(&c, q, &r);
            body = hz_csv_take(&c, &len);
            hz_jsonw_free(&w);
            evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
            dash_send(NULL, req, 200, "OK", "text/csv; charset=utf-8", body, len);
            goto done;
        }
        if (v2)
            hz_api_v2(&w, q, &r, d->qopts.min_visitors);
        else
            hz_api_v1(&w, q, &r);
        break;
    }
    dash_json(NULL, req, 200, "OK", &w);
done:
    hz_qres_free(&r);
    hz_qres_free(&r2);
}

/* An authenticated /api/ request. */
static void
dash_api(hz_dash *d, struct evhttp_request *req, const char *path, const char *query)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    int64_t now = (int64_t)time(NULL);
    struct hz_query *q = NULL;
    struct hz_err err = {0};
    struct hz_jsonw w;
    hz_rtxn *t = NULL;
    char *body = NULL;
    size_t i, blen = 0;
    enum hz_api_route route;
    int rc;

    for (i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]); i++)
        if (strcmp(path, api_routes[i].path) == 0)
            break;
    if (i == sizeof(api_routes) / sizeof(api_routes[0])) {
        dash_error(req, 404, "Not Found", "not found");
        return;
    }
    route = api_routes[i].route;
    if (route == HZ_API_AUDIT) {
        if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD)
            dash_405(req, "GET, HEAD");
        else
            dash_audit_read(d, req, query, now);
        return;
    }
    if (route == HZ_API_V2 && cmd != EVHTTP_REQ_POST) {
        dash_405(req, "POST");
        return;
    }
    if (route != HZ_API_V2 && cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        dash_405(req, "GET, HEAD");
        return;
    }
    dash_store_check(d);
    if (d->store == NULL)
        evhttp_add_header(evhttp_request_get_output_headers(req), "X-Haze-Store", "waiting");
    if (route == HZ_API_SITES || route == HZ_API_HAZE_SITES) {
        unsigned long long mask = hz_auth_site_mask(d->auth, dash_now.tok);
        hz_jsonw_init(&w);
        if (route == HZ_API_SITES)
            hz_api_sites(&w, d->cfg, mask);
        else
            hz_api_haze_sites(&w, d->cfg, now, mask,
                              d->audit != NULL && dash_now.tok != NULL &&
                                  dash_now.tok->scope == HZ_SCOPE_ADMIN);
        dash_now.rows = __builtin_popcountll(mask);
        dash_json(NULL, req, 200, "OK", &w); /* per token: not cached */
        return;
    }
    /* A token sees only its sites: the same 401 for a site it may not
     * read as for one that does not exist, so it cannot probe names (a
     * token for every site gets the parser's 400 for an unknown one). */
    if (route != HZ_API_V2 && !dash_now.tok->all_sites) {
        char site[HZ_SITE_MAX];
        const char *qs = query ? query : "";
        if (hz_dash_form_field(qs, strlen(qs), "site_id", site, sizeof(site)) >= 0 &&
            !hz_auth_site_ok(d->auth, dash_now.tok, site)) {
            dash_401(req, "site_id: this token may not read that site");
            return;
        }
    }
    q = hz_xmalloc(sizeof(*q));
    if (route == HZ_API_V2) {
        if ((body = dash_body(req, HZ_API_BODY_MAX, &blen)) == NULL) {
            dash_error(req, 413, "Payload Too Large", "body: longer than 16384 bytes");
            goto done;
        }
        rc = hz_api_parse_v2(body, blen, d->cfg, now, q, &err);
    } else {
        rc = hz_api_parse_v1(route, query ? query : "", query ? strlen(query) : 0, d->cfg, now, q,
                             &err);
    }
    if (rc == HZ_ENOTFOUND && !dash_now.tok->all_sites) {
        /* A scoped token learns nothing about which sites exist. */
        dash_401(req, "site_id: this token may not read that site");
        goto done;
    }
    if (rc == HZ_ENOTFOUND) {
        dash_error(req, 401, "Unauthorized", err.msg); /* unknown site: Plausible's answer */
        goto done;
    }
    if (rc != 0) {
        dash_error(req, 400, "Bad Request", err.msg);
        goto done;
    }
    if (!hz_auth_site_ok(d->auth, dash_now.tok, q->site)) {
        dash_401(req, "site_id: this token may not read that site");
        goto done;
    }
    (void)hz_strlcpy(dash_now.site, q->site, sizeof(dash_now.site));
    if (d->store == NULL) {
        dash_api_waiting(d, req, route, q, route == HZ_API_V2);
        goto done;
    }
    if ((rc = hz_store_rbegin(d->store, &t, &err)) != 0) {
        hz_log_warnx("%s: %s", __func__, err.msg);
        dash_error(req, 500, "Internal Server Error", "internal error");
        goto done;
    }
    if (route != HZ_API_REALTIME && dash_cached(d, req, t, path, query, body, blen, now))
        goto done;
    rc = 0;
    switch (route) {
    case HZ_API_REALTIME:
        rc = dash_realtime(req, t, q, now, &err);
        break;
    case HZ_API_FUNNELS:
        rc = dash_funnels(d, req, t, q, &err);
        break;
    case HZ_API_PATHS:
        rc = dash_paths(d, req, t, q, &err);
        break;
    case HZ_API_FILTERED:
        rc = dash_filtered(d, req, t, q, &err);
        break;
    default:
        dash_stats(d, req, t, q, route == HZ_API_V2);
        break;
    }
    if (rc != 0) {
        hz_log_warnx("%s: %s", __func__, err.msg);
        dash_error(req, 500, "Internal Server Error", "internal error");
    }
done:
    free(d->cache.want); /* an answer that was not kept */
    d->cache.want = NULL;
    hz_store_rend(t);
    free(body);
    free(q);
}

/* ================================================================ routing */

/* GET /metrics (admin scope): the login and session counters. */
static void
dash_metrics(hz_dash *d, struct evhttp_request *req)
{
    const struct hz_auth_counters *n = hz_auth_counters(d->auth);
    char *b = hz_xmalloc(1024);
    int len = snprintf(
        b, 1024,
        "# HELP haze_dashboard_login_failures_total Failed logins and wrong bearer tokens.\n"
        "# TYPE haze_dashboard_login_failures_total counter\n"
        "haze_dashboard_login_failures_total %llu\n"
        "# HELP haze_dashboard_login_throttled_total Answers 429 (login limit per address).\n"
        "# TYPE haze_dashboard_login_throttled_total counter\n"
        "haze_dashboard_login_throttled_total %llu\n"
        "# TYPE haze_dashboard_logins_total counter\n"
        "haze_dashboard_logins_total %llu\n"
        "# TYPE haze_dashboard_sessions gauge\n"
        "haze_dashboard_sessions %d\n"
        "# TYPE haze_dashboard_audit_errors_total counter\n"
        "haze_dashboard_audit_errors_total %llu\n",
        (unsigned long long)n->failed, (unsigned long long)n->throttled,
        (unsigned long long)n->logins, hz_auth_sessions(d->auth, (int64_t)time(NULL)),
        (unsigned long long)d->audit_errors);

    evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
    dash_send(NULL, req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", b,
              len > 0 && len < 1024 ? (size_t)len : 0);
}

/*
 * An /api/ or /metrics request: the client over its login limit gets 429,
 * a wrong or expired token 401 (both audited as failed logins), then the
 * answer, audited with its status, site and rows.
 */
static void
dash_gate(hz_dash *d, struct evhttp_request *req, const char *path, const char *query)
{
    char client[64], endpoint[128], q[HZ_AUDIT_QUERY_MAX + 1];
    const struct sockaddr *sa = dash_client(req, client, sizeof(client));
    const char *method = dash_method(req); /* static strings */
    const struct hz_token *tok;
    const char *why;
    size_t qlen = 0;
    int bearer, rc;

    rc = dash_identify(d, req, &tok, &why, &bearer);
    if (bearer && dash_throttled(d, req, sa))
        return;
    (void)hz_strlcpy(endpoint, path, sizeof(endpoint));
    if (rc != HZ_AUTH_OK) {
        if (bearer)
            hz_auth_failed(d->auth, sa, (int64_t)time(NULL));
        if (bearer || rc == HZ_AUTH_EXPIRED)
            dash_audit(d, client, method, "login_failed", tok, endpoint, NULL, NULL, 0, 401, -1,
                       why ? why : "wrong token");
        dash_401(req, why);
        return;
    }
    /* What was asked, copied now: the request may be gone once answered. */
    if (evhttp_request_get_command(req) == EVHTTP_REQ_POST) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        qlen = evbuffer_get_length(in);
        if (qlen > HZ_AUDIT_QUERY_MAX)
            qlen = HZ_AUDIT_QUERY_MAX + 1; /* audit.c marks it cut */
        (void)evbuffer_copyout(in, q, qlen > HZ_AUDIT_QUERY_MAX ? HZ_AUDIT_QUERY_MAX : qlen);
    } else if (query != NULL) {
        qlen = strlen(query);
        memcpy(q, query, qlen > HZ_AUDIT_QUERY_MAX ? HZ_AUDIT_QUERY_MAX : qlen);
    }
    memset(&dash_now, 0, sizeof(dash_now));
    dash_now.active = 1;
    dash_now.tok = tok;
    dash_now.rows = -1;
    if (strcmp(path, "/metrics") == 0) {
        if (tok->scope != HZ_SCOPE_ADMIN)
            dash_error(req, 403, "Forbidden", "metrics: admin scope required");
        else
            dash_metrics(d, req);
    } else {
        dash_api(d, req, path, query);
    }
    /* After the reply (its status is known only now): only copies are used. */
    dash_audit(d, client, method, "request", tok, endpoint, dash_now.site, q, qlen, dash_now.status,
               dash_now.rows, NULL);
    memset(&dash_now, 0, sizeof(dash_now));
}

/*
 * Every request: limits before authentication, then /api/ (token or
 * cookie required), the login and logout forms, privacy.json, the assets.
 */
static void
dash_request(struct evhttp_request *req, void *arg)
{
    hz_dash *d = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *target = evhttp_request_get_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    const struct hz_token *tok;
    const char *why;
    int bearer;

    hz_conns_request(d->conns, req);
    if (path == NULL || path[0] == '\0')
        path = "/";
    if (target != NULL && strlen(target) > HZ_DASH_PREAUTH_URI_MAX &&
        dash_identify(d, req, &tok, &why, &bearer) != HZ_AUTH_OK) {
        dash_error(req, 414, "URI Too Long", "uri: too long");
        return;
    }
    if (strncmp(path, "/api/", 5) == 0 || strcmp(path, "/metrics") == 0) {
        dash_gate(d, req, path, query);
        return;
    }
    if (strcmp(path, "/login") == 0) {
        if (cmd != EVHTTP_REQ_POST)
            dash_405(req, "POST");
        else
            dash_login(d, req);
        return;
    }
    if (strcmp(path, "/logout") == 0) {
        if (cmd != EVHTTP_REQ_POST)
            dash_405(req, "POST");
        else
            dash_logout(d, req);
        return;
    }
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        if (strcmp(path, "/privacy.json") == 0 ||
            hz_asset_find(d->assets, strcmp(path, "/") == 0 ? "/index.html" : path) != NULL)
            dash_405(req, "GET, HEAD");
        else
            dash_error(req, 404, "Not Found", "not found");
        return;
    }
    if (strcmp(path, "/privacy.json") == 0) {
        struct hz_jsonw w;
        hz_jsonw_init(&w);
        hz_api_privacy(&w, d->cfg);
        dash_json(d, req, 200, "OK", &w);
        return;
    }
    dash_asset(d, req, path);
}

/* ================================================================ life cycle */

/*
 * Limits are set explicitly; libevent 2.1's defaults are unlimited. With
 * tls_cert and tls_key every connection is HTTPS (common/tls.c); the
 * audit log is opened here, before the sandbox.
 */
int
hz_dash_new(hz_dash **out, struct event_base *base, const struct hz_config *cfg,
            const struct hz_asset *assets, hz_store *store, struct hz_err *err)
{
    hz_dash *d = hz_xcalloc(1, sizeof(*d));

    d->base = base;
    d->cfg = cfg;
    d->assets = assets;
    d->store = store;
    d->qopts.min_visitors = (uint64_t)cfg->min_visitors;
    d->qopts.retention_days = cfg->retention_days;
    d->checked = store != NULL ? dash_monotonic() : 0;
    (void)hz_auth_new(&d->auth, cfg);
    if (cfg->audit_log[0] != '\0' &&
        hz_audit_open(&d->audit, cfg->audit_log, cfg->audit_retention_days, (int64_t)time(NULL),
                      err) != 0)
        goto fail;
    if (cfg->dashboard_tls_cert[0] != '\0' &&
        hz_tls_open(&d->tls, cfg->dashboard_tls_cert, cfg->dashboard_tls_key, err) != 0)
        goto fail;
    dash_https = d->tls != NULL;
    d->http = evhttp_new(base);
    if (d->http == NULL) {
        hz_err_set(err, ENOMEM, "evhttp_new failed");
        goto fail;
    }
    evhttp_set_max_headers_size(d->http, HZ_DASH_HEADERS_MAX);
    evhttp_set_max_body_size(d->http, HZ_DASH_BODY_MAX);
    evhttp_set_timeout(d->http, HZ_DASH_TIMEOUT_S);
    /* Every method reaches dash_request: a known path asked with a method
     * it does not take gets 405 with Allow (evhttp's answer is 501). */
    evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH |
                                            EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT);
    evhttp_set_default_content_type(d->http, "application/json; charset=utf-8");
    evhttp_set_gencb(d->http, dash_request, d);
    d->conns = hz_conns_new(base, d->http, cfg->dashboard_max_conns, cfg->dashboard_request_ms,
                            "dashboard");
    if (d->conns == NULL) {
        evhttp_free(d->http);
        hz_err_set(err, ENOMEM, "out of memory");
        goto fail;
    }
    if (d->tls != NULL)
        hz_conns_set_bev(d->conns, hz_tls_bev, d->tls);
    *out = d;
    return 0;
fail:
    hz_audit_close(d->audit);
    hz_tls_close(d->tls);
    hz_auth_free(d->auth);
    free(d);
    return err != NULL && err->code != 0 ? err->code : HZ_EINVAL;
}

int
hz_dash_reload_tls(hz_dash *d, struct hz_err *err)
{
    if (d->tls == NULL)
        return 0;
    return hz_tls_reload(d->tls, err);
}

void
hz_dash_set_store(hz_dash *d, hz_store *store)
{
    hz_store_close(d->store);
    d->store = store;
    d->checked = dash_monotonic();
}

/* IPv4/IPv6 host:port from [dashboard] listen (unix sockets: not here). */
int
hz_dash_bind(hz_dash *d, struct hz_err *err)
{
    const struct hz_addr *a = &d->cfg->dashboard_listen;

    if (a->is_unix)
        return hz_err_set(err, HZ_EINVAL, "[dashboard] listen: unix sockets are not supported");
    d->sock = evhttp_bind_socket_with_handle(d->http, a->host, (ev_uint16_t)a->port);
    if (d->sock == NULL)
        return hz_err_set(err, errno ? errno : HZ_EINVAL, "listen %s:%d: %s", a->host, a->port,
                          strerror(errno));
    hz_conns_listen(d->conns, d->sock);
    return 0;
}

/* Removing the listener lets established connections finish. */
void
hz_dash_stop(hz_dash *d)
{
    if (d->sock != NULL) {
        hz_conns_unlisten(d->conns);
        evhttp_del_accept_socket(d->http, d->sock);
        d->sock = NULL;
    }
}

/* Connections go with evhttp_free; secrets are wiped. */
void
hz_dash_free(hz_dash *d)
{
    if (d == NULL)
        return;
    if (d->http != NULL)
        evhttp_free(d->http);
    hz_conns_free(d->conns); /* after evhttp_free: it closes through it */
    cache_flush(&d->cache);
    free(d->cache.want);
    hz_store_close(d->store);
    hz_auth_free(d->auth);
    hz_audit_close(d->audit);
    hz_tls_close(d->tls);
    free(d);
}
