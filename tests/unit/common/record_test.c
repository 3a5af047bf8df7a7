/* SPDX-License-Identifier: MIT */
/*
 * record_test.c - the stream record: hz_record_fields then
 * hz_record_decode round-trips every kind, and decode rejects malformed
 * field sets (data read back from Redis is input).
 */
#include "common/record.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

/* A field set as decode takes it; the values live in store. */
struct fset {
    int n;
    const char *names[HZ_RECORD_FIELDS + 4];
    size_t nlens[HZ_RECORD_FIELDS + 4];
    const char *vals[HZ_RECORD_FIELDS + 4];
    size_t vlens[HZ_RECORD_FIELDS + 4];
    char nstore[HZ_RECORD_FIELDS + 4][8];
    char vstore[HZ_RECORD_FIELDS + 4][400];
};

static void
fset_put(struct fset *f, int i, const char *name, const char *val, size_t vlen)
{
    cr_assert_lt(vlen, sizeof(f->vstore[i]));
    (void)snprintf(f->nstore[i], sizeof(f->nstore[i]), "%s", name);
    memcpy(f->vstore[i], val, vlen);
    f->names[i] = f->nstore[i];
    f->nlens[i] = strlen(f->nstore[i]);
    f->vals[i] = f->vstore[i];
    f->vlens[i] = vlen;
}

static void
fset_add(struct fset *f, const char *name, const char *val, size_t vlen)
{
    cr_assert_lt(f->n, HZ_RECORD_FIELDS + 4);
    fset_put(f, f->n++, name, val, vlen);
}

static int
fset_find(const struct fset *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->nstore[i], name) == 0)
            return i;
    return -1;
}

static void
fset_drop(struct fset *f, const char *name)
{
    int i = fset_find(f, name);

    cr_assert_geq(i, 0, "no field %s", name);
    for (; i + 1 < f->n; i++) {
        fset_put(f, i, f->nstore[i + 1], f->vstore[i + 1], f->vlens[i + 1]);
    }
    f->n--;
}

static void
fset_set(struct fset *f, const char *name, const char *val, size_t vlen)
{
    int i = fset_find(f, name);

    if (i < 0)
        fset_add(f, name, val, vlen);
    else
        fset_put(f, i, name, val, vlen);
}

static int
fset_decode(const struct fset *f, struct hz_record *out, struct hz_err *err)
{
    return hz_record_decode(f->names, f->nlens, f->vals, f->vlens, f->n, out, err);
}

/* Copies what hz_record_fields laid out into a field set. */
static void
fset_from_record(struct fset *f, const struct hz_record *r)
{
    struct hz_field fl[HZ_RECORD_FIELDS];
    char numbuf[HZ_RECORD_NUMBUF];
    int n = hz_record_fields(r, fl, numbuf);

    cr_assert_leq(n, HZ_RECORD_FIELDS);
    memset(f, 0, sizeof(*f));
    for (int i = 0; i < n; i++)
        fset_add(f, fl[i].name, fl[i].val, fl[i].vlen);
}

static void
assert_record_eq(const struct hz_record *a, const struct hz_record *b)
{
    cr_assert_eq(a->t_ms, b->t_ms);
    cr_assert_eq(a->kind, b->kind);
    cr_assert_str_eq(a->site, b->site);
    cr_assert_str_eq(a->page, b->page);
    cr_assert_str_eq(a->name, b->name);
    cr_assert_str_eq(a->source, b->source);
    cr_assert_str_eq(a->utm_medium, b->utm_medium);
    cr_assert_str_eq(a->utm_campaign, b->utm_campaign);
    cr_assert_str_eq(a->region, b->region);
    cr_assert_str_eq(a->browser, b->browser);
    cr_assert_str_eq(a->os, b->os);
    cr_assert_str_eq(a->device, b->device);
    cr_assert_eq(a->ms, b->ms);
    cr_assert_eq(a->pixel, b->pixel);
    cr_assert_str_eq(a->vh, b->vh);
    cr_assert_str_eq(a->vp, b->vp);
    cr_assert_str_eq(a->id, b->id);
}

/* ------------------------------------------------------------ round trips */

/* The compact form: pack, unpack (directly and as a one-field entry), the
 * same record; packing what was unpacked gives the same bytes. */
static void
packed_round_trip(const struct hz_record *r)
{
    unsigned char buf[HZ_RECORD_PACK_MAX], again[HZ_RECORD_PACK_MAX];
    struct hz_record back;
    struct hz_err err;
    size_t n = hz_record_pack(r, buf), m;
    const char *name = HZ_RECORD_KEY, *val = (const char *)buf;
    size_t nlen = 1;

    cr_assert_leq(n, HZ_RECORD_PACK_MAX);
    cr_assert_eq(buf[0], HZ_RECORD_PACKED);
    memset(&back, 0x77, sizeof(back));
    cr_assert_eq(hz_record_unpack(buf, n, &back, &err), 0, "%s", err.msg);
    assert_record_eq(&back, r);
    memset(&back, 0x77, sizeof(back));
    cr_assert_eq(hz_record_decode(&name, &nlen, &val, &n, 1, &back, &err), 0, "%s", err.msg);
    assert_record_eq(&back, r);
    m = hz_record_pack(&back, again);
    cr_assert_eq(m, n);
    cr_assert_eq(memcmp(buf, again, n), 0);
    /* The aggregator's trusted expansion gives the same record: every
     * member pack writes packs back to the same bytes. */
    memset(&back, 0x77, sizeof(back));
    cr_assert_eq(hz_record_expand(buf, n, &back), 0);
    assert_record_eq(&back, r);
    m = hz_record_pack(&back, again);
    cr_assert_eq(m, n);
    cr_assert_eq(memcmp(buf, again, n), 0);
}

