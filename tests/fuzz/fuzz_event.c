/* SPDX-License-Identifier: MIT */
/*
 * fuzz_event.c - libFuzzer target for hz_beacon_parse_json (POST
 * /api/event). Properties, checked on every input:
 *   - the return code is 0, HZ_EINVAL or HZ_ETOOBIG (ENOMEM only with a
 *     small arena), and err.code matches it;
 *   - on success: name, url and domain are set, every string (props
 *     included) is valid text (hz_text_valid), within its cap and inside the
 *     arena; numbers and flags in range; "engagement" has its time;
 *   - on error: *out still holds the sentinel pattern, the arena is rolled
 *     back, and the reason is one printable ASCII line;
 *   - a second parse with a small arena gives the same answer or ENOMEM;
 *   - jansson alone (hz_beacon_parse_json_jansson) gives the same answer,
 *     reason, arena use and fields: the allocation-free fast path for flat
 *     bodies never differs from it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/beacon.h"
#include "common/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static void
check_str(const char *s, size_t cap, const struct hz_arena *a)
{
    size_t n;

    CHECK(s >= a->base && s < a->base + a->used);
    n = strlen(s);
    CHECK(n <= cap && n > 0);
    CHECK(s + n < a->base + a->used);
    CHECK(hz_text_valid(s, n));
}

typedef int (*parse_fn)(const char *, size_t, struct hz_arena *, struct hz_beacon *,
                        struct hz_err *);

static size_t arena_used; /* run()'s arena fill after the parse */

static int
run_with(parse_fn parse, const uint8_t *data, size_t size, char *mem, size_t cap,
         struct hz_beacon *b, struct hz_err *e)
{
    const unsigned char *raw = (const unsigned char *)b;
    struct hz_arena a;
    int rc;

    hz_arena_init(&a, mem, cap);
    memset(b, 0x5a, sizeof(*b));
    memset(e, 0, sizeof(*e));
    rc = parse((const char *)data, size, &a, b, e);
    arena_used = a.used;
    if (rc != 0) {
        CHECK(rc == HZ_EINVAL || rc == HZ_ETOOBIG || rc == ENOMEM);
        CHECK(e->code == rc);
        for (size_t i = 0; i < sizeof(*b); i++) /* padding too: *out = b copies it */
            CHECK(raw[i] == 0x5a);
        CHECK(a.used == 0);
        CHECK(e->msg[0] != '\0');
        for (const char *p = e->msg; *p; p++)
            CHECK(*p >= 0x20 && *p < 0x7f);
        return rc;
    }
    check_str(b->name, HZ_BEACON_NAME_MAX, &a);
    CHECK(b->url != NULL);
    check_str(b->url, HZ_BEACON_URL_MAX, &a);
    check_str(b->domain, HZ_BEACON_DOMAIN_MAX, &a);
    CHECK(strchr(b->domain, ',') == NULL);
    CHECK(b->domain[0] != ' ' && b->domain[strlen(b->domain) - 1] != ' ');
    if (b->referrer != NULL)
        check_str(b->referrer, HZ_BEACON_REFERRER_MAX, &a);
    CHECK(b->width >= -1 && b->width <= HZ_BEACON_WIDTH_MAX);
    CHECK(b->has_engaged == 0 || b->has_engaged == 1);
    CHECK(b->engaged_ms <= (b->has_engaged ? HZ_BEACON_ENGAGED_MAX : 0));
    CHECK(b->hash_mode == 0 || b->hash_mode == 1);
    CHECK(strcmp(b->name, "engagement") != 0 || b->has_engaged);
    CHECK(b->interactive == 0 || b->interactive == 1);
    CHECK(b->scroll_depth >= -1 && b->scroll_depth <= 100);
    CHECK(b->nprops >= 0 && b->nprops <= HZ_BEACON_PROPS_MAX);
    for (int i = 0; i < b->nprops; i++) {
        const char *v = b->props[i].value;
        if (b->props[i].key != NULL)
            check_str(b->props[i].key, HZ_BEACON_PROP_KEY_KEEP, &a);
        CHECK(v >= a.base && v < a.base + a.used);
        CHECK(strlen(v) <= HZ_BEACON_PROP_VALUE_KEEP && hz_text_valid(v, strlen(v)));
    }
    return 0;
}

