/*
 * password — password resets (rules in password.h): an administrator's reset, the
 * self-service "forgot password", and setting a new password from a reset link.
 */
#include "core/password.h"
#include "core/authz.h"
#include "core/internal.h"
#include "core/mailq.h"
#include "core/secret.h"
#include "core/session.h"
#include "core/user.h"
#include "util/text.h"

#include <sodium.h>
#include <string.h>

static const char reset_invalid[] = "this password reset link is not valid any more (used, expired or replaced); "
                                    "ask for a new one on the sign-in page";

/* a new reset row; its token is never shown: the mailer mints the one it sends */
static lk_code insert_reset(lk_op *op, const lk_user *u, int64_t ttl, lk_reset *r)
{
    char token[LK_MAILQ_TOKEN_LEN + 1], hash[LK_HASH_HEX];
    lk_secret_token(token, 32);
    lk_secret_hash(token, hash);
    sodium_memzero(token, sizeof token);
    *r = (lk_reset){.user_id = u->id, .token_hash = lk_arena_strdup(op->arena, hash), .created_at = op->now,
                    .expires_at = op->now + (ttl > 0 ? ttl : LK_RESET_TTL_DEFAULT)};
    return op->store->ops->reset_insert(op->store, r, &op->err);
}

lk_code lk_password_reset_request(lk_op *op, const char *key, int64_t ttl, lk_user *out)
{
    lk_code rc = lk_tx_begin(op);
    if (rc != LK_OK)
        return rc;
    rc = lk_user_find(op, key, out);
    if (rc == LK_OK)
        rc = lk_authz_act_on(op, "User Reset Password", out);
    if (rc == LK_OK && out->api_only)
        rc = lk_fail(&op->err, LK_ERULE, "user", "%s is an API-only user: it has no password and gets no email",
                     out->email);
    if (rc == LK_OK && out->status == LK_STATUS_PENDING)
        rc = lk_fail(&op->err, LK_ERULE, "user",
                     "%s has not accepted the invitation yet; resend the invitation instead", out->email);
    if (rc == LK_OK && lk_user_effective_status(out, op->now, NULL) != LK_STATUS_ACTIVE)
        rc = lk_fail(&op->err, LK_ERULE, "user", "%s is locked; unlock the user first", out->email);
    lk_reset r;
    if (rc == LK_OK)
        rc = insert_reset(op, out, ttl, &r);
    if (rc == LK_OK)
        rc = lk_mailq_reset(op, out, &r, NULL);
    if (rc == LK_OK)
        rc = lk_audit_json(op, "User", "Reset Password", out->email, json_pack("{s:s}", "email", out->email));
    return lk_tx_end(op, rc);
}

lk_code lk_password_forgot(lk_op *op, const char *email, int64_t ttl, const char *lang)
{
    /* a malformed address says nothing about the accounts: nothing to do */
    if (!email || !*email || strlen(email) > 254 || lk_text_has_control(email, false) || !strchr(email, '@'))
        return LK_OK;
    return lk_mailq_forgot(op, email, ttl, lang);
}

const char *lk_password_forgot_resolve(lk_op *op, const lk_mail_rec *m, lk_user *u, lk_reset *r, lk_code *rc)
{
    lk_error saved = op->err;
    *rc = op->store->ops->user_find(op->store, op->arena, m->recipient, u, &op->err);
    /* by email only, and only for someone who can sign in */
    if (*rc == LK_ENOTFOUND || (*rc == LK_OK && (!lk_str_ieq(u->email, m->recipient) || u->api_only ||
                                                lk_user_effective_status(u, op->now, NULL) != LK_STATUS_ACTIVE))) {
        op->err = saved;
        *rc = LK_OK;
        return "no active person has this address";
    }
    if (*rc != LK_OK)
        return NULL;
    /* one reset a minute per person at most, however often the form is sent */
    lk_reset prev;
    if (op->store->ops->reset_for_user(op->store, op->arena, u->id, &prev, &op->err) == LK_OK && !prev.used_at &&
        op->now - prev.created_at < LK_FORGOT_INTERVAL)
        return "a reset link went to this person less than a minute ago";
    op->err = saved;
    json_t *vars = json_loads(m->vars, 0, NULL);
    int64_t ttl = (int64_t)json_integer_value(json_object_get(vars, "ttl"));
    const char *from = json_string_value(json_object_get(vars, "address"));
    const char *address = lk_arena_strdup(op->arena, from ? from : "");
    json_decref(vars);
    *rc = insert_reset(op, u, ttl, r);
    if (*rc == LK_OK) {
        /* anyone may fill in the form: the request is not the person's own act */
        const char *actor = op->actor, *addr = op->address;
        op->actor = "anonymous";
        op->address = address;
        *rc = lk_audit_json(op, "User", "Forgot Password", u->email, json_pack("{s:s}", "email", u->email));
        op->actor = actor;
        op->address = addr;
    }
    return NULL;
}

