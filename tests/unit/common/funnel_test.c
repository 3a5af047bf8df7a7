/* SPDX-License-Identifier: MIT */
/*
 * funnel_test.c - funnel specs ("name: step > step ...") and the '*' glob
 * that matches page steps.
 */
#include "common/funnel.h"

#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

/* ---------------------------------------------------------------- parse */

Test(funnel_parse, design_example)
{
    const char *s = "checkout: /products/* > /cart > /checkout > /thanks";
    struct hz_funnel f;
    struct hz_err err;

    cr_assert_eq(hz_funnel_parse(s, strlen(s), &f, &err), 0, "%s", err.msg);
    cr_assert_str_eq(f.name, "checkout");
    cr_assert_eq(f.nsteps, 4);
    cr_assert_str_eq(f.steps[0], "/products/*");
    cr_assert_str_eq(f.steps[1], "/cart");
    cr_assert_str_eq(f.steps[2], "/checkout");
    cr_assert_str_eq(f.steps[3], "/thanks");
}

Test(funnel_parse, spacing_events_and_limits)
{
    struct hz_funnel f;
    struct hz_err err;
    const char *s;

    s = "\t sign-up_2 \t:\t/pricing>Signup >  /welcome\t";
    cr_assert_eq(hz_funnel_parse(s, strlen(s), &f, &err), 0, "%s", err.msg);
    cr_assert_str_eq(f.name, "sign-up_2");
    cr_assert_eq(f.nsteps, 3);
    cr_assert_str_eq(f.steps[0], "/pricing");
    cr_assert_str_eq(f.steps[1], "Signup");
    cr_assert_str_eq(f.steps[2], "/welcome");

    s = "two: /a > /b";
    cr_assert_eq(hz_funnel_parse(s, strlen(s), &f, &err), 0);
    cr_assert_eq(f.nsteps, 2);

    s = "eight: /1 > /2 > /3 > /4 > /5 > /6 > /7 > /8";
    cr_assert_eq(hz_funnel_parse(s, strlen(s), &f, &err), 0);
    cr_assert_eq(f.nsteps, 8);
    cr_assert_str_eq(f.steps[7], "/8");

    /* a step may hold ':' (only the first colon ends the name) */
    s = "t: /a:b > /c";
    cr_assert_eq(hz_funnel_parse(s, strlen(s), &f, &err), 0);
    cr_assert_str_eq(f.steps[0], "/a:b");

    /* UTF-8 in a step is fine */
    s = "u: /caf\xc3\xa9 > /b";
    cr_assert_eq(hz_funnel_parse(s, strlen(s), &f, &err), 0);
    cr_assert_str_eq(f.steps[0], "/caf\xc3\xa9");

    /* (buf, len): bytes after len are not read */
    s = "n: /a > /bXYZ";
    cr_assert_eq(hz_funnel_parse(s, 10, &f, &err), 0);
    cr_assert_str_eq(f.steps[1], "/b");
}

Test(funnel_parse, longest_name_and_step)
{
    char s[512], name[64], step[160];
    struct hz_funnel f;
    struct hz_err err;

    memset(name, 'n', HZ_FUNNEL_NAME_MAX - 1);
    name[HZ_FUNNEL_NAME_MAX - 1] = '\0';
    step[0] = '/';
    memset(step + 1, 's', HZ_FUNNEL_STEP_MAX - 2);
    step[HZ_FUNNEL_STEP_MAX - 1] = '\0';
    (void)snprintf(s, sizeof(s), "%s: %s > /b", name, step);
    cr_assert_eq(hz_funnel_parse(s, strlen(s), &f, &err), 0, "%s", err.msg);
    cr_assert_str_eq(f.name, name);
    cr_assert_str_eq(f.steps[0], step);

    (void)snprintf(s, sizeof(s), "%sx: /a > /b", name);
    cr_assert_eq(hz_funnel_parse(s, strlen(s), &f, &err), HZ_EINVAL);
    cr_assert_str_eq(err.msg, "funnel name must be 1..47 characters");
    (void)snprintf(s, sizeof(s), "f: %sx > /b", step);
    cr_assert_eq(hz_funnel_parse(s, strlen(s), &f, &err), HZ_EINVAL);
    cr_assert_str_eq(err.msg, "funnel step 1 is too long");
}

