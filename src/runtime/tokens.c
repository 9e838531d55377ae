/*
 * tokens — the token table: sharded indexes from token hash to entry, plus one record
 * per service that knows the service's current token and all its entries.
 *
 * Layout and ownership:
 * - Token shards (chosen by the first byte of the raw hash, which is uniform): an
 *   index of lk_tok_entry pointers keyed by the entry's own raw hash, and the slab
 *   the shard's entries come from. An entry is 64 bytes: the raw 32-byte hash, the
 *   service, two instants and two flags.
 * - Service shards (chosen by the service id): an index of lk_svc_rec pointers keyed
 *   by the record's service id, and the slab the records come from. A record lists
 *   every entry of its service (the first two inline), and holds the plain text of
 *   the current token, if any, for reuse by issue.
 * - Indexes are open addressing with linear probing over pointers (8 bytes a slot),
 *   at most 70 % full, deletion by backward shift (no tombstones), as util/map.c.
 * - Slabs hand out fixed-size blocks from chunks that never move, so pointers stay
 *   valid; freed blocks go on the slab's free list and are reused. Chunks are freed
 *   with the table.
 *
 * Locking:
 * - Order: a service shard's lock, then a token shard's lock; never the reverse.
 *   lk_tokens_check() takes one token shard lock and nothing else.
 * - An entry's hash, service_id, issued_at and expires_at never change after it is
 *   published. revoked and expired_reported are read and written under the lock
 *   of the entry's token shard.
 * - An entry is created, and freed, only while both its service shard's lock and
 *   its token shard's lock are held (its token shard's slab is guarded by that
 *   shard's lock), so a pointer taken from a record's entries under the service
 *   lock is always live.
 * - A record's current token is never a revoked one: revoke and revoke_service
 *   clear it, so issue can reuse it without looking at the token shard.
 *
 * Nothing here does I/O; no lock is held across anything but memory work and, when
 * a token is minted (once per service per lifetime), 32 random bytes and a hash.
 */
#include "runtime/tokens.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/secret.h"
#include "util/map.h"
#include "util/xalloc.h"

#define LK_TOKENS_SHARDS 64          /* power of two, at most 256 (one byte) */
#define LK_TOKEN_BYTES 32
#define LK_SVC_INLINE 2              /* entries a record holds without an array of its own */

typedef struct lk_tok_entry {
    unsigned char hash[LK_HASH_BYTES]; /* raw; the token index's key */
    int64_t service_id;
    int64_t issued_at;
    int64_t expires_at;
    bool revoked;                    /* under the token shard's lock */
    bool expired_reported;           /* a 602 was answered; under the token shard's lock */
} lk_tok_entry;

typedef struct lk_svc_rec {
    int64_t service_id;
    lk_tok_entry *current;           /* one of entries; NULL: no plain text known */
    lk_tok_entry **entries;          /* inline, or owned when cap_entries > LK_SVC_INLINE */
    uint32_t n_entries, cap_entries;
    lk_tok_entry *inline_entries[LK_SVC_INLINE];
    char token[LK_TOKEN_LEN + 1];    /* plain text of current, "" when none */
} lk_svc_rec;

/* ---- slabs ------------------------------------------------------------------------ */

typedef struct lk_slab {
    size_t elem;                     /* block size, at least a pointer */
    void *free;                      /* freed blocks, linked through their first bytes */
    unsigned char **chunks;          /* owned */
    size_t n_chunks;
    size_t left;                     /* blocks never handed out in the last chunk */
    unsigned char *next;             /* the first of them */
} lk_slab;

#define LK_SLAB_MIN 16               /* blocks in a shard's first chunk; doubling to ... */
#define LK_SLAB_MAX 256              /* ... at most this many */

