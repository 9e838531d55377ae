/*
 * test_tokens — issuing and checking tokens (runtime/tokens.h) against a catalog
 * built by hand: the same token while it is valid, a new one after expiry, 602 once
 * then 601, refusal when the service is gone, rotated or its owner unusable,
 * revocations and their purge, key rotation (the old key verifies, a dropped key
 * does not), a token from another process (another lk_tokens with the same keys),
 * threads issuing and checking while the catalog changes, and simultaneous first
 * issues of one service sharing one token. Needs no store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/secret.h"
#include "runtime/tokens.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define T0 1700000000
#define TTL 3600

static int init(void **state)
{
    (void)state;
    return lk_secret_init() ? 0 : -1;
}

typedef struct world {
    lk_catalog *cat;
    lk_tokens *tok;
    lk_keyring ring;
} world;

static void put_user(world *w, int64_t id, lk_user_status status, int64_t expires_at)
{
    int64_t role = 1;
    char email[64];
    snprintf(email, sizeof email, "u%lld@example.com", (long long)id);
    lk_cat_user_in in = {.id = id, .email = email, .status = status, .expires_at = expires_at, .roles = &role,
                         .n_roles = 1};
    lk_catalog_write_lock(w->cat);
    lk_catalog_put_user(w->cat, &in, 1);
    lk_catalog_write_unlock(w->cat);
}

static void put_service(world *w, int64_t id, int64_t user_id, int64_t epoch)
{
    char client[40];
    snprintf(client, sizeof client, "00000000-0000-4000-8000-%012lld", (long long)id);
    lk_service s = {.id = id, .user_id = user_id, .client_id = client, .secret_hash = NULL, .token_epoch = epoch};
    lk_catalog_write_lock(w->cat);
    lk_catalog_put_service(w->cat, &s, 1);
    lk_catalog_write_unlock(w->cat);
}

static void setup_world(world *w)
{
    memset(w, 0, sizeof *w);
    w->cat = lk_catalog_new();
    w->tok = lk_tokens_new(w->cat, 0);
    w->ring.n = 1;
    lk_token_key_generate(&w->ring.keys[0], 1, T0);
    lk_tokens_set_keys(w->tok, &w->ring);
    for (int64_t i = 1; i <= 3; i++) {
        put_user(w, 100 + i, LK_STATUS_ACTIVE, 0);
        put_service(w, i, 100 + i, 0);
    }
}

static void teardown_world(world *w)
{
    lk_tokens_free(w->tok);
    lk_catalog_free(w->cat);
    lk_keyring_clear(&w->ring);
}

typedef struct issued {
    bool minted;
    char token[LK_TOKEN_LEN + 1];
    lk_token_fields f;
} issued;

static issued issue(world *w, int64_t service_id, int64_t now, int64_t ttl)
{
    issued r;
    memset(&r, 0, sizeof r);
    lk_catalog_read_begin(w->cat);
    const lk_cat_service *s = lk_catalog_service(w->cat, service_id);
    assert_non_null(s);
    r.minted = lk_tokens_issue(w->tok, s, now, ttl, r.token, &r.f);
    lk_catalog_read_end(w->cat);
    return r;
}

static lk_token_state check(world *w, const char *token, int64_t now, bool report)
{
    lk_catalog_read_begin(w->cat);
    lk_token_check c;
    lk_token_state st = lk_tokens_check(w->tok, w->cat, token, now, report, &c);
    if (st == LK_TOKEN_VALID) {
        assert_non_null(c.service);
        assert_non_null(c.user);
        assert_int_equal(c.service->id, c.fields.service_id);
        assert_int_equal(c.user->id, c.service->user_id);
    }
    lk_catalog_read_end(w->cat);
    return st;
}

static void mints_then_reuses_until_one_second_is_left(void **state)
{
    (void)state;
    world w;
    setup_world(&w);
    issued a = issue(&w, 1, T0, TTL);
    assert_true(a.minted);
    assert_int_equal(strlen(a.token), LK_TOKEN_LEN);
    assert_int_equal(a.f.service_id, 1);
    assert_int_equal(a.f.issued_at, T0);
    assert_int_equal(a.f.expires_at, T0 + TTL);
    assert_int_equal(check(&w, a.token, T0, true), LK_TOKEN_VALID);

    issued b = issue(&w, 1, T0 + 1000, TTL);
    assert_false(b.minted);
    assert_string_equal(b.token, a.token);
    assert_int_equal(b.f.expires_at, T0 + TTL); /* expires_in counts down */
    issued c = issue(&w, 1, T0 + TTL - 1, TTL);  /* one second left: still reused */
    assert_false(c.minted);
    assert_string_equal(c.token, a.token);
    issued d = issue(&w, 1, T0 + TTL, TTL);      /* none left: a new one */
    assert_true(d.minted);
    assert_string_not_equal(d.token, a.token);
    assert_int_equal(d.f.expires_at, T0 + 2 * TTL);
    assert_int_equal(check(&w, d.token, T0 + TTL, true), LK_TOKEN_VALID);
    /* services have their own tokens */
    issued e = issue(&w, 2, T0, 60);
    assert_true(e.minted);
    assert_string_not_equal(e.token, a.token);
    assert_int_equal(e.f.expires_at, T0 + 60);
    /* a ttl below one second gives one second */
    issued g = issue(&w, 3, T0, 0);
    assert_int_equal(g.f.expires_at, T0 + 1);
    teardown_world(&w);
}

