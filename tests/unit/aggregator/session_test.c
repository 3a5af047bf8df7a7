/* SPDX-License-Identifier: MIT */
/*
 * session_test.c - the visitor state's binary form (round trip, hostile
 * bytes refused), its seen sets, its Redis key, and the fold rules that
 * need no Redis: TTLs and pending visit-level deltas.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "aggregator/session.h"

static struct hz_session
sample(void)
{
    struct hz_session s;

    memset(&s, 0, sizeof(s));
    s.start_ms = 1764000000000ULL;
    s.last_ms = s.start_ms + 5000;
    s.last_pv_ms = s.last_ms;
    s.start_day = s.last_pv_day = s.seen_day = 20417;
    s.last_hour = 20417 * 24 + 3;
    s.pageviews = 2;
    s.last_pixel = 1;
    s.nfunnels = 1;
    s.fstep[0] = 2;
    s.ftime[0] = s.last_ms;
    strcpy(s.entry, "/");
    strcpy(s.last_page, "/cart");
    strcpy(s.source, "news.example");
    strcpy(s.region, "DE-BY");
    strcpy(s.browser, "Firefox");
    strcpy(s.os, "Linux");
    strcpy(s.device, "desktop");
    (void)hz_session_seen(&s, 11);
    (void)hz_session_vseen(&s, 12);
    return s;
}

Test(session, round_trip)
{
    struct hz_session s = sample(), t;
    unsigned char b[HZ_SESSION_SER_MAX], c[HZ_SESSION_SER_MAX];
    size_t n = hz_session_encode(&s, b);

    cr_assert_lt(n, 200, "compact: %zu bytes", n);
    cr_assert_eq(hz_session_decode(b, n, &t), 0);
    cr_assert_eq(t.start_ms, s.start_ms);
    cr_assert_eq(t.fstep[0], 2);
    cr_assert_str_eq(t.last_page, "/cart");
    cr_assert_str_eq(t.region, "DE-BY");
    cr_assert_eq(t.nseen, 1);
    cr_assert_eq(hz_session_encode(&t, c), n);
    cr_assert_arr_eq(b, c, n);
}

Test(session, refuses_hostile_bytes)
{
    struct hz_session s = sample(), t;
    unsigned char b[HZ_SESSION_SER_MAX];
    size_t n = hz_session_encode(&s, b);

    for (size_t k = 0; k < n; k++)
        cr_assert_neq(hz_session_decode(b, k, &t), 0, "truncated at %zu", k);
    unsigned char x[HZ_SESSION_SER_MAX + 1];
    memcpy(x, b, n);
    x[n] = 0;
    cr_assert_neq(hz_session_decode(x, n + 1, &t), 0, "trailing byte");
    memcpy(x, b, n);
    x[0] = 4; /* no such version */
    cr_assert_neq(hz_session_decode(x, n, &t), 0, "version");
    /* nseen past its bound. */
    struct hz_session big = s;
    big.nseen = HZ_SEEN_MAX;
    n = hz_session_encode(&big, b);
    size_t off = 1 + 24 + 16 + 4 + 1 + 1 + 9; /* header, then funnels (one) */
    cr_assert_eq(b[off], HZ_SEEN_MAX);
    b[off] = HZ_SEEN_MAX + 1;
    cr_assert_neq(hz_session_decode(b, n, &t), 0, "nseen");
    /* A page that does not start with '/'. */
    s.entry[0] = 'x';
    n = hz_session_encode(&s, b);
    cr_assert_neq(hz_session_decode(b, n, &t), 0, "page");
    /* A control character in a string. */
    s = sample();
    strcpy(s.browser, "Fire\x01fox");
    n = hz_session_encode(&s, b);
    cr_assert_neq(hz_session_decode(b, n, &t), 0, "control");
}

Test(session, seen_ring_evicts_oldest)
{
    struct hz_session s;

    memset(&s, 0, sizeof(s));
    for (uint32_t i = 0; i < HZ_SEEN_MAX; i++)
        cr_assert_eq(hz_session_seen(&s, i + 100), 0);
    cr_assert_eq(hz_session_seen(&s, 100), 1, "still there");
    cr_assert_eq(hz_session_seen(&s, 9999), 0, "new: evicts the oldest");
    cr_assert_eq(s.nseen, HZ_SEEN_MAX);
    cr_assert_eq(hz_session_seen(&s, 100), 0, "the oldest was evicted");
    cr_assert_neq(hz_session_hash(1, "/a", 2), hz_session_hash(2, "/a", 2), "dims differ");
    cr_assert_eq(hz_session_hash(1, "/a", 2), hz_session_hash(1, "/a", 2), "stable");
}

