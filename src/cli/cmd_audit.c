/* cmd_audit — `latchkey audit list`: the audit trail, newest first, with filters. */
#include "cli/cli.h"

#include <stdlib.h>

#include "core/audit.h"

#define LIMIT_DEFAULT 50
#define LIMIT_MAX 1000000

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

static lk_code audit_list(lk_cli_cmd *c)
{
    lk_audit_filter f = {
        .since = lk_cli_num(c, "since"),
        .until = lk_cli_num(c, "until"),
        .area = lk_cli_str(c, "area"),
        .action = lk_cli_str(c, "action"),
        .actor = lk_cli_str(c, "actor"),
        .limit = lk_cli_num(c, "limit"),
    };
    lk_audit_event *evs;
    size_t n;
    lk_code code = lk_audit_list(c->op, &f, &evs, &n);
    if (code != LK_OK)
        return code;
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, lk_cli_audit_json(&evs[i]));
        return lk_cli_emit1("events", arr);
    }
    lk_table t;
    lk_table_init(&t, c->arena, 7);
    lk_table_row(&t, "TIME", "ACTOR", "ADDRESS", "AREA", "ACTION", "TARGET", "DETAILS");
    for (size_t i = 0; i < n; i++)
        lk_table_row(&t, lk_cli_time(c, evs[i].at, ""), evs[i].actor,
                     evs[i].address && *evs[i].address ? evs[i].address : "-", evs[i].area, evs[i].action,
                     evs[i].target, details_text(c, evs[i].details));
    lk_table_print(&t, stdout);
    return LK_OK;
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
     .help = "at most N events, 0 for all"},
    {.name = NULL},
};

static const lk_cli_verb verbs[] = {
    {.name = "list", .read_only = true, .opts = list_opts, .run = audit_list,
     .summary = "list audit events, newest first",
     .help = "Lists the audit trail, newest first: who changed what, when and from where,\n"
             "with a snapshot of the change (never a secret). WHEN is a date (2027-01-31,\n"
             "midnight UTC) or an ISO-8601 date-time with a zone (2027-01-31T17:00:00Z).\n"},
    {.name = NULL},
};

const lk_cli_noun lk_cli_noun_audit = {
    .name = "audit",
    .summary = "the audit trail: every administrative change, who made it and when",
    .verbs = verbs,
};
