/*
 * catalog — the server's incremental view of the domain (catalog.h).
 *
 * Layout and ownership:
 * - Users and services are single allocations each (the packed struct, then what
 *   catalog.h's accessors read: limits, role ids and email; previous secret and a
 *   client id that is not a UUID), never written once published but for the
 *   writer-only mark and a service's token cache.
 * - Three lock-free indexes (util/cindex.h) point at them: services by id, services
 *   by client id (SipHash under a key of this process, of the 16 bytes of a UUID or
 *   of the text of any other id: client ids are what callers send), users by id.
 *   The catalog owns the entries they point to.
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
#include "core/authz.h"
#include "core/gwindex.h"
#include "core/service.h"
#include "core/secret.h"
#include "util/arena.h"
#include "util/cindex.h"
#include "util/ebr.h"
#include "util/map.h"
#include "util/xalloc.h"

#include <assert.h>
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

/* the gateway's route table, copied whole into its own arena, with its index */
typedef struct cat_routes {
    lk_arena arena;
    lk_gwroute_index *index;     /* over the routes in the arena */
} cat_routes;

struct lk_catalog {
    lk_ebr *ebr;
    lk_cindex *services;         /* by id */
    lk_cindex *clients;          /* by client id */
    lk_cindex *users;            /* by id */
    _Atomic(cat_roles *) roles;
    _Atomic(cat_settings *) settings;
    _Atomic(cat_routes *) routes;
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

/* a client id as the index keys it: the 16 bytes of a canonical UUID, or the text */
typedef struct client_key {
    bool uuid;
    unsigned char raw[16];
    const char *text;
} client_key;

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1; /* upper case is another id: client ids match exactly */
}

static client_key key_of_text(const char *text)
{
    client_key k = {.text = text};
    if (strlen(text) != 36)
        return k;
    size_t o = 0;
    for (size_t i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash) {
            if (text[i] != '-')
                return k;
            continue;
        }
        int hi = hexval(text[i]), lo = hexval(text[i + 1]);
        if (hi < 0 || lo < 0)
            return k;
        k.raw[o++] = (unsigned char)(hi << 4 | lo);
        i++;
    }
    k.uuid = true;
    return k;
}

static uint64_t client_key_hash(const unsigned char *key, const client_key *k)
{
    unsigned char h[crypto_shorthash_BYTES];
    if (k->uuid)
        crypto_shorthash(h, k->raw, sizeof k->raw, key);
    else
        crypto_shorthash(h, (const unsigned char *)k->text, strlen(k->text), key);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return v;
}

static const char *service_text(const lk_cat_service *s)
{
    return (const char *)s->tail + ((s->flags & LK_CAT_OLD_SECRET) ? 24 : 0);
}

static client_key key_of_service(const lk_cat_service *s)
{
    client_key k = {.uuid = (s->flags & LK_CAT_UUID) != 0};
    if (k.uuid)
        memcpy(k.raw, s->client_uuid, sizeof k.raw);
    else
        k.text = service_text(s);
    return k;
}

static uint64_t client_hash(const void *e, const void *ctx)
{
    client_key k = key_of_service(e);
    return client_key_hash(ctx, &k);
}

static bool client_match(const void *e, const void *key)
{
    const lk_cat_service *s = e;
    const client_key *k = key;
    if (k->uuid != ((s->flags & LK_CAT_UUID) != 0))
        return false;
    return k->uuid ? memcmp(s->client_uuid, k->raw, sizeof k->raw) == 0 : strcmp(service_text(s), k->text) == 0;
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

static void routes_free(void *p)
{
    cat_routes *r = p;
    if (!r)
        return;
    lk_arena_free(&r->arena);
    free(r);
}

/* a table of its own: the routes copied into its arena, and their index */
static cat_routes *routes_new(const lk_gw_route *routes, size_t n)
{
    cat_routes *r = lk_xcalloc(1, sizeof *r);
    r->arena = (lk_arena)LK_ARENA_INIT;
    lk_gw_route *copy = lk_arena_alloc(&r->arena, (n ? n : 1) * sizeof *copy);
    for (size_t i = 0; i < n; i++) {
        lk_gw_route *d = &copy[i];
        *d = routes[i];
        d->method = lk_arena_strdup(&r->arena, routes[i].method);
        d->pattern = lk_arena_strdup(&r->arena, routes[i].pattern);
        d->permissions = lk_arena_alloc(&r->arena, (d->n_permissions ? d->n_permissions : 1) * sizeof *d->permissions);
        for (size_t k = 0; k < d->n_permissions; k++)
            d->permissions[k] = lk_arena_strdup(&r->arena, routes[i].permissions[k]);
    }
    r->index = lk_gwroute_index_build(&r->arena, copy, n);
    return r;
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
    atomic_init(&c->routes, routes_new(NULL, 0));
    pthread_mutexattr_t ma; /* error-checking: an unlock by another thread is caught */
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&c->write_mu, &ma);
    pthread_mutexattr_destroy(&ma);
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
    routes_free(atomic_load(&c->routes));
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
    client_key k = key_of_text(client_id);
    return lk_cindex_find(c->clients, client_key_hash(c->client_key, &k), &k);
}

