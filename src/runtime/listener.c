/*
 * listener — the notification thread (listener.h). The stop flag is an atomic read
 * between waits of at most WAIT_MS, so stopping never waits for the database.
 */
#include "runtime/listener.h"
#include "store/store.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define WAIT_MS 500

struct lk_listener {
    lk_store *store;
    void (*wake)(void *ctx);
    void *ctx;
    pthread_t thread;
    atomic_bool stopping;
};

static void *run(void *arg)
{
    lk_listener *l = arg;
    while (!atomic_load(&l->stopping)) {
        bool woken = false;
        lk_error err = {0};
        if (l->store->ops->wait_change(l->store, WAIT_MS, &woken, &err) != LK_OK) {
            /* the database is away: the feed's polling carries on; try again later */
            struct timespec ts = {.tv_sec = 0, .tv_nsec = WAIT_MS * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        if (woken)
            l->wake(l->ctx);
    }
    return NULL;
}

lk_listener *lk_listener_start(const char *location, void (*wake)(void *ctx), void *ctx, lk_error *err)
{
    lk_store *store = lk_store_open(location, LK_STORE_READ, err);
    if (!store)
        return NULL;
    if (!store->ops->wait_change) {
        store->ops->close(store);
        return NULL;
    }
    lk_listener *l = lk_xcalloc(1, sizeof *l);
    l->store = store;
    l->wake = wake;
    l->ctx = ctx;
    atomic_init(&l->stopping, false);
    if (pthread_create(&l->thread, NULL, run, l) != 0) {
        lk_fail(err, LK_ESTORE, "", "could not start the change listener");
        store->ops->close(store);
        free(l);
        return NULL;
    }
    return l;
}

void lk_listener_stop(lk_listener *l)
{
    if (!l)
        return;
    atomic_store(&l->stopping, true);
    pthread_join(l->thread, NULL);
    l->store->ops->close(l->store);
    free(l);
}
