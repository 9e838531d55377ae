/*
 * map — an open-addressing hash map with string or integer keys and pointer values.
 *
 * Not thread-safe: callers lock (the runtime shards its maps) or build a map once
 * and only read it afterwards (snapshots). Keys are borrowed: a string key must
 * outlive its entry (snapshots keep them in their arena). Values are borrowed.
 */
#ifndef LK_UTIL_MAP_H
#define LK_UTIL_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lk_map lk_map;

/* the maps' hashes, never 0, for callers that keep their own compact indexes */
uint64_t lk_map_hash_str(const char *s);
uint64_t lk_map_hash_int(int64_t k);

lk_map *lk_map_new_str(size_t expected);   /* keys: NUL-terminated strings, compared exactly */
lk_map *lk_map_new_int(size_t expected);   /* keys: int64_t */
void lk_map_free(lk_map *m);

/* insert or replace; returns the previous value or NULL. On replace the entry keeps
 * the key passed now, so the old key may be freed afterwards. */
void *lk_map_put_str(lk_map *m, const char *key, void *value);
void *lk_map_put_int(lk_map *m, int64_t key, void *value);
void *lk_map_get_str(const lk_map *m, const char *key);
void *lk_map_get_int(const lk_map *m, int64_t key);
/* returns the removed value or NULL */
void *lk_map_del_str(lk_map *m, const char *key);
void *lk_map_del_int(lk_map *m, int64_t key);
size_t lk_map_size(const lk_map *m);

/* iteration: *pos starts at 0; returns false at the end. Removing the entry just
 * returned is allowed; anything else invalidates the iteration. */
bool lk_map_next(const lk_map *m, size_t *pos, const char **skey, int64_t *ikey, void **value);

#endif
