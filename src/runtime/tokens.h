/*
 * tokens — issuing and checking access tokens (format: core/token.h), the server
 * keys that MAC them, the revoked ones, and the first use after expiry.
 *
 * Issuing writes nothing anywhere but memory: a token verifies itself, so any
 * process with the key file accepts it, and a process that dies loses nothing. Each
 * service keeps its current token in its catalog entry, so the identity endpoint
 * hands the same token out again while it is valid (within one process; another
 * process, or this one after a restart, mints its own — both work).
 *
 * Checking a token costs a base64 decode and one keyed BLAKE2b, then lookups in
 * memory: whether it was revoked (the revocations come from the change feed, see
 * runtime/feed.c), and the state of its service and owner in the catalog — the
 * service must exist, carry the token's epoch, and its owner be usable. So a
 * deleted service, a rotated secret, a locked or expired owner refuse every token
 * at once, with nothing to look up per token.
 *
 * 602 "expired" answers the first use this process sees of a token that expired
 * less than a day ago; later uses, and older tokens, get 601. Another process (or
 * this one after a restart) answers its own first 602.
 *
 * Threads: checks and issues run in a catalog read section (lk_catalog_read_begin)
 * and take no lock, except the small one of the 602 bookkeeping for expired tokens.
 * Revocations are added by the feed applier, keys replaced by the background thread.
 */
#ifndef LK_RUNTIME_TOKENS_H
#define LK_RUNTIME_TOKENS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/token.h"
#include "runtime/catalog.h"
#include "runtime/keys.h"

typedef struct lk_tokens lk_tokens;

/* a day: how long a 602 can still come, and after expiry a revocation is kept */
#define LK_TOKEN_KEEP_EXPIRED (24 * 3600)

typedef enum lk_token_state {
    LK_TOKEN_VALID = 0,
    LK_TOKEN_UNKNOWN,        /* malformed, not ours, or MAC'd by a key no longer held: 601 */
    LK_TOKEN_REVOKED,        /* 601: revoked one by one, its service changed, or its owner unusable */
    LK_TOKEN_EXPIRED_FIRST,  /* 602 */
    LK_TOKEN_EXPIRED,        /* 601 */
} lk_token_state;

/* what a checked token says, and (when valid) whose it is */
typedef struct lk_token_check {
    lk_token_fields fields;
    const lk_cat_service *service;   /* borrowed from the catalog (read section) */
    const lk_cat_user *user;
} lk_token_check;

lk_tokens *lk_tokens_new(lk_catalog *cat, int expired_capacity);
void lk_tokens_free(lk_tokens *t);

/* ---- keys ------------------------------------------------------------------------- */

/* Reads the key file (creating it when create and absent) and starts using it. */
lk_code lk_tokens_load_keys(lk_tokens *t, const char *path, bool create, int64_t now, lk_error *err);
/* Reads the key file again if it changed since it was last read (or always, with
 * force). false with err set when it could not be read: the keys in use stay. */
bool lk_tokens_reload_keys(lk_tokens *t, bool force, int64_t now, lk_error *err);
/* uses these keys (tests) */
void lk_tokens_set_keys(lk_tokens *t, const lk_keyring *k);
/* the id of the key that signs new tokens (-1: none); in a read section */
int lk_tokens_signing_key(lk_tokens *t);

/* ---- issuing and checking (inside a read section of the catalog) ----------------------- */

/*
 * The service's token: its current one while it is valid for at least one more
 * second, else a new one valid until now + ttl. Writes it to out and its fields to
 * f (may be NULL). Returns true when it minted a new one.
 */
bool lk_tokens_issue(lk_tokens *t, const lk_cat_service *svc, int64_t now, int64_t ttl,
                     char out[LK_TOKEN_LEN + 1], lk_token_fields *f);

/*
 * The state of a presented token at now, checked against its service and owner in
 * the catalog. With report, the first use after expiry is remembered (so the next
 * answers 601); introspection and revocation pass false so as not to take the
 * client's 602 away. out (may be NULL) is filled as far as the token could be read.
 */
lk_token_state lk_tokens_check(lk_tokens *t, const lk_catalog *cat, const char *token, int64_t now, bool report,
                               lk_token_check *out);

/* ---- revocations (the feed applier) ------------------------------------------------- */

/* the token with this id is revoked until it expires */
void lk_tokens_revoke(lk_tokens *t, const unsigned char id[LK_TOKEN_ID_BYTES], int64_t expires_at);
bool lk_tokens_is_revoked(lk_tokens *t, const unsigned char id[LK_TOKEN_ID_BYTES]);
/* forgets revocations and 602 bookkeeping of tokens that expired before `before` */
void lk_tokens_purge(lk_tokens *t, int64_t before);
size_t lk_tokens_revoked_count(lk_tokens *t);

#endif
