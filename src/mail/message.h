/*
 * mail/message — the emails latchkey sends, as text: localized messages rendered from
 * a table of templates (kind x language), then formatted as one RFC 5322 / MIME
 * message (multipart/alternative, text and HTML, quoted-printable) ready for SMTP or
 * a .eml file. No I/O: sending is someone else's job.
 *
 * Everything returned lives in the caller's arena. Randomness (Message-ID, MIME
 * boundary) comes from core/secret, so lk_secret_init() must have succeeded first.
 */
#ifndef LK_MAIL_MESSAGE_H
#define LK_MAIL_MESSAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/arena.h"

typedef enum lk_mail_kind {
    LK_MAIL_INVITATION,     /* a person is invited: the admin's message + a single-use link to set a password */
    LK_MAIL_PASSWORD_RESET, /* an admin or "forgot password" asked for a reset: single-use link */
    LK_MAIL_EXPIRY_NOTICE,  /* access expires in N days (to the user, or with to_admin to the admins) */
    LK_MAIL_ADMIN_ADDED,    /* to every other admin: X was made an administrator by Y */
    LK_MAIL_ADMIN_REMOVED,  /* to every other admin: X is no longer an administrator (Y did it) */
    LK_MAIL_EMAIL_CHANGED,  /* to the old address: the account's email became subject_user (Y did it); no link */
    LK_MAIL_KIND_COUNT
} lk_mail_kind;

/* All borrowed; NULL and "" both mean "not given". Text is UTF-8. */
typedef struct lk_mail_vars {
    const char *recipient_name; /* "Grace Hopper"; without it the greeting has no name */
    const char *link;           /* invitation / reset link: required for those two kinds */
    const char *link_expires;   /* ISO-8601 instant the link stops working, or NULL */
    const char *message;        /* the admin's free text for an invitation; may contain newlines */
    const char *actor_name;     /* who did it ("Ada Lovelace (ada@example.com)"), or NULL */
    const char *subject_user;   /* the user a notice is about: required for the admin notices and
                                 * for the admins' expiry notice; the new address for email_changed */
    const char *expires_at;     /* ISO-8601 expiry: required for expiry notices */
    int days;                   /* days left for expiry notices (7 or 1; 0 or less reads "today") */
    bool to_admin;              /* expiry notice: the admins' variant */
    const char *console_url;    /* base URL of the console, e.g. http://127.0.0.1:8080, or NULL */
} lk_mail_vars;

typedef struct lk_mail_content {
    const char *subject; /* one line: CR, LF and TAB from variables become spaces */
    const char *text;    /* plain text, "\n" line endings */
    const char *html;    /* a complete HTML document with inline styles, "\n" line endings */
} lk_mail_content;       /* arena */

/* Renders kind in lang ("en" or "de", anything else or NULL: "en"). Every variable is
 * HTML-escaped in the HTML part (the admin's message with its newlines as <br>);
 * instants are shown in UTC, in the language's style ("27 November 2026 at 23:17 UTC").
 * An ISO-8601 value that does not parse is shown as given.
 * false (out untouched) for an unknown kind, NULL v/out, or a missing required variable
 * (see lk_mail_vars). */
bool lk_mail_render(lk_arena *a, lk_mail_kind kind, const char *lang, const lk_mail_vars *v,
                    lk_mail_content *out);

/* Templates an operator gave (the mail_templates folder) in place of built-in ones. */
typedef struct lk_mail_tplset lk_mail_tplset;

/* Reads every template file of dir. File names: TEMPLATE.LANG.subject / .txt / .html
 * with TEMPLATE one of invitation, password_reset, expiry_user, expiry_admin,
 * admin_added, admin_removed, email_changed and LANG en or de (a template is replaced whole: all
 * three files), and layout.LANG.html, footer.LANG.txt (each on its own). Files whose
 * names start with '.' are ignored. NULL with a one-line reason in err when a file is
 * unknown, missing, unreadable, larger than 64 KB, not UTF-8, malformed, uses an
 * unknown variable, or leaves out what the mail needs ({link} in invitations and
 * resets, {body} in a layout). Free with lk_mail_tplset_free. */
lk_mail_tplset *lk_mail_tplset_load(const char *dir, char *err, size_t err_len);
void lk_mail_tplset_free(lk_mail_tplset *set);
/* Writes the built-in templates into dir (created 0755 if missing; existing files are
 * not overwritten): a starting point for mail_templates. false with err. */
bool lk_mail_tplset_export(const char *dir, char *err, size_t err_len);
/* lk_mail_render with set's templates where it has them (set NULL: built-in only) */
bool lk_mail_render_with(const lk_mail_tplset *set, lk_arena *a, lk_mail_kind kind, const char *lang,
                         const lk_mail_vars *v, lk_mail_content *out);

typedef struct lk_mail_header {
    const char *from;       /* "latchkey <no-reply@example.com>" or a bare address; a non-ASCII
                             * display name is encoded (RFC 2047) */
    const char *to;         /* bare address */
    const char *to_name;    /* display name or NULL */
    int64_t date;           /* epoch seconds */
    const char *message_id; /* without <>, e.g. from lk_mail_message_id; NULL: a fresh one */
} lk_mail_header;           /* all borrowed */

/* The bare address of a From value ("Name <a@b>", "\"Name\" <a@b>" or "a@b") in
 * the arena, or NULL when it has none that lk_mail_format would accept. */
const char *lk_mail_address(lk_arena *a, const char *from);

/* A fresh Message-ID "<32 hex digits>@<domain of from>" (without the angle brackets)
 * in the arena; the hex digits are a random v4 UUID without its dashes. The domain is
 * "localhost" if from has none. */
const char *lk_mail_message_id(lk_arena *a, const char *from);

/* The whole message in the arena, ASCII, CRLF line endings, no line longer than 78
 * characters (except around an address or Message-ID of more than ~70, which cannot
 * be folded; still far below 998): Date (RFC 5322, UTC "+0000"), Message-ID, From, To, Subject (RFC 2047
 * "=?UTF-8?B?...?=" when not plain ASCII; folded), MIME-Version: 1.0,
 * Auto-Submitted: auto-generated (RFC 3834, so that vacation responders stay quiet),
 * Content-Type: multipart/alternative with a random boundary, then a
 * text/plain; charset=UTF-8 and a text/html; charset=UTF-8 part, both
 * Content-Transfer-Encoding: quoted-printable (soft line breaks at 76). Body line
 * endings become CRLF. The boundary starts with "=_", which quoted-printable never
 * produces, so it cannot occur in a body. No SMTP dot-stuffing: that is the
 * transport's job (a leading "." is encoded as =2E anyway).
 * NULL for header values with CR, LF or other control characters (no header
 * injection), a to, from address or message_id that is not one bare addr-spec
 * (printable ASCII, one '@', none of <>()[],;:"\ or space), or NULL h/c/fields. */
const char *lk_mail_format(lk_arena *a, const lk_mail_header *h, const lk_mail_content *c);

#endif
