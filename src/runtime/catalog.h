/*
 * catalog — what request threads read of the domain, kept current one change at a
 * time: services by id and by client id, API-only users by id (status, expiry,
 * roles held, own limits), which permissions each role grants, the instance limits
 * and the IP allowlist.
 *
 * Readers take no lock: between lk_catalog_read_begin() and lk_catalog_read_end()
 * on one thread, every pointer a lookup returns stays valid and never changes under
 * them (a published entry is never written again, except a service's token cache,
 * which only runtime/tokens.c touches, atomically). A change replaces one entry by
 * a new one; the old one is freed once no reader can hold it (util/ebr.h). So the
 * catalog holds one copy of the instance plus the few entries a change replaced.
 *
 * Writers — the feed applier (runtime/feed.c) on the background thread or the store
 * worker — hold lk_catalog_write_lock() around their changes; it is never taken by a
 * request thread.
 *
 * A reader may see one entry before a change and another after it (a user and its
 * service from different instants); each entry is always whole.
 */
#ifndef LK_RUNTIME_CATALOG_H
#define LK_RUNTIME_CATALOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/model.h"
#include "util/cidr.h"

/*
 * Entries are packed for a large instance (1,000,000 users and services): a user is
 * 24 bytes and what follows it, a service 88 and what follows it; read the parts
 * that follow through the accessors below.
 */
typedef struct lk_cat_user {
    int64_t id;
    int64_t expires_at;            /* 0: never */
    uint32_t n_roles;              /* roles held in any workspace */
    uint8_t status;                /* lk_user_status, as stored */
    uint8_t flags;                 /* LK_CAT_* */
    uint8_t mark;                  /* writer's bookkeeping (full loads); readers never read it */
    int64_t tail[];                /* [its own lk_limits] role ids (ascending), email */
} lk_cat_user;

/* a service's current token, for the identity endpoint to hand out again: written
 * and read only by runtime/tokens.c (a sequence word and three data words) */
typedef struct lk_cat_token_cache {
    _Atomic uint64_t seq;
    _Atomic uint64_t w[3];
} lk_cat_token_cache;

typedef struct lk_cat_service {
    int64_t id;
    int64_t user_id;
    lk_cat_token_cache token;
    unsigned char secret[16];      /* the first half of the secret's BLAKE2b-256: 128 bits to
                                    * match, which no guess reaches */
    unsigned char client_uuid[16]; /* the client id, when it is a canonical (lower-case) UUID */
    uint32_t token_epoch;          /* tokens carrying another epoch are refused */
    uint8_t flags;                 /* LK_CAT_* */
    uint8_t mark;                  /* writer's bookkeeping (full loads); readers never read it */
    unsigned char tail[];          /* [previous secret (16) and its end (8)] [client id text] */
} lk_cat_service;

#define LK_CAT_LIMITS 0x01         /* user: own limits first in tail */
#define LK_CAT_SECRET 0x04         /* service: the stored hash was well-formed */
#define LK_CAT_OLD_SECRET 0x08     /* service: a rotation's grace period runs */
#define LK_CAT_UUID 0x10           /* service: client_uuid holds the client id */

/* the user's own limits, NULL when none are set */
static inline const lk_limits *lk_cat_user_limits(const lk_cat_user *u)
{
    return (u->flags & LK_CAT_LIMITS) ? (const lk_limits *)(const void *)u->tail : NULL;
}

/* ids of the roles it holds, ascending (n_roles of them) */
static inline const int64_t *lk_cat_user_roles(const lk_cat_user *u)
{
    return u->tail + ((u->flags & LK_CAT_LIMITS) ? sizeof(lk_limits) / sizeof(int64_t) : 0);
}

static inline const char *lk_cat_user_email(const lk_cat_user *u)
{
    return (const char *)(lk_cat_user_roles(u) + u->n_roles);
}

#define LK_CLIENT_ID_BUF 37
/* the service's client id: buf (LK_CLIENT_ID_BUF bytes) filled for a UUID, or the
 * entry's own text; valid as long as both are */
const char *lk_cat_service_client_id(const lk_cat_service *s, char buf[LK_CLIENT_ID_BUF]);
/* the end of the previous secret's grace period, 0 when none runs */
int64_t lk_cat_service_old_secret_until(const lk_cat_service *s);

typedef struct lk_catalog lk_catalog;

lk_catalog *lk_catalog_new(void);
/* no reader or writer may be using it any more */
void lk_catalog_free(lk_catalog *c);

/* ---- readers ------------------------------------------------------------------ */

void lk_catalog_read_begin(lk_catalog *c);
void lk_catalog_read_end(lk_catalog *c);

