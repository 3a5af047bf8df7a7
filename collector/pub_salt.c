/* SPDX-License-Identifier: MIT */
/*
 * pub_salt.c - the daily visitor salt's life cycle ("haze:salt:DATE", SET
 * NX so that every collector uses the same one, expiring at the end of the
 * next UTC day, when it is no longer needed even as "yesterday's").
 *
 * At start the salts are fetched synchronously over common/rstream (before
 * the loop runs). Afterwards they are fetched asynchronously: tomorrow's
 * salt is created ahead of time, so the change at UTC midnight is a local
 * switch made by the first hit of the new day, and no Redis round trip
 * ever holds up a hit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/pub_int.h"
#include "common/log.h"
#include "common/rstream.h"
#include "common/str.h"
#include "common/tz.h"

#define SALT_REFRESH_MS 60000

static int32_t
salt_today(uint64_t now_ms)
{
    return (int32_t)(now_ms / 86400000ULL);
}

static void
salt_key(int32_t day, char out[32])
{
    char date[11];
    hz_date_format(day, date);
    (void)snprintf(out, 32, "haze:salt:%s", date);
}

/* The argv of SET key hex NX EXAT end-of-next-day, with a fresh salt in hex. */
static void
salt_set_argv(int32_t day, char key[32], char hex[HZ_SALT_HEX + 1], char exat[24],
              const char *argv[6], size_t lens[6])
{
    unsigned char fresh[HZ_SIPHASH_KEY];

    salt_key(day, key);
    arc4random_buf(fresh, sizeof(fresh));
    hz_hex(hex, fresh, sizeof(fresh));
    explicit_bzero(fresh, sizeof(fresh));
    (void)snprintf(exat, 24, "%lld", (long long)(day + 2) * 86400);
    argv[0] = "SET", argv[1] = key, argv[2] = hex, argv[3] = "NX", argv[4] = "EXAT";
    argv[5] = exat;
    for (int i = 0; i < 6; i++)
        lens[i] = strlen(argv[i]);
}

/* ------------------------------------------------------------ at start */

/* GETs (after SET NX when create) the salt of day over rs. 0, HZ_ENOTFOUND,
 * or HZ_EUNAVAIL. */
static int
salt_fetch_sync(hz_rs *rs, int32_t day, int create, unsigned char out[HZ_SIPHASH_KEY])
{
    char key[32], hex[HZ_SALT_HEX + 1], exat[24];
    const char *argv[6];
    size_t lens[6], len;
    hz_rs_reply *rep = NULL;
    const char *s;
    int rc;

    if (create) {
        salt_set_argv(day, key, hex, exat, argv, lens);
        rc = hz_rs_command(rs, 6, argv, lens, &rep, NULL);
        explicit_bzero(hex, sizeof(hex));
        hz_rs_reply_free(rep);
        if (rc != 0)
            return HZ_EUNAVAIL;
    }
    salt_key(day, key);
    argv[0] = "GET", argv[1] = key;
    lens[0] = 3, lens[1] = strlen(key);
    if (hz_rs_command(rs, 2, argv, lens, &rep, NULL) != 0)
        return HZ_EUNAVAIL;
    s = hz_rs_reply_str(rep, &len);
    rc = hz_rs_reply_type(rep) == HZ_RS_STRING && hz_salt_parse(s, len, out) == 0 ? 0
         : create                                                                 ? HZ_EUNAVAIL
                                                                                  : HZ_ENOTFOUND;
    if (hz_rs_reply_type(rep) == HZ_RS_STRING)
        explicit_bzero((char *)s, len);
    hz_rs_reply_free(rep);
    return rc;
}

int
pub_salt_open(hz_pub *p, long retry_ms, struct hz_err *err)
{
    const struct hz_config *cfg = p->cfg;
    int tries = 1;
    hz_rs *rs = NULL;
    int32_t today;
    int rc;

    /* hz_rs_connect doubles its pause from 100 ms up to 2 s. */
    for (long waited = 100; waited < retry_ms; tries++)
        waited += tries < 5 ? 100L << tries : 2000;
    if ((rc = hz_rs_connect(&rs, &cfg->redis_address, (int)cfg->xadd_timeout_ms + 1000, tries,
                            err)) != 0)
        return rc;
    if ((rc = hz_rs_auth(rs, cfg->redis_user, cfg->redis_password, err)) != 0) {
        hz_rs_close(rs);
        return rc;
    }
    today = salt_today(pub_now_ms());
    rc = salt_fetch_sync(rs, today, 1, p->salts.today);
    if (rc == 0) {
        p->salts.day = today;
        if (salt_fetch_sync(rs, today - 1, 0, p->salts.prev) == 0)
            p->salts.prev_day = today - 1;
        if (salt_fetch_sync(rs, today + 1, 1, p->next_salt) == 0)
            p->next_day = today + 1;
    }
    hz_rs_close(rs);
    if (rc != 0)
        return hz_err_set(err, HZ_EUNAVAIL, "redis: cannot fetch the salt at %s",
                          cfg->redis_address.is_unix ? cfg->redis_address.path
                                                     : cfg->redis_address.host);
    p->last_salt_ms = pub_now_ms();
    return 0;
}

