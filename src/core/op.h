/*
 * op — the context of one core operation: which store, which arena receives the
 * results, who acts (for the audit trail) and what time it is.
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

typedef struct lk_op {
    lk_store *store;      /* borrowed */
    lk_arena *arena;      /* borrowed; receives every record returned */
    const char *actor;    /* borrowed; "cli:root", "api:<email>/<service>", "user:<email>" */
    const char *address;  /* borrowed; caller's network address, "" for the CLI */
    int64_t now;          /* seconds since the epoch */
    lk_error err;
    int tx_depth;         /* transactions opened and not ended: an inner one joins the outer */
} lk_op;

/* now = the real-time clock; address may be NULL */
void lk_op_init(lk_op *op, lk_store *store, lk_arena *arena, const char *actor, const char *address);

#endif
