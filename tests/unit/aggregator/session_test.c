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

    cr_assert_lt(n, 80, "compact: %zu bytes", n);
    cr_assert_eq(b[0], 4, "written as version 4");
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
    x[0] = 5; /* no such version */
    cr_assert_neq(hz_session_decode(x, n, &t), 0, "version");
    /* nseen past its bound. */
    struct hz_session big = s;
    big.nseen = HZ_SEEN_MAX;
    n = hz_session_encode(&big, b);
    /* version, times 6 + 2 + 2, days 3 + 1 + 1 + 1, pageviews, flags,
     * nfunnels, then the funnel: step and time 2. */
    size_t off = 1 + 10 + 6 + 1 + 1 + 1 + 3;
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

/* A state as version 3 wrote it (fixed-width numbers, u16 string
 * lengths): sample() with engaged, two seen hashes (11, 12), two visit
 * hashes (12, 13), utm_content "banner", referrer "news.example" and the
 * versions "133" and "RT 8". Fixed here: the encoder no longer writes it. */
static const unsigned char v3_state[] = {
    0x03, 0x00, 0xe8, 0x97, 0xb6, 0x9a, 0x01, 0x00, 0x00, 0x88, 0xfb, 0x97, 0xb6, 0x9a, 0x01, 0x00,
    0x00, 0x88, 0xfb, 0x97, 0xb6, 0x9a, 0x01, 0x00, 0x00, 0xc1, 0x4f, 0x00, 0x00, 0xc1, 0x4f, 0x00,
    0x00, 0xc1, 0x4f, 0x00, 0x00, 0x1b, 0x7a, 0x07, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x01, 0x02,
    0x88, 0xfb, 0x97, 0xb6, 0x9a, 0x01, 0x00, 0x00, 0x02, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x0c, 0x00,
    0x00, 0x00, 0x02, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x00, 0x2f, 0x05,
    0x00, 0x2f, 0x63, 0x61, 0x72, 0x74, 0x0c, 0x00, 0x6e, 0x65, 0x77, 0x73, 0x2e, 0x65, 0x78, 0x61,
    0x6d, 0x70, 0x6c, 0x65, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x44, 0x45, 0x2d, 0x42, 0x59, 0x07,
    0x00, 0x46, 0x69, 0x72, 0x65, 0x66, 0x6f, 0x78, 0x05, 0x00, 0x4c, 0x69, 0x6e, 0x75, 0x78, 0x07,
    0x00, 0x64, 0x65, 0x73, 0x6b, 0x74, 0x6f, 0x70, 0x06, 0x00, 0x62, 0x61, 0x6e, 0x6e, 0x65, 0x72,
    0x00, 0x00, 0x0c, 0x00, 0x6e, 0x65, 0x77, 0x73, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
    0x03, 0x00, 0x31, 0x33, 0x33, 0x04, 0x00, 0x52, 0x54, 0x20, 0x38,
};

/* Re-encoding t (version 4) and decoding that gives t back. */
static void
assert_v4_keeps(const struct hz_session *t)
{
    unsigned char b[HZ_SESSION_SER_MAX], c[HZ_SESSION_SER_MAX];
    struct hz_session u;
    size_t n = hz_session_encode(t, b);

    cr_assert_eq(b[0], 4);
    cr_assert_eq(hz_session_decode(b, n, &u), 0);
    cr_assert_eq(hz_session_encode(&u, c), n);
    cr_assert_arr_eq(b, c, n);
    cr_assert(u.start_ms == t->start_ms && u.last_ms == t->last_ms &&
              u.last_pv_ms == t->last_pv_ms);
    cr_assert(u.start_day == t->start_day && u.last_pv_day == t->last_pv_day &&
              u.seen_day == t->seen_day && u.last_hour == t->last_hour);
    cr_assert(u.pageviews == t->pageviews && u.last_pixel == t->last_pixel &&
              u.engaged == t->engaged);
    cr_assert(u.nfunnels == t->nfunnels && u.nseen == t->nseen && u.seen_ring == t->seen_ring &&
              u.nvpages == t->nvpages && u.vpages_ring == t->vpages_ring);
    cr_assert_arr_eq(u.fstep, t->fstep, sizeof(u.fstep));
    cr_assert_arr_eq(u.ftime, t->ftime, sizeof(u.ftime));
    cr_assert_arr_eq(u.seen, t->seen, sizeof(u.seen));
    cr_assert_arr_eq(u.vpages, t->vpages, sizeof(u.vpages));
    cr_assert_str_eq(u.entry, t->entry);
    cr_assert_str_eq(u.last_page, t->last_page);
    cr_assert_str_eq(u.source, t->source);
    cr_assert_str_eq(u.region, t->region);
    cr_assert_str_eq(u.browser, t->browser);
    cr_assert_str_eq(u.os, t->os);
    cr_assert_str_eq(u.device, t->device);
    cr_assert_str_eq(u.utm_content, t->utm_content);
    cr_assert_str_eq(u.referrer, t->referrer);
    cr_assert_str_eq(u.browser_version, t->browser_version);
    cr_assert_str_eq(u.os_version, t->os_version);
}

