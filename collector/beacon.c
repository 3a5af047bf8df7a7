/* SPDX-License-Identifier: MIT */
/*
 * beacon.c - the two beacon parsers: POST /api/event JSON (a fast path for
 * the flat bodies trackers send, jansson for the rest) and the GET /p.gif
 * query string. Pure: no I/O, no globals, no logging.
 *
 * Both front ends feed the same field setters, so a field obeys the same
 * caps and text rules whichever way it arrived. Everything is built in a
 * local struct hz_beacon and copied to *out only when the whole beacon is
 * good; on any error the arena's fill level is rolled back, so a rejected
 * beacon leaves no trace. Reasons name the field, never its content: the
 * content is the visitor's data and may end up in a log.
 *
 * Types are strict on purpose (reject, don't repair): the senders are our
 * haze.js and Plausible-compatible trackers, which always send integers as
 * integers and strings as strings, so anything else is a broken or hostile
 * client, and coercing it would only hide that. The one tolerance is for
 * what real trackers do send: r "" or null, sd null, h as 1 or true.
 *
 * Running out of arena is ENOMEM, not a client error: the caller sizes the
 * arena (HZ_BEACON_ARENA_MIN holds the largest legal beacon), so a full
 * arena is a server bug and should surface as a 500.
 */
#include "collector/beacon.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/str.h"

/* The fields that carry text, in the order they are checked (so that the
 * first problem reported is always the same one for the same body). */
enum beacon_field { BEACON_N, BEACON_U, BEACON_D, BEACON_R, BEACON_NFIELDS };

static const char *const beacon_key[BEACON_NFIELDS] = {"n", "u", "d", "r"};
/* Plausible's documented (long) names of the same fields. */
static const char *const beacon_long_key[BEACON_NFIELDS] = {"name", "url", "domain", "referrer"};

_Static_assert(HZ_BEACON_WIDTH_MAX == 100000, "query_value caps w at six digits");
_Static_assert(HZ_BEACON_NAME_MAX <= HZ_BEACON_URL_MAX &&
                   HZ_BEACON_REFERRER_MAX <= HZ_BEACON_URL_MAX,
               "query_value's scratch holds any value within its cap");

/* Byte caps of the decoded values, indexed by enum beacon_field. */
static const size_t beacon_cap[BEACON_NFIELDS] = {
    HZ_BEACON_NAME_MAX,
    HZ_BEACON_URL_MAX,
    HZ_BEACON_URL_MAX, /* the whole list; the first domain has its own cap */
    HZ_BEACON_REFERRER_MAX,
};

/* ------------------------------------------------------------ common */

/*
 * Validates one text field (cap, then UTF-8/NUL/control characters) and
 * stores an arena copy in the right member of b. For d only the first
 * entry of the comma-separated list is kept, trimmed of spaces. An empty
 * r means "no referrer" and leaves b->referrer NULL.
 */
static int
beacon_set_text(struct hz_beacon *b, enum beacon_field f, const char *p, size_t len,
                struct hz_arena *a, struct hz_err *err)
{
    const char *key = beacon_key[f];
    char *copy;

    /* The cap first: it is cheap, and an oversize field is "too big"
     * whatever its bytes are. */
    if (len > beacon_cap[f])
        return hz_err_set(err, HZ_ETOOBIG, "%s: over %zu bytes", key, beacon_cap[f]);
    if (!hz_text_valid(p, len))
        return hz_err_set(err, HZ_EINVAL, "%s: invalid UTF-8 or control character", key);
    /* A bidi override can make "/evil" display as another page's name in
     * the dashboard and in exports: refused, like a control character. */
    if (hz_text_has_bidi(p, len))
        return hz_err_set(err, HZ_EINVAL, "%s: Unicode bidirectional control character", key);
    /* Plausible's script sends `document.referrer || null`, other clients
     * send ""; both mean "no referrer" (a direct visit). */
    if (f == BEACON_R && len == 0)
        return 0;
    /* data-domain="a.com,b.com" reports one page view to several sites;
     * haze counts it once, for the first. Only spaces need trimming: tabs
     * and newlines are control characters, already rejected above. */
    if (f == BEACON_D) {
        const char *comma = memchr(p, ',', len);
        if (comma != NULL)
            len = (size_t)(comma - p);
        while (len > 0 && p[0] == ' ') {
            p++;
            len--;
        }
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len > HZ_BEACON_DOMAIN_MAX)
            return hz_err_set(err, HZ_ETOOBIG, "d: first domain over %d bytes",
                              HZ_BEACON_DOMAIN_MAX);
    }
    if (len == 0)
        return hz_err_set(err, HZ_EINVAL, "%s: empty", key);
    if ((copy = hz_arena_strndup(a, p, len)) == NULL)
        return hz_err_set(err, ENOMEM, "arena: out of space");
    switch (f) {
    case BEACON_N:
        b->name = copy;
        break;
    case BEACON_U:
        b->url = copy;
        break;
    case BEACON_D:
        b->domain = copy;
        break;
    default:
        b->referrer = copy;
        break;
    }
    return 0;
}

