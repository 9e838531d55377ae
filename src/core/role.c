/*
 * role — creating, changing and deleting roles.
 *
 * Invariants kept here: role names are unique (case-insensitive); every role has at
 * least one permission; the system role (Admin) is never changed or deleted; a
 * role held by a user is never deleted; no change leaves an API-only holder without
 * an Access API permission among all of its roles.
 */
#include "core/role.h"
#include "core/authz.h"
#include "core/internal.h"
#include "core/permission.h"
#include "util/text.h"

#include <string.h>

bool lk_role_has_group(const lk_role *r, lk_perm_group g)
{
    for (size_t i = 0; i < r->n_perms; i++)
        if (r->perms[i].group == g)
            return true;
    return false;
}

bool lk_role_has_permission(const lk_role *r, const char *perm)
{
    for (size_t i = 0; i < r->n_perms; i++)
        if (lk_str_ieq(r->perms[i].name, perm))
            return true;
    return false;
}

lk_code lk_role_list(lk_op *op, lk_role **out, size_t *n)
{
    return op->store->ops->role_list(op->store, op->arena, out, n, &op->err);
}

lk_code lk_role_find(lk_op *op, const char *name, lk_role *out)
{
    if (!name || !*name)
        return lk_fail(&op->err, LK_EINVAL, "role", "role name cannot be blank");
    lk_code rc = op->store->ops->role_find(op->store, op->arena, name, out, &op->err);
    if (rc == LK_ENOTFOUND)
        return lk_fail(&op->err, LK_ENOTFOUND, "role", "no role '%.100s' (see 'role list')", name);
    return rc;
}

/* a permission set under construction */
typedef struct perm_set {
    lk_permission *items;
    size_t n, cap;
} perm_set;

static ssize_t set_index(const perm_set *s, int64_t id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].id == id)
            return (ssize_t)i;
    return -1;
}

static void set_add(lk_op *op, perm_set *s, const lk_permission *p)
{
    if (set_index(s, p->id) >= 0)
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        s->items = lk_arena_grow(op->arena, s->items, s->n * sizeof *s->items, cap * sizeof *s->items);
        s->cap = cap;
    }
    s->items[s->n++] = *p;
}

static void set_remove(perm_set *s, size_t i)
{
    s->items[i] = s->items[--s->n];
}

static bool set_has_group(const perm_set *s, lk_perm_group g)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].group == g)
            return true;
    return false;
}

static lk_code add_named(lk_op *op, perm_set *s, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        lk_permission p;
        lk_code rc = lk_permission_find(op, names[i], &p);
        if (rc != LK_OK)
            return rc;
        set_add(op, s, &p);
    }
    return LK_OK;
}

static lk_code check_fields(lk_op *op, const char *name, const char *description)
{
    lk_code rc = name ? lk_check_name(op, "name", "role name", name, LK_NAME_MAX) : LK_OK;
    if (rc == LK_OK)
        rc = lk_check_text(op, "description", "description", description, LK_TEXT_MAX);
    return rc;
}

/* LK_EEXISTS unless no other role (than self_id) has this name */
static lk_code check_name_free(lk_op *op, const char *name, int64_t self_id)
{
    lk_role other;
    lk_code rc = op->store->ops->role_find(op->store, op->arena, name, &other, &op->err);
    if (rc == LK_ENOTFOUND)
        return LK_OK;
    if (rc != LK_OK)
        return rc;
    if (other.id == self_id)
        return LK_OK;
    return lk_fail(&op->err, LK_EEXISTS, "name", "a role named '%s' already exists", other.name);
}

