/* SPDX-License-Identifier: MIT */
/*
 * url.c - URL scrubbing and referrer -> source (the rules are listed in
 * url.h). Pure: no I/O, no globals, no allocation; every buffer is on the
 * stack and bounded by HZ_URL_MAX.
 *
 * The path is handled one segment at a time: decode, validate, write the
 * canonical form, cap, classify (placeholder or kept), then push it onto
 * the output or pop for "..". Because the canonical form only ever
 * decodes to itself, the classification of a segment sees the same bytes
 * when its own output is scrubbed again, which is what makes the scrubber
 * idempotent.
 */
#include "collector/url.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/net.h"
#include "common/str.h"

/* A segment and its leading '/' always fit in a page. */
#define URL_SEG_MAX (HZ_PAGE_MAX - 2)

/* The query fields we keep, in struct hz_url order. */
enum { URL_F_SOURCE, URL_F_MEDIUM, URL_F_CAMPAIGN, URL_F_CONTENT, URL_F_TERM, URL_F_REF };

static int
url_isdigit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int
url_islower(unsigned char c)
{
    return c >= 'a' && c <= 'z';
}

static int
url_isupper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

static int
url_isalnum(unsigned char c)
{
    return url_isdigit(c) || url_islower(c) || url_isupper(c);
}

static char
url_lower(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    return c;
}

