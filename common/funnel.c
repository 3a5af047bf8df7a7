/* SPDX-License-Identifier: MIT */
/* funnel.c - funnel spec parser and step matcher. No I/O. */
#include "common/funnel.h"

#include <string.h>

#include "common/str.h"

static int
funnel_is_space(char c)
{
    return c == ' ' || c == '\t';
}

int
hz_funnel_parse(const char *s, size_t len, struct hz_funnel *out, struct hz_err *err)
{
    struct hz_funnel f;
    const char *colon = memchr(s, ':', len);
    size_t i, n;

    memset(&f, 0, sizeof(f));
    if (colon == NULL)
        return hz_err_set(err, HZ_EINVAL, "expected 'name: step > step ...'");
    n = (size_t)(colon - s);
    while (n > 0 && funnel_is_space(s[n - 1]))
        n--;
    i = 0;
    while (i < n && funnel_is_space(s[i]))
        i++;
    if (n - i == 0 || n - i >= sizeof(f.name))
        return hz_err_set(err, HZ_EINVAL, "funnel name must be 1..%d characters",
                          HZ_FUNNEL_NAME_MAX - 1);
    for (size_t k = i; k < n; k++) {
        char c = s[k];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return hz_err_set(err, HZ_EINVAL, "funnel name may use only A-Z a-z 0-9 _ -");
    }
    memcpy(f.name, s + i, n - i);

    i = (size_t)(colon - s) + 1;
    for (;;) {
        size_t a, b;
        while (i < len && funnel_is_space(s[i]))
            i++;
        a = i;
        while (i < len && s[i] != '>')
            i++;
        b = i;
        while (b > a && funnel_is_space(s[b - 1]))
            b--;
        if (b == a)
            return hz_err_set(err, HZ_EINVAL, "empty funnel step %d", f.nsteps + 1);
        if (f.nsteps >= HZ_FUNNEL_STEPS_MAX)
            return hz_err_set(err, HZ_EINVAL, "a funnel has at most %d steps", HZ_FUNNEL_STEPS_MAX);
        if (b - a >= HZ_FUNNEL_STEP_MAX)
            return hz_err_set(err, HZ_EINVAL, "funnel step %d is too long", f.nsteps + 1);
        for (size_t k = a; k < b; k++) {
            unsigned char c = (unsigned char)s[k];
            if (c <= 0x20 || c == 0x7f)
                return hz_err_set(err, HZ_EINVAL, "funnel step %d has a space or control",
                                  f.nsteps + 1);
        }
        /* Steps are shown on the dashboard: text only, like every value. */
        if (!hz_text_valid(s + a, b - a))
            return hz_err_set(err, HZ_EINVAL, "funnel step %d is not valid UTF-8 text",
                              f.nsteps + 1);
        memcpy(f.steps[f.nsteps], s + a, b - a);
        f.nsteps++;
        if (i >= len)
            break;
        i++; /* skip '>' */
    }
    if (f.nsteps < HZ_FUNNEL_STEPS_MIN)
        return hz_err_set(err, HZ_EINVAL, "a funnel needs at least %d steps", HZ_FUNNEL_STEPS_MIN);
    *out = f;
    return 0;
}

int
hz_glob_match(const char *pat, const char *s, size_t slen)
{
    size_t si = 0, star_si = 0;
    const char *star = NULL;

    /* Iterative glob with one backtrack point: linear in practice. */
    while (si < slen) {
        if (*pat == '*') {
            star = pat++;
            star_si = si;
        } else if (*pat != '\0' && *pat == s[si]) {
            pat++;
            si++;
        } else if (star != NULL) {
            pat = star + 1;
            si = ++star_si;
        } else {
            return 0;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

int
hz_funnel_step_match(const struct hz_funnel *f, int i, int is_pageview, const char *value,
                     size_t vlen)
{
    const char *step;

    if (i < 0 || i >= f->nsteps)
        return 0;
    step = f->steps[i];
    if (step[0] == '/')
        return is_pageview && hz_glob_match(step, value, vlen);
    return !is_pageview && strlen(step) == vlen && memcmp(step, value, vlen) == 0;
}
