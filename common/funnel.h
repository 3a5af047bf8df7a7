/* SPDX-License-Identifier: MIT */
/*
 * funnel.h - funnel specs ("checkout: /products/STAR > /cart > /thanks", STAR = "*") and
 * step matching. A step that starts with '/' is a page pattern where '*'
 * matches any run of characters (including '/'); any other step is a
 * custom event name, matched exactly. Pure: no I/O, no globals.
 */
#ifndef HZ_COMMON_FUNNEL_H
#define HZ_COMMON_FUNNEL_H

#include <stddef.h>

#include "common/err.h"

#define HZ_FUNNEL_NAME_MAX  48
#define HZ_FUNNEL_STEP_MAX  120
#define HZ_FUNNEL_STEPS_MIN 2
#define HZ_FUNNEL_STEPS_MAX 8

struct hz_funnel {
    char name[HZ_FUNNEL_NAME_MAX];
    int nsteps;
    char steps[HZ_FUNNEL_STEPS_MAX][HZ_FUNNEL_STEP_MAX];
};

/* Parses "name: step > step [> step...]". 0, or HZ_EINVAL with a reason.
 * Names are [A-Za-z0-9_-]; 2..8 steps; steps are valid UTF-8 with no
 * spaces or controls. */
int hz_funnel_parse(const char *s, size_t len, struct hz_funnel *out, struct hz_err *err);

/* 1 if step i of f matches: a pageview of path (when is_pageview) or a
 * custom event named name (when !is_pageview). */
int hz_funnel_step_match(const struct hz_funnel *f, int i, int is_pageview, const char *value,
                         size_t vlen);

/* Glob with '*' only: 1 if (s, slen) matches the NUL-terminated pattern. */
int hz_glob_match(const char *pat, const char *s, size_t slen);

#endif
