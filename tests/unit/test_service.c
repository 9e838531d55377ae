/*
 * test_service — LaunchPoint custom services through core/service.h: creation
 * (UUID v4 client id, 32-character alphanumeric secret kept only as its hash, an
 * owner that exists and is an active API-only user, unique display names), lookup
 * by name or client id, secret rotation with and without a grace period, deletion,
 * and audit events that never carry a secret.
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
#include "util/timefmt.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a role with an Access API permission and an active API-only owner, bot@example.com */
static int setup(void **state)
{
    if (lk_fixture_setup(state) != 0)
        return -1;
    lk_fixture *f = *state;
    const char *perms[] = {"Read-Only Lead"};
    lk_role r;
    lk_op *op = lk_fixture_op(f);
    if (lk_role_create(op, "Integration", NULL, perms, 1, &r) != LK_OK)
        return -1;
    invite_api(f, "bot@example.com", "Integration", NULL);
    return 0;
}

static bool is_alnum_secret(const char *s)
{
    return strlen(s) == LK_SECRET_LEN && is_alnum(s);
}

static lk_service create(lk_fixture *f, const char *name, lk_client_secret secret)
{
    lk_service s;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_service_create(op, name, NULL, "bot@example.com", &s, secret));
    return s;
}

static lk_service find_service(lk_fixture *f, const char *key)
{
    lk_service s;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_service_find(op, key, &s));
    return s;
}

static void test_create(void **state)
{
    lk_fixture *f = *state;
    long ev = lk_fixture_count(f, "audit_events");
    lk_service s = {0};
    lk_client_secret secret;
    lk_op *op = lk_fixture_op(f);
    op->now = 1900000000;
    expect_ok(op, lk_service_create(op, "Nightly Sync", "pulls leads", "BOT@example.com", &s, secret));

    assert_true(s.id > 0);
    assert_string_equal(s.name, "Nightly Sync");
    assert_string_equal(s.description, "pulls leads");
    assert_string_equal(s.user_email, "bot@example.com");
    assert_true(s.user_id > 0);
    assert_int_equal(s.created_at, 1900000000);
    if (!is_uuid_v4(s.client_id))
        fail_msg("client id '%s' is not a UUID v4", s.client_id);
    if (!is_alnum_secret(secret))
        fail_msg("secret '%s' is not 32 alphanumeric characters", secret);

    char h[LK_HASH_HEX];
    lk_secret_hash(secret, h);
    assert_string_equal(s.secret_hash, h);
    assert_string_not_equal(s.secret_hash, secret);
    assert_null(strstr(s.secret_hash, secret));
    assert_null(s.old_secret_hash);
    assert_true(lk_service_secret_matches(&s, secret, 1900000000));
    assert_int_equal(lk_fixture_count(f, "services"), 1);

    json_t *d = expect_audit(f, ev, "Service", "Create", "Nightly Sync");
    assert_string_equal(jstr(d, "name"), "Nightly Sync");
    assert_string_equal(jstr(d, "description"), "pulls leads");
    assert_string_equal(jstr(d, "user"), "bot@example.com");
    assert_string_equal(jstr(d, "clientId"), s.client_id);
    json_decref(d);
    expect_not_in_audit(f, secret);
    expect_not_in_db(f, secret);

    /* the stored record agrees */
    lk_service got = find_service(f, "nightly sync");
    assert_int_equal(got.id, s.id);
    assert_string_equal(got.secret_hash, h);
    assert_string_equal(got.user_email, "bot@example.com");
    assert_true(lk_service_secret_matches(&got, secret, 1900000000));

    lk_service *all = NULL;
    size_t n = 0;
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_list(op, NULL, &all, &n));
    assert_int_equal(n, 1);
    assert_string_equal(all[0].client_id, s.client_id);
    assert_string_equal(all[0].user_email, "bot@example.com");
}

static void test_create_gives_distinct_ids_and_secrets(void **state)
{
    lk_fixture *f = *state;
    lk_client_secret s1, s2;
    lk_service a = create(f, "One", s1);
    lk_service b = create(f, "Two", s2);
    assert_string_not_equal(a.client_id, b.client_id);
    assert_string_not_equal(s1, s2);
    assert_false(lk_service_secret_matches(&a, s2, f->op.now));
    assert_false(lk_service_secret_matches(&b, s1, f->op.now));

    /* one owner, several services */
    lk_service *all = NULL;
    size_t n = 0;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_service_list(op, NULL, &all, &n));
    assert_int_equal(n, 2);
    assert_int_equal(all[0].user_id, all[1].user_id);
}

