/* session — console sign-in, sessions, passwords, first-admin setup (see session.h). */
#include "core/session.h"
#include "core/internal.h"
#include "core/secret.h"
#include "core/user.h"
#include "util/text.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIGN_IN_REFUSED "the email address or the password is wrong, or this user cannot sign in"
#define SESSION_ENDED "the session has ended; sign in again"
#define SETUP_KEY "setup.token_hash"
#define SETUP_EXPIRES_KEY "setup.expires_at"
#define EMAIL_KEEP 254

static int64_t idle_of(const lk_session_policy *p)
{
    return p && p->idle > 0 ? p->idle : LK_SESSION_IDLE_DEFAULT;
}

static int64_t max_age_of(const lk_session_policy *p)
{
    return p && p->max_age > 0 ? p->max_age : LK_SESSION_MAX_AGE_DEFAULT;
}

/* ---- passwords ------------------------------------------------------------------- */

/* case-insensitive (ASCII) substring test */
static bool contains_word(const char *hay, const char *word, size_t len)
{
    if (len < 3)
        return false;
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, word, len) == 0)
            return true;
    return false;
}

lk_code lk_password_check(lk_op *op, const char *password, const char *email, const char *first, const char *last)
{
    if (!password || !*password)
        return lk_fail(&op->err, LK_EINVAL, "password", "password cannot be blank");
    long n = lk_utf8_count(password);
    if (n < 0 || lk_text_has_control(password, false))
        return lk_fail(&op->err, LK_EINVAL, "password", "the password must be UTF-8 text without control characters");
    if (n < LK_PASSWORD_MIN)
        return lk_fail(&op->err, LK_EINVAL, "password", "the password needs at least %d characters", LK_PASSWORD_MIN);
    if (n > LK_PASSWORD_MAX)
        return lk_fail(&op->err, LK_EINVAL, "password", "the password can have at most %d characters",
                       LK_PASSWORD_MAX);
    size_t local = email ? strcspn(email, "@") : 0;
    if ((first && contains_word(password, first, strlen(first))) ||
        (last && contains_word(password, last, strlen(last))) || (email && contains_word(password, email, local)))
        return lk_fail(&op->err, LK_EINVAL, "password", "the password must not contain your name or email address");
    return LK_OK;
}

lk_code lk_password_for(lk_op *op, const lk_user *u, const char *password, char hash[LK_PASSWORD_HASH_MAX])
{
    lk_code rc = lk_password_check(op, password, u->email, u->first_name, u->last_name);
    if (rc != LK_OK)
        return rc;
    if (!lk_password_hash(password, hash, LK_PASSWORD_HASH_MAX))
        return lk_fail(&op->err, LK_ESTORE, "", "could not hash the password (out of memory?)");
    return LK_OK;
}

/* a fixed Argon2id string to verify against when no user matched, so that an
 * unknown address takes as long as a wrong password */
static char dummy[LK_PASSWORD_HASH_MAX];
static bool dummy_ready;

static void make_dummy(void)
{
    dummy_ready = lk_password_hash("latchkey-no-such-user", dummy, sizeof dummy);
}

static const char *dummy_hash(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_dummy);
    return dummy_ready ? dummy : NULL;
}

/* ---- sign-in ----------------------------------------------------------------------- */

static lk_code record_attempt(lk_op *op, const char *email, int64_t user_id, bool ok, const char *reason)
{
    /* the address as given, cut where a character ends: a split one would make the
     * row invalid UTF-8, which no JSON answer can carry (Login History would lose it) */
    char given[EMAIL_KEEP + 1];
    const char *e = email ? email : "";
    snprintf(given, sizeof given, "%.*s", (int)lk_utf8_cut(e, EMAIL_KEEP), e);
    lk_login_rec rec = {.at = op->now, .email = given, .user_id = user_id, .address = op->address,
                        .success = ok, .reason = reason};
    return op->store->ops->login_insert(op->store, &rec, &op->err);
}

