/* SPDX-License-Identifier: MIT */
/*
 * dash_auth_test.c - issue 14 on the real haze-dashboard binary: named and
 * scoped tokens (a site-scoped token sees its sites only, everywhere),
 * expiry, --new-token, per-login sessions and their revocation, the
 * Origin / Sec-Fetch-Site check, the login throttle (429 per address, a
 * second loopback address unaffected), the audit log (every kind of entry,
 * no secret and no visitor data in it) and GET /api/v1/audit.
 *
 * Store: two sites, a.example (page "/a-only-page", 10 visitors) and
 * b.example (page "/b-only-page", 7 visitors), today in UTC.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "common/store.h"
#include "common/str.h"
#include "common/tz.h"
#include "dashboard/auth.h"
#include "tests/integration/harness.h"

#define DEFAULT_TOKEN "default-token-0123456789"
#define ALICE         "alice-token-abcdefghijkl" /* view, b.example */
#define OPS           "ops-token-mnopqrstuvwxyz" /* admin, * */
#define OLD           "old-token-0000000000000"  /* view, a.example, expired */

static struct {
    char dir[64];
    char ini[256];
    char audit[160];
    int port;
    struct ht_proc dash;
} E;

static void
sha_hex(const char *s, char out[65])
{
    unsigned char h[32];
    hz_auth_sha256(s, strlen(s), h);
    hz_hex(out, h, 32);
}

static void
build_store(void)
{
    char lmdb[128];
    struct hz_err err = {0};
    hz_store *s;
    hz_wtxn *t;
    int32_t today = (int32_t)(time(NULL) / 86400);
    struct hz_counts a = {10, 12, 30, 6, 0, 0, 0, 0}, b = {7, 8, 9, 1, 0, 0, 0, 0};

    (void)snprintf(lmdb, sizeof(lmdb), "%s/db", E.dir);
    cr_assert_eq(mkdir(lmdb, 0700), 0);
    cr_assert_eq(hz_store_open(&s, lmdb, 0, 64u << 20, &err), 0, "%s", err.msg);
    cr_assert_eq(hz_store_wbegin(s, &t, 1000, &err), 0, "%s", err.msg);
    cr_assert_eq(hz_store_add(t, "a.example", today, HZ_DIM_TOTAL, "", 0, &a), 0);
    cr_assert_eq(hz_store_add(t, "a.example", today, HZ_DIM_PAGE, "/a-only-page", 12, &a), 0);
    cr_assert_eq(hz_store_add(t, "b.example", today, HZ_DIM_TOTAL, "", 0, &b), 0);
    cr_assert_eq(hz_store_add(t, "b.example", today, HZ_DIM_PAGE, "/b-only-page", 12, &b), 0);
    cr_assert_eq(hz_store_set_position(t, "1-1"), 0);
    cr_assert_eq(hz_store_commit(t, &err), 0, "%s", err.msg);
    hz_store_close(s);
}

/* haze.ini with the four tokens, plus extra lines in [dashboard]. */
static void
write_config(const char *extra, const char *tail)
{
    char text[4096], ha[65], ho[65], hx[65];

    sha_hex(ALICE, ha);
    sha_hex(OPS, ho);
    sha_hex(OLD, hx);
    (void)snprintf(text, sizeof(text),
                   "[aggregator]\nlmdb = %s/db\n"
                   "[dashboard]\nuser = root\nlisten = 127.0.0.1:%d\ntoken = " DEFAULT_TOKEN "\n"
                   "audit_log = %s\nlogin_limit = 5\n%s"
                   "[site a.example]\n[site b.example]\n"
                   "[token alice]\nsha256 = %s\nsites = b.example\nscope = view\n"
                   "[token ops]\nsha256 = %s\nsites = *\nscope = admin\n"
                   "[token old]\nsha256 = %s\nsites = a.example\nexpires = 2020-01-31\n%s",
                   E.dir, E.port, E.audit, extra ? extra : "", ha, ho, hx, tail ? tail : "");
    ht_write_file(E.ini, E.dir, "haze.ini", text);
}

