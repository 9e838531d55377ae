/*
 * mail/internal — what the mail module's files share and nobody else needs: a
 * growable string in an arena, and the template table.
 */
#ifndef LK_MAIL_INTERNAL_H
#define LK_MAIL_INTERNAL_H

#include <stddef.h>

#include "mail/message.h"

#include "util/strbuf.h"

/* ---- templates ----------------------------------------------------------------
 * A template is text with placeholders: {name} inserts a variable (HTML-escaped in
 * the html template), {?name}...{/} keeps its inside only when the variable is
 * non-empty, {!name}...{/} only when it is empty; sections nest. No literal braces.
 * The html template is the inside of the shared layout's content cell. */

typedef enum lk_mail_tpl_id {
    LK_TPL_INVITATION,
    LK_TPL_PASSWORD_RESET,
    LK_TPL_EXPIRY_USER,
    LK_TPL_EXPIRY_ADMIN,
    LK_TPL_ADMIN_ADDED,
    LK_TPL_ADMIN_REMOVED,
    LK_TPL_EMAIL_CHANGED,
    LK_TPL_COUNT
} lk_mail_tpl_id;

typedef enum lk_mail_lang { LK_LANG_EN, LK_LANG_DE, LK_LANG_COUNT } lk_mail_lang;

typedef struct lk_mail_template {
    const char *subject;
    const char *text;
    const char *html;
} lk_mail_template;

/* per language: the layout around every HTML body and the words the renderer needs */
typedef struct lk_mail_locale {
    const char *code;        /* "en" */
    const char *layout;      /* whole HTML document; {lang}, {subject}, {body} and any variable */
    const char *text_footer; /* appended to every text part */
    const char *months[12];
    const char *date_format; /* printf: day, month name, year, hour, minute */
    const char *today;       /* days <= 0 */
    const char *in_one_day;
    const char *in_n_days;   /* printf: %d */
} lk_mail_locale;

extern const lk_mail_template *const lk_mail_templates[LK_TPL_COUNT][LK_LANG_COUNT];
extern const lk_mail_locale lk_mail_locales[LK_LANG_COUNT];

/* the operator's templates (mail_templates, tplset.c): NULL / false = the built-in one */
struct lk_mail_tplset {
    bool has[LK_TPL_COUNT][LK_LANG_COUNT];
    lk_mail_template tpl[LK_TPL_COUNT][LK_LANG_COUNT]; /* strings owned (malloc) */
    const char *layout[LK_LANG_COUNT];                /* owned */
    const char *footer[LK_LANG_COUNT];                /* owned */
};

/* true when tpl is well formed and uses only known variables ({subject} and {body}
 * only in a layout); else false with a reason ("line 3: unknown variable {nam}") */
bool lk_mail_tpl_check(const char *tpl, bool layout, char *why, size_t why_len);
/* does tpl insert {var} (not merely test it)? */
bool lk_mail_tpl_uses(const char *tpl, const char *var);

#endif
