/* SPDX-License-Identifier: MIT */
/*
 * http.c - evhttp handlers of the collector and the per-thread worker.
 *
 * A hit's path: limits -> parse (beacon.c) -> pipeline (pipeline.c) ->
 * publisher (publish.c); the reply is sent from the publisher's callback,
 * once the record is in Redis or in the spool. The request's raw address
 * and user agent are only read inside http_hit and the pipeline.
 */
#include "collector/http.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "collector/beacon.h"
#include "collector/metrics.h"
#include "collector/pipeline.h"
#include "collector/publish.h"
#include "collector/ua.h"
#include "common/asset.h"
#include "common/conns.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/str.h"

struct hz_worker {
    int id, nthreads;
    const struct hz_config *cfg;
    const hz_geo *geo;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    hz_conns *conns; /* connection cap, request deadline, accept backoff */
    hz_pub *pub;
    struct hz_ua_cache *ua_cache;
    struct event *stop_ev;
    int stop_flushed;
    int stopped; /* past the loop's end: hits are no longer taken */
    unsigned char id_key[HZ_SIPHASH_KEY];
    uint64_t id_seq;
    int pending; /* replies not yet sent */
    int stop_rounds;
};

/* A transparent 1x1 GIF89a: header, logical screen (1x1, 2-colour global
 * table), the table, a graphic control extension making colour 0
 * transparent, an image descriptor, LZW data for one pixel, trailer. */
static const unsigned char http_gif[] = {
    'G', 'I', 'F', '8', '9', 'a',  1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x21, 0xf9, 4,
    1,   0,   0,   0,   0,   0x2c, 0, 0, 0, 0, 1,    0, 1, 0, 0, 2, 2,    0x44, 1,    0,    0x3b,
};

int
hz_http_status(int rc)
{
    switch (rc) {
    case 0:
        return 202;
    case HZ_ETOOBIG:
        return 413;
    case HZ_ETOOLONGURL:
        return 414;
    case HZ_EHEADERS:
        return 431;
    case HZ_ENOSITE:
        return 403;
    case HZ_EUNAVAIL:
    case HZ_EFULL:
        return 503;
    case HZ_EFORBIDDEN:
        return 403;
    default:
        return 400;
    }
}

static const char *
http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

/* Replies with a one-line text body. */
static void
http_text(struct evhttp_request *req, int status, const char *line)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    struct evbuffer *b = evbuffer_new();

    evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    if (b != NULL)
        evbuffer_add_printf(b, "%s\n", line);
    evhttp_send_reply(req, status, http_reason(status), b);
    if (b != NULL)
        evbuffer_free(b);
}

static void
http_gif_reply(struct evhttp_request *req)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    struct evbuffer *b = evbuffer_new();

    evhttp_add_header(h, "Content-Type", "image/gif");
    evhttp_add_header(h, "Cache-Control", "no-store, max-age=0");
    evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
    if (b != NULL)
        evbuffer_add_reference(b, http_gif, sizeof(http_gif), NULL, NULL);
    evhttp_send_reply(req, 200, "OK", b);
    if (b != NULL)
        evbuffer_free(b);
}

/* ------------------------------------------------------------ the hit */

struct http_pending {
    struct evhttp_request *req;
    hz_worker *w;
    int pixel;
};

static void
http_hit_done(void *arg, int rc)
{
    struct http_pending *hp = arg;

    hp->w->pending--;
    if (rc == 0) {
        HZ_METRIC_ADD(accepted, 1);
        if (hp->pixel)
            http_gif_reply(hp->req);
        else
            http_text(hp->req, 202, "ok");
    } else {
        HZ_METRIC_ADD(dropped[HZ_DROP_SPOOL_FULL], 1);
        http_text(hp->req, 503, "service unavailable: buffer full, try again later");
    }
    free(hp);
}

/* Checks the request line and header sizes against the configured limits
 * (evhttp's own limit is set higher, so these exact codes are ours). */
