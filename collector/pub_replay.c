/* SPDX-License-Identifier: MIT */
/*
 * pub_replay.c - replays the spool over the async connection (pipelined,
 * PUB_REPLAY_WINDOW XADDs in flight, each popped when its reply comes, in
 * order), and searches the stream for the hit ids of ambiguous entries
 * (XRANGE paged with async callbacks) before they are replayed. Nothing
 * here blocks the loop: the spool is read with pread from the page cache.
 *
 * The search is started only once no retired connection is left: by then
 * every XADD that could still reach Redis has been answered or can never
 * run (pub_int.h), so what the search sees is final. Its commands are
 * timed like XADDs (pub_silent, publish.c): a Redis that stalls in the
 * middle of it has the connection retired, which ends the search
 * (p->scanning); it starts again from the beginning once that connection
 * is done too. A page that comes late never counts: a reply on a retired
 * connection does not reach pub_scan_reply (pub_on_reply), and the next
 * search's first command is sent after the last retired connection went.
 *
 * It reads from the floor of the ambiguous entries (pub_int.h) when there
 * is one: the last ID acknowledged on the connection that sent them, the
 * lowest of those when several connections left entries unresolved. With
 * none known it reads from PUB_DUP_WINDOW_MS before the first ambiguous
 * hit (by the collector's clock): entries spooled by an earlier run of
 * the process (ambiguous on open), or sent on a connection on which no
 * XADD had been acknowledged yet.
 *
 * Why the floor holds. A stream's IDs only grow: Redis gives an XADD
 * max(the stream's last ID, its clock in ms) plus a sequence, so a step
 * of either clock does not matter, and trimming keeps the last ID. A Redis
 * restarted from its AOF restores the stream's last ID with it; with
 * appendfsync everysec it may lose the last second, but an XADD that ran
 * after the floor's was written after it too, so when the floor's entry is
 * lost, so is every later one: nothing to find, and replaying is right.
 * A Redis restarted without persistence has lost the stream: an ambiguous
 * XADD sent to the old one is gone with it, and one on a connection to the
 * new one has a floor from that connection. What the floor does not cover
 * is someone deleting the stream while XADDs of ours are in flight (haze
 * never deletes it); the time window did not cover that either.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/metrics.h"
#include "collector/pub_int.h"
#include "common/idlog.h"
#include "common/log.h"
#include "common/mem.h"

/* ------------------------------------------------------------ id set */

/* The set is split in PUB_IDSET_PARTS tables by the mixed id's top bits:
 * each grows on its own, so a doubling moves a small part of the ids (one
 * table of 100,000 ids took tens of ms to grow, all in one loop turn).
 * The home slot is taken from lower bits of the same product (the id's own
 * low bits would do badly: the lowest is always 1). */
static uint64_t
pub_id_mix(uint64_t id)
{
    return id * 0x9E3779B97F4A7C15ULL;
}

static struct pub_idpart *
pub_idset_part(struct pub_idset *s, uint64_t mix)
{
    return &s->part[mix >> (64 - PUB_IDSET_BITS)];
}

static size_t
pub_idpart_home(const struct pub_idpart *t, uint64_t mix)
{
    return (size_t)(mix >> 24) & (t->cap - 1);
}

static uint64_t
pub_id_parse(const char *hex, size_t len)
{
    uint64_t v = 0;
    for (size_t i = 0; i < len && i < HZ_VHASH_LEN; i++) {
        char c = hex[i];
        v = (v << 4) | (uint64_t)((c >= '0' && c <= '9') ? c - '0' : (c | 32) - 'a' + 10);
    }
    return v | 1; /* never 0: 0 marks an empty slot */
}

static void
pub_idpart_put(struct pub_idpart *t, uint64_t id)
{
    size_t i = pub_idpart_home(t, pub_id_mix(id));

    while (t->slot[i] && t->slot[i] != id)
        i = (i + 1) & (t->cap - 1);
    if (!t->slot[i]) {
        t->slot[i] = id;
        t->n++;
    }
}

void
pub_idset_add(struct pub_idset *s, uint64_t id)
{
    struct pub_idpart *t = pub_idset_part(s, pub_id_mix(id));

    if (t->n * 2 >= t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct pub_idpart bigger = {hz_xcalloc(cap, sizeof(uint64_t)), cap, 0};
        for (size_t i = 0; i < t->cap; i++)
            if (t->slot[i])
                pub_idpart_put(&bigger, t->slot[i]);
        free(t->slot);
        *t = bigger;
    }
    pub_idpart_put(t, id);
}

static int
pub_idset_has(struct pub_idset *s, uint64_t id)
{
    uint64_t mix = pub_id_mix(id);
    const struct pub_idpart *t = pub_idset_part(s, mix);

    if (t->cap == 0)
        return 0;
    for (size_t i = pub_idpart_home(t, mix); t->slot[i]; i = (i + 1) & (t->cap - 1))
        if (t->slot[i] == id)
            return 1;
    return 0;
}

