/* SPDX-License-Identifier: MIT */
/*
 * net_test.c - listen/connect addresses, textual IPs, CIDR sets and
 * matching (IPv4, IPv6, IPv4-mapped IPv6).
 */
#include "common/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

/* ---------------------------------------------------------- addresses */

struct addr_case {
    char text[160];
    int ok;
    int is_unix;
    char host[64];
    int port;
    char path[120];
};

/* clang-format off */
static struct addr_case addr_cases[] = {
    {"127.0.0.1:6379", 1, 0, "127.0.0.1", 6379, ""},
    {"0.0.0.0:8080", 1, 0, "0.0.0.0", 8080, ""},
    {"localhost:1", 1, 0, "localhost", 1, ""},
    {"redis.internal-net.example:65535", 1, 0, "redis.internal-net.example", 65535, ""},
    {"[::1]:8081", 1, 0, "::1", 8081, ""},
    {"[::]:443", 1, 0, "::", 443, ""},
    {"[2001:db8::17]:80", 1, 0, "2001:db8::17", 80, ""},
    {"unix:/run/redis/redis.sock", 1, 1, "", 0, "/run/redis/redis.sock"},
    {"", 0, 0, "", 0, ""},
    {"127.0.0.1", 0, 0, "", 0, ""},
    {"127.0.0.1:", 0, 0, "", 0, ""},
    {"127.0.0.1:0", 0, 0, "", 0, ""},
    {"127.0.0.1:65536", 0, 0, "", 0, ""},
    {"127.0.0.1:-1", 0, 0, "", 0, ""},
    {"127.0.0.1:+80", 0, 0, "", 0, ""},
    {"127.0.0.1:80x", 0, 0, "", 0, ""},
    {"127.0.0.1: 80", 0, 0, "", 0, ""},
    {":80", 0, 0, "", 0, ""},
    {"host name:80", 0, 0, "", 0, ""},
    {"host/x:80", 0, 0, "", 0, ""},
    {"[::1]", 0, 0, "", 0, ""},
    {"[::1]80", 0, 0, "", 0, ""},
    {"[::1]:", 0, 0, "", 0, ""},
    {"[::1:80", 0, 0, "", 0, ""},
    {"[]:80", 0, 0, "", 0, ""},
    /* an unbracketed IPv6 address is ambiguous: ::1 port 80, or ::1:80? */
    {"::1:80", 0, 0, "", 0, ""},
    {"2001:db8::1:443", 0, 0, "", 0, ""},
    {"unix:", 0, 0, "", 0, ""},
    {"unix:relative/path", 0, 0, "", 0, ""},
    {"unix:/0123456789012345678901234567890123456789012345678901234567890123456789"
     "01234567890123456789012345678901234567", 0, 0, "", 0, ""},
    {"a123456789012345678901234567890123456789012345678901234567890123:80", 0, 0, "", 0, ""},
};
/* clang-format on */

ParameterizedTestParameters(net_addr, parse)
{
    return cr_make_param_array(struct addr_case, addr_cases,
                               sizeof(addr_cases) / sizeof(addr_cases[0]));
}

ParameterizedTest(struct addr_case *c, net_addr, parse)
{
    struct hz_addr a, before;
    struct hz_err err;
    int rc;

    memset(&a, 0x5a, sizeof(a));
    before = a;
    memset(&err, 0, sizeof(err));
    rc = hz_addr_parse(c->text, strlen(c->text), &a, &err);
    if (!c->ok) {
        cr_assert_eq(rc, HZ_EINVAL, "accepted '%s'", c->text);
        cr_assert_neq(err.msg[0], '\0');
        cr_assert_eq(memcmp(&a, &before, sizeof(a)), 0, "out changed on error");
        return;
    }
    cr_assert_eq(rc, 0, "'%s': %s", c->text, err.msg);
    cr_assert_eq(a.is_unix, c->is_unix);
    cr_assert_str_eq(a.host, c->host);
    cr_assert_eq(a.port, c->port);
    cr_assert_str_eq(a.path, c->path);
}

Test(net_addr, length_bounds_the_input)
{
    struct hz_addr a;

    /* only the first 14 bytes are the address */
    cr_assert_eq(hz_addr_parse("127.0.0.1:6379999", 14, &a, NULL), 0);
    cr_assert_eq(a.port, 6379);
    cr_assert_eq(hz_addr_parse("unix:/a\0b", 9, &a, NULL), HZ_EINVAL);
    cr_assert_eq(hz_addr_parse("unix:/longest", 11, &a, NULL), 0);
    cr_assert_str_eq(a.path, "/longe");
}

/* -------------------------------------------------------- textual IPs */

struct ip_case {
    char text[64];
    int len;    /* -1: strlen */
    int family; /* 0: invalid */
};