/* An empty beacon: no strings, no engaged time, width -1 for "absent"
 * (0 is a width some embedded web views do report). */
static void
beacon_init(struct hz_beacon *b)
{
    memset(b, 0, sizeof(*b));
    b->width = -1;
    b->interactive = 1;
    b->scroll_depth = -1;
}

/* The rules that span fields, checked once every field is in. An
 * engagement without its time would add a made-up zero to the page's
 * time-on-page histogram, so it is refused rather than defaulted. */
static int
beacon_finish(const struct hz_beacon *b, struct hz_err *err)
{
    if (b->name == NULL)
        return hz_err_set(err, HZ_EINVAL, "n: missing");
    if (b->domain == NULL)
        return hz_err_set(err, HZ_EINVAL, "d: missing");
    if (strcmp(b->name, "engagement") == 0 && !b->has_engaged)
        return hz_err_set(err, HZ_EINVAL, "e: missing (required for engagement)");
    return 0;
}

/* -------------------------------------------------------------- JSON */

/*
 * Nesting depth of a JSON text, counting brackets outside strings. jansson
 * only limits depth at build time (JSON_PARSER_MAX_DEPTH, 2048 here), so
 * this runs first. On malformed text the count may be off, but jansson
 * rejects such text anyway: the scan only has to be exact for valid JSON.
 * Stops counting once past limit.
 */
static int
json_depth_over(const char *p, size_t len, int limit)
{
    int depth = 0, in_str = 0;

    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++; /* the escaped character cannot end the string */
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > limit)
                return 1;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 0;
}

/* jansson's error text quotes the input ("near '...'"), so only its code
 * is used, mapped to a fixed reason. */
static int
json_load_error(const json_error_t *je, struct hz_err *err)
{
    switch (json_error_code(je)) {
    case json_error_out_of_memory:
        return hz_err_set(err, ENOMEM, "body: out of memory");
    case json_error_invalid_utf8:
        return hz_err_set(err, HZ_EINVAL, "body: invalid UTF-8");
    case json_error_null_character:
    case json_error_null_byte_in_key:
        return hz_err_set(err, HZ_EINVAL, "body: NUL character in a string");
    case json_error_duplicate_key:
        return hz_err_set(err, HZ_EINVAL, "body: duplicate key");
    case json_error_end_of_input_expected:
        return hz_err_set(err, HZ_EINVAL, "body: data after the JSON value");
    case json_error_premature_end_of_input:
        return hz_err_set(err, HZ_EINVAL, "body: truncated JSON");
    case json_error_numeric_overflow:
        return hz_err_set(err, HZ_EINVAL, "body: number out of range");
    case json_error_stack_overflow:
        return hz_err_set(err, HZ_EINVAL, "body: nested too deep");
    default:
        return hz_err_set(err, HZ_EINVAL, "body: malformed JSON (line %d, column %d)", je->line,
                          je->column);
    }
}

/* An integer member in [0, max]; absent leaves *present 0. A real (1280.0,
 * 1e3) is not an integer here, although JavaScript would not tell them
 * apart: JSON.stringify of an integer-valued number never writes either. */
static int
json_get_uint(const json_t *obj, const char *key, json_int_t max, int *present, json_int_t *v,
              struct hz_err *err)
{
    const json_t *j = json_object_get(obj, key);

    *present = 0;
    if (j == NULL)
        return 0;
    if (!json_is_integer(j))
        return hz_err_set(err, HZ_EINVAL, "%s: not an integer", key);
    *v = json_integer_value(j);
    if (*v < 0 || *v > max)
        return hz_err_set(err, HZ_EINVAL, "%s: out of range 0..%lld", key, (long long)max);
    *present = 1;
    return 0;
}

/* The member spelled short or long ("p" or "props"); both is ambiguous. */
static int
json_get_either(const json_t *obj, const char *shortk, const char *longk, const json_t **out,
                struct hz_err *err)
{
    const json_t *s = json_object_get(obj, shortk), *l = json_object_get(obj, longk);

