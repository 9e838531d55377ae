/*
 * form — application/x-www-form-urlencoded parsing, for query strings and form
 * bodies alike (outside input: fuzzed by tests/fuzz/fuzz_form.c).
 *
 * '+' is a space, %XX a byte; a malformed escape (%G1, a lone '%') makes the whole
 * input malformed, and so does a decoded NUL byte. Keys without '=' have the value "".
 */
#ifndef LK_HTTP_FORM_H
#define LK_HTTP_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"

#define LK_FORM_MAX_PARAMS 64

typedef struct lk_param {
    const char *name;
    const char *value;
} lk_param;

typedef struct lk_form {
    lk_param params[LK_FORM_MAX_PARAMS];
    size_t n;
} lk_form;

/* Parses len bytes of s into form (appending), decoded strings in the arena.
 * false when malformed or when more than LK_FORM_MAX_PARAMS parameters are given. */
bool lk_form_parse(lk_arena *a, const char *s, size_t len, lk_form *form);

/* the first value of name, NULL if absent; *count (may be NULL) gets how many times it appears */
const char *lk_form_get(const lk_form *form, const char *name, int *count);

/* percent-decodes len bytes ('+' as space when plus_is_space); NULL when malformed */
char *lk_url_decode(lk_arena *a, const char *s, size_t len, bool plus_is_space);

#endif
