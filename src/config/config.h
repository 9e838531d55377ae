/*
 * config — the server's options, from one table (name, environment variable, flag,
 * type, default, bounds, help) that drives parsing, validation and `serve --help`.
 *
 * Sources in rising priority: built-in defaults, the file named by --config or
 * $LATCHKEY_CONFIG, else the build's default file (LK_DEFAULT_CONFIG) when it exists
 * (lines `name = value`, '#' comments), $LATCHKEY_<NAME> variables,
 * command-line flags `--name VALUE` / `--name=VALUE` (underscores in names are
 * written as dashes in flags).
 */
#ifndef LK_CONFIG_CONFIG_H
#define LK_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define LK_CONFIG_STR 512

typedef struct lk_config {
    char listen[LK_CONFIG_STR];          /* ADDR:PORT; port 0 picks a free one */
    char db[LK_CONFIG_STR];              /* "" = lk_store_default_location() */
    int64_t threads;                     /* worker threads; 0 = one per core */
    int64_t token_ttl;                   /* seconds */
    bool legacy_query_token;             /* accept ?access_token= on /rest */
    char quota_tz[LK_CONFIG_STR];        /* IANA zone of the daily quota's midnight (America/Chicago) */
    int64_t subscription_id;             /* Marketo's subscriptionId of this instance */
    char trusted_proxies[LK_CONFIG_STR]; /* comma-separated CIDRs whose X-Forwarded-For is believed */
    int64_t body_limit;                  /* bytes (413 above) */
    int64_t uri_limit;                   /* bytes (414 above) */
    int64_t connection_timeout;          /* seconds of idleness before a connection is closed */
    int64_t connection_limit;            /* simultaneous connections */
    int64_t per_ip_connection_limit;     /* simultaneous connections from one address (0: no cap) */
    int64_t header_timeout;              /* seconds to receive a request's headers, whatever trickles in */
    int64_t password_threads;            /* threads hashing and checking passwords (Argon2id) */
    int64_t background_nice;             /* niceness of the store worker */
    int64_t password_nice;               /* niceness of the password pool */
    int64_t stop_write_timeout;          /* seconds a stop keeps retrying to write what is queued */
    int64_t auth_fail_limit;             /* failed token requests per client id and per address ... */
    int64_t auth_fail_window;            /* ... per this many seconds, then 429 */
    char public_url[LK_CONFIG_STR];      /* base URL in generated links and metadata; "" = http://LISTEN */
    bool access_log;                     /* one line per request on stderr */
    int64_t login_fail_limit;            /* failed console sign-ins per address per auth_fail_window */
    int64_t console_idle_timeout;        /* seconds: a console session ends when unused this long */
    int64_t console_session_max;         /* seconds: ... and this long after sign-in */
    /* email (docs/server.md#email): SMTP when smtp_host is set, else .eml files in mail_outbox */
    char smtp_host[LK_CONFIG_STR];
    int64_t smtp_port;                   /* 0: 587 for starttls, 465 for tls, 25 for none */
    char smtp_security[LK_CONFIG_STR];   /* "starttls", "tls" (implicit) or "none" */
    char smtp_user[LK_CONFIG_STR];       /* "": no authentication */
    char smtp_password[LK_CONFIG_STR];   /* secret: never printed */
    char smtp_ca_file[LK_CONFIG_STR];    /* PEM bundle to verify the server; "": the system's */
    int64_t smtp_timeout;                /* seconds for one delivery attempt */
    char mail_from[LK_CONFIG_STR];       /* "Name <address>" or an address */
    char mail_outbox[LK_CONFIG_STR];     /* "": "outbox" next to the database */
    char mail_language[LK_CONFIG_STR];   /* "en" or "de": mail to people with no language of their own */
    int64_t invite_ttl;                  /* seconds an invitation link works */
    int64_t reset_ttl;                   /* seconds a password-reset link works */
    int64_t mail_retry_base;             /* seconds before the first retry; doubles, at most an hour */
    int64_t mail_max_attempts;           /* attempts before a message is given up */
    char mail_templates[LK_CONFIG_STR];  /* "": the built-in templates; else a folder overriding them */
    /* operations (docs/operations.md) */
    char log_format[LK_CONFIG_STR];      /* "logfmt" or "json" */
    char log_level[LK_CONFIG_STR];       /* "debug", "info", "warn" or "error" */
    char management_listen[LK_CONFIG_STR]; /* "": /metrics, /healthz, /readyz on the public port */
    char tls_cert_file[LK_CONFIG_STR];   /* PEM chain; with tls_key_file: serve HTTPS */
    char tls_key_file[LK_CONFIG_STR];
    int64_t ready_db_timeout_ms;         /* /readyz: the write lock must come within this */
    int64_t ready_catalog_max_age;       /* /readyz: seconds since the catalog was known current */
    int64_t ready_writer_max_lag;        /* /readyz: seconds the oldest unwritten change may wait */
    /* tokens and the change feed (docs/server.md#several-processes) */
    char token_key_file[LK_CONFIG_STR];  /* "": the database's file + ".keys" */
    int64_t auth_fail_capacity;          /* failing keys the token endpoints count at once */
    int64_t feed_retention;              /* seconds a change feed row is kept */
    int64_t feed_max_rows;               /* rows of the change feed kept at most */
    /* the gateway's auth check (docs/gateway.md) */
    char auth_check_path[LK_CONFIG_STR]; /* "/auth/check" */
    char gateway_style[LK_CONFIG_STR];   /* "marketo" or "plain": refusals no route styles */
} lk_config;

void lk_config_defaults(lk_config *c);

/*
 * Applies file, environment and flags over the defaults. argv holds only the
 * serve options (after "serve"). Returns 0 on success, 1 with a one-line message
 * in err on bad input (unknown option, value out of bounds, unreadable file),
 * 2 when --help was asked (help already printed to out).
 */
int lk_config_load(lk_config *c, int argc, char **argv, FILE *out, char *err, size_t err_len);

/* `latchkey serve --help` */
void lk_config_help(FILE *out);

/* One option as documentation shows it (the manual page, the default configuration
 * file); false past the last. */
typedef struct lk_config_doc {
    const char *name;        /* file key; LATCHKEY_<NAME>; --<name with dashes> */
    const char *kind;        /* "N", "BOOL" or "TEXT" */
    const char *def;         /* the default as it would be written in the file */
    int64_t min, max;        /* N */
    const char *help;        /* one line */
} lk_config_doc;
bool lk_config_doc_at(size_t i, lk_config_doc *out);

/* the opening paragraph of `latchkey serve --help`: where options come from */
extern const char lk_config_intro[];

#endif
