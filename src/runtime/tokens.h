/*
 * tokens — the in-memory table of access tokens, the server's hot path.
 *
 * A token is 32 random bytes in base64url (43 characters, 256 bits). The table keys
 * entries by the BLAKE2b-256 hash of the token (raw; the store keeps the same hash in
 * hex, and the hashes this API takes and returns are hex), so what it holds is exactly
 * what the store holds; the plain text of each service's *current* token is also kept (in
 * memory only), so that the identity endpoint can hand the same token back while it
 * is valid. After a restart, tokens loaded from the store have no plain text: they
 * keep working, and the service's next token request mints a new one.
 *
 * Thread-safe: the table is split into shards, each under its own mutex; no lock is
 * held across I/O. Persistence is the caller's: lk_tokens_issue() reports a new
 * token so that it can be queued for the store.
 */
#ifndef LK_RUNTIME_TOKENS_H
#define LK_RUNTIME_TOKENS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/model.h"

#define LK_TOKEN_LEN 43

typedef struct lk_tokens lk_tokens;

typedef enum lk_token_state {
    LK_TOKEN_VALID = 0,
    LK_TOKEN_UNKNOWN,        /* never issued here, malformed, or purged: 601 */
    LK_TOKEN_REVOKED,        /* 601 */
    LK_TOKEN_EXPIRED_FIRST,  /* first use after expiry: 602 (the entry remembers it) */
    LK_TOKEN_EXPIRED,        /* later uses: 601 */
} lk_token_state;

typedef struct lk_token_info {
    int64_t service_id;
    int64_t issued_at;
    int64_t expires_at;
} lk_token_info;

lk_tokens *lk_tokens_new(void);
void lk_tokens_free(lk_tokens *t);

/*
 * The service's token: its current one if still valid at now (with at least one
 * second left), else a new one valid until now + ttl. Writes the plain token to
 * token (LK_TOKEN_LEN + 1 bytes) and fills info. Returns true when it minted a new
 * one (rec then holds what to persist; rec->token_hash points into rec_hash).
 */
bool lk_tokens_issue(lk_tokens *t, int64_t service_id, int64_t now, int64_t ttl,
                     char token[LK_TOKEN_LEN + 1], lk_token_info *info,
                     lk_token_rec *rec, char rec_hash[LK_HASH_HEX]);

/* State of a presented token at now; info filled when the token is known. */
lk_token_state lk_tokens_check(lk_tokens *t, const char *token, int64_t now, lk_token_info *info);

/* The same state without remembering a first expired use: for introspection and
 * revocation, which must not take the client's 602 away. */
lk_token_state lk_tokens_peek(lk_tokens *t, const char *token, int64_t now, lk_token_info *info);

/* Revokes one token (RFC 7009); returns true and its hash in hash_out if it existed
 * and was not already revoked. */
bool lk_tokens_revoke(lk_tokens *t, const char *token, int64_t now, char hash_out[LK_HASH_HEX]);

/* Revokes every token of a service (deleted, rotated, owner locked). Returns how many. */
size_t lk_tokens_revoke_service(lk_tokens *t, int64_t service_id, int64_t now);

/* Loads stored tokens at start (no plain text). */
void lk_tokens_load(lk_tokens *t, const lk_token_rec *recs, size_t n);

/* Forgets tokens that expired before `before` (their later use answers 601, as for
 * an unknown token). Returns how many. */
size_t lk_tokens_purge(lk_tokens *t, int64_t before);

size_t lk_tokens_count(lk_tokens *t);

#endif
