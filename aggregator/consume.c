/* SPDX-License-Identifier: MIT */
/*
 * consume.c - batches from the stream into LMDB, exactly once (the protocol
 * is described in consume.h). Visitor states live in Redis; this process
 * keeps a cache of them for the run, which always equals what Redis holds
 * after the last committed batch: on any failure the cache is dropped and
 * recovery rebuilds the truth from Redis and the undo record.
 *
 * Privacy: visitor hashes appear only in Redis keys; they are never logged
 * and never passed to the store.
 */
#include "aggregator/consume.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aggregator/fold.h"
#include "aggregator/session.h"
#include "common/kmap.h"
#include "common/idlog.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/record.h"
#include "common/rstream.h"
#include "common/str.h"

#define AGG_KEY_MAX 256
/* States kept in process (~0.4 KB each with their key and encoding): past
 * it the cache restarts empty, keeping its memory for the next fill; a
 * visitor it forgot costs one more key in an MGET. */
#define AGG_CACHE_MAX      8192
#define AGG_RESTORE_TTL_MS (86400000ULL)
#define AGG_SITE_ANY       "*"

/* A cached visitor state, with its Redis key, and what it was before the
 * current batch changed it (gen == the batch's generation). Between
 * batches a state is kept encoded (hz_session_encode, a few hundred
 * bytes); the batches that use it decode it into st (2.2 KB, from
 * agg->pool), and give st back when they end. */
struct agg_cached {
    int present;
    int loaded; /* present is known (from Redis or from this run) */
    uint32_t gen;
    uint32_t sgen; /* the span that last touched it (== a->sgen: in the undo record) */
    int undo;      /* first touched in this span by this batch: prev_* go into the undo record */
    int site;
    int prev_present;
    size_t prev_off, prev_len; /* into agg->prevbuf */
    size_t new_off, new_len;   /* its encoding for this batch's write, into agg->serbuf */
    size_t klen;
    const char *key;    /* the cache's own copy */
    unsigned char *enc; /* present, st NULL: the state, encoded (malloc'd) */
    size_t enclen, enccap;
    struct hz_session *st; /* decoded: loaded or used by this batch; else NULL */
};

/* What to do with one record of a batch (an entry holds one, or several
 * in a batch of records: common/record.h). */
enum agg_what { AGG_SKIP, AGG_MALFORMED, AGG_UNKNOWN, AGG_DROP, AGG_FOLD };

/* One entry of a batch, decoded. Small (~120 bytes): the record
 * itself waits in its slot's arena in the compact form, a few hundred
 * bytes rather than a decoded struct hz_record's 3 KB, and is expanded
 * when it is folded. */
struct agg_item {
    enum agg_what what;
    int site;                 /* index into cfg->sites, or -1 for "*" */
    struct agg_cached *c, *p; /* AGG_FOLD: the states under vh and vp */
    uint64_t ch, ph;          /* AGG_FOLD: their keys' hashes in the cache (the reader's work) */
    /* AGG_FOLD, AGG_DROP: the record (hz_record_pack) in the slot's
     * arena; AGG_MALFORMED: the reason, NUL-terminated. */
    const unsigned char *rec;
    uint32_t rlen;
    int has_id;                        /* the record decoded with a hit id: */
    unsigned char id[HZ_IDLOG_ID_LEN]; /* it, for the id log */
    char vh[HZ_VHASH_LEN + 1];         /* AGG_FOLD */
    char vp[HZ_VHASH_LEN + 1];         /* AGG_FOLD: "" when absent */
};

/* Blocks of a slot's arena: records and reasons of one batch, back to
 * back; kept for the next batch (sized by what batches hold). */
#define AGG_ARENA_BLOCK (256 * 1024)

struct agg_arena {
    unsigned char **blk;
    size_t nblk, cur, used; /* blk[cur] is being filled, used bytes of it */
};

#define AGG_CHUNK 1000 /* entries per XREAD: keeps Redis's busy spells short */
#define AGG_SUBS  128

/* A batch read (in chunks) and decoded by the reader thread: its decoded
 * records (n, at most batch + HZ_RECORD_BATCH_MAX - 1, of ne entries) and
 * each one's entry ID (each chunk's reply is freed once decoded). */
struct agg_slot {
    struct hz_rs_id *ids;
    struct agg_item *items;
    struct agg_arena arena;
    int n, cap, ne;
};

#define AGG_QDEPTH 2

/* The reader thread's queue: it fills slot (head + count) % AGG_QDEPTH,
 * the main thread folds slot head. Everything under mu. */
struct agg_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv_data, cv_space;
    struct agg_slot slots[AGG_QDEPTH];
    int head, count;
    int stop, running;
    uint64_t empty_reads; /* reads that found nothing new */
    int err;              /* the reader failed: recover */
    struct hz_err errmsg;
    pthread_t thread;
};

/* Batches that share one LMDB transaction (a span), at most, while the
 * aggregator is behind: a transaction copies and writes every B-tree page
 * it touches, and consecutive batches touch mostly the same pages (the
 * day's rows), so a span writes about as much as one batch alone. */
#define AGG_SPAN_BATCHES 8

/* A batch's applied hit ids of one bucket of the id log (common/idlog.h):
 * bytes [off, off + len) of agg->idbuf. */
struct agg_idrun {
    char key[HZ_IDLOG_KEY_MAX];
    size_t klen, off, len;
    uint64_t bucket;
};

/* The batch whose LMDB transaction a thread of its own writes and syncs
 * (step 5) while the main thread folds the next one. */
struct agg_commit {
    hz_wtxn *w;           /* sealed; NULL when none is pending */
    struct hz_rs_id last; /* the position it commits */
    pthread_t thread;
    int threaded; /* the thread runs (else the write is done) */
    int rc;
    struct hz_err err;
};

struct hz_agg {
    const struct hz_config *cfg;
    int lock_fd; /* <lmdb>/aggregator.lock, flocked: one aggregator per store */
    hz_store *store;
    hz_rs *rs;
    char undo_key[AGG_KEY_MAX];
    uint64_t session_ms;
    struct hz_fold_site sites[HZ_SITES_MAX];
    struct hz_rs_id pos;
    int have_pos;
    hz_kmap *cache;              /* state key -> struct agg_cached */
    struct agg_cached **touched; /* states this batch changed, in order */
    size_t ntouched, touched_cap;
    uint32_t gen;              /* batch generation */
    uint32_t sgen;             /* span generation */
    hz_wtxn *span;             /* the open span: its batches are in Redis, not yet in LMDB */
    struct hz_rs_id span_last; /* its last entry */
    int span_batches;
    char prefix[HZ_SITES_MAX][AGG_KEY_MAX]; /* "<stream>:v:<site>:" per site */
    size_t prefix_len[HZ_SITES_MAX];
    hz_kmap *reasons; /* malformed reason -> u64 (this batch, for the log line) */
    unsigned char *prevbuf;
    size_t prevlen, prevcap;
    unsigned char *serbuf; /* this batch's new states, encoded back to back */
    size_t sercap;
    unsigned char *idbuf; /* this batch's hit ids, 8 bytes each, by bucket (agg_idlog_build) */
    size_t idcap;
    struct agg_idrun *idruns;
    size_t nidruns, idruncap;
    struct agg_idrun idopen; /* the last bucket appended to (klen 0: none yet) */
    const char **argv;       /* the big commands' arguments, kept between batches */
    size_t *lens;
    size_t argcap;
    struct hz_record rec;     /* the record being folded (expanded from its item) */
    struct hz_session pst;    /* a state carried over from yesterday's hash, decoded */
    struct hz_session **pool; /* decoded states: pool[i] is lent to lent[i] */
    struct agg_cached **lent;
    size_t pool_used, pool_n, pool_cap;
    struct agg_cached **want; /* states of the MGET in flight */
    size_t nwant, want_cap;
    int mget_pending;       /* an MGET was sent (for the next batch) and its reply not read */
    int step6_due;          /* a batch was committed since the last step 6 */
    hz_rs *rrs;             /* the reader thread's connection */
    struct hz_rs_id rpos;   /* the reader's position: the last entry it took */
    int rper;               /* records per entry in its last chunk (>= 1) */
    struct agg_queue q;     /* batches read and decoded ahead */
    struct agg_commit cm;   /* the batch being committed */
    int32_t retain_checked; /* UTC day of the last retention check */
    int need_recover;       /* a batch failed: reconnect and recover first */
    struct hz_agg_stats stats;
};

/* ------------------------------------------------------------ helpers */

