/*
 * admin_users — the console's Users & Roles calls (docs/console-api.md): the
 * permission catalog, workspaces, roles and users, through the same core calls as
 * the CLI.
 */
#include "api/admin_internal.h"
#include "core/permission.h"
#include "core/role.h"
#include "core/mailq.h"
#include "core/password.h"
#include "core/user.h"
#include "core/workspace.h"
#include "util/text.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void lk_admin_permissions(lk_admin_call *c)
{
    lk_permission *p = NULL;
    size_t n = 0;
    if (lk_permission_list(&c->op, &p, &n) != LK_OK)
        return lk_admin_fail_op(c);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b}", "name", p[i].name, "group",
                                             p[i].group == LK_GROUP_ADMIN ? "admin" : "api", "description",
                                             p[i].description ? p[i].description : "", "builtin", p[i].builtin));
    lk_admin_ok(c, arr);
}

void lk_admin_workspaces(lk_admin_call *c)
{
    lk_workspace *w = NULL;
    size_t n = 0;
    if (lk_workspace_list(&c->op, &w, &n) != LK_OK)
        return lk_admin_fail_op(c);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)w[i].id, "name", w[i].name,
                                             "description", w[i].description ? w[i].description : ""));
    lk_admin_ok(c, arr);
}

/* the core's field names for what the console's bodies call otherwise */
static const char *const ROLE_FIELDS[][2] = {{"permission", "permissions"}, {NULL, NULL}};
static const char *const USER_FIELDS[][2] = {
    {"accessRoleId", "grants"}, {"workspace", "grants"}, {"role", "grants"}, {NULL, NULL},
};

/* ---- roles ------------------------------------------------------------------------ */

static size_t holders_of(const lk_role *r, const int64_t *pairs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (pairs[2 * i] == r->id)
            return (size_t)pairs[2 * i + 1];
    return 0;
}

void lk_admin_roles(lk_admin_call *c)
{
    lk_role *roles = NULL;
    int64_t *counts = NULL;
    size_t n = 0, n_counts = 0;
    if (lk_role_list(&c->op, &roles, &n) != LK_OK ||
        c->op.store->ops->role_holder_counts(c->op.store, c->op.arena, &counts, &n_counts, &c->op.err) != LK_OK)
        return lk_admin_fail_op(c);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, lk_admin_role_json(&roles[i], holders_of(&roles[i], counts, n_counts)));
    lk_admin_ok(c, arr);
}

/* the body's "permissions" as an array of names; *present false when absent */
static bool perm_names(lk_admin_call *c, const char ***names, size_t *n, bool *present)
{
    json_t *v = c->body ? json_object_get(c->body, "permissions") : NULL;
    *names = NULL;
    *n = 0;
    *present = v && !json_is_null(v);
    if (!*present)
        return true;
    if (!json_is_array(v) || json_array_size(v) > 1000) {
        lk_admin_fail(c, 400, "invalid", "permissions", "permissions must be a list of permission names");
        return false;
    }
    *names = lk_arena_alloc(&c->r->arena, (json_array_size(v) + 1) * sizeof **names);
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s)) {
            lk_admin_fail(c, 400, "invalid", "permissions", "permissions must be a list of permission names");
            return false;
        }
        (*names)[(*n)++] = lk_arena_strdup(&c->r->arena, json_string_value(s));
    }
    return true;
}

/* the role the path's id names */
static bool role_by_id(lk_admin_call *c, lk_role *out)
{
    int64_t id = lk_admin_id(c);
    if (!id)
        return false;
    lk_code rc = c->op.store->ops->role_get(c->op.store, c->op.arena, id, out, &c->op.err);
    if (rc == LK_ENOTFOUND)
        lk_admin_fail(c, 404, "not_found", "", "no such role");
    else if (rc != LK_OK)
        lk_admin_fail_op(c);
    return rc == LK_OK;
}

