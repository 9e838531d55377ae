/*
 * test_user — users through core/user.h: inviting API-only users (active at once,
 * no password, no invitation) and people (pending, with a single-use invitation
 * whose token is stored only as a hash), the checks on every field, grants, updates,
 * lock and unlock (expired access counts as locked and needs a new expiry to be
 * unlocked), deletion (refused while the user owns a service), the protection of
 * the last active Admin, and the audit event of every change. A refused call
 * leaves every table as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "expect.h"
#include "fixture.h"
#include "core/audit.h"
#include "core/role.h"
#include "core/secret.h"
#include "core/service.h"
#include "core/user.h"
#include "core/workspace.h"
#include "util/timefmt.h"

#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Roles used throughout: Integration and Writer carry Access API permissions,
 * Viewer only an Access Admin one. */
static void make_roles(lk_fixture *f)
{
    const char *integration[] = {"Read-Only Lead"};
    const char *writer[] = {"Read-Write Lead"};
    const char *viewer[] = {"Access Audit Trail"};
    lk_role r;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_role_create(op, "Integration", NULL, integration, 1, &r));
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_create(op, "Writer", NULL, writer, 1, &r));
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_create(op, "Viewer", NULL, viewer, 1, &r));
}

static int setup(void **state)
{
    if (lk_fixture_setup(state) != 0)
        return -1;
    make_roles(*state);
    return 0;
}

static lk_user find_user(lk_fixture *f, const char *key)
{
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_find(op, key, &u));
    return u;
}

/* a valid API-only invitation to vary one field at a time */
static lk_grant_ref api_grant = {.role = "Integration", .workspace = NULL};
static lk_user_input base_input(void)
{
    return (lk_user_input){
        .email = "bot@example.com", .first_name = "Build", .last_name = "Bot",
        .api_only = true, .grants = &api_grant, .n_grants = 1,
    };
}

/* invite must fail with code/field, mentioning needle, change nothing and leave the
 * token buffer cleared, whatever it held before */
static void expect_invite_refused(lk_fixture *f, const lk_user_input *in, lk_code code, const char *field,
                                  const char *needle)
{
    snapshot s = snap(f);
    lk_user u;
    lk_invite_token tok;
    memset(&tok, 'x', sizeof tok);
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_user_invite(op, in, &u, &tok), code, field, needle);
    expect_unchanged(f, s);
    if (tok.token[0] != '\0' || tok.expires_at != 0)
        fail_msg("a refused invitation left the token buffer filled (expires_at %lld)", (long long)tok.expires_at);
}

static const lk_grant *grant_of(const lk_user *u, const char *role, int64_t ws)
{
    for (size_t i = 0; i < u->n_grants; i++)
        if (strcmp(u->grants[i].role_name, role) == 0 && u->grants[i].workspace_id == ws)
            return &u->grants[i];
    return NULL;
}

/* ---- invite ---------------------------------------------------------------- */

static void test_invite_api_only(void **state)
{
    lk_fixture *f = *state;
    long ev = lk_fixture_count(f, "audit_events");
    long users = lk_fixture_count(f, "users");
    lk_user_input in = base_input();
    in.email = "Bot@Example.com";
    in.reason = "nightly sync";
    lk_user u = {0};
    lk_invite_token tok;
    memset(&tok, 'x', sizeof tok);
    lk_op *op = lk_fixture_op(f);
    op->now = 1900000000;
    expect_ok(op, lk_user_invite(op, &in, &u, &tok));

    assert_true(u.id > 0);
    assert_string_equal(u.email, "Bot@Example.com");
    assert_string_equal(u.userid, "Bot@Example.com");
    assert_string_equal(u.first_name, "Build");
    assert_string_equal(u.last_name, "Bot");
    assert_string_equal(u.reason, "nightly sync");
    assert_true(u.api_only);
    assert_int_equal(u.status, LK_STATUS_ACTIVE);
    assert_null(u.password_hash);
    assert_int_equal(u.expires_at, 0);
    assert_int_equal(u.created_at, 1900000000);
    assert_int_equal(u.n_grants, 1);
    assert_string_equal(u.grants[0].role_name, "Integration");
    assert_int_equal(u.grants[0].workspace_id, LK_WORKSPACE_ALLZONES);
    assert_string_equal(u.grants[0].workspace_name, "AllZones");
    assert_false(lk_user_is_admin(&u));
    assert_string_equal(tok.token, "");

    assert_int_equal(lk_fixture_count(f, "users"), users + 1);
    assert_int_equal(lk_fixture_count(f, "invitations"), 0);
    lk_invitation inv;
    op = lk_fixture_op(f);
    expect_err(op, lk_user_invitation(op, "bot@example.com", &inv), LK_ENOTFOUND, NULL, NULL);

    json_t *d = expect_audit(f, ev, "User", "Create", "Bot@Example.com");
    assert_string_equal(jstr(d, "email"), "Bot@Example.com");
    assert_string_equal(jstr(d, "userid"), "Bot@Example.com");
    assert_string_equal(jstr(d, "firstName"), "Build");
    assert_string_equal(jstr(d, "lastName"), "Bot");
    assert_string_equal(jstr(d, "reason"), "nightly sync");
    assert_string_equal(jstr(d, "status"), "active");
    assert_true(json_is_true(json_object_get(d, "apiOnly")));
    assert_true(json_is_false(json_object_get(d, "invitation")));
    assert_true(json_is_null(json_object_get(d, "expiresAt")));
    json_t *roles = json_object_get(d, "roles");
    assert_int_equal(json_array_size(roles), 1);
    assert_string_equal(jstr(json_array_get(roles, 0), "role"), "Integration");
    assert_string_equal(jstr(json_array_get(roles, 0), "workspace"), "AllZones");
    json_decref(d);

    lk_user got = find_user(f, "BOT@example.COM");
    assert_int_equal(got.id, u.id);
    assert_int_equal(got.status, LK_STATUS_ACTIVE);
    assert_null(got.password_hash);
}

static void test_invite_person(void **state)
{
    lk_fixture *f = *state;
    long ev = lk_fixture_count(f, "audit_events");
    lk_grant_ref g[] = {{.role = "Viewer", .workspace = "Default"}, {.role = "Integration", .workspace = "1"}};
    lk_user_input in = {
        .email = "pat@example.com", .first_name = "Pat", .last_name = "Person",
        .grants = g, .n_grants = 2, .message = "Welcome aboard",
    };
    lk_user u = {0};
    lk_invite_token tok;
    lk_op *op = lk_fixture_op(f);
    op->now = 1900000000;
    expect_ok(op, lk_user_invite(op, &in, &u, &tok));

    assert_int_equal(u.status, LK_STATUS_PENDING);
    assert_false(u.api_only);
    assert_null(u.password_hash);
    assert_int_equal(u.n_grants, 2);
    assert_non_null(grant_of(&u, "Viewer", LK_WORKSPACE_DEFAULT));
    assert_non_null(grant_of(&u, "Integration", LK_WORKSPACE_DEFAULT));
    assert_string_equal(grant_of(&u, "Viewer", LK_WORKSPACE_DEFAULT)->workspace_name, "Default");

    assert_int_equal(strlen(tok.token), LK_INVITE_TOKEN_LEN);
    for (const char *p = tok.token; *p; p++)
        assert_true(isalnum((unsigned char)*p) || *p == '-' || *p == '_');
    assert_int_equal(tok.expires_at, 1900000000 + LK_INVITE_TTL_DEFAULT);
    assert_int_equal(LK_INVITE_TTL_DEFAULT, 7 * DAY);

    assert_int_equal(lk_fixture_count(f, "invitations"), 1);
    lk_invitation inv = {0};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_invitation(op, "PAT@example.com", &inv));
    char h[LK_HASH_HEX];
    lk_secret_hash(tok.token, h);
    assert_string_equal(inv.token_hash, h);
    assert_null(strstr(inv.token_hash, tok.token));
    assert_int_equal(inv.user_id, u.id);
    assert_int_equal(inv.created_at, 1900000000);
    assert_int_equal(inv.expires_at, 1900000000 + 7 * DAY);
    assert_int_equal(inv.accepted_at, 0);
    assert_string_equal(inv.message, "Welcome aboard");

    json_t *d = expect_audit(f, ev, "User", "Create", "pat@example.com");
    assert_string_equal(jstr(d, "status"), "pending");
    assert_true(json_is_true(json_object_get(d, "invitation")));
    assert_true(json_is_false(json_object_get(d, "apiOnly")));
    assert_int_equal(json_array_size(json_object_get(d, "roles")), 2);
    json_decref(d);
    expect_not_in_audit(f, tok.token);
    expect_not_in_db(f, tok.token);
}

