/*
 * pg_util — the statement cache, binding, running and error wording shared by the
 * ops of the PostgreSQL store (see pg_internal.h for the invariants).
 *
 * Statements are prepared by name on first use and live until the connection is
 * closed or lost; a lost connection is opened again (PQreset) before the next
 * statement when no transaction was open on it, so a node that lost the database
 * comes back by itself. Failures are worded from the primary message and the
 * SQLSTATE only: PostgreSQL's DETAIL lines quote values, which may be hashes of
 * secrets, and never reach a log or an answer.
 */
#include "store/postgres/pg_internal.h"
#include "util/text.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the connection --------------------------------------------------------- */

bool lk_pg_in_tx(lk_pg *q)
{
    PGTransactionStatusType t = PQtransactionStatus(q->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static void remember(lk_pg *q, const char *state, const char *fmt, const char *what)
{
    snprintf(q->sqlstate, sizeof q->sqlstate, "%s", state ? state : "");
    snprintf(q->failure, sizeof q->failure, fmt, what ? what : "");
    size_t n = strlen(q->failure);
    while (n && (q->failure[n - 1] == '\n' || q->failure[n - 1] == ' '))
        q->failure[--n] = '\0';
}

/* the result's failure, remembered; the result is freed */
static void remember_result(lk_pg *q, PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg)
        msg = PQerrorMessage(q->conn);
    /* the constraint a violation names, kept after the message for lk_pg_fail */
    const char *cons = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    const char *table = res ? PQresultErrorField(res, PG_DIAG_TABLE_NAME) : NULL;
    const char *column = res ? PQresultErrorField(res, PG_DIAG_COLUMN_NAME) : NULL;
    char col[LK_ERR_FIELD] = "";
    if (column) {
        snprintf(col, sizeof col, "%s", column);
    } else if (cons && table) {
        /* PostgreSQL names a UNIQUE column's constraint TABLE_COLUMN_key */
        size_t tl = strlen(table), cl = strlen(cons);
        if (cl > tl + 5 && strncmp(cons, table, tl) == 0 && cons[tl] == '_' &&
            strcmp(cons + cl - 4, "_key") == 0)
            snprintf(col, sizeof col, "%.*s", (int)(cl - tl - 5), cons + tl + 1);
    }
    remember(q, state, "%s", msg);
    if (col[0]) {
        size_t n = strlen(q->failure);
        snprintf(q->failure + n, sizeof q->failure - n, "\x1f%s", col);
    }
    PQclear(res);
}

lk_code lk_pg_ensure(lk_pg *q, const lk_pg_ctx *c, lk_error *err)
{
    if (PQstatus(q->conn) == CONNECTION_OK)
        return LK_OK;
    PQreset(q->conn);
    for (size_t i = 0; i < q->n_cache; i++)
        q->cache[i]->prepared = false;
    q->stmt_sp = false;
    if (PQstatus(q->conn) == CONNECTION_OK)
        return LK_OK;
    remember(q, "08006", "%s", PQerrorMessage(q->conn));
    return lk_pg_fail(q, c, err);
}

lk_code lk_pg_command(lk_pg *q, const char *sql, const lk_pg_ctx *c, lk_error *err)
{
    if (!lk_pg_in_tx(q)) {
        lk_code code = lk_pg_ensure(q, c, err);
        if (code != LK_OK)
            return code;
    }
    PGresult *res = PQexec(q->conn, sql);
    ExecStatusType t = PQresultStatus(res);
    if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK) {
        PQclear(res);
        return LK_OK;
    }
    remember_result(q, res);
    return lk_pg_fail(q, c, err);
}

/* --- statements --------------------------------------------------------------- */

