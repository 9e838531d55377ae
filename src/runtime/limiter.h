/*
 * limiter — the limits of one scope (the whole instance, or one API user): calls
 * per rolling window (606), calls per day (607), calls in flight (615).
 *
 * The window is rolling at one-second resolution: a call counts for `rate_seconds`
 * seconds after it was made. The day is a number the caller computes in the quota
 * time zone (e.g. days since the epoch of local midnight); when it changes the daily
 * count starts again.
 *
 * An interface with one implementation here, the counts of this process
 * (lk_limiter_new): the functions below call through lk_limiter_ops, so that a
 * limiter whose budget is shared by several processes (slices leased from the
 * store) can take its place without a change to its callers. Thread-safe; nothing
 * is held across I/O.
 */
#ifndef LK_RUNTIME_LIMITER_H
#define LK_RUNTIME_LIMITER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/model.h"
#include <stddef.h>

typedef struct lk_limiter lk_limiter;

typedef enum lk_limit_verdict {
    LK_LIMIT_OK = 0,
    LK_LIMIT_CONCURRENT,     /* 615 */
    LK_LIMIT_RATE,           /* 606 */
    LK_LIMIT_DAILY,          /* 607 */
} lk_limit_verdict;

/* what a client may still do, for the RateLimit headers */
typedef struct lk_limit_status {
    int64_t rate_limit, rate_window, rate_remaining, rate_reset;  /* reset: seconds until a call leaves the window */
    int64_t daily_limit, daily_remaining, daily_reset;            /* daily_reset: filled by the caller */
} lk_limit_status;

/* what an implementation provides (see the functions of the same names below) */
typedef struct lk_limiter_ops {
    lk_limit_verdict (*enter)(lk_limiter *l, const lk_limits *lim, int64_t now, int64_t day, lk_limit_status *st);
    void (*leave)(lk_limiter *l);
    void (*leave_uncounted)(lk_limiter *l, int64_t at, int64_t day);
    void (*uncount)(lk_limiter *l, int64_t at, int64_t day);
    void (*set_daily)(lk_limiter *l, int64_t day, int64_t count);
    void (*free)(lk_limiter *l);
} lk_limiter_ops;

/* every implementation's struct starts with this */
struct lk_limiter {
    const lk_limiter_ops *ops;
};

/* counts in this process only */
lk_limiter *lk_limiter_new(void);
void lk_limiter_free(lk_limiter *l);   /* NULL is fine */

/*
 * A counted call arrives at now (seconds on a clock that never jumps: CLOCK_MONOTONIC,
 * so that setting the wall clock back cannot hold the window full) on day `day`. Checks, in this order,
 * concurrency, rate and daily quota against lim (0 = no limit of that kind).
 * The call is counted in the window and the day whatever the verdict (Marketo
 * counts calls rejected with 606/607/615); on LK_LIMIT_OK it is also in flight
 * until lk_limiter_leave(). st (may be NULL) receives the state after the call.
 */
lk_limit_verdict lk_limiter_enter(lk_limiter *l, const lk_limits *lim, int64_t now, int64_t day,
                                  lk_limit_status *st);
/* the call admitted by lk_limiter_enter() has finished */
void lk_limiter_leave(lk_limiter *l);
/* the same for a call whose answer turned out not to count (611): it leaves the
 * window (if `at`, its entry second, is still in it) and the count of `day` */
void lk_limiter_leave_uncounted(lk_limiter *l, int64_t at, int64_t day);

/* takes a call that has already left (lk_limiter_leave) out of the window and the
 * count of `day`, as lk_limiter_leave_uncounted does for one still in flight */
void lk_limiter_uncount(lk_limiter *l, int64_t at, int64_t day);

/* sets the day's count (at start, from the stored usage of today) */
void lk_limiter_set_daily(lk_limiter *l, int64_t day, int64_t count);

/*
 * Several processes on one database (docs/server.md#limits-across-processes). Each
 * process publishes what it counted of a scope (lk_limiter_report) and learns what the
 * others counted (lk_limiter_set_others) a few times a second; a call is then judged
 * against its own counts plus the others' as last seen. While others are alive, a
 * process admits at most a slice of calls of a scope between two syncs (the smaller of
 * the rate limit's and the daily quota's slices), and lets its calls in flight grow by
 * at most a slice of the concurrency limit, so that what the others have not seen yet
 * is bounded: across P processes, at most the limit plus P slices in any window, day or
 * moment. A slice is 1/LK_LIMITER_SLICE_DIVISOR of its limit, at least 1.
 */
#define LK_LIMITER_SLICE_DIVISOR 20

typedef struct lk_limit_counts {
    lk_limit_count *recs;        /* malloc'd; free(recs) when done */
    size_t n, cap;
} lk_limit_counts;

/* the calls a process may admit between two syncs under lim (0: no rate or daily limit) */
int64_t lk_limiter_slice(const lk_limits *lim);
/* Appends this process's counts of the scope (borrowed string): the calls of each
 * second from from_second on ('r'), of the day ('d'), in flight ('c'). Returns the
 * calls admitted since the last sync, to give to lk_limiter_synced() once the counts
 * are stored. */
int64_t lk_limiter_report(lk_limiter *l, const char *scope, int64_t from_second, lk_limit_counts *out);
void lk_limiter_synced(lk_limiter *l, int64_t taken);
/* the rate window in force (seconds; 0: none) */
int64_t lk_limiter_window(lk_limiter *l);
/* Sets what the other processes counted of the scope (recs of this scope only; day:
 * the current quota day). peers: others are alive, so the slice applies; false (and no
 * recs) makes the scope count alone. */
void lk_limiter_set_others(lk_limiter *l, const lk_limit_count *recs, size_t n, int64_t day, bool peers);

#endif
