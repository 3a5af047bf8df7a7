/* SPDX-License-Identifier: MIT */
/*
 * audit.c - the soak's two witnesses (scripts/soak.sh):
 *
 *   soak_audit stream ADDR STREAM OUT   follows the stream (XRANGE from the
 *       last ID seen, every 100 ms; retried while Redis is down or paused)
 *       and, on SIGTERM, after a last catch-up, writes to OUT the hit
 *       entries by kind and how many repeated a hit id already seen. The
 *       soak's aggregator keeps applied entries in the stream for
 *       keep_applied_seconds (120; by default it trims them once applied),
 *       so a follower that keeps up sees them all.
 *   soak_audit lmdb DIR SITE            prints what the aggregator counted
 *       for SITE over all days: pageviews and custom events.
 *
 * Output lines are "name value". Hit ids are random 64-bit values; nothing
 * else of an entry is kept.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/net.h"
#include "common/record.h"
#include "common/rstream.h"
#include "common/store.h"

static volatile sig_atomic_t au_stop;

static void
au_on_term(int sig)
{
    (void)sig;
    au_stop = 1;
}

struct au_set {
    uint64_t *slot;
    size_t cap, n;
};

/* Adds id; 1 if it was there already. */
static int
au_add(struct au_set *s, uint64_t id)
{
    if (s->n * 2 >= s->cap) {
        struct au_set b = {calloc(s->cap ? s->cap * 2 : 1 << 16, 8), s->cap ? s->cap * 2 : 1 << 16,
                           0};
        if (b.slot == NULL)
            abort();
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i])
                (void)au_add(&b, s->slot[i]);
        free(s->slot);
        *s = b;
    }
    size_t i = (size_t)(id * 0x9E3779B97F4A7C15ULL) & (s->cap - 1);
    while (s->slot[i]) {
        if (s->slot[i] == id)
            return 1;
        i = (i + 1) & (s->cap - 1);
    }
    s->slot[i] = id;
    s->n++;
    return 0;
}

static uint64_t
au_hex(const char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n && i < 16; i++) {
        char c = p[i];
        v = (v << 4) | (uint64_t)((c >= '0' && c <= '9') ? c - '0' : (c | 32) - 'a' + 10);
    }
    return v | 1;
}

static void
au_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    (void)nanosleep(&ts, NULL);
}