/* hz_session_mark: one hash for both sets, each asked for only when due. */
Test(session, mark_counts_once_per_day_and_visit)
{
    struct hz_session s;
    uint64_t visitor = 7, visit = 7;
    uint32_t h = hz_session_hash(3, "/a", 2);

    memset(&s, 0, sizeof(s));
    hz_session_mark(&s, 0, 0, 3, "/a", 2, &visitor, &visit);
    cr_assert(visitor == 7 && visit == 7 && s.nseen == 0 && s.nvpages == 0, "nothing asked");
    hz_session_mark(&s, 0, 1, 3, "/a", 2, &visitor, &visit);
    cr_assert(visitor == 7 && visit == 1 && s.nseen == 0, "a late hit: the visit only");
    hz_session_mark(&s, 1, 1, 3, "/a", 2, &visitor, &visit);
    cr_assert(visitor == 1 && visit == 0, "first today, not first in the visit");
    cr_assert(s.seen[0] == h && s.vpages[0] == h, "the same hash in both sets");
    hz_session_mark(&s, 1, 1, 3, "/a", 2, &visitor, NULL);
    cr_assert(visitor == 0 && s.nvpages == 1, "seen today; the visit set untouched");
    visitor = 7;
    hz_session_mark(&s, 1, 1, 4, "/a", 2, NULL, &visit);
    cr_assert(visitor == 7 && visit == 1 && s.nseen == 1, "another dim: a new visit value");
}

Test(session, key_layout)
{
    char k[64];
    cr_assert_eq(hz_session_key(k, sizeof(k), "haze:events", "a.test", "0123456789abcdef"), 37);
    cr_assert_str_eq(k, "haze:events:v:a.test:0123456789abcdef");
    cr_assert_eq(hz_session_key(k, 10, "haze:events", "a.test", "0123456789abcdef"), 0);
}

/* A state written before version 2 (no utm_content, utm_term, referrer)
 * still decodes, with those empty; a version 2 state keeps them. */
Test(session, version_1_states_still_decode)
{
    struct hz_session s = sample(), t;
    unsigned char b[HZ_SESSION_SER_MAX];
    size_t n;

    (void)snprintf(s.utm_content, sizeof(s.utm_content), "banner");
    (void)snprintf(s.referrer, sizeof(s.referrer), "news.example");
    (void)snprintf(s.browser_version, sizeof(s.browser_version), "133");
    (void)snprintf(s.os_version, sizeof(s.os_version), "RT 8");
    n = hz_session_encode(&s, b);
    cr_assert_eq(b[0], 3);
    cr_assert_eq(hz_session_decode(b, n, &t), 0);
    cr_assert_str_eq(t.utm_content, "banner");
    cr_assert_str_eq(t.referrer, "news.example");
    cr_assert_str_eq(t.browser_version, "133");
    cr_assert_str_eq(t.os_version, "RT 8");
    /* The same state as version 2 wrote it: without the two versions. */
    s.browser_version[0] = s.os_version[0] = '\0';
    n = hz_session_encode(&s, b) - 4;
    b[0] = 2;
    cr_assert_eq(hz_session_decode(b, n, &t), 0);
    cr_assert_str_eq(t.referrer, "news.example");
    cr_assert_str_eq(t.browser_version, "");
    cr_assert_neq(hz_session_decode(b, n + 4, &t), 0, "version 2 has no versions");
    /* The same state as version 1 wrote it: the prefix, version byte 1. */
    s.utm_content[0] = s.referrer[0] = '\0';
    n = hz_session_encode(&s, b) - 10;
    b[0] = 1;
    cr_assert_eq(hz_session_decode(b, n, &t), 0);
    cr_assert_str_eq(t.utm_content, "");
    cr_assert_str_eq(t.region, "DE-BY");
    cr_assert_neq(hz_session_decode(b, n + 6, &t), 0, "version 1 has no extension");
}
