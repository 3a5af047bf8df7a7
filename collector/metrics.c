/* SPDX-License-Identifier: MIT */
/* metrics.c - Prometheus text for the collector's counters. */
#include "collector/metrics.h"

#include <stdarg.h>
#include <stdio.h>

struct hz_metrics hz_metrics;

static void
metrics_put(char *buf, size_t cap, size_t *at, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*at >= cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf + *at, cap - *at, fmt, ap);
    va_end(ap);
    if (n > 0)
        *at += (size_t)n < cap - *at ? (size_t)n : cap - *at - 1;
}

#define LOAD(f) ((unsigned long long)atomic_load_explicit(&hz_metrics.f, memory_order_relaxed))

size_t
hz_metrics_render(char *buf, size_t cap, int nthreads)
{
    size_t at = 0;

    metrics_put(buf, cap, &at,
                "# HELP haze_hits_accepted_total Hits accepted (in the stream or the spool).\n"
                "# TYPE haze_hits_accepted_total counter\n"
                "haze_hits_accepted_total %llu\n",
                LOAD(accepted));
    metrics_put(buf, cap, &at,
                "# HELP haze_hits_dropped_total Hits not counted, by reason.\n"
                "# TYPE haze_hits_dropped_total counter\n");
    for (int i = 1; i < HZ_DROP_COUNT; i++)
        metrics_put(
            buf, cap, &at, "haze_hits_dropped_total{reason=\"%s\"} %llu\n",
            hz_drop_name((enum hz_drop)i),
            (unsigned long long)atomic_load_explicit(&hz_metrics.dropped[i], memory_order_relaxed));
    metrics_put(buf, cap, &at,
                "# HELP haze_stream_errors_total Failed or unanswered XADDs.\n"
                "# TYPE haze_stream_errors_total counter\n"
                "haze_stream_errors_total %llu\n"
                "# HELP haze_spooled_total Hits written to the on-disk spool.\n"
                "# TYPE haze_spooled_total counter\n"
                "haze_spooled_total %llu\n"
                "# HELP haze_replayed_total Spooled hits replayed into the stream.\n"
                "# TYPE haze_replayed_total counter\n"
                "haze_replayed_total %llu\n"
                "# HELP haze_replay_duplicates_total Spooled hits found already in the stream.\n"
                "# TYPE haze_replay_duplicates_total counter\n"
                "haze_replay_duplicates_total %llu\n"
                "# HELP haze_spool_corrupt_total Unreadable spool entries skipped.\n"
                "# TYPE haze_spool_corrupt_total counter\n"
                "haze_spool_corrupt_total %llu\n"
                "# HELP haze_spool_bytes Bytes waiting in the spool.\n"
                "# TYPE haze_spool_bytes gauge\n"
                "haze_spool_bytes %llu\n"
                "# HELP haze_spool_entries Hits waiting in the spool.\n"
                "# TYPE haze_spool_entries gauge\n"
                "haze_spool_entries %llu\n"
                "# HELP haze_redis_connected Threads with a live Redis connection.\n"
                "# TYPE haze_redis_connected gauge\n"
                "haze_redis_connected %llu\n"
                "# HELP haze_threads Event-loop threads.\n"
                "# TYPE haze_threads gauge\n"
                "haze_threads %d\n"
                "# HELP haze_requests_total HTTP requests handled.\n"
                "# TYPE haze_requests_total counter\n"
                "haze_requests_total %llu\n",
                LOAD(stream_errors), LOAD(spooled), LOAD(replayed), LOAD(replay_dupes),
                LOAD(spool_corrupt), LOAD(spool_bytes), LOAD(spool_entries), LOAD(redis_up),
                nthreads, LOAD(requests));
    metrics_put(buf, cap, &at,
                "# HELP haze_dup_searches_total Duplicate searches of the stream before a replay, "
                "by where they start (after the last ID acknowledged before the ambiguous hits, or "
                "a time window before them).\n"
                "# TYPE haze_dup_searches_total counter\n"
                "haze_dup_searches_total{start=\"floor\"} %llu\n"
                "haze_dup_searches_total{start=\"window\"} %llu\n"
                "# HELP haze_dup_scanned_total Stream entries read by the duplicate searches.\n"
                "# TYPE haze_dup_scanned_total counter\n"
                "haze_dup_scanned_total %llu\n"
                "# HELP haze_dup_logged_total Hit ids read from the log of applied ones by the "
                "duplicate searches.\n"
                "# TYPE haze_dup_logged_total counter\n"
                "haze_dup_logged_total %llu\n",
                LOAD(dup_searches[HZ_DUP_FROM_FLOOR]), LOAD(dup_searches[HZ_DUP_FROM_WINDOW]),
                LOAD(dup_scanned), LOAD(dup_logged));
    return at;
}
