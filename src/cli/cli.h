/*
 * cli — the administrator's command line (docs/cli.md).
 *
 * The whole surface is data: cli.c holds the table of nouns, each noun file
 * (cmd_role.c, ...) exports one lk_cli_noun with its table of verbs, and each verb
 * names its positional argument, its options (kind, bounds, help) and its handler.
 * cli.c parses argv against those tables once, for every command, prints the help
 * generated from them, opens the store and hands the handler a ready lk_op; a
 * handler calls the core and prints the result, nothing else. Errors are printed
 * in one place (lk_cli_report).
 *
 * Memory: everything the parser, the handlers and the core allocate lives in the
 * command's arena, freed once when the command ends. JSON documents are owned by
 * whoever built them until lk_cli_emit() takes them.
 */
#ifndef LK_CLI_CLI_H
#define LK_CLI_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "core/op.h"
#include "core/user.h"

#define LK_CLI_VERSION LK_VERSION /* from meson.build */

typedef enum lk_cli_kind {
    LK_CLI_TEXT,    /* --opt VALUE, at most once */
    LK_CLI_LIST,    /* --opt VALUE, repeatable: collected in order */
    LK_CLI_GRANTS,  /* --opt ROLE[@WORKSPACE], repeatable: parsed into lk_grant_ref */
    LK_CLI_FLAG,    /* --opt, takes no value */
    LK_CLI_COUNT,   /* --opt N: a whole number from 0 to max */
    LK_CLI_TIME,    /* --opt WHEN: an instant as util/timefmt.h reads it */
} lk_cli_kind;

typedef struct lk_cli_opt {
    const char *name;        /* without the leading "--"; NULL ends a table */
    lk_cli_kind kind;
    const char *meta;        /* the value's placeholder in help ("NAME"); NULL for flags */
    bool required;
    int64_t max;             /* LK_CLI_COUNT: the largest value accepted */
    int64_t dflt;            /* LK_CLI_COUNT: the value when not given */
    const char *help;        /* one line */
} lk_cli_opt;

typedef struct lk_cli_cmd lk_cli_cmd;

/* Returns LK_OK after printing the result, or the code with c->op->err filled
 * (the caller prints it). */
typedef lk_code (*lk_cli_handler)(lk_cli_cmd *c);

typedef struct lk_cli_verb {
    const char *name;        /* NULL ends a table */
    const char *arg;         /* the required positional argument ("NAME"); NULL: none */
    const lk_cli_opt *opts;  /* NULL or a table ending with {.name = NULL} */
    lk_cli_handler run;
    const char *summary;     /* one line, for the noun's help */
    const char *help;        /* the verb's own help, after the usage line */
    bool no_store;           /* run without opening the database */
    bool db_file;            /* with no_store: works on the database file itself */
    bool read_only;          /* only reads: the database opens read-only (never the write lock,
                              * never created, never migrated); else it opens for writing, and
                              * a missing or empty file becomes a new database */
} lk_cli_verb;

typedef struct lk_cli_noun {
    const char *name;
    const char *summary;
    const lk_cli_verb *verbs; /* a table ending with {.name = NULL} */
    const lk_cli_verb *self;  /* instead of verbs: the noun is the command (serve) */
} lk_cli_noun;

/* one parsed option, parallel to the verb's opts table */
typedef struct lk_cli_value {
    bool set;
    const char *text;            /* TEXT, COUNT, TIME: the raw value */
    const char **list;           /* LIST */
    lk_grant_ref *grants;        /* GRANTS */
    size_t n;                    /* LIST, GRANTS: entries; others: times given */
    int64_t num;                 /* COUNT: the number; TIME: the instant */
} lk_cli_value;

struct lk_cli_cmd {
    const lk_cli_noun *noun;
    const lk_cli_verb *verb;
    const char *arg;             /* the positional argument, NULL when none */
    lk_cli_value *values;        /* one per verb option */
    const char *db;              /* --db, NULL when not given */
    const char *location;        /* the database the command works on (--db, $LATCHKEY_DB,
                                  * the configuration's db, the default), set before the
                                  * handler runs */
    bool json;
    lk_arena *arena;             /* the command's arena (also op->arena) */
    lk_op *op;                   /* ready when the handler runs */
    bool usage;                  /* the failure is a usage error (JSON code "usage") */
};

