/* SPDX-License-Identifier: MIT */
/*
 * str_test.c - hz_strtonum, hz_parse_u64, hz_text_valid (the UTF-8 and
 * control-character gate of every parser), hz_pct_decode and the small
 * helpers.
 */
#include "common/str.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "common/err.h"

/* ----------------------------------------------------------- strtonum */

struct num_case {
    char text[32];
    long long min, max;
    long long want;
    char errstr[12]; /* "" for success */
};

/* clang-format off */
static struct num_case num_cases[] = {
    {"0", 0, 10, 0, ""},
    {"10", 0, 10, 10, ""},
    {"-5", -10, 10, -5, ""},
    {"11", 0, 10, 0, "too large"},
    {"-1", 0, 10, 0, "too small"},
    {"", 0, 10, 0, "invalid"},
    {"abc", 0, 10, 0, "invalid"},
    {"12abc", 0, 100, 0, "invalid"},
    {"1.5", 0, 10, 0, "invalid"},
    {"5 ", 0, 10, 0, "invalid"},
    {"0x10", 0, 100, 0, "invalid"},
    {"9223372036854775807", 0, LLONG_MAX, LLONG_MAX, ""},
    {"9223372036854775808", 0, LLONG_MAX, 0, "too large"},
    {"-9223372036854775808", LLONG_MIN, 0, LLONG_MIN, ""},
    {"-9223372036854775809", LLONG_MIN, 0, 0, "too small"},
    {"99999999999999999999999", 0, 10, 0, "too large"},
    {"5", 10, 0, 0, "invalid"}, /* min > max */
};
/* clang-format on */

ParameterizedTestParameters(str_strtonum, cases)
{
    return cr_make_param_array(struct num_case, num_cases,
                               sizeof(num_cases) / sizeof(num_cases[0]));
}

ParameterizedTest(struct num_case *c, str_strtonum, cases)
{
    const char *errstr = "unset";
    long long v = hz_strtonum(c->text, c->min, c->max, &errstr);

    if (c->errstr[0] == '\0') {
        cr_assert_null(errstr, "'%s': %s", c->text, errstr);
        cr_assert_eq(v, c->want);
    } else {
        cr_assert_not_null(errstr, "'%s' accepted", c->text);
        cr_assert_str_eq(errstr, c->errstr, "'%s'", c->text);
        cr_assert_eq(v, 0);
    }
}

Test(str_strtonum, null_is_invalid)
{
    const char *errstr = NULL;

    cr_assert_eq(hz_strtonum(NULL, 0, 1, &errstr), 0);
    cr_assert_str_eq(errstr, "invalid");
}

/* ---------------------------------------------------------- parse_u64 */

struct u64_case {
    char text[32];
    int len; /* -1: strlen */
    uint64_t max;
    int ok;
    uint64_t want;
};

/* clang-format off */
static struct u64_case u64_cases[] = {
    {"0", -1, 10, 1, 0},
    {"7", -1, 7, 1, 7},
    {"8", -1, 7, 0, 0},
    {"007", -1, 100, 1, 7},
    {"18446744073709551615", -1, UINT64_MAX, 1, UINT64_MAX},
    {"18446744073709551616", -1, UINT64_MAX, 0, 0},
    {"99999999999999999999", -1, UINT64_MAX, 0, 0},
    {"000000000000000000001", -1, UINT64_MAX, 0, 0}, /* over 20 digits */
    {"", -1, 10, 0, 0},
    {"-1", -1, 10, 0, 0},
    {"+1", -1, 10, 0, 0},
    {" 1", -1, 10, 0, 0},
    {"1 ", -1, 10, 0, 0},
    {"1a", -1, 100, 0, 0},
    {"12345", 3, 1000, 1, 123},
    {"12\0" "3", 4, 1000, 0, 0},
};
/* clang-format on */

ParameterizedTestParameters(str_parse_u64, cases)
{
    return cr_make_param_array(struct u64_case, u64_cases,
                               sizeof(u64_cases) / sizeof(u64_cases[0]));
}

ParameterizedTest(struct u64_case *c, str_parse_u64, cases)
{
    uint64_t v = 4242;
    size_t len = c->len < 0 ? strlen(c->text) : (size_t)c->len;
    int rc = hz_parse_u64(c->text, len, c->max, &v);

    if (c->ok) {
        cr_assert_eq(rc, 0, "'%s'", c->text);
        cr_assert_eq(v, c->want);
    } else {
        cr_assert_eq(rc, HZ_EINVAL, "'%.*s' accepted", (int)len, c->text);
        cr_assert_eq(v, 4242, "out changed on error");
    }
}

