/*
 * pg_internal — what the files of the PostgreSQL store share, and nothing else
 * includes.
 *
 * Layout mirrors the SQLite store (store/sqlite/sqlite_internal.h), op for op:
 * store_pg.c opens the connection, applies migrations, runs transactions and holds
 * the ops table; pg_util.c has the statement cache and the helpers below;
 * pg_catalog.c, pg_users.c, pg_services.c, pg_server.c, pg_gateway.c, pg_console.c,
 * pg_mail.c and pg_feed.c implement the ops.
 *
 * Invariants every op keeps:
 *  - SQL is a static const char array next to the op that uses it, with `$N`
 *    parameters only; values are never pasted into SQL text. The array's address
 *    is the key of the statement cache; each text is prepared once per connection
 *    (again after a reconnect).
 *  - Bound values are copied when bound and wiped and freed once the statement ran,
 *    on every path.
 *  - Strings of returned records are copied into the caller's arena.
 *  - A statement that writes inside a transaction runs under a savepoint of its own,
 *    so that a failed one (a unique name taken) leaves the transaction usable, as a
 *    failed statement does in SQLite.
 */
#ifndef LK_STORE_PG_INTERNAL_H
#define LK_STORE_PG_INTERNAL_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "store/store.h"

#define LK_PG_MAX_PARAMS 24

/* what lk_pg_step returns besides an lk_code failure */
#define LK_PG_ROW 100
#define LK_PG_DONE 101

typedef struct lk_pg_stmt {
    const char *sql;    /* key: the address of a static SQL text */
    char name[16];      /* the prepared statement's name on the connection */
    bool prepared;
    int want;           /* how many parameters the text has ($1..$want) */
    char *vals[LK_PG_MAX_PARAMS];
    Oid types[LK_PG_MAX_PARAMS]; /* 0: PostgreSQL infers; text for a number the text skips */
    PGresult *res;      /* the result the column readers read, at row */
    int row;
    bool streaming;     /* a single-row-mode query is in flight */
    bool is_write;      /* INSERT, UPDATE or DELETE */
} lk_pg_stmt;

typedef struct lk_pg {
    lk_store base;      /* first, so that an lk_store * is an lk_pg * */
    PGconn *conn;
    int version;        /* highest applied migration */
    lk_pg_stmt **cache;
    size_t n_cache, cap_cache;
    int next_name;
    int64_t last_id;    /* the id an INSERT ... RETURNING id gave */
    int64_t changes;    /* rows the last write touched */
    bool stmt_sp;       /* a statement savepoint (lk_stmt) is open in the transaction */
    bool listening;     /* LISTEN latchkey_changes is on (store_pg.c) */
    bool op_tx;         /* lk_pg_savepoint began the transaction itself */
    char failure[160];  /* the last failure's wording, for lk_pg_fail */
    char sqlstate[6];
} lk_pg;

static inline lk_pg *lk_pg_of(lk_store *s)
{
    return (lk_pg *)s;
}

typedef struct lk_pg_ctx {
    const char *op;
    const char *noun;
    lk_code fk_code;
    const char *fk_msg;
} lk_pg_ctx;

typedef void (*lk_pg_row_fn)(lk_arena *a, lk_pg_stmt *st, void *out);

/* The cached statement for sql (a static text); prepared when first run. */
lk_code lk_pg_prepare(lk_pg *q, const char *sql, const lk_pg_ctx *c, lk_pg_stmt **st, lk_error *err);
/* Ends a streaming query early and wipes the bindings; NULL is fine. */
void lk_pg_reset(lk_pg *q, lk_pg_stmt *st);

void lk_pg_bind_int(lk_pg *q, lk_pg_stmt *st, int i, int64_t v);
void lk_pg_bind_time(lk_pg *q, lk_pg_stmt *st, int i, int64_t t);      /* 0 → NULL */
void lk_pg_bind_text(lk_pg *q, lk_pg_stmt *st, int i, const char *s);  /* NULL → NULL */
void lk_pg_bind_text0(lk_pg *q, lk_pg_stmt *st, int i, const char *s); /* NULL → "" */

