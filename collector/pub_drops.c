/* SPDX-License-Identifier: MIT */
/*
 * pub_drops.c - counts dropped hits per (site, reason) and sends each
 * non-zero count every few seconds as one "dr" record, for the dashboard's
 * filtered traffic. Counts are statistics: when Redis is down they wait
 * for the next flush.
 */
#include <stdlib.h>
#include <string.h>

#include "collector/metrics.h"
#include "collector/pub_int.h"
#include "common/str.h"

void
hz_pub_count_drop(hz_pub *p, const struct hz_site *site, const struct hz_config *cfg,
                  enum hz_drop reason)
{
    size_t i = site != NULL ? (size_t)(site - cfg->sites) : (size_t)cfg->nsites;

    HZ_METRIC_ADD(dropped[reason], 1);
    if (i <= (size_t)cfg->nsites && reason > 0 && reason < HZ_DROP_COUNT)
        p->drops[i][reason]++;
}

void
pub_drop_flush(hz_pub *p)
{
    uint64_t now = pub_now_ms();

    if (!p->connected)
        return;
    for (int s = 0; s <= p->cfg->nsites; s++) {
        for (int d = 1; d < HZ_DROP_COUNT; d++) {
            struct hz_record r;
            struct pub_cmd *c;

            if (p->drops[s][d] == 0)
                continue;
            memset(&r, 0, sizeof(r));
            r.t_ms = now;
            r.kind = HZ_KIND_DROPS;
            (void)hz_strlcpy(r.site, s < p->cfg->nsites ? p->cfg->sites[s].name : "*",
                             sizeof(r.site));
            (void)hz_strlcpy(r.page, "/", sizeof(r.page));
            (void)hz_strlcpy(r.name, hz_drop_name((enum hz_drop)d), sizeof(r.name));
            r.ms = p->drops[s][d];
            if ((c = pub_cmd_new_rec(p, PUB_DROPS, &r)) == NULL)
                continue;
            if (pub_xadd_send(p, c) == 0)
                p->drops[s][d] = 0;
            else
                pub_cmd_free(c);
        }
    }
}
