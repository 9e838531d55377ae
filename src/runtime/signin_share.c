/*
 * signin_share — the console sign-in throttles of several processes (signin_share.h).
 *
 * The journal maps "scope@bucket" to this process's absolute count of that bucket
 * (a row of limit_counts), with the generation of its latest change; rows changed after
 * the last publication are the ones written. The others' view is a map from scope to
 * its sums, rebuilt at each read and swapped in under a short lock.
 */
#include "runtime/signin_share.h"
#include "util/map.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUTURE_SLACK 60   /* seconds: rows further ahead come from a clock stepped back */

typedef struct jrow {
    int64_t bucket, n;
    int64_t published_n, snapshot_n;     /* n as last published, as last handed to a sync */
    uint64_t gen;                        /* when it last changed */
    uint64_t snapshot;                   /* the mark of that sync */
    char scope[LK_SIGNIN_SCOPE_MAX];
    char key[LK_SIGNIN_SCOPE_MAX + 24];  /* scope@bucket: the map's key */
} jrow;

typedef struct seen_entry {
    lk_signin_seen v;
    char scope[LK_SIGNIN_SCOPE_MAX];
} seen_entry;

struct lk_signin_share {
    int64_t window;
    pthread_mutex_t mu;          /* the journal */
    lk_map *journal;             /* key -> jrow (owned) */
    uint64_t gen, published;
    bool peers;                  /* other processes are alive and the last sync is fresh */
    pthread_mutex_t seen_mu;     /* the pointer to the others' view */
    lk_map *seen;                /* scope -> seen_entry (owned) */
};

static void free_values(lk_map *m)
{
    size_t pos = 0;
    void *v;
    while (lk_map_next(m, &pos, NULL, NULL, &v))
        free(v);
    lk_map_free(m);
}

lk_signin_share *lk_signin_share_new(int64_t window)
{
    lk_signin_share *sh = lk_xcalloc(1, sizeof *sh);
    sh->window = window > 0 ? window : 1;
    pthread_mutex_init(&sh->mu, NULL);
    pthread_mutex_init(&sh->seen_mu, NULL);
    sh->journal = lk_map_new_str(64);
    sh->seen = lk_map_new_str(16);
    return sh;
}

void lk_signin_share_free(lk_signin_share *sh)
{
    if (!sh)
        return;
    free_values(sh->journal);
    free_values(sh->seen);
    pthread_mutex_destroy(&sh->mu);
    pthread_mutex_destroy(&sh->seen_mu);
    free(sh);
}

void lk_signin_share_digest(const void *bytes, size_t len, char out[LK_SIGNIN_HEX])
{
    unsigned char h[16];
    crypto_generichash(h, sizeof h, bytes, len, NULL, 0);
    sodium_bin2hex(out, LK_SIGNIN_HEX, h, sizeof h);
}

/* ---- the journal ---------------------------------------------------------------------- */

static jrow *entry(lk_signin_share *sh, const char *scope, int64_t bucket, bool create)
{
    char key[LK_SIGNIN_SCOPE_MAX + 24];
    snprintf(key, sizeof key, "%s@%lld", scope, (long long)bucket);
    jrow *r = lk_map_get_str(sh->journal, key);
    if (r || !create || lk_map_size(sh->journal) >= LK_SIGNIN_SHARE_MAX)
        return r;
    r = lk_xcalloc(1, sizeof *r);
    r->bucket = bucket;
    snprintf(r->scope, sizeof r->scope, "%s", scope);
    memcpy(r->key, key, sizeof key);
    lk_map_put_str(sh->journal, r->key, r);
    return r;
}

