/*
 * cmd_backup — `latchkey backup FILE` and `latchkey restore FILE`: a consistent copy
 * of the database taken while servers run, and putting one back into a stopped
 * instance (store/backup.h; the drill is in docs/operations.md).
 */
#include "cli/cli.h"

#include "store/backup.h"

static json_t *info_json(const char *database, const char *file, const lk_backup_info *in)
{
    return json_pack("{s:s, s:s, s:I, s:i, s:i, s:I, s:I, s:I}", "database", database, "file", file,
                     "bytes", (json_int_t)in->bytes, "schemaVersion", in->schema_version,
                     "knownSchemaVersion", in->known_version, "roles", (json_int_t)in->roles,
                     "users", (json_int_t)in->users, "services", (json_int_t)in->services);
}

static lk_code backup_run(lk_cli_cmd *c)
{
    const char *db = c->location;
    lk_backup_info info;
    lk_code code = lk_store_backup(db, c->arg, lk_cli_flag(c, "force"), &info, &c->op->err);
    if (code != LK_OK)
        return code;
    if (c->json)
        return lk_cli_emit1("backup", info_json(db, c->arg, &info));
    printf("Backed up %s to %s (%lld bytes, schema version %d): %lld roles, %lld users, %lld services.\n",
           lk_cli_clean(c->arena, db, true), lk_cli_clean(c->arena, c->arg, true), (long long)info.bytes,
           info.schema_version, (long long)info.roles, (long long)info.users, (long long)info.services);
    return LK_OK;
}

static lk_code restore_run(lk_cli_cmd *c)
{
    const char *db = c->location;
    lk_backup_info info;
    lk_code code = lk_store_restore(db, c->arg, &info, &c->op->err);
    if (code != LK_OK)
        return code;
    if (c->json)
        return lk_cli_emit1("restore", info_json(db, c->arg, &info));
    printf("Restored %s from %s (schema version %d): %lld roles, %lld users, %lld services.\n",
           lk_cli_clean(c->arena, db, true), lk_cli_clean(c->arena, c->arg, true), info.schema_version,
           (long long)info.roles, (long long)info.users, (long long)info.services);
    if (info.schema_version < info.known_version)
        printf("The copy is older than this latchkey (schema version %d): 'latchkey serve' (or\n"
               "'latchkey migrate') brings it up to date.\n", info.known_version);
    return LK_OK;
}

static const lk_cli_opt backup_opts[] = {
    {.name = "force", .kind = LK_CLI_FLAG, .help = "replace FILE if it exists"},
    {.name = NULL},
};

static const lk_cli_verb backup_cmd = {
    .name = "backup",
    .arg = "FILE",
    .opts = backup_opts,
    .run = backup_run,
    .no_store = true,
    .db_file = true,
    .summary = "copy the database into FILE, consistent while servers run",
    .help = "Copies the database into FILE with SQLite's online backup API, as it is at one\n"
            "instant, while servers keep serving. FILE is one self-contained SQLite file (mode\n"
            "0600: it holds secret hashes), written under a temporary name and renamed into\n"
            "place once it is whole and passes SQLite's integrity check. An existing FILE is\n"
            "replaced only with --force.\n",
};

static const lk_cli_verb restore_cmd = {
    .name = "restore",
    .arg = "FILE",
    .run = restore_run,
    .no_store = true,
    .db_file = true,
    .summary = "replace the database of a stopped instance with the backup FILE",
    .help = "Replaces the database with the backup in FILE, in one transaction. FILE must pass\n"
            "SQLite's integrity check, be a latchkey database and not be newer than this\n"
            "binary. Refused while a server runs on the database: stop it first. A missing\n"
            "database is created. A copy older than this binary is migrated by the next\n"
            "'latchkey serve'.\n",
};

const lk_cli_noun lk_cli_noun_backup = {
    .name = "backup",
    .summary = "copy the database into a file, consistent while servers run",
    .self = &backup_cmd,
};

const lk_cli_noun lk_cli_noun_restore = {
    .name = "restore",
    .summary = "replace the database of a stopped instance with a backup",
    .self = &restore_cmd,
};
