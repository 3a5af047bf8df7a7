/* SPDX-License-Identifier: MIT */
/*
 * record_batch_test.c - format 3, several records in one stream entry
 * (common/record.h): built with hz_record_batch_add, walked with
 * hz_record_each (each record then decodes, finds and walks as a format-2
 * entry), every damaged framing refused whole with its reason, and the
 * older forms still walked as one record each.
 */
#include "common/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

static void
rb_record(struct hz_record *r, int i)
{
    memset(r, 0, sizeof(*r));
    r->t_ms = 1767225600123ULL + (uint64_t)i;
    r->kind = i % 3 == 2 ? HZ_KIND_EVENT : HZ_KIND_PAGEVIEW;
    (void)snprintf(r->site, sizeof(r->site), "example.com");
    (void)snprintf(r->page, sizeof(r->page), "/p/%d", i);
    (void)snprintf(r->vh, sizeof(r->vh), "0123456789abcdef");
    (void)snprintf(r->id, sizeof(r->id), "%016x", 0xa000 + i);
    if (r->kind == HZ_KIND_EVENT)
        (void)snprintf(r->name, sizeof(r->name), "signup");
    if (i == 1) /* a record over 127 bytes: a two-byte length prefix */
        memset(r->source, 's', 120);
}

/* A batch of n records rb_record(0..n-1) into b; its length. */
static size_t
rb_build(unsigned char *b, int n)
{
    size_t len = 1;

    b[0] = HZ_RECORD_BATCH;
    for (int i = 0; i < n; i++) {
        struct hz_record r;
        unsigned char one[HZ_RECORD_PACK_MAX];
        rb_record(&r, i);
        len = hz_record_batch_add(b, len, one, hz_record_pack(&r, one));
    }
    return len;
}

/* Walks the entry {"r": b[0..len)}: the records decoded into out (up to
 * max), their count, or -1 with err when the framing is refused. */
static int
rb_walk(const unsigned char *b, size_t len, struct hz_record *out, int max, struct hz_err *err)
{
    const char *name = HZ_RECORD_KEY, *val = (const char *)b;
    size_t nlen = 1, pos = 0;
    struct hz_record_part part;
    int n = 0, rc;

    while ((rc = hz_record_each(&name, &nlen, &val, &len, 1, &pos, &part, err)) == 1) {
        cr_assert_lt(n, max);
        cr_assert_eq(part.nfields, 1);
        cr_assert_eq(
            hz_record_decode(part.names, part.nlens, part.vals, part.vlens, 1, &out[n], err), 0,
            "%s", err->msg);
        n++;
    }
    return rc < 0 ? -1 : n;
}

Test(record_batch, round_trip_of_every_size)
{
    static unsigned char b[HZ_RECORD_BATCH_MAX * (HZ_RECORD_PACK_MAX + 2)];
    static struct hz_record out[HZ_RECORD_BATCH_MAX];
    struct hz_err err = {0};

    for (int n = 2; n <= HZ_RECORD_BATCH_MAX; n++) {
        size_t len = rb_build(b, n);
        cr_assert_eq(rb_walk(b, len, out, HZ_RECORD_BATCH_MAX, &err), n, "%d: %s", n, err.msg);
        for (int i = 0; i < n; i++) {
            struct hz_record want;
            rb_record(&want, i);
            cr_assert_eq(out[i].t_ms, want.t_ms);
            cr_assert_eq(out[i].kind, want.kind);
            cr_assert_str_eq(out[i].page, want.page);
            cr_assert_str_eq(out[i].id, want.id);
            cr_assert_str_eq(out[i].source, want.source);
        }
    }
}

/* The duplicate search's way in: the id of every record. */
Test(record_batch, ids_found_in_each_record)
{
    unsigned char b[8 * (HZ_RECORD_PACK_MAX + 2)];
    size_t len = rb_build(b, 5), nlen = 1, pos = 0, ul;
    const char *name = HZ_RECORD_KEY, *val = (const char *)b, *u;
    struct hz_record_part part;
    int i = 0;

    /* The batch as a whole is no single record. */
    cr_assert_null(hz_record_find(&name, &nlen, &val, &len, 1, "u", &ul));
    while (hz_record_each(&name, &nlen, &val, &len, 1, &pos, &part, NULL) == 1) {
        char want[17];
        (void)snprintf(want, sizeof(want), "%016x", 0xa000 + i);
        u = hz_record_find(part.names, part.nlens, part.vals, part.vlens, part.nfields, "u", &ul);
        cr_assert(u != NULL && ul == 16 && memcmp(u, want, 16) == 0, "record %d", i);
        i++;
    }
    cr_assert_eq(i, 5);
}

/* Formats 1 and 2 are one record each, given as they are. */
Test(record_batch, older_forms_are_one_record)
{
    struct hz_record r;
    unsigned char one[HZ_RECORD_PACK_MAX];
    struct hz_field f[HZ_RECORD_FIELDS];
    char numbuf[HZ_RECORD_NUMBUF];
    const char *names[HZ_RECORD_FIELDS], *vals[HZ_RECORD_FIELDS];
    size_t nlens[HZ_RECORD_FIELDS], vlens[HZ_RECORD_FIELDS], pos = 0;
    struct hz_record_part part;
    int nf;

    rb_record(&r, 0);
    nf = hz_record_fields(&r, f, numbuf);
    for (int i = 0; i < nf; i++) {
        names[i] = f[i].name;
        nlens[i] = strlen(f[i].name);
        vals[i] = f[i].val;
        vlens[i] = f[i].vlen;
    }
    cr_assert_eq(hz_record_each(names, nlens, vals, vlens, nf, &pos, &part, NULL), 1);
    cr_assert_eq(part.names, names);
    cr_assert_eq(part.nfields, nf);
    cr_assert_eq(hz_record_each(names, nlens, vals, vlens, nf, &pos, &part, NULL), 0);

    names[0] = HZ_RECORD_KEY;
    nlens[0] = 1;
    vals[0] = (const char *)one;
    vlens[0] = hz_record_pack(&r, one);
    pos = 0;
    cr_assert_eq(hz_record_each(names, nlens, vals, vlens, 1, &pos, &part, NULL), 1);
    cr_assert_eq(part.vals[0], (const char *)one);
    cr_assert_eq(hz_record_each(names, nlens, vals, vlens, 1, &pos, &part, NULL), 0);
}

