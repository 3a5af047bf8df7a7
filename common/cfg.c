/* SPDX-License-Identifier: MIT */
/*
 * cfg.c - the INI schema table and the inih handler.
 *
 * inih (Debian 55) gives the handler no line number and never reports a
 * section without keys, so cfg.c feeds inih through its own line reader:
 * the reader counts lines (the handler's errors carry the true line) and
 * hands each "[section]" header to the handler itself, so an empty
 * "[site NAME]" still declares the site.
 */
#include "common/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "common/str.h"
#include "common/tz.h"

enum cfg_type { CFG_STR, CFG_PATH, CFG_INT, CFG_BOOL, CFG_ADDR, CFG_CIDRS };

struct cfg_key {
    const char *section;
    const char *key;
    enum cfg_type type;
    long min, max;
    const char *def;
    size_t off;
    size_t size; /* for strings */
};

#define F(field) offsetof(struct hz_config, field), sizeof(((struct hz_config *)0)->field)

/* clang-format off */
static const struct cfg_key cfg_schema[] = {
    { "redis", "address", CFG_ADDR, 0, 0, "127.0.0.1:6379", F(redis_address) },
    { "redis", "stream", CFG_STR, 1, 63, "haze:events", F(redis_stream) },
    { "redis", "maxlen", CFG_INT, 1000, 1000000000, "10000000", F(redis_maxlen) },
    { "redis", "user", CFG_STR, 0, 63, "", F(redis_user) },
    { "redis", "password", CFG_STR, 0, 127, "", F(redis_password) },

    { "collector", "listen", CFG_ADDR, 0, 0, "0.0.0.0:8080", F(collector_listen) },
    { "collector", "trusted_proxies", CFG_CIDRS, 0, 0, "127.0.0.1/8 ::1", F(trusted_proxies) },
    { "collector", "honor_dnt", CFG_BOOL, 0, 1, "yes", F(honor_dnt) },
    { "collector", "threads", CFG_INT, 0, 64, "0", F(collector_threads) },
    { "collector", "max_body", CFG_INT, 256, 1048576, "8192", F(max_body) },
    { "collector", "max_url", CFG_INT, 256, 65536, "4096", F(max_url) },
    { "collector", "max_headers", CFG_INT, 1024, 65536, "8192", F(max_headers) },
    { "collector", "timeout_ms", CFG_INT, 100, 600000, "10000", F(timeout_ms) },
    { "collector", "spool_dir", CFG_PATH, 0, 0, "/var/lib/haze/spool", F(spool_dir) },
    { "collector", "spool_max_mb", CFG_INT, 1, 1048576, "256", F(spool_max_mb) },
    { "collector", "redis_timeout_ms", CFG_INT, 10, 60000, "500", F(xadd_timeout_ms) },
    { "collector", "user", CFG_STR, 1, 31, "haze", F(collector_user) },
    { "collector", "max_connections", CFG_INT, 16, 1000000, "4096", F(collector_max_conns) },
    { "collector", "request_timeout_ms", CFG_INT, 100, 600000, "10000", F(collector_request_ms) },
    { "collector", "metrics_allow", CFG_CIDRS, 0, 0, "127.0.0.1/8 ::1", F(metrics_allow) },
    { "collector", "tls_cert", CFG_PATH, 0, 0, "", F(collector_tls_cert) },
    { "collector", "tls_key", CFG_PATH, 0, 0, "", F(collector_tls_key) },

    { "geo", "database", CFG_PATH, 0, 0, "", F(geo_database) },

    { "aggregator", "lmdb", CFG_PATH, 0, 0, "/var/lib/haze/db", F(lmdb) },
    { "aggregator", "retention_days", CFG_INT, 1, 3650, "400", F(retention_days) },
    { "aggregator", "session_minutes", CFG_INT, 1, 1440, "30", F(session_minutes) },
    { "aggregator", "map_size_mb", CFG_INT, 1, 1048576, "1024", F(map_size_mb) },
    { "aggregator", "max_values", CFG_INT, 10, 10000000, "10000", F(max_values) },
    { "aggregator", "batch", CFG_INT, 1, 100000, "5000", F(batch) },
    { "aggregator", "batch_wait_ms", CFG_INT, 0, 5000, "200", F(batch_wait_ms) },
    { "aggregator", "group", CFG_STR, 1, 63, "haze-aggregator", F(group) },
    { "aggregator", "stream_keep_seconds", CFG_INT, 0, 3600, "120", F(stream_keep_seconds) },
    { "aggregator", "keep_applied_seconds", CFG_INT, 0, 3600, "0", F(keep_applied_seconds) },
    { "aggregator", "user", CFG_STR, 1, 31, "haze", F(aggregator_user) },
    { "aggregator", "clock_skew_seconds", CFG_INT, 0, 86400, "300", F(clock_skew_seconds) },

    { "dashboard", "listen", CFG_ADDR, 0, 0, "127.0.0.1:8081", F(dashboard_listen) },
    { "dashboard", "token", CFG_STR, 0, 127, "", F(token) },
    { "dashboard", "min_visitors", CFG_INT, 1, 1000000, "5", F(min_visitors) },
    { "dashboard", "user", CFG_STR, 1, 31, "haze", F(dashboard_user) },
    { "dashboard", "max_connections", CFG_INT, 16, 1000000, "1024", F(dashboard_max_conns) },
    { "dashboard", "request_timeout_ms", CFG_INT, 100, 600000, "10000", F(dashboard_request_ms) },
    { "dashboard", "tls_cert", CFG_PATH, 0, 0, "", F(dashboard_tls_cert) },
    { "dashboard", "tls_key", CFG_PATH, 0, 0, "", F(dashboard_tls_key) },
    { "dashboard", "audit_log", CFG_PATH, 0, 0, "", F(audit_log) },
    { "dashboard", "audit_retention_days", CFG_INT, 1, 3650, "400", F(audit_retention_days) },
    { "dashboard", "session_idle_minutes", CFG_INT, 1, 1440, "60", F(session_idle_minutes) },
    { "dashboard", "session_max_hours", CFG_INT, 1, 720, "12", F(session_max_hours) },
    { "dashboard", "login_limit", CFG_INT, 1, 10000, "10", F(login_limit) },
};
/* clang-format on */

