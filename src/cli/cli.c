/*
 * cli — the dispatcher: the table of nouns, the one argv parser every verb shares,
 * help generated from the tables, and the run of a command (store, arena, op,
 * handler, error report).
 *
 * Parsing is a single pass. Global options (--db, --json, --help, --version) are
 * recognised anywhere; the first two plain words pick the noun and the verb, and
 * from then on options are looked up in the verb's table. A single-valued option
 * given twice takes the last value, as in most tools. The first usage error is
 * kept and the scan goes on, so that a --json or --help later on the line still
 * counts. --help wins over any error and prints the help of the deepest level named.
 */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "util/runas.h"
#include "util/timefmt.h"

/* ---------------------------------------------------------------- the nouns --- */

/* `latchkey serve` is taken by main() before the CLI parses anything (its options
 * come from config/config.c); this entry only lists it in `latchkey --help`. */
static lk_code serve_run(lk_cli_cmd *c)
{
    return lk_cli_usage(c, "", "run 'latchkey serve --help' for the server's options");
}

static const lk_cli_verb serve_cmd = {
    .name = "serve",
    .run = serve_run,
    .no_store = true,
    .summary = "run the HTTP server (see 'latchkey serve --help')",
    .help = "Runs the HTTP server (identity, OAuth 2.0 and REST endpoints) on the same\n"
            "database as the CLI. See 'latchkey serve --help' for its options.\n",
};

static const lk_cli_noun serve_noun = {
    .name = "serve",
    .summary = "run the HTTP server (see 'latchkey serve --help')",
    .self = &serve_cmd,
};

/* in the order `latchkey --help` lists them */
const lk_cli_noun *const lk_cli_nouns[] = {
    &serve_noun,
    &lk_cli_noun_permission,
    &lk_cli_noun_workspace,
    &lk_cli_noun_role,
    &lk_cli_noun_user,
    &lk_cli_noun_service,
    &lk_cli_noun_audit,
    &lk_cli_noun_admin,
    &lk_cli_noun_limits,
    &lk_cli_noun_allowlist,
    &lk_cli_noun_route,
    &lk_cli_noun_usage,
    &lk_cli_noun_mail,
    &lk_cli_noun_key,
    &lk_cli_noun_migrate,
    &lk_cli_noun_backup,
    &lk_cli_noun_export,
    &lk_cli_noun_import,
    &lk_cli_noun_restore,
    NULL,
};

typedef enum global_id { G_DB, G_JSON, G_HELP, G_VERSION } global_id;

static const struct global_opt {
    global_id id;
    const char *name;      /* as typed */
    const char *meta;      /* NULL: a flag */
    const char *synopsis;  /* for help */
    const char *help;
} globals[] = {
    {G_DB, "--db", "PATH", "--db PATH",
     "the SQLite database (else $LATCHKEY_DB, else the configuration file's db, else " LK_DEFAULT_DB ")"},
    {G_JSON, "--json", NULL, "--json", "print one JSON document on stdout, success or error"},
    {G_HELP, "--help", NULL, "-h, --help", "help for the current level"},
    {G_HELP, "-h", NULL, NULL, NULL},
    {G_VERSION, "--version", NULL, "--version", "print the version"},
};

#define N_GLOBALS (sizeof globals / sizeof globals[0])

bool lk_cli_global_at(size_t i, const char **name, const char **meta, const char **synopsis,
                      const char **help)
{
    if (i >= N_GLOBALS)
        return false;
    *name = globals[i].name;
    *meta = globals[i].meta;
    *synopsis = globals[i].synopsis;
    *help = globals[i].help;
    return true;
}

const char lk_cli_notes[] =
    "Option values are given as --opt VALUE or --opt=VALUE (the second form for a\n"
    "value that starts with \"--\"); after a lone \"--\" every word is an argument.\n"
    "Names of roles, permissions, workspaces and services, emails and user ids match\n"
    "case-insensitively.\n\n"
    "Exit status: 0 success; 1 bad input, a broken rule, a name taken or a usage\n"
    "error; 2 a named thing does not exist; 3 the database cannot be used.\n";

/* ------------------------------------------------------------------ parsing --- */

