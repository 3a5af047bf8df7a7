/* SPDX-License-Identifier: MIT */
/*
 * col_bad_test.c - bad input: each request of the table gets its expected
 * 4xx with a one-line reason and adds nothing to the stream.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/integration/collector_env.h"

struct bad {
    char name[48];
    char method[8];
    char target[200];
    int target_pad; /* append this many 'a' to target */
    char headers[200];
    int header_pad; /* add an X-Pad header this long */
    char body[300];
    int body_pad; /* append this many spaces to body */
    int status;
};

#define PV_OK "\"u\":\"https://example.com/\",\"d\":\"example.com\""

/* clang-format off */
static struct bad bad_cases[] = {
    { "unknown site", "POST", "/api/event", 0, "", 0, "{\"n\":\"pageview\",\"u\":\"https://evil.test/\",\"d\":\"evil.test\"}", 0, 403 },
    { "truncated json", "POST", "/api/event", 0, "", 0, "{\"n\":\"pageview\",", 0, 400 },
    { "top-level array", "POST", "/api/event", 0, "", 0, "[1,2]", 0, 400 },
    { "empty body", "POST", "/api/event", 0, "", 0, "", 0, 400 },
    { "missing n", "POST", "/api/event", 0, "", 0, "{" PV_OK "}", 0, 400 },
    { "missing u", "POST", "/api/event", 0, "", 0, "{\"n\":\"pageview\",\"d\":\"example.com\"}", 0, 400 },
    { "missing d", "POST", "/api/event", 0, "", 0, "{\"n\":\"pageview\",\"u\":\"https://example.com/\"}", 0, 400 },
    { "n not a string", "POST", "/api/event", 0, "", 0, "{\"n\":5," PV_OK "}", 0, 400 },
    { "javascript url", "POST", "/api/event", 0, "", 0, "{\"n\":\"pageview\",\"u\":\"javascript:alert(1)\",\"d\":\"example.com\"}", 0, 400 },
    { "ftp url", "POST", "/api/event", 0, "", 0, "{\"n\":\"pageview\",\"u\":\"ftp://example.com/\",\"d\":\"example.com\"}", 0, 400 },
    { "host not the site", "POST", "/api/event", 0, "", 0, "{\"n\":\"pageview\",\"u\":\"https://other.test/\",\"d\":\"example.com\"}", 0, 400 },
    { "invalid utf-8", "POST", "/api/event", 0, "", 0, "{\"n\":\"pag\xff\xfeview\"," PV_OK "}", 0, 400 },
    { "escaped NUL", "POST", "/api/event", 0, "", 0, "{\"n\":\"page\\u0000view\"," PV_OK "}", 0, 400 },
    { "control byte in url", "POST", "/api/event", 0, "", 0, "{\"n\":\"pageview\",\"u\":\"https://example.com/\\u0001x\",\"d\":\"example.com\"}", 0, 400 },
    { "bad escape in url", "POST", "/api/event", 0, "", 0, "{\"n\":\"pageview\",\"u\":\"https://example.com/%G1\",\"d\":\"example.com\"}", 0, 400 },
    { "duplicate key", "POST", "/api/event", 0, "", 0, "{\"n\":\"pageview\",\"n\":\"x\"," PV_OK "}", 0, 400 },
    { "negative width", "POST", "/api/event", 0, "", 0, "{\"n\":\"pageview\",\"w\":-5," PV_OK "}", 0, 400 },
    { "engagement without e", "POST", "/api/event", 0, "", 0, "{\"n\":\"engagement\"," PV_OK "}", 0, 400 },
    { "engagement e too big", "POST", "/api/event", 0, "", 0, "{\"n\":\"engagement\",\"e\":99999999999," PV_OK "}", 0, 400 },
    { "body over the limit", "POST", "/api/event", 0, "", 0, "{\"n\":\"pageview\"," PV_OK "}", 9000, 413 },
    { "wrong content type", "POST", "/api/event", 0, "Content-Type: application/x-www-form-urlencoded\r\n", 0, "{\"n\":\"pageview\"," PV_OK "}", 0, 415 },
    { "uri over the limit", "GET", "/p.gif?d=example.com&u=https://example.com/", 5000, "", 0, "", 0, 414 },
    { "headers over the limit", "POST", "/api/event", 0, "", 9000, "{\"n\":\"pageview\"," PV_OK "}", 0, 431 },
    { "ua invalid utf-8", "POST", "/api/event", 0, "User-Agent: Mozilla/5.0 \xff\xfe Chrome/131.0\r\n", 0, "{\"n\":\"pageview\"," PV_OK "}", 0, 400 },
    { "garbage forwarded-for", "POST", "/api/event", 0, "X-Forwarded-For: not-an-ip\r\n", 0, "{\"n\":\"pageview\"," PV_OK "}", 0, 400 },
    { "pixel bad escape", "GET", "/p.gif?d=example.com&u=%zz", 0, "", 0, "", 0, 400 },
    { "pixel NUL in url", "GET", "/p.gif?d=example.com&u=https%3A%2F%2Fexample.com%2F%00x", 0, "", 0, "", 0, 400 },
    { "pixel missing d", "GET", "/p.gif?u=https%3A%2F%2Fexample.com%2F", 0, "", 0, "", 0, 400 },
    { "pixel unknown site", "GET", "/p.gif?d=evil.test&u=https%3A%2F%2Fevil.test%2F", 0, "", 0, "", 0, 403 },
    { "pixel no url no referer", "GET", "/p.gif?d=example.com", 0, "", 0, "", 0, 400 },
    { "GET on the events API", "GET", "/api/event", 0, "", 0, "", 0, 405 },
    { "unknown path", "GET", "/wp-login.php", 0, "", 0, "", 0, 404 },
};
/* clang-format on */

