/* SPDX-License-Identifier: MIT */
/*
 * agg_fold_test.c - a scripted set of visits, XADDed to a private Redis and
 * folded by the aggregator, read back through the store API and compared
 * with an answer computed by hand (the comments show the arithmetic).
 *
 * Site shop.test (UTC), T0 = today 10:00 UTC; offsets in seconds:
 *   A (news.example, DE-BY, Firefox/Linux/desktop):
 *     pv / @0, pv /products/1 @60, en /products/1 25 s @90, pv /cart @120,
 *     pv /checkout @300, pv /thanks @360, ev Purchase @365, pv / @7200
 *   B (direct, FR, Chrome/Android/mobile):
 *     pv / @10, pv /products/2 @2410, pv /cart @2440
 *   C (search.example cpc/spring, DE-BE, Firefox/Linux/desktop), pixel:
 *     pv / @20, pv /about @65, pv /about @2465
 *   D (direct, no region, Safari/iOS/mobile):
 *     ev Signup @30 (no visit yet), pv /pricing @40, ev Signup @50,
 *     en /pricing 0.5 s @55
 * Visits (30 min session): A1 (5 pv, 365 s), A2 (1), B1 (1), B2 (2, 30 s),
 * C1 (2, 45 s), C2 (1), D1 (1, 15 s) = 7 visits, 4 non-bounces (D1 by its
 * interactive Signup event, as Plausible counts engagement).
 */
#include <criterion/criterion.h>

#include <signal.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregator/consume.h"
#include "common/cfg.h"
#include "common/store.h"
#include "common/str.h"
#include "common/tz.h"
#include "tests/integration/harness.h"

TestSuite(agg_fold, .fini = ht_cleanup);

#define VA     "aaaaaaaaaaaaaaaa"
#define VB     "bbbbbbbbbbbbbbbb"
#define VC     "cccccccccccccccc"
#define VD     "dddddddddddddddd"
#define SITE   "shop.test"
#define STREAM "fold:events"

static uint64_t t0;
static int32_t day0;

/* ------------------------------------------------------------ rows */

struct fx_rows {
    int n;
    char v[32][64];
    struct hz_counts c[32];
};

static void
fx_rows_cb(const char *value, size_t vlen, const struct hz_counts *c, void *arg)
{
    struct fx_rows *r = arg;
    cr_assert_lt(r->n, 32);
    cr_assert_lt(vlen, 64);
    memcpy(r->v[r->n], value, vlen + 1);
    r->c[r->n++] = *c;
}

static struct hz_counts
fx_row(const struct fx_rows *r, const char *v)
{
    struct hz_counts z;
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->v[i], v) == 0)
            return r->c[i];
    memset(&z, 0, sizeof(z));
    return z;
}

static struct fx_rows
fx_dim(hz_rtxn *t, enum hz_dim dim)
{
    struct fx_rows r;
    memset(&r, 0, sizeof(r));
    cr_assert_eq(hz_store_dim(t, SITE, dim, day0, day0, fx_rows_cb, &r), 0);
    return r;
}

/* Asserts one row: visitors, visits, pageviews, nonbounce, duration. */
static void
fx_expect(const struct fx_rows *r, const char *v, uint64_t visitors, uint64_t visits, uint64_t pv,
          uint64_t nonbounce, uint64_t dur)
{
    struct hz_counts c = fx_row(r, v);
    cr_expect_eq(c.visitors, visitors, "%s visitors %llu", v, (unsigned long long)c.visitors);
    cr_expect_eq(c.visits, visits, "%s visits %llu", v, (unsigned long long)c.visits);
    cr_expect_eq(c.pageviews, pv, "%s pageviews %llu", v, (unsigned long long)c.pageviews);
    cr_expect_eq(c.nonbounce, nonbounce, "%s nonbounce %llu", v, (unsigned long long)c.nonbounce);
    cr_expect_eq(c.duration_ms, dur, "%s duration %llu", v, (unsigned long long)c.duration_ms);
}

/* ------------------------------------------------------------ script */

/* 0: every entry in the multi-field form (as written before the compact
 * form existed); 1: alternately multi-field and compact, in one stream (a
 * stream across an upgrade of the collectors). */
static int fx_mixed;

