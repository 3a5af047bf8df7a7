/* SPDX-License-Identifier: MIT */
/*
 * ua_dd.c - Matomo device-detector's rules, run as device-detector runs
 * them (see ua_dd.h). Written from its documented behaviour; the rules are
 * its own, generated into $(BUILD)/gen/ua_db.c at build time.
 *
 * Every rule is matched caseless and only where it starts after a byte
 * that is not a letter, digit, '-' or '_' (or after "sprd-", "MZ-" or
 * "<non-word>_"), as device-detector wraps its rules. The wrapper is
 * written with lookbehinds, so the match starts at the rule itself and
 * PCRE2 can still skip to the bytes a rule may start with.
 *
 * Cost: only the rules the prefilter (ua_pre.h) lets through are tried,
 * in order, each compiled on first use (JIT within DD_JIT_BUDGET); a brand's models only
 * when the brand matches. This keeps start-up short and the memory of rules
 * no traffic needs unspent.
 */
#include "collector/ua_dd.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DD_PREFIX "(?:(?<![A-Z0-9_-])|(?<=[^A-Z0-9-]_)|(?<=sprd-)|(?<=MZ-))(?:"
#define DD_OVEC   10
/* Backtracking steps one rule may take on one UA (a hostile UA's bound). */
#define DD_MATCH_LIMIT 100000
/* Bytes of machine code the rules compiled on first use may take with
 * JIT, all together; the rules compiled after that are interpreted (the
 * same answers, slower). Common traffic needs a few hundred rules, about
 * 1 MB; all of them would take about 30 MB. */
#define DD_JIT_BUDGET (4u << 20)
static atomic_size_t dd_jit_bytes;

/* One ordered list of rules, compiled on first use. */
struct dd_list {
    size_t n, base;             /* rule i's prefilter slot: base + i */
    _Atomic(pcre2_code *) *one; /* per rule; NULL until first needed */
    const char *rules;          /* the table: rule i's pattern is the first */
    size_t stride;              /* member of rules + i * stride */
};

static const char *
dd_re(const struct dd_list *l, size_t i)
{
    const char *const *re = (const void *)(l->rules + i * l->stride);
    return *re;
}

static struct {
    struct dd_list bots, oses, clients, brands;
    _Atomic(pcre2_code *) *models;
    pcre2_code *hbbtv, *shelltv, *fbmd, *desktop, *desktop_not, *hints_ua, *telegram;
    pcre2_match_context *mctx;
    size_t skipped;
} dd;

static pthread_once_t dd_once = PTHREAD_ONCE_INIT;

/* A code that never matches stands for a rule PCRE2 refused: it is
 * compiled once and shared (never freed). */
static pcre2_code *dd_never;

static pcre2_code *
dd_compile(const char *re, int jit)
{
    size_t len = strlen(re);
    char *w = malloc(sizeof DD_PREFIX + len + 1);
    int err;
    PCRE2_SIZE off;
    pcre2_code *c;

    if (w == NULL)
        return NULL;
    memcpy(w, DD_PREFIX, sizeof DD_PREFIX - 1);
    memcpy(w + sizeof DD_PREFIX - 1, re, len);
    memcpy(w + sizeof DD_PREFIX - 1 + len, ")", 2);
    c = pcre2_compile((PCRE2_SPTR)w, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &err, &off, NULL);
    free(w);
    if (c != NULL && jit)
        (void)pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
    return c;
}

static int
dd_match(const pcre2_code *c, const unsigned char *u, size_t n, pcre2_match_data *md)
{
    return c != NULL && pcre2_match(c, u, n, 0, 0, md, dd.mctx) >= 0;
}

/* Rule i of a list or a model run, compiled on first use. */
static pcre2_code *
dd_lazy(_Atomic(pcre2_code *) *slot, const char *re)
{
    pcre2_code *c = atomic_load_explicit(slot, memory_order_acquire), *expect = NULL;

    if (c != NULL)
        return c;
    c = dd_compile(re, 0);
    if (c == NULL)
        c = dd_never; /* counted at start-up by hz_dd_init's check */
    else if (atomic_load_explicit(&dd_jit_bytes, memory_order_relaxed) < DD_JIT_BUDGET &&
             pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) == 0) {
        size_t size = 0;
        (void)pcre2_pattern_info(c, PCRE2_INFO_JITSIZE, &size);
        atomic_fetch_add_explicit(&dd_jit_bytes, size, memory_order_relaxed);
    }
    if (!atomic_compare_exchange_strong_explicit(slot, &expect, c, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        if (c != dd_never)
            pcre2_code_free(c);
        c = expect; /* another thread was first */
    }
    return c;
}