static int
http_limits(hz_worker *w, struct evhttp_request *req, struct hz_err *err)
{
    const char *uri = evhttp_request_get_uri(req);
    struct evkeyvalq *hs = evhttp_request_get_input_headers(req);
    struct evkeyval *kv;
    size_t total = 0;

    if (uri != NULL && strlen(uri) > (size_t)w->cfg->max_url)
        return hz_err_set(err, HZ_ETOOLONGURL, "request URI longer than %ld bytes",
                          w->cfg->max_url);
    TAILQ_FOREACH (kv, hs, next) {
        total += strlen(kv->key) + strlen(kv->value) + 4;
    }
    if (total > (size_t)w->cfg->max_headers)
        return hz_err_set(err, HZ_EHEADERS, "request headers larger than %ld bytes",
                          w->cfg->max_headers);
    return 0;
}

static int
http_header_is_one(struct evkeyvalq *hs, const char *name)
{
    const char *v = evhttp_find_header(hs, name);
    return v != NULL && v[0] == '1' && (v[1] == '\0' || v[1] == ' ');
}

/* Validates a header that goes into the pipeline: text only. */
static int
http_header_text(const char *v, size_t *len)
{
    if (v == NULL) {
        *len = 0;
        return 0;
    }
    *len = strlen(v);
    return hz_text_valid(v, *len) ? 0 : HZ_EINVAL;
}

/* Every X-Forwarded-For and Forwarded line, in the order they came, as
 * one list for proxy.c; text only. More than HZ_PROXY_LINES_MAX lines
 * give HZ_PROXY_LINES_MAX + 1 entries, which proxy.c refuses when the
 * peer is a trusted proxy. 0, or HZ_EINVAL. */
static int
http_forward_lines(struct evkeyvalq *hs, struct hz_proxy_line *lines, int *n)
{
    struct evkeyval *kv;

    *n = 0;
    TAILQ_FOREACH(kv, hs, next) {
        int fwd = strcasecmp(kv->key, "Forwarded") == 0;
        if (!fwd && strcasecmp(kv->key, "X-Forwarded-For") != 0)
            continue;
        if (*n > HZ_PROXY_LINES_MAX)
            return 0;
        lines[*n].v = kv->value;
        lines[*n].fwd = fwd;
        if (http_header_text(kv->value, &lines[*n].len) != 0)
            return HZ_EINVAL;
        (*n)++;
    }
    return 0;
}

static uint64_t
http_now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Counts a drop and answers: 202 (or the GIF) for filtered hits, which
 * must look accepted to the client, the status of rc otherwise. */
static void
http_drop(hz_worker *w, struct evhttp_request *req, const struct hz_site *site, enum hz_drop d,
          int rc, const struct hz_err *err, int pixel)
{
    hz_pub_count_drop(w->pub, site, w->cfg, d);
    if (rc == HZ_EFILTERED) {
        if (pixel)
            http_gif_reply(req);
        else
            http_text(req, 202, "ok");
        return;
    }
    http_text(req, hz_http_status(rc), err->msg[0] ? err->msg : hz_strerror(rc));
}

