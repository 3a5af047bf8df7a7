/* SPDX-License-Identifier: MIT */
/*
 * front.c - the collector's HTTP/1.1 front (see front.h).
 *
 * A connection's life: accepted (or handed a TLS bufferevent) -> reads
 * append to c->in; llhttp parses from c->parsed and pauses at the end of
 * each message; the message is handed to the handler with a slot of the
 * answer ring; answers are appended to c->out (or point to static
 * memory) and written in ring order from the head, as far as answered.
 * Bytes of answered messages are dropped from c->in between reads.
 *
 * Offsets, not pointers, are kept for the message being parsed, so that
 * c->in may move (grown, or compacted) between reads; llhttp itself
 * keeps no pointer into the buffer across llhttp_execute calls.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, also under the fuzz build's _DEFAULT_SOURCE */
#endif
#include "collector/front.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <llhttp.h>

#include "collector/uring.h"
#include "common/backoff.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/str.h"

#define FRONT_IN_MIN       4096 /* a connection's first input buffer */
#define FRONT_OUT_MIN      2048
#define FRONT_POOL         128   /* closed connections kept for reuse, a front */
#define FRONT_OUT_MAX      65536 /* answers queued past this: stop reading */
#define FRONT_COPY_MAX     1024  /* larger static bodies are sent in place */
#define FRONT_ACCEPTS      32    /* accepts per listener wake-up */
#define FRONT_LINGER_MS    2000  /* reading after a refusal, so it arrives */
#define FRONT_LINGER_BYTES 65536
#define FRONT_BATCH        (HZ_URING_OPS / 2) /* connections per io_uring batch */
#define FRONT_READS        4                  /* reads of a connection per loop turn */

struct hz_front_slot {
    struct hz_front_conn *c;
    uint32_t off, len; /* the answer in c->out */
    const char *ext;   /* a static body after it, or NULL */
    uint32_t ext_len;
    int tag;
    unsigned char ready, close;
    unsigned char deferred; /* answered after its handler returned */
    unsigned char head;     /* the request was HEAD */
    unsigned char keep;     /* keep-alive */
    unsigned char ka10;     /* keep-alive asked by an HTTP/1.0 client: said so */
};

/* A header line of the message being parsed, as offsets into c->in. */
struct front_hdr {
    uint32_t name_off, name_len, val_off, val_len;
};

enum front_state { FRONT_OPEN, FRONT_CLOSING, FRONT_LINGER, FRONT_DEAD };
/* io_uring: what became of a connection's queued read or write. */
enum { FRONT_OP_NONE, FRONT_OP_QUEUED, FRONT_OP_DONE };

struct hz_front_conn {
    hz_front *f;
    evutil_socket_t fd;
    struct bufferevent *bev; /* TLS, or NULL */
    struct event *rd, *wr, *timer;
    enum front_state state;
    int reading, writing; /* reading wanted (rd armed, or the first read queued); wr armed */
    int armed;            /* rd in the loop's epoll set */
    int early;            /* just accepted: its first read queued, rd not armed */
    int lost;             /* an operation of a failed ring without result: never reused */
    int test;             /* no socket */
    llhttp_t p;
    char *in;
    size_t in_len, in_cap, parsed;
    size_t msg_start; /* where the message being parsed begins */
    char *out;
    size_t out_len, out_cap, sent; /* sent: bytes of the head slot already written */
    struct hz_front_slot slots[HZ_FRONT_SLOTS];
    unsigned head, n; /* ring */
    int pending;      /* slots handed to the handler, not answered */
    int eof, refused;
    size_t lingered;
    /* the message being parsed */
    uint32_t url_off, url_len, body_off, body_len, hdr_bytes;
    struct front_hdr h[HZ_FRONT_HEADERS];
    int nh, in_value, in_field, headers_done, expect_continue, body_started;
    int err_status;
    char err_msg[160];
    struct sockaddr_storage peer;
    TAILQ_ENTRY(hz_front_conn) all, dirty, rdq;
    int is_dirty, in_rdq;
    /* io_uring (front_batch): a queued read and write (FRONT_OP_*), the
     * read's room, the write's place in f->wr, and their results */
    unsigned char rd_op, wr_op;
    unsigned char rd_rounds; /* reads in this loop turn */
    int wr_at;
    size_t rd_room;
    long rd_res, wr_res;
};
TAILQ_HEAD(front_connq, hz_front_conn);

/* One connection's write in an io_uring batch: what it sends, kept until
 * its completion is handled. */
struct front_wr {
    struct iovec iov[HZ_FRONT_SLOTS * 2];
    struct msghdr msg;
    size_t total;
    int niov, closing;
};

struct hz_front {
    struct event_base *base;
    struct hz_front_cfg cfg;
    char who[32];
    hz_front_handler handler;
    hz_front_refused refused;
    void *arg;
    hz_front_bev_fn bev_fn;
    void *bev_arg;
    evutil_socket_t lfd;
    struct event *accept_ev, *retry_ev, *flush_ev, *ring_ev;
    int accepting, capped, backing_off;
    long open;
    struct hz_backoff backoff;
    uint64_t deadlines;
    const struct timeval *idle_tv, *linger_tv; /* common timeouts */
    struct timeval idle_tv0, linger_tv0;
    size_t in_max; /* a connection's largest input buffer */
    struct front_connq conns, dirty;
    struct front_connq rdq;  /* readable, read at the end of the turn (io_uring) */
    struct front_connq pool; /* closed, kept with their buffers and events */
    int pooled;
    hz_uring *ring;       /* NULL: plain read and writev */
    const char *ring_why; /* why there is none (static text) */
    struct front_wr *wr;  /* a batch's writes (FRONT_BATCH), with the ring */
    int flushing;         /* in front_flush_cb, which loops while there is work */
    llhttp_settings_t settings;
    time_t date_at;
    char date[40]; /* "Date: ...\r\n" */
};

static void front_flush(struct hz_front_conn *c);
static void front_send(struct hz_front_conn *c);
static void front_parse(struct hz_front_conn *c);
static void front_close(struct hz_front_conn *c);

/* ------------------------------------------------------------ answers */

static const char *
front_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
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

