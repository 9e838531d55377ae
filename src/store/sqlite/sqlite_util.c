/*
 * sqlite_util — the statement cache, binding, stepping and error wording shared by
 * the ops of the SQLite store (see sqlite_internal.h for the invariants).
 *
 * The cache is a small array searched by the address of the static SQL text; a
 * connection uses a few dozen statements, so a linear scan costs less than the
 * hashing would. Statements are prepared SQLITE_PREPARE_PERSISTENT and live until
 * the store is closed.
 */
#include "store/sqlite/sqlite_internal.h"
#include "util/text.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lk_code lk_sq_prepare(lk_sq *q, const char *sql, const lk_sq_ctx *c, sqlite3_stmt **st, lk_error *err)
{
    for (size_t i = 0; i < q->n_cache; i++) {
        if (q->cache[i].sql == sql) {
            *st = q->cache[i].st;
            return LK_OK;
        }
    }
    sqlite3_stmt *fresh = NULL;
    int rc = sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &fresh, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(fresh);
        return lk_fail(err, LK_ESTORE, NULL, "%s: cannot prepare a statement: %s", c->op,
                       sqlite3_errmsg(q->db));
    }
    if (q->n_cache == q->cap_cache) {
        q->cap_cache = q->cap_cache ? 2 * q->cap_cache : 32;
        q->cache = lk_xrealloc(q->cache, q->cap_cache * sizeof *q->cache);
    }
    q->cache[q->n_cache++] = (lk_sq_cached){sql, fresh};
    *st = fresh;
    return LK_OK;
}

void lk_sq_reset(sqlite3_stmt *st)
{
    if (!st)
        return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

void lk_sq_cache_free(lk_sq *q)
{
    for (size_t i = 0; i < q->n_cache; i++)
        sqlite3_finalize(q->cache[i].st);
    free(q->cache);
    q->cache = NULL;
    q->n_cache = q->cap_cache = 0;
}

/* --- binding --------------------------------------------------------------- */

static void bind_result(lk_sq *q, int rc)
{
    if (rc != SQLITE_OK && q->bind_rc == SQLITE_OK)
        q->bind_rc = rc;
}

void lk_sq_bind_int(lk_sq *q, sqlite3_stmt *st, int i, int64_t v)
{
    bind_result(q, sqlite3_bind_int64(st, i, v));
}

void lk_sq_bind_time(lk_sq *q, sqlite3_stmt *st, int i, int64_t t)
{
    bind_result(q, t ? sqlite3_bind_int64(st, i, t) : sqlite3_bind_null(st, i));
}

void lk_sq_bind_text(lk_sq *q, sqlite3_stmt *st, int i, const char *s)
{
    bind_result(q, s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i));
}

void lk_sq_bind_text0(lk_sq *q, sqlite3_stmt *st, int i, const char *s)
{
    bind_result(q, sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT));
}

/* A bind that failed earlier makes the step fail, before SQLite runs anything. */
static lk_code check_binds(lk_sq *q, sqlite3_stmt *st, const lk_sq_ctx *c, lk_error *err)
{
    if (q->bind_rc == SQLITE_OK)
        return LK_OK;
    int rc = q->bind_rc;
    q->bind_rc = SQLITE_OK;
    lk_sq_reset(st);
    return lk_fail(err, LK_ESTORE, NULL, "%s: cannot bind a value: %s", c->op, sqlite3_errstr(rc));
}

/* --- stepping -------------------------------------------------------------- */