static void
dd_list_build(struct dd_list *l, size_t n, const void *rules, size_t stride, size_t base)
{
    l->n = n;
    l->base = base;
    l->rules = rules;
    l->stride = stride;
    l->one = calloc(n ? n : 1, sizeof *l->one);
    if (l->one == NULL)
        abort(); /* at start-up */
}

/*
 * Index of the first rule in [lo, hi) that matches and that ok(i) allows
 * (ok may be NULL), or -1; md then holds its groups. Only the rules pre
 * lets through are tried.
 */
static long
dd_first(struct dd_list *l, size_t lo, size_t hi, int (*ok)(size_t), const unsigned char *u,
         size_t n, pcre2_match_data *md, const struct hz_pre *pre)
{
    size_t end = l->base + hi;

    for (size_t s = hz_pre_next(pre, l->base + lo, end); s < end;
         s = hz_pre_next(pre, s + 1, end)) {
        size_t i = s - l->base;
        if ((ok == NULL || ok(i)) && dd_match(dd_lazy(&l->one[i], dd_re(l, i)), u, n, md))
            return (long)i;
    }
    return -1;
}

static pcre2_code *
dd_fixed(const char *re)
{
    pcre2_code *c = dd_compile(re, 1);

    if (c == NULL)
        dd.skipped++;
    return c;
}

/* The fragments device-detector's device-type rules look for (its
 * DeviceDetector::parse and helpers), compiled once. */
#define DD_FRAGMENTS(X)                                                                            \
    X(chrome, "Chrome/[.0-9]*")                                                                    \
    X(mobile, "(?:Mobile|eliboM)")                                                                 \
    X(apad, "Pad/APad")                                                                            \
    X(tablet, "Android( [.0-9]+)?; Tablet;|Tablet(?! PC)|.*-tablet$|Opera Tablet")                 \
    X(mobfrag, "Android( [.0-9]+)?; Mobile;|.*-mobile$")                                           \
    X(touch, "Touch")                                                                              \
    X(vr, "Android( [.0-9]+)?; Mobile VR;| VR ")                                                   \
    X(puffin_d, "Puffin/(?:\\d+[.\\d]+)[LMW]D")                                                    \
    X(puffin_p, "Puffin/(?:\\d+[.\\d]+)[AIFLW]P")                                                  \
    X(puffin_t, "Puffin/(?:\\d+[.\\d]+)[AILW]T")                                                   \
    X(operatv, "Opera TV Store| OMI/")                                                             \
    X(androidtv, "Andr0id|(?:Android(?: UHD)?|Google) TV|\\(lite\\) TV|BRAVIA|Firebolt| TV$")      \
    X(tvfrag, "SmartTV|Tizen.+ TV .+$")                                                            \
    X(tvparen, "\\(TV;")                                                                           \
    X(desktoptok, "(?:Desktop|PC)(?: (x(?:32|64)|WOW64))?;")

#define DD_FIELD(name, re) pcre2_code *name;
static struct {
    DD_FRAGMENTS(DD_FIELD)
} ddf;
#define DD_INIT(name, re) ddf.name = dd_fixed(re);

