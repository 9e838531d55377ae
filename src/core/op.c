/* op — initialisation of an operation context. */
#include "core/op.h"
#include "util/timefmt.h"

#include <string.h>

void lk_op_init(lk_op *op, lk_store *store, lk_arena *arena, const char *actor, const char *address)
{
    memset(op, 0, sizeof *op);
    op->store = store;
    op->arena = arena;
    op->actor = actor ? actor : "system";
    op->address = address ? address : "";
    op->now = lk_time_now();
}
