/*
 * identity — the token endpoints: Marketo's /identity/oauth/token (GET or POST;
 * parameters in the query, a form body or HTTP Basic) and the standard OAuth 2.0
 * ones (RFC 6749 §4.4/§5, RFC 7662 introspection, RFC 7009 revocation, RFC 8414
 * metadata).
 *
 * Client authentication is one function for all of them: a client is a custom
 * service, its secret is checked in constant time against the hash in the catalog
 * (and the previous one during a rotation's grace period) before anything else, so
 * a correct secret is never refused because of someone else's failures; failures
 * are throttled per (client id, address) and, for unknown client ids, per address
 * (docs/security.md#throttles).
 *
 * Issuing a token writes nothing (runtime/tokens.h). Revoking one is the only
 * write: the request is suspended and the store worker makes the revocation
 * durable before the 200 goes out.
 */
#include "api/api.h"
#include "http/auth.h"
#include "http/jsonout.h"
#include "http/metrics.h"

#include <string.h>
#include <strings.h>

typedef enum flavour { MARKETO, OAUTH2 } flavour;

typedef struct client_auth {
    const char *client_id;
    const char *client_secret;
    bool basic;                  /* the credentials came in an Authorization header */
} client_auth;

static void oauth_error(lk_request *r, flavour fl, int status, const char *error, const char *description)
{
    if (status == 401 && fl == OAUTH2)
        lk_resp_header(r, "WWW-Authenticate", "Basic realm=\"latchkey\", charset=\"UTF-8\"");
    lk_resp_header(r, "Cache-Control", "no-store");
    lk_resp_header(r, "Pragma", "no-cache");
    lk_resp_json(r, status, json_pack("{s:s, s:s}", "error", error, "error_description", description));
    r->code = error;
}

/* the form body when the request carries one; NULL (and an answer) when malformed */
static bool read_body_form(lk_request *r, flavour fl, lk_form *form)
{
    memset(form, 0, sizeof *form);
    if (!r->query_ok) {
        oauth_error(r, fl, 400, "invalid_request", "the query string is malformed");
        return false;
    }
    if (r->body_len == 0)
        return true;
    const char *ct = lk_req_header(r, "Content-Type");
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
        oauth_error(r, fl, 400, "invalid_request", "the body must be application/x-www-form-urlencoded");
        return false;
    }
    if (!lk_form_parse(&r->arena, r->body, r->body_len, form)) {
        oauth_error(r, fl, 400, "invalid_request", "the form body is malformed");
        return false;
    }
    return true;
}

/* a parameter from the body, or (Marketo only) the query string; repeated → invalid */
static const char *param(lk_request *r, flavour fl, const lk_form *body, const char *name, bool *repeated)
{
    int nb = 0, nq = 0;
    const char *v = lk_form_get(body, name, &nb);
    const char *q = fl == MARKETO ? lk_form_get(&r->query, name, &nq) : NULL;
    if (nb + nq > 1)
        *repeated = true;
    return v ? v : q;
}

/* does s have a client id's shape (a UUID)? Only then is it logged: a secret pasted
 * into the wrong field (32 letters and digits) never reaches the log. */
static bool client_id_shaped(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        if (shape[i] == '-' ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
            return false;
    }
    return s[sizeof shape - 1] == '\0';
}

/* reads the client's credentials; false (with an answer) when the request is malformed */
static bool read_client(lk_request *r, flavour fl, const lk_form *body, client_auth *out)
{
    memset(out, 0, sizeof *out);
    bool repeated = false;
    const char *id = param(r, fl, body, "client_id", &repeated);
    const char *secret = param(r, fl, body, "client_secret", &repeated);
    lk_auth auth = lk_auth_parse(&r->arena, lk_req_header(r, "Authorization"));
    if (repeated) {
        oauth_error(r, fl, 400, "invalid_request", "a parameter is given more than once");
        return false;
    }
    if (auth.scheme == LK_AUTH_MALFORMED) {
        oauth_error(r, fl, 401, "invalid_client", "the Authorization header cannot be read");
        return false;
    }
    if (auth.scheme == LK_AUTH_BASIC) {
        if (secret) {
            oauth_error(r, fl, 400, "invalid_request", "use one way of client authentication, not two");
            return false;
        }
        if (id && strcmp(id, auth.user) != 0) {
            oauth_error(r, fl, 400, "invalid_request", "client_id differs from the authenticated client");
            return false;
        }
        id = auth.user;
        secret = auth.password;
        out->basic = true;
    }
    out->client_id = id;
    out->client_secret = secret;
    if (id && client_id_shaped(id))
        r->client_id = id;
    return true;
}

/* answers 429 with Retry-After */
static void throttled(lk_request *r, flavour fl, int64_t wait)
{
    lk_resp_header(r, "Retry-After", lk_arena_printf(&r->arena, "%lld", (long long)(wait > 0 ? wait : 1)));
    oauth_error(r, fl, 429, fl == OAUTH2 ? "invalid_client" : "unauthorized",
                "too many failed attempts; try again later");
}

