/*
 * test_workspace — workspaces through core/workspace.h: the seeded AllZones (0) and
 * Default (1), creation with its checks (unique case-insensitively, not a number,
 * 1..255 characters of clean UTF-8), lookup by name or id, and the audit event of
 * each creation. A refused call leaves every table as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "expect.h"
#include "fixture.h"
#include "core/audit.h"
#include "core/workspace.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_list_has_seeded_workspaces(void **state)
{
    lk_fixture *f = *state;
    lk_op *op = lk_fixture_op(f);
    lk_workspace *ws = NULL;
    size_t n = 0;
    expect_ok(op, lk_workspace_list(op, &ws, &n));
    assert_int_equal(n, 2);
    bool all = false, def = false;
    for (size_t i = 0; i < n; i++) {
        if (ws[i].id == LK_WORKSPACE_ALLZONES) {
            assert_string_equal(ws[i].name, "AllZones");
            all = true;
        }
        if (ws[i].id == LK_WORKSPACE_DEFAULT) {
            assert_string_equal(ws[i].name, "Default");
            def = true;
        }
        assert_non_null(ws[i].description);
    }
    assert_true(all && def);
    assert_int_equal(lk_fixture_count(f, "audit_events"), 0);
}

static void test_create(void **state)
{
    lk_fixture *f = *state;
    long ev = lk_fixture_count(f, "audit_events");
    lk_op *op = lk_fixture_op(f);
    op->now = 1900000000;
    lk_workspace w = {0};
    expect_ok(op, lk_workspace_create(op, "Sales EMEA", "Europe and friends", &w));
    assert_true(w.id > LK_WORKSPACE_DEFAULT);
    assert_string_equal(w.name, "Sales EMEA");
    assert_string_equal(w.description, "Europe and friends");
    assert_int_equal(w.created_at, 1900000000);
    assert_int_equal(w.updated_at, 1900000000);
    assert_int_equal(lk_fixture_count(f, "workspaces"), 3);

    json_t *d = expect_audit(f, ev, "Workspace", "Create", "Sales EMEA");
    assert_string_equal(jstr(d, "name"), "Sales EMEA");
    assert_string_equal(jstr(d, "description"), "Europe and friends");
    assert_true(json_is_integer(json_object_get(d, "id")));
    assert_int_equal(json_integer_value(json_object_get(d, "id")), w.id);
    json_decref(d);
    assert_int_equal(newest_event(f).at, 1900000000);

    /* it is listed too */
    lk_workspace *ws = NULL;
    size_t n = 0;
    op = lk_fixture_op(f);
    expect_ok(op, lk_workspace_list(op, &ws, &n));
    assert_int_equal(n, 3);
}

static void test_create_without_description(void **state)
{
    lk_fixture *f = *state;
    lk_op *op = lk_fixture_op(f);
    lk_workspace w = {0};
    expect_ok(op, lk_workspace_create(op, "Plain", NULL, &w));
    assert_string_equal(w.description, "");
    json_t *d = expect_audit(f, 0, "Workspace", "Create", "Plain");
    assert_string_equal(jstr(d, "description"), "");
    json_decref(d);
}

static void test_create_duplicate_case_insensitive(void **state)
{
    lk_fixture *f = *state;
    lk_op *op = lk_fixture_op(f);
    lk_workspace w;
    expect_ok(op, lk_workspace_create(op, "Sales", NULL, &w));
    snapshot s = snap(f);

    op = lk_fixture_op(f);
    expect_err(op, lk_workspace_create(op, "sALES", NULL, &w), LK_EEXISTS, "name", "Sales");
    expect_unchanged(f, s);

    op = lk_fixture_op(f);
    expect_err(op, lk_workspace_create(op, "default", NULL, &w), LK_EEXISTS, "name", "Default");
    op = lk_fixture_op(f);
    expect_err(op, lk_workspace_create(op, "ALLZONES", NULL, &w), LK_EEXISTS, "name", "AllZones");
    expect_unchanged(f, s);
}

static void test_create_numeric_name_refused(void **state)
{
    lk_fixture *f = *state;
    snapshot s = snap(f);
    lk_workspace w;
    const char *numbers[] = {"42", "0", "1", "007"};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        lk_op *op = lk_fixture_op(f);
        expect_err(op, lk_workspace_create(op, numbers[i], NULL, &w), LK_EINVAL, "name", "number");
    }
    expect_unchanged(f, s);

    /* a name that merely contains digits is fine */
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_workspace_create(op, "Region 42", NULL, &w));
}

static void test_create_bad_names_refused(void **state)
{
    lk_fixture *f = *state;
    snapshot s = snap(f);
    lk_workspace w;
    const char *bad[] = {
        "",             /* empty */
        "   ",          /* blank */
        "\t",           /* blank control */
        "Sales\tEMEA",  /* tab */
        "Sales\nEMEA",  /* newline */
        "Sales\x7f",    /* DEL */
        "Sales\xc2\x85", /* C1 control U+0085 */
        "Sales\xff",    /* not UTF-8 */
        "Sales\xc3",    /* truncated sequence */
        "\xc0\xaf",     /* overlong */
        "\xed\xa0\x80", /* surrogate */
        repeat(f, "a", 256),
        repeat(f, "\xc3\xa9", 256),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_op *op = lk_fixture_op(f);
        lk_code rc = lk_workspace_create(op, bad[i], NULL, &w);
        if (rc != LK_EINVAL)
            fail_msg("bad name #%zu accepted (rc %d)", i, (int)rc);
        assert_string_equal(op->err.field, "name");
        assert_non_null(strstr(op->err.msg, "workspace name"));
    }
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_workspace_create(op, NULL, NULL, &w), LK_EINVAL, "name", "blank");
    expect_unchanged(f, s);
}

