/* SPDX-License-Identifier: MIT */
/* net.c - address and CIDR parsing and matching. No I/O. */
#include "common/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/str.h"

int
hz_addr_parse(const char *s, size_t len, struct hz_addr *out, struct hz_err *err)
{
    struct hz_addr a;
    const char *colon, *hs, *he;
    uint64_t port;

    memset(&a, 0, sizeof(a));
    if (len > 5 && memcmp(s, "unix:", 5) == 0) {
        if (len - 5 >= sizeof(a.path) || s[5] != '/')
            return hz_err_set(err, HZ_EINVAL, "expected unix:/absolute/path (under 108 bytes)");
        memcpy(a.path, s + 5, len - 5);
        if (memchr(a.path, '\0', len - 5) != NULL)
            return hz_err_set(err, HZ_EINVAL, "NUL in path");
        a.is_unix = 1;
        *out = a;
        return 0;
    }
    if (len > 0 && s[0] == '[') {
        const char *rb = memchr(s, ']', len);
        if (rb == NULL || rb + 1 >= s + len || rb[1] != ':')
            return hz_err_set(err, HZ_EINVAL, "expected [v6addr]:port");
        hs = s + 1;
        he = rb;
        colon = rb + 1;
    } else {
        colon = NULL;
        for (size_t i = len; i > 0; i--)
            if (s[i - 1] == ':') {
                colon = s + i - 1;
                break;
            }
        if (colon == NULL)
            return hz_err_set(err, HZ_EINVAL, "expected host:port or unix:/path");
        hs = s;
        he = colon;
        /* "::1:80" could be ::1 port 80 or ::1:80 with no port. */
        if (memchr(hs, ':', (size_t)(he - hs)) != NULL)
            return hz_err_set(err, HZ_EINVAL, "an IPv6 address needs brackets: [v6addr]:port");
    }
    if (he == hs || (size_t)(he - hs) >= sizeof(a.host))
        return hz_err_set(err, HZ_EINVAL, "expected host:port or unix:/path");
    for (const char *p = hs; p < he; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              *p == '.' || *p == '-' || *p == ':' || *p == '_'))
            return hz_err_set(err, HZ_EINVAL, "bad character in host");
    if (hz_parse_u64(colon + 1, (size_t)(s + len - colon - 1), 65535, &port) != 0 || port == 0)
        return hz_err_set(err, HZ_EINVAL, "port must be 1..65535");
    memcpy(a.host, hs, (size_t)(he - hs));
    a.port = (int)port;
    *out = a;
    return 0;
}

int
hz_ip_parse(const char *s, size_t len, struct sockaddr_storage *out)
{
    char buf[INET6_ADDRSTRLEN + 1];

    /* inet_pton would stop at a NUL and accept "1.2.3.4\0junk". */
    if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
        return HZ_EINVAL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(out, 0, sizeof(*out));
    if (memchr(buf, ':', len) == NULL) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;
        if (inet_pton(AF_INET, buf, &sin->sin_addr) != 1)
            return HZ_EINVAL;
        sin->sin_family = AF_INET;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
        if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1)
            return HZ_EINVAL;
        sin6->sin6_family = AF_INET6;
    }
    return 0;
}

/* Parses one "addr[/prefix]" token. */
static int
net_cidr_parse(const char *s, size_t len, struct hz_cidr *c)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    struct sockaddr_storage ss;
    uint64_t prefix;
    int max;

    if (hz_ip_parse(s, alen, &ss) != 0)
        return HZ_EINVAL;
    memset(c, 0, sizeof(*c));
    c->family = ss.ss_family;
    if (ss.ss_family == AF_INET) {
        memcpy(c->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
        max = 32;
    } else {
        memcpy(c->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
        max = 128;
    }
    c->prefix = max;
    if (slash != NULL) {
        if (hz_parse_u64(slash + 1, len - alen - 1, (uint64_t)max, &prefix) != 0)
            return HZ_EINVAL;
        c->prefix = (int)prefix;
    }
    return 0;
}

int
hz_cidrset_parse(const char *s, size_t len, struct hz_cidrset *out, struct hz_err *err)
{
    struct hz_cidrset set;
    size_t i = 0;

    memset(&set, 0, sizeof(set));
    while (i < len) {
        size_t j;
        while (i < len && (s[i] == ' ' || s[i] == ',' || s[i] == '\t'))
            i++;
        if (i >= len)
            break;
        j = i;
        while (j < len && s[j] != ' ' && s[j] != ',' && s[j] != '\t')
            j++;
        if (set.n >= HZ_CIDR_MAX)
            return hz_err_set(err, HZ_EINVAL, "more than %d networks", HZ_CIDR_MAX);
        if (net_cidr_parse(s + i, j - i, &set.nets[set.n]) != 0)
            return hz_err_set(err, HZ_EINVAL, "bad network '%.*s'", (int)(j - i > 60 ? 60 : j - i),
                              s + i);
        set.n++;
        i = j;
    }
    *out = set;
    return 0;
}

static int
net_prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
    int bytes = bits / 8, rem = bits % 8;

    if (memcmp(a, b, (size_t)bytes) != 0)
        return 0;
    if (rem == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rem));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

int
hz_cidrset_match(const struct hz_cidrset *set, const struct sockaddr *sa)
{
    unsigned char v4[4], v6[16];
    int have4 = 0, have6 = 0;

    if (sa->sa_family == AF_INET) {
        memcpy(v4, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        have4 = 1;
    } else if (sa->sa_family == AF_INET6) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(v6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        have6 = 1;
        if (memcmp(v6, mapped, 12) == 0) {
            memcpy(v4, v6 + 12, 4);
            have4 = 1;
        }
    } else {
        return 0;
    }
    for (int i = 0; i < set->n; i++) {
        const struct hz_cidr *c = &set->nets[i];
        if (c->family == AF_INET && have4 && net_prefix_eq(v4, c->addr, c->prefix))
            return 1;
        if (c->family == AF_INET6 && have6 && net_prefix_eq(v6, c->addr, c->prefix))
            return 1;
    }
    return 0;
}
