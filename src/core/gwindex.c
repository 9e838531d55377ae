/*
 * gwindex — the route table's index (rules in gwindex.h).
 *
 * Invariants: every route whose pattern could match a path is among the candidates
 * of that path (a match needs the path to begin with the pattern's literal start,
 * core/gwpath.c); the candidates go to lk_gwroute_pick_some in table order, so that
 * ties fall as they do without the index; a path with more candidates than a pick
 * holds at once, or a table with a start longer than any checked pattern's, is
 * picked among all routes instead (the same answer, only slower).
 */
#include "core/gwindex.h"
#include "core/gwpath.h"

#include <string.h>

#define CANDIDATES_MAX 64   /* routes a pick gathers on its stack; more: every route */

/* the routes of one literal start: idx[first .. first + count) */
typedef struct start {
    uint64_t hash;
    const char *text;       /* the pattern of the first of them; its first len bytes */
    uint32_t len;
    uint32_t first, count;
    uint32_t filled;        /* while building */
} start;

struct lk_gwroute_index {
    const lk_gw_route *routes;
    size_t n;
    start *slots;           /* open addressing; count 0: empty */
    size_t mask;
    uint32_t *idx;          /* route indexes, grouped by start, ascending in each */
    bool has_len[LK_GWPATTERN_MAX + 1];   /* the lengths some start has */
    size_t max_len;
    bool scan;              /* a start longer than a pattern may be: pick by scanning */
};

/* FNV-1a, one byte at a time: the hash of each beginning of a path follows from
 * the one before */
#define FNV_BASIS 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t fnv_step(uint64_t h, unsigned char c)
{
    return (h ^ c) * FNV_PRIME;
}

/* the slot of (hash, text, len): its own, or the empty one where it belongs */
static start *slot(const lk_gwroute_index *ix, uint64_t hash, const char *text, size_t len)
{
    for (size_t i = (size_t)hash & ix->mask;; i = (i + 1) & ix->mask) {
        start *s = &ix->slots[i];
        if (!s->count || (s->hash == hash && s->len == len && memcmp(s->text, text, len) == 0))
            return s;
    }
}

lk_gwroute_index *lk_gwroute_index_build(lk_arena *a, const lk_gw_route *routes, size_t n)
{
    lk_gwroute_index *ix = lk_arena_alloc(a, sizeof *ix);
    ix->routes = routes;
    ix->n = n;
    size_t cap = 8;
    while (cap < 2 * n)
        cap *= 2;
    ix->slots = lk_arena_alloc(a, cap * sizeof *ix->slots);
    ix->mask = cap - 1;
    ix->idx = lk_arena_alloc(a, (n ? n : 1) * sizeof *ix->idx);
    start **of = lk_arena_alloc(a, (n ? n : 1) * sizeof *of); /* each route's start */
    /* count the routes of each start, then give each start its run of idx */
    for (size_t i = 0; i < n; i++) {
        const char *p = routes[i].pattern;
        size_t len = strcspn(p, "{*"); /* its literal start */
        uint64_t h = FNV_BASIS;
        for (size_t k = 0; k < len; k++)
            h = fnv_step(h, (unsigned char)p[k]);
        start *s = of[i] = slot(ix, h, p, len);
        if (!s->count)
            *s = (start){.hash = h, .text = p, .len = (uint32_t)len};
        s->count++;
        if (len > LK_GWPATTERN_MAX) { /* not from a checked table; still picked right */
            ix->scan = true;
            continue;
        }
        ix->has_len[len] = true;
        if (len > ix->max_len)
            ix->max_len = len;
    }
    uint32_t next = 0;
    for (size_t i = 0; i <= ix->mask; i++) {
        start *s = &ix->slots[i];
        if (s->count) {
            s->first = next;
            next += s->count;
        }
    }
    for (size_t i = 0; i < n; i++)
        ix->idx[of[i]->first + of[i]->filled++] = (uint32_t)i;
    return ix;
}

/* cand[0..*n) += the run of s, keeping cand ascending; false when it would not fit */
static bool gather(const lk_gwroute_index *ix, const start *s, uint32_t *cand, size_t *n)
{
    if (*n + s->count > CANDIDATES_MAX)
        return false;
    for (uint32_t k = 0; k < s->count; k++) {
        uint32_t v = ix->idx[s->first + k];
        size_t j = (*n)++;
        while (j > 0 && cand[j - 1] > v) {
            cand[j] = cand[j - 1];
            j--;
        }
        cand[j] = v;
    }
    return true;
}

lk_gw_found lk_gwroute_index_pick(const lk_gwroute_index *ix, const char *method, const char *path,
                                  const lk_gw_route **out)
{
    if (ix->scan)
        return lk_gwroute_pick(ix->routes, ix->n, method, path, out);
    uint32_t cand[CANDIDATES_MAX];
    size_t n = 0;
    uint64_t h = FNV_BASIS;
    for (size_t len = 0;; len++) {
        if (ix->has_len[len]) {
            const start *s = slot(ix, h, path, len);
            if (s->count && !gather(ix, s, cand, &n))
                return lk_gwroute_pick(ix->routes, ix->n, method, path, out);
        }
        if (len == ix->max_len || path[len] == '\0')
            break;
        h = fnv_step(h, (unsigned char)path[len]);
    }
    return lk_gwroute_pick_some(ix->routes, cand, n, method, path, out);
}
