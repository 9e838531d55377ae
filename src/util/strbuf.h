/*
 * strbuf — a growable NUL-terminated string whose storage is in an arena. Growth
 * doubles, so the arena holds at most about twice the final length in abandoned
 * blocks; everything is freed with the arena.
 */
#ifndef LK_UTIL_STRBUF_H
#define LK_UTIL_STRBUF_H

#include <stddef.h>

#include "util/arena.h"

typedef struct lk_strbuf {
    lk_arena *a;
    char *p;    /* always NUL-terminated once anything was added */
    size_t len;
    size_t cap;
} lk_strbuf;

void lk_strbuf_init(lk_strbuf *b, lk_arena *a);
void lk_strbuf_putn(lk_strbuf *b, const char *s, size_t n);
void lk_strbuf_puts(lk_strbuf *b, const char *s); /* NULL adds nothing */
void lk_strbuf_putc(lk_strbuf *b, char c);
const char *lk_strbuf_str(lk_strbuf *b);          /* "" if empty; in the arena */

#endif
