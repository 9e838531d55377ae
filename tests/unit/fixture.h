/*
 * fixture — a fresh SQLite store in a temporary folder for each unit test, with an
 * arena and an lk_op acting as "test". Include after <setjmp.h> etc. and <cmocka.h>.
 */
#ifndef LK_TEST_FIXTURE_H
#define LK_TEST_FIXTURE_H

#include "core/op.h"
#include "store/store.h"

typedef struct lk_fixture {
    char dir[256];
    char path[320];
    lk_store *store;
    lk_arena arena;
    lk_op op;
} lk_fixture;

/* cmocka setup/teardown: *state becomes an lk_fixture */
int lk_fixture_setup(void **state);
int lk_fixture_teardown(void **state);

/* a fresh op (cleared error, same store, arena and clock) */
lk_op *lk_fixture_op(lk_fixture *f);

/* the text of a one-row, one-column query through a second, read-only SQLite
 * connection, copied into the fixture's arena ("" for NULL) */
const char *lk_fixture_text(lk_fixture *f, const char *sql);

/* count rows in a table through a second, read-only SQLite connection */
long lk_fixture_count(lk_fixture *f, const char *table);

#endif
