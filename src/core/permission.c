/*
 * permission — the catalog. Built-ins come from the first migration and never
 * change here; custom Access API permissions can be added and, while no role
 * includes them, removed.
 */
#include "core/permission.h"
#include "core/internal.h"

const char *lk_perm_group_name(lk_perm_group g)
{
    return g == LK_GROUP_ADMIN ? "Access Admin" : "Access API";
}

lk_code lk_permission_list(lk_op *op, lk_permission **out, size_t *n)
{
    return op->store->ops->permission_list(op->store, op->arena, out, n, &op->err);
}

lk_code lk_permission_find(lk_op *op, const char *name, lk_permission *out)
{
    if (!name || !*name)
        return lk_fail(&op->err, LK_EINVAL, "permission", "permission name cannot be blank");
    lk_code rc = op->store->ops->permission_find(op->store, op->arena, name, out, &op->err);
    if (rc == LK_ENOTFOUND)
        return lk_fail(&op->err, LK_ENOTFOUND, "permission", "unknown permission '%.100s' (see 'permission list')",
                       name);
    return rc;
}

lk_code lk_permission_create(lk_op *op, const char *name, const char *description, lk_permission *out)
{
    lk_code rc = lk_check_name(op, "name", "permission name", name, LK_NAME_MAX);
    if (rc == LK_OK)
        rc = lk_check_text(op, "description", "description", description, LK_TEXT_MAX);
    if (rc != LK_OK)
        return rc;
    if ((rc = lk_tx_begin(op)) != LK_OK)
        return rc;
    lk_permission existing;
    rc = op->store->ops->permission_find(op->store, op->arena, name, &existing, &op->err);
    if (rc == LK_OK) {
        rc = lk_fail(&op->err, LK_EEXISTS, "name", "a permission named '%s' already exists", existing.name);
        return lk_tx_end(op, rc);
    }
    if (rc != LK_ENOTFOUND)
        return lk_tx_end(op, rc);
    lk_permission p = {
        .name = name,
        .description = description ? description : "",
        .group = LK_GROUP_API,
        .builtin = false,
    };
    rc = op->store->ops->permission_insert(op->store, &p, &op->err);
    if (rc == LK_OK)
        rc = lk_audit_json(op, "Permission", "Create", name,
                           json_pack("{s:s, s:s, s:s}", "name", name, "group", lk_perm_group_name(p.group),
                                     "description", p.description));
    if (rc == LK_OK)
        rc = op->store->ops->permission_find(op->store, op->arena, name, out, &op->err);
    return lk_tx_end(op, rc);
}

lk_code lk_permission_delete(lk_op *op, const char *name)
{
    lk_code rc = lk_tx_begin(op);
    if (rc != LK_OK)
        return rc;
    lk_permission p;
    rc = lk_permission_find(op, name, &p);
    if (rc != LK_OK)
        return lk_tx_end(op, rc);
    if (p.builtin)
        return lk_tx_end(op, lk_fail(&op->err, LK_ERULE, "permission",
                                     "'%s' is a built-in permission and cannot be removed", p.name));
    const char **roles = NULL;
    size_t n = 0;
    rc = op->store->ops->permission_roles(op->store, op->arena, p.id, &roles, &n, &op->err);
    if (rc == LK_OK && n > 0)
        rc = lk_fail(&op->err, LK_EINUSE, "permission",
                     "permission '%s' is used by role(s) %s; remove it from them first", p.name,
                     lk_join_names(op, roles, n));
    if (rc == LK_OK)
        rc = op->store->ops->permission_delete(op->store, p.id, &op->err);
    if (rc == LK_OK)
        rc = lk_audit_json(op, "Permission", "Delete", p.name, json_pack("{s:s}", "name", p.name));
    return lk_tx_end(op, rc);
}
