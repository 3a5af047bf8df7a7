/* SPDX-License-Identifier: MIT */
/* str.c - bounded string helpers and strict validators. No I/O. */
#include "common/str.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

size_t
hz_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);

    if (size > 0) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

long long
hz_strtonum(const char *s, long long minval, long long maxval, const char **errstr)
{
    char *end;
    long long v;

    *errstr = "invalid";
    if (s == NULL || *s == '\0' || minval > maxval)
        return 0;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*end != '\0' || end == s)
        return 0;
    if ((v == LLONG_MIN && errno == ERANGE) || v < minval) {
        *errstr = "too small";
        return 0;
    }
    if ((v == LLONG_MAX && errno == ERANGE) || v > maxval) {
        *errstr = "too large";
        return 0;
    }
    *errstr = NULL;
    return v;
}

int
hz_parse_u64(const char *buf, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0 || len > 20)
        return HZ_EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned char)buf[i] - '0';
        if (d > 9)
            return HZ_EINVAL;
        if (v > (UINT64_MAX - d) / 10)
            return HZ_EINVAL;
        v = v * 10 + d;
    }
    if (v > max)
        return HZ_EINVAL;
    *out = v;
    return 0;
}

size_t
hz_utoa(uint64_t v, char *out)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    char tmp[20];
    size_t n = sizeof(tmp);

    /* Two digits a division, written from the end. */
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        n -= 2;
        memcpy(tmp + n, pairs + 2 * r, 2);
    }
    if (v >= 10) {
        n -= 2;
        memcpy(tmp + n, pairs + 2 * v, 2);
    } else {
        tmp[--n] = (char)('0' + v);
    }
    memcpy(out, tmp + n, sizeof(tmp) - n);
    return sizeof(tmp) - n;
}

/* 1 when the 8 bytes at p are all printable ASCII (0x20..0x7e). With no
 * byte at or over 0x80, adding 0x60 to a byte sets its top bit exactly when
 * it is >= 0x20, adding 0x01 exactly when it is 0x7f, and neither carries
 * into the next byte. */
static int
str_printable8(const unsigned char *p)
{
    const uint64_t hi = 0x8080808080808080ULL;
    uint64_t w;

    memcpy(&w, p, sizeof(w));
    return (w & hi) == 0 && ((w + 0x6060606060606060ULL) & hi) == hi &&
           ((w + 0x0101010101010101ULL) & hi) == 0;
}

int
hz_text_valid(const char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf, *e = p + len;

    while (p < e) {
        if (e - p >= 8 && str_printable8(p)) {
            p += 8; /* the common case: eight printable ASCII bytes at once */
            continue;
        }
        unsigned c = *p;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return 0;
            p++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if ((size_t)(e - p) <= n)
            return 0;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        /* Overlongs, surrogates and out-of-range code points. */
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        if (cp >= 0x80 && cp <= 0x9f) /* C1 controls */
            return 0;
        p += n + 1;
    }
    return 1;
}

int
hz_memieq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);

    if (alen != blen)
        return 0;
    if (memcmp(a, b, alen) == 0)
        return 1; /* the usual case: the same bytes */
    for (size_t i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x += 32;
        if (y >= 'A' && y <= 'Z')
            y += 32;
        if (x != y)
            return 0;
    }
    return 1;
}

void
hz_hex(char *out, const unsigned char *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int
str_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
hz_text_has_bidi(const char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)buf;

    /* U+202A..U+202E: E2 80 AA..AE; U+2066..U+2069: E2 81 A6..A9. */
    for (size_t i = 0; i + 2 < len; i++) {
        const unsigned char *q = memchr(p + i, 0xe2, len - 2 - i);
        if (q == NULL)
            return 0;
        i = (size_t)(q - p);
        if ((p[i + 1] == 0x80 && p[i + 2] >= 0xaa && p[i + 2] <= 0xae) ||
            (p[i + 1] == 0x81 && p[i + 2] >= 0xa6 && p[i + 2] <= 0xa9))
            return 1;
    }
    return 0;
}

long
hz_unhex(unsigned char *out, const char *in, size_t len)
{
    if (len % 2 != 0)
        return -1;
    for (size_t i = 0; i < len; i += 2) {
        int hi = str_hexval((unsigned char)in[i]), lo = str_hexval((unsigned char)in[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    return (long)(len / 2);
}

long
hz_pct_decode(char *out, size_t cap, const char *in, size_t len, int plus_space)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        size_t j = i;
        /* A run of bytes that stand for themselves, copied at once. */
        while (j < len && in[j] != '%' && (in[j] != '+' || !plus_space))
            j++;
        if (j > i) {
            if (j - i > cap - o)
                return -1;
            memcpy(out + o, in + i, j - i);
            o += j - i;
            i = j - 1;
            continue;
        }
        if (c == '%') {
            int hi, lo;
            if (len - i < 3)
                return -1;
            hi = str_hexval((unsigned char)in[i + 1]);
            lo = str_hexval((unsigned char)in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (o >= cap)
            return -1;
        out[o++] = c;
    }
    return (long)o;
}
