/* SPDX-License-Identifier: MIT */
/*
 * insights_demo.c - one day of aggregates for the browser test of the
 * goals, groups, demand and heatmap panels (tests/e2e/insights.mjs), with
 * numbers chosen so the page's figures can be checked by hand:
 *
 *   100 visitors. Regions DE-BY 50, FR-IDF 30, IT-21 20. Sources
 *   google.com 40, Direct / None 60. Groups Cards 40, Flyers 30.
 *   Cells group x region: Cards DE-BY 30 (lift (30/50)/(40/100) = 1.50),
 *   FR-IDF 5 (0.42), IT-21 5 (0.63); Flyers DE-BY 10 (0.67), FR-IDF 12
 *   (1.33), IT-21 8 (1.33).
 *   Goals: Signup 20 visitors (20.0 %), Visit /thanks* 10 (10.0 %).
 *   Cells goal x source: Signup google.com 12 (12/40 = 30.0 %), Direct 8
 *   (8/60 = 13.3 %); thanks 5 and 5.
 *   Hours (local, today): 14:00 30 visits 80 pageviews, 09:00 10 and 20.
 *   Funnel checkout (funnel_by = visit:device): 50 > 20 > 10; mobile
 *   (40 visitors) 20 > 4 > 2, desktop (60) 30 > 16 > 8. The biggest drop is
 *   step 2 (60 %); mobile drops 80 % there, desktop 46.7 %.
 *
 *   insights_demo DIR SITE TODAY      TODAY = local day number of today
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/groups.h"
#include "common/store.h"

static hz_wtxn *T;
static const char *SITE;
static int32_t DAY;

static void
add(enum hz_dim dim, const char *v, uint64_t visitors, uint64_t visits, uint64_t pv,
    uint64_t events)
{
    struct hz_counts c = {0};

    c.visitors = visitors;
    c.visits = visits;
    c.pageviews = pv;
    c.nonbounce = visits / 2;
    c.events = events;
    if (hz_store_add(T, SITE, DAY, dim, v, strlen(v), &c) != 0) {
        fprintf(stderr, "insights_demo: add failed\n");
        exit(1);
    }
}

/* Adds visitors to steps 0..2 of funnel name (segment or whole). */
static void
funnel(const char *name, uint64_t s0, uint64_t s1, uint64_t s2)
{
    uint64_t v[3] = {s0, s1, s2};

    for (int st = 0; st < 3; st++)
        if (hz_store_add_funnel(T, SITE, DAY, name, st, v[st], 0, 0) != 0) {
            fprintf(stderr, "insights_demo: funnel failed\n");
            exit(1);
        }
}

static void
cellv(enum hz_dim a, enum hz_dim b, const char *v1, const char *v2, uint64_t visitors, int ev)
{
    char cell[256];
    size_t n = hz_crosstab_cell(cell, sizeof(cell), a, b, v1, strlen(v1), v2, strlen(v2));

    if (n == 0) {
        fprintf(stderr, "insights_demo: cell too long\n");
        exit(1);
    }
    add(HZ_DIM_CROSS, cell, visitors, visitors, ev ? 0 : visitors * 2, ev ? visitors : 0);
}

int
main(int argc, char **argv)
{
    struct hz_err err = {0};
    hz_store *s;

    if (argc != 4) {
        fprintf(stderr, "usage: insights_demo DIR SITE TODAY\n");
        return 2;
    }
    SITE = argv[2];
    DAY = (int32_t)atol(argv[3]);
    if (hz_store_open(&s, argv[1], 0, 64u << 20, &err) != 0 ||
        hz_store_wbegin(s, &T, 100000, &err) != 0) {
        fprintf(stderr, "insights_demo: %s\n", err.msg);
        return 1;
    }
    add(HZ_DIM_TOTAL, "", 100, 110, 300, 0);
    add(HZ_DIM_REGION, "DE-BY", 50, 55, 150, 0);
    add(HZ_DIM_REGION, "FR-IDF", 30, 33, 90, 0);
    add(HZ_DIM_REGION, "IT-21", 20, 22, 60, 0);
    add(HZ_DIM_SOURCE, "google.com", 40, 44, 120, 0);
    add(HZ_DIM_SOURCE, "Direct / None", 60, 66, 180, 0);
    add(HZ_DIM_GROUP, "Cards", 40, 44, 100, 0);
    add(HZ_DIM_GROUP, "Flyers", 30, 33, 70, 0);
    add(HZ_DIM_ENTRY_GROUP, "Cards", 30, 30, 60, 0);
    add(HZ_DIM_ENTRY_GROUP, "Flyers", 20, 20, 30, 0);
    add(HZ_DIM_GOAL, "Signup", 20, 20, 0, 24);
    add(HZ_DIM_GOAL, "Visit /thanks*", 10, 10, 0, 10);
    cellv(HZ_DIM_GROUP, HZ_DIM_REGION, "Cards", "DE-BY", 30, 0);
    cellv(HZ_DIM_GROUP, HZ_DIM_REGION, "Cards", "FR-IDF", 5, 0);
    cellv(HZ_DIM_GROUP, HZ_DIM_REGION, "Cards", "IT-21", 5, 0);
    cellv(HZ_DIM_GROUP, HZ_DIM_REGION, "Flyers", "DE-BY", 10, 0);
    cellv(HZ_DIM_GROUP, HZ_DIM_REGION, "Flyers", "FR-IDF", 12, 0);
    cellv(HZ_DIM_GROUP, HZ_DIM_REGION, "Flyers", "IT-21", 8, 0);
    cellv(HZ_DIM_GOAL, HZ_DIM_SOURCE, "Signup", "google.com", 12, 1);
    cellv(HZ_DIM_GOAL, HZ_DIM_SOURCE, "Signup", "Direct / None", 8, 1);
    cellv(HZ_DIM_GOAL, HZ_DIM_SOURCE, "Visit /thanks*", "google.com", 5, 1);
    cellv(HZ_DIM_GOAL, HZ_DIM_SOURCE, "Visit /thanks*", "Direct / None", 5, 1);
    {
        char seg[64];
        add(HZ_DIM_DEVICE, "mobile", 40, 44, 100, 0);
        add(HZ_DIM_DEVICE, "desktop", 60, 66, 200, 0);
        funnel("checkout", 50, 20, 10);
        (void)hz_funnel_segment(seg, sizeof(seg), "checkout", HZ_DIM_DEVICE, "mobile", 6);
        funnel(seg, 20, 4, 2);
        (void)hz_funnel_segment(seg, sizeof(seg), "checkout", HZ_DIM_DEVICE, "desktop", 7);
        funnel(seg, 30, 16, 8);
    }
    {
        struct hz_counts h14 = {30, 30, 80, 0, 0, 0, 0, 0}, h9 = {10, 10, 20, 0, 0, 0, 0, 0};
        if (hz_store_add_hour(T, SITE, DAY * 24 + 14, &h14) != 0 ||
            hz_store_add_hour(T, SITE, DAY * 24 + 9, &h9) != 0)
            return 1;
    }
    if (hz_store_set_position(T, "1-1") != 0 || hz_store_commit(T, &err) != 0) {
        fprintf(stderr, "insights_demo: %s\n", err.msg);
        return 1;
    }
    hz_store_close(s);
    return 0;
}
