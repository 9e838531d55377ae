/*
 * mail/render — fills a template from the table in templates.c with a message's
 * variables, three times: for the subject (one line), the text part and the HTML
 * part. Each variable is prepared once per part (escaped for HTML, quoted for text),
 * so the expander itself only copies: nothing from outside reaches the HTML
 * unescaped, whatever the template says.
 */
#include "mail/internal.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { NEED_LINK = 1, NEED_USER = 2, NEED_EXPIRES = 4 };

static const struct {
    lk_mail_tpl_id tpl[2]; /* [to_admin] */
    unsigned need[2];
} kinds[LK_MAIL_KIND_COUNT] = {
    [LK_MAIL_INVITATION] = {{LK_TPL_INVITATION, LK_TPL_INVITATION}, {NEED_LINK, NEED_LINK}},
    [LK_MAIL_PASSWORD_RESET] = {{LK_TPL_PASSWORD_RESET, LK_TPL_PASSWORD_RESET}, {NEED_LINK, NEED_LINK}},
    [LK_MAIL_EXPIRY_NOTICE] = {{LK_TPL_EXPIRY_USER, LK_TPL_EXPIRY_ADMIN},
                               {NEED_EXPIRES, NEED_EXPIRES | NEED_USER}},
    [LK_MAIL_ADMIN_ADDED] = {{LK_TPL_ADMIN_ADDED, LK_TPL_ADMIN_ADDED}, {NEED_USER, NEED_USER}},
    [LK_MAIL_ADMIN_REMOVED] = {{LK_TPL_ADMIN_REMOVED, LK_TPL_ADMIN_REMOVED}, {NEED_USER, NEED_USER}},
    [LK_MAIL_EMAIL_CHANGED] = {{LK_TPL_EMAIL_CHANGED, LK_TPL_EMAIL_CHANGED}, {NEED_USER, NEED_USER}},
};

enum { V_NAME, V_LINK, V_LINK_EXPIRES, V_MESSAGE, V_ACTOR, V_USER, V_EXPIRES_AT, V_IN_DAYS, V_CONSOLE,
       V_LANG, V_SUBJECT, V_BODY, V_COUNT };

static const char *const var_names[V_COUNT] = {
    [V_NAME] = "name",       [V_LINK] = "link",       [V_LINK_EXPIRES] = "link_expires",
    [V_MESSAGE] = "message", [V_ACTOR] = "actor",     [V_USER] = "user",
    [V_EXPIRES_AT] = "expires_at", [V_IN_DAYS] = "in_days", [V_CONSOLE] = "console",
    [V_LANG] = "lang",       [V_SUBJECT] = "subject", [V_BODY] = "body",
};

typedef struct vars {
    const char *v[V_COUNT]; /* never NULL once filled: "" when not given */
} vars;

