/* SPDX-License-Identifier: MIT */
/* collector_env.c - start and stop a collector with its own redis. */
#include "tests/integration/collector_env.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
             extra_headers && strstr(extra_headers, "User-Agent:") ? "" : "User-Agent: " CE_CHROME "\r\n",
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

static int
ce_is_id(const char *s)
{
    size_t d = strspn(s, "0123456789");
    return d > 0 && s[d] == '-' && strspn(s + d + 1, "0123456789") == strlen(s + d + 1) &&
           s[d + 1] != '\0';
}

const char *
ce_field(const struct ce_entry *en, const char *name)
{
    for (int i = 0; i < en->n; i++)
        if (strcmp(en->name[i], name) == 0)
            return en->val[i];
    return NULL;
}

int
ce_entries(struct ce *e, struct ce_entry *out, int max, int hits_only)
{
    char *raw = ce_xrange(e), *save = NULL, *line;
    int count = 0, cur = -1, want_name = 1;

    if (raw == NULL)
        return -1;
    for (line = strtok_r(raw, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (want_name && ce_is_id(line)) {
            if (cur >= 0 && hits_only && ce_field(&out[cur], "k") &&
                strcmp(ce_field(&out[cur], "k"), "dr") == 0)
                count--; /* reuse the slot */
            if (count >= max)
                break;
            cur = count++;
            memset(&out[cur], 0, sizeof(out[cur]));
            snprintf(out[cur].id, sizeof(out[cur].id), "%s", line);
            continue;
        }
        if (cur < 0 || out[cur].n >= 20)
            continue;
        if (want_name) {
            snprintf(out[cur].name[out[cur].n], sizeof(out[cur].name[0]), "%s", line);
            want_name = 0;
        } else {
            snprintf(out[cur].val[out[cur].n], sizeof(out[cur].val[0]), "%s", line);
            out[cur].n++;
            want_name = 1;
        }
    }
    if (cur >= 0 && hits_only && ce_field(&out[cur], "k") &&
        strcmp(ce_field(&out[cur], "k"), "dr") == 0)
        count--;
    free(raw);
    return count;
}
