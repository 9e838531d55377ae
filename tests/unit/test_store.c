/*
 * test_store — the SQLite store through the storage interface (store.h): opening
 * and migrations, seed data, every op's round trip, constraints and their codes,
 * transactions, filters. A second SQLite connection looks at the file where the
 * interface has no window (schema_migrations, NULL columns, journal mode); one
 * white-box test reads the per-connection PRAGMAs of the store's own connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"
#include "store/sqlite/sqlite_internal.h"
#include "store/sqlite/store_sqlite.h"
#include "util/embedded.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- helpers ------------------------------------------------------------------ */

#define OPS(f) ((f)->store->ops)


static lk_fixture *fx(void **state)
{
    return *state;
}

/* through a second connection, SQLite or PostgreSQL as the fixture's store */
static void side_exec(lk_fixture *f, const char *sql)
{
    lk_fixture_exec(f, sql);
}

/* the first column of the first row of sql, as text or integer */
static const char *side_text(lk_fixture *f, const char *sql)
{
    return lk_fixture_text(f, sql);
}

static long side_int(lk_fixture *f, const char *sql)
{
    return atol(side_text(f, sql));
}

static void begin(lk_fixture *f)
{
    lk_error err = {0};
    assert_int_equal(OPS(f)->begin(f->store, &err), LK_OK);
}

static void commit(lk_fixture *f)
{
    lk_error err = {0};
    assert_int_equal(OPS(f)->commit(f->store, &err), LK_OK);
}

static void reopen(lk_fixture *f)
{
    OPS(f)->close(f->store);
    lk_error err = {0};
    f->store = lk_store_open(f->path, LK_STORE_WRITE, &err);
    if (!f->store)
        fprintf(stderr, "reopen: %s\n", err.msg);
    assert_non_null(f->store);
}

static int64_t perm_id(lk_fixture *f, const char *name)
{
    lk_permission p;
    lk_error err = {0};
    assert_int_equal(OPS(f)->permission_find(f->store, &f->arena, name, &p, &err), LK_OK);
    return p.id;
}

static int64_t add_role(lk_fixture *f, const char *name, const char *const *perm_names, size_t n)
{
    lk_permission *perms = lk_arena_alloc(&f->arena, (n ? n : 1) * sizeof *perms);
    for (size_t i = 0; i < n; i++)
        perms[i].id = perm_id(f, perm_names[i]);
    lk_role r = {.name = name, .description = "test role", .created_at = 1000, .updated_at = 1000,
                 .perms = perms, .n_perms = n};
    lk_error err = {0};
    begin(f);
    assert_int_equal(OPS(f)->role_insert(f->store, &r, &err), LK_OK);
    commit(f);
    assert_true(r.id > 0);
    return r.id;
}

/* an active API-only user with the given grants */
static int64_t add_user(lk_fixture *f, const char *email, bool api_only, const lk_grant *g, size_t n)
{
    lk_user u = {.email = email, .userid = email, .first_name = "First", .last_name = "Last",
                 .api_only = api_only, .status = LK_STATUS_ACTIVE, .created_at = 2000,
                 .updated_at = 2000, .grants = (lk_grant *)g, .n_grants = n};
    lk_error err = {0};
    begin(f);
    lk_code rc = OPS(f)->user_insert(f->store, &u, &err);
    if (rc != LK_OK)
        fprintf(stderr, "add_user: %s\n", err.msg);
    assert_int_equal(rc, LK_OK);
    commit(f);
    return u.id;
}

static int64_t add_service(lk_fixture *f, const char *name, const char *client_id, int64_t user_id)
{
    lk_service s = {.name = name, .description = "d", .user_id = user_id, .client_id = client_id,
                    .secret_hash = "aa", .created_at = 3000, .updated_at = 3000};
    lk_error err = {0};
    begin(f);
    assert_int_equal(OPS(f)->service_insert(f->store, &s, &err), LK_OK);
    commit(f);
    return s.id;
}

/* --- opening and migrations ----------------------------------------------------- */

/* the migrations compiled in (their numbers may leave gaps while work is merged) */
extern const lk_embedded_file lk_migrations[];
extern const lk_embedded_file lk_pg_migrations[];

/* those of the fixture's store */
static int64_t embedded_migrations_of(const lk_fixture *f)
{
    int64_t n = 0;
    for (const lk_embedded_file *m = lk_fixture_pg(f) ? lk_pg_migrations : lk_migrations; m->name; m++)
        n++;
    return n;
}

/* PostgreSQL: one migration holds the schema of SQLite's 0001..0007 (its number); later
 * ones are numbered as SQLite's */
static void pg_migrations_applied_and_recorded(lk_fixture *f)
{
    assert_string_equal(OPS(f)->kind, "postgresql");
    assert_int_equal(OPS(f)->schema_version(f->store), 11);
    assert_int_equal(side_int(f, "SELECT count(*) FROM schema_migrations"), embedded_migrations_of(f));
    assert_int_equal(side_int(f, "SELECT count(*) FROM schema_migrations"), 5);
    assert_string_equal(side_text(f, "SELECT name FROM schema_migrations WHERE version = 7"), "0007_schema.sql");
    assert_string_equal(side_text(f, "SELECT name FROM schema_migrations WHERE version = 8"), "0008_gateway.sql");
    assert_string_equal(side_text(f, "SELECT name FROM schema_migrations WHERE version = 9"), "0009_limits.sql");
    assert_string_equal(side_text(f, "SELECT name FROM schema_migrations WHERE version = 10"), "0010_signin.sql");
    assert_string_equal(side_text(f, "SELECT name FROM schema_migrations WHERE version = 11"),
                        "0011_services_search.sql");
    assert_string_equal(side_text(f, "SELECT to_regclass('services_search') IS NOT NULL"), "1");
    assert_string_equal(side_text(f, "SELECT obj_description('schema_migrations'::regclass, 'pg_class')"),
                        "latchkey");
    for (const char *t = "workspaces permissions roles role_permissions users user_roles invitations"
                         " services audit_events settings allowlist user_limits usage_daily"
                         " errors_daily sessions login_history mail_queue password_resets"
                         " expiry_notices changes changes_pruned token_revocations role_holders"
                         " gateway_routes limit_counts"; *t;) {
        char sql[128];
        size_t len = strcspn(t, " ");
        snprintf(sql, sizeof sql, "SELECT to_regclass('%.*s') IS NOT NULL", (int)len, t);
        assert_string_equal(side_text(f, sql), "1");
        t += len;
        t += strspn(t, " ");
    }
}

static void migrations_applied_and_recorded(void **state)
{
    lk_fixture *f = fx(state);
    if (lk_fixture_pg(f)) {
        pg_migrations_applied_and_recorded(f);
        return;
    }
    assert_string_equal(OPS(f)->kind, "sqlite");
    int v = OPS(f)->schema_version(f->store);
    assert_int_equal(v, 11);
    assert_int_equal(side_int(f, "SELECT count(*) FROM schema_migrations"), embedded_migrations_of(f));
    assert_int_equal(side_int(f, "SELECT max(version) FROM schema_migrations"), v);
    assert_string_equal(side_text(f, "SELECT name FROM schema_migrations WHERE version = 1"), "0001_init.sql");
    assert_string_equal(side_text(f, "SELECT name FROM schema_migrations WHERE version = 2"), "0002_server.sql");
    assert_string_equal(side_text(f, "SELECT name FROM schema_migrations WHERE version = 3"), "0003_console.sql");
    assert_string_equal(side_text(f, "SELECT name FROM schema_migrations WHERE version = 4"), "0004_mail.sql");
    assert_string_equal(side_text(f, "SELECT name FROM schema_migrations WHERE version = 5"), "0005_feed.sql");
    assert_string_equal(side_text(f, "SELECT name FROM schema_migrations WHERE version = 6"), "0006_lists.sql");
    assert_string_equal(side_text(f, "SELECT name FROM schema_migrations WHERE version = 7"), "0007_trust.sql");
    assert_string_equal(side_text(f, "SELECT name FROM schema_migrations WHERE version = 8"), "0008_gateway.sql");
    assert_string_equal(side_text(f, "SELECT name FROM schema_migrations WHERE version = 9"), "0009_limits.sql");
    assert_string_equal(side_text(f, "SELECT name FROM schema_migrations WHERE version = 10"), "0010_signin.sql");
    assert_string_equal(side_text(f, "SELECT name FROM schema_migrations WHERE version = 11"),
                        "0011_services_search.sql");
    assert_true(side_int(f, "SELECT applied_at FROM schema_migrations WHERE version = 1") > 1700000000);
    assert_int_equal(side_int(f, "PRAGMA user_version"), v);
    assert_int_equal(side_int(f, "PRAGMA application_id"), (long)LK_SQLITE_APPLICATION_ID);
    for (const char *t = "workspaces permissions roles role_permissions users user_roles invitations"
                         " services audit_events settings allowlist user_limits usage_daily"
                         " errors_daily sessions login_history mail_queue password_resets"
                         " expiry_notices changes changes_pruned token_revocations"; *t;) {
        char name[32], sql[128];
        size_t len = strcspn(t, " ");
        snprintf(name, sizeof name, "%.*s", (int)len, t);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'", name);
        assert_int_equal(side_int(f, sql), 1);
        t += len;
        t += strspn(t, " ");
    }
}

static void seed_data(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};

    lk_workspace *ws;
    size_t n;
    assert_int_equal(OPS(f)->workspace_list(f->store, &f->arena, &ws, &n, &err), LK_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ws[0].id, LK_WORKSPACE_ALLZONES);
    assert_string_equal(ws[0].name, "AllZones");
    assert_int_equal(ws[1].id, LK_WORKSPACE_DEFAULT);
    assert_string_equal(ws[1].name, "Default");
    assert_true(ws[1].created_at > 0);

    lk_permission *perms;
    assert_int_equal(OPS(f)->permission_list(f->store, &f->arena, &perms, &n, &err), LK_OK);
    assert_int_equal(n, 42);
    size_t admin = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(perms[i].builtin);
        assert_true(perms[i].description[0] != '\0');
        if (perms[i].group == LK_GROUP_ADMIN)
            admin++;
        if (i > 0) {
            assert_true(perms[i - 1].group <= perms[i].group);
            if (perms[i - 1].group == perms[i].group)
                assert_true(strcasecmp(perms[i - 1].name, perms[i].name) < 0);
        }
    }
    assert_int_equal(admin, 7);
    assert_int_equal(perms[0].group, LK_GROUP_ADMIN);
    assert_string_equal(perms[0].name, "Access Audit Trail");

    lk_role r;
    assert_int_equal(OPS(f)->role_get(f->store, &f->arena, LK_ROLE_ADMIN, &r, &err), LK_OK);
    assert_string_equal(r.name, "Admin");
    assert_true(r.system);
    assert_true(r.only_all_zones);
    assert_int_equal(r.n_perms, 7);
    for (size_t i = 0; i < r.n_perms; i++) {
        assert_int_equal(r.perms[i].group, LK_GROUP_ADMIN);
        assert_int_equal(r.perms[i].id, perms[i].id); /* same order as the catalog */
        assert_string_equal(r.perms[i].name, perms[i].name);
    }
    lk_role *roles;
    assert_int_equal(OPS(f)->role_list(f->store, &f->arena, &roles, &n, &err), LK_OK);
    assert_int_equal(n, 1);
}

static void reopen_is_idempotent(void **state)
{
    lk_fixture *f = fx(state);
    int v = OPS(f)->schema_version(f->store);
    reopen(f);
    reopen(f);
    assert_int_equal(OPS(f)->schema_version(f->store), v);
    assert_int_equal(side_int(f, "SELECT count(*) FROM schema_migrations"), embedded_migrations_of(f));
    assert_int_equal(lk_fixture_count(f, "permissions"), 42);
    assert_int_equal(lk_fixture_count(f, "workspaces"), 2);
    assert_int_equal(lk_fixture_count(f, "roles"), 1);
    assert_int_equal(lk_fixture_count(f, "role_permissions"), 7);
}

static void newer_schema_is_refused(void **state)
{
    lk_fixture *f = fx(state);
    int v = OPS(f)->schema_version(f->store);
    OPS(f)->close(f->store);
    f->store = NULL;
    side_exec(f, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 0)");

    /* by every kind of open: reading, writing, migrating */
    for (lk_store_mode mode = LK_STORE_READ; mode <= LK_STORE_MIGRATE; mode++) {
        lk_error err = {0};
        lk_store *s = lk_store_open(f->path, mode, &err);
        assert_null(s);
        assert_int_equal(err.code, LK_ESCHEMA);
        assert_non_null(strstr(err.msg, "999"));
        assert_non_null(strstr(err.msg, "newer"));
        char knows[32];
        snprintf(knows, sizeof knows, "up to %d", v);
        assert_non_null(strstr(err.msg, knows));
        assert_int_equal(side_int(f, "SELECT count(*) FROM schema_migrations"), embedded_migrations_of(f) + 1); /* untouched */
    }

    side_exec(f, "DELETE FROM schema_migrations WHERE version = 999");
    lk_error err = {0};
    f->store = lk_store_open(f->path, LK_STORE_WRITE, &err);
    assert_non_null(f->store);
}