void
pub_idset_free(struct pub_idset *s)
{
    for (int i = 0; i < PUB_IDSET_PARTS; i++)
        free(s->part[i].slot);
    memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------ floor */

/* "ms-seq" (the digits of a stream ID); 0 if it is not one. */
static int
pub_sid_parse(const char *s, size_t len, uint64_t *ms, uint64_t *seq)
{
    uint64_t v[2] = {0, 0};
    int part = 0, digits = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '-' && part == 0 && digits > 0) {
            part = 1;
            digits = 0;
        } else if (s[i] >= '0' && s[i] <= '9' && digits < 19) {
            v[part] = v[part] * 10 + (uint64_t)(s[i] - '0');
            digits++;
        } else {
            return 0;
        }
    }
    if (part != 1 || digits == 0)
        return 0;
    *ms = v[0];
    *seq = v[1];
    return 1;
}

void
pub_floor_note(hz_pub *p, const struct pub_conn *conn)
{
    uint64_t ms, seq;

    if (p->floor == PUB_FLOOR_UNKNOWN)
        return;
    if (conn == NULL || !pub_sid_parse(conn->acked, conn->acked_len, &ms, &seq)) {
        p->floor = PUB_FLOOR_UNKNOWN;
        return;
    }
    if (p->floor == PUB_FLOOR_NONE || ms < p->floor_ms ||
        (ms == p->floor_ms && seq < p->floor_seq)) {
        p->floor_ms = ms;
        p->floor_seq = seq;
    }
    p->floor = PUB_FLOOR_ID;
}

void
pub_floor_settle(hz_pub *p)
{
    if (p->floor != PUB_FLOOR_NONE &&
        (hz_spool_entries(p->spool) == 0 || hz_spool_head(p->spool) >= p->amb_end)) {
        p->floor = PUB_FLOOR_NONE;
        p->amb_end = 0;
    }
}

/* ------------------------------------------------------------ search */

/* Asks for the stream's last entry (scan_end empty), then for the pages
 * from scan_from to it. */
static void
pub_scan_page(hz_pub *p)
{
    char count[16];
    int last = p->scan_end[0] == '\0';
    const char *argv[] = {last ? "XREVRANGE" : "XRANGE",
                          p->cfg->redis_stream,
                          last ? "+" : p->scan_from,
                          last ? "-" : p->scan_end,
                          "COUNT",
                          count};
    size_t lens[6];
    struct pub_cmd *c = pub_cmd_new(p, PUB_SCAN);

    (void)snprintf(count, sizeof(count), "%d", last ? 1 : PUB_SCAN_PAGE);
    for (int i = 0; i < 6; i++)
        lens[i] = strlen(argv[i]);
    if (c == NULL || pub_cmd_send(p, c, 6, argv, lens) != 0) {
        free(c);
        p->scanning = 0;
    }
}

/* Starts the search just after the floor, or with none PUB_DUP_WINDOW_MS
 * before the hit at the head (t_ms), up to the stream's last entry now:
 * with no retired connection left, no XADD of an ambiguous entry can run
 * any more (pub_int.h), so what is added later is no copy of one (the
 * other threads' hits, our own replay); a search to "+" would chase them. */
static void
pub_scan_start(hz_pub *p, uint64_t t_ms)
{
    uint64_t from = t_ms > PUB_DUP_WINDOW_MS ? t_ms - PUB_DUP_WINDOW_MS : 0;

    pub_idset_free(&p->dups);
    if (p->floor == PUB_FLOOR_ID) {
        HZ_METRIC_ADD(dup_searches[HZ_DUP_FROM_FLOOR], 1);
        (void)snprintf(p->scan_from, sizeof(p->scan_from), "(%llu-%llu",
                       (unsigned long long)p->floor_ms, (unsigned long long)p->floor_seq);
        p->idlog_from_ms = p->floor_ms;
    } else {
        HZ_METRIC_ADD(dup_searches[HZ_DUP_FROM_WINDOW], 1);
        (void)snprintf(p->scan_from, sizeof(p->scan_from), "%llu-0", (unsigned long long)from);
        p->idlog_from_ms = from > HZ_IDLOG_BUCKET_MS ? from - HZ_IDLOG_BUCKET_MS : 0;
    }
    p->scan_end[0] = '\0';
    p->scanning = 1;
    pub_scan_page(p);
}

