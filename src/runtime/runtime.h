/*
 * runtime — the state of a running server and the threads that keep it: the
 * catalog (runtime/catalog.h) kept current by the change feed (runtime/feed.h),
 * the tokens and their keys (runtime/tokens.h), the limiters, the usage counts, the
 * throttles of failed authentications, the store worker (runtime/worker.h) and the
 * mailer.
 *
 * Request threads never touch the store: they read the catalog and the in-memory
 * tables; calls that must read or write the store run on the store worker
 * (lk_runtime_defer). The background thread tails the feed every 200 ms (or at once
 * when woken: lk_runtime_wake); a writer thread writes the usage counts once a second
 * and purges once a minute (runtime/persist.h).
 */
#ifndef LK_RUNTIME_RUNTIME_H
#define LK_RUNTIME_RUNTIME_H

#include "config/config.h"
#include "core/error.h"
#include "runtime/catalog.h"
#include "runtime/limiter.h"
#include "runtime/signin.h"
#include "runtime/tokens.h"
#include "runtime/usage.h"
#include "runtime/worker.h"

typedef struct lk_runtime lk_runtime;

/* the quota day of an instant, in the configured time zone */
typedef struct lk_day {
    char text[LK_DAY_LEN + 1];   /* "YYYY-MM-DD" */
    int64_t number;              /* days since 1970-01-01 of that local date */
    int64_t next_midnight;       /* when the next day starts (epoch seconds) */
} lk_day;

lk_runtime *lk_runtime_open(const lk_config *cfg, lk_error *err);
/* Stops the store workers (calls not yet started are answered 503 at once), the
 * background thread and the writer, then writes the counts a last time, retrying
 * for stop_write_timeout seconds; frees everything. False when counts were lost
 * (said in the log): the caller exits non-zero. */
bool lk_runtime_close(lk_runtime *rt);

const lk_config *lk_runtime_config(const lk_runtime *rt);
/* sets public_url when the configuration left it empty; call before serving */
void lk_runtime_default_public_url(lk_runtime *rt, const char *url);

/* The catalog, with a read section begun on this thread: end it with
 * lk_catalog_read_end() on the same thread, before the request waits for anything. */
lk_catalog *lk_runtime_catalog(lk_runtime *rt);
lk_tokens *lk_runtime_tokens(lk_runtime *rt);
lk_usage *lk_runtime_usage(lk_runtime *rt);
lk_limiter *lk_runtime_instance_limiter(lk_runtime *rt);
/* created on first use, lives until close */
lk_limiter *lk_runtime_user_limiter(lk_runtime *rt, int64_t user_id, const lk_day *today);
void lk_runtime_day(lk_runtime *rt, int64_t now, lk_day *out);
/* other `latchkey serve` processes on the same database seen alive at the last sync
 * of the limits (runtime/peers.h) */
int64_t lk_runtime_peers(lk_runtime *rt);
/* the day `days_back` days before now's day, as text */
void lk_runtime_day_text(lk_runtime *rt, int64_t now, int days_back, char out[LK_DAY_LEN + 1]);

/*
 * The token endpoints' throttle (docs/security.md#throttles). It counts failures of
 * a (client id, address) pair whose client id exists, and of an address sending
 * client ids that do not; a correct secret is checked before it and never refused.
 * client_id NULL means "an unknown client id". throttled: true (and the seconds to
 * wait) when that key has failed too often. failed: counts one failure; false when
 * the table is full and it could not be counted — the caller refuses (429).
 */
bool lk_runtime_client_throttled(lk_runtime *rt, const char *client_id, const char *address, int64_t now,
                                 int64_t *retry_after);
bool lk_runtime_client_failed(lk_runtime *rt, const char *client_id, const char *address, int64_t now);

/* the throttles of console sign-ins (runtime/signin.h) */
lk_signin *lk_runtime_signin(lk_runtime *rt);