static void test_create_without_description(void **state)
{
    lk_fixture *f = *state;
    lk_client_secret secret;
    lk_service s = create(f, "Plain", secret);
    assert_string_equal(s.description, "");
}

static void test_owner_rules(void **state)
{
    lk_fixture *f = *state;
    int64_t t0 = f->op.now;
    invite_person(f, "pat@example.com", "Integration", NULL);
    invite_api(f, "locked@example.com", "Integration", NULL);
    invite_api(f, "expiring@example.com", "Integration", iso(f, t0 + 100));
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_lock(op, "locked@example.com", "paused", &u));

    snapshot s = snap(f);
    lk_service svc;
    lk_client_secret secret;
    op = lk_fixture_op(f);
    expect_err(op, lk_service_create(op, "Svc", NULL, "ghost@example.com", &svc, secret), LK_ENOTFOUND, "user",
               "ghost@example.com");
    op = lk_fixture_op(f);
    expect_err(op, lk_service_create(op, "Svc", NULL, "pat@example.com", &svc, secret), LK_ERULE, "user",
               "pat@example.com");
    op = lk_fixture_op(f);
    expect_err(op, lk_service_create(op, "Svc", NULL, "locked@example.com", &svc, secret), LK_ERULE, "user",
               "locked@example.com");
    op = lk_fixture_op(f);
    expect_err(op, lk_service_create(op, "Svc", NULL, "", &svc, secret), LK_EINVAL, "user", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_service_create(op, "Svc", NULL, NULL, &svc, secret), LK_EINVAL, "user", NULL);
    expect_unchanged(f, s);

    /* before its expiry the owner is fine; after it, not */
    f->op.now = t0 + 200;
    op = lk_fixture_op(f);
    expect_err(op, lk_service_create(op, "Svc", NULL, "expiring@example.com", &svc, secret), LK_ERULE, "user",
               "expiring@example.com");
    assert_non_null(strstr(op->err.msg, "expired"));
    expect_unchanged(f, s);
    f->op.now = t0;
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_create(op, "Svc", NULL, "expiring@example.com", &svc, secret));
    assert_string_equal(svc.user_email, "expiring@example.com");
}

static void test_create_bad_fields(void **state)
{
    lk_fixture *f = *state;
    snapshot s = snap(f);
    lk_service svc;
    lk_client_secret secret;
    const char *bad[] = {"", "  ", "Nightly\tSync", "Nightly\xff", repeat(f, "s", 256)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_op *op = lk_fixture_op(f);
        lk_code rc = lk_service_create(op, bad[i], NULL, "bot@example.com", &svc, secret);
        if (rc != LK_EINVAL)
            fail_msg("bad name #%zu accepted (rc %d)", i, (int)rc);
        assert_string_equal(op->err.field, "name");
    }
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_service_create(op, NULL, NULL, "bot@example.com", &svc, secret), LK_EINVAL, "name", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_service_create(op, "Ok", repeat(f, "d", 1001), "bot@example.com", &svc, secret), LK_EINVAL,
               "description", NULL);
    expect_unchanged(f, s);

    op = lk_fixture_op(f);
    expect_ok(op, lk_service_create(op, repeat(f, "\xc3\xa9", 255), repeat(f, "d", 1000), "bot@example.com", &svc,
                                    secret));
}

static lk_code create_service_named(lk_op *op, const char *name)
{
    lk_service svc;
    lk_client_secret secret;
    return lk_service_create(op, name, NULL, "bot@example.com", &svc, secret);
}

/* a space at either end, a blank of U+00A0, a bidirectional override */
static void test_create_spaced_blank_or_overridden_name(void **state)
{
    expect_names_refused(*state, "CRM", "name", create_service_named);
}

