/*
 * runtime — the server's shared state and its background thread (runtime.h).
 *
 * Locks: `cat_lock` guards only the catalog pointer swap; `refresh_lock` makes
 * catalog rebuilds (background thread, store worker) one at a time; `jobs_lock`
 * the store worker's queue; `queue_lock` the pending
 * writes; `limiters_lock` the map of per-user limiters; `throttle_lock` the failed
 * authentication counters; `day_lock` the cached quota day. None is held across
 * store I/O: the background thread takes the queue under its lock, releases it,
 * then writes.
 */
#include "runtime/runtime.h"
#include "runtime/mailer.h"
#include "runtime/prober.h"
#include "store/store.h"
#include "util/log.h"
#include "util/map.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_MS 200
#define FLUSH_EVERY 5          /* polls: once a second */
#define PURGE_EVERY 300        /* polls: once a minute */
#define KEEP_EXPIRED (24 * 3600)
#define USAGE_DAYS 8

typedef enum pending_kind { PENDING_INSERT, PENDING_REVOKE, PENDING_REVOKE_SERVICE } pending_kind;

typedef struct pending_token {
    pending_kind kind;
    lk_token_rec rec;            /* REVOKE_SERVICE: service_id and revoked_at */
    char hash[LK_HASH_HEX];
} pending_token;

typedef struct store_job {
    lk_store_job fn;
    void *arg;
    int64_t queued_ms;           /* monotonic */
    struct store_job *next;
} store_job;

typedef struct throttle_entry {
    int64_t window_start;
    int64_t failures;
} throttle_entry;

struct lk_runtime {
    lk_config cfg;
    lk_store *store;             /* used by the background thread only (and at open/close) */
    _Atomic(lk_mailer *) mailer; /* NULL until lk_runtime_start_mail() */

    pthread_mutex_t cat_lock;
    lk_catalog *catalog;
    pthread_mutex_t refresh_lock;

    lk_store *worker_store;      /* the store worker's own connection */
    pthread_mutex_t jobs_lock;
    pthread_cond_t jobs_cond;
    store_job *jobs_head, *jobs_tail;
    bool jobs_stopping;
    int64_t n_jobs;              /* queued + running, under jobs_lock */
    int64_t job_started_ms;      /* of the running job, 0 when idle, under jobs_lock */
    pthread_t worker;
    bool worker_started;

    /* for /metrics and /readyz (monotonic ms) */
    lk_prober *prober;
    atomic_llong catalog_checked_ms;
    atomic_llong flushed_ms;
    atomic_llong write_failures;

    lk_tokens *tokens;
    lk_usage *usage;
    lk_limiter *instance;

    pthread_mutex_t limiters_lock;
    lk_map *limiters;            /* user id -> lk_limiter */

    pthread_mutex_t queue_lock;
    pending_token *queue;
    size_t n_queue, cap_queue;

    pthread_mutex_t throttle_lock;
    lk_map *throttle;            /* key (owned) -> throttle_entry */

    pthread_mutex_t day_lock;
    lk_day day;

    pthread_t thread;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    bool stopping;
    bool thread_started;
};

/* ---- quota day ------------------------------------------------------------ */

static void compute_day(int64_t t, lk_day *out)
{
    lk_local_day(t, 0, out->text, &out->number, &out->next_midnight);
}

void lk_runtime_day(lk_runtime *rt, int64_t now, lk_day *out)
{
    pthread_mutex_lock(&rt->day_lock);
    if (now >= rt->day.next_midnight || now < rt->day.next_midnight - 3 * 86400)
        compute_day(now, &rt->day);
    *out = rt->day;
    pthread_mutex_unlock(&rt->day_lock);
}

void lk_runtime_day_text(lk_runtime *rt, int64_t now, int days_back, char out[LK_DAY_LEN + 1])
{
    (void)rt;
    lk_local_day(now, days_back, out, NULL, NULL);
}

