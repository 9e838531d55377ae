/*
 * test_role — roles through core/role.h: creation (at least one permission, names
 * case-insensitive, duplicates collapsed, unique names), the system role Admin that
 * nobody may change or delete, updates (rename, description, add, remove) with the
 * rule that no API-only user is left without an Access API permission, deletion
 * refused while a user holds the role, and the audit event of every change.
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
#include "core/user.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void make_role(lk_fixture *f, const char *name, const char *const *perms, size_t n)
{
    lk_role r;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_role_create(op, name, NULL, perms, n, &r));
}

/* an active API-only user holding the given roles in AllZones */
static void make_api_user(lk_fixture *f, const char *email, const char *const *roles, size_t n)
{
    lk_grant_ref g[4];
    assert_true(n <= 4);
    for (size_t i = 0; i < n; i++)
        g[i] = (lk_grant_ref){.role = roles[i], .workspace = NULL};
    lk_user_input in = {
        .email = email, .first_name = "Api", .last_name = "User", .api_only = true,
        .grants = g, .n_grants = n,
    };
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
}

static bool has_perm_named(const lk_role *r, const char *exact)
{
    for (size_t i = 0; i < r->n_perms; i++)
        if (strcmp(r->perms[i].name, exact) == 0)
            return true;
    return false;
}

static void test_admin_seeded(void **state)
{
    lk_fixture *f = *state;
    lk_role *roles = NULL;
    size_t n = 0;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_role_list(op, &roles, &n));
    assert_int_equal(n, 1);
    assert_int_equal(roles[0].id, LK_ROLE_ADMIN);
    assert_string_equal(roles[0].name, "Admin");
    assert_true(roles[0].system);
    assert_true(roles[0].only_all_zones);
    assert_int_equal(roles[0].n_perms, 7);
    for (size_t i = 0; i < roles[0].n_perms; i++)
        assert_int_equal(roles[0].perms[i].group, LK_GROUP_ADMIN);
    assert_true(lk_role_has_group(&roles[0], LK_GROUP_ADMIN));
    assert_false(lk_role_has_group(&roles[0], LK_GROUP_API));
    assert_true(lk_role_has_permission(&roles[0], "access users"));
    assert_false(lk_role_has_permission(&roles[0], "Read-Only Lead"));

    lk_role r;
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_find(op, "ADMIN", &r));
    assert_int_equal(r.id, LK_ROLE_ADMIN);
}

static void test_create(void **state)
{
    lk_fixture *f = *state;
    long ev = lk_fixture_count(f, "audit_events");
    lk_op *op = lk_fixture_op(f);
    op->now = 1900000000;
    const char *perms[] = {"read-only lead", "Read-Only Lead", "READ-WRITE LEAD", "access users", "Read-only lead"};
    lk_role r = {0};
    expect_ok(op, lk_role_create(op, "API Only", "for integrations", perms, 5, &r));
    assert_true(r.id > LK_ROLE_ADMIN);
    assert_string_equal(r.name, "API Only");
    assert_string_equal(r.description, "for integrations");
    assert_false(r.system);
    assert_false(r.only_all_zones);
    assert_int_equal(r.created_at, 1900000000);
    assert_int_equal(r.n_perms, 3);
    /* canonical names, sorted by group then name */
    assert_string_equal(r.perms[0].name, "Access Users");
    assert_int_equal(r.perms[0].group, LK_GROUP_ADMIN);
    assert_string_equal(r.perms[1].name, "Read-Only Lead");
    assert_string_equal(r.perms[2].name, "Read-Write Lead");
    assert_int_equal(lk_fixture_count(f, "roles"), 2);
    assert_int_equal(lk_fixture_count(f, "role_permissions"), 7 + 3);

    json_t *d = expect_audit(f, ev, "Role", "Create", "API Only");
    assert_string_equal(jstr(d, "name"), "API Only");
    assert_string_equal(jstr(d, "description"), "for integrations");
    json_t *p = json_object_get(d, "permissions");
    assert_int_equal(json_array_size(p), 3);
    assert_true(jarray_has(p, "Read-Only Lead"));
    assert_true(jarray_has(p, "Read-Write Lead"));
    assert_true(jarray_has(p, "Access Users"));
    json_decref(d);

    lk_role got;
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_find(op, "api only", &got));
    assert_int_equal(got.id, r.id);
    assert_int_equal(got.n_perms, 3);

    const char *more[] = {"Approve Assets"};
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_create(op, "Approver", NULL, more, 1, &got));

    /* listed by id, permissions filled */
    lk_role *all = NULL;
    size_t n = 0;
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_list(op, &all, &n));
    assert_int_equal(n, 3);
    assert_string_equal(all[0].name, "Admin");
    assert_string_equal(all[1].name, "API Only");
    assert_string_equal(all[2].name, "Approver");
    assert_int_equal(all[1].n_perms, 3);
    assert_int_equal(all[2].n_perms, 1);
}