/* a display name shaped like a client id would shadow client ids in lookups */
static void test_create_uuid_shaped_name(void **state)
{
    lk_fixture *f = *state;
    lk_client_secret secret;
    lk_service first = create(f, "Nightly Sync", secret);
    const char *bad[] = {
        "7e20f315-c580-457d-89b4-b99c0550a5e8",
        "7E20F315-C580-457D-89B4-B99C0550A5E8",
        "00000000-0000-0000-0000-000000000000",
        first.client_id,
    };
    snapshot s = snap(f);
    lk_service svc;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_op *op = lk_fixture_op(f);
        expect_err(op, lk_service_create(op, bad[i], NULL, "bot@example.com", &svc, secret), LK_EINVAL, "name", NULL);
    }
    expect_unchanged(f, s);
    assert_string_equal(find_service(f, first.client_id).name, "Nightly Sync");

    /* near misses are ordinary names */
    const char *fine[] = {
        "7e20f315-c580-457d-89b4-b99c0550a5e",    /* one digit short */
        "7e20f315-c580-457d-89b4-b99c0550a5e8a",  /* one too many */
        "7e20f315 c580 457d 89b4 b99c0550a5e8",   /* spaces for dashes */
        "7e20f315-c580-457d-89b4-b99c0550a5eg",   /* not hex */
        "7e20f315c580457d89b4b99c0550a5e8",       /* no dashes */
    };
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++)
        assert_string_equal(create(f, fine[i], secret).name, fine[i]);
}

static void test_create_duplicate_name(void **state)
{
    lk_fixture *f = *state;
    lk_client_secret secret;
    create(f, "Nightly Sync", secret);
    snapshot s = snap(f);
    lk_service svc;
    lk_client_secret again;
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_service_create(op, "NIGHTLY sync", NULL, "bot@example.com", &svc, again), LK_EEXISTS, "name",
               "Nightly Sync");
    expect_unchanged(f, s);
}

static void test_find(void **state)
{
    lk_fixture *f = *state;
    lk_client_secret secret;
    lk_service s = create(f, "Nightly Sync", secret);
    assert_int_equal(find_service(f, "NIGHTLY SYNC").id, s.id);
    assert_int_equal(find_service(f, s.client_id).id, s.id);

    lk_service got;
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_service_find(op, "Daily Sync", &got), LK_ENOTFOUND, "service", "Daily Sync");
    op = lk_fixture_op(f);
    expect_err(op, lk_service_find(op, "00000000-0000-4000-8000-000000000000", &got), LK_ENOTFOUND, "service",
               NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_service_find(op, "", &got), LK_EINVAL, "service", NULL);
}

static void test_rotate_without_grace(void **state)
{
    lk_fixture *f = *state;
    lk_client_secret old_secret, new_secret;
    lk_service s = create(f, "Nightly Sync", old_secret);
    long ev = lk_fixture_count(f, "audit_events");

    lk_service out = {0};
    lk_op *op = lk_fixture_op(f);
    op->now += 10;
    int64_t t = op->now;
    expect_ok(op, lk_service_rotate_secret(op, "nightly sync", 0, &out, new_secret));
    assert_true(is_alnum_secret(new_secret));
    assert_string_not_equal(new_secret, old_secret);
    assert_string_equal(out.client_id, s.client_id);
    assert_int_equal(out.id, s.id);
    assert_null(out.old_secret_hash);
    assert_int_equal(out.updated_at, t);
    char h[LK_HASH_HEX];
    lk_secret_hash(new_secret, h);
    assert_string_equal(out.secret_hash, h);

    assert_true(lk_service_secret_matches(&out, new_secret, t));
    assert_false(lk_service_secret_matches(&out, old_secret, t));
    lk_service got = find_service(f, s.client_id);
    assert_true(lk_service_secret_matches(&got, new_secret, t));
    assert_false(lk_service_secret_matches(&got, old_secret, t));

    json_t *d = expect_audit(f, ev, "Service", "Rotate Secret", "Nightly Sync");
    assert_string_equal(jstr(d, "clientId"), s.client_id);
    assert_int_equal(json_integer_value(json_object_get(d, "graceSeconds")), 0);
    assert_true(json_is_null(json_object_get(d, "previousSecretValidUntil")));
    json_decref(d);
    expect_not_in_audit(f, old_secret);
    expect_not_in_audit(f, new_secret);
    expect_not_in_db(f, new_secret);
}

