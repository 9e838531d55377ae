/*
 * pgtest — the unit tests' window on PostgreSQL. When $LATCHKEY_TEST_PG holds the
 * URL of a PostgreSQL server's maintenance database (tests/run.sh starts a private
 * cluster: tests/pg/cluster.sh), each fixture gets a fresh database of its own there,
 * and the same tests run against the PostgreSQL store.
 */
#ifndef LK_TEST_PGTEST_H
#define LK_TEST_PGTEST_H

#include <stdbool.h>
#include <stddef.h>

/* the maintenance database's URL, or NULL: the tests run on SQLite */
const char *lk_test_pg(void);

/* creates a new, empty database; its URL into url, its name into name */
bool lk_test_pg_create(char *url, size_t url_cap, char *name, size_t name_cap);
/* drops it (closing what is still connected) */
void lk_test_pg_drop(const char *name);

/* runs sql on url; the first column of the first row into out ("" when none, a
 * boolean as 1 or 0);
 * false (the server's message on stderr) when it fails */
bool lk_test_pg_query(const char *url, const char *sql, char *out, size_t cap);

#endif
