/*
 * store_sqlite — opening the SQLite store: the file and its folder, the durability
 * settings, the migrations; then transactions, close, and the ops table.
 *
 * Invariants kept from open to close:
 *  - journal_mode is WAL (checked, not assumed), synchronous is FULL, foreign keys
 *    are enforced, and a writer waits up to 5 s for the write lock.
 *  - The schema is exactly the embedded migrations up to q->version: every one of
 *    them is recorded in schema_migrations and PRAGMA user_version mirrors the
 *    highest. A database recording a version this binary does not know is refused
 *    before anything is written to it; so is an older one unless the open is meant
 *    to migrate (serve, migrate), and a file that is not latchkey's at all
 *    (sqlite_inspect.c) in every case.
 *  - PRAGMA application_id is LK_SQLITE_APPLICATION_ID: set with the first
 *    migration, and on a database of an earlier latchkey the first time it is
 *    opened for writing.
 *  - A read-only open uses a read-only connection: no write, no write lock, no
 *    WAL switch, no file created (SQLite may add the -wal and -shm files next to a
 *    WAL database for its readers).
 *  - The file is created mode 0600 and missing folders mode 0700: it holds
 *    password and secret hashes.
 */
#include "store/sqlite/store_sqlite.h"
#include "store/sqlite/sqlite_internal.h"
#include "util/embedded.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* generated from src/store/migrations/ by tools/embed.c, in file order */
extern const lk_embedded_file lk_migrations[];

#define BUSY_TIMEOUT_MS 5000

/* --- the file and its folder ---------------------------------------------- */

/* mkdir -p of the folder holding path; folders it creates are mode 0700. */
static lk_code make_parent_dirs(const char *path, lk_error *err)
{
    char dir[PATH_MAX];
    if (strlen(path) >= sizeof dir)
        return lk_fail(err, LK_EINVAL, "database", "the database path is too long");
    strcpy(dir, path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return LK_OK;
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char keep = *p;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
            return lk_fail(err, LK_ESTORE, "database", "cannot create the folder %s: %s", dir,
                           strerror(errno));
        *p = keep;
        if (!keep)
            break;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return lk_fail(err, LK_ESTORE, "database", "%s is not a folder", dir);
    return LK_OK;
}

/* Creates an empty (valid, empty SQLite) file with mode 0600 unless one exists;
 * *created says which. */
static lk_code create_private_file(const char *path, bool *created, lk_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    *created = fd >= 0;
    if (fd >= 0) {
        close(fd);
        return LK_OK;
    }
    if (errno == EEXIST)
        return LK_OK;
    return lk_fail(err, LK_ESTORE, "database", "cannot create the database %s: %s", path,
                   strerror(errno));
}

/* --- settings -------------------------------------------------------------- */

/* Runs sql (a PRAGMA, a query) and copies the first column of its first row (or "") into
 * out; an SQLite result code. */
int lk_sq_first_text(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const unsigned char *v = sqlite3_column_text(st, 0);
            snprintf(out, cap, "%s", v ? (const char *)v : "");
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* A file that is not SQLite is a schema problem (unreadable), the rest storage. */
static lk_code open_failure(sqlite3 *db, int rc, const char *path, const char *what, lk_error *err)
{
    const char *why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT)
        return lk_fail(err, LK_ESCHEMA, "database", "%s is not a readable SQLite database (%s)", path, why);
    return lk_fail(err, LK_ESTORE, "database", "cannot open the database %s (%s): %s", path, what, why);
}

static lk_code apply_settings(sqlite3 *db, const char *path, lk_error *err)
{
    char val[32];
    int rc = lk_sq_first_text(db, "PRAGMA journal_mode=WAL", val, sizeof val);
    if (rc != SQLITE_OK)
        return open_failure(db, rc, path, "journal_mode", err);
    if (strcasecmp(val, "wal") != 0)
        return lk_fail(err, LK_ESTORE, "database",
                       "cannot switch the database %s to write-ahead logging (journal_mode is '%s')",
                       path, val);
    rc = lk_sq_first_text(db, "PRAGMA synchronous=FULL", val, sizeof val);
    if (rc != SQLITE_OK)
        return open_failure(db, rc, path, "synchronous", err);
    rc = lk_sq_first_text(db, "PRAGMA foreign_keys=ON", val, sizeof val);
    if (rc == SQLITE_OK)
        rc = lk_sq_first_text(db, "PRAGMA foreign_keys", val, sizeof val);
    if (rc != SQLITE_OK)
        return open_failure(db, rc, path, "foreign_keys", err);
    if (strcmp(val, "1") != 0)
        return lk_fail(err, LK_ESTORE, "database",
                       "this SQLite library does not enforce foreign keys; latchkey needs them");
    return LK_OK;
}

/* --- migrations ------------------------------------------------------------ */

/* The highest embedded version; checks that versions rise strictly in file order. */
static lk_code embedded_max_version(int *max, lk_error *err)
{
    *max = 0;
    for (const lk_embedded_file *m = lk_migrations; m->name; m++) {
        int v = lk_sq_migration_version(m->name);
        if (v <= *max)
            return lk_fail(err, LK_ESCHEMA, NULL,
                           "migration %s: its number must be greater than every earlier one's", m->name);
        *max = v;
    }
    return LK_OK;
}

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";

static const char SQL_MIGRATIONS_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at INTEGER NOT NULL)";
static const char SQL_MIGRATIONS_MAX[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";
static const char SQL_MIGRATION_APPLIED[] = "SELECT 1 FROM schema_migrations WHERE version = ?1";
static const char SQL_MIGRATION_RECORD[] =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)";