static void
dd_build(void)
{
    int err;
    PCRE2_SIZE off;

    dd_never = pcre2_compile((PCRE2_SPTR) "(*FAIL)", PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
    dd.mctx = pcre2_match_context_create(NULL);
    if (dd_never == NULL || dd.mctx == NULL)
        abort();
    (void)pcre2_set_match_limit(dd.mctx, DD_MATCH_LIMIT);
    /* Each table's pattern is its rows' first member (ua_db.h). */
    dd_list_build(&dd.bots, hz_dd_bots_n, hz_dd_bots, sizeof hz_dd_bots[0], hz_pre_dd_bots);
    dd_list_build(&dd.oses, hz_dd_oses_n, hz_dd_oses, sizeof hz_dd_oses[0], hz_pre_dd_oses);
    dd_list_build(&dd.clients, hz_dd_clients_n, hz_dd_clients, sizeof hz_dd_clients[0],
                  hz_pre_dd_clients);
    dd_list_build(&dd.brands, hz_dd_brands_n, hz_dd_brands, sizeof hz_dd_brands[0],
                  hz_pre_dd_brands);
    dd.models = calloc(hz_dd_models_n ? hz_dd_models_n : 1, sizeof *dd.models);
    if (dd.models == NULL)
        abort();
    /* device-detector's fixed fragments (its DeviceDetector and device
     * parsers). */
    dd.hbbtv = dd_fixed("(?:HbbTV|SmartTvA)/([1-9]{1}(?:[.][0-9]{1}){1,2})");
    dd.shelltv = dd_fixed("[a-z]+[ _]Shell[ _]\\w{6}|tclwebkit(\\d+[.\\d]*)");
    dd.fbmd = dd_fixed("FBMD/");
    dd.desktop = dd_fixed("(?:Windows (?:NT|IoT)|X11; Linux x86_64)");
    dd.desktop_not =
        dd_fixed("CE-HTML| Mozilla/|Andr[o0]id|Tablet|Mobile|iPhone|Windows Phone|ricoh|"
                 "OculusBrowser|PicoBrowser|Lenovo|compatible; MSIE|Trident/|Tesla/|"
                 "XBOX|FBMD/|ARM; ?([^)]+)");
    dd.hints_ua = dd_fixed("Android (?:1[0-6][.\\d]*; K(?: Build/|[;)])|1[0-6]\\)) AppleWebKit");
    dd.telegram = dd_fixed("Telegram-Android/");
    DD_FRAGMENTS(DD_INIT)
}

size_t
hz_dd_init(void)
{
    (void)pthread_once(&dd_once, dd_build);
    hz_pre_init();
    return dd.skipped;
}

size_t
hz_dd_refused(void)
{
    size_t bad = 0;
    struct dd_list *lists[] = {&dd.bots, &dd.oses, &dd.clients, &dd.brands};

    (void)hz_dd_init();
    for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++)
        for (size_t i = 0; i < lists[k]->n; i++)
            bad += dd_lazy(&lists[k]->one[i], dd_re(lists[k], i)) == dd_never;
    for (size_t i = 0; i < hz_dd_models_n; i++)
        bad += dd_lazy(&dd.models[i], hz_dd_models[i].re) == dd_never;
    return bad;
}

/* tpl with $1..$9 replaced by the groups of the last match (unset: ""),
 * into out (cap bytes, NUL-terminated); leading and trailing spaces cut. */
static void
dd_subst(const char *tpl, const unsigned char *u, pcre2_match_data *md, char *out, size_t cap)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    uint32_t pairs = pcre2_get_ovector_count(md);
    size_t k = 0, s = 0;

    for (const char *p = tpl ? tpl : ""; *p != '\0' && k < cap - 1; p++) {
        if (p[0] == '$' && p[1] >= '1' && p[1] <= '9') {
            uint32_t g = (uint32_t)(p[1] - '0');
            if (g < pairs && ov[2 * g] != PCRE2_UNSET)
                for (size_t j = ov[2 * g]; j < ov[2 * g + 1] && k < cap - 1; j++)
                    out[k++] = (char)u[j];
            p++;
        } else {
            out[k++] = *p;
        }
    }
    while (k > 0 && out[k - 1] == ' ')
        k--;
    out[k] = '\0';
    while (out[s] == ' ')
        s++;
    if (s > 0)
        memmove(out, out + s, k - s + 1);
}

/* A version as device-detector writes it: "17_2" is "17.2". */
static void
dd_version(const char *tpl, const unsigned char *u, pcre2_match_data *md, char *out, size_t cap)
{
    dd_subst(tpl, u, md, out, cap);
    for (char *p = out; *p != '\0'; p++)
        if (*p == '_')
            *p = '.';
}

static int
dd_in(const char *const *list, const char *name)
{
    for (; *list != NULL; list++)
        if (strcmp(*list, name) == 0)
            return 1;
    return 0;
}

/* Compares dotted versions: <0, 0, >0 (missing parts count as less, as
 * device-detector's version_compare does for its uses here). */