/* Runs st (rows ignored; RETURNING id sets q->last_id; q->changes). */
lk_code lk_pg_exec(lk_pg *q, lk_pg_stmt *st, const lk_pg_ctx *c, lk_error *err);
lk_code lk_pg_rows(lk_pg *q, lk_pg_stmt *st, lk_arena *a, size_t elem_size, lk_pg_row_fn fn,
                   void **out, size_t *n, const lk_pg_ctx *c, lk_error *err);
/* LK_ENOTFOUND (err untouched) when there is no row */
lk_code lk_pg_one(lk_pg *q, lk_pg_stmt *st, lk_arena *a, lk_pg_row_fn fn, void *out,
                  const lk_pg_ctx *c, lk_error *err);
/* Row by row (single-row mode, for scans of a large instance): LK_PG_ROW with the
 * row readable through the column readers, LK_PG_DONE, or an lk_code (err set).
 * Call lk_pg_reset when stopping before LK_PG_DONE. */
int lk_pg_step(lk_pg *q, lk_pg_stmt *st, const lk_pg_ctx *c, lk_error *err);
/* Words the last failure (q->failure, q->sqlstate) as the op's error. */
lk_code lk_pg_fail(lk_pg *q, const lk_pg_ctx *c, lk_error *err);

/* A plain command outside the cache (BEGIN, SAVEPOINT ...). */
lk_code lk_pg_command(lk_pg *q, const char *sql, const lk_pg_ctx *c, lk_error *err);
/* Is a transaction open on the connection? */
bool lk_pg_in_tx(lk_pg *q);
/* A lost connection is opened again when no transaction was open on it; the
 * statements are prepared again as they are used. */
lk_code lk_pg_ensure(lk_pg *q, const lk_pg_ctx *c, lk_error *err);

lk_code lk_pg_savepoint(lk_pg *q, const lk_pg_ctx *c, lk_error *err);
lk_code lk_pg_savepoint_end(lk_pg *q, lk_code rc, const lk_pg_ctx *c, lk_error *err);

/* Column readers on the current row: text into the arena ("" or NULL for NULL);
 * NULL integers are 0. lk_pg_column is borrowed until the next step. */
const char *lk_pg_text(lk_arena *a, lk_pg_stmt *st, int col);
const char *lk_pg_text_or_null(lk_arena *a, lk_pg_stmt *st, int col);
int64_t lk_pg_int(lk_pg_stmt *st, int col);
const unsigned char *lk_pg_column(lk_pg_stmt *st, int col);
bool lk_pg_is_null(lk_pg_stmt *st, int col);

void lk_pg_cache_free(lk_pg *q);

/* --- lists ---------------------------------------------------------------- */

#define LK_PG_TRIGRAM 3

/* The LIKE patterns of a search text (store.h's rule) as a PostgreSQL text array
 * literal: each word's '%word%' (lower case, LIKE's specials escaped), every one
 * of which a row must contain; NULL when the text is blank or a word is shorter
 * than LK_PG_TRIGRAM characters (then *whole is the whole text's pattern). */
const char *lk_pg_search_words(lk_arena *a, const char *text, const char **whole);
/* The pattern of the longest of those words, or NULL when lk_pg_search_words gives
 * none: a single LIKE the trigram index can answer (PostgreSQL's GIN cannot use a
 * LIKE ALL of an array), which the statement ANDs to the LIKE ALL of every word. */
const char *lk_pg_search_key(lk_arena *a, const char *text);
/* a user's search text, of the alias u: must stay the expression of the index
 * users_search (migration 0007); the users' and the services' searches use it */
#define LK_PG_USER_SEARCH_TEXT \
    "lower(u.email::text || E'\\n' || u.userid::text || E'\\n' || u.first_name || E'\\n' || u.last_name)"
/* the text trimmed, lower case; NULL when blank */
const char *lk_pg_search_fold(lk_arena *a, const char *text);
/* '%text%' with LIKE's specials escaped (text as given) */
const char *lk_pg_like(lk_arena *a, const char *text);
lk_code lk_pg_count(lk_pg *q, lk_pg_stmt *st, int64_t *n, const lk_pg_ctx *c, lk_error *err);
static inline int64_t lk_pg_limit(int64_t n)
{
    return n > 0 ? n : INT64_MAX;
}

/* the users' and the services' list statements (pg_users.c, $1..$11; pg_services.c,
 * $1..$7), for the tests of their plans */
