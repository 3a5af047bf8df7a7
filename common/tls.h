/* SPDX-License-Identifier: MIT */
/*
 * tls.h - HTTPS for an evhttp listener: an OpenSSL context that evhttp's
 * new connections are wrapped in (libevent's OpenSSL bufferevents), and
 * its reload on SIGHUP.
 *
 * Protocols TLS 1.2 and 1.3 only; TLS 1.2 ciphers are Mozilla's
 * "intermediate" list (ECDHE/DHE with AES-GCM or ChaCha20-Poly1305), TLS
 * 1.3 keeps OpenSSL's suites (all of them are in that profile); no
 * renegotiation, no compression, no session tickets across reloads.
 *
 * Reload builds a whole new context from the files and swaps it in only
 * when certificate and key load and match; a bad file is reported and the
 * old context kept. Connections already open keep the context they
 * started with (each SSL holds a reference), so none is dropped. The
 * current context is swapped under a mutex: the collector's threads
 * accept on their own loops while the main thread reloads.
 */
#ifndef HZ_COMMON_TLS_H
#define HZ_COMMON_TLS_H

#include "common/err.h"

struct bufferevent;
struct event_base;

struct evhttp;

typedef struct hz_tls hz_tls;

/* Loads cert (PEM chain) and key (PEM). 0, or HZ_ECONFIG with err. */
int hz_tls_open(hz_tls **out, const char *cert, const char *key, struct hz_err *err);
/* Loads the same files again. 0 (new context in use), or HZ_ECONFIG with
 * err and the old context still in use. */
int hz_tls_reload(hz_tls *t, struct hz_err *err);
/* NULL is a no-op. Connections still open keep their context alive. */
void hz_tls_close(hz_tls *t);

/* The bufferevent of a new server connection: TLS with t's current
 * context, in the accepting state (NULL on failure: evhttp drops the
 * connection). For hz_conns_set_bev, so that TLS connections are capped
 * and given the request deadline like plain ones; t must outlive the
 * server. */
struct bufferevent *hz_tls_bev(struct event_base *base, void *t);

#endif