/* States written by versions 1 to 3 still decode (1 without utm_content,
 * utm_term, referrer; 2 without the versions), and come back the same
 * through version 4. */
Test(session, older_versions_still_decode)
{
    unsigned char b[sizeof(v3_state)];
    struct hz_session t;
    size_t n = sizeof(v3_state);

    cr_assert_eq(hz_session_decode(v3_state, n, &t), 0);
    cr_assert_eq(t.start_ms, 1764000000000ULL);
    cr_assert_eq(t.last_hour, 20417 * 24 + 3);
    cr_assert(t.last_pixel && t.engaged && t.pageviews == 2);
    cr_assert(t.nseen == 2 && t.seen[1] == 12 && t.nvpages == 2 && t.vpages[1] == 13);
    cr_assert_str_eq(t.last_page, "/cart");
    cr_assert_str_eq(t.device, "desktop");
    cr_assert_str_eq(t.utm_content, "banner");
    cr_assert_str_eq(t.referrer, "news.example");
    cr_assert_str_eq(t.browser_version, "133");
    cr_assert_str_eq(t.os_version, "RT 8");
    assert_v4_keeps(&t);
    unsigned char c[HZ_SESSION_SER_MAX];
    cr_assert_lt(hz_session_encode(&t, c), n - 60, "version 4 is smaller");
    /* Version 2: without the two versions (2 + 3, 2 + 4 bytes). */
    memcpy(b, v3_state, n);
    b[0] = 2;
    cr_assert_eq(hz_session_decode(b, n - 11, &t), 0);
    cr_assert_str_eq(t.referrer, "news.example");
    cr_assert_str_eq(t.browser_version, "");
    assert_v4_keeps(&t);
    cr_assert_neq(hz_session_decode(b, n, &t), 0, "version 2 has no versions");
    /* Version 1: nor utm_content, utm_term, referrer (2 + 6, 2, 2 + 12). */
    b[0] = 1;
    cr_assert_eq(hz_session_decode(b, n - 11 - 24, &t), 0);
    cr_assert_str_eq(t.utm_content, "");
    cr_assert_str_eq(t.region, "DE-BY");
    assert_v4_keeps(&t);
    cr_assert_neq(hz_session_decode(b, n - 11, &t), 0, "version 1 has no extension");
    /* Version 3's flags are two bits. */
    b[0] = 3;
    cr_assert_eq(b[45], 3); /* after 1 + 24 + 16 + 4 */
    b[45] = 5;
    cr_assert_neq(hz_session_decode(b, n, &t), 0, "version 3 flags");
}

/* Every value a state can hold survives version 4: times at the ends of
 * u64 (differences modulo 2^64), days and hours at the ends of 0..INT32_MAX,
 * a family name outside the table, a last page equal to the entry. */
Test(session, v4_extremes_round_trip)
{
    struct hz_session s = sample();

    s.start_ms = UINT64_MAX;
    s.last_ms = 0;
    s.last_pv_ms = 1;
    s.ftime[0] = UINT64_MAX - 1;
    s.start_day = INT32_MAX;
    s.last_pv_day = 0;
    s.seen_day = INT32_MAX;
    s.last_hour = 0;
    s.pageviews = UINT32_MAX;
    strcpy(s.browser, "Netscape Navigator 4");
    strcpy(s.os, "");
    strcpy(s.last_page, s.entry);
    assert_v4_keeps(&s);
    s = sample();
    s.start_ms = 0;
    s.start_day = 0;
    s.last_hour = INT32_MAX;
    s.entry[0] = s.last_page[0] = '\0';
    for (int i = 0; i < HZ_SEEN_MAX; i++)
        (void)hz_session_seen(&s, (uint32_t)i * 7);
    for (int i = 0; i < HZ_VPAGES_MAX + 3; i++)
        (void)hz_session_vseen(&s, (uint32_t)i * 5); /* some in the seen set, some not */
    assert_v4_keeps(&s);
}

/* Version 4 is canonical: each state has one form, and the decoder refuses
 * every other (the fuzz target re-encodes what decodes and compares). */
