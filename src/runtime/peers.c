/*
 * peers — publishing and reading the counts of several processes (peers.h).
 *
 * Rows are absolute counts under this process's id, so a sync repeated after a
 * failure writes the same values again; only seconds since the last good sync are
 * written (older ones are final). The others' rows are read for the longest window in
 * force, sorted by scope and handed to the limiter of each scope.
 */
#include "runtime/peers.h"
#include "core/limits.h"
#include "util/log.h"
#include "runtime/prober.h"
#include "runtime/throttle.h"
#include "util/xalloc.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PRUNE_EVERY 64       /* syncs */
#define SCOPE_MAX 24

struct lk_peers {
    char id[33];                 /* hex of 16 random bytes */
    int64_t synced_second;       /* the latest second written at the last good sync */
    uint64_t written_sum;        /* a checksum of the rows last written */
    int64_t written_at;          /* when (seconds): the heartbeat is written at least once a second */
    unsigned syncs;
    _Atomic int64_t ok_ms;       /* monotonic ms of the last good sync */
    atomic_bool alone;           /* the limiters count alone (stale) */
    _Atomic int64_t alive;
    _Atomic int64_t sync_us;
    /* the rate buckets' time base (lk_peers_wall_clock): 0 on one machine; else the
     * epoch second of monotonic second 0, re-measured only when the wall clock jumps */
    bool wall;
    bool based;
    int64_t base;
    /* token-endpoint failures */
    int64_t auth_window;
    pthread_mutex_t failed_mu;
    int64_t failed_window;       /* the window `failed` counts (epoch seconds / auth_window) */
    lk_map *failed;              /* hex of a key -> failed_key (owned; the key is its hex) */
    lk_throttle *others;         /* the others' failures, keyed by the raw key */
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

typedef struct scoped {
    char scope[SCOPE_MAX];
    lk_limiter *l;
    int64_t taken;
} scoped;

lk_peers *lk_peers_new(int64_t auth_window, size_t capacity)
{
    lk_peers *p = lk_xcalloc(1, sizeof *p);
    p->auth_window = auth_window > 0 ? auth_window : 1;
    pthread_mutex_init(&p->failed_mu, NULL);
    p->failed = lk_map_new_str(64);
    p->others = lk_throttle_new(capacity, p->auth_window);
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(p->id, sizeof p->id, raw, sizeof raw);
    atomic_init(&p->ok_ms, lk_mono_ms());
    return p;
}

typedef struct failed_key {
    int64_t n;
    char hex[2 * LK_PEERS_KEY_BYTES + 1];
} failed_key;

static void failed_clear(lk_peers *p)
{
    size_t pos = 0;
    void *v;
    while (lk_map_next(p->failed, &pos, NULL, NULL, &v))
        free(v);
    lk_map_free(p->failed);
    p->failed = lk_map_new_str(64);
}

void lk_peers_free(lk_peers *p)
{
    if (!p)
        return;
    failed_clear(p);
    lk_map_free(p->failed);
    lk_throttle_free(p->others);
    pthread_mutex_destroy(&p->failed_mu);
    free(p);
}

void lk_peers_wall_clock(lk_peers *p, bool wall)
{
    p->wall = wall;
    p->based = false;
    p->base = 0;
}

/*
 * What to add to a second of the limiters' clock to get the second published: 0 on
 * one machine (CLOCK_MONOTONIC is shared); across machines the epoch second it falls
 * in, measured in milliseconds so that two processes of one machine agree. Measured
 * once and kept: a base that moved by a second between syncs would publish one
 * second's count under two buckets. Measured again only when the wall clock jumped
 * (set by hand, a large NTP step) by more than MAX_STEP seconds: until then this
 * process's calls are placed that far off the others'.
 */
#define MAX_STEP 2
static int64_t rate_base(lk_peers *p)
{
    if (!p->wall)
        return 0;
    int64_t ms = wall_ms() - lk_mono_ms();
    int64_t cur = (ms >= 0 ? ms + 500 : ms - 500) / 1000;
    if (p->based && llabs(cur - p->base) <= MAX_STEP)
        return p->base;
    if (p->based)
        lk_log(LK_LOG_WARN, "the wall clock moved by %lld s: the rate windows shared with the other nodes follow it",
               (long long)(cur - p->base));
    p->based = true;
    p->base = cur;
    return cur;
}

/* ---- token-endpoint failures ------------------------------------------------------------ */

void lk_peers_failed(lk_peers *p, const unsigned char key[LK_PEERS_KEY_BYTES], int64_t now)
{
    char hex[2 * LK_PEERS_KEY_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, key, LK_PEERS_KEY_BYTES);
    int64_t w = now / p->auth_window;
    pthread_mutex_lock(&p->failed_mu);
    if (w != p->failed_window) {
        failed_clear(p);
        p->failed_window = w;
    }
    failed_key *f = lk_map_get_str(p->failed, hex);
    if (f) {
        f->n++;
    } else if (lk_map_size(p->failed) < LK_PEERS_FAILED_MAX) {
        f = lk_xcalloc(1, sizeof *f);
        f->n = 1;
        memcpy(f->hex, hex, sizeof f->hex);
        lk_map_put_str(p->failed, f->hex, f);
    }
    pthread_mutex_unlock(&p->failed_mu);
}

int64_t lk_peers_others_failed(lk_peers *p, const unsigned char key[LK_PEERS_KEY_BYTES], int64_t now, int64_t *ends)
{
    lk_throttle_entry e;
    if (!lk_throttle_peek(p->others, key, LK_PEERS_KEY_BYTES, now, &e))
        return 0;
    *ends = e.ends;
    return e.failures;
}

/* this process's failures of the current window as rows (scopes in the arena) */
static int64_t failed_rows(lk_peers *p, lk_arena *a, lk_limit_counts *out)
{
    pthread_mutex_lock(&p->failed_mu);
    size_t pos = 0;
    void *v;
    while (lk_map_next(p->failed, &pos, NULL, NULL, &v)) {
        const failed_key *f = v;
        if (out->n == out->cap) {
            out->cap = out->cap ? 2 * out->cap : 64;
            out->recs = lk_xrealloc(out->recs, out->cap * sizeof *out->recs);
        }
        out->recs[out->n++] = (lk_limit_count){.scope = lk_arena_printf(a, "t%s", f->hex), .kind = 't',
                                               .bucket = p->failed_window, .n = f->n};
    }
    pthread_mutex_unlock(&p->failed_mu);
    return p->failed_window;
}

static void apply_failed(lk_peers *p, const lk_limit_count *rows, size_t n, int64_t now)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char key[LK_PEERS_KEY_BYTES];
        size_t len = 0;
        if (rows[i].kind != 't' || rows[i].scope[0] != 't' ||
            sodium_hex2bin(key, sizeof key, rows[i].scope + 1, strlen(rows[i].scope + 1), NULL, &len, NULL) != 0 ||
            len != sizeof key)
            continue;
        (void)lk_throttle_set(p->others, key, sizeof key, rows[i].n, rows[i].bucket * p->auth_window, now);
    }
}

