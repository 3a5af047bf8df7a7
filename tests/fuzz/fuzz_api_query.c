/* SPDX-License-Identifier: MIT */
/*
 * fuzz_api_query.c - the dashboard API's request parsers (api.c): the v1
 * query string of each route and the v2 JSON body.
 *
 * Input: the first byte picks the route (0..7: v1 routes; 8+: v2 body),
 * the rest is the query string or body. Properties:
 *   - no crash, no sanitizer report;
 *   - an error is HZ_EINVAL with a non-empty one-line message shaped
 *     "<name>: <reason>", or HZ_ENOTFOUND with Plausible's unknown-site body;
 *   - a success is a sane question (from <= to, 1..HZ_M_COUNT metrics,
 *     limit 1..1000 (v1) or 1..10000 (v2), filters on one property, a
 *     filter tree whose nodes point inside it) whose rendering through the
 *     v1 and v2 writers, over an empty answer, is valid JSON (re-parsed),
 *     and whose filters evaluate (regular expressions included) on a few
 *     values without crashing.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/cfg.h"
#include "dashboard/api.h"
#include "dashboard/jsonw.h"
#include "dashboard/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_ini[] = "[aggregator]\nlmdb = /tmp/haze-fuzz-none\nretention_days = 400\n"
                               "[dashboard]\ntoken = fuzz-token-123\nmin_visitors = 5\n"
                               "[site example.com]\ntimezone = Europe/Berlin\n"
                               "funnel = checkout: /products/* > /cart > /thanks\n"
                               "[site shop.test]\ntimezone = Pacific/Auckland\n";

static void
fuzz_check_json(const struct hz_jsonw *w)
{
    json_error_t je;
    json_t *j;

    assert(w->err == 0);
    j = json_loadb(w->buf, w->len, 0, &je);
    assert(j != NULL);
    json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hz_config cfg;
    static int ready;
    struct hz_query *q;
    struct hz_err err = {0};
    const int64_t now = 1795608000; /* 2026-11-25 12:00 UTC */
    int rc;

    if (!ready) {
        if (hz_cfg_parse_string(&cfg, fuzz_ini, "fuzz.ini", &err) != 0)
            abort();
        ready = 1;
    }
    if (size < 1)
        return 0;
    q = malloc(sizeof(*q));
    if (q == NULL)
        return 0;
    if (data[0] < 8)
        rc = hz_api_parse_v1((enum hz_api_route)data[0], (const char *)data + 1, size - 1, &cfg,
                             now, q, &err);
    else
        rc = hz_api_parse_v2((const char *)data + 1, size - 1, &cfg, now, q, &err);
    if (rc == HZ_ENOTFOUND) {
        assert(strcmp(err.msg, HZ_API_BAD_SITE) == 0);
    } else if (rc != 0) {
        const char *colon = strchr(err.msg, ':');
        assert(rc == HZ_EINVAL);
        assert(err.msg[0] != '\0');
        assert(strchr(err.msg, '\n') == NULL && strchr(err.msg, '\r') == NULL);
        assert(colon != NULL && colon[1] == ' ');
    } else if (data[0] != HZ_API_REALTIME) {
        struct hz_qres r;
        struct hz_jsonw w;
        assert(q->all || q->from <= q->to);
        assert(q->limit >= 1 &&
               q->limit <= (data[0] >= 8 ? HZ_QUERY_V2_LIMIT_MAX : HZ_QUERY_LIMIT_MAX));
        if (data[0] < HZ_API_REALTIME || data[0] >= 8) {
            static const char *const vals[] = {"", "/", "/blog/Post-1", "(other)", "aaaaaaaaaaaax"};
            assert(q->nmetrics >= 1 && q->nmetrics <= HZ_M_COUNT);
            for (int i = 0; i < q->nfilters; i++)
                assert(q->filters[i].prop == q->filters[0].prop);
            assert(q->nfnodes >= 0 && q->nfnodes <= HZ_FNODES_MAX);
            for (int i = 0; i < q->nfnodes; i++) {
                const struct hz_fnode *nd = &q->fnodes[i];
                if (nd->kind == HZ_FN_LEAF)
                    assert(nd->leaf >= 0 && nd->leaf < q->nfilters);
                for (int k = 0; k < nd->nkids; k++)
                    assert(nd->kids[k] > i && nd->kids[k] < q->nfnodes);
            }
            for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
                (void)hz_query_filters_match(q, vals[i], strlen(vals[i]));
            hz_qres_init(&r);
            r.from = q->from;
            r.to = q->to;
            hz_query_order(&r, q);
            hz_jsonw_init(&w);
            hz_api_v1(&w, q, &r);
            fuzz_check_json(&w);
            hz_jsonw_free(&w);
            hz_jsonw_init(&w);
            hz_api_v2(&w, q, &r, 5);
            fuzz_check_json(&w);
            hz_jsonw_free(&w);
            hz_qres_free(&r);
        }
    }
    free(q);
    return 0;
}
