/* SPDX-License-Identifier: MIT */
/*
 * consume.h - the aggregator's loop: read the stream in batches, fold each
 * batch into LMDB exactly once, keep visitor state in Redis.
 *
 * The stream position committed in LMDB is the truth: the stream is read
 * with plain XREAD from there, so Redis keeps no per-entry state for the
 * reader (no pending-entries list, no XACK).
 *
 * Exactly once, step by step, for each batch (XREAD after the position):
 *  1. Entries whose ID is <= the position stored in LMDB were applied
 *     before a crash: they are skipped (XREAD after the position never
 *     returns them; the check stays as a guard).
 *  2. Every other entry is decoded (hz_record_each, hz_record_decode),
 *     record by record (a batch entry holds several): a malformed record,
 *     or an entry whose batch framing is damaged, is counted under its
 *     reason (site "*", dim DROP, "invalid: REASON"), never half-applied.
 *     A batch is cfg->batch records of whole entries.
 *  3. The visitor states the batch needs are read with one MGET (an
 *     in-process cache holds those already known), the batch is folded in
 *     memory (fold.h), giving new states and store deltas.
 *  4. One MULTI/EXEC writes the new states (SET ... PX ttl) and an undo
 *     record "haze:agg:undo:STREAM" (hash: state key -> previous value, ""
 *     when absent; "_pos" = position before the batch; "_to" = its last ID),
 *     and appends the batch's hit ids to the applied id log (common/idlog.h;
 *     a batch applied again after a crash logs them again, harmlessly).
 *  5. One LMDB write transaction adds the deltas and stores the batch's last
 *     ID as the position. When the aggregator is behind (the batch is full
 *     or the next one is read already), up to 8 batches form a span that
 *     shares one transaction: steps 3 and 4 run per batch, and a later
 *     batch's step 4 adds to the span's undo record ("_to", and the states
 *     no earlier batch of the span changed), so it holds the values from
 *     before the span; step 5 runs once, for the span.
 *  6. XGROUP SETID of the consumer group `group` to the position (a mirror
 *     for monitoring: XINFO GROUPS shows what is committed), XTRIM MINID
 *     just past the position (every applied entry: their ids are in the
 *     log since step 4; keep_applied_seconds may keep recent ones), DEL of
 *     the undo record; sent with the next batch's first round trip, or at
 *     once when the stream is idle or on close. What recovery reads again
 *     (after the position) is never trimmed.
 * Recovery (at start, and after any Redis error): if an undo record exists
 * and its "_to" is past the LMDB position, step 5 never happened: the
 * previous states are put back (absent ones deleted) in one MULTI/EXEC.
 * Otherwise the undo record is just deleted. The group is pointed at the
 * position (created if missing; a pending-entries list left by an older
 * version is dropped), and reading starts again right after the position.
 * So a kill -9 at any moment neither loses nor double-counts an entry. A
 * new store (no position) reads the stream from its first entry.
 *
 * One aggregator per stream: XTRIM MINID assumes nothing else still needs
 * older entries.
 *
 * Threads: a reader thread with its own connection reads the stream in
 * chunks of at most 1000 entries (so Redis, single-threaded, is never busy long
 * ahead of the main thread's MGET and EXEC) and decodes them, up to two
 * batches ahead; the main thread does everything else (states, LMDB, step
 * 6). What the reader holds is not committed, so stopping it at any point
 * loses nothing: the next reader starts at the committed position. A
 * handle is used by one thread (besides its reader).
 *
 * Overlap: Redis's and LMDB's work run while the main thread works. Step 5
 * (the LMDB write and its fdatasync) runs in a commit thread while the main
 * thread folds the next batch; the next batch's cap decisions count the
 * batch being committed as committed (hz_store_wbegin_after), so the
 * outcome does not depend on it. The next batch's EXEC waits for that
 * commit: the undo record describes one batch (or span), and may only be
 * replaced once what it describes is committed; so after a crash at most
 * one batch (or span) is uncommitted, as without the thread. The MGET of
 * the next batch (when the reader has it) is sent right after this batch's
 * EXEC, so it reads what the EXEC wrote, and is answered while this batch
 * commits; states this batch touched are in the cache already and are not
 * asked for. The EXEC is sent before the visits' pending rows are written into
 * the LMDB transaction (the states' encoding does not hold them), so Redis
 * applies it meanwhile; the commit still waits for its reply (step 4
 * before step 5). Step 6 rides along with the next batch's EXEC.
 * Commands are formatted by common/rstream.c (no sdscatfmt per argument).
 */
