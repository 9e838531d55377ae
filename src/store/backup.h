/*
 * backup — a consistent copy of the database while servers run, putting a copy back
 * into a stopped instance, and the hold a server keeps on its database so that a
 * restore cannot run under it (docs/operations.md#backup-and-restore).
 *
 * Only the embedded SQLite store has these; a PostgreSQL location is refused with a
 * pointer to pg_dump. Every failure leaves the database as it was: a backup writes a
 * temporary file next to FILE and renames it into place only when the copy is whole
 * and passes SQLite's integrity check; a restore replaces the database's pages in one
 * SQLite transaction, so a crash in the middle leaves the old database.
 */
#ifndef LK_STORE_BACKUP_H
#define LK_STORE_BACKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

/* what a backup or a restore copied */
typedef struct lk_backup_info {
    int schema_version;     /* the copy's (PRAGMA user_version) */
    int known_version;      /* the newest this binary knows; a restored older copy is
                             * migrated by `serve` (or `migrate`) */
    int64_t bytes;          /* size of the copy */
    int64_t roles, users, services;
} lk_backup_info;

/*
 * Copies the database at location into file with SQLite's online backup API, in one
 * read transaction: the copy is the database as of one instant, taken while servers
 * keep reading and writing it. The copy is a single self-contained file (rollback
 * journal mode, no -wal), mode 0600, fsync'ed with its folder before this returns.
 * An existing file is replaced only when replace is set (LK_EEXISTS otherwise).
 * LK_ENOTFOUND when there is no database at location; LK_ESCHEMA when it is not
 * latchkey's.
 */
lk_code lk_store_backup(const char *location, const char *file, bool replace, lk_backup_info *info,
                        lk_error *err);

/*
 * Replaces the database at location (created when missing) with the copy in file,
 * after checking that file passes SQLite's integrity check, is a latchkey database
 * and is not newer than this binary. Refused with LK_EINUSE while a server holds the
 * database (lk_store_hold) or another process has it locked; LK_ENOTFOUND when file
 * does not exist; LK_ESCHEMA when file is damaged or not latchkey's, or when the
 * database being replaced is not latchkey's.
 */
lk_code lk_store_restore(const char *location, const char *file, lk_backup_info *info, lk_error *err);

/*
 * A running server's hold on its database (a shared flock(2) on the file: several
 * servers may share one database), taken once the store has opened it. LK_EINUSE
 * while a restore runs on it. Whatever the result, pass *fd (-1 when the location
 * needs no hold) to lk_store_release() only after every store connection to the
 * database is closed: closing a descriptor of the file earlier would drop SQLite's
 * own locks on it.
 */
lk_code lk_store_hold(const char *location, int *fd, lk_error *err);
void lk_store_release(int fd);

#endif
