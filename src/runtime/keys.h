/*
 * keys — the server keys that MAC access tokens (core/token.h), kept in a key file
 * that every process of an instance shares.
 *
 * The file holds one or two keys, one line each, newest first:
 *
 *     # latchkey token keys: keep secret (mode 0600); the first key signs
 *     2 1767139200 <43 characters: the key in base64url>
 *     1 1764547200 <...>
 *
 * (key id 0..255, created at in seconds since the epoch, the 32-byte key). The
 * first key signs new tokens; the second only verifies the tokens it signed until
 * they expire. `latchkey key rotate` puts a new key first and keeps the signing one
 * as the second (the old second is dropped: its tokens stop working).
 *
 * The file is written whole into a temporary file, fsynced and moved into place, so
 * a reader sees the old file or the new one, never half of one. A file readable by
 * anyone but its owner is refused.
 */
#ifndef LK_RUNTIME_KEYS_H
#define LK_RUNTIME_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/token.h"

#define LK_KEYS_MAX 2

typedef struct lk_keyring {
    lk_token_key keys[LK_KEYS_MAX];   /* keys[0] signs */
    int n;
} lk_keyring;

/* the key file used when none is configured: the database file's path + ".keys";
 * false (out "") when the location is not a file */
bool lk_keys_default_path(const char *db_location, char *out, size_t out_len);

/* Reads the key file. With create, a missing file is made with one new key (two
 * processes starting at once end up with the same one). */
lk_code lk_keys_load(const char *path, bool create, int64_t now, lk_keyring *out, lk_error *err);

/* Puts a new key first and keeps the current signing key second. Refuses (LK_ERULE)
 * when the current key is younger than min_age seconds, unless force: the key it
 * drops may still have tokens in use. out receives the new ring. The caller makes
 * rotations one at a time (the CLI holds the database's write lock). */
lk_code lk_keys_rotate(const char *path, int64_t now, int64_t min_age, bool force, lk_keyring *out, lk_error *err);

/* an identity of the file's current version (inode, size, mtime), to notice a
 * replacement cheaply; 0 when it cannot be read */
uint64_t lk_keys_file_stamp(const char *path);

/* wipes the key material */
void lk_keyring_clear(lk_keyring *k);

#endif
