/*
 * routes — the route table and the guard every REST call passes (routes.h).
 *
 * The REST guard (lk_guard_admit: latchkey's own REST routes and a gateway's auth
 * check, http/gateway.c, share it), in order (reference §4–7):
 *   token (601/602; not counted) → allowlist (603) → route (610) → method (605, not
 *   counted; a POST with _method=GET is a GET, rest_input.h) → a _method=GET body
 *   that is not a form (612) → permission (603) → limits: in flight (615), rate
 *   (606), day (607) → handler. Every answer is counted in the error statistics;
 *   calls that count (all but Marketo's 601, 602, 604, 605, 608, 611: envelope.c)
 *   are counted in usage and in the limits.
 */
#include "http/routes.h"
#include "api/api.h"
#include "core/permission.h"
#include "http/envelope.h"
#include "http/gateway.h"
#include "http/metrics.h"
#include "http/rest_input.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UM "/userservice/management/v1/users"
/* the user management API needs both keys, as in Marketo (PRODUCT.md §1) */
#define UM_PERMS {LK_PERM_USER_MGMT_API, LK_PERM_ACCESS_USERS}

const lk_route lk_routes[] = {
    {"GET POST", "/identity/oauth/token", LK_ROUTE_IDENTITY, lk_api_identity_token, {NULL}, false, "identity"},
    {"POST", "/oauth2/token", LK_ROUTE_IDENTITY, lk_api_oauth2_token, {NULL}, false, "oauth2_token"},
    {"POST", "/oauth2/introspect", LK_ROUTE_IDENTITY, lk_api_oauth2_introspect, {NULL}, false, "oauth2_introspect"},
    {"POST", "/oauth2/revoke", LK_ROUTE_IDENTITY, lk_api_oauth2_revoke, {NULL}, false, "oauth2_revoke"},
    {"GET", "/.well-known/oauth-authorization-server", LK_ROUTE_OPEN, lk_api_oauth2_metadata, {NULL}, false,
     "oauth2_metadata"},
    {"GET", "/rest/v1/stats/usage.json", LK_ROUTE_REST, lk_api_stats_usage, {NULL}, true, "stats_usage"},
    {"GET", "/rest/v1/stats/usage/last7days.json", LK_ROUTE_REST, lk_api_stats_usage_7days, {NULL}, true,
     "stats_usage_7days"},
    {"GET", "/rest/v1/stats/errors.json", LK_ROUTE_REST, lk_api_stats_errors, {NULL}, true, "stats_errors"},
    {"GET", "/rest/v1/stats/errors/last7days.json", LK_ROUTE_REST, lk_api_stats_errors_7days, {NULL}, true,
     "stats_errors_7days"},
    {"GET", UM "/allusers.json", LK_ROUTE_USERMGMT, lk_api_um_users, UM_PERMS, true, "um_users"},
    {"GET", UM "/roles.json", LK_ROUTE_USERMGMT, lk_api_um_roles, UM_PERMS, true, "um_roles"},
    {"GET", UM "/workspaces.json", LK_ROUTE_USERMGMT, lk_api_um_workspaces, UM_PERMS, true, "um_workspaces"},
    {"POST", UM "/invite.json", LK_ROUTE_USERMGMT, lk_api_um_invite, UM_PERMS, true, "um_invite"},
    {"GET", UM "/*/user.json", LK_ROUTE_USERMGMT, lk_api_um_user, UM_PERMS, true, "um_user"},
    {"GET", UM "/*/invite.json", LK_ROUTE_USERMGMT, lk_api_um_invited, UM_PERMS, true, "um_invited"},
    {"GET", UM "/*/roles.json", LK_ROUTE_USERMGMT, lk_api_um_user_roles, UM_PERMS, true, "um_user_roles"},
    {"POST", UM "/*/update.json", LK_ROUTE_USERMGMT, lk_api_um_update, UM_PERMS, true, "um_update"},
    {"POST", UM "/*/delete.json", LK_ROUTE_USERMGMT, lk_api_um_delete, UM_PERMS, true, "um_delete"},
    {"POST", UM "/*/invite/delete.json", LK_ROUTE_USERMGMT, lk_api_um_delete_invited, UM_PERMS, true,
     "um_delete_invited"},
    {"POST", UM "/*/roles/create.json", LK_ROUTE_USERMGMT, lk_api_um_roles_add, UM_PERMS, true, "um_roles_add"},
    {"POST", UM "/*/roles/delete.json", LK_ROUTE_USERMGMT, lk_api_um_roles_delete, UM_PERMS, true,
     "um_roles_delete"},
    /* the path is the configured auth_check_path; any method: gateways ask with GET */
    {"GET", "/auth/check", LK_ROUTE_GATEWAY, lk_gateway_check, {NULL}, true, "auth_check"},
    {"GET POST PUT DELETE", "/admin/api/", LK_ROUTE_ADMIN, lk_api_admin, {NULL}, false, "admin"},
    {"GET HEAD", "/", LK_ROUTE_OPEN, lk_api_console_file, {NULL}, false, "console"},
    {"GET HEAD", "/setup", LK_ROUTE_OPEN, lk_api_console_file, {NULL}, false, "console"},
    {"GET HEAD", "/invite", LK_ROUTE_OPEN, lk_api_console_file, {NULL}, false, "console"},
    {"GET HEAD", "/reset", LK_ROUTE_OPEN, lk_api_console_file, {NULL}, false, "console"},
    {"GET HEAD", "/console/*", LK_ROUTE_OPEN, lk_api_console_file, {NULL}, false, "console_files"},
    {"GET HEAD", "/openapi.json", LK_ROUTE_OPEN, lk_api_openapi, {NULL}, false, "openapi"},
    {"GET", "/healthz", LK_ROUTE_OPS, lk_api_healthz, {NULL}, false, "healthz"},
    {"GET", "/readyz", LK_ROUTE_OPS, lk_api_readyz, {NULL}, false, "readyz"},
    {"GET", "/metrics", LK_ROUTE_OPS, lk_api_metrics, {NULL}, false, "metrics"},
    {NULL, NULL, LK_ROUTE_OPEN, NULL, {NULL}, false, NULL},
};

