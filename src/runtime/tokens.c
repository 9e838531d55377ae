/*
 * tokens — the token table: sharded maps from token hash to entry, plus one record
 * per service that knows the service's current token and all its entries.
 *
 * Layout and ownership:
 * - Token shards (chosen by the first hex digits of the hash, which is uniform):
 *   a map hash (hex) -> lk_tok_entry*. The map only borrows the entry; its key is
 *   the entry's own hash field.
 * - Service shards (chosen by the service id): a map service_id -> lk_svc_rec*,
 *   owned by the map. A record owns every entry of its service (entries[]), and
 *   holds the plain text of the current token, if any, for reuse by issue.
 *
 * Locking:
 * - Order: a service shard's lock, then a token shard's lock; never the reverse.
 *   lk_tokens_check() takes one token shard lock and nothing else.
 * - An entry's hash, service_id, issued_at and expires_at never change after it is
 *   published. revoked and expired_reported are read and written under the lock
 *   of the entry's token shard.
 * - An entry is created, and freed, only while both its service shard's lock and
 *   its token shard's lock are (or have just been) held: it is removed from the
 *   token map under the token lock and freed under the service lock, so a pointer
 *   taken from a record's entries[] under the service lock is always live.
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

#define LK_TOKENS_SHARDS 64          /* power of two, at most 256 (two hex digits) */
#define LK_TOKEN_BYTES 32

typedef struct lk_tok_entry {
    char hash[LK_HASH_HEX];          /* lower-case hex; the token map's key */
    bool revoked;                    /* under the token shard's lock */
    bool expired_reported;           /* a 602 was answered; under the token shard's lock */
    int64_t service_id;
    int64_t issued_at;
    int64_t expires_at;
} lk_tok_entry;

typedef struct lk_svc_rec {
    int64_t service_id;
    lk_tok_entry *current;           /* borrowed from entries[]; NULL: no plain text known */
    char token[LK_TOKEN_LEN + 1];    /* plain text of current, "" when none */
    lk_tok_entry **entries;          /* owned, with the entries they point to */
    size_t n_entries, cap_entries;
} lk_svc_rec;

/* each shard on its own cache lines, so that two cores locking neighbours do not
 * pass the line back and forth */
typedef struct lk_tok_shard {
    _Alignas(64) pthread_mutex_t mu;
    lk_map *by_hash;                 /* hash -> lk_tok_entry* (borrowed) */
} lk_tok_shard;

typedef struct lk_svc_shard {
    _Alignas(64) pthread_mutex_t mu;
    lk_map *by_service;              /* service_id -> lk_svc_rec* (owned) */
} lk_svc_shard;

struct lk_tokens {
    lk_tok_shard tok[LK_TOKENS_SHARDS];
    lk_svc_shard svc[LK_TOKENS_SHARDS];
};

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

static lk_tok_shard *lk_tokens_tok_shard(lk_tokens *t, const char *hex)
{
    unsigned v = (unsigned)(lk_tokens_hexval(hex[0]) << 4 | lk_tokens_hexval(hex[1]));
    return &t->tok[v & (LK_TOKENS_SHARDS - 1)];
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
        r->cap_entries = r->cap_entries ? r->cap_entries * 2 : 2;
        r->entries = lk_xrealloc(r->entries, r->cap_entries * sizeof *r->entries);
    }
    r->entries[r->n_entries++] = e;
}

/* the service's record, created if absent; service shard locked by the caller */
static lk_svc_rec *lk_svc_get_or_add(lk_svc_shard *ss, int64_t service_id)
{
    lk_svc_rec *r = lk_map_get_int(ss->by_service, service_id);
    if (r)
        return r;
    r = lk_xcalloc(1, sizeof *r);
    r->service_id = service_id;
    lk_map_put_int(ss->by_service, service_id, r);
    return r;
}

static void lk_svc_rec_free(lk_svc_rec *r)
{
    for (size_t i = 0; i < r->n_entries; i++)
        free(r->entries[i]);
    free(r->entries);
    sodium_memzero(r->token, sizeof r->token);
    free(r);
}

lk_tokens *lk_tokens_new(void)
{
    lk_tokens *t = aligned_alloc(_Alignof(lk_tokens), sizeof(lk_tokens));
    if (!t)
        abort(); /* as lk_xmalloc would: callers need no NULL check */
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < LK_TOKENS_SHARDS; i++) {
        pthread_mutex_init(&t->tok[i].mu, NULL);
        t->tok[i].by_hash = lk_map_new_str(64);
        pthread_mutex_init(&t->svc[i].mu, NULL);
        t->svc[i].by_service = lk_map_new_int(64);
    }
    return t;
}