static void
round_trip(const struct hz_record *r)
{
    struct fset *f = calloc(1, sizeof(*f));
    struct hz_record back;
    struct hz_err err;

    cr_assert_not_null(f);
    fset_from_record(f, r);
    memset(&back, 0x77, sizeof(back));
    cr_assert_eq(fset_decode(f, &back, &err), 0, "%s", err.msg);
    assert_record_eq(&back, r);
    free(f);
    packed_round_trip(r);
}

static void
base_record(struct hz_record *r, enum hz_kind kind)
{
    memset(r, 0, sizeof(*r));
    r->t_ms = 1767225600123ULL;
    r->kind = kind;
    (void)snprintf(r->site, sizeof(r->site), "example.com");
    (void)snprintf(r->page, sizeof(r->page), "/products/:id");
    (void)snprintf(r->vh, sizeof(r->vh), "0123456789abcdef");
}

Test(record, pageview_with_every_field)
{
    struct hz_record r;
    struct fset *f = calloc(1, sizeof(*f));
    static const char *const order[] = {"v",  "t", "k", "s",  "p",  "src", "um", "uc",
                                        "rg", "b", "o", "dv", "px", "vh",  "vp", "u"};

    base_record(&r, HZ_KIND_PAGEVIEW);
    (void)snprintf(r.source, sizeof(r.source), "news.example.org");
    (void)snprintf(r.utm_medium, sizeof(r.utm_medium), "email");
    (void)snprintf(r.utm_campaign, sizeof(r.utm_campaign), "spring \xe2\x80\x93 sale");
    (void)snprintf(r.region, sizeof(r.region), "DE-BY");
    (void)snprintf(r.browser, sizeof(r.browser), "Samsung Internet");
    (void)snprintf(r.os, sizeof(r.os), "Android");
    (void)snprintf(r.device, sizeof(r.device), "mobile");
    r.pixel = 1;
    (void)snprintf(r.vp, sizeof(r.vp), "fedcba9876543210");
    (void)snprintf(r.id, sizeof(r.id), "00ff00ff00ff00ff");
    round_trip(&r);

    /* the wire order is the documented one */
    cr_assert_not_null(f);
    fset_from_record(f, &r);
    cr_assert_eq(f->n, (int)(sizeof(order) / sizeof(order[0])));
    for (int i = 0; i < f->n; i++)
        cr_assert_str_eq(f->nstore[i], order[i]);
    cr_assert_eq(memcmp(f->vstore[1], "1767225600123", 13), 0);
    cr_assert_eq(memcmp(f->vstore[2], "pv", 2), 0);
    free(f);
}

Test(record, minimal_pageview)
{
    struct hz_record r;
    struct fset *f = calloc(1, sizeof(*f));

    base_record(&r, HZ_KIND_PAGEVIEW);
    round_trip(&r);
    fset_from_record(f, &r);
    cr_assert_eq(f->n, 6); /* v t k s p vh */
    free(f);
}

Test(record, engagement)
{
    struct hz_record r;

    base_record(&r, HZ_KIND_ENGAGEMENT);
    r.ms = 45250;
    round_trip(&r);
    r.ms = 0; /* zero engaged ms is still a number on the wire */
    round_trip(&r);
    r.ms = 1000000000ULL;
    round_trip(&r);
}

Test(record, custom_event)
{
    struct hz_record r;

    base_record(&r, HZ_KIND_EVENT);
    (void)snprintf(r.name, sizeof(r.name), "Signup");
    (void)snprintf(r.region, sizeof(r.region), "US");
    round_trip(&r);
}

Test(record, drops_summary_needs_no_visitor)
{
    struct hz_record r;

    base_record(&r, HZ_KIND_DROPS);
    r.vh[0] = '\0';
    (void)snprintf(r.name, sizeof(r.name), "bot");
    r.ms = 17;
    round_trip(&r);
}

Test(record, longest_values_fit)
{
    struct hz_record r;

    base_record(&r, HZ_KIND_EVENT);
    r.page[0] = '/';
    memset(r.page + 1, 'p', HZ_PAGE_MAX - 2);
    memset(r.name, 'n', HZ_VALUE_MAX - 1);
    memset(r.source, 's', HZ_VALUE_MAX - 1);
    memset(r.site, 'h', HZ_HOST_MAX - 1);
    (void)snprintf(r.region, sizeof(r.region), "FR-IDF");
    r.t_ms = 9999999999999ULL;
    round_trip(&r);
}

Test(record, kind_names)
{
    cr_assert_str_eq(hz_kind_name(HZ_KIND_PAGEVIEW), "pv");
    cr_assert_str_eq(hz_kind_name(HZ_KIND_ENGAGEMENT), "en");
    cr_assert_str_eq(hz_kind_name(HZ_KIND_EVENT), "ev");
    cr_assert_str_eq(hz_kind_name(HZ_KIND_DROPS), "dr");
    cr_assert_str_eq(hz_kind_name((enum hz_kind)0), "?");
    cr_assert_str_eq(hz_kind_name((enum hz_kind)9), "?");
}

