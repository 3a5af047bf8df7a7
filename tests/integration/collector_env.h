/* SPDX-License-Identifier: MIT */
/*
 * collector_env.h - one collector test environment: a temporary folder, a
 * private redis-server, a haze.ini, and the real bin/haze-collector on a
 * free loopback port. Each test gets its own, so tests run in parallel.
 */
#ifndef HZ_TESTS_COLLECTOR_ENV_H
#define HZ_TESTS_COLLECTOR_ENV_H

#include "tests/integration/harness.h"

struct ce {
    char dir[64];
    char ini[256];
    int port;
    struct ht_redis redis;
    struct ht_proc collector;
};

#define CE_STREAM "haze:test"
#define CE_CHROME                                                                                  \
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "            \
    "Chrome/131.0.0.0 Safari/537.36"

/* Starts redis (aof: durable) and the collector; extra is appended to the
 * [collector] section ("key = value\n" lines) and may be NULL. */
void ce_start(struct ce *e, int aof, const char *extra);
/* The same, with tail appended to haze.ini after the site section (for
 * [aggregator], [dashboard] or more sites). */
void ce_start_tail(struct ce *e, int aof, const char *extra, const char *tail);
/* Stops the collector (SIGTERM, expects exit 0) and redis; removes dir. */
void ce_stop(struct ce *e);
/* POSTs body to /api/event as text/plain from "ua" (NULL: CE_CHROME) with
 * extra headers; returns the status. */
int ce_event(struct ce *e, const char *body, const char *extra_headers);
/* The value of a counter or gauge on the collector's /metrics, or -1. */
long ce_metric(struct ce *e, const char *name);
/* The stream's entries as redis-cli --raw prints XRANGE - + (malloc'd). */
char *ce_xrange(struct ce *e);

/* One stream entry, parsed from redis-cli output. */
struct ce_entry {
    char id[48];
    int n;
    char name[20][8];
    char val[20][300];
};
/* Calls fn for every record of the stream (read with XRANGE over our own
 * connection; each record of a batch on its own, with its entry's id), its
 * fields laid out in the multi-field form whichever form it was written
 * in. Returns the number of records, or -1. */
int ce_each(struct ce *e, void (*fn)(const struct ce_entry *en, void *arg), void *arg);
/* Fills up to max entries; returns the count (all kinds), or -1. With
 * hits_only, drop summaries (k=dr) are left out. */
int ce_entries(struct ce *e, struct ce_entry *out, int max, int hits_only);
/* The value of field name in entry, or NULL. */
const char *ce_field(const struct ce_entry *en, const char *name);

/* Numbered pageviews: POSTs hit i (page /p/<i/1000>/<i%1000>: a run of 5+
 * digits would become ":id"); returns the status. */
int ce_page_hit(struct ce *e, int i);
/* Sends numbered pageviews [from, to); asserts each is answered 202. */
void ce_page_hits(struct ce *e, int from, int to);
/* Polls the counter or gauge name (every ms or so) until it is above
 * than, for up to ms; returns the last value read. */
long ce_wait_above(struct ce *e, const char *name, long than, long ms);
void ce_sleep_ms(long ms);
/* Counts the stream's numbered pageviews below max in count[i] (up to
 * 255), and in *out_of_order those that follow a greater number. Returns
 * the number of other hit entries, or -1. */
int ce_page_counts(struct ce *e, unsigned char *count, int max, int *out_of_order);

#endif
