/* SPDX-License-Identifier: MIT */
/*
 * ua.c - user agent -> coarse families, from the field's maintained
 * databases (collector/ua_db.h; fetched at build time, never copied here):
 *
 *   browser  uap-core's user_agent_parsers: the first rule that matches
 *            names a fine family ("Chrome Mobile WebView"), mapped onto
 *            DESIGN.md's families by ua_browser_map below;
 *   os       uap-core's os_parsers, mapped by ua_os_map below;
 *   bot      uap-core's "Spider" device rules, crawler-user-agents'
 *            patterns, isbot's patterns where uap-core names no device, or
 *            no browser at all: see ua_bot below;
 *   device   ua_device below: tablet and phone tokens, the os, and Client
 *            Hints when the browser sent them.
 *
 * Matching is PCRE2 (8-bit, no UTF: a UA is bytes) with JIT where the
 * machine allows it, and a match limit so that no UA costs more than a
 * bounded amount of backtracking. The matchers are built once, under
 * pthread_once, and only read afterwards; each call has its own match data.
 *
 * Privacy: the UA is read in place. Nothing here copies, stores or logs
 * it; the cache keeps a keyed 64-bit hash and the length, never the text.
 */
#include "collector/ua.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "collector/ua_db.h"
#include "collector/ua_dd.h"
#include "common/siphash.h"

/* ------------------------------------------------------------ mapping */

/*
 * The mapping table: uap-core's fine names -> DESIGN.md's families. Only
 * the names listed here have a family; every other browser (Vivaldi, Brave,
 * Puffin, in-app browsers such as Facebook or Instagram, crawlers, ...) is
 * Other. Mobile variants and the vendors' own webviews belong to their
 * family (DESIGN.md: Chrome Mobile is Chrome, Mobile Safari is Safari).
 * Firefox's pre-release builds are named "Firefox (Code name)" by uap-core:
 * the prefix "Firefox (" is Firefox.
 */
struct ua_map {
    const char *name;
    int family;
};

static const struct ua_map ua_browser_map[] = {
    {"Chrome", HZ_UA_CHROME},
    {"Chrome Mobile", HZ_UA_CHROME},
    {"Chrome Mobile iOS", HZ_UA_CHROME},
    {"Chrome Mobile WebView", HZ_UA_CHROME},
    {"Chrome Frame", HZ_UA_CHROME},
    {"Chromium", HZ_UA_CHROME},
    {"Firefox", HZ_UA_FIREFOX},
    {"Firefox Mobile", HZ_UA_FIREFOX},
    {"Firefox iOS", HZ_UA_FIREFOX},
    {"Firefox Beta", HZ_UA_FIREFOX},
    {"Firefox Alpha", HZ_UA_FIREFOX},
    {"Safari", HZ_UA_SAFARI},
    {"Mobile Safari", HZ_UA_SAFARI},
    {"Mobile Safari UI/WKWebView", HZ_UA_SAFARI},
    {"Edge", HZ_UA_EDGE},
    {"Edge Mobile", HZ_UA_EDGE},
    {"Opera", HZ_UA_OPERA},
    {"Opera Mini", HZ_UA_OPERA},
    {"Opera Mobile", HZ_UA_OPERA},
    {"Opera Tablet", HZ_UA_OPERA},
    {"Opera Coast", HZ_UA_OPERA},
    {"Opera Neon", HZ_UA_OPERA},
    {"Samsung Internet", HZ_UA_SAMSUNG},
    {"IE", HZ_UA_IE},
    {"IE Mobile", HZ_UA_IE},
    {"IE Large Screen", HZ_UA_IE},
    {"Yandex Browser", HZ_UA_YANDEX},
    {"UC Browser", HZ_UA_UC},
    {NULL, 0},
};

/*
 * uap-core's os families -> DESIGN.md's. Linux is the kernel and the
 * desktop distributions uap-core names; Android, ChromeOS and the TV and
 * phone systems built on Linux (webOS, Tizen, KaiOS, Firefox OS, ...) are
 * not Linux. Windows Phone and Windows Mobile are not Windows (another
 * system for another device); tvOS and watchOS are not iOS.
 */
static const struct ua_map ua_os_map[] = {
    {"Windows", HZ_OS_WINDOWS}, {"Mac OS X", HZ_OS_MACOS},
    {"Mac OS", HZ_OS_MACOS},    {"iOS", HZ_OS_IOS},
    {"Android", HZ_OS_ANDROID}, {"Chrome OS", HZ_OS_CHROMEOS},
    {"Linux", HZ_OS_LINUX},     {"Ubuntu", HZ_OS_LINUX},
    {"Kubuntu", HZ_OS_LINUX},   {"Lubuntu", HZ_OS_LINUX},
    {"Debian", HZ_OS_LINUX},    {"Fedora", HZ_OS_LINUX},
    {"Red Hat", HZ_OS_LINUX},   {"CentOS", HZ_OS_LINUX},
    {"Gentoo", HZ_OS_LINUX},    {"Arch Linux", HZ_OS_LINUX},
    {"Slackware", HZ_OS_LINUX}, {"openSUSE", HZ_OS_LINUX},
    {"SUSE", HZ_OS_LINUX},      {"Mandriva", HZ_OS_LINUX},
    {"Mageia", HZ_OS_LINUX},    {"PCLinuxOS", HZ_OS_LINUX},
    {"Puppy", HZ_OS_LINUX},     {"BackTrack", HZ_OS_LINUX},
    {"Mint", HZ_OS_LINUX},      {NULL, 0},
};

