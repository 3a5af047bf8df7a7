/* SPDX-License-Identifier: MIT */
/*
 * metrics.h - the collector's counters, shared by its threads (C11
 * atomics, relaxed: they are statistics), rendered as Prometheus text at
 * GET /metrics. Counters carry no user data: only reasons and totals.
 */
#ifndef HZ_COLLECTOR_METRICS_H
#define HZ_COLLECTOR_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "collector/pipeline.h"

struct hz_metrics {
    atomic_uint_fast64_t accepted;               /* hits that reached the stream or spool */
    atomic_uint_fast64_t dropped[HZ_DROP_COUNT]; /* by reason */
    atomic_uint_fast64_t stream_errors;          /* XADD failures and disconnects */
    atomic_uint_fast64_t spooled;                /* hits written to the spool */
    atomic_uint_fast64_t replayed;               /* spooled hits replayed to Redis */
    atomic_uint_fast64_t replay_dupes;           /* ambiguous hits found already in Redis */
    atomic_uint_fast64_t spool_corrupt;          /* unreadable spool entries skipped */
    atomic_uint_fast64_t dup_searches[2];        /* duplicate searches, by enum hz_dup_from */
    atomic_uint_fast64_t dup_scanned;            /* stream entries they read */
    atomic_uint_fast64_t dup_logged;             /* applied hit ids they read (common/idlog.h) */
    atomic_int_fast64_t spool_bytes;             /* current, all threads */
    atomic_int_fast64_t spool_entries;
    atomic_int_fast64_t redis_up; /* threads connected */
    atomic_uint_fast64_t requests;
};

/* Where the replay's duplicate search starts (collector/pub_replay.c). */
enum hz_dup_from { HZ_DUP_FROM_FLOOR, HZ_DUP_FROM_WINDOW };

extern struct hz_metrics hz_metrics;

#define HZ_METRIC_ADD(field, n)                                                                    \
    atomic_fetch_add_explicit(&hz_metrics.field, (n), memory_order_relaxed)

/* Renders all counters into buf (Prometheus text exposition format 0.0.4).
 * Returns the length written (truncated at cap). */
size_t hz_metrics_render(char *buf, size_t cap, int nthreads);

#endif
