/* SPDX-License-Identifier: MIT */
/*
 * front_test.c - the collector's HTTP front (collector/front.h) on a
 * connection without a socket: what the handler sees (method, path,
 * query, headers by name, body joined from chunks), answers in request
 * order when one is given later, HEAD without a body, Connection: close,
 * refusals with their status, and a request split across many reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "collector/front.h"

static struct hz_front_slot *held[8];
static int nheld, nreq, refused_status;
static char seen[8][320];

/* Answers "<n> <path>|<query>|<ua>|<body>" at once, or holds the answer
 * for /later. */
static void
handler(struct hz_req *r, void *arg)
{
    char body[300];
    const char *ua = hz_req_header(r, "user-agent", NULL);
    int n = snprintf(body, sizeof(body), "%d %s|%s|%s|%.*s", nreq, r->path ? r->path : "-",
                     r->query ? r->query : "-", ua ? ua : "-", (int)r->body_len, r->body);

    (void)arg;
    snprintf(seen[nreq % 8], sizeof(seen[0]), "%s", body);
    nreq++;
    if (r->path != NULL && strcmp(r->path, "/later") == 0) {
        held[nheld++] = r->slot;
        return;
    }
    hz_front_reply(r->slot, 200, "X-T: 1\r\n", NULL, body, (size_t)n);
}

static void
refused(void *arg, int status)
{
    (void)arg;
    refused_status = status;
}

static hz_front *
front(void)
{
    struct hz_front_cfg cfg = {.max_url = 256,
                               .max_headers = 1024,
                               .max_body = 128,
                               .timeout_ms = 1000,
                               .request_ms = 1000,
                               .max_conns = 4,
                               .who = "test"};
    hz_front *f = hz_front_new(NULL, -1, &cfg, handler, refused, NULL);

    cr_assert_not_null(f);
    nheld = nreq = refused_status = 0;
    return f;
}

static char *
output(struct hz_front_conn *c)
{
    static char out[16384];
    size_t n = hz_front_test_output(c, out, sizeof(out) - 1);

    out[n] = '\0';
    return out;
}

Test(front, request_parts_and_headers)
{
    hz_front *f = front();
    struct hz_front_conn *c = hz_front_test_conn(f);
    static const char req[] =
        "POST /api/event?x=1 HTTP/1.1\r\nHost: h\r\nUser-Agent:  Fire fox \t\r\n"
        "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";

    cr_assert_eq(hz_front_test_feed(c, req, sizeof(req) - 1), 0);
    cr_assert_eq(nreq, 1);
    cr_assert_str_eq(seen[0], "0 /api/event|x=1|Fire fox|abcde");
    cr_assert_not_null(strstr(output(c), "HTTP/1.1 200 OK\r\nContent-Length: 31\r\nX-T: 1\r\n"));
    hz_front_test_close(c);
    hz_front_free(f);
}

Test(front, answers_in_order_when_one_comes_later)
{
    hz_front *f = front();
    struct hz_front_conn *c = hz_front_test_conn(f);
    static const char req[] =
        "GET /later HTTP/1.1\r\n\r\nHEAD /now HTTP/1.1\r\n\r\n"
        "GET /last HTTP/1.1\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\n\r\n";
    char *out;

    cr_assert_eq(hz_front_test_feed(c, req, sizeof(req) - 1), -1); /* closing */
    cr_assert_eq(nreq, 3, "nothing after Connection: close");
    cr_assert_str_eq(output(c), "", "the first answer holds the others back");
    hz_front_reply(held[0], 202, NULL, NULL, "held", 4);
    out = output(c);
    cr_assert(strncmp(out, "HTTP/1.1 202 Accepted\r\nContent-Length: 4\r\n", 42) == 0, "%s", out);
    cr_assert_not_null(strstr(out, "\r\n\r\nheldHTTP/1.1 200 OK\r\nContent-Length: 11\r\n"), "%s",
                       out);
    cr_assert_not_null(strstr(out, "\r\n\r\nHTTP/1.1 200 OK"), "HEAD has no body: %s", out);
    cr_assert_not_null(strstr(out, "Connection: close\r\n\r\n2 /last|-|-|"), "%s", out);
    hz_front_test_close(c);
    hz_front_free(f);
}

Test(front, one_byte_at_a_time)
{
    hz_front *f = front();
    struct hz_front_conn *c = hz_front_test_conn(f);
    static const char req[] = "POST /e HTTP/1.1\r\nUser-Agent: x\r\nContent-Length: 5\r\n\r\nhello"
                              "GET /p?q HTTP/1.1\r\n\r\n";

    for (size_t i = 0; i < sizeof(req) - 1; i++)
        cr_assert_eq(hz_front_test_feed(c, req + i, 1), 0);
    cr_assert_eq(nreq, 2);
    cr_assert_str_eq(seen[0], "0 /e|-|x|hello");
    cr_assert_str_eq(seen[1], "1 /p|q|-|");
    hz_front_test_close(c);
    hz_front_free(f);
}

static int
refusal(const char *req, size_t len)
{
    hz_front *f = front();
    struct hz_front_conn *c = hz_front_test_conn(f);
    char *out;
    int status = 0;

    cr_assert_eq(hz_front_test_feed(c, req, len), -1, "%s", req);
    out = output(c);
    cr_assert_eq(sscanf(out, "HTTP/1.1 %d", &status), 1, "%s", out);
    cr_assert_eq(status, refused_status);
    cr_assert_not_null(strstr(out, "Connection: close\r\n"));
    cr_assert_eq(nreq, 0);
    hz_front_test_close(c);
    hz_front_free(f);
    return status;
}

#define REFUSED(s) refusal(s, sizeof(s) - 1)

Test(front, refusals)
{
    char big[2048];

    cr_assert_eq(REFUSED("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"),
                 400);
    cr_assert_eq(REFUSED("POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\nx"), 400);
    cr_assert_eq(REFUSED("POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n"), 400);
    cr_assert_eq(REFUSED("GET / HTTP/1.1\r\nUser-Agent: Fire\0fox\r\n\r\n"), 400);
    cr_assert_eq(REFUSED("GET / HTTP/1.9\r\n\r\n"), 400);
    cr_assert_eq(
        REFUSED("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;a\r\nx\r\n0\r\n\r\n"), 400);
    cr_assert_eq(REFUSED("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"), 400);
    cr_assert_eq(REFUSED("GET / HTTP/1.1\r\n:a: b\r\n\r\n"), 400);
    cr_assert_eq(REFUSED("POST / HTTP/1.1\r\nContent-Length: 129\r\n\r\n"), 413);
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET /", 5);
    cr_assert_eq(refusal(big, 300), 414);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    cr_assert_eq(refusal(big, sizeof(big)), 431);
}

/* HTTP/1.0: closed after the answer, unless the client asks to keep it,
 * which the answer then says. */
Test(front, http_1_0_keep_alive_is_said)
{
    hz_front *f = front();
    struct hz_front_conn *c = hz_front_test_conn(f);
    static const char ka[] =
        "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n";
    char *out;

    cr_assert_eq(hz_front_test_feed(c, ka, sizeof(ka) - 1), -1);
    cr_assert_eq(nreq, 2);
    out = output(c);
    cr_assert_not_null(strstr(out, "Connection: keep-alive\r\n\r\n0 /a"), "%s", out);
    cr_assert_not_null(strstr(out, "Connection: close\r\n\r\n1 /b"), "%s", out);
    hz_front_test_close(c);
    hz_front_free(f);
}