#define CFG_NKEYS (sizeof(cfg_schema) / sizeof(cfg_schema[0]))

/* Debian's inih keeps 49 bytes of a section name (MAX_SECTION 50) and
 * silently drops the rest; a longer name is refused instead. */
#define CFG_SECTION_MAX 49

struct cfg_state {
    struct hz_config *c;
    const char *name;
    const char *next; /* reader: the rest of the text */
    int line;         /* reader: number of the line inih is parsing */
    int prev_key;     /* reader: inih would take an indented line as a continuation */
    int failed;
    int fail_line;
    char msg[HZ_ERR_MSG];
    unsigned char seen[CFG_NKEYS];
    struct hz_site *site; /* current [site NAME], or NULL */
    int site_seen_tz;
    struct hz_token *tok;        /* current [token NAME], or NULL */
    unsigned tok_seen;           /* keys seen in it (bit per key) */
    int tok_line[HZ_TOKENS_MAX]; /* line of each token's sites = (for late errors) */
    char tok_sites[HZ_TOKENS_MAX][HZ_CFG_LINE_MAX + 1];
};

/* Sets one typed value; returns NULL or a static reason. */
static const char *
cfg_set(struct hz_config *c, const struct cfg_key *k, const char *value, char *why, size_t whylen)
{
    char *dst = (char *)c + k->off;
    size_t len = strlen(value);
    const char *errstr;
    struct hz_err e;

    switch (k->type) {
    case CFG_STR:
    case CFG_PATH:
        if (len >= k->size || (k->type == CFG_STR && (long)len > k->max))
            return "value too long";
        if (k->type == CFG_STR && len < (size_t)k->min)
            return "must not be empty";
        if (!hz_text_valid(value, len))
            return "invalid characters";
        memcpy(dst, value, len + 1);
        return NULL;
    case CFG_INT: {
        long long v = hz_strtonum(value, k->min, k->max, &errstr);
        if (errstr != NULL) {
            (void)snprintf(why, whylen, "expected an integer %ld..%ld (%s)", k->min, k->max,
                           errstr);
            return why;
        }
        if (k->size == sizeof(int))
            *(int *)(void *)dst = (int)v;
        else
            *(long *)(void *)dst = (long)v;
        return NULL;
    }
    case CFG_BOOL:
        if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "1") == 0 ||
            strcmp(value, "on") == 0)
            *(int *)(void *)dst = 1;
        else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 ||
                 strcmp(value, "0") == 0 || strcmp(value, "off") == 0)
            *(int *)(void *)dst = 0;
        else
            return "expected yes or no";
        return NULL;
    case CFG_ADDR:
        if (hz_addr_parse(value, len, (struct hz_addr *)(void *)dst, &e) != 0) {
            (void)hz_strlcpy(why, e.msg, whylen);
            return why;
        }
        return NULL;
    case CFG_CIDRS:
        if (hz_cidrset_parse(value, len, (struct hz_cidrset *)(void *)dst, &e) != 0) {
            (void)hz_strlcpy(why, e.msg, whylen);
            return why;
        }
        return NULL;
    }
    return "unknown type";
}

