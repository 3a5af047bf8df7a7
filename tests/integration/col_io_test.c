/* SPDX-License-Identifier: MIT */
/*
 * col_io_test.c - the collector's socket I/O (collector/front.c), both
 * ways it is made (issue 12): a loop turn's reads and writes in one
 * io_uring batch (collector/uring.h), and read/writev per connection
 * (HAZE_IO_URING=0, what a kernel without io_uring gets). Each test runs
 * in both: a client that pipelines many requests and reads its answers
 * late (the front stops reading, writes part of an answer, waits for the
 * socket) gets every answer whole and in order; a client that half-closes
 * after its requests gets every answer, then the end; many connections
 * with a request each in the same turns are all answered and counted.
 * And a ring that fails mid-run (the test switch
 * HAZE_IO_URING_FAIL_AFTER): a pipelining client gets every answer once,
 * in order, across the failure, and the front goes on with read/writev.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/integration/collector_env.h"

#define IO_PIXEL                                                                                   \
    "GET /p.gif?d=example.com&u=https%3A%2F%2Fexample.com%2Fio HTTP/1.1\r\nHost: x\r\n"            \
    "User-Agent: " CE_CHROME "\r\n\r\n"
#define IO_JS     "GET /haze.js HTTP/1.1\r\nHost: x\r\n\r\n"
#define IO_HEALTH "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

static int io_modes[] = {0, 1}; /* io_uring, read/writev */

static void
io_start(struct ce *env, int plain)
{
    if (plain)
        cr_assert_eq(setenv("HAZE_IO_URING", "0", 1), 0); /* this test's process only */
    ce_start(env, 0, NULL);
}

static int
io_connect(int port, int rcvbuf)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(fd >= 0);
    if (rcvbuf > 0)
        cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    return fd;
}

static void
io_send(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        cr_assert_gt(w, 0, "send");
        p += w;
        len -= (size_t)w;
    }
}

/* The answers in buf[0, n) from *a on that are whole (by
 * Content-Length); *a moves past them. */
static int
io_whole(const char *buf, size_t n, const char **a)
{
    int whole = 0;

    while (*a < buf + n) {
        const char *end = strstr(*a, "\r\n\r\n"), *cl = strstr(*a, "Content-Length: ");
        if (end == NULL || cl == NULL || cl > end)
            break;
        end += 4 + atol(cl + 16);
        if (end > buf + n)
            break;
        whole++;
        *a = end;
    }
    return whole;
}

/* Reads into buf until it holds want answers (whole, by Content-Length)
 * or the peer closes, or 5 s without a byte. Returns the bytes read;
 * *closed tells whether the end came. */
static size_t
io_read_answers(int fd, char *buf, size_t cap, int want, int *closed)
{
    size_t n = 0;
    const char *a = buf; /* the first answer not yet whole */
    int whole = 0;

    *closed = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t r;
        buf[n] = '\0';
        whole += io_whole(buf, n, &a);
        if (whole >= want)
            return n;
        if (poll(&p, 1, 5000) != 1)
            return n;
        r = recv(fd, buf + n, cap - n - 1, 0);
        if (r <= 0) {
            *closed = r == 0;
            return n;
        }
        n += (size_t)r;
    }
}

/* The answers in buf, checked one by one against the requests' kinds
 * (kind[i]: 0 pixel, 1 script, 2 health); returns how many matched. */
static int
io_check_answers(const char *buf, size_t n, const int *kind, int count, size_t js_len)
{
    const char *a = buf;
    int i;

    for (i = 0; i < count && a < buf + n; i++) {
        const char *end = strstr(a, "\r\n\r\n"), *cl = strstr(a, "Content-Length: ");
        size_t len;
        cr_assert_not_null(end, "answer %d has its header", i);
        cr_assert(cl != NULL && cl < end, "answer %d has a Content-Length", i);
        len = (size_t)atol(cl + 16);
        cr_assert_eq(strncmp(a, "HTTP/1.1 200 ", 13), 0, "answer %d: %.40s", i, a);
        switch (kind[i]) {
        case 0:
            cr_assert_eq(len, 43, "answer %d is the pixel", i);
            cr_assert_eq(memcmp(end + 4, "GIF89a", 6), 0, "answer %d is the pixel", i);
            break;
        case 1:
            cr_assert_eq(len, js_len, "answer %d is the script", i);
            cr_assert_not_null(memmem(end + 4, len, "haze", 4), "answer %d is the script", i);
            break;
        default:
            cr_assert_lt(len, 64, "answer %d is the health check", i);
            break;
        }
        a = end + 4 + len;
    }
    cr_assert_eq(a, buf + n, "nothing after the last answer");
    return i;
}

