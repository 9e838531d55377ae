/*
 * limiter — the counts of one scope in this process (limiter.h).
 *
 * What a call touches:
 * - calls in flight and the day's count: atomic counters, each on its own cache
 *   line; an admission is a compare-and-swap below the limit, so two threads can
 *   never both take the last place;
 * - the day number: read on every call, changed under `mu` (once a day);
 * - the rolling window, only while a rate limit is set: per-second buckets under
 *   `mu`, held for a few instructions.
 * So a scope without a rate limit takes no lock at all.
 *
 * Window invariants (under mu, when ring != NULL):
 * - ring has `window` buckets; the bucket of second s is ring[s % window], and it
 *   holds the calls of the latest second s' <= head that maps to it, provided
 *   s' > head - window (older seconds have been cleared by advance()).
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
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "util/xalloc.h"

typedef struct local_limiter {
    lk_limiter base;
    _Alignas(64) _Atomic int64_t in_flight;   /* admitted calls not yet left */
    _Alignas(64) _Atomic int64_t daily_count; /* this process's calls of `day` */
    _Atomic int64_t day;                      /* the day daily_count belongs to */
    _Atomic int64_t daily_base;               /* calls of `day` before this process counted */
    /* other processes on the same database (lk_limiter_set_others), as of the last sync */
    _Alignas(64) _Atomic int64_t unsynced;    /* calls admitted since the last sync */
    _Atomic bool peers;                       /* others are alive: the slice applies */
    _Atomic int64_t others_in_flight;
    _Atomic int64_t reported_in_flight;       /* this process's, at the last report */
    _Atomic int64_t others_day;               /* the day others_day_calls belongs to */
    _Atomic int64_t others_day_calls;
    _Atomic bool has_ring;                    /* ring != NULL, readable without mu */
    _Alignas(64) pthread_mutex_t mu;          /* the window; changes of day */
    uint32_t *ring;                           /* owned; NULL until a rate limit is in force */
    int64_t window;                           /* seconds, size of ring */
    int64_t head;                             /* latest second counted */
    int64_t oldest;                           /* lower bound of the oldest non-empty second */
    int64_t in_window;                        /* calls in (head - window, head] */
    int64_t *oring;                           /* the others' calls per second, like ring */
    int64_t others_in_window;                 /* the sum of oring */
} local_limiter;

static local_limiter *local_of(lk_limiter *l)
{
    return (local_limiter *)l;
}

/* ---- the window (mu held) ------------------------------------------------------ */

static size_t slot_of(const local_limiter *l, int64_t sec)
{
    int64_t r = sec % l->window;
    return (size_t)(r < 0 ? r + l->window : r);
}

/* a ring for `window` seconds, empty, starting at now */
static void reset_window(local_limiter *l, int64_t window, int64_t now)
{
    free(l->ring);
    free(l->oring);
    l->ring = lk_xcalloc((size_t)window, sizeof *l->ring);
    l->oring = lk_xcalloc((size_t)window, sizeof *l->oring);
    l->others_in_window = 0;
    l->window = window;
    l->head = now;
    l->oldest = now;
    l->in_window = 0;
    atomic_store(&l->has_ring, true);
}

static void drop_window(local_limiter *l)
{
    free(l->ring);
    free(l->oring);
    l->ring = NULL;
    l->oring = NULL;
    l->others_in_window = 0;
    l->window = 0;
    l->in_window = 0;
    atomic_store(&l->has_ring, false);
}

/* moves head to now, dropping the seconds that leave the window */
static void advance(local_limiter *l, int64_t now)
{
    if (now <= l->head)
        return;
    if (now - l->head >= l->window) {
        memset(l->ring, 0, (size_t)l->window * sizeof *l->ring);
        memset(l->oring, 0, (size_t)l->window * sizeof *l->oring);
        l->in_window = 0;
        l->others_in_window = 0;
    } else {
        for (int64_t s = l->head + 1; s <= now; s++) {
            size_t k = slot_of(l, s);
            l->in_window -= l->ring[k];
            l->ring[k] = 0;
            l->others_in_window -= l->oring[k];
            l->oring[k] = 0;
        }
    }
    l->head = now;
    if (l->oldest < now - l->window + 1)
        l->oldest = now - l->window + 1;
}

/* seconds until the oldest counted call leaves the window; 0 if none */
static int64_t rate_reset(local_limiter *l)
{
    if (l->in_window == 0) {
        l->oldest = l->head;
        return 0;
    }
    while (l->ring[slot_of(l, l->oldest)] == 0)
        l->oldest++; /* terminates: some second in [oldest, head] holds a call */
    return l->oldest + l->window - l->head;
}

