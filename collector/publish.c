/* SPDX-License-Identifier: MIT */
/*
 * publish.c - the publisher's handle, its Redis connection (async, on the
 * thread's libevent loop), the hot path (pipelined XADD), the reply
 * timeout, the tick and open/close. Replay, salt and drop summaries are in
 * pub_replay.c, pub_salt.c and pub_drops.c (pub_int.h says why a
 * connection is retired rather than dropped).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/adapters/libevent.h>

#include "collector/metrics.h"
#include "collector/pub_int.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/rstream.h"
#include "common/str.h"

/* xbuf: an XADD's prefix, its value's length line, the value (one record,
 * or a batch of records of at most HZ_RECORD_BATCH_BYTES, each with a
 * length prefix of at most 2 bytes, behind a version byte), "\r\n". */
#define PUB_XVALUE_MAX                                                                             \
    (HZ_RECORD_BATCH_BYTES + 1 + 2 * HZ_RECORD_BATCH_MAX > HZ_RECORD_PACK_MAX                      \
         ? HZ_RECORD_BATCH_BYTES + 1 + 2 * HZ_RECORD_BATCH_MAX                                     \
         : HZ_RECORD_PACK_MAX)
#define PUB_XBUF_EXTRA (32 + PUB_XVALUE_MAX)