static void test_rotate_with_grace(void **state)
{
    lk_fixture *f = *state;
    lk_client_secret old_secret, new_secret;
    create(f, "Nightly Sync", old_secret);
    long ev = lk_fixture_count(f, "audit_events");
    lk_service out = {0};
    lk_op *op = lk_fixture_op(f);
    op->now = 1900000000;
    expect_ok(op, lk_service_rotate_secret(op, "Nightly Sync", 3600, &out, new_secret));
    assert_non_null(out.old_secret_hash);
    char h[LK_HASH_HEX];
    lk_secret_hash(old_secret, h);
    assert_string_equal(out.old_secret_hash, h);
    assert_int_equal(out.old_secret_expires_at, 1900000000 + 3600);

    lk_service got = find_service(f, "Nightly Sync");
    const lk_service *both[] = {&out, &got};
    for (size_t i = 0; i < 2; i++) {
        const lk_service *s = both[i];
        assert_true(lk_service_secret_matches(s, new_secret, 1900000000));
        assert_true(lk_service_secret_matches(s, old_secret, 1900000000));
        assert_true(lk_service_secret_matches(s, old_secret, 1900000000 + 3599));
        assert_false(lk_service_secret_matches(s, old_secret, 1900000000 + 3600));
        assert_false(lk_service_secret_matches(s, old_secret, 1900000000 + 4000));
        assert_true(lk_service_secret_matches(s, new_secret, 1900000000 + 4000));
        assert_false(lk_service_secret_matches(s, "", 1900000000));
        assert_false(lk_service_secret_matches(s, NULL, 1900000000));
    }

    json_t *d = expect_audit(f, ev, "Service", "Rotate Secret", "Nightly Sync");
    assert_int_equal(json_integer_value(json_object_get(d, "graceSeconds")), 3600);
    char until[LK_TIME_BUF];
    assert_string_equal(jstr(d, "previousSecretValidUntil"), lk_time_format(1900000000 + 3600, until));
    json_decref(d);
    expect_not_in_audit(f, old_secret);
    expect_not_in_audit(f, new_secret);

    /* a second rotation without grace retires both earlier secrets */
    lk_client_secret third;
    op = lk_fixture_op(f);
    op->now = 1900000010;
    expect_ok(op, lk_service_rotate_secret(op, "Nightly Sync", 0, &out, third));
    assert_false(lk_service_secret_matches(&out, old_secret, 1900000010));
    assert_false(lk_service_secret_matches(&out, new_secret, 1900000010));
    assert_true(lk_service_secret_matches(&out, third, 1900000010));
}

static void test_rotate_grace_bounds(void **state)
{
    lk_fixture *f = *state;
    lk_client_secret secret, next;
    lk_service s = create(f, "Nightly Sync", secret);
    snapshot snp = snap(f);
    lk_service out;
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_service_rotate_secret(op, "Nightly Sync", -1, &out, next), LK_EINVAL, "grace", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_service_rotate_secret(op, "Nightly Sync", 30 * DAY + 1, &out, next), LK_EINVAL, "grace",
               NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_service_rotate_secret(op, "Daily Sync", 0, &out, next), LK_ENOTFOUND, "service",
               "Daily Sync");
    expect_unchanged(f, snp);
    lk_service got = find_service(f, "Nightly Sync");
    assert_string_equal(got.secret_hash, s.secret_hash);
    assert_true(lk_service_secret_matches(&got, secret, f->op.now));

    op = lk_fixture_op(f);
    expect_ok(op, lk_service_rotate_secret(op, s.client_id, 30 * DAY, &out, next));
    assert_int_equal(out.old_secret_expires_at, f->op.now + 30 * DAY);
}

static void test_delete(void **state)
{
    lk_fixture *f = *state;
    lk_client_secret secret;
    lk_service s = create(f, "Nightly Sync", secret);
    create(f, "Backfill", secret);
    long ev = lk_fixture_count(f, "audit_events");
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_service_delete(op, "NIGHTLY SYNC"));
    assert_int_equal(lk_fixture_count(f, "services"), 1);
    json_t *d = expect_audit(f, ev, "Service", "Delete", "Nightly Sync");
    assert_string_equal(jstr(d, "clientId"), s.client_id);
    assert_string_equal(jstr(d, "user"), "bot@example.com");
    json_decref(d);

    lk_service got;
    op = lk_fixture_op(f);
    expect_err(op, lk_service_find(op, s.client_id, &got), LK_ENOTFOUND, "service", NULL);
    snapshot snp = snap(f);
    op = lk_fixture_op(f);
    expect_err(op, lk_service_delete(op, "Nightly Sync"), LK_ENOTFOUND, "service", "Nightly Sync");
    expect_unchanged(f, snp);

    /* by client id too */
    lk_service b = find_service(f, "Backfill");
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_delete(op, b.client_id));
    assert_int_equal(lk_fixture_count(f, "services"), 0);
    expect_not_in_audit(f, secret);
}

