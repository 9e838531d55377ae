/*
 * usermgmt — Marketo's user management API, /userservice/management/v1/users/...
 * (reference §8; docs/api.md).
 *
 * Handlers run on the runtime's store worker (r->store): the route guard has
 * already checked the token, the allowlist, both permissions and the limits. The
 * rules are the core's (core/user.h), the same the CLI applies, plus the trust rules
 * for the token as the caller (core/authz.h: 403 code 603 naming what is missing,
 * stricter than Marketo, docs/api.md); this file only maps
 * JSON to the core's records and back, and the core's errors to the API's
 * conventions: success is bare JSON with 200, failure a non-200 status with
 * {"errors":[{"code":<int>,"message":"..."}]}. A change is made visible to the
 * token checks (lk_runtime_refresh) before its answer is sent.
 */
#include "api/api.h"
#include "api/usermgmt_input.h"
#include "core/role.h"
#include "core/service.h"
#include "core/user.h"
#include "core/workspace.h"
#include "http/envelope.h"
#include "http/routes.h"
#include "util/text.h"
#include "util/timefmt.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PAGE_SIZE_DEFAULT 20
#define PAGE_SIZE_MAX 200
#define DELETE_IN_USE "You cannot delete an API user that is being used in API service"

/* ---- plumbing ----------------------------------------------------------------- */

/* the actor of the audit trail: "api:<API user's email>/<service's display name>"
 * (the catalog keeps no names, the store has them); the caller, whose rights
 * core/authz.h decides, is the token's API-only user */
static void op_for(lk_request *r, lk_op *op)
{
    lk_op_init(op, r->store, &r->arena, "api", r->client_text);
    lk_caller *caller = lk_arena_alloc(&r->arena, sizeof *caller);
    *caller = (lk_caller){.kind = LK_CALLER_TOKEN, .user_id = r->user->id};
    op->caller = caller;
    lk_service svc;
    char buf[LK_CLIENT_ID_BUF];
    const char *client_id = lk_cat_service_client_id(r->service, buf);
    const char *name = lk_service_find(op, client_id, &svc) == LK_OK ? svc.name : client_id;
    lk_error_clear(&op->err);
    op->actor = lk_arena_printf(&r->arena, "api:%s/%s", lk_cat_user_email(r->user), name);
}

/* the core's error, in the API's terms (core/error.c holds the mapping) */
static void fail_core(lk_request *r, const lk_op *op)
{
    const lk_code_info *info = lk_code_info_of(op->err.code);
    int status = info->http_status;
    int code = atoi(info->marketo);
    /* a role or workspace the body names that does not exist is bad input, not a
     * missing resource */
    if (op->err.code == LK_ENOTFOUND && strcmp(op->err.field, "user") != 0) {
        status = 400;
        code = LK_UM_INVALID;
    }
    lk_bare_fail(r, status, code, op->err.msg);
}

static void fail_problem(lk_request *r, const lk_um_problem *p)
{
    if (p->code == LK_UM_BAD_JSON)
        lk_rest_fail(r, LK_REST_INVALID_JSON, NULL);
    else
        lk_bare_fail(r, 400, p->code, p->message);
}

/* POST bodies are application/json (parameters such as charset allowed) */
static bool json_content(lk_request *r)
{
    const char *ct = lk_req_header(r, "Content-Type");
    size_t n = strlen("application/json");
    if (ct && strncasecmp(ct, "application/json", n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
        return true;
    lk_rest_fail(r, LK_REST_CONTENT_TYPE, NULL);
    return false;
}

static void answer(lk_request *r, json_t *body)
{
    lk_resp_json(r, 200, body);
}

/* ---- JSON of the records -------------------------------------------------------- */

/* Marketo's form ("2026-11-27T23:17:27.000t+0000"), null when unset */
static json_t *when(int64_t t)
{
    char buf[LK_TIME_BUF];
    return t ? json_string(lk_time_format_marketo(t, buf)) : json_null();
}

static json_t *grants_json(const lk_user *u)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < u->n_grants; i++) {
        const lk_grant *g = &u->grants[i];
        json_array_append_new(arr, json_pack("{s:I, s:s, s:I, s:s}", "accessRoleId", (json_int_t)g->role_id,
                                             "accessRoleName", g->role_name, "workspaceId",
                                             (json_int_t)g->workspace_id, "workspaceName", g->workspace_name));
    }
    return arr;
}

