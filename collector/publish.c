/* SPDX-License-Identifier: MIT */
/*
 * publish.c - XADD over hiredis async on libevent, with spool and replay.
 *
 * State per thread: an async context for the hot path (pipelined XADDs),
 * a blocking context for the rare slow work (salt, replay, the duplicate
 * search), the spool, and a 100 ms tick that reconnects, enforces the
 * reply timeout, replays a bounded slice of the spool, flushes the drop
 * summaries and refreshes the salt at the UTC day change.
 */
#include "collector/publish.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "collector/metrics.h"
#include "collector/spool.h"
#include "common/log.h"
#include "common/rstream.h"
#include "common/mem.h"
#include "common/str.h"
#include "common/tz.h"

#define PUB_INFLIGHT_MAX 8192   /* beyond this, spool rather than queue */
#define PUB_TICK_MS 100
#define PUB_REPLAY_BUDGET 2000  /* entries per tick */
#define PUB_DROP_FLUSH_MS 5000
#define PUB_SALT_TTL 172800     /* 48 hours */
#define PUB_DUP_WINDOW_MS 120000

struct pub_cmd {
    TAILQ_ENTRY(pub_cmd) link;
    hz_pub *p;
    hz_pub_done cb;
    void *arg;
    uint64_t sent_ms;
    struct hz_record rec;
};
TAILQ_HEAD(pub_cmdq, pub_cmd);

/* A small open-addressing set of 64-bit hit ids (the duplicate search). */
struct pub_idset {
    uint64_t *slot;
    size_t cap, n;
};

struct hz_pub {
    struct event_base *base;
    const struct hz_config *cfg;
    int thread;
    int auth_warned; /* a refused AUTH was logged */
    redisAsyncContext *ac;
    int connected, connecting;
    uint64_t next_connect_ms;
    long backoff_ms;
    redisContext *sc; /* blocking: salt, replay, duplicate search */
    struct pub_cmdq inflight;
    int ninflight;
    hz_spool *spool;
    int64_t spool_bytes_seen, spool_entries_seen;
    int dup_ready;    /* the duplicate set covers the spool's ambiguous entries */
    struct pub_idset dups;
    struct event *tick;
    uint64_t last_drop_flush, last_sync;
    struct hz_salts salts;
    int salt_provisional; /* made locally while Redis was down */
    int closing;
    /* drop summaries: [site index or nsites for "*"][reason] */
    uint64_t drops[HZ_SITES_MAX + 1][HZ_DROP_COUNT];
    char maxlen[24];
};


static uint64_t
pub_now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ id set */

static uint64_t
pub_id_parse(const char *hex)
{
    uint64_t v = 0;
    for (int i = 0; i < HZ_VHASH_LEN && hex[i]; i++) {
        char c = hex[i];
        v = (v << 4) | (uint64_t)((c >= '0' && c <= '9') ? c - '0' : (c | 32) - 'a' + 10);
    }
    return v | 1; /* never 0: 0 marks an empty slot */
}

static void
pub_idset_add(struct pub_idset *s, uint64_t id)
{
    if (s->n * 2 >= s->cap) {
        struct pub_idset bigger = {hz_xcalloc(s->cap ? s->cap * 2 : 1024, sizeof(uint64_t)),
                                   s->cap ? s->cap * 2 : 1024, 0};
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i])
                pub_idset_add(&bigger, s->slot[i]);
        free(s->slot);
        *s = bigger;
    }
    size_t i = (size_t)(id * 0x9E3779B97F4A7C15ULL) & (s->cap - 1);
    while (s->slot[i] && s->slot[i] != id)
        i = (i + 1) & (s->cap - 1);
    if (!s->slot[i]) {
        s->slot[i] = id;
        s->n++;
    }
}

static int
pub_idset_has(const struct pub_idset *s, uint64_t id)
{
    if (s->cap == 0)
        return 0;
    size_t i = (size_t)(id * 0x9E3779B97F4A7C15ULL) & (s->cap - 1);
    while (s->slot[i]) {
        if (s->slot[i] == id)
            return 1;
        i = (i + 1) & (s->cap - 1);
    }
    return 0;
}

