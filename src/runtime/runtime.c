/*
 * runtime — wiring the server's state together and the background thread
 * (runtime.h).
 *
 * Who does what:
 * - feed.c keeps the catalog, the revocations and the keys current; catalog.c and
 *   tokens.c hold them for the request threads.
 * - persist.c writes the counts and purges, as jobs of a second store worker (the
 *   writer), so that the feed's polls never wait for the database's write lock;
 *   worker.c runs the store calls of requests; throttle.c counts failed
 *   authentications; mailer.c sends mail.
 * - This file opens and closes them, runs the background thread, and keeps the
 *   quota day and the per-user limiters.
 *
 * Locks here: `limiters_lock` the map of per-user limiters; `day_lock` the cached
 * quota day; `bg_lock` the background thread's wake-up and stop flags. None is held
 * across store I/O.
 *
 * Store connections: `store` is the background thread's (and, before it starts and
 * after it stops, open's and close's); the workers, the mailer and the prober open
 * their own.
 */
#include "runtime/runtime.h"
#include "runtime/feed.h"
#include "runtime/keys.h"
#include "runtime/mailer.h"
#include "runtime/peers.h"
#include "runtime/persist.h"
#include "runtime/listener.h"
#include "runtime/prober.h"
#include "runtime/signin.h"
#include "runtime/throttle.h"
#include "store/store.h"
#include "util/log.h"
#include "util/map.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

#include <malloc.h>
#include <sodium.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_MS 200
#define FLUSH_EVERY 5          /* polls: once a second */
#define PURGE_EVERY 300        /* polls: once a minute */
#define USAGE_DAYS 8

struct lk_runtime {
    lk_config cfg;
    char location[LK_CONFIG_STR];
    lk_store *store;             /* the background thread's connection */
    _Atomic(lk_mailer *) mailer; /* NULL until lk_runtime_start_mail() */

    lk_catalog *catalog;
    lk_tokens *tokens;
    lk_feed *feed;
    lk_worker *worker;
    lk_worker *passwords;        /* console calls that check or hash a password (Argon2id) */
    lk_worker *writer;           /* the counts and purges, one job at a time */
    atomic_bool writing;         /* a writer job is queued or running */
    atomic_bool purge_due;       /* the next writer job purges */
    bool prune_more;             /* the writer's: the last prune of the feed took a full batch */
    lk_usage *usage;
    lk_limiter *instance;

    pthread_mutex_t limiters_lock;
    lk_map *limiters;            /* user id -> lk_limiter */

    lk_throttle *client_throttle;  /* the token endpoints */
    lk_signin *signin;             /* console sign-ins */
    lk_peers *peers;               /* the limits shared with other processes */
    atomic_bool syncing;           /* a sync of the limits is queued or running */
    atomic_bool writer_ready;      /* rt->writer is set */

    pthread_mutex_t day_lock;
    lk_day day;

    /* for /metrics and /readyz (monotonic ms) */
    lk_prober *prober;
    lk_listener *listener;  /* NULL: the store has no change notifications (SQLite) */
    atomic_llong catalog_checked_ms;
    atomic_llong flushed_ms;
    atomic_llong write_failures;

