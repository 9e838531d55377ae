/* form — the urlencoded parser (see form.h). */
#include "http/form.h"
#include "util/text.h"

#include <string.h>

char *lk_url_decode(lk_arena *a, const char *s, size_t len, bool plus_is_space)
{
    char *out = lk_arena_alloc(a, len + 1), *o = out;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+' && plus_is_space) {
            *o++ = ' ';
        } else if (c == '%') {
            if (i + 2 >= len)
                return NULL; /* a '%' needs two hex digits after it */
            int hi = lk_hex_digit((unsigned char)s[i + 1]), lo = lk_hex_digit((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return NULL;
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '\0') {
            return NULL;
        } else {
            *o++ = c;
        }
    }
    *o = '\0';
    return out;
}

bool lk_form_parse(lk_arena *a, const char *s, size_t len, lk_form *form)
{
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && s[end] != '&')
            end++;
        if (end > i) {
            if (form->n >= LK_FORM_MAX_PARAMS)
                return false;
            const char *eq = memchr(s + i, '=', end - i);
            size_t klen = eq ? (size_t)(eq - (s + i)) : end - i;
            char *k = lk_url_decode(a, s + i, klen, true);
            char *v = eq ? lk_url_decode(a, eq + 1, (size_t)(s + end - eq - 1), true) : lk_arena_strdup(a, "");
            if (!k || !v)
                return false;
            form->params[form->n++] = (lk_param){k, v};
        }
        i = end + 1;
    }
    return true;
}

const char *lk_form_get(const lk_form *form, const char *name, int *count)
{
    const char *first = NULL;
    int n = 0;
    for (size_t i = 0; i < form->n; i++) {
        if (strcmp(form->params[i].name, name) == 0) {
            if (!first)
                first = form->params[i].value;
            n++;
        }
    }
    if (count)
        *count = n;
    return first;
}
