/*
 * catalog — building and reading the server's snapshot of the domain (catalog.h).
 *
 * Everything of a snapshot lives in its own arena and maps; once built it is never
 * written again, so readers need no lock, only a reference.
 */
#include "runtime/catalog.h"
#include "core/allowlist.h"
#include "core/limits.h"
#include "util/map.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lk_catalog {
    atomic_int refs;
    int64_t generation;
    lk_arena arena;
    lk_map *by_client;          /* client id -> lk_cat_service */
    lk_map *by_service_id;      /* id -> lk_cat_service */
    lk_map *users;              /* id -> lk_cat_user (API-only users and owners) */
    lk_map *perm_index;         /* lower-case name -> index + 1 */
    lk_cat_service *services;   /* id order */
    size_t n_services;
    size_t perm_words;
    lk_limits instance;
    bool allow_enabled;
    lk_cidr *allow;
    size_t n_allow;
};

static char *lower(lk_arena *a, const char *s)
{
    char *d = lk_arena_strdup(a, s);
    for (char *p = d; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return d;
}

static lk_code load_permissions(lk_catalog *c, lk_store *s, lk_error *err)
{
    lk_permission *perms = NULL;
    size_t n = 0;
    lk_code rc = s->ops->permission_list(s, &c->arena, &perms, &n, err);
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

/* the union of the permissions of the user's roles, as a bitset */
static uint64_t *user_perms(lk_catalog *c, const lk_user *u, lk_map *roles)
{
    uint64_t *bits = lk_arena_alloc(&c->arena, c->perm_words * sizeof *bits);
    for (size_t g = 0; g < u->n_grants; g++) {
        const lk_role *r = lk_map_get_int(roles, u->grants[g].role_id);
        for (size_t p = 0; r && p < r->n_perms; p++) {
            int idx = lk_catalog_permission(c, r->perms[p].name);
            if (idx >= 0)
                bits[idx / 64] |= UINT64_C(1) << (idx % 64);
        }
    }
    return bits;
}

static lk_code load_users(lk_catalog *c, lk_store *s, lk_arena *tmp, lk_error *err)
{
    lk_role *roles = NULL;
    size_t n_roles = 0;
    lk_code rc = s->ops->role_list(s, tmp, &roles, &n_roles, err);
    if (rc != LK_OK)
        return rc;
    lk_map *by_role = lk_map_new_int(n_roles);
    for (size_t i = 0; i < n_roles; i++)
        lk_map_put_int(by_role, roles[i].id, &roles[i]);

    lk_user *users = NULL;
    size_t n = 0;
    lk_user_filter api = {.api_only = 1};
    rc = s->ops->user_list(s, tmp, &api, &users, &n, err);
    if (rc == LK_OK) {
        c->users = lk_map_new_int(n);
        lk_cat_user *cu = lk_arena_alloc(&c->arena, (n ? n : 1) * sizeof *cu);
        for (size_t i = 0; i < n; i++) {
            cu[i] = (lk_cat_user){
                .id = users[i].id,
                .email = lk_arena_strdup(&c->arena, users[i].email),
                .api_only = users[i].api_only,
                .status = users[i].status,
                .expires_at = users[i].expires_at,
                .perms = user_perms(c, &users[i], by_role),
            };
            lk_map_put_int(c->users, cu[i].id, &cu[i]);
        }
    }
    lk_map_free(by_role);
    if (rc != LK_OK)
        return rc;

    lk_user_limits *lim = NULL;
    size_t n_lim = 0;
    rc = s->ops->user_limits_list(s, tmp, &lim, &n_lim, err);
    for (size_t i = 0; rc == LK_OK && i < n_lim; i++) {
        lk_cat_user *u = lk_map_get_int(c->users, lim[i].user_id);
        if (u) {
            u->has_limits = true;
            u->limits = lim[i].limits;
        }
    }
    return rc;
}

static lk_code load_services(lk_catalog *c, lk_store *s, lk_arena *tmp, lk_error *err)
{
    lk_service *svcs = NULL;
    size_t n = 0;
    lk_code rc = s->ops->service_list(s, tmp, &svcs, &n, err);
    if (rc != LK_OK)
        return rc;
    c->by_client = lk_map_new_str(n);
    c->by_service_id = lk_map_new_int(n);
    c->services = lk_arena_alloc(&c->arena, (n ? n : 1) * sizeof *c->services);
    c->n_services = n;
    for (size_t i = 0; i < n; i++) {
        lk_cat_service *cs = &c->services[i];
        *cs = (lk_cat_service){
            .id = svcs[i].id,
            .name = lk_arena_strdup(&c->arena, svcs[i].name),
            .client_id = lk_arena_strdup(&c->arena, svcs[i].client_id),
            .user_id = svcs[i].user_id,
            .tokens_valid_after = svcs[i].tokens_valid_after,
        };
        cs->secret.secret_hash = lk_arena_strdup(&c->arena, svcs[i].secret_hash);
        cs->secret.old_secret_hash = lk_arena_strdup(&c->arena, svcs[i].old_secret_hash);
        cs->secret.old_secret_expires_at = svcs[i].old_secret_expires_at;
        lk_map_put_str(c->by_client, cs->client_id, cs);
        lk_map_put_int(c->by_service_id, cs->id, cs);
    }
    return LK_OK;
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
            fprintf(stderr, "latchkey: ignoring allowlist entry '%.64s': not an address or CIDR range\n", cidrs[i]);
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
        rc = load_permissions(c, s, err);
    if (rc == LK_OK)
        rc = load_users(c, s, &tmp, err);
    if (rc == LK_OK)
        rc = load_services(c, s, &tmp, err);
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
    lk_map_free(c->by_client);
    lk_map_free(c->by_service_id);
    lk_map_free(c->users);
    lk_map_free(c->perm_index);
    lk_arena_free(&c->arena);
    free(c);
}

int64_t lk_catalog_generation(const lk_catalog *c)
{
    return c->generation;
}

const lk_cat_service *lk_catalog_service_by_client(const lk_catalog *c, const char *client_id)
{
    return client_id && c->by_client ? lk_map_get_str(c->by_client, client_id) : NULL;
}

const lk_cat_service *lk_catalog_service(const lk_catalog *c, int64_t id)
{
    return c->by_service_id ? lk_map_get_int(c->by_service_id, id) : NULL;
}

const lk_cat_user *lk_catalog_user(const lk_catalog *c, int64_t id)
{
    return c->users ? lk_map_get_int(c->users, id) : NULL;
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
