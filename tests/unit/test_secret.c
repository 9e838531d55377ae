/*
 * test_secret — random material and hashes (core/secret.h): alphanumeric secrets,
 * UUID v4 client ids, base64url tokens, BLAKE2b-256 hex hashes with constant-time
 * verification, and Argon2id password hashes. Needs no store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "expect.h"
#include "core/secret.h"
#include "core/user.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int init(void **state)
{
    (void)state;
    return lk_secret_init() ? 0 : -1;
}

static void test_alnum_length_and_alphabet(void **state)
{
    (void)state;
    size_t lens[] = {0, 1, LK_SECRET_LEN, LK_ONETIME_PASSWORD_LEN, 200};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        char buf[256];
        memset(buf, 'X', sizeof buf);
        buf[lens[k] + 1] = '!';
        lk_secret_alnum(buf, lens[k]);
        assert_int_equal(strlen(buf), lens[k]);
        assert_true(is_alnum(buf));
        assert_int_equal(buf[lens[k] + 1], '!'); /* writes n+1 bytes, no more */
    }
}

static void test_alnum_covers_alphabet(void **state)
{
    (void)state;
    /* 62 symbols drawn 20,000 times: every one shows up (the chance one does not is ~1e-138) */
    bool seen[128] = {0};
    char buf[1001];
    for (int r = 0; r < 20; r++) {
        lk_secret_alnum(buf, 1000);
        for (size_t i = 0; i < 1000; i++)
            seen[(unsigned char)buf[i]] = true;
    }
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (const char *p = alphabet; *p; p++)
        assert_true(seen[(unsigned char)*p]);
}

static void test_alnum_distinct(void **state)
{
    (void)state;
    char a[LK_SECRET_LEN + 1], b[LK_SECRET_LEN + 1];
    lk_secret_alnum(a, LK_SECRET_LEN);
    lk_secret_alnum(b, LK_SECRET_LEN);
    assert_string_not_equal(a, b);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void test_uuid_format_and_uniqueness(void **state)
{
    (void)state;
    enum { N = 1000 };
    char (*ids)[LK_UUID_LEN + 1] = calloc(N, sizeof *ids);
    assert_non_null(ids);
    for (size_t i = 0; i < N; i++) {
        lk_secret_uuid(ids[i]);
        if (!is_uuid_v4(ids[i]))
            fail_msg("not a lower-case UUID v4: '%s'", ids[i]);
    }
    qsort(ids, N, sizeof *ids, cmp_str);
    for (size_t i = 1; i < N; i++)
        assert_string_not_equal(ids[i - 1], ids[i]);
    free(ids);
}

static void test_token_length_and_alphabet(void **state)
{
    (void)state;
    char tok[4 * 32 / 3 + 2 + 8];
    memset(tok, '!', sizeof tok);
    lk_secret_token(tok, 32);
    assert_int_equal(strlen(tok), LK_INVITE_TOKEN_LEN);
    for (const char *p = tok; *p; p++)
        assert_true(isalnum((unsigned char)*p) || *p == '-' || *p == '_');
    assert_null(strchr(tok, '='));

    char other[sizeof tok];
    lk_secret_token(other, 32);
    assert_string_not_equal(tok, other);

    char small[4 * 16 / 3 + 2];
    lk_secret_token(small, 16);
    assert_int_equal(strlen(small), 22);
}

static void test_hash_deterministic(void **state)
{
    (void)state;
    char a[LK_HASH_HEX], b[LK_HASH_HEX], c[LK_HASH_HEX];
    lk_secret_hash("correct horse", a);
    lk_secret_hash("correct horse", b);
    lk_secret_hash("correct horsf", c);
    assert_int_equal(strlen(a), 64);
    for (const char *p = a; *p; p++)
        assert_true(is_lower_hex(*p));
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    /* BLAKE2b-256 of the empty string */
    char e[LK_HASH_HEX];
    lk_secret_hash("", e);
    assert_string_equal(e, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

static void test_verify_accepts_and_rejects(void **state)
{
    (void)state;
    char secret[LK_SECRET_LEN + 1], h[LK_HASH_HEX];
    lk_secret_alnum(secret, LK_SECRET_LEN);
    lk_secret_hash(secret, h);
    assert_true(lk_secret_verify(secret, h));

    char wrong[LK_SECRET_LEN + 1];
    memcpy(wrong, secret, sizeof wrong);
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    assert_false(lk_secret_verify(wrong, h));
    assert_false(lk_secret_verify("", h));
}

static void test_verify_malformed_hex(void **state)
{
    (void)state;
    char secret[] = "abc", h[LK_HASH_HEX];
    lk_secret_hash(secret, h);

    assert_false(lk_secret_verify(secret, NULL));
    assert_false(lk_secret_verify(NULL, h));
    assert_false(lk_secret_verify(secret, ""));
    assert_false(lk_secret_verify(secret, "abc"));

    char shorter[LK_HASH_HEX];
    memcpy(shorter, h, sizeof h);
    shorter[63] = '\0';
    assert_false(lk_secret_verify(secret, shorter));

    char longer[LK_HASH_HEX + 2];
    memcpy(longer, h, 64);
    longer[64] = '0';
    longer[65] = '\0';
    assert_false(lk_secret_verify(secret, longer));

    char bad[LK_HASH_HEX];
    memcpy(bad, h, sizeof h);
    bad[10] = 'g';
    assert_false(lk_secret_verify(secret, bad));
    bad[10] = ' ';
    assert_false(lk_secret_verify(secret, bad));
    bad[10] = ':';
    assert_false(lk_secret_verify(secret, bad));
}

static void test_password_hash_verify(void **state)
{
    (void)state;
    char hash[LK_PASSWORD_HASH_MAX];
    assert_true(lk_password_hash("a long enough password", hash, sizeof hash));
    assert_non_null(strstr(hash, "$argon2id$"));
    assert_null(strstr(hash, "a long enough password"));
    assert_true(lk_password_verify("a long enough password", hash));
    assert_false(lk_password_verify("a long enough passwore", hash));
    assert_false(lk_password_verify("", hash));
    assert_false(lk_password_verify(NULL, hash));
    assert_false(lk_password_verify("a long enough password", NULL));
    assert_false(lk_password_verify("a long enough password", "not a hash"));

    char small[16];
    assert_false(lk_password_hash("a long enough password", small, sizeof small));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alnum_length_and_alphabet),
        cmocka_unit_test(test_alnum_covers_alphabet),
        cmocka_unit_test(test_alnum_distinct),
        cmocka_unit_test(test_uuid_format_and_uniqueness),
        cmocka_unit_test(test_token_length_and_alphabet),
        cmocka_unit_test(test_hash_deterministic),
        cmocka_unit_test(test_verify_accepts_and_rejects),
        cmocka_unit_test(test_verify_malformed_hex),
        cmocka_unit_test(test_password_hash_verify),
    };
    return cmocka_run_group_tests(tests, init, NULL);
}
