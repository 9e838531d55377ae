/*
 * pg_server — what the server keeps in the PostgreSQL store (migration 0002):
 * instance settings, the IP allowlist, per-user limits, and the daily usage and
 * error counts. (The change feed and token revocations: pg_feed.c.)
 *
 * Invariants:
 *  - Changes to settings, the allowlist and user limits reach the change feed
 *    through the schema's triggers, never through these ops.
 *  - usage_add / errors_add add to the stored counts (an upsert per record) inside
 *    a savepoint: a batch is counted whole or not at all.
 */
#include "store/postgres/pg_internal.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- settings -------------------------------------------------------------- */

static const char SQL_SETTING_GET[] = "SELECT value FROM settings WHERE key = $1";
static const char SQL_SETTING_SET[] =
    "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)"
    " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";

static void text_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    *(const char **)out = lk_pg_text(a, st, 0);
}

lk_code lk_pg_setting_get(lk_store *s, lk_arena *a, const char *key, const char **value, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "setting_get", .noun = "setting"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_SETTING_GET, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text0(q, st, 1, key);
    code = lk_pg_one(q, st, a, text_row, value, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "setting", "no setting '%s'", key ? key : "");
    return code;
}

lk_code lk_pg_setting_set(lk_store *s, const char *key, const char *value, int64_t now, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "setting_set", .noun = "setting"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_SETTING_SET, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text(q, st, 1, key);
    lk_pg_bind_text(q, st, 2, value);
    lk_pg_bind_int(q, st, 3, now);
    return lk_pg_exec(q, st, &c, err);
}

/* --- the IP allowlist ------------------------------------------------------ */

static const char SQL_ALLOW_LIST[] = "SELECT cidr FROM allowlist ORDER BY id";
static const char SQL_ALLOW_INSERT[] = "INSERT INTO allowlist (cidr, created_at) VALUES ($1, $2)";
static const char SQL_ALLOW_DELETE[] = "DELETE FROM allowlist WHERE cidr = $1";

lk_code lk_pg_allow_list(lk_store *s, lk_arena *a, const char ***cidrs, size_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "allow_list", .noun = "allowlist entry"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_ALLOW_LIST, &c, &st, err);
    if (code != LK_OK)
        return code;
    return lk_pg_rows(q, st, a, sizeof **cidrs, text_row, (void **)cidrs, n, &c, err);
}

lk_code lk_pg_allow_insert(lk_store *s, const char *cidr, int64_t now, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "allow_insert", .noun = "allowlist entry"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_ALLOW_INSERT, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text(q, st, 1, cidr);
    lk_pg_bind_int(q, st, 2, now);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_EEXISTS)
        return lk_fail(err, code, "cidr", "%s is on the allowlist already", cidr);
    return code;
}

lk_code lk_pg_allow_delete(lk_store *s, const char *cidr, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "allow_delete", .noun = "allowlist entry"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_ALLOW_DELETE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text0(q, st, 1, cidr);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK && q->changes == 0)
        return lk_fail(err, LK_ENOTFOUND, "cidr", "%s is not on the allowlist", cidr ? cidr : "");
    return code;
}

/* --- per-user limits ------------------------------------------------------- */

static const char SQL_ULIM_LIST[] =
    "SELECT l.user_id, u.email, l.rate_calls, l.rate_seconds, l.daily, l.concurrent, l.updated_at"
    " FROM user_limits l JOIN users u ON u.id = l.user_id ORDER BY l.user_id";
static const char SQL_ULIM_SET[] =
    "INSERT INTO user_limits (user_id, rate_calls, rate_seconds, daily, concurrent, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, $6)"
    " ON CONFLICT(user_id) DO UPDATE SET rate_calls = excluded.rate_calls,"
    " rate_seconds = excluded.rate_seconds, daily = excluded.daily,"
    " concurrent = excluded.concurrent, updated_at = excluded.updated_at";
static const char SQL_ULIM_DELETE[] = "DELETE FROM user_limits WHERE user_id = $1";