/* ------------------------------------------------------------- rejected */

/* One or two edits to a valid pageview. op: 'd' drop field, 's' set (or
 * add) field, 'a' add (even if present), 'L' set to "/aaa..." of vlen
 * bytes. vlen -1 means strlen(val). */
struct rec_edit {
    char op;
    char name[8];
    char val[40];
    int vlen;
};

struct bad_rec {
    char label[48];
    struct rec_edit e1, e2;
    char msg[48];
};

/* clang-format off */
static struct bad_rec bad_recs[] = {
    {"missing v", {'d', "v", "", -1}, {0}, "missing required field"},
    {"missing t", {'d', "t", "", -1}, {0}, "missing required field"},
    {"missing k", {'d', "k", "", -1}, {0}, "missing required field"},
    {"missing s", {'d', "s", "", -1}, {0}, "missing required field"},
    {"missing p", {'d', "p", "", -1}, {0}, "missing required field"},
    {"pageview without vh", {'d', "vh", "", -1}, {0}, "pageview without visitor"},
    {"version 2", {'s', "v", "2", -1}, {0}, "bad field 'v'"},
    {"empty version", {'s', "v", "", -1}, {0}, "bad field 'v'"},
    {"bad kind", {'s', "k", "xx", -1}, {0}, "bad field 'k'"},
    {"uppercase kind", {'s', "k", "PV", -1}, {0}, "bad field 'k'"},
    {"kind with NUL", {'s', "k", "pv\0", 3}, {0}, "bad field 'k'"},
    {"seconds, not ms", {'s', "t", "1767225600", -1}, {0}, "bad field 't'"},
    {"t in the far future", {'s', "t", "99999999999999", -1}, {0}, "bad field 't'"},
    {"t not a number", {'s', "t", "17672256001x3", -1}, {0}, "bad field 't'"},
    {"t negative", {'s', "t", "-1767225600123", -1}, {0}, "bad field 't'"},
    {"t empty", {'s', "t", "", -1}, {0}, "bad field 't'"},
    {"vh not hex", {'s', "vh", "0123456789abcdeg", -1}, {0}, "bad field 'vh'"},
    {"vh uppercase", {'s', "vh", "0123456789ABCDEF", -1}, {0}, "bad field 'vh'"},
    {"vh 15 digits", {'s', "vh", "0123456789abcde", -1}, {0}, "bad field 'vh'"},
    {"vh 17 digits", {'s', "vh", "0123456789abcdef0", -1}, {0}, "bad field 'vh'"},
    {"vp wrong length", {'s', "vp", "01234567", -1}, {0}, "bad field 'vp'"},
    {"hit id not hex", {'s', "u", "hello-world-1234", -1}, {0}, "bad field 'u'"},
    {"region lowercase", {'s', "rg", "de-BY", -1}, {0}, "bad field 'rg'"},
    {"region dash only", {'s', "rg", "DE-", -1}, {0}, "bad field 'rg'"},
    {"region alpha-3", {'s', "rg", "DEU", -1}, {0}, "bad field 'rg'"},
    {"region underscore", {'s', "rg", "DE_BY", -1}, {0}, "bad field 'rg'"},
    {"region digit country", {'s', "rg", "D1", -1}, {0}, "bad field 'rg'"},
    {"region 4-char sub", {'s', "rg", "DE-BAYE", -1}, {0}, "bad field 'rg'"},
    {"region one letter", {'s', "rg", "D", -1}, {0}, "bad field 'rg'"},
    {"region too long", {'s', "rg", "DE-BY-X", -1}, {0}, "bad field 'rg'"},
    {"duplicate field", {'a', "s", "example.com", -1}, {0}, "duplicate field"},
    {"duplicate vh", {'a', "vh", "0123456789abcdef", -1}, {0}, "duplicate field"},
    {"unknown field", {'a', "zz", "1", -1}, {0}, "unknown field"},
    {"invalid UTF-8 in page", {'s', "p", "/caf\xc3", -1}, {0}, "bad field 'p'"},
    {"overlong UTF-8 in page", {'s', "p", "/\xc0\xaf", -1}, {0}, "bad field 'p'"},
    {"surrogate in source", {'a', "src", "\xed\xa0\x80", -1}, {0}, "bad field 'src'"},
    {"control byte in page", {'s', "p", "/a\x01" "b", -1}, {0}, "bad field 'p'"},
    {"newline in browser", {'a', "b", "Chrome\n", -1}, {0}, "bad field 'b'"},
    {"C1 control in os", {'a', "o", "Linux\xc2\x85", -1}, {0}, "bad field 'o'"},
    {"NUL in page", {'s', "p", "/a\0b", 4}, {0}, "bad field 'p'"},
    {"page without slash", {'s', "p", "products", -1}, {0}, "bad field 'p'"},
    {"empty page", {'s', "p", "", -1}, {0}, "bad field 'p'"},
    {"empty site", {'s', "s", "", -1}, {0}, "bad field 's'"},
    {"oversize page", {'L', "p", "", HZ_PAGE_MAX}, {0}, "bad field 'p'"},
    {"oversize source", {'L', "src", "", HZ_VALUE_MAX}, {0}, "bad field 'src'"},
    {"oversize site", {'L', "s", "", HZ_HOST_MAX}, {0}, "bad field 's'"},
    {"oversize device", {'L', "dv", "", HZ_FAMILY_MAX}, {0}, "bad field 'dv'"},
    {"engagement without ms", {'s', "k", "en", -1}, {0}, "engagement without ms or visitor"},
    {"engagement without vh", {'s', "k", "en", -1}, {'d', "vh", "", -1},
     "engagement without ms or visitor"},
    {"event without name", {'s', "k", "ev", -1}, {0}, "event without name or visitor"},
    {"event with empty name", {'s', "k", "ev", -1}, {'a', "n", "", -1}, "bad field 'n'"},
    {"drops without count", {'s', "k", "dr", -1}, {'a', "n", "bot", -1},
     "drops without reason or count"},
    {"drops without reason", {'s', "k", "dr", -1}, {'a', "ms", "3", -1},
     "drops without reason or count"},
    {"ms on a pageview", {'a', "ms", "1200", -1}, {0}, "ms not allowed for this kind"},
    {"ms too large", {'s', "k", "en", -1}, {'a', "ms", "1000000001", -1}, "bad field 'ms'"},
    {"ms negative", {'s', "k", "en", -1}, {'a', "ms", "-5", -1}, "bad field 'ms'"},
    {"ms in seconds", {'s', "k", "en", -1}, {'a', "ms", "1.5", -1}, "bad field 'ms'"},
    {"pixel flag 2", {'a', "px", "2", -1}, {0}, "bad field 'px'"},
    {"pixel flag empty", {'a', "px", "", -1}, {0}, "bad field 'px'"},
};
/* clang-format on */

