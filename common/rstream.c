/* SPDX-License-Identifier: MIT */
/*
 * rstream.c - hiredis (0.14.1, synchronous) under the hz_rs_* names. Replies
 * are checked for their shape before use: a stream entry whose field list
 * is odd or holds a non-string is marked malformed, never dereferenced
 * blindly. Connection errors become HZ_EUNAVAIL with hiredis's errstr.
 */
#include "common/rstream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "common/str.h"

struct hz_rs {
    redisContext *c;
    int broken;
    char *out; /* queued commands in RESP, formatted by rs_format, not sent yet */
    size_t outlen, outcap;
};

/* ------------------------------------------------------------ reply arena */

/* Stream replies are big trees (an XREAD of 5000 entries is ~175,000
 * objects); building them with hiredis's default functions costs a malloc
 * and a free per object, a sixth of the aggregator's time. For stream reads
 * the reader builds them in a bump arena owned by the batch instead. */
struct rs_block {
    struct rs_block *next;
    size_t used, cap;
};

#define RS_BLOCK (1024 * 1024)
#define RS_HDR   ((sizeof(struct rs_block) + 15) & ~(size_t)15)

struct rs_arena {
    struct rs_block *head;
};

static void *
rs_alloc(struct rs_arena *a, size_t n)
{
    struct rs_block *b = a->head;

    n = (n + 15) & ~(size_t)15;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > RS_BLOCK ? n : RS_BLOCK;
        b = malloc(RS_HDR + cap);
        if (b == NULL)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b + RS_HDR + b->used;
    b->used += n;
    return p;
}

static void
rs_arena_free(struct rs_arena *a)
{
    struct rs_block *b = a->head, *next;

    for (; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    a->head = NULL;
}

/* A reply object in the arena, linked into its parent array. */
static redisReply *
rs_obj(const redisReadTask *task, int type)
{
    redisReply *r = rs_alloc(task->privdata, sizeof(*r));

    if (r == NULL)
        return NULL;
    memset(r, 0, sizeof(*r));
    r->type = type;
    if (task->parent != NULL) {
        redisReply *p = task->parent->obj;
        p->element[task->idx] = r;
    }
    return r;
}

static void *
rs_string(const redisReadTask *task, char *str, size_t len)
{
    redisReply *r = rs_obj(task, task->type);
    char *s = r != NULL ? rs_alloc(task->privdata, len + 1) : NULL;

    if (s == NULL)
        return NULL;
    memcpy(s, str, len);
    s[len] = '\0';
    r->str = s;
    r->len = len;
    return r;
}

static void *
rs_array(const redisReadTask *task, int elements)
{
    redisReply *r = rs_obj(task, REDIS_REPLY_ARRAY);

    if (r == NULL)
        return NULL;
    if (elements > 0) {
        r->element = rs_alloc(task->privdata, (size_t)elements * sizeof(*r->element));
        if (r->element == NULL)
            return NULL;
        memset(r->element, 0, (size_t)elements * sizeof(*r->element));
    }
    r->elements = (size_t)(elements > 0 ? elements : 0);
    return r;
}

static void *
rs_integer(const redisReadTask *task, long long v)
{
    redisReply *r = rs_obj(task, REDIS_REPLY_INTEGER);
    if (r != NULL)
        r->integer = v;
    return r;
}

static void *
rs_nil(const redisReadTask *task)
{
    return rs_obj(task, REDIS_REPLY_NIL);
}

/* The arena is freed as a whole. */
static void
rs_noop_free(void *obj)
{
    (void)obj;
}

static redisReplyObjectFunctions rs_arena_fns = {rs_string, rs_array, rs_integer, rs_nil,
                                                 rs_noop_free};

/* Puts hiredis's own reply functions back. After a failure the reader may
 * still hold a half-built reply made of arena objects: it is dropped here
 * (the arena owns it), or redisFree would hand it to freeReplyObject. The
 * connection is not used again after a failure. */
static void
rs_arena_done(hz_rs *r, int rc, redisReplyObjectFunctions *fn, void *priv)
{
    redisReader *rd = r->c->reader;

    if (rc != 0) {
        rd->reply = NULL;
        r->broken = 1;
    }
    rd->fn = fn;
    rd->privdata = priv;
}

/* ------------------------------------------------------------ stream IDs */

int
hz_rs_id_parse(const char *s, size_t len, struct hz_rs_id *out)
{
    const char *dash = memchr(s, '-', len);
    struct hz_rs_id id = {0, 0};

    if (dash == NULL)
        return hz_parse_u64(s, len, UINT64_MAX, &id.ms) == 0 ? (*out = id, 0) : HZ_EINVAL;
    if (hz_parse_u64(s, (size_t)(dash - s), UINT64_MAX, &id.ms) != 0 ||
        hz_parse_u64(dash + 1, len - (size_t)(dash - s) - 1, UINT64_MAX, &id.seq) != 0)
        return HZ_EINVAL;
    *out = id;
    return 0;
}

int
hz_rs_id_cmp(struct hz_rs_id a, struct hz_rs_id b)
{
    if (a.ms != b.ms)
        return a.ms < b.ms ? -1 : 1;
    if (a.seq != b.seq)
        return a.seq < b.seq ? -1 : 1;
    return 0;
}

void
hz_rs_id_format(struct hz_rs_id id, char out[HZ_RS_ID_MAX])
{
    (void)snprintf(out, HZ_RS_ID_MAX, "%llu-%llu", (unsigned long long)id.ms,
                   (unsigned long long)id.seq);
}

/* ------------------------------------------------------------ connection */

static struct timeval
rs_tv(int ms)
{
    struct timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

int
hz_rs_connect(hz_rs **out, const struct hz_addr *a, int timeout_ms, int tries, struct hz_err *err)
{
    struct timeval tv = rs_tv(timeout_ms > 0 ? timeout_ms : 2000);
    long pause_ms = 100;
    redisContext *c = NULL;
    char why[128] = "no attempt";

    for (int i = 0; i < (tries > 0 ? tries : 1); i++) {
        if (i > 0) {
            struct timespec ts = {pause_ms / 1000, (pause_ms % 1000) * 1000000L};
            (void)nanosleep(&ts, NULL);
            if (pause_ms < 2000)
                pause_ms *= 2;
        }
        c = a->is_unix ? redisConnectUnixWithTimeout(a->path, tv)
                       : redisConnectWithTimeout(a->host, a->port, tv);
        if (c != NULL && c->err == 0)
            break;
        (void)hz_strlcpy(why, c != NULL ? c->errstr : "out of memory", sizeof(why));
        if (c != NULL)
            redisFree(c);
        c = NULL;
    }
    if (c == NULL) {
        if (a->is_unix)
            return hz_err_set(err, HZ_EUNAVAIL, "redis unix:%s: %s", a->path, why);
        return hz_err_set(err, HZ_EUNAVAIL, "redis %s:%d: %s", a->host, a->port, why);
    }
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        redisFree(c);
        return hz_err_set(err, HZ_EUNAVAIL, "redis: cannot set timeout");
    }
    if (!a->is_unix)
        (void)redisEnableKeepAlive(c);
    hz_rs *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        redisFree(c);
        return hz_err_set(err, HZ_EUNAVAIL, "out of memory");
    }
    r->c = c;
    *out = r;
    return 0;
}

