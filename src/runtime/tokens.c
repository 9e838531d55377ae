/*
 * tokens — issuing, checking and revoking self-verifying tokens (tokens.h).
 *
 * Shared state and who writes it:
 * - The keys: an immutable ring behind an atomic pointer, replaced whole when the
 *   key file changes; the old ring goes to the catalog's reclamation domain (wiped
 *   when freed). Readers load it once per call.
 * - A service's current token: four words inside its catalog entry (catalog.h), a
 *   sequence lock — the sequence is odd while an issuer writes its few words, and
 *   others wait those out; an issuer claims the sequence it read, so of simultaneous
 *   first requests one mints and the others hand out its token. The words hold the
 *   issue and expiry instants, the key id and the token id; the token's text is
 *   rebuilt from them (one keyed hash), so nothing secret sits in the catalog.
 * - Revocations: a lock-free index keyed by token id (SipHash under this process's
 *   key), written under rev_mu by the feed applier and the purge.
 * - The 602 bookkeeping: a map under expired_mu, touched only by expired tokens.
 */
#include "runtime/tokens.h"
#include "util/cindex.h"
#include "util/ebr.h"
#include "util/map.h"
#include "util/xalloc.h"

#include <assert.h>
#include <pthread.h>
#include <sched.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct key_box {
    lk_keyring ring;
} key_box;

typedef struct rev_entry {
    unsigned char id[LK_TOKEN_ID_BYTES];
    int64_t expires_at;
} rev_entry;

struct lk_tokens {
    lk_catalog *cat;
    lk_ebr *ebr;                   /* the catalog's */
    unsigned char hash_key[crypto_shorthash_KEYBYTES];

    _Atomic(key_box *) keys;
    pthread_mutex_t keys_mu;       /* reloads */
    char key_path[4096];
    uint64_t key_stamp;

    pthread_mutex_t rev_mu;
    lk_cindex *revoked;

    pthread_mutex_t expired_mu;
    lk_map *expired;               /* hash of a token id -> its expiry (the 602 was answered) */
    size_t expired_capacity;
};

/* ---- keyed hashes of token ids --------------------------------------------------------- */

static uint64_t id_hash_of(const unsigned char *key, const unsigned char id[LK_TOKEN_ID_BYTES])
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, id, LK_TOKEN_ID_BYTES, key);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return v;
}

static uint64_t rev_hash(const void *e, const void *ctx)
{
    return id_hash_of(ctx, ((const rev_entry *)e)->id);
}

static bool rev_match(const void *e, const void *key)
{
    return memcmp(((const rev_entry *)e)->id, key, LK_TOKEN_ID_BYTES) == 0;
}

static void box_free(void *p)
{
    key_box *b = p;
    lk_keyring_clear(&b->ring);
    free(b);
}

lk_tokens *lk_tokens_new(lk_catalog *cat, int expired_capacity)
{
    lk_tokens *t = lk_xcalloc(1, sizeof *t);
    t->cat = cat;
    t->ebr = lk_catalog_domain(cat);
    crypto_shorthash_keygen(t->hash_key);
    atomic_init(&t->keys, lk_xcalloc(1, sizeof(key_box)));
    pthread_mutex_init(&t->keys_mu, NULL);
    pthread_mutex_init(&t->rev_mu, NULL);
    t->revoked = lk_cindex_new(t->ebr, rev_hash, rev_match, t->hash_key);
    pthread_mutex_init(&t->expired_mu, NULL);
    t->expired = lk_map_new_int(64);
    t->expired_capacity = expired_capacity > 0 ? (size_t)expired_capacity : 100000;
    return t;
}

void lk_tokens_free(lk_tokens *t)
{
    if (!t)
        return;
    lk_cindex_iter it = {0};
    void *e;
    while (lk_cindex_next(t->revoked, &it, &e))
        free(e);
    lk_cindex_free(t->revoked);
    box_free(atomic_load(&t->keys));
    lk_map_free(t->expired);
    pthread_mutex_destroy(&t->keys_mu);
    pthread_mutex_destroy(&t->rev_mu);
    pthread_mutex_destroy(&t->expired_mu);
    sodium_memzero(t->hash_key, sizeof t->hash_key);
    free(t);
}

/* ---- keys ---------------------------------------------------------------------------- */