static lk_code create_workspace_named(lk_op *op, const char *name)
{
    lk_workspace w;
    lk_code rc = lk_workspace_create(op, name, NULL, &w);
    if (rc != LK_OK)
        assert_non_null(strstr(op->err.msg, "workspace name"));
    return rc;
}

/* a space at either end, a blank of U+00A0, a bidirectional override */
static void test_create_spaced_blank_or_overridden_name(void **state)
{
    lk_fixture *f = *state;
    expect_names_refused(f, "Sales", "name", create_workspace_named);

    /* inner spaces are fine */
    lk_workspace w;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_workspace_create(op, "Sales  EMEA", NULL, &w));
}

static void test_create_name_limits_ok(void **state)
{
    lk_fixture *f = *state;
    lk_workspace w;
    lk_op *op = lk_fixture_op(f);
    const char *ascii = repeat(f, "a", 255);
    expect_ok(op, lk_workspace_create(op, ascii, NULL, &w));
    assert_string_equal(w.name, ascii);

    op = lk_fixture_op(f);
    const char *wide = repeat(f, "\xe2\x82\xac", 255); /* 255 euro signs, 765 bytes */
    expect_ok(op, lk_workspace_create(op, wide, NULL, &w));
    assert_string_equal(w.name, wide);

    op = lk_fixture_op(f);
    expect_ok(op, lk_workspace_create(op, "Zürich", NULL, &w));
    assert_int_equal(lk_fixture_count(f, "workspaces"), 5);
}

static void test_create_description_limits(void **state)
{
    lk_fixture *f = *state;
    snapshot s = snap(f);
    lk_workspace w;
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_workspace_create(op, "Long", repeat(f, "d", 1001), &w), LK_EINVAL, "description", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_workspace_create(op, "Ctl", "bad\x01", &w), LK_EINVAL, "description", NULL);
    expect_unchanged(f, s);

    op = lk_fixture_op(f);
    expect_ok(op, lk_workspace_create(op, "Long", repeat(f, "d", 1000), &w));
    op = lk_fixture_op(f);
    expect_ok(op, lk_workspace_create(op, "Lines", "first line\nsecond line", &w));
    assert_string_equal(w.description, "first line\nsecond line");
}

static void test_find_by_name_and_id(void **state)
{
    lk_fixture *f = *state;
    lk_workspace w, got;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_workspace_create(op, "Marketing", "m", &w));

    op = lk_fixture_op(f);
    expect_ok(op, lk_workspace_find(op, "marketing", &got));
    assert_int_equal(got.id, w.id);
    assert_string_equal(got.name, "Marketing");
    assert_string_equal(got.description, "m");

    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)w.id);
    op = lk_fixture_op(f);
    expect_ok(op, lk_workspace_find(op, id, &got));
    assert_string_equal(got.name, "Marketing");

    op = lk_fixture_op(f);
    expect_ok(op, lk_workspace_find(op, "0", &got));
    assert_int_equal(got.id, LK_WORKSPACE_ALLZONES);
    assert_string_equal(got.name, "AllZones");

    op = lk_fixture_op(f);
    expect_ok(op, lk_workspace_find(op, "1", &got));
    assert_string_equal(got.name, "Default");

    op = lk_fixture_op(f);
    expect_ok(op, lk_workspace_find(op, "ALLZONES", &got));
    assert_int_equal(got.id, LK_WORKSPACE_ALLZONES);
}

static void test_find_unknown(void **state)
{
    lk_fixture *f = *state;
    lk_workspace got;
    lk_op *op = lk_fixture_op(f);
    expect_err(op, lk_workspace_find(op, "Nowhere", &got), LK_ENOTFOUND, "workspace", "Nowhere");
    op = lk_fixture_op(f);
    expect_err(op, lk_workspace_find(op, "999", &got), LK_ENOTFOUND, "workspace", "999");
    op = lk_fixture_op(f);
    expect_err(op, lk_workspace_find(op, "99999999999999999999999", &got), LK_ENOTFOUND, "workspace", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_workspace_find(op, "", &got), LK_EINVAL, "workspace", NULL);
    op = lk_fixture_op(f);
    expect_err(op, lk_workspace_find(op, NULL, &got), LK_EINVAL, "workspace", NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, lk_fixture_setup, lk_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_list_has_seeded_workspaces),
        T(test_create),
        T(test_create_without_description),
        T(test_create_duplicate_case_insensitive),
        T(test_create_numeric_name_refused),
        T(test_create_bad_names_refused),
        T(test_create_spaced_blank_or_overridden_name),
        T(test_create_name_limits_ok),
        T(test_create_description_limits),
        T(test_find_by_name_and_id),
        T(test_find_unknown),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
