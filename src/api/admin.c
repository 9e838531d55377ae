/*
 * admin — the console's JSON API under /admin/api/ (docs/console-api.md): its
 * table of calls, the session cookie, CSRF, the Access Admin permission each call
 * needs, and the sign-in calls themselves.
 *
 * Runs on the store worker (r->store). Only the session cookie authenticates here:
 * an Authorization header is never read. A call that changed the domain makes it
 * visible to the token checks (lk_runtime_refresh) before its answer is sent.
 */
#include "api/admin_internal.h"
#include "api/api.h"
#include "core/authz.h"
#include "core/password.h"
#include "core/permission.h"
#include "core/session.h"
#include "core/user.h"
#include "http/routes.h"
#include "util/text.h"
#include "util/timefmt.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PREFIX "/admin/api/"
#define COOKIE "lk_session"

enum {
    NO_SESSION = 1,          /* setup, login: no session needed */
    NO_CSRF = 2,             /* ... nor a CSRF token */
    MUST_CHANGE_OK = 4,      /* allowed while a one-time password must be replaced */
    HASHES = 8,              /* checks or hashes a password (Argon2id): the password pool */
};

typedef struct admin_route {
    const char *method;
    const char *path;        /* after /admin/api/; "*" is the {id} segment */
    lk_admin_handler fn;
    unsigned flags;
    const char *perm;        /* Access Admin permission needed; NULL: a session suffices */
    const char *perm_alt;    /* ... or this one */
} admin_route;

static void setup_state(lk_admin_call *c);
static void setup_complete(lk_admin_call *c);
static void login(lk_admin_call *c);
static void logout(lk_admin_call *c);
static void session(lk_admin_call *c);
static void password(lk_admin_call *c);
static void accept_invitation(lk_admin_call *c);
static void forgot_password(lk_admin_call *c);
static void reset_password(lk_admin_call *c);

