/* SPDX-License-Identifier: MIT */
/*
 * pipeline_test.c - a hit through the collector's steps: drops with their
 * reasons, the record's fields, and what the record must never hold.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/pipeline.h"

#define CHROME_WIN                                                                                 \
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "            \
    "Chrome/131.0.0.0 Safari/537.36"
#define GOOGLEBOT "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

static struct hz_config cfg;
static struct hz_salts salts;
static hz_geo *geo;

static void
setup(void)
{
    static const char ini[] = "[collector]\n"
                              "trusted_proxies = 127.0.0.1/8\n"
                              "[site example.com]\n"
                              "aliases = shop.example.com\n"
                              "props = plan, author, n\n"
                              "[site other.org]\n";
    struct hz_err err;
    char path[512];
    const char *b = getenv("HZ_BUILD");

    cr_assert_eq(hz_cfg_parse_string(&cfg, ini, "test.ini", &err), 0, "%s", err.msg);
    memset(&salts, 0, sizeof(salts));
    salts.day = 20000;
    memset(salts.today, 7, sizeof(salts.today));
    geo = NULL;
    snprintf(path, sizeof(path), "%s/testdata/haze-test-city.mmdb", b ? b : "build/release");
    cr_assert_eq(hz_geo_open(&geo, path, &err), 0, "fixture: %s", err.msg);
}

static void
teardown(void)
{
    hz_geo_close(geo);
}

TestSuite(pipeline, .init = setup, .fini = teardown);

struct hit {
    struct sockaddr_storage peer;
    struct hz_beacon b;
    struct hz_hit_in in;
    struct hz_pipeline p;
};

static void
mkhit(struct hit *h, const char *peer, const char *name, const char *url, const char *domain,
      const char *ua)
{
    memset(h, 0, sizeof(*h));
    struct sockaddr_in *sin = (struct sockaddr_in *)&h->peer;
    sin->sin_family = AF_INET;
    cr_assert_eq(inet_pton(AF_INET, peer, &sin->sin_addr), 1);
    h->b.name = name;
    h->b.url = url;
    h->b.domain = domain;
    h->b.width = -1;
    h->in.peer = (struct sockaddr *)&h->peer;
    h->in.raw_ua = ua;
    h->in.ua_len = strlen(ua);
    h->in.now_ms = 20000ULL * 86400000ULL + 12 * 3600000ULL;
    h->in.b = &h->b;
    h->p.cfg = &cfg;
    h->p.geo = geo;
    h->p.salts = &salts;
    h->p.session_ms = 30 * 60000L;
}

static int
run(struct hit *h, struct hz_record *r, enum hz_drop *d)
{
    struct hz_err err = {0, ""};
    return hz_pipeline_run(&h->p, &h->in, r, d, &err);
}

Test(pipeline, pageview_becomes_a_record_without_address_or_agent)
{
    struct hit h;
    struct hz_record r;
    enum hz_drop d;

    mkhit(&h, "192.0.2.55", "pageview",
          "https://example.com/products/flyers?utm_source=news&utm_campaign=spring&email=a@b.c#top",
          "example.com", CHROME_WIN);
    h.b.referrer = "https://www.google.com/search?q=flyers";
    cr_assert_eq(run(&h, &r, &d), 0);
    cr_assert_eq(d, HZ_DROP_NONE);
    cr_assert_eq(r.kind, HZ_KIND_PAGEVIEW);
    cr_assert_str_eq(r.site, "example.com");
    cr_assert_str_eq(r.page, "/products/flyers");
    cr_assert_str_eq(r.source, "news", "utm_source wins over the referrer");
    cr_assert_str_eq(r.utm_campaign, "spring");
    cr_assert_str_eq(r.region, "DE-BY");
    cr_assert_str_eq(r.browser, "Chrome");
    cr_assert_str_eq(r.os, "Windows");
    cr_assert_str_eq(r.device, "desktop");
    cr_assert_str_eq(r.browser_version, "131"); /* the major only */
    cr_assert_str_eq(r.os_version, "10");
    cr_assert_eq(strlen(r.vh), 16);
    cr_assert_eq(strlen(r.id), 16);
    /* Nothing in the record spells the address or the agent. */
    const char *bytes = (const char *)&r;
    cr_assert_null(memmem(bytes, sizeof(r), "192.0.2.55", 10));
    cr_assert_null(memmem(bytes, sizeof(r), "Windows NT", 10));
    unsigned char raw[4] = {192, 0, 2, 55};
    cr_assert_null(memmem(bytes, sizeof(r), raw, 4));
}