static void
pub_idset_free(struct pub_idset *s)
{
    free(s->slot);
    memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------ blocking side */

static void
pub_sync_drop(hz_pub *p)
{
    if (p->sc != NULL) {
        redisFree(p->sc);
        p->sc = NULL;
    }
}

/* Connects the blocking context if needed. 0 or HZ_EUNAVAIL. */
static int
pub_sync_connect(hz_pub *p)
{
    const struct hz_addr *a = &p->cfg->redis_address;
    struct timeval tv = {p->cfg->xadd_timeout_ms / 1000, (p->cfg->xadd_timeout_ms % 1000) * 1000};
    struct timeval ctv = {1, 0};

    if (p->sc != NULL && p->sc->err == 0)
        return 0;
    pub_sync_drop(p);
    p->sc = a->is_unix ? redisConnectUnixWithTimeout(a->path, ctv)
                       : redisConnectWithTimeout(a->host, a->port, ctv);
    if (p->sc == NULL || p->sc->err) {
        pub_sync_drop(p);
        return HZ_EUNAVAIL;
    }
    (void)redisSetTimeout(p->sc, tv);
    {
        const char *argv[3];
        size_t lens[3];
        int argc = hz_rs_auth_argv(p->cfg->redis_user, p->cfg->redis_password, argv, lens);
        redisReply *r = argc ? redisCommandArgv(p->sc, argc, argv, lens) : NULL;
        int bad = argc && (r == NULL || r->type == REDIS_REPLY_ERROR);
        if (bad && r != NULL && !p->auth_warned) {
            /* Redis's answer names the problem and never the password. */
            hz_log_warnx("pub_sync_connect: thread %d: redis AUTH: %.*s", p->thread,
                         (int)(r->len < 100 ? r->len : 100), r->str);
            p->auth_warned = 1;
        }
        if (r != NULL)
            freeReplyObject(r);
        if (bad) {
            pub_sync_drop(p);
            return HZ_EUNAVAIL;
        }
    }
    return 0;
}

/* Runs one blocking command; NULL (and the context dropped) on failure. */
static redisReply *
pub_sync_cmd(hz_pub *p, int argc, const char **argv, const size_t *lens)
{
    redisReply *r;

    if (pub_sync_connect(p) != 0)
        return NULL;
    r = redisCommandArgv(p->sc, argc, argv, lens);
    if (r == NULL)
        pub_sync_drop(p);
    return r;
}

static void
pub_salt_key(int32_t day, char out[32])
{
    char date[11];
    hz_date_format(day, date);
    (void)snprintf(out, 32, "haze:salt:%s", date);
}

/* Gets (creating if absent) the salt of UTC day. 0 or HZ_EUNAVAIL. */
static int
pub_salt_fetch(hz_pub *p, int32_t day, int create, unsigned char out[HZ_SIPHASH_KEY])
{
    char key[32], hex[HZ_SALT_HEX + 1], ttl[16];
    unsigned char fresh[HZ_SIPHASH_KEY];
    redisReply *r;
    int rc = HZ_EUNAVAIL;

    pub_salt_key(day, key);
    if (create) {
        const char *argv[] = {"SET", key, hex, "NX", "EX", ttl};
        size_t lens[6];
        arc4random_buf(fresh, sizeof(fresh));
        hz_hex(hex, fresh, sizeof(fresh));
        (void)snprintf(ttl, sizeof(ttl), "%d", PUB_SALT_TTL);
        for (int i = 0; i < 6; i++)
            lens[i] = strlen(argv[i]);
        r = pub_sync_cmd(p, 6, argv, lens);
        explicit_bzero(fresh, sizeof(fresh));
        explicit_bzero(hex, sizeof(hex));
        if (r == NULL)
            return HZ_EUNAVAIL;
        freeReplyObject(r);
    }
    {
        const char *argv[] = {"GET", key};
        size_t lens[] = {3, strlen(key)};
        r = pub_sync_cmd(p, 2, argv, lens);
    }
    if (r == NULL)
        return HZ_EUNAVAIL;
    if (r->type == REDIS_REPLY_STRING && hz_salt_parse(r->str, r->len, out) == 0)
        rc = 0;
    else
        rc = create ? HZ_EINVAL : HZ_ENOTFOUND;
    if (r->type == REDIS_REPLY_STRING)
        explicit_bzero(r->str, r->len);
    freeReplyObject(r);
    return rc;
}

/* Brings the salts up to the current UTC day. */
static void
pub_salt_refresh(hz_pub *p)
{
    int32_t today = (int32_t)(pub_now_ms() / 86400000ULL);
    unsigned char s[HZ_SIPHASH_KEY];

    if (p->salts.day == today && !p->salt_provisional)
        return;
    if (pub_salt_fetch(p, today, 1, s) == 0) {
        if (p->salts.day != today && p->salts.day != 0) {
            p->salts.prev_day = p->salts.day;
            memcpy(p->salts.prev, p->salts.today, sizeof(s));
        }
        memcpy(p->salts.today, s, sizeof(s));
        p->salts.day = today;
        p->salt_provisional = 0;
        if (p->salts.prev_day != today - 1 &&
            pub_salt_fetch(p, today - 1, 0, p->salts.prev) == 0)
            p->salts.prev_day = today - 1;
    } else if (p->salts.day != today) {
        /* Redis is down at the day change: a local salt keeps counting
         * (visitors of this thread may split from other collectors' until
         * Redis is back), never yesterday's salt past its day. */
        p->salts.prev_day = p->salts.day;
        memcpy(p->salts.prev, p->salts.today, sizeof(s));
        arc4random_buf(p->salts.today, sizeof(p->salts.today));
        p->salts.day = today;
        p->salt_provisional = 1;
    }
    explicit_bzero(s, sizeof(s));
}

/* ------------------------------------------------------------ XADD */

static int
pub_xadd_argv(hz_pub *p, const struct hz_record *r, const char **argv, size_t *lens,
              char num[64])
{
    struct hz_field f[HZ_RECORD_FIELDS];
    int n = hz_record_fields(r, f, num), argc = 0;

#define ARG(s, l) (argv[argc] = (s), lens[argc++] = (l))
    ARG("XADD", 4);
    ARG(p->cfg->redis_stream, strlen(p->cfg->redis_stream));
    ARG("MAXLEN", 6);
    ARG("~", 1);
    ARG(p->maxlen, strlen(p->maxlen));
    ARG("*", 1);
    for (int i = 0; i < n; i++) {
        ARG(f[i].name, strlen(f[i].name));
        ARG(f[i].val, f[i].vlen);
    }
#undef ARG
    return argc;
}

static void
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

/* Puts r in the spool. 0 or HZ_EFULL. */
static int
pub_spool(hz_pub *p, const struct hz_record *r, int ambiguous)
{
    int rc = hz_spool_push(p->spool, r, ambiguous);

    if (rc == 0) {
        HZ_METRIC_ADD(spooled, 1);
        if (ambiguous)
            p->dup_ready = 0;
    } else {
        hz_log_warnx("pub_spool: thread %d: spool full or failing (%s)", p->thread,
                     hz_strerror(rc));
        rc = HZ_EFULL;
    }
    pub_spool_gauge(p);
    return rc;
}

static void
pub_on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct pub_cmd *c = privdata;
    hz_pub *p = c->p;
    redisReply *r = reply;
    int rc = 0;

    (void)ac;
    TAILQ_REMOVE(&p->inflight, c, link);
    p->ninflight--;
    if (r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)) {
        rc = 0;
    } else {
        /* An error reply was not applied; no reply at all may have been. */
        HZ_METRIC_ADD(stream_errors, 1);
        rc = pub_spool(p, &c->rec, r == NULL);
    }
    c->cb(c->arg, rc);
    explicit_bzero(&c->rec, sizeof(c->rec));
    free(c);
}

