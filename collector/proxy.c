/* SPDX-License-Identifier: MIT */
/*
 * proxy.c - the client's address behind trusted proxies (rules in proxy.h).
 *
 * A header is first split into hops (slices of the header, at most
 * HZ_PROXY_HOPS_MAX, on the stack), then walked from the right: each hop
 * is parsed only when the walk reaches it. No I/O, no allocation; nothing
 * here logs or copies an address anywhere but *out.
 */
#include "collector/proxy.h"

#include <netinet/in.h>
#include <string.h>

#include "common/str.h"

/* One hop: the node text as it stands in the header. */
struct proxy_hop {
    const char *s;
    size_t n;
    int quoted; /* a Forwarded quoted-string, escapes still in */
};

/* Longest node text we parse: "[" IPv6 "]:" port, with room to spare. */
#define PROXY_NODE_MAX 64

static int
proxy_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 7230 tchar. */
static int
proxy_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Copies sa's address (not its port) into ss; IPv4-mapped IPv6 becomes
 * AF_INET. sa is AF_INET or AF_INET6. */
static void
proxy_addr(const struct sockaddr *sa, struct sockaddr_storage *ss)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

    if (sa->sa_family == AF_INET) {
        struct in_addr a = ((const struct sockaddr_in *)(const void *)sa)->sin_addr;
        memset(ss, 0, sizeof(*ss));
        sin->sin_family = AF_INET;
        sin->sin_addr = a;
        return;
    }
    struct in6_addr a6 = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    memset(ss, 0, sizeof(*ss));
    if (memcmp(a6.s6_addr, mapped, sizeof(mapped)) == 0) {
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, a6.s6_addr + 12, 4);
        return;
    }
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = a6;
}

/* A port after ':' - 1 to 5 digits <= 65535, or, when obf, an RFC 7239
 * obfuscated port ("_" and [A-Za-z0-9._-]). */
static int
proxy_port(const char *s, size_t n, int obf)
{
    uint64_t v;

    if (obf && n > 1 && s[0] == '_') {
        for (size_t i = 1; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '.' || c == '_' || c == '-'))
                return -1;
        }
        return 0;
    }
    return hz_parse_u64(s, n, 65535, &v);
}

/* Parses one node: "1.2.3.4", "1.2.3.4:80", "[v6]", "[v6]:80" or a bare
 * "v6". 0 with *ss set, or -1. A port is accepted where it cannot be
 * mistaken for part of the address (some load balancers append it to
 * X-Forwarded-For) and thrown away; host names, "unknown" and obfuscated
 * identifiers are no address and fail. */
static int
proxy_node(const char *s, size_t n, int obfport, struct sockaddr_storage *ss)
{
    const char *colon;
    size_t colons = 0;

    /* hz_ip_parse stops at a NUL (inet_pton): "1.2.3.4\0junk" would pass. */
    if (n == 0 || memchr(s, '\0', n) != NULL)
        return -1;
    if (s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        size_t rest;
        if (rb == NULL || hz_ip_parse(s + 1, (size_t)(rb - s - 1), ss) != 0 ||
            ss->ss_family != AF_INET6)
            return -1;
        rest = n - (size_t)(rb + 1 - s);
        if (rest == 0)
            return 0;
        if (rb[1] != ':' || proxy_port(rb + 2, rest - 1, obfport) != 0)
            return -1;
        return 0;
    }
    colon = memchr(s, ':', n);
    for (size_t i = 0; i < n; i++)
        colons += s[i] == ':';
    if (colons == 1) {
        /* IPv4 with a port; a bare IPv6 address has at least two colons. */
        if (hz_ip_parse(s, (size_t)(colon - s), ss) != 0 || ss->ss_family != AF_INET ||
            proxy_port(colon + 1, n - (size_t)(colon - s) - 1, obfport) != 0)
            return -1;
        return 0;
    }
    return hz_ip_parse(s, n, ss) == 0 ? 0 : -1;
}

/* The address of one hop. Quoted Forwarded values are unescaped first. */
static int
proxy_hop_addr(const struct proxy_hop *h, struct sockaddr_storage *ss)
{
    char buf[PROXY_NODE_MAX];
    size_t o = 0;

    if (!h->quoted)
        return proxy_node(h->s, h->n, 0, ss);
    for (size_t i = 0; i < h->n; i++) {
        char c = h->s[i];
        if (c == '\\')
            c = h->s[++i]; /* the splitter saw the escaped byte */
        if (o == sizeof(buf))
            return -1;
        buf[o++] = c;
    }
    return proxy_node(buf, o, 1, ss);
}