/* why this user cannot sign in now, or NULL */
static const char *cannot_sign_in(const lk_user *u, int64_t now)
{
    const char *why = NULL;
    if (u->api_only)
        return "API-only user";
    lk_user_status st = lk_user_effective_status(u, now, &why);
    if (st == LK_STATUS_PENDING)
        return "invitation not accepted";
    if (st == LK_STATUS_LOCKED)
        return why && *why ? why : "locked";
    if (!u->password_hash || !*u->password_hash)
        return "no password";
    return NULL;
}

static lk_code new_session(lk_op *op, const lk_user *u, const lk_session_policy *pol, lk_session_token *out)
{
    char hash[LK_HASH_HEX];
    lk_secret_token(out->token, 32);
    lk_secret_hash(out->token, hash);
    lk_session s = {.token_hash = hash, .user_id = u->id, .address = op->address, .created_at = op->now,
                    .last_seen_at = op->now, .expires_at = op->now + max_age_of(pol)};
    return op->store->ops->session_insert(op->store, &s, &op->err);
}

/* A wrong password is counted (failed_logins, shown to administrators) and never locks:
 * failures may be a stranger's, and locking is an administrator's action. The server
 * throttles attempts instead (runtime/signin.h). */
static lk_code count_failure(lk_op *op, lk_user *u)
{
    u->failed_logins++;
    return op->store->ops->user_update(op->store, u, &op->err);
}

lk_code lk_login(lk_op *op, const char *email, const char *password, const lk_session_policy *pol, lk_user *user,
                 lk_session_token *out)
{
    memset(out, 0, sizeof *out);
    lk_user u = {0};
    bool found = email && *email && op->store->ops->user_find(op->store, op->arena, email, &u, &op->err) == LK_OK;
    /* the slow part before the transaction: the write lock is not held for it */
    bool match = false;
    if (found && u.password_hash && *u.password_hash)
        match = lk_password_verify(password ? password : "", u.password_hash);
    else if (dummy_hash())
        (void)lk_password_verify(password ? password : "", dummy_hash());

    lk_code rc = lk_tx_begin(op);
    if (rc != LK_OK)
        return rc;
    if (found && (rc = op->store->ops->user_get(op->store, op->arena, u.id, &u, &op->err)) != LK_OK)
        return lk_tx_end(op, rc);
    const char *why = !found ? "unknown email" : cannot_sign_in(&u, op->now);
    if (!why && !match) {
        why = "wrong password";
        rc = count_failure(op, &u);
    }
    if (rc == LK_OK)
        rc = record_attempt(op, email, found ? u.id : 0, why == NULL, why ? why : "");
    if (rc == LK_OK && !why) {
        u.failed_logins = 0;
        u.last_login_at = op->now;
        rc = op->store->ops->user_update(op->store, &u, &op->err);
        if (rc == LK_OK)
            rc = new_session(op, &u, pol, out);
        if (rc == LK_OK)
            *user = u;
    }
    rc = lk_tx_end(op, rc);
    if (rc != LK_OK) {
        sodium_memzero(out, sizeof *out);
        return rc;
    }
    if (why)
        return lk_fail(&op->err, LK_EAUTH, "", SIGN_IN_REFUSED);
    return LK_OK;
}

/* ---- sessions ------------------------------------------------------------------------ */