/* Records the first error with its line; key is NULL for a section
 * header. Returns 0, inih's "error" from a handler. */
static int
cfg_fail(struct cfg_state *st, const char *section, const char *key, const char *reason)
{
    if (!st->failed) {
        if (key != NULL)
            (void)snprintf(st->msg, sizeof(st->msg), "[%.60s] %.40s: %.80s", section, key, reason);
        else
            (void)snprintf(st->msg, sizeof(st->msg), "[%.60s]: %.80s", section, reason);
        st->failed = 1;
        st->fail_line = st->line;
    }
    return 0;
}

/* A host name as a site: lowercase letters, digits, '-', '.', and ':' for a port. */
/* The next item of a list value ("a, b c"): skips separators (spaces,
 * commas) at *p and returns the item's length, 0 at the end. */
static size_t
cfg_list_next(const char **p)
{
    while (**p == ' ' || **p == ',')
        (*p)++;
    return strcspn(*p, " ,");
}

static int
cfg_host_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= HZ_SITE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
              ch == ':'))
            return 0;
    }
    return 1;
}

/* An IANA zone name that exists in the system's zoneinfo. */
static int
cfg_tz_valid(const char *tz)
{
    char path[160];
    struct stat sb;

    if (strcmp(tz, "UTC") == 0)
        return 1;
    if (tz[0] == '\0' || tz[0] == '/' || strstr(tz, "..") != NULL || strlen(tz) > 60)
        return 0;
    for (const char *p = tz; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '/' || *p == '_' || *p == '-' || *p == '+'))
            return 0;
    (void)snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The site whose name or alias is host, or NULL. */
static const struct hz_site *
cfg_host_owner(const struct hz_config *c, const char *host)
{
    return hz_cfg_site(c, host, strlen(host));
}

/*
 * group =, goal =, crosstab = (common/groups.h): appended to the site; a
 * duplicate name or pair is an error. 0, or -1 with e->msg.
 */
static int
cfg_site_issue11(struct hz_site *s, const char *name, const char *value, int line, struct hz_err *e)
{
    size_t len = strlen(value);

    if (strcmp(name, "group") == 0) {
        if (s->ngroups >= HZ_GROUPS_MAX)
            return hz_err_set(e, -1, "too many groups (%d at most)", HZ_GROUPS_MAX);
        if (hz_group_parse(value, len, &s->groups[s->ngroups], e) != 0)
            return -1;
        for (int i = 0; i < s->ngroups; i++)
            if (strcmp(s->groups[i].name, s->groups[s->ngroups].name) == 0)
                return hz_err_set(e, -1, "duplicate group name");
        s->ngroups++;
        return 0;
    }
    if (strcmp(name, "goal") == 0) {
        if (s->ngoals >= HZ_GOALS_MAX)
            return hz_err_set(e, -1, "too many goals (%d at most)", HZ_GOALS_MAX);
        if (hz_goal_parse(value, len, &s->goals[s->ngoals], e) != 0)
            return -1;
        for (int i = 0; i < s->ngoals; i++)
            if (strcmp(s->goals[i].name, s->goals[s->ngoals].name) == 0)
                return hz_err_set(e, -1, "duplicate goal");
        s->ngoals++;
        return 0;
    }
    if (strcmp(name, "funnel_by") == 0) {
        if (s->nfunnel_by > 0)
            return hz_err_set(e, -1, "duplicate key");
        return hz_funnel_by_parse(value, len, s->funnel_by, &s->nfunnel_by, e) != 0 ? -1 : 0;
    }
    if (s->ncrosstabs >= HZ_CROSSTABS_MAX)
        return hz_err_set(e, -1, "too many pairs (%d at most)", HZ_CROSSTABS_MAX);
    if (hz_crosstab_parse(value, len, &s->crosstabs[s->ncrosstabs], e) != 0)
        return -1;
    for (int i = 0; i < s->ncrosstabs; i++) {
        const struct hz_crosstab *x = &s->crosstabs[i], *y = &s->crosstabs[s->ncrosstabs];
        if ((x->a == y->a && x->b == y->b) || (x->a == y->b && x->b == y->a))
            return hz_err_set(e, -1, "duplicate pair");
    }
    s->crosstabs[s->ncrosstabs++].line = line;
    return 0;
}

