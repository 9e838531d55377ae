/*
 * docgen — the build-time generator of docgen.h: its main(), roff text, and the
 * manual pages (one per noun of src/cli/cli.c, plus latchkey(1)).
 */
#include "tools/docgen.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

#define MANUAL "latchkey manual"

/* ------------------------------------------------------------------ roff --- */

void docgen_roff(FILE *f, const char *s)
{
    bool line_start = true;
    for (; *s; s++) {
        if (line_start && (*s == '.' || *s == '\''))
            fputs("\\&", f);
        line_start = false;
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else
            fputc(*s, f);
        if (*s == '\n')
            line_start = true;
    }
}

/* text of several lines: blank lines become paragraph breaks */
static void paragraphs(FILE *f, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *end = strstr(p, "\n\n");
        size_t n = end ? (size_t)(end - p) + 1 : strlen(p);
        char *para = strndup(p, n);
        docgen_roff(f, para);
        if (n && para[n - 1] != '\n')
            fputc('\n', f);
        free(para);
        if (!end)
            break;
        fputs(".PP\n", f);
        p = end + 2;
    }
}

/* "Name" of a one-line summary: the first letter raised, a full stop added */
static void sentence(FILE *f, const char *summary)
{
    char *s = strdup(summary);
    s[0] = (char)toupper((unsigned char)s[0]);
    docgen_roff(f, s);
    fputs(".\n", f);
    free(s);
}

static void title(FILE *f, const char *name, int section)
{
    fputs(".TH \"", f);
    for (const char *p = name; *p; p++)
        fputc(toupper((unsigned char)*p), f);
    fprintf(f, "\" %d \"\" \"latchkey %s\" \"%s\"\n", section, LK_VERSION, MANUAL);
}

/* --------------------------------------------------------- one noun's page --- */

/* "latchkey user invite" in bold, then the verb's argument and options */
static void synopsis_line(FILE *f, lk_arena *a, const lk_cli_noun *n, const lk_cli_verb *v)
{
    fputs(".B latchkey ", f);
    docgen_roff(f, n->name);
    if (!n->self) {
        fputc(' ', f);
        docgen_roff(f, v->name);
    }
    fputc('\n', f);
    if (v->arg) {
        fputs(".I ", f);
        docgen_roff(f, v->arg);
        fputc('\n', f);
    }
    for (const lk_cli_opt *o = v->opts; o && o->name; o++) {
        docgen_roff(f, lk_cli_opt_usage(a, o));
        fputc('\n', f);
    }
    fputs(".br\n", f);
}

static void option_items(FILE *f, lk_arena *a, const lk_cli_verb *v)
{
    for (const lk_cli_opt *o = v->opts; o && o->name; o++) {
        fputs(".TP\n\\fB\\-\\-", f);
        docgen_roff(f, o->name);
        fputs("\\fR", f);
        if (o->meta) {
            fputs(" \\fI", f);
            docgen_roff(f, o->meta);
            fputs("\\fR", f);
        }
        fputc('\n', f);
        docgen_roff(f, o->help);
        docgen_roff(f, lk_cli_opt_note(a, o));
        fputs(".\n", f);
    }
}

static void global_options(FILE *f)
{
    fputs(".SH GLOBAL OPTIONS\nAccepted anywhere on the line:\n", f);
    const char *name, *meta, *synopsis, *help;
    for (size_t i = 0; lk_cli_global_at(i, &name, &meta, &synopsis, &help); i++) {
        if (!synopsis)
            continue;
        fputs(".TP\n.B ", f);
        docgen_roff(f, synopsis);
        fputc('\n', f);
        sentence(f, help);
    }
}

