/* SPDX-License-Identifier: MIT */
/*
 * http.c - the collector's routes on its HTTP front (front.c), and the
 * per-thread worker.
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
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "collector/beacon.h"
#include "collector/front.h"
#include "collector/metrics.h"
#include "collector/pipeline.h"
#include "collector/publish.h"
#include "collector/ua.h"
#include "common/asset.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/str.h"

struct hz_worker {
    int id, nthreads;
    const struct hz_config *cfg;
    const hz_geo *geo;
    struct event_base *base;
    hz_front *front; /* connections, limits, deadlines, accept backoff */
    int listening;
    hz_pub *pub;
    struct hz_ua_cache *ua_cache;
    struct event *stop_ev; /* the rounds of stopping (a timer) */
    struct event *stop_rd; /* stop_fd readable: hz_worker_stop was called */
    int stop_fd;           /* an eventfd: the one thing another thread touches */
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

#define HTTP_TEXT_HDRS                                                                             \
    "Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n"                       \
    "Access-Control-Allow-Origin: *\r\nX-Content-Type-Options: nosniff\r\n"
#define HTTP_GIF_HDRS                                                                              \
    "Content-Type: image/gif\r\nCache-Control: no-store, max-age=0\r\n"                            \
    "Access-Control-Allow-Origin: *\r\n"

/* Replies with a one-line text body; extra: more header lines or NULL. */
static void
http_text(struct hz_front_slot *s, int status, const char *line, const char *extra)
{
    char body[512];
    size_t n = strlen(line);

    if (n > sizeof(body) - 2)
        n = sizeof(body) - 2;
    memcpy(body, line, n);
    body[n++] = '\n';
    hz_front_reply(s, status, HTTP_TEXT_HDRS, extra, body, n);
}

static void
http_gif_reply(struct hz_front_slot *s)
{
    hz_front_reply(s, 200, HTTP_GIF_HDRS, NULL, http_gif, sizeof(http_gif));
}

/* ------------------------------------------------------------ the hit */

/* The publisher's answer (tag: 1 for the pixel). */
static void
http_hit_done(void *arg, int rc)
{
    struct hz_front_slot *s = arg;
    hz_worker *w = hz_front_slot_arg(s);

    w->pending--;
    if (rc == 0) {
        HZ_METRIC_ADD(accepted, 1);
        if (*hz_front_slot_tag(s))
            http_gif_reply(s);
        else
            http_text(s, 202, "ok", NULL);
    } else {
        HZ_METRIC_ADD(dropped[HZ_DROP_SPOOL_FULL], 1);
        http_text(s, 503, "service unavailable: buffer full, try again later", NULL);
    }
}

/* The headers a hit reads besides the forwarding ones, found in one pass
 * over the request's headers: each the first of its name, ignoring case,
 * as hz_req_header gives it (a browser sends a dozen headers, and a look
 * up per name would walk them a dozen times). */
enum http_hh {
    HH_UA,
    HH_REFERER,
    HH_CH_MOBILE,
    HH_CH_PLATFORM,
    HH_CH_FULL,
    HH_CH_UA,
    HH_CH_PVER,
    HH_FETCH_MODE,
    HH_ORIGIN,
    HH_DNT,
    HH_GPC,
    HH_N
};
#define HH(s)                                                                                      \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }
static const struct {
    const char *name;
    uint32_t len;
} http_hh[HH_N] = {
    [HH_UA] = HH("User-Agent"),
    [HH_REFERER] = HH("Referer"),
    [HH_CH_MOBILE] = HH("Sec-CH-UA-Mobile"),
    [HH_CH_PLATFORM] = HH("Sec-CH-UA-Platform"),
    [HH_CH_FULL] = HH("Sec-CH-UA-Full-Version-List"),
    [HH_CH_UA] = HH("Sec-CH-UA"),
    [HH_CH_PVER] = HH("Sec-CH-UA-Platform-Version"),
    [HH_FETCH_MODE] = HH("Sec-Fetch-Mode"),
    [HH_ORIGIN] = HH("Origin"),
    [HH_DNT] = HH("DNT"),
    [HH_GPC] = HH("Sec-GPC"),
};
#undef HH

