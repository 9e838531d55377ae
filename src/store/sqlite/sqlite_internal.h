/*
 * sqlite_internal — what the files of the SQLite store share, and nothing else
 * includes.
 *
 * Layout: store_sqlite.c opens the connection, applies migrations, runs
 * transactions and holds the ops table; sqlite_util.c has the statement cache and
 * the helpers below; sqlite_catalog.c (workspaces, permissions, roles),
 * sqlite_users.c (users, invitations), sqlite_services.c (services, audit) and
 * sqlite_server.c (what the server keeps: settings, allowlist, user limits, daily
 * counts) and sqlite_feed.c (the change feed, token revocations) implement the ops.
 *
 * Invariants every op keeps:
 *  - SQL is a static const char array next to the op that uses it, with `?N`
 *    parameters only; values are never pasted into SQL text. The array's address
 *    is the key of the statement cache.
 *  - A statement taken from the cache is reset (and its bindings cleared) before
 *    the op returns, on every path, so no statement holds a read snapshot or a
 *    copy of a bound secret between calls.
 *  - Strings of returned records are copied into the caller's arena.
 */
#ifndef LK_STORE_SQLITE_INTERNAL_H
#define LK_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>

#include "store/store.h"

typedef struct lk_sq_cached {
    const char *sql;    /* key: the address of a static SQL text */
    sqlite3_stmt *st;
} lk_sq_cached;

typedef struct lk_sq {
    lk_store base;      /* first, so that an lk_store * is an lk_sq * */
    sqlite3 *db;
    int version;        /* highest applied migration */
    int bind_rc;        /* first failed bind since the last step, SQLITE_OK if none */
    lk_sq_cached *cache;
    size_t n_cache, cap_cache;
} lk_sq;

static inline lk_sq *lk_sq_of(lk_store *s)
{
    return (lk_sq *)s;
}

/*
 * How an op words its failures. op names the operation ("role_insert"); noun the
 * record ("role") for "a role with that name already exists". A foreign key that
 * fails means LK_EINUSE on a delete (still referenced) and LK_ENOTFOUND on an
 * insert or update (refers to nothing); fk_msg is the sentence for it.
 */
typedef struct lk_sq_ctx {
    const char *op;
    const char *noun;
    lk_code fk_code;
    const char *fk_msg;
} lk_sq_ctx;

/* Fills one record from the current row of st (strings into a). */
typedef void (*lk_sq_row_fn)(lk_arena *a, sqlite3_stmt *st, void *out);

/* The cached statement for sql (a static text), prepared on first use. */
lk_code lk_sq_prepare(lk_sq *q, const char *sql, const lk_sq_ctx *c, sqlite3_stmt **st, lk_error *err);
/* Resets st and clears its bindings; NULL is fine. */
void lk_sq_reset(sqlite3_stmt *st);

/* Binds; a failure is remembered in q->bind_rc and reported by the next step. */
void lk_sq_bind_int(lk_sq *q, sqlite3_stmt *st, int i, int64_t v);
void lk_sq_bind_time(lk_sq *q, sqlite3_stmt *st, int i, int64_t t);      /* 0 → NULL */
void lk_sq_bind_text(lk_sq *q, sqlite3_stmt *st, int i, const char *s);  /* NULL → NULL */
void lk_sq_bind_text0(lk_sq *q, sqlite3_stmt *st, int i, const char *s); /* NULL → "" */

/* Runs st, which returns no rows, then resets it. */
lk_code lk_sq_exec(lk_sq *q, sqlite3_stmt *st, const lk_sq_ctx *c, lk_error *err);
/* Every row of st into a new arena array of elem_size records; resets st. */
lk_code lk_sq_rows(lk_sq *q, sqlite3_stmt *st, lk_arena *a, size_t elem_size, lk_sq_row_fn fn,
                   void **out, size_t *n, const lk_sq_ctx *c, lk_error *err);
/* The first row of st into out; resets st. LK_ENOTFOUND (err untouched: the
 * caller words it) when there is no row. */
lk_code lk_sq_one(lk_sq *q, sqlite3_stmt *st, lk_arena *a, lk_sq_row_fn fn, void *out,
                  const lk_sq_ctx *c, lk_error *err);
/* Maps the connection's last error (rc from a step) to an lk_code and sentence. */
lk_code lk_sq_fail(lk_sq *q, int rc, const lk_sq_ctx *c, lk_error *err);

/* Savepoint around an op of several statements, so that it is all-or-nothing even
 * inside the caller's transaction. end() releases on LK_OK, otherwise rolls the
 * savepoint back; it returns rc (or the release's own failure). */
lk_code lk_sq_savepoint(lk_sq *q, const lk_sq_ctx *c, lk_error *err);
lk_code lk_sq_savepoint_end(lk_sq *q, lk_code rc, const lk_sq_ctx *c, lk_error *err);

