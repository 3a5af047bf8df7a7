/* SPDX-License-Identifier: MIT */
/*
 * csv.c - RFC 4180 writer with formula neutralization (see csv.h).
 */
#include "dashboard/csv.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/str.h"
#include "dashboard/jsonw.h"

void
hz_csv_init(struct hz_csv *c)
{
    memset(c, 0, sizeof(*c));
}

void
hz_csv_free(struct hz_csv *c)
{
    if (c == NULL)
        return;
    free(c->buf);
    hz_csv_init(c);
}

char *
hz_csv_take(struct hz_csv *c, size_t *len)
{
    char *b = c->buf ? c->buf : hz_xstrdup("");

    *len = c->len;
    c->buf = NULL;
    hz_csv_init(c);
    return b;
}

/* Appends n bytes, doubling the buffer; keeps it NUL-terminated. */
static void
csv_put(struct hz_csv *c, const char *s, size_t n)
{
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 256;
        while (cap < c->len + n + 1)
            cap *= 2;
        c->buf = hz_xreallocarray(c->buf, cap, 1);
        c->cap = cap;
    }
    memcpy(c->buf + c->len, s, n);
    c->len += n;
    c->buf[c->len] = '\0';
}

/* The comma before every cell but the first of a line. */
static void
csv_sep(struct hz_csv *c)
{
    if (c->col++ > 0)
        csv_put(c, ",", 1);
}

/*
 * The characters spreadsheets treat as the start of a formula (OWASP CSV
 * injection), plus TAB and CR which some strip before looking.
 */
int
hz_csv_dangerous(unsigned char ch)
{
    return ch == '=' || ch == '+' || ch == '-' || ch == '@' || ch == '\t' || ch == '\r';
}

int
hz_csv_formula(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len && (p[i] == ' ' || p[i] == '\'' || p[i] == '"'))
        i++;
    if (i < len && hz_csv_dangerous(p[i]))
        return 1;
    /* Full-width = + - @ in UTF-8: EF BC 9D, EF BC 8B, EF BC 8D, EF BC A0. */
    if (i + 2 < len && p[i] == 0xef && p[i + 1] == 0xbc &&
        (p[i + 2] == 0x9d || p[i + 2] == 0x8b || p[i + 2] == 0x8d || p[i + 2] == 0xa0))
        return 1;
    return 0;
}

/* Length of a valid UTF-8 sequence at p, or 0 (same rules as hz_text_valid). */
static size_t
csv_utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    /* Overlongs and surrogates: the second byte's range decides. */
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] > 0x8f))
        return 0;
    return len;
}

/*
 * Quoting is decided on the raw bytes first (comma, quote, CR, LF); the
 * neutralizing quote goes inside the quotes, so the cell still starts with
 * ' for the spreadsheet. NULs are dropped: many readers end a cell there.
 */
void
hz_csv_text(struct hz_csv *c, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    int quote = 0;

    csv_sep(c);
    for (size_t i = 0; i < len; i++)
        if (p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n')
            quote = 1;
    if (quote)
        csv_put(c, "\"", 1);
    if (hz_csv_formula(s, len))
        csv_put(c, "'", 1);
    for (size_t i = 0; i < len;) {
        size_t n = csv_utf8_len(p + i, len - i);
        if (n == 0) {
            csv_put(c, "\xef\xbf\xbd", 3);
            i++;
        } else if (p[i] == '"') {
            csv_put(c, "\"\"", 2);
            i++;
        } else if (p[i] == '\0') {
            i++; /* a NUL would end the cell early in many readers */
        } else {
            csv_put(c, s + i, n);
            i += n;
        }
    }
    if (quote)
        csv_put(c, "\"", 1);
}

void
hz_csv_uint(struct hz_csv *c, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%" PRIu64, v);

    csv_sep(c);
    csv_put(c, num, (size_t)n);
}

/* Same digits as hz_jsonw_fixed (hz_fmt_fixed). */
void
hz_csv_fixed(struct hz_csv *c, double v, int decimals)
{
    char num[48];
    int n = hz_fmt_fixed(num, v, decimals);

    if (n < 0) {
        hz_csv_empty(c);
        return;
    }
    csv_sep(c);
    csv_put(c, num, (size_t)n);
}

void
hz_csv_empty(struct hz_csv *c)
{
    csv_sep(c);
}

void
hz_csv_eol(struct hz_csv *c)
{
    csv_put(c, "\r\n", 2);
    c->col = 0;
}
