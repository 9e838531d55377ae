/*
 * mailq — the durable queue of outgoing email, as the domain sees it: which
 * messages a change causes (invitations, password resets, expiry notices, notices
 * to the admins), in whose language, and how the sender takes a message, tries it
 * and records the outcome. Rendering and delivery live elsewhere (src/mail/,
 * runtime/mailer); this module only reads and writes the store.
 *
 * Rules kept here, whoever calls:
 *  - A message is queued in the same transaction as the change that causes it, so
 *    a committed change always has its mail, and a rolled-back one has none.
 *  - A message is in its recipient's language (users.lang), or in the one a
 *    "forgot password" page asked for; else its lang is "" and the sender uses the
 *    server's mail_language.
 *  - API-only users never get mail: no invitation, no reset, no notice to them
 *    (the admins are still told when an API-only user's access expires).
 *  - The queue holds no secret. A message with a link names the invitation or
 *    reset; lk_mailq_claim() mints a fresh token for it at every attempt and stores
 *    only its hash, so each attempt's link replaces the previous one. A link that
 *    can no longer be used (accepted, replaced, expired, its user deleted, the
 *    address changed) cancels the message instead; a notice follows its recipient
 *    to a changed address.
 *  - A "forgot password" request is queued as a password_reset message without a
 *    link, for the address as typed; the claim resolves it (core/password.h) into a
 *    reset for an active person, or cancels it.
 *  - At least once: the claim moves next_at ahead by LK_MAILQ_LEASE before the
 *    attempt, so a crash during an attempt means one more attempt later, with the
 *    same Message-ID (a receiver may see a message twice, never lose one).
 *  - Backoff: attempt n failing waits retry_base * 2^(n-1) seconds, at most an
 *    hour; after max_attempts, or a permanent refusal, it is failed. An attempt cut
 *    short by the server's shutdown does not count and is due again at once.
 *  - An outcome is recorded only by the attempt that holds the claim (the message's
 *    attempts unchanged since): a late finish after the lease ran out is refused.
 */
#ifndef LK_CORE_MAILQ_H
#define LK_CORE_MAILQ_H

#include "core/op.h"

#define LK_MAILQ_LEASE 300            /* seconds an attempt may take before it is retried */
#define LK_MAILQ_BACKOFF_MAX 3600
#define LK_MAILQ_TOKEN_LEN 43         /* base64url of 32 random bytes */
#define LK_RESET_TTL_DEFAULT (24 * 3600)

/* how the queue behaves (from the server's configuration) */
typedef struct lk_mail_policy {
    int64_t retry_base;               /* seconds before the first retry */
    int max_attempts;
} lk_mail_policy;

/* a message taken for an attempt, with its link's token when it has one */
typedef struct lk_mail_claim {
    lk_mail_rec rec;                  /* arena; attempts already counts this attempt */
    char token[LK_MAILQ_TOKEN_LEN + 1]; /* "" when the message has no link; shown once */
    int64_t link_expires;             /* when that link stops working; 0 without one */
} lk_mail_claim;

/* the outcome of one attempt */
typedef struct lk_mail_result {
    bool sent;
    bool interrupted;                 /* the server stopped during the attempt: not counted */
    bool permanent;                   /* a refusal that retrying cannot mend */
    const char *error;                /* why it failed (no secret in it); NULL when sent */
    const char *delivery;             /* "smtp HOST:PORT" or the .eml written */
} lk_mail_result;

/* "queued", "sent", "failed", "cancelled" */
const char *lk_mail_status_name(lk_mail_status s);
/* -1 for an unknown word */
int lk_mail_status_parse(const char *word);
/* "en" or "de" when lang is one of them (case-insensitive, "de-DE" too), else NULL */
const char *lk_mail_lang(const char *lang);

/* Takes the message due first for an attempt: LK_ENOTFOUND when none is due.
 * Messages whose link cannot be used any more are cancelled on the way (audited)
 * and skipped. */
lk_code lk_mailq_claim(lk_op *op, lk_mail_claim *out);
/* Records how the attempt went (audited when sent, failed or given up). */
lk_code lk_mailq_finish(lk_op *op, const lk_mail_policy *pol, const lk_mail_claim *c, const lk_mail_result *res);

/* Queues the expiry notices that are due at op->now: for each user whose access
 * ends within 7 days (or 1 day), once per expiry instant and notice. *queued:
 * messages added (may be NULL). */
lk_code lk_mailq_expiry_scan(lk_op *op, int *queued);

/* the queue, newest first */
lk_code lk_mailq_list(lk_op *op, const lk_mail_filter *f, lk_mail_rec **out, size_t *n);
/* how many messages f selects (cursor and limit aside), counting at most cap (0: all) */
lk_code lk_mailq_count(lk_op *op, const lk_mail_filter *f, int64_t cap, int64_t *n);

#endif