int64_t lk_peers_alive(lk_peers *p)
{
    return atomic_load(&p->alive);
}

bool lk_peers_shared(lk_peers *p)
{
    return atomic_load(&p->alive) > 0 && !atomic_load(&p->alone);
}

int64_t lk_peers_sync_us(lk_peers *p)
{
    return atomic_load(&p->sync_us);
}

/* the limiters as (scope, limiter); caller frees */
static scoped *collect(const lk_peers_limiters *lims, size_t *n)
{
    pthread_mutex_lock(lims->lock);
    size_t cap = 1 + lk_map_size(lims->users), k = 0;
    scoped *all = lk_xcalloc(cap, sizeof *all);
    all[k++] = (scoped){.scope = "i", .l = lims->instance};
    size_t pos = 0;
    int64_t id = 0;
    void *v = NULL;
    while (k < cap && lk_map_next(lims->users, &pos, NULL, &id, &v)) {
        snprintf(all[k].scope, SCOPE_MAX, "u%lld", (long long)id);
        all[k++].l = v;
    }
    pthread_mutex_unlock(lims->lock);
    *n = k;
    return all;
}

static int by_scope(const void *a, const void *b)
{
    return strcmp(((const lk_limit_count *)a)->scope, ((const lk_limit_count *)b)->scope);
}

/* gives each limiter the others' rows of its scope (rows sorted by scope) */
static void apply(scoped *all, size_t n, lk_limit_count *rows, size_t n_rows, int64_t day, bool peers)
{
    for (size_t i = 0; i < n; i++) {
        lk_limit_count key = {.scope = all[i].scope};
        lk_limit_count *hit = n_rows ? bsearch(&key, rows, n_rows, sizeof *rows, by_scope) : NULL;
        if (!hit) {
            lk_limiter_set_others(all[i].l, NULL, 0, day, peers);
            continue;
        }
        lk_limit_count *lo = hit, *hi = hit + 1;
        while (lo > rows && strcmp(lo[-1].scope, all[i].scope) == 0)
            lo--;
        while (hi < rows + n_rows && strcmp(hi->scope, all[i].scope) == 0)
            hi++;
        lk_limiter_set_others(all[i].l, lo, (size_t)(hi - lo), day, peers);
    }
}

/* FNV-1a over the rows (the order they were made in is stable) */
static uint64_t checksum(const lk_limit_counts *rows)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < rows->n; i++) {
        const lk_limit_count *r = &rows->recs[i];
        int64_t f[2] = {r->bucket, r->n};
        const unsigned char *b = (const unsigned char *)f;
        for (size_t k = 0; k < sizeof f; k++)
            h = (h ^ b[k]) * 1099511628211ULL;
        for (const char *c = r->scope; *c; c++)
            h = (h ^ (unsigned char)*c) * 1099511628211ULL;
        h = (h ^ (unsigned char)r->kind) * 1099511628211ULL;
    }
    return h;
}

