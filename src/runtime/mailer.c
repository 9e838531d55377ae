/*
 * mailer — the sending thread (see mailer.h).
 *
 * One message at a time: claim (a transaction that mints the link and moves the
 * message's next attempt ahead), render and deliver with no transaction open, then
 * record the outcome in a second transaction.
 */
#include "runtime/mailer.h"
#include "runtime/prober.h" /* lk_mono_ms */
#include "core/mailq.h"
#include "mail/message.h"
#include "mail/send.h"
#include "store/store.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define POLL_SECONDS 1
#define SCAN_SECONDS 60
#define FINISH_TRIES 25          /* 200 ms apart: 5 s on top of SQLite's busy timeout */

struct lk_mailer {
    lk_config cfg;
    char public_url[LK_CONFIG_STR];
    char outbox[LK_CONFIG_STR];
    char from_addr[LK_CONFIG_STR];  /* the bare address of mail_from: envelope sender */
    const char *id_domain;          /* after its '@': the domain of every Message-ID */
    lk_store *store;
    lk_mail_tplset *templates;      /* mail_templates, NULL: the built-in ones */
    lk_mail_transport transport;
    lk_mail_policy policy;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool woken;
    atomic_int stopping;         /* read by the transport's abort check too */
};

const char *lk_mailer_outbox(const lk_config *cfg, char *buf, size_t len)
{
    if (cfg->mail_outbox[0]) {
        snprintf(buf, len, "%s", cfg->mail_outbox);
        return buf;
    }
    char dir[LK_CONFIG_STR];
    lk_store_side_dir(lk_store_default_location(cfg->db[0] ? cfg->db : NULL), cfg->token_key_file, dir, sizeof dir);
    if (strcmp(dir, ".") == 0)
        snprintf(buf, len, "outbox");
    else
        snprintf(buf, len, "%s/outbox", dir);
    return buf;
}

static const struct {
    const char *name;
    lk_mail_kind kind;
    const char *page;            /* the console page its link opens */
} KINDS[] = {
    {"invitation", LK_MAIL_INVITATION, "invite"},
    {"password_reset", LK_MAIL_PASSWORD_RESET, "reset"},
    {"expiry_notice", LK_MAIL_EXPIRY_NOTICE, NULL},
    {"admin_added", LK_MAIL_ADMIN_ADDED, NULL},
    {"admin_removed", LK_MAIL_ADMIN_REMOVED, NULL},
    {"email_changed", LK_MAIL_EMAIL_CHANGED, NULL},
};

static const char *str_of(lk_arena *a, json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? lk_arena_strdup(a, s) : NULL;
}

/* The message's bytes, or NULL (with why) when it cannot be rendered. */
static const char *compose(lk_mailer *m, lk_arena *a, const lk_mail_claim *c, const char **why)
{
    size_t k = 0;
    while (k < sizeof KINDS / sizeof KINDS[0] && strcmp(KINDS[k].name, c->rec.kind) != 0)
        k++;
    if (k == sizeof KINDS / sizeof KINDS[0]) {
        *why = "unknown kind of message";
        return NULL;
    }
    json_t *vars = json_loads(c->rec.vars, 0, NULL);
    if (!json_is_object(vars)) {
        json_decref(vars);
        *why = "its variables are not a JSON object";
        return NULL;
    }
    char expires[LK_TIME_BUF];
    lk_mail_vars v = {
        .recipient_name = c->rec.to_name,
        .message = str_of(a, vars, "message"),
        .actor_name = str_of(a, vars, "actor_name"),
        .subject_user = str_of(a, vars, "subject_user"),
        .expires_at = str_of(a, vars, "expires_at"),
        .days = (int)json_integer_value(json_object_get(vars, "days")),
        .to_admin = json_is_true(json_object_get(vars, "to_admin")),
        .console_url = m->public_url,
    };
    json_decref(vars);
    if (KINDS[k].page && c->token[0]) {
        v.link = lk_arena_printf(a, "%s/%s#%s", m->public_url, KINDS[k].page, c->token);
        v.link_expires = lk_arena_strdup(a, lk_time_format(c->link_expires, expires));
    }
    lk_mail_content content;
    const char *lang = c->rec.lang && *c->rec.lang ? c->rec.lang : m->cfg.mail_language;
    if (!lk_mail_render_with(m->templates, a, KINDS[k].kind, lang, &v, &content)) {
        *why = "the message could not be rendered (a variable is missing)";
        return NULL;
    }
    lk_mail_header h = {
        .from = m->cfg.mail_from,
        .to = c->rec.recipient,
        .to_name = c->rec.to_name && *c->rec.to_name ? c->rec.to_name : NULL,
        .date = c->rec.created_at,
        .message_id = lk_arena_printf(a, "%s@%s", c->rec.message_id, m->id_domain),
    };
    const char *text = lk_mail_format(a, &h, &content);
    if (!text)
        *why = "the message could not be formatted (an address is not valid)";
    return text;
}

