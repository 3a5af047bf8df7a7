/* SPDX-License-Identifier: MIT */
/*
 * regex.h - the regular expressions of the v2 filters matches and
 * matches_not, over PCRE2 with hard limits so that a hostile pattern cannot
 * stall the dashboard: patterns are at most HZ_FILTER_VALUE_MAX - 1 bytes,
 * UTF-8 checked, compiled with PCRE2_NEVER_BACKSLASH_C and a nesting limit,
 * and matched with a match limit (backtracking steps), a depth limit and a
 * heap limit. A match that hits a limit counts as "no match" and is
 * reported, never retried. Subjects are row values (at most a few hundred
 * bytes), so a match costs at most HZ_RE_MATCH_LIMIT steps.
 */
#ifndef HZ_DASHBOARD_REGEX_H
#define HZ_DASHBOARD_REGEX_H

#include <stddef.h>

#include "common/err.h"

#define HZ_RE_MATCH_LIMIT 100000 /* backtracking steps per match */
#define HZ_RE_DEPTH_LIMIT 1000
#define HZ_RE_HEAP_LIMIT  1024 /* KiB per match */

typedef struct hz_re hz_re;

/* Compiles (pat, len); icase for case_sensitive: false. NULL and HZ_EINVAL
 * with "filters: invalid regular expression at offset N" in err. */
hz_re *hz_re_compile(const char *pat, size_t len, int icase, struct hz_err *err);
/* 1 match, 0 no match, -1 a limit was hit (treat as no match). */
int hz_re_match(hz_re *re, const char *s, size_t len);
void hz_re_free(hz_re *re); /* NULL-safe */

#endif
