/* test_session — console sign-in, sessions, CSRF, passwords and first-admin setup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/role.h"
#include "core/session.h"
#include "core/user.h"
#include "expect.h"
#include "fixture.h"

#include <jansson.h>
#include <string.h>

#define PASSWORD "correct horse battery"

/* an active console admin with PASSWORD, made through the setup path */
static lk_user make_admin(lk_fixture *f, const char *email)
{
    return setup_admin(f, email, PASSWORD);
}

static lk_code login(lk_fixture *f, const char *email, const char *password, lk_user *u, lk_session_token *t)
{
    lk_op *op = lk_fixture_op(f);
    op->address = "192.0.2.7";
    return lk_login(op, email, password, NULL, u, t);
}

static void setup_creates_first_admin_once(void **state)
{
    lk_fixture *f = *state;
    bool pending = true;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_setup_pending(op, &pending));
    assert_false(pending);

    lk_session_token first, second;
    op = lk_fixture_op(f);
    expect_ok(op, lk_setup_open(op, &first));
    assert_int_equal(strlen(first.token), LK_SESSION_TOKEN_LEN);
    op = lk_fixture_op(f);
    expect_ok(op, lk_setup_open(op, &second));   /* replaces the first */
    op = lk_fixture_op(f);
    expect_ok(op, lk_setup_pending(op, &pending));
    assert_true(pending);
    /* the token is stored only as a hash */
    assert_null(strstr(lk_fixture_text(f, "SELECT value FROM settings WHERE key = 'setup.token_hash'"), second.token));

    lk_user u;
    op = lk_fixture_op(f);
    expect_err(op, lk_setup_complete(op, first.token, "ada@example.com", "Ada", "L", PASSWORD, &u), LK_EAUTH,
               "token", "not valid");
    op = lk_fixture_op(f);
    expect_err(op, lk_setup_complete(op, second.token, "ada@example.com", "Ada", "L", "short", &u), LK_EINVAL,
               "password", "12");
    assert_int_equal(lk_fixture_count(f, "users"), 0);
    op = lk_fixture_op(f);
    expect_ok(op, lk_setup_complete(op, second.token, "ada@example.com", "Ada", "Lovelace", PASSWORD, &u));
    assert_true(lk_user_is_admin(&u));
    assert_false(u.must_change_password);

    /* used: neither the token nor a new setup works once an admin exists */
    op = lk_fixture_op(f);
    expect_err(op, lk_setup_complete(op, second.token, "bob@example.com", "Bob", "B", PASSWORD, &u), LK_EAUTH,
               "token", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_setup_open(op, &first), LK_ERULE, NULL, "exists");
    op = lk_fixture_op(f);
    expect_ok(op, lk_setup_pending(op, &pending));
    assert_false(pending);
}

