/*
 * pg_services — custom services and the audit trail in the PostgreSQL store.
 *
 * A service row holds only hashes of its secrets; reads join the owner's email
 * for display. The audit trail is append-only here (no update or delete op) and
 * is read newest first, filtered in SQL so that a limit applies after filtering.
 */
#include "store/postgres/pg_internal.h"

#include <ctype.h>
#include <string.h>

/* --- services -------------------------------------------------------------- */

#define SVC_COLS                                                                       \
    "SELECT s.id, s.name, s.description, s.user_id, u.email, s.client_id, s.secret_hash," \
    " s.old_secret_hash, s.old_secret_expires_at, s.tokens_valid_after, s.created_at,"  \
    " s.updated_at, s.token_epoch"
#define SVC_FROM " FROM services s JOIN users u ON u.id = s.user_id"
#define SVC_SELECT SVC_COLS SVC_FROM

/*
 * Lists (store.h, lk_service_filter), in id order: $1 cursor, $2 owner, $3 a whole
 * client id (its unique index), $4 a LIKE pattern (the whole text) of the name or
 * the owner's email, $5 the words' patterns (text[]) the search text (name and
 * owner's email) must all match, $6 limit, $7 the longest word's pattern
 * (lk_pg_search_key), which the name or the owner's search text must hold. $7 lets
 * the planner choose: a word few services hold is found through the trigram index
 * services_search (migration 0011) OR'ed with the services of the owners users_search
 * finds (an array computed once, matched through services_by_user), the other words
 * then checked on those rows only; a word many hold, by reading in id order until the
 * page is full. A count is the same FROM ... WHERE under a LIMIT of the cap.
 */
#define SVCS_WHERE                                                                                   \
    SVC_FROM " WHERE s.id > $1::bigint AND ($2::bigint = 0 OR s.user_id = $2::bigint)"              \
    " AND ($3::text IS NULL OR s.client_id = $3::text)"                                              \
    " AND ($4::text IS NULL OR lower(s.name::text) LIKE lower($4::text) OR lower(u.email::text) LIKE lower($4::text))" \
    " AND ($5::text[] IS NULL OR lower(s.name::text || E'\\n' || u.email::text) LIKE ALL (lower($5::text)::text[]))" \
    " AND ($7::text IS NULL OR lower(s.name::text) LIKE lower($7::text)"  /* services_search's expression */ \
    "  OR s.user_id = ANY (ARRAY(SELECT u.id FROM users u WHERE " LK_PG_USER_SEARCH_TEXT " LIKE lower($7::text))))"
/* not static: test_store_lists asks the planner how it runs (the trigram indexes) */
const char lk_pg_sql_service_list[] = SVC_COLS SVCS_WHERE " ORDER BY s.id LIMIT $6";
#define SQL_SVC_LIST lk_pg_sql_service_list
static const char SQL_SVC_COUNT[] = "SELECT count(*) FROM (SELECT 1" SVCS_WHERE " LIMIT $6) x";
static const char SQL_SVC_BY_USER[] = SVC_SELECT " WHERE s.user_id = $1 ORDER BY s.id";
static const char SQL_SVC_FIND[] = SVC_SELECT " WHERE s.name = $1";
static const char SQL_SVC_FIND_CLIENT[] = SVC_SELECT " WHERE s.client_id = $1";
static const char SQL_SVC_INSERT[] =
    "INSERT INTO services (name, description, user_id, client_id, secret_hash, old_secret_hash,"
    " old_secret_expires_at, created_at, updated_at, tokens_valid_after)"
    " VALUES ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
static const char SQL_SVC_UPDATE[] =
    "UPDATE services SET name = $2, description = $3, user_id = $4, client_id = $5, secret_hash = $6,"
    " old_secret_hash = $7, old_secret_expires_at = $8, created_at = $9, updated_at = $10,"
    " tokens_valid_after = $11 WHERE id = $1";
static const char SQL_SVC_DELETE[] = "DELETE FROM services WHERE id = $1";

static void svc_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_service *svc = out;
    svc->id = lk_pg_int(st, 0);
    svc->name = lk_pg_text(a, st, 1);
    svc->description = lk_pg_text(a, st, 2);
    svc->user_id = lk_pg_int(st, 3);
    svc->user_email = lk_pg_text(a, st, 4);
    svc->client_id = lk_pg_text(a, st, 5);
    svc->secret_hash = lk_pg_text(a, st, 6);
    svc->old_secret_hash = lk_pg_text_or_null(a, st, 7);
    svc->old_secret_expires_at = lk_pg_int(st, 8);
    svc->tokens_valid_after = lk_pg_int(st, 9);
    svc->created_at = lk_pg_int(st, 10);
    svc->updated_at = lk_pg_int(st, 11);
    svc->token_epoch = lk_pg_int(st, 12);
}

