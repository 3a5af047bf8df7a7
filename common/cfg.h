/* SPDX-License-Identifier: MIT */
/*
 * cfg.h - haze.ini: one schema table (section, key, type, bounds, default,
 * offset into struct hz_config), parsed with inih.
 *
 * Every binary loads the whole file and rejects unknown keys; each then
 * checks that the keys it needs are set (hz_cfg_require_*). Errors have the
 * yyerror shape: "haze.ini:14: [collector] listen: expected host:port".
 * Debian's inih cuts lines at 200 bytes, so the file is pre-scanned and a
 * longer line is an error naming its line, never a silent cut. It also
 * keeps only 49 bytes of a section name, so "[site NAME]" takes a host of
 * at most 44 bytes; a longer section name is an error as well.
 *
 * The dashboard token and the Redis password are wiped with hz_cfg_free
 * (explicit_bzero). [token NAME] sections hold only hashes.
 */
#ifndef HZ_COMMON_CFG_H
#define HZ_COMMON_CFG_H

#include <stddef.h>

#include "common/err.h"
#include "common/funnel.h"
#include "common/groups.h"
#include "common/net.h"

#define HZ_SITE_MAX       128 /* a host name */
#define HZ_SITES_MAX      32
#define HZ_FUNNELS_MAX    16
#define HZ_ALIASES_MAX    8
#define HZ_SITE_PROPS_MAX 8  /* custom props kept (record.h HZ_RECORD_PROPS_MAX) */
#define HZ_SITE_PROP_MAX  64 /* a prop name, with NUL (record.h HZ_PROP_NAME_MAX) */
#define HZ_CFG_PATH_MAX   256
#define HZ_CFG_LINE_MAX   199 /* Debian inih: INI_MAX_LINE 200 */
#define HZ_TOKENS_MAX     64
#define HZ_TOKEN_NAME_MAX 40 /* "[token NAME]" within inih's 49-byte section */

enum hz_scope { HZ_SCOPE_VIEW = 0, HZ_SCOPE_ADMIN = 1 };

/*
 * A named dashboard/API token ([token NAME]). Only the SHA-256 of the
 * secret is in the file. The old [dashboard] token is not listed here: the
 * dashboard treats it as the admin token "default" for every site.
 */
struct hz_token {
    char name[HZ_TOKEN_NAME_MAX + 1];
    unsigned char sha256[32];
    int scope;                /* HZ_SCOPE_VIEW or HZ_SCOPE_ADMIN */
    int all_sites;            /* sites = * */
    unsigned long long sites; /* bit i: cfg->sites[i] */
    int expires;              /* last valid day (days since 1970-01-01, UTC), or -1 */
};

struct hz_site {
    char name[HZ_SITE_MAX]; /* the [site NAME], lowercase host */
    char timezone[64];      /* IANA name; default "UTC" */
    int naliases;
    char aliases[HZ_ALIASES_MAX][HZ_SITE_MAX]; /* other hosts of the same site */
    int nfunnels;
    struct hz_funnel funnels[HZ_FUNNELS_MAX];
    int ngroups; /* group = (issue 11, common/groups.h) */
    struct hz_group groups[HZ_GROUPS_MAX];
    int ngoals; /* goal = */
    struct hz_goal goals[HZ_GOALS_MAX];
    int ncrosstabs; /* crosstab = */
    struct hz_crosstab crosstabs[HZ_CROSSTABS_MAX];
    int nfunnel_by; /* funnel_by = : funnel steps also kept per value of these */
    enum hz_dim funnel_by[HZ_FUNNEL_BY_MAX];
    /* props = plan, author: the custom props kept (allow-list, in order;
     * names of [A-Za-z0-9_.-]); every other prop is dropped and counted. */
    int nprops;
    char props[HZ_SITE_PROPS_MAX][HZ_SITE_PROP_MAX];
};

/* Index of prop (name, len) in the site's allow-list, or -1. */
int hz_cfg_site_prop(const struct hz_site *s, const char *name, size_t len);

struct hz_config {
    char path[HZ_CFG_PATH_MAX];