static int
cfg_site_key(struct cfg_state *st, const char *section, const char *name, const char *value)
{
    struct hz_site *s = st->site;
    struct hz_err e;

    if (strcmp(name, "timezone") == 0) {
        if (st->site_seen_tz)
            return cfg_fail(st, section, name, "duplicate key");
        if (!cfg_tz_valid(value))
            return cfg_fail(st, section, name, "unknown time zone");
        (void)hz_strlcpy(s->timezone, value, sizeof(s->timezone));
        st->site_seen_tz = 1;
        return 1;
    }
    if (strcmp(name, "funnel") == 0) {
        if (s->nfunnels >= HZ_FUNNELS_MAX)
            return cfg_fail(st, section, name, "too many funnels (16 at most)");
        if (hz_funnel_parse(value, strlen(value), &s->funnels[s->nfunnels], &e) != 0)
            return cfg_fail(st, section, name, e.msg);
        for (int i = 0; i < s->nfunnels; i++)
            if (strcmp(s->funnels[i].name, s->funnels[s->nfunnels].name) == 0)
                return cfg_fail(st, section, name, "duplicate funnel name");
        s->nfunnels++;
        return 1;
    }
    if (strcmp(name, "group") == 0 || strcmp(name, "goal") == 0 || strcmp(name, "crosstab") == 0 ||
        strcmp(name, "funnel_by") == 0) {
        int rc = cfg_site_issue11(s, name, value, st->line, &e);
        if (rc < 0)
            return cfg_fail(st, section, name, e.msg);
        return 1;
    }
    if (strcmp(name, "aliases") == 0) {
        const char *p = value;
        while (*p) {
            size_t n;
            if ((n = cfg_list_next(&p)) == 0)
                break;
            if (s->naliases >= HZ_ALIASES_MAX)
                return cfg_fail(st, section, name, "too many aliases (8 at most)");
            if (n >= HZ_SITE_MAX)
                return cfg_fail(st, section, name, "alias too long");
            memcpy(s->aliases[s->naliases], p, n);
            s->aliases[s->naliases][n] = '\0';
            if (!cfg_host_valid(s->aliases[s->naliases]))
                return cfg_fail(st, section, name, "aliases must be lowercase host names");
            /* A host in two sites would count for whichever comes first. */
            const struct hz_site *owner = cfg_host_owner(st->c, s->aliases[s->naliases]);
            if (owner != NULL) {
                char why[HZ_ERR_MSG];
                (void)snprintf(why, sizeof(why), "%.60s is already used by site %.60s",
                               s->aliases[s->naliases], owner->name);
                s->aliases[s->naliases][0] = '\0';
                return cfg_fail(st, section, name, why);
            }
            s->naliases++;
            p += n;
        }
        return 1;
    }
    if (strcmp(name, "props") == 0) {
        const char *p = value;
        while (*p) {
            size_t n;
            if ((n = cfg_list_next(&p)) == 0)
                break;
            if (s->nprops >= HZ_SITE_PROPS_MAX)
                return cfg_fail(st, section, name, "too many props (8 at most)");
            if (n >= HZ_SITE_PROP_MAX)
                return cfg_fail(st, section, name, "prop name too long (63 bytes at most)");
            for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)p[i]) && p[i] != '_' && p[i] != '-' && p[i] != '.')
                    return cfg_fail(st, section, name,
                                    "prop names are letters, digits, '_', '-' and '.'");
            if (hz_cfg_site_prop(s, p, n) >= 0)
                return cfg_fail(st, section, name, "duplicate prop");
            memcpy(s->props[s->nprops], p, n);
            s->props[s->nprops][n] = '\0';
            s->nprops++;
            p += n;
        }
        return 1;
    }
    return cfg_fail(st, section, name, "unknown key");
}