/* One hit from /api/event (pixel = 0) or /p.gif (pixel = 1). */
static void
http_hit(hz_worker *w, struct evhttp_request *req, int pixel)
{
    char arena_mem[16384];
    struct hz_arena arena;
    struct hz_beacon b;
    struct hz_err err = {0, ""};
    struct evkeyvalq *hs = evhttp_request_get_input_headers(req);
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    struct hz_hit_in in;
    struct hz_pipeline pl;
    struct hz_record rec;
    struct http_pending *hp;
    enum hz_drop drop = HZ_DROP_INVALID;
    const struct sockaddr *peer;
    struct hz_proxy_line lines[HZ_PROXY_LINES_MAX + 1];
    const char *raw_ua, *ref;
    int rc;

    memset(&in, 0, sizeof(in));
    hz_arena_init(&arena, arena_mem, sizeof(arena_mem));
    if ((rc = http_limits(w, req, &err)) != 0) {
        http_drop(w, req, NULL, HZ_DROP_TOO_BIG, rc, &err, 0);
        return;
    }
    if (pixel) {
        const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
        rc = hz_beacon_parse_query(q ? q : "", q ? strlen(q) : 0, &arena, &b, &err);
    } else {
        struct evbuffer *in_buf = evhttp_request_get_input_buffer(req);
        const char *ct = evhttp_find_header(hs, "Content-Type");
        size_t len = evbuffer_get_length(in_buf);
        if (ct != NULL && strncasecmp(ct, "text/plain", 10) != 0 &&
            strncasecmp(ct, "application/json", 16) != 0) {
            hz_pub_count_drop(w->pub, NULL, w->cfg, HZ_DROP_INVALID);
            http_text(req, 415, "content type must be text/plain or application/json");
            return;
        }
        if (len > (size_t)w->cfg->max_body) {
            err.code = HZ_ETOOBIG;
            (void)hz_err_set(&err, HZ_ETOOBIG, "body larger than %ld bytes", w->cfg->max_body);
            http_drop(w, req, NULL, HZ_DROP_TOO_BIG, HZ_ETOOBIG, &err, 0);
            return;
        }
        const char *body = (const char *)evbuffer_pullup(in_buf, -1);
        rc = hz_beacon_parse_json(body ? body : "", len, &arena, &b, &err);
    }
    if (rc != 0) {
        http_drop(w, req, NULL, rc == HZ_ETOOBIG ? HZ_DROP_TOO_BIG : HZ_DROP_INVALID, rc, &err, 0);
        return;
    }

    raw_ua = evhttp_find_header(hs, "User-Agent");
    ref = evhttp_find_header(hs, "Referer");
    if (http_header_text(raw_ua, &in.ua_len) != 0 || http_header_text(ref, &in.referer_len) != 0 ||
        http_forward_lines(hs, lines, &in.nlines) != 0) {
        (void)hz_err_set(&err, HZ_EINVAL, "header with invalid UTF-8 or control bytes");
        http_drop(w, req, NULL, HZ_DROP_INVALID, HZ_EINVAL, &err, 0);
        return;
    }
    in.lines = lines;
    in.raw_ua = raw_ua ? raw_ua : "";
    {
        /* Client Hints, when the browser sends them (Chromium over HTTPS). */
        const char *mob = evhttp_find_header(hs, "Sec-CH-UA-Mobile");
        const char *plat = evhttp_find_header(hs, "Sec-CH-UA-Platform");
        hz_ua_hints_parse(&in.ua_hints, mob, mob ? strlen(mob) : 0, plat, plat ? strlen(plat) : 0);
        const char *full = evhttp_find_header(hs, "Sec-CH-UA-Full-Version-List");
        const char *brands = evhttp_find_header(hs, "Sec-CH-UA");
        const char *pver = evhttp_find_header(hs, "Sec-CH-UA-Platform-Version");
        hz_ua_hints_versions(&in.ua_hints, full, full ? strlen(full) : 0, brands,
                             brands ? strlen(brands) : 0, pver, pver ? strlen(pver) : 0);
    }
    /* Fetch metadata only a browser sends (pipeline.h: browser_fetch). */
    in.browser_fetch = evhttp_find_header(hs, "Sec-Fetch-Mode") != NULL ||
                       evhttp_find_header(hs, "Origin") != NULL;
    in.referer = ref;
    peer = evhttp_connection_get_addr(conn);
    if (peer == NULL) {
        http_text(req, 400, "no peer address");
        return;
    }
    in.peer = peer;
    in.dnt = http_header_is_one(hs, "DNT");
    in.gpc = http_header_is_one(hs, "Sec-GPC");
    in.pixel = pixel;
    in.now_ms = http_now_ms();
    in.b = &b;

    pl.cfg = w->cfg;
    pl.geo = w->geo;
    pl.ua_cache = w->ua_cache;
    pl.salts = hz_pub_salts(w->pub);
    pl.session_ms = w->cfg->session_minutes * 60000L;
    pl.id_key = w->id_key;
    pl.id_seq = &w->id_seq;
    rc = hz_pipeline_run(&pl, &in, &rec, &drop, &err);
    if (rc != 0) {
        const struct hz_site *site =
            rc == HZ_ENOSITE ? NULL : hz_cfg_site(w->cfg, b.domain, strcspn(b.domain, ","));
        http_drop(w, req, site, drop, rc, &err, pixel);
        explicit_bzero(arena_mem, arena.used);
        return;
    }
    explicit_bzero(arena_mem, arena.used);

    if (w->stopped) {
        /* The loop only runs on for the publisher's last answers: an answer
         * given now might never be written, so the hit is not taken. */
        http_text(req, 503, "shutting down");
        return;
    }
    hp = malloc(sizeof(*hp));
    if (hp == NULL) {
        http_text(req, 503, "out of memory");
        return;
    }
    hp->req = req;
    hp->w = w;
    hp->pixel = pixel;
    w->pending++;
    hz_pub_send(w->pub, &rec, http_hit_done, hp);
    explicit_bzero(&rec, sizeof(rec));
}