static const admin_route ROUTES[] = {
    {"GET", "setup", setup_state, NO_SESSION | NO_CSRF, NULL, NULL},
    {"POST", "setup", setup_complete, NO_SESSION | NO_CSRF | HASHES, NULL, NULL},
    {"POST", "login", login, NO_SESSION | NO_CSRF | HASHES, NULL, NULL},
    {"POST", "invitation", accept_invitation, NO_SESSION | NO_CSRF | HASHES, NULL, NULL},
    {"POST", "password/forgot", forgot_password, NO_SESSION | NO_CSRF, NULL, NULL},
    {"POST", "password/reset", reset_password, NO_SESSION | NO_CSRF | HASHES, NULL, NULL},
    {"POST", "logout", logout, MUST_CHANGE_OK, NULL, NULL},
    {"GET", "session", session, MUST_CHANGE_OK, NULL, NULL},
    {"POST", "password", password, MUST_CHANGE_OK | HASHES, NULL, NULL},
    {"GET", "permissions", lk_admin_permissions, 0, LK_PERM_ACCESS_ROLES, NULL},
    {"GET", "workspaces", lk_admin_workspaces, 0, LK_PERM_ACCESS_USERS, LK_PERM_ACCESS_ROLES},
    {"GET", "roles", lk_admin_roles, 0, LK_PERM_ACCESS_USERS, LK_PERM_ACCESS_ROLES},
    {"POST", "roles", lk_admin_role_create, 0, LK_PERM_ACCESS_ROLES, NULL},
    {"PUT", "roles/*", lk_admin_role_update, 0, LK_PERM_ACCESS_ROLES, NULL},
    {"DELETE", "roles/*", lk_admin_role_delete, 0, LK_PERM_ACCESS_ROLES, NULL},
    {"GET", "users", lk_admin_users, 0, LK_PERM_ACCESS_USERS, NULL},
    {"GET", "apiusers", lk_admin_api_users, 0, LK_PERM_ACCESS_LAUNCHPOINT, LK_PERM_ACCESS_USERS},
    {"POST", "users", lk_admin_user_invite, 0, LK_PERM_ACCESS_USERS, NULL},
    {"PUT", "users/*", lk_admin_user_update, 0, LK_PERM_ACCESS_USERS, NULL},
    {"DELETE", "users/*", lk_admin_user_delete, 0, LK_PERM_ACCESS_USERS, NULL},
    {"POST", "users/*/lock", lk_admin_user_lock, 0, LK_PERM_ACCESS_USERS, NULL},
    {"POST", "users/*/unlock", lk_admin_user_unlock, 0, LK_PERM_ACCESS_USERS, NULL},
    {"POST", "users/*/invitation", lk_admin_user_resend, 0, LK_PERM_ACCESS_USERS, NULL},
    {"DELETE", "users/*/invitation", lk_admin_user_delete_invitation, 0, LK_PERM_ACCESS_USERS, NULL},
    {"POST", "users/*/password-reset", lk_admin_user_reset_password, 0, LK_PERM_ACCESS_USERS, NULL},
    {"GET", "services", lk_admin_services, 0, LK_PERM_ACCESS_LAUNCHPOINT, NULL},
    {"POST", "services", lk_admin_service_create, 0, LK_PERM_ACCESS_LAUNCHPOINT, NULL},
    {"GET", "services/*", lk_admin_service_get, 0, LK_PERM_ACCESS_LAUNCHPOINT, NULL},
    {"PUT", "services/*", lk_admin_service_update, 0, LK_PERM_ACCESS_LAUNCHPOINT, NULL},
    {"DELETE", "services/*", lk_admin_service_delete, 0, LK_PERM_ACCESS_LAUNCHPOINT, NULL},
    {"POST", "services/*/token", lk_admin_service_token, 0, LK_PERM_ACCESS_LAUNCHPOINT, NULL},
    {"POST", "services/*/rotate", lk_admin_service_rotate, 0, LK_PERM_ACCESS_LAUNCHPOINT, NULL},
    {"GET", "webservices", lk_admin_webservices, 0, LK_PERM_ACCESS_WEB_SERVICES, NULL},
    {"GET", "mail", lk_admin_mail, 0, LK_PERM_ACCESS_WEB_SERVICES, NULL},
    {"POST", "allowlist", lk_admin_allowlist_add, 0, LK_PERM_ACCESS_WEB_SERVICES, NULL},
    {"DELETE", "allowlist", lk_admin_allowlist_remove, 0, LK_PERM_ACCESS_WEB_SERVICES, NULL},
    {"PUT", "allowlist", lk_admin_allowlist_switch, 0, LK_PERM_ACCESS_WEB_SERVICES, NULL},
    {"PUT", "limits", lk_admin_limits_set, 0, LK_PERM_ACCESS_WEB_SERVICES, NULL},
    {"GET", "audit", lk_admin_audit, 0, LK_PERM_ACCESS_AUDIT_TRAIL, NULL},
    {"GET", "logins", lk_admin_logins, 0, LK_PERM_ACCESS_LOGIN_HISTORY, NULL},
};
#define N_ROUTES (sizeof ROUTES / sizeof *ROUTES)

/* ---- answers ---------------------------------------------------------------------- */

void lk_admin_ok(lk_admin_call *c, json_t *body)
{
    lk_resp_json(c->r, 200, body);
}

void lk_admin_done(lk_admin_call *c)
{
    lk_admin_ok(c, json_pack("{s:b}", "ok", 1));
}

void lk_admin_fail(lk_admin_call *c, int status, const char *code, const char *field, const char *message)
{
    lk_resp_json(c->r, status, json_pack("{s:{s:s, s:s, s:s}}", "error", "code", code, "message", message, "field",
                                         field ? field : ""));
    c->r->code = lk_arena_strdup(&c->r->arena, code);
}

void lk_admin_fail_op(lk_admin_call *c)
{
    const lk_code_info *info = lk_code_info_of(c->op.err.code);
    const char *field = c->op.err.field;
    /* the core names its inputs as the CLI does; the page needs the body's names */
    for (size_t i = 0; c->renames && c->renames[i][0]; i++)
        if (strcmp(field, c->renames[i][0]) == 0) {
            field = c->renames[i][1];
            break;
        }
    /* something the body names that does not exist is bad input, not a missing page */
    if (c->op.err.code == LK_ENOTFOUND && *field && c->renames)
        return lk_admin_fail(c, 400, "invalid", field, c->op.err.msg);
    /* a refusal of the trust rules carries its particulars, so that the page can say
     * why in its own language (docs/console-api.md) */
    json_t *denied = c->op.err.code == LK_EDENIED && c->op.denied.details
                         ? json_loads(c->op.denied.details, 0, NULL) : NULL;
    if (!json_is_object(denied)) {
        json_decref(denied);
        return lk_admin_fail(c, info->http_status, info->name, field, c->op.err.msg);
    }
    lk_resp_json(c->r, info->http_status,
                 json_pack("{s:{s:s, s:s, s:s, s:o}}", "error", "code", info->name, "message", c->op.err.msg,
                           "field", field, "denied", denied));
    c->r->code = lk_arena_strdup(&c->r->arena, info->name);
}