static void *lk_slab_alloc(lk_slab *s)
{
    void *p = s->free;
    if (p) {
        memcpy(&s->free, p, sizeof s->free);
    } else {
        if (!s->left) {
            size_t n = LK_SLAB_MIN << (s->n_chunks < 4 ? s->n_chunks : 4);
            if (n > LK_SLAB_MAX)
                n = LK_SLAB_MAX;
            s->chunks = lk_xrealloc(s->chunks, (s->n_chunks + 1) * sizeof *s->chunks);
            s->next = s->chunks[s->n_chunks++] = lk_xmalloc(n * s->elem);
            s->left = n;
        }
        p = s->next;
        s->next += s->elem;
        s->left--;
    }
    memset(p, 0, s->elem);
    return p;
}

static void lk_slab_free(lk_slab *s, void *p)
{
    memcpy(p, &s->free, sizeof s->free);
    s->free = p;
}

static void lk_slab_destroy(lk_slab *s)
{
    for (size_t i = 0; i < s->n_chunks; i++)
        free(s->chunks[i]);
    free(s->chunks);
    memset(s, 0, sizeof *s);
}

/* ---- indexes of records that hold their own key ---------------------------------- */

typedef struct lk_pindex {
    void **slots;                    /* borrowed pointers; NULL: empty */
    size_t mask;
    size_t size;
} lk_pindex;

typedef uint64_t (*lk_pindex_hash_fn)(const void *elem);

#define LK_PINDEX_MIN 16

static void lk_pindex_init(lk_pindex *ix)
{
    ix->slots = lk_xcalloc(LK_PINDEX_MIN, sizeof *ix->slots);
    ix->mask = LK_PINDEX_MIN - 1;
    ix->size = 0;
}

static void lk_pindex_insert(lk_pindex *ix, void *elem, lk_pindex_hash_fn hash)
{
    if ((ix->size + 1) * 10 > (ix->mask + 1) * 7) {
        size_t old_cap = ix->mask + 1;
        void **old = ix->slots;
        ix->slots = lk_xcalloc(2 * old_cap, sizeof *ix->slots);
        ix->mask = 2 * old_cap - 1;
        for (size_t j = 0; j < old_cap; j++) {
            if (!old[j])
                continue;
            size_t i = (size_t)hash(old[j]) & ix->mask;
            while (ix->slots[i])
                i = (i + 1) & ix->mask;
            ix->slots[i] = old[j];
        }
        free(old);
    }
    size_t i = (size_t)hash(elem) & ix->mask;
    while (ix->slots[i])
        i = (i + 1) & ix->mask;
    ix->slots[i] = elem;
    ix->size++;
}

/* removes elem (which must be present), closing the gap as util/map.c does */
static void lk_pindex_remove(lk_pindex *ix, const void *elem, lk_pindex_hash_fn hash)
{
    size_t i = (size_t)hash(elem) & ix->mask;
    while (ix->slots[i] != elem)
        i = (i + 1) & ix->mask;
    size_t j = i;
    for (;;) {
        j = (j + 1) & ix->mask;
        if (!ix->slots[j])
            break;
        size_t home = (size_t)hash(ix->slots[j]) & ix->mask;
        bool home_between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (home_between)
            continue;
        ix->slots[i] = ix->slots[j];
        i = j;
    }
    ix->slots[i] = NULL;
    ix->size--;
}

/* ---- shards ----------------------------------------------------------------------- */

/* each shard on its own cache lines, so that two cores locking neighbours do not
 * pass the line back and forth */
typedef struct lk_tok_shard {
    _Alignas(64) pthread_mutex_t mu;
    lk_pindex by_hash;               /* lk_tok_entry*, keyed by hash */
    lk_slab entries;
} lk_tok_shard;

typedef struct lk_svc_shard {
    _Alignas(64) pthread_mutex_t mu;
    lk_pindex by_service;            /* lk_svc_rec*, keyed by service_id */
    lk_slab records;
} lk_svc_shard;

struct lk_tokens {
    lk_tok_shard tok[LK_TOKENS_SHARDS];
    lk_svc_shard svc[LK_TOKENS_SHARDS];
};

