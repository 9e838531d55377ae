/*
 * signin_share — the console sign-in throttles of several processes
 * (docs/server.md#limits-across-processes, docs/security.md#console-sign-in).
 *
 * Each process counts sign-in attempts in its own tables (runtime/signin.h) and also
 * here, per shared key and 10-second bucket of wall-clock time: its journal. The
 * journal's changed rows are published with the limits (runtime/peers.c: kind 's' of
 * limit_counts, migration 0010) a few times a second, and the other processes' rows of
 * the last hour are read back and summed per key: what signin.c adds to its own counts.
 * Rows stay in the database for an hour, whoever wrote them, so a process that
 * restarts (a new id) counts the failures of its former self as another's: a restart
 * does not reset an attacker's count.
 *
 * A shared key (a "scope") is a letter and the hex of BLAKE2b-128 digests, the same in
 * every process: 'a'/'f' + address, 'p' + account + pair, 'A' + account; a clear is a
 * row at its second: 'x' + account (a completed reset), 'y' + pair (a success). Counts
 * of a key at or before its latest clear's bucket are not summed.
 *
 * Wall-clock time, because the rows are compared across processes and outlive them.
 * Rows more than a minute in the future (the clock was stepped back) are not counted.
 * Thread-safe.
 */
#ifndef LK_RUNTIME_SIGNIN_SHARE_H
#define LK_RUNTIME_SIGNIN_SHARE_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/limiter.h"
#include "util/arena.h"

#define LK_SIGNIN_BUCKET 10           /* seconds of a journal bucket */
#define LK_SIGNIN_HORIZON 3600        /* seconds the rows count (LK_SIGNIN_PAIR_WINDOW) */
#define LK_SIGNIN_SHARE_MAX 20000     /* journal entries of a process (beyond: counted only by it) */
#define LK_SIGNIN_SCOPE_MAX 72        /* a scope's bytes with its NUL */
#define LK_SIGNIN_HEX 33              /* the hex of a digest with its NUL */

typedef struct lk_signin_share lk_signin_share;

/* window: the per-address allowance's (auth_fail_window) */
lk_signin_share *lk_signin_share_new(int64_t window);
void lk_signin_share_free(lk_signin_share *sh);

/* the hex of the shared digest of `len` bytes (out: LK_SIGNIN_HEX bytes) */
void lk_signin_share_digest(const void *bytes, size_t len, char out[LK_SIGNIN_HEX]);

/* This process's journal: +1 counts an attempt in now's bucket; -1 gives one back
 * (from the latest bucket of the scope that has one). */
void lk_signin_share_count(lk_signin_share *sh, const char *scope, int64_t now, int64_t delta);
/* records a clear of scope at now */
void lk_signin_share_clear(lk_signin_share *sh, const char *scope, int64_t now);

/* what the other processes counted of a scope, as last read: attempts within the hour
 * (after its clears), within the address window, the bucket of the window's oldest, and
 * the latest (an upper bound, to within a bucket); for 'x'/'y' scopes `last` is the
 * latest clear's second. Zeros when none. */
typedef struct lk_signin_seen {
    int64_t hour, window, first, last;
} lk_signin_seen;
lk_signin_seen lk_signin_share_seen(lk_signin_share *sh, const char *scope);

/* The journal's rows changed since the last publication, appended to out (scopes in
 * the arena, kind 's'); *mark: pass it to lk_signin_share_published once they are
 * committed. */
void lk_signin_share_rows(lk_signin_share *sh, lk_arena *a, lk_limit_counts *out, uint64_t *mark);
void lk_signin_share_published(lk_signin_share *sh, uint64_t mark);
/* the others' rows (any kinds; the 's' ones are used), read at now */
void lk_signin_share_set_others(lk_signin_share *sh, const lk_limit_count *rows, size_t n, int64_t now);
/*
 * Slices. While other processes are alive, a process lets through at most a slice of
 * a key's attempts between two syncs (signin.c): what the others have not seen yet is
 * bounded, as for the limits (runtime/limiter.h). pending: this process's attempts of
 * the scope not yet published (its current and previous bucket); peers: set at each
 * sync (false when no other process is alive, or when this one cannot sync: then it
 * counts alone).
 */
int64_t lk_signin_share_pending(lk_signin_share *sh, const char *scope, int64_t now);
/* this process's own count of a scope in the buckets after a clear's second `after`,
 * up to now's: what the other processes count of it past that clear */
int64_t lk_signin_share_mine_after(lk_signin_share *sh, const char *scope, int64_t after, int64_t now);
void lk_signin_share_set_peers(lk_signin_share *sh, bool peers);
bool lk_signin_share_peers(lk_signin_share *sh);

/* drops journal entries older than the horizon (once a minute) */
void lk_signin_share_purge(lk_signin_share *sh, int64_t now);

#endif
