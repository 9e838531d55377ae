/*
 * pg_users — users, their (role, workspace) grants, and invitations in the
 * PostgreSQL store.
 *
 * A user's grants live in user_roles; reads return them sorted by role name
 * (case-insensitively: citext), then workspace id, with both names filled; writes replace them whole
 * inside a savepoint together with the user's row. Deleting a user takes its
 * grants and invitations with it (ON DELETE CASCADE) and is refused while it owns
 * a service (ON DELETE RESTRICT). Optional instants are NULL in the table and 0 in
 * the record; the password hash stays NULL (never "") when there is none.
 */
#include "store/postgres/pg_internal.h"

#include <string.h>

/* --- users ----------------------------------------------------------------- */

#define USER_COLS                                                                  \
    "id, email, userid, first_name, last_name, reason, expires_at, api_only, status," \
    " lock_reason, password_hash, failed_logins, last_login_at, created_at, updated_at, must_change_password, lang"

/*
 * Lists (store.h, lk_user_filter): one statement, in id order so that LIMIT stops
 * it early and a cursor ($1) is an index seek. $2 api_only, $3 accepted only, $4
 * effective status at $5, $6 a LIKE pattern (the whole text) of email, user id or a
 * name, $7 role, $8 the words' patterns (a text[] literal, lower-cased by the
 * database as the rows are) that the search text of a row must all match, $9 limit,
 * $10 offset, $11 the longest word's pattern (lk_pg_search_key): a plain LIKE on the
 * expression of the trigram index users_search, which the planner answers with it
 * (a bitmap index scan; the connection plans with the values, store_pg.c). A count
 * is the same FROM ... WHERE under a LIMIT of the cap.
 */
#define USER_COLS_U                                                                                     \
    "u.id, u.email, u.userid, u.first_name, u.last_name, u.reason, u.expires_at, u.api_only, u.status," \
    " u.lock_reason, u.password_hash, u.failed_logins, u.last_login_at, u.created_at, u.updated_at,"    \
    " u.must_change_password, u.lang"
#define USERS_WHERE                                                                              \
    " FROM users u WHERE u.id > $1::bigint"                                                      \
    " AND ($2::int < 0 OR u.api_only = $2::int) AND ($3::int = 0 OR u.status <> 'pending')"     \
    " AND ($4::int < 0 OR ($4::int = 0 AND u.status = 'pending')"                                 \
    "  OR ($4::int = 1 AND u.status = 'active' AND (u.expires_at IS NULL OR u.expires_at > $5::bigint))" \
    "  OR ($4::int = 2 AND (u.status = 'locked' OR (u.status = 'active' AND u.expires_at <= $5::bigint))))" \
    " AND ($6::text IS NULL OR lower(u.email::text) LIKE lower($6::text) OR lower(u.userid::text) LIKE lower($6::text)"  \
    "  OR lower(u.first_name) LIKE lower($6::text) OR lower(u.last_name) LIKE lower($6::text))"                 \
    " AND ($7::bigint = 0 OR EXISTS (SELECT 1 FROM user_roles h WHERE h.user_id = u.id AND h.role_id = $7::bigint))" \
    " AND ($8::text[] IS NULL OR " LK_PG_USER_SEARCH_TEXT " LIKE ALL (lower($8::text)::text[]))"       \
    " AND ($11::text IS NULL OR " LK_PG_USER_SEARCH_TEXT " LIKE lower($11::text))"

/* not static: test_store_lists asks the planner how it runs (the trigram index) */
const char lk_pg_sql_user_list[] = "SELECT " USER_COLS_U USERS_WHERE " ORDER BY u.id LIMIT $9 OFFSET $10";
#define SQL_USER_LIST lk_pg_sql_user_list
static const char SQL_USER_COUNT[] = "SELECT count(*) FROM (SELECT 1" USERS_WHERE " LIMIT $9) x";
static const char SQL_USER_GET[] = "SELECT " USER_COLS " FROM users WHERE id = $1";
/* an email match wins over a user id match (a user id may look like another's email) */
static const char SQL_USER_FIND[] =
    "SELECT " USER_COLS " FROM users WHERE email = $1 OR userid = $1"
    " ORDER BY email = $1 DESC, id LIMIT 1";
