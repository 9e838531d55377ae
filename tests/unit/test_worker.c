/* test_worker — the store worker and the password pool (runtime/worker.h): jobs run on
 * the worker's own connections, several at once with several threads, and once
 * cancelled every job not yet started runs at once with store NULL, so that a stop
 * never waits behind a queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "runtime/worker.h"

typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int inside;                  /* jobs waiting at the gate */
    bool open;
} gate;

typedef struct job_arg {
    gate *g;
    lk_store *main_store;        /* the fixture's: a job's store must be another */
    atomic_int *with_store, *without_store;
} job_arg;

/* waits at the gate until it opens; counts whether it got a store */
static void gated(void *arg, lk_store *store)
{
    job_arg *a = arg;
    if (store) {
        assert_ptr_not_equal(store, a->main_store);
        atomic_fetch_add(a->with_store, 1);
    } else {
        atomic_fetch_add(a->without_store, 1);
        return; /* cancelled: answers at once, without the store */
    }
    pthread_mutex_lock(&a->g->mu);
    a->g->inside++;
    pthread_cond_broadcast(&a->g->cond);
    while (!a->g->open)
        pthread_cond_wait(&a->g->cond, &a->g->mu);
    pthread_mutex_unlock(&a->g->mu);
}

static void wait_inside(gate *g, int n)
{
    pthread_mutex_lock(&g->mu);
    while (g->inside < n)
        pthread_cond_wait(&g->cond, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void open_gate(gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->mu);
}

/* two threads run two jobs at once; the rest wait in the queue and are counted */
static void a_pool_runs_jobs_side_by_side(void **state)
{
    lk_fixture *f = *state;
    lk_error err = {0};
    lk_worker *w = lk_worker_start(f->path, 2, (lk_worker_opts){0}, &err);
    assert_non_null(w);
    gate g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    atomic_int with = 0, without = 0;
    job_arg a = {.g = &g, .main_store = f->store, .with_store = &with, .without_store = &without};
    for (int i = 0; i < 5; i++)
        lk_worker_defer(w, gated, &a);
    wait_inside(&g, 2); /* both threads hold a job at the same time */
    int64_t oldest = 0;
    assert_int_equal(lk_worker_load(w, &oldest), 5);
    assert_true(oldest > 0);
    open_gate(&g);
    while (lk_worker_load(w, NULL) > 0)
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    lk_worker_stop(w);
    assert_int_equal(atomic_load(&without), 0);
    assert_int_equal(atomic_load(&with), 5);
}

/* cancelled: the running job finishes with its store, every queued one runs without */
static void cancel_answers_the_queue_without_the_store(void **state)
{
    lk_fixture *f = *state;
    lk_error err = {0};
    lk_worker *w = lk_worker_start(f->path, 1, (lk_worker_opts){0}, &err);
    assert_non_null(w);
    gate g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    atomic_int with = 0, without = 0;
    job_arg a = {.g = &g, .main_store = f->store, .with_store = &with, .without_store = &without};
    for (int i = 0; i < 10; i++)
        lk_worker_defer(w, gated, &a);
    wait_inside(&g, 1);
    lk_worker_cancel(w);
    /* one thread: the nine queued run once the first is done, none with the store */
    open_gate(&g);
    lk_worker_stop(w);
    assert_int_equal(atomic_load(&with), 1);
    assert_int_equal(atomic_load(&without), 9);
}

typedef struct where {
    atomic_int done;
    int nice;
    char name[16];
} where;

/* what the thread running it is called and how nice it is */
static void note_thread(void *arg, lk_store *store)
{
    (void)store;
    where *w = arg;
    w->nice = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
    pthread_getname_np(pthread_self(), w->name, sizeof w->name);
    atomic_store(&w->done, 1);
}

static where run_noting(const char *path, lk_worker_opts opts)
{
    lk_error err = {0};
    lk_worker *w = lk_worker_start(path, 1, opts, &err);
    assert_non_null(w);
    where at = {0};
    lk_worker_defer(w, note_thread, &at);
    lk_worker_stop(w); /* runs what was queued, then ends */
    assert_int_equal(atomic_load(&at.done), 1);
    return at;
}

/* the threads carry their name, and run at the niceness asked for (raised, never
 * lowered below the process's own); the caller's thread keeps its own */
static void threads_are_named_and_as_nice_as_asked(void **state)
{
    lk_fixture *f = *state;
    int mine = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
    where at = run_noting(f->path, (lk_worker_opts){"lk-test", 7});
    assert_string_equal(at.name, "lk-test");
    assert_int_equal(at.nice, mine > 7 ? mine : 7);
    at = run_noting(f->path, (lk_worker_opts){"lk-test0", 0});
    assert_string_equal(at.name, "lk-test0");
    assert_int_equal(at.nice, mine);
    assert_int_equal(getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid)), mine);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_pool_runs_jobs_side_by_side, lk_fixture_setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(cancel_answers_the_queue_without_the_store, lk_fixture_setup,
                                        lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(threads_are_named_and_as_nice_as_asked, lk_fixture_setup, lk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