static void ulim_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_user_limits *l = out;
    l->user_id = lk_pg_int(st, 0);
    l->user_email = lk_pg_text(a, st, 1);
    l->limits.rate_calls = lk_pg_int(st, 2);
    l->limits.rate_seconds = lk_pg_int(st, 3);
    l->limits.daily = lk_pg_int(st, 4);
    l->limits.concurrent = lk_pg_int(st, 5);
    l->updated_at = lk_pg_int(st, 6);
}

lk_code lk_pg_user_limits_list(lk_store *s, lk_arena *a, lk_user_limits **out, size_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "user_limits_list", .noun = "user limit"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_ULIM_LIST, &c, &st, err);
    if (code != LK_OK)
        return code;
    return lk_pg_rows(q, st, a, sizeof **out, ulim_row, (void **)out, n, &c, err);
}

lk_code lk_pg_user_limits_set(lk_store *s, const lk_user_limits *l, lk_error *err)
{
    static const lk_pg_ctx c = {
        .op = "user_limits_set", .noun = "user limit", .fk_code = LK_ENOTFOUND,
        .fk_msg = "the user the limits are for does not exist",
    };
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_ULIM_SET, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, l->user_id);
    lk_pg_bind_int(q, st, 2, l->limits.rate_calls);
    lk_pg_bind_int(q, st, 3, l->limits.rate_seconds);
    lk_pg_bind_int(q, st, 4, l->limits.daily);
    lk_pg_bind_int(q, st, 5, l->limits.concurrent);
    lk_pg_bind_int(q, st, 6, l->updated_at);
    return lk_pg_exec(q, st, &c, err);
}

lk_code lk_pg_user_limits_delete(lk_store *s, int64_t user_id, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "user_limits_delete", .noun = "user limit"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_ULIM_DELETE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, user_id);
    return lk_pg_exec(q, st, &c, err);
}

/* --- daily counts ---------------------------------------------------------- */

/* the newest email wins, so that a renamed user's history shows the new one */
static const char SQL_USAGE_ADD[] =
    "INSERT INTO usage_daily (day, user_id, user_email, count) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT(day, user_id) DO UPDATE SET count = usage_daily.count + excluded.count,"
    " user_email = excluded.user_email";
static const char SQL_ERRORS_ADD[] =
    "INSERT INTO errors_daily (day, code, count) VALUES ($1, $2, $3)"
    " ON CONFLICT(day, code) DO UPDATE SET count = errors_daily.count + excluded.count";
static const char SQL_USAGE_LIST[] =
    "SELECT day, user_id, user_email, count FROM usage_daily"
    " WHERE day >= $1 AND day <= $2 ORDER BY day, user_id";
static const char SQL_ERRORS_LIST[] =
    "SELECT day, code, count FROM errors_daily"
    " WHERE day >= $1 AND day <= $2 ORDER BY day, code";

static void usage_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_usage_rec *u = out;
    u->day = lk_pg_text(a, st, 0);
    u->user_id = lk_pg_int(st, 1);
    u->user_email = lk_pg_text(a, st, 2);
    u->count = lk_pg_int(st, 3);
}

static void error_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_error_rec *e = out;
    e->day = lk_pg_text(a, st, 0);
    e->code = lk_pg_text(a, st, 1);
    e->count = lk_pg_int(st, 2);
}

static lk_code usage_add_all(lk_pg *q, const lk_usage_rec *recs, size_t n, const lk_pg_ctx *c, lk_error *err)
{
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_USAGE_ADD, c, &st, err);
    for (size_t i = 0; i < n && code == LK_OK; i++) {
        lk_pg_bind_text(q, st, 1, recs[i].day);
        lk_pg_bind_int(q, st, 2, recs[i].user_id);
        lk_pg_bind_text0(q, st, 3, recs[i].user_email);
        lk_pg_bind_int(q, st, 4, recs[i].count);
        code = lk_pg_exec(q, st, c, err);
    }
    return code;
}

