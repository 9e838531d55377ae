/*
 * mailq — the mail a change causes, and the sender's side of the queue (rules in
 * mailq.h).
 */
#include "core/mailq.h"
#include "core/internal.h"
#include "core/secret.h"
#include "core/user.h"
#include "util/text.h"
#include "util/timefmt.h"

#include <stdlib.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>

static const char *const status_names[] = {
    [LK_MAIL_QUEUED] = "queued",
    [LK_MAIL_SENT] = "sent",
    [LK_MAIL_FAILED] = "failed",
    [LK_MAIL_CANCELLED] = "cancelled",
};
#define N_STATUS (sizeof status_names / sizeof status_names[0])

const char *lk_mail_status_name(lk_mail_status s)
{
    return (size_t)s < N_STATUS ? status_names[s] : "failed";
}

int lk_mail_status_parse(const char *word)
{
    for (size_t i = 0; word && i < N_STATUS; i++)
        if (strcmp(word, status_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *lk_mail_lang(const char *lang)
{
    if (!lang)
        return NULL;
    static const char *const known[] = {"en", "de"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strncasecmp(lang, known[i], 2) == 0 && (lang[2] == '\0' || lang[2] == '-' || lang[2] == '_'))
            return known[i];
    return NULL;
}

/* ---- queueing ---------------------------------------------------------------- */

static const char *person_name(lk_op *op, const lk_user *u)
{
    return lk_arena_printf(op->arena, "%s %s", u->first_name, u->last_name);
}

/* "Ada Lovelace (ada@example.com)" for a console user, the API user for an API
 * call, NULL for the CLI and the system */
static const char *actor_display(lk_op *op)
{
    const char *a = op->actor ? op->actor : "";
    if (strncmp(a, "user:", 5) == 0) {
        lk_user u;
        lk_error saved = op->err;
        if (op->store->ops->user_find(op->store, op->arena, a + 5, &u, &op->err) == LK_OK)
            return lk_arena_printf(op->arena, "%s (%s)", person_name(op, &u), u.email);
        op->err = saved;
        return a + 5;
    }
    if (strncmp(a, "api:", 4) == 0) {
        size_t n = strcspn(a + 4, "/");
        return lk_arena_strndup(op->arena, a + 4, n);
    }
    return NULL;
}

/* the local part of a Message-ID: 32 random hex digits */
static const char *fresh_message_id(lk_op *op)
{
    char uuid[LK_UUID_LEN + 1], hex[33];
    lk_secret_uuid(uuid);
    size_t o = 0;
    for (const char *p = uuid; *p && o < 32; p++)
        if (*p != '-')
            hex[o++] = *p;
    hex[o] = '\0';
    return lk_arena_strdup(op->arena, hex);
}

/* queues one message to a user; vars is stolen */
static lk_code enqueue(lk_op *op, const char *kind, const lk_user *to, int64_t link_id, const char *lang,
                       json_t *vars)
{
    char *text = json_dumps(vars, JSON_COMPACT);
    json_decref(vars);
    if (!text)
        return lk_fail(&op->err, LK_ESTORE, "", "out of memory while queueing an email");
    lk_mail_rec m = {
        .kind = kind,
        .lang = lang,
        .recipient = to->email,
        .to_name = person_name(op, to),
        .user_id = to->id,
        .link_id = link_id,
        .vars = lk_arena_strdup(op->arena, text),
        .message_id = fresh_message_id(op),
        .status = LK_MAIL_QUEUED,
        .created_at = op->now,
        .next_at = op->now,
    };
    free(text);
    return op->store->ops->mail_insert(op->store, &m, &op->err);
}

/* the recipient's language, else the one given, else "": the server's mail_language
 * when the message is sent */
static const char *lang_for(const lk_user *u, const char *fallback)
{
    const char *l = lk_mail_lang(u->lang);
    if (!l)
        l = lk_mail_lang(fallback);
    return l ? l : "";
}

lk_code lk_mailq_invitation(lk_op *op, const lk_user *u, const lk_invitation *inv)
{
    if (u->api_only)
        return LK_OK;
    json_t *v = json_object();
    json_object_set_new(v, "message", json_string(inv->message ? inv->message : ""));
    const char *actor = actor_display(op);
    if (actor)
        json_object_set_new(v, "actor_name", json_string(actor));
    return enqueue(op, "invitation", u, inv->id, lang_for(u, NULL), v);
}

lk_code lk_mailq_reset(lk_op *op, const lk_user *u, const lk_reset *r, const char *lang)
{
    if (u->api_only)
        return LK_OK;
    const char *l = lk_mail_lang(lang);
    json_t *v = json_object();
    const char *actor = actor_display(op);
    if (actor)
        json_object_set_new(v, "actor_name", json_string(actor));
    return enqueue(op, "password_reset", u, r->id, l ? l : lang_for(u, NULL), v);
}

lk_code lk_mailq_forgot(lk_op *op, const char *email, int64_t ttl, const char *lang)
{
    const char *l = lk_mail_lang(lang);
    json_t *v = json_pack("{s:I, s:s}", "ttl", (json_int_t)ttl, "address", op->address ? op->address : "");
    char *text = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    if (!text)
        return lk_fail(&op->err, LK_ESTORE, "", "out of memory while queueing an email");
    lk_mail_rec m = {
        .kind = "password_reset",
        .lang = l ? l : "",
        .recipient = email,
        .to_name = "",
        .vars = lk_arena_strdup(op->arena, text),
        .message_id = fresh_message_id(op),
        .status = LK_MAIL_QUEUED,
        .created_at = op->now,
        .next_at = op->now,
    };
    free(text);
    lk_code rc = lk_tx_begin(op);
    if (rc == LK_OK)
        rc = op->store->ops->mail_insert(op->store, &m, &op->err);
    return lk_tx_end(op, rc);
}

/* every active Admin who can read mail (not API-only), but `except` */
static lk_code admins(lk_op *op, int64_t except, lk_user **out, size_t *n)
{
    lk_user *holders = NULL;
    size_t nh = 0;
    lk_code rc = op->store->ops->role_holders(op->store, op->arena, LK_ROLE_ADMIN, &holders, &nh, &op->err);
    *out = holders;
    *n = 0;
    for (size_t i = 0; rc == LK_OK && i < nh; i++)
        if (holders[i].id != except && !holders[i].api_only &&
            lk_user_effective_status(&holders[i], op->now, NULL) == LK_STATUS_ACTIVE)
            holders[(*n)++] = holders[i];
    return rc;
}

lk_code lk_mailq_admin_change(lk_op *op, const lk_user *subject, bool added)
{
    lk_user *to = NULL;
    size_t n = 0;
    lk_code rc = admins(op, subject->id, &to, &n);
    const char *actor = rc == LK_OK && n ? actor_display(op) : NULL;
    const char *who = lk_arena_printf(op->arena, "%s (%s)", person_name(op, subject), subject->email);
    for (size_t i = 0; rc == LK_OK && i < n; i++) {
        json_t *v = json_pack("{s:s}", "subject_user", who);
        if (actor)
            json_object_set_new(v, "actor_name", json_string(actor));
        rc = enqueue(op, added ? "admin_added" : "admin_removed", &to[i], 0, lang_for(&to[i], NULL), v);
    }
    return rc;
}

lk_code lk_mailq_email_changed(lk_op *op, const lk_user *before, const char *new_email)
{
    if (before->api_only)
        return LK_OK;
    /* no user id: the old address is nobody's any more, so the notice must not
     * follow the person to the new one (follow_recipient) */
    lk_user old = *before;
    old.id = 0;
    json_t *v = json_pack("{s:s}", "subject_user", new_email);
    const char *actor = actor_display(op);
    if (actor)
        json_object_set_new(v, "actor_name", json_string(actor));
    return enqueue(op, "email_changed", &old, 0, lang_for(before, NULL), v);
}

/* ---- expiry notices ---------------------------------------------------------- */

/* `days` is the notice (7 or 1); the message says how many days are really left */
static lk_code expiry_notices(lk_op *op, const lk_user *u, int notice, int *queued)
{
    int64_t left = u->expires_at - op->now;
    int days = left <= 0 ? 0 : (int)((left + 86399) / 86400);
    if (days > notice)
        days = notice;
    char when[LK_TIME_BUF];
    lk_time_format(u->expires_at, when);
    lk_code rc = LK_OK;
    if (!u->api_only && u->status != LK_STATUS_PENDING) {
        rc = enqueue(op, "expiry_notice", u, 0, lang_for(u, NULL),
                     json_pack("{s:s, s:i, s:i}", "expires_at", when, "days", days, "notice", notice));
        *queued += rc == LK_OK;
    }
    lk_user *to = NULL;
    size_t n = 0;
    if (rc == LK_OK)
        rc = admins(op, u->id, &to, &n);
    const char *who = lk_arena_printf(op->arena, "%s (%s)", person_name(op, u), u->email);
    for (size_t i = 0; rc == LK_OK && i < n; i++) {
        rc = enqueue(op, "expiry_notice", &to[i], 0, lang_for(&to[i], NULL),
                     json_pack("{s:s, s:i, s:i, s:b, s:s}", "expires_at", when, "days", days, "notice", notice,
                               "to_admin", 1, "subject_user", who));
        *queued += rc == LK_OK;
    }
    return rc;
}

lk_code lk_mailq_expiry_scan(lk_op *op, int *queued)
{
    int count = 0;
    lk_user *users = NULL;
    size_t n = 0;
    /* read first, so that a scan with nobody expiring takes no write lock */
    lk_code rc = op->store->ops->users_expiring(op->store, op->arena, op->now, op->now + 7 * 86400, &users, &n,
                                                &op->err);
    if (rc != LK_OK || n == 0) {
        if (queued)
            *queued = 0;
        return rc;
    }
    rc = lk_tx_begin(op);
    if (rc == LK_OK)
        rc = op->store->ops->users_expiring(op->store, op->arena, op->now, op->now + 7 * 86400, &users, &n,
                                            &op->err);
    for (size_t i = 0; rc == LK_OK && i < n; i++) {
        const lk_user *u = &users[i];
        /* the nearer notice only: one that starts within a day skips the 7-day one */
        int days = u->expires_at - op->now <= 86400 ? 1 : 7;
        bool fresh = false;
        rc = op->store->ops->notice_mark(op->store, u->id, u->expires_at, days, op->now, &fresh, &op->err);
        if (rc == LK_OK && fresh && days == 1) {
            bool ignored;
            rc = op->store->ops->notice_mark(op->store, u->id, u->expires_at, 7, op->now, &ignored, &op->err);
        }
        if (rc == LK_OK && fresh)
            rc = expiry_notices(op, u, days, &count);
    }
    rc = lk_tx_end(op, rc);
    if (queued)
        *queued = rc == LK_OK ? count : 0;
    return rc;
}

/* ---- the sender's side ------------------------------------------------------- */

static int64_t backoff(const lk_mail_policy *pol, int attempts)
{
    int64_t base = pol->retry_base > 0 ? pol->retry_base : 60;
    int64_t d = base;
    for (int i = 1; i < attempts && d < LK_MAILQ_BACKOFF_MAX; i++)
        d *= 2;
    return d < LK_MAILQ_BACKOFF_MAX ? d : (base > LK_MAILQ_BACKOFF_MAX ? base : LK_MAILQ_BACKOFF_MAX);
}

static lk_code audit_mail(lk_op *op, const char *action, const lk_mail_rec *m, const char *why)
{
    json_t *d = json_pack("{s:I, s:s, s:s, s:i}", "id", (json_int_t)m->id, "kind", m->kind, "to", m->recipient,
                          "attempts", m->attempts);
    if (why && *why)
        json_object_set_new(d, "reason", json_string(why));
    if (m->delivery && *m->delivery)
        json_object_set_new(d, "delivery", json_string(m->delivery));
    const char *actor = op->actor;
    op->actor = "system";
    lk_code rc = lk_audit_json(op, "Email", action, m->recipient, d);
    op->actor = actor;
    return rc;
}

/* a fresh token for the claim's link; returns its hash (in hash) */
static const char *mint(lk_mail_claim *c, char hash[LK_HASH_HEX])
{
    lk_secret_token(c->token, 32);
    lk_secret_hash(c->token, hash);
    return hash;
}

/* A "forgot password" request becomes a reset message to the person it names, in
 * the page's language, else theirs; NULL, or why it cannot (password.h). */
static const char *resolve_forgot(lk_op *op, lk_mail_rec *m, lk_code *rc)
{
    lk_user u;
    lk_reset r;
    const char *why = lk_password_forgot_resolve(op, m, &u, &r, rc);
    if (why || *rc != LK_OK)
        return why;
    m->user_id = u.id;
    m->link_id = r.id;
    m->recipient = u.email;
    m->to_name = person_name(op, &u);
    m->lang = lk_mail_lang(m->lang) ? lk_mail_lang(m->lang) : lang_for(&u, NULL);
    return NULL;
}

/* A message to a user goes to the user's address of now. A link cannot follow a
 * changed address (it was asked for the old one): NULL when the message may go,
 * else why not. A notice follows the user to the new address. */
static const char *follow_recipient(lk_op *op, lk_mail_rec *m, lk_code *rc)
{
    *rc = LK_OK;
    if (!m->user_id)
        return NULL;
    lk_user u;
    lk_error saved = op->err;
    *rc = op->store->ops->user_get(op->store, op->arena, m->user_id, &u, &op->err);
    if (*rc == LK_ENOTFOUND) {
        op->err = saved;
        *rc = LK_OK;
        return "the recipient was deleted";
    }
    if (*rc != LK_OK || lk_str_ieq(u.email, m->recipient))
        return NULL;
    if (m->link_id)
        return "the recipient's address changed";
    m->recipient = u.email;
    m->to_name = person_name(op, &u);
    return NULL;
}

/* Is the link of an invitation usable? Mints its token when it is. NULL when it
 * is; otherwise why not. */
static const char *mint_invitation(lk_op *op, lk_mail_claim *c, lk_code *rc)
{
    lk_invitation inv, newest;
    lk_user u;
    lk_error saved = op->err;
    *rc = op->store->ops->invitation_for_user(op->store, op->arena, c->rec.user_id, &newest, &op->err);
    if (*rc == LK_OK)
        *rc = op->store->ops->user_get(op->store, op->arena, c->rec.user_id, &u, &op->err);
    if (*rc == LK_ENOTFOUND) {
        op->err = saved;
        *rc = LK_OK;
        return "the invitation was deleted";
    }
    if (*rc != LK_OK)
        return NULL;
    const char *why = lk_invitation_unusable(&newest, c->rec.link_id, &u, op->now);
    if (why)
        return why;
    inv = newest;
    char hash[LK_HASH_HEX];
    inv.token_hash = mint(c, hash);
    *rc = op->store->ops->invitation_update(op->store, &inv, &op->err);
    c->link_expires = inv.expires_at;
    return NULL;
}

static const char *mint_reset(lk_op *op, lk_mail_claim *c, lk_code *rc)
{
    lk_reset r, newest;
    lk_user u;
    lk_error saved = op->err;
    *rc = op->store->ops->reset_get(op->store, op->arena, c->rec.link_id, &r, &op->err);
    if (*rc == LK_OK)
        *rc = op->store->ops->reset_for_user(op->store, op->arena, r.user_id, &newest, &op->err);
    if (*rc == LK_OK)
        *rc = op->store->ops->user_get(op->store, op->arena, r.user_id, &u, &op->err);
    if (*rc == LK_ENOTFOUND) {
        op->err = saved;
        *rc = LK_OK;
        return "the password reset was deleted with its user";
    }
    if (*rc != LK_OK)
        return NULL;
    const char *why = lk_reset_unusable(&newest, r.id, &u, op->now);
    if (why)
        return why;
    char hash[LK_HASH_HEX];
    r.token_hash = mint(c, hash);
    *rc = op->store->ops->reset_update(op->store, &r, &op->err);
    c->link_expires = r.expires_at;
    return NULL;
}

lk_code lk_mailq_claim(lk_op *op, lk_mail_claim *out)
{
    for (;;) {
        memset(out, 0, sizeof *out);
        /* a plain read first: an idle queue costs no write lock */
        lk_error saved = op->err;
        lk_code rc = op->store->ops->mail_due(op->store, op->arena, op->now, &out->rec, &op->err);
        if (rc != LK_OK) {
            if (rc == LK_ENOTFOUND)
                op->err = saved;
            return rc;
        }
        rc = lk_tx_begin(op);
        if (rc != LK_OK)
            return rc;
        rc = op->store->ops->mail_due(op->store, op->arena, op->now, &out->rec, &op->err);
        if (rc == LK_ENOTFOUND) {
            op->err = saved;
            return lk_tx_end(op, LK_ENOTFOUND);
        }
        const int was = out->rec.attempts;
        const char *unusable = NULL;
        bool forgot = rc == LK_OK && strcmp(out->rec.kind, "password_reset") == 0 && !out->rec.link_id;
        if (forgot)
            unusable = resolve_forgot(op, &out->rec, &rc);
        if (rc == LK_OK && !unusable)
            unusable = follow_recipient(op, &out->rec, &rc);
        if (rc == LK_OK && !unusable && strcmp(out->rec.kind, "invitation") == 0)
            unusable = mint_invitation(op, out, &rc);
        else if (rc == LK_OK && !unusable && strcmp(out->rec.kind, "password_reset") == 0)
            unusable = mint_reset(op, out, &rc);
        if (rc == LK_OK && unusable) {
            out->rec.status = LK_MAIL_CANCELLED;
            out->rec.done_at = op->now;
            out->rec.last_error = unusable;
            rc = op->store->ops->mail_update(op->store, &out->rec, was, &op->err);
            /* a request for an address of nobody is not an event of anybody's */
            if (rc == LK_OK && out->rec.user_id)
                rc = audit_mail(op, "Cancel", &out->rec, unusable);
            if ((rc = lk_tx_end(op, rc)) != LK_OK)
                return rc;
            continue;
        }
        out->rec.attempts++;
        out->rec.next_at = op->now + LK_MAILQ_LEASE;
        if (rc == LK_OK)
            rc = op->store->ops->mail_update(op->store, &out->rec, was, &op->err);
        rc = lk_tx_end(op, rc);
        if (rc != LK_OK)
            sodium_memzero(out->token, sizeof out->token);
        return rc;
    }
}

lk_code lk_mailq_finish(lk_op *op, const lk_mail_policy *pol, const lk_mail_claim *c, const lk_mail_result *res)
{
    lk_mail_rec m = c->rec;
    const char *action = NULL;
    if (!res->sent && res->interrupted) {
        /* not the message's fault: due again at the next start, the attempt not counted */
        m.attempts--;
        m.next_at = op->now;
        m.last_error = res->error && *res->error ? res->error : "interrupted";
    } else if (res->sent) {
        m.status = LK_MAIL_SENT;
        m.done_at = op->now;
        m.last_error = "";
        m.delivery = res->delivery ? res->delivery : "";
        action = "Send";
    } else {
        m.last_error = res->error && *res->error ? res->error : "unknown error";
        int max = pol->max_attempts > 0 ? pol->max_attempts : 1;
        if (res->permanent || m.attempts >= max) {
            m.status = LK_MAIL_FAILED;
            m.done_at = op->now;
            action = "Give Up";
        } else {
            m.next_at = op->now + backoff(pol, m.attempts);
        }
    }
    lk_code rc = lk_tx_begin(op);
    if (rc == LK_OK)
        rc = op->store->ops->mail_update(op->store, &m, c->rec.attempts, &op->err);
    if (rc == LK_OK && action)
        rc = audit_mail(op, action, &m, res->sent ? NULL : m.last_error);
    return lk_tx_end(op, rc);
}

lk_code lk_mailq_list(lk_op *op, const lk_mail_filter *f, lk_mail_rec **out, size_t *n)
{
    return op->store->ops->mail_list(op->store, op->arena, f, out, n, &op->err);
}

lk_code lk_mailq_count(lk_op *op, const lk_mail_filter *f, int64_t cap, int64_t *n)
{
    return op->store->ops->mail_count(op->store, f, cap, n, &op->err);
}