/* A token name: lowercase letters, digits, '-', '_', '.'. */
static int
cfg_token_name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > HZ_TOKEN_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
              ch == '.'))
            return 0;
    }
    return 1;
}

/* One key of a [token NAME] section. */
static int
cfg_token_key(struct cfg_state *st, const char *section, const char *name, const char *value)
{
    static const char *const keys[] = {"sha256", "sites", "scope", "expires"};
    struct hz_token *t = st->tok;
    size_t k;

    for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
        if (strcmp(name, keys[k]) == 0)
            break;
    if (k == sizeof(keys) / sizeof(keys[0]))
        return cfg_fail(st, section, name, "unknown key");
    if (st->tok_seen & (1u << k))
        return cfg_fail(st, section, name, "duplicate key");
    st->tok_seen |= 1u << k;
    switch (k) {
    case 0: /* sha256 */
        if (strlen(value) != 64 || hz_unhex(t->sha256, value, 64) != 32)
            return cfg_fail(st, section, name,
                            "expected 64 hex digits (haze-dashboard --new-token prints them)");
        return 1;
    case 1: { /* sites: resolved when the whole file is read */
        int i = (int)(t - st->c->tokens);
        (void)hz_strlcpy(st->tok_sites[i], value, sizeof(st->tok_sites[i]));
        st->tok_line[i] = st->line;
        return 1;
    }
    case 2: /* scope */
        if (strcmp(value, "view") == 0)
            t->scope = HZ_SCOPE_VIEW;
        else if (strcmp(value, "admin") == 0)
            t->scope = HZ_SCOPE_ADMIN;
        else
            return cfg_fail(st, section, name, "expected view or admin");
        return 1;
    default: { /* expires */
        int32_t day;
        if (strlen(value) != 10 || hz_date_parse(value, &day) != 0)
            return cfg_fail(st, section, name, "expected a date YYYY-MM-DD");
        t->expires = (int)day;
        return 1;
    }
    }
}

/* The [token NAME] header: a new token. */
static int
cfg_token_section(struct cfg_state *st, const char *section)
{
    struct hz_config *c = st->c;
    const char *tname = section + 6;

    st->tok = NULL;
    while (*tname == ' ')
        tname++;
    if (!cfg_token_name_valid(tname))
        return cfg_fail(st, section, NULL, "token name must be 1-40 of a-z, 0-9, '-', '_', '.'");
    if (hz_cfg_token(c, tname) != NULL)
        return cfg_fail(st, section, NULL, "duplicate token section");
    if (c->ntokens >= HZ_TOKENS_MAX)
        return cfg_fail(st, section, NULL, "too many tokens (64 at most)");
    st->tok = &c->tokens[c->ntokens++];
    memset(st->tok, 0, sizeof(*st->tok));
    (void)hz_strlcpy(st->tok->name, tname, sizeof(st->tok->name));
    st->tok->expires = -1;
    st->tok_seen = 0;
    return 1;
}

/* After the whole file: every token has its hash and sites, and its sites
 * are declared. Reports "NAME:LINE: [token N] key: reason". */
