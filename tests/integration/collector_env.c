/* SPDX-License-Identifier: MIT */
/* collector_env.c - start and stop a collector with its own redis. */
#include "tests/integration/collector_env.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
ce_start(struct ce *e, int aof, const char *extra)
{
    ce_start_tail(e, aof, extra, NULL);
}

void
ce_start_tail(struct ce *e, int aof, const char *extra, const char *tail)
{
    char text[4096], geo[256], bin[256], tailbuf[2048] = "";

    memset(e, 0, sizeof(*e));
    ht_tmpdir(e->dir);
    /* "@DIR@" in tail stands for the test's folder. */
    for (const char *t = tail; t != NULL && *t;) {
        const char *at = strstr(t, "@DIR@");
        size_t n = at ? (size_t)(at - t) : strlen(t);
        size_t used = strlen(tailbuf);
        cr_assert_lt(used + n + sizeof(e->dir), sizeof(tailbuf));
        memcpy(tailbuf + used, t, n);
        tailbuf[used + n] = '\0';
        if (at == NULL)
            break;
        strcat(tailbuf, e->dir);
        t = at + 5;
    }
    tail = tailbuf;
    cr_assert_eq(ht_redis_start(&e->redis, e->dir, aof), 0, "redis-server did not start");
    e->port = ht_free_port();
    ht_geo_fixture(geo);
    snprintf(text, sizeof(text),
             "[redis]\naddress = %s\nstream = " CE_STREAM "\n"
             "[collector]\nlisten = 127.0.0.1:%d\n%sspool_dir = %s/spool\n"
             "%suser = root\n%s"
             "[geo]\ndatabase = %s\n"
             "[site example.com]\ntimezone = Europe/Berlin\n%s",
             e->redis.addr, e->port, extra && strstr(extra, "threads") ? "" : "threads = 2\n",
             e->dir,
             extra && strstr(extra, "trusted_proxies") ? "" : "trusted_proxies = 127.0.0.1/8 ::1\n",
             extra ? extra : "", geo, tail ? tail : "");
    ht_write_file(e->ini, e->dir, "haze.ini", text);
    ht_bin(bin, "haze-collector");
    const char *argv[] = {bin, "-c", e->ini, NULL};
    cr_assert_eq(ht_spawn(&e->collector, e->dir, "collector", argv), 0);
    if (ht_wait_port(e->port, 10000) != 0) {
        char *log = ht_slurp(e->collector.log, NULL);
        cr_assert_fail("collector did not listen: %s", log ? log : "(no log)");
    }
}

void
ce_stop(struct ce *e)
{
    int rc = ht_stop(&e->collector, 0, 10000);
    ht_redis_stop(&e->redis, 0);
    if (rc != 0) {
        char *log = ht_slurp(e->collector.log, NULL);
        cr_log_error("collector exit %d: %s", rc, log ? log : "");
        free(log);
    }
    cr_expect_eq(rc, 0, "the collector exits 0 on SIGTERM");
    ht_rmdir(e->dir);
}

int
ce_event(struct ce *e, const char *body, const char *extra_headers)
{
    struct ht_response r;
    char h[2048];
    int st;

    snprintf(h, sizeof(h), "Content-Type: text/plain\r\n%s%s",
             extra_headers && strstr(extra_headers, "User-Agent:") ? ""
                                                                   : "User-Agent: " CE_CHROME
                                                                     "\r\n",
             extra_headers ? extra_headers : "");
    if (ht_http(e->port, "POST", "/api/event", h, body, strlen(body), &r) != 0)
        return -1;
    st = r.status;
    ht_response_free(&r);
    return st;
}

char *
ce_xrange(struct ce *e)
{
    const char *args[] = {"XRANGE", CE_STREAM, "-", "+", NULL};
    return ht_redis_cli(&e->redis, args);
}

const char *
ce_field(const struct ce_entry *en, const char *name)
{
    for (int i = 0; i < en->n; i++)
        if (strcmp(en->name[i], name) == 0)
            return en->val[i];
    return NULL;
}

long
ce_metric(struct ce *e, const char *name)
{
    struct ht_response r;
    char key[96];
    long v = -1;

    if (ht_http(e->port, "GET", "/metrics", NULL, NULL, 0, &r) != 0)
        return -1;
    snprintf(key, sizeof(key), "\n%s ", name);
    const char *at = strstr(r.body, key);
    if (at != NULL)
        v = strtol(at + strlen(key), NULL, 10);
    ht_response_free(&r);
    return v;
}

