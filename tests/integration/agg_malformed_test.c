/* SPDX-License-Identifier: MIT */
/*
 * agg_malformed_test.c - anything with Redis access can XADD: the real
 * aggregator gets 23 malformed entries of 17 kinds mixed into one batch
 * with a valid visit. Each is skipped and counted under its reason (site
 * "*", dim DROP), the valid entries of the same batch fold exactly, the
 * process survives, and the log names reasons, never content.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/store.h"
#include "common/str.h"
#include "tests/integration/harness.h"

TestSuite(agg_malformed, .fini = ht_cleanup);

#define STREAM "bad:events"
#define SITE   "shop.test"
#define VH     "0123456789abcdef"

struct bad_entry {
    const char *what;
    int n;
    const char *names[20];
    const char *vals[20];
    size_t vlens[20]; /* 0: strlen */
};

static char ts[32];
static char long_page[301];

/* Fills in the time for the entries below (a valid "t" everywhere). */
#define T       ts
#define BASE(k) "v", "t", "k", "s", "p"

static struct bad_entry bad[] = {
    {"missing v", 5, {"t", "k", "s", "p", "vh"}, {T, "pv", SITE, "/", VH}, {0}},
    {"bad version", 6, {BASE(), "vh"}, {"2", T, "pv", SITE, "/", VH}, {0}},
    {"bad time", 6, {BASE(), "vh"}, {"1", "abc", "pv", SITE, "/", VH}, {0}},
    {"time in seconds", 6, {BASE(), "vh"}, {"1", "1700000000", "pv", SITE, "/", VH}, {0}},
    {"bad kind", 6, {BASE(), "vh"}, {"1", T, "zz", SITE, "/", VH}, {0}},
    {"missing site", 5, {"v", "t", "k", "p", "vh"}, {"1", T, "pv", "/", VH}, {0}},
    {"empty site", 6, {BASE(), "vh"}, {"1", T, "pv", "", "/", VH}, {0}},
    {"relative page", 6, {BASE(), "vh"}, {"1", T, "pv", SITE, "index.html", VH}, {0}},
    {"invalid utf-8", 6, {BASE(), "vh"}, {"1", T, "pv", SITE, "/\xff\xfe", VH}, {0}},
    {"page too long", 6, {BASE(), "vh"}, {"1", T, "pv", SITE, long_page, VH}, {0}},
    {"control char", 6, {BASE(), "vh"}, {"1", T, "pv", SITE, "/a\x01secret", VH}, {0}},
    {"NUL in page", 6, {BASE(), "vh"}, {"1", T, "pv", SITE, "/a\0b", VH}, {0, 0, 0, 0, 4, 0}},
    {"bad region", 7, {BASE(), "rg", "vh"}, {"1", T, "pv", SITE, "/", "de-by", VH}, {0}},
    {"bad ms", 7, {BASE(), "ms", "vh"}, {"1", T, "en", SITE, "/", "12a", VH}, {0}},
    {"bad pixel flag", 7, {BASE(), "px", "vh"}, {"1", T, "pv", SITE, "/", "2", VH}, {0}},
    {"bad visitor hash", 6, {BASE(), "vh"}, {"1", T, "pv", SITE, "/", "XYZ"}, {0}},
    {"duplicate field", 7, {BASE(), "p", "vh"}, {"1", T, "pv", SITE, "/", "/x", VH}, {0}},
    {"unknown field", 7, {BASE(), "zz", "vh"}, {"1", T, "pv", SITE, "/", "1", VH}, {0}},
    {"event without name", 6, {BASE(), "vh"}, {"1", T, "ev", SITE, "/", VH}, {0}},
    {"engagement without ms", 6, {BASE(), "vh"}, {"1", T, "en", SITE, "/", VH}, {0}},
    {"pageview without visitor", 5, {BASE()}, {"1", T, "pv", SITE, "/"}, {0}},
    {"drops without reason", 6, {BASE(), "ms"}, {"1", T, "dr", SITE, "/", "5"}, {0}},
    /* the compact form (one field "r"): a value cut short */
    {"compact, cut short",
     1,
     {"r"},
     {"\x02\x01\x0d"
      "1234"},
     {0}},
    {"too many fields",
     19,
     {BASE(), "n", "src", "um", "uc", "rg", "b", "o", "dv", "ms", "px", "vh", "vp", "u", "v"},
     {"1", T, "pv", SITE, "/", "x", "s", "m", "c", "DE", "b", "o", "d", "1", "1", VH, VH, VH, "1"},
     {0}},
};

#define NBAD (sizeof(bad) / sizeof(bad[0]))

