/*
 * cindex — a hash index of pointers that readers probe without a lock while one
 * writer at a time changes it (util/ebr.h keeps what readers may hold alive).
 *
 * Elements are the caller's; the index stores pointers to them and learns their keys
 * through two functions given at creation: hash(elem) and match(elem, key). A lookup
 * passes the key and its hash, which must equal hash() of a matching element.
 *
 * Readers (inside lk_ebr_enter/exit of the index's domain) see every element that
 * was in the index when they began and stays in it, and each slot's old or new
 * element while a writer changes it; never a torn or freed table. Writers must be
 * serialised by the caller. A replaced or removed element is returned, not freed:
 * the caller retires it (lk_ebr_retire) once nothing else points to it.
 *
 * Open addressing with linear probing; removal leaves a tombstone (a shift would
 * let a concurrent probe miss an element); when live entries and tombstones pass
 * 70 % the writer builds a new table — only the slot array, 8 bytes an element —
 * publishes it and retires the old one.
 */
#ifndef LK_UTIL_CINDEX_H
#define LK_UTIL_CINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/ebr.h"

typedef struct lk_cindex lk_cindex;
typedef uint64_t (*lk_cindex_hash_fn)(const void *elem, const void *ctx);
typedef bool (*lk_cindex_match_fn)(const void *elem, const void *key);

lk_cindex *lk_cindex_new(lk_ebr *ebr, lk_cindex_hash_fn hash, lk_cindex_match_fn match, const void *ctx);
/* frees the table (not the elements); no reader may be inside */
void lk_cindex_free(lk_cindex *ix);

/* reader: the element matching key, NULL if none */
void *lk_cindex_find(const lk_cindex *ix, uint64_t hash, const void *key);
/* reader: each element once, in no particular order. The walk keeps to the table of
 * its start (zero the iterator first); elements put or removed meanwhile may or may
 * not show. Writers may walk too, inside a read section. */
typedef struct lk_cindex_iter {
    const void *table;
    size_t pos;
} lk_cindex_iter;
bool lk_cindex_next(const lk_cindex *ix, lk_cindex_iter *it, void **elem);

/* writer: adds elem (whose key is key); returns the element it replaced, or NULL */
void *lk_cindex_put(lk_cindex *ix, void *elem, const void *key);
/* writer: removes the element matching key; returns it, or NULL */
void *lk_cindex_remove(lk_cindex *ix, uint64_t hash, const void *key);
/* elements in the index (the writer's count; readers may see it move) */
size_t lk_cindex_size(const lk_cindex *ix);
/* bytes of the slot array now */
size_t lk_cindex_bytes(const lk_cindex *ix);

#endif
