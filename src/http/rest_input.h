/*
 * rest_input — what a guarded call presents, wherever Marketo lets a client say it
 * (reference §4–5). The REST guard reads every call through lk_rest_input_read, and
 * so will any other front end that checks calls the same way (a gateway's
 * forward-auth), so that the rules below live in one place:
 *
 *  - the access token: `Authorization: Bearer …`; without an Authorization header,
 *    where the legacy parameter is allowed (legacy_query_token, never on the user
 *    management API), the `access_token` query parameter, else an `access_token`
 *    field of a form body (application/x-www-form-urlencoded, or multipart/form-data
 *    as `curl -F access_token=…` sends it, Marketo's own example);
 *  - the method: a POST carrying `_method=GET` (in the query string or the form body)
 *    is a GET — Marketo's cure for a query string too long for a URI (414): the
 *    parameters then come from the query string and the form body together, and the
 *    handlers find them all in r->query. Such a body must be a readable form.
 */
#ifndef LK_HTTP_REST_INPUT_H
#define LK_HTTP_REST_INPUT_H

#include <stdbool.h>

#include "http/http.h"

typedef struct lk_rest_input {
    const char *method;     /* the method the call is answered as ("GET" for _method=GET) */
    const char *token;      /* the presented access token, NULL if none (arena) */
    bool overridden;        /* a POST made a GET by _method=GET */
    bool bad_body;          /* _method=GET with a body that is not a readable form, or with
                             * more parameters than a request may carry: answer 612 */
} lk_rest_input;

/* Reads r (headers, query, body). legacy: the token may also come from the
 * access_token parameter or field (false on the user management API, or when
 * legacy_query_token is off: then the Authorization header alone counts). With
 * _method=GET the form body's parameters are appended to r->query. */
void lk_rest_input_read(lk_request *r, bool legacy, lk_rest_input *in);

#endif
