/*
 * output — how the CLI prints: the error line (and its JSON form), JSON documents,
 * aligned tables, and text made safe for a terminal.
 *
 * Everything printed from the database or the command line passes through
 * lk_cli_clean first: invalid UTF-8 becomes '?', and in tables and error lines
 * control characters become blanks, so that one record is one line and stored text
 * cannot drive the terminal.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"
#include "util/timefmt.h"

static bool is_control(const unsigned char *p, size_t len)
{
    if (len == 1)
        return *p < 0x20 || *p == 0x7F;
    return len == 2 && p[0] == 0xC2 && p[1] <= 0x9F; /* C1: U+0080..U+009F */
}

const char *lk_cli_clean(lk_arena *a, const char *s, bool controls)
{
    if (!s)
        return NULL;
    if (lk_utf8_count(s) >= 0 && !(controls && lk_text_has_control(s, false)))
        return s;
    char *out = lk_arena_alloc(a, strlen(s) + 1), *o = out;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t len = lk_utf8_seq((const char *)p);
        if (len == 0) {
            *o++ = '?';
            p++;
        } else if (controls && is_control(p, len)) {
            *o++ = ' ';
            p += len;
        } else {
            memcpy(o, p, len);
            o += len;
            p += len;
        }
    }
    *o = '\0';
    return out;
}

/* ------------------------------------------------------------------- errors --- */

int lk_cli_report(bool json, const char *code_name, int exit_status, const char *field,
                  const char *msg)
{
    lk_arena a = LK_ARENA_INIT;
    const char *line = lk_cli_clean(&a, msg, true); /* one line, the same in both forms */
    fprintf(stderr, "latchkey: %s\n", line);
    if (json) {
        json_t *err = json_object();
        json_object_set_new(err, "code", lk_cli_json_str(code_name));
        json_object_set_new(err, "field", lk_cli_json_str(field ? field : ""));
        json_object_set_new(err, "message", lk_cli_json_str(line));
        lk_cli_emit1("error", err);
    }
    lk_arena_free(&a);
    return exit_status;
}

/* --------------------------------------------------------------------- JSON --- */

lk_code lk_cli_emit(json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!text) {
        fputs("latchkey: out of memory\n", stderr);
        abort();
    }
    fputs(text, stdout);
    putchar('\n');
    free(text);
    return LK_OK;
}

lk_code lk_cli_emit1(const char *key, json_t *value)
{
    json_t *doc = json_object();
    json_object_set_new(doc, key, value);
    return lk_cli_emit(doc);
}

lk_code lk_cli_emit_deleted(const char *kind, const char *name)
{
    json_t *what = json_object();
    json_object_set_new(what, kind, lk_cli_json_str(name));
    return lk_cli_emit1("deleted", what);
}

/* ------------------------------------------------------------------- tables --- */

void lk_table_init(lk_table *t, lk_arena *a, size_t ncols)
{
    *t = (lk_table){.arena = a, .ncols = ncols};
}

void lk_table_row(lk_table *t, ...)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        t->cells = lk_arena_grow(t->arena, t->cells, t->cap * t->ncols * sizeof *t->cells,
                                 cap * t->ncols * sizeof *t->cells);
        t->cap = cap;
    }
    va_list ap;
    va_start(ap, t);
    for (size_t i = 0; i < t->ncols; i++) {
        const char *s = va_arg(ap, const char *);
        t->cells[t->nrows * t->ncols + i] = s ? lk_cli_clean(t->arena, s, true) : "";
    }
    va_end(ap);
    t->nrows++;
}

/* cells are clean UTF-8 here: one column per code point (wide characters aside) */
static size_t width_of(const char *s)
{
    long n = lk_utf8_count(s);
    return n < 0 ? strlen(s) : (size_t)n;
}

void lk_table_print(const lk_table *t, FILE *f)
{
    size_t *width = lk_arena_alloc(t->arena, t->ncols * sizeof *width);
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t i = 0; i < t->ncols; i++) {
            size_t w = width_of(t->cells[r * t->ncols + i]);
            if (w > width[i])
                width[i] = w;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        const char **row = t->cells + r * t->ncols;
        size_t last = t->ncols;
        while (last > 1 && !*row[last - 1])
            last--;
        for (size_t i = 0; i < last; i++) {
            fputs(row[i], f);
            if (i + 1 < last)
                fprintf(f, "%*s", (int)(width[i] - width_of(row[i]) + 2), "");
        }
        fputc('\n', f);
    }
}

/* ------------------------------------------------------------ text helpers --- */

void lk_cli_field(lk_cli_cmd *c, const char *label, const char *value)
{
    value = lk_cli_clean(c->arena, value ? value : "", true);
    printf("%s:%s%s\n", label, *value ? " " : "", value);
}

const char *lk_cli_time(lk_cli_cmd *c, int64_t t, const char *none)
{
    if (t == 0)
        return none;
    char buf[LK_TIME_BUF];
    return lk_arena_strdup(c->arena, lk_time_format(t, buf));
}

const char *lk_cli_i64(lk_cli_cmd *c, int64_t v)
{
    return lk_arena_printf(c->arena, "%lld", (long long)v);
}

const char *lk_cli_grants_text(lk_cli_cmd *c, const lk_user *u)
{
    const char *s = "";
    for (size_t i = 0; i < u->n_grants; i++)
        s = lk_arena_printf(c->arena, "%s%s%s@%s", s, i ? ", " : "", u->grants[i].role_name,
                            u->grants[i].workspace_name);
    return s;
}
