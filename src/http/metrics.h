/*
 * metrics — counters for GET /metrics (Prometheus text format 0.0.4): requests by
 * route and status, tokens issued, limit rejections, a latency histogram. Relaxed
 * atomics only: counting never blocks a request.
 */
#ifndef LK_HTTP_METRICS_H
#define LK_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"

typedef enum lk_metric_limit { LK_METRIC_RATE, LK_METRIC_DAILY, LK_METRIC_CONCURRENT, LK_METRIC_LIMITS } lk_metric_limit;

/* route: lk_route_index() (lk_route_count() for "none"); status: HTTP status */
void lk_metrics_request(size_t route, int status, uint64_t duration_ns);
void lk_metrics_token_issued(void);
void lk_metrics_limit_rejected(lk_metric_limit which);
/* the exposition text, in the arena */
const char *lk_metrics_render(lk_arena *a);

#endif
