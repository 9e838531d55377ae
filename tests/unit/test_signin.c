/*
 * test_signin — the throttles of console sign-ins (runtime/signin.h): a pair gets
 * LK_SIGNIN_FREE failures, then doubling delays; strangers' failures never keep a
 * clean address from its attempt; a hot account slows its failing pairs; simultaneous
 * reservations cannot pass the address's limit; a success and a completed reset
 * clear; "forgot password" has an allowance of its own. Several processes count
 * together through their published rows (signin_share.h): a stand-in for limit_counts
 * here holds each process's rows and gives each the sums of the others, as the store
 * does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/secret.h"
#include "runtime/signin.h"
#include "runtime/signin_share.h"

#include <pthread.h>
#include <stdlib.h>
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

/* ---- several processes ------------------------------------------------------------------- */

/* limit_counts as the store keeps it: a process's rows (absolute counts) by scope and bucket */
typedef struct row {
    int proc;
    char scope[LK_SIGNIN_SCOPE_MAX];
    int64_t bucket, n;
} row;

typedef struct table {
    row rows[512];
    size_t n;
} table;

/* a sync of process `proc`: its changed rows written, the others' summed rows read */
static void sync_with(table *db, int proc, lk_signin *s, int64_t now)
{
    lk_arena a = LK_ARENA_INIT;
    lk_limit_counts mine = {0};
    uint64_t mark = 0;
    lk_signin_share_rows(lk_signin_shared(s), &a, &mine, &mark);
    for (size_t i = 0; i < mine.n; i++) {
        size_t k = 0;
        while (k < db->n && !(db->rows[k].proc == proc && db->rows[k].bucket == mine.recs[i].bucket &&
                              strcmp(db->rows[k].scope, mine.recs[i].scope) == 0))
            k++;
        if (k == db->n) {
            assert_true(db->n < sizeof db->rows / sizeof db->rows[0]);
            db->rows[db->n++] = (row){.proc = proc, .bucket = mine.recs[i].bucket};
            snprintf(db->rows[k].scope, sizeof db->rows[k].scope, "%s", mine.recs[i].scope);
        }
        db->rows[k].n = mine.recs[i].n;
    }
    free(mine.recs);
    lk_signin_share_published(lk_signin_shared(s), mark);
    lk_limit_count others[512];
    size_t n = 0;
    for (size_t k = 0; k < db->n; k++) {
        if (db->rows[k].proc == proc || db->rows[k].bucket <= now - LK_SIGNIN_HORIZON - LK_SIGNIN_BUCKET)
            continue;
        size_t j = 0;
        while (j < n && !(others[j].bucket == db->rows[k].bucket && strcmp(others[j].scope, db->rows[k].scope) == 0))
            j++;
        if (j == n)
            others[n++] = (lk_limit_count){.scope = db->rows[k].scope, .kind = 's', .bucket = db->rows[k].bucket};
        others[j].n += db->rows[k].n;
    }
    lk_signin_share_set_others(lk_signin_shared(s), others, n, now);
    lk_arena_free(&a);
}

static void a_pair_throttled_on_one_process_waits_on_another(void **state)
{
    (void)state;
    static table db;
    memset(&db, 0, sizeof db);
    lk_signin *a = lk_signin_new(1000, 1000, WINDOW), *b = lk_signin_new(1000, 1000, WINDOW);
    for (int i = 0; i < LK_SIGNIN_FREE; i++)
        assert_true(try_fail(a, VICTIM, "10.0.0.1", T0));
    sync_with(&db, 1, a, T0);
    /* process a is gone (its rows stay): b has never seen the pair itself */
    lk_signin_free(a);
    sync_with(&db, 2, b, T0 + 1);
    int64_t wait = 0;
    assert_false(lk_signin_reserve(b, "ada@example.com", "10.0.0.1", T0 + 1, &wait));
    assert_true(wait >= 1 && wait <= 2 + LK_SIGNIN_BUCKET);
    /* another address keeps its attempt */
    assert_true(lk_signin_reserve(b, VICTIM, "10.0.0.2", T0 + 1, &wait));
    lk_signin_done(b, VICTIM, "10.0.0.2", LK_SIGNIN_SUCCESS, T0 + 1);
    /* after the wait, one more attempt, and then a longer wait: the counts add up */
    assert_true(try_fail(b, VICTIM, "10.0.0.1", T0 + 2 + LK_SIGNIN_BUCKET));
    assert_false(lk_signin_reserve(b, VICTIM, "10.0.0.1", T0 + 3 + LK_SIGNIN_BUCKET, &wait));
    assert_int_equal(wait, 3); /* 4 s after the failure at T0 + 2 + BUCKET */
    /* an hour later the rows no longer count */
    sync_with(&db, 2, b, T0 + 2 * LK_SIGNIN_HORIZON);
    assert_true(try_fail(b, VICTIM, "10.0.0.1", T0 + 2 * LK_SIGNIN_HORIZON));
    lk_signin_free(b);
}