/* ---- input -------------------------------------------------------------------------- */

static json_t *member(lk_admin_call *c, const char *name)
{
    json_t *v = c->body ? json_object_get(c->body, name) : NULL;
    return v && !json_is_null(v) ? v : NULL;
}

const char *lk_admin_str(lk_admin_call *c, const char *name, bool *bad)
{
    json_t *v = member(c, name);
    if (!v || *bad)
        return NULL;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        *bad = true;
        lk_admin_fail(c, 400, "invalid", name, lk_arena_printf(&c->r->arena, "%s must be text", name));
        return NULL;
    }
    return lk_arena_strdup(&c->r->arena, json_string_value(v));
}

bool lk_admin_bool(lk_admin_call *c, const char *name, bool dflt, bool *bad)
{
    json_t *v = member(c, name);
    if (!v || *bad)
        return dflt;
    if (!json_is_boolean(v)) {
        *bad = true;
        lk_admin_fail(c, 400, "invalid", name, lk_arena_printf(&c->r->arena, "%s must be true or false", name));
        return dflt;
    }
    return json_is_true(v);
}

int64_t lk_admin_int(lk_admin_call *c, const char *name, int64_t dflt, bool *bad)
{
    json_t *v = member(c, name);
    if (!v || *bad)
        return dflt;
    if (json_is_string(v) && *json_string_value(v) &&
        strspn(json_string_value(v), "0123456789") == strlen(json_string_value(v)) &&
        strlen(json_string_value(v)) <= 18)
        return strtoll(json_string_value(v), NULL, 10);
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        *bad = true;
        lk_admin_fail(c, 400, "invalid", name, lk_arena_printf(&c->r->arena, "%s must be a whole number", name));
        return dflt;
    }
    return (int64_t)json_integer_value(v);
}

int64_t lk_admin_id(lk_admin_call *c)
{
    const char *a = c->arg;
    if (!a || !*a || strlen(a) > 18 || strspn(a, "0123456789") != strlen(a) || strtoll(a, NULL, 10) <= 0) {
        lk_admin_fail(c, 404, "not_found", "", "no such record");
        return 0;
    }
    return strtoll(a, NULL, 10);
}

const char *lk_admin_query(lk_admin_call *c, const char *name)
{
    return c->r->query_ok ? lk_form_get(&c->r->query, name, NULL) : NULL;
}

/* ---- records -------------------------------------------------------------------------- */

json_t *lk_admin_time(int64_t t)
{
    char buf[LK_TIME_BUF];
    return t ? json_string(lk_time_format(t, buf)) : json_null();
}

json_t *lk_admin_user_json(const lk_user *u, int64_t now)
{
    const char *why = NULL;
    lk_user_status st = lk_user_effective_status(u, now, &why);
    json_t *roles = json_array();
    for (size_t i = 0; i < u->n_grants; i++)
        json_array_append_new(roles, json_pack("{s:I, s:s, s:I, s:s}", "roleId", (json_int_t)u->grants[i].role_id,
                                               "role", u->grants[i].role_name, "workspaceId",
                                               (json_int_t)u->grants[i].workspace_id, "workspace",
                                               u->grants[i].workspace_name));
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(u->id));
    json_object_set_new(o, "email", json_string(u->email));
    json_object_set_new(o, "userid", json_string(u->userid));
    json_object_set_new(o, "firstName", json_string(u->first_name));
    json_object_set_new(o, "lastName", json_string(u->last_name));
    json_object_set_new(o, "reason", json_string(u->reason ? u->reason : ""));
    json_object_set_new(o, "apiOnly", json_boolean(u->api_only));
    json_object_set_new(o, "status", json_string(lk_user_status_name(st)));
    json_object_set_new(o, "lockedReason", st == LK_STATUS_LOCKED && why ? json_string(why) : json_null());
    json_object_set_new(o, "expiresAt", lk_admin_time(u->expires_at));
    json_object_set_new(o, "lastLoginAt", lk_admin_time(u->last_login_at));
    json_object_set_new(o, "createdAt", lk_admin_time(u->created_at));
    json_object_set_new(o, "roles", roles);
    return o;
}

