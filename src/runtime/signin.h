/*
 * signin — the throttles of console sign-ins (docs/security.md#console-sign-in).
 *
 * Failures from strangers must not lock a person out, and a burst must not pass a
 * limit. Three counts, each in a fixed table keyed by a keyed hash (throttle.h):
 * - per (account, address): LK_SIGNIN_FREE failures, then growing delays (1 s,
 *   2 s, 4 s … at most LK_SIGNIN_DELAY_MAX) before the next attempt of that pair,
 *   remembered until an hour passes without a failure;
 *   a success or a completed password reset of the account clears it;
 * - per account (every address): LK_SIGNIN_ACCOUNT_HOT failures within an hour make
 *   the account "hot": its pairs then get one free failure instead of
 *   LK_SIGNIN_FREE. An address that has not failed for the account keeps its
 *   attempt: the ceiling slows guessing, it never locks;
 * - per address (an IPv6 /64): login_fail_limit failures per auth_fail_window, for
 *   every account together (the cost of Argon2id).
 * Nothing here locks an account: locking is an administrator's action.
 * Several processes on one database count together (signin_share.h): each adds what
 * the others published, as of its last sync (about 200 ms).
 *
 * An attempt is reserved (counted as a failure) on the request thread before the
 * password is checked on the store worker; lk_signin_done() says how it ended.
 * "Forgot password" has its own allowance per address (login_fail_limit per
 * auth_fail_window), so that a throttled person can still ask for a reset.
 * Thread-safe.
 */
#ifndef LK_RUNTIME_SIGNIN_H
#define LK_RUNTIME_SIGNIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LK_SIGNIN_FREE 5             /* failures of a pair before delays begin */
#define LK_SIGNIN_DELAY_MAX 900      /* seconds: the longest delay between two attempts of a pair */
#define LK_SIGNIN_PAIR_WINDOW 3600   /* seconds a pair's failures are remembered after its latest */
#define LK_SIGNIN_ACCOUNT_HOT 20     /* failures of an account within LK_SIGNIN_PAIR_WINDOW */

typedef struct lk_signin lk_signin;

/* capacity: entries of each table; limit/window: the per-address allowance */
lk_signin *lk_signin_new(size_t capacity, int64_t address_limit, int64_t address_window);
void lk_signin_free(lk_signin *s);

/* The throttle key of an address: itself, or its /64 for IPv6 (one host holds a whole
 * /64). out must hold 64 bytes. */
void lk_signin_address_key(const char *address_text, int family, const unsigned char addr[16], char out[64]);

/* Reserves a sign-in attempt of `email` (as typed; compared without case) from an
 * address key. false: refused, *retry_after seconds to wait; nothing reserved. */
bool lk_signin_reserve(lk_signin *s, const char *email, const char *address, int64_t now, int64_t *retry_after);
/* How a reserved attempt ended: success clears the pair and gives the address its
 * count back; failed counts for the account too; neither (the check could not run,
 * e.g. the store failed) gives the reservation back. */
typedef enum lk_signin_outcome { LK_SIGNIN_SUCCESS, LK_SIGNIN_FAILED, LK_SIGNIN_UNDECIDED } lk_signin_outcome;
void lk_signin_done(lk_signin *s, const char *email, const char *address, lk_signin_outcome how, int64_t now);
/* A completed password reset: the account's failures are forgotten (its pairs and its
 * account-wide count). */
void lk_signin_clear(lk_signin *s, const char *email, int64_t now);

/* "Forgot password": counts one request of the address; false when it has had its
 * allowance (*retry_after seconds to wait). */
bool lk_signin_forgot(lk_signin *s, const char *address, int64_t now, int64_t *retry_after);

/* drops ended windows (once a minute) */
void lk_signin_purge(lk_signin *s, int64_t now);

/* the counts shared with the other processes (runtime/signin_share.h; runtime/peers.c
 * publishes and reads them) */
struct lk_signin_share;
struct lk_signin_share *lk_signin_shared(lk_signin *s);

#endif
