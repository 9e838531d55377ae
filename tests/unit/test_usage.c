/*
 * test_usage — call and error counts (runtime/usage.h): counting, totals of a day in
 * order, deltas taken and given back, loading without deltas, forgetting old days
 * (but never counts not yet taken), and counting from several threads. Needs no store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runtime/usage.h"

#include <pthread.h>
#include <string.h>

typedef struct deltas {
    lk_usage_rec *calls;
    size_t n_calls;
    lk_error_rec *errors;
    size_t n_errors;
} deltas;

static deltas take(lk_usage *u, lk_arena *a)
{
    deltas d;
    lk_usage_take_deltas(u, a, &d.calls, &d.n_calls, &d.errors, &d.n_errors);
    return d;
}

static void counts_and_the_totals_of_a_day(void **state)
{
    (void)state;
    lk_usage *u = lk_usage_new();
    lk_arena a = LK_ARENA_INIT;
    for (int i = 0; i < 3; i++)
        lk_usage_count_call(u, "2024-05-01", 42, "b@x.test");
    lk_usage_count_call(u, "2024-05-01", 7, "a@x.test");
    lk_usage_count_call(u, "2024-05-02", 42, "b@x.test");
    lk_usage_count_error(u, "2024-05-01", "606");
    lk_usage_count_error(u, "2024-05-01", "601");
    lk_usage_count_error(u, "2024-05-01", "606");
    lk_usage_count_error(u, "2024-05-01", "1003");

    lk_usage_rec *calls;
    lk_error_rec *errors;
    size_t nc, ne;
    lk_usage_day(u, &a, "2024-05-01", &calls, &nc, &errors, &ne);
    assert_int_equal(nc, 2);
    assert_int_equal(calls[0].user_id, 7);                 /* ordered by user id */
    assert_string_equal(calls[0].user_email, "a@x.test");
    assert_string_equal(calls[0].day, "2024-05-01");
    assert_int_equal(calls[0].count, 1);
    assert_int_equal(calls[1].user_id, 42);
    assert_int_equal(calls[1].count, 3);
    assert_int_equal(ne, 3);                               /* ordered by code (as text) */
    assert_string_equal(errors[0].code, "1003");
    assert_string_equal(errors[1].code, "601");
    assert_int_equal(errors[1].count, 1);
    assert_string_equal(errors[2].code, "606");
    assert_int_equal(errors[2].count, 2);
    assert_string_equal(errors[2].day, "2024-05-01");

    assert_int_equal(lk_usage_calls(u, "2024-05-01", 42), 3);
    assert_int_equal(lk_usage_calls(u, "2024-05-01", 7), 1);
    assert_int_equal(lk_usage_calls(u, "2024-05-01", 8), 0);
    assert_int_equal(lk_usage_calls(u, "2024-05-01", 0), 4);
    assert_int_equal(lk_usage_calls(u, "2024-05-02", 0), 1);
    assert_int_equal(lk_usage_calls(u, "2024-05-03", 0), 0);

    lk_usage_day(u, &a, "2024-04-30", &calls, &nc, &errors, &ne);
    assert_int_equal(nc, 0);
    assert_null(calls);
    assert_int_equal(ne, 0);
    assert_null(errors);
    lk_usage_day(u, &a, "2024-05-02", &calls, &nc, &errors, &ne);
    assert_int_equal(nc, 1);
    assert_int_equal(ne, 0);
    lk_arena_free(&a);
    lk_usage_free(u);
}

static void the_latest_email_is_reported(void **state)
{
    (void)state;
    lk_usage *u = lk_usage_new();
    lk_arena a = LK_ARENA_INIT;
    lk_usage_count_call(u, "2024-05-01", 1, "old@x.test");
    lk_usage_count_call(u, "2024-05-01", 1, "new@x.test");
    lk_usage_count_call(u, "2024-05-01", 2, NULL);
    lk_usage_rec *calls;
    lk_error_rec *errors;
    size_t nc, ne;
    lk_usage_day(u, &a, "2024-05-01", &calls, &nc, &errors, &ne);
    assert_int_equal(nc, 2);
    assert_string_equal(calls[0].user_email, "new@x.test");
    assert_int_equal(calls[0].count, 2);
    assert_string_equal(calls[1].user_email, "");
    lk_arena_free(&a);
    lk_usage_free(u);
}

