/* SPDX-License-Identifier: MIT */
/*
 * fuzz_cfg.c - INI text -> hz_cfg_parse_string.
 *
 * Properties: an error message is one line of the form "fuzz.ini:LINE: ..."
 * with 1 <= LINE <= the number of lines; a success gives a configuration
 * whose invariants hold (site names, funnels, bounded counts, every site
 * found by its own name and aliases).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfg.h"

#define FUZZ_CFG_MAX 65536

static struct hz_config cfg;
static char text[FUZZ_CFG_MAX + 1];

static void
check_error(const struct hz_err *err, const char *buf, size_t len)
{
    const char *p = err->msg + strlen("fuzz.ini:");
    long line = 0, lines = 1;

    if (strncmp(err->msg, "fuzz.ini:", 9) != 0 || strchr(err->msg, '\n') != NULL)
        abort();
    if (*p < '1' || *p > '9')
        abort();
    while (*p >= '0' && *p <= '9')
        line = line * 10 + (*p++ - '0');
    if (*p != ':')
        abort();
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    if (line < 1 || line > lines)
        abort();
}

static void
check_config(const struct hz_config *c)
{
    if (c->nsites < 0 || c->nsites > HZ_SITES_MAX)
        abort();
    for (int i = 0; i < c->nsites; i++) {
        const struct hz_site *s = &c->sites[i];
        size_t n = strnlen(s->name, sizeof(s->name));
        if (n == 0 || n == sizeof(s->name) || hz_cfg_site(c, s->name, n) != s)
            abort();
        if (s->nfunnels < 0 || s->nfunnels > HZ_FUNNELS_MAX || s->naliases < 0 ||
            s->naliases > HZ_ALIASES_MAX)
            abort();
        for (int j = 0; j < s->naliases; j++)
            if (hz_cfg_site(c, s->aliases[j], strlen(s->aliases[j])) != s)
                abort();
        for (int j = 0; j < s->nfunnels; j++)
            if (s->funnels[j].nsteps < HZ_FUNNEL_STEPS_MIN ||
                s->funnels[j].nsteps > HZ_FUNNEL_STEPS_MAX || s->funnels[j].name[0] == '\0')
                abort();
    }
    if (strnlen(c->token, sizeof(c->token)) == sizeof(c->token) ||
        strnlen(c->geo_database, sizeof(c->geo_database)) == sizeof(c->geo_database))
        abort();
    if (c->trusted_proxies.n < 0 || c->trusted_proxies.n > HZ_CIDR_MAX)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hz_err err;
    size_t len;

    if (size > FUZZ_CFG_MAX)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    len = strlen(text); /* the parser sees up to the first NUL */
    memset(&err, 0, sizeof(err));
    if (hz_cfg_parse_string(&cfg, text, "fuzz.ini", &err) != 0)
        check_error(&err, text, len);
    else
        check_config(&cfg);
    hz_cfg_free(&cfg);
    return 0;
}