    if (s != NULL && l != NULL)
        return hz_err_set(err, HZ_EINVAL, "%s: given twice (as %s and %s)", shortk, shortk, longk);
    *out = s != NULL ? s : l;
    return 0;
}

/* The text members n, u, d (required strings) and r (string or null). */
static int
json_get_texts(const json_t *obj, struct hz_beacon *b, struct hz_arena *a, struct hz_err *err)
{
    for (int f = 0; f < BEACON_NFIELDS; f++) {
        const char *key = beacon_key[f];
        const json_t *j;
        int rc;

        if ((rc = json_get_either(obj, key, beacon_long_key[f], &j, err)) != 0)
            return rc;
        if (f == BEACON_R && (j == NULL || json_is_null(j)))
            continue;
        if (j == NULL)
            return hz_err_set(err, HZ_EINVAL, "%s: missing", key);
        if (!json_is_string(j))
            return hz_err_set(err, HZ_EINVAL,
                              f == BEACON_R ? "%s: not a string or null" : "%s: not a string", key);
        /* json_string_length, not strlen: a NUL inside must be seen. */
        rc = beacon_set_text(b, (enum beacon_field)f, json_string_value(j), json_string_length(j),
                             a, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Length of (s, len) cut to at most max bytes on a UTF-8 boundary. */
static size_t
beacon_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    len = max;
    while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
        len--;
    return len;
}

/* One prop: the name checked and copied (when short enough to be
 * allow-listed), the value as text (numbers and booleans as JSON writes
 * them) checked and copied cut to HZ_BEACON_PROP_VALUE_KEEP. */
static int
beacon_prop(struct hz_beacon *b, const char *key, const json_t *v, struct hz_arena *a,
            struct hz_err *err)
{
    /* Plausible's limits on the name and value are checked for every prop,
     * also the ones dropped later; the value type decides whether it is
     * one. */
    struct hz_beacon_prop *p = &b->props[b->nprops];
    char num[40];
    const char *val;
    size_t klen = strlen(key), vlen;

    if (klen == 0)
        return hz_err_set(err, HZ_EINVAL, "p: an empty prop name");
    if (klen > HZ_BEACON_PROP_KEY_MAX)
        return hz_err_set(err, HZ_ETOOBIG, "p: a prop name is over %d bytes",
                          HZ_BEACON_PROP_KEY_MAX);
    if (!hz_text_valid(key, klen))
        return hz_err_set(err, HZ_EINVAL, "p: a prop name is not valid text");
    if (json_is_string(v)) {
        val = json_string_value(v);
        vlen = json_string_length(v);
    } else if (json_is_integer(v)) {
        (void)snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
        val = num;
        vlen = strlen(num);
    } else if (json_is_real(v)) {
        (void)snprintf(num, sizeof(num), "%.15g", json_real_value(v));
        val = num;
        vlen = strlen(num);
    } else if (json_is_boolean(v)) {
        val = json_is_true(v) ? "true" : "false";
        vlen = strlen(val);
    } else {
        return 0; /* an object or array: not a prop value (Plausible drops it too) */
    }
    if (vlen > HZ_BEACON_PROP_VALUE_MAX)
        return hz_err_set(err, HZ_ETOOBIG, "p: a prop value is over %d bytes",
                          HZ_BEACON_PROP_VALUE_MAX);
    if (!hz_text_valid(val, vlen))
        return hz_err_set(err, HZ_EINVAL, "p: a prop value is not valid text");
    p->key = NULL;
    if (klen <= HZ_BEACON_PROP_KEY_KEEP && (p->key = hz_arena_strndup(a, key, klen)) == NULL)
        return hz_err_set(err, ENOMEM, "arena: out of space");
    vlen = beacon_utf8_cut(val, vlen, HZ_BEACON_PROP_VALUE_KEEP);
    if ((p->value = hz_arena_strndup(a, val, vlen)) == NULL)
        return hz_err_set(err, ENOMEM, "arena: out of space");
    b->nprops++;
    return 0;
}

/* p/props: an object, a JSON string holding one (Plausible accepts both),
 * or null. A null value is dropped, as an absent prop. */
static int
json_get_props(const json_t *obj, struct hz_beacon *b, struct hz_arena *a, struct hz_err *err)
{
    const json_t *j;
    json_t *parsed = NULL;
    const char *key;
    json_t *v;
    int rc;

    if ((rc = json_get_either(obj, "p", "props", &j, err)) != 0)
        return rc;
    if (j == NULL || json_is_null(j))
        return 0;
    if (json_is_string(j)) {
        json_error_t je;
        if (json_depth_over(json_string_value(j), json_string_length(j), HZ_BEACON_DEPTH_MAX))
            return hz_err_set(err, HZ_EINVAL, "p: nested deeper than %d", HZ_BEACON_DEPTH_MAX);
        parsed =
            json_loadb(json_string_value(j), json_string_length(j), JSON_REJECT_DUPLICATES, &je);
        if (parsed == NULL && json_error_code(&je) == json_error_out_of_memory)
            return hz_err_set(err, ENOMEM, "p: out of memory");
        if (parsed == NULL || !json_is_object(parsed)) {
            json_decref(parsed);
            return hz_err_set(err, HZ_EINVAL, "p: a string that is not a JSON object");
        }
        j = parsed;
    }
    if (!json_is_object(j))
        return hz_err_set(err, HZ_EINVAL, "p: not an object, a JSON string or null");
    if (json_object_size(j) > HZ_BEACON_PROPS_MAX) {
        json_decref(parsed);
        return hz_err_set(err, HZ_EINVAL, "p: more than %d props", HZ_BEACON_PROPS_MAX);
    }
    rc = 0;
    json_object_foreach((json_t *)j, key, v)
    {
        if (json_is_null(v))
            continue;
        if ((rc = beacon_prop(b, key, v, a, err)) != 0)
            break;
    }
    json_decref(parsed);
    return rc;
}

/* Numbers, flags and the members that are only type-checked. */
static int
json_get_rest(const json_t *obj, struct hz_beacon *b, struct hz_err *err)
{
    const json_t *j;
    json_int_t v = 0;
    int present, rc;

    if ((rc = json_get_uint(obj, "w", HZ_BEACON_WIDTH_MAX, &present, &v, err)) != 0)
        return rc;
    if (present)
        b->width = (int)v;
    if ((rc = json_get_uint(obj, "e", HZ_BEACON_ENGAGED_MAX, &present, &v, err)) != 0)
        return rc;
    if (present) {
        b->has_engaged = 1;
        b->engaged_ms = (uint64_t)v;
    }
    /* Plausible's hash build sends h:1; a boolean means the same. */
    if ((j = json_object_get(obj, "h")) != NULL) {
        if (json_is_boolean(j))
            b->hash_mode = json_is_true(j);
        else if (json_is_integer(j) && (json_integer_value(j) & ~(json_int_t)1) == 0)
            b->hash_mode = (int)json_integer_value(j);
        else
            return hz_err_set(err, HZ_EINVAL, "h: not 0, 1 or a boolean");
    }
    if ((rc = json_get_either(obj, "i", "interactive", &j, err)) != 0)
        return rc;
    if (j != NULL && !json_is_boolean(j))
        return hz_err_set(err, HZ_EINVAL, "i: not a boolean");
    if (j != NULL)
        b->interactive = json_is_true(j);
    if ((j = json_object_get(obj, "sd")) != NULL && !json_is_null(j)) {
        if (!json_is_integer(j))
            return hz_err_set(err, HZ_EINVAL, "sd: not an integer or null");
        /* A page that grew while read can report past 100: it was read to
         * the end. Below 0 means nothing was measured. */
        if (json_integer_value(j) >= 0)
            b->scroll_depth = json_integer_value(j) > 100 ? 100 : (int)json_integer_value(j);
    }
    return 0;
}

/* ------------------------------------------------------ JSON fast path */

/*
 * Nearly every body is what haze.js or Plausible's script sends: one flat
 * object of plain ASCII strings without escapes, small integers, true,
 * false and null, and no props. Such a body is read here in one pass,
 * without jansson (which mallocs every member, key and string, and hashes
 * each key). The fast path never decides against a body: anything it does
 * not fully understand -- an escape, a byte outside printable ASCII, a
 * nested value, a negative or non-integer number, more members than it
 * keeps, a duplicate key, props -- and any body a rule refuses goes whole
 * to the jansson path, which gives the answer and its reason. It only
 * ever returns what the jansson path would (fuzz_event and beacon_test
 * compare the two).
 */

#define FAST_MEMBERS 16 /* more members: the jansson path */
#define FAST_DIGITS  15 /* longer integers: the jansson path (no overflow here) */

enum fast_type { FAST_STR, FAST_INT, FAST_TRUE, FAST_FALSE, FAST_NULL };

struct fast_member {
    const char *key, *s; /* key and string value, not NUL-terminated */
    size_t klen, slen;
    enum fast_type type;
    long long num;
};

struct fast_obj {
    struct fast_member m[FAST_MEMBERS];
    int n;
};

/* The index of the first byte at or after i that is not JSON whitespace. */
static size_t
fast_skip_ws(const char *p, size_t len, size_t i)
{
    for (; i < len; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
            break;
    return i;
}

/* A string at p[*i] (its opening quote) of bytes 0x20..0x7f other than a
 * backslash; *i moves past the closing quote. 0 for anything else. */
static int
fast_string(const char *p, size_t len, size_t *i, const char **s, size_t *slen)
{
    size_t start = *i + 1;

    for (size_t j = start; j < len; j++) {
        unsigned char c = (unsigned char)p[j];
        if (c == '"') {
            *s = p + start;
            *slen = j - start;
            *i = j + 1;
            return 1;
        }
        if (c < 0x20 || c >= 0x80 || c == '\\')
            return 0;
    }
    return 0;
}

/* One value at p[*i]: a plain string, an integer >= 0 of at most
 * FAST_DIGITS digits (JSON's grammar: no leading zero), or a literal. */
static int
fast_value(const char *p, size_t len, size_t *i, struct fast_member *m)
{
    size_t j = *i;
    char c = p[j];

    if (c == '"') {
        m->type = FAST_STR;
        return fast_string(p, len, i, &m->s, &m->slen);
    }
    if (c >= '0' && c <= '9') {
        size_t start = j;
        long long v = 0;
        if (c == '0' && j + 1 < len && p[j + 1] >= '0' && p[j + 1] <= '9')
            return 0;
        for (; j < len && p[j] >= '0' && p[j] <= '9'; j++) {
            if (j - start >= FAST_DIGITS)
                return 0;
            v = v * 10 + (p[j] - '0');
        }
        if (j < len && (p[j] == '.' || p[j] == 'e' || p[j] == 'E'))
            return 0; /* a real: jansson's */
        m->type = FAST_INT;
        m->num = v;
        *i = j;
        return 1;
    }
    if (len - j >= 4 && memcmp(p + j, "true", 4) == 0) {
        m->type = FAST_TRUE;
        *i = j + 4;
        return 1;
    }
    if (len - j >= 5 && memcmp(p + j, "false", 5) == 0) {
        m->type = FAST_FALSE;
        *i = j + 5;
        return 1;
    }
    if (len - j >= 4 && memcmp(p + j, "null", 4) == 0) {
        m->type = FAST_NULL;
        *i = j + 4;
        return 1;
    }
    return 0; /* an object, an array, a negative number, or not JSON */
}

/* Keys are short: compared in line rather than through memcmp. */
static int
fast_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* The whole body as one flat object of distinct keys, with nothing but
 * whitespace after it. A literal or number must be followed by
 * whitespace, ',' or '}', as the grammar wants ("truex" is not true). */
static int
fast_parse(const char *p, size_t len, struct fast_obj *o)
{
    size_t i = fast_skip_ws(p, len, 0);

    o->n = 0;
    if (i >= len || p[i] != '{')
        return 0;
    i = fast_skip_ws(p, len, i + 1);
    for (;;) {
        struct fast_member *m;
        if (i >= len || p[i] != '"' || o->n == FAST_MEMBERS)
            return 0;
        m = &o->m[o->n];
        if (!fast_string(p, len, &i, &m->key, &m->klen))
            return 0;
        for (int k = 0; k < o->n; k++)
            if (fast_eq(o->m[k].key, o->m[k].klen, m->key, m->klen))
                return 0; /* duplicate: jansson words the refusal */
        i = fast_skip_ws(p, len, i);
        if (i >= len || p[i] != ':')
            return 0;
        i = fast_skip_ws(p, len, i + 1);
        if (i >= len || !fast_value(p, len, &i, m))
            return 0;
        o->n++;
        i = fast_skip_ws(p, len, i);
        if (i < len && p[i] == ',') {
            i = fast_skip_ws(p, len, i + 1);
            continue;
        }
        if (i < len && p[i] == '}')
            break;
        return 0;
    }
    return fast_skip_ws(p, len, i + 1) == len;
}

/* The members the rules read, short and long spellings side by side in
 * enum beacon_field's order first. */
/* clang-format off */
enum fast_key {
    FK_N, FK_NAME, FK_U, FK_URL, FK_D, FK_DOMAIN, FK_R, FK_REFERRER,
    FK_W, FK_E, FK_H, FK_I, FK_INTERACTIVE, FK_SD, FK_P, FK_PROPS, FK_COUNT
};

_Static_assert(FK_REFERRER == 2 * BEACON_R + 1 && FK_N == 2 * BEACON_N,
               "fast_keys pairs follow enum beacon_field");

#define FK(s) {s, sizeof(s) - 1}
static const struct { const char *s; size_t len; } fast_keys[FK_COUNT] = {
    FK("n"), FK("name"), FK("u"), FK("url"), FK("d"), FK("domain"), FK("r"), FK("referrer"),
    FK("w"), FK("e"), FK("h"), FK("i"), FK("interactive"), FK("sd"), FK("p"), FK("props"),
};
#undef FK
/* clang-format on */

/* Which member each known key names (NULL: absent). */
static void
fast_slots(const struct fast_obj *o, const struct fast_member *k[FK_COUNT])
{
    for (int j = 0; j < FK_COUNT; j++)
        k[j] = NULL;
    for (int i = 0; i < o->n; i++)
        for (int j = 0; j < FK_COUNT; j++)
            if (fast_eq(o->m[i].key, o->m[i].klen, fast_keys[j].s, fast_keys[j].len)) {
                k[j] = &o->m[i];
                break;
            }
}

/* The rules of json_get_texts, json_get_rest, json_get_props and
 * beacon_finish, in their order, over the members fast_parse found.
 * 1 with *out set; 0 (the arena rolled back) for the jansson path. */
static int
beacon_json_fast(const char *body, size_t len, struct hz_arena *a, struct hz_beacon *out)
{
    struct fast_obj o;
    struct hz_beacon b;
    const struct fast_member *k[FK_COUNT], *m;
    size_t mark = a->used;

    if (!fast_parse(body, len, &o))
        return 0;
    fast_slots(&o, k);
    beacon_init(&b);
    for (int f = 0; f < BEACON_NFIELDS; f++) {
        const struct fast_member *sm = k[2 * f], *lm = k[2 * f + 1];
        if (sm != NULL && lm != NULL)
            goto slow; /* both spellings */
        m = sm != NULL ? sm : lm;
        if (f == BEACON_R && (m == NULL || m->type == FAST_NULL))
            continue;
        if (m == NULL || m->type != FAST_STR ||
            beacon_set_text(&b, (enum beacon_field)f, m->s, m->slen, a, NULL) != 0)
            goto slow;
    }
    if ((m = k[FK_W]) != NULL) {
        if (m->type != FAST_INT || m->num > HZ_BEACON_WIDTH_MAX)
            goto slow;
        b.width = (int)m->num;
    }
    if ((m = k[FK_E]) != NULL) {
        if (m->type != FAST_INT || m->num > HZ_BEACON_ENGAGED_MAX)
            goto slow;
        b.has_engaged = 1;
        b.engaged_ms = (uint64_t)m->num;
    }
    if ((m = k[FK_H]) != NULL) {
        if (m->type == FAST_TRUE || m->type == FAST_FALSE)
            b.hash_mode = m->type == FAST_TRUE;
        else if (m->type == FAST_INT && m->num <= 1)
            b.hash_mode = (int)m->num;
        else
            goto slow;
    }
    if (k[FK_I] != NULL && k[FK_INTERACTIVE] != NULL)
        goto slow;
    if ((m = k[FK_I] != NULL ? k[FK_I] : k[FK_INTERACTIVE]) != NULL) {
        if (m->type != FAST_TRUE && m->type != FAST_FALSE)
            goto slow;
        b.interactive = m->type == FAST_TRUE;
    }
    if ((m = k[FK_SD]) != NULL && m->type != FAST_NULL) {
        if (m->type != FAST_INT)
            goto slow;
        b.scroll_depth = m->num > 100 ? 100 : (int)m->num;
    }
    /* Props: jansson's (an object or a JSON string to parse). */
    if ((k[FK_P] != NULL && k[FK_P]->type != FAST_NULL) ||
        (k[FK_PROPS] != NULL && k[FK_PROPS]->type != FAST_NULL) ||
        (k[FK_P] != NULL && k[FK_PROPS] != NULL))
        goto slow;
    if (beacon_finish(&b, NULL) != 0)
        goto slow;
    *out = b;
    return 1;

slow:
    a->used = mark;
    return 0;
}

int
hz_beacon_parse_json(const char *body, size_t len, struct hz_arena *a, struct hz_beacon *out,
                     struct hz_err *err)
{
    assert(a != NULL && out != NULL && (body != NULL || len == 0));
    if (len > 0 && len <= HZ_BEACON_BODY_MAX && beacon_json_fast(body, len, a, out))
        return 0;
    return hz_beacon_parse_json_jansson(body, len, a, out, err);
}

int
hz_beacon_parse_json_jansson(const char *body, size_t len, struct hz_arena *a,
                             struct hz_beacon *out, struct hz_err *err)
{
    struct hz_beacon b;
    size_t mark;
    json_error_t je;
    json_t *root = NULL;
    int rc;

    assert(a != NULL && out != NULL && (body != NULL || len == 0));
    mark = a->used;
    beacon_init(&b);

    /* Cap before parsing: size, then depth (jansson recurses per level). */
    if (len > HZ_BEACON_BODY_MAX) {
        rc = hz_err_set(err, HZ_ETOOBIG, "body: over %d bytes", HZ_BEACON_BODY_MAX);
        goto reject;
    }
    if (len == 0) {
        rc = hz_err_set(err, HZ_EINVAL, "body: empty");
        goto reject;
    }
    if (json_depth_over(body, len, HZ_BEACON_DEPTH_MAX)) {
        rc = hz_err_set(err, HZ_EINVAL, "body: nested deeper than %d", HZ_BEACON_DEPTH_MAX);
        goto reject;
    }
    /* No JSON_DECODE_ANY: a bare scalar is rejected by jansson; no
     * JSON_ALLOW_NUL: "\u0000" is too; the EOF check catches trailing data. */
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        rc = json_load_error(&je, err);
        goto reject;
    }
    if (!json_is_object(root)) {
        rc = hz_err_set(err, HZ_EINVAL, "body: not a JSON object");
        goto reject;
    }
    /* The setters copy strings out of jansson's tree into the arena, so
     * nothing in *out points into the tree freed below. */
    if ((rc = json_get_texts(root, &b, a, err)) != 0 || (rc = json_get_rest(root, &b, err)) != 0 ||
        (rc = json_get_props(root, &b, a, err)) != 0 || (rc = beacon_finish(&b, err)) != 0)
        goto reject;
    json_decref(root);
    *out = b;
    return 0;

reject:
    json_decref(root);
    a->used = mark;
    return rc;
}

/* ------------------------------------------------------------- query */

/* 1 for an ASCII hex digit, either case ("%2f" and "%2F" are the same). */
static int
query_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/*
 * Checks every '%' in (p, len) is followed by two hex digits and returns
 * the decoded length in *dlen. Separate from hz_pct_decode so that "bad
 * escape" (HZ_EINVAL) and "too long" (HZ_ETOOBIG) are told apart.
 */
static int
query_scan(const char *p, size_t len, size_t *dlen)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++, n++) {
        if (p[i] != '%')
            continue;
        if (len - i < 3 || !query_hex((unsigned char)p[i + 1]) ||
            !query_hex((unsigned char)p[i + 2]))
            return HZ_EINVAL;
        i += 2;
    }
    *dlen = n;
    return 0;
}

