/* SPDX-License-Identifier: MIT */
/*
 * harness.h - real parts for integration tests, started by the tests
 * themselves: a temporary folder, a private redis-server on a unix socket,
 * haze's own binaries as child processes (stopped by pid), and a small
 * blocking HTTP/1.1 client for loopback.
 */
#ifndef HZ_TESTS_HARNESS_H
#define HZ_TESTS_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include "common/idlog.h"
#include "common/record.h"
#include "common/rstream.h"

/* A sanitizer build (make asan) runs the daemons and the test itself
 * several times slower: a bound on how long some work takes is multiplied
 * by this (a test's .timeout too). */
#if defined(__SANITIZE_ADDRESS__)
#define HT_SAN_SLOWER 3
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HT_SAN_SLOWER 3
#endif
#endif
#ifndef HT_SAN_SLOWER
#define HT_SAN_SLOWER 1
#endif

/* mkdtemp under /tmp; aborts the test on failure. out has 64 bytes. */
void ht_tmpdir(char out[64]);
/* rm -rf dir (only paths under /tmp/haze-). */
void ht_rmdir(const char *dir);
/* Kills the children, stops the redis-servers and removes the folders this
 * test process started and did not stop itself. For TestSuite(.fini). */
void ht_cleanup(void);

struct ht_redis {
    pid_t pid;
    char dir[64];
    char sock[128];
    char addr[140]; /* "unix:/tmp/.../redis.sock" for haze.ini */
    int own_dir;    /* dir was made by ht_redis_start and goes with stop */
};

/* Starts redis-server in dir, or in a new temporary folder of its own when
 * dir is NULL (persistence per `aof`: appendonly with appendfsync always, so
 * a restart keeps everything acknowledged). Waits until it answers PING.
 * Returns 0 or -1. */
int ht_redis_start(struct ht_redis *r, const char *dir, int aof);
/* Stops it by pid: SIGTERM (or SIGKILL when hard) and waitpid; removes
 * its folder when it made it. */
void ht_redis_stop(struct ht_redis *r, int hard);
/* Runs a redis-cli command line against r; returns its stdout (malloc'd,
 * caller frees) or NULL. Arguments are passed as argv (no shell). */
char *ht_redis_cli(const struct ht_redis *r, const char *const *args);
/* XLEN of stream, or -1. */
long ht_redis_xlen(const struct ht_redis *r, const char *stream);

/* A connection of our own client to r (aborts the test on failure). */
hz_rs *ht_rs_connect(const struct ht_redis *r);
/* Queues XADD stream * <fields of rec> on rs (pipelined; read the replies
 * with ht_flush). */
void ht_xadd(hz_rs *rs, const char *stream, const struct hz_record *rec);
/* The same in the compact form (one field, common/record.h), as the
 * collector writes it; ht_xadd writes the older multi-field form. */
void ht_xadd_packed(hz_rs *rs, const char *stream, const struct hz_record *rec);
/* Queues XADD stream * with raw name/value pairs (n pairs). */
void ht_xadd_raw(hz_rs *rs, const char *stream, int n, const char *const *names,
                 const char *const *vals, const size_t *vlens);
/* Reads n queued replies; asserts none is an error. */
void ht_flush(hz_rs *rs, int n);
/* Every hit id in stream's applied id log (common/idlog.h), bucket by
 * bucket in no particular order, into *out (malloc'd; NULL when none).
 * Returns the count, or -1. */
long ht_idlog(hz_rs *rs, const char *stream, uint64_t **out);
/* Runs one command with string arguments; returns its integer reply (the
 * array length, -1 for nil, -2 for an error, 0 for anything else). */
long long ht_cmd(hz_rs *rs, int argc, const char *const *argv);

/* Writes DIR/haze.ini for the aggregator: redis address, stream, lmdb
 * folder DIR/db, batch size, retention_days 3650 (unless extra sets it), and
 * the extra text (site sections; a second [aggregator] section may add
 * keys). Path into out (256 bytes). */
void ht_agg_config(char out[256], const char *dir, const struct ht_redis *r, const char *stream,
                   int batch, const char *extra);
/* Runs bin/haze-aggregator -c ini (output to log, NULL: none) until stream
 * is empty (applied and trimmed; 10 s at most), asserts it is still alive,
 * stops it with SIGTERM and asserts exit 0. Returns XLEN left (0). */
long long ht_agg_drain(const char *ini, hz_rs *rs, const char *stream, const char *log);
/* A fresh pageview/event/engagement record (t, site, page, visitor). */
struct hz_record ht_rec(enum hz_kind kind, uint64_t t_ms, const char *site, const char *page,
                        const char *vh);

/* fork+exec argv (argv[0] a path, or a name looked up in PATH), stdin from
 * /dev/null, stdout+stderr appended to log (NULL: /dev/null). The child
 * dies with the test process (PR_SET_PDEATHSIG). Returns the pid. */
pid_t ht_run(const char *const *argv, const char *log);
/* waitpid with a deadline: exit status, 128+signal, or -1 on timeout. */
int ht_waitpid(pid_t pid, int ms);

/* A child process of ours. stdout+stderr go to DIR/NAME.log. */
struct ht_proc {
    pid_t pid;
    char log[128];
};
/* argv[0] is a path; returns 0 or -1. */
int ht_spawn(struct ht_proc *p, const char *dir, const char *name, const char *const *argv);
/* SIGTERM (or sig), wait up to ms; returns the exit status (WEXITSTATUS)
 * or -1 if it had to be killed. */
int ht_stop(struct ht_proc *p, int sig, int ms);
/* Waits for the process to exit by itself; exit status or -1 on timeout. */
int ht_wait(struct ht_proc *p, int ms);
/* The log's contents (malloc'd), or NULL. */
char *ht_slurp(const char *path, size_t *len);

/* A free loopback TCP port (bind 0, read, close). */
int ht_free_port(void);
/* Source address of the connections below (e.g. "127.0.0.2": another
 * client on loopback), or NULL for the kernel's choice. */
extern const char *ht_source_addr;

/* Waits until 127.0.0.1:port accepts; 0 or -1 after ms. */
int ht_wait_port(int port, int ms);

/* Path of a built binary: $HZ_BIN/NAME (default bin/NAME). out 256 bytes. */
void ht_bin(char out[256], const char *name);
/* Path of the geo fixture: $HZ_BUILD/testdata/haze-test-city.mmdb. */
void ht_geo_fixture(char out[256]);

/* Writes text to dir/name; returns the path in out (256 bytes). */
void ht_write_file(char out[256], const char *dir, const char *name, const char *text);

struct ht_response {
    int status;
    char headers[4096];
    char *body; /* malloc'd, NUL-terminated */
    size_t body_len;
};
/* One request on a fresh connection to 127.0.0.1:port (Connection: close).
 * extra_headers: "Name: value\r\n" lines or NULL. raw_target is sent as is.
 * Returns 0 or -1 (connect/IO failure). */
int ht_http(int port, const char *method, const char *target, const char *extra_headers,
            const char *body, size_t body_len, struct ht_response *out);
/* Sends raw bytes and reads the status of the reply (for malformed
 * requests the client above cannot produce). Returns the status or -1. */
int ht_http_raw(int port, const char *raw, size_t len);
void ht_response_free(struct ht_response *r);
/* Case-insensitive header lookup in r->headers; copies the value into out. */
int ht_header(const struct ht_response *r, const char *name, char *out, size_t cap);

#endif