    pthread_t thread;
    pthread_mutex_t bg_lock;
    pthread_cond_t bg_cond;      /* CLOCK_MONOTONIC */
    bool stopping, woken, thread_started;
    double load_seconds;         /* the first load of the catalog */
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

/* ---- the catalog and the feed ------------------------------------------------ */

lk_catalog *lk_runtime_catalog(lk_runtime *rt)
{
    lk_catalog_read_begin(rt->catalog);
    return rt->catalog;
}

static void poll_feed(lk_runtime *rt, lk_store *store)
{
    lk_feed_stats st;
    lk_error err = {0};
    if (lk_feed_poll(rt->feed, store, lk_time_now(), &st, &err) != LK_OK) {
        lk_log(LK_LOG_ERROR, "could not read the change feed (will retry): %s", err.msg);
        return;
    }
    atomic_store(&rt->catalog_checked_ms, lk_mono_ms());
    if (st.full_load)
        lk_log(LK_LOG_INFO, "loaded the catalog again (%zu users, %zu services; feed at %lld)",
               lk_catalog_count_users(rt->catalog), lk_catalog_count_services(rt->catalog), (long long)st.position);
    /* a change made elsewhere (the CLI) may have queued mail */
    if (st.applied || st.full_load)
        lk_mailer_wake(atomic_load(&rt->mailer));
}

void lk_runtime_refresh(lk_runtime *rt, lk_store *store)
{
    poll_feed(rt, store);
    lk_mailer_wake(atomic_load(&rt->mailer));
}

void lk_runtime_wake(lk_runtime *rt)
{
    pthread_mutex_lock(&rt->bg_lock);
    rt->woken = true;
    pthread_cond_signal(&rt->bg_cond);
    pthread_mutex_unlock(&rt->bg_lock);
}

static void wake_cb(void *ctx)
{
    lk_runtime_wake(ctx);
}

lk_code lk_runtime_revoke(lk_runtime *rt, lk_store *store, const lk_token_fields *token, int64_t now,
                          lk_error *err)
{
    char id[LK_TOKEN_ID_HEX];
    lk_token_id_hex(token->id, id);
    lk_revocation r = {
        .token_id = id,
        .service_id = token->service_id,
        .expires_at = token->expires_at,
        .revoked_at = now,
    };
    lk_code rc = store->ops->begin(store, err);
    if (rc == LK_OK)
        rc = store->ops->revocation_insert(store, &r, err);
    if (rc == LK_OK)
        rc = store->ops->commit(store, err);
    else
        store->ops->rollback(store);
    if (rc != LK_OK)
        return rc;
    /* durable now; in force here at once, whatever the feed does next */
    lk_tokens_revoke(rt->tokens, token->id, token->expires_at);
    poll_feed(rt, store);
    return LK_OK;
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
    lk_worker_defer(rt->worker, fn, arg);
}

void lk_runtime_defer_password(lk_runtime *rt, lk_store_job fn, void *arg)
{
    lk_worker_defer(rt->passwords, fn, arg);
}

void lk_runtime_cancel_store_calls(lk_runtime *rt)
{
    lk_worker_cancel(rt->worker);
    lk_worker_cancel(rt->passwords);
}

bool lk_runtime_flush(lk_runtime *rt)
{
    bool ok = lk_persist_counts(rt->usage, rt->store);
    if (ok)
        atomic_store(&rt->flushed_ms, lk_mono_ms());
    else
        atomic_fetch_add(&rt->write_failures, 1);
    return ok;
}

/* ---- throttles of failed authentications -------------------------------------------- */

/* "p" client id NUL address, or "u" NUL address: the two kinds cannot collide */
static size_t client_key(char *buf, size_t cap, const char *client_id, const char *address)
{
    size_t n = 0;
    size_t id_len = client_id ? strnlen(client_id, 128) : 0;
    size_t addr_len = strnlen(address ? address : "", 64);
    if (2 + id_len + 1 + addr_len > cap)
        return 0;
    buf[n++] = client_id ? 'p' : 'u';
    buf[n++] = '\0';
    memcpy(buf + n, client_id ? client_id : "", id_len);
    n += id_len;
    buf[n++] = '\0';
    memcpy(buf + n, address ? address : "", addr_len);
    return n + addr_len;
}

/* the key as the processes share it (runtime/peers.h): BLAKE2b-128, the same in each */
static void shared_key(const char *key, size_t n, unsigned char out[LK_PEERS_KEY_BYTES])
{
    crypto_generichash(out, LK_PEERS_KEY_BYTES, (const unsigned char *)key, n, NULL, 0);
}

bool lk_runtime_client_throttled(lk_runtime *rt, const char *client_id, const char *address, int64_t now,
                                 int64_t *retry_after)
{
    char key[256];
    size_t n = client_key(key, sizeof key, client_id, address);
    if (lk_throttle_blocked(rt->client_throttle, key, n, rt->cfg.auth_fail_limit, now, retry_after))
        return true;
    /* what the other processes counted of this key in the current window, on top */
    unsigned char shared[LK_PEERS_KEY_BYTES];
    shared_key(key, n, shared);
    int64_t ends = now;
    int64_t others = lk_peers_others_failed(rt->peers, shared, now, &ends);
    if (others == 0)
        return false;
    lk_throttle_entry mine;
    (void)lk_throttle_peek(rt->client_throttle, key, n, now, &mine);
    if (mine.failures + others < rt->cfg.auth_fail_limit)
        return false;
    if (retry_after)
        *retry_after = ends > now ? ends - now : 1;
    return true;
}

bool lk_runtime_client_failed(lk_runtime *rt, const char *client_id, const char *address, int64_t now)
{
    char key[256];
    size_t n = client_key(key, sizeof key, client_id, address);
    unsigned char shared[LK_PEERS_KEY_BYTES];
    shared_key(key, n, shared);
    lk_peers_failed(rt->peers, shared, now);
    return lk_throttle_fail(rt->client_throttle, key, n, now);
}

lk_signin *lk_runtime_signin(lk_runtime *rt)
{
    return rt->signin;
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
        lk_limiter_set_others(l, NULL, 0, today->number, lk_peers_shared(rt->peers));
        lk_map_put_int(rt->limiters, user_id, l);
    }
    pthread_mutex_unlock(&rt->limiters_lock);
    return l;
}