static void test_create_needs_a_permission(void **state)
{
    lk_fixture *f = *state;
    snapshot s = snap(f);
    lk_role r;
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_role_create(op, "Empty", NULL, NULL, 0, &r), LK_EINVAL, "permission", "permission");
    expect_unchanged(f, s);
}

static void test_create_unknown_permission(void **state)
{
    lk_fixture *f = *state;
    snapshot s = snap(f);
    lk_role r;
    const char *perms[] = {"Read-Only Lead", "Read Minds"};
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_role_create(op, "Psychic", NULL, perms, 2, &r), LK_ENOTFOUND, "permission", "Read Minds");
    expect_unchanged(f, s);
}

static void test_create_duplicate_name(void **state)
{
    lk_fixture *f = *state;
    const char *perms[] = {"Read-Only Lead"};
    make_role(f, "Reader", perms, 1);
    snapshot s = snap(f);
    lk_role r;
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_role_create(op, "READER", NULL, perms, 1, &r), LK_EEXISTS, "name", "Reader");
    op = lk_fixture_op(f);
    expect_err(op, lk_role_create(op, "admin", NULL, perms, 1, &r), LK_EEXISTS, "name", "Admin");
    expect_unchanged(f, s);
}

static void test_create_bad_fields(void **state)
{
    lk_fixture *f = *state;
    snapshot s = snap(f);
    const char *perms[] = {"Read-Only Lead"};
    lk_role r;
    const char *bad[] = {"", "   ", "Re\tader", "Re\xc3", repeat(f, "r", 256)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_op *op = lk_fixture_op(f);
        lk_code rc = lk_role_create(op, bad[i], NULL, perms, 1, &r);
        if (rc != LK_EINVAL)
            fail_msg("bad name #%zu accepted (rc %d)", i, (int)rc);
        assert_string_equal(op->err.field, "name");
    }
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_role_create(op, NULL, NULL, perms, 1, &r), LK_EINVAL, "name", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_role_create(op, "Reader", repeat(f, "d", 1001), perms, 1, &r), LK_EINVAL, "description",
               NULL);
    expect_unchanged(f, s);

    op = lk_fixture_op(f);
    expect_ok(op, lk_role_create(op, repeat(f, "\xc3\xa9", 255), repeat(f, "d", 1000), perms, 1, &r));
}

static lk_code create_role_named(lk_op *op, const char *name)
{
    const char *perms[] = {"Read-Only Lead"};
    lk_role r;
    return lk_role_create(op, name, NULL, perms, 1, &r);
}

static lk_code rename_reader(lk_op *op, const char *name)
{
    lk_role_change ch = {.name = name};
    lk_role r;
    return lk_role_update(op, "Reader", &ch, &r);
}

/* a space at either end, a blank of U+00A0, a bidirectional override: refused on
 * create and on rename, even where the name without them is taken ("Admin") */
static void test_names_spaced_blank_or_overridden(void **state)
{
    lk_fixture *f = *state;
    const char *perms[] = {"Read-Only Lead"};
    make_role(f, "Reader", perms, 1);
    expect_names_refused(f, "Admin", "name", create_role_named);
    expect_names_refused(f, "Admin", "name", rename_reader);
    lk_role r;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_role_find(op, "Reader", &r));
    assert_string_equal(r.name, "Reader");
}

