/*
 * test_allowlist — the IP allowlist through core/allowlist.h: off and empty at
 * first; entries stored in canonical form (so one range is one entry); refusals
 * with the reason (bad text, host bits with what was meant, duplicates, absent
 * entries, enabling an empty list, removing the last entry of an enabled one) that
 * change nothing; no-ops that write nothing; one "IP Restrictions" event per change
 * with the whole list and the switch in its details.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "expect.h"
#include "fixture.h"
#include "core/allowlist.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* --- helpers ----------------------------------------------------------------- */

/* the allowlist rows, the switch and the change feed's head as one text */
static const char *allow_state(lk_fixture *f)
{
    return lk_fixture_text(
        f, "SELECT coalesce((SELECT group_concat(id || '=' || cidr || '@' || created_at, ';') FROM allowlist), '')"
           " || '|' || (SELECT value || '@' || updated_at FROM settings WHERE key = 'allowlist.enabled')"
           " || '|' || (SELECT coalesce(max(seq), 0) FROM changes)");
}

/* a refused call: the code, the field, a word of the message, and nothing changed.
 * rc_expr runs with op_ (a fresh op) in scope. */
#define expect_refused(f, rc_expr, want, field, needle)                                  \
    do {                                                                                 \
        snapshot before_ = snap(f);                                                      \
        char *state_ = lk_arena_strdup(&(f)->arena, allow_state(f));                     \
        lk_op *op_ = lk_fixture_op(f);                                                   \
        lk_code rc_ = (rc_expr);                                                         \
        expect_err(op_, rc_, want, field, needle);                                       \
        expect_unchanged(f, before_);                                                    \
        assert_string_equal(allow_state(f), state_);                                     \
    } while (0)

static const char *add(lk_fixture *f, const char *cidr)
{
    const char *out = NULL;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_allowlist_add(op, cidr, &out));
    return out;
}

static void enable(lk_fixture *f, bool on)
{
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_allowlist_enable(op, on));
}

static void remove_entry(lk_fixture *f, const char *cidr)
{
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_allowlist_remove(op, cidr));
}

/* the current list is exactly the n given entries, in order, and the switch */
static void expect_list(lk_fixture *f, bool enabled, const char *const *want, size_t n_want)
{
    bool on = !enabled;
    const char **cidrs = NULL;
    size_t n = 99;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_allowlist_get(op, &on, &cidrs, &n));
    assert_int_equal(on, enabled);
    assert_int_equal(n, n_want);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(cidrs[i], want[i]);
}

/* the details of an audit event: {"allowed": want..., "enabled": enabled}; decrefs d */
static void expect_details(json_t *d, bool enabled, const char *const *want, size_t n_want)
{
    json_t *allowed = json_object_get(d, "allowed");
    assert_true(json_is_array(allowed));
    assert_int_equal(json_array_size(allowed), n_want);
    for (size_t i = 0; i < n_want; i++)
        assert_string_equal(json_string_value(json_array_get(allowed, i)), want[i]);
    assert_true(json_is_boolean(json_object_get(d, "enabled")));
    assert_int_equal(json_is_true(json_object_get(d, "enabled")), enabled);
    assert_int_equal(json_object_size(d), 2);
    json_decref(d);
}

#define LIST(...) ((const char *const[]){__VA_ARGS__}), (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* --- tests ------------------------------------------------------------------- */

static void off_and_empty_at_first(void **state)
{
    lk_fixture *f = *state;
    expect_list(f, false, NULL, 0);
}

static void add_in_canonical_form(void **state)
{
    lk_fixture *f = *state;
    long ev = lk_fixture_count(f, "audit_events");
    assert_string_equal(add(f, "10.0.0.0/8"), "10.0.0.0/8");
    expect_details(expect_audit(f, ev, "IP Restrictions", "Add", "10.0.0.0/8"), false, LIST("10.0.0.0/8"));

    ev = lk_fixture_count(f, "audit_events");
    assert_string_equal(add(f, "192.0.2.7"), "192.0.2.7/32");
    expect_details(expect_audit(f, ev, "IP Restrictions", "Add", "192.0.2.7/32"), false,
                   LIST("10.0.0.0/8", "192.0.2.7/32"));
    assert_string_equal(add(f, "2001:DB8:0::/32"), "2001:db8::/32");
    assert_string_equal(add(f, "::1"), "::1/128");
    assert_string_equal(add(f, "::ffff:198.51.100.0/120"), "198.51.100.0/24");
    expect_list(f, false, LIST("10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32", "::1/128", "198.51.100.0/24"));
}

static void add_refusals(void **state)
{
    lk_fixture *f = *state;
    add(f, "10.0.0.0/8");
    add(f, "192.0.2.7");
    const char *out = NULL;
    expect_refused(f, lk_allowlist_add(op_, "10.0.0.1/8", &out), LK_EINVAL, "cidr", "did you mean 10.0.0.0/8?");
    expect_refused(f, lk_allowlist_add(op_, "10.0.0.1/8", &out), LK_EINVAL, "cidr", "bits set beyond the prefix");
    expect_refused(f, lk_allowlist_add(op_, "10.0.0.0/33", &out), LK_EINVAL, "cidr", "at most 32");
    expect_refused(f, lk_allowlist_add(op_, "10.0.*.*", &out), LK_EINVAL, "cidr", "10.0.0.0/8");
    expect_refused(f, lk_allowlist_add(op_, "example.com", &out), LK_EINVAL, "cidr", "'example.com'");
    expect_refused(f, lk_allowlist_add(op_, "", &out), LK_EINVAL, "cidr", "blank");
    expect_refused(f, lk_allowlist_add(op_, NULL, &out), LK_EINVAL, "cidr", "blank");
    /* duplicates, however written */
    expect_refused(f, lk_allowlist_add(op_, "10.0.0.0/8", &out), LK_EEXISTS, "cidr", "10.0.0.0/8");
    expect_refused(f, lk_allowlist_add(op_, "192.0.2.7/32", &out), LK_EEXISTS, "cidr", "192.0.2.7/32");
    expect_refused(f, lk_allowlist_add(op_, "::ffff:192.0.2.7", &out), LK_EEXISTS, "cidr", "192.0.2.7/32");
    assert_null(out);
    expect_list(f, false, LIST("10.0.0.0/8", "192.0.2.7/32"));
}