static void
apply_edit(struct fset *f, const struct rec_edit *e)
{
    char big[400];
    size_t vlen = e->vlen < 0 ? strlen(e->val) : (size_t)e->vlen;

    switch (e->op) {
    case 0:
        return;
    case 'd':
        fset_drop(f, e->name);
        return;
    case 's':
        fset_set(f, e->name, e->val, vlen);
        return;
    case 'a':
        fset_add(f, e->name, e->val, vlen);
        return;
    case 'L':
        cr_assert_lt(vlen, sizeof(big));
        big[0] = '/';
        memset(big + 1, 'a', vlen - 1);
        fset_set(f, e->name, big, vlen);
        return;
    default:
        cr_assert_fail("bad op %c", e->op);
    }
}

ParameterizedTestParameters(record_decode, rejects)
{
    return cr_make_param_array(struct bad_rec, bad_recs, sizeof(bad_recs) / sizeof(bad_recs[0]));
}

ParameterizedTest(struct bad_rec *c, record_decode, rejects)
{
    struct fset *f = calloc(1, sizeof(*f));
    struct hz_record r, out, before;
    struct hz_err err;

    cr_assert_not_null(f);
    base_record(&r, HZ_KIND_PAGEVIEW);
    fset_from_record(f, &r);
    cr_assert_eq(fset_decode(f, &out, &err), 0, "base must decode: %s", err.msg);
    apply_edit(f, &c->e1);
    apply_edit(f, &c->e2);
    memset(&out, 0x5c, sizeof(out));
    before = out;
    memset(&err, 0, sizeof(err));
    cr_assert_eq(fset_decode(f, &out, &err), HZ_EINVAL, "%s: accepted", c->label);
    cr_expect_str_eq(err.msg, c->msg, "%s", c->label);
    cr_assert_eq(memcmp(&out, &before, sizeof(out)), 0, "%s: out changed on error", c->label);
    free(f);
}

Test(record_decode, too_many_fields)
{
    struct fset *f = calloc(1, sizeof(*f));
    struct hz_record r, out;
    struct hz_err err;

    base_record(&r, HZ_KIND_PAGEVIEW);
    fset_from_record(f, &r);
    while (f->n <= HZ_RECORD_FIELDS)
        fset_add(f, "zz", "", 0);
    cr_assert_eq(fset_decode(f, &out, &err), HZ_EINVAL);
    cr_assert_str_eq(err.msg, "field count");
    cr_assert_eq(hz_record_decode(f->names, f->nlens, f->vals, f->vlens, -1, &out, &err),
                 HZ_EINVAL);
    free(f);
}

Test(record_decode, names_are_compared_with_their_length)
{
    struct fset *f = calloc(1, sizeof(*f));
    struct hz_record r, out;
    struct hz_err err;

    base_record(&r, HZ_KIND_PAGEVIEW);
    fset_from_record(f, &r);
    /* "s\0": the same bytes as "s" and a NUL, not the field s */
    fset_add(f, "s", "x", 1);
    f->nlens[f->n - 1] = 2;
    cr_assert_eq(fset_decode(f, &out, &err), HZ_EINVAL);
    cr_assert_str_eq(err.msg, "unknown field");
    /* and a name cut short is not "src" */
    f->n--;
    fset_add(f, "src", "x", 1);
    f->nlens[f->n - 1] = 2;
    cr_assert_eq(fset_decode(f, &out, &err), HZ_EINVAL);
    cr_assert_str_eq(err.msg, "unknown field");
    free(f);
}

Test(record_decode, field_order_is_free)
{
    struct fset *f = calloc(1, sizeof(*f));
    struct fset *g = calloc(1, sizeof(*g));
    struct hz_record r, out;
    struct hz_err err;

    base_record(&r, HZ_KIND_EVENT);
    (void)snprintf(r.name, sizeof(r.name), "Download");
    fset_from_record(f, &r);
    for (int i = f->n - 1; i >= 0; i--)
        fset_add(g, f->nstore[i], f->vstore[i], f->vlens[i]);
    cr_assert_eq(fset_decode(g, &out, &err), 0, "%s", err.msg);
    assert_record_eq(&out, &r);
    free(f);
    free(g);
}

