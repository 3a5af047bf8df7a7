/* SPDX-License-Identifier: MIT */
/*
 * audit.c - the append-only access log (see audit.h).
 */
#include "dashboard/audit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/str.h"
#include "common/tz.h"
#include "dashboard/jsonw.h"

#define AUDIT_PATH_MAX 512

struct hz_audit {
    char *path;
    int fd;
    int32_t day; /* UTC day of the entries in the open file */
    long retention_days;
};

static int32_t
audit_day(int64_t secs)
{
    return (int32_t)(secs >= 0 ? secs / 86400 : (secs - 86399) / 86400);
}

/* "<path>.YYYY-MM-DD" for day into out. */
static void
audit_rotated(const hz_audit *a, int32_t day, char *out, size_t cap)
{
    char d[11];

    hz_date_format(day, d);
    (void)snprintf(out, cap, "%s.%s", a->path, d);
}

static int
audit_open_fd(hz_audit *a)
{
    a->fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    return a->fd < 0 ? errno : 0;
}

int
hz_audit_open(hz_audit **out, const char *path, long retention_days, int64_t now,
              struct hz_err *err)
{
    hz_audit *a = hz_xcalloc(1, sizeof(*a));
    struct stat st;
    int rc;

    a->path = hz_xstrdup(path);
    a->retention_days = retention_days;
    a->day = audit_day(now);
    if ((rc = audit_open_fd(a)) != 0) {
        free(a->path);
        free(a);
        return hz_err_set(err, rc, "[dashboard] audit_log %s: %s", path, strerror(rc));
    }
    /* A file left by an earlier run holds the day of its last write. */
    if (fstat(a->fd, &st) == 0 && st.st_size > 0)
        a->day = audit_day((int64_t)st.st_mtime);
    *out = a;
    return 0;
}

void
hz_audit_close(hz_audit *a)
{
    if (a == NULL)
        return;
    if (a->fd >= 0)
        (void)close(a->fd);
    free(a->path);
    free(a);
}

/* Deletes "<path>.YYYY-MM-DD" files older than the retention. */
static void
audit_prune(hz_audit *a, int32_t today)
{
    char dir[AUDIT_PATH_MAX], full[AUDIT_PATH_MAX + 300];
    const char *slash = strrchr(a->path, '/');
    const char *base = slash ? slash + 1 : a->path;
    size_t blen = strlen(base);
    struct dirent *e;
    DIR *d;

    if (slash == NULL)
        (void)hz_strlcpy(dir, ".", sizeof(dir));
    else
        (void)snprintf(dir, sizeof(dir), "%.*s", (int)(slash - a->path), a->path);
    if (dir[0] == '\0')
        (void)hz_strlcpy(dir, "/", sizeof(dir));
    if ((d = opendir(dir)) == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        int32_t day;
        if (strncmp(e->d_name, base, blen) != 0 || e->d_name[blen] != '.' ||
            strlen(e->d_name + blen + 1) != 10 || hz_date_parse(e->d_name + blen + 1, &day) != 0)
            continue;
        if (day >= today - a->retention_days)
            continue;
        (void)snprintf(full, sizeof(full), "%s/%s", dir, e->d_name);
        if (unlink(full) != 0)
            hz_log_warn("%s: cannot delete an expired audit file", __func__);
    }
    (void)closedir(d);
}

/* The file's day is over: rename it to its day and start a new one. */
static int
audit_rotate(hz_audit *a, int32_t today)
{
    char to[AUDIT_PATH_MAX + 16];
    struct stat st;
    int rc;

    if (fstat(a->fd, &st) == 0 && st.st_size > 0) {
        audit_rotated(a, a->day, to, sizeof(to));
        if (rename(a->path, to) != 0)
            return errno;
    }
    (void)close(a->fd);
    a->day = today;
    if ((rc = audit_open_fd(a)) != 0)
        return rc;
    audit_prune(a, today);
    return 0;
}