uint64_t
pub_now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
pub_mono_us(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void
pub_spool_gauge(hz_pub *p)
{
    int64_t b = p->spool ? (int64_t)hz_spool_bytes(p->spool) : 0;
    int64_t e = p->spool ? (int64_t)hz_spool_entries(p->spool) : 0;

    atomic_fetch_add_explicit(&hz_metrics.spool_bytes, b - p->spool_bytes_seen,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&hz_metrics.spool_entries, e - p->spool_entries_seen,
                              memory_order_relaxed);
    p->spool_bytes_seen = b;
    p->spool_entries_seen = e;
}

int
pub_spool(hz_pub *p, const struct hz_record *r, int ambiguous)
{
    int rc = hz_spool_push(p->spool, r, ambiguous);

    if (rc == 0) {
        HZ_METRIC_ADD(spooled, 1);
        pub_replay_spooled(p);
        if (ambiguous) {
            p->dup_ready = 0;
            p->amb_end = hz_spool_head(p->spool) + hz_spool_bytes(p->spool);
            if (p->floor == PUB_FLOOR_NONE)
                p->floor = PUB_FLOOR_UNKNOWN; /* no pub_floor_note: no floor */
        }
    } else {
        hz_log_warnx("pub_spool: thread %d: spool full or failing (%s)", p->thread,
                     hz_strerror(rc));
        rc = HZ_EFULL;
    }
    pub_spool_gauge(p);
    return rc;
}

int
pub_spool_cmd(hz_pub *p, const struct pub_cmd *c, int ambiguous)
{
    struct hz_record r;
    struct hz_err e = {0};
    int rc;

    /* Packed from a record of ours: it unpacks unless the collector made
     * a record the aggregator would refuse as malformed anyway. */
    if (hz_record_unpack(c->packed, c->plen, &r, &e) != 0) {
        hz_log_warnx("pub_spool: thread %d: dropping an invalid record (%s)", p->thread, e.msg);
        return HZ_EFULL;
    }
    if (ambiguous)
        pub_floor_note(p, c->conn);
    rc = pub_spool(p, &r, ambiguous);
    explicit_bzero(&r, sizeof(r));
    return rc;
}

/* ------------------------------------------------------------ commands */

static struct pub_cmd *
pub_cmd_alloc(hz_pub *p, enum pub_kind kind, size_t extra)
{
    struct pub_cmd *c = calloc(1, sizeof(*c) + extra);

    if (c != NULL) {
        c->p = p;
        c->kind = kind;
        c->sent_ms = pub_now_ms();
    }
    return c;
}

struct pub_cmd *
pub_cmd_new(hz_pub *p, enum pub_kind kind)
{
    return pub_cmd_alloc(p, kind, 0);
}

struct pub_cmd *
pub_cmd_new_rec(hz_pub *p, enum pub_kind kind, const struct hz_record *r)
{
    unsigned char buf[HZ_RECORD_PACK_MAX];
    size_t n = hz_record_pack(r, buf);
    struct pub_cmd *c = pub_cmd_alloc(p, kind, n);

    if (c != NULL) {
        memcpy(c->packed, buf, n);
        c->plen = n;
    }
    explicit_bzero(buf, n);
    return c;
}

void
pub_cmd_free(struct pub_cmd *c)
{
    explicit_bzero(c->packed, c->plen);
    free(c);
}

/* The hits queued for the turn's XADDs, never sent: to the spool in
 * order (not ambiguous), each answered. */
static void
pub_batch_spool(hz_pub *p)
{
    struct pub_cmd *c;

    while ((c = TAILQ_FIRST(&p->pendq)) != NULL) {
        TAILQ_REMOVE(&p->pendq, c, link);
        p->npend--;
        c->cb(c->arg, pub_spool_cmd(p, c, 0));
        pub_cmd_free(c);
    }
}

static void pub_conn_done(struct pub_conn *conn);

/* Every reply (or NULL, when the connection goes away) comes here. */
static void
pub_on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct pub_cmd *c = privdata;
    struct pub_conn *conn = c->conn;
    hz_pub *p = c->p;
    redisReply *r = reply;

    (void)ac;
    conn->pending--;
    conn->answered = 1;
    if (r != NULL && r->type == REDIS_REPLY_STRING &&
        (c->kind == PUB_HIT || c->kind == PUB_REPLAY || c->kind == PUB_DROPS) &&
        r->len < sizeof(conn->acked)) {
        /* An XADD's ID: the floor of what is sent on conn after it. */
        memcpy(conn->acked, r->str, r->len);
        conn->acked_len = (unsigned char)r->len;
    }
    if (r == NULL && !c->orphan && !conn->retired && (c->kind == PUB_HIT || c->kind == PUB_REPLAY))
        /* The connection broke: everything in flight is ambiguous (this
         * command too, handled just below). */
        pub_retire(p, "connection lost");
    if (c->orphan || conn->retired) {
        /* Its hit was spooled as ambiguous when the connection retired;
         * the duplicate search waits for this very moment. A hit that
         * the spool could not take then is answered now: 202 when Redis
         * added it, else spooled (or 503: then it is surely not in Redis,
         * unless the connection broke after Redis had made it durable). */
        for (struct pub_cmd *x = c, *nx; x != NULL; x = nx) {
            nx = x->more; /* the other hits of a batch */
            if (x->kind == PUB_HIT && x->cb != NULL) {
                hz_pub_done cb = x->cb;
                int rc = 0;
                x->cb = NULL;
                if (r == NULL || (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS))
                    rc = pub_spool_cmd(p, x, r == NULL);
                cb(x->arg, rc);
            }
            pub_cmd_free(x);
        }
        if (conn->retired && conn->pending == 0)
            pub_conn_done(conn);
        return;
    }
    switch (c->kind) {
    case PUB_HIT: {
        /* One reply for the batch: every hit of it is in the stream, or
         * none (an error reply was not applied); spooled in order. */
        int failed = r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS;
        if (failed)
            HZ_METRIC_ADD(stream_errors, 1);
        for (struct pub_cmd *x = c; x != NULL; x = x->more) {
            TAILQ_REMOVE(&p->inflight, x, link);
            p->ninflight--;
        }
        /* Answered once all are off the list (whatever a callback does,
         * nothing else can answer them again). */
        for (struct pub_cmd *x = c, *nx; x != NULL; x = nx) {
            nx = x->more;
            x->cb(x->arg, failed ? pub_spool_cmd(p, x, 0) : 0);
            if (x != c)
                pub_cmd_free(x);
        }
        break;
    }
    case PUB_REPLAY:
        TAILQ_REMOVE(&p->inflight, c, link);
        p->ninflight--;
        pub_replay_reply(p, c, r);
        break;
    case PUB_SCAN:
        pub_scan_reply(p, c, r);
        break;
    case PUB_IDLOG:
        pub_idlog_reply(p, c, r);
        break;
    case PUB_SALT:
        pub_salt_reply(p, c, r);
        break;
    case PUB_DROPS:
        break;
    }
    pub_cmd_free(c);
}

