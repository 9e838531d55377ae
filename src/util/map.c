/*
 * map — open addressing with linear probing over a power-of-two table.
 *
 * Invariants:
 * - Every slot is either empty (hash == 0) or holds one entry; a stored hash is
 *   never 0 (lk_map_hash* forces the low bit on), so no separate "used" flag.
 * - No tombstones: deletion shifts the following entries of the cluster back
 *   (Knuth's Algorithm R), so every entry stays reachable from its home slot by
 *   a probe that meets no empty slot, and lookups of absent keys stop at the
 *   first empty slot.
 * - Load stays at or below 70 %: a put that would pass it doubles the table
 *   first. Deletion never shrinks the table (iteration relies on it).
 *
 * The hashes are fast, not keyed: the keys latchkey puts here are BLAKE2b hashes,
 * generated ids and dates, never strings an attacker chooses freely.
 */
#include "util/map.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

_Static_assert(sizeof(size_t) >= 8, "lk_map_next packs two 32-bit indexes into a size_t");

typedef struct lk_map_slot {
    uint64_t hash;               /* 0: empty */
    union {
        const char *s;           /* borrowed */
        int64_t i;
    } key;
    void *value;                 /* borrowed */
} lk_map_slot;

struct lk_map {
    lk_map_slot *slots;          /* owned */
    size_t mask;                 /* capacity - 1 */
    size_t size;
    bool str_keys;
};

#define LK_MAP_MIN_CAP 8
#define LK_MAP_MAX_CAP ((size_t)1 << 31)

static uint64_t lk_map_mix64(uint64_t x)
{
    /* splitmix64's finaliser */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t lk_map_hash_int(int64_t k)
{
    return lk_map_mix64((uint64_t)k) | 1;
}

/* 8 bytes at a time, each word folded in with a 64x64->128 multiply (wyhash style) */
static uint64_t lk_map_fold(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t lk_map_hash_str(const char *s)
{
    size_t n = strlen(s);
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
    const unsigned char *p = (const unsigned char *)s;
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = lk_map_fold(h ^ w, 0xa0761d6478bd642fULL);
    }
    if (n) {
        uint64_t w = 0;
        memcpy(&w, p, n);
        h = lk_map_fold(h ^ w, 0xe7037ed1a0b428dbULL);
    }
    return lk_map_mix64(h) | 1;
}

static size_t lk_map_cap_for(size_t expected)
{
    size_t cap = LK_MAP_MIN_CAP;
    while (cap < LK_MAP_MAX_CAP && cap * 7 < expected * 10)
        cap <<= 1;
    return cap;
}

static lk_map *lk_map_new(size_t expected, bool str_keys)
{
    lk_map *m = lk_xcalloc(1, sizeof *m);
    size_t cap = lk_map_cap_for(expected);
    m->slots = lk_xcalloc(cap, sizeof *m->slots);
    m->mask = cap - 1;
    m->str_keys = str_keys;
    return m;
}

lk_map *lk_map_new_str(size_t expected)
{
    return lk_map_new(expected, true);
}

lk_map *lk_map_new_int(size_t expected)
{
    return lk_map_new(expected, false);
}

void lk_map_free(lk_map *m)
{
    if (!m)
        return;
    free(m->slots);
    free(m);
}

size_t lk_map_size(const lk_map *m)
{
    return m->size;
}

static bool lk_map_same(const lk_map *m, const lk_map_slot *sl, uint64_t h, const char *skey, int64_t ikey)
{
    if (sl->hash != h)
        return false;
    return m->str_keys ? strcmp(sl->key.s, skey) == 0 : sl->key.i == ikey;
}

/* the slot holding the key, or the empty slot that ends its probe */
static size_t lk_map_find(const lk_map *m, uint64_t h, const char *skey, int64_t ikey)
{
    size_t i = (size_t)h & m->mask;
    while (m->slots[i].hash && !lk_map_same(m, &m->slots[i], h, skey, ikey))
        i = (i + 1) & m->mask;
    return i;
}

static void lk_map_grow(lk_map *m)
{
    size_t old_cap = m->mask + 1;
    if (old_cap >= LK_MAP_MAX_CAP)
        return; /* stays correct (probes lengthen) until the table is full */
    lk_map_slot *old = m->slots;
    size_t cap = old_cap * 2;
    m->slots = lk_xcalloc(cap, sizeof *m->slots);
    m->mask = cap - 1;
    for (size_t j = 0; j < old_cap; j++) {
        if (!old[j].hash)
            continue;
        size_t i = (size_t)old[j].hash & m->mask;
        while (m->slots[i].hash)
            i = (i + 1) & m->mask;
        m->slots[i] = old[j];
    }
    free(old);
}

static void *lk_map_put(lk_map *m, uint64_t h, const char *skey, int64_t ikey, void *value)
{
    size_t i = lk_map_find(m, h, skey, ikey);
    if (m->slots[i].hash) {
        void *prev = m->slots[i].value;
        m->slots[i].value = value;
        if (m->str_keys)
            m->slots[i].key.s = skey; /* the new key is the one that must outlive the entry */
        return prev;
    }
    if ((m->size + 1) * 10 > (m->mask + 1) * 7) {
        lk_map_grow(m);
        i = lk_map_find(m, h, skey, ikey);
    }
    if (m->size + 1 > m->mask)
        abort(); /* a table of 2^31 slots is full: nothing sensible is left to do */
    lk_map_slot *sl = &m->slots[i];
    sl->hash = h;
    if (m->str_keys)
        sl->key.s = skey;
    else
        sl->key.i = ikey;
    sl->value = value;
    m->size++;
    return NULL;
}

/* empties slot i and closes the gap so that no probe sequence is broken */
static void lk_map_remove_at(lk_map *m, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & m->mask;
        if (!m->slots[j].hash)
            break;
        size_t home = (size_t)m->slots[j].hash & m->mask;
        /* the entry at j may move to i only if its home is not cyclically in (i, j] */
        bool home_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (home_between)
            continue;
        m->slots[i] = m->slots[j];
        i = j;
    }
    memset(&m->slots[i], 0, sizeof m->slots[i]);
    m->size--;
}