void lk_admin_role_create(lk_admin_call *c)
{
    bool bad = false, present;
    const char *name = lk_admin_str(c, "name", &bad), *desc = lk_admin_str(c, "description", &bad);
    const char **perms;
    size_t n;
    if (bad || !perm_names(c, &perms, &n, &present))
        return;
    lk_role r;
    c->renames = ROLE_FIELDS;
    if (lk_role_create(&c->op, name, desc, perms, n, &r) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    lk_admin_ok(c, lk_admin_role_json(&r, 0));
}

void lk_admin_role_update(lk_admin_call *c)
{
    lk_role r;
    if (!role_by_id(c, &r))
        return;
    bool bad = false, present;
    lk_role_change ch = {.name = lk_admin_str(c, "name", &bad), .description = lk_admin_str(c, "description", &bad)};
    const char **want;
    size_t n;
    if (bad || !perm_names(c, &want, &n, &present))
        return;
    /* the full new set: the core works out what is added and removed */
    ch.set_perms = present;
    ch.set = want;
    ch.n_set = n;
    lk_role out;
    c->renames = ROLE_FIELDS;
    if (lk_role_update(&c->op, r.name, &ch, &out) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    lk_admin_ok(c, lk_admin_role_json(&out, 0));
}

void lk_admin_role_delete(lk_admin_call *c)
{
    lk_role r;
    if (!role_by_id(c, &r))
        return;
    if (lk_role_delete(&c->op, r.name) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    lk_admin_done(c);
}

/* ---- users ------------------------------------------------------------------------- */

/* apiOnly, status and role of the query into f; *filtered when one is given; false
 * after answering 400 */
static bool user_filters(lk_admin_call *c, lk_user_filter *f, bool *filtered)
{
    static const char *const STATUS[] = {[LK_STATUS_PENDING] = "pending", [LK_STATUS_ACTIVE] = "active",
                                         [LK_STATUS_LOCKED] = "locked"};
    const char *api = lk_admin_query(c, "apiOnly"), *status = lk_admin_query(c, "status");
    const char *role = lk_admin_query(c, "role");
    if (api && *api) {
        f->api_only = strcmp(api, "true") == 0 ? 1 : strcmp(api, "false") == 0 ? 0 : -2;
        if (f->api_only < -1) {
            lk_admin_fail(c, 400, "invalid", "apiOnly", "apiOnly must be true or false");
            return false;
        }
        *filtered = true;
    }
    if (status && *status) {
        for (int i = 0; i < 3 && !f->by_status; i++)
            if (strcmp(status, STATUS[i]) == 0) {
                f->by_status = true;
                f->status = (lk_user_status)i;
            }
        if (!f->by_status) {
            lk_admin_fail(c, 400, "invalid", "status", "status must be pending, active or locked");
            return false;
        }
        *filtered = true;
    }
    if (role && *role) {
        lk_role r;
        f->role_id = strlen(role) <= 18 && strspn(role, "0123456789") == strlen(role) ? strtoll(role, NULL, 10) : 0;
        lk_code rc = f->role_id > 0 ? c->op.store->ops->role_get(c->op.store, c->op.arena, f->role_id, &r, &c->op.err)
                                    : LK_ENOTFOUND;
        if (rc == LK_ENOTFOUND) {
            lk_admin_fail(c, 400, "invalid", "role", "role must be the id of a role");
            return false;
        }
        if (rc != LK_OK) {
            lk_admin_fail_op(c);
            return false;
        }
        *filtered = true;
    }
    return true;
}

/* One page of users as f and the query select, under `name`; `row` makes a record.
 * The total is exact without search and filters (a count of the table is cheap),
 * else counted up to LK_ADMIN_COUNT_CAP. */
static void users_page(lk_admin_call *c, lk_user_filter *f, bool filtered, const char *name,
                       json_t *(*row)(const lk_user *u, int64_t now))
{
    lk_admin_page pg;
    bool bad = false;
    f->search = lk_admin_search(c, "q", &bad);
    if (bad || !lk_admin_page_begin(c, &pg, LK_CURSOR_ID))
        return;
    f->after = pg.after_id;
    f->limit = pg.limit + 1;
    int64_t cap = filtered || f->search ? LK_ADMIN_COUNT_CAP + 1 : 0, total = 0;
    lk_user *users = NULL;
    size_t n = 0, i = 0;
    if (lk_user_list_page(&c->op, f, &users, &n) != LK_OK || lk_user_count(&c->op, f, cap, &total) != LK_OK) {
        lk_admin_page_end(&pg);
        return lk_admin_fail_op(c);
    }
    while (i < n && lk_admin_page_take(&pg, row(&users[i], c->op.now)))
        i++;
    const char *next = i < n ? lk_admin_cursor_id(c, users[i - 1].id) : NULL;
    lk_admin_ok(c, lk_admin_page_json(&pg, name, next, total, cap));
}

void lk_admin_users(lk_admin_call *c)
{
    lk_user_filter f = {.api_only = -1, .now = c->op.now};
    bool filtered = false;
    if (user_filters(c, &f, &filtered))
        users_page(c, &f, filtered, "users", lk_admin_user_json);
}

static json_t *api_user_json(const lk_user *u, int64_t now)
{
    (void)now;
    return json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)u->id, "email", u->email, "firstName", u->first_name,
                     "lastName", u->last_name);
}

/* the API-only users a new service may belong to (active ones), for LaunchPoint's
 * picker: searched as the administrator types */
void lk_admin_api_users(lk_admin_call *c)
{
    lk_user_filter f = {.api_only = 1, .by_status = true, .status = LK_STATUS_ACTIVE, .now = c->op.now};
    users_page(c, &f, true, "users", api_user_json);
}

/* the body's "grants": [{roleId, workspaceId}] as grant references */
static bool grant_refs(lk_admin_call *c, lk_grant_ref **out, size_t *n, bool *present)
{
    json_t *v = c->body ? json_object_get(c->body, "grants") : NULL;
    *out = NULL;
    *n = 0;
    *present = v && !json_is_null(v);
    if (!*present)
        return true;
    if (!json_is_array(v) || json_array_size(v) > 1000) {
        lk_admin_fail(c, 400, "invalid", "grants", "grants must be a list of {roleId, workspaceId}");
        return false;
    }
    *out = lk_arena_alloc(&c->r->arena, (json_array_size(v) + 1) * sizeof **out);
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *g = json_array_get(v, i), *role = json_object_get(g, "roleId"), *ws = json_object_get(g, "workspaceId");
        if (!json_is_integer(role) || !json_is_integer(ws) || json_integer_value(role) < 0 ||
            json_integer_value(ws) < 0) {
            lk_admin_fail(c, 400, "invalid", "grants", "grants must be a list of {roleId, workspaceId}");
            return false;
        }
        (*out)[(*n)++] = (lk_grant_ref){.role_id = (int64_t)json_integer_value(role),
                                        .workspace = lk_arena_printf(&c->r->arena, "%lld",
                                                                     (long long)json_integer_value(ws))};
    }
    return true;
}