/* --------------------------------------------------------- text_valid */

struct text_case {
    char label[40];
    char bytes[16];
    int len;
    int valid;
};

/* clang-format off */
static struct text_case text_cases[] = {
    {"empty", "", 0, 1},
    {"ascii", "Hello, /world?", 14, 1},
    {"space and tilde", " ~", 2, 1},
    {"NUL", "a\0b", 3, 0},
    {"tab", "a\tb", 3, 0},
    {"newline", "a\n", 2, 0},
    {"escape", "\x1b[0m", 4, 0},
    {"DEL", "\x7f", 1, 0},
    {"2-byte e-acute", "caf\xc3\xa9", 5, 1},
    {"3-byte euro", "\xe2\x82\xac", 3, 1},
    {"4-byte emoji", "\xf0\x9f\x98\x80", 4, 1},
    {"U+00A0 after C1", "\xc2\xa0", 2, 1},
    {"U+07FF", "\xdf\xbf", 2, 1},
    {"U+0800", "\xe0\xa0\x80", 3, 1},
    {"U+FFFF", "\xef\xbf\xbf", 3, 1},
    {"U+10000", "\xf0\x90\x80\x80", 4, 1},
    {"U+10FFFF", "\xf4\x8f\xbf\xbf", 4, 1},
    {"C1 U+0080", "\xc2\x80", 2, 0},
    {"C1 U+0085 NEL", "\xc2\x85", 2, 0},
    {"C1 U+009F", "\xc2\x9f", 2, 0},
    {"overlong NUL C0 80", "\xc0\x80", 2, 0},
    {"overlong slash C0 AF", "\xc0\xaf", 2, 0},
    {"overlong C1 BF", "\xc1\xbf", 2, 0},
    {"overlong E0 80 80", "\xe0\x80\x80", 3, 0},
    {"overlong E0 9F BF", "\xe0\x9f\xbf", 3, 0},
    {"overlong F0 80 80 80", "\xf0\x80\x80\x80", 4, 0},
    {"overlong F0 8F BF BF", "\xf0\x8f\xbf\xbf", 4, 0},
    {"surrogate D800", "\xed\xa0\x80", 3, 0},
    {"surrogate DBFF", "\xed\xaf\xbf", 3, 0},
    {"surrogate DC00", "\xed\xb0\x80", 3, 0},
    {"surrogate DFFF", "\xed\xbf\xbf", 3, 0},
    {"U+110000", "\xf4\x90\x80\x80", 4, 0},
    {"F5 lead", "\xf5\x80\x80\x80", 4, 0},
    {"FF byte", "a\xff", 2, 0},
    {"FE byte", "\xfe", 1, 0},
    {"lone continuation", "\x80", 1, 0},
    {"truncated 2-byte", "caf\xc3", 4, 0},
    {"truncated 3-byte", "\xe2\x82", 2, 0},
    {"truncated 4-byte", "\xf0\x9f\x98", 3, 0},
    {"bad continuation", "\xc3\x28", 2, 0},
    {"ascii after lead", "\xe2\x82z", 3, 0},
    {"len stops early", "ok\xff", 2, 1},
};
/* clang-format on */

ParameterizedTestParameters(str_text_valid, cases)
{
    return cr_make_param_array(struct text_case, text_cases,
                               sizeof(text_cases) / sizeof(text_cases[0]));
}

ParameterizedTest(struct text_case *c, str_text_valid, cases)
{
    cr_assert_eq(hz_text_valid(c->bytes, (size_t)c->len), c->valid, "%s", c->label);
}

/* Every code point: valid unless a surrogate or a control; and every
 * 2-byte form, valid or not, agrees with that rule. */
