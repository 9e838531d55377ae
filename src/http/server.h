/*
 * server — libmicrohttpd in epoll mode with a thread pool: the listening socket,
 * the request lifecycle (body collection with the size limits, the keep-alive-safe
 * answer on a later callback), the access log, and a graceful stop.
 */
#ifndef LK_HTTP_SERVER_H
#define LK_HTTP_SERVER_H

#include <stdbool.h>

#include "runtime/runtime.h"

typedef struct lk_server lk_server;

/* binds cfg->listen and starts serving; the bound address is in bound ("ADDR:PORT")
 * NULL with a message in err on failure */
lk_server *lk_server_start(lk_runtime *rt, char *bound, size_t bound_len, char *err, size_t err_len);
/* stops accepting, lets requests in flight finish (up to grace_ms), stops */
void lk_server_stop(lk_server *s, int grace_ms);

#endif
