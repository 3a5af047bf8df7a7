/* SPDX-License-Identifier: MIT */
/* idlog.c - keys and encoding of the applied hit id log (idlog.h). */
#include "common/idlog.h"

#include <stdio.h>

size_t
hz_idlog_key(char *out, size_t cap, const char *stream, uint64_t bucket)
{
    int n = snprintf(out, cap, "%s:applied:%llu", stream, (unsigned long long)bucket);
    return (n < 0 || (size_t)n >= cap) ? 0 : (size_t)n;
}

int
hz_idlog_pack(const char *hex, size_t len, unsigned char out[HZ_IDLOG_ID_LEN])
{
    uint64_t v = 0;

    if (len != 2 * HZ_IDLOG_ID_LEN)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = hex[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if ((c | 32) >= 'a' && (c | 32) <= 'f')
            d = (unsigned)((c | 32) - 'a' + 10);
        else
            return -1;
        v = (v << 4) | d;
    }
    for (int i = HZ_IDLOG_ID_LEN - 1; i >= 0; i--, v >>= 8)
        out[i] = (unsigned char)(v & 0xff);
    return 0;
}

uint64_t
hz_idlog_get(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 0; i < HZ_IDLOG_ID_LEN; i++)
        v = (v << 8) | p[i];
    return v;
}