void lk_signin_share_count(lk_signin_share *sh, const char *scope, int64_t now, int64_t delta)
{
    int64_t b = now - now % LK_SIGNIN_BUCKET;
    pthread_mutex_lock(&sh->mu);
    jrow *r = NULL;
    if (delta > 0) {
        r = entry(sh, scope, b, true);
    } else {
        /* the attempt given back was counted in an earlier bucket, most likely the latest */
        for (int64_t k = b; k > b - LK_SIGNIN_HORIZON && !r; k -= LK_SIGNIN_BUCKET) {
            r = entry(sh, scope, k, false);
            if (r && r->n <= 0)
                r = NULL;
        }
    }
    if (r) {
        r->n += delta;
        r->gen = ++sh->gen;
    }
    pthread_mutex_unlock(&sh->mu);
}

void lk_signin_share_clear(lk_signin_share *sh, const char *scope, int64_t now)
{
    pthread_mutex_lock(&sh->mu);
    jrow *r = entry(sh, scope, now, true);
    if (r) {
        r->n = 1;
        r->gen = ++sh->gen;
    }
    pthread_mutex_unlock(&sh->mu);
}

void lk_signin_share_rows(lk_signin_share *sh, lk_arena *a, lk_limit_counts *out, uint64_t *mark)
{
    pthread_mutex_lock(&sh->mu);
    size_t pos = 0;
    void *v;
    while (lk_map_next(sh->journal, &pos, NULL, NULL, &v)) {
        jrow *r = v;
        if (r->gen <= sh->published)
            continue;
        r->snapshot_n = r->n;
        r->snapshot = sh->gen;
        if (out->n == out->cap) {
            out->cap = out->cap ? 2 * out->cap : 64;
            out->recs = lk_xrealloc(out->recs, out->cap * sizeof *out->recs);
        }
        out->recs[out->n++] = (lk_limit_count){.scope = lk_arena_strdup(a, r->scope), .kind = 's',
                                               .bucket = r->bucket, .n = r->n};
    }
    *mark = sh->gen;
    pthread_mutex_unlock(&sh->mu);
}

void lk_signin_share_published(lk_signin_share *sh, uint64_t mark)
{
    pthread_mutex_lock(&sh->mu);
    if (mark > sh->published)
        sh->published = mark;
    size_t pos = 0;
    void *v;
    while (lk_map_next(sh->journal, &pos, NULL, NULL, &v)) {
        jrow *r = v;
        if (r->snapshot == mark)
            r->published_n = r->snapshot_n;
    }
    pthread_mutex_unlock(&sh->mu);
}

int64_t lk_signin_share_pending(lk_signin_share *sh, const char *scope, int64_t now)
{
    int64_t b = now - now % LK_SIGNIN_BUCKET, pending = 0;
    pthread_mutex_lock(&sh->mu);
    for (int64_t k = b; k >= b - LK_SIGNIN_BUCKET; k -= LK_SIGNIN_BUCKET) {
        const jrow *r = entry(sh, scope, k, false);
        if (r && r->n > r->published_n)
            pending += r->n - r->published_n;
    }
    pthread_mutex_unlock(&sh->mu);
    return pending;
}

int64_t lk_signin_share_mine_after(lk_signin_share *sh, const char *scope, int64_t after, int64_t now)
{
    int64_t b = now - now % LK_SIGNIN_BUCKET, n = 0;
    pthread_mutex_lock(&sh->mu);
    for (int64_t k = b; k > after && k > b - LK_SIGNIN_HORIZON - LK_SIGNIN_BUCKET; k -= LK_SIGNIN_BUCKET) {
        const jrow *r = entry(sh, scope, k, false);
        if (r && r->n > 0)
            n += r->n;
    }
    pthread_mutex_unlock(&sh->mu);
    return n;
}

void lk_signin_share_set_peers(lk_signin_share *sh, bool peers)
{
    pthread_mutex_lock(&sh->mu);
    sh->peers = peers;
    pthread_mutex_unlock(&sh->mu);
}

bool lk_signin_share_peers(lk_signin_share *sh)
{
    pthread_mutex_lock(&sh->mu);
    bool peers = sh->peers;
    pthread_mutex_unlock(&sh->mu);
    return peers;
}