static void not_a_database_is_refused(void **state)
{
    lk_fixture *f = fx(state);
    char path[400];
    snprintf(path, sizeof path, "%s/junk.db", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not a database file. ", fp);
    fclose(fp);
    for (lk_store_mode mode = LK_STORE_READ; mode <= LK_STORE_MIGRATE; mode++) {
        lk_error err = {0};
        assert_null(lk_store_open(path, mode, &err));
        assert_int_equal(err.code, LK_ESCHEMA);
        assert_non_null(strstr(err.msg, "junk.db"));
        assert_non_null(strstr(err.msg, "not a latchkey database"));
    }
    unlink(path);
}

/* a migration that fails rolls everything back and names itself: here 0007, on a
 * database that records only the ones before it and has a table in its way */
/* PostgreSQL: a migration that fails leaves nothing of itself, in one transaction */
static void pg_failed_migration_rolls_back(lk_fixture *f)
{
    OPS(f)->close(f->store);
    f->store = NULL;
    /* the record gone, the tables still there: applying 0007 again fails */
    side_exec(f, "DELETE FROM schema_migrations WHERE version = 7");
    lk_error err = {0};
    assert_null(lk_store_open(f->path, LK_STORE_WRITE, &err)); /* older: refused unless migrating */
    assert_int_equal(err.code, LK_ESCHEMA);
    assert_non_null(strstr(err.msg, "latchkey migrate"));
    assert_null(lk_store_open(f->path, LK_STORE_MIGRATE, &err));
    assert_int_equal(err.code, LK_ESCHEMA);
    assert_non_null(strstr(err.msg, "0007_schema.sql"));
    assert_int_equal(side_int(f, "SELECT count(*) FROM schema_migrations WHERE version = 7"), 0);
    assert_int_equal(side_int(f, "SELECT count(*) FROM workspaces"), 2); /* the data as it was */
    side_exec(f, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (7, '0007_schema.sql', 1)");
    f->store = lk_store_open(f->path, LK_STORE_MIGRATE, &err);
    assert_non_null(f->store);
}

static void failed_migration_rolls_back(void **state)
{
    lk_fixture *f = fx(state);
    if (lk_fixture_pg(f)) {
        pg_failed_migration_rolls_back(f);
        return;
    }
    OPS(f)->close(f->store);
    f->store = NULL;
    side_exec(f, "DELETE FROM schema_migrations WHERE version = 7; CREATE TABLE mail_queue_new (x INTEGER)");
    lk_error err = {0};
    assert_null(lk_store_open(f->path, LK_STORE_MIGRATE, &err));
    assert_int_equal(err.code, LK_ESCHEMA);
    assert_non_null(strstr(err.msg, "0007_trust.sql"));
    /* nothing of it stayed: not recorded, the queue as it was, the obstacle still there */
    assert_int_equal(side_int(f, "SELECT count(*) FROM schema_migrations WHERE version = 7"), 0);
    assert_int_equal(side_int(f, "SELECT count(*) FROM sqlite_master WHERE name = 'mail_queue'"), 1);
    assert_int_equal(side_int(f, "SELECT count(*) FROM pragma_table_info('mail_queue_new')"), 1);
    side_exec(f, "DROP TABLE mail_queue_new");
    f->store = lk_store_open(f->path, LK_STORE_MIGRATE, &err);
    assert_non_null(f->store);
    assert_int_equal(side_int(f, "SELECT count(*) FROM schema_migrations WHERE version = 7"), 1);
}

/* PostgreSQL: a store opened to read writes nothing (default_transaction_read_only) */
static void pg_read_only_open_writes_nothing(lk_fixture *f)
{
    lk_error err = {0};
    lk_store *r = lk_store_open(f->path, LK_STORE_READ, &err);
    assert_non_null(r);
    assert_int_equal(r->ops->begin(r, &err), LK_OK);
    lk_workspace w = {.name = "Nope", .created_at = 1, .updated_at = 1};
    assert_int_equal(r->ops->workspace_insert(r, &w, &err), LK_ESTORE);
    assert_non_null(strstr(err.msg, "read-only"));
    r->ops->rollback(r);
    r->ops->close(r);
    assert_int_equal(side_int(f, "SELECT count(*) FROM workspaces WHERE name = 'Nope'"), 0);
}

static void pragmas_in_effect(void **state)
{
    lk_fixture *f = fx(state);
    if (lk_fixture_pg(f)) {
        pg_read_only_open_writes_nothing(f);
        return;
    }
    assert_string_equal(side_text(f, "PRAGMA journal_mode"), "wal"); /* persistent, in the file */

    /* synchronous and foreign_keys belong to the connection: ask the store's own */
    sqlite3 *db = lk_sq_of(f->store)->db;
    const struct { const char *sql; int want; } checks[] = {
        {"PRAGMA synchronous", 2},
        {"PRAGMA foreign_keys", 1},
        {"PRAGMA busy_timeout", 5000},
    };
    for (size_t i = 0; i < sizeof checks / sizeof *checks; i++) {
        sqlite3_stmt *st = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, checks[i].sql, -1, &st, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), checks[i].want);
        sqlite3_finalize(st);
    }
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
}

static void locations(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    /* both URL schemes name the PostgreSQL store; a server that cannot be reached is
     * a storage failure whose message never shows the URL's password */
    assert_null(lk_store_open("postgres://lk:s3cret@/latchkey?host=/nonexistent-lk", LK_STORE_WRITE, &err));
    assert_int_equal(err.code, LK_ESTORE);
    assert_non_null(strstr(err.msg, "PostgreSQL"));
    assert_null(strstr(err.msg, "s3cret"));
    assert_null(lk_store_open("postgresql://lk:s3cret@/latchkey?host=/nonexistent-lk", LK_STORE_READ, &err));
    assert_int_equal(err.code, LK_ESTORE);
    assert_null(strstr(err.msg, "s3cret"));
    /* how a location is shown: a URL's password never */
    char red[256];
    lk_store_redact("postgresql://lk:s3cret@db.example/latchkey?sslmode=require", red, sizeof red);
    assert_string_equal(red, "postgresql://lk:***@db.example/latchkey?sslmode=require");
    lk_store_redact("postgresql:///latchkey?host=/run/pg&password=s3cret&user=lk", red, sizeof red);
    assert_string_equal(red, "postgresql:///latchkey?host=/run/pg&password=***&user=lk");
    lk_store_redact("postgres://lk@db.example/a@b", red, sizeof red);
    assert_string_equal(red, "postgres://lk@db.example/a@b");
    lk_store_redact("/var/lib/latchkey/x.db", red, sizeof red);
    assert_string_equal(red, "/var/lib/latchkey/x.db");
    assert_null(lk_store_open("mysql://db.example/latchkey", LK_STORE_WRITE, &err));
    assert_int_equal(err.code, LK_EINVAL);
    assert_null(lk_store_open("", LK_STORE_WRITE, &err));
    assert_int_equal(err.code, LK_EINVAL);
    assert_null(lk_store_open(":memory:", LK_STORE_WRITE, &err));
    assert_int_equal(err.code, LK_EINVAL);

    /* sqlite:PATH, with folders created on the way (mode 0700) */
    char loc[512], a[300], b[300], file[300];
    snprintf(a, sizeof a, "%s/a", f->dir);
    snprintf(b, sizeof b, "%s/a/b", f->dir);
    snprintf(file, sizeof file, "%s/a/b/x.db", f->dir);
    snprintf(loc, sizeof loc, "sqlite:%s", file);
    lk_store *s = lk_store_open(loc, LK_STORE_WRITE, &err);
    assert_non_null(s);
    lk_workspace w;
    assert_int_equal(s->ops->workspace_find(s, &f->arena, "default", &w, &err), LK_OK);
    s->ops->close(s);
    struct stat sb;
    assert_int_equal(stat(a, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 0777, 0700);
    assert_int_equal(stat(b, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);

    /* sqlite://PATH opens the same file */
    snprintf(loc, sizeof loc, "sqlite://%s", file);
    s = lk_store_open(loc, LK_STORE_WRITE, &err);
    assert_non_null(s);
    s->ops->close(s);

    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[420];
        snprintf(p, sizeof p, "%s%s", file, suffix[i]);
        unlink(p);
    }
    assert_int_equal(rmdir(b), 0);
    assert_int_equal(rmdir(a), 0);
}

static void default_location(void **state)
{
    (void)state;
    unsetenv("LATCHKEY_DB");
    assert_string_equal(lk_store_default_location(NULL), "./data/latchkey.db");
    setenv("LATCHKEY_DB", "", 1);
    assert_string_equal(lk_store_default_location(NULL), "./data/latchkey.db");
    setenv("LATCHKEY_DB", "/var/lib/latchkey/db", 1);
    assert_string_equal(lk_store_default_location(NULL), "/var/lib/latchkey/db");
    assert_string_equal(lk_store_default_location("mine.db"), "mine.db");
    unsetenv("LATCHKEY_DB");
}

/* --- transactions ------------------------------------------------------------- */

static void rollback_discards(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    begin(f);
    lk_workspace w = {.name = "Temp", .created_at = 1, .updated_at = 1};
    assert_int_equal(OPS(f)->workspace_insert(f->store, &w, &err), LK_OK);
    lk_workspace got;
    assert_int_equal(OPS(f)->workspace_find(f->store, &f->arena, "temp", &got, &err), LK_OK); /* own write */
    OPS(f)->rollback(f->store);
    assert_int_equal(OPS(f)->workspace_find(f->store, &f->arena, "temp", &got, &err), LK_ENOTFOUND);
    OPS(f)->rollback(f->store); /* harmless outside a transaction */

    /* a transaction may follow, and a committed one survives reopening */
    begin(f);
    w.name = "Kept";
    assert_int_equal(OPS(f)->workspace_insert(f->store, &w, &err), LK_OK);
    commit(f);
    reopen(f);
    assert_int_equal(OPS(f)->workspace_find(f->store, &f->arena, "KEPT", &got, &err), LK_OK);
    assert_int_equal(lk_fixture_count(f, "workspaces"), 3);

    /* begin inside a transaction is an error, and leaves the first one usable */
    begin(f);
    assert_int_equal(OPS(f)->begin(f->store, &err), LK_ESTORE);
    OPS(f)->rollback(f->store);
    begin(f);
    commit(f);
}

static void readers_see_committed_state_only(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    lk_store *other = lk_store_open(f->path, LK_STORE_WRITE, &err);
    assert_non_null(other);
    begin(f);
    lk_workspace w = {.name = "Pending", .created_at = 1, .updated_at = 1};
    assert_int_equal(OPS(f)->workspace_insert(f->store, &w, &err), LK_OK);
    lk_workspace got;
    assert_int_equal(other->ops->workspace_find(other, &f->arena, "Pending", &got, &err), LK_ENOTFOUND);
    commit(f);
    assert_int_equal(other->ops->workspace_find(other, &f->arena, "Pending", &got, &err), LK_OK);
    assert_int_equal(got.id, w.id);
    other->ops->close(other);
}

typedef struct waiter {
    lk_store *store;
    lk_code begin_rc;
} waiter;

static void *begin_and_commit(void *arg)
{
    waiter *w = arg;
    lk_error err = {0};
    w->begin_rc = w->store->ops->begin(w->store, &err);
    if (w->begin_rc == LK_OK)
        w->store->ops->commit(w->store, &err);
    return NULL;
}

/* a second writer waits for the first (busy timeout) instead of failing at once */
static void writers_wait_for_each_other(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    waiter w = {.store = lk_store_open(f->path, LK_STORE_WRITE, &err), .begin_rc = LK_ESTORE};
    assert_non_null(w.store);
    begin(f);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, begin_and_commit, &w), 0);
    usleep(200 * 1000);
    commit(f);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(w.begin_rc, LK_OK);
    w.store->ops->close(w.store);
}

static void failed_write_leaves_no_half(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    /* a role whose second permission does not exist: neither row nor permissions stay */
    lk_permission perms[2] = {{.id = perm_id(f, "Read-Only Lead")}, {.id = 9999}};
    lk_role r = {.name = "Broken", .created_at = 1, .updated_at = 1, .perms = perms, .n_perms = 2};
    begin(f);
    assert_int_equal(OPS(f)->role_insert(f->store, &r, &err), LK_ENOTFOUND);
    assert_int_equal(r.id, 0);
    lk_role got;
    assert_int_equal(OPS(f)->role_find(f->store, &f->arena, "Broken", &got, &err), LK_ENOTFOUND);
    commit(f);
    assert_int_equal(lk_fixture_count(f, "roles"), 1);
    assert_int_equal(lk_fixture_count(f, "role_permissions"), 7);

    /* a user whose grant names a missing workspace */
    lk_grant g = {.role_id = LK_ROLE_ADMIN, .workspace_id = 77};
    lk_user u = {.email = "half@x.com", .userid = "half@x.com", .first_name = "H", .last_name = "W",
                 .status = LK_STATUS_ACTIVE, .grants = &g, .n_grants = 1};
    begin(f);
    assert_int_equal(OPS(f)->user_insert(f->store, &u, &err), LK_ENOTFOUND);
    commit(f);
    assert_int_equal(lk_fixture_count(f, "users"), 0);
}

/* --- workspaces and permissions --------------------------------------------------- */

static void workspace_round_trip(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    lk_workspace w = {.name = "Europe", .description = NULL, .created_at = 111, .updated_at = 222};
    begin(f);
    assert_int_equal(OPS(f)->workspace_insert(f->store, &w, &err), LK_OK);
    commit(f);
    assert_true(w.id > LK_WORKSPACE_DEFAULT);

    lk_workspace got;
    assert_int_equal(OPS(f)->workspace_get(f->store, &f->arena, w.id, &got, &err), LK_OK);
    assert_int_equal(got.id, w.id);
    assert_string_equal(got.name, "Europe");
    assert_string_equal(got.description, "");
    assert_int_equal(got.created_at, 111);
    assert_int_equal(got.updated_at, 222);
    assert_int_equal(OPS(f)->workspace_find(f->store, &f->arena, "eUROPE", &got, &err), LK_OK);
    assert_int_equal(got.id, w.id);

    lk_workspace dup = {.name = "EUROPE", .description = "again", .created_at = 1, .updated_at = 1};
    begin(f);
    assert_int_equal(OPS(f)->workspace_insert(f->store, &dup, &err), LK_EEXISTS);
    assert_string_equal(err.field, "name");
    assert_non_null(strstr(err.msg, "workspace"));
    commit(f);

    assert_int_equal(OPS(f)->workspace_get(f->store, &f->arena, 999, &got, &err), LK_ENOTFOUND);
    assert_int_equal(err.code, LK_ENOTFOUND);
    assert_int_equal(OPS(f)->workspace_find(f->store, &f->arena, "Asia", &got, &err), LK_ENOTFOUND);
}

