/*
 * arena — chunked bump allocator. Small requests share 8 KB chunks; a request larger
 * than a quarter chunk gets a chunk of its own, so waste stays bounded.
 */
#include "util/arena.h"
#include "util/xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define CHUNK_SIZE 8192
#define ALIGN 16

struct lk_arena_chunk {
    lk_arena_chunk *next;
    size_t used;
    size_t cap;
    _Alignas(ALIGN) unsigned char data[];
};

static lk_arena_chunk *chunk_new(size_t cap)
{
    lk_arena_chunk *c = lk_xmalloc(sizeof *c + cap);
    c->next = NULL;
    c->used = 0;
    c->cap = cap;
    return c;
}

void *lk_arena_alloc(lk_arena *a, size_t n)
{
    size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need == 0)
        need = ALIGN;
    lk_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < need) {
        if (need > CHUNK_SIZE / 4) {
            /* big block: own chunk, linked behind the current one so it keeps serving */
            lk_arena_chunk *big = chunk_new(need);
            big->used = need;
            if (a->head) {
                big->next = a->head->next;
                a->head->next = big;
            } else {
                a->head = big;
            }
            memset(big->data, 0, need);
            return big->data;
        }
        c = chunk_new(CHUNK_SIZE);
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += need;
    memset(p, 0, need);
    return p;
}

void *lk_arena_grow(lk_arena *a, void *old, size_t old_n, size_t new_n)
{
    void *p = lk_arena_alloc(a, new_n);
    if (old && old_n)
        memcpy(p, old, old_n < new_n ? old_n : new_n);
    return p;
}

char *lk_arena_strndup(lk_arena *a, const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *d = lk_arena_alloc(a, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *lk_arena_strdup(lk_arena *a, const char *s)
{
    return s ? lk_arena_strndup(a, s, strlen(s)) : NULL;
}

char *lk_arena_vprintf(lk_arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return lk_arena_strdup(a, "");
    char *d = lk_arena_alloc(a, (size_t)n + 1);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    return d;
}

char *lk_arena_printf(lk_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *d = lk_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return d;
}

void lk_arena_free(lk_arena *a)
{
    lk_arena_chunk *c = a->head;
    while (c) {
        lk_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}

void lk_arena_reset(lk_arena *a)
{
    lk_arena_chunk *keep = NULL;
    lk_arena_chunk *c = a->head;
    while (c) {
        lk_arena_chunk *next = c->next;
        if (!keep && c->cap == CHUNK_SIZE)
            keep = c;
        else
            free(c);
        c = next;
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    a->head = keep;
}
