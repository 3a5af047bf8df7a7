/* SPDX-License-Identifier: MIT */
/*
 * agg_bench.c - helper of tests/bench/agg.sh (built by the script against
 * the project's libraries, not by make check):
 *
 *   agg_bench fill ADDR STREAM N SITE   XADD N realistic entries to STREAM (compact
 *                                       form; env FORMAT=fields: the multi-field one)
 *   agg_bench lmdb DIR SECONDS          raw LMDB increment rate (the ceiling)
 *
 * fill: Zipf-distributed pages over 2000 paths, 400 concurrent visitors in
 * visits of 1-12 pages that follow the checkout funnel now and then,
 * engagement after most pageviews, custom events, a few drop summaries,
 * timestamps spread over the last two hours.
 * lmdb: batched write transactions (5000 increments each, committed with
 * LMDB's default durability, as the store does) of mdb_get + mdb_put on
 * 64-byte counters over 20,000 keys; prints increments per second.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lmdb.h>

#include "common/net.h"
#include "common/record.h"
#include "common/rstream.h"
#include "common/str.h"

#define NPATHS 2000
#define NSLOTS 400

static uint64_t rng = 88172645463325252ULL;

static uint64_t
xr(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double cdf[NPATHS];

static void
zipf_init(void)
{
    double sum = 0;
    for (int i = 0; i < NPATHS; i++)
        sum += 1.0 / (i + 1);
    double acc = 0;
    for (int i = 0; i < NPATHS; i++) {
        acc += 1.0 / (i + 1) / sum;
        cdf[i] = acc;
    }
}

static int
zipf(void)
{
    double u = (double)(xr() % 1000000000ULL) / 1e9;
    int lo = 0, hi = NPATHS - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void
path_of(int i, char *out, size_t cap)
{
    if (i == 0)
        (void)hz_strlcpy(out, "/", cap);
    else if (i < 400)
        (void)snprintf(out, cap, "/products/%d", i);
    else if (i < 1500)
        (void)snprintf(out, cap, "/blog/2025/article-%d", i);
    else
        (void)snprintf(out, cap, "/help/topic-%d/details", i);
}

struct slot {
    char vh[17];
    int left;
    int step; /* funnel position */
    char page[HZ_PAGE_MAX];
    int attr;
};

static void
slot_new(struct slot *s)
{
    (void)snprintf(s->vh, sizeof(s->vh), "%016llx", (unsigned long long)xr());
    s->left = 1 + (int)(xr() % 12);
    s->step = 0;
    s->page[0] = '\0';
    s->attr = (int)(xr() % 1000);
}

static const char *const sources[] = {"", "", "", "google.com", "news.example", "twitter.com"};
static const char *const regions[] = {"DE-BY", "DE-BE",  "FR-IDF", "US-CA",
                                      "CN-JS", "GB-ENG", "JP-13",  ""};
static const char *const browsers[] = {"Chrome", "Firefox", "Safari", "Edge", "Opera"};
static const char *const oses[] = {"Windows", "macOS", "Linux", "Android", "iOS"};
static const char *const devices[] = {"desktop", "mobile", "tablet"};
static const char *const events[] = {"Signup", "Download", "Purchase", "Share"};

