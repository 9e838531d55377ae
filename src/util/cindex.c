/*
 * cindex — lock-free reads, one writer (see cindex.h).
 *
 * Invariants (of the published table):
 * - A slot holds NULL (never used), TOMB (its element was removed) or an element.
 * - Every element is reachable from its home slot (hash & mask) by a probe that
 *   meets no NULL: puts fill the first NULL or TOMB of the probe and nothing ever
 *   turns back into NULL, so a probe stops at NULL only when the key is absent.
 * - live + tombs <= 70 % of the capacity, so a probe always meets a NULL.
 * Slots are written with release stores and read with acquire loads: a reader
 * that sees a pointer sees the element it points to as the writer built it.
 */
#include "util/cindex.h"
#include "util/xalloc.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdlib.h>

#define MIN_CAP 16

static char tomb_marker;
#define TOMB ((void *)&tomb_marker)

typedef struct ctable {
    size_t mask;
    _Atomic(void *) slots[];
} ctable;

struct lk_cindex {
    _Atomic(ctable *) table;
    lk_ebr *ebr;
    lk_cindex_hash_fn hash;
    lk_cindex_match_fn match;
    const void *ctx;
    size_t live, tombs;          /* writer's */
    _Atomic size_t size;         /* = live, for readers */
};

static ctable *table_new(size_t cap)
{
    ctable *t = lk_xcalloc(1, sizeof *t + cap * sizeof t->slots[0]);
    t->mask = cap - 1;
    return t;
}

static void table_free(void *p)
{
    free(p);
}

lk_cindex *lk_cindex_new(lk_ebr *ebr, lk_cindex_hash_fn hash, lk_cindex_match_fn match, const void *ctx)
{
    lk_cindex *ix = lk_xcalloc(1, sizeof *ix);
    ix->ebr = ebr;
    ix->hash = hash;
    ix->match = match;
    ix->ctx = ctx;
    atomic_init(&ix->table, table_new(MIN_CAP));
    return ix;
}

void lk_cindex_free(lk_cindex *ix)
{
    if (!ix)
        return;
    free(atomic_load(&ix->table));
    free(ix);
}

void *lk_cindex_find(const lk_cindex *ix, uint64_t hash, const void *key)
{
    ctable *t = atomic_load_explicit(&((lk_cindex *)ix)->table, memory_order_acquire);
    for (size_t i = (size_t)hash & t->mask;; i = (i + 1) & t->mask) {
        void *e = atomic_load_explicit(&t->slots[i], memory_order_acquire);
        if (!e)
            return NULL;
        if (e != TOMB && ix->match(e, key))
            return e;
    }
}

bool lk_cindex_next(const lk_cindex *ix, lk_cindex_iter *it, void **elem)
{
    if (!it->table)
        it->table = atomic_load_explicit(&((lk_cindex *)ix)->table, memory_order_acquire);
    ctable *t = (ctable *)it->table;
    while (it->pos <= t->mask) {
        void *e = atomic_load_explicit(&t->slots[it->pos++], memory_order_acquire);
        if (e && e != TOMB) {
            *elem = e;
            return true;
        }
    }
    return false;
}

/* a new table with room for `live` elements at half load, every element moved over */
static void rebuild(lk_cindex *ix, size_t live)
{
    size_t cap = MIN_CAP;
    while (cap < 2 * (live + 1))
        cap <<= 1;
    ctable *old = atomic_load_explicit(&ix->table, memory_order_relaxed);
    ctable *t = table_new(cap);
    for (size_t j = 0; j <= old->mask; j++) {
        void *e = atomic_load_explicit(&old->slots[j], memory_order_relaxed);
        if (!e || e == TOMB)
            continue;
        size_t i = (size_t)ix->hash(e, ix->ctx) & t->mask;
        while (atomic_load_explicit(&t->slots[i], memory_order_relaxed))
            i = (i + 1) & t->mask;
        atomic_store_explicit(&t->slots[i], e, memory_order_relaxed);
    }
    ix->tombs = 0;
    assert((live + 1) * 2 <= cap);
    atomic_store_explicit(&ix->table, t, memory_order_release);
    lk_ebr_retire(ix->ebr, old, table_free);
}

void *lk_cindex_put(lk_cindex *ix, void *elem, const void *key)
{
    ctable *t = atomic_load_explicit(&ix->table, memory_order_relaxed);
    if ((ix->live + ix->tombs + 1) * 10 > (t->mask + 1) * 7) {
        rebuild(ix, ix->live + 1);
        t = atomic_load_explicit(&ix->table, memory_order_relaxed);
    }
    assert(elem && elem != TOMB);
    uint64_t h = ix->hash(elem, ix->ctx);
    size_t free_slot = SIZE_MAX;
    for (size_t i = (size_t)h & t->mask;; i = (i + 1) & t->mask) {
        void *e = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
        if (e == TOMB) {
            if (free_slot == SIZE_MAX)
                free_slot = i;
            continue;
        }
        if (!e) {
            if (free_slot == SIZE_MAX)
                free_slot = i;
            else
                ix->tombs--;
            atomic_store_explicit(&t->slots[free_slot], elem, memory_order_release);
            ix->live++;
            atomic_store_explicit(&ix->size, ix->live, memory_order_relaxed);
            return NULL;
        }
        if (ix->match(e, key)) {
            atomic_store_explicit(&t->slots[i], elem, memory_order_release);
            return e;
        }
    }
}

void *lk_cindex_remove(lk_cindex *ix, uint64_t hash, const void *key)
{
    ctable *t = atomic_load_explicit(&ix->table, memory_order_relaxed);
    for (size_t i = (size_t)hash & t->mask;; i = (i + 1) & t->mask) {
        void *e = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
        if (!e)
            return NULL;
        if (e != TOMB && ix->match(e, key)) {
            atomic_store_explicit(&t->slots[i], TOMB, memory_order_release);
            ix->live--;
            ix->tombs++;
            atomic_store_explicit(&ix->size, ix->live, memory_order_relaxed);
            /* many removals: a fresh table, so that lookups of absent keys stay short */
            if (ix->tombs > ix->live && ix->tombs > MIN_CAP)
                rebuild(ix, ix->live);
            return e;
        }
    }
}

size_t lk_cindex_size(const lk_cindex *ix)
{
    return atomic_load_explicit(&((lk_cindex *)ix)->size, memory_order_relaxed);
}

size_t lk_cindex_bytes(const lk_cindex *ix)
{
    ctable *t = atomic_load_explicit(&((lk_cindex *)ix)->table, memory_order_relaxed);
    return sizeof *t + (t->mask + 1) * sizeof t->slots[0];
}
