/* SPDX-License-Identifier: MIT */
/*
 * dash_demo.c - writes a month of believable aggregates for one site (a
 * print shop) through the store's write API, for the dashboard's browser
 * test and for looking at the page: pages, entry pages, sources, UTM
 * campaigns, regions, countries, browsers, OS, devices, custom events,
 * engaged time, a checkout funnel, page-to-page transitions, hourly totals
 * and filtered traffic. Deterministic (fixed seed).
 *
 *   dash_demo DIR SITE TODAY      TODAY = local day number of today
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/store.h"

static unsigned long demo_seed = 12345;

/* A small deterministic generator (LCG), so every run draws the same data. */
static unsigned
demo_rand(unsigned n)
{
    demo_seed = demo_seed * 6364136223846793005UL + 1442695040888963407UL;
    return (unsigned)((demo_seed >> 33) % (n ? n : 1));
}

static void
demo_add(hz_wtxn *t, const char *site, int32_t day, enum hz_dim dim, const char *v,
         uint64_t visitors, uint64_t pv_per, uint64_t outs_pct, uint64_t bounce_pct)
{
    struct hz_counts c = {0};

    c.visitors = visitors;
    c.visits = visitors + visitors / 6;
    c.pageviews = c.visits * pv_per;
    c.nonbounce = c.visits * (100 - bounce_pct) / 100;
    c.duration_ms = c.visits * (40000 + demo_rand(90000));
    c.outs = c.pageviews * outs_pct / 100;
    if (hz_store_add(t, site, day, dim, v, strlen(v), &c) != 0) {
        fprintf(stderr, "dash_demo: add failed\n");
        exit(1);
    }
}

struct demo_row {
    const char *v;
    unsigned weight; /* visitors per day, roughly */
};

/* clang-format off */
static const struct demo_row pages[] = {
    { "/", 120 }, { "/products/business-cards", 70 }, { "/products/flyers", 45 },
    { "/products/posters", 30 }, { "/cart", 38 }, { "/checkout", 22 }, { "/thanks", 9 },
    { "/blog/choosing-paper-weight", 26 }, { "/blog/bleed-and-margins", 14 },
    { "/about", 11 }, { "/contact", 8 }, { "/<img src=x onerror=alert(1)>", 6 },
    { "/faq", 3 }, { "/legal/privacy", 2 },
};
static const struct demo_row sources[] = {
    { "", 110 }, { "google.com", 90 }, { "bing.com", 14 }, { "duckduckgo.com", 12 },
    { "newsletter", 25 }, { "facebook.com", 9 }, { "reddit.com", 3 },
};
static const struct demo_row campaigns[] = {
    { "spring-sale", 22 }, { "newsletter-04", 18 }, { "=HYPERLINK(\"http://x\")", 6 },
};
static const struct demo_row mediums[] = { { "email", 25 }, { "cpc", 20 }, { "social", 6 } };
static const struct demo_row utm_sources[] = { { "newsletter", 25 }, { "google", 20 } };
static const struct demo_row regions[] = {
    { "CN-JS", 60 }, { "CN-SH", 45 }, { "CN-ZJ", 30 }, { "DE-BY", 28 }, { "DE-BE", 3 },
    { "DE-HH", 2 }, { "US-CA", 18 }, { "FR-IDF", 12 }, { "GB-ENG", 9 }, { "JP-13", 4 },
};
static const struct demo_row countries[] = {
    { "CN", 135 }, { "DE", 33 }, { "US", 18 }, { "FR", 12 }, { "GB", 9 }, { "JP", 4 },
};
static const struct demo_row browsers[] = {
    { "Chrome", 120 }, { "Safari", 55 }, { "Edge", 20 }, { "Firefox", 14 },
    { "Samsung Internet", 6 }, { "Opera", 2 },
};
static const struct demo_row oses[] = {
    { "Windows", 90 }, { "iOS", 45 }, { "Android", 40 }, { "macOS", 30 }, { "Linux", 6 },
};
/* Versions: "family\x1fmajor" (store.h). */
static const struct demo_row browser_versions[] = {
    { "Chrome\x1f" "131", 90 }, { "Chrome\x1f" "130", 24 }, { "Chrome\x1f" "109", 1 },
    { "Safari\x1f" "18", 40 },  { "Safari\x1f" "17", 15 },  { "Edge\x1f" "131", 20 },
    { "Firefox\x1f" "133", 14 }, { "Samsung Internet\x1f" "26", 6 }, { "Opera\x1f" "114", 2 },
};
static const struct demo_row os_versions[] = {
    { "Windows\x1f" "10", 60 }, { "Windows\x1f" "11", 30 }, { "iOS\x1f" "18", 45 },
    { "Android\x1f" "10", 40 }, { "macOS\x1f" "10", 30 }, { "Linux\x1f(not set)", 6 },
};
static const struct demo_row devices[] = { { "desktop", 120 }, { "mobile", 80 }, { "tablet", 12 } };
static const struct demo_row events[] = { { "Upload artwork", 24 }, { "Signup", 9 }, { "Coupon", 2 } };
/* clang-format on */

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
demo_dim(hz_wtxn *t, const char *site, int32_t day, enum hz_dim dim, const struct demo_row *r,
         size_t n, unsigned scale)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v = r[i].weight * scale / 100;
        v = v + demo_rand((unsigned)(v / 3 + 2));
        if (v == 0)
            continue;
        demo_add(t, site, day, dim, r[i].v, v, 1 + demo_rand(3), 0, 25 + demo_rand(40));
    }
}