static void test_invite_person_custom_ttl_and_no_token_buffer(void **state)
{
    lk_fixture *f = *state;
    lk_grant_ref g = {.role = "Viewer", .workspace = NULL};
    lk_user_input in = {
        .email = "pat@example.com", .first_name = "Pat", .last_name = "Person",
        .grants = &g, .n_grants = 1, .invite_ttl = 3600,
    };
    lk_user u;
    lk_invite_token tok;
    lk_op *op = lk_fixture_op(f);
    op->now = 1900000000;
    expect_ok(op, lk_user_invite(op, &in, &u, &tok));
    assert_int_equal(tok.expires_at, 1900000000 + 3600);
    lk_invitation inv;
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_invitation(op, "pat@example.com", &inv));
    assert_int_equal(inv.expires_at, 1900000000 + 3600);

    /* a caller that does not want the token still gets an invitation row */
    in.email = "sam@example.com";
    in.invite_ttl = 0;
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    assert_int_equal(u.status, LK_STATUS_PENDING);
    assert_int_equal(lk_fixture_count(f, "invitations"), 2);

    in.email = "neg@example.com";
    in.invite_ttl = -1;
    expect_invite_refused(f, &in, LK_EINVAL, "inviteTtl", NULL);
}

static void test_invite_api_only_needs_api_role(void **state)
{
    lk_fixture *f = *state;
    lk_user_input in = base_input();
    lk_grant_ref viewer = {.role = "Viewer", .workspace = NULL};
    in.grants = &viewer;
    expect_invite_refused(f, &in, LK_ERULE, "role", "Access API");

    lk_grant_ref admin = {.role = "Admin", .workspace = NULL};
    in.grants = &admin;
    expect_invite_refused(f, &in, LK_ERULE, "role", NULL);

    /* with an Access API role among others it is fine */
    lk_grant_ref both[] = {{.role = "Viewer"}, {.role = "Integration", .workspace = "Default"}};
    in.grants = both;
    in.n_grants = 2;
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    assert_int_equal(u.n_grants, 2);

    /* a person needs no Access API permission */
    invite_person(f, "pat@example.com", "Viewer", NULL);
}

static void test_invite_needs_a_role(void **state)
{
    lk_fixture *f = *state;
    lk_user_input in = base_input();
    in.grants = NULL;
    in.n_grants = 0;
    expect_invite_refused(f, &in, LK_EINVAL, "role", "role");
}

static void test_invite_email_validation(void **state)
{
    lk_fixture *f = *state;
    char *local = repeat(f, "a", 64);
    char *label = repeat(f, "b", 63);
    const char *too_long = lk_arena_printf(&f->arena, "%s@%s.%s.%s.%s.com", local, label, label, label, "c");
    assert_true(strlen(too_long) >= 255);
    const char *bad[] = {
        "", "   ", "no-at-sign", "two@@example.com", "a b@example.com", "ab@exa mple.com", " a@example.com",
        "a@example", "@example.com", "a@", ".a@example.com", "a..b@example.com", "a@-x.com",
        "a@example.com\n", too_long,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_user_input in = base_input();
        in.email = bad[i];
        snapshot s = snap(f);
        lk_user u;
        lk_op *op = lk_fixture_op(f);
        lk_code rc = lk_user_invite(op, &in, &u, NULL);
        if (rc != LK_EINVAL)
            fail_msg("email #%zu '%s' accepted (rc %d)", i, bad[i], (int)rc);
        assert_string_equal(op->err.field, "email");
        expect_unchanged(f, s);
    }
    lk_user_input in = base_input();
    in.email = NULL;
    expect_invite_refused(f, &in, LK_EINVAL, "email", "blank");
    in.email = "no-at-sign";
    expect_invite_refused(f, &in, LK_EINVAL, "email", "no-at-sign");

    /* a long but valid address is fine */
    const char *long_ok = lk_arena_printf(&f->arena, "%s@%s.%s.example.com", local, label, label);
    assert_true(strlen(long_ok) <= 254);
    in.email = long_ok;
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
}

static void test_invite_duplicate_email(void **state)
{
    lk_fixture *f = *state;
    invite_api(f, "bot@example.com", "Integration", NULL);
    lk_user_input in = base_input();
    in.email = "BOT@Example.COM";
    expect_invite_refused(f, &in, LK_EEXISTS, "email", "BOT@Example.COM");
    in.api_only = false;
    expect_invite_refused(f, &in, LK_EEXISTS, "email", NULL);
}

static void test_invite_userid_collisions(void **state)
{
    lk_fixture *f = *state;
    lk_user_input in = base_input();
    in.email = "one@example.com";
    in.userid = "shared@example.com";
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    assert_string_equal(u.userid, "shared@example.com");
    assert_int_equal(find_user(f, "SHARED@example.com").id, u.id);

    /* a new email equal to an existing user id */
    in = base_input();
    in.email = "Shared@Example.com";
    expect_invite_refused(f, &in, LK_EEXISTS, "email", NULL);

    /* a new user id equal to an existing email or user id */
    in = base_input();
    in.email = "two@example.com";
    in.userid = "ONE@example.com";
    expect_invite_refused(f, &in, LK_EEXISTS, "userid", NULL);
    in.userid = "shared@EXAMPLE.com";
    expect_invite_refused(f, &in, LK_EEXISTS, "userid", NULL);

    /* user ids: no spaces, not blank, no control characters, <= 255 characters */
    in.userid = "two words";
    expect_invite_refused(f, &in, LK_EINVAL, "userid", NULL);
    in.userid = "  ";
    expect_invite_refused(f, &in, LK_EINVAL, "userid", NULL);
    in.userid = "tab\there";
    expect_invite_refused(f, &in, LK_EINVAL, "userid", NULL);
    in.userid = repeat(f, "u", 256);
    expect_invite_refused(f, &in, LK_EINVAL, "userid", NULL);

    in.userid = "builder";
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    assert_int_equal(find_user(f, "BUILDER").id, u.id);
    assert_int_equal(find_user(f, "two@example.com").id, u.id);
}

static void test_invite_names(void **state)
{
    lk_fixture *f = *state;
    const char *bad[] = {
        "", "   ", "\t", "Ann\tLee", "Ann\nLee", "Ann\x7f", "Ann\xc2\x9f", "Ann\xff", "Ann\xe2\x82",
        "\xf8\x88\x80\x80\x80", repeat(f, "n", 256), repeat(f, "\xc3\xa9", 256),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_user_input in = base_input();
        in.first_name = bad[i];
        expect_invite_refused(f, &in, LK_EINVAL, "firstName", "first name");
        in = base_input();
        in.last_name = bad[i];
        expect_invite_refused(f, &in, LK_EINVAL, "lastName", "last name");
    }
    lk_user_input in = base_input();
    in.first_name = NULL;
    expect_invite_refused(f, &in, LK_EINVAL, "firstName", NULL);
    in = base_input();
    in.last_name = NULL;
    expect_invite_refused(f, &in, LK_EINVAL, "lastName", NULL);

    /* 255 characters, however many bytes, are fine */
    in = base_input();
    in.first_name = repeat(f, "\xc3\xa9", 255);
    in.last_name = repeat(f, "\xf0\x9f\x94\x91", 255);
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    assert_string_equal(u.first_name, in.first_name);
    assert_string_equal(u.last_name, in.last_name);

    in = base_input();
    in.email = "ascii@example.com";
    in.first_name = repeat(f, "n", 255);
    in.last_name = "O'Brien-Smith";
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
}

static lk_code invite_first_name(lk_op *op, const char *name)
{
    lk_user_input in = base_input();
    in.first_name = name;
    lk_user u;
    return lk_user_invite(op, &in, &u, NULL);
}

static lk_code invite_last_name(lk_op *op, const char *name)
{
    lk_user_input in = base_input();
    in.last_name = name;
    lk_user u;
    return lk_user_invite(op, &in, &u, NULL);
}

static lk_code invite_userid(lk_op *op, const char *name)
{
    lk_user_input in = base_input();
    in.userid = name;
    lk_user u;
    return lk_user_invite(op, &in, &u, NULL);
}

static lk_code update_first_name(lk_op *op, const char *name)
{
    lk_user_change c = {.first_name = name};
    lk_user u;
    return lk_user_update(op, "api@example.com", &c, &u);
}

static lk_code update_last_name(lk_op *op, const char *name)
{
    lk_user_change c = {.last_name = name};
    lk_user u;
    return lk_user_update(op, "api@example.com", &c, &u);
}

static lk_code admin_first_name(lk_op *op, const char *name)
{
    char pw[LK_ONETIME_PASSWORD_LEN + 1];
    lk_user u;
    return lk_admin_create(op, "root@example.com", name, "Admin", &u, pw);
}

/* a space at either end, a blank of U+00A0, a bidirectional override: refused in
 * either name and the user id, on invite, on update and for a new Admin */
static void test_names_spaced_blank_or_overridden(void **state)
{
    lk_fixture *f = *state;
    invite_api(f, "api@example.com", "Integration", NULL);
    expect_names_refused(f, "Ann", "firstName", invite_first_name);
    expect_names_refused(f, "Ann", "lastName", invite_last_name);
    expect_names_refused(f, "Ann", "userid", invite_userid);
    expect_names_refused(f, "Ann", "firstName", update_first_name);
    expect_names_refused(f, "Ann", "lastName", update_last_name);
    expect_names_refused(f, "Ann", "firstName", admin_first_name);
    lk_user u = find_user(f, "api@example.com");
    assert_string_equal(u.first_name, "Api");
    assert_string_equal(u.last_name, "User");
}

