/* SPDX-License-Identifier: MIT */
/*
 * xq_run.c - answers stats API questions the way haze-dashboard does
 * (parse, run against the store, render JSON), without the HTTP layer or
 * the answer cache: for callgrind profiles of one question and for
 * comparing answers byte for byte across a change (tests/bench/xq_same.sh).
 *
 *   xq_run CONFIG NOW ROUTE QUERY [REPEAT]
 *   xq_run CONFIG NOW -                 (lines "ROUTE QUERY" on stdin)
 *
 * CONFIG is a haze.ini (its lmdb and [site] sections), NOW unix seconds
 * ("today" for the periods), ROUTE aggregate, timeseries or breakdown with
 * QUERY a v1 query string without '?', or v2 with QUERY a v2 JSON body.
 * Prints each answer (or the error) on one line. REPEAT runs the question
 * that many times (a cold answer each time: there is no cache here) and
 * prints the last. XQ_THREADS=0 (or 2) in the environment sets when the
 * helper thread reads (hz_xscan_threads): 0 for instruction counts that
 * do not move with the threads' timing.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfg.h"
#include "common/store.h"
#include "dashboard/api.h"
#include "dashboard/query.h"
#include "dashboard/xscan.h"

static struct hz_config cfg;

static enum hz_api_route
route_of(const char *s)
{
    if (strcmp(s, "aggregate") == 0)
        return HZ_API_AGGREGATE;
    if (strcmp(s, "timeseries") == 0)
        return HZ_API_TIMESERIES;
    if (strcmp(s, "breakdown") == 0)
        return HZ_API_BREAKDOWN;
    if (strcmp(s, "v2") == 0)
        return HZ_API_V2;
    fprintf(stderr, "xq_run: route: aggregate, timeseries, breakdown or v2\n");
    exit(2);
}

/* Answers one question: prints its JSON (or "error: ...") and a newline. */
static void
answer(hz_store *s, int64_t now, const char *route, const char *qs, long repeat)
{
    struct hz_qopts o = {(uint64_t)cfg.min_visitors, cfg.retention_days};
    struct hz_query q;
    struct hz_err err = {0};
    char *out = NULL;
    size_t len = 0;

    enum hz_api_route rt = route_of(route);
    int rc = rt == HZ_API_V2 ? hz_api_parse_v2(qs, strlen(qs), &cfg, now, &q, &err)
                             : hz_api_parse_v1(rt, qs, strlen(qs), &cfg, now, &q, &err);

    if (rc != 0) {
        printf("error: %s\n", err.msg);
        return;
    }
    for (long i = 0; i < repeat; i++) {
        hz_rtxn *t;
        struct hz_qres r;
        struct hz_jsonw w;
        free(out);
        out = NULL;
        if (hz_store_rbegin(s, &t, &err) != 0) {
            fprintf(stderr, "xq_run: %s\n", err.msg);
            exit(1);
        }
        hz_qres_init(&r);
        if (hz_query_run(t, &q, &o, &r, &err) != 0) {
            printf("error: %s\n", err.msg);
            hz_qres_free(&r);
            hz_store_rend(t);
            return;
        }
        hz_jsonw_init(&w);
        if (rt == HZ_API_V2)
            hz_api_v2(&w, &q, &r, o.min_visitors);
        else
            hz_api_v1(&w, &q, &r);
        out = hz_jsonw_take(&w, &len);
        hz_qres_free(&r);
        hz_store_rend(t);
    }
    fwrite(out, 1, len, stdout);
    putchar('\n');
    free(out);
}

int
main(int argc, char **argv)
{
    struct hz_err err = {0};
    hz_store *s;
    int64_t now;

    /* haze-dashboard's heap settings (dashboard/main.c): freed tables stay
     * for the next question. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    if (argc < 4 || (strcmp(argv[3], "-") != 0 && argc < 5)) {
        fprintf(stderr, "usage: xq_run CONFIG NOW ROUTE QUERY [REPEAT] | xq_run CONFIG NOW -\n");
        return 2;
    }
    if (hz_cfg_load(&cfg, argv[1], &err) != 0 || hz_store_open(&s, cfg.lmdb, 1, 0, &err) != 0) {
        fprintf(stderr, "xq_run: %s\n", err.msg);
        return 1;
    }
    now = strtoll(argv[2], NULL, 10);
    if (getenv("XQ_THREADS") != NULL) /* 0: one thread reads (steady callgrind counts) */
        hz_xscan_threads((int)strtol(getenv("XQ_THREADS"), NULL, 10));
    if (strcmp(argv[3], "-") != 0) {
        answer(s, now, argv[3], argv[4], argc > 5 ? strtol(argv[5], NULL, 10) : 1);
    } else {
        char line[8192];
        while (fgets(line, sizeof(line), stdin) != NULL) {
            char *sp = strchr(line, ' ');
            line[strcspn(line, "\n")] = '\0';
            if (sp == NULL)
                continue;
            *sp = '\0';
            answer(s, now, line, sp + 1, 1);
        }
    }
    hz_store_close(s);
    hz_cfg_free(&cfg);
    return 0;
}
