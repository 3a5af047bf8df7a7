/* SPDX-License-Identifier: MIT */
/*
 * spool.c - the on-disk FIFO. Entry layout: u32 little-endian payload
 * length, u8 flags (bit 0: ambiguous), then the record as name\0value
 * pairs, each value prefixed by a u16 length. The payload is decoded with
 * hz_record_decode on replay: our own file is validated like any input.
 */
#include "collector/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/str.h"

#define SPOOL_ENTRY_MAX 8192
#define SPOOL_READAHEAD 32768 /* replay reads the file in blocks of this */

/* The truncation of a drained spool, handed to the syncer thread (on ext4
 * freeing the blocks can wait on the disk: a discard, a journal commit). */
enum spool_trunc { TRUNC_NONE, TRUNC_WANT, TRUNC_BUSY, TRUNC_DONE, TRUNC_FAILED };

struct hz_spool {
    int fd;
    char path[512];
    char offpath[512];
    /* The owner's (the event loop's); the syncer never reads them. */
    uint64_t size;    /* bytes in the file */
    uint64_t off;     /* replay offset */
    uint64_t entries; /* unreplayed */
    uint64_t max;
    uint64_t boundary; /* entries before this offset predate this process */
    int dirty;
    int trunc_asked; /* a truncation was handed over, its end not seen */
    uint64_t rd_off; /* rd holds the file's bytes [rd_off, rd_off + rd_len) */
    size_t rd_len;
    /* Everything that touches the disk's slow paths runs on a thread of
     * its own: fdatasync, the offset file's rename, the truncation. The
     * fields below are shared with it, under mu. */
    pthread_t syncer;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int sync_want, sync_stop, syncer_up;
    uint64_t save_off; /* the offset to save once the data is flushed */
    enum spool_trunc trunc;
    unsigned char rd[SPOOL_READAHEAD];
};

static int spool_save_off(const hz_spool *s, uint64_t off);

static void *
spool_syncer(void *arg)
{
    hz_spool *s = arg;

    (void)pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->sync_want && s->trunc != TRUNC_WANT && !s->sync_stop)
            (void)pthread_cond_wait(&s->cv, &s->mu);
        /* A flush or truncation asked for before the stop is still done. */
        if (s->sync_stop && !s->sync_want && s->trunc != TRUNC_WANT)
            break;
        int want = s->sync_want, trunc = s->trunc == TRUNC_WANT;
        uint64_t off = s->save_off;
        s->sync_want = 0;
        if (trunc)
            s->trunc = TRUNC_BUSY;
        (void)pthread_mutex_unlock(&s->mu);
        /* The offset was taken when the flush was asked for: everything
         * before it had been answered by Redis then. One saved late only
         * replays a few entries again after a crash, as ambiguous ones
         * (the stream is searched for them first). */
        if (want && fdatasync(s->fd) == 0)
            (void)spool_save_off(s, off);
        if (trunc) {
            /* Drained: nothing is pushed until the owner has seen the
             * end of this (hz_spool_push waits), so the file is empty. */
            int ok = ftruncate(s->fd, 0) == 0;
            if (ok)
                (void)spool_save_off(s, 0); /* one left stale is past the end: ignored */
            (void)pthread_mutex_lock(&s->mu);
            s->trunc = ok ? TRUNC_DONE : TRUNC_FAILED;
            (void)pthread_cond_broadcast(&s->cv);
        } else {
            (void)pthread_mutex_lock(&s->mu);
        }
    }
    (void)pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* The owner takes in the end of a truncation (under mu, or with the
 * syncer stopped). A spool that is truncated starts its offsets again
 * at 0; one that could not be stays where it was (empty, off == size). */
static void
spool_trunc_seen(hz_spool *s)
{
    if (s->trunc == TRUNC_DONE) {
        s->size = s->off = s->boundary = s->entries = 0;
        s->rd_len = 0;
    }
    if (s->trunc == TRUNC_DONE || s->trunc == TRUNC_FAILED) {
        s->trunc = TRUNC_NONE;
        s->trunc_asked = 0;
    }
}

/* Before the owner writes the file or publishes an offset: waits for a
 * truncation under way (only when Redis failed again just as the spool
 * drained), calls one off that has not started. Under mu. */
