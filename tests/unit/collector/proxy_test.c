/* SPDX-License-Identifier: MIT */
/*
 * proxy_test.c - the client address behind trusted proxies
 * (collector/proxy.h), table-driven: untrusted peers whose headers are
 * ignored (spoofed or malformed), X-Forwarded-For chains walked right to
 * left, all-trusted chains, IPv6 and IPv4-mapped peers and hops, Forwarded
 * (RFC 7239) syntax and its precedence, malformed headers, and the 64-hop
 * and 8 KiB limits. Every error must leave *out untouched and give a
 * one-line reason that never quotes an address.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "collector/proxy.h"

#define TRUSTED "10.0.0.0/8 ::1 fd00::/8"

/* The address in ss as text, and its family checked against the text. */
static void
assert_addr(const struct sockaddr_storage *ss, const char *want)
{
    char got[INET6_ADDRSTRLEN];
    const void *a;

    if (strchr(want, ':') != NULL) {
        cr_assert_eq(ss->ss_family, AF_INET6, "want %s, got family %d", want, ss->ss_family);
        a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        cr_assert_eq(((const struct sockaddr_in6 *)ss)->sin6_port, 0);
    } else {
        cr_assert_eq(ss->ss_family, AF_INET, "want %s, got family %d", want, ss->ss_family);
        a = &((const struct sockaddr_in *)ss)->sin_addr;
        cr_assert_eq(((const struct sockaddr_in *)ss)->sin_port, 0);
    }
    cr_assert_not_null(inet_ntop(ss->ss_family, a, got, sizeof(got)));
    cr_assert_str_eq(got, want);
}

static void
assert_untouched(const struct sockaddr_storage *out, const struct hz_err *e)
{
    unsigned char pat[sizeof(*out)];

    memset(pat, 0xa5, sizeof(pat));
    cr_assert(memcmp(out, pat, sizeof(pat)) == 0, "output written on error");
    cr_assert_gt(strlen(e->msg), 0, "no reason");
    for (const char *p = e->msg; *p; p++)
        cr_assert(*p >= 0x20 && *p < 0x7f, "reason has byte 0x%02x", (unsigned char)*p);
    cr_assert_null(strstr(e->msg, "198.51"), "reason quotes an address: %s", e->msg);
    cr_assert_null(strstr(e->msg, "2001:"), "reason quotes an address: %s", e->msg);
}

static void
peer_of(const char *text, struct sockaddr_storage *ss)
{
    cr_assert_eq(hz_ip_parse(text, strlen(text), ss), 0, "bad test peer %s", text);
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(40000);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(40000);
}

struct proxy_case {
    char peer[40];
    int has_xff;
    char xff[160];
    int has_fwd;
    char fwd[160];
    int rc;
    char want[40];
};

