/* SPDX-License-Identifier: MIT */
/*
 * main.c - haze-geo, the operator's check of a MaxMind database:
 *
 *   haze-geo -c FILE [-t] [IP...]     database from [geo] database
 *   haze-geo -d DBFILE [-t] [IP...]   database given directly (tests)
 *
 * Prints "IP<TAB>REGION" for each address (REGION "-" when unknown), or
 * "IP<TAB>invalid" for text that is not an IPv4/IPv6 address. Without IP
 * arguments it reads addresses from stdin, one a line. -t only checks the
 * configuration and the database and prints "FILE: configuration OK".
 *
 * Exit status: 0 all looked up, 1 usage, configuration or database error
 * (one line on stderr), 2 some input was not an address.
 *
 * The addresses here are the operator's own input, echoed back to the
 * operator's terminal; nothing is logged or kept, and each parsed address
 * is wiped after its lookup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/net.h"
#include "geo/geo.h"

/* Longest input line taken from stdin; longer lines are "invalid". */
#define GEO_LINE_MAX 256

static void
geo_usage(void)
{
    hz_errx("usage: haze-geo -c FILE [-t] [IP...]\n"
            "       haze-geo -d DBFILE [-t] [IP...]");
    exit(1);
}

/* Looks one textual address up and prints its line. 0, or 2 when the
 * text is not an address. */
static int
geo_print(const hz_geo *g, const char *text, size_t len)
{
    struct sockaddr_storage ss;
    struct hz_region r;
    int rc = 0;

    if (hz_ip_parse(text, len, &ss) != 0) {
        hz_out("%.*s\tinvalid", (int)(len > 64 ? 64 : len), text);
        rc = 2;
    } else {
        (void)hz_geo_lookup(g, (const struct sockaddr *)&ss, &r);
        hz_out("%.*s\t%s", (int)len, text, r.code[0] != '\0' ? r.code : "-");
    }
    explicit_bzero(&ss, sizeof(ss));
    return rc;
}

/* Reads addresses from stdin, one a line (blank lines skipped). */
static int
geo_stdin(const hz_geo *g)
{
    char line[GEO_LINE_MAX];
    int rc = 0;

    while (fgets(line, sizeof(line), stdin) != NULL) {
        size_t n = strlen(line);
        int whole = n > 0 && line[n - 1] == '\n';

        if (!whole && !feof(stdin)) {
            int ch;
            while ((ch = getchar()) != EOF && ch != '\n')
                continue;
            hz_out("%.64s\tinvalid", line);
            rc = 2;
            continue;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            n--;
        if (n > 0 && geo_print(g, line, n) != 0)
            rc = 2;
        explicit_bzero(line, sizeof(line));
    }
    return rc;
}

int
main(int argc, char **argv)
{
    const char *cfgpath = NULL, *dbpath = NULL;
    struct hz_config *cfg = NULL;
    struct hz_err err;
    hz_geo *g = NULL;
    int ch, test = 0, rc = 0;

    hz_log_init("haze-geo", 1);
    while ((ch = getopt(argc, argv, "c:d:th")) != -1) {
        switch (ch) {
        case 'c':
            cfgpath = optarg;
            break;
        case 'd':
            dbpath = optarg;
            break;
        case 't':
            test = 1;
            break;
        default:
            geo_usage();
        }
    }
    argc -= optind;
    argv += optind;
    if (cfgpath == NULL && dbpath == NULL)
        geo_usage();

    /* Configuration first: -t checks it even when -d names the database. */
    if (cfgpath != NULL) {
        cfg = calloc(1, sizeof(*cfg)); /* large (sites, funnels): not on the stack */
        if (cfg == NULL)
            hz_fatal("main: calloc");
        if (hz_cfg_load(cfg, cfgpath, &err) != 0) {
            hz_errx("%s", err.msg);
            rc = 1;
            goto done;
        }
        if (dbpath == NULL) {
            if (cfg->geo_database[0] == '\0') {
                hz_errx("%s: [geo] database: required", cfgpath);
                rc = 1;
                goto done;
            }
            dbpath = cfg->geo_database;
        }
    }
    if (hz_geo_open(&g, dbpath, &err) != 0) {
        hz_errx("%s", err.msg);
        rc = 1;
        goto done;
    }
    if (test) {
        if (cfgpath != NULL)
            hz_out("%s: configuration OK", cfgpath);
        else
            hz_out("%s: database OK", dbpath);
        goto done;
    }

    if (argc == 0)
        rc = geo_stdin(g);
    for (int i = 0; i < argc; i++)
        if (geo_print(g, argv[i], strlen(argv[i])) != 0)
            rc = 2;

done:
    hz_geo_close(g);
    if (cfg != NULL) {
        hz_cfg_free(cfg);
        free(cfg);
    }
    return rc;
}