    /* [redis] */
    struct hz_addr redis_address;
    char redis_stream[64];
    long redis_maxlen;        /* approximate MAXLEN cap on XADD */
    char redis_user[64];      /* ACL user ("" = AUTH with the password only) */
    char redis_password[128]; /* "" = no AUTH; wiped by hz_cfg_free */

    /* [collector] */
    struct hz_addr collector_listen;
    struct hz_cidrset trusted_proxies;
    int honor_dnt;
    int collector_threads; /* 0 = one per core */
    long max_body;         /* bytes */
    long max_url;          /* bytes of request URI */
    long max_headers;      /* bytes of all headers */
    long timeout_ms;       /* read/write timeout per connection */
    char spool_dir[HZ_CFG_PATH_MAX];
    long spool_max_mb;
    long xadd_timeout_ms;                     /* wait for Redis before spooling */
    char collector_user[32];                  /* drop root to this user ("root": stay) */
    long collector_max_conns;                 /* open client connections per process */
    long collector_request_ms;                /* deadline for a whole request (headers and body) */
    struct hz_cidrset metrics_allow;          /* who may read /metrics */
    char collector_tls_cert[HZ_CFG_PATH_MAX]; /* both set = HTTPS */
    char collector_tls_key[HZ_CFG_PATH_MAX];

    /* [geo] */
    char geo_database[HZ_CFG_PATH_MAX];

    /* [aggregator] */
    char lmdb[HZ_CFG_PATH_MAX];
    long retention_days;
    long session_minutes;
    long map_size_mb;
    long max_values;
    long batch;                /* records per batch (whole entries; an entry holds 1-64) */
    long batch_wait_ms;        /* a batch that is not full waits this long for more */
    char group[64];            /* consumer group */
    long stream_keep_seconds;  /* applied hit ids are kept this long (common/idlog.h) */
    long keep_applied_seconds; /* applied entries younger than this stay in the stream */
    char aggregator_user[32];
    long clock_skew_seconds; /* entries dated further ahead of now are invalid */

    /* [dashboard] */
    struct hz_addr dashboard_listen;
    char token[128];
    long min_visitors;
    char dashboard_user[32];
    long dashboard_max_conns;
    long dashboard_request_ms;
    char dashboard_tls_cert[HZ_CFG_PATH_MAX]; /* both set = HTTPS */
    char dashboard_tls_key[HZ_CFG_PATH_MAX];
    char audit_log[HZ_CFG_PATH_MAX]; /* "" = no audit log */
    long audit_retention_days;
    long session_idle_minutes;
    long session_max_hours;
    long login_limit; /* failed logins per client address per minute */

    /* [token NAME] */
    int ntokens;
    struct hz_token tokens[HZ_TOKENS_MAX];

    /* [site NAME] */
    int nsites;
    struct hz_site sites[HZ_SITES_MAX];
};

/* Loads and validates path into *c (all defaults applied first).
 * 0, or HZ_ECONFIG with err->msg "FILE:LINE: [section] key: reason". */
int hz_cfg_load(struct hz_config *c, const char *path, struct hz_err *err);

/* The same over a string; name is used in messages (tests, fuzzing). */
int hz_cfg_parse_string(struct hz_config *c, const char *text, const char *name,
                        struct hz_err *err);

/* Per-binary requirements; 0 or HZ_ECONFIG "FILE: [section] key: required". */
int hz_cfg_require_collector(const struct hz_config *c, struct hz_err *err);
int hz_cfg_require_aggregator(const struct hz_config *c, struct hz_err *err);
int hz_cfg_require_dashboard(const struct hz_config *c, struct hz_err *err);

/* Finds a site by host (exact name or alias, ASCII case-insensitive).
 * Returns a pointer into c, or NULL. */
const struct hz_site *hz_cfg_site(const struct hz_config *c, const char *host, size_t len);

/* The token named name, or NULL. */
const struct hz_token *hz_cfg_token(const struct hz_config *c, const char *name);

/* Wipes secrets (the token, the Redis password). The struct holds no heap memory. */
void hz_cfg_free(struct hz_config *c);

#endif
