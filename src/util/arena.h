/*
 * arena — a bump allocator freed in one go.
 *
 * Everything a core or store call returns (records, strings, arrays) is allocated
 * from the caller's arena, so a request or a CLI command frees all of it with one
 * lk_arena_free(). Allocation never fails (aborts on out-of-memory). Not thread-safe:
 * one arena belongs to one request or command.
 */
#ifndef LK_UTIL_ARENA_H
#define LK_UTIL_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct lk_arena_chunk lk_arena_chunk;

typedef struct lk_arena {
    lk_arena_chunk *head;
} lk_arena;

#define LK_ARENA_INIT {0}

void *lk_arena_alloc(lk_arena *a, size_t n);                  /* zeroed, 16-aligned */
void *lk_arena_grow(lk_arena *a, void *old, size_t old_n, size_t new_n); /* copy into a larger block */
char *lk_arena_strdup(lk_arena *a, const char *s);            /* NULL in, NULL out */
char *lk_arena_strndup(lk_arena *a, const char *s, size_t n);
char *lk_arena_printf(lk_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *lk_arena_vprintf(lk_arena *a, const char *fmt, va_list ap);
void lk_arena_free(lk_arena *a);                              /* frees everything; reusable after */
/* Frees everything allocated, like lk_arena_free, but keeps one standard chunk (empty)
 * for the next use: an arena reused request after request allocates nothing while
 * each request fits in one chunk. lk_arena_free releases the kept chunk. */
void lk_arena_reset(lk_arena *a);

#endif
