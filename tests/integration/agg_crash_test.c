/* SPDX-License-Identifier: MIT */
/*
 * agg_crash_test.c - exactly once under kill -9. The same 200,000 entries
 * (two sites, one in Europe/Berlin, funnels, pixel pages, engagement,
 * custom events, drop summaries, some malformed entries, midnight hash
 * changes) go to two streams. Run B folds its stream undisturbed. Run A's
 * entries arrive in chunks while the real haze-aggregator is killed with
 * SIGKILL at random moments and restarted, again and again. At the end
 * every row of every dimension, every histogram, funnel, transition, hour
 * and day of A's store equals B's, and A's applied id log holds the hit id
 * of every entry that had one (common/idlog.h) while its stream is empty.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/store.h"
#include "common/str.h"
#include "tests/integration/harness.h"

TestSuite(agg_crash, .fini = ht_cleanup);

#define N_ENTRIES  200000
#define N_CHUNKS   20
#define N_VISITORS 600
#define N_PAGES    150

static const char crash_sites[] = "[site a.test]\ntimezone = UTC\n"
                                  "funnel = checkout: /products/* > /cart > /checkout > /thanks\n"
                                  "funnel = signup: /pricing > Signup\n\n"
                                  "[site b.test]\ntimezone = Europe/Berlin\n"
                                  "funnel = read: /blog/* > /newsletter > Subscribe\n";

/* ------------------------------------------------------------ generator */

struct gen {
    uint64_t rng;
    uint64_t i;
    uint64_t t0;
};

static uint32_t
gen_next(struct gen *g)
{
    g->rng = g->rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(g->rng >> 33);
}

static const char *const g_sources[] = {"", "", "news.example", "search.example", "social.example"};
static const char *const g_regions[] = {"DE-BY", "DE-BE", "FR-IDF", "US-CA", "CN-JS", "GB", ""};
static const char *const g_browsers[] = {"Chrome", "Firefox", "Safari", "Edge"};
static const char *const g_os[] = {"Windows", "macOS", "Linux", "Android", "iOS"};
static const char *const g_devices[] = {"desktop", "mobile", "tablet"};
static const char *const g_events[] = {"Signup", "Purchase", "Download", "Subscribe"};

static void
gen_page(struct gen *g, char *out, size_t cap)
{
    uint32_t r = gen_next(g) % 1000;
    uint32_t k = (uint32_t)((uint64_t)r * r / 1000 / 7) % N_PAGES; /* skewed to low k */
    static const char *const fixed[] = {"/",        "/cart",       "/checkout", "/thanks",
                                        "/pricing", "/newsletter", "/about"};
    if (k < 7)
        (void)hz_strlcpy(out, fixed[k], cap);
    else if (k < 90)
        (void)snprintf(out, cap, "/products/%u", k);
    else
        (void)snprintf(out, cap, "/blog/post-%u", k);
}