/* Bookkeeping of a command just queued on the current connection. */
static void
pub_cmd_sent(hz_pub *p, struct pub_cmd *c)
{
    p->cur->pending++;
    if (c->kind == PUB_HIT || c->kind == PUB_REPLAY) {
        TAILQ_INSERT_TAIL(&p->inflight, c, link);
        p->ninflight++;
    }
}

static void pub_batch_flush(hz_pub *p);

int
pub_cmd_send(hz_pub *p, struct pub_cmd *c, int argc, const char **argv, const size_t *lens)
{
    if (!p->connected || p->cur == NULL)
        return -1;
    pub_batch_flush(p);
    c->conn = p->cur;
    if (redisAsyncCommandArgv(p->cur->ac, pub_on_reply, c, argc, argv, lens) != REDIS_OK)
        return -1;
    pub_cmd_sent(p, c);
    return 0;
}

/* The end of a loop turn that queued XADDs: hiredis writes them now, in
 * one write(), rather than after the next epoll_wait says the socket is
 * writable. The write event hiredis armed when the first was queued is
 * disarmed again in this same turn, so epoll is never told (libevent's
 * changelist), and the hits are in Redis one loop turn sooner. */
static void
pub_flush_cb(evutil_socket_t fd, short what, void *arg)
{
    hz_pub *p = arg;

    (void)fd;
    (void)what;
    p->flush_armed = 0;
    pub_batch_flush(p);
    if (p->connected && p->cur != NULL && p->cur->ac != NULL && !p->cur->closing)
        redisAsyncHandleWrite(p->cur->ac); /* an error retires the connection, as ever */
}

/* The value of an XADD, its length line first, into b: c alone in the
 * compact form, or c and the next k - 1 hits of the queue as a batch. */
static size_t
pub_xadd_value(char *b, struct pub_cmd *c, int k)
{
    size_t n = 0, vlen = c->plen;
    struct pub_cmd *x = c;

    if (k > 1) {
        vlen = 1;
        for (int i = 0; i < k; i++, x = TAILQ_NEXT(x, link))
            vlen += x->plen + (x->plen < 0x80 ? 1 : 2);
    }
    b[n++] = '$';
    n += hz_utoa(vlen, b + n);
    b[n++] = '\r';
    b[n++] = '\n';
    if (k == 1) {
        memcpy(b + n, c->packed, c->plen);
        n += c->plen;
    } else {
        unsigned char *v = (unsigned char *)b + n;
        size_t at = 1;
        v[0] = HZ_RECORD_BATCH;
        x = c;
        for (int i = 0; i < k; i++, x = TAILQ_NEXT(x, link))
            at = hz_record_batch_add(v, at, x->packed, x->plen);
        n += at;
    }
    b[n++] = '\r';
    b[n++] = '\n';
    return n;
}

/* The start of the next XADD on the current connection into b, with
 * MAXLEN ~ on its first and every PUB_TRIM_EVERY-th; returns its length. */
static size_t
pub_xadd_prefix(hz_pub *p, char *b)
{
    int trim = p->cur->xadds++ % PUB_TRIM_EVERY == 0;

    memcpy(b, trim ? p->xprefix : p->xlean, trim ? p->xprefix_len : p->xlean_len);
    return trim ? p->xprefix_len : p->xlean_len;
}

/* The hits queued in this loop turn go to hiredis, in order, as few
 * XADDs as the batch caps allow (HZ_RECORD_BATCH_MAX records,
 * HZ_RECORD_BATCH_BYTES): one stream entry and one reply each, which
 * answers every hit of it. In flight, each hit is on p->inflight as before
 * (the timeout, pub_retire); the first one's reply stands for all. */