/* clang-format off */
static struct ip_case ip_cases[] = {
    {"192.0.2.1", -1, AF_INET},
    {"0.0.0.0", -1, AF_INET},
    {"255.255.255.255", -1, AF_INET},
    {"::1", -1, AF_INET6},
    {"::", -1, AF_INET6},
    {"2001:db8::1", -1, AF_INET6},
    {"::ffff:192.0.2.1", -1, AF_INET6},
    {"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", -1, AF_INET6},
    {"192.0.2.1junk", 9, AF_INET},
    {"", -1, 0},
    {"1.2.3", -1, 0},
    {"1.2.3.256", -1, 0},
    {"1.2.3.4:80", -1, 0},
    {" 1.2.3.4", -1, 0},
    {"1.2.3.4 ", -1, 0},
    {"::g", -1, 0},
    {"2001:db8::1%eth0", -1, 0},
    {"[::1]", -1, 0},
    {"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2550", -1, 0},
    {"localhost", -1, 0},
    {"1.2.3.4\0" "5", 9, 0}, /* a NUL inside (buf, len) */
    {"::1\0", 4, 0},
};
/* clang-format on */

ParameterizedTestParameters(net_ip, parse)
{
    return cr_make_param_array(struct ip_case, ip_cases, sizeof(ip_cases) / sizeof(ip_cases[0]));
}

ParameterizedTest(struct ip_case *c, net_ip, parse)
{
    struct sockaddr_storage ss;
    size_t len = c->len < 0 ? strlen(c->text) : (size_t)c->len;
    int rc = hz_ip_parse(c->text, len, &ss);

    if (c->family == 0) {
        cr_assert_eq(rc, HZ_EINVAL, "accepted '%.*s'", (int)len, c->text);
        return;
    }
    cr_assert_eq(rc, 0, "'%s'", c->text);
    cr_assert_eq(ss.ss_family, c->family);
}

Test(net_ip, parses_the_bytes)
{
    struct sockaddr_storage ss;
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
    static const unsigned char want6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                            0,    0,    0,    0,    0, 0, 0, 0x2a};

    cr_assert_eq(hz_ip_parse("198.51.100.7", 12, &ss), 0);
    cr_assert_eq(ntohl(s4->sin_addr.s_addr), 0xc6336407u);
    cr_assert_eq(s4->sin_port, 0);
    cr_assert_eq(hz_ip_parse("2001:db8::2a", 12, &ss), 0);
    cr_assert_eq(memcmp(&s6->sin6_addr, want6, 16), 0);
}

/* ------------------------------------------------------------- CIDRs */

Test(net_cidr, parses_lists)
{
    struct hz_cidrset set;
    struct hz_err err;
    const char *s = "10.0.0.0/8 ::1,192.168.1.1\t fd00::/8 ,, 0.0.0.0/0";

    cr_assert_eq(hz_cidrset_parse(s, strlen(s), &set, &err), 0, "%s", err.msg);
    cr_assert_eq(set.n, 5);
    cr_assert_eq(set.nets[0].family, AF_INET);
    cr_assert_eq(set.nets[0].prefix, 8);
    cr_assert_eq(set.nets[0].addr[0], 10);
    cr_assert_eq(set.nets[1].family, AF_INET6);
    cr_assert_eq(set.nets[1].prefix, 128);
    cr_assert_eq(set.nets[1].addr[15], 1);
    cr_assert_eq(set.nets[2].prefix, 32);
    cr_assert_eq(set.nets[3].prefix, 8);
    cr_assert_eq(set.nets[3].addr[0], 0xfd);
    cr_assert_eq(set.nets[4].prefix, 0);

    cr_assert_eq(hz_cidrset_parse("", 0, &set, &err), 0);
    cr_assert_eq(set.n, 0);
    cr_assert_eq(hz_cidrset_parse(" , ", 3, &set, &err), 0);
    cr_assert_eq(set.n, 0);
}

struct bad_cidr {
    char text[64];
    char msg[96];
};

/* clang-format off */
static struct bad_cidr bad_cidrs[] = {
    {"10.0.0.0/33", "bad network '10.0.0.0/33'"},
    {"::1/129", "bad network '::1/129'"},
    {"10.0.0.0/", "bad network '10.0.0.0/'"},
    {"10.0.0.0/-1", "bad network '10.0.0.0/-1'"},
    {"10.0.0.0/8x", "bad network '10.0.0.0/8x'"},
    {"10.0.0.0/08/8", "bad network '10.0.0.0/08/8'"},
    {"/8", "bad network '/8'"},
    {"127.0.0.1 banana ::1", "bad network 'banana'"},
    {"10.0.0.0;8", "bad network '10.0.0.0;8'"},
};
/* clang-format on */

