/*
 * mail/mbuf — a growable string in an arena. Growth doubles, so the arena holds at
 * most about twice the final length in abandoned blocks.
 */
#include "mail/internal.h"

#include <string.h>

void lk_mbuf_init(lk_mbuf *b, lk_arena *a)
{
    b->a = a;
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

void lk_mbuf_putn(lk_mbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = lk_arena_grow(b->a, b->p, b->len, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void lk_mbuf_puts(lk_mbuf *b, const char *s)
{
    if (s)
        lk_mbuf_putn(b, s, strlen(s));
}

void lk_mbuf_putc(lk_mbuf *b, char c)
{
    lk_mbuf_putn(b, &c, 1);
}

const char *lk_mbuf_str(lk_mbuf *b)
{
    return b->p ? b->p : "";
}