static void
pub_batch_flush(hz_pub *p)
{
    struct pub_cmd *c, *x;

    while ((c = TAILQ_FIRST(&p->pendq)) != NULL) {
        size_t bytes = c->plen, n;
        int k = 1;

        if (!p->connected || p->cur == NULL) {
            pub_batch_spool(p);
            return;
        }
        for (x = TAILQ_NEXT(c, link);
             x != NULL && k < HZ_RECORD_BATCH_MAX && bytes + x->plen <= HZ_RECORD_BATCH_BYTES;
             x = TAILQ_NEXT(x, link)) {
            bytes += x->plen;
            k++;
        }
        n = pub_xadd_prefix(p, p->xbuf);
        n += pub_xadd_value(p->xbuf + n, c, k);
        if (redisAsyncFormattedCommand(p->cur->ac, pub_on_reply, c, p->xbuf, n) != REDIS_OK) {
            pub_batch_spool(p);
            return;
        }
        p->cur->pending++;
        for (int i = 0; i < k; i++) {
            x = TAILQ_FIRST(&p->pendq);
            TAILQ_REMOVE(&p->pendq, x, link);
            p->npend--;
            x->conn = p->cur;
            x->more = i + 1 < k ? TAILQ_FIRST(&p->pendq) : NULL;
            TAILQ_INSERT_TAIL(&p->inflight, x, link);
            p->ninflight++;
        }
    }
}

/* The XADD is formatted here (the prefix once per publisher, the record's
 * bulk string per hit), not by hiredis's sdscatfmt. hiredis appends it to
 * the connection's output buffer; every command queued during one loop
 * turn goes out in one write() at the turn's end (pub_flush_cb). */
int
pub_xadd_send(hz_pub *p, struct pub_cmd *c)
{
    char *b = p->xbuf;
    size_t n;

    if (!p->connected || p->cur == NULL)
        return -1;
    pub_batch_flush(p);
    if (!p->connected || p->cur == NULL)
        return -1;
    n = pub_xadd_prefix(p, b);
    n += pub_xadd_value(b + n, c, 1);
    c->conn = p->cur;
    if (redisAsyncFormattedCommand(p->cur->ac, pub_on_reply, c, b, n) != REDIS_OK)
        return -1;
    pub_cmd_sent(p, c);
    if (!p->flush_armed && p->flush_ev != NULL) {
        p->flush_armed = 1;
        event_active(p->flush_ev, EV_TIMEOUT, 0);
    }
    return 0;
}

void
hz_pub_send(hz_pub *p, const struct hz_record *r, hz_pub_done cb, void *arg)
{
    struct pub_cmd *c;

    /* Behind spooled entries not sent yet, a hit waits its turn in the
     * spool; once all of them are in flight on the connection, it can
     * follow them there (Redis runs one connection's commands in order;
     * if the connection breaks, the replayed ones stay at the spool's
     * head and this one is spooled behind them, pub_retire). */
    if (!p->connected || hz_spool_entries(p->spool) > (uint64_t)p->nreplay ||
        p->ninflight + p->npend >= PUB_INFLIGHT_MAX ||
        (c = pub_cmd_new_rec(p, PUB_HIT, r)) == NULL) {
        cb(arg, pub_spool(p, r, 0));
        return;
    }
    c->cb = cb;
    c->arg = arg;
    /* Queued for the end of the loop turn (pub_flush_cb), where the hits
     * of the turn go out as batches. */
    TAILQ_INSERT_TAIL(&p->pendq, c, link);
    p->npend++;
    if (p->flush_ev == NULL) {
        pub_batch_flush(p); /* closing: no turn's end to wait for */
    } else if (!p->flush_armed) {
        p->flush_armed = 1;
        event_active(p->flush_ev, EV_TIMEOUT, 0);
    }
}

/* ------------------------------------------------------------ connection */

