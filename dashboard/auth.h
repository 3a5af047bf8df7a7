/* SPDX-License-Identifier: MIT */
/*
 * auth.h - who is asking: named tokens, per-login sessions and the login
 * throttle of haze-dashboard. No I/O beyond the random generator, so the
 * unit tests drive it with their own clock.
 *
 * Tokens: [token NAME] sections hold the SHA-256 of each secret; the old
 * [dashboard] token is the admin token "default" for every site. A
 * presented secret is hashed and compared with every token's hash in
 * constant time (CRYPTO_memcmp), so neither its length nor where it
 * differs shows in the time taken.
 *
 * Sessions: each login gets a new random 128-bit session id (the cookie
 * value). The table lives in this process only: logout removes the entry,
 * and a session ends after session_idle_minutes without a request or
 * session_max_hours after the login, whichever comes first. A full table
 * drops its least recently used session.
 *
 * Throttle: failed logins and wrong bearer tokens are counted per client
 * address (IPv6 per /64) in one-minute windows; at login_limit failures
 * the address gets 429 until its window ends. Other addresses are not
 * affected. Addresses are kept in memory only, never logged.
 */
#ifndef HZ_DASHBOARD_AUTH_H
#define HZ_DASHBOARD_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/cfg.h"

typedef struct hz_auth hz_auth;

#define HZ_AUTH_SID_HEX      33 /* 32 hex digits + NUL */
#define HZ_AUTH_SESSIONS_MAX 1024
#define HZ_AUTH_CLIENTS_MAX  1024
#define HZ_AUTH_SECRET_BYTES 24 /* --new-token: 192 random bits */

enum {
    HZ_AUTH_OK = 0,
    HZ_AUTH_BAD = 1,     /* no token has this secret / no such session */
    HZ_AUTH_EXPIRED = 2, /* the token's expires date has passed */
};

struct hz_auth_counters {
    uint64_t failed;    /* failed logins and wrong bearer tokens */
    uint64_t throttled; /* answers 429 */
    uint64_t logins, logouts;
};

/* cfg is borrowed and must outlive a. Returns 0. */
int hz_auth_new(hz_auth **out, const struct hz_config *cfg);
/* Wipes sessions and hashes. NULL is a no-op. */
void hz_auth_free(hz_auth *a);

/*
 * The token whose secret is (secret, len), valid on UTC day today. OK
 * with *tok set; EXPIRED with *tok set (for the reason and the audit
 * log); BAD with *tok NULL.
 */
int hz_auth_token(const hz_auth *a, const char *secret, size_t len, int32_t today,
                  const struct hz_token **tok);

/* A new session for tok at time now (seconds); its id in out. */
void hz_auth_session_new(hz_auth *a, const struct hz_token *tok, int64_t now,
                         char out[HZ_AUTH_SID_HEX]);
/* The session (sid, len): OK and *tok (its last use moves to now), EXPIRED
 * (idle or absolute limit, or the token expired; the session is removed),
 * or BAD. */
int hz_auth_session_get(hz_auth *a, const char *sid, size_t len, int64_t now,
                        const struct hz_token **tok);
/* Removes the session (sid, len). 1 if there was one. */
int hz_auth_session_end(hz_auth *a, const char *sid, size_t len);
/* Sessions alive at now. */
int hz_auth_sessions(const hz_auth *a, int64_t now);

/* 1 if the client sa may not try now; *retry_after = seconds to wait. */
int hz_auth_throttled(hz_auth *a, const struct sockaddr *sa, int64_t now, int *retry_after);
/* Counts one failure of sa at now. */
void hz_auth_failed(hz_auth *a, const struct sockaddr *sa, int64_t now);

/* 1 if tok may read site (a configured site name). */
int hz_auth_site_ok(const hz_auth *a, const struct hz_token *tok, const char *site);
/* Bit i set when tok may read cfg->sites[i]. */
unsigned long long hz_auth_site_mask(const hz_auth *a, const struct hz_token *tok);

const struct hz_auth_counters *hz_auth_counters(const hz_auth *a);
struct hz_auth_counters *hz_auth_counters_mut(hz_auth *a);

/*
 * --new-token: a new random secret (base64url, no padding) in secret and
 * the SHA-256 of it in hex in sha_hex. secret needs 40 bytes, sha_hex 65.
 */
void hz_auth_new_secret(char secret[40], char sha_hex[65]);
/* SHA-256 of (s, len) into out. */
void hz_auth_sha256(const char *s, size_t len, unsigned char out[32]);

#endif
