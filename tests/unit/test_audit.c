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

#include "fixture.h"
#include "core/audit.h"
#include "core/workspace.h"

#include <jansson.h>
#include <stdbool.h>
#include <string.h>

/* ---- helpers (each test file carries its own copy: tests share no code but the fixture) ---- */

static const char *const TABLES[] = {
    "workspaces", "permissions", "roles", "role_permissions", "users",
    "user_roles", "invitations", "services", "audit_events",
};
#define N_TABLES (sizeof TABLES / sizeof TABLES[0])

typedef struct snapshot {
    long n[N_TABLES];
} snapshot;

/* row counts of every table, to show that a refused call changed nothing */
static __attribute__((unused)) snapshot snap(lk_fixture *f)
{
    snapshot s;
    for (size_t i = 0; i < N_TABLES; i++) {
        s.n[i] = lk_fixture_count(f, TABLES[i]);
        assert_true(s.n[i] >= 0);
    }
    return s;
}

static __attribute__((unused)) void expect_unchanged(lk_fixture *f, snapshot before)
{
    snapshot now = snap(f);
    for (size_t i = 0; i < N_TABLES; i++)
        if (now.n[i] != before.n[i])
            fail_msg("a refused call changed table %s: %ld rows -> %ld", TABLES[i], before.n[i], now.n[i]);
}

/* rc is want, op->err says so, names the field (unless NULL) and contains needle (unless NULL) */
static __attribute__((unused)) void expect_err(const lk_op *op, lk_code rc, lk_code want, const char *field,
                                               const char *needle)
{
    if (rc != want)
        fail_msg("expected code %d, got %d (%s)", (int)want, (int)rc, op->err.msg);
    assert_int_equal(op->err.code, want);
    assert_true(op->err.msg[0] != '\0');
    if (field)
        assert_string_equal(op->err.field, field);
    if (needle && !strstr(op->err.msg, needle))
        fail_msg("message '%s' does not mention '%s'", op->err.msg, needle);
}

static __attribute__((unused)) void expect_ok(const lk_op *op, lk_code rc)
{
    if (rc != LK_OK)
        fail_msg("expected LK_OK, got %d: [%s] %s", (int)rc, op->err.field, op->err.msg);
}

/* every audit event, as listed */
static __attribute__((unused)) lk_audit_event *all_events(lk_fixture *f, size_t *n)
{
    lk_audit_event *ev = NULL;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_audit_list(op, NULL, &ev, n));
    return ev;
}

/* the event with the highest id (the one written last) */
static __attribute__((unused)) lk_audit_event newest_event(lk_fixture *f)
{
    size_t n = 0;
    lk_audit_event *ev = all_events(f, &n);
    assert_true(n > 0);
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (ev[i].id > ev[best].id)
            best = i;
    return ev[best];
}

/* Exactly one event was written since `before` (a count of audit_events), with this
 * area, action and target, by the fixture's actor; returns its parsed details
 * (caller decrefs). */
static __attribute__((unused)) json_t *expect_audit(lk_fixture *f, long before, const char *area,
                                                    const char *action, const char *target)
{
    long after = lk_fixture_count(f, "audit_events");
    if (after != before + 1)
        fail_msg("expected exactly one new audit event, got %ld", after - before);
    lk_audit_event ev = newest_event(f);
    assert_string_equal(ev.area, area);
    assert_string_equal(ev.action, action);
    assert_string_equal(ev.target, target);
    assert_string_equal(ev.actor, "test");
    json_error_t je;
    json_t *d = json_loads(ev.details, 0, &je);
    if (!d)
        fail_msg("audit details are not JSON (%s): %s", je.text, ev.details);
    assert_true(json_is_object(d));
    return d;
}

/* the string member key of a JSON object */
static __attribute__((unused)) const char *jstr(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("JSON lacks string member '%s'", key);
    return json_string_value(v);
}

/* true if the JSON array of strings holds s */
static __attribute__((unused)) bool jarray_has(const json_t *a, const char *s)
{
    assert_true(json_is_array(a));
    for (size_t i = 0; i < json_array_size(a); i++)
        if (json_is_string(json_array_get(a, i)) && strcmp(json_string_value(json_array_get(a, i)), s) == 0)
            return true;
    return false;
}

/* no audit event mentions s anywhere (target or details) */
static __attribute__((unused)) void expect_not_in_audit(lk_fixture *f, const char *s)
{
    assert_true(s && *s);
    size_t n = 0;
    lk_audit_event *ev = all_events(f, &n);
    for (size_t i = 0; i < n; i++)
        if (strstr(ev[i].details, s) || strstr(ev[i].target, s))
            fail_msg("audit event %s/%s carries a secret: %s", ev[i].area, ev[i].action, ev[i].details);
}

/* a string of n copies of unit (arena-backed) */
static __attribute__((unused)) char *repeat(lk_fixture *f, const char *unit, size_t n)
{
    size_t u = strlen(unit);
    char *s = lk_arena_alloc(&f->arena, u * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * u, unit, u);
    s[u * n] = '\0';
    return s;
}

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