int
ce_each(struct ce *e, void (*fn)(const struct ce_entry *en, void *arg), void *arg)
{
    hz_rs *rs = ht_rs_connect(&e->redis);
    char from[64] = "-";
    int count = 0;
    struct ce_entry *en = calloc(1, sizeof(*en));

    cr_assert_not_null(en);
    for (;;) {
        const char *argv[] = {"XRANGE", CE_STREAM, from, "+", "COUNT", "500"};
        size_t lens[6];
        hz_rs_reply *rep = NULL;
        struct hz_err err = {0};
        size_t n;

        for (int i = 0; i < 6; i++)
            lens[i] = strlen(argv[i]);
        if (hz_rs_command(rs, 6, argv, lens, &rep, &err) != 0 ||
            hz_rs_reply_type(rep) != HZ_RS_ARRAY) {
            hz_rs_reply_free(rep);
            count = -1;
            break;
        }
        n = hz_rs_reply_count(rep);
        for (size_t i = 0; i < n; i++) {
            const hz_rs_reply *x = hz_rs_reply_elem(rep, i), *kv = hz_rs_reply_elem(x, 1);
            const char *names[HZ_RECORD_FIELDS], *vals[HZ_RECORD_FIELDS], *nm, *v;
            size_t nlens[HZ_RECORD_FIELDS], vlens[HZ_RECORD_FIELDS], idl, pos = 0, nl, vl;
            const char *id = hz_rs_reply_str(hz_rs_reply_elem(x, 0), &idl);
            int nf = 0;

            memset(en, 0, sizeof(*en));
            snprintf(en->id, sizeof(en->id), "%.*s", (int)idl, id);
            snprintf(from, sizeof(from), "(%.*s", (int)idl, id);
            for (size_t j = 0; j + 1 < hz_rs_reply_count(kv) && nf < HZ_RECORD_FIELDS; j += 2) {
                names[nf] = hz_rs_reply_str(hz_rs_reply_elem(kv, j), &nlens[nf]);
                vals[nf] = hz_rs_reply_str(hz_rs_reply_elem(kv, j + 1), &vlens[nf]);
                nf += names[nf] != NULL && vals[nf] != NULL;
            }
            /* A batch (common/record.h): each of its records. */
            struct hz_record_part rp;
            size_t rpos = 0;
            while (hz_record_each(names, nlens, vals, vlens, nf, &rpos, &rp, NULL) == 1) {
                en->n = 0;
                pos = 0;
                while (en->n < 20 && hz_record_next(rp.names, rp.nlens, rp.vals, rp.vlens,
                                                    rp.nfields, &pos, &nm, &nl, &v, &vl) == 1) {
                    snprintf(en->name[en->n], sizeof(en->name[0]), "%.*s", (int)nl, nm);
                    snprintf(en->val[en->n], sizeof(en->val[0]), "%.*s", (int)vl, v);
                    en->n++;
                }
                fn(en, arg);
                count++;
            }
        }
        hz_rs_reply_free(rep);
        if (n < 500)
            break;
    }
    free(en);
    hz_rs_close(rs);
    return count;
}

struct ce_collect {
    struct ce_entry *out;
    int max, count, hits_only;
};

static void
ce_collect_one(const struct ce_entry *en, void *arg)
{
    struct ce_collect *c = arg;
    const char *k = ce_field(en, "k");

    if (c->hits_only && k != NULL && strcmp(k, "dr") == 0)
        return;
    if (c->count < c->max)
        c->out[c->count++] = *en;
}

int
ce_entries(struct ce *e, struct ce_entry *out, int max, int hits_only)
{
    struct ce_collect c = {out, max, 0, hits_only};

    if (ce_each(e, ce_collect_one, &c) < 0)
        return -1;
    return c.count;
}

int
ce_page_hit(struct ce *e, int i)
{
    char body[160];

    snprintf(body, sizeof(body),
             "{\"n\":\"pageview\",\"u\":\"https://example.com/p/%d/%d\",\"d\":\"example.com\"}",
             i / 1000, i % 1000);
    return ce_event(e, body, NULL);
}

void
ce_page_hits(struct ce *e, int from, int to)
{
    for (int i = from; i < to; i++) {
        int st = ce_page_hit(e, i);
        cr_assert_eq(st, 202, "hit %d: status %d", i, st);
    }
}

void
ce_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

long
ce_wait_above(struct ce *e, const char *name, long than, long ms)
{
    struct timespec t0, t;
    long v;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    while ((v = ce_metric(e, name)) <= than) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
            break;
        ce_sleep_ms(1);
    }
    return v;
}

struct ce_pages {
    unsigned char *count;
    int max, last, out_of_order, other;
};

static void
ce_page_one(const struct ce_entry *en, void *arg)
{
    struct ce_pages *s = arg;
    const char *p = ce_field(en, "p"), *k = ce_field(en, "k");
    const char *q = p && strncmp(p, "/p/", 3) == 0 ? strchr(p + 3, '/') : NULL;
    int i = q ? atoi(p + 3) * 1000 + atoi(q + 1) : -1;

    if (k != NULL && strcmp(k, "dr") == 0)
        return; /* a drop summary */
    if (i < 0 || i >= s->max) {
        s->other++;
        return;
    }
    if (s->count[i] < 255)
        s->count[i]++;
    s->out_of_order += i < s->last;
    s->last = i;
}

int
ce_page_counts(struct ce *e, unsigned char *count, int max, int *out_of_order)
{
    struct ce_pages s = {count, max, -1, 0, 0};

    memset(count, 0, (size_t)max);
    if (ce_each(e, ce_page_one, &s) < 0)
        return -1;
    if (out_of_order != NULL)
        *out_of_order = s.out_of_order;
    return s.other;
}
