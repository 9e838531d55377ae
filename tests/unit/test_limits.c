/*
 * test_limits — the call limits through core/limits.h: the instance's defaults and
 * changes, per-user limits of API-only users, bounds and the rate's two halves, the
 * refusals (person, unknown user, nothing to change) that change nothing, no-ops
 * that write nothing, and one "Web Services" / "Edit Limits" event per change whose
 * details are the new limits.
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
#include "core/user.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* a role with an Access API permission, API-only bot@example.com and a person */
static int setup(void **state)
{
    if (lk_fixture_setup(state) != 0)
        return -1;
    lk_fixture *f = *state;
    const char *api[] = {"Read-Only Lead"};
    const char *admin[] = {"Access Users"};
    lk_role r;
    if (lk_role_create(lk_fixture_op(f), "Integration", NULL, api, 1, &r) != LK_OK ||
        lk_role_create(lk_fixture_op(f), "Console", NULL, admin, 1, &r) != LK_OK)
        return -1;
    invite_api(f, "bot@example.com", "Integration", NULL);
    invite_person(f, "pat@example.com", "Console", NULL);
    return 0;
}

/* --- helpers ----------------------------------------------------------------- */

/* everything limits are made of, as one text: settings and user_limits rows, and the
 * change feed's head (so that "nothing written" is checked, not only "same values") */
static const char *limits_state(lk_fixture *f)
{
    return lk_fixture_text(f, "SELECT group_concat(x, ';') FROM ("
                              " SELECT key || '=' || value || '@' || updated_at AS x FROM settings"
                              " UNION ALL SELECT 'u' || user_id || ':' || rate_calls || '/' || rate_seconds || ','"
                              "  || daily || ',' || concurrent || '@' || updated_at FROM user_limits"
                              " UNION ALL SELECT 'feed=' || coalesce(max(seq), 0) FROM changes) AS t");
}

static char *limits_state_copy(lk_fixture *f)
{
    return lk_arena_strdup(&f->arena, limits_state(f));
}

/* a refused call: the code, the field, a word of the message, and nothing changed.
 * rc_expr runs with op_ (a fresh op) and out_ (somewhere for the result) in scope. */
#define expect_refused(f, rc_expr, want, field, needle)                                  \
    do {                                                                                 \
        snapshot before_ = snap(f);                                                      \
        char *state_ = limits_state_copy(f);                                             \
        lk_op *op_ = lk_fixture_op(f);                                                   \
        lk_limits out_;                                                                  \
        (void)out_;                                                                      \
        lk_code rc_ = (rc_expr);                                                         \
        expect_err(op_, rc_, want, field, needle);                                       \
        expect_unchanged(f, before_);                                                    \
        assert_string_equal(limits_state(f), state_);                                    \
    } while (0)

static lk_limits instance(lk_fixture *f)
{
    lk_limits l;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_limits_instance(op, &l));
    return l;
}

static lk_limits set(lk_fixture *f, const char *user, lk_limits_change ch)
{
    lk_limits l;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_limits_set(op, user, &ch, &l));
    return l;
}

static void expect_limits(const lk_limits *l, int64_t calls, int64_t seconds, int64_t daily, int64_t concurrent)
{
    assert_int_equal(l->rate_calls, calls);
    assert_int_equal(l->rate_seconds, seconds);
    assert_int_equal(l->daily, daily);
    assert_int_equal(l->concurrent, concurrent);
}

static void expect_details(json_t *d, int64_t calls, int64_t seconds, int64_t daily, int64_t concurrent)
{
    assert_int_equal(json_integer_value(json_object_get(d, "rateCalls")), calls);
    assert_int_equal(json_integer_value(json_object_get(d, "rateSeconds")), seconds);
    assert_int_equal(json_integer_value(json_object_get(d, "daily")), daily);
    assert_int_equal(json_integer_value(json_object_get(d, "concurrent")), concurrent);
    assert_int_equal(json_object_size(d), 4);
    json_decref(d);
}

static lk_user_limits *users(lk_fixture *f, size_t *n)
{
    lk_user_limits *u = NULL;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_limits_users(op, &u, n));
    return u;
}

/* --- the instance -------------------------------------------------------------- */

