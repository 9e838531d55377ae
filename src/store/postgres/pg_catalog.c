/*
 * pg_catalog — workspaces, permissions and roles in the PostgreSQL store.
 *
 * A role's permission set lives in role_permissions; reads return it sorted by
 * group, then name (citext: case-insensitive), and writes replace it whole inside a savepoint, so a
 * role never ends half-written. Deleting what is still referenced is refused by
 * the schema (ON DELETE RESTRICT), which this file words as LK_EINUSE.
 */
#include "store/postgres/pg_internal.h"

/* --- workspaces ------------------------------------------------------------ */

#define WS_COLS "id, name, description, created_at, updated_at"

static const char SQL_WS_LIST[] = "SELECT " WS_COLS " FROM workspaces ORDER BY id";
static const char SQL_WS_GET[] = "SELECT " WS_COLS " FROM workspaces WHERE id = $1";
static const char SQL_WS_FIND[] = "SELECT " WS_COLS " FROM workspaces WHERE name = $1";
static const char SQL_WS_INSERT[] =
    "INSERT INTO workspaces (name, description, created_at, updated_at) VALUES ($1, $2, $3, $4) RETURNING id";

static void ws_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_workspace *w = out;
    w->id = lk_pg_int(st, 0);
    w->name = lk_pg_text(a, st, 1);
    w->description = lk_pg_text(a, st, 2);
    w->created_at = lk_pg_int(st, 3);
    w->updated_at = lk_pg_int(st, 4);
}

lk_code lk_pg_workspace_list(lk_store *s, lk_arena *a, lk_workspace **out, size_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "workspace_list", .noun = "workspace"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_WS_LIST, &c, &st, err);
    if (code != LK_OK)
        return code;
    return lk_pg_rows(q, st, a, sizeof **out, ws_row, (void **)out, n, &c, err);
}

lk_code lk_pg_workspace_get(lk_store *s, lk_arena *a, int64_t id, lk_workspace *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "workspace_get", .noun = "workspace"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_WS_GET, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, id);
    code = lk_pg_one(q, st, a, ws_row, out, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "workspace", "no workspace has the id %lld", (long long)id);
    return code;
}

lk_code lk_pg_workspace_find(lk_store *s, lk_arena *a, const char *name, lk_workspace *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "workspace_find", .noun = "workspace"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_WS_FIND, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text0(q, st, 1, name);
    code = lk_pg_one(q, st, a, ws_row, out, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "workspace", "no workspace is named '%s'", name ? name : "");
    return code;
}

lk_code lk_pg_workspace_insert(lk_store *s, lk_workspace *w, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "workspace_insert", .noun = "workspace"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_WS_INSERT, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text(q, st, 1, w->name);
    lk_pg_bind_text0(q, st, 2, w->description);
    lk_pg_bind_int(q, st, 3, w->created_at);
    lk_pg_bind_int(q, st, 4, w->updated_at);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK)
        w->id = q->last_id;
    return code;
}

/* --- permissions ----------------------------------------------------------- */

#define PERM_COLS "id, name, description, grp, builtin"

static const char SQL_PERM_LIST[] = "SELECT " PERM_COLS " FROM permissions ORDER BY grp, name, id";
static const char SQL_PERM_FIND[] = "SELECT " PERM_COLS " FROM permissions WHERE name = $1";
static const char SQL_PERM_INSERT[] =
    "INSERT INTO permissions (name, description, grp, builtin) VALUES ($1, $2, $3, $4) RETURNING id";
static const char SQL_PERM_DELETE[] = "DELETE FROM permissions WHERE id = $1";
static const char SQL_PERM_ROLES[] =
    "SELECT r.name FROM role_permissions rp JOIN roles r ON r.id = rp.role_id"
    " WHERE rp.permission_id = $1 ORDER BY r.name, r.id";