extern const lk_cli_noun lk_cli_noun_permission;
extern const lk_cli_noun lk_cli_noun_workspace;
extern const lk_cli_noun lk_cli_noun_role;
extern const lk_cli_noun lk_cli_noun_user;
extern const lk_cli_noun lk_cli_noun_service;
extern const lk_cli_noun lk_cli_noun_audit;
extern const lk_cli_noun lk_cli_noun_admin;
extern const lk_cli_noun lk_cli_noun_limits;
extern const lk_cli_noun lk_cli_noun_allowlist;
extern const lk_cli_noun lk_cli_noun_route;
extern const lk_cli_noun lk_cli_noun_usage;
extern const lk_cli_noun lk_cli_noun_mail;
extern const lk_cli_noun lk_cli_noun_key;
extern const lk_cli_noun lk_cli_noun_migrate;
extern const lk_cli_noun lk_cli_noun_backup;
extern const lk_cli_noun lk_cli_noun_export;
extern const lk_cli_noun lk_cli_noun_import;
extern const lk_cli_noun lk_cli_noun_restore;

/* --- the tables, read by the generated manual pages and completion (tools/docgen.c) --- */

/* every noun, in the order `latchkey --help` lists them; NULL ends the array */
extern const lk_cli_noun *const lk_cli_nouns[];
/* The i-th global option: its name as typed ("--db", "-h"), the value's placeholder
 * (NULL for a flag), and for help its synopsis and line (both NULL for an alias).
 * false past the last. */
bool lk_cli_global_at(size_t i, const char **name, const char **meta, const char **synopsis,
                      const char **help);
/* the closing paragraphs of `latchkey --help`: option syntax, names, exit status */
extern const char lk_cli_notes[];
/* an option as the usage line shows it ("[--role ROLE[@WORKSPACE]]..."), and the note
 * its help line ends with (" (required)", " (0 to 1000, default 50)", ""), in a */
const char *lk_cli_opt_usage(lk_arena *a, const lk_cli_opt *o);
const char *lk_cli_opt_note(lk_arena *a, const lk_cli_opt *o);

/* Runs the command line; returns the process exit status. */
int lk_cli_main(int argc, char **argv);
/* `latchkey serve [OPTIONS]` (argv: the options only); the process exit status */
int lk_serve_main(int argc, char **argv);

/* --- options of the running command (cli.c); name must be in the verb's table --- */
const char *lk_cli_str(const lk_cli_cmd *c, const char *name);    /* NULL when not given */
bool lk_cli_flag(const lk_cli_cmd *c, const char *name);
const char *const *lk_cli_list(const lk_cli_cmd *c, const char *name, size_t *n);
const lk_grant_ref *lk_cli_grants(const lk_cli_cmd *c, const char *name, size_t *n);
int64_t lk_cli_num(const lk_cli_cmd *c, const char *name);       /* COUNT (default applied), TIME (0 when not given) */

/* The server's configuration as `serve` would read it without flags (the file in
 * $LATCHKEY_CONFIG, then $LATCHKEY_* variables): the invitation lifetime, the mail
 * language, ... LK_EINVAL when it does not load. */
lk_code lk_cli_config(lk_cli_cmd *c, lk_config *out);

