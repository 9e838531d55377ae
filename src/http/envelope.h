/*
 * envelope — Marketo's REST response envelope and its response-level errors
 * (reference §5–6): {"requestId","success","result"|"errors","warnings"}, HTTP 200,
 * errors as {"code":"601","message":"Access token invalid"}.
 */
#ifndef LK_HTTP_ENVELOPE_H
#define LK_HTTP_ENVELOPE_H

#include <stdbool.h>

#include "http/http.h"
#include "http/jsonout.h"

typedef enum lk_rest_error {
    LK_REST_TOKEN_INVALID = 601,
    LK_REST_TOKEN_EXPIRED = 602,
    LK_REST_ACCESS_DENIED = 603,
    LK_REST_TIMEOUT = 604,
    LK_REST_METHOD_NOT_SUPPORTED = 605,
    LK_REST_RATE_LIMIT = 606,
    LK_REST_DAILY_QUOTA = 607,
    LK_REST_UNAVAILABLE = 608,
    LK_REST_INVALID_JSON = 609,
    LK_REST_NOT_FOUND = 610,
    LK_REST_SYSTEM_ERROR = 611,
    LK_REST_CONTENT_TYPE = 612,
    LK_REST_CONCURRENT = 615,
    LK_REST_BLANK = 701,
} lk_rest_error;

/* r->gateway: how a gateway's auth check answers a refusal (http/gateway.h) */
#define LK_GATEWAY_MARKETO 1   /* the client gets Marketo's envelope with HTTP 200 */
#define LK_GATEWAY_PLAIN 2     /* the client gets the HTTP status (401, 403, 404, 405, 429) */

/* The request's id (r->request_id: the server sets it for every request, from a
 * trusted proxy's X-Request-Id or made here); when unset, a new one in Marketo's
 * shape "<8 hex>#<epoch ms in hex>", kept in r->request_id (arena). */
const char *lk_request_id(lk_request *r);

/* success envelope with result (stolen; an array) */
void lk_rest_ok(lk_request *r, json_t *result);
/* The same envelope with a result written as text: lk_rest_ok_begin writes the
 * envelope's start into w (in r's arena), the caller writes the result (a JSON
 * array) with the lk_jw functions, lk_rest_ok_end closes it and answers. If w went
 * bad (a string that is not UTF-8), lk_rest_ok_end answers nothing and returns
 * false: the caller answers with lk_rest_ok and a jansson tree instead. */
void lk_rest_ok_begin(lk_request *r, lk_jw *w);
bool lk_rest_ok_end(lk_request *r, lk_jw *w);
/* failure envelope; message NULL means the catalog's message (606/615 are built
 * from the limits by the caller). For a gateway's auth check (r->gateway), a 401
 * or 403 whose X-Latchkey-* headers carry the code, message, the status and body
 * the gateway answers the client with (docs/gateway.md). */
void lk_rest_fail(lk_request *r, lk_rest_error code, const char *message);
/* The user management API's failure (reference §8): HTTP status, body
 * {"errors":[{"code":<int>,"message":"..."}]}. lk_rest_fail answers so when r->bare. */
void lk_bare_fail(lk_request *r, int status, int code, const char *message);
/* the catalog's message of a code */
const char *lk_rest_message(lk_rest_error code);
/* Does a call answered with this code count against the limits and in the usage?
 * Not for 601, 602, 604, 605, 608 and 611, as Marketo's table says; a code outside
 * the catalog does not either. */
bool lk_rest_counts(lk_rest_error code);

#endif