static int
au_stream(const char *addr, const char *stream, const char *out)
{
    struct hz_addr a;
    struct hz_err err = {0};
    struct au_set set = {0};
    uint64_t pv = 0, en = 0, ev = 0, dup = 0, noid = 0, errors = 0;
    char from[HZ_RS_ID_MAX + 1] = "-";
    hz_rs *rs = NULL;
    int last_round = 0;
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = au_on_term;
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN; /* a killed Redis must not kill the witness */
    (void)sigaction(SIGPIPE, &sa, NULL);
    if (hz_addr_parse(addr, strlen(addr), &a, &err) != 0) {
        fprintf(stderr, "soak_audit: %s\n", err.msg);
        return 2;
    }
    for (;;) {
        /* A read that started after the stop is the last catch-up. */
        int after_stop = au_stop != 0;
        if (rs == NULL || hz_rs_broken(rs)) {
            hz_rs_close(rs);
            rs = NULL;
            if (hz_rs_connect(&rs, &a, 1000, 1, &err) != 0) {
                if (after_stop && ++last_round > 25)
                    break;
                au_sleep_ms(200);
                continue;
            }
        }
        const char *argv[] = {"XRANGE", stream, from, "+", "COUNT", "2000"};
        size_t lens[6];
        hz_rs_reply *rep = NULL;
        for (int i = 0; i < 6; i++)
            lens[i] = strlen(argv[i]);
        if (hz_rs_command(rs, 6, argv, lens, &rep, &err) != 0 ||
            hz_rs_reply_type(rep) != HZ_RS_ARRAY) {
            hz_rs_reply_free(rep);
            errors++;
            hz_rs_close(rs);
            rs = NULL;
            if (after_stop && ++last_round > 25)
                break;
            au_sleep_ms(200);
            continue;
        }
        size_t n = hz_rs_reply_count(rep);
        for (size_t i = 0; i < n; i++) {
            const hz_rs_reply *e = hz_rs_reply_elem(rep, i), *kv;
            size_t idl;
            const char *id = hz_rs_reply_str(hz_rs_reply_elem(e, 0), &idl);
            const char *k = NULL, *u = NULL;
            size_t kl = 0, ul = 0;
            if (id == NULL || (kv = hz_rs_reply_elem(e, 1)) == NULL)
                continue;
            (void)snprintf(from, sizeof(from), "(%.*s", (int)idl, id);
            /* Either record form (common/record.h). */
            const char *names[HZ_RECORD_FIELDS], *vals[HZ_RECORD_FIELDS];
            size_t nlens[HZ_RECORD_FIELDS], vlens[HZ_RECORD_FIELDS];
            int nf = 0;
            for (size_t j = 0; j + 1 < hz_rs_reply_count(kv) && nf < HZ_RECORD_FIELDS; j += 2) {
                names[nf] = hz_rs_reply_str(hz_rs_reply_elem(kv, j), &nlens[nf]);
                vals[nf] = hz_rs_reply_str(hz_rs_reply_elem(kv, j + 1), &vlens[nf]);
                nf += names[nf] != NULL && vals[nf] != NULL;
            }
            /* A batch holds several records (common/record.h). */
            struct hz_record_part rp;
            size_t rpos = 0;
            while (hz_record_each(names, nlens, vals, vlens, nf, &rpos, &rp, NULL) == 1) {
                k = hz_record_find(rp.names, rp.nlens, rp.vals, rp.vlens, rp.nfields, "k", &kl);
                u = hz_record_find(rp.names, rp.nlens, rp.vals, rp.vlens, rp.nfields, "u", &ul);
                if (k == NULL || kl != 2 || memcmp(k, "dr", 2) == 0)
                    continue;
                if (u == NULL) {
                    noid++;
                    continue;
                }
                if (au_add(&set, au_hex(u, ul))) {
                    dup++;
                    continue;
                }
                pv += memcmp(k, "pv", 2) == 0;
                en += memcmp(k, "en", 2) == 0;
                ev += memcmp(k, "ev", 2) == 0;
            }
        }
        hz_rs_reply_free(rep);
        if (n < 2000) {
            if (after_stop)
                break;
            au_sleep_ms(100);
        }
    }
    hz_rs_close(rs);
    FILE *f = fopen(out, "w");
    if (f == NULL)
        return 2;
    fprintf(f,
            "pageview %llu\nengagement %llu\nevent %llu\nduplicated %llu\nno_id %llu\n"
            "read_errors %llu\n",
            (unsigned long long)pv, (unsigned long long)en, (unsigned long long)ev,
            (unsigned long long)dup, (unsigned long long)noid, (unsigned long long)errors);
    fclose(f);
    free(set.slot);
    return 0;
}

static void
au_sum_events(const char *value, size_t vlen, const struct hz_counts *c, void *arg)
{
    (void)value;
    (void)vlen;
    *(uint64_t *)arg += c->events;
}

static int
au_lmdb(const char *dir, const char *site)
{
    struct hz_err err = {0};
    hz_store *s;
    hz_rtxn *t;
    struct hz_counts tot;
    uint64_t events = 0;

    if (hz_store_open(&s, dir, 1, 0, &err) != 0 || hz_store_rbegin(s, &t, &err) != 0) {
        fprintf(stderr, "soak_audit: %s\n", err.msg);
        return 2;
    }
    if (hz_store_totals(t, site, 0, 1 << 24, &tot) != 0 ||
        hz_store_dim(t, site, HZ_DIM_EVENT, 0, 1 << 24, au_sum_events, &events) != 0) {
        fprintf(stderr, "soak_audit: cannot read the totals\n");
        return 2;
    }
    printf("pageview %llu\nevent %llu\n", (unsigned long long)tot.pageviews,
           (unsigned long long)events);
    hz_store_rend(t);
    hz_store_close(s);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "stream") == 0)
        return au_stream(argv[2], argv[3], argv[4]);
    if (argc == 4 && strcmp(argv[1], "lmdb") == 0)
        return au_lmdb(argv[2], argv[3]);
    fprintf(stderr, "usage: soak_audit stream ADDR STREAM OUT | lmdb DIR SITE\n");
    return 2;
}
