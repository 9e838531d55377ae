/*
 * jsonout — a jansson value as compact JSON text in an arena: the very text
 * json_dumps(v, JSON_COMPACT) writes, without its callback writer, stdio and
 * heap allocations. Responses are small and written once per request, so the
 * hot paths (token answers, the REST envelope) spend their time here.
 */
#ifndef LK_HTTP_JSONOUT_H
#define LK_HTTP_JSONOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"

/* NUL-terminated text in the arena (length in *len, may be NULL); NULL where
 * json_dumps fails too: v NULL or not an object or array, or a string that is not
 * valid UTF-8 */
char *lk_json_text(lk_arena *a, const json_t *v, size_t *len);

/* A writer for answers whose shape is fixed (the REST envelope, the token answer):
 * the caller writes the punctuation and member names as literals, the values with
 * lk_jw_str / lk_jw_int / lk_jw_value, which write them exactly as json_dumps
 * (JSON_COMPACT) would. A string that is not valid UTF-8 (or NULL), or a value
 * lk_json_text refuses, marks the writer bad and lk_jw_finish answers NULL: the
 * caller then builds the answer with jansson as before, so that even such input
 * gets the very answer it got before. */
typedef struct lk_jw {
    lk_arena *a;
    char *p;
    size_t len, cap;
    bool bad;
} lk_jw;

/* starts with cap bytes of the arena (grown as needed) */
void lk_jw_init(lk_jw *w, lk_arena *a, size_t cap);
/* bytes as they are: punctuation, member names, JSON text already written */
void lk_jw_raw(lk_jw *w, const char *s, size_t n);
#define LK_JW_LIT(w, lit) lk_jw_raw((w), "" lit, sizeof(lit) - 1)
/* a JSON string (quoted, escaped as jansson escapes) */
void lk_jw_str(lk_jw *w, const char *s);
void lk_jw_int(lk_jw *w, json_int_t v);
/* any jansson value, as lk_json_text writes it (borrowed) */
void lk_jw_value(lk_jw *w, const json_t *v);
/* the NUL-terminated text (length in *len, may be NULL), or NULL if w went bad */
char *lk_jw_finish(lk_jw *w, size_t *len);

#endif