static int
io_hits(struct ce *env, int want)
{
    struct ce_entry *en = malloc(sizeof(*en) * (size_t)(want + 8));
    int n = 0;

    cr_assert_not_null(en);
    for (int i = 0; i < 100 && (n = ce_entries(env, en, want + 8, 1)) < want; i++)
        ce_sleep_ms(50);
    free(en);
    return n;
}

ParameterizedTestParameters(collector_io, a_late_reader_gets_every_answer_in_order)
{
    return cr_make_param_array(int, io_modes, 2);
}

/* 2,400 pipelined requests (script, script, pixel, health in turn), read
 * after a pause through a small receive buffer: about 6 MB of answers,
 * more than the socket buffers hold, wait on the collector, which stops
 * reading, writes what the socket takes (part of an answer, or nothing)
 * and goes on when the client reads. */
ParameterizedTest(int *plain, collector_io, a_late_reader_gets_every_answer_in_order, .timeout = 90)
{
    enum { N = 2400 };
    static char req[N * sizeof(IO_PIXEL)];
    static int kind[N];
    static char buf[16 << 20];
    struct ce env;
    size_t len = 0, n, js_len;
    int fd, closed;

    io_start(&env, *plain);
    {
        struct ht_response r;
        cr_assert_eq(ht_http(env.port, "GET", "/haze.js", "", NULL, 0, &r), 0);
        cr_assert_eq(r.status, 200);
        js_len = r.body_len;
        cr_assert_gt(js_len, 1024, "the script is sent in place, after its header");
        ht_response_free(&r);
    }
    for (int i = 0; i < N; i++) {
        static const char *const reqs[] = {IO_JS, IO_JS, IO_PIXEL, IO_HEALTH};
        static const int kinds[] = {1, 1, 0, 2};
        kind[i] = kinds[i % 4];
        len += (size_t)sprintf(req + len, "%s", reqs[i % 4]);
    }
    fd = io_connect(env.port, 4096);
    io_send(fd, req, len);
    ce_sleep_ms(500);
    n = io_read_answers(fd, buf, sizeof(buf), N, &closed);
    cr_assert_not(closed, "the connection stays open");
    cr_assert_gt(n, (size_t)N / 2 * js_len, "more than the socket buffers hold");
    cr_assert_eq(io_check_answers(buf, n, kind, N, js_len), N, "every answer, in order");
    /* Still served after that, and closed when asked. */
    io_send(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 53);
    n = io_read_answers(fd, buf, sizeof(buf), 2, &closed);
    cr_assert(closed && strncmp(buf, "HTTP/1.1 200 ", 13) == 0, "%s", buf);
    close(fd);
    cr_assert_eq(io_hits(&env, N / 4), N / 4, "every pixel hit counted once");
    ce_stop(&env);
}

ParameterizedTestParameters(collector_io, a_half_closed_client_gets_every_answer_then_the_end)
{
    return cr_make_param_array(int, io_modes, 2);
}

ParameterizedTest(int *plain, collector_io, a_half_closed_client_gets_every_answer_then_the_end,
                  .timeout = 60)
{
    enum { N = 12 };
    static char req[N * sizeof(IO_PIXEL)], buf[65536];
    int kind[N] = {0};
    struct ce env;
    size_t len = 0, n;
    int fd, closed;

    io_start(&env, *plain);
    for (int i = 0; i < N; i++)
        len += (size_t)sprintf(req + len, "%s", IO_PIXEL);
    fd = io_connect(env.port, 0);
    io_send(fd, req, len);
    cr_assert_eq(shutdown(fd, SHUT_WR), 0);
    n = io_read_answers(fd, buf, sizeof(buf), N + 1, &closed);
    cr_assert(closed, "the collector closes after the last answer");
    cr_assert_eq(io_check_answers(buf, n, kind, N, 0), N, "every answer, in order");
    close(fd);
    cr_assert_eq(io_hits(&env, N), N, "every hit counted once");
    ce_stop(&env);
}

