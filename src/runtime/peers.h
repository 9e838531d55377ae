/*
 * peers — the limits of several `latchkey serve` processes on one database
 * (docs/server.md#limits-across-processes).
 *
 * Each process has a random id. A few times a second (on the writer, never on a
 * request thread) it publishes the counts of every limiter it has — the instance's
 * and each API user's — with a heartbeat, in one transaction, then reads the sums of
 * the other processes and gives each limiter its share (runtime/limiter.h). A process
 * whose rows stop coming (it died) stops counting for the others: its calls in flight
 * after LK_PEERS_ALIVE seconds, its calls per second and per day as they age out of
 * the window and the day.
 *
 * If this process cannot sync for LK_PEERS_STALE_MS (the database is locked or gone),
 * its limiters count alone, as a single process would: a store stall is not a REST
 * outage. The bound across processes does not hold meanwhile; it is logged.
 */
#ifndef LK_RUNTIME_PEERS_H
#define LK_RUNTIME_PEERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/limiter.h"
#include "store/store.h"
#include "util/map.h"

#define LK_PEERS_ALIVE 3           /* seconds: a process not heard from for longer is gone */
#define LK_PEERS_STALE_MS 5000     /* without a sync for longer, count alone */

typedef struct lk_peers lk_peers;

/* the limiters of a process: the instance's, and the users' (lk_map by user id, under
 * lock, whose values live until the process ends) */
typedef struct lk_peers_limiters {
    lk_limiter *instance;
    pthread_mutex_t *lock;
    lk_map *users;
} lk_peers_limiters;

/* auth_window: the token endpoints' throttle window (auth_fail_window); capacity: of
 * the table of the others' failures */
lk_peers *lk_peers_new(int64_t auth_window, size_t capacity);
void lk_peers_free(lk_peers *p);

/* The rate windows' seconds as published: false (the default) the limiters' own
 * CLOCK_MONOTONIC seconds, right for the processes of one machine (SQLite); true the
 * epoch seconds (wall clock), which nodes on different machines share as far as their
 * clocks agree (PostgreSQL; docs/server.md#limits-across-nodes). Before the first sync. */
void lk_peers_wall_clock(lk_peers *p, bool wall);

/* One sync through store at now (seconds) on quota day `day`. false (err set) when the
 * store failed; the limiters keep what they had. */
bool lk_peers_sync(lk_peers *p, lk_store *store, const lk_peers_limiters *lims, int64_t now, int64_t day,
                   lk_error *err);
/* A clean stop: the others stop counting this process as alive at once (rather than
 * after LK_PEERS_ALIVE seconds). Best effort. */
void lk_peers_leave(lk_peers *p, lk_store *store, int64_t now);
/* From the background thread: when the last sync is older than LK_PEERS_STALE_MS, the
 * limiters count alone (once, until a sync succeeds again). */
void lk_peers_check(lk_peers *p, const lk_peers_limiters *lims, int64_t day);

/*
 * Failed authentications at the token endpoints, shared like the limits: a failure of
 * a throttle key (the BLAKE2b-128 of the key the throttle uses) is published at the next
 * sync, counted per window of auth_window seconds (aligned to the epoch); the others'
 * failures of a key in the current window are read back. So a key throttled on one
 * process is throttled on every other within a sync or two.
 */
#define LK_PEERS_KEY_BYTES 16
#define LK_PEERS_FAILED_MAX 10000  /* keys of this process published per window */
void lk_peers_failed(lk_peers *p, const unsigned char key[LK_PEERS_KEY_BYTES], int64_t now);
/* the others' failures of key in the current window; *ends: when that window ends */
int64_t lk_peers_others_failed(lk_peers *p, const unsigned char key[LK_PEERS_KEY_BYTES], int64_t now, int64_t *ends);

/* other processes seen alive at the last sync; how long it took (microseconds) */
int64_t lk_peers_alive(lk_peers *p);
int64_t lk_peers_sync_us(lk_peers *p);
/* other processes are alive and the last sync is fresh: a new limiter starts with its
 * slice in force (it knows nothing of the others' counts until the next sync) */
bool lk_peers_shared(lk_peers *p);

#endif
