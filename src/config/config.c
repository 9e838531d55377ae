/*
 * config — the option table and the three sources that fill an lk_config.
 *
 * Adding an option is adding one row to OPTIONS (and its field to lk_config): the
 * parser, the bounds check, the environment variable and the help text all come
 * from the row.
 */
#include "config/config.h"
#include "mail/message.h"
#include "util/cidr.h"
#include "util/log.h"
#include "util/timefmt.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef enum opt_type { OPT_STR, OPT_INT, OPT_BOOL } opt_type;

typedef struct opt {
    const char *name;       /* file key; env LATCHKEY_<NAME>; flag --<name with dashes> */
    opt_type type;
    size_t offset;
    const char *def;
    int64_t min, max;       /* OPT_INT */
    const char *help;
} opt;

#define F(field) offsetof(lk_config, field)

static const opt OPTIONS[] = {
    {"listen", OPT_STR, F(listen), "127.0.0.1:8080", 0, 0,
     "address and port to listen on (ADDR:PORT, [V6ADDR]:PORT; port 0 picks a free one)"},
    {"db", OPT_STR, F(db), LK_DEFAULT_DB, 0, 0, "the SQLite database file"},
    {"threads", OPT_INT, F(threads), "0", 0, 256, "worker threads (0: one per core)"},
    {"token_ttl", OPT_INT, F(token_ttl), "3600", 1, 86400, "access token lifetime in seconds"},
    {"legacy_query_token", OPT_BOOL, F(legacy_query_token), "true", 0, 0,
     "accept the legacy access_token query parameter on /rest (the user management API never does)"},
    {"quota_tz", OPT_STR, F(quota_tz), "America/Chicago", 0, 0,
     "time zone whose midnight resets the daily quota (IANA name; Marketo's US Central time by default)"},
    {"subscription_id", OPT_INT, F(subscription_id), "1", 1, 2147483647,
     "the instance's Marketo subscription id (subscriptionId of invited users in the user management API)"},
    {"trusted_proxies", OPT_STR, F(trusted_proxies), "", 0, 0,
     "comma-separated addresses/CIDRs of proxies whose X-Forwarded-For is believed"},
    {"body_limit", OPT_INT, F(body_limit), "1048576", 1024, 104857600, "largest request body in bytes (413 above)"},
    {"uri_limit", OPT_INT, F(uri_limit), "8192", 256, 65536, "longest request URI in bytes (414 above)"},
    {"connection_timeout", OPT_INT, F(connection_timeout), "30", 1, 3600, "seconds before an idle connection is closed"},
    {"connection_limit", OPT_INT, F(connection_limit), "1024", 1, 65536, "simultaneous connections"},
    {"per_ip_connection_limit", OPT_INT, F(per_ip_connection_limit), "64", 0, 65536,
     "simultaneous connections from one address (0: no cap; the peer's address, so a proxy in front counts as one)"},
    {"header_timeout", OPT_INT, F(header_timeout), "10", 1, 3600,
     "seconds a connection has to send a request's headers (from its accept or its previous answer); "
     "bytes trickling in do not extend it"},
    {"password_threads", OPT_INT, F(password_threads), "2", 1, 64,
     "threads that check and hash console passwords (Argon2id), apart from the store worker"},
    {"background_nice", OPT_INT, F(background_nice), "19", 0, 19,
     "niceness of the store worker (user management, console calls): under a full CPU the API's requests "
     "come first; 0: the process's own"},
    {"password_nice", OPT_INT, F(password_nice), "10", 0, 19,
     "niceness of the password pool (sign-ins): below the API's requests, but never starved by them, so "
     "that a full CPU does not keep administrators out; 0: the process's own"},
    {"stop_write_timeout", OPT_INT, F(stop_write_timeout), "10", 1, 600,
     "seconds a stop (SIGTERM, SIGINT) keeps retrying to write the queued usage counts"},
    {"auth_fail_limit", OPT_INT, F(auth_fail_limit), "10", 1, 1000000,
     "failed token requests allowed per client id and per address in the window below"},
    {"auth_fail_window", OPT_INT, F(auth_fail_window), "60", 1, 86400, "seconds of the failed-request window"},
    {"public_url", OPT_STR, F(public_url), "", 0, 0,
     "base URL of this server as clients see it (default http://LISTEN)"},
    {"access_log", OPT_BOOL, F(access_log), "true", 0, 0, "write one line per request to stderr"},
    {"login_fail_limit", OPT_INT, F(login_fail_limit), "20", 1, 1000000,
     "failed console sign-ins allowed per address in auth_fail_window; then 429"},
    {"console_idle_timeout", OPT_INT, F(console_idle_timeout), "1800", 5, 86400,
     "seconds without a request after which a console session ends"},
    {"console_session_max", OPT_INT, F(console_session_max), "43200", 60, 604800,
     "seconds after sign-in at which a console session ends in any case"},
    {"smtp_host", OPT_STR, F(smtp_host), "", 0, 0,
     "SMTP server for outgoing mail; empty: write .eml files into mail_outbox instead"},
    {"smtp_port", OPT_INT, F(smtp_port), "0", 0, 65535, "SMTP port (0: 587 for starttls, 465 for tls, 25 for none)"},
    {"smtp_security", OPT_STR, F(smtp_security), "starttls", 0, 0,
     "starttls (required), tls (implicit TLS) or none (plain, for a local relay)"},
    {"smtp_user", OPT_STR, F(smtp_user), "", 0, 0, "SMTP user name; empty: no authentication"},
    {"smtp_password", OPT_STR, F(smtp_password), "", 0, 0,
     "SMTP password (prefer the file or $LATCHKEY_SMTP_PASSWORD to a flag)"},
    {"smtp_ca_file", OPT_STR, F(smtp_ca_file), "", 0, 0,
     "PEM file of the CA that signed the SMTP server's certificate; empty: the system's"},
    {"smtp_timeout", OPT_INT, F(smtp_timeout), "30", 1, 240, "seconds one delivery attempt may take"},
    {"mail_from", OPT_STR, F(mail_from), "latchkey <latchkey@localhost>", 0, 0,
     "sender of every message: 'Name <address>' or an address"},
    {"mail_outbox", OPT_STR, F(mail_outbox), "", 0, 0,
     "folder of .eml files when no smtp_host is set (default: outbox next to the database, ./data/outbox)"},
    {"mail_language", OPT_STR, F(mail_language), "en", 0, 0,
     "language (en or de) of mail to people who have none of their own"},
    {"invite_ttl", OPT_INT, F(invite_ttl), "604800", 300, 7776000, "seconds an invitation link works"},
    {"reset_ttl", OPT_INT, F(reset_ttl), "86400", 300, 604800, "seconds a password-reset link works"},
    {"mail_retry_base", OPT_INT, F(mail_retry_base), "60", 1, 3600,
     "seconds before a failed message is retried; doubles with each attempt, at most an hour"},
    {"mail_max_attempts", OPT_INT, F(mail_max_attempts), "30", 1, 1000, "delivery attempts before a message fails"},
    {"mail_templates", OPT_STR, F(mail_templates), "", 0, 0,
     "folder of email templates that replace the built-in ones (checked at start)"},
    {"log_format", OPT_STR, F(log_format), "logfmt", 0, 0, "server log lines: logfmt or json"},
    {"log_level", OPT_STR, F(log_level), "info", 0, 0, "lowest level logged: debug, info, warn or error"},
    {"management_listen", OPT_STR, F(management_listen), "", 0, 0,
     "ADDR:PORT serving /metrics, /healthz and /readyz instead of the public port (empty: the public port)"},
    {"tls_cert_file", OPT_STR, F(tls_cert_file), "", 0, 0,
     "PEM certificate chain: serve HTTPS (TLS 1.2 and 1.3) with tls_key_file; reloaded on SIGHUP"},
    {"tls_key_file", OPT_STR, F(tls_key_file), "", 0, 0, "PEM private key of tls_cert_file"},
    {"ready_db_timeout_ms", OPT_INT, F(ready_db_timeout_ms), "2000", 50, 60000,
     "/readyz: milliseconds within which the database's write lock must be had"},
    {"ready_catalog_max_age", OPT_INT, F(ready_catalog_max_age), "10", 1, 3600,
     "/readyz: seconds since the in-memory catalog was last found current"},
    {"ready_writer_max_lag", OPT_INT, F(ready_writer_max_lag), "10", 1, 3600,
     "/readyz: seconds the oldest unwritten token or count, or the oldest store-worker call, may wait"},
    {"token_key_file", OPT_STR, F(token_key_file), "", 0, 0,
     "file of the keys that sign access tokens, shared by every process (default: the database's path + .keys)"},
    {"auth_fail_capacity", OPT_INT, F(auth_fail_capacity), "100000", 16, 10000000,
     "failing (client id, address) pairs and addresses the token endpoints count at once; when full, new "
     "failures get 429"},
    {"feed_retention", OPT_INT, F(feed_retention), "86400", 60, 31536000,
     "seconds a row of the change feed is kept (a process further behind loads everything again)"},
    {"feed_max_rows", OPT_INT, F(feed_max_rows), "1000000", 1000, 1000000000, "rows of the change feed kept at most"},
    {"auth_check_path", OPT_STR, F(auth_check_path), "/auth/check", 0, 0,
     "path of the forward-auth endpoint a gateway asks (docs/gateway.md)"},
    {"gateway_style", OPT_STR, F(gateway_style), "marketo", 0, 0,
     "how the auth check refuses a call no route matches: marketo (the envelope) or plain (HTTP statuses)"},
};
#define N_OPTIONS (sizeof OPTIONS / sizeof OPTIONS[0])

