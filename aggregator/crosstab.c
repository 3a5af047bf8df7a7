/* SPDX-License-Identifier: MIT */
/*
 * crosstab.c - groups, goals and cross-tab cells (see crosstab.h).
 */
#include "aggregator/crosstab.h"

#include <string.h>

#include "aggregator/fold.h"
#include "common/groups.h"

/* The hit's facts a cell value is taken from. */
struct xf_hit {
    const struct hz_site *site;
    const struct hz_session *s; /* NULL: no current visit */
    const char *page;
    int group;        /* index, or -1 */
    const char *name; /* custom event name, or NULL for a pageview */
};

/*
 * The value of property d for the hit, or NULL when it has none. Goals are
 * not here: a goal pair iterates over the goals the hit reached.
 */
static const char *
xf_value(const struct xf_hit *h, enum hz_dim d, size_t *len)
{
    const struct hz_session *s = h->s;
    const char *v = NULL;

    switch (d) {
    case HZ_DIM_PAGE:
        v = h->page;
        break;
    case HZ_DIM_GROUP:
        v = h->group >= 0 ? h->site->groups[h->group].name : NULL;
        break;
    case HZ_DIM_EVENT:
        v = h->name;
        break;
    default:
        if (s == NULL)
            return NULL;
        switch (d) {
        case HZ_DIM_ENTRY:
            v = s->entry;
            break;
        case HZ_DIM_SOURCE:
            v = s->source[0] != '\0' ? s->source : HZ_FOLD_DIRECT;
            break;
        case HZ_DIM_UTM_SOURCE:
            v = s->utm_medium[0] != '\0' || s->utm_campaign[0] != '\0' ? s->source : NULL;
            break;
        case HZ_DIM_UTM_MEDIUM:
            v = s->utm_medium;
            break;
        case HZ_DIM_UTM_CAMPAIGN:
            v = s->utm_campaign;
            break;
        case HZ_DIM_COUNTRY:
            if (strlen(s->region) < 2)
                return NULL;
            *len = 2;
            return s->region;
        case HZ_DIM_REGION:
            v = strlen(s->region) > 2 ? s->region : NULL;
            break;
        case HZ_DIM_BROWSER:
            v = s->browser;
            break;
        case HZ_DIM_OS:
            v = s->os;
            break;
        case HZ_DIM_DEVICE:
            v = s->device;
            break;
        default:
            return NULL;
        }
    }
    if (v == NULL || v[0] == '\0')
        return NULL;
    *len = strlen(v);
    return v;
}

/* Adds one hit to the cell (a = v1, b = v2) of a pair. */
static int
xf_cell(hz_wtxn *w, const char *site, struct hz_session *s, int32_t day, int today, int in_visit,
        enum hz_dim a, enum hz_dim b, const char *v1, size_t l1, const char *v2, size_t l2,
        int is_event)
{
    char cell[HZ_PAGE_MAX];
    struct hz_counts c;
    size_t n = hz_crosstab_cell(cell, sizeof(cell), a, b, v1, l1, v2, l2);

    if (n == 0) /* too long for a key: the pair's overflow cell */
        n = hz_crosstab_cell(cell, sizeof(cell), a, b, "(other)", 7, "(other)", 7);
    memset(&c, 0, sizeof(c));
    if (is_event)
        c.events = 1;
    else
        c.pageviews = 1;
    hz_session_mark(s, today, in_visit, HZ_DIM_CROSS, cell, n, &c.visitors, &c.visits);
    return hz_store_add(w, site, day, HZ_DIM_CROSS, cell, n, &c);
}

/*
 * Every declared pair the hit fills. goals[] are the goals it reached
 * (ngoals of them); is_pv: a pageview (else a custom event).
 */
static int
xf_cells(hz_wtxn *w, struct hz_session *s, const struct xf_hit *h, const int *goals, int ngoals,
         int32_t day, int today, int in_visit)
{
    const struct hz_site *site = h->site;
    int rc;

    for (int i = 0; i < site->ncrosstabs; i++) {
        enum hz_dim a = site->crosstabs[i].a, b = site->crosstabs[i].b;
        int goal_pair = a == HZ_DIM_GOAL || b == HZ_DIM_GOAL;
        int event_pair = a == HZ_DIM_EVENT || b == HZ_DIM_EVENT;
        const char *v1, *v2;
        size_t l1 = 0, l2 = 0;

        if (goal_pair) {
            enum hz_dim other = a == HZ_DIM_GOAL ? b : a;
            const char *ov = xf_value(h, other, &l2);
            if (ov == NULL)
                continue;
            for (int g = 0; g < ngoals; g++) {
                const char *gv = site->goals[goals[g]].name;
                size_t gl = strlen(gv);
                if (a == HZ_DIM_GOAL)
                    rc = xf_cell(w, site->name, s, day, today, in_visit, a, b, gv, gl, ov, l2, 1);
                else
                    rc = xf_cell(w, site->name, s, day, today, in_visit, a, b, ov, l2, gv, gl, 1);
                if (rc != 0)
                    return rc;
            }
            continue;
        }
        if (event_pair != (h->name != NULL))
            continue; /* event pairs count custom events, the others pageviews */
        if ((v1 = xf_value(h, a, &l1)) == NULL || (v2 = xf_value(h, b, &l2)) == NULL)
            continue;
        if ((rc = xf_cell(w, site->name, s, day, today, in_visit, a, b, v1, l1, v2, l2,
                          event_pair)) != 0)
            return rc;
    }
    return 0;
}