Test(session, v4_refuses_other_forms)
{
    struct hz_session s = sample(), t;
    unsigned char b[HZ_SESSION_SER_MAX], x[HZ_SESSION_SER_MAX + 1];
    size_t n = hz_session_encode(&s, b);

    cr_assert_eq(hz_session_decode(b, n, &t), 0);
    /* An overlong number: pageviews (2, at offset 1 + 10 + 6) as 0x82 0x00. */
    cr_assert_eq(b[17], 2);
    memcpy(x, b, 18);
    x[17] = 0x82;
    x[18] = 0;
    memcpy(x + 19, b + 18, n - 18);
    cr_assert_neq(hz_session_decode(x, n + 1, &t), 0, "overlong");
    /* A flag past the three. */
    memcpy(x, b, n);
    x[18] |= 8;
    cr_assert_neq(hz_session_decode(x, n, &t), 0, "flags");
    /* A day difference that lands below 0: last_pv_day (offset 14) is
     * 0 - 20417, zigzag 40833 = 0x81 0xbf 0x02; 0x83 makes it -20418. */
    s.last_pv_day = 0;
    n = hz_session_encode(&s, b);
    cr_assert(b[14] == 0x81 && b[15] == 0xbf && b[16] == 0x02);
    cr_assert_eq(hz_session_decode(b, n, &t), 0);
    b[14] = 0x83;
    cr_assert_neq(hz_session_decode(b, n, &t), 0, "negative day");
    /* Firefox, Linux, desktop are table indexes 2, 14, 16; Firefox
     * written out instead is refused. */
    s = sample();
    n = hz_session_encode(&s, b);
    const unsigned char fam[] = {0x82, 0x8e, 0x90};
    size_t at = 0;
    while (at + 3 <= n && memcmp(b + at, fam, 3) != 0)
        at++;
    cr_assert_lt(at + 3, n + 1, "the families as indexes");
    memcpy(x, b, at);
    x[at] = 7;
    memcpy(x + at + 1, "Firefox", 7);
    memcpy(x + at + 8, b + at + 1, n - at - 1);
    cr_assert_eq(x[0], 4);
    cr_assert_neq(hz_session_decode(x, n + 7, &t), 0, "a table name written out");
    x[at + 1] = 'f'; /* "firefox" is not in the table */
    cr_assert_eq(hz_session_decode(x, n + 7, &t), 0, "a name outside the table");
    cr_assert_str_eq(t.browser, "firefox");
    /* A last page equal to the entry, written out without the flag. */
    strcpy(s.last_page, s.entry);
    n = hz_session_encode(&s, b);
    cr_assert_eq(b[18], 1 | 4);
    cr_assert_eq(hz_session_decode(b, n, &t), 0);
    cr_assert_str_eq(t.last_page, "/");
    /* entry "/" is 0x01 '/' after nseen 1 (at 23: 2 + 4) and nvpages 1 (2 + a literal 5) */
    at = 23 + 2 + 4 + 2 + 5;
    cr_assert(b[at] == 1 && b[at + 1] == '/', "entry at %zu", at);
    memcpy(x, b, at + 2);
    x[18] = 1;
    x[at + 2] = 1;
    x[at + 3] = '/';
    memcpy(x + at + 4, b + at + 2, n - at - 2);
    cr_assert_neq(hz_session_decode(x, n + 2, &t), 0, "same page without the flag");
    x[at + 3] = '/';
    x[18] = 1 | 4;
    cr_assert_neq(hz_session_decode(x, n + 2, &t), 0, "the flag and the page");
    /* A visit hash written out while the seen set has it, and a reference
     * to a hash's second place in the set. */
    s = sample(); /* seen {11}, visit {12} */
    (void)hz_session_seen(&s, 12);
    n = hz_session_encode(&s, b);
    /* nseen 2 at 23: 2, ring 0, 11, 12 (8 bytes); nvpages 1 at 33: 1, ring 0, ref 1 */
    cr_assert(b[33] == 1 && b[34] == 0 && b[35] == 1, "a reference");
    cr_assert_eq(hz_session_decode(b, n, &t), 0);
    cr_assert_eq(t.vpages[0], 12);
    memcpy(x, b, 35);
    x[35] = 0xff;
    x[36] = 12;
    x[37] = x[38] = x[39] = 0;
    memcpy(x + 40, b + 36, n - 36);
    cr_assert_neq(hz_session_decode(x, n + 4, &t), 0, "a literal the set holds");
    x[36] = 13;
    cr_assert_eq(hz_session_decode(x, n + 4, &t), 0, "a literal the set lacks");
    memcpy(x, b, n);
    x[29] = 11; /* seen {11, 11}: the reference 1 is not 11's first place */
    x[35] = 1;
    cr_assert_neq(hz_session_decode(x, n, &t), 0, "a second place");
    x[35] = 0;
    cr_assert_eq(hz_session_decode(x, n, &t), 0, "the first place");
    x[35] = 2;
    cr_assert_neq(hz_session_decode(x, n, &t), 0, "past the set");
}
