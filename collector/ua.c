/* SPDX-License-Identifier: MIT */
/*
 * ua.c - user agent -> coarse families in one pass over the first
 * HZ_UA_MAX bytes, driven by the ordered table in collector/ua_rules.inc.
 *
 * A strstr per rule would read the UA ~170 times (GoAccess's warning about
 * its own linear scan). Instead an index groups the rules by their first
 * byte, and a bitmap of every rule's first two bytes lets almost every
 * position of the UA be skipped after one lookup; the few candidates left
 * are compared with memcmp. The outcome is the same as "for each kind, the
 * first rule in table order that occurs anywhere in the UA".
 *
 * Privacy: the UA is read in place. Nothing here copies, stores or logs
 * it; the cache keeps a keyed 64-bit hash and the length, never the text.
 */
#include "collector/ua.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/siphash.h"

/* ------------------------------------------------------------ the table */

/*
 * Rule ids: the kind in the high byte, the family (an enum hz_browser,
 * hz_os or hz_device value) in the low byte. The macros below are the
 * vocabulary of collector/ua_rules.inc.
 */
enum {
    UA_K_BOT = 1 << 8,
    UA_K_BOTWORD = 2 << 8,
    UA_K_NOTBOT = 3 << 8,
    UA_K_BROWSER = 4 << 8,
    UA_K_OS = 5 << 8,
    UA_K_DEVICE = 6 << 8,
    UA_KIND = 0xff00,
};

#define BOT     UA_K_BOT
#define BOTWORD UA_K_BOTWORD
#define NOTBOT  UA_K_NOTBOT
#define BR(f)   (UA_K_BROWSER | (f))
#define OS(f)   (UA_K_OS | (f))
#define DEV(f)  (UA_K_DEVICE | (f))

struct ua_rule {
    const char *tok;
    unsigned short id;
};

#include "collector/ua_rules.inc"

#define UA_NRULES (sizeof ua_rules / sizeof ua_rules[0])
#define UA_NONE   0xffff /* "no rule matched" in struct ua_scan.best */

/* Families per kind: an index into struct ua_scan.best. */
enum { UA_CAT_BROWSER, UA_CAT_OS, UA_CAT_DEVICE, UA_NCAT };

_Static_assert(UA_NRULES < UA_NONE, "rule index must fit in 16 bits");
_Static_assert(HZ_UA_MAX <= 0xffff, "positions must fit in 16 bits");

/* ------------------------------------------------------------ the index */

/*
 * Built once from ua_rules[] and read-only afterwards. order[first[c] ..
 * first[c + 1]) lists the rules whose token starts with byte c, in table
 * order; bit (c0 << 8 | c1) of pair is set when some token starts c0 c1.
 */
static struct {
    uint64_t pair[65536 / 64];
    unsigned short first[257];
    unsigned short order[UA_NRULES];
    unsigned char len[UA_NRULES];
} ua_idx;

static pthread_once_t ua_idx_once = PTHREAD_ONCE_INIT;

static void
ua_idx_build(void)
{
    unsigned short fill[256];

    for (size_t r = 0; r < UA_NRULES; r++) {
        const unsigned char *t = (const unsigned char *)ua_rules[r].tok;
        size_t n = strlen(ua_rules[r].tok);
        unsigned k;

        /* The table is ours: a bad entry is a programmer error. */
        if (n < 2 || n > 255)
            abort();
        ua_idx.len[r] = (unsigned char)n;
        k = (unsigned)t[0] << 8 | t[1];
        ua_idx.pair[k >> 6] |= (uint64_t)1 << (k & 63);
        ua_idx.first[t[0] + 1]++;
    }
    for (int c = 0; c < 256; c++) {
        ua_idx.first[c + 1] += ua_idx.first[c];
        fill[c] = ua_idx.first[c];
    }
    /* Counting sort, stable: table order is kept within a bucket. */
    for (size_t r = 0; r < UA_NRULES; r++)
        ua_idx.order[fill[(unsigned char)ua_rules[r].tok[0]]++] = (unsigned short)r;
}

/* ------------------------------------------------------------ the scan */

struct ua_scan {
    unsigned short best[UA_NCAT]; /* lowest matching rule per kind, or UA_NONE */
    size_t masked_until;          /* bot words ending at or before this are void */
    unsigned short mask;          /* the NOTBOT rule that set masked_until */
    int bot;
    int ctl;                /* saw a control byte */
    unsigned char *decided; /* trace, or NULL */
};

/* Records that rule r matched at ua[pos .. pos + ua_idx.len[r]). */
static void
ua_hit(struct ua_scan *s, unsigned short r, size_t pos)
{
    size_t end = pos + ua_idx.len[r];

    switch (ua_rules[r].id & UA_KIND) {
    case UA_K_BOT:
        s->bot = 1;
        if (s->decided != NULL)
            s->decided[r] = 1;
        break;
    case UA_K_NOTBOT:
        /* A bot word inside "Cubot" starts after the mask, so the scan
         * always meets the mask first. */
        if (end > s->masked_until) {
            s->masked_until = end;
            s->mask = r;
        }
        break;
    case UA_K_BOTWORD:
        if (end > s->masked_until)
            s->bot = 1;
        else
            r = s->mask; /* the mask decided: credit it in the trace */
        if (s->decided != NULL)
            s->decided[r] = 1;
        break;
    case UA_K_BROWSER:
        if (r < s->best[UA_CAT_BROWSER])
            s->best[UA_CAT_BROWSER] = r;
        break;
    case UA_K_OS:
        if (r < s->best[UA_CAT_OS])
            s->best[UA_CAT_OS] = r;
        break;
    case UA_K_DEVICE:
        if (r < s->best[UA_CAT_DEVICE])
            s->best[UA_CAT_DEVICE] = r;
        break;
    default:
        abort();
    }
}

