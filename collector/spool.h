/* SPDX-License-Identifier: MIT */
/*
 * spool.h - a bounded on-disk FIFO of stream records, used while Redis is
 * unreachable so that no accepted hit is lost; replayed in order when Redis
 * is back (DESIGN.md "Reliability").
 *
 * One spool per collector thread: "DIR/spool-N.q" holds length-prefixed
 * entries appended with write(2); "DIR/spool-N.off" holds the replay offset
 * (written with rename, so it is never torn). Entries hold what the stream
 * would hold, never an IP address or user agent. An entry is "ambiguous"
 * when its XADD may or may not have reached Redis (the connection dropped
 * with the command in flight); entries found on open are treated as
 * ambiguous too, since a crash may have come between send and pop.
 * Not thread-safe: one owner. Each spool has a thread of its own for
 * what can wait on the disk (fdatasync, the offset file, the truncation
 * of a drained file), so that the owner's event loop does not; the one
 * wait left is a push that meets a truncation under way (Redis failing
 * again just as the spool drained), which waits for its end.
 */
#ifndef HZ_COLLECTOR_SPOOL_H
#define HZ_COLLECTOR_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/record.h"

typedef struct hz_spool hz_spool;

/* Opens or creates DIR/NAME.q (creating DIR, mode 0700). max_bytes bounds
 * the unreplayed data. 0, or errno / HZ_EINVAL with err->msg. */
int hz_spool_open(hz_spool **out, const char *dir, const char *name, uint64_t max_bytes,
                  struct hz_err *err);
void hz_spool_close(hz_spool *s); /* syncs; NULL is a no-op */

/* Appends r. 0, HZ_EFULL when the bound would be passed, or an errno. */
int hz_spool_push(hz_spool *s, const struct hz_record *r, int ambiguous);

/* Reads the entry at the replay offset without consuming it. 0,
 * HZ_ENOTFOUND when empty, HZ_EINVAL for a corrupt entry (the caller
 * should hz_spool_pop it and count it). */
int hz_spool_peek(hz_spool *s, struct hz_record *r, int *ambiguous);

/* Reads the entry at *at (the replay offset when *at is before it) and
 * moves *at past it, for pipelined replay; returns as hz_spool_peek. */
int hz_spool_peek_at(hz_spool *s, uint64_t *at, struct hz_record *r, int *ambiguous);
/* The replay offset (where hz_spool_peek reads). */
uint64_t hz_spool_head(const hz_spool *s);
/* Marks every entry before offset upto as ambiguous (in memory: entries
 * found on open are ambiguous anyway), for records whose XADD was sent
 * from the spool and got no answer. */
void hz_spool_mark_ambiguous(hz_spool *s, uint64_t upto);

/* Consumes the entry at the replay offset. When the spool becomes empty
 * the file is truncated (offsets start again at 0; by the spool's thread,
 * before the next push writes). 0 or an errno. */
int hz_spool_pop(hz_spool *s);
/* The same for an entry read with hz_spool_peek_at: next is where that
 * call left *at (no read of the file). */
int hz_spool_pop_to(hz_spool *s, uint64_t next);

/* Flushes data and offset to disk (fdatasync), on the calling thread. */
int hz_spool_sync(hz_spool *s);
/* The same without waiting: the spool's thread flushes the data, then
 * saves the offset as it is now (a flush or a rename on a busy disk can
 * take long enough to stall an event loop). 0 or an errno. */
int hz_spool_sync_async(hz_spool *s);

uint64_t hz_spool_bytes(const hz_spool *s);   /* unreplayed bytes */
uint64_t hz_spool_entries(const hz_spool *s); /* unreplayed entries */

#endif