static void
spool_trunc_settle(hz_spool *s)
{
    while (s->trunc == TRUNC_BUSY)
        (void)pthread_cond_wait(&s->cv, &s->mu);
    if (s->trunc == TRUNC_WANT) {
        s->trunc = TRUNC_NONE;
        s->trunc_asked = 0;
    }
    spool_trunc_seen(s);
}

static int
spool_write_all(int fd, const void *buf, size_t n, off_t at)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, at);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        p += w;
        at += w;
        n -= (size_t)w;
    }
    return 0;
}

static int
spool_save_off(const hz_spool *s, uint64_t off)
{
    char tmp[520], buf[32];
    int fd, n, rc;

    (void)snprintf(tmp, sizeof(tmp), "%s.tmp", s->offpath);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno;
    n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)off);
    rc = spool_write_all(fd, buf, (size_t)n, 0);
    if (close(fd) != 0 && rc == 0)
        rc = errno;
    if (rc == 0 && rename(tmp, s->offpath) != 0)
        rc = errno;
    return rc;
}

/* n bytes of the file at offset at, from the read-ahead block (refilled
 * from at when they are not all in it); NULL past the end or on a read
 * error. The bytes below size never change until the file is truncated,
 * which empties the block. Valid until the next call. */
static const unsigned char *
spool_fetch(hz_spool *s, uint64_t at, size_t n)
{
    if (at > s->size || n > s->size - at)
        return NULL;
    if (at < s->rd_off || at + n > s->rd_off + s->rd_len) {
        size_t want = s->size - at < sizeof(s->rd) ? (size_t)(s->size - at) : sizeof(s->rd);
        ssize_t got;
        do
            got = pread(s->fd, s->rd, want, (off_t)at);
        while (got < 0 && errno == EINTR);
        if (got < 0 || (size_t)got < n) {
            s->rd_len = 0;
            return NULL;
        }
        s->rd_off = at;
        s->rd_len = (size_t)got;
    }
    return s->rd + (at - s->rd_off);
}

static uint32_t
spool_len(const unsigned char *h)
{
    return (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
}

/* Counts entries from off to the end; stops at a torn tail and cuts it. */
static void
spool_scan(hz_spool *s)
{
    uint64_t at = s->off;
    unsigned char hdr[5];

    s->entries = 0;
    while (at + 5 <= s->size) {
        uint32_t len;
        if (pread(s->fd, hdr, 5, (off_t)at) != 5)
            break;
        len = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 |
              (uint32_t)hdr[3] << 24;
        if (len > SPOOL_ENTRY_MAX || at + 5 + len > s->size)
            break;
        at += 5 + len;
        s->entries++;
    }
    if (at != s->size && ftruncate(s->fd, (off_t)at) == 0)
        s->size = at;
}

int
hz_spool_open(hz_spool **out, const char *dir, const char *name, uint64_t max_bytes,
              struct hz_err *err)
{
    hz_spool *s;
    struct stat sb;
    char buf[32];
    FILE *f;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return hz_err_set(err, errno, "spool: cannot create %s: %s", dir, strerror(errno));
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return hz_err_set(err, ENOMEM, "spool: out of memory");
    if ((size_t)snprintf(s->path, sizeof(s->path), "%s/%s.q", dir, name) >= sizeof(s->path) ||
        (size_t)snprintf(s->offpath, sizeof(s->offpath), "%s/%s.off", dir, name) >=
            sizeof(s->offpath)) {
        free(s);
        return hz_err_set(err, HZ_EINVAL, "spool: path too long");
    }
    s->fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->fd < 0 || fstat(s->fd, &sb) != 0) {
        int e = errno;
        if (s->fd >= 0)
            (void)close(s->fd);
        free(s);
        return hz_err_set(err, e, "spool: cannot open %s: %s", dir, strerror(e));
    }
    s->size = (uint64_t)sb.st_size;
    s->max = max_bytes;
    f = fopen(s->offpath, "r");
    if (f != NULL) {
        const char *es;
        if (fgets(buf, sizeof(buf), f) != NULL) {
            buf[strcspn(buf, "\n")] = '\0';
            long long v = hz_strtonum(buf, 0, (long long)s->size, &es);
            if (es == NULL)
                s->off = (uint64_t)v;
        }
        (void)fclose(f);
    }
    spool_scan(s);
    s->boundary = s->size;
    (void)pthread_mutex_init(&s->mu, NULL);
    (void)pthread_cond_init(&s->cv, NULL);
    s->syncer_up = pthread_create(&s->syncer, NULL, spool_syncer, s) == 0;
    *out = s;
    return 0;
}