ParameterizedTestParameters(net_cidr, rejects)
{
    return cr_make_param_array(struct bad_cidr, bad_cidrs,
                               sizeof(bad_cidrs) / sizeof(bad_cidrs[0]));
}

ParameterizedTest(struct bad_cidr *c, net_cidr, rejects)
{
    struct hz_cidrset set;
    struct hz_err err;

    set.n = 77;
    cr_assert_eq(hz_cidrset_parse(c->text, strlen(c->text), &set, &err), HZ_EINVAL, "accepted %s",
                 c->text);
    cr_assert_str_eq(err.msg, c->msg);
    cr_assert_eq(set.n, 77, "out changed on error");
}

Test(net_cidr, at_most_32_networks)
{
    char buf[1024];
    size_t n = 0;
    struct hz_cidrset set;
    struct hz_err err;

    for (int i = 0; i < 32; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "10.0.%d.0/24 ", i);
    cr_assert_eq(hz_cidrset_parse(buf, n, &set, &err), 0);
    cr_assert_eq(set.n, 32);
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "10.1.0.0/16");
    cr_assert_eq(hz_cidrset_parse(buf, n, &set, &err), HZ_EINVAL);
    cr_assert_str_eq(err.msg, "more than 32 networks");
}

/* ----------------------------------------------------------- matching */

struct match_case {
    char set[96];
    char ip[48];
    int want;
};

/* clang-format off */
static struct match_case match_cases[] = {
    {"127.0.0.1/8", "127.0.0.1", 1},
    {"127.0.0.1/8", "127.255.255.255", 1},
    {"127.0.0.1/8", "128.0.0.1", 0},
    {"127.0.0.1/8", "::ffff:127.0.0.5", 1},   /* v4-mapped matches a v4 net */
    {"127.0.0.1/8", "::127.0.0.5", 0},        /* v4-compatible is not mapped */
    {"127.0.0.1/8", "::1", 0},
    {"::1", "::1", 1},
    {"::1", "127.0.0.1", 0},
    {"::1", "::2", 0},
    {"192.168.0.0/16", "192.168.255.1", 1},
    {"192.168.0.0/16", "192.169.0.1", 0},
    {"172.16.0.0/12", "172.31.255.255", 1},   /* not byte-aligned */
    {"172.16.0.0/12", "172.32.0.0", 0},
    {"172.16.0.0/12", "172.15.255.255", 0},
    {"10.0.0.128/25", "10.0.0.127", 0},
    {"10.0.0.128/25", "10.0.0.128", 1},
    {"192.0.2.7", "192.0.2.7", 1},
    {"192.0.2.7", "192.0.2.8", 0},
    {"0.0.0.0/0", "203.0.113.9", 1},
    {"0.0.0.0/0", "2001:db8::1", 0},
    {"::/0", "2001:db8::1", 1},
    {"::/0", "192.0.2.1", 0},
    {"2001:db8::/32", "2001:db8:ffff::1", 1},
    {"2001:db8::/32", "2001:db9::1", 0},
    {"2001:db8::/33", "2001:db8:7fff::1", 1},
    {"2001:db8::/33", "2001:db8:8000::1", 0},
    {"::ffff:0:0/96", "::ffff:198.51.100.1", 1},
    {"::ffff:0:0/96", "198.51.100.1", 0},
    {"10.0.0.0/8 fd00::/8", "fd12::1", 1},
    {"10.0.0.0/8 fd00::/8", "10.9.8.7", 1},
    {"10.0.0.0/8 fd00::/8", "fe80::1", 0},
    {"", "127.0.0.1", 0},
};
/* clang-format on */

ParameterizedTestParameters(net_match, cidrs)
{
    return cr_make_param_array(struct match_case, match_cases,
                               sizeof(match_cases) / sizeof(match_cases[0]));
}

ParameterizedTest(struct match_case *c, net_match, cidrs)
{
    struct hz_cidrset set;
    struct sockaddr_storage ss;
    struct hz_err err;

    cr_assert_eq(hz_cidrset_parse(c->set, strlen(c->set), &set, &err), 0, "%s", err.msg);
    cr_assert_eq(hz_ip_parse(c->ip, strlen(c->ip), &ss), 0, "%s", c->ip);
    cr_expect_eq(hz_cidrset_match(&set, (const struct sockaddr *)&ss), c->want, "%s in {%s}", c->ip,
                 c->set);
}

Test(net_match, other_families_never_match)
{
    struct hz_cidrset set;
    struct sockaddr_un sun;

    cr_assert_eq(hz_cidrset_parse("0.0.0.0/0 ::/0", 14, &set, NULL), 0);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    cr_assert_eq(hz_cidrset_match(&set, (const struct sockaddr *)&sun), 0);
}
