/* SPDX-License-Identifier: MIT */
/*
 * cfg_test.c - haze.ini parsing: DESIGN.md's example file, defaults, every
 * error with its "NAME:LINE: [section] key: reason" message, sites,
 * aliases and funnels, the per-binary requirements and hz_cfg_load.
 */
#include "common/cfg.h"
#include "common/tz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

/* struct hz_config is large (sites x funnels): never on the stack. */
static struct hz_config *
cfg_new(void)
{
    struct hz_config *c = calloc(1, sizeof(*c));
    cr_assert_not_null(c);
    return c;
}

static struct hz_config *
parse_ok(const char *text)
{
    struct hz_config *c = cfg_new();
    struct hz_err err;

    memset(&err, 0, sizeof(err));
    cr_assert_eq(hz_cfg_parse_string(c, text, "t.ini", &err), 0, "unexpected error: %s", err.msg);
    return c;
}

/* ------------------------------------------------ DESIGN.md's example */

static const char design_ini[] =
    "[redis]\n"
    "address = 127.0.0.1:6379        ; or unix:/path/to/redis.sock\n"
    "stream  = haze:events\n"
    "\n"
    "[collector]\n"
    "listen          = 0.0.0.0:8080\n"
    "trusted_proxies = 127.0.0.1/8 ::1   ; only these may set X-Forwarded-For / Forwarded\n"
    "honor_dnt       = yes\n"
    "\n"
    "[geo]\n"
    "database = /var/lib/haze/GeoLite2-City.mmdb\n"
    "\n"
    "[aggregator]\n"
    "lmdb             = /var/lib/haze/db\n"
    "retention_days   = 400\n"
    "session_minutes  = 30\n"
    "\n"
    "[dashboard]\n"
    "listen       = 127.0.0.1:8081\n"
    "token        = change-me           ; API: Authorization: Bearer <token>\n"
    "min_visitors = 5\n"
    "\n"
    "[site example.com]\n"
    "timezone = Europe/Berlin\n"
    "funnel   = checkout: /products/* > /cart > /checkout > /thanks\n";

Test(cfg, design_example_parses)
{
    struct hz_config *c = parse_ok(design_ini);
    const struct hz_site *s;
    struct hz_err err;

    cr_assert_str_eq(c->path, "t.ini");
    cr_assert_eq(c->redis_address.is_unix, 0);
    cr_assert_str_eq(c->redis_address.host, "127.0.0.1");
    cr_assert_eq(c->redis_address.port, 6379);
    cr_assert_str_eq(c->redis_stream, "haze:events");
    cr_assert_str_eq(c->collector_listen.host, "0.0.0.0");
    cr_assert_eq(c->collector_listen.port, 8080);
    cr_assert_eq(c->trusted_proxies.n, 2);
    cr_assert_eq(c->trusted_proxies.nets[0].family, AF_INET);
    cr_assert_eq(c->trusted_proxies.nets[0].prefix, 8);
    cr_assert_eq(c->trusted_proxies.nets[1].family, AF_INET6);
    cr_assert_eq(c->trusted_proxies.nets[1].prefix, 128);
    cr_assert_eq(c->honor_dnt, 1);
    cr_assert_str_eq(c->geo_database, "/var/lib/haze/GeoLite2-City.mmdb");
    cr_assert_str_eq(c->lmdb, "/var/lib/haze/db");
    cr_assert_eq(c->retention_days, 400);
    cr_assert_eq(c->session_minutes, 30);
    cr_assert_str_eq(c->dashboard_listen.host, "127.0.0.1");
    cr_assert_eq(c->dashboard_listen.port, 8081);
    cr_assert_str_eq(c->token, "change-me");
    cr_assert_eq(c->min_visitors, 5);

    cr_assert_eq(c->nsites, 1);
    s = &c->sites[0];
    cr_assert_str_eq(s->name, "example.com");
    cr_assert_str_eq(s->timezone, "Europe/Berlin");
    cr_assert_eq(s->naliases, 0);
    cr_assert_eq(s->nfunnels, 1);
    cr_assert_str_eq(s->funnels[0].name, "checkout");
    cr_assert_eq(s->funnels[0].nsteps, 4);
    cr_assert_str_eq(s->funnels[0].steps[0], "/products/*");
    cr_assert_str_eq(s->funnels[0].steps[3], "/thanks");

    cr_assert_eq(hz_cfg_require_collector(c, &err), 0, "%s", err.msg);
    cr_assert_eq(hz_cfg_require_aggregator(c, &err), 0, "%s", err.msg);
    cr_assert_eq(hz_cfg_require_dashboard(c, &err), 0, "%s", err.msg);
    free(c);
}

