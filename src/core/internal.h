/*
 * internal — helpers shared by the core's modules and by nobody else: the
 * transaction bracket, input checks that produce the catalog's messages, and the
 * audit snapshot builder. Not part of the core's public API.
 */
#ifndef LK_CORE_INTERNAL_H
#define LK_CORE_INTERNAL_H

#include <jansson.h>

#include "core/op.h"
#include "core/secret.h"

/* BEGIN a write transaction; inside one already, the call joins it (the outermost
 * lk_tx_end commits or rolls back) */
lk_code lk_tx_begin(lk_op *op);
/* COMMIT when rc is LK_OK (returning the commit's result), else ROLLBACK and return rc;
 * after a refusal by core/authz.h (LK_EDENIED) its Denied event is then recorded in a
 * transaction of its own */
lk_code lk_tx_end(lk_op *op, lk_code rc);

/* Records the Denied event of the op's last refusal (op->denied) in its own
 * transaction, and forgets it; op->err keeps the refusal. */
void lk_authz_record_denied(lk_op *op);

/* Required human text: 1..max characters of UTF-8, no control characters, not blank.
 * label names it in messages ("first name"). */
lk_code lk_check_name(lk_op *op, const char *field, const char *label, const char *s, long max);
/* Optional free text (NULL or ""), <= max characters, newlines allowed. */
lk_code lk_check_text(lk_op *op, const char *field, const char *label, const char *s, long max);
/* Parses an expiry that must lie in the future; "never" (if allowed) gives 0. */
lk_code lk_check_expiry(lk_op *op, const char *field, const char *s, bool allow_never, int64_t *out);

/* Records an audit event whose details are a JSON object (reference stolen). */
lk_code lk_audit_json(lk_op *op, const char *area, const char *action, const char *target, json_t *details);

/* Snapshots for audit details (new references; never contain secrets). */
json_t *lk_snap_role(const lk_role *r);
json_t *lk_snap_user(const lk_user *u);
json_t *lk_snap_grants(const lk_grant *g, size_t n);
json_t *lk_snap_time(int64_t t);     /* ISO-8601 string, or null for 0 */

/* A new password for u: checked against the password rules (core/session.h), then
 * hashed with Argon2id into hash (the caller wipes it). */
lk_code lk_password_for(lk_op *op, const lk_user *u, const char *password, char hash[LK_PASSWORD_HASH_MAX]);

/* Why the link of an invitation (session.c) or password reset (password.c) with
 * this id cannot be used at now, given the user's newest one and the user; NULL when
 * it can. Accepting or resetting and sending by mail keep the same rules. */
const char *lk_invitation_unusable(const lk_invitation *newest, int64_t id, const lk_user *u, int64_t now);
const char *lk_reset_unusable(const lk_reset *newest, int64_t id, const lk_user *u, int64_t now);

/* Mail a change causes (core/mailq.c), queued inside the caller's transaction;
 * nothing for API-only recipients. */
lk_code lk_mailq_invitation(lk_op *op, const lk_user *u, const lk_invitation *inv);
lk_code lk_mailq_reset(lk_op *op, const lk_user *u, const lk_reset *r, const char *lang);
/* a "forgot password" request for the address as given (password.h) */
lk_code lk_mailq_forgot(lk_op *op, const char *email, int64_t ttl, const char *lang);
/* Resolves a queued "forgot password" request (a password_reset message without a
 * link) to the active person with that email: a new reset for them (u, r), audited.
 * NULL when it did, else why not (*rc LK_OK), or NULL with *rc set when the store
 * failed. */
const char *lk_password_forgot_resolve(lk_op *op, const lk_mail_rec *m, lk_user *u, lk_reset *r, lk_code *rc);
/* to every other active Admin: subject was made an Admin (added) or is no longer one */
lk_code lk_mailq_admin_change(lk_op *op, const lk_user *subject, bool added);
/* to the old address of a person (before: the record as it was) whose email became
 * new_email: a notice without a link; nothing for API-only users. It goes to that
 * old address, never after the person to the new one. */
lk_code lk_mailq_email_changed(lk_op *op, const lk_user *before, const char *new_email);

/* Forgets a pending setup token (session.c), inside the caller's transaction: done
 * whenever someone becomes an Admin. */
lk_code lk_setup_forget(lk_op *op);

/* "a@x, b@y, c@z and 4 more" in the op's arena */
const char *lk_join_names(lk_op *op, const char *const *names, size_t n);

#endif
