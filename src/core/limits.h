/*
 * limits — the call limits an administrator sets: for the whole instance (stored
 * as settings, defaults 100 calls / 20 s, 50,000 a day, 10 in flight) and, where
 * set, for one API user. Every change is audited (area "Web Services").
 */
#ifndef LK_CORE_LIMITS_H
#define LK_CORE_LIMITS_H

#include "core/op.h"

#define LK_LIMIT_RATE_CALLS_MAX 1000000
#define LK_LIMIT_RATE_SECONDS_MAX 86400
#define LK_LIMIT_DAILY_MAX 1000000000
#define LK_LIMIT_CONCURRENT_MAX 10000

/* each part is applied only when its flag is set; a value of 0 removes that limit
 * (for the instance: unlimited; for a user: no limit of the user's own) */
typedef struct lk_limits_change {
    bool set_rate;
    int64_t rate_calls, rate_seconds;
    bool set_daily;
    int64_t daily;
    bool set_concurrent;
    int64_t concurrent;
} lk_limits_change;

lk_code lk_limits_instance(lk_op *op, lk_limits *out);
lk_code lk_limits_users(lk_op *op, lk_user_limits **out, size_t *n);
/* user NULL: the instance; else an API-only user (email or user id) */
lk_code lk_limits_set(lk_op *op, const char *user, const lk_limits_change *change, lk_limits *out);

#endif