extern const char lk_pg_sql_user_list[];
extern const char lk_pg_sql_service_list[];

/* --- the ops (see store.h for their contracts) ---------------------------- */

lk_code lk_pg_workspace_list(lk_store *s, lk_arena *a, lk_workspace **out, size_t *n, lk_error *err);
lk_code lk_pg_workspace_get(lk_store *s, lk_arena *a, int64_t id, lk_workspace *out, lk_error *err);
lk_code lk_pg_workspace_find(lk_store *s, lk_arena *a, const char *name, lk_workspace *out, lk_error *err);
lk_code lk_pg_workspace_insert(lk_store *s, lk_workspace *w, lk_error *err);

lk_code lk_pg_permission_list(lk_store *s, lk_arena *a, lk_permission **out, size_t *n, lk_error *err);
lk_code lk_pg_permission_find(lk_store *s, lk_arena *a, const char *name, lk_permission *out, lk_error *err);
lk_code lk_pg_permission_insert(lk_store *s, lk_permission *p, lk_error *err);
lk_code lk_pg_permission_delete(lk_store *s, int64_t id, lk_error *err);
lk_code lk_pg_permission_roles(lk_store *s, lk_arena *a, int64_t id, const char ***names, size_t *n, lk_error *err);

lk_code lk_pg_role_list(lk_store *s, lk_arena *a, lk_role **out, size_t *n, lk_error *err);
lk_code lk_pg_role_get(lk_store *s, lk_arena *a, int64_t id, lk_role *out, lk_error *err);
lk_code lk_pg_role_find(lk_store *s, lk_arena *a, const char *name, lk_role *out, lk_error *err);
lk_code lk_pg_role_insert(lk_store *s, lk_role *r, lk_error *err);
lk_code lk_pg_role_update(lk_store *s, const lk_role *r, lk_error *err);
lk_code lk_pg_role_delete(lk_store *s, int64_t id, lk_error *err);
lk_code lk_pg_role_holders(lk_store *s, lk_arena *a, int64_t role_id, lk_user **out, size_t *n, lk_error *err);
lk_code lk_pg_role_holder_counts(lk_store *s, lk_arena *a, int64_t **pairs, size_t *n, lk_error *err);
lk_code lk_pg_role_workspaces(lk_store *s, lk_arena *a, int64_t role_id, lk_workspace **out, size_t *n,
                              lk_error *err);

lk_code lk_pg_user_list(lk_store *s, lk_arena *a, const lk_user_filter *f, lk_user **out, size_t *n, lk_error *err);
lk_code lk_pg_user_count(lk_store *s, const lk_user_filter *f, int64_t cap, int64_t *n, lk_error *err);
lk_code lk_pg_user_get(lk_store *s, lk_arena *a, int64_t id, lk_user *out, lk_error *err);
lk_code lk_pg_user_find(lk_store *s, lk_arena *a, const char *key, lk_user *out, lk_error *err);
lk_code lk_pg_user_insert(lk_store *s, lk_user *u, lk_error *err);
lk_code lk_pg_user_update(lk_store *s, const lk_user *u, lk_error *err);
lk_code lk_pg_user_delete(lk_store *s, int64_t id, lk_error *err);
/* fills the grants of n users (used by role_holders too) */
lk_code lk_pg_user_fill_grants(lk_pg *q, lk_arena *a, lk_user *users, size_t n, lk_error *err);
/* the users of a role, ordered by id, grants filled */
lk_code lk_pg_users_of_role(lk_pg *q, lk_arena *a, int64_t role_id, lk_user **out, size_t *n, lk_error *err);

lk_code lk_pg_invitation_insert(lk_store *s, lk_invitation *inv, lk_error *err);
lk_code lk_pg_invitation_for_user(lk_store *s, lk_arena *a, int64_t user_id, lk_invitation *out, lk_error *err);
lk_code lk_pg_invitation_by_hash(lk_store *s, lk_arena *a, const char *token_hash, lk_invitation *out, lk_error *err);
lk_code lk_pg_invitation_update(lk_store *s, const lk_invitation *inv, lk_error *err);
lk_code lk_pg_users_expiring(lk_store *s, lk_arena *a, int64_t from, int64_t to, lk_user **out, size_t *n,
                             lk_error *err);