static const char SQL_USER_OF_ROLE[] =
    "SELECT " USER_COLS " FROM users"
    " WHERE id IN (SELECT user_id FROM user_roles WHERE role_id = $1) ORDER BY id";
static const char SQL_USER_INSERT[] =
    "INSERT INTO users (email, userid, first_name, last_name, reason, expires_at, api_only, status,"
    " lock_reason, password_hash, failed_logins, last_login_at, created_at, updated_at, must_change_password, lang)"
    " VALUES ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id";
static const char SQL_USER_UPDATE[] =
    "UPDATE users SET email = $2, userid = $3, first_name = $4, last_name = $5, reason = $6,"
    " expires_at = $7, api_only = $8, status = $9, lock_reason = $10, password_hash = $11,"
    " failed_logins = $12, last_login_at = $13, created_at = $14, updated_at = $15, must_change_password = $16,"
    " lang = $17 WHERE id = $1";
static const char SQL_USER_DELETE[] = "DELETE FROM users WHERE id = $1";

static const char SQL_GRANTS[] =
    "SELECT ur.role_id, r.name, ur.workspace_id, w.name FROM user_roles ur"
    " JOIN roles r ON r.id = ur.role_id JOIN workspaces w ON w.id = ur.workspace_id"
    " WHERE ur.user_id = $1 ORDER BY r.name, ur.workspace_id, ur.role_id";
static const char SQL_GRANTS_CLEAR[] = "DELETE FROM user_roles WHERE user_id = $1";
static const char SQL_GRANTS_NOW[] = "SELECT role_id, workspace_id FROM user_roles WHERE user_id = $1";
static const char SQL_GRANT_ADD[] =
    "INSERT INTO user_roles (user_id, role_id, workspace_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

/* the status column's words, indexed by lk_user_status */
static const char *const status_words[] = {
    [LK_STATUS_PENDING] = "pending",
    [LK_STATUS_ACTIVE] = "active",
    [LK_STATUS_LOCKED] = "locked",
};
#define N_STATUS (sizeof status_words / sizeof status_words[0])

static lk_user_status status_of(const unsigned char *word)
{
    for (size_t i = 0; word && i < N_STATUS; i++)
        if (strcmp((const char *)word, status_words[i]) == 0)
            return (lk_user_status)i;
    return LK_STATUS_LOCKED; /* the CHECK constraint makes this unreachable; fail closed */
}

static void user_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_user *u = out;
    u->id = lk_pg_int(st, 0);
    u->email = lk_pg_text(a, st, 1);
    u->userid = lk_pg_text(a, st, 2);
    u->first_name = lk_pg_text(a, st, 3);
    u->last_name = lk_pg_text(a, st, 4);
    u->reason = lk_pg_text(a, st, 5);
    u->expires_at = lk_pg_int(st, 6);
    u->api_only = lk_pg_int(st, 7) != 0;
    u->status = status_of(lk_pg_column(st, 8));
    u->lock_reason = lk_pg_text(a, st, 9);
    u->password_hash = lk_pg_text_or_null(a, st, 10);
    u->failed_logins = (int)lk_pg_int(st, 11);
    u->last_login_at = lk_pg_int(st, 12);
    u->created_at = lk_pg_int(st, 13);
    u->updated_at = lk_pg_int(st, 14);
    u->must_change_password = lk_pg_int(st, 15) != 0;
    u->lang = lk_pg_text(a, st, 16);
    u->grants = NULL;
    u->n_grants = 0;
}

static void grant_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_grant *g = out;
    g->role_id = lk_pg_int(st, 0);
    g->role_name = lk_pg_text(a, st, 1);
    g->workspace_id = lk_pg_int(st, 2);
    g->workspace_name = lk_pg_text(a, st, 3);
}

lk_code lk_pg_user_fill_grants(lk_pg *q, lk_arena *a, lk_user *users, size_t n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "user grants", .noun = "grant"};
    for (size_t i = 0; i < n; i++) {
        lk_pg_stmt *st;
        lk_code code = lk_pg_prepare(q, SQL_GRANTS, &c, &st, err);
        if (code != LK_OK)
            return code;
        lk_pg_bind_int(q, st, 1, users[i].id);
        code = lk_pg_rows(q, st, a, sizeof *users[i].grants, grant_row, (void **)&users[i].grants,
                          &users[i].n_grants, &c, err);
        if (code != LK_OK)
            return code;
    }
    return LK_OK;
}