/* a refused invitation clears the caller's token buffer, whether input checks or
 * the store refused it */
static void test_invite_refused_clears_token(void **state)
{
    lk_fixture *f = *state;
    invite_api(f, "taken@example.com", "Integration", NULL);
    lk_grant_ref viewer = {.role = "Viewer"};
    lk_grant_ref ghost = {.role = "Ghost"};
    const lk_user_input bad[] = {
        {.email = "not-an-email", .first_name = "Pat", .last_name = "Person", .grants = &viewer, .n_grants = 1},
        {.email = "pat@example.com", .first_name = "Ann ", .last_name = "Person", .grants = &viewer, .n_grants = 1},
        {.email = "pat@example.com", .first_name = "Pat", .last_name = "Person", .expires = "someday",
         .grants = &viewer, .n_grants = 1},
        {.email = "pat@example.com", .first_name = "Pat", .last_name = "Person", .grants = &ghost, .n_grants = 1},
        {.email = "TAKEN@example.com", .first_name = "Pat", .last_name = "Person", .grants = &viewer, .n_grants = 1},
    };
    snapshot s = snap(f);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_invite_token tok;
        memset(&tok, 0x5a, sizeof tok);
        lk_user u;
        lk_op *op = lk_fixture_op(f);
        lk_code rc = lk_user_invite(op, &bad[i], &u, &tok);
        if (rc == LK_OK)
            fail_msg("invitation #%zu accepted", i);
        if (tok.token[0] != '\0')
            fail_msg("invitation #%zu (%s) left a token in the buffer", i, op->err.msg);
        assert_string_equal(tok.token, "");
        assert_int_equal(tok.expires_at, 0);
    }
    expect_unchanged(f, s);
}

static void test_invite_reason(void **state)
{
    lk_fixture *f = *state;
    lk_user_input in = base_input();
    in.reason = repeat(f, "r", 1001);
    expect_invite_refused(f, &in, LK_EINVAL, "reason", NULL);
    in.reason = "bad\x01";
    expect_invite_refused(f, &in, LK_EINVAL, "reason", NULL);
    in.reason = "bad\xff";
    expect_invite_refused(f, &in, LK_EINVAL, "reason", NULL);

    in.reason = repeat(f, "r", 1000);
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    assert_int_equal(strlen(u.reason), 1000);

    in = base_input();
    in.email = "two@example.com";
    in.reason = "line one\nline two";
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    assert_string_equal(u.reason, "line one\nline two");
}

static void test_invite_expiry(void **state)
{
    lk_fixture *f = *state;
    f->op.now = 1900000000;
    lk_user_input in = base_input();
    const char *bad[] = {iso(f, 1900000000 - 1), iso(f, 1900000000), "2001-01-01", "tomorrow", "2099-13-01",
                         "2099-02-30", "2099-01-01T10:00:00", "", "never"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        in.expires = bad[i];
        snapshot s = snap(f);
        lk_user u;
        lk_op *op = lk_fixture_op(f);
        lk_code rc = lk_user_invite(op, &in, &u, NULL);
        if (rc != LK_EINVAL)
            fail_msg("expiry '%s' accepted (rc %d)", bad[i], (int)rc);
        assert_string_equal(op->err.field, "expiresAt");
        expect_unchanged(f, s);
    }

    struct {
        const char *text;
        int64_t want;
    } good[] = {
        {"2099-12-31", utc(2099, 12, 31, 0, 0, 0)},
        {"2099-06-01T12:00:00+02:00", utc(2099, 6, 1, 10, 0, 0)},
        {"2099-06-01T12:00:00-0130", utc(2099, 6, 1, 13, 30, 0)},
        {"2099-06-01T12:00:00Z", utc(2099, 6, 1, 12, 0, 0)},
        {iso(f, 1900000000 + 1), 1900000000 + 1},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        in = base_input();
        in.email = lk_arena_printf(&f->arena, "bot%zu@example.com", i);
        in.expires = good[i].text;
        long ev = lk_fixture_count(f, "audit_events");
        lk_user u = {0};
        lk_op *op = lk_fixture_op(f);
        expect_ok(op, lk_user_invite(op, &in, &u, NULL));
        assert_int_equal(u.expires_at, good[i].want);
        json_t *d = expect_audit(f, ev, "User", "Create", in.email);
        assert_string_equal(jstr(d, "expiresAt"), iso(f, good[i].want));
        json_decref(d);
    }
}

static void test_invite_unknown_role_or_workspace(void **state)
{
    lk_fixture *f = *state;
    lk_user_input in = base_input();
    lk_grant_ref ghost = {.role = "Ghost", .workspace = NULL};
    in.grants = &ghost;
    expect_invite_refused(f, &in, LK_ENOTFOUND, "role", "Ghost");

    lk_grant_ref nowhere = {.role = "Integration", .workspace = "Nowhere"};
    in.grants = &nowhere;
    expect_invite_refused(f, &in, LK_ENOTFOUND, "workspace", "Nowhere");

    lk_grant_ref bad_id = {.role = "Integration", .workspace = "77"};
    in.grants = &bad_id;
    expect_invite_refused(f, &in, LK_ENOTFOUND, "workspace", "77");

    /* one bad grant among good ones spoils the lot */
    lk_grant_ref mixed[] = {{.role = "Integration"}, {.role = "Ghost"}};
    in.grants = mixed;
    in.n_grants = 2;
    expect_invite_refused(f, &in, LK_ENOTFOUND, "role", "Ghost");
}

static void test_invite_admin_only_in_allzones(void **state)
{
    lk_fixture *f = *state;
    lk_grant_ref g = {.role = "Admin", .workspace = "Default"};
    lk_user_input in = {.email = "pat@example.com", .first_name = "Pat", .last_name = "Person",
                        .grants = &g, .n_grants = 1};
    expect_invite_refused(f, &in, LK_EINVAL, "role", "AllZones");
    g.workspace = "1";
    expect_invite_refused(f, &in, LK_EINVAL, "role", "AllZones");

    g.workspace = "allzones";
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    assert_true(lk_user_is_admin(&u));
    assert_int_equal(u.grants[0].workspace_id, LK_WORKSPACE_ALLZONES);

    in.email = "sam@example.com";
    g.workspace = "0";
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    assert_true(lk_user_is_admin(&u));
}

static void test_find_and_list(void **state)
{
    lk_fixture *f = *state;
    invite_api(f, "bot1@example.com", "Integration", NULL);
    invite_api(f, "bot2@example.com", "Writer", NULL);
    invite_person(f, "pat@example.com", "Viewer", "Default");

    lk_user *us = NULL;
    size_t n = 0;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_list_page(op, &(lk_user_filter){.api_only = -1}, &us, &n));
    assert_int_equal(n, 3);
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_list_page(op, &(lk_user_filter){.api_only = 1}, &us, &n));
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++)
        assert_true(us[i].api_only);
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_list_page(op, &(lk_user_filter){.api_only = 0}, &us, &n));
    assert_int_equal(n, 1);
    assert_string_equal(us[0].email, "pat@example.com");
    assert_int_equal(us[0].n_grants, 1);

    lk_user_filter page = {.api_only = -1, .offset = 1, .limit = 1};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_list_page(op, &page, &us, &n));
    assert_int_equal(n, 1);
    assert_string_equal(us[0].email, "bot2@example.com");

    lk_user u;
    op = lk_fixture_op(f);
    expect_err(op, lk_user_find(op, "ghost@example.com", &u), LK_ENOTFOUND, "user", "ghost@example.com");
    op = lk_fixture_op(f);
    expect_err(op, lk_user_find(op, "", &u), LK_EINVAL, "user", NULL);
}

static void test_status_names_and_effective_status(void **state)
{
    (void)state;
    assert_string_equal(lk_user_status_name(LK_STATUS_PENDING), "pending");
    assert_string_equal(lk_user_status_name(LK_STATUS_ACTIVE), "active");
    assert_string_equal(lk_user_status_name(LK_STATUS_LOCKED), "locked");

    const char *why = "unset";
    lk_user u = {.status = LK_STATUS_ACTIVE, .lock_reason = "", .expires_at = 0};
    assert_int_equal(lk_user_effective_status(&u, 1000, &why), LK_STATUS_ACTIVE);
    assert_string_equal(why, "");

    u.expires_at = 2000;
    assert_int_equal(lk_user_effective_status(&u, 1999, &why), LK_STATUS_ACTIVE);
    assert_int_equal(lk_user_effective_status(&u, 2000, &why), LK_STATUS_LOCKED);
    assert_string_equal(why, "access expired");
    assert_int_equal(lk_user_effective_status(&u, 5000, NULL), LK_STATUS_LOCKED);

    u = (lk_user){.status = LK_STATUS_LOCKED, .lock_reason = "too many failed logins"};
    assert_int_equal(lk_user_effective_status(&u, 1000, &why), LK_STATUS_LOCKED);
    assert_string_equal(why, "too many failed logins");

    u = (lk_user){.status = LK_STATUS_PENDING, .lock_reason = ""};
    assert_int_equal(lk_user_effective_status(&u, 1000, &why), LK_STATUS_PENDING);

    lk_grant admin = {.role_id = LK_ROLE_ADMIN, .role_name = "Admin"};
    lk_grant other = {.role_id = 7, .role_name = "Other"};
    u = (lk_user){.grants = &other, .n_grants = 1};
    assert_false(lk_user_is_admin(&u));
    u.grants = &admin;
    assert_true(lk_user_is_admin(&u));
}