static void
fx_add(hz_rs *rs, const struct hz_record *r, int n)
{
    if (fx_mixed && n % 2 == 1)
        ht_xadd_packed(rs, STREAM, r);
    else
        ht_xadd(rs, STREAM, r);
}

static void
fx_pv(hz_rs *rs, const char *vh, int sec, const char *page, int *n)
{
    struct hz_record r = ht_rec(HZ_KIND_PAGEVIEW, t0 + (uint64_t)sec * 1000, SITE, page, vh);
    if (strcmp(vh, VA) == 0) {
        (void)hz_strlcpy(r.source, "news.example", sizeof(r.source));
        (void)hz_strlcpy(r.region, "DE-BY", sizeof(r.region));
    } else if (strcmp(vh, VB) == 0) {
        (void)hz_strlcpy(r.region, "FR", sizeof(r.region));
        (void)hz_strlcpy(r.browser, "Chrome", sizeof(r.browser));
        (void)hz_strlcpy(r.os, "Android", sizeof(r.os));
        (void)hz_strlcpy(r.device, "mobile", sizeof(r.device));
    } else if (strcmp(vh, VC) == 0) {
        (void)hz_strlcpy(r.source, "search.example", sizeof(r.source));
        (void)hz_strlcpy(r.utm_medium, "cpc", sizeof(r.utm_medium));
        (void)hz_strlcpy(r.utm_campaign, "spring", sizeof(r.utm_campaign));
        (void)hz_strlcpy(r.region, "DE-BE", sizeof(r.region));
        r.pixel = 1;
    } else {
        (void)hz_strlcpy(r.browser, "Safari", sizeof(r.browser));
        (void)hz_strlcpy(r.os, "iOS", sizeof(r.os));
        (void)hz_strlcpy(r.device, "mobile", sizeof(r.device));
    }
    fx_add(rs, &r, *n);
    (*n)++;
}

static void
fx_ev(hz_rs *rs, const char *vh, int sec, const char *page, const char *name, int *n)
{
    struct hz_record r = ht_rec(HZ_KIND_EVENT, t0 + (uint64_t)sec * 1000, SITE, page, vh);
    (void)hz_strlcpy(r.name, name, sizeof(r.name));
    fx_add(rs, &r, *n);
    (*n)++;
}

static void
fx_en(hz_rs *rs, const char *vh, int sec, const char *page, uint64_t ms, int *n)
{
    struct hz_record r = ht_rec(HZ_KIND_ENGAGEMENT, t0 + (uint64_t)sec * 1000, SITE, page, vh);
    r.ms = ms;
    fx_add(rs, &r, *n);
    (*n)++;
}

static void
fx_drop(hz_rs *rs, const char *site, const char *reason, uint64_t count, int *n)
{
    struct hz_record r;
    memset(&r, 0, sizeof(r));
    r.kind = HZ_KIND_DROPS;
    r.t_ms = t0;
    (void)hz_strlcpy(r.site, site, sizeof(r.site));
    (void)hz_strlcpy(r.page, "/", sizeof(r.page));
    (void)hz_strlcpy(r.name, reason, sizeof(r.name));
    r.ms = count;
    fx_add(rs, &r, *n);
    (*n)++;
}

static void
fx_script(hz_rs *rs)
{
    int n = 0;

    /* In time order, as collectors would add them. */
    fx_pv(rs, VA, 0, "/", &n);
    fx_pv(rs, VB, 10, "/", &n);
    fx_pv(rs, VC, 20, "/", &n);
    fx_ev(rs, VD, 30, "/pricing", "Signup", &n);
    fx_pv(rs, VD, 40, "/pricing", &n);
    fx_ev(rs, VD, 50, "/pricing", "Signup", &n);
    fx_en(rs, VD, 55, "/pricing", 500, &n);
    fx_pv(rs, VA, 60, "/products/1", &n);
    fx_pv(rs, VC, 65, "/about", &n);
    fx_en(rs, VA, 90, "/products/1", 25000, &n);
    fx_pv(rs, VA, 120, "/cart", &n);
    fx_pv(rs, VA, 300, "/checkout", &n);
    fx_pv(rs, VA, 360, "/thanks", &n);
    fx_ev(rs, VA, 365, "/thanks", "Purchase", &n);
    fx_pv(rs, VB, 2410, "/products/2", &n);
    fx_pv(rs, VB, 2440, "/cart", &n);
    fx_pv(rs, VC, 2465, "/about", &n);
    fx_pv(rs, VA, 7200, "/", &n);
    fx_drop(rs, SITE, "bot", 7, &n);
    fx_drop(rs, "*", "unknown_site", 3, &n);
    struct hz_record u = ht_rec(HZ_KIND_PAGEVIEW, t0, "other.test", "/", VA);
    fx_add(rs, &u, n);
    n++;
    ht_flush(rs, n);
}

