/* SPDX-License-Identifier: MIT */
/* version.c - the version properties (version.h). Pure: no store, no I/O. */
#include "dashboard/version.h"

#include <string.h>

#include "common/groups.h"

enum hz_prop
hz_version_family(enum hz_prop p)
{
    return p == HZ_P_BROWSER_VERSION ? HZ_P_BROWSER : p == HZ_P_OS_VERSION ? HZ_P_OS : HZ_P_NONE;
}

/* Adds p to the distinct list ps (HZ_P_NONE skipped). */
static void
version_add(enum hz_prop *ps, int *n, enum hz_prop p)
{
    if (p == HZ_P_NONE)
        return;
    for (int i = 0; i < *n; i++)
        if (ps[i] == p)
            return;
    if (*n < HZ_FILTERS_MAX + 2)
        ps[(*n)++] = p;
}

int
hz_version_plan(struct hz_query *q)
{
    enum hz_prop ps[HZ_FILTERS_MAX + 2], ver = HZ_P_NONE, fam;
    int n = 0;

    if (q->heat || q->xtab)
        return 0;
    if (q->kind == HZ_Q_BREAKDOWN)
        version_add(ps, &n, q->prop);
    version_add(ps, &n, q->prop2);
    for (int i = 0; i < q->nfilters; i++)
        version_add(ps, &n, q->filters[i].prop);
    for (int i = 0; i < n; i++)
        if (hz_version_family(ps[i]) != HZ_P_NONE)
            ver = ps[i];
    if (ver == HZ_P_NONE)
        return 0;
    fam = hz_version_family(ver);
    for (int i = 0; i < n; i++)
        if (ps[i] != ver && ps[i] != fam)
            return 0; /* another property: a declared pair, or a 400 */
    q->ver = ver;
    q->vproj = HZ_VPROJ_BOTH;
    if (q->kind == HZ_Q_BREAKDOWN) {
        if (q->prop == ver && q->prop2 == HZ_P_NONE)
            q->vproj = q->v2 ? HZ_VPROJ_VERSION : HZ_VPROJ_BOTH;
        else if (q->prop == ver && q->prop2 == fam)
            q->vproj = HZ_VPROJ_SWAPPED;
        else if (q->prop == fam && q->prop2 == HZ_P_NONE)
            q->vproj = HZ_VPROJ_FAMILY;
    }
    /* Plausible keeps major.minor ("131.0"): its exact values compare as
     * their major, so a copied filter still matches. */
    for (int i = 0; i < q->nfilters; i++) {
        struct hz_filter *f = &q->filters[i];
        if (f->prop != ver || (f->op != HZ_FOP_IS && f->op != HZ_FOP_IS_NOT))
            continue;
        for (int v = 0; v < f->nvalues; v++) {
            char *dot = strchr(f->values[v], '.');
            if (dot != NULL && dot != f->values[v])
                *dot = '\0';
        }
    }
    return 1;
}

const char *
hz_version_part(enum hz_prop fp, const char *v, size_t vlen, size_t *plen)
{
    const char *sep = memchr(v, HZ_CELL_SEP, vlen);

    if (sep == NULL) {
        *plen = vlen;
        return v;
    }
    if (fp == HZ_P_BROWSER || fp == HZ_P_OS) {
        *plen = (size_t)(sep - v);
        return v;
    }
    *plen = vlen - (size_t)(sep - v) - 1;
    return sep + 1;
}

size_t
hz_version_parent(const char *v, size_t vlen, char *out, size_t cap)
{
    const char *sep = memchr(v, HZ_CELL_SEP, vlen);
    size_t fl, ol = strlen(HZ_OTHER_VALUE);

    if (sep == NULL)
        return 0;
    fl = (size_t)(sep - v);
    if (vlen - fl - 1 == ol && memcmp(sep + 1, HZ_OTHER_VALUE, ol) == 0)
        return 0;
    if (fl + 1 + ol >= cap)
        return 0;
    memcpy(out, v, fl + 1);
    memcpy(out + fl + 1, HZ_OTHER_VALUE, ol);
    out[fl + 1 + ol] = '\0';
    return fl + 1 + ol;
}

void
hz_version_project(struct hz_qres *r, enum hz_vproj mode)
{
    struct hz_qres p;

    if (mode == HZ_VPROJ_BOTH)
        return;
    hz_qres_init(&p);
    for (size_t i = 0; i < r->n; i++) {
        size_t len, fl, ml, k;
        const char *v = hz_qres_value(r, i, &len), *f, *m;
        char key[2 * HZ_FILTER_VALUE_MAX];

        if (r->rows[i].hidden || !r->rows[i].matched)
            continue;
        f = hz_version_part(HZ_P_BROWSER, v, len, &fl);
        m = hz_version_part(HZ_P_BROWSER_VERSION, v, len, &ml);
        if (fl + ml + 1 > sizeof key)
            continue; /* cannot happen: the record's limits */
        if (mode == HZ_VPROJ_FAMILY) {
            memcpy(key, f, fl);
            k = fl;
        } else if (mode == HZ_VPROJ_VERSION || f == m) {
            memcpy(key, m, ml);
            k = ml;
        } else {
            memcpy(key, m, ml);
            key[ml] = HZ_CELL_SEP;
            memcpy(key + ml + 1, f, fl);
            k = ml + 1 + fl;
        }
        size_t d = hz_qres_row(&p, key, k);
        hz_qrow_add(&p.rows[d], &r->rows[i]);
        p.rows[d].matched = 1;
        p.rows[d].dest = (int32_t)d;
        /* A family's "(other)" summed per family is the family's. */
        if (r->rows[i].other && !(mode == HZ_VPROJ_FAMILY && f != m))
            p.rows[d].other = 1;
    }
    p.folded = r->folded;
    p.from = r->from;
    p.to = r->to;
    p.xsince = r->xsince;
    hz_qres_free(r);
    *r = p;
}
