/*
 * token — the access token format: a token carries what is needed to check it and a
 * MAC under a server key, so that any process holding the key accepts a token
 * another one minted, with no table lookup and nothing written when it is issued.
 *
 * 48 bytes, written as 64 characters of base64url without padding:
 *
 *   offset size  field
 *        0    1  format version (1)
 *        1    1  key id: which server key made the MAC
 *        2    8  service id (big-endian)
 *       10    4  the service's token epoch when minted (big-endian): a service's
 *                tokens stop working when its epoch moves (rotation, owner locked)
 *       14    4  issued at, seconds since the Unix epoch (big-endian, unsigned)
 *       18    4  expires at, likewise
 *       22   10  token id: random; names the token in a revocation
 *       32   16  MAC: keyed BLAKE2b-128 of bytes 0..31 under the key
 *
 * Nothing in a token is secret but the MAC: whoever holds the key can mint tokens,
 * nobody else can (2^-128 per guess). The whole token is the credential; the store
 * keeps only a revoked token's id, never a token.
 */
#ifndef LK_CORE_TOKEN_H
#define LK_CORE_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_TOKEN_LEN 64               /* characters of an access token: its one definition */
#define LK_TOKEN_BYTES 48             /* decoded */
#define LK_TOKEN_VERSION 1
#define LK_TOKEN_ID_BYTES 10
#define LK_TOKEN_ID_HEX (2 * LK_TOKEN_ID_BYTES + 1)
#define LK_TOKEN_KEY_BYTES 32
#define LK_TOKEN_MAC_BYTES 16
#define LK_TOKEN_TIME_MAX 4294967295LL /* the last instant a token can name (2106) */

typedef struct lk_token_key {
    int id;                           /* 0..255 */
    unsigned char key[LK_TOKEN_KEY_BYTES];
    int64_t created_at;
} lk_token_key;

typedef struct lk_token_fields {
    int key_id;
    int64_t service_id;
    uint32_t epoch;
    int64_t issued_at;
    int64_t expires_at;
    unsigned char id[LK_TOKEN_ID_BYTES];
} lk_token_fields;

/* Writes the token of f, MAC'd with key (f->key_id becomes key->id). Times must lie
 * in 0..LK_TOKEN_TIME_MAX and the service id be positive; false otherwise. */
bool lk_token_encode(const lk_token_key *key, lk_token_fields *f, char out[LK_TOKEN_LEN + 1]);

/* Reads a presented token: exactly LK_TOKEN_LEN base64url characters, version 1, a
 * key id among keys[0..n) and a MAC that key makes (compared in constant time).
 * Fills f and returns true; false for anything else. Time is not checked here. */
bool lk_token_decode(const lk_token_key *keys, size_t n, const char *token, lk_token_fields *f);

/* a fresh random token id */
void lk_token_new_id(unsigned char id[LK_TOKEN_ID_BYTES]);
/* lower-case hex of a token id, as the store keeps it */
void lk_token_id_hex(const unsigned char id[LK_TOKEN_ID_BYTES], char out[LK_TOKEN_ID_HEX]);
/* and back; false unless exactly 20 hex digits */
bool lk_token_id_parse(const char *hex, unsigned char id[LK_TOKEN_ID_BYTES]);

/* a new random key */
void lk_token_key_generate(lk_token_key *k, int id, int64_t created_at);

#endif