static const char *
front_date(hz_front *f)
{
    time_t now = time(NULL);

    if (now != f->date_at) {
        struct tm tm;
        (void)gmtime_r(&now, &tm);
        (void)strftime(f->date, sizeof(f->date), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        f->date_at = now;
    }
    return f->date;
}

static void
front_out_reserve(struct hz_front_conn *c, size_t more)
{
    size_t cap = c->out_cap ? c->out_cap : FRONT_OUT_MIN;

    if (c->out_len + more <= c->out_cap)
        return;
    while (cap < c->out_len + more)
        cap *= 2;
    c->out = hz_xreallocarray(c->out, cap, 1);
    c->out_cap = cap;
}

static void
front_out_add(struct hz_front_conn *c, const void *p, size_t n)
{
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
}

/* The end of this loop turn has work (front_flush_cb): unless it is
 * running, when it goes on until there is none. */
static void
front_wake(hz_front *f)
{
    if (!f->flushing)
        event_active(f->flush_ev, EV_TIMEOUT, 0);
}

/* Marks c for a write at the end of this loop turn (answers that come
 * from the publisher's callbacks, several per turn). */
static void
front_dirty(struct hz_front_conn *c)
{
    hz_front *f = c->f;

    if (c->is_dirty || c->test)
        return;
    c->is_dirty = 1;
    TAILQ_INSERT_TAIL(&f->dirty, c, dirty);
    front_wake(f);
}

/* "HTTP/1.1 NNN Reason\r\n", then "Content-Length: N\r\n" when with_len,
 * into line (FRONT_LINE_MAX bytes); returns the length. No printf: this
 * runs once per answer. */
#define FRONT_LINE_MAX 128
static size_t
front_status_line(char *line, int status, size_t len, int with_len)
{
    const char *reason = front_reason(status);
    size_t rl = strlen(reason), n = 9;

    if (status < 100 || status > 999)
        status = 500;
    memcpy(line, "HTTP/1.1 ", 9);
    line[n++] = (char)('0' + status / 100);
    line[n++] = (char)('0' + status / 10 % 10);
    line[n++] = (char)('0' + status % 10);
    line[n++] = ' ';
    memcpy(line + n, reason, rl);
    n += rl;
    memcpy(line + n, "\r\n", 2);
    n += 2;
    if (with_len) {
        memcpy(line + n, "Content-Length: ", 16);
        n += 16;
        n += hz_utoa(len, line + n);
        memcpy(line + n, "\r\n", 2);
        n += 2;
    }
    return n;
}

static void
front_answer(struct hz_front_slot *s, int status, const char *hdrs, const char *hdrs2,
             const void *body, size_t len, int in_place)
{
    struct hz_front_conn *c = s->c;
    char line[FRONT_LINE_MAX];
    size_t n;
    size_t hl = hdrs ? strlen(hdrs) : 0, hl2 = hdrs2 ? strlen(hdrs2) : 0;
    int with_body = !s->head && status != 204 && status != 304 && status >= 200;
    const char *conn_hdr = !s->keep  ? "Connection: close\r\n"
                           : s->ka10 ? "Connection: keep-alive\r\n"
                                     : "";

    if (s->ready)
        return; /* answered twice: a bug, never a double write */
    if (!s->keep)
        s->close = 1;
    n = front_status_line(line, status, len, status >= 200 && status != 204 && status != 304);
    if (in_place && len <= FRONT_COPY_MAX)
        in_place = 0;
    if (c->state == FRONT_DEAD) {
        s->ready = 1;
    } else {
        const char *date = status >= 200 ? front_date(c->f) : "";
        size_t dl = strlen(date), cl = status >= 200 ? strlen(conn_hdr) : 0;
        size_t total = n + hl + hl2 + dl + cl + 2 + (with_body && !in_place ? len : 0);
        front_out_reserve(c, total);
        s->off = (uint32_t)c->out_len;
        front_out_add(c, line, n);
        if (hl)
            front_out_add(c, hdrs, hl);
        if (hl2)
            front_out_add(c, hdrs2, hl2);
        front_out_add(c, date, dl);
        if (cl)
            front_out_add(c, conn_hdr, cl);
        front_out_add(c, "\r\n", 2);
        if (with_body && !in_place && len > 0)
            front_out_add(c, body, len);
        s->len = (uint32_t)(c->out_len - s->off);
        s->ext = with_body && in_place ? body : NULL;
        s->ext_len = with_body && in_place ? (uint32_t)len : 0;
        s->ready = 1;
    }
}

/* A slot answered after its handler returned (from the publisher). */
static void
front_answered_later(struct hz_front_conn *c)
{
    c->pending--;
    front_dirty(c); /* written, or freed when closed, at the end of the turn */
}

static void
front_reply(struct hz_front_slot *s, int status, const char *hdrs, const char *hdrs2,
            const void *body, size_t len, int in_place)
{
    int later = s->deferred && !s->ready;

    front_answer(s, status, hdrs, hdrs2, body, len, in_place);
    if (later)
        front_answered_later(s->c);
}

void
hz_front_reply(struct hz_front_slot *s, int status, const char *hdrs, const char *hdrs2,
               const void *body, size_t len)
{
    front_reply(s, status, hdrs, hdrs2, body, len, 0);
}

void
hz_front_reply_static(struct hz_front_slot *s, int status, const char *hdrs, const char *hdrs2,
                      const void *body, size_t len)
{
    front_reply(s, status, hdrs, hdrs2, body, len, 1);
}

void *
hz_front_slot_arg(const struct hz_front_slot *s)
{
    return s->c->f->arg;
}

int *
hz_front_slot_tag(struct hz_front_slot *s)
{
    return &s->tag;
}

/* ------------------------------------------------------------ headers */

const char *
hz_req_header(const struct hz_req *r, const char *name, size_t *len)
{
    size_t nl = strlen(name);

    for (int i = 0; i < r->nh; i++)
        if (r->h[i].name_len == nl && strncasecmp(r->h[i].name, name, nl) == 0) {
            if (len != NULL)
                *len = r->h[i].value_len;
            return r->h[i].value;
        }
    if (len != NULL)
        *len = 0;
    return NULL;
}

/* ------------------------------------------------------------ llhttp callbacks */

static struct hz_front_conn *
front_of(llhttp_t *p)
{
    return p->data;
}

static int
front_fail(struct hz_front_conn *c, int status, const char *msg)
{
    c->err_status = status;
    (void)snprintf(c->err_msg, sizeof(c->err_msg), "%s", msg);
    return -1;
}

static int
on_message_begin(llhttp_t *p)
{
    struct hz_front_conn *c = front_of(p);

    c->url_off = c->url_len = c->body_off = c->body_len = c->hdr_bytes = 0;
    c->nh = c->in_value = c->in_field = c->headers_done = c->expect_continue = 0;
    c->body_started = 0;
    return 0;
}

static int
on_url(llhttp_t *p, const char *at, size_t len)
{
    struct hz_front_conn *c = front_of(p);
    char msg[64];

    if (c->url_len == 0)
        c->url_off = (uint32_t)(at - c->in);
    c->url_len += (uint32_t)len;
    if (c->url_len > (size_t)c->f->cfg.max_url) {
        (void)snprintf(msg, sizeof(msg), "request URI longer than %ld bytes", c->f->cfg.max_url);
        return front_fail(c, 414, msg);
    }
    return 0;
}

static int
front_hdr_bytes(struct hz_front_conn *c, size_t len)
{
    char msg[64];

    c->hdr_bytes += (uint32_t)len;
    if (c->hdr_bytes > (size_t)c->f->cfg.max_headers) {
        (void)snprintf(msg, sizeof(msg), "request headers larger than %ld bytes",
                       c->f->cfg.max_headers);
        return front_fail(c, 431, msg);
    }
    return 0;
}

static int
on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct hz_front_conn *c = front_of(p);

    if (len == 0)
        return 0;
    if (!c->in_field) {
        if (c->nh >= HZ_FRONT_HEADERS)
            return front_fail(c, 431, "too many request header lines");
        c->h[c->nh].name_off = (uint32_t)(at - c->in);
        c->h[c->nh].name_len = 0;
        c->h[c->nh].val_off = c->h[c->nh].name_off;
        c->h[c->nh].val_len = 0;
        c->in_field = 1;
        if (front_hdr_bytes(c, 4) != 0) /* ": " and CRLF, as evhttp counted */
            return -1;
    }
    c->h[c->nh].name_len += (uint32_t)len;
    return front_hdr_bytes(c, len);
}

static int
on_header_field_complete(llhttp_t *p)
{
    struct hz_front_conn *c = front_of(p);

    if (!c->in_field)
        return front_fail(c, 400, "empty header name"); /* llhttp lets ":x" through */
    c->in_field = 0;
    c->in_value = 0;
    c->h[c->nh].val_off = c->h[c->nh].name_off + c->h[c->nh].name_len; /* empty so far */
    c->nh++;
    return 0;
}

static int
on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct hz_front_conn *c = front_of(p);
    struct front_hdr *h;

    if (c->nh == 0)
        return front_fail(c, 400, "malformed header line");
    if (len == 0)
        return 0; /* llhttp's empty value: at the next line */
    h = &c->h[c->nh - 1];
    if (!c->in_value) {
        h->val_off = (uint32_t)(at - c->in);
        h->val_len = 0;
        c->in_value = 1;
    }
    h->val_len += (uint32_t)len;
    return front_hdr_bytes(c, len);
}