/* ------------------------------------------------------------ day change */

/* Brings the salts to the day of now: tomorrow's prefetched salt becomes
 * today's; without one (Redis down since yesterday) a local salt keeps
 * counting until Redis is back (visitors of this thread may then split
 * from other collectors'), never yesterday's salt past its day. */
static void
salt_roll(hz_pub *p, uint64_t now)
{
    int32_t today = salt_today(now);

    if (p->salts.day == today)
        return;
    if (p->salts.day == today - 1) {
        p->salts.prev_day = p->salts.day;
        memcpy(p->salts.prev, p->salts.today, sizeof(p->salts.prev));
    } else {
        p->salts.prev_day = 0;
        explicit_bzero(p->salts.prev, sizeof(p->salts.prev));
    }
    if (p->next_day == today) {
        memcpy(p->salts.today, p->next_salt, sizeof(p->salts.today));
        p->salt_provisional = 0;
    } else {
        arc4random_buf(p->salts.today, sizeof(p->salts.today));
        p->salt_provisional = 1;
    }
    explicit_bzero(p->next_salt, sizeof(p->next_salt));
    p->next_day = 0;
    p->salts.day = today;
}

const struct hz_salts *
hz_pub_salts(hz_pub *p)
{
    salt_roll(p, pub_now_ms());
    return &p->salts;
}

/* ------------------------------------------------------------ refresh */

static void
salt_send(hz_pub *p, int32_t day, int create)
{
    char key[32], hex[HZ_SALT_HEX + 1], exat[24];
    const char *argv[6];
    size_t lens[6];
    struct pub_cmd *c;

    if (create) {
        salt_set_argv(day, key, hex, exat, argv, lens);
        c = pub_cmd_new(p, PUB_DROPS); /* the reply is not needed */
        if (c != NULL && pub_cmd_send(p, c, 6, argv, lens) != 0)
            free(c);
        explicit_bzero(hex, sizeof(hex));
    }
    salt_key(day, key);
    argv[0] = "GET", argv[1] = key;
    lens[0] = 3, lens[1] = strlen(key);
    c = pub_cmd_new(p, PUB_SALT);
    if (c == NULL)
        return;
    c->day = day;
    if (pub_cmd_send(p, c, 2, argv, lens) != 0) {
        free(c);
        return;
    }
    p->salt_pending++;
}

void
pub_salt_tick(hz_pub *p, uint64_t now)
{
    int32_t today = salt_today(now);

    salt_roll(p, now);
    if (!p->connected || p->salt_pending > 0)
        return;
    if (!p->salt_provisional && p->next_day == today + 1 && now - p->last_salt_ms < SALT_REFRESH_MS)
        return;
    p->last_salt_ms = now;
    if (p->salt_provisional)
        salt_send(p, today, 1);
    if (p->next_day != today + 1)
        salt_send(p, today + 1, 1);
    if (p->salts.prev_day != today - 1)
        salt_send(p, today - 1, 0);
}

void
pub_salt_reply(hz_pub *p, struct pub_cmd *c, redisReply *r)
{
    unsigned char s[HZ_SIPHASH_KEY];
    int32_t today = salt_today(pub_now_ms());

    if (p->salt_pending > 0)
        p->salt_pending--;
    if (r == NULL || r->type != REDIS_REPLY_STRING)
        return;
    if (hz_salt_parse(r->str, r->len, s) == 0) {
        if (c->day == today && (p->salt_provisional || p->salts.day != today)) {
            memcpy(p->salts.today, s, sizeof(s));
            p->salts.day = today;
            p->salt_provisional = 0;
        } else if (c->day == today + 1) {
            memcpy(p->next_salt, s, sizeof(s));
            p->next_day = c->day;
        } else if (c->day == today - 1 && p->salts.prev_day != today - 1) {
            memcpy(p->salts.prev, s, sizeof(s));
            p->salts.prev_day = c->day;
        }
    }
    explicit_bzero(r->str, r->len);
    explicit_bzero(s, sizeof(s));
}
