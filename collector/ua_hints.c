/* SPDX-License-Identifier: MIT */
/*
 * ua_hints.c - major versions from User-Agent Client Hints (ua.h): the
 * brands of Sec-CH-UA-Full-Version-List / Sec-CH-UA and the platform's
 * version in Sec-CH-UA-Platform-Version, and the last step of the
 * classifier's versions (hz_ua_hints_apply).
 *
 * The brand lists are RFC 8941 structured-field lists of strings with a
 * "v" parameter:
 *
 *   "Chromium";v="131.0.6778.86", "Not_A Brand";v="24.0.0.0", "Google Chrome";v="131.0.6778.86"
 *
 * Only brands that name one of DESIGN.md's families are kept, each with
 * its major version (the number before the first '.'); GREASE brands and
 * every other byte of the header are read and forgotten. A list that does
 * not parse counts as not sent, as a whole.
 *
 * Pure: reads its arguments only; nothing here is stored or logged.
 */
#include "collector/ua.h"

#include <stdio.h>
#include <string.h>

#define HINTS_LEN_MAX 1024 /* bytes of one header read; a longer one is not sent */

/* Brands and their families. Chromium is every Chromium-based browser's
 * second brand: it counts for Chrome only when "Google Chrome" is absent. */
static const struct {
    const char *brand;
    enum hz_browser family;
} hints_brands[] = {
    {"Google Chrome", HZ_UA_CHROME}, {"Chromium", HZ_UA_CHROME},
    {"Microsoft Edge", HZ_UA_EDGE},  {"Opera", HZ_UA_OPERA},
    {"Opera GX", HZ_UA_OPERA},       {"Samsung Internet", HZ_UA_SAMSUNG},
    {"YaBrowser", HZ_UA_YANDEX},     {"Yandex", HZ_UA_YANDEX},
};

static int
hints_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

void
hz_ua_major_cut(const char *v, size_t len, char out[HZ_UA_MAJOR_MAX])
{
    size_t k = 0;

    for (size_t i = 0; i < len && k < HZ_UA_MAJOR_MAX - 1; i++) {
        if (hints_alnum(v[i]))
            out[k++] = v[i];
        else if (v[i] == ' ' && k > 0 && k + 1 < HZ_UA_MAJOR_MAX - 1 && i + 1 < len &&
                 hints_alnum(v[i + 1])) /* inner only: room for what follows */
            out[k++] = ' ';
        else
            break;
    }
    out[k] = '\0';
    /* A number is a version, not a marker: at most 5 digits (as Client
     * Hints' majors, capped at 60000). */
    for (size_t i = 0, run = 0; i < k; i++)
        if ((run = out[i] >= '0' && out[i] <= '9' ? run + 1 : 0) > 5) {
            out[0] = '\0';
            break;
        }
}

/* The major of a version text (s, len): 1 + the leading number (capped),
 * or 0 when it does not start with a digit. */
static uint16_t
hints_major(const char *s, size_t len)
{
    unsigned m = 0;
    size_t i = 0;

    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        if ((m = m * 10 + (unsigned)(s[i] - '0')) > 60000)
            return 0;
    return i == 0 ? 0 : (uint16_t)(m + 1);
}

/* Skips optional whitespace (SP, HTAB) from *i. */
static void
hints_ows(const char *s, size_t n, size_t *i)
{
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t'))
        (*i)++;
}

/*
 * An sf-string at s[*i] ('"' ... '"', with \" and \\ escapes): its
 * unescaped text into out (cap bytes; a longer one is cut, not refused).
 * 0, or -1 when it is not one.
 */
static int
hints_string(const char *s, size_t n, size_t *i, char *out, size_t cap, size_t *olen)
{
    size_t k = 0;

    if (*i >= n || s[*i] != '"')
        return -1;
    for ((*i)++; *i < n; (*i)++) {
        char c = s[*i];
        if (c == '"') {
            (*i)++;
            out[k < cap ? k : cap - 1] = '\0';
            *olen = k < cap ? k : cap - 1;
            return 0;
        }
        if (c == '\\') {
            if (++(*i) >= n || (s[*i] != '"' && s[*i] != '\\'))
                return -1;
            c = s[*i];
        } else if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7e) {
            return -1;
        }
        if (k < cap - 1)
            out[k] = c;
        k++;
    }
    return -1;
}

/* A parameter key ([a-z*][a-z0-9_.*-]*) at s[*i]; 0 or -1. */
static int
hints_key(const char *s, size_t n, size_t *i, char *out, size_t cap)
{
    size_t k = 0;

    if (*i >= n || !((s[*i] >= 'a' && s[*i] <= 'z') || s[*i] == '*'))
        return -1;
    while (*i < n && ((s[*i] >= 'a' && s[*i] <= 'z') || (s[*i] >= '0' && s[*i] <= '9') ||
                      s[*i] == '_' || s[*i] == '-' || s[*i] == '.' || s[*i] == '*')) {
        if (k < cap - 1)
            out[k++] = s[*i];
        (*i)++;
    }
    out[k] = '\0';
    return 0;
}

/* A bare item that is not a string (token, number, boolean): skipped. */
static int
hints_bare(const char *s, size_t n, size_t *i)
{
    size_t start = *i;

    while (*i < n && s[*i] != ';' && s[*i] != ',' && s[*i] != ' ' && s[*i] != '\t' &&
           s[*i] != '"' && (unsigned char)s[*i] > 0x20 && (unsigned char)s[*i] < 0x7f)
        (*i)++;
    return *i > start ? 0 : -1;
}