ParameterizedTestParameters(collector_io, a_request_there_at_accept_or_later_is_answered)
{
    return cr_make_param_array(int, io_modes, 2);
}

/* The front reads a new connection at once, in the batch of the turn
 * that accepts it, and enters the epoll set only when nothing was there
 * or the connection stays open. Each way must answer: a Connection:
 * close request sent before the accept (answered, then the end); one
 * sent 300 ms after it, in two parts; a keep-alive connection's first
 * request there at the accept, its second one later. */
ParameterizedTest(int *plain, collector_io, a_request_there_at_accept_or_later_is_answered,
                  .timeout = 60)
{
    static const char close_req[] = "GET /p.gif?d=example.com&u=https%3A%2F%2Fexample.com%2Fio "
                                    "HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                    "User-Agent: " CE_CHROME "\r\n\r\n";
    static char buf[4096];
    int kind[1] = {0}, fd, closed;
    size_t n, half = sizeof(IO_PIXEL) / 2;
    struct ce env;

    io_start(&env, *plain);
    for (int i = 0; i < 5; i++) { /* there at the accept */
        fd = io_connect(env.port, 0);
        io_send(fd, close_req, sizeof(close_req) - 1);
        n = io_read_answers(fd, buf, sizeof(buf), 2, &closed);
        cr_assert(closed, "closed after the answer (%d)", i);
        cr_assert_eq(io_check_answers(buf, n, kind, 1, 0), 1, "answered (%d)", i);
        close(fd);
    }
    fd = io_connect(env.port, 0); /* later, in two parts */
    ce_sleep_ms(300);
    io_send(fd, IO_PIXEL, half);
    ce_sleep_ms(100);
    io_send(fd, IO_PIXEL + half, sizeof(IO_PIXEL) - 1 - half);
    n = io_read_answers(fd, buf, sizeof(buf), 1, &closed);
    cr_assert_not(closed);
    cr_assert_eq(io_check_answers(buf, n, kind, 1, 0), 1, "a late request is answered");
    io_send(fd, IO_PIXEL, sizeof(IO_PIXEL) - 1);
    n = io_read_answers(fd, buf, sizeof(buf), 1, &closed);
    cr_assert_eq(io_check_answers(buf, n, kind, 1, 0), 1, "and the next one");
    close(fd);
    fd = io_connect(env.port, 0); /* keep-alive: at the accept, then later */
    io_send(fd, IO_PIXEL, sizeof(IO_PIXEL) - 1);
    n = io_read_answers(fd, buf, sizeof(buf), 1, &closed);
    cr_assert_eq(io_check_answers(buf, n, kind, 1, 0), 1, "the first request is answered");
    ce_sleep_ms(300);
    io_send(fd, IO_PIXEL, sizeof(IO_PIXEL) - 1);
    n = io_read_answers(fd, buf, sizeof(buf), 1, &closed);
    cr_assert_not(closed);
    cr_assert_eq(io_check_answers(buf, n, kind, 1, 0), 1, "the second request is answered");
    close(fd);
    cr_assert_eq(io_hits(&env, 9), 9, "every hit counted once");
    ce_stop(&env);
}

ParameterizedTestParameters(collector_io, many_connections_in_the_same_turns)
{
    return cr_make_param_array(int, io_modes, 2);
}

/* 60 connections, each with a request in flight at the same time, three
 * rounds: batches of many connections. */
