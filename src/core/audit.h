/*
 * audit — the trail of every change. Core operations record their event inside
 * their own transaction (lk_audit_record); readers list it with filters.
 */
#ifndef LK_CORE_AUDIT_H
#define LK_CORE_AUDIT_H

#include "core/op.h"

/* details: a JSON object text (never a secret); NULL means "{}".
 * Must be called between the store's begin() and commit(). */
lk_code lk_audit_record(lk_op *op, const char *area, const char *action, const char *target,
                        const char *details);

lk_code lk_audit_list(lk_op *op, const lk_audit_filter *f, lk_audit_event **out, size_t *n);
/* how many events f selects (cursor and limit aside), counting at most cap (0: all) */
lk_code lk_audit_count(lk_op *op, const lk_audit_filter *f, int64_t cap, int64_t *n);

#endif
