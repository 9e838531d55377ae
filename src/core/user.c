/*
 * user — inviting, changing, locking and deleting users (rules in user.h).
 *
 * Every mutating function reads what it checks inside its own write transaction,
 * so a rule that held when checked still holds at commit. "Active Admin" means a
 * user who is not API-only, holds the Admin role and whose effective status is
 * active; the last one is protected.
 */
#include "core/user.h"
#include "core/authz.h"
#include "core/mailq.h"
#include "core/internal.h"
#include "core/role.h"
#include "core/secret.h"
#include "core/workspace.h"
#include "util/text.h"
#include "util/timefmt.h"

#include <sodium.h>
#include <string.h>

const char *lk_user_status_name(lk_user_status s)
{
    switch (s) {
    case LK_STATUS_PENDING: return "pending";
    case LK_STATUS_ACTIVE: return "active";
    case LK_STATUS_LOCKED: return "locked";
    }
    return "unknown";
}

lk_user_status lk_user_effective_status(const lk_user *u, int64_t now, const char **reason)
{
    const char *why = "";
    lk_user_status s = u->status;
    if (s == LK_STATUS_LOCKED) {
        why = u->lock_reason && *u->lock_reason ? u->lock_reason : "locked by an administrator";
    } else if (s == LK_STATUS_ACTIVE && u->expires_at && now >= u->expires_at) {
        s = LK_STATUS_LOCKED;
        why = "access expired";
    }
    if (reason)
        *reason = why;
    return s;
}

bool lk_user_is_admin(const lk_user *u)
{
    for (size_t i = 0; i < u->n_grants; i++)
        if (u->grants[i].role_id == LK_ROLE_ADMIN)
            return true;
    return false;
}

static bool counts_as_active_admin(const lk_user *u, int64_t now)
{
    return !u->api_only && lk_user_is_admin(u) && lk_user_effective_status(u, now, NULL) == LK_STATUS_ACTIVE;
}

/* someone became an Admin: the other Admins are told, and a pending setup link dies */
static lk_code admin_added(lk_op *op, const lk_user *u)
{
    lk_code rc = lk_mailq_admin_change(op, u, true);
    if (rc == LK_OK && !u->api_only)
        rc = lk_setup_forget(op);
    return rc;
}

/* LK_ELASTADMIN if `u` is an active Admin and no other active Admin exists */
static lk_code check_not_last_admin(lk_op *op, const lk_user *u, const char *what)
{
    if (!counts_as_active_admin(u, op->now))
        return LK_OK;
    lk_user *holders = NULL;
    size_t n = 0;
    lk_code rc = op->store->ops->role_holders(op->store, op->arena, LK_ROLE_ADMIN, &holders, &n, &op->err);
    if (rc != LK_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (holders[i].id != u->id && counts_as_active_admin(&holders[i], op->now))
            return LK_OK;
    return lk_fail(&op->err, LK_ELASTADMIN, "user",
                   "%s is the last active Admin and cannot be %s; make another user Admin first",
                   u->email, what);
}

lk_code lk_user_find(lk_op *op, const char *key, lk_user *out)
{
    if (!key || !*key)
        return lk_fail(&op->err, LK_EINVAL, "user", "user email cannot be blank");
    lk_code rc = op->store->ops->user_find(op->store, op->arena, key, out, &op->err);
    if (rc == LK_ENOTFOUND)
        return lk_fail(&op->err, LK_ENOTFOUND, "user", "no user '%.254s' (see 'user list')", key);
    return rc;
}

lk_code lk_user_list_page(lk_op *op, const lk_user_filter *f, lk_user **out, size_t *n)
{
    return op->store->ops->user_list(op->store, op->arena, f, out, n, &op->err);
}

lk_code lk_user_count(lk_op *op, const lk_user_filter *f, int64_t cap, int64_t *n)
{
    return op->store->ops->user_count(op->store, f, cap, n, &op->err);
}

/* ---- grants ---------------------------------------------------------------- */

/* resolved grants plus the roles they name (for permission checks) */
typedef struct grant_set {
    lk_grant *items;
    lk_role *roles;     /* roles[i] is the role of items[i] */
    size_t n, cap;
} grant_set;

static ssize_t grant_index(const grant_set *s, int64_t role_id, int64_t ws_id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].role_id == role_id && s->items[i].workspace_id == ws_id)
            return (ssize_t)i;
    return -1;
}