Test(str_text_valid, all_code_points)
{
    char b[4];

    for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
        size_t n;
        int want = !(cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xdfff));
        if (cp < 0x80) {
            b[0] = (char)cp;
            n = 1;
        } else if (cp < 0x800) {
            b[0] = (char)(0xc0 | (cp >> 6));
            b[1] = (char)(0x80 | (cp & 0x3f));
            n = 2;
        } else if (cp < 0x10000) {
            b[0] = (char)(0xe0 | (cp >> 12));
            b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
            b[2] = (char)(0x80 | (cp & 0x3f));
            n = 3;
        } else {
            b[0] = (char)(0xf0 | (cp >> 18));
            b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
            b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
            b[3] = (char)(0x80 | (cp & 0x3f));
            n = 4;
        }
        if (hz_text_valid(b, n) != want)
            cr_assert_fail("U+%04X: got %d, want %d", cp, !want, want);
        /* Inside longer text, where eight ASCII bytes are checked at once. */
        {
            char t[32];
            memcpy(t, "abcdefghi", 9);
            memcpy(t + 9, b, n);
            memcpy(t + 9 + n, "jklmnopqr", 9);
            if (hz_text_valid(t, 18 + n) != want)
                cr_assert_fail("U+%04X in text: got %d, want %d", cp, !want, want);
        }
    }
}

/* Every byte value at every offset of a 24-byte printable text (the
 * eight-at-once check and the byte loop around it), and cut lengths. */
Test(str_text_valid, every_byte_at_every_offset)
{
    char t[24];

    for (int b = 0; b < 256; b++) {
        int want = b >= 0x20 && b <= 0x7e;
        for (size_t at = 0; at < sizeof(t); at++) {
            memset(t, 'a', sizeof(t));
            t[at] = (char)b;
            for (size_t len = at + 1; len <= sizeof(t); len += 7)
                if (hz_text_valid(t, len) != want)
                    cr_assert_fail("byte 0x%02x at %zu of %zu: got %d", b, at, len, !want);
            cr_assert_eq(hz_text_valid(t, at), 1, "the printable prefix of %zu", at);
        }
    }
}

/* ---------------------------------------------------------- pct_decode */

struct pct_case {
    char in[32];
    int plus_space;
    int cap;
    long want_len; /* -1: rejected */
    char want[32];
};

/* clang-format off */
static struct pct_case pct_cases[] = {
    {"", 0, 8, 0, ""},
    {"plain", 0, 8, 5, "plain"},
    {"a%20b", 0, 8, 3, "a b"},
    {"%2f%2F", 0, 8, 2, "//"},
    {"%e2%82%ac", 0, 8, 3, "\xe2\x82\xac"},
    {"a+b", 1, 8, 3, "a b"},
    {"a+b", 0, 8, 3, "a+b"},
    {"%2B", 1, 8, 1, "+"},
    {"%", 0, 8, -1, ""},
    {"%2", 0, 8, -1, ""},
    {"a%", 0, 8, -1, ""},
    {"%zz", 0, 8, -1, ""},
    {"%g0", 0, 8, -1, ""},
    {"%0g", 0, 8, -1, ""},
    {"%%41", 0, 8, -1, ""},
    {"% 41", 0, 8, -1, ""},
    {"abcd", 0, 4, 4, "abcd"},      /* exactly fits */
    {"abcde", 0, 4, -1, ""},        /* one too many */
    {"%41%42%43%44", 0, 4, 4, "ABCD"},
    {"%41%42%43%44%45", 0, 4, -1, ""},
};
/* clang-format on */

ParameterizedTestParameters(str_pct_decode, cases)
{
    return cr_make_param_array(struct pct_case, pct_cases,
                               sizeof(pct_cases) / sizeof(pct_cases[0]));
}

ParameterizedTest(struct pct_case *c, str_pct_decode, cases)
{
    char out[32];
    long n;

    memset(out, 0, sizeof(out));
    n = hz_pct_decode(out, (size_t)c->cap, c->in, strlen(c->in), c->plus_space);
    cr_assert_eq(n, c->want_len, "'%s': got %ld", c->in, n);
    if (n >= 0)
        cr_assert_eq(memcmp(out, c->want, (size_t)n), 0, "'%s'", c->in);
    cr_assert_eq(out[c->cap], 0, "wrote past cap");
}

Test(str_pct_decode, nul_escape_is_decoded_not_hidden)
{
    char out[8];

    /* %00 decodes to a NUL byte: callers must validate what they decode. */
    cr_assert_eq(hz_pct_decode(out, sizeof(out), "a%00b", 5, 0), 3);
    cr_assert_eq(memcmp(out, "a\0b", 3), 0);
    cr_assert_eq(hz_text_valid(out, 3), 0);
}

/* -------------------------------------------------------- small helpers */