static void permission_round_trip(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    lk_permission p = {.name = "Read-Only Widgets", .description = "Read widgets", .group = LK_GROUP_API};
    begin(f);
    assert_int_equal(OPS(f)->permission_insert(f->store, &p, &err), LK_OK);
    commit(f);
    assert_true(p.id > 42);

    lk_permission got;
    assert_int_equal(OPS(f)->permission_find(f->store, &f->arena, "read-only WIDGETS", &got, &err), LK_OK);
    assert_int_equal(got.id, p.id);
    assert_string_equal(got.name, "Read-Only Widgets");
    assert_string_equal(got.description, "Read widgets");
    assert_int_equal(got.group, LK_GROUP_API);
    assert_false(got.builtin);

    lk_permission *all;
    size_t n;
    assert_int_equal(OPS(f)->permission_list(f->store, &f->arena, &all, &n, &err), LK_OK);
    assert_int_equal(n, 43);
    for (size_t i = 1; i < n; i++) {
        assert_true(all[i - 1].group <= all[i].group);
        if (all[i - 1].group == all[i].group)
            assert_true(strcasecmp(all[i - 1].name, all[i].name) < 0);
    }

    lk_permission dup = {.name = "READ-ONLY WIDGETS", .group = LK_GROUP_API};
    begin(f);
    assert_int_equal(OPS(f)->permission_insert(f->store, &dup, &err), LK_EEXISTS);
    assert_non_null(strstr(err.msg, "permission"));
    commit(f);
    assert_int_equal(OPS(f)->permission_find(f->store, &f->arena, "Nope", &got, &err), LK_ENOTFOUND);

    /* in use by two roles: permission_roles names them (sorted), delete refuses */
    const char *names[] = {"Read-Only Widgets"};
    add_role(f, "zeta", names, 1);
    add_role(f, "Alpha", names, 1);
    const char **roles;
    assert_int_equal(OPS(f)->permission_roles(f->store, &f->arena, p.id, &roles, &n, &err), LK_OK);
    assert_int_equal(n, 2);
    assert_string_equal(roles[0], "Alpha");
    assert_string_equal(roles[1], "zeta");
    begin(f);
    assert_int_equal(OPS(f)->permission_delete(f->store, p.id, &err), LK_EINUSE);
    commit(f);

    /* unused: deleted; then gone */
    lk_permission q = {.name = "Spare", .group = LK_GROUP_API};
    begin(f);
    assert_int_equal(OPS(f)->permission_insert(f->store, &q, &err), LK_OK);
    assert_int_equal(OPS(f)->permission_roles(f->store, &f->arena, q.id, &roles, &n, &err), LK_OK);
    assert_int_equal(n, 0);
    assert_int_equal(OPS(f)->permission_delete(f->store, q.id, &err), LK_OK);
    assert_int_equal(OPS(f)->permission_delete(f->store, q.id, &err), LK_ENOTFOUND);
    commit(f);
    assert_int_equal(OPS(f)->permission_find(f->store, &f->arena, "Spare", &got, &err), LK_ENOTFOUND);
}

/* --- roles ---------------------------------------------------------------------- */

static void role_round_trip(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    /* given out of order and with a duplicate: stored as a set, read sorted */
    const char *names[] = {"Read-Write Lead", "Access Users", "read-only lead", "Read-Write Lead",
                           "Access Audit Trail"};
    lk_permission perms[5];
    for (size_t i = 0; i < 5; i++)
        perms[i] = (lk_permission){.id = perm_id(f, names[i])};
    lk_role r = {.name = "API Only", .description = NULL, .system = false, .only_all_zones = true,
                 .created_at = 500, .updated_at = 600, .perms = perms, .n_perms = 5};
    begin(f);
    assert_int_equal(OPS(f)->role_insert(f->store, &r, &err), LK_OK);
    commit(f);
    assert_true(r.id > LK_ROLE_ADMIN);

    lk_role got;
    assert_int_equal(OPS(f)->role_get(f->store, &f->arena, r.id, &got, &err), LK_OK);
    assert_int_equal(got.id, r.id);
    assert_string_equal(got.name, "API Only");
    assert_string_equal(got.description, "");
    assert_false(got.system);
    assert_true(got.only_all_zones);
    assert_int_equal(got.created_at, 500);
    assert_int_equal(got.updated_at, 600);
    assert_int_equal(got.n_perms, 4);
    const char *want[] = {"Access Audit Trail", "Access Users", "Read-Only Lead", "Read-Write Lead"};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(got.perms[i].name, want[i]);
        assert_true(got.perms[i].builtin);
        assert_true(got.perms[i].description[0] != '\0');
    }
    assert_int_equal(got.perms[0].group, LK_GROUP_ADMIN);
    assert_int_equal(got.perms[3].group, LK_GROUP_API);

    assert_int_equal(OPS(f)->role_find(f->store, &f->arena, "api ONLY", &got, &err), LK_OK);
    assert_int_equal(got.id, r.id);
    assert_int_equal(got.n_perms, 4);

    /* update: name, description, updated_at and the permission set; not created_at */
    lk_permission np[1] = {{.id = perm_id(f, "Execute Campaign")}};
    lk_role upd = {.id = r.id, .name = "Integrations", .description = "for robots", .created_at = 1,
                   .updated_at = 700, .perms = np, .n_perms = 1};
    begin(f);
    assert_int_equal(OPS(f)->role_update(f->store, &upd, &err), LK_OK);
    commit(f);
    assert_int_equal(OPS(f)->role_get(f->store, &f->arena, r.id, &got, &err), LK_OK);
    assert_string_equal(got.name, "Integrations");
    assert_string_equal(got.description, "for robots");
    assert_int_equal(got.created_at, 500);
    assert_int_equal(got.updated_at, 700);
    assert_int_equal(got.n_perms, 1);
    assert_string_equal(got.perms[0].name, "Execute Campaign");
    assert_int_equal(OPS(f)->role_find(f->store, &f->arena, "API Only", &got, &err), LK_ENOTFOUND);

    /* an empty permission set is fine */
    upd.n_perms = 0;
    upd.perms = NULL;
    begin(f);
    assert_int_equal(OPS(f)->role_update(f->store, &upd, &err), LK_OK);
    commit(f);
    assert_int_equal(OPS(f)->role_get(f->store, &f->arena, r.id, &got, &err), LK_OK);
    assert_int_equal(got.n_perms, 0);

    /* list: ordered by id, perms filled */
    lk_role *roles;
    size_t n;
    assert_int_equal(OPS(f)->role_list(f->store, &f->arena, &roles, &n, &err), LK_OK);
    assert_int_equal(n, 2);
    assert_int_equal(roles[0].id, LK_ROLE_ADMIN);
    assert_int_equal(roles[0].n_perms, 7);
    assert_int_equal(roles[1].id, r.id);
}

static void role_errors(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    int64_t id = add_role(f, "Marketing", NULL, 0);
    int64_t other = add_role(f, "Sales", NULL, 0);

    lk_role dup = {.name = "MARKETING", .created_at = 1, .updated_at = 1};
    begin(f);
    assert_int_equal(OPS(f)->role_insert(f->store, &dup, &err), LK_EEXISTS);
    assert_string_equal(err.msg, "a role with that name already exists");
    assert_string_equal(err.field, "name");
    lk_role ren = {.id = other, .name = "marketing", .updated_at = 2};
    assert_int_equal(OPS(f)->role_update(f->store, &ren, &err), LK_EEXISTS);
    lk_role ghost = {.id = 4242, .name = "Ghost", .updated_at = 2};
    assert_int_equal(OPS(f)->role_update(f->store, &ghost, &err), LK_ENOTFOUND);
    assert_int_equal(OPS(f)->role_delete(f->store, 4242, &err), LK_ENOTFOUND);
    commit(f);

    lk_role got;
    assert_int_equal(OPS(f)->role_get(f->store, &f->arena, 4242, &got, &err), LK_ENOTFOUND);
    assert_int_equal(OPS(f)->role_find(f->store, &f->arena, "Nobody", &got, &err), LK_ENOTFOUND);

    /* held by a user: refused; after the user is gone: deleted, permissions with it */
    lk_grant g = {.role_id = id, .workspace_id = LK_WORKSPACE_DEFAULT};
    int64_t uid = add_user(f, "holder@x.com", true, &g, 1);
    begin(f);
    assert_int_equal(OPS(f)->role_delete(f->store, id, &err), LK_EINUSE);
    assert_non_null(strstr(err.msg, "held"));
    assert_int_equal(OPS(f)->user_delete(f->store, uid, &err), LK_OK);
    assert_int_equal(OPS(f)->role_delete(f->store, id, &err), LK_OK);
    commit(f);
    assert_int_equal(OPS(f)->role_get(f->store, &f->arena, id, &got, &err), LK_ENOTFOUND);

    const char *pn[] = {"Approve Assets"};
    int64_t with_perm = add_role(f, "Approvers", pn, 1);
    assert_int_equal(lk_fixture_count(f, "role_permissions"), 8);
    begin(f);
    assert_int_equal(OPS(f)->role_delete(f->store, with_perm, &err), LK_OK);
    commit(f);
    assert_int_equal(lk_fixture_count(f, "role_permissions"), 7);
}

static void role_holders(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    int64_t rid = add_role(f, "Readers", NULL, 0);
    lk_grant g2[2] = {{.role_id = rid, .workspace_id = LK_WORKSPACE_DEFAULT},
                      {.role_id = rid, .workspace_id = LK_WORKSPACE_ALLZONES}};
    int64_t a = add_user(f, "a@x.com", true, g2, 2);
    add_user(f, "b@x.com", true, NULL, 0);
    lk_grant g1 = {.role_id = rid, .workspace_id = LK_WORKSPACE_DEFAULT};
    int64_t c = add_user(f, "c@x.com", false, &g1, 1);

    lk_user *users;
    size_t n;
    assert_int_equal(OPS(f)->role_holders(f->store, &f->arena, rid, &users, &n, &err), LK_OK);
    assert_int_equal(n, 2); /* a once, though it holds the role twice */
    assert_int_equal(users[0].id, a);
    assert_int_equal(users[0].n_grants, 2);
    assert_int_equal(users[1].id, c);
    assert_string_equal(users[1].grants[0].role_name, "Readers");
    assert_int_equal(OPS(f)->role_holders(f->store, &f->arena, LK_ROLE_ADMIN, &users, &n, &err), LK_OK);
    assert_int_equal(n, 0);
}

/* --- users ---------------------------------------------------------------------- */

static void user_round_trip(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    int64_t zeta = add_role(f, "zeta", NULL, 0);
    int64_t beta = add_role(f, "Beta", NULL, 0);
    lk_workspace w = {.name = "Europe", .created_at = 1, .updated_at = 1};
    begin(f);
    assert_int_equal(OPS(f)->workspace_insert(f->store, &w, &err), LK_OK);
    commit(f);

    /* grants given unsorted: read back by role name (NOCASE), then workspace id */
    lk_grant g[4] = {
        {.role_id = zeta, .workspace_id = LK_WORKSPACE_DEFAULT},
        {.role_id = beta, .workspace_id = w.id},
        {.role_id = LK_ROLE_ADMIN, .workspace_id = LK_WORKSPACE_ALLZONES},
        {.role_id = beta, .workspace_id = LK_WORKSPACE_DEFAULT},
    };
    lk_user u = {.email = "Ann@Example.com", .userid = "ann", .first_name = "Ann", .last_name = "Lee",
                 .reason = "integration owner", .expires_at = 1900000000, .api_only = false,
                 .status = LK_STATUS_PENDING, .lock_reason = NULL, .password_hash = NULL,
                 .failed_logins = 0, .last_login_at = 0, .created_at = 1700000000,
                 .updated_at = 1700000001, .grants = g, .n_grants = 4};
    begin(f);
    assert_int_equal(OPS(f)->user_insert(f->store, &u, &err), LK_OK);
    commit(f);
    assert_true(u.id > 0);

    lk_user got;
    assert_int_equal(OPS(f)->user_get(f->store, &f->arena, u.id, &got, &err), LK_OK);
    assert_int_equal(got.id, u.id);
    assert_string_equal(got.email, "Ann@Example.com");
    assert_string_equal(got.userid, "ann");
    assert_string_equal(got.first_name, "Ann");
    assert_string_equal(got.last_name, "Lee");
    assert_string_equal(got.reason, "integration owner");
    assert_int_equal(got.expires_at, 1900000000);
    assert_false(got.api_only);
    assert_int_equal(got.status, LK_STATUS_PENDING);
    assert_string_equal(got.lock_reason, "");
    assert_null(got.password_hash);
    assert_int_equal(got.failed_logins, 0);
    assert_int_equal(got.last_login_at, 0);
    assert_int_equal(got.created_at, 1700000000);
    assert_int_equal(got.updated_at, 1700000001);
    assert_int_equal(got.n_grants, 4);
    const struct { const char *role; int64_t ws; const char *ws_name; } want[4] = {
        {"Admin", LK_WORKSPACE_ALLZONES, "AllZones"},
        {"Beta", LK_WORKSPACE_DEFAULT, "Default"},
        {"Beta", 0, "Europe"},
        {"zeta", LK_WORKSPACE_DEFAULT, "Default"},
    };
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(got.grants[i].role_name, want[i].role);
        assert_string_equal(got.grants[i].workspace_name, want[i].ws_name);
        if (want[i].ws)
            assert_int_equal(got.grants[i].workspace_id, want[i].ws);
    }
    assert_int_equal(got.grants[2].workspace_id, w.id);
    assert_int_equal(got.grants[0].role_id, LK_ROLE_ADMIN);
    assert_int_equal(got.grants[1].role_id, beta);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT password_hash IS NULL AND last_login_at IS NULL FROM users WHERE id = %lld",
             (long long)u.id);
    assert_int_equal(side_int(f, sql), 1);

    /* found by email or user id, case-insensitively */
    assert_int_equal(OPS(f)->user_find(f->store, &f->arena, "ann@example.COM", &got, &err), LK_OK);
    assert_int_equal(got.id, u.id);
    assert_int_equal(got.n_grants, 4);
    assert_int_equal(OPS(f)->user_find(f->store, &f->arena, "ANN", &got, &err), LK_OK);
    assert_int_equal(got.id, u.id);
    assert_int_equal(OPS(f)->user_find(f->store, &f->arena, "bob@example.com", &got, &err), LK_ENOTFOUND);
    assert_int_equal(OPS(f)->user_get(f->store, &f->arena, u.id + 100, &got, &err), LK_ENOTFOUND);

    /* update: every column, grants replaced; optional instants back to NULL */
    lk_grant g2 = {.role_id = zeta, .workspace_id = w.id};
    lk_user upd = {.id = u.id, .email = "ann.lee@example.com", .userid = "ann.lee", .first_name = "Anne",
                   .last_name = "Lee-Smith", .reason = NULL, .expires_at = 0, .api_only = false,
                   .status = LK_STATUS_LOCKED, .lock_reason = "too many failed logins",
                   .password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA", .failed_logins = 5,
                   .last_login_at = 1750000000, .created_at = 1700000000, .updated_at = 1760000000,
                   .grants = &g2, .n_grants = 1};
    begin(f);
    assert_int_equal(OPS(f)->user_update(f->store, &upd, &err), LK_OK);
    commit(f);
    assert_int_equal(OPS(f)->user_get(f->store, &f->arena, u.id, &got, &err), LK_OK);
    assert_string_equal(got.email, "ann.lee@example.com");
    assert_string_equal(got.userid, "ann.lee");
    assert_string_equal(got.first_name, "Anne");
    assert_string_equal(got.last_name, "Lee-Smith");
    assert_string_equal(got.reason, "");
    assert_int_equal(got.expires_at, 0);
    assert_int_equal(got.status, LK_STATUS_LOCKED);
    assert_string_equal(got.lock_reason, "too many failed logins");
    assert_string_equal(got.password_hash, upd.password_hash);
    assert_int_equal(got.failed_logins, 5);
    assert_int_equal(got.last_login_at, 1750000000);
    assert_int_equal(got.updated_at, 1760000000);
    assert_int_equal(got.n_grants, 1);
    assert_string_equal(got.grants[0].role_name, "zeta");
    assert_string_equal(got.grants[0].workspace_name, "Europe");
    snprintf(sql, sizeof sql, "SELECT expires_at IS NULL FROM users WHERE id = %lld", (long long)u.id);
    assert_int_equal(side_int(f, sql), 1);
    assert_int_equal(lk_fixture_count(f, "user_roles"), 1);

    /* status active round-trips too */
    upd.status = LK_STATUS_ACTIVE;
    begin(f);
    assert_int_equal(OPS(f)->user_update(f->store, &upd, &err), LK_OK);
    commit(f);
    assert_int_equal(OPS(f)->user_get(f->store, &f->arena, u.id, &got, &err), LK_OK);
    assert_int_equal(got.status, LK_STATUS_ACTIVE);

    upd.id = u.id + 100;
    begin(f);
    assert_int_equal(OPS(f)->user_update(f->store, &upd, &err), LK_ENOTFOUND);
    commit(f);
}

