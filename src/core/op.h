/*
 * op — the context of one core operation: which store, which arena receives the
 * results, who acts (for the audit trail and for the trust rules of core/authz.h)
 * and what time it is.
 *
 * Every core function takes an lk_op first. On failure it returns the lk_code and
 * leaves the explanation in op->err; on success op->err is untouched. A mutating
 * call runs in one store transaction together with its audit event: either all of
 * it is durable when the call returns LK_OK, or none of it happened.
 */
#ifndef LK_CORE_OP_H
#define LK_CORE_OP_H

#include "core/error.h"
#include "store/store.h"
#include "util/arena.h"

/* An authenticated caller, whose rights core/authz.h decides. */
typedef enum lk_caller_kind {
    LK_CALLER_PERSON = 1,     /* a console session's user */
    LK_CALLER_TOKEN = 2,      /* the API-only user of an access token (user management API) */
} lk_caller_kind;

typedef struct lk_caller {
    lk_caller_kind kind;
    int64_t user_id;
} lk_caller;

struct lk_holdings;

typedef struct lk_op {
    lk_store *store;      /* borrowed */
    lk_arena *arena;      /* borrowed; receives every record returned */
    const char *actor;    /* borrowed; "cli:root", "api:<email>/<service>", "user:<email>" */
    const char *address;  /* borrowed; caller's network address, "" for the CLI */
    int64_t now;          /* seconds since the epoch */
    lk_error err;
    int tx_depth;         /* transactions opened and not ended: an inner one joins the outer */
    /* borrowed; NULL: the database's owner (the CLI, the server's own jobs), who may do
     * anything. Front ends acting for a signed-in person or a token set it, and every
     * core call then applies core/authz.h's rules to it. */
    const lk_caller *caller;
    struct lk_holdings *held;  /* the caller's holdings once read (core/authz.c), arena */
    /* a refusal by core/authz.h (LK_EDENIED): the "Denied" audit event recorded once
     * the refused change rolled back (arena strings) */
    struct {
        const char *action, *target, *details;
    } denied;
} lk_op;

/* now = the real-time clock; address may be NULL */
void lk_op_init(lk_op *op, lk_store *store, lk_arena *arena, const char *actor, const char *address);

#endif