struct http_hh_vals {
    const char *v[HH_N]; /* NULL: not sent */
    size_t len[HH_N];    /* 0 when not sent */
};

static void
http_hit_headers(const struct hz_req *r, struct http_hh_vals *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 0; i < r->nh; i++) {
        const struct hz_hdr *h = &r->h[i];
        for (int k = 0; k < HH_N; k++)
            if (h->name_len == http_hh[k].len && o->v[k] == NULL &&
                strncasecmp(h->name, http_hh[k].name, h->name_len) == 0) {
                o->v[k] = h->value;
                o->len[k] = h->value_len;
                break;
            }
    }
}

static int
http_header_is_one(const struct http_hh_vals *hh, enum http_hh k)
{
    const char *v = hh->v[k];
    return v != NULL && v[0] == '1' && (v[1] == '\0' || v[1] == ' ');
}

/* Validates a header that goes into the pipeline: text only. */
static int
http_header_text(const struct http_hh_vals *hh, enum http_hh k, const char **v, size_t *len)
{
    *v = hh->v[k];
    *len = hh->len[k];
    return *v == NULL || hz_text_valid(*v, *len) ? 0 : HZ_EINVAL;
}

/* Every X-Forwarded-For and Forwarded line, in the order they came, as
 * one list for proxy.c; text only. More than HZ_PROXY_LINES_MAX lines
 * give HZ_PROXY_LINES_MAX + 1 entries, which proxy.c refuses when the
 * peer is a trusted proxy. 0, or HZ_EINVAL. */
static int
http_forward_lines(const struct hz_req *r, struct hz_proxy_line *lines, int *n)
{
    *n = 0;
    for (int i = 0; i < r->nh; i++) {
        const struct hz_hdr *h = &r->h[i];
        int fwd = h->name_len == 9 && strcasecmp(h->name, "Forwarded") == 0;
        if (!fwd && (h->name_len != 15 || strcasecmp(h->name, "X-Forwarded-For") != 0))
            continue;
        if (*n > HZ_PROXY_LINES_MAX)
            return 0;
        lines[*n].v = h->value;
        lines[*n].fwd = fwd;
        lines[*n].len = h->value_len;
        if (!hz_text_valid(h->value, h->value_len))
            return HZ_EINVAL;
        (*n)++;
    }
    return 0;
}

/* Content-Type of a hit: text/plain or application/json, with parameters
 * or none; anything else (text/plainevil...) is refused. */
