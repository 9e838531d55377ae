/*
 * test_tokens — the in-memory token table (runtime/tokens.h): minting and reuse,
 * 602 once then 601, revocation of one token and of a service, loading stored
 * tokens, purging, malformed tokens, and a multi-threaded run whose counts must
 * add up. Needs no store.
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
#include <string.h>

#define T0 1700000000
#define TTL 3600

static int init(void **state)
{
    (void)state;
    return lk_secret_init() ? 0 : -1;
}

static bool is_base64url(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return false;
    return true;
}

typedef struct issued {
    bool minted;
    char token[LK_TOKEN_LEN + 1];
    lk_token_info info;
    lk_token_rec rec;            /* rec.token_hash is cleared: it pointed into the callee's copy */
    bool rec_points_to_hash;     /* ... at the rec_hash buffer passed in */
    char hash[LK_HASH_HEX];
} issued;

static issued issue(lk_tokens *t, int64_t service_id, int64_t now, int64_t ttl)
{
    issued r;
    memset(&r, 0, sizeof r);
    r.minted = lk_tokens_issue(t, service_id, now, ttl, r.token, &r.info, &r.rec, r.hash);
    r.rec_points_to_hash = r.rec.token_hash == r.hash;
    r.rec.token_hash = NULL;
    return r;
}

static void mints_then_reuses_until_one_second_is_left(void **state)
{
    (void)state;
    lk_tokens *t = lk_tokens_new();
    issued a = issue(t, 7, T0, TTL);
    assert_true(a.minted);
    assert_int_equal(strlen(a.token), LK_TOKEN_LEN);
    assert_true(is_base64url(a.token));
    assert_int_equal(a.info.service_id, 7);
    assert_int_equal(a.info.issued_at, T0);
    assert_int_equal(a.info.expires_at, T0 + TTL);
    /* what to persist: the hash of the token, never the token */
    char h[LK_HASH_HEX];
    lk_secret_hash(a.token, h);
    assert_true(a.rec_points_to_hash);
    assert_string_equal(a.hash, h);
    assert_int_equal(a.rec.service_id, 7);
    assert_int_equal(a.rec.issued_at, T0);
    assert_int_equal(a.rec.expires_at, T0 + TTL);
    assert_int_equal(a.rec.revoked_at, 0);
    assert_int_equal(lk_tokens_count(t), 1);

    issued b = issue(t, 7, T0 + 1000, TTL);
    assert_false(b.minted);
    assert_string_equal(b.token, a.token);
    assert_int_equal(b.info.issued_at, T0);
    assert_int_equal(b.info.expires_at, T0 + TTL);   /* expires_in counts down */

    issued c = issue(t, 7, T0 + TTL - 1, TTL);         /* one second left: still reused */
    assert_false(c.minted);
    assert_string_equal(c.token, a.token);

    issued d = issue(t, 7, T0 + TTL, TTL);             /* none left: a new one */
    assert_true(d.minted);
    assert_string_not_equal(d.token, a.token);
    assert_int_equal(d.info.issued_at, T0 + TTL);
    assert_int_equal(d.info.expires_at, T0 + 2 * TTL);
    assert_int_equal(lk_tokens_count(t), 2);

    /* the old one is still known, and expired */
    assert_int_equal(lk_tokens_check(t, a.token, T0 + TTL, NULL), LK_TOKEN_EXPIRED_FIRST);
    assert_int_equal(lk_tokens_check(t, d.token, T0 + TTL, NULL), LK_TOKEN_VALID);
    lk_tokens_free(t);
}