static int
cfg_tokens_check(struct cfg_state *st)
{
    struct hz_config *c = st->c;
    char section[64], why[HZ_ERR_MSG];

    for (int i = 0; i < c->ntokens; i++) {
        struct hz_token *t = &c->tokens[i];
        const char *p = st->tok_sites[i];
        static const unsigned char zero[32];

        (void)snprintf(section, sizeof(section), "token %s", t->name);
        st->line = st->tok_line[i];
        if (strcmp(t->name, "default") == 0 && c->token[0] != '\0')
            return cfg_fail(st, section, NULL,
                            "\"default\" is the name of [dashboard] token; pick another");
        if (memcmp(t->sha256, zero, sizeof(zero)) == 0)
            return cfg_fail(st, section, "sha256", "required");
        if (p[0] == '\0')
            return cfg_fail(st, section, "sites", "required (host names, or *)");
        while (*p) {
            char host[HZ_SITE_MAX];
            const struct hz_site *s;
            size_t n;
            if ((n = cfg_list_next(&p)) == 0)
                break;
            if (n == 1 && p[0] == '*') {
                t->all_sites = 1;
            } else {
                if (n >= sizeof(host))
                    return cfg_fail(st, section, "sites", "host name too long");
                memcpy(host, p, n);
                host[n] = '\0';
                if ((s = hz_cfg_site(c, host, n)) == NULL) {
                    (void)snprintf(why, sizeof(why), "no [site %.60s] in this file", host);
                    return cfg_fail(st, section, "sites", why);
                }
                t->sites |= 1ull << (s - c->sites);
            }
            p += n;
        }
    }
    return 0;
}

int
hz_cfg_site_prop(const struct hz_site *s, const char *name, size_t len)
{
    for (int i = 0; i < s->nprops; i++)
        if (strlen(s->props[i]) == len && memcmp(s->props[i], name, len) == 0)
            return i;
    return -1;
}

static int
cfg_handler(void *user, const char *section, const char *name, const char *value)
{
    struct cfg_state *st = user;
    struct hz_config *c = st->c;
    char why[HZ_ERR_MSG];
    const char *reason;

    if (st->failed)
        return 0;
    if (strncmp(section, "site ", 5) == 0 || strcmp(section, "site") == 0) {
        const char *host = section[4] == ' ' ? section + 5 : "";
        while (*host == ' ')
            host++;
        /* name == NULL is the header itself (from cfg_read): always a new
         * section, so "[site a]" twice in a row is a duplicate. */
        if (name == NULL || st->site == NULL || strcmp(st->site->name, host) != 0) {
            const struct hz_site *owner;
            st->site = NULL;
            if (!cfg_host_valid(host))
                return cfg_fail(st, section, name, "site name must be a lowercase host name");
            for (int i = 0; i < c->nsites; i++)
                if (strcmp(c->sites[i].name, host) == 0)
                    return cfg_fail(st, section, name, "duplicate site section");
            if ((owner = cfg_host_owner(c, host)) != NULL) {
                (void)snprintf(why, sizeof(why), "already an alias of site %.60s", owner->name);
                return cfg_fail(st, section, name, why);
            }
            if (c->nsites >= HZ_SITES_MAX)
                return cfg_fail(st, section, name, "too many sites (32 at most)");
            st->site = &c->sites[c->nsites++];
            memset(st->site, 0, sizeof(*st->site));
            (void)hz_strlcpy(st->site->name, host, sizeof(st->site->name));
            (void)hz_strlcpy(st->site->timezone, "UTC", sizeof(st->site->timezone));
            st->site_seen_tz = 0;
        }
        if (name == NULL)
            return 1;
        return cfg_site_key(st, section, name, value);
    }
    st->site = NULL;
    if (strncmp(section, "token ", 6) == 0 || strcmp(section, "token") == 0) {
        if (name == NULL)
            return strcmp(section, "token") == 0
                       ? cfg_fail(st, section, NULL, "expected [token NAME]")
                       : cfg_token_section(st, section);
        if (st->tok == NULL)
            return 0; /* the header failed */
        return cfg_token_key(st, section, name, value);
    }
    st->tok = NULL;
    if (name == NULL) /* a section header (from cfg_read) */
        return 1;
    for (size_t i = 0; i < CFG_NKEYS; i++) {
        const struct cfg_key *k = &cfg_schema[i];
        if (strcmp(k->section, section) != 0 || strcmp(k->key, name) != 0)
            continue;
        if (st->seen[i])
            return cfg_fail(st, section, name, "duplicate key");
        st->seen[i] = 1;
        reason = cfg_set(c, k, value, why, sizeof(why));
        if (reason != NULL)
            return cfg_fail(st, section, name, reason);
        return 1;
    }
    for (size_t i = 0; i < CFG_NKEYS; i++)
        if (strcmp(cfg_schema[i].section, section) == 0)
            return cfg_fail(st, section, name, "unknown key");
    return cfg_fail(st, section, name, "unknown section");
}