void lk_tokens_free(lk_tokens *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < LK_TOKENS_SHARDS; i++) {
        size_t pos = 0;
        void *v;
        while (lk_map_next(t->svc[i].by_service, &pos, NULL, NULL, &v))
            lk_svc_rec_free(v);
        lk_map_free(t->svc[i].by_service);
        pthread_mutex_destroy(&t->svc[i].mu);
        lk_map_free(t->tok[i].by_hash);
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

    lk_tok_entry *e = lk_xcalloc(1, sizeof *e);
    e->service_id = service_id;
    e->issued_at = now;
    e->expires_at = now + ttl;
    for (;;) {
        lk_secret_token(r->token, LK_TOKEN_BYTES);
        lk_secret_hash(r->token, e->hash);
        lk_tok_shard *ts = lk_tokens_tok_shard(t, e->hash);
        pthread_mutex_lock(&ts->mu);
        bool taken = lk_map_get_str(ts->by_hash, e->hash) != NULL; /* 2^-256: but never alias */
        if (!taken)
            lk_map_put_str(ts->by_hash, e->hash, e);
        pthread_mutex_unlock(&ts->mu);
        if (!taken)
            break;
    }
    lk_svc_append(r, e);
    r->current = e;

    memcpy(token, r->token, LK_TOKEN_LEN + 1);
    lk_tokens_fill_info(e, info);
    memcpy(rec_hash, e->hash, LK_HASH_HEX);
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
    char hash[LK_HASH_HEX];
    lk_secret_hash(token, hash);
    lk_tok_shard *ts = lk_tokens_tok_shard(t, hash);

    pthread_mutex_lock(&ts->mu);
    lk_tok_entry *e = lk_map_get_str(ts->by_hash, hash);
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
    char hash[LK_HASH_HEX];
    lk_secret_hash(token, hash);
    lk_tok_shard *ts = lk_tokens_tok_shard(t, hash);

    pthread_mutex_lock(&ts->mu);
    lk_tok_entry *e = lk_map_get_str(ts->by_hash, hash);
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
    lk_svc_rec *r = lk_map_get_int(ss->by_service, service_id);
    if (r && r->current && strcmp(r->current->hash, hash) == 0)
        lk_svc_clear_current(r);
    pthread_mutex_unlock(&ss->mu);

    memcpy(hash_out, hash, LK_HASH_HEX);
    return true;
}

size_t lk_tokens_revoke_service(lk_tokens *t, int64_t service_id, int64_t now)
{
    (void)now;
    lk_svc_shard *ss = lk_tokens_svc_shard(t, service_id);
    size_t n = 0;
    pthread_mutex_lock(&ss->mu);
    lk_svc_rec *r = lk_map_get_int(ss->by_service, service_id);
    if (r) {
        /* holding the service lock throughout: a concurrent issue for this service
         * either finished before (its token is in entries[] and gets revoked here)
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
        if (!lk_tokens_valid_hash(rec->token_hash))
            continue; /* not something lk_secret_hash wrote: no token can match it */
        lk_svc_shard *ss = lk_tokens_svc_shard(t, rec->service_id);
        lk_tok_shard *ts = lk_tokens_tok_shard(t, rec->token_hash);
        pthread_mutex_lock(&ss->mu);
        pthread_mutex_lock(&ts->mu);
        lk_tok_entry *e = lk_map_get_str(ts->by_hash, rec->token_hash);
        if (e) {
            if (rec->revoked_at)
                e->revoked = true; /* loaded twice: a revocation is never undone */
        } else {
            e = lk_xcalloc(1, sizeof *e);
            memcpy(e->hash, rec->token_hash, LK_HASH_HEX);
            e->service_id = rec->service_id;
            e->issued_at = rec->issued_at;
            e->expires_at = rec->expires_at;
            e->revoked = rec->revoked_at != 0;
            lk_map_put_str(ts->by_hash, e->hash, e);
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
        size_t pos = 0;
        void *v;
        while (lk_map_next(ss->by_service, &pos, NULL, NULL, &v)) {
            lk_svc_rec *r = v;
            size_t kept = 0;
            for (size_t i = 0; i < r->n_entries; i++) {
                lk_tok_entry *e = r->entries[i];
                if (e->expires_at >= before) {
                    r->entries[kept++] = e;
                    continue;
                }
                lk_tok_shard *ts = lk_tokens_tok_shard(t, e->hash);
                pthread_mutex_lock(&ts->mu);
                lk_map_del_str(ts->by_hash, e->hash);
                pthread_mutex_unlock(&ts->mu);
                if (r->current == e)
                    lk_svc_clear_current(r);
                free(e);
                purged++;
            }
            r->n_entries = kept;
            if (kept == 0) {
                lk_map_del_int(ss->by_service, r->service_id);
                lk_svc_rec_free(r);
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
        n += lk_map_size(t->tok[i].by_hash);
        pthread_mutex_unlock(&t->tok[i].mu);
    }
    return n;
}