static void instance_defaults(void **state)
{
    lk_fixture *f = *state;
    lk_limits l = instance(f);
    expect_limits(&l, 100, 20, 50000, 10);
    size_t n = 99;
    users(f, &n);
    assert_int_equal(n, 0);
}

static void instance_changes(void **state)
{
    lk_fixture *f = *state;
    long ev = lk_fixture_count(f, "audit_events");
    lk_limits l = set(f, NULL, (lk_limits_change){.set_daily = true, .daily = 1000});
    expect_limits(&l, 100, 20, 1000, 10);
    expect_details(expect_audit(f, ev, "Web Services", "Edit Limits", "instance"), 100, 20, 1000, 10);
    l = instance(f);
    expect_limits(&l, 100, 20, 1000, 10);

    /* several at once: one event */
    ev = lk_fixture_count(f, "audit_events");
    l = set(f, NULL, (lk_limits_change){.set_rate = true, .rate_calls = 50, .rate_seconds = 10,
                                        .set_concurrent = true, .concurrent = 5});
    expect_limits(&l, 50, 10, 1000, 5);
    expect_details(expect_audit(f, ev, "Web Services", "Edit Limits", "instance"), 50, 10, 1000, 5);

    /* 0 removes a limit; a rate is removed as 0 calls per 0 seconds */
    ev = lk_fixture_count(f, "audit_events");
    l = set(f, NULL, (lk_limits_change){.set_rate = true, .set_daily = true, .set_concurrent = true});
    expect_limits(&l, 0, 0, 0, 0);
    expect_details(expect_audit(f, ev, "Web Services", "Edit Limits", "instance"), 0, 0, 0, 0);
    l = instance(f);
    expect_limits(&l, 0, 0, 0, 0);

    /* the largest values */
    l = set(f, NULL, (lk_limits_change){.set_rate = true, .rate_calls = LK_LIMIT_RATE_CALLS_MAX,
                                        .rate_seconds = LK_LIMIT_RATE_SECONDS_MAX, .set_daily = true,
                                        .daily = LK_LIMIT_DAILY_MAX, .set_concurrent = true,
                                        .concurrent = LK_LIMIT_CONCURRENT_MAX});
    expect_limits(&l, LK_LIMIT_RATE_CALLS_MAX, LK_LIMIT_RATE_SECONDS_MAX, LK_LIMIT_DAILY_MAX,
                  LK_LIMIT_CONCURRENT_MAX);
    l = instance(f);
    expect_limits(&l, LK_LIMIT_RATE_CALLS_MAX, LK_LIMIT_RATE_SECONDS_MAX, LK_LIMIT_DAILY_MAX,
                  LK_LIMIT_CONCURRENT_MAX);
}

/* the same values again write nothing: no setting, no event, no row in the change feed */
static void instance_noop(void **state)
{
    lk_fixture *f = *state;
    char *before = limits_state_copy(f);
    long ev = lk_fixture_count(f, "audit_events");
    lk_limits l = set(f, NULL, (lk_limits_change){.set_rate = true, .rate_calls = 100, .rate_seconds = 20,
                                                  .set_daily = true, .daily = 50000});
    expect_limits(&l, 100, 20, 50000, 10);
    assert_int_equal(lk_fixture_count(f, "audit_events"), ev);
    assert_string_equal(limits_state(f), before);

    /* only what changed is written */
    set(f, NULL, (lk_limits_change){.set_daily = true, .daily = 7, .set_concurrent = true, .concurrent = 10});
    assert_non_null(strstr(limits_state(f), "limits.concurrent=10@"));
    assert_non_null(strstr(limits_state(f), "limits.daily=7@"));
}

