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
#include "util/strbuf.h"

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

/* ---- lists (admin_list.c; docs/console-api.md#lists) ---- */

#define LK_ADMIN_LIMIT_DEFAULT 50
#define LK_ADMIN_LIMIT_MAX 1000
#define LK_ADMIN_PAGE_BYTES (768 * 1024) /* records of one answer, after its first row */
#define LK_ADMIN_COUNT_CAP 10000         /* a filtered total is counted up to this */
#define LK_ADMIN_SEARCH_MAX 200          /* bytes of a search text */

typedef enum lk_admin_cursor {
    LK_CURSOR_ID,     /* lists in id order: "ID" */
    LK_CURSOR_AT_ID,  /* newest first by time: "AT.ID" */
} lk_admin_cursor;

/* one page of a list being answered */
typedef struct lk_admin_page {
    int64_t limit;               /* ?limit, LK_ADMIN_LIMIT_DEFAULT when absent */
    lk_admin_cursor kind;
    int64_t after_id, after_at;  /* ?after; 0 for the first page */
    json_t *items;               /* the rows taken */
    size_t n, bytes;
} lk_admin_page;

/* limit and after of the query; false after answering 400 (limit, after) */
bool lk_admin_page_begin(lk_admin_call *c, lk_admin_page *p, lk_admin_cursor kind);
/* Adds row (stolen) to the page unless it is full: limit rows, or a first row and
 * LK_ADMIN_PAGE_BYTES. false: not taken; a next page starts after the last row taken. */
bool lk_admin_page_take(lk_admin_page *p, json_t *row);
/* {name: rows, "total", "totalExact", "limit", "next"}: total is `counted` when the
 * count ran to its end (cap 0, or counted < cap), else cap - 1 and not exact */
json_t *lk_admin_page_json(lk_admin_page *p, const char *name, const char *next, int64_t counted, int64_t cap);
/* frees the rows of a page that is not answered */
void lk_admin_page_end(lk_admin_page *p);
/* cursors, in the request's arena */
const char *lk_admin_cursor_id(lk_admin_call *c, int64_t id);
const char *lk_admin_cursor_at_id(lk_admin_call *c, int64_t at, int64_t id);
/* the query's search text: NULL when absent or empty; 400 and *bad for more than
 * LK_ADMIN_SEARCH_MAX bytes, invalid UTF-8 or control characters */
const char *lk_admin_search(lk_admin_call *c, const char *name, bool *bad);
/* Link: <this list with after=next>; rel="next" (a CSV page's continuation); nothing when next is NULL */
void lk_admin_link_next(lk_admin_call *c, const char *next);

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
void lk_admin_service_update(lk_admin_call *c);
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
