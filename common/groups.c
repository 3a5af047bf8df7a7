/* SPDX-License-Identifier: MIT */
/*
 * groups.c - page groups, goals and cross-tab pairs (see groups.h).
 */
#include "common/groups.h"

#include <string.h>

#include "common/funnel.h"
#include "common/str.h"

/* Trims ASCII spaces from both ends of (*s, *len). */
static void
grp_trim(const char **s, size_t *len)
{
    while (*len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

/* A name: printable UTF-8 text without controls, ',' ':' or HZ_CELL_SEP. */
static int
grp_name_ok(const char *s, size_t len)
{
    if (len == 0 || !hz_text_valid(s, len))
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f || ch == ',' || ch == ':')
            return 0;
    }
    return 1;
}

/* A page pattern: starts with '/', no spaces, controls or ','. */
static int
grp_pat_ok(const char *s, size_t len)
{
    if (len == 0 || s[0] != '/' || !hz_text_valid(s, len))
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch == 0x7f || ch == ',')
            return 0;
    }
    return 1;
}

int
hz_group_parse(const char *s, size_t len, struct hz_group *out, struct hz_err *err)
{
    const char *colon = memchr(s, ':', len), *p, *end = s + len;
    size_t nlen;

    memset(out, 0, sizeof(*out));
    if (colon == NULL)
        return hz_err_set(err, HZ_EINVAL, "expected NAME: /pattern, /pattern");
    p = s;
    nlen = (size_t)(colon - s);
    grp_trim(&p, &nlen);
    if (!grp_name_ok(p, nlen))
        return hz_err_set(err, HZ_EINVAL, "group name must be non-empty text without ',' or ':'");
    if (nlen >= HZ_GROUP_NAME_MAX)
        return hz_err_set(err, HZ_EINVAL, "group name longer than %d bytes", HZ_GROUP_NAME_MAX - 1);
    memcpy(out->name, p, nlen);
    for (p = colon + 1; p < end;) {
        size_t n;
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        if (p >= end)
            break;
        n = 0;
        while (p + n < end && p[n] != ',' && p[n] != ' ' && p[n] != '\t')
            n++;
        if (!grp_pat_ok(p, n))
            return hz_err_set(err, HZ_EINVAL, "group patterns are paths starting with '/'");
        if (n >= HZ_GROUP_PAT_MAX)
            return hz_err_set(err, HZ_EINVAL, "group pattern longer than %d bytes",
                              HZ_GROUP_PAT_MAX - 1);
        if (out->npats >= HZ_GROUP_PATS_MAX)
            return hz_err_set(err, HZ_EINVAL, "too many patterns in one group (%d at most)",
                              HZ_GROUP_PATS_MAX);
        memcpy(out->pats[out->npats++], p, n);
        p += n;
    }
    if (out->npats == 0)
        return hz_err_set(err, HZ_EINVAL, "a group needs at least one page pattern");
    return 0;
}

int
hz_goal_parse(const char *s, size_t len, struct hz_goal *out, struct hz_err *err)
{
    memset(out, 0, sizeof(*out));
    grp_trim(&s, &len);
    if (len > 0 && s[0] == '/') {
        if (!grp_pat_ok(s, len))
            return hz_err_set(err, HZ_EINVAL, "a page goal is a path pattern without spaces");
        if (len + 6 >= HZ_GOAL_NAME_MAX)
            return hz_err_set(err, HZ_EINVAL, "goal longer than %d bytes", HZ_GOAL_NAME_MAX - 7);
        memcpy(out->name, "Visit ", 6);
        memcpy(out->name + 6, s, len);
        out->page = 1;
        return 0;
    }
    if (!grp_name_ok(s, len))
        return hz_err_set(err, HZ_EINVAL, "expected a custom event name or a /page pattern");
    if (len >= HZ_GOAL_NAME_MAX)
        return hz_err_set(err, HZ_EINVAL, "goal longer than %d bytes", HZ_GOAL_NAME_MAX - 1);
    memcpy(out->name, s, len);
    return 0;
}

