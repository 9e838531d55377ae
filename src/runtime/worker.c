/*
 * worker — a queue of jobs and the threads that run them (worker.h).
 *
 * The queue is a singly linked list under `mu`; each thread takes one job at a time
 * and runs it without the lock, with its own store connection, so queueing never
 * waits for the store. Once cancelled, a thread hands the jobs it takes their
 * store as NULL: they answer without it, at once.
 */
#include "runtime/worker.h"
#include "runtime/prober.h"
#include "util/log.h"
#include "util/xalloc.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct job {
    lk_store_job fn;
    void *arg;
    int64_t queued_ms;           /* monotonic */
    struct job *next;
} job;

typedef struct runner {
    struct lk_worker *w;
    lk_store *store;             /* this thread's own connection */
    pthread_t thread;
    bool started;
    int64_t running_since;       /* queued_ms of the job it runs, 0 when idle (under mu) */
} runner;

struct lk_worker {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    job *head, *tail;
    size_t jobs;                 /* queued + running */
    bool cancelled;              /* jobs taken from now on run without the store */
    bool stopping;               /* the threads end once the queue is empty */
    int nice;                    /* lk_worker_opts.nice */
    size_t n;
    runner *runners;
};

/* Linux keeps a niceness per thread (setpriority on the thread's id); raising it needs
 * no privilege. Only ever raised: lowering it again would need CAP_SYS_NICE. */
static void lower_priority(int nice)
{
    if (nice <= 0)
        return;
    id_t tid = (id_t)syscall(SYS_gettid);
    errno = 0;
    int now = getpriority(PRIO_PROCESS, tid);
    if (errno == 0 && now >= nice)
        return;
    if (setpriority(PRIO_PROCESS, tid, nice) != 0)
        lk_log(LK_LOG_WARN, "could not lower a background thread's priority to nice %d: %s", nice, strerror(errno));
}

static void *run(void *arg)
{
    runner *me = arg;
    lk_worker *w = me->w;
    lower_priority(w->nice);
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
        bool cancelled = w->cancelled;
        me->running_since = j->queued_ms;
        pthread_mutex_unlock(&w->mu);
        j->fn(j->arg, cancelled ? NULL : me->store);
        free(j);
        pthread_mutex_lock(&w->mu);
        assert(w->jobs > 0);
        w->jobs--;
        me->running_since = 0;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void free_worker(lk_worker *w)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->runners[i].store)
            w->runners[i].store->ops->close(w->runners[i].store);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cond);
    free(w->runners);
    free(w);
}

static void join_all(lk_worker *w)
{
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
    for (size_t i = 0; i < w->n; i++)
        if (w->runners[i].started)
            pthread_join(w->runners[i].thread, NULL);
}

lk_worker *lk_worker_start(const char *location, size_t threads, lk_worker_opts opts, lk_error *err)
{
    lk_worker *w = lk_xcalloc(1, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->nice = opts.nice;
    w->n = threads ? threads : 1;
    w->runners = lk_xcalloc(w->n, sizeof *w->runners);
    for (size_t i = 0; i < w->n; i++) {
        runner *r = &w->runners[i];
        r->w = w;
        r->store = lk_store_open(location, LK_STORE_WRITE, err);
        if (!r->store || pthread_create(&r->thread, NULL, run, r) != 0) {
            if (r->store)
                lk_fail(err, LK_ESTORE, "", "could not start the store worker");
            join_all(w);
            free_worker(w);
            return NULL;
        }
        r->started = true;
        if (opts.name)
            pthread_setname_np(r->thread, opts.name); /* best effort: ps -L, top -H */
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
    assert(!w->stopping);
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
    if (oldest_ms) {
        int64_t oldest = w->head ? w->head->queued_ms : 0;
        for (size_t i = 0; i < w->n; i++) {
            int64_t t = w->runners[i].running_since;
            if (t && (!oldest || t < oldest))
                oldest = t;
        }
        *oldest_ms = oldest;
    }
    pthread_mutex_unlock(&w->mu);
    return n;
}

void lk_worker_cancel(lk_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->cancelled = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

void lk_worker_stop(lk_worker *w)
{
    if (!w)
        return;
    lk_worker_cancel(w);
    join_all(w);
    free_worker(w);
}