/* Keeps (family, major) in h: one entry per family; Chromium gives way to
 * a family's own brand. */
static void
hints_keep(struct hz_ua_hints *h, enum hz_browser f, uint16_t major, int chromium)
{
    for (int j = 0; j < h->nbrands; j++)
        if (h->brand[j] == (unsigned char)f) {
            if (!chromium)
                h->brand_major[j] = major;
            return;
        }
    if (h->nbrands >= HZ_UA_BRANDS_MAX)
        return;
    h->brand[h->nbrands] = (unsigned char)f;
    h->brand_major[h->nbrands] = major;
    h->nbrands++;
}

/* Parses a brand list into h's brands; -1 (h's brands cleared) when it is
 * not a list of strings with parameters. */
static int
hints_brand_list(struct hz_ua_hints *h, const char *s, size_t n)
{
    size_t i = 0;

    h->nbrands = 0;
    if (n > HINTS_LEN_MAX)
        return -1;
    hints_ows(s, n, &i);
    while (i < n) {
        char brand[48], key[16], val[32];
        size_t blen, vlen = 0;
        uint16_t major = 0;

        if (hints_string(s, n, &i, brand, sizeof brand, &blen) != 0)
            goto bad;
        while (i < n && s[i] == ';') {
            i++;
            hints_ows(s, n, &i);
            if (hints_key(s, n, &i, key, sizeof key) != 0)
                goto bad;
            if (i < n && s[i] == '=') {
                i++;
                if (i < n && s[i] == '"') {
                    if (hints_string(s, n, &i, val, sizeof val, &vlen) != 0)
                        goto bad;
                    if (strcmp(key, "v") == 0)
                        major = hints_major(val, vlen);
                } else if (hints_bare(s, n, &i) != 0) {
                    goto bad;
                }
            }
        }
        for (size_t b = 0; b < sizeof hints_brands / sizeof hints_brands[0]; b++)
            if (major > 0 && strcmp(brand, hints_brands[b].brand) == 0)
                hints_keep(h, hints_brands[b].family, major, strcmp(brand, "Chromium") == 0);
        hints_ows(s, n, &i);
        if (i == n)
            break;
        if (s[i] != ',')
            goto bad;
        i++;
        hints_ows(s, n, &i);
        if (i == n)
            goto bad; /* a trailing comma */
    }
    return 0;
bad:
    h->nbrands = 0;
    memset(h->brand, 0, sizeof h->brand);
    memset(h->brand_major, 0, sizeof h->brand_major);
    return -1;
}

void
hz_ua_hints_versions(struct hz_ua_hints *h, const char *full_list, size_t full_len,
                     const char *brands, size_t brands_len, const char *pver, size_t pver_len)
{
    h->nbrands = 0;
    memset(h->brand, 0, sizeof h->brand);
    memset(h->brand_major, 0, sizeof h->brand_major);
    h->platform_major = 0;
    if (full_list != NULL)
        (void)hints_brand_list(h, full_list, full_len);
    if (h->nbrands == 0 && brands != NULL)
        (void)hints_brand_list(h, brands, brands_len);
    if (pver != NULL && pver_len <= 64) {
        char v[64];
        size_t i = 0, vlen;
        if (hints_string(pver, pver_len, &i, v, sizeof v, &vlen) == 0 && i == pver_len)
            h->platform_major = hints_major(v, vlen);
    }
}

int
hz_ua_hints_eq(const struct hz_ua_hints *a, const struct hz_ua_hints *b)
{
    if (a->mobile != b->mobile || a->os != b->os || a->nbrands != b->nbrands ||
        a->platform_major != b->platform_major)
        return 0;
    for (int i = 0; i < a->nbrands && i < HZ_UA_BRANDS_MAX; i++)
        if (a->brand[i] != b->brand[i] || a->brand_major[i] != b->brand_major[i])
            return 0;
    return 1;
}

void
hz_ua_hints_apply(const struct hz_ua_hints *h, struct hz_ua *out)
{
    if (out->browser == HZ_UA_OTHER)
        out->browser_major[0] = '\0';
    if (out->os == HZ_OS_OTHER)
        out->os_major[0] = '\0';
    if (h == NULL)
        return;
    for (int i = 0; i < h->nbrands && i < HZ_UA_BRANDS_MAX; i++)
        if (out->browser != HZ_UA_OTHER && h->brand[i] == (unsigned char)out->browser &&
            h->brand_major[i] > 0)
            (void)snprintf(out->browser_major, HZ_UA_MAJOR_MAX, "%u",
                           (unsigned)(h->brand_major[i] - 1));
    if (h->platform_major > 0 && h->os > 0 && (enum hz_os)(h->os - 1) == out->os) {
        unsigned m = (unsigned)(h->platform_major - 1);
        if (out->os == HZ_OS_WINDOWS && m > 0)
            (void)snprintf(out->os_major, HZ_UA_MAJOR_MAX, "%s", m >= 13 ? "11" : "10");
        else if ((out->os == HZ_OS_MACOS || out->os == HZ_OS_ANDROID) && m > 0)
            (void)snprintf(out->os_major, HZ_UA_MAJOR_MAX, "%u", m);
    }
}