size_t lk_route_count(void)
{
    size_t n = 0;
    while (lk_routes[n].path)
        n++;
    return n;
}

size_t lk_route_index(const lk_route *route)
{
    return route ? (size_t)(route - lk_routes) : lk_route_count();
}

lk_route_family lk_route_family_of(const lk_route *route)
{
    if (!route)
        return LK_FAMILY_NONE;
    switch (route->kind) {
    case LK_ROUTE_IDENTITY: return LK_FAMILY_TOKEN;
    case LK_ROUTE_REST:
    case LK_ROUTE_GATEWAY: return LK_FAMILY_REST;
    case LK_ROUTE_USERMGMT: return LK_FAMILY_USERMGMT;
    case LK_ROUTE_ADMIN: return LK_FAMILY_CONSOLE_API;
    case LK_ROUTE_OPS: return LK_FAMILY_OPS;
    case LK_ROUTE_OPEN: break;
    }
    if (route->handler == lk_api_console_file)
        return LK_FAMILY_CONSOLE;
    if (route->handler == lk_api_oauth2_metadata)
        return LK_FAMILY_TOKEN;
    return LK_FAMILY_OPS;
}

static bool method_allowed(const lk_route *rt, const char *method)
{
    size_t n = strlen(method);
    for (const char *p = rt->methods; *p;) {
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, method, n) == 0)
            return true;
        p += len;
        while (*p == ' ')
            p++;
    }
    return false;
}

bool lk_path_matches(const char *pattern, const char *path, const char **arg, size_t *arg_len)
{
    for (;;) {
        if (pattern[0] == '*' && (pattern[1] == '/' || pattern[1] == '\0')) {
            size_t len = strcspn(path, "/");
            if (len == 0)
                return false;
            *arg = path;
            *arg_len = len;
            pattern++;
            path += len;
            continue;
        }
        if (*pattern != *path)
            return false;
        if (!*pattern)
            return true;
        pattern++;
        path++;
    }
}