/* ---- the background thread ------------------------------------------------------ */

static lk_purge_policy purge_policy(const lk_runtime *rt)
{
    return (lk_purge_policy){
        .session_idle = rt->cfg.console_idle_timeout,
        .feed_retention = rt->cfg.feed_retention,
        .feed_max_rows = rt->cfg.feed_max_rows,
    };
}

static void purge(lk_runtime *rt, lk_store *store, int64_t now)
{
    lk_purge_policy p = purge_policy(rt);
    lk_persist_purge(store, rt->tokens, &p, now);
    char oldest[LK_DAY_LEN + 1];
    lk_runtime_day_text(rt, now, USAGE_DAYS, oldest);
    lk_usage_forget_before(rt->usage, oldest);
    lk_throttle_purge(rt->client_throttle, now);
    lk_signin_purge(rt->signin, now);
}

/* Stats answer the totals of every process (docs/server.md#limits-across-processes):
 * with others alive, the stored counts of the days the stats read are read back after
 * each write, so an answer lags another process's calls by about two writes (2 s). */
static void refresh_usage(lk_runtime *rt, lk_store *store, int64_t now)
{
    lk_arena a = LK_ARENA_INIT;
    char from[LK_DAY_LEN + 1], today[LK_DAY_LEN + 1];
    lk_runtime_day_text(rt, now, USAGE_DAYS - 1, from);
    lk_runtime_day_text(rt, now, 0, today);
    lk_usage_rec *calls = NULL;
    lk_error_rec *errors = NULL;
    size_t n_calls = 0, n_errors = 0;
    lk_error err = {0};
    if (store->ops->usage_list(store, &a, from, today, &calls, &n_calls, &err) == LK_OK &&
        store->ops->errors_list(store, &a, from, today, &errors, &n_errors, &err) == LK_OK)
        lk_usage_refresh(rt->usage, from, calls, n_calls, errors, n_errors);
    lk_arena_free(&a);
}

/* on the writer: the counts, and what ran out (store NULL: stopping; the counts
 * stay for the last write of lk_runtime_close) */
static void write_job(void *arg, lk_store *store)
{
    lk_runtime *rt = arg;
    if (!store) {
        atomic_store(&rt->writing, false);
        return;
    }
    int64_t now = lk_time_now();
    if (lk_persist_counts(rt->usage, store)) {
        atomic_store(&rt->flushed_ms, lk_mono_ms());
        if (lk_peers_shared(rt->peers))
            refresh_usage(rt, store, now);
    } else {
        atomic_fetch_add(&rt->write_failures, 1);
    }
    if (atomic_exchange(&rt->purge_due, false)) {
        purge(rt, store, now);
    } else if (rt->prune_more) {
        lk_purge_policy p = purge_policy(rt);
        rt->prune_more = lk_persist_prune_feed(store, &p, now);
    }
    atomic_store(&rt->writing, false);
}