/* the highest $N in sql; used[N-1] tells which appear */
static int count_params(const char *sql, bool used[LK_PG_MAX_PARAMS])
{
    int max = 0;
    memset(used, 0, LK_PG_MAX_PARAMS * sizeof *used);
    for (const char *p = sql; *p; p++) {
        if (*p != '$' || !isdigit((unsigned char)p[1]))
            continue;
        int v = atoi(p + 1);
        if (v > max)
            max = v;
        if (v >= 1 && v <= LK_PG_MAX_PARAMS)
            used[v - 1] = true;
    }
    return max;
}

static bool starts_with_word(const char *sql, const char *word)
{
    while (*sql == ' ')
        sql++;
    return strncasecmp(sql, word, strlen(word)) == 0;
}

lk_code lk_pg_prepare(lk_pg *q, const char *sql, const lk_pg_ctx *c, lk_pg_stmt **st, lk_error *err)
{
    for (size_t i = 0; i < q->n_cache; i++) {
        if (q->cache[i]->sql == sql) {
            *st = q->cache[i];
            return LK_OK;
        }
    }
    bool used[LK_PG_MAX_PARAMS];
    int want = count_params(sql, used);
    if (want > LK_PG_MAX_PARAMS)
        return lk_fail(err, LK_ESTORE, NULL, "%s: a statement has too many parameters", c->op);
    lk_pg_stmt *fresh = lk_xcalloc(1, sizeof *fresh);
    fresh->sql = sql;
    fresh->want = want;
    /* a number the text skips (an INSERT of $2..$N sharing binds with its UPDATE)
     * gets a type, or PostgreSQL cannot prepare the statement; it is sent as NULL */
    for (int i = 0; i < want; i++)
        fresh->types[i] = used[i] ? 0 : 25; /* 25: text */
    fresh->is_write = starts_with_word(sql, "INSERT") || starts_with_word(sql, "UPDATE") ||
                      starts_with_word(sql, "DELETE") || starts_with_word(sql, "WITH");
    snprintf(fresh->name, sizeof fresh->name, "lk%d", ++q->next_name);
    if (q->n_cache == q->cap_cache) {
        q->cap_cache = q->cap_cache ? 2 * q->cap_cache : 64;
        q->cache = lk_xrealloc(q->cache, q->cap_cache * sizeof *q->cache);
    }
    q->cache[q->n_cache++] = fresh;
    *st = fresh;
    return LK_OK;
}

static void clear_binds(lk_pg_stmt *st)
{
    for (int i = 0; i < LK_PG_MAX_PARAMS; i++) {
        if (st->vals[i]) {
            memset(st->vals[i], 0, strlen(st->vals[i]));
            free(st->vals[i]);
            st->vals[i] = NULL;
        }
    }
}

void lk_pg_reset(lk_pg *q, lk_pg_stmt *st)
{
    if (!st)
        return;
    PQclear(st->res);
    st->res = NULL;
    if (st->streaming) {
        /* the rest of the rows are read and dropped: the connection must be idle
         * before the next statement */
        PGresult *r;
        while ((r = PQgetResult(q->conn)) != NULL)
            PQclear(r);
        st->streaming = false;
    }
    clear_binds(st);
}

void lk_pg_cache_free(lk_pg *q)
{
    for (size_t i = 0; i < q->n_cache; i++) {
        lk_pg_reset(q, q->cache[i]);
        free(q->cache[i]);
    }
    free(q->cache);
    q->cache = NULL;
    q->n_cache = q->cap_cache = 0;
}

static void bind(lk_pg_stmt *st, int i, char *v)
{
    if (i < 1 || i > LK_PG_MAX_PARAMS) {
        free(v);
        return;
    }
    if (st->vals[i - 1]) {
        memset(st->vals[i - 1], 0, strlen(st->vals[i - 1]));
        free(st->vals[i - 1]);
    }
    st->vals[i - 1] = v;
}

void lk_pg_bind_int(lk_pg *q, lk_pg_stmt *st, int i, int64_t v)
{
    (void)q;
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    bind(st, i, lk_xstrdup(buf));
}