/* ---- catalog ---------------------------------------------------------------- */

/* Gives the heap's free pages back to the system. glibc keeps what a large free
 * leaves inside its heaps (the old catalog, the build's scratch) resident unless
 * asked; called after such frees only, off the hot path. */
static void release_memory(void)
{
    malloc_trim(0);
}

static void enqueue(lk_runtime *rt, const pending_token *p);

lk_catalog *lk_runtime_catalog(lk_runtime *rt)
{
    pthread_mutex_lock(&rt->cat_lock);
    lk_catalog *c = rt->catalog;
    lk_catalog_ref(c);
    pthread_mutex_unlock(&rt->cat_lock);
    return c;
}

/* Revokes a service's tokens in the table and in the store: an unlock or a restart
 * does not bring them back. */
static void revoke_for_good(lk_runtime *rt, int64_t service_id, int64_t now)
{
    if (lk_tokens_revoke_service(rt->tokens, service_id, now) == 0)
        return;
    pending_token p = {.kind = PENDING_REVOKE_SERVICE, .rec = {.service_id = service_id, .revoked_at = now}};
    enqueue(rt, &p);
}

/* Tokens of services that were deleted, rotated or whose owner can no longer act
 * are revoked in the table at once, so that nothing depends on later lookups. */
static void revoke_changed(lk_runtime *rt, const lk_catalog *old, const lk_catalog *now_cat, int64_t now)
{
    size_t pos = 0;
    const lk_cat_service *s;
    while (lk_catalog_next_service(old, &pos, &s)) {
        const lk_cat_service *n = lk_catalog_service(now_cat, s->id);
        const lk_cat_user *owner = n ? lk_catalog_user(now_cat, n->user_id) : NULL;
        if (!n || n->tokens_valid_after != s->tokens_valid_after || !lk_cat_user_usable(owner, now)) {
            revoke_for_good(rt, s->id, now);
        }
    }
}

static void refresh_catalog(lk_runtime *rt, lk_store *store)
{
    int64_t gen = 0;
    lk_error err = {0};
    pthread_mutex_lock(&rt->refresh_lock);
    if (store->ops->generation(store, &gen, &err) != LK_OK) {
        pthread_mutex_unlock(&rt->refresh_lock);
        return;
    }
    lk_catalog *cur = lk_runtime_catalog(rt);
    bool swapped = false;
    if (gen != lk_catalog_generation(cur)) {
        lk_catalog *fresh = lk_catalog_build(store, &err);
        if (fresh) {
            revoke_changed(rt, cur, fresh, lk_time_now());
            pthread_mutex_lock(&rt->cat_lock);
            lk_catalog *old = rt->catalog;
            rt->catalog = fresh;
            pthread_mutex_unlock(&rt->cat_lock);
            lk_catalog_unref(old);
            swapped = true;
            /* a change made elsewhere (the CLI) may have queued mail */
            lk_mailer_wake(atomic_load(&rt->mailer));
        } else {
            lk_log(LK_LOG_ERROR, "could not reload the catalog: %s", err.msg);
        }
    }
    if (gen == lk_catalog_generation(cur) || swapped)
        atomic_store(&rt->catalog_checked_ms, lk_mono_ms());
    lk_catalog_unref(cur);
    /* the old snapshot is gone now, unless a request still holds it (then the next
     * swap gives its pages back) */
    if (swapped)
        release_memory();
    pthread_mutex_unlock(&rt->refresh_lock);
}

void lk_runtime_refresh(lk_runtime *rt, lk_store *store)
{
    refresh_catalog(rt, store);
    lk_mailer_wake(atomic_load(&rt->mailer));
}

bool lk_runtime_start_mail(lk_runtime *rt, lk_error *err)
{
    if (atomic_load(&rt->mailer))
        return true;
    lk_mailer *m = lk_mailer_start(&rt->cfg, rt->cfg.public_url, err);
    atomic_store(&rt->mailer, m);
    return m != NULL;
}