/* ------------------------------------------------------------ other routes */

static void
http_asset(struct evhttp_request *req, const char *path)
{
    const struct hz_asset *a = hz_asset_find(collector_assets, path);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    const char *inm;
    struct evbuffer *b;

    if (a == NULL) {
        http_text(req, 404, "not found");
        return;
    }
    evhttp_add_header(h, "Content-Type", a->ctype);
    evhttp_add_header(h, "ETag", a->etag);
    evhttp_add_header(h, "Cache-Control", "public, max-age=3600");
    evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    inm = evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
    if (inm != NULL && strcmp(inm, a->etag) == 0) {
        evhttp_send_reply(req, 304, "Not Modified", NULL);
        return;
    }
    b = evbuffer_new();
    if (b != NULL)
        evbuffer_add_reference(b, a->data, a->len, NULL, NULL);
    evhttp_send_reply(req, 200, "OK", b);
    if (b != NULL)
        evbuffer_free(b);
}

static void
http_metrics(hz_worker *w, struct evhttp_request *req)
{
    char buf[8192];
    size_t n = hz_metrics_render(buf, sizeof(buf), w->nthreads);
    struct evbuffer *b = evbuffer_new();

    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4; charset=utf-8");
    if (b != NULL)
        evbuffer_add(b, buf, n);
    evhttp_send_reply(req, 200, "OK", b);
    if (b != NULL)
        evbuffer_free(b);
}

/* A known path asked with a method it does not take. */
static void
http_405(struct evhttp_request *req, const char *allow, const char *line)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
    http_text(req, 405, line);
}

/* The CORS preflight a browser sends before posting application/json
 * from the site's origin: any origin may post hits (no credentials). */
static void
http_preflight(struct evhttp_request *req)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);

    evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
    evhttp_add_header(h, "Access-Control-Allow-Methods", "POST, OPTIONS");
    evhttp_add_header(h, "Access-Control-Allow-Headers", "Content-Type");
    evhttp_add_header(h, "Access-Control-Max-Age", "86400");
    evhttp_add_header(h, "Allow", "POST, OPTIONS");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_send_reply(req, 204, "No Content", NULL);
}

/* [collector] metrics_allow: /metrics only for the listed networks (the
 * direct peer; a forwarded address cannot widen it). */
static int
http_metrics_allowed(hz_worker *w, struct evhttp_request *req)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    const struct sockaddr *peer = conn ? evhttp_connection_get_addr(conn) : NULL;

    return peer != NULL && hz_cidrset_match(&w->cfg->metrics_allow, peer);
}

