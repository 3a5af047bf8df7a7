/* SPDX-License-Identifier: MIT */
/*
 * auth.c - tokens, sessions and the login throttle (see auth.h).
 */
#include "dashboard/auth.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/mem.h"
#include "common/str.h"

struct auth_session {
    unsigned char id[16];
    const struct hz_token *tok; /* NULL = free slot */
    int64_t created, used;
};

struct auth_client {
    unsigned char addr[16]; /* IPv4, or the /64 of an IPv6 address */
    unsigned char family;   /* 0 = free slot */
    int64_t window;         /* start of the one-minute window */
    int64_t used;
    int count;
};

struct hz_auth {
    const struct hz_config *cfg;
    struct hz_token def; /* [dashboard] token as "default" (has_def) */
    int has_def;
    struct auth_session s[HZ_AUTH_SESSIONS_MAX];
    struct auth_client c[HZ_AUTH_CLIENTS_MAX];
    struct hz_auth_counters n;
};

void
hz_auth_sha256(const char *s, size_t len, unsigned char out[32])
{
    unsigned int olen = 32;

    if (EVP_Digest(s, len, out, &olen, EVP_sha256(), NULL) != 1)
        abort(); /* cannot happen with a built-in digest */
}

int
hz_auth_new(hz_auth **out, const struct hz_config *cfg)
{
    hz_auth *a = hz_xcalloc(1, sizeof(*a));

    a->cfg = cfg;
    if (cfg->token[0] != '\0') {
        a->has_def = 1;
        (void)hz_strlcpy(a->def.name, "default", sizeof(a->def.name));
        hz_auth_sha256(cfg->token, strlen(cfg->token), a->def.sha256);
        a->def.scope = HZ_SCOPE_ADMIN;
        a->def.all_sites = 1;
        a->def.expires = -1;
    }
    *out = a;
    return 0;
}

void
hz_auth_free(hz_auth *a)
{
    if (a == NULL)
        return;
    explicit_bzero(a, sizeof(*a));
    free(a);
}

static int
auth_expired(const struct hz_token *t, int32_t today)
{
    return t->expires >= 0 && today > t->expires;
}

int
hz_auth_token(const hz_auth *a, const char *secret, size_t len, int32_t today,
              const struct hz_token **tok)
{
    unsigned char h[32];
    const struct hz_token *found = NULL;

    *tok = NULL;
    if (len == 0)
        return HZ_AUTH_BAD;
    hz_auth_sha256(secret, len, h);
    /* Every hash is compared; the match is remembered, not returned early. */
    if (a->has_def && CRYPTO_memcmp(h, a->def.sha256, 32) == 0)
        found = &a->def;
    for (int i = 0; i < a->cfg->ntokens; i++)
        if (CRYPTO_memcmp(h, a->cfg->tokens[i].sha256, 32) == 0)
            found = &a->cfg->tokens[i];
    explicit_bzero(h, sizeof(h));
    if (found == NULL)
        return HZ_AUTH_BAD;
    *tok = found;
    return auth_expired(found, today) ? HZ_AUTH_EXPIRED : HZ_AUTH_OK;
}

/* ------------------------------------------------------------ sessions */

static int
auth_session_alive(const hz_auth *a, const struct auth_session *s, int64_t now)
{
    return s->tok != NULL && now - s->used < a->cfg->session_idle_minutes * 60 &&
           now - s->created < a->cfg->session_max_hours * 3600;
}

void
hz_auth_session_new(hz_auth *a, const struct hz_token *tok, int64_t now, char out[HZ_AUTH_SID_HEX])
{
    struct auth_session *slot = NULL;

    for (int i = 0; i < HZ_AUTH_SESSIONS_MAX; i++) {
        struct auth_session *s = &a->s[i];
        if (!auth_session_alive(a, s, now)) {
            slot = s;
            break;
        }
        if (slot == NULL || s->used < slot->used)
            slot = s; /* least recently used, if all are alive */
    }
    memset(slot, 0, sizeof(*slot));
    arc4random_buf(slot->id, sizeof(slot->id));
    slot->tok = tok;
    slot->created = now;
    slot->used = now;
    hz_hex(out, slot->id, sizeof(slot->id));
    a->n.logins++;
}

/* The slot of session (sid, len), alive or not, or NULL. */
static struct auth_session *
auth_session_find(hz_auth *a, const char *sid, size_t len)
{
    unsigned char id[16];
    struct auth_session *found = NULL;

    if (len != 32 || hz_unhex(id, sid, len) != 16)
        return NULL;
    for (int i = 0; i < HZ_AUTH_SESSIONS_MAX; i++)
        if (a->s[i].tok != NULL && CRYPTO_memcmp(a->s[i].id, id, sizeof(id)) == 0)
            found = &a->s[i];
    return found;
}

int
hz_auth_session_get(hz_auth *a, const char *sid, size_t len, int64_t now,
                    const struct hz_token **tok)
{
    struct auth_session *s = auth_session_find(a, sid, len);
    int32_t today = (int32_t)(now >= 0 ? now / 86400 : (now - 86399) / 86400);

    *tok = NULL;
    if (s == NULL)
        return HZ_AUTH_BAD;
    if (!auth_session_alive(a, s, now) || auth_expired(s->tok, today)) {
        *tok = s->tok;
        memset(s, 0, sizeof(*s));
        return HZ_AUTH_EXPIRED;
    }
    s->used = now;
    *tok = s->tok;
    return HZ_AUTH_OK;
}

