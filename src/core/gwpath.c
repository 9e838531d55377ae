/* gwpath — patterns and paths of the gateway's route table (rules in gwpath.h). */
#include "core/gwpath.h"
#include "util/text.h"

#include <stdint.h>
#include <string.h>

/* a segment of a pattern: [start, start+len) */
typedef struct seg {
    const char *p;
    size_t len;
} seg;

/* the segment at *s (after a '/'), advancing *s past it; false at the end */
static bool next_seg(const char **s, seg *out)
{
    if (**s != '/')
        return false;
    (*s)++;
    out->p = *s;
    out->len = strcspn(*s, "/");
    *s += out->len;
    return true;
}

static bool literal_char(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f)
        return false;
    return !strchr("%\\;?#{}", c);
}

static bool name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* a parameter segment: prefix length, suffix length; false for a literal one */
static bool param_parts(const seg *g, size_t *pre, size_t *suf)
{
    const char *open = memchr(g->p, '{', g->len);
    if (!open)
        return false;
    const char *close = memchr(open, '}', g->len - (size_t)(open - g->p));
    *pre = (size_t)(open - g->p);
    *suf = close ? g->len - (size_t)(close - g->p) - 1 : 0;
    return true;
}

static bool seg_ok(const seg *g, bool last, const char **why)
{
    if (g->len == 1 && g->p[0] == '*') {
        if (!last) {
            *why = "'*' may only be the last segment";
            return false;
        }
        return true;
    }
    if (g->len == 0 && !last) {
        *why = "a pattern has no empty segments ('//')";
        return false;
    }
    if ((g->len == 1 && g->p[0] == '.') || (g->len == 2 && g->p[0] == '.' && g->p[1] == '.')) {
        *why = "a pattern has no '.' or '..' segments";
        return false;
    }
    int params = 0;
    for (size_t i = 0; i < g->len; i++) {
        unsigned char c = (unsigned char)g->p[i];
        if (c == '{') {
            size_t j = i + 1;
            while (j < g->len && name_char((unsigned char)g->p[j]))
                j++;
            if (j == i + 1 || j >= g->len || g->p[j] != '}') {
                *why = "a parameter is '{name}', the name of letters, digits and '_'";
                return false;
            }
            if (++params > 1) {
                *why = "a segment holds one parameter at most";
                return false;
            }
            i = j;
            continue;
        }
        if (c == '*') {
            *why = "'*' is a whole segment, the last one";
            return false;
        }
        if (!literal_char(c)) {
            *why = "a pattern is printable ASCII without spaces, '%', '\\', ';', '?', '#' or stray braces";
            return false;
        }
    }
    return true;
}

bool lk_gwpath_pattern_ok(const char *pattern, const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    if (!pattern || pattern[0] != '/') {
        *why = "a pattern starts with '/'";
        return false;
    }
    if (strlen(pattern) > LK_GWPATTERN_MAX) {
        *why = "a pattern has at most 512 characters";
        return false;
    }
    const char *s = pattern;
    seg g;
    while (next_seg(&s, &g))
        if (!seg_ok(&g, *s == '\0', why))
            return false;
    return true;
}

/* the decoded path's segments: no '.', '..', and no empty one but the last */
static bool segments_ok(const char *path, const char **why)
{
    const char *s = path;
    seg g;
    while (next_seg(&s, &g)) {
        if (g.len == 0 && *s != '\0') {
            *why = "the path has an empty segment ('//')";
            return false;
        }
        if ((g.len == 1 && g.p[0] == '.') || (g.len == 2 && g.p[0] == '.' && g.p[1] == '.')) {
            *why = "the path has a '.' or '..' segment";
            return false;
        }
    }
    return true;
}

bool lk_gwpath_decode(const char *raw, size_t raw_len, char *out, size_t out_len, const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    if (!raw || raw_len == 0 || raw[0] != '/') {
        *why = "the request target is not a path";
        return false;
    }
    size_t n = 0;
    for (size_t i = 0; i < raw_len; i++) {
        unsigned char c = (unsigned char)raw[i];
        bool encoded = false;
        if (c == '%') {
            int hi = i + 2 < raw_len ? lk_hex_digit((unsigned char)raw[i + 1]) : -1;
            int lo = i + 2 < raw_len ? lk_hex_digit((unsigned char)raw[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *why = "the path has a '%' that is not followed by two hex digits";
                return false;
            }
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
            encoded = true;
        }
        if (c < 0x20 || c == 0x7f) {
            *why = "the path has a control character";
            return false;
        }
        if (c == '\\' || c == ';' || c == '#' || c == '?' || (encoded && (c == '/' || c == '%'))) {
            *why = "the path has an encoded '/', '%', '?' or '#', or a '\\' or ';'";
            return false;
        }
        if (n + 1 >= out_len) {
            *why = "the path is too long";
            return false;
        }
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return segments_ok(out, why);
}

static bool seg_match(const seg *pat, const seg *path)
{
    size_t pre, suf;
    if (!param_parts(pat, &pre, &suf))
        return pat->len == path->len && memcmp(pat->p, path->p, pat->len) == 0;
    if (path->len < pre + suf + 1)
        return false;
    return memcmp(pat->p, path->p, pre) == 0 &&
           memcmp(pat->p + pat->len - suf, path->p + path->len - suf, suf) == 0;
}

/* The bytes of a pattern before its first '{' or '*' are literal, and the segments
 * they make match byte for byte: a path that does not begin with them cannot match,
 * and when they are the whole pattern, only the same text does. This settles most
 * routes of a table at the first byte that differs (/auth/check tries every route);
 * the walk by segments below decides the rest. */
bool lk_gwpath_match(const char *pattern, const char *path)
{
    if (pattern[0] == '/') {
        size_t i = 0;
        while (pattern[i] && pattern[i] != '{' && pattern[i] != '*' && pattern[i] == path[i])
            i++;
        if (pattern[i] == '\0')
            return path[i] == '\0';
        if (pattern[i] != '{' && pattern[i] != '*')
            return false;
    }
    const char *ps = pattern, *qs = path;
    seg pg, qg;
    while (next_seg(&ps, &pg)) {
        if (pg.len == 1 && pg.p[0] == '*' && *ps == '\0')
            return *qs == '/' && qs[1] != '\0';
        if (!next_seg(&qs, &qg) || !seg_match(&pg, &qg))
            return false;
    }
    return *qs == '\0';
}

/* a segment's rank: literal 3, parameter with a literal part 2, bare parameter 1,
 * '*' 0; *lit the length of its literal part */
static int rank(const seg *g, size_t *lit)
{
    size_t pre, suf;
    *lit = g->len;
    if (g->len == 1 && g->p[0] == '*')
        return 0;
    if (!param_parts(g, &pre, &suf))
        return 3;
    *lit = pre + suf;
    return *lit ? 2 : 1;
}

int lk_gwpath_compare(const char *a, const char *b)
{
    const char *as = a, *bs = b;
    seg ag, bg;
    for (;;) {
        bool more_a = next_seg(&as, &ag), more_b = next_seg(&bs, &bg);
        if (!more_a || !more_b)
            return more_a ? 1 : more_b ? -1 : 0;
        size_t la, lb;
        int ra = rank(&ag, &la), rb = rank(&bg, &lb);
        if (ra != rb)
            return ra > rb ? 1 : -1;
        if (la != lb)
            return la > lb ? 1 : -1;
    }
}
