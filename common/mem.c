/* SPDX-License-Identifier: MIT */
/* mem.c - aborting allocators and the per-request arena. */
#include "common/mem.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"

void *
hz_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        hz_fatalx("hz_xmalloc: out of memory (%zu bytes)", n);
    return p;
}

void *
hz_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (p == NULL)
        hz_fatalx("hz_xcalloc: out of memory");
    return p;
}

void *
hz_xreallocarray(void *p, size_t nmemb, size_t size)
{
    void *q = reallocarray(p, nmemb ? nmemb : 1, size ? size : 1);
    if (q == NULL)
        hz_fatalx("hz_xreallocarray: out of memory");
    return q;
}

char *
hz_xstrdup(const char *s)
{
    return hz_xstrndup(s, strlen(s));
}

char *
hz_xstrndup(const char *s, size_t n)
{
    char *p = hz_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void
hz_arena_init(struct hz_arena *a, void *mem, size_t cap)
{
    a->base = mem;
    a->cap = cap;
    a->used = 0;
}

void *
hz_arena_alloc(struct hz_arena *a, size_t n)
{
    size_t off = (a->used + 15) & ~(size_t)15;

    if (off > a->cap || n > a->cap - off)
        return NULL;
    a->used = off + n;
    return a->base + off;
}

char *
hz_arena_strndup(struct hz_arena *a, const char *s, size_t n)
{
    char *p = hz_arena_alloc(a, n + 1);

    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
