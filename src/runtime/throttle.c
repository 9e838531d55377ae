/*
 * throttle — a fixed table of failure counts (throttle.h).
 *
 * Each shard is an open-addressing array twice its share of the capacity, with
 * linear probing. A slot is empty (hash 0), live (its window runs) or stale (its
 * window ended: free for reuse, but still on the probe paths of others, so it is
 * never turned back into empty except by a purge, which rebuilds the shard). A new
 * key takes the first stale slot on its probe path, else the empty slot that ends
 * it — but an empty slot only while the shard holds fewer than its share of
 * non-empty slots (so at most half the array is ever used, and probes stay short).
 */
#include "runtime/throttle.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    uint64_t hash;               /* 0: empty */
    int64_t window_start;
    int64_t failures;
    int64_t last;                /* the latest failure */
} slot;

typedef struct shard {
    _Alignas(64) pthread_mutex_t mu;
    slot *slots;
    size_t mask;
    size_t used;                 /* non-empty slots (live or stale) */
    size_t share;                /* keys allowed (used never passes it) */
    int64_t full_at;             /* the second the shard was last found full of running windows */
} shard;

struct lk_throttle {
    unsigned char key[crypto_shorthash_KEYBYTES];
    int64_t window;
    bool sliding;                /* the window runs from the latest failure, not the first */
    size_t n_shards;
    shard *shards;
};

lk_throttle *lk_throttle_new(size_t capacity, int64_t window)
{
    if (capacity < 1)
        capacity = 1;
    lk_throttle *t = lk_xcalloc(1, sizeof *t);
    crypto_shorthash_keygen(t->key);
    t->window = window > 0 ? window : 1;
    t->n_shards = capacity >= 4096 ? 16 : 1;
    t->shards = aligned_alloc(_Alignof(shard), t->n_shards * sizeof(shard));
    if (!t->shards)
        abort();
    memset(t->shards, 0, t->n_shards * sizeof(shard));
    for (size_t i = 0; i < t->n_shards; i++) {
        shard *s = &t->shards[i];
        pthread_mutex_init(&s->mu, NULL);
        s->share = (capacity + t->n_shards - 1) / t->n_shards;
        s->full_at = INT64_MIN;
        size_t cap = 8;
        while (cap < 2 * s->share)
            cap <<= 1;
        s->slots = lk_xcalloc(cap, sizeof *s->slots);
        s->mask = cap - 1;
    }
    return t;
}

lk_throttle *lk_throttle_new_sliding(size_t capacity, int64_t window)
{
    lk_throttle *t = lk_throttle_new(capacity, window);
    t->sliding = true;
    return t;
}

void lk_throttle_free(lk_throttle *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_shards; i++) {
        free(t->shards[i].slots);
        pthread_mutex_destroy(&t->shards[i].mu);
    }
    free(t->shards);
    sodium_memzero(t->key, sizeof t->key);
    free(t);
}

static uint64_t hash_of(const lk_throttle *t, const void *key, size_t len)
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, len, t->key);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return v ? v : 1;
}

static shard *shard_of(lk_throttle *t, uint64_t h)
{
    return &t->shards[(h >> 56) % t->n_shards];
}

static int64_t since_of(const lk_throttle *t, const slot *e)
{
    return t->sliding ? e->last : e->window_start;
}

static bool live(const lk_throttle *t, const slot *e, int64_t now)
{
    return e->hash && now - since_of(t, e) < t->window && now >= e->window_start;
}

/* the key's slot, NULL if absent; *reuse gets the first stale or empty slot of its path */
static slot *find(lk_throttle *t, shard *s, uint64_t h, int64_t now, slot **reuse)
{
    slot *first_free = NULL;
    for (size_t i = (size_t)h & s->mask;; i = (i + 1) & s->mask) {
        slot *e = &s->slots[i];
        if (!e->hash) {
            if (reuse)
                *reuse = first_free ? first_free : e;
            return NULL;
        }
        if (e->hash == h)
            return e;
        if (!first_free && !live(t, e, now))
            first_free = e;
    }
}

static size_t live_count(const lk_throttle *t, const shard *s, int64_t now)
{
    size_t n = 0;
    for (size_t i = 0; i <= s->mask; i++)
        n += live(t, &s->slots[i], now);
    return n;
}

/* drops stale slots: a fresh array with the live ones only */
static void rebuild(lk_throttle *t, shard *s, int64_t now)
{
    slot *old = s->slots;
    size_t cap = s->mask + 1;
    s->slots = lk_xcalloc(cap, sizeof *s->slots);
    s->used = 0;
    for (size_t j = 0; j < cap; j++) {
        if (!live(t, &old[j], now))
            continue;
        size_t i = (size_t)old[j].hash & s->mask;
        while (s->slots[i].hash)
            i = (i + 1) & s->mask;
        s->slots[i] = old[j];
        s->used++;
    }
    free(old);
}

bool lk_throttle_blocked(lk_throttle *t, const void *key, size_t len, int64_t limit, int64_t now,
                         int64_t *retry_after)
{
    uint64_t h = hash_of(t, key, len);
    shard *s = shard_of(t, h);
    pthread_mutex_lock(&s->mu);
    slot *e = find(t, s, h, now, NULL);
    bool blocked = e && live(t, e, now) && e->failures >= limit;
    if (blocked && retry_after)
        *retry_after = t->window - (now - e->window_start);
    pthread_mutex_unlock(&s->mu);
    return blocked;
}