static int
rs_fail(hz_rs *r, struct hz_err *err, const char *what)
{
    r->broken = 1;
    return hz_err_set(err, HZ_EUNAVAIL, "redis %s: %s", what,
                      r->c->errstr[0] ? r->c->errstr : "connection lost");
}

int
hz_rs_auth_argv(const char *user, const char *password, const char *argv[3], size_t lens[3])
{
    int n = 0;

    if (password == NULL || password[0] == '\0')
        return 0;
    argv[n] = "AUTH";
    lens[n++] = 4;
    if (user != NULL && user[0] != '\0') {
        argv[n] = user;
        lens[n++] = strlen(user);
    }
    argv[n] = password;
    lens[n++] = strlen(password);
    return n;
}

int
hz_rs_auth(hz_rs *r, const char *user, const char *password, struct hz_err *err)
{
    const char *argv[3];
    size_t lens[3];
    int argc = hz_rs_auth_argv(user, password, argv, lens);
    redisReply *rep;
    int rc = 0;

    if (argc == 0)
        return 0;
    rep = redisCommandArgv(r->c, argc, argv, lens);
    if (rep == NULL)
        return rs_fail(r, err, "AUTH");
    if (rep->type == REDIS_REPLY_ERROR) {
        r->broken = 1;
        rc = hz_err_set(err, HZ_EUNAVAIL, "redis AUTH: %.*s",
                        (int)(rep->len < 100 ? rep->len : 100), rep->str);
    }
    freeReplyObject(rep);
    return rc;
}

void
hz_rs_close(hz_rs *r)
{
    if (r == NULL)
        return;
    if (r->c != NULL)
        redisFree(r->c);
    free(r->out);
    free(r);
}

int
hz_rs_broken(const hz_rs *r)
{
    return r->broken || r->c->err != 0;
}

/* ------------------------------------------------------------ pipelining */