/* bytes 8..15 of the hash: byte 0 chose the shard */
static uint64_t lk_tok_hash_of(const unsigned char *hash)
{
    uint64_t h;
    memcpy(&h, hash + 8, sizeof h);
    return h;
}

static uint64_t lk_tok_entry_hash(const void *elem)
{
    return lk_tok_hash_of(((const lk_tok_entry *)elem)->hash);
}

static uint64_t lk_svc_rec_hash(const void *elem)
{
    return lk_map_hash_int(((const lk_svc_rec *)elem)->service_id);
}

static lk_tok_entry *lk_tok_find(const lk_tok_shard *ts, const unsigned char hash[LK_HASH_BYTES])
{
    const lk_pindex *ix = &ts->by_hash;
    for (size_t i = (size_t)lk_tok_hash_of(hash) & ix->mask;; i = (i + 1) & ix->mask) {
        lk_tok_entry *e = ix->slots[i];
        if (!e || memcmp(e->hash, hash, LK_HASH_BYTES) == 0)
            return e;
    }
}

static lk_svc_rec *lk_svc_find(const lk_svc_shard *ss, int64_t service_id)
{
    const lk_pindex *ix = &ss->by_service;
    for (size_t i = (size_t)lk_map_hash_int(service_id) & ix->mask;; i = (i + 1) & ix->mask) {
        lk_svc_rec *r = ix->slots[i];
        if (!r || r->service_id == service_id)
            return r;
    }
}

static int lk_tokens_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* 64 lower-case hex digits, as lk_secret_hash writes and the store keeps */
static bool lk_tokens_valid_hash(const char *hex)
{
    if (!hex)
        return false;
    for (size_t i = 0; i < LK_HASH_HEX - 1; i++)
        if (lk_tokens_hexval(hex[i]) < 0)
            return false;
    return hex[LK_HASH_HEX - 1] == '\0';
}

/* exactly LK_TOKEN_LEN base64url characters: anything else cannot be ours */
static bool lk_tokens_wellformed(const char *token)
{
    if (!token)
        return false;
    for (size_t i = 0; i < LK_TOKEN_LEN; i++) {
        char c = token[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok)
            return false; /* also stops at a NUL before LK_TOKEN_LEN */
    }
    return token[LK_TOKEN_LEN] == '\0';
}

static lk_tok_shard *lk_tokens_tok_shard(lk_tokens *t, const unsigned char *hash)
{
    return &t->tok[hash[0] & (LK_TOKENS_SHARDS - 1)];
}

static lk_svc_shard *lk_tokens_svc_shard(lk_tokens *t, int64_t service_id)
{
    uint64_t x = (uint64_t)service_id * 0x9e3779b97f4a7c15ULL;
    return &t->svc[(x >> 32) & (LK_TOKENS_SHARDS - 1)];
}

static void lk_tokens_fill_info(const lk_tok_entry *e, lk_token_info *info)
{
    if (!info)
        return;
    info->service_id = e->service_id;
    info->issued_at = e->issued_at;
    info->expires_at = e->expires_at;
}

static void lk_svc_clear_current(lk_svc_rec *r)
{
    r->current = NULL;
    sodium_memzero(r->token, sizeof r->token);
}

static void lk_svc_append(lk_svc_rec *r, lk_tok_entry *e)
{
    if (r->n_entries == r->cap_entries) {
        uint32_t cap = r->cap_entries * 2;
        if (r->entries == r->inline_entries) {
            r->entries = lk_xmalloc(cap * sizeof *r->entries);
            memcpy(r->entries, r->inline_entries, sizeof r->inline_entries);
        } else {
            r->entries = lk_xrealloc(r->entries, cap * sizeof *r->entries);
        }
        r->cap_entries = cap;
    }
    r->entries[r->n_entries++] = e;
}

