/* SPDX-License-Identifier: MIT */
/*
 * publish.h - hands accepted records to the Redis stream, one publisher per
 * collector thread, on that thread's libevent loop.
 *
 * Records are sent with XADD (approximate MAXLEN cap) over hiredis's async
 * API, pipelined; the caller's callback runs once the entry is in Redis or,
 * when Redis is unreachable, slow past redis_timeout_ms, or answers with an
 * error, once it is in the thread's on-disk spool. While the spool holds
 * anything, new records are appended to it, so the stream keeps their
 * order; the spool is replayed (asynchronously) when Redis is back. A
 * record whose XADD got no answer is spooled as ambiguous; the connection
 * it was sent on is kept until Redis has answered everything sent on it
 * (or the connection broke), and only then is the stream searched for its
 * hit id, so it is added exactly once (pub_int.h).
 *
 * It also shares the daily visitor salt through Redis ("haze:salt:DATE",
 * SET NX, expiring at the end of the next UTC day; tomorrow's is fetched
 * ahead) and sends per-site summaries of dropped hits (kind "dr") every
 * few seconds, for the dashboard's filtered traffic.
 *
 * Files: publish.c, pub_replay.c, pub_salt.c, pub_drops.c (pub_int.h).
 * Nothing blocks the thread's loop after hz_pub_open. Not thread-safe: one
 * publisher per thread.
 */
#ifndef HZ_COLLECTOR_PUBLISH_H
#define HZ_COLLECTOR_PUBLISH_H

#include <event2/event.h>

#include "collector/pipeline.h"
#include "collector/visitor.h"
#include "common/cfg.h"
#include "common/err.h"
#include "common/record.h"

typedef struct hz_pub hz_pub;

/* rc is 0 when the record is in the stream or the spool, HZ_EFULL when
 * the spool is full (answer 503). */
typedef void (*hz_pub_done)(void *arg, int rc);

/* Opens the thread's spool, fetches the salts and connects, waiting up to
 * retry_ms for Redis. A Redis that is still down is no error: the
 * publisher starts with a provisional salt, spools, and connects and
 * replays when Redis appears. 0, or errno with err->msg (the spool). */
int hz_pub_open(hz_pub **out, struct event_base *base, const struct hz_config *cfg, int thread,
                long retry_ms, struct hz_err *err);
/* Waits (bounded: 2 x redis_timeout_ms + 1 s) for the answers to commands
 * in flight, spools what is left as ambiguous, syncs the spool, disconnects. */
void hz_pub_close(hz_pub *p);

/* Sends r; cb(arg, rc) is called exactly once, possibly before this
 * returns (when the record goes straight to the spool). */
void hz_pub_send(hz_pub *p, const struct hz_record *r, hz_pub_done cb, void *arg);

/* The current salts (switched by the first call after UTC midnight). */
const struct hz_salts *hz_pub_salts(hz_pub *p);

/* Counts a dropped hit for site's filtered-traffic summary (site NULL
 * when unknown). */
void hz_pub_count_drop(hz_pub *p, const struct hz_site *site, const struct hz_config *cfg,
                       enum hz_drop reason);

/* Commands in flight (for a clean shutdown). */
int hz_pub_inflight(const hz_pub *p);

#endif
