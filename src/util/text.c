/* text — validation of outside text; every function reads to the NUL and no further. */
#include "util/text.h"

#include <string.h>
#include <strings.h>

size_t lk_utf8_seqn(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned c = p[0], cp;
    size_t len;
    if (n == 0)
        return 0;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0; /* also stops at a NUL */
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

size_t lk_utf8_seq(const char *s)
{
    /* a NUL ends the sequence early and fails the continuation test */
    return lk_utf8_seqn(s, 4);
}

size_t lk_utf8_cut(const char *s, size_t max)
{
    size_t n = 0;
    while (s[n] && n < max) {
        size_t len = lk_utf8_seq(s + n);
        if (len == 0)
            len = 1;    /* a stray byte is one unit: never worse than a byte cut */
        if (n + len > max)
            break;
        n += len;
    }
    return n;
}

void lk_utf8_repair(char *s)
{
    while (*s) {
        size_t len = lk_utf8_seq(s);
        if (len == 0) {
            *s++ = '?';
            continue;
        }
        s += len;
    }
}

long lk_utf8_count(const char *s)
{
    long n = 0;
    while (*s) {
        size_t len = lk_utf8_seq(s);
        if (len == 0)
            return -1;
        s += len;
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
        /* U+202A..U+202E: E2 80 AA..AE; U+2066..U+2069: E2 81 A6..A9 */
        if (*p == 0xE2 && p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE)
            return true;
        if (*p == 0xE2 && p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9)
            return true;
    }
    return false;
}

/* length of the Unicode space at p, 0 if none */
static int space_len(const unsigned char *p)
{
    if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        return 1;
    if (p[0] == 0xC2 && p[1] == 0xA0)
        return 2;
    if (p[0] == 0xE1 && p[1] == 0x9A && p[2] == 0x80)
        return 3;
    if (p[0] == 0xE2 && p[1] == 0x80 && ((p[2] >= 0x80 && p[2] <= 0x8B) || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF))
        return 3;
    if (p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F)
        return 3;
    if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
        return 3;
    if (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        return 3;
    return 0;
}

bool lk_text_is_blank(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = space_len(p);
        if (n == 0)
            return false;
        p += n;
    }
    return true;
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

bool lk_text_has_outer_space(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    if (n == 0)
        return false;
    if (space_len(p) > 0)
        return true;
    /* the last code point starts at the last byte that is not a continuation byte */
    size_t last = n - 1;
    while (last > 0 && (p[last] & 0xC0) == 0x80)
        last--;
    return space_len(p + last) > 0;
}

int lk_hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
