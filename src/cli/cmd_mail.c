/*
 * cmd_mail — `latchkey mail list`: the email queue, newest first. The CLI only
 * reads it; the running server sends (runtime/mailer.h). `mail export-templates`
 * and `mail check-templates` serve the mail_templates option (docs/server.md).
 */
#include "cli/cli.h"

#include <stdlib.h>

#include "core/mailq.h"
#include "mail/message.h"

#define LIMIT_DEFAULT 50
#define LIMIT_MAX LK_CLI_LIMIT_MAX

static json_t *mail_json(const lk_mail_rec *m)
{
    return json_pack("{s:I, s:s, s:o, s:s, s:s, s:i, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)m->id, "kind",
                     m->kind, "to", lk_cli_json_str(m->recipient), "lang", m->lang, "status",
                     lk_mail_status_name(m->status), "attempts", m->attempts, "createdAt",
                     lk_cli_json_time(m->created_at), "nextAttemptAt",
                     m->status == LK_MAIL_QUEUED ? lk_cli_json_time(m->next_at) : json_null(), "doneAt",
                     lk_cli_json_time(m->done_at), "lastError", lk_cli_json_str(m->last_error), "delivery",
                     lk_cli_json_str(m->delivery));
}

typedef struct mail_rows {
    lk_mail_filter f;
    lk_mail_rec *recs;
} mail_rows;

static lk_code mail_fetch(lk_cli_cmd *c, void *ctx, const char *after, int64_t max, size_t *n)
{
    mail_rows *r = ctx;
    r->f.after = after ? strtoll(after, NULL, 10) : 0;
    r->f.limit = max;
    return lk_mailq_list(c->op, &r->f, &r->recs, n);
}

static json_t *mail_row_json(lk_cli_cmd *c, void *ctx, size_t i)
{
    (void)c;
    return mail_json(&((mail_rows *)ctx)->recs[i]);
}

static void mail_header(lk_table *t)
{
    lk_table_row(t, "ID", "CREATED", "KIND", "TO", "STATUS", "ATTEMPTS", "NEXT/DONE", "DETAIL");
}

static void mail_cells(lk_cli_cmd *c, void *ctx, size_t i, lk_table *t)
{
    const lk_mail_rec *m = &((mail_rows *)ctx)->recs[i];
    const char *when = m->status == LK_MAIL_QUEUED ? lk_cli_time(c, m->next_at, "-") : lk_cli_time(c, m->done_at, "-");
    const char *detail = m->last_error && *m->last_error ? m->last_error : m->delivery;
    lk_table_row(t, lk_cli_i64(c, m->id), lk_cli_time(c, m->created_at, ""), m->kind,
                 lk_cli_clean(c->arena, m->recipient, true), lk_mail_status_name(m->status), lk_cli_i64(c, m->attempts),
                 when, detail && *detail ? lk_cli_clean(c->arena, detail, true) : "-");
}

static const char *mail_cursor(lk_cli_cmd *c, void *ctx, size_t i)
{
    return lk_cli_i64(c, ((mail_rows *)ctx)->recs[i].id);
}

static const lk_cli_listing MAIL_LIST = {
    .key = "messages", .noun = "messages", .ncols = 8, .header = mail_header, .fetch = mail_fetch,
    .json = mail_row_json, .cells = mail_cells, .cursor = mail_cursor,
};

static lk_code mail_list(lk_cli_cmd *c)
{
    const char *status = lk_cli_str(c, "status");
    mail_rows rows = {.f = {.status = -1, .search = lk_cli_str(c, "search")}};
    if (status && (rows.f.status = lk_mail_status_parse(status)) < 0)
        return lk_cli_usage(c, "status", "--status must be queued, sent, failed or cancelled");
    if (!lk_cli_cursor_ok(lk_cli_str(c, "after"), false))
        return lk_cli_usage(c, "after", "--after must be the id the previous list's note gave");
    return lk_cli_listing_run(c, &MAIL_LIST, &rows, lk_cli_num(c, "limit"), lk_cli_str(c, "after"));
}

static const lk_cli_opt list_opts[] = {
    {.name = "status", .kind = LK_CLI_TEXT, .meta = "STATUS", .help = "queued, sent, failed or cancelled"},
    {.name = "search", .kind = LK_CLI_TEXT, .meta = "TEXT", .help = "only messages to an address containing TEXT"},
    {.name = "limit", .kind = LK_CLI_COUNT, .meta = "N", .max = LIMIT_MAX, .dflt = LIMIT_DEFAULT,
     .help = "at most N messages (default 50), 0 for all"},
    {.name = "after", .kind = LK_CLI_TEXT, .meta = "ID", .help = "the messages older than this one (the note's --after)"},
    {.name = NULL},
};

static lk_code export_templates(lk_cli_cmd *c)
{
    char why[600];
    if (!lk_mail_tplset_export(c->arg, why, sizeof why))
        return lk_fail(&c->op->err, LK_EINVAL, "DIR", "%s", why);
    if (c->json)
        return lk_cli_emit1("folder", json_string(c->arg));
    printf("wrote the built-in templates into %s\n", c->arg);
    return LK_OK;
}

static lk_code check_templates(lk_cli_cmd *c)
{
    char why[600];
    lk_mail_tplset *set = lk_mail_tplset_load(c->arg, why, sizeof why);
    if (!set)
        return lk_fail(&c->op->err, LK_EINVAL, "DIR", "%s", why);
    lk_mail_tplset_free(set);
    if (c->json)
        return lk_cli_emit1("ok", json_true());
    printf("%s: the templates are usable\n", c->arg);
    return LK_OK;
}

static const lk_cli_verb verbs[] = {
    {.name = "list", .read_only = true, .opts = list_opts, .run = mail_list,
     .summary = "list the email queue, newest first",
     .help = "Lists the email latchkey sends (invitations, password resets, expiry and admin\n"
             "notices), newest first: queued messages with their next attempt, sent ones with\n"
             "where they went (SMTP server or .eml file), failed and cancelled ones with why.\n"
             "A message's text and its link are never shown.\n"},
    {.name = "export-templates", .arg = "DIR", .run = export_templates, .no_store = true,
     .summary = "write the built-in email templates into a folder",
     .help = "Writes every built-in template (English and German) into DIR as files, a\n"
             "starting point for the server's mail_templates option: edit the ones to\n"
             "change, delete the others. Existing files are never overwritten.\n"},
    {.name = "check-templates", .arg = "DIR", .run = check_templates, .no_store = true,
     .summary = "check a folder of email templates as the server would at start",
     .help = "Checks DIR as 'latchkey serve' checks its mail_templates folder: known file\n"
             "names, whole templates, known variables, well-formed sections, {link} in\n"
             "invitations and resets, {body} in a layout. Exit 0 when usable.\n"},
    {.name = NULL},
};

const lk_cli_noun lk_cli_noun_mail = {
    .name = "mail",
    .summary = "the email queue: what was sent, what waits, what failed",
    .verbs = verbs,
};