void
hz_spool_close(hz_spool *s)
{
    if (s == NULL)
        return;
    if (s->syncer_up) {
        (void)pthread_mutex_lock(&s->mu);
        s->sync_stop = 1;
        (void)pthread_cond_signal(&s->cv);
        (void)pthread_mutex_unlock(&s->mu);
        (void)pthread_join(s->syncer, NULL);
        s->syncer_up = 0;
        spool_trunc_seen(s);
        /* The thread's last flush may have failed: flush once more here. */
        if (s->size > s->off)
            s->dirty = 1;
    }
    (void)hz_spool_sync(s); /* and a truncation the syncer did not start */
    (void)pthread_mutex_destroy(&s->mu);
    (void)pthread_cond_destroy(&s->cv);
    (void)close(s->fd);
    explicit_bzero(s->rd, sizeof(s->rd));
    free(s);
}

static int
spool_put(unsigned char *buf, size_t cap, size_t *at, const char *p, size_t n)
{
    if (*at + n > cap)
        return HZ_ETOOBIG;
    memcpy(buf + *at, p, n);
    *at += n;
    return 0;
}

int
hz_spool_push(hz_spool *s, const struct hz_record *r, int ambiguous)
{
    unsigned char buf[SPOOL_ENTRY_MAX + 5];
    struct hz_field f[HZ_RECORD_FIELDS];
    char num[HZ_RECORD_NUMBUF];
    size_t at = 5;
    int n = hz_record_fields(r, f, num), rc;

    buf[4] = ambiguous ? 1 : 0;
    for (int i = 0; i < n; i++) {
        unsigned char l[2] = {(unsigned char)(f[i].vlen & 0xff), (unsigned char)(f[i].vlen >> 8)};
        if (spool_put(buf, sizeof(buf), &at, f[i].name, strlen(f[i].name) + 1) != 0 ||
            spool_put(buf, sizeof(buf), &at, (const char *)l, 2) != 0 ||
            spool_put(buf, sizeof(buf), &at, f[i].val, f[i].vlen) != 0)
            return HZ_ETOOBIG;
    }
    if (s->trunc_asked) {
        (void)pthread_mutex_lock(&s->mu);
        spool_trunc_settle(s);
        (void)pthread_mutex_unlock(&s->mu);
    }
    if (s->size - s->off + at > s->max)
        return HZ_EFULL;
    uint32_t len = (uint32_t)(at - 5);
    buf[0] = (unsigned char)len;
    buf[1] = (unsigned char)(len >> 8);
    buf[2] = (unsigned char)(len >> 16);
    buf[3] = (unsigned char)(len >> 24);
    if ((rc = spool_write_all(s->fd, buf, at, (off_t)s->size)) != 0)
        return rc;
    s->size += at;
    s->entries++;
    s->dirty = 1;
    return 0;
}

/* Reads the entry at *at into r; *at moves past it. */
static int
spool_read(hz_spool *s, uint64_t *at_io, struct hz_record *r, int *ambiguous)
{
    const char *names[HZ_RECORD_FIELDS], *vals[HZ_RECORD_FIELDS];
    size_t nl[HZ_RECORD_FIELDS], vl[HZ_RECORD_FIELDS];
    const unsigned char *buf;
    uint64_t off = *at_io;
    uint32_t len;
    size_t at = 0;
    int n = 0;

    if (off >= s->size)
        return HZ_ENOTFOUND;
    if ((buf = spool_fetch(s, off, 5)) == NULL)
        return HZ_EINVAL;
    len = spool_len(buf);
    if (len > SPOOL_ENTRY_MAX || off + 5 + len > s->size)
        return HZ_EINVAL;
    *at_io = off + 5 + len;
    if ((buf = spool_fetch(s, off, 5 + (size_t)len)) == NULL)
        return HZ_EINVAL;
    *ambiguous = (buf[4] & 1) || off < s->boundary;
    at = 5;
    while (at < 5 + (size_t)len) {
        const unsigned char *z = memchr(buf + at, '\0', 5 + len - at);
        size_t vlen;
        if (z == NULL || n >= HZ_RECORD_FIELDS)
            return HZ_EINVAL;
        names[n] = (const char *)buf + at;
        nl[n] = (size_t)(z - (buf + at));
        at = (size_t)(z - buf) + 1;
        if (at + 2 > 5 + (size_t)len)
            return HZ_EINVAL;
        vlen = (size_t)buf[at] | (size_t)buf[at + 1] << 8;
        at += 2;
        if (at + vlen > 5 + (size_t)len)
            return HZ_EINVAL;
        vals[n] = (const char *)buf + at;
        vl[n] = vlen;
        at += vlen;
        n++;
    }
    return hz_record_decode(names, nl, vals, vl, n, r, NULL);
}

