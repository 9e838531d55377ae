/*
 * throttle — counts of failures per key in a fixed window, in a table of fixed size.
 *
 * Keys are byte strings a client chooses (a client id and an address); the table
 * keeps only a 64-bit SipHash of each under a key drawn at random when the table is
 * made, so nobody can aim many keys at one slot, and the memory is bounded whatever
 * is sent: capacity entries of 24 bytes, nothing else.
 *
 * A key is throttled when it has `limit` failures in the current window (which
 * starts at its first failure and lasts `window` seconds). When every slot holds a
 * key whose window still runs, a new key cannot be counted: lk_throttle_fail() says
 * so, and the caller refuses (the token endpoints answer 429) — a full table never
 * lets failures through uncounted. Slots of ended windows are reused.
 *
 * Thread-safe: the table is split into shards, each under its own mutex, held for a
 * probe only.
 */
#ifndef LK_RUNTIME_THROTTLE_H
#define LK_RUNTIME_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lk_throttle lk_throttle;

lk_throttle *lk_throttle_new(size_t capacity, int64_t window);
void lk_throttle_free(lk_throttle *t);

/* true when key has at least limit failures in its running window; *retry_after
 * (may be NULL) gets the seconds until that window ends */
bool lk_throttle_blocked(lk_throttle *t, const void *key, size_t len, int64_t limit, int64_t now,
                         int64_t *retry_after);
/* counts one failure of key; false when the table is full (the failure could not be
 * counted): treat the key as throttled */
bool lk_throttle_fail(lk_throttle *t, const void *key, size_t len, int64_t now);
/* forgets a key (its next failure starts a new window) */
void lk_throttle_forget(lk_throttle *t, const void *key, size_t len);
/* frees the slots of windows that ended before now */
void lk_throttle_purge(lk_throttle *t, int64_t now);
/* keys whose window still runs */
size_t lk_throttle_size(lk_throttle *t, int64_t now);

#endif