static int
on_header_value_complete(llhttp_t *p)
{
    struct hz_front_conn *c = front_of(p);
    struct front_hdr *h;

    if (c->nh == 0)
        return 0;
    h = &c->h[c->nh - 1];
    c->in_value = 0;
    if (memchr(c->in + h->val_off, '\r', h->val_len) != NULL ||
        memchr(c->in + h->val_off, '\n', h->val_len) != NULL)
        return front_fail(c, 400, "folded header lines are not accepted");
    while (h->val_len > 0 && (c->in[h->val_off + h->val_len - 1] == ' ' ||
                              c->in[h->val_off + h->val_len - 1] == '\t'))
        h->val_len--;
    if (h->name_len == 6 && strncasecmp(c->in + h->name_off, "Expect", 6) == 0) {
        if (h->val_len == 12 && strncasecmp(c->in + h->val_off, "100-continue", 12) == 0)
            c->expect_continue = 1;
        else
            return front_fail(c, 400, "unsupported Expect header");
    }
    return 0;
}

static int
on_headers_complete(llhttp_t *p)
{
    struct hz_front_conn *c = front_of(p);
    char msg[64];

    c->headers_done = 1;
    if (p->http_major != 1 || p->http_minor > 1)
        return front_fail(c, 400, "unsupported HTTP version (1.0 and 1.1 only)");
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > (uint64_t)c->f->cfg.max_body) {
        (void)snprintf(msg, sizeof(msg), "body larger than %ld bytes", c->f->cfg.max_body);
        return front_fail(c, 413, msg);
    }
    if (c->url_len == 0)
        return front_fail(c, 400, "empty request target");
    return 0;
}

static int
on_body(llhttp_t *p, const char *at, size_t len)
{
    struct hz_front_conn *c = front_of(p);
    char msg[64];

    if (!c->body_started) {
        c->body_off = (uint32_t)(at - c->in);
        c->body_started = 1;
    }
    if ((size_t)c->body_len + len > (size_t)c->f->cfg.max_body) {
        (void)snprintf(msg, sizeof(msg), "body larger than %ld bytes", c->f->cfg.max_body);
        return front_fail(c, 413, msg);
    }
    /* A chunked body comes in pieces: joined in place, over the chunk
     * lines already parsed. */
    if (c->in + c->body_off + c->body_len != at)
        memmove(c->in + c->body_off + c->body_len, at, len);
    c->body_len += (uint32_t)len;
    return 0;
}

static int
on_chunk_extension(llhttp_t *p, const char *at, size_t len)
{
    (void)at;
    (void)len;
    return front_fail(front_of(p), 400, "chunk extensions are not accepted");
}

static int
on_message_complete(llhttp_t *p)
{
    (void)p;
    return HPE_PAUSED; /* front_parse hands the message over */
}

/* ------------------------------------------------------------ requests */

static enum hz_method
front_method(const llhttp_t *p)
{
    switch (p->method) {
    case HTTP_GET:
        return HZ_M_GET;
    case HTTP_HEAD:
        return HZ_M_HEAD;
    case HTTP_POST:
        return HZ_M_POST;
    case HTTP_OPTIONS:
        return HZ_M_OPTIONS;
    default:
        return HZ_M_OTHER;
    }
}

static struct hz_front_slot *
front_slot(struct hz_front_conn *c, int head, int keep)
{
    struct hz_front_slot *s = &c->slots[(c->head + c->n) % HZ_FRONT_SLOTS];

    c->n++;
    memset(s, 0, sizeof(*s));
    s->c = c;
    s->off = UINT32_MAX;
    s->head = (unsigned char)head;
    s->keep = (unsigned char)keep;
    return s;
}

/* The target: origin form "/path?query", or absolute form
 * "http://host/path?query" (the path is what follows the authority). */
static void
front_target(char *u, size_t len, struct hz_req *r)
{
    char *end = u + len, *q, *hash;

    *end = '\0'; /* the space before the version */
    r->path = NULL;
    r->query = NULL;
    r->path_len = r->query_len = 0;
    if ((hash = memchr(u, '#', len)) != NULL) {
        *hash = '\0';
        end = hash;
    }
    if (u[0] != '/') {
        char *sep = strstr(u, "://");
        if (sep == NULL || (size_t)(sep - u) > 5)
            return;
        u = strchr(sep + 3, '/');
        if (u == NULL)
            return;
    }
    if ((q = memchr(u, '?', (size_t)(end - u))) != NULL) {
        *q = '\0';
        r->query = q + 1;
        r->query_len = (size_t)(end - q - 1);
        end = q;
    }
    r->path = u;
    r->path_len = (size_t)(end - u);
}

/* Hands over the message that llhttp just finished. */
static void
front_dispatch(struct hz_front_conn *c)
{
    hz_front *f = c->f;
    struct hz_hdr hs[HZ_FRONT_HEADERS];
    struct hz_req r;
    struct hz_front_slot *s;
    int keep = llhttp_should_keep_alive(&c->p) && !c->p.upgrade;

    /* This message is complete: nothing of it may trigger a 100 later (a
     * bare CRLF between requests starts no new message). */
    c->expect_continue = c->headers_done = 0;
    for (int i = 0; i < c->nh; i++) {
        hs[i].name = c->in + c->h[i].name_off;
        hs[i].name_len = c->h[i].name_len;
        hs[i].value = c->in + c->h[i].val_off;
        hs[i].value_len = c->h[i].val_len;
        /* What follows a name (':') and a value (CR, LF, space) is no
         * longer needed: NUL-terminated in place. */
        c->in[c->h[i].name_off + c->h[i].name_len] = '\0';
    }
    for (int i = 0; i < c->nh; i++)
        c->in[c->h[i].val_off + c->h[i].val_len] = '\0';
    memset(&r, 0, sizeof(r));
    r.method = front_method(&c->p);
    front_target(c->in + c->url_off, c->url_len, &r);
    r.h = hs;
    r.nh = c->nh;
    r.body = c->body_started ? c->in + c->body_off : "";
    r.body_len = c->body_len;
    r.peer = (const struct sockaddr *)&c->peer;
    s = front_slot(c, r.method == HZ_M_HEAD, keep);
    s->ka10 = keep && c->p.http_minor == 0;
    r.slot = s;
    if (!keep)
        c->state = FRONT_CLOSING; /* nothing after this message is read */
    f->handler(&r, f->arg);
    if (!s->ready) {
        s->deferred = 1; /* hz_front_reply counts it back */
        c->pending++;
    }
}

/* Refuses the message being parsed: the answer, then the connection
 * closes (what follows cannot be framed). */
static void
front_refuse(struct hz_front_conn *c, int status, const char *why)
{
    char line[200];
    struct hz_front_slot *s = front_slot(c, 0, 0);

    (void)snprintf(line, sizeof(line), "%s\n", why);
    front_answer(s, status,
                 "Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n"
                 "Access-Control-Allow-Origin: *\r\nX-Content-Type-Options: nosniff\r\n",
                 NULL, line, strlen(line), 0);
    c->state = FRONT_CLOSING;
    c->refused = 1;
    if (c->f->refused != NULL)
        c->f->refused(c->f->arg, status);
}