static void deltas_are_taken_once(void **state)
{
    (void)state;
    lk_usage *u = lk_usage_new();
    lk_arena a = LK_ARENA_INIT;
    deltas d = take(u, &a);
    assert_int_equal(d.n_calls, 0);
    assert_null(d.calls);
    assert_int_equal(d.n_errors, 0);
    assert_null(d.errors);

    lk_usage_count_call(u, "2024-05-02", 5, "e@x.test");
    lk_usage_count_call(u, "2024-05-01", 9, "n@x.test");
    lk_usage_count_call(u, "2024-05-01", 5, "e@x.test");
    lk_usage_count_call(u, "2024-05-01", 5, "e@x.test");
    lk_usage_count_error(u, "2024-05-01", "607");
    d = take(u, &a);
    assert_int_equal(d.n_calls, 3);                        /* ordered by day, then user */
    assert_string_equal(d.calls[0].day, "2024-05-01");
    assert_int_equal(d.calls[0].user_id, 5);
    assert_int_equal(d.calls[0].count, 2);
    assert_string_equal(d.calls[0].user_email, "e@x.test");
    assert_int_equal(d.calls[1].user_id, 9);
    assert_int_equal(d.calls[1].count, 1);
    assert_string_equal(d.calls[2].day, "2024-05-02");
    assert_int_equal(d.calls[2].count, 1);
    assert_int_equal(d.n_errors, 1);
    assert_string_equal(d.errors[0].code, "607");
    assert_int_equal(d.errors[0].count, 1);

    d = take(u, &a);                                       /* nothing new */
    assert_int_equal(d.n_calls, 0);
    assert_int_equal(d.n_errors, 0);

    lk_usage_count_call(u, "2024-05-01", 5, "e@x.test");
    d = take(u, &a);
    assert_int_equal(d.n_calls, 1);
    assert_int_equal(d.calls[0].count, 1);                 /* only what is new */
    /* totals are not deltas */
    assert_int_equal(lk_usage_calls(u, "2024-05-01", 5), 3);
    lk_arena_free(&a);
    lk_usage_free(u);
}

static void deltas_given_back_are_taken_again(void **state)
{
    (void)state;
    lk_usage *u = lk_usage_new();
    lk_arena a = LK_ARENA_INIT;
    lk_usage_count_call(u, "2024-05-01", 5, "e@x.test");
    lk_usage_count_call(u, "2024-05-01", 5, "e@x.test");
    lk_usage_count_error(u, "2024-05-01", "606");
    deltas d = take(u, &a);
    /* the store write failed; meanwhile one more call arrived */
    lk_usage_count_call(u, "2024-05-01", 5, "e@x.test");
    lk_usage_restore_deltas(u, d.calls, d.n_calls, d.errors, d.n_errors);
    lk_arena b = LK_ARENA_INIT;
    deltas d2 = take(u, &b);
    assert_int_equal(d2.n_calls, 1);
    assert_int_equal(d2.calls[0].count, 3);
    assert_int_equal(d2.n_errors, 1);
    assert_int_equal(d2.errors[0].count, 1);
    /* giving back changes no total */
    assert_int_equal(lk_usage_calls(u, "2024-05-01", 5), 3);
    lk_usage_rec *calls;
    lk_error_rec *errors;
    size_t nc, ne;
    lk_usage_day(u, &b, "2024-05-01", &calls, &nc, &errors, &ne);
    assert_int_equal(errors[0].count, 1);
    lk_arena_free(&a);
    lk_arena_free(&b);
    lk_usage_free(u);
}

static void loaded_counts_are_totals_not_deltas(void **state)
{
    (void)state;
    lk_usage *u = lk_usage_new();
    lk_arena a = LK_ARENA_INIT;
    lk_usage_rec calls[] = {
        {.day = "2024-05-01", .user_id = 3, .user_email = "c@x.test", .count = 100},
        {.day = "2024-05-01", .user_id = 1, .user_email = "a@x.test", .count = 10},
        {.day = "2024-04-30", .user_id = 3, .user_email = "c@x.test", .count = 7},
    };
    lk_error_rec errors[] = {
        {.day = "2024-05-01", .code = "606", .count = 4},
    };
    lk_usage_load(u, calls, 3, errors, 1);
    deltas d = take(u, &a);
    assert_int_equal(d.n_calls, 0);
    assert_int_equal(d.n_errors, 0);
    assert_int_equal(lk_usage_calls(u, "2024-05-01", 0), 110);
    assert_int_equal(lk_usage_calls(u, "2024-04-30", 3), 7);

    lk_usage_count_call(u, "2024-05-01", 3, "c@x.test");
    lk_usage_count_error(u, "2024-05-01", "606");
    d = take(u, &a);
    assert_int_equal(d.n_calls, 1);
    assert_int_equal(d.calls[0].count, 1);
    assert_int_equal(d.errors[0].count, 1);
    lk_usage_rec *cv;
    lk_error_rec *ev;
    size_t nc, ne;
    lk_usage_day(u, &a, "2024-05-01", &cv, &nc, &ev, &ne);
    assert_int_equal(nc, 2);
    assert_int_equal(cv[0].user_id, 1);
    assert_int_equal(cv[0].count, 10);
    assert_int_equal(cv[1].count, 101);
    assert_int_equal(ev[0].count, 5);
    lk_arena_free(&a);
    lk_usage_free(u);
}

