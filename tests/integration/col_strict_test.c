/* SPDX-License-Identifier: MIT */
/*
 * col_strict_test.c - the collector's front (collector/front.c) refuses
 * what evhttp let through or answered vaguely (issue 12): each raw request
 * of the table gets its status with a one-line reason, the connection is
 * closed after it, and nothing reaches the stream. Well-formed chunked and
 * pipelined requests are still taken.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/integration/collector_env.h"

/* 71 bytes: a pageview for the test site. */
#define PV        "{\"n\":\"pageview\",\"u\":\"https://example.com/\",\"d\":\"example.com\",\"w\":12800}"
#define POST_HEAD "POST /api/event HTTP/1.1\r\nHost: x\r\nUser-Agent: " CE_CHROME "\r\n"

/* Sends raw (len bytes) on a new connection, then reads until the
 * collector closes (5 s at most). Returns the malloc'd answer. */
static char *
strict_exchange(int port, const char *raw, size_t len, size_t *out_len)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
    cr_assert_eq(send(fd, raw, len, MSG_NOSIGNAL), (ssize_t)len);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t r;
        if (poll(&p, 1, 5000) != 1)
            break;
        r = recv(fd, buf + n, cap - n - 1, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *out_len = n;
    return buf;
}

struct strict {
    char name[48];
    char raw[600]; /* \001 stands for NUL */
    int pad;       /* 0, or: the request line gets this many 'a' (URI), then a header this long */
    int status;
};

/* clang-format off */
static struct strict strict_cases[] = {
    { "two Content-Length", POST_HEAD "Content-Length: 71\r\nContent-Length: 71\r\n\r\n" PV, 0, 400 },
    { "signed Content-Length", POST_HEAD "Content-Length: +71\r\n\r\n" PV, 0, 400 },
    { "space before the colon", POST_HEAD "Transfer-Encoding : chunked\r\nContent-Length: 71\r\n\r\n" PV, 0, 400 },
    { "NUL in the user agent", "POST /api/event HTTP/1.1\r\nHost: x\r\nUser-Agent: Fire\001fox\r\nContent-Length: 71\r\n\r\n" PV, 0, 400 },
    { "control byte in a header", POST_HEAD "X-Client: Fire\002fox\r\nContent-Length: 71\r\n\r\n" PV, 0, 400 },
    { "HTTP/1.9", "POST /api/event HTTP/1.9\r\nHost: x\r\nContent-Length: 71\r\n\r\n" PV, 0, 400 },
    { "HTTP/2.0 as text", "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 0, 400 },
    { "text/plainevil", POST_HEAD "Content-Type: text/plainevil\r\nConnection: close\r\nContent-Length: 71\r\n\r\n" PV, 0, 415 },
    { "chunk extension", POST_HEAD "Transfer-Encoding: chunked\r\n\r\n47;x=1\r\n" PV "\r\n0\r\n\r\n", 0, 400 },
    { "chunked and Content-Length", POST_HEAD "Transfer-Encoding: chunked\r\nContent-Length: 71\r\n\r\n47\r\n" PV "\r\n0\r\n\r\n", 0, 400 },
    { "Content-Length not a number", POST_HEAD "Content-Length: 7l\r\n\r\n" PV, 0, 400 },
    { "body over the limit", POST_HEAD "Content-Length: 9000\r\n\r\n" PV, 0, 413 },
    { "bare LF before the body", "POST /api/event HTTP/1.1\r\nHost: x\nContent-Length: 71\r\n\r\n" PV, 0, 400 },
    { "folded header line", POST_HEAD "X-Client: a\r\n b\r\nContent-Length: 71\r\n\r\n" PV, 0, 400 },
    { "empty header name", POST_HEAD ":x: y\r\nContent-Length: 71\r\n\r\n" PV, 0, 400 },
    { "unknown Expect", POST_HEAD "Expect: 200-ok\r\nContent-Length: 71\r\n\r\n" PV, 0, 400 },
    { "URI over the limit", "GET /p.gif?d=example.com&u=", 5000, 414 },
    { "headers over the limit", "GET /healthz HTTP/1.1\r\nHost: x\r\n", -9000, 431 },
};
/* clang-format on */

ParameterizedTestParameters(collector_strict, each)
{
    return cr_make_param_array(struct strict, strict_cases,
                               sizeof(strict_cases) / sizeof(strict_cases[0]));
}

ParameterizedTest(struct strict *c, collector_strict, each, .timeout = 60)
{
    struct ce env;
    struct ce_entry en[2];
    size_t len = strlen(c->raw), n;
    int pad = c->pad < 0 ? -c->pad : c->pad;
    char *raw = malloc(len + (size_t)pad + 64), *ans, *body, *nl;
    int status = 0;

    memcpy(raw, c->raw, len);
    for (size_t i = 0; i < len; i++)
        if (raw[i] == '\001')
            raw[i] = '\0'; /* a NUL the table's strings cannot hold */
    if (c->pad > 0) {      /* a long URI */
        memset(raw + len, 'a', (size_t)pad);
        len += (size_t)pad;
        len += (size_t)sprintf(raw + len, " HTTP/1.1\r\nHost: x\r\n\r\n");
    } else if (c->pad < 0) { /* a long header */
        len += (size_t)sprintf(raw + len, "X-Pad: ");
        memset(raw + len, 'p', (size_t)pad);
        len += (size_t)pad;
        len += (size_t)sprintf(raw + len, "\r\n\r\n");
    }
    ce_start(&env, 0, NULL);
    ans = strict_exchange(env.port, raw, len, &n);
    cr_assert_eq(sscanf(ans, "HTTP/1.1 %d", &status), 1, "%s: no answer: %s", c->name, ans);
    cr_expect_eq(status, c->status, "%s: status %d, want %d: %s", c->name, status, c->status, ans);
    cr_expect_not_null(strstr(ans, "\r\nConnection: close\r\n"), "%s: kept open: %s", c->name, ans);
    body = strstr(ans, "\r\n\r\n");
    cr_assert_not_null(body, "%s", c->name);
    body += 4;
    nl = strchr(body, '\n');
    cr_expect(strlen(body) > 1 && nl == body + strlen(body) - 1, "%s: one line of reason: %s",
              c->name, body);
    cr_expect_eq(ce_entries(&env, en, 2, 1), 0, "%s: nothing reaches the stream", c->name);
    free(ans);
    free(raw);
    ce_stop(&env);
}

/* Well-formed chunked bodies, pipelined requests and Expect: 100-continue
 * are taken: the answers come in order on one connection. */
Test(collector_strict, chunked_pipelined_and_continue_are_taken, .timeout = 60)
{
    static const char raw[] =
        POST_HEAD "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "10\r\n"
                  "{\"n\":\"pageview\","
                  "\r\n37\r\n"
                  "\"u\":\"https://example.com/\",\"d\":\"example.com\",\"w\":12800}"
                  "\r\n0\r\n\r\n"
                  "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" POST_HEAD
                  "Content-Length: 71\r\n\r\n" PV POST_HEAD
                  "Expect: 100-continue\r\nContent-Length: 71\r\nConnection: close\r\n\r\n" PV;
    struct ce env;
    struct ce_entry en[4];
    size_t n;
    char *ans, *p;
    int statuses[5], k = 0;

    ce_start(&env, 0, NULL);
    ans = strict_exchange(env.port, raw, sizeof(raw) - 1, &n);
    for (p = ans; k < 5 && (p = strstr(p, "HTTP/1.1 ")) != NULL; p += 9)
        statuses[k++] = atoi(p + 9);
    cr_assert_eq(k, 4, "%d answers: %s", k, ans);
    cr_expect_eq(statuses[0], 202, "%s", ans);
    cr_expect_eq(statuses[1], 200, "%s", ans);
    cr_expect_eq(statuses[2], 202, "%s", ans);
    cr_expect_eq(statuses[3], 202, "%s", ans); /* the body was there already: no 100 */
    cr_expect_eq(ce_entries(&env, en, 4, 1), 3, "three hits in the stream");
    free(ans);
    ce_stop(&env);
}

/* Reads from fd until what came holds want or 2 s pass; 1 if it did. */
static int
strict_wait_for(int fd, char *buf, size_t cap, size_t *n, const char *want)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t r;
        buf[*n] = '\0';
        if (strstr(buf, want) != NULL)
            return 1;
        if (poll(&p, 1, 2000) != 1 || (r = recv(fd, buf + *n, cap - *n - 1, 0)) <= 0)
            return 0;
        *n += (size_t)r;
    }
}