/*
 * Matomo device-detector's fine names -> DESIGN.md's families (its client
 * names when the client is a browser; an app, a library or a browser not
 * listed is Other). Chromium-based browsers with their own name (Brave,
 * Vivaldi, Huawei Browser, ...) are Other.
 */
static const struct ua_map ua_dd_browser_map[] = {
    {"Chrome", HZ_UA_CHROME},
    {"Chrome Mobile", HZ_UA_CHROME},
    {"Chrome Mobile iOS", HZ_UA_CHROME},
    {"Chrome Webview", HZ_UA_CHROME},
    {"Chrome Frame", HZ_UA_CHROME},
    {"Chromium", HZ_UA_CHROME},
    {"Firefox", HZ_UA_FIREFOX},
    {"Firefox Mobile", HZ_UA_FIREFOX},
    {"Firefox Mobile iOS", HZ_UA_FIREFOX},
    {"Safari", HZ_UA_SAFARI},
    {"Mobile Safari", HZ_UA_SAFARI},
    {"Safari Technology Preview", HZ_UA_SAFARI},
    {"Microsoft Edge", HZ_UA_EDGE},
    {"Opera", HZ_UA_OPERA},
    {"Opera Next", HZ_UA_OPERA},
    {"Opera GX", HZ_UA_OPERA},
    {"Opera Mini", HZ_UA_OPERA},
    {"Opera Mini iOS", HZ_UA_OPERA},
    {"Opera Mobile", HZ_UA_OPERA},
    {"Opera Neon", HZ_UA_OPERA},
    {"Opera Touch", HZ_UA_OPERA},
    {"Samsung Browser", HZ_UA_SAMSUNG},
    {"Internet Explorer", HZ_UA_IE},
    {"IE Mobile", HZ_UA_IE},
    {"Yandex Browser", HZ_UA_YANDEX},
    {"Yandex Browser Lite", HZ_UA_YANDEX},
    {"Yandex Browser Corp", HZ_UA_YANDEX},
    {"UC Browser", HZ_UA_UC},
    {"UC Browser Mini", HZ_UA_UC},
    {"UC Browser Turbo", HZ_UA_UC},
    {"UC Browser HD", HZ_UA_UC},
    {NULL, 0},
};

/* device-detector's os families -> DESIGN.md's. Its "iOS" family holds
 * iPadOS, tvOS and watchOS; its "Android" family the systems built on
 * Android (Fire OS, HarmonyOS's Android builds, Android TV, ...). */
static const struct ua_map ua_dd_os_map[] = {
    {"Windows", HZ_OS_WINDOWS},
    {"Mac", HZ_OS_MACOS},
    {"iOS", HZ_OS_IOS},
    {"Android", HZ_OS_ANDROID},
    {"GNU/Linux", HZ_OS_LINUX},
    {"Chrome OS", HZ_OS_CHROMEOS},
    {NULL, 0},
};

/* device-detector's device types -> DESIGN.md's classes: handhelds are
 * mobile (phablets, feature phones, wearables, media players, cameras),
 * tablets and smart displays tablet, the rest (TVs, consoles, cars,
 * speakers, peripherals) desktop: a fixed screen. */
static const enum hz_device ua_dd_device_map[] = {
    [HZ_DD_DESKTOP] = HZ_DEV_DESKTOP,     [HZ_DD_SMARTPHONE] = HZ_DEV_MOBILE,
    [HZ_DD_TABLET] = HZ_DEV_TABLET,       [HZ_DD_FEATURE_PHONE] = HZ_DEV_MOBILE,
    [HZ_DD_CONSOLE] = HZ_DEV_DESKTOP,     [HZ_DD_TV] = HZ_DEV_DESKTOP,
    [HZ_DD_CAR_BROWSER] = HZ_DEV_DESKTOP, [HZ_DD_SMART_DISPLAY] = HZ_DEV_TABLET,
    [HZ_DD_CAMERA] = HZ_DEV_MOBILE,       [HZ_DD_PMP] = HZ_DEV_MOBILE,
    [HZ_DD_PHABLET] = HZ_DEV_MOBILE,      [HZ_DD_SMART_SPEAKER] = HZ_DEV_DESKTOP,
    [HZ_DD_WEARABLE] = HZ_DEV_MOBILE,     [HZ_DD_PERIPHERAL] = HZ_DEV_DESKTOP,
};

static int
ua_map_find(const struct ua_map *m, const char *name)
{
    for (; m->name != NULL; m++)
        if (strcmp(m->name, name) == 0)
            return m->family;
    return 0; /* Other */
}

enum hz_browser
hz_ua_browser_of(const char *uap_family)
{
    if (uap_family == NULL)
        return HZ_UA_OTHER;
    if (strncmp(uap_family, "Firefox (", 9) == 0)
        return HZ_UA_FIREFOX;
    return (enum hz_browser)ua_map_find(ua_browser_map, uap_family);
}