static void
http_route(struct evhttp_request *req, void *arg)
{
    hz_worker *w = arg;
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *path = u ? evhttp_uri_get_path(u) : NULL;
    enum evhttp_cmd_type m = evhttp_request_get_command(req);

    hz_conns_request(w->conns, req);
    HZ_METRIC_ADD(requests, 1);
    if (path == NULL) {
        hz_pub_count_drop(w->pub, NULL, w->cfg, HZ_DROP_INVALID);
        http_text(req, 400, "malformed request URI");
        return;
    }
    if (strcmp(path, "/api/event") == 0) {
        if (m == EVHTTP_REQ_POST)
            http_hit(w, req, 0);
        else if (m == EVHTTP_REQ_OPTIONS)
            http_preflight(req);
        else
            http_405(req, "POST, OPTIONS", "use POST");
        return;
    }
    if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
        if (strcmp(path, "/p.gif") == 0 || strcmp(path, "/healthz") == 0 ||
            strcmp(path, "/metrics") == 0 || hz_asset_find(collector_assets, path) != NULL)
            http_405(req, "GET, HEAD", "use GET");
        else
            http_text(req, 404, "not found");
        return;
    }
    if (strcmp(path, "/p.gif") == 0)
        http_hit(w, req, 1);
    else if (strcmp(path, "/haze.js") == 0)
        http_asset(req, path);
    else if (strcmp(path, "/healthz") == 0)
        http_text(req, 200,
                  atomic_load(&hz_metrics.redis_up) > 0 ? "ok" : "ok (redis down: spooling)");
    else if (strcmp(path, "/metrics") == 0 && !http_metrics_allowed(w, req))
        http_text(req, 403, "forbidden: /metrics is limited to [collector] metrics_allow");
    else if (strcmp(path, "/metrics") == 0)
        http_metrics(w, req);
    else
        http_text(req, 404, "not found");
}

/* ------------------------------------------------------------ worker */

evutil_socket_t
hz_http_listen(const struct hz_config *cfg, struct hz_err *err)
{
    const struct hz_addr *a = &cfg->collector_listen;
    struct sockaddr_storage ss;
    socklen_t sl;
    evutil_socket_t fd;
    int one = 1;

    if (hz_ip_parse(a->host, strlen(a->host), &ss) != 0) {
        hz_err_set(err, HZ_ECONFIG, "%s: [collector] listen: host must be a numeric address",
                   cfg->path);
        return -1;
    }
    if (ss.ss_family == AF_INET) {
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)a->port);
        sl = sizeof(struct sockaddr_in);
    } else {
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)a->port);
        sl = sizeof(struct sockaddr_in6);
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        if (fd >= 0)
            (void)close(fd);
        hz_err_set(err, e, "cannot listen on %s:%d: %s", a->host, a->port, strerror(e));
        return -1;
    }
    return fd;
}

static void
http_stop_cb(evutil_socket_t fd, short what, void *arg)
{
    hz_worker *w = arg;
    struct timeval tv = {0, 20000};

    (void)fd;
    (void)what;
    if (w->bound != NULL) {
        /* Stop accepting; connections already open are answered. */
        hz_conns_unlisten(w->conns);
        evhttp_del_accept_socket(w->http, w->bound);
        w->bound = NULL;
    }
    if (w->pending > 0) {
        if (++w->stop_rounds < 250) { /* at most ~5 s */
            event_add(w->stop_ev, &tv);
            return;
        }
    } else if (!w->stop_flushed) {
        /* Answers given in this turn are still in their buffers: one more
         * round lets them be written before the connections are freed
         * (an accepted hit whose 202 never arrives would be counted
         * although its client saw a failure). */
        w->stop_flushed = 1;
        event_add(w->stop_ev, &tv);
        return;
    }
    w->stopped = 1;
    event_base_loopexit(w->base, NULL);
}