static void environment_and_files(FILE *f, bool server)
{
    fputs(".SH ENVIRONMENT\n.TP\n.B LATCHKEY_DB\nThe database when no \\fB\\-\\-db\\fR is given.\n"
          ".TP\n.B LATCHKEY_CONFIG\nThe configuration file", f);
    if (LK_DEFAULT_CONFIG[0]) {
        fputs(" (default ", f);
        docgen_roff(f, LK_DEFAULT_CONFIG);
        fputc(')', f);
    }
    fputs(server ? "; an empty value reads none.\n"
                 : "; the CLI reads the invitation and reset lifetimes, the mail language and the\n"
                   "database from it, as the server does.\n",
          f);
    if (server)
        fputs(".TP\n.BI LATCHKEY_ NAME\nThe option \\fIname\\fR (upper case), over the file.\n", f);
    fputs(".SH FILES\n.TP\n.B ", f);
    docgen_roff(f, LK_DEFAULT_DB);
    fputs("\nThe database when nothing else names one (with \\fB\\-wal\\fR and \\fB\\-shm\\fR next to "
          "it while in use).\n", f);
    if (LK_DEFAULT_CONFIG[0]) {
        fputs(".TP\n.B ", f);
        docgen_roff(f, LK_DEFAULT_CONFIG);
        fputs("\nThe configuration file, read when \\fBLATCHKEY_CONFIG\\fR is not set.\n", f);
    }
}

static void cli_page(FILE *f, lk_arena *a, const lk_cli_noun *n)
{
    fputs(".SH SYNOPSIS\n", f);
    if (n->self) {
        synopsis_line(f, a, n, n->self);
    } else {
        for (const lk_cli_verb *v = n->verbs; v->name; v++)
            synopsis_line(f, a, n, v);
    }
    fputs(".SH DESCRIPTION\n", f);
    sentence(f, n->summary);
    if (n->self) {
        fputs(".PP\n", f);
        paragraphs(f, n->self->help);
        if (n->self->opts && n->self->opts->name) {
            fputs(".SH OPTIONS\n", f);
            option_items(f, a, n->self);
        }
    } else {
        fputs(".SH COMMANDS\n", f);
        for (const lk_cli_verb *v = n->verbs; v->name; v++) {
            fputs(".SS \"", f);
            docgen_roff(f, v->name);
            if (v->arg) {
                fputc(' ', f);
                docgen_roff(f, v->arg);
            }
            fputs("\"\n", f);
            paragraphs(f, v->help ? v->help : v->summary);
            option_items(f, a, v);
        }
    }
    global_options(f);
    fputs(".SH EXIT STATUS\n", f);
    const char *exit = strstr(lk_cli_notes, "Exit status:");
    paragraphs(f, exit ? exit : lk_cli_notes);
    environment_and_files(f, false);
}

/* latchkey-serve(1): the options of src/config/config.c */
static void serve_page(FILE *f)
{
    fputs(".SH SYNOPSIS\n.B latchkey serve\n[\\fB\\-\\-config\\fR \\fIFILE\\fR] [\\fIOPTIONS\\fR]\n"
          ".SH DESCRIPTION\n", f);
    paragraphs(f, lk_config_intro);
    fputs(".PP\nOn SIGTERM or SIGINT it stops accepting connections, lets the requests in flight "
          "finish, writes what it holds in memory and exits 0.\n"
          ".SH OPTIONS\nEach option is a flag \\fB\\-\\-\\fR\\fIname\\fR (underscores written as dashes), "
          "a line \\fIname\\fR \\fB=\\fR \\fIvalue\\fR of the configuration file, and the environment "
          "variable \\fBLATCHKEY_\\fR\\fINAME\\fR.\n.TP\n\\fB\\-\\-config\\fR \\fIFILE\\fR\n"
          "The configuration file to read.\n",
          f);
    lk_config_doc d;
    for (size_t i = 0; lk_config_doc_at(i, &d); i++) {
        fputs(".TP\n\\fB\\-\\-", f);
        for (const char *p = d.name; *p; p++)
            fputs(*p == '_' ? "\\-" : (char[2]){*p, 0}, f);
        fprintf(f, "\\fR \\fI%s\\fR\n", d.kind);
        sentence(f, d.help);
        fputs("File key \\fB", f);
        docgen_roff(f, d.name);
        fputs("\\fR; default ", f);
        docgen_roff(f, *d.def ? d.def : "empty");
        if (strcmp(d.kind, "N") == 0)
            fprintf(f, ", from %lld to %lld", (long long)d.min, (long long)d.max);
        fputs(".\n", f);
    }
    fputs(".SH EXIT STATUS\n0 after a clean stop; 1 bad configuration or the address cannot be bound; "
          "3 the database cannot be used.\n",
          f);
    environment_and_files(f, true);
}

/* ------------------------------------------------------------ latchkey(1) --- */