/* A retired connection with nothing of ours left in it: close it. */
static void
pub_conn_done(struct pub_conn *conn)
{
    if (!conn->closing && conn->ac != NULL) {
        conn->closing = 1;
        redisAsyncDisconnect(conn->ac); /* pub_on_disconnect frees conn */
    }
}

void
pub_retire(hz_pub *p, const char *why)
{
    struct pub_conn *conn = p->cur;
    struct pub_cmd *c;

    if (conn == NULL || !p->connected)
        return;
    if (!p->closing)
        hz_log_warnx("pub_retire: thread %d: %s, spooling", p->thread, why);
    HZ_METRIC_ADD(stream_errors, 1);
    p->cur = NULL;
    if (p->connected) {
        atomic_fetch_sub_explicit(&hz_metrics.redis_up, 1, memory_order_relaxed);
        p->connected = 0;
    }
    p->connecting = 0;
    /* Replayed entries sent on it are ambiguous from now on. */
    pub_replay_lost(p, conn);
    while ((c = TAILQ_FIRST(&p->inflight)) != NULL) {
        TAILQ_REMOVE(&p->inflight, c, link);
        c->orphan = 1;
        if (c->kind == PUB_HIT && c->cb != NULL && pub_spool_cmd(p, c, 1) == 0) {
            /* Answered now; a full spool leaves it to the late reply (its
             * XADD may still be executed: a 503 now could be a lie). */
            hz_pub_done cb = c->cb;
            c->cb = NULL;
            cb(c->arg, 0);
        }
    }
    p->ninflight = 0;
    /* Hits queued for this turn's XADD were never sent: spooled behind
     * the ambiguous ones, not ambiguous themselves. */
    pub_batch_spool(p);
    p->scanning = 0;
    p->dup_ready = 0;
    p->salt_pending = 0;
    conn->retired = 1;
    conn->retired_ms = pub_now_ms();
    LIST_INSERT_HEAD(&p->retired, conn, link);
    p->nretired++;
    p->next_connect_ms = pub_now_ms() + (uint64_t)p->backoff_ms;
    if (conn->pending == 0)
        pub_conn_done(conn);
}

static void
pub_on_connect(const redisAsyncContext *ac, int status)
{
    struct pub_conn *conn = ac->data;
    hz_pub *p = conn->p;

    p->connecting = 0;
    if (status != REDIS_OK) {
        /* hiredis frees a context whose connect failed; no disconnect
         * callback follows (it was never connected). */
        conn->ac = NULL;
        if (p->cur == conn)
            p->cur = NULL;
        free(conn);
        p->next_connect_ms = pub_now_ms() + (uint64_t)p->backoff_ms;
        if (p->backoff_ms < 2000)
            p->backoff_ms *= 2;
        return;
    }
    p->connected = 1;
    p->backoff_ms = 100;
    HZ_METRIC_ADD(redis_up, 1);
    hz_log_info("pub_on_connect: thread %d: redis connected", p->thread);
}

static void
pub_on_disconnect(const redisAsyncContext *ac, int status)
{
    struct pub_conn *conn = ac->data;
    hz_pub *p = conn->p;

    (void)status;
    /* hiredis has run every pending callback with a NULL reply by now, and
     * is freeing the context: it must not be disconnected again. */
    conn->closing = 1;
    if (p->cur == conn) {
        if (!p->closing)
            hz_log_warnx("pub_on_disconnect: thread %d: redis connection lost, spooling",
                         p->thread);
        pub_retire(p, "connection lost");
    }
    if (conn->retired) {
        LIST_REMOVE(conn, link);
        p->nretired--;
    }
    conn->ac = NULL;
    free(conn);
    p->next_connect_ms = pub_now_ms() + (uint64_t)p->backoff_ms;
}

/* The answer to AUTH, the first command on every connection: a refusal
 * is logged (Redis's reason never holds the password); the XADDs behind it
 * then fail and their hits are spooled. */