Test(str_strlcpy, truncates_and_reports)
{
    char buf[6];

    memset(buf, 'x', sizeof(buf));
    cr_assert_eq(hz_strlcpy(buf, "hello world", sizeof(buf)), 11);
    cr_assert_str_eq(buf, "hello");
    cr_assert_eq(hz_strlcpy(buf, "hi", sizeof(buf)), 2);
    cr_assert_str_eq(buf, "hi");
    cr_assert_eq(hz_strlcpy(buf, "12345", sizeof(buf)), 5);
    cr_assert_str_eq(buf, "12345");
    buf[0] = 'q';
    cr_assert_eq(hz_strlcpy(buf, "abc", 0), 3);
    cr_assert_eq(buf[0], 'q', "size 0 must not write");
}

Test(str_memieq, ascii_case_only)
{
    cr_assert_eq(hz_memieq("Example.COM", 11, "example.com"), 1);
    cr_assert_eq(hz_memieq("example.com", 7, "example"), 1);
    cr_assert_eq(hz_memieq("example", 7, "example.com"), 0);
    cr_assert_eq(hz_memieq("", 0, ""), 1);
    cr_assert_eq(hz_memieq("[", 1, "{"), 0); /* not folded: '[' + 32 is '{' */
    cr_assert_eq(hz_memieq("\xc3\x89", 2, "\xc3\xa9"), 0);
}

Test(str_hex, lowercase_and_terminated)
{
    static const unsigned char in[] = {0x00, 0x7f, 0xa5, 0xff};
    char out[9];

    memset(out, 'x', sizeof(out));
    hz_hex(out, in, sizeof(in));
    cr_assert_str_eq(out, "007fa5ff");
    hz_hex(out, in, 0);
    cr_assert_str_eq(out, "");
}

Test(str_text_has_bidi, the_nine_controls_and_their_neighbours)
{
    char b[8];

    for (unsigned cp = 0x2020; cp <= 0x2070; cp++) {
        int want = (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
        b[0] = 'x';
        b[1] = (char)(0xe0 | (cp >> 12));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        cr_assert_eq(hz_text_has_bidi(b, 4), want, "U+%04X", cp);
        cr_assert_eq(hz_text_has_bidi(b, 3), 0, "cut U+%04X", cp);
        for (size_t at = 0; at < 12; at++) {
            char t[20];
            memset(t, 0xe2, sizeof(t)); /* lead bytes all around: only one is a control */
            memcpy(t + at, b + 1, 3);
            cr_assert_eq(hz_text_has_bidi(t, at + 3), want, "U+%04X at %zu", cp, at);
            cr_assert_eq(hz_text_has_bidi(t, at + 2), 0, "cut U+%04X at %zu", cp, at);
        }
    }
    cr_assert_eq(hz_text_has_bidi("", 0), 0);
}

Test(str_unhex, decodes_and_refuses)
{
    unsigned char o[4];

    cr_assert_eq(hz_unhex(o, "00fFa5", 6), 3);
    cr_assert_eq(o[0], 0);
    cr_assert_eq(o[1], 0xff);
    cr_assert_eq(o[2], 0xa5);
    cr_assert_eq(hz_unhex(o, "abc", 3), -1);
    cr_assert_eq(hz_unhex(o, "zz", 2), -1);
}

/* hz_utoa gives snprintf's digits: every value up to 100,000, each power
 * of ten and its neighbours, and UINT64_MAX. */
Test(str_utoa, matches_snprintf)
{
    char got[24], want[24];
    uint64_t p = 1;

    for (uint64_t v = 0; v <= 100000; v++) {
        size_t n = hz_utoa(v, got);
        cr_assert_eq(n, (size_t)snprintf(want, sizeof(want), "%" PRIu64, v));
        cr_assert_eq(memcmp(got, want, n), 0, "%s", want);
    }
    for (int i = 0; i < 20; i++, p *= 10)
        for (uint64_t v = p - 1; v <= p + 1; v++) {
            size_t n = hz_utoa(v, got);
            cr_assert_eq(n, (size_t)snprintf(want, sizeof(want), "%" PRIu64, v));
            cr_assert_eq(memcmp(got, want, n), 0, "%s", want);
        }
    cr_assert_eq(hz_utoa(UINT64_MAX, got), 20);
    cr_assert_eq(memcmp(got, "18446744073709551615", 20), 0);
}
