/*
 * mail/send — delivering one formatted message: to an SMTP server with libcurl
 * (STARTTLS, implicit TLS or plain; optional authentication), or, with no SMTP
 * server configured, as a .eml file in an outbox folder.
 *
 * Blocking I/O: call it from the mailer thread, never from a request thread.
 * lk_mail_send_init() runs before the first send (libcurl 7.84+ makes it thread-safe)
 * and lk_mail_send_cleanup() once for each init, after the last.
 */
#ifndef LK_MAIL_SEND_H
#define LK_MAIL_SEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lk_mail_transport {
    const char *smtp_host;        /* NULL or "": the outbox */
    int smtp_port;                /* 0: by security (587, 465, 25) */
    const char *security;         /* "starttls", "tls" or "none" */
    const char *user;             /* NULL or "": no authentication */
    const char *password;         /* borrowed; never copied into a message */
    const char *ca_file;          /* NULL or "": the system's CAs */
    long timeout;                 /* seconds for one attempt */
    const char *outbox;           /* folder for .eml files */
    const atomic_int *abort;      /* non-zero: give up the attempt in progress (shutdown) */
} lk_mail_transport;

typedef struct lk_mail_outcome {
    bool sent;
    bool permanent;               /* the server refused this recipient or message for good (550-553) */
    char error[300];              /* why not, without any secret; "" when sent */
    char delivery[700];           /* "smtp HOST:PORT" or the path of the .eml written */
} lk_mail_outcome;

bool lk_mail_send_init(void);
void lk_mail_send_cleanup(void);

/* the port used: port when > 0, else 465 for "tls", 25 for "none", 587 (starttls) */
int lk_mail_smtp_port(int port, const char *security);

/* "smtp" or "outbox" */
const char *lk_mail_transport_kind(const lk_mail_transport *t);

/* Delivers data (a whole RFC 5322 message, CRLF line endings) from the envelope
 * sender `from` to `to`. In the outbox, the file is `name` (a file name without
 * folder, e.g. "20261128T101500Z-42-invitation.eml"), written to a temporary file,
 * synced and renamed, so that it appears whole or not at all; writing it again
 * replaces it. */
void lk_mail_send(const lk_mail_transport *t, const char *from, const char *to, const char *name, const char *data,
                  size_t len, lk_mail_outcome *out);

#endif
