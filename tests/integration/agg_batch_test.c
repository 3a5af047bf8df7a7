/* SPDX-License-Identifier: MIT */
/*
 * agg_batch_test.c - the real aggregator reads entries holding several
 * records (format 3, common/record.h), with batches of 4 records so that
 * entries of 3 records end a batch early: every record of a sound batch
 * folds once; a bad record inside one is counted invalid under its own
 * reason while its neighbours fold; a batch with damaged framing (or of
 * one record) is one invalid entry, under its reason.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/record.h"
#include "common/store.h"
#include "tests/integration/harness.h"

TestSuite(agg_batch, .fini = ht_cleanup);

#define STREAM "batch:events"
#define SITE   "shop.test"

static unsigned char *
ab_put(unsigned char *b, size_t *len, const struct hz_record *r)
{
    unsigned char one[HZ_RECORD_PACK_MAX];

    *len = hz_record_batch_add(b, *len, one, hz_record_pack(r, one));
    return b;
}

static void
ab_xadd(hz_rs *rs, const unsigned char *b, size_t len)
{
    const char *name = HZ_RECORD_KEY, *val = (const char *)b;
    ht_xadd_raw(rs, STREAM, 1, &name, &val, &len);
}

struct ab_rows {
    uint64_t total;
    int n;
    char v[16][96];
    uint64_t c[16];
};

static void
ab_rows_cb(const char *value, size_t vlen, const struct hz_counts *c, void *arg)
{
    struct ab_rows *r = arg;
    if (r->n < 16) {
        (void)snprintf(r->v[r->n], sizeof(r->v[0]), "%.*s", (int)vlen, value);
        r->c[r->n++] = c->events;
    }
    r->total += c->events;
}

static uint64_t
ab_reason(const struct ab_rows *r, const char *why)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->v[i], why) == 0)
            return r->c[i];
    return 0;
}

Test(agg_batch, records_of_an_entry_fold_once_and_bad_ones_alone, .timeout = 60)
{
    static unsigned char b[8 * (HZ_RECORD_PACK_MAX + 2)];
    struct ht_redis r;
    char dir[64], ini[256];
    uint64_t t0 = (uint64_t)time(NULL) * 1000 - 600000;
    int32_t day = (int32_t)(t0 / 86400000);
    struct hz_err e = {0};
    int entries = 0, pv = 0;
    size_t len;

    cr_assert_eq(ht_redis_start(&r, NULL, 0), 0);
    ht_tmpdir(dir);
    ht_agg_config(ini, dir, &r, STREAM, 4, "[site shop.test]\ntimezone = UTC\n");
    hz_rs *rs = ht_rs_connect(&r);

    /* Five sound batches of 3 pageviews (distinct visitors, 1 s apart). */
    for (int k = 0; k < 5; k++) {
        char vh[17];
        b[0] = HZ_RECORD_BATCH;
        len = 1;
        (void)snprintf(vh, sizeof(vh), "%016x", 0xb000 + k);
        for (int i = 0; i < 3; i++) {
            struct hz_record v = ht_rec(HZ_KIND_PAGEVIEW, t0 + (uint64_t)(k * 3 + i) * 1000, SITE,
                                        i == 0 ? "/" : "/a", vh);
            ab_put(b, &len, &v);
            pv++;
        }
        ab_xadd(rs, b, len);
        entries++;
        if (k == 1) { /* an old single-record entry between batches */
            struct hz_record v = ht_rec(HZ_KIND_PAGEVIEW, t0, SITE, "/single", "00000000000000ff");
            ht_xadd_packed(rs, STREAM, &v);
            entries++;
            pv++;
        }
    }
    /* A bad record between two good ones: the good ones fold. */
    {
        unsigned char one[HZ_RECORD_PACK_MAX];
        struct hz_record v = ht_rec(HZ_KIND_PAGEVIEW, t0, SITE, "/mixed", "0000000000000aaa");
        size_t l1 = hz_record_pack(&v, one);
        b[0] = HZ_RECORD_BATCH;
        len = hz_record_batch_add(b, 1, one, l1);
        len = hz_record_batch_add(b, len, one, l1 - 1); /* cut short */
        len = hz_record_batch_add(b, len, one, l1);
        ab_xadd(rs, b, len);
        entries++;
        pv += 2;
        /* A batch of one record, and one whose last record is cut off. */
        len = hz_record_batch_add(b, 1, one, l1);
        ab_xadd(rs, b, len);
        len = hz_record_batch_add(b, len, one, l1);
        ab_xadd(rs, b, len - 3);
        entries += 2;
    }
    ht_flush(rs, entries);

    cr_assert_eq(ht_agg_drain(ini, rs, STREAM, NULL), 0, "every entry applied and trimmed");

    hz_store *s;
    hz_rtxn *t;
    char db[128];
    struct ab_rows br;
    struct hz_counts tot;
    (void)snprintf(db, sizeof(db), "%s/db", dir);
    cr_assert_eq(hz_store_open(&s, db, 1, 0, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_store_rbegin(s, &t, &e), 0, "%s", e.msg);
    memset(&br, 0, sizeof(br));
    cr_assert_eq(hz_store_dim(t, "*", HZ_DIM_DROP, day, day + 1, ab_rows_cb, &br), 0);
    cr_expect_eq(br.total, 3, "three invalid (%llu)", (unsigned long long)br.total);
    cr_expect_eq(ab_reason(&br, "invalid: record framing"), 1);
    cr_expect_eq(ab_reason(&br, "invalid: batch of one"), 1);
    cr_expect_eq(ab_reason(&br, "invalid: batch framing"), 1);
    cr_assert_eq(hz_store_totals(t, SITE, day - 1, day + 1, &tot), 0);
    cr_expect_eq(tot.pageviews, (uint64_t)pv, "every record once: %llu of %d",
                 (unsigned long long)tot.pageviews, pv);
    cr_expect_eq(tot.visitors, 7, "5 batch visitors, the single one, the mixed one");
    hz_store_rend(t);
    hz_store_close(s);
    hz_rs_close(rs);
    ht_redis_stop(&r, 0);
}
