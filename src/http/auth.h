/*
 * auth — the Authorization header (outside input: fuzzed by tests/fuzz/fuzz_auth.c).
 *
 * "Bearer <token>" (RFC 6750; scheme case-insensitive, one or more spaces) and
 * "Basic <base64(id:secret)>" (RFC 7617; per RFC 6749 §2.3.1 the id and secret are
 * form-urlencoded before encoding, so they are decoded here).
 */
#ifndef LK_HTTP_AUTH_H
#define LK_HTTP_AUTH_H

#include <stdbool.h>

#include "util/arena.h"

typedef enum lk_auth_scheme {
    LK_AUTH_NONE = 0,      /* no header */
    LK_AUTH_BEARER,
    LK_AUTH_BASIC,
    LK_AUTH_OTHER,         /* another scheme */
    LK_AUTH_MALFORMED,     /* a known scheme whose credentials cannot be read */
} lk_auth_scheme;

typedef struct lk_auth {
    lk_auth_scheme scheme;
    const char *token;     /* Bearer */
    const char *user;      /* Basic: client id */
    const char *password;  /* Basic: client secret */
} lk_auth;

/* header may be NULL; strings in the arena */
lk_auth lk_auth_parse(lk_arena *a, const char *header);

#endif
