/*
 * test_peers — limits shared by several processes through the store (runtime/peers.h)
 * on either store (fixture.h): what one process counted reaches another's limiter at
 * its next sync; the rate windows' seconds are published on the limiters' own clock
 * (CLOCK_MONOTONIC, one machine) or, for nodes on several machines, as epoch seconds,
 * so that a count published by another machine lands in the right second here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"
#include "runtime/peers.h"
#include "runtime/prober.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define DAY 20000

static const lk_limits lim = {.rate_calls = 10, .rate_seconds = 20};

/* one process: its peers and its instance limiter */
typedef struct proc {
    lk_peers *peers;
    lk_limiter *instance;
    pthread_mutex_t lock;
    lk_map *users;
    lk_peers_limiters lims;
} proc;

static void proc_init(proc *p, bool wall)
{
    p->peers = lk_peers_new(60, 100);
    lk_peers_wall_clock(p->peers, wall);
    p->instance = lk_limiter_new();
    pthread_mutex_init(&p->lock, NULL);
    p->users = lk_map_new_int(4);
    p->lims = (lk_peers_limiters){.instance = p->instance, .lock = &p->lock, .users = p->users};
}

static void proc_free(proc *p)
{
    lk_peers_free(p->peers);
    lk_limiter_free(p->instance);
    lk_map_free(p->users);
    pthread_mutex_destroy(&p->lock);
}

static void sync_ok(lk_fixture *f, proc *p)
{
    lk_error err = {0};
    assert_true(lk_peers_sync(p->peers, f->store, &p->lims, (int64_t)time(NULL), DAY, &err));
}

/* the limiters' clock, as the request path reads it */
static int64_t mono(void)
{
    return lk_mono_ms() / 1000;
}

static int64_t calls_left(proc *p)
{
    lk_limit_status st;
    lk_limit_verdict v = lk_limiter_enter(p->instance, &lim, mono(), DAY, &st);
    if (v == LK_LIMIT_OK)
        lk_limiter_leave(p->instance);
    return st.rate_remaining;
}

/* A counts 3 calls, B (after both synced) sees them; the published second */
static void shared(lk_fixture *f, bool wall)
{
    proc a, b;
    proc_init(&a, wall);
    proc_init(&b, wall);
    sync_ok(f, &a);
    sync_ok(f, &b);
    /* B's first call starts its window (a limiter reads the others' seconds once it
     * has a window of its own) */
    assert_int_equal(calls_left(&b), lim.rate_calls - 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(lk_limiter_enter(a.instance, &lim, mono(), DAY, NULL), LK_LIMIT_OK);
    for (int i = 0; i < 3; i++)
        lk_limiter_leave(a.instance);
    sync_ok(f, &a);
    sync_ok(f, &b);
    assert_int_equal(lk_peers_alive(b.peers), 1);
    /* 3 of A's, and both calls of B's */
    assert_int_equal(calls_left(&b), lim.rate_calls - 5);

    int64_t bucket = atoll(lk_fixture_text(f, "SELECT max(bucket) FROM limit_counts WHERE kind = 'r'"));
    int64_t want = wall ? (int64_t)time(NULL) : mono();
    assert_true(llabs(bucket - want) <= 2);
    proc_free(&a);
    proc_free(&b);
}

static void one_machine_publishes_its_monotonic_seconds(void **state)
{
    shared(*state, false);
}

static void nodes_publish_epoch_seconds(void **state)
{
    shared(*state, true);
}

/* a node on another machine (whose monotonic clock has nothing in common with this
 * one's) published 4 calls in the current epoch second: they count here */
static void another_machines_count_lands_in_this_window(void **state)
{
    lk_fixture *f = *state;
    proc b;
    proc_init(&b, true);
    sync_ok(f, &b);
    assert_int_equal(calls_left(&b), lim.rate_calls - 1);
    char sql[256];
    long long now = (long long)time(NULL);
    snprintf(sql, sizeof sql,
             "INSERT INTO limit_counts (scope, kind, bucket, process, n, at) VALUES"
             " ('', 'c', 0, 'elsewhere', 1, %lld), ('i', 'r', %lld, 'elsewhere', 4, %lld)",
             now, now, now);
    lk_fixture_exec(f, sql);
    sync_ok(f, &b);
    assert_int_equal(lk_peers_alive(b.peers), 1);
    assert_int_equal(calls_left(&b), lim.rate_calls - 6);
    proc_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, lk_fixture_setup, lk_fixture_teardown)
        T(one_machine_publishes_its_monotonic_seconds),
        T(nodes_publish_epoch_seconds),
        T(another_machines_count_lands_in_this_window),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
