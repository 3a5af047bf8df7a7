/* SPDX-License-Identifier: MIT */
/*
 * kmap.h - a hash map from byte strings to fixed-size values, for batch
 * folding (the store's deltas, the aggregator's session cache) and for
 * summing rows on the read side.
 *
 * Keys are often attacker-controlled (page paths, event names), so the hash
 * is SipHash-1-3 keyed per map with random bytes: a crafted set of paths
 * cannot turn a batch into a quadratic probe sequence. Values are zeroed on
 * creation (but by hz_kmap_put_raw), 8-byte aligned, and never move while the entry lives (entries
 * sit in a bump arena; the table holds pointers), so callers may keep a
 * value pointer until the next hz_kmap_clear or hz_kmap_free. Not
 * thread-safe for writes: one map belongs to one thread at a time; reads
 * (find, at, count) from several threads are safe while nobody writes.
 */
#ifndef HZ_COMMON_KMAP_H
#define HZ_COMMON_KMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct hz_kmap hz_kmap;

/* A new empty map whose values are vsize bytes. Aborts on out-of-memory
 * (hz_xmalloc): maps are bounded by the batch size of their caller. */
hz_kmap *hz_kmap_new(size_t vsize);
/* The same, hashed with key (16 bytes, random per owner) instead of fresh
 * random bytes: maps made with one key give equal hz_kmap_hash values, so
 * a key hashed once can be looked up in each of them (*_h below). */
hz_kmap *hz_kmap_new_keyed(size_t vsize, const unsigned char key[16]);
/* NULL is a no-op. */
void hz_kmap_free(hz_kmap *m);
/* Drops every entry; keeps the table's capacity and the entries' memory
 * for reuse (a map holds on to the most memory it ever used until freed). */
void hz_kmap_clear(hz_kmap *m);
size_t hz_kmap_count(const hz_kmap *m);

/* The value for (key, klen), or NULL when absent. */
void *hz_kmap_find(const hz_kmap *m, const void *key, size_t klen);
/* The value for (key, klen), created zeroed when absent; *created (may be
 * NULL) says which. */
void *hz_kmap_put(hz_kmap *m, const void *key, size_t klen, int *created);
/* hz_kmap_put_h without zeroing a created value (the caller initialises
 * what it reads: for big values); *stored (may be NULL) is the map's copy
 * of the key, valid as the value is. */
void *hz_kmap_put_raw(hz_kmap *m, uint64_t h, const void *key, size_t klen, int *created,
                      const void **stored);
/* The map's copy of the key of val, a value it returned for a key of klen
 * bytes (valid as the value is). */
const void *hz_kmap_key_of(const hz_kmap *m, const void *val, size_t klen);
/* A fast unkeyed hash, for memos in front of a map or a slow function: a
 * direct-mapped slot checked against the key it holds, so that crafted keys
 * only cause misses. Never for a table's own probing (see above). */
uint64_t hz_quick_hash(uint64_t seed, const void *p, size_t len);
/* The same with the key's hash computed once (hz_kmap_hash of this map),
 * for a lookup that may be followed by an insert of the same key. */
uint64_t hz_kmap_hash(const hz_kmap *m, const void *key, size_t klen);
void *hz_kmap_find_h(const hz_kmap *m, uint64_t h, const void *key, size_t klen);
void *hz_kmap_put_h(hz_kmap *m, uint64_t h, const void *key, size_t klen, int *created);

/* Removes (key, klen) from lookups; its memory is reclaimed at the next
 * clear. Returns 1 if it was present. */
int hz_kmap_del(hz_kmap *m, const void *key, size_t klen);

/* Entry i (0 <= i < hz_kmap_count) in insertion order, or in key order
 * after hz_kmap_sort. *key points into the map (valid as the value is). */
void *hz_kmap_at(const hz_kmap *m, size_t i, const void **key, size_t *klen);
/* Orders the entries by key bytes (memcmp, a shorter prefix first), which
 * is LMDB's default key order: writes in that order touch each B-tree page
 * once. Lookups keep working, and only the order (hz_kmap_at) changes: finds
 * in another thread may run while one thread sorts. */
void hz_kmap_sort(hz_kmap *m);

#endif