/* Splits X-Forwarded-For into hops. 0, or -1 with *why set. */
static int
proxy_xff_split(const char *h, size_t len, struct proxy_hop *hops, int *nhops, const char **why)
{
    size_t i = 0;
    int n = *nhops;

    while (i < len) {
        size_t j = i, a, b;
        while (j < len && h[j] != ',')
            j++;
        a = i;
        b = j;
        while (a < b && proxy_ows(h[a]))
            a++;
        while (b > a && proxy_ows(h[b - 1]))
            b--;
        i = j + 1;
        if (a == b)
            continue;
        if (n == HZ_PROXY_HOPS_MAX) {
            *why = "X-Forwarded-For: over 64 hops in all";
            return -1;
        }
        hops[n].s = h + a;
        hops[n].n = b - a;
        hops[n].quoted = 0;
        n++;
    }
    *nhops = n;
    return 0;
}

/* Skips optional white space. */
static size_t
proxy_skip_ows(const char *h, size_t len, size_t i)
{
    while (i < len && proxy_ows(h[i]))
        i++;
    return i;
}

/* Reads one pair's value (token or quoted-string) at h[i]. Sets the hop
 * slice (without quotes) and returns the index after it, or 0 on error
 * (a value never starts at index 0). */
static size_t
proxy_fwd_value(const char *h, size_t len, size_t i, struct proxy_hop *v)
{
    size_t s = i;

    if (i < len && h[i] == '"') {
        s = ++i;
        while (i < len && h[i] != '"') {
            unsigned char c = (unsigned char)h[i];
            if (c == '\\') {
                if (++i == len)
                    return 0;
                c = (unsigned char)h[i];
                if (c != '\t' && (c < 0x20 || c == 0x7f))
                    return 0;
            } else if (c != '\t' && (c < 0x20 || c == 0x7f)) {
                return 0;
            }
            i++;
        }
        if (i == len)
            return 0;
        v->s = h + s;
        v->n = i - s;
        v->quoted = 1;
        return i + 1;
    }
    while (i < len && proxy_tchar((unsigned char)h[i]))
        i++;
    if (i == s)
        return 0;
    v->s = h + s;
    v->n = i - s;
    v->quoted = 0;
    return i;
}

/* Splits Forwarded into the hops that have a "for". 0, or -1 with *why.
 *
 * RFC 7239, section 4, with RFC 7230 lists:
 *   Forwarded         = 1#forwarded-element
 *   forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
 *   forwarded-pair    = token "=" value
 *   value             = token / quoted-string
 * Spaces are tolerated around ';' and ',' (not around '='), empty list
 * elements and empty pairs are skipped, and a parameter may occur once per
 * element. The whole header is checked here, because a quoted string can
 * hold ',' and ';': its structure cannot be read from the right. */
static int
proxy_fwd_split(const char *h, size_t len, struct proxy_hop *hops, int *nhops, const char **why)
{
    size_t i = 0;
    int n = *nhops, elems = *nhops;

    *why = "Forwarded: malformed";
    for (;;) {
        struct proxy_hop forv = {NULL, 0, 0};
        int havefor = 0, pairs = 0;

        i = proxy_skip_ows(h, len, i);
        if (i == len)
            break;
        if (h[i] == ',') {
            i++;
            continue;
        }
        /* One element: pairs separated by ';', up to ',' or the end. */
        for (;;) {
            struct proxy_hop v;
            size_t k, klen;

            i = proxy_skip_ows(h, len, i);
            if (i < len && h[i] == ';') {
                i++;
                continue;
            }
            if (i == len || h[i] == ',')
                break;
            k = i;
            while (i < len && proxy_tchar((unsigned char)h[i]))
                i++;
            if (i == k || i == len || h[i] != '=')
                return -1;
            klen = i - k;
            i = proxy_fwd_value(h, len, i + 1, &v);
            if (i == 0)
                return -1;
            pairs++;
            if (hz_memieq(h + k, klen, "for")) {
                if (havefor) {
                    *why = "Forwarded: repeated for";
                    return -1;
                }
                havefor = 1;
                forv = v;
            }
            i = proxy_skip_ows(h, len, i);
            if (i < len && h[i] != ';' && h[i] != ',')
                return -1;
        }
        if (pairs > 0 && ++elems > HZ_PROXY_HOPS_MAX) {
            *why = "Forwarded: over 64 hops in all";
            return -1;
        }
        if (havefor)
            hops[n++] = forv;
    }
    *nhops = n;
    return 0;
}

