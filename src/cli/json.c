/*
 * json — each record of the domain as the JSON object docs/cli.md shows, built in
 * this one place and reused by every verb. Keys keep the order written here (the
 * documents are dumped with JSON_PRESERVE_ORDER). Times are ISO-8601 UTC, or null
 * when not set; strings are repaired to valid UTF-8 so that jansson never refuses
 * one.
 */
#include "cli/cli.h"

#include "core/permission.h"
#include "util/text.h"
#include "util/timefmt.h"

json_t *lk_cli_json_str(const char *s)
{
    if (!s)
        return json_null();
    if (lk_utf8_count(s) >= 0)
        return json_string(s);
    lk_arena a = LK_ARENA_INIT;
    json_t *j = json_string(lk_cli_clean(&a, s, false));
    lk_arena_free(&a);
    return j;
}

json_t *lk_cli_json_time(int64_t t)
{
    if (t == 0)
        return json_null();
    char buf[LK_TIME_BUF];
    return json_string(lk_time_format(t, buf));
}

static void put_str(json_t *o, const char *key, const char *s)
{
    json_object_set_new(o, key, lk_cli_json_str(s));
}

static void put_int(json_t *o, const char *key, int64_t v)
{
    json_object_set_new(o, key, json_integer((json_int_t)v));
}

static void put_bool(json_t *o, const char *key, bool v)
{
    json_object_set_new(o, key, json_boolean(v));
}

static void put_time(json_t *o, const char *key, int64_t t)
{
    json_object_set_new(o, key, lk_cli_json_time(t));
}

json_t *lk_cli_permission_json(const lk_permission *p)
{
    json_t *o = json_object();
    put_int(o, "id", p->id);
    put_str(o, "name", p->name);
    put_str(o, "group", lk_perm_group_name(p->group));
    put_bool(o, "builtin", p->builtin);
    put_str(o, "description", p->description ? p->description : "");
    return o;
}

json_t *lk_cli_workspace_json(const lk_workspace *w)
{
    json_t *o = json_object();
    put_int(o, "id", w->id);
    put_str(o, "name", w->name);
    put_str(o, "description", w->description ? w->description : "");
    put_time(o, "createdAt", w->created_at);
    put_time(o, "updatedAt", w->updated_at);
    return o;
}

json_t *lk_cli_role_json(const lk_role *r)
{
    json_t *o = json_object();
    put_int(o, "id", r->id);
    put_str(o, "name", r->name);
    put_str(o, "description", r->description ? r->description : "");
    put_str(o, "type", r->system ? "system" : "custom");
    put_bool(o, "onlyAllZones", r->only_all_zones);
    json_t *perms = json_array();
    for (size_t i = 0; i < r->n_perms; i++)
        json_array_append_new(perms, lk_cli_json_str(r->perms[i].name));
    json_object_set_new(o, "permissions", perms);
    put_time(o, "createdAt", r->created_at);
    put_time(o, "updatedAt", r->updated_at);
    return o;
}

/* status and lockedReason are the effective ones: past its expiry a user is locked */
json_t *lk_cli_user_json(const lk_user *u, int64_t now)
{
    const char *reason = NULL;
    lk_user_status status = lk_user_effective_status(u, now, &reason);
    json_t *o = json_object();
    put_int(o, "id", u->id);
    put_str(o, "email", u->email);
    put_str(o, "userid", u->userid);
    put_str(o, "firstName", u->first_name);
    put_str(o, "lastName", u->last_name);
    put_str(o, "reason", u->reason ? u->reason : "");
    put_bool(o, "apiOnly", u->api_only);
    put_str(o, "status", lk_user_status_name(status));
    put_str(o, "lockedReason", status == LK_STATUS_LOCKED ? (reason ? reason : "") : NULL);
    put_time(o, "expiresAt", u->expires_at);
    json_t *roles = json_array();
    for (size_t i = 0; i < u->n_grants; i++) {
        json_t *g = json_object();
        put_str(g, "role", u->grants[i].role_name);
        put_int(g, "roleId", u->grants[i].role_id);
        put_str(g, "workspace", u->grants[i].workspace_name);
        put_int(g, "workspaceId", u->grants[i].workspace_id);
        json_array_append_new(roles, g);
    }
    json_object_set_new(o, "roles", roles);
    put_int(o, "failedLogins", u->failed_logins);
    put_time(o, "lastLoginAt", u->last_login_at);
    put_time(o, "createdAt", u->created_at);
    put_time(o, "updatedAt", u->updated_at);
    return o;
}

/* previousSecretValidUntil: only while a rotation's grace period still runs */
json_t *lk_cli_service_json(const lk_service *s, int64_t now)
{
    bool grace = s->old_secret_hash && s->old_secret_expires_at > now;
    json_t *o = json_object();
    put_int(o, "id", s->id);
    put_str(o, "name", s->name);
    put_str(o, "description", s->description ? s->description : "");
    put_str(o, "user", s->user_email);
    put_str(o, "clientId", s->client_id);
    put_time(o, "previousSecretValidUntil", grace ? s->old_secret_expires_at : 0);
    put_time(o, "createdAt", s->created_at);
    put_time(o, "updatedAt", s->updated_at);
    return o;
}

/* Text that is not a JSON object (which the core never writes) is kept as a string
 * under "text" rather than dropped. */
json_t *lk_cli_details_json(const char *details)
{
    if (!details || !*details)
        return json_object();
    json_t *d = json_loads(details, JSON_DECODE_ANY, NULL);
    if (json_is_object(d))
        return d;
    json_decref(d);
    json_t *o = json_object();
    put_str(o, "text", details);
    return o;
}

json_t *lk_cli_audit_json(const lk_audit_event *e)
{
    json_t *o = json_object();
    put_int(o, "id", e->id);
    put_time(o, "at", e->at);
    put_str(o, "actor", e->actor);
    put_str(o, "address", e->address ? e->address : "");
    put_str(o, "area", e->area);
    put_str(o, "action", e->action);
    put_str(o, "target", e->target);
    json_object_set_new(o, "details", lk_cli_details_json(e->details));
    return o;
}