static void user_constraints(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    add_user(f, "one@x.com", true, NULL, 0);
    int64_t two = add_user(f, "two@x.com", true, NULL, 0);

    lk_user u = {.email = "ONE@x.com", .userid = "fresh", .first_name = "A", .last_name = "B",
                 .status = LK_STATUS_ACTIVE, .api_only = true};
    begin(f);
    assert_int_equal(OPS(f)->user_insert(f->store, &u, &err), LK_EEXISTS);
    assert_string_equal(err.field, "email");
    assert_string_equal(err.msg, "a user with that email already exists");
    u.email = "three@x.com";
    u.userid = "TWO@X.COM";
    assert_int_equal(OPS(f)->user_insert(f->store, &u, &err), LK_EEXISTS);
    assert_string_equal(err.field, "userid");
    /* an API-only user never has a password (CHECK) */
    u.userid = "three@x.com";
    u.password_hash = "$argon2id$x";
    assert_int_equal(OPS(f)->user_insert(f->store, &u, &err), LK_EINVAL);
    /* required columns */
    u.password_hash = NULL;
    u.first_name = NULL;
    assert_int_equal(OPS(f)->user_insert(f->store, &u, &err), LK_EINVAL);
    assert_string_equal(err.field, "first_name");
    /* a grant of a missing role */
    u.first_name = "A";
    lk_grant g = {.role_id = 555, .workspace_id = LK_WORKSPACE_DEFAULT};
    u.grants = &g;
    u.n_grants = 1;
    assert_int_equal(OPS(f)->user_insert(f->store, &u, &err), LK_ENOTFOUND);
    assert_int_equal(u.id, 0);
    commit(f);
    assert_int_equal(lk_fixture_count(f, "users"), 2);

    lk_user got;
    assert_int_equal(OPS(f)->user_get(f->store, &f->arena, two, &got, &err), LK_OK);
    got.email = "one@X.com";
    begin(f);
    assert_int_equal(OPS(f)->user_update(f->store, &got, &err), LK_EEXISTS);
    commit(f);
}

static void user_delete_cascades(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    lk_grant g[2] = {{.role_id = LK_ROLE_ADMIN, .workspace_id = LK_WORKSPACE_ALLZONES},
                     {.role_id = LK_ROLE_ADMIN, .workspace_id = LK_WORKSPACE_DEFAULT}};
    int64_t person = add_user(f, "person@x.com", false, g, 2);
    int64_t keeper = add_user(f, "keeper@x.com", false, g, 1);
    lk_invitation inv = {.user_id = person, .token_hash = "h1", .message = "hi", .created_at = 1, .expires_at = 2};
    lk_invitation inv2 = {.user_id = keeper, .token_hash = "h2", .created_at = 1, .expires_at = 2};
    begin(f);
    assert_int_equal(OPS(f)->invitation_insert(f->store, &inv, &err), LK_OK);
    assert_int_equal(OPS(f)->invitation_insert(f->store, &inv2, &err), LK_OK);
    commit(f);
    assert_int_equal(lk_fixture_count(f, "user_roles"), 3);
    assert_int_equal(lk_fixture_count(f, "invitations"), 2);

    begin(f);
    assert_int_equal(OPS(f)->user_delete(f->store, person, &err), LK_OK);
    assert_int_equal(OPS(f)->user_delete(f->store, person, &err), LK_ENOTFOUND);
    commit(f);
    assert_int_equal(lk_fixture_count(f, "users"), 1);
    assert_int_equal(lk_fixture_count(f, "user_roles"), 1);
    assert_int_equal(lk_fixture_count(f, "invitations"), 1);

    /* an owner of a service cannot be deleted */
    int64_t robot = add_user(f, "robot@x.com", true, g, 1);
    add_service(f, "Sync", "11111111-1111-4111-8111-111111111111", robot);
    begin(f);
    assert_int_equal(OPS(f)->user_delete(f->store, robot, &err), LK_EINUSE);
    assert_non_null(strstr(err.msg, "service"));
    commit(f);
    lk_user got;
    assert_int_equal(OPS(f)->user_get(f->store, &f->arena, robot, &got, &err), LK_OK);
    assert_int_equal(got.n_grants, 1);
}

static void user_list_and_count(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    int64_t ids[6];
    for (int i = 0; i < 6; i++) {
        char email[32];
        snprintf(email, sizeof email, "u%d@x.com", i);
        lk_grant g = {.role_id = LK_ROLE_ADMIN, .workspace_id = LK_WORKSPACE_ALLZONES};
        ids[i] = add_user(f, lk_arena_strdup(&f->arena, email), i % 2 == 0, &g, 1); /* 0,2,4 API-only */
    }

    lk_user *users;
    size_t n;
    lk_user_filter any = {.api_only = -1};
    assert_int_equal(OPS(f)->user_list(f->store, &f->arena, &any, &users, &n, &err), LK_OK);
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(users[i].id, ids[i]);
        assert_int_equal(users[i].n_grants, 1);
        assert_string_equal(users[i].grants[0].role_name, "Admin");
    }

    lk_user_filter api = {.api_only = 1};
    assert_int_equal(OPS(f)->user_list(f->store, &f->arena, &api, &users, &n, &err), LK_OK);
    assert_int_equal(n, 3);
    assert_int_equal(users[0].id, ids[0]);
    assert_int_equal(users[2].id, ids[4]);
    lk_user_filter people = {.api_only = 0};
    assert_int_equal(OPS(f)->user_list(f->store, &f->arena, &people, &users, &n, &err), LK_OK);
    assert_int_equal(n, 3);
    assert_int_equal(users[0].id, ids[1]);

    lk_user_filter page = {.api_only = -1, .offset = 2, .limit = 3};
    assert_int_equal(OPS(f)->user_list(f->store, &f->arena, &page, &users, &n, &err), LK_OK);
    assert_int_equal(n, 3);
    assert_int_equal(users[0].id, ids[2]);
    assert_int_equal(users[2].id, ids[4]);
    page.offset = 5;
    assert_int_equal(OPS(f)->user_list(f->store, &f->arena, &page, &users, &n, &err), LK_OK);
    assert_int_equal(n, 1);
    page.offset = 6;
    assert_int_equal(OPS(f)->user_list(f->store, &f->arena, &page, &users, &n, &err), LK_OK);
    assert_int_equal(n, 0);
    lk_user_filter api_page = {.api_only = 1, .offset = 1, .limit = 1};
    assert_int_equal(OPS(f)->user_list(f->store, &f->arena, &api_page, &users, &n, &err), LK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(users[0].id, ids[2]);

    int64_t count = -1;
    assert_int_equal(OPS(f)->user_count(f->store, &any, 0, &count, &err), LK_OK);
    assert_int_equal(count, 6);
    assert_int_equal(OPS(f)->user_count(f->store, &api, 0, &count, &err), LK_OK);
    assert_int_equal(count, 3);
    assert_int_equal(OPS(f)->user_count(f->store, &api_page, 0, &count, &err), LK_OK);
    assert_int_equal(count, 3); /* offset and limit do not apply to a count */
    assert_int_equal(OPS(f)->user_count(f->store, &people, 0, &count, &err), LK_OK);
    assert_int_equal(count, 3);
}

/* --- invitations ---------------------------------------------------------------- */

static void invitation_round_trip(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    int64_t uid = add_user(f, "invitee@x.com", false, NULL, 0);
    lk_invitation old = {.user_id = uid, .token_hash = "aaaa", .message = NULL, .created_at = 100,
                         .expires_at = 200};
    lk_invitation fresh = {.user_id = uid, .token_hash = "bbbb", .message = "Welcome aboard",
                           .created_at = 150, .expires_at = 250};
    begin(f);
    assert_int_equal(OPS(f)->invitation_insert(f->store, &fresh, &err), LK_OK);
    assert_int_equal(OPS(f)->invitation_insert(f->store, &old, &err), LK_OK);
    commit(f);
    assert_true(old.id > fresh.id);

    lk_invitation got;
    assert_int_equal(OPS(f)->invitation_for_user(f->store, &f->arena, uid, &got, &err), LK_OK);
    assert_int_equal(got.id, fresh.id); /* newest by creation */
    assert_int_equal(got.user_id, uid);
    assert_string_equal(got.token_hash, "bbbb");
    assert_string_equal(got.message, "Welcome aboard");
    assert_int_equal(got.created_at, 150);
    assert_int_equal(got.expires_at, 250);
    assert_int_equal(got.accepted_at, 0);

    assert_int_equal(OPS(f)->invitation_by_hash(f->store, &f->arena, "aaaa", &got, &err), LK_OK);
    assert_int_equal(got.id, old.id);
    assert_string_equal(got.message, "");
    assert_int_equal(OPS(f)->invitation_by_hash(f->store, &f->arena, "AAAA", &got, &err), LK_ENOTFOUND);
    assert_null(strstr(err.msg, "AAAA")); /* a token hash never lands in a message */

    got.accepted_at = 180;
    got.expires_at = 181;
    begin(f);
    assert_int_equal(OPS(f)->invitation_update(f->store, &got, &err), LK_OK);
    commit(f);
    assert_int_equal(OPS(f)->invitation_by_hash(f->store, &f->arena, "aaaa", &got, &err), LK_OK);
    assert_int_equal(got.accepted_at, 180);
    assert_int_equal(got.expires_at, 181);
    assert_string_equal(got.token_hash, "aaaa");

    lk_invitation dup = {.user_id = uid, .token_hash = "aaaa", .created_at = 1, .expires_at = 2};
    lk_invitation orphan = {.user_id = 999, .token_hash = "cccc", .created_at = 1, .expires_at = 2};
    lk_invitation ghost = {.id = 999, .expires_at = 2};
    begin(f);
    assert_int_equal(OPS(f)->invitation_insert(f->store, &dup, &err), LK_EEXISTS);
    assert_null(strstr(err.msg, "aaaa"));
    assert_int_equal(OPS(f)->invitation_insert(f->store, &orphan, &err), LK_ENOTFOUND);
    assert_int_equal(OPS(f)->invitation_update(f->store, &ghost, &err), LK_ENOTFOUND);
    commit(f);
    int64_t other = add_user(f, "nobody@x.com", false, NULL, 0);
    assert_int_equal(OPS(f)->invitation_for_user(f->store, &f->arena, other, &got, &err), LK_ENOTFOUND);
}

/* --- services ------------------------------------------------------------------- */

