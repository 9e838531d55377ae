/*
 * password — resetting a console user's password by email.
 *
 * Rules kept here, whoever calls:
 *  - A reset is for an active person only (not API-only, not pending, not locked or
 *    expired). It is a single-use link valid for `ttl` seconds (0: a day), mailed to
 *    the user (core/mailq.h); only its hash is stored, and a newer reset replaces it.
 *  - "Forgot password" answers the same whatever the address, and costs the same: it
 *    queues a request; the mailer turns it into a reset only for an active person's
 *    email (not a user id), at most one per LK_FORGOT_INTERVAL, and cancels it
 *    otherwise (visible in the queue, not in the answer).
 *  - Setting a password from a link follows the password rules (core/session.h),
 *    uses the link up, clears a failed-sign-in count and ends the user's sessions.
 *    Every refused link gives the same LK_EAUTH message.
 */
#ifndef LK_CORE_PASSWORD_H
#define LK_CORE_PASSWORD_H

#include "core/op.h"

#define LK_FORGOT_INTERVAL 60   /* seconds between two self-service resets of one person */

/* An administrator's reset: audited, emailed in the user's language. */
lk_code lk_password_reset_request(lk_op *op, const char *key, int64_t ttl, lk_user *out);
/* Self-service "forgot password": queues the request for the address as given, in
 * lang (the page's language; NULL: the person's), whatever the address; the mailer
 * resolves it (core/mailq.h): a reset for an active person's email, nothing
 * otherwise. So every well-formed address costs the same here: one insert. LK_OK
 * unless the store fails. */
lk_code lk_password_forgot(lk_op *op, const char *email, int64_t ttl, const char *lang);
/* Sets the password from a reset link's token; the user in out. */
lk_code lk_password_reset_complete(lk_op *op, const char *token, const char *password, lk_user *out);

#endif