void lk_admin_user_invite(lk_admin_call *c)
{
    bool bad = false, present;
    lk_user_input in = {
        .email = lk_admin_str(c, "email", &bad),
        .first_name = lk_admin_str(c, "firstName", &bad),
        .last_name = lk_admin_str(c, "lastName", &bad),
        .reason = lk_admin_str(c, "reason", &bad),
        .expires = lk_admin_str(c, "expiresAt", &bad),
        .userid = lk_admin_str(c, "userid", &bad),
        .message = lk_admin_str(c, "message", &bad),
        .api_only = lk_admin_bool(c, "apiOnly", false, &bad),
    };
    lk_grant_ref *refs;
    if (bad || !grant_refs(c, &refs, &in.n_grants, &present))
        return;
    in.grants = refs;
    if (in.expires && !*in.expires)
        in.expires = NULL;
    if (in.userid && !*in.userid)
        in.userid = NULL;
    const lk_config *cfg = lk_runtime_config(c->r->rt);
    in.lang = lk_admin_str(c, "lang", &bad);
    if (bad)
        return;
    if (in.lang && *in.lang && !lk_mail_lang(in.lang))
        return lk_admin_fail(c, 400, "invalid", "lang", "lang must be en or de");
    if (!in.lang || !*in.lang)
        in.lang = cfg->mail_language;
    in.invite_ttl = cfg->invite_ttl;
    lk_user u;
    lk_invite_token invite;
    c->renames = USER_FIELDS;
    if (lk_user_invite(&c->op, &in, &u, &invite) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    /* the link goes by email only (the mailer mints it); the page says where it went */
    json_t *inv = json_null();
    if (!u.api_only)
        inv = json_pack("{s:s, s:o}", "email", u.email, "expiresAt", lk_admin_time(invite.expires_at));
    sodium_memzero(&invite, sizeof invite);
    lk_admin_ok(c, json_pack("{s:o, s:o}", "user", lk_admin_user_json(&u, c->op.now), "invitation", inv));
}

/* the user the path's id names */
static bool user_by_id(lk_admin_call *c, lk_user *out)
{
    int64_t id = lk_admin_id(c);
    if (!id)
        return false;
    lk_code rc = c->op.store->ops->user_get(c->op.store, c->op.arena, id, out, &c->op.err);
    if (rc == LK_ENOTFOUND) {
        lk_admin_fail(c, 404, "not_found", "", "no such user");
        return false;
    }
    if (rc != LK_OK) {
        lk_admin_fail_op(c);
        return false;
    }
    return true;
}

void lk_admin_user_update(lk_admin_call *c)
{
    lk_user u;
    if (!user_by_id(c, &u))
        return;
    bool bad = false, present;
    json_t *exp = c->body ? json_object_get(c->body, "expiresAt") : NULL;
    lk_user_change ch = {
        .email = lk_admin_str(c, "email", &bad),
        .first_name = lk_admin_str(c, "firstName", &bad),
        .last_name = lk_admin_str(c, "lastName", &bad),
        .reason = lk_admin_str(c, "reason", &bad),
        .expires = lk_admin_str(c, "expiresAt", &bad),
    };
    if (exp && (json_is_null(exp) || (ch.expires && !*ch.expires)))
        ch.expires = "never";
    lk_grant_ref *want;
    size_t n;
    if (bad || !grant_refs(c, &want, &n, &present))
        return;
    /* the full new set of grants: the core works out what is added and removed */
    ch.set_grants = present;
    ch.set = want;
    ch.n_set = n;
    lk_user out;
    if (!ch.email && !ch.first_name && !ch.last_name && !ch.reason && !ch.expires && !ch.set_grants)
        return lk_admin_ok(c, lk_admin_user_json(&u, c->op.now));
    c->renames = USER_FIELDS;
    if (lk_user_update(&c->op, u.email, &ch, &out) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    lk_admin_ok(c, lk_admin_user_json(&out, c->op.now));
}

void lk_admin_user_lock(lk_admin_call *c)
{
    lk_user u, out;
    bool bad = false;
    const char *reason = lk_admin_str(c, "reason", &bad);
    if (bad || !user_by_id(c, &u))
        return;
    if (lk_user_lock(&c->op, u.email, reason, &out) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    lk_admin_ok(c, lk_admin_user_json(&out, c->op.now));
}

void lk_admin_user_unlock(lk_admin_call *c)
{
    lk_user u, out;
    bool bad = false;
    json_t *exp = c->body ? json_object_get(c->body, "expiresAt") : NULL;
    const char *expires = lk_admin_str(c, "expiresAt", &bad);
    if (bad || !user_by_id(c, &u))
        return;
    if (exp && (json_is_null(exp) || (expires && !*expires)))
        expires = "never";
    if (lk_user_unlock(&c->op, u.email, expires, &out) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    lk_admin_ok(c, lk_admin_user_json(&out, c->op.now));
}

void lk_admin_user_delete(lk_admin_call *c)
{
    lk_user u;
    if (!user_by_id(c, &u))
        return;
    if (lk_user_delete(&c->op, u.email) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    lk_admin_done(c);
}

void lk_admin_user_resend(lk_admin_call *c)
{
    lk_user u;
    bool bad = false;
    const char *message = lk_admin_str(c, "message", &bad);
    if (bad || !user_by_id(c, &u))
        return;
    lk_invitation inv;
    if (lk_user_resend_invitation(&c->op, u.email, message, lk_runtime_config(c->r->rt)->invite_ttl, &inv) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    lk_admin_ok(c, json_pack("{s:o, s:{s:s, s:o}}", "user", lk_admin_user_json(&u, c->op.now), "invitation", "email",
                             u.email, "expiresAt", lk_admin_time(inv.expires_at)));
}

void lk_admin_user_delete_invitation(lk_admin_call *c)
{
    lk_user u;
    if (!user_by_id(c, &u))
        return;
    if (lk_user_delete_scoped(&c->op, u.email, LK_SCOPE_PENDING) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    lk_admin_done(c);
}

void lk_admin_user_reset_password(lk_admin_call *c)
{
    lk_user u, out;
    if (!user_by_id(c, &u))
        return;
    if (lk_password_reset_request(&c->op, u.email, lk_runtime_config(c->r->rt)->reset_ttl, &out) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    lk_admin_ok(c, json_pack("{s:o, s:{s:s}}", "user", lk_admin_user_json(&out, c->op.now), "reset", "email",
                             out.email));
}