static lk_code run(lk_sq *q, const char *sql, const lk_sq_ctx *c, lk_error *err)
{
    sqlite3_stmt *st;
    lk_code code = lk_sq_prepare(q, sql, c, &st, err);
    return code != LK_OK ? code : lk_sq_exec(q, st, c, err);
}

static void read_int(lk_arena *a, sqlite3_stmt *st, void *out)
{
    *(int64_t *)out = lk_sq_int(st, 0);
}

/* Storage trouble (busy, I/O, full disk) versus a migration that does not fit. */
static lk_code migration_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY: case SQLITE_LOCKED: case SQLITE_IOERR: case SQLITE_FULL:
    case SQLITE_READONLY: case SQLITE_CANTOPEN: case SQLITE_NOMEM:
        return LK_ESTORE;
    default:
        return LK_ESCHEMA;
    }
}

/* Applies one embedded migration unless it is recorded already. */
static lk_code apply_migration(lk_sq *q, const lk_embedded_file *m, const lk_sq_ctx *c, lk_error *err)
{
    int version = lk_sq_migration_version(m->name);
    sqlite3_stmt *st;
    lk_code code = lk_sq_prepare(q, SQL_MIGRATION_APPLIED, c, &st, err);
    if (code != LK_OK)
        return code;
    lk_sq_bind_int(q, st, 1, version);
    int64_t one = 0;
    code = lk_sq_one(q, st, NULL, read_int, &one, c, err);
    if (code == LK_OK)
        return LK_OK;
    if (code != LK_ENOTFOUND)
        return code;

    char *emsg = NULL;
    int rc = sqlite3_exec(q->db, (const char *)m->data, NULL, NULL, &emsg);
    if (rc != SQLITE_OK) {
        code = lk_fail(err, migration_code(rc), NULL, "migration %s failed: %s", m->name,
                       emsg ? emsg : sqlite3_errstr(rc));
        sqlite3_free(emsg);
        return code;
    }
    code = lk_sq_prepare(q, SQL_MIGRATION_RECORD, c, &st, err);
    if (code != LK_OK)
        return code;
    lk_sq_bind_int(q, st, 1, version);
    lk_sq_bind_text(q, st, 2, m->name);
    lk_sq_bind_int(q, st, 3, (int64_t)time(NULL));
    lk_error why = {0};
    code = lk_sq_exec(q, st, c, &why);
    if (code != LK_OK)
        return lk_fail(err, code, NULL, "migration %s: cannot record it: %s", m->name, why.msg);
    return LK_OK;
}

