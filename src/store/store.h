/*
 * store — the storage interface of latchkey.
 *
 * The core talks to storage only through this table of functions, so that the
 * embedded SQLite implementation (store/sqlite/) and a later PostgreSQL one are
 * interchangeable without touching the core. An implementation keeps these
 * contracts:
 *
 *  - Reads return records allocated in the caller's arena; they never fail because
 *    nothing matched, except the single-record getters, which return LK_ENOTFOUND.
 *  - Writes happen only between begin() and commit(); commit() returns only once
 *    the transaction is durable. begin() takes the write lock at once, so that the
 *    checks the core makes inside the transaction still hold at commit.
 *  - A unique constraint that fails returns LK_EEXISTS; a row still referenced
 *    (RESTRICT) LK_EINUSE; an update or delete of a missing id LK_ENOTFOUND; any
 *    other failure LK_ESTORE with a message naming the operation (never a secret).
 *  - Updates write every column of the record except id (and replace its child
 *    sets: grants, permissions); a multi-row write succeeds or fails whole.
 *  - Names (roles, permissions, workspaces, services), emails and user ids compare
 *    case-insensitively (ASCII).
 *  - One lk_store is used by one thread at a time; the server opens one per worker.
 */
#ifndef LK_STORE_STORE_H
#define LK_STORE_STORE_H

#include "core/error.h"
#include "core/model.h"
#include "util/arena.h"

typedef struct lk_store lk_store;

/*
 * Lists. Every list op takes a filter with a limit, and the lists that grow with the
 * instance (users, services, audit, logins, mail) a cursor: the position after the
 * last row of the previous page, so that the next page is an index seek however deep
 * it is. Their *_count op counts what the same filter selects (cursor, offset and
 * limit aside), stopping at `cap` when cap > 0, so that a count costs at most cap
 * rows read.
 *
 * A search text (users, services) matches the rows that contain each of its words
 * (split at blanks) as a case-insensitive substring of one of the searched fields;
 * when a word is shorter than three characters, the rows that contain the whole text.
 * Words of three or more characters are found through an index (SQLite: FTS5
 * trigrams, migration 0006); shorter searches read the rows in order.
 */
typedef struct lk_user_filter {
    int api_only;       /* -1 any, 0 only people, 1 only API-only users */
    int64_t offset;     /* rows to skip, ordered by id */
    int64_t limit;      /* 0: no limit */
    bool accepted_only; /* leave out pending users */
    const char *search; /* NULL or "": any; else email, user id, first or last name */
    bool by_status;     /* only the users whose effective status (lk_user_effective_status */
    lk_user_status status; /* at `now`) is `status` */
    int64_t now;
    int64_t role_id;    /* 0: any; else only the users holding this role in some workspace */
    int64_t after;      /* cursor: only ids above it (0: from the first) */
} lk_user_filter;

typedef struct lk_service_filter {
    const char *search; /* NULL or "": any; else display name or owner's email, or a whole client id */
    int64_t user_id;    /* 0: any owner */
    int64_t after;      /* cursor: only ids above it */
    int64_t limit;      /* 0: no limit */
} lk_service_filter;

typedef struct lk_audit_filter {
    int64_t since;      /* 0: from the beginning (inclusive) */
    int64_t until;      /* 0: up to now (exclusive) */
    const char *area;   /* NULL: any; otherwise exact, case-insensitive */
    const char *action; /* NULL: any */
    const char *actor;  /* NULL: any; substring match */
    int64_t limit;      /* 0: no limit */
    int64_t after_at;   /* cursor (newest first): only events older than (after_at, after_id); */
    int64_t after_id;   /* 0, 0: from the newest */
} lk_audit_filter;

typedef struct lk_login_filter {
    int64_t since;      /* 0: from the beginning (inclusive) */
    int64_t until;      /* 0: up to now (exclusive) */
    const char *email;  /* NULL: anyone; otherwise a substring, case-insensitive (ASCII) */
    bool failed_only;
    int64_t limit;      /* 0: no limit */
    int64_t after_at;   /* cursor, as in lk_audit_filter */
    int64_t after_id;
} lk_login_filter;

/*
 * Streaming reads, for the server's catalog of a large instance: fn gets one row at
 * a time, its strings borrowed until fn returns; nothing is allocated for the caller.
 * fn must not use the store. A non-OK return from fn ends the scan and is returned.
 * limits: the user's own (user_limits), NULL when it has none.
 */