/* Adds one completion of each reached goal; fills goals[] with them. */
static int
xf_goals(hz_wtxn *w, const struct hz_site *site, struct hz_session *s, int is_pv, const char *value,
         int32_t day, int today, int in_visit, int *goals, int *ngoals)
{
    size_t vlen = strlen(value);
    int rc;

    *ngoals = 0;
    for (int g = 0; g < site->ngoals; g++) {
        const char *name = site->goals[g].name;
        size_t nl = strlen(name);
        struct hz_counts c;
        if (!hz_goal_match(&site->goals[g], is_pv, value, vlen))
            continue;
        goals[(*ngoals)++] = g;
        memset(&c, 0, sizeof(c));
        c.events = 1;
        hz_session_mark(s, today, in_visit, HZ_DIM_GOAL, name, nl, &c.visitors, &c.visits);
        if ((rc = hz_store_add(w, site->name, day, HZ_DIM_GOAL, name, nl, &c)) != 0)
            return rc;
    }
    return 0;
}

int
hz_xfold_pageview(hz_wtxn *w, const struct hz_site *site, struct hz_session *s,
                  const struct hz_record *r, int32_t day, int today)
{
    struct xf_hit h = {site, s, r->page, -1, NULL};
    int goals[HZ_GOALS_MAX], ngoals = 0, rc;

    if (site->ngroups == 0 && site->ngoals == 0 && site->ncrosstabs == 0)
        return 0;
    h.group = hz_group_match(site->groups, site->ngroups, r->page, strlen(r->page));
    if (h.group >= 0) {
        const char *g = site->groups[h.group].name;
        size_t gl = strlen(g);
        struct hz_counts c;
        memset(&c, 0, sizeof(c));
        c.pageviews = 1;
        hz_session_mark(s, today, 1, HZ_DIM_GROUP, g, gl, &c.visitors, &c.visits);
        if ((rc = hz_store_add(w, site->name, day, HZ_DIM_GROUP, g, gl, &c)) != 0)
            return rc;
    }
    if ((rc = xf_goals(w, site, s, 1, r->page, day, today, 1, goals, &ngoals)) != 0)
        return rc;
    return xf_cells(w, s, &h, goals, ngoals, day, today, 1);
}

int
hz_xfold_event(hz_wtxn *w, const struct hz_site *site, struct hz_session *s,
               const struct hz_record *r, int32_t day, int today, int active)
{
    struct xf_hit h = {site, active ? s : NULL, r->page, -1, r->name};
    int goals[HZ_GOALS_MAX], ngoals = 0, rc;

    if (site->ngoals == 0 && site->ncrosstabs == 0)
        return 0;
    if (r->page[0] == '\0')
        h.page = NULL;
    else
        h.group = hz_group_match(site->groups, site->ngroups, r->page, strlen(r->page));
    if ((rc = xf_goals(w, site, s, 0, r->name, day, today, active, goals, &ngoals)) != 0)
        return rc;
    return xf_cells(w, s, &h, goals, ngoals, day, today, active);
}

int
hz_xfold_engaged(hz_wtxn *w, const struct hz_site *site, const struct hz_record *r, int32_t day)
{
    int g = hz_group_match(site->groups, site->ngroups, r->page, strlen(r->page));
    struct hz_counts c;

    if (g < 0)
        return 0;
    memset(&c, 0, sizeof(c));
    c.engaged_ms = r->ms;
    c.events = 1;
    return hz_store_add(w, site->name, day, HZ_DIM_GROUP, site->groups[g].name,
                        strlen(site->groups[g].name), &c);
}

int
hz_xfold_visit(hz_wtxn *w, const struct hz_site *site, struct hz_session *s,
               const struct hz_counts *vc, int count_visitor)
{
    int g = hz_group_match(site->groups, site->ngroups, s->entry, strlen(s->entry));
    struct hz_counts c;
    const char *name;

    if (g < 0)
        return 0;
    name = site->groups[g].name;
    c = *vc;
    c.visitors = 0;
    hz_session_mark(s, count_visitor, 0, HZ_DIM_ENTRY_GROUP, name, strlen(name), &c.visitors, NULL);
    if (memcmp(&c, &(struct hz_counts){0}, sizeof(c)) == 0)
        return 0;
    return hz_store_add(w, site->name, s->start_day, HZ_DIM_ENTRY_GROUP, name, strlen(name), &c);
}

int
hz_xfold_funnel(hz_wtxn *w, const struct hz_site *site, const struct hz_session *s,
                const char *funnel, int step, int has_time, uint64_t ms)
{
    struct xf_hit h = {site, s, NULL, -1, NULL};
    int rc;

    for (int i = 0; i < site->nfunnel_by; i++) {
        char seg[64];
        size_t vl = 0, n;
        const char *v = xf_value(&h, site->funnel_by[i], &vl);
        if (v == NULL)
            continue;
        n = hz_funnel_segment(seg, sizeof(seg), funnel, site->funnel_by[i], v, vl);
        if (n == 0) /* too long for a funnel key: the property's overflow segment */
            n = hz_funnel_segment(seg, sizeof(seg), funnel, site->funnel_by[i], "(other)", 7);
        if (n == 0)
            continue;
        if ((rc = hz_store_add_funnel(w, site->name, s->start_day, seg, step, 1, has_time, ms)) !=
            0)
            return rc;
    }
    return 0;
}