static int64_t remaining(int64_t limit, int64_t used)
{
    return limit > used ? limit - used : 0;
}

/* counts the call in the window; true when the window was full before it */
static bool count_in_window(local_limiter *l, const lk_limits *lim, int64_t window, int64_t now,
                            lk_limit_status *st)
{
    pthread_mutex_lock(&l->mu);
    if (!l->ring || l->window != window)
        reset_window(l, window, now);
    advance(l, now);
    bool over = l->in_window + l->others_in_window >= lim->rate_calls;
    size_t k = slot_of(l, l->head);
    if (l->ring[k] < UINT32_MAX) {
        l->ring[k]++;
        l->in_window++;
    }
    if (l->oldest > l->head)
        l->oldest = l->head;
    if (st) {
        st->rate_limit = lim->rate_calls;
        st->rate_window = window;
        st->rate_remaining = remaining(lim->rate_calls, l->in_window + l->others_in_window);
        st->rate_reset = rate_reset(l);
    }
    pthread_mutex_unlock(&l->mu);
    return over;
}

/* ---- the day -------------------------------------------------------------------- */

/* a later day starts the count again (once, whoever sees it first) */
static void enter_day(local_limiter *l, int64_t day)
{
    if (day <= atomic_load_explicit(&l->day, memory_order_acquire))
        return;
    pthread_mutex_lock(&l->mu);
    if (day > atomic_load(&l->day)) {
        atomic_store(&l->daily_count, 0);
        atomic_store(&l->daily_base, 0);
        atomic_store(&l->day, day);
    }
    pthread_mutex_unlock(&l->mu);
}

/* ---- calls in flight -------------------------------------------------------------- */

/* takes a place when there is one (any, without a limit: 0; none: -1) */
static bool admit(local_limiter *l, int64_t limit)
{
    if (limit < 0)
        return false;
    if (limit == 0) {
        atomic_fetch_add(&l->in_flight, 1);
        return true;
    }
    int64_t cur = atomic_load(&l->in_flight);
    while (cur < limit)
        if (atomic_compare_exchange_weak(&l->in_flight, &cur, cur + 1))
            return true;
    return false;
}

static void release(local_limiter *l)
{
    int64_t cur = atomic_load(&l->in_flight);
    while (cur > 0 && !atomic_compare_exchange_weak(&l->in_flight, &cur, cur - 1))
        ;
}

/* ---- other processes -------------------------------------------------------------------- */

/* the calls of `day` this process did not count itself: before it started (the stored
 * usage) or in other processes — the larger, since the two overlap */
static int64_t earlier_calls(local_limiter *l, int64_t day)
{
    int64_t base = atomic_load_explicit(&l->daily_base, memory_order_relaxed);
    if (atomic_load_explicit(&l->others_day, memory_order_relaxed) != day)
        return base;
    int64_t others = atomic_load_explicit(&l->others_day_calls, memory_order_relaxed);
    return others > base ? others : base;
}

/* the in-flight limit left to this process: the limit less the others' calls in
 * flight; 0 stays "no limit", -1 means none left */
static int64_t concurrent_left(local_limiter *l, int64_t limit)
{
    if (limit <= 0)
        return 0;
    int64_t left = limit - atomic_load_explicit(&l->others_in_flight, memory_order_relaxed);
    return left > 0 ? left : -1;
}

static int64_t slice_of(int64_t limit)
{
    if (limit <= 0)
        return 0;
    int64_t s = (limit + LK_LIMITER_SLICE_DIVISOR - 1) / LK_LIMITER_SLICE_DIVISOR;
    return s > 0 ? s : 1;
}

int64_t lk_limiter_slice(const lk_limits *lim)
{
    int64_t rate = lim->rate_seconds > 0 ? slice_of(lim->rate_calls) : 0, daily = slice_of(lim->daily);
    if (rate == 0 || (daily > 0 && daily < rate))
        return daily;
    return rate;
}

static void local_leave_uncounted(lk_limiter *base, int64_t at, int64_t day);

/* While other processes are alive, an admitted call takes a place in this process's
 * slice: at most lk_limiter_slice() calls between two syncs. true when the slice was
 * used up: the call is then neither in flight nor counted (it was refused for want of
 * news from the others, not for what the client did). */
static bool beyond_slice(local_limiter *l, const lk_limits *lim, int64_t now, int64_t day)
{
    if (!atomic_load_explicit(&l->peers, memory_order_relaxed))
        return false;
    int64_t slice = lk_limiter_slice(lim);
    if (slice == 0)
        return false;
    if (atomic_fetch_add(&l->unsynced, 1) < slice)
        return false;
    atomic_fetch_sub(&l->unsynced, 1);
    local_leave_uncounted(&l->base, now, day);
    return true;
}

