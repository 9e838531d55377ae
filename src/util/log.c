/*
 * log — records as logfmt or JSON lines (see log.h). A line is built in a fixed
 * buffer; every append checks the room left, keeping TAIL bytes for what closes the
 * line (a quote, '}', '\n'), so a cut value still leaves a well-formed record.
 */
#include "util/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TAIL 4

static atomic_int g_level = LK_LOG_INFO;
static atomic_int g_format = LK_LOG_LOGFMT;
static atomic_int g_fd = 2;
static _Thread_local const char *t_request_id;

static const char *const LEVELS[] = {"debug", "info", "warn", "error"};

bool lk_log_parse_level(const char *s, lk_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (s && strcmp(s, LEVELS[i]) == 0) {
            *out = (lk_log_level)i;
            return true;
        }
    }
    return false;
}

bool lk_log_parse_format(const char *s, lk_log_format *out)
{
    if (s && strcmp(s, "logfmt") == 0)
        return *out = LK_LOG_LOGFMT, true;
    if (s && strcmp(s, "json") == 0)
        return *out = LK_LOG_JSON, true;
    return false;
}

void lk_log_setup(lk_log_format format, lk_log_level level, int fd)
{
    atomic_store(&g_format, (int)format);
    atomic_store(&g_level, (int)level);
    atomic_store(&g_fd, fd);
}

bool lk_log_enabled(lk_log_level level)
{
    return (int)level >= atomic_load_explicit(&g_level, memory_order_relaxed);
}

void lk_log_request_id(const char *id)
{
    t_request_id = id;
}

/* ---- appending within the room left ---------------------------------------------- */

static size_t room(const lk_log_line *l)
{
    return l->len + TAIL < sizeof l->buf ? sizeof l->buf - TAIL - l->len : 0;
}

static bool put(lk_log_line *l, const char *s, size_t n)
{
    if (n > room(l))
        return false;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    return true;
}

static bool puts_(lk_log_line *l, const char *s)
{
    return put(l, s, strlen(s));
}

/* the length of the valid UTF-8 sequence at p (1-4), 0 when it is not one */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned min;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, min = 0x80, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, min = 0x800, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static bool bare_ok(const char *s)
{
    if (!*s)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7F || *p == '"' || *p == '=' || *p == '\\')
            return false;
    }
    return true;
}

/* s between quotes, escaped for the format; cut (whole characters) when the room
 * runs out, keeping one byte for the closing quote */
static void put_quoted(lk_log_line *l, const char *s)
{
    if (!put(l, "\"", 1))
        return;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        char esc[8];
        const char *out = esc;
        size_t n, adv = 1;
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c, n = 2;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            esc[0] = '\\', esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't', n = 2;
        } else if (c < 0x20 || c == 0x7F) {
            n = (size_t)snprintf(esc, sizeof esc, l->json ? "\\u%04x" : "\\x%02x", c);
        } else if (c < 0x80) {
            out = (const char *)p, n = 1;
        } else if ((adv = utf8_len(p)) > 0) {
            out = (const char *)p, n = adv;
        } else {
            adv = 1;
            if (l->json)
                out = "\\ufffd", n = 6;
            else
                n = (size_t)snprintf(esc, sizeof esc, "\\x%02x", c);
        }
        if (n + 1 > room(l))
            break;
        put(l, out, n);
        p += adv;
    }
    l->buf[l->len++] = '"'; /* within TAIL */
}

/* the separator and the key; false when they and `value_min` bytes of the value
 * do not fit */
static bool put_key(lk_log_line *l, const char *key, size_t value_min)
{
    size_t need = strlen(key) + 4 + value_min;
    if (need > room(l))
        return false;
    if (l->json) {
        put(l, ",\"", 2);
        puts_(l, key);
        put(l, "\":", 2);
    } else {
        put(l, " ", 1);
        puts_(l, key);
        put(l, "=", 1);
    }
    return true;
}

static void field_str(lk_log_line *l, const char *key, const char *value, bool always_quote)
{
    if (!l->on || !put_key(l, key, 4))
        return;
    if (!value) {
        puts_(l, l->json ? "null" : "-");
        return;
    }
    if (!l->json && !always_quote && bare_ok(value) && strlen(value) <= room(l)) {
        puts_(l, value);
        return;
    }
    put_quoted(l, value);
}

void lk_log_str(lk_log_line *l, const char *key, const char *value)
{
    field_str(l, key, value, false);
}

void lk_log_qstr(lk_log_line *l, const char *key, const char *value)
{
    field_str(l, key, value, true);
}

void lk_log_int(lk_log_line *l, const char *key, long long value)
{
    char num[24];
    snprintf(num, sizeof num, "%lld", value);
    if (l->on && put_key(l, key, strlen(num)))
        puts_(l, num);
}

void lk_log_num(lk_log_line *l, const char *key, double value, int decimals)
{
    char num[48];
    snprintf(num, sizeof num, "%.*f", decimals, value);
    if (l->on && put_key(l, key, strlen(num)))
        puts_(l, num);
}

static void begin(lk_log_line *l, lk_log_level level, const char *msg, bool always)
{
    l->len = 0;
    l->on = always || lk_log_enabled(level);
    if (!l->on)
        return;
    l->json = atomic_load_explicit(&g_format, memory_order_relaxed) == LK_LOG_JSON;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[96];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000L) % 1000);
    if (l->json) {
        puts_(l, "{\"time\":\"");
        puts_(l, when);
        puts_(l, "\",\"level\":\"");
        puts_(l, LEVELS[level]);
        puts_(l, "\"");
    } else {
        puts_(l, "time=");
        puts_(l, when);
        puts_(l, " level=");
        puts_(l, LEVELS[level]);
    }
    lk_log_str(l, "msg", msg ? msg : "");
    if (t_request_id)
        lk_log_str(l, "request_id", t_request_id);
}

void lk_log_begin(lk_log_line *l, lk_log_level level, const char *msg)
{
    begin(l, level, msg, false);
}

void lk_log_end(lk_log_line *l)
{
    if (!l->on)
        return;
    if (l->json)
        l->buf[l->len++] = '}';
    l->buf[l->len++] = '\n';
    (void)!write(atomic_load_explicit(&g_fd, memory_order_relaxed), l->buf, l->len);
    l->on = false;
}

static void vlog(lk_log_level level, bool always, const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    lk_log_line l;
    begin(&l, level, msg, always);
    lk_log_end(&l);
}

void lk_log(lk_log_level level, const char *fmt, ...)
{
    if (!lk_log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, false, fmt, ap);
    va_end(ap);
}

void lk_log_always(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(LK_LOG_INFO, true, fmt, ap);
    va_end(ap);
}
