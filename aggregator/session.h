/* SPDX-License-Identifier: MIT */
/*
 * session.h - one visitor's short-lived state, kept in Redis only (never in
 * LMDB): the current visit (start, last hit, entry and last page, the visit's
 * dimensions, pageviews, funnel progress, pages seen in the visit) and the
 * day-seen set (hashes of the (dimension, value) pairs already counted as a
 * unique visitor on the current local day).
 *
 * Redis key: "<stream>:v:<site>:<vh>" (the stream name as a namespace, so
 * two streams on one Redis never share state). The value is the compact
 * binary form below, with a TTL of max(session, rest of the local day +
 * session): long enough to continue the visit and to keep today's uniques,
 * and not a day more (DESIGN.md privacy rule 3).
 *
 * Serialized form, version 4 (varint = LEB128, 7 bits a byte, low first,
 * in its shortest form; zvarint = a signed difference, zigzagged, then a
 * varint; times are differences modulo 2^64):
 *   u8 version 4 | varint start_ms | zvarint last_ms - start_ms,
 *   last_pv_ms - start_ms | varint start_day | zvarint last_pv_day -
 *   start_day, seen_day - start_day, last_hour - 24 * start_day | varint
 *   pageviews | u8 flags (1 = last pageview was the pixel, 2 = an
 *   interactive custom event ended the visit's bounce, 4 = last_page is
 *   entry and is not written) | u8 nfunnels, then (u8 step, zvarint ms -
 *   start_ms) each | u8 nseen, u8 ring, u32 hash each (little-endian) |
 *   u8 nvpages, u8 ring, then each visit hash as the u8 index of its first
 *   place in the seen set, or 0xff and the u32 hash when the set lacks it |
 *   strings as u8 length + bytes: entry, last_page (unless flag 4), source,
 *   utm_medium, utm_campaign, region, then browser, os, device each as one
 *   byte 0x80 + an index into session.c's table of the collector's family
 *   names or as a string (a name the table lacks), then utm_content,
 *   utm_term, referrer, browser_version, os_version (majors only).
 * The form is canonical (one per state; every other is refused): a real
 * state is about 140 bytes where version 3 took about 220.
 * Versions 1 to 3 still decode (a state is rewritten as version 4 the next
 * time its visitor is folded): all integers little-endian and fixed-width,
 *   u8 version | u64 start_ms last_ms last_pv_ms | i32 start_day last_pv_day
 *   seen_day last_hour | u32 pageviews | u8 flags (1, 2 as above) | u8
 *   nfunnels, then (u8 step, u64 ms) each | u8 nseen, u8 ring, u32 hash each
 *   | u8 nvpages, u8 ring, u32 hash each | 9 strings as u16 length + bytes:
 *   entry, last_page, source, utm_medium, utm_campaign, region, browser,
 *   os, device; then (version 2) utm_content, utm_term, referrer and
 *   (version 3) browser_version, os_version; absent ones decode as "".
 * hz_session_decode
 * validates all of it: Redis is input too.
 */
#ifndef HZ_AGGREGATOR_SESSION_H
#define HZ_AGGREGATOR_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "common/record.h"
#include "common/store.h"

#define HZ_SEEN_MAX        96 /* (dim, value) pairs counted today, ring */
#define HZ_VPAGES_MAX      32 /* pages/events seen in this visit, ring */
#define HZ_SESSION_SER_MAX 3072

struct hz_session {
    uint64_t start_ms;   /* visit start; 0 = no visit yet */
    uint64_t last_ms;    /* last hit of the visit (pageview, event, engagement) */
    uint64_t hit_ms;     /* last hit of any kind folded in this run (not stored) */
    uint64_t last_pv_ms; /* last pageview */
    int32_t start_day;   /* local day of the visit's start */
    int32_t last_pv_day; /* local day of the last pageview */
    int32_t seen_day;    /* local day the seen set belongs to */
    int32_t last_hour;   /* last local hour the visitor was counted in */
    uint32_t pageviews;  /* in this visit */
    int last_pixel;      /* the last pageview came from the pixel */
    int engaged;         /* an interactive custom event made the visit a non-bounce */
    int nfunnels;
    uint8_t fstep[HZ_FUNNELS_MAX];  /* steps reached in this visit */
    uint64_t ftime[HZ_FUNNELS_MAX]; /* when the last one was reached */
    int nseen, seen_ring;
    uint32_t seen[HZ_SEEN_MAX];
    int nvpages, vpages_ring;
    uint32_t vpages[HZ_VPAGES_MAX];
    char entry[HZ_PAGE_MAX];
    char last_page[HZ_PAGE_MAX];
    char source[HZ_VALUE_MAX];
    char utm_medium[HZ_VALUE_MAX];
    char utm_campaign[HZ_VALUE_MAX];
    char region[HZ_REGION_MAX];
    char browser[HZ_FAMILY_MAX];
    char os[HZ_FAMILY_MAX];
    char device[HZ_FAMILY_MAX];
    char utm_content[HZ_VALUE_MAX];
    char utm_term[HZ_VALUE_MAX];
    char referrer[HZ_HOST_MAX];
    char browser_version[HZ_MAJOR_MAX]; /* major only; "" unknown */
    char os_version[HZ_MAJOR_MAX];
    /* Scratch, never serialized: visit-level deltas (pageviews after the
     * first, nonbounce, duration_ms) not yet added to the visit's rows.
     * hz_fold_flush adds them; consume.c flushes every touched state before
     * its batch commits, so nothing pending outlives a batch. */
    struct hz_counts pend;
};

/* Writes s into out (HZ_SESSION_SER_MAX bytes); returns the length. */
size_t hz_session_encode(const struct hz_session *s, unsigned char *out);
/* Decodes and validates; 0 or HZ_EINVAL (*s is then unspecified). */
int hz_session_decode(const unsigned char *buf, size_t len, struct hz_session *s);

/* The Redis key of (site, vh) under stream, into out (size cap). Returns
 * the length, or 0 when it does not fit. */
size_t hz_session_key(char *out, size_t cap, const char *stream, const char *site, const char *vh);

/* A 32-bit hash of (dim, value) for the seen sets; stable across runs
 * (states outlive the process), so a fixed key. */
uint32_t hz_session_hash(int dim, const char *value, size_t len);
/* Set operations on the seen ring (today's uniques) and the visit ring:
 * returns 1 if h was already there, else adds it (evicting the oldest
 * when full) and returns 0. */
int hz_session_seen(struct hz_session *s, uint32_t h);
int hz_session_vseen(struct hz_session *s, uint32_t h);
/* A hit's marks for (dim, value), the hash computed once: *visitor = 1 the
 * first time today (today: the seen set's own day; a late hit counts none),
 * *visit = 1 the first time in the visit (in_visit: the hit belongs to the
 * current visit). Left untouched when not asked for; either may be NULL. */
void hz_session_mark(struct hz_session *s, int today, int in_visit, int dim, const char *value,
                     size_t len, uint64_t *visitor, uint64_t *visit);

#endif
