/* SPDX-License-Identifier: MIT */
/*
 * version.h - the version properties, visit:browser_version and
 * visit:os_version (Plausible's names), kept as major versions only.
 *
 * Their rows live in one store dimension each, valued "family\x1fmajor"
 * ("Chrome\x1f131", "Windows\x1f11", "Chrome\x1f(not set)"; store.h): the
 * family is the row's parent. So a question about a version property and
 * its family (a filter visit:browser==Chrome with a breakdown by
 * visit:browser_version, the two dimensions [visit:browser,
 * visit:browser_version], a filter on a version with a breakdown by its
 * family) is a one-property question on the version rows: no declared
 * pair is needed, and the crowd-size rule folds the (family, major) rows
 * like any rows, before any filter (query.h). A small version first falls
 * back to its family's "(other)" row ("Chrome\x1f(other)") when that row
 * then reaches min_visitors, as a small region falls back to its country.
 *
 * Filters on the family read a row's family part, filters on the version
 * its major part; "131.0" (a Plausible value) compares as "131".
 * Answers show the parts the question names (hz_version_project).
 */
#ifndef HZ_DASHBOARD_VERSION_H
#define HZ_DASHBOARD_VERSION_H

#include <stddef.h>

#include "dashboard/query.h"

/* How a version question's rows are shown (q->vproj). */
enum hz_vproj {
    HZ_VPROJ_BOTH = 0, /* "family\x1fmajor": v1 (two keys), v2 [family, version] */
    HZ_VPROJ_FAMILY,   /* summed per family: a breakdown by the family */
    HZ_VPROJ_VERSION,  /* summed per major: v2 [version] alone, as Plausible */
    HZ_VPROJ_SWAPPED,  /* "major\x1ffamily": v2 [version, family] */
};

/* The family property of a version property (HZ_P_BROWSER for
 * HZ_P_BROWSER_VERSION), or HZ_P_NONE for any other. */
enum hz_prop hz_version_family(enum hz_prop p);

/* When q's properties (breakdown, second dimension, filters) are one
 * version property with or without its family, sets q->ver and q->vproj,
 * cuts the version filters' exact values to their major ("131.0" ->
 * "131") and returns 1; otherwise leaves q alone and returns 0. */
int hz_version_plan(struct hz_query *q);

/* The part of a version row's value (v, vlen) that filter property fp
 * reads: the family for the family property, the major otherwise. A
 * value without a separator ("(other)") is its own part. */
const char *hz_version_part(enum hz_prop fp, const char *v, size_t vlen, size_t *plen);

/* The fallback row of a version row (v, vlen): "family\x1f(other)" into
 * out (cap bytes). Its length, or 0 when the row has none (no separator,
 * or already a family's "(other)"). */
size_t hz_version_parent(const char *v, size_t vlen, char *out, size_t cap);

/* Replaces r's rows by the visible, matching ones summed per the parts
 * mode shows (HZ_VPROJ_FAMILY / _VERSION / _SWAPPED; _BOTH leaves r as it
 * is). "(other)" rows stay "(other)" (flag kept). r->folded is kept. */
void hz_version_project(struct hz_qres *r, enum hz_vproj mode);

#endif