/* ---- the store worker ---------------------------------------------------------- */

void lk_runtime_defer(lk_runtime *rt, lk_store_job fn, void *arg)
{
    store_job *j = lk_xcalloc(1, sizeof *j);
    j->fn = fn;
    j->arg = arg;
    j->queued_ms = lk_mono_ms();
    pthread_mutex_lock(&rt->jobs_lock);
    rt->n_jobs++;
    if (rt->jobs_tail)
        rt->jobs_tail->next = j;
    else
        rt->jobs_head = j;
    rt->jobs_tail = j;
    pthread_cond_signal(&rt->jobs_cond);
    pthread_mutex_unlock(&rt->jobs_lock);
}

static void *store_worker(void *arg)
{
    lk_runtime *rt = arg;
    pthread_mutex_lock(&rt->jobs_lock);
    for (;;) {
        while (!rt->jobs_head && !rt->jobs_stopping)
            pthread_cond_wait(&rt->jobs_cond, &rt->jobs_lock);
        store_job *j = rt->jobs_head;
        if (!j)
            break;      /* stopping, and nothing left */
        rt->jobs_head = j->next;
        if (!rt->jobs_head)
            rt->jobs_tail = NULL;
        rt->job_started_ms = j->queued_ms;
        pthread_mutex_unlock(&rt->jobs_lock);
        j->fn(j->arg, rt->worker_store);
        free(j);
        pthread_mutex_lock(&rt->jobs_lock);
        rt->n_jobs--;
        rt->job_started_ms = 0;
    }
    pthread_mutex_unlock(&rt->jobs_lock);
    return NULL;
}

/* ---- persistence queue ------------------------------------------------------ */

static void enqueue(lk_runtime *rt, const pending_token *p)
{
    pthread_mutex_lock(&rt->queue_lock);
    if (rt->n_queue == rt->cap_queue) {
        rt->cap_queue = rt->cap_queue ? rt->cap_queue * 2 : 64;
        rt->queue = lk_xrealloc(rt->queue, rt->cap_queue * sizeof *rt->queue);
    }
    rt->queue[rt->n_queue] = *p;
    rt->queue[rt->n_queue].rec.token_hash = rt->queue[rt->n_queue].hash;
    rt->n_queue++;
    pthread_mutex_unlock(&rt->queue_lock);
}

void lk_runtime_persist_token(lk_runtime *rt, const lk_token_rec *rec)
{
    pending_token p = {.kind = PENDING_INSERT, .rec = *rec};
    snprintf(p.hash, sizeof p.hash, "%s", rec->token_hash);
    enqueue(rt, &p);
}

void lk_runtime_persist_revoke(lk_runtime *rt, const char *token_hash, int64_t at)
{
    pending_token p = {.kind = PENDING_REVOKE, .rec = {.revoked_at = at}};
    snprintf(p.hash, sizeof p.hash, "%s", token_hash);
    enqueue(rt, &p);
}