static void
pub_on_auth(redisAsyncContext *ac, void *reply, void *privdata)
{
    redisReply *r = reply;
    struct pub_conn *conn = ac->data;

    (void)privdata;
    if (r != NULL && r->type == REDIS_REPLY_ERROR && !conn->p->auth_warned) {
        hz_log_warnx("pub_on_auth: thread %d: redis AUTH: %.*s", conn->p->thread,
                     (int)(r->len < 100 ? r->len : 100), r->str);
        conn->p->auth_warned = 1;
    }
}

/* Starts an async connect: the one way in, at start and after an outage
 * (the tick calls it with a backoff). */
static void
pub_connect(hz_pub *p)
{
    const struct hz_addr *a = &p->cfg->redis_address;
    struct pub_conn *conn;
    redisAsyncContext *ac;

    ac = a->is_unix ? redisAsyncConnectUnix(a->path) : redisAsyncConnect(a->host, a->port);
    if (ac == NULL || ac->err) {
        if (ac != NULL)
            redisAsyncFree(ac);
        p->next_connect_ms = pub_now_ms() + (uint64_t)p->backoff_ms;
        return;
    }
    conn = hz_xcalloc(1, sizeof(*conn));
    conn->p = p;
    conn->ac = ac;
    ac->data = conn;
    if (redisLibeventAttach(ac, p->base) != REDIS_OK) {
        redisAsyncFree(ac);
        free(conn);
        return;
    }
    (void)redisAsyncSetConnectCallback(ac, pub_on_connect);
    (void)redisAsyncSetDisconnectCallback(ac, pub_on_disconnect);
    {
        /* AUTH goes first; hiredis sends queued commands in order once
         * the connection is up, so every command follows it. */
        const char *argv[3];
        size_t lens[3];
        int argc = hz_rs_auth_argv(p->cfg->redis_user, p->cfg->redis_password, argv, lens);
        if (argc > 0 &&
            redisAsyncCommandArgv(ac, pub_on_auth, NULL, argc, argv, lens) != REDIS_OK) {
            redisAsyncFree(ac);
            free(conn);
            p->next_connect_ms = pub_now_ms() + (uint64_t)p->backoff_ms;
            return;
        }
    }
    p->cur = conn;
    p->connecting = 1;
}

/* ------------------------------------------------------------ tick */

/* Whether the current connection has owed answers for longer than
 * redis_timeout_ms without giving any. The hits' XADDs are timed one by
 * one (pub_tick); this times every other command the same way: the
 * duplicate search's pages (one at a time: while it runs, new hits are
 * spooled, so no XADD is in flight to notice a stall), the salt's GETs,
 * drop summaries. Sampled by the tick, from the first tick that saw the
 * connection owing since its last answer: never early, at most two ticks
 * late. */
static int
pub_silent(hz_pub *p, uint64_t now)
{
    struct pub_conn *conn = p->cur;
    int silent = 0;

    if (!p->connected || conn == NULL)
        return 0;
    if (conn->pending == 0)
        conn->owed_ms = 0;
    else if (conn->answered || conn->owed_ms == 0 || now < conn->owed_ms)
        conn->owed_ms = now;
    else
        silent = now - conn->owed_ms > (uint64_t)p->cfg->xadd_timeout_ms;
    conn->answered = 0;
    return silent;
}