/* Work that needs the store, off the request threads (user management calls,
 * revocations): fn(arg, store) runs on the store worker, one job at a time, in the
 * order queued, with the worker's own connection. Jobs queued before close run. */
void lk_runtime_defer(lk_runtime *rt, lk_store_job fn, void *arg);
/* The same on the password pool (password_threads threads, each with its own
 * connection): console calls that check or hash a password run there, so that
 * Argon2id never delays the store worker's calls. */
void lk_runtime_defer_password(lk_runtime *rt, lk_store_job fn, void *arg);
/* Stopping: calls queued on the store worker and the password pool that have not
 * started run with store NULL at once (they answer 503); running ones finish. */
void lk_runtime_cancel_store_calls(lk_runtime *rt);
/* Makes changes just committed through `store` visible to requests at once: applies
 * the change feed up to now (runtime/feed.h). */
void lk_runtime_refresh(lk_runtime *rt, lk_store *store);
/* Asks the background thread to read the feed now rather than at its next poll (a
 * hook for change notifications, e.g. PostgreSQL's LISTEN). Any thread. */
void lk_runtime_wake(lk_runtime *rt);

/* Revokes one token for good (RFC 7009): writes the revocation through `store` and
 * returns once it is durable and in force in this process; other processes apply it
 * from the feed. On the store worker. */
lk_code lk_runtime_revoke(lk_runtime *rt, lk_store *store, const lk_token_fields *token, int64_t now,
                          lk_error *err);

/* Starts sending the queued email (runtime/mailer.h) with the links based on the
 * public_url of now: call it after lk_runtime_default_public_url(). false with err
 * set on failure. lk_runtime_refresh() wakes it. */
bool lk_runtime_start_mail(lk_runtime *rt, lk_error *err);

/* writes the usage counts gathered so far (used at shutdown and by tests); false
 * when the store refused them (they are kept for the next write) */
bool lk_runtime_flush(lk_runtime *rt);
/* SIGHUP: reads the key file again and writes the usage counts on the writer,
 * waiting up to wait_ms for it; false when they are not written yet (the database
 * is busy: they stay queued for the next write) */
bool lk_runtime_hangup(lk_runtime *rt, int64_t wait_ms);

/* What /metrics and /readyz report of the running state (read without waiting on
 * the store; see runtime/prober.h for the database's side). */
typedef struct lk_runtime_gauges {
    int64_t catalog_generation;  /* the change feed's position the catalog reflects */
    int64_t catalog_age_ms;      /* since the catalog was last found to match the store */
    int64_t services, api_users; /* in the catalog */
    int64_t retired;             /* catalog entries replaced and not yet freed */
    int64_t full_loads;          /* of the catalog since start (the one at start included) */
    double load_seconds;         /* how long the load at start took */
    int64_t revoked_tokens;      /* revoked tokens known (until a day after they expire) */
    int64_t signing_key;         /* the id of the key that signs new tokens */
    int64_t pending_writes;      /* usage records waiting for the next write */
    int64_t writer_lag_ms;       /* since the background writer last wrote (or had nothing to) */
    int64_t write_failures;      /* background writes that failed (and were retried) since start */
    int64_t store_jobs;          /* calls waiting for or running on the store worker */
    int64_t store_wait_ms;       /* how long the oldest of them has been there */
    int64_t peers;               /* other serve processes on the database seen alive */
    int64_t limits_sync_us;      /* how long the last sync of the limits took */
    int64_t password_jobs;       /* console password calls waiting for or running on the password pool */
    int64_t password_wait_ms;    /* how long the oldest of them has been there */
} lk_runtime_gauges;
void lk_runtime_gauges_read(lk_runtime *rt, lk_runtime_gauges *out);
/* the readiness probe's last results (runtime/prober.h) */
struct lk_probe_state;
void lk_runtime_probe_read(lk_runtime *rt, struct lk_probe_state *out);

#endif