static void service_round_trip(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    int64_t robot = add_user(f, "Robot@x.com", true, NULL, 0);
    int64_t other = add_user(f, "other@x.com", true, NULL, 0);
    const char *cid = "0b7f5a7e-3c1d-4a55-9a43-6f1e2d3c4b5a";
    char hash[LK_HASH_HEX];
    memset(hash, 'a', LK_HASH_HEX - 1);
    hash[LK_HASH_HEX - 1] = '\0';

    lk_service s = {.name = "CRM Sync", .description = NULL, .user_id = robot, .client_id = cid,
                    .secret_hash = hash, .old_secret_hash = NULL, .old_secret_expires_at = 0,
                    .created_at = 10, .updated_at = 11};
    begin(f);
    assert_int_equal(OPS(f)->service_insert(f->store, &s, &err), LK_OK);
    commit(f);
    assert_true(s.id > 0);

    lk_service got;
    assert_int_equal(OPS(f)->service_find(f->store, &f->arena, "crm SYNC", &got, &err), LK_OK);
    assert_int_equal(got.id, s.id);
    assert_string_equal(got.name, "CRM Sync");
    assert_string_equal(got.description, "");
    assert_int_equal(got.user_id, robot);
    assert_string_equal(got.user_email, "Robot@x.com");
    assert_string_equal(got.client_id, cid);
    assert_string_equal(got.secret_hash, hash);
    assert_null(got.old_secret_hash);
    assert_int_equal(got.old_secret_expires_at, 0);
    assert_int_equal(got.tokens_valid_after, 0);
    assert_int_equal(got.created_at, 10);
    assert_int_equal(got.updated_at, 11);
    assert_int_equal(OPS(f)->service_find_client(f->store, &f->arena, cid, &got, &err), LK_OK);
    assert_int_equal(got.id, s.id);
    assert_int_equal(OPS(f)->service_find_client(f->store, &f->arena, "nope", &got, &err), LK_ENOTFOUND);
    assert_int_equal(OPS(f)->service_find(f->store, &f->arena, "nope", &got, &err), LK_ENOTFOUND);

    /* rotation with a grace period, a new owner and name */
    lk_service upd = got;
    upd.name = "CRM Sync v2";
    upd.description = "nightly";
    upd.user_id = other;
    upd.old_secret_hash = hash;
    upd.secret_hash = "bbbb";
    upd.old_secret_expires_at = 99;
    upd.tokens_valid_after = 12;
    upd.updated_at = 12;
    begin(f);
    assert_int_equal(OPS(f)->service_update(f->store, &upd, &err), LK_OK);
    commit(f);
    assert_int_equal(OPS(f)->service_find_client(f->store, &f->arena, cid, &got, &err), LK_OK);
    assert_string_equal(got.name, "CRM Sync v2");
    assert_string_equal(got.description, "nightly");
    assert_int_equal(got.user_id, other);
    assert_string_equal(got.user_email, "other@x.com");
    assert_string_equal(got.secret_hash, "bbbb");
    assert_string_equal(got.old_secret_hash, hash);
    assert_int_equal(got.old_secret_expires_at, 99);
    assert_int_equal(got.tokens_valid_after, 12);
    assert_int_equal(got.updated_at, 12);
    /* grace over: back to NULL */
    upd.old_secret_hash = NULL;
    upd.old_secret_expires_at = 0;
    begin(f);
    assert_int_equal(OPS(f)->service_update(f->store, &upd, &err), LK_OK);
    commit(f);
    assert_int_equal(side_int(f, "SELECT old_secret_hash IS NULL AND old_secret_expires_at IS NULL FROM services"), 1);
    assert_int_equal(side_int(f, "SELECT tokens_valid_after FROM services"), 12); /* kept by every update */

    /* lists */
    int64_t s2 = add_service(f, "Billing", "22222222-2222-4222-8222-222222222222", robot);
    lk_service *list;
    size_t n;
    assert_int_equal(OPS(f)->service_list(f->store, &f->arena, NULL, &list, &n, &err), LK_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, s.id);
    assert_string_equal(list[0].user_email, "other@x.com");
    assert_int_equal(list[1].id, s2);
    assert_string_equal(list[1].user_email, "Robot@x.com");
    assert_int_equal(OPS(f)->service_list_by_user(f->store, &f->arena, robot, &list, &n, &err), LK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, s2);
    assert_int_equal(OPS(f)->service_list_by_user(f->store, &f->arena, 12345, &list, &n, &err), LK_OK);
    assert_int_equal(n, 0);

    /* uniqueness, owners, missing ids */
    lk_service dup = {.name = "billing", .user_id = robot, .client_id = "33333333-3333-4333-8333-333333333333",
                      .secret_hash = "cc", .created_at = 1, .updated_at = 1};
    begin(f);
    assert_int_equal(OPS(f)->service_insert(f->store, &dup, &err), LK_EEXISTS);
    assert_string_equal(err.msg, "a service with that name already exists");
    dup.name = "Unique";
    dup.client_id = cid;
    assert_int_equal(OPS(f)->service_insert(f->store, &dup, &err), LK_EEXISTS);
    assert_string_equal(err.field, "client_id");
    dup.client_id = "44444444-4444-4444-8444-444444444444";
    dup.user_id = 4242;
    assert_int_equal(OPS(f)->service_insert(f->store, &dup, &err), LK_ENOTFOUND);
    upd.id = 4242;
    assert_int_equal(OPS(f)->service_update(f->store, &upd, &err), LK_ENOTFOUND);
    assert_int_equal(OPS(f)->service_delete(f->store, s2, &err), LK_OK);
    assert_int_equal(OPS(f)->service_delete(f->store, s2, &err), LK_ENOTFOUND);
    commit(f);
    assert_int_equal(lk_fixture_count(f, "services"), 1);
}

/* --- audit ---------------------------------------------------------------------- */

static void audit_round_trip_and_filters(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    lk_audit_event evs[] = {
        {.at = 100, .actor = "cli:root", .address = NULL, .area = "Role", .action = "Create",
         .target = "API Only", .details = "{\"name\":\"API Only\"}"},
        {.at = 200, .actor = "user:Alice@x.com", .address = "10.0.0.1", .area = "User", .action = "Create",
         .target = "bob@x.com", .details = NULL},
        {.at = 200, .actor = "api:alice@x.com/Sync", .address = "10.0.0.2", .area = "User", .action = "Lock",
         .target = "bob@x.com", .details = "{}"},
        {.at = 300, .actor = "system", .address = "", .area = "Service", .action = "Delete",
         .target = "Sync", .details = "{}"},
    };
    size_t n_ev = sizeof evs / sizeof *evs;
    begin(f);
    for (size_t i = 0; i < n_ev; i++)
        assert_int_equal(OPS(f)->audit_insert(f->store, &evs[i], &err), LK_OK);
    commit(f);

    lk_audit_event *out;
    size_t n;
    lk_audit_filter all = {0};
    assert_int_equal(OPS(f)->audit_list(f->store, &f->arena, &all, &out, &n, &err), LK_OK);
    assert_int_equal(n, 4);
    /* newest first; the same instant by id, newest first */
    assert_int_equal(out[0].id, evs[3].id);
    assert_int_equal(out[1].id, evs[2].id);
    assert_int_equal(out[2].id, evs[1].id);
    assert_int_equal(out[3].id, evs[0].id);
    assert_int_equal(out[3].at, 100);
    assert_string_equal(out[3].actor, "cli:root");
    assert_string_equal(out[3].address, "");
    assert_string_equal(out[3].area, "Role");
    assert_string_equal(out[3].action, "Create");
    assert_string_equal(out[3].target, "API Only");
    assert_string_equal(out[3].details, "{\"name\":\"API Only\"}");
    assert_string_equal(out[2].address, "10.0.0.1");
    assert_string_equal(out[2].details, "{}");

    lk_audit_filter since = {.since = 200};
    assert_int_equal(OPS(f)->audit_list(f->store, &f->arena, &since, &out, &n, &err), LK_OK);
    assert_int_equal(n, 3);
    lk_audit_filter until = {.until = 300};
    assert_int_equal(OPS(f)->audit_list(f->store, &f->arena, &until, &out, &n, &err), LK_OK);
    assert_int_equal(n, 3);
    assert_int_equal(out[0].at, 200);
    lk_audit_filter window = {.since = 200, .until = 300};
    assert_int_equal(OPS(f)->audit_list(f->store, &f->arena, &window, &out, &n, &err), LK_OK);
    assert_int_equal(n, 2);

    lk_audit_filter area = {.area = "user"};
    assert_int_equal(OPS(f)->audit_list(f->store, &f->arena, &area, &out, &n, &err), LK_OK);
    assert_int_equal(n, 2);
    lk_audit_filter action = {.action = "CREATE"};
    assert_int_equal(OPS(f)->audit_list(f->store, &f->arena, &action, &out, &n, &err), LK_OK);
    assert_int_equal(n, 2);
    lk_audit_filter both = {.area = "User", .action = "create"};
    assert_int_equal(OPS(f)->audit_list(f->store, &f->arena, &both, &out, &n, &err), LK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].id, evs[1].id);
    lk_audit_filter partial_area = {.area = "Use"};
    assert_int_equal(OPS(f)->audit_list(f->store, &f->arena, &partial_area, &out, &n, &err), LK_OK);
    assert_int_equal(n, 0); /* area is exact, not a substring */

    lk_audit_filter actor = {.actor = "ALICE"};
    assert_int_equal(OPS(f)->audit_list(f->store, &f->arena, &actor, &out, &n, &err), LK_OK);
    assert_int_equal(n, 2);
    lk_audit_filter actor_svc = {.actor = "/sync"};
    assert_int_equal(OPS(f)->audit_list(f->store, &f->arena, &actor_svc, &out, &n, &err), LK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].id, evs[2].id);
    lk_audit_filter actor_pct = {.actor = "%"};
    assert_int_equal(OPS(f)->audit_list(f->store, &f->arena, &actor_pct, &out, &n, &err), LK_OK);
    assert_int_equal(n, 0); /* no LIKE wildcards */

    lk_audit_filter limit = {.limit = 2};
    assert_int_equal(OPS(f)->audit_list(f->store, &f->arena, &limit, &out, &n, &err), LK_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[0].id, evs[3].id);
    assert_int_equal(out[1].id, evs[2].id);
    lk_audit_filter limit_area = {.area = "User", .limit = 1};
    assert_int_equal(OPS(f)->audit_list(f->store, &f->arena, &limit_area, &out, &n, &err), LK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].id, evs[2].id);

    lk_audit_filter none = {.since = 1000};
    assert_int_equal(OPS(f)->audit_list(f->store, &f->arena, &none, &out, &n, &err), LK_OK);
    assert_int_equal(n, 0);
}

/* --- the change feed (migration 0005) ------------------------------------------------ */

/* the feed's rows after `after`, as "kind:id kind:id ..." (static buffer) */
static const char *rows_after(lk_fixture *f, int64_t after, int64_t *last)
{
    static const char *names[] = {"user", "service", "role", "permission", "settings", "allowlist",
                                  "revocation", "keys", "other"};
    static char buf[2048];
    lk_error err = {0};
    lk_change *ch = NULL;
    size_t n = 0;
    assert_int_equal(OPS(f)->changes_since(f->store, &f->arena, after, 1000, &ch, &n, &err), LK_OK);
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && k < sizeof buf - 40; i++) {
        if (i)
            assert_true(ch[i].seq > ch[i - 1].seq);
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%s:%lld", i ? " " : "", names[ch[i].kind],
                              (long long)ch[i].id);
    }
    if (last)
        *last = n ? ch[n - 1].seq : after;
    return buf;
}

static int64_t feed_head(lk_fixture *f)
{
    int64_t head = -1, pruned = -1;
    lk_error err = {0};
    assert_int_equal(OPS(f)->changes_state(f->store, &head, &pruned, &err), LK_OK);
    return head;
}

/* what `what` appended to the feed (every row, in order) equals `want` */
#define EXPECT_ROWS(f, want, what)                                                                \
    do {                                                                                          \
        int64_t before_ = feed_head(f);                                                           \
        what;                                                                                     \
        const char *got_ = rows_after(f, before_, NULL);                                          \
        if (strcmp(got_, want) != 0)                                                              \
            fail_msg("line %d: after %s the feed has \"%s\", expected \"%s\"", __LINE__, #what, got_, \
                     want);                                                                       \
    } while (0)

