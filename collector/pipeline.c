/* SPDX-License-Identifier: MIT */
/*
 * pipeline.c - the collector's steps from request facts to a stream record.
 * The client address lives in `client` on this stack frame and is wiped
 * with explicit_bzero on every return path.
 */
#include "collector/pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "collector/proxy.h"
#include "collector/url.h"
#include "common/str.h"

_Static_assert(HZ_UA_MAJOR_MAX == HZ_MAJOR_MAX,
               "ua.h and record.h agree on a major version's size");

/* clang-format off */
static const char *const drop_names[HZ_DROP_COUNT] = {
    [HZ_DROP_NONE] = "none",
    [HZ_DROP_INVALID] = "invalid",
    [HZ_DROP_TOO_BIG] = "too_big",
    [HZ_DROP_UNKNOWN_SITE] = "unknown_site",
    [HZ_DROP_HOST] = "host_mismatch",
    [HZ_DROP_DNT] = "dnt",
    [HZ_DROP_BOT] = "bot",
    [HZ_DROP_SPOOL_FULL] = "spool_full",
    [HZ_DROP_UNTRUSTED_XFF] = "untrusted_xff",
};
/* clang-format on */

const char *
hz_drop_name(enum hz_drop d)
{
    if ((int)d < 0 || d >= HZ_DROP_COUNT)
        return "unknown";
    return drop_names[d];
}

/* The first entry of a comma-separated d ("a.com,b.com"). */
static size_t
pipeline_first_domain(const char *d)
{
    size_t n = strcspn(d, ",");
    while (n > 0 && d[n - 1] == ' ')
        n--;
    return n;
}

/* Is host the site or one of its aliases, ignoring a leading "www."? */
static int
pipeline_host_ok(const struct hz_site *site, const char *host)
{
    size_t n = strlen(host);

    if (n > 4 && memcmp(host, "www.", 4) == 0 && hz_memieq(host + 4, n - 4, site->name))
        return 1;
    if (hz_memieq(host, n, site->name))
        return 1;
    for (int i = 0; i < site->naliases; i++)
        if (hz_memieq(host, n, site->aliases[i]))
            return 1;
    return 0;
}

/*
 * Custom props: the site's allow-list (props =) is kept, each value
 * scrubbed like a URL segment and length-capped; every other prop (and an
 * allowed one whose value scrubs to nothing) is dropped and counted in the
 * record, so that the aggregator shows it as filtered traffic.
 */
static void
pipeline_props(const struct hz_site *site, const struct hz_beacon *b, struct hz_record *r)
{
    for (int i = 0; i < b->nprops; i++) {
        const struct hz_beacon_prop *p = &b->props[i];
        char v[HZ_VALUE_MAX];
        if (p->key == NULL || hz_cfg_site_prop(site, p->key, strlen(p->key)) < 0 ||
            hz_url_scrub_value(p->value, strlen(p->value), v) != 0 ||
            hz_record_prop_add(r, p->key, strlen(p->key), v, strlen(v)) != 0)
            r->props_dropped++;
    }
}

static void
pipeline_hit_id(const struct hz_pipeline *p, char out[HZ_VHASH_LEN + 1])
{
    unsigned char b[8];

    if (p->id_key != NULL && p->id_seq != NULL) {
        uint64_t seq = (*p->id_seq)++, v = hz_siphash(p->id_key, &seq, sizeof(seq));
        memcpy(b, &v, sizeof(b));
    } else {
        arc4random_buf(b, sizeof(b));
    }
    hz_hex(out, b, sizeof(b));
}

/* Whether the request carries a forwarding header that names anything. */
static int
pipeline_forwarded(const struct hz_hit_in *in)
{
    struct hz_proxy_line one[2];
    int n = 0;

    if (in->nlines > 0)
        return hz_proxy_lines_set(in->lines, in->nlines);
    if (in->xff != NULL)
        one[n++] = (struct hz_proxy_line){in->xff, in->xff_len, 0};
    if (in->fwd != NULL)
        one[n++] = (struct hz_proxy_line){in->fwd, in->fwd_len, 1};
    return hz_proxy_lines_set(one, n);
}

