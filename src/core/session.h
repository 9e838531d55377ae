/*
 * session — signing in to the console: passwords, sessions, the login history and
 * the one-time setup of the first administrator.
 *
 * Rules kept here, whoever calls:
 *  - Only an active user who is not API-only and has a password can sign in. Every
 *    refusal gives the same LK_EAUTH message, whatever its cause (unknown email,
 *    wrong password, API-only, pending, locked, expired); the cause goes to the
 *    login history only.
 *  - Every attempt, refused or not, is one login-history row with time and address.
 *  - Wrong passwords in a row are counted (failed_logins; a success resets it) and
 *    never lock anyone: they may be a stranger's, and locking is an administrator's
 *    action. The server throttles attempts instead (runtime/signin.h).
 *  - A session token has 256 random bits and is stored only as its hash. A session
 *    ends after `idle` seconds without use, `max_age` after sign-in, at sign-out,
 *    or as soon as its user can no longer sign in.
 *  - The CSRF token of a session is derived from its token (a keyed BLAKE2b), so it
 *    needs no storage and changes with every session.
 *  - Passwords: LK_PASSWORD_MIN..LK_PASSWORD_MAX characters, not containing the
 *    user's first or last name or the local part of their email (case-insensitive,
 *    parts of 3 characters or more); stored as Argon2id.
 *  - Setup: while no administrator exists at all (no person holding Admin, whatever
 *    their status), lk_setup_open() makes a single-use setup token valid for
 *    LK_SETUP_TTL (only its hash is kept, in the settings); lk_setup_complete() with
 *    it creates the first Admin. A token dies as soon as any administrator exists,
 *    however made, and never comes back: making an Admin forgets it.
 */
#ifndef LK_CORE_SESSION_H
#define LK_CORE_SESSION_H

#include "core/op.h"

#define LK_PASSWORD_MIN 12
#define LK_PASSWORD_MAX 256
#define LK_SESSION_TOKEN_LEN 43        /* base64url of 32 random bytes */
#define LK_SESSION_IDLE_DEFAULT 1800
#define LK_SESSION_MAX_AGE_DEFAULT (12 * 3600)
#define LK_SETUP_TTL (24 * 3600)          /* a setup link's lifetime */

typedef struct lk_session_policy {
    int64_t idle;                       /* seconds without a request; 0: the default */
    int64_t max_age;                    /* seconds after sign-in; 0: the default */
} lk_session_policy;

/* a token shown once: a session's cookie value, or a setup token */
typedef struct lk_session_token {
    char token[LK_SESSION_TOKEN_LEN + 1];
} lk_session_token;

/* Signs in with email and password; on success a new session (out, shown once) and
 * the user. op->address is recorded with the attempt. */
lk_code lk_login(lk_op *op, const char *email, const char *password, const lk_session_policy *pol,
                 lk_user *user, lk_session_token *out);

/* The session a token names, valid at op->now, and its user; refreshes its idle
 * clock (a write at most once a second). LK_EAUTH when unknown or ended. */
lk_code lk_session_check(lk_op *op, const char *token, const lk_session_policy *pol, lk_user *user,
                         lk_session *out);

/* Ends the session (LK_OK when it did not exist). */
lk_code lk_logout(lk_op *op, const char *token);

/* The CSRF token of a session token: 64 hex digits into out. */
void lk_session_csrf(const char *token, char out[LK_HASH_HEX]);
/* constant-time: is csrf the CSRF token of this session token? */
bool lk_session_csrf_ok(const char *token, const char *csrf);

/* LK_EINVAL (field "password") unless the password follows the rules for this
 * person; email, first, last may be NULL */
lk_code lk_password_check(lk_op *op, const char *password, const char *email, const char *first,
                          const char *last);

/* Replaces a signed-in user's password; the current one must match. Clears the
 * one-time flag, ends the user's other sessions (keep_session_id stays), audited. */
lk_code lk_password_change(lk_op *op, int64_t user_id, const char *current, const char *fresh,
                           int64_t keep_session_id);

/* A new setup token (replacing an earlier one) while no administrator exists;
 * LK_ERULE (and any earlier token forgotten) once one does. */
lk_code lk_setup_open(lk_op *op, lk_session_token *out);
/* Is a setup token pending (unexpired, and no administrator)? */
lk_code lk_setup_pending(lk_op *op, bool *pending);
/* Creates the first Admin with the setup token; LK_EAUTH for a wrong or used token. */
lk_code lk_setup_complete(lk_op *op, const char *token, const char *email, const char *first, const char *last,
                          const char *password, lk_user *out);

/* Accepts an invitation: the single-use token of a pending user's newest invitation,
 * before it expires, and a password that follows the rules. The user becomes active
 * with that password; audited. LK_EAUTH for an unknown, used or expired token (one
 * message: ask for a new invitation). */
lk_code lk_invitation_accept(lk_op *op, const char *token, const char *password, lk_user *out);

/* the login history, newest first */
lk_code lk_login_history(lk_op *op, const lk_login_filter *f, lk_login_rec **out, size_t *n);
/* how many attempts f selects (cursor and limit aside), counting at most cap (0: all) */
lk_code lk_login_count(lk_op *op, const lk_login_filter *f, int64_t cap, int64_t *n);

#endif
