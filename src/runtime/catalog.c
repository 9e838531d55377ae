/*
 * catalog — the server's incremental view of the domain (catalog.h).
 *
 * Layout and ownership:
 * - Users and services are single allocations each (the struct, then its limits,
 *   role ids, email / client id and previous secret hash), never written once
 *   published (but for the writer-only `seen` mark and a service's token cache).
 * - Three lock-free indexes (util/cindex.h) point at them: services by id, services
 *   by client id (SipHash under a key of this process: client ids are what callers
 *   send), users by id. The catalog owns the entries they point to.
 * - The roles' permissions and the instance settings are small immutable snapshots
 *   behind atomic pointers, rebuilt whole when they change (an instance has few
 *   roles; its users and services are what grows).
 * - Permission indexes are handed out by name once and kept for the catalog's life,
 *   so an index read from one roles snapshot means the same in the next.
 *
 * Whatever a writer unlinks (an entry, a snapshot, an index's old slot array) goes
 * to the catalog's reclamation domain and is freed once no reader can hold it.
 */
#include "runtime/catalog.h"
#include "core/service.h"
#include "core/secret.h"
#include "util/arena.h"
#include "util/cindex.h"
#include "util/ebr.h"
#include "util/map.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct cat_roles {
    lk_arena arena;              /* names, bitsets */
    lk_map *perm_index;          /* lower-case name -> index + 1 */
    lk_map *role_bits;           /* role id -> uint64_t[words] */
    size_t words;
} cat_roles;

typedef struct cat_settings {
    lk_limits instance;
    bool allow_enabled;
    size_t n_allow;
    lk_cidr allow[];
} cat_settings;

struct lk_catalog {
    lk_ebr *ebr;
    lk_cindex *services;         /* by id */
    lk_cindex *clients;          /* by client id */
    lk_cindex *users;            /* by id */
    _Atomic(cat_roles *) roles;
    _Atomic(cat_settings *) settings;
    _Atomic int64_t position;
    unsigned char client_key[crypto_shorthash_KEYBYTES];

    pthread_mutex_t write_mu;
    lk_map *perm_slots;          /* writer's: lower-case name -> index + 1, for good */
    lk_arena perm_names;         /* its keys */
    size_t n_perm_slots;
};

/* ---- index keys ------------------------------------------------------------------ */

static uint64_t id_hash(int64_t id)
{
    return lk_map_hash_int(id);
}

static uint64_t service_id_hash(const void *e, const void *ctx)
{
    (void)ctx;
    return id_hash(((const lk_cat_service *)e)->id);
}

static bool service_id_match(const void *e, const void *key)
{
    return ((const lk_cat_service *)e)->id == *(const int64_t *)key;
}

static uint64_t client_hash_of(const unsigned char *key, const char *client_id)
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, (const unsigned char *)client_id, strlen(client_id), key);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return v;
}

static uint64_t client_hash(const void *e, const void *ctx)
{
    return client_hash_of(ctx, ((const lk_cat_service *)e)->client_id);
}

static bool client_match(const void *e, const void *key)
{
    return strcmp(((const lk_cat_service *)e)->client_id, key) == 0;
}

static uint64_t user_id_hash(const void *e, const void *ctx)
{
    (void)ctx;
    return id_hash(((const lk_cat_user *)e)->id);
}

static bool user_id_match(const void *e, const void *key)
{
    return ((const lk_cat_user *)e)->id == *(const int64_t *)key;
}

/* ---- snapshots --------------------------------------------------------------------- */

static cat_roles *roles_new(size_t words)
{
    cat_roles *r = lk_xcalloc(1, sizeof *r);
    r->arena = (lk_arena)LK_ARENA_INIT;
    r->perm_index = lk_map_new_str(64);
    r->role_bits = lk_map_new_int(16);
    r->words = words ? words : 1;
    return r;
}

static void roles_free(void *p)
{
    cat_roles *r = p;
    lk_map_free(r->perm_index);
    lk_map_free(r->role_bits);
    lk_arena_free(&r->arena);
    free(r);
}

static void entry_free(void *p)
{
    free(p);
}

/* ---- life ---------------------------------------------------------------------------- */