/* the service's record, created if absent; service shard locked by the caller */
static lk_svc_rec *lk_svc_get_or_add(lk_svc_shard *ss, int64_t service_id)
{
    lk_svc_rec *r = lk_svc_find(ss, service_id);
    if (r)
        return r;
    r = lk_slab_alloc(&ss->records);
    r->service_id = service_id;
    r->entries = r->inline_entries;
    r->cap_entries = LK_SVC_INLINE;
    lk_pindex_insert(&ss->by_service, r, lk_svc_rec_hash);
    return r;
}

/* a record's own memory; its entries are the token shards' */
static void lk_svc_rec_release(lk_svc_shard *ss, lk_svc_rec *r)
{
    if (r->entries != r->inline_entries)
        free(r->entries);
    sodium_memzero(r->token, sizeof r->token);
    lk_slab_free(&ss->records, r);
}

lk_tokens *lk_tokens_new(void)
{
    lk_tokens *t = aligned_alloc(_Alignof(lk_tokens), sizeof(lk_tokens));
    if (!t)
        abort(); /* as lk_xmalloc would: callers need no NULL check */
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < LK_TOKENS_SHARDS; i++) {
        pthread_mutex_init(&t->tok[i].mu, NULL);
        lk_pindex_init(&t->tok[i].by_hash);
        t->tok[i].entries.elem = sizeof(lk_tok_entry);
        pthread_mutex_init(&t->svc[i].mu, NULL);
        lk_pindex_init(&t->svc[i].by_service);
        t->svc[i].records.elem = sizeof(lk_svc_rec);
    }
    return t;
}

void lk_tokens_free(lk_tokens *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < LK_TOKENS_SHARDS; i++) {
        lk_svc_shard *ss = &t->svc[i];
        for (size_t j = 0; j <= ss->by_service.mask; j++) {
            lk_svc_rec *r = ss->by_service.slots[j];
            if (r && r->entries != r->inline_entries)
                free(r->entries);
            if (r)
                sodium_memzero(r->token, sizeof r->token);
        }
        free(ss->by_service.slots);
        lk_slab_destroy(&ss->records);
        pthread_mutex_destroy(&ss->mu);
        free(t->tok[i].by_hash.slots);
        lk_slab_destroy(&t->tok[i].entries);
        pthread_mutex_destroy(&t->tok[i].mu);
    }
    free(t);
}

bool lk_tokens_issue(lk_tokens *t, int64_t service_id, int64_t now, int64_t ttl,
                     char token[LK_TOKEN_LEN + 1], lk_token_info *info,
                     lk_token_rec *rec, char rec_hash[LK_HASH_HEX])
{
    if (ttl < 1)
        ttl = 1; /* a token born expired would only bounce between issue and 602 */
    lk_svc_shard *ss = lk_tokens_svc_shard(t, service_id);
    pthread_mutex_lock(&ss->mu);
    lk_svc_rec *r = lk_svc_get_or_add(ss, service_id);
    if (r->current && r->current->expires_at - now >= 1) {
        memcpy(token, r->token, LK_TOKEN_LEN + 1);
        lk_tokens_fill_info(r->current, info);
        pthread_mutex_unlock(&ss->mu);
        return false;
    }

    lk_tok_entry *e = NULL;
    while (!e) {
        unsigned char hash[LK_HASH_BYTES];
        lk_secret_token(r->token, LK_TOKEN_BYTES);
        lk_secret_hash_raw(r->token, hash);
        lk_tok_shard *ts = lk_tokens_tok_shard(t, hash);
        pthread_mutex_lock(&ts->mu);
        if (!lk_tok_find(ts, hash)) { /* 2^-256: but never alias */
            e = lk_slab_alloc(&ts->entries);
            memcpy(e->hash, hash, sizeof hash);
            e->service_id = service_id;
            e->issued_at = now;
            e->expires_at = now + ttl;
            lk_pindex_insert(&ts->by_hash, e, lk_tok_entry_hash);
        }
        pthread_mutex_unlock(&ts->mu);
    }
    lk_svc_append(r, e);
    r->current = e;

    memcpy(token, r->token, LK_TOKEN_LEN + 1);
    lk_tokens_fill_info(e, info);
    lk_secret_hex_encode(e->hash, rec_hash);
    *rec = (lk_token_rec){
        .token_hash = rec_hash,
        .service_id = service_id,
        .issued_at = e->issued_at,
        .expires_at = e->expires_at,
        .revoked_at = 0,
    };
    pthread_mutex_unlock(&ss->mu);
    return true;
}

