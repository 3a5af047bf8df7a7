/* SPDX-License-Identifier: MIT */
/*
 * groups.h - a site's page groups, goals and declared cross-tabs (the
 * "group =", "goal =" and "crosstab =" keys of [site NAME]): parsing and
 * matching. Pure: no I/O, no globals (fuzzed by tests/fuzz/fuzz_groups.c).
 *
 *   group    = Business cards: /products/business-cards*, /designer/cards*
 *              a name, ':', then 1..6 page patterns ('*' = any run of
 *              characters, as in funnels), separated by ',' or spaces.
 *              A page belongs to the first group (in file order) one of
 *              whose patterns matches, otherwise to no group.
 *   goal     = Signup          a custom event, matched exactly
 *   goal     = /thanks*        a page pattern; the goal is named
 *                              "Visit /thanks*" (as Plausible names them)
 *   crosstab = event:group x visit:region
 *              two different properties of hz_crosstab_prop_find, joined
 *              by " x ". At most HZ_CROSSTABS_MAX per site.
 *
 * Cross-tab cells are stored as rows of dimension HZ_DIM_CROSS whose value
 * is hz_crosstab_cell(): two letters naming the pair's dimensions, then the
 * first property's value, HZ_CELL_SEP, the second's. Pairs are identified
 * by their dimensions, not by their place in the file, so reordering or
 * removing lines never moves counts between pairs.
 */
#ifndef HZ_COMMON_GROUPS_H
#define HZ_COMMON_GROUPS_H

#include <stddef.h>

#include "common/err.h"
#include "common/store.h"

#define HZ_GROUP_NAME_MAX 48
#define HZ_GROUP_PATS_MAX 6
#define HZ_GROUP_PAT_MAX  96
#define HZ_GROUPS_MAX     16
#define HZ_GOAL_NAME_MAX  104 /* "Visit " + a pattern */
#define HZ_GOALS_MAX      16
#define HZ_CROSSTABS_MAX  8
#define HZ_CELL_SEP       '\x1f'
#define HZ_FUNNEL_BY_MAX  4

struct hz_group {
    char name[HZ_GROUP_NAME_MAX];
    int npats;
    char pats[HZ_GROUP_PATS_MAX][HZ_GROUP_PAT_MAX];
};

struct hz_goal {
    char name[HZ_GOAL_NAME_MAX]; /* "Signup" or "Visit /thanks*" */
    int page;                    /* 1: a page pattern (name + 6), 0: an event name */
};

struct hz_crosstab {
    enum hz_dim a, b; /* the two properties' dimensions, as declared */
    int line;         /* line of the config file that declared it */
};

/* Parses a group spec. 0, or HZ_EINVAL with a one-line reason. */
int hz_group_parse(const char *s, size_t len, struct hz_group *out, struct hz_err *err);
/* Parses a goal spec (an event name, or a page pattern starting with '/'). */
int hz_goal_parse(const char *s, size_t len, struct hz_goal *out, struct hz_err *err);
/* Parses "PROP x PROP". 0, or HZ_EINVAL naming the bad part. */
int hz_crosstab_parse(const char *s, size_t len, struct hz_crosstab *out, struct hz_err *err);

/* Parses "visit:device, visit:source" (funnel_by): 1..HZ_FUNNEL_BY_MAX
 * distinct visit properties (not visit:entry_page) into out[], *n of them. */
int hz_funnel_by_parse(const char *s, size_t len, enum hz_dim *out, int *n, struct hz_err *err);
/* The store name of funnel's segment (d = v): "funnel\x1fD" + value (D the
 * dimension's letter), into out (cap bytes, at most 63 used: the store's
 * funnel-name limit). Its length, or 0 when it does not fit. */
size_t hz_funnel_segment(char *out, size_t cap, const char *funnel, enum hz_dim d, const char *v,
                         size_t vlen);

/* The index of the first group matching page (path, plen), or -1. */
int hz_group_match(const struct hz_group *g, int ngroups, const char *path, size_t plen);
/* 1 if goal g is reached by a pageview of path (is_pageview) or by a
 * custom event named value (!is_pageview). */
int hz_goal_match(const struct hz_goal *g, int is_pageview, const char *value, size_t vlen);

/* The properties a pair may use: "event:page" -> HZ_DIM_PAGE, ..., or -1. */
int hz_crosstab_prop_find(const char *s, size_t len);
/* The name of a dimension usable in a pair ("visit:region"), or NULL. */
const char *hz_crosstab_prop_name(enum hz_dim d);
/* 1 for dimensions whose value belongs to the hit (event:page, event:group,
 * event:goal, event:name), 0 for visit-level ones. */
int hz_crosstab_prop_event(enum hz_dim d);

/* The cell value of pair (a, b) for values (v1, v2) into out (cap bytes).
 * Returns its length, or 0 when it does not fit or a value holds
 * HZ_CELL_SEP or NUL. */
size_t hz_crosstab_cell(char *out, size_t cap, enum hz_dim a, enum hz_dim b, const char *v1,
                        size_t l1, const char *v2, size_t l2);
/* Splits a stored cell value: 0 and the pair's dims and both values
 * (pointers into v), or -1 when v is not a cell (e.g. "(other)"). */
int hz_crosstab_split(const char *v, size_t vlen, enum hz_dim *a, enum hz_dim *b, const char **v1,
                      size_t *l1, const char **v2, size_t *l2);

#endif