static void test_find_unknown(void **state)
{
    lk_fixture *f = *state;
    lk_role r;
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_role_find(op, "Ghost", &r), LK_ENOTFOUND, "role", "Ghost");
    op = lk_fixture_op(f);
    expect_err(op, lk_role_find(op, "", &r), LK_EINVAL, "role", NULL);
}

static void test_admin_cannot_change(void **state)
{
    lk_fixture *f = *state;
    snapshot s = snap(f);
    lk_role r;
    const char *add[] = {"Read-Only Lead"};
    const char *rm[] = {"Access Users"};
    lk_role_change changes[] = {
        {.description = "mine now"},
        {.name = "Boss"},
        {.add = add, .n_add = 1},
        {.remove = rm, .n_remove = 1},
    };
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        lk_op *op = lk_fixture_op(f);
        expect_err(op, lk_role_update(op, "admin", &changes[i], &r), LK_ERULE, "role", "Admin");
    }
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_role_delete(op, "Admin"), LK_ERULE, "role", "Admin");
    expect_unchanged(f, s);

    op = lk_fixture_op(f);
    expect_ok(op, lk_role_find(op, "Admin", &r));
    assert_string_equal(r.description, "Every Access Admin permission");
    assert_int_equal(r.n_perms, 7);
}

static void test_update_rename_and_description(void **state)
{
    lk_fixture *f = *state;
    const char *perms[] = {"Read-Only Lead"};
    make_role(f, "Reader", perms, 1);
    long ev = lk_fixture_count(f, "audit_events");
    lk_role r = {0};
    lk_op *op = lk_fixture_op(f);
    op->now += 60;
    int64_t t = op->now;
    lk_role_change ch = {.name = "Lead Reader", .description = "reads leads"};
    expect_ok(op, lk_role_update(op, "reader", &ch, &r));
    assert_string_equal(r.name, "Lead Reader");
    assert_string_equal(r.description, "reads leads");
    assert_int_equal(r.updated_at, t);
    assert_int_equal(r.n_perms, 1);

    json_t *d = expect_audit(f, ev, "Role", "Edit", "Lead Reader");
    assert_string_equal(jstr(d, "name"), "Lead Reader");
    assert_string_equal(jstr(d, "oldName"), "Reader");
    assert_string_equal(jstr(d, "description"), "reads leads");
    json_decref(d);

    op = lk_fixture_op(f);
    expect_err(op, lk_role_find(op, "Reader", &r), LK_ENOTFOUND, "role", NULL);

    /* a change of case only is a rename to itself */
    op = lk_fixture_op(f);
    ch = (lk_role_change){.name = "LEAD READER"};
    expect_ok(op, lk_role_update(op, "Lead Reader", &ch, &r));
    assert_string_equal(r.name, "LEAD READER");
}

static void test_update_rename_collision(void **state)
{
    lk_fixture *f = *state;
    const char *perms[] = {"Read-Only Lead"};
    make_role(f, "Reader", perms, 1);
    make_role(f, "Writer", perms, 1);
    snapshot s = snap(f);
    lk_role r;
    lk_role_change ch = {.name = "reader"};
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_role_update(op, "Writer", &ch, &r), LK_EEXISTS, "name", "Reader");
    ch.name = "ADMIN";
    op = lk_fixture_op(f);
    expect_err(op, lk_role_update(op, "Writer", &ch, &r), LK_EEXISTS, "name", "Admin");
    ch.name = "  ";
    op = lk_fixture_op(f);
    expect_err(op, lk_role_update(op, "Writer", &ch, &r), LK_EINVAL, "name", NULL);
    expect_unchanged(f, s);
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_find(op, "Writer", &r));
}

