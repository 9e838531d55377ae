/*
 * jsonout — compact JSON writing into an arena (jsonout.h).
 *
 * Matches jansson 2.x's dump.c byte for byte: object members in the object's own
 * order (insertion order, as JSON_PRESERVE_ORDER), separators without spaces,
 * strings escaped as it escapes them ('"', '\\', control characters: \b \f \n \r
 * \t, else \u00XX in upper-case hex; nothing else, '/' and non-ASCII included),
 * strings that are not valid UTF-8 refused. Reals, which no response of latchkey
 * holds, are formatted by jansson itself.
 */
#include "http/jsonout.h"
#include "util/text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef lk_jw jbuf;

static __attribute__((noinline)) void jb_grow(jbuf *b, size_t more)
{
    size_t cap = b->cap * 2;
    while (cap < b->len + more)
        cap *= 2;
    b->p = lk_arena_grow(b->a, b->p, b->len, cap);
    b->cap = cap;
}

static inline void jb_reserve(jbuf *b, size_t more)
{
    if (b->len + more > b->cap)
        jb_grow(b, more);
}

static void jb_put(jbuf *b, const char *s, size_t n)
{
    jb_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void jb_ch(jbuf *b, char c)
{
    jb_reserve(b, 1);
    b->p[b->len++] = c;
}

static bool put_string(jbuf *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *)str;
    jb_reserve(b, n + 2);
    b->p[b->len++] = '"';
    size_t run = 0; /* start of the bytes not yet copied */
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c >= 0x80) {
            size_t k = lk_utf8_seqn((const char *)s + i, n - i);
            if (!k)
                return false;
            i += k;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        jb_put(b, str + run, i - run);
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t el = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xF];
            el = 6;
            break;
        }
        jb_put(b, esc, el);
        run = ++i;
    }
    jb_put(b, str + run, n - run);
    jb_ch(b, '"');
    return true;
}

static void put_int(jbuf *b, json_int_t v)
{
    char tmp[24];
    size_t k = sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--k] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--k] = '-';
    jb_put(b, tmp + k, sizeof tmp - k);
}

static bool put_value(jbuf *b, const json_t *v, int depth)
{
    if (depth > 2048)
        return false; /* bounds the recursion; latchkey's answers are a few levels deep */
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        jb_ch(b, '{');
        bool first = true;
        for (void *it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
            if (!first)
                jb_ch(b, ',');
            first = false;
            if (!put_string(b, json_object_iter_key(it), json_object_iter_key_len(it)))
                return false;
            jb_ch(b, ':');
            if (!put_value(b, json_object_iter_value(it), depth + 1))
                return false;
        }
        jb_ch(b, '}');
        return true;
    }
    case JSON_ARRAY: {
        jb_ch(b, '[');
        size_t n = json_array_size(v);
        for (size_t i = 0; i < n; i++) {
            if (i)
                jb_ch(b, ',');
            if (!put_value(b, json_array_get(v, i), depth + 1))
                return false;
        }
        jb_ch(b, ']');
        return true;
    }
    case JSON_STRING:
        return put_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        put_int(b, json_integer_value(v));
        return true;
    case JSON_REAL: {
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text)
            return false;
        jb_put(b, text, strlen(text));
        free(text);
        return true;
    }
    case JSON_TRUE:
        jb_put(b, "true", 4);
        return true;
    case JSON_FALSE:
        jb_put(b, "false", 5);
        return true;
    case JSON_NULL:
        jb_put(b, "null", 4);
        return true;
    }
    return false;
}

char *lk_json_text(lk_arena *a, const json_t *v, size_t *len)
{
    if (!v || (!json_is_object(v) && !json_is_array(v)))
        return NULL;
    lk_jw w;
    lk_jw_init(&w, a, 512);
    lk_jw_value(&w, v);
    return lk_jw_finish(&w, len);
}

/* ---- the writer for answers of a fixed shape --------------------------------------- */

void lk_jw_init(lk_jw *w, lk_arena *a, size_t cap)
{
    w->a = a;
    w->cap = cap ? cap : 64;
    w->len = 0;
    w->bad = false;
    w->p = lk_arena_alloc(a, w->cap);
}

void lk_jw_raw(lk_jw *w, const char *s, size_t n)
{
    jb_put(w, s, n);
}

void lk_jw_str(lk_jw *w, const char *s)
{
    if (!s || !put_string(w, s, strlen(s)))
        w->bad = true;
}

void lk_jw_int(lk_jw *w, json_int_t v)
{
    put_int(w, v);
}

void lk_jw_value(lk_jw *w, const json_t *v)
{
    if (!v || !put_value(w, v, 0))
        w->bad = true;
}

char *lk_jw_finish(lk_jw *w, size_t *len)
{
    if (w->bad)
        return NULL;
    jb_ch(w, '\0');
    if (len)
        *len = w->len - 1;
    return w->p;
}
