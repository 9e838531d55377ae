/*
 * pg_mail — what email needs in the PostgreSQL store (migration 0004): the queue of
 * outgoing messages, password-reset links (by the hash of their token) and the
 * record of expiry notices already queued.
 *
 * Invariants: no token is stored, only hashes; none of these tables appends to
 * the change feed.
 */
#include "store/postgres/pg_internal.h"

#include <string.h>

/* --- the queue -------------------------------------------------------------- */

#define MAIL_COLS                                                                             \
    "id, kind, lang, recipient, to_name, user_id, link_id, vars, message_id, status, attempts," \
    " created_at, next_at, done_at, last_error, delivery"

static const char SQL_MAIL_INSERT[] =
    "INSERT INTO mail_queue (kind, lang, recipient, to_name, user_id, link_id, vars, message_id, status,"
    " attempts, created_at, next_at, done_at, last_error, delivery)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id";
static const char SQL_MAIL_DUE[] =
    "SELECT " MAIL_COLS " FROM mail_queue WHERE status = 'queued' AND next_at <= $1 ORDER BY next_at, id LIMIT 1";
static const char SQL_MAIL_UPDATE[] =
    "UPDATE mail_queue SET status = $2, attempts = $3, next_at = $4, done_at = $5, last_error = $6,"
    " delivery = $7, recipient = $8, to_name = $9, user_id = $11, link_id = $12, lang = $13"
    " WHERE id = $1 AND attempts = $10";
static const char SQL_MAIL_GET[] = "SELECT " MAIL_COLS " FROM mail_queue WHERE id = $1";
/* newest first from the rowid, the cursor ($3) a seek; $4 a part of the recipient */
#define MAIL_WHERE \
    " FROM mail_queue WHERE id < $3::bigint AND ($1::text IS NULL OR status = $1::text)" \
    " AND ($4::text IS NULL OR strpos(lower(recipient), lower($4::text)) > 0)"
static const char SQL_MAIL_LIST[] = "SELECT " MAIL_COLS MAIL_WHERE " ORDER BY id DESC LIMIT $2";
static const char SQL_MAIL_COUNT[] = "SELECT count(*) FROM (SELECT 1" MAIL_WHERE " LIMIT $2) x";

/* the status column's words, indexed by lk_mail_status */
static const char *const mail_status_words[] = {
    [LK_MAIL_QUEUED] = "queued",
    [LK_MAIL_SENT] = "sent",
    [LK_MAIL_FAILED] = "failed",
    [LK_MAIL_CANCELLED] = "cancelled",
};
#define N_MAIL_STATUS (sizeof mail_status_words / sizeof mail_status_words[0])

static lk_mail_status mail_status_of(const unsigned char *word)
{
    for (size_t i = 0; word && i < N_MAIL_STATUS; i++)
        if (strcmp((const char *)word, mail_status_words[i]) == 0)
            return (lk_mail_status)i;
    return LK_MAIL_FAILED; /* the CHECK constraint makes this unreachable */
}

static const char *mail_status_word(lk_mail_status s)
{
    return (size_t)s < N_MAIL_STATUS ? mail_status_words[s] : "failed";
}

static void mail_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_mail_rec *m = out;
    m->id = lk_pg_int(st, 0);
    m->kind = lk_pg_text(a, st, 1);
    m->lang = lk_pg_text(a, st, 2);
    m->recipient = lk_pg_text(a, st, 3);
    m->to_name = lk_pg_text(a, st, 4);
    m->user_id = lk_pg_int(st, 5);
    m->link_id = lk_pg_int(st, 6);
    m->vars = lk_pg_text(a, st, 7);
    m->message_id = lk_pg_text(a, st, 8);
    m->status = mail_status_of(lk_pg_column(st, 9));
    m->attempts = (int)lk_pg_int(st, 10);
    m->created_at = lk_pg_int(st, 11);
    m->next_at = lk_pg_int(st, 12);
    m->done_at = lk_pg_int(st, 13);
    m->last_error = lk_pg_text(a, st, 14);
    m->delivery = lk_pg_text(a, st, 15);
}

lk_code lk_pg_mail_insert(lk_store *s, lk_mail_rec *m, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "mail_insert", .noun = "message"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_MAIL_INSERT, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_text(q, st, 1, m->kind);
    lk_pg_bind_text0(q, st, 2, m->lang);
    lk_pg_bind_text(q, st, 3, m->recipient);
    lk_pg_bind_text0(q, st, 4, m->to_name);
    lk_pg_bind_time(q, st, 5, m->user_id);
    lk_pg_bind_time(q, st, 6, m->link_id);
    lk_pg_bind_text(q, st, 7, m->vars && *m->vars ? m->vars : "{}");
    lk_pg_bind_text(q, st, 8, m->message_id);
    lk_pg_bind_text(q, st, 9, mail_status_word(m->status));
    lk_pg_bind_int(q, st, 10, m->attempts);
    lk_pg_bind_int(q, st, 11, m->created_at);
    lk_pg_bind_int(q, st, 12, m->next_at);
    lk_pg_bind_time(q, st, 13, m->done_at);
    lk_pg_bind_text0(q, st, 14, m->last_error);
    lk_pg_bind_text0(q, st, 15, m->delivery);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK)
        m->id = q->last_id;
    return code;
}