/* ---- limits across processes (runtime/peers.h) ------------------------------------ */

static lk_peers_limiters peers_limiters(lk_runtime *rt)
{
    return (lk_peers_limiters){.instance = rt->instance, .lock = &rt->limiters_lock, .users = rt->limiters,
                               .signin = lk_signin_shared(rt->signin)};
}

static void sync_limits(lk_runtime *rt, lk_store *store)
{
    int64_t now = lk_time_now();
    lk_day today;
    lk_runtime_day(rt, now, &today);
    lk_peers_limiters lims = peers_limiters(rt);
    lk_error err = {0};
    if (!lk_peers_sync(rt->peers, store, &lims, now, today.number, &err))
        lk_log(LK_LOG_DEBUG, "could not share the limits with other processes: %s", err.msg);
}

/* on the writer */
static void sync_job(void *arg, lk_store *store)
{
    lk_runtime *rt = arg;
    if (store) /* NULL: the writer is stopping (worker.h) */
        sync_limits(rt, store);
    atomic_store(&rt->syncing, false);
}

/* every poll, from the background thread: one sync at a time; a writer held up by a
 * write lock gets no second one, and after LK_PEERS_STALE_MS its limiters count alone */
static void share_limits(lk_runtime *rt, int64_t now)
{
    if (!atomic_load(&rt->writer_ready))
        return;
    if (!atomic_exchange(&rt->syncing, true))
        lk_worker_defer(rt->writer, sync_job, rt);
    lk_day today;
    lk_runtime_day(rt, now, &today);
    lk_peers_limiters lims = peers_limiters(rt);
    lk_peers_check(rt->peers, &lims, today.number);
}

int64_t lk_runtime_peers(lk_runtime *rt)
{
    return lk_peers_alive(rt->peers);
}

/* one job at a time: a writer held up by another process's write lock is not given
 * a second one meanwhile (its counts wait in memory). False when one was queued or
 * running already. */
static bool queue_write(lk_runtime *rt)
{
    /* the background thread starts before the writer does (lk_runtime_open) */
    if (!atomic_load(&rt->writer_ready) || atomic_exchange(&rt->writing, true))
        return false;
    lk_worker_defer(rt->writer, write_job, rt);
    return true;
}

static void every_second(lk_runtime *rt, int64_t now)
{
    lk_error err = {0};
    if (!lk_tokens_reload_keys(rt->tokens, false, now, &err))
        lk_log(LK_LOG_ERROR, "could not read the changed key file (the keys in use stay): %s", err.msg);
    queue_write(rt);
}

/* a write of the counts someone waits for (SIGHUP); whoever of the writer and the
 * waiter leaves it last frees it */
typedef struct sync_write {
    lk_runtime *rt;
    pthread_mutex_t mu;
    pthread_cond_t cond;         /* CLOCK_MONOTONIC */
    bool done, ok, abandoned;
} sync_write;

static void sync_write_free(sync_write *w)
{
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cond);
    free(w);
}

static void sync_write_job(void *arg, lk_store *store)
{
    sync_write *w = arg;
    bool ok = store && lk_persist_counts(w->rt->usage, store);
    if (ok)
        atomic_store(&w->rt->flushed_ms, lk_mono_ms());
    pthread_mutex_lock(&w->mu);
    w->done = true;
    w->ok = ok;
    bool abandoned = w->abandoned;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
    if (abandoned)
        sync_write_free(w);
}

bool lk_runtime_hangup(lk_runtime *rt, int64_t wait_ms)
{
    lk_error err = {0};
    if (!lk_tokens_reload_keys(rt->tokens, false, lk_time_now(), &err))
        lk_log(LK_LOG_ERROR, "SIGHUP: could not read the changed key file (the keys in use stay): %s", err.msg);
    sync_write *w = lk_xcalloc(1, sizeof *w);
    w->rt = rt;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);
    lk_worker_defer(rt->writer, sync_write_job, w);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        if (pthread_cond_timedwait(&w->cond, &w->mu, &until) != 0)
            break;
    bool done = w->done, ok = w->ok;
    w->abandoned = !done;
    pthread_mutex_unlock(&w->mu);
    if (done)
        sync_write_free(w);
    return ok;
}