const char lk_config_intro[] =
    "Runs the HTTP server. Each option can also be set in the configuration file\n"
    "(--config FILE, else $LATCHKEY_CONFIG"
#ifdef LK_HAS_DEFAULT_CONFIG
    ", else " LK_DEFAULT_CONFIG
#endif
    "; lines 'name = value') or as the\n"
    "environment variable LATCHKEY_<NAME>; flags win over the environment, which wins\n"
    "over the file.\n";

static const opt *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *o = OPTIONS[i].name;
        if (strlen(o) != len)
            continue;
        size_t k = 0;
        for (; k < len; k++) {
            char c = name[k] == '-' ? '_' : name[k];
            if (c != o[k])
                break;
        }
        if (k == len)
            return &OPTIONS[i];
    }
    return NULL;
}

static bool parse_bool(const char *v, bool *out)
{
    static const char *yes[] = {"1", "true", "yes", "on"}, *no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = true, true;
        if (strcasecmp(v, no[i]) == 0)
            return *out = false, true;
    }
    return false;
}

static int set_opt(lk_config *c, const opt *o, const char *v, const char *source, char *err, size_t err_len)
{
    char *field = (char *)c + o->offset;
    switch (o->type) {
    case OPT_STR:
        if (strlen(v) >= LK_CONFIG_STR) {
            snprintf(err, err_len, "%s: %s is too long (at most %d bytes)", source, o->name, LK_CONFIG_STR - 1);
            return 1;
        }
        strcpy(field, v);
        return 0;
    case OPT_INT: {
        char *end = NULL;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (errno || !*v || *end || n < o->min || n > o->max) {
            snprintf(err, err_len, "%s: %s must be a whole number from %lld to %lld (got '%.40s')", source,
                     o->name, (long long)o->min, (long long)o->max, v);
            return 1;
        }
        *(int64_t *)(void *)field = n;
        return 0;
    }
    case OPT_BOOL:
        if (!parse_bool(v, (bool *)(void *)field)) {
            snprintf(err, err_len, "%s: %s must be true or false (got '%.40s')", source, o->name, v);
            return 1;
        }
        return 0;
    }
    return 1;
}

