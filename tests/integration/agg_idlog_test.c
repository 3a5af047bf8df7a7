/* SPDX-License-Identifier: MIT */
/*
 * agg_idlog_test.c - the applied hit id log (common/idlog.h): once the
 * aggregator has applied a stream, the stream is empty and the log holds
 * the hit id of every entry that had one, exactly once, in the bucket of
 * its entry's ID, with an expiry of stream_keep_seconds + one bucket; a
 * batch that changes no visitor state (an unknown site's hits) logs its
 * ids too; with stream_keep_seconds = 0 nothing is logged. (A batch
 * applied again after kill -9 logs its ids again: agg_crash_test.c.)
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregator/consume.h"
#include "common/cfg.h"
#include "tests/integration/harness.h"

TestSuite(agg_idlog, .fini = ht_cleanup);

#define SITE   "idlog.test"
#define STREAM "idlog:events"
#define N_HITS 1000 /* pageviews of SITE, with ids */
#define N_UNK  120  /* hits of a site not in the config, first: a batch with no state */

static uint64_t
il_id(int i)
{
    return (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ULL;
}

/* Queues the test's entries: N_UNK hits of an unknown site, N_HITS
 * pageviews with ids, 5 without one, 2 drop summaries. Returns commands. */
static int
il_push(hz_rs *rs)
{
    uint64_t t0 = ((uint64_t)time(NULL) - 600) * 1000;
    int n = 0;

    for (int i = 0; i < N_UNK + N_HITS + 7; i++) {
        char vh[17];
        (void)snprintf(vh, sizeof(vh), "%016x", i % 50 + 1);
        struct hz_record r = ht_rec(HZ_KIND_PAGEVIEW, t0 + (uint64_t)i, i < N_UNK ? "x.test" : SITE,
                                    i % 2 ? "/a" : "/b", vh);
        if (i < N_UNK + N_HITS)
            (void)snprintf(r.id, sizeof(r.id), "%016llx", (unsigned long long)il_id(i));
        if (i >= N_UNK + N_HITS + 5) {
            r.kind = HZ_KIND_DROPS;
            (void)snprintf(r.name, sizeof(r.name), "bot");
            r.ms = 3;
            r.vh[0] = '\0';
        }
        ht_xadd_packed(rs, STREAM, &r), n++;
    }
    return n;
}

/* bucket[i]: the bucket of the entry holding il_id(i), read from the stream. */
static void
il_buckets(hz_rs *rs, uint64_t *bucket, int n)
{
    struct hz_rs_batch b = {0};
    struct hz_err e = {0};
    int seen = 0;

    cr_assert_eq(hz_rs_read(rs, STREAM, "0-0", 100000, -1, &b, &e), 0, "%s", e.msg);
    for (int k = 0; k < b.n; k++) {
        struct hz_record r;
        const struct hz_rs_entry *en = &b.e[k];
        cr_assert_eq(
            hz_record_decode(en->names, en->nlens, en->vals, en->vlens, en->nfields, &r, &e), 0,
            "%s", e.msg);
        if (r.id[0] == '\0')
            continue;
        uint64_t id = strtoull(r.id, NULL, 16);
        for (int i = 0; i < n; i++) {
            if (il_id(i) == id) {
                bucket[i] = hz_idlog_bucket(en->id.ms);
                seen++;
            }
        }
    }
    hz_rs_batch_free(&b);
    cr_assert_eq(seen, n, "every hit id is in the stream once");
}

/* Pushes the entries, maps their buckets (when bucket is not NULL),
 * drains them with an aggregator configured with extra. */
static hz_rs *
il_run(const char *extra, struct ht_redis *r, char dir[64], uint64_t *bucket)
{
    char ini[256];
    static struct hz_config cfg;
    struct hz_err e = {0};
    hz_agg *a;
    hz_rs *rs;

    cr_assert_eq(ht_redis_start(r, NULL, 0), 0);
    ht_tmpdir(dir);
    ht_agg_config(ini, dir, r, STREAM, 100, extra);
    rs = ht_rs_connect(r);
    ht_flush(rs, il_push(rs));
    if (bucket != NULL)
        il_buckets(rs, bucket, N_UNK + N_HITS);
    cr_assert_eq(hz_cfg_load(&cfg, ini, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_open(&a, &cfg, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_drain(a, &e), 0, "%s", e.msg);
    cr_expect_eq(hz_agg_stats(a)->unknown_site, N_UNK);
    cr_expect_eq(hz_agg_stats(a)->applied, N_HITS + 7);
    hz_agg_close(a);
    const char *xlen[] = {"XLEN", STREAM};
    cr_expect_eq(ht_cmd(rs, 2, xlen), 0, "every applied entry is trimmed");
    return rs;
}

Test(agg_idlog, applied_ids_are_logged_once_in_their_bucket, .timeout = 60)
{
    struct ht_redis r;
    char dir[64];
    int n = N_UNK + N_HITS;
    uint64_t *bucket = calloc((size_t)n, sizeof(*bucket));
    unsigned char *count = calloc((size_t)n, 1);
    struct hz_err e = {0};
    hz_rs_reply *keys = NULL;
    long total = 0;

    cr_assert(bucket != NULL && count != NULL);
    hz_rs *rs = il_run("[site " SITE "]\ntimezone = UTC\n", &r, dir, bucket);
    const char *kv[] = {"KEYS", STREAM ":applied:*"};
    size_t kl[] = {4, strlen(kv[1])};
    cr_assert_eq(hz_rs_command(rs, 2, kv, kl, &keys, &e), 0, "%s", e.msg);
    cr_assert_geq(hz_rs_reply_count(keys), 1);
    for (size_t k = 0; k < hz_rs_reply_count(keys); k++) {
        size_t len, vl;
        const char *key = hz_rs_reply_str(hz_rs_reply_elem(keys, k), &len);
        char name[HZ_IDLOG_KEY_MAX];
        (void)snprintf(name, sizeof(name), "%.*s", (int)len, key);
        uint64_t kb = strtoull(strrchr(name, ':') + 1, NULL, 10);
        const char *gv[] = {"GET", name}, *tv[] = {"PTTL", name};
        size_t gl[] = {3, len};
        hz_rs_reply *val = NULL;
        long long ttl = ht_cmd(rs, 2, tv);
        cr_expect(ttl > 0 && ttl <= (120 + 10) * 1000, "%s expires in %lld ms", name, ttl);
        cr_assert_eq(hz_rs_command(rs, 2, gv, gl, &val, &e), 0, "%s", e.msg);
        const unsigned char *v = (const unsigned char *)hz_rs_reply_str(val, &vl);
        cr_assert_eq(vl % HZ_IDLOG_ID_LEN, 0);
        for (size_t off = 0; off < vl; off += HZ_IDLOG_ID_LEN, total++) {
            uint64_t id = hz_idlog_get(v + off);
            int i = 0;
            while (i < n && il_id(i) != id)
                i++;
            cr_assert_lt(i, n, "%s holds an id that no entry had", name);
            cr_assert_eq(bucket[i], kb, "hit %d's id is in the bucket of its entry", i);
            count[i]++;
        }
        hz_rs_reply_free(val);
    }
    hz_rs_reply_free(keys);
    cr_expect_eq(total, n, "one id per hit with an id (%ld)", total);
    for (int i = 0; i < n; i++)
        cr_assert_eq(count[i], 1, "hit %d's id is logged %d times", i, count[i]);
    free(bucket);
    free(count);
    hz_rs_close(rs);
    ht_redis_stop(&r, 0);
    ht_rmdir(dir);
}

Test(agg_idlog, keep_zero_logs_nothing, .timeout = 60)
{
    struct ht_redis r;
    char dir[64];
    uint64_t *ids = NULL;

    hz_rs *rs = il_run("stream_keep_seconds = 0\n[site " SITE "]\ntimezone = UTC\n", &r, dir, NULL);
    cr_expect_eq(ht_idlog(rs, STREAM, &ids), 0, "no id logged");
    free(ids);
    hz_rs_close(rs);
    ht_redis_stop(&r, 0);
    ht_rmdir(dir);
}

/* A complete bucket of the log (the aggregator has moved on to a later
 * one) is rewritten at its exact length, TTL and bytes kept: APPEND grows
 * a string by doubling it, so 4,000 bytes of ids would hold 8 KB. The
 * entries carry explicit IDs, 500 in each of three buckets. */
Test(agg_idlog, complete_buckets_are_kept_at_their_length, .timeout = 60)
{
    enum { PER = 500, NB = 3 };
    struct ht_redis r;
    char dir[64], ini[256];
    static struct hz_config cfg;
    struct hz_err e = {0};
    hz_agg *a;
    uint64_t now = (uint64_t)time(NULL) * 1000, b0 = hz_idlog_bucket(now - 600000);

    cr_assert_eq(ht_redis_start(&r, NULL, 0), 0);
    ht_tmpdir(dir);
    ht_agg_config(ini, dir, &r, STREAM, 100, "[site " SITE "]\ntimezone = UTC\n");
    hz_rs *rs = ht_rs_connect(&r);
    for (int i = 0; i < PER * NB; i++) {
        char vh[17], id[48];
        unsigned char buf[HZ_RECORD_PACK_MAX];
        struct hz_record rec = ht_rec(HZ_KIND_PAGEVIEW, now - 600000 + (uint64_t)i, SITE, "/a",
                                      (snprintf(vh, sizeof(vh), "%016x", i % 50 + 1), vh));
        (void)snprintf(rec.id, sizeof(rec.id), "%016llx", (unsigned long long)il_id(i));
        (void)snprintf(id, sizeof(id), "%llu-1",
                       (unsigned long long)((b0 + (uint64_t)(i / PER)) * HZ_IDLOG_BUCKET_MS +
                                            (uint64_t)(i % PER)));
        const char *av[5] = {"XADD", STREAM, id, HZ_RECORD_KEY, (const char *)buf};
        size_t al[5] = {4, strlen(STREAM), strlen(id), strlen(HZ_RECORD_KEY),
                        hz_record_pack(&rec, buf)};
        cr_assert_eq(hz_rs_append(rs, 5, av, al), 0);
    }
    ht_flush(rs, PER * NB);
    cr_assert_eq(hz_cfg_load(&cfg, ini, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_open(&a, &cfg, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_drain(a, &e), 0, "%s", e.msg);
    hz_agg_close(a);
    for (int k = 0; k < NB; k++) {
        char key[HZ_IDLOG_KEY_MAX], tmp[HZ_IDLOG_KEY_MAX + 2];
        cr_assert_gt(hz_idlog_key(key, sizeof(key), STREAM, b0 + (uint64_t)k), 0);
        (void)snprintf(tmp, sizeof(tmp), "%s:c", key);
        const char *sv[] = {"STRLEN", key}, *mv[] = {"MEMORY", "USAGE", key}, *tv[] = {"PTTL", key},
                   *xv[] = {"EXISTS", tmp}, *gv[] = {"GET", key};
        size_t gl[] = {3, strlen(key)}, vl;
        hz_rs_reply *val = NULL;
        cr_assert_eq(ht_cmd(rs, 2, sv), PER * HZ_IDLOG_ID_LEN, "bucket %d: every id once", k);
        long long ttl = ht_cmd(rs, 2, tv), mem = ht_cmd(rs, 3, mv);
        cr_expect(ttl > 0 && ttl <= (120 + 10) * 1000, "bucket %d expires in %lld ms", k, ttl);
        cr_expect_eq(ht_cmd(rs, 2, xv), 0, "no copy left behind");
        if (k < NB - 1)
            cr_expect_lt(mem, PER * HZ_IDLOG_ID_LEN + 600, "bucket %d holds %lld bytes", k, mem);
        cr_assert_eq(hz_rs_command(rs, 2, gv, gl, &val, &e), 0, "%s", e.msg);
        const unsigned char *v = (const unsigned char *)hz_rs_reply_str(val, &vl);
        for (int i = 0; i < PER; i++)
            cr_assert_eq(hz_idlog_get(v + (size_t)i * HZ_IDLOG_ID_LEN), il_id(k * PER + i),
                         "bucket %d, id %d in order", k, i);
        hz_rs_reply_free(val);
    }
    hz_rs_close(rs);
    ht_redis_stop(&r, 0);
    ht_rmdir(dir);
}