static void grant_push(lk_op *op, grant_set *s, const lk_grant *g, const lk_role *r)
{
    if (grant_index(s, g->role_id, g->workspace_id) >= 0)
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        s->items = lk_arena_grow(op->arena, s->items, s->n * sizeof *s->items, cap * sizeof *s->items);
        s->roles = lk_arena_grow(op->arena, s->roles, s->n * sizeof *s->roles, cap * sizeof *s->roles);
        s->cap = cap;
    }
    s->items[s->n] = *g;
    s->roles[s->n] = *r;
    s->n++;
}

static void grant_remove(grant_set *s, size_t i)
{
    s->n--;
    s->items[i] = s->items[s->n];
    s->roles[i] = s->roles[s->n];
}

static lk_code resolve_grant(lk_op *op, const lk_grant_ref *ref, lk_grant *g, lk_role *r)
{
    lk_code rc;
    if (!ref->role) {
        rc = op->store->ops->role_get(op->store, op->arena, ref->role_id, r, &op->err);
        if (rc == LK_ENOTFOUND)
            rc = lk_fail(&op->err, LK_ENOTFOUND, "accessRoleId", "no role with id %lld", (long long)ref->role_id);
    } else {
        rc = lk_role_find(op, ref->role, r);
    }
    if (rc != LK_OK)
        return rc;
    lk_workspace w = {.id = LK_WORKSPACE_ALLZONES, .name = "AllZones"};
    if (ref->workspace && (rc = lk_workspace_find(op, ref->workspace, &w)) != LK_OK)
        return rc;
    if (r->only_all_zones && w.id != LK_WORKSPACE_ALLZONES)
        return lk_fail(&op->err, LK_EINVAL, "role", "the %s role can only be granted in AllZones, not in '%s'",
                       r->name, w.name);
    *g = (lk_grant){.role_id = r->id, .role_name = r->name, .workspace_id = w.id, .workspace_name = w.name};
    return LK_OK;
}

static lk_code add_grants(lk_op *op, grant_set *s, const lk_grant_ref *refs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        lk_grant g;
        lk_role r;
        lk_code rc = resolve_grant(op, &refs[i], &g, &r);
        if (rc != LK_OK)
            return rc;
        grant_push(op, s, &g, &r);
    }
    return LK_OK;
}

static lk_code load_grants(lk_op *op, const lk_user *u, grant_set *s)
{
    for (size_t i = 0; i < u->n_grants; i++) {
        lk_role r;
        lk_code rc = op->store->ops->role_get(op->store, op->arena, u->grants[i].role_id, &r, &op->err);
        if (rc != LK_OK)
            return rc;
        grant_push(op, s, &u->grants[i], &r);
    }
    return LK_OK;
}

static lk_code remove_grants(lk_op *op, const lk_user *u, grant_set *s, const lk_grant_ref *refs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        lk_grant g;
        lk_role r;
        lk_code rc = resolve_grant(op, &refs[i], &g, &r);
        if (rc != LK_OK)
            return rc;
        ssize_t at = grant_index(s, g.role_id, g.workspace_id);
        if (at < 0)
            return lk_fail(&op->err, LK_EINVAL, "role", "%s does not hold role '%s' in workspace '%s'",
                           u->email, g.role_name, g.workspace_name);
        grant_remove(s, (size_t)at);
    }
    return LK_OK;
}

/* the caller may give every grant of s that u (NULL: a new user) does not hold yet */
static lk_code authz_new_grants(lk_op *op, const char *attempt, const char *target, const lk_user *u,
                                const grant_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        bool held = false;
        for (size_t j = 0; u && j < u->n_grants && !held; j++)
            held = u->grants[j].role_id == s->items[i].role_id && u->grants[j].workspace_id == s->items[i].workspace_id;
        if (held)
            continue;
        lk_code rc = lk_authz_grant(op, attempt, target, &s->roles[i], s->items[i].workspace_id,
                                    s->items[i].workspace_name);
        if (rc != LK_OK)
            return rc;
    }
    return LK_OK;
}

/* at least one grant; API-only users need an Access API permission among them */
static lk_code check_grants(lk_op *op, const grant_set *s, bool api_only)
{
    if (s->n == 0)
        return lk_fail(&op->err, LK_EINVAL, "role", "a user needs at least one role");
    if (!api_only)
        return LK_OK;
    for (size_t i = 0; i < s->n; i++)
        if (lk_role_has_group(&s->roles[i], LK_GROUP_API))
            return LK_OK;
    return lk_fail(&op->err, LK_ERULE, "role",
                   "an API-only user needs at least one role with an Access API permission");
}

/* ---- field checks ---------------------------------------------------------- */