void lk_config_defaults(lk_config *c)
{
    char ignored[8];
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < N_OPTIONS; i++)
        set_opt(c, &OPTIONS[i], OPTIONS[i].def, "default", ignored, sizeof ignored);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int load_file(lk_config *c, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_len, "cannot read the configuration file %s: %s", path, strerror(errno));
        return 1;
    }
    char line[2048];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        char where[600];
        snprintf(where, sizeof where, "%.500s:%d", path, lineno);
        if (!eq) {
            snprintf(err, err_len, "%s: expected 'name = value'", where);
            rc = 1;
            break;
        }
        *eq = '\0';
        char *name = trim(s), *value = trim(eq + 1);
        size_t vl = strlen(value);
        if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
            value[vl - 1] = '\0';
            value++;
        }
        const opt *o = find_opt(name, strlen(name));
        if (!o) {
            snprintf(err, err_len, "%s: unknown option '%.60s' (see 'latchkey serve --help')", where, name);
            rc = 1;
            break;
        }
        rc = set_opt(c, o, value, where, err, err_len);
    }
    fclose(f);
    return rc;
}

static int load_env(lk_config *c, char *err, size_t err_len)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        char var[64] = "LATCHKEY_";
        size_t k = strlen(var);
        for (const char *p = OPTIONS[i].name; *p && k < sizeof var - 1; p++)
            var[k++] = (char)toupper((unsigned char)*p);
        var[k] = '\0';
        const char *v = getenv(var);
        if (v && *v && set_opt(c, &OPTIONS[i], v, var, err, err_len))
            return 1;
    }
    return 0;
}