static void bounds_and_rates(void **state)
{
    lk_fixture *f = *state;
    lk_limits_change ch;

    ch = (lk_limits_change){0};
    expect_refused(f, lk_limits_set(op_, NULL, &ch, &out_), LK_EINVAL, "limits", "nothing to change");
    expect_refused(f, lk_limits_set(op_, NULL, NULL, &out_), LK_EINVAL, "limits", "nothing to change");

    /* a rate needs both halves, or neither */
    ch = (lk_limits_change){.set_rate = true, .rate_calls = 100, .rate_seconds = 0};
    expect_refused(f, lk_limits_set(op_, NULL, &ch, &out_), LK_EINVAL, "rate", "both");
    ch = (lk_limits_change){.set_rate = true, .rate_calls = 0, .rate_seconds = 20};
    expect_refused(f, lk_limits_set(op_, NULL, &ch, &out_), LK_EINVAL, "rate", "both");
    ch = (lk_limits_change){.set_rate = true, .rate_calls = -1, .rate_seconds = 20};
    expect_refused(f, lk_limits_set(op_, NULL, &ch, &out_), LK_EINVAL, "rate", "-1");
    ch = (lk_limits_change){.set_rate = true, .rate_calls = LK_LIMIT_RATE_CALLS_MAX + 1, .rate_seconds = 20};
    expect_refused(f, lk_limits_set(op_, NULL, &ch, &out_), LK_EINVAL, "rate", "1000000");
    ch = (lk_limits_change){.set_rate = true, .rate_calls = 10, .rate_seconds = LK_LIMIT_RATE_SECONDS_MAX + 1};
    expect_refused(f, lk_limits_set(op_, NULL, &ch, &out_), LK_EINVAL, "rate", "86400");

    ch = (lk_limits_change){.set_daily = true, .daily = LK_LIMIT_DAILY_MAX + 1};
    expect_refused(f, lk_limits_set(op_, NULL, &ch, &out_), LK_EINVAL, "daily", "1000000000");
    ch = (lk_limits_change){.set_daily = true, .daily = -5};
    expect_refused(f, lk_limits_set(op_, NULL, &ch, &out_), LK_EINVAL, "daily", "-5");
    ch = (lk_limits_change){.set_concurrent = true, .concurrent = LK_LIMIT_CONCURRENT_MAX + 1};
    expect_refused(f, lk_limits_set(op_, NULL, &ch, &out_), LK_EINVAL, "concurrent", "10000");
    ch = (lk_limits_change){.set_concurrent = true, .concurrent = -1};
    expect_refused(f, lk_limits_set(op_, "bot@example.com", &ch, &out_), LK_EINVAL, "concurrent", "-1");

    /* one bad part refuses the whole change */
    ch = (lk_limits_change){.set_daily = true, .daily = 5, .set_concurrent = true, .concurrent = -1};
    expect_refused(f, lk_limits_set(op_, NULL, &ch, &out_), LK_EINVAL, "concurrent", NULL);

    /* parts not flagged are not looked at */
    lk_limits l = set(f, NULL, (lk_limits_change){.set_daily = true, .daily = 9, .rate_calls = -7,
                                                  .concurrent = -7});
    expect_limits(&l, 100, 20, 9, 10);
}

/* the settings the instance's limits live in */
static void settings_read(void **state)
{
    lk_fixture *f = *state;
    set(f, NULL, (lk_limits_change){.set_daily = true, .daily = 1234});
    lk_op *op = lk_fixture_op(f);
    const char *v = NULL;
    expect_ok(op, f->store->ops->setting_get(f->store, &f->arena, "limits.daily", &v, &op->err));
    assert_string_equal(v, "1234");

    /* a missing key reads as its default; a broken one is a storage problem */
    lk_fixture_exec(f, "DELETE FROM settings WHERE key = 'limits.concurrent'");
    lk_limits l = instance(f);
    expect_limits(&l, 100, 20, 1234, 10);
    lk_fixture_exec(f, "UPDATE settings SET value = 'lots' WHERE key = 'limits.daily'");
    op = lk_fixture_op(f);
    expect_err(op, lk_limits_instance(op, &l), LK_ESTORE, NULL, "limits.daily");
}

/* --- API-only users -------------------------------------------------------------- */