lk_code lk_role_create(lk_op *op, const char *name, const char *description,
                       const char *const *perms, size_t n_perms, lk_role *out)
{
    lk_code rc = check_fields(op, name ? name : "", description);
    if (rc != LK_OK)
        return rc;
    if (n_perms == 0)
        return lk_fail(&op->err, LK_EINVAL, "permission", "a role needs at least one permission");
    if ((rc = lk_tx_begin(op)) != LK_OK)
        return rc;
    perm_set set = {0};
    rc = check_name_free(op, name, -1);
    if (rc == LK_OK)
        rc = add_named(op, &set, perms, n_perms);
    if (rc == LK_OK)
        rc = lk_authz_role(op, "Role Create", name, NULL, set.items, set.n);
    if (rc != LK_OK)
        return lk_tx_end(op, rc);
    lk_role r = {
        .name = name,
        .description = description ? description : "",
        .created_at = op->now,
        .updated_at = op->now,
        .perms = set.items,
        .n_perms = set.n,
    };
    rc = op->store->ops->role_insert(op->store, &r, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->role_get(op->store, op->arena, r.id, out, &op->err);
    if (rc == LK_OK)
        rc = lk_audit_json(op, "Role", "Create", out->name, lk_snap_role(out));
    return lk_tx_end(op, rc);
}

/* Does an API-only holder of role `changed` keep an Access API permission once the
 * role has only `after`? Holders may get it from their other roles. */
static lk_code check_api_holders(lk_op *op, const lk_role *changed, const perm_set *after)
{
    if (set_has_group(after, LK_GROUP_API))
        return LK_OK;
    lk_user *holders = NULL;
    size_t n = 0;
    lk_code rc = op->store->ops->role_holders(op->store, op->arena, changed->id, &holders, &n, &op->err);
    if (rc != LK_OK)
        return rc;
    const char **stranded = lk_arena_alloc(op->arena, (n + 1) * sizeof *stranded);
    size_t n_stranded = 0;
    for (size_t i = 0; i < n; i++) {
        if (!holders[i].api_only)
            continue;
        bool keeps = false;
        for (size_t g = 0; g < holders[i].n_grants && !keeps; g++) {
            if (holders[i].grants[g].role_id == changed->id)
                continue;
            lk_role other;
            rc = op->store->ops->role_get(op->store, op->arena, holders[i].grants[g].role_id, &other, &op->err);
            if (rc != LK_OK)
                return rc;
            keeps = lk_role_has_group(&other, LK_GROUP_API);
        }
        if (!keeps)
            stranded[n_stranded++] = holders[i].email;
    }
    if (n_stranded == 0)
        return LK_OK;
    return lk_fail(&op->err, LK_ERULE, "permission",
                   "role '%s' would leave API-only user(s) %s without any Access API permission; "
                   "keep at least one Access API permission or give them another API role first",
                   changed->name, lk_join_names(op, stranded, n_stranded));
}

/* names of the permissions of set that were not among before */
static json_t *perms_diff(const perm_set *set, const lk_permission *before, size_t n_before)
{
    json_t *a = json_array();
    for (size_t i = 0; i < set->n; i++) {
        bool had = false;
        for (size_t k = 0; k < n_before && !had; k++)
            had = before[k].id == set->items[i].id;
        if (!had)
            json_array_append_new(a, json_string(set->items[i].name));
    }
    return a;
}

/* names of the permissions of before that set no longer has */
static json_t *perms_gone(const lk_permission *before, size_t n_before, const perm_set *set)
{
    json_t *a = json_array();
    for (size_t k = 0; k < n_before; k++)
        if (set_index(set, before[k].id) < 0)
            json_array_append_new(a, json_string(before[k].name));
    return a;
}

lk_code lk_role_update(lk_op *op, const char *name, const lk_role_change *change, lk_role *out)
{
    lk_code rc = check_fields(op, change->name, change->description);
    if (rc != LK_OK)
        return rc;
    if (!change->name && !change->description && !change->n_add && !change->n_remove && !change->set_perms)
        return lk_fail(&op->err, LK_EINVAL, "", "nothing to change: give a new name, description, "
                       "or permissions to add or remove");
    if ((rc = lk_tx_begin(op)) != LK_OK)
        return rc;
    lk_role r;
    rc = lk_role_find(op, name, &r);
    if (rc != LK_OK)
        return lk_tx_end(op, rc);
    if (r.system)
        return lk_tx_end(op, lk_fail(&op->err, LK_ERULE, "role",
                                     "'%s' is a system role and cannot be changed", r.name));
    const char *old_name = r.name;
    if (change->name && (rc = check_name_free(op, change->name, r.id)) != LK_OK)
        return lk_tx_end(op, rc);

    perm_set set = {0};
    if (change->set_perms) {
        if ((rc = add_named(op, &set, change->set, change->n_set)) != LK_OK)
            return lk_tx_end(op, rc);
    } else {
        for (size_t i = 0; i < r.n_perms; i++)
            set_add(op, &set, &r.perms[i]);
        if ((rc = add_named(op, &set, change->add, change->n_add)) != LK_OK)
            return lk_tx_end(op, rc);
    }
    for (size_t i = 0; !change->set_perms && i < change->n_remove; i++) {
        lk_permission p;
        if ((rc = lk_permission_find(op, change->remove[i], &p)) != LK_OK)
            return lk_tx_end(op, rc);
        ssize_t at = set_index(&set, p.id);
        if (at < 0)
            return lk_tx_end(op, lk_fail(&op->err, LK_EINVAL, "permission",
                                         "role '%s' does not include permission '%s'", r.name, p.name));
        set_remove(&set, (size_t)at);
    }
    if (set.n == 0)
        return lk_tx_end(op, lk_fail(&op->err, LK_EINVAL, "permission",
                                     "a role needs at least one permission"));
    if ((rc = lk_authz_role(op, "Role Edit", r.name, &r, set.items, set.n)) != LK_OK)
        return lk_tx_end(op, rc);
    if ((rc = check_api_holders(op, &r, &set)) != LK_OK)
        return lk_tx_end(op, rc);

    bool same = (!change->name || strcmp(change->name, r.name) == 0) &&
                (!change->description || strcmp(change->description, r.description) == 0) &&
                set.n == r.n_perms;
    for (size_t i = 0; same && i < r.n_perms; i++)
        same = set_index(&set, r.perms[i].id) >= 0;
    if (same) {
        /* nothing differs: no write, no audit event */
        *out = r;
        return lk_tx_end(op, LK_OK);
    }
    const lk_permission *before = r.perms;
    size_t n_before = r.n_perms;
    if (change->name)
        r.name = change->name;
    if (change->description)
        r.description = change->description;
    r.perms = set.items;
    r.n_perms = set.n;
    r.updated_at = op->now;
    rc = op->store->ops->role_update(op->store, &r, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->role_get(op->store, op->arena, r.id, out, &op->err);
    if (rc == LK_OK) {
        json_t *d = lk_snap_role(out);
        if (strcmp(old_name, out->name) != 0)
            json_object_set_new(d, "oldName", json_string(old_name));
        json_object_set_new(d, "added", perms_diff(&set, before, n_before));
        json_object_set_new(d, "removed", perms_gone(before, n_before, &set));
        rc = lk_audit_json(op, "Role", "Edit", out->name, d);
    }
    return lk_tx_end(op, rc);
}

lk_code lk_role_delete(lk_op *op, const char *name)
{
    lk_code rc = lk_tx_begin(op);
    if (rc != LK_OK)
        return rc;
    lk_role r;
    rc = lk_role_find(op, name, &r);
    if (rc != LK_OK)
        return lk_tx_end(op, rc);
    if (r.system)
        return lk_tx_end(op, lk_fail(&op->err, LK_ERULE, "role",
                                     "'%s' is a system role and cannot be deleted", r.name));
    if ((rc = lk_authz_role(op, "Role Delete", r.name, &r, NULL, 0)) != LK_OK)
        return lk_tx_end(op, rc);
    /* the first holders by name and how many there are: a role a million users hold
     * is refused without reading them all */
    lk_user_filter held = {.api_only = -1, .role_id = r.id, .limit = 5};
    lk_user *holders = NULL;
    size_t shown = 0;
    int64_t n = 0;
    rc = op->store->ops->user_count(op->store, &held, 0, &n, &op->err);
    if (rc == LK_OK && n > 0)
        rc = op->store->ops->user_list(op->store, op->arena, &held, &holders, &shown, &op->err);
    if (rc == LK_OK && n > 0) {
        const char **emails = lk_arena_alloc(op->arena, shown * sizeof *emails);
        for (size_t i = 0; i < shown; i++)
            emails[i] = holders[i].email;
        const char *names = lk_join_names(op, emails, shown);
        if ((int64_t)shown < n)
            names = lk_arena_printf(op->arena, "%s and %lld more", names, (long long)(n - (int64_t)shown));
        rc = lk_fail(&op->err, LK_EINUSE, "role",
                     "role '%s' is held by %lld user(s) (%s); remove it from them first", r.name, (long long)n,
                     names);
    }
    if (rc == LK_OK)
        rc = op->store->ops->role_delete(op->store, r.id, &op->err);
    if (rc == LK_OK)
        rc = lk_audit_json(op, "Role", "Delete", r.name, lk_snap_role(&r));
    return lk_tx_end(op, rc);
}
