/* test_mailq — the email queue: what changes queue, claiming (link minting, lease),
 * outcomes (backoff, giving up, cancelling), expiry notices and password resets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/mailq.h"
#include "core/password.h"
#include "core/role.h"
#include "core/session.h"
#include "core/user.h"
#include "expect.h"
#include "fixture.h"

#include <jansson.h>
#include <string.h>

#define PASSWORD "correct horse battery"

static const lk_mail_policy POLICY = {.retry_base = 10, .max_attempts = 3};

/* the first Admin, and the roles "Staff" (console) and "API" (REST) */
static lk_user make_admin(lk_fixture *f, const char *email)
{
    const char *staff[] = {"Access Users"}, *api[] = {"Read-Only Lead"};
    lk_role r;
    lk_op *rop = lk_fixture_op(f);
    expect_ok(rop, lk_role_create(rop, "Staff", "", staff, 1, &r));
    rop = lk_fixture_op(f);
    expect_ok(rop, lk_role_create(rop, "API", "", api, 1, &r));
    return setup_admin(f, email, PASSWORD);
}

static lk_user invite(lk_fixture *f, const char *email, const char *role, bool api_only, const char *lang,
                      const char *expires)
{
    lk_grant_ref g = {.role = role};
    lk_user_input in = {.email = email, .first_name = "Grace", .last_name = "Hopper", .grants = &g, .n_grants = 1,
                        .api_only = api_only, .lang = lang, .message = "Welcome", .expires = expires};
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    return u;
}

/* as if the person had accepted the invitation */
static void activate(lk_fixture *f, const char *email)
{
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, op->store->ops->user_find(op->store, op->arena, email, &u, &op->err));
    u.status = LK_STATUS_ACTIVE;
    expect_ok(op, op->store->ops->user_update(op->store, &u, &op->err));
}

static lk_mail_rec *queue(lk_fixture *f, int status, size_t *n)
{
    lk_mail_filter flt = {.status = status};
    lk_mail_rec *recs = NULL;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_mailq_list(op, &flt, &recs, n));
    return recs;
}

static long queued_to(lk_fixture *f, const char *kind, const char *to)
{
    size_t n;
    lk_mail_rec *r = queue(f, LK_MAIL_QUEUED, &n);
    long k = 0;
    for (size_t i = 0; i < n; i++)
        k += strcmp(r[i].kind, kind) == 0 && strcmp(r[i].recipient, to) == 0;
    return k;
}

/* claims at `now` (0: the fixture's clock) */
static lk_code claim(lk_fixture *f, int64_t now, lk_mail_claim *c)
{
    lk_op *op = lk_fixture_op(f);
    if (now)
        op->now = now;
    return lk_mailq_claim(op, c);
}

static void finish(lk_fixture *f, int64_t now, const lk_mail_claim *c, bool sent, bool permanent)
{
    lk_mail_result res = {.sent = sent, .permanent = permanent, .error = sent ? NULL : "connection refused",
                          .delivery = "smtp 127.0.0.1:25"};
    lk_op *op = lk_fixture_op(f);
    if (now)
        op->now = now;
    expect_ok(op, lk_mailq_finish(op, &POLICY, c, &res));
}

/* claims every due message and records it sent */
static void send_all(lk_fixture *f)
{
    lk_mail_claim c;
    while (claim(f, 0, &c) == LK_OK)
        finish(f, 0, &c, true, false);
}