#define API_USER_ROWS                                                                          \
    "SELECT u.id, u.email, u.expires_at, u.status, ur.role_id, l.user_id, l.rate_calls, l.rate_seconds," \
    " l.daily, l.concurrent FROM users u LEFT JOIN user_roles ur ON ur.user_id = u.id"                   \
    " LEFT JOIN user_limits l ON l.user_id = u.id WHERE u.api_only = 1"
static const char SQL_API_USER_ROLES[] = API_USER_ROWS " ORDER BY u.id";
static const char SQL_API_USER_GET[] = API_USER_ROWS " AND u.id = $1";

/* hands each row of st to fn (see lk_user_role_fn), then resets st */
static lk_code api_user_rows(lk_pg *q, lk_pg_stmt *st, lk_user_role_fn fn, void *ctx, const lk_pg_ctx *c,
                             lk_error *err)
{
    lk_code code = LK_OK;
    int rc = LK_PG_DONE;
    while (code == LK_OK && (rc = lk_pg_step(q, st, c, err)) == LK_PG_ROW) {
        const unsigned char *email = lk_pg_column(st, 1);
        lk_user u = {
            .id = lk_pg_int(st, 0),
            .email = email ? (const char *)email : "",
            .expires_at = lk_pg_int(st, 2),
            .api_only = true,
            .status = status_of(lk_pg_column(st, 3)),
        };
        lk_limits lim = {
            .rate_calls = lk_pg_int(st, 6),
            .rate_seconds = lk_pg_int(st, 7),
            .daily = lk_pg_int(st, 8),
            .concurrent = lk_pg_int(st, 9),
        };
        bool has_limits = !lk_pg_is_null(st, 5);
        code = fn(ctx, &u, lk_pg_int(st, 4), has_limits ? &lim : NULL);
    }
    if (code == LK_OK && rc != LK_PG_DONE)
        code = (lk_code)rc;
    lk_pg_reset(q, st);
    return code;
}

lk_code lk_pg_api_user_role_scan(lk_store *s, lk_user_role_fn fn, void *ctx, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "api_user_role_scan", .noun = "user"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_API_USER_ROLES, &c, &st, err);
    if (code != LK_OK)
        return code;
    return api_user_rows(q, st, fn, ctx, &c, err);
}

lk_code lk_pg_api_user_get(lk_store *s, int64_t id, lk_user_role_fn fn, void *ctx, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "api_user_get", .noun = "user"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_API_USER_GET, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, id);
    return api_user_rows(q, st, fn, ctx, &c, err);
}

/* is (role, workspace) among grants[0..n)? */
static bool has_grant(const lk_grant *grants, size_t n, int64_t role_id, int64_t workspace_id)
{
    for (size_t i = 0; i < n; i++)
        if (grants[i].role_id == role_id && grants[i].workspace_id == workspace_id)
            return true;
    return false;
}

/* Are the user's stored grants exactly grants[0..n) (as a set)? Then an update
 * leaves them alone, and adds nothing to the change feed. */
static bool same_grants(lk_pg *q, int64_t user_id, const lk_grant *grants, size_t n, const lk_pg_ctx *c)
{
    lk_pg_stmt *st;
    if (lk_pg_prepare(q, SQL_GRANTS_NOW, c, &st, NULL) != LK_OK)
        return false;
    lk_pg_bind_int(q, st, 1, user_id);
    size_t stored = 0;
    bool same = true;
    int rc = LK_PG_DONE;
    while (same && (rc = lk_pg_step(q, st, c, NULL)) == LK_PG_ROW) {
        stored++;
        same = has_grant(grants, n, lk_pg_int(st, 0), lk_pg_int(st, 1));
    }
    lk_pg_reset(q, st);
    if (!same || rc != LK_PG_DONE)
        return false;
    /* stored rows are distinct and all among grants: equal sets when grants holds
     * exactly that many distinct pairs */
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        distinct += !has_grant(grants, i, grants[i].role_id, grants[i].workspace_id);
    return stored == distinct;
}

