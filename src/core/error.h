/*
 * error — the one error catalog of latchkey.
 *
 * Every core and store function that can fail returns an lk_code and fills an
 * lk_error with a sentence for a person ("role 'API Only' is held by 2 users
 * (a@x.com, b@x.com); remove it from them first"). The catalog maps each code to
 * the CLI exit status, and (for the server) to the Marketo code and HTTP status, so
 * that callers never choose those themselves. Messages never contain a secret.
 */
#ifndef LK_CORE_ERROR_H
#define LK_CORE_ERROR_H

#include <stdarg.h>

typedef enum lk_code {
    LK_OK = 0,
    LK_EINVAL,     /* malformed or out-of-range input: a field is wrong */
    LK_ENOTFOUND,  /* a named thing does not exist */
    LK_EEXISTS,    /* a unique name, email or id is already taken */
    LK_ERULE,      /* a domain rule refuses the change (system role, pending user, ...) */
    LK_EINUSE,     /* still referenced: role held, user owns services, permission used */
    LK_ELASTADMIN, /* would leave no active Admin */
    LK_EAUTH,      /* sign-in refused, session unknown or expired (one message for every cause) */
    LK_EDENIED,    /* the caller may not do this (core/authz.h): not held, more powerful, oneself */
    LK_ESCHEMA,    /* database schema newer than this binary, or unreadable */
    LK_ESTORE,     /* storage failure (I/O, busy, corrupt) */
    LK_CODE_COUNT
} lk_code;

#define LK_ERR_MSG 512
#define LK_ERR_FIELD 64

typedef struct lk_error {
    lk_code code;
    char field[LK_ERR_FIELD]; /* the input field at fault, "" if none (e.g. "email") */
    char msg[LK_ERR_MSG];
} lk_error;

typedef struct lk_code_info {
    lk_code code;
    const char *name;       /* stable identifier, e.g. "not_found" (used in --json errors) */
    int exit_status;        /* CLI: 1 bad input/rule, 2 not found, 3 storage */
    int http_status;        /* admin / user-management API */
    const char *marketo;    /* Marketo error code as a string */
} lk_code_info;

const lk_code_info *lk_code_info_of(lk_code code);

/* Sets err (code, field may be NULL) and returns code, so that callers can write
 * `return lk_fail(err, LK_EINVAL, "email", "...", ...);`. err may be NULL. */
lk_code lk_fail(lk_error *err, lk_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void lk_error_clear(lk_error *err);

#endif