/* The body of the migration transaction (see the file comment). */
static lk_code migrate_locked(lk_sq *q, int known, const lk_sq_ctx *c, lk_error *err)
{
    lk_code code = run(q, SQL_MIGRATIONS_TABLE, c, err);
    if (code != LK_OK)
        return code;
    sqlite3_stmt *st;
    code = lk_sq_prepare(q, SQL_MIGRATIONS_MAX, c, &st, err);
    if (code != LK_OK)
        return code;
    int64_t have = 0;
    code = lk_sq_one(q, st, NULL, read_int, &have, c, err);
    if (code != LK_OK)
        return code;
    if (have > known)
        return lk_fail(err, LK_ESCHEMA, "database",
                       "database schema version %lld is newer than this latchkey (knows up to %d); "
                       "use a newer latchkey binary", (long long)have, known);
    for (const lk_embedded_file *m = lk_migrations; m->name; m++) {
        code = apply_migration(q, m, c, err);
        if (code != LK_OK)
            return code;
    }
    /* the version is our own integer, not outside input */
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d", known,
             (int)LK_SQLITE_APPLICATION_ID);
    int rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return lk_sq_fail(q, rc, c, err);
    q->version = known;
    return LK_OK;
}

static lk_code migrate(lk_sq *q, lk_error *err)
{
    static const lk_sq_ctx c = {.op = "migrate", .noun = "migration"};
    int known;
    lk_code code = embedded_max_version(&known, err);
    if (code != LK_OK)
        return code;
    code = run(q, SQL_BEGIN, &c, err);
    if (code != LK_OK)
        return code;
    code = migrate_locked(q, known, &c, err);
    if (code == LK_OK)
        code = run(q, SQL_COMMIT, &c, err);
    if (code != LK_OK && !sqlite3_get_autocommit(q->db))
        sqlite3_exec(q->db, SQL_ROLLBACK, NULL, NULL, NULL);
    return code;
}

/* --- transactions and the rest of the connection --------------------------- */

static void sq_close(lk_store *s)
{
    if (!s)
        return;
    lk_sq *q = lk_sq_of(s);
    lk_sq_cache_free(q);
    sqlite3_close_v2(q->db);
    free(q);
}

static lk_code sq_begin(lk_store *s, lk_error *err)
{
    static const lk_sq_ctx c = {.op = "begin", .noun = "transaction"};
    return run(lk_sq_of(s), SQL_BEGIN, &c, err);
}

/* On failure the transaction is rolled back, so the connection is usable again. */
static lk_code sq_commit(lk_store *s, lk_error *err)
{
    static const lk_sq_ctx c = {.op = "commit", .noun = "transaction"};
    lk_sq *q = lk_sq_of(s);
    lk_code code = run(q, SQL_COMMIT, &c, err);
    if (code != LK_OK && !sqlite3_get_autocommit(q->db))
        sqlite3_exec(q->db, SQL_ROLLBACK, NULL, NULL, NULL);
    return code;
}

static void sq_rollback(lk_store *s)
{
    static const lk_sq_ctx c = {.op = "rollback", .noun = "transaction"};
    lk_sq *q = lk_sq_of(s);
    if (sqlite3_get_autocommit(q->db))
        return;
    run(q, SQL_ROLLBACK, &c, NULL);
}

static int sq_schema_version(lk_store *s)
{
    return lk_sq_of(s)->version;
}

static lk_code sq_ping(lk_store *s, int64_t timeout_ms, lk_error *err)
{
    static const lk_sq_ctx c = {.op = "ping", .noun = "database"};
    lk_sq *q = lk_sq_of(s);
    sqlite3_busy_timeout(q->db, (int)timeout_ms);
    lk_code code = run(q, SQL_BEGIN, &c, err);
    sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
    if (code == LK_OK)
        run(q, SQL_ROLLBACK, &c, NULL);
    return code;
}