static void
cfg_defaults(struct hz_config *c)
{
    char why[HZ_ERR_MSG];

    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < CFG_NKEYS; i++)
        if (cfg_set(c, &cfg_schema[i], cfg_schema[i].def, why, sizeof(why)) != NULL &&
            cfg_schema[i].def[0] != '\0')
            abort(); /* a bad default is a programmer error */
}

/* Fails on a line longer than inih's buffer, naming the line. The '\r'
 * of a "\r\n" ending does not count: cfg_read drops it. */
static int
cfg_prescan(const char *text, const char *name, struct hz_err *err)
{
    int line = 1;
    size_t col = 0;

    for (const char *p = text; *p; p++) {
        if (*p == '\n') {
            line++;
            col = 0;
            continue;
        }
        if (*p == '\r' && p[1] == '\n')
            continue;
        if (++col > HZ_CFG_LINE_MAX)
            return hz_err_set(err, HZ_ECONFIG, "%s:%d: line longer than %d bytes", name, line,
                              HZ_CFG_LINE_MAX);
    }
    return 0;
}

/* inih's find_chars_or_comment: the first of chars, or of an inline ';'
 * comment that follows whitespace, or the end of s. */
static const char *
cfg_find(const char *s, const char *chars)
{
    int was_space = 0;

    while (*s != '\0' && strchr(chars, *s) == NULL && !(was_space && *s == ';')) {
        was_space = isspace((unsigned char)*s);
        s++;
    }
    return s;
}

/* Seen by the reader before inih parses the line: a "[section]" header
 * is passed to the handler with a NULL key. It follows inih's own rules
 * (comments, BOM, an indented line after a key continues that key). */
