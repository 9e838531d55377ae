/* readiness — the four checks of readiness.h. */
#include "runtime/readiness.h"

#include <stdio.h>
#include <string.h>

static void verdict(lk_readiness *r, int i, const char *name, bool ok)
{
    r->check[i].name = name;
    r->check[i].ok = ok;
    if (ok)
        r->check[i].reason[0] = '\0';
    else
        r->ready = false;
}

void lk_readiness_check(lk_runtime *rt, lk_readiness *out)
{
    memset(out, 0, sizeof *out);
    const lk_config *cfg = lk_runtime_config(rt);
    lk_runtime_gauges_read(rt, &out->gauges);
    lk_runtime_probe_read(rt, &out->probe);
    const lk_runtime_gauges *g = &out->gauges;
    const lk_probe_state *p = &out->probe;
    out->ready = true;

    int64_t deadline = cfg->ready_db_timeout_ms;
    /* a probe runs every second: a result older than that and the deadline is stale */
    bool db_ok = p->probed && p->db_ok && p->waiting_ms <= deadline && p->since_ms <= deadline + 3000;
    verdict(out, LK_READY_DATABASE, "database", db_ok);
    if (!db_ok) {
        char *why = out->check[LK_READY_DATABASE].reason;
        size_t n = sizeof out->check[LK_READY_DATABASE].reason;
        if (!p->probed)
            snprintf(why, n, "the database has not been probed yet");
        else if (p->waiting_ms > deadline)
            snprintf(why, n, "the write lock has not come within %lld ms (waiting for %lld ms)", (long long)deadline,
                     (long long)p->waiting_ms);
        else if (!p->db_ok)
            snprintf(why, n, "no write lock within %lld ms: %s", (long long)deadline, p->db_error);
        else
            snprintf(why, n, "the last probe finished %lld ms ago", (long long)p->since_ms);
    }

    int64_t cat_max = cfg->ready_catalog_max_age * 1000;
    verdict(out, LK_READY_CATALOG, "catalog", g->catalog_age_ms <= cat_max);
    if (g->catalog_age_ms > cat_max)
        snprintf(out->check[LK_READY_CATALOG].reason, sizeof out->check[LK_READY_CATALOG].reason,
                 "the catalog was last found current %lld ms ago (at most %lld s)", (long long)g->catalog_age_ms,
                 (long long)cfg->ready_catalog_max_age);

    int64_t lag_max = cfg->ready_writer_max_lag * 1000;
    verdict(out, LK_READY_WRITER, "writer", g->writer_lag_ms <= lag_max);
    if (g->writer_lag_ms > lag_max)
        snprintf(out->check[LK_READY_WRITER].reason, sizeof out->check[LK_READY_WRITER].reason,
                 "the background writer last wrote %lld ms ago (at most %lld s; %lld write(s) failed since start)",
                 (long long)g->writer_lag_ms, (long long)cfg->ready_writer_max_lag, (long long)g->write_failures);

    verdict(out, LK_READY_STORE_WORKER, "store_worker", g->store_wait_ms <= lag_max);
    if (g->store_wait_ms > lag_max)
        snprintf(out->check[LK_READY_STORE_WORKER].reason, sizeof out->check[LK_READY_STORE_WORKER].reason,
                 "the oldest of %lld call(s) for the store worker has waited %lld ms (at most %lld s)",
                 (long long)g->store_jobs, (long long)g->store_wait_ms, (long long)cfg->ready_writer_max_lag);
}
