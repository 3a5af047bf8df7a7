/* SPDX-License-Identifier: MIT */
/*
 * redis_harness.h - what the aggregator's integration tests (agg_*_test.c)
 * start themselves: a private redis-server per test (posix_spawn, unix
 * socket in a mkdtemp folder, no persistence), the real haze-aggregator as
 * a child process, a haze.ini, and XADD helpers. Everything is stopped by
 * pid; nothing is left running: children get PR_SET_PDEATHSIG, and
 * rh_cleanup (a suite's .fini) stops whatever a failed test left behind.
 */
#ifndef HZ_TESTS_REDIS_HARNESS_H
#define HZ_TESTS_REDIS_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include "common/record.h"
#include "common/rstream.h"

struct rh_redis {
    pid_t pid;
    char dir[64];
    char sock[128];
    char addr[140]; /* "unix:/tmp/.../redis.sock" */
};

/* mkdtemp("/tmp/haze-agg.XXXXXX") into out (64 bytes); aborts the test on
 * failure. */
void rh_tmpdir(char out[64]);
/* Removes a folder tree under /tmp/haze-agg. */
void rh_rmtree(const char *dir);

/* Kills the children, stops the redis-servers and removes the folders this
 * test process started and did not stop itself. For TestSuite(.fini). */
void rh_cleanup(void);

/* Starts `redis-server --port 0 --unixsocket DIR/redis.sock --save ''
 * --appendonly no --daemonize no` in a new temporary folder and waits for
 * the socket to answer. 0 or -1. */
int rh_redis_start(struct rh_redis *r);
/* SIGTERM, waitpid, and removes the folder. */
void rh_redis_stop(struct rh_redis *r);
/* A connection to r (aborts the test on failure). */
hz_rs *rh_connect(const struct rh_redis *r);

/* Queues XADD stream * <fields of rec> on rs (pipelined; read the replies
 * with rh_flush). */
void rh_xadd(hz_rs *rs, const char *stream, const struct hz_record *rec);
/* Queues XADD stream * with raw name/value pairs (n pairs). */
void rh_xadd_raw(hz_rs *rs, const char *stream, int n, const char *const *names,
                 const char *const *vals, const size_t *vlens);
/* Reads n queued replies; asserts none is an error. */
void rh_flush(hz_rs *rs, int n);
/* Runs one command with string arguments; returns its integer reply (or
 * the array length, or -1 for nil). */
long long rh_cmd(hz_rs *rs, int argc, const char *const *argv);

/* Writes DIR/haze.ini for the aggregator: redis address, stream, lmdb
 * folder DIR/db, batch size, retention_days 3650 (unless extra sets it), and
 * the extra text (site sections; a second [aggregator] section may add
 * keys). Path into out (256 bytes). */
void rh_config(char out[256], const char *dir, const struct rh_redis *r, const char *stream,
               int batch, const char *extra);

/* fork+exec argv (argv[0] a path) with stdout+stderr appended to log.
 * Returns the pid (aborts the test on failure). */
pid_t rh_spawn(const char *const *argv, const char *log);
/* waitpid with a deadline: exit status, 128+signal, or -1 on timeout. */
int rh_wait(pid_t pid, int ms);
/* The haze-aggregator binary: $HZ_BIN/haze-aggregator or bin/. */
void rh_aggregator_bin(char out[256]);

/* A fresh pageview/event/engagement record (t, site, page, visitor). */
struct hz_record rh_rec(enum hz_kind kind, uint64_t t_ms, const char *site, const char *page,
                        const char *vh);

#endif
