/*
 * limiter — counts of one scope under one mutex: a rolling window of per-second
 * buckets, the day's count, and the calls in flight.
 *
 * Window invariants (when ring != NULL):
 * - ring has `window` buckets; the bucket of second s is ring[s % window], and it
 *   holds the calls of the latest second s' <= head that maps to it, provided
 *   s' > head - window (older seconds have been cleared by lk_limiter_advance).
 * - in_window is the sum of all buckets: the calls made in (head - window, head].
 * - oldest <= every second in the window whose bucket is non-zero; it only moves
 *   forward, so finding the oldest counted call costs O(1) amortised.
 * The ring is allocated on first use at the size of the window in force; a change
 * of window frees it and starts counting again (a rare admin action).
 *
 * Time never runs backwards here: a call at an earlier second than one already
 * seen counts in the latest second, and a call of an earlier day counts in the
 * latest day (threads may race around midnight; the count must not reset twice).
 *
 * The daily count and the in-flight count run whether or not a limit of that kind
 * is set, so that setting one later starts from the truth; the window runs only
 * while a rate limit is set. In lk_limit_status, a kind without a limit reads 0.
 */
#include "runtime/limiter.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/limits.h"
#include "util/xalloc.h"

struct lk_limiter {
    pthread_mutex_t mu;
    uint32_t *ring;          /* owned; NULL until a rate limit is in force */
    int64_t window;          /* seconds, size of ring */
    int64_t head;            /* latest second counted */
    int64_t oldest;          /* lower bound of the oldest non-empty second */
    int64_t in_window;       /* calls in (head - window, head] */
    int64_t day;             /* the day daily_count belongs to */
    int64_t daily_count;
    int64_t in_flight;       /* admitted calls not yet left */
};

lk_limiter *lk_limiter_new(void)
{
    lk_limiter *l = lk_xcalloc(1, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    l->day = INT64_MIN;
    return l;
}

void lk_limiter_free(lk_limiter *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->mu);
    free(l->ring);
    free(l);
}

static size_t lk_limiter_slot(const lk_limiter *l, int64_t sec)
{
    int64_t r = sec % l->window;
    return (size_t)(r < 0 ? r + l->window : r);
}

/* a ring for `window` seconds, empty, starting at now */
static void lk_limiter_reset_window(lk_limiter *l, int64_t window, int64_t now)
{
    free(l->ring);
    l->ring = lk_xcalloc((size_t)window, sizeof *l->ring);
    l->window = window;
    l->head = now;
    l->oldest = now;
    l->in_window = 0;
}

/* moves head to now, dropping the seconds that leave the window */
static void lk_limiter_advance(lk_limiter *l, int64_t now)
{
    if (now <= l->head)
        return;
    if (now - l->head >= l->window) {
        for (int64_t i = 0; i < l->window && l->in_window > 0; i++) {
            l->in_window -= l->ring[i];
            l->ring[i] = 0;
        }
        l->in_window = 0;
    } else {
        for (int64_t s = l->head + 1; s <= now; s++) {
            size_t k = lk_limiter_slot(l, s);
            l->in_window -= l->ring[k];
            l->ring[k] = 0;
        }
    }
    l->head = now;
    if (l->oldest < now - l->window + 1)
        l->oldest = now - l->window + 1;
}

/* seconds until the oldest counted call leaves the window; 0 if none */
static int64_t lk_limiter_rate_reset(lk_limiter *l)
{
    if (l->in_window == 0) {
        l->oldest = l->head;
        return 0;
    }
    while (l->ring[lk_limiter_slot(l, l->oldest)] == 0)
        l->oldest++; /* terminates: some second in [oldest, head] holds a call */
    return l->oldest + l->window - l->head;
}

static int64_t lk_limiter_remaining(int64_t limit, int64_t used)
{
    return limit > used ? limit - used : 0;
}

lk_limit_verdict lk_limiter_enter(lk_limiter *l, const lk_limits *lim, int64_t now, int64_t day,
                                  lk_limit_status *st)
{
    int64_t window = lim->rate_seconds;
    if (window > LK_LIMIT_RATE_SECONDS_MAX)
        window = LK_LIMIT_RATE_SECONDS_MAX;
    bool rate_on = lim->rate_calls > 0 && window > 0;

    pthread_mutex_lock(&l->mu);
    lk_limit_verdict v = LK_LIMIT_OK;
    if (lim->concurrent > 0 && l->in_flight >= lim->concurrent)
        v = LK_LIMIT_CONCURRENT;

    if (rate_on) {
        if (!l->ring || l->window != window)
            lk_limiter_reset_window(l, window, now);
        lk_limiter_advance(l, now);
        if (v == LK_LIMIT_OK && l->in_window >= lim->rate_calls)
            v = LK_LIMIT_RATE;
        size_t k = lk_limiter_slot(l, l->head);
        if (l->ring[k] < UINT32_MAX) {
            l->ring[k]++;
            l->in_window++;
        }
        if (l->oldest > l->head)
            l->oldest = l->head;
    } else if (l->ring) {
        free(l->ring); /* no rate limit any more: a new one starts from nothing */
        l->ring = NULL;
        l->window = 0;
        l->in_window = 0;
    }

    if (day > l->day) {
        l->day = day;
        l->daily_count = 0;
    }
    if (v == LK_LIMIT_OK && lim->daily > 0 && l->daily_count >= lim->daily)
        v = LK_LIMIT_DAILY;
    l->daily_count++;

    if (v == LK_LIMIT_OK)
        l->in_flight++;

    if (st) {
        *st = (lk_limit_status){0};
        if (rate_on) {
            st->rate_limit = lim->rate_calls;
            st->rate_window = window;
            st->rate_remaining = lk_limiter_remaining(lim->rate_calls, l->in_window);
            st->rate_reset = lk_limiter_rate_reset(l);
        }
        if (lim->daily > 0) {
            st->daily_limit = lim->daily;
            st->daily_remaining = lk_limiter_remaining(lim->daily, l->daily_count);
        }
    }
    pthread_mutex_unlock(&l->mu);
    return v;
}

void lk_limiter_leave(lk_limiter *l)
{
    pthread_mutex_lock(&l->mu);
    if (l->in_flight > 0)
        l->in_flight--;
    pthread_mutex_unlock(&l->mu);
}

void lk_limiter_leave_uncounted(lk_limiter *l, int64_t at, int64_t day)
{
    pthread_mutex_lock(&l->mu);
    if (l->in_flight > 0)
        l->in_flight--;
    if (l->ring && at <= l->head && at > l->head - l->window) {
        size_t k = lk_limiter_slot(l, at);
        if (l->ring[k] > 0) {
            l->ring[k]--;
            l->in_window--;
        }
    }
    if (day == l->day && l->daily_count > 0)
        l->daily_count--;
    pthread_mutex_unlock(&l->mu);
}

void lk_limiter_set_daily(lk_limiter *l, int64_t day, int64_t count)
{
    pthread_mutex_lock(&l->mu);
    l->day = day;
    l->daily_count = count < 0 ? 0 : count;
    pthread_mutex_unlock(&l->mu);
}