void lk_runtime_flush(lk_runtime *rt)
{
    pthread_mutex_lock(&rt->queue_lock);
    pending_token *q = rt->queue;
    size_t n = rt->n_queue;
    rt->queue = NULL;
    rt->n_queue = rt->cap_queue = 0;
    pthread_mutex_unlock(&rt->queue_lock);

    lk_arena a = LK_ARENA_INIT;
    lk_usage_rec *calls = NULL;
    lk_error_rec *errors = NULL;
    size_t n_calls = 0, n_errors = 0;
    lk_usage_take_deltas(rt->usage, &a, &calls, &n_calls, &errors, &n_errors);

    bool written = true;
    if (n || n_calls || n_errors) {
        lk_store *s = rt->store;
        lk_error err = {0};
        lk_code rc = s->ops->begin(s, &err);
        for (size_t i = 0; rc == LK_OK && i < n; i++) {
            q[i].rec.token_hash = q[i].hash;
            switch (q[i].kind) {
            case PENDING_INSERT:
                rc = s->ops->token_insert(s, &q[i].rec, &err);
                break;
            case PENDING_REVOKE:
                rc = s->ops->token_revoke(s, q[i].hash, q[i].rec.revoked_at, &err);
                break;
            case PENDING_REVOKE_SERVICE:
                rc = s->ops->token_revoke_service(s, q[i].rec.service_id, q[i].rec.revoked_at, &err);
                break;
            }
            if (rc == LK_EEXISTS)
                rc = LK_OK; /* already stored */
        }
        if (rc == LK_OK && n_calls)
            rc = s->ops->usage_add(s, calls, n_calls, &err);
        if (rc == LK_OK && n_errors)
            rc = s->ops->errors_add(s, errors, n_errors, &err);
        if (rc == LK_OK)
            rc = s->ops->commit(s, &err);
        else
            s->ops->rollback(s);
        if (rc != LK_OK) {
            /* keep everything for the next attempt */
            lk_log(LK_LOG_ERROR, "could not write tokens and usage (will retry): %s", err.msg);
            atomic_fetch_add(&rt->write_failures, 1);
            written = false;
            lk_usage_restore_deltas(rt->usage, calls, n_calls, errors, n_errors);
            for (size_t i = 0; i < n; i++)
                enqueue(rt, &q[i]);
        }
    }
    if (written)
        atomic_store(&rt->flushed_ms, lk_mono_ms());
    lk_arena_free(&a);
    free(q);
}

/* ---- throttle of failed authentications -------------------------------------- */

bool lk_runtime_auth_throttled(lk_runtime *rt, const char *key, int64_t now, int64_t *retry_after)
{
    return lk_runtime_auth_throttled_at(rt, key, rt->cfg.auth_fail_limit, now, retry_after);
}

bool lk_runtime_auth_throttled_at(lk_runtime *rt, const char *key, int64_t limit, int64_t now, int64_t *retry_after)
{
    bool throttled = false;
    pthread_mutex_lock(&rt->throttle_lock);
    throttle_entry *e = lk_map_get_str(rt->throttle, key);
    if (e && now - e->window_start < rt->cfg.auth_fail_window && e->failures >= limit) {
        throttled = true;
        if (retry_after)
            *retry_after = rt->cfg.auth_fail_window - (now - e->window_start);
    }
    pthread_mutex_unlock(&rt->throttle_lock);
    return throttled;
}

void lk_runtime_auth_failed(lk_runtime *rt, const char *key, int64_t now)
{
    pthread_mutex_lock(&rt->throttle_lock);
    throttle_entry *e = lk_map_get_str(rt->throttle, key);
    if (!e) {
        /* bound memory under a flood of distinct keys */
        if (lk_map_size(rt->throttle) < 100000) {
            e = lk_xcalloc(1, sizeof *e);
            e->window_start = now;
            lk_map_put_str(rt->throttle, lk_xstrdup(key), e);
        }
    } else if (now - e->window_start >= rt->cfg.auth_fail_window) {
        e->window_start = now;
        e->failures = 0;
    }
    if (e)
        e->failures++;
    pthread_mutex_unlock(&rt->throttle_lock);
}

static void free_throttle_entries(lk_map *m, int64_t older_than, bool all)
{
    size_t pos = 0;
    const char *key;
    void *v;
    while (lk_map_next(m, &pos, &key, NULL, &v)) {
        throttle_entry *e = v;
        if (all || e->window_start < older_than) {
            lk_map_del_str(m, key);
            free((void *)key);
            free(e);
        }
    }
}

/* ---- limiters ------------------------------------------------------------------- */

lk_limiter *lk_runtime_instance_limiter(lk_runtime *rt)
{
    return rt->instance;
}

