/*
 * prober — the probe thread (prober.h). `lock` guards the results and the stop
 * flag; it is never held across the store calls.
 */
#include "runtime/prober.h"
#include "store/store.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INTERVAL_MS 1000
#define MAIL_EVERY 5

struct lk_prober {
    lk_store *store;
    int64_t timeout_ms;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
    lk_probe_state st;
    int64_t done_at;          /* monotonic ms of the last finished probe */
    int64_t started_at;       /* of the probe running now, 0 if none */
};

int64_t lk_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void probe_once(lk_prober *p, bool count_mail)
{
    pthread_mutex_lock(&p->lock);
    p->started_at = lk_mono_ms();
    int64_t t0 = p->started_at;
    pthread_mutex_unlock(&p->lock);

    lk_error err = {0};
    bool ok = p->store->ops->ping(p->store, p->timeout_ms, &err) == LK_OK;
    int64_t t1 = lk_mono_ms();
    int64_t mail[4];
    lk_error merr = {0};
    bool mail_ok = count_mail && p->store->ops->mail_counts(p->store, mail, &merr) == LK_OK;

    pthread_mutex_lock(&p->lock);
    p->st.probed = true;
    p->st.db_ok = ok;
    p->st.db_ms = t1 - t0;
    if (ok)
        p->st.db_error[0] = '\0';
    else
        snprintf(p->st.db_error, sizeof p->st.db_error, "%.190s", err.msg[0] ? err.msg : "the database failed");
    if (mail_ok)
        memcpy(p->st.mail, mail, sizeof mail);
    p->done_at = t1;
    p->started_at = 0;
    pthread_mutex_unlock(&p->lock);
}

static void *run(void *arg)
{
    lk_prober *p = arg;
    unsigned tick = 0;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping) {
        pthread_mutex_unlock(&p->lock);
        probe_once(p, tick % MAIL_EVERY == 0);
        tick++;
        pthread_mutex_lock(&p->lock);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += INTERVAL_MS / 1000;
        while (!p->stopping && pthread_cond_timedwait(&p->cond, &p->lock, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

lk_prober *lk_prober_start(const char *location, int64_t timeout_ms, lk_error *err)
{
    lk_store *store = lk_store_open(location, LK_STORE_WRITE, err);
    if (!store)
        return NULL;
    lk_prober *p = lk_xcalloc(1, sizeof *p);
    p->store = store;
    p->timeout_ms = timeout_ms;
    for (int i = 0; i < 4; i++)
        p->st.mail[i] = -1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca; /* timed waits on the monotonic clock: a wall-clock jump cannot stall them */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&p->thread, NULL, run, p) != 0) {
        lk_fail(err, LK_ESTORE, "", "could not start the readiness probe");
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        store->ops->close(store);
        free(p);
        return NULL;
    }
    return p;
}

void lk_prober_stop(lk_prober *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    p->store->ops->close(p->store);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void lk_prober_read(lk_prober *p, lk_probe_state *out)
{
    pthread_mutex_lock(&p->lock);
    *out = p->st;
    int64_t now = lk_mono_ms();
    out->since_ms = p->st.probed ? now - p->done_at : 0;
    out->waiting_ms = p->started_at ? now - p->started_at : 0;
    pthread_mutex_unlock(&p->lock);
}
