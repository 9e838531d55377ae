/*
 * service — LaunchPoint custom services (rules in service.h).
 *
 * A client secret exists in clear only in the caller's buffer during create and
 * rotate; the store receives its BLAKE2b-256 hash. A grace period keeps the
 * previous hash alongside the new one until it runs out.
 */
#include "core/service.h"
#include "core/authz.h"
#include "core/internal.h"
#include "core/secret.h"
#include "core/user.h"

#include <ctype.h>
#include <sodium.h>
#include <string.h>

#define GRACE_MAX (30 * 24 * 3600)

lk_code lk_service_list(lk_op *op, const lk_service_filter *f, lk_service **out, size_t *n)
{
    return op->store->ops->service_list(op->store, op->arena, f, out, n, &op->err);
}

lk_code lk_service_count(lk_op *op, const lk_service_filter *f, int64_t cap, int64_t *n)
{
    return op->store->ops->service_count(op->store, f, cap, n, &op->err);
}

lk_code lk_service_find(lk_op *op, const char *name_or_client_id, lk_service *out)
{
    if (!name_or_client_id || !*name_or_client_id)
        return lk_fail(&op->err, LK_EINVAL, "service", "service name cannot be blank");
    lk_code rc = op->store->ops->service_find(op->store, op->arena, name_or_client_id, out, &op->err);
    if (rc == LK_ENOTFOUND)
        rc = op->store->ops->service_find_client(op->store, op->arena, name_or_client_id, out, &op->err);
    if (rc == LK_ENOTFOUND)
        return lk_fail(&op->err, LK_ENOTFOUND, "service", "no service '%.255s' (see 'service list')",
                       name_or_client_id);
    return rc;
}

/* 8-4-4-4-12 hex digits: names of that shape would shadow client ids in lookups */
static bool looks_like_uuid(const char *s)
{
    if (strlen(s) != LK_UUID_LEN)
        return false;
    for (int i = 0; i < LK_UUID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

static json_t *snap_service(const lk_service *s)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "name", s->name, "description", s->description ? s->description : "",
                     "user", s->user_email ? s->user_email : "", "clientId", s->client_id);
}

/* the owner must be an active API-only user */
static lk_code check_owner(lk_op *op, const char *owner, lk_user *u)
{
    lk_code rc = lk_user_find(op, owner, u);
    if (rc != LK_OK)
        return rc;
    if (!u->api_only)
        return lk_fail(&op->err, LK_ERULE, "user",
                       "%s is not an API-only user; a custom service must belong to an API-only user", u->email);
    const char *why = NULL;
    if (lk_user_effective_status(u, op->now, &why) != LK_STATUS_ACTIVE)
        return lk_fail(&op->err, LK_ERULE, "user", "%s is %s (%s); only an active API-only user can own a service",
                       u->email, lk_user_status_name(lk_user_effective_status(u, op->now, NULL)), why);
    return LK_OK;
}

