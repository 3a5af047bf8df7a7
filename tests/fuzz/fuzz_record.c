/* SPDX-License-Identifier: MIT */
/*
 * fuzz_record.c - stream records as read back from Redis.
 *
 * The input is split into lines, each "name=value" (the first '='), up to
 * HZ_RECORD_FIELDS + 1 pairs, and decoded. Properties: an error leaves the
 * output untouched; a decoded record, laid out again with hz_record_fields
 * and decoded a second time, gives the same record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/record.h"

#define NPAIRS (HZ_RECORD_FIELDS + 1)

static int
rec_same(const struct hz_record *a, const struct hz_record *b)
{
    return a->t_ms == b->t_ms && a->kind == b->kind && strcmp(a->site, b->site) == 0 &&
           strcmp(a->page, b->page) == 0 && strcmp(a->name, b->name) == 0 &&
           strcmp(a->source, b->source) == 0 && strcmp(a->utm_medium, b->utm_medium) == 0 &&
           strcmp(a->utm_campaign, b->utm_campaign) == 0 && strcmp(a->region, b->region) == 0 &&
           strcmp(a->browser, b->browser) == 0 && strcmp(a->os, b->os) == 0 &&
           strcmp(a->device, b->device) == 0 && a->ms == b->ms && a->pixel == b->pixel &&
           strcmp(a->vh, b->vh) == 0 && strcmp(a->vp, b->vp) == 0 && strcmp(a->id, b->id) == 0 &&
           strcmp(a->props, b->props) == 0 && a->props_dropped == b->props_dropped &&
           a->noninteractive == b->noninteractive && a->has_scroll == b->has_scroll &&
           a->scroll_depth == b->scroll_depth && strcmp(a->utm_content, b->utm_content) == 0 &&
           strcmp(a->utm_term, b->utm_term) == 0 && strcmp(a->referrer, b->referrer) == 0 &&
           strcmp(a->hostname, b->hostname) == 0 &&
           strcmp(a->browser_version, b->browser_version) == 0 &&
           strcmp(a->os_version, b->os_version) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *names[NPAIRS], *vals[NPAIRS];
    size_t nlens[NPAIRS], vlens[NPAIRS];
    const char *p = (const char *)data, *end = p + size;
    struct hz_record r, before, again;
    struct hz_field f[HZ_RECORD_FIELDS];
    char numbuf[64];
    int n = 0, nf;

    while (p < end && n < NPAIRS) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl != NULL ? nl : end;
        const char *eq = memchr(p, '=', (size_t)(line_end - p));
        if (eq == NULL)
            eq = line_end;
        names[n] = p;
        nlens[n] = (size_t)(eq - p);
        vals[n] = eq < line_end ? eq + 1 : line_end;
        vlens[n] = (size_t)(line_end - vals[n]);
        n++;
        p = line_end + (nl != NULL);
    }

    memset(&r, 0xa5, sizeof(r));
    before = r;
    if (hz_record_decode(names, nlens, vals, vlens, n, &r, NULL) != 0) {
        if (memcmp(&r, &before, sizeof(r)) != 0)
            abort();
        return 0;
    }

    nf = hz_record_fields(&r, f, numbuf);
    if (nf < 5 || nf > HZ_RECORD_FIELDS)
        abort();
    for (int i = 0; i < nf; i++) {
        names[i] = f[i].name;
        nlens[i] = strlen(f[i].name);
        vals[i] = f[i].val;
        vlens[i] = f[i].vlen;
    }
    if (hz_record_decode(names, nlens, vals, vlens, nf, &again, NULL) != 0)
        abort();
    if (!rec_same(&r, &again))
        abort();
    return 0;
}
