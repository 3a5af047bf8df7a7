/* SPDX-License-Identifier: MIT */
/*
 * kmap.c - open addressing with linear probing over entry pointers; the
 * entries live in a bump arena of 64 KiB blocks and in a vector that gives
 * insertion (or sorted) order. Deletion uses backward shifting, so there
 * are no tombstones and probe sequences stay short.
 */
#include "common/kmap.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/siphash.h"

struct kmap_ent {
    uint64_t hash;
    uint32_t klen;
    uint32_t idx; /* position in the entry vector */
    /* key bytes, then the value at an 8-byte aligned offset */
};

struct kmap_block {
    struct kmap_block *next;
    size_t used, cap;
    /* data follows, 16-byte aligned */
};

/* A slot keeps the hash beside the pointer: a probe that meets another
 * key is settled without touching that entry's memory. */
struct kmap_slot {
    uint64_t hash;
    struct kmap_ent *e;
};

struct hz_kmap {
    size_t vsize;
    unsigned char key[16];
    struct kmap_slot *slots; /* power-of-two table */
    size_t nslots;
    struct kmap_ent **ents; /* entry vector */
    size_t n, cap;
    struct kmap_block *blocks;
    struct kmap_block *spare; /* emptied by hz_kmap_clear, reused first */
};

#define KMAP_BLOCK (64 * 1024)
#define KMAP_HDR   ((sizeof(struct kmap_block) + 15) & ~(size_t)15)

static size_t
kmap_align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static unsigned char *
kmap_key(struct kmap_ent *e)
{
    return (unsigned char *)(e + 1);
}

static void *
kmap_val(const hz_kmap *m, struct kmap_ent *e)
{
    (void)m;
    return (unsigned char *)(e + 1) + kmap_align8(e->klen);
}

/* Bump allocation; a request larger than a block gets a block of its own. */
static void *
kmap_alloc(hz_kmap *m, size_t n)
{
    struct kmap_block *b = m->blocks;

    n = (n + 15) & ~(size_t)15;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > KMAP_BLOCK - KMAP_HDR ? n : KMAP_BLOCK - KMAP_HDR;
        if (m->spare != NULL && cap == KMAP_BLOCK - KMAP_HDR) {
            b = m->spare;
            m->spare = b->next;
        } else {
            b = hz_xmalloc(KMAP_HDR + cap);
            b->cap = cap;
        }
        b->used = 0;
        b->next = m->blocks;
        m->blocks = b;
    }
    void *p = (char *)b + KMAP_HDR + b->used;
    b->used += n;
    return p;
}

hz_kmap *
hz_kmap_new_keyed(size_t vsize, const unsigned char key[16])
{
    hz_kmap *m = hz_xcalloc(1, sizeof(*m));

    m->vsize = kmap_align8(vsize);
    memcpy(m->key, key, sizeof(m->key));
    m->nslots = 64;
    m->slots = hz_xcalloc(m->nslots, sizeof(*m->slots));
    return m;
}

hz_kmap *
hz_kmap_new(size_t vsize)
{
    unsigned char key[16];

    arc4random_buf(key, sizeof(key));
    return hz_kmap_new_keyed(vsize, key);
}

