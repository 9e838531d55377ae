/*
 * gwroute — the gateway's route table (rules in gwroute.h).
 *
 * Invariants: a route names only permissions a token can hold (core/authz.h); the audit details of a change are the route itself (method, pattern,
 * permissions, style), never anything secret; an import records one event with how
 * many routes it added, not one per route.
 */
#include "core/gwroute.h"
#include "core/authz.h"
#include "core/gwpath.h"
#include "core/internal.h"

#include <string.h>

bool lk_gwroute_method_ok(const char *method)
{
    if (!method || !*method)
        return false;
    if (strcmp(method, "*") == 0)
        return true;
    size_t n = 0;
    for (const char *p = method; *p; p++, n++)
        if (*p < 'A' || *p > 'Z')
            return false;
    return n <= 16;
}

lk_code lk_gwroute_list(lk_op *op, lk_gw_route **out, size_t *n)
{
    return op->store->ops->gwroute_list(op->store, op->arena, out, n, &op->err);
}

static json_t *snap(const lk_gw_route *r)
{
    json_t *perms = json_array();
    for (size_t i = 0; i < r->n_permissions; i++)
        json_array_append_new(perms, json_string(r->permissions[i]));
    return json_pack("{s:s, s:s, s:o, s:s}", "method", r->method, "pattern", r->pattern, "permissions", perms,
                     "style", r->plain ? "plain" : "marketo");
}

/* checks *in and puts the permissions' stored names (as the table spells them) in
 * the op's arena; repeated names are kept once */
static lk_code check(lk_op *op, lk_gw_route *in)
{
    const char *why = "";
    if (!lk_gwroute_method_ok(in->method))
        return lk_fail(&op->err, LK_EINVAL, "method",
                       "'%.20s' is not a method: upper-case letters (GET, POST, ...) or '*' for any",
                       in->method ? in->method : "");
    if (!lk_gwpath_pattern_ok(in->pattern, &why))
        return lk_fail(&op->err, LK_EINVAL, "pattern", "'%.80s' is not a route pattern: %s",
                       in->pattern ? in->pattern : "", why);
    if (in->n_permissions > LK_GWROUTE_MAX_PERMS)
        return lk_fail(&op->err, LK_EINVAL, "permission", "a route names at most %d permissions",
                       LK_GWROUTE_MAX_PERMS);
    const char **names = lk_arena_alloc(op->arena, (in->n_permissions ? in->n_permissions : 1) * sizeof *names);
    size_t kept = 0;
    for (size_t i = 0; i < in->n_permissions; i++) {
        lk_permission p;
        lk_error err = {0};
        lk_code rc = op->store->ops->permission_find(op->store, op->arena, in->permissions[i], &p, &err);
        if (rc == LK_ENOTFOUND)
            return lk_fail(&op->err, LK_ENOTFOUND, "permission", "no permission named '%.80s' (see 'permission list')",
                           in->permissions[i]);
        if (rc != LK_OK) {
            op->err = err;
            return rc;
        }
        /* the catalog gives a token only these: a route needing another could never pass */
        if (!lk_authz_applies(LK_CALLER_TOKEN, p.group, p.name))
            return lk_fail(&op->err, LK_EINVAL, "permission",
                           "'%.80s' is not an Access API permission: no access token holds it", p.name);
        bool seen = false;
        for (size_t j = 0; j < kept; j++)
            seen = seen || strcmp(names[j], p.name) == 0;
        if (!seen)
            names[kept++] = p.name;
    }
    in->permissions = names;
    in->n_permissions = kept;
    return LK_OK;
}

lk_code lk_gwroute_add(lk_op *op, lk_gw_route *in)
{
    lk_code rc = check(op, in);
    if (rc != LK_OK)
        return rc;
    in->created_at = op->now;
    if ((rc = lk_tx_begin(op)) != LK_OK)
        return rc;
    rc = op->store->ops->gwroute_insert(op->store, in, &op->err);
    if (rc == LK_OK)
        rc = lk_audit_json(op, "Web Services", "Add Route",
                           lk_arena_printf(op->arena, "%s %s", in->method, in->pattern), snap(in));
    return lk_tx_end(op, rc);
}