/* Appends a command in RESP to r->out. hiredis would use sdscatfmt for
 * every argument and then copy the command into its output buffer, which
 * it frees once sent: for the aggregator's batches of thousands of SETs
 * that was a copy and fresh pages (page faults) per batch. r->out is kept
 * between batches and written to the socket directly. 0 or -1 (memory). */
static int
rs_format(hz_rs *r, int argc, const char **argv, const size_t *lens)
{
    size_t need = 16, n = r->outlen;
    char *b;

    for (int i = 0; i < argc; i++)
        need += lens[i] + 26;
    if (need > r->outcap - r->outlen) {
        size_t cap = (r->outlen + need) * 2;
        if ((b = realloc(r->out, cap)) == NULL)
            return -1;
        r->out = b;
        r->outcap = cap;
    }
    b = r->out;
    b[n++] = '*';
    n += hz_utoa((uint64_t)argc, b + n);
    b[n++] = '\r';
    b[n++] = '\n';
    for (int i = 0; i < argc; i++) {
        b[n++] = '$';
        n += hz_utoa(lens[i], b + n);
        b[n++] = '\r';
        b[n++] = '\n';
        memcpy(b + n, argv[i], lens[i]);
        n += lens[i];
        b[n++] = '\r';
        b[n++] = '\n';
    }
    r->outlen = n;
    return 0;
}

int
hz_rs_append(hz_rs *r, int argc, const char **argv, const size_t *lens)
{
    if (r->broken)
        return HZ_EUNAVAIL;
    if (rs_format(r, argc, argv, lens) != 0) {
        r->broken = 1;
        return HZ_EUNAVAIL;
    }
    return 0;
}

/* Writes r->out to the socket (blocking, bounded by the connection's send
 * timeout), then anything hiredis queued itself. */
static int
rs_send(hz_rs *r, struct hz_err *err)
{
    size_t off = 0;
    int done = 0;

    if (r->broken)
        return hz_err_set(err, HZ_EUNAVAIL, "redis: connection lost");
    while (off < r->outlen) {
        ssize_t w = write(r->c->fd, r->out + off, r->outlen - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            r->broken = 1;
            r->outlen = 0;
            return hz_err_set(err, HZ_EUNAVAIL, "redis write: %s",
                              w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
                                  ? "timed out"
                                  : (w < 0 ? strerror(errno) : "connection closed"));
        }
        off += (size_t)w;
    }
    r->outlen = 0;
    while (!done)
        if (redisBufferWrite(r->c, &done) != REDIS_OK)
            return rs_fail(r, err, "write");
    return 0;
}

int
hz_rs_get(hz_rs *r, hz_rs_reply **out, struct hz_err *err)
{
    void *rep = NULL;

    if (r->outlen > 0 && rs_send(r, err) != 0)
        return HZ_EUNAVAIL;
    if (r->broken)
        return hz_err_set(err, HZ_EUNAVAIL, "redis: connection lost");
    if (redisGetReply(r->c, &rep) != REDIS_OK || rep == NULL)
        return rs_fail(r, err, "reply");
    *out = rep;
    return 0;
}

int
hz_rs_command(hz_rs *r, int argc, const char **argv, const size_t *lens, hz_rs_reply **out,
              struct hz_err *err)
{
    if (hz_rs_append(r, argc, argv, lens) != 0)
        return rs_fail(r, err, argv[0]);
    return hz_rs_get(r, out, err);
}

void
hz_rs_reply_free(hz_rs_reply *rep)
{
    if (rep != NULL)
        freeReplyObject(rep);
}

int
hz_rs_reply_type(const hz_rs_reply *rep)
{
    const redisReply *x = (const redisReply *)rep;

    switch (x->type) {
    case REDIS_REPLY_STRING:
        return HZ_RS_STRING;
    case REDIS_REPLY_INTEGER:
        return HZ_RS_INTEGER;
    case REDIS_REPLY_STATUS:
        return HZ_RS_STATUS;
    case REDIS_REPLY_ARRAY:
        return HZ_RS_ARRAY;
    case REDIS_REPLY_ERROR:
        return HZ_RS_ERROR;
    default:
        return HZ_RS_NIL;
    }
}

const char *
hz_rs_reply_str(const hz_rs_reply *rep, size_t *len)
{
    const redisReply *x = (const redisReply *)rep;

    if (x->type != REDIS_REPLY_STRING && x->type != REDIS_REPLY_STATUS &&
        x->type != REDIS_REPLY_ERROR)
        return NULL;
    if (len != NULL)
        *len = x->len;
    return x->str;
}

