/*
 * admin_audit — the console's Audit Trail and Login History (docs/console-api.md):
 * filtered lists as JSON, or as CSV downloads (RFC 4180; cells that a spreadsheet
 * would run as a formula are prefixed with a quote).
 */
#include "api/admin_internal.h"
#include "core/audit.h"
#include "core/session.h"
#include "util/strbuf.h"
#include "util/timefmt.h"

#include <stdlib.h>
#include <string.h>

#define LIMIT_DEFAULT 500
#define LIMIT_MAX 100000

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

static void send_csv(lk_admin_call *c, const char *name, lk_strbuf *o)
{
    lk_resp_header(c->r, "Content-Disposition", lk_arena_printf(&c->r->arena, "attachment; filename=\"%s\"", name));
    lk_resp_text(c->r, 200, "text/csv;charset=UTF-8", lk_strbuf_str(o));
}

/* ---- filters ------------------------------------------------------------------------ */

/* since/until as instants; limit; false after answering 400 */
static bool period(lk_admin_call *c, int64_t *since, int64_t *until, int64_t *limit)
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
    const char *l = lk_admin_query(c, "limit");
    *limit = LIMIT_DEFAULT;
    if (l && *l) {
        *limit = strspn(l, "0123456789") == strlen(l) && strlen(l) <= 6 ? strtoll(l, NULL, 10) : -1;
        if (*limit < 1 || *limit > LIMIT_MAX) {
            lk_admin_fail(c, 400, "invalid", "limit", "limit must be a whole number from 1 to 100000");
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

/* ---- the calls --------------------------------------------------------------------------- */

void lk_admin_audit(lk_admin_call *c)
{
    lk_audit_filter f = {.area = nonempty(lk_admin_query(c, "area")),
                         .action = nonempty(lk_admin_query(c, "action")),
                         .actor = nonempty(lk_admin_query(c, "actor"))};
    if (!period(c, &f.since, &f.until, &f.limit))
        return;
    lk_audit_event *ev = NULL;
    size_t n = 0;
    if (lk_audit_list(&c->op, &f, &ev, &n) != LK_OK)
        return lk_admin_fail_op(c);
    char when[LK_TIME_BUF];
    if (want_csv(c)) {
        lk_strbuf o;
        lk_strbuf_init(&o, &c->r->arena);
        lk_strbuf_puts(&o, "time,actor,address,area,action,target,details\r\n");
        for (size_t i = 0; i < n; i++) {
            cell(&o, lk_time_format(ev[i].at, when), false);
            cell(&o, ev[i].actor, false);
            cell(&o, ev[i].address, false);
            cell(&o, ev[i].area, false);
            cell(&o, ev[i].action, false);
            cell(&o, ev[i].target, false);
            cell(&o, ev[i].details, true);
        }
        return send_csv(c, "audit-trail.csv", &o);
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_error_t jerr;
        json_t *details = json_loads(ev[i].details ? ev[i].details : "{}", 0, &jerr);
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", (json_int_t)ev[i].id,
                                             "at", lk_time_format(ev[i].at, when), "actor", ev[i].actor, "address",
                                             ev[i].address ? ev[i].address : "", "area", ev[i].area, "action",
                                             ev[i].action, "target", ev[i].target ? ev[i].target : "", "details",
                                             details ? details : json_object()));
    }
    lk_admin_ok(c, arr);
}

void lk_admin_logins(lk_admin_call *c)
{
    const char *failed = lk_admin_query(c, "failed");
    lk_login_filter f = {.email = nonempty(lk_admin_query(c, "email")),
                         .failed_only = failed && (strcmp(failed, "1") == 0 || strcmp(failed, "true") == 0)};
    if (!period(c, &f.since, &f.until, &f.limit))
        return;
    lk_login_rec *recs = NULL;
    size_t n = 0;
    if (lk_login_history(&c->op, &f, &recs, &n) != LK_OK)
        return lk_admin_fail_op(c);
    char when[LK_TIME_BUF];
    if (want_csv(c)) {
        lk_strbuf o;
        lk_strbuf_init(&o, &c->r->arena);
        lk_strbuf_puts(&o, "time,email,address,success,reason\r\n");
        for (size_t i = 0; i < n; i++) {
            cell(&o, lk_time_format(recs[i].at, when), false);
            cell(&o, recs[i].email, false);
            cell(&o, recs[i].address, false);
            cell(&o, recs[i].success ? "yes" : "no", false);
            cell(&o, recs[i].reason, true);
        }
        return send_csv(c, "login-history.csv", &o);
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:o, s:s, s:b, s:s}", "id", (json_int_t)recs[i].id,
                                             "at", lk_time_format(recs[i].at, when), "email", recs[i].email,
                                             "userId", recs[i].user_id ? json_integer(recs[i].user_id) : json_null(),
                                             "address", recs[i].address, "success", recs[i].success, "reason",
                                             recs[i].reason));
    lk_admin_ok(c, arr);
}
