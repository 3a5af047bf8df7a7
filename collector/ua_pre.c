/* SPDX-License-Identifier: MIT */
/*
 * ua_pre.c - the prefilter (see ua_pre.h).
 *
 * The literals are sorted; the ones that start with bytes c0 c1 are
 * lits[first[c0 << 8 | c1] .. first[(c0 << 8 | c1) + 1]). At each position
 * of the lowercased UA, a binary search in that range finds the greatest
 * literal L not after the rest of the UA, s. Every literal that is a
 * prefix of s sorts between it and s, so it is a prefix of L too, no
 * longer than L's common prefix with s: those are found by following
 * parent links (a literal's longest proper prefix among the literals)
 * from L. A UA of n bytes costs n lookups of a 64K-entry table and a few
 * comparisons where one of its byte pairs starts a literal.
 */
#include "collector/ua_pre.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "collector/ua_db.h"

static struct {
    unsigned *first;  /* 65537: literals by their first two bytes */
    size_t *len;      /* literal k's length */
    long *parent;     /* literal k's longest proper prefix, or -1 */
    uint64_t *always; /* the slots that are always candidates */
    size_t words;
} pre;

static pthread_once_t pre_once = PTHREAD_ONCE_INIT;

static void
pre_build(void)
{
    size_t n = hz_pre_nlits, top = 0;
    long *stack;

    pre.words = (hz_pre_nslots + 63) / 64;
    pre.first = calloc(65537, sizeof *pre.first);
    pre.len = calloc(n + 1, sizeof *pre.len);
    pre.parent = calloc(n + 1, sizeof *pre.parent);
    pre.always = calloc(pre.words + 1, sizeof *pre.always);
    stack = calloc(n + 1, sizeof *stack);
    if (pre.first == NULL || pre.len == NULL || pre.parent == NULL || pre.always == NULL ||
        stack == NULL)
        abort(); /* at start-up */
    for (size_t k = 0; k < n; k++) {
        const unsigned char *l = (const unsigned char *)hz_pre_lits[k];

        pre.len[k] = strlen(hz_pre_lits[k]);
        if (pre.len[k] < 2 || (k > 0 && strcmp(hz_pre_lits[k - 1], hz_pre_lits[k]) >= 0))
            abort(); /* gen.mjs writes them sorted, two bytes or more */
        pre.first[(l[0] << 8 | l[1]) + 1]++;
        /* The stack holds the literals that are prefixes of the last. */
        while (top > 0 && !(pre.len[stack[top - 1]] < pre.len[k] &&
                            memcmp(hz_pre_lits[stack[top - 1]], l, pre.len[stack[top - 1]]) == 0))
            top--;
        pre.parent[k] = top > 0 ? stack[top - 1] : -1;
        stack[top++] = (long)k;
    }
    free(stack);
    for (size_t c = 0; c < 65536; c++)
        pre.first[c + 1] += pre.first[c];
    for (size_t i = 0; i < hz_pre_nalways; i++)
        pre.always[hz_pre_always[i] / 64] |= (uint64_t)1 << (hz_pre_always[i] % 64);
}

void
hz_pre_init(void)
{
    (void)pthread_once(&pre_once, pre_build);
}

/* Marks the slots of literal k. */
static void
pre_post(uint64_t *w, size_t k)
{
    for (unsigned j = hz_pre_post_first[k]; j < hz_pre_post_first[k + 1]; j++)
        w[hz_pre_post[j] / 64] |= (uint64_t)1 << (hz_pre_post[j] % 64);
}

int
hz_pre_scan(const unsigned char *u, size_t n, struct hz_pre *p)
{
    unsigned char low[512];

    hz_pre_init();
    p->w = malloc((pre.words + 1) * sizeof *p->w);
    if (p->w == NULL)
        return -1;
    memcpy(p->w, pre.always, (pre.words + 1) * sizeof *p->w);
    if (n > sizeof low)
        n = sizeof low; /* the classifier reads no more (HZ_UA_MAX) */
    for (size_t i = 0; i < n; i++)
        low[i] = u[i] >= 'A' && u[i] <= 'Z' ? (unsigned char)(u[i] + 32) : u[i];
    for (size_t i = 0; i + 2 <= n; i++) {
        const unsigned char *s = low + i;
        size_t m = n - i, key = (size_t)s[0] << 8 | s[1];
        size_t lo = pre.first[key], hi = pre.first[key + 1], lcp = 0;
        long k;

        if (lo == hi)
            continue;
        /* The greatest literal in [lo, hi) that sorts at or before s. */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2, l = pre.len[mid];
            int c = memcmp(hz_pre_lits[mid], s, l < m ? l : m);

            if (c < 0 || (c == 0 && l <= m))
                lo = mid;
            else
                hi = mid;
        }
        {
            size_t l = pre.len[lo];
            int c = memcmp(hz_pre_lits[lo], s, l < m ? l : m);
            if (c > 0 || (c == 0 && l > m))
                continue; /* every literal in the range sorts after s */
        }
        while (lcp < pre.len[lo] && lcp < m && (unsigned char)hz_pre_lits[lo][lcp] == s[lcp])
            lcp++;
        for (k = (long)lo; k >= 0; k = pre.parent[k])
            if (pre.len[k] <= lcp)
                pre_post(p->w, (size_t)k);
    }
    explicit_bzero(low, n); /* the UA's lowercased copy (ua.c: never kept) */
    return 0;
}

void
hz_pre_free(struct hz_pre *p)
{
    free(p->w);
    p->w = NULL;
}

size_t
hz_pre_next(const struct hz_pre *p, size_t s, size_t end)
{
    if (p == NULL || p->w == NULL || s >= end)
        return s < end ? s : end;
    for (size_t w = s / 64; w * 64 < end; w++) {
        uint64_t b = p->w[w];

        if (w == s / 64)
            b &= ~(uint64_t)0 << (s % 64);
        if (b != 0) {
            size_t at = w * 64 + (size_t)__builtin_ctzll(b);
            return at < end ? at : end;
        }
    }
    return end;
}