static void services_have_their_own_tokens(void **state)
{
    (void)state;
    lk_tokens *t = lk_tokens_new();
    issued a = issue(t, 1, T0, TTL);
    issued b = issue(t, 2, T0 + 5, 60);
    assert_true(a.minted);
    assert_true(b.minted);
    assert_string_not_equal(a.token, b.token);
    lk_token_info info;
    assert_int_equal(lk_tokens_check(t, a.token, T0 + 10, &info), LK_TOKEN_VALID);
    assert_int_equal(info.service_id, 1);
    assert_int_equal(info.expires_at, T0 + TTL);
    assert_int_equal(lk_tokens_check(t, b.token, T0 + 10, &info), LK_TOKEN_VALID);
    assert_int_equal(info.service_id, 2);
    assert_int_equal(info.issued_at, T0 + 5);
    assert_int_equal(info.expires_at, T0 + 65);
    /* b's expiry leaves a alone */
    assert_int_equal(lk_tokens_check(t, b.token, T0 + 65, NULL), LK_TOKEN_EXPIRED_FIRST);
    assert_int_equal(lk_tokens_check(t, a.token, T0 + 65, NULL), LK_TOKEN_VALID);
    issued a2 = issue(t, 1, T0 + 65, TTL);
    assert_false(a2.minted);
    assert_string_equal(a2.token, a.token);
    lk_tokens_free(t);
}

static void expired_answers_602_once_then_601(void **state)
{
    (void)state;
    lk_tokens *t = lk_tokens_new();
    issued a = issue(t, 3, T0, 10);
    lk_token_info info = {0};
    assert_int_equal(lk_tokens_check(t, a.token, T0 + 9, &info), LK_TOKEN_VALID);
    assert_int_equal(lk_tokens_check(t, a.token, T0 + 10, &info), LK_TOKEN_EXPIRED_FIRST);
    assert_int_equal(info.service_id, 3);
    assert_int_equal(info.expires_at, T0 + 10);
    assert_int_equal(lk_tokens_check(t, a.token, T0 + 11, &info), LK_TOKEN_EXPIRED);
    assert_int_equal(lk_tokens_check(t, a.token, T0 + 99999, &info), LK_TOKEN_EXPIRED);
    /* a zero lifetime is treated as one second, not as a token born expired */
    issued z = issue(t, 4, T0, 0);
    assert_true(z.minted);
    assert_int_equal(z.info.expires_at, T0 + 1);
    assert_int_equal(lk_tokens_check(t, z.token, T0, NULL), LK_TOKEN_VALID);
    lk_tokens_free(t);
}

static void malformed_and_unknown_tokens(void **state)
{
    (void)state;
    lk_tokens *t = lk_tokens_new();
    issued a = issue(t, 1, T0, TTL);
    lk_token_info info = {.service_id = 99};
    assert_int_equal(lk_tokens_check(t, NULL, T0, &info), LK_TOKEN_UNKNOWN);
    assert_int_equal(lk_tokens_check(t, "", T0, &info), LK_TOKEN_UNKNOWN);
    assert_int_equal(info.service_id, 99);                 /* untouched when unknown */

    char s[LK_TOKEN_LEN + 8];
    strcpy(s, a.token);
    s[LK_TOKEN_LEN - 1] = '\0';                            /* 42 characters */
    assert_int_equal(lk_tokens_check(t, s, T0, NULL), LK_TOKEN_UNKNOWN);
    strcpy(s, a.token);
    strcat(s, "A");                                        /* 44 characters */
    assert_int_equal(lk_tokens_check(t, s, T0, NULL), LK_TOKEN_UNKNOWN);
    const char bad[] = {'+', '/', '=', '.', ' ', '%', '\n', (char)0xc3};
    for (size_t i = 0; i < sizeof bad; i++) {
        strcpy(s, a.token);
        s[5] = bad[i];
        assert_int_equal(lk_tokens_check(t, s, T0, NULL), LK_TOKEN_UNKNOWN);
    }
    /* well-formed but never issued */
    char other[LK_TOKEN_LEN + 1];
    lk_secret_token(other, 32);
    assert_int_equal(lk_tokens_check(t, other, T0, NULL), LK_TOKEN_UNKNOWN);
    /* the real one, for contrast */
    assert_int_equal(lk_tokens_check(t, a.token, T0, NULL), LK_TOKEN_VALID);
    char hash[LK_HASH_HEX];
    assert_false(lk_tokens_revoke(t, other, T0, hash));
    assert_false(lk_tokens_revoke(t, NULL, T0, hash));
    assert_false(lk_tokens_revoke(t, "short", T0, hash));
    lk_tokens_free(t);
}

