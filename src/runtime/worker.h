/*
 * worker — a store worker: threads, each with its own store connection, that run
 * the calls which must read or write the store (user management, the console,
 * durable token revocations; with a pool of its own, the console's password checks),
 * in the order queued — one at a time with one thread — so that request threads
 * never wait on the database.
 *
 * Stopping is bounded: once cancelled, a job not yet started runs with store NULL
 * and must answer without the store (503: the server is stopping); only the jobs
 * already running finish, each bounded by the store's busy timeout.
 */
#ifndef LK_RUNTIME_WORKER_H
#define LK_RUNTIME_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

typedef struct lk_worker lk_worker;

/* fn(arg, store) runs on a worker thread with that thread's own connection, or with
 * store NULL once the worker was cancelled (lk_worker_cancel): then it must finish
 * without the store */
typedef void (*lk_store_job)(void *arg, lk_store *store);

/* how a worker's threads show in ps and top: a name (at most 15 bytes) and a niceness
 * they run at at least (0: the process's own; 1-19 lower their priority, so that under
 * a full CPU the request threads come first) */
typedef struct lk_worker_opts {
    const char *name;
    int nice;
} lk_worker_opts;

/* opens one connection per thread and starts `threads` threads (at least one); NULL
 * with err set on failure */
lk_worker *lk_worker_start(const char *location, size_t threads, lk_worker_opts opts, lk_error *err);
/* jobs queued before lk_worker_stop; never after it */
void lk_worker_defer(lk_worker *w, lk_store_job fn, void *arg);
/* jobs waiting or running; *oldest_ms (may be NULL) gets when the oldest of them was
 * queued (monotonic ms, 0 when none) */
size_t lk_worker_load(lk_worker *w, int64_t *oldest_ms);
/* from now on, jobs not yet started run with store NULL (at once); any thread */
void lk_worker_cancel(lk_worker *w);
/* cancels, waits for the jobs running and the cancelled ones, then stops the threads
 * and closes their connections; NULL is fine */
void lk_worker_stop(lk_worker *w);

#endif
