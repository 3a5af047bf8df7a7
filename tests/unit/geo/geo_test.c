/* SPDX-License-Identifier: MIT */
/*
 * geo_test.c - hz_geo over haze's own fixture database (built by
 * tests/data/make-mmdb.pl from tests/data/geo-fixture.tsv into
 * $HZ_BUILD/testdata), over damaged copies of it, and, when ../shared is
 * present, over MaxMind's test databases and their answer key.
 *
 * Paths: $HZ_BUILD (default build/release) for the fixture, $HZ_SRC
 * (default ".") for the source tree, $HZ_SHARED (default ../shared) for
 * the optional cross-check, $HZ_BIN (default bin) for haze-geo.
 */
#include "geo/geo.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

extern char **environ;

/* ------------------------------------------------------------- helpers */

static const char *
env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return (v != NULL && v[0] != '\0') ? v : def;
}

static void
fixture_path(char *out, size_t cap)
{
    struct stat sb;

    (void)snprintf(out, cap, "%s/testdata/haze-test-city.mmdb",
                   env_or("HZ_BUILD", "build/release"));
    cr_assert(stat(out, &sb) == 0, "fixture %s missing: run `make testdata` (or make check)", out);
}

static hz_geo *
open_fixture(void)
{
    char path[512];
    struct hz_err err;
    hz_geo *g = NULL;

    fixture_path(path, sizeof(path));
    cr_assert_eq(hz_geo_open(&g, path, &err), 0, "open %s: %s", path, err.msg);
    cr_assert_not_null(g);
    return g;
}

/* Parses a textual IPv4/IPv6 address into ss (test input is trusted). */
static void
addr_of(const char *text, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (strchr(text, ':') != NULL) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        cr_assert_eq(inet_pton(AF_INET6, text, &s6->sin6_addr), 1, "bad test address %s", text);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        cr_assert_eq(inet_pton(AF_INET, text, &s4->sin_addr), 1, "bad test address %s", text);
    }
}

/* Looks text up and returns the region in out (HZ_REGION_MAX bytes). */
static void
region_of(const hz_geo *g, const char *text, char *out)
{
    struct sockaddr_storage ss;
    struct hz_region r;

    addr_of(text, &ss);
    memset(&r, 'x', sizeof(r)); /* lookup must overwrite, not append */
    cr_assert_eq(hz_geo_lookup(g, (const struct sockaddr *)&ss, &r), 0);
    cr_assert(memchr(r.code, '\0', sizeof(r.code)) != NULL, "region not NUL-terminated");
    memcpy(out, r.code, HZ_REGION_MAX);
}

/* A region is "", "CC" or "CC-SUB" (SUB 1-3 of A-Z 0-9). */
static int
region_shape_ok(const char *c)
{
    size_t n = strlen(c);

    if (n == 0)
        return 1;
    if (n < 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z')
        return 0;
    if (n == 2)
        return 1;
    if (c[2] != '-' || n < 4 || n > 6)
        return 0;
    for (size_t i = 3; i < n; i++)
        if (!((c[i] >= 'A' && c[i] <= 'Z') || (c[i] >= '0' && c[i] <= '9')))
            return 0;
    return 1;
}

static char *
make_tmpdir(void)
{
    char tmpl[] = "/tmp/hz-geo-test.XXXXXX";
    char *d = mkdtemp(tmpl);

    cr_assert_not_null(d, "mkdtemp: %s", strerror(errno));
    return strdup(d);
}

/* Removes dir and the plain files in it. */
static void
rm_tmpdir(char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];

    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            (void)snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
            (void)unlink(p);
        }
        (void)closedir(d);
    }
    (void)rmdir(dir);
    free(dir);
}

/* Reads a whole file; *len gets its size. The caller frees. */
static unsigned char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long sz = 0;

    cr_assert_not_null(f, "open %s: %s", path, strerror(errno));
    cr_assert(fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0);
    buf = malloc((size_t)sz);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)sz, f), (size_t)sz);
    (void)fclose(f);
    *len = (size_t)sz;
    return buf;
}

