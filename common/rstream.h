/* SPDX-License-Identifier: MIT */
/*
 * rstream.h - a thin synchronous hiredis wrapper for reading a Redis stream
 * (XREAD from a position the caller keeps), and for pipelined generic
 * commands. Besides the
 * collector's publisher, this is the only code that includes hiredis
 * (STYLE.md): callers see hz_rs_* and haze error codes, never REDIS_*.
 *
 * Stream entries are handed out as borrowed (pointer, length) arrays ready
 * for hz_record_decode: what comes from Redis is input, and nothing here
 * interprets field values. One connection belongs to one thread.
 */
#ifndef HZ_COMMON_RSTREAM_H
#define HZ_COMMON_RSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/net.h"

typedef struct hz_rs hz_rs;             /* one connection */
typedef struct hz_rs_reply hz_rs_reply; /* one reply of a pipelined command */

#define HZ_RS_ID_MAX 48 /* "18446744073709551615-18446744073709551615" + NUL */

/* A stream ID as numbers; IDs order as (ms, seq). */
struct hz_rs_id {
    uint64_t ms, seq;
};

/* Parses "ms-seq" (or "ms", seq 0). 0 or HZ_EINVAL. */
int hz_rs_id_parse(const char *s, size_t len, struct hz_rs_id *out);
/* <0, 0, >0 as a is before, equal to, after b. */
int hz_rs_id_cmp(struct hz_rs_id a, struct hz_rs_id b);
/* Formats "ms-seq" into out (HZ_RS_ID_MAX bytes). */
void hz_rs_id_format(struct hz_rs_id id, char out[HZ_RS_ID_MAX]);

/* One entry. names/vals point into the reply held by the batch. */
struct hz_rs_entry {
    char id_str[HZ_RS_ID_MAX];
    struct hz_rs_id id;
    int nfields;   /* name/value pairs; 0 for a deleted entry */
    int malformed; /* odd list, or a non-string element */
    const char **names;
    const size_t *nlens;
    const char **vals;
    const size_t *vlens;
};

/* A batch of entries; owns the reply they borrow (built in an arena of its
 * own, so batches are independent of each other and of the connection). */
struct hz_rs_batch {
    int n;
    struct hz_rs_entry *e;
    void *arena_;
};

/* Connects to a (host:port or unix:/path), retrying up to tries times with
 * a doubling pause starting at 100 ms; timeout_ms bounds each connect and
 * every later read and write. 0, or HZ_EUNAVAIL with a one-line reason. */
int hz_rs_connect(hz_rs **out, const struct hz_addr *a, int timeout_ms, int tries,
                  struct hz_err *err);
/* AUTH [user] password on r when password is not empty ([redis] user and
 * password, Redis ACLs or requirepass). 0, or HZ_EUNAVAIL with Redis's
 * one-line answer (it never echoes the password). */
int hz_rs_auth(hz_rs *r, const char *user, const char *password, struct hz_err *err);
/* The AUTH command for user/password into argv/lens: its argc (2 or 3),
 * or 0 when password is empty. The pointers borrow the arguments. */
int hz_rs_auth_argv(const char *user, const char *password, const char *argv[3], size_t lens[3]);
void hz_rs_close(hz_rs *r); /* NULL is a no-op */
/* 1 once the connection has failed (the caller reconnects). */
int hz_rs_broken(const hz_rs *r);

/* Points the consumer group at id: XGROUP CREATE stream group id MKSTREAM
 * (an existing group is fine), then XGROUP SETID. The group is a mirror of
 * the reader's committed position (XINFO GROUPS: last-delivered-id, lag),
 * for monitoring; nothing is read through it. A pending-entries list left
 * by an older reader (XREADGROUP without NOACK) is dropped by recreating
 * the group, so Redis does not keep it in memory. 0 or HZ_EUNAVAIL. */
int hz_rs_group_sync(hz_rs *r, const char *stream, const char *group, const char *id,
                     struct hz_err *err);

/* XREAD COUNT count BLOCK block_ms STREAMS stream after (block_ms < 0: no
 * BLOCK): the entries after the ID after ("0-0": from the start). No
 * consumer group, so Redis keeps no per-entry state for the reader. An
 * empty batch when nothing arrived. */
int hz_rs_read(hz_rs *r, const char *stream, const char *after, int count, int block_ms,
               struct hz_rs_batch *b, struct hz_err *err);

void hz_rs_batch_free(struct hz_rs_batch *b); /* zeroes b; safe twice */

/* ---------------------------------------------------------- pipelining */

/* Queues one command (binary-safe arguments); nothing is sent until the
 * first hz_rs_get. 0 or HZ_EUNAVAIL. */
int hz_rs_append(hz_rs *r, int argc, const char **argv, const size_t *lens);
/* Sends everything queued without waiting for replies. 0 or HZ_EUNAVAIL. */
int hz_rs_flush(hz_rs *r, struct hz_err *err);
/* Reads the next reply in order. A Redis error reply is returned as a reply
 * of type HZ_RS_ERROR (not a failure); a connection error is HZ_EUNAVAIL.
 * The caller frees the reply. */
int hz_rs_get(hz_rs *r, hz_rs_reply **out, struct hz_err *err);
/* hz_rs_append + hz_rs_get. */
int hz_rs_command(hz_rs *r, int argc, const char **argv, const size_t *lens, hz_rs_reply **out,
                  struct hz_err *err);
void hz_rs_reply_free(hz_rs_reply *rep); /* NULL is a no-op */

enum hz_rs_type { HZ_RS_NIL, HZ_RS_STRING, HZ_RS_INTEGER, HZ_RS_STATUS, HZ_RS_ARRAY, HZ_RS_ERROR };

int hz_rs_reply_type(const hz_rs_reply *rep);
/* The text of a STRING, STATUS or ERROR reply (borrowed), else NULL. */
const char *hz_rs_reply_str(const hz_rs_reply *rep, size_t *len);
long long hz_rs_reply_int(const hz_rs_reply *rep);
/* Element count of an ARRAY reply (0 otherwise), and element i (borrowed). */
size_t hz_rs_reply_count(const hz_rs_reply *rep);
const hz_rs_reply *hz_rs_reply_elem(const hz_rs_reply *rep, size_t i);

#endif
