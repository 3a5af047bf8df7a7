/* SPDX-License-Identifier: MIT */
/*
 * tls.c - OpenSSL contexts for evhttp listeners (see tls.h).
 */
#include "common/tls.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/log.h"
#include "common/mem.h"

/* Mozilla's "intermediate" TLS 1.2 cipher list (server side). */
#define TLS_CIPHERS                                                                                \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                                   \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                                   \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                                   \
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
#define TLS_CURVES "X25519:prime256v1:secp384r1"

struct hz_tls {
    char *cert, *key;
    pthread_mutex_t mu;
    SSL_CTX *ctx; /* current; one reference is ours */
};

/* OpenSSL's first queued error as one line (and clears the queue). */
static const char *
tls_err(char *buf, size_t cap)
{
    unsigned long e = ERR_get_error();

    if (e == 0)
        (void)snprintf(buf, cap, "unknown error");
    else
        ERR_error_string_n(e, buf, cap);
    ERR_clear_error();
    return buf;
}

/* A new context from the files, or NULL with err. */
static SSL_CTX *
tls_ctx_new(const char *cert, const char *key, struct hz_err *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    char why[256];

    ERR_clear_error();
    if (ctx == NULL) {
        hz_err_set(err, HZ_ECONFIG, "TLS: cannot create a context: %s", tls_err(why, sizeof(why)));
        return NULL;
    }
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS) != 1 ||
        SSL_CTX_set1_groups_list(ctx, TLS_CURVES) != 1) {
        hz_err_set(err, HZ_ECONFIG, "TLS: cannot set the protocol profile: %s",
                   tls_err(why, sizeof(why)));
        goto fail;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                                 SSL_OP_NO_SSLv3);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        hz_err_set(err, HZ_ECONFIG, "TLS: tls_cert %s: %s", cert, tls_err(why, sizeof(why)));
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        hz_err_set(err, HZ_ECONFIG, "TLS: tls_key %s: %s", key, tls_err(why, sizeof(why)));
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        hz_err_set(err, HZ_ECONFIG, "TLS: tls_key %s does not match tls_cert %s", key, cert);
        ERR_clear_error();
        goto fail;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int
hz_tls_open(hz_tls **out, const char *cert, const char *key, struct hz_err *err)
{
    SSL_CTX *ctx = tls_ctx_new(cert, key, err);
    hz_tls *t;

    if (ctx == NULL)
        return HZ_ECONFIG;
    t = hz_xcalloc(1, sizeof(*t));
    t->cert = hz_xstrdup(cert);
    t->key = hz_xstrdup(key);
    t->ctx = ctx;
    if (pthread_mutex_init(&t->mu, NULL) != 0)
        abort();
    *out = t;
    return 0;
}

int
hz_tls_reload(hz_tls *t, struct hz_err *err)
{
    SSL_CTX *ctx = tls_ctx_new(t->cert, t->key, err), *old;

    if (ctx == NULL)
        return HZ_ECONFIG;
    (void)pthread_mutex_lock(&t->mu);
    old = t->ctx;
    t->ctx = ctx;
    (void)pthread_mutex_unlock(&t->mu);
    SSL_CTX_free(old); /* open connections hold their own references */
    return 0;
}

void
hz_tls_close(hz_tls *t)
{
    if (t == NULL)
        return;
    SSL_CTX_free(t->ctx);
    (void)pthread_mutex_destroy(&t->mu);
    free(t->cert);
    free(t->key);
    free(t);
}

/*
 * evhttp's bufferevent callback: each accepted connection gets an SSL of
 * the current context, in the accepting state; evhttp sets its socket.
 * NULL makes evhttp drop the connection.
 */
struct bufferevent *
hz_tls_bev(struct event_base *base, void *arg)
{
    hz_tls *t = arg;
    struct bufferevent *bev;
    SSL *ssl;

    (void)pthread_mutex_lock(&t->mu);
    ssl = SSL_new(t->ctx);
    (void)pthread_mutex_unlock(&t->mu);
    if (ssl == NULL)
        return NULL;
    bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                         BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        SSL_free(ssl);
        return NULL;
    }
    /* Clients that close without close_notify are normal for HTTP. */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}
