/* multipart — the form-data parser (see multipart.h). */
#include "http/multipart.h"

#include <string.h>
#include <strings.h>

#define BOUNDARY_MAX 70 /* RFC 2046 §5.1.1 */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static bool is_type(const char *ct, const char *type)
{
    size_t n = strlen(type);
    return ct && strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

bool lk_multipart_is(const char *content_type)
{
    return is_type(content_type, "multipart/form-data");
}

/*
 * Reads the parameter `name` of a header value of the form `x; a=b; c="d"` from p
 * to end: *val and *vlen get its value (quotes removed); false when absent. A quoted
 * value runs to the next quote (RFC 7578 §4.2: names are percent-encoded, never
 * backslash-escaped); *bad is set when the header cannot be read.
 */
static bool header_param(const char *p, const char *end, const char *name, const char **val, size_t *vlen,
                         bool *bad)
{
    size_t nlen = strlen(name);
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        if (!semi)
            return false;
        p = skip_ws(semi + 1, end);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq) {
            *bad = true;
            return false;
        }
        const char *key_end = eq;
        while (key_end > p && (key_end[-1] == ' ' || key_end[-1] == '\t'))
            key_end--;
        const char *v = skip_ws(eq + 1, end);
        const char *v_end;
        const char *next;
        if (v < end && *v == '"') {
            v++;
            v_end = memchr(v, '"', (size_t)(end - v));
            if (!v_end) {
                *bad = true;
                return false;
            }
            next = v_end + 1;
        } else {
            v_end = v;
            while (v_end < end && *v_end != ';' && *v_end != ' ' && *v_end != '\t')
                v_end++;
            next = v_end;
        }
        if ((size_t)(key_end - p) == nlen && strncasecmp(p, name, nlen) == 0) {
            *val = v;
            *vlen = (size_t)(v_end - v);
            return true;
        }
        p = next;
    }
    return false;
}

/* the boundary of content_type into out (NUL-terminated); false when absent or unusable */
static bool boundary_of(const char *ct, char out[BOUNDARY_MAX + 1])
{
    if (!lk_multipart_is(ct))
        return false;
    const char *v;
    size_t n;
    bool bad = false;
    if (!header_param(ct, ct + strlen(ct), "boundary", &v, &n, &bad) || bad || n == 0 || n > BOUNDARY_MAX)
        return false;
    memcpy(out, v, n);
    out[n] = '\0';
    return true;
}

/* the Content-Disposition of a part's header block: its name, and whether it is a file */
static bool disposition(const char *h, const char *end, const char **name, size_t *nlen, bool *file)
{
    static const char key[] = "Content-Disposition:";
    *name = NULL;
    *file = false;
    while (h < end) {
        const char *eol = memmem(h, (size_t)(end - h), "\r\n", 2);
        const char *line_end = eol ? eol : end;
        if ((size_t)(line_end - h) >= sizeof key - 1 && strncasecmp(h, key, sizeof key - 1) == 0) {
            if (*name)
                return false; /* two of them */
            const char *v = skip_ws(h + sizeof key - 1, line_end);
            if ((size_t)(line_end - v) < 9 || strncasecmp(v, "form-data", 9) != 0)
                return false;
            bool bad = false;
            const char *fv;
            size_t flen;
            if (!header_param(v, line_end, "name", name, nlen, &bad) || bad || *nlen == 0)
                return false;
            *file = header_param(v, line_end, "filename", &fv, &flen, &bad);
            if (bad)
                return false;
        }
        h = eol ? eol + 2 : end;
    }
    return *name != NULL;
}

static char *copy_text(lk_arena *a, const char *s, size_t n)
{
    if (memchr(s, '\0', n))
        return NULL;
    return lk_arena_strndup(a, s, n);
}

bool lk_multipart_parse(lk_arena *a, const char *content_type, const char *body, size_t len, lk_form *form)
{
    char boundary[BOUNDARY_MAX + 1];
    if (!boundary_of(content_type, boundary))
        return false;
    /* "\r\n--" boundary: the delimiter between parts; the first may open the body */
    char delim[BOUNDARY_MAX + 5];
    size_t dlen = (size_t)(stpcpy(stpcpy(delim, "\r\n--"), boundary) - delim);
    const char *end = body + len;
    const char *p;
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        p = body + dlen - 2;
    } else {
        p = memmem(body, len, delim, dlen); /* after a preamble */
        if (!p)
            return false;
        p += dlen;
    }
    for (;;) {
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return true; /* the close delimiter; what follows is an epilogue */
        p = skip_ws(p, end);
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return false;
        p += 2;
        const char *hend, *content;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            hend = p; /* a part without headers: no name, refused below */
            content = p + 2;
        } else {
            hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
            if (!hend)
                return false;
            content = hend + 4;
        }
        const char *next = memmem(content, (size_t)(end - content), delim, dlen);
        if (!next)
            return false;
        const char *name;
        size_t nlen;
        bool file;
        if (!disposition(p, hend, &name, &nlen, &file))
            return false;
        if (!file) {
            if (form->n >= LK_FORM_MAX_PARAMS)
                return false;
            char *k = copy_text(a, name, nlen);
            char *v = copy_text(a, content, (size_t)(next - content));
            if (!k || !v)
                return false;
            form->params[form->n++] = (lk_param){k, v};
        }
        p = next + dlen;
    }
}
