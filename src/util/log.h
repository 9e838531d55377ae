/*
 * log — the server's log: one record per line on stderr, as logfmt
 * (`time=… level=info msg="…" key=value …`) or as one JSON object per line.
 *
 * Every record has time (UTC, milliseconds), level and msg; a record written on a
 * thread that is handling a request also carries that request's id (request_id),
 * set with lk_log_request_id(). Values are escaped so that nothing from outside can
 * start a line or a field of its own: logfmt quotes a value that holds a space, '"',
 * '=', '\' or a byte outside printable ASCII (escaping '"', '\', control characters
 * and invalid UTF-8 as \xNN); JSON escapes control characters and replaces invalid
 * UTF-8 with U+FFFD. A record is written with one write(2) and is at most
 * LK_LOG_LINE_MAX bytes (longer values are cut, the line stays well formed).
 *
 * lk_log_setup() is called once, before the threads start; the rest is thread-safe.
 * The CLI's own messages (errors of a command) are not log records.
 */
#ifndef LK_UTIL_LOG_H
#define LK_UTIL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_LOG_LINE_MAX 4096

typedef enum lk_log_level { LK_LOG_DEBUG, LK_LOG_INFO, LK_LOG_WARN, LK_LOG_ERROR } lk_log_level;
typedef enum lk_log_format { LK_LOG_LOGFMT, LK_LOG_JSON } lk_log_format;

/* "debug", "info", "warn", "error" / "logfmt", "json": false for anything else */
bool lk_log_parse_level(const char *s, lk_log_level *out);
bool lk_log_parse_format(const char *s, lk_log_format *out);

/* format, the lowest level written, and the file descriptor (2 unless a test says) */
void lk_log_setup(lk_log_format format, lk_log_level level, int fd);
bool lk_log_enabled(lk_log_level level);

/* The id of the request this thread is handling (borrowed: keep it alive until
 * cleared with NULL); records written meanwhile carry it. */
void lk_log_request_id(const char *id);

/* A record with a printf-formatted msg and no other field. */
void lk_log(lk_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same at level info, written whatever log_level says: the server's start, stop
 * and signals, which an operator must always be able to see (and tests wait for). */
void lk_log_always(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A record with fields: begin, add fields in order, end (writes it). Nothing is
 * written when the level is below the configured one. The line lives on the caller's
 * stack; no allocation. */
typedef struct lk_log_line {
    char buf[LK_LOG_LINE_MAX];
    size_t len;
    bool on;
    bool json;
} lk_log_line;

void lk_log_begin(lk_log_line *l, lk_log_level level, const char *msg);
/* a text field; NULL is written as "-" (logfmt) or null (JSON) */
void lk_log_str(lk_log_line *l, const char *key, const char *value);
/* the same, always quoted in logfmt (fields that readers match with quotes: path) */
void lk_log_qstr(lk_log_line *l, const char *key, const char *value);
void lk_log_int(lk_log_line *l, const char *key, long long value);
/* a number with `decimals` digits after the point */
void lk_log_num(lk_log_line *l, const char *key, double value, int decimals);
void lk_log_end(lk_log_line *l);

#endif
