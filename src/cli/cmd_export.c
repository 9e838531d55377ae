/*
 * cmd_export — `latchkey export FILE` and `latchkey import FILE`: moving an instance
 * between stores (SQLite → PostgreSQL and back) as one documented JSON file
 * (docs/storage.md#export-and-import).
 *
 * What moves: workspaces, custom permissions, roles with their permissions, users
 * with their grants, password hashes and states, services with their secret hashes,
 * the instance settings, the IP allowlist, the gateway's routes, per-user limits, the
 * audit trail and the daily usage and error counts. What does not: console sessions, pending invitation
 * and reset links, the mail queue, token revocations and the change feed (all
 * short-lived); the token key file (copy it: it is a file of its own). Records are
 * matched by name (roles, permissions, workspaces) and email (users): ids are given
 * anew by the target, so access tokens minted before the move stop working (clients
 * ask for new ones, as Marketo clients do on 601).
 *
 * Import writes into a database that holds no instance yet (only what a new database
 * is created with), in one transaction: it lands whole or not at all.
 */
#include "cli/cli.h"

#include "core/gwpath.h"
#include "core/gwroute.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define FORMAT "latchkey-export"
#define FORMAT_VERSION 1

/* the settings an instance keeps (docs/storage.md) */
static const char *const SETTING_KEYS[] = {
    "limits.rate_calls", "limits.rate_seconds", "limits.daily", "limits.concurrent", "allowlist.enabled",
};

static const char *const STATUS_WORDS[] = {"pending", "active", "locked"};

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* --- export ---------------------------------------------------------------- */

