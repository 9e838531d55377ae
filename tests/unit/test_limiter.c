/*
 * test_limiter — the limits of one scope (runtime/limiter.h): the rolling window at
 * its exact boundaries, the daily quota and its reset, calls in flight, the order of
 * the verdicts, counting of rejected calls, limits of 0, a change of window, and
 * the status used for the RateLimit headers. Needs no store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runtime/limiter.h"

#include <pthread.h>
#include <stdlib.h>

#define T0 1700000000
#define DAY0 19675

static const lk_limits marketo = {.rate_calls = 100, .rate_seconds = 20, .daily = 50000, .concurrent = 10};

/* enter and leave at once: a call that is not in flight afterwards */
static lk_limit_verdict call(lk_limiter *l, const lk_limits *lim, int64_t now, int64_t day,
                             lk_limit_status *st)
{
    lk_limit_verdict v = lk_limiter_enter(l, lim, now, day, st);
    if (v == LK_LIMIT_OK)
        lk_limiter_leave(l);
    return v;
}

static void the_101st_call_in_20_seconds_is_refused(void **state)
{
    (void)state;
    lk_limiter *l = lk_limiter_new();
    lk_limit_status st;
    for (int i = 0; i < 100; i++) {
        /* spread over the window: calls at T0 .. T0+19 */
        assert_int_equal(call(l, &marketo, T0 + i / 5, DAY0, &st), LK_LIMIT_OK);
        assert_int_equal(st.rate_remaining, 100 - (i + 1));
    }
    assert_int_equal(st.rate_limit, 100);
    assert_int_equal(st.rate_window, 20);
    assert_int_equal(st.rate_reset, 1);                    /* the calls of T0 leave at T0+20 */
    assert_int_equal(call(l, &marketo, T0 + 19, DAY0, &st), LK_LIMIT_RATE);
    assert_int_equal(st.rate_remaining, 0);
    /* at T0+20 the 5 calls of T0 have left the window; the refused call (T0+19) still counts */
    assert_int_equal(call(l, &marketo, T0 + 20, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(call(l, &marketo, T0 + 20, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(call(l, &marketo, T0 + 20, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(call(l, &marketo, T0 + 20, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(call(l, &marketo, T0 + 20, DAY0, &st), LK_LIMIT_RATE);
    assert_int_equal(st.rate_remaining, 0);
    assert_int_equal(st.rate_reset, 1);                    /* T0+1's calls leave at T0+21 */
    lk_limiter_free(l);
}

static void the_first_call_leaves_the_window_at_now_plus_window(void **state)
{
    (void)state;
    lk_limiter *l = lk_limiter_new();
    lk_limits lim = {.rate_calls = 2, .rate_seconds = 20};
    lk_limit_status st;
    assert_int_equal(call(l, &lim, T0, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.rate_reset, 20);
    assert_int_equal(call(l, &lim, T0 + 5, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.rate_reset, 15);
    assert_int_equal(st.rate_remaining, 0);
    assert_int_equal(call(l, &lim, T0 + 19, DAY0, &st), LK_LIMIT_RATE);
    assert_int_equal(st.rate_reset, 1);
    /* T0's call has left; T0+5's and T0+19's (refused, but counted) remain */
    assert_int_equal(call(l, &lim, T0 + 20, DAY0, &st), LK_LIMIT_RATE);
    assert_int_equal(st.rate_reset, 5);
    assert_int_equal(call(l, &lim, T0 + 25, DAY0, &st), LK_LIMIT_RATE); /* 19, 20 still in */
    assert_int_equal(st.rate_reset, 14);
    /* a long silence empties the window */
    assert_int_equal(call(l, &lim, T0 + 1000, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.rate_remaining, 1);
    assert_int_equal(st.rate_reset, 20);
    lk_limiter_free(l);
}

/* the status is the state after the call, the call included */
static void the_status_includes_the_call(void **state)
{
    (void)state;
    lk_limiter *l = lk_limiter_new();
    lk_limits lim = {.rate_calls = 10, .rate_seconds = 3};
    lk_limit_status st;
    assert_int_equal(call(l, &lim, T0, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.rate_remaining, 9);
    assert_int_equal(st.rate_reset, 3);
    /* at T0+3 the call of T0 has left: the window holds only the new call */
    assert_int_equal(call(l, &lim, T0 + 3, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.rate_remaining, 9);
    assert_int_equal(st.rate_reset, 3);
    /* no rate limit: the fields are 0 */
    lk_limits none = {0};
    assert_int_equal(call(l, &none, T0 + 4, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.rate_limit, 0);
    assert_int_equal(st.rate_window, 0);
    assert_int_equal(st.rate_remaining, 0);
    assert_int_equal(st.rate_reset, 0);
    lk_limiter_free(l);
}

static void daily_quota_and_its_reset(void **state)
{
    (void)state;
    lk_limiter *l = lk_limiter_new();
    lk_limits lim = {.daily = 3};
    lk_limit_status st;
    assert_int_equal(call(l, &lim, T0, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.daily_limit, 3);
    assert_int_equal(st.daily_remaining, 2);
    assert_int_equal(st.daily_reset, 0);                   /* the caller fills it */
    assert_int_equal(call(l, &lim, T0 + 1, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(call(l, &lim, T0 + 2, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.daily_remaining, 0);
    assert_int_equal(call(l, &lim, T0 + 3, DAY0, &st), LK_LIMIT_DAILY);
    assert_int_equal(st.daily_remaining, 0);               /* never negative */
    assert_int_equal(call(l, &lim, T0 + 4, DAY0, &st), LK_LIMIT_DAILY);
    /* a new day starts from zero */
    assert_int_equal(call(l, &lim, T0 + 5, DAY0 + 1, &st), LK_LIMIT_OK);
    assert_int_equal(st.daily_remaining, 2);
    /* a straggler of the previous day counts in the new one and resets nothing */
    assert_int_equal(call(l, &lim, T0 + 5, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.daily_remaining, 1);
    assert_int_equal(call(l, &lim, T0 + 6, DAY0 + 1, &st), LK_LIMIT_OK);
    assert_int_equal(call(l, &lim, T0 + 7, DAY0 + 1, &st), LK_LIMIT_DAILY);
    lk_limiter_free(l);
}

static void set_daily_restores_the_count_at_start(void **state)
{
    (void)state;
    lk_limiter *l = lk_limiter_new();
    lk_limits lim = {.daily = 100};
    lk_limiter_set_daily(l, DAY0, 98);
    lk_limit_status st;
    assert_int_equal(call(l, &lim, T0, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.daily_remaining, 1);
    assert_int_equal(call(l, &lim, T0, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(call(l, &lim, T0, DAY0, &st), LK_LIMIT_DAILY);
    /* a count from an earlier day is dropped when today begins */
    lk_limiter_set_daily(l, DAY0 - 1, 1000);
    assert_int_equal(call(l, &lim, T0, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.daily_remaining, 99);
    lk_limiter_free(l);
}

/* an answer that turns out not to count (611) gives its place back */
static void an_uncounted_call_leaves_no_trace(void **state)
{
    (void)state;
    lk_limiter *l = lk_limiter_new();
    lk_limits lim = {.rate_calls = 2, .rate_seconds = 60, .daily = 3, .concurrent = 1};
    lk_limit_status st;
    assert_int_equal(call(l, &lim, T0, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(lk_limiter_enter(l, &lim, T0 + 1, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.rate_remaining, 0);
    lk_limiter_leave_uncounted(l, T0 + 1, DAY0);
    /* in flight no more, and the window and the day have room again */
    assert_int_equal(lk_limiter_enter(l, &lim, T0 + 2, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.rate_remaining, 0);
    assert_int_equal(st.daily_remaining, 1);
    lk_limiter_leave(l);
    /* a call already out of the window or of an earlier day changes nothing */
    lk_limiter_leave_uncounted(l, T0 - 100, DAY0 - 1);
    assert_int_equal(call(l, &lim, T0 + 3, DAY0, &st), LK_LIMIT_RATE);
    lk_limiter_free(l);
}

/* a call that leaves the calls in flight early (a user management call while it waits
 * for the store worker) stays counted; uncounted later, it leaves no trace */
static void a_parked_call_frees_its_place_and_stays_counted(void **state)
{
    (void)state;
    lk_limiter *l = lk_limiter_new();
    lk_limits lim = {.rate_calls = 2, .rate_seconds = 60, .daily = 2, .concurrent = 1};
    lk_limit_status st;
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, &st), LK_LIMIT_OK);
    lk_limiter_leave(l); /* parked */
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, &st), LK_LIMIT_OK); /* its place is free */
    assert_int_equal(st.rate_remaining, 0);
    assert_int_equal(st.daily_remaining, 0);
    lk_limiter_uncount(l, T0, DAY0); /* the parked call's answer did not count (611) */
    lk_limiter_leave(l);
    assert_int_equal(lk_limiter_enter(l, &lim, T0 + 1, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.rate_remaining, 0);
    assert_int_equal(st.daily_remaining, 0);
    lk_limiter_leave(l);
    lk_limiter_free(l);
}

static void calls_in_flight(void **state)
{
    (void)state;
    lk_limiter *l = lk_limiter_new();
    lk_limits lim = {.concurrent = 2};
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, NULL), LK_LIMIT_OK);
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, NULL), LK_LIMIT_OK);
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, NULL), LK_LIMIT_CONCURRENT); /* not in flight */
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, NULL), LK_LIMIT_CONCURRENT);
    lk_limiter_leave(l);
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, NULL), LK_LIMIT_OK);
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, NULL), LK_LIMIT_CONCURRENT);
    lk_limiter_leave(l);
    lk_limiter_leave(l);
    lk_limiter_leave(l);                                   /* one too many: harmless */
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, NULL), LK_LIMIT_OK);
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, NULL), LK_LIMIT_OK);
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, NULL), LK_LIMIT_CONCURRENT);
    lk_limiter_free(l);
}

static void verdicts_come_in_order_and_every_call_counts(void **state)
{
    (void)state;
    lk_limiter *l = lk_limiter_new();
    lk_limits lim = {.rate_calls = 3, .rate_seconds = 10, .daily = 4, .concurrent = 1};
    lk_limit_status st;
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, &st), LK_LIMIT_OK);    /* in flight */
    /* concurrency first, though the window and the day are not full; it still counts */
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, &st), LK_LIMIT_CONCURRENT);
    assert_int_equal(st.rate_remaining, 1);
    assert_int_equal(st.daily_remaining, 2);
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, &st), LK_LIMIT_CONCURRENT);
    assert_int_equal(st.rate_remaining, 0);
    /* window full and concurrency full: concurrency wins */
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, &st), LK_LIMIT_CONCURRENT);
    assert_int_equal(st.daily_remaining, 0);
    lk_limiter_leave(l);
    /* window full and day full: rate wins */
    assert_int_equal(lk_limiter_enter(l, &lim, T0 + 1, DAY0, &st), LK_LIMIT_RATE);
    /* window empty again, day still full */
    assert_int_equal(lk_limiter_enter(l, &lim, T0 + 20, DAY0, &st), LK_LIMIT_DAILY);
    assert_int_equal(st.rate_remaining, 2);
    /* refusals are not in flight: the next day's call is admitted */
    assert_int_equal(lk_limiter_enter(l, &lim, T0 + 40, DAY0 + 1, &st), LK_LIMIT_OK);
    lk_limiter_free(l);
}

