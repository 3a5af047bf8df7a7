/* SPDX-License-Identifier: MIT */
/*
 * uring.c - one loop turn's socket I/O in one io_uring_enter (uring.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "collector/uring.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <liburing.h>

#define URING_TRIES 8 /* submissions interrupted in a row before giving up */

/* A failure made on purpose (HAZE_IO_URING_FAIL_AFTER, a test switch). */
enum uring_fail { URING_FAIL_NONE, URING_FAIL_SUBMIT, URING_FAIL_WAIT };

struct hz_uring {
    struct io_uring ring;
    unsigned queued;
    /* The queued operations' tags, by their place in the batch (the
     * kernel takes them in that order; user_data is the place), and
     * which have had their done call. */
    void *tag[HZ_URING_OPS];
    unsigned char got[HZ_URING_OPS];
    enum uring_fail fail;
    unsigned long fail_after; /* batches that run before the failure */
};

/* The operations used here, and a kernel that completes a MSG_DONTWAIT
 * operation on a socket that is not ready with -EAGAIN rather than
 * waiting for it (native workers, 5.12, stand for that: older kernels
 * get read and writev). 1, 0 when the kernel lacks them, -1 when the
 * probe itself failed. */
static int
uring_kernel_ok(hz_uring *u, const struct io_uring_params *p)
{
    struct io_uring_probe *probe;
    int ok;

    if (!(p->features & IORING_FEAT_NATIVE_WORKERS))
        return 0;
    probe = io_uring_get_probe_ring(&u->ring);
    if (probe == NULL)
        return -1;
    ok = io_uring_opcode_supported(probe, IORING_OP_RECV) &&
         io_uring_opcode_supported(probe, IORING_OP_SEND) &&
         io_uring_opcode_supported(probe, IORING_OP_SENDMSG);
    io_uring_free_probe(probe);
    return ok;
}

/* HAZE_IO_URING_FAIL_AFTER=N (a test switch): the batch after N batches
 * fails, as a failed io_uring_enter does: "N" before any operation
 * reaches the kernel, "N:wait" after every one did, without a result. */
static void
uring_fail_env(hz_uring *u)
{
    const char *env = getenv("HAZE_IO_URING_FAIL_AFTER");
    char *end;
    unsigned long n;

    if (env == NULL || *env < '0' || *env > '9')
        return;
    errno = 0;
    n = strtoul(env, &end, 10);
    if (errno != 0 || (*end != '\0' && strcmp(end, ":wait") != 0))
        return;
    u->fail = *end == '\0' ? URING_FAIL_SUBMIT : URING_FAIL_WAIT;
    u->fail_after = n;
}

hz_uring *
hz_uring_open(const char **why)
{
    /* Go on past a failed operation (its error is its completion), and no
     * interrupt to run completion work: ours is done before enter returns. */
    static const unsigned flags[] = {IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN, 0};
    const char *env = getenv("HAZE_IO_URING");
    struct io_uring_params p;
    hz_uring *u;
    int r = -EINVAL;

    if (env != NULL &&
        (strcmp(env, "0") == 0 || strcmp(env, "no") == 0 || strcmp(env, "off") == 0)) {
        *why = "disabled by HAZE_IO_URING";
        return NULL;
    }
    u = calloc(1, sizeof(*u));
    if (u == NULL) {
        *why = "out of memory";
        return NULL;
    }
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        memset(&p, 0, sizeof(p));
        p.flags = flags[i];
        r = io_uring_queue_init_params(HZ_URING_OPS, &u->ring, &p);
        if (r != -EINVAL)
            break; /* EINVAL: flags this kernel does not know */
    }
    if (r < 0) {
        *why = strerror(-r);
        free(u);
        return NULL;
    }
    r = uring_kernel_ok(u, &p);
    if (r != 1) {
        *why = r == 0 ? "the kernel is older than 5.12" : "cannot probe the kernel's operations";
        hz_uring_close(u);
        return NULL;
    }
    uring_fail_env(u);
    return u;
}