static int
http_hit_ctype(const struct hz_req *r)
{
    size_t len, k;
    const char *ct = hz_req_header(r, "Content-Type", &len);

    if (ct == NULL)
        return 1;
    k = strcspn(ct, "; \t");
    return (k == 10 && strncasecmp(ct, "text/plain", 10) == 0) ||
           (k == 16 && strncasecmp(ct, "application/json", 16) == 0);
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
http_drop(hz_worker *w, struct hz_front_slot *s, const struct hz_site *site, enum hz_drop d, int rc,
          const struct hz_err *err, int pixel)
{
    hz_pub_count_drop(w->pub, site, w->cfg, d);
    if (rc == HZ_EFILTERED) {
        if (pixel)
            http_gif_reply(s);
        else
            http_text(s, 202, "ok", NULL);
        return;
    }
    http_text(s, hz_http_status(rc), err->msg[0] ? err->msg : hz_strerror(rc), NULL);
}

/* One hit from /api/event (pixel = 0) or /p.gif (pixel = 1). The front
 * has checked the URI, header and body sizes. */
static void
http_hit(hz_worker *w, struct hz_req *req, int pixel)
{
    char arena_mem[16384];
    struct hz_arena arena;
    struct hz_beacon b;
    struct hz_err err = {0, ""};
    struct hz_hit_in in;
    struct hz_pipeline pl;
    struct hz_record rec;
    enum hz_drop drop = HZ_DROP_INVALID;
    struct hz_proxy_line lines[HZ_PROXY_LINES_MAX + 1];
    struct http_hh_vals hh;
    const char *raw_ua, *ref;
    int rc;

    memset(&in, 0, sizeof(in));
    hz_arena_init(&arena, arena_mem, sizeof(arena_mem));
    if (pixel) {
        rc = hz_beacon_parse_query(req->query ? req->query : "", req->query_len, &arena, &b, &err);
    } else {
        if (!http_hit_ctype(req)) {
            hz_pub_count_drop(w->pub, NULL, w->cfg, HZ_DROP_INVALID);
            http_text(req->slot, 415, "content type must be text/plain or application/json", NULL);
            return;
        }
        rc = hz_beacon_parse_json(req->body, req->body_len, &arena, &b, &err);
    }
    if (rc != 0) {
        http_drop(w, req->slot, NULL, rc == HZ_ETOOBIG ? HZ_DROP_TOO_BIG : HZ_DROP_INVALID, rc,
                  &err, 0);
        return;
    }

    http_hit_headers(req, &hh);
    if (http_header_text(&hh, HH_UA, &raw_ua, &in.ua_len) != 0 ||
        http_header_text(&hh, HH_REFERER, &ref, &in.referer_len) != 0 ||
        http_forward_lines(req, lines, &in.nlines) != 0) {
        (void)hz_err_set(&err, HZ_EINVAL, "header with invalid UTF-8 or control bytes");
        http_drop(w, req->slot, NULL, HZ_DROP_INVALID, HZ_EINVAL, &err, 0);
        return;
    }
    in.lines = lines;
    in.raw_ua = raw_ua ? raw_ua : "";
    /* Client Hints, when the browser sends them (Chromium over HTTPS). */
    hz_ua_hints_parse(&in.ua_hints, hh.v[HH_CH_MOBILE], hh.len[HH_CH_MOBILE], hh.v[HH_CH_PLATFORM],
                      hh.len[HH_CH_PLATFORM]);
    hz_ua_hints_versions(&in.ua_hints, hh.v[HH_CH_FULL], hh.len[HH_CH_FULL], hh.v[HH_CH_UA],
                         hh.len[HH_CH_UA], hh.v[HH_CH_PVER], hh.len[HH_CH_PVER]);
    /* Fetch metadata only a browser sends (pipeline.h: browser_fetch). */
    in.browser_fetch = hh.v[HH_FETCH_MODE] != NULL || hh.v[HH_ORIGIN] != NULL;
    in.referer = ref;
    in.peer = req->peer;
    in.dnt = http_header_is_one(&hh, HH_DNT);
    in.gpc = http_header_is_one(&hh, HH_GPC);
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
        http_drop(w, req->slot, site, drop, rc, &err, pixel);
        explicit_bzero(arena_mem, arena.used);
        return;
    }
    explicit_bzero(arena_mem, arena.used);

    if (w->stopped) {
        /* The loop only runs on for the publisher's last answers: an answer
         * given now might never be written, so the hit is not taken. */
        http_text(req->slot, 503, "shutting down", NULL);
        hz_record_wipe(&rec);
        return;
    }
    *hz_front_slot_tag(req->slot) = pixel;
    w->pending++;
    hz_pub_send(w->pub, &rec, http_hit_done, req->slot);
    hz_record_wipe(&rec);
}

/* ------------------------------------------------------------ other routes */

static void
http_asset(struct hz_req *req, const char *path)
{
    const struct hz_asset *a = hz_asset_find(collector_assets, path);
    char hdrs[512];
    const char *inm;

    if (a == NULL) {
        http_text(req->slot, 404, "not found", NULL);
        return;
    }
    (void)snprintf(hdrs, sizeof(hdrs),
                   "Content-Type: %s\r\nETag: %s\r\nCache-Control: public, max-age=3600\r\n"
                   "Access-Control-Allow-Origin: *\r\nX-Content-Type-Options: nosniff\r\n",
                   a->ctype, a->etag);
    inm = hz_req_header(req, "If-None-Match", NULL);
    if (inm != NULL && strcmp(inm, a->etag) == 0) {
        hz_front_reply(req->slot, 304, hdrs, NULL, NULL, 0);
        return;
    }
    hz_front_reply_static(req->slot, 200, hdrs, NULL, a->data, a->len);
}