static void
start(void)
{
    char bin[256];
    const char *argv[] = {bin, "-c", E.ini, NULL};

    ht_bin(bin, "haze-dashboard");
    cr_assert_eq(ht_spawn(&E.dash, E.dir, "dashboard", argv), 0);
    if (ht_wait_port(E.port, 10000) != 0) {
        char *log = ht_slurp(E.dash.log, NULL);
        cr_assert_fail("haze-dashboard did not listen: %s", log ? log : "");
    }
}

static void
setup(void)
{
    memset(&E, 0, sizeof(E));
    ht_tmpdir(E.dir);
    (void)snprintf(E.audit, sizeof(E.audit), "%s/audit.log", E.dir);
    E.port = ht_free_port();
    build_store();
    write_config(NULL, NULL);
    start();
}

static void
teardown(void)
{
    int rc = ht_stop(&E.dash, 0, 5000);
    cr_expect_eq(rc, 0, "haze-dashboard exits 0 on SIGTERM");
    ht_rmdir(E.dir);
}

TestSuite(dash_auth, .init = setup, .fini = teardown, .timeout = 60);

/* A request with the bearer token tok (or none); returns the status and
 * keeps the response in r (caller frees). */
static int
req(struct ht_response *r, const char *method, const char *target, const char *tok,
    const char *headers, const char *body)
{
    char h[1024];

    (void)snprintf(h, sizeof(h), "%s%s%s%s", tok ? "Authorization: Bearer " : "", tok ? tok : "",
                   tok ? "\r\n" : "", headers ? headers : "");
    cr_assert_eq(ht_http(E.port, method, target, h, body, body ? strlen(body) : 0, r), 0,
                 "%s %s: no answer", method, target);
    return r->status;
}

/* Status only. */
static int
st(const char *method, const char *target, const char *tok, const char *headers, const char *body)
{
    struct ht_response r;
    int s = req(&r, method, target, tok, headers, body);
    ht_response_free(&r);
    return s;
}

/* POST /login with the form; the cookie "haze_session=..." into cookie
 * ("" if none). Returns the status. */
static int
login(const char *token, const char *headers, char *cookie, size_t cap, char *loc, size_t loccap)
{
    struct ht_response r;
    char body[256], h[512];
    int s;

    (void)snprintf(body, sizeof(body), "token=%s", token);
    (void)snprintf(h, sizeof(h), "Content-Type: application/x-www-form-urlencoded\r\n%s",
                   headers ? headers : "");
    s = req(&r, "POST", "/login", NULL, h, body);
    cookie[0] = '\0';
    if (ht_header(&r, "Set-Cookie", cookie, cap) == 0) {
        char *semi = strchr(cookie, ';');
        if (semi)
            *semi = '\0';
    }
    if (loc != NULL && ht_header(&r, "Location", loc, loccap) != 0)
        loc[0] = '\0';
    ht_response_free(&r);
    return s;
}

static int
with_cookie(const char *target, const char *cookie)
{
    char h[256];
    (void)snprintf(h, sizeof(h), "Cookie: %s\r\n", cookie);
    return st("GET", target, NULL, h, NULL);
}

/* ================================================================ scopes */