/* Binds $2..$11 of the insert and update statements ($1 is the id of an update). */
static void bind_service(lk_pg *q, lk_pg_stmt *st, const lk_service *svc)
{
    lk_pg_bind_text(q, st, 2, svc->name);
    lk_pg_bind_text0(q, st, 3, svc->description);
    lk_pg_bind_int(q, st, 4, svc->user_id);
    lk_pg_bind_text(q, st, 5, svc->client_id);
    lk_pg_bind_text(q, st, 6, svc->secret_hash);
    lk_pg_bind_text(q, st, 7, svc->old_secret_hash);
    lk_pg_bind_time(q, st, 8, svc->old_secret_expires_at);
    lk_pg_bind_int(q, st, 9, svc->created_at);
    lk_pg_bind_int(q, st, 10, svc->updated_at);
    lk_pg_bind_int(q, st, 11, svc->tokens_valid_after);
}

/* "8-4-4-4-12" hexadecimal digits: a client id is searched whole */
static bool is_uuid(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (!s || strlen(s) != sizeof shape - 1)
        return false;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* The list or count statement, its filters bound; the limit ($6) is the caller's. */
static lk_code service_query(lk_pg *q, lk_arena *a, const lk_service_filter *f, bool count, const lk_pg_ctx *c,
                             lk_pg_stmt **st, lk_error *err)
{
    static const lk_service_filter any = {0};
    if (!f)
        f = &any;
    const char *text = lk_pg_search_fold(a, f->search);
    const char *client = is_uuid(text) ? text : NULL;
    const char *whole = NULL;
    const char *words = client ? NULL : lk_pg_search_words(a, f->search, &whole);
    lk_code code = lk_pg_prepare(q, count ? SQL_SVC_COUNT : SQL_SVC_LIST, c, st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text(q, *st, 7, words ? lk_pg_search_key(a, f->search) : NULL);
    lk_pg_bind_int(q, *st, 1, !count && f->after > 0 ? f->after : 0); /* a count ignores the cursor */
    lk_pg_bind_int(q, *st, 2, f->user_id > 0 ? f->user_id : 0);
    lk_pg_bind_text(q, *st, 3, client);
    lk_pg_bind_text(q, *st, 4, whole);
    lk_pg_bind_text(q, *st, 5, words);
    return LK_OK;
}

lk_code lk_pg_service_list(lk_store *s, lk_arena *a, const lk_service_filter *f, lk_service **out, size_t *n,
                           lk_error *err)
{
    static const lk_pg_ctx c = {.op = "service_list", .noun = "service"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = service_query(q, a, f, false, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 6, lk_pg_limit(f ? f->limit : 0));
    return lk_pg_rows(q, st, a, sizeof **out, svc_row, (void **)out, n, &c, err);
}

lk_code lk_pg_service_count(lk_store *s, const lk_service_filter *f, int64_t cap, int64_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "service_count", .noun = "service"};
    lk_pg *q = lk_pg_of(s);
    lk_arena tmp = LK_ARENA_INIT;
    lk_pg_stmt *st;
    lk_code code = service_query(q, &tmp, f, true, &c, &st, err);
    if (code == LK_OK) {
        lk_pg_bind_int(q, st, 6, lk_pg_limit(cap));
        code = lk_pg_count(q, st, n, &c, err);
    }
    if (code == LK_OK && cap > 0 && *n > cap)
        *n = cap;
    lk_arena_free(&tmp);
    return code;
}

#define SVC_CATALOG                                                                    \
    "SELECT id, name, user_id, client_id, secret_hash, old_secret_hash, old_secret_expires_at," \
    " tokens_valid_after, created_at, updated_at, token_epoch FROM services"
static const char SQL_SVC_SCAN[] = SVC_CATALOG " ORDER BY id";
static const char SQL_SVC_GET[] = SVC_CATALOG " WHERE id = $1";

static void svc_catalog_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_service *svc = out;
    *svc = (lk_service){
        .id = lk_pg_int(st, 0),
        .name = lk_pg_text(a, st, 1),
        .user_id = lk_pg_int(st, 2),
        .client_id = lk_pg_text(a, st, 3),
        .secret_hash = lk_pg_text(a, st, 4),
        .old_secret_hash = lk_pg_text_or_null(a, st, 5),
        .old_secret_expires_at = lk_pg_int(st, 6),
        .tokens_valid_after = lk_pg_int(st, 7),
        .created_at = lk_pg_int(st, 8),
        .updated_at = lk_pg_int(st, 9),
        .token_epoch = lk_pg_int(st, 10),
    };
}

lk_code lk_pg_service_get(lk_store *s, lk_arena *a, int64_t id, lk_service *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "service_get", .noun = "service"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_SVC_GET, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, id);
    code = lk_pg_one(q, st, a, svc_catalog_row, out, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "service", "no service has the id %lld", (long long)id);
    return code;
}