const lk_cat_service *lk_catalog_service_by_client(const lk_catalog *c, const char *client_id);
const lk_cat_service *lk_catalog_service(const lk_catalog *c, int64_t id);
const lk_cat_user *lk_catalog_user(const lk_catalog *c, int64_t id);
/* index of a permission (case-insensitive name), -1 if unknown; an index means the
 * same permission for the life of the catalog */
int lk_catalog_permission(const lk_catalog *c, const char *name);
/* does a role the user holds grant the permission of that index? */
bool lk_catalog_user_has(const lk_catalog *c, const lk_cat_user *u, int perm_index);
/* an API-only user whose effective status is active at now */
bool lk_cat_user_usable(const lk_cat_user *u, int64_t now);
const lk_limits *lk_catalog_instance_limits(const lk_catalog *c);
/* true when the allowlist is off or contains ip */
bool lk_catalog_allows(const lk_catalog *c, const lk_ip *ip);
/* constant-time check of a client secret against the service's current and (in its
 * grace period) previous secret; lk_service_secret_matches's rule, on the first 128
 * bits of the hashes */
bool lk_cat_service_secret_matches(const lk_cat_service *s, const char *secret, int64_t now);

/* the gateway's route table (core/gwroute.h) with its index (core/gwindex.h) */
typedef struct lk_gwroute_index lk_gwroute_index;
const lk_gwroute_index *lk_catalog_gw_index(const lk_catalog *c);

/* each service once, in no particular order: zero *it first */
typedef struct lk_catalog_iter {
    const void *table;
    size_t pos;
} lk_catalog_iter;
bool lk_catalog_next_service(const lk_catalog *c, lk_catalog_iter *it, const lk_cat_service **out);
bool lk_catalog_next_user(const lk_catalog *c, lk_catalog_iter *it, const lk_cat_user **out);

/* sizes, for metrics and tests (no read section needed) */
size_t lk_catalog_count_users(const lk_catalog *c);
size_t lk_catalog_count_services(const lk_catalog *c);
/* the feed position the catalog reflects (0: nothing loaded yet) */
int64_t lk_catalog_position(const lk_catalog *c);

/* ---- writers (lk_catalog_write_lock held) --------------------------------------- */

void lk_catalog_write_lock(lk_catalog *c);
void lk_catalog_write_unlock(lk_catalog *c);

/* what a user entry is made of; strings and arrays are copied */
typedef struct lk_cat_user_in {
    int64_t id;
    const char *email;
    int64_t expires_at;
    lk_user_status status;
    const int64_t *roles;          /* any order, repeats allowed, 0s ignored */
    size_t n_roles;
    const lk_limits *limits;       /* NULL: none */
} lk_cat_user_in;

/* Adds or replaces; an equal entry is kept (only given the mark). */
void lk_catalog_put_user(lk_catalog *c, const lk_cat_user_in *in, uint8_t mark);
void lk_catalog_remove_user(lk_catalog *c, int64_t id);
/* Adds or replaces (svc as service_scan fills it); an equal entry is kept. The
 * token cache moves to the new entry while the token epoch is unchanged. */
void lk_catalog_put_service(lk_catalog *c, const lk_service *svc, uint8_t mark);
void lk_catalog_remove_service(lk_catalog *c, int64_t id);
/* Removes every user and service whose mark is not `mark` (after a full load). */
void lk_catalog_sweep(lk_catalog *c, uint8_t mark);

/* Replaces which permission each role grants: perms are every permission, roles
 * every role with its permissions. A role's bits hold only what applies to tokens
 * (lk_authz_applies): the catalog answers for tokens alone. */
void lk_catalog_set_roles(lk_catalog *c, const lk_permission *perms, size_t n_perms, const lk_role *roles,
                          size_t n_roles);
/* Replaces the instance limits and the allowlist. */
void lk_catalog_set_settings(lk_catalog *c, const lk_limits *instance, bool allow_enabled, const lk_cidr *allow,
                             size_t n_allow);
/* Replaces the gateway's route table (copied). */
void lk_catalog_set_gw_routes(lk_catalog *c, const lk_gw_route *routes, size_t n);
void lk_catalog_set_position(lk_catalog *c, int64_t seq);
/* the catalog's reclamation domain, shared by what readers use together with it
 * (runtime/tokens.c): one read section covers both */
struct lk_ebr *lk_catalog_domain(lk_catalog *c);
/* Frees what no reader can hold any more; any thread, cheap when nothing waits. */
void lk_catalog_collect(lk_catalog *c);
/* entries replaced or removed and not yet freed */
size_t lk_catalog_pending(lk_catalog *c);

#endif
