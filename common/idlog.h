/* SPDX-License-Identifier: MIT */
/*
 * idlog.h - the log of applied hit ids: what lets the aggregator trim
 * every entry it has applied from the stream while a collector that lost
 * Redis with XADDs in flight can still tell whether they reached it
 * (collector/pub_replay.c, aggregator/consume.c).
 *
 * The log is a few Redis strings, one per HZ_IDLOG_BUCKET_MS of stream ID
 * time, "<stream>:applied:<entry ID's ms / HZ_IDLOG_BUCKET_MS>", each the
 * 8-byte hit ids (record field "u", 16 hex digits, as a big-endian
 * integer) of the entries of that bucket, appended back to back by the
 * aggregator in the same MULTI/EXEC that writes a batch's visitor states,
 * before the batch's LMDB commit and so before the stream is trimmed past
 * them. An id may be there twice (a batch applied again after a crash).
 * Each string expires stream_keep_seconds + one bucket after its last
 * append. When a batch's ids reach a later bucket, the earlier ones are
 * complete: the same MULTI/EXEC rewrites each as an exact copy of itself
 * (COPY, RENAME: same bytes, same TTL), dropping the room APPEND's
 * doubling left in it. Nothing else of a hit is kept: an id is random per hit and
 * says nothing about the visitor (DESIGN.md's privacy model).
 */
#ifndef HZ_COMMON_IDLOG_H
#define HZ_COMMON_IDLOG_H

#include <stddef.h>
#include <stdint.h>

#define HZ_IDLOG_BUCKET_MS 10000ULL
#define HZ_IDLOG_ID_LEN    8
#define HZ_IDLOG_KEY_MAX   96 /* a stream name (< 64, common/cfg.h) + ":applied:" + 20 digits */
/* The oldest bucket a search reads, counted back from now: ids live at most
 * stream_keep_seconds (<= 3600) + one bucket after their last append. A
 * bucket is named by its entries' stream IDs, though, and an entry is
 * appended when the aggregator applies it: an aggregator more than about
 * an hour behind logs ids into buckets older than this, which a search
 * then misses (the stream no longer holding them either needs the
 * aggregator to have applied them, so both at once is a search run more
 * than an hour after an XADD that an hour-late aggregator applied). */
#define HZ_IDLOG_SEARCH_BUCKETS 400

/* The bucket of a stream ID's ms. */
static inline uint64_t
hz_idlog_bucket(uint64_t ms)
{
    return ms / HZ_IDLOG_BUCKET_MS;
}

/* "<stream>:applied:<bucket>" into out (cap bytes); its length, or 0 if it
 * does not fit. */
size_t hz_idlog_key(char *out, size_t cap, const char *stream, uint64_t bucket);

/* A hit id (16 hex digits, either case) as the log's 8 bytes. 0, or -1 when
 * hex is not one (nothing is written). */
int hz_idlog_pack(const char *hex, size_t len, unsigned char out[HZ_IDLOG_ID_LEN]);

/* The id at p (8 bytes of the log) as the integer its hex digits spell. */
uint64_t hz_idlog_get(const unsigned char *p);

#endif
