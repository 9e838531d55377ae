/*
 * authz — holdings and the trust rules (see authz.h), and the "Denied" audit event
 * that every refusal leaves.
 *
 * Holdings are small (roles x permissions, a few hundred pairs at most), so they are
 * plain arrays scanned linearly. The caller's are read inside the transaction of the
 * change they guard (lk_tx_begin forgets an earlier read), so that what was checked
 * still holds at commit.
 */
#include "core/authz.h"
#include "core/audit.h"
#include "core/internal.h"
#include "core/permission.h"
#include "core/user.h"
#include "util/text.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

bool lk_authz_applies(lk_caller_kind kind, lk_perm_group group, const char *perm)
{
    if (kind != LK_CALLER_TOKEN)
        return true;
    return group == LK_GROUP_API || lk_str_ieq(perm, LK_PERM_ACCESS_USERS);
}

/* ---- holdings ---------------------------------------------------------------------- */

typedef struct builder {
    lk_op *op;
    lk_holdings *h;
    size_t cap;
} builder;

static void push(builder *b, const char *perm, lk_perm_group group, int64_t ws, const char *ws_name)
{
    lk_holdings *h = b->h;
    for (size_t i = 0; i < h->n; i++)
        if (h->items[i].workspace_id == ws && lk_str_ieq(h->items[i].perm, perm))
            return;
    if (h->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 32;
        h->items = lk_arena_grow(b->op->arena, h->items, h->n * sizeof *h->items, cap * sizeof *h->items);
        b->cap = cap;
    }
    h->items[h->n++] = (lk_holding){.perm = perm, .group = group, .workspace_id = ws, .workspace = ws_name};
}

lk_code lk_holdings_of(lk_op *op, const lk_user *u, lk_caller_kind kind, lk_holdings *out)
{
    *out = (lk_holdings){0};
    builder b = {.op = op, .h = out};
    bool superuser = false;
    for (size_t g = 0; g < u->n_grants; g++)
        superuser |= u->grants[g].role_id == LK_ROLE_ADMIN && u->grants[g].workspace_id == LK_WORKSPACE_ALLZONES;
    if (superuser && kind == LK_CALLER_PERSON) {
        lk_permission *perms = NULL;
        size_t n = 0;
        lk_code rc = op->store->ops->permission_list(op->store, op->arena, &perms, &n, &op->err);
        if (rc != LK_OK)
            return rc;
        out->superuser = true;
        for (size_t i = 0; i < n; i++)
            push(&b, perms[i].name, perms[i].group, LK_WORKSPACE_ALLZONES, "AllZones");
        return LK_OK;
    }
    for (size_t g = 0; g < u->n_grants; g++) {
        const lk_grant *gr = &u->grants[g];
        lk_role r;
        lk_code rc = op->store->ops->role_get(op->store, op->arena, gr->role_id, &r, &op->err);
        if (rc != LK_OK)
            return rc;
        for (size_t p = 0; p < r.n_perms; p++)
            if (lk_authz_applies(kind, r.perms[p].group, r.perms[p].name))
                push(&b, r.perms[p].name, r.perms[p].group, gr->workspace_id, gr->workspace_name);
    }
    return LK_OK;
}

bool lk_holds(const lk_holdings *h, const char *perm, int64_t ws)
{
    if (!h || !perm)
        return false;
    if (h->superuser)
        return true;
    for (size_t i = 0; i < h->n; i++) {
        const lk_holding *it = &h->items[i];
        if ((ws == LK_WORKSPACE_ANY || it->workspace_id == ws || it->workspace_id == LK_WORKSPACE_ALLZONES) &&
            lk_str_ieq(it->perm, perm))
            return true;
    }
    return false;
}

const char **lk_holdings_names(lk_op *op, const lk_holdings *h, lk_perm_group g, size_t *n)
{
    const char **names = lk_arena_alloc(op->arena, (h->n + 1) * sizeof *names);
    *n = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (h->items[i].group != g)
            continue;
        bool seen = false;
        for (size_t k = 0; k < *n && !seen; k++)
            seen = lk_str_ieq(names[k], h->items[i].perm);
        if (!seen)
            names[(*n)++] = h->items[i].perm;
    }
    return names;
}

