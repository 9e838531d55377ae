/*
 * test_signin — the throttles of console sign-ins (runtime/signin.h): a pair gets
 * LK_SIGNIN_FREE failures, then doubling delays; strangers' failures never keep a
 * clean address from its attempt; a hot account slows its failing pairs; simultaneous
 * reservations cannot pass the address's limit; a success and a completed reset
 * clear; "forgot password" has an allowance of its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/secret.h"
#include "runtime/signin.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define T0 1700000000
#define WINDOW 60
#define VICTIM "Ada@Example.com"

static int init(void **state)
{
    (void)state;
    return lk_secret_init() ? 0 : -1;
}

static bool try_fail(lk_signin *s, const char *email, const char *addr, int64_t now)
{
    int64_t wait = 0;
    if (!lk_signin_reserve(s, email, addr, now, &wait))
        return false;
    lk_signin_done(s, email, addr, LK_SIGNIN_FAILED, now);
    return true;
}

static void a_pair_gets_free_failures_then_doubling_delays(void **state)
{
    (void)state;
    lk_signin *s = lk_signin_new(1000, 1000, WINDOW);
    for (int i = 0; i < LK_SIGNIN_FREE; i++)
        assert_true(try_fail(s, VICTIM, "10.0.0.1", T0));
    int64_t wait = 0;
    assert_false(lk_signin_reserve(s, VICTIM, "10.0.0.1", T0, &wait));
    assert_int_equal(wait, 2);
    /* the email is compared without case */
    assert_false(lk_signin_reserve(s, "ada@example.COM", "10.0.0.1", T0 + 1, &wait));
    assert_int_equal(wait, 1);
    assert_true(try_fail(s, VICTIM, "10.0.0.1", T0 + 2));
    assert_false(lk_signin_reserve(s, VICTIM, "10.0.0.1", T0 + 3, &wait));
    assert_int_equal(wait, 3); /* 4 s after the failure at T0 + 2 */
    assert_true(try_fail(s, VICTIM, "10.0.0.1", T0 + 6));
    assert_false(lk_signin_reserve(s, VICTIM, "10.0.0.1", T0 + 6, &wait));
    assert_int_equal(wait, 8);
    /* the delay runs from when the check failed, not from the reservation */
    assert_true(lk_signin_reserve(s, VICTIM, "10.0.0.1", T0 + 14, &wait));
    lk_signin_done(s, VICTIM, "10.0.0.1", LK_SIGNIN_FAILED, T0 + 20);
    assert_false(lk_signin_reserve(s, VICTIM, "10.0.0.1", T0 + 30, &wait));
    assert_int_equal(wait, 6);
    /* the delay never exceeds its maximum */
    int64_t now = T0 + 36;
    for (int i = 0; i < 12; i++) {
        assert_true(try_fail(s, VICTIM, "10.0.0.1", now));
        assert_false(lk_signin_reserve(s, VICTIM, "10.0.0.1", now, &wait));
        assert_true(wait <= LK_SIGNIN_DELAY_MAX);
        now += wait;
    }
    assert_int_equal(wait, LK_SIGNIN_DELAY_MAX);
    /* an hour without a failure forgets the pair */
    assert_true(try_fail(s, VICTIM, "10.0.0.1", now + LK_SIGNIN_PAIR_WINDOW));
    /* meanwhile the person, from their own address, signs in */
    assert_true(lk_signin_reserve(s, VICTIM, "192.0.2.7", now, &wait));
    lk_signin_done(s, VICTIM, "192.0.2.7", LK_SIGNIN_SUCCESS, now);
    lk_signin_free(s);
}

static void strangers_never_keep_a_clean_address_out(void **state)
{
    (void)state;
    lk_signin *s = lk_signin_new(1000, 1000, WINDOW);
    char addr[32];
    /* 4 addresses fail 5 times each: the account is hot */
    for (int a = 0; a < LK_SIGNIN_ACCOUNT_HOT / LK_SIGNIN_FREE; a++) {
        snprintf(addr, sizeof addr, "10.1.0.%d", a);
        for (int i = 0; i < LK_SIGNIN_FREE; i++)
            assert_true(try_fail(s, VICTIM, addr, T0));
    }
    /* a new stranger gets one attempt and then waits */
    int64_t wait = 0;
    assert_true(try_fail(s, VICTIM, "10.2.0.1", T0));
    assert_false(lk_signin_reserve(s, VICTIM, "10.2.0.1", T0, &wait));
    assert_true(wait >= 1);
    /* the person, from an address that has not failed, still has an attempt; and
     * after one typo of their own, a short wait, not a lock */
    assert_true(lk_signin_reserve(s, VICTIM, "192.0.2.7", T0, &wait));
    lk_signin_done(s, VICTIM, "192.0.2.7", LK_SIGNIN_FAILED, T0);
    assert_false(lk_signin_reserve(s, VICTIM, "192.0.2.7", T0, &wait));
    assert_int_equal(wait, 2);
    assert_true(lk_signin_reserve(s, VICTIM, "192.0.2.7", T0 + 2, &wait));
    lk_signin_done(s, VICTIM, "192.0.2.7", LK_SIGNIN_SUCCESS, T0 + 2);
    /* other accounts are not slowed by this one */
    assert_true(lk_signin_reserve(s, "bob@example.com", "10.1.0.1", T0, &wait));
    lk_signin_free(s);
}