lk_code lk_service_create(lk_op *op, const char *name, const char *description,
                          const char *owner, lk_service *out, lk_client_secret secret)
{
    lk_code rc = lk_check_name(op, "name", "display name", name, LK_NAME_MAX);
    if (rc == LK_OK)
        rc = lk_check_text(op, "description", "description", description, LK_TEXT_MAX);
    if (rc == LK_OK && looks_like_uuid(name))
        rc = lk_fail(&op->err, LK_EINVAL, "name", "a display name cannot look like a client id");
    if (rc == LK_OK && (!owner || !*owner))
        rc = lk_fail(&op->err, LK_EINVAL, "user", "the API-only user that owns the service cannot be blank");
    if (rc != LK_OK)
        return rc;
    if ((rc = lk_tx_begin(op)) != LK_OK)
        return rc;
    lk_service existing;
    rc = op->store->ops->service_find(op->store, op->arena, name, &existing, &op->err);
    if (rc == LK_OK)
        rc = lk_fail(&op->err, LK_EEXISTS, "name", "a service named '%s' already exists", existing.name);
    else if (rc == LK_ENOTFOUND)
        rc = LK_OK;
    lk_user u;
    if (rc == LK_OK)
        rc = check_owner(op, owner, &u);
    /* a service hands out its owner's permissions */
    if (rc == LK_OK)
        rc = lk_authz_act_on(op, "Service Create", &u);
    if (rc != LK_OK)
        return lk_tx_end(op, rc);

    char client_id[LK_UUID_LEN + 1], hash[LK_HASH_HEX];
    lk_secret_uuid(client_id);
    lk_secret_alnum(secret, LK_SECRET_LEN);
    lk_secret_hash(secret, hash);
    lk_service s = {
        .name = name,
        .description = description ? description : "",
        .user_id = u.id,
        .client_id = client_id,
        .secret_hash = hash,
        .created_at = op->now,
        .updated_at = op->now,
    };
    rc = op->store->ops->service_insert(op->store, &s, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->service_find_client(op->store, op->arena, client_id, out, &op->err);
    if (rc == LK_OK)
        rc = lk_audit_json(op, "Service", "Create", out->name, snap_service(out));
    rc = lk_tx_end(op, rc);
    if (rc != LK_OK)
        sodium_memzero(secret, LK_SECRET_LEN + 1);
    return rc;
}

lk_code lk_service_rotate_secret(lk_op *op, const char *name, int64_t grace,
                                 lk_service *out, lk_client_secret secret)
{
    if (grace < 0 || grace > GRACE_MAX)
        return lk_fail(&op->err, LK_EINVAL, "grace",
                       "grace period must be between 0 and %d seconds (30 days)", GRACE_MAX);
    lk_code rc = lk_tx_begin(op);
    if (rc != LK_OK)
        return rc;
    lk_service s;
    rc = lk_service_find(op, name, &s);
    if (rc == LK_OK)
        rc = lk_service_may_use(op, "Service Rotate Secret", &s);
    if (rc != LK_OK)
        return lk_tx_end(op, rc);
    char hash[LK_HASH_HEX];
    lk_secret_alnum(secret, LK_SECRET_LEN);
    lk_secret_hash(secret, hash);
    s.old_secret_hash = grace > 0 ? s.secret_hash : NULL;
    s.old_secret_expires_at = grace > 0 ? op->now + grace : 0;
    s.secret_hash = hash;
    s.tokens_valid_after = op->now; /* tokens issued so far stop working */
    s.updated_at = op->now;
    rc = op->store->ops->service_update(op->store, &s, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->service_find_client(op->store, op->arena, s.client_id, out, &op->err);
    if (rc == LK_OK) {
        json_t *d = snap_service(out);
        json_object_set_new(d, "graceSeconds", json_integer(grace));
        json_object_set_new(d, "previousSecretValidUntil", lk_snap_time(out->old_secret_expires_at));
        rc = lk_audit_json(op, "Service", "Rotate Secret", out->name, d);
    }
    rc = lk_tx_end(op, rc);
    if (rc != LK_OK)
        sodium_memzero(secret, LK_SECRET_LEN + 1);
    return rc;
}

lk_code lk_service_update(lk_op *op, const char *name, const char *new_name, const char *new_description,
                          lk_service *out)
{
    lk_code rc = LK_OK;
    if (!new_name && !new_description)
        return lk_fail(&op->err, LK_EINVAL, "", "nothing to change: give a new display name or description");
    if (new_name)
        rc = lk_check_name(op, "name", "display name", new_name, LK_NAME_MAX);
    if (rc == LK_OK && new_description)
        rc = lk_check_text(op, "description", "description", new_description, LK_TEXT_MAX);
    if (rc == LK_OK && new_name && looks_like_uuid(new_name))
        rc = lk_fail(&op->err, LK_EINVAL, "name", "a display name cannot look like a client id");
    if (rc != LK_OK || (rc = lk_tx_begin(op)) != LK_OK)
        return rc;
    lk_service s;
    if ((rc = lk_service_find(op, name, &s)) != LK_OK)
        return lk_tx_end(op, rc);
    /* as for its other changes: only a caller holding what the owner holds (security.md) */
    if ((rc = lk_service_may_use(op, "Service Edit", &s)) != LK_OK)
        return lk_tx_end(op, rc);
    const char *old_name = s.name, *old_description = s.description ? s.description : "";
    bool renamed = new_name && strcmp(new_name, s.name) != 0;
    bool described = new_description && strcmp(new_description, old_description) != 0;
    if (!renamed && !described) {
        *out = s; /* nothing differs: no write, no audit event */
        return lk_tx_end(op, LK_OK);
    }
    if (renamed) {
        lk_service other;
        rc = op->store->ops->service_find(op->store, op->arena, new_name, &other, &op->err);
        if (rc == LK_OK && other.id != s.id)
            return lk_tx_end(op, lk_fail(&op->err, LK_EEXISTS, "name", "a service named '%s' already exists",
                                         other.name));
        if (rc != LK_OK && rc != LK_ENOTFOUND)
            return lk_tx_end(op, rc);
        s.name = new_name;
    }
    if (described)
        s.description = new_description;
    s.updated_at = op->now;
    rc = op->store->ops->service_update(op->store, &s, &op->err);
    if (rc == LK_OK)
        rc = op->store->ops->service_find_client(op->store, op->arena, s.client_id, out, &op->err);
    if (rc == LK_OK) {
        json_t *d = snap_service(out);
        json_t *changes = json_object();
        if (renamed)
            json_object_set_new(changes, "name", json_pack("{s:s, s:s}", "from", old_name, "to", out->name));
        if (described)
            json_object_set_new(changes, "description",
                                json_pack("{s:s, s:s}", "from", old_description, "to", out->description));
        json_object_set_new(d, "changes", changes);
        rc = lk_audit_json(op, "Service", "Edit", out->name, d);
    }
    return lk_tx_end(op, rc);
}

lk_code lk_service_delete(lk_op *op, const char *name)
{
    lk_code rc = lk_tx_begin(op);
    if (rc != LK_OK)
        return rc;
    lk_service s;
    rc = lk_service_find(op, name, &s);
    if (rc == LK_OK)
        rc = lk_service_may_use(op, "Service Delete", &s);
    if (rc == LK_OK)
        rc = op->store->ops->service_delete(op->store, s.id, &op->err);
    if (rc == LK_OK)
        rc = lk_audit_json(op, "Service", "Delete", s.name, snap_service(&s));
    return lk_tx_end(op, rc);
}

lk_code lk_service_may_use(lk_op *op, const char *attempt, const lk_service *s)
{
    if (!op->caller)
        return LK_OK;
    lk_user owner;
    lk_code rc = op->store->ops->user_get(op->store, op->arena, s->user_id, &owner, &op->err);
    if (rc != LK_OK)
        return rc;
    return lk_authz_act_on(op, attempt, &owner);
}

bool lk_service_secret_matches_raw(const unsigned char *current, const unsigned char *old,
                                   int64_t old_expires_at, const char *secret, int64_t now)
{
    if (!secret)
        return false;
    /* both comparisons always run, so timing does not tell which secret matched */
    static const unsigned char none[LK_HASH_BYTES];
    unsigned char got[LK_HASH_BYTES];
    lk_secret_hash_raw(secret, got);
    bool cur_ok = lk_secret_hash_equal(current ? current : none, got) && current;
    bool prev_ok = lk_secret_hash_equal(old ? old : none, got) && old;
    return cur_ok || (prev_ok && now < old_expires_at);
}

bool lk_service_secret_matches(const lk_service *svc, const char *secret, int64_t now)
{
    if (!svc || !secret)
        return false;
    unsigned char cur[LK_HASH_BYTES], prev[LK_HASH_BYTES];
    bool cur_ok = lk_secret_hex_decode(svc->secret_hash, cur);
    bool prev_ok = svc->old_secret_hash && lk_secret_hex_decode(svc->old_secret_hash, prev);
    return lk_service_secret_matches_raw(cur_ok ? cur : NULL, prev_ok ? prev : NULL, svc->old_secret_expires_at,
                                         secret, now);
}
