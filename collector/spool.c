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

struct hz_spool {
    int fd;
    char path[512];
    char offpath[512];
    uint64_t size;    /* bytes in the file */
    uint64_t off;     /* replay offset */
    uint64_t entries; /* unreplayed */
    uint64_t max;
    uint64_t boundary; /* entries before this offset predate this process */
    int dirty;
    /* fdatasync runs on a thread of its own (hz_spool_sync_async): on a
     * busy disk it takes long enough to stall the event loop. */
    pthread_t syncer;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int sync_want, sync_stop, syncer_up;
};

static void *
spool_syncer(void *arg)
{
    hz_spool *s = arg;

    (void)pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->sync_want && !s->sync_stop)
            (void)pthread_cond_wait(&s->cv, &s->mu);
        if (s->sync_stop)
            break;
        s->sync_want = 0;
        (void)pthread_mutex_unlock(&s->mu);
        (void)fdatasync(s->fd);
        (void)pthread_mutex_lock(&s->mu);
    }
    (void)pthread_mutex_unlock(&s->mu);
    return NULL;
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
spool_save_off(hz_spool *s)
{
    char tmp[520], buf[32];
    int fd, n, rc;

    (void)snprintf(tmp, sizeof(tmp), "%s.tmp", s->offpath);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno;
    n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)s->off);
    rc = spool_write_all(fd, buf, (size_t)n, 0);
    if (close(fd) != 0 && rc == 0)
        rc = errno;
    if (rc == 0 && rename(tmp, s->offpath) != 0)
        rc = errno;
    return rc;
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
    }
    (void)pthread_mutex_destroy(&s->mu);
    (void)pthread_cond_destroy(&s->cv);
    (void)hz_spool_sync(s);
    (void)close(s->fd);
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
    unsigned char buf[SPOOL_ENTRY_MAX + 5];
    const char *names[HZ_RECORD_FIELDS], *vals[HZ_RECORD_FIELDS];
    size_t nl[HZ_RECORD_FIELDS], vl[HZ_RECORD_FIELDS];
    uint64_t off = *at_io;
    uint32_t len;
    size_t at = 0;
    int n = 0;

    if (off >= s->size)
        return HZ_ENOTFOUND;
    if (pread(s->fd, buf, 5, (off_t)off) != 5)
        return HZ_EINVAL;
    len =
        (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 24;
    if (len > SPOOL_ENTRY_MAX || off + 5 + len > s->size)
        return HZ_EINVAL;
    *at_io = off + 5 + len;
    if (pread(s->fd, buf + 5, len, (off_t)(off + 5)) != (ssize_t)len)
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

int
hz_spool_pop(hz_spool *s)
{
    unsigned char hdr[5];
    uint32_t len;

    if (s->off + 5 > s->size || pread(s->fd, hdr, 5, (off_t)s->off) != 5)
        return HZ_EINVAL;
    len =
        (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
    if (len > SPOOL_ENTRY_MAX || s->off + 5 + len > s->size) {
        /* A corrupt length: nothing after it can be trusted. */
        len = (uint32_t)(s->size - s->off - 5);
    }
    s->off += 5 + len;
    if (s->entries > 0)
        s->entries--;
    if (s->off >= s->size) {
        /* Drained: start the file afresh so it never grows without bound. */
        if (ftruncate(s->fd, 0) != 0)
            return errno;
        s->size = s->off = s->boundary = 0;
        s->entries = 0;
        return spool_save_off(s);
    }
    s->dirty = 1;
    return 0;
}

int
hz_spool_sync(hz_spool *s)
{
    int rc = 0;

    if (!s->dirty)
        return 0;
    if (fdatasync(s->fd) != 0)
        rc = errno;
    if (rc == 0)
        rc = spool_save_off(s);
    if (rc == 0)
        s->dirty = 0;
    return rc;
}

int
hz_spool_sync_async(hz_spool *s)
{
    int rc;

    if (!s->dirty)
        return 0;
    if (!s->syncer_up)
        return hz_spool_sync(s);
    (void)pthread_mutex_lock(&s->mu);
    s->sync_want = 1;
    (void)pthread_cond_signal(&s->cv);
    (void)pthread_mutex_unlock(&s->mu);
    rc = spool_save_off(s);
    if (rc == 0)
        s->dirty = 0;
    return rc;
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
