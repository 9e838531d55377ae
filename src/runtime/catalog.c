/*
 * catalog — building and reading the server's snapshot of the domain (catalog.h).
 *
 * Everything of a snapshot lives in its arena (strings, raw hashes, bitsets, limits)
 * and in three arrays it owns: users and services in id order, and compact indexes
 * over them. Once built it is never written again, so readers need no lock, only a
 * reference.
 *
 * Building streams rows from the store (api_user_role_scan, service_scan) straight
 * into the snapshot: no temporary copy of every record, one query for all users'
 * roles. Users holding the same permissions share one bitset.
 *
 * Indexes: open addressing with linear probing over uint32 positions + 1 (0: empty),
 * at most half full: 4 bytes a slot instead of a map's 24.
 */
#include "runtime/catalog.h"
#include "core/allowlist.h"
#include "core/authz.h"
#include "core/limits.h"
#include "core/secret.h"
#include "core/service.h"
#include "util/log.h"
#include "util/map.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cat_index {
    uint32_t *slots;            /* position + 1; 0: empty */
    size_t mask;
} cat_index;

struct lk_catalog {
    atomic_int refs;
    int64_t generation;
    lk_arena arena;
    lk_cat_user *users;         /* id order */
    size_t n_users;
    lk_cat_service *services;   /* id order */
    size_t n_services;
    cat_index user_ix;          /* by id */
    cat_index service_ix;       /* by id */
    cat_index client_ix;        /* by client id */
    lk_map *perm_index;         /* lower-case name -> index + 1 */
    size_t perm_words;
    lk_limits instance;
    bool allow_enabled;
    lk_cidr *allow;
    size_t n_allow;
};

/* ---- indexes ------------------------------------------------------------------ */

static void index_init(cat_index *ix, size_t n)
{
    size_t cap = 8;
    while (cap < 2 * n)
        cap <<= 1;
    ix->slots = lk_xcalloc(cap, sizeof *ix->slots);
    ix->mask = cap - 1;
}

static void index_put(cat_index *ix, uint64_t h, size_t pos)
{
    size_t i = (size_t)h & ix->mask;
    while (ix->slots[i])
        i = (i + 1) & ix->mask;
    ix->slots[i] = (uint32_t)(pos + 1);
}

static void index_build(lk_catalog *c)
{
    index_init(&c->user_ix, c->n_users);
    for (size_t i = 0; i < c->n_users; i++)
        index_put(&c->user_ix, lk_map_hash_int(c->users[i].id), i);
    index_init(&c->service_ix, c->n_services);
    index_init(&c->client_ix, c->n_services);
    for (size_t i = 0; i < c->n_services; i++) {
        index_put(&c->service_ix, lk_map_hash_int(c->services[i].id), i);
        index_put(&c->client_ix, lk_map_hash_str(c->services[i].client_id), i);
    }
}

/* ---- building ------------------------------------------------------------------- */