lk_code lk_sq_exec(lk_sq *q, sqlite3_stmt *st, const lk_sq_ctx *c, lk_error *err)
{
    lk_code code = check_binds(q, st, c, err);
    if (code != LK_OK)
        return code;
    int rc = sqlite3_step(st);
    while (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    code = rc == SQLITE_DONE ? LK_OK : lk_sq_fail(q, rc, c, err);
    lk_sq_reset(st);
    return code;
}

lk_code lk_sq_rows(lk_sq *q, sqlite3_stmt *st, lk_arena *a, size_t elem_size, lk_sq_row_fn fn,
                   void **out, size_t *n, const lk_sq_ctx *c, lk_error *err)
{
    *out = NULL;
    *n = 0;
    lk_code code = check_binds(q, st, c, err);
    if (code != LK_OK)
        return code;
    unsigned char *arr = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            size_t ncap = cap ? 2 * cap : 8;
            arr = lk_arena_grow(a, arr, cap * elem_size, ncap * elem_size);
            cap = ncap;
        }
        fn(a, st, arr + len * elem_size);
        len++;
    }
    code = rc == SQLITE_DONE ? LK_OK : lk_sq_fail(q, rc, c, err);
    lk_sq_reset(st);
    if (code != LK_OK)
        return code;
    *out = arr;
    *n = len;
    return LK_OK;
}

lk_code lk_sq_one(lk_sq *q, sqlite3_stmt *st, lk_arena *a, lk_sq_row_fn fn, void *out,
                  const lk_sq_ctx *c, lk_error *err)
{
    lk_code code = check_binds(q, st, c, err);
    if (code != LK_OK)
        return code;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        fn(a, st, out);
    code = rc == SQLITE_ROW ? LK_OK : rc == SQLITE_DONE ? LK_ENOTFOUND : lk_sq_fail(q, rc, c, err);
    lk_sq_reset(st);
    return code;
}

/* --- errors ---------------------------------------------------------------- */

/*
 * The column a constraint message names: "UNIQUE constraint failed: users.email"
 * → "email". Empty when the message names several columns or has another shape.
 * The message carries table and column names only, never a bound value.
 */
static void constraint_column(const char *msg, char *out, size_t cap)
{
    out[0] = '\0';
    const char *p = strstr(msg, "failed: ");
    if (!p)
        return;
    p += strlen("failed: ");
    if (strchr(p, ','))
        return;
    const char *dot = strrchr(p, '.');
    snprintf(out, cap, "%s", dot ? dot + 1 : p);
}

lk_code lk_sq_fail(lk_sq *q, int rc, const lk_sq_ctx *c, lk_error *err)
{
    const char *msg = sqlite3_errmsg(q->db);
    char col[LK_ERR_FIELD];
    constraint_column(msg, col, sizeof col);
    char words[LK_ERR_FIELD];
    snprintf(words, sizeof words, "%s", col);
    for (char *w = words; *w; w++)
        if (*w == '_')
            *w = ' ';

    /* ON DELETE RESTRICT reports itself as SQLITE_CONSTRAINT_TRIGGER */
    if ((rc & 0xff) == SQLITE_CONSTRAINT && strstr(msg, "FOREIGN KEY constraint failed"))
        rc = SQLITE_CONSTRAINT_FOREIGNKEY;

    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        if (col[0])
            return lk_fail(err, LK_EEXISTS, col, "a %s with that %s already exists", c->noun, words);
        return lk_fail(err, LK_EEXISTS, NULL, "that %s already exists", c->noun);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        if (c->fk_code == LK_OK || !c->fk_msg)
            return lk_fail(err, LK_ESTORE, NULL, "%s: %s", c->op, msg);
        return lk_fail(err, c->fk_code, NULL, "%s", c->fk_msg);
    case SQLITE_CONSTRAINT_NOTNULL:
        return lk_fail(err, LK_EINVAL, col, "%s: the %s's %s is required", c->op, c->noun, words);
    case SQLITE_CONSTRAINT_CHECK:
        return lk_fail(err, LK_EINVAL, NULL, "%s: a value is out of range (%s)", c->op, msg);
    default:
        break;
    }
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return lk_fail(err, LK_ESTORE, NULL,
                       "%s: the database is busy (another process holds its write lock); try again",
                       c->op);
    case SQLITE_FULL:
        return lk_fail(err, LK_ESTORE, NULL, "%s: the disk is full", c->op);
    case SQLITE_READONLY:
        return lk_fail(err, LK_ESTORE, NULL, "%s: the database is read-only: %s", c->op, msg);
    default:
        return lk_fail(err, LK_ESTORE, NULL, "%s: %s", c->op, msg);
    }
}