static json_t *user_brief(const lk_user *u)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:b}", "userid", u->userid, "firstName", u->first_name, "lastName",
                     u->last_name, "emailAddress", u->email, "id", (json_int_t)u->id, "apiOnly", u->api_only);
}

static json_t *user_full(const lk_user *u, int64_t now)
{
    const char *reason = NULL;
    lk_user_status st = lk_user_effective_status(u, now, &reason);
    bool locked = st == LK_STATUS_LOCKED;
    json_t *o = json_object();
    json_object_set_new(o, "userid", json_string(u->userid));
    json_object_set_new(o, "firstName", json_string(u->first_name));
    json_object_set_new(o, "lastName", json_string(u->last_name));
    json_object_set_new(o, "emailAddress", json_string(u->email));
    json_object_set_new(o, "optedIn", json_false());
    json_object_set_new(o, "failedLogins", json_integer(u->failed_logins));
    json_object_set_new(o, "failedDeviceCode", json_integer(0));
    json_object_set_new(o, "isLocked", json_boolean(locked));
    json_object_set_new(o, "lockedReason", locked && reason && *reason ? json_string(reason) : json_null());
    json_object_set_new(o, "id", json_integer(u->id));
    json_object_set_new(o, "apiOnly", json_boolean(u->api_only));
    json_object_set_new(o, "userRoleWorkspaces", grants_json(u));
    json_object_set_new(o, "expiresAt", when(u->expires_at));
    json_object_set_new(o, "lastLoginAt", when(u->last_login_at));
    return o;
}

/* ---- reads ---------------------------------------------------------------------- */

/* a paging parameter: absent -> dflt; otherwise a whole number in [min, max] */
static bool page_param(lk_request *r, const char *name, int64_t dflt, int64_t min, int64_t max, int64_t *out)
{
    const char *v = r->query_ok ? lk_form_get(&r->query, name, NULL) : NULL;
    *out = dflt;
    if (!v || !*v)
        return true;
    char *end = NULL;
    long long n = strlen(v) <= 12 && strspn(v, "0123456789") == strlen(v) ? strtoll(v, &end, 10) : -1;
    if (n < min || n > max) {
        lk_bare_fail(r, 400, LK_UM_INVALID,
                     lk_arena_printf(&r->arena, "%s must be a whole number from %lld to %lld", name,
                                     (long long)min, (long long)max));
        return false;
    }
    *out = n;
    return true;
}

void lk_api_um_users(lk_request *r)
{
    int64_t offset, size;
    if (!page_param(r, "pageOffset", 0, 0, 999999999999LL, &offset) ||
        !page_param(r, "pageSize", PAGE_SIZE_DEFAULT, 1, PAGE_SIZE_MAX, &size))
        return;
    lk_op op;
    op_for(r, &op);
    lk_user_filter f = {.api_only = -1, .offset = offset, .limit = size, .accepted_only = true};
    lk_user *users = NULL;
    size_t n = 0;
    if (lk_user_list_page(&op, &f, &users, &n) != LK_OK)
        return fail_core(r, &op);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, user_brief(&users[i]));
    answer(r, arr);
}

/* the user the path names; accepted: true for active or locked users only */
static bool path_user(lk_request *r, lk_op *op, bool accepted, lk_user *u)
{
    if (lk_user_find(op, r->path_arg, u) != LK_OK) {
        fail_core(r, op);
        return false;
    }
    if (accepted && u->status == LK_STATUS_PENDING) {
        lk_bare_fail(r, 404, 1004,
                     lk_arena_printf(&r->arena, "%s has not accepted the invitation yet (see %s/invite.json)",
                                     u->email, u->userid));
        return false;
    }
    return true;
}

