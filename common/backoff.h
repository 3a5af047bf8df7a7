/* SPDX-License-Identifier: MIT */
/*
 * backoff.h - the pause of a listener whose accept fails (EMFILE, ENFILE,
 * ENOBUFS...), shared by common/conns.c (evhttp servers) and the
 * collector's front: 100 ms doubling to 1 s, back to 100 ms once a
 * connection is accepted, logged once per 10 s with the number of
 * failures, so that a listener that stays readable never spins.
 */
#ifndef HZ_COMMON_BACKOFF_H
#define HZ_COMMON_BACKOFF_H

#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#define HZ_BACKOFF_MIN_MS 100
#define HZ_BACKOFF_MAX_MS 1000

struct hz_backoff {
    long ms; /* the next pause */
    uint64_t failures, failures_logged;
    time_t last_log;
};

/* Counts a failure (errno e), logs it when due (who names the server,
 * open its connections) and gives the pause before accepting again. */
void hz_backoff_fail(struct hz_backoff *b, const char *who, int e, long open, struct timeval *tv);
/* A connection was accepted: the next pause is the shortest. */
void hz_backoff_ok(struct hz_backoff *b);

#endif
