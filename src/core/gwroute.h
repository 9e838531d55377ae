/*
 * gwroute — the gateway's route table: which Access API permission a call to an
 * upstream API needs, by method and path (patterns: core/gwpath.h), and how its
 * refusals are answered (Marketo's envelope, or plain HTTP statuses). /auth/check
 * reads the table from the catalog and picks a call's route with lk_gwroute_pick.
 *
 * Rules kept here, whoever calls: a method is upper-case letters (at most 16) or
 * '*'; a pattern is well-formed (gwpath.h); each permission named exists and is one
 * a token can hold (an Access API permission, or Access Users); at most
 * one route per method and pattern. Every change is one transaction with one
 * "Web Services" event ("Add Route", "Delete Route", "Import Routes").
 */
#ifndef LK_CORE_GWROUTE_H
#define LK_CORE_GWROUTE_H

#include "core/op.h"

#include <stdint.h>

#define LK_GWROUTE_MAX_PERMS 8

/* every route, ordered by id (op's arena) */
lk_code lk_gwroute_list(lk_op *op, lk_gw_route **out, size_t *n);
/* adds a route (method, pattern, permissions, plain of *in); n_permissions 0 means
 * none is needed (any valid token). in->id is set. */
lk_code lk_gwroute_add(lk_op *op, lk_gw_route *in);
/* deletes the route of that method and pattern; *gone (may be NULL) receives it */
lk_code lk_gwroute_delete(lk_op *op, const char *method, const char *pattern, lk_gw_route *gone);
/* adds every route of the built-in map of Marketo's REST API that the table does
 * not have for its method and pattern; *added and *kept (those already there,
 * left as they are) count them */
lk_code lk_gwroute_import_marketo(lk_op *op, size_t *added, size_t *kept);

/* the built-in map, for the import and its tests: a NULL-method-terminated table;
 * permissions end with NULL */
typedef struct lk_gwroute_builtin {
    const char *method;
    const char *pattern;
    const char *permissions[6];   /* NULL-terminated */
} lk_gwroute_builtin;
extern const lk_gwroute_builtin lk_gwroute_marketo[];

/* which route a call matches */
typedef enum lk_gw_found {
    LK_GW_NONE,       /* no route has the path: refused (deny by default, 610) */
    LK_GW_METHOD,     /* a route has the path, none the method (605) */
    LK_GW_MATCH,      /* *out is the route */
} lk_gw_found;

/* The route of a call (path decoded, gwpath.h) among routes: of those whose method
 * is the call's, '*', or — for a HEAD — GET, the one with the most specific
 * pattern; on a tie the one naming the method, then GET for HEAD, then '*'. For
 * LK_GW_METHOD, *out is the most specific route of the path (for its style). */
lk_gw_found lk_gwroute_pick(const lk_gw_route *routes, size_t n, const char *method, const char *path,
                            const lk_gw_route **out);
/* the same among routes[idx[0]], routes[idx[1]], ... (idx ascending; NULL: the first
 * n), for core/gwindex.h: which routes it looks at is all that differs */
lk_gw_found lk_gwroute_pick_some(const lk_gw_route *routes, const uint32_t *idx, size_t n, const char *method,
                                 const char *path, const lk_gw_route **out);

/* is the method well-formed (upper-case letters, at most 16, or "*")? */
bool lk_gwroute_method_ok(const char *method);

#endif