Test(cfg, crlf_and_bom_are_accepted)
{
    struct hz_config *c =
        parse_ok("\xef\xbb\xbf[redis]\r\nstream = crlf:events\r\n\r\n[site a.example]\r\n");

    cr_assert_str_eq(c->redis_stream, "crlf:events");
    cr_assert_eq(c->nsites, 1);
    free(c);
}

/* ---------------------------------------------------------- defaults */

Test(cfg, defaults_apply_to_an_empty_file)
{
    struct hz_config *c = parse_ok("");

    cr_assert_str_eq(c->redis_address.host, "127.0.0.1");
    cr_assert_eq(c->redis_address.port, 6379);
    cr_assert_str_eq(c->redis_stream, "haze:events");
    cr_assert_eq(c->redis_maxlen, 10000000);
    cr_assert_str_eq(c->collector_listen.host, "0.0.0.0");
    cr_assert_eq(c->collector_listen.port, 8080);
    cr_assert_eq(c->trusted_proxies.n, 2);
    cr_assert_eq(c->honor_dnt, 1);
    cr_assert_eq(c->collector_threads, 0);
    cr_assert_eq(c->max_body, 8192);
    cr_assert_eq(c->max_url, 4096);
    cr_assert_eq(c->max_headers, 8192);
    cr_assert_eq(c->timeout_ms, 10000);
    cr_assert_str_eq(c->spool_dir, "/var/lib/haze/spool");
    cr_assert_eq(c->spool_max_mb, 256);
    cr_assert_eq(c->xadd_timeout_ms, 500);
    cr_assert_str_eq(c->geo_database, "");
    cr_assert_str_eq(c->lmdb, "/var/lib/haze/db");
    cr_assert_eq(c->retention_days, 400);
    cr_assert_eq(c->session_minutes, 30);
    cr_assert_eq(c->map_size_mb, 1024);
    cr_assert_eq(c->max_values, 10000);
    cr_assert_eq(c->batch, 5000);
    cr_assert_str_eq(c->group, "haze-aggregator");
    cr_assert_str_eq(c->dashboard_listen.host, "127.0.0.1");
    cr_assert_eq(c->dashboard_listen.port, 8081);
    cr_assert_str_eq(c->token, "");
    cr_assert_eq(c->min_visitors, 5);
    cr_assert_eq(c->nsites, 0);
    free(c);
}

Test(cfg, values_override_defaults)
{
    struct hz_config *c = parse_ok("[collector]\n"
                                   "honor_dnt = off\n"
                                   "threads = 4\n"
                                   "max_body = 256\n"
                                   "trusted_proxies = 10.0.0.0/8, 192.168.0.0/16 fd00::/8\n"
                                   "listen = [::]:8443\n"
                                   "[redis]\n"
                                   "address = unix:/run/redis/redis.sock\n");

    cr_assert_eq(c->honor_dnt, 0);
    cr_assert_eq(c->collector_threads, 4);
    cr_assert_eq(c->max_body, 256);
    cr_assert_eq(c->trusted_proxies.n, 3);
    cr_assert_eq(c->trusted_proxies.nets[2].prefix, 8);
    cr_assert_str_eq(c->collector_listen.host, "::");
    cr_assert_eq(c->collector_listen.port, 8443);
    cr_assert_eq(c->redis_address.is_unix, 1);
    cr_assert_str_eq(c->redis_address.path, "/run/redis/redis.sock");
    free(c);
}

struct bool_case {
    char text[8];
    int want;
};

static struct bool_case bool_cases[] = {
    {"yes", 1}, {"true", 1}, {"1", 1}, {"on", 1}, {"no", 0}, {"false", 0}, {"0", 0}, {"off", 0},
};

ParameterizedTestParameters(cfg, bool_spellings)
{
    return cr_make_param_array(struct bool_case, bool_cases,
                               sizeof(bool_cases) / sizeof(bool_cases[0]));
}

ParameterizedTest(struct bool_case *b, cfg, bool_spellings)
{
    char text[64];
    struct hz_config *c;

    (void)snprintf(text, sizeof(text), "[collector]\nhonor_dnt = %s\n", b->text);
    c = parse_ok(text);
    cr_assert_eq(c->honor_dnt, b->want, "%s", b->text);
    free(c);
}

/* ------------------------------------------------------------ errors */

struct err_case {
    char text[512];
    char want[192]; /* the whole message */
};