enum hz_os
hz_ua_os_of(const char *uap_os_family)
{
    return uap_os_family ? (enum hz_os)ua_map_find(ua_os_map, uap_os_family) : HZ_OS_OTHER;
}

enum hz_browser
hz_ua_dd_browser_of(const char *dd_browser)
{
    return dd_browser ? (enum hz_browser)ua_map_find(ua_dd_browser_map, dd_browser) : HZ_UA_OTHER;
}

enum hz_os
hz_ua_dd_os_of(const char *dd_os_family)
{
    return dd_os_family ? (enum hz_os)ua_map_find(ua_dd_os_map, dd_os_family) : HZ_OS_OTHER;
}

enum hz_device
hz_ua_dd_device_of(int dd_type)
{
    if (dd_type <= 0 || (size_t)dd_type >= sizeof ua_dd_device_map / sizeof ua_dd_device_map[0])
        return HZ_DEV_DESKTOP;
    return ua_dd_device_map[dd_type];
}

/* ------------------------------------------------------------ matchers */

struct ua_re {
    pcre2_code *code; /* NULL: PCRE2 refused the pattern (counted in skipped) */
    const char *repl;
    const char *v1; /* the major version's replacement, NULL: group 2 */
};

static struct {
    struct ua_re *browsers, *oses, *devices;
    size_t nbrowsers, noses, ndevices;
    size_t nlead; /* devices[0 .. nlead) all name a Spider */
    pcre2_code *words, *shapes, *crawlers;
    pcre2_match_context *mctx;
    size_t skipped;
} ua_db;

static pthread_once_t ua_db_once = PTHREAD_ONCE_INIT;

/*
 * crawler-user-agents' plain-string patterns, indexed: a 1,500-way PCRE2
 * alternation costs ~0.2 ms a UA, because almost every byte may start one
 * of them. order[first[c] .. first[c + 1]) lists the strings that start
 * with byte c; bit (c0 << 8 | c1) of pair is set when one starts c0 c1, so
 * most positions of a UA are passed after one lookup.
 */
static struct {
    uint64_t pair[65536 / 64];
    unsigned first[257];
    unsigned *order;
    size_t *len;
} ua_lit;

static void
ua_lit_build(void)
{
    const char *const *s = hz_uadb_crawler_strings;
    unsigned fill[256];
    size_t n = 0;

    while (s[n] != NULL)
        n++;
    ua_lit.order = calloc(n + 1, sizeof *ua_lit.order);
    ua_lit.len = calloc(n + 1, sizeof *ua_lit.len);
    if (ua_lit.order == NULL || ua_lit.len == NULL)
        abort(); /* at start-up */
    for (size_t i = 0; i < n; i++) {
        const unsigned char *t = (const unsigned char *)s[i];
        unsigned k = (unsigned)t[0] << 8 | t[1]; /* gen.mjs: two bytes or more */

        ua_lit.len[i] = strlen(s[i]);
        ua_lit.pair[k >> 6] |= (uint64_t)1 << (k & 63);
        ua_lit.first[t[0] + 1]++;
    }
    for (int c = 0; c < 256; c++) {
        ua_lit.first[c + 1] += ua_lit.first[c];
        fill[c] = ua_lit.first[c];
    }
    for (size_t i = 0; i < n; i++)
        ua_lit.order[fill[(unsigned char)s[i][0]]++] = (unsigned)i;
}

/* Whether one of the indexed strings occurs in u[0 .. n). */
static int
ua_lit_any(const unsigned char *u, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        unsigned k = (unsigned)u[i] << 8 | u[i + 1];

        if ((ua_lit.pair[k >> 6] >> (k & 63) & 1) == 0)
            continue;
        for (unsigned j = ua_lit.first[u[i]]; j < ua_lit.first[u[i] + 1]; j++) {
            unsigned r = ua_lit.order[j];
            if (ua_lit.len[r] <= n - i &&
                memcmp(u + i, hz_uadb_crawler_strings[r], ua_lit.len[r]) == 0)
                return 1;
        }
    }
    return 0;
}

/* Backtracking steps one pattern may take on one UA. The databases' own
 * patterns need a few hundred; the limit bounds a hostile UA. */
#define UA_MATCH_LIMIT 100000

static pcre2_code *
ua_compile(const char *re, int caseless)
{
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *code;

    code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, caseless ? PCRE2_CASELESS : 0,
                         &errcode, &erroff, NULL);
    if (code == NULL) {
        ua_db.skipped++;
        return NULL;
    }
    /* Without JIT (a machine that forbids executable memory) the
     * interpreter gives the same answers, slower. */
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    return code;
}

static int
ua_is_spider(const struct ua_re *r)
{
    return r->repl != NULL && strcmp(r->repl, "Spider") == 0;
}

static struct ua_re *
ua_compile_rules(const struct hz_uadb_rule *r, size_t n)
{
    struct ua_re *v = calloc(n > 0 ? n : 1, sizeof *v);

    if (v == NULL)
        abort(); /* at start-up: nothing to classify with */
    for (size_t i = 0; i < n; i++) {
        v[i].code = ua_compile(r[i].re, r[i].caseless);
        v[i].repl = r[i].repl;
        v[i].v1 = r[i].v1;
    }
    return v;
}