static void remove_entries(void **state)
{
    lk_fixture *f = *state;
    add(f, "10.0.0.0/8");
    add(f, "192.0.2.7");
    add(f, "2001:db8::/32");
    long ev = lk_fixture_count(f, "audit_events");
    remove_entry(f, "192.0.2.7"); /* any text meaning the same range */
    expect_details(expect_audit(f, ev, "IP Restrictions", "Remove", "192.0.2.7/32"), false,
                   LIST("10.0.0.0/8", "2001:db8::/32"));
    expect_list(f, false, LIST("10.0.0.0/8", "2001:db8::/32"));

    expect_refused(f, lk_allowlist_remove(op_, "192.0.2.7/32"), LK_ENOTFOUND, "cidr", "192.0.2.7/32");
    expect_refused(f, lk_allowlist_remove(op_, "10.0.0.0/9"), LK_ENOTFOUND, "cidr", "not on the allowlist");
    expect_refused(f, lk_allowlist_remove(op_, "10.0.0.1/8"), LK_EINVAL, "cidr", "did you mean");
    expect_refused(f, lk_allowlist_remove(op_, "junk"), LK_EINVAL, "cidr", "junk");

    /* the last entry of a disabled list may go */
    remove_entry(f, "2001:DB8::/32");
    remove_entry(f, "10.0.0.0/8");
    expect_list(f, false, NULL, 0);
}

static void enable_and_disable(void **state)
{
    lk_fixture *f = *state;
    expect_refused(f, lk_allowlist_enable(op_, true), LK_ERULE, "allowlist", "empty");
    add(f, "10.0.0.0/8");

    long ev = lk_fixture_count(f, "audit_events");
    enable(f, true);
    expect_details(expect_audit(f, ev, "IP Restrictions", "Enable", "allowlist"), true, LIST("10.0.0.0/8"));
    expect_list(f, true, LIST("10.0.0.0/8"));

    /* enabled: adds and removes keep it on, but the last entry stays */
    ev = lk_fixture_count(f, "audit_events");
    add(f, "192.0.2.0/24");
    expect_details(expect_audit(f, ev, "IP Restrictions", "Add", "192.0.2.0/24"), true,
                   LIST("10.0.0.0/8", "192.0.2.0/24"));
    remove_entry(f, "10.0.0.0/8");
    expect_refused(f, lk_allowlist_remove(op_, "192.0.2.0/24"), LK_ERULE, "cidr", "disable the allowlist first");

    /* the same state again writes nothing */
    const char *before = lk_arena_strdup(&f->arena, allow_state(f));
    ev = lk_fixture_count(f, "audit_events");
    enable(f, true);
    assert_int_equal(lk_fixture_count(f, "audit_events"), ev);
    assert_string_equal(allow_state(f), before);

    ev = lk_fixture_count(f, "audit_events");
    enable(f, false);
    expect_details(expect_audit(f, ev, "IP Restrictions", "Disable", "allowlist"), false, LIST("192.0.2.0/24"));
    expect_list(f, false, LIST("192.0.2.0/24"));

    before = lk_arena_strdup(&f->arena, allow_state(f));
    ev = lk_fixture_count(f, "audit_events");
    enable(f, false);
    assert_int_equal(lk_fixture_count(f, "audit_events"), ev);
    assert_string_equal(allow_state(f), before);

    /* disabled, the last entry may go; an empty list may be disabled (a no-op) */
    remove_entry(f, "192.0.2.0/24");
    enable(f, false);
    expect_list(f, false, NULL, 0);
}

/* the switch is the setting "allowlist.enabled": "1" or "0"; anything else is broken */
static void switch_setting(void **state)
{
    lk_fixture *f = *state;
    add(f, "10.0.0.0/8");
    enable(f, true);
    lk_op *op = lk_fixture_op(f);
    const char *v = NULL;
    expect_ok(op, f->store->ops->setting_get(f->store, &f->arena, "allowlist.enabled", &v, &op->err));
    assert_string_equal(v, "1");

    lk_fixture_exec(f, "UPDATE settings SET value = 'yes' WHERE key = 'allowlist.enabled'");
    bool on;
    const char **cidrs;
    size_t n;
    op = lk_fixture_op(f);
    expect_err(op, lk_allowlist_get(op, &on, &cidrs, &n), LK_ESTORE, NULL, "allowlist.enabled");
    /* missing: off */
    lk_fixture_exec(f, "DELETE FROM settings WHERE key = 'allowlist.enabled'");
    expect_list(f, false, LIST("10.0.0.0/8"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, lk_fixture_setup, lk_fixture_teardown)
        T(off_and_empty_at_first),
        T(add_in_canonical_form),
        T(add_refusals),
        T(remove_entries),
        T(enable_and_disable),
        T(switch_setting),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
