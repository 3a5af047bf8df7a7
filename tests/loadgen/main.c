/* SPDX-License-Identifier: MIT */
/*
 * haze-loadgen - realistic, deterministic traffic for a haze collector.
 *
 * It plays visits of a print shop's website the way haze.js and the pixel
 * would report them: pageviews (POST /api/event, text/plain JSON), the
 * engagement event each page sends when it is left, custom events, pixel
 * hits (GET /p.gif), and traffic the collector must not count (bots, DNT
 * and GPC). Each visitor keeps one address (X-Forwarded-For, from the geo
 * fixture's networks) and one user agent for its visit, because the
 * collector's visitor hash is keyed on both; no two simulated visitors
 * share the pair, so "visitors" is exactly the number of counted visits.
 *
 * Visit i is drawn from its own random stream seeded by (seed, i), so the
 * same seed gives the same visits whatever the timing, the connection
 * count or the rate. --totals prints, as JSON, exactly what was sent and
 * what a correct pipeline must count: pageviews per page, entry and exit
 * pages, bounces, sources, regions, browsers, funnel steps, events and
 * engaged time. --access-log writes the same hits as an nginx "combined"
 * log instead of sending them (the benchmark feeds it to GoAccess).
 *
 * The addresses are documentation and shared-address ranges only
 * (tests/data/geo-fixture.tsv); no real person's network is used.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "common/err.h"
#include "common/funnel.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/net.h"
#include "common/str.h"

/* ------------------------------------------------------------------ tables */

/*
 * The shop's content pages by popularity rank (Zipf rank 1 first). The
 * funnel pages /cart, /checkout and /thanks are not in this list: only
 * visits that walk the funnel reach them, in order, so the expected funnel
 * counts never depend on how a pipeline treats out-of-order steps.
 */
static const char *const base_pages[] = {
    "/",
    "/products",
    "/products/business-cards",
    "/products/flyers",
    "/blog",
    "/products/posters",
    "/products/stickers",
    "/about",
    "/products/brochures",
    "/blog/choosing-paper-weight",
    "/products/postcards",
    "/contact",
    "/products/banners",
    "/blog/cmyk-or-rgb",
    "/faq",
    "/products/letterheads",
    "/blog/bleed-and-trim-marks",
    "/shipping",
    "/designer",
    "/designer/preview",
    "/blog/print-ready-pdf",
    "/stores",
    "/privacy",
    "/imprint",
};
#define BASE_PAGES (sizeof(base_pages) / sizeof(base_pages[0]))

/* Words for generated blog paths (-P above the base list): letters only, so
 * the collector's scrubber never mistakes them for ids or tokens. */
static const char *const blog_words[] = {
    "paper",  "matte",   "gloss", "ink",  "color", "fold",   "print", "proof",
    "trim",   "bleed",   "font",  "logo", "card",  "poster", "label", "vinyl",
    "offset", "digital", "spot",  "coat", "linen", "kraft",  "foil",  "emboss",
};
#define BLOG_WORDS (sizeof(blog_words) / sizeof(blog_words[0]))

/* Current browsers with rough market weights. Each format holds one %u,
 * filled with the visitor's identity variant (see net_identity). The
 * families are what DESIGN.md says the collector must report. */
struct ua_kind {
    const char *fmt;
    const char *browser, *os, *device;
    int weight;
    int width;
};

/* clang-format off */
static const struct ua_kind ua_kinds[] = {
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/124.0.%u.91 Safari/537.36", "Chrome", "Windows", "desktop", 30, 1920 },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
      "(KHTML, like Gecko) Version/17.4.1 Mobile/15E%u Safari/604.1", "Safari", "iOS", "mobile",
      19, 390 },
    { "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/124.0.%u.82 Mobile Safari/537.36", "Chrome", "Android", "mobile", 16, 412 },
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/17.4.1 Safari/605.1.%u", "Safari", "macOS", "desktop", 8, 1440 },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.%u.80", "Edge", "Windows", "desktop", 8, 1920 },
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/124.0.%u.91 Safari/537.36", "Chrome", "macOS", "desktop", 5, 1512 },
    { "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0.%u",
      "Firefox", "Windows", "desktop", 4, 1920 },
    { "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
      "SamsungBrowser/24.0 Chrome/117.0.%u.0 Mobile Safari/537.36", "Samsung Internet", "Android",
      "mobile", 4, 384 },
    { "Mozilla/5.0 (iPad; CPU OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/17.4.1 Mobile/15E%u Safari/604.1", "Safari", "iOS", "tablet", 3, 820 },
    { "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0.%u",
      "Firefox", "Linux", "desktop", 1, 1920 },
};

/* Crawlers and scripts: the collector must drop all of them. */
static const char *const bot_uas[] = {
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
    "+http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
    "curl/8.5.0",
    "python-requests/2.31.0",
};

/* Where visits come from. source is what the collector derives (url.h:
 * utm_source, else the referrer's host without "www.", else ""). */
struct ref_kind {
    const char *referrer;   /* NULL: none (null in the JSON) */
    const char *source;
    int utm;                /* the landing URL carries the newsletter's utm_* */
    int weight;
};

static const struct ref_kind ref_kinds[] = {
    { NULL,                          "",               0, 40 },
    { "https://www.google.com/",     "google.com",     0, 33 },
    { "https://duckduckgo.com/",     "duckduckgo.com", 0, 8 },
    { "https://www.bing.com/",       "bing.com",       0, 5 },
    { "https://www.linkedin.com/",   "linkedin.com",   0, 4 },
    { NULL,                          "newsletter",     1, 10 },
};

/* Weights of the fixture's regions (a German print shop's audience);
 * a network whose region is not listed gets DEFAULT_REGION_WEIGHT. */
static const struct {
    const char *region;
    int weight;
} region_weights[] = {
    { "DE-BY", 20 }, { "DE-BE", 12 }, { "US-CA", 10 }, { "US-NY", 8 }, { "GB-ENG", 8 },
    { "FR-IDF", 4 }, { "CN-JS", 5 },  { "JP-13", 3 },  { "NL", 5 },    { "BR-SP", 3 },
    { "IN-MH", 3 },  { "AU", 2 },     { "", 2 },
};
/* clang-format on */
#define DEFAULT_REGION_WEIGHT 2

#define UTM_QUERY      "?utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale"
#define UTM_MEDIUM     "email"
#define UTM_CAMPAIGN   "spring-sale"
#define DEFAULT_FUNNEL "checkout: /products/* > /cart > /checkout > /thanks"

static const char *const event_names[] = {"Signup", "Download"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ random */

/* splitmix64 expands a seed; xoshiro256** draws. Both are public-domain
 * algorithms (Vigna), written out here from their definitions. */
static uint64_t
rng_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

struct rng {
    uint64_t s[4];
};

static void
rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ULL);

    for (int i = 0; i < 4; i++)
        r->s[i] = rng_splitmix(&x);
}

static uint64_t
rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t out = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return out;
}

/* Uniform in [0, 1). */
static double
rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static unsigned
rng_below(struct rng *r, unsigned n)
{
    return (unsigned)(rng_unit(r) * n);
}

/* Log-normal with the given median: engaged times and think times are
 * heavy-tailed (a few idle tabs, many quick looks). */
static double
rng_lognormal(struct rng *r, double median, double sigma)
{
    double u1 = rng_unit(r), u2 = rng_unit(r);
    double z = sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);

    return median * exp(sigma * z);
}

/* Index drawn from weights[0..n). */
static int
rng_weighted(struct rng *r, const int *weights, int n)
{
    int total = 0, x;

    for (int i = 0; i < n; i++)
        total += weights[i];
    x = (int)rng_below(r, (unsigned)total);
    for (int i = 0; i < n; i++) {
        if (x < weights[i])
            return i;
        x -= weights[i];
    }
    return n - 1;
}