/* authenticates the client; NULL (with an answer) on failure */
static const lk_cat_service *authenticate(lk_request *r, flavour fl, const client_auth *ca)
{
    if (!ca->client_id || !*ca->client_id || !ca->client_secret || !*ca->client_secret) {
        oauth_error(r, fl, 401, "invalid_client", "client_id and client_secret are required");
        return NULL;
    }
    /* the secret first: one BLAKE2b, and a right one is never throttled */
    const lk_cat_service *svc = lk_catalog_service_by_client(r->cat, ca->client_id);
    if (!svc || !lk_cat_service_secret_matches(svc, ca->client_secret, r->now)) {
        /* a known client id counts per (id, address); unknown ids per address */
        char buf[LK_CLIENT_ID_BUF];
        const char *id = svc ? lk_cat_service_client_id(svc, buf) : NULL;
        int64_t wait = lk_runtime_config(r->rt)->auth_fail_window;
        if (lk_runtime_client_throttled(r->rt, id, r->client_text, r->now, &wait) ||
            !lk_runtime_client_failed(r->rt, id, r->client_text, r->now)) {
            throttled(r, fl, wait);
            return NULL;
        }
        if (!svc && fl == MARKETO)
            oauth_error(r, fl, 401, "unauthorized",
                        lk_arena_printf(&r->arena, "No client with requested id: %.64s", ca->client_id));
        else
            oauth_error(r, fl, 401, "invalid_client", "Bad client credentials");
        return NULL;
    }
    const lk_cat_user *owner = lk_catalog_user(r->cat, svc->user_id);
    if (!lk_cat_user_usable(owner, r->now)) {
        oauth_error(r, fl, 401, "invalid_client", "the API user of this client is locked or its access expired");
        return NULL;
    }
    r->service = svc;
    r->user = owner;
    r->who = lk_arena_strdup(&r->arena, lk_cat_user_email(owner));
    return svc;
}

static bool allowed_address(lk_request *r, flavour fl)
{
    if (lk_catalog_allows(r->cat, &r->client))
        return true;
    oauth_error(r, fl, 403, "access_denied", "Access denied from this address");
    return false;
}

int64_t lk_api_issue_token(lk_request *r, const lk_cat_service *svc, char token[LK_TOKEN_LEN + 1])
{
    lk_token_fields f;
    if (lk_tokens_issue(lk_runtime_tokens(r->rt), svc, r->now, lk_runtime_config(r->rt)->token_ttl, token, &f))
        lk_metrics_token_issued();
    return f.expires_at;
}

static void token_endpoint(lk_request *r, flavour fl)
{
    r->cat = lk_runtime_catalog(r->rt);
    lk_form body;
    if (!read_body_form(r, fl, &body))
        return;
    bool repeated = false;
    const char *grant = param(r, fl, &body, "grant_type", &repeated);
    if (repeated)
        return oauth_error(r, fl, 400, "invalid_request", "a parameter is given more than once");
    if (!grant || !*grant)
        return oauth_error(r, fl, 400, "invalid_request", "grant_type is required");
    if (strcmp(grant, "client_credentials") != 0)
        return oauth_error(r, fl, 400, "unsupported_grant_type", "only grant_type=client_credentials is supported");
    if (!allowed_address(r, fl))
        return;
    client_auth ca;
    if (!read_client(r, fl, &body, &ca))
        return;
    const lk_cat_service *svc = authenticate(r, fl, &ca);
    if (!svc)
        return;

    char token[LK_TOKEN_LEN + 1];
    int64_t expires_at = lk_api_issue_token(r, svc, token);
    lk_resp_header(r, "Cache-Control", "no-store");
    lk_resp_header(r, "Pragma", "no-cache");
    const char *type = fl == MARKETO ? "bearer" : "Bearer";
    /* written as it stands (the shape is fixed), the text json_dumps wrote */
    lk_jw w;
    lk_jw_init(&w, &r->arena, 256);
    LK_JW_LIT(&w, "{\"access_token\":");
    lk_jw_str(&w, token);
    LK_JW_LIT(&w, ",\"token_type\":");
    lk_jw_str(&w, type);
    LK_JW_LIT(&w, ",\"expires_in\":");
    lk_jw_int(&w, (json_int_t)(expires_at - r->now));
    LK_JW_LIT(&w, ",\"scope\":");
    lk_jw_str(&w, lk_cat_user_email(r->user));
    LK_JW_LIT(&w, "}");
    const char *text = lk_jw_finish(&w, NULL);
    if (text)
        lk_resp_text(r, 200, LK_JSON_TYPE, text);
    else /* a scope that is not UTF-8: jansson's answer ("{}"), as before */
        lk_resp_json(r, 200, json_pack("{s:s, s:s, s:I, s:s}", "access_token", token, "token_type", type, "expires_in",
                                       (json_int_t)(expires_at - r->now), "scope", lk_cat_user_email(r->user)));
    memset(token, 0, sizeof token);
}