int
hz_worker_new(hz_worker **out, const struct hz_config *cfg, const hz_geo *geo, evutil_socket_t fd,
              int id, int nthreads, long retry_ms, struct hz_err *err)
{
    hz_worker *w = hz_xcalloc(1, sizeof(*w));
    struct timeval tmo = {cfg->timeout_ms / 1000, (cfg->timeout_ms % 1000) * 1000};
    int rc;

    w->id = id;
    w->nthreads = nthreads;
    w->cfg = cfg;
    w->geo = geo;
    {
        /* Coalesce epoll_ctl calls within one loop iteration: a request
         * toggles read and write interest several times. */
        struct event_config *ec = event_config_new();
        if (ec != NULL) {
            (void)event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
            w->base = event_base_new_with_config(ec);
            event_config_free(ec);
        }
    }
    w->http = w->base ? evhttp_new(w->base) : NULL;
    if (w->http == NULL) {
        free(w);
        return hz_err_set(err, ENOMEM, "cannot create the event loop");
    }
    /* evhttp's defaults are unlimited: cap everything. Its header limit
     * sits above ours so that http_limits answers 414/431 itself. */
    evhttp_set_max_headers_size(w->http, (ev_ssize_t)(cfg->max_headers + cfg->max_url + 1024));
    evhttp_set_max_body_size(w->http, (ev_ssize_t)cfg->max_body);
    evhttp_set_timeout_tv(w->http, &tmo);
    /* Every method reaches http_route, which answers 405 with Allow for a
     * known path (evhttp's own answer to the others would be 501). */
    evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH |
                                            EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT);
    evhttp_set_default_content_type(w->http, "text/plain; charset=utf-8");
    evhttp_set_gencb(w->http, http_route, w);
    /* max_connections is the process's: each thread takes its share. */
    w->conns = hz_conns_new(w->base, w->http,
                            (cfg->collector_max_conns + nthreads - 1) / nthreads,
                            cfg->collector_request_ms, "collector");
    w->bound = w->conns != NULL ? evhttp_accept_socket_with_handle(w->http, fd) : NULL;
    if (w->bound != NULL)
        hz_conns_listen(w->conns, w->bound);
    if (w->bound == NULL) {
        evhttp_free(w->http);
        hz_conns_free(w->conns);
        event_base_free(w->base);
        free(w);
        return hz_err_set(err, EINVAL, "cannot accept on the listener");
    }
    arc4random_buf(w->id_key, sizeof(w->id_key));
    w->ua_cache = hz_xmalloc(sizeof(*w->ua_cache));
    hz_ua_cache_init(w->ua_cache);
    rc = hz_pub_open(&w->pub, w->base, cfg, id, retry_ms, err);
    if (rc != 0) {
        evhttp_free(w->http);
        hz_conns_free(w->conns);
        event_base_free(w->base);
        free(w->ua_cache);
        free(w);
        return rc;
    }
    w->stop_ev = event_new(w->base, -1, 0, http_stop_cb, w);
    *out = w;
    return 0;
}

void
hz_worker_set_tls(hz_worker *w, hz_tls *tls)
{
    hz_conns_set_bev(w->conns, hz_tls_bev, tls);
}

void *
hz_worker_run(void *arg)
{
    hz_worker *w = arg;

    (void)event_base_dispatch(w->base);
    return NULL;
}

void
hz_worker_stop(hz_worker *w)
{
    event_active(w->stop_ev, EV_TIMEOUT, 0);
}

void
hz_worker_free(hz_worker *w)
{
    if (w == NULL)
        return;
    hz_pub_close(w->pub);
    if (w->stop_ev != NULL)
        event_free(w->stop_ev);
    evhttp_free(w->http);
    hz_conns_free(w->conns); /* after evhttp_free: it closes through it */
    event_base_free(w->base);
    free(w->ua_cache);
    free(w);
}
