/* SPDX-License-Identifier: MIT */
/*
 * fuzz_proxy.c - libFuzzer target for collector/proxy.h. The first byte
 * picks the peer (bit 0: trusted or not; bit 1: IPv4 or IPv6; bit 2:
 * IPv4-mapped) and which headers are present (bit 3: X-Forwarded-For,
 * bit 4: Forwarded); the rest is split at the first '\n' into the
 * X-Forwarded-For and Forwarded values. Checked, else abort:
 * - on success the result is AF_INET or AF_INET6 (never IPv4-mapped), with
 *   port 0, and an untrusted peer gets exactly its own address;
 * - on error the output is untouched, the peer was trusted, and the reason
 *   is one printable line.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TRUSTED "10.0.0.0/8 192.0.2.0/24 ::1 2001:db8::/32"

static void
check(int ok)
{
    if (!ok)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *peers[] = {"203.0.113.5", "10.1.2.3",           "2001:db9::5",
                                  "2001:db8::7", "::ffff:203.0.113.5", "::ffff:10.1.2.3"};
    struct hz_cidrset set;
    struct sockaddr_storage peer, out, pat;
    struct hz_err e;
    const char *rest, *nl, *xff, *fwd;
    size_t rlen, xlen, flen;
    unsigned sel;
    int trusted, rc;

    if (size == 0)
        return 0;
    sel = data[0];
    trusted = (sel & 1) != 0;
    const char *p = peers[(sel & 4) ? 4 + trusted : ((sel & 2) ? 2 : 0) + trusted];
    check(hz_cidrset_parse(FUZZ_TRUSTED, strlen(FUZZ_TRUSTED), &set, NULL) == 0);
    check(hz_ip_parse(p, strlen(p), &peer) == 0);
    check(hz_cidrset_match(&set, (struct sockaddr *)&peer) == trusted);

    rest = (const char *)data + 1;
    rlen = size - 1;
    nl = memchr(rest, '\n', rlen);
    xff = (sel & 8) ? rest : NULL;
    xlen = nl ? (size_t)(nl - rest) : rlen;
    fwd = (sel & 16) ? (nl ? nl + 1 : rest + rlen) : NULL;
    flen = nl ? rlen - xlen - 1 : 0;

    memset(&out, 0xa5, sizeof(out));
    memset(&pat, 0xa5, sizeof(pat));
    memset(&e, 0, sizeof(e));
    rc = hz_proxy_client((struct sockaddr *)&peer, &set, xff, xlen, fwd, flen, &out, &e);
    if (rc != 0) {
        check(rc == HZ_EINVAL);
        check(trusted);
        check(memcmp(&out, &pat, sizeof(out)) == 0);
        check(e.msg[0] != '\0');
        for (const char *m = e.msg; *m; m++)
            check(*m >= 0x20 && *m < 0x7f);
        return 0;
    }
    if (out.ss_family == AF_INET) {
        check(((struct sockaddr_in *)&out)->sin_port == 0);
    } else {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out;
        check(out.ss_family == AF_INET6);
        check(s6->sin6_port == 0);
        check(memcmp(s6->sin6_addr.s6_addr, mapped, 12) != 0);
    }
    if (!trusted) {
        char a[INET6_ADDRSTRLEN];
        const void *ap = out.ss_family == AF_INET
                             ? (const void *)&((struct sockaddr_in *)&out)->sin_addr
                             : (const void *)&((struct sockaddr_in6 *)&out)->sin6_addr;
        check(inet_ntop(out.ss_family, ap, a, sizeof(a)) != NULL);
        check(strcmp(a, (sel & 4) ? p + 7 : p) == 0);
    }
    return 0;
}