static void invitation_queued_with_the_user(void **state)
{
    lk_fixture *f = *state;
    make_admin(f, "ada@example.com");
    invite(f, "grace@example.com", "Admin", false, "de", NULL);
    size_t n;
    lk_mail_rec *r = queue(f, LK_MAIL_QUEUED, &n);
    assert_int_equal(n, 2);
    /* newest first: the notice to the other admin, then the invitation */
    assert_string_equal(r[0].kind, "admin_added");
    assert_string_equal(r[0].recipient, "ada@example.com");
    assert_non_null(strstr(r[0].vars, "grace@example.com"));
    assert_string_equal(r[1].kind, "invitation");
    assert_string_equal(r[1].recipient, "grace@example.com");
    assert_string_equal(r[1].to_name, "Grace Hopper");
    assert_string_equal(r[1].lang, "de");
    assert_non_null(strstr(r[1].vars, "Welcome"));
    assert_int_equal(strlen(r[1].message_id), 32);
    assert_string_equal(lk_fixture_text(f, "SELECT lang FROM users WHERE email = 'grace@example.com'"), "de");

    /* an API-only user gets nothing, and a failed invitation queues nothing */
    invite(f, "robot@example.com", "API", true, "de", NULL);
    lk_grant_ref g = {.role = "Admin"};
    lk_user_input dup = {.email = "grace@example.com", .first_name = "G", .last_name = "H", .grants = &g,
                         .n_grants = 1};
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_user_invite(op, &dup, &u, NULL), LK_EEXISTS, "email", NULL);
    assert_int_equal(lk_fixture_count(f, "mail_queue"), 2);
    assert_int_equal(queued_to(f, "invitation", "robot@example.com"), 0);
    assert_int_equal(queued_to(f, "admin_added", "robot@example.com"), 0);
}

static void claim_mints_the_link(void **state)
{
    lk_fixture *f = *state;
    make_admin(f, "ada@example.com");
    lk_grant_ref g = {.role = "Staff"};
    lk_user_input in = {.email = "grace@example.com", .first_name = "Grace", .last_name = "Hopper", .grants = &g,
                        .n_grants = 1};
    lk_user u;
    lk_invite_token made;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, &made));
    const char *hash_before = lk_fixture_text(f, "SELECT token_hash FROM invitations");

    lk_mail_claim c;
    expect_ok(&f->op, claim(f, 0, &c));
    assert_string_equal(c.rec.kind, "invitation");
    assert_int_equal(strlen(c.token), LK_MAILQ_TOKEN_LEN);
    assert_int_equal(c.rec.attempts, 1);
    assert_true(c.link_expires > f->op.now);
    assert_string_not_equal(lk_fixture_text(f, "SELECT token_hash FROM invitations"), hash_before);
    expect_not_in_db(f, c.token);
    /* leased: not due again until the lease ends */
    lk_mail_claim again;
    assert_int_equal(claim(f, 0, &again), LK_ENOTFOUND);
    expect_ok(&f->op, claim(f, f->op.now + LK_MAILQ_LEASE, &again));
    assert_int_equal(again.rec.id, c.rec.id);
    assert_int_equal(again.rec.attempts, 2);
    /* each attempt's link replaces the one before: the invite's and the first are dead */
    op = lk_fixture_op(f);
    expect_err(op, lk_invitation_accept(op, made.token, PASSWORD, &u), LK_EAUTH, "token", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_invitation_accept(op, c.token, PASSWORD, &u), LK_EAUTH, "token", NULL);

    finish(f, 0, &again, true, false);
    op = lk_fixture_op(f);
    expect_ok(op, lk_invitation_accept(op, again.token, PASSWORD, &u));
    lk_mail_rec got;
    op = lk_fixture_op(f);
    expect_ok(op, op->store->ops->mail_get(op->store, op->arena, again.rec.id, &got, &op->err));
    assert_int_equal(got.status, LK_MAIL_SENT);
    assert_string_equal(got.delivery, "smtp 127.0.0.1:25");
    assert_int_not_equal(got.done_at, 0);
    assert_string_equal(lk_fixture_text(f, "SELECT count(*) FROM audit_events WHERE area = 'Email' AND action = "
                                           "'Send' AND target = 'grace@example.com'"),
                        "1");
    expect_not_in_audit(f, again.token);
}

