/* SPDX-License-Identifier: MIT */
/*
 * mem.h - allocation that aborts on out-of-memory (startup and bounded
 * structures only), and hz_arena, a capped bump allocator: everything parsed
 * from one request lives in one arena and is freed together.
 */
#ifndef HZ_COMMON_MEM_H
#define HZ_COMMON_MEM_H

#include <stddef.h>

void *hz_xmalloc(size_t n);
void *hz_xcalloc(size_t nmemb, size_t size);
void *hz_xreallocarray(void *p, size_t nmemb, size_t size);
char *hz_xstrdup(const char *s);
char *hz_xstrndup(const char *s, size_t n);

/* An arena over caller-provided memory (often a stack buffer). */
struct hz_arena {
    char *base;
    size_t cap, used;
};

void hz_arena_init(struct hz_arena *a, void *mem, size_t cap);
/* 16-byte aligned; NULL when the cap would be exceeded (never aborts). */
void *hz_arena_alloc(struct hz_arena *a, size_t n);
/* Copies (s, n) plus a NUL into the arena; NULL at the cap. */
char *hz_arena_strndup(struct hz_arena *a, const char *s, size_t n);

#endif