static void *background(void *arg)
{
    lk_runtime *rt = arg;
    unsigned tick = 0;
    pthread_mutex_lock(&rt->bg_lock);
    while (!rt->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += POLL_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!rt->stopping && !rt->woken)
            if (pthread_cond_timedwait(&rt->bg_cond, &rt->bg_lock, &until) != 0)
                break; /* the poll interval ran out */
        if (rt->stopping)
            break;
        bool woken = rt->woken;
        rt->woken = false;
        pthread_mutex_unlock(&rt->bg_lock);
        poll_feed(rt, rt->store);
        if (!woken) {
            tick++;
            int64_t now = lk_time_now();
            if (tick % PURGE_EVERY == 0)
                atomic_store(&rt->purge_due, true);
            if (tick % FLUSH_EVERY == 0)
                every_second(rt, now);
            share_limits(rt, now);
        }
        lk_catalog_collect(rt->catalog);
        pthread_mutex_lock(&rt->bg_lock);
    }
    pthread_mutex_unlock(&rt->bg_lock);
    return NULL;
}

/* ---- open and close ----------------------------------------------------------- */

static lk_code load_usage(lk_runtime *rt, int64_t now, lk_error *err)
{
    lk_store *s = rt->store;
    lk_arena a = LK_ARENA_INIT;
    char from[LK_DAY_LEN + 1];
    lk_day today;
    lk_runtime_day(rt, now, &today);
    lk_runtime_day_text(rt, now, USAGE_DAYS - 1, from);
    lk_usage_rec *calls = NULL;
    lk_error_rec *errors = NULL;
    size_t n_calls = 0, n_errors = 0;
    lk_code rc = s->ops->usage_list(s, &a, from, today.text, &calls, &n_calls, err);
    if (rc == LK_OK)
        rc = s->ops->errors_list(s, &a, from, today.text, &errors, &n_errors, err);
    if (rc == LK_OK) {
        lk_usage_load(rt->usage, calls, n_calls, errors, n_errors);
        lk_limiter_set_daily(rt->instance, today.number, lk_usage_calls(rt->usage, today.text, 0));
    }
    lk_arena_free(&a);
    return rc;
}

static lk_code load_keys(lk_runtime *rt, int64_t now, lk_error *err)
{
    char path[LK_CONFIG_STR];
    if (rt->cfg.token_key_file[0])
        snprintf(path, sizeof path, "%s", rt->cfg.token_key_file);
    else if (!lk_keys_default_path(rt->location, path, sizeof path))
        return lk_fail(err, LK_EINVAL, "token_key_file",
                       "this database is not a file: set token_key_file to the key file every process shares");
    return lk_tokens_load_keys(rt->tokens, path, true, now, err);
}

static bool start_thread(lk_runtime *rt)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rt->bg_cond, &ca);
    pthread_condattr_destroy(&ca);
    rt->thread_started = pthread_create(&rt->thread, NULL, background, rt) == 0;
    return rt->thread_started;
}