lk_code lk_session_check(lk_op *op, const char *token, const lk_session_policy *pol, lk_user *user, lk_session *out)
{
    if (!token || strlen(token) != LK_SESSION_TOKEN_LEN)
        return lk_fail(&op->err, LK_EAUTH, "", SESSION_ENDED);
    char hash[LK_HASH_HEX];
    lk_secret_hash(token, hash);
    lk_session s;
    lk_code rc = op->store->ops->session_find(op->store, op->arena, hash, &s, &op->err);
    if (rc == LK_ENOTFOUND)
        return lk_fail(&op->err, LK_EAUTH, "", SESSION_ENDED);
    if (rc != LK_OK)
        return rc;
    lk_user u;
    rc = op->store->ops->user_get(op->store, op->arena, s.user_id, &u, &op->err);
    if (rc != LK_OK && rc != LK_ENOTFOUND)
        return rc;
    bool ended = rc == LK_ENOTFOUND || op->now - s.last_seen_at >= idle_of(pol) || op->now >= s.expires_at ||
                 cannot_sign_in(&u, op->now) != NULL;
    if (ended || op->now > s.last_seen_at) {
        if ((rc = lk_tx_begin(op)) != LK_OK)
            return rc;
        rc = ended ? op->store->ops->session_delete(op->store, s.id, &op->err)
                   : op->store->ops->session_touch(op->store, s.id, op->now, &op->err);
        if ((rc = lk_tx_end(op, rc)) != LK_OK)
            return rc;
        s.last_seen_at = op->now;
    }
    if (ended)
        return lk_fail(&op->err, LK_EAUTH, "", SESSION_ENDED);
    *user = u;
    *out = s;
    return LK_OK;
}

lk_code lk_logout(lk_op *op, const char *token)
{
    if (!token || strlen(token) != LK_SESSION_TOKEN_LEN)
        return LK_OK;
    char hash[LK_HASH_HEX];
    lk_secret_hash(token, hash);
    lk_session s;
    lk_code rc = op->store->ops->session_find(op->store, op->arena, hash, &s, &op->err);
    if (rc == LK_ENOTFOUND)
        return LK_OK;
    if (rc == LK_OK && (rc = lk_tx_begin(op)) == LK_OK)
        rc = lk_tx_end(op, op->store->ops->session_delete(op->store, s.id, &op->err));
    return rc;
}

void lk_session_csrf(const char *token, char out[LK_HASH_HEX])
{
    static const char context[] = "latchkey console csrf v1";
    unsigned char mac[32];
    size_t klen = strlen(token);
    if (klen > crypto_generichash_KEYBYTES_MAX)
        klen = crypto_generichash_KEYBYTES_MAX;
    crypto_generichash(mac, sizeof mac, (const unsigned char *)context, sizeof context - 1,
                       (const unsigned char *)token, klen);
    sodium_bin2hex(out, LK_HASH_HEX, mac, sizeof mac);
}

bool lk_session_csrf_ok(const char *token, const char *csrf)
{
    if (!token || !csrf || strlen(csrf) != LK_HASH_HEX - 1)
        return false;
    char want[LK_HASH_HEX];
    lk_session_csrf(token, want);
    return sodium_memcmp(want, csrf, LK_HASH_HEX - 1) == 0;
}