int
hz_spool_peek(hz_spool *s, struct hz_record *r, int *ambiguous)
{
    uint64_t at = s->off;

    return spool_read(s, &at, r, ambiguous);
}

int
hz_spool_peek_at(hz_spool *s, uint64_t *at, struct hz_record *r, int *ambiguous)
{
    if (*at < s->off)
        *at = s->off;
    return spool_read(s, at, r, ambiguous);
}

uint64_t
hz_spool_head(const hz_spool *s)
{
    return s->off;
}

void
hz_spool_mark_ambiguous(hz_spool *s, uint64_t upto)
{
    if (upto > s->size)
        upto = s->size;
    if (upto > s->boundary)
        s->boundary = upto;
}

/* Moves the replay offset to next; a drained spool is truncated (by the
 * syncer thread when there is one). */
static int
spool_advance(hz_spool *s, uint64_t next)
{
    s->off = next;
    if (s->entries > 0)
        s->entries--;
    s->dirty = 1;
    if (s->off < s->size)
        return 0;
    /* Drained: start the file afresh so it never grows without bound. */
    s->entries = 0;
    if (s->syncer_up) {
        (void)pthread_mutex_lock(&s->mu);
        s->trunc = TRUNC_WANT;
        (void)pthread_cond_signal(&s->cv);
        (void)pthread_mutex_unlock(&s->mu);
        s->trunc_asked = 1;
        return 0;
    }
    if (ftruncate(s->fd, 0) != 0)
        return errno;
    s->size = s->off = s->boundary = 0;
    s->rd_len = 0;
    s->dirty = 0;
    return spool_save_off(s, 0);
}

int
hz_spool_pop(hz_spool *s)
{
    const unsigned char *hdr;
    uint32_t len;

    if (s->off >= s->size || (hdr = spool_fetch(s, s->off, 5)) == NULL)
        return HZ_EINVAL;
    len = spool_len(hdr);
    if (len > SPOOL_ENTRY_MAX || s->off + 5 + len > s->size) {
        /* A corrupt length: nothing after it can be trusted. */
        len = (uint32_t)(s->size - s->off - 5);
    }
    return spool_advance(s, s->off + 5 + len);
}

int
hz_spool_pop_to(hz_spool *s, uint64_t next)
{
    if (next <= s->off || next > s->size)
        return hz_spool_pop(s);
    return spool_advance(s, next);
}

int
hz_spool_sync(hz_spool *s)
{
    int rc = 0;

    /* Only with no syncer thread (or once it has stopped). */
    if (s->trunc == TRUNC_WANT) {
        s->trunc = ftruncate(s->fd, 0) == 0 ? TRUNC_DONE : TRUNC_FAILED;
        if (s->trunc == TRUNC_DONE)
            s->dirty = 1; /* offset 0 is saved below */
    }
    spool_trunc_seen(s);
    if (!s->dirty)
        return 0;
    if (fdatasync(s->fd) != 0)
        rc = errno;
    if (rc == 0)
        rc = spool_save_off(s, s->off);
    if (rc == 0)
        s->dirty = 0;
    return rc;
}

int
hz_spool_sync_async(hz_spool *s)
{
    if (!s->dirty)
        return 0;
    if (!s->syncer_up)
        return hz_spool_sync(s);
    (void)pthread_mutex_lock(&s->mu);
    spool_trunc_seen(s);
    if (s->trunc == TRUNC_NONE) {
        /* While a truncation is under way the offset of the file before
         * it must not be saved after it: the truncation saves 0. */
        s->save_off = s->off;
        s->sync_want = 1;
        (void)pthread_cond_signal(&s->cv);
        s->dirty = 0;
    }
    (void)pthread_mutex_unlock(&s->mu);
    return 0;
}

uint64_t
hz_spool_bytes(const hz_spool *s)
{
    return s->size - s->off;
}

uint64_t
hz_spool_entries(const hz_spool *s)
{
    return s->entries;
}