void
hz_pub_send(hz_pub *p, const struct hz_record *r, hz_pub_done cb, void *arg)
{
    const char *argv[6 + 2 * HZ_RECORD_FIELDS];
    size_t lens[6 + 2 * HZ_RECORD_FIELDS];
    char num[64];
    struct pub_cmd *c;
    int argc;

    if (!p->connected || hz_spool_entries(p->spool) > 0 || p->ninflight >= PUB_INFLIGHT_MAX) {
        cb(arg, pub_spool(p, r, 0));
        return;
    }
    c = malloc(sizeof(*c));
    if (c == NULL) {
        cb(arg, pub_spool(p, r, 0));
        return;
    }
    c->p = p;
    c->cb = cb;
    c->arg = arg;
    c->sent_ms = pub_now_ms();
    c->rec = *r;
    argc = pub_xadd_argv(p, &c->rec, argv, lens, num);
    if (redisAsyncCommandArgv(p->ac, pub_on_reply, c, argc, argv, lens) != REDIS_OK) {
        free(c);
        cb(arg, pub_spool(p, r, 0));
        return;
    }
    TAILQ_INSERT_TAIL(&p->inflight, c, link);
    p->ninflight++;
}

/* ------------------------------------------------------------ connection */

static void
pub_on_connect(const redisAsyncContext *ac, int status)
{
    hz_pub *p = ac->data;

    p->connecting = 0;
    if (status != REDIS_OK) {
        p->ac = NULL; /* hiredis frees a context whose connect failed */
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
    hz_pub *p = ac->data;

    (void)status;
    if (p->connected) {
        atomic_fetch_sub_explicit(&hz_metrics.redis_up, 1, memory_order_relaxed);
        if (!p->closing)
            hz_log_warnx("pub_on_disconnect: thread %d: redis connection lost, spooling",
                         p->thread);
    }
    p->connected = 0;
    p->connecting = 0;
    p->ac = NULL;
    p->next_connect_ms = pub_now_ms() + (uint64_t)p->backoff_ms;
    pub_sync_drop(p);
}

/* The answer to AUTH, the first command on every connection. */
static void
pub_on_auth(redisAsyncContext *ac, void *reply, void *privdata)
{
    redisReply *r = reply;
    hz_pub *p = ac->data;

    (void)privdata;
    if (r != NULL && r->type == REDIS_REPLY_ERROR)
        hz_log_warnx("pub_on_auth: thread %d: redis AUTH: %.*s", p->thread,
                     (int)(r->len < 100 ? r->len : 100), r->str);
}

static void
pub_connect(hz_pub *p)
{
    const struct hz_addr *a = &p->cfg->redis_address;
    redisAsyncContext *ac;

    ac = a->is_unix ? redisAsyncConnectUnix(a->path) : redisAsyncConnect(a->host, a->port);
    if (ac == NULL || ac->err) {
        if (ac != NULL)
            redisAsyncFree(ac);
        p->next_connect_ms = pub_now_ms() + (uint64_t)p->backoff_ms;
        return;
    }
    ac->data = p;
    if (redisLibeventAttach(ac, p->base) != REDIS_OK) {
        redisAsyncFree(ac);
        return;
    }
    (void)redisAsyncSetConnectCallback(ac, pub_on_connect);
    (void)redisAsyncSetDisconnectCallback(ac, pub_on_disconnect);
    {
        /* AUTH goes first; hiredis sends queued commands in order once
         * the connection is up, so every XADD follows it. */
        const char *argv[3];
        size_t lens[3];
        int argc = hz_rs_auth_argv(p->cfg->redis_user, p->cfg->redis_password, argv, lens);
        if (argc > 0 && redisAsyncCommandArgv(ac, pub_on_auth, NULL, argc, argv, lens) != REDIS_OK) {
            redisAsyncFree(ac);
            return;
        }
    }
    p->ac = ac;
    p->connecting = 1;
}

/* Drops the async connection now: pending callbacks run with no reply
 * (and spool their records as ambiguous). */
static void
pub_force_disconnect(hz_pub *p)
{
    if (p->ac != NULL)
        redisAsyncFree(p->ac); /* runs pub_on_disconnect, which clears p->ac */
    p->ac = NULL;
    if (p->connected) {
        atomic_fetch_sub_explicit(&hz_metrics.redis_up, 1, memory_order_relaxed);
        p->connected = 0;
    }
    p->connecting = 0;
}

/* ------------------------------------------------------------ replay */

/* Collects the hit ids in the stream from (t_ms - window) on, so that
 * ambiguous spooled records already there are not added twice. */
static int
pub_dup_scan(hz_pub *p, uint64_t t_ms)
{
    char start[48];
    uint64_t from = t_ms > PUB_DUP_WINDOW_MS ? t_ms - PUB_DUP_WINDOW_MS : 0;

    pub_idset_free(&p->dups);
    (void)snprintf(start, sizeof(start), "%llu-0", (unsigned long long)from);
    for (;;) {
        const char *argv[] = {"XRANGE", p->cfg->redis_stream, start, "+", "COUNT", "1000"};
        size_t lens[6];
        redisReply *r;
        size_t n;

        for (int i = 0; i < 6; i++)
            lens[i] = strlen(argv[i]);
        r = pub_sync_cmd(p, 6, argv, lens);
        if (r == NULL)
            return HZ_EUNAVAIL;
        if (r->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(r);
            return HZ_EUNAVAIL;
        }
        n = r->elements;
        for (size_t i = 0; i < n; i++) {
            redisReply *e = r->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
                continue;
            redisReply *kv = e->element[1];
            for (size_t j = 0; kv->type == REDIS_REPLY_ARRAY && j + 1 < kv->elements; j += 2)
                if (kv->element[j]->len == 1 && kv->element[j]->str[0] == 'u' &&
                    kv->element[j + 1]->len == HZ_VHASH_LEN)
                    pub_idset_add(&p->dups, pub_id_parse(kv->element[j + 1]->str));
            if (i + 1 == n && e->element[0]->type == REDIS_REPLY_STRING) {
                /* Next page starts just after the last ID: "(ID" is exclusive. */
                (void)snprintf(start, sizeof(start), "(%.*s", (int)e->element[0]->len,
                               e->element[0]->str);
            }
        }
        freeReplyObject(r);
        if (n < 1000)
            break;
    }
    p->dup_ready = 1;
    return 0;
}

/* Replays up to a budget of spooled records over the blocking context. */
static void
pub_replay(hz_pub *p)
{
    const char *argv[6 + 2 * HZ_RECORD_FIELDS];
    size_t lens[6 + 2 * HZ_RECORD_FIELDS];
    struct hz_record rec;
    char num[64];
    int amb, rc;

    for (int i = 0; i < PUB_REPLAY_BUDGET; i++) {
        rc = hz_spool_peek(p->spool, &rec, &amb);
        if (rc == HZ_ENOTFOUND)
            break;
        if (rc != 0) {
            HZ_METRIC_ADD(spool_corrupt, 1);
            (void)hz_spool_pop(p->spool);
            continue;
        }
        if (amb && !p->dup_ready && pub_dup_scan(p, rec.t_ms) != 0)
            break;
        if (amb && rec.id[0] != '\0' && pub_idset_has(&p->dups, pub_id_parse(rec.id))) {
            HZ_METRIC_ADD(replay_dupes, 1);
            (void)hz_spool_pop(p->spool);
            continue;
        }
        int argc = pub_xadd_argv(p, &rec, argv, lens, num);
        redisReply *r = pub_sync_cmd(p, argc, argv, lens);
        if (r == NULL)
            break; /* down again: keep the entry */
        int ok = r->type == REDIS_REPLY_STRING;
        freeReplyObject(r);
        if (!ok) {
            HZ_METRIC_ADD(stream_errors, 1);
            break;
        }
        HZ_METRIC_ADD(replayed, 1);
        (void)hz_spool_pop(p->spool);
    }
    explicit_bzero(&rec, sizeof(rec));
    if (hz_spool_entries(p->spool) == 0) {
        pub_idset_free(&p->dups);
        p->dup_ready = 0;
    }
    pub_spool_gauge(p);
}

/* ------------------------------------------------------------ drops */

void
hz_pub_count_drop(hz_pub *p, const struct hz_site *site, const struct hz_config *cfg,
                  enum hz_drop reason)
{
    size_t i = site != NULL ? (size_t)(site - cfg->sites) : (size_t)cfg->nsites;

    HZ_METRIC_ADD(dropped[reason], 1);
    if (i <= (size_t)cfg->nsites && reason > 0 && reason < HZ_DROP_COUNT)
        p->drops[i][reason]++;
}

static void
pub_drop_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    (void)reply;
    (void)privdata;
}

