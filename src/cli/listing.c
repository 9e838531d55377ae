/*
 * listing — how the list commands print a list of any size (docs/cli.md#lists):
 * pages of at most CHUNK rows are read and printed one after the other, each in an
 * arena of its own, so that `--limit 0` on a million users holds one page at a time.
 *
 * The output is what one document or one table would be: `{"KEY": [...]}` with
 * JSON_INDENT(2), plus "next" when the limit cut the list; a table with one header
 * row (the column widths follow each page). When rows remain beyond the limit, a
 * note on stderr says how to see them. A store failure on the first page prints
 * only the error; on a later one (the database went away meanwhile) the list ends
 * where it was and the error document follows it.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK 500

/* one element of the array, as json_dumps(doc, JSON_INDENT(2)) nests it two levels deep */
static void print_element(json_t *v, bool first)
{
    char *text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(v);
    if (!text) {
        fputs("latchkey: out of memory\n", stderr);
        abort();
    }
    fputs(first ? "\n    " : ",\n    ", stdout);
    for (const char *p = text; *p; p++) {
        putchar(*p);
        if (*p == '\n')
            fputs("    ", stdout);
    }
    free(text);
}

static bool digits(const char *s, size_t n)
{
    return n > 0 && n <= 18 && strspn(s, "0123456789") >= n;
}

bool lk_cli_cursor_ok(const char *after, bool at_id)
{
    if (!after)
        return true;
    const char *dot = at_id ? strchr(after, '.') : NULL;
    if (at_id)
        return dot && digits(after, (size_t)(dot - after)) && digits(dot + 1, strlen(dot + 1));
    return digits(after, strlen(after));
}

lk_code lk_cli_listing_run(lk_cli_cmd *c, const lk_cli_listing *l, void *ctx, int64_t limit, const char *after)
{
    lk_arena *cmd_arena = c->arena;
    lk_arena page = LK_ARENA_INIT;
    int64_t shown = 0;
    const char *cursor = after && *after ? after : NULL, *next = NULL;
    bool more = false;
    lk_code code = LK_OK;
    bool opened = false;
    for (;;) {
        int64_t want = limit > 0 ? limit - shown : CHUNK;
        if (want > CHUNK)
            want = CHUNK;
        /* one row more than wanted tells whether the list goes on */
        size_t n = 0;
        c->arena = c->op->arena = &page;
        code = l->fetch(c, ctx, cursor, want + 1, &n);
        if (code != LK_OK)
            break;
        if (c->json && !opened)
            printf("{\n  \"%s\": [", l->key);
        opened = true;
        size_t take = n > (size_t)want ? (size_t)want : n;
        lk_table t;
        if (!c->json) {
            lk_table_init(&t, &page, l->ncols);
            if (shown == 0)
                l->header(&t);
        }
        for (size_t i = 0; i < take; i++) {
            if (c->json)
                print_element(l->json(c, ctx, i), shown == 0 && i == 0);
            else
                l->cells(c, ctx, i, &t);
        }
        if (!c->json)
            lk_table_print(&t, stdout);
        shown += (int64_t)take;
        more = n > take;
        if (take > 0)
            cursor = lk_arena_strdup(cmd_arena, l->cursor(c, ctx, take - 1));
        lk_arena_reset(&page);
        if (!more || (limit > 0 && shown >= limit))
            break;
    }
    c->arena = c->op->arena = cmd_arena;
    lk_arena_free(&page);
    if (code != LK_OK) {
        if (c->json && opened)
            fputs(shown ? "\n  ]\n}\n" : "]\n}\n", stdout); /* then the error document */
        return code;
    }
    next = more ? cursor : NULL;
    if (c->json) {
        fputs(shown ? "\n  ]" : "]", stdout);
        if (next) {
            json_t *s = json_string(next);
            char *text = json_dumps(s, JSON_ENCODE_ANY);
            printf(",\n  \"next\": %s", text ? text : "null");
            free(text);
            json_decref(s);
        }
        fputs("\n}\n", stdout);
    }
    if (next)
        fprintf(stderr, "latchkey: %lld %s shown; more with --after %s (or --limit 0 for all)\n", (long long)shown,
                l->noun, lk_cli_clean(c->arena, next, true));
    return LK_OK;
}
