/*
 * worker — a queue of jobs and the thread that runs them (worker.h).
 *
 * The queue is a singly linked list under `mu`; the thread takes one job at a time
 * and runs it without the lock, so queueing never waits for the store.
 */
#include "runtime/worker.h"
#include "runtime/prober.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct job {
    lk_store_job fn;
    void *arg;
    int64_t queued_ms;           /* monotonic */
    struct job *next;
} job;

struct lk_worker {
    lk_store *store;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    job *head, *tail;
    size_t jobs;                 /* queued + running */
    int64_t running_since;       /* queued_ms of the running job, 0 when idle */
    bool stopping;
};

static void *run(void *arg)
{
    lk_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->cond, &w->mu);
        job *j = w->head;
        if (!j)
            break; /* stopping, and nothing left */
        w->head = j->next;
        if (!w->head)
            w->tail = NULL;
        w->running_since = j->queued_ms;
        pthread_mutex_unlock(&w->mu);
        j->fn(j->arg, w->store);
        free(j);
        pthread_mutex_lock(&w->mu);
        w->jobs--;
        w->running_since = 0;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

lk_worker *lk_worker_start(const char *location, lk_error *err)
{
    lk_store *store = lk_store_open(location, LK_STORE_WRITE, err);
    if (!store)
        return NULL;
    lk_worker *w = lk_xcalloc(1, sizeof *w);
    w->store = store;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cond, NULL);
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        lk_fail(err, LK_ESTORE, "", "could not start the store worker");
        store->ops->close(store);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cond);
        free(w);
        return NULL;
    }
    return w;
}

void lk_worker_defer(lk_worker *w, lk_store_job fn, void *arg)
{
    job *j = lk_xcalloc(1, sizeof *j);
    j->fn = fn;
    j->arg = arg;
    j->queued_ms = lk_mono_ms();
    pthread_mutex_lock(&w->mu);
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->jobs++;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

size_t lk_worker_load(lk_worker *w, int64_t *oldest_ms)
{
    pthread_mutex_lock(&w->mu);
    size_t n = w->jobs;
    if (oldest_ms)
        *oldest_ms = w->running_since ? w->running_since : w->head ? w->head->queued_ms : 0;
    pthread_mutex_unlock(&w->mu);
    return n;
}

void lk_worker_stop(lk_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    w->store->ops->close(w->store);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cond);
    free(w);
}