int
hz_group_match(const struct hz_group *g, int ngroups, const char *path, size_t plen)
{
    for (int i = 0; i < ngroups; i++)
        for (int j = 0; j < g[i].npats; j++)
            if (hz_glob_match(g[i].pats[j], path, plen))
                return i;
    return -1;
}

int
hz_goal_match(const struct hz_goal *g, int is_pageview, const char *value, size_t vlen)
{
    if (g->page)
        return is_pageview && hz_glob_match(g->name + 6, value, vlen);
    return !is_pageview && strlen(g->name) == vlen && memcmp(g->name, value, vlen) == 0;
}

/* clang-format off */
static const struct {
    const char *name;
    enum hz_dim dim;
} xt_props[] = {
    { "event:page",         HZ_DIM_PAGE },
    { "event:group",        HZ_DIM_GROUP },
    { "event:goal",         HZ_DIM_GOAL },
    { "event:name",         HZ_DIM_EVENT },
    { "visit:entry_page",   HZ_DIM_ENTRY },
    { "visit:source",       HZ_DIM_SOURCE },
    { "visit:utm_source",   HZ_DIM_UTM_SOURCE },
    { "visit:utm_medium",   HZ_DIM_UTM_MEDIUM },
    { "visit:utm_campaign", HZ_DIM_UTM_CAMPAIGN },
    { "visit:country",      HZ_DIM_COUNTRY },
    { "visit:region",       HZ_DIM_REGION },
    { "visit:browser",      HZ_DIM_BROWSER },
    { "visit:os",           HZ_DIM_OS },
    { "visit:device",       HZ_DIM_DEVICE },
};
/* clang-format on */

#define XT_NPROPS (sizeof(xt_props) / sizeof(xt_props[0]))

int
hz_crosstab_prop_find(const char *s, size_t len)
{
    for (size_t i = 0; i < XT_NPROPS; i++)
        if (strlen(xt_props[i].name) == len && memcmp(xt_props[i].name, s, len) == 0)
            return (int)xt_props[i].dim;
    return -1;
}

const char *
hz_crosstab_prop_name(enum hz_dim d)
{
    for (size_t i = 0; i < XT_NPROPS; i++)
        if (xt_props[i].dim == d)
            return xt_props[i].name;
    return NULL;
}

int
hz_crosstab_prop_event(enum hz_dim d)
{
    return d == HZ_DIM_PAGE || d == HZ_DIM_GROUP || d == HZ_DIM_GOAL || d == HZ_DIM_EVENT;
}

int
hz_crosstab_parse(const char *s, size_t len, struct hz_crosstab *out, struct hz_err *err)
{
    const char *x = NULL, *p;
    size_t l1, l2;
    int a, b;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i + 3 <= len; i++)
        if (s[i] == ' ' && s[i + 1] == 'x' && s[i + 2] == ' ') {
            x = s + i;
            break;
        }
    if (x == NULL)
        return hz_err_set(err, HZ_EINVAL, "expected PROPERTY x PROPERTY");
    p = s;
    l1 = (size_t)(x - s);
    grp_trim(&p, &l1);
    if ((a = hz_crosstab_prop_find(p, l1)) < 0)
        return hz_err_set(err, HZ_EINVAL, "unknown property %.*s", (int)(l1 > 40 ? 40 : l1), p);
    p = x + 3;
    l2 = (size_t)(s + len - p);
    grp_trim(&p, &l2);
    if ((b = hz_crosstab_prop_find(p, l2)) < 0)
        return hz_err_set(err, HZ_EINVAL, "unknown property %.*s", (int)(l2 > 40 ? 40 : l2), p);
    if (a == b)
        return hz_err_set(err, HZ_EINVAL, "a pair needs two different properties");
    if ((a == HZ_DIM_GOAL && b == HZ_DIM_EVENT) || (a == HZ_DIM_EVENT && b == HZ_DIM_GOAL))
        return hz_err_set(err, HZ_EINVAL, "event:goal x event:name is not a useful pair");
    out->a = (enum hz_dim)a;
    out->b = (enum hz_dim)b;
    return 0;
}

