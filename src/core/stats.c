/* stats — reading the stored daily counts (see stats.h). */
#include "core/stats.h"

lk_code lk_stats_range(lk_op *op, const char *from_day, const char *to_day, lk_usage_rec **calls, size_t *n_calls,
                       lk_error_rec **errors, size_t *n_errors)
{
    lk_code rc = op->store->ops->usage_list(op->store, op->arena, from_day, to_day, calls, n_calls, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->errors_list(op->store, op->arena, from_day, to_day, errors, n_errors, &op->err);
    return rc;
}