typedef struct parser {
    lk_cli_cmd *c;
    bool help, version;
    bool dashdash;         /* after "--": every word is an argument */
    bool lost;             /* a noun or verb was not found: further words mean nothing */
    bool failed;           /* the first error is kept below */
    const char *code;      /* "usage" or "invalid" */
    char field[LK_ERR_FIELD];
    char msg[LK_ERR_MSG];
} parser;

/* "role create", "role" or "" */
static const char *where(const lk_cli_cmd *c)
{
    if (!c->noun)
        return "";
    if (!c->verb || c->noun->self)
        return c->noun->name;
    return lk_arena_printf(c->arena, "%s %s", c->noun->name, c->verb->name);
}

/* " for 'role create'" or "" at the top */
static const char *for_where(const lk_cli_cmd *c)
{
    const char *w = where(c);
    return *w ? lk_arena_printf(c->arena, " for '%s'", w) : "";
}

/* "; see 'latchkey role create --help'" */
static const char *see(const lk_cli_cmd *c)
{
    const char *w = where(c);
    return lk_arena_printf(c->arena, "; see 'latchkey%s%s --help'", *w ? " " : "", w);
}

static void fail(parser *p, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(parser *p, const char *code, const char *field, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = true;
    p->code = code;
    snprintf(p->field, sizeof p->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
}

/* a word from the command line as an error message quotes it: at most SHOWN_MAX
 * bytes, cut at a character boundary */
#define SHOWN_MAX 80

static const char *shown(const lk_cli_cmd *c, const char *s)
{
    size_t n = strlen(s);
    if (n <= SHOWN_MAX)
        return s;
    n = SHOWN_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return lk_arena_printf(c->arena, "%.*s...", (int)n, s);
}

static const lk_cli_noun *find_noun(const char *name)
{
    for (size_t i = 0; lk_cli_nouns[i]; i++)
        if (strcmp(lk_cli_nouns[i]->name, name) == 0)
            return lk_cli_nouns[i];
    return NULL;
}

static const lk_cli_verb *find_verb(const lk_cli_noun *n, const char *name)
{
    for (const lk_cli_verb *v = n->verbs; v && v->name; v++)
        if (strcmp(v->name, name) == 0)
            return v;
    return NULL;
}

static size_t count_opts(const lk_cli_verb *v)
{
    size_t n = 0;
    while (v->opts && v->opts[n].name)
        n++;
    return n;
}

static void set_verb(parser *p, const lk_cli_verb *v)
{
    p->c->verb = v;
    p->c->values = lk_arena_alloc(p->c->arena, (count_opts(v) + 1) * sizeof *p->c->values);
}

/* digits only, then bounded: strtoll alone would take " 5", "+5" and "5x" */
static bool parse_count(const char *s, int64_t max, int64_t *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

/* ROLE or ROLE@WORKSPACE, split at the last '@' */
static bool parse_grant(lk_arena *a, const char *s, lk_grant_ref *g)
{
    const char *at = strrchr(s, '@');
    if (!at) {
        g->role = s;
        g->workspace = NULL;
        return *s != '\0';
    }
    if (at == s || at[1] == '\0')
        return false;
    g->role = lk_arena_strndup(a, s, (size_t)(at - s));
    g->workspace = at + 1;
    return true;
}

/* the value of an option: inline (--opt=VALUE) or the next word, unless that looks
 * like an option itself (use --opt=--value for such a value) */
static const char *take_value(parser *p, int argc, char **argv, int *i, const char *inline_value,
                              const char *dashed)
{
    if (inline_value)
        return inline_value;
    if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0)
        return argv[++*i];
    fail(p, "usage", dashed + 2, "option '%s'%s needs a value%s", dashed, for_where(p->c), see(p->c));
    return NULL;
}

static void store_value(parser *p, const lk_cli_opt *o, lk_cli_value *v, const char *dashed,
                        const char *s)
{
    lk_arena *a = p->c->arena;
    switch (o->kind) {
    case LK_CLI_LIST:
        v->list = lk_arena_grow(a, v->list, v->n * sizeof *v->list, (v->n + 1) * sizeof *v->list);
        v->list[v->n++] = s;
        break;
    case LK_CLI_GRANTS:
        v->grants = lk_arena_grow(a, v->grants, v->n * sizeof *v->grants,
                                  (v->n + 1) * sizeof *v->grants);
        if (!parse_grant(a, s, &v->grants[v->n]))
            fail(p, "invalid", o->name, "%s needs ROLE or ROLE@WORKSPACE, not '%s'", dashed,
                 shown(p->c, s));
        v->n++;
        break;
    case LK_CLI_COUNT:
        if (!parse_count(s, o->max, &v->num))
            fail(p, "invalid", o->name, "%s must be a whole number from 0 to %lld, not '%s'", dashed,
                 (long long)o->max, shown(p->c, s));
        v->text = s;
        v->n++;
        break;
    case LK_CLI_TIME:
        if (!lk_time_parse(s, &v->num))
            fail(p, "invalid", o->name,
                 "%s must be a date (2027-01-31) or an ISO-8601 date-time with a zone "
                 "(2027-01-31T17:00:00Z), not '%s'", dashed, shown(p->c, s));
        v->text = s;
        v->n++;
        break;
    case LK_CLI_TEXT:
    case LK_CLI_FLAG:
        v->text = s;
        v->n++;
        break;
    }
    v->set = true;
}

static void parse_global(parser *p, const struct global_opt *g, int argc, char **argv, int *i,
                         const char *inline_value, const char *dashed)
{
    if (!g->meta && inline_value) {
        fail(p, "usage", dashed + 2, "option '%s' takes no value%s", dashed, see(p->c));
        return;
    }
    switch (g->id) {
    case G_DB: {
        const char *s = take_value(p, argc, argv, i, inline_value, dashed);
        if (s && !*s)
            fail(p, "usage", "db", "option '--db' needs a path%s", see(p->c));
        else if (s)
            p->c->db = s;
        break;
    }
    case G_JSON:
        p->c->json = true;
        break;
    case G_HELP:
        p->help = true;
        break;
    case G_VERSION:
        p->version = true;
        break;
    }
}

static void parse_option(parser *p, int argc, char **argv, int *i)
{
    lk_cli_cmd *c = p->c;
    const char *tok = argv[*i];
    const char *eq = strchr(tok, '=');
    const char *dashed = eq ? lk_arena_strndup(c->arena, tok, (size_t)(eq - tok)) : tok;
    const char *inline_value = eq ? eq + 1 : NULL;

    for (size_t g = 0; g < N_GLOBALS; g++)
        if (strcmp(globals[g].name, dashed) == 0) {
            parse_global(p, &globals[g], argc, argv, i, inline_value, dashed);
            return;
        }

    const lk_cli_opt *o = NULL;
    size_t k = 0;
    if (c->verb && strncmp(dashed, "--", 2) == 0)
        for (; c->verb->opts && c->verb->opts[k].name; k++)
            if (strcmp(c->verb->opts[k].name, dashed + 2) == 0) {
                o = &c->verb->opts[k];
                break;
            }
    if (!o) {
        fail(p, "usage", "", "unknown option '%s'%s%s", shown(c, dashed), for_where(c), see(c));
        return;
    }
    lk_cli_value *v = &c->values[k];
    if (o->kind == LK_CLI_FLAG) {
        if (inline_value)
            fail(p, "usage", o->name, "option '%s'%s takes no value%s", dashed, for_where(c), see(c));
        v->set = true;
        v->n++;
        return;
    }
    const char *s = take_value(p, argc, argv, i, inline_value, dashed);
    if (s)
        store_value(p, o, v, dashed, s);
}

static void parse_word(parser *p, const char *tok)
{
    lk_cli_cmd *c = p->c;
    if (p->lost)
        return;
    if (!c->noun) {
        c->noun = find_noun(tok);
        if (!c->noun) {
            fail(p, "usage", "", "unknown command '%s'%s", shown(c, tok), see(c));
            p->lost = true;
        } else if (c->noun->self) {
            set_verb(p, c->noun->self);
        }
        return;
    }
    if (!c->verb) {
        const lk_cli_verb *v = find_verb(c->noun, tok);
        if (!v) {
            fail(p, "usage", "", "unknown verb '%s'%s%s", shown(c, tok), for_where(c), see(c));
            p->lost = true;
            return;
        }
        set_verb(p, v);
        return;
    }
    if (c->verb->arg && !c->arg) {
        c->arg = tok;
        return;
    }
    fail(p, "usage", "", "unexpected argument '%s'%s%s", shown(c, tok), for_where(c), see(c));
}

/* what must be on a complete line: a noun, a verb, the argument, required options */
static void check_complete(parser *p)
{
    lk_cli_cmd *c = p->c;
    if (!c->noun) {
        fail(p, "usage", "", "missing a command%s", see(c));
        return;
    }
    if (!c->verb) {
        fail(p, "usage", "", "missing a verb%s%s", for_where(c), see(c));
        return;
    }
    if (c->verb->arg && !c->arg) {
        fail(p, "usage", "", "missing %s%s%s", c->verb->arg, for_where(c), see(c));
        return;
    }
    for (size_t k = 0; c->verb->opts && c->verb->opts[k].name; k++)
        if (c->verb->opts[k].required && !c->values[k].set) {
            fail(p, "usage", c->verb->opts[k].name, "missing --%s%s%s", c->verb->opts[k].name,
                 for_where(c), see(c));
            return;
        }
}

static void parse(parser *p, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *tok = argv[i];
        if (!p->dashdash && strcmp(tok, "--") == 0)
            p->dashdash = true;
        else if (!p->dashdash && tok[0] == '-' && tok[1] != '\0')
            parse_option(p, argc, argv, &i);
        else
            parse_word(p, tok);
    }
    if (!p->help && !p->version)
        check_complete(p);
}

/* --------------------------------------------------------------------- help --- */

#define HELP_WIDTH 79

const char *lk_cli_opt_usage(lk_arena *a, const lk_cli_opt *o)
{
    bool many = o->kind == LK_CLI_LIST || o->kind == LK_CLI_GRANTS;
    return lk_arena_printf(a, "%s--%s%s%s%s%s", o->required ? "" : "[", o->name, o->meta ? " " : "",
                           o->meta ? o->meta : "", o->required ? "" : "]", many ? "..." : "");
}

const char *lk_cli_opt_note(lk_arena *a, const lk_cli_opt *o)
{
    bool many = o->kind == LK_CLI_LIST || o->kind == LK_CLI_GRANTS;
    if (o->kind == LK_CLI_COUNT)
        return lk_arena_printf(a, " (0 to %lld, default %lld)", (long long)o->max, (long long)o->dflt);
    return many && o->required ? " (repeatable, at least one)"
           : many              ? " (repeatable)"
           : o->required       ? " (required)"
                               : "";
}

/* the usage line of a verb, wrapped under its own start */
static void print_usage(const lk_cli_cmd *c)
{
    const lk_cli_verb *v = c->verb;
    const char *head = lk_arena_printf(c->arena, "Usage: latchkey %s", where(c));
    size_t indent = strlen(head), col = indent;
    fputs(head, stdout);
    if (v->arg) {
        printf(" %s", v->arg);
        col += 1 + strlen(v->arg);
    }
    for (const lk_cli_opt *o = v->opts; o && o->name; o++) {
        const char *word = lk_cli_opt_usage(c->arena, o);
        if (col + 1 + strlen(word) > HELP_WIDTH && col > indent) {
            printf("\n%*s", (int)indent, "");
            col = indent;
        }
        printf(" %s", word);
        col += 1 + strlen(word);
    }
    putchar('\n');
}

static void print_verb_help(const lk_cli_cmd *c)
{
    const lk_cli_verb *v = c->verb;
    print_usage(c);
    if (v->help)
        printf("\n%s", v->help);
    if (v->opts && v->opts->name) {
        lk_table t;
        lk_table_init(&t, c->arena, 2);
        for (const lk_cli_opt *o = v->opts; o->name; o++)
            lk_table_row(&t,
                         lk_arena_printf(c->arena, "  --%s%s%s", o->name, o->meta ? " " : "",
                                         o->meta ? o->meta : ""),
                         lk_arena_printf(c->arena, "%s%s", o->help, lk_cli_opt_note(c->arena, o)));
        printf("\nOptions:\n");
        lk_table_print(&t, stdout);
    }
    printf("\nGlobal options: --db PATH, --json, -h/--help (see 'latchkey --help').\n");
}

static void print_noun_help(const lk_cli_cmd *c)
{
    const char *s = c->noun->summary;
    printf("Usage: latchkey %s VERB [ARGS] [OPTIONS]\n\n%c%s.\n\nVerbs:\n", c->noun->name,
           toupper((unsigned char)s[0]), s + 1);
    lk_table t;
    lk_table_init(&t, c->arena, 2);
    for (const lk_cli_verb *v = c->noun->verbs; v->name; v++)
        lk_table_row(&t, lk_arena_printf(c->arena, "  %s", v->name), v->summary);
    lk_table_print(&t, stdout);
    printf("\nRun 'latchkey %s VERB --help' for the options of a verb.\n", c->noun->name);
}

static void print_top_help(const lk_cli_cmd *c)
{
    printf("latchkey %s - API-only users, roles and custom services for REST integrations\n\n"
           "Usage: latchkey [--db PATH] [--json] NOUN VERB [ARGS] [OPTIONS]\n"
           "       latchkey --help | --version\n\nCommands:\n",
           LK_CLI_VERSION);
    lk_table t;
    lk_table_init(&t, c->arena, 2);
    for (size_t i = 0; lk_cli_nouns[i]; i++)
        lk_table_row(&t, lk_arena_printf(c->arena, "  %s", lk_cli_nouns[i]->name), lk_cli_nouns[i]->summary);
    lk_table_print(&t, stdout);

    printf("\nGlobal options (accepted anywhere on the line):\n");
    lk_table_init(&t, c->arena, 2);
    for (size_t g = 0; g < N_GLOBALS; g++)
        if (globals[g].synopsis)
            lk_table_row(&t, lk_arena_printf(c->arena, "  %s", globals[g].synopsis), globals[g].help);
    lk_table_print(&t, stdout);

    printf("\n%s\nRun 'latchkey NOUN --help' for the verbs of a noun.\n", lk_cli_notes);
}

static void print_help(const lk_cli_cmd *c)
{
    if (c->verb)
        print_verb_help(c);
    else if (c->noun)
        print_noun_help(c);
    else
        print_top_help(c);
}

/* ---------------------------------------------------------------------- run --- */

/* "cli:<OS user>": the effective user's name, else $USER, else the uid */
static void cli_actor(char *buf, size_t n)
{
    const struct passwd *pw = getpwuid(geteuid());
    const char *name = pw && pw->pw_name && *pw->pw_name ? pw->pw_name : getenv("USER");
    if (name && *name)
        snprintf(buf, n, "cli:%s", name);
    else
        snprintf(buf, n, "cli:%lu", (unsigned long)geteuid());
}

static int report_failure(const lk_cli_cmd *c, lk_code code, const lk_error *err)
{
    const lk_code_info *info = lk_code_info_of(code);
    return lk_cli_report(c->json, c->usage ? "usage" : info->name, info->exit_status, err->field,
                         err->msg[0] ? err->msg : info->name);
}

/* The database, in the order `serve` reads it: --db, $LATCHKEY_DB, the configuration
 * file's db, the built-in default. */
static lk_code resolve_location(lk_cli_cmd *c, lk_error *err)
{
    const char *env = getenv("LATCHKEY_DB");
    if ((c->db && *c->db) || (env && *env)) {
        c->location = lk_store_default_location(c->db);
        return LK_OK;
    }
    lk_config *cfg = lk_arena_alloc(c->arena, sizeof *cfg);
    char msg[600] = "";
    if (lk_config_load(cfg, 0, NULL, stdout, msg, sizeof msg) != 0)
        return lk_fail(err, LK_EINVAL, "config", "%s", msg);
    c->location = lk_store_default_location(cfg->db[0] ? lk_arena_strdup(c->arena, cfg->db) : NULL);
    return LK_OK;
}

static int run(lk_cli_cmd *c)
{
    char actor[300];
    cli_actor(actor, sizeof actor);
    bool uses_db = !c->verb->no_store || c->verb->db_file;
    lk_error err;
    lk_error_clear(&err);
    if (uses_db && resolve_location(c, &err) != LK_OK)
        return report_failure(c, err.code, &err);
    if (uses_db) {
        const char *file = lk_store_sqlite_path(c->location, &err);
        char why[LK_ERR_MSG];
        if (file && lk_become_owner(file, why, sizeof why) != 0)
            return lk_cli_report(c->json, lk_code_info_of(LK_ESTORE)->name, lk_code_info_of(LK_ESTORE)->exit_status,
                                 "database", why);
        lk_error_clear(&err);
    }
    lk_store *store = NULL;
    if (!c->verb->no_store) {
        /* no command but `migrate` (and `serve`) ever changes the schema */
        store = lk_store_open(c->location, c->verb->read_only ? LK_STORE_READ : LK_STORE_WRITE, &err);
        if (!store)
            return report_failure(c, err.code != LK_OK ? err.code : LK_ESTORE, &err);
    }
    lk_op op;
    lk_op_init(&op, store, c->arena, actor, "");
    c->op = &op;
    lk_code code = c->verb->run(c);
    int status = code == LK_OK ? 0 : report_failure(c, code, &op.err);
    c->op = NULL;
    if (store)
        store->ops->close(store);
    return status;
}

/* a full disk or a closed pipe must not pass for success */
static int finish_output(int status)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return status;
    fprintf(stderr, "latchkey: cannot write the output: %s\n", strerror(errno));
    return status ? status : 1;
}