bool lk_peers_sync(lk_peers *p, lk_store *store, const lk_peers_limiters *lims, int64_t now, int64_t day,
                   lk_error *err)
{
    int64_t t0 = mono_us();
    size_t n = 0;
    scoped *all = collect(lims, &n);
    lk_limit_counts mine = {0};
    mine.recs = lk_xcalloc(1, sizeof *mine.recs);
    mine.cap = 1;
    mine.recs[mine.n++] = (lk_limit_count){.scope = "", .kind = 'c', .bucket = 0, .n = 1}; /* heartbeat */
    lk_arena a = LK_ARENA_INIT;
    (void)failed_rows(p, &a, &mine);
    /* the rate windows count seconds of the limiters' clock (CLOCK_MONOTONIC: the same in
     * every process of one machine), published as rate_base() says; the rest wall-clock
     * seconds and days */
    int64_t mono = lk_mono_ms() / 1000;
    int64_t base = rate_base(p);
    int64_t from = p->synced_second ? p->synced_second - 1 : mono - LK_LIMIT_RATE_SECONDS_MAX;
    int64_t window = 0;
    for (size_t i = 0; i < n; i++) {
        all[i].taken = lk_limiter_report(all[i].l, all[i].scope, from, &mine);
        int64_t w = lk_limiter_window(all[i].l);
        if (w > window)
            window = w;
    }
    for (size_t i = 0; i < mine.n; i++)
        if (mine.recs[i].kind == 'r')
            mine.recs[i].bucket += base;

    /* nothing changed since the last write, which is fresh: only read (an idle server
     * writes its heartbeat once a second, not five times) */
    uint64_t sum = checksum(&mine);
    bool write = sum != p->written_sum || now - p->written_at >= 1 || p->syncs % PRUNE_EVERY == PRUNE_EVERY - 1;
    bool ok = !write || store->ops->begin(store, err) == LK_OK;
    if (ok && write) {
        lk_code rc = store->ops->limit_counts_put(store, p->id, mine.recs, mine.n, now, err);
        if (rc == LK_OK && ++p->syncs % PRUNE_EVERY == 0)
            rc = store->ops->limit_counts_prune(store, mono + base - LK_LIMIT_RATE_SECONDS_MAX, day - 2, now - 60,
                                                 err);
        ok = rc == LK_OK ? store->ops->commit(store, err) == LK_OK : (store->ops->rollback(store), false);
        if (ok) {
            p->written_sum = sum;
            p->written_at = now;
        }
    } else if (!write) {
        p->syncs++;
    }
    lk_limit_count *rows = NULL;
    size_t n_rows = 0;
    if (ok)
        ok = store->ops->limit_counts_others(store, &a, p->id, mono + base - (window > 0 ? window : 1), day,
                                             now - LK_PEERS_ALIVE, now / p->auth_window, &rows, &n_rows,
                                             err) == LK_OK;
    if (ok) {
        int64_t alive = 0;
        for (size_t i = 0; i < n_rows; i++) {
            if (rows[i].scope[0] == '\0' && rows[i].kind == 'c')
                alive += rows[i].n;
            if (rows[i].kind == 'r')
                rows[i].bucket -= base; /* back to the limiters' clock */
        }
        if (n_rows > 1)
            qsort(rows, n_rows, sizeof *rows, by_scope);
        apply(all, n, rows, n_rows, day, alive > 0);
        apply_failed(p, rows, n_rows, now);
        for (size_t i = 0; i < n; i++)
            lk_limiter_synced(all[i].l, all[i].taken);
        p->synced_second = mono;
        atomic_store(&p->alive, alive);
        atomic_store(&p->ok_ms, lk_mono_ms());
        if (atomic_exchange(&p->alone, false))
            lk_log(LK_LOG_INFO, "the limits are shared with the other processes again");
    }
    lk_arena_free(&a);
    free(mine.recs);
    free(all);
    atomic_store(&p->sync_us, mono_us() - t0);
    return ok;
}

void lk_peers_leave(lk_peers *p, lk_store *store, int64_t now)
{
    const lk_limit_count gone = {.scope = "", .kind = 'c', .bucket = 0, .n = 0};
    lk_error err = {0};
    if (store->ops->begin(store, &err) != LK_OK)
        return;
    if (store->ops->limit_counts_put(store, p->id, &gone, 1, now, &err) == LK_OK)
        (void)store->ops->commit(store, &err);
    else
        store->ops->rollback(store);
}

void lk_peers_check(lk_peers *p, const lk_peers_limiters *lims, int64_t day)
{
    if (lk_mono_ms() - atomic_load(&p->ok_ms) <= LK_PEERS_STALE_MS || atomic_load(&p->alone))
        return;
    size_t n = 0;
    scoped *all = collect(lims, &n);
    for (size_t i = 0; i < n; i++)
        lk_limiter_set_others(all[i].l, NULL, 0, day, false);
    free(all);
    atomic_store(&p->alone, true);
    lk_log(LK_LOG_WARN, "the limits could not be shared with other processes for %d s: counting alone",
           LK_PEERS_STALE_MS / 1000);
}
