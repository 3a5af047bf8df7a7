/* SPDX-License-Identifier: MIT */
/*
 * jsonw.h - a small streaming JSON writer into a growable buffer, for the
 * dashboard's API answers.
 *
 * Page paths, referrers, UTM values and event names are attacker-controlled
 * and end up in a marketer's browser, so every string is escaped: '"', '\\',
 * '/', every control character (U+0000..U+001F, U+007F) as \u00XX, and
 * U+2028/U+2029 (line separators that break JavaScript string literals).
 * Input that is not valid UTF-8 is never copied through: each bad byte
 * becomes U+FFFD, so the output is always valid UTF-8 and valid JSON.
 *
 * Commas and colons are placed by the writer: call key() then one value
 * inside objects, values only inside arrays. Nesting is bounded by
 * HZ_JSONW_DEPTH; a misuse (value without key, too deep) sets w->err,
 * which callers check once at the end (programmer error, not input).
 * Not thread-safe per writer; writers share nothing.
 */
#ifndef HZ_DASHBOARD_JSONW_H
#define HZ_DASHBOARD_JSONW_H

#include <stddef.h>
#include <stdint.h>

#define HZ_JSONW_DEPTH 16

struct hz_jsonw {
    char *buf; /* malloc'd, NUL-terminated; owned by the writer */
    size_t len;
    size_t cap;
    int depth;
    int err;                             /* 0, or HZ_EINVAL after a misuse */
    unsigned char first[HZ_JSONW_DEPTH]; /* 1 until the first member/element */
    unsigned char isobj[HZ_JSONW_DEPTH];
    unsigned char want_value; /* a key was written, its value is due */
};

void hz_jsonw_init(struct hz_jsonw *w);
/* Frees the buffer; the writer may be initialised again. NULL is a no-op. */
void hz_jsonw_free(struct hz_jsonw *w);
/* Hands the buffer to the caller (malloc'd, caller frees) and resets w.
 * *len receives its length. */
char *hz_jsonw_take(struct hz_jsonw *w, size_t *len);

void hz_jsonw_obj_begin(struct hz_jsonw *w);
void hz_jsonw_obj_end(struct hz_jsonw *w);
void hz_jsonw_arr_begin(struct hz_jsonw *w);
void hz_jsonw_arr_end(struct hz_jsonw *w);

/* An object key (NUL-terminated, escaped like any string). */
void hz_jsonw_key(struct hz_jsonw *w, const char *k);

/* Values. str takes (s, len) and may hold any bytes (see above). */
void hz_jsonw_str(struct hz_jsonw *w, const char *s, size_t len);
void hz_jsonw_cstr(struct hz_jsonw *w, const char *s);
void hz_jsonw_int(struct hz_jsonw *w, int64_t v);
void hz_jsonw_uint(struct hz_jsonw *w, uint64_t v);
/* A fixed-point number with `decimals` digits after the point (0..6),
 * rounded half away from zero; non-finite values are written as null. */
void hz_jsonw_fixed(struct hz_jsonw *w, double v, int decimals);
/* Formats v with decimals (0..6) places, rounding half away from zero and
 * never "-0"; the same digits in JSON and CSV. Returns the length, or -1
 * when v is not finite or beyond 1e15 (written as null / an empty cell). */
int hz_fmt_fixed(char out[48], double v, int decimals);
void hz_jsonw_bool(struct hz_jsonw *w, int v);
void hz_jsonw_null(struct hz_jsonw *w);

/* Escapes (s, len) as a JSON string literal (with quotes) and appends it to
 * w's buffer without any comma logic: the building block of str/key. */
void hz_jsonw_escape(struct hz_jsonw *w, const char *s, size_t len);

#endif