static lk_audit_event *list(lk_fixture *f, const lk_audit_filter *flt, size_t *n)
{
    lk_audit_event *ev = NULL;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_audit_list(op, flt, &ev, n));
    return ev;
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
    lk_audit_event *ev = list(f, &flt, &n);
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
    lk_audit_event *ev = list(f, NULL, &n);
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ev[i].at, 1005 - (int64_t)i);
    assert_string_equal(ev[0].action, "Unlock");
    assert_string_equal(ev[5].action, "Create");
    assert_string_equal(ev[5].area, "Role");
    assert_string_equal(ev[5].details, "{\"name\":\"Reader\"}");

    lk_audit_filter none = {0};
    ev = list(f, &none, &n);
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
    lk_audit_event *ev = list(f, &flt, &n);
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
    lk_audit_event *ev = list(f, &flt, &n);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(ev[i].area, "User");
    assert_int_equal(ev[0].at, 1005);

    flt.area = "user"; /* case-insensitive */
    ev = list(f, &flt, &n);
    assert_int_equal(n, 4);

    flt.area = "Use"; /* exact, not a prefix */
    ev = list(f, &flt, &n);
    assert_int_equal(n, 0);

    flt = (lk_audit_filter){.action = "Create"};
    ev = list(f, &flt, &n);
    assert_int_equal(n, 3);
    assert_string_equal(ev[0].area, "Service");
    assert_string_equal(ev[1].area, "User");
    assert_string_equal(ev[2].area, "Role");

    flt = (lk_audit_filter){.area = "User", .action = "create"};
    ev = list(f, &flt, &n);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].at, 1001);

    flt = (lk_audit_filter){.area = "Permission"};
    ev = list(f, &flt, &n);
    assert_int_equal(n, 0);
}

static void test_filter_actor_substring(void **state)
{
    lk_fixture *f = *state;
    size_t n = 0;
    lk_audit_filter flt = {.actor = "ann@"};
    lk_audit_event *ev = list(f, &flt, &n);
    assert_int_equal(n, 2);
    assert_string_equal(ev[0].actor, "user:ann@example.com");
    assert_string_equal(ev[0].action, "Lock");

    flt.actor = "cli:root";
    ev = list(f, &flt, &n);
    assert_int_equal(n, 2);

    flt.actor = "example.com";
    ev = list(f, &flt, &n);
    assert_int_equal(n, 3);

    flt.actor = "/Sync";
    ev = list(f, &flt, &n);
    assert_int_equal(n, 1);
    assert_string_equal(ev[0].actor, "api:bot@example.com/Sync");

    flt.actor = "nobody";
    ev = list(f, &flt, &n);
    assert_int_equal(n, 0);

    /* characters special to SQL LIKE are taken literally */
    flt.actor = "%";
    ev = list(f, &flt, &n);
    assert_int_equal(n, 0);
    flt.actor = "_";
    ev = list(f, &flt, &n);
    assert_int_equal(n, 0);
}

static void test_filter_time_window(void **state)
{
    lk_fixture *f = *state;
    size_t n = 0;
    lk_audit_filter flt = {.since = 1002};
    lk_audit_event *ev = list(f, &flt, &n);
    assert_int_equal(n, 4); /* since is inclusive */
    assert_int_equal(ev[n - 1].at, 1002);

    flt = (lk_audit_filter){.until = 1002};
    ev = list(f, &flt, &n);
    assert_int_equal(n, 2); /* until is exclusive */
    assert_int_equal(ev[0].at, 1001);
    assert_int_equal(ev[1].at, 1000);

    flt = (lk_audit_filter){.since = 1001, .until = 1004};
    ev = list(f, &flt, &n);
    assert_int_equal(n, 3);
    assert_int_equal(ev[0].at, 1003);
    assert_int_equal(ev[2].at, 1001);

    flt = (lk_audit_filter){.since = 1003, .until = 1003};
    ev = list(f, &flt, &n);
    assert_int_equal(n, 0);

    flt = (lk_audit_filter){.since = 9000};
    ev = list(f, &flt, &n);
    assert_int_equal(n, 0);
}

static void test_filter_limit(void **state)
{
    lk_fixture *f = *state;
    size_t n = 0;
    lk_audit_filter flt = {.limit = 2};
    lk_audit_event *ev = list(f, &flt, &n);
    assert_int_equal(n, 2);
    assert_int_equal(ev[0].at, 1005);
    assert_int_equal(ev[1].at, 1004);

    flt = (lk_audit_filter){.limit = 1, .area = "User", .actor = "ann"};
    ev = list(f, &flt, &n);
    assert_int_equal(n, 1);
    assert_string_equal(ev[0].action, "Lock");

    flt = (lk_audit_filter){.limit = 100};
    ev = list(f, &flt, &n);
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
    lk_audit_event *ev = list(f, &flt, &n);
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