/* Parses what c->in holds past c->parsed, as far as the ring allows. */
static void
front_parse(struct hz_front_conn *c)
{
    while (c->state == FRONT_OPEN && c->parsed < c->in_len && c->n < HZ_FRONT_SLOTS) {
        llhttp_errno_t e;

        c->err_status = 0;
        e = llhttp_execute(&c->p, c->in + c->parsed, c->in_len - c->parsed);
        if (e == HPE_OK) {
            c->parsed = c->in_len;
            if (c->expect_continue && c->headers_done && c->n < HZ_FRONT_SLOTS) {
                /* The client waits for this before sending its body; the
                 * ring sends it after the answers before it, in order. */
                struct hz_front_slot *s = front_slot(c, 0, 1);
                front_answer(s, 100, NULL, NULL, NULL, 0, 0);
                c->expect_continue = 0;
            }
            break;
        }
        if (e == HPE_PAUSED) {
            c->parsed = (size_t)(llhttp_get_error_pos(&c->p) - c->in);
            llhttp_resume(&c->p);
            front_dispatch(c);
            c->msg_start = c->parsed;
            continue;
        }
        if (e == HPE_PAUSED_UPGRADE) {
            c->state = FRONT_CLOSING;
            break;
        }
        if (c->err_status != 0) {
            front_refuse(c, c->err_status, c->err_msg);
        } else {
            char why[160];
            const char *reason = llhttp_get_error_reason(&c->p);
            (void)snprintf(why, sizeof(why), "malformed request: %s",
                           reason != NULL ? reason : llhttp_errno_name(e));
            front_refuse(c, 400, why);
        }
        break;
    }
}

/* Drops the bytes of answered messages from c->in, keeping the one being
 * parsed (its offsets move with it). */
static void
front_compact(struct hz_front_conn *c)
{
    size_t shift = c->msg_start;

    if (shift == 0)
        return;
    memmove(c->in, c->in + shift, c->in_len - shift);
    /* Requests hold user agents, URLs and addresses: no copy outlives them. */
    explicit_bzero(c->in + c->in_len - shift, shift);
    c->in_len -= shift;
    c->parsed -= shift;
    c->msg_start = 0;
    c->url_off = c->url_off >= shift ? c->url_off - (uint32_t)shift : 0;
    for (int i = 0; i < c->nh + c->in_field && i < HZ_FRONT_HEADERS; i++) {
        c->h[i].name_off -= (uint32_t)shift;
        c->h[i].val_off -= (uint32_t)shift;
    }
    if (c->body_started)
        c->body_off -= (uint32_t)shift;
}

/* Room to read into: at least a little, up to the limit of a request. */
static size_t
front_room(struct hz_front_conn *c)
{
    if (c->in_cap - c->in_len < 512)
        front_compact(c);
    if (c->in_cap - c->in_len < 512 && c->in_cap < c->f->in_max) {
        size_t cap = c->in_cap * 2;
        if (cap > c->f->in_max)
            cap = c->f->in_max;
        char *in = hz_xmalloc(cap);
        memcpy(in, c->in, c->in_len);
        explicit_bzero(c->in, c->in_cap); /* realloc would leave it behind */
        free(c->in);
        c->in = in;
        c->in_cap = cap;
    }
    return c->in_cap - c->in_len;
}

/* ------------------------------------------------------------ I/O */

static void
front_timer_arm(struct hz_front_conn *c, const struct timeval *tv)
{
    if (c->timer != NULL && c->state != FRONT_DEAD)
        (void)evtimer_add(c->timer, tv);
}

/* Read interest: on unless closing, the ring is full, answers are piling
 * up unread, or the buffer is full (a client that stops reading its
 * answers is not read either). */
static void
front_interest(struct hz_front_conn *c)
{
    int want;

    if (c->in_len == c->in_cap)
        front_compact(c);
    want = (c->state == FRONT_OPEN || c->state == FRONT_LINGER) && !c->eof &&
           c->n < HZ_FRONT_SLOTS && c->out_len < FRONT_OUT_MAX &&
           (c->state == FRONT_LINGER || c->in_len < c->in_cap || c->in_cap < c->f->in_max);

    if (c->test || c->state == FRONT_DEAD ||
        (want == c->reading && (!want || c->armed || c->bev != NULL)))
        return;
    c->reading = want;
    if (c->bev != NULL) {
        if (want)
            (void)bufferevent_enable(c->bev, EV_READ);
        else
            (void)bufferevent_disable(c->bev, EV_READ);
    } else if (want) {
        if (!c->armed)
            (void)event_add(c->rd, NULL);
        c->armed = 1;
    } else if (c->armed) {
        (void)event_del(c->rd);
        c->armed = 0;
    }
}

static void
front_destroy(struct hz_front_conn *c)
{
    if (c->rd != NULL)
        event_free(c->rd);
    if (c->wr != NULL)
        event_free(c->wr);
    if (c->timer != NULL)
        event_free(c->timer);
    free(c->in);
    free(c->out);
    free(c);
}

/* After front_close, at the end of the turn: kept for reuse or freed. */
static void
front_free_conn(struct hz_front_conn *c)
{
    hz_front *f = c->f;

    TAILQ_REMOVE(&f->conns, c, all);
    if (c->is_dirty)
        TAILQ_REMOVE(&f->dirty, c, dirty);
    if (c->in_rdq)
        TAILQ_REMOVE(&f->rdq, c, rdq);
    if (c->in != NULL)
        explicit_bzero(c->in, c->in_cap);
    if (c->rd != NULL && c->wr != NULL && c->timer != NULL && !c->lost && f->pooled < FRONT_POOL &&
        c->in_cap == FRONT_IN_MIN && c->out_cap <= FRONT_OUT_MIN) {
        /* Kept for the next accept: no allocation a connection. Nothing
         * of this one stays (the peer's address, the request, answers). */
        struct event *rd = c->rd, *wr = c->wr, *timer = c->timer;
        char *in = c->in, *out = c->out;
        size_t out_cap = c->out_cap;
        if (out != NULL)
            explicit_bzero(out, out_cap);
        memset(c, 0, sizeof(*c));
        c->state = FRONT_DEAD;
        c->fd = -1;
        c->rd = rd;
        c->wr = wr;
        c->timer = timer;
        c->in = in;
        c->out = out;
        c->out_cap = out_cap;
        TAILQ_INSERT_TAIL(&f->pool, c, all);
        f->pooled++;
        return;
    }
    front_destroy(c);
}

/* Closes the socket. The connection itself is freed at the end of the
 * loop turn (callers up the stack may still look at it), and only once
 * no answer is pending (the publisher still holds its slots). */
static void
front_close(struct hz_front_conn *c)
{
    hz_front *f = c->f;

    if (c->state != FRONT_DEAD) {
        c->state = FRONT_DEAD;
        /* Out of the loop; kept for reuse (front_free_conn). */
        if (c->rd != NULL)
            (void)event_del(c->rd);
        if (c->wr != NULL)
            (void)event_del(c->wr);
        if (c->timer != NULL)
            (void)event_del(c->timer);
        if (c->bev != NULL)
            bufferevent_free(c->bev); /* closes fd */
        else if (c->fd >= 0)
            (void)close(c->fd);
        c->bev = NULL;
        c->fd = -1;
        if (!c->test) {
            f->open--;
            if (f->capped && f->open < f->cfg.max_conns) {
                f->capped = 0;
                if (f->accepting && !f->backing_off)
                    (void)event_add(f->accept_ev, NULL);
            }
        }
    }
    front_dirty(c);
}

/* After the last answer of a closing connection. When the client may
 * still be sending (a refused request, unparsed bytes): stop sending and
 * read what comes for a while, since closing with unread data would reset
 * the connection and could destroy the answer. Otherwise close now. */
