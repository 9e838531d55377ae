/*
 * store_pg — opening the PostgreSQL store: the connection, the migrations, whose a
 * schema is; then transactions, close, the feed's notifications, and the ops table.
 *
 * Invariants kept from open to close:
 *  - The schema (the connection's current schema) is exactly the embedded
 *    migrations up to q->version, each recorded in schema_migrations, whose table
 *    comment 'latchkey' marks the schema as latchkey's. A schema with tables but
 *    without that mark is some other program's and is never written; one recording
 *    a version this binary does not know is refused before anything is written.
 *  - A read-only open sets default_transaction_read_only: nothing it runs can write.
 *  - Writers take the advisory lock LK_PG_LOCK_KEY at begin (store_pg.h), waiting
 *    at most LOCK_TIMEOUT for it.
 *  - The URL (it may hold a password) never appears in an error message.
 */
#include "store/postgres/store_pg.h"
#include "store/postgres/pg_internal.h"
#include "store/sqlite/store_sqlite.h"
#include "util/embedded.h"
#include "util/xalloc.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* generated from src/store/postgres/migrations/ by tools/embed.c, in file order */
extern const lk_embedded_file lk_pg_migrations[];

#define LOCK_TIMEOUT "5s"
#define STR2(x) #x
#define STR(x) STR2(x)
#define LOCK_SQL "SELECT pg_advisory_xact_lock(" STR(LK_PG_LOCK_KEY) ")"
#define MARK "latchkey"

/* --- the connection ----------------------------------------------------------- */

static PGconn *connect_url(const char *url, lk_error *err)
{
    /* later keywords win: the URL's own connect_timeout or application_name stand.
     * Over TCP, a primary that vanished without closing (a dead host, a partition)
     * is noticed within about 10 s (keepalives, tcp_user_timeout) rather than the
     * system's minutes, so that a request waiting on the store, and a stop, stay
     * bounded; a lock wait is bounded by lock_timeout at begin. */
    const char *const keys[] = {"connect_timeout", "application_name", "keepalives", "keepalives_idle",
                                "keepalives_interval", "keepalives_count", "tcp_user_timeout", "dbname", NULL};
    const char *const vals[] = {"5", "latchkey", "1", "5", "2", "3", "10000", url, NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (conn && PQstatus(conn) == CONNECTION_OK) {
        /* quiet the server's NOTICEs (CREATE ... IF NOT EXISTS); plan every run of a
         * prepared statement with its values: the lists' optional filters ($n IS NULL
         * OR ...) fold away, so a search can use its trigram index (pg_users.c), which a
         * generic plan never does; the hot path never reaches the database, so the
         * planning costs a write or a console list, not a REST call */
        PQclear(PQexec(conn, "SET client_min_messages = warning; SET plan_cache_mode = force_custom_plan"));
        return conn;
    }
    char why[200];
    snprintf(why, sizeof why, "%s", conn ? PQerrorMessage(conn) : "out of memory");
    for (char *p = why; *p; p++)
        if (*p == '\n')
            *p = ' ';
    PQfinish(conn);
    lk_fail(err, LK_ESTORE, "database", "cannot connect to the PostgreSQL database: %s", why);
    return NULL;
}

/* the single value of a one-row query as text into out ("" for none or NULL) */
static lk_code query_value(PGconn *conn, const char *sql, char *out, size_t cap, lk_error *err)
{
    out[0] = '\0';
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        lk_code code = lk_fail(err, LK_ESTORE, "database", "cannot read the database: %s",
                               msg ? msg : PQerrorMessage(conn));
        PQclear(res);
        return code;
    }
    if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        snprintf(out, cap, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return LK_OK;
}

/* --- whose schema, and how old ----------------------------------------------------- */

static lk_code known_version(int *known, int *count, lk_error *err)
{
    *known = 0;
    *count = 0;
    for (const lk_embedded_file *m = lk_pg_migrations; m->name; m++) {
        int v = lk_sq_migration_version(m->name);
        if (v <= *known)
            return lk_fail(err, LK_ESCHEMA, NULL,
                           "migration %s: its number must be greater than every earlier one's", m->name);
        *known = v;
        (*count)++;
    }
    return LK_OK;
}

static lk_code inspect_conn(PGconn *conn, lk_store_info *out, lk_error *err)
{
    memset(out, 0, sizeof *out);
    int count;
    lk_code code = known_version(&out->known, &count, err);
    if (code != LK_OK)
        return code;
    char v[64];
    code = query_value(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL", v, sizeof v, err);
    if (code != LK_OK)
        return code;
    if (strcmp(v, "t") != 0) {
        code = query_value(conn,
                           "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                           " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'm', 'p', 'f')",
                           v, sizeof v, err);
        if (code != LK_OK)
            return code;
        out->state = atoi(v) == 0 ? LK_DB_EMPTY : LK_DB_FOREIGN;
        return LK_OK;
    }
    code = query_value(conn, "SELECT obj_description('schema_migrations'::regclass, 'pg_class')", v, sizeof v, err);
    if (code != LK_OK)
        return code;
    if (strcmp(v, MARK) != 0) {
        out->state = LK_DB_FOREIGN;
        return LK_OK;
    }
    code = query_value(conn, "SELECT coalesce(max(version), 0) FROM schema_migrations", v, sizeof v, err);
    if (code != LK_OK)
        return code;
    out->version = atoi(v);
    int recorded = 0;
    for (const lk_embedded_file *m = lk_pg_migrations; m->name; m++) {
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM schema_migrations WHERE version = %d",
                 lk_sq_migration_version(m->name));
        code = query_value(conn, sql, v, sizeof v, err);
        if (code != LK_OK)
            return code;
        recorded += atoi(v) > 0;
    }
    out->missing = count - recorded;
    out->state = out->version > out->known ? LK_DB_NEWER
                 : out->missing > 0        ? LK_DB_OLDER
                                           : LK_DB_CURRENT;
    return LK_OK;
}