static json_t *export_doc(lk_store *s, lk_arena *a, int64_t now, lk_error *err)
{
    const lk_store_ops *o = s->ops;
    json_t *doc = json_pack("{s:s, s:i, s:i, s:I, s:s}", "format", FORMAT, "version", FORMAT_VERSION,
                            "schemaVersion", o->schema_version(s), "exportedAt", (json_int_t)now, "store", o->kind);
    lk_workspace *ws;
    lk_permission *perms;
    lk_role *roles;
    lk_user *users;
    lk_service *svcs;
    lk_user_limits *lims;
    lk_audit_event *evs;
    lk_usage_rec *usage;
    lk_error_rec *errs;
    const char **cidrs;
    lk_gw_route *routes;
    size_t n_ws, n_perms, n_roles, n_users, n_svcs, n_lims, n_evs, n_usage, n_errs, n_cidrs, n_routes;
    lk_user_filter uf = {.api_only = -1};
    lk_audit_filter af = {0};
    if (o->workspace_list(s, a, &ws, &n_ws, err) != LK_OK || o->permission_list(s, a, &perms, &n_perms, err) != LK_OK ||
        o->role_list(s, a, &roles, &n_roles, err) != LK_OK || o->user_list(s, a, &uf, &users, &n_users, err) != LK_OK ||
        o->service_list(s, a, NULL, &svcs, &n_svcs, err) != LK_OK ||
        o->user_limits_list(s, a, &lims, &n_lims, err) != LK_OK || o->allow_list(s, a, &cidrs, &n_cidrs, err) != LK_OK ||
        o->gwroute_list(s, a, &routes, &n_routes, err) != LK_OK || o->audit_list(s, a, &af, &evs, &n_evs, err) != LK_OK ||
        o->usage_list(s, a, "0000-00-00", "9999-99-99", &usage, &n_usage, err) != LK_OK ||
        o->errors_list(s, a, "0000-00-00", "9999-99-99", &errs, &n_errs, err) != LK_OK) {
        json_decref(doc);
        return NULL;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n_ws; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:I}", "name", ws[i].name, "description",
                                             ws[i].description, "createdAt", (json_int_t)ws[i].created_at,
                                             "updatedAt", (json_int_t)ws[i].updated_at));
    json_object_set_new(doc, "workspaces", arr);
    arr = json_array();
    for (size_t i = 0; i < n_perms; i++)
        if (!perms[i].builtin)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "name", perms[i].name, "description",
                                                 perms[i].description, "group",
                                                 perms[i].group == LK_GROUP_API ? "api" : "admin"));
    json_object_set_new(doc, "permissions", arr);
    arr = json_array();
    for (size_t i = 0; i < n_roles; i++) {
        json_t *p = json_array();
        for (size_t k = 0; k < roles[i].n_perms; k++)
            json_array_append_new(p, json_string(roles[i].perms[k].name));
        json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:b, s:I, s:I, s:o}", "name", roles[i].name,
                                             "description", roles[i].description, "system", roles[i].system,
                                             "onlyAllZones", roles[i].only_all_zones, "createdAt",
                                             (json_int_t)roles[i].created_at, "updatedAt",
                                             (json_int_t)roles[i].updated_at, "permissions", p));
    }
    json_object_set_new(doc, "roles", arr);
    arr = json_array();
    for (size_t i = 0; i < n_users; i++) {
        const lk_user *u = &users[i];
        json_t *g = json_array();
        for (size_t k = 0; k < u->n_grants; k++)
            json_array_append_new(g, json_pack("{s:s, s:s}", "role", u->grants[k].role_name, "workspace",
                                               u->grants[k].workspace_name));
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:s, s:s, s:o, s:i, s:I, s:b, s:s, s:I, s:I, s:o}",
                              "email", u->email, "userid", u->userid, "firstName", u->first_name, "lastName",
                              u->last_name, "reason", u->reason, "expiresAt", (json_int_t)u->expires_at, "apiOnly",
                              u->api_only, "status", STATUS_WORDS[u->status <= LK_STATUS_LOCKED ? u->status : 2],
                              "lockReason", u->lock_reason, "passwordHash", str_or_null(u->password_hash),
                              "failedLogins", u->failed_logins, "lastLoginAt", (json_int_t)u->last_login_at,
                              "mustChangePassword", u->must_change_password, "lang", u->lang, "createdAt",
                              (json_int_t)u->created_at, "updatedAt", (json_int_t)u->updated_at, "grants", g);
        json_array_append_new(arr, j);
    }
    json_object_set_new(doc, "users", arr);
    arr = json_array();
    for (size_t i = 0; i < n_svcs; i++) {
        const lk_service *v = &svcs[i];
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:I}", "name", v->name, "description",
                           v->description, "owner", v->user_email, "clientId", v->client_id, "secretHash",
                           v->secret_hash, "oldSecretHash", str_or_null(v->old_secret_hash), "oldSecretExpiresAt",
                           (json_int_t)v->old_secret_expires_at, "tokensValidAfter", (json_int_t)v->tokens_valid_after,
                           "createdAt", (json_int_t)v->created_at, "updatedAt", (json_int_t)v->updated_at));
    }
    json_object_set_new(doc, "services", arr);
    json_t *set = json_object();
    for (size_t i = 0; i < sizeof SETTING_KEYS / sizeof SETTING_KEYS[0]; i++) {
        const char *v = NULL;
        lk_code code = o->setting_get(s, a, SETTING_KEYS[i], &v, err);
        if (code == LK_OK)
            json_object_set_new(set, SETTING_KEYS[i], json_string(v));
        else if (code != LK_ENOTFOUND) {
            json_decref(set);
            json_decref(doc);
            return NULL;
        }
    }
    json_object_set_new(doc, "settings", set);
    arr = json_array();
    for (size_t i = 0; i < n_cidrs; i++)
        json_array_append_new(arr, json_string(cidrs[i]));
    json_object_set_new(doc, "allowlist", arr);
    arr = json_array(); /* in the order added: import adds them in this order */
    for (size_t i = 0; i < n_routes; i++) {
        json_t *names = json_array();
        for (size_t k = 0; k < routes[i].n_permissions; k++)
            json_array_append_new(names, json_string(routes[i].permissions[k]));
        json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:s, s:I}", "method", routes[i].method, "pattern",
                                             routes[i].pattern, "permissions", names, "style",
                                             routes[i].plain ? "plain" : "marketo", "createdAt",
                                             (json_int_t)routes[i].created_at));
    }
    json_object_set_new(doc, "routes", arr);
    arr = json_array();
    for (size_t i = 0; i < n_lims; i++)
        json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "user", lims[i].user_email,
                                             "rateCalls", (json_int_t)lims[i].limits.rate_calls, "rateSeconds",
                                             (json_int_t)lims[i].limits.rate_seconds, "daily",
                                             (json_int_t)lims[i].limits.daily, "concurrent",
                                             (json_int_t)lims[i].limits.concurrent, "updatedAt",
                                             (json_int_t)lims[i].updated_at));
    json_object_set_new(doc, "userLimits", arr);
    arr = json_array(); /* oldest first: import appends them in this order */
    for (size_t i = n_evs; i-- > 0;)
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "at", (json_int_t)evs[i].at,
                                             "actor", evs[i].actor, "address", evs[i].address, "area", evs[i].area,
                                             "action", evs[i].action, "target", evs[i].target, "details",
                                             evs[i].details));
    json_object_set_new(doc, "audit", arr);
    arr = json_array();
    for (size_t i = 0; i < n_usage; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "day", usage[i].day, "user", usage[i].user_email,
                                             "count", (json_int_t)usage[i].count));
    json_object_set_new(doc, "usage", arr);
    arr = json_array();
    for (size_t i = 0; i < n_errs; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "day", errs[i].day, "code", errs[i].code, "count",
                                             (json_int_t)errs[i].count));
    json_object_set_new(doc, "errors", arr);
    return doc;
}