static void main_page(FILE *f)
{
    fputs(".SH SYNOPSIS\n.B latchkey\n[\\fB\\-\\-db\\fR \\fIPATH\\fR] [\\fB\\-\\-json\\fR] \\fINOUN VERB\\fR "
          "[\\fIARGS\\fR] [\\fIOPTIONS\\fR]\n.br\n.B latchkey serve\n[\\fIOPTIONS\\fR]\n.br\n"
          ".B latchkey\n\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR\n"
          ".SH DESCRIPTION\nlatchkey gives REST integrations their own API\\-only users: administrators "
          "define roles, create API\\-only users and custom services that issue client credentials, "
          "and integrations trade those for access tokens.\n.PP\n"
          "One binary: \\fBlatchkey serve\\fR runs the HTTP server; every other command is the "
          "administrator's command line, working on the same database.\n.SH COMMANDS\n",
          f);
    for (size_t i = 0; lk_cli_nouns[i]; i++) {
        fputs(".TP\n.BR latchkey\\-", f);
        docgen_roff(f, lk_cli_nouns[i]->name);
        fputs(" (1)\n", f);
        sentence(f, lk_cli_nouns[i]->summary);
    }
    global_options(f);
    fputs(".SH NOTES\n", f);
    paragraphs(f, lk_cli_notes);
    environment_and_files(f, false);
}

void docgen_man_page(FILE *f, const lk_cli_noun *n)
{
    lk_arena a = LK_ARENA_INIT;
    const char *name = n ? lk_arena_printf(&a, "latchkey-%s", n->name) : "latchkey";
    fprintf(f, ".\\\" generated by latchkey-docgen from latchkey's own tables; do not edit\n");
    title(f, name, 1);
    fputs(".SH NAME\n", f);
    docgen_roff(f, name);
    fputs(" \\- ", f);
    docgen_roff(f, n ? n->summary : "API-only users, roles and custom services for REST integrations");
    fputc('\n', f);
    if (!n)
        main_page(f);
    else if (strcmp(n->name, "serve") == 0)
        serve_page(f);
    else
        cli_page(f, &a, n);
    fputs(".SH SEE ALSO\n", f);
    if (n)
        fputs(".BR latchkey (1)\n", f);
    else
        fputs(".BR latchkey\\-serve (1)\n", f);
    lk_arena_free(&a);
}

/* ------------------------------------------------------------------ main --- */

static int write_file(const char *path, void (*fn)(FILE *, const lk_cli_noun *), const lk_cli_noun *n)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    fn(f, n);
    if (fclose(f) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

static void bash_fn(FILE *f, const lk_cli_noun *n)
{
    (void)n;
    docgen_bash(f);
}

static void conf_fn(FILE *f, const lk_cli_noun *n)
{
    (void)n;
    docgen_conf(f);
}

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The pages meson expects must be exactly the pages there are. */
static int man(const char *outdir, int n, char **expected)
{
    int rc = 0, pages = 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/latchkey.1", outdir);
    rc |= write_file(path, docgen_man_page, NULL);
    for (size_t i = 0; lk_cli_nouns[i]; i++, pages++) {
        snprintf(path, sizeof path, "%s/latchkey-%s.1", outdir, lk_cli_nouns[i]->name);
        rc |= write_file(path, docgen_man_page, lk_cli_nouns[i]);
        bool listed = false;
        for (int k = 0; k < n; k++)
            listed |= strcmp(base(expected[k]), base(path)) == 0;
        if (!listed) {
            fprintf(stderr, "latchkey-docgen: %s is missing from man_pages in meson.build\n", base(path));
            rc = 1;
        }
    }
    if (n != pages) {
        fprintf(stderr, "latchkey-docgen: meson.build lists %d manual pages; there are %d\n", n, pages);
        rc = 1;
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "man") == 0)
        return man(argv[2], argc - 3, argv + 3);
    if (argc == 3 && strcmp(argv[1], "bash") == 0)
        return write_file(argv[2], bash_fn, NULL);
    if (argc == 3 && strcmp(argv[1], "conf") == 0)
        return write_file(argv[2], conf_fn, NULL);
    fprintf(stderr, "usage: latchkey-docgen man OUTDIR PAGE... | bash FILE | conf FILE\n");
    return 2;
}