/* ------------------------------------------------------------ counter map */

/* A string -> (count, sum) map for the totals: open addressing, grows at
 * 70 %. Keys are copied. */
struct cmap_entry {
    char *key;
    uint64_t n;
    uint64_t sum;
};

struct cmap {
    struct cmap_entry *e;
    size_t cap, len;
};

static uint64_t
cmap_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct cmap_entry *
cmap_slot(struct cmap_entry *e, size_t cap, const char *key)
{
    size_t i = (size_t)cmap_hash(key) & (cap - 1);

    while (e[i].key != NULL && strcmp(e[i].key, key) != 0)
        i = (i + 1) & (cap - 1);
    return &e[i];
}

static void
cmap_add(struct cmap *m, const char *key, uint64_t n, uint64_t sum)
{
    struct cmap_entry *slot;

    if ((m->len + 1) * 10 >= m->cap * 7) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        struct cmap_entry *ne = hz_xcalloc(ncap, sizeof(*ne));

        for (size_t i = 0; i < m->cap; i++)
            if (m->e[i].key != NULL)
                *cmap_slot(ne, ncap, m->e[i].key) = m->e[i];
        free(m->e);
        m->e = ne;
        m->cap = ncap;
    }
    slot = cmap_slot(m->e, m->cap, key);
    if (slot->key == NULL) {
        slot->key = hz_xstrdup(key);
        m->len++;
    }
    slot->n += n;
    slot->sum += sum;
}

static void
cmap_free(struct cmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->e[i].key);
    free(m->e);
    m->e = NULL;
    m->cap = m->len = 0;
}

/* {"key": n, ...}, or {"key": sum} when use_sum. */
static json_t *
cmap_json(const struct cmap *m, int use_sum)
{
    json_t *o = json_object();

    for (size_t i = 0; i < m->cap; i++)
        if (m->e[i].key != NULL)
            json_object_set_new(o, m->e[i].key,
                                json_integer((json_int_t)(use_sum ? m->e[i].sum : m->e[i].n)));
    return o;
}

/* ------------------------------------------------------------------ state */

enum hit_kind { HIT_PAGEVIEW, HIT_PIXEL, HIT_ENGAGEMENT, HIT_EVENT };

enum visit_type { VISIT_BROWSE, VISIT_FUNNEL, VISIT_PIXEL, VISIT_BOT, VISIT_DNT };

#define HITS_MAX      40
#define NETS_MAX      256 /* networks read from the geo fixture */
#define PAGEVIEWS_MAX 12

/*
 * A connection idle for longer than this is replaced before its next
 * request. Servers close idle keep-alive connections (the collector after
 * timeout_ms, 10 s by default), and a request sent just as the server
 * closes gets no answer; a POST must not be retried (it may have counted).
 */
#define IDLE_REUSE_S 4.0

struct hit {
    uint8_t kind;
    uint8_t utm;    /* the page URL carries UTM_QUERY (landing page of a newsletter visit) */
    uint8_t ev;     /* event_names index (HIT_EVENT) */
    int32_t page;   /* index into lg.pages */
    int32_t prev;   /* referring page of this site, or -1 (then the visit's referrer) */
    uint32_t ms;    /* engaged ms (HIT_ENGAGEMENT) */
    uint32_t think; /* ms to wait before sending (the visitor reading) */
};

struct visit {
    uint64_t index;
    enum visit_type type;
    int ua;      /* ua_kinds index, or bot_uas index for bots */
    int ref;     /* ref_kinds index */
    int net;     /* lg.nets index */
    int privacy; /* 0, 1 = "DNT: 1", 2 = "Sec-GPC: 1" */
    char ip[INET6_ADDRSTRLEN];
    char ua_str[384];
    int nhits;
    struct hit hits[HITS_MAX];
};

struct net {
    struct hz_cidr cidr;
    char region[16]; /* "DE-BY", "NL", "" */
    char country[4];
    int weight;
    uint64_t used; /* identities handed out */
};

struct totals {
    uint64_t requests, pageviews, pixel, engagements, events, bot_hits, dnt_hits;
    uint64_t visits, bounces, engaged_ms, bot_visits, dnt_visits;
    struct cmap pages, entry, exit, sources, utm_source, utm_medium, utm_campaign;
    struct cmap regions, countries, browsers, oses, devices, event_names, engaged;
    uint64_t funnel[HZ_FUNNEL_STEPS_MAX];
};

struct status_count {
    uint64_t ok, errors;
    uint64_t ok_kind[4];   /* 2xx by enum hit_kind */
    uint64_t by_code[600]; /* non-2xx responses by status */
};

struct lg;

struct slot {
    struct lg *lg;
    struct evhttp_connection *conn;
    struct event *timer;
    int busy;  /* a visit is in progress */
    int paced; /* the timer is the rate limiter's, not think time */
    struct visit v;
    int next;       /* index of the hit to send next */
    double last_io; /* monotonic time of the last answer, 0: none yet */
};

struct lg {
    /* options */
    const char *url, *site, *geo_path, *log_path;
    uint64_t seed, count;
    double rate, duration, think_ms;
    int conns, npages, print_totals, verbose;
    struct hz_funnel funnel;

    /* target */
    char host[256];
    char hosthdr[300];
    char prefix[256];
    int port;

    /* model */
    const char **pages; /* content pages, then /cart, /checkout, /thanks */
    int ncontent, cart, checkout, thanks;
    int *products; /* content page indexes under /products/ */
    int nproducts;
    double *zipf_cdf, *product_cdf;
    struct net *nets;
    int nnets;
    unsigned variant_base;

    /* run */
    struct event_base *base;
    struct slot *slots;
    uint64_t started; /* visits handed out */
    int active;
    int stopping;
    int warned;         /* the first failure was logged */
    double t0, next_at; /* monotonic seconds; the pacer's next free send time */
    struct event *sigint, *sigterm, *progress;
    struct totals tot;
    struct status_count counted, filtered;
    FILE *log;
    time_t log_t0;
};