/* counts one failure of h (shard locked); false when the table is full */
static bool count_locked(lk_throttle *t, shard *s, uint64_t h, slot *e, slot *reuse, int64_t now)
{
    if (e && live(t, e, now)) {
        e->failures++;
        e->last = now;
        return true;
    }
    if (e) {
        *e = (slot){.hash = h, .window_start = now, .failures = 1, .last = now}; /* its window ended: a new one */
        return true;
    }
    /* a new key in an empty slot needs room: drop the stale slots first (at most
     * once a second while the shard stays full, so a flood costs a probe each) */
    if (reuse->hash == 0 && s->used >= s->share && s->full_at != now) {
        rebuild(t, s, now);
        find(t, s, h, now, &reuse);
    }
    if (reuse->hash == 0 && s->used >= s->share) {
        s->full_at = now;
        return false;   /* full of running windows */
    }
    if (reuse->hash == 0)
        s->used++;
    *reuse = (slot){.hash = h, .window_start = now, .failures = 1, .last = now};
    return true;
}

bool lk_throttle_fail(lk_throttle *t, const void *key, size_t len, int64_t now)
{
    uint64_t h = hash_of(t, key, len);
    shard *s = shard_of(t, h);
    pthread_mutex_lock(&s->mu);
    slot *reuse = NULL;
    slot *e = find(t, s, h, now, &reuse);
    bool counted = count_locked(t, s, h, e, reuse, now);
    pthread_mutex_unlock(&s->mu);
    return counted;
}

/* the entry's state as a policy sees it: zeros for an absent key or an ended window */
static lk_throttle_entry entry_of(const lk_throttle *t, const slot *e, int64_t now)
{
    if (!e || !live(t, e, now))
        return (lk_throttle_entry){0};
    return (lk_throttle_entry){.failures = e->failures, .start = e->window_start, .last = e->last,
                               .ends = since_of(t, e) + t->window};
}

lk_throttle_take_result lk_throttle_take(lk_throttle *t, const void *key, size_t len, int64_t now,
                                         lk_throttle_policy policy, const void *ctx, int64_t *retry_after)
{
    uint64_t h = hash_of(t, key, len);
    shard *s = shard_of(t, h);
    pthread_mutex_lock(&s->mu);
    slot *reuse = NULL;
    slot *e = find(t, s, h, now, &reuse);
    lk_throttle_entry cur = entry_of(t, e, now);
    int64_t wait = policy(&cur, now, ctx);
    lk_throttle_take_result res = LK_THROTTLE_TAKEN;
    if (wait > 0)
        res = LK_THROTTLE_WAIT;
    else if (!count_locked(t, s, h, e, reuse, now))
        res = LK_THROTTLE_FULL;
    pthread_mutex_unlock(&s->mu);
    if (retry_after)
        *retry_after = res == LK_THROTTLE_WAIT ? wait : res == LK_THROTTLE_FULL ? t->window : 0;
    return res;
}

void lk_throttle_refund(lk_throttle *t, const void *key, size_t len, int64_t now)
{
    uint64_t h = hash_of(t, key, len);
    shard *s = shard_of(t, h);
    pthread_mutex_lock(&s->mu);
    slot *e = find(t, s, h, now, NULL);
    if (e && live(t, e, now) && e->failures > 0)
        e->failures--;
    pthread_mutex_unlock(&s->mu);
}

bool lk_throttle_set(lk_throttle *t, const void *key, size_t len, int64_t failures, int64_t start, int64_t now)
{
    uint64_t h = hash_of(t, key, len);
    shard *s = shard_of(t, h);
    pthread_mutex_lock(&s->mu);
    slot *reuse = NULL;
    slot *e = find(t, s, h, now, &reuse);
    bool ok = e || count_locked(t, s, h, NULL, reuse, now);
    if (ok) {
        e = e ? e : find(t, s, h, now, NULL);
        *e = (slot){.hash = h, .window_start = start, .failures = failures, .last = now};
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

void lk_throttle_touch(lk_throttle *t, const void *key, size_t len, int64_t now)
{
    uint64_t h = hash_of(t, key, len);
    shard *s = shard_of(t, h);
    pthread_mutex_lock(&s->mu);
    slot *e = find(t, s, h, now, NULL);
    if (e && live(t, e, now) && now > e->last)
        e->last = now;
    pthread_mutex_unlock(&s->mu);
}

bool lk_throttle_peek(lk_throttle *t, const void *key, size_t len, int64_t now, lk_throttle_entry *out)
{
    uint64_t h = hash_of(t, key, len);
    shard *s = shard_of(t, h);
    pthread_mutex_lock(&s->mu);
    *out = entry_of(t, find(t, s, h, now, NULL), now);
    pthread_mutex_unlock(&s->mu);
    return out->failures > 0;
}

void lk_throttle_forget(lk_throttle *t, const void *key, size_t len)
{
    uint64_t h = hash_of(t, key, len);
    shard *s = shard_of(t, h);
    pthread_mutex_lock(&s->mu);
    slot *e = find(t, s, h, 0, NULL);
    if (e)
        e->window_start = e->last = INT64_MIN / 2; /* stale: its slot is free for reuse */
    pthread_mutex_unlock(&s->mu);
}

void lk_throttle_purge(lk_throttle *t, int64_t now)
{
    for (size_t i = 0; i < t->n_shards; i++) {
        pthread_mutex_lock(&t->shards[i].mu);
        rebuild(t, &t->shards[i], now);
        pthread_mutex_unlock(&t->shards[i].mu);
    }
}

size_t lk_throttle_size(lk_throttle *t, int64_t now)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_shards; i++) {
        pthread_mutex_lock(&t->shards[i].mu);
        n += live_count(t, &t->shards[i], now);
        pthread_mutex_unlock(&t->shards[i].mu);
    }
    return n;
}
