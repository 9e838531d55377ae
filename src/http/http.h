/*
 * http — what a handler sees of a request and how it answers.
 *
 * A request's memory comes from its arena, released when the response has been sent
 * (the arena's first chunk stays with the connection for its next request).
 * Handlers run on a libmicrohttpd worker thread and read the runtime's in-memory
 * state; they never wait on the database (handlers that need it run on the store
 * worker, routes.h: deferred). A handler that must write (a revocation) sets
 * `deferred` and `resume`: the request is suspended and `resume` runs on the store
 * worker with `store` set.
 */
#ifndef LK_HTTP_HTTP_H
#define LK_HTTP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "http/form.h"
#include "runtime/runtime.h"
#include "util/arena.h"
#include "util/cidr.h"

#define LK_MAX_RESP_HEADERS 16

typedef struct lk_route lk_route;

typedef struct lk_request {
    lk_arena arena;
    lk_runtime *rt;
    void *conn;                     /* struct MHD_Connection *, for lk_req_header */

    const char *method;
    const char *path;               /* decoded, without the query */
    const char *path_arg;           /* the segment a route's "*" matched, NULL if none */
    lk_form query;                  /* parsed query string */
    bool query_ok;                  /* false: the query string is malformed */
    const char *body;               /* NUL-terminated copy of the body ("" if none) */
    size_t body_len;
    lk_ip client;                   /* the caller (after trusted proxies) */
    bool https;                     /* the caller used TLS: served with TLS, or a trusted proxy says so
                                     * (X-Forwarded-Proto) */
    bool management;                /* arrived on the management listener (management_listen) */
    bool proxied;                   /* the peer is a trusted proxy (trusted_proxies) */
    char client_text[LK_CIDR_TEXT];
    int64_t now;                    /* seconds */
    uint64_t started_ns;            /* monotonic */

    /* filled by the REST guard for handlers */
    const char *token;              /* the access token presented (rest_input.h), NULL if none */
    lk_catalog *cat;                /* with a read section open on this thread; the catalog
                                     * pointers below are valid until lk_dispatch_release() */
    const lk_cat_service *service;
    const lk_cat_user *user;
    lk_day day;
    const lk_route *route;
    bool bare;                      /* user management conventions: no envelope, HTTP statuses */
    uint8_t gateway;                /* a gateway's auth check (http/gateway.h): LK_GATEWAY_* */
    bool deferred;                  /* admitted; the handler runs on the store worker */
    bool password_pool;             /* with deferred: on the password pool instead (Argon2id) */
    lk_store *store;                /* the store worker's, for deferred handlers only */
    void (*resume)(struct lk_request *r); /* set with deferred: runs on the store worker
                                     * instead of the route's handler */
    void *resume_arg;               /* the handler's, in the arena */
    lk_limiter *held[2];            /* limiters entered for this call, left when it ends */
    lk_limiter *parked[2];          /* entered and counted, but no longer in flight: a user
                                     * management call while it waits for the store worker */

    /* the response */
    int status;
    const char *content_type;
    const char *resp;
    size_t resp_len;
    struct {
        const char *name, *value;
    } headers[LK_MAX_RESP_HEADERS];
    size_t n_headers;

    /* for the access log and metrics */
    const char *request_id;         /* X-Request-Id: a trusted proxy's, or made (lk_request_id) */
    const char *code;               /* Marketo code or OAuth error, NULL if none */
    const char *who;                /* API user's email when known (in the arena) */
    const char *client_id;          /* token endpoints: the client id presented, when it has a
                                     * client id's shape (never anything that could be a secret) */
} lk_request;

/* a request header (case-insensitive name), NULL if absent */
const char *lk_req_header(lk_request *r, const char *name);
/* a parameter from the query string, or (for form posts) the body; NULL if absent */
const char *lk_req_param(lk_request *r, const lk_form *body_form, const char *name);

/* adds a response header (both strings copied) */
void lk_resp_header(lk_request *r, const char *name, const char *value);
/* a JSON body (reference stolen), Content-Type application/json;charset=UTF-8 */
void lk_resp_json(lk_request *r, int status, json_t *body);
/* text is borrowed, not copied: static, or in the request's arena */
/* the content type of every JSON answer latchkey writes */
#define LK_JSON_TYPE "application/json;charset=UTF-8"

void lk_resp_text(lk_request *r, int status, const char *content_type, const char *text);

#endif