static bool given(const char *s)
{
    return s && *s;
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* ---- the expander ----------------------------------------------------------------- */

/* Expands p up to the end (depth 0) or its closing {/} (depth > 0); returns where it
 * stopped, NULL for a malformed template or an unknown variable. */
static const char *expand(lk_strbuf *b, const vars *vs, const char *p, bool on, int depth)
{
    while (*p) {
        const char *open = strchr(p, '{');
        if (!open) {
            if (on)
                lk_strbuf_puts(b, p);
            p += strlen(p);
            break;
        }
        if (on)
            lk_strbuf_putn(b, p, (size_t)(open - p));
        const char *close = strchr(open, '}');
        if (!close)
            return NULL;
        const char *name = open + 1;
        size_t n = (size_t)(close - name);
        if (n == 1 && *name == '/')
            return depth > 0 ? close + 1 : NULL;
        char mode = (*name == '?' || *name == '!') ? *name : 0;
        if (mode) {
            name++;
            n--;
        }
        int idx = -1;
        for (int i = 0; i < V_COUNT; i++) {
            if (strlen(var_names[i]) == n && memcmp(var_names[i], name, n) == 0)
                idx = i;
        }
        if (idx < 0)
            return NULL;
        if (mode) {
            bool keep = given(vs->v[idx]) == (mode == '?');
            p = expand(b, vs, close + 1, on && keep, depth + 1);
            if (!p)
                return NULL;
            continue;
        }
        if (on)
            lk_strbuf_puts(b, vs->v[idx]);
        p = close + 1;
    }
    return depth == 0 ? p : NULL;
}

/* ---- checking a template from outside (mail_templates) ------------------------------ */

static int var_index(const char *name, size_t n)
{
    for (int i = 0; i < V_COUNT; i++) {
        if (strlen(var_names[i]) == n && memcmp(var_names[i], name, n) == 0)
            return i;
    }
    return -1;
}

bool lk_mail_tpl_check(const char *tpl, bool layout, char *why, size_t why_len)
{
    int depth = 0;
    int line = 1;
    for (const char *p = tpl; *p; p++) {
        if (*p == '\n')
            line++;
        if (*p == '}') {
            snprintf(why, why_len, "line %d: a '}' that closes nothing (literal braces are not possible)", line);
            return false;
        }
        if (*p != '{')
            continue;
        const char *close = strpbrk(p + 1, "{}\n");
        if (!close || *close != '}') {
            snprintf(why, why_len, "line %d: a '{' without its '}' on the same line", line);
            return false;
        }
        const char *name = p + 1;
        size_t n = (size_t)(close - name);
        p = close;
        if (n == 1 && *name == '/') {
            if (--depth < 0) {
                snprintf(why, why_len, "line %d: {/} closes no {?name} or {!name}", line);
                return false;
            }
            continue;
        }
        bool section = n > 0 && (*name == '?' || *name == '!');
        if (section) {
            name++;
            n--;
            depth++;
        }
        int idx = var_index(name, n);
        if (idx < 0 || (!layout && (idx == V_SUBJECT || idx == V_BODY))) {
            snprintf(why, why_len, "line %d: unknown variable {%.*s} (known: name, link, link_expires, message, actor, "
                     "user, expires_at, in_days, console, lang%s)", line, (int)(n > 40 ? 40 : n), name,
                     layout ? ", subject, body" : "");
            return false;
        }
    }
    if (depth > 0) {
        snprintf(why, why_len, "%d section(s) {?name}/{!name} not closed with {/}", depth);
        return false;
    }
    return true;
}

bool lk_mail_tpl_uses(const char *tpl, const char *var)
{
    size_t n = strlen(var);
    for (const char *p = strchr(tpl, '{'); p; p = strchr(p + 1, '{')) {
        if (strncmp(p + 1, var, n) == 0 && p[1 + n] == '}')
            return true;
    }
    return false;
}

static const char *fill(lk_arena *a, const vars *vs, const char *tpl)
{
    lk_strbuf b;
    lk_strbuf_init(&b, a);
    if (!expand(&b, vs, tpl, true, 0))
        return NULL;
    return lk_strbuf_str(&b);
}

/* ---- preparing the variables ------------------------------------------------------ */

static const char *html_escape(lk_arena *a, const char *s, bool newline_br)
{
    lk_strbuf b;
    lk_strbuf_init(&b, a);
    for (; *s; s++) {
        switch (*s) {
        case '&': lk_strbuf_puts(&b, "&amp;"); break;
        case '<': lk_strbuf_puts(&b, "&lt;"); break;
        case '>': lk_strbuf_puts(&b, "&gt;"); break;
        case '"': lk_strbuf_puts(&b, "&quot;"); break;
        case '\'': lk_strbuf_puts(&b, "&#39;"); break;
        case '\n':
            lk_strbuf_puts(&b, newline_br ? "<br>\n" : " ");
            break;
        default: lk_strbuf_putc(&b, *s); break;
        }
    }
    return lk_strbuf_str(&b);
}

/* one line: CR, LF and TAB become spaces */
static const char *one_line(lk_arena *a, const char *s)
{
    char *d = lk_arena_strdup(a, s);
    for (char *p = d; *p; p++) {
        if (*p == '\r' || *p == '\n' || *p == '\t')
            *p = ' ';
    }
    return d;
}

/* "\r\n" and lone "\r" become "\n"; blank lines around the text are dropped */
static const char *normalize_lines(lk_arena *a, const char *s)
{
    lk_strbuf b;
    lk_strbuf_init(&b, a);
    for (; *s; s++) {
        if (*s == '\r') {
            lk_strbuf_putc(&b, '\n');
            if (s[1] == '\n')
                s++;
        } else {
            lk_strbuf_putc(&b, *s);
        }
    }
    const char *p = lk_strbuf_str(&b);
    size_t start = 0, end = b.len;
    for (size_t i = 0; i < end; i++) {
        if (p[i] == '\n')
            start = i + 1;
        else if (p[i] != ' ' && p[i] != '\t')
            break;
    }
    while (end > start && (p[end - 1] == '\n' || p[end - 1] == ' ' || p[end - 1] == '\t'))
        end--;
    return lk_arena_strndup(a, p + start, end - start);
}

/* every line prefixed with "> ", as mail quotes */
static const char *text_quote(lk_arena *a, const char *s)
{
    if (!*s)
        return "";
    lk_strbuf b;
    lk_strbuf_init(&b, a);
    lk_strbuf_puts(&b, "> ");
    for (; *s; s++) {
        lk_strbuf_putc(&b, *s);
        if (*s == '\n')
            lk_strbuf_puts(&b, s[1] == '\n' ? ">" : "> ");
    }
    return lk_strbuf_str(&b);
}

static const char *human_time(lk_arena *a, const lk_mail_locale *loc, const char *iso)
{
    if (!given(iso))
        return "";
    int64_t t;
    if (!lk_time_parse(iso, &t))
        return iso;
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return iso;
    return lk_arena_printf(a, loc->date_format, tm.tm_mday, loc->months[tm.tm_mon], tm.tm_year + 1900,
                           tm.tm_hour, tm.tm_min);
}

static const char *in_days(lk_arena *a, const lk_mail_locale *loc, int days)
{
    if (days <= 0)
        return loc->today;
    if (days == 1)
        return loc->in_one_day;
    return lk_arena_printf(a, loc->in_n_days, days);
}

static lk_mail_lang lang_of(const char *lang)
{
    for (int i = 0; i < LK_LANG_COUNT; i++) {
        if (lang && strcmp(lang, lk_mail_locales[i].code) == 0)
            return (lk_mail_lang)i;
    }
    return LK_LANG_EN;
}

bool lk_mail_render(lk_arena *a, lk_mail_kind kind, const char *lang, const lk_mail_vars *v,
                    lk_mail_content *out)
{
    return lk_mail_render_with(NULL, a, kind, lang, v, out);
}

bool lk_mail_render_with(const lk_mail_tplset *set, lk_arena *a, lk_mail_kind kind, const char *lang,
                         const lk_mail_vars *v, lk_mail_content *out)
{
    if (!v || !out || (unsigned)kind >= LK_MAIL_KIND_COUNT)
        return false;
    int variant = kind == LK_MAIL_EXPIRY_NOTICE && v->to_admin;
    unsigned need = kinds[kind].need[variant];
    if (((need & NEED_LINK) && !given(v->link)) || ((need & NEED_USER) && !given(v->subject_user)) ||
        ((need & NEED_EXPIRES) && !given(v->expires_at)))
        return false;
    lk_mail_lang l = lang_of(lang);
    const lk_mail_locale *loc = &lk_mail_locales[l];
    lk_mail_tpl_id id = kinds[kind].tpl[variant];
    const lk_mail_template *tpl = set && set->has[id][l] ? &set->tpl[id][l] : lk_mail_templates[id][l];
    const char *layout = set && set->layout[l] ? set->layout[l] : loc->layout;
    const char *footer = set && set->footer[l] ? set->footer[l] : loc->text_footer;

    vars plain = {{
        [V_NAME] = or_empty(v->recipient_name),
        [V_LINK] = or_empty(v->link),
        [V_LINK_EXPIRES] = human_time(a, loc, v->link_expires),
        [V_MESSAGE] = normalize_lines(a, or_empty(v->message)),
        [V_ACTOR] = or_empty(v->actor_name),
        [V_USER] = or_empty(v->subject_user),
        [V_EXPIRES_AT] = human_time(a, loc, v->expires_at),
        [V_IN_DAYS] = in_days(a, loc, v->days),
        [V_CONSOLE] = or_empty(v->console_url),
        [V_LANG] = loc->code,
        [V_SUBJECT] = "",
        [V_BODY] = "",
    }};

    vars subj = plain, text = plain, html = plain;
    for (int i = 0; i < V_COUNT; i++) {
        subj.v[i] = one_line(a, plain.v[i]);
        html.v[i] = html_escape(a, plain.v[i], i == V_MESSAGE);
    }
    text.v[V_MESSAGE] = text_quote(a, plain.v[V_MESSAGE]);

    const char *subject = fill(a, &subj, tpl->subject);
    const char *text_body = fill(a, &text, tpl->text);
    const char *html_body = fill(a, &html, tpl->html);
    if (!subject || !text_body || !html_body)
        return false;
    const char *text_footer = fill(a, &text, footer);
    html.v[V_SUBJECT] = html_escape(a, subject, false);
    html.v[V_BODY] = html_body; /* already escaped, and the only raw value */
    const char *html_doc = fill(a, &html, layout);
    if (!text_footer || !html_doc)
        return false;
    out->subject = subject;
    out->text = lk_arena_printf(a, "%s%s", text_body, text_footer);
    out->html = html_doc;
    return true;
}
