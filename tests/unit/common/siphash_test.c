/* SPDX-License-Identifier: MIT */
/*
 * siphash_test.c - SipHash-2-4 against the paper's test vector, and the
 * incremental API against the one-shot one for every way of splitting.
 */
#include "common/siphash.h"

#include <string.h>

#include <criterion/criterion.h>

static void
ref_key(unsigned char key[HZ_SIPHASH_KEY])
{
    for (int i = 0; i < HZ_SIPHASH_KEY; i++)
        key[i] = (unsigned char)i;
}

/* Aumasson & Bernstein, "SipHash: a fast short-input PRF", appendix A:
 * key 00 01 .. 0f, message 00 01 .. 0e (15 bytes). */
Test(siphash, paper_vector)
{
    unsigned char key[HZ_SIPHASH_KEY], msg[15];

    ref_key(key);
    for (int i = 0; i < 15; i++)
        msg[i] = (unsigned char)i;
    cr_assert_eq(hz_siphash(key, msg, sizeof(msg)), 0xa129ca6149be45e5ULL);
}

/* The reference implementation's vectors.h, first entries (same key,
 * message 00 01 .. of length n), read as little-endian 64-bit values. */
Test(siphash, reference_vectors_short)
{
    static const uint64_t want[] = {
        0x726fdb47dd0e0e31ULL, /* len 0 */
        0x74f839c593dc67fdULL, /* len 1 */
    };
    unsigned char key[HZ_SIPHASH_KEY], msg[2] = {0, 1};

    ref_key(key);
    for (size_t n = 0; n < sizeof(want) / sizeof(want[0]); n++)
        cr_assert_eq(hz_siphash(key, msg, n), want[n], "len %zu: %016llx", n,
                     (unsigned long long)hz_siphash(key, msg, n));
}

Test(siphash, incremental_equals_one_shot)
{
    unsigned char key[HZ_SIPHASH_KEY], msg[80];

    ref_key(key);
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (unsigned char)(i * 7 + 3);
    for (size_t len = 0; len <= sizeof(msg); len++) {
        uint64_t one = hz_siphash(key, msg, len);

        /* every single split point */
        for (size_t cut = 0; cut <= len; cut++) {
            struct hz_siphash_ctx c;
            hz_siphash_init(&c, key);
            hz_siphash_update(&c, msg, cut);
            hz_siphash_update(&c, msg + cut, len - cut);
            cr_assert_eq(hz_siphash_final(&c), one, "len %zu cut %zu", len, cut);
        }
        /* byte by byte, with empty updates in between */
        {
            struct hz_siphash_ctx c;
            hz_siphash_init(&c, key);
            for (size_t i = 0; i < len; i++) {
                hz_siphash_update(&c, msg + i, 1);
                hz_siphash_update(&c, msg, 0);
            }
            cr_assert_eq(hz_siphash_final(&c), one, "len %zu bytewise", len);
        }
        /* three pieces of uneven sizes */
        if (len >= 10) {
            struct hz_siphash_ctx c;
            hz_siphash_init(&c, key);
            hz_siphash_update(&c, msg, 3);
            hz_siphash_update(&c, msg + 3, 6);
            hz_siphash_update(&c, msg + 9, len - 9);
            cr_assert_eq(hz_siphash_final(&c), one, "len %zu 3-way", len);
        }
    }
}

Test(siphash, key_and_message_matter)
{
    unsigned char k1[HZ_SIPHASH_KEY], k2[HZ_SIPHASH_KEY];
    const char *m = "example.com|192.0.2.1|Mozilla/5.0";

    ref_key(k1);
    ref_key(k2);
    k2[15] ^= 1;
    cr_assert_neq(hz_siphash(k1, m, strlen(m)), hz_siphash(k2, m, strlen(m)));
    cr_assert_neq(hz_siphash(k1, m, strlen(m)), hz_siphash(k1, m, strlen(m) - 1));
    /* the length is part of the hash: trailing NULs are not ignored */
    cr_assert_neq(hz_siphash(k1, "ab\0", 3), hz_siphash(k1, "ab", 2));
}

/* Lengths of 256 and more wrap the length byte; still equal both ways. */
Test(siphash, long_input)
{
    static unsigned char msg[1000];
    unsigned char key[HZ_SIPHASH_KEY];
    struct hz_siphash_ctx c;

    ref_key(key);
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (unsigned char)(i ^ (i >> 8));
    hz_siphash_init(&c, key);
    hz_siphash_update(&c, msg, 257);
    hz_siphash_update(&c, msg + 257, sizeof(msg) - 257);
    cr_assert_eq(hz_siphash_final(&c), hz_siphash(key, msg, sizeof(msg)));
    cr_assert_neq(hz_siphash(key, msg, 256), hz_siphash(key, msg, 512));
}