int lk_cli_main(int argc, char **argv)
{
    lk_arena arena = LK_ARENA_INIT;
    lk_cli_cmd cmd = {.arena = &arena};
    parser p = {.c = &cmd};
    parse(&p, argc, argv);

    int status;
    if (p.help) {
        print_help(&cmd);
        status = 0;
    } else if (p.version) {
        printf("latchkey %s\n", LK_CLI_VERSION);
        status = 0;
    } else if (p.failed) {
        status = lk_cli_report(cmd.json, p.code, 1, p.field, p.msg);
    } else {
        status = run(&cmd);
    }
    status = finish_output(status);
    lk_arena_free(&arena);
    return status;
}

/* ------------------------------------------------------- option accessors --- */

static const lk_cli_value *value_of(const lk_cli_cmd *c, const char *name, const lk_cli_opt **opt)
{
    for (size_t k = 0; c->verb->opts && c->verb->opts[k].name; k++)
        if (strcmp(c->verb->opts[k].name, name) == 0) {
            if (opt)
                *opt = &c->verb->opts[k];
            return &c->values[k];
        }
    fprintf(stderr, "latchkey: internal error: '%s' has no option '--%s'\n", where(c), name);
    abort();
}

const char *lk_cli_str(const lk_cli_cmd *c, const char *name)
{
    return value_of(c, name, NULL)->text;
}

