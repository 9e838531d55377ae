/*
 * persist — the background thread's writes (persist.h).
 */
#include "runtime/persist.h"
#include "util/log.h"

bool lk_persist_counts(lk_usage *u, lk_store *s)
{
    lk_arena a = LK_ARENA_INIT;
    lk_usage_rec *calls = NULL;
    lk_error_rec *errors = NULL;
    size_t n_calls = 0, n_errors = 0;
    lk_usage_take_deltas(u, &a, &calls, &n_calls, &errors, &n_errors);
    bool ok = true;
    if (n_calls || n_errors) {
        lk_error err = {0};
        lk_code rc = s->ops->begin(s, &err);
        if (rc == LK_OK && n_calls)
            rc = s->ops->usage_add(s, calls, n_calls, &err);
        if (rc == LK_OK && n_errors)
            rc = s->ops->errors_add(s, errors, n_errors, &err);
        if (rc == LK_OK)
            rc = s->ops->commit(s, &err);
        else
            s->ops->rollback(s);
        if (rc != LK_OK) {
            lk_log(LK_LOG_ERROR, "could not write usage counts (will retry): %s", err.msg);
            lk_usage_restore_deltas(u, calls, n_calls, errors, n_errors);
            ok = false;
        }
    }
    lk_arena_free(&a);
    return ok;
}

/* one write in its own transaction; reports a failure */
static void step(lk_store *s, const char *what, lk_code (*fn)(lk_store *, const lk_purge_policy *, int64_t,
                                                               lk_error *),
                 const lk_purge_policy *p, int64_t now)
{
    lk_error err = {0};
    lk_code rc = s->ops->begin(s, &err);
    if (rc == LK_OK)
        rc = fn(s, p, now, &err);
    if (rc == LK_OK)
        rc = s->ops->commit(s, &err);
    else
        s->ops->rollback(s);
    if (rc != LK_OK)
        lk_log(LK_LOG_ERROR, "could not purge %s (will retry): %s", what, err.msg);
}

static lk_code purge_revocations(lk_store *s, const lk_purge_policy *p, int64_t now, lk_error *err)
{
    (void)p;
    return s->ops->revocation_purge(s, now - LK_TOKEN_KEEP_EXPIRED, err);
}

static lk_code purge_sessions(lk_store *s, const lk_purge_policy *p, int64_t now, lk_error *err)
{
    return s->ops->session_purge(s, now - p->session_idle, now, err);
}

/* rows deleted by the last prune: a full batch means there are more */
static _Thread_local int64_t pruned_last;

static lk_code prune_feed(lk_store *s, const lk_purge_policy *p, int64_t now, lk_error *err)
{
    return s->ops->changes_prune(s, now - p->feed_retention, p->feed_max_rows, LK_PRUNE_BATCH, &pruned_last, err);
}

void lk_persist_purge(lk_store *s, lk_tokens *t, const lk_purge_policy *p, int64_t now)
{
    lk_tokens_purge(t, now - LK_TOKEN_KEEP_EXPIRED);
    step(s, "expired token revocations", purge_revocations, p, now);
    step(s, "ended console sessions", purge_sessions, p, now);
    lk_persist_prune_feed(s, p, now);
}

bool lk_persist_prune_feed(lk_store *s, const lk_purge_policy *p, int64_t now)
{
    pruned_last = 0;
    step(s, "the change feed", prune_feed, p, now);
    return pruned_last >= LK_PRUNE_BATCH;
}
