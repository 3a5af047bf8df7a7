/* SPDX-License-Identifier: MIT */
/*
 * jsonw.c - streaming JSON writer (see jsonw.h). Strings are decoded as
 * UTF-8 one code point at a time, so escaping and validation are one pass:
 * only well-formed sequences are copied, everything else becomes U+FFFD.
 */
#include "dashboard/jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"

/* first[0] = 1: no top-level value written yet. */
void
hz_jsonw_init(struct hz_jsonw *w)
{
    memset(w, 0, sizeof(*w));
    w->first[0] = 1;
}

void
hz_jsonw_free(struct hz_jsonw *w)
{
    if (w == NULL)
        return;
    free(w->buf);
    hz_jsonw_init(w);
}

/* An empty writer still hands out a valid (empty) string. */
char *
hz_jsonw_take(struct hz_jsonw *w, size_t *len)
{
    char *b = w->buf;

    if (b == NULL)
        b = hz_xstrdup("");
    *len = w->len;
    w->buf = NULL;
    hz_jsonw_init(w);
    return b;
}

/* Makes room for n more bytes plus the NUL; doubles the buffer. */
static void
jsonw_reserve(struct hz_jsonw *w, size_t n)
{
    size_t need = w->len + n + 1;

    if (need <= w->cap)
        return;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < need)
        cap *= 2;
    w->buf = hz_xreallocarray(w->buf, cap, 1);
    w->cap = cap;
}