size_t
hz_crosstab_cell(char *out, size_t cap, enum hz_dim a, enum hz_dim b, const char *v1, size_t l1,
                 const char *v2, size_t l2)
{
    size_t n = 2 + l1 + 1 + l2;

    if (n >= cap || memchr(v1, HZ_CELL_SEP, l1) != NULL || memchr(v2, HZ_CELL_SEP, l2) != NULL ||
        memchr(v1, 0, l1) != NULL || memchr(v2, 0, l2) != NULL)
        return 0;
    out[0] = (char)('A' + (int)a);
    out[1] = (char)('A' + (int)b);
    memcpy(out + 2, v1, l1);
    out[2 + l1] = HZ_CELL_SEP;
    memcpy(out + 3 + l1, v2, l2);
    out[n] = '\0';
    return n;
}

int
hz_crosstab_split(const char *v, size_t vlen, enum hz_dim *a, enum hz_dim *b, const char **v1,
                  size_t *l1, const char **v2, size_t *l2)
{
    const char *sep;

    if (vlen < 3 || v[0] < 'A' || v[0] >= 'A' + HZ_DIM_COUNT || v[1] < 'A' ||
        v[1] >= 'A' + HZ_DIM_COUNT)
        return -1;
    sep = memchr(v + 2, HZ_CELL_SEP, vlen - 2);
    if (sep == NULL)
        return -1;
    *a = (enum hz_dim)(v[0] - 'A');
    *b = (enum hz_dim)(v[1] - 'A');
    *v1 = v + 2;
    *l1 = (size_t)(sep - (v + 2));
    *v2 = sep + 1;
    *l2 = vlen - (size_t)(sep + 1 - v);
    return 0;
}

int
hz_funnel_by_parse(const char *s, size_t len, enum hz_dim *out, int *n, struct hz_err *err)
{
    const char *p = s, *end = s + len;

    *n = 0;
    while (p < end) {
        size_t k = 0;
        int d;
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        if (p >= end)
            break;
        while (p + k < end && p[k] != ',' && p[k] != ' ' && p[k] != '\t')
            k++;
        d = hz_crosstab_prop_find(p, k);
        if (d < 0 || hz_crosstab_prop_event((enum hz_dim)d) || d == HZ_DIM_ENTRY)
            return hz_err_set(err, HZ_EINVAL,
                              "expected visit properties (visit:device, "
                              "visit:source, visit:region, ...)");
        for (int i = 0; i < *n; i++)
            if ((int)out[i] == d)
                return hz_err_set(err, HZ_EINVAL, "a property is listed twice");
        if (*n >= HZ_FUNNEL_BY_MAX)
            return hz_err_set(err, HZ_EINVAL, "at most %d properties", HZ_FUNNEL_BY_MAX);
        out[(*n)++] = (enum hz_dim)d;
        p += k;
    }
    if (*n == 0)
        return hz_err_set(err, HZ_EINVAL, "expected visit properties (visit:device, ...)");
    return 0;
}

size_t
hz_funnel_segment(char *out, size_t cap, const char *funnel, enum hz_dim d, const char *v,
                  size_t vlen)
{
    size_t fl = strlen(funnel), n = fl + 2 + vlen;

    if (n >= cap || n > 63 || memchr(v, 0, vlen) != NULL)
        return 0;
    memcpy(out, funnel, fl);
    out[fl] = HZ_CELL_SEP;
    out[fl + 1] = (char)('A' + (int)d);
    memcpy(out + fl + 2, v, vlen);
    out[n] = '\0';
    return n;
}