Test(dash_auth, a_site_scoped_token_sees_its_site_only_everywhere)
{
    struct ht_response r;

    /* The site lists, Plausible's and haze's own: b.example only. */
    cr_assert_eq(req(&r, "GET", "/api/v1/sites", ALICE, NULL, NULL), 200);
    cr_assert(strstr(r.body, "\"domain\":\"b.example\"") != NULL, "%s", r.body);
    cr_assert_null(strstr(r.body, "a.example"), "%s", r.body);
    ht_response_free(&r);
    cr_assert_eq(req(&r, "GET", "/api/haze/sites", ALICE, NULL, NULL), 200);
    cr_assert(strstr(r.body, "\"site_id\":\"b.example\"") != NULL, "%s", r.body);
    cr_assert_null(strstr(r.body, "a.example"), "%s", r.body);
    cr_assert(strstr(r.body, "\"audit\":false") != NULL, "a view token: no access log");
    ht_response_free(&r);

    /* Its site: the numbers. */
    cr_assert_eq(
        req(&r, "GET", "/api/v1/stats/aggregate?site_id=b.example&period=day", ALICE, NULL, NULL),
        200);
    cr_assert_str_eq(r.body, "{\"results\":{\"visitors\":{\"value\":7}}}");
    ht_response_free(&r);

    /* The other site: 401 on every route, like a site that does not exist. */
    static const char *const other[] = {
        "/api/v1/stats/aggregate?site_id=a.example&period=day",
        "/api/v1/stats/timeseries?site_id=a.example&period=7d",
        "/api/v1/stats/breakdown?site_id=a.example&period=day&property=event:page",
        "/api/v1/stats/breakdown?site_id=a.example&period=day&property=event:page&format=csv",
        "/api/v1/stats/realtime/visitors?site_id=a.example",
        "/api/v1/funnels?site_id=a.example&period=day",
        "/api/v1/paths?site_id=a.example&period=day&page=/",
        "/api/v1/filtered?site_id=a.example&period=day",
        "/api/v1/stats/aggregate?site_id=nowhere.example&period=day",
    };
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        cr_assert_eq(req(&r, "GET", other[i], ALICE, NULL, NULL), 401, "%s", other[i]);
        cr_assert_null(strstr(r.body, "a-only-page"));
        cr_assert_str_eq(r.body, "{\"error\":\"site_id: this token may not read that site\"}");
        ht_response_free(&r);
    }
    cr_assert_eq(
        st("POST", "/api/v2/query", ALICE, "Content-Type: application/json\r\n",
           "{\"site_id\":\"a.example\",\"metrics\":[\"visitors\"],\"date_range\":\"day\"}"),
        401);
    cr_assert_eq(
        st("POST", "/api/v2/query", ALICE, "Content-Type: application/json\r\n",
           "{\"site_id\":\"nowhere.example\",\"metrics\":[\"visitors\"],\"date_range\":\"day\"}"),
        401, "an unknown site looks like a forbidden one");
    cr_assert_eq(
        st("POST", "/api/v2/query", ALICE, "Content-Type: application/json\r\n",
           "{\"site_id\":\"b.example\",\"metrics\":[\"visitors\"],\"date_range\":\"day\"}"),
        200);

    /* The same through a session cookie (the page's way). */
    {
        char cookie[128];
        cr_assert_eq(login(ALICE, NULL, cookie, sizeof(cookie), NULL, 0), 303);
        cr_assert_eq(with_cookie("/api/v1/stats/aggregate?site_id=a.example&period=day", cookie),
                     401);
        cr_assert_eq(with_cookie("/api/v1/stats/aggregate?site_id=b.example&period=day", cookie),
                     200);
    }

    /* view scope: no audit log, no metrics; admin: both, every site. */
    cr_assert_eq(st("GET", "/api/v1/audit", ALICE, NULL, NULL), 403);
    cr_assert_eq(st("GET", "/metrics", ALICE, NULL, NULL), 403);
    cr_assert_eq(st("GET", "/api/v1/audit", OPS, NULL, NULL), 200);
    cr_assert_eq(st("GET", "/metrics", OPS, NULL, NULL), 200);
    cr_assert_eq(st("GET", "/metrics", NULL, NULL, NULL), 401);
    cr_assert_eq(req(&r, "GET", "/api/v1/sites", OPS, NULL, NULL), 200);
    cr_assert(strstr(r.body, "a.example") && strstr(r.body, "b.example"));
    ht_response_free(&r);
    cr_assert_eq(req(&r, "GET", "/api/haze/sites", OPS, NULL, NULL), 200);
    cr_assert(strstr(r.body, "\"audit\":true") != NULL, "an admin token with an audit log");
    ht_response_free(&r);
    /* The old [dashboard] token is the admin token "default". */
    cr_assert_eq(st("GET", "/api/v1/audit", DEFAULT_TOKEN, NULL, NULL), 200);
    cr_assert_eq(st("GET", "/api/v1/stats/aggregate?site_id=a.example&period=day", DEFAULT_TOKEN,
                    NULL, NULL),
                 200);
}

