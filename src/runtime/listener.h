/*
 * listener — wakes the feed when the database says it changed: a thread with its
 * own store connection waiting on the store's change notifications (PostgreSQL:
 * LISTEN latchkey_changes, sent at the commit of every transaction that appends to
 * the change feed), so that a change made on another node reaches this one at once
 * instead of at the next 200 ms poll. A store without notifications (SQLite) needs
 * no listener: lk_listener_start returns NULL and the feed is polled as before; so
 * it is, as the fallback, while the connection is lost.
 */
#ifndef LK_RUNTIME_LISTENER_H
#define LK_RUNTIME_LISTENER_H

#include "core/error.h"

typedef struct lk_listener lk_listener;

/* wake(ctx) is called on the listener's thread for each notification. NULL when
 * the store has no notifications, or (err set) when it cannot be opened. */
lk_listener *lk_listener_start(const char *location, void (*wake)(void *ctx), void *ctx, lk_error *err);
void lk_listener_stop(lk_listener *l); /* NULL is fine; returns within about WAIT_MS */

#endif
