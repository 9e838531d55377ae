/*
 * test_audit — the audit trail through core/audit.h: lk_audit_record writes one
 * event inside the caller's transaction (rolled back with it), and lk_audit_list
 * returns events newest first, filtered by area, action, actor substring, time
 * window (since inclusive, until exclusive) and limit. Also checks that events
 * written by core operations carry the op's actor, address and time.
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

/* records one event in its own transaction, as actor at time `at` */
static void record(lk_fixture *f, int64_t at, const char *actor, const char *area, const char *action,
                   const char *target, const char *details)
{
    lk_op *op = lk_fixture_op(f);
    op->now = at;
    op->actor = actor;
    expect_ok(op, op->store->ops->begin(op->store, &op->err));
    expect_ok(op, lk_audit_record(op, area, action, target, details));
    expect_ok(op, op->store->ops->commit(op->store, &op->err));
}

/* six events at 1000..1005 from three actors in three areas */
static int setup(void **state)
{
    if (lk_fixture_setup(state) != 0)
        return -1;
    lk_fixture *f = *state;
    record(f, 1000, "cli:root", "Role", "Create", "Reader", "{\"name\":\"Reader\"}");
    record(f, 1001, "user:ann@example.com", "User", "Create", "bob@example.com", NULL);
    record(f, 1002, "user:ann@example.com", "User", "Lock", "bob@example.com", "{}");
    record(f, 1003, "api:bot@example.com/Sync", "User", "Edit", "bob@example.com", "{\"x\":1}");
    record(f, 1004, "cli:root", "Service", "Create", "Sync", NULL);
    record(f, 1005, "system", "User", "Unlock", "bob@example.com", NULL);
    return 0;
}

static void test_record_writes_event(void **state)
{
    lk_fixture *f = *state;
    long before = lk_fixture_count(f, "audit_events");
    lk_op *op = lk_fixture_op(f);
    op->now = 2000;
    op->actor = "user:ann@example.com";
    op->address = "203.0.113.9";
    expect_ok(op, op->store->ops->begin(op->store, &op->err));
    expect_ok(op, lk_audit_record(op, "Workspace", "Create", "Sales", "{\"name\":\"Sales\",\"n\":[1,2]}"));
    expect_ok(op, op->store->ops->commit(op->store, &op->err));
    assert_int_equal(lk_fixture_count(f, "audit_events"), before + 1);

    lk_audit_event ev = newest_event(f);
    assert_true(ev.id > 0);
    assert_int_equal(ev.at, 2000);
    assert_string_equal(ev.actor, "user:ann@example.com");
    assert_string_equal(ev.address, "203.0.113.9");
    assert_string_equal(ev.area, "Workspace");
    assert_string_equal(ev.action, "Create");
    assert_string_equal(ev.target, "Sales");
    json_t *d = json_loads(ev.details, 0, NULL);
    assert_non_null(d);
    assert_string_equal(jstr(d, "name"), "Sales");
    assert_int_equal(json_array_size(json_object_get(d, "n")), 2);
    json_decref(d);
}

static void test_record_null_details_and_target(void **state)
{
    lk_fixture *f = *state;
    size_t n = 0;
    lk_audit_filter flt = {.action = "Create", .area = "User"};
    lk_audit_event *ev = list_events(f, &flt, &n);
    assert_int_equal(n, 1);
    assert_string_equal(ev[0].details, "{}"); /* NULL means "{}" */
    assert_string_equal(ev[0].address, "");

    record(f, 3000, "cli:root", "Role", "Delete", NULL, NULL);
    lk_audit_event last = newest_event(f);
    assert_string_equal(last.target, "");
    assert_string_equal(last.details, "{}");
}

static void test_record_rolled_back_with_transaction(void **state)
{
    lk_fixture *f = *state;
    long before = lk_fixture_count(f, "audit_events");
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, op->store->ops->begin(op->store, &op->err));
    expect_ok(op, lk_audit_record(op, "Role", "Create", "Ghost", NULL));
    op->store->ops->rollback(op->store);
    assert_int_equal(lk_fixture_count(f, "audit_events"), before);
}

static void test_list_all_newest_first(void **state)
{
    lk_fixture *f = *state;
    size_t n = 0;
    lk_audit_event *ev = list_events(f, NULL, &n);
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ev[i].at, 1005 - (int64_t)i);
    assert_string_equal(ev[0].action, "Unlock");
    assert_string_equal(ev[5].action, "Create");
    assert_string_equal(ev[5].area, "Role");
    assert_string_equal(ev[5].details, "{\"name\":\"Reader\"}");

    lk_audit_filter none = {0};
    ev = list_events(f, &none, &n);
    assert_int_equal(n, 6);
}

static void test_list_same_second_newest_first(void **state)
{
    lk_fixture *f = *state;
    record(f, 5000, "cli:root", "Role", "Create", "first", NULL);
    record(f, 5000, "cli:root", "Role", "Create", "second", NULL);
    record(f, 5000, "cli:root", "Role", "Create", "third", NULL);
    size_t n = 0;
    lk_audit_filter flt = {.since = 5000};
    lk_audit_event *ev = list_events(f, &flt, &n);
    assert_int_equal(n, 3);
    assert_string_equal(ev[0].target, "third");
    assert_string_equal(ev[1].target, "second");
    assert_string_equal(ev[2].target, "first");
}