/* Sends each non-zero (site, reason) count as one "dr" record. Counts are
 * statistics: when Redis is down they wait for the next flush. */
static void
pub_drop_flush(hz_pub *p)
{
    uint64_t now = pub_now_ms();

    if (!p->connected)
        return;
    for (int s = 0; s <= p->cfg->nsites; s++) {
        for (int d = 1; d < HZ_DROP_COUNT; d++) {
            const char *argv[6 + 2 * HZ_RECORD_FIELDS];
            size_t lens[6 + 2 * HZ_RECORD_FIELDS];
            struct hz_record r;
            char num[64];
            int argc;

            if (p->drops[s][d] == 0)
                continue;
            memset(&r, 0, sizeof(r));
            r.t_ms = now;
            r.kind = HZ_KIND_DROPS;
            (void)hz_strlcpy(r.site, s < p->cfg->nsites ? p->cfg->sites[s].name : "*",
                             sizeof(r.site));
            (void)hz_strlcpy(r.page, "/", sizeof(r.page));
            (void)hz_strlcpy(r.name, hz_drop_name((enum hz_drop)d), sizeof(r.name));
            r.ms = p->drops[s][d];
            argc = pub_xadd_argv(p, &r, argv, lens, num);
            if (redisAsyncCommandArgv(p->ac, pub_drop_reply, NULL, argc, argv, lens) == REDIS_OK)
                p->drops[s][d] = 0;
        }
    }
}