/* the document into a new file of mode 0600 (it holds password and secret hashes) */
static lk_code write_file(const char *path, const char *text, bool force, lk_error *err)
{
    if (!force && access(path, F_OK) == 0)
        return lk_fail(err, LK_EEXISTS, "file", "%s exists; give --force to replace it", path);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return lk_fail(err, LK_ESTORE, "file", "cannot create %s: %s", tmp, strerror(errno));
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return lk_fail(err, LK_ESTORE, "file", "cannot write %s: %s", tmp, strerror(errno));
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return lk_fail(err, LK_ESTORE, "file", "cannot write %s: %s", path, strerror(errno));
    }
    return LK_OK;
}

static lk_code export_run(lk_cli_cmd *c)
{
    lk_store *s = c->op->store;
    lk_code code = s->ops->snapshot_begin(s, &c->op->err); /* one instant, whatever writes meanwhile */
    if (code != LK_OK)
        return code;
    json_t *doc = export_doc(s, c->arena, c->op->now, &c->op->err);
    s->ops->snapshot_end(s);
    if (!doc)
        return c->op->err.code != LK_OK ? c->op->err.code : LK_ESTORE;
    char *text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    size_t n_users = json_array_size(json_object_get(doc, "users"));
    size_t n_svcs = json_array_size(json_object_get(doc, "services"));
    size_t n_audit = json_array_size(json_object_get(doc, "audit"));
    json_decref(doc);
    if (!text)
        return lk_fail(&c->op->err, LK_ESTORE, NULL, "export: out of memory");
    code = write_file(c->arg, text, lk_cli_flag(c, "force"), &c->op->err);
    free(text);
    if (code != LK_OK)
        return code;
    if (c->json)
        return lk_cli_emit1("export", json_pack("{s:s, s:I, s:I, s:I}", "file", c->arg, "users", (json_int_t)n_users,
                                                "services", (json_int_t)n_svcs, "auditEvents", (json_int_t)n_audit));
    printf("Exported %zu users, %zu services and %zu audit events to %s.\n", n_users, n_svcs, n_audit,
           lk_cli_clean(c->arena, c->arg, true));
    return LK_OK;
}

/* --- import ------------------------------------------------------------------ */

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static const char *jstr_or_null(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int64_t jint(json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

static bool jbool(json_t *o, const char *key)
{
    return json_is_true(json_object_get(o, key));
}

/* the target holds no instance yet: no user, no service, no role but Admin */
static lk_code check_empty(lk_store *s, lk_arena *a, lk_error *err)
{
    int64_t users = 0, services = 0;
    lk_role *roles;
    size_t n_roles;
    lk_code code = s->ops->user_count(s, NULL, 1, &users, err);
    if (code == LK_OK)
        code = s->ops->service_count(s, NULL, 1, &services, err);
    if (code == LK_OK)
        code = s->ops->role_list(s, a, &roles, &n_roles, err);
    if (code != LK_OK)
        return code;
    if (users || services || n_roles > 1)
        return lk_fail(err, LK_ERULE, "database",
                       "the database holds an instance already (users, services or roles): import goes into a new "
                       "database only");
    return LK_OK;
}

static int64_t find_id(lk_store *s, lk_arena *a, const char *kind, const char *name, lk_error *err)
{
    if (strcmp(kind, "role") == 0) {
        lk_role r;
        return s->ops->role_find(s, a, name, &r, err) == LK_OK ? r.id : 0;
    }
    if (strcmp(kind, "workspace") == 0) {
        lk_workspace w;
        return s->ops->workspace_find(s, a, name, &w, err) == LK_OK ? w.id : 0;
    }
    if (strcmp(kind, "permission") == 0) {
        lk_permission p;
        return s->ops->permission_find(s, a, name, &p, err) == LK_OK ? p.id : 0;
    }
    lk_user u;
    return s->ops->user_find(s, a, name, &u, err) == LK_OK ? u.id : 0;
}

static lk_user_status status_of(const char *w)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(w, STATUS_WORDS[i]) == 0)
            return (lk_user_status)i;
    return LK_STATUS_LOCKED;
}