/* One pass: at each position, rule tokens starting with the byte pair found
 * there are compared. Also notes control bytes, which no browser sends. */
static void
ua_scan(const unsigned char *u, size_t n, struct ua_scan *s)
{
    for (size_t i = 0; i < n; i++) {
        unsigned c = u[i];
        unsigned k;

        if (c < 0x20 || c == 0x7f) {
            if (c != '\t')
                s->ctl = 1;
            continue;
        }
        if (i + 1 == n)
            break; /* tokens are two bytes or longer */
        /* Most positions stop here: no token starts with these two bytes. */
        k = c << 8 | u[i + 1];
        if ((ua_idx.pair[k >> 6] >> (k & 63) & 1) == 0)
            continue;
        /* A handful of candidates, in table order. */
        for (unsigned j = ua_idx.first[c]; j < ua_idx.first[c + 1]; j++) {
            unsigned short r = ua_idx.order[j];
            size_t len = ua_idx.len[r];
            if (len <= n - i && memcmp(u + i, ua_rules[r].tok, len) == 0)
                ua_hit(s, r, i);
        }
    }
}

/* ------------------------------------------------------------ settling */

/* The device class, from the winning device rule (or -1) and the os. */
static enum hz_device
ua_device(enum hz_os os, int dev)
{
    switch (os) {
    case HZ_OS_MACOS:
        /* Includes iPadOS in desktop mode: the UA is a Mac's. */
        return HZ_DEV_DESKTOP;
    case HZ_OS_IOS:
        return dev == HZ_DEV_TABLET ? HZ_DEV_TABLET : HZ_DEV_MOBILE;
    case HZ_OS_ANDROID:
        /* Chrome and Firefox leave "Mobile" out on tablets. */
        return dev < 0 ? HZ_DEV_TABLET : (enum hz_device)dev;
    default:
        return dev < 0 ? HZ_DEV_DESKTOP : (enum hz_device)dev;
    }
}

/*
 * The classifier behind every public entry point: scans, then settles the
 * winners against each other (device by os, Safari by os, iOS webviews).
 * decided is the trace of hz_ua_classify_trace, or NULL.
 */
static void
ua_classify(const char *ua, size_t len, struct hz_ua *out, unsigned char *decided)
{
    struct ua_scan s = {
        .best = {UA_NONE, UA_NONE, UA_NONE},
        .decided = decided,
    };
    const unsigned char *u = (const unsigned char *)ua;
    int dev = -1;

    (void)pthread_once(&ua_idx_once, ua_idx_build);
    if (len > HZ_UA_MAX)
        len = HZ_UA_MAX;
    if (len > 0)
        ua_scan(u, len, &s);

    out->browser = HZ_UA_OTHER;
    out->os = HZ_OS_OTHER;
    if (s.best[UA_CAT_OS] != UA_NONE)
        out->os = (enum hz_os)(ua_rules[s.best[UA_CAT_OS]].id & 0xff);
    if (s.best[UA_CAT_DEVICE] != UA_NONE)
        dev = ua_rules[s.best[UA_CAT_DEVICE]].id & 0xff;
    out->device = ua_device(out->os, dev);

    if (s.best[UA_CAT_BROWSER] != UA_NONE) {
        out->browser = (enum hz_browser)(ua_rules[s.best[UA_CAT_BROWSER]].id & 0xff);
        /* Apple ships Safari for its own systems only. */
        if (out->browser == HZ_UA_SAFARI && out->os != HZ_OS_IOS && out->os != HZ_OS_MACOS)
            out->browser = HZ_UA_OTHER;
    } else if (out->os == HZ_OS_IOS) {
        /* In-app webviews (Instagram, Facebook, WeChat) and apps: iOS
         * webviews are WebKit, Safari's engine. */
        out->browser = HZ_UA_SAFARI;
    }

    /* Control bytes are not allowed in a header value (RFC 9110, 5.5). */
    out->bot = s.bot || s.ctl || len < HZ_UA_SHORT;

    if (decided != NULL)
        for (int k = 0; k < UA_NCAT; k++)
            if (s.best[k] != UA_NONE)
                decided[s.best[k]] = 1;
}

/* ------------------------------------------------------------ public */

void
hz_ua_classify(const char *ua, size_t len, struct hz_ua *out)
{
    ua_classify(ua, len, out, NULL);
}

void
hz_ua_classify_trace(const char *ua, size_t len, struct hz_ua *out, unsigned char *decided)
{
    ua_classify(ua, len, out, decided);
}

size_t
hz_ua_rule_count(void)
{
    return UA_NRULES;
}

const char *
hz_ua_rule_token(size_t i)
{
    return i < UA_NRULES ? ua_rules[i].tok : NULL;
}

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
hz_ua_classify_cached(struct hz_ua_cache *c, const char *ua, size_t len, struct hz_ua *out)
{
    uint64_t h;
    size_t i;

    /* Only the bytes the classifier reads go into the key. */
    if (len > HZ_UA_MAX)
        len = HZ_UA_MAX;
    h = hz_siphash(c->key, len > 0 ? ua : "", len);
    if (h == 0)
        h = 1; /* 0 marks an empty slot */
    i = (size_t)(h % HZ_UA_CACHE_SLOTS);
    if (c->slot[i].h == h && c->slot[i].len == len) {
        *out = c->slot[i].v;
        return;
    }
    ua_classify(ua, len, out, NULL);
    c->slot[i].h = h;
    c->slot[i].len = (uint32_t)len;
    c->slot[i].v = *out;
}
