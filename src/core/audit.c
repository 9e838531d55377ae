/* audit — recording and listing the trail of changes (see audit.h). */
#include "core/audit.h"

lk_code lk_audit_record(lk_op *op, const char *area, const char *action, const char *target,
                        const char *details)
{
    lk_audit_event ev = {
        .at = op->now,
        .actor = op->actor,
        .address = op->address,
        .area = area,
        .action = action,
        .target = target ? target : "",
        .details = details ? details : "{}",
    };
    return op->store->ops->audit_insert(op->store, &ev, &op->err);
}

lk_code lk_audit_list(lk_op *op, const lk_audit_filter *f, lk_audit_event **out, size_t *n)
{
    lk_audit_filter all = {0};
    return op->store->ops->audit_list(op->store, op->arena, f ? f : &all, out, n, &op->err);
}

lk_code lk_audit_count(lk_op *op, const lk_audit_filter *f, int64_t cap, int64_t *n)
{
    lk_audit_filter all = {0};
    return op->store->ops->audit_count(op->store, f ? f : &all, cap, n, &op->err);
}