static const lk_store_ops sqlite_ops = {
    .kind = "sqlite",
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .schema_version = sq_schema_version,
    .ping = sq_ping,

    .workspace_list = lk_sq_workspace_list,
    .workspace_get = lk_sq_workspace_get,
    .workspace_find = lk_sq_workspace_find,
    .workspace_insert = lk_sq_workspace_insert,

    .permission_list = lk_sq_permission_list,
    .permission_find = lk_sq_permission_find,
    .permission_insert = lk_sq_permission_insert,
    .permission_delete = lk_sq_permission_delete,
    .permission_roles = lk_sq_permission_roles,

    .role_list = lk_sq_role_list,
    .role_get = lk_sq_role_get,
    .role_find = lk_sq_role_find,
    .role_insert = lk_sq_role_insert,
    .role_update = lk_sq_role_update,
    .role_delete = lk_sq_role_delete,
    .role_holders = lk_sq_role_holders,
    .role_holder_counts = lk_sq_role_holder_counts,
    .role_workspaces = lk_sq_role_workspaces,

    .user_list = lk_sq_user_list,
    .user_count = lk_sq_user_count,
    .user_get = lk_sq_user_get,
    .user_find = lk_sq_user_find,
    .user_insert = lk_sq_user_insert,
    .user_update = lk_sq_user_update,
    .user_delete = lk_sq_user_delete,

    .invitation_insert = lk_sq_invitation_insert,
    .invitation_for_user = lk_sq_invitation_for_user,
    .invitation_by_hash = lk_sq_invitation_by_hash,
    .invitation_update = lk_sq_invitation_update,
    .users_expiring = lk_sq_users_expiring,
    .mail_insert = lk_sq_mail_insert,
    .mail_due = lk_sq_mail_due,
    .mail_update = lk_sq_mail_update,
    .mail_get = lk_sq_mail_get,
    .mail_list = lk_sq_mail_list,
    .mail_count = lk_sq_mail_count,
    .mail_counts = lk_sq_mail_counts,
    .reset_insert = lk_sq_reset_insert,
    .reset_get = lk_sq_reset_get,
    .reset_by_hash = lk_sq_reset_by_hash,
    .reset_for_user = lk_sq_reset_for_user,
    .reset_update = lk_sq_reset_update,
    .reset_end_user = lk_sq_reset_end_user,
    .notice_mark = lk_sq_notice_mark,

    .service_list = lk_sq_service_list,
    .service_count = lk_sq_service_count,
    .service_list_by_user = lk_sq_service_list_by_user,
    .service_find = lk_sq_service_find,
    .service_find_client = lk_sq_service_find_client,
    .service_insert = lk_sq_service_insert,
    .service_update = lk_sq_service_update,
    .service_delete = lk_sq_service_delete,

    .api_user_role_scan = lk_sq_api_user_role_scan,
    .api_user_get = lk_sq_api_user_get,
    .service_scan = lk_sq_service_scan,
    .service_get = lk_sq_service_get,
    .snapshot_begin = lk_sq_snapshot_begin,
    .snapshot_end = lk_sq_snapshot_end,
    .changes_since = lk_sq_changes_since,
    .changes_state = lk_sq_changes_state,
    .change_append = lk_sq_change_append,
    .changes_prune = lk_sq_changes_prune,
    .revocation_insert = lk_sq_revocation_insert,
    .revocation_get = lk_sq_revocation_get,
    .revocation_scan = lk_sq_revocation_scan,
    .revocation_purge = lk_sq_revocation_purge,
    .setting_get = lk_sq_setting_get,
    .setting_set = lk_sq_setting_set,
    .allow_list = lk_sq_allow_list,
    .allow_insert = lk_sq_allow_insert,
    .allow_delete = lk_sq_allow_delete,
    .gwroute_list = lk_sq_gwroute_list,
    .gwroute_insert = lk_sq_gwroute_insert,
    .gwroute_delete = lk_sq_gwroute_delete,
    .user_limits_list = lk_sq_user_limits_list,
    .user_limits_set = lk_sq_user_limits_set,
    .user_limits_delete = lk_sq_user_limits_delete,
    .usage_add = lk_sq_usage_add,
    .errors_add = lk_sq_errors_add,
    .usage_list = lk_sq_usage_list,
    .errors_list = lk_sq_errors_list,
    .limit_counts_put = lk_sq_limit_counts_put,
    .limit_counts_others = lk_sq_limit_counts_others,
    .limit_counts_prune = lk_sq_limit_counts_prune,

    .session_insert = lk_sq_session_insert,
    .session_find = lk_sq_session_find,
    .session_touch = lk_sq_session_touch,
    .session_delete = lk_sq_session_delete,
    .session_delete_user = lk_sq_session_delete_user,
    .session_purge = lk_sq_session_purge,
    .login_insert = lk_sq_login_insert,
    .login_list = lk_sq_login_list,
    .login_count = lk_sq_login_count,
    .audit_insert = lk_sq_audit_insert,
    .audit_list = lk_sq_audit_list,
    .audit_count = lk_sq_audit_count,
};

