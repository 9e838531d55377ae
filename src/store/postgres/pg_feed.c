/*
 * pg_feed — the change feed and the token revocations in the PostgreSQL store
 * (migration 0007, the schema of the SQLite store's 0005).
 *
 * Rows of `changes` are written by the schema's triggers in the transaction of the
 * change itself; these ops read them, add the rows no trigger sees (a rotated key
 * file) and prune. Every append takes the transaction-level advisory lock that
 * begin() takes (the trigger function lk_feed_append), so transactions that append
 * commit one at a time, in seq order: a reader that has seen seq N has seen all
 * before it. The same function sends NOTIFY latchkey_changes, delivered at commit,
 * which wakes every node's feed (store_pg.c: wait_change). A read view
 * (snapshot_begin) is a REPEATABLE READ transaction: the rows a change names are
 * read as of the same instant as the feed itself.
 */
#include "store/postgres/pg_internal.h"

#include <string.h>

static const char *const kind_names[] = {
    [LK_CHANGE_USER] = "user",
    [LK_CHANGE_SERVICE] = "service",
    [LK_CHANGE_ROLE] = "role",
    [LK_CHANGE_PERMISSION] = "permission",
    [LK_CHANGE_SETTINGS] = "settings",
    [LK_CHANGE_ALLOWLIST] = "allowlist",
    [LK_CHANGE_REVOCATION] = "revocation",
    [LK_CHANGE_KEYS] = "keys",
};

static lk_change_kind kind_of(const unsigned char *text)
{
    for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
        if (text && kind_names[i] && strcmp((const char *)text, kind_names[i]) == 0)
            return (lk_change_kind)i;
    return LK_CHANGE_OTHER;
}

/* --- read views ------------------------------------------------------------ */

/* REPEATABLE READ: every statement until snapshot_end sees the same committed state */
static const char SQL_SNAP_BEGIN[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

lk_code lk_pg_snapshot_begin(lk_store *s, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "snapshot_begin", .noun = "read"};
    return lk_pg_command(lk_pg_of(s), SQL_SNAP_BEGIN, &c, err);
}

void lk_pg_snapshot_end(lk_store *s)
{
    static const lk_pg_ctx c = {.op = "snapshot_end", .noun = "read"};
    lk_pg *q = lk_pg_of(s);
    if (!lk_pg_in_tx(q))
        return;
    /* a read-only transaction: ending it cannot lose anything */
    if (lk_pg_command(q, "COMMIT", &c, NULL) != LK_OK && lk_pg_in_tx(q))
        lk_pg_command(q, "ROLLBACK", &c, NULL);
}

/* --- the feed ---------------------------------------------------------------- */

static const char SQL_CHANGES_SINCE[] = "SELECT seq, kind, id, at FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2";
static const char SQL_CHANGES_STATE[] =
    "SELECT (SELECT coalesce(max(seq), 0) FROM changes), (SELECT seq FROM changes_pruned WHERE id = 1)";
static const char SQL_CHANGE_APPEND[] = "INSERT INTO changes (kind, id, at) VALUES ($1, $2, $3)";
/* the first row young enough to keep (rows are in time order as they are in seq order) */
static const char SQL_CHANGES_FIRST_KEPT[] = "SELECT seq FROM changes WHERE at >= $1 ORDER BY seq LIMIT 1";
static const char SQL_CHANGES_DELETE[] = "DELETE FROM changes WHERE seq <= $1";
static const char SQL_CHANGES_PRUNED[] = "UPDATE changes_pruned SET seq = greatest(seq, $1::bigint) WHERE id = 1";

static void change_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_change *ch = out;
    ch->seq = lk_pg_int(st, 0);
    ch->kind = kind_of(lk_pg_column(st, 1));
    ch->id = lk_pg_int(st, 2);
    ch->at = lk_pg_int(st, 3);
}

lk_code lk_pg_changes_since(lk_store *s, lk_arena *a, int64_t after, size_t max, lk_change **out, size_t *n,
                            lk_error *err)
{
    static const lk_pg_ctx c = {.op = "changes_since", .noun = "change"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_CHANGES_SINCE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, after);
    lk_pg_bind_int(q, st, 2, (int64_t)max);
    return lk_pg_rows(q, st, a, sizeof **out, change_row, (void **)out, n, &c, err);
}

static void two_ints(lk_arena *a, lk_pg_stmt *st, void *out)
{
    int64_t *v = out;
    v[0] = lk_pg_int(st, 0);
    v[1] = lk_pg_int(st, 1);
}

lk_code lk_pg_changes_state(lk_store *s, int64_t *head, int64_t *pruned, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "changes_state", .noun = "change"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_CHANGES_STATE, &c, &st, err);
    if (code != LK_OK)
        return code;
    int64_t v[2] = {0, 0};
    code = lk_pg_one(q, st, NULL, two_ints, v, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, LK_ESCHEMA, NULL, "changes_state: the feed's bookkeeping row is missing");
    /* every row pruned: the head is the last one pruned */
    *head = v[0] > v[1] ? v[0] : v[1];
    *pruned = v[1];
    return code;
}

