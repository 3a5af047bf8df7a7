/* SPDX-License-Identifier: MIT */
/*
 * fuzz_funnel.c - funnel specs and the '*' glob.
 *
 * The input is a spec for hz_funnel_parse. Properties of a parsed funnel:
 * 2..8 non-empty steps of valid UTF-8 without spaces or controls, a name
 * of [A-Za-z0-9_-]; printing it back as "name: s1 > s2 ..." parses to the
 * same funnel; each step matches itself. The same bytes, split at the first
 * newline into pattern and subject, also check hz_glob_match against a
 * plain dynamic-programming matcher.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/funnel.h"
#include "common/str.h"

#define GLOB_MAX 256

/* Reference glob ('*' only, anchored): table over prefixes. */
static int
ref_glob(const char *pat, size_t plen, const char *s, size_t slen)
{
    static unsigned char m[GLOB_MAX + 1][GLOB_MAX + 1];

    m[0][0] = 1;
    for (size_t j = 1; j <= slen; j++)
        m[0][j] = 0;
    for (size_t i = 1; i <= plen; i++) {
        m[i][0] = pat[i - 1] == '*' && m[i - 1][0];
        for (size_t j = 1; j <= slen; j++)
            m[i][j] = pat[i - 1] == '*' ? (m[i - 1][j] || m[i][j - 1])
                                        : (pat[i - 1] == s[j - 1] && m[i - 1][j - 1]);
    }
    return m[plen][slen];
}

static void
check_glob(const uint8_t *data, size_t size)
{
    char pat[GLOB_MAX + 1];
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen, slen;

    if (nl == NULL)
        return;
    plen = (size_t)(nl - data);
    slen = size - plen - 1;
    if (plen > GLOB_MAX || slen > GLOB_MAX || memchr(data, '\0', plen) != NULL)
        return;
    memcpy(pat, data, plen);
    pat[plen] = '\0';
    if (hz_glob_match(pat, (const char *)nl + 1, slen) !=
        ref_glob(pat, plen, (const char *)nl + 1, slen))
        abort();
}

static void
check_funnel(const struct hz_funnel *f)
{
    struct hz_funnel again;
    char spec[1200];
    size_t n;

    if (f->nsteps < HZ_FUNNEL_STEPS_MIN || f->nsteps > HZ_FUNNEL_STEPS_MAX)
        abort();
    n = strlen(f->name);
    if (n == 0 || n >= HZ_FUNNEL_NAME_MAX ||
        strspn(f->name, "abcdefghijklmnopqrstuvwxyz"
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789_-") != n)
        abort();
    n = (size_t)snprintf(spec, sizeof(spec), "%s:", f->name);
    for (int i = 0; i < f->nsteps; i++) {
        const char *st = f->steps[i];
        size_t sl = strlen(st);
        if (sl == 0 || sl >= HZ_FUNNEL_STEP_MAX || !hz_text_valid(st, sl) ||
            strchr(st, ' ') != NULL || strchr(st, '>') != NULL)
            abort();
        if (!hz_funnel_step_match(f, i, st[0] == '/', st, sl))
            abort();
        n += (size_t)snprintf(spec + n, sizeof(spec) - n, "%s %s", i ? " >" : "", st);
    }
    memset(&again, 0, sizeof(again));
    if (hz_funnel_parse(spec, n, &again, NULL) != 0 || strcmp(again.name, f->name) != 0 ||
        again.nsteps != f->nsteps)
        abort();
    for (int i = 0; i < f->nsteps; i++)
        if (strcmp(again.steps[i], f->steps[i]) != 0)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hz_funnel f, before;
    struct hz_err err;

    memset(&f, 0xa5, sizeof(f));
    before = f;
    if (hz_funnel_parse((const char *)data, size, &f, &err) == 0)
        check_funnel(&f);
    else if (memcmp(&f, &before, sizeof(f)) != 0)
        abort(); /* an error leaves the output untouched */
    check_glob(data, size);
    return 0;
}