/* The hit id of the i-th entry (counted from 1). */
static unsigned long long
gen_id(uint64_t i)
{
    return (unsigned long long)(i * 0x9E3779B97F4A7C15ULL);
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The i-th entry: a record (0) or a malformed raw entry (1). */
static int
gen_entry(struct gen *g, struct hz_record *r)
{
    uint32_t v = gen_next(g) % N_VISITORS, kind = gen_next(g) % 1000;
    uint64_t t = g->t0 + g->i * 30;

    g->i++;
    memset(r, 0, sizeof(*r));
    if (kind < 5)
        return 1;
    r->t_ms = t;
    (void)hz_strlcpy(r->site, v % 3 == 0 ? "b.test" : "a.test", sizeof(r->site));
    (void)snprintf(r->vh, sizeof(r->vh), "%016x", v * 2654435761u);
    /* Around "midnight" of the hash: a tenth of the visitors get a new hash
     * half-way, with the old one as vp for a while. */
    if (v % 10 == 0 && g->i > N_ENTRIES / 2) {
        (void)snprintf(r->vh, sizeof(r->vh), "%016x", v * 2246822519u + 7);
        if (g->i < N_ENTRIES / 2 + 20000)
            (void)snprintf(r->vp, sizeof(r->vp), "%016x", v * 2654435761u);
    }
    (void)hz_strlcpy(r->source, g_sources[v % 5], sizeof(r->source));
    if (v % 7 == 0) {
        (void)hz_strlcpy(r->source, "ads.example", sizeof(r->source));
        (void)hz_strlcpy(r->utm_medium, "cpc", sizeof(r->utm_medium));
        (void)hz_strlcpy(r->utm_campaign, v % 2 ? "spring" : "fall", sizeof(r->utm_campaign));
    }
    (void)hz_strlcpy(r->region, g_regions[v % 7], sizeof(r->region));
    (void)hz_strlcpy(r->browser, g_browsers[v % 4], sizeof(r->browser));
    (void)hz_strlcpy(r->os, g_os[v % 5], sizeof(r->os));
    (void)hz_strlcpy(r->device, g_devices[v % 3], sizeof(r->device));
    gen_page(g, r->page, sizeof(r->page));
    if (kind < 15) {
        r->kind = HZ_KIND_DROPS;
        (void)hz_strlcpy(r->site, kind % 2 ? "*" : r->site, sizeof(r->site));
        (void)hz_strlcpy(r->name, kind % 3 ? "bot" : "dnt", sizeof(r->name));
        r->ms = 1 + kind;
        r->vh[0] = r->vp[0] = '\0';
    } else if (kind < 150) {
        r->kind = HZ_KIND_ENGAGEMENT;
        r->ms = (uint64_t)(gen_next(g) % 600000);
    } else if (kind < 230) {
        r->kind = HZ_KIND_EVENT;
        (void)hz_strlcpy(r->name, g_events[gen_next(g) % 4], sizeof(r->name));
    } else {
        r->kind = HZ_KIND_PAGEVIEW;
        r->pixel = v % 11 == 0;
    }
    if (r->kind != HZ_KIND_DROPS) /* a hit id of its own, from its number */
        (void)snprintf(r->id, sizeof(r->id), "%016llx", gen_id(g->i));
    return 0;
}

/* Queues the next n entries of g on stream; returns how many commands. */
static int
gen_push(hz_rs *rs, const char *stream, struct gen *g, int n)
{
    for (int i = 0; i < n; i++) {
        struct hz_record r;
        if (gen_entry(g, &r)) {
            const char *names[] = {"v", "t", "k", "s", "p"};
            const char *vals[] = {"1", "soon", "pv", "a.test", "/"};
            ht_xadd_raw(rs, stream, 5, names, vals, NULL);
        } else {
            ht_xadd(rs, stream, &r);
        }
    }
    return n;
}

/* Every hit id g made is in stream's applied id log (as often as the
 * aggregator applied its batch: once, or again after a kill), and nothing
 * else is. */
static void
crash_check_idlog(hz_rs *rs, const char *stream, struct gen g, int n)
{
    uint64_t *ids = NULL;
    long got = ht_idlog(rs, stream, &ids), want = 0, distinct = 0;
    struct hz_record r;

    cr_assert_geq(got, 1, "the id log of %s", stream);
    qsort(ids, (size_t)got, sizeof(*ids), cmp_u64);
    for (long i = 0; i < got; i++)
        distinct += i == 0 || ids[i] != ids[i - 1];
    for (int i = 0; i < n; i++) {
        if (gen_entry(&g, &r) != 0 || r.kind == HZ_KIND_DROPS)
            continue;
        uint64_t id = gen_id(g.i);
        want++;
        cr_assert_not_null(bsearch(&id, ids, (size_t)got, sizeof(*ids), cmp_u64),
                           "hit id of entry %llu is in the log", (unsigned long long)g.i);
    }
    cr_log_info("%s: %ld ids logged, %ld distinct, %ld hits", stream, got, distinct, want);
    cr_assert_eq(distinct, want, "the log holds the hits' ids and nothing else");
    free(ids);
}

/* ------------------------------------------------------------ dumping */

struct dump {
    char *buf;
    size_t len, cap;
};

static void
dump_add(struct dump *d, const char *line)
{
    size_t n = strlen(line);
    if (d->len + n + 1 > d->cap) {
        d->cap = (d->cap + n + 1) * 2;
        d->buf = realloc(d->buf, d->cap);
        cr_assert_not_null(d->buf);
    }
    memcpy(d->buf + d->len, line, n);
    d->len += n;
    d->buf[d->len++] = '\n';
}

static void
dump_row(const char *value, size_t vlen, const struct hz_counts *c, void *arg)
{
    char line[512];
    (void)snprintf(line, sizeof(line), "%.*s %llu %llu %llu %llu %llu %llu %llu %llu", (int)vlen,
                   value, (unsigned long long)c->visitors, (unsigned long long)c->visits,
                   (unsigned long long)c->pageviews, (unsigned long long)c->nonbounce,
                   (unsigned long long)c->duration_ms, (unsigned long long)c->outs,
                   (unsigned long long)c->events, (unsigned long long)c->engaged_ms);
    dump_add(arg, line);
}

static void
dump_period(int32_t p, const struct hz_counts *c, void *arg)
{
    char v[16];
    int n = snprintf(v, sizeof(v), "%d", p);
    dump_row(v, (size_t)n, c, arg);
}

static void
dump_hist(const char *page, size_t plen, const uint64_t h[HZ_HIST_BUCKETS], void *arg)
{
    char line[512];
    int off = snprintf(line, sizeof(line), "%.*s", (int)plen, page);
    for (int b = 0; b < HZ_HIST_BUCKETS; b++)
        off += snprintf(line + off, sizeof(line) - (size_t)off, " %llu", (unsigned long long)h[b]);
    dump_add(arg, line);
}

static void
dump_trans(const char *f, size_t fl, const char *t, size_t tl, uint64_t n, void *arg)
{
    char line[600];
    (void)snprintf(line, sizeof(line), "%.*s>%.*s %llu", (int)fl, f, (int)tl, t,
                   (unsigned long long)n);
    dump_add(arg, line);
}

static int
line_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the lines added since mark (callbacks come in no set order). */
static void
dump_sort_from(struct dump *d, size_t mark)
{
    char *seg = d->buf + mark, **lines;
    size_t n = 0, len = d->len - mark;
    char *copy = malloc(len + 1);

    cr_assert_not_null(copy);
    memcpy(copy, seg, len);
    copy[len] = '\0';
    for (size_t i = 0; i < len; i++)
        n += copy[i] == '\n';
    lines = calloc(n + 1, sizeof(*lines));
    size_t k = 0;
    for (char *p = copy; k < n; k++) {
        lines[k] = p;
        p = strchr(p, '\n');
        *p++ = '\0';
    }
    qsort(lines, n, sizeof(*lines), line_cmp);
    d->len = mark;
    for (size_t i = 0; i < n; i++)
        dump_add(d, lines[i]);
    free(lines);
    free(copy);
}

static void
dump_store(const char *db, int32_t from, int32_t to, struct dump *d)
{
    static const char *const sites[] = {"a.test", "b.test", "*"};
    static const struct {
        const char *name;
        int steps;
    } funnels[] = {{"checkout", 4}, {"signup", 2}, {"read", 3}};
    struct hz_err e = {0};
    hz_store *s;
    hz_rtxn *t;
    char head[128];

    cr_assert_eq(hz_store_open(&s, db, 1, 0, &e), 0, "%s", e.msg);
    cr_assert_eq(hz_store_rbegin(s, &t, &e), 0, "%s", e.msg);
    for (int si = 0; si < 3; si++) {
        for (int dim = 0; dim < HZ_DIM_COUNT; dim++) {
            (void)snprintf(head, sizeof(head), "== %s dim %d", sites[si], dim);
            dump_add(d, head);
            size_t mark = d->len;
            cr_assert_eq(hz_store_dim(t, sites[si], (enum hz_dim)dim, from, to, dump_row, d), 0);
            dump_sort_from(d, mark);
        }
        for (int32_t day = from; day <= to; day++) {
            (void)snprintf(head, sizeof(head), "== %s day %d", sites[si], day);
            dump_add(d, head);
            for (int dim = 0; dim < HZ_DIM_COUNT; dim++) {
                size_t mark = d->len;
                cr_assert_eq(hz_store_dim(t, sites[si], (enum hz_dim)dim, day, day, dump_row, d),
                             0);
                dump_sort_from(d, mark);
            }
        }
        (void)snprintf(head, sizeof(head), "== %s days/hours", sites[si]);
        dump_add(d, head);
        cr_assert_eq(hz_store_days(t, sites[si], from, to, dump_period, d), 0);
        cr_assert_eq(hz_store_hours(t, sites[si], from * 24, to * 24 + 23, dump_period, d), 0);
        (void)snprintf(head, sizeof(head), "== %s hists", sites[si]);
        dump_add(d, head);
        size_t mark = d->len;
        cr_assert_eq(hz_store_hists(t, sites[si], from, to, dump_hist, d), 0);
        dump_sort_from(d, mark);
        (void)snprintf(head, sizeof(head), "== %s transitions", sites[si]);
        dump_add(d, head);
        mark = d->len;
        cr_assert_eq(hz_store_transitions(t, sites[si], from, to, dump_trans, d), 0);
        dump_sort_from(d, mark);
        for (int f = 0; f < 3; f++) {
            struct hz_funnel_step_counts fc[4];
            cr_assert_eq(
                hz_store_funnel(t, sites[si], funnels[f].name, funnels[f].steps, from, to, fc), 0);
            for (int k = 0; k < funnels[f].steps; k++) {
                uint64_t h[HZ_HIST_BUCKETS];
                memcpy(h, fc[k].hist, sizeof(h));
                (void)snprintf(head, sizeof(head), "funnel %s %d %llu", funnels[f].name, k,
                               (unsigned long long)fc[k].visitors);
                dump_hist(head, strlen(head), h, d);
            }
        }
    }
    hz_store_rend(t);
    hz_store_close(s);
}

/* ------------------------------------------------------------ the test */

static void
crash_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    (void)nanosleep(&ts, NULL);
}

