/*
 * allowlist — the IP allowlist (rules in allowlist.h).
 *
 * Entries are the canonical text of util/cidr ("10.0.0.0/8", "192.0.2.7/32"), so
 * that "10.0.0.7" and "10.0.0.7/32" are one entry, and the switch is the setting
 * "allowlist.enabled" ("1" or "0"; missing means off).
 *
 * Invariants: an enabled list is never empty (enabling an empty list, or removing
 * the last entry of an enabled one, would refuse every REST call and is refused
 * itself); a change that changes nothing writes nothing; every other change is one
 * transaction with one "IP Restrictions" event whose details are the whole list
 * after it, as Marketo words it: {"allowed": [...], "enabled": bool}.
 */
#include "core/allowlist.h"
#include "core/internal.h"
#include "util/cidr.h"

#include <string.h>

#define KEY_ENABLED "allowlist.enabled"

static lk_code read_enabled(lk_op *op, bool *enabled)
{
    const char *value = NULL;
    lk_error err = {0};
    lk_code rc = op->store->ops->setting_get(op->store, op->arena, KEY_ENABLED, &value, &err);
    *enabled = false;
    if (rc == LK_ENOTFOUND)
        return LK_OK;
    if (rc != LK_OK) {
        op->err = err;
        return rc;
    }
    if (strcmp(value, "1") != 0 && strcmp(value, "0") != 0)
        return lk_fail(&op->err, LK_ESTORE, NULL, "the setting %s holds '%.40s', not 1 or 0", KEY_ENABLED,
                       value);
    *enabled = strcmp(value, "1") == 0;
    return LK_OK;
}

lk_code lk_allowlist_get(lk_op *op, bool *enabled, const char ***cidrs, size_t *n)
{
    lk_code rc = read_enabled(op, enabled);
    if (rc != LK_OK)
        return rc;
    return op->store->ops->allow_list(op->store, op->arena, cidrs, n, &op->err);
}

/* the canonical text of an entry typed by a person, in the op's arena */
static lk_code canonical(lk_op *op, const char *text, const char **out)
{
    lk_cidr c;
    const char *why = "";
    if (!text || !*text)
        return lk_fail(&op->err, LK_EINVAL, "cidr", "the address or CIDR range cannot be blank");
    if (!lk_cidr_parse(text, &c, &why)) {
        char meant[LK_CIDR_TEXT] = "";
        if (c.ip.family)
            lk_cidr_format(&c, meant);
        return lk_fail(&op->err, LK_EINVAL, "cidr", "'%.80s' is not an address or CIDR range: %s%s%s%s", text,
                       why, *meant ? " (did you mean " : "", meant, *meant ? "?)" : "");
    }
    char buf[LK_CIDR_TEXT];
    lk_cidr_format(&c, buf);
    *out = lk_arena_strdup(op->arena, buf);
    return LK_OK;
}

/* the audit event of a change: the list as it is now, and the switch */
static lk_code audit(lk_op *op, const char *action, const char *target)
{
    bool enabled;
    const char **cidrs = NULL;
    size_t n = 0;
    lk_code rc = lk_allowlist_get(op, &enabled, &cidrs, &n);
    if (rc != LK_OK)
        return rc;
    json_t *allowed = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(allowed, json_string(cidrs[i]));
    return lk_audit_json(op, "IP Restrictions", action, target,
                         json_pack("{s:o, s:b}", "allowed", allowed, "enabled", enabled));
}

lk_code lk_allowlist_add(lk_op *op, const char *cidr, const char **out)
{
    const char *canon;
    lk_code rc = canonical(op, cidr, &canon);
    if (rc != LK_OK)
        return rc;
    if ((rc = lk_tx_begin(op)) != LK_OK)
        return rc;
    rc = op->store->ops->allow_insert(op->store, canon, op->now, &op->err);
    if (rc == LK_OK)
        rc = audit(op, "Add", canon);
    rc = lk_tx_end(op, rc);
    if (rc == LK_OK && out)
        *out = canon;
    return rc;
}

static bool listed(const char *const *cidrs, size_t n, const char *canon)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(cidrs[i], canon) == 0)
            return true;
    return false;
}

static lk_code remove_locked(lk_op *op, const char *canon)
{
    bool enabled;
    const char **cidrs = NULL;
    size_t n = 0;
    lk_code rc = lk_allowlist_get(op, &enabled, &cidrs, &n);
    if (rc != LK_OK)
        return rc;
    if (!listed(cidrs, n, canon))
        return lk_fail(&op->err, LK_ENOTFOUND, "cidr", "%s is not on the allowlist (see 'allowlist show')",
                       canon);
    if (enabled && n == 1)
        return lk_fail(&op->err, LK_ERULE, "cidr",
                       "%s is the only entry of the enabled allowlist; without it every REST call "
                       "would be refused: disable the allowlist first", canon);
    rc = op->store->ops->allow_delete(op->store, canon, &op->err);
    if (rc == LK_OK)
        rc = audit(op, "Remove", canon);
    return rc;
}

lk_code lk_allowlist_remove(lk_op *op, const char *cidr)
{
    const char *canon;
    lk_code rc = canonical(op, cidr, &canon);
    if (rc != LK_OK)
        return rc;
    if ((rc = lk_tx_begin(op)) != LK_OK)
        return rc;
    return lk_tx_end(op, remove_locked(op, canon));
}

static lk_code enable_locked(lk_op *op, bool enabled)
{
    bool cur;
    const char **cidrs = NULL;
    size_t n = 0;
    lk_code rc = lk_allowlist_get(op, &cur, &cidrs, &n);
    if (rc != LK_OK || cur == enabled)
        return rc;
    if (enabled && n == 0)
        return lk_fail(&op->err, LK_ERULE, "allowlist",
                       "the allowlist is empty; enabled, it would refuse every REST call: add an "
                       "address or range first");
    rc = op->store->ops->setting_set(op->store, KEY_ENABLED, enabled ? "1" : "0", op->now, &op->err);
    if (rc == LK_OK)
        rc = audit(op, enabled ? "Enable" : "Disable", "allowlist");
    return rc;
}

lk_code lk_allowlist_enable(lk_op *op, bool enabled)
{
    lk_code rc = lk_tx_begin(op);
    if (rc != LK_OK)
        return rc;
    return lk_tx_end(op, enable_locked(op, enabled));
}
