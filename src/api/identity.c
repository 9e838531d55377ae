/*
 * identity — the token endpoints: Marketo's /identity/oauth/token (GET or POST;
 * parameters in the query, a form body or HTTP Basic) and the standard OAuth 2.0
 * ones (RFC 6749 §4.4/§5, RFC 7662 introspection, RFC 7009 revocation, RFC 8414
 * metadata).
 *
 * Client authentication is one function for all of them: a client is a custom
 * service, its secret is checked in constant time against the hash in the catalog
 * (and the previous one during a rotation's grace period), and failures are
 * throttled per client id and per address. Nothing here touches the store: a new
 * token is queued for it.
 */
#include "api/api.h"
#include "http/auth.h"
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

/* "<kind>:" and at most max bytes of s, in the arena ("%c:%.*s" without stdio: built
 * for every token request) */
static const char *throttle_key(lk_request *r, char kind, const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *k = lk_arena_alloc(&r->arena, n + 3);
    k[0] = kind;
    k[1] = ':';
    memcpy(k + 2, s, n);
    return k; /* zeroed by the arena: terminated */
}

/* authenticates the client; NULL (with an answer) on failure */
static const lk_cat_service *authenticate(lk_request *r, flavour fl, const client_auth *ca)
{
    if (!ca->client_id || !*ca->client_id || !ca->client_secret || !*ca->client_secret) {
        oauth_error(r, fl, 401, "invalid_client", "client_id and client_secret are required");
        return NULL;
    }
    int64_t wait = 0;
    const char *id_key = throttle_key(r, 'c', ca->client_id, 64);
    const char *ip_key = throttle_key(r, 'a', r->client_text, sizeof r->client_text);
    if (lk_runtime_auth_throttled(r->rt, id_key, r->now, &wait) ||
        lk_runtime_auth_throttled(r->rt, ip_key, r->now, &wait)) {
        lk_resp_header(r, "Retry-After", lk_arena_printf(&r->arena, "%lld", (long long)wait));
        oauth_error(r, fl, 429, fl == OAUTH2 ? "invalid_client" : "unauthorized",
                    "too many failed attempts; try again later");
        return NULL;
    }
    const lk_cat_service *svc = lk_catalog_service_by_client(r->cat, ca->client_id);
    if (!svc || !lk_cat_service_secret_matches(svc, ca->client_secret, r->now)) {
        lk_runtime_auth_failed(r->rt, id_key, r->now);
        lk_runtime_auth_failed(r->rt, ip_key, r->now);
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
    r->who = owner->email;
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
    char hash[LK_HASH_HEX];
    lk_token_info info;
    lk_token_rec rec;
    if (lk_tokens_issue(lk_runtime_tokens(r->rt), svc->id, r->now, lk_runtime_config(r->rt)->token_ttl, token,
                        &info, &rec, hash)) {
        lk_runtime_persist_token(r->rt, &rec);
        lk_metrics_token_issued();
    }
    return info.expires_at;
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
    lk_resp_json(r, 200, json_pack("{s:s, s:s, s:I, s:s}", "access_token", token, "token_type",
                                   fl == MARKETO ? "bearer" : "Bearer", "expires_in",
                                   (json_int_t)(expires_at - r->now), "scope", r->user->email));
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
    lk_token_info info;
    lk_token_state st = lk_tokens_peek(lk_runtime_tokens(r->rt), token, r->now, &info);
    const lk_cat_service *svc = st == LK_TOKEN_VALID ? lk_catalog_service(r->cat, info.service_id) : NULL;
    const lk_cat_user *owner = svc ? lk_catalog_user(r->cat, svc->user_id) : NULL;
    if (!svc || info.issued_at < svc->tokens_valid_after || !lk_cat_user_usable(owner, r->now)) {
        lk_resp_json(r, 200, json_pack("{s:b}", "active", 0));
        return;
    }
    lk_resp_json(r, 200,
                 json_pack("{s:b, s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "active", 1, "client_id", svc->client_id,
                           "username", owner->email, "sub", owner->email, "token_type", "Bearer", "exp",
                           (json_int_t)info.expires_at, "iat", (json_int_t)info.issued_at, "scope", owner->email));
}

void lk_api_oauth2_revoke(lk_request *r)
{
    const lk_cat_service *caller;
    const char *token = client_and_token(r, &caller);
    if (!token)
        return;
    /* RFC 7009 §2.1: only the client the token was issued to may revoke it; an
     * unknown token, or another client's, gets the same 200 and nothing happens */
    lk_token_info info;
    lk_token_state st = lk_tokens_peek(lk_runtime_tokens(r->rt), token, r->now, &info);
    char hash[LK_HASH_HEX];
    if (st != LK_TOKEN_UNKNOWN && info.service_id == caller->id &&
        lk_tokens_revoke(lk_runtime_tokens(r->rt), token, r->now, hash))
        lk_runtime_persist_revoke(r->rt, hash, r->now);
    lk_resp_header(r, "Cache-Control", "no-store");
    lk_resp_text(r, 200, "application/json;charset=UTF-8", "{}");
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