static void use_ring(lk_tokens *t, const lk_keyring *ring)
{
    key_box *b = lk_xcalloc(1, sizeof *b);
    b->ring = *ring;
    key_box *old = atomic_exchange_explicit(&t->keys, b, memory_order_acq_rel);
    lk_ebr_retire(t->ebr, old, box_free);
}

void lk_tokens_set_keys(lk_tokens *t, const lk_keyring *k)
{
    pthread_mutex_lock(&t->keys_mu);
    use_ring(t, k);
    pthread_mutex_unlock(&t->keys_mu);
}

lk_code lk_tokens_load_keys(lk_tokens *t, const char *path, bool create, int64_t now, lk_error *err)
{
    lk_keyring ring;
    lk_code rc = lk_keys_load(path, create, now, &ring, err);
    if (rc != LK_OK)
        return rc;
    pthread_mutex_lock(&t->keys_mu);
    snprintf(t->key_path, sizeof t->key_path, "%s", path);
    t->key_stamp = lk_keys_file_stamp(path);
    use_ring(t, &ring);
    pthread_mutex_unlock(&t->keys_mu);
    lk_keyring_clear(&ring);
    return LK_OK;
}

bool lk_tokens_reload_keys(lk_tokens *t, bool force, int64_t now, lk_error *err)
{
    pthread_mutex_lock(&t->keys_mu);
    bool ok = true;
    uint64_t stamp = t->key_path[0] ? lk_keys_file_stamp(t->key_path) : 0;
    if (t->key_path[0] && (force || stamp != t->key_stamp)) {
        lk_keyring ring;
        if (lk_keys_load(t->key_path, false, now, &ring, err) == LK_OK) {
            use_ring(t, &ring);
            t->key_stamp = stamp;
            lk_keyring_clear(&ring);
        } else {
            ok = false;
            t->key_stamp = stamp; /* said once per change of the file, not at every poll */
        }
    }
    pthread_mutex_unlock(&t->keys_mu);
    return ok;
}

int lk_tokens_signing_key(lk_tokens *t)
{
    const key_box *keys = atomic_load_explicit(&t->keys, memory_order_acquire);
    return keys->ring.n ? keys->ring.keys[0].id : -1;
}

static const lk_token_key *key_of(const lk_keyring *ring, int id)
{
    for (int i = 0; i < ring->n; i++)
        if (ring->keys[i].id == id)
            return &ring->keys[i];
    return NULL;
}

/* ---- a service's current token (a sequence lock in its catalog entry) --------------------- */

static void cache_pack(const lk_token_fields *f, uint64_t w[3])
{
    w[0] = ((uint64_t)f->issued_at << 32) | (uint64_t)(uint32_t)f->expires_at;
    w[1] = (uint64_t)(f->key_id & 0xff);
    for (int i = 0; i < 7; i++)
        w[1] |= (uint64_t)f->id[i] << (8 * (i + 1));
    w[2] = 0;
    for (int i = 7; i < LK_TOKEN_ID_BYTES; i++)
        w[2] |= (uint64_t)f->id[i] << (8 * (i - 7));
}

static void cache_unpack(const uint64_t w[3], lk_token_fields *f)
{
    f->issued_at = (int64_t)(w[0] >> 32);
    f->expires_at = (int64_t)(w[0] & 0xffffffffu);
    f->key_id = (int)(w[1] & 0xff);
    for (int i = 0; i < 7; i++)
        f->id[i] = (unsigned char)(w[1] >> (8 * (i + 1)));
    for (int i = 7; i < LK_TOKEN_ID_BYTES; i++)
        f->id[i] = (unsigned char)(w[2] >> (8 * (i - 7)));
}

/*
 * The cached token's fields as of sequence *seq (even; 0: none cached). Waits out an
 * issuer that is writing them: it holds the sequence odd for a few stores, never
 * across a call (the random id is drawn before), so the wait is a preempted thread's.
 */
