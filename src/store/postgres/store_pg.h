/*
 * store_pg — the PostgreSQL implementation of the storage interface, for a cluster
 * of latchkey nodes on one database (docs/deployment.md).
 *
 * One lk_store is one libpq connection (one thread at a time, as store.h requires).
 * The transaction contract of store.h ("begin takes the write lock") becomes a
 * transaction-level advisory lock (key LK_PG_LOCK_KEY) taken by begin(): writers of
 * every node are serialised as SQLite serialises its writers, so the checks the core
 * makes inside a transaction still hold at commit, and change-feed rows commit in
 * seq order. COMMIT returns once PostgreSQL reports the transaction durable.
 */
#ifndef LK_STORE_PG_STORE_PG_H
#define LK_STORE_PG_STORE_PG_H

#include "store/store.h"

/* the advisory lock of begin() and of every change-feed append ("LKEY") */
#define LK_PG_LOCK_KEY 1280002393

/*
 * Opens the database a postgres:// or postgresql:// URL names, as mode says
 * (store.h): an empty schema gets every migration, an older one only with
 * LK_STORE_MIGRATE (in one transaction, under the advisory lock, so that nodes
 * starting together migrate once). Returns NULL with err set: LK_ESCHEMA for a
 * schema that is not latchkey's, newer, or (unless migrating) older; LK_ENOTFOUND
 * when reading an empty one; LK_ESTORE when the server cannot be reached.
 */
lk_store *lk_store_pg_open(const char *url, lk_store_mode mode, lk_error *err);

/* What the database holds, read without writing anything. */
lk_code lk_store_pg_inspect(const char *url, lk_store_info *out, lk_error *err);

/*
 * Waits up to timeout_ms for a change-feed notification on s (LISTEN
 * latchkey_changes, started on first use); *woken tells whether one came. A lost
 * connection is opened again on the next call (the caller polls the feed meanwhile).
 * Not inside a transaction. s is used by the calling thread only.
 */
lk_code lk_store_pg_wait_change(lk_store *s, int64_t timeout_ms, bool *woken, lk_error *err);

#endif