static double
agg_mono(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int32_t
agg_utc_day(uint64_t ms)
{
    return (int32_t)(ms / 86400000ULL);
}

static uint64_t
agg_now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The Redis key of a visitor state (hz_session_key's layout, built from a
 * per-site prefix: this runs for every entry). 0 if it does not fit. */
static size_t
agg_state_key(const hz_agg *a, char *out, int site, const char *vh)
{
    size_t pl = a->prefix_len[site], vl = strlen(vh);

    if (pl == 0 || pl + vl >= AGG_KEY_MAX)
        return 0;
    memcpy(out, a->prefix[site], pl);
    memcpy(out + pl, vh, vl + 1);
    return pl + vl;
}

/* Reads the LMDB position into a->pos. */
static int
agg_load_pos(hz_agg *a, struct hz_err *err)
{
    hz_rtxn *t;
    char pos[64];
    int rc;

    if ((rc = hz_store_rbegin(a->store, &t, err)) != 0)
        return rc;
    rc = hz_store_position(t, pos);
    hz_store_rend(t);
    if (rc != 0)
        return hz_err_set(err, HZ_ESTORE, "%s: cannot read the stream position", a->cfg->lmdb);
    a->have_pos = pos[0] != '\0';
    a->pos.ms = a->pos.seq = 0;
    if (a->have_pos && hz_rs_id_parse(pos, strlen(pos), &a->pos) != 0)
        return hz_err_set(err, HZ_ESTORE, "%s: stored position is not a stream ID", a->cfg->lmdb);
    return 0;
}

/* A decoded state for c (lent until agg_pool_return). */
static struct hz_session *
agg_pool_lend(hz_agg *a, struct agg_cached *c)
{
    if (a->pool_used == a->pool_n) {
        if (a->pool_n == a->pool_cap) {
            a->pool_cap = a->pool_cap ? a->pool_cap * 2 : 256;
            a->pool = hz_xreallocarray(a->pool, a->pool_cap, sizeof(*a->pool));
            a->lent = hz_xreallocarray(a->lent, a->pool_cap, sizeof(*a->lent));
        }
        a->pool[a->pool_n++] = hz_xmalloc(sizeof(struct hz_session));
    }
    a->lent[a->pool_used] = c;
    c->st = a->pool[a->pool_used++];
    return c->st;
}

/* c's encoding becomes (buf, len). */
static void
agg_cache_keep(struct agg_cached *c, const unsigned char *buf, size_t len)
{
    if (len > c->enccap) {
        c->enccap = len + 64;
        c->enc = hz_xreallocarray(c->enc, c->enccap, 1);
    }
    memcpy(c->enc, buf, len);
    c->enclen = len;
}

/* The end of a batch: the states it changed keep their new encoding (its
 * SET, in a->serbuf); any other state decoded meanwhile (yesterday's,
 * loaded but not folded) is forgotten (loaded again when needed: Redis
 * holds it unchanged). Every decoded state goes back to the pool. */
static void
agg_pool_return(hz_agg *a)
{
    for (size_t i = 0; i < a->pool_used; i++) {
        struct agg_cached *c = a->lent[i];
        if (c->gen == a->gen && c->present) {
            agg_cache_keep(c, a->serbuf + c->new_off, c->new_len);
        } else {
            c->present = 0;
            c->loaded = 0;
        }
        c->st = NULL;
    }
    a->pool_used = 0;
}

/* Empties the cache (every decoded state goes back to the pool unread:
 * the entries go). */
static void
agg_cache_clear(hz_agg *a)
{
    for (size_t i = 0; i < hz_kmap_count(a->cache); i++) {
        const void *k;
        size_t kl;
        struct agg_cached *c = hz_kmap_at(a->cache, i, &k, &kl);
        free(c->enc);
    }
    a->pool_used = 0;
    hz_kmap_clear(a->cache);
}

/* c's state, decoded (c present). 0, or HZ_EINVAL when its own encoding
 * does not decode (never: it is hz_session_encode's). */
static int
agg_cache_decode(hz_agg *a, struct agg_cached *c)
{
    if (c->st != NULL)
        return 0;
    return hz_session_decode(c->enc, c->enclen, agg_pool_lend(a, c));
}

/* Forgets everything that is only valid while Redis and LMDB agree with
 * this process: the state cache and an unsent step 6 (recovery points the
 * group at the position and the next commit trims). */
static void
agg_reset_cache(hz_agg *a)
{
    agg_cache_clear(a);
    a->ntouched = 0;
    for (int i = 0; i < a->cfg->nsites; i++)
        hz_fold_site_reset(&a->sites[i]);
    a->step6_due = 0;
    a->mget_pending = 0; /* its connection is dropped with the cache */
}

/* ------------------------------------------------------------ decoding */

/* Room for up to max bytes in ar (max <= AGG_ARENA_BLOCK); agg_arena_used
 * then takes what was written. */
static unsigned char *
agg_arena_room(struct agg_arena *ar, size_t max)
{
    if (ar->cur < ar->nblk && AGG_ARENA_BLOCK - ar->used < max) {
        ar->cur++;
        ar->used = 0;
    }
    if (ar->cur == ar->nblk) {
        ar->blk = hz_xreallocarray(ar->blk, ar->nblk + 1, sizeof(*ar->blk));
        ar->blk[ar->nblk++] = hz_xmalloc(AGG_ARENA_BLOCK);
        ar->used = 0;
    }
    return ar->blk[ar->cur] + ar->used;
}

static void
agg_arena_used(struct agg_arena *ar, size_t n)
{
    ar->used += n;
}

static void
agg_arena_free(struct agg_arena *ar)
{
    for (size_t i = 0; i < ar->nblk; i++)
        free(ar->blk[i]);
    free(ar->blk);
    memset(ar, 0, sizeof(*ar));
}

static void
agg_malformed(struct agg_item *it, struct agg_arena *ar, const char *why)
{
    char *r = (char *)agg_arena_room(ar, HZ_ERR_MSG);
    int n = snprintf(r, HZ_ERR_MSG, "invalid: %.100s", why);

    it->what = AGG_MALFORMED;
    it->rec = (const unsigned char *)r;
    it->rlen = 0;
    agg_arena_used(ar, (size_t)n + 1);
}

/* Decodes one record (no I/O, no shared state: the reader thread runs it).
 * A record is counted only when its time is plausible: at most
 * clock_skew_seconds ahead of now (anything with access to Redis can XADD,
 * and a row dated in 2286 could never be shown nor expire) and not older
 * than retention_days (its day would be deleted anyway). Otherwise it is
 * counted as invalid, under its site when known, with the reason. */
static void
agg_decode(const struct hz_config *cfg, const struct hz_record_part *e, struct agg_item *it,
           struct hz_record *r, struct agg_arena *ar, uint64_t now_ms)
{
    struct hz_err de = {0};
    const struct hz_site *site;

    it->site = -1;
    it->has_id = 0; /* no hit id unless the record decodes */
    if (hz_record_decode(e->names, e->nlens, e->vals, e->vlens, e->nfields, r, &de) != 0) {
        agg_malformed(it, ar, de.msg);
        return;
    }
    it->has_id = r->id[0] != '\0' && hz_idlog_pack(r->id, strlen(r->id), it->id) == 0;
    if (r->kind == HZ_KIND_DROPS && strcmp(r->site, AGG_SITE_ANY) == 0) {
        it->what = AGG_DROP;
    } else if ((site = hz_cfg_site(cfg, r->site, strlen(r->site))) == NULL) {
        it->what = AGG_UNKNOWN;
        return;
    } else {
        it->site = (int)(site - cfg->sites);
        it->what = r->kind == HZ_KIND_DROPS ? AGG_DROP : AGG_FOLD;
        if (r->t_ms > now_ms + (uint64_t)cfg->clock_skew_seconds * 1000) {
            agg_malformed(it, ar, "time ahead of now");
            return;
        }
        if (r->t_ms + (uint64_t)cfg->retention_days * 86400000ULL < now_ms) {
            agg_malformed(it, ar, "time older than retention");
            return;
        }
    }
    memcpy(it->vh, r->vh, sizeof(it->vh));
    memcpy(it->vp, r->vp, sizeof(it->vp));
    unsigned char *p = agg_arena_room(ar, HZ_RECORD_PACK_MAX);
    size_t n;
    if (e->nfields == 1 && e->vlens[0] <= HZ_RECORD_PACK_MAX &&
        e->nlens[0] == sizeof(HZ_RECORD_KEY) - 1 &&
        memcmp(e->names[0], HZ_RECORD_KEY, e->nlens[0]) == 0 &&
        (unsigned char)e->vals[0][0] == HZ_RECORD_PACKED) {
        /* A compact record (an entry of its own or one of a batch's)
         * that decoded is canonical: it is the record's pack. */
        n = e->vlens[0];
        memcpy(p, e->vals[0], n);
    } else {
        n = hz_record_pack(r, p);
    }
    it->rec = p;
    it->rlen = (uint32_t)n;
    agg_arena_used(ar, n);
}

/* Decodes one entry into items and ids (room for HZ_RECORD_BATCH_MAX):
 * its records, each counted (or refused) on its own, or one invalid item
 * when the entry itself is damaged (a batch whose framing is, too).
 * Returns the number. */
static int
agg_decode_entry(const struct hz_config *cfg, const struct hz_rs_entry *e, struct agg_item *items,
                 struct hz_rs_id *ids, struct hz_record *r, struct agg_arena *ar, uint64_t now_ms)
{
    struct hz_record_part part;
    struct hz_err de = {0};
    size_t pos = 0;
    int n = 0, rc;

    items[0].site = -1;
    items[0].has_id = 0;
    ids[0] = e->id;
    if (e->malformed || e->nfields == 0) {
        agg_malformed(&items[0], ar, e->malformed ? "field list" : "empty entry");
        return 1;
    }
    while (n < HZ_RECORD_BATCH_MAX && (rc = hz_record_each(e->names, e->nlens, e->vals, e->vlens,
                                                           e->nfields, &pos, &part, &de)) == 1) {
        ids[n] = e->id;
        agg_decode(cfg, &part, &items[n++], r, ar, now_ms);
    }
    if (n == 0) { /* a damaged batch (hz_record_each checks it whole first) */
        agg_malformed(&items[0], ar, de.msg);
        n = 1;
    }
    return n;
}

/* ------------------------------------------------------------ states */

/* The hash of (site, vh)'s key in the cache (0 when the key does not fit;
 * any thread: the cache's hash key never changes). */
static uint64_t
agg_cache_hash(const hz_agg *a, int site, const char *vh)
{
    char key[AGG_KEY_MAX];
    size_t kl = agg_state_key(a, key, site, vh);

    return kl == 0 ? 0 : hz_kmap_hash(a->cache, key, kl);
}

/* The reader's share of resolving an item's states: their keys' hashes. */
static void
agg_item_hash(const hz_agg *a, struct agg_item *it)
{
    if (it->what != AGG_FOLD)
        return;
    it->ch = agg_cache_hash(a, it->site, it->vh);
    it->ph = it->vp[0] != '\0' ? agg_cache_hash(a, it->site, it->vp) : 0;
}

/* The cache entry of (site, vh), created (not yet loaded) when new; h is
 * its key's hash (agg_cache_hash). */
static struct agg_cached *
agg_cache_get(hz_agg *a, int site, const char *vh, uint64_t h)
{
    char key[AGG_KEY_MAX];
    size_t kl = agg_state_key(a, key, site, vh);
    int created;
    const void *stored;
    struct agg_cached *c;

    if (kl == 0)
        return NULL;
    c = hz_kmap_put_raw(a->cache, h, key, kl, &created, &stored);
    if (created) {
        memset(c, 0, sizeof(*c));
        c->key = stored;
        c->klen = kl;
        c->site = site;
    }
    return c;
}

/* Resolves every record's states in the cache and queues one MGET for
 * those not loaded yet. Returns 1 if it queued one, 0 if none is needed,
 * or HZ_EUNAVAIL. */
static int
agg_load_send(hz_agg *a, struct agg_item *items, int n)
{
    const char **argv;
    size_t *lens;
    int rc;

    a->nwant = 0;
    for (int i = 0; i < n; i++) {
        struct agg_item *it = &items[i];
        if (it->what != AGG_FOLD)
            continue;
        it->c = agg_cache_get(a, it->site, it->vh, it->ch);
        it->p = it->vp[0] != '\0' ? agg_cache_get(a, it->site, it->vp, it->ph) : NULL;
        for (int k = 0; k < 2; k++) {
            struct agg_cached *c = k == 0 ? it->c : it->p;
            if (c == NULL || c->loaded)
                continue;
            c->loaded = 1; /* once per batch, even if asked for twice */
            if (a->nwant == a->want_cap) {
                a->want_cap = a->want_cap ? a->want_cap * 2 : 1024;
                a->want = hz_xreallocarray(a->want, a->want_cap, sizeof(*a->want));
            }
            a->want[a->nwant++] = c;
        }
    }
    if (a->nwant == 0)
        return 0;
    argv = hz_xreallocarray(NULL, a->nwant + 1, sizeof(*argv));
    lens = hz_xreallocarray(NULL, a->nwant + 1, sizeof(*lens));
    argv[0] = "MGET";
    lens[0] = 4;
    for (size_t i = 0; i < a->nwant; i++) {
        argv[i + 1] = a->want[i]->key;
        lens[i + 1] = a->want[i]->klen;
    }
    rc = hz_rs_append(a->rs, (int)a->nwant + 1, argv, lens);
    free(argv);
    free(lens);
    if (rc != 0)
        return HZ_EUNAVAIL;
    a->mget_pending = 1;
    return 1;
}

/* Reads the MGET reply into the cache (absent states are cached as such). */
static int
agg_load_recv(hz_agg *a, struct hz_err *err)
{
    size_t nk = a->nwant;
    hz_rs_reply *rep = NULL;
    int rc;

    if (!a->mget_pending)
        return 0;
    a->mget_pending = 0;
    if ((rc = hz_rs_get(a->rs, &rep, err)) != 0)
        return rc;
    if (hz_rs_reply_type(rep) != HZ_RS_ARRAY || hz_rs_reply_count(rep) != nk) {
        hz_rs_reply_free(rep);
        return hz_err_set(err, HZ_EUNAVAIL, "redis MGET: unexpected reply");
    }
    for (size_t i = 0; i < nk; i++) {
        const hz_rs_reply *el = hz_rs_reply_elem(rep, i);
        struct agg_cached *c = a->want[i];
        size_t vl;
        const char *v = hz_rs_reply_type(el) == HZ_RS_STRING ? hz_rs_reply_str(el, &vl) : NULL;
        c->present = 0;
        if (v == NULL)
            continue;
        /* Decoded now (it is checked: Redis is input), for the batch
         * that folds it. */
        if (hz_session_decode((const unsigned char *)v, vl, agg_pool_lend(a, c)) == 0) {
            c->present = 1;
        } else {
            /* Not ours or damaged: start afresh (and overwrite it). */
            memset(c->st, 0, sizeof(*c->st));
            a->stats.bad_state++;
        }
    }
    hz_rs_reply_free(rep);
    return 0;
}

/* Lists a state among those the batch changes, the first time the batch
 * touches it, and remembers its value from before the span when no earlier
 * batch of the span touched it. */
static void
agg_touch(hz_agg *a, struct agg_cached *c)
{
    if (c->gen == a->gen)
        return;
    c->gen = a->gen;
    /* Its value from before the span went into the undo record with the
     * span's batch that first touched it. */
    c->undo = c->sgen != a->sgen;
    c->sgen = a->sgen;
    c->prev_present = c->present;
    c->prev_off = a->prevlen;
    c->prev_len = 0;
    if (c->present && c->undo) {
        if (a->prevcap - a->prevlen < HZ_SESSION_SER_MAX) {
            a->prevcap = a->prevcap * 2 + HZ_SESSION_SER_MAX * 64;
            a->prevbuf = hz_xreallocarray(a->prevbuf, a->prevcap, 1);
        }
        if (c->st != NULL) {
            c->prev_len = hz_session_encode(c->st, a->prevbuf + a->prevlen);
        } else {
            memcpy(a->prevbuf + a->prevlen, c->enc, c->enclen);
            c->prev_len = c->enclen;
        }
        a->prevlen += c->prev_len;
    }
    if (a->ntouched == a->touched_cap) {
        a->touched_cap = a->touched_cap ? a->touched_cap * 2 : 1024;
        a->touched = hz_xreallocarray(a->touched, a->touched_cap, sizeof(*a->touched));
    }
    a->touched[a->ntouched++] = c;
}

/* Folds one record: its state (continuing yesterday's hash around
 * midnight), the undo value, the rules. */
static int
agg_fold_one(hz_agg *a, hz_wtxn *w, struct agg_item *it)
{
    struct agg_cached *c = it->c, *p = it->p;

    if (c == NULL || hz_record_expand(it->rec, it->rlen, &a->rec) != 0)
        return HZ_EINVAL;
    agg_touch(a, c);
    if (c->present) {
        if (agg_cache_decode(a, c) != 0)
            return HZ_EINVAL;
    } else if (p != NULL && p->present) {
        /* The same visitor under yesterday's salt: carry the state over
         * (the old state flushes its own pending deltas). */
        const struct hz_session *ps = p->st;
        if (ps == NULL) {
            if (hz_session_decode(p->enc, p->enclen, &a->pst) != 0)
                return HZ_EINVAL;
            ps = &a->pst;
        }
        if (c->st == NULL)
            (void)agg_pool_lend(a, c);
        *c->st = *ps;
        memset(&c->st->pend, 0, sizeof(c->st->pend));
    } else {
        if (c->st == NULL)
            (void)agg_pool_lend(a, c);
        memset(c->st, 0, sizeof(*c->st));
    }
    c->present = 1;
    return hz_fold_record(w, &a->sites[it->site], a->session_ms, &a->rec, c->st);
}

/* ------------------------------------------------------------ Redis writes */

/* Pipelined commands and their replies; every reply must be non-error. */
static int
agg_drain_replies(hz_agg *a, int n, const char *what, struct hz_err *err)
{
    int rc = 0;

    for (int i = 0; i < n; i++) {
        hz_rs_reply *rep;
        int r = hz_rs_get(a->rs, &rep, err);
        if (r != 0)
            return r;
        if (rc == 0 && hz_rs_reply_type(rep) == HZ_RS_ERROR) {
            size_t l;
            const char *s = hz_rs_reply_str(rep, &l);
            rc = hz_err_set(err, HZ_EUNAVAIL, "redis %s: %.*s", what, (int)(l > 100 ? 100 : l), s);
        }
        /* EXEC: an aborted transaction is nil, a failed command an error. */
        if (rc == 0 && i == n - 1 && strcmp(what, "EXEC") == 0) {
            if (hz_rs_reply_type(rep) != HZ_RS_ARRAY)
                rc = hz_err_set(err, HZ_EUNAVAIL, "redis EXEC: transaction aborted");
            for (size_t k = 0; rc == 0 && k < hz_rs_reply_count(rep); k++)
                if (hz_rs_reply_type(hz_rs_reply_elem(rep, k)) == HZ_RS_ERROR)
                    rc = hz_err_set(err, HZ_EUNAVAIL, "redis EXEC: a command failed");
        }
        hz_rs_reply_free(rep);
    }
    return rc;
}

static int
agg_append(hz_agg *a, int argc, const char **argv, const size_t *lens, struct hz_err *err)
{
    if (hz_rs_append(a->rs, argc, argv, lens) != 0)
        return hz_err_set(err, HZ_EUNAVAIL, "redis: cannot queue %s", argv[0]);
    return 0;
}

static int
agg_append_str(hz_agg *a, int argc, const char **argv, struct hz_err *err)
{
    size_t lens[8];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    return agg_append(a, argc, argv, lens, err);
}

/* Room for n arguments in a->argv/a->lens. */
static void
agg_args(hz_agg *a, size_t n)
{
    if (n > a->argcap) {
        a->argcap = n * 2;
        a->argv = hz_xreallocarray(a->argv, a->argcap, sizeof(*a->argv));
        a->lens = hz_xreallocarray(a->lens, a->argcap, sizeof(*a->lens));
    }
}

/* The batch's hit ids for the id log (common/idlog.h), grouped by the
 * bucket of their entries' IDs (a batch's entries are in ID order): every
 * record that decoded with a hit id, whatever became of it (folded,
 * counted as invalid or under an unknown site: it reached the stream all
 * the same). Entries applied before a restart (AGG_SKIP) were logged
 * then. None when stream_keep_seconds is 0. */
static void
agg_idlog_build(hz_agg *a, const struct hz_rs_id *ids, const struct agg_item *items, int n)
{
    size_t used = 0;

    a->nidruns = 0;
    if (a->cfg->stream_keep_seconds == 0)
        return;
    for (int i = 0; i < n; i++) {
        const struct agg_item *it = &items[i];
        if (it->what == AGG_SKIP || !it->has_id)
            continue;
        uint64_t b = hz_idlog_bucket(ids[i].ms);
        struct agg_idrun *r = a->nidruns > 0 ? &a->idruns[a->nidruns - 1] : NULL;
        if (r == NULL || r->bucket != b) {
            if (a->nidruns == a->idruncap) {
                a->idruncap = a->idruncap ? a->idruncap * 2 : 4;
                a->idruns = hz_xreallocarray(a->idruns, a->idruncap, sizeof(*a->idruns));
            }
            r = &a->idruns[a->nidruns++];
            r->bucket = b;
            r->off = used;
            r->len = 0;
            r->klen = hz_idlog_key(r->key, sizeof(r->key), a->cfg->redis_stream, b);
        }
        if (a->idcap - used < HZ_IDLOG_ID_LEN) {
            a->idcap = a->idcap * 2 + HZ_IDLOG_ID_LEN * 1024;
            a->idbuf = hz_xreallocarray(a->idbuf, a->idcap, 1);
        }
        memcpy(a->idbuf + used, it->id, HZ_IDLOG_ID_LEN);
        used += HZ_IDLOG_ID_LEN;
        r->len += HZ_IDLOG_ID_LEN;
    }
}

/* Queues the rewrite of a complete bucket of the id log as an exact copy
 * of itself, TTL and all: APPEND grows a string by doubling it (by 1 MB
 * past 1 MB), so a bucket of 1.1 MB of ids holds 2 MB until it expires.
 * COPY makes a string of the exact length; a bucket already expired is
 * left alone (the script, not RENAME, says so: an error would fail the
 * batch's EXEC). The collector reads the same bytes before and after. */
static int
agg_idlog_compact(hz_agg *a, const struct agg_idrun *r, struct hz_err *err)
{
    static const char script[] = "if redis.call('COPY', KEYS[1], KEYS[2], 'REPLACE') == 1 then "
                                 "redis.call('RENAME', KEYS[2], KEYS[1]) end return 0";
    char tmp[HZ_IDLOG_KEY_MAX + 2];

    memcpy(tmp, r->key, r->klen);
    memcpy(tmp + r->klen, ":c", 2);
    const char *av[5] = {"EVAL", script, "2", r->key, tmp};
    size_t al[5] = {4, sizeof(script) - 1, 1, r->klen, r->klen + 2};
    return agg_append(a, 5, av, al, err);
}

/* Queues the batch's APPENDs to the id log, each with its PEXPIRE
 * (stream_keep_seconds + one bucket). Returns the number of replies. */
static int
agg_idlog_send(hz_agg *a, struct hz_err *err)
{
    char ttl[24];
    size_t ttl_len =
        hz_utoa((uint64_t)a->cfg->stream_keep_seconds * 1000 + HZ_IDLOG_BUCKET_MS, ttl);
    int rc, n = 0;

    for (size_t i = 0; i < a->nidruns; i++) {
        const struct agg_idrun *r = &a->idruns[i];
        const char *av[3] = {"APPEND", r->key, (const char *)a->idbuf + r->off};
        size_t al[3] = {6, r->klen, r->len};
        const char *ev[3] = {"PEXPIRE", r->key, ttl};
        size_t el[3] = {7, r->klen, ttl_len};
        if (r->klen == 0)
            continue;
        if ((rc = agg_append(a, 3, av, al, err)) != 0 || (rc = agg_append(a, 3, ev, el, err)) != 0)
            return rc;
        n += 2;
    }
    if (a->nidruns == 0)
        return n;
    /* Buckets before the batch's last one are complete (entries come in ID
     * order): each is rewritten once at its exact length. */
    const struct agg_idrun *last = &a->idruns[a->nidruns - 1];
    if (a->idopen.klen > 0 && a->idopen.bucket < a->idruns[0].bucket) {
        if ((rc = agg_idlog_compact(a, &a->idopen, err)) != 0)
            return rc;
        n++;
    }
    for (size_t i = 0; i + 1 < a->nidruns; i++) {
        if (a->idruns[i].klen == 0)
            continue;
        if ((rc = agg_idlog_compact(a, &a->idruns[i], err)) != 0)
            return rc;
        n++;
    }
    a->idopen = *last;
    return n;
}

/* Step 4: queues the new states and the undo record, in one MULTI/EXEC
 * (pipelined: MULTI, DEL undo, HSET undo with the previous values, one
 * SET ... PX per state, EXEC). Redis 7.0 has no multi-key SET with a TTL;
 * a Lua script doing the SETs measured ~1.5x Redis's CPU of queued SETs.
 * The states are encoded once, into buffers kept between batches.
 * A later batch of a span (cont) adds to the span's undo record: its new
 * "_to" and the values of the states no earlier batch of the span touched
 * ("_pos" stays the position before the span).
 * The same MULTI/EXEC appends the batch's hit ids to the id log
 * (agg_idlog_build; APPEND and PEXPIRE per bucket): it is executed before
 * the batch's LMDB commit, so every entry that step 6 trims has its id in
 * the log. A batch that changed no state still writes its ids.
 * Returns the number of replies to read (0: nothing to write) or an error. */
static int
agg_states_send(hz_agg *a, const char *to_id, int cont, struct hz_err *err)
{
    size_t nt = a->ntouched, argc = 0, used = 0;
    char pos[HZ_RS_ID_MAX];
    int rc, nrep = 2;

    if (nt == 0 && a->nidruns == 0)
        return 0;
    if (a->have_pos)
        hz_rs_id_format(a->pos, pos);
    else
        pos[0] = '\0';
    /* Encode first (the buffer may move while it grows), then point. */
    for (size_t i = 0; i < nt; i++) {
        struct agg_cached *t = a->touched[i];
        if (a->sercap - used < HZ_SESSION_SER_MAX) {
            a->sercap = a->sercap * 2 + HZ_SESSION_SER_MAX * 64;
            a->serbuf = hz_xreallocarray(a->serbuf, a->sercap, 1);
        }
        t->new_off = used;
        t->new_len = hz_session_encode(t->st, a->serbuf + used);
        used += t->new_len;
    }
    agg_args(a, 2 * nt + 6);

    const char *multi[] = {"MULTI"}, *del[] = {"DEL", a->undo_key}, *exec[] = {"EXEC"};
    if ((rc = agg_append_str(a, 1, multi, err)) != 0)
        return rc;
    if ((rc = agg_idlog_send(a, err)) < 0)
        return rc;
    nrep += rc;
    if (nt == 0)
        goto exec;
    if (!cont && (rc = agg_append_str(a, 2, del, err)) != 0)
        return rc;
    nrep += (int)nt + (cont ? 1 : 2);
#define ARG(s, l) (a->argv[argc] = (s), a->lens[argc++] = (l))
    ARG("HSET", 4);
    ARG(a->undo_key, strlen(a->undo_key));
    if (!cont) {
        ARG("_pos", 4);
        ARG(pos, strlen(pos));
    }
    ARG("_to", 3);
    ARG(to_id, strlen(to_id));
    for (size_t i = 0; i < nt; i++) {
        const struct agg_cached *t = a->touched[i];
        if (!t->undo)
            continue;
        ARG(t->key, t->klen);
        if (t->prev_present)
            ARG((const char *)a->prevbuf + t->prev_off, t->prev_len);
        else
            ARG("", 0);
    }
    if ((rc = agg_append(a, (int)argc, a->argv, a->lens, err)) != 0)
        return rc;
    for (size_t i = 0; i < nt; i++) {
        const struct agg_cached *t = a->touched[i];
        char ttl[24];
        uint64_t ms = hz_fold_ttl_ms(&a->sites[t->site], a->session_ms, t->st);
        const char *sv[5] = {"SET", t->key, (const char *)a->serbuf + t->new_off, "PX", ttl};
        size_t sl[5] = {3, t->klen, t->new_len, 2, hz_utoa(ms, ttl)};
        if ((rc = agg_append(a, 5, sv, sl, err)) != 0)
            return rc;
    }
#undef ARG
exec:
    if ((rc = agg_append_str(a, 1, exec, err)) != 0)
        return rc;
    /* On any failure the connection is dropped and recovery runs, so
     * nothing half-sent is ever read back on this connection. */
    return nrep;
}

/* Step 6, queued: XGROUP SETID to the position (the group mirrors what is
 * committed, for XINFO GROUPS; nothing is read through it, so there is no
 * pending-entries list to acknowledge), XTRIM everything up to the
 * position (exclusive MINID), DEL the undo record. It rides along with the
 * next batch's first round trip. Returns the number of replies to read. */
static int
agg_step6_send(hz_agg *a, struct hz_err *err)
{
    char pos[HZ_RS_ID_MAX], minid[HZ_RS_ID_MAX];
    int rc;

    if (!a->step6_due || !a->have_pos)
        return 0;
    a->step6_due = 0;
    hz_rs_id_format(a->pos, pos);
    const char *setid[] = {"XGROUP", "SETID", a->cfg->redis_stream, a->cfg->group, pos};
    if ((rc = agg_append_str(a, 5, setid, err)) != 0)
        return rc;
    struct hz_rs_id next = a->pos;
    if (next.seq == UINT64_MAX) {
        next.ms++;
        next.seq = 0;
    } else {
        next.seq++;
    }
    /* Every applied entry goes: a collector that lost its connection with
     * XADDs in flight finds their hit ids in the id log, written before
     * the commit (agg_states_send). Only keep_applied_seconds (0 unless
     * set, for a reader that follows the stream) keeps recent ones. */
    uint64_t keep = (uint64_t)a->cfg->keep_applied_seconds * 1000;
    uint64_t keep_from = agg_now_ms() > keep ? agg_now_ms() - keep : 0;
    if (keep > 0 && next.ms > keep_from) {
        next.ms = keep_from;
        next.seq = 0;
    }
    hz_rs_id_format(next, minid);
    const char *trim[] = {"XTRIM", a->cfg->redis_stream, "MINID", minid};
    const char *del[] = {"DEL", a->undo_key};
    if ((rc = agg_append_str(a, 4, trim, err)) != 0 || (rc = agg_append_str(a, 2, del, err)) != 0)
        return rc;
    return 3;
}

/* Step 6 now (when there is no next batch to ride along with). */
static int
agg_step6_now(hz_agg *a, struct hz_err *err)
{
    int n;

    /* A prefetched MGET's reply comes first: read it into the cache. */
    if (a->mget_pending && (n = agg_load_recv(a, err)) != 0)
        return n;
    n = agg_step6_send(a, err);

    if (n <= 0)
        return n;
    return agg_drain_replies(a, n, "XGROUP SETID/XTRIM", err);
}

/* ------------------------------------------------------------ commits */

static void *
agg_commit_main(void *arg)
{
    struct agg_commit *c = arg;

    c->rc = hz_store_write(c->w, &c->err);
    return NULL;
}

/* Step 5 in the background: seals w and writes it in the commit thread
 * (or here, if no thread can be started). agg_commit_wait collects it. */
static void
agg_commit_start(hz_agg *a, hz_wtxn *w, struct hz_rs_id last)
{
    struct agg_commit *c = &a->cm;

    hz_store_seal(w);
    c->w = w;
    c->last = last;
    c->rc = 0;
    c->threaded = pthread_create(&c->thread, NULL, agg_commit_main, c) == 0;
    if (!c->threaded)
        (void)agg_commit_main(c);
}

/* Waits for the batch being committed, if any: then its position is the
 * committed one and its step 6 is due. cur (may be NULL) is the
 * transaction begun after it, detached from it here. An open span (its
 * batches are in Redis already) is committed first. A full map is grown
 * now, with no snapshot open. 0, or HZ_ESTORE (fatal). */
static int
agg_commit_wait(hz_agg *a, hz_wtxn *cur, struct hz_err *err)
{
    struct agg_commit *c = &a->cm;
    double t0 = agg_mono();
    int rc;

    if (a->span != NULL) {
        agg_commit_start(a, a->span, a->span_last);
        a->span = NULL;
    }
    if (c->w == NULL)
        return 0;
    if (c->threaded)
        (void)pthread_join(c->thread, NULL);
    c->threaded = 0;
    if (cur != NULL)
        hz_store_detach(cur);
    rc = c->rc;
    if (rc == HZ_ETOOBIG) {
        rc = hz_store_commit(c->w, err);
    } else {
        if (rc != 0 && err != NULL)
            *err = c->err;
        hz_store_abort(c->w); /* written (or failed): frees it */
    }
    c->w = NULL;
    a->stats.t_commit += agg_mono() - t0;
    if (rc != 0)
        return HZ_ESTORE;
    a->pos = c->last;
    a->have_pos = 1;
    a->stats.batches++;
    a->step6_due = 1;
    return 0;
}

/* ------------------------------------------------------------ one batch */

static void
agg_log_reasons(hz_agg *a, int n)
{
    char line[512];
    size_t off = 0;

    if (hz_kmap_count(a->reasons) == 0)
        return;
    for (size_t i = 0; i < hz_kmap_count(a->reasons) && off < sizeof(line) - 64; i++) {
        const void *k;
        size_t kl;
        const uint64_t *c = hz_kmap_at(a->reasons, i, &k, &kl);
        int w = snprintf(line + off, sizeof(line) - off, "%s%.*s: %llu", i ? ", " : "",
                         (int)(kl > 64 ? 64 : kl), (const char *)k, (unsigned long long)*c);
        if (w > 0)
            off += (size_t)w;
    }
    hz_log_warnx("consume: skipped malformed entries in a batch of %d (%s)", n, line);
    hz_kmap_clear(a->reasons);
}

/* 1 when the reader has handed over the batch after the one being
 * handled (it may have been still reading when that one began). */
static int
agg_behind(hz_agg *a)
{
    int n;

    pthread_mutex_lock(&a->q.mu);
    n = a->q.count;
    pthread_mutex_unlock(&a->q.mu);
    return n >= 2;
}

/* Handles a batch that was read and decoded: steps 1 to 5, with step 6 of
 * the previous batch riding along, and Redis's and LMDB's work overlapped
 * with ours where the order allows:
 *   [MGET, unless prefetched] -> fold (while the previous batch commits) ->
 *   wait for the previous commit -> send [SETID prev, XTRIM, DEL],
 *   [MULTI .. EXEC] and the next batch's [MGET] -> flush the visits'
 *   pending rows into the LMDB transaction while Redis executes -> read
 *   the replies -> start the commit in the commit thread and return (the
 *   MGET's reply is read by the next batch: Redis answers it while we
 *   fold). The previous commit must end before this batch's EXEC: the undo
 *   record holds one batch (or span), so its EXEC may only replace it once
 *   what it describes is committed. A batch that goes on a span (see
 *   AGG_SPAN_BATCHES) is not committed here: the next batch adds to it.
 * The states' encoding does not include the pending rows, so sending them
 * before the flush writes what the flush leaves. next (may be NULL) is the
 * batch the reader has ready after this one. On failure the cache is
 * dropped; the caller recovers. */
static int
agg_batch(hz_agg *a, const struct hz_rs_id *ids, int ne, int n, struct agg_item *items,
          const struct agg_slot *next, struct hz_err *err)
{
    hz_wtxn *w = NULL;
    struct hz_rs_id last = a->pos;
    char to_id[HZ_RS_ID_MAX];
    int rc = 0, nnew = 0, mget, n6, nst;
    uint64_t now = agg_now_ms();

    if (n == 0)
        return 0;
    a->stats.entries += (uint64_t)ne;
    for (int i = 0; i < n; i++) {
        /* Step 1: applied before a restart. */
        if (a->have_pos && hz_rs_id_cmp(ids[i], a->pos) <= 0) {
            items[i].what = AGG_SKIP;
            a->stats.skipped++;
            continue;
        }
        nnew++;
        if (hz_rs_id_cmp(ids[i], last) > 0 || !a->have_pos)
            last = ids[i];
    }
    if (nnew == 0)
        return 0;

    /* First round trip: the states this batch needs (those prefetched
     * with the previous batch are in the reply already waiting). */
    double t0 = agg_mono(), t1, t2, t3;
    if ((rc = agg_load_recv(a, err)) != 0)
        goto fail;
    if ((mget = agg_load_send(a, items, n)) < 0) {
        rc = hz_err_set(err, HZ_EUNAVAIL, "redis: cannot queue MGET");
        goto fail;
    }
    if (mget && (rc = agg_load_recv(a, err)) != 0)
        goto fail;
    t1 = agg_mono();
    a->stats.t_redis += t1 - t0;

    /* The open span's transaction, or a new span's. */
    int cont = a->span != NULL;
    if (cont) {
        w = a->span;
        a->span = NULL;
    } else if ((rc = hz_store_wbegin_after(a->store, &w, (uint64_t)a->cfg->max_values, a->cm.w,
                                           err)) != 0) {
        goto fail;
    } else {
        a->sgen++;
    }
    a->ntouched = 0;
    a->gen++;
    a->prevlen = 0;
    for (int i = 0; i < n; i++) {
        struct agg_item *it = &items[i];
        const char *site;
        int32_t day;
        switch (it->what) {
        case AGG_SKIP:
            continue;
        case AGG_MALFORMED:
        case AGG_UNKNOWN: {
            const char *why = it->what == AGG_UNKNOWN ? "unknown_site" : (const char *)it->rec;
            if (it->what == AGG_UNKNOWN)
                a->stats.unknown_site++;
            else
                a->stats.malformed++;
            uint64_t *cnt = hz_kmap_put(a->reasons, why, strlen(why), NULL);
            (*cnt)++;
            if (it->site >= 0) /* a valid record at an impossible time */
                rc = hz_fold_drop(w, a->cfg->sites[it->site].name,
                                  hz_tz_day(&a->sites[it->site].tz, (int64_t)(now / 1000)), why, 1);
            else
                rc = hz_fold_drop(w, AGG_SITE_ANY, agg_utc_day(now), why, 1);
            break;
        }
        case AGG_DROP:
            if (hz_record_expand(it->rec, it->rlen, &a->rec) != 0) {
                rc = HZ_EINVAL;
                break;
            }
            if (it->site < 0) {
                site = AGG_SITE_ANY;
                day = agg_utc_day(a->rec.t_ms);
            } else {
                site = a->cfg->sites[it->site].name;
                day = hz_tz_day(&a->sites[it->site].tz, (int64_t)(a->rec.t_ms / 1000));
            }
            rc = hz_fold_drop(w, site, day, a->rec.name, a->rec.ms);
            a->stats.applied++;
            break;
        case AGG_FOLD:
            rc = agg_fold_one(a, w, it);
            a->stats.applied++;
            break;
        }
        if (rc != 0) {
            /* Values from a decoded record always fit the store. */
            rc = hz_err_set(err, HZ_ESTORE, "consume: fold failed: %s", hz_strerror(rc));
            goto fail;
        }
    }

    /* Second round trip: the previous batch's step 6 (it is committed
     * now), this one's states + undo, sent before the flush below so that
     * Redis executes them while we write the pending rows. */
    t2 = agg_mono();
    a->stats.t_fold += t2 - t1;
    if ((rc = agg_commit_wait(a, w, err)) != 0)
        goto fail;
    t2 = agg_mono();
    if ((n6 = agg_step6_send(a, err)) < 0) {
        rc = n6;
        goto fail;
    }
    hz_rs_id_format(last, to_id);
    agg_idlog_build(a, ids, items, n);
    if ((nst = agg_states_send(a, to_id, cont, err)) < 0) {
        rc = nst;
        goto fail;
    }
    /* The next batch's states, read after this EXEC (so they hold what it
     * wrote): their reply arrives while we commit. Not when the cache is
     * about to be cleared (the prefetched entries would be dropped). */
    if (next != NULL && next->n > 0 && hz_kmap_count(a->cache) <= AGG_CACHE_MAX &&
        agg_load_send(a, next->items, next->n) < 0) {
        rc = hz_err_set(err, HZ_EUNAVAIL, "redis: cannot queue MGET");
        goto fail;
    }
    if ((n6 > 0 || nst > 0 || a->mget_pending) && (rc = hz_rs_flush(a->rs, err)) != 0)
        goto fail;
    t3 = agg_mono();
    a->stats.t_redis += t3 - t2;

    /* Pending visit-level deltas of every state this batch touched. */
    for (size_t i = 0; i < a->ntouched; i++) {
        struct agg_cached *tc = a->touched[i];
        if ((rc = hz_fold_flush(w, &a->sites[tc->site], tc->st)) != 0) {
            rc = hz_err_set(err, HZ_ESTORE, "consume: flush failed: %s", hz_strerror(rc));
            goto fail;
        }
    }
    for (int i = 0; i < a->cfg->nsites; i++) {
        if ((rc = hz_fold_site_flush(w, &a->sites[i])) != 0) {
            rc = hz_err_set(err, HZ_ESTORE, "consume: flush failed: %s", hz_strerror(rc));
            goto fail;
        }
    }
    if ((rc = hz_store_set_position(w, to_id)) != 0)
        goto fail;
    /* unknown_site is counted, not logged per batch. */
    (void)hz_kmap_del(a->reasons, "unknown_site", strlen("unknown_site"));
    agg_log_reasons(a, n);

    t2 = agg_mono();
    a->stats.t_fold += t2 - t3;
    if (n6 > 0 && (rc = agg_drain_replies(a, n6, "XGROUP SETID/XTRIM", err)) != 0)
        goto fail;
    if (nst > 0 && (rc = agg_drain_replies(a, nst, "EXEC", err)) != 0)
        goto fail;

    t3 = agg_mono();
    a->stats.t_redis += t3 - t2;
    /* Behind (a full batch, or the next one is ready): the span goes on,
     * and the next batch is folded into the same transaction (if none
     * comes, the idle turn commits it). The cache is not cleared within a
     * span (a state it forgot would be taken for untouched). */
    a->span_batches = cont ? a->span_batches + 1 : 1;
    if (a->span_batches < AGG_SPAN_BATCHES && hz_kmap_count(a->cache) <= AGG_CACHE_MAX &&
        (n >= (int)a->cfg->batch || agg_behind(a))) {
        a->span = w;
        a->span_last = last;
    } else {
        agg_commit_start(a, w, last);
    }
    w = NULL;
    agg_pool_return(a);
    a->ntouched = 0;
    if (!a->mget_pending && hz_kmap_count(a->cache) > AGG_CACHE_MAX)
        agg_cache_clear(a);
    return 0;
fail:
    hz_store_abort(w);
    /* The batch before may still commit: its outcome decides the position
     * recovery starts from (and a failed commit is fatal). */
    if (agg_commit_wait(a, NULL, NULL) != 0)
        rc = hz_err_set(err, HZ_ESTORE, "consume: commit failed");
    hz_kmap_clear(a->reasons);
    agg_reset_cache(a);
    a->need_recover = 1;
    return rc;
}

/* ------------------------------------------------------------ recovery */

/* Puts back the states of a batch whose LMDB commit did not happen. */
static int
agg_undo(hz_agg *a, struct hz_err *err)
{
    const char *argv[] = {"HGETALL", a->undo_key};
    size_t lens[] = {7, strlen(a->undo_key)};
    hz_rs_reply *rep = NULL;
    struct hz_rs_id to = {0, 0};
    int rc, have_to = 0, restore, ncmd = 0;

    if ((rc = hz_rs_command(a->rs, 2, argv, lens, &rep, err)) != 0)
        return rc;
    size_t n = hz_rs_reply_count(rep);
    if (hz_rs_reply_type(rep) != HZ_RS_ARRAY || n % 2 != 0) {
        hz_rs_reply_free(rep);
        return hz_err_set(err, HZ_EUNAVAIL, "redis HGETALL: unexpected reply");
    }
    if (n == 0) {
        hz_rs_reply_free(rep);
        return 0;
    }
    for (size_t i = 0; i < n; i += 2) {
        size_t kl, vl;
        const char *k = hz_rs_reply_str(hz_rs_reply_elem(rep, i), &kl);
        const char *v = hz_rs_reply_str(hz_rs_reply_elem(rep, i + 1), &vl);
        if (k != NULL && v != NULL && kl == 3 && memcmp(k, "_to", 3) == 0)
            have_to = hz_rs_id_parse(v, vl, &to) == 0;
    }
    /* Without a readable "_to" nothing can be decided safely but "the
     * commit did not happen" is only true when the position is behind. */
    restore = have_to && (!a->have_pos || hz_rs_id_cmp(to, a->pos) > 0);
    const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"}, *del[] = {"DEL", a->undo_key};
    if ((rc = agg_append_str(a, 1, multi, err)) != 0)
        goto done;
    ncmd++;
    for (size_t i = 0; restore && i < n; i += 2) {
        size_t kl, vl;
        const char *k = hz_rs_reply_str(hz_rs_reply_elem(rep, i), &kl);
        const char *v = hz_rs_reply_str(hz_rs_reply_elem(rep, i + 1), &vl);
        char ttl[24];
        if (k == NULL || v == NULL || kl == 0 || k[0] == '_')
            continue;
        if (vl == 0) {
            const char *dv[] = {"DEL", k};
            size_t dl[] = {3, kl};
            rc = agg_append(a, 2, dv, dl, err);
        } else {
            (void)snprintf(ttl, sizeof(ttl), "%llu",
                           (unsigned long long)(AGG_RESTORE_TTL_MS + a->session_ms));
            const char *sv[] = {"SET", k, v, "PX", ttl};
            size_t sl[] = {3, kl, vl, 2, strlen(ttl)};
            rc = agg_append(a, 5, sv, sl, err);
        }
        if (rc != 0)
            goto done;
        ncmd++;
    }
    if ((rc = agg_append_str(a, 2, del, err)) != 0 || (rc = agg_append_str(a, 1, exec, err)) != 0)
        goto done;
    ncmd += 2;
    rc = agg_drain_replies(a, ncmd, "EXEC", err);
    if (rc == 0 && restore) {
        a->stats.restored++;
        hz_log_info("consume: restored visitor states of an uncommitted batch");
    }
done:
    hz_rs_reply_free(rep);
    return rc;
}

/* Recovery: the position, the undo record, then the consumer group is
 * pointed at the position. The reader starts again right after the
 * position: whatever was read but not committed is read once more. */
static int
agg_recover(hz_agg *a, struct hz_err *err)
{
    char pos[HZ_RS_ID_MAX] = "0-0";
    int rc;

    agg_reset_cache(a);
    if ((rc = agg_load_pos(a, err)) != 0)
        return rc;
    if ((rc = agg_undo(a, err)) != 0)
        return rc;
    if (a->have_pos)
        hz_rs_id_format(a->pos, pos);
    /* The trim of what is committed is due too: the commit that recovery
     * waited for (a span's, perhaps the stream's last) may be the last one
     * for a while. */
    a->step6_due = a->have_pos;
    return hz_rs_group_sync(a->rs, a->cfg->redis_stream, a->cfg->group, pos, err);
}

/* ------------------------------------------------------------ reader */

/* The reader's pause for a batch that is not full: until batch_wait_ms
 * after first (CLOCK_MONOTONIC), or until it is stopped (then 1). */
static int
agg_reader_wait(hz_agg *a, struct timespec first)
{
    struct agg_queue *q = &a->q;
    struct timespec dl = first;
    long ms = a->cfg->batch_wait_ms;
    int stop;

    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&q->mu);
    while (!q->stop && pthread_cond_timedwait(&q->cv_space, &q->mu, &dl) == 0)
        ;
    stop = q->stop;
    pthread_mutex_unlock(&q->mu);
    return stop;
}

