/*
 * sqlite_services — custom services and the audit trail in the SQLite store.
 *
 * A service row holds only hashes of its secrets; reads join the owner's email
 * for display. The audit trail is append-only here (no update or delete op) and
 * is read newest first, filtered in SQL so that a limit applies after filtering.
 */
#include "store/sqlite/sqlite_internal.h"

/* --- services -------------------------------------------------------------- */

#define SVC_SELECT                                                                     \
    "SELECT s.id, s.name, s.description, s.user_id, u.email, s.client_id, s.secret_hash," \
    " s.old_secret_hash, s.old_secret_expires_at, s.tokens_valid_after, s.created_at,"  \
    " s.updated_at, s.token_epoch FROM services s JOIN users u ON u.id = s.user_id"

static const char SQL_SVC_LIST[] = SVC_SELECT " ORDER BY s.id";
static const char SQL_SVC_BY_USER[] = SVC_SELECT " WHERE s.user_id = ?1 ORDER BY s.id";
static const char SQL_SVC_FIND[] = SVC_SELECT " WHERE s.name = ?1";
static const char SQL_SVC_FIND_CLIENT[] = SVC_SELECT " WHERE s.client_id = ?1";
static const char SQL_SVC_INSERT[] =
    "INSERT INTO services (name, description, user_id, client_id, secret_hash, old_secret_hash,"
    " old_secret_expires_at, created_at, updated_at, tokens_valid_after)"
    " VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
static const char SQL_SVC_UPDATE[] =
    "UPDATE services SET name = ?2, description = ?3, user_id = ?4, client_id = ?5, secret_hash = ?6,"
    " old_secret_hash = ?7, old_secret_expires_at = ?8, created_at = ?9, updated_at = ?10,"
    " tokens_valid_after = ?11 WHERE id = ?1";
static const char SQL_SVC_DELETE[] = "DELETE FROM services WHERE id = ?1";

static void svc_row(lk_arena *a, sqlite3_stmt *st, void *out)
{
    lk_service *svc = out;
    svc->id = lk_sq_int(st, 0);
    svc->name = lk_sq_text(a, st, 1);
    svc->description = lk_sq_text(a, st, 2);
    svc->user_id = lk_sq_int(st, 3);
    svc->user_email = lk_sq_text(a, st, 4);
    svc->client_id = lk_sq_text(a, st, 5);
    svc->secret_hash = lk_sq_text(a, st, 6);
    svc->old_secret_hash = lk_sq_text_or_null(a, st, 7);
    svc->old_secret_expires_at = lk_sq_int(st, 8);
    svc->tokens_valid_after = lk_sq_int(st, 9);
    svc->created_at = lk_sq_int(st, 10);
    svc->updated_at = lk_sq_int(st, 11);
    svc->token_epoch = lk_sq_int(st, 12);
}

/* Binds ?2..?11 of the insert and update statements (?1 is the id of an update). */
static void bind_service(lk_sq *q, sqlite3_stmt *st, const lk_service *svc)
{
    lk_sq_bind_text(q, st, 2, svc->name);
    lk_sq_bind_text0(q, st, 3, svc->description);
    lk_sq_bind_int(q, st, 4, svc->user_id);
    lk_sq_bind_text(q, st, 5, svc->client_id);
    lk_sq_bind_text(q, st, 6, svc->secret_hash);
    lk_sq_bind_text(q, st, 7, svc->old_secret_hash);
    lk_sq_bind_time(q, st, 8, svc->old_secret_expires_at);
    lk_sq_bind_int(q, st, 9, svc->created_at);
    lk_sq_bind_int(q, st, 10, svc->updated_at);
    lk_sq_bind_int(q, st, 11, svc->tokens_valid_after);
}

lk_code lk_sq_service_list(lk_store *s, lk_arena *a, lk_service **out, size_t *n, lk_error *err)
{
    static const lk_sq_ctx c = {.op = "service_list", .noun = "service"};
    lk_sq *q = lk_sq_of(s);
    sqlite3_stmt *st;
    lk_code code = lk_sq_prepare(q, SQL_SVC_LIST, &c, &st, err);
    if (code != LK_OK)
        return code;
    return lk_sq_rows(q, st, a, sizeof **out, svc_row, (void **)out, n, &c, err);
}

#define SVC_CATALOG                                                                    \
    "SELECT id, name, user_id, client_id, secret_hash, old_secret_hash, old_secret_expires_at," \
    " tokens_valid_after, created_at, updated_at, token_epoch FROM services"
static const char SQL_SVC_SCAN[] = SVC_CATALOG " ORDER BY id";
static const char SQL_SVC_GET[] = SVC_CATALOG " WHERE id = ?1";

