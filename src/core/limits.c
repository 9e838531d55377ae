/*
 * limits — reading and changing the call limits (rules in limits.h).
 *
 * The instance's limits are four settings (the table below says which key holds
 * which field and its default when the key is missing); a user's limits are one
 * row of user_limits, present only while at least one of them is set, so "the
 * users with limits of their own" is exactly the rows there.
 *
 * Invariants: a rate is both a number of calls and a window, or neither (0/0); a
 * per-user limit belongs to an API-only user; a change that leaves every value as
 * it was writes nothing and records no audit event; any other change is one
 * transaction with one "Web Services" / "Edit Limits" event whose details are the
 * scope's limits after the change.
 */
#include "core/limits.h"
#include "core/internal.h"
#include "core/user.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* where each instance limit lives, and its value when the key is missing */
static const struct instance_key {
    const char *key;
    size_t offset;
    int64_t dflt;
} instance_keys[] = {
    {"limits.rate_calls", offsetof(lk_limits, rate_calls), 100},
    {"limits.rate_seconds", offsetof(lk_limits, rate_seconds), 20},
    {"limits.daily", offsetof(lk_limits, daily), 50000},
    {"limits.concurrent", offsetof(lk_limits, concurrent), 10},
};

#define N_INSTANCE_KEYS (sizeof instance_keys / sizeof instance_keys[0])

static int64_t *field_of(lk_limits *l, const struct instance_key *k)
{
    return (int64_t *)((char *)l + k->offset);
}

/* a setting's text as a whole number >= 0 */
static bool parse_value(const char *s, int64_t *out)
{
    if (!s || !*s || strspn(s, "0123456789") != strlen(s))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

lk_code lk_limits_instance(lk_op *op, lk_limits *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < N_INSTANCE_KEYS; i++) {
        const struct instance_key *k = &instance_keys[i];
        const char *value = NULL;
        lk_error err = {0};
        lk_code rc = op->store->ops->setting_get(op->store, op->arena, k->key, &value, &err);
        if (rc == LK_ENOTFOUND) {
            *field_of(out, k) = k->dflt;
            continue;
        }
        if (rc != LK_OK) {
            op->err = err;
            return rc;
        }
        if (!parse_value(value, field_of(out, k)))
            return lk_fail(&op->err, LK_ESTORE, NULL, "the setting %s holds '%.40s', not a whole number",
                           k->key, value);
    }
    return LK_OK;
}

lk_code lk_limits_users(lk_op *op, lk_user_limits **out, size_t *n)
{
    return op->store->ops->user_limits_list(op->store, op->arena, out, n, &op->err);
}

/* --- checks ------------------------------------------------------------------ */

/* bounds of the single-valued limits; 0 always means "no limit" */
static lk_code check_bound(lk_op *op, const char *field, const char *what, int64_t v, int64_t max)
{
    if (v < 0 || v > max)
        return lk_fail(&op->err, LK_EINVAL, field, "%s must be from 0 (no limit) to %lld, not %lld", what,
                       (long long)max, (long long)v);
    return LK_OK;
}

static lk_code check_rate(lk_op *op, int64_t calls, int64_t seconds)
{
    if (calls == 0 && seconds == 0)
        return LK_OK;
    if (calls <= 0 || seconds <= 0)
        return lk_fail(&op->err, LK_EINVAL, "rate",
                       "a rate needs both a number of calls and a number of seconds (e.g. 100 calls "
                       "per 20 seconds), or neither to remove it; got %lld calls per %lld seconds",
                       (long long)calls, (long long)seconds);
    if (calls > LK_LIMIT_RATE_CALLS_MAX)
        return lk_fail(&op->err, LK_EINVAL, "rate", "a rate allows at most %d calls per window, not %lld",
                       LK_LIMIT_RATE_CALLS_MAX, (long long)calls);
    if (seconds > LK_LIMIT_RATE_SECONDS_MAX)
        return lk_fail(&op->err, LK_EINVAL, "rate",
                       "a rate's window is at most %d seconds (a day), not %lld",
                       LK_LIMIT_RATE_SECONDS_MAX, (long long)seconds);
    return LK_OK;
}