static int check(lk_config *c, char *err, size_t err_len)
{
    /* links are public_url + "/invite#…": one slash, whatever was configured */
    size_t pl = strlen(c->public_url);
    while (pl > 0 && c->public_url[pl - 1] == '/')
        c->public_url[--pl] = '\0';
    /* the quota time zone must be one the system knows, or the day would be wrong */
    if (!lk_time_zone_known(c->quota_tz)) {
        snprintf(err, err_len, "quota_tz: unknown time zone '%.60s' (an IANA name such as America/Chicago)",
                 c->quota_tz);
        return 1;
    }
    if (strcmp(c->smtp_security, "starttls") != 0 && strcmp(c->smtp_security, "tls") != 0 &&
        strcmp(c->smtp_security, "none") != 0) {
        snprintf(err, err_len, "smtp_security: must be starttls, tls or none (got '%.40s')", c->smtp_security);
        return 1;
    }
    if (strcmp(c->mail_language, "en") != 0 && strcmp(c->mail_language, "de") != 0) {
        snprintf(err, err_len, "mail_language: must be en or de (got '%.40s')", c->mail_language);
        return 1;
    }
    lk_log_format lf;
    lk_log_level ll;
    if (!lk_log_parse_format(c->log_format, &lf)) {
        snprintf(err, err_len, "log_format: must be logfmt or json (got '%.40s')", c->log_format);
        return 1;
    }
    if (!lk_log_parse_level(c->log_level, &ll)) {
        snprintf(err, err_len, "log_level: must be debug, info, warn or error (got '%.40s')", c->log_level);
        return 1;
    }
    if (!c->tls_cert_file[0] != !c->tls_key_file[0]) {
        snprintf(err, err_len, "%s is set but %s is not: TLS needs both", c->tls_cert_file[0] ? "tls_cert_file" : "tls_key_file",
                 c->tls_cert_file[0] ? "tls_key_file" : "tls_cert_file");
        return 1;
    }
    size_t ll_len = strlen(c->listen);
    bool any_port = ll_len >= 2 && strcmp(c->listen + ll_len - 2, ":0") == 0;
    if (c->management_listen[0] && !any_port && strcmp(c->management_listen, c->listen) == 0) {
        snprintf(err, err_len, "management_listen: must differ from listen (%.100s)", c->listen);
        return 1;
    }
    if (c->mail_templates[0]) {
        /* checked here, before anything starts; the mailer reads them again */
        lk_mail_tplset *set = lk_mail_tplset_load(c->mail_templates, err, err_len);
        if (!set)
            return 1;
        lk_mail_tplset_free(set);
    }
    lk_arena tmp = LK_ARENA_INIT;
    bool from_ok = lk_mail_address(&tmp, c->mail_from) != NULL;
    lk_arena_free(&tmp);
    if (!from_ok) {
        snprintf(err, err_len, "mail_from: '%.100s' is not an email address nor 'Name <address>'", c->mail_from);
        return 1;
    }
    if (c->auth_check_path[0] != '/' || strpbrk(c->auth_check_path, "?# \t")) {
        snprintf(err, err_len, "auth_check_path: '%.100s' is not a path (it starts with '/')", c->auth_check_path);
        return 1;
    }
    /* latchkey's own paths stay its own: the auth check never shadows one of them */
    static const char *const own[] = {"/rest/", "/userservice/", "/identity/", "/oauth2/", "/admin/", "/console/",
                                      "/.well-known/"};
    static const char *const own_exact[] = {"/", "/setup", "/invite", "/reset", "/openapi.json", "/healthz",
                                            "/readyz", "/metrics"};
    bool taken = false;
    for (size_t i = 0; i < sizeof own / sizeof *own; i++)
        taken = taken || strncmp(c->auth_check_path, own[i], strlen(own[i])) == 0;
    for (size_t i = 0; i < sizeof own_exact / sizeof *own_exact; i++)
        taken = taken || strcmp(c->auth_check_path, own_exact[i]) == 0;
    if (taken) {
        snprintf(err, err_len, "auth_check_path: '%.100s' is one of latchkey's own paths", c->auth_check_path);
        return 1;
    }
    if (strcmp(c->gateway_style, "marketo") != 0 && strcmp(c->gateway_style, "plain") != 0) {
        snprintf(err, err_len, "gateway_style: '%.60s' is neither marketo nor plain", c->gateway_style);
        return 1;
    }
    char list[LK_CONFIG_STR];
    strcpy(list, c->trusted_proxies);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        lk_cidr cidr;
        const char *why = NULL;
        char *t = trim(tok);
        if (*t && !lk_cidr_parse(t, &cidr, &why)) {
            snprintf(err, err_len, "trusted_proxies: '%.60s' is not an address or CIDR range (%s)", t,
                     why ? why : "malformed");
            return 1;
        }
    }
    return 0;
}

