/*
 * test_permission — the permission catalog through core/permission.h: the 42
 * seeded built-ins (7 Access Admin, 35 Access API), custom Access API permissions
 * (created unique case-insensitively, removable only while no role includes them),
 * built-ins that can never be removed, and the audit event of every change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "expect.h"
#include "fixture.h"
#include "core/audit.h"
#include "core/permission.h"
#include "core/role.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ADMIN_PERMS[] = {
    "Access Users", "Access Roles", "Access Workspaces", "Access LaunchPoint",
    "Access Web Services", "Access Audit Trail", "Access Login History",
};

static const lk_permission *find_in(const lk_permission *p, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].name, name) == 0)
            return &p[i];
    return NULL;
}

static void test_builtins(void **state)
{
    lk_fixture *f = *state;
    lk_op *op = lk_fixture_op(f);
    lk_permission *p = NULL;
    size_t n = 0;
    expect_ok(op, lk_permission_list(op, &p, &n));
    assert_int_equal(n, 42);
    size_t admin = 0, api = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(p[i].builtin);
        assert_true(p[i].id > 0);
        assert_non_null(p[i].description);
        if (p[i].group == LK_GROUP_ADMIN)
            admin++;
        else if (p[i].group == LK_GROUP_API)
            api++;
        else
            fail_msg("permission '%s' has group %d", p[i].name, (int)p[i].group);
    }
    assert_int_equal(admin, 7);
    assert_int_equal(api, 35);

    for (size_t i = 0; i < sizeof ADMIN_PERMS / sizeof ADMIN_PERMS[0]; i++) {
        const lk_permission *q = find_in(p, n, ADMIN_PERMS[i]);
        if (!q)
            fail_msg("built-in '%s' missing", ADMIN_PERMS[i]);
        assert_int_equal(q->group, LK_GROUP_ADMIN);
    }
    const char *api_names[] = {
        LK_PERM_USER_MGMT_API, "Read-Only Lead", "Read-Write Lead", "Read-Only Activity Metadata",
        "Read-Write Named Account List", "Read-Only Redirect Rules", "Approve Assets",
        "Execute Campaign", "Activate Campaign", "Deactivate Campaign",
    };
    for (size_t i = 0; i < sizeof api_names / sizeof api_names[0]; i++) {
        const lk_permission *q = find_in(p, n, api_names[i]);
        if (!q)
            fail_msg("built-in '%s' missing", api_names[i]);
        assert_int_equal(q->group, LK_GROUP_API);
    }
    assert_non_null(find_in(p, n, LK_PERM_ACCESS_USERS));

    /* ordered by group, then name */
    for (size_t i = 1; i < n; i++) {
        assert_true(p[i - 1].group <= p[i].group);
        if (p[i - 1].group == p[i].group && strcasecmp(p[i - 1].name, p[i].name) > 0)
            fail_msg("'%s' listed before '%s'", p[i - 1].name, p[i].name);
    }
}

static void test_group_names(void **state)
{
    (void)state;
    assert_string_equal(lk_perm_group_name(LK_GROUP_ADMIN), "Access Admin");
    assert_string_equal(lk_perm_group_name(LK_GROUP_API), "Access API");
}

static void test_find(void **state)
{
    lk_fixture *f = *state;
    lk_permission p;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_permission_find(op, "read-only LEAD", &p));
    assert_string_equal(p.name, "Read-Only Lead");
    assert_int_equal(p.group, LK_GROUP_API);
    assert_true(p.builtin);

    op = lk_fixture_op(f);
    expect_ok(op, lk_permission_find(op, "Access Users", &p));
    assert_int_equal(p.group, LK_GROUP_ADMIN);

    op = lk_fixture_op(f);
    expect_err(op, lk_permission_find(op, "Read Minds", &p), LK_ENOTFOUND, "permission", "Read Minds");
    op = lk_fixture_op(f);
    expect_err(op, lk_permission_find(op, "", &p), LK_EINVAL, "permission", NULL);
}

static void test_create_custom(void **state)
{
    lk_fixture *f = *state;
    long ev = lk_fixture_count(f, "audit_events");
    lk_op *op = lk_fixture_op(f);
    lk_permission p = {0};
    expect_ok(op, lk_permission_create(op, "Read Widgets", "GET /widgets", &p));
    assert_true(p.id > 0);
    assert_string_equal(p.name, "Read Widgets");
    assert_string_equal(p.description, "GET /widgets");
    assert_int_equal(p.group, LK_GROUP_API);
    assert_false(p.builtin);
    assert_int_equal(lk_fixture_count(f, "permissions"), 43);

    json_t *d = expect_audit(f, ev, "Permission", "Create", "Read Widgets");
    assert_string_equal(jstr(d, "name"), "Read Widgets");
    assert_string_equal(jstr(d, "group"), "Access API");
    assert_string_equal(jstr(d, "description"), "GET /widgets");
    json_decref(d);

    lk_permission got;
    op = lk_fixture_op(f);
    expect_ok(op, lk_permission_find(op, "read widgets", &got));
    assert_int_equal(got.id, p.id);
    assert_false(got.builtin);

    lk_permission *all = NULL;
    size_t n = 0;
    op = lk_fixture_op(f);
    expect_ok(op, lk_permission_list(op, &all, &n));
    assert_int_equal(n, 43);
    const lk_permission *q = find_in(all, n, "Read Widgets");
    assert_non_null(q);
    assert_int_equal(q->group, LK_GROUP_API);
    assert_false(q->builtin);

    /* without a description */
    op = lk_fixture_op(f);
    expect_ok(op, lk_permission_create(op, "Write Widgets", NULL, &p));
    assert_string_equal(p.description, "");
}

