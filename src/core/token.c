/*
 * token — encoding, decoding and MAC of access tokens (layout in token.h).
 *
 * The encoding is canonical: 48 bytes are exactly 64 base64url characters with no
 * bits left over, so one token has one spelling and a changed character always
 * changes the decoded bytes (and so fails the MAC).
 */
#include "core/token.h"

#include <sodium.h>
#include <string.h>

#define PAYLOAD_BYTES (LK_TOKEN_BYTES - LK_TOKEN_MAC_BYTES)

static void put_be(unsigned char *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static void mac(const lk_token_key *key, const unsigned char payload[PAYLOAD_BYTES],
                unsigned char out[LK_TOKEN_MAC_BYTES])
{
    crypto_generichash(out, LK_TOKEN_MAC_BYTES, payload, PAYLOAD_BYTES, key->key, LK_TOKEN_KEY_BYTES);
}

bool lk_token_encode(const lk_token_key *key, lk_token_fields *f, char out[LK_TOKEN_LEN + 1])
{
    if (f->service_id <= 0 || f->issued_at < 0 || f->issued_at > LK_TOKEN_TIME_MAX || f->expires_at < 0 ||
        f->expires_at > LK_TOKEN_TIME_MAX || key->id < 0 || key->id > 255)
        return false;
    f->key_id = key->id;
    unsigned char b[LK_TOKEN_BYTES];
    b[0] = LK_TOKEN_VERSION;
    b[1] = (unsigned char)key->id;
    put_be(b + 2, (uint64_t)f->service_id, 8);
    put_be(b + 10, f->epoch, 4);
    put_be(b + 14, (uint64_t)f->issued_at, 4);
    put_be(b + 18, (uint64_t)f->expires_at, 4);
    memcpy(b + 22, f->id, LK_TOKEN_ID_BYTES);
    mac(key, b, b + PAYLOAD_BYTES);
    sodium_bin2base64(out, LK_TOKEN_LEN + 1, b, sizeof b, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return true;
}

static bool base64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool lk_token_decode(const lk_token_key *keys, size_t n, const char *token, lk_token_fields *f)
{
    if (!token)
        return false;
    for (size_t i = 0; i < LK_TOKEN_LEN; i++)
        if (!base64url_char(token[i]))
            return false; /* also stops at a NUL before LK_TOKEN_LEN */
    if (token[LK_TOKEN_LEN] != '\0')
        return false;
    unsigned char b[LK_TOKEN_BYTES];
    size_t len = 0;
    if (sodium_base642bin(b, sizeof b, token, LK_TOKEN_LEN, NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        len != sizeof b || b[0] != LK_TOKEN_VERSION)
        return false;
    const lk_token_key *key = NULL;
    for (size_t i = 0; i < n && !key; i++)
        if (keys[i].id == b[1])
            key = &keys[i];
    if (!key)
        return false;
    unsigned char want[LK_TOKEN_MAC_BYTES];
    mac(key, b, want);
    if (sodium_memcmp(want, b + PAYLOAD_BYTES, sizeof want) != 0)
        return false;
    int64_t service_id = (int64_t)get_be(b + 2, 8);
    if (service_id <= 0)
        return false; /* never minted: not ours whatever the MAC says */
    *f = (lk_token_fields){
        .key_id = b[1],
        .service_id = service_id,
        .epoch = (uint32_t)get_be(b + 10, 4),
        .issued_at = (int64_t)get_be(b + 14, 4),
        .expires_at = (int64_t)get_be(b + 18, 4),
    };
    memcpy(f->id, b + 22, LK_TOKEN_ID_BYTES);
    return true;
}

void lk_token_new_id(unsigned char id[LK_TOKEN_ID_BYTES])
{
    randombytes_buf(id, LK_TOKEN_ID_BYTES);
}

void lk_token_id_hex(const unsigned char id[LK_TOKEN_ID_BYTES], char out[LK_TOKEN_ID_HEX])
{
    sodium_bin2hex(out, LK_TOKEN_ID_HEX, id, LK_TOKEN_ID_BYTES);
}

bool lk_token_id_parse(const char *hex, unsigned char id[LK_TOKEN_ID_BYTES])
{
    size_t len = 0;
    return hex && strlen(hex) == LK_TOKEN_ID_HEX - 1 &&
           sodium_hex2bin(id, LK_TOKEN_ID_BYTES, hex, LK_TOKEN_ID_HEX - 1, NULL, &len, NULL) == 0 &&
           len == LK_TOKEN_ID_BYTES;
}

void lk_token_key_generate(lk_token_key *k, int id, int64_t created_at)
{
    k->id = id;
    k->created_at = created_at;
    crypto_generichash_keygen(k->key);
}