static bool cache_read(const lk_cat_service *svc, lk_token_fields *f, uint64_t *seq)
{
    lk_cat_token_cache *c = (lk_cat_token_cache *)&svc->token;
    for (unsigned spins = 0;; spins++) {
        uint64_t s1 = atomic_load_explicit(&c->seq, memory_order_acquire);
        if (!(s1 & 1)) {
            *seq = s1;
            if (s1 == 0)
                return false;
            uint64_t w[3];
            for (int i = 0; i < 3; i++)
                w[i] = atomic_load_explicit(&c->w[i], memory_order_relaxed);
            atomic_thread_fence(memory_order_acquire);
            if (atomic_load_explicit(&c->seq, memory_order_relaxed) == s1) {
                cache_unpack(w, f);
                return true;
            }
        }
        if (spins >= 64)
            sched_yield();
    }
}

/*
 * Makes f the service's current token if the sequence is still seq (what the caller
 * read and found wanting); false when another issuer got there first, and the caller
 * reads again (and finds that issuer's token).
 */
static bool cache_write(const lk_cat_service *svc, const lk_token_fields *f, uint64_t seq)
{
    lk_cat_token_cache *c = (lk_cat_token_cache *)&svc->token;
    uint64_t s = seq;
    assert(!(s & 1));
    if (!atomic_compare_exchange_strong_explicit(&c->seq, &s, seq + 1, memory_order_acquire, memory_order_relaxed))
        return false;
    atomic_thread_fence(memory_order_release);
    uint64_t w[3];
    cache_pack(f, w);
    for (int i = 0; i < 3; i++)
        atomic_store_explicit(&c->w[i], w[i], memory_order_relaxed);
    atomic_store_explicit(&c->seq, seq + 2, memory_order_release);
    return true;
}

/* ---- issuing and checking --------------------------------------------------------------- */

bool lk_tokens_issue(lk_tokens *t, const lk_cat_service *svc, int64_t now, int64_t ttl,
                     char out[LK_TOKEN_LEN + 1], lk_token_fields *f)
{
    if (ttl < 1)
        ttl = 1; /* a token born expired would only bounce between issue and 602 */
    const key_box *keys = atomic_load_explicit(&t->keys, memory_order_acquire);
    lk_token_fields fresh = {
        .service_id = svc->id,
        .epoch = svc->token_epoch,
        .issued_at = now,
        .expires_at = now + ttl,
    };
    char fresh_text[LK_TOKEN_LEN + 1];
    bool drawn = false;
    for (;;) {
        lk_token_fields cur;
        const lk_token_key *key;
        uint64_t seq;
        if (cache_read(svc, &cur, &seq) && cur.expires_at - now >= 1 && cur.issued_at <= now + 1 &&
            (key = key_of(&keys->ring, cur.key_id)) && !lk_tokens_is_revoked(t, cur.id)) {
            cur.service_id = svc->id;
            cur.epoch = svc->token_epoch;
            if (lk_token_encode(key, &cur, out)) {
                if (f)
                    *f = cur;
                return false;
            }
        }
        if (keys->ring.n == 0) {
            /* no key (never after a successful start) */
            memset(out, 0, LK_TOKEN_LEN + 1);
            if (f)
                memset(f, 0, sizeof *f);
            return false;
        }
        if (!drawn) {
            /* outside the sequence's odd window: drawing the id may be a system call */
            lk_token_new_id(fresh.id);
            if (!lk_token_encode(&keys->ring.keys[0], &fresh, fresh_text)) {
                /* an instant past 2106 */
                memset(out, 0, LK_TOKEN_LEN + 1);
                if (f)
                    memset(f, 0, sizeof *f);
                return false;
            }
            fresh.key_id = keys->ring.keys[0].id;
            drawn = true;
            continue; /* another issuer may have stored one meanwhile */
        }
        /* the cache held nothing usable at seq: ours becomes the current one, unless
         * another issuer's did since (then the next turn hands that one out) */
        if (!cache_write(svc, &fresh, seq))
            continue;
        memcpy(out, fresh_text, LK_TOKEN_LEN + 1);
        if (f)
            *f = fresh;
        return true;
    }
}

/* was the 602 of this expired token answered already? Records it when report. */
static bool expired_seen(lk_tokens *t, const lk_token_fields *f, bool report)
{
    int64_t key = (int64_t)(id_hash_of(t->hash_key, f->id) | 1);
    pthread_mutex_lock(&t->expired_mu);
    bool seen = lk_map_get_int(t->expired, key) != NULL;
    if (!seen && report) {
        if (lk_map_size(t->expired) < t->expired_capacity)
            lk_map_put_int(t->expired, key, (void *)(intptr_t)f->expires_at);
        else
            seen = true; /* no room to remember it: 601 rather than a 602 that repeats */
    }
    pthread_mutex_unlock(&t->expired_mu);
    return seen;
}