static lk_code errors_add_all(lk_pg *q, const lk_error_rec *recs, size_t n, const lk_pg_ctx *c, lk_error *err)
{
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_ERRORS_ADD, c, &st, err);
    for (size_t i = 0; i < n && code == LK_OK; i++) {
        lk_pg_bind_text(q, st, 1, recs[i].day);
        lk_pg_bind_text(q, st, 2, recs[i].code);
        lk_pg_bind_int(q, st, 3, recs[i].count);
        code = lk_pg_exec(q, st, c, err);
    }
    return code;
}

lk_code lk_pg_usage_add(lk_store *s, const lk_usage_rec *recs, size_t n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "usage_add", .noun = "usage count"};
    if (n == 0)
        return LK_OK;
    lk_pg *q = lk_pg_of(s);
    lk_code code = lk_pg_savepoint(q, &c, err);
    if (code != LK_OK)
        return code;
    return lk_pg_savepoint_end(q, usage_add_all(q, recs, n, &c, err), &c, err);
}

lk_code lk_pg_errors_add(lk_store *s, const lk_error_rec *recs, size_t n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "errors_add", .noun = "error count"};
    if (n == 0)
        return LK_OK;
    lk_pg *q = lk_pg_of(s);
    lk_code code = lk_pg_savepoint(q, &c, err);
    if (code != LK_OK)
        return code;
    return lk_pg_savepoint_end(q, errors_add_all(q, recs, n, &c, err), &c, err);
}

lk_code lk_pg_usage_list(lk_store *s, lk_arena *a, const char *from_day, const char *to_day,
                         lk_usage_rec **out, size_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "usage_list", .noun = "usage count"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_USAGE_LIST, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text0(q, st, 1, from_day);
    lk_pg_bind_text0(q, st, 2, to_day);
    return lk_pg_rows(q, st, a, sizeof **out, usage_row, (void **)out, n, &c, err);
}

lk_code lk_pg_errors_list(lk_store *s, lk_arena *a, const char *from_day, const char *to_day,
                          lk_error_rec **out, size_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "errors_list", .noun = "error count"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_ERRORS_LIST, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text0(q, st, 1, from_day);
    lk_pg_bind_text0(q, st, 2, to_day);
    return lk_pg_rows(q, st, a, sizeof **out, error_row, (void **)out, n, &c, err);
}

/* --- limits across nodes (migration 0009) ----------------------------------- */

/*
 * One statement per sync, not one per row: a node's counts travel as four arrays
 * (scopes, kinds, buckets, counts), so a sync costs a round trip to the database
 * whatever the number of limited scopes. A key given twice counts its last value.
 */
static const char SQL_LIMIT_PUT[] =
    "INSERT INTO limit_counts (scope, kind, bucket, process, n, at)"
    " SELECT DISTINCT ON (s, k, b) s, k, b, $5::text, v, $6::bigint"
    " FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) WITH ORDINALITY AS u(s, k, b, v, o)"
    " ORDER BY s, k, b, o DESC"
    " ON CONFLICT (scope, kind, bucket, process) DO UPDATE SET n = excluded.n, at = excluded.at";
static const char SQL_LIMIT_OTHERS[] =
    "SELECT scope, kind, bucket, sum(n) FROM limit_counts"
    " WHERE kind = 'r' AND bucket > $2 AND process <> $1 GROUP BY scope, kind, bucket"
    " UNION ALL SELECT scope, kind, bucket, sum(n) FROM limit_counts"
    " WHERE kind = 'd' AND bucket = $3 AND process <> $1 GROUP BY scope, kind, bucket"
    " UNION ALL SELECT scope, kind, bucket, sum(n) FROM limit_counts"
    " WHERE kind = 'c' AND bucket = 0 AND at > $4 AND process <> $1 GROUP BY scope, kind, bucket"
    " UNION ALL SELECT scope, kind, bucket, sum(n) FROM limit_counts"
    " WHERE kind = 't' AND bucket = $5 AND process <> $1 GROUP BY scope, kind, bucket";
static const char SQL_LIMIT_PRUNE[] =
    "DELETE FROM limit_counts WHERE (kind = 'r' AND bucket < $1) OR (kind = 'd' AND bucket < $2)"
    " OR (kind IN ('c', 't') AND at < $3)";