lk_code lk_authz_caller(lk_op *op, const lk_holdings **out)
{
    *out = NULL;
    if (!op->caller)
        return LK_OK;
    if (op->held) {
        *out = op->held;
        return LK_OK;
    }
    lk_user u;
    lk_code rc = op->store->ops->user_get(op->store, op->arena, op->caller->user_id, &u, &op->err);
    if (rc == LK_ENOTFOUND)
        u = (lk_user){.id = op->caller->user_id}; /* deleted meanwhile: holds nothing */
    else if (rc != LK_OK)
        return rc;
    lk_holdings *h = lk_arena_alloc(op->arena, sizeof *h);
    if ((rc = lk_holdings_of(op, &u, op->caller->kind, h)) != LK_OK)
        return rc;
    op->held = h;
    *out = h;
    return LK_OK;
}

/* ---- refusals ----------------------------------------------------------------------- */

/* Refuses: LK_EDENIED with the message, and the Denied event to record (details:
 * the message, what was attempted, and `extra`, stolen, may be NULL). */
static lk_code deny(lk_op *op, const char *attempt, const char *target, json_t *extra, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static lk_code deny(lk_op *op, const char *attempt, const char *target, json_t *extra, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *msg = lk_arena_vprintf(op->arena, fmt, ap);
    va_end(ap);
    lk_fail(&op->err, LK_EDENIED, "", "%s", msg);
    json_t *d = json_object();
    json_object_set_new(d, "attempted", json_string(attempt));
    json_object_set_new(d, "caller", json_string(op->caller && op->caller->kind == LK_CALLER_TOKEN ? "token"
                                                                                                  : "person"));
    json_object_set_new(d, "message", json_string(op->err.msg));
    if (extra)
        json_object_update(d, extra);
    json_decref(extra);
    char *text = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(d);
    op->denied.action = attempt;
    op->denied.target = lk_arena_strdup(op->arena, target ? target : "");
    op->denied.details = text ? lk_arena_strdup(op->arena, text) : "{}";
    free(text);
    if (op->tx_depth == 0)
        lk_authz_record_denied(op);
    return LK_EDENIED;
}

void lk_authz_record_denied(lk_op *op)
{
    if (!op->denied.action)
        return;
    /* the refusal's message stays in op->err whatever happens here */
    lk_error saved = op->err;
    lk_code rc = op->store->ops->begin(op->store, &op->err);
    if (rc == LK_OK) {
        rc = lk_audit_record(op, "Denied", op->denied.action, op->denied.target, op->denied.details);
        if (rc == LK_OK)
            rc = op->store->ops->commit(op->store, &op->err);
        else
            op->store->ops->rollback(op->store);
    }
    op->err = saved;
    op->denied.action = NULL; /* recorded; target and details stay for the front end's answer */
}

static json_t *missing(const char *perm, const char *ws)
{
    json_t *m = json_pack("{s:s}", "permission", perm);
    if (ws)
        json_object_set_new(m, "workspace", json_string(ws));
    return json_pack("{s:o}", "missing", m);
}

lk_code lk_authz_require(lk_op *op, const char *attempt, const char *perm, const char *alt)
{
    const lk_holdings *h;
    lk_code rc = lk_authz_caller(op, &h);
    if (rc != LK_OK || !h || lk_holds(h, perm, LK_WORKSPACE_ANY) || (alt && lk_holds(h, alt, LK_WORKSPACE_ANY)))
        return rc;
    if (alt)
        return deny(op, attempt, "", missing(perm, NULL), "Access denied: you hold neither '%s' nor '%s'", perm,
                    alt);
    return deny(op, attempt, "", missing(perm, NULL), "Access denied: you do not hold '%s'", perm);
}

lk_code lk_authz_grant(lk_op *op, const char *attempt, const char *target, const lk_role *r, int64_t ws_id,
                       const char *ws_name)
{
    const lk_holdings *h;
    lk_code rc = lk_authz_caller(op, &h);
    if (rc != LK_OK || !h)
        return rc;
    for (size_t i = 0; i < r->n_perms; i++) {
        const char *p = r->perms[i].name;
        if (lk_holds(h, p, ws_id))
            continue;
        json_t *x = missing(p, ws_name);
        json_object_set_new(x, "role", json_string(r->name));
        return deny(op, attempt, target, x,
                    "Access denied: you do not hold '%s' in workspace '%s', which role '%s' includes; "
                    "you can only give a role whose permissions you hold there",
                    p, ws_name, r->name);
    }
    return LK_OK;
}

lk_code lk_authz_act_on(lk_op *op, const char *attempt, const lk_user *t)
{
    const lk_holdings *h;
    lk_code rc = lk_authz_caller(op, &h);
    if (rc != LK_OK || !h)
        return rc;
    lk_holdings th;
    if ((rc = lk_holdings_of(op, t, LK_CALLER_PERSON, &th)) != LK_OK)
        return rc;
    for (size_t i = 0; i < th.n; i++) {
        const lk_holding *it = &th.items[i];
        if (lk_holds(h, it->perm, it->workspace_id))
            continue;
        json_t *x = missing(it->perm, it->workspace);
        json_object_set_new(x, "holder", json_string(t->email));
        return deny(op, attempt, t->email, x,
                    "Access denied: you do not hold '%s' in workspace '%s', which %s holds; "
                    "you can only act on users whose permissions you hold",
                    it->perm, it->workspace ? it->workspace : "", t->email);
    }
    return LK_OK;
}

lk_code lk_authz_not_self(lk_op *op, const char *attempt, const lk_user *t, const char *what)
{
    if (!op->caller || op->caller->user_id != t->id)
        return LK_OK;
    return deny(op, attempt, t->email, json_pack("{s:s}", "self", what),
                "Access denied: you cannot change your own %s; another administrator can", what);
}

/* the workspaces where someone holds role id, as grants (workspace id and name) */
static lk_code role_workspaces(lk_op *op, int64_t role_id, lk_grant **out, size_t *n)
{
    lk_workspace *ws = NULL;
    *out = NULL;
    *n = 0;
    lk_code rc = op->store->ops->role_workspaces(op->store, op->arena, role_id, &ws, n, &op->err);
    if (rc != LK_OK || *n == 0)
        return rc;
    *out = lk_arena_alloc(op->arena, *n * sizeof **out);
    for (size_t i = 0; i < *n; i++)
        (*out)[i] = (lk_grant){.role_id = role_id, .workspace_id = ws[i].id, .workspace_name = ws[i].name};
    return LK_OK;
}

/* p is held in every workspace of ws (in some workspace when n_ws is 0) */
static lk_code role_perm(lk_op *op, const lk_holdings *h, const char *attempt, const char *role, const char *p,
                         const lk_grant *ws, size_t n_ws)
{
    if (n_ws == 0) {
        if (lk_holds(h, p, LK_WORKSPACE_ANY))
            return LK_OK;
        json_t *x = missing(p, NULL);
        json_object_set_new(x, "role", json_string(role));
        return deny(op, attempt, role, x,
                    "Access denied: you do not hold '%s', which role '%s' includes or would include; "
                    "a role can only have permissions you hold",
                    p, role);
    }
    for (size_t w = 0; w < n_ws; w++) {
        if (lk_holds(h, p, ws[w].workspace_id))
            continue;
        json_t *x = missing(p, ws[w].workspace_name);
        json_object_set_new(x, "role", json_string(role));
        return deny(op, attempt, role, x,
                    "Access denied: you do not hold '%s' in workspace '%s', where role '%s' is held and which it "
                    "includes or would include; a role edit changes everyone who holds it",
                    p, ws[w].workspace_name, role);
    }
    return LK_OK;
}

lk_code lk_authz_role(lk_op *op, const char *attempt, const char *role_name, const lk_role *r,
                      const lk_permission *after, size_t n_after)
{
    const lk_holdings *h;
    lk_code rc = lk_authz_caller(op, &h);
    if (rc != LK_OK || !h)
        return rc;
    lk_grant *ws = NULL;
    size_t n_ws = 0;
    if (r && (rc = role_workspaces(op, r->id, &ws, &n_ws)) != LK_OK)
        return rc;
    for (size_t i = 0; r && i < r->n_perms; i++)
        if ((rc = role_perm(op, h, attempt, role_name, r->perms[i].name, ws, n_ws)) != LK_OK)
            return rc;
    for (size_t i = 0; i < n_after; i++)
        if ((rc = role_perm(op, h, attempt, role_name, after[i].name, ws, n_ws)) != LK_OK)
            return rc;
    return LK_OK;
}
