/* SPDX-License-Identifier: MIT */
/*
 * uring.h - socket reads and writes of one loop turn as one batch (issue
 * 12): queued here, then submitted with a single io_uring_enter. The only
 * file that includes <liburing.h>.
 *
 * Readiness still comes from the event loop (epoll through libevent): an
 * operation is queued only for a socket known to be readable, or with
 * answers to write, and always with MSG_DONTWAIT, so the kernel completes
 * it during the submission (data, a short count or -EAGAIN) and
 * hz_uring_run never waits for a socket. Buffers belong to the caller and
 * are the kernel's only during hz_uring_run.
 *
 * Not thread-safe: one per loop.
 */
#ifndef HZ_COLLECTOR_URING_H
#define HZ_COLLECTOR_URING_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct hz_uring hz_uring;

/* Room for this many operations per hz_uring_run. */
#define HZ_URING_OPS 256

/* Opens a ring for HZ_URING_OPS operations. NULL, with the reason in
 * *why (static text), when the kernel refuses (io_uring disabled by
 * kernel.io_uring_disabled or a seccomp filter, a user outside
 * kernel.io_uring_group), is older than 5.12 (or its operations cannot be
 * probed), or when the environment says HAZE_IO_URING=0 (or "no", "off"). */
hz_uring *hz_uring_open(const char **why);
/* NULL is a no-op. */
void hz_uring_close(hz_uring *u);

/* Queue one operation; tag comes back to done. 0, or -1 when
 * HZ_URING_OPS are queued already. */
int hz_uring_recv(hz_uring *u, int fd, void *buf, size_t len, void *tag);
int hz_uring_send(hz_uring *u, int fd, const void *buf, size_t len, void *tag);
/* m and the iovecs it points to stay as they are until hz_uring_run returns. */
int hz_uring_sendmsg(hz_uring *u, int fd, const struct msghdr *m, void *tag);

typedef void (*hz_uring_done)(void *tag, long res); /* res: bytes, or -errno */

/* Submits what is queued (one system call when every operation completes
 * at once, as they do), then calls done for each operation in the order
 * the kernel finished them. Returns 0, or -1 when the ring failed, and
 * must be closed; then an operation that was submitted but has no result
 * may have been made, in part or whole: done gets -ECANCELED for it (its
 * outcome is unknown: the caller gives up on that socket). An operation
 * without any done call never reached the kernel: redo it with read or
 * writev.
 *
 * Test switch: HAZE_IO_URING_FAIL_AFTER=N (in the environment at
 * hz_uring_open) makes the run after N runs fail, before any operation
 * reaches the kernel; "N:wait" after every one did, without a result. */
int hz_uring_run(hz_uring *u, hz_uring_done done);

#endif