void
pub_scan_reply(hz_pub *p, struct pub_cmd *c, redisReply *r)
{
    size_t n;

    (void)c;
    if (!p->scanning)
        return;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        p->scanning = 0; /* tried again on a later tick */
        return;
    }
    n = r->elements;
    if (p->scan_end[0] == '\0') {
        redisReply *e = n > 0 ? r->element[0] : NULL;
        if (e != NULL && e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
            e->element[0]->type == REDIS_REPLY_STRING && e->element[0]->len < sizeof(p->scan_end)) {
            memcpy(p->scan_end, e->element[0]->str, e->element[0]->len);
            p->scan_end[e->element[0]->len] = '\0';
            pub_scan_page(p);
            return;
        }
        if (n > 0) {
            p->scanning = 0; /* not a stream entry: tried again on a later tick */
            return;
        }
        n = 0; /* an empty stream: nothing to find */
    }
    HZ_METRIC_ADD(dup_scanned, n);
    for (size_t i = 0; i < n; i++) {
        redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
            continue;
        redisReply *kv = e->element[1];
        /* Any record form (common/record.h): the hit id "u". */
        const char *names[HZ_RECORD_FIELDS], *vals[HZ_RECORD_FIELDS], *u;
        size_t nlens[HZ_RECORD_FIELDS], vlens[HZ_RECORD_FIELDS], ul = 0;
        int nf = 0;
        for (size_t j = 0; kv->type == REDIS_REPLY_ARRAY && j + 1 < kv->elements &&
                           nf < HZ_RECORD_FIELDS && kv->element[j]->type == REDIS_REPLY_STRING &&
                           kv->element[j + 1]->type == REDIS_REPLY_STRING;
             j += 2, nf++) {
            names[nf] = kv->element[j]->str;
            nlens[nf] = kv->element[j]->len;
            vals[nf] = kv->element[j + 1]->str;
            vlens[nf] = kv->element[j + 1]->len;
        }
        /* A batch holds several records: the id of each. */
        struct hz_record_part rp;
        size_t rpos = 0;
        while (hz_record_each(names, nlens, vals, vlens, nf, &rpos, &rp, NULL) == 1) {
            u = hz_record_find(rp.names, rp.nlens, rp.vals, rp.vlens, rp.nfields, "u", &ul);
            if (u != NULL && ul == HZ_VHASH_LEN)
                pub_idset_add(&p->dups, pub_id_parse(u, ul));
        }
        if (i + 1 == n && e->element[0]->type == REDIS_REPLY_STRING)
            /* The next page starts just after the last ID ("(" is exclusive). */
            (void)snprintf(p->scan_from, sizeof(p->scan_from), "(%.*s", (int)e->element[0]->len,
                           e->element[0]->str);
    }
    if (n >= (size_t)PUB_SCAN_PAGE) {
        pub_scan_page(p);
        return;
    }
    pub_idlog_start(p); /* then the applied id log; it ends the search */
}

/* ------------------------------------------------------------ replay */

void
pub_replay_lost(hz_pub *p, const struct pub_conn *conn)
{
    /* Entries sent and not answered: ambiguous (all of them sent on conn:
     * a retirement starts the replay again at the head); replay restarts
     * at the head, after a new search. */
    if (p->nreplay > 0 || p->cursor > hz_spool_head(p->spool)) {
        uint64_t end = hz_spool_head(p->spool) + hz_spool_bytes(p->spool);
        uint64_t upto = p->cursor < end ? p->cursor : end;
        pub_floor_note(p, conn);
        hz_spool_mark_ambiguous(p->spool, upto);
        if (upto > p->amb_end)
            p->amb_end = upto;
    }
    p->cursor = hz_spool_head(p->spool);
    p->nreplay = 0;
}

static void
pub_replay_slice(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pub_replay_pump(arg);
}

/* Pacing. The replay is background work: while its thread takes hits
 * (it spooled one in the last PUB_REPLAY_IDLE_MS), it may send one entry
 * for each hit spooled since Redis is back, so that the spool does not
 * grow, plus PUB_REPLAY_RATE entries a second, so that it drains; its
 * share of the CPU, which the hits need, stays bounded. An idle thread
 * replays as fast as Redis answers, PUB_REPLAY_SLICE entries a turn. */
static int
pub_replay_busy(const hz_pub *p, uint64_t now_us)
{
    return p->last_spooled_us != 0 && now_us - p->last_spooled_us < PUB_REPLAY_IDLE_MS * 1000ULL;
}

void
pub_replay_spooled(hz_pub *p)
{
    p->last_spooled_us = pub_mono_us();
    if (p->connected && p->tokens < PUB_REPLAY_WINDOW)
        p->tokens += 1;
}

/* Has the pump run again: on the loop's next turn, after the events that
 * are ready by then (the hits waiting for an answer among them), or, on a
 * busy thread, in PUB_REPLAY_PACE_MS. */