/* The reader thread: XREAD on its own connection from its own position
 * (a->rpos, set from the committed position when it starts), decode,
 * queue. It touches neither LMDB nor the state cache; entries it has read
 * but the main thread has not committed are read again after a restart or
 * a recovery (from the committed position), so stopping it at any point
 * loses nothing. */
static void *
agg_reader(void *arg)
{
    hz_agg *a = arg;
    struct agg_queue *q = &a->q;
    struct hz_record rec; /* each entry is decoded here, then packed into its slot */
    sigset_t set;

    /* Signals are the main thread's business (it finishes its batch). */
    (void)sigemptyset(&set);
    (void)sigaddset(&set, SIGTERM);
    (void)sigaddset(&set, SIGINT);
    (void)pthread_sigmask(SIG_BLOCK, &set, NULL);
    for (;;) {
        struct hz_err e = {0};
        struct agg_slot *sl;
        int rc;

        pthread_mutex_lock(&q->mu);
        while (!q->stop && q->count == AGG_QDEPTH)
            pthread_cond_wait(&q->cv_space, &q->mu);
        if (q->stop) {
            pthread_mutex_unlock(&q->mu);
            break;
        }
        sl = &q->slots[(q->head + q->count) % AGG_QDEPTH];
        pthread_mutex_unlock(&q->mu);

        /* Chunks until the batch is full or the stream has no more: the
         * first waits up to 100 ms, the others do not wait. A batch that
         * is not full when the stream runs dry waits once, until
         * batch_wait_ms after its first entry, and takes what came
         * meanwhile: a stream tailed live is folded and committed in a
         * few large batches rather than many small ones (each costs a
         * commit and Redis round trips, and a visit's hits in one batch
         * write its state once). */
        /* A batch is counted in records (batch of them), an XREAD in
         * entries: an entry holds 1 to HZ_RECORD_BATCH_MAX records. Each
         * XREAD asks for the entries the records still missing would
         * take at the last chunk's records per entry; an entry that would
         * start past the batch's end is left for the next batch (read
         * again), so a slot holds fewer than batch + HZ_RECORD_BATCH_MAX
         * records whatever the entries hold. */
        rc = 0;
        sl->n = sl->ne = 0;
        sl->arena.cur = sl->arena.used = 0;
        int waited = a->cfg->batch_wait_ms == 0, nsub = 0, full = 0;
        struct timespec first = {0, 0};
        if (sl->cap < (int)a->cfg->batch + HZ_RECORD_BATCH_MAX) {
            sl->cap = (int)a->cfg->batch + HZ_RECORD_BATCH_MAX;
            sl->ids = hz_xreallocarray(sl->ids, (size_t)sl->cap, sizeof(*sl->ids));
            sl->items = hz_xreallocarray(sl->items, (size_t)sl->cap, sizeof(*sl->items));
        }
        while (sl->n < (int)a->cfg->batch && nsub < AGG_SUBS) {
            struct hz_rs_batch c;
            int want = ((int)a->cfg->batch - sl->n + a->rper - 1) / a->rper;
            if (want > AGG_CHUNK)
                want = AGG_CHUNK;
            char after[HZ_RS_ID_MAX];
            hz_rs_id_format(a->rpos, after);
            rc =
                hz_rs_read(a->rrs, a->cfg->redis_stream, after, want, nsub == 0 ? 100 : -1, &c, &e);
            if (rc != 0)
                break;
            nsub++;
            int n0 = sl->n, taken = 0;
            for (int i = 0; i < c.n && sl->n < (int)a->cfg->batch; i++, taken++) {
                int k = agg_decode_entry(a->cfg, &c.e[i], &sl->items[sl->n], &sl->ids[sl->n], &rec,
                                         &sl->arena, agg_now_ms());
                for (int j = 0; j < k; j++)
                    agg_item_hash(a, &sl->items[sl->n + j]);
                sl->n += k;
                a->rpos = c.e[i].id;
            }
            sl->ne += taken;
            full = sl->n >= (int)a->cfg->batch;
            if (taken > 0) {
                int per = (sl->n - n0) / taken;
                a->rper = per < 1 ? 1 : per;
            }
            hz_rs_batch_free(&c); /* the items hold what is needed of it */
            if (n0 == 0 && sl->n > 0)
                (void)clock_gettime(CLOCK_MONOTONIC, &first);
            if (!full && taken < want) {
                if (sl->n == 0 || waited || agg_reader_wait(a, first) != 0)
                    break;
                waited = 1;
            }
        }
        if (rc != 0)
            sl->n = sl->ne = 0;

        pthread_mutex_lock(&q->mu);
        if (rc != 0) {
            q->err = rc;
            q->errmsg = e;
        } else if (sl->n == 0) {
            q->empty_reads++;
        } else {
            q->count++;
        }
        pthread_cond_broadcast(&q->cv_data);
        pthread_mutex_unlock(&q->mu);
        if (rc != 0)
            break;
    }
    return NULL;
}