/* Waits until stream is empty (everything applied and trimmed). */
static int
crash_wait_drained(hz_rs *rs, const char *stream, int ms)
{
    const char *xlen[] = {"XLEN", stream};
    for (int i = 0; i < ms / 20; i++) {
        if (ht_cmd(rs, 2, xlen) == 0)
            return 0;
        crash_sleep_ms(20);
    }
    return -1;
}

/* Run B: one undisturbed aggregator over the whole stream, until drained. */
static void
crash_clean_run(hz_rs *rs, const char *bin, const char *ini, const char *log, const char *stream)
{
    const char *argv[] = {bin, "-c", ini, NULL};
    pid_t pid = ht_run(argv, log);
    cr_assert_eq(crash_wait_drained(rs, stream, 60000), 0, "%s drained", stream);
    kill(pid, SIGTERM);
    cr_assert_eq(ht_waitpid(pid, 10000), 0);
}

/* Every row of the stores under dira and dirb over the days from t0 on is
 * the same; otherwise fails naming the first line that differs. */
static void
crash_same_stores(const char *dira, const char *dirb, uint64_t t0)
{
    int32_t from = (int32_t)(t0 / 86400000) - 1, to = from + 3;
    struct dump da = {0}, dbb = {0};
    char db[128];

    (void)snprintf(db, sizeof(db), "%s/db", dira);
    dump_store(db, from, to, &da);
    (void)snprintf(db, sizeof(db), "%s/db", dirb);
    dump_store(db, from, to, &dbb);
    cr_assert_gt(dbb.len, 10000, "the dump has content");
    if (da.len != dbb.len || memcmp(da.buf, dbb.buf, da.len) != 0) {
        size_t i = 0, line = 0, ls = 0;
        while (i < da.len && i < dbb.len && da.buf[i] == dbb.buf[i]) {
            if (da.buf[i] == '\n') {
                line++;
                ls = i + 1;
            }
            i++;
        }
        cr_assert_fail("stores differ at line %zu:\n  disturbed: %.200s\n  clean:     %.200s", line,
                       da.buf + ls, dbb.buf + ls);
    }
    free(da.buf);
    free(dbb.buf);
}