Test(record_decode, null_err_is_allowed)
{
    struct fset *f = calloc(1, sizeof(*f));
    struct hz_record r, out;

    base_record(&r, HZ_KIND_PAGEVIEW);
    fset_from_record(f, &r);
    fset_drop(f, "v");
    cr_assert_eq(fset_decode(f, &out, NULL), HZ_EINVAL);
    free(f);
}

/* ------------------------------------------------------------ issue 13: props, ni, sd */

Test(record, props_interactive_and_scroll_round_trip)
{
    struct hz_record r, back;
    struct fset *f = calloc(1, sizeof(*f));
    struct hz_err err;
    const char *n, *v;
    size_t nl, vl, pos = 0;

    cr_assert_not_null(f);
    base_record(&r, HZ_KIND_EVENT);
    (void)snprintf(r.name, sizeof(r.name), "Signup");
    cr_assert_eq(hz_record_prop_add(&r, "plan", 4, "Pro", 3), 0);
    cr_assert_eq(hz_record_prop_add(&r, "author", 6, ":email", 6), 0);
    cr_assert_eq(hz_record_prop_add(&r, "bad", 3,
                                    "a\x1f"
                                    "b",
                                    3),
                 HZ_EINVAL);
    cr_assert_eq(hz_record_prop_add(&r, "", 0, "x", 1), HZ_EINVAL);
    r.props_dropped = 2;
    r.noninteractive = 1;
    fset_from_record(f, &r);
    cr_assert_geq(fset_find(f, "pr"), 0);
    cr_assert_str_eq(f->vstore[fset_find(f, "pr")], "plan\x1fPro\x1e"
                                                    "author\x1f:email");
    cr_assert_str_eq(f->vstore[fset_find(f, "pd")], "2");
    cr_assert_str_eq(f->vstore[fset_find(f, "ni")], "1");
    cr_assert_eq(fset_decode(f, &back, &err), 0, "%s", err.msg);
    assert_record_eq(&back, &r);
    cr_assert_str_eq(back.props, r.props);
    cr_assert_eq(back.props_dropped, 2);
    cr_assert_eq(back.noninteractive, 1);
    cr_assert(hz_record_prop_next(&back, &pos, &n, &nl, &v, &vl));
    cr_assert(nl == 4 && memcmp(n, "plan", 4) == 0 && vl == 3 && memcmp(v, "Pro", 3) == 0);
    cr_assert(hz_record_prop_next(&back, &pos, &n, &nl, &v, &vl));
    cr_assert(nl == 6 && memcmp(n, "author", 6) == 0 && vl == 6);
    cr_assert_not(hz_record_prop_next(&back, &pos, &n, &nl, &v, &vl));

    base_record(&r, HZ_KIND_ENGAGEMENT);
    r.ms = 1500;
    r.has_scroll = 1;
    r.scroll_depth = 7;
    fset_from_record(f, &r);
    cr_assert_str_eq(f->vstore[fset_find(f, "sd")], "7");
    cr_assert_eq(fset_decode(f, &back, &err), 0, "%s", err.msg);
    cr_assert(back.has_scroll && back.scroll_depth == 7);
    r.scroll_depth = 100;
    fset_from_record(f, &r);
    cr_assert_eq(fset_decode(f, &back, &err), 0, "%s", err.msg);
    cr_assert_eq(back.scroll_depth, 100);
    /* Without the flag nothing is written: an older entry shape. */
    r.has_scroll = 0;
    fset_from_record(f, &r);
    cr_assert_lt(fset_find(f, "sd"), 0);
    cr_assert_eq(fset_decode(f, &back, &err), 0, "%s", err.msg);
    cr_assert_not(back.has_scroll);
    free(f);
}

/* Entries from before these fields decode as before; the new fields are
 * checked like every other one. */
Test(record, new_fields_validated)
{
    struct hz_record r, out;
    struct fset *f = calloc(1, sizeof(*f));
    struct hz_err err;

    cr_assert_not_null(f);
    base_record(&r, HZ_KIND_EVENT);
    (void)snprintf(r.name, sizeof(r.name), "Signup");
    fset_from_record(f, &r);
    cr_assert_eq(fset_decode(f, &out, &err), 0, "%s", err.msg);
    cr_assert_str_eq(out.props, "");
    cr_assert_eq(out.noninteractive, 0);
#define BAD(field, val)                                                                            \
    do {                                                                                           \
        fset_from_record(f, &r);                                                                   \
        fset_set(f, field, val, strlen(val));                                                      \
        cr_assert_eq(fset_decode(f, &out, &err), HZ_EINVAL, "accepted %s=%s", field, val);         \
    } while (0)
    BAD("pr", "");
    BAD("pr", "plan");
    BAD("pr", "\x1fPro");
    BAD("pr", "plan\x1fPro\x1e");
    BAD("pr", "a\x1f"
              "1\x1e"
              "b\x1f"
              "2\x1e"
              "c\x1f"
              "3\x1e"
              "d\x1f"
              "4\x1e"
              "e\x1f"
              "5\x1e"
              "f\x1f"
              "6\x1e"
              "g\x1f"
              "7\x1e"
              "h\x1f"
              "8\x1e"
              "i\x1f"
              "9");
    BAD("pr", "plan\x1f\xff");
    BAD("pd", "0");
    BAD("pd", "1000000");
    BAD("ni", "0");
    BAD("sd", "5"); /* sd only on engagement */
    base_record(&r, HZ_KIND_ENGAGEMENT);
    r.ms = 1;
    BAD("sd", "101");
    BAD("sd", "07");
    BAD("ni", "1");
    BAD("pr", "plan\x1fPro");
#undef BAD
    free(f);
}

