/* envelope — the Marketo REST envelope and error catalog (see envelope.h). */
#include "http/envelope.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Marketo's response-level codes latchkey answers (reference §6.1). `counts` follows
 * Marketo's table: the codes it marks (601, 602, 604, 605, 608, 611) are neither
 * counted against the limits nor in the usage; every other answer is. */
static const struct {
    lk_rest_error code;
    const char *message;
    bool counts;
} CATALOG[] = {
    {LK_REST_TOKEN_INVALID, "Access token invalid", false},
    {LK_REST_TOKEN_EXPIRED, "Access token expired", false},
    {LK_REST_ACCESS_DENIED, "Access denied", true},
    {LK_REST_TIMEOUT, "Request time-out", false},
    {LK_REST_METHOD_NOT_SUPPORTED, "HTTP Method not supported", false},
    {LK_REST_RATE_LIMIT, "Max rate limit exceeded", true},
    {LK_REST_DAILY_QUOTA, "Daily quota reached", true},
    {LK_REST_UNAVAILABLE, "API Temporarily Unavailable", false},
    {LK_REST_INVALID_JSON, "Invalid JSON", true},
    {LK_REST_NOT_FOUND, "Requested resource not found", true},
    {LK_REST_SYSTEM_ERROR, "System error", false},
    {LK_REST_CONTENT_TYPE, "Invalid Content Type", true},
    {LK_REST_CONCURRENT, "Concurrent access limit reached", true},
    {LK_REST_BLANK, "A required field cannot be blank", true},
};

const char *lk_rest_message(lk_rest_error code)
{
    for (size_t i = 0; i < sizeof CATALOG / sizeof *CATALOG; i++)
        if (CATALOG[i].code == code)
            return CATALOG[i].message;
    return "System error";
}

bool lk_rest_counts(lk_rest_error code)
{
    for (size_t i = 0; i < sizeof CATALOG / sizeof *CATALOG; i++)
        if (CATALOG[i].code == code)
            return CATALOG[i].counts;
    return false;
}

/* Marketo's shape, "<hex>#<hex ms>": a counter that starts at a random point in
 * each process (so that two processes rarely meet), then the time in milliseconds */