static void
cfg_header(struct cfg_state *st, const char *line)
{
    const char *p = line, *end;
    char section[64];
    int indented;

    if (st->line == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    while (isspace((unsigned char)*p))
        p++;
    indented = p > line;
    if (*p == '\0' || *p == ';' || *p == '#' || (indented && st->prev_key))
        return;
    if (*p != '[') {
        end = cfg_find(p, "=:");
        st->prev_key |= *end != '\0' && *end != ';'; /* else inih's syntax error */
        return;
    }
    end = cfg_find(p + 1, "]");
    if (*end != ']') /* inih reports the syntax error */
        return;
    st->prev_key = 0;
    (void)snprintf(section, sizeof(section), "%.*s", (int)(end - p - 1), p + 1);
    if (end - p - 1 > CFG_SECTION_MAX)
        (void)cfg_fail(st, section, NULL, "section name longer than 49 bytes");
    else
        (void)cfg_handler(st, section, NULL, NULL);
}

/* inih's ini_reader over the text: one line per call, without its
 * "\n" or "\r\n" (inih strips trailing space anyway), so a line of exactly
 * HZ_CFG_LINE_MAX bytes fits inih's buffer whole and inih's line count
 * stays the file's. */
static char *
cfg_read(char *buf, int size, void *stream)
{
    struct cfg_state *st = stream;
    const char *p = st->next, *nl;
    size_t n;

    if (*p == '\0')
        return NULL;
    nl = strchr(p, '\n');
    n = nl != NULL ? (size_t)(nl - p) : strlen(p);
    st->next = p + n + (nl != NULL);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (n > (size_t)size - 1) /* cannot happen after cfg_prescan */
        n = (size_t)size - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    st->line++;
    if (!st->failed)
        cfg_header(st, buf);
    return buf;
}

int
hz_cfg_parse_string(struct hz_config *c, const char *text, const char *name, struct hz_err *err)
{
    struct cfg_state *st;
    int rc, ret = 0;

    cfg_defaults(c);
    (void)hz_strlcpy(c->path, name, sizeof(c->path));
    if ((rc = cfg_prescan(text, name, err)) != 0)
        return rc;
    st = calloc(1, sizeof(*st));
    if (st == NULL)
        return hz_err_set(err, HZ_ECONFIG, "%s: out of memory", name);
    st->c = c;
    st->name = name;
    st->next = text;
    rc = ini_parse_stream(cfg_read, st, cfg_handler, st);
    if (rc == 0 && !st->failed)
        (void)cfg_tokens_check(st);
    /* The first error wins: ours (possibly from a header, which inih does
     * not see) or inih's syntax error on an earlier line. */
    if (st->failed && (rc == 0 || st->fail_line <= rc))
        ret = hz_err_set(err, HZ_ECONFIG, "%s:%d: %s", name, st->fail_line, st->msg);
    else if (rc != 0)
        ret = hz_err_set(err, HZ_ECONFIG, "%s:%d: syntax error (expected [section] or key = value)",
                         name, rc);
    free(st);
    return ret;
}

int
hz_cfg_load(struct hz_config *c, const char *path, struct hz_err *err)
{
    FILE *f;
    char *buf;
    size_t n;
    long sz;
    int rc;

    f = fopen(path, "r");
    if (f == NULL)
        return hz_err_set(err, HZ_ECONFIG, "%s: cannot open: %s", path, hz_strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || sz > 1 << 20 ||
        fseek(f, 0, SEEK_SET) != 0) {
        (void)fclose(f);
        return hz_err_set(err, HZ_ECONFIG, "%s: unreadable or larger than 1 MiB", path);
    }
    buf = malloc((size_t)sz + 1);
    if (buf == NULL) {
        (void)fclose(f);
        return hz_err_set(err, HZ_ECONFIG, "%s: out of memory", path);
    }
    n = fread(buf, 1, (size_t)sz, f);
    (void)fclose(f);
    buf[n] = '\0';
    if (memchr(buf, '\0', n) != NULL) {
        free(buf);
        return hz_err_set(err, HZ_ECONFIG, "%s: contains a NUL byte", path);
    }
    rc = hz_cfg_parse_string(c, buf, path, err);
    explicit_bzero(buf, n);
    free(buf);
    return rc;
}

int
hz_cfg_require_collector(const struct hz_config *c, struct hz_err *err)
{
    if (c->geo_database[0] == '\0')
        return hz_err_set(err, HZ_ECONFIG, "%s: [geo] database: required", c->path);
    if (c->nsites == 0)
        return hz_err_set(err, HZ_ECONFIG, "%s: [site NAME]: at least one site is required",
                          c->path);
    if ((c->collector_tls_cert[0] == '\0') != (c->collector_tls_key[0] == '\0'))
        return hz_err_set(err, HZ_ECONFIG,
                          "%s: [collector] tls_cert and tls_key: set both or neither", c->path);
    return 0;
}

int
hz_cfg_require_aggregator(const struct hz_config *c, struct hz_err *err)
{
    if (c->lmdb[0] == '\0')
        return hz_err_set(err, HZ_ECONFIG, "%s: [aggregator] lmdb: required", c->path);
    return 0;
}

int
hz_cfg_require_dashboard(const struct hz_config *c, struct hz_err *err)
{
    if (c->lmdb[0] == '\0')
        return hz_err_set(err, HZ_ECONFIG, "%s: [aggregator] lmdb: required", c->path);
    if (c->token[0] == '\0' && c->ntokens > 0)
        goto tls;
    if (strlen(c->token) < 8)
        return hz_err_set(err, HZ_ECONFIG, "%s: [dashboard] token: required, at least 8 characters",
                          c->path);
tls:
    if ((c->dashboard_tls_cert[0] == '\0') != (c->dashboard_tls_key[0] == '\0'))
        return hz_err_set(err, HZ_ECONFIG,
                          "%s: [dashboard] tls_cert and tls_key: set both or neither", c->path);
    return 0;
}

const struct hz_site *
hz_cfg_site(const struct hz_config *c, const char *host, size_t len)
{
    for (int i = 0; i < c->nsites; i++) {
        const struct hz_site *s = &c->sites[i];
        if (hz_memieq(host, len, s->name))
            return s;
        for (int j = 0; j < s->naliases; j++)
            if (hz_memieq(host, len, s->aliases[j]))
                return s;
    }
    return NULL;
}

const struct hz_token *
hz_cfg_token(const struct hz_config *c, const char *name)
{
    for (int i = 0; i < c->ntokens; i++)
        if (strcmp(c->tokens[i].name, name) == 0)
            return &c->tokens[i];
    return NULL;
}

void
hz_cfg_free(struct hz_config *c)
{
    explicit_bzero(c->token, sizeof(c->token));
    explicit_bzero(c->redis_password, sizeof(c->redis_password));
}