ParameterizedTestParameters(collector_bad, each)
{
    return cr_make_param_array(struct bad, bad_cases, sizeof(bad_cases) / sizeof(bad_cases[0]));
}

ParameterizedTest(struct bad *c, collector_bad, each, .timeout = 60)
{
    struct ce env;
    struct ht_response r;
    struct ce_entry en[2];
    char *target, *headers, *body;
    size_t tlen = strlen(c->target) + (size_t)c->target_pad + 1;
    size_t blen = strlen(c->body) + (size_t)c->body_pad;

    ce_start(&env, 0, NULL);
    target = malloc(tlen);
    snprintf(target, tlen, "%s", c->target);
    memset(target + strlen(c->target), 'a', (size_t)c->target_pad);
    target[tlen - 1] = '\0';
    headers = malloc(strlen(c->headers) + (size_t)c->header_pad + 256);
    sprintf(headers, "%s%s%s",
            strstr(c->headers, "Content-Type") ? "" : "Content-Type: text/plain\r\n",
            strstr(c->headers, "User-Agent") ? "" : "User-Agent: " CE_CHROME "\r\n", c->headers);
    if (c->header_pad) {
        strcat(headers, "X-Pad: ");
        size_t at = strlen(headers);
        memset(headers + at, 'p', (size_t)c->header_pad);
        strcpy(headers + at + c->header_pad, "\r\n");
    }
    body = malloc(blen + 1);
    memcpy(body, c->body, strlen(c->body));
    memset(body + strlen(c->body), ' ', (size_t)c->body_pad);
    body[blen] = '\0';

    cr_assert_eq(ht_http(env.port, c->method, target, headers, blen ? body : NULL, blen, &r), 0,
                 "%s: no answer", c->name);
    cr_expect_eq(r.status, c->status, "%s: status %d, want %d (%s)", c->name, r.status, c->status,
                 r.body);
    /* One line of reason, nothing echoed back. */
    if (r.status >= 400 && r.status != 413) {
        cr_expect_gt(r.body_len, 1, "%s: a reason", c->name);
        cr_expect_eq(strchr(r.body, '\n'), r.body + r.body_len - 1, "%s: one line", c->name);
    }
    ht_response_free(&r);
    cr_expect_eq(ce_entries(&env, en, 2, 1), 0, "%s: nothing reaches the stream", c->name);
    free(target);
    free(headers);
    free(body);
    ce_stop(&env);
}
