/* SPDX-License-Identifier: MIT */
/*
 * ua_dd.h - Matomo device-detector's rules (collector/ua_db.h, from npm
 * node-device-detector) run the way device-detector runs them: its bot
 * list, its os list, its client lists (feed readers, mobile apps, media
 * players, PIM, browsers, libraries, in that order), its device brands and
 * models, and its device-type rules. Read by collector/ua.c only, which
 * maps the fine names onto DESIGN.md's families.
 *
 * Pure and thread-safe like ua.c: the matchers are built once (hz_dd_init,
 * under pthread_once); a rule that is needed only after a cheaper match
 * said it may match is compiled on first use and published atomically.
 * Nothing here copies, stores or logs the UA.
 */
#ifndef HZ_COLLECTOR_UA_DD_H
#define HZ_COLLECTOR_UA_DD_H

#include <stddef.h>

#include "collector/ua_db.h"
#include "collector/ua_pre.h"

struct hz_dd {
    int bot;                 /* device-detector's bot list matched */
    char os[40];             /* its os name ("Android", "Mac", ...); "" none */
    const char *os_fam;      /* its os family ("GNU/Linux", ...); NULL none */
    char os_version[16];     /* "10", "17.2"; "" when the rule names none */
    int client_kind;         /* enum hz_dd_client_kind; 0 none */
    char client[48];         /* its client name ("Chrome Mobile", ...) */
    char client_version[16]; /* "120.0.6099.109"; "" when the rule names none */
    enum hz_dd_type type;    /* after its device-type rules; HZ_DD_NONE unknown */
};

/* Builds the matchers once (the fixed fragments, JIT; the prefilter's
 * index); returns the number of device-detector's fixed fragments PCRE2
 * refused (0). */
size_t hz_dd_init(void);

/* Compiles every rule (which the classifier does only on demand) and
 * returns how many PCRE2 refused: a refused rule never
 * matches. For tests; 0 with the pinned database. */
size_t hz_dd_refused(void);

/* Parses u[0 .. n) (any bytes). */
void hz_dd_parse(const unsigned char *u, size_t n, struct hz_dd *out);
/* The same with the prefilter's candidates for u already found
 * (hz_pre_scan; NULL: every rule is tried). */
void hz_dd_parse_pre(const unsigned char *u, size_t n, const struct hz_pre *pre, struct hz_dd *out);

#endif
