/* gateway — the forward-auth endpoint (see gateway.h). */
#include "http/gateway.h"
#include "core/gwpath.h"
#include "core/gwindex.h"
#include "http/envelope.h"
#include "http/rest_input.h"
#include "http/routes.h"
#include "util/log.h"

#include <microhttpd.h>
#include <string.h>
#include <strings.h>

typedef struct header_count {
    const char *name;
    unsigned n;
} header_count;

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    (void)value;
    header_count *hc = cls;
    if (key && strcasecmp(key, hc->name) == 0)
        hc->n++;
    return MHD_YES;
}

/* the header's one value; NULL when absent; *twice when given more than once */
static const char *single_header(lk_request *r, const char *name, bool *twice)
{
    header_count hc = {.name = name};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_header, &hc);
    if (hc.n > 1)
        *twice = true;
    return hc.n == 1 ? lk_req_header(r, name) : NULL;
}

/* the original method or URI: X-Original-<name> or X-Forwarded-<name>, which must
 * agree when both are given; NULL (after *bad) when ambiguous */
static const char *original(lk_request *r, const char *x_original, const char *x_forwarded, bool *bad)
{
    const char *a = single_header(r, x_original, bad);
    const char *b = single_header(r, x_forwarded, bad);
    if (a && b && strcmp(a, b) != 0)
        *bad = true;
    return *bad ? NULL : a ? a : b;
}

static void refuse(lk_request *r, lk_rest_error code, const char *message)
{
    lk_rest_fail(r, code, message);
}

/* the style of refusals: the route's, else the configured default */
static uint8_t style_of(lk_request *r, const lk_gw_route *route)
{
    if (route)
        return route->plain ? LK_GATEWAY_PLAIN : LK_GATEWAY_MARKETO;
    return strcmp(lk_runtime_config(r->rt)->gateway_style, "plain") == 0 ? LK_GATEWAY_PLAIN : LK_GATEWAY_MARKETO;
}

static void admitted(lk_request *r)
{
    char buf[LK_CLIENT_ID_BUF];
    lk_resp_header(r, "X-Latchkey-User", lk_cat_user_email(r->user));
    lk_resp_header(r, "X-Latchkey-User-Id", lk_arena_printf(&r->arena, "%lld", (long long)r->user->id));
    lk_resp_header(r, "X-Latchkey-Client-Id", lk_cat_service_client_id(r->service, buf));
    lk_resp_header(r, "X-Latchkey-Request-Id", lk_request_id(r));
    lk_resp_text(r, 200, "text/plain;charset=UTF-8", "");
}

void lk_gateway_check(lk_request *r)
{
    r->gateway = style_of(r, NULL);
    if (!r->proxied) {
        lk_log(LK_LOG_WARN, "auth check from %s refused: not a trusted proxy (trusted_proxies)", r->client_text);
        return refuse(r, LK_REST_ACCESS_DENIED, "Access denied: the auth check answers trusted proxies only");
    }
    bool bad = false;
    const char *method = original(r, "X-Original-Method", "X-Forwarded-Method", &bad);
    const char *uri = original(r, "X-Original-URI", "X-Forwarded-Uri", &bad);
    if (bad || !method || !uri) {
        lk_log(LK_LOG_WARN, "auth check refused: the original method and URI are missing, repeated or disagree");
        return refuse(r, LK_REST_ACCESS_DENIED, "Access denied: the gateway did not name the call");
    }

    /* the call as the upstream will see it: its method, path and query; no body */
    size_t path_len = strcspn(uri, "?");
    char *path = lk_arena_alloc(&r->arena, LK_GWPATH_MAX + 1);
    const char *why = NULL;
    bool path_ok = lk_gwpath_decode(uri, path_len, path, LK_GWPATH_MAX + 1, &why);
    r->method = lk_arena_strdup(&r->arena, method);
    r->body = "";
    r->body_len = 0;
    memset(&r->query, 0, sizeof r->query);
    r->query_ok = true;
    if (uri[path_len] == '?')
        r->query_ok = lk_form_parse(&r->arena, uri + path_len + 1, strlen(uri + path_len + 1), &r->query);

    lk_rest_input in;
    lk_rest_input_read(r, lk_runtime_config(r->rt)->legacy_query_token, &in);
    r->token = in.token;

    const lk_gwroute_index *routes = lk_catalog_gw_index(r->cat);
    const lk_gw_route *route = NULL;
    lk_gw_found found = LK_GW_NONE;
    if (path_ok) {
        found = lk_gwroute_index_pick(routes, in.method, path, &route);
        /* _method=GET: a GET only for an upstream that honours it (Marketo-style);
         * else the POST it is to a plain upstream. A Marketo-style POST route whose
         * GET has no Marketo-style route is refused: its upstream would serve a GET. */
        if (in.overridden && (found != LK_GW_MATCH || route->plain)) {
            found = lk_gwroute_index_pick(routes, "POST", path, &route);
            if (found == LK_GW_MATCH && !route->plain)
                found = LK_GW_METHOD;
        }
    } else {
        lk_log(LK_LOG_INFO, "auth check: path refused: %s", why);
    }
    r->gateway = style_of(r, route);
    lk_guard_target t = {.found = found, .gw = found == LK_GW_MATCH ? route : NULL, .counts = true,
                         .bad_body = in.bad_body};
    if (!lk_guard_admit(r, &t))
        return;
    admitted(r);
    lk_guard_finish(r);
}
