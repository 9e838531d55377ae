/* rest_input — a guarded call's token, method and parameters (see rest_input.h). */
#include "http/rest_input.h"
#include "http/auth.h"
#include "http/multipart.h"

#include <string.h>
#include <strings.h>

typedef enum body_kind {
    BODY_NONE,       /* no body, or not a POST */
    BODY_FORM,       /* a form, read into the caller's lk_form */
    BODY_OTHER,      /* another content type (JSON, say) */
    BODY_MALFORMED,  /* a form content type that cannot be read */
} body_kind;

static body_kind read_body(lk_request *r, lk_form *form)
{
    if (r->body_len == 0 || strcmp(r->method, "POST") != 0)
        return BODY_NONE;
    const char *ct = lk_req_header(r, "Content-Type");
    if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 &&
        (ct[33] == '\0' || ct[33] == ';' || ct[33] == ' '))
        return lk_form_parse(&r->arena, r->body, r->body_len, form) ? BODY_FORM : BODY_MALFORMED;
    if (lk_multipart_is(ct))
        return lk_multipart_parse(&r->arena, ct, r->body, r->body_len, form) ? BODY_FORM : BODY_MALFORMED;
    return BODY_OTHER;
}

/* the form's parameters after the query's, so that lk_form_get finds the query's first */
static bool merge(lk_form *query, const lk_form *body)
{
    if (query->n + body->n > LK_FORM_MAX_PARAMS)
        return false;
    memcpy(query->params + query->n, body->params, body->n * sizeof *body->params);
    query->n += body->n;
    return true;
}

void lk_rest_input_read(lk_request *r, bool legacy, lk_rest_input *in)
{
    memset(in, 0, sizeof *in);
    in->method = r->method;
    lk_form body = {0};
    body_kind kind = read_body(r, &body);

    const char *override = r->query_ok ? lk_form_get(&r->query, "_method", NULL) : NULL;
    if (!override && kind == BODY_FORM)
        override = lk_form_get(&body, "_method", NULL);
    if (override && strcmp(r->method, "POST") == 0 && strcasecmp(override, "GET") == 0) {
        in->method = "GET";
        in->overridden = true;
        if (kind == BODY_OTHER || kind == BODY_MALFORMED || !r->query_ok || (kind == BODY_FORM && !merge(&r->query, &body)))
            in->bad_body = true;
    }

    /* a header of any scheme decides: a Basic or malformed one presents no token */
    lk_auth auth = lk_auth_parse(&r->arena, lk_req_header(r, "Authorization"));
    if (auth.scheme == LK_AUTH_BEARER) {
        in->token = auth.token;
        return;
    }
    if (auth.scheme != LK_AUTH_NONE || !legacy)
        return;
    if (r->query_ok)
        in->token = lk_form_get(&r->query, "access_token", NULL);
    if (!in->token && kind == BODY_FORM)
        in->token = lk_form_get(&body, "access_token", NULL);
}