/* Walks hops right to left: the first untrusted one, else the leftmost.
 * Each proxy appends the address it saw, so the hops to the right of the
 * client were written by our own proxies and the ones to its left by the
 * client: those are never parsed, and junk there cannot refuse a hit.
 * *res is scratch until the caller copies it out. */
static int
proxy_walk(const struct proxy_hop *hops, int n, const struct hz_cidrset *trusted,
           struct sockaddr_storage *res)
{
    for (int i = n - 1; i >= 0; i--) {
        struct sockaddr_storage ss;
        if (proxy_hop_addr(&hops[i], &ss) != 0)
            return -1;
        proxy_addr((const struct sockaddr *)&ss, res);
        if (!hz_cidrset_match(trusted, (const struct sockaddr *)res))
            return 0;
    }
    return 0;
}

int
hz_proxy_client_lines(const struct sockaddr *peer, const struct hz_cidrset *trusted,
                      const struct hz_proxy_line *lines, int nlines, struct sockaddr_storage *out,
                      struct hz_err *err)
{
    struct proxy_hop hops[HZ_PROXY_HOPS_MAX];
    struct sockaddr_storage res;
    const char *why;
    int n = 0;

    if (peer == NULL || (peer->sa_family != AF_INET && peer->sa_family != AF_INET6))
        return hz_err_set(err, HZ_EINVAL, "peer is not an IP address");
    /* Anyone may send these headers: only a trusted peer's are read. */
    proxy_addr(peer, &res);
    if (trusted == NULL || !hz_cidrset_match(trusted, peer) || nlines == 0) {
        *out = res;
        return 0;
    }
    if (nlines > HZ_PROXY_LINES_MAX)
        return hz_err_set(err, HZ_EINVAL, "over %d forwarding header lines", HZ_PROXY_LINES_MAX);
    /* One list, in the order the lines came: each proxy appends its hop
     * (to a line, or as a line of its own), so the list read from the
     * right is our proxies' hops first, whatever header each one used. */
    for (int i = 0; i < nlines; i++) {
        const struct hz_proxy_line *l = &lines[i];
        const char *name = l->fwd ? "Forwarded" : "X-Forwarded-For";
        if (l->len > HZ_PROXY_HEADER_MAX)
            return hz_err_set(err, HZ_EINVAL, "%s: over %d bytes", name, HZ_PROXY_HEADER_MAX);
        if ((l->fwd ? proxy_fwd_split(l->v, l->len, hops, &n, &why)
                    : proxy_xff_split(l->v, l->len, hops, &n, &why)) != 0)
            return hz_err_set(err, HZ_EINVAL, "%s", why);
    }
    if (n > 0 && proxy_walk(hops, n, trusted, &res) != 0)
        return hz_err_set(err, HZ_EINVAL, "forwarding headers: bad address");
    *out = res;
    return 0;
}

int
hz_proxy_trusted(const struct sockaddr *peer, const struct hz_cidrset *trusted)
{
    return peer != NULL && trusted != NULL && hz_cidrset_match(trusted, peer);
}

int
hz_proxy_lines_set(const struct hz_proxy_line *lines, int nlines)
{
    for (int i = 0; i < nlines; i++)
        for (size_t j = 0; j < lines[i].len; j++)
            if (lines[i].v[j] != ' ' && lines[i].v[j] != '\t')
                return 1;
    return 0;
}

int
hz_proxy_client(const struct sockaddr *peer, const struct hz_cidrset *trusted, const char *xff,
                size_t xfflen, const char *fwd, size_t fwdlen, struct sockaddr_storage *out,
                struct hz_err *err)
{
    struct hz_proxy_line lines[2];
    int n = 0;

    if (xff != NULL)
        lines[n++] = (struct hz_proxy_line){xff, xfflen, 0};
    if (fwd != NULL)
        lines[n++] = (struct hz_proxy_line){fwd, fwdlen, 1};
    return hz_proxy_client_lines(peer, trusted, lines, n, out, err);
}
