/* cmd_audit — `latchkey audit list`: the audit trail, newest first, with filters. */
#include "cli/cli.h"

#include <stdlib.h>

#include "core/audit.h"

#define LIMIT_DEFAULT 50
#define LIMIT_MAX LK_CLI_LIMIT_MAX

/* the details as compact JSON, for a table cell */
static const char *details_text(lk_cli_cmd *c, const char *details)
{
    json_t *d = lk_cli_details_json(details);
    char *s = json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(d);
    const char *out = lk_arena_strdup(c->arena, s ? s : "");
    free(s);
    return out;
}

typedef struct audit_rows {
    lk_audit_filter f;
    lk_audit_event *evs;
} audit_rows;

static lk_code audit_fetch(lk_cli_cmd *c, void *ctx, const char *after, int64_t max, size_t *n)
{
    audit_rows *r = ctx;
    char *dot = NULL;
    r->f.after_at = after ? strtoll(after, &dot, 10) : 0;
    r->f.after_id = after && dot && *dot == '.' ? strtoll(dot + 1, NULL, 10) : 0;
    r->f.limit = max;
    return lk_audit_list(c->op, &r->f, &r->evs, n);
}

static json_t *audit_row_json(lk_cli_cmd *c, void *ctx, size_t i)
{
    (void)c;
    return lk_cli_audit_json(&((audit_rows *)ctx)->evs[i]);
}

static void audit_header(lk_table *t)
{
    lk_table_row(t, "TIME", "ACTOR", "ADDRESS", "AREA", "ACTION", "TARGET", "DETAILS");
}

static void audit_cells(lk_cli_cmd *c, void *ctx, size_t i, lk_table *t)
{
    const lk_audit_event *e = &((audit_rows *)ctx)->evs[i];
    lk_table_row(t, lk_cli_time(c, e->at, ""), e->actor, e->address && *e->address ? e->address : "-", e->area,
                 e->action, e->target, details_text(c, e->details));
}

static const char *audit_cursor(lk_cli_cmd *c, void *ctx, size_t i)
{
    const lk_audit_event *e = &((audit_rows *)ctx)->evs[i];
    return lk_arena_printf(c->arena, "%lld.%lld", (long long)e->at, (long long)e->id);
}

static const lk_cli_listing AUDIT_LIST = {
    .key = "events", .noun = "events", .ncols = 7, .header = audit_header, .fetch = audit_fetch,
    .json = audit_row_json, .cells = audit_cells, .cursor = audit_cursor,
};

static lk_code audit_list(lk_cli_cmd *c)
{
    audit_rows rows = {.f = {
        .since = lk_cli_num(c, "since"),
        .until = lk_cli_num(c, "until"),
        .area = lk_cli_str(c, "area"),
        .action = lk_cli_str(c, "action"),
        .actor = lk_cli_str(c, "actor"),
    }};
    if (!lk_cli_cursor_ok(lk_cli_str(c, "after"), true))
        return lk_cli_usage(c, "after", "--after must be the cursor the previous list's note gave");
    return lk_cli_listing_run(c, &AUDIT_LIST, &rows, lk_cli_num(c, "limit"), lk_cli_str(c, "after"));
}

static const lk_cli_opt list_opts[] = {
    {.name = "since", .kind = LK_CLI_TIME, .meta = "WHEN", .help = "events at or after this instant"},
    {.name = "until", .kind = LK_CLI_TIME, .meta = "WHEN", .help = "events before this instant"},
    {.name = "area", .kind = LK_CLI_TEXT, .meta = "AREA",
     .help = "Workspace, Permission, Role, User or Service"},
    {.name = "action", .kind = LK_CLI_TEXT, .meta = "ACTION",
     .help = "Create, Edit, Delete, Lock, Unlock or Rotate Secret"},
    {.name = "actor", .kind = LK_CLI_TEXT, .meta = "TEXT",
     .help = "events whose actor contains this text (cli:root, user:a@x.com)"},
    {.name = "limit", .kind = LK_CLI_COUNT, .meta = "N", .max = LIMIT_MAX, .dflt = LIMIT_DEFAULT,
     .help = "at most N events (default 50), 0 for all"},
    {.name = "after", .kind = LK_CLI_TEXT, .meta = "CURSOR",
     .help = "the events older than this cursor (the note's --after)"},
    {.name = NULL},
};

static const lk_cli_verb verbs[] = {
    {.name = "list", .read_only = true, .opts = list_opts, .run = audit_list,
     .summary = "list audit events, newest first",
     .help = "Lists the audit trail, newest first: who changed what, when and from where,\n"
             "with a snapshot of the change (never a secret). WHEN is a date (2027-01-31,\n"
             "midnight UTC) or an ISO-8601 date-time with a zone (2027-01-31T17:00:00Z).\n"
             "When more events match than --limit, a note on stderr gives the --after that\n"
             "lists the older ones.\n"},
    {.name = NULL},
};

const lk_cli_noun lk_cli_noun_audit = {
    .name = "audit",
    .summary = "the audit trail: every administrative change, who made it and when",
    .verbs = verbs,
};