static void test_update_nothing_or_unknown(void **state)
{
    lk_fixture *f = *state;
    const char *perms[] = {"Read-Only Lead"};
    make_role(f, "Reader", perms, 1);
    snapshot s = snap(f);
    lk_role r;
    lk_role_change none = {0};
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_role_update(op, "Reader", &none, &r), LK_EINVAL, NULL, "nothing to change");
    lk_role_change ch = {.description = "x"};
    op = lk_fixture_op(f);
    expect_err(op, lk_role_update(op, "Ghost", &ch, &r), LK_ENOTFOUND, "role", "Ghost");
    expect_unchanged(f, s);
}

static void test_update_add_remove(void **state)
{
    lk_fixture *f = *state;
    const char *perms[] = {"Read-Only Lead", "Read-Only Company"};
    make_role(f, "Reader", perms, 2);
    long ev = lk_fixture_count(f, "audit_events");
    const char *add[] = {"read-write lead", "Read-Write Lead", "Read-Only Lead"};
    const char *rm[] = {"read-only company"};
    lk_role_change ch = {.add = add, .n_add = 3, .remove = rm, .n_remove = 1};
    lk_role r = {0};
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_role_update(op, "Reader", &ch, &r));
    assert_int_equal(r.n_perms, 2);
    assert_true(has_perm_named(&r, "Read-Only Lead"));
    assert_true(has_perm_named(&r, "Read-Write Lead"));
    assert_false(lk_role_has_permission(&r, "Read-Only Company"));
    assert_string_equal(r.name, "Reader");
    assert_int_equal(lk_fixture_count(f, "role_permissions"), 7 + 2);

    json_t *d = expect_audit(f, ev, "Role", "Edit", "Reader");
    json_t *p = json_object_get(d, "permissions");
    assert_int_equal(json_array_size(p), 2);
    assert_true(jarray_has(p, "Read-Only Lead"));
    assert_true(jarray_has(p, "Read-Write Lead"));
    assert_true(json_is_array(json_object_get(d, "added")));
    assert_true(json_is_array(json_object_get(d, "removed")));
    assert_int_equal(json_array_size(json_object_get(d, "removed")), 1);
    assert_null(json_object_get(d, "oldName"));
    json_decref(d);

    lk_role got;
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_find(op, "Reader", &got));
    assert_int_equal(got.n_perms, 2);
    assert_true(lk_role_has_permission(&got, "READ-WRITE LEAD"));

    /* permissions stay sorted by group, then name */
    const char *more[] = {"Access Roles", "Approve Assets", "Access Audit Trail"};
    ch = (lk_role_change){.add = more, .n_add = 3};
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_update(op, "Reader", &ch, &r));
    const char *order[] = {"Access Audit Trail", "Access Roles", "Approve Assets", "Read-Only Lead",
                           "Read-Write Lead"};
    assert_int_equal(r.n_perms, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(r.perms[i].name, order[i]);
}

static void test_update_remove_refusals(void **state)
{
    lk_fixture *f = *state;
    const char *perms[] = {"Read-Only Lead"};
    make_role(f, "Reader", perms, 1);
    snapshot s = snap(f);
    lk_role r;

    const char *lacks[] = {"Read-Write Lead"};
    lk_role_change ch = {.remove = lacks, .n_remove = 1};
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_role_update(op, "Reader", &ch, &r), LK_EINVAL, "permission", "Read-Write Lead");

    const char *unknown[] = {"Read Minds"};
    ch = (lk_role_change){.remove = unknown, .n_remove = 1};
    op = lk_fixture_op(f);
    expect_err(op, lk_role_update(op, "Reader", &ch, &r), LK_ENOTFOUND, "permission", "Read Minds");

    ch = (lk_role_change){.add = unknown, .n_add = 1};
    op = lk_fixture_op(f);
    expect_err(op, lk_role_update(op, "Reader", &ch, &r), LK_ENOTFOUND, "permission", "Read Minds");

    const char *last[] = {"read-only lead"};
    ch = (lk_role_change){.remove = last, .n_remove = 1};
    op = lk_fixture_op(f);
    expect_err(op, lk_role_update(op, "Reader", &ch, &r), LK_EINVAL, "permission", "at least one permission");
    expect_unchanged(f, s);

    op = lk_fixture_op(f);
    expect_ok(op, lk_role_find(op, "Reader", &r));
    assert_int_equal(r.n_perms, 1);
    assert_string_equal(r.perms[0].name, "Read-Only Lead");

    /* swapping the last permission for another in one change is fine */
    const char *add[] = {"Read-Write Lead"};
    ch = (lk_role_change){.add = add, .n_add = 1, .remove = last, .n_remove = 1};
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_update(op, "Reader", &ch, &r));
    assert_int_equal(r.n_perms, 1);
    assert_string_equal(r.perms[0].name, "Read-Write Lead");
}