static void revoke_one_token(void **state)
{
    (void)state;
    lk_tokens *t = lk_tokens_new();
    issued a = issue(t, 5, T0, TTL);
    char hash[LK_HASH_HEX] = "";
    assert_true(lk_tokens_revoke(t, a.token, T0 + 1, hash));
    assert_string_equal(hash, a.hash);
    assert_false(lk_tokens_revoke(t, a.token, T0 + 2, hash)); /* already revoked */
    lk_token_info info;
    assert_int_equal(lk_tokens_check(t, a.token, T0 + 2, &info), LK_TOKEN_REVOKED);
    assert_int_equal(info.service_id, 5);
    /* revoked stays revoked after expiry: no 602 for it */
    assert_int_equal(lk_tokens_check(t, a.token, T0 + TTL + 1, NULL), LK_TOKEN_REVOKED);

    /* the service's next request gets a new token, not the revoked one */
    issued b = issue(t, 5, T0 + 3, TTL);
    assert_true(b.minted);
    assert_string_not_equal(b.token, a.token);
    assert_int_equal(lk_tokens_check(t, b.token, T0 + 3, NULL), LK_TOKEN_VALID);
    issued c = issue(t, 5, T0 + 4, TTL);
    assert_false(c.minted);
    assert_string_equal(c.token, b.token);

    /* revoking an expired (not revoked) token still works (RFC 7009) */
    issued d = issue(t, 6, T0, 10);
    assert_true(lk_tokens_revoke(t, d.token, T0 + 100, hash));
    assert_int_equal(lk_tokens_check(t, d.token, T0 + 100, NULL), LK_TOKEN_REVOKED);
    lk_tokens_free(t);
}

static void revoke_a_service(void **state)
{
    (void)state;
    lk_tokens *t = lk_tokens_new();
    issued a1 = issue(t, 10, T0, 10);
    issued a2 = issue(t, 10, T0 + 10, TTL);                /* a1 expired: a second token */
    issued b = issue(t, 11, T0, TTL);
    assert_true(a2.minted);
    assert_int_equal(lk_tokens_revoke_service(t, 10, T0 + 20), 2);
    assert_int_equal(lk_tokens_check(t, a1.token, T0 + 20, NULL), LK_TOKEN_REVOKED);
    assert_int_equal(lk_tokens_check(t, a2.token, T0 + 20, NULL), LK_TOKEN_REVOKED);
    assert_int_equal(lk_tokens_check(t, b.token, T0 + 20, NULL), LK_TOKEN_VALID);
    assert_int_equal(lk_tokens_revoke_service(t, 10, T0 + 21), 0);
    assert_int_equal(lk_tokens_revoke_service(t, 12345, T0 + 21), 0);

    /* the next issue mints anew */
    issued a3 = issue(t, 10, T0 + 30, TTL);
    assert_true(a3.minted);
    assert_int_equal(lk_tokens_check(t, a3.token, T0 + 30, NULL), LK_TOKEN_VALID);
    assert_int_equal(lk_tokens_revoke_service(t, 10, T0 + 40), 1);
    assert_int_equal(lk_tokens_count(t), 4);               /* revoked entries are remembered */
    /* a single token already revoked is not counted again */
    char hash[LK_HASH_HEX];
    assert_true(lk_tokens_revoke(t, b.token, T0, hash));
    assert_int_equal(lk_tokens_revoke_service(t, 11, T0), 0);
    lk_tokens_free(t);
}