/* clang-format off */
static struct err_case err_cases[] = {
    {"[redis]\nstream = x\nbogus = 1\n",
     "t.ini:3: [redis] bogus: unknown key"},
    {"[nope]\na = b\n",
     "t.ini:2: [nope] a: unknown section"},
    {"stream = x\n",
     "t.ini:1: [] stream: unknown section"},
    {"[dashboard]\n\nmin_visitors = five\n",
     "t.ini:3: [dashboard] min_visitors: expected an integer 1..1000000 (invalid)"},
    {"[dashboard]\nmin_visitors = 0x10\n",
     "t.ini:2: [dashboard] min_visitors: expected an integer 1..1000000 (invalid)"},
    {"[aggregator]\nretention_days = 0\n",
     "t.ini:2: [aggregator] retention_days: expected an integer 1..3650 (too small)"},
    {"[aggregator]\nretention_days = 3651\n",
     "t.ini:2: [aggregator] retention_days: expected an integer 1..3650 (too large)"},
    {"[collector]\nthreads = 99999999999999999999\n",
     "t.ini:2: [collector] threads: expected an integer 0..64 (too large)"},
    {"[collector]\nhonor_dnt = maybe\n",
     "t.ini:2: [collector] honor_dnt: expected yes or no"},
    {"[collector]\nhonor_dnt = YES\n",
     "t.ini:2: [collector] honor_dnt: expected yes or no"},
    {"[redis]\naddress = localhost\n",
     "t.ini:2: [redis] address: expected host:port or unix:/path"},
    {"[collector]\nlisten = 0.0.0.0:70000\n",
     "t.ini:2: [collector] listen: port must be 1..65535"},
    {"[dashboard]\nlisten = [::1]8081\n",
     "t.ini:2: [dashboard] listen: expected [v6addr]:port"},
    {"[collector]\ntrusted_proxies = 127.0.0.1/8 10.0.0.0/33\n",
     "t.ini:2: [collector] trusted_proxies: bad network '10.0.0.0/33'"},
    {"[collector]\ntrusted_proxies = ::1 banana\n",
     "t.ini:2: [collector] trusted_proxies: bad network 'banana'"},
    {"[redis]\nstream = a\n; comment\nstream = b\n",
     "t.ini:4: [redis] stream: duplicate key"},
    {"[redis]\nstream = a\n[collector]\nthreads = 1\n[redis]\nstream = b\n",
     "t.ini:6: [redis] stream: duplicate key"},
    {"[redis]\nstream =\n",
     "t.ini:2: [redis] stream: must not be empty"},
    {"[redis]\nstream = 0123456789012345678901234567890123456789012345678901234567890123\n",
     "t.ini:2: [redis] stream: value too long"},
    {"[redis]\nstream = caf\xc3\n",
     "t.ini:2: [redis] stream: invalid characters"},
    {"[site a.example]\ntimezone = Mars/Olympus_Mons\n",
     "t.ini:2: [site a.example] timezone: unknown time zone"},
    {"[site a.example]\ntimezone = ../../etc/passwd\n",
     "t.ini:2: [site a.example] timezone: unknown time zone"},
    {"[site a.example]\ntimezone = Europe\n",
     "t.ini:2: [site a.example] timezone: unknown time zone"},
    {"[site a.example]\ntimezone = UTC\ntimezone = UTC\n",
     "t.ini:3: [site a.example] timezone: duplicate key"},
    {"[site a.example]\nfunnel = only: /a\n",
     "t.ini:2: [site a.example] funnel: a funnel needs at least 2 steps"},
    {"[site a.example]\nfunnel = /a > /b\n",
     "t.ini:2: [site a.example] funnel: expected 'name: step > step ...'"},
    {"[site a.example]\nfunnel = f: /a > /b\nfunnel = f: /c > /d\n",
     "t.ini:3: [site a.example] funnel: duplicate funnel name"},
    {"[site a.example]\ncolor = blue\n",
     "t.ini:2: [site a.example] color: unknown key"},
    {"[site a.example]\naliases = www.a.example Shop.a.example\n",
     "t.ini:2: [site a.example] aliases: aliases must be lowercase host names"},
    {"[site a.example]\naliases = a b c d e f g h i\n",
     "t.ini:2: [site a.example] aliases: too many aliases (8 at most)"},
    {"[site a.example]\n[site b.example]\naliases = www.b.example a.example\n",
     "t.ini:3: [site b.example] aliases: a.example is already used by site a.example"},
    {"[site a.example]\naliases = b.example\n[site b.example]\n",
     "t.ini:3: [site b.example]: already an alias of site a.example"},
    {"[site a.example]\ntimezone = UTC\n[site b.example]\n[site a.example]\ntimezone = UTC\n",
     "t.ini:4: [site a.example]: duplicate site section"},
    {"[site a.example]\ntimezone = UTC\n[site a.example]\nfunnel = f: /a > /b\n",
     "t.ini:3: [site a.example]: duplicate site section"},
    {"[site Example.com]\ntimezone = UTC\n",
     "t.ini:1: [site Example.com]: site name must be a lowercase host name"},
    {"[site]\ntimezone = UTC\n",
     "t.ini:1: [site]: site name must be a lowercase host name"},
    {"[site a_b.example]\n",
     "t.ini:1: [site a_b.example]: site name must be a lowercase host name"},
    /* inih keeps 49 bytes of a section name: a longer one is refused, not cut */
    {"[site abcdefghij.abcdefghij.abcdefghij.abcdefghij.example]\ntimezone = UTC\n",
     "t.ini:1: [site abcdefghij.abcdefghij.abcdefghij.abcdefghij.example]: section name longer than 49 bytes"},
    {"[redis]\nno equals sign here\n",
     "t.ini:2: syntax error (expected [section] or key = value)"},
    {"[redis\nstream = x\n",
     "t.ini:1: syntax error (expected [section] or key = value)"},
    /* the first error wins, whichever kind it is */
    {"[redis]\ngarbage\n[redis]\nbogus = 1\n",
     "t.ini:2: syntax error (expected [section] or key = value)"},
    {"[redis]\nbogus = 1\ngarbage\n",
     "t.ini:2: [redis] bogus: unknown key"},
};
/* clang-format on */