/* Replaces the user's grants with u->grants (role_id, workspace_id). */
static lk_code write_grants(lk_pg *q, int64_t user_id, const lk_grant *grants, size_t n, lk_error *err)
{
    static const lk_pg_ctx c = {
        .op = "user grants", .noun = "grant", .fk_code = LK_ENOTFOUND,
        .fk_msg = "a role or workspace granted to the user does not exist",
    };
    if (same_grants(q, user_id, grants, n, &c))
        return LK_OK;
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_GRANTS_CLEAR, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, user_id);
    code = lk_pg_exec(q, st, &c, err);
    for (size_t i = 0; code == LK_OK && i < n; i++) {
        code = lk_pg_prepare(q, SQL_GRANT_ADD, &c, &st, err);
        if (code != LK_OK)
            return code;
        lk_pg_bind_int(q, st, 1, user_id);
        lk_pg_bind_int(q, st, 2, grants[i].role_id);
        lk_pg_bind_int(q, st, 3, grants[i].workspace_id);
        code = lk_pg_exec(q, st, &c, err);
    }
    return code;
}

/* Binds $2..$15 of the insert and update statements ($1 is the id of an update). */
static void bind_user(lk_pg *q, lk_pg_stmt *st, const lk_user *u)
{
    size_t status = (size_t)u->status < N_STATUS ? (size_t)u->status : LK_STATUS_LOCKED;
    lk_pg_bind_text(q, st, 2, u->email);
    lk_pg_bind_text(q, st, 3, u->userid);
    lk_pg_bind_text(q, st, 4, u->first_name);
    lk_pg_bind_text(q, st, 5, u->last_name);
    lk_pg_bind_text0(q, st, 6, u->reason);
    lk_pg_bind_time(q, st, 7, u->expires_at);
    lk_pg_bind_int(q, st, 8, u->api_only ? 1 : 0);
    lk_pg_bind_text(q, st, 9, status_words[status]);
    lk_pg_bind_text0(q, st, 10, u->lock_reason);
    lk_pg_bind_text(q, st, 11, u->password_hash);
    lk_pg_bind_int(q, st, 12, u->failed_logins);
    lk_pg_bind_time(q, st, 13, u->last_login_at);
    lk_pg_bind_int(q, st, 14, u->created_at);
    lk_pg_bind_int(q, st, 15, u->updated_at);
    lk_pg_bind_int(q, st, 16, u->must_change_password ? 1 : 0);
    lk_pg_bind_text0(q, st, 17, u->lang);
}

/* Runs a statement returning users, then fills their grants. */
static lk_code user_rows(lk_pg *q, lk_pg_stmt *st, lk_arena *a, lk_user **out, size_t *n,
                         const lk_pg_ctx *c, lk_error *err)
{
    lk_code code = lk_pg_rows(q, st, a, sizeof **out, user_row, (void **)out, n, c, err);
    return code != LK_OK ? code : lk_pg_user_fill_grants(q, a, *out, *n, err);
}

lk_code lk_pg_users_of_role(lk_pg *q, lk_arena *a, int64_t role_id, lk_user **out, size_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "role_holders", .noun = "user"};
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_USER_OF_ROLE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, role_id);
    return user_rows(q, st, a, out, n, &c, err);
}

static const char SQL_USERS_EXPIRING[] =
    "SELECT " USER_COLS " FROM users u WHERE expires_at > $1 AND expires_at <= $2"
    " AND NOT EXISTS (SELECT 1 FROM expiry_notices n WHERE n.user_id = u.id AND n.expires_at = u.expires_at"
    " AND n.days = CASE WHEN u.expires_at - $1 <= 86400 THEN 1 ELSE 7 END)"
    " ORDER BY expires_at, id";

lk_code lk_pg_users_expiring(lk_store *s, lk_arena *a, int64_t from, int64_t to, lk_user **out, size_t *n,
                             lk_error *err)
{
    static const lk_pg_ctx c = {.op = "users_expiring", .noun = "user"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_USERS_EXPIRING, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, from);
    lk_pg_bind_int(q, st, 2, to);
    return user_rows(q, st, a, out, n, &c, err);
}

/* The list or count statement with its filters bound ($1..$8, $11); limit and
 * offset are the caller's. */
