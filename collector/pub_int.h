/* SPDX-License-Identifier: MIT */
/*
 * pub_int.h - the publisher's insides, shared by its files (not for the
 * rest of the collector; callers use publish.h):
 *
 *   publish.c      the handle, the connection life cycle, the hot path
 *                  (async XADD), the tick, open/close
 *   pub_replay.c   the spool's replay (async, pipelined) and the duplicate
 *                  search (async XRANGE paging)
 *   pub_idlog.c    the search's second half: the applied hit id log
 *   pub_salt.c     the daily salt: fetched at start (blocking, common/rstream,
 *                  before the loop runs), then refreshed asynchronously
 *   pub_drops.c    per-site summaries of dropped hits
 *
 * Everything runs on the owning thread's event loop; nothing here blocks
 * it once hz_pub_open has returned.
 *
 * Exactly once. A command that was written to Redis and got no answer may
 * still be executed: a Redis that is paused (or slow) reads the socket
 * later, even after we gave up on it. So a connection is never closed by
 * us while it has commands in flight: when Redis is slower than
 * redis_timeout_ms the connection is *retired* (its waiting hits are
 * spooled as ambiguous and answered; new hits go to the spool) and kept
 * open until every command on it has been answered or the connection
 * breaks (then Redis cannot execute any of them any more). Ambiguous
 * spool entries are replayed only once no retired connection is left,
 * after a duplicate search of the stream: its result then is final.
 *
 * Where the search starts. Each connection keeps the stream ID of the last
 * XADD Redis acknowledged on it. Redis runs one connection's commands in
 * order and a stream's IDs only grow, so a command sent on it after that
 * one, if it ever runs, gets a greater ID: when entries become ambiguous,
 * that ID is their floor, and the search reads only what follows it
 * (pub_replay.c says when the floor is not known).
 */
#ifndef HZ_COLLECTOR_PUB_INT_H
#define HZ_COLLECTOR_PUB_INT_H

#include <stdint.h>
#include <sys/queue.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "collector/publish.h"
#include "collector/spool.h"

#define PUB_INFLIGHT_MAX   8192 /* beyond this, spool rather than queue */
#define PUB_TICK_MS        100
#define PUB_REPLAY_WINDOW  512  /* replayed XADDs in flight */
#define PUB_REPLAY_SLICE   64   /* spool entries sent per loop turn by an idle thread */
#define PUB_REPLAY_RATE    5000 /* entries/s replayed beyond the new hits by a busy thread */
#define PUB_REPLAY_PACE_MS 5    /* a busy thread's replay runs this often */
#define PUB_REPLAY_IDLE_MS 50   /* a thread that spooled no hit for this long is idle */
#define PUB_SCAN_PAGE      256  /* stream entries per XRANGE of the duplicate search */
#define PUB_DROP_FLUSH_MS  5000
/* A connection's XADDs carry MAXLEN ~ ([redis] maxlen) on its first and
 * then on every PUB_TRIM_EVERY-th: the cap is approximate anyway, and
 * Redis spends about a fifth of an XADD on the clause (its arguments and
 * a seek to the stream's first node), which the aggregator's own trimming
 * of applied entries makes idle while it keeps up. Between two trims a
 * connection adds at most PUB_TRIM_EVERY - 1 XADDs of HZ_RECORD_BATCH_MAX
 * hits (PUB_TRIM_EVERY - 1 of HZ_RECORD_BATCH_BYTES) past the cap. */
#define PUB_TRIM_EVERY    16
#define PUB_DUP_WINDOW_MS 120000 /* no floor: the search starts this long before the hits */
#define PUB_IDLOG_PAGE    65536  /* bytes (8,192 hit ids) per GETRANGE of the id log */
/* A retired connection silent this long is closed anyway. Below the
 * aggregator's default stream_keep_seconds (120): an XADD that ran before
 * the silence is still in the stream, or its hit id in the applied id log,
 * when the duplicate search runs. */
#define PUB_RETIRED_MAX_MS 60000

enum pub_kind { PUB_HIT, PUB_REPLAY, PUB_SCAN, PUB_SALT, PUB_DROPS, PUB_IDLOG };

/* The floor of the spool's ambiguous entries (pub_int.h, top). */
enum pub_floor {
    PUB_FLOOR_NONE,   /* no ambiguous entry in the spool */
    PUB_FLOOR_ID,     /* each one's XADD, if it ran, has an ID above floor_ms-floor_seq */
    PUB_FLOOR_UNKNOWN /* some have none: the search uses PUB_DUP_WINDOW_MS */
};

struct pub_conn;

/* One command with a reply callback (every command has one, so that a
 * connection knows when nothing of ours is left in it). */