lk_code lk_store_pg_inspect(const char *url, lk_store_info *out, lk_error *err)
{
    PGconn *conn = connect_url(url, err);
    if (!conn)
        return LK_ESTORE;
    lk_code code = inspect_conn(conn, out, err);
    PQfinish(conn);
    return code;
}

static lk_code refusal(lk_store_mode mode, const lk_store_info *info, lk_error *err)
{
    switch (info->state) {
    case LK_DB_FOREIGN:
        return lk_fail(err, LK_ESCHEMA, "database",
                       "the PostgreSQL schema holds tables that are not latchkey's (no latchkey schema_migrations); "
                       "latchkey leaves it alone: give --db a database (or a schema, options=-csearch_path=...) "
                       "of its own");
    case LK_DB_NEWER:
        return lk_fail(err, LK_ESCHEMA, "database",
                       "database schema version %d is newer than this latchkey (knows up to %d); "
                       "use a newer latchkey binary (every node of a cluster runs the same version)",
                       info->version, info->known);
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
                       "there is no latchkey database at that PostgreSQL location (the schema is empty); check --db "
                       "(or $LATCHKEY_DB), or create one with 'latchkey migrate'");
    case LK_DB_CURRENT:
        return LK_OK;
    }
    return LK_OK;
}

/* --- migrations -------------------------------------------------------------------- */

static const lk_pg_ctx MIGRATE_CTX = {.op = "migrate", .noun = "migration"};

