/* SPDX-License-Identifier: MIT */
/*
 * regex.c - PCRE2 behind hz_re (see regex.h). One compile and one match
 * context per pattern, so a pattern is self-contained and freed in one go.
 */
#include "dashboard/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>

struct hz_re {
    pcre2_code *code;
    pcre2_match_context *mctx;
    pcre2_match_data *md;
};

hz_re *
hz_re_compile(const char *pat, size_t len, int icase, struct hz_err *err)
{
    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    hz_re *re = calloc(1, sizeof(*re));
    int ecode = 0;
    PCRE2_SIZE eoff = 0;

    if (cctx == NULL || re == NULL) {
        pcre2_compile_context_free(cctx);
        free(re);
        hz_err_set(err, HZ_EINVAL, "filters: out of memory");
        return NULL;
    }
    (void)pcre2_set_parens_nest_limit(cctx, 32);
    (void)pcre2_set_max_pattern_length(cctx, 1024);
    re->code = pcre2_compile((PCRE2_SPTR)pat, len,
                             PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C | (icase ? PCRE2_CASELESS : 0),
                             &ecode, &eoff, cctx);
    pcre2_compile_context_free(cctx);
    if (re->code == NULL) {
        free(re);
        hz_err_set(err, HZ_EINVAL, "filters: invalid regular expression at offset %zu",
                   (size_t)eoff);
        return NULL;
    }
    re->mctx = pcre2_match_context_create(NULL);
    re->md = pcre2_match_data_create(1, NULL);
    if (re->mctx == NULL || re->md == NULL) {
        hz_re_free(re);
        hz_err_set(err, HZ_EINVAL, "filters: out of memory");
        return NULL;
    }
    (void)pcre2_set_match_limit(re->mctx, HZ_RE_MATCH_LIMIT);
    (void)pcre2_set_depth_limit(re->mctx, HZ_RE_DEPTH_LIMIT);
    (void)pcre2_set_heap_limit(re->mctx, HZ_RE_HEAP_LIMIT);
    return re;
}

/* Row values are valid UTF-8 (checked when they were stored, and again by
 * the filter parser for patterns), but PCRE2 checks the subject anyway:
 * an invalid one is "no match". */
int
hz_re_match(hz_re *re, const char *s, size_t len)
{
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, re->md, re->mctx);

    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH || (rc <= PCRE2_ERROR_UTF8_ERR1 && rc >= PCRE2_ERROR_UTF8_ERR21))
        return 0;
    return -1; /* match, depth or heap limit, or another failure */
}

void
hz_re_free(hz_re *re)
{
    if (re == NULL)
        return;
    pcre2_match_data_free(re->md);
    pcre2_match_context_free(re->mctx);
    pcre2_code_free(re->code);
    free(re);
}