lk_code lk_pg_service_scan(lk_store *s, lk_service_fn fn, void *ctx, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "service_scan", .noun = "service"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_SVC_SCAN, &c, &st, err);
    if (code != LK_OK)
        return code;
    int rc = LK_PG_DONE;
    while (code == LK_OK && (rc = lk_pg_step(q, st, &c, err)) == LK_PG_ROW) {
        const char *name = (const char *)lk_pg_column(st, 1);
        const char *client_id = (const char *)lk_pg_column(st, 3);
        const char *secret_hash = (const char *)lk_pg_column(st, 4);
        lk_service svc = {
            .id = lk_pg_int(st, 0),
            .name = name ? name : "",
            .user_id = lk_pg_int(st, 2),
            .client_id = client_id ? client_id : "",
            .secret_hash = secret_hash ? secret_hash : "",
            .old_secret_hash = (const char *)lk_pg_column(st, 5),
            .old_secret_expires_at = lk_pg_int(st, 6),
            .tokens_valid_after = lk_pg_int(st, 7),
            .created_at = lk_pg_int(st, 8),
            .updated_at = lk_pg_int(st, 9),
            .token_epoch = lk_pg_int(st, 10),
        };
        code = fn(ctx, &svc);
    }
    if (code == LK_OK && rc != LK_PG_DONE)
        code = (lk_code)rc;
    lk_pg_reset(q, st);
    return code;
}

lk_code lk_pg_service_list_by_user(lk_store *s, lk_arena *a, int64_t user_id, lk_service **out, size_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "service_list_by_user", .noun = "service"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_SVC_BY_USER, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, user_id);
    return lk_pg_rows(q, st, a, sizeof **out, svc_row, (void **)out, n, &c, err);
}

lk_code lk_pg_service_find(lk_store *s, lk_arena *a, const char *name, lk_service *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "service_find", .noun = "service"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_SVC_FIND, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text0(q, st, 1, name);
    code = lk_pg_one(q, st, a, svc_row, out, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "service", "no service is named '%s'", name ? name : "");
    return code;
}

lk_code lk_pg_service_find_client(lk_store *s, lk_arena *a, const char *client_id, lk_service *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "service_find_client", .noun = "service"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_SVC_FIND_CLIENT, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text0(q, st, 1, client_id);
    code = lk_pg_one(q, st, a, svc_row, out, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "client_id", "no service has that client id");
    return code;
}

lk_code lk_pg_service_insert(lk_store *s, lk_service *svc, lk_error *err)
{
    static const lk_pg_ctx c = {
        .op = "service_insert", .noun = "service", .fk_code = LK_ENOTFOUND,
        .fk_msg = "the user the service belongs to does not exist",
    };
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_SVC_INSERT, &c, &st, err);
    if (code != LK_OK)
        return code;
    bind_service(q, st, svc);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK)
        svc->id = q->last_id;
    return code;
}

lk_code lk_pg_service_update(lk_store *s, const lk_service *svc, lk_error *err)
{
    static const lk_pg_ctx c = {
        .op = "service_update", .noun = "service", .fk_code = LK_ENOTFOUND,
        .fk_msg = "the user the service belongs to does not exist",
    };
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_SVC_UPDATE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, svc->id);
    bind_service(q, st, svc);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK && q->changes == 0)
        return lk_fail(err, LK_ENOTFOUND, "service", "no service has the id %lld", (long long)svc->id);
    return code;
}

lk_code lk_pg_service_delete(lk_store *s, int64_t id, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "service_delete", .noun = "service"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_SVC_DELETE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, id);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK && q->changes == 0)
        return lk_fail(err, LK_ENOTFOUND, "service", "no service has the id %lld", (long long)id);
    return code;
}