static void feed_follows_domain_changes(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    char want[256];

    lk_grant grant = {.role_id = LK_ROLE_ADMIN, .workspace_id = LK_WORKSPACE_ALLZONES};
    int64_t user = 0, svc = 0, role = 0, person = 0;
    /* a fresh database: the seed data wrote no rows */
    assert_int_equal(feed_head(f), 0);
    /* an API-only user: its row and its grant */
    user = add_user(f, "robot@x.com", true, &grant, 1);
    snprintf(want, sizeof want, "user:%lld user:%lld", (long long)user, (long long)user);
    assert_string_equal(rows_after(f, 0, NULL), want);
    /* a person: nothing the server reads */
    EXPECT_ROWS(f, "", person = add_user(f, "person@x.com", false, &grant, 1));
    lk_user p;
    assert_int_equal(OPS(f)->user_get(f->store, &f->arena, person, &p, &err), LK_OK);
    p.status = LK_STATUS_LOCKED;
    EXPECT_ROWS(f, "", begin(f); assert_int_equal(OPS(f)->user_update(f->store, &p, &err), LK_OK); commit(f));

    /* an update of what the server does not read adds nothing, even though the
     * store's update writes every column */
    lk_user u;
    assert_int_equal(OPS(f)->user_get(f->store, &f->arena, user, &u, &err), LK_OK);
    u.first_name = "Renamed";
    u.failed_logins = 3;
    EXPECT_ROWS(f, "", begin(f); assert_int_equal(OPS(f)->user_update(f->store, &u, &err), LK_OK); commit(f));

    int64_t before = feed_head(f);
    svc = add_service(f, "Sync", "11111111-1111-4111-8111-111111111111", user);
    snprintf(want, sizeof want, "service:%lld", (long long)svc);
    assert_string_equal(rows_after(f, before, NULL), want);
    lk_service s;
    assert_int_equal(OPS(f)->service_find(f->store, &f->arena, "Sync", &s, &err), LK_OK);
    assert_int_equal(s.token_epoch, 0);
    s.description = "only the description";
    s.name = "Sync renamed";
    EXPECT_ROWS(f, "", begin(f); assert_int_equal(OPS(f)->service_update(f->store, &s, &err), LK_OK); commit(f));
    /* a rotation: the secret changes, the epoch moves (one row per write) */
    s.secret_hash = "bb";
    s.tokens_valid_after = 5000;
    snprintf(want, sizeof want, "service:%lld service:%lld", (long long)svc, (long long)svc);
    EXPECT_ROWS(f, want, begin(f); assert_int_equal(OPS(f)->service_update(f->store, &s, &err), LK_OK); commit(f));
    assert_int_equal(side_int(f, "SELECT token_epoch FROM services"), 1);

    /* locking the owner moves the epoch of each of its services; unlocking does not */
    u.status = LK_STATUS_LOCKED;
    snprintf(want, sizeof want, "user:%lld service:%lld", (long long)user, (long long)svc);
    EXPECT_ROWS(f, want, begin(f); assert_int_equal(OPS(f)->user_update(f->store, &u, &err), LK_OK); commit(f));
    assert_int_equal(side_int(f, "SELECT token_epoch FROM services"), 2);
    u.status = LK_STATUS_ACTIVE;
    snprintf(want, sizeof want, "user:%lld", (long long)user);
    EXPECT_ROWS(f, want, begin(f); assert_int_equal(OPS(f)->user_update(f->store, &u, &err), LK_OK); commit(f));
    assert_int_equal(side_int(f, "SELECT token_epoch FROM services"), 2);
    /* a new expiry: moves the epoch only when the old one had passed */
    u.expires_at = 4000000000;
    EXPECT_ROWS(f, want, begin(f); assert_int_equal(OPS(f)->user_update(f->store, &u, &err), LK_OK); commit(f));
    assert_int_equal(side_int(f, "SELECT token_epoch FROM services"), 2);
    side_exec(f, "UPDATE users SET expires_at = 1000 WHERE email = 'robot@x.com'");
    assert_int_equal(side_int(f, "SELECT token_epoch FROM services"), 2);
    side_exec(f, "UPDATE users SET expires_at = 4000000000 WHERE email = 'robot@x.com'");
    assert_int_equal(side_int(f, "SELECT token_epoch FROM services"), 3);

    const char *perms[] = {"Read-Only Lead"};
    before = feed_head(f);
    role = add_role(f, "API Only", perms, 1);
    snprintf(want, sizeof want, "role:%lld", (long long)role);
    assert_string_equal(rows_after(f, before, NULL), want);
    snprintf(want, sizeof want, "settings:0");
    EXPECT_ROWS(f, want, begin(f); assert_int_equal(OPS(f)->setting_set(f->store, "limits.daily", "10", 1, &err), LK_OK);
                commit(f));
    EXPECT_ROWS(f, "", begin(f); assert_int_equal(OPS(f)->setting_set(f->store, "limits.daily", "10", 2, &err), LK_OK);
                commit(f)); /* the same value */
    EXPECT_ROWS(f, "allowlist:0", begin(f); assert_int_equal(OPS(f)->allow_insert(f->store, "10.0.0.0/8", 1, &err), LK_OK);
                commit(f));
    EXPECT_ROWS(f, "allowlist:0", begin(f); assert_int_equal(OPS(f)->allow_delete(f->store, "10.0.0.0/8", &err), LK_OK);
                commit(f));
    lk_user_limits ul = {.user_id = user, .limits = {.daily = 5}, .updated_at = 1};
    snprintf(want, sizeof want, "user:%lld", (long long)user);
    EXPECT_ROWS(f, want, begin(f); assert_int_equal(OPS(f)->user_limits_set(f->store, &ul, &err), LK_OK); commit(f));
    ul.limits.daily = 6;
    EXPECT_ROWS(f, want, begin(f); assert_int_equal(OPS(f)->user_limits_set(f->store, &ul, &err), LK_OK); commit(f));
    EXPECT_ROWS(f, want, begin(f); assert_int_equal(OPS(f)->user_limits_delete(f->store, user, &err), LK_OK);
                commit(f));

    /* what the server writes itself adds nothing: counts, the audit trail */
    lk_usage_rec ur = {.day = "2030-01-01", .user_id = user, .user_email = "robot@x.com", .count = 3};
    EXPECT_ROWS(f, "", begin(f); assert_int_equal(OPS(f)->usage_add(f->store, &ur, 1, &err), LK_OK); commit(f));
    lk_error_rec er = {.day = "2030-01-01", .code = "606", .count = 1};
    EXPECT_ROWS(f, "", begin(f); assert_int_equal(OPS(f)->errors_add(f->store, &er, 1, &err), LK_OK); commit(f));
    lk_audit_event ev = {.at = 1, .actor = "t", .area = "User", .action = "Edit", .target = "x"};
    EXPECT_ROWS(f, "", begin(f); assert_int_equal(OPS(f)->audit_insert(f->store, &ev, &err), LK_OK); commit(f));

    /* a change rolled back leaves no row */
    EXPECT_ROWS(f, "", begin(f);
                assert_int_equal(OPS(f)->setting_set(f->store, "limits.daily", "11", 1, &err), LK_OK);
                OPS(f)->rollback(f->store));

    /* deletes, and a change made by another process, show too */
    snprintf(want, sizeof want, "service:%lld", (long long)svc);
    EXPECT_ROWS(f, want, begin(f); assert_int_equal(OPS(f)->service_delete(f->store, svc, &err), LK_OK); commit(f));
    snprintf(want, sizeof want, "role:%lld", (long long)role);
    EXPECT_ROWS(f, want, begin(f); assert_int_equal(OPS(f)->role_delete(f->store, role, &err), LK_OK); commit(f));
    EXPECT_ROWS(f, "settings:0", side_exec(f, "UPDATE settings SET value = '7' WHERE key = 'limits.concurrent'"));
    int64_t head = feed_head(f);
    reopen(f);
    assert_int_equal(feed_head(f), head); /* durable */
}

static void feed_reads_append_and_prune(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    int64_t head = -1, pruned = -1;
    assert_int_equal(OPS(f)->changes_state(f->store, &head, &pruned, &err), LK_OK);
    assert_int_equal(pruned, 0);
    assert_int_equal(head, 0);
    int64_t start = 0;

    /* rows no trigger writes: a rotated key file */
    begin(f);
    for (int i = 0; i < 10; i++)
        assert_int_equal(OPS(f)->change_append(f->store, LK_CHANGE_KEYS, 0, 100 + i, &err), LK_OK);
    assert_int_equal(OPS(f)->change_append(f->store, (lk_change_kind)99, 0, 100, &err), LK_EINVAL);
    commit(f);
    assert_int_equal(feed_head(f), start + 10);
    lk_change *ch = NULL;
    size_t n = 0;
    assert_int_equal(OPS(f)->changes_since(f->store, &f->arena, start, 4, &ch, &n, &err), LK_OK);
    assert_int_equal(n, 4); /* at most max, from after `after` */
    assert_int_equal(ch[0].seq, start + 1);
    assert_int_equal(ch[0].kind, LK_CHANGE_KEYS);
    assert_int_equal(ch[0].at, 100);
    assert_int_equal(ch[3].seq, start + 4);
    /* a kind this binary does not know reads as OTHER */
    side_exec(f, lk_fixture_pg(f) ? "ALTER TABLE changes DROP CONSTRAINT changes_kind_check;"
                                    " INSERT INTO changes (kind, id, at) VALUES ('future', 3, 200)"
                                  : "PRAGMA ignore_check_constraints = 1;"
                                    " INSERT INTO changes (kind, id, at) VALUES ('future', 3, 200)");
    assert_int_equal(OPS(f)->changes_since(f->store, &f->arena, start + 10, 10, &ch, &n, &err), LK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ch[0].kind, LK_CHANGE_OTHER);
    head = feed_head(f);

    /* prune by age: rows older than `before` go, the pruned mark follows */
    int64_t removed = -1;
    begin(f);
    assert_int_equal(OPS(f)->changes_prune(f->store, 105, -1, 0, &removed, &err), LK_OK);
    commit(f);
    assert_int_equal(removed, 5);
    assert_int_equal(OPS(f)->changes_state(f->store, &head, &pruned, &err), LK_OK);
    assert_int_equal(pruned, start + 5); /* the rows at 100..104 */
    assert_int_equal(OPS(f)->changes_since(f->store, &f->arena, 0, 100, &ch, &n, &err), LK_OK);
    assert_int_equal(ch[0].seq, start + 6);
    /* a batch at a time, then by count */
    begin(f);
    assert_int_equal(OPS(f)->changes_prune(f->store, 0, 2, 1, &removed, &err), LK_OK);
    commit(f);
    assert_int_equal(removed, 1);
    assert_int_equal(OPS(f)->changes_state(f->store, &head, &pruned, &err), LK_OK);
    assert_int_equal(pruned, start + 6);
    begin(f);
    assert_int_equal(OPS(f)->changes_prune(f->store, 0, 2, 0, &removed, &err), LK_OK);
    commit(f);
    assert_int_equal(OPS(f)->changes_state(f->store, &head, &pruned, &err), LK_OK);
    assert_int_equal(pruned, head - 2);
    assert_int_equal(OPS(f)->changes_since(f->store, &f->arena, 0, 100, &ch, &n, &err), LK_OK);
    assert_int_equal(n, 2);
    /* nothing to prune: nothing moves */
    begin(f);
    assert_int_equal(OPS(f)->changes_prune(f->store, 0, 5, 0, &removed, &err), LK_OK);
    commit(f);
    assert_int_equal(removed, 0);
    /* everything pruned: the head stays where it was; seq is never given again */
    begin(f);
    assert_int_equal(OPS(f)->changes_prune(f->store, 1000, 0, 0, &removed, &err), LK_OK);
    commit(f);
    assert_int_equal(OPS(f)->changes_state(f->store, &head, &pruned, &err), LK_OK);
    assert_int_equal(pruned, head);
    assert_int_equal(head, start + 11);
    begin(f);
    assert_int_equal(OPS(f)->change_append(f->store, LK_CHANGE_KEYS, 0, 300, &err), LK_OK);
    commit(f);
    assert_int_equal(feed_head(f), head + 1);

    /* a read view: rows committed by another connection after it began are not in it */
    assert_int_equal(OPS(f)->snapshot_begin(f->store, &err), LK_OK);
    int64_t seen = feed_head(f);
    side_exec(f, "INSERT INTO changes (kind, id, at) VALUES ('keys', 0, 400)");
    assert_int_equal(feed_head(f), seen);
    OPS(f)->snapshot_end(f->store);
    assert_int_equal(feed_head(f), seen + 1);
}

static lk_code collect_revocation(void *ctx, const lk_revocation *r)
{
    char *buf = ctx;
    size_t k = strlen(buf);
    snprintf(buf + k, 512 - k, "%s%s/%lld/%lld", k ? " " : "", r->token_id, (long long)r->service_id,
             (long long)r->expires_at);
    return LK_OK;
}

static void revocation_round_trip(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    lk_revocation a = {.token_id = "00112233445566778899", .service_id = 7, .expires_at = 4600, .revoked_at = 1000};
    lk_revocation b = {.token_id = "aabbccddeeff00112233", .service_id = 8, .expires_at = 2000, .revoked_at = 1100};
    int64_t before = feed_head(f);
    begin(f);
    assert_int_equal(OPS(f)->revocation_insert(f->store, &a, &err), LK_OK);
    assert_int_equal(OPS(f)->revocation_insert(f->store, &b, &err), LK_OK);
    assert_int_equal(OPS(f)->revocation_insert(f->store, &a, &err), LK_OK); /* twice: stored once */
    commit(f);
    assert_int_equal(lk_fixture_count(f, "token_revocations"), 2);
    /* each reaches the feed, by its row id */
    int64_t ida = side_int(f, "SELECT id FROM token_revocations WHERE service_id = 7");
    int64_t idb = side_int(f, "SELECT id FROM token_revocations WHERE service_id = 8");
    char want[64];
    snprintf(want, sizeof want, "revocation:%lld revocation:%lld", (long long)ida, (long long)idb);
    assert_string_equal(rows_after(f, before, NULL), want);

    lk_revocation got;
    assert_int_equal(OPS(f)->revocation_get(f->store, &f->arena, ida, &got, &err), LK_OK);
    assert_string_equal(got.token_id, a.token_id);
    assert_int_equal(got.service_id, 7);
    assert_int_equal(got.expires_at, 4600);
    assert_int_equal(got.revoked_at, 1000);
    assert_int_equal(OPS(f)->revocation_get(f->store, &f->arena, 999, &got, &err), LK_ENOTFOUND);

    char seen[512] = "";
    assert_int_equal(OPS(f)->revocation_scan(f->store, 0, collect_revocation, seen, &err), LK_OK);
    assert_string_equal(seen, "00112233445566778899/7/4600 aabbccddeeff00112233/8/2000");
    seen[0] = '\0';
    assert_int_equal(OPS(f)->revocation_scan(f->store, 2001, collect_revocation, seen, &err), LK_OK);
    assert_string_equal(seen, "00112233445566778899/7/4600");

    /* purge: expired strictly before the instant; adds nothing to the feed */
    before = feed_head(f);
    begin(f);
    assert_int_equal(OPS(f)->revocation_purge(f->store, 2000, &err), LK_OK);
    assert_int_equal(OPS(f)->revocation_purge(f->store, 2001, &err), LK_OK);
    commit(f);
    assert_string_equal(rows_after(f, before, NULL), "");
    reopen(f);
    seen[0] = '\0';
    assert_int_equal(OPS(f)->revocation_scan(f->store, 0, collect_revocation, seen, &err), LK_OK);
    assert_string_equal(seen, "00112233445566778899/7/4600");
}

static void setting_round_trip(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    lk_arena *a = &f->arena;
    static const struct {
        const char *key, *value;
    } seeded[] = {
        {"limits.rate_calls", "100"}, {"limits.rate_seconds", "20"}, {"limits.daily", "50000"},
        {"limits.concurrent", "10"},  {"allowlist.enabled", "0"},
    };
    for (size_t i = 0; i < sizeof seeded / sizeof *seeded; i++) {
        const char *v = NULL;
        assert_int_equal(OPS(f)->setting_get(f->store, a, seeded[i].key, &v, &err), LK_OK);
        assert_string_equal(v, seeded[i].value);
    }
    assert_int_equal(lk_fixture_count(f, "settings"), 5);

    const char *v = "untouched";
    assert_int_equal(OPS(f)->setting_get(f->store, a, "no.such.key", &v, &err), LK_ENOTFOUND);
    assert_non_null(strstr(err.msg, "no.such.key"));
    assert_string_equal(v, "untouched");
    assert_int_equal(OPS(f)->setting_get(f->store, a, "LIMITS.DAILY", &v, &err), LK_ENOTFOUND); /* keys are exact */

    begin(f);
    assert_int_equal(OPS(f)->setting_set(f->store, "limits.daily", "1234", 777, &err), LK_OK);
    assert_int_equal(OPS(f)->setting_set(f->store, "new.key", "x y", 778, &err), LK_OK);
    commit(f);
    assert_int_equal(OPS(f)->setting_get(f->store, a, "limits.daily", &v, &err), LK_OK);
    assert_string_equal(v, "1234");
    assert_int_equal(OPS(f)->setting_get(f->store, a, "new.key", &v, &err), LK_OK);
    assert_string_equal(v, "x y");
    assert_int_equal(side_int(f, "SELECT updated_at FROM settings WHERE key = 'limits.daily'"), 777);
    assert_int_equal(lk_fixture_count(f, "settings"), 6);

    begin(f);
    assert_int_equal(OPS(f)->setting_set(f->store, "limits.daily", NULL, 779, &err), LK_EINVAL);
    OPS(f)->rollback(f->store);
    reopen(f);
    assert_int_equal(OPS(f)->setting_get(f->store, a, "limits.daily", &v, &err), LK_OK);
    assert_string_equal(v, "1234");
}