lk_code lk_pg_change_append(lk_store *s, lk_change_kind kind, int64_t id, int64_t at, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "change_append", .noun = "change"};
    if ((size_t)kind >= sizeof kind_names / sizeof kind_names[0] || !kind_names[kind])
        return lk_fail(err, LK_EINVAL, "kind", "change_append: no such kind of change");
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_CHANGE_APPEND, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text(q, st, 1, kind_names[kind]);
    lk_pg_bind_int(q, st, 2, id);
    lk_pg_bind_int(q, st, 3, at);
    return lk_pg_exec(q, st, &c, err);
}

static void one_int(lk_arena *a, lk_pg_stmt *st, void *out)
{
    *(int64_t *)out = lk_pg_int(st, 0);
}

lk_code lk_pg_changes_prune(lk_store *s, int64_t before, int64_t keep, int64_t max, int64_t *removed,
                            lk_error *err)
{
    static const lk_pg_ctx c = {.op = "changes_prune", .noun = "change"};
    lk_pg *q = lk_pg_of(s);
    if (removed)
        *removed = 0;
    int64_t head = 0, pruned = 0;
    lk_code code = lk_pg_changes_state(s, &head, &pruned, err);
    if (code != LK_OK)
        return code;
    /* everything older than `before`: up to the row before the first one kept */
    lk_pg_stmt *st;
    code = lk_pg_prepare(q, SQL_CHANGES_FIRST_KEPT, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, before);
    int64_t first_kept = 0;
    code = lk_pg_one(q, st, NULL, one_int, &first_kept, &c, err);
    int64_t cut = code == LK_ENOTFOUND ? head : first_kept - 1;
    if (code != LK_OK && code != LK_ENOTFOUND)
        return code;
    if (keep >= 0 && head - keep > cut)
        cut = head - keep;
    if (max > 0 && cut - pruned > max)
        cut = pruned + max; /* rows are dense above the pruned mark: about max of them */
    if (cut <= pruned)
        return LK_OK;
    code = lk_pg_prepare(q, SQL_CHANGES_DELETE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, cut);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK && removed)
        *removed = q->changes;
    if (code == LK_OK)
        code = lk_pg_prepare(q, SQL_CHANGES_PRUNED, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, cut);
    return lk_pg_exec(q, st, &c, err);
}

/* --- token revocations ---------------------------------------------------------- */

static const char SQL_REV_INSERT[] =
    "INSERT INTO token_revocations (token_id, service_id, expires_at, revoked_at) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT(token_id) DO NOTHING";
static const char SQL_REV_GET[] =
    "SELECT id, token_id, service_id, expires_at, revoked_at FROM token_revocations WHERE id = $1";
static const char SQL_REV_SCAN[] =
    "SELECT id, token_id, service_id, expires_at, revoked_at FROM token_revocations WHERE expires_at >= $1"
    " ORDER BY id";
static const char SQL_REV_PURGE[] = "DELETE FROM token_revocations WHERE expires_at < $1";

static void rev_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_revocation *r = out;
    r->id = lk_pg_int(st, 0);
    r->token_id = lk_pg_text(a, st, 1);
    r->service_id = lk_pg_int(st, 2);
    r->expires_at = lk_pg_int(st, 3);
    r->revoked_at = lk_pg_int(st, 4);
}

lk_code lk_pg_revocation_insert(lk_store *s, const lk_revocation *r, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "revocation_insert", .noun = "revocation"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_REV_INSERT, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text(q, st, 1, r->token_id);
    lk_pg_bind_int(q, st, 2, r->service_id);
    lk_pg_bind_int(q, st, 3, r->expires_at);
    lk_pg_bind_int(q, st, 4, r->revoked_at);
    return lk_pg_exec(q, st, &c, err);
}

lk_code lk_pg_revocation_get(lk_store *s, lk_arena *a, int64_t id, lk_revocation *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "revocation_get", .noun = "revocation"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_REV_GET, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, id);
    code = lk_pg_one(q, st, a, rev_row, out, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "revocation", "no revocation has the id %lld", (long long)id);
    return code;
}

lk_code lk_pg_revocation_scan(lk_store *s, int64_t since, lk_revocation_fn fn, void *ctx, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "revocation_scan", .noun = "revocation"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_REV_SCAN, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, since);
    int rc = LK_PG_DONE;
    while (code == LK_OK && (rc = lk_pg_step(q, st, &c, err)) == LK_PG_ROW) {
        const unsigned char *token_id = lk_pg_column(st, 1);
        lk_revocation r = {
            .id = lk_pg_int(st, 0),
            .token_id = token_id ? (const char *)token_id : "",
            .service_id = lk_pg_int(st, 2),
            .expires_at = lk_pg_int(st, 3),
            .revoked_at = lk_pg_int(st, 4),
        };
        code = fn(ctx, &r);
    }
    if (code == LK_OK && rc != LK_PG_DONE)
        code = (lk_code)rc;
    lk_pg_reset(q, st);
    return code;
}

lk_code lk_pg_revocation_purge(lk_store *s, int64_t expired_before, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "revocation_purge", .noun = "revocation"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_REV_PURGE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, expired_before);
    return lk_pg_exec(q, st, &c, err);
}