struct pub_cmd {
    TAILQ_ENTRY(pub_cmd) link; /* p->inflight, for PUB_HIT and PUB_REPLAY */
    hz_pub *p;
    struct pub_conn *conn;
    enum pub_kind kind;
    int orphan;     /* its connection was retired: the reply only counts down */
    hz_pub_done cb; /* PUB_HIT: the caller's, NULL once called */
    void *arg;
    uint64_t sent_ms;
    uint64_t off, next; /* PUB_REPLAY: the spool entry */
    int32_t day;        /* PUB_SALT */
    /* PUB_HIT: the hits of one XADD (a batch, common/record.h) are a
     * chain from the first, whose reply answers them all. */
    struct pub_cmd *more; /* the next hit of its XADD, or NULL */
    size_t plen;          /* PUB_HIT, PUB_REPLAY: the record, compact form */
    unsigned char packed[];
};
TAILQ_HEAD(pub_cmdq, pub_cmd);

struct pub_conn {
    LIST_ENTRY(pub_conn) link; /* p->retired */
    hz_pub *p;
    redisAsyncContext *ac;
    int pending; /* commands without a reply yet */
    int retired; /* no longer used for new commands */
    int closing; /* redisAsyncDisconnect called */
    uint64_t retired_ms;
    /* The silence timer (pub_silent): an answer came since the last
     * tick; when a tick first saw it owing answers (pending) with none
     * come since, 0 while it owes none. */
    int answered;
    uint64_t owed_ms;
    /* The ID of the last XADD acknowledged on it (not terminated; 0 long
     * before the first). */
    unsigned char acked_len;
    char acked[47];
    unsigned xadds; /* XADDs sent on it (PUB_TRIM_EVERY) */
};
LIST_HEAD(pub_connlist, pub_conn);

/* A set of 64-bit hit ids (the duplicate search): open addressing, in
 * PUB_IDSET_PARTS tables that grow one at a time. */
#define PUB_IDSET_BITS  6
#define PUB_IDSET_PARTS (1 << PUB_IDSET_BITS)
struct pub_idpart {
    uint64_t *slot;
    size_t cap, n;
};
struct pub_idset {
    struct pub_idpart part[PUB_IDSET_PARTS];
};

struct hz_pub {
    struct event_base *base;
    const struct hz_config *cfg;
    int thread;
    /* connection (the startup/connect path is in publish.c) */
    struct pub_conn *cur; /* NULL while disconnected */
    int connected, connecting;
    uint64_t next_connect_ms;
    long backoff_ms;
    struct pub_connlist retired;
    int nretired;
    /* hot path and replay, in the order sent on cur */
    struct pub_cmdq inflight;
    int ninflight;
    /* spool and replay */
    hz_spool *spool;
    int64_t spool_bytes_seen, spool_entries_seen;
    uint64_t cursor; /* next spool entry to send */
    int nreplay;     /* replayed XADDs in flight */
    int dup_ready;   /* the duplicate set covers the spool's ambiguous entries */
    int scanning;
    /* Replay pacing (pub_replay.c): a busy thread may send one entry per
     * hit spooled while connected plus PUB_REPLAY_RATE a second. */
    double tokens;            /* entries the replay may send now */
    uint64_t tokens_us;       /* when tokens was last refilled */
    uint64_t last_spooled_us; /* the last hit spooled (pub_mono_us) */
    struct event *replay_ev;  /* the next slice (pub_replay_kick) */
    struct pub_idset dups;
    enum pub_floor floor;
    uint64_t floor_ms, floor_seq;
    uint64_t amb_end; /* the spool offset just past its last ambiguous entry */
    char scan_from[48];
    char scan_end[48]; /* the stream's last ID when the search began */
    /* the search of the applied id log (pub_idlog.c) */
    uint64_t idlog_from_ms;            /* the search's start, as a stream ID's ms */
    uint64_t idlog_first;              /* the first bucket read (after the cap) */
    uint64_t idlog_bucket, idlog_last; /* the bucket being read; the last one surely read */
    uint64_t idlog_off;                /* bytes of it read */
    /* salt */
    struct hz_salts salts;
    int salt_provisional; /* made locally while Redis was down */
    int auth_warned;      /* a refused AUTH was logged */
    int32_t next_day;     /* the prefetched salt of tomorrow, 0 if none */
    unsigned char next_salt[HZ_SIPHASH_KEY];
    int salt_pending;
    uint64_t last_salt_ms;
    /* drops: [site index or nsites for "*"][reason] */
    uint64_t drops[HZ_SITES_MAX + 1][HZ_DROP_COUNT];
    uint64_t last_drop_flush;
    struct event *tick;
    uint64_t last_sync;
    int closing;
    char *xprefix; /* the XADD up to the record's value, formatted once: with MAXLEN ~ */
    size_t xprefix_len;
    char *xlean; /* the same without MAXLEN (PUB_TRIM_EVERY): never longer */
    size_t xlean_len;
    char *xbuf; /* one XADD command: a prefix, "$len\r\n", the record or batch, "\r\n" */
    /* The XADDs of one loop turn are written at its end (publish.c). */
    struct event *flush_ev;
    int flush_armed;
    /* Hits of this loop turn not handed to hiredis yet: at the turn's end
     * they go out as batches, one XADD each (pub_batch_flush). */
    struct pub_cmdq pendq;
    int npend;
};

