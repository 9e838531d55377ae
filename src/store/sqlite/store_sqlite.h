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

/*
 * Opens (creating as needed, folders included) the SQLite database at path and
 * applies pending migrations in one transaction. Returns NULL with err set on
 * failure: LK_ESCHEMA when the database was written by a newer latchkey or is not
 * a database, LK_ESTORE otherwise. Close with s->ops->close(s).
 */
lk_store *lk_store_sqlite_open(const char *path, lk_error *err);

/* The newest schema version this binary's embedded migrations reach. */
int lk_store_sqlite_known_version(void);

#endif