static void limits_of_zero_mean_none(void **state)
{
    (void)state;
    lk_limiter *l = lk_limiter_new();
    lk_limits none = {0};
    lk_limit_status st;
    for (int i = 0; i < 100000; i++)
        assert_int_equal(lk_limiter_enter(l, &none, T0, DAY0, &st), LK_LIMIT_OK); /* all in flight */
    assert_int_equal(st.daily_limit, 0);
    assert_int_equal(st.daily_remaining, 0);
    /* a rate of N per 0 seconds, or 0 per N seconds, is no limit either */
    lk_limits half1 = {.rate_calls = 1, .rate_seconds = 0};
    lk_limits half2 = {.rate_calls = 0, .rate_seconds = 20};
    assert_int_equal(call(l, &half1, T0, DAY0, NULL), LK_LIMIT_OK);
    assert_int_equal(call(l, &half1, T0, DAY0, NULL), LK_LIMIT_OK);
    assert_int_equal(call(l, &half2, T0, DAY0, NULL), LK_LIMIT_OK);
    /* the daily count kept running while no quota was set */
    lk_limits daily = {.daily = 100003};
    assert_int_equal(call(l, &daily, T0, DAY0, &st), LK_LIMIT_DAILY);
    lk_limiter_free(l);
}

static void a_window_change_starts_afresh(void **state)
{
    (void)state;
    lk_limiter *l = lk_limiter_new();
    lk_limits a = {.rate_calls = 2, .rate_seconds = 20};
    lk_limits b = {.rate_calls = 2, .rate_seconds = 60};
    lk_limit_status st;
    assert_int_equal(call(l, &a, T0, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(call(l, &a, T0, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(call(l, &a, T0, DAY0, &st), LK_LIMIT_RATE);
    assert_int_equal(call(l, &b, T0 + 1, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.rate_window, 60);
    assert_int_equal(st.rate_remaining, 1);
    assert_int_equal(st.rate_reset, 60);
    assert_int_equal(call(l, &b, T0 + 30, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(call(l, &b, T0 + 59, DAY0, &st), LK_LIMIT_RATE);
    assert_int_equal(st.rate_reset, 2);
    assert_int_equal(call(l, &b, T0 + 61, DAY0, &st), LK_LIMIT_RATE); /* T0+30 and +59 remain */
    /* only the count changes: same window, no reset */
    lk_limits c = {.rate_calls = 10, .rate_seconds = 60};
    assert_int_equal(call(l, &c, T0 + 61, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.rate_remaining, 6);
    /* the largest window, and one beyond it (clamped) */
    lk_limits day = {.rate_calls = 3, .rate_seconds = 86400};
    lk_limits more = {.rate_calls = 3, .rate_seconds = 10 * 86400};
    assert_int_equal(call(l, &day, T0, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(call(l, &day, T0 + 50000, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.rate_reset, 36400);                /* T0's call leaves at T0+86400 */
    assert_int_equal(call(l, &more, T0 + 86399, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.rate_window, 86400);
    assert_int_equal(st.rate_remaining, 0);
    assert_int_equal(st.rate_reset, 1);
    assert_int_equal(call(l, &more, T0 + 86399, DAY0, &st), LK_LIMIT_RATE);
    /* T0's call has left; T0+50000's and the two of T0+86399 fill the window */
    assert_int_equal(call(l, &more, T0 + 86400, DAY0, &st), LK_LIMIT_RATE);
    assert_int_equal(st.rate_reset, 50000);
    lk_limiter_free(l);
}

static void time_running_backwards_counts_in_the_latest_second(void **state)
{
    (void)state;
    lk_limiter *l = lk_limiter_new();
    lk_limits lim = {.rate_calls = 3, .rate_seconds = 10};
    lk_limit_status st;
    assert_int_equal(call(l, &lim, T0 + 5, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(call(l, &lim, T0, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.rate_reset, 10);
    assert_int_equal(call(l, &lim, T0 + 14, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.rate_reset, 1);
    assert_int_equal(call(l, &lim, T0 + 15, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.rate_remaining, 1);
    lk_limiter_free(l);
}

/* four threads hammer one limiter: in flight never passes the limit, the counts add up */
#define THREADS 4
#define CALLS 20000

typedef struct hammer {
    lk_limiter *l;
    lk_limits lim;
    int ok, refused;
} hammer;

static void *hammer_run(void *arg)
{
    hammer *h = arg;
    for (int i = 0; i < CALLS; i++) {
        lk_limit_verdict v = lk_limiter_enter(h->l, &h->lim, T0 + i / 1000, DAY0, NULL);
        if (v == LK_LIMIT_OK) {
            h->ok++;
            lk_limiter_leave(h->l);
        } else {
            h->refused++;
        }
    }
    return NULL;
}

static void threads(void **state)
{
    (void)state;
    lk_limiter *l = lk_limiter_new();
    hammer h[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        h[i] = (hammer){.l = l, .lim = {.concurrent = 2, .daily = 50000}};
        assert_int_equal(pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
    }
    int ok = 0, refused = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += h[i].ok;
        refused += h[i].refused;
    }
    assert_int_equal(ok + refused, THREADS * CALLS);
    /* every call counted in the day: 80,000 entered, the quota stops admissions at 50,000 */
    assert_true(ok <= 50000);
    lk_limits daily = {.daily = THREADS * CALLS + 1};
    lk_limit_status st;
    assert_int_equal(lk_limiter_enter(l, &daily, T0 + 100, DAY0, &st), LK_LIMIT_OK);
    assert_int_equal(st.daily_remaining, 0);               /* so exactly 80,000 were counted */
    lk_limiter_leave(l);
    /* and nothing is left in flight */
    lk_limits one = {.concurrent = 1};
    assert_int_equal(lk_limiter_enter(l, &one, T0 + 100, DAY0, NULL), LK_LIMIT_OK);
    assert_int_equal(lk_limiter_enter(l, &one, T0 + 100, DAY0, NULL), LK_LIMIT_CONCURRENT);
    lk_limiter_free(l);
    lk_limiter_free(NULL);
}

/* ---- several processes (lk_limiter_set_others, lk_limiter_report) ---- */

static int64_t reported(lk_limiter *l, char kind, int64_t bucket)
{
    lk_limit_counts out = {0};
    (void)lk_limiter_report(l, "i", T0 - 100, &out);
    int64_t n = -1;
    for (size_t i = 0; i < out.n; i++)
        if (out.recs[i].kind == kind && out.recs[i].bucket == bucket)
            n = out.recs[i].n;
    free(out.recs);
    return n;
}

static void the_others_counts_are_added(void **state)
{
    (void)state;
    const lk_limits lim = {.rate_calls = 5, .rate_seconds = 20, .daily = 8, .concurrent = 2};
    lk_limiter *l = lk_limiter_new();
    assert_int_equal(call(l, &lim, T0, DAY0, NULL), LK_LIMIT_OK); /* starts the window */
    /* others made 3 calls in the window (one of them before it: ignored) and 6 today */
    const lk_limit_count others[] = {
        {.scope = "i", .kind = 'r', .bucket = T0 - 1, .n = 2},
        {.scope = "i", .kind = 'r', .bucket = T0 - 30, .n = 50},
        {.scope = "i", .kind = 'r', .bucket = T0, .n = 1},
        {.scope = "i", .kind = 'd', .bucket = DAY0, .n = 6},
        {.scope = "i", .kind = 'd', .bucket = DAY0 - 1, .n = 1000},
    };
    lk_limiter_set_others(l, others, 5, DAY0, false);
    lk_limit_status st;
    assert_int_equal(call(l, &lim, T0 + 1, DAY0, &st), LK_LIMIT_OK);    /* 2 mine + 3 theirs */
    assert_int_equal(st.rate_remaining, 0);
    assert_int_equal(st.daily_remaining, 0);                           /* 2 mine + 6 theirs */
    assert_int_equal(call(l, &lim, T0 + 1, DAY0, NULL), LK_LIMIT_RATE);
    /* their calls of T0 - 1 leave the window at T0 + 19: then the day is what refuses */
    assert_int_equal(call(l, &lim, T0 + 19, DAY0, NULL), LK_LIMIT_DAILY);
    /* a new day starts from nothing, theirs too */
    assert_int_equal(call(l, &lim, T0 + 86400, DAY0 + 1, NULL), LK_LIMIT_OK);
    /* calls in flight: theirs take places */
    const lk_limit_count busy[] = {{.scope = "i", .kind = 'c', .bucket = 0, .n = 2}};
    lk_limiter_set_others(l, busy, 1, DAY0 + 1, false);
    assert_int_equal(call(l, &lim, T0 + 86400, DAY0 + 1, NULL), LK_LIMIT_CONCURRENT);
    lk_limiter_set_others(l, NULL, 0, DAY0 + 1, false);                /* they finished (or died) */
    assert_int_equal(call(l, &lim, T0 + 86400, DAY0 + 1, NULL), LK_LIMIT_OK);
    lk_limiter_free(l);
}

static void with_peers_a_slice_between_syncs(void **state)
{
    (void)state;
    const lk_limits lim = {.rate_calls = 100, .rate_seconds = 20, .daily = 0, .concurrent = 0};
    assert_int_equal(lk_limiter_slice(&lim), 5);
    const lk_limits tiny = {.rate_calls = 5, .rate_seconds = 20, .daily = 1000, .concurrent = 10};
    assert_int_equal(lk_limiter_slice(&tiny), 1);   /* the smaller of 5/20 → 1 and 1000/20 → 50 */
    lk_limiter *l = lk_limiter_new();
    lk_limiter_set_others(l, NULL, 0, DAY0, true);
    for (int i = 0; i < 5; i++)
        assert_int_equal(call(l, &lim, T0, DAY0, NULL), LK_LIMIT_OK);
    /* the 6th waits for a sync: refused with 606, and not counted */
    assert_int_equal(call(l, &lim, T0, DAY0, NULL), LK_LIMIT_RATE);
    assert_int_equal(reported(l, 'r', T0), 5);
    assert_int_equal(reported(l, 'd', DAY0), 5);
    /* a sync: the slice starts again */
    lk_limit_counts out = {0};
    int64_t taken = lk_limiter_report(l, "i", T0, &out);
    free(out.recs);
    assert_int_equal(taken, 5);
    lk_limiter_synced(l, taken);
    for (int i = 0; i < 5; i++)
        assert_int_equal(call(l, &lim, T0, DAY0, NULL), LK_LIMIT_OK);
    assert_int_equal(call(l, &lim, T0, DAY0, NULL), LK_LIMIT_RATE);
    /* alone again: no slice */
    lk_limiter_set_others(l, NULL, 0, DAY0, false);
    for (int i = 0; i < 20; i++)
        assert_int_equal(call(l, &lim, T0, DAY0, NULL), LK_LIMIT_OK);
    assert_int_equal(reported(l, 'r', T0), 30);
    lk_limiter_free(l);
}

static void with_peers_calls_in_flight_grow_by_a_slice(void **state)
{
    (void)state;
    const lk_limits lim = {.rate_calls = 0, .rate_seconds = 0, .daily = 0, .concurrent = 40};
    lk_limiter *l = lk_limiter_new();
    lk_limiter_set_others(l, NULL, 0, DAY0, true);
    /* a slice of 40 is 2: two more in flight than at the last report */
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, NULL), LK_LIMIT_OK);
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, NULL), LK_LIMIT_OK);
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, NULL), LK_LIMIT_CONCURRENT);
    assert_int_equal(reported(l, 'c', 0), 2);   /* a report: now 2 + 2 */
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, NULL), LK_LIMIT_OK);
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, NULL), LK_LIMIT_OK);
    assert_int_equal(lk_limiter_enter(l, &lim, T0, DAY0, NULL), LK_LIMIT_CONCURRENT);
    for (int i = 0; i < 4; i++)
        lk_limiter_leave(l);
    lk_limiter_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_101st_call_in_20_seconds_is_refused),
        cmocka_unit_test(the_first_call_leaves_the_window_at_now_plus_window),
        cmocka_unit_test(the_status_includes_the_call),
        cmocka_unit_test(daily_quota_and_its_reset),
        cmocka_unit_test(set_daily_restores_the_count_at_start),
        cmocka_unit_test(calls_in_flight),
        cmocka_unit_test(an_uncounted_call_leaves_no_trace),
        cmocka_unit_test(a_parked_call_frees_its_place_and_stays_counted),
        cmocka_unit_test(verdicts_come_in_order_and_every_call_counts),
        cmocka_unit_test(limits_of_zero_mean_none),
        cmocka_unit_test(a_window_change_starts_afresh),
        cmocka_unit_test(time_running_backwards_counts_in_the_latest_second),
        cmocka_unit_test(threads),
        cmocka_unit_test(the_others_counts_are_added),
        cmocka_unit_test(with_peers_a_slice_between_syncs),
        cmocka_unit_test(with_peers_calls_in_flight_grow_by_a_slice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
