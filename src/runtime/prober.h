/*
 * prober — the readiness probe's eyes on the database: a thread with its own store
 * connection that, once a second, takes the database's write lock and gives it back
 * at once (waiting at most ready_db_timeout_ms), and every five seconds counts the
 * mail queue by state. Requests read the last results (lk_prober_read) and never
 * wait for the database themselves.
 */
#ifndef LK_RUNTIME_PROBER_H
#define LK_RUNTIME_PROBER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

typedef struct lk_prober lk_prober;

typedef struct lk_probe_state {
    bool probed;              /* a probe has finished since start */
    bool db_ok;               /* the last one had the write lock */
    int64_t db_ms;            /* ... after this many milliseconds */
    int64_t since_ms;         /* milliseconds since the last probe finished */
    int64_t waiting_ms;       /* how long the probe running now has waited (0: none running) */
    char db_error[200];       /* why the last one failed */
    int64_t mail[4];          /* queued, sent, failed, cancelled; -1 before the first count */
} lk_probe_state;

/* opens its own connection to location and starts the thread; NULL with err set */
lk_prober *lk_prober_start(const char *location, int64_t timeout_ms, lk_error *err);
void lk_prober_stop(lk_prober *p);     /* NULL is fine */
void lk_prober_read(lk_prober *p, lk_probe_state *out);

/* milliseconds of the monotonic clock */
int64_t lk_mono_ms(void);

#endif
