/*
 * mail/tplset — the operator's templates (mail_templates): a folder of files that
 * replace built-in templates, read and checked once when the server starts (see
 * message.h for the names and the rules). Everything is checked before anything is
 * used, so a server never starts with a template that would fail at the first mail.
 */
#include "mail/internal.h"
#include "util/text.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (64 * 1024)

static const char *const TPL_NAMES[LK_TPL_COUNT] = {
    [LK_TPL_INVITATION] = "invitation",   [LK_TPL_PASSWORD_RESET] = "password_reset",
    [LK_TPL_EXPIRY_USER] = "expiry_user", [LK_TPL_EXPIRY_ADMIN] = "expiry_admin",
    [LK_TPL_ADMIN_ADDED] = "admin_added", [LK_TPL_ADMIN_REMOVED] = "admin_removed",
    [LK_TPL_EMAIL_CHANGED] = "email_changed",
};
static const char *const PARTS[3] = {"subject", "txt", "html"};

/* what a file name says: a template part, a layout or a footer */
typedef struct file_id {
    enum { F_PART, F_LAYOUT, F_FOOTER } what;
    int tpl, lang, part;
} file_id;

static bool parse_name(const char *name, file_id *out)
{
    char base[64], lang[8], ext[16];
    const char *d1 = strchr(name, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d1 || !d2 || strchr(d2 + 1, '.') || (size_t)(d1 - name) >= sizeof base ||
        (size_t)(d2 - d1 - 1) >= sizeof lang || strlen(d2 + 1) >= sizeof ext)
        return false;
    snprintf(base, sizeof base, "%.*s", (int)(d1 - name), name);
    snprintf(lang, sizeof lang, "%.*s", (int)(d2 - d1 - 1), d1 + 1);
    snprintf(ext, sizeof ext, "%s", d2 + 1);
    out->lang = -1;
    for (int l = 0; l < LK_LANG_COUNT; l++)
        if (strcmp(lang, lk_mail_locales[l].code) == 0)
            out->lang = l;
    if (out->lang < 0)
        return false;
    if (strcmp(base, "layout") == 0 && strcmp(ext, "html") == 0)
        return out->what = F_LAYOUT, true;
    if (strcmp(base, "footer") == 0 && strcmp(ext, "txt") == 0)
        return out->what = F_FOOTER, true;
    out->what = F_PART;
    out->tpl = out->part = -1;
    for (int t = 0; t < LK_TPL_COUNT; t++)
        if (strcmp(base, TPL_NAMES[t]) == 0)
            out->tpl = t;
    for (int p = 0; p < 3; p++)
        if (strcmp(ext, PARTS[p]) == 0)
            out->part = p;
    return out->tpl >= 0 && out->part >= 0;
}

/* the whole file as a string (caller frees); NULL with err */
static char *read_file(const char *path, char *err, size_t err_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, err_len, "mail_templates: cannot read %.300s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > MAX_FILE) {
        snprintf(err, err_len, "mail_templates: %.300s is %s", path,
                 S_ISREG(st.st_mode) ? "larger than 64 KB" : "not a regular file");
        close(fd);
        return NULL;
    }
    char *buf = lk_xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    for (ssize_t n; got < (size_t)st.st_size && (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0;)
        got += (size_t)n;
    close(fd);
    buf[got] = '\0';
    if (strlen(buf) != got || lk_utf8_count(buf) < 0) {
        snprintf(err, err_len, "mail_templates: %.300s is not UTF-8 text", path);
        free(buf);
        return NULL;
    }
    return buf;
}

void lk_mail_tplset_free(lk_mail_tplset *set)
{
    if (!set)
        return;
    for (int t = 0; t < LK_TPL_COUNT; t++) {
        for (int l = 0; l < LK_LANG_COUNT; l++) {
            free((char *)set->tpl[t][l].subject);
            free((char *)set->tpl[t][l].text);
            free((char *)set->tpl[t][l].html);
        }
    }
    for (int l = 0; l < LK_LANG_COUNT; l++) {
        free((char *)set->layout[l]);
        free((char *)set->footer[l]);
    }
    free(set);
}

static const char **slot(lk_mail_tplset *set, const file_id *id)
{
    if (id->what == F_LAYOUT)
        return &set->layout[id->lang];
    if (id->what == F_FOOTER)
        return &set->footer[id->lang];
    lk_mail_template *t = &set->tpl[id->tpl][id->lang];
    return id->part == 0 ? &t->subject : id->part == 1 ? &t->text : &t->html;
}

