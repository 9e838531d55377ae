/*
 * runas — root working on a database that another user owns becomes that user first,
 * so that every file SQLite creates next to it (-wal, -shm, -journal, a new database)
 * belongs to the service that runs on it, never to root (docs/operations.md).
 */
#ifndef LK_UTIL_RUNAS_H
#define LK_UTIL_RUNAS_H

#include <stddef.h>

/*
 * When the process runs as root and path (or, when it does not exist yet, the nearest
 * folder on its way that does) belongs to another user, switches the whole process to
 * that user: its groups, then its uid, for good. Nothing happens otherwise. Call it
 * before any thread starts. Returns 0, or -1 with a sentence in err.
 */
int lk_become_owner(const char *path, char *err, size_t err_len);

#endif
