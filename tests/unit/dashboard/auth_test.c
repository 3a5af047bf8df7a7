/* SPDX-License-Identifier: MIT */
/*
 * auth_test.c - named tokens (hash, scope, sites, expiry), per-login
 * sessions with revocation and both expiry limits, the per-address login
 * throttle, and --new-token's secrets, on a clock the tests set.
 */
#include "dashboard/auth.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "common/str.h"
#include "common/tz.h"

static struct hz_config *C;
static hz_auth *A;
static char alice_hash[65], ops_hash[65], old_hash[65];

#define ALICE "alice-secret-0001"
#define OPS   "ops-secret-0002"
#define OLD   "old-secret-0003"
#define T0    ((int64_t)1800000000) /* 2027-01-15 */

static void
hex_sha(const char *s, char out[65])
{
    unsigned char h[32];
    hz_auth_sha256(s, strlen(s), h);
    hz_hex(out, h, 32);
}

static void
setup(void)
{
    char text[2048];
    struct hz_err err = {0};

    hex_sha(ALICE, alice_hash);
    hex_sha(OPS, ops_hash);
    hex_sha(OLD, old_hash);
    (void)snprintf(text, sizeof(text),
                   "[dashboard]\ntoken = the-default-token\nlogin_limit = 3\n"
                   "session_idle_minutes = 10\nsession_max_hours = 1\n"
                   "[site a.example]\n[site b.example]\n[site c.example]\n"
                   "[token alice]\nsha256 = %s\nsites = b.example\n"
                   "[token ops]\nsha256 = %s\nsites = *\nscope = admin\n"
                   "[token old]\nsha256 = %s\nsites = a.example\nexpires = 2027-01-14\n",
                   alice_hash, ops_hash, old_hash);
    C = calloc(1, sizeof(*C));
    cr_assert_eq(hz_cfg_parse_string(C, text, "t.ini", &err), 0, "%s", err.msg);
    cr_assert_eq(hz_auth_new(&A, C), 0);
}

static void
teardown(void)
{
    hz_auth_free(A);
    free(C);
}

TestSuite(tokens, .init = setup, .fini = teardown);

static int32_t
day_of(int64_t t)
{
    return (int32_t)(t / 86400);
}

Test(tokens, tokens_by_secret_with_scope_and_sites)
{
    const struct hz_token *t;

    cr_assert_eq(hz_auth_token(A, ALICE, strlen(ALICE), day_of(T0), &t), HZ_AUTH_OK);
    cr_assert_str_eq(t->name, "alice");
    cr_assert_eq(t->scope, HZ_SCOPE_VIEW);
    cr_assert(hz_auth_site_ok(A, t, "b.example"));
    cr_assert_not(hz_auth_site_ok(A, t, "a.example"));
    cr_assert_not(hz_auth_site_ok(A, t, "nowhere.example"));
    cr_assert_eq(hz_auth_site_mask(A, t), 2ull);

    cr_assert_eq(hz_auth_token(A, OPS, strlen(OPS), day_of(T0), &t), HZ_AUTH_OK);
    cr_assert_eq(t->scope, HZ_SCOPE_ADMIN);
    cr_assert_eq(hz_auth_site_mask(A, t), 7ull);

    /* The old [dashboard] token: admin "default", every site. */
    cr_assert_eq(hz_auth_token(A, "the-default-token", 17, day_of(T0), &t), HZ_AUTH_OK);
    cr_assert_str_eq(t->name, "default");
    cr_assert_eq(t->scope, HZ_SCOPE_ADMIN);
    cr_assert(hz_auth_site_ok(A, t, "c.example"));

    /* Wrong, empty, a prefix, the hash itself. */
    cr_assert_eq(hz_auth_token(A, "alice-secret-0002", 17, day_of(T0), &t), HZ_AUTH_BAD);
    cr_assert_null(t);
    cr_assert_eq(hz_auth_token(A, "", 0, day_of(T0), &t), HZ_AUTH_BAD);
    cr_assert_eq(hz_auth_token(A, ALICE, 5, day_of(T0), &t), HZ_AUTH_BAD);
    cr_assert_eq(hz_auth_token(A, alice_hash, 64, day_of(T0), &t), HZ_AUTH_BAD);
}

Test(tokens, expiry_is_the_end_of_the_day)
{
    const struct hz_token *t;
    int32_t last = hz_days_from_civil(2027, 1, 14);

    cr_assert_eq(hz_auth_token(A, OLD, strlen(OLD), last, &t), HZ_AUTH_OK);
    cr_assert_eq(hz_auth_token(A, OLD, strlen(OLD), last + 1, &t), HZ_AUTH_EXPIRED);
    cr_assert_str_eq(t->name, "old");
}

Test(tokens, each_login_gets_its_own_session_and_logout_revokes_it)
{
    const struct hz_token *tok, *t;
    char s1[HZ_AUTH_SID_HEX], s2[HZ_AUTH_SID_HEX];

    cr_assert_eq(hz_auth_token(A, ALICE, strlen(ALICE), day_of(T0), &tok), HZ_AUTH_OK);
    hz_auth_session_new(A, tok, T0, s1);
    hz_auth_session_new(A, tok, T0, s2);
    cr_assert_eq(strlen(s1), 32);
    cr_assert_str_neq(s1, s2);
    cr_assert_eq(hz_auth_sessions(A, T0), 2);
    cr_assert_eq(hz_auth_session_get(A, s1, 32, T0 + 1, &t), HZ_AUTH_OK);
    cr_assert_eq(t, tok);
    cr_assert_eq(hz_auth_session_end(A, s1, 32), 1);
    cr_assert_eq(hz_auth_session_get(A, s1, 32, T0 + 2, &t), HZ_AUTH_BAD);
    cr_assert_eq(hz_auth_session_end(A, s1, 32), 0);
    cr_assert_eq(hz_auth_session_get(A, s2, 32, T0 + 2, &t), HZ_AUTH_OK, "the other login stays");
    /* Garbage ids. */
    cr_assert_eq(hz_auth_session_get(A, "zz", 2, T0, &t), HZ_AUTH_BAD);
    cr_assert_eq(hz_auth_session_get(A, "00000000000000000000000000000000", 32, T0, &t),
                 HZ_AUTH_BAD);
    cr_assert_eq(hz_auth_counters(A)->logins, 2);
    cr_assert_eq(hz_auth_counters(A)->logouts, 1);
}

