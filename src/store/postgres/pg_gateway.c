/*
 * pg_gateway — the gateway's route table (migration 0008) in the PostgreSQL store;
 * the same contract as store/sqlite/sqlite_gateway.c.
 *
 * Invariants: (method, pattern) is unique (the schema's constraint: LK_EEXISTS);
 * permissions are kept as one text of names, one per line, in the order given; a
 * change reaches the change feed (and, by NOTIFY, every node) through the schema's
 * trigger, never through these ops.
 */
#include "store/postgres/pg_internal.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char SQL_LIST[] =
    "SELECT id, method, pattern, permissions, style, created_at FROM gateway_routes ORDER BY id";
static const char SQL_INSERT[] = "INSERT INTO gateway_routes (method, pattern, permissions, style, created_at)"
                                 " VALUES ($1, $2, $3, $4, $5) RETURNING id";
static const char SQL_DELETE[] = "DELETE FROM gateway_routes WHERE id = $1";

/* "a\nb" -> {"a", "b"} in the arena; "" -> none */
static void split_lines(lk_arena *a, const char *text, const char ***out, size_t *n)
{
    size_t count = 0;
    for (const char *p = text; *p; p++)
        if (*p == '\n')
            count++;
    count += *text ? 1 : 0;
    *n = 0;
    *out = lk_arena_alloc(a, (count ? count : 1) * sizeof **out);
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, "\n");
        (*out)[(*n)++] = lk_arena_strndup(a, p, len);
        p += len;
        if (*p == '\n')
            p++;
    }
}

static void route_row(lk_arena *a, lk_pg_stmt *st, void *out)
{
    lk_gw_route *r = out;
    r->id = lk_pg_int(st, 0);
    r->method = lk_pg_text(a, st, 1);
    r->pattern = lk_pg_text(a, st, 2);
    split_lines(a, lk_pg_text(a, st, 3), &r->permissions, &r->n_permissions);
    r->plain = strcmp(lk_pg_text(a, st, 4), "plain") == 0;
    r->created_at = lk_pg_int(st, 5);
}

lk_code lk_pg_gwroute_list(lk_store *s, lk_arena *a, lk_gw_route **out, size_t *n, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "gwroute_list", .noun = "route"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_LIST, &c, &st, err);
    if (code != LK_OK)
        return code;
    return lk_pg_rows(q, st, a, sizeof **out, route_row, (void **)out, n, &c, err);
}

lk_code lk_pg_gwroute_insert(lk_store *s, lk_gw_route *r, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "gwroute_insert", .noun = "route"};
    lk_pg *q = lk_pg_of(s);
    size_t len = 1;
    for (size_t i = 0; i < r->n_permissions; i++)
        len += strlen(r->permissions[i]) + 1;
    char *perms = lk_xmalloc(len);
    perms[0] = '\0';
    for (size_t i = 0; i < r->n_permissions; i++) {
        if (i)
            strcat(perms, "\n");
        strcat(perms, r->permissions[i]);
    }
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_INSERT, &c, &st, err);
    if (code == LK_OK) {
        lk_pg_bind_text(q, st, 1, r->method);
        lk_pg_bind_text(q, st, 2, r->pattern);
        lk_pg_bind_text(q, st, 3, perms);
        lk_pg_bind_text(q, st, 4, r->plain ? "plain" : "marketo");
        lk_pg_bind_int(q, st, 5, r->created_at);
        code = lk_pg_exec(q, st, &c, err);
    }
    free(perms);
    if (code == LK_EEXISTS)
        return lk_fail(err, code, "pattern", "a route for %s %s exists already", r->method, r->pattern);
    if (code == LK_OK)
        r->id = q->last_id;
    return code;
}

lk_code lk_pg_gwroute_delete(lk_store *s, int64_t id, lk_error *err)
{
    static const lk_pg_ctx c = {.op = "gwroute_delete", .noun = "route"};
    lk_pg *q = lk_pg_of(s);
    lk_pg_stmt *st;
    lk_code code = lk_pg_prepare(q, SQL_DELETE, &c, &st, err);
    if (code != LK_OK)
        return code;
    lk_pg_bind_int(q, st, 1, id);
    code = lk_pg_exec(q, st, &c, err);
    if (code == LK_OK && q->changes == 0)
        return lk_fail(err, LK_ENOTFOUND, "route", "no route with id %lld", (long long)id);
    return code;
}