static void
pub_tick(evutil_socket_t fd, short what, void *arg)
{
    hz_pub *p = arg;
    uint64_t now = pub_now_ms();
    struct pub_conn *conn, *next;

    (void)fd;
    (void)what;
    if (!p->connected && !p->connecting && now >= p->next_connect_ms)
        pub_connect(p);
    if ((p->connected && !TAILQ_EMPTY(&p->inflight) && now > TAILQ_FIRST(&p->inflight)->sent_ms &&
         now - TAILQ_FIRST(&p->inflight)->sent_ms > (uint64_t)p->cfg->xadd_timeout_ms) ||
        pub_silent(p, now)) {
        char why[64];
        (void)snprintf(why, sizeof(why), "redis did not answer in %ld ms", p->cfg->xadd_timeout_ms);
        pub_retire(p, why);
    }
    /* A retired connection that never answers (a peer gone without a
     * word) is closed in the end; a Redis that is merely paused answers
     * long before. */
    for (conn = LIST_FIRST(&p->retired); conn != NULL; conn = next) {
        next = LIST_NEXT(conn, link);
        if (conn->ac != NULL && now > conn->retired_ms &&
            now - conn->retired_ms > PUB_RETIRED_MAX_MS) {
            hz_log_warnx("pub_tick: thread %d: closing a connection silent for %d s", p->thread,
                         PUB_RETIRED_MAX_MS / 1000);
            redisAsyncFree(conn->ac); /* pub_on_disconnect frees conn */
        }
    }
    if (p->connected)
        pub_replay_pump(p);
    if (now - p->last_drop_flush >= PUB_DROP_FLUSH_MS) {
        pub_drop_flush(p);
        p->last_drop_flush = now;
    }
    if (now - p->last_sync >= 1000) {
        (void)hz_spool_sync_async(p->spool);
        p->last_sync = now;
    }
    pub_salt_tick(p, now);
}

/* ------------------------------------------------------------ open/close */

int
hz_pub_open(hz_pub **out, struct event_base *base, const struct hz_config *cfg, int thread,
            long retry_ms, struct hz_err *err)
{
    struct timeval tv = {0, PUB_TICK_MS * 1000};
    char name[32];
    hz_pub *p;
    int rc;

    p = hz_xcalloc(1, sizeof(*p));
    p->base = base;
    p->cfg = cfg;
    p->thread = thread;
    p->backoff_ms = 100;
    TAILQ_INIT(&p->inflight);
    TAILQ_INIT(&p->pendq);
    LIST_INIT(&p->retired);
    {
        /* XADD stream MAXLEN ~ N * r <record> */
        char maxlen[24];
        size_t sl = strlen(cfg->redis_stream);
        int ml = snprintf(maxlen, sizeof(maxlen), "%ld", cfg->redis_maxlen);
        static const char fmt[] = "*8\r\n$4\r\nXADD\r\n$%zu\r\n%s\r\n$6\r\nMAXLEN\r\n$1\r\n~"
                                  "\r\n$%d\r\n%s\r\n$1\r\n*\r\n$%zu\r\n%s\r\n";
        int need = snprintf(NULL, 0, fmt, sl, cfg->redis_stream, ml, maxlen, strlen(HZ_RECORD_KEY),
                            HZ_RECORD_KEY);
        static const char lean[] = "*5\r\n$4\r\nXADD\r\n$%zu\r\n%s\r\n$1\r\n*\r\n$%zu\r\n%s\r\n";
        p->xprefix = hz_xmalloc((size_t)need + 1);
        p->xprefix_len = (size_t)snprintf(p->xprefix, (size_t)need + 1, fmt, sl, cfg->redis_stream,
                                          ml, maxlen, strlen(HZ_RECORD_KEY), HZ_RECORD_KEY);
        /* XADD stream * r <record>: shorter by the MAXLEN clause */
        p->xlean = hz_xmalloc((size_t)need + 1);
        p->xlean_len = (size_t)snprintf(p->xlean, (size_t)need + 1, lean, sl, cfg->redis_stream,
                                        strlen(HZ_RECORD_KEY), HZ_RECORD_KEY);
        p->xbuf = hz_xmalloc(p->xprefix_len + PUB_XBUF_EXTRA);
    }
    (void)snprintf(name, sizeof(name), "spool-%d", thread);
    rc = hz_spool_open(&p->spool, cfg->spool_dir, name, (uint64_t)cfg->spool_max_mb * 1024 * 1024,
                       err);
    if (rc != 0) {
        free(p->xbuf);
        free(p->xprefix);
        free(p->xlean);
        free(p);
        return rc;
    }
    /* Redis may start after us (any start order): wait up to retry_ms,
     * then start with a provisional salt and spool; the tick connects,
     * fetches the shared salt and replays when Redis appears (the same
     * path as an outage). */
    if (pub_salt_open(p, retry_ms, err) != 0) {
        hz_log_warnx("hz_pub_open: thread %d: redis not reachable (%s); spooling until it is up",
                     thread, err->msg);
        memset(err, 0, sizeof(*err));
        p->salts.day = (int32_t)(pub_now_ms() / 86400000ULL);
        arc4random_buf(p->salts.today, sizeof(p->salts.today));
        p->salt_provisional = 1;
        p->next_connect_ms = pub_now_ms() + (uint64_t)p->backoff_ms;
    }
    p->last_sync = p->last_drop_flush = pub_now_ms();
    if (hz_spool_entries(p->spool) > 0) {
        /* Left by an earlier run: ambiguous, with no floor known. */
        p->floor = PUB_FLOOR_UNKNOWN;
        p->amb_end = hz_spool_head(p->spool) + hz_spool_bytes(p->spool);
    }
    pub_spool_gauge(p);
    if (!p->salt_provisional)
        pub_connect(p);
    p->tick = event_new(base, -1, EV_PERSIST, pub_tick, p);
    if (p->tick == NULL || event_add(p->tick, &tv) != 0)
        hz_fatalx("hz_pub_open: cannot add the tick timer");
    p->flush_ev = event_new(base, -1, 0, pub_flush_cb, p);
    if (p->flush_ev == NULL)
        hz_fatalx("hz_pub_open: cannot make the flush event");
    *out = p;
    return 0;
}