int
hz_auth_session_end(hz_auth *a, const char *sid, size_t len)
{
    struct auth_session *s = auth_session_find(a, sid, len);

    if (s == NULL)
        return 0;
    memset(s, 0, sizeof(*s));
    a->n.logouts++;
    return 1;
}

int
hz_auth_sessions(const hz_auth *a, int64_t now)
{
    int n = 0;

    for (int i = 0; i < HZ_AUTH_SESSIONS_MAX; i++)
        n += auth_session_alive(a, &a->s[i], now);
    return n;
}

/* ------------------------------------------------------------ throttle */

/* The key of a client: IPv4 address, or the /64 of an IPv6 one (a host
 * usually has a whole /64). IPv4-mapped IPv6 is IPv4. */
static int
auth_client_key(const struct sockaddr *sa, unsigned char key[16], unsigned char *family)
{
    memset(key, 0, 16);
    if (sa == NULL)
        return -1;
    if (sa->sa_family == AF_INET) {
        memcpy(key, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        *family = 4;
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            memcpy(key, a6->s6_addr + 12, 4);
            *family = 4;
        } else {
            memcpy(key, a6->s6_addr, 8);
            *family = 6;
        }
        return 0;
    }
    return -1;
}

static struct auth_client *
auth_client_find(hz_auth *a, const struct sockaddr *sa, int create, int64_t now)
{
    unsigned char key[16], fam = 0;
    struct auth_client *free_slot = NULL;
    int best = 3;

    if (auth_client_key(sa, key, &fam) != 0)
        return NULL;
    for (int i = 0; i < HZ_AUTH_CLIENTS_MAX; i++) {
        struct auth_client *c = &a->c[i];
        int rank;
        if (c->family == fam && memcmp(c->addr, key, 16) == 0)
            return c;
        /* For a new client: a free slot, else one whose window is over,
         * else the least recently used. */
        rank = c->family == 0 ? 0 : now - c->window >= 60 ? 1 : 2;
        if (rank < best || (rank == best && free_slot != NULL && c->used < free_slot->used)) {
            best = rank;
            free_slot = c;
        }
    }
    if (!create || free_slot == NULL)
        return NULL;
    memset(free_slot, 0, sizeof(*free_slot));
    memcpy(free_slot->addr, key, 16);
    free_slot->family = fam;
    free_slot->window = now;
    free_slot->used = now;
    return free_slot;
}

int
hz_auth_throttled(hz_auth *a, const struct sockaddr *sa, int64_t now, int *retry_after)
{
    struct auth_client *c = auth_client_find(a, sa, 0, now);

    *retry_after = 0;
    if (c == NULL || now - c->window >= 60 || c->count < a->cfg->login_limit)
        return 0;
    *retry_after = (int)(c->window + 60 - now);
    if (*retry_after < 1)
        *retry_after = 1;
    a->n.throttled++;
    return 1;
}

void
hz_auth_failed(hz_auth *a, const struct sockaddr *sa, int64_t now)
{
    struct auth_client *c = auth_client_find(a, sa, 1, now);

    a->n.failed++;
    if (c == NULL)
        return;
    if (now - c->window >= 60) {
        c->window = now;
        c->count = 0;
    }
    c->count++;
    c->used = now;
}

/* ------------------------------------------------------------ scopes */

unsigned long long
hz_auth_site_mask(const hz_auth *a, const struct hz_token *tok)
{
    if (tok == NULL)
        return 0;
    if (tok->all_sites)
        return a->cfg->nsites >= 64 ? ~0ull : (1ull << a->cfg->nsites) - 1;
    return tok->sites;
}

int
hz_auth_site_ok(const hz_auth *a, const struct hz_token *tok, const char *site)
{
    const struct hz_site *s = hz_cfg_site(a->cfg, site, strlen(site));

    if (s == NULL || tok == NULL)
        return 0;
    return (hz_auth_site_mask(a, tok) >> (s - a->cfg->sites)) & 1;
}

const struct hz_auth_counters *
hz_auth_counters(const hz_auth *a)
{
    return &a->n;
}

struct hz_auth_counters *
hz_auth_counters_mut(hz_auth *a)
{
    return &a->n;
}

/* ------------------------------------------------------------ new tokens */

void
hz_auth_new_secret(char secret[40], char sha_hex[65])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[HZ_AUTH_SECRET_BYTES], h[32];
    size_t o = 0;

    arc4random_buf(raw, sizeof(raw));
    for (size_t i = 0; i < sizeof(raw); i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        secret[o++] = b64[(v >> 18) & 63];
        secret[o++] = b64[(v >> 12) & 63];
        secret[o++] = b64[(v >> 6) & 63];
        secret[o++] = b64[v & 63];
    }
    secret[o] = '\0'; /* 32 characters */
    hz_auth_sha256(secret, o, h);
    hz_hex(sha_hex, h, sizeof(h));
    explicit_bzero(raw, sizeof(raw));
}