static const lk_route *find_route(lk_request *r)
{
    for (const lk_route *rt = lk_routes; rt->path; rt++) {
        const char *arg = NULL;
        size_t len = 0;
        if (rt->kind == LK_ROUTE_ADMIN) {
            if (strncmp(r->path, rt->path, strlen(rt->path)) == 0)
                return rt;
            continue;
        }
        if (rt->kind == LK_ROUTE_GATEWAY) {
            if (strcmp(r->path, lk_runtime_config(r->rt)->auth_check_path) == 0)
                return rt;
            continue;
        }
        if (lk_path_matches(rt->path, r->path, &arg, &len)) {
            r->path_arg = arg ? lk_arena_strndup(&r->arena, arg, len) : NULL;
            return rt;
        }
    }
    return NULL;
}

/* ---- the REST guard --------------------------------------------------------- */

/* counts an answered REST call in the statistics */
static void count_answer(lk_request *r, lk_rest_error code, bool counted)
{
    lk_usage *u = lk_runtime_usage(r->rt);
    if (counted && r->user)
        lk_usage_count_call(u, r->day.text, r->user->id, lk_cat_user_email(r->user));
    if (code) {
        char num[8];
        snprintf(num, sizeof num, "%d", (int)code);
        lk_usage_count_error(u, r->day.text, num);
    }
}

static void fail(lk_request *r, lk_rest_error code, const char *message)
{
    lk_rest_fail(r, code, message);
    count_answer(r, code, lk_rest_counts(code));
}

/* 601/602 or LK_OK-ish 0: sets r->service and r->user */
static lk_rest_error check_token(lk_request *r)
{
    if (!r->token)
        return LK_REST_TOKEN_INVALID;
    lk_token_check chk;
    lk_token_state st = lk_tokens_check(lk_runtime_tokens(r->rt), r->cat, r->token, r->now, true, &chk);
    if (st == LK_TOKEN_EXPIRED_FIRST)
        return LK_REST_TOKEN_EXPIRED;
    if (st != LK_TOKEN_VALID)
        return LK_REST_TOKEN_INVALID;
    r->service = chk.service;
    r->user = chk.user;
    r->who = lk_arena_strdup(&r->arena, lk_cat_user_email(chk.user));
    return 0;
}

static void put_limit_headers(lk_request *r, const lk_limits *lim, const lk_limit_status *st)
{
    char policy[160] = "", state[160] = "";
    size_t pn = 0, sn = 0;
    if (lim->rate_calls > 0) {
        pn += (size_t)snprintf(policy + pn, sizeof policy - pn, "\"rate\";q=%lld;w=%lld",
                               (long long)lim->rate_calls, (long long)lim->rate_seconds);
        sn += (size_t)snprintf(state + sn, sizeof state - sn, "\"rate\";r=%lld;t=%lld",
                               (long long)st->rate_remaining, (long long)st->rate_reset);
    }
    if (lim->daily > 0) {
        pn += (size_t)snprintf(policy + pn, sizeof policy - pn, "%s\"daily\";q=%lld;w=86400", pn ? ", " : "",
                               (long long)lim->daily);
        sn += (size_t)snprintf(state + sn, sizeof state - sn, "%s\"daily\";r=%lld;t=%lld", sn ? ", " : "",
                               (long long)st->daily_remaining, (long long)(r->day.next_midnight - r->now));
    }
    if (pn)
        lk_resp_header(r, "RateLimit-Policy", policy);
    if (sn)
        lk_resp_header(r, "RateLimit", state);
}

/* the stricter of two limits of one kind (0 = none) */
static int64_t stricter(int64_t a, int64_t b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    return a < b ? a : b;
}

static lk_rest_error verdict_code(lk_limit_verdict v)
{
    switch (v) {
    case LK_LIMIT_CONCURRENT: return LK_REST_CONCURRENT;
    case LK_LIMIT_RATE: return LK_REST_RATE_LIMIT;
    case LK_LIMIT_DAILY: return LK_REST_DAILY_QUOTA;
    case LK_LIMIT_OK: break;
    }
    return 0;
}

static const char *limit_message(lk_request *r, lk_limit_verdict v, const lk_limits *lim)
{
    if (v == LK_LIMIT_RATE)
        return lk_arena_printf(&r->arena, "Max rate limit '%lld' exceeded with in '%lld' secs",
                               (long long)lim->rate_calls, (long long)lim->rate_seconds);
    if (v == LK_LIMIT_CONCURRENT)
        return lk_arena_printf(&r->arena, "Concurrent access limit '%lld' reached", (long long)lim->concurrent);
    return NULL;
}