static lk_code delete_locked(lk_op *op, const char *method, const char *pattern, lk_gw_route *gone)
{
    lk_gw_route *all = NULL;
    size_t n = 0;
    lk_code rc = lk_gwroute_list(op, &all, &n);
    if (rc != LK_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(all[i].method, method) != 0 || strcmp(all[i].pattern, pattern) != 0)
            continue;
        rc = op->store->ops->gwroute_delete(op->store, all[i].id, &op->err);
        if (rc == LK_OK)
            rc = lk_audit_json(op, "Web Services", "Delete Route",
                               lk_arena_printf(op->arena, "%s %s", method, pattern), snap(&all[i]));
        if (rc == LK_OK && gone)
            *gone = all[i];
        return rc;
    }
    return lk_fail(&op->err, LK_ENOTFOUND, "route", "no route for %.20s %.200s (see 'route list')", method, pattern);
}

lk_code lk_gwroute_delete(lk_op *op, const char *method, const char *pattern, lk_gw_route *gone)
{
    if (!method || !pattern)
        return lk_fail(&op->err, LK_EINVAL, "route", "a route is named by its method and pattern");
    lk_code rc = lk_tx_begin(op);
    if (rc != LK_OK)
        return rc;
    return lk_tx_end(op, delete_locked(op, method, pattern, gone));
}

static bool has(const lk_gw_route *all, size_t n, const char *method, const char *pattern)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].method, method) == 0 && strcmp(all[i].pattern, pattern) == 0)
            return true;
    return false;
}

static lk_code import_locked(lk_op *op, size_t *added, size_t *kept)
{
    lk_gw_route *all = NULL;
    size_t n = 0;
    lk_code rc = lk_gwroute_list(op, &all, &n);
    for (const lk_gwroute_builtin *b = lk_gwroute_marketo; rc == LK_OK && b->method; b++) {
        if (has(all, n, b->method, b->pattern)) {
            (*kept)++;
            continue;
        }
        lk_gw_route r = {.method = b->method, .pattern = b->pattern, .permissions = (const char **)b->permissions};
        while (r.n_permissions < 5 && b->permissions[r.n_permissions])
            r.n_permissions++;
        rc = check(op, &r);
        if (rc == LK_OK) {
            r.created_at = op->now;
            rc = op->store->ops->gwroute_insert(op->store, &r, &op->err);
        }
        if (rc == LK_OK)
            (*added)++;
    }
    if (rc == LK_OK && *added)
        rc = lk_audit_json(op, "Web Services", "Import Routes", "marketo",
                           json_pack("{s:s, s:I, s:I}", "map", "marketo", "added", (json_int_t)*added, "kept",
                                     (json_int_t)*kept));
    return rc;
}

lk_code lk_gwroute_import_marketo(lk_op *op, size_t *added, size_t *kept)
{
    *added = *kept = 0;
    lk_code rc = lk_tx_begin(op);
    if (rc != LK_OK)
        return rc;
    rc = lk_tx_end(op, import_locked(op, added, kept));
    if (rc != LK_OK)
        *added = *kept = 0;
    return rc;
}

/* how well a route's method fits the call's: 3 the same, 2 GET for a HEAD, 1 '*', 0 not */
static int method_fit(const char *route, const char *call)
{
    if (strcmp(route, call) == 0)
        return 3;
    if (strcmp(call, "HEAD") == 0 && strcmp(route, "GET") == 0)
        return 2;
    return strcmp(route, "*") == 0 ? 1 : 0;
}

lk_gw_found lk_gwroute_pick(const lk_gw_route *routes, size_t n, const char *method, const char *path,
                            const lk_gw_route **out)
{
    return lk_gwroute_pick_some(routes, NULL, n, method, path, out);
}

lk_gw_found lk_gwroute_pick_some(const lk_gw_route *routes, const uint32_t *idx, size_t n, const char *method,
                                 const char *path, const lk_gw_route **out)
{
    const lk_gw_route *best = NULL, *any = NULL;
    int best_fit = 0;
    for (size_t i = 0; i < n; i++) {
        const lk_gw_route *r = &routes[idx ? idx[i] : i];
        if (!lk_gwpath_match(r->pattern, path))
            continue;
        if (!any || lk_gwpath_compare(r->pattern, any->pattern) > 0)
            any = r;
        int fit = method_fit(r->method, method);
        if (!fit)
            continue;
        int cmp = best ? lk_gwpath_compare(r->pattern, best->pattern) : 1;
        if (cmp > 0 || (cmp == 0 && fit > best_fit)) {
            best = r;
            best_fit = fit;
        }
    }
    *out = best ? best : any;
    return best ? LK_GW_MATCH : any ? LK_GW_METHOD : LK_GW_NONE;
}