static void expired_answers_602_once_then_601(void **state)
{
    (void)state;
    world w;
    setup_world(&w);
    issued a = issue(&w, 1, T0, TTL);
    issued b = issue(&w, 2, T0, TTL);
    /* introspection-like checks do not take the 602 away */
    assert_int_equal(check(&w, a.token, T0 + TTL, false), LK_TOKEN_EXPIRED_FIRST);
    assert_int_equal(check(&w, a.token, T0 + TTL, false), LK_TOKEN_EXPIRED_FIRST);
    assert_int_equal(check(&w, a.token, T0 + TTL, true), LK_TOKEN_EXPIRED_FIRST);
    assert_int_equal(check(&w, a.token, T0 + TTL + 1, true), LK_TOKEN_EXPIRED);
    assert_int_equal(check(&w, a.token, T0 + TTL + 5, false), LK_TOKEN_EXPIRED);
    /* another token keeps its own first 602 */
    assert_int_equal(check(&w, b.token, T0 + TTL + 1, true), LK_TOKEN_EXPIRED_FIRST);
    /* a day after expiry it is just invalid, first use or not */
    issued c = issue(&w, 3, T0, TTL);
    assert_int_equal(check(&w, c.token, T0 + TTL + LK_TOKEN_KEEP_EXPIRED + 1, true), LK_TOKEN_EXPIRED);
    /* another process (same keys, its own memory) answers its own first 602 */
    lk_tokens *other = lk_tokens_new(w.cat, 0);
    lk_tokens_set_keys(other, &w.ring);
    lk_catalog_read_begin(w.cat);
    assert_int_equal(lk_tokens_check(other, w.cat, a.token, T0 + TTL + 2, true, NULL), LK_TOKEN_EXPIRED_FIRST);
    lk_catalog_read_end(w.cat);
    lk_tokens_free(other);
    teardown_world(&w);
}