static lk_token_state lookup(lk_tokens *t, const char *token, int64_t now, lk_token_info *info, bool report)
{
    if (!lk_tokens_wellformed(token))
        return LK_TOKEN_UNKNOWN;
    unsigned char hash[LK_HASH_BYTES];
    lk_secret_hash_raw(token, hash);
    lk_tok_shard *ts = lk_tokens_tok_shard(t, hash);

    pthread_mutex_lock(&ts->mu);
    lk_tok_entry *e = lk_tok_find(ts, hash);
    if (!e) {
        pthread_mutex_unlock(&ts->mu);
        return LK_TOKEN_UNKNOWN;
    }
    lk_tokens_fill_info(e, info);
    lk_token_state st = LK_TOKEN_VALID;
    if (e->revoked) {
        st = LK_TOKEN_REVOKED;
    } else if (now >= e->expires_at) {
        st = e->expired_reported ? LK_TOKEN_EXPIRED : LK_TOKEN_EXPIRED_FIRST;
        if (report)
            e->expired_reported = true;
    }
    pthread_mutex_unlock(&ts->mu);
    return st;
}

lk_token_state lk_tokens_check(lk_tokens *t, const char *token, int64_t now, lk_token_info *info)
{
    return lookup(t, token, now, info, true);
}

lk_token_state lk_tokens_peek(lk_tokens *t, const char *token, int64_t now, lk_token_info *info)
{
    return lookup(t, token, now, info, false);
}

bool lk_tokens_revoke(lk_tokens *t, const char *token, int64_t now, char hash_out[LK_HASH_HEX])
{
    (void)now; /* the store records the instant; the table only needs the flag */
    if (!lk_tokens_wellformed(token))
        return false;
    unsigned char hash[LK_HASH_BYTES];
    lk_secret_hash_raw(token, hash);
    lk_tok_shard *ts = lk_tokens_tok_shard(t, hash);

    pthread_mutex_lock(&ts->mu);
    lk_tok_entry *e = lk_tok_find(ts, hash);
    bool revoked = e && !e->revoked;
    int64_t service_id = 0;
    if (revoked) {
        e->revoked = true;
        service_id = e->service_id;
    }
    pthread_mutex_unlock(&ts->mu);
    if (!revoked)
        return false;

    /* so that the next issue mints anew; the entry may be gone by now, so compare
     * the hash, not the pointer */
    lk_svc_shard *ss = lk_tokens_svc_shard(t, service_id);
    pthread_mutex_lock(&ss->mu);
    lk_svc_rec *r = lk_svc_find(ss, service_id);
    if (r && r->current && memcmp(r->current->hash, hash, LK_HASH_BYTES) == 0)
        lk_svc_clear_current(r);
    pthread_mutex_unlock(&ss->mu);

    lk_secret_hex_encode(hash, hash_out);
    return true;
}

size_t lk_tokens_revoke_service(lk_tokens *t, int64_t service_id, int64_t now)
{
    (void)now;
    lk_svc_shard *ss = lk_tokens_svc_shard(t, service_id);
    size_t n = 0;
    pthread_mutex_lock(&ss->mu);
    lk_svc_rec *r = lk_svc_find(ss, service_id);
    if (r) {
        /* holding the service lock throughout: a concurrent issue for this service
         * either finished before (its token is in entries and gets revoked here)
         * or starts after (and mints a token this call does not concern) */
        lk_svc_clear_current(r);
        for (size_t i = 0; i < r->n_entries; i++) {
            lk_tok_entry *e = r->entries[i];
            lk_tok_shard *ts = lk_tokens_tok_shard(t, e->hash);
            pthread_mutex_lock(&ts->mu);
            if (!e->revoked) {
                e->revoked = true;
                n++;
            }
            pthread_mutex_unlock(&ts->mu);
        }
    }
    pthread_mutex_unlock(&ss->mu);
    return n;
}

