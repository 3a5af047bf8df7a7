/* SPDX-License-Identifier: MIT */
/* siphash.c - SipHash-2-4, written from the paper's description. */
#include "common/siphash.h"

#include <endian.h>
#include <string.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t
sip_load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return le64toh(v);
}

/* One SipRound on four local variables (kept in registers: the hash runs
 * on every hit, over the site, the address and the user agent). */
#define SIP_ROUND(v0, v1, v2, v3)                                                                  \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = ROTL(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = ROTL(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = ROTL(v2, 32);                                                                         \
    } while (0)

/* Two compression rounds (SipHash-2-4) over one block, on c's state. */
static void
sip_block(struct hz_siphash_ctx *c, uint64_t m)
{
    uint64_t v0 = c->v0, v1 = c->v1, v2 = c->v2, v3 = c->v3 ^ m;

    SIP_ROUND(v0, v1, v2, v3);
    SIP_ROUND(v0, v1, v2, v3);
    c->v0 = v0 ^ m;
    c->v1 = v1;
    c->v2 = v2;
    c->v3 = v3;
}

void
hz_siphash_init(struct hz_siphash_ctx *c, const unsigned char key[HZ_SIPHASH_KEY])
{
    uint64_t k0 = sip_load64(key), k1 = sip_load64(key + 8);

    c->v0 = k0 ^ 0x736f6d6570736575ULL;
    c->v1 = k1 ^ 0x646f72616e646f6dULL;
    c->v2 = k0 ^ 0x6c7967656e657261ULL;
    c->v3 = k1 ^ 0x7465646279746573ULL;
    c->tail = 0;
    c->total = 0;
}

void
hz_siphash_update(struct hz_siphash_ctx *c, const void *msg, size_t len)
{
    const unsigned char *p = msg;
    size_t i = 0;

    /* Fill a partial block byte by byte, then whole 8-byte blocks. */
    while (i < len && c->total % 8 != 0) {
        c->tail |= (uint64_t)p[i++] << (8 * (c->total % 8));
        if (++c->total % 8 == 0) {
            sip_block(c, c->tail);
            c->tail = 0;
        }
    }
    if (i + 8 <= len) {
        uint64_t v0 = c->v0, v1 = c->v1, v2 = c->v2, v3 = c->v3;
        for (; i + 8 <= len; i += 8) {
            uint64_t m = sip_load64(p + i);
            v3 ^= m;
            SIP_ROUND(v0, v1, v2, v3);
            SIP_ROUND(v0, v1, v2, v3);
            v0 ^= m;
            c->total += 8;
        }
        c->v0 = v0;
        c->v1 = v1;
        c->v2 = v2;
        c->v3 = v3;
    }
    for (; i < len; i++) {
        c->tail |= (uint64_t)p[i] << (8 * (c->total % 8));
        c->total++;
        if (c->total % 8 == 0) {
            sip_block(c, c->tail);
            c->tail = 0;
        }
    }
}

uint64_t
hz_siphash_final(struct hz_siphash_ctx *c)
{
    uint64_t b = c->tail | ((uint64_t)(c->total & 0xff) << 56), v0, v1, v2, v3;

    sip_block(c, b);
    v0 = c->v0;
    v1 = c->v1;
    v2 = c->v2 ^ 0xff;
    v3 = c->v3;
    SIP_ROUND(v0, v1, v2, v3);
    SIP_ROUND(v0, v1, v2, v3);
    SIP_ROUND(v0, v1, v2, v3);
    SIP_ROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

/* SipHash-c-d in one shot, in registers; c and d are constants at each
 * call, so the rounds unroll. */
static inline __attribute__((always_inline)) uint64_t
sip_oneshot(const unsigned char key[HZ_SIPHASH_KEY], const void *msg, size_t len, int c, int d)
{
    const unsigned char *p = msg;
    uint64_t k0 = sip_load64(key), k1 = sip_load64(key + 8);
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    uint64_t b = (uint64_t)len << 56, w;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        w = sip_load64(p + i);
        v3 ^= w;
        for (int r = 0; r < c; r++)
            SIP_ROUND(v0, v1, v2, v3);
        v0 ^= w;
    }
    for (size_t j = 0; i + j < len; j++)
        b |= (uint64_t)p[i + j] << (8 * j);
    v3 ^= b;
    for (int r = 0; r < c; r++)
        SIP_ROUND(v0, v1, v2, v3);
    v0 ^= b;
    v2 ^= 0xff;
    for (int r = 0; r < d; r++)
        SIP_ROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

/* One shot: the same result as init + update + final (tested), without
 * the context's partial-block bookkeeping; the seen-set hashes
 * (aggregator/session.c) run several times per hit. */
uint64_t
hz_siphash(const unsigned char key[HZ_SIPHASH_KEY], const void *msg, size_t len)
{
    return sip_oneshot(key, msg, len, 2, 4);
}

/* SipHash-1-3: one compression round and three finalization rounds, the
 * variant Rust's HashMap uses. For hash tables fed attacker-chosen keys
 * (page paths), where 2-4's extra rounds buy nothing and cost a sixth of
 * the aggregator's profile. */
uint64_t
hz_siphash13(const unsigned char key[HZ_SIPHASH_KEY], const void *msg, size_t len)
{
    return sip_oneshot(key, msg, len, 1, 3);
}