/* clang-format off */
static struct proxy_case proxy_cases[] = {
    /* untrusted peers: headers are not read */
    { "203.0.113.5", 1, "198.51.100.7", 0, "", 0, "203.0.113.5" },
    { "203.0.113.5", 1, "garbage, ###", 0, "", 0, "203.0.113.5" },
    { "203.0.113.5", 0, "", 1, "for=\"unterminated", 0, "203.0.113.5" },
    { "2001:db8::5", 1, "10.0.0.1", 1, "for=10.0.0.1", 0, "2001:db8::5" },
    { "::ffff:203.0.113.5", 1, "198.51.100.7", 0, "", 0, "203.0.113.5" },
    /* trusted peer, X-Forwarded-For */
    { "10.0.0.1", 0, "", 0, "", 0, "10.0.0.1" },
    { "10.0.0.1", 1, "", 0, "", 0, "10.0.0.1" },
    { "10.0.0.1", 1, " , ,", 0, "", 0, "10.0.0.1" },
    { "10.0.0.1", 1, "198.51.100.7", 0, "", 0, "198.51.100.7" },
    { "10.0.0.1", 1, "198.51.100.7, 10.0.0.2", 0, "", 0, "198.51.100.7" },
    { "10.0.0.1", 1, "6.6.6.6, 198.51.100.7, 10.0.0.2", 0, "", 0, "198.51.100.7" },
    { "10.0.0.1", 1, "6.6.6.6,198.51.100.7,10.0.0.2,10.9.9.9", 0, "", 0, "198.51.100.7" },
    { "10.0.0.1", 1, "10.0.0.3, 10.0.0.2", 0, "", 0, "10.0.0.3" },
    { "10.0.0.1", 1, "  198.51.100.7\t, ,10.0.0.2 ,", 0, "", 0, "198.51.100.7" },
    { "10.0.0.1", 1, "2001:db8::1", 0, "", 0, "2001:db8::1" },
    { "10.0.0.1", 1, "[2001:db8::1]", 0, "", 0, "2001:db8::1" },
    { "10.0.0.1", 1, "[2001:db8::1]:4711", 0, "", 0, "2001:db8::1" },
    { "10.0.0.1", 1, "198.51.100.7:8080", 0, "", 0, "198.51.100.7" },
    { "10.0.0.1", 1, "::ffff:198.51.100.7", 0, "", 0, "198.51.100.7" },
    { "10.0.0.1", 1, "198.51.100.7, ::ffff:10.0.0.2", 0, "", 0, "198.51.100.7" },
    { "10.0.0.1", 1, "unknown, 198.51.100.7", 0, "", 0, "198.51.100.7" },
    { "10.0.0.1", 1, "198.51.100.7, fd00::1, ::1", 0, "", 0, "198.51.100.7" },
    /* trusted IPv6 and IPv4-mapped peers */
    { "::1", 1, "203.0.113.9", 0, "", 0, "203.0.113.9" },
    { "::ffff:10.0.0.1", 1, "198.51.100.7", 0, "", 0, "198.51.100.7" },
    { "::ffff:10.0.0.1", 0, "", 0, "", 0, "10.0.0.1" },
    { "fd00::2", 1, "2001:db8:0:0:0:0:0:9", 0, "", 0, "2001:db8::9" },
    /* malformed X-Forwarded-For from a trusted peer */
    { "10.0.0.1", 1, "garbage", 0, "", HZ_EINVAL, "" },
    { "10.0.0.1", 1, "example.com", 0, "", HZ_EINVAL, "" },
    { "10.0.0.1", 1, "198.51.100.7, unknown", 0, "", HZ_EINVAL, "" },
    { "10.0.0.1", 1, "198.51.100.7:99999", 0, "", HZ_EINVAL, "" },
    { "10.0.0.1", 1, "198.51.100.7:", 0, "", HZ_EINVAL, "" },
    { "10.0.0.1", 1, "fe80::1%eth0", 0, "", HZ_EINVAL, "" },
    { "10.0.0.1", 1, "[198.51.100.7]", 0, "", HZ_EINVAL, "" },
    { "10.0.0.1", 1, "[2001:db8::1", 0, "", HZ_EINVAL, "" },
    { "10.0.0.1", 1, "[2001:db8::1]x", 0, "", HZ_EINVAL, "" },
    { "10.0.0.1", 1, "198.51.100.7 10.0.0.2", 0, "", HZ_EINVAL, "" },
    { "10.0.0.1", 1, "198.51.100.07", 0, "", HZ_EINVAL, "" },
    { "10.0.0.1", 1, "\"198.51.100.7\"", 0, "", HZ_EINVAL, "" },
    /* Forwarded */
    { "10.0.0.1", 0, "", 1, "for=198.51.100.7", 0, "198.51.100.7" },
    { "10.0.0.1", 0, "", 1, "For=198.51.100.7;proto=https;by=10.0.0.1", 0, "198.51.100.7" },
    { "10.0.0.1", 0, "", 1, "proto=https;FOR=198.51.100.7", 0, "198.51.100.7" },
    { "10.0.0.1", 0, "", 1, "for=\"[2001:db8::1]:4711\"", 0, "2001:db8::1" },
    { "10.0.0.1", 0, "", 1, "for=\"[2001:db8::1]\"", 0, "2001:db8::1" },
    { "10.0.0.1", 0, "", 1, "for=\"198.51.100.7:80\"", 0, "198.51.100.7" },
    { "10.0.0.1", 0, "", 1, "for=\"198.51.100\\.7\"", 0, "198.51.100.7" },
    { "10.0.0.1", 0, "", 1, "for=\"[2001:db8::1]:_p1\"", 0, "2001:db8::1" },
    { "10.0.0.1", 0, "", 1, "for=6.6.6.6, for=198.51.100.7, for=10.0.0.2", 0, "198.51.100.7" },
    { "10.0.0.1", 0, "", 1, "for=10.0.0.3, for=10.0.0.2", 0, "10.0.0.3" },
    { "10.0.0.1", 0, "", 1, "for=198.51.100.7 ; proto=http , for=10.0.0.2", 0, "198.51.100.7" },
    { "10.0.0.1", 0, "", 1, "for=198.51.100.7;", 0, "198.51.100.7" },
    { "10.0.0.1", 0, "", 1, "for=198.51.100.7, proto=https", 0, "198.51.100.7" },
    { "10.0.0.1", 0, "", 1, "for=unknown, for=198.51.100.7", 0, "198.51.100.7" },
    { "10.0.0.1", 0, "", 1, "by=\"a,b;c\";for=198.51.100.7", 0, "198.51.100.7" },
    /* one list, X-Forwarded-For then Forwarded; a Forwarded without "for" adds no hop */
    { "10.0.0.1", 1, "6.6.6.6", 1, "for=198.51.100.7", 0, "198.51.100.7" },
    { "10.0.0.1", 1, "198.51.100.7", 1, "proto=https", 0, "198.51.100.7" },
    { "10.0.0.1", 1, "198.51.100.7", 1, "", 0, "198.51.100.7" },
    { "10.0.0.1", 0, "", 1, " ;; , ", 0, "10.0.0.1" },
    /* malformed Forwarded from a trusted peer */
    { "10.0.0.1", 0, "", 1, "for=unknown", HZ_EINVAL, "" },
    { "10.0.0.1", 0, "", 1, "for=_hidden", HZ_EINVAL, "" },
    { "10.0.0.1", 0, "", 1, "for=\"198.51.100.7", HZ_EINVAL, "" },
    { "10.0.0.1", 0, "", 1, "for=198.51.100.7;for=203.0.113.1", HZ_EINVAL, "" },
    { "10.0.0.1", 0, "", 1, "for=[2001:db8::1]", HZ_EINVAL, "" },
    { "10.0.0.1", 0, "", 1, "for = 198.51.100.7", HZ_EINVAL, "" },
    { "10.0.0.1", 0, "", 1, "for=198.51.100.7,garbage", HZ_EINVAL, "" },
    { "10.0.0.1", 0, "", 1, "for=", HZ_EINVAL, "" },
    { "10.0.0.1", 0, "", 1, "for=198.51.100.7 x", HZ_EINVAL, "" },
    { "10.0.0.1", 0, "", 1, "for=\"bad\x01\"", HZ_EINVAL, "" },
    { "10.0.0.1", 0, "", 1, "for=example.com", HZ_EINVAL, "" },
    { "10.0.0.1", 1, "198.51.100.7", 1, "for=\"[2001:db8::1]:99999\"", HZ_EINVAL, "" },
};
/* clang-format on */