/* the setup link lives 24 hours, and dies for good once any administrator exists */
static void setup_link_expires_and_never_comes_back(void **state)
{
    lk_fixture *f = *state;
    lk_session_token t;
    lk_user u;
    bool pending = false;
    lk_op *op = lk_fixture_op(f);
    int64_t t0 = op->now;
    expect_ok(op, lk_setup_open(op, &t));
    f->op.now = t0 + LK_SETUP_TTL - 1;
    op = lk_fixture_op(f);
    expect_ok(op, lk_setup_pending(op, &pending));
    assert_true(pending);
    f->op.now = t0 + LK_SETUP_TTL;
    op = lk_fixture_op(f);
    expect_ok(op, lk_setup_pending(op, &pending));
    assert_false(pending);
    op = lk_fixture_op(f);
    expect_err(op, lk_setup_complete(op, t.token, "ada@example.com", "Ada", "Lovelace", PASSWORD, &u), LK_EAUTH,
               "token", "not valid");

    /* a fresh one, then an Admin made another way (the CLI): the link dies at once */
    op = lk_fixture_op(f);
    expect_ok(op, lk_setup_open(op, &t));
    char otp[LK_ONETIME_PASSWORD_LEN + 1];
    lk_user bob;
    op = lk_fixture_op(f);
    expect_ok(op, lk_admin_create(op, "bob@example.com", "Bob", "Boss", &bob, otp));
    assert_string_equal(lk_fixture_text(f, "SELECT value FROM settings WHERE key = 'setup.token_hash'"), "");
    /* the only Admin is no longer active (access expired): still no way in by a link */
    assert_int_equal(f->store->ops->begin(f->store, &f->op.err), LK_OK);
    bob.expires_at = f->op.now - 10;
    expect_ok(&f->op, f->store->ops->user_update(f->store, &bob, &f->op.err));
    expect_ok(&f->op, f->store->ops->commit(f->store, &f->op.err));
    op = lk_fixture_op(f);
    expect_err(op, lk_setup_complete(op, t.token, "eve@example.com", "Eve", "Evil", PASSWORD, &u), LK_EAUTH,
               "token", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_setup_open(op, &t), LK_ERULE, NULL, "exists");
    op = lk_fixture_op(f);
    expect_ok(op, lk_setup_pending(op, &pending));
    assert_false(pending);
    assert_int_equal(lk_fixture_count(f, "users"), 1);
}

/* a pending (invited, not accepted) Admin is an administrator too: no setup link */
static void no_setup_link_beside_a_pending_admin(void **state)
{
    lk_fixture *f = *state;
    invite_person(f, "new.admin@example.com", "Admin", NULL);
    lk_session_token t;
    bool pending = true;
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_setup_open(op, &t), LK_ERULE, NULL, "exists");
    assert_string_equal(t.token, "");
    op = lk_fixture_op(f);
    expect_ok(op, lk_setup_pending(op, &pending));
    assert_false(pending);
}

static void password_rules(void **state)
{
    lk_fixture *f = *state;
    static const struct {
        const char *pw;
        const char *needle;
    } bad[] = {
        {"", "blank"},
        {"elevenchars", "at least 12"},
        {"my name is Lovelace!", "name"},
        {"ADA.LOVELACE-1234", "name"},
        {"adalovelace@home", "name"},
        {"tab\there-is-bad", "control"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lk_op *op = lk_fixture_op(f);
        expect_err(op, lk_password_check(op, bad[i].pw, "adalovelace@example.com", "Ada", "Lovelace"), LK_EINVAL,
                   "password", bad[i].needle);
    }
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_password_check(op, "twelve chars", "adalovelace@example.com", "Ada", "Lovelace"));
    /* two-letter names are too short to count */
    op = lk_fixture_op(f);
    expect_ok(op, lk_password_check(op, "alojamiento!", "al@x.com", "Al", "Jo"));
}

static void login_success_and_history(void **state)
{
    lk_fixture *f = *state;
    make_admin(f, "ada@example.com");
    lk_user u;
    lk_session_token t;
    expect_ok(&f->op, login(f, "ADA@example.com", PASSWORD, &u, &t));
    assert_string_equal(u.email, "ada@example.com");
    assert_int_equal(strlen(t.token), LK_SESSION_TOKEN_LEN);
    assert_int_equal(lk_fixture_count(f, "sessions"), 1);
    assert_null(strstr(lk_fixture_text(f, "SELECT token_hash FROM sessions"), t.token));
    assert_string_equal(lk_fixture_text(f, "SELECT success || ' ' || address || ' ' || email FROM login_history"),
                        "1 192.0.2.7 ADA@example.com");

    lk_user who;
    lk_session s;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_session_check(op, t.token, NULL, &who, &s));
    assert_int_equal(who.id, u.id);

    op = lk_fixture_op(f);
    expect_ok(op, lk_logout(op, t.token));
    op = lk_fixture_op(f);
    expect_err(op, lk_session_check(op, t.token, NULL, &who, &s), LK_EAUTH, NULL, "sign in again");
    op = lk_fixture_op(f);
    expect_ok(op, lk_logout(op, t.token));   /* twice is fine */
}