/* What query_key finds besides the text fields' enum beacon_field. */
enum {
    QUERY_W = BEACON_NFIELDS, /* w, the only number */
    QUERY_UNKNOWN = -1,
    QUERY_BADKEY = -2, /* a bad percent escape in the key */
};

/* Which known key (k, klen) is, once decoded. Keys are percent-decoded like
 * values (form encoding allows "%64=" for "d="), so that an encoded key
 * cannot slip past the duplicate check. */
static int
query_key(const char *k, size_t klen)
{
    char key[4];
    size_t dlen;
    long n;

    /* The common case, a one-letter key that is itself, without decoding. */
    if (klen == 1 && k[0] != '%' && k[0] != '+') {
        for (int f = 0; f < BEACON_NFIELDS; f++)
            if (k[0] == beacon_key[f][0])
                return f;
        return k[0] == 'w' ? QUERY_W : QUERY_UNKNOWN;
    }
    if (query_scan(k, klen, &dlen) != 0)
        return QUERY_BADKEY;
    if (dlen == 0 || dlen >= sizeof(key))
        return QUERY_UNKNOWN;
    n = hz_pct_decode(key, sizeof(key) - 1, k, klen, 1);
    if (n < 0)
        return QUERY_BADKEY;
    key[n] = '\0';
    for (int f = 0; f < BEACON_NFIELDS; f++)
        if (strcmp(key, beacon_key[f]) == 0)
            return f;
    if (strcmp(key, "w") == 0)
        return QUERY_W;
    return QUERY_UNKNOWN;
}