static void metric_limit(lk_limit_verdict v)
{
    if (v == LK_LIMIT_RATE)
        lk_metrics_limit_rejected(LK_METRIC_RATE);
    else if (v == LK_LIMIT_DAILY)
        lk_metrics_limit_rejected(LK_METRIC_DAILY);
    else if (v == LK_LIMIT_CONCURRENT)
        lk_metrics_limit_rejected(LK_METRIC_CONCURRENT);
}

/* the limiters' clock: monotonic seconds (limiter.h), the instant the request began */
static int64_t window_now(const lk_request *r)
{
    return (int64_t)(r->started_ns / 1000000000ULL);
}

/* enters the instance's and the user's limiters (kept in r->held until
 * leave_limits); false when one refused, after answering */
static bool enter_limits(lk_request *r)
{
    const lk_limits *inst = lk_catalog_instance_limits(r->cat);
    lk_limiter *li = lk_runtime_instance_limiter(r->rt);
    lk_limit_status st_i = {0}, st_u = {0};
    lk_limit_verdict vi = lk_limiter_enter(li, inst, window_now(r), r->day.number, &st_i);
    lk_limit_verdict vu = LK_LIMIT_OK;
    lk_limiter *lu = NULL;
    lk_limits shown = *inst;
    lk_limit_status st = st_i;
    const lk_limits *own = lk_cat_user_limits(r->user);
    if (own) {
        lu = lk_runtime_user_limiter(r->rt, r->user->id, &r->day);
        vu = lk_limiter_enter(lu, own, window_now(r), r->day.number, &st_u);
        /* headers show whichever scope leaves the caller less */
        if (own->rate_calls && (!inst->rate_calls || st_u.rate_remaining < st_i.rate_remaining)) {
            shown.rate_calls = own->rate_calls;
            shown.rate_seconds = own->rate_seconds;
            st.rate_remaining = st_u.rate_remaining;
            st.rate_reset = st_u.rate_reset;
        }
        shown.daily = stricter(inst->daily, own->daily);
        if (own->daily && (!inst->daily || st_u.daily_remaining < st_i.daily_remaining))
            st.daily_remaining = st_u.daily_remaining;
    }
    put_limit_headers(r, &shown, &st);
    if (vi == LK_LIMIT_OK)
        r->held[0] = li;
    if (lu && vu == LK_LIMIT_OK)
        r->held[1] = lu;
    lk_limit_verdict v = vi != LK_LIMIT_OK ? vi : vu;
    if (v == LK_LIMIT_OK)
        return true;
    metric_limit(v);
    fail(r, verdict_code(v), limit_message(r, v, vi != LK_LIMIT_OK ? inst : own));
    return false;
}

/* the call leaves the limiters it entered: counted (it stays in the window and
 * the day), or not (its answer does not count: it leaves them as if never made) */
static void release_limits(lk_request *r, bool counted)
{
    for (size_t i = 0; i < 2; i++) {
        if (!r->held[i])
            continue;
        if (counted)
            lk_limiter_leave(r->held[i]);
        else
            lk_limiter_leave_uncounted(r->held[i], window_now(r), r->day.number);
        r->held[i] = NULL;
    }
    for (size_t i = 0; i < 2; i++) {
        if (r->parked[i] && !counted)
            lk_limiter_uncount(r->parked[i], window_now(r), r->day.number);
        r->parked[i] = NULL;
    }
}

/* A call about to wait for the store worker leaves the calls in flight (615) but stays
 * counted: a database that stalls the worker must not fill the in-flight places that
 * REST calls answered from memory need. The store worker runs such calls one at a
 * time, which bounds them instead. */
static void park_limits(lk_request *r)
{
    for (size_t i = 0; i < 2; i++) {
        if (!r->held[i])
            continue;
        lk_limiter_leave(r->held[i]);
        r->parked[i] = r->held[i];
        r->held[i] = NULL;
    }
}

static void leave_limits(lk_request *r)
{
    release_limits(r, true);
}

/* after a counted call's handler: a handler that answered with an error left its
 * code in r->code; an answer that does not count (611) is taken out of the limits */