static lk_code migrate_locked(lk_pg *q, lk_store_mode mode, lk_error *err)
{
    /* looked at again under the lock: another node may have migrated meanwhile */
    lk_store_info info;
    lk_code code = inspect_conn(q->conn, &info, err);
    if (code == LK_OK)
        code = refusal(mode, &info, err);
    if (code != LK_OK || info.state == LK_DB_CURRENT) {
        q->version = info.version;
        return code;
    }
    if (info.state == LK_DB_EMPTY) {
        code = lk_pg_command(q,
                             "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
                             " applied_at bigint NOT NULL);"
                             " COMMENT ON TABLE schema_migrations IS '" MARK "'",
                             &MIGRATE_CTX, err);
        if (code != LK_OK)
            return code;
    }
    for (const lk_embedded_file *m = lk_pg_migrations; m->name; m++) {
        int version = lk_sq_migration_version(m->name);
        char sql[96], v[16];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM schema_migrations WHERE version = %d", version);
        code = query_value(q->conn, sql, v, sizeof v, err);
        if (code != LK_OK)
            return code;
        if (atoi(v) > 0)
            continue;
        PGresult *res = PQexec(q->conn, (const char *)m->data);
        if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
            const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
            code = lk_fail(err, LK_ESCHEMA, NULL, "migration %s failed: %s", m->name,
                           msg ? msg : PQerrorMessage(q->conn));
            PQclear(res);
            return code;
        }
        PQclear(res);
        char rec[160];
        snprintf(rec, sizeof rec, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, '%s', %lld)",
                 version, m->name, (long long)time(NULL)); /* our own file name and numbers */
        code = lk_pg_command(q, rec, &MIGRATE_CTX, err);
        if (code != LK_OK)
            return code;
    }
    q->version = info.known;
    return LK_OK;
}

static lk_code migrate(lk_pg *q, lk_store_mode mode, lk_error *err)
{
    /* no lock_timeout here: a node waits for another node's migration to end */
    lk_code code = lk_pg_command(q, "BEGIN; " LOCK_SQL, &MIGRATE_CTX, err);
    if (code != LK_OK)
        return code;
    code = migrate_locked(q, mode, err);
    if (code == LK_OK)
        code = lk_pg_command(q, "COMMIT", &MIGRATE_CTX, err);
    if (code != LK_OK && lk_pg_in_tx(q))
        lk_pg_command(q, "ROLLBACK", &MIGRATE_CTX, NULL);
    return code;
}

/* --- transactions ------------------------------------------------------------------- */

static void pg_close(lk_store *s)
{
    if (!s)
        return;
    lk_pg *q = lk_pg_of(s);
    lk_pg_cache_free(q);
    PQfinish(q->conn);
    free(q);
}

static lk_code pg_begin(lk_store *s, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "begin", .noun = "transaction"};
    lk_pg *q = lk_pg_of(s);
    if (lk_pg_in_tx(q))
        return lk_fail(err, LK_ESTORE, NULL, "begin: a transaction is open already");
    q->stmt_sp = false;
    lk_code code = lk_pg_command(q, "BEGIN; SET LOCAL lock_timeout = '" LOCK_TIMEOUT "'; " LOCK_SQL, &c, err);
    if (code != LK_OK && lk_pg_in_tx(q))
        lk_pg_command(q, "ROLLBACK", &c, NULL);
    return code;
}

/* On failure the transaction is rolled back, so the connection is usable again. */
static lk_code pg_commit(lk_store *s, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "commit", .noun = "transaction"};
    lk_pg *q = lk_pg_of(s);
    q->stmt_sp = false;
    if (PQtransactionStatus(q->conn) == PQTRANS_INERROR) {
        lk_pg_command(q, "ROLLBACK", &c, NULL);
        return lk_fail(err, LK_ESTORE, NULL, "commit: a statement of the transaction failed; nothing was written");
    }
    PGresult *res = PQexec(q->conn, "COMMIT");
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(res), "COMMIT") == 0;
    lk_code code = LK_OK;
    if (!ok) {
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        /* a connection lost during COMMIT leaves the outcome unknown; it is reported
         * as a failure, and the change feed shows what did commit */
        code = lk_fail(err, LK_ESTORE, NULL, "commit: %s", msg ? msg : "the database cannot be reached");
    }
    PQclear(res);
    if (code != LK_OK && lk_pg_in_tx(q))
        lk_pg_command(q, "ROLLBACK", &c, NULL);
    return code;
}

static void pg_rollback(lk_store *s)
{
    static const lk_pg_ctx c = {.op = "rollback", .noun = "transaction"};
    lk_pg *q = lk_pg_of(s);
    q->stmt_sp = false;
    if (lk_pg_in_tx(q))
        lk_pg_command(q, "ROLLBACK", &c, NULL);
}

static int pg_schema_version(lk_store *s)
{
    return lk_pg_of(s)->version;
}

