/* SPDX-License-Identifier: MIT */
/*
 * groups_test.c - page groups, goals and cross-tab pairs (common/groups.h)
 * and their [site NAME] keys in haze.ini.
 */
#include "common/groups.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "common/cfg.h"

Test(groups, group_spec_and_first_match_wins)
{
    struct hz_group g[2];
    struct hz_err err;
    const char *a = "Business cards: /products/business-cards*, /designer/cards*";
    const char *b = "Everything else:/products/* /designer/*";

    cr_assert_eq(hz_group_parse(a, strlen(a), &g[0], &err), 0, "%s", err.msg);
    cr_assert_str_eq(g[0].name, "Business cards");
    cr_assert_eq(g[0].npats, 2);
    cr_assert_str_eq(g[0].pats[1], "/designer/cards*");
    cr_assert_eq(hz_group_parse(b, strlen(b), &g[1], &err), 0, "%s", err.msg);
    cr_assert_eq(g[1].npats, 2);
    cr_assert_eq(hz_group_match(g, 2, "/products/business-cards/matte", 30), 0);
    cr_assert_eq(hz_group_match(g, 2, "/designer/cards", 15), 0);
    cr_assert_eq(hz_group_match(g, 2, "/products/flyers", 16), 1, "the next group");
    cr_assert_eq(hz_group_match(g, 2, "/about", 6), -1, "no group");
}

