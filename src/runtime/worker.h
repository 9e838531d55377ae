/*
 * worker — the store worker: one thread with its own store connection that runs,
 * one at a time and in the order queued, the calls that must read or write the
 * store (user management, the console, durable token revocations), so that request
 * threads never wait on the database.
 */
#ifndef LK_RUNTIME_WORKER_H
#define LK_RUNTIME_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

typedef struct lk_worker lk_worker;

/* fn(arg, store) runs on the worker thread with the worker's own connection */
typedef void (*lk_store_job)(void *arg, lk_store *store);

/* opens the worker's connection and starts its thread; NULL with err set on failure */
lk_worker *lk_worker_start(const char *location, lk_error *err);
void lk_worker_defer(lk_worker *w, lk_store_job fn, void *arg);
/* jobs waiting or running; *oldest_ms (may be NULL) gets when the oldest of them was
 * queued (monotonic ms, 0 when none) */
size_t lk_worker_load(lk_worker *w, int64_t *oldest_ms);
/* runs every job queued so far, then stops the thread and closes the connection */
void lk_worker_stop(lk_worker *w);

#endif