static int
run(const uint8_t *data, size_t size, char *mem, size_t cap, struct hz_beacon *b, struct hz_err *e)
{
    return run_with(hz_beacon_parse_json, data, size, mem, cap, b, e);
}

/* A string member: both NULL, or equal text at the same arena offset. */
static void
same_str(const char *s1, const char *m1, const char *s3, const char *m3)
{
    CHECK((s1 == NULL) == (s3 == NULL));
    if (s1 != NULL)
        CHECK(s1 - m1 == s3 - m3 && strcmp(s1, s3) == 0);
}

/* The fast path's answer against jansson's alone, field by field. */
static void
same_as_jansson(const uint8_t *data, size_t size, int rc1, const struct hz_beacon *b1,
                const struct hz_err *e1, const char *mem1, size_t used1)
{
    static char mem3[HZ_BEACON_ARENA_MIN];
    struct hz_beacon b3;
    struct hz_err e3;
    int rc3 = run_with(hz_beacon_parse_json_jansson, data, size, mem3, sizeof(mem3), &b3, &e3);

    CHECK(rc1 == rc3 && e1->code == e3.code && strcmp(e1->msg, e3.msg) == 0);
    CHECK(used1 == arena_used);
    if (rc1 != 0)
        return;
    same_str(b1->name, mem1, b3.name, mem3);
    same_str(b1->url, mem1, b3.url, mem3);
    same_str(b1->domain, mem1, b3.domain, mem3);
    same_str(b1->referrer, mem1, b3.referrer, mem3);
    CHECK(b1->width == b3.width && b1->has_engaged == b3.has_engaged);
    CHECK(b1->engaged_ms == b3.engaged_ms && b1->hash_mode == b3.hash_mode);
    CHECK(b1->interactive == b3.interactive && b1->scroll_depth == b3.scroll_depth);
    CHECK(b1->nprops == b3.nprops);
    for (int i = 0; i < b1->nprops; i++) {
        same_str(b1->props[i].key, mem1, b3.props[i].key, mem3);
        same_str(b1->props[i].value, mem1, b3.props[i].value, mem3);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char mem1[HZ_BEACON_ARENA_MIN], mem2[512];
    struct hz_beacon b1, b2;
    struct hz_err e1, e2;
    size_t used1;
    int rc1, rc2;

    rc1 = run(data, size, mem1, sizeof(mem1), &b1, &e1);
    used1 = arena_used;
    CHECK(rc1 != ENOMEM);
    same_as_jansson(data, size, rc1, &b1, &e1, mem1, used1);
    /* Some arena size between 0 and 511, picked by the input's length. */
    rc2 = run(data, size, mem2, size % sizeof(mem2), &b2, &e2);
    if (rc2 == ENOMEM)
        return 0;
    CHECK(rc1 == rc2 && strcmp(e1.msg, e2.msg) == 0);
    if (rc1 == 0) {
        CHECK(strcmp(b1.name, b2.name) == 0 && strcmp(b1.url, b2.url) == 0);
        CHECK(strcmp(b1.domain, b2.domain) == 0);
        CHECK((b1.referrer == NULL) == (b2.referrer == NULL));
        CHECK(b1.referrer == NULL || strcmp(b1.referrer, b2.referrer) == 0);
        CHECK(b1.width == b2.width && b1.engaged_ms == b2.engaged_ms);
        CHECK(b1.nprops == b2.nprops && b1.interactive == b2.interactive);
        for (int i = 0; i < b1.nprops; i++)
            CHECK(strcmp(b1.props[i].value, b2.props[i].value) == 0);
    }
    return 0;
}