static void forgetting_old_days(void **state)
{
    (void)state;
    lk_usage *u = lk_usage_new();
    lk_arena a = LK_ARENA_INIT;
    const char *days[] = {"2024-04-28", "2024-04-29", "2024-04-30", "2024-05-01"};
    for (size_t i = 0; i < 4; i++) {
        lk_usage_count_call(u, days[i], 1, "a@x.test");
        lk_usage_count_error(u, days[i], "601");
    }
    /* not yet taken: nothing may be forgotten, or those counts never reach the store */
    lk_usage_forget_before(u, "2024-04-30");
    assert_int_equal(lk_usage_calls(u, "2024-04-28", 0), 1);
    deltas d = take(u, &a);
    assert_int_equal(d.n_calls, 4);
    assert_int_equal(d.n_errors, 4);

    lk_usage_forget_before(u, "2024-04-30");
    assert_int_equal(lk_usage_calls(u, "2024-04-28", 0), 0);
    assert_int_equal(lk_usage_calls(u, "2024-04-29", 0), 0);
    assert_int_equal(lk_usage_calls(u, "2024-04-30", 0), 1);  /* the day itself stays */
    assert_int_equal(lk_usage_calls(u, "2024-05-01", 0), 1);
    lk_usage_rec *cv;
    lk_error_rec *ev;
    size_t nc, ne;
    lk_usage_day(u, &a, "2024-04-29", &cv, &nc, &ev, &ne);
    assert_int_equal(nc + ne, 0);

    /* deltas given back for a forgotten day come back with it */
    lk_usage_rec back = {.day = "2024-04-28", .user_id = 1, .user_email = "a@x.test", .count = 2};
    lk_usage_restore_deltas(u, &back, 1, NULL, 0);
    d = take(u, &a);
    assert_int_equal(d.n_calls, 1);
    assert_int_equal(d.calls[0].count, 2);
    lk_usage_forget_before(u, "9999-12-31");
    assert_int_equal(lk_usage_calls(u, "2024-05-01", 0), 0);
    lk_arena_free(&a);
    lk_usage_free(u);
    lk_usage_free(NULL);
}

static void many_users(void **state)
{
    (void)state;
    enum { N = 20000 };
    lk_usage *u = lk_usage_new();
    lk_arena a = LK_ARENA_INIT;
    for (int64_t i = N; i >= 1; i--)
        lk_usage_count_call(u, "2024-05-01", i * 3, "x@x.test");
    lk_usage_rec *cv;
    lk_error_rec *ev;
    size_t nc, ne;
    lk_usage_day(u, &a, "2024-05-01", &cv, &nc, &ev, &ne);
    assert_int_equal(nc, N);
    for (size_t i = 0; i < nc; i++)
        assert_int_equal(cv[i].user_id, (int64_t)(i + 1) * 3);
    deltas d = take(u, &a);
    assert_int_equal(d.n_calls, N);
    assert_int_equal(lk_usage_calls(u, "2024-05-01", 0), N);
    lk_arena_free(&a);
    lk_usage_free(u);
}

#define THREADS 4
#define CALLS 20000

typedef struct counter {
    lk_usage *u;
    int id;
} counter;

static void *count_run(void *arg)
{
    counter *c = arg;
    for (int i = 0; i < CALLS; i++) {
        lk_usage_count_call(c->u, (i % 2) ? "2024-05-01" : "2024-05-02", c->id % 2 + 1, "t@x.test");
        if (i % 10 == 0)
            lk_usage_count_error(c->u, "2024-05-01", "606");
    }
    return NULL;
}

static void threads(void **state)
{
    (void)state;
    lk_usage *u = lk_usage_new();
    counter c[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        c[i] = (counter){.u = u, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, count_run, &c[i]), 0);
    }
    /* the writer takes deltas while the counting goes on */
    int64_t taken = 0, taken_errors = 0;
    lk_arena a = LK_ARENA_INIT;
    for (int r = 0; r < 50; r++) {
        deltas d = take(u, &a);
        for (size_t i = 0; i < d.n_calls; i++)
            taken += d.calls[i].count;
        for (size_t i = 0; i < d.n_errors; i++)
            taken_errors += d.errors[i].count;
        lk_arena_free(&a);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    deltas d = take(u, &a);
    for (size_t i = 0; i < d.n_calls; i++)
        taken += d.calls[i].count;
    for (size_t i = 0; i < d.n_errors; i++)
        taken_errors += d.errors[i].count;
    assert_int_equal(taken, THREADS * CALLS);
    assert_int_equal(taken_errors, THREADS * CALLS / 10);
    assert_int_equal(lk_usage_calls(u, "2024-05-01", 0) + lk_usage_calls(u, "2024-05-02", 0),
                     THREADS * CALLS);
    assert_int_equal(lk_usage_calls(u, "2024-05-01", 1), THREADS / 2 * CALLS / 2);
    lk_arena_free(&a);
    lk_usage_free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_and_the_totals_of_a_day),
        cmocka_unit_test(the_latest_email_is_reported),
        cmocka_unit_test(deltas_are_taken_once),
        cmocka_unit_test(deltas_given_back_are_taken_again),
        cmocka_unit_test(loaded_counts_are_totals_not_deltas),
        cmocka_unit_test(forgetting_old_days),
        cmocka_unit_test(many_users),
        cmocka_unit_test(threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