/* a growing text buffer for the array literals */
typedef struct lit {
    char *p;
    size_t len, cap;
} lit;

static void lit_put(lit *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = 2 * (b->len + n + 1) + 64;
        b->p = lk_xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* appends one element: a quoted text (" and \ escaped by \), or a number */
static void lit_text(lit *b, const char *s)
{
    lit_put(b, b->len > 1 ? ",\"" : "\"", b->len > 1 ? 2 : 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            lit_put(b, "\\", 1);
        lit_put(b, s, 1);
    }
    lit_put(b, "\"", 1);
}

static void lit_int(lit *b, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%s%lld", b->len > 1 ? "," : "", (long long)v);
    lit_put(b, num, (size_t)n);
}

lk_code lk_pg_limit_counts_put(lk_store *s, const char *process, const lk_limit_count *recs, size_t n, int64_t at,
                               lk_error *err)
{
    static const lk_pg_ctx c = {.op = "limit_counts_put", .noun = "limit count"};
    if (n == 0)
        return LK_OK;
    lk_pg *q = lk_pg_of(s);
    lit scopes = {0}, kinds = {0}, buckets = {0}, counts = {0};
    lit_put(&scopes, "{", 1);
    lit_put(&kinds, "{", 1);
    lit_put(&buckets, "{", 1);
    lit_put(&counts, "{", 1);
    for (size_t i = 0; i < n; i++) {
        char kind[2] = {recs[i].kind, '\0'};
        lit_text(&scopes, recs[i].scope ? recs[i].scope : "");
        lit_text(&kinds, kind);
        lit_int(&buckets, recs[i].bucket);
        lit_int(&counts, recs[i].n);
    }
    lit_put(&scopes, "}", 1);
    lit_put(&kinds, "}", 1);
    lit_put(&buckets, "}", 1);
    lit_put(&counts, "}", 1);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_LIMIT_PUT, &c, &st, err);
    if (code == LK_OK) {
        lk_pg_bind_text(q, st, 1, scopes.p);
        lk_pg_bind_text(q, st, 2, kinds.p);
        lk_pg_bind_text(q, st, 3, buckets.p);
        lk_pg_bind_text(q, st, 4, counts.p);
        lk_pg_bind_text0(q, st, 5, process);
        lk_pg_bind_int(q, st, 6, at);
        code = lk_pg_exec(q, st, &c, err);
    }
    free(scopes.p);
    free(kinds.p);
    free(buckets.p);
    free(counts.p);
    return code;
}

static void limit_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_limit_count *r = out;
    r->scope = lk_pg_text(a, st, 0);
    const unsigned char *kind = lk_pg_column(st, 1);
    r->kind = kind ? (char)kind[0] : '\0';
    r->bucket = lk_pg_int(st, 2);
    r->n = lk_pg_int(st, 3);
}

lk_code lk_pg_limit_counts_others(lk_store *s, lk_arena *a, const char *process, int64_t since_second, int64_t day,
                                  int64_t alive_after, int64_t window, lk_limit_count **out, size_t *n,
                                  lk_error *err)
{
    static const lk_pg_ctx c = {.op = "limit_counts_others", .noun = "limit count"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_LIMIT_OTHERS, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text0(q, st, 1, process);
    lk_pg_bind_int(q, st, 2, since_second);
    lk_pg_bind_int(q, st, 3, day);
    lk_pg_bind_int(q, st, 4, alive_after);
    lk_pg_bind_int(q, st, 5, window);
    return lk_pg_rows(q, st, a, sizeof **out, limit_row, (void **)out, n, &c, err);
}

lk_code lk_pg_limit_counts_prune(lk_store *s, int64_t before_second, int64_t before_day, int64_t dead_before,
                                 lk_error *err)
{
    static const lk_pg_ctx c = {.op = "limit_counts_prune", .noun = "limit count"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_LIMIT_PRUNE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, before_second);
    lk_pg_bind_int(q, st, 2, before_day);
    lk_pg_bind_int(q, st, 3, dead_before);
    return lk_pg_exec(q, st, &c, err);
}
