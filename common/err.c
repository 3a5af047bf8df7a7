/* SPDX-License-Identifier: MIT */
/* err.c - haze error codes and their strings. */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
hz_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
    case HZ_EINVAL:
        return "malformed input";
    case HZ_ETOOBIG:
        return "over a size limit";
    case HZ_ETOOLONGURL:
        return "request URI too long";
    case HZ_EHEADERS:
        return "request headers too large";
    case HZ_ENOSITE:
        return "unknown site";
    case HZ_EFORBIDDEN:
        return "forbidden";
    case HZ_EUNAVAIL:
        return "dependency unavailable";
    case HZ_ESTORE:
        return "store failure";
    case HZ_ECONFIG:
        return "bad configuration";
    case HZ_ENOTFOUND:
        return "not found";
    case HZ_EFULL:
        return "buffer full";
    case HZ_EFILTERED:
        return "filtered";
    default:
        break;
    }
    if (code > 0)
        return strerror(code);
    return "unknown error";
}

int
hz_err_set(struct hz_err *e, int code, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return code;
    e->code = code;
    va_start(ap, fmt);
    (void)vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    /* One line: a message must never break a log or a status line. */
    for (char *p = e->msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return code;
}
