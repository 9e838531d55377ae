/*
 * pg_console — what the console keeps in the PostgreSQL store (migration 0003):
 * sign-in sessions (by the hash of their token) and the login history.
 *
 * Invariants: a session token is never stored nor put in a message, only its hash;
 * none of these tables appends to the change feed (a sign-in is nothing a running
 * server's catalog reads).
 */
#include "store/postgres/pg_internal.h"

/* --- sessions --------------------------------------------------------------- */

static const char SQL_SESSION_INSERT[] =
    "INSERT INTO sessions (token_hash, user_id, address, created_at, last_seen_at, expires_at)"
    " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
static const char SQL_SESSION_FIND[] =
    "SELECT id, token_hash, user_id, address, created_at, last_seen_at, expires_at FROM sessions"
    " WHERE token_hash = $1";
static const char SQL_SESSION_TOUCH[] = "UPDATE sessions SET last_seen_at = $2 WHERE id = $1";
static const char SQL_SESSION_DELETE[] = "DELETE FROM sessions WHERE id = $1";
static const char SQL_SESSION_DELETE_USER[] = "DELETE FROM sessions WHERE user_id = $1 AND id <> $2";
static const char SQL_SESSION_PURGE[] = "DELETE FROM sessions WHERE last_seen_at < $1 OR expires_at <= $2";

static void session_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_session *s = out;
    s->id = lk_pg_int(st, 0);
    s->token_hash = lk_pg_text(a, st, 1);
    s->user_id = lk_pg_int(st, 2);
    s->address = lk_pg_text(a, st, 3);
    s->created_at = lk_pg_int(st, 4);
    s->last_seen_at = lk_pg_int(st, 5);
    s->expires_at = lk_pg_int(st, 6);
}

lk_code lk_pg_session_insert(lk_store *s, lk_session *sess, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "session_insert", .noun = "session"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_SESSION_INSERT, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text(q, st, 1, sess->token_hash);
    lk_pg_bind_int(q, st, 2, sess->user_id);
    lk_pg_bind_text0(q, st, 3, sess->address);
    lk_pg_bind_int(q, st, 4, sess->created_at);
    lk_pg_bind_int(q, st, 5, sess->last_seen_at);
    lk_pg_bind_int(q, st, 6, sess->expires_at);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK)
        sess->id = q->last_id;
    return code;
}

lk_code lk_pg_session_find(lk_store *s, lk_arena *a, const char *token_hash, lk_session *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "session_find", .noun = "session"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_SESSION_FIND, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text(q, st, 1, token_hash);
    return lk_pg_one(q, st, a, session_row, out, &c, err);
}

/* one statement with one integer id parameter (and an optional second) */
static lk_code exec_ids(lk_store *s, const char *sql, const lk_pg_ctx *c, int64_t a1, int64_t a2, int n_args,
                        lk_error *err)
{
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, sql, c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, a1);
    if (n_args > 1)
        lk_pg_bind_int(q, st, 2, a2);
    return lk_pg_exec(q, st, c, err);
}

lk_code lk_pg_session_touch(lk_store *s, int64_t id, int64_t at, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "session_touch", .noun = "session"};
    return exec_ids(s, SQL_SESSION_TOUCH, &c, id, at, 2, err);
}

lk_code lk_pg_session_delete(lk_store *s, int64_t id, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "session_delete", .noun = "session"};
    return exec_ids(s, SQL_SESSION_DELETE, &c, id, 0, 1, err);
}

lk_code lk_pg_session_delete_user(lk_store *s, int64_t user_id, int64_t except_id, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "session_delete_user", .noun = "session"};
    return exec_ids(s, SQL_SESSION_DELETE_USER, &c, user_id, except_id, 2, err);
}

lk_code lk_pg_session_purge(lk_store *s, int64_t idle_before, int64_t now, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "session_purge", .noun = "session"};
    return exec_ids(s, SQL_SESSION_PURGE, &c, idle_before, now, 2, err);
}

