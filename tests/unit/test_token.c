/*
 * test_token — the access token format (core/token.h): what a token carries comes
 * back out; every changed character, a wrong key, an unknown key id, another
 * version, another length or alphabet is refused; a ring of two keys verifies the
 * tokens of both; the bounds of times and ids. Needs no store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/secret.h"
#include "core/token.h"

#include <sodium.h>
#include <string.h>

#define T0 1700000000

static int init(void **state)
{
    (void)state;
    return lk_secret_init() ? 0 : -1;
}

static lk_token_fields sample(void)
{
    lk_token_fields f = {.service_id = 123456789012LL, .epoch = 7, .issued_at = T0, .expires_at = T0 + 3600};
    lk_token_new_id(f.id);
    return f;
}

static void round_trip(void **state)
{
    (void)state;
    lk_token_key k;
    lk_token_key_generate(&k, 5, T0);
    lk_token_fields f = sample();
    f.key_id = 99; /* overwritten by the key's */
    char tok[LK_TOKEN_LEN + 1];
    assert_true(lk_token_encode(&k, &f, tok));
    assert_int_equal(f.key_id, 5);
    assert_int_equal(strlen(tok), LK_TOKEN_LEN);
    for (const char *p = tok; *p; p++) /* URL-safe, no padding */
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));

    lk_token_fields g;
    assert_true(lk_token_decode(&k, 1, tok, &g));
    assert_int_equal(g.key_id, 5);
    assert_int_equal(g.service_id, f.service_id);
    assert_int_equal(g.epoch, 7);
    assert_int_equal(g.issued_at, T0);
    assert_int_equal(g.expires_at, T0 + 3600);
    assert_memory_equal(g.id, f.id, LK_TOKEN_ID_BYTES);

    /* the same fields make the same token; another id another one */
    char again[LK_TOKEN_LEN + 1], other[LK_TOKEN_LEN + 1];
    assert_true(lk_token_encode(&k, &f, again));
    assert_string_equal(again, tok);
    lk_token_fields h = f;
    lk_token_new_id(h.id);
    assert_true(lk_token_encode(&k, &h, other));
    assert_string_not_equal(other, tok);
}