/* Stops the reader (within one BLOCK period) and drops what it queued:
 * those entries are not committed, the next reader reads them again. */
static void
agg_reader_stop(hz_agg *a)
{
    struct agg_queue *q = &a->q;

    if (!q->running)
        return;
    pthread_mutex_lock(&q->mu);
    q->stop = 1;
    pthread_cond_broadcast(&q->cv_space);
    pthread_mutex_unlock(&q->mu);
    (void)pthread_join(q->thread, NULL);
    q->running = 0;
    for (int i = 0; i < AGG_QDEPTH; i++)
        q->slots[i].n = 0;
    q->head = q->count = 0;
    q->stop = 0;
    q->err = 0;
}

static int
agg_reader_start(hz_agg *a, struct hz_err *err)
{
    struct agg_queue *q = &a->q;

    q->head = q->count = q->stop = q->err = 0;
    a->rpos = a->have_pos ? a->pos : (struct hz_rs_id){0, 0};
    a->rper = 1;
    if (pthread_create(&q->thread, NULL, agg_reader, a) != 0)
        return hz_err_set(err, HZ_EUNAVAIL, "consume: cannot start the reader thread");
    q->running = 1;
    return 0;
}

/* ------------------------------------------------------------ public */

static int
agg_connect(hz_agg *a, int tries, struct hz_err *err)
{
    int rc;

    agg_reader_stop(a);
    /* Recovery reads the committed position. */
    if ((rc = agg_commit_wait(a, NULL, err)) != 0)
        return rc;
    hz_rs_close(a->rs);
    hz_rs_close(a->rrs);
    a->rs = a->rrs = NULL;
    a->need_recover = 1;
    if ((rc = hz_rs_connect(&a->rs, &a->cfg->redis_address, 2000, tries, err)) != 0 ||
        (rc = hz_rs_auth(a->rs, a->cfg->redis_user, a->cfg->redis_password, err)) != 0)
        return rc;
    if ((rc = hz_rs_connect(&a->rrs, &a->cfg->redis_address, 2000, tries, err)) != 0 ||
        (rc = hz_rs_auth(a->rrs, a->cfg->redis_user, a->cfg->redis_password, err)) != 0)
        return rc;
    if ((rc = agg_recover(a, err)) != 0)
        return rc;
    if ((rc = agg_reader_start(a, err)) != 0)
        return rc;
    a->need_recover = 0;
    return 0;
}

