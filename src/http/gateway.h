/*
 * gateway — the forward-auth endpoint (auth_check_path, /auth/check by default): a
 * gateway in front of another team's API (nginx auth_request, Caddy forward_auth,
 * Traefik ForwardAuth) asks it whether a call may pass, before the call reaches
 * the upstream. docs/gateway.md has the configurations and the whole contract.
 *
 * What it trusts: only a trusted proxy (trusted_proxies) may ask, since only a
 * proxy's X-Forwarded-For names the client the allowlist judges. The call is named
 * by X-Original-Method / X-Original-URI (set by the nginx configuration) or
 * X-Forwarded-Method / X-Forwarded-Uri (Caddy, Traefik); a header given twice, or
 * both spellings disagreeing, is refused — a client must not be able to add one
 * that a gateway passes on unchanged.
 *
 * What it checks: the REST guard of latchkey's own routes (routes.h), against the
 * route the gateway's table gives the call (core/gwroute.h), with the path decoded
 * and checked first (core/gwpath.h). The token comes from the Authorization header,
 * or where legacy_query_token allows, the access_token query parameter; a gateway
 * sends no body, so neither a form field token nor a _method=GET in the body is
 * seen. A POST with _method=GET in the query is checked as the GET only when that
 * GET's route is Marketo-style (its upstream honours _method); otherwise as the POST.
 *
 * What it answers: 200 with X-Latchkey-User, -User-Id, -Client-Id, -Request-Id
 * and the RateLimit headers; a refusal as envelope.h says (401/403 with X-Latchkey-*).
 * Every answer is counted like a REST call's. A call is in flight, for the
 * concurrency limit, only while it is checked: the gateway does not say when the
 * upstream's answer ends (docs/gateway.md#concurrency).
 */
#ifndef LK_HTTP_GATEWAY_H
#define LK_HTTP_GATEWAY_H

#include "http/http.h"

/* the handler of auth_check_path (r->cat, r->day set by dispatch) */
void lk_gateway_check(lk_request *r);

#endif