long long
hz_rs_reply_int(const hz_rs_reply *rep)
{
    const redisReply *x = (const redisReply *)rep;
    return x->type == REDIS_REPLY_INTEGER ? x->integer : 0;
}

size_t
hz_rs_reply_count(const hz_rs_reply *rep)
{
    const redisReply *x = (const redisReply *)rep;
    return x->type == REDIS_REPLY_ARRAY ? x->elements : 0;
}

const hz_rs_reply *
hz_rs_reply_elem(const hz_rs_reply *rep, size_t i)
{
    const redisReply *x = (const redisReply *)rep;
    return (const hz_rs_reply *)x->element[i];
}

/* ------------------------------------------------------------ streams */

/* Runs argv, expecting a status/OK-ish reply; an error reply is a failure
 * unless its text starts with ok_err (e.g. "BUSYGROUP"). */
static int
rs_simple(hz_rs *r, int argc, const char **argv, const char *ok_err, struct hz_err *err)
{
    size_t lens[16];
    redisReply *x;
    int rc;

    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    if ((rc = hz_rs_command(r, argc, argv, lens, (hz_rs_reply **)(void *)&x, err)) != 0)
        return rc;
    rc = 0;
    if (x->type == REDIS_REPLY_ERROR &&
        (ok_err == NULL || strncmp(x->str, ok_err, strlen(ok_err)) != 0))
        rc = hz_err_set(err, HZ_EUNAVAIL, "redis %s: %.100s", argv[0], x->str);
    freeReplyObject(x);
    return rc;
}

int
hz_rs_group_sync(hz_rs *r, const char *stream, const char *group, const char *id,
                 struct hz_err *err)
{
    const char *create[] = {"XGROUP", "CREATE", stream, group, id, "MKSTREAM"};
    const char *pending[] = {"XPENDING", stream, group};
    const char *destroy[] = {"XGROUP", "DESTROY", stream, group};
    const char *setid[] = {"XGROUP", "SETID", stream, group, id};
    size_t lens[3] = {8, strlen(stream), strlen(group)};
    redisReply *x = NULL;
    long long npending = 0;
    int rc;

    if ((rc = rs_simple(r, 6, create, "BUSYGROUP", err)) != 0)
        return rc;
    /* [count, smallest, greatest, consumers] */
    if ((rc = hz_rs_command(r, 3, pending, lens, (hz_rs_reply **)(void *)&x, err)) != 0 ||
        x == NULL)
        return rc != 0 ? rc : HZ_EUNAVAIL;
    if (x->type == REDIS_REPLY_ARRAY && x->elements >= 1 &&
        x->element[0]->type == REDIS_REPLY_INTEGER)
        npending = x->element[0]->integer;
    else if (x->type == REDIS_REPLY_ERROR)
        rc = hz_err_set(err, HZ_EUNAVAIL, "redis XPENDING: %.100s", x->str);
    freeReplyObject(x);
    if (rc != 0)
        return rc;
    /* Entries an older reader read without acknowledging them: the caller
     * reads from its own position anyway, and the list only holds memory. */
    if (npending > 0) {
        if ((rc = rs_simple(r, 4, destroy, NULL, err)) != 0)
            return rc;
        return rs_simple(r, 6, create, NULL, err);
    }
    return rs_simple(r, 5, setid, NULL, err);
}

void
hz_rs_batch_free(struct hz_rs_batch *b)
{
    if (b->arena_ != NULL) {
        rs_arena_free(b->arena_);
        free(b->arena_);
    }
    free(b->e);
    memset(b, 0, sizeof(*b));
}

/* Fills b from an array of [id, [f, v, ...] | nil] entries. The pointer
 * arrays live in one allocation after the entry structs. */