/* one message for every refusal; the real cause only in the history */
static void login_refusals_look_alike(void **state)
{
    lk_fixture *f = *state;
    make_admin(f, "ada@example.com");
    const char *perms[] = {"Read-Only Lead"};
    lk_role r;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_role_create(op, "API", NULL, perms, 1, &r));
    lk_grant_ref g = {.role = "API"};
    lk_user_input in = {.email = "bot@example.com", .first_name = "B", .last_name = "Ot", .api_only = true,
                        .grants = &g, .n_grants = 1};
    lk_user u;
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));

    lk_session_token t;
    char first[LK_ERR_MSG] = "";
    const char *emails[] = {"nobody@example.com", "bot@example.com", "ada@example.com"};
    const char *reasons[] = {"unknown email", "API-only user", "wrong password"};
    for (size_t i = 0; i < 3; i++) {
        op = lk_fixture_op(f);
        op->address = "192.0.2.7";
        lk_code rc = lk_login(op, emails[i], "not the password", NULL, &u, &t);
        expect_err(op, rc, LK_EAUTH, NULL, "wrong");
        if (!first[0])
            snprintf(first, sizeof first, "%s", op->err.msg);
        assert_string_equal(op->err.msg, first);
        assert_string_equal(t.token, "");
    }
    lk_login_filter fl = {.failed_only = true};
    lk_login_rec *recs;
    size_t n;
    op = lk_fixture_op(f);
    expect_ok(op, lk_login_history(op, &fl, &recs, &n));
    assert_int_equal(n, 3);
    for (size_t i = 0; i < 3; i++)   /* newest first */
        assert_string_equal(recs[2 - i].reason, reasons[i]);
    assert_int_equal(recs[2].user_id, 0);
    assert_int_equal(lk_fixture_count(f, "sessions"), 0);
}

static void failures_never_lock(void **state)
{
    lk_fixture *f = *state;
    make_admin(f, "ada@example.com");
    lk_user u;
    lk_session_token t;
    /* a success resets the count */
    for (int i = 0; i < 4; i++)
        assert_int_equal(login(f, "ada@example.com", "wrong wrong wrong", &u, &t), LK_EAUTH);
    expect_ok(&f->op, login(f, "ada@example.com", PASSWORD, &u, &t));
    assert_int_equal(u.failed_logins, 0);

    /* wrong passwords (a stranger's, perhaps) are counted, audited nowhere, and lock
     * nobody — not even the only Admin after many */
    long ev = lk_fixture_count(f, "audit_events");
    for (int i = 0; i < 12; i++)
        assert_int_equal(login(f, "ada@example.com", "wrong wrong wrong", &u, &t), LK_EAUTH);
    assert_int_equal(lk_fixture_count(f, "audit_events"), ev);
    assert_string_equal(lk_fixture_text(f, "SELECT status || ' ' || failed_logins FROM users"
                                           " WHERE email = 'ada@example.com'"),
                        "active 12");
    assert_int_equal(lk_fixture_count(f, "sessions"), 1);
    expect_ok(&f->op, login(f, "ada@example.com", PASSWORD, &u, &t));
    assert_int_equal(u.failed_logins, 0);
}