/*
 * One aggregator per store. Each reads the whole stream from the position
 * committed in its store (plain XREAD, no consumer group to share entries
 * out), so a second one on the same store would count every hit twice: it
 * is refused. The lock goes with the process (kill -9 included).
 */
static int
agg_lock(hz_agg *a, struct hz_err *err)
{
    char path[HZ_CFG_PATH_MAX + 32];

    if (mkdir(a->cfg->lmdb, 0700) != 0 && errno != EEXIST)
        return hz_err_set(err, HZ_ESTORE, "%s: mkdir: %s", a->cfg->lmdb, strerror(errno));
    (void)snprintf(path, sizeof(path), "%s/aggregator.lock", a->cfg->lmdb);
    a->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (a->lock_fd < 0)
        return hz_err_set(err, HZ_ESTORE, "%s: %s", path, strerror(errno));
    if (flock(a->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        (void)close(a->lock_fd);
        a->lock_fd = -1;
        if (e == EWOULDBLOCK)
            return hz_err_set(err, HZ_ESTORE,
                              "%s: another haze-aggregator runs on this store (two would "
                              "count every hit twice)",
                              a->cfg->lmdb);
        return hz_err_set(err, HZ_ESTORE, "%s: flock: %s", path, strerror(e));
    }
    return 0;
}

int
hz_agg_open(hz_agg **out, const struct hz_config *cfg, struct hz_err *err)
{
    hz_agg *a = hz_xcalloc(1, sizeof(*a));
    int rc;

    a->lock_fd = -1;
    a->cfg = cfg;
    a->session_ms = (uint64_t)cfg->session_minutes * 60000ULL;
    for (int i = 0; i < cfg->nsites; i++)
        hz_fold_site_init(&a->sites[i], &cfg->sites[i]);
    (void)snprintf(a->undo_key, sizeof(a->undo_key), "haze:agg:undo:%s", cfg->redis_stream);
    a->cache = hz_kmap_new(sizeof(struct agg_cached));
    a->gen = 1;
    for (int i = 0; i < cfg->nsites; i++) {
        size_t n = hz_session_key(a->prefix[i], AGG_KEY_MAX - HZ_VHASH_LEN - 1, cfg->redis_stream,
                                  cfg->sites[i].name, "");
        a->prefix_len[i] = n;
    }
    a->reasons = hz_kmap_new(sizeof(uint64_t));
    a->retain_checked = -1;
    pthread_mutex_init(&a->q.mu, NULL);
    /* Timed waits run on the monotonic clock: a step of the wall clock
     * (NTP) neither stretches a batch's wait nor ends it early. */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    (void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->q.cv_data, &ca);
    pthread_cond_init(&a->q.cv_space, &ca);
    pthread_condattr_destroy(&ca);
    rc = agg_lock(a, err);
    if (rc == 0)
        rc = hz_store_open(&a->store, cfg->lmdb, 0, (size_t)cfg->map_size_mb << 20, err);
    if (rc == 0 && (rc = agg_connect(a, 1, err)) == HZ_EUNAVAIL) {
        /* Any start order: hz_agg_run waits for Redis with a backoff. */
        hz_log_warnx("consume: %s; waiting for redis", err != NULL ? err->msg : "unavailable");
        rc = 0;
    }
    if (rc != 0) {
        hz_agg_close(a);
        return rc;
    }
    *out = a;
    return 0;
}

void
hz_agg_close(hz_agg *a)
{
    if (a == NULL)
        return;
    /* What the reader queued is read again next time; step 6 for what was
     * committed. */
    agg_reader_stop(a);
    if (agg_commit_wait(a, NULL, NULL) != 0)
        hz_log_warnx("consume: the last batch's LMDB commit failed; it is read again next time");
    else if (a->rs != NULL && !a->need_recover && !hz_rs_broken(a->rs))
        (void)agg_step6_now(a, NULL);
    hz_rs_close(a->rs);
    hz_rs_close(a->rrs);
    hz_store_close(a->store);
    if (a->lock_fd >= 0)
        (void)close(a->lock_fd);
    agg_cache_clear(a);
    hz_kmap_free(a->cache);
    for (size_t i = 0; i < a->pool_n; i++)
        free(a->pool[i]);
    free(a->pool);
    free(a->lent);
    free(a->touched);
    hz_kmap_free(a->reasons);
    free(a->want);
    free(a->prevbuf);
    free(a->serbuf);
    free(a->idbuf);
    free(a->idruns);
    free(a->argv);
    free(a->lens);
    for (int i = 0; i < AGG_QDEPTH; i++) {
        free(a->q.slots[i].items);
        free(a->q.slots[i].ids);
        agg_arena_free(&a->q.slots[i].arena);
    }
    pthread_mutex_destroy(&a->q.mu);
    pthread_cond_destroy(&a->q.cv_data);
    pthread_cond_destroy(&a->q.cv_space);
    free(a);
}

int
hz_agg_step(hz_agg *a, int block_ms, struct hz_err *err)
{
    struct agg_queue *q = &a->q;
    struct agg_slot *sl, *next;
    int rc, n;

    if (a->rs == NULL || hz_rs_broken(a->rs) || a->need_recover || !q->running)
        return hz_err_set(err, HZ_EUNAVAIL, "redis: not connected or recovery pending");
    pthread_mutex_lock(&q->mu);
    if (q->count == 0 && !q->err) {
        /* Wait for a batch: up to block_ms, or (block_ms < 0) until the
         * reader has looked once more and found nothing new (within 10 s:
         * more than a batch can wait, batch_wait_ms <= 5 s). */
        struct timespec dl;
        uint64_t e0 = q->empty_reads;
        long ms = block_ms >= 0 ? block_ms : 10000;
        (void)clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_sec += ms / 1000;
        dl.tv_nsec += (ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        while (q->count == 0 && !q->err && (block_ms >= 0 || q->empty_reads == e0))
            if (pthread_cond_timedwait(&q->cv_data, &q->mu, &dl) != 0)
                break;
    }
    if (q->err) {
        rc = q->err;
        if (err != NULL)
            *err = q->errmsg;
        pthread_mutex_unlock(&q->mu);
        a->need_recover = 1;
        return rc < 0 ? rc : HZ_EUNAVAIL;
    }
    if (q->count == 0) {
        pthread_mutex_unlock(&q->mu);
        /* Idle: the last commit, then step 6 (group position, trim). */
        if ((rc = agg_commit_wait(a, NULL, err)) != 0)
            return rc;
        if ((rc = agg_step6_now(a, err)) != 0)
            a->need_recover = 1;
        return rc;
    }
    sl = &q->slots[q->head];
    /* The reader's next batch, when it is ready: its states are read
     * ahead (the reader does not touch a slot it has handed over). */
    next = q->count >= 2 ? &q->slots[(q->head + 1) % AGG_QDEPTH] : NULL;
    pthread_mutex_unlock(&q->mu);

    n = sl->ne;
    rc = agg_batch(a, sl->ids, sl->ne, sl->n, sl->items, next, err);
    sl->n = sl->ne = 0;
    pthread_mutex_lock(&q->mu);
    q->head = (q->head + 1) % AGG_QDEPTH;
    q->count--;
    pthread_cond_broadcast(&q->cv_space);
    pthread_mutex_unlock(&q->mu);
    return rc != 0 ? rc : n;
}

int
hz_agg_drain(hz_agg *a, struct hz_err *err)
{
    int rc;

    while ((rc = hz_agg_step(a, -1, err)) > 0)
        ;
    return rc;
}

int
hz_agg_reconnect(hz_agg *a, struct hz_err *err)
{
    return agg_connect(a, 1, err);
}

volatile sig_atomic_t hz_agg_compact_requested;

int
hz_agg_retain(hz_agg *a, int64_t now_s, struct hz_err *err)
{
    int32_t today = (int32_t)(now_s / 86400), cutoff, done = 0;
    hz_rtxn *t;
    int rc;

    if (today == a->retain_checked)
        return 0;
    /* The store has one writer at a time. */
    if ((rc = agg_commit_wait(a, NULL, err)) != 0)
        return rc;
    cutoff = today - (int32_t)a->cfg->retention_days;
    if ((rc = hz_store_rbegin(a->store, &t, err)) != 0)
        return rc;
    rc = hz_store_retained(t, &done);
    hz_store_rend(t);
    a->retain_checked = today;
    if (rc == 0 && done >= cutoff)
        return 0;
    if ((rc = hz_store_retain(a->store, cutoff, err)) != 0)
        return rc;
    a->stats.retained++;
    hz_log_info("retention: deleted days before %d days ago and compacted",
                (int)a->cfg->retention_days);
    return 1;
}

int
hz_agg_run(hz_agg *a, volatile sig_atomic_t *stop, struct hz_err *err)
{
    long pause_ms = 100;
    int down = 0, rc;

    while (!*stop) {
        if (hz_agg_compact_requested) {
            hz_agg_compact_requested = 0;
            a->retain_checked = -1;
            if ((rc = agg_commit_wait(a, NULL, err)) != 0)
                return rc;
            if ((rc = hz_store_retain(a->store,
                                      (int32_t)(agg_now_ms() / 86400000ULL) -
                                          (int32_t)a->cfg->retention_days,
                                      err)) != 0)
                return rc;
            a->stats.retained++;
            hz_log_info("retention: compacted on request");
        }
        if ((rc = hz_agg_retain(a, (int64_t)(agg_now_ms() / 1000), err)) < 0)
            return rc;
        if (!down) {
            rc = hz_agg_step(a, 100, err);
            if (rc >= 0)
                continue;
            if (rc != HZ_EUNAVAIL)
                return rc;
            if (a->rs != NULL) /* not at start: hz_agg_open said it */
                hz_log_warnx("consume: %s; retrying", err != NULL ? err->msg : "redis unavailable");
            down = 1;
        }
        struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
        (void)nanosleep(&ts, NULL);
        rc = hz_agg_reconnect(a, err);
        if (rc == 0) {
            hz_log_info("consume: redis is back");
            down = 0;
            pause_ms = 100;
        } else if (rc != HZ_EUNAVAIL) {
            return rc;
        } else if (pause_ms < 5000) {
            pause_ms *= 2;
        }
    }
    return 0;
}

const struct hz_agg_stats *
hz_agg_stats(const hz_agg *a)
{
    return &a->stats;
}

hz_store *
hz_agg_store(hz_agg *a)
{
    return a->store;
}