char *
hz_audit_format(const struct hz_audit_entry *e, size_t *len)
{
    struct hz_jsonw w;
    char ts[40], d[11];
    int64_t secs = e->t_ms / 1000;
    int32_t day = audit_day(secs);
    long sod = (long)(secs - (int64_t)day * 86400);
    size_t qlen = e->qlen > HZ_AUDIT_QUERY_MAX ? HZ_AUDIT_QUERY_MAX : e->qlen;
    char *s;

    hz_date_format(day, d);
    (void)snprintf(ts, sizeof(ts), "%sT%02ld:%02ld:%02ld.%03dZ", d, sod / 3600, sod / 60 % 60,
                   sod % 60, (int)(e->t_ms % 1000));
    hz_jsonw_init(&w);
    hz_jsonw_obj_begin(&w);
    hz_jsonw_key(&w, "time");
    hz_jsonw_cstr(&w, ts);
    hz_jsonw_key(&w, "event");
    hz_jsonw_cstr(&w, e->event);
    hz_jsonw_key(&w, "token");
    if (e->token != NULL)
        hz_jsonw_cstr(&w, e->token);
    else
        hz_jsonw_null(&w);
    hz_jsonw_key(&w, "client");
    hz_jsonw_cstr(&w, e->client ? e->client : "");
    hz_jsonw_key(&w, "method");
    hz_jsonw_cstr(&w, e->method ? e->method : "");
    hz_jsonw_key(&w, "endpoint");
    hz_jsonw_cstr(&w, e->endpoint ? e->endpoint : "");
    if (e->site != NULL) {
        hz_jsonw_key(&w, "site");
        hz_jsonw_cstr(&w, e->site);
    }
    if (e->query != NULL && e->qlen > 0) {
        /* A cut inside a UTF-8 sequence becomes U+FFFD (jsonw). */
        hz_jsonw_key(&w, "query");
        hz_jsonw_str(&w, e->query, qlen);
        if (qlen < e->qlen) {
            hz_jsonw_key(&w, "query_cut");
            hz_jsonw_bool(&w, 1);
        }
    }
    hz_jsonw_key(&w, "status");
    hz_jsonw_int(&w, e->status);
    if (e->rows >= 0) {
        hz_jsonw_key(&w, "rows");
        hz_jsonw_int(&w, e->rows);
    }
    if (e->reason != NULL) {
        hz_jsonw_key(&w, "reason");
        hz_jsonw_cstr(&w, e->reason);
    }
    hz_jsonw_obj_end(&w);
    s = hz_jsonw_take(&w, len);
    s = hz_xreallocarray(s, *len + 2, 1);
    s[(*len)++] = '\n';
    s[*len] = '\0';
    return s;
}

int
hz_audit_write(hz_audit *a, const struct hz_audit_entry *e)
{
    int32_t day = audit_day(e->t_ms / 1000);
    size_t len, off = 0;
    char *line;
    int rc = 0;

    if (day > a->day && (rc = audit_rotate(a, day)) != 0)
        return rc;
    if (a->fd < 0 && (rc = audit_open_fd(a)) != 0)
        return rc;
    line = hz_audit_format(e, &len);
    while (off < len) {
        ssize_t n = write(a->fd, line + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? errno : EIO;
            break;
        }
        off += (size_t)n;
    }
    if (rc == 0 && fdatasync(a->fd) != 0)
        rc = errno;
    free(line);
    return rc;
}

/* Appends the entries of one file (matching token) to arr. */
static void
audit_read_file(const char *path, const char *token, json_t *arr, int *truncated)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (f == NULL)
        return;
    while ((n = getline(&line, &cap, f)) > 0) {
        json_t *o;
        if (json_array_size(arr) >= HZ_AUDIT_READ_MAX) {
            *truncated = 1;
            break;
        }
        o = json_loadb(line, (size_t)n, 0, NULL);
        if (o == NULL || !json_is_object(o)) {
            json_decref(o);
            continue; /* a torn last line after a crash */
        }
        if (token != NULL) {
            const char *t = json_string_value(json_object_get(o, "token"));
            if (t == NULL || strcmp(t, token) != 0) {
                json_decref(o);
                continue;
            }
        }
        (void)json_array_append_new(arr, o);
    }
    free(line);
    (void)fclose(f);
}

char *
hz_audit_read(hz_audit *a, int32_t from, int32_t to, const char *token, size_t *len)
{
    json_t *root = json_object(), *arr = json_array();
    int truncated = 0;
    char path[AUDIT_PATH_MAX + 16];
    char *s;

    for (int32_t d = from; d <= to && !truncated; d++) {
        if (d == a->day)
            (void)hz_strlcpy(path, a->path, sizeof(path));
        else if (d < a->day)
            audit_rotated(a, d, path, sizeof(path));
        else
            break;
        audit_read_file(path, token, arr, &truncated);
    }
    (void)json_object_set_new(root, "results", arr);
    (void)json_object_set_new(root, "truncated", json_boolean(truncated));
    s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (s == NULL)
        s = hz_xstrdup("{\"results\":[],\"truncated\":false}");
    *len = strlen(s);
    return s;
}