Test(groups, group_errors)
{
    const char *bad[][2] = {
        {"no colon /a", "expected NAME: /pattern, /pattern"},
        {": /a", "group name must be non-empty"},
        {"A: a", "group patterns are paths starting with '/'"},
        {"A:", "a group needs at least one page pattern"},
        {"A: /1 /2 /3 /4 /5 /6 /7", "too many patterns in one group (6 at most)"},
        {"A\x01: /a", "group name must be non-empty"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct hz_group g;
        struct hz_err err = {0};
        cr_assert_eq(hz_group_parse(bad[i][0], strlen(bad[i][0]), &g, &err), HZ_EINVAL, "%s",
                     bad[i][0]);
        cr_assert_eq(strncmp(err.msg, bad[i][1], strlen(bad[i][1])), 0, "%s -> %s", bad[i][0],
                     err.msg);
    }
}

Test(groups, goals_pages_and_events)
{
    struct hz_goal p, e;
    struct hz_err err;

    cr_assert_eq(hz_goal_parse(" /thanks* ", 10, &p, &err), 0, "%s", err.msg);
    cr_assert_str_eq(p.name, "Visit /thanks*");
    cr_assert(p.page);
    cr_assert(hz_goal_match(&p, 1, "/thanks/order", 13));
    cr_assert_not(hz_goal_match(&p, 0, "/thanks", 7), "a custom event is not a page goal");
    cr_assert_not(hz_goal_match(&p, 1, "/cart", 5));
    cr_assert_eq(hz_goal_parse("Signup", 6, &e, &err), 0);
    cr_assert_not(e.page);
    cr_assert(hz_goal_match(&e, 0, "Signup", 6));
    cr_assert_not(hz_goal_match(&e, 0, "Signup2", 7));
    cr_assert_not(hz_goal_match(&e, 1, "Signup", 6));
    cr_assert_eq(hz_goal_parse("/a b", 4, &e, &err), HZ_EINVAL);
    cr_assert_eq(hz_goal_parse("", 0, &e, &err), HZ_EINVAL);
}

Test(groups, funnel_segments)
{
    char seg[64];
    enum hz_dim by[HZ_FUNNEL_BY_MAX];
    int n;

    cr_assert_eq(hz_funnel_by_parse("visit:device,visit:region", 25, by, &n, NULL), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(by[1], HZ_DIM_REGION);
    cr_assert_eq(hz_funnel_segment(seg, sizeof(seg), "checkout", HZ_DIM_DEVICE, "mobile", 6), 16);
    cr_assert_eq(memcmp(seg, "checkout\x1f", 9), 0);
    cr_assert_eq(seg[9], 'A' + HZ_DIM_DEVICE);
    cr_assert_str_eq(seg + 10, "mobile");
    cr_assert_eq(hz_funnel_segment(seg, sizeof(seg), "checkout", HZ_DIM_SOURCE,
                                   "a-very-long-referrer-host-name.example.com.cdn.content.net",
                                   58),
                 0, "over the store's 63-byte funnel names");
}

Test(groups, pairs_and_cells)
{
    struct hz_crosstab x;
    struct hz_err err = {0};
    char cell[64];
    enum hz_dim a, b;
    const char *v1, *v2;
    size_t l1, l2, n;

    cr_assert_eq(hz_crosstab_parse("event:group x visit:region", 26, &x, &err), 0, "%s", err.msg);
    cr_assert_eq(x.a, HZ_DIM_GROUP);
    cr_assert_eq(x.b, HZ_DIM_REGION);
    cr_assert_eq(hz_crosstab_parse("event:page x event:page", 23, &x, &err), HZ_EINVAL);
    cr_assert_str_eq(err.msg, "a pair needs two different properties");
    cr_assert_eq(hz_crosstab_parse("event:page x visit:city", 23, &x, &err), HZ_EINVAL);
    cr_assert_str_eq(err.msg, "unknown property visit:city");
    cr_assert_eq(hz_crosstab_parse("event:page by visit:os", 22, &x, &err), HZ_EINVAL);
    cr_assert_eq(hz_crosstab_parse("visit:exit_page x visit:os", 26, &x, &err), HZ_EINVAL,
                 "exit pages are derived, not a pair's property");

    n = hz_crosstab_cell(cell, sizeof(cell), HZ_DIM_GROUP, HZ_DIM_REGION, "Cards", 5, "DE-BY", 5);
    cr_assert_eq(n, 13);
    cr_assert_eq(hz_crosstab_split(cell, n, &a, &b, &v1, &l1, &v2, &l2), 0);
    cr_assert_eq(a, HZ_DIM_GROUP);
    cr_assert_eq(b, HZ_DIM_REGION);
    cr_assert_eq(l1, 5);
    cr_assert_eq(memcmp(v2, "DE-BY", 5), 0);
    cr_assert_eq(hz_crosstab_split("(other)", 7, &a, &b, &v1, &l1, &v2, &l2), -1);
    cr_assert_eq(hz_crosstab_cell(cell, 8, HZ_DIM_GROUP, HZ_DIM_REGION, "Cards", 5, "DE", 2), 0,
                 "too long for the buffer");
    cr_assert_eq(
        hz_crosstab_cell(cell, sizeof(cell), HZ_DIM_GROUP, HZ_DIM_REGION, "a\x1f", 2, "b", 1), 0,
        "a value holding the separator");
}

Test(groups, site_keys_in_the_config)
{
    struct hz_config *c = calloc(1, sizeof(*c));
    struct hz_err err = {0};
    const char *ini = "[site shop.example]\n"
                      "group = Business cards: /products/business-cards*, /designer/cards*\n"
                      "group = Flyers: /products/flyers*\n"
                      "goal = /thanks*\n"
                      "goal = Signup\n"
                      "crosstab = event:group x visit:region\n"
                      "crosstab = event:goal x visit:source\n"
                      "funnel_by = visit:device, visit:source\n";

    cr_assert_eq(hz_cfg_parse_string(c, ini, "t.ini", &err), 0, "%s", err.msg);
    cr_assert_eq(c->sites[0].ngroups, 2);
    cr_assert_eq(c->sites[0].ngoals, 2);
    cr_assert_str_eq(c->sites[0].goals[0].name, "Visit /thanks*");
    cr_assert_eq(c->sites[0].ncrosstabs, 2);
    cr_assert_eq(c->sites[0].crosstabs[1].a, HZ_DIM_GOAL);
    cr_assert_eq(c->sites[0].crosstabs[1].line, 7);
    cr_assert_eq(c->sites[0].nfunnel_by, 2);
    cr_assert_eq(c->sites[0].funnel_by[0], HZ_DIM_DEVICE);
    cr_assert_eq(c->sites[0].funnel_by[1], HZ_DIM_SOURCE);
    free(c);
}

Test(groups, config_errors_name_file_line_and_key)
{
    const char *bad[][2] = {
        {"[site a.example]\ngroup = A: /a\ngroup = A: /b\n",
         "t.ini:3: [site a.example] group: duplicate group name"},
        {"[site a.example]\ngroup = nothing\n",
         "t.ini:2: [site a.example] group: expected NAME: /pattern, /pattern"},
        {"[site a.example]\ngoal = Signup\ngoal = Signup\n",
         "t.ini:3: [site a.example] goal: duplicate goal"},
        {"[site a.example]\ncrosstab = event:page x visit:os\ncrosstab = visit:os x event:page\n",
         "t.ini:3: [site a.example] crosstab: duplicate pair"},
        {"[site a.example]\nfunnel_by = event:page\n",
         "t.ini:2: [site a.example] funnel_by: expected visit properties (visit:device, "
         "visit:source, visit:region, ...)"},
        {"[site a.example]\nfunnel_by = visit:os, visit:os\n",
         "t.ini:2: [site a.example] funnel_by: a property is listed twice"},
        {"[site a.example]\ncrosstab = event:page x visit:planet\n",
         "t.ini:2: [site a.example] crosstab: unknown property visit:planet"},
        {"[site a.example]\ncrosstab = event:page x visit:os\ncrosstab = event:page x "
         "visit:device\n"
         "crosstab = event:page x visit:browser\ncrosstab = event:page x visit:region\n"
         "crosstab = event:page x visit:country\ncrosstab = event:page x visit:source\n"
         "crosstab = event:page x visit:utm_source\ncrosstab = event:page x visit:utm_medium\n"
         "crosstab = event:page x visit:utm_campaign\n",
         "t.ini:10: [site a.example] crosstab: too many pairs (8 at most)"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct hz_config *c = calloc(1, sizeof(*c));
        struct hz_err err = {0};
        cr_assert_eq(hz_cfg_parse_string(c, bad[i][0], "t.ini", &err), HZ_ECONFIG);
        cr_assert_str_eq(err.msg, bad[i][1]);
        free(c);
    }
}
