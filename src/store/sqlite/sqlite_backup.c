/*
 * sqlite_backup — backup, restore and the server's hold on its database file
 * (store/backup.h), with SQLite's online backup API.
 *
 * Invariants:
 *  - A backup copies the source in one sqlite3_backup_step(-1), that is in one read
 *    transaction: in WAL mode writers go on meanwhile and the copy is the database of
 *    one instant. The copy is written under a temporary name next to FILE and renamed
 *    into place only once it is whole, in rollback-journal mode, fsync'ed and checked.
 *  - A restore writes the destination in one transaction of the backup API (under
 *    synchronous=FULL), only after the copy passed the integrity check, is latchkey's
 *    and is not newer than this binary, and while it holds an exclusive flock(2) on
 *    the destination, which every running server holds shared (lk_store_hold).
 *  - No descriptor of the database file that SQLite also has open is closed before
 *    SQLite's own connections are: closing any descriptor of a file drops the
 *    process's POSIX locks on it, SQLite's included.
 */
#include "store/backup.h"
#include "store/sqlite/store_sqlite.h"
#include "store/sqlite/sqlite_internal.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000
#define STEP_RETRIES 50         /* a busy source or destination: tries, 100 ms apart */

/* --- small helpers ---------------------------------------------------------- */

static int64_t query_int(sqlite3 *db, const char *sql)
{
    char v[32];
    return lk_sq_first_text(db, sql, v, sizeof v) == SQLITE_OK ? strtoll(v, NULL, 10) : -1;
}

/* busy or locked: another process has the file */
static bool is_busy(int rc)
{
    return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

static lk_code sqlite_failure(sqlite3 *db, int rc, const char *path, const char *what, lk_error *err)
{
    const char *why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (is_busy(rc))
        return lk_fail(err, LK_EINUSE, "database", "%s is locked by another process (%s); try again", path, what);
    if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT)
        return lk_fail(err, LK_ESCHEMA, "database", "%s is not a readable SQLite database (%s)", path, why);
    return lk_fail(err, LK_ESTORE, "database", "%s: %s: %s", path, what, why);
}

static lk_code open_db(const char *path, int flags, sqlite3 **db, lk_error *err)
{
    *db = NULL;
    int rc = sqlite3_open_v2(path, db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        lk_code code = sqlite_failure(*db, rc, path, "open", err);
        sqlite3_close(*db);
        *db = NULL;
        return code;
    }
    sqlite3_extended_result_codes(*db, 1);
    sqlite3_busy_timeout(*db, BUSY_TIMEOUT_MS);
    return LK_OK;
}

/* SQLite's integrity check of every table and index: LK_ESCHEMA with its first complaint */
static lk_code check_integrity(sqlite3 *db, const char *path, lk_error *err)
{
    char v[300];
    int rc = lk_sq_first_text(db, "PRAGMA integrity_check(1)", v, sizeof v);
    if (rc != SQLITE_OK)
        return sqlite_failure(db, rc, path, "integrity check", err);
    if (strcmp(v, "ok") != 0)
        return lk_fail(err, LK_ESCHEMA, "file", "%s fails SQLite's integrity check: %s", path, v);
    return LK_OK;
}

/*
 * The one test of "this file is a latchkey database" that backup and restore make:
 * the store's own (lk_store_sqlite_inspect: latchkey's application_id, or none and
 * latchkey's migrations), so that the rule has one definition. `shown` names the file
 * in the message; *info is filled.
 */
static lk_code check_latchkey(const char *path, const char *shown, lk_store_info *info, lk_error *err)
{
    lk_code code = lk_store_sqlite_inspect(path, info, err);
    if (code != LK_OK)
        return code;
    if (info->state == LK_DB_CURRENT || info->state == LK_DB_OLDER || info->state == LK_DB_NEWER)
        return LK_OK;
    return lk_fail(err, LK_ESCHEMA, "file", "%s is not a latchkey database", shown);
}

static void count_records(sqlite3 *db, lk_backup_info *info)
{
    info->roles = query_int(db, "SELECT count(*) FROM roles");
    info->users = query_int(db, "SELECT count(*) FROM users");
    info->services = query_int(db, "SELECT count(*) FROM services");
}

/* Copies every page of src into dst in one step (one read transaction on src, one
 * write transaction on dst), retrying while either is busy. */