static void test_grants_deduplicated_and_sorted(void **state)
{
    lk_fixture *f = *state;
    lk_workspace w;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_workspace_create(op, "Sales", NULL, &w));
    lk_grant_ref g[] = {
        {.role = "Writer", .workspace = "Default"}, {.role = "integration", .workspace = "Sales"},
        {.role = "Viewer"},                        {.role = "Integration", .workspace = "default"},
        {.role = "Integration", .workspace = "1"}, {.role = "WRITER", .workspace = "Default"},
        {.role = "Integration"},
    };
    lk_user_input in = base_input();
    in.grants = g;
    in.n_grants = sizeof g / sizeof g[0];
    lk_user u = {0};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    assert_int_equal(lk_fixture_count(f, "user_roles"), 5);
    /* sorted by role name, then workspace id */
    struct {
        const char *role;
        int64_t ws;
    } want[] = {{"Integration", 0}, {"Integration", 1}, {"Integration", w.id}, {"Viewer", 0}, {"Writer", 1}};
    assert_int_equal(u.n_grants, 5);
    lk_user got = find_user(f, "bot@example.com");
    const lk_user *both[] = {&u, &got};
    for (size_t k = 0; k < 2; k++) {
        assert_int_equal(both[k]->n_grants, 5);
        for (size_t i = 0; i < 5; i++) {
            assert_string_equal(both[k]->grants[i].role_name, want[i].role);
            assert_int_equal(both[k]->grants[i].workspace_id, want[i].ws);
        }
    }
    assert_string_equal(got.grants[2].workspace_name, "Sales");
}

static void test_list_page(void **state)
{
    lk_fixture *f = *state;
    invite_api(f, "a@example.com", "Integration", NULL);
    invite_person(f, "b@example.com", "Viewer", NULL);
    invite_api(f, "c@example.com", "Integration", NULL);
    invite_api(f, "d@example.com", "Integration", NULL);

    lk_user *us = NULL;
    size_t n = 0;
    lk_user_filter flt = {.api_only = -1, .offset = 1, .limit = 0}; /* no limit, skip one */
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_list_page(op, &flt, &us, &n));
    assert_int_equal(n, 3);
    assert_string_equal(us[0].email, "b@example.com");
    assert_string_equal(us[2].email, "d@example.com");

    flt = (lk_user_filter){.api_only = 1, .offset = 1, .limit = 1};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_list_page(op, &flt, &us, &n));
    assert_int_equal(n, 1);
    assert_string_equal(us[0].email, "c@example.com");

    flt = (lk_user_filter){.api_only = 0, .offset = 0, .limit = 10};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_list_page(op, &flt, &us, &n));
    assert_int_equal(n, 1);
    assert_string_equal(us[0].email, "b@example.com");

    flt = (lk_user_filter){.api_only = -1, .offset = 10};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_list_page(op, &flt, &us, &n));
    assert_int_equal(n, 0);

    /* lists are ordered by id */
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_list_page(op, &(lk_user_filter){.api_only = -1}, &us, &n));
    assert_int_equal(n, 4);
    for (size_t i = 1; i < n; i++)
        assert_true(us[i - 1].id < us[i].id);
}

/* ---- update ---------------------------------------------------------------- */

static void test_update_fields(void **state)
{
    lk_fixture *f = *state;
    lk_user_input in = base_input();
    in.reason = "old reason";
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    long ev = lk_fixture_count(f, "audit_events");

    op = lk_fixture_op(f);
    op->now += 60;
    int64_t t = op->now;
    const char *exp = iso(f, t + 30 * DAY);
    lk_user_change c = {
        .email = "robot@example.com", .userid = "robot", .first_name = "Robo", .last_name = "Tron",
        .reason = "new reason", .expires = exp,
    };
    lk_user out = {0};
    expect_ok(op, lk_user_update(op, "bot@example.com", &c, &out));
    assert_int_equal(out.id, u.id);
    assert_string_equal(out.email, "robot@example.com");
    assert_string_equal(out.userid, "robot");
    assert_string_equal(out.first_name, "Robo");
    assert_string_equal(out.last_name, "Tron");
    assert_string_equal(out.reason, "new reason");
    assert_int_equal(out.expires_at, t + 30 * DAY);
    assert_int_equal(out.updated_at, t);
    assert_int_equal(out.status, LK_STATUS_ACTIVE);
    assert_int_equal(out.n_grants, 1);

    json_t *d = expect_audit(f, ev, "User", "Edit", "robot@example.com");
    json_t *ch = json_object_get(d, "changes");
    assert_true(json_is_object(ch));
    assert_string_equal(jstr(json_object_get(ch, "email"), "from"), "bot@example.com");
    assert_string_equal(jstr(json_object_get(ch, "email"), "to"), "robot@example.com");
    assert_string_equal(jstr(json_object_get(ch, "firstName"), "from"), "Build");
    assert_string_equal(jstr(json_object_get(ch, "firstName"), "to"), "Robo");
    assert_string_equal(jstr(json_object_get(ch, "lastName"), "to"), "Tron");
    assert_string_equal(jstr(json_object_get(ch, "userid"), "to"), "robot");
    assert_string_equal(jstr(json_object_get(ch, "reason"), "from"), "old reason");
    assert_string_equal(jstr(json_object_get(ch, "expiresAt"), "from"), "never");
    assert_string_equal(jstr(json_object_get(ch, "expiresAt"), "to"), exp);
    assert_string_equal(jstr(d, "email"), "robot@example.com");
    json_decref(d);

    op = lk_fixture_op(f);
    expect_err(op, lk_user_find(op, "bot@example.com", &out), LK_ENOTFOUND, NULL, NULL);
    assert_int_equal(find_user(f, "ROBOT").id, u.id);

    /* "" clears the reason, "never" the expiry; unchanged fields stay out of "changes" */
    ev = lk_fixture_count(f, "audit_events");
    c = (lk_user_change){.reason = "", .expires = "NEVER", .first_name = "Robo"};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "robot", &c, &out));
    assert_string_equal(out.reason, "");
    assert_int_equal(out.expires_at, 0);
    assert_string_equal(out.first_name, "Robo");
    d = expect_audit(f, ev, "User", "Edit", "robot@example.com");
    ch = json_object_get(d, "changes");
    assert_null(json_object_get(ch, "firstName"));
    assert_string_equal(jstr(json_object_get(ch, "reason"), "to"), "");
    assert_string_equal(jstr(json_object_get(ch, "expiresAt"), "to"), "never");
    assert_true(json_is_null(json_object_get(d, "expiresAt")));
    json_decref(d);

    /* keeping one's own email in another case is not a collision */
    c = (lk_user_change){.email = "ROBOT@example.com"};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "robot", &c, &out));
    assert_string_equal(out.email, "ROBOT@example.com");
}

static void test_update_email_moves_defaulted_userid(void **state)
{
    lk_fixture *f = *state;
    invite_api(f, "bot@example.com", "Integration", NULL); /* user id defaulted to the email */
    lk_user_input in = base_input();
    in.email = "named@example.com";
    in.userid = "named";
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));

    long ev = lk_fixture_count(f, "audit_events");
    lk_user_change c = {.email = "robot@example.com"};
    lk_user out = {0};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "bot@example.com", &c, &out));
    assert_string_equal(out.email, "robot@example.com");
    assert_string_equal(out.userid, "robot@example.com");
    json_t *d = expect_audit(f, ev, "User", "Edit", "robot@example.com");
    json_t *ch = json_object_get(d, "changes");
    assert_string_equal(jstr(json_object_get(ch, "userid"), "from"), "bot@example.com");
    assert_string_equal(jstr(json_object_get(ch, "userid"), "to"), "robot@example.com");
    json_decref(d);
    /* the old address names nobody any more */
    op = lk_fixture_op(f);
    expect_err(op, lk_user_find(op, "bot@example.com", &out), LK_ENOTFOUND, "user", NULL);

    /* a chosen user id stays */
    c = (lk_user_change){.email = "named2@example.com"};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "named", &c, &out));
    assert_string_equal(out.userid, "named");

    /* an explicit user id wins over following */
    c = (lk_user_change){.email = "r2@example.com", .userid = "r2"};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "robot@example.com", &c, &out));
    assert_string_equal(out.userid, "r2");

    /* a new email already taken as someone's user id is refused, and nothing moves */
    in = base_input();
    in.email = "other@example.com";
    in.userid = "free@example.com";
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    invite_api(f, "third@example.com", "Integration", NULL);
    snapshot s = snap(f);
    c = (lk_user_change){.email = "FREE@example.com"};
    op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "third@example.com", &c, &out), LK_EEXISTS, "email", NULL);
    expect_unchanged(f, s);
    lk_user third = find_user(f, "third@example.com");
    assert_string_equal(third.email, "third@example.com");
    assert_string_equal(third.userid, "third@example.com");
}

