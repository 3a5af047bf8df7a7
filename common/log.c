/* SPDX-License-Identifier: MIT */
/*
 * log.c - the only place that writes diagnostics. Lines are built in a
 * stack buffer and written with one write(2) so threads do not interleave.
 */
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int hz_log_level = 1;
static const char *log_prog = "haze";

void
hz_log_init(const char *progname, int verbosity)
{
    log_prog = progname;
    hz_log_level = verbosity;
}

/* Formats "prog[pid]: level: msg[: strerror]\n" and writes it to fd. */
static void
log_vemit(int fd, const char *level, int saved_errno, const char *fmt, va_list ap)
{
    char line[1024];
    int n, m;

    if (level != NULL)
        n = snprintf(line, sizeof(line), "%s[%ld]: %s: ", log_prog, (long)getpid(), level);
    else
        n = 0;
    if (n < 0)
        n = 0;
    m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    if (m > 0)
        n += m;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    if (saved_errno != 0) {
        m = snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(saved_errno));
        if (m > 0)
            n += m;
        if ((size_t)n > sizeof(line) - 2)
            n = (int)sizeof(line) - 2;
    }
    line[n++] = '\n';
    /* A failed diagnostic write has nowhere better to go. */
    if (write(fd, line, (size_t)n) < 0)
        return;
}

#define LOG_BODY(fd, level, err)                                                                   \
    do {                                                                                           \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_vemit(fd, level, err, fmt, ap);                                                        \
        va_end(ap);                                                                                \
    } while (0)

void
hz_log_warn(const char *fmt, ...)
{
    int e = errno;
    LOG_BODY(STDERR_FILENO, "warn", e);
}

void
hz_log_warnx(const char *fmt, ...)
{
    LOG_BODY(STDERR_FILENO, "warn", 0);
}

void
hz_log_info(const char *fmt, ...)
{
    if (hz_log_level < 1)
        return;
    LOG_BODY(STDERR_FILENO, "info", 0);
}

void
hz_log_debug_(const char *fmt, ...)
{
    LOG_BODY(STDERR_FILENO, "debug", 0);
}

void
hz_fatal(const char *fmt, ...)
{
    int e = errno;
    LOG_BODY(STDERR_FILENO, "fatal", e);
    exit(1);
}

void
hz_fatalx(const char *fmt, ...)
{
    LOG_BODY(STDERR_FILENO, "fatal", 0);
    exit(1);
}

void
hz_out(const char *fmt, ...)
{
    LOG_BODY(STDOUT_FILENO, NULL, 0);
}

void
hz_errx(const char *fmt, ...)
{
    LOG_BODY(STDERR_FILENO, NULL, 0);
}
