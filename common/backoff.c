/* SPDX-License-Identifier: MIT */
/*
 * backoff.c - accept failures: pause and log (see backoff.h).
 */
#include "common/backoff.h"

#include <string.h>

#include "common/log.h"

#define BACKOFF_LOG_EVERY_S 10

void
hz_backoff_fail(struct hz_backoff *b, const char *who, int e, long open, struct timeval *tv)
{
    time_t now = time(NULL);

    b->failures++;
    if (now - b->last_log >= BACKOFF_LOG_EVERY_S) {
        hz_log_warnx("%s: accept: %s; backing off (%llu failures since the last report, %ld "
                     "connections open)",
                     who, strerror(e), (unsigned long long)(b->failures - b->failures_logged),
                     open);
        b->failures_logged = b->failures;
        b->last_log = now;
    }
    /* A listener that fails again right after its pause waits longer. */
    if (b->ms < HZ_BACKOFF_MIN_MS)
        b->ms = HZ_BACKOFF_MIN_MS;
    tv->tv_sec = b->ms / 1000;
    tv->tv_usec = (b->ms % 1000) * 1000;
    if (b->ms < HZ_BACKOFF_MAX_MS)
        b->ms *= 2;
}

void
hz_backoff_ok(struct hz_backoff *b)
{
    b->ms = HZ_BACKOFF_MIN_MS;
}
