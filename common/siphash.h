/* SPDX-License-Identifier: MIT */
/*
 * siphash.h - SipHash-2-4 (Aumasson & Bernstein), 64-bit output, keyed by
 * 16 bytes. Used for the daily visitor hash (DESIGN.md privacy rule 3) and
 * wherever a hash table is fed attacker-controlled keys.
 */
#ifndef HZ_COMMON_SIPHASH_H
#define HZ_COMMON_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define HZ_SIPHASH_KEY 16

uint64_t hz_siphash(const unsigned char key[HZ_SIPHASH_KEY], const void *msg, size_t len);

/* SipHash-1-3, for hash tables fed attacker-chosen keys. */
uint64_t hz_siphash13(const unsigned char key[HZ_SIPHASH_KEY], const void *msg, size_t len);

/* Incremental form, for hashing several fields without a copy. */
struct hz_siphash_ctx {
    uint64_t v0, v1, v2, v3;
    uint64_t tail;
    size_t total;
};

void hz_siphash_init(struct hz_siphash_ctx *c, const unsigned char key[HZ_SIPHASH_KEY]);
void hz_siphash_update(struct hz_siphash_ctx *c, const void *msg, size_t len);
uint64_t hz_siphash_final(struct hz_siphash_ctx *c);

#endif
