/*
 * password — password resets (rules in password.h): an administrator's reset, the
 * self-service "forgot password", and setting a new password from a reset link.
 */
#include "core/password.h"
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

/* a new reset link (its token is never shown: the mailer mints the one it sends) and its email */
static lk_code create_reset(lk_op *op, const lk_user *u, int64_t ttl, const char *lang)
{
    char token[LK_MAILQ_TOKEN_LEN + 1], hash[LK_HASH_HEX];
    lk_secret_token(token, 32);
    lk_secret_hash(token, hash);
    sodium_memzero(token, sizeof token);
    lk_reset r = {.user_id = u->id, .token_hash = hash, .created_at = op->now,
                  .expires_at = op->now + (ttl > 0 ? ttl : LK_RESET_TTL_DEFAULT)};
    lk_code rc = op->store->ops->reset_insert(op->store, &r, &op->err);
    if (rc == LK_OK)
        rc = lk_mailq_reset(op, u, &r, lang);
    return rc;
}

lk_code lk_password_reset_request(lk_op *op, const char *key, int64_t ttl, lk_user *out)
{
    lk_code rc = lk_tx_begin(op);
    if (rc != LK_OK)
        return rc;
    rc = lk_user_find(op, key, out);
    if (rc == LK_OK && out->api_only)
        rc = lk_fail(&op->err, LK_ERULE, "user", "%s is an API-only user: it has no password and gets no email",
                     out->email);
    if (rc == LK_OK && out->status == LK_STATUS_PENDING)
        rc = lk_fail(&op->err, LK_ERULE, "user",
                     "%s has not accepted the invitation yet; resend the invitation instead", out->email);
    if (rc == LK_OK && lk_user_effective_status(out, op->now, NULL) != LK_STATUS_ACTIVE)
        rc = lk_fail(&op->err, LK_ERULE, "user", "%s is locked; unlock the user first", out->email);
    if (rc == LK_OK)
        rc = create_reset(op, out, ttl, NULL);
    if (rc == LK_OK)
        rc = lk_audit_json(op, "User", "Reset Password", out->email, json_pack("{s:s}", "email", out->email));
    return lk_tx_end(op, rc);
}

lk_code lk_password_forgot(lk_op *op, const char *email, int64_t ttl, const char *lang, bool *sent)
{
    *sent = false;
    if (!email || !*email || strlen(email) > 254)
        return LK_OK;
    lk_code rc = lk_tx_begin(op);
    if (rc != LK_OK)
        return rc;
    lk_user u;
    lk_error saved = op->err;
    rc = op->store->ops->user_find(op->store, op->arena, email, &u, &op->err);
    /* by email only, and only for someone who can sign in */
    if (rc == LK_ENOTFOUND || (rc == LK_OK && (!lk_str_ieq(u.email, email) || u.api_only ||
                                              lk_user_effective_status(&u, op->now, NULL) != LK_STATUS_ACTIVE))) {
        op->err = saved;
        return lk_tx_end(op, LK_OK);
    }
    /* one reset a minute per person at most, however often the form is sent */
    lk_reset prev;
    if (rc == LK_OK && op->store->ops->reset_for_user(op->store, op->arena, u.id, &prev, &op->err) == LK_OK &&
        !prev.used_at && op->now - prev.created_at < LK_FORGOT_INTERVAL)
        return lk_tx_end(op, LK_OK);
    op->err = saved;
    if (rc == LK_OK)
        rc = create_reset(op, &u, ttl, lang);
    if (rc == LK_OK) {
        const char *actor = op->actor;
        op->actor = lk_arena_printf(op->arena, "user:%s", u.email);
        rc = lk_audit_json(op, "User", "Forgot Password", u.email, json_pack("{s:s}", "email", u.email));
        op->actor = actor;
    }
    rc = lk_tx_end(op, rc);
    *sent = rc == LK_OK;
    return rc;
}

lk_code lk_password_reset_complete(lk_op *op, const char *token, const char *password, lk_user *out)
{
    if (!token || strlen(token) != LK_MAILQ_TOKEN_LEN)
        return lk_fail(&op->err, LK_EAUTH, "token", reset_invalid);
    char hash[LK_HASH_HEX];
    lk_secret_hash(token, hash);
    lk_reset r, newest;
    lk_user u;
    lk_code rc = op->store->ops->reset_by_hash(op->store, op->arena, hash, &r, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->reset_for_user(op->store, op->arena, r.user_id, &newest, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->user_get(op->store, op->arena, r.user_id, &u, &op->err);
    if (rc == LK_ENOTFOUND)
        return lk_fail(&op->err, LK_EAUTH, "token", reset_invalid);
    if (rc != LK_OK)
        return rc;
    if (r.used_at || op->now >= r.expires_at || newest.id != r.id || u.api_only ||
        lk_user_effective_status(&u, op->now, NULL) != LK_STATUS_ACTIVE)
        return lk_fail(&op->err, LK_EAUTH, "token", reset_invalid);
    char pw_hash[LK_PASSWORD_HASH_MAX];
    if ((rc = lk_password_for(op, &u, password, pw_hash)) != LK_OK || (rc = lk_tx_begin(op)) != LK_OK)
        return rc;
    r.used_at = op->now;
    u.password_hash = pw_hash;
    u.must_change_password = false;
    u.failed_logins = 0;
    u.updated_at = op->now;
    rc = op->store->ops->reset_update(op->store, &r, &op->err);
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