/* Every damaged framing: refused whole, nothing walked, the reason said. */
Test(record_batch, damaged_framing_is_refused_whole)
{
    static unsigned char b[(HZ_RECORD_BATCH_MAX + 2) * (HZ_RECORD_PACK_MAX + 2)];
    static struct hz_record out[HZ_RECORD_BATCH_MAX + 1];
    unsigned char one[HZ_RECORD_PACK_MAX];
    struct hz_record r;
    struct hz_err err;
    size_t len, l1;

#define REJ(n, why)                                                                                \
    do {                                                                                           \
        memset(&err, 0, sizeof(err));                                                              \
        cr_assert_eq(rb_walk(b, (n), out, HZ_RECORD_BATCH_MAX + 1, &err), -1, "%s", why);          \
        cr_expect_str_eq(err.msg, why);                                                            \
        cr_expect_eq(err.code, HZ_EINVAL);                                                         \
    } while (0)

    rb_record(&r, 0);
    l1 = hz_record_pack(&r, one);
    cr_assert_lt(l1, 0x80);
    /* none, one */
    b[0] = HZ_RECORD_BATCH;
    REJ(1, "batch of none");
    len = hz_record_batch_add(b, 1, one, l1);
    REJ(len, "batch of one");
    /* too many */
    len = 1;
    for (int i = 0; i <= HZ_RECORD_BATCH_MAX; i++)
        len = hz_record_batch_add(b, len, one, l1);
    REJ(len, "batch too long");
    /* cut short: in the last record, and in a two-byte length */
    len = rb_build(b, 3);
    REJ(len - 1, "batch framing");
    len = rb_build(b, 2); /* record 1 has a two-byte length */
    {
        size_t first = 1 + 1 + b[1];
        cr_assert(b[first] & 0x80);
        REJ(first + 1, "batch framing");
        /* a two-byte length where one byte does: 0x80|l, 0 */
        size_t at = first;
        b[at] = (unsigned char)(0x80 | l1);
        b[at + 1] = 0;
        memcpy(b + at + 2, one, l1);
        REJ(at + 2 + l1, "batch framing");
        /* a second length byte with its top bit set */
        b[at + 1] = 0x81;
        REJ(at + 2 + l1, "batch framing");
    }
    /* trailing bytes: a length byte and nothing after it */
    len = rb_build(b, 2);
    b[len] = 5;
    REJ(len + 1, "batch framing");
    /* an empty record, a record that is not format 2, a nested batch */
    len = hz_record_batch_add(b, 1, one, l1);
    b[len] = 0;
    REJ(len + 1, "batch record version");
    len = hz_record_batch_add(b, 1, one, l1);
    {
        size_t at = len;
        len = hz_record_batch_add(b, len, one, l1);
        b[at + 1] = 1;
        REJ(len, "batch record version");
        b[at + 1] = HZ_RECORD_BATCH;
        REJ(len, "batch record version");
    }
#undef REJ
}

/* Inside a sound batch each record stands alone: a bad one is refused
 * with its own reason, the others decode. A batch is not one record. */
Test(record_batch, a_bad_record_is_refused_alone)
{
    unsigned char b[4 * (HZ_RECORD_PACK_MAX + 2)], one[HZ_RECORD_PACK_MAX], bad[HZ_RECORD_PACK_MAX];
    const char *name = HZ_RECORD_KEY, *val = (const char *)b;
    size_t nlen = 1, pos = 0, len, l1, lb;
    struct hz_record_part part;
    struct hz_record r;
    struct hz_err err;
    int good = 0, refused = 0;

    rb_record(&r, 0);
    l1 = hz_record_pack(&r, one);
    memcpy(bad, one, l1);
    lb = l1 - 1; /* the last value cut short */
    b[0] = HZ_RECORD_BATCH;
    len = hz_record_batch_add(b, 1, one, l1);
    len = hz_record_batch_add(b, len, bad, lb);
    len = hz_record_batch_add(b, len, one, l1);
    while (hz_record_each(&name, &nlen, &val, &len, 1, &pos, &part, &err) == 1) {
        memset(&err, 0, sizeof(err));
        if (hz_record_decode(part.names, part.nlens, part.vals, part.vlens, 1, &r, &err) == 0) {
            good++;
        } else {
            cr_expect_str_eq(err.msg, "record framing");
            refused++;
        }
    }
    cr_assert_eq(good, 2);
    cr_assert_eq(refused, 1);
    memset(&err, 0, sizeof(err));
    cr_assert_eq(hz_record_decode(&name, &nlen, &val, &len, 1, &r, &err), HZ_EINVAL);
    cr_expect_str_eq(err.msg, "a batch, not one record");
}