lk_limiter *lk_runtime_user_limiter(lk_runtime *rt, int64_t user_id, const lk_day *today)
{
    pthread_mutex_lock(&rt->limiters_lock);
    lk_limiter *l = lk_map_get_int(rt->limiters, user_id);
    if (!l) {
        l = lk_limiter_new();
        lk_limiter_set_daily(l, today->number, lk_usage_calls(rt->usage, today->text, user_id));
        lk_map_put_int(rt->limiters, user_id, l);
    }
    pthread_mutex_unlock(&rt->limiters_lock);
    return l;
}

/* ---- the background thread ------------------------------------------------------ */

static void purge(lk_runtime *rt, int64_t now)
{
    lk_tokens_purge(rt->tokens, now - KEEP_EXPIRED);
    lk_error err = {0};
    if (rt->store->ops->token_purge(rt->store, now - KEEP_EXPIRED, &err) != LK_OK)
        lk_log(LK_LOG_ERROR, "could not purge expired tokens: %s", err.msg);
    /* console sessions that ended without a sign-out (one statement, as the purge above) */
    if (rt->store->ops->session_purge(rt->store, now - rt->cfg.console_idle_timeout, now, &err) != LK_OK)
        lk_log(LK_LOG_ERROR, "could not purge ended console sessions: %s", err.msg);
    char oldest[LK_DAY_LEN + 1];
    lk_runtime_day_text(rt, now, USAGE_DAYS, oldest);
    lk_usage_forget_before(rt->usage, oldest);
    pthread_mutex_lock(&rt->throttle_lock);
    free_throttle_entries(rt->throttle, now - rt->cfg.auth_fail_window, false);
    pthread_mutex_unlock(&rt->throttle_lock);
}

static void *background(void *arg)
{
    lk_runtime *rt = arg;
    unsigned tick = 0;
    pthread_mutex_lock(&rt->stop_lock);
    while (!rt->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += POLL_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&rt->stop_cond, &rt->stop_lock, &until);
        if (rt->stopping)
            break;
        pthread_mutex_unlock(&rt->stop_lock);
        tick++;
        refresh_catalog(rt, rt->store);
        if (tick % FLUSH_EVERY == 0)
            lk_runtime_flush(rt);
        if (tick % PURGE_EVERY == 0)
            purge(rt, lk_time_now());
        pthread_mutex_lock(&rt->stop_lock);
    }
    pthread_mutex_unlock(&rt->stop_lock);
    return NULL;
}

/* ---- open and close ----------------------------------------------------------- */

static lk_code load_state(lk_runtime *rt, lk_error *err)
{
    lk_store *s = rt->store;
    int64_t now = lk_time_now();
    lk_arena a = LK_ARENA_INIT;

    lk_token_rec *toks = NULL;
    size_t n = 0;
    lk_code rc = s->ops->token_list(s, &a, now - KEEP_EXPIRED, &toks, &n, err);
    if (rc == LK_OK) {
        /* tokens issued before their service's last rotation stay out */
        size_t keep = 0;
        for (size_t i = 0; i < n; i++) {
            const lk_cat_service *svc = lk_catalog_service(rt->catalog, toks[i].service_id);
            if (svc && toks[i].issued_at >= svc->tokens_valid_after)
                toks[keep++] = toks[i];
        }
        lk_tokens_load(rt->tokens, toks, keep);
        /* owners locked or expired while the server was down: their tokens are revoked
         * now and for good, as if the server had seen the change */
        size_t pos = 0;
        const lk_cat_service *svc;
        while (lk_catalog_next_service(rt->catalog, &pos, &svc)) {
            if (!lk_cat_user_usable(lk_catalog_user(rt->catalog, svc->user_id), now))
                revoke_for_good(rt, svc->id, now);
        }
    }

    char from[LK_DAY_LEN + 1];
    lk_day today;
    lk_runtime_day(rt, now, &today);
    lk_runtime_day_text(rt, now, USAGE_DAYS - 1, from);
    lk_usage_rec *calls = NULL;
    lk_error_rec *errors = NULL;
    size_t n_calls = 0, n_errors = 0;
    if (rc == LK_OK)
        rc = s->ops->usage_list(s, &a, from, today.text, &calls, &n_calls, err);
    if (rc == LK_OK)
        rc = s->ops->errors_list(s, &a, from, today.text, &errors, &n_errors, err);
    if (rc == LK_OK) {
        lk_usage_load(rt->usage, calls, n_calls, errors, n_errors);
        lk_limiter_set_daily(rt->instance, today.number, lk_usage_calls(rt->usage, today.text, 0));
    }
    lk_arena_free(&a);
    return rc;
}

