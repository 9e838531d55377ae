/*
 * admin_list — how the console's lists are paged (docs/console-api.md#lists): the
 * limit and cursor of a request, the search text, a page that stops at its limit or
 * at a byte budget, the total, and the answer {"<name>":[...], "total",
 * "totalExact", "limit", "next"}.
 *
 * Rules kept here, whatever the list: a page never holds more than its limit nor,
 * after its first row, more than LK_ADMIN_PAGE_BYTES of records, so no answer grows
 * with the instance; the handler asks the store for one row more than the limit,
 * which tells it whether a next page exists without counting.
 */
#include "api/admin_internal.h"
#include "util/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* digits only, at most 18 of them: a positive int64 */
static bool parse_positive(const char *s, int64_t *out)
{
    size_t n = s ? strlen(s) : 0;
    if (!n || n > 18 || strspn(s, "0123456789") != n)
        return false;
    *out = strtoll(s, NULL, 10);
    return *out > 0;
}

bool lk_admin_page_begin(lk_admin_call *c, lk_admin_page *p, lk_admin_cursor kind)
{
    *p = (lk_admin_page){.limit = LK_ADMIN_LIMIT_DEFAULT, .kind = kind};
    const char *limit = lk_admin_query(c, "limit"), *after = lk_admin_query(c, "after");
    if (limit && *limit && (!parse_positive(limit, &p->limit) || p->limit > LK_ADMIN_LIMIT_MAX)) {
        lk_admin_fail(c, 400, "invalid", "limit",
                      lk_arena_printf(&c->r->arena, "limit must be a whole number from 1 to %d",
                                      LK_ADMIN_LIMIT_MAX));
        return false;
    }
    if (after && *after) {
        /* what lk_admin_cursor_id/_at_id wrote: "ID", or "AT.ID" */
        const char *dot = strchr(after, '.');
        bool ok = kind == LK_CURSOR_ID ? parse_positive(after, &p->after_id)
                                       : dot && parse_positive(dot + 1, &p->after_id) &&
                                             parse_positive(lk_arena_strndup(&c->r->arena, after,
                                                                             (size_t)(dot - after)),
                                                            &p->after_at);
        if (!ok) {
            lk_admin_fail(c, 400, "invalid", "after",
                          "after must be the \"next\" cursor of a previous page of this list");
            return false;
        }
    }
    p->items = json_array();
    return true;
}

const char *lk_admin_search(lk_admin_call *c, const char *name, bool *bad)
{
    const char *q = lk_admin_query(c, name);
    if (!q || *bad)
        return NULL;
    if (strlen(q) > LK_ADMIN_SEARCH_MAX || lk_utf8_count(q) < 0 || lk_text_has_control(q, false)) {
        *bad = true;
        lk_admin_fail(c, 400, "invalid", name,
                      lk_arena_printf(&c->r->arena, "%s must be text of at most %d bytes", name,
                                      LK_ADMIN_SEARCH_MAX));
        return NULL;
    }
    return *q ? q : NULL;
}

bool lk_admin_page_take(lk_admin_page *p, json_t *row)
{
    size_t size = json_dumpb(row, NULL, 0, JSON_COMPACT) + 1; /* and its comma */
    if (p->n == (size_t)p->limit || (p->n > 0 && p->bytes + size > LK_ADMIN_PAGE_BYTES)) {
        json_decref(row);
        return false;
    }
    json_array_append_new(p->items, row);
    p->bytes += size;
    p->n++;
    return true;
}

const char *lk_admin_cursor_id(lk_admin_call *c, int64_t id)
{
    return lk_arena_printf(&c->r->arena, "%lld", (long long)id);
}

const char *lk_admin_cursor_at_id(lk_admin_call *c, int64_t at, int64_t id)
{
    return lk_arena_printf(&c->r->arena, "%lld.%lld", (long long)at, (long long)id);
}

json_t *lk_admin_page_json(lk_admin_page *p, const char *name, const char *next, int64_t counted, int64_t cap)
{
    bool exact = cap <= 0 || counted < cap;
    json_t *o = json_object();
    json_object_set_new(o, name, p->items);
    p->items = NULL;
    json_object_set_new(o, "total", json_integer(exact ? counted : cap - 1));
    json_object_set_new(o, "totalExact", json_boolean(exact));
    json_object_set_new(o, "limit", json_integer(p->limit));
    json_object_set_new(o, "next", next ? json_string(next) : json_null());
    return o;
}

void lk_admin_page_end(lk_admin_page *p)
{
    json_decref(p->items);
    p->items = NULL;
}

/* ---- CSV pages ------------------------------------------------------------------------ */

static void put_encoded(lk_strbuf *o, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p)) {
            lk_strbuf_putc(o, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            lk_strbuf_putn(o, e, 3);
        }
    }
}

void lk_admin_link_next(lk_admin_call *c, const char *next)
{
    if (!next)
        return;
    lk_strbuf o;
    lk_strbuf_init(&o, &c->r->arena);
    lk_strbuf_putc(&o, '<');
    lk_strbuf_puts(&o, c->r->path);
    char sep = '?';
    for (size_t i = 0; c->r->query_ok && i < c->r->query.n; i++) {
        const lk_param *q = &c->r->query.params[i];
        if (strcmp(q->name, "after") == 0)
            continue;
        lk_strbuf_putc(&o, sep);
        put_encoded(&o, q->name);
        lk_strbuf_putc(&o, '=');
        put_encoded(&o, q->value);
        sep = '&';
    }
    lk_strbuf_putc(&o, sep);
    lk_strbuf_puts(&o, "after=");
    put_encoded(&o, next);
    lk_strbuf_puts(&o, ">; rel=\"next\"");
    lk_resp_header(c->r, "Link", lk_strbuf_str(&o));
}