typedef lk_code (*lk_user_role_fn)(void *ctx, const lk_user *u, int64_t role_id, const lk_limits *limits);
typedef lk_code (*lk_service_fn)(void *ctx, const lk_service *svc);
typedef lk_code (*lk_revocation_fn)(void *ctx, const lk_revocation *r);

typedef struct lk_store_ops {
    const char *kind;                                   /* "sqlite" */
    void (*close)(lk_store *s);                         /* frees s */

    lk_code (*begin)(lk_store *s, lk_error *err);
    lk_code (*commit)(lk_store *s, lk_error *err);
    void (*rollback)(lk_store *s);
    int (*schema_version)(lk_store *s);
    /* takes the write lock and gives it back at once, waiting at most timeout_ms for
     * it (a readiness probe: LK_OK, or LK_ESTORE when busy or failing); the store's
     * usual wait applies again afterwards. Not inside a transaction. */
    lk_code (*ping)(lk_store *s, int64_t timeout_ms, lk_error *err);

    /* workspaces */
    lk_code (*workspace_list)(lk_store *s, lk_arena *a, lk_workspace **out, size_t *n, lk_error *err);
    lk_code (*workspace_get)(lk_store *s, lk_arena *a, int64_t id, lk_workspace *out, lk_error *err);
    lk_code (*workspace_find)(lk_store *s, lk_arena *a, const char *name, lk_workspace *out, lk_error *err);
    lk_code (*workspace_insert)(lk_store *s, lk_workspace *w, lk_error *err); /* sets w->id */

    /* permissions, ordered by group then name */
    lk_code (*permission_list)(lk_store *s, lk_arena *a, lk_permission **out, size_t *n, lk_error *err);
    lk_code (*permission_find)(lk_store *s, lk_arena *a, const char *name, lk_permission *out, lk_error *err);
    lk_code (*permission_insert)(lk_store *s, lk_permission *p, lk_error *err); /* sets p->id */
    lk_code (*permission_delete)(lk_store *s, int64_t id, lk_error *err);
    /* names of the roles that include the permission */
    lk_code (*permission_roles)(lk_store *s, lk_arena *a, int64_t id, const char ***names, size_t *n, lk_error *err);

    /* roles, ordered by id; reads fill perms */
    lk_code (*role_list)(lk_store *s, lk_arena *a, lk_role **out, size_t *n, lk_error *err);
    lk_code (*role_get)(lk_store *s, lk_arena *a, int64_t id, lk_role *out, lk_error *err);
    lk_code (*role_find)(lk_store *s, lk_arena *a, const char *name, lk_role *out, lk_error *err);
    lk_code (*role_insert)(lk_store *s, lk_role *r, lk_error *err);       /* row + perms[].id; sets r->id */
    lk_code (*role_update)(lk_store *s, const lk_role *r, lk_error *err); /* name, description, updated_at, perms */
    lk_code (*role_delete)(lk_store *s, int64_t id, lk_error *err);
    /* users holding the role in any workspace, grants filled (every one of them: for
     * roles few hold, such as Admin; a paged list is user_list with role_id) */
    lk_code (*role_holders)(lk_store *s, lk_arena *a, int64_t role_id, lk_user **out, size_t *n, lk_error *err);
    /* how many users hold each role (any workspace): pairs (role id, count), roles
     * nobody holds left out; one row per role, kept up to date as grants change */
    lk_code (*role_holder_counts)(lk_store *s, lk_arena *a, int64_t **pairs, size_t *n, lk_error *err);
    /* the workspaces in which someone holds the role, by id (id and name filled) */
    lk_code (*role_workspaces)(lk_store *s, lk_arena *a, int64_t role_id, lk_workspace **out, size_t *n,
                               lk_error *err);

    /* users, ordered by id; reads fill grants */
    lk_code (*user_list)(lk_store *s, lk_arena *a, const lk_user_filter *f, lk_user **out, size_t *n, lk_error *err);
    lk_code (*user_count)(lk_store *s, const lk_user_filter *f, int64_t cap, int64_t *n, lk_error *err);
    lk_code (*user_get)(lk_store *s, lk_arena *a, int64_t id, lk_user *out, lk_error *err);
    /* by email or user id */
    lk_code (*user_find)(lk_store *s, lk_arena *a, const char *key, lk_user *out, lk_error *err);
    lk_code (*user_insert)(lk_store *s, lk_user *u, lk_error *err);       /* row + grants; sets u->id */
    lk_code (*user_update)(lk_store *s, const lk_user *u, lk_error *err); /* every column + grants */
    lk_code (*user_delete)(lk_store *s, int64_t id, lk_error *err);       /* with grants and invitations */

    /* invitations */
    lk_code (*invitation_insert)(lk_store *s, lk_invitation *inv, lk_error *err); /* sets inv->id */
    lk_code (*invitation_for_user)(lk_store *s, lk_arena *a, int64_t user_id, lk_invitation *out, lk_error *err); /* newest */
    lk_code (*invitation_by_hash)(lk_store *s, lk_arena *a, const char *token_hash, lk_invitation *out, lk_error *err);
    /* accepted_at, expires_at, token_hash */
    lk_code (*invitation_update)(lk_store *s, const lk_invitation *inv, lk_error *err);

    /* services, ordered by id; reads fill user_email; f NULL: all */
    lk_code (*service_list)(lk_store *s, lk_arena *a, const lk_service_filter *f, lk_service **out, size_t *n,
                            lk_error *err);
    lk_code (*service_count)(lk_store *s, const lk_service_filter *f, int64_t cap, int64_t *n, lk_error *err);
    lk_code (*service_list_by_user)(lk_store *s, lk_arena *a, int64_t user_id, lk_service **out, size_t *n, lk_error *err);
    lk_code (*service_find)(lk_store *s, lk_arena *a, const char *name, lk_service *out, lk_error *err);
    lk_code (*service_find_client)(lk_store *s, lk_arena *a, const char *client_id, lk_service *out, lk_error *err);
    lk_code (*service_insert)(lk_store *s, lk_service *svc, lk_error *err); /* sets svc->id */
    lk_code (*service_update)(lk_store *s, const lk_service *svc, lk_error *err);
    lk_code (*service_delete)(lk_store *s, int64_t id, lk_error *err);

    /* --- what the server keeps (migrations 0002, 0005) --- */

    /* API-only users ordered by id, one row per role held (in any workspace; a role
     * held in several workspaces may repeat), role_id 0 for a user holding none. Only
     * id, email, expires_at, api_only and status are filled; grants stays empty. */
    lk_code (*api_user_role_scan)(lk_store *s, lk_user_role_fn fn, void *ctx, lk_error *err);
    /* the same rows for one user; fn is never called when id is no API-only user */
    lk_code (*api_user_get)(lk_store *s, int64_t id, lk_user_role_fn fn, void *ctx, lk_error *err);
    /* services ordered by id, each once; description and user_email are NULL */
    lk_code (*service_scan)(lk_store *s, lk_service_fn fn, void *ctx, lk_error *err);
    /* one service by id, as service_scan fills it; LK_ENOTFOUND */
    lk_code (*service_get)(lk_store *s, lk_arena *a, int64_t id, lk_service *out, lk_error *err);

    /*
     * The change feed. Every committed change of what the server reads appends rows
     * (seq, kind, id) in its own transaction (the SQLite schema does it with
     * triggers). An implementation must make rows visible in seq order: once a row
     * is visible, no row with a smaller seq may appear later (SQLite: one writer at
     * a time; PostgreSQL: appends serialised by a transaction-level advisory lock).
     */
    /* a consistent read view until snapshot_end (reads only; not inside begin()) */
    lk_code (*snapshot_begin)(lk_store *s, lk_error *err);
    void (*snapshot_end)(lk_store *s);
    /* at most max rows with seq > after, in seq order */
    lk_code (*changes_since)(lk_store *s, lk_arena *a, int64_t after, size_t max, lk_change **out, size_t *n,
                             lk_error *err);
    /* the highest seq given so far (0: none yet; pruned rows included) and the highest
     * seq pruned (rows up to it are gone) */
    lk_code (*changes_state)(lk_store *s, int64_t *head, int64_t *pruned, lk_error *err);
    /* a row for a change no trigger sees (a rotated key file); inside begin() */
    lk_code (*change_append)(lk_store *s, lk_change_kind kind, int64_t id, int64_t at, lk_error *err);
    /* removes rows older than `before` (seconds) and all but the newest `keep`, the
     * oldest first and at most `max` of them; inside begin(); *removed (may be NULL)
     * tells how many */
    lk_code (*changes_prune)(lk_store *s, int64_t before, int64_t keep, int64_t max, int64_t *removed,
                             lk_error *err);

    /* revoked access tokens; insert is LK_OK when the token id is stored already */
    lk_code (*revocation_insert)(lk_store *s, const lk_revocation *r, lk_error *err);
    lk_code (*revocation_get)(lk_store *s, lk_arena *a, int64_t id, lk_revocation *out, lk_error *err);
    /* those expiring at or after `since`, ordered by id */
    lk_code (*revocation_scan)(lk_store *s, int64_t since, lk_revocation_fn fn, void *ctx, lk_error *err);
    lk_code (*revocation_purge)(lk_store *s, int64_t expired_before, lk_error *err);

    /* instance settings: text values by key ("limits.daily", "allowlist.enabled", ...) */
    lk_code (*setting_get)(lk_store *s, lk_arena *a, const char *key, const char **value, lk_error *err); /* LK_ENOTFOUND */
    lk_code (*setting_set)(lk_store *s, const char *key, const char *value, int64_t now, lk_error *err);

    /* the IP allowlist: normalised CIDR texts, ordered by id */
    lk_code (*allow_list)(lk_store *s, lk_arena *a, const char ***cidrs, size_t *n, lk_error *err);
    lk_code (*allow_insert)(lk_store *s, const char *cidr, int64_t now, lk_error *err);  /* LK_EEXISTS */
    lk_code (*allow_delete)(lk_store *s, const char *cidr, lk_error *err);               /* LK_ENOTFOUND */

    /* the gateway's routes (migration 0008), ordered by id */
    lk_code (*gwroute_list)(lk_store *s, lk_arena *a, lk_gw_route **out, size_t *n, lk_error *err);
    lk_code (*gwroute_insert)(lk_store *s, lk_gw_route *r, lk_error *err);    /* sets r->id; LK_EEXISTS */
    lk_code (*gwroute_delete)(lk_store *s, int64_t id, lk_error *err);        /* LK_ENOTFOUND */

    /* per-user limits, ordered by user id; reads fill user_email */
    lk_code (*user_limits_list)(lk_store *s, lk_arena *a, lk_user_limits **out, size_t *n, lk_error *err);
    lk_code (*user_limits_set)(lk_store *s, const lk_user_limits *l, lk_error *err);   /* insert or replace */
    lk_code (*user_limits_delete)(lk_store *s, int64_t user_id, lk_error *err);         /* LK_OK if absent */

    /* daily counts: *_add adds each record's count to the stored one (creating it) */
    lk_code (*usage_add)(lk_store *s, const lk_usage_rec *recs, size_t n, lk_error *err);
    lk_code (*errors_add)(lk_store *s, const lk_error_rec *recs, size_t n, lk_error *err);
    /* records with from_day <= day <= to_day, ordered by day, then user id / code */
    lk_code (*usage_list)(lk_store *s, lk_arena *a, const char *from_day, const char *to_day,
                          lk_usage_rec **out, size_t *n, lk_error *err);
    lk_code (*errors_list)(lk_store *s, lk_arena *a, const char *from_day, const char *to_day,
                           lk_error_rec **out, size_t *n, lk_error *err);

    /*
     * Limits across processes (migration 0009; docs/server.md#limits-across-processes).
     * Each server process publishes absolute counts under its own id and reads the
     * others' sums. An implementation must guarantee: limit_counts_put replaces the
     * process's rows of the given keys (scope, kind, bucket) in one step inside
     * begin(), and a limit_counts_others that starts after that commit sees them;
     * rows of other processes are summed per (scope, kind, bucket). Nothing else is
     * required (no lock beyond the transaction's own): the bound the server states
     * comes from how often processes publish, not from the store.
     */
    /* sets this process's counts (n replaces the stored one); every row stamped `at` */
    lk_code (*limit_counts_put)(lk_store *s, const char *process, const lk_limit_count *recs, size_t n, int64_t at,
                                lk_error *err);
    /* the sums over every other process: kind 'r' (seconds of the limiters' clock) with
     * bucket > since_second, kind
     * 'd' with bucket == day, kind 'c' stamped after alive_after, kind 't' with bucket
     * == window */
    lk_code (*limit_counts_others)(lk_store *s, lk_arena *a, const char *process, int64_t since_second,
                                   int64_t day, int64_t alive_after, int64_t window, lk_limit_count **out,
                                   size_t *n, lk_error *err);
    /* removes 'r' rows of seconds before before_second, 'd' rows of days before
     * before_day and 'c' and 't' rows stamped before dead_before; inside begin() */
    lk_code (*limit_counts_prune)(lk_store *s, int64_t before_second, int64_t before_day, int64_t dead_before,
                                  lk_error *err);

    /* waits up to timeout_ms for a notification that the change feed grew (another
     * process committed); *woken says whether one came. NULL when the store has none
     * (SQLite: the feed is polled). Not inside a transaction. */
    lk_code (*wait_change)(lk_store *s, int64_t timeout_ms, bool *woken, lk_error *err);

    /* --- the console (migration 0003) --- */

    /* sessions: by the hash of their token */
    lk_code (*session_insert)(lk_store *s, lk_session *sess, lk_error *err);  /* sets sess->id */
    lk_code (*session_find)(lk_store *s, lk_arena *a, const char *token_hash, lk_session *out, lk_error *err);
    lk_code (*session_touch)(lk_store *s, int64_t id, int64_t at, lk_error *err);
    lk_code (*session_delete)(lk_store *s, int64_t id, lk_error *err);             /* LK_OK if absent */
    /* every session of the user but except_id (0: all) */
    lk_code (*session_delete_user)(lk_store *s, int64_t user_id, int64_t except_id, lk_error *err);
    lk_code (*session_purge)(lk_store *s, int64_t idle_before, int64_t now, lk_error *err);

    /* the login history, newest first */
    lk_code (*login_insert)(lk_store *s, lk_login_rec *rec, lk_error *err);      /* sets rec->id */
    lk_code (*login_list)(lk_store *s, lk_arena *a, const lk_login_filter *f, lk_login_rec **out, size_t *n,
                          lk_error *err);
    lk_code (*login_count)(lk_store *s, const lk_login_filter *f, int64_t cap, int64_t *n, lk_error *err);

    /* --- email (migration 0004) --- */

    /* the queue; mail_insert sets m->id */
    lk_code (*mail_insert)(lk_store *s, lk_mail_rec *m, lk_error *err);
    /* the queued message due first (next_at <= now, then lowest id); LK_ENOTFOUND when none */
    lk_code (*mail_due)(lk_store *s, lk_arena *a, int64_t now, lk_mail_rec *out, lk_error *err);
    /* status, attempts, next_at, done_at, last_error, delivery, recipient, to_name,
     * user_id, link_id, lang of the
     * message whose attempts are still `was_attempts` (the claim it was read with):
     * LK_ENOTFOUND when another attempt took it meanwhile (the lease ran out) */
    lk_code (*mail_update)(lk_store *s, const lk_mail_rec *m, int was_attempts, lk_error *err);
    lk_code (*mail_get)(lk_store *s, lk_arena *a, int64_t id, lk_mail_rec *out, lk_error *err);
    /* newest first */
    lk_code (*mail_list)(lk_store *s, lk_arena *a, const lk_mail_filter *f, lk_mail_rec **out, size_t *n,
                         lk_error *err);
    lk_code (*mail_count)(lk_store *s, const lk_mail_filter *f, int64_t cap, int64_t *n, lk_error *err);
    /* how many messages are in each state: queued, sent, failed, cancelled (in that order) */
    lk_code (*mail_counts)(lk_store *s, int64_t counts[4], lk_error *err);

    /* password resets; reset_insert sets r->id; reset_update writes token_hash, expires_at, used_at */
    lk_code (*reset_insert)(lk_store *s, lk_reset *r, lk_error *err);
    lk_code (*reset_get)(lk_store *s, lk_arena *a, int64_t id, lk_reset *out, lk_error *err);
    lk_code (*reset_by_hash)(lk_store *s, lk_arena *a, const char *token_hash, lk_reset *out, lk_error *err);
    lk_code (*reset_for_user)(lk_store *s, lk_arena *a, int64_t user_id, lk_reset *out, lk_error *err); /* newest */
    lk_code (*reset_update)(lk_store *s, const lk_reset *r, lk_error *err);
    /* marks every unused reset of the user used at `at` (their links stop working) */
    lk_code (*reset_end_user)(lk_store *s, int64_t user_id, int64_t at, lk_error *err);

    /* users (with grants) whose expiry lies in (from, to] and who have no notice row yet
     * for the notice due at `from` (1 day ahead when the expiry is within a day, else 7),
     * ordered by expiry */
    lk_code (*users_expiring)(lk_store *s, lk_arena *a, int64_t from, int64_t to, lk_user **out, size_t *n,
                              lk_error *err);
    /* records that the notice `days` ahead of this expiry is queued; *fresh is false
     * when it was already */
    lk_code (*notice_mark)(lk_store *s, int64_t user_id, int64_t expires_at, int days, int64_t now, bool *fresh,
                           lk_error *err);

    /* audit trail, newest first */
    lk_code (*audit_insert)(lk_store *s, lk_audit_event *ev, lk_error *err); /* sets ev->id */
    lk_code (*audit_list)(lk_store *s, lk_arena *a, const lk_audit_filter *f, lk_audit_event **out, size_t *n, lk_error *err);
    lk_code (*audit_count)(lk_store *s, const lk_audit_filter *f, int64_t cap, int64_t *n, lk_error *err);
} lk_store_ops;