/* ------------------------------------------------------------ tick */

static void
pub_tick(evutil_socket_t fd, short what, void *arg)
{
    hz_pub *p = arg;
    uint64_t now = pub_now_ms();

    (void)fd;
    (void)what;
    if (!p->connected && !p->connecting && now >= p->next_connect_ms)
        pub_connect(p);
    if (p->connected && !TAILQ_EMPTY(&p->inflight) &&
        now - TAILQ_FIRST(&p->inflight)->sent_ms > (uint64_t)p->cfg->xadd_timeout_ms) {
        hz_log_warnx("pub_tick: thread %d: redis did not answer in %ld ms, spooling", p->thread,
                     p->cfg->xadd_timeout_ms);
        pub_force_disconnect(p);
    }
    if (p->connected && hz_spool_entries(p->spool) > 0)
        pub_replay(p);
    if (now - p->last_drop_flush >= PUB_DROP_FLUSH_MS) {
        pub_drop_flush(p);
        p->last_drop_flush = now;
    }
    if (now - p->last_sync >= 1000) {
        (void)hz_spool_sync(p->spool);
        p->last_sync = now;
        if (p->connected || p->salts.day != (int32_t)(now / 86400000ULL))
            pub_salt_refresh(p);
    }
}

/* ------------------------------------------------------------ open/close */

