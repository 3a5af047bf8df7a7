/* SPDX-License-Identifier: MIT */
/*
 * audit.h - haze-dashboard's access log: who asked what, when.
 *
 * One JSON object per line, appended to [dashboard] audit_log and synced
 * (fdatasync) before the write returns, so an answer is never sent for a
 * request the log could lose. Fields:
 *
 *   {"time":"2027-01-15T08:30:00.123Z","event":"request","token":"alice",
 *    "client":"192.0.2.7","method":"GET","endpoint":"/api/v1/stats/breakdown",
 *    "site":"shop.example","query":"site_id=...&period=30d","status":200,"rows":12}
 *
 * event is request, login, logout or login_failed (then "reason"). token
 * is a token's name, never its secret; client is the address of the
 * dashboard user (an employee), not of a visitor; query is the request's
 * parameters or body, cut at HZ_AUDIT_QUERY_MAX bytes. The login form's
 * body (it holds the secret) and headers are never recorded, and no
 * visitor data passes through the dashboard, so none can be recorded.
 *
 * Rotation: the file holds one UTC day. The first write of a new day
 * renames it to "<audit_log>.YYYY-MM-DD" (the day of its entries) and
 * deletes rotated files older than audit_retention_days.
 */
#ifndef HZ_DASHBOARD_AUDIT_H
#define HZ_DASHBOARD_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct hz_audit hz_audit;

#define HZ_AUDIT_QUERY_MAX 1024 /* bytes of parameters or body kept */
#define HZ_AUDIT_READ_MAX  5000 /* entries per GET /api/v1/audit answer */

struct hz_audit_entry {
    int64_t t_ms;         /* Unix time in milliseconds */
    const char *event;    /* "request", "login", "logout", "login_failed" */
    const char *token;    /* token name, or NULL */
    const char *client;   /* numeric address of the dashboard user, or NULL */
    const char *method;   /* "GET", ... */
    const char *endpoint; /* the path, without the query */
    const char *site;     /* site asked about, or NULL */
    const char *query;    /* parameters or body, or NULL; cut at HZ_AUDIT_QUERY_MAX */
    size_t qlen;
    int status;         /* HTTP status sent */
    long rows;          /* rows returned, or -1 */
    const char *reason; /* why a login failed, or NULL */
};

/* Opens (creates, mode 0600) path for appending; now is Unix seconds.
 * 0, or an errno with err. */
int hz_audit_open(hz_audit **out, const char *path, long retention_days, int64_t now,
                  struct hz_err *err);
/* NULL is a no-op. */
void hz_audit_close(hz_audit *a);

/* Appends e as one line and syncs it; rotates first when e's UTC day is
 * not the file's. 0, or an errno (the entry may be lost; logged by the
 * caller). */
int hz_audit_write(hz_audit *a, const struct hz_audit_entry *e);

/*
 * The entries of UTC days from..to (days since 1970-01-01, inclusive),
 * oldest first, only those of token when token is not NULL, as
 * {"results":[...],"truncated":false} (at most HZ_AUDIT_READ_MAX
 * entries). Returns a malloc'd string the caller frees; *len its length.
 */
char *hz_audit_read(hz_audit *a, int32_t from, int32_t to, const char *token, size_t *len);

/* The JSON line of e (with '\n') appended to a malloc'd string the caller
 * frees. Pure: what hz_audit_write writes. */
char *hz_audit_format(const struct hz_audit_entry *e, size_t *len);

#endif