static void log_outcome(const lk_mail_claim *c, const lk_mail_outcome *o, const char *transport, int max,
                        bool interrupted)
{
    if (interrupted) {
        lk_log(LK_LOG_WARN, "mail: %s #%lld to %s: %s", c->rec.kind, (long long)c->rec.id, c->rec.recipient,
               o->error);
    } else if (o->sent) {
        lk_log(LK_LOG_INFO, "mail: %s #%lld to %s %s %s", c->rec.kind, (long long)c->rec.id, c->rec.recipient, strcmp(transport, "smtp") == 0 ? "sent through" : "written to", o->delivery);
    } else if (o->permanent || c->rec.attempts >= max) {
        lk_log(LK_LOG_ERROR, "mail: %s #%lld to %s failed for good after %d attempt(s): %s", c->rec.kind,
               (long long)c->rec.id, c->rec.recipient, c->rec.attempts, o->error);
    } else {
        lk_log(LK_LOG_WARN, "mail: %s #%lld to %s not delivered (attempt %d, will retry): %s",
               c->rec.kind, (long long)c->rec.id, c->rec.recipient, c->rec.attempts, o->error);
    }
}

/* sends one due message; false when none was due (or the store failed) */
static bool send_one(lk_mailer *m, lk_arena *a)
{
    lk_op op;
    lk_op_init(&op, m->store, a, "system", "");
    lk_mail_claim c;
    lk_code rc = lk_mailq_claim(&op, &c);
    if (rc != LK_OK) {
        if (rc != LK_ENOTFOUND)
            lk_log(LK_LOG_ERROR, "mail: could not read the queue: %s", op.err.msg);
        return false;
    }
    const char *why = NULL;
    const char *data = compose(m, a, &c, &why);
    sodium_memzero(c.token, sizeof c.token);
    lk_mail_outcome o;
    if (data) {
        struct tm tm;
        time_t t = (time_t)c.rec.created_at;
        gmtime_r(&t, &tm);
        char name[96];
        snprintf(name, sizeof name, "%04d%02d%02dT%02d%02d%02dZ-%lld-%s.eml", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)c.rec.id, c.rec.kind);
        lk_mail_send(&m->transport, m->from_addr, c.rec.recipient, name, data,
                     strlen(data), &o);
        /* the bytes held the link: do not leave them in freed memory */
        sodium_memzero((void *)data, strlen(data));
    } else {
        memset(&o, 0, sizeof o);
        o.permanent = true;
        snprintf(o.error, sizeof o.error, "%s", why);
    }
    bool interrupted = !o.sent && m->stopping;
    if (interrupted)
        snprintf(o.error, sizeof o.error, "interrupted by the server's shutdown; sent at the next start");
    log_outcome(&c, &o, lk_mail_transport_kind(&m->transport), (int)m->policy.max_attempts, interrupted);
    lk_mail_result res = {.sent = o.sent, .interrupted = interrupted, .permanent = o.permanent && !interrupted,
                          .error = o.error, .delivery = o.delivery};
    /* a sent message whose outcome is not recorded would go again after the lease, with
     * a new link that kills the one delivered: a busy store gets a few more tries */
    rc = LK_ESTORE;
    for (int i = 0; i < FINISH_TRIES && rc != LK_OK; i++) {
        if (i > 0 && m->stopping)
            break; /* a stop is bounded (docs/operations.md#signals): one try, not 25 */
        if (i > 0)
            nanosleep(&(struct timespec){.tv_nsec = 200 * 1000 * 1000}, NULL);
        lk_op_init(&op, m->store, a, "system", "");
        rc = lk_mailq_finish(&op, &m->policy, &c, &res);
        if (rc == LK_ENOTFOUND)
            break;  /* another attempt holds the message now */
    }
    if (rc != LK_OK) {
        lk_log(LK_LOG_ERROR, "mail: could not record the outcome of #%lld: %s", (long long)c.rec.id,
                op.err.msg);
        return false;
    }
    return true;
}

static void scan(lk_mailer *m, lk_arena *a)
{
    lk_op op;
    lk_op_init(&op, m->store, a, "system", "");
    int queued = 0;
    if (lk_mailq_expiry_scan(&op, &queued) != LK_OK)
        lk_log(LK_LOG_ERROR, "mail: could not queue the expiry notices: %s", op.err.msg);
}

