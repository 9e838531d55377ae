/*
 * routes — the one table of what the server answers: per method and path, the
 * handler, the kind of authentication, the permission a REST call needs and whether
 * it counts against limits. Dispatch runs the guard the kind calls for, then the
 * handler.
 */
#ifndef LK_HTTP_ROUTES_H
#define LK_HTTP_ROUTES_H

#include "http/http.h"
#include "http/metrics.h"
#include "core/gwroute.h"

typedef enum lk_route_kind {
    LK_ROUTE_REST,      /* token, allowlist, permission, limits; Marketo envelope */
    LK_ROUTE_USERMGMT,  /* the same guard with the user management API's conventions
                         * (header-only token, bare JSON, errors with non-200 statuses);
                         * the handler runs on the runtime's store worker (r->store) */
    LK_ROUTE_IDENTITY,  /* token endpoints: allowlist, then the handler authenticates the client */
    LK_ROUTE_OPEN,      /* no authentication: metadata, the console's files, the OpenAPI document */
    LK_ROUTE_OPS,       /* no authentication: health and metrics; on the management listener
                         * when management_listen is set (and then not on the public port) */
    LK_ROUTE_GATEWAY,   /* a gateway's auth check (http/gateway.h), at auth_check_path */
    LK_ROUTE_ADMIN,     /* the console's JSON API: every path under the prefix; the handler
                         * authenticates the session and runs on the store worker */
} lk_route_kind;

typedef void (*lk_handler)(lk_request *r);

struct lk_route {
    const char *methods;      /* "GET", "POST" or "GET POST" */
    const char *path;         /* a "*" segment matches one non-empty segment (r->path_arg);
                               * a path ending in "/" (LK_ROUTE_ADMIN) matches everything under it */
    lk_route_kind kind;
    lk_handler handler;
    const char *permissions[2]; /* REST: the permissions needed (all of them); NULL: any valid token */
    bool counts;              /* REST: counts against limits and in usage */
    const char *name;         /* label in /metrics */
};

/* the table; ends with a NULL path */
extern const lk_route lk_routes[];
size_t lk_route_count(void);
size_t lk_route_index(const lk_route *route);   /* lk_route_count() for "no route" */
/* the latency family of a route (NULL: LK_FAMILY_NONE), for /metrics */
lk_route_family lk_route_family_of(const lk_route *route);

/* does path match pattern? A "*" segment matches one non-empty segment, which
 * *arg (its start) and *arg_len receive (untouched when the pattern has none). */
bool lk_path_matches(const char *pattern, const char *path, const char **arg, size_t *arg_len);

/* What the REST guard checks a call against: one of latchkey's own routes, or a
 * route of the gateway's table. */
typedef struct lk_guard_target {
    lk_gw_found found;             /* NONE: 610; METHOD: 605 */
    const char *allow;             /* with METHOD: an Allow header to send, or NULL */
    const lk_route *route;         /* latchkey's route (its permissions, all needed), or NULL */
    const lk_gw_route *gw;         /* the gateway's route (any one of its permissions), or NULL */
    bool counts;                   /* counted against the limits and in usage */
    bool bad_body;                 /* 612 (rest_input.h) */
} lk_guard_target;

/* The REST guard (r->token, r->cat, r->day set): token (601/602) → allowlist (603)
 * → route (610) → method (605) → body (612) → permission (603) → limits (615, 606,
 * 607). true when the call is admitted (r->service, r->user set; with counts, the
 * limits entered: lk_guard_finish must follow); false after answering the refusal
 * and counting it. */
bool lk_guard_admit(lk_request *r, const lk_guard_target *t);
/* after an admitted, counted call was answered: counts it (an answer with r->code
 * 611 is not) and leaves the limits */
void lk_guard_finish(lk_request *r);

/* answers the request: fills r->status, headers and body — or, for a route whose
 * handler needs the store, admits it and sets r->deferred: the caller then has
 * lk_dispatch_deferred() run on the store worker */
void lk_dispatch(lk_request *r);
/* runs a deferred request's handler (r->store set) and settles its accounting */
void lk_dispatch_deferred(lk_request *r);
/* ends the request's catalog read section (r->cat, r->service, r->user become NULL);
 * on the thread that dispatched, before the request is suspended or answered */
void lk_dispatch_release(lk_request *r);
/* answers a deferred request 503 instead (the server is stopping); the limits it
 * entered are left as if it had not been made */
void lk_dispatch_cancel(lk_request *r);

#endif