static void
http_metrics(hz_worker *w, struct hz_req *req)
{
    char buf[8192];
    size_t n = hz_metrics_render(buf, sizeof(buf), w->nthreads);

    hz_front_reply(req->slot, 200, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n",
                   NULL, buf, n);
}

/* A known path asked with a method it does not take. */
static void
http_405(struct hz_req *req, const char *allow, const char *line)
{
    http_text(req->slot, 405, line, allow);
}

/* The CORS preflight a browser sends before posting application/json
 * from the site's origin: any origin may post hits (no credentials). */
static void
http_preflight(struct hz_req *req)
{
    hz_front_reply(
        req->slot, 204,
        "Access-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: POST, OPTIONS\r\n"
        "Access-Control-Allow-Headers: Content-Type\r\nAccess-Control-Max-Age: 86400\r\n"
        "Allow: POST, OPTIONS\r\nCache-Control: no-store\r\n",
        NULL, NULL, 0);
}

/* [collector] metrics_allow: /metrics only for the listed networks (the
 * direct peer; a forwarded address cannot widen it). */
static int
http_metrics_allowed(hz_worker *w, const struct hz_req *req)
{
    return req->peer != NULL && hz_cidrset_match(&w->cfg->metrics_allow, req->peer);
}

static void
http_route(struct hz_req *req, void *arg)
{
    hz_worker *w = arg;
    const char *path = req->path;
    enum hz_method m = req->method;

    HZ_METRIC_ADD(requests, 1);
    if (path == NULL) {
        hz_pub_count_drop(w->pub, NULL, w->cfg, HZ_DROP_INVALID);
        http_text(req->slot, 400, "malformed request URI", NULL);
        return;
    }
    if (strcmp(path, "/api/event") == 0) {
        if (m == HZ_M_POST)
            http_hit(w, req, 0);
        else if (m == HZ_M_OPTIONS)
            http_preflight(req);
        else
            http_405(req, "Allow: POST, OPTIONS\r\n", "use POST");
        return;
    }
    if (m != HZ_M_GET && m != HZ_M_HEAD) {
        if (strcmp(path, "/p.gif") == 0 || strcmp(path, "/healthz") == 0 ||
            strcmp(path, "/metrics") == 0 || hz_asset_find(collector_assets, path) != NULL)
            http_405(req, "Allow: GET, HEAD\r\n", "use GET");
        else
            http_text(req->slot, 404, "not found", NULL);
        return;
    }
    if (strcmp(path, "/p.gif") == 0)
        http_hit(w, req, 1);
    else if (strcmp(path, "/haze.js") == 0)
        http_asset(req, path);
    else if (strcmp(path, "/healthz") == 0)
        http_text(req->slot, 200,
                  atomic_load(&hz_metrics.redis_up) > 0 ? "ok" : "ok (redis down: spooling)", NULL);
    else if (strcmp(path, "/metrics") == 0 && !http_metrics_allowed(w, req))
        http_text(req->slot, 403, "forbidden: /metrics is limited to [collector] metrics_allow",
                  NULL);
    else if (strcmp(path, "/metrics") == 0)
        http_metrics(w, req);
    else
        http_text(req->slot, 404, "not found", NULL);
}

/* A request the front refused (malformed, or over a limit): counted as
 * evhttp's were, and over a limit as a too-big drop. */