/* Edit Service: display name and description change; the credentials, the owner and
 * the tokens' validity stay; a name taken by another service or shaped like a client
 * id is refused; equal values write nothing */
static void test_update(void **state)
{
    lk_fixture *f = *state;
    lk_client_secret secret, other;
    lk_service s = create(f, "Nightly Sync", secret);
    create(f, "Backfill", other);
    long ev = lk_fixture_count(f, "audit_events");
    lk_service out;
    lk_op *op = lk_fixture_op(f);
    op->now += 60;
    expect_ok(op, lk_service_update(op, "nightly sync", "Hourly Sync", "pulls leads every hour", &out));
    assert_int_equal(out.id, s.id);
    assert_string_equal(out.name, "Hourly Sync");
    assert_string_equal(out.description, "pulls leads every hour");
    assert_string_equal(out.client_id, s.client_id);
    assert_string_equal(out.secret_hash, s.secret_hash);
    assert_int_equal(out.tokens_valid_after, s.tokens_valid_after);
    assert_int_equal(out.updated_at, s.updated_at + 60);
    assert_true(lk_service_secret_matches(&out, secret, op->now));
    json_t *d = expect_audit(f, ev, "Service", "Edit", "Hourly Sync");
    assert_string_equal(jstr(json_object_get(json_object_get(d, "changes"), "name"), "from"), "Nightly Sync");
    assert_string_equal(jstr(json_object_get(json_object_get(d, "changes"), "description"), "to"),
                        "pulls leads every hour");
    json_decref(d);

    /* only the description, found by client id */
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_update(op, s.client_id, NULL, "", &out));
    assert_string_equal(out.name, "Hourly Sync");
    assert_string_equal(out.description, "");

    snapshot snp = snap(f);
    op = lk_fixture_op(f);
    expect_err(op, lk_service_update(op, "Hourly Sync", "BACKFILL", NULL, &out), LK_EEXISTS, "name", "Backfill");
    op = lk_fixture_op(f);
    expect_err(op, lk_service_update(op, "Hourly Sync", "7e20f315-c580-457d-89b4-b99c0550a5e8", NULL, &out),
               LK_EINVAL, "name", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_service_update(op, "Hourly Sync", "  ", NULL, &out), LK_EINVAL, "name", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_service_update(op, "Hourly Sync", NULL, NULL, &out), LK_EINVAL, "", "nothing to change");
    op = lk_fixture_op(f);
    expect_err(op, lk_service_update(op, "Weekly Sync", "x", NULL, &out), LK_ENOTFOUND, "service", "Weekly Sync");
    /* the same values, or another case of its own name: nothing written */
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_update(op, "Hourly Sync", "Hourly Sync", "", &out));
    expect_unchanged(f, snp);
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_update(op, "Hourly Sync", "HOURLY SYNC", NULL, &out));
    assert_string_equal(find_service(f, s.client_id).name, "HOURLY SYNC");
    expect_not_in_audit(f, secret);
}

static void test_secret_matches_edge_cases(void **state)
{
    (void)state;
    char h[LK_HASH_HEX];
    lk_secret_hash("abc", h);
    lk_service s = {.secret_hash = h};
    assert_true(lk_service_secret_matches(&s, "abc", 0));
    assert_false(lk_service_secret_matches(&s, "abcd", 0));
    assert_false(lk_service_secret_matches(NULL, "abc", 0));
    /* an old hash with no running grace never matches */
    char old[LK_HASH_HEX];
    lk_secret_hash("old", old);
    s.old_secret_hash = old;
    s.old_secret_expires_at = 100;
    assert_true(lk_service_secret_matches(&s, "old", 99));
    assert_false(lk_service_secret_matches(&s, "old", 100));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, lk_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_create),
        T(test_create_gives_distinct_ids_and_secrets),
        T(test_create_without_description),
        T(test_owner_rules),
        T(test_create_bad_fields),
        T(test_create_spaced_blank_or_overridden_name),
        T(test_create_uuid_shaped_name),
        T(test_create_duplicate_name),
        T(test_find),
        T(test_rotate_without_grace),
        T(test_rotate_with_grace),
        T(test_rotate_grace_bounds),
        T(test_delete),
        T(test_update),
        cmocka_unit_test(test_secret_matches_edge_cases),
    };
#undef T
    int init = lk_secret_init() ? 0 : 1;
    return init + cmocka_run_group_tests(tests, NULL, NULL);
}