void lk_api_um_user(lk_request *r)
{
    lk_op op;
    lk_user u;
    op_for(r, &op);
    if (path_user(r, &op, true, &u))
        answer(r, user_full(&u, r->now));
}

void lk_api_um_invited(lk_request *r)
{
    lk_op op;
    lk_user u;
    lk_invitation inv;
    op_for(r, &op);
    if (!path_user(r, &op, false, &u))
        return;
    if (u.status != LK_STATUS_PENDING) {
        lk_bare_fail(r, 404, 1004, lk_arena_printf(&r->arena, "%s has no pending invitation", u.email));
        return;
    }
    if (lk_user_invitation(&op, u.email, &inv) != LK_OK)
        return fail_core(r, &op);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(u.id));
    json_object_set_new(o, "firstName", json_string(u.first_name));
    json_object_set_new(o, "lastName", json_string(u.last_name));
    json_object_set_new(o, "emailAddress", json_string(u.email));
    json_object_set_new(o, "userid", json_string(u.userid));
    json_object_set_new(o, "userId", json_string(u.userid));
    json_object_set_new(o, "apiOnly", json_boolean(u.api_only));
    json_object_set_new(o, "subscriptionId", json_integer(lk_runtime_config(r->rt)->subscription_id));
    json_object_set_new(o, "status", json_string("pending"));
    /* Marketo's meaning: when the invitation lapses. The access expiry is the user
     * record's expiresAt (user.json), once the invitation is accepted. */
    json_object_set_new(o, "expiresAt", when(inv.expires_at));
    json_object_set_new(o, "createdAt", when(u.created_at));
    json_object_set_new(o, "updatedAt", when(u.updated_at));
    answer(r, o);
}

void lk_api_um_user_roles(lk_request *r)
{
    lk_op op;
    lk_user u;
    op_for(r, &op);
    if (path_user(r, &op, false, &u))
        answer(r, grants_json(&u));
}

void lk_api_um_roles(lk_request *r)
{
    lk_op op;
    op_for(r, &op);
    lk_role *roles = NULL;
    size_t n = 0;
    if (lk_role_list(&op, &roles, &n) != LK_OK)
        return fail_core(r, &op);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const lk_role *ro = &roles[i];
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(ro->id));
        json_object_set_new(o, "name", json_string(ro->name));
        json_object_set_new(o, "description", json_string(ro->description ? ro->description : ""));
        json_object_set_new(o, "type", json_string(ro->system ? "system" : "custom"));
        /* the developer guide's names and the OpenAPI file's */
        json_object_set_new(o, "hidden", json_false());
        json_object_set_new(o, "isHidden", json_false());
        json_object_set_new(o, "onlyAllZones", json_boolean(ro->only_all_zones));
        json_object_set_new(o, "isOnlyAllZones", json_boolean(ro->only_all_zones));
        json_object_set_new(o, "createdAt", when(ro->created_at));
        json_object_set_new(o, "updatedAt", when(ro->updated_at));
        json_array_append_new(arr, o);
    }
    answer(r, arr);
}

void lk_api_um_workspaces(lk_request *r)
{
    lk_op op;
    op_for(r, &op);
    lk_workspace *ws = NULL;
    size_t n = 0;
    if (lk_workspace_list(&op, &ws, &n) != LK_OK)
        return fail_core(r, &op);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(ws[i].id));
        json_object_set_new(o, "name", json_string(ws[i].name));
        json_object_set_new(o, "description", json_string(ws[i].description ? ws[i].description : ""));
        json_object_set_new(o, "globalViz", json_integer(ws[i].id == LK_WORKSPACE_ALLZONES ? 1 : 0));
        json_object_set_new(o, "status", json_string("active"));
        json_object_set_new(o, "currencyInfo", json_null());
        json_object_set_new(o, "createdAt", when(ws[i].created_at));
        json_object_set_new(o, "updatedAt", when(ws[i].updated_at));
        json_array_append_new(arr, o);
    }
    answer(r, arr);
}

/* ---- changes -------------------------------------------------------------------- */