int
hz_pipeline_run(const struct hz_pipeline *p, const struct hz_hit_in *in, struct hz_record *out,
                enum hz_drop *drop, struct hz_err *err)
{
    const struct hz_beacon *b = in->b;
    const struct hz_site *site;
    struct sockaddr_storage client;
    struct hz_region region;
    struct hz_ua ua;
    struct hz_url url;
    struct hz_record *r = out;
    const char *page_url;
    size_t page_len;
    int rc;

    memset(&client, 0, sizeof(client));
    hz_record_clear(r);

    /* known site */
    site = hz_cfg_site(p->cfg, b->domain, pipeline_first_domain(b->domain));
    if (site == NULL) {
        *drop = HZ_DROP_UNKNOWN_SITE;
        rc = hz_err_set(err, HZ_ENOSITE, "unknown site");
        goto done;
    }

    /* DNT / GPC */
    if (p->cfg->honor_dnt && (in->dnt || in->gpc)) {
        *drop = HZ_DROP_DNT;
        rc = HZ_EFILTERED;
        goto done;
    }

    /* bot */
    if (p->ua_cache != NULL)
        hz_ua_classify_cached_hints(p->ua_cache, in->raw_ua, in->ua_len, &in->ua_hints, &ua);
    else
        hz_ua_classify_hints(in->raw_ua, in->ua_len, &in->ua_hints, &ua);
    if (ua.bot) {
        *drop = HZ_DROP_BOT;
        rc = HZ_EFILTERED;
        goto done;
    }

    /* client address: a server-side sender must be a trusted proxy */
    if (!in->pixel && !in->browser_fetch && !hz_proxy_trusted(in->peer, &p->cfg->trusted_proxies) &&
        pipeline_forwarded(in)) {
        *drop = HZ_DROP_UNTRUSTED_XFF;
        rc = hz_err_set(err, HZ_EINVAL,
                        "X-Forwarded-For from an untrusted sender: add its address to "
                        "trusted_proxies");
        goto done;
    }
    if (in->nlines > 0)
        rc = hz_proxy_client_lines(in->peer, &p->cfg->trusted_proxies, in->lines, in->nlines,
                                   &client, err);
    else
        rc = hz_proxy_client(in->peer, &p->cfg->trusted_proxies, in->xff, in->xff_len, in->fwd,
                             in->fwd_len, &client, err);
    if (rc != 0) {
        *drop = HZ_DROP_INVALID;
        rc = HZ_EINVAL;
        goto done;
    }

    /* URL scrubbing: the page, or the pixel's Referer */
    page_url = b->url;
    page_len = page_url ? strlen(page_url) : 0;
    if (page_url == NULL && in->pixel && in->referer != NULL) {
        page_url = in->referer;
        page_len = in->referer_len;
    }
    if (page_url == NULL) {
        *drop = HZ_DROP_INVALID;
        rc = hz_err_set(err, HZ_EINVAL, "u: missing page URL (and no Referer)");
        goto done;
    }
    rc = hz_url_scrub(page_url, page_len, &url, err);
    if (rc != 0) {
        *drop = rc == HZ_ETOOBIG ? HZ_DROP_TOO_BIG : HZ_DROP_INVALID;
        goto done;
    }
    if (!url.app && !pipeline_host_ok(site, url.host)) {
        *drop = HZ_DROP_HOST;
        rc = hz_err_set(err, HZ_EINVAL, "u: host is not the site");
        goto done;
    }