static void finish_counted(lk_request *r)
{
    lk_rest_error code = r->code ? (lk_rest_error)atoi(r->code) : 0;
    bool counts = code != LK_REST_SYSTEM_ERROR;
    count_answer(r, code, counts);
    release_limits(r, counts);
}

void lk_dispatch_cancel(lk_request *r)
{
    r->deferred = false;
    r->resume = NULL;
    release_limits(r, false);
    static const char msg[] = "the server is stopping; try again shortly";
    if (r->bare)
        lk_bare_fail(r, 503, LK_REST_UNAVAILABLE, lk_rest_message(LK_REST_UNAVAILABLE));
    else
        lk_resp_json(r, 503, json_pack("{s:{s:s, s:s, s:s}}", "error", "code", "unavailable", "message", msg,
                                        "field", ""));
}

/* does the caller's user hold every permission the route needs? */
static bool permitted(lk_request *r, const lk_route *route)
{
    for (size_t i = 0; i < 2 && route->permissions[i]; i++)
        if (!lk_catalog_user_has(r->cat, r->user, lk_catalog_permission(r->cat, route->permissions[i])))
            return false;
    return true;
}

/* A call that waited for the store worker is checked again against the catalog of
 * now: a revocation, lock or role change that committed meanwhile (an admin's call
 * queued before it, say) applies to it. False after answering. */
static bool still_admitted(lk_request *r)
{
    r->cat = lk_runtime_catalog(r->rt);
    lk_rest_error code = check_token(r);
    if (!code && !lk_catalog_allows(r->cat, &r->client))
        code = LK_REST_ACCESS_DENIED;
    if (!code && !permitted(r, r->route))
        code = LK_REST_ACCESS_DENIED;
    if (!code)
        return true;
    fail(r, code, NULL);
    release_limits(r, lk_rest_counts(code));
    return false;
}

void lk_dispatch_deferred(lk_request *r)
{
    r->deferred = false;
    if (r->resume) {
        void (*resume)(lk_request *) = r->resume;
        r->resume = NULL;
        resume(r);
    } else if (r->route->kind != LK_ROUTE_USERMGMT || still_admitted(r)) {
        r->route->handler(r);
        if (r->route->counts)
            finish_counted(r);
    }
    lk_dispatch_release(r);
}

void lk_dispatch_release(lk_request *r)
{
    if (r->cat)
        lk_catalog_read_end(r->cat);
    r->cat = NULL;
    r->service = NULL;
    r->user = NULL;
}

/* a counted call refused before the limits (603, 610) still counts in them */
static void fail_counted(lk_request *r, lk_rest_error code)
{
    lk_limiter *li = lk_runtime_instance_limiter(r->rt);
    if (lk_limiter_enter(li, lk_catalog_instance_limits(r->cat), window_now(r), r->day.number, NULL) == LK_LIMIT_OK)
        lk_limiter_leave(li);
    const lk_limits *own = lk_cat_user_limits(r->user);
    if (own) {
        lk_limiter *lu = lk_runtime_user_limiter(r->rt, r->user->id, &r->day);
        if (lk_limiter_enter(lu, own, window_now(r), r->day.number, NULL) == LK_LIMIT_OK)
            lk_limiter_leave(lu);
    }
    fail(r, code, NULL);
}

/* "GET POST" -> "GET, POST" */
static const char *allow_header(lk_request *r, const lk_route *route)
{
    const char *out = "";
    const char *p = route->methods;
    while (*p) {
        size_t len = strcspn(p, " ");
        out = lk_arena_printf(&r->arena, "%s%s%.*s", out, *out ? ", " : "", (int)len, p);
        p += len;
        p += strspn(p, " ");
    }
    return out;
}

/* does the caller hold the permission a gateway route asks for (any one of them)? */
static bool gw_permitted(lk_request *r, const lk_gw_route *gw)
{
    if (gw->n_permissions == 0)
        return true;
    for (size_t i = 0; i < gw->n_permissions; i++)
        if (lk_catalog_user_has(r->cat, r->user, lk_catalog_permission(r->cat, gw->permissions[i])))
            return true;
    return false;
}