Test(dash_auth, an_expired_token_is_401_with_a_reason)
{
    struct ht_response r;
    char cookie[128], loc[64];

    cr_assert_eq(req(&r, "GET", "/api/v1/sites", OLD, NULL, NULL), 401);
    cr_assert_str_eq(r.body, "{\"error\":\"token expired\"}");
    ht_response_free(&r);
    cr_assert_eq(login(OLD, NULL, cookie, sizeof(cookie), loc, sizeof(loc)), 303);
    cr_assert_str_eq(cookie, "");
    cr_assert_str_eq(loc, "/?login=expired");
    cr_assert_eq(req(&r, "GET", "/api/v1/sites", "wrong-token-123", NULL, NULL), 401);
    cr_assert_str_eq(r.body, "{\"error\":\"missing or wrong token\"}");
    ht_response_free(&r);
}

/* ================================================================ --new-token */

Test(dash_auth, new_token_prints_a_secret_and_the_lines_to_paste)
{
    char bin[256], out[256], *text, *tok, *sha, *nl, secret[64], line[80], want[65];
    struct ht_proc p;
    const char *argv[] = {bin, "-c", E.ini, "--new-token", "bob", NULL};
    const char *dup[] = {bin, "-c", E.ini, "--new-token", "alice", NULL};
    const char *bad[] = {bin, "-c", E.ini, "--new-token", "Bob!", NULL};

    ht_bin(bin, "haze-dashboard");
    cr_assert_eq(ht_spawn(&p, E.dir, "newtoken", argv), 0);
    cr_assert_eq(ht_wait(&p, 5000), 0);
    (void)snprintf(out, sizeof(out), "%s/newtoken.log", E.dir);
    text = ht_slurp(out, NULL);
    cr_assert_not_null(text);
    tok = strstr(text, "token: ");
    sha = strstr(text, "\nsha256 = ");
    cr_assert(tok && sha && strstr(text, "\n[token bob]\n"), "%s", text);
    nl = strchr(tok, '\n');
    (void)snprintf(secret, sizeof(secret), "%.*s", (int)(nl - tok - 7), tok + 7);
    cr_assert_eq(strlen(secret), 32);
    sha_hex(secret, want);
    (void)snprintf(line, sizeof(line), "%.64s", sha + 10);
    cr_assert_str_eq(line, want, "the printed hash is the secret's");
    cr_assert_null(strstr(sha, secret), "the secret is not in the lines to paste");
    free(text);

    /* Taken and malformed names are refused. */
    cr_assert_eq(ht_spawn(&p, E.dir, "newtoken2", dup), 0);
    cr_assert_eq(ht_wait(&p, 5000), 1);
    cr_assert_eq(ht_spawn(&p, E.dir, "newtoken3", bad), 0);
    cr_assert_eq(ht_wait(&p, 5000), 2);

    /* Pasted (narrowed to a.example) and restarted: the token works. */
    {
        char tail[256];
        (void)snprintf(tail, sizeof(tail), "[token bob]\nsha256 = %s\nsites = a.example\n", want);
        cr_assert_eq(ht_stop(&E.dash, 0, 5000), 0);
        write_config(NULL, tail);
        start();
    }
    cr_assert_eq(
        st("GET", "/api/v1/stats/aggregate?site_id=a.example&period=day", secret, NULL, NULL), 200);
    cr_assert_eq(
        st("GET", "/api/v1/stats/aggregate?site_id=b.example&period=day", secret, NULL, NULL), 401);
}

/* ================================================================ sessions */