struct bad_rows {
    int n;
    uint64_t total;
    char v[64][96];
};

static void
bad_rows_cb(const char *value, size_t vlen, const struct hz_counts *c, void *arg)
{
    struct bad_rows *r = arg;
    if (r->n < 64)
        (void)snprintf(r->v[r->n++], sizeof(r->v[0]), "%.*s", (int)vlen, value);
    r->total += c->events;
}

Test(agg_malformed, skipped_counted_rest_folds, .timeout = 60)
{
    struct ht_redis r;
    char dir[64], ini[256], log[320];
    uint64_t t0 = (uint64_t)time(NULL) * 1000;
    int32_t day = (int32_t)(t0 / 86400000);
    struct hz_err e = {0};
    int n = 0;

    (void)snprintf(ts, sizeof(ts), "%llu", (unsigned long long)t0);
    memset(long_page, 'x', 300);
    long_page[0] = '/';
    long_page[300] = '\0';
    cr_assert_eq(ht_redis_start(&r, NULL, 0), 0);
    ht_tmpdir(dir);
    ht_agg_config(ini, dir, &r, STREAM, 1000, "[site shop.test]\ntimezone = UTC\n");
    hz_rs *rs = ht_rs_connect(&r);

    /* Valid, malformed, valid, ...: one batch of 27. */
    for (size_t i = 0; i < NBAD; i++) {
        if (i % 8 == 0) {
            static const char *pages[] = {"/", "/a", "/b"};
            struct hz_record v = ht_rec(HZ_KIND_PAGEVIEW, t0 + i * 1000, SITE, pages[i / 8], VH);
            if (i == 8)
                ht_xadd_packed(rs, STREAM, &v); /* both forms in one batch */
            else
                ht_xadd(rs, STREAM, &v);
            n++;
        }
        size_t vl[20];
        for (int k = 0; k < bad[i].n; k++)
            vl[k] = bad[i].vlens[k] ? bad[i].vlens[k] : strlen(bad[i].vals[k]);
        ht_xadd_raw(rs, STREAM, bad[i].n, bad[i].names, bad[i].vals, vl);
        n++;
    }
    ht_flush(rs, n);

    (void)snprintf(log, sizeof(log), "%s/agg.log", dir);
    /* Still alive after all that input (ht_agg_drain asserts it). */
    cr_assert_eq(ht_agg_drain(ini, rs, STREAM, log), 0, "every entry acknowledged and trimmed");

    hz_store *s;
    hz_rtxn *t;
    char db[128];
    (void)snprintf(db, sizeof(db), "%s/db", dir);
    cr_assert_eq(hz_store_open(&s, db, 1, 0, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_store_rbegin(s, &t, &e), 0, "%s", e.msg);
    struct bad_rows br;
    memset(&br, 0, sizeof(br));
    cr_assert_eq(hz_store_dim(t, "*", HZ_DIM_DROP, day, day, bad_rows_cb, &br), 0);
    cr_expect_eq(br.total, NBAD, "every malformed entry counted (%llu)",
                 (unsigned long long)br.total);
    cr_expect_geq(br.n, 15, "at least 15 distinct reasons, got %d", br.n);
    for (int i = 0; i < br.n; i++)
        cr_expect(strncmp(br.v[i], "invalid: ", 9) == 0, "reason %s", br.v[i]);
    /* The valid visit of the same batch: 3 pageviews, 1 visit, 2 transitions. */
    struct hz_counts tot;
    cr_assert_eq(hz_store_totals(t, SITE, day - 1, day + 1, &tot), 0);
    cr_expect_eq(tot.pageviews, 3);
    cr_expect_eq(tot.visits, 1);
    cr_expect_eq(tot.visitors, 1);
    cr_expect_eq(tot.nonbounce, 1);
    cr_expect_eq(tot.duration_ms, 16000, "pageviews at 0 s, 8 s, 16 s");
    hz_store_rend(t);
    hz_store_close(s);

    /* Reasons are logged with counts, content never. */
    FILE *f = fopen(log, "r");
    cr_assert_not_null(f);
    char *text = calloc(1, 65536);
    size_t len = fread(text, 1, 65535, f);
    fclose(f);
    cr_expect(len > 0 && strstr(text, "malformed") != NULL, "a warning with counts");
    cr_expect(strstr(text, "index.html") == NULL && strstr(text, "secret") == NULL &&
                  strstr(text, VH) == NULL,
              "no entry content in the log");
    free(text);
    hz_rs_close(rs);
    ht_redis_stop(&r, 0);
    ht_rmdir(dir);
}