lk_catalog *lk_catalog_new(void)
{
    lk_catalog *c = lk_xcalloc(1, sizeof *c);
    c->ebr = lk_ebr_new();
    crypto_shorthash_keygen(c->client_key);
    c->services = lk_cindex_new(c->ebr, service_id_hash, service_id_match, NULL);
    c->clients = lk_cindex_new(c->ebr, client_hash, client_match, c->client_key);
    c->users = lk_cindex_new(c->ebr, user_id_hash, user_id_match, NULL);
    atomic_init(&c->roles, roles_new(1));
    atomic_init(&c->settings, lk_xcalloc(1, sizeof(cat_settings)));
    pthread_mutex_init(&c->write_mu, NULL);
    c->perm_slots = lk_map_new_str(64);
    c->perm_names = (lk_arena)LK_ARENA_INIT;
    return c;
}

void lk_catalog_free(lk_catalog *c)
{
    if (!c)
        return;
    lk_cindex_iter it = {0};
    void *e;
    while (lk_cindex_next(c->services, &it, &e))
        free(e);
    it = (lk_cindex_iter){0};
    while (lk_cindex_next(c->users, &it, &e))
        free(e);
    lk_cindex_free(c->services);
    lk_cindex_free(c->clients);
    lk_cindex_free(c->users);
    roles_free(atomic_load(&c->roles));
    free(atomic_load(&c->settings));
    lk_ebr_free(c->ebr);
    lk_map_free(c->perm_slots);
    lk_arena_free(&c->perm_names);
    pthread_mutex_destroy(&c->write_mu);
    sodium_memzero(c->client_key, sizeof c->client_key);
    free(c);
}

/* ---- readers ------------------------------------------------------------------------ */

void lk_catalog_read_begin(lk_catalog *c)
{
    lk_ebr_enter(c->ebr);
}

void lk_catalog_read_end(lk_catalog *c)
{
    lk_ebr_exit(c->ebr);
}

const lk_cat_service *lk_catalog_service_by_client(const lk_catalog *c, const char *client_id)
{
    if (!client_id)
        return NULL;
    return lk_cindex_find(c->clients, client_hash_of(c->client_key, client_id), client_id);
}

const lk_cat_service *lk_catalog_service(const lk_catalog *c, int64_t id)
{
    return lk_cindex_find(c->services, id_hash(id), &id);
}

const lk_cat_user *lk_catalog_user(const lk_catalog *c, int64_t id)
{
    return lk_cindex_find(c->users, id_hash(id), &id);
}

/* the lower-case copy of name in buf; false when it does not fit */
static bool lower_name(const char *name, char *buf, size_t cap)
{
    size_t n = strlen(name);
    if (n >= cap)
        return false;
    for (size_t i = 0; i <= n; i++)
        buf[i] = (char)tolower((unsigned char)name[i]);
    return true;
}

int lk_catalog_permission(const lk_catalog *c, const char *name)
{
    char buf[LK_NAME_MAX * 4 + 1];
    if (!name || !lower_name(name, buf, sizeof buf))
        return -1;
    const cat_roles *r = atomic_load_explicit(&((lk_catalog *)c)->roles, memory_order_acquire);
    uintptr_t v = (uintptr_t)lk_map_get_str(r->perm_index, buf);
    return v ? (int)(v - 1) : -1;
}

bool lk_catalog_user_has(const lk_catalog *c, const lk_cat_user *u, int idx)
{
    if (!u || idx < 0)
        return false;
    const cat_roles *r = atomic_load_explicit(&((lk_catalog *)c)->roles, memory_order_acquire);
    if ((size_t)idx / 64 >= r->words)
        return false;
    for (uint32_t i = 0; i < u->n_roles; i++) {
        const uint64_t *bits = lk_map_get_int(r->role_bits, u->roles[i]);
        if (bits && (bits[idx / 64] >> (idx % 64)) & 1)
            return true;
    }
    return false;
}

bool lk_cat_user_usable(const lk_cat_user *u, int64_t now)
{
    if (!u || u->status != LK_STATUS_ACTIVE)
        return false;
    return u->expires_at == 0 || now < u->expires_at;
}

bool lk_cat_service_secret_matches(const lk_cat_service *s, const char *secret, int64_t now)
{
    return s && lk_service_secret_matches_raw(s->has_secret ? s->secret_hash : NULL, s->old_secret_hash,
                                              s->old_secret_expires_at, secret, now);
}

const lk_limits *lk_catalog_instance_limits(const lk_catalog *c)
{
    return &atomic_load_explicit(&((lk_catalog *)c)->settings, memory_order_acquire)->instance;
}