static int
dd_vercmp(const char *a, const char *b)
{
    while (*a != '\0' || *b != '\0') {
        long x, y;
        char *ea, *eb;

        if (*a == '\0')
            return -1;
        if (*b == '\0')
            return 1;
        x = strtol(a, &ea, 10);
        y = strtol(b, &eb, 10);
        if (x != y)
            return x < y ? -1 : 1;
        a = *ea == '.' ? ea + 1 : ea;
        b = *eb == '.' ? eb + 1 : eb;
        if (ea == a && eb == b && *a != '\0' && *b != '\0')
            break; /* neither moved: not a number */
    }
    return 0;
}

/* Device sets 0 .. HZ_DD_SET_NOTEBOOK are tried only when their fragment
 * is in the UA; dd_first's filter for the plain sets. */
static _Thread_local int dd_tl_fbmd; /* this call's UA has "FBMD/" */
static int
dd_brand_ok(size_t i)
{
    int set = hz_dd_brands[i].set;
    return set > HZ_DD_SET_NOTEBOOK || (set == HZ_DD_SET_NOTEBOOK && dd_tl_fbmd);
}

/* The type device-detector's device parsers give (before its type rules):
 * HbbTV and shell TVs are TVs whatever their brand; otherwise the first
 * brand that matches and its first model run that matches. */
static enum hz_dd_type
dd_device(const unsigned char *u, size_t n, pcre2_match_data *md, const struct hz_pre *pre)
{
    long b;
    const struct hz_dd_brand *br;

    if (dd_match(dd.hints_ua, u, n, md) && !dd_match(dd.telegram, u, n, md))
        return HZ_DD_NONE; /* a reduced UA ("Android 10; K"): no model */
    if (dd_match(dd.desktop, u, n, md) && !dd_match(dd.desktop_not, u, n, md))
        return HZ_DD_NONE;
    if (dd_match(dd.hbbtv, u, n, md)) {
        size_t lo = 0, hi = 0;
        while (hi < hz_dd_brands_n && hz_dd_brands[hi].set == HZ_DD_SET_HBBTV)
            hi++;
        b = dd_first(&dd.brands, lo, hi, NULL, u, n, md, pre);
        if (b < 0 || hz_dd_brands[b].type == HZ_DD_NONE)
            return HZ_DD_TV;
    } else if (dd_match(dd.shelltv, u, n, md)) {
        return HZ_DD_TV;
    } else {
        dd_tl_fbmd = dd_match(dd.fbmd, u, n, md);
        b = dd_first(&dd.brands, 0, hz_dd_brands_n, dd_brand_ok, u, n, md, pre);
        if (b < 0)
            return HZ_DD_NONE;
    }
    br = &hz_dd_brands[b];
    for (size_t m = br->first; m < br->first + br->n; m++)
        if (hz_pre_may(pre, hz_pre_dd_models + m) &&
            dd_match(dd_lazy(&dd.models[m], hz_dd_models[m].re), u, n, md))
            return (enum hz_dd_type)hz_dd_models[m].type;
    return (enum hz_dd_type)br->type;
}

/* device-detector's device-type rules (its DeviceDetector::parse), given
 * what its parsers found. */