static lk_code pg_ping(lk_store *s, int64_t timeout_ms, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "ping", .noun = "database"};
    lk_pg *q = lk_pg_of(s);
    char sql[160];
    snprintf(sql, sizeof sql, "BEGIN; SET LOCAL lock_timeout = %lld; " LOCK_SQL,
             (long long)(timeout_ms > 0 ? timeout_ms : 1));
    lk_code code = lk_pg_command(q, sql, &c, err);
    if (lk_pg_in_tx(q))
        lk_pg_command(q, "ROLLBACK", &c, NULL);
    return code;
}

/* --- the feed's notifications --------------------------------------------------------- */

lk_code lk_store_pg_wait_change(lk_store *s, int64_t timeout_ms, bool *woken, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "listen", .noun = "change feed"};
    lk_pg *q = lk_pg_of(s);
    *woken = false;
    if (!q->listening || PQstatus(q->conn) != CONNECTION_OK) {
        /* (re)connected: LISTEN again; a notice missed meanwhile is what the caller's
         * polling covers */
        q->listening = false;
        lk_code code = lk_pg_command(q, "LISTEN latchkey_changes", &c, err);
        if (code != LK_OK)
            return code;
        q->listening = true;
    }
    PGnotify *n;
    PQconsumeInput(q->conn);
    while ((n = PQnotifies(q->conn)) != NULL) {
        *woken = true;
        PQfreemem(n);
    }
    if (*woken)
        return LK_OK;
    struct pollfd pfd = {.fd = PQsocket(q->conn), .events = POLLIN};
    if (pfd.fd < 0)
        return lk_fail(err, LK_ESTORE, NULL, "listen: the database cannot be reached");
    int r = poll(&pfd, 1, (int)(timeout_ms > 0 ? timeout_ms : 0));
    if (r <= 0)
        return LK_OK;
    if (!PQconsumeInput(q->conn)) {
        q->listening = false;
        return lk_fail(err, LK_ESTORE, NULL, "listen: the database cannot be reached");
    }
    while ((n = PQnotifies(q->conn)) != NULL) {
        *woken = true;
        PQfreemem(n);
    }
    return LK_OK;
}

/* --- the ops ---------------------------------------------------------------------------- */