lk_code lk_pg_mail_insert(lk_store *s, lk_mail_rec *m, lk_error *err);
lk_code lk_pg_mail_due(lk_store *s, lk_arena *a, int64_t now, lk_mail_rec *out, lk_error *err);
lk_code lk_pg_mail_update(lk_store *s, const lk_mail_rec *m, int was_attempts, lk_error *err);
lk_code lk_pg_mail_get(lk_store *s, lk_arena *a, int64_t id, lk_mail_rec *out, lk_error *err);
lk_code lk_pg_mail_counts(lk_store *s, int64_t counts[4], lk_error *err);
lk_code lk_pg_mail_list(lk_store *s, lk_arena *a, const lk_mail_filter *f, lk_mail_rec **out, size_t *n,
                        lk_error *err);
lk_code lk_pg_mail_count(lk_store *s, const lk_mail_filter *f, int64_t cap, int64_t *n, lk_error *err);
lk_code lk_pg_reset_insert(lk_store *s, lk_reset *r, lk_error *err);
lk_code lk_pg_reset_get(lk_store *s, lk_arena *a, int64_t id, lk_reset *out, lk_error *err);
lk_code lk_pg_reset_by_hash(lk_store *s, lk_arena *a, const char *token_hash, lk_reset *out, lk_error *err);
lk_code lk_pg_reset_for_user(lk_store *s, lk_arena *a, int64_t user_id, lk_reset *out, lk_error *err);
lk_code lk_pg_reset_update(lk_store *s, const lk_reset *r, lk_error *err);
lk_code lk_pg_reset_end_user(lk_store *s, int64_t user_id, int64_t at, lk_error *err);
lk_code lk_pg_notice_mark(lk_store *s, int64_t user_id, int64_t expires_at, int days, int64_t now, bool *fresh,
                          lk_error *err);

lk_code lk_pg_api_user_role_scan(lk_store *s, lk_user_role_fn fn, void *ctx, lk_error *err);
lk_code lk_pg_service_scan(lk_store *s, lk_service_fn fn, void *ctx, lk_error *err);
lk_code lk_pg_service_list(lk_store *s, lk_arena *a, const lk_service_filter *f, lk_service **out, size_t *n,
                           lk_error *err);
lk_code lk_pg_service_count(lk_store *s, const lk_service_filter *f, int64_t cap, int64_t *n, lk_error *err);
lk_code lk_pg_service_list_by_user(lk_store *s, lk_arena *a, int64_t user_id, lk_service **out, size_t *n, lk_error *err);
lk_code lk_pg_service_find(lk_store *s, lk_arena *a, const char *name, lk_service *out, lk_error *err);
lk_code lk_pg_service_find_client(lk_store *s, lk_arena *a, const char *client_id, lk_service *out, lk_error *err);
lk_code lk_pg_service_insert(lk_store *s, lk_service *svc, lk_error *err);
lk_code lk_pg_service_update(lk_store *s, const lk_service *svc, lk_error *err);
lk_code lk_pg_service_delete(lk_store *s, int64_t id, lk_error *err);

lk_code lk_pg_api_user_get(lk_store *s, int64_t id, lk_user_role_fn fn, void *ctx, lk_error *err);
lk_code lk_pg_service_get(lk_store *s, lk_arena *a, int64_t id, lk_service *out, lk_error *err);

lk_code lk_pg_snapshot_begin(lk_store *s, lk_error *err);
void lk_pg_snapshot_end(lk_store *s);
lk_code lk_pg_changes_since(lk_store *s, lk_arena *a, int64_t after, size_t max, lk_change **out, size_t *n,
                            lk_error *err);
lk_code lk_pg_changes_state(lk_store *s, int64_t *head, int64_t *pruned, lk_error *err);
lk_code lk_pg_change_append(lk_store *s, lk_change_kind kind, int64_t id, int64_t at, lk_error *err);
lk_code lk_pg_changes_prune(lk_store *s, int64_t before, int64_t keep, int64_t max, int64_t *removed,
                            lk_error *err);