static void
front_linger(struct hz_front_conn *c)
{
    if (c->bev != NULL || c->test || c->eof || (!c->refused && c->in_len == c->parsed) ||
        shutdown(c->fd, SHUT_WR) != 0) {
        front_close(c);
        return;
    }
    c->state = FRONT_LINGER;
    explicit_bzero(c->in, c->in_len);
    c->in_len = c->parsed = c->msg_start = 0;
    front_timer_arm(c, c->f->linger_tv);
    front_interest(c);
}

/* Frees the written slots from the head: n bytes went out. */
static void
front_consume(struct hz_front_conn *c, size_t n)
{
    while (c->n > 0 && c->slots[c->head].ready) {
        struct hz_front_slot *s = &c->slots[c->head];
        size_t whole = (size_t)s->len + s->ext_len, left = whole - c->sent;
        if (n < left) {
            c->sent += n;
            return;
        }
        n -= left;
        c->sent = 0;
        c->head = (c->head + 1) % HZ_FRONT_SLOTS;
        c->n--;
    }
    if (c->n == 0)
        c->out_len = 0;
}

/* The ring's answered head slots, as iovecs; whether the last one closes. */
static int
front_iov(struct hz_front_conn *c, struct iovec *iov, int *niov, int *closing)
{
    int k = 0;
    size_t skip = c->sent;

    *closing = 0;
    for (unsigned i = 0; i < c->n; i++) {
        struct hz_front_slot *s = &c->slots[(c->head + i) % HZ_FRONT_SLOTS];
        if (!s->ready)
            break;
        if (skip < s->len) {
            iov[k].iov_base = c->out + s->off + skip;
            iov[k].iov_len = s->len - skip;
            k++;
            skip = 0;
        } else {
            skip -= s->len;
        }
        if (s->ext_len > 0) {
            iov[k].iov_base = (void *)(s->ext + skip);
            iov[k].iov_len = s->ext_len - skip;
            k++;
            skip = 0;
        }
        if (s->close) {
            *closing = 1;
            break;
        }
    }
    *niov = k;
    return k;
}

static void
front_after_write(struct hz_front_conn *c, int closing_done)
{
    if (closing_done) {
        front_linger(c);
        return;
    }
    if (c->n == 0 && c->state == FRONT_CLOSING) {
        front_linger(c);
        return;
    }
    front_timer_arm(c, c->f->idle_tv);
}

/* The answers c may write now, in order, as iovecs (the ring's head
 * slots answered), and whether the last one closes; their bytes, 0 when
 * there is nothing to write. */
static size_t
front_out_iov(struct hz_front_conn *c, struct iovec *iov, int *niov, int *closing)
{
    size_t total = 0;

    if (c->state == FRONT_DEAD || c->state == FRONT_LINGER || c->test)
        return 0;
    if (front_iov(c, iov, niov, closing) == 0)
        return 0;
    for (int i = 0; i < *niov; i++)
        total += iov[i].iov_len;
    return total;
}

/* A write of total bytes of answers sent w of them (or failed: -errno):
 * the ring moves on; the rest waits for the socket; after the last
 * answer of a closing connection, it lingers or closes. */
static void
front_wrote(struct hz_front_conn *c, long w, size_t total, int closing)
{
    if (w < 0) {
        if (w != -EAGAIN && w != -EWOULDBLOCK && w != -EINTR) {
            front_close(c);
            return;
        }
        w = 0;
    }
    front_consume(c, (size_t)w);
    if ((size_t)w < total) {
        if (!c->writing) {
            c->writing = 1;
            (void)event_add(c->wr, NULL);
        }
        if (w > 0)
            front_timer_arm(c, c->f->idle_tv); /* progress */
        front_interest(c);
        return;
    }
    if (c->writing) {
        c->writing = 0;
        (void)event_del(c->wr);
    }
    front_after_write(c, closing);
    if (c->state == FRONT_OPEN) {
        front_parse(c); /* a full ring may have stopped it */
        if (c->n > 0 && c->slots[c->head].ready && c->state != FRONT_DEAD)
            front_send(c);
    }
    if (c->state != FRONT_DEAD)
        front_interest(c);
}

/* Writes what is answered, in order: one writev. */
static void
front_flush(struct hz_front_conn *c)
{
    struct iovec iov[HZ_FRONT_SLOTS * 2];
    int niov, closing;
    size_t total = front_out_iov(c, iov, &niov, &closing);
    ssize_t w;

    if (total == 0)
        return;
    if (c->bev != NULL) {
        struct evbuffer *ob = bufferevent_get_output(c->bev);
        for (int i = 0; i < niov; i++)
            (void)evbuffer_add(ob, iov[i].iov_base, iov[i].iov_len);
        front_consume(c, total);
        if (closing)
            c->state = FRONT_CLOSING; /* closed once the output is out */
        front_timer_arm(c, c->f->idle_tv);
        return;
    }
    w = writev(c->fd, iov, niov);
    front_wrote(c, w < 0 ? -(long)errno : (long)w, total, closing);
}

/* Writes c's answers: now, or with the loop turn's batch (io_uring); in
 * the next batch when a write of this one has no result handled yet. */
static void
front_send(struct hz_front_conn *c)
{
    if ((c->f->ring != NULL && c->bev == NULL) || c->wr_op != FRONT_OP_NONE)
        front_dirty(c);
    else
        front_flush(c);
}

/* After reading: parse, answer, write once. */
static void
front_took(struct hz_front_conn *c)
{
    front_parse(c);
    if (c->state == FRONT_DEAD)
        return;
    if (c->n > 0 && c->slots[c->head].ready)
        front_send(c);
    else if (c->n == 0 && c->state == FRONT_CLOSING)
        front_linger(c);
    if (c->state != FRONT_DEAD) {
        if (c->state == FRONT_OPEN && c->in_len == c->in_cap && c->in_cap >= c->f->in_max &&
            c->parsed == c->in_len && c->n == 0) {
            /* Cannot happen with consistent limits; never spin. */
            front_refuse(c, 431, "request too large");
            front_send(c);
            if (c->state == FRONT_DEAD)
                return;
        }
        front_interest(c);
    }
}

/* A lingering connection: what comes is read and dropped, until the
 * client closes, the limit or the timer. */
static void
front_linger_read(struct hz_front_conn *c)
{
    char sink[4096];
    ssize_t r = read(c->fd, sink, sizeof(sink));

    if (r > 0)
        c->lingered += (size_t)r;
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR) || c->lingered > FRONT_LINGER_BYTES)
        front_close(c);
}

/* A read of room bytes into c->in got r (or failed: -errno): 1 when it
 * filled the room (more may wait), 0 when the socket is drained or at its
 * end, -1 when c is closed. */
static int
front_got(struct hz_front_conn *c, long r, size_t room)
{
    if (r == 0) {
        c->eof = 1;
        return 0;
    }
    if (r < 0) {
        if (r == -EAGAIN || r == -EWOULDBLOCK || r == -EINTR)
            return 0;
        front_close(c);
        return -1;
    }
    c->in_len += (size_t)r;
    return (size_t)r == room;
}

/* After the reads: answer, then close once the client is done. */
static void
front_read_end(struct hz_front_conn *c)
{
    front_took(c);
    if (c->eof && (c->state == FRONT_OPEN || c->state == FRONT_CLOSING)) {
        /* Answer what came, then close. */
        c->state = FRONT_CLOSING;
        if (c->n == 0)
            front_close(c);
        else
            front_interest(c);
    }
}

/* c is read at the end of the turn (front_batch). */
static void
front_rdq_add(struct hz_front_conn *c)
{
    if (c->in_rdq)
        return;
    c->in_rdq = 1;
    TAILQ_INSERT_TAIL(&c->f->rdq, c, rdq);
    front_wake(c->f);
}