static void perm_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_permission *p = out;
    p->id = lk_pg_int(st, 0);
    p->name = lk_pg_text(a, st, 1);
    p->description = lk_pg_text(a, st, 2);
    p->group = lk_pg_int(st, 3) ? LK_GROUP_API : LK_GROUP_ADMIN;
    p->builtin = lk_pg_int(st, 4) != 0;
}

static void name_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    *(const char **)out = lk_pg_text(a, st, 0);
}

lk_code lk_pg_permission_list(lk_store *s, lk_arena *a, lk_permission **out, size_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "permission_list", .noun = "permission"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_PERM_LIST, &c, &st, err);
    if (code != LK_OK)
        return code;
    return lk_pg_rows(q, st, a, sizeof **out, perm_row, (void **)out, n, &c, err);
}

lk_code lk_pg_permission_find(lk_store *s, lk_arena *a, const char *name, lk_permission *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "permission_find", .noun = "permission"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_PERM_FIND, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text0(q, st, 1, name);
    code = lk_pg_one(q, st, a, perm_row, out, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "permission", "no permission is named '%s'", name ? name : "");
    return code;
}

lk_code lk_pg_permission_insert(lk_store *s, lk_permission *p, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "permission_insert", .noun = "permission"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_PERM_INSERT, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text(q, st, 1, p->name);
    lk_pg_bind_text0(q, st, 2, p->description);
    lk_pg_bind_int(q, st, 3, p->group);
    lk_pg_bind_int(q, st, 4, p->builtin ? 1 : 0);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK)
        p->id = q->last_id;
    return code;
}

lk_code lk_pg_permission_delete(lk_store *s, int64_t id, lk_error *err)
{
    static const lk_pg_ctx c = {
        .op = "permission_delete", .noun = "permission", .fk_code = LK_EINUSE,
        .fk_msg = "the permission is part of a role; remove it from every role first",
    };
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_PERM_DELETE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, id);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK && q->changes == 0)
        return lk_fail(err, LK_ENOTFOUND, "permission", "no permission has the id %lld", (long long)id);
    return code;
}

lk_code lk_pg_permission_roles(lk_store *s, lk_arena *a, int64_t id, const char ***names, size_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "permission_roles", .noun = "role"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_PERM_ROLES, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, id);
    return lk_pg_rows(q, st, a, sizeof **names, name_row, (void **)names, n, &c, err);
}

/* --- roles ----------------------------------------------------------------- */

#define ROLE_COLS "id, name, description, system, only_all_zones, created_at, updated_at"

static const char SQL_ROLE_LIST[] = "SELECT " ROLE_COLS " FROM roles ORDER BY id";
static const char SQL_ROLE_GET[] = "SELECT " ROLE_COLS " FROM roles WHERE id = $1";
static const char SQL_ROLE_FIND[] = "SELECT " ROLE_COLS " FROM roles WHERE name = $1";
static const char SQL_ROLE_PERMS[] =
    "SELECT p.id, p.name, p.description, p.grp, p.builtin"
    " FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id"
    " WHERE rp.role_id = $1 ORDER BY p.grp, p.name, p.id";
static const char SQL_ROLE_INSERT[] =
    "INSERT INTO roles (name, description, system, only_all_zones, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
static const char SQL_ROLE_UPDATE[] =
    "UPDATE roles SET name = $2, description = $3, updated_at = $4 WHERE id = $1";
static const char SQL_ROLE_DELETE[] = "DELETE FROM roles WHERE id = $1";
static const char SQL_ROLE_PERMS_CLEAR[] = "DELETE FROM role_permissions WHERE role_id = $1";
static const char SQL_ROLE_PERM_ADD[] =
    "INSERT INTO role_permissions (role_id, permission_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";

static void role_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_role *r = out;
    r->id = lk_pg_int(st, 0);
    r->name = lk_pg_text(a, st, 1);
    r->description = lk_pg_text(a, st, 2);
    r->system = lk_pg_int(st, 3) != 0;
    r->only_all_zones = lk_pg_int(st, 4) != 0;
    r->created_at = lk_pg_int(st, 5);
    r->updated_at = lk_pg_int(st, 6);
    r->perms = NULL;
    r->n_perms = 0;
}