static enum hz_dd_type
dd_type(const unsigned char *u, size_t n, const struct hz_dd *r, enum hz_dd_type t,
        pcre2_match_data *md)
{
    const char *fam = r->os_fam ? r->os_fam : "";
    int android = strcmp(fam, "Android") == 0;

    if (t == HZ_DD_NONE && dd_match(ddf.vr, u, n, md))
        t = HZ_DD_WEARABLE;
    if (t == HZ_DD_NONE && android && dd_match(ddf.chrome, u, n, md))
        t = dd_match(ddf.mobile, u, n, md) ? HZ_DD_SMARTPHONE : HZ_DD_TABLET;
    if (t == HZ_DD_SMARTPHONE && dd_match(ddf.apad, u, n, md))
        t = HZ_DD_TABLET;
    if (t == HZ_DD_NONE && dd_match(ddf.tablet, u, n, md))
        t = HZ_DD_TABLET;
    if (t == HZ_DD_NONE && dd_match(ddf.mobfrag, u, n, md))
        t = HZ_DD_SMARTPHONE;
    if (t == HZ_DD_NONE && strcmp(r->os, "Android") == 0 && r->os_version[0] != '\0') {
        if (dd_vercmp(r->os_version, "2.0") < 0)
            t = HZ_DD_SMARTPHONE;
        else if (dd_vercmp(r->os_version, "3.0") >= 0 && dd_vercmp(r->os_version, "4.0") < 0)
            t = HZ_DD_TABLET;
    }
    if (t == HZ_DD_FEATURE_PHONE && android)
        t = HZ_DD_SMARTPHONE;
    if (t == HZ_DD_NONE && strcmp(r->os, "Java ME") == 0)
        t = HZ_DD_FEATURE_PHONE;
    if (strcmp(r->os, "KaiOS") == 0)
        t = HZ_DD_FEATURE_PHONE;
    if (t == HZ_DD_NONE &&
        (strcmp(r->os, "Windows RT") == 0 ||
         (strcmp(r->os, "Windows") == 0 && dd_vercmp(r->os_version, "8") >= 0)) &&
        dd_match(ddf.touch, u, n, md))
        t = HZ_DD_TABLET;
    if (t == HZ_DD_NONE && dd_match(ddf.puffin_d, u, n, md))
        t = HZ_DD_DESKTOP;
    else if (t == HZ_DD_NONE && dd_match(ddf.puffin_p, u, n, md))
        t = HZ_DD_SMARTPHONE;
    else if (t == HZ_DD_NONE && dd_match(ddf.puffin_t, u, n, md))
        t = HZ_DD_TABLET;
    if (dd_match(ddf.operatv, u, n, md) || strcmp(r->os, "Coolita OS") == 0)
        t = HZ_DD_TV;
    if (t != HZ_DD_TV && t != HZ_DD_WEARABLE && t != HZ_DD_PERIPHERAL &&
        dd_match(ddf.androidtv, u, n, md))
        t = HZ_DD_TV;
    if (t == HZ_DD_NONE && dd_match(ddf.tvfrag, u, n, md))
        t = HZ_DD_TV;
    if (r->client[0] != '\0' && dd_in(hz_dd_tv_clients, r->client))
        t = HZ_DD_TV;
    if (t == HZ_DD_NONE && dd_match(ddf.tvparen, u, n, md))
        t = HZ_DD_TV;
    if (t != HZ_DD_DESKTOP && dd_match(ddf.desktoptok, u, n, md))
        t = HZ_DD_DESKTOP;
    if (t == HZ_DD_NONE && r->os[0] != '\0' &&
        (dd_in(hz_dd_desktop_oses, r->os) || dd_in(hz_dd_desktop_oses, fam)) &&
        !(r->client_kind == HZ_DD_BROWSER && dd_in(hz_dd_mobile_browsers, r->client)))
        t = HZ_DD_DESKTOP;
    return t;
}

void
hz_dd_parse(const unsigned char *u, size_t n, struct hz_dd *r)
{
    struct hz_pre pre;

    (void)hz_pre_scan(u, n, &pre); /* out of memory: every rule is tried */
    hz_dd_parse_pre(u, n, &pre, r);
    hz_pre_free(&pre);
}

void
hz_dd_parse_pre(const unsigned char *u, size_t n, const struct hz_pre *pre, struct hz_dd *r)
{
    pcre2_match_data *md;
    long i;
    enum hz_dd_type t;

    (void)hz_dd_init();
    memset(r, 0, sizeof *r);
    md = pcre2_match_data_create(DD_OVEC, NULL);
    if (md == NULL)
        return;
    r->bot = dd_first(&dd.bots, 0, hz_dd_bots_n, NULL, u, n, md, pre) >= 0;
    i = dd_first(&dd.oses, 0, hz_dd_oses_n, NULL, u, n, md, pre);
    if (i >= 0) {
        dd_subst(hz_dd_oses[i].name, u, md, r->os, sizeof r->os);
        dd_version(hz_dd_oses[i].version, u, md, r->os_version, sizeof r->os_version);
        for (const struct hz_dd_name *f = hz_dd_os_families; f->name != NULL; f++)
            if (strcmp(f->name, r->os) == 0)
                r->os_fam = f->family;
    }
    i = dd_first(&dd.clients, 0, hz_dd_clients_n, NULL, u, n, md, pre);
    if (i >= 0) {
        r->client_kind = hz_dd_clients[i].kind;
        dd_subst(hz_dd_clients[i].name, u, md, r->client, sizeof r->client);
        dd_version(hz_dd_clients[i].version, u, md, r->client_version, sizeof r->client_version);
    }
    t = dd_device(u, n, md, pre);
    r->type = dd_type(u, n, r, t, md);
    pcre2_match_data_free(md);
}
