/* SPDX-License-Identifier: MIT */
/*
 * conns.h - the edge of an evhttp server against hostile clients, shared
 * by the collector and the dashboard (libevent 2.1 has none of this):
 *
 * - a connection cap: at max_conns open connections the listener stops
 *   accepting (new connections wait in the kernel's backlog) until one
 *   closes;
 * - a deadline for a whole request, headers and body: a request must be
 *   read within request_ms of the connection opening or of the previous
 *   answer, however slowly its bytes trickle in (evhttp's own timeout is
 *   per read, so one byte a second keeps it open forever); a request being
 *   answered is never cut;
 * - accept failures (EMFILE, ENFILE, ENOBUFS...) pause the listener with a
 *   backoff (100 ms doubling to 1 s) instead of spinning on a listener that
 *   stays readable, and are logged once per 10 s with a count.
 *
 * How, within libevent 2.1.12's public API: evhttp_set_bevcb sees each new
 * connection (its bufferevent is made here); the connection object is
 * found right after (bufferevent_getcb's argument is evhttp's connection)
 * and given a close callback, which is where the count goes down. One
 * hz_conns per evhttp and event loop; not thread-safe beyond that.
 */
#ifndef HZ_COMMON_CONNS_H
#define HZ_COMMON_CONNS_H

#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>

typedef struct hz_conns hz_conns;

/* Makes the bufferevent of a new connection (TLS, for instance); NULL
 * means a plain socket bufferevent. */
typedef struct bufferevent *(*hz_conns_bev_fn)(struct event_base *base, void *arg);

/* Guards http on base (sets its bevcb). who names the server in logs.
 * Returns NULL only when out of memory. */
hz_conns *hz_conns_new(struct event_base *base, struct evhttp *http, long max_conns,
                       long request_ms, const char *who);
/* The bufferevent maker for new connections (default: plain sockets). */
void hz_conns_set_bev(hz_conns *c, hz_conns_bev_fn fn, void *arg);
/* Watches the listener of bound (after evhttp_bind_socket_with_handle or
 * evhttp_accept_socket_with_handle): the cap and the accept backoff. */
void hz_conns_listen(hz_conns *c, struct evhttp_bound_socket *bound);
/* Forgets the listener: call before evhttp_del_accept_socket. */
void hz_conns_unlisten(hz_conns *c);
/* Call first in the request handler: req has been read, its deadline
 * stops until its answer has been sent. */
void hz_conns_request(hz_conns *c, struct evhttp_request *req);
/* Open connections now. */
long hz_conns_open(const hz_conns *c);
/* Accept failures so far, and requests closed by the deadline. */
uint64_t hz_conns_accept_failures(const hz_conns *c);
uint64_t hz_conns_deadlines(const hz_conns *c);
/* Frees c: after evhttp_free (which closes the connections through it). */
void hz_conns_free(hz_conns *c);

#endif
