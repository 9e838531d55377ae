/*
 * test_store_open — whose file a store opens and how (store.h: lk_store_mode,
 * lk_store_inspect): another program's SQLite file is refused by every mode and left
 * byte for byte as it was; a database of an earlier latchkey (application_id 0) is
 * adopted and stamped on its first write open; an older schema is refused unless
 * migrating, with a message that says to run `latchkey migrate`; a read-only open
 * never creates, migrates or writes, and works while another connection holds the
 * write lock; a missing or empty file is "no database" to a reader and a new
 * database to a writer; a migration missing below the highest recorded one is
 * "older" too, and migrating applies it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"
#include "store/sqlite/store_sqlite.h"
#include "util/embedded.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* a path in the fixture's folder */
static const char *path_of(lk_fixture *f, const char *name)
{
    return lk_arena_printf(&f->arena, "%s/%s", f->dir, name);
}

static void exec_on(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "exec_on: %s\n", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    assert_int_equal(rc, SQLITE_OK);
}

static long int_on(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    long v = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* BLAKE2b of the whole file, as hex (arena) */
static const char *hash_of(lk_fixture *f, const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    unsigned char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
        crypto_generichash_update(&h, buf, n);
    fclose(fp);
    unsigned char out[32];
    crypto_generichash_final(&h, out, sizeof out);
    char *hex = lk_arena_alloc(&f->arena, 65);
    sodium_bin2hex(hex, 65, out, sizeof out);
    return hex;
}

static void refused_by_every_mode(const char *path, lk_code code, const char *needle)
{
    for (lk_store_mode mode = LK_STORE_READ; mode <= LK_STORE_MIGRATE; mode++) {
        lk_error err = {0};
        lk_store *s = lk_store_open(path, mode, &err);
        if (s)
            fail_msg("mode %d opened %s", (int)mode, path);
        assert_int_equal(err.code, code);
        if (!strstr(err.msg, needle))
            fail_msg("mode %d: '%s' does not mention '%s'", (int)mode, err.msg, needle);
    }
}

static void foreign_files_are_left_alone(void **state)
{
    lk_fixture *f = *state;
    /* a plain SQLite database of another program, one with its own application_id
     * (a GeoPackage's), and one in WAL mode with a table called like one of ours */
    const char *plain = path_of(f, "notes.db"), *geo = path_of(f, "map.gpkg"), *wal = path_of(f, "other.db");
    exec_on(plain, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('mine')");
    exec_on(geo, "PRAGMA application_id = 1196444487; CREATE TABLE gpkg_contents (table_name TEXT)");
    exec_on(wal, "PRAGMA journal_mode = WAL; CREATE TABLE users (email TEXT); PRAGMA user_version = 3");
    const char *paths[] = {plain, geo, wal};
    for (size_t i = 0; i < 3; i++) {
        const char *before = hash_of(f, paths[i]);
        lk_store_info info;
        lk_error err = {0};
        assert_int_equal(lk_store_inspect(paths[i], &info, &err), LK_OK);
        assert_int_equal(info.state, LK_DB_FOREIGN);
        refused_by_every_mode(paths[i], LK_ESCHEMA, "is not a latchkey database");
        assert_string_equal(hash_of(f, paths[i]), before);
    }
    assert_int_equal(int_on(plain, "SELECT count(*) FROM sqlite_master WHERE name = 'schema_migrations'"), 0);
    assert_int_equal(int_on(geo, "PRAGMA application_id"), 1196444487);
    for (size_t i = 0; i < 3; i++) {
        const char *suffix[] = {"", "-wal", "-shm"};
        for (size_t k = 0; k < 3; k++)
            unlink(lk_arena_printf(&f->arena, "%s%s", paths[i], suffix[k]));
    }
}

static void earlier_databases_are_adopted(void **state)
{
    lk_fixture *f = *state;
    f->store->ops->close(f->store);
    f->store = NULL;
    /* as an earlier latchkey left it: no application_id */
    exec_on(f->path, "PRAGMA application_id = 0");
    lk_store_info info;
    lk_error err = {0};
    assert_int_equal(lk_store_inspect(f->path, &info, &err), LK_OK);
    assert_int_equal(info.state, LK_DB_CURRENT);
    assert_int_equal(info.application_id, 0);
    /* reading does not stamp it */
    lk_store *s = lk_store_open(f->path, LK_STORE_READ, &err);
    assert_non_null(s);
    s->ops->close(s);
    assert_int_equal(int_on(f->path, "PRAGMA application_id"), 0);
    /* the first write open does */
    f->store = lk_store_open(f->path, LK_STORE_WRITE, &err);
    assert_non_null(f->store);
    assert_int_equal(int_on(f->path, "PRAGMA application_id"), (long)LK_SQLITE_APPLICATION_ID);
}

static void older_schema_only_by_migrating(void **state)
{
    lk_fixture *f = *state;
    f->store->ops->close(f->store);
    f->store = NULL;
    /* a database that lacks the last migration, as an older latchkey left it */
    exec_on(f->path, "DELETE FROM schema_migrations WHERE version = 7");
    const char *before = hash_of(f, f->path);
    for (lk_store_mode mode = LK_STORE_READ; mode <= LK_STORE_WRITE; mode++) {
        lk_error err = {0};
        assert_null(lk_store_open(f->path, mode, &err));
        assert_int_equal(err.code, LK_ESCHEMA);
        assert_non_null(strstr(err.msg, "older than this latchkey's"));
        assert_non_null(strstr(err.msg, "run 'latchkey migrate'"));
    }
    assert_string_equal(hash_of(f, f->path), before);
    lk_error err = {0};
    f->store = lk_store_open(f->path, LK_STORE_MIGRATE, &err);
    assert_non_null(f->store);
    assert_int_equal(int_on(f->path, "SELECT count(*) FROM schema_migrations WHERE version = 7"), 1);
    lk_store_info info;
    assert_int_equal(lk_store_inspect(f->path, &info, &err), LK_OK);
    assert_int_equal(info.state, LK_DB_CURRENT);
}

static void reading_takes_no_lock_and_writes_nothing(void **state)
{
    lk_fixture *f = *state;
    lk_error err = {0};
    /* another connection holds the write lock, with a change not yet committed */
    sqlite3 *other = NULL;
    assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE; INSERT INTO workspaces (name, description, created_at,"
                                         " updated_at) VALUES ('Pending', '', 1, 1)", NULL, NULL, NULL),
                     SQLITE_OK);
    lk_store *r = lk_store_open(f->path, LK_STORE_READ, &err);
    assert_non_null(r);
    lk_workspace *ws = NULL;
    size_t n = 0;
    assert_int_equal(r->ops->workspace_list(r, &f->arena, &ws, &n, &err), LK_OK);
    assert_int_equal(n, 2); /* the uncommitted one is not seen */
    /* and it cannot write, even when nobody else holds the lock */
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    const char *before = hash_of(f, f->path);
    lk_code began = r->ops->begin(r, &err);
    lk_workspace w = {.name = "Mine", .description = "", .created_at = 1, .updated_at = 1};
    if (began == LK_OK) {
        assert_int_not_equal(r->ops->workspace_insert(r, &w, &err), LK_OK);
        r->ops->rollback(r);
    }
    r->ops->close(r);
    assert_string_equal(hash_of(f, f->path), before);
    assert_int_equal(int_on(f->path, "SELECT count(*) FROM workspaces"), 2);
}

static void missing_and_empty_files(void **state)
{
    lk_fixture *f = *state;
    const char *missing = path_of(f, "typo/latchkey.db");
    lk_error err = {0};
    assert_null(lk_store_open(missing, LK_STORE_READ, &err));
    assert_int_equal(err.code, LK_ENOTFOUND);
    assert_non_null(strstr(err.msg, "there is no latchkey database at"));
    struct stat sb;
    assert_int_not_equal(stat(missing, &sb), 0);                 /* not created */
    assert_int_not_equal(stat(path_of(f, "typo"), &sb), 0);      /* nor its folder */

    const char *empty = path_of(f, "empty.db");
    FILE *fp = fopen(empty, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_null(lk_store_open(empty, LK_STORE_READ, &err));
    assert_int_equal(err.code, LK_ENOTFOUND);
    assert_non_null(strstr(err.msg, "the file is empty"));
    assert_int_equal(stat(empty, &sb), 0);
    assert_int_equal(sb.st_size, 0);

    /* writing makes a new database of either, stamped as latchkey's */
    const char *made[] = {missing, empty};
    for (size_t i = 0; i < 2; i++) {
        lk_store *s = lk_store_open(made[i], LK_STORE_WRITE, &err);
        assert_non_null(s);
        s->ops->close(s);
        assert_int_equal(int_on(made[i], "PRAGMA application_id"), (long)LK_SQLITE_APPLICATION_ID);
        lk_store_info info;
        assert_int_equal(lk_store_inspect(made[i], &info, &err), LK_OK);
        assert_int_equal(info.state, LK_DB_CURRENT);
        s = lk_store_open(made[i], LK_STORE_READ, &err);
        assert_non_null(s);
        s->ops->close(s);
    }
    for (size_t i = 0; i < 2; i++) {
        const char *suffix[] = {"", "-wal", "-shm"};
        for (size_t k = 0; k < 3; k++)
            unlink(lk_arena_printf(&f->arena, "%s%s", made[i], suffix[k]));
    }
    rmdir(path_of(f, "typo"));
}

/* A database made by a build that has later migrations but not an earlier one (0007
 * landed before 0005): its highest version is this binary's, yet it is older, and
 * migrating applies the missing one. */
extern const lk_embedded_file lk_migrations[];

static void a_missing_migration_below_the_highest(void **state)
{
    lk_fixture *f = *state;
    const char *gap = path_of(f, "gap.db");
    const char *skip = "0005_feed.sql";
    char *sql = lk_arena_printf(&f->arena, "BEGIN; CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
                                           " name TEXT NOT NULL, applied_at INTEGER NOT NULL);");
    int highest = 0;
    for (const lk_embedded_file *m = lk_migrations; m->name; m++) {
        int v = atoi(m->name);
        highest = v > highest ? v : highest;
        if (strcmp(m->name, skip) == 0)
            continue;
        sql = lk_arena_printf(&f->arena, "%s\n%s\n;INSERT INTO schema_migrations VALUES (%d, '%s', 1700000000);", sql,
                              (const char *)m->data, v, m->name);
    }
    sql = lk_arena_printf(&f->arena, "%s COMMIT; PRAGMA application_id = %ld;", sql, (long)LK_SQLITE_APPLICATION_ID);
    exec_on(gap, sql);
    lk_store_info info;
    lk_error err = {0};
    assert_int_equal(lk_store_inspect(gap, &info, &err), LK_OK);
    assert_int_equal(info.state, LK_DB_OLDER);
    assert_int_equal(info.version, highest);
    assert_int_equal(info.known, highest);
    assert_int_equal(info.missing, 1);
    assert_null(lk_store_open(gap, LK_STORE_WRITE, &err));
    assert_non_null(strstr(err.msg, "1 of its migrations not applied"));
    lk_store *s = lk_store_open(gap, LK_STORE_MIGRATE, &err);
    assert_non_null(s);
    s->ops->close(s);
    assert_int_equal(int_on(gap, "SELECT count(*) FROM schema_migrations WHERE name = '0005_feed.sql'"), 1);
    assert_int_equal(int_on(gap, "SELECT count(*) FROM sqlite_master WHERE name IN ('changes', 'token_revocations')"), 2);
    assert_int_equal(int_on(gap, "SELECT count(*) FROM sqlite_master WHERE name IN ('tokens', 'generation')"), 0);
    assert_int_equal(lk_store_inspect(gap, &info, &err), LK_OK);
    assert_int_equal(info.state, LK_DB_CURRENT);
    assert_int_equal(info.missing, 0);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t k = 0; k < 3; k++)
        unlink(lk_arena_printf(&f->arena, "%s%s", gap, suffix[k]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(foreign_files_are_left_alone, lk_fixture_setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(earlier_databases_are_adopted, lk_fixture_setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(older_schema_only_by_migrating, lk_fixture_setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(reading_takes_no_lock_and_writes_nothing, lk_fixture_setup,
                                        lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(missing_and_empty_files, lk_fixture_setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(a_missing_migration_below_the_highest, lk_fixture_setup, lk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