Test(dash_auth, each_login_has_its_own_session_and_logout_revokes_it)
{
    char c1[128], c2[128], h[256];
    struct ht_response r;

    cr_assert_eq(login(OPS, NULL, c1, sizeof(c1), NULL, 0), 303);
    cr_assert_eq(login(OPS, NULL, c2, sizeof(c2), NULL, 0), 303);
    cr_assert_eq(strncmp(c1, "haze_session=", 13), 0, "%s", c1);
    cr_assert_str_neq(c1, c2, "two logins, two sessions");
    cr_assert_eq(with_cookie("/api/v1/sites", c1), 200);
    cr_assert_eq(with_cookie("/api/v1/sites", c2), 200);

    /* Logout ends c1 on the server: replaying the old cookie is 401. */
    (void)snprintf(h, sizeof(h), "Cookie: %s\r\n", c1);
    cr_assert_eq(req(&r, "POST", "/logout", NULL, h, ""), 303);
    {
        char sc[160];
        cr_assert_eq(ht_header(&r, "Set-Cookie", sc, sizeof(sc)), 0);
        cr_assert(strstr(sc, "Max-Age=0") != NULL);
        cr_assert_null(strstr(sc, "Secure"), "plain HTTP: no Secure flag");
    }
    cr_assert_neq(ht_header(&r, "Strict-Transport-Security", h, sizeof(h)), 0, "no HSTS on HTTP");
    ht_response_free(&r);
    cr_assert_eq(with_cookie("/api/v1/sites", c1), 401);
    cr_assert_eq(with_cookie("/api/v1/sites", c2), 200, "the other login is untouched");
    /* A restart ends every session. */
    cr_assert_eq(ht_stop(&E.dash, 0, 5000), 0);
    start();
    cr_assert_eq(with_cookie("/api/v1/sites", c2), 401);
}

Test(dash_auth, login_and_logout_refuse_other_origins)
{
    char cookie[128], h[512], origin[128];

    (void)snprintf(origin, sizeof(origin), "Origin: http://127.0.0.1:%d\r\n", E.port);
    cr_assert_eq(login(OPS, "Origin: https://evil.example\r\n", cookie, sizeof(cookie), NULL, 0),
                 403);
    cr_assert_str_eq(cookie, "");
    cr_assert_eq(login(OPS, "Sec-Fetch-Site: cross-site\r\n", cookie, sizeof(cookie), NULL, 0),
                 403);
    cr_assert_eq(login(OPS, "Sec-Fetch-Site: same-site\r\n", cookie, sizeof(cookie), NULL, 0), 403);
    cr_assert_eq(login(OPS, "Origin: null\r\n", cookie, sizeof(cookie), NULL, 0), 403);
    cr_assert_eq(login(OPS, "Origin: http://127.0.0.1:1\r\n", cookie, sizeof(cookie), NULL, 0),
                 403);
    /* Chromium's own form post under Referrer-Policy: no-referrer. */
    cr_assert_eq(login(OPS, "Origin: null\r\nSec-Fetch-Site: same-origin\r\n", cookie,
                       sizeof(cookie), NULL, 0),
                 303);
    cr_assert_eq(login(OPS, "Origin: https://evil.example\r\nSec-Fetch-Site: cross-site\r\n",
                       cookie, sizeof(cookie), NULL, 0),
                 403);
    cr_assert_eq(login(OPS, origin, cookie, sizeof(cookie), NULL, 0), 303);
    cr_assert_neq(cookie[0], '\0');

    /* A cross-site logout (the old CSRF) does not end the session. */
    (void)snprintf(h, sizeof(h), "Cookie: %s\r\nOrigin: https://evil.example\r\n", cookie);
    cr_assert_eq(st("POST", "/logout", NULL, h, ""), 403);
    (void)snprintf(h, sizeof(h), "Cookie: %s\r\nSec-Fetch-Site: cross-site\r\n", cookie);
    cr_assert_eq(st("POST", "/logout", NULL, h, ""), 403);
    cr_assert_eq(with_cookie("/api/v1/sites", cookie), 200);
    (void)snprintf(h, sizeof(h), "Cookie: %s\r\n%sSec-Fetch-Site: same-origin\r\n", cookie, origin);
    cr_assert_eq(st("POST", "/logout", NULL, h, ""), 303);
    cr_assert_eq(with_cookie("/api/v1/sites", cookie), 401);
}

