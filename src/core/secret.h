/*
 * secret — random material and how it is kept: client secrets and one-time
 * passwords (alphanumeric, from libsodium's CSPRNG), UUID v4 client ids, opaque
 * tokens (base64url), a fast hash for machine-generated secrets (BLAKE2b-256, hex),
 * Argon2id for passwords people type, and constant-time comparison.
 */
#ifndef LK_CORE_SECRET_H
#define LK_CORE_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/model.h"

/* must succeed before any other call here; false if libsodium cannot start */
bool lk_secret_init(void);

/* n alphanumeric characters [A-Za-z0-9], uniformly drawn, then a NUL (out: n+1 bytes) */
void lk_secret_alnum(char *out, size_t n);
/* RFC 4122 version 4 UUID, lower-case (out: 37 bytes) */
void lk_secret_uuid(char out[LK_UUID_LEN + 1]);
/* base64url (no padding) of nbytes random bytes; out must hold 4*nbytes/3+2 bytes */
void lk_secret_token(char *out, size_t nbytes);

/* BLAKE2b-256 of s as 64 lower-case hex digits */
void lk_secret_hash(const char *s, char out[LK_HASH_HEX]);
/* constant-time: does s hash to hex? false for malformed hex */
bool lk_secret_verify(const char *s, const char *hex);
/* the same hash, raw: what in-memory tables keep (half the size, no decoding per check) */
void lk_secret_hash_raw(const char *s, unsigned char out[LK_HASH_BYTES]);
/* 64 hex digits (either case) to raw bytes; false for anything else */
bool lk_secret_hex_decode(const char *hex, unsigned char out[LK_HASH_BYTES]);
/* raw bytes to 64 lower-case hex digits, as lk_secret_hash writes them */
void lk_secret_hex_encode(const unsigned char raw[LK_HASH_BYTES], char out[LK_HASH_HEX]);
/* constant-time comparison of two raw hashes */
bool lk_secret_hash_equal(const unsigned char a[LK_HASH_BYTES], const unsigned char b[LK_HASH_BYTES]);

/* Argon2id string of a password (libsodium's interactive limits); false on failure */
bool lk_password_hash(const char *password, char *out, size_t out_len);
bool lk_password_verify(const char *password, const char *hash);
#define LK_PASSWORD_HASH_MAX 128

#endif
