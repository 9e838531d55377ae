/*
 * conncap — at most `limit` simultaneous connections from one address
 * (per_ip_connection_limit), counted by latchkey itself when trusted proxies are
 * configured, so that they can be left out: a gateway (nginx, Caddy) is one address
 * for all of its clients and keeps many connections open to latchkey, and it limits
 * its clients itself (docs/server.md, docs/gateway.md). Without trusted proxies
 * libmicrohttpd's own per-address cap is used instead (server.c).
 *
 * A connection is admitted before libmicrohttpd sets it up (its accept policy) and
 * counted once it has (its "started" notice), until it closes: so the count never
 * keeps a connection that never started. Between those two steps another of the same
 * address may be admitted on another HTTP thread: at most the limit plus the threads
 * less one are open at a time.
 *
 * Thread-safe (one mutex, held for a lookup).
 */
#ifndef LK_HTTP_CONNCAP_H
#define LK_HTTP_CONNCAP_H

#include <stdbool.h>

#include "util/cidr.h"

typedef struct lk_conncap lk_conncap;

/* limit > 0 */
lk_conncap *lk_conncap_new(unsigned limit);
void lk_conncap_free(lk_conncap *c);

/* true when ip holds fewer than the limit's connections */
bool lk_conncap_admits(lk_conncap *c, const lk_ip *ip);
/* a connection of ip started / closed */
void lk_conncap_add(lk_conncap *c, const lk_ip *ip);
void lk_conncap_remove(lk_conncap *c, const lk_ip *ip);
/* the connections counted of ip (for the tests) */
unsigned lk_conncap_count(lk_conncap *c, const lk_ip *ip);

#endif
