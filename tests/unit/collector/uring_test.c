/* SPDX-License-Identifier: MIT */
/*
 * uring_test.c - collector/uring.h on socket pairs: a batch of reads and
 * writes completes in hz_uring_run without waiting for any socket (a read
 * of an empty socket and a write to a full one give -EAGAIN at once, the
 * front's event loop must never block on them), each operation's result
 * comes back with its tag, and HAZE_IO_URING=0 turns the ring off.
 * Skipped where the kernel refuses io_uring.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "collector/uring.h"

#define URING_T_OPS 8

static long results[URING_T_OPS];
static int seen[URING_T_OPS];

static void
done(void *tag, long res)
{
    uintptr_t i = (uintptr_t)tag;

    cr_assert_lt(i, URING_T_OPS);
    results[i] = res;
    seen[i]++;
}

static hz_uring *
ring(void)
{
    const char *why = NULL;
    hz_uring *u;

    unsetenv("HAZE_IO_URING");
    u = hz_uring_open(&why);
    if (u == NULL)
        cr_skip_test("no io_uring here: %s", why);
    memset(results, 0, sizeof(results));
    memset(seen, 0, sizeof(seen));
    return u;
}

static void
pair(int sv[2])
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

Test(uring, off_by_environment)
{
    const char *why = NULL;

    cr_assert_eq(setenv("HAZE_IO_URING", "0", 1), 0);
    cr_assert_null(hz_uring_open(&why));
    cr_assert_not_null(why);
    cr_assert_not_null(strstr(why, "HAZE_IO_URING"), "%s", why);
}

Test(uring, a_batch_completes_at_once_with_each_result)
{
    hz_uring *u = ring();
    int empty[2], full[2], out[2], vec[2];
    char in[16] = "", got[16] = "", in2[16] = "", he[] = "he", llo[] = "llo";
    struct iovec iov[2] = {{.iov_base = he, .iov_len = 2}, {.iov_base = llo, .iov_len = 3}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
    double t0;

    pair(empty);
    pair(full);
    pair(out);
    pair(vec);
    cr_assert_eq(write(full[1], "abc", 3), 3);
    cr_assert_eq(hz_uring_recv(u, empty[0], in2, sizeof(in2), (void *)0), 0);
    cr_assert_eq(hz_uring_recv(u, full[0], in, sizeof(in), (void *)1), 0);
    cr_assert_eq(hz_uring_send(u, out[0], "xyz", 3, (void *)2), 0);
    cr_assert_eq(hz_uring_sendmsg(u, vec[0], &m, (void *)3), 0);
    t0 = now_ms();
    cr_assert_eq(hz_uring_run(u, done), 0);
    cr_assert_lt(now_ms() - t0, 500.0, "no operation waits for its socket");
    for (int i = 0; i < 4; i++)
        cr_assert_eq(seen[i], 1, "operation %d completed once", i);
    cr_assert_eq(results[0], -EAGAIN, "an empty socket: %ld", results[0]);
    cr_assert_eq(results[1], 3);
    cr_assert_eq(memcmp(in, "abc", 3), 0);
    cr_assert_eq(results[2], 3);
    cr_assert_eq(read(out[1], got, sizeof(got)), 3);
    cr_assert_eq(memcmp(got, "xyz", 3), 0);
    cr_assert_eq(results[3], 5);
    cr_assert_eq(read(vec[1], got, sizeof(got)), 5);
    cr_assert_eq(memcmp(got, "hello", 5), 0);
    /* The ring is ready for the next turn. */
    cr_assert_eq(hz_uring_recv(u, empty[0], in2, sizeof(in2), (void *)4), 0);
    cr_assert_eq(hz_uring_run(u, done), 0);
    cr_assert_eq(seen[4], 1);
    cr_assert_eq(results[4], -EAGAIN);
    for (int i = 0; i < 2; i++) {
        close(empty[i]);
        close(full[i]);
        close(out[i]);
        close(vec[i]);
    }
    hz_uring_close(u);
}

