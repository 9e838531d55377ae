/* text — validation of outside text; every function reads to the NUL and no further. */
#include "util/text.h"

#include <string.h>
#include <strings.h>

long lk_utf8_count(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;
    while (*p) {
        unsigned c = *p;
        int len;
        unsigned cp;
        if (c < 0x80) {
            p++;
            n++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return -1;
        }
        for (int i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return -1; /* also stops at the NUL */
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;
        p += len;
        n++;
    }
    return n;
}

bool lk_text_has_control(const char *s, bool allow_newlines)
{
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++) {
        if (*p < 0x20 || *p == 0x7F) {
            if (allow_newlines && (*p == '\n' || *p == '\r' || *p == '\t'))
                continue;
            return true;
        }
        /* C1 controls U+0080..U+009F are encoded as C2 80..C2 9F */
        if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
            return true;
    }
    return false;
}

static bool atom_char(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL && c != '\0';
}

bool lk_email_valid(const char *s)
{
    if (!s)
        return false;
    size_t len = strlen(s);
    const char *at = strchr(s, '@');
    if (len > 254 || !at || strchr(at + 1, '@'))
        return false;
    size_t local = (size_t)(at - s);
    if (local < 1 || local > 64 || s[0] == '.' || at[-1] == '.')
        return false;
    for (const char *p = s; p < at; p++) {
        if (*p == '.') {
            if (p[1] == '.')
                return false;
        } else if (!atom_char(*p)) {
            return false;
        }
    }
    const char *d = at + 1;
    int labels = 0;
    while (*d) {
        size_t n = 0;
        while (d[n] && d[n] != '.') {
            char c = d[n];
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '-';
            if (!ok)
                return false;
            n++;
        }
        if (n == 0 || n > 63 || d[0] == '-' || d[n - 1] == '-')
            return false;
        labels++;
        d += n;
        if (*d == '.') {
            d++;
            if (*d == '\0')
                return false;
        }
    }
    return labels >= 2;
}

bool lk_str_ieq(const char *a, const char *b)
{
    return a && b && strcasecmp(a, b) == 0;
}