ParameterizedTestParameters(cfg_error, message_names_line_section_key)
{
    return cr_make_param_array(struct err_case, err_cases,
                               sizeof(err_cases) / sizeof(err_cases[0]));
}

ParameterizedTest(struct err_case *e, cfg_error, message_names_line_section_key)
{
    struct hz_config *c = cfg_new();
    struct hz_err err;

    memset(&err, 0, sizeof(err));
    cr_assert_eq(hz_cfg_parse_string(c, e->text, "t.ini", &err), HZ_ECONFIG, "accepted:\n%s",
                 e->text);
    cr_assert_eq(err.code, HZ_ECONFIG);
    cr_expect_str_eq(err.msg, e->want, "\n got: %s\nwant: %s", err.msg, e->want);
    cr_assert(strchr(err.msg, '\n') == NULL);
    free(c);
}

/* A line with n bytes of "; xxx..." comment (no newline counted). */
static void
comment_line(char *out, size_t n)
{
    out[0] = ';';
    memset(out + 1, 'x', n - 1);
    out[n] = '\0';
}

Test(cfg_error, line_over_199_bytes_is_named)
{
    struct hz_config *c = cfg_new();
    char text[1024], line[256];
    struct hz_err err;

    comment_line(line, 200);
    (void)snprintf(text, sizeof(text), "[redis]\nstream = x\n%s\nstream = y\n", line);
    cr_assert_eq(hz_cfg_parse_string(c, text, "t.ini", &err), HZ_ECONFIG);
    cr_assert_str_eq(err.msg, "t.ini:3: line longer than 199 bytes");

    /* A long funnel is the realistic case: never cut silently. */
    (void)snprintf(text, sizeof(text), "[site a.example]\nfunnel = f: /%0190d > /b\n", 0);
    cr_assert_eq(hz_cfg_parse_string(c, text, "t.ini", &err), HZ_ECONFIG);
    cr_assert_str_eq(err.msg, "t.ini:2: line longer than 199 bytes");

    /* The last line, without a newline. */
    (void)snprintf(text, sizeof(text), "[redis]\n%s", line);
    cr_assert_eq(hz_cfg_parse_string(c, text, "t.ini", &err), HZ_ECONFIG);
    cr_assert_str_eq(err.msg, "t.ini:2: line longer than 199 bytes");
    free(c);
}

/* Exactly 199 bytes is allowed, with "\n" or "\r\n", and does not shift
 * the line numbers of later errors (inih's buffer holds 199 bytes, so
 * the newline alone would otherwise come back as an extra line). */
Test(cfg_error, line_of_199_bytes_keeps_line_numbers)
{
    struct hz_config *c = cfg_new();
    char text[1024], line[256];
    struct hz_err err;

    comment_line(line, 199);
    (void)snprintf(text, sizeof(text), "%s\n[redis]\nbogus = 1\n", line);
    cr_assert_eq(hz_cfg_parse_string(c, text, "t.ini", &err), HZ_ECONFIG);
    cr_assert_str_eq(err.msg, "t.ini:3: [redis] bogus: unknown key");
    (void)snprintf(text, sizeof(text), "%s\r\n[redis]\r\nbogus = 1\r\n", line);
    cr_assert_eq(hz_cfg_parse_string(c, text, "t.ini", &err), HZ_ECONFIG);
    cr_assert_str_eq(err.msg, "t.ini:3: [redis] bogus: unknown key");

    /* A 199-byte value is parsed whole. */
    (void)snprintf(text, sizeof(text), "[geo]\ndatabase = /%0187d\n", 7);
    cr_assert_eq(strlen(text + 6), 199 + 1); /* line 2 and its newline */
    cr_assert_eq(hz_cfg_parse_string(c, text, "t.ini", &err), 0, "%s", err.msg);
    cr_assert_eq(strlen(c->geo_database), 188);
    free(c);
}