/* Column readers: text into the arena ("" or NULL for SQL NULL); NULL integers are 0. */
const char *lk_sq_text(lk_arena *a, sqlite3_stmt *st, int col);
const char *lk_sq_text_or_null(lk_arena *a, sqlite3_stmt *st, int col);
int64_t lk_sq_int(sqlite3_stmt *st, int col);

/* Finalizes every cached statement. */
void lk_sq_cache_free(lk_sq *q);

/* --- lists (store.h: cursors, counts, search) ---------------------------------- */

/* the shortest word a trigram index finds */
#define LK_SQ_TRIGRAM 3

/* The FTS5 query for a search text (store.h's search rule): every word, quoted;
 * NULL when the text is blank or a word is shorter than LK_SQ_TRIGRAM characters
 * (then search with lk_sq_search_fold's substring instead). */
const char *lk_sq_fts_query(lk_arena *a, const char *text);
/* The search text trimmed and in ASCII lower case, as the substring scans compare it
 * with lower(column); NULL when blank. */
const char *lk_sq_search_fold(lk_arena *a, const char *text);
/* The single integer of st's single row (0 when there is none); resets st. */
lk_code lk_sq_count(lk_sq *q, sqlite3_stmt *st, int64_t *n, const lk_sq_ctx *c, lk_error *err);
/* A cap as SQLite's LIMIT takes it: negative for none. */
static inline int64_t lk_sq_limit(int64_t n)
{
    return n > 0 ? n : -1;
}

/* --- the ops (see store.h for their contracts) ---------------------------- */

lk_code lk_sq_workspace_list(lk_store *s, lk_arena *a, lk_workspace **out, size_t *n, lk_error *err);
lk_code lk_sq_workspace_get(lk_store *s, lk_arena *a, int64_t id, lk_workspace *out, lk_error *err);
lk_code lk_sq_workspace_find(lk_store *s, lk_arena *a, const char *name, lk_workspace *out, lk_error *err);
lk_code lk_sq_workspace_insert(lk_store *s, lk_workspace *w, lk_error *err);

lk_code lk_sq_permission_list(lk_store *s, lk_arena *a, lk_permission **out, size_t *n, lk_error *err);
lk_code lk_sq_permission_find(lk_store *s, lk_arena *a, const char *name, lk_permission *out, lk_error *err);
lk_code lk_sq_permission_insert(lk_store *s, lk_permission *p, lk_error *err);
lk_code lk_sq_permission_delete(lk_store *s, int64_t id, lk_error *err);
lk_code lk_sq_permission_roles(lk_store *s, lk_arena *a, int64_t id, const char ***names, size_t *n, lk_error *err);

lk_code lk_sq_role_list(lk_store *s, lk_arena *a, lk_role **out, size_t *n, lk_error *err);
lk_code lk_sq_role_get(lk_store *s, lk_arena *a, int64_t id, lk_role *out, lk_error *err);
lk_code lk_sq_role_find(lk_store *s, lk_arena *a, const char *name, lk_role *out, lk_error *err);
lk_code lk_sq_role_insert(lk_store *s, lk_role *r, lk_error *err);
lk_code lk_sq_role_update(lk_store *s, const lk_role *r, lk_error *err);
lk_code lk_sq_role_delete(lk_store *s, int64_t id, lk_error *err);
lk_code lk_sq_role_holders(lk_store *s, lk_arena *a, int64_t role_id, lk_user **out, size_t *n, lk_error *err);
lk_code lk_sq_role_holder_counts(lk_store *s, lk_arena *a, int64_t **pairs, size_t *n, lk_error *err);
lk_code lk_sq_role_workspaces(lk_store *s, lk_arena *a, int64_t role_id, lk_workspace **out, size_t *n,
                              lk_error *err);

lk_code lk_sq_user_list(lk_store *s, lk_arena *a, const lk_user_filter *f, lk_user **out, size_t *n, lk_error *err);
lk_code lk_sq_user_count(lk_store *s, const lk_user_filter *f, int64_t cap, int64_t *n, lk_error *err);
lk_code lk_sq_user_get(lk_store *s, lk_arena *a, int64_t id, lk_user *out, lk_error *err);
lk_code lk_sq_user_find(lk_store *s, lk_arena *a, const char *key, lk_user *out, lk_error *err);
lk_code lk_sq_user_insert(lk_store *s, lk_user *u, lk_error *err);
lk_code lk_sq_user_update(lk_store *s, const lk_user *u, lk_error *err);
lk_code lk_sq_user_delete(lk_store *s, int64_t id, lk_error *err);
/* fills the grants of n users (used by role_holders too) */
lk_code lk_sq_user_fill_grants(lk_sq *q, lk_arena *a, lk_user *users, size_t n, lk_error *err);
/* the users of a role, ordered by id, grants filled */
lk_code lk_sq_users_of_role(lk_sq *q, lk_arena *a, int64_t role_id, lk_user **out, size_t *n, lk_error *err);