static int
fill(const char *addr, const char *stream, long n, const char *site)
{
    struct slot slots[NSLOTS];
    struct hz_addr a;
    struct hz_err e = {0};
    hz_rs *rs;
    uint64_t t0 = ((uint64_t)time(NULL) - 7200) * 1000;
    long queued = 0;
    const char *fmt = getenv("FORMAT");
    int multi = fmt != NULL && strcmp(fmt, "fields") == 0;

    zipf_init();
    for (int i = 0; i < NSLOTS; i++)
        slot_new(&slots[i]);
    if (hz_addr_parse(addr, strlen(addr), &a, &e) != 0 || hz_rs_connect(&rs, &a, 30000, 3, &e))
        return fprintf(stderr, "fill: %s\n", e.msg), 1;
    for (long i = 0; i < n; i++) {
        struct slot *s = &slots[xr() % NSLOTS];
        struct hz_record r;
        struct hz_field f[HZ_RECORD_FIELDS];
        const char *argv[3 + 2 * HZ_RECORD_FIELDS];
        size_t lens[3 + 2 * HZ_RECORD_FIELDS];
        char num[HZ_RECORD_NUMBUF];
        unsigned char packed[HZ_RECORD_PACK_MAX];
        uint64_t k = xr() % 100;

        memset(&r, 0, sizeof(r));
        r.t_ms = t0 + (uint64_t)i * 7200000 / (uint64_t)n;
        (void)hz_strlcpy(r.site, site, sizeof(r.site));
        (void)hz_strlcpy(r.vh, s->vh, sizeof(r.vh));
        (void)hz_strlcpy(r.source, sources[s->attr % 6], sizeof(r.source));
        if (s->attr % 17 == 0) {
            (void)hz_strlcpy(r.utm_medium, "cpc", sizeof(r.utm_medium));
            (void)hz_strlcpy(r.utm_campaign, "winter-sale", sizeof(r.utm_campaign));
        }
        (void)hz_strlcpy(r.region, regions[s->attr % 8], sizeof(r.region));
        (void)hz_strlcpy(r.browser, browsers[s->attr % 5], sizeof(r.browser));
        (void)hz_strlcpy(r.os, oses[s->attr / 5 % 5], sizeof(r.os));
        (void)hz_strlcpy(r.device, devices[s->attr / 25 % 3], sizeof(r.device));
        if (i % 5000 == 4999) {
            r.kind = HZ_KIND_DROPS;
            (void)hz_strlcpy(r.page, "/", sizeof(r.page));
            (void)hz_strlcpy(r.name, "bot", sizeof(r.name));
            r.ms = 1 + xr() % 40;
            r.vh[0] = '\0';
        } else if (s->page[0] != '\0' && k < 22) {
            r.kind = HZ_KIND_ENGAGEMENT;
            (void)hz_strlcpy(r.page, s->page, sizeof(r.page));
            r.ms = 500 + xr() % 180000;
        } else if (s->page[0] != '\0' && k < 28) {
            r.kind = HZ_KIND_EVENT;
            (void)hz_strlcpy(r.page, s->page, sizeof(r.page));
            (void)hz_strlcpy(r.name, events[xr() % 4], sizeof(r.name));
        } else {
            static const char *const funnel[] = {"/cart", "/checkout", "/thanks"};
            r.kind = HZ_KIND_PAGEVIEW;
            if (s->step > 0 && s->step <= 3 && xr() % 100 < 60) {
                (void)hz_strlcpy(r.page, funnel[s->step - 1], sizeof(r.page));
                s->step++;
            } else {
                int p = zipf();
                path_of(p, r.page, sizeof(r.page));
                if (p > 0 && p < 400 && xr() % 4 == 0)
                    s->step = 1;
            }
            r.pixel = s->attr % 20 == 0;
            (void)hz_strlcpy(s->page, r.page, sizeof(s->page));
            if (--s->left <= 0)
                slot_new(s);
        }
        int argc = 0;
        argv[argc] = "XADD";
        lens[argc++] = 4;
        argv[argc] = stream;
        lens[argc++] = strlen(stream);
        argv[argc] = "*";
        lens[argc++] = 1;
        if (multi) {
            /* the multi-field form, as collectors wrote it before */
            int nf = hz_record_fields(&r, f, num);
            for (int j = 0; j < nf; j++) {
                argv[argc] = f[j].name;
                lens[argc++] = strlen(f[j].name);
                argv[argc] = f[j].val;
                lens[argc++] = f[j].vlen;
            }
        } else {
            argv[argc] = HZ_RECORD_KEY;
            lens[argc++] = strlen(HZ_RECORD_KEY);
            argv[argc] = (const char *)packed;
            lens[argc++] = hz_record_pack(&r, packed);
        }
        if (hz_rs_append(rs, argc, argv, lens) != 0)
            return fprintf(stderr, "fill: append failed\n"), 1;
        if (++queued == 2000 || i == n - 1) {
            for (long q = 0; q < queued; q++) {
                hz_rs_reply *rep;
                if (hz_rs_get(rs, &rep, &e) != 0)
                    return fprintf(stderr, "fill: %s\n", e.msg), 1;
                hz_rs_reply_free(rep);
            }
            queued = 0;
        }
    }
    hz_rs_close(rs);
    return 0;
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
lmdb_rate(const char *dir, double seconds)
{
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;
    uint64_t incs = 0;
    double t0, t;

    if (mdb_env_create(&env) || mdb_env_set_mapsize(env, 1UL << 30) ||
        mdb_env_open(env, dir, 0, 0600))
        return fprintf(stderr, "lmdb: cannot open %s\n", dir), 1;
    mdb_txn_begin(env, NULL, 0, &txn);
    mdb_dbi_open(txn, NULL, 0, &dbi);
    mdb_txn_commit(txn);
    zipf_init();
    t0 = now_s();
    do {
        if (mdb_txn_begin(env, NULL, 0, &txn) != 0)
            return 1;
        for (int i = 0; i < 5000; i++) {
            char kb[64];
            uint64_t cnt[8] = {0};
            int kl = snprintf(kb, sizeof(kb), "bench.test\001d\002%08d/page-%d", 20000,
                              (int)(xr() % 20000));
            MDB_val k = {(size_t)kl, kb}, v;
            if (mdb_get(txn, dbi, &k, &v) == 0 && v.mv_size == sizeof(cnt))
                memcpy(cnt, v.mv_data, sizeof(cnt));
            cnt[0]++;
            cnt[2]++;
            v.mv_size = sizeof(cnt);
            v.mv_data = cnt;
            if (mdb_put(txn, dbi, &k, &v, 0) != 0)
                return 1;
            incs++;
        }
        if (mdb_txn_commit(txn) != 0)
            return 1;
        t = now_s();
    } while (t - t0 < seconds);
    printf("%.0f\n", (double)incs / (t - t0));
    mdb_env_close(env);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "fill") == 0)
        return fill(argv[2], argv[3], atol(argv[4]), argv[5]);
    if (argc == 4 && strcmp(argv[1], "lmdb") == 0)
        return lmdb_rate(argv[2], atof(argv[3]));
    fprintf(stderr, "usage: agg_bench fill ADDR STREAM N SITE | lmdb DIR SECONDS\n");
    return 2;
}
