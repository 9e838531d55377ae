/*
 * workspace — listing, finding and creating workspaces. A workspace name may not
 * be a bare number, so that "name or id" lookups are never ambiguous.
 */
#include "core/workspace.h"
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

static bool all_digits(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

lk_code lk_workspace_list(lk_op *op, lk_workspace **out, size_t *n)
{
    return op->store->ops->workspace_list(op->store, op->arena, out, n, &op->err);
}

lk_code lk_workspace_find(lk_op *op, const char *name_or_id, lk_workspace *out)
{
    if (!name_or_id || !*name_or_id)
        return lk_fail(&op->err, LK_EINVAL, "workspace", "workspace cannot be blank");
    lk_code rc;
    if (all_digits(name_or_id) && strlen(name_or_id) < 18)
        rc = op->store->ops->workspace_get(op->store, op->arena, strtoll(name_or_id, NULL, 10), out, &op->err);
    else
        rc = op->store->ops->workspace_find(op->store, op->arena, name_or_id, out, &op->err);
    if (rc == LK_ENOTFOUND)
        return lk_fail(&op->err, LK_ENOTFOUND, "workspace", "no workspace '%.100s' (see 'workspace list')",
                       name_or_id);
    return rc;
}

lk_code lk_workspace_create(lk_op *op, const char *name, const char *description, lk_workspace *out)
{
    lk_code rc = lk_check_name(op, "name", "workspace name", name, LK_NAME_MAX);
    if (rc == LK_OK)
        rc = lk_check_text(op, "description", "description", description, LK_TEXT_MAX);
    if (rc != LK_OK)
        return rc;
    if (all_digits(name))
        return lk_fail(&op->err, LK_EINVAL, "name", "a workspace name cannot be a number");
    if (strchr(name, '@'))
        return lk_fail(&op->err, LK_EINVAL, "name",
                       "a workspace name cannot contain '@' (grants are written ROLE@WORKSPACE)");
    if ((rc = lk_tx_begin(op)) != LK_OK)
        return rc;
    lk_workspace existing;
    rc = op->store->ops->workspace_find(op->store, op->arena, name, &existing, &op->err);
    if (rc == LK_OK) {
        rc = lk_fail(&op->err, LK_EEXISTS, "name", "a workspace named '%s' already exists", existing.name);
        return lk_tx_end(op, rc);
    }
    if (rc != LK_ENOTFOUND)
        return lk_tx_end(op, rc);
    lk_workspace w = {
        .name = name,
        .description = description ? description : "",
        .created_at = op->now,
        .updated_at = op->now,
    };
    rc = op->store->ops->workspace_insert(op->store, &w, &op->err);
    if (rc == LK_OK)
        rc = lk_audit_json(op, "Workspace", "Create", name,
                           json_pack("{s:s, s:s, s:I}", "name", name, "description", w.description,
                                     "id", (json_int_t)w.id));
    if (rc == LK_OK)
        rc = op->store->ops->workspace_get(op->store, op->arena, w.id, out, &op->err);
    return lk_tx_end(op, rc);
}