lk_code lk_pg_revocation_insert(lk_store *s, const lk_revocation *r, lk_error *err);
lk_code lk_pg_revocation_get(lk_store *s, lk_arena *a, int64_t id, lk_revocation *out, lk_error *err);
lk_code lk_pg_revocation_scan(lk_store *s, int64_t since, lk_revocation_fn fn, void *ctx, lk_error *err);
lk_code lk_pg_revocation_purge(lk_store *s, int64_t expired_before, lk_error *err);
lk_code lk_pg_setting_get(lk_store *s, lk_arena *a, const char *key, const char **value, lk_error *err);
lk_code lk_pg_setting_set(lk_store *s, const char *key, const char *value, int64_t now, lk_error *err);
lk_code lk_pg_allow_list(lk_store *s, lk_arena *a, const char ***cidrs, size_t *n, lk_error *err);
lk_code lk_pg_allow_insert(lk_store *s, const char *cidr, int64_t now, lk_error *err);
lk_code lk_pg_allow_delete(lk_store *s, const char *cidr, lk_error *err);
lk_code lk_pg_gwroute_list(lk_store *s, lk_arena *a, lk_gw_route **out, size_t *n, lk_error *err);
lk_code lk_pg_gwroute_insert(lk_store *s, lk_gw_route *r, lk_error *err);
lk_code lk_pg_gwroute_delete(lk_store *s, int64_t id, lk_error *err);
lk_code lk_pg_limit_counts_put(lk_store *s, const char *process, const lk_limit_count *recs, size_t n, int64_t at,
                               lk_error *err);
lk_code lk_pg_limit_counts_others(lk_store *s, lk_arena *a, const char *process, int64_t since_second, int64_t day,
                                  int64_t alive_after, int64_t window, int64_t signin_after, lk_limit_count **out,
                                  size_t *n, lk_error *err);
lk_code lk_pg_limit_counts_prune(lk_store *s, int64_t before_second, int64_t before_day, int64_t dead_before,
                                 int64_t signin_before, lk_error *err);
lk_code lk_pg_user_limits_list(lk_store *s, lk_arena *a, lk_user_limits **out, size_t *n, lk_error *err);
lk_code lk_pg_user_limits_set(lk_store *s, const lk_user_limits *l, lk_error *err);
lk_code lk_pg_user_limits_delete(lk_store *s, int64_t user_id, lk_error *err);
lk_code lk_pg_usage_add(lk_store *s, const lk_usage_rec *recs, size_t n, lk_error *err);
lk_code lk_pg_errors_add(lk_store *s, const lk_error_rec *recs, size_t n, lk_error *err);
lk_code lk_pg_usage_list(lk_store *s, lk_arena *a, const char *from_day, const char *to_day,
                         lk_usage_rec **out, size_t *n, lk_error *err);
lk_code lk_pg_errors_list(lk_store *s, lk_arena *a, const char *from_day, const char *to_day,
                          lk_error_rec **out, size_t *n, lk_error *err);

lk_code lk_pg_session_insert(lk_store *s, lk_session *sess, lk_error *err);
lk_code lk_pg_session_find(lk_store *s, lk_arena *a, const char *token_hash, lk_session *out, lk_error *err);
lk_code lk_pg_session_touch(lk_store *s, int64_t id, int64_t at, lk_error *err);
lk_code lk_pg_session_delete(lk_store *s, int64_t id, lk_error *err);
lk_code lk_pg_session_delete_user(lk_store *s, int64_t user_id, int64_t except_id, lk_error *err);
lk_code lk_pg_session_purge(lk_store *s, int64_t idle_before, int64_t now, lk_error *err);
lk_code lk_pg_login_insert(lk_store *s, lk_login_rec *rec, lk_error *err);
lk_code lk_pg_login_list(lk_store *s, lk_arena *a, const lk_login_filter *f, lk_login_rec **out, size_t *n,
                         lk_error *err);
lk_code lk_pg_login_count(lk_store *s, const lk_login_filter *f, int64_t cap, int64_t *n, lk_error *err);
lk_code lk_pg_audit_insert(lk_store *s, lk_audit_event *ev, lk_error *err);
lk_code lk_pg_audit_list(lk_store *s, lk_arena *a, const lk_audit_filter *f, lk_audit_event **out, size_t *n, lk_error *err);
lk_code lk_pg_audit_count(lk_store *s, const lk_audit_filter *f, int64_t cap, int64_t *n, lk_error *err);

#endif
