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
 *   - a second parse with a small arena gives the same answer or ENOMEM.
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

static int
run(const uint8_t *data, size_t size, char *mem, size_t cap, struct hz_beacon *b, struct hz_err *e)
{
    const unsigned char *raw = (const unsigned char *)b;
    struct hz_arena a;
    int rc;

    hz_arena_init(&a, mem, cap);
    memset(b, 0x5a, sizeof(*b));
    memset(e, 0, sizeof(*e));
    rc = hz_beacon_parse_json((const char *)data, size, &a, b, e);
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char mem1[HZ_BEACON_ARENA_MIN], mem2[512];
    struct hz_beacon b1, b2;
    struct hz_err e1, e2;
    int rc1, rc2;

    rc1 = run(data, size, mem1, sizeof(mem1), &b1, &e1);
    CHECK(rc1 != ENOMEM);
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
