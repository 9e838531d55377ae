/*
 * gwindex — an index of the gateway's route table, so that /auth/check looks at the
 * few routes a call's path can match instead of all of them (core/gwroute.h).
 *
 * A pattern matches a path only when the path begins with the pattern's literal
 * start: its bytes before the first '{' or '*' (the whole pattern when it has
 * neither, and then the path is that text). The index keeps the routes by that
 * start in a hash table; a pick hashes each beginning of the path (one byte more
 * each time, only for the lengths some start has), gathers the routes found, and
 * chooses among them exactly as lk_gwroute_pick does among all (the same rules, the
 * same order on ties). Built once for a table, read by any number of threads.
 */
#ifndef LK_CORE_GWINDEX_H
#define LK_CORE_GWINDEX_H

#include "core/gwroute.h"
#include "util/arena.h"

typedef struct lk_gwroute_index lk_gwroute_index;

/* the index of routes[0..n) (kept by pointer: they must outlive it), in arena a */
lk_gwroute_index *lk_gwroute_index_build(lk_arena *a, const lk_gw_route *routes, size_t n);

/* lk_gwroute_pick over the indexed table: the same answer, the same route */
lk_gw_found lk_gwroute_index_pick(const lk_gwroute_index *ix, const char *method, const char *path,
                                  const lk_gw_route **out);

#endif