Test(cfg_error, too_many_funnels)
{
    struct hz_config *c = cfg_new();
    char text[2048];
    struct hz_err err;
    size_t n;

    n = (size_t)snprintf(text, sizeof(text), "[site a.example]\n");
    for (int i = 0; i < 17; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "funnel = f%d: /a > /b\n", i);
    cr_assert_eq(hz_cfg_parse_string(c, text, "t.ini", &err), HZ_ECONFIG);
    cr_assert_str_eq(err.msg, "t.ini:18: [site a.example] funnel: too many funnels (16 at most)");
    free(c);
}

Test(cfg_error, too_many_sites)
{
    struct hz_config *c = cfg_new();
    char text[4096];
    struct hz_err err;
    size_t n = 0;

    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "[site s%d.example]\n", i);
    cr_assert_eq(hz_cfg_parse_string(c, text, "t.ini", &err), HZ_ECONFIG);
    cr_assert_str_eq(err.msg, "t.ini:33: [site s32.example]: too many sites (32 at most)");
    free(c);
}

Test(cfg_error, null_err_is_allowed)
{
    struct hz_config *c = cfg_new();

    cr_assert_eq(hz_cfg_parse_string(c, "[x]\ny = z\n", "t.ini", NULL), HZ_ECONFIG);
    free(c);
}

/* ------------------------------------------------ sites, aliases, funnels */

Test(cfg_site, funnel_lines_accumulate)
{
    struct hz_config *c = parse_ok("[site shop.example]\n"
                                   "funnel = checkout: /products/* > /cart > /checkout > /thanks\n"
                                   "funnel = signup: /pricing > Signup\n"
                                   "timezone = America/New_York\n"
                                   "funnel = upload: /upload > /upload/* > /order > /order/paid\n");
    const struct hz_site *s = &c->sites[0];

    cr_assert_eq(c->nsites, 1);
    cr_assert_str_eq(s->timezone, "America/New_York");
    cr_assert_eq(s->nfunnels, 3);
    cr_assert_str_eq(s->funnels[0].name, "checkout");
    cr_assert_str_eq(s->funnels[1].name, "signup");
    cr_assert_eq(s->funnels[1].nsteps, 2);
    cr_assert_str_eq(s->funnels[1].steps[1], "Signup");
    cr_assert_str_eq(s->funnels[2].name, "upload");
    cr_assert_eq(s->funnels[2].nsteps, 4);
    free(c);
}

Test(cfg_site, site_without_keys_is_registered)
{
    struct hz_config *c = parse_ok("[site a.example]\n"
                                   "[site b.example]\n"
                                   "timezone = Asia/Kolkata\n"
                                   "[site c.example]\n");

    cr_assert_eq(c->nsites, 3);
    cr_assert_str_eq(c->sites[0].name, "a.example");
    cr_assert_str_eq(c->sites[0].timezone, "UTC");
    cr_assert_str_eq(c->sites[1].timezone, "Asia/Kolkata");
    cr_assert_str_eq(c->sites[2].name, "c.example");
    cr_assert_not_null(hz_cfg_site(c, "c.example", 9));
    free(c);
}

Test(cfg_site, sections_interleave)
{
    struct hz_config *c = parse_ok("[site a.example]\n"
                                   "timezone = Europe/Berlin\n"
                                   "[redis]\n"
                                   "stream = s\n"
                                   "[site b.example]\n"
                                   "funnel = f: /a > /b\n"
                                   "[dashboard]\n"
                                   "token = 0123456789abcdef\n");

    cr_assert_eq(c->nsites, 2);
    cr_assert_str_eq(c->sites[0].timezone, "Europe/Berlin");
    cr_assert_eq(c->sites[1].nfunnels, 1);
    cr_assert_str_eq(c->redis_stream, "s");
    cr_assert_str_eq(c->token, "0123456789abcdef");
    free(c);
}

Test(cfg_site, aliases_and_lookup)
{
    struct hz_config *c = parse_ok("[site example.com]\n"
                                   "aliases = www.example.com, shop.example.com\n"
                                   "aliases = example.net\n"
                                   "[site other.org]\n");
    const struct hz_site *s = &c->sites[0];

    cr_assert_eq(s->naliases, 3);
    cr_assert_str_eq(s->aliases[0], "www.example.com");
    cr_assert_str_eq(s->aliases[1], "shop.example.com");
    cr_assert_str_eq(s->aliases[2], "example.net");
    cr_assert_eq(hz_cfg_site(c, "example.com", 11), s);
    cr_assert_eq(hz_cfg_site(c, "WWW.Example.COM", 15), s);
    cr_assert_eq(hz_cfg_site(c, "example.net", 11), s);
    cr_assert_eq(hz_cfg_site(c, "other.org", 9), &c->sites[1]);
    /* (buf, len): only len bytes count */
    cr_assert_eq(hz_cfg_site(c, "other.org.evil", 9), &c->sites[1]);
    cr_assert_null(hz_cfg_site(c, "other.org.evil", 14));
    cr_assert_null(hz_cfg_site(c, "example.co", 10));
    cr_assert_null(hz_cfg_site(c, "", 0));
    cr_assert_null(hz_cfg_site(c, "sub.example.com", 15));
    free(c);
}

