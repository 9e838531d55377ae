/*
 * fuzz_log — log records (util/log.h) with arbitrary bytes as values: a client's path,
 * method, client id or X-Request-Id ends up there. Invariants: no crash; the record is
 * one line, ends with '\n' and holds no other control character; a JSON record parses
 * and gives back the value (invalid UTF-8 as U+FFFD aside); a logfmt value unescapes
 * back to the bytes given. The first byte picks the format.
 */
#include "util/log.h"
#include "util/text.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the logfmt value of key v unescaped into out (the line read field by field, so that
 * a " v=" inside another value does not count); its length, or -1 */
static long logfmt_value(const char *p, char *out, size_t cap)
{
    while (*p && *p != '\n') {
        while (*p == ' ')
            p++;
        const char *eq = strchr(p, '=');
        if (!eq)
            return -1;
        bool want = eq - p == 1 && *p == 'v';
        p = eq + 1;
        size_t n = 0;
        if (*p != '"') {
            for (; *p && *p != ' ' && *p != '\n'; p++)
                if (want && n < cap)
                    out[n++] = *p;
        } else {
            for (p++; *p && *p != '"'; p++) {
                char c = *p;
                if (c == '\\') {
                    c = *++p;
                    if (c == 'n')
                        c = '\n';
                    else if (c == 'r')
                        c = '\r';
                    else if (c == 't')
                        c = '\t';
                    else if (c == 'x') {
                        char hex[3] = {p[1], p[2], 0};
                        c = (char)strtol(hex, NULL, 16);
                        p += 2;
                    }
                }
                if (want && n < cap)
                    out[n++] = c;
            }
            if (*p != '"')
                return -1;
            p++;
        }
        if (want)
            return (long)n;
    }
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int devnull = -1;
    if (devnull < 0)
        devnull = open("/dev/null", O_WRONLY);
    if (size == 0)
        return 0;
    bool json = data[0] & 1;
    lk_log_setup(json ? LK_LOG_JSON : LK_LOG_LOGFMT, LK_LOG_DEBUG, devnull);
    char *v = malloc(size);
    memcpy(v, data + 1, size - 1);
    v[size - 1] = '\0';
    size_t vlen = strlen(v);

    lk_log_line l;
    lk_log_request_id(v);
    lk_log_begin(&l, LK_LOG_INFO, v);
    lk_log_str(&l, "v", v);
    lk_log_qstr(&l, "q", v);
    lk_log_int(&l, "n", (long long)size);
    lk_log_end(&l);
    lk_log_request_id(NULL);

    if (l.len == 0 || l.len > LK_LOG_LINE_MAX || l.buf[l.len - 1] != '\n')
        abort();
    for (size_t i = 0; i + 1 < l.len; i++)
        if ((unsigned char)l.buf[i] < 0x20 || l.buf[i] == 0x7f)
            abort();
    char *line = malloc(l.len + 1);
    memcpy(line, l.buf, l.len);
    line[l.len] = '\0';
    /* short values are never cut: they come back */
    bool whole = vlen < 200;
    if (json) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j || !json_is_object(j))
            abort();
        const char *got = json_string_value(json_object_get(j, "v"));
        if (whole && (!got || (lk_utf8_count(v) >= 0 && strcmp(got, v) != 0)))
            abort();
        json_decref(j);
    } else if (whole) {
        char out[1024];
        long n = logfmt_value(line, out, sizeof out);
        if (n < 0 || (size_t)n != vlen || memcmp(out, v, vlen) != 0)
            abort();
    }
    free(line);
    free(v);
    return 0;
}