json_t *lk_admin_role_json(const lk_role *r, size_t holders)
{
    json_t *perms = json_array();
    for (size_t i = 0; i < r->n_perms; i++)
        json_array_append_new(perms, json_string(r->perms[i].name));
    /* hasApiPermission: the role gives an API-only user something to do (Invite New User
     * marks such roles and wants one for an API-only user) */
    bool api = false;
    for (size_t i = 0; i < r->n_perms; i++)
        api = api || r->perms[i].group == LK_GROUP_API;
    return json_pack("{s:I, s:s, s:s, s:s, s:b, s:o, s:I, s:b}", "id", (json_int_t)r->id, "name", r->name,
                     "description", r->description ? r->description : "", "type", r->system ? "system" : "custom",
                     "onlyAllZones", r->only_all_zones, "permissions", perms, "holders", (json_int_t)holders,
                     "hasApiPermission", api);
}

json_t *lk_admin_service_json(const lk_service *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(s->id));
    json_object_set_new(o, "name", json_string(s->name));
    json_object_set_new(o, "description", json_string(s->description ? s->description : ""));
    json_object_set_new(o, "user", json_string(s->user_email ? s->user_email : ""));
    json_object_set_new(o, "clientId", json_string(s->client_id));
    json_object_set_new(o, "secret", json_string("\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022"));
    json_object_set_new(o, "previousSecretValidUntil",
                        s->old_secret_hash ? lk_admin_time(s->old_secret_expires_at) : json_null());
    json_object_set_new(o, "createdAt", lk_admin_time(s->created_at));
    json_object_set_new(o, "updatedAt", lk_admin_time(s->updated_at));
    return o;
}

/* ---- who may do what ---------------------------------------------------------------------- */

/* the Access Admin permissions the user holds (in some workspace), as a JSON array of
 * names: what the page shows; the server decides with core/authz.h */
static json_t *admin_permissions(lk_admin_call *c, const lk_user *u)
{
    json_t *names = json_array();
    lk_holdings h;
    if (lk_holdings_of(&c->op, u, LK_CALLER_PERSON, &h) != LK_OK)
        return names;
    size_t n = 0;
    const char **held = lk_holdings_names(&c->op, &h, LK_GROUP_ADMIN, &n);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(names, json_string(held[i]));
    return names;
}

/* ---- the session cookie --------------------------------------------------------------------- */

static const char *cookie_token(lk_request *r)
{
    const char *h = lk_req_header(r, "Cookie");
    size_t n = strlen(COOKIE);
    for (const char *p = h; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        size_t len = strcspn(p, ";");
        if (len > n && strncmp(p, COOKIE, n) == 0 && p[n] == '=')
            return lk_arena_strndup(&r->arena, p + n + 1, len - n - 1);
        p += len;
    }
    return NULL;
}

