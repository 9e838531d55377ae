/*
 * service — LaunchPoint custom services: a display name, a description, an owning
 * active API-only user, a client id (UUID v4) and a client secret (32 alphanumeric
 * characters) that is shown once and stored only as a hash. A rotation may keep the
 * previous secret valid for a grace period. A service acts with its owner's
 * permissions, so with a caller (op->caller) creating, rotating, deleting and taking
 * a token for one all need the owner to be no more powerful than the caller
 * (core/authz.h).
 */
#ifndef LK_CORE_SERVICE_H
#define LK_CORE_SERVICE_H

#include "core/op.h"

typedef char lk_client_secret[LK_SECRET_LEN + 1];

/* services in id order as f selects them (store.h; NULL: all) */
lk_code lk_service_list(lk_op *op, const lk_service_filter *f, lk_service **out, size_t *n);
/* how many f selects (cursor and limit aside), counting at most cap (0: all) */
lk_code lk_service_count(lk_op *op, const lk_service_filter *f, int64_t cap, int64_t *n);
/* by display name (case-insensitive) or client id */
lk_code lk_service_find(lk_op *op, const char *name_or_client_id, lk_service *out);
lk_code lk_service_create(lk_op *op, const char *name, const char *description,
                          const char *owner, lk_service *out, lk_client_secret secret);
/* grace: seconds the previous secret stays valid (0: revoked at once) */
lk_code lk_service_rotate_secret(lk_op *op, const char *name, int64_t grace,
                                 lk_service *out, lk_client_secret secret);
/* Changes the display name and/or the description (NULL: kept) of the service called
 * name (or with that client id); its credentials, owner and tokens stay as they are.
 * A caller must hold what the owner holds, as for the service's other changes.
 * Both NULL: nothing to change (LK_EINVAL). Values equal to the current ones write
 * nothing and record no audit event. */
lk_code lk_service_update(lk_op *op, const char *name, const char *new_name, const char *new_description,
                          lk_service *out);
lk_code lk_service_delete(lk_op *op, const char *name);
/* May the caller act for service s (attempt: "Service Get Token", ...)? LK_OK, or
 * LK_EDENIED (recorded) when its owner is more powerful than the caller. */
lk_code lk_service_may_use(lk_op *op, const char *attempt, const lk_service *s);

/* constant-time check of a presented secret against the current one, and against
 * the previous one while its grace period runs */
bool lk_service_secret_matches(const lk_service *svc, const char *secret, int64_t now);
/* The same rule over raw hashes (lk_secret_hash_raw), as the server's catalog keeps
 * them: current NULL when the stored hash is unusable (nothing matches it), old NULL
 * when no rotation grace period runs. */
bool lk_service_secret_matches_raw(const unsigned char *current, const unsigned char *old,
                                   int64_t old_expires_at, const char *secret, int64_t now);

#endif