static const lk_store_ops pg_ops = {
    .kind = "postgresql",
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .schema_version = pg_schema_version,
    .ping = pg_ping,
    .wait_change = lk_store_pg_wait_change,

    .workspace_list = lk_pg_workspace_list,
    .workspace_get = lk_pg_workspace_get,
    .workspace_find = lk_pg_workspace_find,
    .workspace_insert = lk_pg_workspace_insert,

    .permission_list = lk_pg_permission_list,
    .permission_find = lk_pg_permission_find,
    .permission_insert = lk_pg_permission_insert,
    .permission_delete = lk_pg_permission_delete,
    .permission_roles = lk_pg_permission_roles,

    .role_list = lk_pg_role_list,
    .role_get = lk_pg_role_get,
    .role_find = lk_pg_role_find,
    .role_insert = lk_pg_role_insert,
    .role_update = lk_pg_role_update,
    .role_delete = lk_pg_role_delete,
    .role_holders = lk_pg_role_holders,
    .role_holder_counts = lk_pg_role_holder_counts,
    .role_workspaces = lk_pg_role_workspaces,

    .user_list = lk_pg_user_list,
    .user_count = lk_pg_user_count,
    .user_get = lk_pg_user_get,
    .user_find = lk_pg_user_find,
    .user_insert = lk_pg_user_insert,
    .user_update = lk_pg_user_update,
    .user_delete = lk_pg_user_delete,

    .invitation_insert = lk_pg_invitation_insert,
    .invitation_for_user = lk_pg_invitation_for_user,
    .invitation_by_hash = lk_pg_invitation_by_hash,
    .invitation_update = lk_pg_invitation_update,
    .users_expiring = lk_pg_users_expiring,
    .mail_insert = lk_pg_mail_insert,
    .mail_due = lk_pg_mail_due,
    .mail_update = lk_pg_mail_update,
    .mail_get = lk_pg_mail_get,
    .mail_list = lk_pg_mail_list,
    .mail_count = lk_pg_mail_count,
    .mail_counts = lk_pg_mail_counts,
    .reset_insert = lk_pg_reset_insert,
    .reset_get = lk_pg_reset_get,
    .reset_by_hash = lk_pg_reset_by_hash,
    .reset_for_user = lk_pg_reset_for_user,
    .reset_update = lk_pg_reset_update,
    .reset_end_user = lk_pg_reset_end_user,
    .notice_mark = lk_pg_notice_mark,

    .service_list = lk_pg_service_list,
    .service_count = lk_pg_service_count,
    .service_list_by_user = lk_pg_service_list_by_user,
    .service_find = lk_pg_service_find,
    .service_find_client = lk_pg_service_find_client,
    .service_insert = lk_pg_service_insert,
    .service_update = lk_pg_service_update,
    .service_delete = lk_pg_service_delete,

    .api_user_role_scan = lk_pg_api_user_role_scan,
    .api_user_get = lk_pg_api_user_get,
    .service_scan = lk_pg_service_scan,
    .service_get = lk_pg_service_get,
    .snapshot_begin = lk_pg_snapshot_begin,
    .snapshot_end = lk_pg_snapshot_end,
    .changes_since = lk_pg_changes_since,
    .changes_state = lk_pg_changes_state,
    .change_append = lk_pg_change_append,
    .changes_prune = lk_pg_changes_prune,
    .revocation_insert = lk_pg_revocation_insert,
    .revocation_get = lk_pg_revocation_get,
    .revocation_scan = lk_pg_revocation_scan,
    .revocation_purge = lk_pg_revocation_purge,
    .setting_get = lk_pg_setting_get,
    .setting_set = lk_pg_setting_set,
    .allow_list = lk_pg_allow_list,
    .allow_insert = lk_pg_allow_insert,
    .allow_delete = lk_pg_allow_delete,
    .gwroute_list = lk_pg_gwroute_list,
    .gwroute_insert = lk_pg_gwroute_insert,
    .gwroute_delete = lk_pg_gwroute_delete,
    .user_limits_list = lk_pg_user_limits_list,
    .user_limits_set = lk_pg_user_limits_set,
    .user_limits_delete = lk_pg_user_limits_delete,
    .usage_add = lk_pg_usage_add,
    .errors_add = lk_pg_errors_add,
    .usage_list = lk_pg_usage_list,
    .errors_list = lk_pg_errors_list,
    .limit_counts_put = lk_pg_limit_counts_put,
    .limit_counts_others = lk_pg_limit_counts_others,
    .limit_counts_prune = lk_pg_limit_counts_prune,

    .session_insert = lk_pg_session_insert,
    .session_find = lk_pg_session_find,
    .session_touch = lk_pg_session_touch,
    .session_delete = lk_pg_session_delete,
    .session_delete_user = lk_pg_session_delete_user,
    .session_purge = lk_pg_session_purge,
    .login_insert = lk_pg_login_insert,
    .login_list = lk_pg_login_list,
    .login_count = lk_pg_login_count,
    .audit_insert = lk_pg_audit_insert,
    .audit_list = lk_pg_audit_list,
    .audit_count = lk_pg_audit_count,
};

lk_store *lk_store_pg_open(const char *url, lk_store_mode mode, lk_error *err)
{
    PGconn *conn = connect_url(url, err);
    if (!conn)
        return NULL;
    lk_store_info info;
    if (inspect_conn(conn, &info, err) != LK_OK || refusal(mode, &info, err) != LK_OK) {
        PQfinish(conn);
        return NULL;
    }
    lk_pg *q = lk_xcalloc(1, sizeof *q);
    q->base.ops = &pg_ops;
    q->conn = conn;
    q->version = info.version;
    lk_code code = LK_OK;
    if (mode == LK_STORE_READ)
        code = lk_pg_command(q, "SET default_transaction_read_only = on", &MIGRATE_CTX, err);
    else if (info.state != LK_DB_CURRENT)
        code = migrate(q, mode, err);
    if (code != LK_OK) {
        pg_close(&q->base);
        return NULL;
    }
    return &q->base;
}
