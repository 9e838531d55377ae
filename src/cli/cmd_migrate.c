/*
 * cmd_migrate — `latchkey migrate`: brings the database's schema up to what this
 * binary knows, or creates a new database. Besides `serve`, the only command that
 * changes the schema: every other one refuses an older schema with a message that
 * points here, so that a newer CLI never upgrades the schema under a running older
 * server by accident.
 */
#include "cli/cli.h"

#include "store/store.h"

static lk_code migrate_run(lk_cli_cmd *c)
{
    const char *location = c->location;
    lk_store_info before;
    lk_code code = lk_store_inspect(location, &before, &c->op->err);
    if (code != LK_OK)
        return code;
    lk_store *store = lk_store_open(location, LK_STORE_MIGRATE, &c->op->err);
    if (!store)
        return c->op->err.code != LK_OK ? c->op->err.code : LK_ESTORE;
    int now = store->ops->schema_version(store);
    store->ops->close(store);
    const char *what = before.state == LK_DB_MISSING || before.state == LK_DB_EMPTY ? "created"
                       : before.state == LK_DB_OLDER                                 ? "migrated"
                                                                                     : "current";
    char redacted[1024];
    lk_store_redact(location, redacted, sizeof redacted);
    if (c->json) {
        json_t *doc = json_pack("{s:s, s:s, s:i, s:i}", "database", redacted, "result", what, "from",
                                before.version, "to", now);
        return lk_cli_emit(doc);
    }
    const char *shown = lk_cli_clean(c->arena, redacted, true);
    if (before.state == LK_DB_OLDER)
        printf("Migrated %s from schema version %d to %d (%d migration%s applied).\n", shown, before.version, now,
               before.missing, before.missing == 1 ? "" : "s");
    else if (before.state == LK_DB_CURRENT)
        printf("%s is up to date (schema version %d).\n", shown, now);
    else
        printf("Created a new database at %s (schema version %d).\n", shown, now);
    return LK_OK;
}

static const lk_cli_verb migrate_cmd = {
    .name = "migrate",
    .run = migrate_run,
    .no_store = true,
    .db_file = true,
    .summary = "bring the database's schema up to date (or create a new database)",
    .help = "Applies the schema changes this latchkey knows and the database lacks, in one\n"
            "transaction, or creates a new database. 'latchkey serve' does the same when it\n"
            "starts; every other command refuses an older schema and asks for this one. A\n"
            "database of another program, or of a newer latchkey, is refused untouched.\n"
            "Stop servers of an older latchkey on the same database first.\n",
};

const lk_cli_noun lk_cli_noun_migrate = {
    .name = "migrate",
    .summary = "bring the database's schema up to date (or create a new database)",
    .self = &migrate_cmd,
};