struct bad_funnel {
    char spec[96];
    int len; /* -1: strlen */
    char msg[64];
};

/* clang-format off */
static struct bad_funnel bad_funnels[] = {
    {"", -1, "expected 'name: step > step ...'"},
    {"/a > /b", -1, "expected 'name: step > step ...'"},
    {": /a > /b", -1, "funnel name must be 1..47 characters"},
    {"   : /a > /b", -1, "funnel name must be 1..47 characters"},
    {"my funnel: /a > /b", -1, "funnel name may use only A-Z a-z 0-9 _ -"},
    {"a.b: /a > /b", -1, "funnel name may use only A-Z a-z 0-9 _ -"},
    {"caf\xc3\xa9: /a > /b", -1, "funnel name may use only A-Z a-z 0-9 _ -"},
    {"one: /a", -1, "a funnel needs at least 2 steps"},
    {"none:", -1, "empty funnel step 1"},
    {"none:   ", -1, "empty funnel step 1"},
    {"e: /a > > /b", -1, "empty funnel step 2"},
    {"e: > /a > /b", -1, "empty funnel step 1"},
    {"e: /a > /b >", -1, "empty funnel step 3"},
    {"e: /a > /b > ", -1, "empty funnel step 3"},
    {"nine: /1 > /2 > /3 > /4 > /5 > /6 > /7 > /8 > /9", -1, "a funnel has at most 8 steps"},
    {"s: /a b > /c", -1, "funnel step 1 has a space or control"},
    {"s: /a > /b\x01", -1, "funnel step 2 has a space or control"},
    {"s: /a > /b\x7f", -1, "funnel step 2 has a space or control"},
    {"s: /a > /b\0c", 11, "funnel step 2 has a space or control"},
    {"u: /caf\xc3 > /b", -1, "funnel step 1 is not valid UTF-8 text"},
    {"u: /a > /\xc2\x85", -1, "funnel step 2 is not valid UTF-8 text"},
    {"u: /a > /\xed\xa0\x80", -1, "funnel step 2 is not valid UTF-8 text"},
};
/* clang-format on */

ParameterizedTestParameters(funnel_parse, rejects)
{
    return cr_make_param_array(struct bad_funnel, bad_funnels,
                               sizeof(bad_funnels) / sizeof(bad_funnels[0]));
}

ParameterizedTest(struct bad_funnel *c, funnel_parse, rejects)
{
    struct hz_funnel f;
    struct hz_err err;
    size_t len = c->len < 0 ? strlen(c->spec) : (size_t)c->len;

    memset(&f, 0x33, sizeof(f));
    memset(&err, 0, sizeof(err));
    cr_assert_eq(hz_funnel_parse(c->spec, len, &f, &err), HZ_EINVAL, "accepted '%s'", c->spec);
    cr_assert_str_eq(err.msg, c->msg, "'%s'", c->spec);
    cr_assert_eq(f.nsteps, 0x33333333, "out changed on error");
}

/* ----------------------------------------------------------------- glob */

struct glob_case {
    char pat[48];
    char s[64];
    int want;
};