const char *lk_request_id(lk_request *r)
{
    if (r->request_id)
        return r->request_id;
    static atomic_uint seq;
    static atomic_bool seeded;
    if (!atomic_exchange(&seeded, true))
        atomic_fetch_add(&seq, randombytes_random());
    unsigned n = atomic_fetch_add_explicit(&seq, 1, memory_order_relaxed);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long ms = (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000ULL;
    /* "%08x#%llx" without stdio: once per request */
    static const char hex[] = "0123456789abcdef";
    char tmp[8 + 1 + 16];
    size_t k = sizeof tmp;
    do {
        tmp[--k] = hex[ms & 0xf];
        ms >>= 4;
    } while (ms);
    tmp[--k] = '#';
    for (int i = 0; i < 8; i++) {
        tmp[--k] = hex[n & 0xf];
        n >>= 4;
    }
    r->request_id = lk_arena_strndup(&r->arena, tmp + k, sizeof tmp - k);
    return r->request_id;
}

/* The envelope's text is written as it stands, without a jansson tree: its shape is
 * fixed, and the request id is a plain token (ours, or a trusted proxy's checked by
 * the server), so the text is what json_dumps of the old tree wrote. */
void lk_rest_ok_begin(lk_request *r, lk_jw *w)
{
    lk_jw_init(w, &r->arena, 512);
    LK_JW_LIT(w, "{\"requestId\":");
    lk_jw_str(w, lk_request_id(r));
    LK_JW_LIT(w, ",\"result\":");
}

bool lk_rest_ok_end(lk_request *r, lk_jw *w)
{
    LK_JW_LIT(w, ",\"success\":true}");
    const char *text = lk_jw_finish(w, NULL);
    if (!text)
        return false;
    lk_resp_text(r, 200, LK_JSON_TYPE, text);
    return true;
}

void lk_rest_ok(lk_request *r, json_t *result)
{
    lk_jw w;
    lk_rest_ok_begin(r, &w);
    if (result)
        lk_jw_value(&w, result);
    else
        LK_JW_LIT(&w, "[]");
    /* a result jansson cannot write made the whole answer "{}" before, and does now */
    if (!lk_rest_ok_end(r, &w))
        lk_resp_text(r, 200, LK_JSON_TYPE, "{}");
    json_decref(result);
}

/* the user management API answers errors with an HTTP status (reference §5, §8) */
static int bare_status(int code)
{
    switch (code) {
    case LK_REST_TOKEN_INVALID:
    case LK_REST_TOKEN_EXPIRED: return 401;
    case LK_REST_ACCESS_DENIED: return 403;
    case LK_REST_METHOD_NOT_SUPPORTED: return 405;
    case LK_REST_NOT_FOUND: return 404;
    case LK_REST_CONTENT_TYPE: return 415;
    case LK_REST_RATE_LIMIT:
    case LK_REST_DAILY_QUOTA:
    case LK_REST_CONCURRENT: return 429;
    case LK_REST_SYSTEM_ERROR: return 500;
    default: return 400;
    }
}

void lk_bare_fail(lk_request *r, int status, int code, const char *message)
{
    lk_jw w;
    lk_jw_init(&w, &r->arena, 128);
    LK_JW_LIT(&w, "{\"errors\":[{\"code\":");
    lk_jw_int(&w, code);
    LK_JW_LIT(&w, ",\"message\":");
    lk_jw_str(&w, message);
    LK_JW_LIT(&w, "}]}");
    const char *text = lk_jw_finish(&w, NULL);
    if (text) /* else a message that is not UTF-8: jansson's answer, as before */
        lk_resp_text(r, status, LK_JSON_TYPE, text);
    else
        lk_resp_json(r, status, json_pack("{s:[{s:i, s:s}]}", "errors", "code", code, "message", message));
    r->code = lk_arena_printf(&r->arena, "%d", code);
}

/* A gateway's auth check refuses with 401 (token) or 403 (anything else): the only
 * refusals nginx's auth_request passes on. The headers tell the gateway what to
 * answer the client: the code and message, the status and the whole body — the
 * Marketo envelope with HTTP 200, or for a plain upstream the user management
 * API's shape with its HTTP status — as compact ASCII JSON, safe in a header. */
static void gateway_fail(lk_request *r, lk_rest_error code, const char *message)
{
    char num[8];
    snprintf(num, sizeof num, "%d", (int)code);
    bool plain = r->gateway == LK_GATEWAY_PLAIN;
    json_t *body;
    if (plain)
        body = json_pack("{s:[{s:i, s:s}]}", "errors", "code", (int)code, "message", message);
    else
        body = json_pack("{s:s, s:b, s:[{s:s, s:s}], s:[]}", "requestId", lk_request_id(r), "success", 0, "errors",
                         "code", num, "message", message, "warnings");
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
    json_decref(body);
    const char *kept = lk_arena_strdup(&r->arena, text ? text : "{}");
    free(text);
    lk_resp_header(r, "X-Latchkey-Code", num);
    lk_resp_header(r, "X-Latchkey-Message", message);
    lk_resp_header(r, "X-Latchkey-Status", plain ? lk_arena_printf(&r->arena, "%d", bare_status((int)code)) : "200");
    lk_resp_header(r, "X-Latchkey-Body", kept);
    lk_resp_header(r, "X-Latchkey-Request-Id", lk_request_id(r));
    bool token = code == LK_REST_TOKEN_INVALID || code == LK_REST_TOKEN_EXPIRED;
    lk_resp_text(r, token ? 401 : 403, LK_JSON_TYPE, kept);
    r->code = lk_arena_strdup(&r->arena, num);
}

void lk_rest_fail(lk_request *r, lk_rest_error code, const char *message)
{
    if (r->gateway) {
        gateway_fail(r, code, message ? message : lk_rest_message(code));
        return;
    }
    if (r->bare) {
        lk_bare_fail(r, bare_status((int)code), (int)code, message ? message : lk_rest_message(code));
        return;
    }
    char num[8];
    snprintf(num, sizeof num, "%d", (int)code);
    r->code = lk_arena_strdup(&r->arena, num);
    if (!message)
        message = lk_rest_message(code);
    lk_jw w;
    lk_jw_init(&w, &r->arena, 256);
    LK_JW_LIT(&w, "{\"requestId\":");
    lk_jw_str(&w, lk_request_id(r));
    LK_JW_LIT(&w, ",\"success\":false,\"errors\":[{\"code\":");
    lk_jw_str(&w, num);
    LK_JW_LIT(&w, ",\"message\":");
    lk_jw_str(&w, message);
    LK_JW_LIT(&w, "}],\"warnings\":[]}");
    const char *text = lk_jw_finish(&w, NULL);
    if (text) {
        lk_resp_text(r, 200, LK_JSON_TYPE, text);
        return;
    }
    /* a message that is not UTF-8: the tree jansson answered with before (it drops
     * the errors member) */
    json_t *env = json_object();
    json_object_set_new(env, "requestId", json_string(lk_request_id(r)));
    json_object_set_new(env, "success", json_false());
    json_object_set_new(env, "errors",
                        json_pack("[{s:s, s:s}]", "code", num, "message", message));
    json_object_set_new(env, "warnings", json_array());
    lk_resp_json(r, 200, env);
}