#ifndef HZ_AGGREGATOR_CONSUME_H
#define HZ_AGGREGATOR_CONSUME_H

#include <signal.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/err.h"
#include "common/store.h"

typedef struct hz_agg hz_agg;

struct hz_agg_stats {
    uint64_t batches;      /* LMDB transactions committed */
    uint64_t entries;      /* stream entries read (including replays) */
    uint64_t applied;      /* records folded (pageview, event, engagement, drops) */
    uint64_t skipped;      /* records of entries applied before a restart */
    uint64_t malformed;    /* invalid records or entries (counted under their reason) */
    uint64_t unknown_site; /* valid records for a site not in the config */
    uint64_t bad_state;    /* visitor states in Redis that failed to decode */
    uint64_t restored;     /* undo records applied at recovery */
    uint64_t retained;     /* retention runs */
    /* Seconds the main thread spent, for tuning: waiting for Redis
     * (replies of the state reads and writes and of the prefetched batch,
     * including their parsing), folding (decoding and counting), waiting
     * for LMDB commits (the part not overlapped with folding). */
    double t_redis, t_fold, t_commit;
};

/* Opens the store (cfg->lmdb, cfg->map_size_mb), connects to Redis,
 * creates the consumer group, and recovers (see above). A Redis that is
 * not up yet is no error: hz_agg_run connects when it appears (and
 * hz_agg_step answers HZ_EUNAVAIL until then). cfg is borrowed and must
 * outlive the handle. 0, or HZ_ESTORE with a one-line reason. */
int hz_agg_open(hz_agg **out, const struct hz_config *cfg, struct hz_err *err);
void hz_agg_close(hz_agg *a); /* NULL is a no-op */

/* Reads and folds one batch, waiting up to block_ms for entries (< 0: do
 * not wait). Returns the number of entries handled (0: none arrived), or
 * HZ_EUNAVAIL (Redis; recover with hz_agg_reconnect) or HZ_ESTORE (LMDB;
 * fatal). */
int hz_agg_step(hz_agg *a, int block_ms, struct hz_err *err);

/* Steps until the stream has nothing new. 0 or an error of hz_agg_step. */
int hz_agg_drain(hz_agg *a, struct hz_err *err);

/* Reconnects (one attempt) and recovers. 0 or HZ_EUNAVAIL/HZ_ESTORE. */
int hz_agg_reconnect(hz_agg *a, struct hz_err *err);

/* Runs retention when due: once per UTC day, deleting days older than
 * retention_days before now_s (unix seconds) and compacting. 1 if it ran,
 * 0 if not due, or HZ_ESTORE. */
int hz_agg_retain(hz_agg *a, int64_t now_s, struct hz_err *err);

/* Set (from a signal handler: haze-aggregator's SIGUSR1) to run retention
 * and compaction at the next turn of hz_agg_run even when not due. */
extern volatile sig_atomic_t hz_agg_compact_requested;

/* The main loop: steps (BLOCK 100 ms) until *stop is set, then returns 0
 * after the batch in flight; retention when due; Redis outages are retried
 * with backoff. Returns HZ_ESTORE when LMDB fails (the caller exits 1). */
int hz_agg_run(hz_agg *a, volatile sig_atomic_t *stop, struct hz_err *err);

const struct hz_agg_stats *hz_agg_stats(const hz_agg *a);
/* The store, for reads by tests and tools (the aggregator's own handle). */
hz_store *hz_agg_store(hz_agg *a);

#endif
