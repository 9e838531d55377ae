/* fixture — per-test temporary database (see fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"
#include "core/secret.h"
#include "pgtest.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lk_fixture_setup(void **state)
{
    lk_fixture *f = calloc(1, sizeof *f);
    if (!f || !lk_secret_init())
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/lk-unit-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/test.db", f->dir);
    if (lk_test_pg() && !lk_test_pg_create(f->path, sizeof f->path, f->pgdb, sizeof f->pgdb))
        return -1;
    lk_error err = {0};
    f->store = lk_store_open(f->path, LK_STORE_WRITE, &err);
    if (!f->store) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    lk_op_init(&f->op, f->store, &f->arena, "test", "");
    *state = f;
    return 0;
}

int lk_fixture_teardown(void **state)
{
    lk_fixture *f = *state;
    f->store->ops->close(f->store);
    lk_arena_free(&f->arena);
    char p[400];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    lk_test_pg_drop(f->pgdb);
    free(f);
    return 0;
}

lk_op *lk_fixture_op(lk_fixture *f)
{
    int64_t now = f->op.now;
    lk_op_init(&f->op, f->store, &f->arena, "test", "");
    f->op.now = now;
    return &f->op;
}

bool lk_fixture_pg(const lk_fixture *f)
{
    return f->pgdb[0] != '\0';
}

long lk_fixture_count(lk_fixture *f, const char *table)
{
    if (lk_fixture_pg(f)) {
        char sql[128], out[32];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
        return lk_test_pg_query(f->path, sql, out, sizeof out) ? atol(out) : -1;
    }
    sqlite3 *db = NULL;
    long n = -1;
    if (sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            n = (long)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

const char *lk_fixture_text(lk_fixture *f, const char *sql)
{
    if (lk_fixture_pg(f)) {
        char out[4096];
        assert_true(lk_test_pg_query(f->path, sql, out, sizeof out));
        return lk_arena_strdup(&f->arena, out);
    }
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *v = sqlite3_column_text(st, 0);
    const char *out = lk_arena_strdup(&f->arena, v ? (const char *)v : "");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

void lk_fixture_exec(lk_fixture *f, const char *sql)
{
    if (lk_fixture_pg(f)) {
        assert_true(lk_test_pg_query(f->path, sql, NULL, 0));
        return;
    }
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "lk_fixture_exec: %s\n", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    assert_int_equal(rc, SQLITE_OK);
}
