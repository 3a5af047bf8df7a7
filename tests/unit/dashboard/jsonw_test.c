/* SPDX-License-Identifier: MIT */
/*
 * jsonw_test.c - the JSON writer: escaping of every dangerous character,
 * UTF-8 validation (bad bytes become U+FFFD), structure and numbers.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "dashboard/jsonw.h"

struct esc_case {
    char in[32];
    size_t len;
    char out[64];
};

/* clang-format off */
static struct esc_case esc_cases[] = {
    { "plain", 5, "\"plain\"" },
    { "a\"b", 3, "\"a\\\"b\"" },
    { "a\\b", 3, "\"a\\\\b\"" },
    { "</script>", 9, "\"<\\/script>\"" },
    { "\n\r\t", 3, "\"\\n\\r\\t\"" },
    { "\x01\x1f", 2, "\"\\u0001\\u001f\"" },
    { "a\0b", 3, "\"a\\u0000b\"" },
    { "\x7f", 1, "\"\\u007f\"" },
    { "\xe2\x80\xa8", 3, "\"\\u2028\"" },
    { "\xe2\x80\xa9", 3, "\"\\u2029\"" },
    { "\xc3\xa9\xe2\x82\xac", 5, "\"\xc3\xa9\xe2\x82\xac\"" },        /* e-acute, euro */
    { "\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"" },                /* emoji */
    { "\xff", 1, "\"\xef\xbf\xbd\"" },                                /* not UTF-8 */
    { "a\xe2\x82", 3, "\"a\xef\xbf\xbd\xef\xbf\xbd\"" },              /* truncated */
    { "\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"" },                /* overlong '/' */
    { "\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },/* surrogate */
    { "\xf4\x90\x80\x80", 4,
      "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },       /* > U+10FFFF */
    { "<img src=x onerror=alert(1)>", 28, "\"<img src=x onerror=alert(1)>\"" },
};
/* clang-format on */

ParameterizedTestParameters(jsonw, escapes)
{
    return cr_make_param_array(struct esc_case, esc_cases,
                               sizeof(esc_cases) / sizeof(esc_cases[0]));
}

ParameterizedTest(struct esc_case *c, jsonw, escapes)
{
    struct hz_jsonw w;

    hz_jsonw_init(&w);
    hz_jsonw_str(&w, c->in, c->len);
    cr_assert_eq(w.err, 0);
    cr_assert_str_eq(w.buf, c->out, "in %zu bytes -> %s", c->len, w.buf);
    hz_jsonw_free(&w);
}

Test(jsonw, object_and_array_commas)
{
    struct hz_jsonw w;
    size_t len;
    char *s;

    hz_jsonw_init(&w);
    hz_jsonw_obj_begin(&w);
    hz_jsonw_key(&w, "a");
    hz_jsonw_int(&w, -3);
    hz_jsonw_key(&w, "b");
    hz_jsonw_arr_begin(&w);
    hz_jsonw_uint(&w, 18446744073709551615ULL);
    hz_jsonw_null(&w);
    hz_jsonw_bool(&w, 1);
    hz_jsonw_bool(&w, 0);
    hz_jsonw_obj_begin(&w);
    hz_jsonw_obj_end(&w);
    hz_jsonw_arr_end(&w);
    hz_jsonw_key(&w, "c\"");
    hz_jsonw_cstr(&w, "");
    hz_jsonw_obj_end(&w);
    cr_assert_eq(w.err, 0);
    s = hz_jsonw_take(&w, &len);
    cr_assert_str_eq(s,
                     "{\"a\":-3,\"b\":[18446744073709551615,null,true,false,{}],\"c\\\"\":\"\"}");
    cr_assert_eq(len, strlen(s));
    free(s);
}

Test(jsonw, fixed_rounds_half_away_and_nulls_non_finite)
{
    struct hz_jsonw w;

    hz_jsonw_init(&w);
    hz_jsonw_arr_begin(&w);
    hz_jsonw_fixed(&w, 0.125, 2);
    hz_jsonw_fixed(&w, 2.5, 0);
    hz_jsonw_fixed(&w, -0.0001, 2);
    hz_jsonw_fixed(&w, 33.333333, 1);
    hz_jsonw_fixed(&w, 0.0 / 0.0, 1);
    hz_jsonw_fixed(&w, 1e300, 1);
    hz_jsonw_arr_end(&w);
    cr_assert_eq(w.err, 0);
    cr_assert_str_eq(w.buf, "[0.13,3,0.00,33.3,null,null]");
    hz_jsonw_free(&w);
}

Test(jsonw, misuse_is_flagged)
{
    struct hz_jsonw w;

    hz_jsonw_init(&w);
    hz_jsonw_obj_begin(&w);
    hz_jsonw_int(&w, 1); /* a value without a key */
    cr_assert_neq(w.err, 0);
    hz_jsonw_free(&w);

    hz_jsonw_init(&w);
    hz_jsonw_arr_begin(&w);
    hz_jsonw_obj_end(&w); /* wrong closer */
    cr_assert_neq(w.err, 0);
    hz_jsonw_free(&w);

    hz_jsonw_init(&w);
    for (int i = 0; i < HZ_JSONW_DEPTH + 2; i++)
        hz_jsonw_arr_begin(&w);
    cr_assert_neq(w.err, 0);
    hz_jsonw_free(&w);
}

Test(jsonw, take_resets_and_empty_writer_gives_empty_string)
{
    struct hz_jsonw w;
    size_t len = 99;
    char *s;

    hz_jsonw_init(&w);
    s = hz_jsonw_take(&w, &len);
    cr_assert_str_eq(s, "");
    cr_assert_eq(len, 0);
    free(s);
    cr_assert_null(w.buf);
}