static lk_code copy_pages(sqlite3 *dst, sqlite3 *src, const char *dst_name, lk_error *err)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b)
        return sqlite_failure(dst, sqlite3_errcode(dst), dst_name, "backup", err);
    int rc;
    for (int tries = 0;; tries++) {
        rc = sqlite3_backup_step(b, -1);
        if (rc == SQLITE_DONE || !is_busy(rc) || tries >= STEP_RETRIES)
            break;
        sqlite3_sleep(100);
    }
    int fin = sqlite3_backup_finish(b);
    if (rc == SQLITE_DONE)
        rc = fin;
    if (rc != SQLITE_OK && rc != SQLITE_DONE)
        return sqlite_failure(dst, rc, dst_name, "copy", err);
    return LK_OK;
}

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* fsync of the folder holding path, so that a rename into it is durable */
static int sync_parent(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int sync_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* --- backup --------------------------------------------------------------------- */

/* The copy in tmp (written, closed): the journal mode of a single file, checked,
 * counted, on disk. */
static lk_code finish_copy(const char *tmp, const char *file, lk_backup_info *info, lk_error *err)
{
    sqlite3 *db;
    lk_code code = open_db(tmp, SQLITE_OPEN_READWRITE, &db, err);
    if (code != LK_OK)
        return code;
    char mode[16];
    int rc = lk_sq_first_text(db, "PRAGMA journal_mode=DELETE", mode, sizeof mode);
    if (rc != SQLITE_OK)
        code = sqlite_failure(db, rc, file, "journal mode", err);
    if (code == LK_OK)
        code = check_integrity(db, file, err);
    if (code == LK_OK)
        count_records(db, info);
    sqlite3_close(db);
    lk_store_info copy;
    if (code == LK_OK && (code = check_latchkey(tmp, file, &copy, err)) == LK_OK)
        info->schema_version = copy.version;
    if (code != LK_OK)
        return code;
    struct stat sb;
    if (sync_file(tmp) != 0 || stat(tmp, &sb) != 0)
        return lk_fail(err, LK_ESTORE, "file", "cannot write %s: %s", file, strerror(errno));
    info->bytes = (int64_t)sb.st_size;
    return LK_OK;
}

static lk_code backup_into(sqlite3 *src, const char *path, const char *file, lk_backup_info *info, lk_error *err)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.partial-XXXXXX", file) >= sizeof tmp)
        return lk_fail(err, LK_EINVAL, "file", "the backup file's path is too long");
    int fd = mkostemp(tmp, O_CLOEXEC);   /* mode 0600: the copy holds secret hashes */
    if (fd < 0)
        return lk_fail(err, LK_ESTORE, "file", "cannot create %s: %s", tmp, strerror(errno));
    close(fd);

    sqlite3 *dst;
    lk_code code = open_db(tmp, SQLITE_OPEN_READWRITE, &dst, err);
    if (code == LK_OK) {
        code = copy_pages(dst, src, path, err);
        sqlite3_close(dst);
    }
    if (code == LK_OK)
        code = finish_copy(tmp, file, info, err);
    if (code == LK_OK && rename(tmp, file) != 0)
        code = lk_fail(err, LK_ESTORE, "file", "cannot rename %s to %s: %s", tmp, file, strerror(errno));
    if (code == LK_OK && sync_parent(file) != 0)
        code = lk_fail(err, LK_ESTORE, "file", "cannot sync the folder of %s: %s", file, strerror(errno));
    if (code != LK_OK) {
        unlink(tmp);
        char journal[PATH_MAX + 16];
        snprintf(journal, sizeof journal, "%s-journal", tmp);
        unlink(journal);
    }
    return code;
}

lk_code lk_store_backup(const char *location, const char *file, bool replace, lk_backup_info *info,
                        lk_error *err)
{
    memset(info, 0, sizeof *info);
    const char *path = lk_store_sqlite_path(location, err);
    if (!path)
        return err->code;
    if (!file || !*file)
        return lk_fail(err, LK_EINVAL, "file", "the backup needs a file name");
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0)
        return lk_fail(err, LK_ENOTFOUND, "database", "there is no database at %s", path);
    if (same_file(path, file))
        return lk_fail(err, LK_EINVAL, "file", "%s is the database itself", file);
    if (!replace && lstat(file, &sb) == 0)
        return lk_fail(err, LK_EEXISTS, "file", "%s exists; give --force to replace it", file);

    lk_store_info db;
    lk_code code = check_latchkey(path, path, &db, err);
    if (code != LK_OK)
        return code;
    info->known_version = db.known;
    sqlite3 *src;
    code = open_db(path, SQLITE_OPEN_READONLY, &src, err);
    if (code != LK_OK)
        return code;
    code = backup_into(src, path, file, info, err);
    sqlite3_close(src);
    return code;
}

/* --- restore -------------------------------------------------------------------- */

/* The checks a copy passes before anything is replaced. */
static lk_code open_copy(const char *file, sqlite3 **src, lk_backup_info *info, lk_error *err)
{
    struct stat sb;
    if (stat(file, &sb) != 0)
        return lk_fail(err, LK_ENOTFOUND, "file", "cannot read %s: %s", file, strerror(errno));
    if (!S_ISREG(sb.st_mode) || sb.st_size == 0)
        return lk_fail(err, LK_ESCHEMA, "file", "%s is not a latchkey database", file);
    lk_code code = open_db(file, SQLITE_OPEN_READONLY, src, err);
    if (code != LK_OK)
        return code;
    code = check_integrity(*src, file, err);
    lk_store_info copy = {0};
    if (code == LK_OK)
        code = check_latchkey(file, file, &copy, err);
    info->schema_version = copy.version;
    info->known_version = copy.known;
    if (code == LK_OK && copy.state == LK_DB_NEWER)
        code = lk_fail(err, LK_ESCHEMA, "file",
                       "%s has schema version %d, newer than this latchkey knows (%d); use a newer latchkey",
                       file, copy.version, copy.known);
    if (code != LK_OK) {
        sqlite3_close(*src);
        *src = NULL;
    }
    return code;
}