static void
front_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hz_front_conn *c = arg;

    (void)what;
    if (c->state == FRONT_LINGER) {
        front_linger_read(c);
        return;
    }
    if (c->f->ring != NULL) {
        /* Read with the others at the end of the turn (front_batch). */
        c->rd_rounds = 0;
        front_rdq_add(c);
        return;
    }
    for (int round = 0; round < FRONT_READS; round++) {
        size_t room = front_room(c);
        ssize_t r;
        int more;
        if (room == 0)
            break;
        r = read(fd, c->in + c->in_len, room);
        more = front_got(c, r < 0 ? -(long)errno : (long)r, room);
        if (more < 0)
            return;
        if (!more)
            break; /* the socket is drained: no read just to see EAGAIN */
    }
    front_read_end(c);
}

static void
front_write_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    front_send(arg);
}

static void
front_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct hz_front_conn *c = arg;

    (void)fd;
    (void)what;
    if (c->state != FRONT_LINGER && c->pending > 0) {
        front_timer_arm(c, c->f->idle_tv); /* being answered: never cut */
        return;
    }
    if (c->state == FRONT_OPEN && c->in_len > c->parsed)
        c->f->deadlines++;
    front_close(c);
}

/* TLS: the bufferevent's side. */
static void
front_bev_read(struct bufferevent *bev, void *arg)
{
    struct hz_front_conn *c = arg;
    struct evbuffer *ib = bufferevent_get_input(bev);

    if (c->state == FRONT_LINGER || c->state == FRONT_CLOSING) {
        (void)evbuffer_drain(ib, evbuffer_get_length(ib));
        return;
    }
    while (evbuffer_get_length(ib) > 0) {
        size_t room = front_room(c);
        int r;
        if (room == 0)
            break;
        r = evbuffer_remove(ib, c->in + c->in_len, room);
        if (r <= 0)
            break;
        c->in_len += (size_t)r;
    }
    front_took(c);
}

static void
front_bev_write(struct bufferevent *bev, void *arg)
{
    struct hz_front_conn *c = arg;

    (void)bev;
    if (c->state == FRONT_CLOSING && c->n == 0)
        front_close(c);
    else if (c->state == FRONT_OPEN)
        front_took(c);
}

static void
front_bev_event(struct bufferevent *bev, short what, void *arg)
{
    struct hz_front_conn *c = arg;

    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        if ((what & BEV_EVENT_EOF) && c->n > 0) {
            c->eof = 1;
            c->state = FRONT_CLOSING;
            return;
        }
        front_close(c);
    }
}

/* ------------------------------------------------------------ the turn's end */

#define FRONT_TAG_WRITE ((uintptr_t)1) /* in the tag's low bit */

static void
front_op_done(void *tag, long res)
{
    uintptr_t t = (uintptr_t)tag;
    struct hz_front_conn *c = (struct hz_front_conn *)(t & ~FRONT_TAG_WRITE);

    if (res == -ECANCELED)
        c->lost = 1; /* the kernel may still hold its buffers */
    if (t & FRONT_TAG_WRITE) {
        c->wr_res = res;
        c->wr_op = FRONT_OP_DONE;
    } else {
        c->rd_res = res;
        c->rd_op = FRONT_OP_DONE;
    }
}

/* A queued read or write that the ring did not make: made now. */
static void
front_plain_read(struct hz_front_conn *c)
{
    ssize_t r = read(c->fd, c->in + c->in_len, c->rd_room);

    front_op_done(c, r < 0 ? -(long)errno : (long)r);
}

static void
front_plain_write(struct hz_front_conn *c)
{
    const struct front_wr *wr = &c->f->wr[c->wr_at];
    ssize_t w = writev(c->fd, wr->iov, wr->niov);

    front_op_done((void *)((uintptr_t)c | FRONT_TAG_WRITE), w < 0 ? -(long)errno : (long)w);
}

/* Queues the write of c's answers into f->wr[at]; 1 when queued. */
static int
front_queue_write(hz_front *f, struct hz_front_conn *c, int at)
{
    void *tag = (void *)((uintptr_t)c | FRONT_TAG_WRITE);
    struct front_wr *wr = &f->wr[at];
    int r;

    wr->total = front_out_iov(c, wr->iov, &wr->niov, &wr->closing);
    if (wr->total == 0)
        return 0;
    c->wr_at = at;
    c->wr_op = FRONT_OP_QUEUED;
    if (wr->niov == 1) {
        r = hz_uring_send(f->ring, c->fd, wr->iov[0].iov_base, wr->iov[0].iov_len, tag);
    } else {
        memset(&wr->msg, 0, sizeof(wr->msg));
        wr->msg.msg_iov = wr->iov;
        wr->msg.msg_iovlen = (size_t)wr->niov;
        r = hz_uring_sendmsg(f->ring, c->fd, &wr->msg, tag);
    }
    if (r != 0)
        front_plain_write(c); /* the ring is full: cannot happen (FRONT_BATCH) */
    return 1;
}

/* Queues a read into c->in. */
static void
front_queue_read(hz_front *f, struct hz_front_conn *c)
{
    c->rd_room = front_room(c);
    if (c->rd_room == 0) {
        front_op_done(c, -EAGAIN); /* nothing read: front_took decides */
        return;
    }
    c->rd_op = FRONT_OP_QUEUED;
    if (f->ring == NULL || hz_uring_recv(f->ring, c->fd, c->in + c->in_len, c->rd_room, c) != 0)
        front_plain_read(c); /* the ring failed in this turn, or is full (cannot happen) */
}

/* Whether the read queue holds more than just accepted connections. A
 * turn with nothing else to do enters none: they wait in the epoll set,
 * as a first read that finds nothing yet would cost a system call. */
static int
front_rdq_work(hz_front *f)
{
    struct hz_front_conn *c, *next;

    TAILQ_FOREACH (c, &f->rdq, rdq) {
        if (!c->early)
            return 1;
    }
    for (c = TAILQ_FIRST(&f->rdq); c != NULL; c = next) {
        next = TAILQ_NEXT(c, rdq);
        TAILQ_REMOVE(&f->rdq, c, rdq);
        c->in_rdq = c->early = 0;
        front_interest(c);
    }
    return 0;
}

/* One batch: the writes of the connections with answers and the reads
 * of the readable ones, made in one io_uring_enter, then handled as
 * front_flush and front_read_cb handle writev and read: reads first
 * (what they take is parsed and answered, and its hits reach the
 * publisher in this turn), then writes. Without a ring, the writes one
 * by one. A connection is freed here only, before any is queued. */