Test(pipeline, unknown_site_is_403)
{
    struct hit h;
    struct hz_record r;
    enum hz_drop d;

    mkhit(&h, "192.0.2.1", "pageview", "https://evil.test/", "evil.test", CHROME_WIN);
    cr_assert_eq(run(&h, &r, &d), HZ_ENOSITE);
    cr_assert_eq(d, HZ_DROP_UNKNOWN_SITE);
}

Test(pipeline, host_must_be_the_site_or_an_alias)
{
    struct hit h;
    struct hz_record r;
    enum hz_drop d;

    mkhit(&h, "192.0.2.1", "pageview", "https://other.org/", "example.com", CHROME_WIN);
    cr_assert_eq(run(&h, &r, &d), HZ_EINVAL);
    cr_assert_eq(d, HZ_DROP_HOST);
    mkhit(&h, "192.0.2.1", "pageview", "https://shop.example.com/x", "example.com", CHROME_WIN);
    cr_assert_eq(run(&h, &r, &d), 0);
    mkhit(&h, "192.0.2.1", "pageview", "https://www.example.com/x", "example.com", CHROME_WIN);
    cr_assert_eq(run(&h, &r, &d), 0);
}

Test(pipeline, dnt_and_gpc_are_filtered_when_honoured)
{
    struct hit h;
    struct hz_record r;
    enum hz_drop d;

    mkhit(&h, "192.0.2.1", "pageview", "https://example.com/", "example.com", CHROME_WIN);
    h.in.dnt = 1;
    cr_assert_eq(run(&h, &r, &d), HZ_EFILTERED);
    cr_assert_eq(d, HZ_DROP_DNT);
    h.in.dnt = 0;
    h.in.gpc = 1;
    cr_assert_eq(run(&h, &r, &d), HZ_EFILTERED);
    cfg.honor_dnt = 0;
    cr_assert_eq(run(&h, &r, &d), 0);
}

Test(pipeline, bots_are_filtered)
{
    struct hit h;
    struct hz_record r;
    enum hz_drop d;

    mkhit(&h, "192.0.2.1", "pageview", "https://example.com/", "example.com", GOOGLEBOT);
    cr_assert_eq(run(&h, &r, &d), HZ_EFILTERED);
    cr_assert_eq(d, HZ_DROP_BOT);
    mkhit(&h, "192.0.2.1", "pageview", "https://example.com/", "example.com", "");
    cr_assert_eq(run(&h, &r, &d), HZ_EFILTERED);
}

Test(pipeline, forwarded_for_only_from_trusted_proxies)
{
    struct hit h;
    struct hz_record r;
    enum hz_drop d;

    /* From the trusted local proxy: the forwarded address's region. */
    mkhit(&h, "127.0.0.1", "pageview", "https://example.com/", "example.com", CHROME_WIN);
    h.in.xff = "203.0.113.9";
    h.in.xff_len = strlen(h.in.xff);
    cr_assert_eq(run(&h, &r, &d), 0);
    cr_assert_str_eq(r.region, "CN-JS");
    /* From a browser anywhere else: the header is ignored (spoofing does
     * not move you; a forward proxy's header does not refuse the hit). */
    mkhit(&h, "198.51.100.4", "pageview", "https://example.com/", "example.com", CHROME_WIN);
    h.in.xff = "203.0.113.9";
    h.in.xff_len = strlen(h.in.xff);
    h.in.browser_fetch = 1;
    cr_assert_eq(run(&h, &r, &d), 0);
    cr_assert_str_eq(r.region, "US-CA");
    /* From a sender without a browser's fetch metadata (a backend that is
     * not in trusted_proxies): a 400 that says what to do. */
    h.in.browser_fetch = 0;
    cr_assert_eq(run(&h, &r, &d), HZ_EINVAL);
    cr_assert_eq(d, HZ_DROP_UNTRUSTED_XFF);
    cr_assert_str_eq(hz_drop_name(d), "untrusted_xff");
    /* ... but not the pixel, nor an empty header. */
    h.in.pixel = 1;
    cr_assert_eq(run(&h, &r, &d), 0);
    h.in.pixel = 0;
    h.in.xff = " ";
    h.in.xff_len = 1;
    cr_assert_eq(run(&h, &r, &d), 0);
    /* Garbage from a trusted proxy is an error. */
    mkhit(&h, "127.0.0.1", "pageview", "https://example.com/", "example.com", CHROME_WIN);
    h.in.xff = "not-an-address";
    h.in.xff_len = strlen(h.in.xff);
    cr_assert_eq(run(&h, &r, &d), HZ_EINVAL);
}