const char *lk_cat_service_client_id(const lk_cat_service *s, char buf[LK_CLIENT_ID_BUF])
{
    if (!(s->flags & LK_CAT_UUID))
        return service_text(s);
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            buf[o++] = '-';
        buf[o++] = hex[s->client_uuid[i] >> 4];
        buf[o++] = hex[s->client_uuid[i] & 0x0F];
    }
    buf[o] = '\0';
    return buf;
}

int64_t lk_cat_service_old_secret_until(const lk_cat_service *s)
{
    if (!(s->flags & LK_CAT_OLD_SECRET))
        return 0;
    int64_t until;
    memcpy(&until, s->tail + 16, sizeof until);
    return until;
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
    const int64_t *roles = lk_cat_user_roles(u);
    for (uint32_t i = 0; i < u->n_roles; i++) {
        const uint64_t *bits = lk_map_get_int(r->role_bits, roles[i]);
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
    if (!s || !secret)
        return false;
    /* both comparisons always run, so timing does not tell which secret matched */
    static const unsigned char none[16];
    unsigned char got[LK_HASH_BYTES];
    lk_secret_hash_raw(secret, got);
    bool has_old = (s->flags & LK_CAT_OLD_SECRET) != 0;
    bool cur = sodium_memcmp(got, (s->flags & LK_CAT_SECRET) ? s->secret : none, 16) == 0 &&
               (s->flags & LK_CAT_SECRET);
    bool prev = sodium_memcmp(got, has_old ? s->tail : none, 16) == 0 && has_old;
    sodium_memzero(got, sizeof got);
    return cur || (prev && now < lk_cat_service_old_secret_until(s));
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
    int rc = pthread_mutex_unlock(&c->write_mu);
    assert(rc == 0 && "the write lock is held by this thread");
    (void)rc;
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

void lk_catalog_put_user(lk_catalog *c, const lk_cat_user_in *in, uint8_t mark)
{
    int64_t small[8];
    int64_t *roles = in->n_roles <= 8 ? small : lk_xmalloc(in->n_roles * sizeof *roles);
    size_t n_roles = normalise_roles(in->roles, in->n_roles, roles);
    const char *email = in->email ? in->email : "";

    lk_cat_user *old = lk_cindex_find(c->users, id_hash(in->id), &in->id);
    if (old && old->expires_at == in->expires_at && old->status == (uint8_t)in->status &&
        old->n_roles == n_roles && memcmp(lk_cat_user_roles(old), roles, n_roles * sizeof *roles) == 0 &&
        same_limits(lk_cat_user_limits(old), in->limits) && strcmp(lk_cat_user_email(old), email) == 0) {
        old->mark = mark;
        if (roles != small)
            free(roles);
        return;
    }

    size_t size = sizeof(lk_cat_user) + (in->limits ? sizeof(lk_limits) : 0) + n_roles * sizeof(int64_t) +
                  strlen(email) + 1;
    lk_cat_user *u = lk_xmalloc(size);
    *u = (lk_cat_user){
        .id = in->id,
        .expires_at = in->expires_at,
        .n_roles = (uint32_t)n_roles,
        .status = (uint8_t)in->status,
        .flags = in->limits ? LK_CAT_LIMITS : 0,
        .mark = mark,
    };
    if (in->limits)
        memcpy(u->tail, in->limits, sizeof(lk_limits));
    memcpy((int64_t *)lk_cat_user_roles(u), roles, n_roles * sizeof(int64_t));
    memcpy((char *)lk_cat_user_email(u), email, strlen(email) + 1);
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

/* the entry a service row makes (svc as service_scan fills it) */
static lk_cat_service *service_entry(const lk_service *svc, uint8_t mark)
{
    unsigned char secret[LK_HASH_BYTES], old_hash[LK_HASH_BYTES];
    bool has_secret = raw_hash(svc->secret_hash, secret);
    bool has_old = raw_hash(svc->old_secret_hash, old_hash);
    client_key k = key_of_text(svc->client_id ? svc->client_id : "");
    size_t text = k.uuid ? 0 : strlen(k.text) + 1;
    lk_cat_service *s = lk_xcalloc(1, sizeof(lk_cat_service) + (has_old ? 24 : 0) + text);
    s->id = svc->id;
    s->user_id = svc->user_id;
    s->token_epoch = (uint32_t)svc->token_epoch;
    s->mark = mark;
    s->flags = (has_secret ? LK_CAT_SECRET : 0) | (has_old ? LK_CAT_OLD_SECRET : 0) | (k.uuid ? LK_CAT_UUID : 0);
    if (has_secret)
        memcpy(s->secret, secret, sizeof s->secret);
    if (has_old) {
        memcpy(s->tail, old_hash, 16);
        memcpy(s->tail + 16, &svc->old_secret_expires_at, sizeof(int64_t));
    }
    if (k.uuid)
        memcpy(s->client_uuid, k.raw, sizeof k.raw);
    else
        memcpy((char *)service_text(s), k.text, text);
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(old_hash, sizeof old_hash);
    return s;
}

/* the same service as far as readers can tell (the token cache aside) */
static bool same_service(const lk_cat_service *a, const lk_cat_service *b)
{
    if (a->id != b->id || a->user_id != b->user_id || a->token_epoch != b->token_epoch || a->flags != b->flags ||
        memcmp(a->secret, b->secret, sizeof a->secret) != 0)
        return false;
    if ((a->flags & LK_CAT_UUID) && memcmp(a->client_uuid, b->client_uuid, sizeof a->client_uuid) != 0)
        return false;
    if ((a->flags & LK_CAT_OLD_SECRET) && memcmp(a->tail, b->tail, 24) != 0)
        return false;
    return (a->flags & LK_CAT_UUID) || strcmp(service_text(a), service_text(b)) == 0;
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

void lk_catalog_put_service(lk_catalog *c, const lk_service *svc, uint8_t mark)
{
    lk_cat_service *s = service_entry(svc, mark);
    lk_cat_service *old = lk_cindex_find(c->services, id_hash(svc->id), &svc->id);
    if (old && same_service(old, s)) {
        old->mark = mark;
        free(s);
        return;
    }
    if (old && old->token_epoch == s->token_epoch)
        carry_token(s, old);

    lk_cat_service *replaced = lk_cindex_put(c->services, s, &s->id);
    client_key k = key_of_service(s);
    if (replaced) {
        client_key was = key_of_service(replaced);
        if (!client_match(s, &was))
            lk_cindex_remove(c->clients, client_key_hash(c->client_key, &was), &was);
    }
    lk_cindex_put(c->clients, s, &k);
    lk_ebr_retire(c->ebr, replaced, entry_free);
}

void lk_catalog_remove_service(lk_catalog *c, int64_t id)
{
    lk_cat_service *s = lk_cindex_remove(c->services, id_hash(id), &id);
    if (!s)
        return;
    client_key k = key_of_service(s);
    lk_cindex_remove(c->clients, client_key_hash(c->client_key, &k), &k);
    lk_ebr_retire(c->ebr, s, entry_free);
}

void lk_catalog_sweep(lk_catalog *c, uint8_t mark)
{
    int64_t *gone = NULL;
    size_t n = 0, cap = 0;
    lk_ebr_enter(c->ebr); /* the walk keeps to a slot array a removal may retire */
    for (int pass = 0; pass < 2; pass++) {
        lk_cindex_iter it = {0};
        void *e;
        n = 0;
        while (lk_cindex_next(pass ? c->users : c->services, &it, &e)) {
            uint8_t m = pass ? ((lk_cat_user *)e)->mark : ((lk_cat_service *)e)->mark;
            if (m == mark)
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
            const lk_permission *pm = &roles[i].perms[p];
            /* a token holds only what applies to tokens (core/authz.h) */
            if (!lower_name(pm->name, buf, sizeof buf) || !lk_authz_applies(LK_CALLER_TOKEN, pm->group, pm->name))
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

void lk_catalog_set_gw_routes(lk_catalog *c, const lk_gw_route *routes, size_t n)
{
    cat_routes *old = atomic_exchange_explicit(&c->routes, routes_new(routes, n), memory_order_acq_rel);
    lk_ebr_retire(c->ebr, old, routes_free);
}

const lk_gwroute_index *lk_catalog_gw_index(const lk_catalog *c)
{
    return atomic_load_explicit(&((lk_catalog *)c)->routes, memory_order_acquire)->index;
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
