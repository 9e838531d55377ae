/*
 * signin — the throttles of console sign-ins (signin.h).
 *
 * Keys: "a" NUL address (an address's sign-ins), "f" NUL address (its forgot-password
 * requests) in one table; "p" NUL epoch NUL email NUL address in the pairs' table;
 * the email in the accounts' and the clears' tables. Emails are folded to lower case
 * (ASCII), as the store compares them. A completed reset records its instant in the
 * clears' table; that instant is part of the pair keys, so every pair of the account
 * starts again without having to find them.
 *
 * Every count is also kept in the shared journal (signin_share.h) and judged together
 * with what the other processes counted: the addresses' allowance adds their attempts
 * of the window, a pair's delays their failures of the pair (and run from the latest
 * of all), the account's ceiling their failures of the account. Their clears (a reset,
 * a success) make this process forget its own counts from before them.
 */
#include "runtime/signin.h"
#include "runtime/signin_share.h"
#include "runtime/throttle.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 400
#define EMAIL_MAX 254
#define CLEAR_WINDOW 86400   /* a clear is remembered for a day: longer than any pair's window */

struct lk_signin {
    lk_throttle *addresses;   /* "a" and "f" keys, window: auth_fail_window */
    lk_throttle *pairs;       /* LK_SIGNIN_PAIR_WINDOW from the latest failure */
    lk_throttle *accounts;    /* the same */
    lk_throttle *clears;      /* CLEAR_WINDOW */
    int64_t address_limit, window;
    lk_signin_share *share;   /* the processes' common counts */
    pthread_mutex_t reserve_mu; /* a reservation's checks and counts, as one step */
};

lk_signin *lk_signin_new(size_t capacity, int64_t address_limit, int64_t address_window)
{
    lk_signin *s = lk_xcalloc(1, sizeof *s);
    s->addresses = lk_throttle_new(capacity, address_window);
    s->pairs = lk_throttle_new_sliding(capacity, LK_SIGNIN_PAIR_WINDOW);
    s->accounts = lk_throttle_new_sliding(capacity, LK_SIGNIN_PAIR_WINDOW);
    s->clears = lk_throttle_new(capacity / 16 + 16, CLEAR_WINDOW);
    s->address_limit = address_limit > 0 ? address_limit : 1;
    s->window = address_window > 0 ? address_window : 1;
    s->share = lk_signin_share_new(address_window);
    pthread_mutex_init(&s->reserve_mu, NULL);
    return s;
}

lk_signin_share *lk_signin_shared(lk_signin *s)
{
    return s->share;
}

void lk_signin_free(lk_signin *s)
{
    if (!s)
        return;
    lk_throttle_free(s->addresses);
    lk_throttle_free(s->pairs);
    lk_throttle_free(s->accounts);
    lk_throttle_free(s->clears);
    lk_signin_share_free(s->share);
    pthread_mutex_destroy(&s->reserve_mu);
    free(s);
}

void lk_signin_purge(lk_signin *s, int64_t now)
{
    lk_throttle_purge(s->addresses, now);
    lk_throttle_purge(s->pairs, now);
    lk_throttle_purge(s->accounts, now);
    lk_throttle_purge(s->clears, now);
    lk_signin_share_purge(s->share, now);
}