static void malformed_and_foreign_tokens(void **state)
{
    (void)state;
    world w;
    setup_world(&w);
    issued a = issue(&w, 1, T0, TTL);
    assert_int_equal(check(&w, NULL, T0, true), LK_TOKEN_UNKNOWN);
    assert_int_equal(check(&w, "", T0, true), LK_TOKEN_UNKNOWN);
    assert_int_equal(check(&w, "not a token", T0, true), LK_TOKEN_UNKNOWN);
    char t[LK_TOKEN_LEN + 1];
    memcpy(t, a.token, sizeof t);
    t[40] = t[40] == 'A' ? 'B' : 'A';
    assert_int_equal(check(&w, t, T0, true), LK_TOKEN_UNKNOWN);
    /* a token of another instance (its own key) */
    world x;
    setup_world(&x);
    issued foreign = issue(&x, 1, T0, TTL);
    assert_int_equal(check(&w, foreign.token, T0, true), LK_TOKEN_UNKNOWN);
    teardown_world(&x);
    /* a token for a service this catalog does not hold (deleted, or never here) */
    lk_catalog_write_lock(w.cat);
    lk_catalog_remove_service(w.cat, 1);
    lk_catalog_write_unlock(w.cat);
    assert_int_equal(check(&w, a.token, T0 + 1, true), LK_TOKEN_REVOKED);
    teardown_world(&w);
}

static void the_service_state_decides(void **state)
{
    (void)state;
    world w;
    setup_world(&w);
    issued a = issue(&w, 1, T0, TTL);
    issued b = issue(&w, 2, T0, TTL);
    /* the epoch moves (a rotation): refused, and issue mints one of the new epoch */
    put_service(&w, 1, 101, 1);
    assert_int_equal(check(&w, a.token, T0 + 1, true), LK_TOKEN_REVOKED);
    issued a2 = issue(&w, 1, T0 + 1, TTL);
    assert_true(a2.minted);
    assert_int_equal(a2.f.epoch, 1);
    assert_int_equal(check(&w, a2.token, T0 + 1, true), LK_TOKEN_VALID);
    /* the owner locked: refused; active again with the same epoch: valid again
     * (the store moves the epoch on a lock, so this never happens for real) */
    put_user(&w, 102, LK_STATUS_LOCKED, 0);
    assert_int_equal(check(&w, b.token, T0 + 1, true), LK_TOKEN_REVOKED);
    put_user(&w, 102, LK_STATUS_ACTIVE, T0 + 10);
    assert_int_equal(check(&w, b.token, T0 + 9, true), LK_TOKEN_VALID);
    /* the owner's access expired */
    assert_int_equal(check(&w, b.token, T0 + 10, true), LK_TOKEN_REVOKED);
    /* the owner gone */
    lk_catalog_write_lock(w.cat);
    lk_catalog_remove_user(w.cat, 102);
    lk_catalog_write_unlock(w.cat);
    assert_int_equal(check(&w, b.token, T0 + 1, true), LK_TOKEN_REVOKED);
    /* an unchanged service put again keeps the entry, and its current token */
    issued c = issue(&w, 3, T0, TTL);
    lk_catalog_read_begin(w.cat);
    const lk_cat_service *before = lk_catalog_service(w.cat, 3);
    lk_catalog_read_end(w.cat);
    put_service(&w, 3, 103, 0);
    lk_catalog_read_begin(w.cat);
    assert_ptr_equal(lk_catalog_service(w.cat, 3), before);
    lk_catalog_read_end(w.cat);
    issued c2 = issue(&w, 3, T0 + 5, TTL);
    assert_false(c2.minted);
    assert_string_equal(c2.token, c.token);
    teardown_world(&w);
}