static void failures_back_off_then_give_up(void **state)
{
    lk_fixture *f = *state;
    make_admin(f, "ada@example.com");
    send_all(f);
    invite(f, "grace@example.com", "Staff", false, NULL, NULL);
    send_all(f);
    /* the invitation went: queue a fresh one through a resend */
    lk_invitation inv;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_resend_invitation(op, "grace@example.com", NULL, 0, &inv));
    int64_t t = f->op.now;
    lk_mail_claim c;
    expect_ok(&f->op, claim(f, t, &c));
    finish(f, t, &c, false, false);
    size_t n;
    lk_mail_rec *r = queue(f, LK_MAIL_QUEUED, &n);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].next_at, t + 10);          /* retry_base */
    assert_string_equal(r[0].last_error, "connection refused");
    assert_int_equal(claim(f, t + 9, &c), LK_ENOTFOUND);
    expect_ok(&f->op, claim(f, t + 10, &c));
    finish(f, t + 10, &c, false, false);
    r = queue(f, LK_MAIL_QUEUED, &n);
    assert_int_equal(r[0].next_at, t + 10 + 20);     /* doubled */
    expect_ok(&f->op, claim(f, t + 30, &c));
    finish(f, t + 30, &c, false, false);             /* the third of max_attempts 3 */
    r = queue(f, LK_MAIL_FAILED, &n);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].attempts, 3);
    assert_int_equal(claim(f, t + 100000, &c), LK_ENOTFOUND);
    assert_string_equal(lk_fixture_text(f, "SELECT action FROM audit_events ORDER BY id DESC LIMIT 1"), "Give Up");

    /* a permanent refusal fails at once */
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_resend_invitation(op, "grace@example.com", NULL, 0, &inv));
    expect_ok(&f->op, claim(f, 0, &c));
    finish(f, 0, &c, false, true);
    r = queue(f, LK_MAIL_FAILED, &n);
    assert_int_equal(n, 2);
    assert_int_equal(r[0].attempts, 1);
}

static void unusable_links_cancel(void **state)
{
    lk_fixture *f = *state;
    make_admin(f, "ada@example.com");
    send_all(f);
    invite(f, "grace@example.com", "Staff", false, NULL, NULL);
    /* a resend before the first went: the first is cancelled, the second goes */
    lk_invitation inv;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_resend_invitation(op, "grace@example.com", "Second try", 0, &inv));
    assert_int_equal(queued_to(f, "invitation", "grace@example.com"), 2);
    lk_mail_claim c;
    int sent = 0;
    while (claim(f, 0, &c) == LK_OK) {
        if (strcmp(c.rec.kind, "invitation") == 0) {
            assert_non_null(strstr(c.rec.vars, "Second try"));
            sent++;
        }
        finish(f, 0, &c, true, false);
    }
    assert_int_equal(sent, 1);
    size_t n;
    lk_mail_rec *r = queue(f, LK_MAIL_CANCELLED, &n);
    assert_int_equal(n, 1);
    assert_non_null(strstr(r[0].last_error, "newer invitation"));

    /* a deleted pending user: its queued invitation is cancelled */
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_resend_invitation(op, "grace@example.com", NULL, 0, &inv));
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_delete_scoped(op, "grace@example.com", LK_SCOPE_PENDING));
    assert_int_equal(claim(f, 0, &c), LK_ENOTFOUND);
    r = queue(f, LK_MAIL_CANCELLED, &n);
    assert_int_equal(n, 2);

    /* resending is for pending people only */
    invite(f, "robot@example.com", "API", true, NULL, NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_user_resend_invitation(op, "robot@example.com", NULL, 0, &inv), LK_ERULE, "user", "API-only");
    op = lk_fixture_op(f);
    expect_err(op, lk_user_resend_invitation(op, "ada@example.com", NULL, 0, &inv), LK_ERULE, "user",
               "password reset");
}

