/*
 * secret — every random value and every hash latchkey keeps comes from here, so
 * that the choice of primitive is made once: libsodium's CSPRNG, BLAKE2b-256 for
 * machine-generated secrets (>= 190 bits of entropy need no slow KDF), Argon2id for
 * passwords, sodium_memcmp for comparisons.
 */
#include "core/secret.h"

#include <sodium.h>
#include <string.h>

bool lk_secret_init(void)
{
    return sodium_init() >= 0;
}

void lk_secret_alnum(char *out, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
    out[n] = '\0';
}

void lk_secret_uuid(char out[LK_UUID_LEN + 1])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0F];
    }
    out[o] = '\0';
}

void lk_secret_token(char *out, size_t nbytes)
{
    unsigned char buf[64];
    if (nbytes > sizeof buf)
        nbytes = sizeof buf;
    randombytes_buf(buf, nbytes);
    sodium_bin2base64(out, sodium_base64_ENCODED_LEN(nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                      buf, nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(buf, sizeof buf);
}

static void hash_bin(const char *s, unsigned char out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)s, strlen(s), NULL, 0);
}

void lk_secret_hash(const char *s, char out[LK_HASH_HEX])
{
    unsigned char h[32];
    hash_bin(s, h);
    sodium_bin2hex(out, LK_HASH_HEX, h, sizeof h);
}

bool lk_secret_verify(const char *s, const char *hex)
{
    if (!s || !hex || strlen(hex) != 64)
        return false;
    unsigned char want[32], got[32];
    size_t len = 0;
    if (sodium_hex2bin(want, sizeof want, hex, 64, NULL, &len, NULL) != 0 || len != 32)
        return false;
    hash_bin(s, got);
    return sodium_memcmp(want, got, sizeof got) == 0;
}

void lk_secret_hash_raw(const char *s, unsigned char out[LK_HASH_BYTES])
{
    hash_bin(s, out);
}

bool lk_secret_hex_decode(const char *hex, unsigned char out[LK_HASH_BYTES])
{
    size_t len = 0;
    if (!hex || strlen(hex) != 2 * LK_HASH_BYTES)
        return false;
    return sodium_hex2bin(out, LK_HASH_BYTES, hex, 2 * LK_HASH_BYTES, NULL, &len, NULL) == 0 &&
           len == LK_HASH_BYTES;
}

void lk_secret_hex_encode(const unsigned char raw[LK_HASH_BYTES], char out[LK_HASH_HEX])
{
    sodium_bin2hex(out, LK_HASH_HEX, raw, LK_HASH_BYTES);
}

bool lk_secret_hash_equal(const unsigned char a[LK_HASH_BYTES], const unsigned char b[LK_HASH_BYTES])
{
    return sodium_memcmp(a, b, LK_HASH_BYTES) == 0;
}

bool lk_password_hash(const char *password, char *out, size_t out_len)
{
    if (out_len < crypto_pwhash_STRBYTES)
        return false;
    return crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0;
}

bool lk_password_verify(const char *password, const char *hash)
{
    if (!password || !hash)
        return false;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}