void lk_api_identity_token(lk_request *r)
{
    token_endpoint(r, MARKETO);
}

void lk_api_oauth2_token(lk_request *r)
{
    token_endpoint(r, OAUTH2);
}

/* the shared start of introspect and revoke: body, client authentication, token */
static const char *client_and_token(lk_request *r, const lk_cat_service **svc)
{
    r->cat = lk_runtime_catalog(r->rt);
    lk_form body;
    if (!read_body_form(r, OAUTH2, &body) || !allowed_address(r, OAUTH2))
        return NULL;
    client_auth ca;
    if (!read_client(r, OAUTH2, &body, &ca))
        return NULL;
    if (!(*svc = authenticate(r, OAUTH2, &ca)))
        return NULL;
    bool repeated = false;
    const char *token = param(r, OAUTH2, &body, "token", &repeated);
    if (repeated || !token || !*token) {
        oauth_error(r, OAUTH2, 400, "invalid_request", "exactly one token parameter is required");
        return NULL;
    }
    return token;
}

void lk_api_oauth2_introspect(lk_request *r)
{
    const lk_cat_service *caller;
    const char *token = client_and_token(r, &caller);
    if (!token)
        return;
    lk_resp_header(r, "Cache-Control", "no-store");
    lk_token_check chk;
    if (lk_tokens_check(lk_runtime_tokens(r->rt), r->cat, token, r->now, false, &chk) != LK_TOKEN_VALID) {
        lk_resp_json(r, 200, json_pack("{s:b}", "active", 0));
        return;
    }
    char jti[LK_TOKEN_ID_HEX];
    lk_token_id_hex(chk.fields.id, jti);
    const char *email = lk_cat_user_email(chk.user);
    char buf[LK_CLIENT_ID_BUF];
    lk_resp_json(r, 200,
                 json_pack("{s:b, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "active", 1, "client_id",
                           lk_cat_service_client_id(chk.service, buf), "username", email, "sub", email, "token_type", "Bearer", "exp",
                           (json_int_t)chk.fields.expires_at, "iat", (json_int_t)chk.fields.issued_at, "scope", email,
                           "jti", jti));
}

/* on the store worker: the revocation is durable before the 200 goes out */
static void revoke_durably(lk_request *r)
{
    const lk_token_fields *f = r->resume_arg;
    lk_error err = {0};
    if (lk_runtime_revoke(r->rt, r->store, f, r->now, &err) != LK_OK) {
        lk_resp_header(r, "Retry-After", "1");
        oauth_error(r, OAUTH2, 503, "temporarily_unavailable", "the revocation could not be stored; try again");
        return;
    }
    lk_resp_header(r, "Cache-Control", "no-store");
    lk_resp_text(r, 200, LK_JSON_TYPE, "{}");
}

void lk_api_oauth2_revoke(lk_request *r)
{
    const lk_cat_service *caller;
    const char *token = client_and_token(r, &caller);
    if (!token)
        return;
    /* RFC 7009 §2.1: only the client the token was issued to may revoke it; an
     * unknown, expired or already dead token, or another client's, gets the same
     * 200 and nothing happens */
    lk_token_check chk;
    lk_token_state st = lk_tokens_check(lk_runtime_tokens(r->rt), r->cat, token, r->now, false, &chk);
    if (st == LK_TOKEN_VALID && chk.fields.service_id == caller->id) {
        lk_token_fields *f = lk_arena_alloc(&r->arena, sizeof *f);
        *f = chk.fields;
        r->resume_arg = f;
        r->resume = revoke_durably;
        r->deferred = true;
        return;
    }
    lk_resp_header(r, "Cache-Control", "no-store");
    lk_resp_text(r, 200, LK_JSON_TYPE, "{}");
}

void lk_api_oauth2_metadata(lk_request *r)
{
    const char *base = lk_runtime_config(r->rt)->public_url;
    json_t *methods = json_pack("[s, s]", "client_secret_basic", "client_secret_post");
    json_t *doc = json_pack("{s:s, s:s+, s:s+, s:s+, s:[s], s:[], s:O, s:O, s:O}",
                            "issuer", base,
                            "token_endpoint", base, "/oauth2/token",
                            "introspection_endpoint", base, "/oauth2/introspect",
                            "revocation_endpoint", base, "/oauth2/revoke",
                            "grant_types_supported", "client_credentials",
                            "response_types_supported",
                            "token_endpoint_auth_methods_supported", methods,
                            "introspection_endpoint_auth_methods_supported", methods,
                            "revocation_endpoint_auth_methods_supported", methods);
    json_decref(methods);
    lk_resp_json(r, 200, doc);
}
