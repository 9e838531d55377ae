/*
 * catalog — an immutable snapshot of what the server reads of the domain: services
 * by client id and id, API users with their Access API permissions as a bitset,
 * instance and per-user limits, and the IP allowlist.
 *
 * Built off the hot path by the runtime's refresher thread whenever the store's
 * generation number moves, then swapped in; request threads take a reference
 * (lk_catalog_ref) for the duration of a request and never see a half-built one.
 */
#ifndef LK_RUNTIME_CATALOG_H
#define LK_RUNTIME_CATALOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/model.h"
#include "store/store.h"
#include "util/cidr.h"

/*
 * Entries hold only what request threads read; a snapshot of 100,000 API users and
 * services takes about 25 MB. Pointers inside an entry point into the snapshot and
 * live as long as it does.
 */
typedef struct lk_cat_user {
    int64_t id;
    int64_t expires_at;        /* 0: never */
    const char *email;
    const uint64_t *perms;     /* bitset over lk_catalog permission indexes; shared by
                                * users holding the same permissions */
    const lk_limits *limits;   /* the user's own limits; NULL when none are set */
    lk_user_status status;     /* as stored */
    bool api_only;
} lk_cat_user;

typedef struct lk_cat_service {
    int64_t id;
    int64_t user_id;
    int64_t tokens_valid_after;
    int64_t old_secret_expires_at;
    const char *client_id;
    const unsigned char *secret_hash;     /* raw, LK_HASH_BYTES; NULL when the stored hash
                                           * is malformed (no secret matches) */
    const unsigned char *old_secret_hash; /* raw; NULL unless a rotation grace period runs */
} lk_cat_service;

typedef struct lk_catalog lk_catalog;

/* Builds a snapshot from the store (reads only). NULL with err set on failure. */
lk_catalog *lk_catalog_build(lk_store *s, lk_error *err);
void lk_catalog_ref(lk_catalog *c);
void lk_catalog_unref(lk_catalog *c);   /* frees at zero */

int64_t lk_catalog_generation(const lk_catalog *c);
size_t lk_catalog_service_count(const lk_catalog *c);
size_t lk_catalog_user_count(const lk_catalog *c);   /* API-only users */
const lk_cat_service *lk_catalog_service_by_client(const lk_catalog *c, const char *client_id);
const lk_cat_service *lk_catalog_service(const lk_catalog *c, int64_t id);
const lk_cat_user *lk_catalog_user(const lk_catalog *c, int64_t id);
/* index of a permission (case-insensitive name), -1 if unknown */
int lk_catalog_permission(const lk_catalog *c, const char *name);
bool lk_cat_user_has(const lk_cat_user *u, int perm_index);
/* an API-only user whose effective status is active at now */
bool lk_cat_user_usable(const lk_cat_user *u, int64_t now);
const lk_limits *lk_catalog_instance_limits(const lk_catalog *c);
/* true when the allowlist is off or contains ip */
bool lk_catalog_allows(const lk_catalog *c, const lk_ip *ip);
/* each service in id order: *pos starts at 0; false at the end */
bool lk_catalog_next_service(const lk_catalog *c, size_t *pos, const lk_cat_service **out);
/* constant-time check of a client secret against the service's current and (in its
 * grace period) previous secret; lk_service_secret_matches's rule */
bool lk_cat_service_secret_matches(const lk_cat_service *s, const char *secret, int64_t now);

#endif