static lk_code import_doc(lk_store *s, lk_arena *a, json_t *doc, lk_error *err)
{
    const lk_store_ops *o = s->ops;
    size_t i;
    json_t *v;
    lk_code code = LK_OK;
    json_array_foreach(json_object_get(doc, "workspaces"), i, v) {
        lk_workspace w;
        if (o->workspace_find(s, a, jstr(v, "name"), &w, NULL) == LK_OK)
            continue; /* AllZones, Default */
        w = (lk_workspace){.name = jstr(v, "name"), .description = jstr(v, "description"),
                           .created_at = jint(v, "createdAt"), .updated_at = jint(v, "updatedAt")};
        if ((code = o->workspace_insert(s, &w, err)) != LK_OK)
            return code;
    }
    json_array_foreach(json_object_get(doc, "permissions"), i, v) {
        lk_permission p = {.name = jstr(v, "name"), .description = jstr(v, "description"),
                           .group = strcmp(jstr(v, "group"), "api") == 0 ? LK_GROUP_API : LK_GROUP_ADMIN};
        if ((code = o->permission_insert(s, &p, err)) != LK_OK)
            return code;
    }
    json_array_foreach(json_object_get(doc, "roles"), i, v) {
        if (jbool(v, "system"))
            continue; /* Admin: every new database has it, with its fixed permissions */
        json_t *names = json_object_get(v, "permissions");
        size_t n = json_array_size(names);
        lk_permission *perms = lk_arena_alloc(a, (n ? n : 1) * sizeof *perms);
        for (size_t k = 0; k < n; k++) {
            const char *pn = json_string_value(json_array_get(names, k));
            perms[k] = (lk_permission){.name = pn, .id = find_id(s, a, "permission", pn ? pn : "", NULL)};
            if (!perms[k].id)
                return lk_fail(err, LK_EINVAL, "permissions", "role '%s': no permission '%s'", jstr(v, "name"),
                               pn ? pn : "");
        }
        lk_role r = {.name = jstr(v, "name"), .description = jstr(v, "description"),
                     .only_all_zones = jbool(v, "onlyAllZones"), .created_at = jint(v, "createdAt"),
                     .updated_at = jint(v, "updatedAt"), .perms = perms, .n_perms = n};
        if ((code = o->role_insert(s, &r, err)) != LK_OK)
            return code;
    }
    json_array_foreach(json_object_get(doc, "users"), i, v) {
        json_t *gs = json_object_get(v, "grants");
        size_t n = json_array_size(gs);
        lk_grant *g = lk_arena_alloc(a, (n ? n : 1) * sizeof *g);
        for (size_t k = 0; k < n; k++) {
            json_t *gv = json_array_get(gs, k);
            g[k] = (lk_grant){.role_id = find_id(s, a, "role", jstr(gv, "role"), NULL),
                              .workspace_id = find_id(s, a, "workspace", jstr(gv, "workspace"), NULL)};
            if (!g[k].role_id || (!g[k].workspace_id && strcasecmp(jstr(gv, "workspace"), "AllZones") != 0))
                return lk_fail(err, LK_EINVAL, "grants", "user '%s': a grant names a missing role or workspace",
                               jstr(v, "email"));
        }
        lk_user u = {.email = jstr(v, "email"), .userid = jstr(v, "userid"), .first_name = jstr(v, "firstName"),
                     .last_name = jstr(v, "lastName"), .reason = jstr(v, "reason"), .expires_at = jint(v, "expiresAt"),
                     .api_only = jbool(v, "apiOnly"), .status = status_of(jstr(v, "status")),
                     .lock_reason = jstr(v, "lockReason"), .password_hash = jstr_or_null(v, "passwordHash"),
                     .failed_logins = (int)jint(v, "failedLogins"), .last_login_at = jint(v, "lastLoginAt"),
                     .must_change_password = jbool(v, "mustChangePassword"), .lang = jstr(v, "lang"),
                     .created_at = jint(v, "createdAt"), .updated_at = jint(v, "updatedAt"), .grants = g,
                     .n_grants = n};
        if ((code = o->user_insert(s, &u, err)) != LK_OK)
            return code;
    }
    json_array_foreach(json_object_get(doc, "services"), i, v) {
        lk_service svc = {.name = jstr(v, "name"), .description = jstr(v, "description"),
                          .user_id = find_id(s, a, "user", jstr(v, "owner"), NULL), .client_id = jstr(v, "clientId"),
                          .secret_hash = jstr(v, "secretHash"), .old_secret_hash = jstr_or_null(v, "oldSecretHash"),
                          .old_secret_expires_at = jint(v, "oldSecretExpiresAt"),
                          .tokens_valid_after = jint(v, "tokensValidAfter"), .created_at = jint(v, "createdAt"),
                          .updated_at = jint(v, "updatedAt")};
        if ((code = o->service_insert(s, &svc, err)) != LK_OK)
            return code;
    }
    const char *key;
    json_object_foreach(json_object_get(doc, "settings"), key, v) {
        if (json_is_string(v) && (code = o->setting_set(s, key, json_string_value(v), jint(doc, "exportedAt"), err)) != LK_OK)
            return code;
    }
    json_array_foreach(json_object_get(doc, "allowlist"), i, v) {
        if (json_is_string(v) && (code = o->allow_insert(s, json_string_value(v), jint(doc, "exportedAt"), err)) != LK_OK)
            return code;
    }
    json_array_foreach(json_object_get(doc, "routes"), i, v) {
        json_t *pj = json_object_get(v, "permissions");
        size_t np = json_is_array(pj) ? json_array_size(pj) : 0;
        const char **perms = lk_arena_alloc(a, (np ? np : 1) * sizeof *perms);
        for (size_t k = 0; k < np; k++)
            perms[k] = json_is_string(json_array_get(pj, k)) ? json_string_value(json_array_get(pj, k)) : "";
        lk_gw_route r = {.method = jstr(v, "method"), .pattern = jstr(v, "pattern"), .permissions = perms,
                         .n_permissions = np, .plain = strcmp(jstr(v, "style"), "plain") == 0,
                         .created_at = jint(v, "createdAt")};
        const char *why = "not an HTTP method latchkey knows";
        if (!lk_gwroute_method_ok(r.method) || !lk_gwpath_pattern_ok(r.pattern, &why))
            return lk_fail(err, LK_EINVAL, "routes", "the route %s %s cannot be imported: %s", r.method, r.pattern,
                           why ? why : "");
        if ((code = o->gwroute_insert(s, &r, err)) != LK_OK)
            return code;
    }
    json_array_foreach(json_object_get(doc, "userLimits"), i, v) {
        lk_user_limits l = {.user_id = find_id(s, a, "user", jstr(v, "user"), NULL),
                            .limits = {jint(v, "rateCalls"), jint(v, "rateSeconds"), jint(v, "daily"),
                                       jint(v, "concurrent")},
                            .updated_at = jint(v, "updatedAt")};
        if ((code = o->user_limits_set(s, &l, err)) != LK_OK)
            return code;
    }
    json_array_foreach(json_object_get(doc, "audit"), i, v) {
        lk_audit_event ev = {.at = jint(v, "at"), .actor = jstr(v, "actor"), .address = jstr(v, "address"),
                             .area = jstr(v, "area"), .action = jstr(v, "action"), .target = jstr(v, "target"),
                             .details = jstr(v, "details")};
        if ((code = o->audit_insert(s, &ev, err)) != LK_OK)
            return code;
    }
    json_array_foreach(json_object_get(doc, "usage"), i, v) {
        /* a deleted user's history keeps its email; its id is then the row's own */
        int64_t id = find_id(s, a, "user", jstr(v, "user"), NULL);
        lk_usage_rec r = {.day = jstr(v, "day"), .user_id = id ? id : -(int64_t)(i + 1),
                          .user_email = jstr(v, "user"), .count = jint(v, "count")};
        if ((code = o->usage_add(s, &r, 1, err)) != LK_OK)
            return code;
    }
    json_array_foreach(json_object_get(doc, "errors"), i, v) {
        lk_error_rec r = {.day = jstr(v, "day"), .code = jstr(v, "code"), .count = jint(v, "count")};
        if ((code = o->errors_add(s, &r, 1, err)) != LK_OK)
            return code;
    }
    return LK_OK;
}