static lk_code check_change(lk_op *op, const lk_limits_change *ch)
{
    if (!ch || (!ch->set_rate && !ch->set_daily && !ch->set_concurrent))
        return lk_fail(&op->err, LK_EINVAL, "limits",
                       "nothing to change: give a rate, a daily quota or a concurrency limit");
    lk_code rc = LK_OK;
    if (ch->set_rate)
        rc = check_rate(op, ch->rate_calls, ch->rate_seconds);
    if (rc == LK_OK && ch->set_daily)
        rc = check_bound(op, "daily", "the daily quota", ch->daily, LK_LIMIT_DAILY_MAX);
    if (rc == LK_OK && ch->set_concurrent)
        rc = check_bound(op, "concurrent", "the number of calls in flight", ch->concurrent,
                         LK_LIMIT_CONCURRENT_MAX);
    return rc;
}

static lk_limits apply(lk_limits l, const lk_limits_change *ch)
{
    if (ch->set_rate) {
        l.rate_calls = ch->rate_calls;
        l.rate_seconds = ch->rate_seconds;
    }
    if (ch->set_daily)
        l.daily = ch->daily;
    if (ch->set_concurrent)
        l.concurrent = ch->concurrent;
    return l;
}

static bool same(const lk_limits *a, const lk_limits *b)
{
    return a->rate_calls == b->rate_calls && a->rate_seconds == b->rate_seconds && a->daily == b->daily &&
           a->concurrent == b->concurrent;
}

static json_t *snap_limits(const lk_limits *l)
{
    return json_pack("{s:I, s:I, s:I, s:I}", "rateCalls", (json_int_t)l->rate_calls, "rateSeconds",
                     (json_int_t)l->rate_seconds, "daily", (json_int_t)l->daily, "concurrent",
                     (json_int_t)l->concurrent);
}

/* --- changes (inside the caller's transaction) -------------------------------- */

static lk_code set_instance(lk_op *op, const lk_limits_change *ch, lk_limits *out)
{
    lk_limits cur;
    lk_code rc = lk_limits_instance(op, &cur);
    if (rc != LK_OK)
        return rc;
    lk_limits next = apply(cur, ch);
    *out = next;
    if (same(&cur, &next))
        return LK_OK;
    for (size_t i = 0; i < N_INSTANCE_KEYS && rc == LK_OK; i++) {
        const struct instance_key *k = &instance_keys[i];
        int64_t v = *field_of(&next, k);
        if (v == *field_of(&cur, k))
            continue;
        const char *text = lk_arena_printf(op->arena, "%lld", (long long)v);
        rc = op->store->ops->setting_set(op->store, k->key, text, op->now, &op->err);
    }
    if (rc == LK_OK)
        rc = lk_audit_json(op, "Web Services", "Edit Limits", "instance", snap_limits(&next));
    return rc;
}

static lk_code set_user(lk_op *op, const char *key, const lk_limits_change *ch, lk_limits *out)
{
    lk_user u;
    lk_code rc = lk_user_find(op, key, &u);
    if (rc != LK_OK)
        return rc;
    if (!u.api_only)
        return lk_fail(&op->err, LK_ERULE, "user",
                       "%s is not an API-only user; only API-only users call the REST API, so only "
                       "they can have limits of their own", u.email);
    lk_user_limits *all = NULL;
    size_t n = 0;
    if ((rc = lk_limits_users(op, &all, &n)) != LK_OK)
        return rc;
    lk_limits cur = {0};
    for (size_t i = 0; i < n; i++)
        if (all[i].user_id == u.id)
            cur = all[i].limits;
    lk_limits next = apply(cur, ch);
    *out = next;
    if (same(&cur, &next))
        return LK_OK;
    static const lk_limits none = {0};
    if (same(&next, &none)) {
        rc = op->store->ops->user_limits_delete(op->store, u.id, &op->err);
    } else {
        lk_user_limits row = {.user_id = u.id, .limits = next, .updated_at = op->now};
        rc = op->store->ops->user_limits_set(op->store, &row, &op->err);
    }
    if (rc == LK_OK)
        rc = lk_audit_json(op, "Web Services", "Edit Limits", u.email, snap_limits(&next));
    return rc;
}

lk_code lk_limits_set(lk_op *op, const char *user, const lk_limits_change *change, lk_limits *out)
{
    lk_code rc = check_change(op, change);
    if (rc != LK_OK)
        return rc;
    if ((rc = lk_tx_begin(op)) != LK_OK)
        return rc;
    lk_limits result;
    rc = user ? set_user(op, user, change, &result) : set_instance(op, change, &result);
    rc = lk_tx_end(op, rc);
    if (rc == LK_OK && out)
        *out = result;
    return rc;
}