lk_runtime *lk_runtime_open(const lk_config *cfg, lk_error *err)
{
    setenv("TZ", cfg->quota_tz, 1);
    tzset();
    /* `serve` brings the schema up to date (docs/cli.md); its other connections find it so */
    lk_store *store = lk_store_open(lk_store_default_location(cfg->db[0] ? cfg->db : NULL), LK_STORE_MIGRATE, err);
    if (!store)
        return NULL;
    lk_runtime *rt = lk_xcalloc(1, sizeof *rt);
    rt->cfg = *cfg;
    rt->store = store;
    pthread_mutex_init(&rt->cat_lock, NULL);
    pthread_mutex_init(&rt->refresh_lock, NULL);
    pthread_mutex_init(&rt->jobs_lock, NULL);
    pthread_cond_init(&rt->jobs_cond, NULL);
    pthread_mutex_init(&rt->limiters_lock, NULL);
    pthread_mutex_init(&rt->queue_lock, NULL);
    pthread_mutex_init(&rt->throttle_lock, NULL);
    pthread_mutex_init(&rt->day_lock, NULL);
    pthread_mutex_init(&rt->stop_lock, NULL);
    pthread_cond_init(&rt->stop_cond, NULL);
    rt->tokens = lk_tokens_new();
    rt->usage = lk_usage_new();
    rt->instance = lk_limiter_new();
    rt->limiters = lk_map_new_int(64);
    rt->throttle = lk_map_new_str(64);
    compute_day(lk_time_now(), &rt->day);

    rt->catalog = lk_catalog_build(store, err);
    if (!rt->catalog || load_state(rt, err) != LK_OK) {
        lk_runtime_close(rt);
        return NULL;
    }
    release_memory();
    if (pthread_create(&rt->thread, NULL, background, rt) != 0) {
        lk_fail(err, LK_ESTORE, "", "could not start the background thread");
        lk_runtime_close(rt);
        return NULL;
    }
    rt->thread_started = true;
    rt->worker_store = lk_store_open(lk_store_default_location(cfg->db[0] ? cfg->db : NULL), LK_STORE_WRITE, err);
    if (!rt->worker_store || pthread_create(&rt->worker, NULL, store_worker, rt) != 0) {
        if (rt->worker_store)
            lk_fail(err, LK_ESTORE, "", "could not start the store worker");
        lk_runtime_close(rt);
        return NULL;
    }
    rt->worker_started = true;
    atomic_store(&rt->catalog_checked_ms, lk_mono_ms());
    atomic_store(&rt->flushed_ms, lk_mono_ms());
    rt->prober = lk_prober_start(lk_store_default_location(cfg->db[0] ? cfg->db : NULL), cfg->ready_db_timeout_ms,
                                 err);
    if (!rt->prober) {
        lk_runtime_close(rt);
        return NULL;
    }
    return rt;
}