int
hz_pub_inflight(const hz_pub *p)
{
    return p->ninflight;
}

/* Runs the loop until nothing of ours is in flight or ms have passed. */
static void
pub_drain(hz_pub *p, long ms)
{
    uint64_t deadline = pub_now_ms() + (uint64_t)ms;
    struct timeval tv = {0, 10000};

    while ((p->ninflight > 0 || p->nretired > 0 || (p->cur && p->cur->pending > 0)) &&
           pub_now_ms() < deadline) {
        (void)event_base_loopexit(p->base, &tv);
        (void)event_base_dispatch(p->base);
    }
}

void
hz_pub_close(hz_pub *p)
{
    struct pub_conn *conn;

    if (p == NULL)
        return;
    p->closing = 1; /* no more replay */
    if (p->tick != NULL)
        event_free(p->tick);
    if (p->flush_ev != NULL)
        event_free(p->flush_ev); /* the drain below writes through hiredis's own event */
    p->flush_ev = NULL;
    pub_batch_flush(p); /* hits queued in this turn */
    if (p->connected)
        pub_drop_flush(p);
    /* Wait (bounded) for the answers to what was sent, so that as little
     * as possible is left ambiguous for the next start. */
    pub_drain(p, 2 * p->cfg->xadd_timeout_ms + 1000);
    pub_retire(p, "closing"); /* anything still in flight goes to the spool */
    if (p->cur != NULL) {     /* still connecting */
        conn = p->cur;
        p->cur = NULL;
        if (conn->ac != NULL)
            redisAsyncFree(conn->ac);
        free(conn);
    }
    while ((conn = LIST_FIRST(&p->retired)) != NULL) {
        if (conn->ac != NULL && !(conn->ac->c.flags & REDIS_FREEING))
            redisAsyncFree(conn->ac); /* callbacks run, pub_on_disconnect frees conn */
        if (LIST_FIRST(&p->retired) == conn) {
            LIST_REMOVE(conn, link);
            p->nretired--;
            free(conn);
        }
    }
    if (p->replay_ev != NULL)
        event_free(p->replay_ev);
    hz_spool_close(p->spool);
    pub_idset_free(&p->dups);
    explicit_bzero(&p->salts, sizeof(p->salts));
    explicit_bzero(p->next_salt, sizeof(p->next_salt));
    if (p->xbuf != NULL)
        explicit_bzero(p->xbuf, p->xprefix_len + PUB_XBUF_EXTRA);
    free(p->xbuf);
    free(p->xprefix);
    free(p->xlean);
    free(p);
}