void lk_signin_address_key(const char *address_text, int family, const unsigned char addr[16], char out[64])
{
    if (family != 6) {
        snprintf(out, 64, "%s", address_text ? address_text : "");
        return;
    }
    const unsigned char *a = addr;
    snprintf(out, 64, "%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
}

/* ---- keys -------------------------------------------------------------------------- */

static size_t fold_email(const char *email, char out[EMAIL_MAX + 1])
{
    size_t n = 0;
    for (const char *p = email ? email : ""; *p && n < EMAIL_MAX; p++)
        out[n++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
    out[n] = '\0';
    return n;
}

static size_t address_key(char out[KEY_MAX], char kind, const char *address)
{
    int n = snprintf(out, KEY_MAX, "%c%c%s", kind, '\0', address ? address : "");
    return n < 0 ? 0 : (size_t)n;
}

/* the instant of the account's last completed reset, 0 if none remembered */
static int64_t epoch_of(lk_signin *s, const char *folded, size_t len, int64_t now)
{
    lk_throttle_entry e;
    return lk_throttle_peek(s->clears, folded, len, now, &e) ? e.start : 0;
}

static size_t pair_key(lk_signin *s, char out[KEY_MAX], const char *folded, size_t len, const char *address,
                       int64_t now)
{
    int n = snprintf(out, KEY_MAX, "p%c%lld%c%.*s%c%s", '\0', (long long)epoch_of(s, folded, len, now), '\0',
                     (int)len, folded, '\0', address ? address : "");
    return n < 0 ? 0 : (size_t)n >= KEY_MAX ? KEY_MAX - 1 : (size_t)n;
}

/* ---- policies ------------------------------------------------------------------------ */

/* at most `limit` attempts per window, this process's and the others' together */
typedef struct limit_ctx {
    int64_t limit, window;
    lk_signin_seen others;
} limit_ctx;

static int64_t limit_policy(const lk_throttle_entry *e, int64_t now, const void *ctx)
{
    const limit_ctx *c = ctx;
    if (e->failures + c->others.window < c->limit)
        return 0;
    int64_t wait = e->failures > 0 ? e->ends - now : 0;
    /* the others' oldest attempt of the window leaves it */
    int64_t theirs = c->others.window > 0 ? c->others.first + LK_SIGNIN_BUCKET + c->window - now : 0;
    if (e->failures == 0 || (theirs > 0 && theirs < wait))
        wait = theirs;
    return wait > 0 ? wait : 1;
}

/* `free` failures, then a delay doubling with each further one (2 s, 4 s, …), counted
 * from when the latest failure was known — this process's and the others' together */
typedef struct delay_ctx {
    int64_t free_;
    lk_signin_seen others;
} delay_ctx;

static int64_t delay_policy(const lk_throttle_entry *e, int64_t now, const void *ctx)
{
    const delay_ctx *c = ctx;
    int64_t failures = e->failures + c->others.hour;
    if (failures < c->free_)
        return 0;
    int64_t k = failures - c->free_;
    int64_t delay = k >= 10 ? LK_SIGNIN_DELAY_MAX : (int64_t)2 << k;
    if (delay > LK_SIGNIN_DELAY_MAX)
        delay = LK_SIGNIN_DELAY_MAX;
    int64_t last = e->failures > 0 && e->last > c->others.last ? e->last : c->others.last;
    int64_t wait = last + delay - now;
    return wait > 0 ? wait : 0;
}

/* ---- shared keys ---------------------------------------------------------------------- */

/* the shared names of one attempt: digests of the account, the pair and the address */
typedef struct names {
    char account[LK_SIGNIN_HEX], pair[LK_SIGNIN_HEX], address[LK_SIGNIN_HEX];
} names;

static void names_of(names *n, const char *folded, size_t flen, const char *address)
{
    char buf[EMAIL_MAX + 1 + 64];
    size_t alen = strnlen(address ? address : "", 63);
    lk_signin_share_digest(folded, flen, n->account);
    memcpy(buf, folded, flen);
    buf[flen] = '\0';
    memcpy(buf + flen + 1, address ? address : "", alen);
    lk_signin_share_digest(buf, flen + 1 + alen, n->pair);
    lk_signin_share_digest(address ? address : "", alen, n->address);
}

static const char *scope(char out[LK_SIGNIN_SCOPE_MAX], char kind, const char *hex, const char *hex2)
{
    snprintf(out, LK_SIGNIN_SCOPE_MAX, "%c%s%s", kind, hex, hex2 ? hex2 : "");
    return out;
}

static void share(lk_signin *s, char kind, const char *hex, const char *hex2, int64_t now, int64_t delta)
{
    char sc[LK_SIGNIN_SCOPE_MAX];
    lk_signin_share_count(s->share, scope(sc, kind, hex, hex2), now, delta);
}

static lk_signin_seen seen(lk_signin *s, char kind, const char *hex, const char *hex2)
{
    char sc[LK_SIGNIN_SCOPE_MAX];
    return lk_signin_share_seen(s->share, scope(sc, kind, hex, hex2));
}

static void clear_local(lk_signin *s, const char *folded, size_t flen, int64_t now);

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Another process's clears: this one forgets its counts from before them. A reset is
 * applied once (this process's epoch of the account moves past it). Its own failures
 * since the reset's second, but before it saw the reset, stay counted as the others
 * count them (in the buckets after that second): the account's, and those of this
 * attempt's pair (the account's other pairs here start again). */
static void apply_clears(lk_signin *s, const names *n, const char *folded, size_t flen, const char *address,
                         int64_t now)
{
    int64_t reset = seen(s, 'x', n->account, NULL).last;
    if (reset && reset >= epoch_of(s, folded, flen, now)) {
        char pkey[KEY_MAX], sc[LK_SIGNIN_SCOPE_MAX];
        size_t plen = pair_key(s, pkey, folded, flen, address, now);
        lk_throttle_entry pair, acct;
        int64_t pair_since = 0, acct_since = 0;
        if (lk_throttle_peek(s->pairs, pkey, plen, now, &pair))
            pair_since = min64(pair.failures, lk_signin_share_mine_after(s->share, scope(sc, 'p', n->account, n->pair),
                                                                         reset, now));
        if (lk_throttle_peek(s->accounts, folded, flen, now, &acct))
            acct_since = min64(acct.failures,
                               lk_signin_share_mine_after(s->share, scope(sc, 'A', n->account, NULL), reset, now));
        clear_local(s, folded, flen, now);
        if (pair_since > 0) {
            plen = pair_key(s, pkey, folded, flen, address, now);
            (void)lk_throttle_set(s->pairs, pkey, plen, pair_since, pair.start, pair.last);
        }
        if (acct_since > 0)
            (void)lk_throttle_set(s->accounts, folded, flen, acct_since, acct.start, acct.last);
    }
    int64_t success = seen(s, 'y', n->pair, NULL).last;
    if (success) {
        char pkey[KEY_MAX];
        size_t plen = pair_key(s, pkey, folded, flen, address, now);
        lk_throttle_entry e;
        if (lk_throttle_peek(s->pairs, pkey, plen, now, &e) && e.last <= success)
            lk_throttle_forget(s->pairs, pkey, plen);
    }
}

/* ---- sign-ins ------------------------------------------------------------------------ */

/* the attempts of a key this process may let through between two syncs while others
 * are alive: 1/20 of the allowance, at least 1 (runtime/limiter.h's slice) */
static int64_t slice_of(int64_t allowance)
{
    int64_t slice = allowance / 20;
    return slice > 0 ? slice : 1;
}

/* the slice of the scope is used up until the next sync (the others have not seen it) */
static bool slice_used(lk_signin *s, bool peers, char kind, const char *hex, const char *hex2, int64_t slice,
                       int64_t now)
{
    char sc[LK_SIGNIN_SCOPE_MAX];
    return peers && lk_signin_share_pending(s->share, scope(sc, kind, hex, hex2), now) >= slice;
}

static bool reserve_locked(lk_signin *s, const char *email, const char *address, int64_t now, int64_t *retry_after)
{
    char folded[EMAIL_MAX + 1], akey[KEY_MAX], pkey[KEY_MAX];
    size_t flen = fold_email(email, folded);
    size_t alen = address_key(akey, 'a', address);
    names n;
    names_of(&n, folded, flen, address);
    apply_clears(s, &n, folded, flen, address, now);
    bool peers = lk_signin_share_peers(s->share);
    if (slice_used(s, peers, 'a', n.address, NULL, slice_of(s->address_limit), now)) {
        *retry_after = 1;
        return false;
    }
    int64_t wait = 0;
    limit_ctx lc = {.limit = s->address_limit, .window = s->window, .others = seen(s, 'a', n.address, NULL)};
    if (lk_throttle_take(s->addresses, akey, alen, now, limit_policy, &lc, &wait) != LK_THROTTLE_TAKEN) {
        *retry_after = wait > 0 ? wait : 1;
        return false;
    }
    lk_throttle_entry acct;
    int64_t account_failures = seen(s, 'A', n.account, NULL).hour;
    if (lk_throttle_peek(s->accounts, folded, flen, now, &acct))
        account_failures += acct.failures;
    bool hot = account_failures >= LK_SIGNIN_ACCOUNT_HOT;
    lk_throttle_take_result r = LK_THROTTLE_WAIT;
    if (slice_used(s, peers, 'p', n.account, n.pair, 1, now)) {
        wait = 1;
    } else {
        delay_ctx dc = {.free_ = hot ? 1 : LK_SIGNIN_FREE, .others = seen(s, 'p', n.account, n.pair)};
        size_t plen = pair_key(s, pkey, folded, flen, address, now);
        r = lk_throttle_take(s->pairs, pkey, plen, now, delay_policy, &dc, &wait);
    }
    if (r == LK_THROTTLE_WAIT) {
        lk_throttle_refund(s->addresses, akey, alen, now);
        *retry_after = wait > 0 ? wait : 1;
        return false;
    }
    share(s, 'a', n.address, NULL, now, +1);
    /* a full table of pairs leaves the address's allowance as the limit (docs) */
    if (r == LK_THROTTLE_TAKEN)
        share(s, 'p', n.account, n.pair, now, +1);
    return true;
}

bool lk_signin_reserve(lk_signin *s, const char *email, const char *address, int64_t now, int64_t *retry_after)
{
    pthread_mutex_lock(&s->reserve_mu);
    bool ok = reserve_locked(s, email, address, now, retry_after);
    pthread_mutex_unlock(&s->reserve_mu);
    return ok;
}

void lk_signin_done(lk_signin *s, const char *email, const char *address, lk_signin_outcome how, int64_t now)
{
    char folded[EMAIL_MAX + 1], akey[KEY_MAX], pkey[KEY_MAX];
    size_t flen = fold_email(email, folded);
    size_t alen = address_key(akey, 'a', address);
    size_t plen = pair_key(s, pkey, folded, flen, address, now);
    names n;
    names_of(&n, folded, flen, address);
    char sc[LK_SIGNIN_SCOPE_MAX];
    switch (how) {
    case LK_SIGNIN_SUCCESS:
        lk_throttle_refund(s->addresses, akey, alen, now);
        lk_throttle_forget(s->pairs, pkey, plen);
        share(s, 'a', n.address, NULL, now, -1);
        share(s, 'p', n.account, n.pair, now, -1);
        /* the pair's failures on every process are forgotten */
        lk_signin_share_clear(s->share, scope(sc, 'y', n.pair, NULL), now);
        break;
    case LK_SIGNIN_FAILED:
        /* the delay runs from the failure, not from the reservation before the check */
        lk_throttle_touch(s->pairs, pkey, plen, now);
        (void)lk_throttle_fail(s->accounts, folded, flen, now);
        share(s, 'A', n.account, NULL, now, +1);
        break;
    case LK_SIGNIN_UNDECIDED:
        lk_throttle_refund(s->addresses, akey, alen, now);
        lk_throttle_refund(s->pairs, pkey, plen, now);
        share(s, 'a', n.address, NULL, now, -1);
        share(s, 'p', n.account, n.pair, now, -1);
        break;
    }
}

static void clear_local(lk_signin *s, const char *folded, size_t flen, int64_t now)
{
    lk_throttle_forget(s->accounts, folded, flen);
    /* a new epoch: the pair keys of the account change */
    lk_throttle_forget(s->clears, folded, flen);
    (void)lk_throttle_fail(s->clears, folded, flen, now);
}

void lk_signin_clear(lk_signin *s, const char *email, int64_t now)
{
    char folded[EMAIL_MAX + 1], account[LK_SIGNIN_HEX], sc[LK_SIGNIN_SCOPE_MAX];
    size_t flen = fold_email(email, folded);
    clear_local(s, folded, flen, now);
    /* and on every process */
    lk_signin_share_digest(folded, flen, account);
    lk_signin_share_clear(s->share, scope(sc, 'x', account, NULL), now);
}

bool lk_signin_forgot(lk_signin *s, const char *address, int64_t now, int64_t *retry_after)
{
    char key[KEY_MAX], hex[LK_SIGNIN_HEX];
    size_t len = address_key(key, 'f', address);
    lk_signin_share_digest(address ? address : "", strnlen(address ? address : "", 63), hex);
    int64_t wait = 0;
    pthread_mutex_lock(&s->reserve_mu);
    bool ok = !slice_used(s, lk_signin_share_peers(s->share), 'f', hex, NULL, slice_of(s->address_limit), now);
    limit_ctx lc = {.limit = s->address_limit, .window = s->window, .others = seen(s, 'f', hex, NULL)};
    ok = ok && lk_throttle_take(s->addresses, key, len, now, limit_policy, &lc, &wait) == LK_THROTTLE_TAKEN;
    if (ok)
        share(s, 'f', hex, NULL, now, +1);
    pthread_mutex_unlock(&s->reserve_mu);
    if (!ok)
        *retry_after = wait > 0 ? wait : 1;
    return ok;
}