/* clang-format off */
static struct glob_case glob_cases[] = {
    {"/cart", "/cart", 1},
    {"/cart", "/cart/", 0},            /* anchored at the end */
    {"/cart", "/x/cart", 0},           /* and at the start */
    {"/cart", "/car", 0},
    {"/cart", "", 0},
    {"", "", 1},
    {"", "/", 0},
    {"*", "", 1},
    {"*", "/anything/at/all", 1},
    {"**", "/x", 1},
    {"/products/*", "/products/42", 1},
    {"/products/*", "/products/", 1},  /* '*' may be empty */
    {"/products/*", "/products/a/b/c", 1},  /* '*' crosses '/' */
    {"/products/*", "/products", 0},
    {"/products/*", "/product/42", 0},
    {"/products/*", "/x/products/42", 0},
    {"*/cart", "/shop/cart", 1},
    {"*/cart", "/cart", 1},
    {"*/cart", "/cart/x", 0},
    {"/a*b*c", "/abc", 1},
    {"/a*b*c", "/a-x-b-y-c", 1},
    {"/a*b*c", "/a-x-b-y-c-", 0},
    {"/a*b*c", "/acb", 0},
    {"/a*b*c", "/abcbc", 1},
    {"/a*ab", "/aab", 1},
    {"/a*ab", "/aaab", 1},
    {"/a*ab", "/ab", 0},
    {"*a*a*a*", "/banana", 1},
    {"*a*a*a*a*", "/banana", 0},
    {"/*/edit", "/posts/12/edit", 1},
    {"/*/edit", "/edit", 0},
    {"/x*", "/x", 1},
    {"/x*y", "/xyyy", 1},
    {"/?", "/a", 0},                   /* only '*' is special */
    {"/[a]", "/a", 0},
};
/* clang-format on */

ParameterizedTestParameters(funnel_glob, match)
{
    return cr_make_param_array(struct glob_case, glob_cases,
                               sizeof(glob_cases) / sizeof(glob_cases[0]));
}

ParameterizedTest(struct glob_case *c, funnel_glob, match)
{
    cr_assert_eq(hz_glob_match(c->pat, c->s, strlen(c->s)), c->want, "'%s' ~ '%s'", c->pat, c->s);
}

Test(funnel_glob, length_bounds_the_subject)
{
    cr_assert_eq(hz_glob_match("/cart", "/cart/more", 5), 1);
    cr_assert_eq(hz_glob_match("/cart", "/cart", 4), 0);
    cr_assert_eq(hz_glob_match("/a*", "/a\0b", 4), 1);
    cr_assert_eq(hz_glob_match("/a", "/a\0", 3), 0);
}

Test(funnel_glob, many_stars_stay_fast)
{
    char s[4096];

    /* The classic exponential case for backtracking matchers. */
    memset(s, 'a', sizeof(s) - 1);
    s[sizeof(s) - 1] = '\0';
    cr_assert_eq(hz_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", s, strlen(s)), 0);
    cr_assert_eq(hz_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*", s, strlen(s)), 1);
}

/* ----------------------------------------------------------- step match */

Test(funnel_step, pages_and_events)
{
    const char *spec = "signup: /pricing/* > Signup > /welcome";
    struct hz_funnel f;

    cr_assert_eq(hz_funnel_parse(spec, strlen(spec), &f, NULL), 0);
    cr_assert_eq(hz_funnel_step_match(&f, 0, 1, "/pricing/pro", 12), 1);
    cr_assert_eq(hz_funnel_step_match(&f, 0, 0, "/pricing/pro", 12), 0); /* not an event */
    cr_assert_eq(hz_funnel_step_match(&f, 1, 0, "Signup", 6), 1);
    cr_assert_eq(hz_funnel_step_match(&f, 1, 0, "signup", 6), 0); /* exact */
    cr_assert_eq(hz_funnel_step_match(&f, 1, 0, "Signup2", 7), 0);
    cr_assert_eq(hz_funnel_step_match(&f, 1, 0, "Signup2", 6), 1); /* (buf, len) */
    cr_assert_eq(hz_funnel_step_match(&f, 1, 1, "Signup", 6), 0);  /* not a page */
    cr_assert_eq(hz_funnel_step_match(&f, 2, 1, "/welcome", 8), 1);
    cr_assert_eq(hz_funnel_step_match(&f, 2, 1, "/welcome/", 9), 0);
    cr_assert_eq(hz_funnel_step_match(&f, -1, 1, "/welcome", 8), 0);
    cr_assert_eq(hz_funnel_step_match(&f, 3, 1, "/welcome", 8), 0);
    cr_assert_eq(hz_funnel_step_match(&f, 99, 0, "Signup", 6), 0);
}