static void test_update_collisions(void **state)
{
    lk_fixture *f = *state;
    lk_user_input in = base_input();
    in.email = "one@example.com";
    in.userid = "first";
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    invite_api(f, "two@example.com", "Integration", NULL);
    snapshot s = snap(f);

    lk_user_change c = {.email = "ONE@example.com"};
    op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "two@example.com", &c, &u), LK_EEXISTS, "email", NULL);
    c = (lk_user_change){.email = "first@example.com", .userid = "FIRST"};
    op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "two@example.com", &c, &u), LK_EEXISTS, "userid", NULL);
    c = (lk_user_change){.userid = "one@example.com"};
    op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "two@example.com", &c, &u), LK_EEXISTS, "userid", NULL);
    expect_unchanged(f, s);
    u = find_user(f, "two@example.com");
    assert_string_equal(u.userid, "two@example.com");
}

static void test_update_refusals_change_nothing(void **state)
{
    lk_fixture *f = *state;
    lk_user before = invite_api(f, "bot@example.com", "Integration", NULL);
    snapshot s = snap(f);
    struct {
        lk_user_change c;
        lk_code code;
        const char *field;
    } bad[] = {
        {{0}, LK_EINVAL, ""},
        {{.email = "not an email"}, LK_EINVAL, "email"},
        {{.email = ""}, LK_EINVAL, "email"},
        {{.userid = "has space", .first_name = "Ok"}, LK_EINVAL, "userid"},
        {{.first_name = ""}, LK_EINVAL, "firstName"},
        {{.first_name = "  "}, LK_EINVAL, "firstName"},
        {{.last_name = "x\ty"}, LK_EINVAL, "lastName"},
        {{.last_name = "\xff"}, LK_EINVAL, "lastName"},
        {{0}, LK_OK, NULL}, /* filled in below: needs the arena */
        {{.expires = "2001-01-01", .first_name = "Ok"}, LK_EINVAL, "expiresAt"},
        {{.expires = "soon", .first_name = "Ok"}, LK_EINVAL, "expiresAt"},
    };
    bad[8].c = (lk_user_change){.reason = repeat(f, "r", 1001), .first_name = "Ok"};
    bad[8].code = LK_EINVAL;
    bad[8].field = "reason";
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_user out;
        lk_op *op = lk_fixture_op(f);
        lk_code rc = lk_user_update(op, "bot@example.com", &bad[i].c, &out);
        if (rc != bad[i].code)
            fail_msg("change #%zu: expected %d, got %d (%s)", i, (int)bad[i].code, (int)rc, op->err.msg);
        assert_string_equal(op->err.field, bad[i].field);
        expect_unchanged(f, s);
    }
    lk_op *op = lk_fixture_op(f);
    lk_user out;
    lk_user_change none = {0};
    expect_err(op, lk_user_update(op, "bot@example.com", &none, &out), LK_EINVAL, NULL, "nothing to change");

    lk_user_change c = {.first_name = "X"};
    op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "ghost@example.com", &c, &out), LK_ENOTFOUND, "user", "ghost@example.com");

    lk_user after = find_user(f, "bot@example.com");
    assert_string_equal(after.first_name, before.first_name);
    assert_string_equal(after.last_name, before.last_name);
    assert_string_equal(after.reason, before.reason);
    assert_int_equal(after.expires_at, 0);
    assert_int_equal(after.updated_at, before.updated_at);
}

static void test_update_grants(void **state)
{
    lk_fixture *f = *state;
    invite_api(f, "bot@example.com", "Integration", NULL);
    long ev = lk_fixture_count(f, "audit_events");

    lk_grant_ref add[] = {{.role = "writer", .workspace = "default"}, {.role = "Writer", .workspace = "1"},
                          {.role = "Viewer"}};
    lk_user_change c = {.add = add, .n_add = 3};
    lk_user out = {0};
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "bot@example.com", &c, &out));
    assert_int_equal(out.n_grants, 3);
    assert_non_null(grant_of(&out, "Writer", LK_WORKSPACE_DEFAULT));
    assert_non_null(grant_of(&out, "Viewer", LK_WORKSPACE_ALLZONES));
    assert_non_null(grant_of(&out, "Integration", LK_WORKSPACE_ALLZONES));
    json_t *d = expect_audit(f, ev, "User", "Edit", "bot@example.com");
    assert_int_equal(json_array_size(json_object_get(d, "roles")), 3);
    json_decref(d);

    snapshot s = snap(f);
    /* removing a grant the user does not hold (same role, other workspace) */
    lk_grant_ref not_held = {.role = "Writer", .workspace = NULL};
    c = (lk_user_change){.remove = &not_held, .n_remove = 1};
    op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "bot@example.com", &c, &out), LK_EINVAL, "role", "Writer");
    lk_grant_ref ghost = {.role = "Ghost"};
    c = (lk_user_change){.remove = &ghost, .n_remove = 1};
    op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "bot@example.com", &c, &out), LK_ENOTFOUND, "role", "Ghost");
    c = (lk_user_change){.add = &ghost, .n_add = 1};
    op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "bot@example.com", &c, &out), LK_ENOTFOUND, "role", "Ghost");
    lk_grant_ref admin_default = {.role = "Admin", .workspace = "Default"};
    c = (lk_user_change){.add = &admin_default, .n_add = 1};
    op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "bot@example.com", &c, &out), LK_EINVAL, "role", "AllZones");

    /* an API-only user may not lose its last Access API role */
    lk_grant_ref api_roles[] = {{.role = "Integration"}, {.role = "Writer", .workspace = "Default"}};
    c = (lk_user_change){.remove = api_roles, .n_remove = 2};
    op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "bot@example.com", &c, &out), LK_ERULE, "role", "Access API");
    /* nor every role */
    lk_grant_ref all[] = {{.role = "Integration"}, {.role = "Writer", .workspace = "Default"}, {.role = "Viewer"}};
    c = (lk_user_change){.remove = all, .n_remove = 3};
    op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "bot@example.com", &c, &out), LK_EINVAL, "role", NULL);
    expect_unchanged(f, s);

    /* removing one API role while another remains is fine */
    c = (lk_user_change){.remove = api_roles, .n_remove = 1};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "bot@example.com", &c, &out));
    assert_int_equal(out.n_grants, 2);
    assert_null(grant_of(&out, "Integration", LK_WORKSPACE_ALLZONES));
}

static void test_update_person_remove_last_grant(void **state)
{
    lk_fixture *f = *state;
    lk_user u = invite_api(f, "bot@example.com", "Integration", NULL);
    (void)u;
    snapshot s = snap(f);
    lk_grant_ref g = {.role = "Integration"};
    lk_user_change c = {.remove = &g, .n_remove = 1};
    lk_user out;
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "bot@example.com", &c, &out), LK_EINVAL, "role", "at least one role");
    expect_unchanged(f, s);
}

static void test_pending_user_cannot_change(void **state)
{
    lk_fixture *f = *state;
    invite_person(f, "pat@example.com", "Viewer", NULL);
    snapshot s = snap(f);
    lk_user out;
    lk_user_change c = {.first_name = "Patricia"};
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "pat@example.com", &c, &out), LK_ERULE, "user", "pat@example.com");
    op = lk_fixture_op(f);
    expect_err(op, lk_user_lock(op, "pat@example.com", NULL, &out), LK_ERULE, "user", "pat@example.com");
    op = lk_fixture_op(f);
    expect_err(op, lk_user_unlock(op, "pat@example.com", NULL, &out), LK_ERULE, "user", "pat@example.com");
    expect_unchanged(f, s);
    assert_string_equal(find_user(f, "pat@example.com").first_name, "Pat");
}

/* ---- lock and unlock ------------------------------------------------------- */