struct lk_store {
    const lk_store_ops *ops;
};

/* How a front end opens the store (docs/cli.md: which command uses which). */
typedef enum lk_store_mode {
    LK_STORE_READ,      /* an existing latchkey database whose schema is this binary's: read
                         * only, never the write lock, never created, never migrated */
    LK_STORE_WRITE,     /* read and write; a missing or empty file becomes a new database;
                         * an older schema is refused ("run latchkey migrate") */
    LK_STORE_MIGRATE,   /* the same, and an older schema is brought up to date (serve, migrate) */
} lk_store_mode;

/* What a location holds, as lk_store_inspect() finds it. */
typedef enum lk_db_state {
    LK_DB_MISSING,      /* no file */
    LK_DB_EMPTY,        /* a file with nothing in it: free to become a latchkey database */
    LK_DB_CURRENT,      /* latchkey's, with every migration this binary knows */
    LK_DB_OLDER,        /* latchkey's, some migrations still to apply */
    LK_DB_NEWER,        /* latchkey's, written by a newer latchkey */
    LK_DB_FOREIGN,      /* some other program's database: never touched */
} lk_db_state;

typedef struct lk_store_info {
    lk_db_state state;
    int version;        /* the highest migration recorded (0: none) */
    int known;          /* the highest migration this binary knows */
    int missing;        /* how many of this binary's migrations are not recorded (older: > 0;
                         * numbers need not be contiguous, so version may equal known) */
    uint32_t application_id; /* as the file says (0 for a file made before latchkey set it) */
} lk_store_info;