/* --- audit trail ----------------------------------------------------------- */

static const char SQL_AUDIT_INSERT[] =
    "INSERT INTO audit_events (at, actor, address, area, action, target, details)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
/* since/until always bound (to the int64 range when unset), so the index on at serves;
 * a cursor ($7, $8) lowers the upper bound to its instant, so the next page starts
 * with a seek, and leaves out what came at that instant up to its id */
#define AUDIT_WHERE                                                 \
    " FROM audit_events WHERE at >= $1::bigint AND at < $2::bigint"                 \
    " AND ($3::text IS NULL OR lower(area) = lower($3::text))"                 \
    " AND ($4::text IS NULL OR lower(action) = lower($4::text))"               \
    " AND ($5::text IS NULL OR strpos(lower(actor), lower($5::text)) > 0)"
static const char SQL_AUDIT_LIST[] =
    "SELECT id, at, actor, address, area, action, target, details" AUDIT_WHERE
    " AND (at < $7::bigint OR id < $8::bigint) ORDER BY at DESC, id DESC LIMIT $6";
static const char SQL_AUDIT_COUNT[] = "SELECT count(*) FROM (SELECT 1" AUDIT_WHERE " LIMIT $6) x";

static void audit_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_audit_event *ev = out;
    ev->id = lk_pg_int(st, 0);
    ev->at = lk_pg_int(st, 1);
    ev->actor = lk_pg_text(a, st, 2);
    ev->address = lk_pg_text(a, st, 3);
    ev->area = lk_pg_text(a, st, 4);
    ev->action = lk_pg_text(a, st, 5);
    ev->target = lk_pg_text(a, st, 6);
    ev->details = lk_pg_text(a, st, 7);
}

lk_code lk_pg_audit_insert(lk_store *s, lk_audit_event *ev, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "audit_insert", .noun = "audit event"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_AUDIT_INSERT, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, ev->at);
    lk_pg_bind_text(q, st, 2, ev->actor);
    lk_pg_bind_text0(q, st, 3, ev->address);
    lk_pg_bind_text(q, st, 4, ev->area);
    lk_pg_bind_text(q, st, 5, ev->action);
    lk_pg_bind_text0(q, st, 6, ev->target);
    lk_pg_bind_text(q, st, 7, ev->details ? ev->details : "{}");
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK)
        ev->id = q->last_id;
    return code;
}

/* binds $1..$5 of the audit statements */
static void bind_audit(lk_pg *q, lk_pg_stmt *st, const lk_audit_filter *f, bool cursor)
{
    int64_t until = f->until ? f->until : INT64_MAX;
    if (cursor && f->after_id > 0 && f->after_at < until)
        until = f->after_at + 1;
    lk_pg_bind_int(q, st, 1, f->since ? f->since : INT64_MIN);
    lk_pg_bind_int(q, st, 2, until);
    lk_pg_bind_text(q, st, 3, f->area);
    lk_pg_bind_text(q, st, 4, f->action);
    lk_pg_bind_text(q, st, 5, f->actor);
}

lk_code lk_pg_audit_list(lk_store *s, lk_arena *a, const lk_audit_filter *f, lk_audit_event **out, size_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "audit_list", .noun = "audit event"};
    static const lk_audit_filter any = {0};
    if (!f)
        f = &any;
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_AUDIT_LIST, &c, &st, err);
    if (code != LK_OK)
        return code;
    bind_audit(q, st, f, true);
    lk_pg_bind_int(q, st, 6, lk_pg_limit(f->limit));
    lk_pg_bind_int(q, st, 7, f->after_id > 0 ? f->after_at : INT64_MAX);
    lk_pg_bind_int(q, st, 8, f->after_id > 0 ? f->after_id : INT64_MAX);
    return lk_pg_rows(q, st, a, sizeof **out, audit_row, (void **)out, n, &c, err);
}

lk_code lk_pg_audit_count(lk_store *s, const lk_audit_filter *f, int64_t cap, int64_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "audit_count", .noun = "audit event"};
    static const lk_audit_filter any = {0};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_AUDIT_COUNT, &c, &st, err);
    if (code != LK_OK)
        return code;
    bind_audit(q, st, f ? f : &any, false);
    lk_pg_bind_int(q, st, 6, lk_pg_limit(cap));
    return lk_pg_count(q, st, n, &c, err);
}