static void test_lock_unlock(void **state)
{
    lk_fixture *f = *state;
    invite_api(f, "bot@example.com", "Integration", NULL);
    long ev = lk_fixture_count(f, "audit_events");
    lk_user out = {0};
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_lock(op, "BOT@example.com", "leaked credentials", &out));
    assert_int_equal(out.status, LK_STATUS_LOCKED);
    assert_string_equal(out.lock_reason, "leaked credentials");
    const char *why = NULL;
    assert_int_equal(lk_user_effective_status(&out, f->op.now, &why), LK_STATUS_LOCKED);
    assert_string_equal(why, "leaked credentials");
    json_t *d = expect_audit(f, ev, "User", "Lock", "bot@example.com");
    assert_string_equal(jstr(d, "email"), "bot@example.com");
    assert_string_equal(jstr(d, "reason"), "leaked credentials");
    json_decref(d);
    assert_int_equal(find_user(f, "bot@example.com").status, LK_STATUS_LOCKED);

    snapshot s = snap(f);
    op = lk_fixture_op(f);
    expect_err(op, lk_user_lock(op, "bot@example.com", "again", &out), LK_ERULE, "user", "already locked");
    expect_unchanged(f, s);
    assert_string_equal(find_user(f, "bot@example.com").lock_reason, "leaked credentials");

    ev = lk_fixture_count(f, "audit_events");
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_unlock(op, "bot@example.com", NULL, &out));
    assert_int_equal(out.status, LK_STATUS_ACTIVE);
    assert_string_equal(out.lock_reason, "");
    d = expect_audit(f, ev, "User", "Unlock", "bot@example.com");
    assert_string_equal(jstr(d, "email"), "bot@example.com");
    assert_true(json_is_null(json_object_get(d, "expiresAt")));
    json_decref(d);

    s = snap(f);
    op = lk_fixture_op(f);
    expect_err(op, lk_user_unlock(op, "bot@example.com", NULL, &out), LK_ERULE, "user", "not locked");
    expect_unchanged(f, s);

    /* without a reason, one is supplied */
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_lock(op, "bot@example.com", NULL, &out));
    assert_int_equal(out.status, LK_STATUS_LOCKED);
    assert_string_equal(out.lock_reason, "locked by an administrator");
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_unlock(op, "bot@example.com", NULL, &out));
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_lock(op, "bot@example.com", "", &out));
    assert_string_equal(out.lock_reason, "locked by an administrator");

    op = lk_fixture_op(f);
    expect_err(op, lk_user_lock(op, "ghost@example.com", NULL, &out), LK_ENOTFOUND, "user", "ghost@example.com");
    op = lk_fixture_op(f);
    expect_err(op, lk_user_unlock(op, "ghost@example.com", NULL, &out), LK_ENOTFOUND, "user", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_user_lock(op, "bot@example.com", repeat(f, "r", 1001), &out), LK_EINVAL, "reason", NULL);
}

static void test_locked_user_can_be_updated(void **state)
{
    lk_fixture *f = *state;
    invite_api(f, "bot@example.com", "Integration", NULL);
    lk_user out;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_lock(op, "bot@example.com", "paused", &out));
    lk_user_change c = {.last_name = "Paused"};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "bot@example.com", &c, &out));
    assert_string_equal(out.last_name, "Paused");
    assert_int_equal(out.status, LK_STATUS_LOCKED);
    assert_string_equal(out.lock_reason, "paused");
}

static void test_expired_user_counts_as_locked(void **state)
{
    lk_fixture *f = *state;
    int64_t t0 = f->op.now;
    lk_user u = invite_api(f, "bot@example.com", "Integration", iso(f, t0 + 100));
    assert_int_equal(u.expires_at, t0 + 100);
    const char *why = NULL;
    assert_int_equal(lk_user_effective_status(&u, t0 + 99, &why), LK_STATUS_ACTIVE);

    f->op.now = t0 + 200;
    u = find_user(f, "bot@example.com");
    assert_int_equal(u.status, LK_STATUS_ACTIVE); /* as stored */
    assert_int_equal(lk_user_effective_status(&u, f->op.now, &why), LK_STATUS_LOCKED);
    assert_string_equal(why, "access expired");

    /* unlocking needs a new expiry */
    snapshot s = snap(f);
    lk_user out;
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_user_unlock(op, "bot@example.com", NULL, &out), LK_EINVAL, "expiresAt", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_user_unlock(op, "bot@example.com", iso(f, t0 + 150), &out), LK_EINVAL, "expiresAt", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_user_unlock(op, "bot@example.com", "someday", &out), LK_EINVAL, "expiresAt", NULL);
    expect_unchanged(f, s);

    long ev = lk_fixture_count(f, "audit_events");
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_unlock(op, "bot@example.com", "never", &out));
    assert_int_equal(out.expires_at, 0);
    assert_int_equal(out.status, LK_STATUS_ACTIVE);
    assert_int_equal(lk_user_effective_status(&out, t0 + 10 * DAY, NULL), LK_STATUS_ACTIVE);
    json_t *d = expect_audit(f, ev, "User", "Unlock", "bot@example.com");
    assert_true(json_is_null(json_object_get(d, "expiresAt")));
    json_decref(d);

    /* or a future instant */
    f->op.now = t0;
    invite_api(f, "bot2@example.com", "Integration", iso(f, t0 + 100));
    f->op.now = t0 + 200;
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_unlock(op, "bot2@example.com", iso(f, t0 + 5 * DAY), &out));
    assert_int_equal(out.expires_at, t0 + 5 * DAY);
    assert_int_equal(lk_user_effective_status(&out, f->op.now, NULL), LK_STATUS_ACTIVE);
}

/* once access has expired, a new expiry takes an unlock, not an update */
static void test_update_expiry_after_access_expired(void **state)
{
    lk_fixture *f = *state;
    int64_t t0 = f->op.now;
    invite_api(f, "bot@example.com", "Integration", iso(f, t0 + 100));
    snapshot s = snap(f);
    const int64_t when[] = {t0 + 100, t0 + 200}; /* the very second it expires, and later */
    const char *later[] = {iso(f, t0 + DAY), "never"};
    lk_user out;
    for (size_t i = 0; i < 2; i++) {
        f->op.now = when[i];
        for (size_t j = 0; j < 2; j++) {
            lk_user_change c = {.expires = later[j]};
            lk_op *op = lk_fixture_op(f);
            expect_err(op, lk_user_update(op, "bot@example.com", &c, &out), LK_ERULE, "expiresAt", "unlock");
            /* nor does it go through along with other fields */
            c.last_name = "Renamed";
            op = lk_fixture_op(f);
            expect_err(op, lk_user_update(op, "bot@example.com", &c, &out), LK_ERULE, "expiresAt", "unlock");
        }
    }
    expect_unchanged(f, s);
    lk_user u = find_user(f, "bot@example.com");
    assert_int_equal(u.expires_at, t0 + 100);
    assert_string_equal(u.last_name, "User");
    assert_int_equal(u.status, LK_STATUS_ACTIVE);

    /* unlocking with a new expiry still works; after it, updates may move the expiry */
    long ev = lk_fixture_count(f, "audit_events");
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_unlock(op, "bot@example.com", iso(f, t0 + 5 * DAY), &out));
    assert_int_equal(out.expires_at, t0 + 5 * DAY);
    assert_int_equal(lk_user_effective_status(&out, f->op.now, NULL), LK_STATUS_ACTIVE);
    json_decref(expect_audit(f, ev, "User", "Unlock", "bot@example.com"));
    lk_user_change c = {.expires = iso(f, t0 + 10 * DAY)};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "bot@example.com", &c, &out));
    assert_int_equal(out.expires_at, t0 + 10 * DAY);
}

static void test_expired_and_locked_user_unlock(void **state)
{
    lk_fixture *f = *state;
    int64_t t0 = f->op.now;
    invite_api(f, "bot@example.com", "Integration", iso(f, t0 + 100));
    lk_user out;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_lock(op, "bot@example.com", "by hand", &out));
    f->op.now = t0 + 200;
    op = lk_fixture_op(f);
    expect_err(op, lk_user_unlock(op, "bot@example.com", NULL, &out), LK_EINVAL, "expiresAt", NULL);
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_unlock(op, "bot@example.com", iso(f, t0 + DAY), &out));
    assert_int_equal(out.status, LK_STATUS_ACTIVE);

    /* a locked user whose expiry lies ahead unlocks without a new one and keeps it */
    f->op.now = t0;
    invite_api(f, "bot2@example.com", "Integration", iso(f, t0 + DAY));
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_lock(op, "bot2@example.com", NULL, &out));
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_unlock(op, "bot2@example.com", NULL, &out));
    assert_int_equal(out.expires_at, t0 + DAY);
}

/* ---- delete ---------------------------------------------------------------- */

static void test_delete_refused_while_owning_service(void **state)
{
    lk_fixture *f = *state;
    invite_api(f, "bot@example.com", "Integration", NULL);
    lk_service svc;
    lk_client_secret secret;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_service_create(op, "Nightly Sync", NULL, "bot@example.com", &svc, secret));
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_create(op, "Backfill", NULL, "bot@example.com", &svc, secret));

    snapshot s = snap(f);
    op = lk_fixture_op(f);
    expect_err(op, lk_user_delete(op, "bot@example.com"), LK_EINUSE, "user", "Nightly Sync");
    assert_non_null(strstr(op->err.msg, "Backfill"));
    expect_unchanged(f, s);

    op = lk_fixture_op(f);
    expect_ok(op, lk_service_delete(op, "Nightly Sync"));
    op = lk_fixture_op(f);
    expect_err(op, lk_user_delete(op, "bot@example.com"), LK_EINUSE, "user", "Backfill");
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_delete(op, "Backfill"));

    long ev = lk_fixture_count(f, "audit_events");
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_delete(op, "bot@example.com"));
    assert_int_equal(lk_fixture_count(f, "users"), 0);
    assert_int_equal(lk_fixture_count(f, "user_roles"), 0);
    json_t *d = expect_audit(f, ev, "User", "Delete", "bot@example.com");
    assert_string_equal(jstr(d, "email"), "bot@example.com");
    json_decref(d);

    lk_user u;
    op = lk_fixture_op(f);
    expect_err(op, lk_user_find(op, "bot@example.com", &u), LK_ENOTFOUND, "user", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_user_delete(op, "bot@example.com"), LK_ENOTFOUND, "user", "bot@example.com");
}