static void
spew(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");

    cr_assert_not_null(f, "create %s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(buf, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

/* Runs argv, waits, returns the exit status (or -1 on a signal). */
static int
run(char *const argv[])
{
    pid_t pid;
    int st;

    cr_assert_eq(posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ), 0, "spawn %s", argv[0]);
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Builds dir/NAME.mmdb from a spec with our own script. type may be NULL
 * (the script's default, Haze-Test-City); lax skips its code checks. */
static void
build_db(const char *dir, const char *name, const char *spec, const char *type, int lax, char *out,
         size_t cap)
{
    char script[512], tsv[512];
    char *argv[8];
    int n = 0;

    (void)snprintf(script, sizeof(script), "%s/tests/data/make-mmdb.pl", env_or("HZ_SRC", "."));
    (void)snprintf(tsv, sizeof(tsv), "%s/%s.tsv", dir, name);
    (void)snprintf(out, cap, "%s/%s.mmdb", dir, name);
    spew(tsv, spec, strlen(spec));
    argv[n++] = (char *)"perl";
    argv[n++] = script;
    if (type != NULL) {
        argv[n++] = (char *)"--type";
        argv[n++] = (char *)type;
    }
    if (lax)
        argv[n++] = (char *)"--lax";
    argv[n++] = tsv;
    argv[n++] = out;
    argv[n] = NULL;
    cr_assert_eq(run(argv), 0, "perl %s failed for %s", script, name);
}

/* ------------------------------------------------- the fixture, by table */

struct geo_case {
    char ip[48];
    char want[HZ_REGION_MAX];
};

/* clang-format off */
static struct geo_case fixture_cases[] = {
    /* first and last address of each IPv4 line, and IPv4-mapped IPv6 */
    {"192.0.2.0", "DE-BY"},         {"192.0.2.255", "DE-BY"},
    {"::ffff:192.0.2.1", "DE-BY"},  {"::ffff:192.0.2.255", "DE-BY"},
    {"198.51.100.0", "US-CA"},      {"198.51.100.255", "US-CA"},
    {"203.0.113.0", "CN-JS"},       {"203.0.113.255", "CN-JS"},
    {"100.64.1.0", "GB-ENG"},       {"100.64.1.255", "GB-ENG"},
    {"100.64.2.0", "BR-SP"},        {"100.64.2.255", "BR-SP"},
    {"100.64.3.0", "IN-MH"},        {"100.64.3.255", "IN-MH"},
    {"100.64.4.0", "FR-IDF"},       {"100.64.4.255", "FR-IDF"},
    {"100.64.5.0", "JP-13"},        {"100.64.5.255", "JP-13"},
    {"100.64.6.0", "US-NY"},        {"100.64.6.255", "US-NY"},
    {"100.64.7.0", "DE-BE"},        {"100.64.7.255", "DE-BE"},
    {"100.64.8.0", "NL"},           {"100.64.8.255", "NL"},
    {"::ffff:100.64.8.7", "NL"},    {"100.64.9.0", ""},
    {"100.64.9.255", ""},           {"::ffff:100.64.9.9", ""},
    /* IPv6 lines */
    {"2001:db8:1::", "FR-IDF"},     {"2001:db8:1:ffff:ffff:ffff:ffff:ffff", "FR-IDF"},
    {"2001:db8:2::", "JP-13"},      {"2001:db8:2:ffff:ffff:ffff:ffff:ffff", "JP-13"},
    {"2001:db8:3::", "AU"},         {"2001:db8:3:ffff:ffff:ffff:ffff:ffff", "AU"},
    /* 6to4 is aliased to IPv4 by the writer: 2002:c000:0201:: is 192.0.2.1 */
    {"2002:c000:201::", "DE-BY"},
    /* neighbours and addresses the fixture does not hold */
    {"192.0.1.255", ""},            {"192.0.3.0", ""},
    {"100.64.0.255", ""},           {"100.64.10.0", ""},
    {"1.1.1.1", ""},                {"8.8.8.8", ""},
    {"127.0.0.1", ""},              {"10.0.0.1", ""},
    {"0.0.0.0", ""},                {"255.255.255.255", ""},
    {"::", ""},                     {"::1", ""},
    {"2001:db8::1", ""},            {"2001:db8:4::", ""},
    {"fe80::1", ""},                {"ff02::1", ""},
    {"::ffff:8.8.8.8", ""},         {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ""},
};
/* clang-format on */

ParameterizedTestParameters(geo_fixture, lookup)
{
    return cr_make_param_array(struct geo_case, fixture_cases,
                               sizeof(fixture_cases) / sizeof(fixture_cases[0]));
}

ParameterizedTest(struct geo_case *c, geo_fixture, lookup)
{
    hz_geo *g = open_fixture();
    char got[HZ_REGION_MAX];

    region_of(g, c->ip, got);
    cr_expect_str_eq(got, c->want, "%s: got '%s', want '%s'", c->ip, got, c->want);
    hz_geo_close(g);
}

/* --------------------------------------------- the fixture, from its spec */

struct spec_net {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;
    char region[HZ_REGION_MAX];
};

/* Parses "a.b.c.d/n" or "v6/n" into net. */
static void
spec_parse_net(const char *text, struct spec_net *net)
{
    char buf[64];
    const char *slash = strchr(text, '/');

    cr_assert_not_null(slash, "spec network without prefix: %s", text);
    cr_assert_lt((size_t)(slash - text), sizeof(buf));
    memcpy(buf, text, (size_t)(slash - text));
    buf[slash - text] = '\0';
    memset(net->addr, 0, sizeof(net->addr));
    net->family = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET;
    cr_assert_eq(inet_pton(net->family, buf, net->addr), 1, "spec network %s", text);
    net->prefix = atoi(slash + 1);
    cr_assert(net->prefix >= 0 && net->prefix <= (net->family == AF_INET ? 32 : 128));
}

/* Sets every host bit of addr (nbytes long) after prefix to bit. */
static void
host_bits(unsigned char *addr, int nbytes, int prefix, int bit)
{
    for (int i = prefix; i < nbytes * 8; i++) {
        unsigned char m = (unsigned char)(0x80 >> (i % 8));
        if (bit)
            addr[i / 8] |= m;
        else
            addr[i / 8] &= (unsigned char)~m;
    }
}

static int
spec_contains(const struct spec_net *n, int family, const unsigned char *a)
{
    int full = n->prefix / 8, rem = n->prefix % 8;

    if (n->family != family || memcmp(n->addr, a, (size_t)full) != 0)
        return 0;
    return rem == 0 || ((n->addr[full] ^ a[full]) & (0xff << (8 - rem))) == 0;
}

/* Every line of tests/data/geo-fixture.tsv, probed at the first and last
 * address of its network (and as IPv4-mapped IPv6 for IPv4 lines). The
 * expected answer is the last line containing the probe: the writer's
 * "later line wins", so appended overlapping lines are handled too. */
Test(geo_fixture, every_spec_line)
{
    char path[512], line[256], text[64], got[HZ_REGION_MAX];
    struct spec_net nets[256];
    int n = 0, probes = 0;
    hz_geo *g = open_fixture();
    FILE *f;

    (void)snprintf(path, sizeof(path), "%s/tests/data/geo-fixture.tsv", env_or("HZ_SRC", "."));
    f = fopen(path, "r");
    cr_assert_not_null(f, "%s: %s (set HZ_SRC to the source tree)", path, strerror(errno));
    while (fgets(line, sizeof(line), f) != NULL) {
        char *net, *cc, *sub, *save = NULL;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\r\n")] = '\0';
        net = strtok_r(line, "\t", &save);
        cc = strtok_r(NULL, "\t", &save);
        sub = strtok_r(NULL, "\t", &save);
        cr_assert(net && cc && sub, "fixture line %d malformed", n + 1);
        cr_assert_lt(n, 256);
        spec_parse_net(net, &nets[n]);
        if (strcmp(cc, "-") == 0)
            nets[n].region[0] = '\0';
        else if (strcmp(sub, "-") == 0)
            (void)snprintf(nets[n].region, HZ_REGION_MAX, "%.2s", cc);
        else
            (void)snprintf(nets[n].region, HZ_REGION_MAX, "%.2s-%.3s", cc, sub);
        n++;
    }
    (void)fclose(f);
    cr_assert_geq(n, 15, "the fixture lost lines");

    for (int i = 0; i < n; i++) {
        for (int last = 0; last <= 1; last++) {
            int nbytes = nets[i].family == AF_INET ? 4 : 16;
            unsigned char a[16];
            const char *want = "";

            memcpy(a, nets[i].addr, sizeof(a));
            host_bits(a, nbytes, nets[i].prefix, last);
            for (int j = 0; j < n; j++)
                if (spec_contains(&nets[j], nets[i].family, a))
                    want = nets[j].region;
            cr_assert_not_null(inet_ntop(nets[i].family, a, text, sizeof(text)));
            region_of(g, text, got);
            cr_expect_str_eq(got, want, "%s: got '%s', want '%s'", text, got, want);
            probes++;
            if (nets[i].family == AF_INET) {
                char mapped[80];
                (void)snprintf(mapped, sizeof(mapped), "::ffff:%s", text);
                region_of(g, mapped, got);
                cr_expect_str_eq(got, want, "%s: got '%s', want '%s'", mapped, got, want);
                probes++;
            }
        }
    }
    cr_log_info("geo fixture: %d lines, %d probes", n, probes);
    hz_geo_close(g);
}

/* ------------------------------------------------------- odd lookups */

Test(geo_lookup, other_families_and_null_give_empty)
{
    hz_geo *g = open_fixture();
    struct sockaddr_un sun;
    struct sockaddr_storage ss;
    struct hz_region r;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memset(&r, 'x', sizeof(r));
    cr_assert_eq(hz_geo_lookup(g, (const struct sockaddr *)&sun, &r), 0);
    cr_assert_str_eq(r.code, "");

    memset(&ss, 0, sizeof(ss)); /* AF_UNSPEC */
    memset(&r, 'x', sizeof(r));
    cr_assert_eq(hz_geo_lookup(g, (const struct sockaddr *)&ss, &r), 0);
    cr_assert_str_eq(r.code, "");

    addr_of("192.0.2.1", &ss);
    memset(&r, 'x', sizeof(r));
    cr_assert_eq(hz_geo_lookup(NULL, (const struct sockaddr *)&ss, &r), 0);
    cr_assert_str_eq(r.code, "");
    memset(&r, 'x', sizeof(r));
    cr_assert_eq(hz_geo_lookup(g, NULL, &r), 0);
    cr_assert_str_eq(r.code, "");
    hz_geo_close(g);
}

Test(geo_lookup, port_and_scope_do_not_matter)
{
    hz_geo *g = open_fixture();
    struct sockaddr_storage ss;
    struct hz_region r;

    addr_of("198.51.100.7", &ss);
    ((struct sockaddr_in *)&ss)->sin_port = htons(443);
    cr_assert_eq(hz_geo_lookup(g, (const struct sockaddr *)&ss, &r), 0);
    cr_assert_str_eq(r.code, "US-CA");

    addr_of("2001:db8:2::9", &ss);
    ((struct sockaddr_in6 *)&ss)->sin6_port = htons(8080);
    ((struct sockaddr_in6 *)&ss)->sin6_scope_id = 3;
    ((struct sockaddr_in6 *)&ss)->sin6_flowinfo = htonl(0x12345);
    cr_assert_eq(hz_geo_lookup(g, (const struct sockaddr *)&ss, &r), 0);
    cr_assert_str_eq(r.code, "JP-13");

    addr_of("::ffff:203.0.113.77", &ss);
    ((struct sockaddr_in6 *)&ss)->sin6_port = htons(1);
    cr_assert_eq(hz_geo_lookup(g, (const struct sockaddr *)&ss, &r), 0);
    cr_assert_str_eq(r.code, "CN-JS");
    hz_geo_close(g);
}

Test(geo_lookup, close_null_is_noop)
{
    hz_geo_close(NULL);
}

/* Several threads share one handle (the collector's shape). */
struct thread_arg {
    const hz_geo *g;
    int bad;
};

static void *
lookup_thread(void *p)
{
    static const char *const ips[] = {"192.0.2.9", "2001:db8:1::5", "100.64.8.1", "1.1.1.1",
                                      "::ffff:100.64.5.200"};
    static const char *const want[] = {"DE-BY", "FR-IDF", "NL", "", "JP-13"};
    struct thread_arg *a = p;
    struct sockaddr_storage ss[5];
    struct hz_region r;

    for (int i = 0; i < 5; i++) {
        memset(&ss[i], 0, sizeof(ss[i]));
        if (strchr(ips[i], ':') != NULL) {
            ((struct sockaddr_in6 *)&ss[i])->sin6_family = AF_INET6;
            (void)inet_pton(AF_INET6, ips[i], &((struct sockaddr_in6 *)&ss[i])->sin6_addr);
        } else {
            ((struct sockaddr_in *)&ss[i])->sin_family = AF_INET;
            (void)inet_pton(AF_INET, ips[i], &((struct sockaddr_in *)&ss[i])->sin_addr);
        }
    }
    for (int k = 0; k < 20000; k++) {
        int i = k % 5;
        (void)hz_geo_lookup(a->g, (const struct sockaddr *)&ss[i], &r);
        if (strcmp(r.code, want[i]) != 0)
            a->bad++;
    }
    return NULL;
}

Test(geo_lookup, threads_share_one_handle)
{
    hz_geo *g = open_fixture();
    pthread_t t[4];
    struct thread_arg a[4];

    for (int i = 0; i < 4; i++) {
        a[i].g = g;
        a[i].bad = 0;
        cr_assert_eq(pthread_create(&t[i], NULL, lookup_thread, &a[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(pthread_join(t[i], NULL), 0);
        cr_expect_eq(a[i].bad, 0, "thread %d: %d wrong answers", i, a[i].bad);
    }
    hz_geo_close(g);
}

/* ------------------------------------------------------ open failures */

/* Opening path must fail with a message that starts with the path. */
static void
expect_open_fails(const char *path, const char *why_part)
{
    struct hz_err err;
    hz_geo *g = (hz_geo *)0x1; /* must stay untouched */

    memset(&err, 0, sizeof(err));
    cr_assert_neq(hz_geo_open(&g, path, &err), 0, "%s opened", path);
    cr_assert_eq(g, (hz_geo *)0x1, "*out changed on error");
    cr_assert_eq(strncmp(err.msg, path, strlen(path)), 0, "message does not name the file: %s",
                 err.msg);
    cr_assert(strchr(err.msg, '\n') == NULL);
    if (why_part != NULL)
        cr_assert(strstr(err.msg, why_part) != NULL, "'%s' lacks '%s'", err.msg, why_part);
}

Test(geo_open, missing_file)
{
    char *dir = make_tmpdir();
    char path[512];
    struct hz_err err;
    hz_geo *g = NULL;

    (void)snprintf(path, sizeof(path), "%s/no-such.mmdb", dir);
    expect_open_fails(path, "No such file");
    cr_assert_eq(hz_geo_open(&g, path, &err), ENOENT);
    cr_assert_eq(hz_geo_open(&g, "", &err), HZ_EINVAL);
    rm_tmpdir(dir);
}

Test(geo_open, empty_file_directory_and_text)
{
    char *dir = make_tmpdir();
    char path[512];

    (void)snprintf(path, sizeof(path), "%s/empty.mmdb", dir);
    spew(path, "", 0);
    expect_open_fails(path, "empty");
    expect_open_fails(dir, "directory");
    (void)snprintf(path, sizeof(path), "%s/text.mmdb", dir);
    spew(path, "[geo]\ndatabase = nothing\n", 24);
    expect_open_fails(path, "MaxMind DB");
    (void)snprintf(path, sizeof(path), "%s/marker.mmdb", dir);
    /* The metadata marker and nothing after it. */
    spew(path, "\xab\xcd\xefMaxMind.com", 14);
    expect_open_fails(path, "MaxMind DB");
    rm_tmpdir(dir);
}

Test(geo_open, path_through_a_file)
{
    char fix[512], path[600];

    /* ENOTDIR: the errno path of the message, as EACCES would be for a
     * non-root user (tests often run as root, where modes do not apply). */
    fixture_path(fix, sizeof(fix));
    (void)snprintf(path, sizeof(path), "%s/inner.mmdb", fix);
    expect_open_fails(path, "Not a directory");
}

/* The fixture cut short at many sizes: the metadata lives at the end, so
 * every cut must be refused at open. */
Test(geo_open, truncated_copies)
{
    char *dir = make_tmpdir();
    char fix[512], path[512];
    unsigned char *buf;
    size_t len, cuts[12];
    int ncut = 0;

    fixture_path(fix, sizeof(fix));
    buf = slurp(fix, &len);
    cr_assert_gt(len, 400);
    cuts[ncut++] = 1;
    cuts[ncut++] = 3;
    cuts[ncut++] = 16;
    cuts[ncut++] = 100;
    cuts[ncut++] = len / 4;
    cuts[ncut++] = len / 2;
    cuts[ncut++] = len * 3 / 4;
    cuts[ncut++] = len - 200;
    cuts[ncut++] = len - 50;
    cuts[ncut++] = len - 10;
    cuts[ncut++] = len - 1;
    for (int i = 0; i < ncut; i++) {
        (void)snprintf(path, sizeof(path), "%s/cut-%zu.mmdb", dir, cuts[i]);
        spew(path, buf, cuts[i]);
        expect_open_fails(path, "MaxMind DB");
    }
    free(buf);
    rm_tmpdir(dir);
}

/* Every single-byte corruption of the fixture (and a head cut that keeps
 * the metadata): open either fails with a message naming the file, or
 * succeeds and every lookup still returns a well-formed region. Under
 * ASan this also proves no read leaves the mapping. */
Test(geo_open, corrupt_copies_fail_cleanly)
{
    static const char *const probes[] = {
        "192.0.2.1",        "198.51.100.200", "100.64.8.1",    "100.64.9.1", "1.1.1.1",
        "::ffff:192.0.2.1", "2001:db8:1::1",  "2001:db8:3::1", "::1",        "255.255.255.255"};
    char *dir = make_tmpdir();
    char fix[512], path[512], got[HZ_REGION_MAX];
    unsigned char *buf;
    size_t len;
    int opened = 0, refused = 0;

    fixture_path(fix, sizeof(fix));
    buf = slurp(fix, &len);
    (void)snprintf(path, sizeof(path), "%s/flip.mmdb", dir);
    for (size_t pos = 0; pos <= len; pos++) {
        struct hz_err err;
        hz_geo *g = NULL;

        if (pos < len) {
            buf[pos] ^= 0xa5;
            spew(path, buf, len);
            buf[pos] ^= 0xa5;
        } else {
            spew(path, buf + 64, len - 64); /* search tree head gone */
        }
        if (hz_geo_open_flags(&g, path, HZ_GEO_ANYTYPE, &err) != 0) {
            cr_assert_eq(strncmp(err.msg, path, strlen(path)), 0, "%s", err.msg);
            refused++;
            continue;
        }
        opened++;
        for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
            region_of(g, probes[i], got);
            cr_assert(region_shape_ok(got), "byte %zu: %s -> '%s'", pos, probes[i], got);
        }
        hz_geo_close(g);
    }
    cr_log_info("geo corrupt copies: %d opened, %d refused", opened, refused);
    cr_assert_gt(refused, 0);
    free(buf);
    rm_tmpdir(dir);
}

/* ------------------------------------- databases made for one test each */

Test(geo_open, wrong_database_type_is_refused)
{
    char *dir = make_tmpdir();
    char path[512];
    struct hz_err err;
    hz_geo *g = NULL;

    build_db(dir, "asn", "192.0.2.0/24\tDE\tBY\n", "Haze-Test-ASN", 0, path, sizeof(path));
    expect_open_fails(path, "'Haze-Test-ASN'");
    /* The type check is the only thing that refused it. */
    cr_assert_eq(hz_geo_open_flags(&g, path, HZ_GEO_ANYTYPE, &err), 0, "%s", err.msg);
    hz_geo_close(g);
    rm_tmpdir(dir);
}

Test(geo_open, country_database_type_is_accepted)
{
    char *dir = make_tmpdir();
    char path[512], got[HZ_REGION_MAX];
    struct hz_err err;
    hz_geo *g = NULL;

    build_db(dir, "country", "192.0.2.0/24\tDE\t-\n", "GeoLite2-Country", 0, path, sizeof(path));
    cr_assert_eq(hz_geo_open(&g, path, &err), 0, "%s", err.msg);
    region_of(g, "192.0.2.3", got);
    cr_assert_str_eq(got, "DE");
    hz_geo_close(g);
    rm_tmpdir(dir);
}

struct odd_case {
    char spec[64];
    char want[HZ_REGION_MAX];
};

/* Codes that are not ISO shaped are dropped, never repaired. */
/* clang-format off */
static struct odd_case odd_cases[] = {
    {"192.0.2.0/24\tde\tBY", ""},       /* lowercase country */
    {"192.0.2.0/24\tDEU\tBY", ""},      /* alpha-3 */
    {"192.0.2.0/24\tD\t-", ""},         /* one letter */
    {"192.0.2.0/24\tD1\tBY", ""},       /* digit in country */
    {"192.0.2.0/24\t-\tBY", ""},        /* subdivision without country */
    {"192.0.2.0/24\tDE\tby", "DE"},     /* lowercase subdivision */
    {"192.0.2.0/24\tDE\tBAYE", "DE"},   /* four characters */
    {"192.0.2.0/24\tDE\tB-Y", "DE"},    /* punctuation */
    {"192.0.2.0/24\tDE\tÄB", "DE"},     /* non-ASCII */
    {"192.0.2.0/24\tDE\tE", "DE-E"},    /* one character is fine */
    {"192.0.2.0/24\tCN\t22", "CN-22"},  /* numeric is fine */
    {"192.0.2.0/24\tFR\tIDF", "FR-IDF"}, /* three is fine */
};
/* clang-format on */

ParameterizedTestParameters(geo_odd, codes_are_validated)
{
    return cr_make_param_array(struct odd_case, odd_cases,
                               sizeof(odd_cases) / sizeof(odd_cases[0]));
}

ParameterizedTest(struct odd_case *c, geo_odd, codes_are_validated)
{
    char *dir = make_tmpdir();
    char spec[96], path[512], got[HZ_REGION_MAX];
    struct hz_err err;
    hz_geo *g = NULL;

    (void)snprintf(spec, sizeof(spec), "%s\n", c->spec);
    build_db(dir, "odd", spec, NULL, 1, path, sizeof(path));
    cr_assert_eq(hz_geo_open(&g, path, &err), 0, "%s", err.msg);
    region_of(g, "192.0.2.10", got);
    cr_expect_str_eq(got, c->want, "spec '%s': got '%s', want '%s'", c->spec, got, c->want);
    region_of(g, "::ffff:192.0.2.10", got);
    cr_expect_str_eq(got, c->want, "mapped, spec '%s'", c->spec);
    hz_geo_close(g);
    rm_tmpdir(dir);
}

/* ----------------------------------- MaxMind's test data (../shared) */

/* Finds ../shared/geo/testdata (or $HZ_SHARED/geo/testdata), or skips. */
static void
shared_dir(char *out, size_t cap)
{
    struct stat sb;

    (void)snprintf(out, cap, "%s/geo/testdata", env_or("HZ_SHARED", "../shared"));
    if (stat(out, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        /* [SKIP] shows only with --verbose: say it at the default level too. */
        cr_log_warn("geo cross-check skipped: %s not present (set HZ_SHARED)", out);
        cr_skip_test("cross-check skipped: %s not present (set HZ_SHARED)", out);
    }
}

/* expected-regions.tsv: db, network, probe_ip, country, subdivision1,
 * subdivision2, registered_country, represented_country, region. Every
 * probe of every database it lists must give its region column. */
Test(geo_shared, expected_regions_agree)
{
    char dir[512], path[600], line[512], opened_db[64] = "", got[HZ_REGION_MAX];
    int rows = 0, bad = 0, dbs = 0;
    hz_geo *g = NULL;
    FILE *f;

    shared_dir(dir, sizeof(dir));
    (void)snprintf(path, sizeof(path), "%s/expected-regions.tsv", dir);
    f = fopen(path, "r");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_not_null(fgets(line, sizeof(line), f));
    cr_assert_eq(strncmp(line, "db\tnetwork\tprobe_ip\t", 20), 0, "unexpected header: %s", line);
    while (fgets(line, sizeof(line), f) != NULL) {
        char *col[9], *p = line;
        int n = 0;

        line[strcspn(line, "\r\n")] = '\0';
        while (n < 9) {
            col[n++] = p;
            p = strchr(p, '\t');
            if (p == NULL)
                break;
            *p++ = '\0';
        }
        cr_assert_eq(n, 9, "%s: row %d has %d columns", path, rows + 2, n);
        if (strcmp(col[0], opened_db) != 0) {
            struct hz_err err;
            hz_geo_close(g);
            g = NULL;
            (void)snprintf(path, sizeof(path), "%s/%s.mmdb", dir, col[0]);
            cr_assert_eq(hz_geo_open(&g, path, &err), 0, "%s", err.msg);
            (void)snprintf(opened_db, sizeof(opened_db), "%s", col[0]);
            dbs++;
        }
        region_of(g, col[2], got);
        if (strcmp(got, col[8]) != 0) {
            if (bad < 20)
                cr_log_error("%s %s: got '%s', want '%s'", col[0], col[2], got, col[8]);
            bad++;
        }
        rows++;
    }
    (void)fclose(f);
    hz_geo_close(g);
    cr_log_info("geo cross-check: %d databases, %d probes, %d mismatches", dbs, rows, bad);
    cr_assert_geq(dbs, 4);
    cr_assert_gt(rows, 2000);
    cr_assert_eq(bad, 0, "%d of %d probes disagree with expected-regions.tsv", bad, rows);
}

/* The README's hand-checked cases, aliases included. */
Test(geo_shared, readme_cases)
{
    static const struct {
        const char *db, *ip, *want;
    } cases[] = {
        {"GeoIP2-City-Test", "81.2.69.142", "GB-ENG"},
        {"GeoIP2-City-Test", "::ffff:81.2.69.142", "GB-ENG"},
        {"GeoIP2-City-Test", "2002:5102:458e::", "GB-ENG"},
        {"GeoIP2-City-Test", "175.16.199.1", "CN-22"},
        {"GeoIP2-City-Test", "89.160.20.128", "SE-E"},
        {"GeoIP2-City-Test", "2001:480:10::1", "US-CA"},
        {"GeoIP2-City-Test", "149.101.100.1", "US"},
        {"GeoIP2-City-Test", "214.1.1.1", ""},
        {"GeoIP2-City-Test", "2.3.3.1", ""},
        {"GeoIP2-City-Test", "1.1.1.1", ""},
        {"GeoIP2-City-Test", "::1", ""},
        {"GeoLite2-City-Test", "2.125.160.216", "GB-ENG"},
        {"GeoLite2-City-Test", "214.78.120.1", ""},
        {"GeoIP2-Country-Test", "81.2.69.142", "GB"},
        {"GeoIP2-Country-Test", "::ffff:216.160.83.56", "US"},
        {"GeoLite2-Country-Test", "202.196.224.1", "PH"},
    };
    char dir[512], path[600], got[HZ_REGION_MAX];

    shared_dir(dir, sizeof(dir));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hz_err err;
        hz_geo *g = NULL;
        (void)snprintf(path, sizeof(path), "%s/%s.mmdb", dir, cases[i].db);
        cr_assert_eq(hz_geo_open(&g, path, &err), 0, "%s", err.msg);
        region_of(g, cases[i].ip, got);
        cr_expect_str_eq(got, cases[i].want, "%s %s", cases[i].db, cases[i].ip);
        hz_geo_close(g);
    }
}

/* Databases that are not City/Country, or damaged: hz_geo_open refuses
 * them with a message naming the file; opened anyway (HZ_GEO_ANYTYPE),
 * their lookups give "" or a well-formed region, and never crash. */
Test(geo_shared, bad_and_foreign_databases_are_clean)
{
    static const char *const files[] = {
        "bad-data/libmaxminddb-deep-nesting.mmdb",
        "bad-data/libmaxminddb-metadata-marker-only.mmdb",
        "MaxMind-DB-test-broken-pointers-24.mmdb",
        "MaxMind-DB-test-broken-search-tree-24.mmdb",
        "MaxMind-DB-test-ipv4-24.mmdb",
        "MaxMind-DB-test-mixed-24.mmdb",
        "MaxMind-DB-no-ipv4-search-tree.mmdb",
        "GeoIP2-Anonymous-IP-Test.mmdb",
    };
    static const char *const probes[] = {
        "1.1.1.1", "1.1.1.16",  "1.1.1.32",   "128.128.128.128", "255.255.255.255",
        "0.0.0.0", "81.2.69.1", "::1.1.1.1",  "::ffff:1.1.1.1",  "2001:db8::1",
        "::",      "::1",       "ffff::ffff", "2002:101:101::",  "8.8.8.8",
    };
    char dir[512], path[1024], bad_dir[600], got[HZ_REGION_MAX];
    int refused = 0, opened = 0;
    DIR *d;
    struct dirent *e;

    shared_dir(dir, sizeof(dir));
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct hz_err err;
        hz_geo *g = NULL;
        struct stat sb;

        (void)snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        if (stat(path, &sb) != 0)
            continue; /* a smaller copy of the test data */
        expect_open_fails(path, NULL);
        refused++;
        if (hz_geo_open_flags(&g, path, HZ_GEO_ANYTYPE, &err) != 0) {
            cr_assert_eq(strncmp(err.msg, path, strlen(path)), 0, "%s", err.msg);
            continue;
        }
        opened++;
        for (size_t k = 0; k < sizeof(probes) / sizeof(probes[0]); k++) {
            region_of(g, probes[k], got);
            cr_assert(region_shape_ok(got), "%s %s -> '%s'", files[i], probes[k], got);
        }
        hz_geo_close(g);
    }
    /* Whatever else bad-data/ holds gets the same treatment. */
    (void)snprintf(bad_dir, sizeof(bad_dir), "%s/bad-data", dir);
    if ((d = opendir(bad_dir)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            struct hz_err err;
            hz_geo *g = NULL;
            size_t n = strlen(e->d_name);
            if (n < 5 || strcmp(e->d_name + n - 5, ".mmdb") != 0)
                continue;
            (void)snprintf(path, sizeof(path), "%s/%s", bad_dir, e->d_name);
            if (hz_geo_open_flags(&g, path, HZ_GEO_ANYTYPE, &err) != 0) {
                cr_assert_eq(strncmp(err.msg, path, strlen(path)), 0, "%s", err.msg);
                continue;
            }
            for (size_t k = 0; k < sizeof(probes) / sizeof(probes[0]); k++) {
                region_of(g, probes[k], got);
                cr_assert(region_shape_ok(got), "%s %s -> '%s'", e->d_name, probes[k], got);
            }
            hz_geo_close(g);
        }
        (void)closedir(d);
    }
    cr_log_info("geo bad data: %d refused by type or format, %d opened with ANYTYPE", refused,
                opened);
    cr_assert_gt(refused, 0);
}

/* Each thread remembers the region of the records it read (geo.c,
 * geo_memo): two databases whose records sit at the same places but say
 * different things, read in turn on one thread, each keep their own
 * answers, and so does one reopened over another's freed handle. */
Test(geo_lookup, memo_is_per_database)
{
    char *dir = make_tmpdir();
    char pa[512], pb[512], got[HZ_REGION_MAX];
    struct hz_err err;
    hz_geo *a = NULL, *b = NULL;

    build_db(dir, "a", "192.0.2.0/24\tDE\tBY\n", NULL, 1, pa, sizeof(pa));
    build_db(dir, "b", "192.0.2.0/24\tFR\tIDF\n", NULL, 1, pb, sizeof(pb));
    cr_assert_eq(hz_geo_open(&a, pa, &err), 0, "%s", err.msg);
    cr_assert_eq(hz_geo_open(&b, pb, &err), 0, "%s", err.msg);
    for (int i = 0; i < 3; i++) {
        region_of(a, "192.0.2.10", got);
        cr_assert_str_eq(got, "DE-BY");
        region_of(b, "192.0.2.10", got);
        cr_assert_str_eq(got, "FR-IDF");
        region_of(a, "192.0.2.200", got);
        cr_assert_str_eq(got, "DE-BY");
    }
    hz_geo_close(a);
    a = NULL;
    cr_assert_eq(hz_geo_open(&a, pb, &err), 0, "%s", err.msg);
    region_of(b, "192.0.2.10", got);
    cr_assert_str_eq(got, "FR-IDF");
    hz_geo_close(a);
    cr_assert_eq(hz_geo_open(&a, pa, &err), 0, "%s", err.msg);
    region_of(a, "192.0.2.10", got);
    cr_assert_str_eq(got, "DE-BY");
    region_of(b, "192.0.2.10", got);
    cr_assert_str_eq(got, "FR-IDF");
    hz_geo_close(a);
    hz_geo_close(b);
    rm_tmpdir(dir);
}