lk_code lk_sq_invitation_insert(lk_store *s, lk_invitation *inv, lk_error *err);
lk_code lk_sq_invitation_for_user(lk_store *s, lk_arena *a, int64_t user_id, lk_invitation *out, lk_error *err);
lk_code lk_sq_invitation_by_hash(lk_store *s, lk_arena *a, const char *token_hash, lk_invitation *out, lk_error *err);
lk_code lk_sq_invitation_update(lk_store *s, const lk_invitation *inv, lk_error *err);
lk_code lk_sq_users_expiring(lk_store *s, lk_arena *a, int64_t from, int64_t to, lk_user **out, size_t *n,
                             lk_error *err);

lk_code lk_sq_mail_insert(lk_store *s, lk_mail_rec *m, lk_error *err);
lk_code lk_sq_mail_due(lk_store *s, lk_arena *a, int64_t now, lk_mail_rec *out, lk_error *err);
lk_code lk_sq_mail_update(lk_store *s, const lk_mail_rec *m, int was_attempts, lk_error *err);
lk_code lk_sq_mail_get(lk_store *s, lk_arena *a, int64_t id, lk_mail_rec *out, lk_error *err);
lk_code lk_sq_mail_counts(lk_store *s, int64_t counts[4], lk_error *err);
lk_code lk_sq_mail_list(lk_store *s, lk_arena *a, const lk_mail_filter *f, lk_mail_rec **out, size_t *n,
                        lk_error *err);
lk_code lk_sq_mail_count(lk_store *s, const lk_mail_filter *f, int64_t cap, int64_t *n, lk_error *err);
lk_code lk_sq_reset_insert(lk_store *s, lk_reset *r, lk_error *err);
lk_code lk_sq_reset_get(lk_store *s, lk_arena *a, int64_t id, lk_reset *out, lk_error *err);
lk_code lk_sq_reset_by_hash(lk_store *s, lk_arena *a, const char *token_hash, lk_reset *out, lk_error *err);
lk_code lk_sq_reset_for_user(lk_store *s, lk_arena *a, int64_t user_id, lk_reset *out, lk_error *err);
lk_code lk_sq_reset_update(lk_store *s, const lk_reset *r, lk_error *err);
lk_code lk_sq_reset_end_user(lk_store *s, int64_t user_id, int64_t at, lk_error *err);
lk_code lk_sq_notice_mark(lk_store *s, int64_t user_id, int64_t expires_at, int days, int64_t now, bool *fresh,
                          lk_error *err);

lk_code lk_sq_api_user_role_scan(lk_store *s, lk_user_role_fn fn, void *ctx, lk_error *err);
lk_code lk_sq_service_scan(lk_store *s, lk_service_fn fn, void *ctx, lk_error *err);
lk_code lk_sq_service_list(lk_store *s, lk_arena *a, const lk_service_filter *f, lk_service **out, size_t *n,
                           lk_error *err);
lk_code lk_sq_service_count(lk_store *s, const lk_service_filter *f, int64_t cap, int64_t *n, lk_error *err);
lk_code lk_sq_service_list_by_user(lk_store *s, lk_arena *a, int64_t user_id, lk_service **out, size_t *n, lk_error *err);
lk_code lk_sq_service_find(lk_store *s, lk_arena *a, const char *name, lk_service *out, lk_error *err);
lk_code lk_sq_service_find_client(lk_store *s, lk_arena *a, const char *client_id, lk_service *out, lk_error *err);
lk_code lk_sq_service_insert(lk_store *s, lk_service *svc, lk_error *err);
lk_code lk_sq_service_update(lk_store *s, const lk_service *svc, lk_error *err);
lk_code lk_sq_service_delete(lk_store *s, int64_t id, lk_error *err);

lk_code lk_sq_api_user_get(lk_store *s, int64_t id, lk_user_role_fn fn, void *ctx, lk_error *err);
lk_code lk_sq_service_get(lk_store *s, lk_arena *a, int64_t id, lk_service *out, lk_error *err);

lk_code lk_sq_snapshot_begin(lk_store *s, lk_error *err);
void lk_sq_snapshot_end(lk_store *s);
lk_code lk_sq_changes_since(lk_store *s, lk_arena *a, int64_t after, size_t max, lk_change **out, size_t *n,
                            lk_error *err);
lk_code lk_sq_changes_state(lk_store *s, int64_t *head, int64_t *pruned, lk_error *err);
lk_code lk_sq_change_append(lk_store *s, lk_change_kind kind, int64_t id, int64_t at, lk_error *err);
lk_code lk_sq_changes_prune(lk_store *s, int64_t before, int64_t keep, int64_t max, int64_t *removed,
                            lk_error *err);