Test(tokens, sessions_expire_when_idle_and_after_the_absolute_limit)
{
    const struct hz_token *tok, *t;
    char s[HZ_AUTH_SID_HEX];

    cr_assert_eq(hz_auth_token(A, OPS, strlen(OPS), day_of(T0), &tok), HZ_AUTH_OK);
    hz_auth_session_new(A, tok, T0, s);
    cr_assert_eq(hz_auth_session_get(A, s, 32, T0 + 599, &t), HZ_AUTH_OK);
    /* Idle: 10 minutes after the last use. */
    cr_assert_eq(hz_auth_session_get(A, s, 32, T0 + 599 + 600, &t), HZ_AUTH_EXPIRED);
    cr_assert_eq(hz_auth_session_get(A, s, 32, T0 + 599 + 1, &t), HZ_AUTH_BAD, "removed");

    /* Absolute: an hour after login, however busy. */
    hz_auth_session_new(A, tok, T0, s);
    for (int64_t now = T0; now < T0 + 3600; now += 300)
        cr_assert_eq(hz_auth_session_get(A, s, 32, now, &t), HZ_AUTH_OK);
    cr_assert_eq(hz_auth_session_get(A, s, 32, T0 + 3600, &t), HZ_AUTH_EXPIRED);
}

Test(tokens, a_full_table_drops_the_least_recently_used_session)
{
    const struct hz_token *tok, *t;
    char first[HZ_AUTH_SID_HEX], s[HZ_AUTH_SID_HEX];

    cr_assert_eq(hz_auth_token(A, OPS, strlen(OPS), day_of(T0), &tok), HZ_AUTH_OK);
    hz_auth_session_new(A, tok, T0, first);
    for (int i = 1; i < HZ_AUTH_SESSIONS_MAX; i++)
        hz_auth_session_new(A, tok, T0 + 1, s);
    cr_assert_eq(hz_auth_sessions(A, T0 + 1), HZ_AUTH_SESSIONS_MAX);
    hz_auth_session_new(A, tok, T0 + 2, s);
    cr_assert_eq(hz_auth_session_get(A, first, 32, T0 + 2, &t), HZ_AUTH_BAD);
    cr_assert_eq(hz_auth_session_get(A, s, 32, T0 + 2, &t), HZ_AUTH_OK);
}

static struct sockaddr_storage
addr(const char *ip)
{
    struct sockaddr_storage ss;
    cr_assert_eq(hz_ip_parse(ip, strlen(ip), &ss), 0);
    return ss;
}

Test(tokens, throttle_per_address_and_window)
{
    struct sockaddr_storage x = addr("192.0.2.7"), y = addr("192.0.2.8");
    struct sockaddr_storage v6a = addr("2001:db8:1:2::1"), v6b = addr("2001:db8:1:2::99");
    struct sockaddr_storage mapped = addr("::ffff:192.0.2.7");
    int ra;

    for (int i = 0; i < 3; i++) {
        cr_assert_not(hz_auth_throttled(A, (struct sockaddr *)&x, T0 + i, &ra));
        hz_auth_failed(A, (struct sockaddr *)&x, T0 + i);
    }
    cr_assert(hz_auth_throttled(A, (struct sockaddr *)&x, T0 + 10, &ra));
    cr_assert_eq(ra, 50);
    cr_assert(hz_auth_throttled(A, (struct sockaddr *)&mapped, T0 + 10, &ra), "v4-mapped is v4");
    cr_assert_not(hz_auth_throttled(A, (struct sockaddr *)&y, T0 + 10, &ra), "neighbour free");
    cr_assert_not(hz_auth_throttled(A, (struct sockaddr *)&x, T0 + 60, &ra), "window over");
    cr_assert_eq(hz_auth_counters(A)->failed, 3);
    cr_assert_eq(hz_auth_counters(A)->throttled, 2);

    /* IPv6: one /64 is one client. */
    for (int i = 0; i < 3; i++)
        hz_auth_failed(A, (struct sockaddr *)&v6a, T0);
    cr_assert(hz_auth_throttled(A, (struct sockaddr *)&v6b, T0 + 1, &ra));
}

Test(tokens, new_secret_and_its_hash)
{
    char sec[40], sha[65], sec2[40], sha2[65], want[65];

    hz_auth_new_secret(sec, sha);
    hz_auth_new_secret(sec2, sha2);
    cr_assert_eq(strlen(sec), 32);
    cr_assert_eq(strlen(sha), 64);
    cr_assert_str_neq(sec, sec2);
    hex_sha(sec, want);
    cr_assert_str_eq(sha, want);
    for (const char *p = sec; *p; p++)
        cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    /* Known answer: SHA-256("abc"). */
    hex_sha("abc", want);
    cr_assert_str_eq(want, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