static lk_code check_email(lk_op *op, const char *email)
{
    if (!email || !*email)
        return lk_fail(&op->err, LK_EINVAL, "email", "email cannot be blank");
    if (!lk_email_valid(email))
        return lk_fail(&op->err, LK_EINVAL, "email", "'%.254s' is not a valid email address", email);
    return LK_OK;
}

static lk_code check_userid(lk_op *op, const char *userid)
{
    lk_code rc = lk_check_name(op, "userid", "user id", userid, LK_NAME_MAX);
    if (rc != LK_OK)
        return rc;
    for (const char *p = userid; *p; p++)
        if (*p == ' ')
            return lk_fail(&op->err, LK_EINVAL, "userid", "user id must not contain spaces");
    return LK_OK;
}

/* LK_EEXISTS if key names a user other than self_id (by email or user id) */
static lk_code check_key_free(lk_op *op, const char *field, const char *key, int64_t self_id)
{
    lk_user other;
    lk_code rc = op->store->ops->user_find(op->store, op->arena, key, &other, &op->err);
    if (rc == LK_ENOTFOUND)
        return LK_OK;
    if (rc != LK_OK)
        return rc;
    if (other.id == self_id)
        return LK_OK;
    if (lk_str_ieq(other.email, key))
        return lk_fail(&op->err, LK_EEXISTS, field, "a user with email '%.254s' already exists", key);
    return lk_fail(&op->err, LK_EEXISTS, field, "'%.254s' is already the user id of %s", key, other.email);
}

/* true if both sets hold the same (role, workspace) pairs */
static bool same_grants(const lk_user *u, const grant_set *s)
{
    if (u->n_grants != s->n)
        return false;
    for (size_t i = 0; i < u->n_grants; i++)
        if (grant_index(s, u->grants[i].role_id, u->grants[i].workspace_id) < 0)
            return false;
    return true;
}

/* the grants a change adds and removes, for the audit event */
static void grants_diff(json_t *changes, const lk_user *u, const grant_set *s)
{
    json_t *added = json_array(), *removed = json_array();
    for (size_t i = 0; i < s->n; i++) {
        bool held = false;
        for (size_t j = 0; j < u->n_grants && !held; j++)
            held = u->grants[j].role_id == s->items[i].role_id && u->grants[j].workspace_id == s->items[i].workspace_id;
        if (!held)
            json_array_append_new(added, json_pack("{s:s, s:s}", "role", s->items[i].role_name, "workspace",
                                                   s->items[i].workspace_name));
    }
    for (size_t j = 0; j < u->n_grants; j++)
        if (grant_index(s, u->grants[j].role_id, u->grants[j].workspace_id) < 0)
            json_array_append_new(removed, json_pack("{s:s, s:s}", "role", u->grants[j].role_name, "workspace",
                                                     u->grants[j].workspace_name));
    if (json_array_size(added))
        json_object_set(changes, "rolesAdded", added);
    if (json_array_size(removed))
        json_object_set(changes, "rolesRemoved", removed);
    json_decref(added);
    json_decref(removed);
}

static lk_code check_person(lk_op *op, const char *first, const char *last)
{
    lk_code rc = lk_check_name(op, "firstName", "first name", first, LK_NAME_MAX);
    if (rc == LK_OK)
        rc = lk_check_name(op, "lastName", "last name", last, LK_NAME_MAX);
    return rc;
}

/* ---- invite ---------------------------------------------------------------- */

static lk_code check_input(lk_op *op, const lk_user_input *in, int64_t *expires)
{
    lk_code rc = check_email(op, in->email);
    if (rc == LK_OK && in->userid)
        rc = check_userid(op, in->userid);
    if (rc == LK_OK)
        rc = check_person(op, in->first_name, in->last_name);
    if (rc == LK_OK)
        rc = lk_check_text(op, "reason", "reason", in->reason, LK_TEXT_MAX);
    if (rc == LK_OK)
        rc = lk_check_text(op, "message", "invitation message", in->message, 4 * LK_TEXT_MAX);
    *expires = 0;
    if (rc == LK_OK && in->expires)
        rc = lk_check_expiry(op, "expiresAt", in->expires, false, expires);
    if (rc == LK_OK && in->n_grants == 0)
        rc = lk_fail(&op->err, LK_EINVAL, "role", "a user needs at least one role");
    if (rc == LK_OK && in->invite_ttl < 0)
        rc = lk_fail(&op->err, LK_EINVAL, "inviteTtl", "invitation lifetime cannot be negative");
    return rc;
}

/* A new invitation for a pending user and its email. The token made here is never
 * shown: the mailer mints the one the email carries (core/mailq.h). */