static void sessions_end_when_idle_old_or_user_locked(void **state)
{
    lk_fixture *f = *state;
    make_admin(f, "ada@example.com");
    lk_user u, who;
    lk_session s;
    lk_session_token t;
    lk_session_policy pol = {.idle = 600, .max_age = 3600};
    lk_op *op = lk_fixture_op(f);
    int64_t t0 = op->now;
    expect_ok(op, lk_login(op, "ada@example.com", PASSWORD, &pol, &u, &t));

    /* used every 500 s, it lives until max_age */
    for (int64_t at = t0 + 500; at < t0 + 3600; at += 500) {
        op = lk_fixture_op(f);
        op->now = at;
        expect_ok(op, lk_session_check(op, t.token, &pol, &who, &s));
    }
    op = lk_fixture_op(f);
    op->now = t0 + 3600;
    expect_err(op, lk_session_check(op, t.token, &pol, &who, &s), LK_EAUTH, NULL, NULL);
    assert_int_equal(lk_fixture_count(f, "sessions"), 0);

    /* idle */
    int64_t t1 = t0 + 4000;
    op = lk_fixture_op(f);
    op->now = t1;
    expect_ok(op, lk_login(op, "ada@example.com", PASSWORD, &pol, &u, &t));
    op = lk_fixture_op(f);
    op->now = t1 + 599;
    expect_ok(op, lk_session_check(op, t.token, &pol, &who, &s));
    op = lk_fixture_op(f);
    op->now = t1 + 599 + 600;
    expect_err(op, lk_session_check(op, t.token, &pol, &who, &s), LK_EAUTH, NULL, NULL);

    /* locked by another admin: the session ends at its next use */
    op = lk_fixture_op(f);
    expect_ok(op, lk_login(op, "ada@example.com", PASSWORD, &pol, &u, &t));
    char pw[LK_ONETIME_PASSWORD_LEN + 1];
    lk_user second;
    op = lk_fixture_op(f);
    expect_ok(op, lk_admin_create(op, "grace@example.com", "Grace", "Hopper", &second, pw));
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_lock(op, "ada@example.com", NULL, &u));
    op = lk_fixture_op(f);
    expect_err(op, lk_session_check(op, t.token, &pol, &who, &s), LK_EAUTH, NULL, NULL);
    assert_int_equal(lk_fixture_count(f, "sessions"), 0);
}

static void csrf_is_bound_to_the_session(void **state)
{
    (void)state;
    char a[LK_HASH_HEX], b[LK_HASH_HEX];
    lk_session_csrf("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", a);
    lk_session_csrf("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", b);
    assert_int_equal(strlen(a), 64);
    assert_string_not_equal(a, b);
    assert_true(lk_session_csrf_ok("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", a));
    assert_false(lk_session_csrf_ok("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", a));
    assert_false(lk_session_csrf_ok("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ""));
    assert_false(lk_session_csrf_ok("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL));
}

static void password_change(void **state)
{
    lk_fixture *f = *state;
    lk_user admin = make_admin(f, "ada@example.com");
    lk_user u;
    lk_session_token keep, other;
    expect_ok(&f->op, login(f, "ada@example.com", PASSWORD, &u, &keep));
    expect_ok(&f->op, login(f, "ada@example.com", PASSWORD, &u, &other));
    lk_user who;
    lk_session s;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_session_check(op, keep.token, NULL, &who, &s));

    op = lk_fixture_op(f);
    expect_err(op, lk_password_change(op, admin.id, "wrong current pw", "a brand new secret", s.id), LK_EINVAL,
               "current", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_password_change(op, admin.id, PASSWORD, PASSWORD, s.id), LK_EINVAL, "password", "differ");
    op = lk_fixture_op(f);
    expect_ok(op, lk_password_change(op, admin.id, PASSWORD, "a brand new secret", s.id));
    /* the other session ended, this one stays */
    assert_int_equal(lk_fixture_count(f, "sessions"), 1);
    op = lk_fixture_op(f);
    expect_ok(op, lk_session_check(op, keep.token, NULL, &who, &s));
    assert_int_equal(login(f, "ada@example.com", PASSWORD, &u, &other), LK_EAUTH);
    expect_ok(&f->op, login(f, "ada@example.com", "a brand new secret", &u, &other));
    assert_null(strstr(lk_fixture_text(f, "SELECT group_concat(details) FROM audit_events"), "brand new"));
}

/* the CLI's one-time password must be replaced */
static void admin_create_sets_must_change(void **state)
{
    lk_fixture *f = *state;
    char pw[LK_ONETIME_PASSWORD_LEN + 1];
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_admin_create(op, "root@example.com", "Root", "Admin", &u, pw));
    assert_true(u.must_change_password);
    lk_session_token t;
    expect_ok(&f->op, login(f, "root@example.com", pw, &u, &t));
    assert_true(u.must_change_password);
}

static void invitation_accept(void **state)
{
    lk_fixture *f = *state;
    make_admin(f, "ada@example.com");
    lk_grant_ref g = {.role = "Admin"};
    lk_user_input in = {.email = "grace@example.com", .first_name = "Grace", .last_name = "Hopper", .grants = &g,
                        .n_grants = 1};
    lk_user u;
    lk_invite_token first;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, &first));

    /* wrong token, weak password: refused, nothing changed */
    op = lk_fixture_op(f);
    expect_err(op, lk_invitation_accept(op, "not-a-token", PASSWORD, &u), LK_EAUTH, "token", "new invitation");
    op = lk_fixture_op(f);
    expect_err(op, lk_invitation_accept(op, first.token, "Grace Hopper 1906", &u), LK_EINVAL, "password", "name");
    assert_string_equal(lk_fixture_text(f, "SELECT status FROM users WHERE email = 'grace@example.com'"), "pending");

    /* after its expiry the link is refused */
    op = lk_fixture_op(f);
    int64_t t0 = op->now;
    op->now = t0 + LK_INVITE_TTL_DEFAULT;
    expect_err(op, lk_invitation_accept(op, first.token, PASSWORD, &u), LK_EAUTH, "token", NULL);

    op = lk_fixture_op(f);
    op->now = t0;
    expect_ok(op, lk_invitation_accept(op, first.token, PASSWORD, &u));
    assert_int_equal(u.status, LK_STATUS_ACTIVE);
    assert_string_equal(lk_fixture_text(f, "SELECT actor || ' ' || action FROM audit_events ORDER BY id DESC LIMIT 1"),
                        "user:grace@example.com Accept Invitation");
    /* used: not again; the person signs in with the password */
    op = lk_fixture_op(f);
    expect_err(op, lk_invitation_accept(op, first.token, PASSWORD, &u), LK_EAUTH, "token", NULL);
    lk_session_token t;
    expect_ok(&f->op, login(f, "grace@example.com", PASSWORD, &u, &t));
}