static void expiry_notices_once_each(void **state)
{
    lk_fixture *f = *state;
    make_admin(f, "ada@example.com");
    int64_t t = f->op.now;
    invite(f, "grace@example.com", "Staff", false, NULL, iso(f, t + 3 * 86400));
    invite(f, "soon@example.com", "Staff", false, NULL, iso(f, t + 12 * 3600));
    invite(f, "robot@example.com", "API", true, NULL, iso(f, t + 2 * 86400));
    invite(f, "later@example.com", "Staff", false, NULL, iso(f, t + 30 * 86400));
    invite(f, "pending@example.com", "Staff", false, NULL, iso(f, t + 3 * 86400));
    activate(f, "grace@example.com");
    activate(f, "soon@example.com");
    activate(f, "later@example.com");
    send_all(f);

    int queued = 0;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_mailq_expiry_scan(op, &queued));
    /* grace and soon: themselves and ada; robot (API-only) and pending (has not
     * accepted): ada only; later: nobody yet */
    assert_int_equal(queued, 6);
    size_t n;
    lk_mail_rec *r = queue(f, LK_MAIL_QUEUED, &n);
    int to_ada = 0, days1 = 0;
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(r[i].kind, "expiry_notice");
        assert_string_not_equal(r[i].recipient, "robot@example.com");
        assert_string_not_equal(r[i].recipient, "later@example.com");
        assert_string_not_equal(r[i].recipient, "pending@example.com");
        to_ada += strcmp(r[i].recipient, "ada@example.com") == 0;
        json_t *v = json_loads(r[i].vars, 0, NULL);
        days1 += json_integer_value(json_object_get(v, "notice")) == 1;
        /* the text says the days really left: 3 for grace (the 7-day notice), 1 for soon */
        assert_true(json_integer_value(json_object_get(v, "days")) <= json_integer_value(json_object_get(v, "notice")));
        if (strcmp(r[i].recipient, "ada@example.com") == 0)
            assert_true(json_is_true(json_object_get(v, "to_admin")));
        json_decref(v);
    }
    assert_int_equal(to_ada, 4);
    assert_int_equal(days1, 2); /* soon, to itself and to ada; not also a 7-day one */

    /* once: the same scan finds nothing new; a day later grace's 1-day notice is due */
    op = lk_fixture_op(f);
    expect_ok(op, lk_mailq_expiry_scan(op, &queued));
    assert_int_equal(queued, 0);
    op = lk_fixture_op(f);
    op->now = t + 2 * 86400 + 60;
    expect_ok(op, lk_mailq_expiry_scan(op, &queued));
    /* grace's 1-day (grace, ada) and pending's (ada); robot's access has ended */
    assert_int_equal(queued, 2 + 1);
    /* a new expiry arms the notices again */
    op = lk_fixture_op(f);
    op->now = t + 2 * 86400 + 120;
    expect_ok(op, lk_mailq_expiry_scan(op, &queued));
    assert_int_equal(queued, 0);
}