bool lk_cli_flag(const lk_cli_cmd *c, const char *name)
{
    return value_of(c, name, NULL)->set;
}

const char *const *lk_cli_list(const lk_cli_cmd *c, const char *name, size_t *n)
{
    const lk_cli_value *v = value_of(c, name, NULL);
    *n = v->n;
    return v->list;
}

const lk_grant_ref *lk_cli_grants(const lk_cli_cmd *c, const char *name, size_t *n)
{
    const lk_cli_value *v = value_of(c, name, NULL);
    *n = v->n;
    return v->grants;
}

int64_t lk_cli_num(const lk_cli_cmd *c, const char *name)
{
    const lk_cli_opt *o;
    const lk_cli_value *v = value_of(c, name, &o);
    if (v->set)
        return v->num;
    return o->kind == LK_CLI_COUNT ? o->dflt : 0;
}

lk_code lk_cli_usage(lk_cli_cmd *c, const char *field, const char *fmt, ...)
{
    c->usage = true;
    lk_error *err = &c->op->err;
    err->code = LK_EINVAL;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return LK_EINVAL;
}

lk_code lk_cli_config(lk_cli_cmd *c, lk_config *out)
{
    char err[600] = "";
    if (lk_config_load(out, 0, NULL, stdout, err, sizeof err) != 0)
        return lk_fail(&c->op->err, LK_EINVAL, "config", "%s", err);
    return LK_OK;
}
