/* SPDX-License-Identifier: MIT */
/*
 * front.h - the collector's HTTP/1.1 front, built for its one job (issue
 * 12): small requests, many of them, answered at once or once the
 * publisher has the hit. It replaces evhttp on the collector's loops (the
 * dashboard keeps evhttp and common/conns.c).
 *
 * On the worker's event_base, one listener and raw sockets:
 *
 * - a read takes what the socket holds into the connection's buffer and
 *   every complete request in it is parsed (llhttp, Node.js's parser,
 *   compiled from Debian's node-llhttp sources) and handed to the handler
 *   in order (pipelining); answers go out in order with one write per
 *   loop turn and connection; read interest stays armed (epoll_ctl only
 *   when a client stops reading its answers or fills its buffer);
 * - the reads of the connections epoll found readable and the writes of
 *   a loop turn are made at the turn's end, together in one io_uring
 *   batch (collector/uring.h), or with read and writev one by one where
 *   the kernel has no io_uring or HAZE_IO_URING=0 (logged at start);
 * - nothing is allocated per request: each connection owns its input
 *   buffer (grown to the limits only by a large request), its output
 *   buffer and a ring of HZ_FRONT_SLOTS answer slots;
 * - the limits and defences of evhttp + common/conns.c stay: connection
 *   cap (the listener pauses), accept failures back off (100 ms doubling
 *   to 1 s, logged once per 10 s), a whole request must arrive within
 *   request_ms of the connection opening or of the previous answer (a
 *   request being answered is never cut), idle and blocked-write
 *   connections close after timeout_ms, TLS through a bufferevent maker;
 * - stricter than evhttp: anything llhttp refuses in its strict mode
 *   (duplicate or signed Content-Length, whitespace before a colon, NUL or
 *   other control bytes in a header, chunk extensions...), HTTP versions
 *   other than 1.0 and 1.1, a URI over max_url (414), headers over
 *   max_headers (431), a body over max_body (413) all get a one-line
 *   reason and the connection is closed after the answer.
 *
 * Not thread-safe: one front per loop.
 */
#ifndef HZ_COLLECTOR_FRONT_H
#define HZ_COLLECTOR_FRONT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/util.h>

struct event_base;
struct bufferevent;

typedef struct hz_front hz_front;
/* Where one request's answer goes (an entry of its connection's ring). */
struct hz_front_slot;

#define HZ_FRONT_SLOTS   16 /* answers queued per connection */
#define HZ_FRONT_HEADERS 64 /* header lines per request (more: 431) */

enum hz_method { HZ_M_OTHER, HZ_M_GET, HZ_M_HEAD, HZ_M_POST, HZ_M_OPTIONS };

struct hz_hdr {
    const char *name;  /* as sent; NUL-terminated */
    const char *value; /* leading and trailing whitespace trimmed; NUL-terminated */
    uint32_t name_len, value_len;
};

/* One request, valid during the handler's call only. */
struct hz_req {
    enum hz_method method;
    const char *path; /* NUL-terminated; NULL when the target is not a path */
    size_t path_len;
    const char *query; /* after '?', NUL-terminated; NULL when none */
    size_t query_len;
    const struct hz_hdr *h;
    int nh;
    const char *body; /* not NUL-terminated */
    size_t body_len;
    const struct sockaddr *peer;
    struct hz_front_slot *slot;
};

/* The first header called name (case-insensitive), or NULL; *len its
 * length (len may be NULL). The value is NUL-terminated, and a value with
 * a NUL inside never gets this far. */
const char *hz_req_header(const struct hz_req *r, const char *name, size_t *len);

/* Called once per request, in order. It answers with hz_front_reply, now
 * or later (the connection is kept until every slot is answered). */
typedef void (*hz_front_handler)(struct hz_req *r, void *arg);
/* A request the front refused itself (status 400/413/414/431). */
typedef void (*hz_front_refused)(void *arg, int status);
/* Makes the bufferevent of a new connection (TLS); see common/tls.h. */
typedef struct bufferevent *(*hz_front_bev_fn)(struct event_base *base, void *arg);

struct hz_front_cfg {
    long max_url, max_headers, max_body;
    long timeout_ms, request_ms;
    long max_conns;
    const char *who; /* names the server in logs */
};

/* Serves listen_fd (non-blocking, listening) on base, and owns it from
 * now on (hz_front_unlisten or hz_front_free closes it). NULL only when
 * out of memory. */
hz_front *hz_front_new(struct event_base *base, evutil_socket_t listen_fd,
                       const struct hz_front_cfg *cfg, hz_front_handler h, hz_front_refused refused,
                       void *arg);
/* New connections get their bufferevent from fn (TLS) from now on. */
void hz_front_set_bev(hz_front *f, hz_front_bev_fn fn, void *arg);
/* Stops accepting and closes the listener; open connections are served. */
void hz_front_unlisten(hz_front *f);
/* Closes every connection and frees f (answers still pending are lost:
 * call after the publisher has answered everything). */
void hz_front_free(hz_front *f);

/* Answers the request of s: status, header lines hdrs and hdrs2 ("Name:
 * value\r\n"..., either NULL), and body (copied). Content-Length, Date
 * and Connection are added; a HEAD request gets no body. Exactly once per
 * slot. */
void hz_front_reply(struct hz_front_slot *s, int status, const char *hdrs, const char *hdrs2,
                    const void *body, size_t len);
/* The same with a body that outlives the connection (static data): sent
 * from where it is, not copied. */
void hz_front_reply_static(struct hz_front_slot *s, int status, const char *hdrs, const char *hdrs2,
                           const void *body, size_t len);
/* The handler's arg, and a number the handler keeps with the slot. */
void *hz_front_slot_arg(const struct hz_front_slot *s);
int *hz_front_slot_tag(struct hz_front_slot *s);

/* Open connections, requests closed by the deadline, accept failures. */
long hz_front_open(const hz_front *f);
uint64_t hz_front_deadlines(const hz_front *f);
uint64_t hz_front_accept_failures(const hz_front *f);

/* For the fuzzer and unit tests: a connection without a socket. Bytes
 * fed are parsed and answered as from a socket; the answers accumulate
 * and are read (and consumed) with hz_front_test_output. feed returns 0,
 * or -1 once the connection is closing (refused, or Connection: close). */
struct hz_front_conn;
struct hz_front_conn *hz_front_test_conn(hz_front *f);
int hz_front_test_feed(struct hz_front_conn *c, const char *data, size_t len);
size_t hz_front_test_output(struct hz_front_conn *c, char *out, size_t cap);
void hz_front_test_close(struct hz_front_conn *c);

#endif