static void *lk_map_del(lk_map *m, uint64_t h, const char *skey, int64_t ikey)
{
    size_t i = lk_map_find(m, h, skey, ikey);
    if (!m->slots[i].hash)
        return NULL;
    void *value = m->slots[i].value;
    lk_map_remove_at(m, i);
    return value;
}

void *lk_map_put_str(lk_map *m, const char *key, void *value)
{
    return lk_map_put(m, lk_map_hash_str(key), key, 0, value);
}

void *lk_map_put_int(lk_map *m, int64_t key, void *value)
{
    return lk_map_put(m, lk_map_hash_int(key), NULL, key, value);
}

void *lk_map_get_str(const lk_map *m, const char *key)
{
    size_t i = lk_map_find(m, lk_map_hash_str(key), key, 0);
    return m->slots[i].hash ? m->slots[i].value : NULL;
}

void *lk_map_get_int(const lk_map *m, int64_t key)
{
    size_t i = lk_map_find(m, lk_map_hash_int(key), NULL, key);
    return m->slots[i].hash ? m->slots[i].value : NULL;
}

void *lk_map_del_str(lk_map *m, const char *key)
{
    return lk_map_del(m, lk_map_hash_str(key), key, 0);
}

void *lk_map_del_int(lk_map *m, int64_t key)
{
    return lk_map_del(m, lk_map_hash_int(key), NULL, key);
}

/*
 * Iteration walks the table downwards, cyclically, starting just below an empty
 * slot e chosen at the first call, and visits the other capacity - 1 slots once.
 * Why this order: removing the entry just returned (at p) shifts entries back
 * from the slots between p and the next empty slot, which is at the latest e; all
 * of those have been visited already, and an entry only moves into a visited slot.
 * So nothing is skipped and nothing is returned twice. e itself stays empty,
 * since a removal only fills slots it has just emptied.
 *
 * *pos packs (e << 32) | steps taken; 0 means "not started".
 */
bool lk_map_next(const lk_map *m, size_t *pos, const char **skey, int64_t *ikey, void **value)
{
    size_t cap = m->mask + 1;
    size_t e, step;
    if (*pos == 0) {
        if (m->size == 0)
            return false;
        e = 0;
        while (m->slots[e].hash)
            e++; /* load <= 70 %: an empty slot exists */
        step = 0;
    } else {
        e = *pos >> 32;
        step = *pos & 0xffffffffu;
    }
    while (step < cap - 1) {
        step++;
        size_t i = (e - step) & m->mask;
        const lk_map_slot *sl = &m->slots[i];
        if (!sl->hash)
            continue;
        *pos = (e << 32) | step;
        if (skey)
            *skey = m->str_keys ? sl->key.s : NULL;
        if (ikey)
            *ikey = m->str_keys ? 0 : sl->key.i;
        if (value)
            *value = sl->value;
        return true;
    }
    *pos = (e << 32) | step;
    return false;
}