static lk_code import_run(lk_cli_cmd *c)
{
    json_error_t jerr;
    json_t *doc = json_load_file(c->arg, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return lk_fail(&c->op->err, LK_EINVAL, "file", "%s is not a latchkey export: %s (line %d)", c->arg, jerr.text,
                       jerr.line);
    if (!json_is_object(doc) || strcmp(jstr(doc, "format"), FORMAT) != 0 || jint(doc, "version") != FORMAT_VERSION) {
        json_decref(doc);
        return lk_fail(&c->op->err, LK_EINVAL, "file", "%s is not a latchkey export (format %s, version %d)", c->arg,
                       FORMAT, FORMAT_VERSION);
    }
    lk_store *s = c->op->store;
    lk_code code = s->ops->begin(s, &c->op->err);
    if (code == LK_OK)
        code = check_empty(s, c->arena, &c->op->err);
    if (code == LK_OK)
        code = import_doc(s, c->arena, doc, &c->op->err);
    if (code == LK_OK)
        code = s->ops->commit(s, &c->op->err);
    else
        s->ops->rollback(s);
    size_t n_users = json_array_size(json_object_get(doc, "users"));
    size_t n_svcs = json_array_size(json_object_get(doc, "services"));
    size_t n_audit = json_array_size(json_object_get(doc, "audit"));
    json_decref(doc);
    if (code != LK_OK)
        return code;
    if (c->json)
        return lk_cli_emit1("import", json_pack("{s:s, s:I, s:I, s:I}", "file", c->arg, "users", (json_int_t)n_users,
                                                "services", (json_int_t)n_svcs, "auditEvents", (json_int_t)n_audit));
    printf("Imported %zu users, %zu services and %zu audit events from %s.\n", n_users, n_svcs, n_audit,
           lk_cli_clean(c->arena, c->arg, true));
    return LK_OK;
}

static const lk_cli_opt export_opts[] = {
    {.name = "force", .kind = LK_CLI_FLAG, .help = "replace FILE if it exists"},
    {.name = NULL},
};

static const lk_cli_verb export_cmd = {
    .name = "export",
    .arg = "FILE",
    .opts = export_opts,
    .run = export_run,
    .read_only = true,
    .summary = "write the instance into FILE (JSON), to move it to another store",
    .help = "Writes the instance, as it is at one instant, into FILE (JSON, mode 0600: it holds\n"
            "password and secret hashes): workspaces, custom permissions, roles, users with their\n"
            "grants, services, settings, the IP allowlist, per-user limits, the audit trail and\n"
            "the daily counts. Sessions, pending links, the mail queue and the token key file\n"
            "are not part of it. 'latchkey import FILE' reads it into a new database of either\n"
            "store (docs/storage.md#export-and-import).\n",
};

static const lk_cli_verb import_cmd = {
    .name = "import",
    .arg = "FILE",
    .run = import_run,
    .summary = "read an export FILE into a new database",
    .help = "Reads a file written by 'latchkey export' into the database, which must hold no\n"
            "instance yet (a new one: 'latchkey migrate' makes it), in one transaction. Ids are\n"
            "given anew, so access tokens minted before the move stop working; clients ask for\n"
            "new ones. Copy the token key file separately.\n",
};

const lk_cli_noun lk_cli_noun_export = {
    .name = "export",
    .summary = "write the instance into a JSON file, to move it to another store",
    .self = &export_cmd,
};

const lk_cli_noun lk_cli_noun_import = {
    .name = "import",
    .summary = "read an export file into a new database",
    .self = &import_cmd,
};
