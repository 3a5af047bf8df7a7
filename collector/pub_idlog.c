/* SPDX-License-Identifier: MIT */
/*
 * pub_idlog.c - the duplicate search's second half: the applied hit id log
 * (common/idlog.h). The aggregator trims every entry it has applied from
 * the stream, so an ambiguous hit whose XADD ran may be gone from it by
 * the time the search runs; its id is then in the log, appended (in the
 * MULTI/EXEC of its batch's visitor states) before the stream was trimmed
 * past it. So the log is read after the stream (pub_replay.c's XRANGE
 * pages): an entry the stream no longer held when its page was read was
 * trimmed before, and its id was logged before that. Found ids go into the
 * same set as the stream's.
 *
 * The buckets read: from the one holding the search's start (the floor's
 * ms, or the time window's start less one bucket: the window is reckoned
 * by our clock, stream IDs by Redis's) to the one after now (or after the
 * stream's last ID, if later), and on past that while buckets are not
 * empty (a Redis clock ahead of ours), at most HZ_IDLOG_SEARCH_BUCKETS.
 * Each is read with GETRANGE in pages of PUB_IDLOG_PAGE bytes, one at a
 * time, with async callbacks, like the stream's pages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/metrics.h"
#include "collector/pub_int.h"
#include "common/idlog.h"
#include "common/rstream.h"

/* GETRANGE the current page of the current bucket. */
static void
pub_idlog_page(hz_pub *p)
{
    char key[HZ_IDLOG_KEY_MAX], from[24], to[24];
    size_t kl = hz_idlog_key(key, sizeof(key), p->cfg->redis_stream, p->idlog_bucket);
    int fl = snprintf(from, sizeof(from), "%llu", (unsigned long long)p->idlog_off);
    int tl =
        snprintf(to, sizeof(to), "%llu", (unsigned long long)(p->idlog_off + PUB_IDLOG_PAGE - 1));
    const char *argv[] = {"GETRANGE", key, from, to};
    size_t lens[] = {8, kl, (size_t)fl, (size_t)tl};
    struct pub_cmd *c = kl > 0 ? pub_cmd_new(p, PUB_IDLOG) : NULL;

    if (c == NULL || pub_cmd_send(p, c, 4, argv, lens) != 0) {
        free(c);
        p->scanning = 0; /* tried again on a later tick */
    }
}

void
pub_idlog_span(uint64_t from_ms, uint64_t top_ms, uint64_t *first, uint64_t *last)
{
    if (from_ms > top_ms)
        top_ms = from_ms;
    *last = hz_idlog_bucket(top_ms) + 1;
    *first = hz_idlog_bucket(from_ms);
    if (*last - *first >= HZ_IDLOG_SEARCH_BUCKETS)
        *first = *last - HZ_IDLOG_SEARCH_BUCKETS + 1;
}

int
pub_idlog_more(uint64_t first, uint64_t bucket, uint64_t last, int nonempty)
{
    /* Counted from the first bucket read, not from the search's start: a
     * floor hours old (a thread without hits all night) moves the first
     * up to HZ_IDLOG_SEARCH_BUCKETS before now, and the search must
     * still get to now and past it. */
    return (bucket < last || nonempty) && bucket + 1 - first < 4 * HZ_IDLOG_SEARCH_BUCKETS;
}

void
pub_idlog_start(hz_pub *p)
{
    uint64_t top = pub_now_ms();
    struct hz_rs_id end;

    if (p->scan_end[0] != '\0' && hz_rs_id_parse(p->scan_end, strlen(p->scan_end), &end) == 0 &&
        end.ms > top)
        top = end.ms;
    pub_idlog_span(p->idlog_from_ms, top, &p->idlog_first, &p->idlog_last);
    p->idlog_bucket = p->idlog_first;
    p->idlog_off = 0;
    pub_idlog_page(p);
}

void
pub_idlog_reply(hz_pub *p, struct pub_cmd *c, redisReply *r)
{
    size_t n;

    (void)c;
    if (!p->scanning)
        return;
    if (r == NULL || r->type != REDIS_REPLY_STRING) {
        p->scanning = 0; /* tried again on a later tick */
        return;
    }
    n = r->len / HZ_IDLOG_ID_LEN;
    for (size_t i = 0; i < n; i++)
        pub_idset_add(&p->dups,
                      hz_idlog_get((const unsigned char *)r->str + i * HZ_IDLOG_ID_LEN) | 1);
    HZ_METRIC_ADD(dup_logged, n);
    if (r->len >= PUB_IDLOG_PAGE) {
        p->idlog_off += r->len;
        pub_idlog_page(p);
        return;
    }
    if (pub_idlog_more(p->idlog_first, p->idlog_bucket, p->idlog_last, p->idlog_off + r->len > 0)) {
        p->idlog_bucket++;
        p->idlog_off = 0;
        pub_idlog_page(p);
        return;
    }
    p->scanning = 0;
    p->dup_ready = 1;
    pub_replay_pump(p);
}