/* Fetches today's and yesterday's salts, retrying until deadline (ms).
 * 0, or HZ_EUNAVAIL when Redis did not answer in time. */
static int
pub_open_salt(hz_pub *p, uint64_t deadline)
{
    while (pub_salt_fetch(p, (int32_t)(pub_now_ms() / 86400000ULL), 1, p->salts.today) != 0) {
        if (pub_now_ms() >= deadline) {
            pub_sync_drop(p);
            return HZ_EUNAVAIL;
        }
        struct timespec ts = {0, 200 * 1000000L};
        (void)nanosleep(&ts, NULL);
    }
    p->salts.day = (int32_t)(pub_now_ms() / 86400000ULL);
    if (pub_salt_fetch(p, p->salts.day - 1, 0, p->salts.prev) == 0)
        p->salts.prev_day = p->salts.day - 1;
    return 0;
}

int
hz_pub_open(hz_pub **out, struct event_base *base, const struct hz_config *cfg, int thread,
            long retry_ms, struct hz_err *err)
{
    struct timeval tv = {0, PUB_TICK_MS * 1000};
    char name[32];
    hz_pub *p;
    int rc;
    uint64_t deadline = pub_now_ms() + (uint64_t)retry_ms;

    p = hz_xcalloc(1, sizeof(*p));
    p->base = base;
    p->cfg = cfg;
    p->thread = thread;
    p->backoff_ms = 100;
    TAILQ_INIT(&p->inflight);
    (void)snprintf(p->maxlen, sizeof(p->maxlen), "%ld", cfg->redis_maxlen);
    (void)snprintf(name, sizeof(name), "spool-%d", thread);
    rc = hz_spool_open(&p->spool, cfg->spool_dir, name,
                       (uint64_t)cfg->spool_max_mb * 1024 * 1024, err);
    if (rc != 0) {
        free(p);
        return rc;
    }
    /* Redis may start after us (any start order): wait up to retry_ms,
     * then start with a provisional salt and spool; the tick connects
     * and replays when Redis appears (the same path as an outage). */
    if (pub_open_salt(p, deadline) != 0) {
        hz_log_warnx("hz_pub_open: thread %d: redis unreachable at %s%s; spooling until it is up",
                     thread, cfg->redis_address.is_unix ? "unix:" : "",
                     cfg->redis_address.is_unix ? cfg->redis_address.path
                                                : cfg->redis_address.host);
        p->salts.day = (int32_t)(pub_now_ms() / 86400000ULL);
        arc4random_buf(p->salts.today, sizeof(p->salts.today));
        p->salt_provisional = 1;
        p->next_connect_ms = pub_now_ms() + (uint64_t)p->backoff_ms;
    }
    p->last_sync = p->last_drop_flush = pub_now_ms();
    pub_spool_gauge(p);
    if (!p->salt_provisional)
        pub_connect(p);
    p->tick = event_new(base, -1, EV_PERSIST, pub_tick, p);
    if (p->tick == NULL || event_add(p->tick, &tv) != 0)
        hz_fatalx("hz_pub_open: cannot add the tick timer");
    *out = p;
    return 0;
}

int
hz_pub_inflight(const hz_pub *p)
{
    return p->ninflight;
}

const struct hz_salts *
hz_pub_salts(hz_pub *p)
{
    return &p->salts;
}

void
hz_pub_close(hz_pub *p)
{
    if (p == NULL)
        return;
    p->closing = 1;
    if (p->tick != NULL)
        event_free(p->tick);
    if (p->connected)
        pub_drop_flush(p);
    pub_force_disconnect(p); /* anything still in flight goes to the spool */
    if (p->connected == 0 && hz_spool_entries(p->spool) > 0 && pub_sync_connect(p) == 0)
        pub_replay(p);
    pub_sync_drop(p);
    hz_spool_close(p->spool);
    pub_idset_free(&p->dups);
    explicit_bzero(&p->salts, sizeof(p->salts));
    free(p);
}