static const char fx_sites[] = "[site shop.test]\ntimezone = UTC\n"
                               "funnel = checkout: /products/* > /cart > /checkout > /thanks\n"
                               "funnel = signup: /pricing > Signup\n";

/* ------------------------------------------------------------ checks */

struct fx_hours {
    int n;
    int32_t p[4];
    struct hz_counts c[4];
};

static void
fx_hours_cb(int32_t period, const struct hz_counts *c, void *arg)
{
    struct fx_hours *h = arg;
    cr_assert_lt(h->n, 4);
    h->p[h->n] = period;
    h->c[h->n++] = *c;
}

struct fx_trans {
    int n;
    char pair[16][128];
    uint64_t c[16];
};

static void
fx_trans_cb(const char *from, size_t fl, const char *to, size_t tl, uint64_t n, void *arg)
{
    struct fx_trans *x = arg;
    cr_assert_lt(x->n, 16);
    (void)snprintf(x->pair[x->n], sizeof(x->pair[0]), "%.*s>%.*s", (int)fl, from, (int)tl, to);
    x->c[x->n++] = n;
}

static void
fx_check(hz_rtxn *t)
{
    struct hz_counts tot;
    cr_assert_eq(hz_store_totals(t, SITE, day0, day0, &tot), 0);
    /* visitors A B C D; 7 visits; 6+3+3+1 pageviews; A1 B2 C1 D1 non-bounce;
     * duration 365 + 30 + 45 + 15 s. */
    cr_expect_eq(tot.visitors, 4);
    cr_expect_eq(tot.visits, 7);
    cr_expect_eq(tot.pageviews, 13);
    cr_expect_eq(tot.nonbounce, 4, "bounces = 7 - 4 = 3");
    cr_expect_eq(tot.duration_ms, 455000);

    /* Pages: pageviews, visitors, visits; outs give exits. */
    struct fx_rows p = fx_dim(t, HZ_DIM_PAGE);
    cr_expect_eq(p.n, 8);
    struct {
        const char *page;
        uint64_t pv, visitors, visits, outs, engaged, samples;
    } pages[] = {
        {"/", 4, 3, 4, 2, 45000, 1}, /* A A B C; C's pixel gap 45 s */
        {"/products/1", 1, 1, 1, 1, 25000, 1},
        {"/cart", 2, 2, 2, 1, 0, 0}, /* B's /cart is an exit */
        {"/checkout", 1, 1, 1, 1, 0, 0},
        {"/thanks", 1, 1, 1, 0, 0, 0},
        {"/products/2", 1, 1, 1, 1, 0, 0},
        {"/about", 2, 1, 2, 0, 0, 0}, /* both C visits end here: no sample */
        {"/pricing", 1, 1, 1, 0, 500, 1},
    };
    uint64_t exits = 0;
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        struct hz_counts c = fx_row(&p, pages[i].page);
        cr_expect_eq(c.pageviews, pages[i].pv, "%s pv", pages[i].page);
        cr_expect_eq(c.visitors, pages[i].visitors, "%s visitors", pages[i].page);
        cr_expect_eq(c.visits, pages[i].visits, "%s visits", pages[i].page);
        cr_expect_eq(c.outs, pages[i].outs, "%s outs", pages[i].page);
        cr_expect_eq(c.engaged_ms, pages[i].engaged, "%s engaged", pages[i].page);
        cr_expect_eq(c.events, pages[i].samples, "%s samples", pages[i].page);
        exits += c.pageviews - c.outs;
    }
    cr_expect_eq(exits, 7, "one exit per visit");

    /* Entries (visit-level: visits = entries). */
    struct fx_rows e = fx_dim(t, HZ_DIM_ENTRY);
    cr_expect_eq(e.n, 4);
    fx_expect(&e, "/", 3, 4, 9, 2, 410000);
    fx_expect(&e, "/products/2", 1, 1, 2, 1, 30000);
    fx_expect(&e, "/about", 1, 1, 1, 0, 0);
    fx_expect(&e, "/pricing", 1, 1, 1, 1, 15000);

    struct fx_rows s = fx_dim(t, HZ_DIM_SOURCE);
    cr_expect_eq(s.n, 3);
    fx_expect(&s, "news.example", 1, 2, 6, 1, 365000);
    fx_expect(&s, "Direct / None", 2, 3, 4, 2, 45000);
    fx_expect(&s, "search.example", 1, 2, 3, 1, 45000);
    struct fx_rows us = fx_dim(t, HZ_DIM_UTM_SOURCE);
    cr_expect_eq(us.n, 1);
    fx_expect(&us, "search.example", 1, 2, 3, 1, 45000);
    struct fx_rows um = fx_dim(t, HZ_DIM_UTM_MEDIUM);
    fx_expect(&um, "cpc", 1, 2, 3, 1, 45000);
    struct fx_rows uc = fx_dim(t, HZ_DIM_UTM_CAMPAIGN);
    fx_expect(&uc, "spring", 1, 2, 3, 1, 45000);

    struct fx_rows co = fx_dim(t, HZ_DIM_COUNTRY);
    cr_expect_eq(co.n, 2, "D has no region");
    fx_expect(&co, "DE", 2, 4, 9, 2, 410000);
    fx_expect(&co, "FR", 1, 2, 3, 1, 30000);
    struct fx_rows rg = fx_dim(t, HZ_DIM_REGION);
    cr_expect_eq(rg.n, 2, "FR has no subdivision");
    fx_expect(&rg, "DE-BY", 1, 2, 6, 1, 365000);
    fx_expect(&rg, "DE-BE", 1, 2, 3, 1, 45000);

    struct fx_rows br = fx_dim(t, HZ_DIM_BROWSER);
    fx_expect(&br, "Firefox", 2, 4, 9, 2, 410000);
    fx_expect(&br, "Chrome", 1, 2, 3, 1, 30000);
    fx_expect(&br, "Safari", 1, 1, 1, 1, 15000);
    struct fx_rows os = fx_dim(t, HZ_DIM_OS);
    fx_expect(&os, "Linux", 2, 4, 9, 2, 410000);
    fx_expect(&os, "iOS", 1, 1, 1, 1, 15000);
    struct fx_rows dv = fx_dim(t, HZ_DIM_DEVICE);
    fx_expect(&dv, "desktop", 2, 4, 9, 2, 410000);
    fx_expect(&dv, "mobile", 2, 3, 4, 2, 45000);

    /* Transitions, on the later pageview's day. */
    struct fx_trans tr;
    memset(&tr, 0, sizeof(tr));
    cr_assert_eq(hz_store_transitions(t, SITE, day0, day0, fx_trans_cb, &tr), 0);
    cr_expect_eq(tr.n, 6);
    const char *pairs[] = {"/>/products/1",     "/products/1>/cart", "/cart>/checkout",
                           "/checkout>/thanks", "/products/2>/cart", "/>/about"};
    for (size_t i = 0; i < 6; i++) {
        int found = 0;
        for (int k = 0; k < tr.n; k++)
            found |= strcmp(tr.pair[k], pairs[i]) == 0 && tr.c[k] == 1;
        cr_expect(found, "transition %s", pairs[i]);
    }

    /* Custom events: D's first Signup had no visit. */
    struct fx_rows ev = fx_dim(t, HZ_DIM_EVENT);
    cr_expect_eq(ev.n, 2);
    cr_expect_eq(fx_row(&ev, "Signup").events, 2);
    cr_expect_eq(fx_row(&ev, "Signup").visitors, 1);
    cr_expect_eq(fx_row(&ev, "Signup").visits, 1);
    cr_expect_eq(fx_row(&ev, "Purchase").events, 1);
    cr_expect_eq(fx_row(&ev, "Purchase").visits, 1);

    /* Engaged time: 25 s -> bucket 5 [16,32), 45 s -> 6 [32,64), 0.5 s -> 0. */
    uint64_t h[HZ_HIST_BUCKETS];
    cr_assert_eq(hz_store_hist(t, SITE, "", day0, day0, h), 0);
    uint64_t want[HZ_HIST_BUCKETS] = {1, 0, 0, 0, 0, 1, 1};
    cr_expect_arr_eq(h, want, sizeof(h));
    cr_assert_eq(hz_store_hist(t, SITE, "/", day0, day0, h), 0);
    cr_expect_eq(h[6], 1);

    /* Funnels: checkout A1 (60 s, 180 s, 60 s), B2 (30 s) drops at /cart. */
    struct hz_funnel_step_counts f[4];
    cr_assert_eq(hz_store_funnel(t, SITE, "checkout", 4, day0, day0, f), 0);
    cr_expect_eq(f[0].visitors, 2);
    cr_expect_eq(f[1].visitors, 2);
    cr_expect_eq(f[1].hist[6], 1);
    cr_expect_eq(f[1].hist[5], 1);
    cr_expect_eq(f[2].visitors, 1);
    cr_expect_eq(f[2].hist[8], 1);
    cr_expect_eq(f[3].visitors, 1);
    cr_expect_eq(f[3].hist[6], 1);
    cr_assert_eq(hz_store_funnel(t, SITE, "signup", 2, day0, day0, f), 0);
    cr_expect_eq(f[0].visitors, 1);
    cr_expect_eq(f[1].visitors, 1, "the event step, 10 s later");
    cr_expect_eq(f[1].hist[4], 1);

    /* Hours: 10:00 has A B C D and every visit but A2. */
    int32_t h10 = day0 * 24 + 10;
    struct fx_hours hs;
    memset(&hs, 0, sizeof(hs));
    cr_assert_eq(hz_store_hours(t, SITE, h10, h10 + 5, fx_hours_cb, &hs), 0);
    cr_expect_eq(hs.n, 2);
    cr_expect_eq(hs.p[0], h10);
    cr_expect_eq(hs.c[0].visitors, 4);
    cr_expect_eq(hs.c[0].visits, 6);
    cr_expect_eq(hs.c[0].pageviews, 12);
    cr_expect_eq(hs.p[1], h10 + 2);
    cr_expect_eq(hs.c[1].visitors, 1);
    cr_expect_eq(hs.c[1].visits, 1);

    /* Drops: the collector's summaries, and our unknown site. */
    struct fx_rows d = fx_dim(t, HZ_DIM_DROP);
    cr_expect_eq(fx_row(&d, "bot").events, 7);
    struct fx_rows dstar;
    memset(&dstar, 0, sizeof(dstar));
    /* (unknown sites count on the day they were read: today) */
    cr_assert_eq(
        hz_store_dim(t, "*", HZ_DIM_DROP, day0, (int32_t)(time(NULL) / 86400), fx_rows_cb, &dstar),
        0);
    cr_expect_eq(fx_row(&dstar, "unknown_site").events, 4);
}