    r->t_ms = in->now_ms;
    (void)hz_strlcpy(r->site, site->name, sizeof(r->site));
    (void)hz_strlcpy(r->page, url.path, sizeof(r->page));
    if (strcmp(b->name, "pageview") == 0) {
        r->kind = HZ_KIND_PAGEVIEW;
    } else if (strcmp(b->name, "engagement") == 0) {
        r->kind = HZ_KIND_ENGAGEMENT;
        r->ms = b->engaged_ms;
    } else {
        r->kind = HZ_KIND_EVENT;
        if (hz_strlcpy(r->name, b->name, sizeof(r->name)) >= sizeof(r->name)) {
            *drop = HZ_DROP_TOO_BIG;
            rc = hz_err_set(err, HZ_ETOOBIG, "n: event name too long");
            goto done;
        }
    }
    r->pixel = in->pixel;
    /* event:hostname: the page's host (the site or an alias), or the site
     * for an app's URL. */
    if (r->kind == HZ_KIND_PAGEVIEW || r->kind == HZ_KIND_EVENT)
        (void)hz_strlcpy(r->hostname, url.app ? site->name : url.host, sizeof(r->hostname));
    r->has_scroll = r->kind == HZ_KIND_ENGAGEMENT && b->scroll_depth >= 0;
    r->scroll_depth = r->has_scroll ? b->scroll_depth : 0;
    r->noninteractive = r->kind == HZ_KIND_EVENT && !b->interactive;
    if (r->kind == HZ_KIND_EVENT || r->kind == HZ_KIND_PAGEVIEW)
        pipeline_props(site, b, r);

    /* source and campaign: only for pageviews (a visit's first one counts) */
    if (r->kind == HZ_KIND_PAGEVIEW) {
        hz_url_source(&url, b->referrer, b->referrer ? strlen(b->referrer) : 0, site->name,
                      r->source);
        (void)hz_strlcpy(r->utm_medium, url.utm_medium, sizeof(r->utm_medium));
        (void)hz_strlcpy(r->utm_campaign, url.utm_campaign, sizeof(r->utm_campaign));
        (void)hz_strlcpy(r->utm_content, url.utm_content, sizeof(r->utm_content));
        (void)hz_strlcpy(r->utm_term, url.utm_term, sizeof(r->utm_term));
        hz_url_referrer_host(&url, b->referrer, b->referrer ? strlen(b->referrer) : 0, site->name,
                             r->referrer);
    }

    /* region, then families */
    if (p->geo != NULL && hz_geo_lookup(p->geo, (struct sockaddr *)&client, &region) == 0)
        (void)hz_strlcpy(r->region, region.code, sizeof(r->region));
    (void)hz_strlcpy(r->browser, hz_ua_browser_name(ua.browser), sizeof(r->browser));
    (void)hz_strlcpy(r->os, hz_ua_os_name(ua.os), sizeof(r->os));
    (void)hz_strlcpy(r->device, hz_ua_device_name(ua.device), sizeof(r->device));
    /* major versions only (ua.h): "131", never "131.0.6778.86" */
    (void)hz_strlcpy(r->browser_version, ua.browser_major, sizeof(r->browser_version));
    (void)hz_strlcpy(r->os_version, ua.os_major, sizeof(r->os_version));

    /* visitor hash: today's salt, and yesterday's just after UTC midnight */
    hz_visitor_hash(p->salts->today, site->name, (struct sockaddr *)&client, in->raw_ua, in->ua_len,
                    r->vh);
    if (p->salts->prev_day != 0 && (int64_t)(in->now_ms % 86400000ULL) < (int64_t)p->session_ms)
        hz_visitor_hash(p->salts->prev, site->name, (struct sockaddr *)&client, in->raw_ua,
                        in->ua_len, r->vp);
    pipeline_hit_id(p, r->id);

    *drop = HZ_DROP_NONE;
    rc = 0;
done:
    if (rc != 0)
        explicit_bzero(r, sizeof(*r));
    explicit_bzero(&client, sizeof(client));
    return rc;
}
