/* SPDX-License-Identifier: MIT */
/* visitor.c - keyed daily visitor hash. The inputs are wiped by the caller. */
#include "collector/visitor.h"

#include <netinet/in.h>
#include <string.h>

#include "common/err.h"
#include "common/str.h"

void
hz_visitor_hash(const unsigned char salt[HZ_SIPHASH_KEY], const char *site,
                const struct sockaddr *sa, const char *raw_ua, size_t ua_len,
                char out[HZ_VHASH_LEN + 1])
{
    struct hz_siphash_ctx c;
    unsigned char addr[16], h[8];
    uint64_t v;

    /* Hash every address as 16 bytes in its IPv6 form, so 192.0.2.1 and
     * ::ffff:192.0.2.1 are the same visitor. */
    memset(addr, 0, sizeof(addr));
    if (sa->sa_family == AF_INET) {
        addr[10] = addr[11] = 0xff;
        memcpy(addr + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        memcpy(addr, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    }
    hz_siphash_init(&c, salt);
    hz_siphash_update(&c, site, strlen(site) + 1);
    hz_siphash_update(&c, addr, sizeof(addr));
    hz_siphash_update(&c, raw_ua, ua_len);
    v = hz_siphash_final(&c);
    for (int i = 0; i < 8; i++)
        h[i] = (unsigned char)(v >> (56 - 8 * i));
    hz_hex(out, h, sizeof(h));
    explicit_bzero(addr, sizeof(addr));
    explicit_bzero(&c, sizeof(c));
}

int
hz_salt_parse(const char *hex, size_t len, unsigned char out[HZ_SIPHASH_KEY])
{
    unsigned char tmp[HZ_SIPHASH_KEY];

    if (len != HZ_SALT_HEX)
        return HZ_EINVAL;
    for (size_t i = 0; i < len; i++) {
        char c = hex[i];
        int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (v < 0)
            return HZ_EINVAL;
        if (i % 2 == 0)
            tmp[i / 2] = (unsigned char)(v << 4);
        else
            tmp[i / 2] |= (unsigned char)v;
    }
    memcpy(out, tmp, sizeof(tmp));
    explicit_bzero(tmp, sizeof(tmp));
    return 0;
}