static void test_update_keeps_api_user_with_api_permission(void **state)
{
    lk_fixture *f = *state;
    const char *perms[] = {"Read-Only Lead", "Access Users"};
    make_role(f, "Integration", perms, 2);
    const char *roles[] = {"Integration"};
    make_api_user(f, "bot@example.com", roles, 1);
    snapshot s = snap(f);

    lk_role r;
    const char *rm[] = {"Read-Only Lead"};
    lk_role_change ch = {.remove = rm, .n_remove = 1};
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_role_update(op, "Integration", &ch, &r), LK_ERULE, "permission", "bot@example.com");
    expect_unchanged(f, s);
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_find(op, "Integration", &r));
    assert_true(lk_role_has_permission(&r, "Read-Only Lead"));

    /* swapping for another Access API permission is fine */
    const char *add[] = {"Read-Write Lead"};
    ch = (lk_role_change){.add = add, .n_add = 1, .remove = rm, .n_remove = 1};
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_update(op, "Integration", &ch, &r));
    assert_true(lk_role_has_group(&r, LK_GROUP_API));
}

static void test_update_allowed_when_api_user_has_other_api_role(void **state)
{
    lk_fixture *f = *state;
    const char *p1[] = {"Read-Only Lead", "Access Users"};
    const char *p2[] = {"Read-Only Company"};
    make_role(f, "Integration", p1, 2);
    make_role(f, "Companies", p2, 1);
    const char *roles[] = {"Integration", "Companies"};
    make_api_user(f, "bot@example.com", roles, 2);

    long ev = lk_fixture_count(f, "audit_events");
    lk_role r;
    const char *rm[] = {"Read-Only Lead"};
    lk_role_change ch = {.remove = rm, .n_remove = 1};
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_role_update(op, "Integration", &ch, &r));
    assert_false(lk_role_has_group(&r, LK_GROUP_API));
    assert_true(lk_role_has_group(&r, LK_GROUP_ADMIN));
    json_t *d = expect_audit(f, ev, "Role", "Edit", "Integration");
    assert_true(jarray_has(json_object_get(d, "removed"), "Read-Only Lead"));
    json_decref(d);

    /* now Companies is the user's only API role: it must keep an API permission */
    snapshot s = snap(f);
    const char *rm2[] = {"Read-Only Company"};
    const char *add2[] = {"Access Roles"};
    ch = (lk_role_change){.add = add2, .n_add = 1, .remove = rm2, .n_remove = 1};
    op = lk_fixture_op(f);
    expect_err(op, lk_role_update(op, "Companies", &ch, &r), LK_ERULE, "permission", "bot@example.com");
    expect_unchanged(f, s);
}

static void test_update_ignores_people_without_api_permission(void **state)
{
    lk_fixture *f = *state;
    const char *perms[] = {"Read-Only Lead", "Access Users"};
    make_role(f, "Mixed", perms, 2);
    lk_grant_ref g = {.role = "Mixed", .workspace = "Default"};
    lk_user_input in = {
        .email = "person@example.com", .first_name = "P", .last_name = "Q",
        .grants = &g, .n_grants = 1,
    };
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));

    lk_role r;
    const char *rm[] = {"Read-Only Lead"};
    lk_role_change ch = {.remove = rm, .n_remove = 1};
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_update(op, "Mixed", &ch, &r));
}