/* $LATCHKEY_CONFIG when set (empty: no file), else the build's default file when it exists */
static const char *config_file(void)
{
    const char *env = getenv("LATCHKEY_CONFIG");
    if (env)
        return env;
    if (LK_DEFAULT_CONFIG[0] && access(LK_DEFAULT_CONFIG, F_OK) == 0)
        return LK_DEFAULT_CONFIG;
    return NULL;
}

int lk_config_load(lk_config *c, int argc, char **argv, FILE *out, char *err, size_t err_len)
{
    lk_config_defaults(c);
    const char *file = config_file();
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            lk_config_help(out);
            return 2;
        }
        if (strncmp(argv[i], "--config=", 9) == 0)
            file = argv[i] + 9;
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[++i];
    }
    if (file && *file && load_file(c, file, err, err_len))
        return 1;
    if (load_env(c, err, err_len))
        return 1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, err_len, "unexpected argument '%.60s' (see 'latchkey serve --help')", a);
            return 1;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        if (len == 6 && strncmp(name, "config", 6) == 0) {
            if (!eq)
                i++;
            continue;
        }
        const opt *o = find_opt(name, len);
        if (!o) {
            snprintf(err, err_len, "unknown option '--%.*s' for 'serve' (see 'latchkey serve --help')", (int)(len > 60 ? 60 : len), name);
            return 1;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (o->type == OPT_BOOL && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)) {
                value = "true";
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                snprintf(err, err_len, "option '--%s' needs a value (see 'latchkey serve --help')", name);
                return 1;
            }
        }
        if (set_opt(c, o, value, "command line", err, err_len))
            return 1;
    }
    return check(c, err, err_len);
}

bool lk_config_doc_at(size_t i, lk_config_doc *out)
{
    if (i >= N_OPTIONS)
        return false;
    const opt *o = &OPTIONS[i];
    *out = (lk_config_doc){
        .name = o->name,
        .kind = o->type == OPT_INT ? "N" : o->type == OPT_BOOL ? "BOOL" : "TEXT",
        .def = o->def,
        .min = o->min,
        .max = o->max,
        .help = o->help,
    };
    return true;
}

void lk_config_help(FILE *out)
{
    fprintf(out,
            "usage: latchkey serve [--config FILE] [OPTIONS]\n\n%s\noptions:\n", lk_config_intro);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const opt *o = &OPTIONS[i];
        char flag[64];
        size_t k = 0;
        for (const char *p = o->name; *p && k < sizeof flag - 1; p++)
            flag[k++] = *p == '_' ? '-' : *p;
        flag[k] = '\0';
        const char *kind = o->type == OPT_INT ? "N" : o->type == OPT_BOOL ? "BOOL" : "TEXT";
        fprintf(out, "  --%-20s %-5s %s\n", flag, kind, o->help);
        if (o->type == OPT_INT)
            fprintf(out, "  %-28s default %s, from %lld to %lld\n", "", o->def, (long long)o->min, (long long)o->max);
        else
            fprintf(out, "  %-28s default %s\n", "", *o->def ? o->def : "(none)");
    }
}