lk_code lk_pg_mail_due(lk_store *s, lk_arena *a, int64_t now, lk_mail_rec *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "mail_due", .noun = "message"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_MAIL_DUE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, now);
    return lk_pg_one(q, st, a, mail_row, out, &c, err);
}

lk_code lk_pg_mail_update(lk_store *s, const lk_mail_rec *m, int was_attempts, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "mail_update", .noun = "message"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_MAIL_UPDATE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, m->id);
    lk_pg_bind_text(q, st, 2, mail_status_word(m->status));
    lk_pg_bind_int(q, st, 3, m->attempts);
    lk_pg_bind_int(q, st, 4, m->next_at);
    lk_pg_bind_time(q, st, 5, m->done_at);
    lk_pg_bind_text0(q, st, 6, m->last_error);
    lk_pg_bind_text0(q, st, 7, m->delivery);
    lk_pg_bind_text(q, st, 8, m->recipient);
    lk_pg_bind_text0(q, st, 9, m->to_name);
    lk_pg_bind_int(q, st, 10, was_attempts);
    lk_pg_bind_time(q, st, 11, m->user_id);
    lk_pg_bind_time(q, st, 12, m->link_id);
    lk_pg_bind_text0(q, st, 13, m->lang);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK && q->changes == 0)
        return lk_fail(err, LK_ENOTFOUND, "message", "message %lld was taken by another attempt", (long long)m->id);
    return code;
}

lk_code lk_pg_mail_get(lk_store *s, lk_arena *a, int64_t id, lk_mail_rec *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "mail_get", .noun = "message"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_MAIL_GET, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, id);
    code = lk_pg_one(q, st, a, mail_row, out, &c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "message", "no message has the id %lld", (long long)id);
    return code;
}

/* binds $1, $3 and $4 of the mail statements */
static void bind_mail(lk_pg *q, lk_pg_stmt *st, const lk_mail_filter *f, bool cursor)
{
    if (f && f->status >= 0)
        lk_pg_bind_text(q, st, 1, mail_status_word((lk_mail_status)f->status));
    lk_pg_bind_int(q, st, 3, cursor && f && f->after > 0 ? f->after : INT64_MAX);
    lk_pg_bind_text(q, st, 4, f && f->search && *f->search ? f->search : NULL);
}

lk_code lk_pg_mail_list(lk_store *s, lk_arena *a, const lk_mail_filter *f, lk_mail_rec **out, size_t *n,
                        lk_error *err)
{
    static const lk_pg_ctx c = {.op = "mail_list", .noun = "message"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_MAIL_LIST, &c, &st, err);
    if (code != LK_OK)
        return code;
    bind_mail(q, st, f, true);
    lk_pg_bind_int(q, st, 2, lk_pg_limit(f ? f->limit : 0));
    return lk_pg_rows(q, st, a, sizeof **out, mail_row, (void **)out, n, &c, err);
}

lk_code lk_pg_mail_count(lk_store *s, const lk_mail_filter *f, int64_t cap, int64_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "mail_count", .noun = "message"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_MAIL_COUNT, &c, &st, err);
    if (code != LK_OK)
        return code;
    bind_mail(q, st, f, false);
    lk_pg_bind_int(q, st, 2, lk_pg_limit(cap));
    return lk_pg_count(q, st, n, &c, err);
}

/* --- password resets ------------------------------------------------------- */

#define RESET_COLS "id, user_id, token_hash, created_at, expires_at, used_at"

static const char SQL_RESET_INSERT[] =
    "INSERT INTO password_resets (user_id, token_hash, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5) RETURNING id";
static const char SQL_RESET_GET[] = "SELECT " RESET_COLS " FROM password_resets WHERE id = $1";
static const char SQL_RESET_BY_HASH[] = "SELECT " RESET_COLS " FROM password_resets WHERE token_hash = $1";
static const char SQL_RESET_FOR_USER[] =
    "SELECT " RESET_COLS " FROM password_resets WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1";
static const char SQL_RESET_UPDATE[] =
    "UPDATE password_resets SET token_hash = $2, expires_at = $3, used_at = $4 WHERE id = $1";

static void reset_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_reset *r = out;
    r->id = lk_pg_int(st, 0);
    r->user_id = lk_pg_int(st, 1);
    r->token_hash = lk_pg_text(a, st, 2);
    r->created_at = lk_pg_int(st, 3);
    r->expires_at = lk_pg_int(st, 4);
    r->used_at = lk_pg_int(st, 5);
}