static void svc_catalog_row(lk_arena *a, sqlite3_stmt *st, void *out)
{
    lk_service *svc = out;
    *svc = (lk_service){
        .id = lk_sq_int(st, 0),
        .name = lk_sq_text(a, st, 1),
        .user_id = lk_sq_int(st, 2),
        .client_id = lk_sq_text(a, st, 3),
        .secret_hash = lk_sq_text(a, st, 4),
        .old_secret_hash = lk_sq_text_or_null(a, st, 5),
        .old_secret_expires_at = lk_sq_int(st, 6),
        .tokens_valid_after = lk_sq_int(st, 7),
        .created_at = lk_sq_int(st, 8),
        .updated_at = lk_sq_int(st, 9),
        .token_epoch = lk_sq_int(st, 10),
    };
}

lk_code lk_sq_service_get(lk_store *s, lk_arena *a, int64_t id, lk_service *out, lk_error *err)
{
    static const lk_sq_ctx c = {.op = "service_get", .noun = "service"};
    lk_sq *q = lk_sq_of(s);
    sqlite3_stmt *st;
    lk_code code = lk_sq_prepare(q, SQL_SVC_GET, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_sq_bind_int(q, st, 1, id);
    code = lk_sq_one(q, st, a, svc_catalog_row, out, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "service", "no service has the id %lld", (long long)id);
    return code;
}

lk_code lk_sq_service_scan(lk_store *s, lk_service_fn fn, void *ctx, lk_error *err)
{
    static const lk_sq_ctx c = {.op = "service_scan", .noun = "service"};
    lk_sq *q = lk_sq_of(s);
    sqlite3_stmt *st;
    lk_code code = lk_sq_prepare(q, SQL_SVC_SCAN, &c, &st, err);
    if (code != LK_OK)
        return code;
    int rc = SQLITE_DONE;
    while (code == LK_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *client_id = (const char *)sqlite3_column_text(st, 3);
        const char *secret_hash = (const char *)sqlite3_column_text(st, 4);
        lk_service svc = {
            .id = lk_sq_int(st, 0),
            .name = name ? name : "",
            .user_id = lk_sq_int(st, 2),
            .client_id = client_id ? client_id : "",
            .secret_hash = secret_hash ? secret_hash : "",
            .old_secret_hash = (const char *)sqlite3_column_text(st, 5),
            .old_secret_expires_at = lk_sq_int(st, 6),
            .tokens_valid_after = lk_sq_int(st, 7),
            .created_at = lk_sq_int(st, 8),
            .updated_at = lk_sq_int(st, 9),
            .token_epoch = lk_sq_int(st, 10),
        };
        code = fn(ctx, &svc);
    }
    if (code == LK_OK && rc != SQLITE_DONE)
        code = lk_sq_fail(q, rc, &c, err);
    lk_sq_reset(st);
    return code;
}

lk_code lk_sq_service_list_by_user(lk_store *s, lk_arena *a, int64_t user_id, lk_service **out, size_t *n, lk_error *err)
{
    static const lk_sq_ctx c = {.op = "service_list_by_user", .noun = "service"};
    lk_sq *q = lk_sq_of(s);
    sqlite3_stmt *st;
    lk_code code = lk_sq_prepare(q, SQL_SVC_BY_USER, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_sq_bind_int(q, st, 1, user_id);
    return lk_sq_rows(q, st, a, sizeof **out, svc_row, (void **)out, n, &c, err);
}

lk_code lk_sq_service_find(lk_store *s, lk_arena *a, const char *name, lk_service *out, lk_error *err)
{
    static const lk_sq_ctx c = {.op = "service_find", .noun = "service"};
    lk_sq *q = lk_sq_of(s);
    sqlite3_stmt *st;
    lk_code code = lk_sq_prepare(q, SQL_SVC_FIND, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_sq_bind_text0(q, st, 1, name);
    code = lk_sq_one(q, st, a, svc_row, out, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "service", "no service is named '%s'", name ? name : "");
    return code;
}

lk_code lk_sq_service_find_client(lk_store *s, lk_arena *a, const char *client_id, lk_service *out, lk_error *err)
{
    static const lk_sq_ctx c = {.op = "service_find_client", .noun = "service"};
    lk_sq *q = lk_sq_of(s);
    sqlite3_stmt *st;
    lk_code code = lk_sq_prepare(q, SQL_SVC_FIND_CLIENT, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_sq_bind_text0(q, st, 1, client_id);
    code = lk_sq_one(q, st, a, svc_row, out, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "client_id", "no service has that client id");
    return code;
}

lk_code lk_sq_service_insert(lk_store *s, lk_service *svc, lk_error *err)
{
    static const lk_sq_ctx c = {
        .op = "service_insert", .noun = "service", .fk_code = LK_ENOTFOUND,
        .fk_msg = "the user the service belongs to does not exist",
    };
    lk_sq *q = lk_sq_of(s);
    sqlite3_stmt *st;
    lk_code code = lk_sq_prepare(q, SQL_SVC_INSERT, &c, &st, err);
    if (code != LK_OK)
        return code;
    bind_service(q, st, svc);
    code = lk_sq_exec(q, st, &c, err);
    if (code == LK_OK)
        svc->id = sqlite3_last_insert_rowid(q->db);
    return code;
}

lk_code lk_sq_service_update(lk_store *s, const lk_service *svc, lk_error *err)
{
    static const lk_sq_ctx c = {
        .op = "service_update", .noun = "service", .fk_code = LK_ENOTFOUND,
        .fk_msg = "the user the service belongs to does not exist",
    };
    lk_sq *q = lk_sq_of(s);
    sqlite3_stmt *st;
    lk_code code = lk_sq_prepare(q, SQL_SVC_UPDATE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_sq_bind_int(q, st, 1, svc->id);
    bind_service(q, st, svc);
    code = lk_sq_exec(q, st, &c, err);
    if (code == LK_OK && sqlite3_changes(q->db) == 0)
        return lk_fail(err, LK_ENOTFOUND, "service", "no service has the id %lld", (long long)svc->id);
    return code;
}

lk_code lk_sq_service_delete(lk_store *s, int64_t id, lk_error *err)
{
    static const lk_sq_ctx c = {.op = "service_delete", .noun = "service"};
    lk_sq *q = lk_sq_of(s);
    sqlite3_stmt *st;
    lk_code code = lk_sq_prepare(q, SQL_SVC_DELETE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_sq_bind_int(q, st, 1, id);
    code = lk_sq_exec(q, st, &c, err);
    if (code == LK_OK && sqlite3_changes(q->db) == 0)
        return lk_fail(err, LK_ENOTFOUND, "service", "no service has the id %lld", (long long)id);
    return code;
}

/* --- audit trail ----------------------------------------------------------- */

static const char SQL_AUDIT_INSERT[] =
    "INSERT INTO audit_events (at, actor, address, area, action, target, details)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
/* since/until always bound (to the int64 range when unset), so the index on at serves */
static const char SQL_AUDIT_LIST[] =
    "SELECT id, at, actor, address, area, action, target, details FROM audit_events"
    " WHERE at >= ?1 AND at < ?2"
    " AND (?3 IS NULL OR area = ?3 COLLATE NOCASE)"
    " AND (?4 IS NULL OR action = ?4 COLLATE NOCASE)"
    " AND (?5 IS NULL OR instr(lower(actor), lower(?5)) > 0)"
    " ORDER BY at DESC, id DESC LIMIT ?6";

static void audit_row(lk_arena *a, sqlite3_stmt *st, void *out)
{
    lk_audit_event *ev = out;
    ev->id = lk_sq_int(st, 0);
    ev->at = lk_sq_int(st, 1);
    ev->actor = lk_sq_text(a, st, 2);
    ev->address = lk_sq_text(a, st, 3);
    ev->area = lk_sq_text(a, st, 4);
    ev->action = lk_sq_text(a, st, 5);
    ev->target = lk_sq_text(a, st, 6);
    ev->details = lk_sq_text(a, st, 7);
}

lk_code lk_sq_audit_insert(lk_store *s, lk_audit_event *ev, lk_error *err)
{
    static const lk_sq_ctx c = {.op = "audit_insert", .noun = "audit event"};
    lk_sq *q = lk_sq_of(s);
    sqlite3_stmt *st;
    lk_code code = lk_sq_prepare(q, SQL_AUDIT_INSERT, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_sq_bind_int(q, st, 1, ev->at);
    lk_sq_bind_text(q, st, 2, ev->actor);
    lk_sq_bind_text0(q, st, 3, ev->address);
    lk_sq_bind_text(q, st, 4, ev->area);
    lk_sq_bind_text(q, st, 5, ev->action);
    lk_sq_bind_text0(q, st, 6, ev->target);
    lk_sq_bind_text(q, st, 7, ev->details ? ev->details : "{}");
    code = lk_sq_exec(q, st, &c, err);
    if (code == LK_OK)
        ev->id = sqlite3_last_insert_rowid(q->db);
    return code;
}

lk_code lk_sq_audit_list(lk_store *s, lk_arena *a, const lk_audit_filter *f, lk_audit_event **out, size_t *n, lk_error *err)
{
    static const lk_sq_ctx c = {.op = "audit_list", .noun = "audit event"};
    static const lk_audit_filter any = {0};
    if (!f)
        f = &any;
    lk_sq *q = lk_sq_of(s);
    sqlite3_stmt *st;
    lk_code code = lk_sq_prepare(q, SQL_AUDIT_LIST, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_sq_bind_int(q, st, 1, f->since ? f->since : INT64_MIN);
    lk_sq_bind_int(q, st, 2, f->until ? f->until : INT64_MAX);
    lk_sq_bind_text(q, st, 3, f->area);
    lk_sq_bind_text(q, st, 4, f->action);
    lk_sq_bind_text(q, st, 5, f->actor);
    lk_sq_bind_int(q, st, 6, f->limit > 0 ? f->limit : -1);
    return lk_sq_rows(q, st, a, sizeof **out, audit_row, (void **)out, n, &c, err);
}