static void the_address_allowance_is_shared(void **state)
{
    (void)state;
    static table db;
    memset(&db, 0, sizeof db);
    lk_signin *a = lk_signin_new(1000, 4, WINDOW), *b = lk_signin_new(1000, 4, WINDOW);
    assert_true(try_fail(a, "one@example.com", "10.0.0.9", T0));
    assert_true(try_fail(a, "two@example.com", "10.0.0.9", T0));
    sync_with(&db, 1, a, T0);
    sync_with(&db, 2, b, T0);
    assert_true(try_fail(b, "three@example.com", "10.0.0.9", T0));
    assert_true(try_fail(b, "four@example.com", "10.0.0.9", T0));
    int64_t wait = 0;
    assert_false(lk_signin_reserve(b, "five@example.com", "10.0.0.9", T0 + 1, &wait));
    assert_true(wait >= 1 && wait <= WINDOW + LK_SIGNIN_BUCKET);
    sync_with(&db, 2, b, T0 + 1);
    sync_with(&db, 1, a, T0 + 1);
    assert_false(lk_signin_reserve(a, "five@example.com", "10.0.0.9", T0 + 1, &wait));
    /* forgot password keeps an allowance of its own */
    assert_true(lk_signin_forgot(a, "10.0.0.9", T0 + 1, &wait));
    /* once the window has passed, on both */
    sync_with(&db, 1, a, T0 + WINDOW + 2 * LK_SIGNIN_BUCKET);
    assert_true(lk_signin_reserve(a, "five@example.com", "10.0.0.9", T0 + WINDOW + 2 * LK_SIGNIN_BUCKET, &wait));
    lk_signin_free(a);
    lk_signin_free(b);
}

static void a_reset_or_a_success_on_one_process_clears_the_others(void **state)
{
    (void)state;
    static table db;
    memset(&db, 0, sizeof db);
    lk_signin *a = lk_signin_new(1000, 1000, WINDOW), *b = lk_signin_new(1000, 1000, WINDOW);
    for (int i = 0; i < LK_SIGNIN_FREE; i++)
        assert_true(try_fail(b, VICTIM, "10.0.0.1", T0));
    char addr[32];
    for (int i = 0; i < LK_SIGNIN_ACCOUNT_HOT - LK_SIGNIN_FREE; i++) {
        snprintf(addr, sizeof addr, "10.0.%d.1", 1 + i / LK_SIGNIN_FREE);
        assert_true(try_fail(b, VICTIM, addr, T0 + LK_SIGNIN_BUCKET * (i % 3)));
    }
    sync_with(&db, 2, b, T0 + 30);
    sync_with(&db, 1, a, T0 + 30);
    int64_t wait = 0;
    assert_false(lk_signin_reserve(a, VICTIM, "10.0.0.1", T0 + 31, &wait));
    /* the account is hot on a too: a new address gets one free failure */
    assert_true(try_fail(a, VICTIM, "10.0.9.1", T0 + 31));
    assert_false(lk_signin_reserve(a, VICTIM, "10.0.9.1", T0 + 31, &wait));
    /* a reset completed on b: a forgets, its own counts too */
    lk_signin_clear(b, VICTIM, T0 + 100);
    sync_with(&db, 2, b, T0 + 100);
    sync_with(&db, 1, a, T0 + 100);
    for (int i = 0; i < LK_SIGNIN_FREE; i++)
        assert_true(try_fail(a, VICTIM, "10.0.0.1", T0 + 111));
    assert_false(lk_signin_reserve(a, VICTIM, "10.0.0.1", T0 + 111, &wait));
    /* a success on a (after the wait) clears the pair on b */
    assert_true(lk_signin_reserve(a, VICTIM, "10.0.0.1", T0 + 200, &wait));
    lk_signin_done(a, VICTIM, "10.0.0.1", LK_SIGNIN_SUCCESS, T0 + 200);
    sync_with(&db, 1, a, T0 + 210);
    sync_with(&db, 2, b, T0 + 210);
    for (int i = 0; i < LK_SIGNIN_FREE; i++)
        assert_true(try_fail(b, VICTIM, "10.0.0.1", T0 + 211));
    lk_signin_free(a);
    lk_signin_free(b);
}

/* A failure checked on a after a reset on b, but before a has seen the reset (its delay
 * had run out): a still forgets the failures from before the reset, and counts that one */