void lk_pg_bind_time(lk_pg *q, lk_pg_stmt *st, int i, int64_t t)
{
    if (t)
        lk_pg_bind_int(q, st, i, t);
    else
        bind(st, i, NULL);
}

void lk_pg_bind_text(lk_pg *q, lk_pg_stmt *st, int i, const char *s)
{
    (void)q;
    bind(st, i, s ? lk_xstrdup(s) : NULL);
}

void lk_pg_bind_text0(lk_pg *q, lk_pg_stmt *st, int i, const char *s)
{
    lk_pg_bind_text(q, st, i, s ? s : "");
}

/* a value bound to a number the text skips is sent as NULL */
static void skip_unused(lk_pg_stmt *st)
{
    for (int i = 0; i < st->want; i++) {
        if (st->types[i] && st->vals[i]) {
            memset(st->vals[i], 0, strlen(st->vals[i]));
            free(st->vals[i]);
            st->vals[i] = NULL;
        }
    }
}

/* A write inside a transaction gets a savepoint of its own (pg_internal.h). */
static lk_code statement_savepoint(lk_pg *q, const lk_pg_stmt *st, const lk_pg_ctx *c, lk_error *err)
{
    if (!st->is_write || PQtransactionStatus(q->conn) != PQTRANS_INTRANS)
        return LK_OK;
    lk_code code = lk_pg_command(q, q->stmt_sp ? "RELEASE lk_stmt; SAVEPOINT lk_stmt" : "SAVEPOINT lk_stmt", c, err);
    q->stmt_sp = code == LK_OK;
    return code;
}

static void statement_failed(lk_pg *q)
{
    if (!q->stmt_sp || PQtransactionStatus(q->conn) != PQTRANS_INERROR)
        return;
    PGresult *r = PQexec(q->conn, "ROLLBACK TO SAVEPOINT lk_stmt");
    PQclear(r);
}

/* Prepares st on this connection when it is not yet. */
static lk_code ready(lk_pg *q, lk_pg_stmt *st, const lk_pg_ctx *c, lk_error *err)
{
    if (!lk_pg_in_tx(q)) {
        lk_code code = lk_pg_ensure(q, c, err);
        if (code != LK_OK)
            return code;
    }
    if (st->prepared)
        return LK_OK;
    PGresult *res = PQprepare(q->conn, st->name, st->sql, st->want, st->types);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        remember_result(q, res);
        return lk_pg_fail(q, c, err);
    }
    PQclear(res);
    st->prepared = true;
    return LK_OK;
}

/* Runs st to completion; the result (tuples or command) or NULL with err set. */
static PGresult *run(lk_pg *q, lk_pg_stmt *st, const lk_pg_ctx *c, lk_error *err, lk_code *code)
{
    *code = ready(q, st, c, err);
    if (*code == LK_OK)
        *code = statement_savepoint(q, st, c, err);
    if (*code != LK_OK) {
        clear_binds(st);
        return NULL;
    }
    skip_unused(st);
    PGresult *res = PQexecPrepared(q->conn, st->name, st->want, (const char *const *)st->vals, NULL, NULL, 0);
    clear_binds(st);
    ExecStatusType t = PQresultStatus(res);
    if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK) {
        const char *n = PQcmdTuples(res);
        q->changes = n && *n ? atoll(n) : 0;
        return res;
    }
    remember_result(q, res);
    statement_failed(q);
    *code = lk_pg_fail(q, c, err);
    return NULL;
}

lk_code lk_pg_exec(lk_pg *q, lk_pg_stmt *st, const lk_pg_ctx *c, lk_error *err)
{
    lk_code code;
    PGresult *res = run(q, st, c, err, &code);
    if (!res)
        return code;
    if (PQntuples(res) > 0 && PQnfields(res) > 0 && !PQgetisnull(res, 0, 0))
        q->last_id = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return LK_OK;
}