static int
rs_entries(const redisReply *list, struct hz_rs_batch *b, struct hz_err *err)
{
    size_t n = list->elements, nptr = 0;
    char *mem;

    for (size_t i = 0; i < n; i++) {
        const redisReply *e = list->element[i];
        if (e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
            e->element[1]->type == REDIS_REPLY_ARRAY)
            nptr += e->element[1]->elements / 2;
    }
    mem = calloc(1,
                 n * sizeof(struct hz_rs_entry) + nptr * 2 * (sizeof(char *) + sizeof(size_t)) + 1);
    if (mem == NULL)
        return hz_err_set(err, HZ_EUNAVAIL, "out of memory");
    b->e = (struct hz_rs_entry *)(void *)mem;
    const char **ptrs = (const char **)(void *)(mem + n * sizeof(struct hz_rs_entry));
    size_t *lens = (size_t *)(void *)(ptrs + 2 * nptr);
    b->n = 0;
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = list->element[i];
        struct hz_rs_entry *x = &b->e[b->n];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING || e->element[0]->len >= HZ_RS_ID_MAX ||
            hz_rs_id_parse(e->element[0]->str, e->element[0]->len, &x->id) != 0)
            continue; /* not an entry at all: Redis would never send this */
        memcpy(x->id_str, e->element[0]->str, e->element[0]->len);
        x->id_str[e->element[0]->len] = '\0';
        b->n++;
        const redisReply *f = e->element[1];
        if (f->type != REDIS_REPLY_ARRAY)
            continue; /* a deleted entry: no fields */
        if (f->elements % 2 != 0)
            x->malformed = 1;
        x->nfields = (int)(f->elements / 2);
        x->names = ptrs;
        x->vals = ptrs + x->nfields;
        size_t *nl = lens, *vl = lens + x->nfields;
        x->nlens = nl;
        x->vlens = vl;
        ptrs += 2 * x->nfields;
        lens += 2 * x->nfields;
        for (int k = 0; k < x->nfields; k++) {
            const redisReply *nm = f->element[2 * k], *v = f->element[2 * k + 1];
            if (nm->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
                x->malformed = 1;
                x->nfields = k;
                break;
            }
            x->names[k] = nm->str;
            nl[k] = nm->len;
            x->vals[k] = v->str;
            vl[k] = v->len;
        }
    }
    return 0;
}

/* Reads the reply of an XREAD into b (its objects in b's arena). */
static int
rs_read_recv(hz_rs *r, struct hz_rs_batch *b, struct hz_err *err)
{
    redisReader *rd = r->c->reader;
    redisReplyObjectFunctions *fn = rd->fn;
    void *priv = rd->privdata;
    struct rs_arena *a;
    redisReply *x = NULL;
    int rc;

    memset(b, 0, sizeof(*b));
    if ((a = calloc(1, sizeof(*a))) == NULL)
        return hz_err_set(err, HZ_EUNAVAIL, "out of memory");
    b->arena_ = a;
    rd->fn = &rs_arena_fns;
    rd->privdata = a;
    rc = hz_rs_get(r, (hz_rs_reply **)(void *)&x, err);
    rs_arena_done(r, rc, fn, priv);
    if (rc == 0 && x == NULL) {
        (void)hz_err_set(err, HZ_EUNAVAIL, "redis XREAD: no reply");
        rc = HZ_EUNAVAIL;
    }
    if (rc != 0)
        goto fail;
    if (x->type == REDIS_REPLY_NIL)
        return 0;
    if (x->type == REDIS_REPLY_ERROR) {
        rc = hz_err_set(err, HZ_EUNAVAIL, "redis XREAD: %.100s", x->str);
        goto fail;
    }
    /* [[stream, [entries]]] */
    if (x->type != REDIS_REPLY_ARRAY || x->elements != 1 ||
        x->element[0]->type != REDIS_REPLY_ARRAY || x->element[0]->elements != 2 ||
        x->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
        rc = hz_err_set(err, HZ_EUNAVAIL, "redis XREAD: unexpected reply");
        goto fail;
    }
    if ((rc = rs_entries(x->element[0]->element[1], b, err)) == 0)
        return 0;
fail:
    hz_rs_batch_free(b);
    return rc;
}

int
hz_rs_read(hz_rs *r, const char *stream, const char *after, int count, int block_ms,
           struct hz_rs_batch *b, struct hz_err *err)
{
    char cnt[24], blk[24];
    const char *argv[8];
    size_t lens[8];
    int argc = 0;

    memset(b, 0, sizeof(*b));
    argv[argc] = "XREAD";
    lens[argc++] = 5;
    argv[argc] = "COUNT";
    lens[argc++] = 5;
    argv[argc] = cnt;
    lens[argc++] = hz_utoa((uint64_t)(count > 0 ? count : 1), cnt);
    if (block_ms >= 0) {
        argv[argc] = "BLOCK";
        lens[argc++] = 5;
        argv[argc] = blk;
        lens[argc++] = hz_utoa((uint64_t)block_ms, blk);
    }
    argv[argc] = "STREAMS";
    lens[argc++] = 7;
    argv[argc] = stream;
    lens[argc++] = strlen(stream);
    argv[argc] = after;
    lens[argc++] = strlen(after);
    if (hz_rs_append(r, argc, argv, lens) != 0)
        return rs_fail(r, err, "XREAD");
    return rs_read_recv(r, b, err);
}

int
hz_rs_flush(hz_rs *r, struct hz_err *err)
{
    return rs_send(r, err);
}