lk_code lk_sq_revocation_insert(lk_store *s, const lk_revocation *r, lk_error *err);
lk_code lk_sq_revocation_get(lk_store *s, lk_arena *a, int64_t id, lk_revocation *out, lk_error *err);
lk_code lk_sq_revocation_scan(lk_store *s, int64_t since, lk_revocation_fn fn, void *ctx, lk_error *err);
lk_code lk_sq_revocation_purge(lk_store *s, int64_t expired_before, lk_error *err);
lk_code lk_sq_setting_get(lk_store *s, lk_arena *a, const char *key, const char **value, lk_error *err);
lk_code lk_sq_setting_set(lk_store *s, const char *key, const char *value, int64_t now, lk_error *err);
lk_code lk_sq_allow_list(lk_store *s, lk_arena *a, const char ***cidrs, size_t *n, lk_error *err);
lk_code lk_sq_allow_insert(lk_store *s, const char *cidr, int64_t now, lk_error *err);
lk_code lk_sq_allow_delete(lk_store *s, const char *cidr, lk_error *err);
lk_code lk_sq_gwroute_list(lk_store *s, lk_arena *a, lk_gw_route **out, size_t *n, lk_error *err);
lk_code lk_sq_gwroute_insert(lk_store *s, lk_gw_route *r, lk_error *err);
lk_code lk_sq_gwroute_delete(lk_store *s, int64_t id, lk_error *err);
lk_code lk_sq_user_limits_list(lk_store *s, lk_arena *a, lk_user_limits **out, size_t *n, lk_error *err);
lk_code lk_sq_user_limits_set(lk_store *s, const lk_user_limits *l, lk_error *err);
lk_code lk_sq_user_limits_delete(lk_store *s, int64_t user_id, lk_error *err);
lk_code lk_sq_limit_counts_put(lk_store *s, const char *process, const lk_limit_count *recs, size_t n, int64_t at,
                               lk_error *err);
lk_code lk_sq_limit_counts_others(lk_store *s, lk_arena *a, const char *process, int64_t since_second, int64_t day,
                                  int64_t alive_after, int64_t window, int64_t signin_after, lk_limit_count **out,
                                  size_t *n, lk_error *err);
lk_code lk_sq_limit_counts_prune(lk_store *s, int64_t before_second, int64_t before_day, int64_t dead_before,
                                 int64_t signin_before, lk_error *err);
lk_code lk_sq_usage_add(lk_store *s, const lk_usage_rec *recs, size_t n, lk_error *err);
lk_code lk_sq_errors_add(lk_store *s, const lk_error_rec *recs, size_t n, lk_error *err);
lk_code lk_sq_usage_list(lk_store *s, lk_arena *a, const char *from_day, const char *to_day,
                         lk_usage_rec **out, size_t *n, lk_error *err);
lk_code lk_sq_errors_list(lk_store *s, lk_arena *a, const char *from_day, const char *to_day,
                          lk_error_rec **out, size_t *n, lk_error *err);

lk_code lk_sq_session_insert(lk_store *s, lk_session *sess, lk_error *err);
lk_code lk_sq_session_find(lk_store *s, lk_arena *a, const char *token_hash, lk_session *out, lk_error *err);
lk_code lk_sq_session_touch(lk_store *s, int64_t id, int64_t at, lk_error *err);
lk_code lk_sq_session_delete(lk_store *s, int64_t id, lk_error *err);
lk_code lk_sq_session_delete_user(lk_store *s, int64_t user_id, int64_t except_id, lk_error *err);
lk_code lk_sq_session_purge(lk_store *s, int64_t idle_before, int64_t now, lk_error *err);
lk_code lk_sq_login_insert(lk_store *s, lk_login_rec *rec, lk_error *err);
lk_code lk_sq_login_list(lk_store *s, lk_arena *a, const lk_login_filter *f, lk_login_rec **out, size_t *n,
                         lk_error *err);
lk_code lk_sq_login_count(lk_store *s, const lk_login_filter *f, int64_t cap, int64_t *n, lk_error *err);
lk_code lk_sq_audit_insert(lk_store *s, lk_audit_event *ev, lk_error *err);
lk_code lk_sq_audit_list(lk_store *s, lk_arena *a, const lk_audit_filter *f, lk_audit_event **out, size_t *n, lk_error *err);
lk_code lk_sq_audit_count(lk_store *s, const lk_audit_filter *f, int64_t cap, int64_t *n, lk_error *err);

/* the first column of sql's first row as text ("" when no row) into out; an SQLite result
 * code (store_sqlite.c; backup and restore use it on their own connections) */
int lk_sq_first_text(sqlite3 *db, const char *sql, char *out, size_t cap);

#endif