ParameterizedTestParameters(proxy_client, table)
{
    return cr_make_param_array(struct proxy_case, proxy_cases,
                               sizeof(proxy_cases) / sizeof(proxy_cases[0]));
}

ParameterizedTest(struct proxy_case *c, proxy_client, table)
{
    struct hz_cidrset set;
    struct sockaddr_storage peer, out;
    struct hz_err e = {0, ""};
    int rc;

    cr_assert_eq(hz_cidrset_parse(TRUSTED, strlen(TRUSTED), &set, NULL), 0);
    peer_of(c->peer, &peer);
    memset(&out, 0xa5, sizeof(out));
    rc = hz_proxy_client((struct sockaddr *)&peer, &set, c->has_xff ? c->xff : NULL, strlen(c->xff),
                         c->has_fwd ? c->fwd : NULL, strlen(c->fwd), &out, &e);
    cr_assert_eq(rc, c->rc, "xff '%s' fwd '%s': rc %d (%s)", c->xff, c->fwd, rc, e.msg);
    if (rc != 0) {
        assert_untouched(&out, &e);
        return;
    }
    assert_addr(&out, c->want);
}

/* A chain of n hops "198.51.100.7, 10.0.0.2, 10.0.0.2, ..." for xff, or
 * the same as Forwarded elements. */
static size_t
chain(char *buf, size_t cap, int n, int fwd)
{
    size_t o = 0;

    for (int i = 0; i < n; i++) {
        int w = snprintf(buf + o, cap - o, "%s%s%s", i ? ", " : "", fwd ? "for=" : "",
                         i ? "10.0.0.2" : "198.51.100.7");
        cr_assert(w > 0 && (size_t)w < cap - o);
        o += (size_t)w;
    }
    return o;
}