/*
 * Opens the store a location names: a file path (SQLite), or "sqlite:PATH", as mode
 * says. A database that is neither empty nor latchkey's is refused (LK_ESCHEMA) and
 * left as it was; so is a schema newer than this binary, in every mode; an older
 * one is refused except by LK_STORE_MIGRATE. LK_STORE_READ refuses a missing or
 * empty file (LK_ENOTFOUND); the others create it (and its folder). Returns NULL with
 * err set on failure. Close with s->ops->close(s).
 */
lk_store *lk_store_open(const char *location, lk_store_mode mode, lk_error *err);

/* What the location holds, read without writing anything (see lk_db_state). */
lk_code lk_store_inspect(const char *location, lk_store_info *out, lk_error *err);

/* The SQLite file a location names (a pointer into location), or NULL with err set
 * when it names no SQLite file (PostgreSQL, another scheme, nothing). */
const char *lk_store_sqlite_path(const char *location, lk_error *err);

/* The location to use: explicit (may be NULL), else $LATCHKEY_DB, else ./data/latchkey.db */
const char *lk_store_default_location(const char *explicit_location);

/* The file a location names (SQLite); false (out "") for a location that is not a
 * file, or a path longer than out_len. Files that belong next to the database (the
 * token key file) are named after it. */
bool lk_store_file_path(const char *location, char *out, size_t out_len);

/* The location as it may be shown (messages, logs, JSON): a URL's password, in its
 * user part or as a password= parameter, becomes "***". out gets at most out_len
 * bytes (cut short, never a password). */
void lk_store_redact(const char *location, char *out, size_t out_len);

/* The folder where files that go with the database live when it is not a file
 * (PostgreSQL): the token key file's folder, else "." — into out. For a SQLite
 * location, the database file's folder. */
void lk_store_side_dir(const char *location, const char *key_file, char *out, size_t out_len);

#endif