static void test_delete(void **state)
{
    lk_fixture *f = *state;
    const char *perms[] = {"Read-Only Lead", "Read-Write Lead"};
    make_role(f, "Reader", perms, 2);
    long ev = lk_fixture_count(f, "audit_events");
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_role_delete(op, "READER"));
    assert_int_equal(lk_fixture_count(f, "roles"), 1);
    assert_int_equal(lk_fixture_count(f, "role_permissions"), 7);
    json_t *d = expect_audit(f, ev, "Role", "Delete", "Reader");
    assert_string_equal(jstr(d, "name"), "Reader");
    assert_int_equal(json_array_size(json_object_get(d, "permissions")), 2);
    json_decref(d);

    lk_role r;
    op = lk_fixture_op(f);
    expect_err(op, lk_role_find(op, "Reader", &r), LK_ENOTFOUND, "role", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_role_delete(op, "Reader"), LK_ENOTFOUND, "role", "Reader");

    /* the name can be used again */
    make_role(f, "Reader", perms, 1);
}

static void test_delete_held_role(void **state)
{
    lk_fixture *f = *state;
    const char *perms[] = {"Read-Only Lead"};
    make_role(f, "Integration", perms, 1);
    const char *roles[] = {"Integration"};
    make_api_user(f, "bot@example.com", roles, 1);
    snapshot s = snap(f);
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_role_delete(op, "Integration"), LK_EINUSE, "role", "bot@example.com");
    expect_unchanged(f, s);

    /* held by a pending person in a workspace, too */
    make_role(f, "Viewer", perms, 1);
    lk_grant_ref g = {.role = "Viewer", .workspace = "Default"};
    lk_user_input in = {
        .email = "person@example.com", .first_name = "P", .last_name = "Q",
        .grants = &g, .n_grants = 1,
    };
    lk_user u;
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    op = lk_fixture_op(f);
    expect_err(op, lk_role_delete(op, "Viewer"), LK_EINUSE, "role", "person@example.com");

    /* once the user is gone, the role can go */
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_delete(op, "person@example.com"));
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_delete(op, "Viewer"));
}

static void test_has_group_and_permission(void **state)
{
    lk_fixture *f = *state;
    const char *perms[] = {"Read-Only Lead", "Access Audit Trail"};
    lk_role r;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_role_create(op, "Mixed", NULL, perms, 2, &r));
    assert_true(lk_role_has_group(&r, LK_GROUP_API));
    assert_true(lk_role_has_group(&r, LK_GROUP_ADMIN));
    assert_true(lk_role_has_permission(&r, "Read-Only Lead"));
    assert_true(lk_role_has_permission(&r, "read-only lead"));
    assert_true(lk_role_has_permission(&r, "ACCESS AUDIT TRAIL"));
    assert_false(lk_role_has_permission(&r, "Read-Write Lead"));
    assert_false(lk_role_has_permission(&r, "Read-Only"));
    assert_false(lk_role_has_permission(&r, ""));

    const char *api[] = {"Execute Campaign"};
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_create(op, "Api", NULL, api, 1, &r));
    assert_true(lk_role_has_group(&r, LK_GROUP_API));
    assert_false(lk_role_has_group(&r, LK_GROUP_ADMIN));

    lk_role empty = {0};
    assert_false(lk_role_has_group(&empty, LK_GROUP_API));
    assert_false(lk_role_has_permission(&empty, "Read-Only Lead"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, lk_fixture_setup, lk_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_admin_seeded),
        T(test_create),
        T(test_create_needs_a_permission),
        T(test_create_unknown_permission),
        T(test_create_duplicate_name),
        T(test_create_bad_fields),
        T(test_names_spaced_blank_or_overridden),
        T(test_find_unknown),
        T(test_admin_cannot_change),
        T(test_update_rename_and_description),
        T(test_update_rename_collision),
        T(test_update_nothing_or_unknown),
        T(test_update_add_remove),
        T(test_update_remove_refusals),
        T(test_update_keeps_api_user_with_api_permission),
        T(test_update_allowed_when_api_user_has_other_api_role),
        T(test_update_ignores_people_without_api_permission),
        T(test_delete),
        T(test_delete_held_role),
        T(test_has_group_and_permission),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