Test(record, utm_content_term_referrer_hostname_round_trip)
{
    struct hz_record r, back;
    struct fset *f = calloc(1, sizeof(*f));
    struct hz_err err;

    cr_assert_not_null(f);
    base_record(&r, HZ_KIND_PAGEVIEW);
    (void)snprintf(r.utm_content, sizeof(r.utm_content), "banner");
    (void)snprintf(r.utm_term, sizeof(r.utm_term), "business cards");
    (void)snprintf(r.referrer, sizeof(r.referrer), "news.example");
    (void)snprintf(r.hostname, sizeof(r.hostname), "shop.example.com");
    fset_from_record(f, &r);
    cr_assert_str_eq(f->vstore[fset_find(f, "uo")], "banner");
    cr_assert_str_eq(f->vstore[fset_find(f, "hn")], "shop.example.com");
    cr_assert_eq(fset_decode(f, &back, &err), 0, "%s", err.msg);
    cr_assert_str_eq(back.utm_content, "banner");
    cr_assert_str_eq(back.utm_term, "business cards");
    cr_assert_str_eq(back.referrer, "news.example");
    cr_assert_str_eq(back.hostname, "shop.example.com");
    fset_set(f, "rf", "", 0);
    cr_assert_eq(fset_decode(f, &back, &err), HZ_EINVAL); /* never written empty */
    free(f);
}

/* ------------------------------------------------------------ compact form */

/* A valid compact pageview, built by hand: version, then tag/len/value. */
static size_t
tlv(unsigned char *out, size_t at, int tag, const char *v)
{
    size_t l = strlen(v);
    out[at++] = (unsigned char)tag;
    out[at++] = (unsigned char)l;
    memcpy(out + at, v, l);
    return at + l;
}

static size_t
compact_pv_page(unsigned char *b, int with_page)
{
    size_t at = 0;
    b[at++] = HZ_RECORD_PACKED;
    at = tlv(b, at, 1, "1767225600123");
    at = tlv(b, at, 2, "pv");
    at = tlv(b, at, 3, "example.com");
    if (with_page)
        at = tlv(b, at, 4, "/products/:id");
    at = tlv(b, at, 15, "0123456789abcdef");
    return at;
}

static size_t
compact_pv(unsigned char *b)
{
    return compact_pv_page(b, 1);
}

Test(record_compact, hand_built_entry_decodes_and_is_canonical)
{
    unsigned char b[256], again[HZ_RECORD_PACK_MAX];
    struct hz_record r, want;
    struct hz_err err;
    size_t n = compact_pv(b);

    base_record(&want, HZ_KIND_PAGEVIEW);
    cr_assert_eq(hz_record_unpack(b, n, &r, &err), 0, "%s", err.msg);
    assert_record_eq(&r, &want);
    cr_assert_eq(hz_record_pack(&r, again), n);
    cr_assert_eq(memcmp(b, again, n), 0);
}

Test(record_compact, two_bytes_of_framing_per_field_and_no_names)
{
    struct hz_record r;
    struct hz_field fl[HZ_RECORD_FIELDS];
    char numbuf[HZ_RECORD_NUMBUF];
    unsigned char b[HZ_RECORD_PACK_MAX];
    size_t want = 1;

    base_record(&r, HZ_KIND_PAGEVIEW);
    (void)snprintf(r.browser, sizeof(r.browser), "Firefox");
    (void)snprintf(r.os, sizeof(r.os), "Linux");
    (void)snprintf(r.device, sizeof(r.device), "desktop");
    (void)snprintf(r.id, sizeof(r.id), "fedcba9876543210");
    int nf = hz_record_fields(&r, fl, numbuf);
    cr_assert_str_eq(fl[0].name, "v");
    for (int i = 1; i < nf; i++) {
        want += 2 + fl[i].vlen;
    }
    cr_assert_eq(hz_record_pack(&r, b), want);
}

