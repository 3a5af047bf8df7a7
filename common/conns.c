/* SPDX-License-Identifier: MIT */
/*
 * conns.c - connection cap, whole-request deadline and accept backoff for
 * an evhttp server (see conns.h).
 */
#include "common/conns.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "common/backoff.h"
#include "common/log.h"
#include "common/mem.h"

struct conn {
    hz_conns *c;
    struct bufferevent *bev;
    struct evhttp_connection *evcon; /* known once registered */
    struct event *deadline;
    evutil_socket_t fd;
    int busy; /* a request is being answered */
    TAILQ_ENTRY(conn) fresh;
};
TAILQ_HEAD(connq, conn);

struct hz_conns {
    struct event_base *base;
    struct evhttp *http;
    struct evconnlistener *lev;
    long max, open;
    struct timeval request_tv;
    char who[32];
    hz_conns_bev_fn bev_fn;
    void *bev_arg;
    struct connq fresh;        /* made by bevcb, not registered yet */
    struct event *register_ev; /* registers the fresh ones */
    struct event *retry_ev;    /* ends an accept backoff */
    int capped, backing_off;
    struct hz_backoff backoff;
    uint64_t deadlines;
    struct conn **byfd; /* open connections by socket */
    size_t nbyfd;
};

/* Listener -> hz_conns, for the error callback (whose argument is the
 * evhttp the listener serves). A few entries, looked up on errors only. */
static pthread_mutex_t conns_mu = PTHREAD_MUTEX_INITIALIZER;
static hz_conns *conns_reg[256];

static void
conns_reg_set(hz_conns *c, int add)
{
    pthread_mutex_lock(&conns_mu);
    for (size_t i = 0; i < sizeof(conns_reg) / sizeof(conns_reg[0]); i++) {
        if (add && conns_reg[i] == NULL) {
            conns_reg[i] = c;
            break;
        }
        if (!add && conns_reg[i] == c) {
            conns_reg[i] = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&conns_mu);
}

static hz_conns *
conns_reg_find(const struct evconnlistener *lev)
{
    hz_conns *c = NULL;

    pthread_mutex_lock(&conns_mu);
    for (size_t i = 0; i < sizeof(conns_reg) / sizeof(conns_reg[0]) && c == NULL; i++)
        if (conns_reg[i] != NULL && conns_reg[i]->lev == lev)
            c = conns_reg[i];
    pthread_mutex_unlock(&conns_mu);
    return c;
}

/* Accepting on or off: off while capped or backing off. */
static void
conns_accepting(hz_conns *c)
{
    if (c->lev == NULL)
        return;
    if (c->capped || c->backing_off)
        (void)evconnlistener_disable(c->lev);
    else
        (void)evconnlistener_enable(c->lev);
}

static struct conn *
conns_byfd(const hz_conns *c, evutil_socket_t fd)
{
    return fd >= 0 && (size_t)fd < c->nbyfd ? c->byfd[fd] : NULL;
}

/* ------------------------------------------------------------ life */

/* One connection fewer: below the cap again, accept again. */
static void
conns_gone(hz_conns *c)
{
    c->open--;
    if (c->capped && c->open < c->max) {
        c->capped = 0;
        conns_accepting(c);
    }
}

static void
conns_closed(struct evhttp_connection *evcon, void *arg)
{
    struct conn *k = arg;
    hz_conns *c = k->c;

    (void)evcon;
    if (conns_byfd(c, k->fd) == k)
        c->byfd[k->fd] = NULL;
    event_free(k->deadline);
    free(k);
    conns_gone(c);
}

/* The deadline passed: a request did not arrive whole in time. */
static void
conns_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct conn *k = arg;

    (void)fd;
    (void)what;
    if (k->busy || k->evcon == NULL) {
        (void)evtimer_add(k->deadline, &k->c->request_tv);
        return;
    }
    k->c->deadlines++;
    evhttp_connection_free(k->evcon); /* runs conns_closed: k is gone */
}

/* Right after evhttp made the connections of the bufferevents handed out
 * by conns_bev: their close callback, and the socket table. */
static void
conns_register(evutil_socket_t fd, short what, void *arg)
{
    hz_conns *c = arg;
    struct conn *k;

    (void)fd;
    (void)what;
    while ((k = TAILQ_FIRST(&c->fresh)) != NULL) {
        void *cbarg = NULL;
        TAILQ_REMOVE(&c->fresh, k, fresh);
        bufferevent_getcb(k->bev, NULL, NULL, NULL, &cbarg);
        if (cbarg == NULL ||
            evhttp_connection_get_bufferevent((struct evhttp_connection *)cbarg) != k->bev) {
            /* Not libevent 2.1's layout: untracked (counted as closed). */
            hz_log_warnx("conns: %s: cannot follow a connection", c->who);
            event_free(k->deadline);
            free(k);
            conns_gone(c);
            continue;
        }
        k->evcon = cbarg;
        k->fd = bufferevent_getfd(k->bev);
        if (k->fd >= 0 && (size_t)k->fd >= c->nbyfd) {
            size_t n = (size_t)k->fd * 2 + 64;
            c->byfd = hz_xreallocarray(c->byfd, n, sizeof(*c->byfd));
            memset(c->byfd + c->nbyfd, 0, (n - c->nbyfd) * sizeof(*c->byfd));
            c->nbyfd = n;
        }
        if (k->fd >= 0)
            c->byfd[k->fd] = k;
        evhttp_connection_set_closecb(k->evcon, conns_closed, k);
    }
}

