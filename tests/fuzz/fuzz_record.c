/* SPDX-License-Identifier: MIT */
/*
 * fuzz_record.c - stream records as read back from Redis.
 *
 * An input starting with the compact form's version byte (0x02) is one
 * compact entry (field "r"); any other is split into lines, each
 * "name=value" (the first '='), up to HZ_RECORD_FIELDS + 1 pairs, and
 * decoded as the multi-field form. Properties: an error leaves the output
 * untouched; a decoded record, laid out again in either form and decoded
 * a second time, gives the same record; a compact input that decodes is
 * canonical (packing the record gives the input's bytes) and expands
 * (hz_record_expand, which stays within the record on any input) to the
 * same record; the raw view
 * (hz_record_next) walks any input without reading past it.
 *
 * An input starting with a batch's version byte (0x03) is one batch entry:
 * hz_record_each either refuses it before giving any record, or gives
 * 2..HZ_RECORD_BATCH_MAX records inside the input which, put together
 * again with hz_record_batch_add, give the input's bytes (the framing is
 * canonical); each record that decodes packs back to its own bytes.
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

static void
fuzz_batch(const uint8_t *data, size_t size)
{
    /* A length prefix holds 14 bits at most. */
    static unsigned char again[HZ_RECORD_BATCH_MAX * (0x3fff + 2) + 1];
    static unsigned char packed[HZ_RECORD_PACK_MAX];
    const char *name = HZ_RECORD_KEY, *val = (const char *)data;
    size_t nlen = 1, pos = 0, len = 1;
    struct hz_record_part part;
    struct hz_err err = {0};
    struct hz_record r, back;
    int n = 0, rc;

    again[0] = HZ_RECORD_BATCH;
    while ((rc = hz_record_each(&name, &nlen, &val, &size, 1, &pos, &part, &err)) == 1) {
        const char *v = part.vals[0];
        size_t vl = part.vlens[0];
        if (part.nfields != 1 || v < val || vl > size || v + vl > val + size ||
            ++n > HZ_RECORD_BATCH_MAX || vl > 0x3fff)
            abort();
        len = hz_record_batch_add(again, len, v, vl);
        if (hz_record_decode(part.names, part.nlens, part.vals, part.vlens, 1, &r, NULL) == 0) {
            size_t pl = hz_record_pack(&r, packed);
            if (pl != vl || memcmp(packed, v, vl) != 0)
                abort(); /* each record is canonical */
            if (hz_record_unpack(packed, pl, &back, NULL) != 0 || !rec_same(&r, &back))
                abort();
        }
    }
    if (rc < 0) {
        if (n != 0 || err.code != HZ_EINVAL || err.msg[0] == '\0')
            abort(); /* refused whole, with a reason */
        return;
    }
    if (n < 2 || len != size || memcmp(again, data, size) != 0)
        abort(); /* the framing is canonical */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *names[NPAIRS], *vals[NPAIRS];
    size_t nlens[NPAIRS], vlens[NPAIRS];
    const char *p = (const char *)data, *end = p + size;
    struct hz_record r, before, again;
    struct hz_field f[HZ_RECORD_FIELDS];
    char numbuf[HZ_RECORD_NUMBUF];
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

    static unsigned char packed[HZ_RECORD_PACK_MAX];
    size_t plen, pos = 0, vl, nml;
    const char *nm, *vv;

    if (size > 0 && data[0] == HZ_RECORD_BATCH) {
        fuzz_batch(data, size);
        return 0;
    }

    if (size > 0 && data[0] == HZ_RECORD_PACKED) {
        names[0] = HZ_RECORD_KEY;
        nlens[0] = 1;
        vals[0] = (const char *)data;
        vlens[0] = size;
        n = 1;
    }
    while (hz_record_next(names, nlens, vals, vlens, n, &pos, &nm, &nml, &vv, &vl) == 1)
        if (vv + vl < vv || (n == 1 && vv + vl > vals[0] + vlens[0]))
            abort();

    /* The trusted expansion stays within the record on any bytes. */
    if (n == 1 && vals[0] == (const char *)data)
        (void)hz_record_expand(data, size, &again);

    memset(&r, 0xa5, sizeof(r));
    before = r;
    if (hz_record_decode(names, nlens, vals, vlens, n, &r, NULL) != 0) {
        if (memcmp(&r, &before, sizeof(r)) != 0)
            abort();
        return 0;
    }
    plen = hz_record_pack(&r, packed);
    if (plen > HZ_RECORD_PACK_MAX)
        abort();
    if (n == 1 && vals[0] == (const char *)data && (plen != size || memcmp(packed, data, size)))
        abort(); /* the compact form is canonical */
    if (hz_record_unpack(packed, plen, &again, NULL) != 0 || !rec_same(&r, &again))
        abort();
    memset(&again, 0x5a, sizeof(again));
    if (hz_record_expand(packed, plen, &again) != 0 || !rec_same(&r, &again))
        abort();

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