/* One known pair: decodes v into scratch and hands it to the setter. */
static int
query_value(struct hz_beacon *b, int f, const char *v, size_t vlen, struct hz_arena *a,
            struct hz_err *err)
{
    const char *key = f == QUERY_W ? "w" : beacon_key[f];
    size_t cap = f == QUERY_W ? sizeof("100000") - 1 : beacon_cap[f];
    char scratch[HZ_BEACON_URL_MAX + 1];
    size_t dlen;
    long n;

    if (vlen <= cap) {
        /* Decoded, a value is never longer than it is raw: it fits every
         * cap, and a decode can only fail on a bad escape (as query_scan
         * would have found), so one pass does. */
        n = hz_pct_decode(scratch, sizeof(scratch), v, vlen, 1);
        if (n < 0)
            return hz_err_set(err, HZ_EINVAL, "%s: bad percent escape", key);
        dlen = (size_t)n;
    } else {
        if (query_scan(v, vlen, &dlen) != 0)
            return hz_err_set(err, HZ_EINVAL, "%s: bad percent escape", key);
        if (f == QUERY_W && dlen > cap)
            return hz_err_set(err, HZ_EINVAL, "w: not an integer in 0..%d", HZ_BEACON_WIDTH_MAX);
        if (dlen > cap)
            return hz_err_set(err, HZ_ETOOBIG, "%s: over %zu bytes", key, cap);
        /* query_scan already vouched for the escapes and the length. */
        n = hz_pct_decode(scratch, sizeof(scratch), v, vlen, 1);
        if (n < 0 || (size_t)n != dlen)
            return hz_err_set(err, HZ_EINVAL, "%s: bad percent escape", key);
    }
    if (f == QUERY_W) {
        uint64_t w;
        if (hz_parse_u64(scratch, dlen, HZ_BEACON_WIDTH_MAX, &w) != 0)
            return hz_err_set(err, HZ_EINVAL, "w: not an integer in 0..%d", HZ_BEACON_WIDTH_MAX);
        b->width = (int)w;
        return 0;
    }
    return beacon_set_text(b, (enum beacon_field)f, scratch, dlen, a, err);
}