/* ================================================================ throttle */

Test(dash_auth, failed_logins_are_throttled_per_address)
{
    struct ht_response r;
    char cookie[128], ra[16];

    /* login_limit = 5: five failures (bearer and form) are answered... */
    for (int i = 0; i < 3; i++)
        cr_assert_eq(st("GET", "/api/v1/sites", "wrong-token-000", NULL, NULL), 401);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(login("wrong-token-000", NULL, cookie, sizeof(cookie), NULL, 0), 303);
    /* ...then this address gets 429 with Retry-After, even with a right token. */
    cr_assert_eq(req(&r, "GET", "/api/v1/sites", "wrong-token-000", NULL, NULL), 429);
    cr_assert_eq(ht_header(&r, "Retry-After", ra, sizeof(ra)), 0);
    cr_assert(atoi(ra) >= 1 && atoi(ra) <= 60, "Retry-After: %s", ra);
    ht_response_free(&r);
    cr_assert_eq(st("GET", "/api/v1/sites", OPS, NULL, NULL), 429);
    cr_assert_eq(login(OPS, NULL, cookie, sizeof(cookie), NULL, 0), 429);
    cr_assert_str_eq(cookie, "");

    /* Another address (127.0.0.2) with the right token is not blocked. */
    ht_source_addr = "127.0.0.2";
    cr_assert_eq(st("GET", "/api/v1/sites", OPS, NULL, NULL), 200);
    cr_assert_eq(login(OPS, NULL, cookie, sizeof(cookie), NULL, 0), 303);
    cr_assert_eq(req(&r, "GET", "/metrics", OPS, NULL, NULL), 200);
    cr_assert(strstr(r.body, "\nhaze_dashboard_login_failures_total 5\n") != NULL, "%s", r.body);
    cr_assert(strstr(r.body, "\nhaze_dashboard_login_throttled_total 3\n") != NULL, "%s", r.body);
    ht_response_free(&r);
    ht_source_addr = NULL;
}

/* ================================================================ audit */

/* The audit log's lines containing all of the needles (NULL-ended). */
static int
audit_count(const char *text, const char *const *needles)
{
    int n = 0;
    const char *p = text;

    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        int all = 1;
        for (int i = 0; needles[i]; i++) {
            const char *f = strstr(p, needles[i]);
            if (f == NULL || f >= p + len)
                all = 0;
        }
        n += all;
        p += len + (nl != NULL);
    }
    return n;
}