static void load_stored_tokens(void **state)
{
    (void)state;
    enum { N = 4 };
    char plain[N][LK_TOKEN_LEN + 1];
    char hashes[N][LK_HASH_HEX];
    for (int i = 0; i < N; i++) {
        lk_secret_token(plain[i], 32);
        lk_secret_hash(plain[i], hashes[i]);
    }
    lk_token_rec recs[] = {
        {.token_hash = hashes[0], .service_id = 20, .issued_at = T0, .expires_at = T0 + TTL},
        {.token_hash = hashes[1], .service_id = 20, .issued_at = T0 - 100, .expires_at = T0 - 10},
        {.token_hash = hashes[2], .service_id = 21, .issued_at = T0, .expires_at = T0 + TTL,
         .revoked_at = T0 + 5},
        {.token_hash = "not-hex", .service_id = 22, .issued_at = T0, .expires_at = T0 + TTL},
        {.token_hash = NULL, .service_id = 22, .issued_at = T0, .expires_at = T0 + TTL},
        {.token_hash = hashes[0], .service_id = 20, .issued_at = T0, .expires_at = T0 + TTL}, /* again */
    };
    /* upper-case hex is not what lk_secret_hash writes: nothing could match it */
    char upper[LK_HASH_HEX];
    strcpy(upper, hashes[3]);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    lk_token_rec up = {.token_hash = upper, .service_id = 23, .issued_at = T0, .expires_at = T0 + TTL};

    lk_tokens *t = lk_tokens_new();
    lk_tokens_load(t, recs, sizeof recs / sizeof recs[0]);
    lk_tokens_load(t, &up, 1);
    assert_int_equal(lk_tokens_count(t), 3);

    lk_token_info info;
    assert_int_equal(lk_tokens_check(t, plain[0], T0 + 1, &info), LK_TOKEN_VALID);
    assert_int_equal(info.service_id, 20);
    assert_int_equal(info.expires_at, T0 + TTL);
    assert_int_equal(lk_tokens_check(t, plain[1], T0 + 1, NULL), LK_TOKEN_EXPIRED_FIRST);
    assert_int_equal(lk_tokens_check(t, plain[1], T0 + 1, NULL), LK_TOKEN_EXPIRED);
    assert_int_equal(lk_tokens_check(t, plain[2], T0 + 1, NULL), LK_TOKEN_REVOKED);
    assert_int_equal(lk_tokens_check(t, plain[3], T0 + 1, NULL), LK_TOKEN_UNKNOWN);

    /* no plain text after a restart: the service's next request mints a new one */
    issued a = issue(t, 20, T0 + 2, TTL);
    assert_true(a.minted);
    assert_string_not_equal(a.token, plain[0]);
    assert_int_equal(lk_tokens_check(t, plain[0], T0 + 2, NULL), LK_TOKEN_VALID);

    /* loaded tokens belong to their service: revoke_service reaches them */
    assert_int_equal(lk_tokens_revoke_service(t, 20, T0 + 3), 3);
    assert_int_equal(lk_tokens_check(t, plain[0], T0 + 3, NULL), LK_TOKEN_REVOKED);

    /* loading a revocation over a known token applies it, never the reverse */
    lk_token_rec again = recs[2];
    again.revoked_at = 0;
    lk_tokens_load(t, &again, 1);
    assert_int_equal(lk_tokens_check(t, plain[2], T0 + 1, NULL), LK_TOKEN_REVOKED);
    lk_tokens_free(t);
}

