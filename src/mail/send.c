/*
 * mail/send — SMTP through libcurl, or a .eml file (see send.h).
 */
#include "mail/send.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool lk_mail_send_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

void lk_mail_send_cleanup(void)
{
    curl_global_cleanup();
}

static bool use_smtp(const lk_mail_transport *t)
{
    return t->smtp_host && *t->smtp_host;
}

const char *lk_mail_transport_kind(const lk_mail_transport *t)
{
    return use_smtp(t) ? "smtp" : "outbox";
}

/* ---- the outbox ---------------------------------------------------------------- */

/* mkdir -p with mode 0700 for what it creates: the files hold sign-in links */
static bool make_dirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return false;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return false;
        *p = '/';
    }
    return mkdir(buf, 0700) == 0 || errno == EEXIST;
}

static bool write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        data += w;
        len -= (size_t)w;
    }
    return true;
}

static void to_outbox(const lk_mail_transport *t, const char *name, const char *data, size_t len, lk_mail_outcome *out)
{
    const char *dir = t->outbox && *t->outbox ? t->outbox : ".";
    char path[700], tmp[720];
    snprintf(out->delivery, sizeof out->delivery, "%s/%s", dir, name);
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path ||
        snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= (int)sizeof tmp) {
        snprintf(out->error, sizeof out->error, "the outbox path is too long");
        out->permanent = true;
        return;
    }
    if (!make_dirs(dir)) {
        snprintf(out->error, sizeof out->error, "cannot create the outbox folder %.200s: %s", dir, strerror(errno));
        return;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(out->error, sizeof out->error, "cannot write %.200s: %s", tmp, strerror(errno));
        return;
    }
    bool ok = write_all(fd, data, len) && fsync(fd) == 0;
    int saved = errno;
    ok = close(fd) == 0 && ok;
    if (ok && rename(tmp, path) != 0) {
        saved = errno;
        ok = false;
    }
    if (!ok) {
        unlink(tmp);
        snprintf(out->error, sizeof out->error, "cannot write %.200s: %s", path, strerror(saved));
        return;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    out->sent = true;
}

/* ---- SMTP ------------------------------------------------------------------------- */

typedef struct upload {
    const char *data;
    size_t left;
} upload;

static size_t read_cb(char *buf, size_t size, size_t n, void *arg)
{
    upload *u = arg;
    size_t want = size * n;
    if (want > u->left)
        want = u->left;
    memcpy(buf, u->data, want);
    u->data += want;
    u->left -= want;
    return want;
}

static int progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    const atomic_int *abort = arg;
    return abort && atomic_load(abort) ? 1 : 0;
}

int lk_mail_smtp_port(int port, const char *security)
{
    if (port > 0)
        return port;
    if (security && strcmp(security, "tls") == 0)
        return 465;
    if (security && strcmp(security, "none") == 0)
        return 25;
    return 587;
}

static void to_smtp(const lk_mail_transport *t, const char *from, const char *to, const char *data, size_t len,
                    lk_mail_outcome *out)
{
    int port = lk_mail_smtp_port(t->smtp_port, t->security);
    bool implicit = t->security && strcmp(t->security, "tls") == 0;
    bool starttls = !t->security || strcmp(t->security, "starttls") == 0;
    snprintf(out->delivery, sizeof out->delivery, "smtp %s:%d", t->smtp_host, port);
    /* the path of an SMTP URL is the name curl gives in EHLO: the sender's domain */
    const char *at = strrchr(from, '@');
    char url[700];
    snprintf(url, sizeof url, "%s://%s:%d/%s", implicit ? "smtps" : "smtp", t->smtp_host, port,
             at && at[1] ? at + 1 : "localhost");

    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(out->error, sizeof out->error, "could not start an SMTP session (out of memory?)");
        return;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    char from_br[400];
    snprintf(from_br, sizeof from_br, "<%s>", from);
    char to_br[400];
    snprintf(to_br, sizeof to_br, "<%s>", to);
    struct curl_slist *rcpt = curl_slist_append(NULL, to_br);
    upload up = {data, len};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, t->timeout > 0 ? t->timeout : 30L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, t->timeout > 0 && t->timeout < 10 ? t->timeout : 10L);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from_br);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)t->abort);
    if (starttls)
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (t->ca_file && *t->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, t->ca_file);
    if (t->user && *t->user) {
        curl_easy_setopt(c, CURLOPT_USERNAME, t->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, t->password ? t->password : "");
    }
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK) {
        out->sent = true;
    } else {
        /* errbuf comes from curl: server replies and socket errors, never the password */
        const char *why = *errbuf ? errbuf : curl_easy_strerror(rc);
        if (code)
            snprintf(out->error, sizeof out->error, "%s (SMTP %ld)", why, code);
        else
            snprintf(out->error, sizeof out->error, "%s", why);
        /* only a refusal of this recipient or this message is for good (RFC 5321
         * 550-553: no such mailbox, not local, too big, bad address); other 5xx (530
         * authentication required, 554 at the greeting, ...) come from a configuration
         * that may be fixed, and a refused login too */
        out->permanent = code >= 550 && code <= 553 && rc != CURLE_LOGIN_DENIED;
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
}

void lk_mail_send(const lk_mail_transport *t, const char *from, const char *to, const char *name, const char *data,
                  size_t len, lk_mail_outcome *out)
{
    memset(out, 0, sizeof *out);
    if (use_smtp(t))
        to_smtp(t, from, to, data, len, out);
    else
        to_outbox(t, name, data, len, out);
}
