/* SPDX-License-Identifier: MIT */
/*
 * csv_test.c - CSV export: formula neutralization of every dangerous first
 * character, RFC 4180 quoting, numbers left alone, invalid UTF-8 replaced.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "dashboard/csv.h"

struct cell_case {
    char in[40];
    size_t len;
    char out[64];
};

/* clang-format off */
static struct cell_case cell_cases[] = {
    { "/pricing", 8, "/pricing" },
    { "=HYPERLINK(\"x\")", 15, "\"'=HYPERLINK(\"\"x\"\")\"" },
    { "=1+1", 4, "'=1+1" },
    { "+1", 2, "'+1" },
    { "-2", 2, "'-2" },
    { "@SUM(A1)", 8, "'@SUM(A1)" },
    { "\tx", 2, "'\tx" },
    { "\rx", 2, "\"'\rx\"" },
    { "a,b", 3, "\"a,b\"" },
    { "a\"b", 3, "\"a\"\"b\"" },
    { "line\nbreak", 10, "\"line\nbreak\"" },
    { "x=1", 3, "x=1" },
    { "", 0, "" },
    { "\xc3\xa9t\xc3\xa9", 6, "\xc3\xa9t\xc3\xa9" },
    { "a\xff", 2, "a\xef\xbf\xbd" },
    { "=a,b", 4, "\"'=a,b\"" },
};
/* clang-format on */

ParameterizedTestParameters(csv, text_cells)
{
    return cr_make_param_array(struct cell_case, cell_cases,
                               sizeof(cell_cases) / sizeof(cell_cases[0]));
}

ParameterizedTest(struct cell_case *c, csv, text_cells)
{
    struct hz_csv w;

    hz_csv_init(&w);
    hz_csv_text(&w, c->in, c->len);
    cr_assert_str_eq(w.buf ? w.buf : "", c->out);
    hz_csv_free(&w);
}

Test(csv, rows_with_numbers_and_crlf)
{
    struct hz_csv w;
    size_t len;
    char *s;

    hz_csv_init(&w);
    hz_csv_text(&w, "page", 4);
    hz_csv_text(&w, "visitors", 8);
    hz_csv_text(&w, "exit_rate", 9);
    hz_csv_eol(&w);
    hz_csv_text(&w, "-evil", 5);
    hz_csv_uint(&w, 12);
    hz_csv_fixed(&w, 33.35, 1);
    hz_csv_eol(&w);
    hz_csv_text(&w, "/x", 2);
    hz_csv_empty(&w);
    hz_csv_fixed(&w, 0, 1);
    hz_csv_eol(&w);
    s = hz_csv_take(&w, &len);
    cr_assert_str_eq(s, "page,visitors,exit_rate\r\n'-evil,12,33.4\r\n/x,,0.0\r\n");
    cr_assert_eq(len, strlen(s));
    free(s);
}

Test(csv, dangerous_first_bytes)
{
    const char *bad = "=+-@\t\r";
    for (const char *p = bad; *p; p++)
        cr_assert(hz_csv_dangerous((unsigned char)*p));
    cr_assert_not(hz_csv_dangerous('/'));
    cr_assert_not(hz_csv_dangerous('a'));
    cr_assert_not(hz_csv_dangerous('\''));
}

/* Issue 14: a formula hides behind leading spaces or quotes, or in the
 * full-width forms some spreadsheets fold to ASCII. */
Test(csv, formulas_after_spaces_quotes_and_in_full_width)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"  =1+1", "'  =1+1\r\n"},
        {"'=cmd", "''=cmd\r\n"},
        {"\"=cmd", "\"'\"\"=cmd\"\r\n"},
        {" ' -2", "' ' -2\r\n"},
        {"\xef\xbc\x9d"
         "HYPERLINK(1)",
         "'\xef\xbc\x9d"
         "HYPERLINK(1)\r\n"}, /* ＝ */
        {"\xef\xbc\x8b"
         "1",
         "'\xef\xbc\x8b"
         "1\r\n"}, /* ＋ */
        {"\xef\xbc\x8d"
         "1",
         "'\xef\xbc\x8d"
         "1\r\n"}, /* － */
        {"\xef\xbc\xa0"
         "x",
         "'\xef\xbc\xa0"
         "x\r\n"}, /* ＠ */
        {"  /page", "  /page\r\n"},
        {"\xef\xbc\xa1"
         "B",
         "\xef\xbc\xa1"
         "B\r\n"}, /* Ａ: harmless */
        {"a=b", "a=b\r\n"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hz_csv w;
        size_t len;
        char *s;
        hz_csv_init(&w);
        hz_csv_text(&w, cases[i].in, strlen(cases[i].in));
        hz_csv_eol(&w);
        s = hz_csv_take(&w, &len);
        cr_expect_str_eq(s, cases[i].out, "case %zu", i);
        free(s);
    }
    cr_assert(hz_csv_formula("\"\" @SUM(A1)", 11));
    cr_assert_not(hz_csv_formula("   ", 3));
    cr_assert_not(hz_csv_formula("\xef\xbc", 2)); /* a cut sequence */
}