Test(cfg_site, host_with_port_is_a_site_name)
{
    struct hz_config *c = parse_ok("[site localhost:8080]\n");

    cr_assert_eq(c->nsites, 1);
    cr_assert_not_null(hz_cfg_site(c, "localhost:8080", 14));
    cr_assert_null(hz_cfg_site(c, "localhost", 9));
    free(c);
}

/* ------------------------------------------------------ requirements */

Test(cfg_require, collector_needs_geo_and_a_site)
{
    struct hz_config *c = parse_ok("[site a.example]\n");
    struct hz_err err;

    cr_assert_eq(hz_cfg_require_collector(c, &err), HZ_ECONFIG);
    cr_assert_str_eq(err.msg, "t.ini: [geo] database: required");
    free(c);
    c = parse_ok("[geo]\ndatabase = /x.mmdb\n");
    cr_assert_eq(hz_cfg_require_collector(c, &err), HZ_ECONFIG);
    cr_assert_str_eq(err.msg, "t.ini: [site NAME]: at least one site is required");
    free(c);
}

Test(cfg_require, dashboard_needs_a_token_of_8)
{
    struct hz_config *c = parse_ok("[dashboard]\ntoken = short\n");
    struct hz_err err;

    cr_assert_eq(hz_cfg_require_dashboard(c, &err), HZ_ECONFIG);
    cr_assert_str_eq(err.msg, "t.ini: [dashboard] token: required, at least 8 characters");
    cr_assert_eq(hz_cfg_require_aggregator(c, &err), 0);
    free(c);
    c = parse_ok("[dashboard]\ntoken = 12345678\n");
    cr_assert_eq(hz_cfg_require_dashboard(c, &err), 0);
    free(c);
}

/* -------------------------------------------------- files and secrets */

