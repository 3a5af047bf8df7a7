/* SPDX-License-Identifier: MIT */
/*
 * err.h - one error convention for all of haze (LMDB's): functions return
 * int, 0 is success, a positive value is an errno, a negative value is a
 * haze code below. Where a human needs detail, an optional struct hz_err
 * carries a one-line message; a NULL struct hz_err * means "don't care".
 *
 * Messages never carry user data beyond what is safe to echo back to the
 * client that sent it (never an IP, a user agent, a full URL or a token).
 */
#ifndef HZ_COMMON_ERR_H
#define HZ_COMMON_ERR_H

enum {
    HZ_EINVAL = -1000, /* malformed input */
    HZ_ETOOBIG,        /* over a configured limit (body, URL) */
    HZ_ETOOLONGURL,    /* request URI over the limit: 414 */
    HZ_EHEADERS,       /* request headers over the limit: 431 */
    HZ_ENOSITE,        /* unknown site: 403 */
    HZ_EFORBIDDEN,     /* not allowed (auth, host mismatch) */
    HZ_EUNAVAIL,       /* dependency down (Redis): spool, don't drop */
    HZ_ESTORE,         /* LMDB failure; detail in err->msg */
    HZ_ECONFIG,        /* bad configuration; detail in err->msg */
    HZ_ENOTFOUND,      /* no such thing */
    HZ_EFULL,          /* a bounded buffer/spool is full: 503 */
    HZ_EFILTERED,      /* valid, deliberately not counted (bot, DNT) */
};

#define HZ_ERR_MSG 192

struct hz_err {
    int code;
    char msg[HZ_ERR_MSG]; /* one line, NUL-terminated */
};

/* A static string for code (haze code or errno). Never NULL. */
const char *hz_strerror(int code);

/* Fills e (if not NULL) with code and a formatted one-line message, and
 * returns code, so callers can write `return hz_err_set(e, ...)`. */
int hz_err_set(struct hz_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