void
hz_uring_close(hz_uring *u)
{
    if (u == NULL)
        return;
    io_uring_queue_exit(&u->ring);
    free(u);
}

/* The next operation's entry, with tag kept at its place. */
static struct io_uring_sqe *
uring_sqe(hz_uring *u, void *tag)
{
    struct io_uring_sqe *sqe;

    if (u->queued >= HZ_URING_OPS || (sqe = io_uring_get_sqe(&u->ring)) == NULL)
        return NULL;
    u->tag[u->queued] = tag;
    u->got[u->queued] = 0;
    u->queued++;
    return sqe;
}

int
hz_uring_recv(hz_uring *u, int fd, void *buf, size_t len, void *tag)
{
    struct io_uring_sqe *sqe = uring_sqe(u, tag);

    if (sqe == NULL)
        return -1;
    io_uring_prep_recv(sqe, fd, buf, len, MSG_DONTWAIT);
    io_uring_sqe_set_data64(sqe, u->queued - 1);
    return 0;
}

int
hz_uring_send(hz_uring *u, int fd, const void *buf, size_t len, void *tag)
{
    struct io_uring_sqe *sqe = uring_sqe(u, tag);

    if (sqe == NULL)
        return -1;
    io_uring_prep_send(sqe, fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, u->queued - 1);
    return 0;
}

int
hz_uring_sendmsg(hz_uring *u, int fd, const struct msghdr *m, void *tag)
{
    struct io_uring_sqe *sqe = uring_sqe(u, tag);

    if (sqe == NULL)
        return -1;
    io_uring_prep_sendmsg(sqe, fd, m, MSG_DONTWAIT | MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, u->queued - 1);
    return 0;
}

/* Hands every completion there is to done; how many. */
static unsigned
uring_reap(hz_uring *u, unsigned queued, hz_uring_done done)
{
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;

    io_uring_for_each_cqe(&u->ring, head, cqe)
    {
        uint64_t at = io_uring_cqe_get_data64(cqe);
        if (at < queued && !u->got[at]) {
            u->got[at] = 1;
            done(u->tag[at], cqe->res);
        }
        n++;
    }
    io_uring_cq_advance(&u->ring, n);
    return n;
}

int
hz_uring_run(hz_uring *u, hz_uring_done done)
{
    unsigned queued = u->queued, submitted = 0, got = 0;
    int tries = 0, failed = 0, lost;

    u->queued = 0;
    if (u->fail == URING_FAIL_SUBMIT && u->fail_after-- == 0)
        return -1; /* as if the first io_uring_enter failed */
    while (submitted < queued) {
        int r = io_uring_submit(&u->ring);
        if (r > 0) {
            submitted += (unsigned)r;
            continue;
        }
        if ((r == 0 || r == -EINTR || r == -EAGAIN || r == -EBUSY) && ++tries < URING_TRIES) {
            got += uring_reap(u, queued, done); /* EBUSY: completions first */
            continue;
        }
        failed = 1; /* the rest never reached the kernel */
        break;
    }
    /* Every operation submitted completes (MSG_DONTWAIT: at once); its
     * buffers are the kernel's until then. */
    lost = u->fail == URING_FAIL_WAIT && u->fail_after-- == 0; /* as if the wait failed */
    while (!lost && (got += uring_reap(u, queued, done)) < submitted) {
        struct io_uring_cqe *cqe;
        int r = io_uring_wait_cqe(&u->ring, &cqe);
        lost = r < 0 && r != -EINTR && r != -EAGAIN;
    }
    if (!failed && !lost)
        return 0;
    /* Submitted, without a result: it may have been made, or in part. */
    for (unsigned i = 0; i < submitted; i++)
        if (!u->got[i]) {
            u->got[i] = 1;
            done(u->tag[i], -ECANCELED);
        }
    return -1;
}
