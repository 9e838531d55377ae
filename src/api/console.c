/*
 * console — the web console's files, embedded in the binary at build time
 * (meson.build: console_files): the page shell at /, /setup, /invite and /reset, the
 * assets at /console/NAME.
 *
 * Every answer carries a strict Content-Security-Policy (no inline script or
 * style, nothing from elsewhere, frame-ancestors 'none') and no referrer; nosniff
 * and X-Frame-Options come with every answer of the server (http/server.c).
 */
#include "api/api.h"
#include "util/embedded.h"

#include <string.h>

extern const lk_embedded_file lk_console_files[];

#define CSP                                                                                        \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "             \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

static const struct {
    const char *ext;
    const char *type;
} TYPES[] = {
    {".html", "text/html;charset=UTF-8"},  {".js", "text/javascript;charset=UTF-8"},
    {".css", "text/css;charset=UTF-8"},    {".json", LK_JSON_TYPE},
    {".svg", "image/svg+xml"},             {".png", "image/png"},
    {".ico", "image/x-icon"},
};

static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof TYPES / sizeof *TYPES; i++)
        if (strcmp(dot, TYPES[i].ext) == 0)
            return TYPES[i].type;
    return "application/octet-stream";
}

static const lk_embedded_file *find(const char *name)
{
    for (const lk_embedded_file *f = lk_console_files; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

void lk_api_console_file(lk_request *r)
{
    const char *name = r->path_arg ? r->path_arg : "index.html";
    const lk_embedded_file *f = find(name);
    lk_resp_header(r, "Content-Security-Policy", CSP);
    lk_resp_header(r, "Referrer-Policy", "no-referrer");
    lk_resp_header(r, "Cache-Control", "no-cache");
    if (!f) {
        lk_resp_text(r, 404, "text/plain;charset=UTF-8", "not found\n");
        return;
    }
    r->status = 200;
    r->content_type = type_of(f->name);
    r->resp = (const char *)f->data;
    r->resp_len = f->size;
}