uint64_t pub_now_ms(void);
uint64_t pub_mono_us(void);
/* Sends a command on the current connection with c as its reply's
 * privdata. 0, or -1 (c is not sent; the caller still owns it). */
int pub_cmd_send(hz_pub *p, struct pub_cmd *c, int argc, const char **argv, const size_t *lens);
/* The same for the XADD of c's record alone (PUB_REPLAY, PUB_DROPS). Both
 * first send the hits waiting for the end of the loop turn, so commands
 * keep their order. */
int pub_xadd_send(hz_pub *p, struct pub_cmd *c);
struct pub_cmd *pub_cmd_new(hz_pub *p, enum pub_kind kind);
/* A command carrying r in the compact form (PUB_HIT, PUB_REPLAY). */
struct pub_cmd *pub_cmd_new_rec(hz_pub *p, enum pub_kind kind, const struct hz_record *r);
void pub_cmd_free(struct pub_cmd *c);
/* Retires the current connection (see above). */
void pub_retire(hz_pub *p, const char *why);
/* Puts r in the spool; 0 or HZ_EFULL. */
int pub_spool(hz_pub *p, const struct hz_record *r, int ambiguous);
/* Puts the record of c (PUB_HIT) in the spool; 0 or HZ_EFULL. */
int pub_spool_cmd(hz_pub *p, const struct pub_cmd *c, int ambiguous);
void pub_spool_gauge(hz_pub *p);

/* pub_replay.c */
/* Sends spooled entries, a bounded number per call (pub_replay_kick
 * continues on the next turn of the loop). */
void pub_replay_pump(hz_pub *p);
void pub_replay_kick(hz_pub *p);
/* A hit was spooled: the replay's pace (pub_replay.c). */
void pub_replay_spooled(hz_pub *p);
void pub_replay_reply(hz_pub *p, struct pub_cmd *c, redisReply *r);
void pub_scan_reply(hz_pub *p, struct pub_cmd *c, redisReply *r);
/* conn, with replayed XADDs on it, went away (or was retired). */
void pub_replay_lost(hz_pub *p, const struct pub_conn *conn);
/* Entries sent on conn are about to become ambiguous: the floor takes in
 * conn's last acknowledged ID (the lower floor is kept; none known: the
 * search falls back to the time window). */
void pub_floor_note(hz_pub *p, const struct pub_conn *conn);
/* Once the spool's head is past its last ambiguous entry, forgets the floor. */
void pub_floor_settle(hz_pub *p);
void pub_idset_free(struct pub_idset *s);
/* Adds a hit id (never 0) to s. */
void pub_idset_add(struct pub_idset *s, uint64_t id);

/* pub_idlog.c */
/* The stream's part of the duplicate search is done: reads the id log's
 * buckets from idlog_from_ms on into p->dups, then ends the search
 * (dup_ready) and pumps the replay. */
void pub_idlog_start(hz_pub *p);
/* The buckets a search starting at from_ms reads: from *first (capped to
 * HZ_IDLOG_SEARCH_BUCKETS before *last) to *last, the one after top_ms
 * (now, or the stream's last ID if later), surely. */
void pub_idlog_span(uint64_t from_ms, uint64_t top_ms, uint64_t *first, uint64_t *last);
/* Whether the search goes on to the bucket after bucket: up to last
 * surely, past it while buckets are not empty, at most 4 x
 * HZ_IDLOG_SEARCH_BUCKETS from first. */
int pub_idlog_more(uint64_t first, uint64_t bucket, uint64_t last, int nonempty);
void pub_idlog_reply(hz_pub *p, struct pub_cmd *c, redisReply *r);

/* pub_salt.c */
int pub_salt_open(hz_pub *p, long retry_ms, struct hz_err *err);
void pub_salt_tick(hz_pub *p, uint64_t now);
void pub_salt_reply(hz_pub *p, struct pub_cmd *c, redisReply *r);

/* pub_drops.c */
void pub_drop_flush(hz_pub *p);

#endif
