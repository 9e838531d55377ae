/*
 * feed — keeps the catalog (and the token revocations and keys) current by tailing
 * the store's change feed (store.h): each row names one user, service, role,
 * setting or revocation, and only that is read again.
 *
 * A full load reads everything in one read view and replaces only the entries that
 * differ, then removes those that are gone — the same at start and when the feed
 * was pruned past this process's position (or the backlog is larger than a load),
 * so memory stays near one copy of the instance throughout.
 *
 * Threads: lk_feed_poll() may be called by the background thread (every 200 ms, or
 * when woken) and by the store worker right after its own commits; the catalog's
 * write lock makes them take turns, and is held across their store reads (no
 * request thread ever takes it). Each caller passes its own store connection.
 */
#ifndef LK_RUNTIME_FEED_H
#define LK_RUNTIME_FEED_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "runtime/catalog.h"
#include "runtime/tokens.h"
#include "store/store.h"

typedef struct lk_feed lk_feed;

/* what one poll did, for logs, metrics and tests */
typedef struct lk_feed_stats {
    int64_t position;          /* the seq the catalog reflects after the poll */
    size_t applied;            /* rows read */
    size_t reread;             /* entries read again (after removing repeats) */
    bool full_load;            /* everything was read */
    bool keys_changed;         /* a 'keys' row: the key file was read again */
} lk_feed_stats;

lk_feed *lk_feed_new(lk_catalog *cat, lk_tokens *tokens);
void lk_feed_free(lk_feed *f);

/* Loads everything (at start). */
lk_code lk_feed_load(lk_feed *f, lk_store *s, int64_t now, lk_feed_stats *st, lk_error *err);
/* Applies the rows added since the last poll. Nothing changes on failure (the next
 * poll tries again from the same position). */
lk_code lk_feed_poll(lk_feed *f, lk_store *s, int64_t now, lk_feed_stats *st, lk_error *err);

/* full loads done since the start (the first one included) */
uint64_t lk_feed_full_loads(const lk_feed *f);

#endif