ParameterizedTest(int *plain, collector_io, many_connections_in_the_same_turns, .timeout = 60)
{
    enum { C = 60, ROUNDS = 3 };
    static char buf[4096];
    int fds[C], kind[1] = {0};
    struct ce env;

    io_start(&env, *plain);
    for (int i = 0; i < C; i++)
        fds[i] = io_connect(env.port, 0);
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < C; i++)
            io_send(fds[i], IO_PIXEL, sizeof(IO_PIXEL) - 1);
        for (int i = 0; i < C; i++) {
            int closed;
            size_t n = io_read_answers(fds[i], buf, sizeof(buf), 1, &closed);
            cr_assert_not(closed);
            cr_assert_eq(io_check_answers(buf, n, kind, 1, 0), 1, "connection %d, round %d", i, r);
        }
    }
    for (int i = 0; i < C; i++)
        close(fds[i]);
    cr_assert_eq(io_hits(&env, C * ROUNDS), C * ROUNDS, "every hit counted once");
    ce_stop(&env);
}

/* Sends len bytes of pipelined requests while reading the answers (the
 * socket made non-blocking), until want answers are whole, the peer
 * closes, or 5 s without progress. Returns the bytes read into buf. */
static size_t
io_pump(int fd, const char *req, size_t len, char *buf, size_t cap, int want, int *closed)
{
    size_t n = 0, off = 0;
    const char *a = buf;
    int whole = 0;

    *closed = 0;
    cr_assert_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN | (off < len ? POLLOUT : 0)};
        buf[n] = '\0';
        whole += io_whole(buf, n, &a);
        if (whole >= want || poll(&p, 1, 5000) != 1)
            break;
        if (p.revents & POLLOUT) {
            ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);
            if (w > 0)
                off += (size_t)w;
            else
                cr_assert(errno == EAGAIN, "send: %s", strerror(errno));
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
            if (r == 0 || (r < 0 && errno != EAGAIN)) {
                *closed = 1;
                break;
            }
            if (r > 0)
                n += (size_t)r;
        }
    }
    cr_assert_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK), 0);
    return n;
}

/* ~300 bytes: a read of the first 4 KB of input holds fewer requests
 * than a connection has answer slots, so reading goes on while they are
 * answered, and a batch holds the connection's read and write. */
#define IO_PAD                                                                                     \
    "X-Pad: 0123456789012345678901234567890123456789012345678901234567890123456789"                \
    "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"  \
    "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890"  \
    "\r\n"
#define IO_JS_PAD     "GET /haze.js HTTP/1.1\r\nHost: x\r\n" IO_PAD "\r\n"
#define IO_HEALTH_PAD "GET /healthz HTTP/1.1\r\nHost: x\r\n" IO_PAD "\r\n"

/* n pipelined requests (script, pixel, health, health in turn) into req;
 * their kinds into kind; returns the length. */
static size_t
io_requests(char *req, int *kind, int n)
{
    static const char *const reqs[] = {IO_JS_PAD, IO_PIXEL, IO_HEALTH_PAD, IO_HEALTH_PAD};
    static const int kinds[] = {1, 0, 2, 2};
    size_t len = 0;

    for (int i = 0; i < n; i++) {
        kind[i] = kinds[i % 4];
        len += (size_t)sprintf(req + len, "%s", reqs[i % 4]);
    }
    return len;
}

static size_t
io_js_len(struct ce *env)
{
    struct ht_response r;
    size_t len;

    cr_assert_eq(ht_http(env->port, "GET", "/haze.js", "", NULL, 0, &r), 0);
    cr_assert_eq(r.status, 200);
    len = r.body_len;
    ht_response_free(&r);
    return len;
}

/* Batches before the failure: a dozen points, since which batch holds a
 * read and a write of the connection varies from run to run (about half
 * of them do: each point failed at times before the fix). */