static void purge_forgets_expired_tokens(void **state)
{
    (void)state;
    lk_tokens *t = lk_tokens_new();
    issued a = issue(t, 30, T0, 10);      /* expires T0+10 */
    issued b = issue(t, 31, T0, 100);     /* expires T0+100 */
    issued c = issue(t, 32, T0, 10);      /* expires T0+10, revoked */
    issued d = issue(t, 30, T0 + 10, 50); /* service 30's second token, expires T0+60 */
    char hash[LK_HASH_HEX];
    assert_true(lk_tokens_revoke(t, c.token, T0, hash));
    assert_int_equal(lk_tokens_count(t), 4);

    assert_int_equal(lk_tokens_purge(t, T0 + 10), 0);      /* expired *before* T0+10 only */
    assert_int_equal(lk_tokens_purge(t, T0 + 11), 2);
    assert_int_equal(lk_tokens_count(t), 2);
    assert_int_equal(lk_tokens_check(t, a.token, T0 + 11, NULL), LK_TOKEN_UNKNOWN);
    assert_int_equal(lk_tokens_check(t, c.token, T0 + 11, NULL), LK_TOKEN_UNKNOWN);
    assert_int_equal(lk_tokens_check(t, b.token, T0 + 11, NULL), LK_TOKEN_VALID);
    assert_int_equal(lk_tokens_check(t, d.token, T0 + 11, NULL), LK_TOKEN_VALID);
    issued d2 = issue(t, 30, T0 + 12, 50);
    assert_false(d2.minted);                               /* the current token survived */
    assert_string_equal(d2.token, d.token);

    /* purging the current token: the next issue mints */
    assert_int_equal(lk_tokens_purge(t, T0 + 1000), 2);
    assert_int_equal(lk_tokens_count(t), 0);
    assert_int_equal(lk_tokens_check(t, d.token, T0 + 1000, NULL), LK_TOKEN_UNKNOWN);
    issued e = issue(t, 30, T0 + 1000, TTL);
    assert_true(e.minted);
    assert_int_equal(lk_tokens_count(t), 1);
    assert_int_equal(lk_tokens_revoke_service(t, 31, T0), 0); /* forgotten service */
    assert_int_equal(lk_tokens_purge(t, INT64_MAX), 1);
    lk_tokens_free(t);
}

static void many_services(void **state)
{
    (void)state;
    enum { N = 5000 };
    lk_tokens *t = lk_tokens_new();
    static char tokens[N][LK_TOKEN_LEN + 1];
    for (int i = 0; i < N; i++) {
        issued a = issue(t, i + 1, T0, TTL);
        assert_true(a.minted);
        strcpy(tokens[i], a.token);
    }
    assert_int_equal(lk_tokens_count(t), N);
    for (int i = 0; i < N; i++) {
        lk_token_info info;
        assert_int_equal(lk_tokens_check(t, tokens[i], T0 + 1, &info), LK_TOKEN_VALID);
        assert_int_equal(info.service_id, i + 1);
        issued a = issue(t, i + 1, T0 + 2, TTL);
        assert_false(a.minted);
        assert_string_equal(a.token, tokens[i]);
    }
    lk_tokens_free(t);
}

/* several tokens per service, then a purge that empties half the services and keeps
 * one token of the others: lookups stay right after many removals */
static void many_services_partial_purge(void **state)
{
    (void)state;
    enum { N = 3000, K = 3 };
    lk_tokens *t = lk_tokens_new();
    static char tokens[N][K][LK_TOKEN_LEN + 1];
    for (int k = 0; k < K; k++) {
        for (int i = 0; i < N; i++) {
            int64_t ttl = k == K - 1 && i % 2 ? 1000 : 10;
            issued a = issue(t, i + 1, T0 + 10 * k, ttl);
            assert_true(a.minted);
            strcpy(tokens[i][k], a.token);
        }
    }
    assert_int_equal(lk_tokens_count(t), N * K);
    assert_int_equal(lk_tokens_revoke_service(t, 2, T0 + 20), K); /* expired ones too */
    assert_int_equal(lk_tokens_purge(t, T0 + 31), N * K - N / 2);
    assert_int_equal(lk_tokens_count(t), N / 2);
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < K; k++) {
            lk_token_info info;
            lk_token_state st = lk_tokens_peek(t, tokens[i][k], T0 + 31, &info);
            if (k == K - 1 && i % 2) {
                assert_int_equal(st, i == 1 ? LK_TOKEN_REVOKED : LK_TOKEN_VALID);
                assert_int_equal(info.service_id, i + 1);
            } else {
                assert_int_equal(st, LK_TOKEN_UNKNOWN);
            }
        }
        /* the kept current token is reused; an emptied service mints anew */
        issued a = issue(t, i + 1, T0 + 32, TTL);
        assert_int_equal(a.minted, !(i % 2) || i == 1);
    }
    assert_int_equal(lk_tokens_purge(t, INT64_MAX), N + 1);
    assert_int_equal(lk_tokens_count(t), 0);
    lk_tokens_free(t);
}