/* A missing (or empty) database is first made what `serve` would make, so that the
 * restore below has a latchkey database to replace with the usual modes. */
static lk_code ensure_database(const char *path, lk_error *err)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && sb.st_size > 0)
        return LK_OK;
    lk_store *s = lk_store_sqlite_open(path, LK_STORE_WRITE, err);
    if (!s)
        return err->code;
    s->ops->close(s);
    return LK_OK;
}

/* With the exclusive hold taken: replace the pages of the database at path with src's. */
static lk_code replace_pages(sqlite3 *src, const char *path, lk_backup_info *info, lk_error *err)
{
    sqlite3 *dst;
    lk_code code = open_db(path, SQLITE_OPEN_READWRITE, &dst, err);
    if (code != LK_OK)
        return code;
    char mode[16];
    int rc = sqlite3_exec(dst, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    /* in WAL mode the backup API needs equal page sizes: a copy from elsewhere may differ */
    bool rewal = false;
    if (rc == SQLITE_OK && query_int(dst, "PRAGMA page_size") != query_int(src, "PRAGMA page_size")) {
        rc = lk_sq_first_text(dst, "PRAGMA journal_mode=DELETE", mode, sizeof mode);
        rewal = true;
    }
    if (rc != SQLITE_OK)
        code = sqlite_failure(dst, rc, path, "prepare", err);
    if (code == LK_OK)
        code = copy_pages(dst, src, path, err);
    if (code == LK_OK && rewal && (rc = lk_sq_first_text(dst, "PRAGMA journal_mode=WAL", mode, sizeof mode)) != SQLITE_OK)
        code = sqlite_failure(dst, rc, path, "journal mode", err);
    if (code == LK_OK) {
        sqlite3_exec(dst, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
        code = check_integrity(dst, path, err);
    }
    if (code == LK_OK)
        count_records(dst, info);
    sqlite3_close(dst);
    return code;
}

lk_code lk_store_restore(const char *location, const char *file, lk_backup_info *info, lk_error *err)
{
    memset(info, 0, sizeof *info);
    const char *path = lk_store_sqlite_path(location, err);
    if (!path)
        return err->code;
    if (!file || !*file)
        return lk_fail(err, LK_EINVAL, "file", "the restore needs a backup file");
    if (same_file(path, file))
        return lk_fail(err, LK_EINVAL, "file", "%s is the database itself", file);

    sqlite3 *src;
    lk_code code = open_copy(file, &src, info, err);
    if (code != LK_OK)
        return code;
    /* the database being replaced must be latchkey's (or nothing yet) */
    lk_store_info db;
    code = lk_store_sqlite_inspect(path, &db, err);
    if (code == LK_OK && db.state == LK_DB_FOREIGN)
        code = lk_fail(err, LK_ESCHEMA, "database", "%s is not a latchkey database; it is left as it is", path);
    if (code == LK_OK)
        code = ensure_database(path, err);
    int fd = -1;
    if (code == LK_OK && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        code = lk_fail(err, LK_ESTORE, "database", "cannot open %s: %s", path, strerror(errno));
    if (code == LK_OK && flock(fd, LOCK_EX | LOCK_NB) != 0)
        code = errno == EWOULDBLOCK
                   ? lk_fail(err, LK_EINUSE, "database",
                             "a latchkey server is running on %s; stop it before restoring", path)
                   : lk_fail(err, LK_ESTORE, "database", "cannot lock %s: %s", path, strerror(errno));
    if (code == LK_OK)
        code = replace_pages(src, path, info, err);
    sqlite3_close(src);
    if (fd >= 0)
        close(fd);   /* after every SQLite connection to path is closed (file comment) */
    return code;
}

/* --- the server's hold ----------------------------------------------------------- */

lk_code lk_store_hold(const char *location, int *fd, lk_error *err)
{
    *fd = -1;
    lk_error ignored;
    const char *path = lk_store_sqlite_path(location, &ignored);
    if (!path)
        return LK_OK;
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return errno == ENOENT ? LK_OK
                               : lk_fail(err, LK_ESTORE, "database", "cannot open %s: %s", path, strerror(errno));
    /* refused or not, *fd stays open: closing it now would drop SQLite's locks (file comment) */
    if (flock(*fd, LOCK_SH | LOCK_NB) != 0)
        return errno == EWOULDBLOCK ? lk_fail(err, LK_EINUSE, "database", "a restore is running on %s", path)
                                    : lk_fail(err, LK_ESTORE, "database", "cannot lock %s: %s", path, strerror(errno));
    return LK_OK;
}

void lk_store_release(int fd)
{
    if (fd >= 0)
        close(fd);
}
