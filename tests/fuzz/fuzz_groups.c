/* SPDX-License-Identifier: MIT */
/*
 * fuzz_groups.c - group, goal and cross-tab specs (common/groups.h).
 *
 * The first byte picks the parser ('g' group, 'o' goal, 'x' crosstab, 'b' funnel_by,
 * anything else: the cell encoding); the rest is its input. Properties:
 * a parsed group has a valid name and 1..6 patterns starting with '/',
 * printed back as "name: p1, p2" it parses to the same group, and each
 * pattern matches itself as a page of group 0; a page goal matches its own
 * pattern; an event goal matches its own name and never a pageview; a
 * pair's two properties differ and print back to the same pair; a cell
 * built from two values splits back into the same dims and values.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/groups.h"
#include "common/str.h"

static void
check_group(const struct hz_group *g)
{
    struct hz_group again;
    char spec[1024];
    size_t n, nl = strlen(g->name);

    if (nl == 0 || nl >= HZ_GROUP_NAME_MAX || !hz_text_valid(g->name, nl) ||
        strpbrk(g->name, ",:") != NULL || g->npats < 1 || g->npats > HZ_GROUP_PATS_MAX)
        abort();
    n = (size_t)snprintf(spec, sizeof(spec), "%s:", g->name);
    for (int i = 0; i < g->npats; i++) {
        size_t pl = strlen(g->pats[i]);
        if (pl == 0 || pl >= HZ_GROUP_PAT_MAX || g->pats[i][0] != '/' ||
            strpbrk(g->pats[i], " ,\t") != NULL)
            abort();
        if (hz_group_match(g, 1, g->pats[i], pl) != 0)
            abort();
        n += (size_t)snprintf(spec + n, sizeof(spec) - n, "%s %s", i ? "," : "", g->pats[i]);
    }
    if (hz_group_parse(spec, n, &again, NULL) != 0 || memcmp(&again, g, sizeof(again)) != 0)
        abort();
}

static void
check_goal(const struct hz_goal *g)
{
    size_t nl = strlen(g->name);

    if (nl == 0 || nl >= HZ_GOAL_NAME_MAX)
        abort();
    if (g->page) {
        if (strncmp(g->name, "Visit /", 7) != 0 || !hz_goal_match(g, 1, g->name + 6, nl - 6) ||
            hz_goal_match(g, 0, g->name + 6, nl - 6))
            abort();
    } else if (!hz_goal_match(g, 0, g->name, nl) || hz_goal_match(g, 1, g->name, nl)) {
        abort();
    }
}

static void
check_pair(const struct hz_crosstab *x)
{
    struct hz_crosstab again;
    char spec[128];
    const char *a = hz_crosstab_prop_name(x->a), *b = hz_crosstab_prop_name(x->b);
    int n;

    if (a == NULL || b == NULL || x->a == x->b)
        abort();
    n = snprintf(spec, sizeof(spec), "%s x %s", a, b);
    if (hz_crosstab_parse(spec, (size_t)n, &again, NULL) != 0 || again.a != x->a || again.b != x->b)
        abort();
}

static void
check_cell(const char *s, size_t len)
{
    char cell[256];
    size_t half = len / 2, n;
    enum hz_dim a, b;
    const char *v1, *v2;
    size_t l1, l2;

    n = hz_crosstab_cell(cell, sizeof(cell), HZ_DIM_GROUP, HZ_DIM_REGION, s, half, s + half,
                         len - half);
    if (n == 0)
        return;
    if (hz_crosstab_split(cell, n, &a, &b, &v1, &l1, &v2, &l2) != 0 || a != HZ_DIM_GROUP ||
        b != HZ_DIM_REGION || l1 != half || l2 != len - half || memcmp(v1, s, half) != 0 ||
        memcmp(v2, s + half, l2) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data + 1;
    size_t len = size > 0 ? size - 1 : 0;
    struct hz_group g;
    struct hz_goal o;
    struct hz_crosstab x;

    if (size == 0)
        return 0;
    switch (data[0]) {
    case 'g':
        if (hz_group_parse(s, len, &g, NULL) == 0)
            check_group(&g);
        break;
    case 'o':
        if (hz_goal_parse(s, len, &o, NULL) == 0)
            check_goal(&o);
        break;
    case 'x':
        if (hz_crosstab_parse(s, len, &x, NULL) == 0)
            check_pair(&x);
        break;
    case 'b': {
        enum hz_dim by[HZ_FUNNEL_BY_MAX];
        int n = -1;
        if (hz_funnel_by_parse(s, len, by, &n, NULL) == 0) {
            if (n < 1 || n > HZ_FUNNEL_BY_MAX)
                abort();
            for (int i = 0; i < n; i++)
                if (hz_crosstab_prop_name(by[i]) == NULL || hz_crosstab_prop_event(by[i]))
                    abort();
        }
        break;
    }
    default:
        check_cell(s, len);
    }
    return 0;
}