lk_code lk_pg_rows(lk_pg *q, lk_pg_stmt *st, lk_arena *a, size_t elem_size, lk_pg_row_fn fn,
                   void **out, size_t *n, const lk_pg_ctx *c, lk_error *err)
{
    *out = NULL;
    *n = 0;
    lk_code code;
    PGresult *res = run(q, st, c, err, &code);
    if (!res)
        return code;
    int rows = PQntuples(res);
    unsigned char *arr = rows ? lk_arena_alloc(a, (size_t)rows * elem_size) : NULL;
    if (arr)
        memset(arr, 0, (size_t)rows * elem_size);
    st->res = res;
    for (int r = 0; r < rows; r++) {
        st->row = r;
        fn(a, st, arr + (size_t)r * elem_size);
    }
    st->res = NULL;
    st->row = 0;
    PQclear(res);
    *out = arr;
    *n = (size_t)rows;
    return LK_OK;
}

lk_code lk_pg_one(lk_pg *q, lk_pg_stmt *st, lk_arena *a, lk_pg_row_fn fn, void *out,
                  const lk_pg_ctx *c, lk_error *err)
{
    lk_code code;
    PGresult *res = run(q, st, c, err, &code);
    if (!res)
        return code;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return LK_ENOTFOUND;
    }
    st->res = res;
    st->row = 0;
    fn(a, st, out);
    PQclear(res);
    st->res = NULL;
    return LK_OK;
}

int lk_pg_step(lk_pg *q, lk_pg_stmt *st, const lk_pg_ctx *c, lk_error *err)
{
    PQclear(st->res);
    st->res = NULL;
    if (!st->streaming) {
        lk_code code = ready(q, st, c, err);
        if (code != LK_OK) {
            clear_binds(st);
            return code;
        }
        skip_unused(st);
        int sent = PQsendQueryPrepared(q->conn, st->name, st->want, (const char *const *)st->vals, NULL, NULL, 0);
        clear_binds(st);
        if (!sent) {
            remember(q, "08006", "%s", PQerrorMessage(q->conn));
            return lk_pg_fail(q, c, err);
        }
        PQsetSingleRowMode(q->conn);
        st->streaming = true;
    }
    PGresult *res = PQgetResult(q->conn);
    ExecStatusType t = PQresultStatus(res);
    if (t == PGRES_SINGLE_TUPLE) {
        st->res = res;
        st->row = 0;
        return LK_PG_ROW;
    }
    if (t == PGRES_TUPLES_OK || t == PGRES_COMMAND_OK) {
        PQclear(res);
        lk_pg_reset(q, st);
        return LK_PG_DONE;
    }
    remember_result(q, res);
    lk_pg_reset(q, st);
    return lk_pg_fail(q, c, err);
}

/* --- errors -------------------------------------------------------------------- */

