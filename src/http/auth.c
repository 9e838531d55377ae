/* auth — parsing the Authorization header (see auth.h). */
#include "http/auth.h"
#include "http/form.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

#define MAX_CREDENTIALS 4096

static const char *after_scheme(const char *h, const char *scheme)
{
    size_t n = strlen(scheme);
    if (strncasecmp(h, scheme, n) != 0 || (h[n] != ' ' && h[n] != '\t'))
        return NULL;
    h += n;
    while (*h == ' ' || *h == '\t')
        h++;
    return h;
}

static bool token68(const char *s)
{
    /* RFC 7235 token68: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", then "="* */
    if (!*s)
        return false;
    for (; *s && *s != '='; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("-._~+/", c);
        if (!ok)
            return false;
    }
    while (*s == '=')
        s++;
    return *s == '\0';
}

lk_auth lk_auth_parse(lk_arena *a, const char *h)
{
    lk_auth r = {.scheme = LK_AUTH_NONE};
    if (!h)
        return r;
    const char *v;
    if ((v = after_scheme(h, "Bearer"))) {
        r.scheme = token68(v) ? LK_AUTH_BEARER : LK_AUTH_MALFORMED;
        if (r.scheme == LK_AUTH_BEARER)
            r.token = lk_arena_strdup(a, v);
        return r;
    }
    if ((v = after_scheme(h, "Basic"))) {
        r.scheme = LK_AUTH_MALFORMED;
        size_t len = strlen(v);
        if (len == 0 || len > MAX_CREDENTIALS)
            return r;
        unsigned char *bin = lk_arena_alloc(a, len + 1);
        size_t bin_len = 0;
        if (sodium_base642bin(bin, len, v, len, NULL, &bin_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
            return r;
        const unsigned char *colon = memchr(bin, ':', bin_len);
        if (!colon)
            return r;
        const char *user = lk_url_decode(a, (const char *)bin, (size_t)(colon - bin), true);
        const char *pass = lk_url_decode(a, (const char *)colon + 1, bin_len - (size_t)(colon - bin) - 1, true);
        if (!user || !pass)
            return r;
        r.scheme = LK_AUTH_BASIC;
        r.user = user;
        r.password = pass;
        return r;
    }
    r.scheme = *h ? LK_AUTH_OTHER : LK_AUTH_NONE;
    return r;
}