static lk_code user_query(lk_pg *q, lk_arena *a, const lk_user_filter *f, bool count, const lk_pg_ctx *c,
                          lk_pg_stmt **st, lk_error *err)
{
    static const lk_user_filter any = {.api_only = -1};
    if (!f)
        f = &any;
    const char *whole = NULL;
    const char *words = lk_pg_search_words(a, f->search, &whole);
    lk_code code = lk_pg_prepare(q, count ? SQL_USER_COUNT : SQL_USER_LIST, c, st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, *st, 1, !count && f->after > 0 ? f->after : 0); /* a count ignores the cursor */
    lk_pg_bind_int(q, *st, 2, f->api_only >= 0 ? (f->api_only ? 1 : 0) : -1);
    lk_pg_bind_int(q, *st, 3, f->accepted_only ? 1 : 0);
    lk_pg_bind_int(q, *st, 4, f->by_status ? (int64_t)f->status : -1);
    lk_pg_bind_int(q, *st, 5, f->now);
    lk_pg_bind_text(q, *st, 6, whole);
    lk_pg_bind_int(q, *st, 7, f->role_id > 0 ? f->role_id : 0);
    lk_pg_bind_text(q, *st, 8, words);
    lk_pg_bind_text(q, *st, 11, words ? lk_pg_search_key(a, f->search) : NULL);
    return LK_OK;
}

lk_code lk_pg_user_list(lk_store *s, lk_arena *a, const lk_user_filter *f, lk_user **out, size_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "user_list", .noun = "user"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = user_query(q, a, f, false, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 9, lk_pg_limit(f ? f->limit : 0));
    lk_pg_bind_int(q, st, 10, f && f->offset > 0 ? f->offset : 0);
    return user_rows(q, st, a, out, n, &c, err);
}

lk_code lk_pg_user_count(lk_store *s, const lk_user_filter *f, int64_t cap, int64_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "user_count", .noun = "user"};
    lk_pg *q = lk_pg_of(s);
    lk_arena tmp = LK_ARENA_INIT;
    lk_pg_stmt *st;
    lk_code code = user_query(q, &tmp, f, true, &c, &st, err);
    if (code == LK_OK) {
        lk_pg_bind_int(q, st, 9, lk_pg_limit(cap));
        code = lk_pg_count(q, st, n, &c, err);
    }
    if (code == LK_OK && cap > 0 && *n > cap)
        *n = cap;
    lk_arena_free(&tmp);
    return code;
}

lk_code lk_pg_user_get(lk_store *s, lk_arena *a, int64_t id, lk_user *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "user_get", .noun = "user"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_USER_GET, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, id);
    code = lk_pg_one(q, st, a, user_row, out, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "user", "no user has the id %lld", (long long)id);
    return code != LK_OK ? code : lk_pg_user_fill_grants(q, a, out, 1, err);
}

lk_code lk_pg_user_find(lk_store *s, lk_arena *a, const char *key, lk_user *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "user_find", .noun = "user"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_USER_FIND, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text0(q, st, 1, key);
    code = lk_pg_one(q, st, a, user_row, out, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "user", "no user has the email or user id '%s'", key ? key : "");
    return code != LK_OK ? code : lk_pg_user_fill_grants(q, a, out, 1, err);
}

lk_code lk_pg_user_insert(lk_store *s, lk_user *u, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "user_insert", .noun = "user"};
    lk_pg *q = lk_pg_of(s);
    lk_code code = lk_pg_savepoint(q, &c, err);
    if (code != LK_OK)
        return code;
    lk_pg_stmt *st;
    int64_t id = 0;
    code = lk_pg_prepare(q, SQL_USER_INSERT, &c, &st, err);
    if (code == LK_OK) {
        bind_user(q, st, u);
        code = lk_pg_exec(q, st, &c, err);
        id = q->last_id;
    }
    if (code == LK_OK)
        code = write_grants(q, id, u->grants, u->n_grants, err);
    code = lk_pg_savepoint_end(q, code, &c, err);
    if (code == LK_OK)
        u->id = id;
    return code;
}