/* ---- threads ---------------------------------------------------------------------- */

#define THREADS 4
#define OPS 20000
#define SERVICES 64

typedef struct worker {
    lk_tokens *t;
    uint64_t seed;
    bool with_purge;
    size_t minted, purged, bad;
} worker;

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static _Atomic int64_t clock_now;

static void *work(void *arg)
{
    worker *w = arg;
    char last[LK_TOKEN_LEN + 1] = "";
    for (int i = 0; i < OPS; i++) {
        uint64_t r = next_rand(&w->seed);
        int64_t service = (int64_t)(r % SERVICES) + 1;
        /* time runs forward, shared by all threads, when purging is part of the run */
        int64_t now = w->with_purge ? atomic_fetch_add(&clock_now, 1) / 50 : T0;
        int64_t ttl = w->with_purge ? 5 : TTL;
        unsigned op = (unsigned)((r >> 32) % 100);
        if (op < 40) {
            issued a = issue(w->t, service, now, ttl);
            if (a.minted)
                w->minted++;
            strcpy(last, a.token);
            if (strlen(a.token) != LK_TOKEN_LEN)
                w->bad++;
        } else if (op < 85) {
            if (!last[0])
                continue;
            lk_token_info info;
            lk_token_state st = lk_tokens_check(w->t, last, now, &info);
            /* without purging or expiry, a token handed out is valid or revoked */
            if (!w->with_purge && st != LK_TOKEN_VALID && st != LK_TOKEN_REVOKED)
                w->bad++;
            if (st != LK_TOKEN_UNKNOWN && (info.service_id < 1 || info.service_id > SERVICES))
                w->bad++;
        } else if (op < 92) {
            char hash[LK_HASH_HEX];
            if (last[0])
                lk_tokens_revoke(w->t, last, now, hash);
        } else if (op < 95) {
            lk_tokens_revoke_service(w->t, service, now);
        } else if (op < 98) {
            char junk[LK_TOKEN_LEN + 1];
            lk_secret_token(junk, 32);
            if (lk_tokens_check(w->t, junk, now, NULL) != LK_TOKEN_UNKNOWN)
                w->bad++;
        } else if (w->with_purge) {
            w->purged += lk_tokens_purge(w->t, now - 3);
        } else {
            (void)lk_tokens_count(w->t);
        }
    }
    return NULL;
}

static void run_threads(bool with_purge)
{
    lk_tokens *t = lk_tokens_new();
    atomic_store(&clock_now, (int64_t)T0 * 50);
    worker w[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.t = t, .seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1), .with_purge = with_purge};
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    size_t minted = 0, purged = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].bad, 0);
        minted += w[i].minted;
        purged += w[i].purged;
    }
    assert_true(minted >= SERVICES / 2);
    /* every token minted is either still in the table or was purged, once */
    assert_int_equal(lk_tokens_count(t) + purged, minted);
    size_t rest = lk_tokens_purge(t, INT64_MAX);
    assert_int_equal(rest + purged, minted);
    assert_int_equal(lk_tokens_count(t), 0);
    lk_tokens_free(t);
}

static void threads_issue_check_revoke(void **state)
{
    (void)state;
    run_threads(false);
}

static void threads_with_expiry_and_purge(void **state)
{
    (void)state;
    run_threads(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mints_then_reuses_until_one_second_is_left),
        cmocka_unit_test(services_have_their_own_tokens),
        cmocka_unit_test(expired_answers_602_once_then_601),
        cmocka_unit_test(malformed_and_unknown_tokens),
        cmocka_unit_test(revoke_one_token),
        cmocka_unit_test(revoke_a_service),
        cmocka_unit_test(load_stored_tokens),
        cmocka_unit_test(purge_forgets_expired_tokens),
        cmocka_unit_test(many_services),
        cmocka_unit_test(many_services_partial_purge),
        cmocka_unit_test(threads_issue_check_revoke),
        cmocka_unit_test(threads_with_expiry_and_purge),
    };
    return cmocka_run_group_tests(tests, init, NULL);
}