static void test_delete_pending_person(void **state)
{
    lk_fixture *f = *state;
    lk_grant_ref g[] = {{.role = "Viewer"}, {.role = "Writer", .workspace = "Default"}};
    lk_user_input in = {.email = "pat@example.com", .first_name = "Pat", .last_name = "Person",
                        .grants = g, .n_grants = 2};
    lk_user u;
    lk_invite_token tok;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, &tok));
    invite_api(f, "bot@example.com", "Integration", NULL);
    assert_int_equal(lk_fixture_count(f, "invitations"), 1);
    assert_int_equal(lk_fixture_count(f, "user_roles"), 3);

    long ev = lk_fixture_count(f, "audit_events");
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_delete(op, "PAT@example.com"));
    assert_int_equal(lk_fixture_count(f, "invitations"), 0);
    assert_int_equal(lk_fixture_count(f, "user_roles"), 1);
    assert_int_equal(lk_fixture_count(f, "users"), 1);
    json_t *d = expect_audit(f, ev, "User", "Delete", "pat@example.com");
    assert_string_equal(jstr(d, "status"), "pending");
    json_decref(d);
    expect_not_in_audit(f, tok.token);

    lk_invitation inv;
    op = lk_fixture_op(f);
    expect_err(op, lk_user_invitation(op, "pat@example.com", &inv), LK_ENOTFOUND, NULL, NULL);
}

/* ---- the last active Admin ------------------------------------------------- */

static void test_admin_create(void **state)
{
    lk_fixture *f = *state;
    long ev = lk_fixture_count(f, "audit_events");
    lk_user a = {0};
    char pw[LK_ONETIME_PASSWORD_LEN + 1];
    lk_op *op = lk_fixture_op(f);
    op->now = 1900000000;
    expect_ok(op, lk_admin_create(op, "root@example.com", "Root", "Admin", &a, pw));
    assert_int_equal(strlen(pw), LK_ONETIME_PASSWORD_LEN);
    assert_int_equal(LK_ONETIME_PASSWORD_LEN, 20);
    assert_true(is_alnum(pw));

    assert_string_equal(a.email, "root@example.com");
    assert_string_equal(a.userid, "root@example.com");
    assert_false(a.api_only);
    assert_int_equal(a.status, LK_STATUS_ACTIVE);
    assert_true(lk_user_is_admin(&a));
    assert_int_equal(a.n_grants, 1);
    assert_int_equal(a.grants[0].role_id, LK_ROLE_ADMIN);
    assert_int_equal(a.grants[0].workspace_id, LK_WORKSPACE_ALLZONES);
    assert_non_null(a.password_hash);
    assert_non_null(strstr(a.password_hash, "$argon2id$"));
    assert_null(strstr(a.password_hash, pw));
    assert_true(lk_password_verify(pw, a.password_hash));
    char wrong[LK_ONETIME_PASSWORD_LEN + 1];
    memcpy(wrong, pw, sizeof wrong);
    wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
    assert_false(lk_password_verify(wrong, a.password_hash));
    assert_int_equal(lk_fixture_count(f, "invitations"), 0);

    lk_user got = find_user(f, "ROOT@example.com");
    assert_string_equal(got.password_hash, a.password_hash);

    json_t *d = expect_audit(f, ev, "User", "Create", "root@example.com");
    assert_string_equal(jstr(d, "status"), "active");
    json_decref(d);
    expect_not_in_audit(f, pw);
    expect_not_in_audit(f, a.password_hash);
    expect_not_in_db(f, pw);

    /* bad input is refused before any hashing */
    snapshot s = snap(f);
    char pw2[LK_ONETIME_PASSWORD_LEN + 1];
    lk_user b;
    op = lk_fixture_op(f);
    expect_err(op, lk_admin_create(op, "not-an-email", "Root", "Admin", &b, pw2), LK_EINVAL, "email", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_admin_create(op, "b@example.com", "", "Admin", &b, pw2), LK_EINVAL, "firstName", NULL);
    expect_unchanged(f, s);

    /* the only active Admin: no delete, no lock, no losing Admin */
    lk_user out;
    op = lk_fixture_op(f);
    expect_err(op, lk_user_delete(op, "root@example.com"), LK_ELASTADMIN, NULL, "root@example.com");
    op = lk_fixture_op(f);
    expect_err(op, lk_user_lock(op, "root@example.com", NULL, &out), LK_ELASTADMIN, NULL, "root@example.com");
    expect_unchanged(f, s);

    lk_grant_ref viewer = {.role = "Viewer"};
    lk_user_change c = {.add = &viewer, .n_add = 1};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "root@example.com", &c, &out));
    s = snap(f);
    lk_grant_ref admin = {.role = "Admin"};
    c = (lk_user_change){.remove = &admin, .n_remove = 1};
    op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "root@example.com", &c, &out), LK_ELASTADMIN, NULL, "root@example.com");
    expect_unchanged(f, s);
    assert_true(lk_user_is_admin(&(lk_user){.grants = find_user(f, "root@example.com").grants,
                                            .n_grants = find_user(f, "root@example.com").n_grants}));

    /* neither an API-only user holding Admin nor a pending person with Admin counts */
    lk_grant_ref api_admin[] = {{.role = "Admin"}, {.role = "Integration"}};
    lk_user_input in = {.email = "bot@example.com", .first_name = "B", .last_name = "Ot", .api_only = true,
                        .grants = api_admin, .n_grants = 2};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &out, NULL));
    assert_true(lk_user_is_admin(&out));
    invite_person(f, "pat@example.com", "Admin", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_user_delete(op, "root@example.com"), LK_ELASTADMIN, NULL, NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_user_lock(op, "root@example.com", NULL, &out), LK_ELASTADMIN, NULL, NULL);

    /* those others are not protected themselves */
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_lock(op, "bot@example.com", NULL, &out));
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_delete(op, "pat@example.com"));
}

static void test_admin_protection_lifts_with_second_admin(void **state)
{
    lk_fixture *f = *state;
    lk_user a, b, out;
    char pw[LK_ONETIME_PASSWORD_LEN + 1];
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_admin_create(op, "root1@example.com", "Root", "One", &a, pw));
    op = lk_fixture_op(f);
    expect_ok(op, lk_admin_create(op, "root2@example.com", "Root", "Two", &b, pw));

    /* with two active Admins one may be locked ... */
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_lock(op, "root1@example.com", NULL, &out));
    /* ... and then the other is the last active one: a locked Admin does not count */
    snapshot s = snap(f);
    op = lk_fixture_op(f);
    expect_err(op, lk_user_delete(op, "root2@example.com"), LK_ELASTADMIN, NULL, "root2@example.com");
    op = lk_fixture_op(f);
    expect_err(op, lk_user_lock(op, "root2@example.com", NULL, &out), LK_ELASTADMIN, NULL, NULL);
    expect_unchanged(f, s);
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_unlock(op, "root1@example.com", NULL, &out));

    /* root2 may now lose Admin, which makes root1 the last */
    lk_grant_ref viewer = {.role = "Viewer"};
    lk_grant_ref admin = {.role = "Admin"};
    lk_user_change c = {.add = &viewer, .n_add = 1, .remove = &admin, .n_remove = 1};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "root2@example.com", &c, &out));
    assert_false(lk_user_is_admin(&out));
    op = lk_fixture_op(f);
    expect_err(op, lk_user_delete(op, "root1@example.com"), LK_ELASTADMIN, NULL, NULL);

    /* root2 becomes Admin again, but with an expiry that then passes */
    int64_t t0 = f->op.now;
    c = (lk_user_change){.add = &admin, .n_add = 1, .expires = iso(f, t0 + 100)};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "root2@example.com", &c, &out));
    assert_true(lk_user_is_admin(&out));
    f->op.now = t0 + 200;
    op = lk_fixture_op(f);
    expect_err(op, lk_user_delete(op, "root1@example.com"), LK_ELASTADMIN, NULL, NULL);

    /* unlocked for good, root2 counts, and root1 may go */
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_unlock(op, "root2@example.com", "never", &out));
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_delete(op, "root1@example.com"));
    assert_int_equal(lk_fixture_count(f, "users"), 1);
}

/* the last active Admin cannot be given an access expiry: when it passed, nobody
 * could administer the instance */