Test(proxy_client, hop_limit)
{
    struct hz_cidrset set;
    struct sockaddr_storage peer, out;
    struct hz_err e = {0, ""};
    char h[4096];
    size_t n;

    cr_assert_eq(hz_cidrset_parse(TRUSTED, strlen(TRUSTED), &set, NULL), 0);
    peer_of("10.0.0.1", &peer);
    for (int fwd = 0; fwd <= 1; fwd++) {
        n = chain(h, sizeof(h), HZ_PROXY_HOPS_MAX, fwd);
        cr_assert_eq(hz_proxy_client((struct sockaddr *)&peer, &set, fwd ? NULL : h, n,
                                     fwd ? h : NULL, n, &out, &e),
                     0, "%s", e.msg);
        assert_addr(&out, "198.51.100.7");
        n = chain(h, sizeof(h), HZ_PROXY_HOPS_MAX + 1, fwd);
        memset(&out, 0xa5, sizeof(out));
        cr_assert_eq(hz_proxy_client((struct sockaddr *)&peer, &set, fwd ? NULL : h, n,
                                     fwd ? h : NULL, n, &out, &e),
                     HZ_EINVAL);
        assert_untouched(&out, &e);
        cr_assert_not_null(strstr(e.msg, "64 hops"), "%s", e.msg);
    }
}

Test(proxy_client, size_limit)
{
    struct hz_cidrset set;
    struct sockaddr_storage peer, out;
    struct hz_err e = {0, ""};
    static char h[HZ_PROXY_HEADER_MAX + 2];
    size_t n = HZ_PROXY_HEADER_MAX;

    cr_assert_eq(hz_cidrset_parse(TRUSTED, strlen(TRUSTED), &set, NULL), 0);
    /* Exactly 8 KiB: blanks and then one address is fine. */
    memset(h, ' ', sizeof(h));
    memcpy(h + n - 12, "198.51.100.7", 12);
    peer_of("10.0.0.1", &peer);
    cr_assert_eq(hz_proxy_client((struct sockaddr *)&peer, &set, h, n, NULL, 0, &out, &e), 0);
    assert_addr(&out, "198.51.100.7");
    /* One byte more is refused, for either header. */
    memcpy(h + n - 11, "198.51.100.7", 12);
    memset(&out, 0xa5, sizeof(out));
    cr_assert_eq(hz_proxy_client((struct sockaddr *)&peer, &set, h, n + 1, NULL, 0, &out, &e),
                 HZ_EINVAL);
    assert_untouched(&out, &e);
    cr_assert_eq(hz_proxy_client((struct sockaddr *)&peer, &set, NULL, 0, h, n + 1, &out, &e),
                 HZ_EINVAL);
    assert_untouched(&out, &e);
    /* An untrusted peer's oversized header is not even looked at. */
    peer_of("203.0.113.5", &peer);
    cr_assert_eq(hz_proxy_client((struct sockaddr *)&peer, &set, h, n + 1, h, n + 1, &out, &e), 0);
    assert_addr(&out, "203.0.113.5");
}

Test(proxy_client, no_trusted_set_means_peer)
{
    struct sockaddr_storage peer, out;

    peer_of("10.0.0.1", &peer);
    cr_assert_eq(
        hz_proxy_client((struct sockaddr *)&peer, NULL, "198.51.100.7", 12, NULL, 0, &out, NULL),
        0);
    assert_addr(&out, "10.0.0.1");
}

Test(proxy_client, non_ip_peer_is_refused)
{
    struct sockaddr_un un;
    struct sockaddr_storage out;
    struct hz_err e = {0, ""};

    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    memset(&out, 0xa5, sizeof(out));
    cr_assert_eq(hz_proxy_client((struct sockaddr *)&un, NULL, NULL, 0, NULL, 0, &out, &e),
                 HZ_EINVAL);
    assert_untouched(&out, &e);
    cr_assert_eq(hz_proxy_client(NULL, NULL, NULL, 0, NULL, 0, &out, NULL), HZ_EINVAL);
}

Test(proxy_client, nul_inside_header_is_malformed)
{
    static const char xff[] = "198.51.100.7\0, 10.0.0.2";
    struct hz_cidrset set;
    struct sockaddr_storage peer, out;

    cr_assert_eq(hz_cidrset_parse(TRUSTED, strlen(TRUSTED), &set, NULL), 0);
    peer_of("10.0.0.1", &peer);
    cr_assert_eq(
        hz_proxy_client((struct sockaddr *)&peer, &set, xff, sizeof(xff) - 1, NULL, 0, &out, NULL),
        HZ_EINVAL);
}

/* ------------------------------------------------------------ several lines */

/* clang-format off */
#define XFF(s) {(s), sizeof(s) - 1, 0}
#define FWD(s) {(s), sizeof(s) - 1, 1}
/* clang-format on */

/* The client from a trusted peer 10.0.0.1 and the given lines. */
static int
lines_client(const struct hz_proxy_line *l, int n, struct sockaddr_storage *out)
{
    struct hz_cidrset set;
    struct sockaddr_storage peer;
    struct hz_err e = {0, ""};

    cr_assert_eq(hz_cidrset_parse(TRUSTED, strlen(TRUSTED), &set, NULL), 0);
    peer_of("10.0.0.1", &peer);
    return hz_proxy_client_lines((struct sockaddr *)&peer, &set, l, n, out, &e);
}

