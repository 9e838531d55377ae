/*
 * admin_mail — the console's view of the email queue (Web Services page): where
 * mail goes and the newest messages with their state. No message's text, and so
 * no link, is ever part of it.
 */
#include "api/admin_internal.h"
#include "core/mailq.h"
#include "mail/send.h"
#include "runtime/mailer.h"

#include <stdlib.h>
#include <string.h>

static json_t *mail_json(const lk_mail_rec *m)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:s, s:s}", "id", (json_int_t)m->id, "kind",
                     m->kind, "to", m->recipient, "lang", m->lang, "status", lk_mail_status_name(m->status),
                     "attempts", m->attempts, "createdAt", lk_admin_time(m->created_at), "nextAttemptAt",
                     m->status == LK_MAIL_QUEUED ? lk_admin_time(m->next_at) : json_null(), "doneAt",
                     lk_admin_time(m->done_at), "lastError", m->last_error, "delivery", m->delivery);
}

/* where mail goes, and one page of the queue, newest first: ?status, ?q (a part of
 * the recipient's address) */
void lk_admin_mail(lk_admin_call *c)
{
    const char *status = lk_admin_query(c, "status");
    bool bad = false;
    lk_mail_filter f = {.status = -1, .search = lk_admin_search(c, "q", &bad)};
    if (bad)
        return;
    if (status && *status && (f.status = lk_mail_status_parse(status)) < 0)
        return lk_admin_fail(c, 400, "invalid", "status", "status must be queued, sent, failed or cancelled");
    lk_admin_page pg;
    if (!lk_admin_page_begin(c, &pg, LK_CURSOR_ID))
        return;
    f.after = pg.after_id;
    f.limit = pg.limit + 1;
    int64_t cap = f.status >= 0 || f.search ? LK_ADMIN_COUNT_CAP + 1 : 0, total = 0;
    lk_mail_rec *recs = NULL;
    size_t n = 0, i = 0;
    if (lk_mailq_list(&c->op, &f, &recs, &n) != LK_OK || lk_mailq_count(&c->op, &f, cap, &total) != LK_OK) {
        lk_admin_page_end(&pg);
        return lk_admin_fail_op(c);
    }
    while (i < n && lk_admin_page_take(&pg, mail_json(&recs[i])))
        i++;
    json_t *answer = lk_admin_page_json(&pg, "messages", i < n ? lk_admin_cursor_id(c, recs[i - 1].id) : NULL, total, cap);
    const lk_config *cfg = lk_runtime_config(c->r->rt);
    char where[2 * LK_CONFIG_STR + 8];
    if (cfg->smtp_host[0])
        snprintf(where, sizeof where, "%s:%d (%s)", cfg->smtp_host, lk_mail_smtp_port((int)cfg->smtp_port, cfg->smtp_security), cfg->smtp_security);
    else
        lk_mailer_outbox(cfg, where, sizeof where);
    json_object_set_new(answer, "transport", json_string(cfg->smtp_host[0] ? "smtp" : "outbox"));
    json_object_set_new(answer, "target", json_string(where));
    json_object_set_new(answer, "from", json_string(cfg->mail_from));
    lk_admin_ok(c, answer);
}
