/* SPDX-License-Identifier: MIT */
/*
 * dash_fill.c - fills an LMDB folder with a year of aggregates for the
 * dashboard benchmark, through the store's write API (as the aggregator
 * would): 365 days ending on DAY (a local day number) for site SITE, with
 * PAGES distinct pages in all and ROWS page rows per day.
 *
 *   dash_fill DIR SITE DAY PAGES ROWS [PAIRS]
 *
 * Each day has the PAGES/ROWS-independent "head" (the 300 most read pages,
 * every day) plus a rotating window of the long tail, so that over the year
 * every one of the PAGES pages appears. Visitors follow a Zipf-like curve.
 * Also written per day: site totals, entry rows for the head, engaged-time
 * samples for the head, 24 hour rows.
 *
 * With PAIRS = 1, also the cells of the demo's three declared pairs, as the
 * aggregator keeps them for such a site: visit:source x event:page (every
 * page row read from one to SOURCES sources, the most read pages from the
 * most), event:group x visit:region (GROUPS groups x REGIONS regions) and
 * event:goal x visit:source (two goals x SOURCES sources).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/groups.h"
#include "common/store.h"

enum { SOURCES = 20, GROUPS = 8, REGIONS = 60 };

static const char *const source_names[SOURCES] = {
    "google.com",    "bing.com",      "duckduckgo.com",
    "facebook.com",  "instagram.com", "t.co",
    "linkedin.com",  "reddit.com",    "news.ycombinator.com",
    "pinterest.com", "youtube.com",   "ecosia.org",
    "yahoo.com",     "baidu.com",     "yandex.ru",
    "newsletter",    "github.com",    "mastodon.social",
    "qwant.com",     "startpage.com"};

/* One cell of pair (a, b), with visitors v. */
static void
cell(hz_wtxn *t, const char *site, long d, enum hz_dim a, enum hz_dim b, const char *v1,
     const char *v2, uint64_t v, int ev)
{
    char c[256];
    size_t n = hz_crosstab_cell(c, sizeof(c), a, b, v1, strlen(v1), v2, strlen(v2));
    struct hz_counts k = {v, v, ev ? 0 : 2 * v, 0, 0, 0, 0, 0};

    if (ev)
        k.events = v;
    if (n == 0 || hz_store_add(t, site, (int32_t)d, HZ_DIM_CROSS, c, n, &k) != 0) {
        fprintf(stderr, "dash_fill: add cell failed\n");
        exit(1);
    }
}

static void
die(const char *what, const struct hz_err *err)
{
    fprintf(stderr, "dash_fill: %s: %s\n", what, err ? err->msg : "failed");
    exit(1);
}

int
main(int argc, char **argv)
{
    struct hz_err err = {0};
    hz_store *s;
    const char *site;
    long today, pages, rows, head = 300;
    int pairs;

    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: dash_fill DIR SITE DAY PAGES ROWS [PAIRS]\n");
        return 2;
    }
    site = argv[2];
    today = strtol(argv[3], NULL, 10);
    pages = strtol(argv[4], NULL, 10);
    rows = strtol(argv[5], NULL, 10);
    pairs = argc == 7 && strcmp(argv[6], "1") == 0;
    if (pages < head || rows < head || rows > pages)
        die("arguments", NULL);
    if (hz_store_open(&s, argv[1], 0, (size_t)4 << 30, &err) != 0)
        die("open", &err);
    for (long d = today - 364; d <= today; d++) {
        hz_wtxn *t;
        struct hz_counts tot = {0};
        long tail = rows - head, start = head + ((d - (today - 364)) * tail) % (pages - head);
        char page[64];

        if (hz_store_wbegin(s, &t, 1000000, &err) != 0)
            die("wbegin", &err);
        for (long k = 0; k < rows; k++) {
            long p = k < head ? k : head + (start - head + (k - head)) % (pages - head);
            uint64_t v = 1 + (uint64_t)(2000 / (p + 1));
            struct hz_counts c = {v, v + v / 5, 2 * v, v / 2, 0, v, v / 2, v * 15000};
            int n = snprintf(page, sizeof(page), "/articles/%ld/some-readable-slug", p);
            if (hz_store_add(t, site, (int32_t)d, HZ_DIM_PAGE, page, (size_t)n, &c) != 0)
                die("add page", NULL);
            if (k < head) {
                struct hz_counts e = {v / 2 + 1, v / 2 + 1, v, v / 4, v * 60000, 0, 0, 0};
                if (hz_store_add(t, site, (int32_t)d, HZ_DIM_ENTRY, page, (size_t)n, &e) != 0)
                    die("add entry", NULL);
                if (k < 50 && hz_store_add_engaged(t, site, (int32_t)d, page,
                                                   (uint64_t)(1000 + 997 * k)) != 0)
                    die("add engaged", NULL);
            }
            /* A page read by v visitors comes from 1 + v/20 sources (at most all). */
            for (long k2 = 0; pairs && k2 <= (long)(v / 20) && k2 < SOURCES; k2++)
                cell(t, site, d, HZ_DIM_SOURCE, HZ_DIM_PAGE, source_names[k2], page,
                     v / (uint64_t)(k2 + 1) + 1, 0);
            tot.visitors += v;
            tot.pageviews += 2 * v;
        }
        tot.visits = tot.visitors + tot.visitors / 5;
        tot.nonbounce = tot.visits / 2;
        tot.duration_ms = tot.visits * 45000;
        if (hz_store_add(t, site, (int32_t)d, HZ_DIM_TOTAL, "", 0, &tot) != 0)
            die("add totals", NULL);
        for (int g = 0; pairs && g < GROUPS; g++) {
            char gn[32], rg[16];
            snprintf(gn, sizeof(gn), "Group %d", g + 1);
            for (int r = 0; r < REGIONS; r++) {
                snprintf(rg, sizeof(rg), "DE-%02d", r);
                cell(t, site, d, HZ_DIM_GROUP, HZ_DIM_REGION, gn, rg,
                     (uint64_t)(5 + (g * 7 + r * 3) % 40), 0);
            }
        }
        for (int k = 0; pairs && k < SOURCES; k++) {
            cell(t, site, d, HZ_DIM_GOAL, HZ_DIM_SOURCE, "Signup", source_names[k],
                 (uint64_t)(40 / (k + 1) + 1), 1);
            cell(t, site, d, HZ_DIM_GOAL, HZ_DIM_SOURCE, "Visit /thanks*", source_names[k],
                 (uint64_t)(20 / (k + 1) + 1), 0);
        }
        for (int h = 0; h < 24; h++) {
            struct hz_counts hc = {tot.visitors / 24, tot.visits / 24, tot.pageviews / 24};
            if (hz_store_add_hour(t, site, (int32_t)(d * 24 + h), &hc) != 0)
                die("add hour", NULL);
        }
        if (hz_store_commit(t, &err) != 0)
            die("commit", &err);
    }
    hz_store_close(s);
    return 0;
}