/* One edit of the hand-built pageview each, and what decode says. */
Test(record_compact, rejects)
{
    unsigned char b[600], good[256];
    struct hz_record r, before;
    struct hz_err err;
    size_t gn = compact_pv(good), n;
    const char *name = HZ_RECORD_KEY, *val = (const char *)b;
    size_t nlen = 1;

#define REJ(len, why)                                                                              \
    do {                                                                                           \
        memset(&r, 0x5c, sizeof(r));                                                               \
        before = r;                                                                                \
        memset(&err, 0, sizeof(err));                                                              \
        n = (len);                                                                                 \
        cr_assert_eq(hz_record_decode(&name, &nlen, &val, &n, 1, &r, &err), HZ_EINVAL, "%s", why); \
        cr_expect_str_eq(err.msg, why);                                                            \
        cr_assert_eq(memcmp(&r, &before, sizeof(r)), 0, "out changed: %s", why);                   \
    } while (0)

    memcpy(b, good, gn);
    b[0] = 1;
    REJ(gn, "record version");
    REJ(0, "record version");
    memcpy(b, good, gn);
    REJ(gn - 1, "record framing");  /* the last value cut short */
    REJ(gn - 17, "record framing"); /* vh's tag alone */
    memcpy(b, good, gn);
    b[gn] = 16; /* a tag without its length */
    REJ(gn + 1, "record framing");
    /* vp after vh, then vh again */
    n = tlv(b, gn, 16, "0123456789abcdef");
    n = tlv(b, n, 15, "0123456789abcdef");
    REJ(n, "field order");
    n = tlv(b, gn, 15, "0123456789abcdef");
    REJ(n, "duplicate field");
    n = tlv(b, gn, 99, "x");
    REJ(n, "unknown field");
    n = tlv(b, gn, 0, "1"); /* "v" is the version byte, not a field */
    REJ(n, "unknown field");
    n = tlv(b, gn, 17, "");
    REJ(n, "bad field 'u'");
    /* a length of 5 in two bytes (0x85 0x00) */
    memcpy(b, good, gn);
    b[gn] = 17;
    b[gn + 1] = 0x85;
    b[gn + 2] = 0;
    memcpy(b + gn + 3, "abcde", 5);
    REJ(gn + 8, "record framing");
    /* a number with a leading zero (t = "01767225600123") */
    {
        size_t at = 0;
        b[at++] = HZ_RECORD_PACKED;
        at = tlv(b, at, 1, "01767225600123");
        memcpy(b + at, good + 16, gn - 16);
        REJ(at + gn - 16, "bad field 't'");
    }
    /* a kind check across fields, as in the multi-field form */
    memcpy(b, good, gn);
    n = tlv(b, gn, 21, "50");
    REJ(n, "sd not allowed for this kind");
    /* without the page */
    REJ(compact_pv_page(b, 0), "missing required field");
    /* a long value in the two-byte length form decodes */
    {
        struct hz_record want;
        base_record(&want, HZ_KIND_PAGEVIEW);
        want.page[0] = '/';
        memset(want.page + 1, 'p', 200);
        want.page[201] = '\0';
        size_t m = hz_record_pack(&want, b);
        cr_assert_eq(hz_record_unpack(b, m, &r, &err), 0, "%s", err.msg);
        assert_record_eq(&r, &want);
    }
#undef REJ
}

Test(record_compact, raw_view_of_either_form)
{
    struct hz_record r;
    unsigned char b[HZ_RECORD_PACK_MAX];
    struct fset *f = calloc(1, sizeof(*f));
    const char *name = HZ_RECORD_KEY, *val = (const char *)b, *u;
    size_t nlen = 1, n, ul, pos = 0, nl, vl;
    const char *fn, *fv;
    int count = 0;

    cr_assert_not_null(f);
    base_record(&r, HZ_KIND_PAGEVIEW);
    (void)snprintf(r.id, sizeof(r.id), "fedcba9876543210");
    n = hz_record_pack(&r, b);
    u = hz_record_find(&name, &nlen, &val, &n, 1, "u", &ul);
    cr_assert(u != NULL && ul == 16 && memcmp(u, "fedcba9876543210", 16) == 0);
    cr_assert_null(hz_record_find(&name, &nlen, &val, &n, 1, "vp", &ul));
    while (hz_record_next(&name, &nlen, &val, &n, 1, &pos, &fn, &nl, &fv, &vl) == 1)
        count++;
    cr_assert_eq(count, 6); /* t k s p vh u */
    fset_from_record(f, &r);
    u = hz_record_find(f->names, f->nlens, f->vals, f->vlens, f->n, "u", &ul);
    cr_assert(u != NULL && ul == 16 && memcmp(u, "fedcba9876543210", 16) == 0);
    /* damaged framing: -1 */
    pos = 0;
    n = 3;
    b[1] = 1;
    b[2] = 50;
    cr_assert_eq(hz_record_next(&name, &nlen, &val, &n, 1, &pos, &fn, &nl, &fv, &vl), -1);
    free(f);
}

/* bv / ov: major versions only; entries without them decode as before. */
Test(record, versions_round_trip_and_are_majors_only)
{
    static const char *const bad[] = {"",    "131.0",  "10_15",   " 8",
                                      "8 ",  "RT  8",  "a\x1f",   "123456789012",
                                      "1/2", "123456", "A 987654"};
    struct hz_record r, back;
    struct fset *f = calloc(1, sizeof(*f));
    struct hz_err err;

    cr_assert_not_null(f);
    base_record(&r, HZ_KIND_PAGEVIEW);
    (void)snprintf(r.browser, sizeof(r.browser), "Chrome");
    (void)snprintf(r.browser_version, sizeof(r.browser_version), "131");
    (void)snprintf(r.os, sizeof(r.os), "Windows");
    (void)snprintf(r.os_version, sizeof(r.os_version), "RT 8");
    fset_from_record(f, &r);
    cr_assert_str_eq(f->vstore[fset_find(f, "bv")], "131");
    cr_assert_str_eq(f->vstore[fset_find(f, "ov")], "RT 8");
    {
        unsigned char b[HZ_RECORD_PACK_MAX];
        size_t n = hz_record_pack(&r, b);
        cr_assert_eq(hz_record_unpack(b, n, &back, &err), 0, "%s", err.msg);
        cr_assert_str_eq(back.browser_version, "131");
        cr_assert_str_eq(back.os_version, "RT 8");
    }
    cr_assert_eq(fset_decode(f, &back, &err), 0, "%s", err.msg);
    cr_assert_str_eq(back.browser_version, "131");
    cr_assert_str_eq(back.os_version, "RT 8");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fset_set(f, "bv", bad[i], strlen(bad[i]));
        cr_expect_eq(fset_decode(f, &back, &err), HZ_EINVAL, "bv '%s'", bad[i]);
    }
    /* An entry written before bv and ov existed. */
    fset_drop(f, "bv");
    fset_drop(f, "ov");
    cr_assert_eq(fset_decode(f, &back, &err), 0, "%s", err.msg);
    cr_assert_str_eq(back.browser_version, "");
    cr_assert_str_eq(back.os_version, "");
    /* Unknown versions are not written. */
    r.browser_version[0] = r.os_version[0] = '\0';
    fset_from_record(f, &r);
    cr_assert_lt(fset_find(f, "bv"), 0);
    cr_assert_lt(fset_find(f, "ov"), 0);
    free(f);
}