static void user_limits(void **state)
{
    lk_fixture *f = *state;
    long ev = lk_fixture_count(f, "audit_events");
    lk_limits l = set(f, "BOT@example.com", (lk_limits_change){.set_rate = true, .rate_calls = 10,
                                                               .rate_seconds = 1});
    expect_limits(&l, 10, 1, 0, 0);
    expect_details(expect_audit(f, ev, "Web Services", "Edit Limits", "bot@example.com"), 10, 1, 0, 0);
    size_t n;
    lk_user_limits *u = users(f, &n);
    assert_int_equal(n, 1);
    assert_string_equal(u[0].user_email, "bot@example.com");
    expect_limits(&u[0].limits, 10, 1, 0, 0);
    assert_int_equal(u[0].updated_at, f->op.now);
    /* the instance is untouched */
    lk_limits i = instance(f);
    expect_limits(&i, 100, 20, 50000, 10);

    /* a partial change keeps the rest */
    ev = lk_fixture_count(f, "audit_events");
    l = set(f, "bot@example.com", (lk_limits_change){.set_daily = true, .daily = 500});
    expect_limits(&l, 10, 1, 500, 0);
    expect_details(expect_audit(f, ev, "Web Services", "Edit Limits", "bot@example.com"), 10, 1, 500, 0);

    /* the same again: nothing written */
    char *before = limits_state_copy(f);
    ev = lk_fixture_count(f, "audit_events");
    l = set(f, "bot@example.com", (lk_limits_change){.set_daily = true, .daily = 500});
    expect_limits(&l, 10, 1, 500, 0);
    assert_int_equal(lk_fixture_count(f, "audit_events"), ev);
    assert_string_equal(limits_state(f), before);

    /* every limit removed: the user has none of their own any more */
    l = set(f, "bot@example.com", (lk_limits_change){.set_rate = true});
    expect_limits(&l, 0, 0, 500, 0);
    ev = lk_fixture_count(f, "audit_events");
    l = set(f, "bot@example.com", (lk_limits_change){.set_daily = true});
    expect_limits(&l, 0, 0, 0, 0);
    expect_details(expect_audit(f, ev, "Web Services", "Edit Limits", "bot@example.com"), 0, 0, 0, 0);
    users(f, &n);
    assert_int_equal(n, 0);
    assert_int_equal(lk_fixture_count(f, "user_limits"), 0);

    /* removing what is not there is a no-op */
    ev = lk_fixture_count(f, "audit_events");
    before = limits_state_copy(f);
    set(f, "bot@example.com", (lk_limits_change){.set_concurrent = true});
    assert_int_equal(lk_fixture_count(f, "audit_events"), ev);
    assert_string_equal(limits_state(f), before);
}

static void user_refusals(void **state)
{
    lk_fixture *f = *state;
    lk_limits_change ch = {.set_daily = true, .daily = 10};
    expect_refused(f, lk_limits_set(op_, "pat@example.com", &ch, &out_), LK_ERULE, "user", "pat@example.com");
    expect_refused(f, lk_limits_set(op_, "pat@example.com", &ch, &out_), LK_ERULE, "user", "API-only");
    expect_refused(f, lk_limits_set(op_, "ghost@example.com", &ch, &out_), LK_ENOTFOUND, "user",
                   "ghost@example.com");
    expect_refused(f, lk_limits_set(op_, "", &ch, &out_), LK_EINVAL, "user", NULL);
    /* checks of the values come first, whoever the user */
    ch = (lk_limits_change){.set_rate = true, .rate_calls = 5};
    expect_refused(f, lk_limits_set(op_, "ghost@example.com", &ch, &out_), LK_EINVAL, "rate", NULL);
}

/* several users, ordered by id; a user's limits go with the user */
static void users_listed_and_deleted(void **state)
{
    lk_fixture *f = *state;
    invite_api(f, "second@example.com", "Integration", NULL);
    set(f, "second@example.com", (lk_limits_change){.set_concurrent = true, .concurrent = 2});
    set(f, "bot@example.com", (lk_limits_change){.set_daily = true, .daily = 3});
    size_t n;
    lk_user_limits *u = users(f, &n);
    assert_int_equal(n, 2);
    assert_string_equal(u[0].user_email, "bot@example.com");
    expect_limits(&u[0].limits, 0, 0, 3, 0);
    assert_string_equal(u[1].user_email, "second@example.com");
    expect_limits(&u[1].limits, 0, 0, 0, 2);

    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_delete(op, "second@example.com"));
    u = users(f, &n);
    assert_int_equal(n, 1);
    assert_string_equal(u[0].user_email, "bot@example.com");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, lk_fixture_teardown)
        T(instance_defaults),
        T(instance_changes),
        T(instance_noop),
        T(bounds_and_rates),
        T(settings_read),
        T(user_limits),
        T(user_refusals),
        T(users_listed_and_deleted),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
