/*
 * runtime — the state of a running server: the catalog snapshot, the token table,
 * the limiters, the usage counts, the failed-authentication throttle, and the one
 * background thread that talks to the store.
 *
 * Request threads never touch the store: they read the catalog and the in-memory
 * tables and queue what must be persisted; calls that must read or write the store
 * run on the store worker (lk_runtime_defer). The background thread polls the store's
 * generation every 200 ms (a change made with the CLI reaches the server within
 * that), and once a second writes queued tokens and usage counts in one transaction.
 */
#ifndef LK_RUNTIME_RUNTIME_H
#define LK_RUNTIME_RUNTIME_H

#include "config/config.h"
#include "core/error.h"
#include "runtime/catalog.h"
#include "runtime/limiter.h"
#include "runtime/tokens.h"
#include "runtime/usage.h"

typedef struct lk_runtime lk_runtime;

/* the quota day of an instant, in the configured time zone */
typedef struct lk_day {
    char text[LK_DAY_LEN + 1];   /* "YYYY-MM-DD" */
    int64_t number;              /* days since 1970-01-01 of that local date */
    int64_t next_midnight;       /* when the next day starts (epoch seconds) */
} lk_day;

lk_runtime *lk_runtime_open(const lk_config *cfg, lk_error *err);
/* stops the background thread after a last flush, frees everything */
void lk_runtime_close(lk_runtime *rt);

const lk_config *lk_runtime_config(const lk_runtime *rt);
/* sets public_url when the configuration left it empty; call before serving */
void lk_runtime_default_public_url(lk_runtime *rt, const char *url);
/* a reference to the current snapshot; give it back with lk_catalog_unref() */
lk_catalog *lk_runtime_catalog(lk_runtime *rt);
lk_tokens *lk_runtime_tokens(lk_runtime *rt);
lk_usage *lk_runtime_usage(lk_runtime *rt);
lk_limiter *lk_runtime_instance_limiter(lk_runtime *rt);
/* created on first use, lives until close */
lk_limiter *lk_runtime_user_limiter(lk_runtime *rt, int64_t user_id, const lk_day *today);
void lk_runtime_day(lk_runtime *rt, int64_t now, lk_day *out);
/* the day `days_back` days before now's day, as text */
void lk_runtime_day_text(lk_runtime *rt, int64_t now, int days_back, char out[LK_DAY_LEN + 1]);

/* queue for the store (copied) */
void lk_runtime_persist_token(lk_runtime *rt, const lk_token_rec *rec);
void lk_runtime_persist_revoke(lk_runtime *rt, const char *token_hash, int64_t at);

/* failed token requests: true (and seconds to wait) when key has failed too often */
bool lk_runtime_auth_throttled(lk_runtime *rt, const char *key, int64_t now, int64_t *retry_after);
/* the same against another limit of failures per window (console sign-ins) */
bool lk_runtime_auth_throttled_at(lk_runtime *rt, const char *key, int64_t limit, int64_t now, int64_t *retry_after);
void lk_runtime_auth_failed(lk_runtime *rt, const char *key, int64_t now);

/* Work that needs the store, off the request threads (user management calls):
 * fn(arg, store) runs on the runtime's store worker, one job at a time, in the
 * order queued, with the worker's own connection. Jobs queued before close run. */
typedef void (*lk_store_job)(void *arg, lk_store *store);
void lk_runtime_defer(lk_runtime *rt, lk_store_job fn, void *arg);
/* Makes a change just committed through `store` visible to requests at once:
 * rebuilds the catalog and revokes the tokens the change invalidates. */
void lk_runtime_refresh(lk_runtime *rt, lk_store *store);

/* Starts sending the queued email (runtime/mailer.h) with the links based on the
 * public_url of now: call it after lk_runtime_default_public_url(). false with err
 * set on failure. lk_runtime_refresh() wakes it. */
bool lk_runtime_start_mail(lk_runtime *rt, lk_error *err);

/* writes what is queued now (used at shutdown and by tests of durability) */
void lk_runtime_flush(lk_runtime *rt);

/* What /metrics and /readyz report of the running state (read without waiting on
 * the store; see runtime/prober.h for the database's side). */
typedef struct lk_runtime_gauges {
    int64_t catalog_generation;
    int64_t catalog_age_ms;      /* since the catalog was last found to match the store */
    int64_t services, api_users; /* in the catalog */
    int64_t tokens;              /* in the token table */
    int64_t pending_writes;      /* tokens and revocations waiting for the next write */
    int64_t writer_lag_ms;       /* since the background writer last wrote (or had nothing to) */
    int64_t write_failures;      /* background writes that failed (and were retried) since start */
    int64_t store_jobs;          /* calls waiting for or running on the store worker */
    int64_t store_wait_ms;       /* how long the oldest of them has been there */
} lk_runtime_gauges;
void lk_runtime_gauges_read(lk_runtime *rt, lk_runtime_gauges *out);
/* the readiness probe's last results (runtime/prober.h) */
struct lk_probe_state;
void lk_runtime_probe_read(lk_runtime *rt, struct lk_probe_state *out);

#endif
