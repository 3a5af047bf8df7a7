/* SPDX-License-Identifier: MIT */
/*
 * idlog_span_test.c - which buckets of the applied hit id log the
 * duplicate search reads (collector/pub_idlog.c): from the search's start
 * to the bucket after now, capped, and on while buckets are not empty.
 */
#include <criterion/criterion.h>

#include "collector/pub_int.h"
#include "common/idlog.h"

/* The buckets the search reads when every bucket up to `filled` holds
 * ids: returns the last one read. */
static uint64_t
walk(uint64_t from_ms, uint64_t now_ms, uint64_t filled, uint64_t *first)
{
    uint64_t last, b;

    pub_idlog_span(from_ms, now_ms, first, &last);
    for (b = *first; pub_idlog_more(*first, b, last, b <= filled); b++)
        ;
    return b;
}

Test(idlog_span, a_recent_floor_reads_from_its_bucket_to_the_one_after_now)
{
    uint64_t now = 1764950000000ULL, first;
    uint64_t end = walk(now - 25000, now, 0, &first);

    cr_assert_eq(first, hz_idlog_bucket(now - 25000));
    cr_assert_eq(end, hz_idlog_bucket(now) + 1);
}

/* A thread that took no hit for hours has a floor that old: the search
 * still reads the buckets of now (the review's case: it stopped 1,600
 * buckets after the floor's, hours before now). */
Test(idlog_span, a_floor_hours_old_still_reads_up_to_now)
{
    uint64_t now = 1764950000000ULL, first;
    uint64_t end = walk(now - 5ULL * 3600 * 1000, now, hz_idlog_bucket(now), &first);

    cr_assert_eq(first, hz_idlog_bucket(now) + 1 - HZ_IDLOG_SEARCH_BUCKETS + 1);
    cr_assert_geq(end, hz_idlog_bucket(now) + 1, "the search stopped at bucket %llu, before now's",
                  (unsigned long long)end);
}

Test(idlog_span, past_now_while_buckets_hold_ids_but_bounded)
{
    uint64_t now = 1764950000000ULL, first;
    uint64_t b = hz_idlog_bucket(now);

    /* A Redis clock 30 s ahead: three more buckets hold ids. */
    cr_assert_eq(walk(now - 1000, now, b + 3, &first), b + 4);
    /* Buckets that never end: the walk stops all the same. */
    cr_assert_eq(walk(now - 1000, now, UINT64_MAX, &first),
                 first + 4 * HZ_IDLOG_SEARCH_BUCKETS - 1);
}
