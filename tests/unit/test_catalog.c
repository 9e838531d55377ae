/*
 * test_catalog — the server's snapshot built from a store (runtime/catalog.h):
 * services by client id and by id, API users by id with their permissions and own
 * limits, users without a role, secrets checked against raw hashes (rotation grace
 * included), iteration in id order, and enough services to exercise the indexes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "expect.h"
#include "fixture.h"
#include "core/limits.h"
#include "core/role.h"
#include "core/service.h"
#include "core/user.h"
#include "runtime/catalog.h"

#include <stdio.h>
#include <string.h>

#define N_SERVICES 300

static int setup(void **state)
{
    if (lk_fixture_setup(state) != 0)
        return -1;
    lk_fixture *f = *state;
    const char *read[] = {"Read-Only Lead"};
    const char *write[] = {"Read-Write Lead", "Read-Only Activity"};
    lk_role r;
    if (lk_role_create(lk_fixture_op(f), "Reader", NULL, read, 1, &r) != LK_OK ||
        lk_role_create(lk_fixture_op(f), "Writer", NULL, write, 2, &r) != LK_OK)
        return -1;
    invite_api(f, "reader@example.com", "Reader", NULL);
    invite_api(f, "reader2@example.com", "Reader", NULL);
    invite_api(f, "writer@example.com", "Writer", NULL);
    return 0;
}

static lk_catalog *build(lk_fixture *f)
{
    lk_error err = {0};
    lk_catalog *c = lk_catalog_build(f->store, &err);
    if (!c)
        fail_msg("catalog build failed: %s", err.msg);
    return c;
}

static const lk_cat_user *user_by_email(const lk_catalog *c, lk_fixture *f, const char *email)
{
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_find(op, email, &u));
    const lk_cat_user *cu = lk_catalog_user(c, u.id);
    assert_non_null(cu);
    assert_string_equal(cu->email, email);
    return cu;
}

static void services_users_and_secrets(void **state)
{
    lk_fixture *f = *state;
    lk_service svc[N_SERVICES];
    static lk_client_secret secret[N_SERVICES];
    for (int i = 0; i < N_SERVICES; i++) {
        char name[32];
        snprintf(name, sizeof name, "Service %d", i);
        lk_op *op = lk_fixture_op(f);
        expect_ok(op, lk_service_create(op, name, NULL, i % 2 ? "reader@example.com" : "writer@example.com",
                                        &svc[i], secret[i]));
    }
    lk_catalog *c = build(f);
    int64_t now = f->op.now;
    for (int i = 0; i < N_SERVICES; i++) {
        const lk_cat_service *s = lk_catalog_service_by_client(c, svc[i].client_id);
        assert_non_null(s);
        assert_ptr_equal(s, lk_catalog_service(c, svc[i].id));
        assert_int_equal(s->id, svc[i].id);
        assert_int_equal(s->user_id, svc[i].user_id);
        assert_string_equal(s->client_id, svc[i].client_id);
        assert_null(s->old_secret_hash);
        assert_true(lk_cat_service_secret_matches(s, secret[i], now));
        assert_false(lk_cat_service_secret_matches(s, secret[(i + 1) % N_SERVICES], now));
        assert_false(lk_cat_service_secret_matches(s, NULL, now));
        assert_true(lk_cat_user_usable(lk_catalog_user(c, s->user_id), now));
    }
    assert_null(lk_catalog_service_by_client(c, "00000000-0000-4000-8000-000000000000"));
    assert_null(lk_catalog_service_by_client(c, NULL));
    assert_null(lk_catalog_service(c, 0));
    assert_null(lk_catalog_user(c, 999999));

    size_t pos = 0, n = 0;
    const lk_cat_service *s, *prev = NULL;
    while (lk_catalog_next_service(c, &pos, &s)) {
        if (prev)
            assert_true(prev->id < s->id);
        prev = s;
        n++;
    }
    assert_int_equal(n, N_SERVICES);
    lk_catalog_unref(c);
}

static void permissions_and_limits(void **state)
{
    lk_fixture *f = *state;
    lk_limits_change ch = {.set_rate = true, .rate_calls = 5, .rate_seconds = 10, .set_daily = true, .daily = 70};
    lk_limits out;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_limits_set(op, "writer@example.com", &ch, &out));
    /* an API user holding no role at all */
    lk_user bare = {.email = "bare@example.com", .userid = "bare@example.com", .first_name = "B",
                    .last_name = "B", .api_only = true, .status = LK_STATUS_ACTIVE,
                    .created_at = f->op.now, .updated_at = f->op.now};
    lk_error err = {0};
    assert_int_equal(f->store->ops->begin(f->store, &err), LK_OK);
    assert_int_equal(f->store->ops->user_insert(f->store, &bare, &err), LK_OK);
    assert_int_equal(f->store->ops->commit(f->store, &err), LK_OK);
    op = lk_fixture_op(f);
    lk_user locked;
    expect_ok(op, lk_user_lock(op, "reader2@example.com", "test", &locked));

    lk_catalog *c = build(f);
    int read = lk_catalog_permission(c, "read-only lead");
    int rw = lk_catalog_permission(c, "Read-Write Lead");
    int act = lk_catalog_permission(c, "READ-ONLY ACTIVITY");
    assert_true(read >= 0 && rw >= 0 && act >= 0);
    assert_int_equal(lk_catalog_permission(c, "no such permission"), -1);

    const lk_cat_user *reader = user_by_email(c, f, "reader@example.com");
    const lk_cat_user *reader2 = user_by_email(c, f, "reader2@example.com");
    const lk_cat_user *writer = user_by_email(c, f, "writer@example.com");
    const lk_cat_user *b = lk_catalog_user(c, bare.id);
    assert_non_null(b);
    assert_true(lk_cat_user_has(reader, read));
    assert_false(lk_cat_user_has(reader, rw));
    assert_false(lk_cat_user_has(reader, -1));
    assert_true(lk_cat_user_has(writer, rw));
    assert_true(lk_cat_user_has(writer, act));
    assert_false(lk_cat_user_has(writer, read));
    assert_false(lk_cat_user_has(b, read));
    assert_false(lk_cat_user_has(b, rw));
    assert_ptr_equal(reader->perms, reader2->perms); /* the same roles: one bitset */

    assert_true(lk_cat_user_usable(reader, f->op.now));
    assert_false(lk_cat_user_usable(reader2, f->op.now));
    assert_true(lk_cat_user_usable(b, f->op.now));
    assert_null(reader->limits);
    assert_non_null(writer->limits);
    assert_int_equal(writer->limits->rate_calls, 5);
    assert_int_equal(writer->limits->rate_seconds, 10);
    assert_int_equal(writer->limits->daily, 70);
    lk_catalog_unref(c);
}

static void rotation_grace(void **state)
{
    lk_fixture *f = *state;
    lk_service s;
    lk_client_secret first, second;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_service_create(op, "Rotating", NULL, "reader@example.com", &s, first));
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_rotate_secret(op, "Rotating", 3600, &s, second));

    lk_catalog *c = build(f);
    const lk_cat_service *cs = lk_catalog_service_by_client(c, s.client_id);
    assert_non_null(cs);
    assert_non_null(cs->old_secret_hash);
    int64_t now = f->op.now;
    assert_true(lk_cat_service_secret_matches(cs, second, now));
    assert_true(lk_cat_service_secret_matches(cs, first, now));
    assert_false(lk_cat_service_secret_matches(cs, first, cs->old_secret_expires_at));
    assert_true(lk_cat_service_secret_matches(cs, second, cs->old_secret_expires_at));
    /* the same answers as the core's rule over the stored record */
    assert_true(lk_service_secret_matches(&s, first, now));
    assert_false(lk_service_secret_matches(&s, first, s.old_secret_expires_at));
    lk_catalog_unref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(services_users_and_secrets, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(permissions_and_limits, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(rotation_grace, setup, lk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