lk_runtime *lk_runtime_open(const lk_config *cfg, lk_error *err)
{
    setenv("TZ", cfg->quota_tz, 1);
    tzset();
    const char *location = lk_store_default_location(cfg->db[0] ? cfg->db : NULL);
    /* `serve` brings the schema up to date (docs/cli.md); its other connections find it so */
    lk_store *store = lk_store_open(location, LK_STORE_MIGRATE, err);
    if (!store)
        return NULL;
    lk_runtime *rt = lk_xcalloc(1, sizeof *rt);
    rt->cfg = *cfg;
    snprintf(rt->location, sizeof rt->location, "%s", location);
    rt->store = store;
    pthread_mutex_init(&rt->limiters_lock, NULL);
    pthread_mutex_init(&rt->day_lock, NULL);
    pthread_mutex_init(&rt->bg_lock, NULL);
    rt->catalog = lk_catalog_new();
    rt->tokens = lk_tokens_new(rt->catalog, 0);
    rt->feed = lk_feed_new(rt->catalog, rt->tokens);
    rt->usage = lk_usage_new();
    rt->instance = lk_limiter_new();
    rt->limiters = lk_map_new_int(64);
    rt->client_throttle = lk_throttle_new((size_t)cfg->auth_fail_capacity, cfg->auth_fail_window);
    rt->signin = lk_signin_new((size_t)cfg->auth_fail_capacity, cfg->login_fail_limit, cfg->auth_fail_window);
    rt->peers = lk_peers_new(cfg->auth_fail_window, (size_t)cfg->auth_fail_capacity);
    /* a store other than a file may be shared by several machines */
    lk_peers_wall_clock(rt->peers, strcmp(store->ops->kind, "sqlite") != 0);
    int64_t now = lk_time_now();
    compute_day(now, &rt->day);

    lk_feed_stats st;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (load_keys(rt, now, err) != LK_OK || lk_feed_load(rt->feed, store, now, &st, err) != LK_OK ||
        load_usage(rt, now, err) != LK_OK || (sync_limits(rt, store), !start_thread(rt))) {
        if (err && !err->msg[0])
            lk_fail(err, LK_ESTORE, "", "could not start the background thread");
        lk_runtime_close(rt);
        return NULL;
    }
    malloc_trim(0); /* the load's scratch goes back to the system */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rt->load_seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* administration yields to the request threads under a full CPU (background_nice), and
     * password hashing too, less (password_nice: at 19 a sign-in took 45 times as long on a
     * full CPU, a lockout in effect); the writer of tokens and counts does not: its lag is
     * bounded */
    rt->worker = lk_worker_start(location, 1, (lk_worker_opts){"lk-store", (int)cfg->background_nice}, err);
    rt->prune_more = true; /* a first prune soon after the start, then once a minute */
    rt->writer = rt->worker ? lk_worker_start(location, 1, (lk_worker_opts){"lk-writer", 0}, err) : NULL;
    rt->passwords = rt->writer
        ? lk_worker_start(location, (size_t)cfg->password_threads, (lk_worker_opts){"lk-password", (int)cfg->password_nice}, err)
        : NULL;
    if (!rt->worker || !rt->writer || !rt->passwords) {
        lk_runtime_close(rt);
        return NULL;
    }
    atomic_store(&rt->writer_ready, true);
    atomic_store(&rt->catalog_checked_ms, lk_mono_ms());
    atomic_store(&rt->flushed_ms, lk_mono_ms());
    rt->prober = lk_prober_start(location, cfg->ready_db_timeout_ms, err);
    if (!rt->prober) {
        lk_runtime_close(rt);
        return NULL;
    }
    if (err)
        err->msg[0] = '\0';
    rt->listener = lk_listener_start(location, wake_cb, rt, err);
    if (!rt->listener && err && err->msg[0]) {
        lk_runtime_close(rt);
        return NULL;
    }
    return rt;
}

/* The last write of the counts, retried until stop_write_timeout has passed (each
 * try waits at most the store's busy timeout for the write lock). False, after
 * saying what is lost, when they could not all be written. */
static bool last_write(lk_runtime *rt)
{
    int64_t deadline = lk_mono_ms() + rt->cfg.stop_write_timeout * 1000;
    for (int tries = 1;; tries++) {
        if (lk_runtime_flush(rt))
            return true;
        if (lk_mono_ms() >= deadline) {
            lk_arena a = LK_ARENA_INIT;
            lk_usage_rec *calls = NULL;
            lk_error_rec *errors = NULL;
            size_t n_calls = 0, n_errors = 0;
            lk_usage_take_deltas(rt->usage, &a, &calls, &n_calls, &errors, &n_errors);
            long long lost_calls = 0, lost_errors = 0;
            for (size_t i = 0; i < n_calls; i++)
                lost_calls += calls[i].count;
            for (size_t i = 0; i < n_errors; i++)
                lost_errors += errors[i].count;
            lk_log(LK_LOG_ERROR,
                   "stopping without writing the usage counts: %lld calls of %zu API users and %lld errors are "
                   "lost (%d tries in %lld s; the database stayed locked or failing)",
                   lost_calls, n_calls, lost_errors, tries, (long long)rt->cfg.stop_write_timeout);
            lk_arena_free(&a);
            return false;
        }
        nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
    }
}