void lk_api_um_invite(lk_request *r)
{
    if (!json_content(r))
        return;
    lk_user_input in;
    lk_um_problem p;
    if (!lk_um_parse_invite(&r->arena, r->body, r->body_len, &in, &p))
        return fail_problem(r, &p);
    lk_op op;
    op_for(r, &op);
    const lk_config *cfg = lk_runtime_config(r->rt);
    in.lang = cfg->mail_language;
    in.invite_ttl = cfg->invite_ttl;
    lk_user u;
    /* a normal user's invitation email is queued with the user; no link in the answer */
    lk_invite_token invite;
    if (lk_user_invite(&op, &in, &u, &invite) != LK_OK)
        return fail_core(r, &op);
    sodium_memzero(invite.token, sizeof invite.token);
    lk_runtime_refresh(r->rt, r->store);
    lk_resp_text(r, 200, LK_JSON_TYPE, "true");
}

/* the user's record after a change, or the change's error */
static void after_change(lk_request *r, lk_op *op, lk_code rc, const lk_user *u, bool full)
{
    if (rc != LK_OK)
        return fail_core(r, op);
    lk_runtime_refresh(r->rt, r->store);
    answer(r, full ? user_full(u, r->now) : grants_json(u));
}

void lk_api_um_update(lk_request *r)
{
    if (!json_content(r))
        return;
    lk_user_change ch;
    int api_only;
    lk_um_problem p;
    if (!lk_um_parse_update(&r->arena, r->body, r->body_len, &ch, &api_only, &p))
        return fail_problem(r, &p);
    lk_op op;
    lk_user u;
    op_for(r, &op);
    if (!path_user(r, &op, true, &u))
        return;
    if (api_only >= 0 && (api_only == 1) != u.api_only) {
        lk_bare_fail(r, 400, LK_UM_INVALID,
                     lk_arena_printf(&r->arena, "apiOnly cannot be changed: %s %s an API-only user", u.email,
                                     u.api_only ? "is" : "is not"));
        return;
    }
    if (!ch.email && !ch.first_name && !ch.last_name && !ch.expires)
        return answer(r, user_full(&u, r->now));   /* nothing to change */
    lk_user out;
    lk_code rc = lk_user_update(&op, u.email, &ch, &out);
    after_change(r, &op, rc, &out, true);
}

static void delete_scoped(lk_request *r, lk_user_scope scope)
{
    lk_op op;
    op_for(r, &op);
    if (lk_user_delete_scoped(&op, r->path_arg, scope) != LK_OK) {
        if (op.err.code == LK_EINUSE)
            return lk_bare_fail(r, 409, LK_REST_SYSTEM_ERROR, DELETE_IN_USE);
        return fail_core(r, &op);
    }
    lk_runtime_refresh(r->rt, r->store);
    lk_resp_text(r, 200, NULL, "");
}

void lk_api_um_delete(lk_request *r)
{
    delete_scoped(r, LK_SCOPE_ACCEPTED);
}

void lk_api_um_delete_invited(lk_request *r)
{
    delete_scoped(r, LK_SCOPE_PENDING);
}

static void change_roles(lk_request *r, bool add)
{
    if (!json_content(r))
        return;
    lk_grant_ref *refs = NULL;
    size_t n = 0;
    lk_um_problem p;
    if (!lk_um_parse_grants(&r->arena, r->body, r->body_len, &refs, &n, &p))
        return fail_problem(r, &p);
    lk_op op;
    lk_user u;
    op_for(r, &op);
    if (!path_user(r, &op, true, &u))
        return;
    lk_user_change ch = {0};
    if (add) {
        ch.add = refs;
        ch.n_add = n;
    } else {
        ch.remove = refs;
        ch.n_remove = n;
    }
    lk_user out;
    lk_code rc = lk_user_update(&op, u.email, &ch, &out);
    after_change(r, &op, rc, &out, false);
}

void lk_api_um_roles_add(lk_request *r)
{
    change_roles(r, true);
}

void lk_api_um_roles_delete(lk_request *r)
{
    change_roles(r, false);
}