int
hz_beacon_parse_query(const char *query, size_t len, struct hz_arena *a, struct hz_beacon *out,
                      struct hz_err *err)
{
    struct hz_beacon b;
    unsigned seen = 0;
    size_t mark, i = 0;
    int rc;

    assert(a != NULL && out != NULL && (query != NULL || len == 0));
    mark = a->used;
    beacon_init(&b);

    /* The query is part of the request line: too long is a 414. */
    if (len > HZ_BEACON_QUERY_MAX) {
        rc = hz_err_set(err, HZ_ETOOLONGURL, "query: over %d bytes", HZ_BEACON_QUERY_MAX);
        goto reject;
    }
    /* WHATWG form-urlencoded: split on '&', then on the first '='; a pair
     * without '=' is a key with an empty value. */
    while (i < len) {
        const char *pair = query + i, *amp = memchr(pair, '&', len - i), *eq;
        size_t plen = amp ? (size_t)(amp - pair) : len - i, klen, vlen, dlen;
        int f;

        i += plen + 1;
        if (plen == 0)
            continue; /* "a=1&&b=2", a trailing '&' */
        eq = memchr(pair, '=', plen);
        klen = eq ? (size_t)(eq - pair) : plen;
        vlen = eq ? plen - klen - 1 : 0;
        if ((f = query_key(pair, klen)) == QUERY_BADKEY) {
            rc = hz_err_set(err, HZ_EINVAL, "query: bad percent escape in a key");
            goto reject;
        }
        if (f == QUERY_UNKNOWN) {
            /* Unknown: ignored, but the query as a whole decodes strictly. */
            if (eq != NULL && query_scan(eq + 1, vlen, &dlen) != 0) {
                rc = hz_err_set(err, HZ_EINVAL, "query: bad percent escape in a value");
                goto reject;
            }
            continue;
        }
        /* A repeated key is ambiguous (which d counts?): refuse it. */
        if (seen & (1u << f)) {
            rc = hz_err_set(err, HZ_EINVAL, "%s: given twice", f == QUERY_W ? "w" : beacon_key[f]);
            goto reject;
        }
        seen |= 1u << f;
        if ((rc = query_value(&b, f, eq ? eq + 1 : pair + plen, vlen, a, err)) != 0)
            goto reject;
    }
    /* n is optional in the pixel: a plain <img> is a page view. */
    if (!(seen & (1u << BEACON_N)) && (b.name = hz_arena_strndup(a, "pageview", 8)) == NULL) {
        rc = hz_err_set(err, ENOMEM, "arena: out of space");
        goto reject;
    }
    if ((rc = beacon_finish(&b, err)) != 0)
        goto reject;
    *out = b;
    return 0;

reject:
    a->used = mark;
    return rc;
}
