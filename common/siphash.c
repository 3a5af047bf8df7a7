/* SPDX-License-Identifier: MIT */
/* siphash.c - SipHash-2-4, written from the paper's description. */
#include "common/siphash.h"

#include <string.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t
sip_load64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void
sip_round(struct hz_siphash_ctx *c)
{
    c->v0 += c->v1;
    c->v1 = ROTL(c->v1, 13);
    c->v1 ^= c->v0;
    c->v0 = ROTL(c->v0, 32);
    c->v2 += c->v3;
    c->v3 = ROTL(c->v3, 16);
    c->v3 ^= c->v2;
    c->v0 += c->v3;
    c->v3 = ROTL(c->v3, 21);
    c->v3 ^= c->v0;
    c->v2 += c->v1;
    c->v1 = ROTL(c->v1, 17);
    c->v1 ^= c->v2;
    c->v2 = ROTL(c->v2, 32);
}

static void
sip_block(struct hz_siphash_ctx *c, uint64_t m)
{
    c->v3 ^= m;
    sip_round(c);
    sip_round(c);
    c->v0 ^= m;
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
    for (; i + 8 <= len; i += 8) {
        sip_block(c, sip_load64(p + i));
        c->total += 8;
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
    uint64_t b = c->tail | ((uint64_t)(c->total & 0xff) << 56);

    sip_block(c, b);
    c->v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(c);
    return c->v0 ^ c->v1 ^ c->v2 ^ c->v3;
}

uint64_t
hz_siphash(const unsigned char key[HZ_SIPHASH_KEY], const void *msg, size_t len)
{
    struct hz_siphash_ctx c;

    hz_siphash_init(&c, key);
    hz_siphash_update(&c, msg, len);
    return hz_siphash_final(&c);
}