void lk_tokens_load(lk_tokens *t, const lk_token_rec *recs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const lk_token_rec *rec = &recs[i];
        unsigned char hash[LK_HASH_BYTES];
        if (!lk_tokens_valid_hash(rec->token_hash) || !lk_secret_hex_decode(rec->token_hash, hash))
            continue; /* not something lk_secret_hash wrote: no token can match it */
        lk_svc_shard *ss = lk_tokens_svc_shard(t, rec->service_id);
        lk_tok_shard *ts = lk_tokens_tok_shard(t, hash);
        pthread_mutex_lock(&ss->mu);
        pthread_mutex_lock(&ts->mu);
        lk_tok_entry *e = lk_tok_find(ts, hash);
        if (e) {
            if (rec->revoked_at)
                e->revoked = true; /* loaded twice: a revocation is never undone */
        } else {
            e = lk_slab_alloc(&ts->entries);
            memcpy(e->hash, hash, sizeof hash);
            e->service_id = rec->service_id;
            e->issued_at = rec->issued_at;
            e->expires_at = rec->expires_at;
            e->revoked = rec->revoked_at != 0;
            lk_pindex_insert(&ts->by_hash, e, lk_tok_entry_hash);
            lk_svc_append(lk_svc_get_or_add(ss, rec->service_id), e);
        }
        pthread_mutex_unlock(&ts->mu);
        pthread_mutex_unlock(&ss->mu);
    }
}

size_t lk_tokens_purge(lk_tokens *t, int64_t before)
{
    size_t purged = 0;
    for (size_t s = 0; s < LK_TOKENS_SHARDS; s++) {
        lk_svc_shard *ss = &t->svc[s];
        pthread_mutex_lock(&ss->mu);
        /* walk the slots downwards from an empty one, as lk_map_next does, so that
         * removing the record just visited skips nothing */
        lk_pindex *ix = &ss->by_service;
        size_t cap = ix->mask + 1, e = 0;
        while (ix->slots[e])
            e++; /* load <= 70 %: an empty slot exists */
        for (size_t step = 1; step < cap; step++) {
            lk_svc_rec *r = ix->slots[(e - step) & ix->mask];
            if (!r)
                continue;
            size_t kept = 0;
            for (size_t i = 0; i < r->n_entries; i++) {
                lk_tok_entry *en = r->entries[i];
                if (en->expires_at >= before) {
                    r->entries[kept++] = en;
                    continue;
                }
                lk_tok_shard *ts = lk_tokens_tok_shard(t, en->hash);
                if (r->current == en)
                    lk_svc_clear_current(r);
                pthread_mutex_lock(&ts->mu);
                lk_pindex_remove(&ts->by_hash, en, lk_tok_entry_hash);
                lk_slab_free(&ts->entries, en);
                pthread_mutex_unlock(&ts->mu);
                purged++;
            }
            r->n_entries = (uint32_t)kept;
            if (kept == 0) {
                lk_pindex_remove(ix, r, lk_svc_rec_hash);
                lk_svc_rec_release(ss, r);
            }
        }
        pthread_mutex_unlock(&ss->mu);
    }
    return purged;
}

size_t lk_tokens_count(lk_tokens *t)
{
    size_t n = 0;
    for (size_t i = 0; i < LK_TOKENS_SHARDS; i++) {
        pthread_mutex_lock(&t->tok[i].mu);
        n += t->tok[i].by_hash.size;
        pthread_mutex_unlock(&t->tok[i].mu);
    }
    return n;
}
