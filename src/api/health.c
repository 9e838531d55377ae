/*
 * health — liveness (GET /healthz: the process answers), readiness (GET /readyz:
 * runtime/readiness.h, 503 with the reasons when not ready) and Prometheus metrics
 * (GET /metrics). All three read memory only: a locked database slows none of them.
 */
#include "api/api.h"
#include "http/metrics.h"
#include "runtime/readiness.h"

void lk_api_healthz(lk_request *r)
{
    lk_resp_header(r, "Cache-Control", "no-store");
    lk_resp_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static json_t *check_json(const lk_readiness *rd, int i)
{
    json_t *c = json_pack("{s:b}", "ok", rd->check[i].ok);
    if (!rd->check[i].ok)
        json_object_set_new(c, "reason", json_string(rd->check[i].reason));
    return c;
}

void lk_api_readyz(lk_request *r)
{
    lk_readiness rd;
    lk_readiness_check(r->rt, &rd);
    const lk_runtime_gauges *g = &rd.gauges;
    const lk_probe_state *p = &rd.probe;

    json_t *db = check_json(&rd, LK_READY_DATABASE);
    json_object_set_new(db, "write_lock_ms", p->probed ? json_integer(p->db_ms) : json_null());
    json_object_set_new(db, "probed_ms_ago", p->probed ? json_integer(p->since_ms) : json_null());
    json_t *cat = check_json(&rd, LK_READY_CATALOG);
    json_object_set_new(cat, "generation", json_integer(g->catalog_generation));
    json_object_set_new(cat, "age_ms", json_integer(g->catalog_age_ms));
    json_t *writer = check_json(&rd, LK_READY_WRITER);
    json_object_set_new(writer, "lag_ms", json_integer(g->writer_lag_ms));
    json_object_set_new(writer, "pending", json_integer(g->pending_writes));
    json_object_set_new(writer, "failures", json_integer(g->write_failures));
    json_t *worker = check_json(&rd, LK_READY_STORE_WORKER);
    json_object_set_new(worker, "queued", json_integer(g->store_jobs));
    json_object_set_new(worker, "oldest_ms", json_integer(g->store_wait_ms));

    json_t *reasons = json_array();
    for (int i = 0; i < LK_READY_CHECKS; i++)
        if (!rd.check[i].ok)
            json_array_append_new(reasons, json_sprintf("%s: %s", rd.check[i].name, rd.check[i].reason));
    json_t *body = json_pack("{s:s, s:o, s:{s:o, s:o, s:o, s:o}}", "status", rd.ready ? "ready" : "not_ready",
                             "reasons", reasons, "checks", "database", db, "catalog", cat, "writer", writer,
                             "store_worker", worker);
    lk_resp_header(r, "Cache-Control", "no-store");
    lk_resp_json(r, rd.ready ? 200 : 503, body);
}

void lk_api_metrics(lk_request *r)
{
    lk_resp_header(r, "Cache-Control", "no-store");
    lk_resp_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", lk_metrics_render(&r->arena, r->rt));
}