lk_code lk_pg_reset_insert(lk_store *s, lk_reset *r, lk_error *err)
{
    static const lk_pg_ctx c = {
        .op = "reset_insert", .noun = "password reset", .fk_code = LK_ENOTFOUND, .fk_msg = "the user does not exist",
    };
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_RESET_INSERT, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, r->user_id);
    lk_pg_bind_text(q, st, 2, r->token_hash);
    lk_pg_bind_int(q, st, 3, r->created_at);
    lk_pg_bind_int(q, st, 4, r->expires_at);
    lk_pg_bind_time(q, st, 5, r->used_at);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK)
        r->id = q->last_id;
    return code;
}

/* one reset by an integer or a text key */
static lk_code reset_one(lk_store *s, lk_arena *a, const char *sql, const lk_pg_ctx *c, int64_t id,
                         const char *text, lk_reset *out, lk_error *err)
{
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, sql, c, &st, err);
    if (code != LK_OK)
        return code;
    if (text)
        lk_pg_bind_text(q, st, 1, text);
    else
        lk_pg_bind_int(q, st, 1, id);
    code = lk_pg_one(q, st, a, reset_row, out, c, err);
    if (code == LK_ENOTFOUND)
        return lk_fail(err, code, "reset", "no such password reset");
    return code;
}

lk_code lk_pg_reset_get(lk_store *s, lk_arena *a, int64_t id, lk_reset *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "reset_get", .noun = "password reset"};
    return reset_one(s, a, SQL_RESET_GET, &c, id, NULL, out, err);
}

lk_code lk_pg_reset_by_hash(lk_store *s, lk_arena *a, const char *token_hash, lk_reset *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "reset_by_hash", .noun = "password reset"};
    return reset_one(s, a, SQL_RESET_BY_HASH, &c, 0, token_hash ? token_hash : "", out, err);
}

lk_code lk_pg_reset_for_user(lk_store *s, lk_arena *a, int64_t user_id, lk_reset *out, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "reset_for_user", .noun = "password reset"};
    return reset_one(s, a, SQL_RESET_FOR_USER, &c, user_id, NULL, out, err);
}

lk_code lk_pg_reset_update(lk_store *s, const lk_reset *r, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "reset_update", .noun = "password reset"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_RESET_UPDATE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, r->id);
    lk_pg_bind_text(q, st, 2, r->token_hash);
    lk_pg_bind_int(q, st, 3, r->expires_at);
    lk_pg_bind_time(q, st, 4, r->used_at);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK && q->changes == 0)
        return lk_fail(err, LK_ENOTFOUND, "reset", "no password reset has the id %lld", (long long)r->id);
    return code;
}

static const char SQL_RESET_END_USER[] =
    "UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL";

lk_code lk_pg_reset_end_user(lk_store *s, int64_t user_id, int64_t at, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "reset_end_user", .noun = "password reset"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_RESET_END_USER, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, user_id);
    lk_pg_bind_int(q, st, 2, at);
    return lk_pg_exec(q, st, &c, err);
}

/* --- expiry notices -------------------------------------------------------- */

static const char SQL_NOTICE_MARK[] =
    "INSERT INTO expiry_notices (user_id, expires_at, days, queued_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";

lk_code lk_pg_notice_mark(lk_store *s, int64_t user_id, int64_t expires_at, int days, int64_t now, bool *fresh,
                          lk_error *err)
{
    static const lk_pg_ctx c = {
        .op = "notice_mark", .noun = "expiry notice", .fk_code = LK_ENOTFOUND, .fk_msg = "the user does not exist",
    };
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_NOTICE_MARK, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, user_id);
    lk_pg_bind_int(q, st, 2, expires_at);
    lk_pg_bind_int(q, st, 3, days);
    lk_pg_bind_int(q, st, 4, now);
    code = lk_pg_exec(q, st, &c, err);
    *fresh = code == LK_OK && q->changes > 0;
    return code;
}

/* ---- counts per state (the server's gauges) ------------------------------------- */

static const char SQL_MAIL_COUNTS[] = "SELECT status, count(*) FROM mail_queue GROUP BY status";

typedef struct status_count {
    const char *status;
    int64_t n;
} status_count;

static void status_count_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    status_count *sc = out;
    sc->status = lk_pg_text(a, st, 0);
    sc->n = lk_pg_int(st, 1);
}

lk_code lk_pg_mail_counts(lk_store *s, int64_t counts[4], lk_error *err)
{
    static const lk_pg_ctx c = {.op = "mail_counts", .noun = "message"};
    static const char *const states[4] = {"queued", "sent", "failed", "cancelled"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_MAIL_COUNTS, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_arena a = LK_ARENA_INIT;
    status_count *rows = NULL;
    size_t n = 0;
    code = lk_pg_rows(q, st, &a, sizeof *rows, status_count_row, (void **)&rows, &n, &c, err);
    for (int i = 0; i < 4; i++)
        counts[i] = 0;
    for (size_t i = 0; code == LK_OK && i < n; i++) {
        for (int k = 0; k < 4; k++) {
            if (strcmp(rows[i].status, states[k]) == 0)
                counts[k] = rows[i].n;
        }
    }
    lk_arena_free(&a);
    return code;
}
