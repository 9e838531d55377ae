/*
 * jsonout — a jansson value as compact JSON text in an arena: the very text
 * json_dumps(v, JSON_COMPACT) writes, without its callback writer, stdio and
 * heap allocations. Responses are small and written once per request, so the
 * hot paths (token answers, the REST envelope) spend their time here.
 */
#ifndef LK_HTTP_JSONOUT_H
#define LK_HTTP_JSONOUT_H

#include <jansson.h>
#include <stddef.h>

#include "util/arena.h"

/* NUL-terminated text in the arena (length in *len, may be NULL); NULL where
 * json_dumps fails too: v NULL or not an object or array, or a string that is not
 * valid UTF-8 */
char *lk_json_text(lk_arena *a, const json_t *v, size_t *len);

#endif