static lk_code fill_perms(lk_pg *q, lk_arena *a, lk_role *roles, size_t n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "role permissions", .noun = "permission"};
    for (size_t i = 0; i < n; i++) {
        lk_pg_stmt *st;
        lk_code code = lk_pg_prepare(q, SQL_ROLE_PERMS, &c, &st, err);
        if (code != LK_OK)
            return code;
        lk_pg_bind_int(q, st, 1, roles[i].id);
        code = lk_pg_rows(q, st, a, sizeof *roles[i].perms, perm_row, (void **)&roles[i].perms,
                          &roles[i].n_perms, &c, err);
        if (code != LK_OK)
            return code;
    }
    return LK_OK;
}

/* Replaces the role's permission set with perms[].id. */
static lk_code write_perms(lk_pg *q, int64_t role_id, const lk_permission *perms, size_t n, lk_error *err)
{
    static const lk_pg_ctx c = {
        .op = "role permissions", .noun = "role permission", .fk_code = LK_ENOTFOUND,
        .fk_msg = "a permission given to the role does not exist",
    };
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_ROLE_PERMS_CLEAR, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, role_id);
    code = lk_pg_exec(q, st, &c, err);
    for (size_t i = 0; code == LK_OK && i < n; i++) {
        code = lk_pg_prepare(q, SQL_ROLE_PERM_ADD, &c, &st, err);
        if (code != LK_OK)
            return code;
        lk_pg_bind_int(q, st, 1, role_id);
        lk_pg_bind_int(q, st, 2, perms[i].id);
        code = lk_pg_exec(q, st, &c, err);
    }
    return code;
}

lk_code lk_pg_role_list(lk_store *s, lk_arena *a, lk_role **out, size_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "role_list", .noun = "role"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_ROLE_LIST, &c, &st, err);
    if (code != LK_OK)
        return code;
    code = lk_pg_rows(q, st, a, sizeof **out, role_row, (void **)out, n, &c, err);
    return code != LK_OK ? code : fill_perms(q, a, *out, *n, err);
}

lk_code lk_pg_role_get(lk_store *s, lk_arena *a, int64_t id, lk_role *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "role_get", .noun = "role"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_ROLE_GET, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, id);
    code = lk_pg_one(q, st, a, role_row, out, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "role", "no role has the id %lld", (long long)id);
    return code != LK_OK ? code : fill_perms(q, a, out, 1, err);
}

lk_code lk_pg_role_find(lk_store *s, lk_arena *a, const char *name, lk_role *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "role_find", .noun = "role"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_ROLE_FIND, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text0(q, st, 1, name);
    code = lk_pg_one(q, st, a, role_row, out, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "role", "no role is named '%s'", name ? name : "");
    return code != LK_OK ? code : fill_perms(q, a, out, 1, err);
}

lk_code lk_pg_role_insert(lk_store *s, lk_role *r, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "role_insert", .noun = "role"};
    lk_pg *q = lk_pg_of(s);
    lk_code code = lk_pg_savepoint(q, &c, err);
    if (code != LK_OK)
        return code;
    lk_pg_stmt *st;
    code = lk_pg_prepare(q, SQL_ROLE_INSERT, &c, &st, err);
    int64_t id = 0;
    if (code == LK_OK) {
        lk_pg_bind_text(q, st, 1, r->name);
        lk_pg_bind_text0(q, st, 2, r->description);
        lk_pg_bind_int(q, st, 3, r->system ? 1 : 0);
        lk_pg_bind_int(q, st, 4, r->only_all_zones ? 1 : 0);
        lk_pg_bind_int(q, st, 5, r->created_at);
        lk_pg_bind_int(q, st, 6, r->updated_at);
        code = lk_pg_exec(q, st, &c, err);
        id = q->last_id;
    }
    if (code == LK_OK)
        code = write_perms(q, id, r->perms, r->n_perms, err);
    code = lk_pg_savepoint_end(q, code, &c, err);
    if (code == LK_OK)
        r->id = id;
    return code;
}