static void password_resets(void **state)
{
    lk_fixture *f = *state;
    make_admin(f, "ada@example.com");
    invite(f, "pending@example.com", "Staff", false, NULL, NULL);
    invite(f, "robot@example.com", "API", true, NULL, NULL);
    send_all(f);
    long before = lk_fixture_count(f, "mail_queue");

    /* forgot: every well-formed address costs one queued request, whoever it is */
    const char *who[] = {"nobody@example.com", "robot@example.com", "pending@example.com", "ADA@example.com",
                         "ada@example.com"};
    for (int i = 0; i < 5; i++) {
        lk_op *op = lk_fixture_op(f);
        op->address = "198.51.100.9";
        expect_ok(op, lk_password_forgot(op, who[i], 0, i == 3 ? "de" : NULL));
        assert_int_equal(lk_fixture_count(f, "mail_queue"), before + i + 1);
    }
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_password_forgot(op, "", 0, NULL));           /* malformed: nothing at all */
    op = lk_fixture_op(f);
    expect_ok(op, lk_password_forgot(op, "no-at-sign", 0, NULL));
    assert_int_equal(lk_fixture_count(f, "mail_queue"), before + 5);
    /* the mailer resolves them: one reset, to ada, in the page's language; the second
     * request for her within the minute and the others are cancelled, without audit */
    long audit_before = lk_fixture_count(f, "audit_events");
    lk_mail_claim c, got = {0};
    int claimed = 0;
    while (claim(f, 0, &c) == LK_OK) {
        claimed++;
        got = c;
        finish(f, 0, &c, true, false);
    }
    assert_int_equal(claimed, 1);
    assert_string_equal(got.rec.kind, "password_reset");
    assert_string_equal(got.rec.recipient, "ada@example.com");
    assert_string_equal(got.rec.to_name, "Ada Lovelace");
    assert_string_equal(got.rec.lang, "de");
    assert_int_equal(strlen(got.token), LK_MAILQ_TOKEN_LEN);
    c = got;
    size_t n;
    lk_mail_rec *r = queue(f, LK_MAIL_CANCELLED, &n);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        assert_true(strstr(r[i].last_error, "no active person") || strstr(r[i].last_error, "less than a minute"));
    /* audited: the request (anonymous, from its address) and the send, nothing else */
    assert_int_equal(lk_fixture_count(f, "audit_events"), audit_before + 2);
    assert_string_equal(lk_fixture_text(f, "SELECT actor || ' ' || address FROM audit_events WHERE action = "
                                           "'Forgot Password'"),
                        "anonymous 198.51.100.9");

    lk_user u;
    op = lk_fixture_op(f);
    expect_err(op, lk_password_reset_complete(op, c.token, "ada lovelace 1815", &u), LK_EINVAL, "password", NULL);
    lk_session_token s;
    op = lk_fixture_op(f);
    expect_ok(op, lk_login(op, "ada@example.com", PASSWORD, NULL, &u, &s));
    op = lk_fixture_op(f);
    expect_ok(op, lk_password_reset_complete(op, c.token, "analytical engine 1843", &u));
    /* used up; the sessions ended; the new password signs in, the old does not */
    op = lk_fixture_op(f);
    expect_err(op, lk_password_reset_complete(op, c.token, "analytical engine 1844", &u), LK_EAUTH, "token",
               "sign-in page");
    assert_int_equal(lk_fixture_count(f, "sessions"), 0);
    op = lk_fixture_op(f);
    expect_err(op, lk_login(op, "ada@example.com", PASSWORD, NULL, &u, &s), LK_EAUTH, NULL, NULL);
    op = lk_fixture_op(f);
    expect_ok(op, lk_login(op, "ada@example.com", "analytical engine 1843", NULL, &u, &s));

    /* an administrator's reset: active people only; it expires */
    op = lk_fixture_op(f);
    expect_err(op, lk_password_reset_request(op, "robot@example.com", 0, &u), LK_ERULE, "user", "API-only");
    op = lk_fixture_op(f);
    expect_err(op, lk_password_reset_request(op, "pending@example.com", 0, &u), LK_ERULE, "user", "resend");
    op = lk_fixture_op(f);
    expect_ok(op, lk_password_reset_request(op, "ada@example.com", 600, &u));
    expect_ok(&f->op, claim(f, 0, &c));
    finish(f, 0, &c, true, false);
    op = lk_fixture_op(f);
    op->now += 600;
    expect_err(op, lk_password_reset_complete(op, c.token, "difference engine 1822", &u), LK_EAUTH, "token", NULL);
    expect_not_in_db(f, c.token);
    expect_not_in_audit(f, c.token);
}

static void admin_notices(void **state)
{
    lk_fixture *f = *state;
    make_admin(f, "ada@example.com");
    lk_user second;
    char pw[LK_ONETIME_PASSWORD_LEN + 1];
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_admin_create(op, "bob@example.com", "Bob", "Boss", &second, pw));
    assert_int_equal(queued_to(f, "admin_added", "ada@example.com"), 1);
    assert_int_equal(queued_to(f, "admin_added", "bob@example.com"), 0);
    send_all(f);
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_delete(op, "bob@example.com"));
    assert_int_equal(queued_to(f, "admin_removed", "ada@example.com"), 1);
    assert_int_equal(lk_fixture_count(f, "mail_queue"), 2);
}

