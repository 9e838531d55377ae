/*
 * admin_audit — the console's Audit Trail and Login History (docs/console-api.md):
 * filtered lists, newest first, paged as JSON, or as CSV pages that a download joins
 * (RFC 4180; cells that a spreadsheet would run as a formula are prefixed with a
 * quote).
 */
#include "api/admin_internal.h"
#include "core/audit.h"
#include "core/session.h"
#include "util/strbuf.h"
#include "util/timefmt.h"

#include <stdlib.h>
#include <string.h>

/* ---- CSV ------------------------------------------------------------------------- */

static void cell(lk_strbuf *o, const char *s, bool last)
{
    s = s ? s : "";
    lk_strbuf_putc(o, '"');
    if (strchr("=+-@\t\r", s[0]) && s[0])
        lk_strbuf_putc(o, '\'');
    for (const char *p = s; *p; p++)
        lk_strbuf_putn(o, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
    lk_strbuf_puts(o, last ? "\"\r\n" : "\",");
}

/* ---- filters ------------------------------------------------------------------------ */

/* since/until as instants; false after answering 400 */
static bool period(lk_admin_call *c, int64_t *since, int64_t *until)
{
    const char *names[] = {"since", "until"};
    int64_t *outs[] = {since, until};
    for (size_t i = 0; i < 2; i++) {
        const char *v = lk_admin_query(c, names[i]);
        *outs[i] = 0;
        if (v && *v && !lk_time_parse(v, outs[i])) {
            lk_admin_fail(c, 400, "invalid", names[i],
                          lk_arena_printf(&c->r->arena, "%s must be a date (2027-01-31) or a date-time with a zone",
                                          names[i]));
            return false;
        }
    }
    return true;
}

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

static bool want_csv(lk_admin_call *c)
{
    const char *f = lk_admin_query(c, "format");
    return f && strcmp(f, "csv") == 0;
}

/*
 * A CSV page: the header row on the first page only, so that the pages of a
 * download join into one file; rows up to the limit or LK_ADMIN_PAGE_BYTES (the
 * first row always), and a Link header to the next page when there is one.
 * rows(ctx, i, o) writes row i; cursor(ctx, i) is the cursor after it.
 */
typedef void (*csv_row_fn)(void *ctx, size_t i, lk_strbuf *o);
typedef const char *(*csv_cursor_fn)(lk_admin_call *c, void *ctx, size_t i);

static void send_csv_page(lk_admin_call *c, const lk_admin_page *pg, const char *name, const char *header, size_t n,
                          csv_row_fn row, csv_cursor_fn cursor, void *ctx)
{
    lk_strbuf o, line;
    lk_strbuf_init(&o, &c->r->arena);
    if (!pg->after_id)
        lk_strbuf_puts(&o, header);
    size_t i = 0;
    for (; i < n && i < (size_t)pg->limit; i++) {
        lk_strbuf_init(&line, &c->r->arena);
        row(ctx, i, &line);
        if (i > 0 && o.len + line.len > LK_ADMIN_PAGE_BYTES)
            break;
        lk_strbuf_putn(&o, line.p, line.len);
    }
    lk_admin_link_next(c, i < n ? cursor(c, ctx, i - 1) : NULL);
    lk_resp_header(c->r, "Content-Disposition", lk_arena_printf(&c->r->arena, "attachment; filename=\"%s\"", name));
    lk_resp_text(c->r, 200, "text/csv;charset=UTF-8", lk_strbuf_str(&o));
}

/* ---- the audit trail ----------------------------------------------------------------------- */

typedef struct audit_rows {
    const lk_audit_event *ev;
} audit_rows;

static void audit_csv_row(void *ctx, size_t i, lk_strbuf *o)
{
    const lk_audit_event *e = &((audit_rows *)ctx)->ev[i];
    char when[LK_TIME_BUF];
    cell(o, lk_time_format(e->at, when), false);
    cell(o, e->actor, false);
    cell(o, e->address, false);
    cell(o, e->area, false);
    cell(o, e->action, false);
    cell(o, e->target, false);
    cell(o, e->details, true);
}

static const char *audit_cursor(lk_admin_call *c, void *ctx, size_t i)
{
    const lk_audit_event *e = &((audit_rows *)ctx)->ev[i];
    return lk_admin_cursor_at_id(c, e->at, e->id);
}

static json_t *audit_json(const lk_audit_event *e)
{
    char when[LK_TIME_BUF];
    json_error_t jerr;
    json_t *details = json_loads(e->details ? e->details : "{}", 0, &jerr);
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", (json_int_t)e->id, "at",
                     lk_time_format(e->at, when), "actor", e->actor, "address", e->address ? e->address : "", "area",
                     e->area, "action", e->action, "target", e->target ? e->target : "", "details",
                     details ? details : json_object());
}

