/* SPDX-License-Identifier: MIT */
/*
 * fuzz_session.c - the visitor state decoder: its bytes come from Redis,
 * which is input (anything with Redis access can SET the key). Properties:
 * never crash; a state that decodes re-encodes to the same bytes (the form
 * is canonical; a version 1 or 2 state to its version 3 form), and its strings
 * are valid text within their bounds.
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
    if (data[0] == 1 || data[0] == 2) {
        /* Versions 1 and 2 come back as version 3: the same bytes, then
         * the empty strings they lack (five, or the two versions). */
        static const unsigned char empty[10];
        size_t add = data[0] == 1 ? 10 : 4;
        assert(n == size + add && out[0] == 3 && memcmp(out + 1, data + 1, size - 1) == 0);
        assert(memcmp(out + size, empty, add) == 0);
    } else {
        assert(n == size && memcmp(out, data, size) == 0);
    }
    assert(strlen(s.entry) < HZ_PAGE_MAX && hz_text_valid(s.entry, strlen(s.entry)));
    assert(s.entry[0] == '\0' || s.entry[0] == '/');
    assert(s.nseen <= HZ_SEEN_MAX && s.nvpages <= HZ_VPAGES_MAX);
    assert(s.nfunnels <= HZ_FUNNELS_MAX);
    assert(strlen(s.browser_version) < HZ_MAJOR_MAX && strlen(s.os_version) < HZ_MAJOR_MAX);
    return 0;
}