static void
front_batch(hz_front *f)
{
    struct hz_front_conn *batch[FRONT_BATCH], *c;
    int nb = 0, more, ring_failed = 0;

    while (nb < FRONT_BATCH && (c = TAILQ_FIRST(&f->dirty)) != NULL) {
        TAILQ_REMOVE(&f->dirty, c, dirty);
        c->is_dirty = 0;
        if (c->state == FRONT_DEAD) {
            if (c->pending == 0)
                front_free_conn(c);
            continue;
        }
        if (c->state == FRONT_OPEN || c->state == FRONT_CLOSING) {
            if (c->n > 0 && c->slots[c->head].ready) {
                if (f->ring == NULL || c->bev != NULL)
                    front_flush(c);
                else if (front_queue_write(f, c, nb))
                    batch[nb++] = c;
            } else if (c->n == 0 && c->state == FRONT_CLOSING && c->bev == NULL) {
                front_linger(c);
            }
        }
    }
    if (nb == 0 && !front_rdq_work(f))
        return;
    while (nb < FRONT_BATCH && (c = TAILQ_FIRST(&f->rdq)) != NULL) {
        TAILQ_REMOVE(&f->rdq, c, rdq);
        c->in_rdq = 0;
        c->early = 0;
        if (c->state == FRONT_LINGER) {
            front_linger_read(c);
            continue;
        }
        /* Reading may have been turned off since (front_interest): a
         * client that stops reading its answers is not read either. */
        if ((c->state != FRONT_OPEN && c->state != FRONT_CLOSING) || !c->reading)
            continue;
        front_queue_read(f, c);
        if (c->wr_op == FRONT_OP_NONE)
            batch[nb++] = c;
    }
    if (nb == 0)
        return;
    /* A failed ring is closed at the end of the batch only: until its
     * results are handled, answers wait for the next batch (front_send),
     * never written past a write whose result is not counted yet. */
    if (f->ring != NULL && hz_uring_run(f->ring, front_op_done) != 0) {
        hz_log_warnx(
            "%s: io_uring failed: socket reads and writes with read and writev from now on",
            f->who);
        ring_failed = 1;
    }
    /* What never reached the kernel, made now; what did but has no result
     * came back as failed (-ECANCELED: it may have been made) and closes
     * its connection. */
    for (int i = 0; i < nb; i++) {
        if (batch[i]->rd_op == FRONT_OP_QUEUED)
            front_plain_read(batch[i]);
        if (batch[i]->wr_op == FRONT_OP_QUEUED)
            front_plain_write(batch[i]);
    }
    for (int i = 0; i < nb; i++) {
        c = batch[i];
        if (c->rd_op == FRONT_OP_NONE)
            continue;
        c->rd_op = FRONT_OP_NONE;
        if (c->state == FRONT_DEAD || (more = front_got(c, c->rd_res, c->rd_room)) < 0)
            continue;
        front_read_end(c);
        /* The room filled: more may wait, read in the next batch (as
         * front_read_cb reads, up to FRONT_READS a turn). */
        if (more && ++c->rd_rounds < FRONT_READS && c->state == FRONT_OPEN && c->reading)
            front_rdq_add(c);
    }
    for (int i = 0; i < nb; i++) {
        c = batch[i];
        if (c->wr_op == FRONT_OP_NONE)
            continue;
        c->wr_op = FRONT_OP_NONE;
        if (c->state != FRONT_DEAD && c->state != FRONT_LINGER)
            front_wrote(c, c->wr_res, f->wr[c->wr_at].total, f->wr[c->wr_at].closing);
    }
    if (ring_failed) {
        hz_uring_close(f->ring);
        f->ring = NULL;
    }
}

/* The end of a loop turn (activated by the first connection with work in
 * it, after every socket's callback of the turn): batches until none is
 * left; what a batch's reads answer at once goes out in the next. */
static void
front_flush_cb(evutil_socket_t fd, short what, void *arg)
{
    hz_front *f = arg;

    (void)fd;
    (void)what;
    f->flushing = 1;
    while (!TAILQ_EMPTY(&f->dirty) || !TAILQ_EMPTY(&f->rdq))
        front_batch(f);
    f->flushing = 0;
}

/* ------------------------------------------------------------ accept */

static struct hz_front_conn *
front_conn_new(hz_front *f, evutil_socket_t fd)
{
    struct hz_front_conn *c = TAILQ_FIRST(&f->pool);

    if (c != NULL && fd >= 0 && f->bev_fn == NULL) {
        TAILQ_REMOVE(&f->pool, c, all);
        f->pooled--;
        c->state = FRONT_OPEN;
    } else {
        c = hz_xcalloc(1, sizeof(*c));
        c->in = hz_xmalloc(FRONT_IN_MIN);
    }
    c->f = f;
    c->fd = fd;
    c->in_cap = FRONT_IN_MIN;
    llhttp_init(&c->p, HTTP_REQUEST, &f->settings);
    c->p.data = c;
    TAILQ_INSERT_TAIL(&f->conns, c, all);
    return c;
}

static void
front_capped(hz_front *f)
{
    if (++f->open >= f->cfg.max_conns && !f->capped) {
        f->capped = 1;
        (void)event_del(f->accept_ev);
    }
}

static void
front_start(hz_front *f, evutil_socket_t fd, const struct sockaddr_storage *ss, socklen_t sl)
{
    struct hz_front_conn *c;

    if (f->bev_fn != NULL) {
        struct bufferevent *bev = f->bev_fn(f->base, f->bev_arg);
        if (bev == NULL || bufferevent_setfd(bev, fd) != 0) {
            if (bev != NULL)
                bufferevent_free(bev);
            (void)close(fd);
            return;
        }
        c = front_conn_new(f, fd);
        c->bev = bev;
        bufferevent_setcb(bev, front_bev_read, front_bev_write, front_bev_event, c);
    } else {
        c = front_conn_new(f, fd);
        if (c->rd != NULL) { /* reused */
            (void)event_assign(c->rd, f->base, fd, EV_READ | EV_PERSIST, front_read_cb, c);
            (void)event_assign(c->wr, f->base, fd, EV_WRITE | EV_PERSIST, front_write_cb, c);
        } else {
            c->rd = event_new(f->base, fd, EV_READ | EV_PERSIST, front_read_cb, c);
            c->wr = event_new(f->base, fd, EV_WRITE | EV_PERSIST, front_write_cb, c);
        }
    }
    memcpy(&c->peer, ss, sl < sizeof(c->peer) ? sl : sizeof(c->peer));
    if (c->timer != NULL)
        (void)evtimer_assign(c->timer, f->base, front_timer_cb, c);
    else
        c->timer = evtimer_new(f->base, front_timer_cb, c);
    if ((c->bev == NULL && (c->rd == NULL || c->wr == NULL)) || c->timer == NULL) {
        f->open++; /* front_close counts it down */
        front_close(c);
        return;
    }
    front_timer_arm(c, f->idle_tv);
    front_capped(f);
    if (f->ring != NULL && c->bev == NULL) {
        /* The request has usually arrived by now: read it in this turn's
         * batch, and enter the epoll set only when it has not (or the
         * connection stays open). A Connection: close request then costs
         * no epoll_ctl at all. */
        c->reading = c->early = 1;
        front_rdq_add(c);
        return;
    }
    front_interest(c);
}

static void
front_accept_error(hz_front *f, int e)
{
    struct timeval tv;

    hz_backoff_fail(&f->backoff, f->who, e, f->open, &tv);
    f->backing_off = 1;
    (void)event_del(f->accept_ev);
    (void)evtimer_add(f->retry_ev, &tv);
}

static void
front_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
    hz_front *f = arg;

    (void)what;
    for (int i = 0; i < FRONT_ACCEPTS && !f->capped && f->accepting; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        evutil_socket_t fd =
            accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR || e == ECONNABORTED)
                return;
            front_accept_error(f, e);
            return;
        }
        hz_backoff_ok(&f->backoff);
        front_start(f, fd, &ss, sl);
    }
}

static void
front_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    hz_front *f = arg;

    (void)fd;
    (void)what;
    f->backing_off = 0;
    if (f->accepting && !f->capped)
        (void)event_add(f->accept_ev, NULL);
}

/* ------------------------------------------------------------ setup */

static void
front_settings(llhttp_settings_t *s)
{
    llhttp_settings_init(s);
    s->on_message_begin = on_message_begin;
    s->on_url = on_url;
    s->on_header_field = on_header_field;
    s->on_header_field_complete = on_header_field_complete;
    s->on_header_value = on_header_value;
    s->on_header_value_complete = on_header_value_complete;
    s->on_headers_complete = on_headers_complete;
    s->on_body = on_body;
    s->on_chunk_extension_name = on_chunk_extension;
    s->on_chunk_extension_value = on_chunk_extension;
    s->on_message_complete = on_message_complete;
}