/* evhttp's bevcb: one call per accepted connection. */
static struct bufferevent *
conns_bev(struct event_base *base, void *arg)
{
    hz_conns *c = arg;
    struct bufferevent *bev;
    struct conn *k;

    bev = c->bev_fn != NULL ? c->bev_fn(base, c->bev_arg) : NULL;
    if (bev == NULL)
        bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    k = calloc(1, sizeof(*k));
    if (bev == NULL || k == NULL) {
        free(k);
        return bev; /* untracked, still served */
    }
    hz_backoff_ok(&c->backoff);
    k->c = c;
    k->bev = bev;
    k->fd = -1;
    k->deadline = evtimer_new(base, conns_deadline, k);
    if (k->deadline == NULL) {
        free(k);
        return bev;
    }
    (void)evtimer_add(k->deadline, &c->request_tv);
    TAILQ_INSERT_TAIL(&c->fresh, k, fresh);
    event_active(c->register_ev, EV_TIMEOUT, 0);
    if (++c->open >= c->max && !c->capped) {
        c->capped = 1;
        conns_accepting(c);
    }
    return bev;
}

/* ------------------------------------------------------------ requests */

static void
conns_answered(struct evhttp_request *req, void *arg)
{
    hz_conns *c = arg;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct conn *k;

    if (evcon == NULL)
        return;
    k = conns_byfd(c, bufferevent_getfd(evhttp_connection_get_bufferevent(evcon)));
    if (k == NULL || k->evcon != evcon)
        return;
    k->busy = 0;
    (void)evtimer_add(k->deadline, &c->request_tv); /* the next request's */
}

void
hz_conns_request(hz_conns *c, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct conn *k;

    if (c == NULL || evcon == NULL)
        return;
    k = conns_byfd(c, bufferevent_getfd(evhttp_connection_get_bufferevent(evcon)));
    if (k == NULL || k->evcon != evcon)
        return;
    k->busy = 1;
    (void)evtimer_del(k->deadline);
    evhttp_request_set_on_complete_cb(req, conns_answered, c);
}

/* ------------------------------------------------------------ accept errors */

static void
conns_retry(evutil_socket_t fd, short what, void *arg)
{
    hz_conns *c = arg;

    (void)fd;
    (void)what;
    c->backing_off = 0;
    conns_accepting(c);
}

static void
conns_accept_error(struct evconnlistener *lev, void *arg)
{
    int e = EVUTIL_SOCKET_ERROR();
    hz_conns *c = conns_reg_find(lev);
    struct timeval tv;

    (void)arg;
    if (c == NULL) {
        (void)evconnlistener_disable(lev); /* cannot happen; never spin */
        return;
    }
    hz_backoff_fail(&c->backoff, c->who, e, c->open, &tv);
    c->backing_off = 1;
    conns_accepting(c);
    (void)evtimer_add(c->retry_ev, &tv);
}

/* ------------------------------------------------------------ setup */

hz_conns *
hz_conns_new(struct event_base *base, struct evhttp *http, long max_conns, long request_ms,
             const char *who)
{
    hz_conns *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->base = base;
    c->http = http;
    c->max = max_conns > 0 ? max_conns : 1;
    c->request_tv.tv_sec = request_ms / 1000;
    c->request_tv.tv_usec = (request_ms % 1000) * 1000;
    (void)snprintf(c->who, sizeof(c->who), "%s", who);
    TAILQ_INIT(&c->fresh);
    c->register_ev = event_new(base, -1, 0, conns_register, c);
    c->retry_ev = evtimer_new(base, conns_retry, c);
    if (c->register_ev == NULL || c->retry_ev == NULL) {
        hz_conns_free(c);
        return NULL;
    }
    evhttp_set_bevcb(http, conns_bev, c);
    return c;
}

void
hz_conns_set_bev(hz_conns *c, hz_conns_bev_fn fn, void *arg)
{
    c->bev_fn = fn;
    c->bev_arg = arg;
}

void
hz_conns_listen(hz_conns *c, struct evhttp_bound_socket *bound)
{
    c->lev = evhttp_bound_socket_get_listener(bound);
    conns_reg_set(c, 1);
    evconnlistener_set_error_cb(c->lev, conns_accept_error);
    conns_accepting(c);
}

void
hz_conns_unlisten(hz_conns *c)
{
    if (c == NULL || c->lev == NULL)
        return;
    conns_reg_set(c, 0);
    (void)evtimer_del(c->retry_ev);
    c->lev = NULL;
}

long
hz_conns_open(const hz_conns *c)
{
    return c->open;
}

uint64_t
hz_conns_accept_failures(const hz_conns *c)
{
    return c->backoff.failures;
}

uint64_t
hz_conns_deadlines(const hz_conns *c)
{
    return c->deadlines;
}

void
hz_conns_free(hz_conns *c)
{
    struct conn *k;

    if (c == NULL)
        return;
    hz_conns_unlisten(c);
    while ((k = TAILQ_FIRST(&c->fresh)) != NULL) {
        TAILQ_REMOVE(&c->fresh, k, fresh);
        event_free(k->deadline);
        free(k);
    }
    for (size_t i = 0; i < c->nbyfd; i++)
        if (c->byfd[i] != NULL) {
            evhttp_connection_set_closecb(c->byfd[i]->evcon, NULL, NULL);
            event_free(c->byfd[i]->deadline);
            free(c->byfd[i]);
        }
    free(c->byfd);
    if (c->register_ev != NULL)
        event_free(c->register_ev);
    if (c->retry_ev != NULL)
        event_free(c->retry_ev);
    free(c);
}