Test(pipeline, engagement_and_custom_events)
{
    struct hit h;
    struct hz_record r;
    enum hz_drop d;

    mkhit(&h, "192.0.2.1", "engagement", "https://example.com/a", "example.com", CHROME_WIN);
    h.b.has_engaged = 1;
    h.b.engaged_ms = 4200;
    cr_assert_eq(run(&h, &r, &d), 0);
    cr_assert_eq(r.kind, HZ_KIND_ENGAGEMENT);
    cr_assert_eq(r.ms, 4200);
    mkhit(&h, "192.0.2.1", "Signup", "https://example.com/a", "example.com", CHROME_WIN);
    cr_assert_eq(run(&h, &r, &d), 0);
    cr_assert_eq(r.kind, HZ_KIND_EVENT);
    cr_assert_str_eq(r.name, "Signup");
}

Test(pipeline, pixel_falls_back_to_referer)
{
    struct hit h;
    struct hz_record r;
    enum hz_drop d;

    mkhit(&h, "192.0.2.1", "pageview", NULL, "example.com", CHROME_WIN);
    h.in.pixel = 1;
    cr_assert_eq(run(&h, &r, &d), HZ_EINVAL, "no u and no Referer");
    h.in.referer = "https://example.com/nojs/page?x=1";
    h.in.referer_len = strlen(h.in.referer);
    cr_assert_eq(run(&h, &r, &d), 0);
    cr_assert_str_eq(r.page, "/nojs/page");
    cr_assert_eq(r.pixel, 1);
}

Test(pipeline, same_visitor_same_hash_and_midnight_previous_salt)
{
    struct hit h;
    struct hz_record a, b;
    enum hz_drop d;

    mkhit(&h, "192.0.2.1", "pageview", "https://example.com/a", "example.com", CHROME_WIN);
    cr_assert_eq(run(&h, &a, &d), 0);
    mkhit(&h, "192.0.2.1", "pageview", "https://example.com/b", "example.com", CHROME_WIN);
    cr_assert_eq(run(&h, &b, &d), 0);
    cr_assert_str_eq(a.vh, b.vh);
    cr_assert_str_eq(a.vp, "", "no previous-salt hash at noon");
    cr_assert_str_neq(a.id, b.id, "hit ids are per hit");

    salts.prev_day = 19999;
    memset(salts.prev, 9, sizeof(salts.prev));
    h.in.now_ms = 20000ULL * 86400000ULL + 10 * 60000ULL; /* 00:10 UTC */
    cr_assert_eq(run(&h, &b, &d), 0);
    cr_assert_eq(strlen(b.vp), 16);
    cr_assert_str_neq(b.vp, b.vh);
}