static lk_limit_verdict slice_verdict(local_limiter *l, const lk_limits *lim)
{
    (void)l;
    if (lim->rate_calls > 0 && lim->rate_seconds > 0)
        return LK_LIMIT_RATE;
    return lim->daily > 0 ? LK_LIMIT_DAILY : LK_LIMIT_CONCURRENT;
}

/* ---- the operations ------------------------------------------------------------------ */

static lk_limit_verdict local_enter(lk_limiter *base, const lk_limits *lim, int64_t now, int64_t day,
                                    lk_limit_status *st)
{
    local_limiter *l = local_of(base);
    int64_t window = lim->rate_seconds;
    if (window > LK_LIMIT_RATE_SECONDS_MAX)
        window = LK_LIMIT_RATE_SECONDS_MAX;
    bool rate_on = lim->rate_calls > 0 && window > 0;
    if (st)
        *st = (lk_limit_status){0};

    bool rate_over = false;
    if (rate_on) {
        rate_over = count_in_window(l, lim, window, now, st);
    } else if (atomic_load_explicit(&l->has_ring, memory_order_relaxed)) {
        pthread_mutex_lock(&l->mu);
        drop_window(l); /* no rate limit any more: a new one starts from nothing */
        pthread_mutex_unlock(&l->mu);
    }

    enter_day(l, day);
    int64_t before = atomic_fetch_add(&l->daily_count, 1) + earlier_calls(l, day);
    bool daily_over = lim->daily > 0 && before >= lim->daily;
    if (st && lim->daily > 0) {
        st->daily_limit = lim->daily;
        st->daily_remaining = remaining(lim->daily, before + 1);
    }

    /* a call refused by the window or the day is not in flight; concurrency still
     * comes first among the verdicts */
    int64_t conc = concurrent_left(l, lim->concurrent);
    /* with others alive, the calls in flight grow by at most a slice between syncs */
    if (conc > 0 && atomic_load_explicit(&l->peers, memory_order_relaxed)) {
        int64_t grown = atomic_load_explicit(&l->reported_in_flight, memory_order_relaxed) +
                        slice_of(lim->concurrent);
        if (grown < conc)
            conc = grown;
    }
    bool conc_over;
    if (!rate_over && !daily_over)
        conc_over = !admit(l, conc);
    else
        conc_over = conc < 0 || (conc > 0 && atomic_load(&l->in_flight) >= conc);
    if (conc_over)
        return LK_LIMIT_CONCURRENT;
    if (rate_over)
        return LK_LIMIT_RATE;
    if (daily_over)
        return LK_LIMIT_DAILY;
    return beyond_slice(l, lim, now, day) ? slice_verdict(l, lim) : LK_LIMIT_OK;
}

static void local_leave(lk_limiter *base)
{
    release(local_of(base));
}

static void local_uncount(lk_limiter *base, int64_t at, int64_t day)
{
    local_limiter *l = local_of(base);
    pthread_mutex_lock(&l->mu);
    if (l->ring && at <= l->head && at > l->head - l->window) {
        size_t k = slot_of(l, at);
        if (l->ring[k] > 0) {
            l->ring[k]--;
            l->in_window--;
        }
    }
    if (day == atomic_load(&l->day)) {
        int64_t cur = atomic_load(&l->daily_count);
        while (cur > 0 && !atomic_compare_exchange_weak(&l->daily_count, &cur, cur - 1))
            ;
    }
    pthread_mutex_unlock(&l->mu);
}

static void local_leave_uncounted(lk_limiter *base, int64_t at, int64_t day)
{
    release(local_of(base));
    local_uncount(base, at, day);
}

static void local_set_daily(lk_limiter *base, int64_t day, int64_t count)
{
    local_limiter *l = local_of(base);
    pthread_mutex_lock(&l->mu);
    atomic_store(&l->day, day);
    atomic_store(&l->daily_count, 0);
    atomic_store(&l->daily_base, count < 0 ? 0 : count);
    pthread_mutex_unlock(&l->mu);
}

static void local_free(lk_limiter *base)
{
    local_limiter *l = local_of(base);
    pthread_mutex_destroy(&l->mu);
    free(l->ring);
    free(l->oring);
    free(l);
}

static const lk_limiter_ops local_ops = {
    .enter = local_enter,
    .leave = local_leave,
    .leave_uncounted = local_leave_uncounted,
    .uncount = local_uncount,
    .set_daily = local_set_daily,
    .free = local_free,
};

