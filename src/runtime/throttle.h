/*
 * throttle — counts of failures per key in a fixed window, in a table of fixed size.
 *
 * Keys are byte strings a client chooses (a client id and an address); the table
 * keeps only a 64-bit SipHash of each under a key drawn at random when the table is
 * made, so nobody can aim many keys at one slot, and the memory is bounded whatever
 * is sent: capacity entries of 32 bytes, nothing else.
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
/* the same, with a key's window running `window` seconds from its latest failure
 * (a key that keeps failing is never forgotten) */
lk_throttle *lk_throttle_new_sliding(size_t capacity, int64_t window);
void lk_throttle_free(lk_throttle *t);

/* true when key has at least limit failures in its running window; *retry_after
 * (may be NULL) gets the seconds until that window ends */
bool lk_throttle_blocked(lk_throttle *t, const void *key, size_t len, int64_t limit, int64_t now,
                         int64_t *retry_after);
/* counts one failure of key; false when the table is full (the failure could not be
 * counted): treat the key as throttled */
bool lk_throttle_fail(lk_throttle *t, const void *key, size_t len, int64_t now);
/* A key's state: failures 0 when it has none in a running window. */
typedef struct lk_throttle_entry {
    int64_t failures;
    int64_t start, last, ends;   /* its window's first failure, latest failure, end */
} lk_throttle_entry;

/* seconds a key in state e must wait before another attempt at now; 0: go */
typedef int64_t (*lk_throttle_policy)(const lk_throttle_entry *e, int64_t now, const void *ctx);

typedef enum lk_throttle_take_result {
    LK_THROTTLE_TAKEN = 0,   /* the attempt may go; it is counted as a failure already */
    LK_THROTTLE_WAIT,        /* the policy says wait *retry_after seconds; nothing counted */
    LK_THROTTLE_FULL,        /* no room to count it (retry_after: the window) */
} lk_throttle_take_result;

/*
 * Reserves an attempt: under the key's lock, asks policy whether the key may try now
 * and if so counts the attempt as a failure at once — so that simultaneous attempts
 * cannot all pass a limit before any of them has failed. An attempt that then
 * succeeds gives its count back (lk_throttle_refund) or forgets the key.
 */
lk_throttle_take_result lk_throttle_take(lk_throttle *t, const void *key, size_t len, int64_t now,
                                         lk_throttle_policy policy, const void *ctx, int64_t *retry_after);
/* one failure less for key (a reserved attempt that did not fail) */
void lk_throttle_refund(lk_throttle *t, const void *key, size_t len, int64_t now);
/* sets the key's state (what another process counted); false when the table is full */
bool lk_throttle_set(lk_throttle *t, const void *key, size_t len, int64_t failures, int64_t start, int64_t now);
/* moves the key's latest failure to now (a reserved attempt that failed later) */
void lk_throttle_touch(lk_throttle *t, const void *key, size_t len, int64_t now);
/* the key's state; true when it has failures in a running window */
bool lk_throttle_peek(lk_throttle *t, const void *key, size_t len, int64_t now, lk_throttle_entry *out);
/* forgets a key (its next failure starts a new window) */
void lk_throttle_forget(lk_throttle *t, const void *key, size_t len);
/* frees the slots of windows that ended before now */
void lk_throttle_purge(lk_throttle *t, int64_t now);
/* keys whose window still runs */
size_t lk_throttle_size(lk_throttle *t, int64_t now);

#endif