/* hz_record_expand checks only what keeps it within the record: the
 * framing, the kind, the numbers and each text's size. */
Test(record_compact, expand_refuses_what_would_not_fit)
{
    struct hz_record r, back;
    unsigned char b[HZ_RECORD_PACK_MAX + 512];
    size_t n;

    base_record(&r, HZ_KIND_PAGEVIEW);
    n = hz_record_pack(&r, b);
    cr_assert_eq(hz_record_expand(b, n, &back), 0);
    cr_assert_str_eq(back.page, "/products/:id");
    cr_assert_neq(hz_record_expand(b, 0, &back), 0);     /* no version byte */
    cr_assert_neq(hz_record_expand(b, n - 1, &back), 0); /* cut inside a field */
    b[0] = 0x03;
    cr_assert_neq(hz_record_expand(b, n, &back), 0); /* another version */

    /* a region (cap 8) of 8 bytes, a page of 256, an unknown kind, a
     * number with a letter, no kind at all, an unknown tag */
    static const unsigned char region[] = {2,   1,   13,  '1', '7', '6', '7', '2', '2', '5',
                                           '6', '0', '0', '1', '2', '3', 2,   2,   'p', 'v',
                                           9,   8,   'D', 'E', '-', 'B', 'Y', 'Y', 'Y', 'Y'};
    cr_assert_neq(hz_record_expand(region, sizeof(region), &back), 0);
    memcpy(b, (const unsigned char[]){2, 2, 2, 'p', 'v', 4, 0x80, 2}, 8);
    memset(b + 8, 'a', 256);
    b[8] = '/';
    cr_assert_neq(hz_record_expand(b, 8 + 256, &back), 0);
    cr_assert_eq(hz_record_expand(b, 8 + 255 - 127, &back), HZ_EINVAL); /* framing */
    static const unsigned char kind[] = {2, 2, 2, 'x', 'x'};
    cr_assert_neq(hz_record_expand(kind, sizeof(kind), &back), 0);
    static const unsigned char num[] = {2, 1, 2, '1', 'x', 2, 2, 'e', 'n'};
    cr_assert_neq(hz_record_expand(num, sizeof(num), &back), 0);
    static const unsigned char nokind[] = {2, 3, 1, 'a'};
    cr_assert_neq(hz_record_expand(nokind, sizeof(nokind), &back), 0);
    static const unsigned char tag[] = {2, 2, 2, 'p', 'v', 60, 1, 'a'};
    cr_assert_neq(hz_record_expand(tag, sizeof(tag), &back), 0);
}

/* hz_record_clear leaves what memset would, but for props' bytes after
 * its first; hz_record_wipe zeroes what a cleared and filled record
 * holds: the pack of a cleared record over garbage is the pack of a
 * zeroed one, and after the wipe only the props tail the clear skipped
 * may be non-zero. */
Test(record, clear_and_wipe)
{
    struct hz_record *r = malloc(sizeof(*r)), *z = calloc(1, sizeof(*z));
    unsigned char a[HZ_RECORD_PACK_MAX], b[HZ_RECORD_PACK_MAX];
    size_t at = offsetof(struct hz_record, props), after = at + sizeof(r->props), na, nb;
    const unsigned char *p = (const unsigned char *)r;

    cr_assert_not_null(r);
    cr_assert_not_null(z);
    memset(r, 0x5a, sizeof(*r));
    hz_record_clear(r);
    for (size_t i = 0; i < sizeof(*r); i++)
        if (i <= at || i >= after)
            cr_assert_eq(p[i], 0, "byte %zu not cleared", i);
    r->kind = z->kind = HZ_KIND_EVENT;
    strcpy(r->site, "shop.example");
    strcpy(z->site, "shop.example");
    cr_assert_eq(hz_record_prop_add(r, "plan", 4, "pro", 3), 0);
    cr_assert_eq(hz_record_prop_add(z, "plan", 4, "pro", 3), 0);
    na = hz_record_pack(r, a);
    nb = hz_record_pack(z, b);
    cr_assert_eq(na, nb);
    cr_assert_eq(memcmp(a, b, na), 0);
    hz_record_wipe(r);
    for (size_t i = 0; i < sizeof(*r); i++)
        if (i < at + strlen("plan\x1fpro") + 1 || i >= after)
            cr_assert_eq(p[i], 0, "byte %zu not wiped", i);
    cr_assert_eq(p[at + 20], 0x5a, "the props tail is not touched");
    free(r);
    free(z);
}