lk_token_state lk_tokens_check(lk_tokens *t, const lk_catalog *cat, const char *token, int64_t now, bool report,
                               lk_token_check *out)
{
    lk_token_check local;
    lk_token_check *c = out ? out : &local;
    memset(c, 0, sizeof *c);
    const key_box *keys = atomic_load_explicit(&t->keys, memory_order_acquire);
    if (!lk_token_decode(keys->ring.keys, (size_t)keys->ring.n, token, &c->fields))
        return LK_TOKEN_UNKNOWN;
    if (lk_tokens_is_revoked(t, c->fields.id))
        return LK_TOKEN_REVOKED;
    if (now >= c->fields.expires_at) {
        if (now - c->fields.expires_at > LK_TOKEN_KEEP_EXPIRED)
            return LK_TOKEN_EXPIRED;
        return expired_seen(t, &c->fields, report) ? LK_TOKEN_EXPIRED : LK_TOKEN_EXPIRED_FIRST;
    }
    const lk_cat_service *svc = lk_catalog_service(cat, c->fields.service_id);
    if (!svc || svc->token_epoch != c->fields.epoch)
        return LK_TOKEN_REVOKED;
    const lk_cat_user *u = lk_catalog_user(cat, svc->user_id);
    if (!lk_cat_user_usable(u, now))
        return LK_TOKEN_REVOKED;
    c->service = svc;
    c->user = u;
    return LK_TOKEN_VALID;
}

/* ---- revocations --------------------------------------------------------------------------- */

void lk_tokens_revoke(lk_tokens *t, const unsigned char id[LK_TOKEN_ID_BYTES], int64_t expires_at)
{
    pthread_mutex_lock(&t->rev_mu);
    if (!lk_cindex_find(t->revoked, id_hash_of(t->hash_key, id), id)) {
        rev_entry *e = lk_xmalloc(sizeof *e);
        memcpy(e->id, id, LK_TOKEN_ID_BYTES);
        e->expires_at = expires_at;
        lk_cindex_put(t->revoked, e, e->id);
    }
    pthread_mutex_unlock(&t->rev_mu);
}

bool lk_tokens_is_revoked(lk_tokens *t, const unsigned char id[LK_TOKEN_ID_BYTES])
{
    if (lk_cindex_size(t->revoked) == 0)
        return false;
    return lk_cindex_find(t->revoked, id_hash_of(t->hash_key, id), id) != NULL;
}

size_t lk_tokens_revoked_count(lk_tokens *t)
{
    return lk_cindex_size(t->revoked);
}

void lk_tokens_purge(lk_tokens *t, int64_t before)
{
    pthread_mutex_lock(&t->rev_mu);
    lk_ebr_enter(t->ebr); /* the walk keeps to a slot array a removal may retire */
    unsigned char (*gone)[LK_TOKEN_ID_BYTES] = NULL;
    size_t n = 0, cap = 0;
    lk_cindex_iter it = {0};
    void *e;
    while (lk_cindex_next(t->revoked, &it, &e)) {
        rev_entry *r = e;
        if (r->expires_at >= before)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            gone = lk_xrealloc(gone, cap * sizeof *gone);
        }
        memcpy(gone[n++], r->id, LK_TOKEN_ID_BYTES);
    }
    for (size_t i = 0; i < n; i++)
        lk_ebr_retire(t->ebr, lk_cindex_remove(t->revoked, id_hash_of(t->hash_key, gone[i]), gone[i]), free);
    lk_ebr_exit(t->ebr);
    pthread_mutex_unlock(&t->rev_mu);
    free(gone);

    pthread_mutex_lock(&t->expired_mu);
    size_t pos = 0;
    int64_t key;
    void *v;
    while (lk_map_next(t->expired, &pos, NULL, &key, &v))
        if ((int64_t)(intptr_t)v < before)
            lk_map_del_int(t->expired, key);
    pthread_mutex_unlock(&t->expired_mu);
}
