/* api — the handlers of the HTTP surface, by area (see http/routes.c for the table). */
#ifndef LK_API_API_H
#define LK_API_API_H

#include "http/http.h"

/* identity.c: Marketo's token endpoint and the standard OAuth 2.0 ones */
void lk_api_identity_token(lk_request *r);
void lk_api_oauth2_token(lk_request *r);
void lk_api_oauth2_introspect(lk_request *r);
void lk_api_oauth2_revoke(lk_request *r);
void lk_api_oauth2_metadata(lk_request *r);
/* the service's current token, or a new one (nothing written; a new one counted in the
 * metrics): token filled, its expiry returned */
int64_t lk_api_issue_token(lk_request *r, const lk_cat_service *svc, char token[LK_TOKEN_LEN + 1]);

/* stats.c: usage statistics */
void lk_api_stats_usage(lk_request *r);
void lk_api_stats_usage_7days(lk_request *r);
void lk_api_stats_errors(lk_request *r);
void lk_api_stats_errors_7days(lk_request *r);

/* {date, total, users} of one day, from the runtime's counts */
json_t *lk_api_stats_usage_item(lk_request *r, const char *day);

/* One day's item of the stats endpoints (also `latchkey usage`): the records of
 * `day` among recs, as {date, total, users:[{userId, count}]} / {date, total,
 * errors:[{errorCode, count}]}; total (may be NULL) gets the sum. New reference. */
json_t *lk_stats_usage_json(const char *day, const lk_usage_rec *calls, size_t n, int64_t *total);
json_t *lk_stats_errors_json(const char *day, const lk_error_rec *errors, size_t n, int64_t *total);

/* usermgmt.c: the user management API (run on the store worker, r->store set) */
void lk_api_um_users(lk_request *r);
void lk_api_um_user(lk_request *r);
void lk_api_um_invited(lk_request *r);
void lk_api_um_user_roles(lk_request *r);
void lk_api_um_roles(lk_request *r);
void lk_api_um_workspaces(lk_request *r);
void lk_api_um_invite(lk_request *r);
void lk_api_um_update(lk_request *r);
void lk_api_um_delete(lk_request *r);
void lk_api_um_delete_invited(lk_request *r);
void lk_api_um_roles_add(lk_request *r);
void lk_api_um_roles_delete(lk_request *r);

/* admin*.c: the console's JSON API under /admin/api/ (run on the store worker) */
void lk_api_admin(lk_request *r);
/* on the request thread, before lk_api_admin is queued: true when it answered
 * (a sign-in from an address that failed too often: 429) */
bool lk_api_admin_gate(lk_request *r);
/* true when the console call checks or hashes a password (sign-in, setup, accepting an
 * invitation, completing a reset, changing one's password): it runs on the password
 * pool (lk_runtime_defer_password), so that Argon2id never delays the store worker */
bool lk_api_admin_hashes(lk_request *r);
/* console.c: the console's embedded files at /, /setup, /invite and /console/NAME */
void lk_api_console_file(lk_request *r);

/* health.c: liveness, readiness (503 with the reasons when not ready), metrics */
void lk_api_healthz(lk_request *r);
void lk_api_readyz(lk_request *r);
void lk_api_metrics(lk_request *r);
/* openapi.c: the OpenAPI document of every endpoint (docs/openapi.yaml, as JSON) */
void lk_api_openapi(lk_request *r);

#endif