int
main(int argc, char **argv)
{
    struct hz_err err = {0};
    const char *site;
    hz_store *s;
    int32_t today;

    if (argc != 4) {
        fprintf(stderr, "usage: dash_demo DIR SITE TODAY\n");
        return 2;
    }
    site = argv[2];
    today = (int32_t)strtol(argv[3], NULL, 10);
    if (hz_store_open(&s, argv[1], 0, (size_t)256 << 20, &err) != 0) {
        fprintf(stderr, "dash_demo: %s\n", err.msg);
        return 1;
    }
    for (int32_t d = today - 60; d <= today; d++) {
        hz_wtxn *t;
        /* Weekdays busier than weekends; a slow rise over the two months. */
        unsigned scale = 70 + (unsigned)(d - (today - 60)) / 2 + ((d + 4) % 7 < 5 ? 20 : 0);
        uint64_t visitors = 0;

        if (hz_store_wbegin(s, &t, 100000, &err) != 0)
            break;
        for (size_t i = 0; i < NELEM(pages); i++) {
            uint64_t v = pages[i].weight * scale / 100 + demo_rand(pages[i].weight / 4 + 2);
            struct hz_counts c = {v, v + v / 8, v + v / 3 + demo_rand(5), 0, 0, 0, 0, 0};
            c.outs = c.pageviews * (45 + demo_rand(35)) / 100;
            (void)hz_store_add(t, site, d, HZ_DIM_PAGE, pages[i].v, strlen(pages[i].v), &c);
            visitors += v;
            if (i < 4 || i == 7 || i == 11)
                demo_add(t, site, d, HZ_DIM_ENTRY, pages[i].v, v * 2 / 3 + 1, 2, 0,
                         30 + demo_rand(40));
            for (unsigned k = 0; k < 6 + demo_rand(10); k++)
                (void)hz_store_add_engaged(t, site, d, pages[i].v,
                                           (uint64_t)(2000 + demo_rand(90000) * (i % 3 + 1)));
        }
        {
            struct hz_counts tot = {0};
            tot.visitors = visitors * 55 / 100;
            tot.visits = tot.visitors + tot.visitors / 7;
            tot.pageviews = visitors + visitors / 3;
            tot.nonbounce = tot.visits * (52 + demo_rand(12)) / 100;
            tot.duration_ms = tot.visits * (70000 + demo_rand(50000));
            (void)hz_store_add(t, site, d, HZ_DIM_TOTAL, "", 0, &tot);
            for (int h = 0; h < 24; h++) {
                unsigned w = h < 7 ? 1 : h < 9 ? 4 : h < 18 ? 8 : h < 22 ? 5 : 2;
                struct hz_counts hc = {tot.visitors * w / 110 + demo_rand(3),
                                       tot.visits * w / 110 + demo_rand(3),
                                       tot.pageviews * w / 110 + demo_rand(5),
                                       0,
                                       0,
                                       0,
                                       0,
                                       0};
                (void)hz_store_add_hour(t, site, d * 24 + h, &hc);
            }
        }
        demo_dim(t, site, d, HZ_DIM_SOURCE, sources, NELEM(sources), scale);
        demo_dim(t, site, d, HZ_DIM_UTM_CAMPAIGN, campaigns, NELEM(campaigns), scale);
        demo_dim(t, site, d, HZ_DIM_UTM_MEDIUM, mediums, NELEM(mediums), scale);
        demo_dim(t, site, d, HZ_DIM_UTM_SOURCE, utm_sources, NELEM(utm_sources), scale);
        demo_dim(t, site, d, HZ_DIM_REGION, regions, NELEM(regions), scale);
        demo_dim(t, site, d, HZ_DIM_COUNTRY, countries, NELEM(countries), scale);
        demo_dim(t, site, d, HZ_DIM_BROWSER, browsers, NELEM(browsers), scale);
        demo_dim(t, site, d, HZ_DIM_OS, oses, NELEM(oses), scale);
        demo_dim(t, site, d, HZ_DIM_BROWSER_VERSION, browser_versions, NELEM(browser_versions),
                 scale);
        demo_dim(t, site, d, HZ_DIM_OS_VERSION, os_versions, NELEM(os_versions), scale);
        demo_dim(t, site, d, HZ_DIM_DEVICE, devices, NELEM(devices), scale);
        for (size_t i = 0; i < NELEM(events); i++) {
            struct hz_counts c = {events[i].weight * scale / 100 + 1,
                                  events[i].weight * scale / 100 + 1,
                                  0,
                                  0,
                                  0,
                                  0,
                                  events[i].weight * scale / 80 + 1,
                                  0};
            (void)hz_store_add(t, site, d, HZ_DIM_EVENT, events[i].v, strlen(events[i].v), &c);
        }
        {
            static const char *const reasons[] = {"bot", "dnt", "invalid"};
            for (int i = 0; i < 3; i++) {
                struct hz_counts c = {0, 0, 0, 0, 0, 0, 40 / (i + 1) + demo_rand(20), 0};
                (void)hz_store_add(t, site, d, HZ_DIM_DROP, reasons[i], strlen(reasons[i]), &c);
            }
            struct hz_counts u = {0, 0, 0, 0, 0, 0, 3 + demo_rand(5), 0};
            (void)hz_store_add(t, "*", d, HZ_DIM_DROP, "unknown_site", 12, &u);
        }
        {
            /* Funnel: products -> cart -> checkout -> thanks; the cart loses most. */
            uint64_t n0 = 60 * scale / 100 + demo_rand(10), n1 = n0 * 45 / 100, n2 = n1 * 70 / 100,
                     n3 = n2 * 55 / 100;
            uint64_t n[4] = {n0, n1, n2, n3};
            uint64_t secs[4] = {0, 40, 150, 25};
            (void)hz_store_add_funnel(t, site, d, "checkout", 0, n0, 0, 0);
            for (int st = 1; st < 4; st++)
                for (uint64_t k = 0; k < n[st]; k++)
                    (void)hz_store_add_funnel(t, site, d, "checkout", st, 1, 1,
                                              secs[st] * 1000 / 2 + demo_rand(secs[st] * 1000));
        }
        {
            static const char *const tr[][2] = {
                {"/", "/products/business-cards"},
                {"/", "/products/flyers"},
                {"/", "/blog/choosing-paper-weight"},
                {"/products/business-cards", "/cart"},
                {"/products/flyers", "/cart"},
                {"/cart", "/checkout"},
                {"/checkout", "/thanks"},
                {"/blog/choosing-paper-weight", "/products/posters"},
                {"/products/posters", "/cart"},
                {"/about", "/contact"},
                {"/products/business-cards", "/"},
                {"/faq", "/cart"},
            };
            for (size_t i = 0; i < NELEM(tr); i++)
                (void)hz_store_add_transition(t, site, d, tr[i][0], tr[i][1],
                                              2 + demo_rand(i < 9 ? 30 : 3));
        }
        if (hz_store_commit(t, &err) != 0) {
            fprintf(stderr, "dash_demo: %s\n", err.msg);
            return 1;
        }
    }
    hz_store_close(s);
    return 0;
}