lk_code lk_pg_fail(lk_pg *q, const lk_pg_ctx *c, lk_error *err)
{
    char msg[sizeof q->failure];
    snprintf(msg, sizeof msg, "%s", q->failure);
    char col[LK_ERR_FIELD] = "";
    char *sep = strchr(msg, '\x1f');
    if (sep) {
        *sep = '\0';
        snprintf(col, sizeof col, "%s", sep + 1);
    }
    char words[LK_ERR_FIELD];
    snprintf(words, sizeof words, "%s", col);
    for (char *w = words; *w; w++)
        if (*w == '_')
            *w = ' ';
    const char *s = q->sqlstate;
    if (strcmp(s, "23505") == 0) {
        if (col[0])
            return lk_fail(err, LK_EEXISTS, col, "a %s with that %s already exists", c->noun, words);
        return lk_fail(err, LK_EEXISTS, NULL, "that %s already exists", c->noun);
    }
    if (strcmp(s, "23503") == 0) {
        if (c->fk_code == LK_OK || !c->fk_msg)
            return lk_fail(err, LK_ESTORE, NULL, "%s: %s", c->op, msg);
        return lk_fail(err, c->fk_code, NULL, "%s", c->fk_msg);
    }
    if (strcmp(s, "23502") == 0)
        return lk_fail(err, LK_EINVAL, col, "%s: the %s's %s is required", c->op, c->noun, words);
    if (strcmp(s, "23514") == 0)
        return lk_fail(err, LK_EINVAL, NULL, "%s: a value is out of range (%s)", c->op, msg);
    if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0 || strcmp(s, "55P03") == 0)
        return lk_fail(err, LK_ESTORE, NULL,
                       "%s: the database is busy (another node holds its write lock); try again", c->op);
    if (strcmp(s, "53100") == 0)
        return lk_fail(err, LK_ESTORE, NULL, "%s: the database server's disk is full", c->op);
    if (strcmp(s, "25006") == 0)
        return lk_fail(err, LK_ESTORE, NULL, "%s: the database is read-only (a replica?): %s", c->op, msg);
    if (strncmp(s, "08", 2) == 0 || strncmp(s, "57P", 3) == 0 || PQstatus(q->conn) != CONNECTION_OK)
        return lk_fail(err, LK_ESTORE, NULL, "%s: the database cannot be reached (%s); nothing was written",
                       c->op, msg[0] ? msg : "connection lost");
    return lk_fail(err, LK_ESTORE, NULL, "%s: %s", c->op, msg);
}

/* --- savepoints -------------------------------------------------------------------- */

/* outside a transaction, the op's savepoint is a transaction of its own under the
 * write lock (as SQLite's SAVEPOINT outside BEGIN) */
lk_code lk_pg_savepoint(lk_pg *q, const lk_pg_ctx *c, lk_error *err)
{
    lk_code code;
    if (!lk_pg_in_tx(q)) {
        code = lk_pg_command(q, "BEGIN; SELECT pg_advisory_xact_lock(1280002393)", c, err);
        q->op_tx = code == LK_OK;
        q->stmt_sp = false;
        if (code != LK_OK && lk_pg_in_tx(q))
            lk_pg_command(q, "ROLLBACK", c, NULL);
        return code;
    }
    code = lk_pg_command(q, q->stmt_sp ? "RELEASE lk_stmt; SAVEPOINT lk_op" : "SAVEPOINT lk_op", c, err);
    q->stmt_sp = false;
    return code;
}

lk_code lk_pg_savepoint_end(lk_pg *q, lk_code rc, const lk_pg_ctx *c, lk_error *err)
{
    if (q->op_tx) {
        q->op_tx = false;
        q->stmt_sp = false;
        if (rc == LK_OK && PQtransactionStatus(q->conn) == PQTRANS_INTRANS)
            return lk_pg_command(q, "COMMIT", c, err);
        lk_pg_command(q, "ROLLBACK", c, NULL);
        return rc;
    }
    /* either ends every statement savepoint inside lk_op too */
    if (rc == LK_OK) {
        lk_code code = lk_pg_command(q, "RELEASE lk_op", c, err);
        q->stmt_sp = false;
        return code;
    }
    lk_pg_command(q, "ROLLBACK TO SAVEPOINT lk_op; RELEASE lk_op", c, NULL);
    q->stmt_sp = false;
    return rc;
}

/* --- columns ------------------------------------------------------------------------ */

const unsigned char *lk_pg_column(lk_pg_stmt *st, int col)
{
    if (!st->res || PQntuples(st->res) <= st->row || col >= PQnfields(st->res) ||
        PQgetisnull(st->res, st->row, col))
        return NULL;
    return (const unsigned char *)PQgetvalue(st->res, st->row, col);
}

bool lk_pg_is_null(lk_pg_stmt *st, int col)
{
    return lk_pg_column(st, col) == NULL;
}

const char *lk_pg_text(lk_arena *a, lk_pg_stmt *st, int col)
{
    const char *s = lk_pg_text_or_null(a, st, col);
    return s ? s : "";
}