/* A database of an earlier latchkey (application_id 0) becomes latchkey's by name. */
static lk_code stamp(lk_sq *q, lk_error *err)
{
    static const lk_sq_ctx c = {.op = "stamp", .noun = "database"};
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA application_id = %d", (int)LK_SQLITE_APPLICATION_ID);
    lk_code code = run(q, SQL_BEGIN, &c, err);
    if (code != LK_OK)
        return code;
    int rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);
    code = rc == SQLITE_OK ? run(q, SQL_COMMIT, &c, err) : lk_sq_fail(q, rc, &c, err);
    if (code != LK_OK && !sqlite3_get_autocommit(q->db))
        sqlite3_exec(q->db, SQL_ROLLBACK, NULL, NULL, NULL);
    return code;
}

/* LK_OK when a database in this state may be opened so, else why not (err). */
static lk_code refusal(const char *path, lk_store_mode mode, const lk_store_info *info, lk_error *err)
{
    switch (info->state) {
    case LK_DB_FOREIGN:
        return lk_fail(err, LK_ESCHEMA, "database",
                       "%s is not a latchkey database (SQLite application_id 0x%08x, no latchkey schema); "
                       "latchkey leaves it alone: give --db the path of a latchkey database",
                       path, (unsigned)info->application_id);
    case LK_DB_NEWER:
        return lk_fail(err, LK_ESCHEMA, "database",
                       "database schema version %d is newer than this latchkey (knows up to %d); "
                       "use a newer latchkey binary", info->version, info->known);
    case LK_DB_OLDER:
        if (mode == LK_STORE_MIGRATE)
            return LK_OK;
        return lk_fail(err, LK_ESCHEMA, "database",
                       "the database's schema is older than this latchkey's (%d of its migrations not applied; "
                       "the database records up to version %d, this latchkey knows up to %d): run 'latchkey "
                       "migrate' first (a running older server should be stopped; 'latchkey serve' migrates too)",
                       info->missing, info->version, info->known);
    case LK_DB_MISSING:
    case LK_DB_EMPTY:
        if (mode != LK_STORE_READ)
            return LK_OK;
        return lk_fail(err, LK_ENOTFOUND, "database",
                       "there is no latchkey database at %s%s; check --db (or $LATCHKEY_DB), or create one with "
                       "'latchkey migrate'", path, info->state == LK_DB_EMPTY ? " (the file is empty)" : "");
    case LK_DB_CURRENT:
        return LK_OK;
    }
    return LK_OK;
}

static sqlite3 *open_connection(const char *path, bool read_only, lk_error *err)
{
    sqlite3 *db = NULL;
    int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        open_failure(db, rc, path, "open", err);
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    return db;
}

lk_store *lk_store_sqlite_open(const char *path, lk_store_mode mode, lk_error *err)
{
    if (!path || !*path || strcmp(path, ":memory:") == 0) {
        lk_fail(err, LK_EINVAL, "database", "the database needs a file path (in-memory databases are not durable)");
        return NULL;
    }
    lk_store_info info;
    if (lk_store_sqlite_inspect(path, &info, err) != LK_OK || refusal(path, mode, &info, err) != LK_OK)
        return NULL;
    bool read_only = mode == LK_STORE_READ;
    bool created = false;
    if (!read_only && (make_parent_dirs(path, err) != LK_OK || create_private_file(path, &created, err) != LK_OK))
        return NULL;
    /* a file that appeared since it was looked at (another latchkey making the same new
     * database, or anything else) is looked at again before it is written */
    if (!read_only && info.state == LK_DB_MISSING && !created &&
        (lk_store_sqlite_inspect(path, &info, err) != LK_OK || refusal(path, mode, &info, err) != LK_OK))
        return NULL;
    sqlite3 *db = open_connection(path, read_only, err);
    if (!db)
        return NULL;
    if (!read_only && apply_settings(db, path, err) != LK_OK) {
        sqlite3_close(db);
        return NULL;
    }
    lk_sq *q = lk_xcalloc(1, sizeof *q);
    q->base.ops = &sqlite_ops;
    q->db = db;
    q->version = info.version;
    lk_code code = LK_OK;
    if (!read_only && info.state != LK_DB_CURRENT)
        code = migrate(q, err);     /* new, empty, or older with LK_STORE_MIGRATE */
    else if (!read_only && info.application_id != LK_SQLITE_APPLICATION_ID)
        code = stamp(q, err);       /* adopted: made by an earlier latchkey */
    if (code != LK_OK) {
        sq_close(&q->base);
        return NULL;
    }
    return &q->base;
}
