/*
 * common — the transaction bracket, input checks and audit snapshots shared by the
 * core's modules (see internal.h). Messages are written for a person and name the
 * field at fault; they never echo a secret.
 */
#include "core/internal.h"
#include "core/audit.h"
#include "util/text.h"
#include "util/timefmt.h"

#include <stdlib.h>
#include <string.h>

lk_code lk_tx_begin(lk_op *op)
{
    if (op->tx_depth > 0) {
        op->tx_depth++;
        return LK_OK;
    }
    lk_code rc = op->store->ops->begin(op->store, &op->err);
    if (rc == LK_OK)
        op->tx_depth = 1;
    op->held = NULL; /* the caller's holdings are read again under the write lock */
    return rc;
}

lk_code lk_tx_end(lk_op *op, lk_code rc)
{
    if (--op->tx_depth > 0)
        return rc;      /* the outer transaction commits or rolls back */
    if (rc == LK_OK)
        return op->store->ops->commit(op->store, &op->err);
    op->store->ops->rollback(op->store);
    if (rc == LK_EDENIED)
        lk_authz_record_denied(op);
    return rc;
}

static lk_code check_utf8(lk_op *op, const char *field, const char *label, const char *s,
                          long max, bool allow_newlines)
{
    long n = lk_utf8_count(s);
    if (n < 0)
        return lk_fail(&op->err, LK_EINVAL, field, "%s is not valid UTF-8", label);
    if (n > max)
        return lk_fail(&op->err, LK_EINVAL, field, "%s cannot exceed %ld characters (got %ld)",
                       label, max, n);
    if (lk_text_has_control(s, allow_newlines))
        return lk_fail(&op->err, LK_EINVAL, field, "%s must not contain control characters", label);
    return LK_OK;
}

lk_code lk_check_name(lk_op *op, const char *field, const char *label, const char *s, long max)
{
    if (!s || lk_text_is_blank(s))
        return lk_fail(&op->err, LK_EINVAL, field, "%s cannot be blank", label);
    lk_code rc = check_utf8(op, field, label, s, max, false);
    if (rc != LK_OK)
        return rc;
    if (lk_text_has_outer_space(s))
        return lk_fail(&op->err, LK_EINVAL, field, "%s must not start or end with a space", label);
    return LK_OK;
}

lk_code lk_check_text(lk_op *op, const char *field, const char *label, const char *s, long max)
{
    if (!s)
        return LK_OK;
    return check_utf8(op, field, label, s, max, true);
}

lk_code lk_check_expiry(lk_op *op, const char *field, const char *s, bool allow_never, int64_t *out)
{
    if (allow_never && lk_str_ieq(s, "never")) {
        *out = 0;
        return LK_OK;
    }
    int64_t t;
    if (!lk_time_parse(s, &t))
        return lk_fail(&op->err, LK_EINVAL, field,
                       "access expiry '%.40s' is not a date: use YYYY-MM-DD or an ISO-8601 "
                       "date-time with a zone, e.g. 2027-01-31T17:00:00Z%s",
                       s ? s : "", allow_never ? ", or 'never'" : "");
    if (t <= op->now) {
        char buf[LK_TIME_BUF];
        return lk_fail(&op->err, LK_EINVAL, field, "access expiry %s is not in the future",
                       lk_time_format(t, buf));
    }
    *out = t;
    return LK_OK;
}

lk_code lk_audit_json(lk_op *op, const char *area, const char *action, const char *target, json_t *details)
{
    char *text = details ? json_dumps(details, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(details);
    const char *copy = text ? lk_arena_strdup(op->arena, text) : NULL;
    free(text);
    return lk_audit_record(op, area, action, target, copy);
}

json_t *lk_snap_time(int64_t t)
{
    char buf[LK_TIME_BUF];
    return t ? json_string(lk_time_format(t, buf)) : json_null();
}

json_t *lk_snap_role(const lk_role *r)
{
    json_t *perms = json_array();
    for (size_t i = 0; i < r->n_perms; i++)
        json_array_append_new(perms, json_string(r->perms[i].name));
    return json_pack("{s:s, s:s, s:o}", "name", r->name, "description", r->description ? r->description : "",
                     "permissions", perms);
}

json_t *lk_snap_grants(const lk_grant *g, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "role", g[i].role_name ? g[i].role_name : "",
                                           "workspace", g[i].workspace_name ? g[i].workspace_name : ""));
    return a;
}

json_t *lk_snap_user(const lk_user *u)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:s, s:o}",
                     "email", u->email, "userid", u->userid,
                     "firstName", u->first_name, "lastName", u->last_name,
                     "apiOnly", u->api_only,
                     "expiresAt", lk_snap_time(u->expires_at),
                     "reason", u->reason ? u->reason : "",
                     "roles", lk_snap_grants(u->grants, u->n_grants));
}

const char *lk_join_names(lk_op *op, const char *const *names, size_t n)
{
    enum { SHOWN = 5 };
    const char *s = "";
    for (size_t i = 0; i < n && i < SHOWN; i++)
        s = lk_arena_printf(op->arena, "%s%s%s", s, i ? ", " : "", names[i]);
    if (n > SHOWN)
        s = lk_arena_printf(op->arena, "%s and %zu more", s, n - SHOWN);
    return s;
}