/* one file's content against the rules of its kind; false with err */
static bool check_file(const char *name, const file_id *id, char *text, char *err, size_t err_len)
{
    char why[300];
    if (id->what == F_PART && id->part == 0) {
        size_t n = strlen(text);
        while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
            text[--n] = '\0';
        if (n == 0 || strpbrk(text, "\r\n")) {
            snprintf(err, err_len, "mail_templates: %s must hold one line, the subject", name);
            return false;
        }
    }
    if (!lk_mail_tpl_check(text, id->what == F_LAYOUT, why, sizeof why)) {
        snprintf(err, err_len, "mail_templates: %s: %s", name, why);
        return false;
    }
    if (id->what == F_LAYOUT && !lk_mail_tpl_uses(text, "body")) {
        snprintf(err, err_len, "mail_templates: %s does not insert {body}: the message would be empty", name);
        return false;
    }
    bool needs_link = id->what == F_PART && id->part > 0 &&
                      (id->tpl == LK_TPL_INVITATION || id->tpl == LK_TPL_PASSWORD_RESET);
    if (needs_link && !lk_mail_tpl_uses(text, "link")) {
        snprintf(err, err_len, "mail_templates: %s does not insert {link}: the person could not set a password",
                 name);
        return false;
    }
    return true;
}

/* every overridden template has its three parts */
static bool check_whole(const lk_mail_tplset *set, char *err, size_t err_len)
{
    for (int t = 0; t < LK_TPL_COUNT; t++) {
        for (int l = 0; l < LK_LANG_COUNT; l++) {
            const lk_mail_template *x = &set->tpl[t][l];
            const char *parts[3] = {x->subject, x->text, x->html};
            if (!set->has[t][l])
                continue;
            for (int p = 0; p < 3; p++) {
                if (!parts[p]) {
                    snprintf(err, err_len,
                             "mail_templates: %s.%s.%s is missing (a template is replaced whole: its .subject, "
                             ".txt and .html)", TPL_NAMES[t], lk_mail_locales[l].code, PARTS[p]);
                    return false;
                }
            }
        }
    }
    return true;
}

lk_mail_tplset *lk_mail_tplset_load(const char *dir, char *err, size_t err_len)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, err_len, "mail_templates: cannot open the folder %.300s: %s", dir, strerror(errno));
        return NULL;
    }
    lk_mail_tplset *set = lk_xcalloc(1, sizeof *set);
    bool ok = true;
    for (struct dirent *e; ok && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        file_id id = {.tpl = -1, .lang = -1, .part = -1};
        if (!parse_name(e->d_name, &id)) {
            snprintf(err, err_len,
                     "mail_templates: unknown file %.100s in %.200s (expected TEMPLATE.LANG.subject|txt|html, "
                     "layout.LANG.html or footer.LANG.txt; LANG en or de)", e->d_name, dir);
            ok = false;
            break;
        }
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *text = read_file(path, err, err_len);
        if (!text || !check_file(e->d_name, &id, text, err, err_len)) {
            free(text);
            ok = false;
            break;
        }
        *slot(set, &id) = text;
        if (id.what == F_PART)
            set->has[id.tpl][id.lang] = true;
    }
    closedir(d);
    if (ok)
        ok = check_whole(set, err, err_len);
    if (!ok) {
        lk_mail_tplset_free(set);
        return NULL;
    }
    return set;
}

/* writes text as it is (a subject gets its line's end: the loader takes it off) */
static bool write_new(const char *dir, const char *name, const char *text, bool line, char *err, size_t err_len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, err_len, "cannot write %.300s: %s", path, strerror(errno));
        return false;
    }
    size_t n = strlen(text);
    bool ok = write(fd, text, n) == (ssize_t)n && (!line || write(fd, "\n", 1) == 1);
    if (close(fd) != 0 || !ok) {
        snprintf(err, err_len, "cannot write %.300s: %s", path, strerror(errno));
        return false;
    }
    return true;
}

bool lk_mail_tplset_export(const char *dir, char *err, size_t err_len)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "cannot create the folder %.300s: %s", dir, strerror(errno));
        return false;
    }
    char name[64];
    for (int l = 0; l < LK_LANG_COUNT; l++) {
        const char *code = lk_mail_locales[l].code;
        for (int t = 0; t < LK_TPL_COUNT; t++) {
            const lk_mail_template *x = lk_mail_templates[t][l];
            const char *parts[3] = {x->subject, x->text, x->html};
            for (int p = 0; p < 3; p++) {
                snprintf(name, sizeof name, "%s.%s.%s", TPL_NAMES[t], code, PARTS[p]);
                if (!write_new(dir, name, parts[p], p == 0, err, err_len))
                    return false;
            }
        }
        snprintf(name, sizeof name, "layout.%s.html", code);
        if (!write_new(dir, name, lk_mail_locales[l].layout, false, err, err_len))
            return false;
        snprintf(name, sizeof name, "footer.%s.txt", code);
        if (!write_new(dir, name, lk_mail_locales[l].text_footer, false, err, err_len))
            return false;
    }
    return true;
}