Test(agg_crash, kill9_equals_uninterrupted, .timeout = 120 * HT_SAN_SLOWER)
{
    struct ht_redis r;
    char dira[64], dirb[64], inia[256], inib[256], bin[256], loga[320], logb[320];
    struct gen ga, gb;
    uint64_t t0 = ((uint64_t)time(NULL) - 7200) * 1000;
    struct timespec start, end;

    clock_gettime(CLOCK_MONOTONIC, &start);
    cr_assert_eq(ht_redis_start(&r, NULL, 0), 0);
    ht_tmpdir(dira);
    ht_tmpdir(dirb);
    /* A's id log outlives the test however slow it runs. */
    char extra[sizeof(crash_sites) + 64];
    (void)snprintf(extra, sizeof(extra), "stream_keep_seconds = 3600\n%s", crash_sites);
    ht_agg_config(inia, dira, &r, "crash:a", 1000, extra);
    ht_agg_config(inib, dirb, &r, "crash:b", 1000, crash_sites);
    ht_bin(bin, "haze-aggregator");
    (void)snprintf(loga, sizeof(loga), "%s/agg.log", dira);
    (void)snprintf(logb, sizeof(logb), "%s/agg.log", dirb);
    hz_rs *rs = ht_rs_connect(&r);
    ga = (struct gen){12345, 0, t0};
    gb = ga;

    /* B: everything first, then one undisturbed run. */
    for (int c = 0; c < N_CHUNKS; c++)
        ht_flush(rs, gen_push(rs, "crash:b", &gb, N_ENTRIES / N_CHUNKS));
    crash_clean_run(rs, bin, inib, logb, "crash:b");

    /* A: chunks arrive while the aggregator is killed and restarted. */
    const char *argva[] = {bin, "-c", inia, NULL};
    pid_t pa = ht_run(argva, loga);
    uint64_t rnd = (uint64_t)time(NULL) ^ (uint64_t)getpid();
    int kills = 0, busy_kills = 0;
    const char *xlen[] = {"XLEN", "crash:a"};
    for (int c = 0; c < N_CHUNKS || kills < 8; c++) {
        if (c < N_CHUNKS)
            ht_flush(rs, gen_push(rs, "crash:a", &ga, N_ENTRIES / N_CHUNKS));
        rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
        crash_sleep_ms(15 + (long)((rnd >> 33) % 120));
        busy_kills += ht_cmd(rs, 2, xlen) > 0;
        kill(pa, SIGKILL);
        cr_assert_eq(ht_waitpid(pa, 10000), 128 + SIGKILL);
        kills++;
        pa = ht_run(argva, loga);
        if (c > 200)
            break;
    }
    cr_assert_eq(crash_wait_drained(rs, "crash:a", 60000), 0, "run A drained");
    kill(pa, SIGTERM);
    cr_assert_eq(ht_waitpid(pa, 10000), 0);
    crash_check_idlog(rs, "crash:a", (struct gen){12345, 0, t0}, N_ENTRIES);
    size_t loglen = 0;
    int restored = 0;
    FILE *lf = fopen(loga, "r");
    cr_assert_not_null(lf);
    char text[512];
    while (fgets(text, sizeof(text), lf) != NULL) {
        loglen += strlen(text);
        restored += strstr(text, "restored visitor states") != NULL;
    }
    fclose(lf);
    cr_log_info("crash test: %d kills, %d while entries were waiting, %d undo restores", kills,
                busy_kills, restored);
    cr_assert_geq(busy_kills, 5, "killed while working at least 5 times (%d)", busy_kills);

    /* Compare everything over the days the entries cover. */
    crash_same_stores(dira, dirb, t0);
    clock_gettime(CLOCK_MONOTONIC, &end);
    cr_log_info("crash test took %.1f s",
                (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9);
    /* Under ASan the aggregator, the test's generator and its store
     * dumps all run several times slower. */
    cr_expect_lt(end.tv_sec - start.tv_sec, 60 * HT_SAN_SLOWER, "bounded in time");
    hz_rs_close(rs);
    ht_redis_stop(&r, 0);
    ht_rmdir(dira);
    ht_rmdir(dirb);
}

/* A Redis stall (SIGSTOP longer than the client timeout, twice) while the
 * real aggregator works: it reconnects, recovers and ends with the same
 * store as an undisturbed run. (A half-read reply at the moment of the
 * timeout once crashed the process.) */
Test(agg_crash, redis_stall_equals_uninterrupted, .timeout = 120)
{
    struct ht_redis r;
    char dira[64], dirb[64], inia[256], inib[256], bin[256], loga[320], logb[320];
    uint64_t t0 = ((uint64_t)time(NULL) - 7200) * 1000;
    const int n = 60000;

    cr_assert_eq(ht_redis_start(&r, NULL, 0), 0);
    ht_tmpdir(dira);
    ht_tmpdir(dirb);
    ht_agg_config(inia, dira, &r, "stall:a", 1000, crash_sites);
    ht_agg_config(inib, dirb, &r, "stall:b", 1000, crash_sites);
    ht_bin(bin, "haze-aggregator");
    (void)snprintf(loga, sizeof(loga), "%s/agg.log", dira);
    (void)snprintf(logb, sizeof(logb), "%s/agg.log", dirb);
    hz_rs *rs = ht_rs_connect(&r);
    struct gen ga = {777, 0, t0}, gb = ga;
    ht_flush(rs, gen_push(rs, "stall:b", &gb, n));
    crash_clean_run(rs, bin, inib, logb, "stall:b");

    ht_flush(rs, gen_push(rs, "stall:a", &ga, n));
    const char *argva[] = {bin, "-c", inia, NULL};
    pid_t pa = ht_run(argva, loga);
    for (int k = 0; k < 2; k++) {
        crash_sleep_ms(150);
        kill(r.pid, SIGSTOP);
        crash_sleep_ms(2600); /* past the 2 s client timeout */
        kill(r.pid, SIGCONT);
    }
    cr_assert_eq(crash_wait_drained(rs, "stall:a", 60000), 0, "run A drained");
    kill(pa, SIGTERM);
    cr_assert_eq(ht_waitpid(pa, 10000), 0, "alive and clean after the stalls");
    FILE *lf = fopen(loga, "r");
    char text[512];
    int retried = 0;
    cr_assert_not_null(lf);
    while (fgets(text, sizeof(text), lf) != NULL)
        retried += strstr(text, "redis is back") != NULL;
    fclose(lf);
    cr_log_info("stall test: %d reconnects", retried);

    crash_same_stores(dira, dirb, t0);
    hz_rs_close(rs);
    ht_redis_stop(&r, 0);
    ht_rmdir(dira);
    ht_rmdir(dirb);
}

/* The value after `field` in redis-cli --raw output (one item a line), or
 * "" when absent; the first match. */
static void
crash_field(const char *out, const char *field, char *val, size_t cap)
{
    char pat[64];
    const char *p;
    size_t n = 0;

    (void)snprintf(pat, sizeof(pat), "%s\n", field);
    val[0] = '\0';
    for (p = out; p != NULL && (p = strstr(p, pat)) != NULL; p++)
        if (p == out || p[-1] == '\n')
            break;
    if (p == NULL)
        return;
    p += strlen(pat);
    while (p[n] != '\0' && p[n] != '\n' && n + 1 < cap)
        n++;
    memcpy(val, p, n);
    val[n] = '\0';
}

/* An older aggregator read entries through the group without NOACK and
 * died before its XACK (a pending-entries list in Redis's memory); then
 * Redis is killed and restarted from its AOF while the aggregator works.
 * The store equals an undisturbed run's, the list is dropped, and the
 * group ends at the stream's last entry (it mirrors the committed
 * position: XINFO GROUPS shows nothing pending and no lag). */
Test(agg_crash, old_pending_list_and_redis_restart_equal_uninterrupted, .timeout = 120)
{
    struct ht_redis r;
    char rdir[64], dira[64], dirb[64], inia[256], inib[256], bin[256], loga[320], logb[320];
    char ldi[64], top[64], pend[32];
    uint64_t t0 = ((uint64_t)time(NULL) - 7200) * 1000;
    const int n = 40000;

    ht_tmpdir(rdir);
    cr_assert_eq(ht_redis_start(&r, rdir, 1), 0);
    ht_tmpdir(dira);
    ht_tmpdir(dirb);
    ht_agg_config(inia, dira, &r, "old:a", 1000, crash_sites);
    ht_agg_config(inib, dirb, &r, "old:b", 1000, crash_sites);
    ht_bin(bin, "haze-aggregator");
    (void)snprintf(loga, sizeof(loga), "%s/agg.log", dira);
    (void)snprintf(logb, sizeof(logb), "%s/agg.log", dirb);
    hz_rs *rs = ht_rs_connect(&r);
    struct gen ga = {4242, 0, t0}, gb = ga;
    ht_flush(rs, gen_push(rs, "old:b", &gb, n));
    crash_clean_run(rs, bin, inib, logb, "old:b");

    /* The older version's leftovers: 3000 entries read, none acknowledged. */
    ht_flush(rs, gen_push(rs, "old:a", &ga, n / 2));
    const char *create[] = {"XGROUP", "CREATE", "old:a", "haze-aggregator", "0"};
    const char *readg[] = {"XREADGROUP", "GROUP",   "haze-aggregator", "old", "COUNT",
                           "3000",       "STREAMS", "old:a",           ">"};
    cr_assert_eq(ht_cmd(rs, 5, create), 0);
    cr_assert_eq(ht_cmd(rs, 9, readg), 1);
    const char *argva[] = {bin, "-c", inia, NULL};
    pid_t pa = ht_run(argva, loga);
    ht_flush(rs, gen_push(rs, "old:a", &ga, n / 2));
    hz_rs_close(rs);
    crash_sleep_ms(300);
    ht_redis_stop(&r, 1);
    cr_assert_eq(ht_redis_start(&r, rdir, 1), 0, "redis restarts from its AOF");
    rs = ht_rs_connect(&r);
    cr_assert_eq(crash_wait_drained(rs, "old:a", 60000), 0, "run A drained");
    /* Step 6 follows the last commit when the stream goes idle. */
    const char *groups[] = {"XINFO", "GROUPS", "old:a", NULL};
    const char *stream[] = {"XINFO", "STREAM", "old:a", NULL};
    char *g = NULL, *s = NULL;
    for (int i = 0; i < 100; i++) {
        free(g);
        free(s);
        g = ht_redis_cli(&r, groups);
        s = ht_redis_cli(&r, stream);
        cr_assert(g != NULL && s != NULL);
        crash_field(g, "last-delivered-id", ldi, sizeof(ldi));
        crash_field(s, "last-generated-id", top, sizeof(top));
        if (ldi[0] != '\0' && strcmp(ldi, top) == 0)
            break;
        crash_sleep_ms(50);
    }
    crash_field(g, "pending", pend, sizeof(pend));
    cr_assert_str_eq(ldi, top, "the group mirrors the committed position: %s", g);
    cr_assert_str_eq(pend, "0", "no pending-entries list is left: %s", g);
    free(g);
    free(s);
    kill(pa, SIGTERM);
    cr_assert_eq(ht_waitpid(pa, 10000), 0);
    char *log = ht_slurp(loga, NULL);
    cr_assert_not_null(log);
    cr_assert_not_null(strstr(log, "redis is back"), "Redis went away while it worked: %s", log);
    free(log);

    crash_same_stores(dira, dirb, t0);
    hz_rs_close(rs);
    ht_redis_stop(&r, 0);
    ht_rmdir(rdir);
    ht_rmdir(dira);
    ht_rmdir(dirb);
}