static void test_create_duplicate(void **state)
{
    lk_fixture *f = *state;
    lk_permission p;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_permission_create(op, "Read Widgets", NULL, &p));
    snapshot s = snap(f);

    op = lk_fixture_op(f);
    expect_err(op, lk_permission_create(op, "READ WIDGETS", NULL, &p), LK_EEXISTS, "name", "Read Widgets");
    op = lk_fixture_op(f);
    expect_err(op, lk_permission_create(op, "read-only lead", NULL, &p), LK_EEXISTS, "name", "Read-Only Lead");
    op = lk_fixture_op(f);
    expect_err(op, lk_permission_create(op, "access users", NULL, &p), LK_EEXISTS, "name", "Access Users");
    expect_unchanged(f, s);
}

static void test_create_bad_input(void **state)
{
    lk_fixture *f = *state;
    snapshot s = snap(f);
    lk_permission p;
    const char *bad[] = {"", "  ", "Read\tWidgets", "Read\xff", repeat(f, "x", 256)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_op *op = lk_fixture_op(f);
        lk_code rc = lk_permission_create(op, bad[i], NULL, &p);
        if (rc != LK_EINVAL)
            fail_msg("bad name #%zu accepted (rc %d)", i, (int)rc);
        assert_string_equal(op->err.field, "name");
    }
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_permission_create(op, NULL, NULL, &p), LK_EINVAL, "name", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_permission_create(op, "Fine", repeat(f, "d", 1001), &p), LK_EINVAL, "description", NULL);
    expect_unchanged(f, s);

    op = lk_fixture_op(f);
    expect_ok(op, lk_permission_create(op, repeat(f, "x", 255), repeat(f, "d", 1000), &p));
}

static lk_code create_permission_named(lk_op *op, const char *name)
{
    lk_permission p;
    return lk_permission_create(op, name, NULL, &p);
}

/* a space at either end, a blank of U+00A0, a bidirectional override */
static void test_create_spaced_blank_or_overridden_name(void **state)
{
    expect_names_refused(*state, "Read Widgets", "name", create_permission_named);
}

static void test_delete_builtin_refused(void **state)
{
    lk_fixture *f = *state;
    snapshot s = snap(f);
    const char *names[] = {"Read-Only Lead", "access users", LK_PERM_USER_MGMT_API};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        lk_op *op = lk_fixture_op(f);
        expect_err(op, lk_permission_delete(op, names[i]), LK_ERULE, "permission", "built-in");
    }
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_permission_delete(op, "Read-Only Lead"), LK_ERULE, "permission", "Read-Only Lead");
    expect_unchanged(f, s);
}

static void test_delete_unknown(void **state)
{
    lk_fixture *f = *state;
    snapshot s = snap(f);
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_permission_delete(op, "Read Minds"), LK_ENOTFOUND, "permission", "Read Minds");
    expect_unchanged(f, s);
}

static void test_delete_custom_in_use(void **state)
{
    lk_fixture *f = *state;
    lk_permission p;
    lk_role r;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_permission_create(op, "Read Widgets", NULL, &p));
    const char *perms[] = {"Read Widgets", "Read-Only Lead"};
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_create(op, "Widget Reader", NULL, perms, 2, &r));
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_create(op, "Widget Auditor", NULL, perms, 1, &r));
    snapshot s = snap(f);

    op = lk_fixture_op(f);
    expect_err(op, lk_permission_delete(op, "read widgets"), LK_EINUSE, "permission", "Widget Reader");
    assert_non_null(strstr(op->err.msg, "Widget Auditor"));
    expect_unchanged(f, s);

    /* once no role includes it, it goes */
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_delete(op, "Widget Auditor"));
    op = lk_fixture_op(f);
    const char *rm[] = {"Read Widgets"};
    lk_role_change ch = {.remove = rm, .n_remove = 1};
    expect_ok(op, lk_role_update(op, "Widget Reader", &ch, &r));
    long ev = lk_fixture_count(f, "audit_events");
    op = lk_fixture_op(f);
    expect_ok(op, lk_permission_delete(op, "Read Widgets"));
    json_t *d = expect_audit(f, ev, "Permission", "Delete", "Read Widgets");
    assert_string_equal(jstr(d, "name"), "Read Widgets");
    json_decref(d);
}

static void test_delete_unused_custom(void **state)
{
    lk_fixture *f = *state;
    lk_permission p;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_permission_create(op, "Read Widgets", NULL, &p));
    long ev = lk_fixture_count(f, "audit_events");

    op = lk_fixture_op(f);
    expect_ok(op, lk_permission_delete(op, "READ widgets"));
    assert_int_equal(lk_fixture_count(f, "permissions"), 42);
    json_t *d = expect_audit(f, ev, "Permission", "Delete", "Read Widgets");
    assert_string_equal(jstr(d, "name"), "Read Widgets");
    json_decref(d);

    op = lk_fixture_op(f);
    expect_err(op, lk_permission_find(op, "Read Widgets", &p), LK_ENOTFOUND, "permission", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_permission_delete(op, "Read Widgets"), LK_ENOTFOUND, "permission", "Read Widgets");

    /* the name is free again */
    op = lk_fixture_op(f);
    expect_ok(op, lk_permission_create(op, "Read Widgets", NULL, &p));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, lk_fixture_setup, lk_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_builtins),
        cmocka_unit_test(test_group_names),
        T(test_find),
        T(test_create_custom),
        T(test_create_duplicate),
        T(test_create_bad_input),
        T(test_create_spaced_blank_or_overridden_name),
        T(test_delete_builtin_refused),
        T(test_delete_unknown),
        T(test_delete_custom_in_use),
        T(test_delete_unused_custom),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