static void *run(void *arg)
{
    lk_mailer *m = arg;
    lk_arena a = LK_ARENA_INIT;
    int64_t next_scan = 0;
    while (!m->stopping) {
        int64_t now = lk_mono_ms() / 1000; /* the scans' schedule: monotonic */
        if (now >= next_scan) {
            scan(m, &a);
            lk_arena_reset(&a);
            next_scan = now + SCAN_SECONDS;
        }
        while (!m->stopping && send_one(m, &a))
            lk_arena_reset(&a);
        lk_arena_reset(&a);
        pthread_mutex_lock(&m->lock);
        if (!m->woken && !m->stopping) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += POLL_SECONDS;
            pthread_cond_timedwait(&m->cond, &m->lock, &until);
        }
        if (m->woken)
            next_scan = 0; /* a change may have set an expiry that is due now */
        m->woken = false;
        pthread_mutex_unlock(&m->lock);
    }
    lk_arena_free(&a);
    return NULL;
}

lk_mailer *lk_mailer_start(const lk_config *cfg, const char *public_url, lk_error *err)
{
    lk_arena tmp = LK_ARENA_INIT;
    const char *from = lk_mail_address(&tmp, cfg->mail_from);
    char from_addr[LK_CONFIG_STR] = "";
    if (from)
        snprintf(from_addr, sizeof from_addr, "%s", from);
    lk_arena_free(&tmp);
    if (!from) {
        lk_fail(err, LK_EINVAL, "mail_from",
                "mail_from: '%.200s' is not an address nor 'Name <address>' (printable ASCII address)",
                cfg->mail_from);
        return NULL;
    }
    lk_mail_tplset *templates = NULL;
    if (cfg->mail_templates[0]) {
        char why[600];
        templates = lk_mail_tplset_load(cfg->mail_templates, why, sizeof why);
        if (!templates) {
            lk_fail(err, LK_EINVAL, "mail_templates", "%s", why);
            return NULL;
        }
    }
    lk_store *store = lk_store_open(lk_store_default_location(cfg->db[0] ? cfg->db : NULL), LK_STORE_WRITE, err);
    if (!store) {
        lk_mail_tplset_free(templates);
        return NULL;
    }
    lk_mailer *m = lk_xcalloc(1, sizeof *m);
    m->cfg = *cfg;
    m->store = store;
    m->templates = templates;
    snprintf(m->public_url, sizeof m->public_url, "%s", public_url ? public_url : "");
    memcpy(m->from_addr, from_addr, sizeof m->from_addr);
    m->id_domain = strrchr(m->from_addr, '@') + 1; /* lk_mail_address: exactly one '@' */
    lk_mailer_outbox(cfg, m->outbox, sizeof m->outbox);
    m->transport = (lk_mail_transport){
        .smtp_host = m->cfg.smtp_host,
        .smtp_port = (int)m->cfg.smtp_port,
        .security = m->cfg.smtp_security,
        .user = m->cfg.smtp_user,
        .password = m->cfg.smtp_password,
        .ca_file = m->cfg.smtp_ca_file,
        .timeout = (long)m->cfg.smtp_timeout,
        .outbox = m->outbox,
        .abort = &m->stopping,
    };
    m->policy = (lk_mail_policy){
        .retry_base = m->cfg.mail_retry_base,
        .max_attempts = (int)m->cfg.mail_max_attempts,
    };
    pthread_mutex_init(&m->lock, NULL);
    pthread_condattr_t ca; /* timed waits on the monotonic clock: a wall-clock jump cannot stall them */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->cond, &ca);
    pthread_condattr_destroy(&ca);
    bool curl_ok = lk_mail_send_init();
    if (!curl_ok || pthread_create(&m->thread, NULL, run, m) != 0) {
        if (curl_ok)
            lk_mail_send_cleanup();
        lk_fail(err, LK_ESTORE, "", "could not start the mail thread");
        pthread_cond_destroy(&m->cond);
        pthread_mutex_destroy(&m->lock);
        store->ops->close(store);
        lk_mail_tplset_free(templates);
        sodium_memzero(m, sizeof *m);
        free(m);
        return NULL;
    }
    if (m->cfg.smtp_host[0])
        lk_log(LK_LOG_INFO, "mail goes through smtp %s (%s)", m->cfg.smtp_host, m->cfg.smtp_security);
    else
        lk_log(LK_LOG_INFO, "no smtp_host set: mail is written as .eml files into %s", m->outbox);
    if (templates)
        lk_log(LK_LOG_INFO, "mail templates from %s", cfg->mail_templates);
    return m;
}

void lk_mailer_wake(lk_mailer *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    m->woken = true;
    pthread_cond_signal(&m->cond);
    pthread_mutex_unlock(&m->lock);
}

void lk_mailer_quit(lk_mailer *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    m->stopping = 1;
    pthread_cond_signal(&m->cond);
    pthread_mutex_unlock(&m->lock);
}

void lk_mailer_stop(lk_mailer *m)
{
    if (!m)
        return;
    lk_mailer_quit(m);
    pthread_join(m->thread, NULL);
    lk_mail_send_cleanup();
    m->store->ops->close(m->store);
    lk_mail_tplset_free(m->templates);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
    sodium_memzero(m, sizeof *m); /* the SMTP password */
    free(m);
}
