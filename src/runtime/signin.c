/*
 * signin — the throttles of console sign-ins (signin.h).
 *
 * Keys: "a" NUL address (an address's sign-ins), "f" NUL address (its forgot-password
 * requests) in one table; "p" NUL epoch NUL email NUL address in the pairs' table;
 * the email in the accounts' and the clears' tables. Emails are folded to lower case
 * (ASCII), as the store compares them. A completed reset records its instant in the
 * clears' table; that instant is part of the pair keys, so every pair of the account
 * starts again without having to find them.
 */
#include "runtime/signin.h"
#include "runtime/throttle.h"
#include "util/xalloc.h"

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
    int64_t address_limit;
};

lk_signin *lk_signin_new(size_t capacity, int64_t address_limit, int64_t address_window)
{
    lk_signin *s = lk_xcalloc(1, sizeof *s);
    s->addresses = lk_throttle_new(capacity, address_window);
    s->pairs = lk_throttle_new_sliding(capacity, LK_SIGNIN_PAIR_WINDOW);
    s->accounts = lk_throttle_new_sliding(capacity, LK_SIGNIN_PAIR_WINDOW);
    s->clears = lk_throttle_new(capacity / 16 + 16, CLEAR_WINDOW);
    s->address_limit = address_limit > 0 ? address_limit : 1;
    return s;
}

void lk_signin_free(lk_signin *s)
{
    if (!s)
        return;
    lk_throttle_free(s->addresses);
    lk_throttle_free(s->pairs);
    lk_throttle_free(s->accounts);
    lk_throttle_free(s->clears);
    free(s);
}

void lk_signin_purge(lk_signin *s, int64_t now)
{
    lk_throttle_purge(s->addresses, now);
    lk_throttle_purge(s->pairs, now);
    lk_throttle_purge(s->accounts, now);
    lk_throttle_purge(s->clears, now);
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

/* at most `limit` failures per window */
static int64_t limit_policy(const lk_throttle_entry *e, int64_t now, const void *ctx)
{
    int64_t limit = *(const int64_t *)ctx;
    return e->failures >= limit ? e->ends - now : 0;
}

/* `free` failures, then a delay doubling with each further one (2 s, 4 s, …), counted
 * from when the latest failure was known */
static int64_t delay_policy(const lk_throttle_entry *e, int64_t now, const void *ctx)
{
    int64_t free_ = *(const int64_t *)ctx;
    if (e->failures < free_)
        return 0;
    int64_t k = e->failures - free_;
    int64_t delay = k >= 10 ? LK_SIGNIN_DELAY_MAX : (int64_t)2 << k;
    if (delay > LK_SIGNIN_DELAY_MAX)
        delay = LK_SIGNIN_DELAY_MAX;
    int64_t wait = e->last + delay - now;
    return wait > 0 ? wait : 0;
}

/* ---- sign-ins ------------------------------------------------------------------------ */

bool lk_signin_reserve(lk_signin *s, const char *email, const char *address, int64_t now, int64_t *retry_after)
{
    char folded[EMAIL_MAX + 1], akey[KEY_MAX], pkey[KEY_MAX];
    size_t flen = fold_email(email, folded);
    size_t alen = address_key(akey, 'a', address);
    int64_t wait = 0;
    if (lk_throttle_take(s->addresses, akey, alen, now, limit_policy, &s->address_limit, &wait) != LK_THROTTLE_TAKEN) {
        *retry_after = wait > 0 ? wait : 1;
        return false;
    }
    lk_throttle_entry acct;
    bool hot = lk_throttle_peek(s->accounts, folded, flen, now, &acct) && acct.failures >= LK_SIGNIN_ACCOUNT_HOT;
    int64_t free_ = hot ? 1 : LK_SIGNIN_FREE;
    size_t plen = pair_key(s, pkey, folded, flen, address, now);
    lk_throttle_take_result r = lk_throttle_take(s->pairs, pkey, plen, now, delay_policy, &free_, &wait);
    if (r == LK_THROTTLE_WAIT) {
        lk_throttle_refund(s->addresses, akey, alen, now);
        *retry_after = wait;
        return false;
    }
    /* a full table of pairs leaves the address's allowance as the limit (docs) */
    return true;
}

void lk_signin_done(lk_signin *s, const char *email, const char *address, lk_signin_outcome how, int64_t now)
{
    char folded[EMAIL_MAX + 1], akey[KEY_MAX], pkey[KEY_MAX];
    size_t flen = fold_email(email, folded);
    size_t alen = address_key(akey, 'a', address);
    size_t plen = pair_key(s, pkey, folded, flen, address, now);
    switch (how) {
    case LK_SIGNIN_SUCCESS:
        lk_throttle_refund(s->addresses, akey, alen, now);
        lk_throttle_forget(s->pairs, pkey, plen);
        break;
    case LK_SIGNIN_FAILED:
        /* the delay runs from the failure, not from the reservation before the check */
        lk_throttle_touch(s->pairs, pkey, plen, now);
        (void)lk_throttle_fail(s->accounts, folded, flen, now);
        break;
    case LK_SIGNIN_UNDECIDED:
        lk_throttle_refund(s->addresses, akey, alen, now);
        lk_throttle_refund(s->pairs, pkey, plen, now);
        break;
    }
}

void lk_signin_clear(lk_signin *s, const char *email, int64_t now)
{
    char folded[EMAIL_MAX + 1];
    size_t flen = fold_email(email, folded);
    lk_throttle_forget(s->accounts, folded, flen);
    /* a new epoch: the pair keys of the account change */
    lk_throttle_forget(s->clears, folded, flen);
    (void)lk_throttle_fail(s->clears, folded, flen, now);
}

bool lk_signin_forgot(lk_signin *s, const char *address, int64_t now, int64_t *retry_after)
{
    char key[KEY_MAX];
    size_t len = address_key(key, 'f', address);
    int64_t wait = 0;
    if (lk_throttle_take(s->addresses, key, len, now, limit_policy, &s->address_limit, &wait) == LK_THROTTLE_TAKEN)
        return true;
    *retry_after = wait > 0 ? wait : 1;
    return false;
}