void lk_admin_audit(lk_admin_call *c)
{
    lk_audit_filter f = {.area = nonempty(lk_admin_query(c, "area")),
                         .action = nonempty(lk_admin_query(c, "action")),
                         .actor = nonempty(lk_admin_query(c, "actor"))};
    lk_admin_page pg;
    if (!period(c, &f.since, &f.until) || !lk_admin_page_begin(c, &pg, LK_CURSOR_AT_ID))
        return;
    f.after_at = pg.after_at;
    f.after_id = pg.after_id;
    f.limit = pg.limit + 1;
    lk_audit_event *ev = NULL;
    size_t n = 0, i = 0;
    if (lk_audit_list(&c->op, &f, &ev, &n) != LK_OK) {
        lk_admin_page_end(&pg);
        return lk_admin_fail_op(c);
    }
    audit_rows rows = {ev};
    if (want_csv(c)) {
        lk_admin_page_end(&pg);
        return send_csv_page(c, &pg, "audit-trail.csv", "time,actor,address,area,action,target,details\r\n", n,
                             audit_csv_row, audit_cursor, &rows);
    }
    bool filtered = f.since || f.until || f.area || f.action || f.actor;
    int64_t cap = filtered ? LK_ADMIN_COUNT_CAP + 1 : 0, total = 0;
    if (lk_audit_count(&c->op, &f, cap, &total) != LK_OK) {
        lk_admin_page_end(&pg);
        return lk_admin_fail_op(c);
    }
    while (i < n && lk_admin_page_take(&pg, audit_json(&ev[i])))
        i++;
    lk_admin_ok(c, lk_admin_page_json(&pg, "events", i < n ? audit_cursor(c, &rows, i - 1) : NULL, total, cap));
}

/* ---- the login history --------------------------------------------------------------------- */

typedef struct login_rows {
    const lk_login_rec *recs;
} login_rows;

static void login_csv_row(void *ctx, size_t i, lk_strbuf *o)
{
    const lk_login_rec *r = &((login_rows *)ctx)->recs[i];
    char when[LK_TIME_BUF];
    cell(o, lk_time_format(r->at, when), false);
    cell(o, r->email, false);
    cell(o, r->address, false);
    cell(o, r->success ? "yes" : "no", false);
    cell(o, r->reason, true);
}

static const char *login_cursor(lk_admin_call *c, void *ctx, size_t i)
{
    const lk_login_rec *r = &((login_rows *)ctx)->recs[i];
    return lk_admin_cursor_at_id(c, r->at, r->id);
}

static json_t *login_json(const lk_login_rec *r)
{
    char when[LK_TIME_BUF];
    return json_pack("{s:I, s:s, s:s, s:o, s:s, s:b, s:s}", "id", (json_int_t)r->id, "at", lk_time_format(r->at, when),
                     "email", r->email, "userId", r->user_id ? json_integer(r->user_id) : json_null(), "address",
                     r->address, "success", r->success, "reason", r->reason);
}

void lk_admin_logins(lk_admin_call *c)
{
    const char *failed = lk_admin_query(c, "failed");
    lk_login_filter f = {.email = nonempty(lk_admin_query(c, "email")),
                         .failed_only = failed && (strcmp(failed, "1") == 0 || strcmp(failed, "true") == 0)};
    lk_admin_page pg;
    if (!period(c, &f.since, &f.until) || !lk_admin_page_begin(c, &pg, LK_CURSOR_AT_ID))
        return;
    f.after_at = pg.after_at;
    f.after_id = pg.after_id;
    f.limit = pg.limit + 1;
    lk_login_rec *recs = NULL;
    size_t n = 0, i = 0;
    if (lk_login_history(&c->op, &f, &recs, &n) != LK_OK) {
        lk_admin_page_end(&pg);
        return lk_admin_fail_op(c);
    }
    login_rows rows = {recs};
    if (want_csv(c)) {
        lk_admin_page_end(&pg);
        return send_csv_page(c, &pg, "login-history.csv", "time,email,address,success,reason\r\n", n,
                             login_csv_row, login_cursor, &rows);
    }
    bool filtered = f.since || f.until || f.email || f.failed_only;
    int64_t cap = filtered ? LK_ADMIN_COUNT_CAP + 1 : 0, total = 0;
    if (lk_login_count(&c->op, &f, cap, &total) != LK_OK) {
        lk_admin_page_end(&pg);
        return lk_admin_fail_op(c);
    }
    while (i < n && lk_admin_page_take(&pg, login_json(&recs[i])))
        i++;
    lk_admin_ok(c, lk_admin_page_json(&pg, "logins", i < n ? login_cursor(c, &rows, i - 1) : NULL, total, cap));
}
