/*
 * fixture — a fresh store for each unit test, with an arena and an lk_op acting as
 * "test": a SQLite file in a temporary folder, or, when $LATCHKEY_TEST_PG is set
 * (pgtest.h), a fresh PostgreSQL database. Include after <setjmp.h> etc. and
 * <cmocka.h>.
 */
#ifndef LK_TEST_FIXTURE_H
#define LK_TEST_FIXTURE_H

#include "core/op.h"
#include "store/store.h"

typedef struct lk_fixture {
    char dir[256];
    char path[320];     /* the SQLite file, or the PostgreSQL database's URL */
    char pgdb[64];      /* the PostgreSQL database's name ("" on SQLite) */
    lk_store *store;
    lk_arena arena;
    lk_op op;
} lk_fixture;

/* cmocka setup/teardown: *state becomes an lk_fixture */
int lk_fixture_setup(void **state);
int lk_fixture_teardown(void **state);

/* a fresh op (cleared error, same store, arena and clock) */
lk_op *lk_fixture_op(lk_fixture *f);

/* is the fixture's store PostgreSQL? */
bool lk_fixture_pg(const lk_fixture *f);

/* the text of a one-row, one-column query through a second connection, copied into
 * the fixture's arena ("" for NULL); SQL both stores understand */
const char *lk_fixture_text(lk_fixture *f, const char *sql);

/* count rows in a table through a second connection */
long lk_fixture_count(lk_fixture *f, const char *table);

/* runs sql (no rows) through a second, read-write connection; asserts it worked */
void lk_fixture_exec(lk_fixture *f, const char *sql);

#endif
