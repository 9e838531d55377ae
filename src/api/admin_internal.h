/*
 * admin_internal — what the console API's files share (docs/console-api.md): the
 * call context, the table entry, JSON input helpers and the answers. Not used
 * outside src/api/admin*.c.
 */
#ifndef LK_API_ADMIN_INTERNAL_H
#define LK_API_ADMIN_INTERNAL_H

#include <jansson.h>

#include "core/op.h"
#include "http/http.h"

/* one console call, on the store worker */
typedef struct lk_admin_call {
    lk_request *r;
    lk_op op;                    /* actor "user:<email>", the caller's address */
    lk_user user;                /* the signed-in user (id 0 for calls without a session) */
    int64_t session_id;
    const char *session_token;   /* the cookie value, NULL without a session */
    json_t *body;                /* the parsed JSON body of POST/PUT (borrowed), else NULL */
    const char *arg;             /* the "{id}" segment of the path, NULL if none */
    bool changed;                /* set by handlers that changed the domain */
    const char *const (*renames)[2]; /* core field -> body member, for errors; ends with {NULL};
                                      * set by calls whose body names other records (an unknown
                                      * one is then 400 invalid, not 404) */
} lk_admin_call;

typedef void (*lk_admin_handler)(lk_admin_call *c);

/* answers */
void lk_admin_ok(lk_admin_call *c, json_t *body);             /* 200, body stolen */
void lk_admin_fail(lk_admin_call *c, int status, const char *code, const char *field, const char *message);
void lk_admin_fail_op(lk_admin_call *c);                      /* the core's error in c->op.err */
void lk_admin_done(lk_admin_call *c);                         /* 200 {"ok":true} */

/* body members: NULL (absent or null) or the value; a wrong type answers 400 and
 * sets *bad */
const char *lk_admin_str(lk_admin_call *c, const char *name, bool *bad);
bool lk_admin_bool(lk_admin_call *c, const char *name, bool dflt, bool *bad);
int64_t lk_admin_int(lk_admin_call *c, const char *name, int64_t dflt, bool *bad);
/* the path's {id} as a positive integer; answers 404 and returns 0 otherwise */
int64_t lk_admin_id(lk_admin_call *c);
/* a query parameter, NULL if absent */
const char *lk_admin_query(lk_admin_call *c, const char *name);

/* records as the console shows them (new references) */
json_t *lk_admin_time(int64_t t);
json_t *lk_admin_user_json(const lk_user *u, int64_t now);
json_t *lk_admin_role_json(const lk_role *r, size_t holders);
json_t *lk_admin_service_json(const lk_service *s);

/* the handlers, by file */
void lk_admin_permissions(lk_admin_call *c);
void lk_admin_workspaces(lk_admin_call *c);
void lk_admin_roles(lk_admin_call *c);
void lk_admin_role_create(lk_admin_call *c);
void lk_admin_role_update(lk_admin_call *c);
void lk_admin_role_delete(lk_admin_call *c);
void lk_admin_users(lk_admin_call *c);
void lk_admin_api_users(lk_admin_call *c);
void lk_admin_user_invite(lk_admin_call *c);
void lk_admin_user_update(lk_admin_call *c);
void lk_admin_user_lock(lk_admin_call *c);
void lk_admin_user_unlock(lk_admin_call *c);
void lk_admin_user_delete(lk_admin_call *c);
void lk_admin_user_resend(lk_admin_call *c);
void lk_admin_user_delete_invitation(lk_admin_call *c);
void lk_admin_user_reset_password(lk_admin_call *c);
void lk_admin_mail(lk_admin_call *c);

void lk_admin_services(lk_admin_call *c);
void lk_admin_service_create(lk_admin_call *c);
void lk_admin_service_get(lk_admin_call *c);
void lk_admin_service_token(lk_admin_call *c);
void lk_admin_service_rotate(lk_admin_call *c);
void lk_admin_service_delete(lk_admin_call *c);
void lk_admin_webservices(lk_admin_call *c);
void lk_admin_allowlist_add(lk_admin_call *c);
void lk_admin_allowlist_remove(lk_admin_call *c);
void lk_admin_allowlist_switch(lk_admin_call *c);
void lk_admin_limits_set(lk_admin_call *c);

void lk_admin_audit(lk_admin_call *c);
void lk_admin_logins(lk_admin_call *c);

#endif
