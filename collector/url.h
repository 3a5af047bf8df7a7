/* SPDX-License-Identifier: MIT */
/*
 * url.h - URL scrubbing (DESIGN.md privacy rule 6) and referrer -> source.
 *
 * Pure: (buf, len) in, fixed buffers out, no I/O, no globals. What leaves
 * here is safe to count: fragment dropped; query dropped except the
 * allow-list (utm_source, utm_medium, utm_campaign, utm_content, utm_term,
 * ref, source); path segments holding an e-mail address, a long digit run,
 * a UUID or a long token-like string replaced by ":email", ":id", ":uuid",
 * ":token"; "/a//b/../c" normalized to "/a/c"; lengths capped.
 */
#ifndef HZ_COLLECTOR_URL_H
#define HZ_COLLECTOR_URL_H

#include <stddef.h>

#include "common/err.h"
#include "common/record.h"

struct hz_url {
    char host[HZ_HOST_MAX];          /* lowercase, no port, no userinfo */
    char path[HZ_PAGE_MAX];          /* scrubbed, normalized, starts with '/' */
    char utm_source[HZ_VALUE_MAX];   /* allow-listed query values, decoded, */
    char utm_medium[HZ_VALUE_MAX];   /* validated UTF-8, capped; "" if absent */
    char utm_campaign[HZ_VALUE_MAX];
    char utm_content[HZ_VALUE_MAX];
    char utm_term[HZ_VALUE_MAX];
    char ref[HZ_VALUE_MAX];          /* ?ref= and ?source= (same meaning) */
};

/* Scrubs an absolute http(s) URL. 0, or HZ_EINVAL with a one-line reason
 * (not http(s), no host, bad escape, invalid UTF-8 or control bytes).
 * On error *out is untouched. */
int hz_url_scrub(const char *url, size_t len, struct hz_url *out, struct hz_err *err);

/* Scrubs a path (with optional query/fragment), e.g. from a hash-routed SPA
 * or a test: same rules as the path part of hz_url_scrub. */
int hz_url_scrub_path(const char *path, size_t len, char out[HZ_PAGE_MAX], struct hz_err *err);

/* The source of a visit: page's utm_source, else its ref, else the
 * referrer's host without "www." (lowercase); "" when the referrer is empty,
 * invalid, not http(s), or the same site (site_host or any host equal to
 * page->host). Never fails. out has HZ_VALUE_MAX bytes. */
void hz_url_source(const struct hz_url *page, const char *referrer, size_t rlen,
                   const char *site_host, char out[HZ_VALUE_MAX]);

#endif
