/*
 * persist — what the background thread writes to the store: the usage and error
 * counts gathered in memory (once a second, one transaction), and the clean-up of
 * what has run out (once a minute): revocations of expired tokens, ended console
 * sessions, rows of the change feed past its retention.
 *
 * Nothing here is on a request's path: a request counts in memory (runtime/usage.h)
 * and a failed write keeps its counts for the next attempt.
 */
#ifndef LK_RUNTIME_PERSIST_H
#define LK_RUNTIME_PERSIST_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/tokens.h"
#include "runtime/usage.h"
#include "store/store.h"

/* writes the counts added since the last call; false when the store refused them
 * (they are kept and go with the next call) */
bool lk_persist_counts(lk_usage *u, lk_store *s);

typedef struct lk_purge_policy {
    int64_t session_idle;        /* console sessions unused this long have ended */
    int64_t feed_retention;      /* feed rows older than this many seconds go ... */
    int64_t feed_max_rows;       /* ... and all but this many of the newest */
} lk_purge_policy;

/* forgets and deletes what ran out before now (each step on its own; a failure is
 * reported on stderr and tried again next time) */
void lk_persist_purge(lk_store *s, lk_tokens *t, const lk_purge_policy *p, int64_t now);

/* feed rows deleted by one prune at most, so that the write lock is held briefly */
#define LK_PRUNE_BATCH 50000
/* prunes one batch of the change feed; true when a full batch went (call again soon) */
bool lk_persist_prune_feed(lk_store *s, const lk_purge_policy *p, int64_t now);

#endif