bool lk_runtime_close(lk_runtime *rt)
{
    if (!rt)
        return true;
    lk_listener_stop(rt->listener);
    lk_prober_stop(rt->prober);
    lk_worker_stop(rt->worker);
    lk_worker_stop(rt->passwords);
    /* the mailer ends alongside the writer's last attempts, not after them */
    lk_mailer_quit(atomic_load(&rt->mailer));
    if (rt->thread_started) {
        pthread_mutex_lock(&rt->bg_lock);
        rt->stopping = true;
        pthread_cond_signal(&rt->bg_cond);
        pthread_mutex_unlock(&rt->bg_lock);
        pthread_join(rt->thread, NULL);
        pthread_cond_destroy(&rt->bg_cond);
    }
    lk_worker_stop(rt->writer); /* a write running ends; one queued is dropped */
    bool written = !rt->thread_started || last_write(rt);
    /* the others stop counting this process at once; only when the database just took
     * a write, so that the bounded stop stays bounded */
    if (rt->thread_started && written)
        lk_peers_leave(rt->peers, rt->store, lk_time_now());
    /* last: the worker and the background thread wake the mailer until they end */
    lk_mailer_stop(atomic_exchange(&rt->mailer, NULL));
    size_t pos = 0;
    void *v;
    while (lk_map_next(rt->limiters, &pos, NULL, NULL, &v))
        lk_limiter_free(v);
    lk_map_free(rt->limiters);
    lk_throttle_free(rt->client_throttle);
    lk_signin_free(rt->signin);
    lk_peers_free(rt->peers);
    lk_feed_free(rt->feed);
    lk_tokens_free(rt->tokens);
    lk_catalog_free(rt->catalog);
    lk_usage_free(rt->usage);
    lk_limiter_free(rt->instance);
    rt->store->ops->close(rt->store);
    pthread_mutex_destroy(&rt->limiters_lock);
    pthread_mutex_destroy(&rt->day_lock);
    pthread_mutex_destroy(&rt->bg_lock);
    free(rt);
    return written;
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
    out->catalog_generation = lk_catalog_position(rt->catalog);
    out->catalog_age_ms = now - atomic_load(&rt->catalog_checked_ms);
    out->services = (int64_t)lk_catalog_count_services(rt->catalog);
    out->api_users = (int64_t)lk_catalog_count_users(rt->catalog);
    out->retired = (int64_t)lk_catalog_pending(rt->catalog);
    out->full_loads = (int64_t)lk_feed_full_loads(rt->feed);
    out->load_seconds = rt->load_seconds;
    out->revoked_tokens = (int64_t)lk_tokens_revoked_count(rt->tokens);
    lk_catalog_read_begin(rt->catalog); /* the key ring is freed like the catalog's entries */
    out->signing_key = lk_tokens_signing_key(rt->tokens);
    lk_catalog_read_end(rt->catalog);
    out->pending_writes = (int64_t)lk_usage_pending(rt->usage);
    out->writer_lag_ms = now - atomic_load(&rt->flushed_ms);
    out->write_failures = atomic_load(&rt->write_failures);
    int64_t oldest = 0, oldest_pw = 0;
    out->store_jobs = rt->worker ? (int64_t)lk_worker_load(rt->worker, &oldest) : 0;
    out->store_wait_ms = oldest ? now - oldest : 0;
    out->peers = lk_peers_alive(rt->peers);
    out->limits_sync_us = lk_peers_sync_us(rt->peers);
    out->password_jobs = rt->passwords ? (int64_t)lk_worker_load(rt->passwords, &oldest_pw) : 0;
    out->password_wait_ms = oldest_pw ? now - oldest_pw : 0;
}

void lk_runtime_probe_read(lk_runtime *rt, struct lk_probe_state *out)
{
    lk_prober_read(rt->prober, out);
}