static double
now_mono(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ model */

/* Builds the page list: the base list cut or extended to npages content
 * pages (generated blog posts), then the three funnel pages. */
static void
model_pages(struct lg *lg)
{
    int n = lg->npages;

    lg->pages = hz_xcalloc((size_t)n + 3, sizeof(*lg->pages));
    for (int i = 0; i < n; i++) {
        if ((size_t)i < BASE_PAGES) {
            lg->pages[i] = base_pages[i];
        } else {
            /* Distinct word triples (24^3 = 13824), then a fourth word. */
            unsigned k = (unsigned)i - BASE_PAGES;
            char buf[128];

            if (k < BLOG_WORDS * BLOG_WORDS * BLOG_WORDS)
                (void)snprintf(buf, sizeof(buf), "/blog/%s-%s-%s", blog_words[k % BLOG_WORDS],
                               blog_words[k / BLOG_WORDS % BLOG_WORDS],
                               blog_words[k / (BLOG_WORDS * BLOG_WORDS) % BLOG_WORDS]);
            else
                (void)snprintf(buf, sizeof(buf), "/blog/%s-%s-%s-%s", blog_words[k % BLOG_WORDS],
                               blog_words[k / BLOG_WORDS % BLOG_WORDS],
                               blog_words[k / (BLOG_WORDS * BLOG_WORDS) % BLOG_WORDS],
                               blog_words[k / (BLOG_WORDS * BLOG_WORDS * BLOG_WORDS) % BLOG_WORDS]);
            lg->pages[i] = hz_xstrdup(buf);
        }
    }
    lg->ncontent = n;
    lg->cart = n;
    lg->checkout = n + 1;
    lg->thanks = n + 2;
    lg->pages[lg->cart] = "/cart";
    lg->pages[lg->checkout] = "/checkout";
    lg->pages[lg->thanks] = "/thanks";

    /* Zipf (s = 1) over content pages; products by their own rank. */
    lg->zipf_cdf = hz_xcalloc((size_t)n, sizeof(double));
    lg->products = hz_xcalloc((size_t)n + 1, sizeof(int));
    for (int i = 0; i < n; i++) {
        lg->zipf_cdf[i] = (i ? lg->zipf_cdf[i - 1] : 0.0) + 1.0 / (i + 1);
        if (strncmp(lg->pages[i], "/products/", 10) == 0)
            lg->products[lg->nproducts++] = i;
    }
    lg->product_cdf = hz_xcalloc((size_t)lg->nproducts, sizeof(double));
    for (int i = 0; i < lg->nproducts; i++)
        lg->product_cdf[i] = (i ? lg->product_cdf[i - 1] : 0.0) + 1.0 / (i + 1);
}

/* Index drawn from a cumulative weight table. */
static int
model_pick_cdf(struct rng *r, const double *cdf, int n)
{
    double x = rng_unit(r) * cdf[n - 1];
    int lo = 0, hi = n - 1;

    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (cdf[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static int
model_region_weight(const char *region)
{
    for (size_t i = 0; i < NELEM(region_weights); i++)
        if (strcmp(region_weights[i].region, region) == 0)
            return region_weights[i].weight;
    return DEFAULT_REGION_WEIGHT;
}

/* Reads the geo fixture: "network<TAB>country<TAB>subdivision" lines, "-"
 * for absent, '#' comments. Exits with a message on a malformed file. */
static void
model_nets(struct lg *lg)
{
    FILE *f = fopen(lg->geo_path, "r");
    char line[512];
    int lineno = 0, cap = 0;

    if (f == NULL)
        hz_fatal("%s: cannot open the geo fixture (use -g FILE)", lg->geo_path);
    while (fgets(line, sizeof(line), f) != NULL) {
        char *cidr, *cc, *sub, *save = NULL;
        struct hz_cidrset set;
        struct net *n;

        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        cidr = strtok_r(line, "\t", &save);
        cc = strtok_r(NULL, "\t", &save);
        sub = strtok_r(NULL, "\t", &save);
        if (cidr == NULL || cc == NULL || sub == NULL ||
            hz_cidrset_parse(cidr, strlen(cidr), &set, NULL) != 0 || set.n != 1 || strlen(cc) > 2 ||
            strlen(sub) > 3)
            hz_fatalx("%s:%d: expected network<TAB>country<TAB>subdivision", lg->geo_path, lineno);
        if (lg->nnets == NETS_MAX)
            hz_fatalx("%s:%d: more than %d networks", lg->geo_path, lineno, NETS_MAX);
        if (lg->nnets == cap) {
            cap = cap ? cap * 2 : 16;
            lg->nets = hz_xreallocarray(lg->nets, (size_t)cap, sizeof(*lg->nets));
        }
        n = &lg->nets[lg->nnets++];
        memset(n, 0, sizeof(*n));
        n->cidr = set.nets[0];
        if (strcmp(cc, "-") != 0) {
            (void)hz_strlcpy(n->country, cc, sizeof(n->country));
            if (strcmp(sub, "-") != 0)
                (void)snprintf(n->region, sizeof(n->region), "%s-%s", cc, sub);
            else
                (void)hz_strlcpy(n->region, cc, sizeof(n->region));
        }
        n->weight = model_region_weight(n->region);
    }
    (void)fclose(f);
    if (lg->nnets == 0)
        hz_fatalx("%s: no networks", lg->geo_path);
}

/*
 * Hands out the next identity of network n: an address inside it and a
 * variant number for the user agent. IPv4 networks have few hosts, so
 * after the last host the variant changes instead: (address, variant) is
 * never repeated, and neither is (address, user agent).
 */
static void
net_identity(struct net *n, char *ip, size_t iplen, unsigned *variant)
{
    uint64_t k = n->used++;
    unsigned char a[16];

    memcpy(a, n->cidr.addr, sizeof(a));
    if (n->cidr.family == AF_INET) {
        int hostbits = 32 - n->cidr.prefix;
        uint64_t hosts = hostbits >= 2 ? ((uint64_t)1 << (hostbits > 24 ? 24 : hostbits)) - 2 : 1;
        uint32_t base, host = (uint32_t)(k % hosts) + (hostbits >= 2 ? 1 : 0);

        memcpy(&base, a, 4);
        base = htonl(ntohl(base) + host);
        memcpy(a, &base, 4);
        *variant = (unsigned)(k / hosts);
        (void)inet_ntop(AF_INET, a, ip, (socklen_t)iplen);
    } else {
        /* The low 64 bits are host bits in every network of the fixture. */
        uint64_t host = k + 1;

        for (int i = 15; i >= 8; i--) {
            a[i] = (unsigned char)(host & 0xff);
            host >>= 8;
        }
        *variant = 0;
        (void)inet_ntop(AF_INET6, a, ip, (socklen_t)iplen);
    }
}

/* ------------------------------------------------------------------ visits */

static void
visit_add(struct visit *v, enum hit_kind kind, int page, int prev, uint32_t think)
{
    struct hit *h;

    if (v->nhits >= HITS_MAX)
        return;
    h = &v->hits[v->nhits++];
    memset(h, 0, sizeof(*h));
    h->kind = (uint8_t)kind;
    h->page = page;
    h->prev = prev;
    h->think = think;
}

static uint32_t
visit_think(struct lg *lg, struct rng *r)
{
    double t;

    if (lg->think_ms <= 0)
        return 0;
    t = rng_lognormal(r, lg->think_ms, 0.6);
    return (uint32_t)(t > 5 * lg->think_ms ? 5 * lg->think_ms : t);
}

/*
 * Regional tastes (the print shop's "relatively high demand for a specific
 * type of printed products", issue 11): half of a funnel visit from one of
 * these regions lands on its favourite product, so the dashboard's demand
 * panel shows a lift above 1 there.
 */
static const struct {
    const char *prefix; /* region code, or its country */
    const char *page;
} region_tastes[] = {
    {"DE-BY", "/products/business-cards"},
    {"DE-BE", "/products/posters"},
    {"US", "/products/flyers"},
    {"GB", "/products/stickers"},
    {"FR", "/products/postcards"},
    {"CN", "/products/banners"},
};

/* The page index of region's favourite product, or -1. */
static int
model_taste(const struct lg *lg, const char *region)
{
    for (size_t i = 0; i < NELEM(region_tastes); i++) {
        if (strncmp(region, region_tastes[i].prefix, strlen(region_tastes[i].prefix)) != 0)
            continue;
        for (int k = 0; k < lg->nproducts; k++)
            if (strcmp(lg->pages[lg->products[k]], region_tastes[i].page) == 0)
                return lg->products[k];
    }
    return -1;
}

/* The pages of one visit, by type: returns how many were written. */
static int
visit_path(struct lg *lg, struct rng *r, enum visit_type type, const char *region, int *pages)
{
    int n = 0;

    if (type == VISIT_FUNNEL) {
        double u = rng_unit(r);
        int product = lg->products[model_pick_cdf(r, lg->product_cdf, lg->nproducts)];
        int taste = model_taste(lg, region);

        if (taste >= 0 && rng_unit(r) < 0.5)
            product = taste;

        /* Land on a product (search), the home page or the catalogue. */
        if (u < 0.30)
            pages[n++] = 0;
        else if (u < 0.55)
            pages[n++] = 1;
        pages[n++] = product;
        if (rng_unit(r) < 0.25)
            pages[n++] = lg->products[model_pick_cdf(r, lg->product_cdf, lg->nproducts)];
        /* Each step loses part of the crowd. */
        if (n == 1 && rng_unit(r) < 0.35)
            return n;
        if (rng_unit(r) < 0.60) {
            pages[n++] = lg->cart;
            if (rng_unit(r) < 0.65) {
                pages[n++] = lg->checkout;
                if (rng_unit(r) < 0.70)
                    pages[n++] = lg->thanks;
            }
        }
        return n;
    }

    int want;
    if (type == VISIT_PIXEL || type == VISIT_BOT)
        want = 1 + (int)rng_below(r, 3);
    else if (rng_unit(r) < 0.42)
        want = 1; /* a bounce */
    else
        want = 2 + (int)(log(1.0 - rng_unit(r)) / log(0.65));
    if (want > PAGEVIEWS_MAX)
        want = PAGEVIEWS_MAX;
    while (n < want) {
        int p = model_pick_cdf(r, lg->zipf_cdf, lg->ncontent);

        /* A reload now and then, but mostly a new page. */
        if (n > 0 && p == pages[n - 1] && rng_unit(r) < 0.8)
            p = model_pick_cdf(r, lg->zipf_cdf, lg->ncontent);
        pages[n++] = p;
    }
    return n;
}

/*
 * Draws visit number index. Everything random comes from the visit's own
 * stream except the identity (address and UA variant), which comes from a
 * per-network counter: visits must be drawn in index order, which the
 * driver does.
 */
static void
visit_draw(struct lg *lg, uint64_t index, struct visit *v)
{
    struct rng r;
    int pages[PAGEVIEWS_MAX + 4], npages, w[NETS_MAX], event_at = -1, ev = 0;
    uint32_t pending = 0;
    unsigned variant;
    double u;

    rng_seed(&r, lg->seed, index);
    memset(v, 0, sizeof(*v));
    v->index = index;

    u = rng_unit(&r);
    if (u < 0.04)
        v->type = VISIT_BOT;
    else if (u < 0.07)
        v->type = VISIT_DNT;
    else if (u < 0.13)
        v->type = VISIT_PIXEL;
    else if (u < 0.38)
        v->type = VISIT_FUNNEL;
    else
        v->type = VISIT_BROWSE;

    for (int i = 0; i < lg->nnets; i++)
        w[i] = lg->nets[i].weight;
    v->net = rng_weighted(&r, w, lg->nnets);
    net_identity(&lg->nets[v->net], v->ip, sizeof(v->ip), &variant);

    if (v->type == VISIT_BOT) {
        v->ua = (int)rng_below(&r, NELEM(bot_uas));
        (void)hz_strlcpy(v->ua_str, bot_uas[v->ua], sizeof(v->ua_str));
        /* A crawler's bare UA cannot vary; its address alone is unique. */
    } else {
        for (size_t i = 0; i < NELEM(ua_kinds); i++)
            w[i] = ua_kinds[i].weight;
        v->ua = rng_weighted(&r, w, (int)NELEM(ua_kinds));
        (void)snprintf(v->ua_str, sizeof(v->ua_str), ua_kinds[v->ua].fmt,
                       lg->variant_base + variant);
    }
    if (v->type == VISIT_DNT)
        v->privacy = rng_unit(&r) < 0.7 ? 1 : 2;

    for (size_t i = 0; i < NELEM(ref_kinds); i++)
        w[i] = ref_kinds[i].weight;
    v->ref = rng_weighted(&r, w, (int)NELEM(ref_kinds));

    npages = visit_path(lg, &r, v->type, lg->nets[v->net].region, pages);
    if ((v->type == VISIT_BROWSE || v->type == VISIT_DNT) && npages >= 2 && rng_unit(&r) < 0.15) {
        /* Custom events only in visits of two pages or more, so whether an
         * event makes a visit "not a bounce" never matters to the totals. */
        event_at = (int)rng_below(&r, (unsigned)npages);
        ev = (int)rng_below(&r, NELEM(event_names));
    }

    /* A page's reading time passes before its engagement event (sent when
     * the page is left), or, without one, before the next page. */
    for (int i = 0, js = v->type != VISIT_PIXEL && v->type != VISIT_BOT; i < npages; i++) {
        int pixel = v->type == VISIT_PIXEL || (v->type == VISIT_BOT && v->ua % 2 == 1);
        int prev = i ? pages[i - 1] : -1;
        uint32_t read = visit_think(lg, &r);

        visit_add(v, pixel ? HIT_PIXEL : HIT_PAGEVIEW, pages[i], prev, pending);
        pending = read;
        if (js && i == event_at) {
            visit_add(v, HIT_EVENT, pages[i], prev, 0);
            v->hits[v->nhits - 1].ev = (uint8_t)ev;
        }
        if (js && rng_unit(&r) < 0.9) {
            double ms = rng_lognormal(&r, pages[i] == lg->thanks ? 5000 : 15000, 1.1);

            visit_add(v, HIT_ENGAGEMENT, pages[i], prev, read);
            v->hits[v->nhits - 1].ms = (uint32_t)(ms > 1800000 ? 1800000 : ms);
            pending = 0;
        }
    }
    /* The newsletter's landing page keeps its utm_* query for all its hits. */
    if (ref_kinds[v->ref].utm)
        for (int i = 0; i < v->nhits && v->hits[i].page == pages[0] && v->hits[i].prev == -1; i++)
            v->hits[i].utm = 1;
}

/* ------------------------------------------------------------------ totals */

/* Adds one visit to what the pipeline must count. Bots and DNT/GPC visits
 * only count as sent-but-filtered hits. */
static void
totals_add(struct lg *lg, const struct visit *v)
{
    struct totals *t = &lg->tot;
    const struct net *n = &lg->nets[v->net];
    int npv = 0, first = -1, last = -1, step = 0;

    t->requests += (uint64_t)v->nhits;
    if (v->type == VISIT_BOT || v->type == VISIT_DNT) {
        if (v->type == VISIT_BOT) {
            t->bot_hits += (uint64_t)v->nhits;
            t->bot_visits++;
        } else {
            t->dnt_hits += (uint64_t)v->nhits;
            t->dnt_visits++;
        }
        return;
    }
    for (int i = 0; i < v->nhits; i++) {
        const struct hit *h = &v->hits[i];
        const char *page = lg->pages[h->page];

        switch (h->kind) {
        case HIT_PAGEVIEW:
        case HIT_PIXEL:
            if (h->kind == HIT_PIXEL)
                t->pixel++;
            else
                t->pageviews++;
            cmap_add(&t->pages, page, 1, 0);
            if (first < 0)
                first = h->page;
            last = h->page;
            npv++;
            if (step < lg->funnel.nsteps &&
                hz_funnel_step_match(&lg->funnel, step, 1, page, strlen(page)))
                step++;
            break;
        case HIT_ENGAGEMENT:
            t->engagements++;
            t->engaged_ms += h->ms;
            cmap_add(&t->engaged, page, 1, h->ms);
            break;
        case HIT_EVENT:
            t->events++;
            cmap_add(&t->event_names, event_names[h->ev], 1, 0);
            if (step < lg->funnel.nsteps &&
                hz_funnel_step_match(&lg->funnel, step, 0, event_names[h->ev],
                                     strlen(event_names[h->ev])))
                step++;
            break;
        }
    }
    t->visits++;
    if (npv == 1)
        t->bounces++;
    for (int i = 0; i < step; i++)
        t->funnel[i]++;
    cmap_add(&t->entry, lg->pages[first], 1, 0);
    cmap_add(&t->exit, lg->pages[last], 1, 0);
    cmap_add(&t->sources, ref_kinds[v->ref].source, 1, 0);
    if (ref_kinds[v->ref].utm) {
        cmap_add(&t->utm_source, ref_kinds[v->ref].source, 1, 0);
        cmap_add(&t->utm_medium, UTM_MEDIUM, 1, 0);
        cmap_add(&t->utm_campaign, UTM_CAMPAIGN, 1, 0);
    }
    /* As the dashboard keeps them: a region is "CC-SUB" only (a network
     * without a subdivision counts under its country alone), and an
     * unknown network under neither. */
    if (strchr(n->region, '-') != NULL)
        cmap_add(&t->regions, n->region, 1, 0);
    if (n->country[0] != '\0')
        cmap_add(&t->countries, n->country, 1, 0);
    cmap_add(&t->browsers, ua_kinds[v->ua].browser, 1, 0);
    cmap_add(&t->oses, ua_kinds[v->ua].os, 1, 0);
    cmap_add(&t->devices, ua_kinds[v->ua].device, 1, 0);
}

static json_t *
totals_status_json(const struct status_count *s)
{
    json_t *o = json_object(), *codes = json_object();

    json_object_set_new(o, "ok", json_integer((json_int_t)s->ok));
    json_object_set_new(o, "errors", json_integer((json_int_t)s->errors));
    for (int c = 0; c < 600; c++)
        if (s->by_code[c] != 0) {
            char k[16];
            (void)snprintf(k, sizeof(k), "%d", c);
            json_object_set_new(codes, k, json_integer((json_int_t)s->by_code[c]));
        }
    json_object_set_new(o, "non_2xx", codes);
    {
        /* What a correct pipeline counts, by kind (soak: some hits may get
         * a 503 and must then not be counted). */
        static const char *const kn[] = {"pageview", "pixel", "engagement", "event"};
        json_t *k = json_object();
        for (int i = 0; i < 4; i++)
            json_object_set_new(k, kn[i], json_integer((json_int_t)s->ok_kind[i]));
        json_object_set_new(o, "ok_by_kind", k);
    }
    return o;
}

/* Prints the totals as one JSON document on stdout. */
static void
totals_print(struct lg *lg)
{
    struct totals *t = &lg->tot;
    json_t *o = json_object(), *hits = json_object(), *fun = json_object();
    json_t *steps = json_array(), *reached = json_array(), *eng = json_object();

    json_object_set_new(hits, "pageview", json_integer((json_int_t)t->pageviews));
    json_object_set_new(hits, "pixel", json_integer((json_int_t)t->pixel));
    json_object_set_new(hits, "engagement", json_integer((json_int_t)t->engagements));
    json_object_set_new(hits, "event", json_integer((json_int_t)t->events));
    json_object_set_new(hits, "bot", json_integer((json_int_t)t->bot_hits));
    json_object_set_new(hits, "dnt", json_integer((json_int_t)t->dnt_hits));
    json_object_set_new(hits, "total", json_integer((json_int_t)t->requests));

    json_object_set_new(o, "site", json_string(lg->site));
    json_object_set_new(o, "seed", json_integer((json_int_t)lg->seed));
    json_object_set_new(o, "hits", hits);
    json_object_set_new(o, "pageviews", json_integer((json_int_t)(t->pageviews + t->pixel)));
    json_object_set_new(o, "visits", json_integer((json_int_t)t->visits));
    json_object_set_new(o, "visitors", json_integer((json_int_t)t->visits));
    json_object_set_new(o, "bounces", json_integer((json_int_t)t->bounces));
    json_object_set_new(o, "engaged_ms", json_integer((json_int_t)t->engaged_ms));
    json_object_set_new(o, "bots_sent", json_integer((json_int_t)t->bot_hits));
    json_object_set_new(o, "bot_visits", json_integer((json_int_t)t->bot_visits));
    json_object_set_new(o, "dnt_sent", json_integer((json_int_t)t->dnt_hits));
    json_object_set_new(o, "dnt_visits", json_integer((json_int_t)t->dnt_visits));
    json_object_set_new(o, "pages", cmap_json(&t->pages, 0));
    json_object_set_new(o, "entry_pages", cmap_json(&t->entry, 0));
    json_object_set_new(o, "exit_pages", cmap_json(&t->exit, 0));
    json_object_set_new(o, "sources", cmap_json(&t->sources, 0));
    json_object_set_new(o, "utm_source", cmap_json(&t->utm_source, 0));
    json_object_set_new(o, "utm_medium", cmap_json(&t->utm_medium, 0));
    json_object_set_new(o, "utm_campaign", cmap_json(&t->utm_campaign, 0));
    json_object_set_new(o, "regions", cmap_json(&t->regions, 0));
    json_object_set_new(o, "countries", cmap_json(&t->countries, 0));
    json_object_set_new(o, "browsers", cmap_json(&t->browsers, 0));
    json_object_set_new(o, "os", cmap_json(&t->oses, 0));
    json_object_set_new(o, "devices", cmap_json(&t->devices, 0));
    json_object_set_new(o, "events", cmap_json(&t->event_names, 0));
    json_object_set_new(eng, "samples", cmap_json(&t->engaged, 0));
    json_object_set_new(eng, "ms", cmap_json(&t->engaged, 1));
    json_object_set_new(o, "engagement_by_page", eng);
    json_object_set_new(fun, "name", json_string(lg->funnel.name));
    for (int i = 0; i < lg->funnel.nsteps; i++) {
        json_array_append_new(steps, json_string(lg->funnel.steps[i]));
        json_array_append_new(reached, json_integer((json_int_t)t->funnel[i]));
    }
    json_object_set_new(fun, "steps", steps);
    json_object_set_new(fun, "reached", reached);
    json_object_set_new(o, "funnel", fun);
    if (lg->log == NULL) {
        json_t *resp = json_object();
        json_object_set_new(resp, "counted", totals_status_json(&lg->counted));
        json_object_set_new(resp, "filtered", totals_status_json(&lg->filtered));
        json_object_set_new(o, "responses", resp);
    }
    if (json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 || fputc('\n', stdout) == EOF)
        hz_log_warn("%s: cannot write the totals", __func__);
    (void)fflush(stdout);
    json_decref(o);
}

static void
totals_free(struct totals *t)
{
    struct cmap *maps[] = {&t->pages,       &t->entry,      &t->exit,         &t->sources,
                           &t->utm_source,  &t->utm_medium, &t->utm_campaign, &t->regions,
                           &t->countries,   &t->browsers,   &t->oses,         &t->devices,
                           &t->event_names, &t->engaged};

    for (size_t i = 0; i < NELEM(maps); i++)
        cmap_free(maps[i]);
}

/* ------------------------------------------------------------------ requests */

/* The page URL of hit h as the tracker would report it. */
static void
req_page_url(const struct lg *lg, const struct hit *h, char *out, size_t len)
{
    (void)snprintf(out, len, "http://%s%s%s", lg->site, lg->pages[h->page],
                   h->utm ? UTM_QUERY : "");
}

/* The referrer of hit h: the previous page, or the visit's referrer for
 * its first page. "" means none. */
static void
req_referrer(const struct lg *lg, const struct visit *v, const struct hit *h, char *out, size_t len)
{
    if (h->prev >= 0)
        (void)snprintf(out, len, "http://%s%s", lg->site, lg->pages[h->prev]);
    else if (ref_kinds[v->ref].referrer != NULL)
        (void)hz_strlcpy(out, ref_kinds[v->ref].referrer, len);
    else
        out[0] = '\0';
}

/* Percent-encodes s for a query value (RFC 3986 unreserved kept). */
static void
req_pct(const char *s, char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *s != '\0' && o + 4 < len; s++) {
        unsigned char c = (unsigned char)*s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

/* The JSON body (POST) or the query (pixel) of hit h, into out. */
static void
req_body(const struct lg *lg, const struct visit *v, const struct hit *h, char *out, size_t len)
{
    char url[512], ref[512], ref_json[540];
    int width = v->type == VISIT_BOT ? 1280 : ua_kinds[v->ua].width;

    req_page_url(lg, h, url, sizeof(url));
    req_referrer(lg, v, h, ref, sizeof(ref));
    if (ref[0] != '\0')
        (void)snprintf(ref_json, sizeof(ref_json), "\"%s\"", ref);
    else
        (void)hz_strlcpy(ref_json, "null", sizeof(ref_json));

    switch (h->kind) {
    case HIT_PAGEVIEW:
        (void)snprintf(out, len, "{\"n\":\"pageview\",\"u\":\"%s\",\"d\":\"%s\",\"r\":%s,\"w\":%d}",
                       url, lg->site, ref_json, width);
        break;
    case HIT_ENGAGEMENT:
        (void)snprintf(out, len, "{\"n\":\"engagement\",\"u\":\"%s\",\"d\":\"%s\",\"e\":%u}", url,
                       lg->site, h->ms);
        break;
    case HIT_EVENT:
        (void)snprintf(out, len, "{\"n\":\"%s\",\"u\":\"%s\",\"d\":\"%s\",\"r\":%s,\"w\":%d}",
                       event_names[h->ev], url, lg->site, ref_json, width);
        break;
    case HIT_PIXEL: {
        char eu[640], er[640];

        req_pct(url, eu, sizeof(eu));
        req_pct(ref, er, sizeof(er));
        if (ref[0] != '\0')
            (void)snprintf(out, len, "d=%s&u=%s&r=%s", lg->site, eu, er);
        else
            (void)snprintf(out, len, "d=%s&u=%s", lg->site, eu);
        break;
    }
    }
}

/* ------------------------------------------------------------------ driver */

static void slot_step(struct slot *s);
static void slot_next_visit(struct slot *s);

static int
lg_counted(const struct visit *v)
{
    return v->type != VISIT_BOT && v->type != VISIT_DNT;
}

static void
lg_record(struct lg *lg, const struct visit *v, enum hit_kind kind, int code)
{
    struct status_count *sc = lg_counted(v) ? &lg->counted : &lg->filtered;

    if (code <= 0)
        sc->errors++;
    else if (code >= 200 && code < 300) {
        sc->ok++;
        sc->ok_kind[kind]++;
    } else if (code < 600)
        sc->by_code[code]++;
    else
        sc->errors++;
}

/* Past the deadline or stopped: the visits in progress are finished
 * without their remaining reading times. */
static int
lg_draining(const struct lg *lg)
{
    return lg->stopping || (lg->duration > 0 && now_mono() - lg->t0 >= lg->duration);
}

static void
slot_done(struct evhttp_request *req, void *arg)
{
    struct slot *s = arg;
    struct lg *lg = s->lg;
    int code = req != NULL ? evhttp_request_get_response_code(req) : 0;

    s->last_io = now_mono();
    lg_record(lg, &s->v, (enum hit_kind)s->v.hits[s->next].kind, code);
    if (code <= 0 && !lg->warned) {
        /* Once: a collector that is down would flood the log otherwise. */
        lg->warned = 1;
        hz_log_warnx("%s: no response from %s (not running, or timed out); counting failures",
                     __func__, lg->url);
    }
    s->next++;
    if (s->next >= s->v.nhits) {
        s->busy = 0;
        lg->active--;
        slot_next_visit(s);
        return;
    }
    /* Never re-enter the connection from its own callback: go through the
     * loop, after the visitor's reading time. */
    {
        uint32_t think = lg_draining(lg) ? 0 : s->v.hits[s->next].think;
        struct timeval tv = {think / 1000, (suseconds_t)(think % 1000) * 1000};

        s->paced = 0;
        evtimer_add(s->timer, &tv);
    }
}

/* A keep-alive connection to the collector (connected on first use). */
static struct evhttp_connection *
lg_connect(struct lg *lg)
{
    struct evhttp_connection *c =
        evhttp_connection_base_new(lg->base, NULL, lg->host, (ev_uint16_t)lg->port);

    if (c == NULL)
        hz_fatalx("%s: cannot create a connection to %s", __func__, lg->url);
    evhttp_connection_set_timeout(c, 10);
    /* Never resend: the collector may have counted the first try. */
    evhttp_connection_set_retries(c, 0);
    return c;
}

static void
slot_send(struct slot *s)
{
    struct lg *lg = s->lg;
    const struct hit *h = &s->v.hits[s->next];
    struct evhttp_request *req = evhttp_request_new(slot_done, s);
    struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
    char body[2048], path[2400];
    enum evhttp_cmd_type cmd;

    if (s->last_io > 0 && now_mono() - s->last_io > IDLE_REUSE_S) {
        evhttp_connection_free(s->conn);
        s->conn = lg_connect(lg);
    }
    req_body(lg, &s->v, h, body, sizeof(body));
    evhttp_add_header(hdr, "Host", lg->hosthdr);
    evhttp_add_header(hdr, "User-Agent", s->v.ua_str);
    evhttp_add_header(hdr, "X-Forwarded-For", s->v.ip);
    evhttp_add_header(hdr, "Accept-Language", "en-US,en;q=0.9");
    if (s->v.privacy == 1)
        evhttp_add_header(hdr, "DNT", "1");
    else if (s->v.privacy == 2)
        evhttp_add_header(hdr, "Sec-GPC", "1");
    if (h->kind == HIT_PIXEL) {
        char referer[300];

        (void)snprintf(path, sizeof(path), "%s/p.gif?%s", lg->prefix, body);
        (void)snprintf(referer, sizeof(referer), "http://%s/", lg->site);
        evhttp_add_header(hdr, "Referer", referer);
        evhttp_add_header(hdr, "Accept", "image/avif,image/webp,*/*");
        cmd = EVHTTP_REQ_GET;
    } else {
        char origin[300];

        (void)snprintf(path, sizeof(path), "%s/api/event", lg->prefix);
        (void)snprintf(origin, sizeof(origin), "http://%s", lg->site);
        evhttp_add_header(hdr, "Content-Type", "text/plain");
        evhttp_add_header(hdr, "Origin", origin);
        (void)evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
        cmd = EVHTTP_REQ_POST;
    }
    if (evhttp_make_request(s->conn, req, cmd, path) != 0) {
        /* libevent frees req on failure; slot_done counts the error. */
        hz_log_warnx("%s: cannot queue a request", __func__);
        s->next = s->v.nhits - 1;
        slot_done(NULL, s);
    }
}

/* Sends the next hit now, or waits for the pacer (-r). */
static void
slot_step(struct slot *s)
{
    struct lg *lg = s->lg;

    if (lg->rate > 0 && !s->paced && !lg->stopping) {
        double t = now_mono(), at;

        if (lg->next_at < t)
            lg->next_at = t;
        at = lg->next_at;
        lg->next_at += 1.0 / lg->rate;
        if (at > t + 0.0005) {
            double d = at - t;
            struct timeval tv = {(time_t)d, (suseconds_t)((d - (double)(time_t)d) * 1e6)};

            s->paced = 1;
            evtimer_add(s->timer, &tv);
            return;
        }
    }
    s->paced = 0;
    slot_send(s);
}

static void
slot_timer(evutil_socket_t fd, short what, void *arg)
{
    struct slot *s = arg;

    (void)fd;
    (void)what;
    if (s->paced) {
        s->paced = 0;
        slot_send(s);
    } else {
        slot_step(s);
    }
}

/* Whether another visit may start. */
static int
lg_more(struct lg *lg)
{
    if (lg->stopping)
        return 0;
    if (lg->count > 0 && lg->started >= lg->count)
        return 0;
    if (lg->duration > 0 && now_mono() - lg->t0 >= lg->duration)
        return 0;
    return 1;
}

static void
slot_next_visit(struct slot *s)
{
    struct lg *lg = s->lg;

    if (!lg_more(lg)) {
        if (lg->active == 0)
            (void)event_base_loopexit(lg->base, NULL);
        return;
    }
    visit_draw(lg, lg->started++, &s->v);
    totals_add(lg, &s->v);
    s->next = 0;
    s->busy = 1;
    s->paced = 0;
    lg->active++;
    slot_step(s);
}

static void
lg_signal(evutil_socket_t sig, short what, void *arg)
{
    struct lg *lg = arg;

    (void)what;
    if (lg->stopping) {
        hz_log_warnx("%s: second signal, stopping now", __func__);
        (void)event_base_loopbreak(lg->base);
        return;
    }
    hz_log_info("%s: signal %d: finishing %d visits in progress", __func__, (int)sig, lg->active);
    lg->stopping = 1;
    /* Skip the remaining reading times and the pacing. */
    for (int i = 0; i < lg->conns; i++) {
        struct slot *s = &lg->slots[i];

        if (s->busy && evtimer_pending(s->timer, NULL)) {
            evtimer_del(s->timer);
            s->paced = 0;
            slot_send(s);
        }
    }
    if (lg->active == 0)
        (void)event_base_loopexit(lg->base, NULL);
}

static void
lg_progress(evutil_socket_t fd, short what, void *arg)
{
    struct lg *lg = arg;
    double el = now_mono() - lg->t0;
    uint64_t done = lg->counted.ok + lg->filtered.ok;
    uint64_t bad = lg->counted.errors + lg->filtered.errors;

    (void)fd;
    (void)what;
    for (int c = 0; c < 600; c++)
        bad += lg->counted.by_code[c];
    hz_log_info("%.0f s: %llu visits, %llu hits answered (%.0f/s), %llu failed", el,
                (unsigned long long)lg->started, (unsigned long long)done,
                el > 0 ? (double)done / el : 0.0, (unsigned long long)bad);
}

/* Runs the visits against the collector. Returns the process exit code. */
static int
lg_run_http(struct lg *lg)
{
    uint64_t bad = 0, filtered_bad = 0;
    double el;

    lg->base = event_base_new();
    if (lg->base == NULL)
        hz_fatalx("%s: event_base_new failed", __func__);
    lg->slots = hz_xcalloc((size_t)lg->conns, sizeof(*lg->slots));
    for (int i = 0; i < lg->conns; i++) {
        struct slot *s = &lg->slots[i];

        s->lg = lg;
        s->conn = lg_connect(lg);
        s->timer = evtimer_new(lg->base, slot_timer, s);
    }
    lg->sigint = evsignal_new(lg->base, SIGINT, lg_signal, lg);
    lg->sigterm = evsignal_new(lg->base, SIGTERM, lg_signal, lg);
    (void)evsignal_add(lg->sigint, NULL);
    (void)evsignal_add(lg->sigterm, NULL);
    if (lg->duration >= 20 && lg->verbose >= 1) {
        struct timeval tv = {10, 0};
        lg->progress = event_new(lg->base, -1, EV_PERSIST, lg_progress, lg);
        (void)event_add(lg->progress, &tv);
    }

    lg->t0 = now_mono();
    for (int i = 0; i < lg->conns && lg_more(lg); i++)
        slot_next_visit(&lg->slots[i]);
    if (lg->active > 0)
        (void)event_base_dispatch(lg->base);
    el = now_mono() - lg->t0;

    for (int c = 0; c < 600; c++) {
        bad += lg->counted.by_code[c];
        filtered_bad += lg->filtered.by_code[c];
    }
    bad += lg->counted.errors;
    filtered_bad += lg->filtered.errors;
    hz_log_info("%llu visits, %llu requests in %.2f s (%.0f/s): %llu answered 2xx, %llu failed",
                (unsigned long long)lg->started,
                (unsigned long long)(lg->counted.ok + lg->filtered.ok + bad + filtered_bad), el,
                el > 0 ? (double)(lg->counted.ok + lg->filtered.ok) / el : 0.0,
                (unsigned long long)(lg->counted.ok + lg->filtered.ok),
                (unsigned long long)(bad + filtered_bad));
    for (int c = 0; c < 600; c++) {
        if (lg->counted.by_code[c])
            hz_log_warnx("status %d: %llu counted-traffic responses", c,
                         (unsigned long long)lg->counted.by_code[c]);
        if (lg->filtered.by_code[c])
            hz_log_info("status %d: %llu bot/DNT responses", c,
                        (unsigned long long)lg->filtered.by_code[c]);
    }
    if (lg->counted.errors || lg->filtered.errors)
        hz_log_warnx("%llu requests got no response (connection refused, reset or timeout)",
                     (unsigned long long)(lg->counted.errors + lg->filtered.errors));

    for (int i = 0; i < lg->conns; i++) {
        evhttp_connection_free(lg->slots[i].conn);
        event_free(lg->slots[i].timer);
    }
    free(lg->slots);
    event_free(lg->sigint);
    event_free(lg->sigterm);
    if (lg->progress != NULL)
        event_free(lg->progress);
    event_base_free(lg->base);
    /* Bots and DNT may be answered with a 4xx; only no answer at all is wrong. */
    return bad == 0 && lg->filtered.errors == 0 ? 0 : 1;
}

/* ------------------------------------------------------------------ access log */

/*
 * The same hits as nginx would log them in its "combined" format, had the
 * shop logged its own pages: a pageview (script or pixel) is the page's
 * GET with the visitor's address, referrer and user agent; an engagement
 * or custom event is the tracker's POST /api/event (referer: the page).
 * Time advances by 1/rate per hit (default 100 hits/s) from the start.
 */
static int
lg_run_log(struct lg *lg)
{
    double rate = lg->rate > 0 ? lg->rate : 100.0;
    uint64_t hitno = 0;
    struct visit *v = hz_xmalloc(sizeof(*v));

    if (lg->count == 0 && lg->duration > 0)
        lg->count = (uint64_t)(lg->duration * rate); /* at most; visits hold several hits */
    lg->log_t0 = time(NULL);
    while (lg->started < lg->count) {
        if (lg->duration > 0 && (double)hitno / rate >= lg->duration)
            break;
        visit_draw(lg, lg->started++, v);
        totals_add(lg, v);
        for (int i = 0; i < v->nhits; i++, hitno++) {
            const struct hit *h = &v->hits[i];
            time_t t = lg->log_t0 + (time_t)((double)hitno / rate);
            struct tm tm;
            char ts[64], url[512], ref[512];

            (void)gmtime_r(&t, &tm);
            (void)strftime(ts, sizeof(ts), "%d/%b/%Y:%H:%M:%S +0000", &tm);
            req_page_url(lg, h, url, sizeof(url));
            if (h->kind == HIT_PAGEVIEW || h->kind == HIT_PIXEL) {
                req_referrer(lg, v, h, ref, sizeof(ref));
                if (fprintf(lg->log, "%s - - [%s] \"GET %s%s HTTP/1.1\" 200 %d \"%s\" \"%s\"\n",
                            v->ip, ts, lg->pages[h->page], h->utm ? UTM_QUERY : "",
                            2048 + (int)(h->page % 7) * 512, ref[0] ? ref : "-", v->ua_str) < 0)
                    goto fail;
            } else {
                if (fprintf(lg->log,
                            "%s - - [%s] \"POST /api/event HTTP/1.1\" 202 0 \"%s\" \"%s\"\n", v->ip,
                            ts, url, v->ua_str) < 0)
                    goto fail;
            }
        }
    }
    free(v);
    if (fflush(lg->log) != 0)
        goto fail_nov;
    hz_log_info("%llu visits, %llu log lines written to %s", (unsigned long long)lg->started,
                (unsigned long long)hitno, lg->log_path);
    return 0;
fail:
    free(v);
fail_nov:
    hz_log_warn("%s: write", lg->log_path);
    return 1;
}

/* ------------------------------------------------------------------ main */

static void
usage(int code)
{
    hz_errx("usage: haze-loadgen [-u URL] (-n VISITS | -d SECONDS [-r HITS_PER_S]) [-s SEED]\n"
            "                    [-c CONNS] [-S SITE] [-P PAGES] [-t THINK_MS] [-g GEO_TSV]\n"
            "                    [-F FUNNEL] [--totals] [--access-log FILE] [-q] [-v]\n"
            "  -u URL        collector base URL (default http://127.0.0.1:8080)\n"
            "  -n VISITS     number of visits to play (default 100 when no -d)\n"
            "  -d SECONDS    play for this long (visits in progress are finished)\n"
            "  -r RATE       pace requests at RATE hits per second (default: as fast as answered)\n"
            "  -s SEED       random seed: the same seed plays the same visits (default 1)\n"
            "  -c CONNS      concurrent keep-alive connections, one visit each (default 16)\n"
            "  -S SITE       the site (data-domain) and host of page URLs (default localhost)\n"
            "  -P PAGES      content pages (default %zu; more are generated blog posts)\n"
            "  -t THINK_MS   median reading time between a visit's pages (default 0)\n"
            "  -g FILE       geo fixture (default tests/data/geo-fixture.tsv)\n"
            "  -F FUNNEL     funnel to compute reached steps for (default \"%s\")\n"
            "  --totals      print what was sent and must be counted, as JSON, on stdout\n"
            "  --access-log FILE  write the hits as an nginx combined log instead of sending\n"
            "  -q / -v       fewer / more messages",
            BASE_PAGES, DEFAULT_FUNNEL);
    exit(code);
}

static double
opt_num(const char *s, const char *what, double lo, double hi)
{
    char *end;
    double d;

    errno = 0;
    d = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(d >= lo && d <= hi))
        hz_fatalx("%s: expected a number %g..%g, got \"%s\"", what, lo, hi, s);
    return d;
}

/* Splits -u into host, port and path prefix. */
static void
opt_url(struct lg *lg)
{
    struct evhttp_uri *u = evhttp_uri_parse(lg->url);
    const char *scheme, *host, *path;
    int port;

    if (u == NULL)
        hz_fatalx("-u: not a URL: %s", lg->url);
    scheme = evhttp_uri_get_scheme(u);
    host = evhttp_uri_get_host(u);
    path = evhttp_uri_get_path(u);
    port = evhttp_uri_get_port(u);
    if (scheme == NULL || strcmp(scheme, "http") != 0 || host == NULL || host[0] == '\0')
        hz_fatalx("-u: expected http://HOST[:PORT][/prefix], got %s", lg->url);
    lg->port = port > 0 ? port : 80;
    (void)hz_strlcpy(lg->host, host, sizeof(lg->host));
    if (strchr(host, ':') != NULL)
        (void)snprintf(lg->hosthdr, sizeof(lg->hosthdr), "[%s]:%d", host, lg->port);
    else
        (void)snprintf(lg->hosthdr, sizeof(lg->hosthdr), "%s:%d", host, lg->port);
    (void)hz_strlcpy(lg->prefix, path != NULL ? path : "", sizeof(lg->prefix));
    while (lg->prefix[0] != '\0' && lg->prefix[strlen(lg->prefix) - 1] == '/')
        lg->prefix[strlen(lg->prefix) - 1] = '\0';
    evhttp_uri_free(u);
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"totals", no_argument, NULL, 'T'},
        {"access-log", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct lg lg;
    const char *funnel = DEFAULT_FUNNEL;
    struct hz_err err;
    uint64_t x;
    int ch, rc;

    memset(&lg, 0, sizeof(lg));
    lg.url = "http://127.0.0.1:8080";
    lg.site = "localhost";
    lg.geo_path = "tests/data/geo-fixture.tsv";
    lg.seed = 1;
    lg.conns = 16;
    lg.npages = (int)BASE_PAGES;
    lg.verbose = 1;
    while ((ch = getopt_long(argc, argv, "u:n:r:d:s:c:S:P:t:g:F:qvh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'u':
            lg.url = optarg;
            break;
        case 'n':
            lg.count = (uint64_t)opt_num(optarg, "-n", 1, 1e9);
            break;
        case 'r':
            lg.rate = opt_num(optarg, "-r", 0.01, 1e7);
            break;
        case 'd':
            lg.duration = opt_num(optarg, "-d", 0.1, 86400 * 7);
            break;
        case 's':
            lg.seed = (uint64_t)opt_num(optarg, "-s", 0, 9007199254740992.0);
            break;
        case 'c':
            lg.conns = (int)opt_num(optarg, "-c", 1, 10000);
            break;
        case 'S':
            lg.site = optarg;
            break;
        case 'P':
            lg.npages = (int)opt_num(optarg, "-P", 3, 1000000);
            break;
        case 't':
            lg.think_ms = opt_num(optarg, "-t", 0, 600000);
            break;
        case 'g':
            lg.geo_path = optarg;
            break;
        case 'F':
            funnel = optarg;
            break;
        case 'T':
            lg.print_totals = 1;
            break;
        case 'L':
            lg.log_path = optarg;
            break;
        case 'q':
            lg.verbose = 0;
            break;
        case 'v':
            lg.verbose = 2;
            break;
        case 'h':
            usage(0);
            break;
        default:
            usage(2);
        }
    }
    if (optind != argc)
        usage(2);
    hz_log_init("haze-loadgen", lg.verbose);
    if (lg.count == 0 && lg.duration == 0)
        lg.count = 100;
    if (strlen(lg.site) == 0 || strlen(lg.site) > 120 || strpbrk(lg.site, "\"\\/?#&% ") != NULL)
        hz_fatalx("-S: expected a host name");
    if (hz_funnel_parse(funnel, strlen(funnel), &lg.funnel, &err) != 0)
        hz_fatalx("-F: %s", err.msg);

    /* The UA variant base differs per seed, so runs with different seeds
     * on the same day do not replay each other's visitors. */
    x = lg.seed;
    lg.variant_base = 1000 + (unsigned)(rng_splitmix(&x) % 8000);
    model_pages(&lg);
    model_nets(&lg);

    if (lg.log_path != NULL) {
        lg.log = fopen(lg.log_path, "w");
        if (lg.log == NULL)
            hz_fatal("%s", lg.log_path);
        rc = lg_run_log(&lg);
        if (fclose(lg.log) != 0)
            rc = 1;
    } else {
        opt_url(&lg);
        /* A peer that closes mid-write must not kill the process. */
        (void)signal(SIGPIPE, SIG_IGN);
        rc = lg_run_http(&lg);
    }
    if (lg.print_totals)
        totals_print(&lg);

    totals_free(&lg.tot);
    for (int i = (int)BASE_PAGES; i < lg.ncontent; i++)
        free((void *)(uintptr_t)lg.pages[i]);
    free(lg.pages);
    free(lg.products);
    free(lg.zipf_cdf);
    free(lg.product_cdf);
    free(lg.nets);
    return rc;
}