static void revoke_one_token(void **state)
{
    (void)state;
    world w;
    setup_world(&w);
    issued a = issue(&w, 1, T0, TTL);
    issued b = issue(&w, 2, T0, TTL);
    assert_false(lk_tokens_is_revoked(w.tok, a.f.id));
    lk_tokens_revoke(w.tok, a.f.id, a.f.expires_at);
    lk_tokens_revoke(w.tok, a.f.id, a.f.expires_at); /* twice: one entry */
    assert_int_equal(lk_tokens_revoked_count(w.tok), 1);
    assert_true(lk_tokens_is_revoked(w.tok, a.f.id));
    assert_int_equal(check(&w, a.token, T0 + 1, true), LK_TOKEN_REVOKED);
    assert_int_equal(check(&w, a.token, T0 + TTL + 1, true), LK_TOKEN_REVOKED); /* also after expiry */
    assert_int_equal(check(&w, b.token, T0 + 1, true), LK_TOKEN_VALID);
    /* the next issue does not hand the revoked one out again */
    issued a2 = issue(&w, 1, T0 + 2, TTL);
    assert_true(a2.minted);
    assert_string_not_equal(a2.token, a.token);
    assert_int_equal(check(&w, a2.token, T0 + 2, true), LK_TOKEN_VALID);
    /* purge: revocations of tokens expired before the instant go */
    lk_tokens_purge(w.tok, a.f.expires_at);
    assert_int_equal(lk_tokens_revoked_count(w.tok), 1);
    lk_tokens_purge(w.tok, a.f.expires_at + 1);
    assert_int_equal(lk_tokens_revoked_count(w.tok), 0);
    lk_catalog_collect(w.cat);
    teardown_world(&w);
}

static void key_rotation(void **state)
{
    (void)state;
    world w;
    setup_world(&w);
    issued a = issue(&w, 1, T0, TTL);
    assert_int_equal(a.f.key_id, 1);
    /* a new key signs; the old one verifies */
    lk_keyring two = {.n = 2};
    lk_token_key_generate(&two.keys[0], 2, T0 + 10);
    two.keys[1] = w.ring.keys[0];
    lk_tokens_set_keys(w.tok, &two);
    assert_int_equal(check(&w, a.token, T0 + 11, true), LK_TOKEN_VALID);
    issued again = issue(&w, 1, T0 + 11, TTL); /* the current token, still valid */
    assert_false(again.minted);
    assert_string_equal(again.token, a.token);
    issued b = issue(&w, 2, T0 + 11, TTL);
    assert_true(b.minted);
    assert_int_equal(b.f.key_id, 2);
    assert_int_equal(check(&w, b.token, T0 + 11, true), LK_TOKEN_VALID);
    /* the old key dropped: its tokens stop working, and issue mints with the new key */
    lk_keyring one = {.n = 1};
    one.keys[0] = two.keys[0];
    lk_tokens_set_keys(w.tok, &one);
    assert_int_equal(check(&w, a.token, T0 + 12, true), LK_TOKEN_UNKNOWN);
    assert_int_equal(check(&w, b.token, T0 + 12, true), LK_TOKEN_VALID);
    issued a3 = issue(&w, 1, T0 + 12, TTL);
    assert_true(a3.minted);
    assert_int_equal(a3.f.key_id, 2);
    /* another process with the same key file accepts what this one minted */
    lk_tokens *other = lk_tokens_new(w.cat, 0);
    lk_tokens_set_keys(other, &one);
    lk_catalog_read_begin(w.cat);
    assert_int_equal(lk_tokens_check(other, w.cat, a3.token, T0 + 13, true, NULL), LK_TOKEN_VALID);
    lk_catalog_read_end(w.cat);
    lk_tokens_free(other);
    lk_keyring_clear(&two);
    lk_keyring_clear(&one);
    teardown_world(&w);
}

/* ---- threads ------------------------------------------------------------------- */

#define N_THREADS 4
#define N_ROUNDS 4000

typedef struct race {
    world *w;
    int seed;
    atomic_int valid, refused;
} race;

static void *racer(void *arg)
{
    race *r = arg;
    for (int i = 0; i < N_ROUNDS; i++) {
        int64_t svc = 1 + (i + r->seed) % 3;
        int64_t now = T0 + i / 100;
        lk_catalog_read_begin(r->w->cat);
        const lk_cat_service *s = lk_catalog_service(r->w->cat, svc);
        char tok[LK_TOKEN_LEN + 1];
        lk_token_fields f;
        if (s) {
            lk_tokens_issue(r->w->tok, s, now, TTL, tok, &f);
            lk_token_state st = lk_tokens_check(r->w->tok, r->w->cat, tok, now, true, NULL);
            /* valid, or refused because a writer moved the epoch meanwhile */
            assert_true(st == LK_TOKEN_VALID || st == LK_TOKEN_REVOKED);
            atomic_fetch_add(st == LK_TOKEN_VALID ? &r->valid : &r->refused, 1);
        }
        lk_catalog_read_end(r->w->cat);
    }
    return NULL;
}

