/* strbuf — a growable string in an arena (see strbuf.h). */
#include "util/strbuf.h"

#include <string.h>

void lk_strbuf_init(lk_strbuf *b, lk_arena *a)
{
    b->a = a;
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

void lk_strbuf_putn(lk_strbuf *b, const char *s, size_t n)
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

void lk_strbuf_puts(lk_strbuf *b, const char *s)
{
    if (s)
        lk_strbuf_putn(b, s, strlen(s));
}

void lk_strbuf_putc(lk_strbuf *b, char c)
{
    lk_strbuf_putn(b, &c, 1);
}

const char *lk_strbuf_str(lk_strbuf *b)
{
    return b->p ? b->p : "";
}
