/*
 * metrics — GET /metrics (Prometheus text format 0.0.4): requests by route and
 * status, latency by route family (histogram), tokens issued, limit rejections,
 * build and process figures, and gauges of the running state (catalog, tokens,
 * mail queue, store worker, background writer, readiness). Counting uses relaxed
 * atomics only: it never blocks a request; the gauges are read when rendered.
 */
#ifndef LK_HTTP_METRICS_H
#define LK_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/runtime.h"
#include "util/arena.h"

typedef enum lk_metric_limit { LK_METRIC_RATE, LK_METRIC_DAILY, LK_METRIC_CONCURRENT, LK_METRIC_LIMITS } lk_metric_limit;

/* the families of routes whose latency is told apart (label "family") */
typedef enum lk_route_family {
    LK_FAMILY_TOKEN,        /* identity and OAuth 2.0 endpoints, their metadata */
    LK_FAMILY_REST,         /* guarded /rest calls */
    LK_FAMILY_USERMGMT,     /* the user management API */
    LK_FAMILY_CONSOLE_API,  /* /admin/api */
    LK_FAMILY_CONSOLE,      /* the console's files */
    LK_FAMILY_OPS,          /* health, metrics, the OpenAPI document */
    LK_FAMILY_NONE,         /* no route matched */
    LK_FAMILY_COUNT
} lk_route_family;

/* once, before serving: the route labels by route index (static strings, copied as
 * pointers; at most 64) and the process's start for process_start_time_seconds */
void lk_metrics_start(const char *const *route_names, size_t n_routes);
/* route: the route's index (n_routes or more for "none"); status: HTTP status */
void lk_metrics_request(size_t route, lk_route_family family, int status, uint64_t duration_ns);
void lk_metrics_token_issued(void);
void lk_metrics_limit_rejected(lk_metric_limit which);
/* the exposition text, in the arena */
const char *lk_metrics_render(lk_arena *a, lk_runtime *rt);

#endif