static int
url_ishex(unsigned char c)
{
    return url_isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* ---------------------------------------------------------------- host */

/* Accepts "http://" or "https://" in any case; *skip is its length. */
static int
url_scheme(const char *s, size_t len, size_t *skip)
{
    if (len >= 7 && hz_memieq(s, 7, "http://")) {
        *skip = 7;
        return 1;
    }
    if (len >= 8 && hz_memieq(s, 8, "https://")) {
        *skip = 8;
        return 1;
    }
    return 0;
}

/* An app SDK's scheme ("app://", "android-app://", RFC 3986: a letter,
 * then letters, digits, '+', '-' or '.', at most 32 bytes) other than
 * http(s) and the ones a page view never comes from. *skip as above. */
static int
url_app_scheme(const char *s, size_t len, size_t *skip)
{
    size_t i = 0;

    if (len == 0 || !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'))
        return 0;
    while (i < len && i < 32 &&
           (((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z') || url_isdigit((unsigned char)s[i]) ||
            s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    if (len - i < 3 || memcmp(s + i, "://", 3) != 0)
        return 0;
    /* Not a page's own: script, data and file URLs, ftp, and "http"
     * look-alikes ("httpx://", "https2://": a broken tracker, not an app). */
    if ((i == 10 && hz_memieq(s, 10, "javascript")) || (i == 4 && hz_memieq(s, 4, "data")) ||
        (i == 4 && hz_memieq(s, 4, "file")) || (i == 4 && hz_memieq(s, 4, "blob")) ||
        (i == 3 && hz_memieq(s, 3, "ftp")) || (i >= 4 && hz_memieq(s, 4, "http")))
        return 0;
    *skip = i + 3;
    return 1;
}

/* ":port" tail of an authority: empty or up to 5 digits <= 65535. */
static int
url_port(const char *s, size_t n)
{
    uint64_t v;

    if (n == 0)
        return 0;
    return hz_parse_u64(s, n, 65535, &v) == 0 ? 0 : -1;
}

/* Parses an authority ("user@host:port") into host: userinfo and port are
 * dropped, the name lowercased and its trailing dot removed. 0, or -1 with
 * *why set. host is written only on success.
 *
 * Hosts are compared with site names, so one host has one spelling:
 * "Example.COM.:443" and "example.com" are the same. A percent-escape in
 * a host is refused rather than decoded (browsers send punycode). */
static int
url_host(const char *a, size_t n, char host[HZ_HOST_MAX], const char **why)
{
    const char *hs, *he, *end = a + n;
    char tmp[HZ_HOST_MAX];
    size_t hlen, label = 0;

    /* The last '@' ends the userinfo: "a@b@host" is user "a@b". */
    for (size_t i = n; i > 0; i--)
        if (a[i - 1] == '@') {
            a += i;
            n -= i;
            break;
        }
    if (n == 0) {
        *why = "empty host";
        return -1;
    }
    if (a[0] == '[') {
        struct sockaddr_storage ss;
        const char *rb = memchr(a, ']', n), *c = a + 1;
        /* Only hex, ':' and '.': inet_pton would also stop at a NUL. */
        while (rb != NULL && c < rb && (url_ishex((unsigned char)*c) || *c == ':' || *c == '.'))
            c++;
        if (rb == NULL || c != rb || hz_ip_parse(a + 1, (size_t)(rb - a - 1), &ss) != 0 ||
            ss.ss_family != AF_INET6) {
            *why = "bad IPv6 host";
            return -1;
        }
        he = rb + 1;
        if (he < end && (*he != ':' || url_port(he + 1, (size_t)(end - he - 1)) != 0)) {
            *why = "bad port";
            return -1;
        }
        hlen = (size_t)(he - a);
        if (hlen >= HZ_HOST_MAX) {
            *why = "host too long";
            return -1;
        }
        for (size_t i = 0; i < hlen; i++)
            tmp[i] = url_lower(a[i]);
        tmp[hlen] = '\0';
        memcpy(host, tmp, hlen + 1);
        return 0;
    }
    hs = a;
    he = memchr(a, ':', n);
    if (he == NULL)
        he = end;
    else if (url_port(he + 1, (size_t)(end - he - 1)) != 0) {
        *why = "bad port";
        return -1;
    }
    if (he > hs && he[-1] == '.')
        he--;
    hlen = (size_t)(he - hs);
    if (hlen == 0) {
        *why = "empty host";
        return -1;
    }
    if (hlen >= HZ_HOST_MAX) {
        *why = "host too long";
        return -1;
    }
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)hs[i];
        if (c == '.') {
            if (label == 0) {
                *why = "empty label in host";
                return -1;
            }
            label = 0;
        } else if (url_isalnum(c) || c == '-' || c == '_') {
            label++;
        } else {
            *why = "bad character in host";
            return -1;
        }
        tmp[i] = url_lower(hs[i]);
    }
    tmp[hlen] = '\0';
    memcpy(host, tmp, hlen + 1);
    return 0;
}

/* ---------------------------------------------------------------- path */

/* 1 if s holds "x@y.zz": a local-part character, '@', a label, '.', and
 * two more label characters. */
static int
url_has_email(const char *s, size_t n)
{
    for (size_t i = 1; i + 1 < n; i++) {
        unsigned char p = (unsigned char)s[i - 1];
        size_t run = 0;
        int dotted = 0;

        if (s[i] != '@' || !(url_isalnum(p) || strchr("._%+-", p) != NULL))
            continue;
        for (size_t j = i + 1; j < n; j++) {
            unsigned char c = (unsigned char)s[j];
            if (c == '.') {
                if (run == 0)
                    break;
                dotted = 1;
                run = 0;
            } else if (url_isalnum(c) || c == '-') {
                if (++run >= 2 && dotted)
                    return 1;
            } else {
                break;
            }
        }
    }
    return 0;
}

/* 1 if s holds 8-4-4-4-12 hex digits. */
static int
url_has_uuid(const char *s, size_t n)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    const size_t w = sizeof(shape) - 1;

    for (size_t i = 0; i + w <= n; i++) {
        size_t k = 0;
        while (k < w && (shape[k] == '-' ? s[i + k] == '-' : url_ishex((unsigned char)s[i + k])))
            k++;
        if (k == w)
            return 1;
    }
    return 0;
}

/* Character class for the token rule: 1 lower, 2 upper, 3 digit, 0 other. */
static int
url_class(unsigned char c)
{
    if (url_islower(c))
        return 1;
    if (url_isupper(c))
        return 2;
    if (url_isdigit(c))
        return 3;
    return 0;
}

/* 1 if s looks like a random identifier (see url.h for the rule).
 *
 * Two signals. A long hex run is a hash, a session id or a key, and no
 * word is spelt in 0-9a-f. Otherwise a long run of URL-safe base64 is told
 * from a slug by how often neighbours change class: random text over
 * [A-Za-z0-9] changes on about two neighbours in three, while words
 * joined by '-' and '_' almost never change inside a word
 * ("iphone-15-pro-max-256gb-blue" changes once in 28). Letters and digits
 * must both occur, so CamelCase titles and long compound words stay. */
static int
url_has_token(const char *s, size_t n)
{
    size_t hexrun = 0, hexalpha = 0, hexdigit = 0;
    size_t run = 0, changes = 0;
    int digit = 0, alpha = 0, prev = 0;

    for (size_t i = 0; i <= n; i++) {
        unsigned char c = i < n ? (unsigned char)s[i] : 0;
        int cl = url_class(c);

        /* 16+ hex digits in a row, with both 0-9 and a-f. */
        if (i < n && url_ishex(c)) {
            hexrun++;
            if (url_isdigit(c))
                hexdigit++;
            else
                hexalpha++;
            if (hexrun >= 16 && hexalpha > 0 && hexdigit > 0)
                return 1;
        } else {
            hexrun = hexalpha = hexdigit = 0;
        }
        /* 20+ of [A-Za-z0-9_-], letters and digits, many class changes. */
        if (i < n && (cl != 0 || c == '-' || c == '_')) {
            run++;
            digit |= cl == 3;
            alpha |= cl == 1 || cl == 2;
            if (cl != 0 && prev != 0 && cl != prev)
                changes++;
            prev = cl;
            continue;
        }
        if (run >= 20 && digit && alpha && changes * 3 >= run)
            return 1;
        run = changes = 0;
        digit = alpha = prev = 0;
    }
    return 0;
}

/* 1 if s holds min or more ASCII digits in a row. */
static int
url_has_digits(const char *s, size_t n, size_t min)
{
    size_t run = 0;

    for (size_t i = 0; i < n; i++) {
        run = url_isdigit((unsigned char)s[i]) ? run + 1 : 0;
        if (run >= min)
            return 1;
    }
    return 0;
}

/* The placeholder for a canonical segment, or NULL to keep it. Every
 * placeholder is no longer than the shortest segment that produces it, and
 * none matches a rule itself. */
static const char *
url_placeholder(const char *s, size_t n)
{
    int at = 0, digit = 0;

    /* One look at the bytes first: an e-mail needs an '@', a token (either
     * signal) and an id a digit, a UUID 36 bytes; most segments are words
     * and need no rule run over them. */
    for (size_t i = 0; i < n; i++) {
        at |= s[i] == '@';
        digit |= url_isdigit((unsigned char)s[i]);
    }
    if (at && url_has_email(s, n))
        return ":email";
    if (n >= 36 && url_has_uuid(s, n))
        return ":uuid";
    if (digit && url_has_token(s, n))
        return ":token";
    if (digit && url_has_digits(s, n, 5))
        return ":id";
    return NULL;
}

/* Decodes raw segment s (no '/') into dec and writes its canonical form
 * to seg, cut to URL_SEG_MAX bytes on a character boundary. Returns the
 * canonical length, or -1 with *why set.
 *
 * Only '%' '/' '?' '#' are escaped again: '/' so that an encoded slash
 * stays inside its segment, '?' and '#' so that a page never looks like it
 * has a query or fragment, and '%' so that decoding the output gives back
 * exactly these bytes (scrubbing "%252F" twice must not give "/"). Every
 * other byte is shown as the text it decodes to, which is what a marketer
 * wants to read and what makes "/a%2Db" and "/a-b" one page. */
static long
url_segment(const char *s, size_t n, char *dec, size_t deccap, char seg[URL_SEG_MAX],
            const char **why)
{
    static const char hex[] = "0123456789ABCDEF";
    long dl = hz_pct_decode(dec, deccap, s, n, 0);
    size_t o = 0;

    if (dl < 0) {
        *why = "bad percent escape in path";
        return -1;
    }
    if (!hz_text_valid(dec, (size_t)dl)) {
        *why = "invalid UTF-8 or control byte in path";
        return -1;
    }
    if (hz_text_has_bidi(dec, (size_t)dl)) {
        *why = "Unicode bidirectional control in path";
        return -1;
    }
    for (size_t i = 0; i < (size_t)dl;) {
        unsigned char c = (unsigned char)dec[i];
        size_t w;
        if (c == '%' || c == '/' || c == '?' || c == '#') {
            if (o + 3 > URL_SEG_MAX)
                break;
            seg[o++] = '%';
            seg[o++] = hex[c >> 4];
            seg[o++] = hex[c & 15];
            i++;
            continue;
        }
        /* Validated above: the lead byte gives the sequence's length. */
        w = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        if (o + w > URL_SEG_MAX)
            break;
        memcpy(seg + o, dec + i, w);
        o += w;
        i += w;
    }
    return (long)o;
}

/* The longest prefix of canonical text s[0..n) of at most cap bytes that
 * splits neither an escape nor a UTF-8 sequence. */
static size_t
url_cut(const char *s, size_t n, size_t cap)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t w = c == '%' ? 3 : c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        if (i + w > cap)
            break;
        i += w;
    }
    return i;
}

/* Shortens the canonical path buf[0..blen) to HZ_PAGE_MAX-1 bytes: the
 * segments before the limit stay whole, the one across it is cut on a
 * character boundary and classified again (a placeholder is never longer
 * than the text it replaces). Returns the new length. */
static size_t
url_fit(char *buf, size_t blen)
{
    const size_t room = HZ_PAGE_MAX - 1;
    size_t j = room, end, cut;
    const char *ph;

    while (j > 0 && buf[j] != '/')
        j--;
    if (j == room)
        return j;
    end = j + 1;
    while (end < blen && buf[end] != '/')
        end++;
    cut = url_cut(buf + j + 1, end - j - 1, room - j - 1);
    ph = url_placeholder(buf + j + 1, cut);
    if (ph != NULL) {
        cut = strlen(ph);
        memcpy(buf + j + 1, ph, cut);
    }
    /* A cut that leaves nothing, "." or ".." would not survive a rescrub. */
    if (cut == 0 || (buf[j + 1] == '.' && (cut == 1 || (cut == 2 && buf[j + 2] == '.'))))
        return j;
    return j + 1 + cut;
}

/* Scrubs the path p (no query, no fragment) into out. 0 or -1 with *why. */
static int
url_path(const char *p, size_t len, char out[HZ_PAGE_MAX], const char **why)
{
    char dec[HZ_URL_MAX];
    char buf[HZ_URL_MAX + 2]; /* "/seg/seg": never longer than the input + 1 */
    char seg[URL_SEG_MAX];
    size_t blen = 0, i = 0;

    if (len > HZ_URL_MAX) {
        *why = "path too long";
        return -1;
    }
    while (i < len) {
        size_t j = i;
        long n;
        const char *ph;

        while (j < len && p[j] != '/')
            j++;
        if (j == i) {
            i = j + 1;
            continue;
        }
        n = url_segment(p + i, j - i, dec, sizeof(dec), seg, why);
        i = j + 1;
        if (n < 0)
            return -1;
        if (n == 1 && seg[0] == '.')
            continue;
        if (n == 2 && seg[0] == '.' && seg[1] == '.') {
            while (blen > 0 && buf[--blen] != '/')
                ;
            continue;
        }
        ph = url_placeholder(seg, (size_t)n);
        if (ph != NULL) {
            n = (long)strlen(ph);
            memcpy(seg, ph, (size_t)n);
        }
        if (n == 0)
            continue;
        if (blen + 1 + (size_t)n > sizeof(buf)) {
            *why = "path too long";
            return -1;
        }
        buf[blen++] = '/';
        memcpy(buf + blen, seg, (size_t)n);
        blen += (size_t)n;
    }
    if (blen > HZ_PAGE_MAX - 1)
        blen = url_fit(buf, blen);
    if (blen == 0)
        buf[blen++] = '/';
    memcpy(out, buf, blen);
    out[blen] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- query */

/* Trims ASCII spaces off both ends of (*s, *n). */
static void
url_trim(const char **s, size_t *n)
{
    while (*n > 0 && (*s)[0] == ' ') {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && (*s)[*n - 1] == ' ')
        (*n)--;
}

/* Decodes one kept value into dst (HZ_VALUE_MAX): "" if it is not clean
 * text, ":email" if it holds an address, else trimmed and capped. */
static void
url_value(const char *v, size_t vlen, char dst[HZ_VALUE_MAX], char *scratch, size_t cap)
{
    long dl = hz_pct_decode(scratch, cap, v, vlen, 1);
    const char *s = scratch;
    size_t n;

    dst[0] = '\0';
    if (dl < 0 || !hz_text_valid(scratch, (size_t)dl) || hz_text_has_bidi(scratch, (size_t)dl))
        return;
    n = (size_t)dl;
    url_trim(&s, &n);
    if (url_has_email(s, n)) {
        (void)hz_strlcpy(dst, ":email", HZ_VALUE_MAX);
        return;
    }
    if (n > HZ_VALUE_MAX - 1) {
        n = HZ_VALUE_MAX - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
        url_trim(&s, &n);
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* Reads the allow-listed parameters of query q (after '?', before '#').
 * Parameters not on the list are thrown away unread: a site's own "?q=100%"
 * must not cost it the pageview. Keys are decoded ("utm%5Fsource" is
 * utm_source) and compared exactly; a field is filled once, by its first
 * occurrence, even if that value is empty or unusable. */
static void
url_query(const char *q, size_t len, struct hz_url *u, char *scratch, size_t cap)
{
    /* clang-format off */
    static const struct {
        char key[16];
        int field;
    } keys[] = {
        { "utm_source", URL_F_SOURCE }, { "utm_medium", URL_F_MEDIUM },
        { "utm_campaign", URL_F_CAMPAIGN }, { "utm_content", URL_F_CONTENT },
        { "utm_term", URL_F_TERM }, { "ref", URL_F_REF }, { "source", URL_F_REF },
    };
    /* clang-format on */
    char *dst[] = {u->utm_source,  u->utm_medium, u->utm_campaign,
                   u->utm_content, u->utm_term,   u->ref};
    unsigned seen = 0;
    size_t i = 0;

    while (i < len) {
        size_t j = i, klen;
        const char *eq;
        char key[16];
        long kl;

        while (j < len && q[j] != '&')
            j++;
        eq = memchr(q + i, '=', j - i);
        klen = eq != NULL ? (size_t)(eq - q - i) : j - i;
        kl = klen < 3 * sizeof(key) ? hz_pct_decode(key, sizeof(key) - 1, q + i, klen, 1) : -1;
        for (size_t k = 0; kl > 0 && k < sizeof(keys) / sizeof(keys[0]); k++) {
            int f = keys[k].field;
            if ((size_t)kl != strlen(keys[k].key) || memcmp(key, keys[k].key, (size_t)kl) != 0)
                continue;
            if (!(seen & (1u << f))) {
                seen |= 1u << f;
                if (eq != NULL)
                    url_value(eq + 1, (size_t)(q + j - eq - 1), dst[f], scratch, cap);
            }
            break;
        }
        i = j + 1;
    }
}

/* ---------------------------------------------------------------- API */

int
hz_url_scrub(const char *url, size_t len, struct hz_url *out, struct hz_err *err)
{
    struct hz_url u;
    char scratch[HZ_URL_MAX];
    const char *why = "bad URL";
    size_t skip, a, q, h;

    if (len > HZ_URL_MAX)
        return hz_err_set(err, HZ_ETOOBIG, "URL over %d bytes", HZ_URL_MAX);
    if (!hz_text_valid(url, len))
        return hz_err_set(err, HZ_EINVAL, "URL has control bytes or invalid UTF-8");
    memset(&u, 0, sizeof(u));
    if (!url_scheme(url, len, &skip)) {
        if (!url_app_scheme(url, len, &skip))
            return hz_err_set(err, HZ_EINVAL, "not an absolute URL (http, https or an app's)");
        u.app = 1;
    }
    a = skip;
    while (a < len && url[a] != '/' && url[a] != '?' && url[a] != '#')
        a++;
    /* An app's "host" ("app://localhost/x") names nothing: the site is
     * the beacon's domain, as Plausible does. */
    if (u.app)
        u.host[0] = '\0';
    else if (url_host(url + skip, a - skip, u.host, &why) != 0)
        return hz_err_set(err, HZ_EINVAL, "%s", why);
    /* scheme://authority, then path, query and fragment. The whole URL
     * was validated as text above, so what follows only splits it. The
     * fragment goes first: a '?' after '#' belongs to it. */
    h = a;
    while (h < len && url[h] != '#')
        h++;
    q = a;
    while (q < h && url[q] != '?')
        q++;
    if (url_path(url + a, q - a, u.path, &why) != 0)
        return hz_err_set(err, HZ_EINVAL, "%s", why);
    if (q < h)
        url_query(url + q + 1, h - q - 1, &u, scratch, sizeof(scratch));
    *out = u;
    return 0;
}

int
hz_url_scrub_path(const char *path, size_t len, char out[HZ_PAGE_MAX], struct hz_err *err)
{
    char tmp[HZ_PAGE_MAX];
    const char *why = "bad path";
    size_t e = 0;

    if (len > HZ_URL_MAX)
        return hz_err_set(err, HZ_ETOOBIG, "path over %d bytes", HZ_URL_MAX);
    if (!hz_text_valid(path, len))
        return hz_err_set(err, HZ_EINVAL, "path has control bytes or invalid UTF-8");
    while (e < len && path[e] != '?' && path[e] != '#')
        e++;
    if (url_path(path, e, tmp, &why) != 0)
        return hz_err_set(err, HZ_EINVAL, "%s", why);
    memcpy(out, tmp, strlen(tmp) + 1);
    return 0;
}

/* Decodes the four escapes url_path writes (%25 %2F %3F %23) back. */
static size_t
url_unescape4(char *s)
{
    size_t i = 0, o = 0;

    while (s[i] != '\0') {
        if (s[i] == '%' && s[i + 1] != '\0' && s[i + 2] != '\0') {
            char c = 0;
            if (s[i + 1] == '2' && s[i + 2] == '5')
                c = '%';
            else if (s[i + 1] == '2' && s[i + 2] == 'F')
                c = '/';
            else if (s[i + 1] == '3' && s[i + 2] == 'F')
                c = '?';
            else if (s[i + 1] == '2' && s[i + 2] == '3')
                c = '#';
            if (c != 0) {
                s[o++] = c;
                i += 3;
                continue;
            }
        }
        s[o++] = s[i++];
    }
    s[o] = '\0';
    return o;
}

int
hz_url_scrub_value(const char *v, size_t len, char out[HZ_VALUE_MAX])
{
    char path[3 * HZ_VALUE_MAX + 2], seg[HZ_PAGE_MAX];
    size_t n = 0;
    struct hz_err e;

    if (len >= HZ_VALUE_MAX || !hz_text_valid(v, len))
        return HZ_EINVAL;
    /* One segment: every byte that would split it or start an escape is
     * escaped, so the value is classified whole and comes back as given. */
    path[n++] = '/';
    for (size_t i = 0; i < len; i++) {
        if (v[i] == '%' || v[i] == '/' || v[i] == '?' || v[i] == '#') {
            (void)snprintf(path + n, 4, "%%%02X", (unsigned char)v[i]);
            n += 3;
        } else {
            path[n++] = v[i];
        }
    }
    if (hz_url_scrub_path(path, n, seg, &e) != 0)
        return HZ_EINVAL;
    n = url_unescape4(seg + 1);
    if (n == 0 || n >= HZ_VALUE_MAX || strcmp(seg + 1, ".") == 0 || strcmp(seg + 1, "..") == 0)
        return HZ_EINVAL;
    memcpy(out, seg + 1, n + 1);
    return 0;
}

/* Length of h without a leading "www." (any case) and a trailing dot;
 * *start is set past the "www.". */
static size_t
url_bare(const char *h, size_t n, const char **start)
{
    if (n > 4 && hz_memieq(h, 4, "www.")) {
        h += 4;
        n -= 4;
    }
    if (n > 0 && h[n - 1] == '.')
        n--;
    *start = h;
    return n;
}

/* 1 if host (lowercase, already bare) names the same site as other. */
static int
url_same_site(const char *host, const char *other)
{
    const char *o;
    size_t n;

    if (other == NULL || other[0] == '\0')
        return 0;
    n = url_bare(other, strlen(other), &o);
    return hz_memieq(o, n, host);
}

void
hz_url_source(const struct hz_url *page, const char *referrer, size_t rlen, const char *site_host,
              char out[HZ_VALUE_MAX])
{
    out[0] = '\0';
    if (page != NULL && page->utm_source[0] != '\0') {
        (void)hz_strlcpy(out, page->utm_source, HZ_VALUE_MAX);
        return;
    }
    if (page != NULL && page->ref[0] != '\0') {
        (void)hz_strlcpy(out, page->ref, HZ_VALUE_MAX);
        return;
    }
    hz_url_referrer_host(page, referrer, rlen, site_host, out);
}

void
hz_url_referrer_host(const struct hz_url *page, const char *referrer, size_t rlen,
                     const char *site_host, char out[HZ_VALUE_MAX])
{
    char host[HZ_HOST_MAX];
    const char *why, *b;
    size_t skip, a, n;

    out[0] = '\0';
    if (referrer == NULL || !url_scheme(referrer, rlen, &skip))
        return;
    a = skip;
    while (a < rlen && referrer[a] != '/' && referrer[a] != '?' && referrer[a] != '#')
        a++;
    if (url_host(referrer + skip, a - skip, host, &why) != 0)
        return;
    n = url_bare(host, strlen(host), &b);
    memmove(host, b, n);
    host[n] = '\0';
    if (n == 0 || url_same_site(host, site_host) ||
        (page != NULL && url_same_site(host, page->host)))
        return;
    (void)hz_strlcpy(out, host, HZ_VALUE_MAX);
}