/* --- login history ------------------------------------------------------------ */

static const char SQL_LOGIN_INSERT[] =
    "INSERT INTO login_history (at, email, user_id, address, success, reason) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
/* a cursor ($6, $7) works as in the audit trail (pg_services.c) */
#define LOGIN_WHERE                                                                                    \
    " FROM login_history WHERE at >= $1::bigint AND at < $2::bigint"                                   \
    " AND ($3::text IS NULL OR strpos(lower(email), lower($3::text)) > 0)" \
    " AND ($4::int = 0 OR success = 0)"
static const char SQL_LOGIN_LIST[] =
    "SELECT id, at, email, user_id, address, success, reason" LOGIN_WHERE
    " AND (at < $6::bigint OR id < $7::bigint) ORDER BY at DESC, id DESC LIMIT $5";
static const char SQL_LOGIN_COUNT[] = "SELECT count(*) FROM (SELECT 1" LOGIN_WHERE " LIMIT $5) x";

static void login_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_login_rec *r = out;
    r->id = lk_pg_int(st, 0);
    r->at = lk_pg_int(st, 1);
    r->email = lk_pg_text(a, st, 2);
    r->user_id = lk_pg_int(st, 3);
    r->address = lk_pg_text(a, st, 4);
    r->success = lk_pg_int(st, 5) != 0;
    r->reason = lk_pg_text(a, st, 6);
}

lk_code lk_pg_login_insert(lk_store *s, lk_login_rec *rec, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "login_insert", .noun = "login"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_LOGIN_INSERT, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, rec->at);
    lk_pg_bind_text0(q, st, 2, rec->email);
    lk_pg_bind_time(q, st, 3, rec->user_id);
    lk_pg_bind_text0(q, st, 4, rec->address);
    lk_pg_bind_int(q, st, 5, rec->success ? 1 : 0);
    lk_pg_bind_text0(q, st, 6, rec->reason);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK)
        rec->id = q->last_id;
    return code;
}

/* binds $1..$4 of the login statements */
static void bind_login(lk_pg *q, lk_pg_stmt *st, const lk_login_filter *f, bool cursor)
{
    int64_t until = f->until ? f->until : INT64_MAX;
    if (cursor && f->after_id > 0 && f->after_at < until)
        until = f->after_at + 1;
    lk_pg_bind_int(q, st, 1, f->since ? f->since : INT64_MIN);
    lk_pg_bind_int(q, st, 2, until);
    lk_pg_bind_text(q, st, 3, f->email);
    lk_pg_bind_int(q, st, 4, f->failed_only ? 1 : 0);
}

lk_code lk_pg_login_list(lk_store *s, lk_arena *a, const lk_login_filter *f, lk_login_rec **out, size_t *n,
                         lk_error *err)
{
    static const lk_pg_ctx c = {.op = "login_list", .noun = "login"};
    static const lk_login_filter any = {0};
    if (!f)
        f = &any;
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_LOGIN_LIST, &c, &st, err);
    if (code != LK_OK)
        return code;
    bind_login(q, st, f, true);
    lk_pg_bind_int(q, st, 5, lk_pg_limit(f->limit));
    lk_pg_bind_int(q, st, 6, f->after_id > 0 ? f->after_at : INT64_MAX);
    lk_pg_bind_int(q, st, 7, f->after_id > 0 ? f->after_id : INT64_MAX);
    return lk_pg_rows(q, st, a, sizeof **out, login_row, (void **)out, n, &c, err);
}

lk_code lk_pg_login_count(lk_store *s, const lk_login_filter *f, int64_t cap, int64_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "login_count", .noun = "login"};
    static const lk_login_filter any = {0};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_LOGIN_COUNT, &c, &st, err);
    if (code != LK_OK)
        return code;
    bind_login(q, st, f ? f : &any, false);
    lk_pg_bind_int(q, st, 5, lk_pg_limit(cap));
    return lk_pg_count(q, st, n, &c, err);
}