/* HAProxy appends a line of its own after the client's: the client's line
 * is read first, the proxy's last, so the proxy's wins. */
Test(proxy_lines, a_second_xff_line_from_the_proxy_wins)
{
    struct hz_proxy_line l[] = {XFF("6.6.6.6"), XFF("198.51.100.7")};
    struct sockaddr_storage out;

    cr_assert_eq(lines_client(l, 2, &out), 0);
    assert_addr(&out, "198.51.100.7");
}

/* Lines behind two proxies: each line holds hops, the list is walked
 * from the right past both trusted proxies. */
Test(proxy_lines, several_lines_are_one_list)
{
    struct hz_proxy_line l[] = {XFF("6.6.6.6, 198.51.100.7"), XFF("10.0.0.9"), XFF("10.0.0.8")};
    struct sockaddr_storage out;

    cr_assert_eq(lines_client(l, 3, &out), 0);
    assert_addr(&out, "198.51.100.7");
}

/* The client sends Forwarded, the proxy sets X-Forwarded-For after it:
 * the client's Forwarded no longer beats the proxy's line. */
Test(proxy_lines, client_forwarded_before_proxy_xff_loses)
{
    struct hz_proxy_line l[] = {FWD("for=6.6.6.6"), XFF("198.51.100.7")};
    struct sockaddr_storage out;

    cr_assert_eq(lines_client(l, 2, &out), 0);
    assert_addr(&out, "198.51.100.7");
}

/* Mixed headers the other way round, with a trusted hop in between. */
Test(proxy_lines, mixed_headers_walk_from_the_right)
{
    struct hz_proxy_line l[] = {XFF("6.6.6.6"), FWD("for=\"[2001:db8::7]\", for=10.0.0.5"),
                                XFF("10.0.0.4")};
    struct sockaddr_storage out;

    cr_assert_eq(lines_client(l, 3, &out), 0);
    assert_addr(&out, "2001:db8::7");
}

/* Spoofed values before the proxy's are never parsed, even junk; a
 * Forwarded line without "for" adds no hop. */
Test(proxy_lines, spoofed_values_before_the_proxys_are_ignored)
{
    struct hz_proxy_line l[] = {XFF("unknown, not-an-ip"), XFF("127.0.0.1, 10.0.0.3"),
                                FWD("proto=https"), XFF("203.0.113.9")};
    struct sockaddr_storage out;

    cr_assert_eq(lines_client(l, 4, &out), 0);
    assert_addr(&out, "203.0.113.9");
}

/* Every hop trusted: the leftmost; malformed lines and too many lines are
 * refused from a trusted peer. */
Test(proxy_lines, limits_and_malformed_lines)
{
    struct hz_proxy_line all[] = {XFF("10.0.0.7"), FWD("for=10.0.0.6")};
    struct hz_proxy_line bad[] = {XFF("198.51.100.7"), FWD("for=\"198.51.100.7")};
    struct hz_proxy_line many[HZ_PROXY_LINES_MAX + 1];
    struct sockaddr_storage out;

    cr_assert_eq(lines_client(all, 2, &out), 0);
    assert_addr(&out, "10.0.0.7");
    cr_assert_eq(lines_client(bad, 2, &out), HZ_EINVAL);
    for (int i = 0; i <= HZ_PROXY_LINES_MAX; i++)
        many[i] = (struct hz_proxy_line)XFF("198.51.100.7");
    cr_assert_eq(lines_client(many, HZ_PROXY_LINES_MAX, &out), 0);
    cr_assert_eq(lines_client(many, HZ_PROXY_LINES_MAX + 1, &out), HZ_EINVAL);
}

/* An untrusted peer's lines are not read, however many. */
Test(proxy_lines, untrusted_peer_lines_are_not_read)
{
    struct hz_proxy_line l[] = {XFF("198.51.100.7"), FWD("for=garbage")};
    struct hz_cidrset set;
    struct sockaddr_storage peer, out;

    cr_assert_eq(hz_cidrset_parse(TRUSTED, strlen(TRUSTED), &set, NULL), 0);
    peer_of("203.0.113.5", &peer);
    cr_assert_eq(hz_proxy_client_lines((struct sockaddr *)&peer, &set, l, 2, &out, NULL), 0);
    assert_addr(&out, "203.0.113.5");
}
