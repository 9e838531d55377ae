/*
 * server — libmicrohttpd in epoll mode with a thread pool: the listening socket
 * (HTTPS when configured, http/tls.h), the optional management listener, the
 * request lifecycle (body collection with the size limits, the keep-alive-safe
 * answer on a later callback), the request id, the access log, and a graceful stop.
 */
#ifndef LK_HTTP_SERVER_H
#define LK_HTTP_SERVER_H

#include <stdbool.h>

#include "runtime/runtime.h"

typedef struct lk_server lk_server;

/* Binds cfg->listen (with TLS when tls_cert_file is set) and, when set,
 * cfg->management_listen, and starts serving; sets the runtime's default public_url.
 * NULL with a one-line message in err on failure. */
lk_server *lk_server_start(lk_runtime *rt, char *err, size_t err_len);
/* "http://ADDR:PORT" or "https://…" as bound (port 0 resolved) */
const char *lk_server_url(const lk_server *s);
/* the management listener's URL, NULL when there is none */
const char *lk_server_management_url(const lk_server *s);
/* Reads the TLS certificate and key files again (SIGHUP); new connections get the
 * new pair, those open keep theirs. false with err (the pair in use kept) when the
 * files do not load or TLS is not configured. */
bool lk_server_reload_tls(lk_server *s, char *err, size_t err_len);
/* stops accepting, lets requests in flight finish (up to grace_ms), stops */
void lk_server_stop(lk_server *s, int grace_ms);

#endif
