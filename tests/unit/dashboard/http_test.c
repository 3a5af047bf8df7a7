/* SPDX-License-Identifier: MIT */
/*
 * http_test.c - the pure helpers behind authentication: cookie and form
 * parsing, the same-origin rule of the login and logout forms. (Token
 * comparison, sessions and the throttle: auth_test.c.)
 */
#include <string.h>

#include <criterion/criterion.h>

#include "dashboard/http.h"

Test(auth, cookie_header)
{
    const char *v;
    size_t len;

    cr_assert(hz_dash_cookie("haze_session=abc", "haze_session", &v, &len));
    cr_assert_eq(len, 3);
    cr_assert_eq(strncmp(v, "abc", 3), 0);
    cr_assert(hz_dash_cookie("a=1; haze_session=xyz ; b=2", "haze_session", &v, &len));
    cr_assert_eq(len, 3);
    cr_assert_eq(strncmp(v, "xyz", 3), 0);
    cr_assert_not(hz_dash_cookie("xhaze_session=1; haze_sessionx=2", "haze_session", &v, &len));
    cr_assert_not(hz_dash_cookie("", "haze_session", &v, &len));
}

Test(auth, login_form_field)
{
    char out[64];

    cr_assert_eq(hz_dash_form_field("token=a%2Bb+c", 13, "token", out, sizeof(out)), 5);
    cr_assert_str_eq(out, "a+b c");
    cr_assert_eq(hz_dash_form_field("x=1&token=t&y=2", 15, "token", out, sizeof(out)), 1);
    cr_assert_str_eq(out, "t");
    cr_assert_eq(hz_dash_form_field("tokens=1", 8, "token", out, sizeof(out)), -1);
    cr_assert_eq(hz_dash_form_field("token=%zz", 9, "token", out, sizeof(out)), -1);
    cr_assert_eq(hz_dash_form_field("token=0123456789", 16, "token", out, 5), -1);
}

Test(auth, same_origin_rule_for_login_and_logout)
{
    /* Sec-Fetch-Site decides when sent. */
    cr_assert(hz_dash_same_origin("null", "same-origin", "h:1", 0));
    cr_assert(hz_dash_same_origin(NULL, "none", "h:1", 1));
    cr_assert_not(hz_dash_same_origin("http://h:1", "cross-site", "h:1", 0));
    cr_assert_not(hz_dash_same_origin(NULL, "same-site", "h:1", 0));
    /* Otherwise Origin, scheme included. */
    cr_assert(hz_dash_same_origin("http://h:1", NULL, "h:1", 0));
    cr_assert(hz_dash_same_origin("https://h:1", NULL, "h:1", 1));
    cr_assert_not(hz_dash_same_origin("http://h:1", NULL, "h:1", 1));
    cr_assert_not(hz_dash_same_origin("null", NULL, "h:1", 0));
    cr_assert_not(hz_dash_same_origin("http://h:1", NULL, NULL, 0));
    /* Neither: not a browser page. */
    cr_assert(hz_dash_same_origin(NULL, NULL, "h:1", 0));
}