static int io_fail_after[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

enum { IO_FAIL_N = 1600 };
static char io_req[IO_FAIL_N * sizeof(IO_JS_PAD)], io_buf[8 << 20];
static int io_kind[IO_FAIL_N];

/* One thread, its ring failing after `after` batches (how: "" or
 * ":wait"); a client pipelines IO_FAIL_N requests on a new connection
 * while reading the answers (io_pump). Returns the bytes read into io_buf. */
static size_t
io_fail_run(struct ce *env, int after, const char *how, int *fd, int *closed)
{
    char val[32];
    size_t len;

    (void)snprintf(val, sizeof(val), "%d%s", after, how);
    cr_assert_eq(setenv("HAZE_IO_URING_FAIL_AFTER", val, 1), 0);
    ce_start(env, 0, "threads = 1\n");
    len = io_requests(io_req, io_kind, IO_FAIL_N);
    *fd = io_connect(env->port, 0);
    return io_pump(*fd, io_req, len, io_buf, sizeof(io_buf), IO_FAIL_N, closed);
}

/* The collector said it failed (skips where it had no ring), and answers
 * 400 requests on a new connection, with read and writev. */
static void
io_after_failure(struct ce *env, size_t js_len)
{
    char *log = ht_slurp(env->collector.log, NULL);
    size_t len, n;
    int fd, closed;

    cr_assert_not_null(log);
    if (strstr(log, "io_uring batch") == NULL)
        cr_skip_test("no io_uring here");
    cr_assert_not_null(strstr(log, "io_uring failed"), "the ring failed: %s", log);
    free(log);
    len = io_requests(io_req, io_kind, 400);
    fd = io_connect(env->port, 0);
    n = io_pump(fd, io_req, len, io_buf, sizeof(io_buf), 400, &closed);
    cr_assert_eq(io_check_answers(io_buf, n, io_kind, 400, js_len), 400, "a new connection");
    close(fd);
}

ParameterizedTestParameters(collector_io, a_ring_failing_mid_run_loses_no_answer)
{
    return cr_make_param_array(int, io_fail_after, 12);
}

/* One thread, its ring failing after a few batches (the test switch):
 * 1,600 requests pipelined while the answers are read, so that batches
 * hold a read and a write of the connection, the failing one often. Every
 * answer arrives once, in order; every pixel hit is counted once; the
 * front says so and goes on with read and writev, on that connection
 * and on a new one. */
ParameterizedTest(int *after, collector_io, a_ring_failing_mid_run_loses_no_answer, .timeout = 90)
{
    struct ce env;
    size_t len, n, js_len;
    int fd, closed;

    n = io_fail_run(&env, *after, "", &fd, &closed);
    cr_assert_not(closed, "the connection stays open");
    js_len = io_js_len(&env);
    cr_assert_eq(io_check_answers(io_buf, n, io_kind, IO_FAIL_N, js_len), IO_FAIL_N,
                 "every answer once, in order");
    io_after_failure(&env, js_len);
    /* The same connection goes on too. */
    len = io_requests(io_req, io_kind, 400);
    n = io_pump(fd, io_req, len, io_buf, sizeof(io_buf), 400, &closed);
    cr_assert_eq(io_check_answers(io_buf, n, io_kind, 400, js_len), 400, "after the failure");
    close(fd);
    cr_assert_eq(io_hits(&env, IO_FAIL_N / 4 + 200), IO_FAIL_N / 4 + 200,
                 "every pixel hit counted once");
    ce_stop(&env);
}

static int io_lost_after[] = {1, 2, 3, 4, 5, 6};

ParameterizedTestParameters(collector_io, a_lost_batch_closes_its_connections_and_the_front_goes_on)
{
    return cr_make_param_array(int, io_lost_after, 6);
}

/* The ring fails waiting for its results ("N:wait"): a read or write
 * submitted may have been made, so it is not made again; its connection
 * closes. What the client got before is every answer whole, in order,
 * none twice; then a new connection is answered with read and writev. */
ParameterizedTest(int *after, collector_io,
                  a_lost_batch_closes_its_connections_and_the_front_goes_on, .timeout = 90)
{
    struct ce env;
    size_t n, js_len;
    const char *a = io_buf;
    int fd, closed, whole;

    n = io_fail_run(&env, *after, ":wait", &fd, &closed);
    close(fd);
    whole = io_whole(io_buf, n, &a);
    cr_assert(whole == IO_FAIL_N || closed, "all answered (%d), or closed", whole);
    js_len = io_js_len(&env);
    if (whole > 0)
        cr_assert_eq(io_check_answers(io_buf, (size_t)(a - io_buf), io_kind, whole, js_len), whole,
                     "the answers before are whole, in order, once");
    io_after_failure(&env, js_len);
    ce_stop(&env);
}
