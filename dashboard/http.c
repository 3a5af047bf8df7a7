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
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/siphash.h"
#include "common/str.h"
#include "common/tz.h"
#include "dashboard/api.h"
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
    const struct hz_config *cfg;
    const struct hz_asset *assets;
    hz_store *store;
    time_t checked;                    /* last swap check (monotonic seconds) */
    unsigned char key[32];             /* session key, random per process */
    char session[HZ_DASH_SESSION_HEX]; /* the cookie value of the valid token */
    struct hz_qopts qopts;
    struct dash_cache cache;
};

/* clang-format off */
static const char csp[] =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
/* clang-format on */

/* ================================================================ pure helpers */

/*
 * Constant time in the secret's length: every byte of b is visited and
 * differences are OR-ed, never returned early.
 */
int
hz_dash_ct_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned char diff = (unsigned char)(alen != blen);

    /* Walk the secret's length whatever a is; read a only inside its bounds. */
    for (size_t i = 0; i < blen; i++) {
        unsigned char x = i < alen ? (unsigned char)a[i] : 0;
        diff |= (unsigned char)(x ^ (unsigned char)b[i]);
    }
    return diff == 0;
}

/*
 * Two SipHash-2-4 outputs under the two halves of the process key: 128 bits
 * that prove knowledge of the token without containing it.
 */
void
hz_dash_session(const unsigned char key[32], const char *token, char out[HZ_DASH_SESSION_HEX])
{
    unsigned char mac[16];
    uint64_t h1 = hz_siphash(key, token, strlen(token));
    uint64_t h2 = hz_siphash(key + 16, token, strlen(token));

    for (int i = 0; i < 8; i++) {
        mac[i] = (unsigned char)(h1 >> (8 * i));
        mac[8 + i] = (unsigned char)(h2 >> (8 * i));
    }
    hz_hex(out, mac, sizeof(mac));
    explicit_bzero(mac, sizeof(mac));
}

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
dash_401(struct evhttp_request *req)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                      "Bearer realm=\"haze\"");
    dash_error(req, 401, "Unauthorized", "missing or wrong token");
}

/* ================================================================ store */

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

/* 1 if the request carries the right bearer token or session cookie. */
static int
dash_authed(hz_dash *d, struct evhttp_request *req)
{
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    const char *auth = evhttp_find_header(h, "Authorization");
    const char *cookie = evhttp_find_header(h, "Cookie");
    const char *v;
    size_t len;

    if (auth != NULL && strncmp(auth, "Bearer ", 7) == 0) {
        const char *tok = auth + 7;
        while (*tok == ' ')
            tok++;
        return hz_dash_ct_equal(tok, strlen(tok), d->cfg->token, strlen(d->cfg->token));
    }
    if (cookie != NULL && hz_dash_cookie(cookie, HZ_DASH_COOKIE, &v, &len))
        return hz_dash_ct_equal(v, len, d->session, strlen(d->session));
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

/* POST /login: the form's token; on success the session cookie. */
static void
dash_login(hz_dash *d, struct evhttp_request *req)
{
    char tok[sizeof(d->cfg->token) + 1];
    char cookie[128];
    size_t len;
    char *body = dash_body(req, HZ_DASH_LOGIN_BODY_MAX, &len);
    long n;

    if (body == NULL) {
        dash_error(req, 413, "Payload Too Large", "body: the login form is at most 512 bytes");
        return;
    }
    n = hz_dash_form_field(body, len, "token", tok, sizeof(tok));
    explicit_bzero(body, len);
    free(body);
    if (n < 0 || !hz_dash_ct_equal(tok, (size_t)n, d->cfg->token, strlen(d->cfg->token))) {
        explicit_bzero(tok, sizeof(tok));
        hz_log_info("%s: failed login", __func__);
        dash_redirect(req, "/?login=failed");
        return;
    }
    explicit_bzero(tok, sizeof(tok));
    (void)snprintf(cookie, sizeof(cookie), "%s=%s; HttpOnly; SameSite=Strict; Path=/",
                   HZ_DASH_COOKIE, d->session);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie", cookie);
    dash_redirect(req, "/");
}

/* POST /logout: expires the session cookie. */
static void
dash_logout(struct evhttp_request *req)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie",
                      HZ_DASH_COOKIE "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
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
    for (int f = 0; f < s->nfunnels && rc == 0; f++)
        if (q->funnel < 0 || q->funnel == f)
            rc = hz_store_funnel(t, q->site, s->funnels[f].name, s->funnels[f].nsteps, q->from,
                                 q->to, steps[f]);
    if (rc != 0) {
        free(steps);
        return hz_err_set(err, HZ_ESTORE, "funnel: %s", hz_strerror(rc));
    }
    hz_jsonw_init(&w);
    hz_api_funnels(&w, q, s, steps);
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
    {"/api/haze/sites", HZ_API_HAZE_SITES},
};

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
    if (route == HZ_API_V2 && cmd != EVHTTP_REQ_POST) {
        dash_405(req, "POST");
        return;
    }
    if (route != HZ_API_V2 && cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        dash_405(req, "GET, HEAD");
        return;
    }
    if (route == HZ_API_SITES || route == HZ_API_HAZE_SITES) {
        hz_jsonw_init(&w);
        if (route == HZ_API_SITES)
            hz_api_sites(&w, d->cfg);
        else
            hz_api_haze_sites(&w, d->cfg, now);
        dash_json(d, req, 200, "OK", &w);
        return;
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
    if (rc == HZ_ENOTFOUND) {
        dash_error(req, 401, "Unauthorized", err.msg); /* unknown site: Plausible's answer */
        goto done;
    }
    if (rc != 0) {
        dash_error(req, 400, "Bad Request", err.msg);
        goto done;
    }
    dash_store_check(d);
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
    int authed;

    if (path == NULL || path[0] == '\0')
        path = "/";
    authed = dash_authed(d, req);
    if (!authed && target != NULL && strlen(target) > HZ_DASH_PREAUTH_URI_MAX) {
        dash_error(req, 414, "URI Too Long", "uri: too long");
        return;
    }
    if (strncmp(path, "/api/", 5) == 0) {
        if (!authed) {
            dash_401(req);
            return;
        }
        dash_api(d, req, path, query);
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
            dash_logout(req);
        return;
    }
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        dash_405(req, "GET, HEAD");
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
 * Limits are set explicitly; libevent 2.1's defaults are unlimited.
 * The session value is computed once: checking a cookie is then one
 * constant-time comparison.
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
    d->checked = dash_monotonic();
    arc4random_buf(d->key, sizeof(d->key));
    hz_dash_session(d->key, cfg->token, d->session);
    d->http = evhttp_new(base);
    if (d->http == NULL) {
        free(d);
        return hz_err_set(err, ENOMEM, "evhttp_new failed");
    }
    evhttp_set_max_headers_size(d->http, HZ_DASH_HEADERS_MAX);
    evhttp_set_max_body_size(d->http, HZ_DASH_BODY_MAX);
    evhttp_set_timeout(d->http, HZ_DASH_TIMEOUT_S);
    evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
    evhttp_set_default_content_type(d->http, "application/json; charset=utf-8");
    evhttp_set_gencb(d->http, dash_request, d);
    *out = d;
    return 0;
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
    return 0;
}

/* Removing the listener lets established connections finish. */
void
hz_dash_stop(hz_dash *d)
{
    if (d->sock != NULL) {
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
    cache_flush(&d->cache);
    free(d->cache.want);
    hz_store_close(d->store);
    explicit_bzero(d->key, sizeof(d->key));
    explicit_bzero(d->session, sizeof(d->session));
    free(d);
}