static void allowlist_round_trip(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    lk_arena *a = &f->arena;
    const char **cidrs;
    size_t n = 99;
    assert_int_equal(OPS(f)->allow_list(f->store, a, &cidrs, &n, &err), LK_OK);
    assert_int_equal(n, 0);

    begin(f);
    assert_int_equal(OPS(f)->allow_insert(f->store, "192.0.2.7/32", 10, &err), LK_OK);
    assert_int_equal(OPS(f)->allow_insert(f->store, "10.0.0.0/8", 11, &err), LK_OK);
    assert_int_equal(OPS(f)->allow_insert(f->store, "2001:db8::/32", 12, &err), LK_OK);
    commit(f);
    assert_int_equal(OPS(f)->allow_list(f->store, a, &cidrs, &n, &err), LK_OK);
    assert_int_equal(n, 3);
    assert_string_equal(cidrs[0], "192.0.2.7/32"); /* ordered by id */
    assert_string_equal(cidrs[1], "10.0.0.0/8");
    assert_string_equal(cidrs[2], "2001:db8::/32");

    begin(f);
    assert_int_equal(OPS(f)->allow_insert(f->store, "10.0.0.0/8", 13, &err), LK_EEXISTS);
    assert_string_equal(err.field, "cidr");
    assert_non_null(strstr(err.msg, "10.0.0.0/8"));
    assert_int_equal(OPS(f)->allow_delete(f->store, "10.0.0.0/8", &err), LK_OK);
    assert_int_equal(OPS(f)->allow_delete(f->store, "10.0.0.0/8", &err), LK_ENOTFOUND);
    assert_non_null(strstr(err.msg, "10.0.0.0/8"));
    commit(f);
    assert_int_equal(OPS(f)->allow_list(f->store, a, &cidrs, &n, &err), LK_OK);
    assert_int_equal(n, 2);
    assert_string_equal(cidrs[1], "2001:db8::/32");

    /* a removed entry added again goes last */
    begin(f);
    assert_int_equal(OPS(f)->allow_insert(f->store, "10.0.0.0/8", 14, &err), LK_OK);
    commit(f);
    assert_int_equal(OPS(f)->allow_list(f->store, a, &cidrs, &n, &err), LK_OK);
    assert_int_equal(n, 3);
    assert_string_equal(cidrs[2], "10.0.0.0/8");
    assert_int_equal(side_int(f, "SELECT created_at FROM allowlist WHERE cidr = '10.0.0.0/8'"), 14);
}

static void user_limits_round_trip(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    lk_arena *a = &f->arena;
    int64_t bob = add_user(f, "Bob@x.com", true, NULL, 0);
    int64_t amy = add_user(f, "amy@x.com", true, NULL, 0);
    lk_user_limits *out;
    size_t n = 99;
    assert_int_equal(OPS(f)->user_limits_list(f->store, a, &out, &n, &err), LK_OK);
    assert_int_equal(n, 0);

    lk_user_limits lb = {.user_id = bob, .limits = {.rate_calls = 10, .rate_seconds = 1, .daily = 0, .concurrent = 2},
                         .updated_at = 50};
    lk_user_limits la = {.user_id = amy, .limits = {.daily = 500}, .updated_at = 51};
    begin(f);
    assert_int_equal(OPS(f)->user_limits_set(f->store, &lb, &err), LK_OK);
    assert_int_equal(OPS(f)->user_limits_set(f->store, &la, &err), LK_OK);
    commit(f);
    assert_int_equal(OPS(f)->user_limits_list(f->store, a, &out, &n, &err), LK_OK);
    assert_int_equal(n, 2);
    assert_int_equal(out[0].user_id, bob); /* ordered by user id */
    assert_string_equal(out[0].user_email, "Bob@x.com");
    assert_int_equal(out[0].limits.rate_calls, 10);
    assert_int_equal(out[0].limits.rate_seconds, 1);
    assert_int_equal(out[0].limits.daily, 0);
    assert_int_equal(out[0].limits.concurrent, 2);
    assert_int_equal(out[0].updated_at, 50);
    assert_int_equal(out[1].user_id, amy);
    assert_string_equal(out[1].user_email, "amy@x.com");
    assert_int_equal(out[1].limits.daily, 500);

    /* set replaces the whole row */
    lb.limits = (lk_limits){.daily = 7};
    lb.updated_at = 60;
    begin(f);
    assert_int_equal(OPS(f)->user_limits_set(f->store, &lb, &err), LK_OK);
    commit(f);
    assert_int_equal(lk_fixture_count(f, "user_limits"), 2);
    assert_int_equal(OPS(f)->user_limits_list(f->store, a, &out, &n, &err), LK_OK);
    assert_int_equal(out[0].limits.rate_calls, 0);
    assert_int_equal(out[0].limits.rate_seconds, 0);
    assert_int_equal(out[0].limits.daily, 7);
    assert_int_equal(out[0].limits.concurrent, 0);
    assert_int_equal(out[0].updated_at, 60);

    /* a missing user; delete of an absent row is fine */
    lk_user_limits ghost = {.user_id = 4242, .limits = {.daily = 1}, .updated_at = 1};
    begin(f);
    assert_int_equal(OPS(f)->user_limits_set(f->store, &ghost, &err), LK_ENOTFOUND);
    assert_int_equal(OPS(f)->user_limits_delete(f->store, 4242, &err), LK_OK);
    assert_int_equal(OPS(f)->user_limits_delete(f->store, amy, &err), LK_OK);
    assert_int_equal(OPS(f)->user_limits_delete(f->store, amy, &err), LK_OK);
    commit(f);
    assert_int_equal(OPS(f)->user_limits_list(f->store, a, &out, &n, &err), LK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].user_id, bob);

    /* the limits go with the user */
    begin(f);
    assert_int_equal(OPS(f)->user_delete(f->store, bob, &err), LK_OK);
    commit(f);
    assert_int_equal(lk_fixture_count(f, "user_limits"), 0);
}

static void usage_and_errors_add_up(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    lk_arena *a = &f->arena;
    lk_usage_rec calls[] = {
        {.day = "2030-01-02", .user_id = 9, .user_email = "b@x.com", .count = 5},
        {.day = "2030-01-01", .user_id = 9, .user_email = "b@x.com", .count = 1},
        {.day = "2030-01-02", .user_id = 3, .user_email = "a@x.com", .count = 2},
    };
    lk_error_rec errs[] = {
        {.day = "2030-01-02", .code = "606", .count = 4},
        {.day = "2030-01-02", .code = "601", .count = 1},
        {.day = "2030-01-03", .code = "615", .count = 2},
    };
    begin(f);
    assert_int_equal(OPS(f)->usage_add(f->store, calls, 3, &err), LK_OK);
    assert_int_equal(OPS(f)->errors_add(f->store, errs, 3, &err), LK_OK);
    assert_int_equal(OPS(f)->usage_add(f->store, NULL, 0, &err), LK_OK);
    assert_int_equal(OPS(f)->errors_add(f->store, NULL, 0, &err), LK_OK);
    commit(f);

    /* adding again adds to the stored counts; the newest email wins */
    lk_usage_rec more[] = {
        {.day = "2030-01-02", .user_id = 9, .user_email = "b2@x.com", .count = 10},
        {.day = "2030-01-03", .user_id = 3, .user_email = "a@x.com", .count = 1},
    };
    lk_error_rec more_errs[] = {{.day = "2030-01-02", .code = "606", .count = 6}};
    begin(f);
    assert_int_equal(OPS(f)->usage_add(f->store, more, 2, &err), LK_OK);
    assert_int_equal(OPS(f)->errors_add(f->store, more_errs, 1, &err), LK_OK);
    commit(f);

    lk_usage_rec *u;
    size_t n;
    assert_int_equal(OPS(f)->usage_list(f->store, a, "2030-01-01", "2030-01-03", &u, &n, &err), LK_OK);
    assert_int_equal(n, 4);
    /* by day, then user id */
    assert_string_equal(u[0].day, "2030-01-01");
    assert_int_equal(u[0].user_id, 9);
    assert_int_equal(u[0].count, 1);
    assert_string_equal(u[1].day, "2030-01-02");
    assert_int_equal(u[1].user_id, 3);
    assert_string_equal(u[1].user_email, "a@x.com");
    assert_int_equal(u[1].count, 2);
    assert_string_equal(u[2].day, "2030-01-02");
    assert_int_equal(u[2].user_id, 9);
    assert_string_equal(u[2].user_email, "b2@x.com");
    assert_int_equal(u[2].count, 15);
    assert_string_equal(u[3].day, "2030-01-03");
    assert_int_equal(u[3].count, 1);
    /* inclusive bounds */
    assert_int_equal(OPS(f)->usage_list(f->store, a, "2030-01-02", "2030-01-02", &u, &n, &err), LK_OK);
    assert_int_equal(n, 2);
    assert_int_equal(OPS(f)->usage_list(f->store, a, "2030-01-04", "2030-12-31", &u, &n, &err), LK_OK);
    assert_int_equal(n, 0);

    lk_error_rec *e;
    assert_int_equal(OPS(f)->errors_list(f->store, a, "2030-01-01", "2030-01-03", &e, &n, &err), LK_OK);
    assert_int_equal(n, 3);
    assert_string_equal(e[0].day, "2030-01-02");
    assert_string_equal(e[0].code, "601");
    assert_int_equal(e[0].count, 1);
    assert_string_equal(e[1].code, "606");
    assert_int_equal(e[1].count, 10);
    assert_string_equal(e[2].day, "2030-01-03");
    assert_string_equal(e[2].code, "615");
    assert_int_equal(OPS(f)->errors_list(f->store, a, "2030-01-03", "2030-01-03", &e, &n, &err), LK_OK);
    assert_int_equal(n, 1);

    /* a batch is counted whole or not at all */
    lk_usage_rec bad[] = {
        {.day = "2030-01-05", .user_id = 3, .user_email = "a@x.com", .count = 100},
        {.day = NULL, .user_id = 3, .user_email = "a@x.com", .count = 1},
    };
    begin(f);
    assert_int_equal(OPS(f)->usage_add(f->store, bad, 2, &err), LK_EINVAL);
    commit(f);
    assert_int_equal(OPS(f)->usage_list(f->store, a, "2030-01-05", "2030-01-05", &u, &n, &err), LK_OK);
    assert_int_equal(n, 0);

    reopen(f);
    assert_int_equal(OPS(f)->usage_list(f->store, a, "2030-01-01", "2030-01-03", &u, &n, &err), LK_OK);
    assert_int_equal(n, 4);
}

/* --- streaming reads for the server's catalog ----------------------------------- */

typedef struct scan_rows {
    int64_t user[16], role[16], limits[16];
    char email[16][64];
    size_t n;
    size_t stop_after;          /* 0: never */
} scan_rows;

static lk_code collect_user_role(void *ctx, const lk_user *u, int64_t role_id, const lk_limits *limits)
{
    scan_rows *r = ctx;
    r->limits[r->n] = limits ? limits->daily : -1;
    assert_true(r->n < 16);
    assert_true(u->api_only);
    assert_int_equal(u->status, LK_STATUS_ACTIVE);
    assert_null(u->grants);
    r->user[r->n] = u->id;
    r->role[r->n] = role_id;
    snprintf(r->email[r->n], sizeof r->email[r->n], "%s", u->email);
    r->n++;
    return r->stop_after && r->n == r->stop_after ? LK_EINVAL : LK_OK;
}

static lk_code collect_service(void *ctx, const lk_service *svc)
{
    scan_rows *r = ctx;
    assert_true(r->n < 16);
    assert_null(svc->description);
    r->user[r->n] = svc->id;
    r->role[r->n] = svc->user_id;
    snprintf(r->email[r->n], sizeof r->email[r->n], "%s|%s|%s", svc->client_id, svc->secret_hash,
             svc->old_secret_hash ? svc->old_secret_hash : "-");
    r->n++;
    return LK_OK;
}