lk_code lk_pg_user_update(lk_store *s, const lk_user *u, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "user_update", .noun = "user"};
    lk_pg *q = lk_pg_of(s);
    lk_code code = lk_pg_savepoint(q, &c, err);
    if (code != LK_OK)
        return code;
    lk_pg_stmt *st;
    code = lk_pg_prepare(q, SQL_USER_UPDATE, &c, &st, err);
    if (code == LK_OK) {
        lk_pg_bind_int(q, st, 1, u->id);
        bind_user(q, st, u);
        code = lk_pg_exec(q, st, &c, err);
    }
    if (code == LK_OK && q->changes == 0)
        code = lk_fail(err, LK_ENOTFOUND, "user", "no user has the id %lld", (long long)u->id);
    if (code == LK_OK)
        code = write_grants(q, u->id, u->grants, u->n_grants, err);
    return lk_pg_savepoint_end(q, code, &c, err);
}

lk_code lk_pg_user_delete(lk_store *s, int64_t id, lk_error *err)
{
    static const lk_pg_ctx c = {
        .op = "user_delete", .noun = "user", .fk_code = LK_EINUSE,
        .fk_msg = "the user owns custom services; delete them first",
    };
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_USER_DELETE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, id);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK && q->changes == 0)
        return lk_fail(err, LK_ENOTFOUND, "user", "no user has the id %lld", (long long)id);
    return code;
}

/* --- invitations ----------------------------------------------------------- */

#define INV_COLS "id, user_id, token_hash, message, created_at, expires_at, accepted_at"

static const char SQL_INV_INSERT[] =
    "INSERT INTO invitations (user_id, token_hash, message, created_at, expires_at, accepted_at)"
    " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
static const char SQL_INV_FOR_USER[] =
    "SELECT " INV_COLS " FROM invitations WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1";
static const char SQL_INV_BY_HASH[] = "SELECT " INV_COLS " FROM invitations WHERE token_hash = $1";
static const char SQL_INV_UPDATE[] =
    "UPDATE invitations SET accepted_at = $2, expires_at = $3, token_hash = $4 WHERE id = $1";

static void inv_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_invitation *inv = out;
    inv->id = lk_pg_int(st, 0);
    inv->user_id = lk_pg_int(st, 1);
    inv->token_hash = lk_pg_text(a, st, 2);
    inv->message = lk_pg_text(a, st, 3);
    inv->created_at = lk_pg_int(st, 4);
    inv->expires_at = lk_pg_int(st, 5);
    inv->accepted_at = lk_pg_int(st, 6);
}

lk_code lk_pg_invitation_insert(lk_store *s, lk_invitation *inv, lk_error *err)
{
    static const lk_pg_ctx c = {
        .op = "invitation_insert", .noun = "invitation", .fk_code = LK_ENOTFOUND,
        .fk_msg = "the invited user does not exist",
    };
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_INV_INSERT, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, inv->user_id);
    lk_pg_bind_text(q, st, 2, inv->token_hash);
    lk_pg_bind_text0(q, st, 3, inv->message);
    lk_pg_bind_int(q, st, 4, inv->created_at);
    lk_pg_bind_int(q, st, 5, inv->expires_at);
    lk_pg_bind_time(q, st, 6, inv->accepted_at);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK)
        inv->id = q->last_id;
    return code;
}

lk_code lk_pg_invitation_for_user(lk_store *s, lk_arena *a, int64_t user_id, lk_invitation *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "invitation_for_user", .noun = "invitation"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_INV_FOR_USER, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, user_id);
    code = lk_pg_one(q, st, a, inv_row, out, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "invitation", "the user with id %lld has no invitation", (long long)user_id);
    return code;
}

lk_code lk_pg_invitation_by_hash(lk_store *s, lk_arena *a, const char *token_hash, lk_invitation *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "invitation_by_hash", .noun = "invitation"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_INV_BY_HASH, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text0(q, st, 1, token_hash);
    code = lk_pg_one(q, st, a, inv_row, out, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "invitation", "no invitation matches that token");
    return code;
}

lk_code lk_pg_invitation_update(lk_store *s, const lk_invitation *inv, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "invitation_update", .noun = "invitation"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_INV_UPDATE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, inv->id);
    lk_pg_bind_time(q, st, 2, inv->accepted_at);
    lk_pg_bind_int(q, st, 3, inv->expires_at);
    lk_pg_bind_text(q, st, 4, inv->token_hash);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK && q->changes == 0)
        return lk_fail(err, LK_ENOTFOUND, "invitation", "no invitation has the id %lld", (long long)inv->id);
    return code;
}