static void threads_issue_and_check_while_the_catalog_changes(void **state)
{
    (void)state;
    world w;
    setup_world(&w);
    race r[N_THREADS];
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        r[i] = (race){.w = &w, .seed = i};
        assert_int_equal(pthread_create(&th[i], NULL, racer, &r[i]), 0);
    }
    /* the writer: replaces services (epoch moves) and users, frees what is retired */
    for (int i = 0; i < 300; i++) {
        put_service(&w, 1 + i % 3, 101 + i % 3, i / 3);
        put_user(&w, 101 + (i + 1) % 3, LK_STATUS_ACTIVE, i % 2 ? 0 : T0 + 1000000);
        if (i % 10 == 0)
            lk_tokens_revoke(w.tok, (const unsigned char *)"0123456789", T0 + 10);
        lk_catalog_collect(w.cat);
    }
    int valid = 0;
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(th[i], NULL);
        valid += atomic_load(&r[i].valid);
        assert_int_equal(atomic_load(&r[i].valid) + atomic_load(&r[i].refused), N_ROUNDS);
    }
    assert_true(valid > 0);
    lk_catalog_collect(w.cat);
    lk_catalog_collect(w.cat);
    assert_int_equal(lk_catalog_pending(w.cat), 0); /* everything replaced was freed */
    teardown_world(&w);
}

/* simultaneous first requests of one service: one mints, every other hands out its token */
#define N_FRESH 300

typedef struct burst {
    world *w;
    pthread_barrier_t *go;
    int minted;
    char tokens[N_FRESH][LK_TOKEN_LEN + 1];
} burst;

static void *burster(void *arg)
{
    burst *b = arg;
    for (int i = 0; i < N_FRESH; i++) {
        pthread_barrier_wait(b->go); /* all threads ask for service 10 + i at once */
        lk_catalog_read_begin(b->w->cat);
        const lk_cat_service *s = lk_catalog_service(b->w->cat, 10 + i);
        assert_non_null(s);
        if (lk_tokens_issue(b->w->tok, s, T0, TTL, b->tokens[i], NULL))
            b->minted++;
        lk_catalog_read_end(b->w->cat);
    }
    return NULL;
}

static void simultaneous_first_issues_share_one_token(void **state)
{
    (void)state;
    world w;
    setup_world(&w);
    for (int i = 0; i < N_FRESH; i++)
        put_service(&w, 10 + i, 101, 0);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, N_THREADS);
    static burst b[N_THREADS];
    pthread_t th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        b[i] = (burst){.w = &w, .go = &go};
        assert_int_equal(pthread_create(&th[i], NULL, burster, &b[i]), 0);
    }
    int minted = 0;
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(th[i], NULL);
        minted += b[i].minted;
    }
    assert_int_equal(minted, N_FRESH); /* one per service */
    for (int k = 0; k < N_FRESH; k++)
        for (int i = 1; i < N_THREADS; i++)
            assert_string_equal(b[i].tokens[k], b[0].tokens[k]);
    pthread_barrier_destroy(&go);
    teardown_world(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mints_then_reuses_until_one_second_is_left),
        cmocka_unit_test(expired_answers_602_once_then_601),
        cmocka_unit_test(malformed_and_foreign_tokens),
        cmocka_unit_test(the_service_state_decides),
        cmocka_unit_test(revoke_one_token),
        cmocka_unit_test(key_rotation),
        cmocka_unit_test(threads_issue_and_check_while_the_catalog_changes),
        cmocka_unit_test(simultaneous_first_issues_share_one_token),
    };
    return cmocka_run_group_tests(tests, init, NULL);
}