/* The socket I/O path: a loop turn's reads and writes in one io_uring
 * batch, or read and writev per connection when the kernel refuses
 * io_uring or HAZE_IO_URING=0 says so. Opened with the front (in the
 * collector after the drop of privileges), closed by hz_front_set_bev
 * for an HTTPS front (OpenSSL's bufferevents). */
static void
front_ring_open(hz_front *f)
{
    f->ring = hz_uring_open(&f->ring_why);
    if (f->ring != NULL)
        f->wr = hz_xcalloc(FRONT_BATCH, sizeof(*f->wr));
}

/* Which path, said as the front's loop starts, when it is known: the
 * ring once per process, a refusal by each front; nothing for HTTPS. */
static void
front_ring_say(evutil_socket_t fd, short what, void *arg)
{
    static atomic_int said;
    hz_front *f = arg;

    (void)fd;
    (void)what;
    if (f->bev_fn != NULL)
        return;
    if (f->ring == NULL)
        hz_log_info("%s: socket reads and writes with read and writev (io_uring: %s)", f->who,
                    f->ring_why != NULL ? f->ring_why : "not opened");
    else if (atomic_fetch_add(&said, 1) == 0)
        hz_log_info("%s: socket reads and writes of a loop turn in one io_uring batch", f->who);
}

hz_front *
hz_front_new(struct event_base *base, evutil_socket_t listen_fd, const struct hz_front_cfg *cfg,
             hz_front_handler h, hz_front_refused refused, void *arg)
{
    hz_front *f = calloc(1, sizeof(*f));
    long idle_ms;

    if (f == NULL)
        return NULL;
    f->base = base;
    f->cfg = *cfg;
    if (f->cfg.max_conns < 1)
        f->cfg.max_conns = 1;
    (void)snprintf(f->who, sizeof(f->who), "%s", cfg->who ? cfg->who : "http");
    f->cfg.who = f->who;
    f->handler = h;
    f->refused = refused;
    f->arg = arg;
    f->lfd = listen_fd;
    hz_backoff_ok(&f->backoff);
    /* The request line and headers, the body, and room for the start of
     * the next pipelined request. */
    f->in_max = (size_t)(cfg->max_url + cfg->max_headers + cfg->max_body) + 2048;
    TAILQ_INIT(&f->conns);
    TAILQ_INIT(&f->dirty);
    TAILQ_INIT(&f->rdq);
    TAILQ_INIT(&f->pool);
    front_settings(&f->settings);
    /* One timer serves both deadlines: a request must arrive whole within
     * request_ms, an idle or blocked connection lasts timeout_ms. */
    idle_ms = cfg->request_ms < cfg->timeout_ms ? cfg->request_ms : cfg->timeout_ms;
    f->idle_tv0.tv_sec = idle_ms / 1000;
    f->idle_tv0.tv_usec = (idle_ms % 1000) * 1000;
    f->linger_tv0.tv_sec = FRONT_LINGER_MS / 1000;
    f->linger_tv0.tv_usec = (FRONT_LINGER_MS % 1000) * 1000;
    if (base != NULL) {
        f->idle_tv = event_base_init_common_timeout(base, &f->idle_tv0);
        f->linger_tv = event_base_init_common_timeout(base, &f->linger_tv0);
        f->flush_ev = event_new(base, -1, 0, front_flush_cb, f);
        f->retry_ev = evtimer_new(base, front_retry_cb, f);
        if (listen_fd >= 0) {
            f->accept_ev = event_new(base, listen_fd, EV_READ | EV_PERSIST, front_accept_cb, f);
            f->accepting = f->accept_ev != NULL && event_add(f->accept_ev, NULL) == 0;
        }
        if (f->idle_tv == NULL || f->linger_tv == NULL || f->flush_ev == NULL ||
            f->retry_ev == NULL || (listen_fd >= 0 && !f->accepting)) {
            hz_front_free(f);
            return NULL;
        }
        if (listen_fd >= 0) {
            front_ring_open(f);
            f->ring_ev = event_new(base, -1, 0, front_ring_say, f);
            if (f->ring_ev != NULL)
                event_active(f->ring_ev, EV_TIMEOUT, 0); /* runs as the loop starts */
        }
    } else {
        f->idle_tv = &f->idle_tv0;
        f->linger_tv = &f->linger_tv0;
    }
    return f;
}

void
hz_front_set_bev(hz_front *f, hz_front_bev_fn fn, void *arg)
{
    f->bev_fn = fn;
    f->bev_arg = arg;
    if (fn != NULL) {
        hz_uring_close(f->ring); /* bufferevents do their own I/O */
        f->ring = NULL;
    }
}

void
hz_front_unlisten(hz_front *f)
{
    if (f == NULL || f->lfd < 0)
        return;
    f->accepting = 0;
    if (f->accept_ev != NULL)
        event_free(f->accept_ev);
    f->accept_ev = NULL;
    if (f->retry_ev != NULL)
        (void)evtimer_del(f->retry_ev);
    (void)close(f->lfd);
    f->lfd = -1;
}

void
hz_front_free(hz_front *f)
{
    struct hz_front_conn *c;

    if (f == NULL)
        return;
    hz_front_unlisten(f);
    while ((c = TAILQ_FIRST(&f->conns)) != NULL) {
        front_close(c);
        front_free_conn(c);
    }
    while ((c = TAILQ_FIRST(&f->pool)) != NULL) {
        TAILQ_REMOVE(&f->pool, c, all);
        front_destroy(c);
    }
    if (f->flush_ev != NULL)
        event_free(f->flush_ev);
    if (f->ring_ev != NULL)
        event_free(f->ring_ev);
    if (f->retry_ev != NULL)
        event_free(f->retry_ev);
    hz_uring_close(f->ring);
    free(f->wr);
    free(f);
}

long
hz_front_open(const hz_front *f)
{
    return f->open;
}

uint64_t
hz_front_deadlines(const hz_front *f)
{
    return f->deadlines;
}

uint64_t
hz_front_accept_failures(const hz_front *f)
{
    return f->backoff.failures;
}

/* ------------------------------------------------------------ tests */

struct hz_front_conn *
hz_front_test_conn(hz_front *f)
{
    struct hz_front_conn *c = front_conn_new(f, -1);
    struct sockaddr_in *sin = (struct sockaddr_in *)&c->peer;

    c->test = 1;
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(0x7f000001);
    return c;
}

int
hz_front_test_feed(struct hz_front_conn *c, const char *data, size_t len)
{
    while (len > 0 && c->state == FRONT_OPEN) {
        size_t room = front_room(c), k = len < room ? len : room;
        if (room == 0) {
            if (c->parsed == c->in_len && c->n == 0)
                front_refuse(c, 431, "request too large");
            break;
        }
        memcpy(c->in + c->in_len, data, k);
        c->in_len += k;
        data += k;
        len -= k;
        front_parse(c);
    }
    return c->state == FRONT_OPEN ? 0 : -1;
}

size_t
hz_front_test_output(struct hz_front_conn *c, char *out, size_t cap)
{
    struct iovec iov[HZ_FRONT_SLOTS * 2];
    int niov, closing;
    size_t total = 0;

    (void)front_iov(c, iov, &niov, &closing);
    for (int i = 0; i < niov; i++) {
        size_t k = iov[i].iov_len;
        if (total + k > cap)
            k = cap - total;
        memcpy(out + total, iov[i].iov_base, k);
        total += k;
        if (total == cap)
            break;
    }
    front_consume(c, total);
    if (c->state == FRONT_OPEN)
        front_parse(c);
    return total;
}

void
hz_front_test_close(struct hz_front_conn *c)
{
    front_close(c);
    front_free_conn(c);
}