static lk_code create_invitation(lk_op *op, const lk_user *u, const char *message, int64_t ttl,
                                 lk_invite_token *invite)
{
    char hash[LK_HASH_HEX];
    lk_secret_token(invite->token, 32);
    lk_secret_hash(invite->token, hash);
    invite->expires_at = op->now + (ttl > 0 ? ttl : LK_INVITE_TTL_DEFAULT);
    lk_invitation inv = {
        .user_id = u->id,
        .token_hash = hash,
        .message = message ? message : "",
        .created_at = op->now,
        .expires_at = invite->expires_at,
    };
    lk_code rc = op->store->ops->invitation_insert(op->store, &inv, &op->err);
    if (rc == LK_OK)
        rc = lk_mailq_invitation(op, u, &inv);
    return rc;
}

lk_code lk_user_invite(lk_op *op, const lk_user_input *in, lk_user *out, lk_invite_token *invite)
{
    if (invite)
        memset(invite, 0, sizeof *invite);
    int64_t expires = 0;
    lk_code rc = check_input(op, in, &expires);
    if (rc != LK_OK)
        return rc;
    if ((rc = lk_tx_begin(op)) != LK_OK)
        return rc;
    const char *userid = in->userid ? in->userid : in->email;
    grant_set gs = {0};
    rc = add_grants(op, &gs, in->grants, in->n_grants);
    if (rc == LK_OK)
        rc = authz_new_grants(op, "User Create", in->email, NULL, &gs);
    if (rc == LK_OK)
        rc = check_key_free(op, "email", in->email, -1);
    if (rc == LK_OK)
        rc = check_key_free(op, "userid", userid, -1);
    if (rc == LK_OK)
        rc = check_grants(op, &gs, in->api_only);
    if (rc != LK_OK)
        return lk_tx_end(op, rc);

    lk_user u = {
        .email = in->email,
        .userid = userid,
        .first_name = in->first_name,
        .last_name = in->last_name,
        .reason = in->reason ? in->reason : "",
        .expires_at = expires,
        .api_only = in->api_only,
        .status = in->api_only ? LK_STATUS_ACTIVE : LK_STATUS_PENDING,
        .lock_reason = "",
        .created_at = op->now,
        .updated_at = op->now,
        .grants = gs.items,
        .n_grants = gs.n,
        .lang = in->api_only || !lk_mail_lang(in->lang) ? "" : lk_mail_lang(in->lang),
    };
    rc = op->store->ops->user_insert(op->store, &u, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->user_get(op->store, op->arena, u.id, out, &op->err);
    lk_invite_token local;
    if (rc == LK_OK && !in->api_only)
        rc = create_invitation(op, out, in->message, in->invite_ttl, invite ? invite : &local);
    sodium_memzero(&local, sizeof local);
    if (rc == LK_OK) {
        json_t *d = lk_snap_user(out);
        json_object_set_new(d, "status", json_string(lk_user_status_name(out->status)));
        json_object_set_new(d, "invitation", in->api_only ? json_false() : json_true());
        rc = lk_audit_json(op, "User", "Create", out->email, d);
    }
    if (rc == LK_OK && lk_user_is_admin(out))
        rc = admin_added(op, out);
    if (rc != LK_OK && invite)
        sodium_memzero(invite, sizeof *invite);
    return lk_tx_end(op, rc);
}

lk_code lk_user_resend_invitation(lk_op *op, const char *key, const char *message, int64_t ttl,
                                  lk_invitation *out)
{
    lk_code rc = lk_check_text(op, "message", "invitation message", message, 4 * LK_TEXT_MAX);
    if (rc == LK_OK && ttl < 0)
        rc = lk_fail(&op->err, LK_EINVAL, "inviteTtl", "invitation lifetime cannot be negative");
    if (rc != LK_OK || (rc = lk_tx_begin(op)) != LK_OK)
        return rc;
    lk_user u;
    lk_invitation prev;
    rc = lk_user_find(op, key, &u);
    if (rc == LK_OK)
        rc = lk_authz_act_on(op, "User Resend Invitation", &u);
    if (rc == LK_OK && u.status != LK_STATUS_PENDING)
        rc = lk_fail(&op->err, LK_ERULE, "user",
                     u.api_only ? "%s is an API-only user: no invitation is needed, because no email is sent"
                                : "%s has already accepted the invitation; send a password reset instead",
                     u.email);
    if (rc == LK_OK)
        rc = op->store->ops->invitation_for_user(op->store, op->arena, u.id, &prev, &op->err);
    lk_invite_token t;
    if (rc == LK_OK)
        rc = create_invitation(op, &u, message ? message : prev.message, ttl, &t);
    sodium_memzero(&t, sizeof t);
    if (rc == LK_OK)
        rc = op->store->ops->invitation_for_user(op->store, op->arena, u.id, out, &op->err);
    if (rc == LK_OK)
        rc = lk_audit_json(op, "User", "Resend Invitation", u.email,
                           json_pack("{s:s, s:o}", "email", u.email, "expiresAt", lk_snap_time(out->expires_at)));
    return lk_tx_end(op, rc);
}

lk_code lk_user_invitation(lk_op *op, const char *key, lk_invitation *out)
{
    lk_user u;
    lk_code rc = lk_user_find(op, key, &u);
    if (rc != LK_OK)
        return rc;
    rc = op->store->ops->invitation_for_user(op->store, op->arena, u.id, out, &op->err);
    if (rc == LK_ENOTFOUND)
        return lk_fail(&op->err, LK_ENOTFOUND, "user", "%s has no invitation", u.email);
    return rc;
}

/* ---- update, lock, unlock, delete ------------------------------------------ */

/* finds the user for a change inside the open transaction; pending users refused */
static lk_code find_for_change(lk_op *op, const char *key, lk_user *u)
{
    lk_code rc = lk_user_find(op, key, u);
    if (rc != LK_OK)
        return rc;
    if (u->status == LK_STATUS_PENDING)
        return lk_fail(&op->err, LK_ERULE, "user",
                       "%s has not accepted the invitation yet; a pending user can only be shown or deleted",
                       u->email);
    return LK_OK;
}

static void change_field(json_t *changes, const char *name, const char *from, const char *to)
{
    if (to && strcmp(from ? from : "", to) != 0)
        json_object_set_new(changes, name, json_pack("{s:s, s:s}", "from", from ? from : "", "to", to));
}

static lk_code check_change(lk_op *op, const lk_user_change *c)
{
    lk_code rc = LK_OK;
    if (c->email)
        rc = check_email(op, c->email);
    if (rc == LK_OK && c->userid)
        rc = check_userid(op, c->userid);
    if (rc == LK_OK && c->first_name)
        rc = lk_check_name(op, "firstName", "first name", c->first_name, LK_NAME_MAX);
    if (rc == LK_OK && c->last_name)
        rc = lk_check_name(op, "lastName", "last name", c->last_name, LK_NAME_MAX);
    if (rc == LK_OK)
        rc = lk_check_text(op, "reason", "reason", c->reason, LK_TEXT_MAX);
    if (rc == LK_OK && !c->email && !c->userid && !c->first_name && !c->last_name && !c->reason &&
        !c->expires && !c->n_add && !c->n_remove && !c->set_grants)
        rc = lk_fail(&op->err, LK_EINVAL, "", "nothing to change: give at least one field to update");
    return rc;
}

/* A new expiry through update: not for a user whose access already expired (that
 * takes an unlock, as in PRODUCT.md §1), and never for the last active Admin. */
static lk_code check_expiry_change(lk_op *op, const lk_user *u, const char *when, int64_t *expires)
{
    lk_code rc = lk_check_expiry(op, "expiresAt", when, true, expires);
    if (rc != LK_OK)
        return rc;
    if (u->expires_at && op->now >= u->expires_at && u->status == LK_STATUS_ACTIVE) {
        char buf[LK_TIME_BUF];
        return lk_fail(&op->err, LK_ERULE, "expiresAt",
                       "access for %s expired on %s; unlock the user with a new expiry instead", u->email,
                       lk_time_format(u->expires_at, buf));
    }
    if (*expires)
        return check_not_last_admin(op, u, "given an access expiry");
    return LK_OK;
}

lk_code lk_user_update(lk_op *op, const char *key, const lk_user_change *c, lk_user *out)
{
    lk_code rc = check_change(op, c);
    if (rc != LK_OK)
        return rc;
    if ((rc = lk_tx_begin(op)) != LK_OK)
        return rc;
    lk_user u;
    grant_set gs = {0};
    int64_t expires = 0;
    rc = find_for_change(op, key, &u);
    if (rc == LK_OK)
        rc = lk_authz_act_on(op, "User Edit", &u);
    if (rc == LK_OK && c->expires)
        rc = check_expiry_change(op, &u, c->expires, &expires);
    if (rc == LK_OK && c->expires && expires != u.expires_at)
        rc = lk_authz_not_self(op, "User Edit", &u, "access expiry");
    if (rc == LK_OK && c->email)
        rc = check_key_free(op, "email", c->email, u.id);
    /* a user id that was the email follows a new email */
    const char *new_userid = c->userid;
    if (!new_userid && c->email && lk_str_ieq(u.userid, u.email))
        new_userid = c->email;
    if (rc == LK_OK && new_userid)
        rc = check_key_free(op, "userid", new_userid, u.id);
    if (rc == LK_OK && c->set_grants) {
        rc = add_grants(op, &gs, c->set, c->n_set);
    } else if (rc == LK_OK) {
        rc = load_grants(op, &u, &gs);
        if (rc == LK_OK)
            rc = add_grants(op, &gs, c->add, c->n_add);
        if (rc == LK_OK)
            rc = remove_grants(op, &u, &gs, c->remove, c->n_remove);
    }
    if (rc == LK_OK && !same_grants(&u, &gs))
        rc = lk_authz_not_self(op, "User Edit", &u, "roles");
    if (rc == LK_OK)
        rc = authz_new_grants(op, "User Edit", u.email, &u, &gs);
    if (rc == LK_OK)
        rc = check_grants(op, &gs, u.api_only);
    if (rc != LK_OK)
        return lk_tx_end(op, rc);

    lk_user after = u;
    after.grants = gs.items;
    after.n_grants = gs.n;
    if (lk_user_is_admin(&u) && !lk_user_is_admin(&after) &&
        (rc = check_not_last_admin(op, &u, "removed from the Admin role")) != LK_OK)
        return lk_tx_end(op, rc);

    json_t *changes = json_object();
    char from[LK_TIME_BUF], to[LK_TIME_BUF];
    change_field(changes, "email", u.email, c->email);
    change_field(changes, "userid", u.userid, new_userid);
    change_field(changes, "firstName", u.first_name, c->first_name);
    change_field(changes, "lastName", u.last_name, c->last_name);
    change_field(changes, "reason", u.reason, c->reason);
    if (c->expires)
        change_field(changes, "expiresAt", u.expires_at ? lk_time_format(u.expires_at, from) : "never",
                     expires ? lk_time_format(expires, to) : "never");
    grants_diff(changes, &u, &gs);
    if (c->email)
        after.email = c->email;
    if (new_userid)
        after.userid = new_userid;
    if (c->first_name)
        after.first_name = c->first_name;
    if (c->last_name)
        after.last_name = c->last_name;
    if (c->reason)
        after.reason = c->reason;
    if (c->expires)
        after.expires_at = expires;
    after.updated_at = op->now;
    if (json_object_size(changes) == 0 && same_grants(&u, &gs)) {
        /* nothing differs: no write, no audit event */
        json_decref(changes);
        *out = u;
        return lk_tx_end(op, LK_OK);
    }

    rc = op->store->ops->user_update(op->store, &after, &op->err);
    /* a reset link was sent to the old address: it must not work for the new one */
    if (rc == LK_OK && c->email && !lk_str_ieq(c->email, u.email))
        rc = op->store->ops->reset_end_user(op->store, u.id, op->now, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->user_get(op->store, op->arena, u.id, out, &op->err);
    if (rc == LK_OK) {
        json_t *d = lk_snap_user(out);
        json_object_set_new(d, "changes", changes);
        changes = NULL;
        rc = lk_audit_json(op, "User", "Edit", out->email, d);
    }
    if (rc == LK_OK && lk_user_is_admin(&u) != lk_user_is_admin(out))
        rc = lk_user_is_admin(out) ? admin_added(op, out) : lk_mailq_admin_change(op, out, false);
    /* the old address hears of it: a takeover by an address change does not go unseen */
    if (rc == LK_OK && !u.api_only && !lk_str_ieq(u.email, out->email))
        rc = lk_mailq_email_changed(op, &u, out->email);
    json_decref(changes);
    return lk_tx_end(op, rc);
}

lk_code lk_user_lock(lk_op *op, const char *key, const char *reason, lk_user *out)
{
    lk_code rc = lk_check_text(op, "reason", "lock reason", reason, LK_TEXT_MAX);
    if (rc != LK_OK)
        return rc;
    if ((rc = lk_tx_begin(op)) != LK_OK)
        return rc;
    lk_user u;
    rc = find_for_change(op, key, &u);
    if (rc == LK_OK)
        rc = lk_authz_act_on(op, "User Lock", &u);
    if (rc == LK_OK)
        rc = lk_authz_not_self(op, "User Lock", &u, "lock state");
    if (rc == LK_OK && u.status == LK_STATUS_LOCKED)
        rc = lk_fail(&op->err, LK_ERULE, "user", "%s is already locked (%s)", u.email, u.lock_reason);
    if (rc == LK_OK)
        rc = check_not_last_admin(op, &u, "locked");
    if (rc != LK_OK)
        return lk_tx_end(op, rc);
    u.status = LK_STATUS_LOCKED;
    u.lock_reason = reason && *reason ? reason : "locked by an administrator";
    u.updated_at = op->now;
    rc = op->store->ops->user_update(op->store, &u, &op->err);
    if (rc == LK_OK) /* no reset link of before the lock works after an unlock */
        rc = op->store->ops->reset_end_user(op->store, u.id, op->now, &op->err);
    if (rc == LK_OK)
        rc = lk_audit_json(op, "User", "Lock", u.email,
                           json_pack("{s:s, s:s}", "email", u.email, "reason", u.lock_reason));
    if (rc == LK_OK)
        rc = op->store->ops->user_get(op->store, op->arena, u.id, out, &op->err);
    return lk_tx_end(op, rc);
}

lk_code lk_user_unlock(lk_op *op, const char *key, const char *expires, lk_user *out)
{
    lk_code rc = lk_tx_begin(op);
    if (rc != LK_OK)
        return rc;
    lk_user u;
    rc = find_for_change(op, key, &u);
    if (rc == LK_OK)
        rc = lk_authz_act_on(op, "User Unlock", &u);
    if (rc == LK_OK)
        rc = lk_authz_not_self(op, "User Unlock", &u, "lock state");
    if (rc != LK_OK)
        return lk_tx_end(op, rc);
    if (lk_user_effective_status(&u, op->now, NULL) != LK_STATUS_LOCKED)
        return lk_tx_end(op, lk_fail(&op->err, LK_ERULE, "user", "%s is not locked", u.email));
    int64_t new_expiry = u.expires_at;
    if (expires) {
        rc = lk_check_expiry(op, "expiresAt", expires, true, &new_expiry);
    } else if (u.expires_at && op->now >= u.expires_at) {
        char buf[LK_TIME_BUF];
        rc = lk_fail(&op->err, LK_EINVAL, "expiresAt",
                     "access for %s expired on %s; give a new expiry (a future date or 'never') to unlock",
                     u.email, lk_time_format(u.expires_at, buf));
    }
    if (rc != LK_OK)
        return lk_tx_end(op, rc);
    u.status = LK_STATUS_ACTIVE;
    u.lock_reason = "";
    u.failed_logins = 0;
    u.expires_at = new_expiry;
    u.updated_at = op->now;
    rc = op->store->ops->user_update(op->store, &u, &op->err);
    if (rc == LK_OK)
        rc = lk_audit_json(op, "User", "Unlock", u.email,
                           json_pack("{s:s, s:o}", "email", u.email, "expiresAt", lk_snap_time(u.expires_at)));
    if (rc == LK_OK)
        rc = op->store->ops->user_get(op->store, op->arena, u.id, out, &op->err);
    return lk_tx_end(op, rc);
}

lk_code lk_user_delete(lk_op *op, const char *key)
{
    return lk_user_delete_scoped(op, key, LK_SCOPE_ANY);
}

lk_code lk_user_delete_scoped(lk_op *op, const char *key, lk_user_scope scope)
{
    lk_code rc = lk_tx_begin(op);
    if (rc != LK_OK)
        return rc;
    lk_user u;
    rc = lk_user_find(op, key, &u);
    if (rc == LK_OK)
        rc = lk_authz_act_on(op, scope == LK_SCOPE_PENDING ? "User Delete Invitation" : "User Delete", &u);
    if (rc == LK_OK && scope == LK_SCOPE_ACCEPTED && u.status == LK_STATUS_PENDING)
        rc = lk_fail(&op->err, LK_ERULE, "user",
                     "%s has not accepted the invitation yet; delete it as an invited user", u.email);
    if (rc == LK_OK && scope == LK_SCOPE_PENDING && u.status != LK_STATUS_PENDING)
        rc = lk_fail(&op->err, LK_ERULE, "user", "%s has no pending invitation; delete it as a user", u.email);
    if (rc != LK_OK)
        return lk_tx_end(op, rc);
    lk_service *svcs = NULL;
    size_t n = 0;
    rc = op->store->ops->service_list_by_user(op->store, op->arena, u.id, &svcs, &n, &op->err);
    if (rc == LK_OK && n > 0) {
        const char **names = lk_arena_alloc(op->arena, n * sizeof *names);
        for (size_t i = 0; i < n; i++)
            names[i] = lk_arena_printf(op->arena, "'%s'", svcs[i].name);
        rc = lk_fail(&op->err, LK_EINUSE, "user",
                     "%s owns custom service(s) %s; delete those services first", u.email,
                     lk_join_names(op, names, n));
    }
    if (rc == LK_OK)
        rc = check_not_last_admin(op, &u, "deleted");
    if (rc == LK_OK)
        rc = op->store->ops->user_delete(op->store, u.id, &op->err);
    if (rc == LK_OK) {
        json_t *d = lk_snap_user(&u);
        json_object_set_new(d, "status", json_string(lk_user_status_name(u.status)));
        rc = lk_audit_json(op, "User", "Delete", u.email, d);
    }
    if (rc == LK_OK && lk_user_is_admin(&u))
        rc = lk_mailq_admin_change(op, &u, false);
    return lk_tx_end(op, rc);
}

/* ---- admin ----------------------------------------------------------------- */

/* an active console user holding Admin in AllZones, with a password already hashed */
static lk_code create_admin(lk_op *op, const char *email, const char *first, const char *last, const char *hash,
                            bool must_change, lk_user *out)
{
    lk_code rc = lk_tx_begin(op);
    if (rc != LK_OK)
        return rc;
    grant_set gs = {0};
    lk_grant_ref admin = {.role = "Admin", .workspace = NULL};
    rc = check_key_free(op, "email", email, -1);
    if (rc == LK_OK)
        rc = add_grants(op, &gs, &admin, 1);
    lk_user u = {
        .email = email,
        .userid = email,
        .first_name = first,
        .last_name = last,
        .reason = "",
        .status = LK_STATUS_ACTIVE,
        .lock_reason = "",
        .password_hash = hash,
        .must_change_password = must_change,
        .created_at = op->now,
        .updated_at = op->now,
        .grants = gs.items,
        .n_grants = gs.n,
    };
    if (rc == LK_OK)
        rc = op->store->ops->user_insert(op->store, &u, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->user_get(op->store, op->arena, u.id, out, &op->err);
    if (rc == LK_OK) {
        json_t *d = lk_snap_user(out);
        json_object_set_new(d, "status", json_string("active"));
        rc = lk_audit_json(op, "User", "Create", out->email, d);
    }
    if (rc == LK_OK)
        rc = admin_added(op, out);
    return lk_tx_end(op, rc);
}

/* checks, hashes the password and creates the admin */
static lk_code admin_with_password(lk_op *op, const char *email, const char *first, const char *last,
                                   const char *password, bool must_change, lk_user *out)
{
    lk_code rc = check_email(op, email);
    if (rc == LK_OK)
        rc = check_person(op, first, last);
    if (rc != LK_OK)
        return rc;
    char hash[LK_PASSWORD_HASH_MAX];
    if (!lk_password_hash(password, hash, sizeof hash))
        return lk_fail(&op->err, LK_ESTORE, "", "could not hash the password (out of memory?)");
    rc = create_admin(op, email, first, last, hash, must_change, out);
    sodium_memzero(hash, sizeof hash);
    return rc;
}

lk_code lk_admin_create(lk_op *op, const char *email, const char *first, const char *last,
                        lk_user *out, char password[LK_ONETIME_PASSWORD_LEN + 1])
{
    lk_secret_alnum(password, LK_ONETIME_PASSWORD_LEN);
    lk_code rc = admin_with_password(op, email, first, last, password, true, out);
    if (rc != LK_OK)
        sodium_memzero(password, LK_ONETIME_PASSWORD_LEN + 1);
    return rc;
}

lk_code lk_admin_create_password(lk_op *op, const char *email, const char *first, const char *last,
                                 const char *password, lk_user *out)
{
    return admin_with_password(op, email, first, last, password, false, out);
}

lk_code lk_admin_any(lk_op *op, bool *any)
{
    lk_user *holders = NULL;
    size_t n = 0;
    *any = false;
    lk_code rc = op->store->ops->role_holders(op->store, op->arena, LK_ROLE_ADMIN, &holders, &n, &op->err);
    for (size_t i = 0; rc == LK_OK && i < n && !*any; i++)
        *any = !holders[i].api_only;
    return rc;
}

lk_code lk_admin_exists(lk_op *op, bool *exists)
{
    lk_user *holders = NULL;
    size_t n = 0;
    *exists = false;
    lk_code rc = op->store->ops->role_holders(op->store, op->arena, LK_ROLE_ADMIN, &holders, &n, &op->err);
    for (size_t i = 0; rc == LK_OK && i < n && !*exists; i++)
        *exists = counts_as_active_admin(&holders[i], op->now);
    return rc;
}