lk_code lk_password_change(lk_op *op, int64_t user_id, const char *current, const char *fresh, int64_t keep_session_id)
{
    lk_user u;
    lk_code rc = op->store->ops->user_get(op->store, op->arena, user_id, &u, &op->err);
    if (rc != LK_OK)
        return rc;
    if (!u.password_hash || !lk_password_verify(current ? current : "", u.password_hash))
        return lk_fail(&op->err, LK_EINVAL, "current", "the current password is wrong");
    if ((rc = lk_password_check(op, fresh, u.email, u.first_name, u.last_name)) != LK_OK)
        return rc;
    if (strcmp(current, fresh) == 0)
        return lk_fail(&op->err, LK_EINVAL, "password", "the new password must differ from the current one");
    char hash[LK_PASSWORD_HASH_MAX];
    if (!lk_password_hash(fresh, hash, sizeof hash))
        return lk_fail(&op->err, LK_ESTORE, "", "could not hash the password (out of memory?)");
    if ((rc = lk_tx_begin(op)) != LK_OK)
        return rc;
    u.password_hash = hash;
    u.must_change_password = false;
    u.updated_at = op->now;
    rc = op->store->ops->user_update(op->store, &u, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->session_delete_user(op->store, u.id, keep_session_id, &op->err);
    if (rc == LK_OK) /* the person knows the password: pending reset links stop working */
        rc = op->store->ops->reset_end_user(op->store, u.id, op->now, &op->err);
    if (rc == LK_OK)
        rc = lk_audit_json(op, "User", "Change Password", u.email, json_pack("{s:s}", "email", u.email));
    sodium_memzero(hash, sizeof hash);
    return lk_tx_end(op, rc);
}

/* ---- first-admin setup ----------------------------------------------------------------- */

/* the stored setup token's hash, if one is stored and still within its lifetime */
static lk_code live_setup_hash(lk_op *op, const char **hash)
{
    *hash = NULL;
    const char *h = NULL, *until = NULL;
    lk_code rc = op->store->ops->setting_get(op->store, op->arena, SETUP_KEY, &h, &op->err);
    if (rc == LK_ENOTFOUND)
        return LK_OK;
    if (rc == LK_OK)
        rc = op->store->ops->setting_get(op->store, op->arena, SETUP_EXPIRES_KEY, &until, &op->err);
    if (rc == LK_ENOTFOUND)
        return LK_OK;   /* a token of before tokens expired: as good as none */
    if (rc != LK_OK)
        return rc;
    if (h && *h && until && op->now < strtoll(until, NULL, 10))
        *hash = h;
    return LK_OK;
}

lk_code lk_setup_forget(lk_op *op)
{
    const char *h = NULL;
    lk_code rc = op->store->ops->setting_get(op->store, op->arena, SETUP_KEY, &h, &op->err);
    if (rc == LK_ENOTFOUND || (rc == LK_OK && (!h || !*h)))
        return LK_OK;   /* nothing to forget: no write */
    if (rc == LK_OK)
        rc = op->store->ops->setting_set(op->store, SETUP_KEY, "", op->now, &op->err);
    return rc;
}

lk_code lk_setup_open(lk_op *op, lk_session_token *out)
{
    memset(out, 0, sizeof *out);
    lk_code rc = lk_tx_begin(op);
    if (rc != LK_OK)
        return rc;
    bool any = false;
    rc = lk_admin_any(op, &any);
    if (rc == LK_OK && any) {
        /* an earlier token never comes back to life, whatever happens to the admins */
        rc = lk_tx_end(op, lk_setup_forget(op));
        return rc != LK_OK ? rc : lk_fail(&op->err, LK_ERULE, "", "an administrator exists already; sign in instead");
    }
    char hash[LK_HASH_HEX], until[24];
    if (rc == LK_OK) {
        lk_secret_token(out->token, 32);
        lk_secret_hash(out->token, hash);
        snprintf(until, sizeof until, "%lld", (long long)(op->now + LK_SETUP_TTL));
        rc = op->store->ops->setting_set(op->store, SETUP_KEY, hash, op->now, &op->err);
    }
    if (rc == LK_OK)
        rc = op->store->ops->setting_set(op->store, SETUP_EXPIRES_KEY, until, op->now, &op->err);
    rc = lk_tx_end(op, rc);
    if (rc != LK_OK)
        sodium_memzero(out, sizeof *out);
    return rc;
}

lk_code lk_setup_pending(lk_op *op, bool *pending)
{
    *pending = false;
    bool any = false;
    lk_code rc = lk_admin_any(op, &any);
    if (rc != LK_OK || any)
        return rc;
    const char *hash = NULL;
    rc = live_setup_hash(op, &hash);
    *pending = rc == LK_OK && hash;
    return rc;
}

lk_code lk_setup_complete(lk_op *op, const char *token, const char *email, const char *first, const char *last,
                          const char *password, lk_user *out)
{
    lk_code rc = lk_password_check(op, password, email, first, last);
    if (rc != LK_OK)
        return rc;
    if ((rc = lk_tx_begin(op)) != LK_OK)
        return rc;
    const char *hash = NULL;
    bool any = false;
    rc = lk_admin_any(op, &any);
    if (rc == LK_OK)
        rc = live_setup_hash(op, &hash);
    if (rc == LK_OK && (any || !hash || !token || !lk_secret_verify(token, hash)))
        rc = lk_fail(&op->err, LK_EAUTH, "token", "this setup link is not valid (any more); an administrator "
                                                  "can be created with 'latchkey admin create'");
    /* the new admin forgets the token (lk_admin_create_password) */
    if (rc == LK_OK)
        rc = lk_admin_create_password(op, email, first, last, password, out);
    return lk_tx_end(op, rc);
}

static const char invitation_invalid[] = "this invitation link is not valid any more (used, expired or replaced); "
                                         "ask an administrator for a new invitation";

const char *lk_invitation_unusable(const lk_invitation *newest, int64_t id, const lk_user *u, int64_t now)
{
    if (newest->id != id)
        return "a newer invitation replaced it";
    if (newest->accepted_at || u->status != LK_STATUS_PENDING)
        return "the invitation was accepted";
    if (u->api_only)
        return "an API-only user needs no invitation";
    if (now >= newest->expires_at)
        return "the invitation expired";
    return NULL;
}

/* The invitation a token's hash names and its user, if the link may be used now;
 * LK_EAUTH (one message) otherwise. */
static lk_code usable_invitation(lk_op *op, const char *hash, lk_invitation *inv, lk_user *u)
{
    lk_invitation newest;
    lk_code rc = op->store->ops->invitation_by_hash(op->store, op->arena, hash, inv, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->user_get(op->store, op->arena, inv->user_id, u, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->invitation_for_user(op->store, op->arena, u->id, &newest, &op->err);
    if (rc == LK_ENOTFOUND)
        return lk_fail(&op->err, LK_EAUTH, "token", invitation_invalid);
    if (rc != LK_OK)
        return rc;
    if (lk_invitation_unusable(&newest, inv->id, u, op->now))
        return lk_fail(&op->err, LK_EAUTH, "token", invitation_invalid);
    return LK_OK;
}

lk_code lk_invitation_accept(lk_op *op, const char *token, const char *password, lk_user *out)
{
    if (!token || strlen(token) != LK_INVITE_TOKEN_LEN)
        return lk_fail(&op->err, LK_EAUTH, "token", invitation_invalid);
    char hash[LK_HASH_HEX];
    lk_secret_hash(token, hash);
    lk_invitation inv;
    lk_user u;
    char pw_hash[LK_PASSWORD_HASH_MAX];
    /* checked before Argon2id, and again inside the transaction (a change made meanwhile) */
    lk_code rc = usable_invitation(op, hash, &inv, &u);
    if (rc == LK_OK)
        rc = lk_password_for(op, &u, password, pw_hash);
    if (rc != LK_OK)
        return rc;
    if ((rc = lk_tx_begin(op)) != LK_OK) {
        sodium_memzero(pw_hash, sizeof pw_hash);
        return rc;
    }
    rc = usable_invitation(op, hash, &inv, &u);
    if (rc == LK_OK) {
        inv.accepted_at = op->now;
        u.status = LK_STATUS_ACTIVE;
        u.password_hash = pw_hash;
        u.updated_at = op->now;
        rc = op->store->ops->invitation_update(op->store, &inv, &op->err);
    }
    if (rc == LK_OK)
        rc = op->store->ops->user_update(op->store, &u, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->user_get(op->store, op->arena, u.id, out, &op->err);
    if (rc == LK_OK) {
        const char *actor = op->actor;
        op->actor = lk_arena_printf(op->arena, "user:%s", u.email);
        rc = lk_audit_json(op, "User", "Accept Invitation", u.email, json_pack("{s:s}", "email", u.email));
        op->actor = actor;
    }
    sodium_memzero(pw_hash, sizeof pw_hash);
    return lk_tx_end(op, rc);
}

lk_code lk_login_history(lk_op *op, const lk_login_filter *f, lk_login_rec **out, size_t *n)
{
    return op->store->ops->login_list(op->store, op->arena, f, out, n, &op->err);
}

lk_code lk_login_count(lk_op *op, const lk_login_filter *f, int64_t cap, int64_t *n)
{
    return op->store->ops->login_count(op->store, f, cap, n, &op->err);
}