lk_code lk_pg_role_update(lk_store *s, const lk_role *r, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "role_update", .noun = "role"};
    lk_pg *q = lk_pg_of(s);
    lk_code code = lk_pg_savepoint(q, &c, err);
    if (code != LK_OK)
        return code;
    lk_pg_stmt *st;
    code = lk_pg_prepare(q, SQL_ROLE_UPDATE, &c, &st, err);
    if (code == LK_OK) {
        lk_pg_bind_int(q, st, 1, r->id);
        lk_pg_bind_text(q, st, 2, r->name);
        lk_pg_bind_text0(q, st, 3, r->description);
        lk_pg_bind_int(q, st, 4, r->updated_at);
        code = lk_pg_exec(q, st, &c, err);
    }
    if (code == LK_OK && q->changes == 0)
        code = lk_fail(err, LK_ENOTFOUND, "role", "no role has the id %lld", (long long)r->id);
    if (code == LK_OK)
        code = write_perms(q, r->id, r->perms, r->n_perms, err);
    return lk_pg_savepoint_end(q, code, &c, err);
}

lk_code lk_pg_role_delete(lk_store *s, int64_t id, lk_error *err)
{
    static const lk_pg_ctx c = {
        .op = "role_delete", .noun = "role", .fk_code = LK_EINUSE,
        .fk_msg = "the role is held by users; take it away from them first",
    };
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_ROLE_DELETE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, id);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK && q->changes == 0)
        return lk_fail(err, LK_ENOTFOUND, "role", "no role has the id %lld", (long long)id);
    return code;
}

lk_code lk_pg_role_holders(lk_store *s, lk_arena *a, int64_t role_id, lk_user **out, size_t *n, lk_error *err)
{
    return lk_pg_users_of_role(lk_pg_of(s), a, role_id, out, n, err);
}

/* role_holders is kept by triggers on user_roles (migration 0006) */
static const char SQL_ROLE_HOLDER_COUNTS[] = "SELECT role_id, n FROM role_holders WHERE n > 0 ORDER BY role_id";

static void holder_count_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    int64_t *pair = out;
    pair[0] = lk_pg_int(st, 0);
    pair[1] = lk_pg_int(st, 1);
}

lk_code lk_pg_role_holder_counts(lk_store *s, lk_arena *a, int64_t **pairs, size_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "role_holder_counts", .noun = "role"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_ROLE_HOLDER_COUNTS, &c, &st, err);
    if (code != LK_OK)
        return code;
    return lk_pg_rows(q, st, a, 2 * sizeof **pairs, holder_count_row, (void **)pairs, n, &c, err);
}

/* over the index on user_roles(role_id): memory in proportion to the workspaces, not
 * to the holders */
static const char SQL_ROLE_WORKSPACES[] =
    "SELECT w.id, w.name FROM workspaces w"
    " WHERE EXISTS (SELECT 1 FROM user_roles g WHERE g.role_id = $1 AND g.workspace_id = w.id) ORDER BY w.id";

static void role_workspace_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_workspace *w = out;
    w->id = lk_pg_int(st, 0);
    w->name = lk_pg_text(a, st, 1);
    w->description = "";
}

lk_code lk_pg_role_workspaces(lk_store *s, lk_arena *a, int64_t role_id, lk_workspace **out, size_t *n,
                              lk_error *err)
{
    static const lk_pg_ctx c = {.op = "role_workspaces", .noun = "role"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_ROLE_WORKSPACES, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, role_id);
    return lk_pg_rows(q, st, a, sizeof **out, role_workspace_row, (void **)out, n, &c, err);
}
