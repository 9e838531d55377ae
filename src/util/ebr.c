/*
 * ebr — epoch-based reclamation (see ebr.h).
 *
 * State: a global epoch G (starts at 1); per thread, a slot holding the epoch it
 * saw when its outermost read section began (0: outside). An object is retired
 * into the bucket of the epoch current at its retirement, after it was unlinked.
 *
 * G moves from g to g + 1 only when every slot is 0 or g. Objects retired at g - 1
 * are freed then. Why that is safe: a reader holding such an object loaded it
 * before it was unlinked, so before the retirement read G = g - 1; it entered with
 * an epoch <= g - 1, and the earlier move from g - 1 to g needed every slot at
 * g - 1 or 0 — this reader was at g - 1, which does not block that move — but this
 * move (to g + 1) needs it at g or gone: it is gone. A reader whose slot store
 * was not yet visible when a move checked the slots loads its pointers after that
 * check, hence after every unlink that preceded it, and cannot see those objects.
 * The seq_cst fences after a reader's slot store and before the writer's scan make
 * "loaded before the unlink" and "visible to the scan" line up (Dekker's pattern).
 *
 * Slots are indexed by a small per-thread number shared by every domain, handed
 * out on a thread's first read and given back when the thread ends.
 */
#include "util/ebr.h"
#include "util/xalloc.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LK_EBR_SLOTS 1024            /* threads alive at once, over the whole process */

typedef struct ebr_slot {
    _Alignas(64) _Atomic uint64_t epoch;  /* 0: outside a read section */
    unsigned depth;                       /* nesting; touched by its own thread only */
} ebr_slot;

typedef struct ebr_item {
    void *p;
    void (*fn)(void *);
} ebr_item;

typedef struct ebr_bucket {
    ebr_item *items;
    size_t n, cap;
} ebr_bucket;

struct lk_ebr {
    _Atomic uint64_t epoch;
    pthread_mutex_t mu;                   /* retire and collect */
    ebr_bucket buckets[3];                /* by epoch % 3 */
    _Atomic size_t pending;
    ebr_slot slots[LK_EBR_SLOTS];
};

/* ---- per-thread slot numbers ------------------------------------------------------- */

static pthread_mutex_t ix_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t ix_once = PTHREAD_ONCE_INIT;
static pthread_key_t ix_key;
static int ix_free[LK_EBR_SLOTS];
static int ix_n_free, ix_next;
static _Atomic int ix_high;               /* numbers handed out so far: slots to scan */
static _Thread_local int ix_mine = -1;

static void ix_release(void *v)
{
    int ix = (int)(intptr_t)v - 1;
    pthread_mutex_lock(&ix_lock);
    ix_free[ix_n_free++] = ix;
    pthread_mutex_unlock(&ix_lock);
}

static void ix_init(void)
{
    if (pthread_key_create(&ix_key, ix_release) != 0)
        abort();
}

static int thread_ix(void)
{
    if (ix_mine >= 0)
        return ix_mine;
    pthread_once(&ix_once, ix_init);
    pthread_mutex_lock(&ix_lock);
    int ix;
    if (ix_n_free > 0) {
        ix = ix_free[--ix_n_free];
    } else if (ix_next < LK_EBR_SLOTS) {
        ix = ix_next++;
        atomic_store(&ix_high, ix_next);
    } else {
        pthread_mutex_unlock(&ix_lock);
        fprintf(stderr, "latchkey: more than %d threads read shared state at once\n", LK_EBR_SLOTS);
        abort();
    }
    pthread_mutex_unlock(&ix_lock);
    pthread_setspecific(ix_key, (void *)(intptr_t)(ix + 1));
    ix_mine = ix;
    return ix;
}

/* ---- domains -------------------------------------------------------------------------- */

lk_ebr *lk_ebr_new(void)
{
    lk_ebr *d = aligned_alloc(_Alignof(lk_ebr), sizeof(lk_ebr));
    if (!d)
        abort();
    memset(d, 0, sizeof *d);
    atomic_init(&d->epoch, 1);
    pthread_mutex_init(&d->mu, NULL);
    return d;
}

static void bucket_free_all(ebr_bucket *b)
{
    for (size_t i = 0; i < b->n; i++)
        b->items[i].fn(b->items[i].p);
    free(b->items);
    *b = (ebr_bucket){0};
}

void lk_ebr_free(lk_ebr *d)
{
    if (!d)
        return;
    for (int i = 0; i < 3; i++)
        bucket_free_all(&d->buckets[i]);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

void lk_ebr_enter(lk_ebr *d)
{
    ebr_slot *s = &d->slots[thread_ix()];
    if (s->depth++ > 0)
        return;
    atomic_store_explicit(&s->epoch, atomic_load_explicit(&d->epoch, memory_order_relaxed), memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
}

void lk_ebr_exit(lk_ebr *d)
{
    ebr_slot *s = &d->slots[thread_ix()];
    assert(s->depth > 0 && "a read section ends on the thread that began it");
    if (--s->depth > 0)
        return;
    atomic_store_explicit(&s->epoch, 0, memory_order_release);
}

void lk_ebr_retire(lk_ebr *d, void *p, void (*fn)(void *))
{
    if (!p)
        return;
    pthread_mutex_lock(&d->mu);
    atomic_thread_fence(memory_order_seq_cst); /* the caller's unlink comes first */
    ebr_bucket *b = &d->buckets[atomic_load(&d->epoch) % 3];
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->items = lk_xrealloc(b->items, b->cap * sizeof *b->items);
    }
    b->items[b->n++] = (ebr_item){p, fn};
    atomic_fetch_add(&d->pending, 1);
    pthread_mutex_unlock(&d->mu);
}

/* moves the epoch on if every reader is current; returns what became safe to free */
static bool try_advance(lk_ebr *d, ebr_bucket *out)
{
    atomic_thread_fence(memory_order_seq_cst);
    uint64_t g = atomic_load(&d->epoch);
    int high = atomic_load(&ix_high);
    for (int i = 0; i < high; i++) {
        uint64_t e = atomic_load_explicit(&d->slots[i].epoch, memory_order_acquire);
        if (e != 0 && e != g)
            return false;
    }
    atomic_store(&d->epoch, g + 1);
    /* retired at g - 1, the bucket that epoch g + 2 fills next */
    ebr_bucket *b = &d->buckets[(g + 2) % 3];
    *out = *b;
    *b = (ebr_bucket){0};
    return true;
}

void lk_ebr_collect(lk_ebr *d)
{
    if (atomic_load(&d->pending) == 0)
        return;
    ebr_bucket done[2] = {{0}, {0}};
    pthread_mutex_lock(&d->mu);
    /* two moves free what was retired before this call, when no reader lingers */
    for (int i = 0; i < 2 && try_advance(d, &done[i]); i++)
        ;
    pthread_mutex_unlock(&d->mu);
    for (int i = 0; i < 2; i++) {
        atomic_fetch_sub(&d->pending, done[i].n);
        bucket_free_all(&done[i]);
    }
}

size_t lk_ebr_pending(lk_ebr *d)
{
    return atomic_load(&d->pending);
}