static void address_changes_and_interruptions(void **state)
{
    lk_fixture *f = *state;
    make_admin(f, "ada@example.com");
    lk_user bob;
    char pw[LK_ONETIME_PASSWORD_LEN + 1];
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_admin_create(op, "bob@example.com", "Bob", "Boss", &bob, pw));
    send_all(f);

    /* a reset queued for the old address is cancelled, and its link ended, when the
     * address changes; a notice follows the person to the new address */
    lk_user u;
    op = lk_fixture_op(f);
    expect_ok(op, lk_password_reset_request(op, "bob@example.com", 0, &u));
    lk_grant_ref g = {.role = "Staff"};
    lk_user_input in = {.email = "cy@example.com", .first_name = "Cy", .last_name = "Press", .grants = &g,
                        .n_grants = 1};
    lk_user_change move = {.email = "robert@example.com"};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "bob@example.com", &move, &u));
    assert_string_equal(lk_fixture_text(f, "SELECT count(*) FROM password_resets WHERE used_at IS NULL"), "0");
    /* the old address is told, without a link, and the notice stays with that address */
    lk_mail_claim c;
    expect_ok(&f->op, claim(f, 0, &c));
    assert_string_equal(c.rec.kind, "email_changed");
    assert_string_equal(c.rec.recipient, "bob@example.com");
    assert_int_equal(c.rec.user_id, 0);
    assert_string_equal(c.token, "");
    assert_non_null(strstr(c.rec.vars, "robert@example.com"));
    finish(f, 0, &c, true, false);
    assert_int_equal(claim(f, 0, &c), LK_ENOTFOUND);
    size_t n;
    lk_mail_rec *r = queue(f, LK_MAIL_CANCELLED, &n);
    assert_int_equal(n, 1);
    assert_string_equal(r[0].last_error, "the recipient's address changed");
    /* an admin notice queued to bob's old address goes to the new one */
    lk_grant_ref admin = {.role = "Admin"};
    in.grants = &admin;
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    lk_user_change back = {.email = "bob@example.com"};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "robert@example.com", &back, &u));
    int to_bob = 0;
    while (claim(f, 0, &c) == LK_OK) {
        if (strcmp(c.rec.kind, "admin_added") == 0 && c.rec.user_id == bob.id) {
            assert_string_equal(c.rec.recipient, "bob@example.com");
            to_bob++;
        }
        finish(f, 0, &c, true, false);
    }
    assert_int_equal(to_bob, 1);

    /* an attempt cut short by a stop is not counted and is due again at once */
    lk_invitation inv;
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_resend_invitation(op, "cy@example.com", NULL, 0, &inv));
    expect_ok(&f->op, claim(f, 0, &c));
    lk_mail_result stop = {.interrupted = true, .error = "interrupted"};
    op = lk_fixture_op(f);
    expect_ok(op, lk_mailq_finish(op, &POLICY, &c, &stop));
    r = queue(f, LK_MAIL_QUEUED, &n);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].attempts, 0);
    assert_int_equal(r[0].next_at, f->op.now);
    /* a finish after another attempt took the message (the lease ran out) is refused */
    lk_mail_claim first, second;
    expect_ok(&f->op, claim(f, 0, &first));
    expect_ok(&f->op, claim(f, f->op.now + LK_MAILQ_LEASE, &second));
    lk_mail_result ok = {.sent = true, .delivery = "smtp 127.0.0.1:25"};
    op = lk_fixture_op(f);
    expect_err(op, lk_mailq_finish(op, &POLICY, &first, &ok), LK_ENOTFOUND, NULL, "another attempt");
    op = lk_fixture_op(f);
    expect_ok(op, lk_mailq_finish(op, &POLICY, &second, &ok));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(invitation_queued_with_the_user, lk_fixture_setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(claim_mints_the_link, lk_fixture_setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(failures_back_off_then_give_up, lk_fixture_setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(unusable_links_cancel, lk_fixture_setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(expiry_notices_once_each, lk_fixture_setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(password_resets, lk_fixture_setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(admin_notices, lk_fixture_setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(address_changes_and_interruptions, lk_fixture_setup, lk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