static void
kmap_free_list(struct kmap_block *b)
{
    struct kmap_block *next;

    for (; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
}

void
hz_kmap_free(hz_kmap *m)
{
    if (m == NULL)
        return;
    kmap_free_list(m->blocks);
    kmap_free_list(m->spare);
    free(m->slots);
    free(m->ents);
    free(m);
}

void
hz_kmap_clear(hz_kmap *m)
{
    /* Keep the blocks for the next fill: a map refilled every batch would
     * otherwise get fresh pages (page faults) and a malloc per block each
     * time. Oversized blocks go. */
    struct kmap_block *b = m->blocks, *next;

    for (; b != NULL; b = next) {
        next = b->next;
        if (b->cap == KMAP_BLOCK - KMAP_HDR) {
            b->next = m->spare;
            m->spare = b;
        } else {
            free(b);
        }
    }
    m->blocks = NULL;
    memset(m->slots, 0, m->nslots * sizeof(*m->slots));
    m->n = 0;
}

size_t
hz_kmap_count(const hz_kmap *m)
{
    return m->n;
}

/* Keyed per map with random bytes, so collisions cannot be precomputed by
 * whoever chooses the page paths (common/siphash.h: SipHash-1-3). */
static uint64_t
kmap_hash(const hz_kmap *m, const void *key, size_t klen)
{
    return hz_siphash13(m->key, key, klen);
}

static void
kmap_grow(hz_kmap *m)
{
    size_t nslots = m->nslots * 2;
    struct kmap_slot *slots = hz_xcalloc(nslots, sizeof(*slots));

    for (size_t i = 0; i < m->n; i++) {
        size_t j = (size_t)m->ents[i]->hash & (nslots - 1);
        while (slots[j].e != NULL)
            j = (j + 1) & (nslots - 1);
        slots[j].hash = m->ents[i]->hash;
        slots[j].e = m->ents[i];
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = nslots;
}

/* The slot holding (key, klen), or the empty slot where it would go. */
static size_t
kmap_slot(const hz_kmap *m, uint64_t h, const void *key, size_t klen)
{
    size_t j = (size_t)h & (m->nslots - 1);

    for (;;) {
        const struct kmap_slot *sl = &m->slots[j];
        if (sl->e == NULL)
            return j;
        if (sl->hash == h && sl->e->klen == klen && memcmp(kmap_key(sl->e), key, klen) == 0)
            return j;
        j = (j + 1) & (m->nslots - 1);
    }
}

uint64_t
hz_kmap_hash(const hz_kmap *m, const void *key, size_t klen)
{
    return kmap_hash(m, key, klen);
}

void *
hz_kmap_find_h(const hz_kmap *m, uint64_t h, const void *key, size_t klen)
{
    struct kmap_ent *e = m->slots[kmap_slot(m, h, key, klen)].e;

    return e != NULL ? kmap_val(m, e) : NULL;
}

void *
hz_kmap_find(const hz_kmap *m, const void *key, size_t klen)
{
    return hz_kmap_find_h(m, kmap_hash(m, key, klen), key, klen);
}

void *
hz_kmap_put(hz_kmap *m, const void *key, size_t klen, int *created)
{
    return hz_kmap_put_h(m, kmap_hash(m, key, klen), key, klen, created);
}

static struct kmap_ent *
kmap_put(hz_kmap *m, uint64_t h, const void *key, size_t klen, int *created, int zero)
{
    size_t j = kmap_slot(m, h, key, klen);
    struct kmap_ent *e = m->slots[j].e;

    if (e != NULL) {
        if (created != NULL)
            *created = 0;
        return e;
    }
    /* Keep the load factor under 1/2. */
    if ((m->n + 1) * 2 > m->nslots) {
        kmap_grow(m);
        j = kmap_slot(m, h, key, klen);
    }
    e = kmap_alloc(m, sizeof(*e) + kmap_align8(klen) + m->vsize);
    e->hash = h;
    e->klen = (uint32_t)klen;
    memcpy(kmap_key(e), key, klen);
    if (zero)
        memset(kmap_val(m, e), 0, m->vsize);
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->ents = hz_xreallocarray(m->ents, m->cap, sizeof(*m->ents));
    }
    e->idx = (uint32_t)m->n;
    m->ents[m->n++] = e;
    m->slots[j].hash = h;
    m->slots[j].e = e;
    if (created != NULL)
        *created = 1;
    return e;
}

void *
hz_kmap_put_h(hz_kmap *m, uint64_t h, const void *key, size_t klen, int *created)
{
    return kmap_val(m, kmap_put(m, h, key, klen, created, 1));
}

const void *
hz_kmap_key_of(const hz_kmap *m, const void *val, size_t klen)
{
    (void)m;
    return (const unsigned char *)val - kmap_align8(klen);
}

uint64_t
hz_quick_hash(uint64_t seed, const void *p, size_t len)
{
    const unsigned char *b = p;
    uint64_t h = seed * 0x9e3779b97f4a7c15ULL ^ len, w;
    size_t i = 0;

    for (; i + 8 < len; i += 8) {
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    /* The last 1..8 bytes in at most two loads (overlapping what came
     * before: the length is in h already). */
    if (len >= 8) {
        memcpy(&w, b + len - 8, 8);
    } else if (len >= 4) {
        uint32_t x, y;
        memcpy(&x, b, 4);
        memcpy(&y, b + len - 4, 4);
        w = (uint64_t)x << 32 | y;
    } else {
        w = len > 0 ? (uint64_t)b[0] << 16 | (uint64_t)b[len / 2] << 8 | b[len - 1] : 0;
    }
    /* A full avalanche at the end (the steps above are bijections, and a
     * product's low bits depend only on its factors' low bits: callers
     * take the low bits). */
    h ^= w;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ h >> 33;
}

void *
hz_kmap_put_raw(hz_kmap *m, uint64_t h, const void *key, size_t klen, int *created,
                const void **stored)
{
    struct kmap_ent *e = kmap_put(m, h, key, klen, created, 0);

    if (stored != NULL)
        *stored = kmap_key(e);
    return kmap_val(m, e);
}

int
hz_kmap_del(hz_kmap *m, const void *key, size_t klen)
{
    uint64_t h = kmap_hash(m, key, klen);
    size_t j = kmap_slot(m, h, key, klen), k;
    struct kmap_ent *e = m->slots[j].e;

    if (e == NULL)
        return 0;
    /* Swap-remove from the vector. */
    m->ents[e->idx] = m->ents[m->n - 1];
    m->ents[e->idx]->idx = e->idx;
    m->n--;
    /* Backward shift: move later members of the cluster into the hole
     * when their home slot does not lie cyclically in (hole, k]. */
    m->slots[j].e = NULL;
    k = j;
    for (;;) {
        k = (k + 1) & (m->nslots - 1);
        struct kmap_slot x = m->slots[k];
        if (x.e == NULL)
            break;
        size_t home = (size_t)x.hash & (m->nslots - 1);
        int stays = (j <= k) ? (j < home && home <= k) : (j < home || home <= k);
        if (!stays) {
            m->slots[j] = x;
            m->slots[k].e = NULL;
            j = k;
        }
    }
    return 1;
}

void *
hz_kmap_at(const hz_kmap *m, size_t i, const void **key, size_t *klen)
{
    struct kmap_ent *e = m->ents[i];

    if (key != NULL)
        *key = kmap_key(e);
    if (klen != NULL)
        *klen = e->klen;
    return kmap_val(m, e);
}

static int
kmap_cmp(const void *a, const void *b)
{
    struct kmap_ent *x = *(struct kmap_ent *const *)a, *y = *(struct kmap_ent *const *)b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(kmap_key(x), kmap_key(y), n);

    if (c != 0)
        return c;
    return x->klen < y->klen ? -1 : x->klen > y->klen;
}

void
hz_kmap_sort(hz_kmap *m)
{
    size_t i = 1;

    /* Often in order already (the store's month rows follow its sorted
     * day rows): then one pass instead of a sort. */
    while (i < m->n && kmap_cmp(&m->ents[i - 1], &m->ents[i]) <= 0)
        i++;
    if (i < m->n)
        qsort(m->ents, m->n, sizeof(*m->ents), kmap_cmp);
    for (i = 0; i < m->n; i++)
        m->ents[i]->idx = (uint32_t)i;
}