static void set_cookie(lk_admin_call *c, const char *token)
{
    bool secure = c->r->https || strncasecmp(lk_runtime_config(c->r->rt)->public_url, "https://", 8) == 0;
    lk_resp_header(c->r, "Set-Cookie",
                   token ? lk_arena_printf(&c->r->arena, COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s", token,
                                           secure ? "; Secure" : "")
                         : COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
}

static lk_session_policy policy(lk_admin_call *c)
{
    const lk_config *cfg = lk_runtime_config(c->r->rt);
    return (lk_session_policy){.idle = cfg->console_idle_timeout, .max_age = cfg->console_session_max};
}

/* {"user","csrf","permissions","mustChangePassword"} for a session token */
static json_t *session_json(lk_admin_call *c, const lk_user *u, const char *token)
{
    char csrf[LK_HASH_HEX];
    lk_session_csrf(token, csrf);
    return json_pack("{s:o, s:s, s:o, s:b}", "user", lk_admin_user_json(u, c->op.now), "csrf", csrf, "permissions",
                     admin_permissions(c, u), "mustChangePassword", u->must_change_password);
}

/* ---- the sign-in calls ---------------------------------------------------------------------- */

static void setup_state(lk_admin_call *c)
{
    bool pending = false;
    if (lk_setup_pending(&c->op, &pending) != LK_OK)
        return lk_admin_fail_op(c);
    lk_admin_ok(c, json_pack("{s:b}", "pending", pending));
}

static void signed_in(lk_admin_call *c, const lk_user *u, lk_session_token *t)
{
    set_cookie(c, t->token);
    lk_admin_ok(c, session_json(c, u, t->token));
    sodium_memzero(t, sizeof *t);
}

/* a user who just chose a password (setup, invitation) is signed in with it, so that
 * the first sign-in is in the login history like any other */
static void sign_in_new(lk_admin_call *c, lk_user *u, const char *pw)
{
    c->changed = true;
    lk_session_token t;
    lk_session_policy pol = policy(c);
    if (lk_login(&c->op, u->email, pw, &pol, u, &t) != LK_OK)
        return lk_admin_fail_op(c);
    c->r->who = u->email;
    signed_in(c, u, &t);
}

static void setup_complete(lk_admin_call *c)
{
    bool bad = false;
    const char *token = lk_admin_str(c, "token", &bad), *email = lk_admin_str(c, "email", &bad);
    const char *first = lk_admin_str(c, "firstName", &bad), *last = lk_admin_str(c, "lastName", &bad);
    const char *pw = lk_admin_str(c, "password", &bad);
    if (bad)
        return;
    lk_user u;
    c->op.actor = "setup";
    if (lk_setup_complete(&c->op, token, email, first, last, pw, &u) != LK_OK)
        return lk_admin_fail_op(c);
    sign_in_new(c, &u, pw);
}

/* the throttle key of the caller's address (its /64 for IPv6), in the arena */
static const char *address_key(lk_request *r)
{
    char *key = lk_arena_alloc(&r->arena, 64);
    lk_signin_address_key(r->client_text, r->client.family, r->client.addr, key);
    return key;
}

/* the "email" member of a sign-in's body as typed ("" if there is none) */
static const char *body_email(lk_request *r)
{
    json_t *body = r->body_len ? json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    json_t *v = json_is_object(body) ? json_object_get(body, "email") : NULL;
    const char *email = json_is_string(v) ? lk_arena_strdup(&r->arena, json_string_value(v)) : "";
    json_decref(body);
    return email;
}

static bool throttled(lk_request *r, int64_t wait, const char *message)
{
    lk_admin_call c = {.r = r};
    lk_resp_header(r, "Cache-Control", "no-store");
    lk_resp_header(r, "Retry-After", lk_arena_printf(&r->arena, "%lld", (long long)(wait > 0 ? wait : 1)));
    lk_admin_fail(&c, 429, "throttled", "", message);
    return true;
}

bool lk_api_admin_gate(lk_request *r)
{
    if (strcmp(r->method, "POST") != 0)
        return false;
    /* Each sign-in costs an Argon2id verification on the one store worker: the attempt
     * is reserved here, on the request thread, before it queues — so that a burst of
     * simultaneous attempts cannot all pass the limit (runtime/signin.h). */
    lk_signin *si = lk_runtime_signin(r->rt);
    int64_t wait = 0;
    if (strcmp(r->path, PREFIX "login") == 0) {
        if (lk_signin_reserve(si, body_email(r), address_key(r), r->now, &wait))
            return false;
        return throttled(r, wait, "too many failed sign-ins; try again later");
    }
    if (strcmp(r->path, PREFIX "password/forgot") == 0) {
        if (lk_signin_forgot(si, address_key(r), r->now, &wait))
            return false;
        return throttled(r, wait, "too many requests from this address; try again later");
    }
    return false;
}

static void login(lk_admin_call *c)
{
    /* the gate reserved this attempt for (the email in the body, the address) */
    const char *key = address_key(c->r), *typed = body_email(c->r);
    lk_signin *si = lk_runtime_signin(c->r->rt);
    bool bad = false;
    const char *email = lk_admin_str(c, "email", &bad), *pw = lk_admin_str(c, "password", &bad);
    if (bad)
        return lk_signin_done(si, typed, key, LK_SIGNIN_FAILED, c->op.now);
    lk_user u;
    lk_session_token t;
    lk_session_policy pol = policy(c);
    /* the email as typed, cut where a character ends (util/text.h) */
    c->op.actor = lk_arena_printf(&c->r->arena, "user:%.*s", (int)lk_utf8_cut(email ? email : "", 254),
                                  email ? email : "");
    if (lk_login(&c->op, email, pw, &pol, &u, &t) != LK_OK) {
        lk_signin_done(si, typed, key, c->op.err.code == LK_EAUTH ? LK_SIGNIN_FAILED : LK_SIGNIN_UNDECIDED,
                       c->op.now);
        return lk_admin_fail_op(c);
    }
    lk_signin_done(si, typed, key, LK_SIGNIN_SUCCESS, c->op.now);
    c->r->who = u.email;
    signed_in(c, &u, &t);
}

static void accept_invitation(lk_admin_call *c)
{
    bool bad = false;
    const char *token = lk_admin_str(c, "token", &bad), *pw = lk_admin_str(c, "password", &bad);
    if (bad)
        return;
    lk_user u;
    c->op.actor = "invitation";
    if (lk_invitation_accept(&c->op, token, pw, &u) != LK_OK)
        return lk_admin_fail_op(c);
    sign_in_new(c, &u, pw);
}

/* The same answer whatever the address (a reset goes out only to an active person). */
static void forgot_password(lk_admin_call *c)
{
    bool bad = false;
    const char *email = lk_admin_str(c, "email", &bad), *lang = lk_admin_str(c, "lang", &bad);
    if (bad)
        return;
    /* the gate counted the request against the address's allowance: no mail bombing */
    if (lk_password_forgot(&c->op, email, lk_runtime_config(c->r->rt)->reset_ttl, lang) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true; /* wakes the mailer, which resolves the request */
    lk_admin_done(c);
}

static void reset_password(lk_admin_call *c)
{
    bool bad = false;
    const char *token = lk_admin_str(c, "token", &bad), *pw = lk_admin_str(c, "password", &bad);
    if (bad)
        return;
    lk_user u;
    c->op.actor = "password reset";
    if (lk_password_reset_complete(&c->op, token, pw, &u) != LK_OK)
        return lk_admin_fail_op(c);
    /* whoever holds the reset link is the person: strangers' failures are forgotten */
    lk_signin_clear(lk_runtime_signin(c->r->rt), u.email, c->op.now);
    sign_in_new(c, &u, pw);
}

static void logout(lk_admin_call *c)
{
    if (lk_logout(&c->op, c->session_token) != LK_OK)
        return lk_admin_fail_op(c);
    set_cookie(c, NULL);
    lk_admin_done(c);
}

static void session(lk_admin_call *c)
{
    lk_admin_ok(c, session_json(c, &c->user, c->session_token));
}

static void password(lk_admin_call *c)
{
    bool bad = false;
    const char *cur = lk_admin_str(c, "current", &bad), *pw = lk_admin_str(c, "password", &bad);
    if (bad)
        return;
    /* a wrong current password is a failed sign-in of the account from this address
     * (reserved before the check, so that simultaneous changes cannot pass the limit) */
    lk_signin *si = lk_runtime_signin(c->r->rt);
    const char *key = address_key(c->r);
    int64_t wait = 0;
    if (!lk_signin_reserve(si, c->user.email, key, c->op.now, &wait)) {
        throttled(c->r, wait, "too many failed sign-ins; try again later");
        return;
    }
    if (lk_password_change(&c->op, c->user.id, cur ? cur : "", pw, c->session_id) != LK_OK) {
        bool invalid = c->op.err.code == LK_EINVAL, wrong = invalid && strcmp(c->op.err.field, "current") == 0;
        lk_signin_done(si, c->user.email, key,
                       wrong ? LK_SIGNIN_FAILED : invalid ? LK_SIGNIN_SUCCESS : LK_SIGNIN_UNDECIDED, c->op.now);
        return lk_admin_fail_op(c);
    }
    lk_signin_done(si, c->user.email, key, LK_SIGNIN_SUCCESS, c->op.now);
    lk_admin_done(c);
}

/* ---- dispatch ---------------------------------------------------------------------------------- */

static const admin_route *find(lk_admin_call *c, const char *path, bool *path_known)
{
    *path_known = false;
    for (size_t i = 0; i < N_ROUTES; i++) {
        const char *arg = NULL;
        size_t len = 0;
        if (!lk_path_matches(ROUTES[i].path, path, &arg, &len))
            continue;
        *path_known = true;
        if (strcmp(ROUTES[i].method, c->r->method) != 0)
            continue;
        c->arg = arg ? lk_arena_strndup(&c->r->arena, arg, len) : NULL;
        return &ROUTES[i];
    }
    return NULL;
}

bool lk_api_admin_hashes(lk_request *r)
{
    if (strncmp(r->path, PREFIX, strlen(PREFIX)) != 0)
        return false;
    lk_admin_call c = {.r = r};
    bool known = false;
    const admin_route *rt = find(&c, r->path + strlen(PREFIX), &known);
    return rt && (rt->flags & HASHES);
}

/* "GET, POST" for the Allow header of a 405 */
static const char *allowed_methods(lk_admin_call *c, const char *path)
{
    const char *out = "";
    for (size_t i = 0; i < N_ROUTES; i++) {
        const char *arg = NULL;
        size_t len = 0;
        if (lk_path_matches(ROUTES[i].path, path, &arg, &len))
            out = lk_arena_printf(&c->r->arena, "%s%s%s", out, *out ? ", " : "", ROUTES[i].method);
    }
    return out;
}

static bool read_body(lk_admin_call *c, json_t **doc)
{
    *doc = NULL;
    if (c->r->body_len == 0)
        return true;
    const char *ct = lk_req_header(c->r, "Content-Type");
    size_t n = strlen("application/json");
    if (!ct || strncasecmp(ct, "application/json", n) != 0 || (ct[n] && ct[n] != ';' && ct[n] != ' ')) {
        lk_admin_fail(c, 415, "unsupported_media_type", "", "the body must be application/json");
        return false;
    }
    json_error_t jerr;
    *doc = json_loadb(c->r->body, c->r->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!*doc || !json_is_object(*doc)) {
        json_decref(*doc);
        *doc = NULL;
        lk_admin_fail(c, 400, "invalid", "", "the body must be a JSON object");
        return false;
    }
    return true;
}

/* session, CSRF, one-time password, permission: false after answering */
static bool admitted(lk_admin_call *c, const admin_route *rt)
{
    if (rt->flags & NO_SESSION)
        return true;
    lk_session s;
    lk_session_policy pol = policy(c);
    c->session_token = cookie_token(c->r);
    if (lk_session_check(&c->op, c->session_token, &pol, &c->user, &s) != LK_OK) {
        lk_admin_fail_op(c);
        return false;
    }
    c->session_id = s.id;
    c->r->who = c->user.email;
    c->op.actor = lk_arena_printf(&c->r->arena, "user:%s", c->user.email);
    if (!(rt->flags & NO_CSRF) && strcmp(c->r->method, "GET") != 0 &&
        !lk_session_csrf_ok(c->session_token, lk_req_header(c->r, "X-CSRF-Token"))) {
        lk_admin_fail(c, 403, "csrf", "", "this request lacks the page's CSRF token; reload the page");
        return false;
    }
    if (c->user.must_change_password && !(rt->flags & MUST_CHANGE_OK)) {
        lk_admin_fail(c, 403, "password_change_required", "password", "choose a new password first");
        return false;
    }
    lk_caller *caller = lk_arena_alloc(&c->r->arena, sizeof *caller);
    *caller = (lk_caller){.kind = LK_CALLER_PERSON, .user_id = c->user.id};
    c->op.caller = caller;
    if (rt->perm && lk_authz_require(&c->op, lk_arena_printf(&c->r->arena, "%s %s", c->r->method, c->r->path),
                                     rt->perm, rt->perm_alt) != LK_OK) {
        lk_admin_fail_op(c);
        return false;
    }
    return true;
}

void lk_api_admin(lk_request *r)
{
    lk_admin_call c = {.r = r};
    lk_op_init(&c.op, r->store, &r->arena, "console", r->client_text);
    lk_resp_header(r, "Cache-Control", "no-store");
    bool known = false;
    const admin_route *rt = find(&c, r->path + strlen(PREFIX), &known);
    if (!rt) {
        if (known) {
            lk_resp_header(r, "Allow", allowed_methods(&c, r->path + strlen(PREFIX)));
            return lk_admin_fail(&c, 405, "method_not_allowed", "", "this method is not supported here");
        }
        return lk_admin_fail(&c, 404, "not_found", "", "no such resource");
    }
    json_t *doc = NULL;
    if (!read_body(&c, &doc))
        return;
    c.body = doc;
    if (admitted(&c, rt))
        rt->fn(&c);
    json_decref(doc);
    if (c.changed)
        lk_runtime_refresh(r->rt, r->store);
}
