/* SPDX-License-Identifier: MIT */
/*
 * ua_pre.h - the user agent classifier's prefilter: which of the
 * databases' rules may match a UA, found with one pass over it.
 *
 * build/gen/ua_db.c holds, for each rule, literals one of which occurs
 * (caseless) in every UA the rule matches (scripts/uadb/prefilter.mjs
 * reads them off the patterns at build time). hz_pre_scan finds which
 * literals occur in a UA and sets the bits of the rules that need them,
 * and of the rules that need none; a rule whose bit is clear cannot match
 * and is not run. The first rule of a list that matches is the same with
 * the prefilter as without: only rules that cannot match are skipped.
 *
 * Thread-safe: the index is built once (pthread_once) and only read. The
 * scan lowercases the UA into a buffer on its stack, wiped before it
 * returns; nothing of the UA is kept.
 */
#ifndef HZ_COLLECTOR_UA_PRE_H
#define HZ_COLLECTOR_UA_PRE_H

#include <stddef.h>
#include <stdint.h>

/* The candidates of one UA: bit s of w[s / 64] is rule slot s's. */
struct hz_pre {
    uint64_t *w;
};

/* Builds the index once; safe to call often. */
void hz_pre_init(void);

/* Sets p->w (malloc'ed; hz_pre_free) to the candidates of u[0 .. n).
 * Returns -1 when out of memory (p->w NULL: hz_pre_may says every rule
 * may match). */
int hz_pre_scan(const unsigned char *u, size_t n, struct hz_pre *p);
void hz_pre_free(struct hz_pre *p);

/* Whether the rule in slot s may match (a NULL p: every rule may). */
static inline int
hz_pre_may(const struct hz_pre *p, size_t s)
{
    return p == NULL || p->w == NULL || (p->w[s / 64] >> (s % 64) & 1) != 0;
}

/* The first slot in [s, end) whose rule may match, or end. */
size_t hz_pre_next(const struct hz_pre *p, size_t s, size_t end);

#endif
