/*
 * role — named sets of permissions. "Admin" (id 1) is the system role: every Access
 * Admin permission, granted in AllZones only, never edited or deleted. A role that
 * a user holds cannot be deleted, and no change may leave an API-only user without
 * any Access API permission. With a caller (op->caller), core/authz.h's rules apply:
 * a role's permissions, before and after a change, must all be the caller's.
 */
#ifndef LK_CORE_ROLE_H
#define LK_CORE_ROLE_H

#include "core/op.h"

typedef struct lk_role_change {
    const char *name;             /* NULL: keep */
    const char *description;      /* NULL: keep */
    const char *const *add;       /* permission names to add */
    size_t n_add;
    const char *const *remove;    /* permission names to remove */
    size_t n_remove;
    bool set_perms;               /* the permissions become exactly `set` (add/remove unused) */
    const char *const *set;
    size_t n_set;
} lk_role_change;

lk_code lk_role_list(lk_op *op, lk_role **out, size_t *n);
lk_code lk_role_find(lk_op *op, const char *name, lk_role *out);
/* at least one permission; names match case-insensitively; description may be NULL */
lk_code lk_role_create(lk_op *op, const char *name, const char *description,
                       const char *const *perms, size_t n_perms, lk_role *out);
lk_code lk_role_update(lk_op *op, const char *name, const lk_role_change *change, lk_role *out);
lk_code lk_role_delete(lk_op *op, const char *name);

/* true if the role includes at least one permission of the group */
bool lk_role_has_group(const lk_role *r, lk_perm_group g);
/* true if the role includes the permission (case-insensitive) */
bool lk_role_has_permission(const lk_role *r, const char *perm);

#endif