/* Marks the failure as a usage error with a message; returns LK_EINVAL. */
lk_code lk_cli_usage(lk_cli_cmd *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* --- output (output.c) --- */

/* Prints `latchkey: msg` on stderr and, with --json, the error document on stdout;
 * returns exit_status. */
int lk_cli_report(bool json, const char *code_name, int exit_status, const char *field,
                  const char *msg);

/* Prints doc (one JSON document, newline-terminated) on stdout and releases it. */
lk_code lk_cli_emit(json_t *doc);
/* Prints {"key": value} and releases value. */
lk_code lk_cli_emit1(const char *key, json_t *value);
/* Prints {"deleted": {"kind": name}}. */
lk_code lk_cli_emit_deleted(const char *kind, const char *name);

/* s with invalid UTF-8 replaced by '?' and, when controls, control characters by
 * ' '; s itself when nothing needs replacing, else a copy in a. NULL stays NULL. */
const char *lk_cli_clean(lk_arena *a, const char *s, bool controls);

/* A table whose column widths follow its content. Cells are borrowed; the first
 * row is the header when there is one. Rows never end in blanks. */
typedef struct lk_table {
    lk_arena *arena;
    size_t ncols;
    const char **cells;          /* nrows * ncols, cleaned */
    size_t nrows, cap;
} lk_table;

void lk_table_init(lk_table *t, lk_arena *a, size_t ncols);
void lk_table_row(lk_table *t, ...);   /* exactly ncols const char * (NULL prints as "") */
void lk_table_print(const lk_table *t, FILE *f);

/* one "Label: value" line of a record's details ("Label:" when value is empty) */
void lk_cli_field(lk_cli_cmd *c, const char *label, const char *value);

/* text helpers for tables, in the command's arena */
const char *lk_cli_time(lk_cli_cmd *c, int64_t t, const char *none); /* none when t == 0 */
const char *lk_cli_i64(lk_cli_cmd *c, int64_t v);
const char *lk_cli_grants_text(lk_cli_cmd *c, const lk_user *u);     /* "API Only@AllZones, ..." */

/* --- lists of any size (listing.c; docs/cli.md#lists) --- */

/* A list command's rows, read page by page. fetch reads up to max rows after the
 * cursor (NULL: from the first) into ctx, with c->arena (= c->op->arena) a page's
 * arena, and says how many; json, cells and cursor look at row i of that page. */
typedef struct lk_cli_listing {
    const char *key;        /* the JSON member: "users" */
    const char *noun;       /* for the note: "users" */
    size_t ncols;
    void (*header)(lk_table *t);
    lk_code (*fetch)(lk_cli_cmd *c, void *ctx, const char *after, int64_t max, size_t *n);
    json_t *(*json)(lk_cli_cmd *c, void *ctx, size_t i);
    void (*cells)(lk_cli_cmd *c, void *ctx, size_t i, lk_table *t);
    const char *(*cursor)(lk_cli_cmd *c, void *ctx, size_t i);
} lk_cli_listing;

#define LK_CLI_LIMIT_DEFAULT 100   /* rows a list command prints unless --limit says */
#define LK_CLI_LIMIT_MAX 1000000

/* a cursor as --after takes it: digits, or with at_id "SECONDS.ID" (NULL is fine) */
bool lk_cli_cursor_ok(const char *after, bool at_id);

/* Prints up to limit rows (0: all) after the cursor `after` (NULL: from the first):
 * {"KEY": [...], "next"} with --json ("next" only when rows remain), else a table;
 * when rows remain, a note on stderr names the --after that shows them. */
lk_code lk_cli_listing_run(lk_cli_cmd *c, const lk_cli_listing *l, void *ctx, int64_t limit, const char *after);

/* --- records as JSON (json.c); every function returns a new reference --- */
json_t *lk_cli_json_str(const char *s);       /* NULL → null; invalid UTF-8 repaired */
json_t *lk_cli_json_time(int64_t t);          /* 0 → null */
json_t *lk_cli_permission_json(const lk_permission *p);
json_t *lk_cli_workspace_json(const lk_workspace *w);
json_t *lk_cli_role_json(const lk_role *r);
json_t *lk_cli_user_json(const lk_user *u, int64_t now);
json_t *lk_cli_service_json(const lk_service *s, int64_t now);
json_t *lk_cli_audit_json(const lk_audit_event *e);
/* the details of an audit event as an object ({} when empty) */
json_t *lk_cli_details_json(const char *details);

#endif
