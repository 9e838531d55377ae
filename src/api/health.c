/* health — liveness (GET /healthz) and Prometheus metrics (GET /metrics). */
#include "api/api.h"
#include "http/metrics.h"

void lk_api_healthz(lk_request *r)
{
    lk_resp_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void lk_api_metrics(lk_request *r)
{
    lk_resp_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", lk_metrics_render(&r->arena));
}
