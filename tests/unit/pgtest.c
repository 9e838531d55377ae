/* pgtest — a fresh PostgreSQL database per unit test (see pgtest.h). */
#include "pgtest.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *lk_test_pg(void)
{
    const char *url = getenv("LATCHKEY_TEST_PG");
    return url && *url ? url : NULL;
}

/* url with its database (the path after the authority) replaced by name */
static bool url_for(const char *base, const char *name, char *out, size_t cap)
{
    const char *auth = strstr(base, "://");
    if (!auth)
        return false;
    const char *path = strchr(auth + 3, '/');
    const char *query = strchr(auth + 3, '?');
    if (!path || (query && path > query))
        path = query ? query : base + strlen(base);
    const char *rest = query ? query : base + strlen(base);
    int n = snprintf(out, cap, "%.*s/%s%s", (int)(path - base), base, name, rest);
    return n > 0 && (size_t)n < cap;
}

bool lk_test_pg_query(const char *url, const char *sql, char *out, size_t cap)
{
    if (out && cap)
        out[0] = '\0';
    PGconn *conn = PQconnectdb(url);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "pgtest: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return false;
    }
    PQclear(PQexec(conn, "SET client_min_messages = warning"));
    PGresult *res = PQexec(conn, sql);
    ExecStatusType t = PQresultStatus(res);
    bool ok = t == PGRES_TUPLES_OK || t == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "pgtest: %s: %s", sql, PQerrorMessage(conn));
    else if (out && cap && t == PGRES_TUPLES_OK && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        /* a boolean reads as SQLite gives it: 1 or 0 */
        snprintf(out, cap, "%s", PQftype(res, 0) != 16 ? PQgetvalue(res, 0, 0)
                                 : strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? "1" : "0");
    PQclear(res);
    PQfinish(conn);
    return ok;
}

/* SQLite's group_concat and json_extract, which the tests' own queries use, for
 * the same queries on PostgreSQL (functions: the schema stays empty of tables) */
static const char SHIMS[] =
    "CREATE FUNCTION lk_gc(acc text, v text, sep text) RETURNS text LANGUAGE sql IMMUTABLE AS"
    " $$ SELECT CASE WHEN v IS NULL THEN acc WHEN acc IS NULL THEN v ELSE acc || sep || v END $$;"
    "CREATE FUNCTION lk_gc1(acc text, v text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lk_gc(acc, v, ',') $$;"
    "CREATE AGGREGATE group_concat(text, text) (sfunc = lk_gc, stype = text);"
    "CREATE AGGREGATE group_concat(text) (sfunc = lk_gc1, stype = text);"
    "CREATE FUNCTION json_extract(d text, p text) RETURNS text LANGUAGE sql IMMUTABLE AS"
    " $$ SELECT (d::jsonb) #>> string_to_array(substr(p, 3), '.') $$;";

bool lk_test_pg_create(char *url, size_t url_cap, char *name, size_t name_cap)
{
    static int counter;
    const char *admin = lk_test_pg();
    if (!admin)
        return false;
    snprintf(name, name_cap, "lk_unit_%ld_%d", (long)getpid(), ++counter);
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    if (!lk_test_pg_query(admin, sql, NULL, 0))
        return false;
    snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE template0", name);
    return lk_test_pg_query(admin, sql, NULL, 0) && url_for(admin, name, url, url_cap) &&
           lk_test_pg_query(url, SHIMS, NULL, 0);
}

void lk_test_pg_drop(const char *name)
{
    const char *admin = lk_test_pg();
    if (!admin || !name || !*name)
        return;
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    lk_test_pg_query(admin, sql, NULL, 0);
}