static void catalog_scans(void **state)
{
    lk_fixture *f = fx(state);
    const char *p1[] = {"Read-Only Lead"};
    int64_t r1 = add_role(f, "Scan One", p1, 1);
    int64_t r2 = add_role(f, "Scan Two", p1, 1);
    lk_grant two[] = {{.role_id = r2, .workspace_id = LK_WORKSPACE_DEFAULT},
                      {.role_id = r1, .workspace_id = LK_WORKSPACE_DEFAULT}};
    int64_t a = add_user(f, "a@example.com", true, two, 2);
    int64_t person = add_user(f, "person@example.com", false, two, 1);
    int64_t bare = add_user(f, "bare@example.com", true, NULL, 0);

    scan_rows rows = {0};
    lk_error err = {0};
    assert_int_equal(OPS(f)->api_user_role_scan(f->store, collect_user_role, &rows, &err), LK_OK);
    /* people are left out; a's two roles are two rows; bare has one row with role 0 */
    assert_int_equal(rows.n, 3);
    assert_int_equal(rows.user[0], a);
    assert_int_equal(rows.user[1], a);
    assert_true((rows.role[0] == r1 && rows.role[1] == r2) || (rows.role[0] == r2 && rows.role[1] == r1));
    assert_string_equal(rows.email[0], "a@example.com");
    assert_int_equal(rows.user[2], bare);
    assert_int_equal(rows.role[2], 0);
    assert_string_equal(rows.email[2], "bare@example.com");

    /* a callback's error ends the scan and is returned; the statement is reusable */
    scan_rows stop = {.stop_after = 1};
    assert_int_equal(OPS(f)->api_user_role_scan(f->store, collect_user_role, &stop, &err), LK_EINVAL);
    assert_int_equal(stop.n, 1);
    scan_rows again = {0};
    assert_int_equal(OPS(f)->api_user_role_scan(f->store, collect_user_role, &again, &err), LK_OK);
    assert_int_equal(again.n, 3);

    assert_int_equal(rows.limits[0], -1);

    /* one user's rows, with its own limits */
    lk_user_limits ul = {.user_id = a, .limits = {.daily = 42}, .updated_at = 1};
    begin(f);
    assert_int_equal(OPS(f)->user_limits_set(f->store, &ul, &err), LK_OK);
    commit(f);
    scan_rows one = {0};
    assert_int_equal(OPS(f)->api_user_get(f->store, a, collect_user_role, &one, &err), LK_OK);
    assert_int_equal(one.n, 2);
    assert_int_equal(one.user[0], a);
    assert_int_equal(one.user[1], a);
    assert_int_equal(one.limits[0], 42);
    assert_int_equal(one.limits[1], 42);
    scan_rows none = {0};
    assert_int_equal(OPS(f)->api_user_get(f->store, person, collect_user_role, &none, &err), LK_OK);
    assert_int_equal(none.n, 0); /* a person is not an API-only user */
    assert_int_equal(OPS(f)->api_user_get(f->store, 9999, collect_user_role, &none, &err), LK_OK);
    assert_int_equal(none.n, 0);

    int64_t s1 = add_service(f, "Scan S1", "11111111-1111-4111-8111-111111111111", a);
    int64_t s2 = add_service(f, "Scan S2", "22222222-2222-4222-8222-222222222222", bare);
    scan_rows svcs = {0};
    assert_int_equal(OPS(f)->service_scan(f->store, collect_service, &svcs, &err), LK_OK);
    assert_int_equal(svcs.n, 2);
    assert_int_equal(svcs.user[0], s1);
    assert_int_equal(svcs.role[0], a);
    assert_string_equal(svcs.email[0], "11111111-1111-4111-8111-111111111111|aa|-");
    assert_int_equal(svcs.user[1], s2);
    assert_int_equal(svcs.role[1], bare);

    /* one service by id, with its token epoch */
    lk_service got;
    assert_int_equal(OPS(f)->service_get(f->store, &f->arena, s2, &got, &err), LK_OK);
    assert_int_equal(got.id, s2);
    assert_int_equal(got.user_id, bare);
    assert_string_equal(got.client_id, "22222222-2222-4222-8222-222222222222");
    assert_string_equal(got.secret_hash, "aa");
    assert_int_equal(got.token_epoch, 0);
    side_exec(f, "UPDATE services SET token_epoch = 7 WHERE name = 'Scan S2'");
    assert_int_equal(OPS(f)->service_get(f->store, &f->arena, s2, &got, &err), LK_OK);
    assert_int_equal(got.token_epoch, 7);
    assert_int_equal(OPS(f)->service_get(f->store, &f->arena, 9999, &got, &err), LK_ENOTFOUND);
}

/* the gateway's routes (migration 0008): round trip, order, uniqueness, and every
 * change in the feed as a 'settings' row (how each node's catalog hears of it) */
static void gwroute_round_trip(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    lk_arena *a = &f->arena;
    lk_gw_route *rs = NULL;
    size_t n = 99;
    assert_int_equal(OPS(f)->gwroute_list(f->store, a, &rs, &n, &err), LK_OK);
    assert_int_equal(n, 0);

    const char *perms[] = {"Read-Only Lead", "Read-Write Lead"};
    lk_gw_route r1 = {.method = "GET", .pattern = "/rest/v1/leads.json", .permissions = perms,
                      .n_permissions = 2, .created_at = 100};
    lk_gw_route r2 = {.method = "*", .pattern = "/rest/v1/{id}/*", .plain = true, .created_at = 101};
    EXPECT_ROWS(f, "settings:0 settings:0", begin(f);
                assert_int_equal(OPS(f)->gwroute_insert(f->store, &r1, &err), LK_OK);
                assert_int_equal(OPS(f)->gwroute_insert(f->store, &r2, &err), LK_OK); commit(f));
    assert_true(r1.id > 0);
    assert_true(r2.id > r1.id);

    assert_int_equal(OPS(f)->gwroute_list(f->store, a, &rs, &n, &err), LK_OK);
    assert_int_equal(n, 2);
    assert_int_equal(rs[0].id, r1.id); /* ordered by id */
    assert_string_equal(rs[0].method, "GET");
    assert_string_equal(rs[0].pattern, "/rest/v1/leads.json");
    assert_int_equal(rs[0].n_permissions, 2);
    assert_string_equal(rs[0].permissions[0], "Read-Only Lead");
    assert_string_equal(rs[0].permissions[1], "Read-Write Lead");
    assert_false(rs[0].plain);
    assert_int_equal(rs[0].created_at, 100);
    assert_string_equal(rs[1].method, "*");
    assert_int_equal(rs[1].n_permissions, 0);
    assert_true(rs[1].plain);

    /* the same method and pattern again: refused, naming it; the transaction goes on */
    lk_gw_route dup = {.method = "GET", .pattern = "/rest/v1/leads.json", .created_at = 102};
    begin(f);
    assert_int_equal(OPS(f)->gwroute_insert(f->store, &dup, &err), LK_EEXISTS);
    assert_string_equal(err.field, "pattern");
    assert_non_null(strstr(err.msg, "/rest/v1/leads.json"));
    assert_int_equal(OPS(f)->gwroute_delete(f->store, r1.id, &err), LK_OK);
    assert_int_equal(OPS(f)->gwroute_delete(f->store, r1.id, &err), LK_ENOTFOUND);
    commit(f);
    assert_int_equal(OPS(f)->gwroute_list(f->store, a, &rs, &n, &err), LK_OK);
    assert_int_equal(n, 1);
    assert_int_equal(rs[0].id, r2.id);
    EXPECT_ROWS(f, "settings:0", begin(f); assert_int_equal(OPS(f)->gwroute_delete(f->store, r2.id, &err), LK_OK);
                commit(f));
    assert_int_equal(lk_fixture_count(f, "gateway_routes"), 0);
}

/* sums of the others' rows of kind k and scope sc in rows (0 when none) */
static int64_t others_n(const lk_limit_count *rows, size_t n, const char *sc, char k, int64_t bucket)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].kind == k && strcmp(rows[i].scope, sc) == 0 && rows[i].bucket == bucket)
            return rows[i].n;
    return 0;
}

/* limits across processes (migration 0009): a process's counts replace its own rows,
 * the others' are summed per key within the windows asked, pruning by age */
static void limit_counts_round_trip(void **state)
{
    lk_fixture *f = fx(state);
    lk_error err = {0};
    lk_arena *a = &f->arena;
    const lk_limit_count pa[] = {
        {.scope = "", .kind = 'c', .bucket = 0, .n = 1},    /* heartbeat */
        {.scope = "i", .kind = 'r', .bucket = 1000, .n = 4},
        {.scope = "i", .kind = 'r', .bucket = 1001, .n = 5},
        {.scope = "i", .kind = 'd', .bucket = 20000, .n = 9},
        {.scope = "u7", .kind = 'c', .bucket = 0, .n = 2},
        {.scope = "tabc\"\\", .kind = 't', .bucket = 55, .n = 3}, /* quotes travel as they are */
        {.scope = "a0f1", .kind = 's', .bucket = 2000, .n = 2},   /* sign-in buckets (migration 0010) */
        {.scope = "a0f1", .kind = 's', .bucket = 100, .n = 1},
    };
    const lk_limit_count pb[] = {
        {.scope = "", .kind = 'c', .bucket = 0, .n = 1},
        {.scope = "i", .kind = 'r', .bucket = 1001, .n = 2},
        {.scope = "i", .kind = 'd', .bucket = 20000, .n = 1},
        {.scope = "i", .kind = 'd', .bucket = 19999, .n = 50},  /* another day */
    };
    begin(f);
    assert_int_equal(OPS(f)->limit_counts_put(f->store, "A", pa, sizeof pa / sizeof *pa, 500, &err), LK_OK);
    assert_int_equal(OPS(f)->limit_counts_put(f->store, "B", pb, sizeof pb / sizeof *pb, 500, &err), LK_OK);
    assert_int_equal(OPS(f)->limit_counts_put(f->store, "B", NULL, 0, 500, &err), LK_OK);
    commit(f);
    assert_int_equal(lk_fixture_count(f, "limit_counts"), 12);

    /* C sees both: seconds after 1000, day 20000, alive after 499, window 55, sign-in
     * buckets after 1500 */
    lk_limit_count *rows = NULL;
    size_t n = 0;
    assert_int_equal(OPS(f)->limit_counts_others(f->store, a, "C", 1000, 20000, 499, 55, 1500, &rows, &n, &err), LK_OK);
    assert_int_equal(others_n(rows, n, "", 'c', 0), 2);
    assert_int_equal(others_n(rows, n, "i", 'r', 1000), 0); /* not after since_second */
    assert_int_equal(others_n(rows, n, "i", 'r', 1001), 7);
    assert_int_equal(others_n(rows, n, "i", 'd', 20000), 10);
    assert_int_equal(others_n(rows, n, "i", 'd', 19999), 0);
    assert_int_equal(others_n(rows, n, "u7", 'c', 0), 2);
    assert_int_equal(others_n(rows, n, "tabc\"\\", 't', 55), 3);
    assert_int_equal(others_n(rows, n, "a0f1", 's', 2000), 2);
    assert_int_equal(others_n(rows, n, "a0f1", 's', 100), 0); /* not after signin_after */
    assert_int_equal(n, 6);

    /* A sees only B's; a heartbeat stamped too long ago is no longer alive */
    assert_int_equal(OPS(f)->limit_counts_others(f->store, a, "A", 999, 20000, 499, 55, 1500, &rows, &n, &err), LK_OK);
    assert_int_equal(others_n(rows, n, "i", 'r', 1001), 2);
    assert_int_equal(others_n(rows, n, "i", 'd', 20000), 1);
    assert_int_equal(others_n(rows, n, "", 'c', 0), 1);
    assert_int_equal(others_n(rows, n, "tabc\"\\", 't', 55), 0);
    assert_int_equal(OPS(f)->limit_counts_others(f->store, a, "A", 999, 20000, 500, 55, 1500, &rows, &n, &err), LK_OK);
    assert_int_equal(others_n(rows, n, "", 'c', 0), 0);

    /* a put replaces the process's values of those keys, stamps every row it writes */
    const lk_limit_count again[] = {{.scope = "i", .kind = 'r', .bucket = 1001, .n = 6},
                                    {.scope = "", .kind = 'c', .bucket = 0, .n = 0}};
    begin(f);
    assert_int_equal(OPS(f)->limit_counts_put(f->store, "A", again, 2, 510, &err), LK_OK);
    commit(f);
    assert_int_equal(OPS(f)->limit_counts_others(f->store, a, "C", 1000, 20000, 505, 55, 1500, &rows, &n, &err), LK_OK);
    assert_int_equal(others_n(rows, n, "i", 'r', 1001), 8);
    assert_int_equal(others_n(rows, n, "", 'c', 0), 0); /* A left (n 0), B's is old */
    assert_int_equal(side_int(f, "SELECT at FROM limit_counts WHERE process = 'A' AND kind = 'r' AND bucket = 1001"),
                     510);
    assert_int_equal(side_int(f, "SELECT at FROM limit_counts WHERE process = 'A' AND kind = 'r' AND bucket = 1000"),
                     500);

    /* prune: seconds before 1001, days before 20000, 'c' and 't' stamped before 505,
     * sign-in buckets before 1500 */
    begin(f);
    assert_int_equal(OPS(f)->limit_counts_prune(f->store, 1001, 20000, 505, 1500, &err), LK_OK);
    commit(f);
    assert_int_equal(side_int(f, "SELECT count(*) FROM limit_counts WHERE kind = 'r'"), 2);
    assert_int_equal(side_int(f, "SELECT count(*) FROM limit_counts WHERE kind = 'd'"), 2);
    assert_int_equal(side_int(f, "SELECT count(*) FROM limit_counts WHERE kind = 'c'"), 1); /* A's, at 510 */
    assert_int_equal(side_int(f, "SELECT count(*) FROM limit_counts WHERE kind = 't'"), 0);
    assert_int_equal(side_int(f, "SELECT count(*) FROM limit_counts WHERE kind = 's'"), 1);
    /* not in the change feed: the counts are rewritten several times a second */
    assert_int_equal(feed_head(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, lk_fixture_setup, lk_fixture_teardown)
        T(migrations_applied_and_recorded),
        T(seed_data),
        T(reopen_is_idempotent),
        T(newer_schema_is_refused),
        T(not_a_database_is_refused),
        T(failed_migration_rolls_back),
        T(pragmas_in_effect),
        T(locations),
        T(default_location),
        T(rollback_discards),
        T(readers_see_committed_state_only),
        T(writers_wait_for_each_other),
        T(failed_write_leaves_no_half),
        T(workspace_round_trip),
        T(permission_round_trip),
        T(role_round_trip),
        T(role_errors),
        T(role_holders),
        T(user_round_trip),
        T(user_constraints),
        T(user_delete_cascades),
        T(user_list_and_count),
        T(invitation_round_trip),
        T(service_round_trip),
        T(audit_round_trip_and_filters),
        T(feed_follows_domain_changes),
        T(feed_reads_append_and_prune),
        T(revocation_round_trip),
        T(setting_round_trip),
        T(allowlist_round_trip),
        T(gwroute_round_trip),
        T(limit_counts_round_trip),
        T(user_limits_round_trip),
        T(usage_and_errors_add_up),
        T(catalog_scans),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