static void
write_file(const char *path, const char *buf, size_t len)
{
    FILE *f = fopen(path, "wb");

    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(buf, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

Test(cfg_load, file_missing_nul_and_good)
{
    char dir[] = "/tmp/hz-cfg-test.XXXXXX", path[128], want[192];
    struct hz_config *c = cfg_new();
    struct hz_err err;

    cr_assert_not_null(mkdtemp(dir));
    (void)snprintf(path, sizeof(path), "%s/haze.ini", dir);
    cr_assert_eq(hz_cfg_load(c, path, &err), HZ_ECONFIG);
    (void)snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
    cr_assert_str_eq(err.msg, want);

    write_file(path, "[redis]\nstream = a\0b\n", 20);
    cr_assert_eq(hz_cfg_load(c, path, &err), HZ_ECONFIG);
    (void)snprintf(want, sizeof(want), "%s: contains a NUL byte", path);
    cr_assert_str_eq(err.msg, want);

    write_file(path, "[redis]\nstream = file:events\n[bad]\nx = 1\n", 41);
    cr_assert_eq(hz_cfg_load(c, path, &err), HZ_ECONFIG);
    (void)snprintf(want, sizeof(want), "%s:4: [bad] x: unknown section", path);
    cr_assert_str_eq(err.msg, want);

    write_file(path, design_ini, strlen(design_ini));
    cr_assert_eq(hz_cfg_load(c, path, &err), 0, "%s", err.msg);
    cr_assert_str_eq(c->path, path);
    cr_assert_eq(c->nsites, 1);
    (void)unlink(path);
    (void)rmdir(dir);
    free(c);
}

Test(cfg_load, free_wipes_the_token)
{
    struct hz_config *c = parse_ok("[dashboard]\ntoken = s3cret-s3cret\n");

    cr_assert_str_eq(c->token, "s3cret-s3cret");
    hz_cfg_free(c);
    for (size_t i = 0; i < sizeof(c->token); i++)
        cr_assert_eq(c->token[i], 0);
    free(c);
}

/* Issue 9's keys: the user each daemon runs as, the connection cap and
 * the whole-request deadline. */
Test(cfg, user_and_connection_keys)
{
    struct hz_config *c = parse_ok("");
    struct hz_err err;

    cr_assert_str_eq(c->collector_user, "haze");
    cr_assert_str_eq(c->aggregator_user, "haze");
    cr_assert_str_eq(c->dashboard_user, "haze");
    cr_assert_eq(c->collector_max_conns, 4096);
    cr_assert_eq(c->collector_request_ms, 10000);
    cr_assert_eq(c->dashboard_max_conns, 1024);
    cr_assert_eq(c->dashboard_request_ms, 10000);
    free(c);
    c = parse_ok("[collector]\nuser = root\nmax_connections = 16\nrequest_timeout_ms = 100\n"
                 "[aggregator]\nuser = haze-agg\n"
                 "[dashboard]\nuser = www-data\nmax_connections = 50\nrequest_timeout_ms = 2500\n");
    cr_assert_str_eq(c->collector_user, "root");
    cr_assert_str_eq(c->aggregator_user, "haze-agg");
    cr_assert_str_eq(c->dashboard_user, "www-data");
    cr_assert_eq(c->collector_max_conns, 16);
    cr_assert_eq(c->collector_request_ms, 100);
    cr_assert_eq(c->dashboard_max_conns, 50);
    cr_assert_eq(c->dashboard_request_ms, 2500);
    memset(&err, 0, sizeof(err));
    cr_assert_neq(hz_cfg_parse_string(c, "[collector]\nuser =\n", "t.ini", &err), 0);
    cr_assert_str_eq(err.msg, "t.ini:2: [collector] user: must not be empty");
    cr_assert_neq(hz_cfg_parse_string(c, "[dashboard]\nmax_connections = 8\n", "t.ini", &err), 0);
    cr_assert_neq(hz_cfg_parse_string(c, "[collector]\nrequest_timeout_ms = 5\n", "t.ini", &err),
                  0);
    free(c);
}

/* ------------------------------------------------ [token NAME] (issue 14) */

#define H64 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static void
cfg_expect_error(const char *text, const char *want)
{
    struct hz_config *c = cfg_new();
    struct hz_err err;

    memset(&err, 0, sizeof(err));
    cr_assert_eq(hz_cfg_parse_string(c, text, "t.ini", &err), HZ_ECONFIG, "accepted: %s", text);
    cr_expect_str_eq(err.msg, want);
    free(c);
}

Test(cfg_token, sections_with_sites_scope_and_expiry)
{
    struct hz_config *c = parse_ok("[token alice]\nsha256 = " H64 "\nsites = b.example, a.example\n"
                                   "scope = view\nexpires = 2030-01-31\n"
                                   "[token ops]\nsha256 = " H64 "\nsites = *\nscope = admin\n"
                                   "[site a.example]\n[site b.example]\n[site c.example]\n");
    const struct hz_token *a = hz_cfg_token(c, "alice"), *o = hz_cfg_token(c, "ops");
    struct hz_err err;

    cr_assert_eq(c->ntokens, 2);
    cr_assert_not_null(a);
    cr_assert_not_null(o);
    cr_assert_null(hz_cfg_token(c, "bob"));
    cr_assert_eq(a->scope, HZ_SCOPE_VIEW);
    cr_assert_eq(a->all_sites, 0);
    cr_assert_eq(a->sites, 3ull); /* a.example is site 0, b.example site 1 */
    cr_assert_eq(a->expires, hz_days_from_civil(2030, 1, 31));
    cr_assert_eq(a->sha256[0], 0x9f);
    cr_assert_eq(a->sha256[31], 0x08);
    cr_assert_eq(o->scope, HZ_SCOPE_ADMIN);
    cr_assert_eq(o->all_sites, 1);
    cr_assert_eq(o->expires, -1);
    /* Named tokens alone are enough for the dashboard. */
    (void)snprintf(c->lmdb, sizeof(c->lmdb), "/tmp/x");
    cr_assert_eq(hz_cfg_require_dashboard(c, &err), 0, "%s", err.msg);
    free(c);
}

Test(cfg_token, errors_name_the_line_and_key)
{
    cfg_expect_error("[token alice]\nsha256 = abc\n",
                     "t.ini:2: [token alice] sha256: expected 64 hex digits (haze-dashboard "
                     "--new-token prints them)");
    cfg_expect_error("[token alice]\nsha256 = " H64 "\nsites = *\nscope = root\n",
                     "t.ini:4: [token alice] scope: expected view or admin");
    cfg_expect_error("[token alice]\nsha256 = " H64 "\nexpires = 2030-13-01\n",
                     "t.ini:3: [token alice] expires: expected a date YYYY-MM-DD");
    cfg_expect_error("[token alice]\nsha256 = " H64 "\nsites = nowhere.example\n[site a.example]\n",
                     "t.ini:3: [token alice] sites: no [site nowhere.example] in this file");
    cfg_expect_error("[site a.example]\n[token alice]\nsites = a.example\n",
                     "t.ini:3: [token alice] sha256: required");
    cfg_expect_error("[token Alice]\n", "t.ini:1: [token Alice]: token name must be 1-40 of a-z, "
                                        "0-9, '-', '_', '.'");
    cfg_expect_error("[token a]\nsha256 = " H64 "\nsites = *\n[token a]\n",
                     "t.ini:4: [token a]: duplicate token section");
    cfg_expect_error("[token a]\nsha256 = " H64 "\nsha256 = " H64 "\n",
                     "t.ini:3: [token a] sha256: duplicate key");
    cfg_expect_error("[token a]\npassword = x\n", "t.ini:2: [token a] password: unknown key");
    cfg_expect_error("[dashboard]\ntoken = 0123456789\n[token default]\nsha256 = " H64
                     "\nsites = *\n",
                     "t.ini:5: [token default]: \"default\" is the name of [dashboard] token; pick "
                     "another");
}

Test(cfg_token, new_keys_and_their_defaults)
{
    struct hz_config *c = parse_ok("[redis]\nuser = haze\npassword = pw-123\n"
                                   "[collector]\ntls_cert = /c.pem\ntls_key = /k.pem\n"
                                   "metrics_allow = 10.0.0.0/8\n"
                                   "[dashboard]\naudit_log = /var/log/haze/audit.log\n");
    struct sockaddr_in sin = {.sin_family = AF_INET};

    cr_assert_str_eq(c->redis_user, "haze");
    cr_assert_str_eq(c->redis_password, "pw-123");
    cr_assert_str_eq(c->collector_tls_cert, "/c.pem");
    cr_assert_str_eq(c->collector_tls_key, "/k.pem");
    cr_assert_str_eq(c->audit_log, "/var/log/haze/audit.log");
    cr_assert_eq(c->audit_retention_days, 400);
    cr_assert_eq(c->login_limit, 10);
    cr_assert_eq(c->session_idle_minutes, 60);
    cr_assert_eq(c->session_max_hours, 12);
    inet_pton(AF_INET, "10.1.2.3", &sin.sin_addr);
    cr_assert(hz_cidrset_match(&c->metrics_allow, (struct sockaddr *)&sin));
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    cr_assert_not(hz_cidrset_match(&c->metrics_allow, (struct sockaddr *)&sin));
    hz_cfg_free(c);
    cr_assert_str_eq(c->redis_password, "");
    free(c);

    c = parse_ok("");
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    cr_assert(hz_cidrset_match(&c->metrics_allow, (struct sockaddr *)&sin));
    inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
    cr_assert_not(hz_cidrset_match(&c->metrics_allow, (struct sockaddr *)&sin));
    free(c);
}

Test(cfg_token, tls_needs_both_files)
{
    struct hz_config *c = parse_ok("[dashboard]\ntoken = 0123456789\ntls_cert = /c.pem\n");
    struct hz_err err;

    cr_assert_eq(hz_cfg_require_dashboard(c, &err), HZ_ECONFIG);
    cr_assert_str_eq(err.msg, "t.ini: [dashboard] tls_cert and tls_key: set both or neither");
    free(c);
}

/* ------------------------------------------------ props = (issue 13) */

Test(cfg, site_props_allow_list)
{
    struct hz_config *c = parse_ok("[site example.com]\n"
                                   "props = plan, author\n"
                                   "props = logged_in,v2.x-y\n");
    const struct hz_site *s = &c->sites[0];
    struct hz_err err;

    cr_assert_eq(s->nprops, 4);
    cr_assert_str_eq(s->props[0], "plan");
    cr_assert_str_eq(s->props[1], "author");
    cr_assert_str_eq(s->props[3], "v2.x-y");
    cr_assert_eq(hz_cfg_site_prop(s, "author", 6), 1);
    cr_assert_eq(hz_cfg_site_prop(s, "Author", 6), -1);
    cr_assert_eq(hz_cfg_site_prop(s, "pla", 3), -1);
    free(c);

    static const char *const bad[][2] = {
        {"props = plan, plan\n", "duplicate prop"},
        {"props = a,b,c,d,e,f,g,h,i\n", "too many props"},
        {"props = a;b\n", "prop names are letters"},
        {"props = p\xc3\xa9\n", "prop names are letters"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[256];
        c = cfg_new();
        memset(&err, 0, sizeof(err));
        (void)snprintf(text, sizeof(text), "[site example.com]\n%s", bad[i][0]);
        cr_assert_neq(hz_cfg_parse_string(c, text, "t.ini", &err), 0, "accepted %s", bad[i][0]);
        cr_assert_not_null(strstr(err.msg, bad[i][1]), "%s", err.msg);
        cr_assert_not_null(strstr(err.msg, "props"), "%s", err.msg);
        free(c);
    }
}