Test(uring, a_full_socket_takes_nothing_and_nothing_waits)
{
    hz_uring *u = ring();
    static char big[65536];
    int sv[2];
    double t0;

    pair(sv);
    while (write(sv[0], big, sizeof(big)) > 0)
        ; /* until the socket is full */
    cr_assert_eq(errno, EAGAIN);
    cr_assert_eq(hz_uring_send(u, sv[0], big, sizeof(big), (void *)0), 0);
    t0 = now_ms();
    cr_assert_eq(hz_uring_run(u, done), 0);
    cr_assert_lt(now_ms() - t0, 500.0, "the write does not wait for room");
    cr_assert_eq(seen[0], 1);
    cr_assert(results[0] == -EAGAIN || (results[0] > 0 && results[0] < (long)sizeof(big)),
              "a full socket: %ld", results[0]);
    close(sv[0]);
    close(sv[1]);
    hz_uring_close(u);
}

Test(uring, a_batch_holds_hz_uring_ops)
{
    hz_uring *u = ring();
    int sv[2];
    char b[4];

    pair(sv);
    for (int i = 0; i < HZ_URING_OPS; i++)
        cr_assert_eq(hz_uring_recv(u, sv[0], b, sizeof(b), (void *)0), 0, "op %d", i);
    cr_assert_eq(hz_uring_recv(u, sv[0], b, sizeof(b), (void *)0), -1, "one too many");
    cr_assert_eq(hz_uring_run(u, done), 0);
    cr_assert_eq(seen[0], HZ_URING_OPS);
    close(sv[0]);
    close(sv[1]);
    hz_uring_close(u);
}

/* HAZE_IO_URING_FAIL_AFTER (the test switch): the batch after N fails.
 * Failed before the kernel: no operation has a result (the caller makes
 * them with read and writev). Failed waiting: each submitted operation
 * gets -ECANCELED (it may have been made: the caller gives up on it). */
static void
fail_after(const char *how, int wait)
{
    hz_uring *u;
    int sv[2];
    char in[8] = "";

    cr_assert_eq(setenv("HAZE_IO_URING_FAIL_AFTER", how, 1), 0);
    u = ring();
    unsetenv("HAZE_IO_URING_FAIL_AFTER");
    pair(sv);
    cr_assert_eq(write(sv[1], "abc", 3), 3);
    cr_assert_eq(hz_uring_recv(u, sv[0], in, sizeof(in), (void *)0), 0);
    cr_assert_eq(hz_uring_run(u, done), 0, "the first batch runs");
    cr_assert_eq(seen[0], 1);
    cr_assert_eq(results[0], 3);
    cr_assert_eq(write(sv[1], "def", 3), 3);
    cr_assert_eq(hz_uring_recv(u, sv[0], in, sizeof(in), (void *)1), 0);
    cr_assert_eq(hz_uring_send(u, sv[0], "xyz", 3, (void *)2), 0);
    cr_assert_eq(hz_uring_run(u, done), -1, "the second fails");
    if (wait) {
        cr_assert(seen[1] == 1 && results[1] == -ECANCELED, "%d %ld", seen[1], results[1]);
        cr_assert(seen[2] == 1 && results[2] == -ECANCELED, "%d %ld", seen[2], results[2]);
    } else {
        cr_assert(seen[1] == 0 && seen[2] == 0, "no result: never made");
        cr_assert_eq(read(sv[0], in, sizeof(in)), 3, "the bytes wait for read");
        cr_assert_eq(read(sv[1], in, sizeof(in)), -1, "nothing was written");
    }
    hz_uring_close(u);
    close(sv[0]);
    close(sv[1]);
}

Test(uring, a_failed_submission_makes_no_operation)
{
    fail_after("1", 0);
}

Test(uring, a_failed_wait_gives_each_submitted_operation_ecanceled)
{
    fail_after("1:wait", 1);
}