static void test_update_expiry_of_last_admin(void **state)
{
    lk_fixture *f = *state;
    int64_t t0 = f->op.now;
    lk_user a, b, out;
    char pw[LK_ONETIME_PASSWORD_LEN + 1];
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_admin_create(op, "root1@example.com", "Root", "One", &a, pw));
    snapshot s = snap(f);
    lk_user_change c = {.expires = iso(f, t0 + DAY)};
    op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "root1@example.com", &c, &out), LK_ELASTADMIN, "user", "root1@example.com");
    c.first_name = "Rooty";
    op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "root1@example.com", &c, &out), LK_ELASTADMIN, "user", NULL);
    expect_unchanged(f, s);
    a = find_user(f, "root1@example.com");
    assert_int_equal(a.expires_at, 0);
    assert_string_equal(a.first_name, "Root");

    /* "never" leaves it without an expiry, which is fine; it changes nothing, so
     * nothing is written and no audit event is recorded */
    s = snap(f);
    c = (lk_user_change){.expires = "never"};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "root1@example.com", &c, &out));
    assert_int_equal(out.expires_at, 0);
    expect_unchanged(f, s);

    /* a second Admin who is locked does not count */
    op = lk_fixture_op(f);
    expect_ok(op, lk_admin_create(op, "root2@example.com", "Root", "Two", &b, pw));
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_lock(op, "root2@example.com", NULL, &out));
    s = snap(f);
    c = (lk_user_change){.expires = iso(f, t0 + DAY)};
    op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "root1@example.com", &c, &out), LK_ELASTADMIN, "user", "root1@example.com");
    expect_unchanged(f, s);

    /* with a second active Admin it works */
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_unlock(op, "root2@example.com", NULL, &out));
    long ev = lk_fixture_count(f, "audit_events");
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "root1@example.com", &c, &out));
    assert_int_equal(out.expires_at, t0 + DAY);
    assert_true(lk_user_is_admin(&out));
    json_decref(expect_audit(f, ev, "User", "Edit", "root1@example.com"));
}


/* the store counts the holders of each role: a user with a role in two workspaces
 * counts once, roles nobody holds are left out */
static void test_role_holder_counts(void **state)
{
    lk_fixture *f = *state;
    lk_user a = invite_api(f, "a@example.com", "Integration", NULL);
    invite_api(f, "b@example.com", "Integration", NULL);
    lk_grant_ref more = {.role = "Integration", .workspace = "Default"};
    lk_user_change ch = {.add = &more, .n_add = 1};
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "a@example.com", &ch, &a));
    lk_role integration, writer;
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_find(op, "Integration", &integration));
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_find(op, "Writer", &writer));
    int64_t *pairs = NULL;
    size_t n = 0;
    lk_error err = {0};
    assert_int_equal(f->store->ops->role_holder_counts(f->store, &f->arena, &pairs, &n, &err), LK_OK);
    bool seen = false;
    for (size_t i = 0; i < n; i++) {
        assert_int_not_equal(pairs[2 * i], writer.id);
        if (pairs[2 * i] == integration.id) {
            assert_int_equal(pairs[2 * i + 1], 2);
            seen = true;
        }
    }
    assert_true(seen);
}

/* the user management API's grants name roles by id and workspaces by id */
static void test_grants_by_role_id(void **state)
{
    lk_fixture *f = *state;
    lk_role writer;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_role_find(op, "Writer", &writer));
    lk_grant_ref g[] = {{.role_id = writer.id, .workspace = "0"}, {.role_id = writer.id, .workspace = "1"}};
    lk_user_input in = base_input();
    in.grants = g;
    in.n_grants = 2;
    lk_user u;
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    assert_int_equal(u.n_grants, 2);
    assert_string_equal(u.grants[0].role_name, "Writer");

    long ev = lk_fixture_count(f, "audit_events");
    lk_grant_ref bad = {.role_id = 9999, .workspace = "0"};
    lk_user_change ch = {.add = &bad, .n_add = 1};
    op = lk_fixture_op(f);
    expect_err(op, lk_user_update(op, "bot@example.com", &ch, &u), LK_ENOTFOUND, "accessRoleId", "9999");
    assert_int_equal(lk_fixture_count(f, "audit_events"), ev);

    /* an added and a removed grant are named in the audit event */
    lk_role integration;
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_find(op, "Integration", &integration));
    lk_grant_ref add = {.role_id = integration.id, .workspace = "Default"};
    lk_grant_ref rm = {.role_id = writer.id, .workspace = "0"};
    ch = (lk_user_change){.add = &add, .n_add = 1, .remove = &rm, .n_remove = 1};
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "bot@example.com", &ch, &u));
    json_t *d = expect_audit(f, ev, "User", "Edit", "bot@example.com");
    json_t *changes = json_object_get(d, "changes");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(changes, "rolesAdded"), 0),
                                                          "role")), "Integration");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(changes, "rolesRemoved"), 0),
                                                          "workspace")), "AllZones");
    json_decref(d);
}

/* delete through the user management API: accepted users by delete, pending ones by
 * invite/delete, each refusing the other kind and changing nothing */
static void test_delete_scoped(void **state)
{
    lk_fixture *f = *state;
    lk_grant_ref g = {.role = "Viewer"};
    lk_user_input in = {.email = "pat@example.com", .first_name = "Pat", .last_name = "Person",
                        .grants = &g, .n_grants = 1};
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    invite_api(f, "bot@example.com", "Integration", NULL);
    long users = lk_fixture_count(f, "users"), ev = lk_fixture_count(f, "audit_events");

    op = lk_fixture_op(f);
    expect_err(op, lk_user_delete_scoped(op, "pat@example.com", LK_SCOPE_ACCEPTED), LK_ERULE, "user", "invited");
    op = lk_fixture_op(f);
    expect_err(op, lk_user_delete_scoped(op, "bot@example.com", LK_SCOPE_PENDING), LK_ERULE, "user",
               "no pending invitation");
    assert_int_equal(lk_fixture_count(f, "users"), users);
    assert_int_equal(lk_fixture_count(f, "audit_events"), ev);

    op = lk_fixture_op(f);
    expect_ok(op, lk_user_delete_scoped(op, "pat@example.com", LK_SCOPE_PENDING));
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_delete_scoped(op, "bot@example.com", LK_SCOPE_ACCEPTED));
    assert_int_equal(lk_fixture_count(f, "users"), users - 2);
}

/* a page of accepted users leaves pending ones out, and counts offsets among the rest */
static void test_list_page_accepted_only(void **state)
{
    lk_fixture *f = *state;
    invite_api(f, "a@example.com", "Integration", NULL);
    lk_grant_ref g = {.role = "Viewer"};
    lk_user_input in = {.email = "pending@example.com", .first_name = "P", .last_name = "Q", .grants = &g,
                        .n_grants = 1};
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    invite_api(f, "b@example.com", "Integration", NULL);
    lk_user_filter fl = {.api_only = -1, .accepted_only = true};
    lk_user *all;
    size_t n_all;
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_list_page(op, &fl, &all, &n_all));
    assert_int_equal((long)n_all, lk_fixture_count(f, "users") - 1);
    for (size_t i = 0; i < n_all; i++)
        assert_int_not_equal(all[i].status, LK_STATUS_PENDING);
    assert_string_equal(all[n_all - 1].email, "b@example.com");
    assert_string_equal(all[n_all - 2].email, "a@example.com");
    /* the offset skips accepted users only: one before the end is a@, then b@ */
    fl.offset = (int64_t)n_all - 2;
    fl.limit = 5;
    lk_user *page;
    size_t n;
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_list_page(op, &fl, &page, &n));
    assert_int_equal(n, 2);
    assert_string_equal(page[0].email, "a@example.com");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, lk_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_invite_api_only),
        T(test_invite_person),
        T(test_invite_person_custom_ttl_and_no_token_buffer),
        T(test_invite_api_only_needs_api_role),
        T(test_invite_needs_a_role),
        T(test_invite_email_validation),
        T(test_invite_duplicate_email),
        T(test_invite_userid_collisions),
        T(test_invite_names),
        T(test_names_spaced_blank_or_overridden),
        T(test_invite_refused_clears_token),
        T(test_invite_reason),
        T(test_invite_expiry),
        T(test_invite_unknown_role_or_workspace),
        T(test_invite_admin_only_in_allzones),
        T(test_find_and_list),
        T(test_grants_deduplicated_and_sorted),
        T(test_list_page),
        T(test_list_page_accepted_only),
        T(test_grants_by_role_id),
        T(test_role_holder_counts),
        T(test_delete_scoped),
        cmocka_unit_test(test_status_names_and_effective_status),
        T(test_update_fields),
        T(test_update_email_moves_defaulted_userid),
        T(test_update_collisions),
        T(test_update_refusals_change_nothing),
        T(test_update_grants),
        T(test_update_person_remove_last_grant),
        T(test_pending_user_cannot_change),
        T(test_lock_unlock),
        T(test_locked_user_can_be_updated),
        T(test_expired_user_counts_as_locked),
        T(test_update_expiry_after_access_expired),
        T(test_expired_and_locked_user_unlock),
        T(test_delete_refused_while_owning_service),
        T(test_delete_pending_person),
        T(test_admin_create),
        T(test_admin_protection_lifts_with_second_admin),
        T(test_update_expiry_of_last_admin),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