bool lk_catalog_allows(const lk_catalog *c, const lk_ip *ip)
{
    const cat_settings *s = atomic_load_explicit(&((lk_catalog *)c)->settings, memory_order_acquire);
    if (!s->allow_enabled)
        return true;
    for (size_t i = 0; i < s->n_allow; i++)
        if (lk_cidr_contains(&s->allow[i], ip))
            return true;
    return false;
}

bool lk_catalog_next_service(const lk_catalog *c, lk_catalog_iter *it, const lk_cat_service **out)
{
    void *e;
    if (!lk_cindex_next(c->services, (lk_cindex_iter *)it, &e))
        return false;
    *out = e;
    return true;
}

bool lk_catalog_next_user(const lk_catalog *c, lk_catalog_iter *it, const lk_cat_user **out)
{
    void *e;
    if (!lk_cindex_next(c->users, (lk_cindex_iter *)it, &e))
        return false;
    *out = e;
    return true;
}

_Static_assert(sizeof(lk_catalog_iter) == sizeof(lk_cindex_iter), "one iterator shape");

size_t lk_catalog_count_users(const lk_catalog *c)
{
    return lk_cindex_size(c->users);
}

size_t lk_catalog_count_services(const lk_catalog *c)
{
    return lk_cindex_size(c->services);
}

int64_t lk_catalog_position(const lk_catalog *c)
{
    return atomic_load(&((lk_catalog *)c)->position);
}

/* ---- writers --------------------------------------------------------------------------- */

void lk_catalog_write_lock(lk_catalog *c)
{
    pthread_mutex_lock(&c->write_mu);
}

void lk_catalog_write_unlock(lk_catalog *c)
{
    pthread_mutex_unlock(&c->write_mu);
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* sorted, distinct, without 0s: into out (room for n); returns how many */
static size_t normalise_roles(const int64_t *in, size_t n, int64_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (in[i])
            out[k++] = in[i];
    qsort(out, k, sizeof *out, cmp_id);
    size_t d = 0;
    for (size_t i = 0; i < k; i++)
        if (d == 0 || out[d - 1] != out[i])
            out[d++] = out[i];
    return d;
}

static bool same_limits(const lk_limits *a, const lk_limits *b)
{
    if (!a || !b)
        return a == b;
    return a->rate_calls == b->rate_calls && a->rate_seconds == b->rate_seconds && a->daily == b->daily &&
           a->concurrent == b->concurrent;
}

void lk_catalog_put_user(lk_catalog *c, const lk_cat_user_in *in, uint32_t seen)
{
    int64_t small[8];
    int64_t *roles = in->n_roles <= 8 ? small : lk_xmalloc(in->n_roles * sizeof *roles);
    size_t n_roles = normalise_roles(in->roles, in->n_roles, roles);
    const char *email = in->email ? in->email : "";

    lk_cat_user *old = lk_cindex_find(c->users, id_hash(in->id), &in->id);
    if (old && old->expires_at == in->expires_at && old->status == in->status && old->n_roles == n_roles &&
        memcmp(old->roles, roles, n_roles * sizeof *roles) == 0 && same_limits(old->limits, in->limits) &&
        strcmp(old->email, email) == 0) {
        old->seen = seen;
        if (roles != small)
            free(roles);
        return;
    }

    size_t size = sizeof(lk_cat_user) + (in->limits ? sizeof(lk_limits) : 0) + n_roles * sizeof(int64_t) +
                  strlen(email) + 1;
    unsigned char *mem = lk_xmalloc(size);
    lk_cat_user *u = (lk_cat_user *)mem;
    unsigned char *p = mem + sizeof *u;
    *u = (lk_cat_user){
        .id = in->id,
        .expires_at = in->expires_at,
        .n_roles = (uint32_t)n_roles,
        .status = in->status,
        .seen = seen,
    };
    if (in->limits) {
        memcpy(p, in->limits, sizeof(lk_limits));
        u->limits = (const lk_limits *)p;
        p += sizeof(lk_limits);
    }
    memcpy(p, roles, n_roles * sizeof(int64_t));
    u->roles = (const int64_t *)p;
    p += n_roles * sizeof(int64_t);
    memcpy(p, email, strlen(email) + 1);
    u->email = (const char *)p;
    if (roles != small)
        free(roles);

    lk_cat_user *replaced = lk_cindex_put(c->users, u, &u->id);
    lk_ebr_retire(c->ebr, replaced, entry_free);
}

void lk_catalog_remove_user(lk_catalog *c, int64_t id)
{
    lk_ebr_retire(c->ebr, lk_cindex_remove(c->users, id_hash(id), &id), entry_free);
}

/* a raw copy of a stored hex hash; false when absent or malformed */
static bool raw_hash(const char *hex, unsigned char out[LK_HASH_BYTES])
{
    return hex && lk_secret_hex_decode(hex, out);
}

static bool same_service(const lk_cat_service *s, const lk_service *svc, bool has_secret,
                         const unsigned char *secret, bool has_old, const unsigned char *old)
{
    if (s->user_id != svc->user_id || s->token_epoch != (uint32_t)svc->token_epoch ||
        s->has_secret != has_secret || (has_secret && memcmp(s->secret_hash, secret, LK_HASH_BYTES) != 0) ||
        (s->old_secret_hash != NULL) != has_old || strcmp(s->client_id, svc->client_id ? svc->client_id : "") != 0)
        return false;
    if (has_old && (memcmp(s->old_secret_hash, old, LK_HASH_BYTES) != 0 ||
                    s->old_secret_expires_at != svc->old_secret_expires_at))
        return false;
    return true;
}

/* the previous entry's token cache, when it holds a whole token of the same epoch */
static void carry_token(lk_cat_service *to, const lk_cat_service *from)
{
    uint64_t seq = atomic_load_explicit(&from->token.seq, memory_order_acquire);
    if (seq & 1)
        return;
    uint64_t w[3];
    for (int i = 0; i < 3; i++)
        w[i] = atomic_load_explicit(&from->token.w[i], memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&from->token.seq, memory_order_relaxed) != seq)
        return;
    for (int i = 0; i < 3; i++)
        atomic_store_explicit(&to->token.w[i], w[i], memory_order_relaxed);
    atomic_store_explicit(&to->token.seq, seq, memory_order_release);
}