/* Expect: 100-continue behind a pipelined request still being answered
 * gets its 100 after that answer (not never); and a bare CRLF after an
 * answered Expect request brings no stray 100. */
Test(collector_strict, continue_is_sent_in_order_and_only_once, .timeout = 60)
{
    static const char first[] = POST_HEAD "Content-Length: 71\r\n\r\n" PV POST_HEAD
                                          "Expect: 100-continue\r\nContent-Length: 71\r\n\r\n";
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct ce env;
    char buf[8192];
    size_t n = 0;
    int fd;

    ce_start(&env, 0, NULL);
    sin.sin_port = htons((uint16_t)env.port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
    cr_assert_eq(send(fd, first, sizeof(first) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(first) - 1));
    cr_assert(strict_wait_for(fd, buf, sizeof(buf), &n, "100 Continue"),
              "the 100 comes although a request before it was pending: %s", buf);
    cr_expect_eq(strstr(buf, "HTTP/1.1 202") < strstr(buf, "HTTP/1.1 100"), 1,
                 "the first request's answer comes first: %s", buf);
    cr_assert_eq(send(fd, PV, 71, MSG_NOSIGNAL), 71); /* the body */
    cr_assert(strict_wait_for(fd, buf, sizeof(buf), &n,
                              "100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 3"),
              "the second answer: %s", buf);
    cr_assert_eq(send(fd, "\r\n", 2, MSG_NOSIGNAL), 2); /* then a bare CRLF, once answered */
    /* Whatever else comes in 2 s: no second 100 for the bare CRLF. */
    cr_expect(!strict_wait_for(fd, buf, sizeof(buf), &n, "ok\r\nHTTP/1.1 100"),
              "no 100 for the bare CRLF: %s", buf);
    {
        const char *a = strstr(buf, "100 Continue");
        cr_expect_null(strstr(a + 1, "100 Continue"), "one 100 only: %s", buf);
    }
    close(fd);
    ce_stop(&env);
}