/* the runtime's purge: sessions idle too long or past their end go, others stay */
static void purge_ended_sessions(void **state)
{
    lk_fixture *f = *state;
    make_admin(f, "ada@example.com");
    lk_session_policy pol = {.idle = 600, .max_age = 3600};
    lk_user u;
    lk_session_token old_one, fresh;
    lk_op *op = lk_fixture_op(f);
    int64_t t0 = op->now;
    expect_ok(op, lk_login(op, "ada@example.com", PASSWORD, &pol, &u, &old_one));
    op = lk_fixture_op(f);
    op->now = t0 + 1000;
    expect_ok(op, lk_login(op, "ada@example.com", PASSWORD, &pol, &u, &fresh));
    assert_int_equal(lk_fixture_count(f, "sessions"), 2);
    lk_error err = {0};
    assert_int_equal(f->store->ops->session_purge(f->store, t0 + 1000 - 600, t0 + 1000, &err), LK_OK);
    assert_int_equal(lk_fixture_count(f, "sessions"), 1);
    lk_session s;
    op = lk_fixture_op(f);
    op->now = t0 + 1000;
    expect_ok(op, lk_session_check(op, fresh.token, &pol, &u, &s));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, lk_fixture_setup, lk_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(setup_creates_first_admin_once),
        T(setup_link_expires_and_never_comes_back),
        T(no_setup_link_beside_a_pending_admin),
        T(password_rules),
        T(login_success_and_history),
        T(login_refusals_look_alike),
        T(failures_never_lock),
        T(sessions_end_when_idle_old_or_user_locked),
        cmocka_unit_test(csrf_is_bound_to_the_session),
        T(password_change),
        T(admin_create_sets_must_change),
        T(invitation_accept),
        T(purge_ended_sessions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
