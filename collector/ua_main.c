/* SPDX-License-Identifier: MIT */
/*
 * ua_main.c - haze-ua: reads user agents from stdin, one a line, and prints
 * "browser<TAB>os<TAB>device<TAB>bot" for each (DESIGN.md's families), so an
 * operator can check what the collector would count.
 *
 * Lines are cut at "\n" and a trailing "\r" is dropped. A line longer than
 * UA_LINE_MAX is classified on its first UA_LINE_MAX bytes and the rest is
 * skipped (the classifier reads at most HZ_UA_MAX of them anyway). The UAs
 * are echoed nowhere: only their families are printed.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collector/ua.h"
#include "common/log.h"

#define UA_LINE_MAX 8192

#define UA_USAGE                                                                                   \
    "usage: haze-ua [-hnV] < user-agents\n"                                                        \
    "  reads one user agent a line, prints browser<TAB>os<TAB>device<TAB>bot\n"                    \
    "  -n  classify every line afresh (no cache; for benchmarks)\n"                                \
    "  -V, --version  print the versions of the databases built in\n"                              \
    "  -h  this help"

/*
 * Reads one line into buf (at most UA_LINE_MAX bytes, no terminator kept)
 * and skips what is left of a longer line. Returns the length, or -1 at the
 * end of input (or on a read error: the caller checks ferror).
 */
static long
read_line(FILE *in, char *buf)
{
    size_t n = 0;
    int c;

    while (n < UA_LINE_MAX && (c = getc_unlocked(in)) != EOF) {
        if (c == '\n')
            goto done;
        buf[n++] = (char)c;
    }
    if (n == 0 && (feof(in) || ferror(in)))
        return -1;
    if (n == UA_LINE_MAX) {
        /* Skip the tail of an overlong line. */
        while ((c = getc_unlocked(in)) != EOF && c != '\n')
            continue;
    }
done:
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    return (long)n;
}

/* Appends s to the line being built at *p. */
static char *
put(char *p, const char *s)
{
    size_t n = strlen(s);

    memcpy(p, s, n);
    return p + n;
}

int
main(int argc, char **argv)
{
    static struct hz_ua_cache cache;
    static char buf[UA_LINE_MAX];
    int nocache = 0, ch;
    long n;

    hz_log_init("haze-ua", 1);
    if (argc == 2 && strcmp(argv[1], "--version") == 0)
        argv[1] = (char *)"-V";
    opterr = 0; /* usage says it all */
    while ((ch = getopt(argc, argv, "hnV")) != -1) {
        switch (ch) {
        case 'V':
            hz_out("haze-ua: %s", hz_ua_versions());
            return 0;
        case 'n':
            nocache = 1;
            break;
        case 'h':
            hz_out("%s", UA_USAGE);
            return 0;
        default:
            hz_errx("%s", UA_USAGE);
            return 2;
        }
    }
    if (optind != argc) {
        hz_errx("%s", UA_USAGE);
        return 2;
    }
    hz_ua_cache_init(&cache);
    if (hz_ua_init() != 0)
        hz_errx("haze-ua: %zu database patterns did not compile and are left out", hz_ua_init());

    while ((n = read_line(stdin, buf)) >= 0) {
        struct hz_ua ua;
        char line[64], *p = line;

        if (nocache)
            hz_ua_classify(buf, (size_t)n, &ua);
        else
            hz_ua_classify_cached(&cache, buf, (size_t)n, &ua);
        /* Longest: "Internet Explorer\tChromeOS\tdesktop\tyes\n", 40 bytes. */
        p = put(p, hz_ua_browser_name(ua.browser));
        *p++ = '\t';
        p = put(p, hz_ua_os_name(ua.os));
        *p++ = '\t';
        p = put(p, hz_ua_device_name(ua.device));
        p = put(p, ua.bot ? "\tyes\n" : "\tno\n");
        if (fwrite(line, 1, (size_t)(p - line), stdout) != (size_t)(p - line))
            break;
    }
    explicit_bzero(buf, sizeof buf); /* the last UA read */
    if (ferror(stdin)) {
        hz_errx("haze-ua: read error on stdin");
        return 1;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        hz_errx("haze-ua: write error on stdout");
        return 1;
    }
    return 0;
}