const char *lk_pg_text_or_null(lk_arena *a, lk_pg_stmt *st, int col)
{
    const unsigned char *s = lk_pg_column(st, col);
    return s ? lk_arena_strndup(a, (const char *)s, (size_t)PQgetlength(st->res, st->row, col)) : NULL;
}

int64_t lk_pg_int(lk_pg_stmt *st, int col)
{
    const unsigned char *s = lk_pg_column(st, col);
    if (!s)
        return 0;
    if (s[0] == 't' && s[1] == '\0')
        return 1;
    if (s[0] == 'f' && s[1] == '\0')
        return 0;
    return strtoll((const char *)s, NULL, 10);
}

/* --- lists ------------------------------------------------------------------------- */

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* appends text lower-cased with LIKE's specials escaped (backslash is LIKE's escape) */
static char *put_like(char *o, const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char ch = p[i];
        if (ch == '%' || ch == '_' || ch == '\\')
            *o++ = '\\';
        *o++ = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    return o;
}

const char *lk_pg_like(lk_arena *a, const char *text)
{
    char *out = lk_arena_alloc(a, 2 * strlen(text) + 3), *o = out;
    *o++ = '%';
    o = put_like(o, text, strlen(text));
    *o++ = '%';
    *o = '\0';
    return out;
}

const char *lk_pg_search_fold(lk_arena *a, const char *text)
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

const char *lk_pg_search_words(lk_arena *a, const char *text, const char **whole)
{
    *whole = NULL;
    const char *fold = lk_pg_search_fold(a, text);
    if (!fold)
        return NULL;
    /* an array literal {"%w1%","%w2%"}: inside quotes, " and \ are escaped by \ */
    char *out = lk_arena_alloc(a, 6 * strlen(fold) + 8), *o = out;
    *o++ = '{';
    bool short_word = false;
    for (const char *p = fold; *p;) {
        while (is_blank(*p))
            p++;
        size_t len = 0;
        while (p[len] && !is_blank(p[len]))
            len++;
        if (!len)
            break;
        long chars = lk_utf8_count(lk_arena_strndup(a, p, len));
        if (chars >= 0 && chars < LK_PG_TRIGRAM)
            short_word = true;
        char pat[2 * len + 3], *w = pat;
        *w++ = '%';
        w = put_like(w, p, len);
        *w++ = '%';
        if (o > out + 1)
            *o++ = ',';
        *o++ = '"';
        for (char *x = pat; x < w; x++) {
            if (*x == '"' || *x == '\\')
                *o++ = '\\';
            *o++ = *x;
        }
        *o++ = '"';
        p += len;
    }
    *o++ = '}';
    *o = '\0';
    if (short_word) {
        *whole = lk_pg_like(a, fold);
        return NULL;
    }
    return out;
}

const char *lk_pg_search_key(lk_arena *a, const char *text)
{
    const char *whole = NULL;
    if (!lk_pg_search_words(a, text, &whole))
        return NULL;
    const char *fold = lk_pg_search_fold(a, text), *best = NULL;
    size_t best_len = 0;
    for (const char *p = fold; *p;) {
        while (is_blank(*p))
            p++;
        size_t len = 0;
        while (p[len] && !is_blank(p[len]))
            len++;
        if (len > best_len) {
            best = p;
            best_len = len;
        }
        p += len;
    }
    return best ? lk_pg_like(a, lk_arena_strndup(a, best, best_len)) : NULL;
}

static void count_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    (void)a;
    *(int64_t *)out = lk_pg_int(st, 0);
}

lk_code lk_pg_count(lk_pg *q, lk_pg_stmt *st, int64_t *n, const lk_pg_ctx *c, lk_error *err)
{
    *n = 0;
    lk_code code = lk_pg_one(q, st, NULL, count_row, n, c, err);
    return code == LK_ENOTFOUND ? LK_OK : code;
}
