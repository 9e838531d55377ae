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

void lk_admin_mail(lk_admin_call *c)
{
    const char *status = lk_admin_query(c, "status"), *limit = lk_admin_query(c, "limit");
    lk_mail_filter f = {.status = -1, .limit = 100};
    if (status && *status && (f.status = lk_mail_status_parse(status)) < 0)
        return lk_admin_fail(c, 400, "invalid", "status", "status must be queued, sent, failed or cancelled");
    if (limit && *limit) {
        char *end = NULL;
        long long n = strtoll(limit, &end, 10);
        if (*end || n < 1 || n > 1000)
            return lk_admin_fail(c, 400, "invalid", "limit", "limit must be a whole number from 1 to 1000");
        f.limit = n;
    }
    lk_mail_rec *recs = NULL;
    size_t n = 0;
    if (lk_mailq_list(&c->op, &f, &recs, &n) != LK_OK)
        return lk_admin_fail_op(c);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, mail_json(&recs[i]));
    const lk_config *cfg = lk_runtime_config(c->r->rt);
    char where[2 * LK_CONFIG_STR + 8];
    if (cfg->smtp_host[0])
        snprintf(where, sizeof where, "%s:%d (%s)", cfg->smtp_host, lk_mail_smtp_port((int)cfg->smtp_port, cfg->smtp_security), cfg->smtp_security);
    else
        lk_mailer_outbox(cfg, where, sizeof where);
    lk_admin_ok(c, json_pack("{s:s, s:s, s:s, s:o}", "transport", cfg->smtp_host[0] ? "smtp" : "outbox", "target",
                             where, "from", cfg->mail_from, "messages", arr));
}