static void every_changed_character_is_refused(void **state)
{
    (void)state;
    lk_token_key k;
    lk_token_key_generate(&k, 1, T0);
    lk_token_fields f = sample();
    char tok[LK_TOKEN_LEN + 1];
    assert_true(lk_token_encode(&k, &f, tok));
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    lk_token_fields g;
    int refused = 0;
    for (size_t i = 0; i < LK_TOKEN_LEN; i++) {
        for (size_t a = 0; a < sizeof alphabet - 1; a += 7) {
            char t[LK_TOKEN_LEN + 1];
            memcpy(t, tok, sizeof t);
            if (t[i] == alphabet[a])
                continue;
            t[i] = alphabet[a];
            assert_false(lk_token_decode(&k, 1, t, &g));
            refused++;
        }
    }
    assert_true(refused > LK_TOKEN_LEN * 8);
    /* a bit flipped in the decoded bytes, re-encoded properly: the MAC still refuses */
    unsigned char b[LK_TOKEN_BYTES];
    size_t len = 0;
    assert_int_equal(sodium_base642bin(b, sizeof b, tok, LK_TOKEN_LEN, NULL, &len, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
    for (size_t i = 0; i < LK_TOKEN_BYTES; i++) {
        unsigned char c[LK_TOKEN_BYTES];
        memcpy(c, b, sizeof c);
        c[i] ^= 0x10;
        char t[LK_TOKEN_LEN + 1];
        sodium_bin2base64(t, sizeof t, c, sizeof c, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        assert_false(lk_token_decode(&k, 1, t, &g));
    }
}

static void wrong_key_unknown_id_and_two_keys(void **state)
{
    (void)state;
    lk_token_key ring[2];
    lk_token_key_generate(&ring[0], 2, T0 + 10); /* the new signing key */
    lk_token_key_generate(&ring[1], 1, T0);      /* the previous one */
    lk_token_fields f = sample();
    char old_tok[LK_TOKEN_LEN + 1], new_tok[LK_TOKEN_LEN + 1];
    assert_true(lk_token_encode(&ring[1], &f, old_tok));
    assert_true(lk_token_encode(&ring[0], &f, new_tok));
    assert_string_not_equal(old_tok, new_tok);
    lk_token_fields g;
    /* a ring of both verifies both */
    assert_true(lk_token_decode(ring, 2, old_tok, &g));
    assert_int_equal(g.key_id, 1);
    assert_true(lk_token_decode(ring, 2, new_tok, &g));
    assert_int_equal(g.key_id, 2);
    /* the old key dropped: its tokens are refused, the new ones are not */
    assert_false(lk_token_decode(ring, 1, old_tok, &g));
    assert_true(lk_token_decode(ring, 1, new_tok, &g));
    /* another key with the same id: the MAC refuses */
    lk_token_key impostor;
    lk_token_key_generate(&impostor, 2, T0);
    assert_false(lk_token_decode(&impostor, 1, new_tok, &g));
    /* no keys at all */
    assert_false(lk_token_decode(ring, 0, new_tok, &g));
}

static void malformed_tokens(void **state)
{
    (void)state;
    lk_token_key k;
    lk_token_key_generate(&k, 1, T0);
    lk_token_fields f = sample();
    char tok[LK_TOKEN_LEN + 1];
    assert_true(lk_token_encode(&k, &f, tok));
    lk_token_fields g;
    char t[LK_TOKEN_LEN + 8];
    assert_false(lk_token_decode(&k, 1, NULL, &g));
    assert_false(lk_token_decode(&k, 1, "", &g));
    snprintf(t, sizeof t, "%.*s", LK_TOKEN_LEN - 1, tok);
    assert_false(lk_token_decode(&k, 1, t, &g)); /* one short */
    snprintf(t, sizeof t, "%sA", tok);
    assert_false(lk_token_decode(&k, 1, t, &g)); /* one long */
    snprintf(t, sizeof t, "%s", tok);
    t[10] = '+';
    assert_false(lk_token_decode(&k, 1, t, &g)); /* standard base64 is not ours */
    t[10] = '=';
    assert_false(lk_token_decode(&k, 1, t, &g));
    /* a 43-character token of the previous format */
    assert_false(lk_token_decode(&k, 1, "NjV7EnWxZUJO8h4FEFFjYHKRjb7-NZCrmihMldYmCnQ", &g));
    /* another version byte, with a valid MAC over it */
    unsigned char b[LK_TOKEN_BYTES];
    size_t len = 0;
    assert_int_equal(sodium_base642bin(b, sizeof b, tok, LK_TOKEN_LEN, NULL, &len, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
    b[0] = 2;
    crypto_generichash(b + 32, 16, b, 32, k.key, sizeof k.key);
    sodium_bin2base64(t, sizeof t, b, sizeof b, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    assert_false(lk_token_decode(&k, 1, t, &g));
}

static void bounds(void **state)
{
    (void)state;
    lk_token_key k;
    lk_token_key_generate(&k, 255, T0);
    char tok[LK_TOKEN_LEN + 1];
    lk_token_fields f = sample();
    f.service_id = 0;
    assert_false(lk_token_encode(&k, &f, tok));
    f = sample();
    f.expires_at = LK_TOKEN_TIME_MAX + 1;
    assert_false(lk_token_encode(&k, &f, tok));
    f = sample();
    f.issued_at = -1;
    assert_false(lk_token_encode(&k, &f, tok));
    /* the largest values survive the trip */
    f = sample();
    f.service_id = INT64_MAX;
    f.epoch = UINT32_MAX;
    f.issued_at = LK_TOKEN_TIME_MAX;
    f.expires_at = LK_TOKEN_TIME_MAX;
    assert_true(lk_token_encode(&k, &f, tok));
    lk_token_fields g;
    assert_true(lk_token_decode(&k, 1, tok, &g));
    assert_int_equal(g.key_id, 255);
    assert_int_equal(g.service_id, INT64_MAX);
    assert_int_equal(g.epoch, UINT32_MAX);
    assert_int_equal(g.expires_at, LK_TOKEN_TIME_MAX);
    lk_token_key bad = k;
    bad.id = 256;
    assert_false(lk_token_encode(&bad, &f, tok));
}

static void token_ids(void **state)
{
    (void)state;
    unsigned char id[LK_TOKEN_ID_BYTES], back[LK_TOKEN_ID_BYTES];
    lk_token_new_id(id);
    char hex[LK_TOKEN_ID_HEX];
    lk_token_id_hex(id, hex);
    assert_int_equal(strlen(hex), 20);
    assert_true(lk_token_id_parse(hex, back));
    assert_memory_equal(id, back, sizeof id);
    assert_false(lk_token_id_parse(NULL, back));
    assert_false(lk_token_id_parse("0011", back));
    assert_false(lk_token_id_parse("00112233445566778899aa", back));
    assert_false(lk_token_id_parse("0011223344556677889g", back));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(every_changed_character_is_refused),
        cmocka_unit_test(wrong_key_unknown_id_and_two_keys),
        cmocka_unit_test(malformed_tokens),
        cmocka_unit_test(bounds),
        cmocka_unit_test(token_ids),
    };
    return cmocka_run_group_tests(tests, init, NULL);
}