static void test_filter_area_and_action(void **state)
{
    lk_fixture *f = *state;
    size_t n = 0;
    lk_audit_filter flt = {.area = "User"};
    lk_audit_event *ev = list_events(f, &flt, &n);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(ev[i].area, "User");
    assert_int_equal(ev[0].at, 1005);

    flt.area = "user"; /* case-insensitive */
    ev = list_events(f, &flt, &n);
    assert_int_equal(n, 4);

    flt.area = "Use"; /* exact, not a prefix */
    ev = list_events(f, &flt, &n);
    assert_int_equal(n, 0);

    flt = (lk_audit_filter){.action = "Create"};
    ev = list_events(f, &flt, &n);
    assert_int_equal(n, 3);
    assert_string_equal(ev[0].area, "Service");
    assert_string_equal(ev[1].area, "User");
    assert_string_equal(ev[2].area, "Role");

    flt = (lk_audit_filter){.area = "User", .action = "create"};
    ev = list_events(f, &flt, &n);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].at, 1001);

    flt = (lk_audit_filter){.area = "Permission"};
    ev = list_events(f, &flt, &n);
    assert_int_equal(n, 0);
}

static void test_filter_actor_substring(void **state)
{
    lk_fixture *f = *state;
    size_t n = 0;
    lk_audit_filter flt = {.actor = "ann@"};
    lk_audit_event *ev = list_events(f, &flt, &n);
    assert_int_equal(n, 2);
    assert_string_equal(ev[0].actor, "user:ann@example.com");
    assert_string_equal(ev[0].action, "Lock");

    flt.actor = "cli:root";
    ev = list_events(f, &flt, &n);
    assert_int_equal(n, 2);

    flt.actor = "example.com";
    ev = list_events(f, &flt, &n);
    assert_int_equal(n, 3);

    flt.actor = "/Sync";
    ev = list_events(f, &flt, &n);
    assert_int_equal(n, 1);
    assert_string_equal(ev[0].actor, "api:bot@example.com/Sync");

    flt.actor = "nobody";
    ev = list_events(f, &flt, &n);
    assert_int_equal(n, 0);

    /* characters special to SQL LIKE are taken literally */
    flt.actor = "%";
    ev = list_events(f, &flt, &n);
    assert_int_equal(n, 0);
    flt.actor = "_";
    ev = list_events(f, &flt, &n);
    assert_int_equal(n, 0);
}

static void test_filter_time_window(void **state)
{
    lk_fixture *f = *state;
    size_t n = 0;
    lk_audit_filter flt = {.since = 1002};
    lk_audit_event *ev = list_events(f, &flt, &n);
    assert_int_equal(n, 4); /* since is inclusive */
    assert_int_equal(ev[n - 1].at, 1002);

    flt = (lk_audit_filter){.until = 1002};
    ev = list_events(f, &flt, &n);
    assert_int_equal(n, 2); /* until is exclusive */
    assert_int_equal(ev[0].at, 1001);
    assert_int_equal(ev[1].at, 1000);

    flt = (lk_audit_filter){.since = 1001, .until = 1004};
    ev = list_events(f, &flt, &n);
    assert_int_equal(n, 3);
    assert_int_equal(ev[0].at, 1003);
    assert_int_equal(ev[2].at, 1001);

    flt = (lk_audit_filter){.since = 1003, .until = 1003};
    ev = list_events(f, &flt, &n);
    assert_int_equal(n, 0);

    flt = (lk_audit_filter){.since = 9000};
    ev = list_events(f, &flt, &n);
    assert_int_equal(n, 0);
}

static void test_filter_limit(void **state)
{
    lk_fixture *f = *state;
    size_t n = 0;
    lk_audit_filter flt = {.limit = 2};
    lk_audit_event *ev = list_events(f, &flt, &n);
    assert_int_equal(n, 2);
    assert_int_equal(ev[0].at, 1005);
    assert_int_equal(ev[1].at, 1004);

    flt = (lk_audit_filter){.limit = 1, .area = "User", .actor = "ann"};
    ev = list_events(f, &flt, &n);
    assert_int_equal(n, 1);
    assert_string_equal(ev[0].action, "Lock");

    flt = (lk_audit_filter){.limit = 100};
    ev = list_events(f, &flt, &n);
    assert_int_equal(n, 6);
}

static void test_core_operation_records_actor_and_address(void **state)
{
    lk_fixture *f = *state;
    long before = lk_fixture_count(f, "audit_events");
    lk_op *op = lk_fixture_op(f);
    op->now = 7000;
    op->actor = "user:ann@example.com";
    op->address = "198.51.100.7";
    lk_workspace w;
    expect_ok(op, lk_workspace_create(op, "Sales", NULL, &w));
    assert_int_equal(lk_fixture_count(f, "audit_events"), before + 1);

    size_t n = 0;
    lk_audit_filter flt = {.area = "Workspace"};
    lk_audit_event *ev = list_events(f, &flt, &n);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].at, 7000);
    assert_string_equal(ev[0].actor, "user:ann@example.com");
    assert_string_equal(ev[0].address, "198.51.100.7");
    assert_string_equal(ev[0].action, "Create");
    assert_string_equal(ev[0].target, "Sales");

    /* a refused operation records nothing */
    op = lk_fixture_op(f);
    assert_int_equal(lk_workspace_create(op, "sales", NULL, &w), LK_EEXISTS);
    assert_int_equal(lk_fixture_count(f, "audit_events"), before + 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, lk_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_record_writes_event),
        T(test_record_null_details_and_target),
        T(test_record_rolled_back_with_transaction),
        T(test_list_all_newest_first),
        T(test_list_same_second_newest_first),
        T(test_filter_area_and_action),
        T(test_filter_actor_substring),
        T(test_filter_time_window),
        T(test_filter_limit),
        T(test_core_operation_records_actor_and_address),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