static void
http_refused(void *arg, int status)
{
    hz_worker *w = arg;

    HZ_METRIC_ADD(requests, 1);
    if (status == 413 || status == 414 || status == 431)
        hz_pub_count_drop(w->pub, NULL, w->cfg, HZ_DROP_TOO_BIG);
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
    if (w->listening) {
        /* Stop accepting; connections already open are answered. */
        hz_front_unlisten(w->front);
        w->listening = 0;
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

/* hz_worker_stop's wake-up, on the worker's own thread. */
static void
http_stop_rd_cb(evutil_socket_t fd, short what, void *arg)
{
    uint64_t v;

    (void)what;
    if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        hz_log_warn("http_stop_rd_cb: read");
    http_stop_cb(-1, EV_TIMEOUT, arg);
}

int
hz_worker_new(hz_worker **out, const struct hz_config *cfg, const hz_geo *geo, evutil_socket_t fd,
              int id, int nthreads, long retry_ms, struct hz_err *err)
{
    hz_worker *w = hz_xcalloc(1, sizeof(*w));
    int rc;

    w->id = id;
    w->nthreads = nthreads;
    w->cfg = cfg;
    w->geo = geo;
    {
        /* Coalesce epoll_ctl calls within one loop iteration: a request
         * toggles read and write interest several times. No lock: only
         * this worker's thread touches its base (hz_worker_stop wakes it
         * through an eventfd), and every event_add would take one. */
        struct event_config *ec = event_config_new();
        if (ec != NULL) {
            (void)event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
            (void)event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
            w->base = event_base_new_with_config(ec);
            event_config_free(ec);
        }
    }
    if (w->base == NULL) {
        free(w);
        return hz_err_set(err, ENOMEM, "cannot create the event loop");
    }
    /* Before anything that may wait (hz_pub_open waits for Redis up to
     * retry_ms): every descriptor of the worker exists once it listens. */
    w->stop_ev = event_new(w->base, -1, 0, http_stop_cb, w);
    w->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->stop_fd >= 0)
        w->stop_rd = event_new(w->base, w->stop_fd, EV_READ, http_stop_rd_cb, w);
    if (w->stop_ev == NULL || w->stop_rd == NULL || event_add(w->stop_rd, NULL) != 0)
        hz_fatalx("hz_worker_new: cannot make the stop events");
    {
        /* max_connections is the process's: each thread takes its share. */
        struct hz_front_cfg fc = {
            .max_url = cfg->max_url,
            .max_headers = cfg->max_headers,
            .max_body = cfg->max_body,
            .timeout_ms = cfg->timeout_ms,
            .request_ms = cfg->collector_request_ms,
            .max_conns = (cfg->collector_max_conns + nthreads - 1) / nthreads,
            .who = "collector",
        };
        w->front = hz_front_new(w->base, fd, &fc, http_route, http_refused, w);
    }
    if (w->front == NULL) {
        event_free(w->stop_ev);
        event_free(w->stop_rd);
        (void)close(w->stop_fd);
        event_base_free(w->base);
        free(w);
        return hz_err_set(err, EINVAL, "cannot accept on the listener");
    }
    w->listening = 1;
    arc4random_buf(w->id_key, sizeof(w->id_key));
    w->ua_cache = hz_xmalloc(sizeof(*w->ua_cache));
    hz_ua_cache_init(w->ua_cache);
    rc = hz_pub_open(&w->pub, w->base, cfg, id, retry_ms, err);
    if (rc != 0) {
        hz_front_free(w->front);
        event_free(w->stop_ev);
        event_free(w->stop_rd);
        (void)close(w->stop_fd);
        event_base_free(w->base);
        free(w->ua_cache);
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void
hz_worker_set_tls(hz_worker *w, hz_tls *tls)
{
    hz_front_set_bev(w->front, hz_tls_bev, tls);
}

void *
hz_worker_run(void *arg)
{
    hz_worker *w = arg;

    (void)event_base_dispatch(w->base);
    return NULL;
}

/* From another thread: the worker's base has no lock, so it is only
 * woken, through its eventfd. */
void
hz_worker_stop(hz_worker *w)
{
    uint64_t one = 1;

    if (write(w->stop_fd, &one, sizeof(one)) < 0)
        hz_log_warn("hz_worker_stop: write");
}

void
hz_worker_free(hz_worker *w)
{
    if (w == NULL)
        return;
    hz_pub_close(w->pub);
    if (w->stop_ev != NULL)
        event_free(w->stop_ev);
    if (w->stop_rd != NULL)
        event_free(w->stop_rd);
    if (w->stop_fd >= 0)
        (void)close(w->stop_fd);
    hz_front_free(w->front); /* after the publisher's last answers */
    event_base_free(w->base);
    free(w->ua_cache);
    free(w);
}
