/* SPDX-License-Identifier: MIT */
/*
 * fuzz_session.c - the visitor state decoder: its bytes come from Redis,
 * which is input (anything with Redis access can SET the key). Properties:
 * never crash; a version 4 state that decodes re-encodes to the same bytes
 * (the form is canonical); a version 1 to 3 state re-encodes as version 4,
 * which decodes to the same state and encodes to itself; strings are valid
 * text within their bounds.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aggregator/session.h"
#include "common/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hz_session s;
    unsigned char out[HZ_SESSION_SER_MAX];

    if (hz_session_decode(data, size, &s) != 0)
        return 0;
    size_t n = hz_session_encode(&s, out);
    assert(out[0] == 4);
    if (data[0] == 4) {
        assert(n == size && memcmp(out, data, size) == 0);
    } else {
        /* An older state: its version 4 form holds the same state. */
        struct hz_session t;
        unsigned char again[HZ_SESSION_SER_MAX];
        assert(hz_session_decode(out, n, &t) == 0);
        memset(&s.pend, 0, sizeof(s.pend));
        memset(&t.pend, 0, sizeof(t.pend));
        assert(memcmp(&s, &t, sizeof(s)) == 0);
        assert(hz_session_encode(&t, again) == n && memcmp(again, out, n) == 0);
    }
    assert(strlen(s.entry) < HZ_PAGE_MAX && hz_text_valid(s.entry, strlen(s.entry)));
    assert(s.entry[0] == '\0' || s.entry[0] == '/');
    assert(s.nseen <= HZ_SEEN_MAX && s.nvpages <= HZ_VPAGES_MAX);
    assert(s.nfunnels <= HZ_FUNNELS_MAX);
    assert(strlen(s.browser_version) < HZ_MAJOR_MAX && strlen(s.os_version) < HZ_MAJOR_MAX);
    return 0;
}