/* ------------------------------------------------------------ tests */

static void
fx_setup(struct ht_redis *r, char dir[64], char ini[256])
{
    time_t now = time(NULL);

    /* Yesterday when today's 12:00 UTC (the script's last hit) is not past:
     * hits ahead of now are not counted. */
    day0 = (int32_t)(now / 86400) - (now % 86400 < 12 * 3600 + 60 ? 1 : 0);
    t0 = ((uint64_t)day0 * 86400 + 10 * 3600) * 1000;
    cr_assert_eq(ht_redis_start(r, NULL, 0), 0, "redis-server did not start");
    ht_tmpdir(dir);
    ht_agg_config(ini, dir, r, STREAM, 4, fx_sites);
}

static void fx_in_process(void);

/* In process, in small batches (4 entries) so visits span batches. */
Test(agg_fold, scripted_visits_in_process, .timeout = 60)
{
    fx_mixed = 0;
    fx_in_process();
}

/* The same script with old (multi-field) and compact entries mixed in one
 * stream: the same answer. */
Test(agg_fold, mixed_record_forms_in_one_stream, .timeout = 60)
{
    fx_mixed = 1;
    fx_in_process();
}

static void
fx_in_process(void)
{
    struct ht_redis r;
    char dir[64], ini[256];
    static struct hz_config cfg;
    struct hz_err e = {0};
    hz_agg *a;
    hz_rtxn *t;

    fx_setup(&r, dir, ini);
    hz_rs *rs = ht_rs_connect(&r);
    fx_script(rs);
    cr_assert_eq(hz_cfg_load(&cfg, ini, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_open(&a, &cfg, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_agg_drain(a, &e), 0, "%s", e.msg);
    cr_expect_eq(hz_agg_stats(a)->applied, 20);
    cr_expect_eq(hz_agg_stats(a)->unknown_site, 1);
    cr_expect_eq(hz_agg_stats(a)->malformed, 0);
    cr_assert_eq(hz_store_rbegin(hz_agg_store(a), &t, &e), 0, "%s", e.msg);
    fx_check(t);
    hz_store_rend(t);

    /* Acknowledged and trimmed; no undo record left behind. */
    const char *xlen[] = {"XLEN", STREAM};
    cr_expect_eq(ht_cmd(rs, 2, xlen), 0);
    const char *undo[] = {"EXISTS", "haze:agg:undo:" STREAM};
    cr_expect_eq(ht_cmd(rs, 2, undo), 0);
    /* Visitor state is in Redis, with a TTL. */
    const char *ttl[] = {"PTTL", STREAM ":v:" SITE ":" VA};
    long long ms = ht_cmd(rs, 2, ttl);
    cr_expect(ms > 30 * 60000LL && ms <= 86400000LL + 30 * 60000LL, "pttl %lld", ms);

    /* Draining again changes nothing. */
    cr_assert_eq(hz_agg_drain(a, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_store_rbegin(hz_agg_store(a), &t, &e), 0, "%s", e.msg);
    fx_check(t);
    hz_store_rend(t);
    hz_agg_close(a);
    hz_rs_close(rs);
    ht_redis_stop(&r, 0);
    ht_rmdir(dir);
}

/* The real binary: -t, then a run stopped by SIGTERM, then read back. */
Test(agg_fold, scripted_visits_real_binary, .timeout = 60)
{
    struct ht_redis r;
    char dir[64], ini[256], bin[256], log[320];
    struct hz_err e = {0};

    fx_setup(&r, dir, ini);
    hz_rs *rs = ht_rs_connect(&r);
    fx_script(rs);
    ht_bin(bin, "haze-aggregator");
    (void)snprintf(log, sizeof(log), "%s/agg.log", dir);
    const char *targv[] = {bin, "-t", "-c", ini, NULL};
    cr_assert_eq(ht_waitpid(ht_run(targv, log), 10000), 0, "-t");
    const char *argv[] = {bin, "-c", ini, NULL};
    pid_t pid = ht_run(argv, log);
    /* Wait until the stream is drained. */
    const char *xlen[] = {"XLEN", STREAM};
    for (int i = 0; i < 400 && ht_cmd(rs, 2, xlen) != 0; i++) {
        struct timespec ts = {0, 25000000};
        (void)nanosleep(&ts, NULL);
    }
    cr_assert_eq(ht_cmd(rs, 2, xlen), 0, "the aggregator drained the stream");
    kill(pid, SIGTERM);
    cr_assert_eq(ht_waitpid(pid, 10000), 0, "SIGTERM: exit 0");

    hz_store *s;
    hz_rtxn *t;
    char db[128];
    (void)snprintf(db, sizeof(db), "%s/db", dir);
    cr_assert_eq(hz_store_open(&s, db, 1, 0, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_store_rbegin(s, &t, &e), 0, "%s", e.msg);
    fx_check(t);
    hz_store_rend(t);
    hz_store_close(s);
    size_t len = 0;
    char *text = NULL;
    FILE *f = fopen(log, "r");
    cr_assert_not_null(f);
    text = calloc(1, 65536);
    len = fread(text, 1, 65535, f);
    fclose(f);
    cr_expect(strstr(text, "configuration OK") != NULL, "-t prints configuration OK");
    cr_expect(strstr(text, VA) == NULL, "no visitor hash in the log (%zu bytes)", len);
    free(text);
    hz_rs_close(rs);
    ht_redis_stop(&r, 0);
    ht_rmdir(dir);
}
