/* SPDX-License-Identifier: MIT */
/*
 * kmap_test.c - the map's raw insert (value left as it was, the map's own
 * key copy) and the quick hash the memos in front of maps use.
 */
#include "common/kmap.h"

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

struct big {
    int head;
    char tail[64];
};

Test(kmap, put_raw_keeps_key_copy_and_finds)
{
    hz_kmap *m = hz_kmap_new(sizeof(struct big));
    const void *stored = NULL;
    int created = 0;
    char key[32];

    for (int i = 0; i < 1000; i++) {
        int n = snprintf(key, sizeof(key), "visitor-%d", i);
        struct big *b =
            hz_kmap_put_raw(m, hz_kmap_hash(m, key, (size_t)n), key, (size_t)n, &created, &stored);
        cr_assert_eq(created, 1);
        cr_assert_neq((const void *)stored, (const void *)key);
        cr_assert_eq(memcmp(stored, key, (size_t)n), 0);
        cr_assert_eq(hz_kmap_key_of(m, b, (size_t)n), stored);
        b->head = i;
    }
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(key, sizeof(key), "visitor-%d", i);
        struct big *b =
            hz_kmap_put_raw(m, hz_kmap_hash(m, key, (size_t)n), key, (size_t)n, &created, &stored);
        cr_assert_eq(created, 0);
        cr_assert_eq(b->head, i, "raw put of an existing key keeps its value");
        cr_assert_eq(hz_kmap_find(m, key, (size_t)n), b);
        cr_assert_eq(memcmp(stored, key, (size_t)n), 0);
    }
    /* A zeroing put of a key the map holds returns the same value. */
    cr_assert_eq(((struct big *)hz_kmap_put(m, "visitor-7", 9, NULL))->head, 7);
    hz_kmap_free(m);
}

Test(kmap, quick_hash_depends_on_every_byte_seed_and_length)
{
    unsigned char a[40] = {0};
    uint64_t h0 = hz_quick_hash(0, a, sizeof(a));

    cr_assert_eq(hz_quick_hash(0, a, sizeof(a)), h0, "deterministic");
    cr_assert_neq(hz_quick_hash(1, a, sizeof(a)), h0);
    cr_assert_neq(hz_quick_hash(0, a, sizeof(a) - 1), h0);
    for (size_t i = 0; i < sizeof(a); i++) {
        a[i] = 1;
        cr_assert_neq(hz_quick_hash(0, a, sizeof(a)), h0, "byte %zu", i);
        a[i] = 0;
    }
    cr_assert_neq(hz_quick_hash(0, "", 0), hz_quick_hash(0, "\0", 1));
}

/* Callers index direct-mapped memos with the low bits: keys that differ in
 * their last byte only (pages /p/10 .. /p/99) must spread over them. */
Test(kmap, quick_hash_low_bits_spread_over_last_bytes)
{
    static unsigned char seen[1024];
    char key[64];
    int distinct = 0;

    for (int len = 9; len <= 24; len += 5) {
        memset(seen, 0, sizeof(seen));
        distinct = 0;
        for (int i = 0; i < 256; i++) {
            int n = snprintf(key, sizeof(key), "%0*d", len, i);
            size_t slot = hz_quick_hash(0, key, (size_t)n) & 1023;
            distinct += !seen[slot];
            seen[slot] = 1;
        }
        /* 256 keys in 1024 slots: ~227 distinct for a uniform hash. */
        cr_assert_gt(distinct, 210, "length %d: %d distinct slots", len, distinct);
    }
}