static void a_reset_seen_late_forgets_what_came_before_it(void **state)
{
    (void)state;
    static table db;
    memset(&db, 0, sizeof db);
    lk_signin *a = lk_signin_new(1000, 1000, WINDOW), *b = lk_signin_new(1000, 1000, WINDOW);
    for (int i = 0; i < LK_SIGNIN_FREE; i++)
        assert_true(try_fail(a, VICTIM, "10.0.0.1", T0 + 1));
    sync_with(&db, 1, a, T0 + 1);
    lk_signin_clear(b, VICTIM, T0 + 25);
    sync_with(&db, 2, b, T0 + 25);
    /* a has not synced since: the pair's delay has run out, the guess is checked there */
    assert_true(try_fail(a, VICTIM, "10.0.0.1", T0 + 32));
    sync_with(&db, 1, a, T0 + 33);
    /* the five before the reset are forgotten, the one after it counts */
    for (int i = 1; i < LK_SIGNIN_FREE; i++)
        assert_true(try_fail(a, VICTIM, "10.0.0.1", T0 + 33));
    int64_t wait = 0;
    assert_false(lk_signin_reserve(a, VICTIM, "10.0.0.1", T0 + 33, &wait));
    assert_int_equal(wait, 2);
    /* and b, too, counts the failures a made after the reset */
    sync_with(&db, 1, a, T0 + 34);
    sync_with(&db, 2, b, T0 + 34);
    assert_false(lk_signin_reserve(b, VICTIM, "10.0.0.1", T0 + 34, &wait));
    lk_signin_free(a);
    lk_signin_free(b);
}

static void rows_from_a_clock_stepped_back_do_not_count(void **state)
{
    (void)state;
    static table db;
    memset(&db, 0, sizeof db);
    lk_signin *a = lk_signin_new(1000, 2, WINDOW), *b = lk_signin_new(1000, 2, WINDOW);
    assert_true(try_fail(a, "one@example.com", "10.0.0.9", T0 + 3600));
    assert_true(try_fail(a, "two@example.com", "10.0.0.9", T0 + 3600));
    sync_with(&db, 1, a, T0 + 3600);
    /* b's clock reads an hour earlier: the rows from "the future" are not counted */
    sync_with(&db, 2, b, T0);
    int64_t wait = 0;
    assert_true(lk_signin_reserve(b, "three@example.com", "10.0.0.9", T0, &wait));
    lk_signin_free(a);
    lk_signin_free(b);
}

static void with_others_alive_a_slice_between_syncs(void **state)
{
    (void)state;
    static table db;
    memset(&db, 0, sizeof db);
    lk_signin *a = lk_signin_new(1000, 40, WINDOW);
    lk_signin_share_set_peers(lk_signin_shared(a), true);
    /* the address's slice: 40 / 20 = 2 attempts, then a wait for the next sync */
    int64_t wait = 0;
    assert_true(try_fail(a, "one@example.com", "10.0.0.9", T0));
    assert_true(try_fail(a, "two@example.com", "10.0.0.9", T0));
    assert_false(lk_signin_reserve(a, "three@example.com", "10.0.0.9", T0, &wait));
    assert_int_equal(wait, 1);
    /* a pair's slice is one attempt */
    assert_true(try_fail(a, VICTIM, "10.0.0.8", T0));
    assert_false(lk_signin_reserve(a, VICTIM, "10.0.0.8", T0, &wait));
    assert_int_equal(wait, 1);
    /* a success gives its slice back at once */
    assert_true(lk_signin_reserve(a, "four@example.com", "10.0.0.7", T0, &wait));
    lk_signin_done(a, "four@example.com", "10.0.0.7", LK_SIGNIN_SUCCESS, T0);
    assert_true(lk_signin_reserve(a, "five@example.com", "10.0.0.7", T0, &wait));
    lk_signin_done(a, "five@example.com", "10.0.0.7", LK_SIGNIN_UNDECIDED, T0);
    /* published: the next slices */
    sync_with(&db, 1, a, T0);
    assert_true(try_fail(a, "three@example.com", "10.0.0.9", T0));
    assert_true(try_fail(a, VICTIM, "10.0.0.8", T0));
    /* alone (no other process, or no sync), no slices */
    lk_signin_share_set_peers(lk_signin_shared(a), false);
    for (int i = 0; i < 5; i++) {
        char email[32];
        snprintf(email, sizeof email, "more%d@example.com", i);
        assert_true(try_fail(a, email, "10.0.0.9", T0));
    }
    lk_signin_free(a);
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
        cmocka_unit_test(a_pair_throttled_on_one_process_waits_on_another),
        cmocka_unit_test(the_address_allowance_is_shared),
        cmocka_unit_test(a_reset_or_a_success_on_one_process_clears_the_others),
        cmocka_unit_test(a_reset_seen_late_forgets_what_came_before_it),
        cmocka_unit_test(rows_from_a_clock_stepped_back_do_not_count),
        cmocka_unit_test(with_others_alive_a_slice_between_syncs),
    };
    return cmocka_run_group_tests(tests, init, NULL);
}
