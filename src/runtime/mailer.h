/*
 * mailer — the thread that sends the queued email (core/mailq.h) of a running
 * server: it takes each due message, renders it (src/mail/message.h) with a link
 * minted for this attempt, delivers it (src/mail/send.h) and records the outcome;
 * once a minute it also queues the expiry notices that are due.
 *
 * It has its own store connection and never blocks a request: the request that
 * caused a message only committed it to the queue. It looks at the queue every
 * second, and at once after lk_mailer_wake(). Every outcome is one log line on
 * stderr naming the recipient, the kind and where it went (the .eml file, or the
 * SMTP server), never the link.
 */
#ifndef LK_RUNTIME_MAILER_H
#define LK_RUNTIME_MAILER_H

#include "config/config.h"
#include "core/error.h"

typedef struct lk_mailer lk_mailer;

/* Starts the thread. public_url is copied (the base of the links). NULL with err
 * set when the store cannot be opened. */
lk_mailer *lk_mailer_start(const lk_config *cfg, const char *public_url, lk_error *err);
/* look at the queue now (a change was just committed) */
void lk_mailer_wake(lk_mailer *m);
/* Stops the thread (an attempt in progress is abandoned, not counted, and due
 * again at the next start) and frees it; NULL is fine. */
void lk_mailer_stop(lk_mailer *m);
/* asks the thread to end (a delivery under way is interrupted; its outcome gets one
 * try to be recorded) without waiting for it: lk_mailer_stop() still must follow.
 * Lets a stop overlap the mailer's end with the other threads'. */
void lk_mailer_quit(lk_mailer *m);

/* where .eml files go with this configuration (cfg->mail_outbox, else "outbox"
 * next to the database), into buf */
const char *lk_mailer_outbox(const lk_config *cfg, char *buf, size_t len);

#endif