void lk_catalog_put_service(lk_catalog *c, const lk_service *svc, uint32_t seen)
{
    unsigned char secret[LK_HASH_BYTES], old_hash[LK_HASH_BYTES];
    bool has_secret = raw_hash(svc->secret_hash, secret);
    bool has_old = raw_hash(svc->old_secret_hash, old_hash);
    const char *client_id = svc->client_id ? svc->client_id : "";

    lk_cat_service *old = lk_cindex_find(c->services, id_hash(svc->id), &svc->id);
    if (old && same_service(old, svc, has_secret, secret, has_old, old_hash)) {
        old->seen = seen;
        return;
    }
    size_t id_len = strlen(client_id) + 1;
    unsigned char *mem = lk_xcalloc(1, sizeof(lk_cat_service) + id_len + (has_old ? LK_HASH_BYTES : 0));
    lk_cat_service *s = (lk_cat_service *)mem;
    s->id = svc->id;
    s->user_id = svc->user_id;
    s->token_epoch = (uint32_t)svc->token_epoch;
    s->seen = seen;
    s->has_secret = has_secret;
    if (has_secret)
        memcpy(s->secret_hash, secret, LK_HASH_BYTES);
    memcpy(s->client_id, client_id, id_len);
    if (has_old) {
        unsigned char *o = mem + sizeof(lk_cat_service) + id_len;
        memcpy(o, old_hash, LK_HASH_BYTES);
        s->old_secret_hash = o;
        s->old_secret_expires_at = svc->old_secret_expires_at;
    }
    if (old && old->token_epoch == s->token_epoch)
        carry_token(s, old);

    lk_cat_service *replaced = lk_cindex_put(c->services, s, &s->id);
    if (replaced && strcmp(replaced->client_id, s->client_id) != 0)
        lk_cindex_remove(c->clients, client_hash_of(c->client_key, replaced->client_id), replaced->client_id);
    lk_cindex_put(c->clients, s, s->client_id);
    lk_ebr_retire(c->ebr, replaced, entry_free);
}

void lk_catalog_remove_service(lk_catalog *c, int64_t id)
{
    lk_cat_service *s = lk_cindex_remove(c->services, id_hash(id), &id);
    if (!s)
        return;
    lk_cindex_remove(c->clients, client_hash_of(c->client_key, s->client_id), s->client_id);
    lk_ebr_retire(c->ebr, s, entry_free);
}