static void a_success_and_a_reset_clear(void **state)
{
    (void)state;
    lk_signin *s = lk_signin_new(1000, 1000, WINDOW);
    int64_t wait = 0;
    for (int i = 0; i < LK_SIGNIN_FREE; i++)
        assert_true(try_fail(s, VICTIM, "10.0.0.1", T0));
    assert_false(lk_signin_reserve(s, VICTIM, "10.0.0.1", T0 + 0, &wait));
    /* a completed reset: the pair starts again at once */
    lk_signin_clear(s, "ada@example.com", T0);
    for (int i = 0; i < LK_SIGNIN_FREE; i++)
        assert_true(try_fail(s, VICTIM, "10.0.0.1", T0));
    assert_false(lk_signin_reserve(s, VICTIM, "10.0.0.1", T0, &wait));
    /* after the wait, a success clears the pair */
    assert_true(lk_signin_reserve(s, VICTIM, "10.0.0.1", T0 + 2, &wait));
    lk_signin_done(s, VICTIM, "10.0.0.1", LK_SIGNIN_SUCCESS, T0 + 2);
    for (int i = 0; i < LK_SIGNIN_FREE; i++)
        assert_true(try_fail(s, VICTIM, "10.0.0.1", T0 + 2));
    /* an attempt that could not be decided gives its reservation back */
    lk_signin_clear(s, VICTIM, T0 + 3);
    for (int i = 0; i < 20; i++) {
        assert_true(lk_signin_reserve(s, VICTIM, "10.0.0.1", T0 + 3, &wait));
        lk_signin_done(s, VICTIM, "10.0.0.1", LK_SIGNIN_UNDECIDED, T0 + 3);
    }
    lk_signin_free(s);
}

static void the_address_allowance_holds_for_every_account(void **state)
{
    (void)state;
    lk_signin *s = lk_signin_new(1000, 3, WINDOW);
    int64_t wait = 0;
    assert_true(try_fail(s, "a@example.com", "10.0.0.9", T0));
    assert_true(try_fail(s, "b@example.com", "10.0.0.9", T0));
    assert_true(try_fail(s, "c@example.com", "10.0.0.9", T0 + 10));
    assert_false(lk_signin_reserve(s, "d@example.com", "10.0.0.9", T0 + 10, &wait));
    assert_int_equal(wait, WINDOW - 10);
    /* another address is not concerned; forgot password has its own allowance */
    assert_true(try_fail(s, "d@example.com", "10.0.0.10", T0 + 10));
    for (int i = 0; i < 3; i++)
        assert_true(lk_signin_forgot(s, "10.0.0.9", T0 + 10, &wait));
    assert_false(lk_signin_forgot(s, "10.0.0.9", T0 + 10, &wait));
    assert_int_equal(wait, WINDOW);
    /* successes give the address its count back */
    assert_true(lk_signin_reserve(s, "e@example.com", "10.0.0.11", T0, &wait));
    lk_signin_done(s, "e@example.com", "10.0.0.11", LK_SIGNIN_SUCCESS, T0);
    for (int i = 0; i < 3; i++)
        assert_true(try_fail(s, "f@example.com", "10.0.0.11", T0));
    lk_signin_free(s);
}

/* ---- a burst: 8 threads × 10 simultaneous reservations from one address ---- */

typedef struct burst {
    lk_signin *s;
    int thread;
    atomic_int *passed;
} burst;

static void *burst_run(void *arg)
{
    burst *b = arg;
    char email[64];
    for (int i = 0; i < 10; i++) {
        snprintf(email, sizeof email, "user%d.%d@example.com", b->thread, i);
        int64_t wait = 0;
        if (lk_signin_reserve(b->s, email, "10.9.9.9", T0, &wait))
            atomic_fetch_add(b->passed, 1); /* not done yet: the checks are still running */
    }
    return NULL;
}

static void a_burst_cannot_pass_the_limit(void **state)
{
    (void)state;
    lk_signin *s = lk_signin_new(1000, 20, WINDOW);
    atomic_int passed = 0;
    pthread_t th[8];
    burst b[8];
    for (int i = 0; i < 8; i++) {
        b[i] = (burst){.s = s, .thread = i, .passed = &passed};
        pthread_create(&th[i], NULL, burst_run, &b[i]);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&passed), 20);
    lk_signin_free(s);
}

static void ipv6_addresses_count_by_their_64(void **state)
{
    (void)state;
    unsigned char a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8};
    unsigned char b[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 9, 9, 9, 9, 9, 9, 9, 9};
    char ka[64], kb[64], k4[64];
    lk_signin_address_key("2001:db8:1:2:102:304:506:708", 6, a, ka);
    lk_signin_address_key("2001:db8:1:2:909:909:909:909", 6, b, kb);
    assert_string_equal(ka, kb);
    assert_string_equal(ka, "2001:0db8:0001:0002::/64");
    lk_signin_address_key("192.0.2.1", 4, a, k4);
    assert_string_equal(k4, "192.0.2.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_pair_gets_free_failures_then_doubling_delays),
        cmocka_unit_test(strangers_never_keep_a_clean_address_out),
        cmocka_unit_test(a_success_and_a_reset_clear),
        cmocka_unit_test(the_address_allowance_holds_for_every_account),
        cmocka_unit_test(a_burst_cannot_pass_the_limit),
        cmocka_unit_test(ipv6_addresses_count_by_their_64),
    };
    return cmocka_run_group_tests(tests, init, NULL);
}
