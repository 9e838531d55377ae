/*
 * readiness — whether this process should get traffic (GET /readyz, and the
 * latchkey_ready gauge): four checks, each with a reason when it fails.
 *
 *   database     the readiness probe had the write lock within ready_db_timeout_ms,
 *                and no probe has been waiting longer than that
 *   catalog      the in-memory catalog was found to match the database within
 *                ready_catalog_max_age seconds
 *   writer       the background writer wrote (or had nothing to write) within
 *                ready_writer_max_lag seconds
 *   store_worker the oldest call waiting for (or running on) the store worker has been
 *                there less than ready_writer_max_lag seconds
 *
 * Reads only in-memory state: answering never waits on the database.
 */
#ifndef LK_RUNTIME_READINESS_H
#define LK_RUNTIME_READINESS_H

#include "runtime/prober.h"
#include "runtime/runtime.h"

enum { LK_READY_DATABASE, LK_READY_CATALOG, LK_READY_WRITER, LK_READY_STORE_WORKER, LK_READY_CHECKS };

typedef struct lk_readiness {
    bool ready;                       /* every check ok */
    struct {
        const char *name;             /* "database", "catalog", "writer", "store_worker" */
        bool ok;
        char reason[240];             /* "" when ok */
    } check[LK_READY_CHECKS];
    lk_runtime_gauges gauges;         /* what the checks looked at */
    lk_probe_state probe;
} lk_readiness;

void lk_readiness_check(lk_runtime *rt, lk_readiness *out);

#endif