void lk_catalog_sweep(lk_catalog *c, uint32_t seen)
{
    int64_t *gone = NULL;
    size_t n = 0, cap = 0;
    lk_ebr_enter(c->ebr); /* the walk keeps to a slot array a removal may retire */
    for (int pass = 0; pass < 2; pass++) {
        lk_cindex_iter it = {0};
        void *e;
        n = 0;
        while (lk_cindex_next(pass ? c->users : c->services, &it, &e)) {
            uint32_t mark = pass ? ((lk_cat_user *)e)->seen : ((lk_cat_service *)e)->seen;
            if (mark == seen)
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                gone = lk_xrealloc(gone, cap * sizeof *gone);
            }
            gone[n++] = pass ? ((lk_cat_user *)e)->id : ((lk_cat_service *)e)->id;
        }
        for (size_t i = 0; i < n; i++) {
            if (pass)
                lk_catalog_remove_user(c, gone[i]);
            else
                lk_catalog_remove_service(c, gone[i]);
        }
    }
    lk_ebr_exit(c->ebr);
    free(gone);
}

/* the index a permission name keeps for the catalog's life */
static size_t perm_slot(lk_catalog *c, const char *lower)
{
    uintptr_t v = (uintptr_t)lk_map_get_str(c->perm_slots, lower);
    if (v)
        return v - 1;
    lk_map_put_str(c->perm_slots, lk_arena_strdup(&c->perm_names, lower), (void *)(uintptr_t)(c->n_perm_slots + 1));
    return c->n_perm_slots++;
}

void lk_catalog_set_roles(lk_catalog *c, const lk_permission *perms, size_t n_perms, const lk_role *roles,
                          size_t n_roles)
{
    char buf[LK_NAME_MAX * 4 + 1];
    for (size_t i = 0; i < n_perms; i++)
        if (lower_name(perms[i].name, buf, sizeof buf))
            perm_slot(c, buf);
    for (size_t i = 0; i < n_roles; i++)
        for (size_t p = 0; p < roles[i].n_perms; p++)
            if (lower_name(roles[i].perms[p].name, buf, sizeof buf))
                perm_slot(c, buf);
    cat_roles *r = roles_new((c->n_perm_slots + 63) / 64);
    for (size_t i = 0; i < n_perms; i++)
        if (lower_name(perms[i].name, buf, sizeof buf))
            lk_map_put_str(r->perm_index, lk_arena_strdup(&r->arena, buf),
                           (void *)(uintptr_t)(perm_slot(c, buf) + 1));
    for (size_t i = 0; i < n_roles; i++) {
        uint64_t *bits = lk_arena_alloc(&r->arena, r->words * sizeof *bits);
        for (size_t p = 0; p < roles[i].n_perms; p++) {
            if (!lower_name(roles[i].perms[p].name, buf, sizeof buf))
                continue;
            size_t idx = perm_slot(c, buf);
            bits[idx / 64] |= UINT64_C(1) << (idx % 64);
        }
        lk_map_put_int(r->role_bits, roles[i].id, bits);
    }
    cat_roles *old = atomic_exchange_explicit(&c->roles, r, memory_order_acq_rel);
    lk_ebr_retire(c->ebr, old, roles_free);
}

void lk_catalog_set_settings(lk_catalog *c, const lk_limits *instance, bool allow_enabled, const lk_cidr *allow,
                             size_t n_allow)
{
    cat_settings *s = lk_xcalloc(1, sizeof *s + n_allow * sizeof s->allow[0]);
    s->instance = *instance;
    s->allow_enabled = allow_enabled;
    s->n_allow = n_allow;
    if (n_allow)
        memcpy(s->allow, allow, n_allow * sizeof *allow);
    cat_settings *old = atomic_exchange_explicit(&c->settings, s, memory_order_acq_rel);
    lk_ebr_retire(c->ebr, old, entry_free);
}

void lk_catalog_set_position(lk_catalog *c, int64_t seq)
{
    atomic_store(&c->position, seq);
}

lk_ebr *lk_catalog_domain(lk_catalog *c)
{
    return c->ebr;
}

void lk_catalog_collect(lk_catalog *c)
{
    lk_ebr_collect(c->ebr);
}

size_t lk_catalog_pending(lk_catalog *c)
{
    return lk_ebr_pending(c->ebr);
}
