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
 *
 * The rules, exactly (README documents them for site owners):
 *
 * - Input: at most HZ_URL_MAX bytes (else HZ_ETOOBIG); every raw byte must
 *   be valid UTF-8 without NUL, C0/C1 controls or DEL, anywhere in the URL.
 * - Scheme: "http://" or "https://", any case; or an app SDK's own scheme
 *   ("app://", "android-app://": RFC 3986 letters, at most 32, then "://";
 *   not javascript, data, file, blob, ftp or an "http" look-alike), whose host is ignored (app set,
 *   host ""): the site is the beacon's domain, as in Plausible. Nothing
 *   else (no relative, javascript:, data:, "http:/x").
 * - Host: userinfo ("user:pw@") dropped, port dropped (must be digits
 *   <= 65535), lowercased, one trailing dot removed; letters, digits, '.',
 *   '-' and '_' with no empty label (IDN arrives punycoded; '_' is allowed
 *   because browsers accept it in real subdomains), or an IPv6 literal kept
 *   as "[2001:db8::1]". At most HZ_HOST_MAX-1 bytes.
 * - Path, per segment: percent-decoded in full, then the decoded bytes must
 *   be valid UTF-8 without controls (so %00, %0A, %C3%28, overlongs fail).
 *   The canonical form keeps UTF-8 as text ("/caf%C3%A9" -> "/café",
 *   "/a%2Db" -> "/a-b") and re-escapes only '%' '/' '?' '#' as %25 %2F %3F
 *   %23 (uppercase): an encoded slash stays inside its segment, and
 *   "%252F" stays "%252F", so scrubbing is idempotent.
 * - Segments "." and ".." (also as %2E) are resolved, empty segments
 *   dropped: repeated slashes collapse and a trailing slash is removed
 *   ("/cart/" counts as "/cart"; the root stays "/"). ".." above the root
 *   stays at the root.
 * - Placeholders replace a whole segment, first match wins:
 *     ":email"  an "a@b.cd" shape anywhere in it (also "icon@2x.png");
 *     ":uuid"   8-4-4-4-12 hex digits anywhere in it, any case;
 *     ":token"  16+ hex digits in a row, both 0-9 and a-f among them, or a
 *               run of 20+ [A-Za-z0-9_-] holding letters and digits whose
 *               neighbouring characters change class (lower/upper/digit)
 *               at least once per three characters: random ids, not
 *               slugs ("how-to-bake-bread-in-2024" stays);
 *     ":id"     a run of 5+ ASCII digits ("/order/123456"; "/product/42"
 *               and "/2024/05" stay).
 * - Length: a segment longer than HZ_PAGE_MAX-2 bytes is cut on a
 *   character boundary before it is classified. A path longer than
 *   HZ_PAGE_MAX-1 keeps the segments that fit whole; the one across the
 *   limit is cut on a character boundary and classified again, or dropped
 *   if nothing, "." or ".." would remain.
 * - Query: fragment first ("/p#x?utm_source=y" has no query). Only the
 *   allow-listed keys are read (exact, case-sensitive names); the first
 *   occurrence of a field wins ("source" is "ref"). Values are decoded
 *   ('+' is a space), trimmed of spaces, kept in their case, a value
 *   holding an e-mail shape becomes ":email", and capped to HZ_VALUE_MAX-1
 *   bytes on a UTF-8 boundary. A kept value with a bad escape or bad text
 *   becomes "" (the page still counts); dropped parameters are not read.
 */
#ifndef HZ_COLLECTOR_URL_H
#define HZ_COLLECTOR_URL_H

#include <stddef.h>

#include "common/err.h"
#include "common/record.h"

#define HZ_URL_MAX 4096 /* longest URL or path accepted, in bytes */

struct hz_url {
    char host[HZ_HOST_MAX];        /* lowercase, no port, no userinfo */
    char path[HZ_PAGE_MAX];        /* scrubbed, normalized, starts with '/' */
    char utm_source[HZ_VALUE_MAX]; /* allow-listed query values, decoded, */
    char utm_medium[HZ_VALUE_MAX]; /* validated UTF-8, capped; "" if absent */
    char utm_campaign[HZ_VALUE_MAX];
    char utm_content[HZ_VALUE_MAX];
    char utm_term[HZ_VALUE_MAX];
    char ref[HZ_VALUE_MAX]; /* ?ref= and ?source= (same meaning) */
    int app;                /* 1 for an app's scheme: host is "" */
};

/* Scrubs an absolute http(s) URL. 0, HZ_ETOOBIG over HZ_URL_MAX bytes, or
 * HZ_EINVAL with a one-line reason (not http(s), no host, bad escape,
 * invalid UTF-8 or control bytes). On error *out is untouched. */
int hz_url_scrub(const char *url, size_t len, struct hz_url *out, struct hz_err *err);

/* Scrubs a path (with optional query/fragment), e.g. from a hash-routed SPA
 * or a test: same rules as the path part of hz_url_scrub; the query and
 * fragment are dropped, a missing leading '/' is implied ("" is "/").
 * Idempotent: scrubbing its own output gives the same bytes. 0, HZ_ETOOBIG
 * or HZ_EINVAL with a reason; on error out is untouched. */
int hz_url_scrub_path(const char *path, size_t len, char out[HZ_PAGE_MAX], struct hz_err *err);

/* A custom prop's value scrubbed like one path segment (the placeholders
 * ":email", ":uuid", ":token", ":id" replace it whole; a '/' inside stays
 * part of it). 0, or HZ_EINVAL for a value that is empty, "." or "..",
 * not text, or HZ_VALUE_MAX bytes or more (the caller drops the prop). */
int hz_url_scrub_value(const char *v, size_t len, char out[HZ_VALUE_MAX]);

/* The source of a visit: page's utm_source, else its ref, else the
 * referrer's host without "www." (lowercase, no port, no userinfo); "" when
 * the referrer is empty, invalid, not http(s), or the same site (its host
 * equals site_host or page->host, ignoring case, a "www." prefix and a
 * trailing dot). Never fails; page, referrer and site_host may be NULL.
 * out has HZ_VALUE_MAX bytes. */
void hz_url_source(const struct hz_url *page, const char *referrer, size_t rlen,
                   const char *site_host, char out[HZ_VALUE_MAX]);
/* The referrer's host alone, by the same rules ("" for the same site, or a
 * referrer that is not an http(s) URL): visit:referrer, which never keeps
 * the referrer's path or query. */
void hz_url_referrer_host(const struct hz_url *page, const char *referrer, size_t rlen,
                          const char *site_host, char out[HZ_VALUE_MAX]);

#endif