static void
ua_db_build(void)
{
    ua_db.browsers = ua_compile_rules(hz_uadb_browsers, hz_uadb_browsers_n);
    ua_db.nbrowsers = hz_uadb_browsers_n;
    ua_db.oses = ua_compile_rules(hz_uadb_oses, hz_uadb_oses_n);
    ua_db.noses = hz_uadb_oses_n;
    ua_db.devices = ua_compile_rules(hz_uadb_devices, hz_uadb_devices_n);
    ua_db.ndevices = hz_uadb_devices_n;
    while (ua_db.nlead < ua_db.ndevices && ua_is_spider(&ua_db.devices[ua_db.nlead]))
        ua_db.nlead++;
    ua_db.words = ua_compile(hz_uadb_isbot_words, 1);
    ua_db.shapes = ua_compile(hz_uadb_isbot_shapes, 1);
    ua_db.crawlers = ua_compile(hz_uadb_crawlers, 0);
    ua_lit_build();
    ua_db.mctx = pcre2_match_context_create(NULL);
    if (ua_db.mctx == NULL)
        abort();
    (void)pcre2_set_match_limit(ua_db.mctx, UA_MATCH_LIMIT);
}

size_t
hz_ua_init(void)
{
    (void)pthread_once(&ua_db_once, ua_db_build);
    return ua_db.skipped + hz_dd_init();
}

const char *
hz_ua_versions(void)
{
    return hz_uadb_versions;
}

/* Groups read from a match: the family's replacement uses $1, a
 * version's $1 .. $9. */
#define UA_OVEC 10

/* Returns the number of groups set + 1 (PCRE2's count; 0 when UA_OVEC
 * pairs are too few, all of them being set) on a match, -1 otherwise. */
static int
ua_match_rc(const pcre2_code *code, const unsigned char *u, size_t n, pcre2_match_data *md)
{
    int rc;

    if (code == NULL)
        return -1;
    rc = pcre2_match(code, u, n, 0, 0, md, ua_db.mctx);
    return rc >= 0 ? rc : -1;
}

static int
ua_match(const pcre2_code *code, const unsigned char *u, size_t n, pcre2_match_data *md)
{
    return ua_match_rc(code, u, n, md) >= 0;
}

/*
 * The major version a matched rule names, into out (HZ_UA_MAJOR_MAX):
 * its v1 replacement with "$N" replaced by group N, or group 2 itself
 * (uap-core's rule), cut to what a major version is (ua_major_cut). rc is
 * PCRE2's count for the match (0: every pair set).
 */
static void
ua_major(const struct ua_re *r, const unsigned char *u, int rc, pcre2_match_data *md, char *out)
{
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    char v[HZ_UA_MAJOR_MAX * 2];
    size_t k = 0;
    int ngroups = rc == 0 ? UA_OVEC : rc; /* pairs PCRE2 wrote */
    const char *t = r->v1 != NULL ? r->v1 : "$2";

    for (; *t != '\0' && k < sizeof(v) - 1; t++) {
        if (t[0] == '$' && t[1] >= '1' && t[1] <= '9') {
            int g = t[1] - '0';
            t++;
            if (g >= ngroups || ov[2 * g] == PCRE2_UNSET)
                continue;
            for (PCRE2_SIZE j = ov[2 * g]; j < ov[2 * g + 1] && k < sizeof(v) - 1; j++)
                v[k++] = (char)u[j];
        } else {
            v[k++] = *t;
        }
    }
    v[k] = '\0';
    hz_ua_major_cut(v, k, out);
}

/*
 * Runs rules in order; on the first match writes the family it names into
 * name (at most cap - 1 bytes, NUL-terminated): the replacement with "$1"
 * replaced by the first group, or the first group itself; and, when ver is
 * not NULL, the major version it names into ver (ua_major). Returns 1 on a
 * match, 0 when none matched.
 */