void
pub_replay_kick(hz_pub *p)
{
    struct timeval now = {0, 0}, pace = {0, PUB_REPLAY_PACE_MS * 1000};

    if (p->closing)
        return;
    if (p->replay_ev == NULL && (p->replay_ev = evtimer_new(p->base, pub_replay_slice, p)) == NULL)
        return; /* the tick pumps instead */
    if (!evtimer_pending(p->replay_ev, NULL))
        (void)evtimer_add(p->replay_ev, pub_replay_busy(p, pub_mono_us()) ? &pace : &now);
}

void
pub_replay_pump(hz_pub *p)
{
    struct hz_record rec;
    int amb, rc, n, budget;
    uint64_t now = pub_mono_us();

    if (pub_replay_busy(p, now)) {
        p->tokens += (double)(now - p->tokens_us) * PUB_REPLAY_RATE / 1e6;
        if (p->tokens > PUB_REPLAY_WINDOW)
            p->tokens = PUB_REPLAY_WINDOW;
        budget = (int)p->tokens;
        /* The backlog's last few entries go at once: then everything is
         * in flight and new hits follow it to Redis (hz_pub_send). */
        uint64_t all = hz_spool_entries(p->spool),
                 unsent = all > (uint64_t)p->nreplay ? all - (uint64_t)p->nreplay : 0;
        if (unsent <= PUB_REPLAY_SLICE && (int)unsent > budget)
            budget = (int)unsent;
    } else {
        p->tokens = 0;
        budget = PUB_REPLAY_SLICE;
    }
    p->tokens_us = now;
    /* With nothing in flight the next entry is the head's. (A cursor kept
     * from before a truncation would point past the end: the spool starts
     * its offsets again at 0 when its thread has truncated the file.) */
    if (p->nreplay == 0)
        p->cursor = hz_spool_head(p->spool);
    for (n = 0; p->connected && !p->closing && !p->scanning && p->nreplay < PUB_REPLAY_WINDOW;
         n++) {
        uint64_t at = p->cursor, head = hz_spool_head(p->spool);
        if (n >= budget) {
            pub_replay_kick(p);
            break;
        }
        int at_head = p->nreplay == 0 && at <= head;

        rc = hz_spool_peek_at(p->spool, &at, &rec, &amb);
        if (rc == HZ_ENOTFOUND)
            break;
        if (rc != 0) {
            if (!at_head)
                break; /* popped once everything before it is answered */
            HZ_METRIC_ADD(spool_corrupt, 1);
            (void)hz_spool_pop(p->spool);
            p->cursor = hz_spool_head(p->spool);
            continue;
        }
        if (amb) {
            if (!p->dup_ready) {
                /* Only with nothing that could still reach Redis. */
                if (at_head && p->nretired == 0)
                    pub_scan_start(p, rec.t_ms);
                break;
            }
            if (rec.id[0] != '\0' &&
                pub_idset_has(&p->dups, pub_id_parse(rec.id, strlen(rec.id)))) {
                if (!at_head)
                    break;
                HZ_METRIC_ADD(replay_dupes, 1);
                (void)hz_spool_pop(p->spool);
                p->cursor = hz_spool_head(p->spool);
                continue;
            }
        }
        struct pub_cmd *c = pub_cmd_new_rec(p, PUB_REPLAY, &rec);
        if (c == NULL)
            break;
        c->off = p->cursor < head ? head : p->cursor;
        c->next = at;
        if (pub_xadd_send(p, c) != 0) {
            pub_cmd_free(c);
            break;
        }
        p->nreplay++;
        p->cursor = at;
    }
    explicit_bzero(&rec, sizeof(rec));
    if (p->tokens > 0)
        p->tokens -= n < p->tokens ? n : p->tokens;
    if (hz_spool_entries(p->spool) == 0) {
        p->tokens = 0;
        pub_idset_free(&p->dups);
        p->dup_ready = 0;
        p->cursor = 0;
    }
    pub_floor_settle(p);
    pub_spool_gauge(p);
}

void
pub_replay_reply(hz_pub *p, struct pub_cmd *c, redisReply *r)
{
    p->nreplay--;
    if (r->type != REDIS_REPLY_STRING || c->off != hz_spool_head(p->spool)) {
        /* An error reply (LOADING after a restart, MISCONF, OOM): the entry
         * was not added, but the ones sent after it may be: start over on
         * a new connection, as for a lost one. */
        HZ_METRIC_ADD(stream_errors, 1);
        pub_retire(p, "redis refused a replayed hit");
        return;
    }
    HZ_METRIC_ADD(replayed, 1);
    (void)hz_spool_pop_to(p->spool, c->next);
    if (hz_spool_entries(p->spool) == 0) {
        p->cursor = 0;
        pub_idset_free(&p->dups);
        p->dup_ready = 0;
    }
    pub_floor_settle(p);
    /* Not pumped here: hiredis hands over every reply it has read in one
     * go, hundreds of them; each slice sends a bounded number. */
    pub_replay_kick(p);
}