lk_limiter *lk_limiter_new(void)
{
    local_limiter *l = aligned_alloc(_Alignof(local_limiter), sizeof(local_limiter));
    if (!l)
        abort();
    memset(l, 0, sizeof *l);
    l->base.ops = &local_ops;
    pthread_mutex_init(&l->mu, NULL);
    atomic_init(&l->day, INT64_MIN);
    return &l->base;
}

/* ---- the interface --------------------------------------------------------------------- */

lk_limit_verdict lk_limiter_enter(lk_limiter *l, const lk_limits *lim, int64_t now, int64_t day,
                                  lk_limit_status *st)
{
    return l->ops->enter(l, lim, now, day, st);
}

void lk_limiter_leave(lk_limiter *l)
{
    l->ops->leave(l);
}

void lk_limiter_leave_uncounted(lk_limiter *l, int64_t at, int64_t day)
{
    l->ops->leave_uncounted(l, at, day);
}

void lk_limiter_uncount(lk_limiter *l, int64_t at, int64_t day)
{
    l->ops->uncount(l, at, day);
}

void lk_limiter_set_daily(lk_limiter *l, int64_t day, int64_t count)
{
    l->ops->set_daily(l, day, count);
}

void lk_limiter_free(lk_limiter *l)
{
    if (l)
        l->ops->free(l);
}

/* ---- several processes -------------------------------------------------------------------- */

static void push(lk_limit_counts *out, const char *scope, char kind, int64_t bucket, int64_t n)
{
    if (out->n == out->cap) {
        out->cap = out->cap ? 2 * out->cap : 64;
        out->recs = lk_xrealloc(out->recs, out->cap * sizeof *out->recs);
    }
    out->recs[out->n++] = (lk_limit_count){.scope = scope, .kind = kind, .bucket = bucket, .n = n};
}

int64_t lk_limiter_report(lk_limiter *base, const char *scope, int64_t from_second, lk_limit_counts *out)
{
    local_limiter *l = local_of(base);
    int64_t taken = atomic_load(&l->unsynced);
    pthread_mutex_lock(&l->mu);
    if (l->ring) {
        int64_t lo = l->head - l->window + 1;
        for (int64_t sec = from_second > lo ? from_second : lo; sec <= l->head; sec++) {
            uint32_t n = l->ring[slot_of(l, sec)];
            if (n)
                push(out, scope, 'r', sec, n);
        }
    }
    int64_t day = atomic_load(&l->day);
    if (day != INT64_MIN)
        push(out, scope, 'd', day, atomic_load(&l->daily_count));
    pthread_mutex_unlock(&l->mu);
    int64_t in_flight = atomic_load(&l->in_flight);
    atomic_store(&l->reported_in_flight, in_flight);
    push(out, scope, 'c', 0, in_flight);
    return taken;
}

void lk_limiter_synced(lk_limiter *base, int64_t taken)
{
    local_limiter *l = local_of(base);
    int64_t cur = atomic_load(&l->unsynced);
    while (!atomic_compare_exchange_weak(&l->unsynced, &cur, cur > taken ? cur - taken : 0))
        ;
}

void lk_limiter_set_others(lk_limiter *base, const lk_limit_count *recs, size_t n, int64_t day, bool peers)
{
    local_limiter *l = local_of(base);
    int64_t in_flight = 0, day_calls = 0;
    pthread_mutex_lock(&l->mu);
    if (l->ring) {
        memset(l->oring, 0, (size_t)l->window * sizeof *l->oring);
        l->others_in_window = 0;
    }
    for (size_t i = 0; i < n; i++) {
        const lk_limit_count *r = &recs[i];
        if (r->kind == 'c')
            in_flight += r->n;
        else if (r->kind == 'd' && r->bucket == day)
            day_calls += r->n;
        else if (r->kind == 'r' && l->ring && r->bucket <= l->head && r->bucket > l->head - l->window) {
            l->oring[slot_of(l, r->bucket)] += r->n;
            l->others_in_window += r->n;
        }
    }
    atomic_store(&l->others_in_flight, in_flight);
    atomic_store(&l->others_day_calls, day_calls);
    atomic_store(&l->others_day, day);
    atomic_store(&l->peers, peers);
    pthread_mutex_unlock(&l->mu);
}

int64_t lk_limiter_window(lk_limiter *base)
{
    local_limiter *l = local_of(base);
    pthread_mutex_lock(&l->mu);
    int64_t w = l->ring ? l->window : 0;
    pthread_mutex_unlock(&l->mu);
    return w;
}