static int
ua_first(const struct ua_re *rules, size_t nrules, size_t base, const struct hz_pre *pre,
         const unsigned char *u, size_t n, pcre2_match_data *md, char *name, size_t cap, char *ver)
{
    for (size_t s = hz_pre_next(pre, base, base + nrules); s < base + nrules;
         s = hz_pre_next(pre, s + 1, base + nrules)) {
        const struct ua_re *r = &rules[s - base];
        PCRE2_SIZE *ov;
        const char *g = "";
        size_t glen = 0, k = 0;
        int rc = ua_match_rc(r->code, u, n, md);

        if (rc < 0)
            continue;
        ov = pcre2_get_ovector_pointer(md);
        /* Pairs past the count PCRE2 returns are not written: group 1 is
         * read only when it is inside it. */
        if ((rc == 0 || rc > 1) && ov[2] != PCRE2_UNSET) {
            g = (const char *)u + ov[2];
            glen = ov[3] - ov[2];
        }
        if (r->repl == NULL) {
            k = glen < cap - 1 ? glen : cap - 1;
            memcpy(name, g, k);
        } else {
            for (const char *p = r->repl; *p != '\0' && k < cap - 1; p++) {
                if (p[0] == '$' && p[1] == '1') {
                    for (size_t j = 0; j < glen && k < cap - 1; j++)
                        name[k++] = g[j];
                    p++;
                } else {
                    name[k++] = *p;
                }
            }
        }
        name[k] = '\0';
        if (ver != NULL)
            ua_major(r, u, rc, md, ver);
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ bots */

/* Whether tok occurs in u[0 .. n) (memmem is a GNU extension; the fuzz
 * build is plain C11 + POSIX). */
static int
ua_has(const unsigned char *u, size_t n, const char *tok)
{
    size_t k = strlen(tok);
    const unsigned char *p = u, *end = u + n;

    while (k > 0 && (size_t)(end - p) >= k) {
        p = memchr(p, (unsigned char)tok[0], (size_t)(end - p) - k + 1);
        if (p == NULL)
            return 0;
        if (memcmp(p, tok, k) == 0)
            return 1;
        p++;
    }
    return 0;
}

/* Index of the first device rule in [from, to) that matches, or to. */
static size_t
ua_first_at(size_t from, size_t to, const struct hz_pre *pre, const unsigned char *u, size_t n,
            pcre2_match_data *md)
{
    const size_t base = hz_pre_uadb_devices;

    for (size_t s = hz_pre_next(pre, base + from, base + to); s < base + to;
         s = hz_pre_next(pre, s + 1, base + to))
        if (ua_match(ua_db.devices[s - base].code, u, n, md))
            return s - base;
    return to;
}

/*
 * Whether uap-core's device rules call the UA a "Spider": the first device
 * rule that matches names one. Its leading rules all do; the later Spider
 * rules (a generic one near the end) count only when no device rule before
 * them matches, which is checked only when one of them matches: a browser's
 * UA costs the leading rules and the few later Spider rules.
 */
static int
ua_spider(const unsigned char *u, size_t n, pcre2_match_data *md, const struct hz_pre *pre)
{
    const struct ua_re *d = ua_db.devices;

    if (ua_first_at(0, ua_db.nlead, pre, u, n, md) < ua_db.nlead)
        return 1;
    for (size_t s = ua_db.nlead; s < ua_db.ndevices; s++) {
        if (!ua_is_spider(&d[s]) || !hz_pre_may(pre, hz_pre_uadb_devices + s) ||
            !ua_match(d[s].code, u, n, md))
            continue;
        return ua_first_at(ua_db.nlead, s, pre, u, n, md) == s;
    }
    return 0;
}

/* Whether uap-core's device rules name a device (anything but a Spider and
 * its "Other", which means none): a phone, tablet, TV, console, a PC. */
static int
ua_device_named(const unsigned char *u, size_t n, pcre2_match_data *md, const struct hz_pre *pre)
{
    char name[64];

    if (!ua_first(ua_db.devices, ua_db.ndevices, hz_pre_uadb_devices, pre, u, n, md, name,
                  sizeof name, NULL))
        return 0;
    return name[0] != '\0' && strcmp(name, "Other") != 0 && strcmp(name, "Spider") != 0;
}

/*
 * The bot rule. A bot is what a bot list or the database says is one:
 * - uap-core's device rules call it a Spider, or
 * - one of crawler-user-agents' patterns (each names one crawler) matches,
 *   as a string (ua_lit) or a regex,
 * - isbot's word patterns match (bot, crawl, http, ...) and uap-core names
 *   no device: a UA that names a phone, tablet or TV is an in-app browser
 *   or a TV's, which are people;
 * - the request carries no browser signal at all: uap-core names no os and
 *   no device, the browser it names (if any: its last rules name any
 *   "word/1.0") has none of DESIGN.md's families, and either isbot's shape
 *   patterns match (a lone "name/1.0", a UA with no spaces) or the UA does
 *   not even start like a browser's ("Mozilla/", "Opera").
 * browser: the family; named_os: uap-core named an os (not "Other").
 */
static int
ua_bot(const unsigned char *u, size_t n, enum hz_browser browser, int named_os,
       pcre2_match_data *md, const struct hz_pre *pre)
{
    if (ua_lit_any(u, n) || ua_spider(u, n, md, pre) || ua_match(ua_db.crawlers, u, n, md))
        return 1;
    if (ua_match(ua_db.words, u, n, md))
        return !ua_device_named(u, n, md, pre);
    if (browser == HZ_UA_OTHER && !named_os &&
        (ua_match(ua_db.shapes, u, n, md) || (!ua_has(u, n, "Mozilla/") && !ua_has(u, n, "Opera"))))
        return !ua_device_named(u, n, md, pre);
    return 0;
}

/* ------------------------------------------------------------ device */

/* "Tab", "Tablet" or "Pad" as a word or a name's end ("Galaxy Tab",
 * "MediaPad", "Lenovo TAB"): the model names of Android tablets. */
static int
ua_tablet_name(const unsigned char *u, size_t n)
{
    static const char *const words[] = {"tab", "pad", NULL};

    for (size_t i = 1; i + 3 <= n; i++) {
        for (int w = 0; words[w] != NULL; w++) {
            unsigned char after = i + 3 < n ? u[i + 3] : ' ';
            int end = !((after >= 'a' && after <= 'z') || (after >= 'A' && after <= 'Z'));
            if (strncasecmp((const char *)u + i, words[w], 3) == 0 &&
                (end || (i + 6 <= n && strncasecmp((const char *)u + i + 3, "let", 3) == 0)) &&
                (u[i - 1] == ' ' || u[i - 1] == '_' || (words[w][0] == 'p' && u[i - 1] != ' ')))
                return 1;
        }
    }
    return 0;
}

/*
 * The device class. Tablets first: an iPad, a UA that says "Tablet" (not
 * Windows XP's "Tablet PC", a desktop edition), Amazon's Kindle and Silk,
 * BlackBerry's PlayBook, Windows 8 and later with "Touch" (Microsoft's
 * token for a touch screen, the Surface kind), an Android model named a
 * tab or pad, and an Android browser without "Mobile" (Chrome's and
 * Firefox's rule for tablets; an app's own UA, without a browser engine's
 * "Safari/" or "Gecko", leaves "Mobile" out on phones too, and phones are
 * most Android devices). Then phones: "Mobi" (Mobile, Mobi), iPhone and
 * iPod, and the phone systems and browsers that do not say Mobile. Client
 * Hints, when sent, decide mobile or not: Sec-CH-UA-Mobile is the
 * browser's own word.
 */
static enum hz_device
ua_device(const unsigned char *u, size_t n, enum hz_os os, const struct hz_ua_hints *h)
{
    static const char *const phones[] = {
        "Mobi",    "iPhone",    "iPod",       "Windows Phone", "Windows CE", "Opera Mini",
        "Symbian", "SymbianOS", "BlackBerry", "BB10",          "KaiOS",      "MIDP",
        "J2ME",    "Series40",  "Series 40",  "Series60",      "webOS",      "Nokia",
        "UCWEB",   "Obigo",     "NetFront",   "Bada",          "Lumia",      "Sailfish",
        "Phone",   "WAP",       NULL,
    };
    int tablet = 0, phone = 0;

    if (ua_has(u, n, "iPad") || ua_has(u, n, "Kindle") || ua_has(u, n, "Silk/") ||
        ua_has(u, n, "PlayBook") || (ua_has(u, n, "Tablet") && !ua_has(u, n, "Tablet PC")) ||
        (os == HZ_OS_WINDOWS && ua_has(u, n, "Touch") && !ua_has(u, n, "Windows NT 6.1")))
        tablet = 1;
    if (os == HZ_OS_ANDROID &&
        (ua_tablet_name(u, n) ||
         (!ua_has(u, n, "Mobi") && (ua_has(u, n, "Safari/") || ua_has(u, n, "Gecko")))))
        tablet = 1;
    for (size_t i = 0; !tablet && phones[i] != NULL; i++)
        phone = phone || ua_has(u, n, phones[i]);
    if (os == HZ_OS_ANDROID && !tablet)
        phone = 1;
    if (h != NULL && h->mobile > 0)
        return HZ_DEV_MOBILE;
    if (h != NULL && h->mobile < 0)
        return tablet || os == HZ_OS_ANDROID ? HZ_DEV_TABLET : HZ_DEV_DESKTOP;
    if (os == HZ_OS_CHROMEOS || os == HZ_OS_MACOS)
        return HZ_DEV_DESKTOP;
    if (tablet)
        return HZ_DEV_TABLET;
    return phone ? HZ_DEV_MOBILE : HZ_DEV_DESKTOP;
}

/* ------------------------------------------------------------ classify */

/*
 * Browser: device-detector's client, when it is a browser, through
 * ua_dd_browser_map (an app, a library, a bot: Other). Measured on the
 * fixtures of both projects it is the better single source; uap-core's
 * browser is still read for the bot rule (ua_bot).
 */
static enum hz_browser
ua_pick_browser(const struct hz_dd *dd)
{
    return dd->client_kind == HZ_DD_BROWSER ? hz_ua_dd_browser_of(dd->client) : HZ_UA_OTHER;
}

/*
 * Os: device-detector's family, through ua_dd_os_map, except where it
 * names none of DESIGN.md's systems or says only "GNU/Linux" (a TV's, an
 * e-reader's or a set-top box's Linux): then uap-core's, whose rules tell
 * those apart (Windows RT is Windows there; a Roku or a Kindle is Other).
 */
static enum hz_os
ua_pick_os(const struct hz_dd *dd, enum hz_os uap)
{
    enum hz_os o = hz_ua_dd_os_of(dd->os_fam);

    return o == HZ_OS_OTHER || o == HZ_OS_LINUX ? uap : o;
}

/*
 * Device: device-detector's type (its brand and model rules, then its
 * type rules) through ua_dd_device_map; when it knows none, ua_device's
 * tokens. Client Hints, when sent, decide mobile or not:
 * Sec-CH-UA-Mobile is the browser's own word.
 */
static enum hz_device
ua_pick_device(const struct hz_dd *dd, const unsigned char *u, size_t n, enum hz_os os,
               const struct hz_ua_hints *h)
{
    enum hz_device d;

    if (dd->type == HZ_DD_NONE)
        return ua_device(u, n, os, h);
    d = hz_ua_dd_device_of(dd->type);
    if (os == HZ_OS_CHROMEOS && (h == NULL || h->mobile == 0))
        return HZ_DEV_DESKTOP; /* an Android app on a Chromebook */
    if (h != NULL && h->mobile > 0)
        return HZ_DEV_MOBILE;
    if (h != NULL && h->mobile < 0 && d == HZ_DEV_MOBILE)
        return os == HZ_OS_ANDROID ? HZ_DEV_TABLET : HZ_DEV_DESKTOP;
    return d;
}

/*
 * The families of one UA: device-detector's rules (ua_dd.c) and
 * uap-core's, combined by the ua_pick_* functions above; bots by ua_bot
 * and device-detector's bot list. A bot's browser is Other: its name is
 * not a browser's.
 */
static void
ua_classify(const char *ua, size_t len, const struct hz_ua_hints *h, struct hz_ua *out)
{
    const unsigned char *u = (const unsigned char *)(len > 0 ? ua : "");
    pcre2_match_data *md;
    char name[64];
    int ctl = 0, named_os = 0;
    enum hz_browser uap_browser = HZ_UA_OTHER;
    enum hz_os uap_os = HZ_OS_OTHER;
    char uap_os_major[HZ_UA_MAJOR_MAX] = "";
    struct hz_dd dd;
    struct hz_pre pre;

    (void)pthread_once(&ua_db_once, ua_db_build);
    if (len > HZ_UA_MAX)
        len = HZ_UA_MAX;
    out->browser = HZ_UA_OTHER;
    out->os = HZ_OS_OTHER;
    out->device = HZ_DEV_DESKTOP;
    out->bot = 1;
    memset(out->browser_major, 0, sizeof out->browser_major); /* the whole answer is stable */
    memset(out->os_major, 0, sizeof out->os_major);

    for (size_t i = 0; i < len; i++)
        if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)
            ctl = 1;

    md = pcre2_match_data_create(UA_OVEC, NULL);
    if (md == NULL)
        return;                      /* out of memory: a bot, not counted */
    (void)hz_pre_scan(u, len, &pre); /* out of memory: every rule is tried */
    hz_dd_parse_pre(u, len, &pre, &dd);
    /* uap-core's rules run only where their answer is read: its os where
     * ua_pick_os falls back to it, its browser where no database names a
     * system (either naming one is a browser signal for ua_bot). */
    named_os = dd.os[0] != '\0';
    if (ua_pick_os(&dd, HZ_OS_COUNT) == HZ_OS_COUNT &&
        ua_first(ua_db.oses, ua_db.noses, hz_pre_uadb_oses, &pre, u, len, md, name, sizeof name,
                 uap_os_major)) {
        uap_os = hz_ua_os_of(name);
        named_os = named_os || strcmp(name, "Other") != 0;
    }
    if (!named_os && ua_first(ua_db.browsers, ua_db.nbrowsers, hz_pre_uadb_browsers, &pre, u, len,
                              md, name, sizeof name, NULL))
        uap_browser = hz_ua_browser_of(name);
    out->browser = ua_pick_browser(&dd);
    out->os = ua_pick_os(&dd, uap_os);
    /* Major versions from the database that named the family. */
    hz_ua_major_cut(dd.client_version, strlen(dd.client_version), out->browser_major);
    if (ua_pick_os(&dd, HZ_OS_COUNT) != HZ_OS_COUNT)
        hz_ua_major_cut(dd.os_version, strlen(dd.os_version), out->os_major);
    else
        memcpy(out->os_major, uap_os_major, sizeof out->os_major);
    /* Android apps on a Chromebook say Android: the machine is ChromeOS. */
    if (out->os == HZ_OS_ANDROID && ua_has(u, len, "Chromebook")) {
        out->os = HZ_OS_CHROMEOS;
        out->os_major[0] = '\0'; /* Android's, not the machine's */
    }
    if (out->os == HZ_OS_OTHER && h != NULL && h->os > 0) {
        out->os = (enum hz_os)(h->os - 1);
        out->os_major[0] = '\0';
    }
    /* Apple ships Safari for its own systems only: "Safari" elsewhere is
     * another WebKit browser (the old Android browser, GNOME Web). */
    if (out->browser == HZ_UA_SAFARI && out->os != HZ_OS_IOS && out->os != HZ_OS_MACOS)
        out->browser = HZ_UA_OTHER;
    out->device = ua_pick_device(&dd, u, len, out->os, h);
    hz_ua_hints_apply(h, out); /* versions: Client Hints, and none for Other */

    out->bot = ctl || len == 0 || dd.bot || ua_bot(u, len, uap_browser, named_os, md, &pre);
    if (out->bot) {
        out->browser = HZ_UA_OTHER;
        out->browser_major[0] = '\0';
    }
    hz_pre_free(&pre);
    pcre2_match_data_free(md);
    /* Full versions and text taken from the UA: gone with the answer. */
    explicit_bzero(&dd, sizeof dd);
    explicit_bzero(uap_os_major, sizeof uap_os_major);
}

void
hz_ua_classify(const char *ua, size_t len, struct hz_ua *out)
{
    ua_classify(ua, len, NULL, out);
}

void
hz_ua_classify_hints(const char *ua, size_t len, const struct hz_ua_hints *h, struct hz_ua *out)
{
    ua_classify(ua, len, h, out);
}

/* ------------------------------------------------------------ hints */

/* Sec-CH-UA-Platform values (a quoted sf-string) and their families. */
static const struct ua_map ua_hint_platforms[] = {
    {"\"Windows\"", HZ_OS_WINDOWS},
    {"\"macOS\"", HZ_OS_MACOS},
    {"\"iOS\"", HZ_OS_IOS},
    {"\"Android\"", HZ_OS_ANDROID},
    {"\"Chrome OS\"", HZ_OS_CHROMEOS},
    {"\"Linux\"", HZ_OS_LINUX},
    {NULL, 0},
};

void
hz_ua_hints_parse(struct hz_ua_hints *h, const char *mobile, size_t mobile_len,
                  const char *platform, size_t platform_len)
{
    memset(h, 0, sizeof *h);
    if (mobile != NULL && mobile_len == 2 && mobile[0] == '?')
        h->mobile = mobile[1] == '1' ? 1 : mobile[1] == '0' ? -1 : 0;
    if (platform != NULL && platform_len > 2 && platform_len < 16) {
        char v[16];
        memcpy(v, platform, platform_len);
        v[platform_len] = '\0';
        for (const struct ua_map *m = ua_hint_platforms; m->name != NULL; m++)
            if (strcmp(m->name, v) == 0)
                h->os = (unsigned char)(m->family + 1);
    }
}

/* ------------------------------------------------------------ names */

static const char *const ua_browser_names[HZ_UA_BROWSER_COUNT] = {
    [HZ_UA_OTHER] = "Other",
    [HZ_UA_CHROME] = "Chrome",
    [HZ_UA_FIREFOX] = "Firefox",
    [HZ_UA_SAFARI] = "Safari",
    [HZ_UA_EDGE] = "Edge",
    [HZ_UA_OPERA] = "Opera",
    [HZ_UA_SAMSUNG] = "Samsung Internet",
    [HZ_UA_IE] = "Internet Explorer",
    [HZ_UA_YANDEX] = "Yandex Browser",
    [HZ_UA_UC] = "UC Browser",
};

static const char *const ua_os_names[HZ_OS_COUNT] = {
    [HZ_OS_OTHER] = "Other",       [HZ_OS_WINDOWS] = "Windows", [HZ_OS_MACOS] = "macOS",
    [HZ_OS_IOS] = "iOS",           [HZ_OS_ANDROID] = "Android", [HZ_OS_LINUX] = "Linux",
    [HZ_OS_CHROMEOS] = "ChromeOS",
};

static const char *const ua_device_names[HZ_DEV_COUNT] = {
    [HZ_DEV_DESKTOP] = "desktop",
    [HZ_DEV_MOBILE] = "mobile",
    [HZ_DEV_TABLET] = "tablet",
};

/* Out-of-range values (a corrupt record) read as Other / desktop. */
const char *
hz_ua_browser_name(enum hz_browser b)
{
    return (unsigned)b < HZ_UA_BROWSER_COUNT ? ua_browser_names[b] : ua_browser_names[0];
}

const char *
hz_ua_os_name(enum hz_os o)
{
    return (unsigned)o < HZ_OS_COUNT ? ua_os_names[o] : ua_os_names[0];
}

const char *
hz_ua_device_name(enum hz_device d)
{
    return (unsigned)d < HZ_DEV_COUNT ? ua_device_names[d] : ua_device_names[0];
}

/* ------------------------------------------------------------ cache */

void
hz_ua_cache_init(struct hz_ua_cache *c)
{
    memset(c, 0, sizeof *c);
    arc4random_buf(c->key, sizeof c->key);
}

void
hz_ua_classify_cached_hints(struct hz_ua_cache *c, const char *ua, size_t len,
                            const struct hz_ua_hints *h, struct hz_ua *out)
{
    struct hz_ua_hints none;
    uint64_t k;
    size_t set, i;

    memset(&none, 0, sizeof none);
    if (h == NULL)
        h = &none;
    /* Only the bytes the classifier reads go into the key. */
    if (len > HZ_UA_MAX)
        len = HZ_UA_MAX;
    k = hz_siphash(c->key, len > 0 ? ua : "", len);
    if (k == 0)
        k = 1; /* 0 marks an empty slot */
    set = (size_t)(k % HZ_UA_CACHE_SETS);
    for (size_t w = 0; w < HZ_UA_CACHE_WAYS; w++) {
        i = set * HZ_UA_CACHE_WAYS + w;
        if (c->slot[i].h == k && c->slot[i].len == len && hz_ua_hints_eq(&c->slot[i].hints, h)) {
            *out = c->slot[i].v;
            return;
        }
    }
    ua_classify(ua, len, h, out);
    i = set * HZ_UA_CACHE_WAYS + c->next[set];
    c->next[set] = (unsigned char)((c->next[set] + 1) % HZ_UA_CACHE_WAYS);
    c->slot[i].h = k;
    c->slot[i].len = (uint32_t)len;
    c->slot[i].hints = *h;
    c->slot[i].v = *out;
}

void
hz_ua_classify_cached(struct hz_ua_cache *c, const char *ua, size_t len, struct hz_ua *out)
{
    hz_ua_classify_cached_hints(c, ua, len, NULL, out);
}
