/* SPDX-License-Identifier: MIT */
/*
 * str.h - small string helpers glibc 2.36 lacks, and strict validators
 * shared by every parser. All take (buf, len) where input may hold NULs.
 */
#ifndef HZ_COMMON_STR_H
#define HZ_COMMON_STR_H

#include <stddef.h>
#include <stdint.h>

/* OpenBSD strlcpy: copies up to size-1 bytes, always NUL-terminates
 * (size > 0), returns strlen(src); truncation if the result >= size. */
size_t hz_strlcpy(char *dst, const char *src, size_t size);

/* OpenBSD strtonum: decimal in [minval, maxval]. On error returns 0 and sets
 * *errstr to "invalid", "too small" or "too large"; on success *errstr=NULL. */
long long hz_strtonum(const char *s, long long minval, long long maxval, const char **errstr);

/* The same over (buf, len): no sign, digits only, no NUL needed. 0 or HZ_EINVAL. */
int hz_parse_u64(const char *buf, size_t len, uint64_t max, uint64_t *out);
/* The decimal digits of v at out (at most 20, not NUL-terminated); their
 * count. For hot paths where snprintf's cost shows. */
size_t hz_utoa(uint64_t v, char *out);

/* 1 if buf[0..len) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF)
 * and holds no NUL and no C0/DEL control characters; 0 otherwise. */
int hz_text_valid(const char *buf, size_t len);

/* 1 if (buf, len) holds a Unicode bidirectional control (U+202A-U+202E,
 * U+2066-U+2069) in UTF-8, which can make one name display as another. */
int hz_text_has_bidi(const char *buf, size_t len);

/* Case-insensitive ASCII compare of (a, alen) with NUL-terminated b. */
int hz_memieq(const char *a, size_t alen, const char *b);

/* Lowercase hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void hz_hex(char *out, const unsigned char *in, size_t n);

/* Decodes len hex digits (either case) into out (len / 2 bytes). Returns
 * the number of bytes, or -1 on an odd length or a non-hex digit. */
long hz_unhex(unsigned char *out, const char *in, size_t len);

/* Percent-decodes (in, len) into out (capacity cap). '+' becomes ' ' when
 * plus_space. Strict: '%' needs two hex digits. Returns the decoded length,
 * or -1 on a bad escape or when out is too small. */
long hz_pct_decode(char *out, size_t cap, const char *in, size_t len, int plus_space);

#endif
