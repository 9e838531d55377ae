/*
 * store_sqlite — the embedded SQLite implementation of the storage interface.
 *
 * One lk_store is one SQLite connection (opened without SQLite's own mutex: one
 * thread at a time, as store.h requires). The database runs in WAL mode with
 * synchronous=FULL, so a COMMIT that returned is on disk; foreign keys are on, so
 * the schema itself refuses deleting what is still referenced. docs/storage.md
 * describes the tables and how migrations are added.
 */
#ifndef LK_STORE_SQLITE_STORE_SQLITE_H
#define LK_STORE_SQLITE_STORE_SQLITE_H

#include "store/store.h"

/* SQLite's application_id of a latchkey database: "LKEY" (docs/storage.md) */
#define LK_SQLITE_APPLICATION_ID 0x4C4B4559u

/*
 * Opens the SQLite database at path as mode says (store.h): a new or empty one gets
 * every migration, an older one only with LK_STORE_MIGRATE, in one transaction
 * that also stamps the application_id. Returns NULL with err set on failure:
 * LK_ESCHEMA for a file that is not latchkey's, a newer schema or (unless migrating)
 * an older one, LK_ENOTFOUND when reading a file that is missing or empty,
 * LK_ESTORE otherwise. Close with s->ops->close(s).
 */
lk_store *lk_store_sqlite_open(const char *path, lk_store_mode mode, lk_error *err);

/* What the file at path holds (sqlite_inspect.c), read through a read-only
 * connection of its own. */
lk_code lk_store_sqlite_inspect(const char *path, lk_store_info *out, lk_error *err);

/* The leading number of a migration file name ("0001_init.sql" → 1), or -1. */
int lk_sq_migration_version(const char *name);

#endif