void lk_signin_share_purge(lk_signin_share *sh, int64_t now)
{
    pthread_mutex_lock(&sh->mu);
    size_t pos = 0;
    void *v;
    while (lk_map_next(sh->journal, &pos, NULL, NULL, &v)) {
        jrow *r = v;
        if (r->bucket < now - LK_SIGNIN_HORIZON - LK_SIGNIN_BUCKET || r->bucket > now + FUTURE_SLACK) {
            lk_map_del_str(sh->journal, r->key);
            free(r);
        }
    }
    pthread_mutex_unlock(&sh->mu);
}

/* ---- the others' view ---------------------------------------------------------------- */

static seen_entry *seen_of(lk_map *m, const char *scope)
{
    seen_entry *e = lk_map_get_str(m, scope);
    if (!e) {
        e = lk_xcalloc(1, sizeof *e);
        snprintf(e->scope, sizeof e->scope, "%s", scope);
        lk_map_put_str(m, e->scope, e);
    }
    return e;
}

/* the latest clear of 'x'/'y' + hex (0: none) */
static int64_t cleared(const lk_map *m, char kind, const char *hex, size_t len)
{
    char scope[LK_SIGNIN_SCOPE_MAX];
    snprintf(scope, sizeof scope, "%c%.*s", kind, (int)len, hex);
    const seen_entry *e = lk_map_get_str(m, scope);
    return e ? e->v.last : 0;
}

void lk_signin_share_set_others(lk_signin_share *sh, const lk_limit_count *rows, size_t n, int64_t now)
{
    lk_map *m = lk_map_new_str(n + 16);
    const size_t H = LK_SIGNIN_HEX - 1;
    /* the clears first: the counts before them do not count */
    for (size_t i = 0; i < n; i++) {
        const lk_limit_count *r = &rows[i];
        if (r->kind != 's' || (r->scope[0] != 'x' && r->scope[0] != 'y') || r->bucket > now + FUTURE_SLACK)
            continue;
        seen_entry *e = seen_of(m, r->scope);
        if (r->bucket > e->v.last)
            e->v.last = r->bucket;
    }
    for (size_t i = 0; i < n; i++) {
        const lk_limit_count *r = &rows[i];
        char k = r->scope[0];
        if (r->kind != 's' || k == 'x' || k == 'y' || r->n <= 0 || r->bucket > now + FUTURE_SLACK ||
            r->bucket <= now - LK_SIGNIN_HORIZON - LK_SIGNIN_BUCKET)
            continue;
        size_t len = strlen(r->scope);
        int64_t clear = 0;
        if (k == 'p' && len == 1 + 2 * H) {
            int64_t cx = cleared(m, 'x', r->scope + 1, H), cy = cleared(m, 'y', r->scope + 1 + H, H);
            clear = cx > cy ? cx : cy;
        } else if (k == 'A' && len == 1 + H) {
            clear = cleared(m, 'x', r->scope + 1, H);
        }
        if (clear && r->bucket <= clear)
            continue; /* its bucket began before the clear */
        seen_entry *e = seen_of(m, r->scope);
        e->v.hour += r->n;
        if (r->bucket + LK_SIGNIN_BUCKET > now - sh->window) {
            e->v.window += r->n;
            if (!e->v.first || r->bucket < e->v.first)
                e->v.first = r->bucket;
        }
        int64_t last = r->bucket + LK_SIGNIN_BUCKET - 1;
        if (last > now)
            last = now;
        if (last > e->v.last)
            e->v.last = last;
    }
    pthread_mutex_lock(&sh->seen_mu);
    lk_map *old = sh->seen;
    sh->seen = m;
    pthread_mutex_unlock(&sh->seen_mu);
    free_values(old);
}

lk_signin_seen lk_signin_share_seen(lk_signin_share *sh, const char *scope)
{
    lk_signin_seen v = {0};
    pthread_mutex_lock(&sh->seen_mu);
    const seen_entry *e = lk_map_get_str(sh->seen, scope);
    if (e)
        v = e->v;
    pthread_mutex_unlock(&sh->seen_mu);
    return v;
}