/* --- savepoints ------------------------------------------------------------ */

static const char SQL_SAVEPOINT[] = "SAVEPOINT lk_op";
static const char SQL_RELEASE[] = "RELEASE lk_op";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO lk_op";

lk_code lk_sq_savepoint(lk_sq *q, const lk_sq_ctx *c, lk_error *err)
{
    sqlite3_stmt *st;
    lk_code code = lk_sq_prepare(q, SQL_SAVEPOINT, c, &st, err);
    return code != LK_OK ? code : lk_sq_exec(q, st, c, err);
}

lk_code lk_sq_savepoint_end(lk_sq *q, lk_code rc, const lk_sq_ctx *c, lk_error *err)
{
    sqlite3_stmt *st;
    if (rc == LK_OK) {
        lk_code code = lk_sq_prepare(q, SQL_RELEASE, c, &st, err);
        return code != LK_OK ? code : lk_sq_exec(q, st, c, err);
    }
    /* The op's own error stands; undoing it may fail only if SQLite already
     * rolled the whole transaction back (I/O error, disk full), which is fine. */
    if (lk_sq_prepare(q, SQL_ROLLBACK_TO, c, &st, NULL) == LK_OK)
        lk_sq_exec(q, st, c, NULL);
    if (lk_sq_prepare(q, SQL_RELEASE, c, &st, NULL) == LK_OK)
        lk_sq_exec(q, st, c, NULL);
    return rc;
}

/* --- columns --------------------------------------------------------------- */

const char *lk_sq_text(lk_arena *a, sqlite3_stmt *st, int col)
{
    const char *s = lk_sq_text_or_null(a, st, col);
    return s ? s : "";
}

const char *lk_sq_text_or_null(lk_arena *a, sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    if (!s)
        return NULL;
    return lk_arena_strndup(a, (const char *)s, (size_t)sqlite3_column_bytes(st, col));
}

int64_t lk_sq_int(sqlite3_stmt *st, int col)
{
    return sqlite3_column_int64(st, col);
}

/* --- lists ----------------------------------------------------------------- */

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

const char *lk_sq_fts_query(lk_arena *a, const char *text)
{
    if (!text)
        return NULL;
    /* each word as a quoted FTS5 string ("" stands for one " inside it, nothing else
     * is special there), separated by blanks: FTS5 wants every one of them */
    char *out = lk_arena_alloc(a, 3 * strlen(text) + 1), *o = out;
    for (const char *p = text; *p;) {
        while (is_blank(*p))
            p++;
        size_t len = 0;
        while (p[len] && !is_blank(p[len]))
            len++;
        if (!len)
            break;
        long chars = lk_utf8_count(lk_arena_strndup(a, p, len));
        if (chars >= 0 && chars < LK_SQ_TRIGRAM)
            return NULL;
        if (o > out)
            *o++ = ' ';
        *o++ = '"';
        for (size_t i = 0; i < len; i++) {
            if (p[i] == '"')
                *o++ = '"';
            *o++ = p[i];
        }
        *o++ = '"';
        p += len;
    }
    *o = '\0';
    return o > out ? out : NULL;
}

const char *lk_sq_search_fold(lk_arena *a, const char *text)
{
    if (!text)
        return NULL;
    while (is_blank(*text))
        text++;
    size_t len = strlen(text);
    while (len && is_blank(text[len - 1]))
        len--;
    if (!len)
        return NULL;
    char *out = lk_arena_strndup(a, text, len);
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

static void count_row(lk_arena *a, sqlite3_stmt *st, void *out)
{
    (void)a;
    *(int64_t *)out = lk_sq_int(st, 0);
}

lk_code lk_sq_count(lk_sq *q, sqlite3_stmt *st, int64_t *n, const lk_sq_ctx *c, lk_error *err)
{
    *n = 0;
    lk_code code = lk_sq_one(q, st, NULL, count_row, n, c, err);
    return code == LK_ENOTFOUND ? LK_OK : code;
}