bool lk_guard_admit(lk_request *r, const lk_guard_target *t)
{
    lk_rest_error code = check_token(r);
    if (code) {
        fail(r, code, NULL);
        return false;
    }
    if (!lk_catalog_allows(r->cat, &r->client)) {
        fail_counted(r, LK_REST_ACCESS_DENIED);
        return false;
    }
    if (t->found == LK_GW_NONE) {
        fail_counted(r, LK_REST_NOT_FOUND);
        return false;
    }
    if (t->found == LK_GW_METHOD) {
        if (t->allow)
            lk_resp_header(r, "Allow", t->allow);
        fail(r, LK_REST_METHOD_NOT_SUPPORTED, NULL);
        return false;
    }
    if (t->bad_body) {
        fail_counted(r, LK_REST_CONTENT_TYPE);
        return false;
    }
    if (t->route ? !permitted(r, t->route) : t->gw ? !gw_permitted(r, t->gw) : false) {
        fail_counted(r, LK_REST_ACCESS_DENIED);
        return false;
    }
    if (t->counts && !enter_limits(r)) {
        leave_limits(r);
        return false;
    }
    return true;
}

void lk_guard_finish(lk_request *r)
{
    finish_counted(r);
}

static void guard_rest(lk_request *r, const lk_route *route)
{
    lk_rest_input in;
    lk_rest_input_read(r, !r->bare && lk_runtime_config(r->rt)->legacy_query_token, &in);
    r->token = in.token;
    lk_guard_target t = {
        .found = !route ? LK_GW_NONE : method_allowed(route, in.method) ? LK_GW_MATCH : LK_GW_METHOD,
        .route = route,
        .counts = route && route->counts,
        .bad_body = in.bad_body,
    };
    if (t.found == LK_GW_METHOD && r->bare)
        t.allow = allow_header(r, route);
    if (!lk_guard_admit(r, &t))
        return;
    if (route->kind == LK_ROUTE_USERMGMT) {
        park_limits(r);
        r->deferred = true;    /* the caller runs lk_dispatch_deferred on the store worker */
        return;
    }
    lk_dispatch_deferred(r);
}

/* ---- dispatch ------------------------------------------------------------------ */


static void not_found(lk_request *r)
{
    lk_resp_json(r, 404, json_pack("{s:s, s:s}", "error", "not_found", "error_description", "no such resource"));
}

void lk_dispatch(lk_request *r)
{
    const lk_route *route = find_route(r);
    /* the management listener serves the operations routes only, and takes them
     * off the public port */
    bool ops = route && route->kind == LK_ROUTE_OPS;
    if (r->management ? !ops : ops && lk_runtime_config(r->rt)->management_listen[0])
        route = NULL;
    r->route = route;
    if (r->management && !route)
        return not_found(r);
    bool rest = route ? route->kind == LK_ROUTE_REST || route->kind == LK_ROUTE_USERMGMT
                      : strncmp(r->path, "/rest/", 6) == 0 || strncmp(r->path, "/userservice/", 13) == 0;
    r->bare = route ? route->kind == LK_ROUTE_USERMGMT : strncmp(r->path, "/userservice/", 13) == 0;
    if (route && route->kind == LK_ROUTE_GATEWAY) {
        r->cat = lk_runtime_catalog(r->rt);
        lk_runtime_day(r->rt, r->now, &r->day);
        route->handler(r);
        return;
    }
    if (route && route->kind == LK_ROUTE_ADMIN) {
        if (!lk_api_admin_gate(r)) {
            r->deferred = true; /* the caller runs lk_dispatch_deferred on the store worker */
            r->password_pool = lk_api_admin_hashes(r);
        }
        return;
    }
    if (route && !rest) {
        if (!method_allowed(route, r->method)) {
            lk_resp_header(r, "Allow", allow_header(r, route));
            lk_resp_json(r, 405, json_pack("{s:s, s:s}", "error", "method_not_allowed", "error_description",
                                           "this method is not supported here"));
            return;
        }
        route->handler(r);
        return;
    }
    if (rest) {
        r->cat = lk_runtime_catalog(r->rt);
        lk_runtime_day(r->rt, r->now, &r->day);
        guard_rest(r, route);
        return;
    }
    not_found(r);
}
