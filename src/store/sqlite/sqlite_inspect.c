/*
 * sqlite_inspect — whose is a database file, and how old is its schema? Looked at
 * through a read-only connection of its own before anything opens the file for
 * writing, so that a file which is not latchkey's is refused untouched (byte for
 * byte: a read-only connection never writes the database file).
 *
 * A file is latchkey's when its SQLite application_id is LK_SQLITE_APPLICATION_ID,
 * or -- a database made before latchkey set it -- when it is 0 and the file records
 * latchkey's first migration under its name in schema_migrations; such a database
 * is adopted (stamped the next time it is opened for writing). Its schema is current
 * when every embedded migration is recorded, older when some are missing, newer
 * when it records one this binary does not know.
 */
#include "store/sqlite/store_sqlite.h"
#include "util/embedded.h"

#include <errno.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

extern const lk_embedded_file lk_migrations[];

#define BUSY_TIMEOUT_MS 5000

/* The leading number of a migration file name ("0001_init.sql" → 1), or -1. */
int lk_sq_migration_version(const char *name)
{
    int v = 0;
    const char *p = name;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > 100000000)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return p == name ? -1 : v;
}

static bool embedded(int version)
{
    for (const lk_embedded_file *m = lk_migrations; m->name; m++)
        if (lk_sq_migration_version(m->name) == version)
            return true;
    return false;
}

static int n_embedded(void)
{
    int n = 0;
    for (const lk_embedded_file *m = lk_migrations; m->name; m++)
        n++;
    return n;
}

/* the first column of the first row of sql as an integer (0 without a row) */
static int int_of(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    *out = 0;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *out = sqlite3_column_int64(st, 0);
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    return rc;
}

static lk_code failure(sqlite3 *db, int rc, const char *path, lk_error *err)
{
    const char *why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT)
        return lk_fail(err, LK_ESCHEMA, "database",
                       "%s is not a latchkey database: it is not a readable SQLite database (%s); "
                       "latchkey leaves it alone", path, why);
    return lk_fail(err, LK_ESTORE, "database", "cannot read the database %s: %s", path, why);
}

/* the recorded migrations against the embedded ones; *ours false when the table
 * does not name latchkey's first migration */
static int read_migrations(sqlite3 *db, lk_store_info *info, bool *ours)
{
    int64_t has_table = 0;
    int rc = int_of(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
                    &has_table);
    *ours = false;
    if (rc != SQLITE_OK || !has_table)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, "SELECT version, name FROM schema_migrations ORDER BY version", -1, &st, NULL);
    int recorded = 0;
    bool unknown = false;
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int v = sqlite3_column_int(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        if (v == 1 && name && lk_migrations[0].name && strcmp(name, lk_migrations[0].name) == 0)
            *ours = true;
        if (v > info->version)
            info->version = v;
        if (embedded(v))
            recorded++;
        else
            unknown = true;
        rc = SQLITE_OK;
    }
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    sqlite3_finalize(st);
    if (rc == SQLITE_OK && *ours) {
        info->state = unknown ? LK_DB_NEWER : recorded == n_embedded() ? LK_DB_CURRENT : LK_DB_OLDER;
        info->missing = n_embedded() - recorded;
    }
    return rc;
}

lk_code lk_store_sqlite_inspect(const char *path, lk_store_info *info, lk_error *err)
{
    memset(info, 0, sizeof *info);
    for (const lk_embedded_file *m = lk_migrations; m->name; m++)
        if (lk_sq_migration_version(m->name) > info->known)
            info->known = lk_sq_migration_version(m->name);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT) {
            info->state = LK_DB_MISSING;
            return LK_OK;
        }
        return lk_fail(err, LK_ESTORE, "database", "cannot read the database %s: %s", path, strerror(errno));
    }
    if (!S_ISREG(sb.st_mode))
        return lk_fail(err, LK_ESTORE, "database", "%s is not a file", path);
    if (sb.st_size == 0) {
        info->state = LK_DB_EMPTY;
        return LK_OK;
    }
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(db, 1);
        sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    }
    int64_t app = 0, user_version = 0, objects = 0;
    if (rc == SQLITE_OK)
        rc = int_of(db, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK)
        rc = int_of(db, "PRAGMA user_version", &user_version);
    if (rc == SQLITE_OK)
        rc = int_of(db, "SELECT count(*) FROM sqlite_master", &objects);
    info->application_id = (uint32_t)app;
    bool ours = false;
    info->state = LK_DB_FOREIGN;
    if (rc == SQLITE_OK && app == 0 && user_version == 0 && objects == 0)
        info->state = LK_DB_EMPTY;
    else if (rc == SQLITE_OK && (app == 0 || (uint32_t)app == LK_SQLITE_APPLICATION_ID))
        rc = read_migrations(db, info, &ours);
    /* a file that says it is latchkey's but lacks the schema is not ours to write */
    if (rc == SQLITE_OK && info->state != LK_DB_EMPTY && !ours)
        info->state = LK_DB_FOREIGN;
    lk_code code = rc == SQLITE_OK ? LK_OK : failure(db, rc, path, err);
    sqlite3_close_v2(db);
    return code;
}
