/* SPDX-License-Identifier: MIT */
/* visitor_test.c - the daily visitor hash. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "collector/visitor.h"

static struct sockaddr_storage
v4(const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
    inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr);
    return ss;
}

static struct sockaddr_storage
v6(const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr);
    return ss;
}

static const unsigned char salt1[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const unsigned char salt2[16] = {16, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 1};
#define UA "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"

Test(visitor, is_16_hex_and_deterministic)
{
    struct sockaddr_storage a = v4("192.0.2.7");
    char h1[17], h2[17];

    hz_visitor_hash(salt1, "example.com", (struct sockaddr *)&a, UA, strlen(UA), h1);
    hz_visitor_hash(salt1, "example.com", (struct sockaddr *)&a, UA, strlen(UA), h2);
    cr_assert_eq(strlen(h1), 16);
    cr_assert_eq(strspn(h1, "0123456789abcdef"), 16);
    cr_assert_str_eq(h1, h2);
}

Test(visitor, changes_with_salt_site_address_and_agent)
{
    struct sockaddr_storage a = v4("192.0.2.7"), b = v4("192.0.2.8");
    char base[17], h[17];

    hz_visitor_hash(salt1, "example.com", (struct sockaddr *)&a, UA, strlen(UA), base);
    hz_visitor_hash(salt2, "example.com", (struct sockaddr *)&a, UA, strlen(UA), h);
    cr_assert_str_neq(base, h, "a new day's salt unlinks the visitor");
    hz_visitor_hash(salt1, "example.org", (struct sockaddr *)&a, UA, strlen(UA), h);
    cr_assert_str_neq(base, h);
    hz_visitor_hash(salt1, "example.com", (struct sockaddr *)&b, UA, strlen(UA), h);
    cr_assert_str_neq(base, h);
    hz_visitor_hash(salt1, "example.com", (struct sockaddr *)&a, UA, strlen(UA) - 1, h);
    cr_assert_str_neq(base, h);
}

Test(visitor, mapped_ipv6_equals_ipv4)
{
    struct sockaddr_storage a = v4("198.51.100.1"), m = v6("::ffff:198.51.100.1"),
                            o = v6("2001:db8::1");
    char h1[17], h2[17], h3[17];

    hz_visitor_hash(salt1, "s", (struct sockaddr *)&a, "x", 1, h1);
    hz_visitor_hash(salt1, "s", (struct sockaddr *)&m, "x", 1, h2);
    hz_visitor_hash(salt1, "s", (struct sockaddr *)&o, "x", 1, h3);
    cr_assert_str_eq(h1, h2);
    cr_assert_str_neq(h1, h3);
}

Test(visitor, salt_parse)
{
    unsigned char s[16];

    cr_assert_eq(hz_salt_parse("000102030405060708090a0b0c0d0e0f", 32, s), 0);
    cr_assert_eq(s[0], 0);
    cr_assert_eq(s[15], 15);
    cr_assert_eq(hz_salt_parse("000102030405060708090a0b0c0d0e0", 31, s), HZ_EINVAL);
    cr_assert_eq(hz_salt_parse("000102030405060708090a0b0c0d0e0G", 32, s), HZ_EINVAL);
    cr_assert_eq(hz_salt_parse("000102030405060708090A0B0C0D0E0F", 32, s), HZ_EINVAL);
}