const char *lk_reset_unusable(const lk_reset *newest, int64_t id, const lk_user *u, int64_t now)
{
    if (newest->id != id)
        return "a newer password reset replaced it";
    if (newest->used_at)
        return "the password reset was used";
    if (now >= newest->expires_at)
        return "the password reset expired";
    if (u->api_only || lk_user_effective_status(u, now, NULL) != LK_STATUS_ACTIVE)
        return "the user cannot sign in any more";
    return NULL;
}

/* The reset a token's hash names and its user, if the link may be used now;
 * LK_EAUTH (one message) otherwise. */
static lk_code usable_reset(lk_op *op, const char *hash, lk_reset *r, lk_user *u)
{
    lk_reset newest;
    lk_code rc = op->store->ops->reset_by_hash(op->store, op->arena, hash, r, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->reset_for_user(op->store, op->arena, r->user_id, &newest, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->user_get(op->store, op->arena, r->user_id, u, &op->err);
    if (rc == LK_ENOTFOUND)
        return lk_fail(&op->err, LK_EAUTH, "token", reset_invalid);
    if (rc != LK_OK)
        return rc;
    if (lk_reset_unusable(&newest, r->id, u, op->now))
        return lk_fail(&op->err, LK_EAUTH, "token", reset_invalid);
    return LK_OK;
}

lk_code lk_password_reset_complete(lk_op *op, const char *token, const char *password, lk_user *out)
{
    if (!token || strlen(token) != LK_MAILQ_TOKEN_LEN)
        return lk_fail(&op->err, LK_EAUTH, "token", reset_invalid);
    char hash[LK_HASH_HEX];
    lk_secret_hash(token, hash);
    lk_reset r;
    lk_user u;
    char pw_hash[LK_PASSWORD_HASH_MAX];
    /* checked once to refuse early (before Argon2id), and again inside the transaction
     * so that a lock or change made meanwhile is neither missed nor overwritten */
    lk_code rc = usable_reset(op, hash, &r, &u);
    if (rc == LK_OK)
        rc = lk_password_for(op, &u, password, pw_hash);
    if (rc != LK_OK)
        return rc;
    if ((rc = lk_tx_begin(op)) != LK_OK) {
        sodium_memzero(pw_hash, sizeof pw_hash);
        return rc;
    }
    rc = usable_reset(op, hash, &r, &u);
    if (rc == LK_OK) {
        r.used_at = op->now;
        u.password_hash = pw_hash;
        u.must_change_password = false;
        u.failed_logins = 0;
        u.updated_at = op->now;
        rc = op->store->ops->reset_update(op->store, &r, &op->err);
    }
    if (rc == LK_OK)
        rc = op->store->ops->user_update(op->store, &u, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->session_delete_user(op->store, u.id, 0, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->user_get(op->store, op->arena, u.id, out, &op->err);
    if (rc == LK_OK) {
        const char *actor = op->actor;
        op->actor = lk_arena_printf(op->arena, "user:%s", u.email);
        rc = lk_audit_json(op, "User", "Set Password", u.email, json_pack("{s:s}", "email", u.email));
        op->actor = actor;
    }
    sodium_memzero(pw_hash, sizeof pw_hash);
    return lk_tx_end(op, rc);
}