void lk_runtime_close(lk_runtime *rt)
{
    if (!rt)
        return;
    lk_prober_stop(rt->prober);
    if (rt->worker_started) {
        pthread_mutex_lock(&rt->jobs_lock);
        rt->jobs_stopping = true;
        pthread_cond_signal(&rt->jobs_cond);
        pthread_mutex_unlock(&rt->jobs_lock);
        pthread_join(rt->worker, NULL);
    }
    if (rt->worker_store)
        rt->worker_store->ops->close(rt->worker_store);
    if (rt->thread_started) {
        pthread_mutex_lock(&rt->stop_lock);
        rt->stopping = true;
        pthread_cond_signal(&rt->stop_cond);
        pthread_mutex_unlock(&rt->stop_lock);
        pthread_join(rt->thread, NULL);
        lk_runtime_flush(rt);
    }
    /* last: the worker and the background thread wake the mailer until they end */
    lk_mailer_stop(atomic_exchange(&rt->mailer, NULL));
    size_t pos = 0;
    void *v;
    while (lk_map_next(rt->limiters, &pos, NULL, NULL, &v))
        lk_limiter_free(v);
    lk_map_free(rt->limiters);
    free_throttle_entries(rt->throttle, 0, true);
    lk_map_free(rt->throttle);
    lk_catalog_unref(rt->catalog);
    lk_tokens_free(rt->tokens);
    lk_usage_free(rt->usage);
    lk_limiter_free(rt->instance);
    free(rt->queue);
    rt->store->ops->close(rt->store);
    pthread_mutex_destroy(&rt->cat_lock);
    pthread_mutex_destroy(&rt->refresh_lock);
    pthread_mutex_destroy(&rt->jobs_lock);
    pthread_cond_destroy(&rt->jobs_cond);
    pthread_mutex_destroy(&rt->limiters_lock);
    pthread_mutex_destroy(&rt->queue_lock);
    pthread_mutex_destroy(&rt->throttle_lock);
    pthread_mutex_destroy(&rt->day_lock);
    pthread_mutex_destroy(&rt->stop_lock);
    pthread_cond_destroy(&rt->stop_cond);
    free(rt);
}

const lk_config *lk_runtime_config(const lk_runtime *rt)
{
    return &rt->cfg;
}

void lk_runtime_default_public_url(lk_runtime *rt, const char *url)
{
    if (!rt->cfg.public_url[0])
        snprintf(rt->cfg.public_url, sizeof rt->cfg.public_url, "%s", url);
}

lk_tokens *lk_runtime_tokens(lk_runtime *rt)
{
    return rt->tokens;
}

lk_usage *lk_runtime_usage(lk_runtime *rt)
{
    return rt->usage;
}

void lk_runtime_gauges_read(lk_runtime *rt, lk_runtime_gauges *out)
{
    memset(out, 0, sizeof *out);
    int64_t now = lk_mono_ms();
    lk_catalog *c = lk_runtime_catalog(rt);
    out->catalog_generation = lk_catalog_generation(c);
    out->services = (int64_t)lk_catalog_service_count(c);
    out->api_users = (int64_t)lk_catalog_user_count(c);
    lk_catalog_unref(c);
    out->catalog_age_ms = now - atomic_load(&rt->catalog_checked_ms);
    out->tokens = (int64_t)lk_tokens_count(rt->tokens);
    pthread_mutex_lock(&rt->queue_lock);
    out->pending_writes = (int64_t)rt->n_queue;
    pthread_mutex_unlock(&rt->queue_lock);
    out->writer_lag_ms = now - atomic_load(&rt->flushed_ms);
    out->write_failures = atomic_load(&rt->write_failures);
    pthread_mutex_lock(&rt->jobs_lock);
    out->store_jobs = rt->n_jobs;
    int64_t oldest = rt->job_started_ms ? rt->job_started_ms : rt->jobs_head ? rt->jobs_head->queued_ms : 0;
    pthread_mutex_unlock(&rt->jobs_lock);
    out->store_wait_ms = oldest ? now - oldest : 0;
}

void lk_runtime_probe_read(lk_runtime *rt, struct lk_probe_state *out)
{
    lk_prober_read(rt->prober, out);
}