static char *lower(lk_arena *a, const char *s)
{
    char *d = lk_arena_strdup(a, s);
    for (char *p = d; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

static lk_code load_permissions(lk_catalog *c, lk_store *s, lk_arena *tmp, lk_error *err)
{
    lk_permission *perms = NULL;
    size_t n = 0;
    lk_code rc = s->ops->permission_list(s, tmp, &perms, &n, err);
    if (rc != LK_OK)
        return rc;
    c->perm_index = lk_map_new_str(n);
    for (size_t i = 0; i < n; i++)
        lk_map_put_str(c->perm_index, lower(&c->arena, perms[i].name), (void *)(uintptr_t)(i + 1));
    c->perm_words = (n + 63) / 64;
    if (c->perm_words == 0)
        c->perm_words = 1;
    return LK_OK;
}

typedef struct user_build {
    lk_catalog *c;
    lk_map *role_bits;          /* role id -> bitset (tmp arena) */
    lk_map *shared;             /* fold of a bitset -> a bitset in the snapshot */
    uint64_t *bits;             /* the current user's, being collected (tmp arena) */
    size_t cap;
} user_build;

static uint64_t fold_bits(const uint64_t *bits, size_t words)
{
    uint64_t h = 0;
    for (size_t i = 0; i < words; i++)
        h = lk_map_hash_int((int64_t)(h ^ bits[i]));
    return h;
}

/* the collected bitset, shared with earlier users holding the same permissions */
static void finish_user(user_build *b)
{
    lk_catalog *c = b->c;
    if (!c->n_users)
        return;
    size_t bytes = c->perm_words * sizeof *b->bits;
    int64_t key = (int64_t)fold_bits(b->bits, c->perm_words);
    uint64_t *same = lk_map_get_int(b->shared, key);
    if (!same || memcmp(same, b->bits, bytes) != 0) {
        uint64_t *fresh = lk_arena_alloc(&c->arena, bytes);
        memcpy(fresh, b->bits, bytes);
        if (!same)
            lk_map_put_int(b->shared, key, fresh);
        same = fresh;
    }
    c->users[c->n_users - 1].perms = same;
    memset(b->bits, 0, bytes);
}

static lk_code on_user_role(void *ctx, const lk_user *u, int64_t role_id)
{
    user_build *b = ctx;
    lk_catalog *c = b->c;
    if (!c->n_users || c->users[c->n_users - 1].id != u->id) {
        finish_user(b);
        if (c->n_users == b->cap) {
            b->cap = b->cap ? 2 * b->cap : 64;
            c->users = lk_xrealloc(c->users, b->cap * sizeof *c->users);
        }
        c->users[c->n_users++] = (lk_cat_user){
            .id = u->id,
            .expires_at = u->expires_at,
            .email = lk_arena_strdup(&c->arena, u->email),
            .status = u->status,
            .api_only = u->api_only,
        };
    }
    const uint64_t *rb = role_id ? lk_map_get_int(b->role_bits, role_id) : NULL;
    for (size_t w = 0; rb && w < c->perm_words; w++)
        b->bits[w] |= rb[w];
    return LK_OK;
}

static lk_code load_users(lk_catalog *c, lk_store *s, lk_arena *tmp, lk_error *err)
{
    lk_role *roles = NULL;
    size_t n_roles = 0;
    lk_code rc = s->ops->role_list(s, tmp, &roles, &n_roles, err);
    if (rc != LK_OK)
        return rc;
    user_build b = {
        .c = c,
        .role_bits = lk_map_new_int(n_roles),
        .shared = lk_map_new_int(16),
        .bits = lk_arena_alloc(tmp, c->perm_words * sizeof *b.bits),
    };
    for (size_t i = 0; i < n_roles; i++) {
        uint64_t *bits = lk_arena_alloc(tmp, c->perm_words * sizeof *bits);
        for (size_t p = 0; p < roles[i].n_perms; p++) {
            const lk_permission *pm = &roles[i].perms[p];
            int idx = lk_catalog_permission(c, pm->name);
            /* a token holds only what applies to tokens (core/authz.h) */
            if (idx >= 0 && lk_authz_applies(LK_CALLER_TOKEN, pm->group, pm->name))
                bits[idx / 64] |= UINT64_C(1) << (idx % 64);
        }
        lk_map_put_int(b.role_bits, roles[i].id, bits);
    }
    rc = s->ops->api_user_role_scan(s, on_user_role, &b, err);
    if (rc == LK_OK)
        finish_user(&b);
    lk_map_free(b.role_bits);
    lk_map_free(b.shared);
    if (rc != LK_OK)
        return rc;
    if (c->n_users && c->n_users < b.cap)
        c->users = lk_xrealloc(c->users, c->n_users * sizeof *c->users);
    return LK_OK;
}

/* per-user limits, once the users and their index exist */
static lk_code load_user_limits(lk_catalog *c, lk_store *s, lk_arena *tmp, lk_error *err)
{
    lk_user_limits *lim = NULL;
    size_t n_lim = 0;
    lk_code rc = s->ops->user_limits_list(s, tmp, &lim, &n_lim, err);
    for (size_t i = 0; rc == LK_OK && i < n_lim; i++) {
        lk_cat_user *u = (lk_cat_user *)lk_catalog_user(c, lim[i].user_id);
        if (u) {
            lk_limits *l = lk_arena_alloc(&c->arena, sizeof *l);
            *l = lim[i].limits;
            u->limits = l;
        }
    }
    return rc;
}

typedef struct service_build {
    lk_catalog *c;
    size_t cap;
} service_build;

/* a raw copy of a stored hex hash in the snapshot; NULL when absent or malformed */
static const unsigned char *raw_hash(lk_arena *a, const char *hex)
{
    unsigned char raw[LK_HASH_BYTES];
    if (!hex || !lk_secret_hex_decode(hex, raw))
        return NULL;
    unsigned char *d = lk_arena_alloc(a, sizeof raw);
    memcpy(d, raw, sizeof raw);
    return d;
}

static lk_code on_service(void *ctx, const lk_service *svc)
{
    service_build *b = ctx;
    lk_catalog *c = b->c;
    if (c->n_services == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        c->services = lk_xrealloc(c->services, b->cap * sizeof *c->services);
    }
    c->services[c->n_services++] = (lk_cat_service){
        .id = svc->id,
        .user_id = svc->user_id,
        .tokens_valid_after = svc->tokens_valid_after,
        .old_secret_expires_at = svc->old_secret_expires_at,
        .client_id = lk_arena_strdup(&c->arena, svc->client_id),
        .secret_hash = raw_hash(&c->arena, svc->secret_hash),
        .old_secret_hash = raw_hash(&c->arena, svc->old_secret_hash),
    };
    return LK_OK;
}

static lk_code load_services(lk_catalog *c, lk_store *s, lk_error *err)
{
    service_build b = {.c = c};
    lk_code rc = s->ops->service_scan(s, on_service, &b, err);
    if (rc == LK_OK && c->n_services && c->n_services < b.cap)
        c->services = lk_xrealloc(c->services, c->n_services * sizeof *c->services);
    return rc;
}

/* limits and allowlist through the core, which owns their keys and defaults */
static lk_code load_settings(lk_catalog *c, lk_store *s, lk_arena *tmp, lk_error *err)
{
    lk_op op;
    lk_op_init(&op, s, tmp, "server", "");
    lk_code rc = lk_limits_instance(&op, &c->instance);
    const char **cidrs = NULL;
    size_t n = 0;
    if (rc == LK_OK)
        rc = lk_allowlist_get(&op, &c->allow_enabled, &cidrs, &n);
    if (rc != LK_OK) {
        *err = op.err;
        return rc;
    }
    c->allow = lk_arena_alloc(&c->arena, (n ? n : 1) * sizeof *c->allow);
    for (size_t i = 0; i < n; i++) {
        if (lk_cidr_parse(cidrs[i], &c->allow[c->n_allow], NULL))
            c->n_allow++;
        else
            lk_log(LK_LOG_WARN, "ignoring allowlist entry '%.64s': not an address or CIDR range", cidrs[i]);
    }
    return LK_OK;
}

lk_catalog *lk_catalog_build(lk_store *s, lk_error *err)
{
    lk_catalog *c = lk_xcalloc(1, sizeof *c);
    atomic_init(&c->refs, 1);
    lk_arena tmp = LK_ARENA_INIT;
    lk_code rc = s->ops->generation(s, &c->generation, err);
    if (rc == LK_OK)
        rc = load_permissions(c, s, &tmp, err);
    if (rc == LK_OK)
        rc = load_users(c, s, &tmp, err);
    if (rc == LK_OK)
        rc = load_services(c, s, err);
    if (rc == LK_OK)
        index_build(c);
    if (rc == LK_OK)
        rc = load_user_limits(c, s, &tmp, err);
    if (rc == LK_OK)
        rc = load_settings(c, s, &tmp, err);
    lk_arena_free(&tmp);
    if (rc != LK_OK) {
        lk_catalog_unref(c);
        return NULL;
    }
    return c;
}

void lk_catalog_ref(lk_catalog *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void lk_catalog_unref(lk_catalog *c)
{
    if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(c->user_ix.slots);
    free(c->service_ix.slots);
    free(c->client_ix.slots);
    free(c->users);
    free(c->services);
    lk_map_free(c->perm_index);
    lk_arena_free(&c->arena);
    free(c);
}

/* ---- reading -------------------------------------------------------------------- */

size_t lk_catalog_service_count(const lk_catalog *c)
{
    return c->n_services;
}

size_t lk_catalog_user_count(const lk_catalog *c)
{
    return c->n_users;
}

int64_t lk_catalog_generation(const lk_catalog *c)
{
    return c->generation;
}

const lk_cat_service *lk_catalog_service_by_client(const lk_catalog *c, const char *client_id)
{
    if (!client_id || !c->client_ix.slots)
        return NULL;
    for (size_t i = (size_t)lk_map_hash_str(client_id) & c->client_ix.mask;; i = (i + 1) & c->client_ix.mask) {
        uint32_t v = c->client_ix.slots[i];
        if (!v)
            return NULL;
        if (strcmp(c->services[v - 1].client_id, client_id) == 0)
            return &c->services[v - 1];
    }
}

const lk_cat_service *lk_catalog_service(const lk_catalog *c, int64_t id)
{
    if (!c->service_ix.slots)
        return NULL;
    for (size_t i = (size_t)lk_map_hash_int(id) & c->service_ix.mask;; i = (i + 1) & c->service_ix.mask) {
        uint32_t v = c->service_ix.slots[i];
        if (!v)
            return NULL;
        if (c->services[v - 1].id == id)
            return &c->services[v - 1];
    }
}

const lk_cat_user *lk_catalog_user(const lk_catalog *c, int64_t id)
{
    if (!c->user_ix.slots)
        return NULL;
    for (size_t i = (size_t)lk_map_hash_int(id) & c->user_ix.mask;; i = (i + 1) & c->user_ix.mask) {
        uint32_t v = c->user_ix.slots[i];
        if (!v)
            return NULL;
        if (c->users[v - 1].id == id)
            return &c->users[v - 1];
    }
}

int lk_catalog_permission(const lk_catalog *c, const char *name)
{
    char buf[LK_NAME_MAX * 4 + 1];
    size_t n = strlen(name);
    if (n >= sizeof buf)
        return -1;
    for (size_t i = 0; i <= n; i++)
        buf[i] = (char)tolower((unsigned char)name[i]);
    uintptr_t v = (uintptr_t)lk_map_get_str(c->perm_index, buf);
    return v ? (int)(v - 1) : -1;
}

bool lk_cat_user_has(const lk_cat_user *u, int idx)
{
    return idx >= 0 && (u->perms[idx / 64] >> (idx % 64)) & 1;
}

bool lk_cat_user_usable(const lk_cat_user *u, int64_t now)
{
    if (!u || !u->api_only || u->status != LK_STATUS_ACTIVE)
        return false;
    return u->expires_at == 0 || now < u->expires_at;
}

bool lk_cat_service_secret_matches(const lk_cat_service *s, const char *secret, int64_t now)
{
    return s && lk_service_secret_matches_raw(s->secret_hash, s->old_secret_hash, s->old_secret_expires_at,
                                              secret, now);
}

const lk_limits *lk_catalog_instance_limits(const lk_catalog *c)
{
    return &c->instance;
}

bool lk_catalog_allows(const lk_catalog *c, const lk_ip *ip)
{
    if (!c->allow_enabled)
        return true;
    for (size_t i = 0; i < c->n_allow; i++)
        if (lk_cidr_contains(&c->allow[i], ip))
            return true;
    return false;
}

bool lk_catalog_next_service(const lk_catalog *c, size_t *pos, const lk_cat_service **out)
{
    if (*pos >= c->n_services)
        return false;
    *out = &c->services[(*pos)++];
    return true;
}
