/*
 * multipart — the text fields of a multipart/form-data body (RFC 7578), as curl's
 * `-F name=value` sends them; outside input, fuzzed by tests/fuzz/fuzz_multipart.c.
 *
 * Only what a REST call can say in such a body is read: each part's
 * Content-Disposition `form-data; name="…"`, and its bytes as the value. Parts that
 * carry a file (a `filename` parameter) are skipped. Anything that does not follow
 * the format — no boundary, a part without a name, a missing closing delimiter, a
 * NUL byte in a name or value, more than LK_FORM_MAX_PARAMS fields — makes the whole
 * body malformed, as lk_form_parse does for urlencoded input.
 */
#ifndef LK_HTTP_MULTIPART_H
#define LK_HTTP_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "http/form.h"

/* Is content_type (may be NULL) multipart/form-data? */
bool lk_multipart_is(const char *content_type);

/* Appends the text fields of body (len bytes) to form, names and values in the arena.
 * content_type supplies the boundary. false when malformed (form may hold some fields). */
bool lk_multipart_parse(lk_arena *a, const char *content_type, const char *body, size_t len, lk_form *form);

#endif