/* Issue 13: what Plausible's Events API docs show a sender posting. */
Test(pipeline, custom_props_allow_list_scrubbed_and_counted)
{
    struct hit h;
    struct hz_record r;
    enum hz_drop d;
    const char *n, *v;
    size_t nl, vl, pos = 0;

    mkhit(&h, "192.0.2.55", "Signup", "https://example.com/join", "example.com", CHROME_WIN);
    h.b.nprops = 5;
    h.b.props[0] = (struct hz_beacon_prop){"plan", "Pro"};
    h.b.props[1] = (struct hz_beacon_prop){"author", "jane.doe@example.org"};
    h.b.props[2] = (struct hz_beacon_prop){"logged_in", "true"}; /* not on the list */
    h.b.props[3] = (struct hz_beacon_prop){NULL, "x"};           /* name too long to keep */
    h.b.props[4] = (struct hz_beacon_prop){"n", "12345678"};
    h.b.interactive = 0;
    cr_assert_eq(run(&h, &r, &d), 0);
    cr_assert_eq(r.kind, HZ_KIND_EVENT);
    cr_assert_eq(r.noninteractive, 1);
    cr_assert_eq(r.props_dropped, 2);
    cr_assert(hz_record_prop_next(&r, &pos, &n, &nl, &v, &vl));
    cr_assert(nl == 4 && memcmp(n, "plan", 4) == 0 && vl == 3 && memcmp(v, "Pro", 3) == 0);
    cr_assert(hz_record_prop_next(&r, &pos, &n, &nl, &v, &vl));
    cr_assert(vl == 6 && memcmp(v, ":email", 6) == 0, "author scrubbed: %.*s", (int)vl, v);
    cr_assert(hz_record_prop_next(&r, &pos, &n, &nl, &v, &vl));
    cr_assert(vl == 3 && memcmp(v, ":id", 3) == 0);
    cr_assert_not(hz_record_prop_next(&r, &pos, &n, &nl, &v, &vl));
    cr_assert_null(memmem(&r, sizeof(r), "jane", 4));
    cr_assert_null(memmem(&r, sizeof(r), "logged_in", 9));

    /* Engagement: scroll depth; interactive only matters for events. */
    mkhit(&h, "192.0.2.55", "engagement", "https://example.com/join", "example.com", CHROME_WIN);
    h.b.has_engaged = 1;
    h.b.engaged_ms = 1200;
    h.b.scroll_depth = 64;
    h.b.interactive = 1;
    cr_assert_eq(run(&h, &r, &d), 0);
    cr_assert(r.has_scroll && r.scroll_depth == 64);
    cr_assert_eq(r.noninteractive, 0);
    mkhit(&h, "192.0.2.55", "engagement", "https://example.com/join", "example.com", CHROME_WIN);
    h.b.has_engaged = 1;
    h.b.scroll_depth = -1;
    cr_assert_eq(run(&h, &r, &d), 0);
    cr_assert_not(r.has_scroll);
}

/* An app SDK's URL: the host names nothing, the site is the domain. */
Test(pipeline, app_urls_count_for_the_domain)
{
    struct hit h;
    struct hz_record r;
    enum hz_drop d;

    mkhit(&h, "192.0.2.55", "pageview", "app://localhost/login", "example.com", CHROME_WIN);
    cr_assert_eq(run(&h, &r, &d), 0);
    cr_assert_eq(d, HZ_DROP_NONE);
    cr_assert_str_eq(r.site, "example.com");
    cr_assert_str_eq(r.page, "/login");
    /* http(s) still has to name the site. */
    mkhit(&h, "192.0.2.55", "pageview", "https://localhost/login", "example.com", CHROME_WIN);
    cr_assert_neq(run(&h, &r, &d), 0);
    cr_assert_eq(d, HZ_DROP_HOST);
}

/* utm_content, utm_term, the referrer's host and the page's host name. */
Test(pipeline, utm_content_term_referrer_and_hostname)
{
    struct hit h;
    struct hz_record r;
    enum hz_drop d;

    mkhit(&h, "192.0.2.55", "pageview",
          "https://shop.example.com/a?utm_source=news&utm_content=banner&utm_term=flyers",
          "example.com", CHROME_WIN);
    h.b.referrer = "https://www.search.example/results?q=secret";
    cr_assert_eq(run(&h, &r, &d), 0);
    cr_assert_str_eq(r.source, "news");
    cr_assert_str_eq(r.utm_content, "banner");
    cr_assert_str_eq(r.utm_term, "flyers");
    cr_assert_str_eq(r.referrer, "search.example");
    cr_assert_str_eq(r.hostname, "shop.example.com");
    cr_assert_null(memmem(&r, sizeof(r), "secret", 6));
    /* A referrer from the site itself is no referrer. */
    mkhit(&h, "192.0.2.55", "pageview", "https://example.com/b", "example.com", CHROME_WIN);
    h.b.referrer = "https://example.com/a";
    cr_assert_eq(run(&h, &r, &d), 0);
    cr_assert_str_eq(r.referrer, "");
    cr_assert_str_eq(r.hostname, "example.com");
    /* An app's URL: the host name is the site. */
    mkhit(&h, "192.0.2.55", "Signup", "app://localhost/x", "example.com", CHROME_WIN);
    cr_assert_eq(run(&h, &r, &d), 0);
    cr_assert_str_eq(r.hostname, "example.com");
}
