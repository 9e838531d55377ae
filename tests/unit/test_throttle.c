/*
 * test_throttle — failure counts per key (runtime/throttle.h): a key is throttled
 * at its limit and only that key, its window ends, a full table refuses to count
 * new keys (and says so) while keys already in it keep being counted, ended windows
 * free their slots, and threads counting at once lose no failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/secret.h"
#include "runtime/throttle.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 1700000000
#define WINDOW 60

static int init(void **state)
{
    (void)state;
    return lk_secret_init() ? 0 : -1;
}

static bool blocked(lk_throttle *t, const char *key, int64_t limit, int64_t now)
{
    return lk_throttle_blocked(t, key, strlen(key), limit, now, NULL);
}

static bool count_fail(lk_throttle *t, const char *key, int64_t now)
{
    return lk_throttle_fail(t, key, strlen(key), now);
}

static void a_key_is_throttled_at_its_limit(void **state)
{
    (void)state;
    lk_throttle *t = lk_throttle_new(1000, WINDOW);
    for (int i = 0; i < 3; i++) {
        assert_false(blocked(t, "stranger", 3, T0 + i));
        assert_true(count_fail(t, "stranger", T0 + i));
    }
    int64_t retry = 0;
    assert_true(lk_throttle_blocked(t, "stranger", 8, 3, T0 + 10, &retry));
    assert_int_equal(retry, WINDOW - 10);
    /* keys are bytes: a prefix or a longer key is another key */
    assert_false(blocked(t, "strange", 3, T0 + 10));
    assert_false(blocked(t, "strangers", 3, T0 + 10));
    assert_false(blocked(t, "the real client", 3, T0 + 10));
    /* the window ends: counting starts again */
    assert_false(blocked(t, "stranger", 3, T0 + WINDOW));
    assert_true(count_fail(t, "stranger", T0 + WINDOW));
    assert_false(blocked(t, "stranger", 3, T0 + WINDOW));
    assert_int_equal(lk_throttle_size(t, T0 + WINDOW), 1);
    /* forget: the next failure starts a new window */
    count_fail(t, "stranger", T0 + WINDOW);
    count_fail(t, "stranger", T0 + WINDOW);
    assert_true(blocked(t, "stranger", 3, T0 + WINDOW));
    lk_throttle_forget(t, "stranger", 8);
    assert_false(blocked(t, "stranger", 3, T0 + WINDOW));
    lk_throttle_free(t);
}

static void a_full_table_refuses_new_keys(void **state)
{
    (void)state;
    lk_throttle *t = lk_throttle_new(16, WINDOW);
    char key[32];
    for (int i = 0; i < 16; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        assert_true(count_fail(t, key, T0));
    }
    assert_int_equal(lk_throttle_size(t, T0), 16);
    /* a 17th key cannot be counted: the caller refuses it */
    assert_false(count_fail(t, "newcomer", T0 + 1));
    assert_false(count_fail(t, "newcomer", T0 + 2));
    assert_int_equal(lk_throttle_size(t, T0 + 2), 16);
    /* keys already counted still are */
    for (int i = 0; i < 5; i++)
        assert_true(count_fail(t, "key-3", T0 + 3));
    assert_true(blocked(t, "key-3", 6, T0 + 3));
    /* when their windows end the slots are free again, without a purge */
    assert_true(count_fail(t, "newcomer", T0 + WINDOW));
    assert_true(count_fail(t, "newcomer", T0 + WINDOW));
    assert_true(blocked(t, "newcomer", 2, T0 + WINDOW));
    for (int i = 0; i < 15; i++) {
        snprintf(key, sizeof key, "other-%d", i);
        assert_true(count_fail(t, key, T0 + WINDOW));
    }
    assert_false(count_fail(t, "one too many", T0 + WINDOW));
    /* a purge keeps what runs */
    lk_throttle_purge(t, T0 + WINDOW + 1);
    assert_int_equal(lk_throttle_size(t, T0 + WINDOW + 1), 16);
    assert_true(blocked(t, "newcomer", 2, T0 + WINDOW + 1));
    lk_throttle_purge(t, T0 + 3 * WINDOW);
    assert_int_equal(lk_throttle_size(t, T0 + 3 * WINDOW), 0);
    assert_true(count_fail(t, "one too many", T0 + 3 * WINDOW));
    lk_throttle_free(t);
}

static void many_keys_and_churn(void **state)
{
    (void)state;
    lk_throttle *t = lk_throttle_new(10000, WINDOW);
    char key[32];
    /* five generations of 8,000 keys, each a window apart: slots are reused */
    for (int g = 0; g < 5; g++) {
        int64_t now = T0 + g * WINDOW;
        for (int i = 0; i < 8000; i++) {
            snprintf(key, sizeof key, "g%d-%d", g, i);
            assert_true(count_fail(t, key, now));
        }
        assert_int_equal(lk_throttle_size(t, now), 8000);
        snprintf(key, sizeof key, "g%d-%d", g, 4321);
        assert_true(blocked(t, key, 1, now));
        assert_false(blocked(t, key, 2, now));
    }
    lk_throttle_free(t);
}

#define N_THREADS 4
#define N_FAILS 5000

typedef struct counter {
    lk_throttle *t;
    int id;
} counter;

static void *count_failures(void *arg)
{
    counter *c = arg;
    char key[32];
    for (int i = 0; i < N_FAILS; i++) {
        snprintf(key, sizeof key, "k%d", i % 50);
        if (!count_fail(c->t, key, T0))
            abort();
    }
    return NULL;
}

static void threads_lose_no_failure(void **state)
{
    (void)state;
    lk_throttle *t = lk_throttle_new(100000, WINDOW);
    pthread_t th[N_THREADS];
    counter c[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        c[i] = (counter){.t = t, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, count_failures, &c[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(th[i], NULL);
    /* each of the 50 keys failed N_THREADS * N_FAILS / 50 times: blocked at exactly that */
    int64_t each = N_THREADS * N_FAILS / 50;
    assert_true(blocked(t, "k7", each, T0));
    assert_false(blocked(t, "k7", each + 1, T0));
    lk_throttle_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_key_is_throttled_at_its_limit),
        cmocka_unit_test(a_full_table_refuses_new_keys),
        cmocka_unit_test(many_keys_and_churn),
        cmocka_unit_test(threads_lose_no_failure),
    };
    return cmocka_run_group_tests(tests, init, NULL);
}