Test(dash_auth, audit_records_every_kind_and_no_secret_or_visitor_data)
{
    char cookie[128], h[256], *text;
    struct ht_response r;

    cr_assert_eq(req(&r, "GET",
                     "/api/v1/stats/breakdown?site_id=b.example&period=day&property=event:page",
                     ALICE, NULL, NULL),
                 200);
    cr_assert(strstr(r.body, "b-only-page") != NULL, "the answer has the page: %s", r.body);
    ht_response_free(&r);
    cr_assert_eq(
        st("GET", "/api/v1/stats/aggregate?site_id=a.example&period=day", ALICE, NULL, NULL), 401);
    cr_assert_eq(
        st("POST", "/api/v2/query", OPS, "Content-Type: application/json\r\n",
           "{\"site_id\":\"a.example\",\"metrics\":[\"visitors\"],\"date_range\":\"day\"}"),
        200);
    cr_assert_eq(st("GET", "/api/v1/sites", "not-a-token-xyz", NULL, NULL), 401);
    cr_assert_eq(login("not-a-token-xyz", NULL, cookie, sizeof(cookie), NULL, 0), 303);
    cr_assert_eq(login(ALICE, NULL, cookie, sizeof(cookie), NULL, 0), 303);
    cr_assert_eq(with_cookie("/api/v1/sites", cookie), 200);
    (void)snprintf(h, sizeof(h), "Cookie: %s\r\n", cookie);
    cr_assert_eq(st("POST", "/logout", NULL, h, ""), 303);

    text = ht_slurp(E.audit, NULL);
    cr_assert_not_null(text, "no audit log at %s", E.audit);
    {
        const char *const breakdown[] = {
            "\"event\":\"request\"",
            "\"token\":\"alice\"",
            "\"client\":\"127.0.0.1\"",
            "\"method\":\"GET\"",
            "\"endpoint\":\"\\/api\\/v1\\/stats\\/breakdown\"",
            "\"site\":\"b.example\"",
            "\"query\":\"site_id=b.example&period=day&property=event:page\"",
            "\"status\":200",
            "\"rows\":1",
            NULL};
        const char *const denied[] = {"\"event\":\"request\"", "\"token\":\"alice\"",
                                      "site_id=a.example", "\"status\":401", NULL};
        const char *const v2[] = {
            "\"token\":\"ops\"",      "\"method\":\"POST\"",
            "\"site\":\"a.example\"", "\"query\":\"{\\\"site_id\\\":\\\"a.example\\\"",
            "\"status\":200",         NULL};
        const char *const bad_bearer[] = {"\"event\":\"login_failed\"", "\"token\":null",
                                          "\"status\":401", "\"reason\":\"wrong token\"", NULL};
        const char *const bad_form[] = {"\"event\":\"login_failed\"", "\"endpoint\":\"\\/login\"",
                                        "\"reason\":\"wrong token\"", NULL};
        const char *const ok_login[] = {"\"event\":\"login\"", "\"token\":\"alice\"",
                                        "\"status\":303", NULL};
        const char *const by_cookie[] = {"\"event\":\"request\"", "\"token\":\"alice\"",
                                         "\"endpoint\":\"\\/api\\/v1\\/sites\"", "\"rows\":1",
                                         NULL};
        const char *const logout[] = {"\"event\":\"logout\"", "\"token\":\"alice\"", NULL};
        cr_expect_eq(audit_count(text, breakdown), 1, "%s", text);
        cr_expect_eq(audit_count(text, denied), 1, "%s", text);
        cr_expect_eq(audit_count(text, v2), 1, "%s", text);
        cr_expect_eq(audit_count(text, bad_bearer), 1, "%s", text);
        cr_expect_eq(audit_count(text, bad_form), 1, "%s", text);
        cr_expect_eq(audit_count(text, ok_login), 1, "%s", text);
        cr_expect_eq(audit_count(text, by_cookie), 1, "%s", text);
        cr_expect_eq(audit_count(text, logout), 1, "%s", text);
    }
    /* Never a secret (tokens, the session id), never visitor data. */
    cr_assert_null(strstr(text, ALICE));
    cr_assert_null(strstr(text, OPS));
    cr_assert_null(strstr(text, "not-a-token-xyz"));
    cr_assert_null(strstr(text, cookie + 13), "the session id is a secret");
    cr_assert_null(strstr(text, "b-only-page"), "answers are not recorded");
    cr_assert_null(strstr(text, "a-only-page"));
    free(text);

    /* GET /api/v1/audit (admin): one token's entries. */
    cr_assert_eq(req(&r, "GET", "/api/v1/audit?token=ops", OPS, NULL, NULL), 200);
    cr_assert(strncmp(r.body, "{\"results\":[{", 13) == 0, "%s", r.body);
    cr_assert_null(strstr(r.body, "\"alice\""), "%s", r.body);
    cr_assert(strstr(r.body, "\"truncated\":false") != NULL);
    ht_response_free(&r);
    cr_assert_eq(req(&r, "GET", "/api/v1/audit?from=2020-01-01&to=2020-01-02", OPS, NULL, NULL),
                 200);
    cr_assert_str_eq(r.body, "{\"results\":[],\"truncated\":false}");
    ht_response_free(&r);
    cr_assert_eq(st("GET", "/api/v1/audit?from=yesterday", OPS, NULL, NULL), 400);
    cr_assert_eq(st("GET", "/api/v1/audit?from=2030-01-02&to=2030-01-01", OPS, NULL, NULL), 400);
}
