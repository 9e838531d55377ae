/*
 * fuzz_search — a search text of the console and the CLI (store.h "Lists") on
 * arbitrary bytes. Invariants: no crash; the FTS5 query made of it is always valid
 * FTS5 (a trigram table in memory runs it without an error, so no text can turn a
 * search into a failure of the store), and the folded text is a copy no longer than
 * the input.
 */
#include "store/sqlite/sqlite_internal.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sqlite3 *db;
static sqlite3_stmt *match;

static void open_once(void)
{
    if (db)
        return;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "CREATE VIRTUAL TABLE t USING fts5(a, b, tokenize = 'trigram');"
                     "INSERT INTO t VALUES ('ada@example.com', 'Ada Lovelace'), ('Jürgen', 'a\"b OR x');",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?1", -1, &match, NULL) != SQLITE_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memchr(data, 0, size))
        return 0; /* a C string: the query parser never hands over a NUL */
    open_once();
    lk_arena a = LK_ARENA_INIT;
    char *text = lk_arena_strndup(&a, (const char *)data, size);
    const char *fts = lk_sq_fts_query(&a, text);
    if (fts) {
        sqlite3_bind_text(match, 1, fts, -1, SQLITE_STATIC);
        int rc = sqlite3_step(match);
        if (rc != SQLITE_ROW)
            abort();
        sqlite3_reset(match);
        sqlite3_clear_bindings(match);
    }
    const char *folded = lk_sq_search_fold(&a, text);
    if (folded && strlen(folded) > size)
        abort();
    lk_arena_free(&a);
    return 0;
}