/* Appends n bytes, keeping the buffer NUL-terminated. */
static void
jsonw_put(struct hz_jsonw *w, const char *s, size_t n)
{
    jsonw_reserve(w, n);
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

/*
 * Called before every value and key: writes the separating comma and checks
 * that a value inside an object follows its key.
 */
static void
jsonw_sep(struct hz_jsonw *w, int is_key)
{
    int d = w->depth;

    if (d < 0 || d >= HZ_JSONW_DEPTH) {
        w->err = HZ_EINVAL;
        return;
    }
    if (w->want_value) {
        if (is_key)
            w->err = HZ_EINVAL;
        w->want_value = 0;
        return;
    }
    if (d > 0 && w->isobj[d] && !is_key)
        w->err = HZ_EINVAL; /* a value in an object needs a key */
    if (d == 0 && !w->first[0])
        w->err = HZ_EINVAL; /* one top-level value only */
    if (!w->first[d])
        jsonw_put(w, ",", 1);
    w->first[d] = 0;
}

/* Opens an object or array as a value at the current position. */
static void
jsonw_open(struct hz_jsonw *w, int obj)
{
    jsonw_sep(w, 0);
    if (w->depth + 1 >= HZ_JSONW_DEPTH) {
        w->err = HZ_EINVAL;
        return;
    }
    w->depth++;
    w->first[w->depth] = 1;
    w->isobj[w->depth] = (unsigned char)obj;
    jsonw_put(w, obj ? "{" : "[", 1);
}

/*
 * Closes the innermost container; it must be of the same kind and not be
 * waiting for a value after a key.
 */
static void
jsonw_close(struct hz_jsonw *w, int obj)
{
    if (w->depth == 0 || w->isobj[w->depth] != obj || w->want_value) {
        w->err = HZ_EINVAL;
        return;
    }
    w->depth--;
    jsonw_put(w, obj ? "}" : "]", 1);
}

void
hz_jsonw_obj_begin(struct hz_jsonw *w)
{
    jsonw_open(w, 1);
}

void
hz_jsonw_obj_end(struct hz_jsonw *w)
{
    jsonw_close(w, 1);
}

void
hz_jsonw_arr_begin(struct hz_jsonw *w)
{
    jsonw_open(w, 0);
}

void
hz_jsonw_arr_end(struct hz_jsonw *w)
{
    jsonw_close(w, 0);
}

/*
 * Length of the well-formed UTF-8 sequence at p (n bytes available), with
 * its code point in *cp, or 0 when the bytes there are not one: overlong
 * forms, surrogates, values past U+10FFFF and truncated sequences are all
 * rejected (RFC 3629).
 */
static size_t
jsonw_utf8(const unsigned char *p, size_t n, uint32_t *cp)
{
    uint32_t c = p[0];
    size_t len;
    uint32_t min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        c &= 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        c &= 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        c &= 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/*
 * One pass: runs of plain bytes are copied at once; each escape or
 * replacement flushes the run first. The caller's comma logic is not
 * touched, so keys and values share this.
 */
void
hz_jsonw_escape(struct hz_jsonw *w, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    char esc[8];

    jsonw_reserve(w, len + 2);
    jsonw_put(w, "\"", 1);
    while (i < len) {
        uint32_t cp;
        size_t n = jsonw_utf8(p + i, len - i, &cp);
        const char *rep = NULL;
        size_t rlen = 2;

        if (n == 0) {
            rep = "\xef\xbf\xbd"; /* U+FFFD for a byte that starts no valid sequence */
            rlen = 3;
            n = 1;
        } else if (cp == '"') {
            rep = "\\\"";
        } else if (cp == '\\') {
            rep = "\\\\";
        } else if (cp == '/') {
            rep = "\\/"; /* "</script>" can never close a script element */
        } else if (cp == '\n') {
            rep = "\\n";
        } else if (cp == '\r') {
            rep = "\\r";
        } else if (cp == '\t') {
            rep = "\\t";
        } else if (cp < 0x20 || cp == 0x7f || cp == 0x2028 || cp == 0x2029) {
            (void)snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
            rep = esc;
            rlen = 6;
        }
        if (rep == NULL) {
            run += n; /* copied in one go when the run ends */
            i += n;
            continue;
        }
        if (run > 0)
            jsonw_put(w, s + i - run, run);
        run = 0;
        jsonw_put(w, rep, rlen);
        i += n;
    }
    if (run > 0)
        jsonw_put(w, s + i - run, run);
    jsonw_put(w, "\"", 1);
}

/* A key is only valid directly inside an object; the value must follow. */
void
hz_jsonw_key(struct hz_jsonw *w, const char *k)
{
    if (w->depth == 0 || !w->isobj[w->depth]) {
        w->err = HZ_EINVAL;
        return;
    }
    jsonw_sep(w, 1);
    hz_jsonw_escape(w, k, strlen(k));
    jsonw_put(w, ":", 1);
    w->want_value = 1;
}

void
hz_jsonw_str(struct hz_jsonw *w, const char *s, size_t len)
{
    jsonw_sep(w, 0);
    hz_jsonw_escape(w, s, len);
}

void
hz_jsonw_cstr(struct hz_jsonw *w, const char *s)
{
    hz_jsonw_str(w, s, strlen(s));
}

void
hz_jsonw_int(struct hz_jsonw *w, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRId64, v);

    jsonw_sep(w, 0);
    jsonw_put(w, num, (size_t)n);
}

void
hz_jsonw_uint(struct hz_jsonw *w, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRIu64, v);

    jsonw_sep(w, 0);
    jsonw_put(w, num, (size_t)n);
}

/*
 * snprintf would round half to even and may print "-0.00": rounding is done
 * here first, and a negative zero is normalised.
 */
int
hz_fmt_fixed(char out[48], double v, int decimals)
{
    double scale = 1;

    if (!isfinite(v) || fabs(v) > 1e15)
        return -1;
    if (decimals < 0)
        decimals = 0;
    if (decimals > 6)
        decimals = 6;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    /* Round half away from zero explicitly: printf rounds half to even. */
    v = round(v * scale) / scale;
    if (v == 0)
        v = 0; /* no "-0.00" */
    return snprintf(out, 48, "%.*f", decimals, v);
}

void
hz_jsonw_fixed(struct hz_jsonw *w, double v, int decimals)
{
    char num[48];
    int n = hz_fmt_fixed(num, v, decimals);

    if (n < 0) {
        hz_jsonw_null(w);
        return;
    }
    jsonw_sep(w, 0);
    jsonw_put(w, num, (size_t)n);
}

void
hz_jsonw_bool(struct hz_jsonw *w, int v)
{
    jsonw_sep(w, 0);
    if (v)
        jsonw_put(w, "true", 4);
    else
        jsonw_put(w, "false", 5);
}

void
hz_jsonw_null(struct hz_jsonw *w)
{
    jsonw_sep(w, 0);
    jsonw_put(w, "null", 4);
}
