/* usermgmt_input — JSON bodies of the user management API (see usermgmt_input.h). */
#include "api/usermgmt_input.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool problem(lk_um_problem *p, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool problem(lk_um_problem *p, int code, const char *fmt, ...)
{
    p->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->message, sizeof p->message, fmt, ap);
    va_end(ap);
    return false;
}

static json_t *load(const char *body, size_t len, lk_um_problem *p)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!doc)
        problem(p, LK_UM_BAD_JSON, "Invalid JSON");
    return doc;
}

/* a string member: absent or null -> *out NULL; required ones must be non-empty */
static bool get_string(lk_arena *a, json_t *obj, const char *name, bool required, const char **out,
                       lk_um_problem *p)
{
    json_t *v = json_object_get(obj, name);
    *out = NULL;
    if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        if (required)
            return problem(p, LK_UM_BLANK, "%s cannot be blank", name);
        if (v && json_is_string(v))
            *out = "";
        return true;
    }
    if (!json_is_string(v))
        return problem(p, LK_UM_INVALID, "%s must be a string", name);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return problem(p, LK_UM_INVALID, "%s must not contain NUL characters", name);
    *out = lk_arena_strdup(a, json_string_value(v));
    return true;
}

/* an optional boolean member: *out -1 when absent or null */
static bool get_bool(json_t *obj, const char *name, int *out, lk_um_problem *p)
{
    json_t *v = json_object_get(obj, name);
    *out = -1;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_boolean(v))
        return problem(p, LK_UM_INVALID, "%s must be true or false", name);
    *out = json_is_true(v) ? 1 : 0;
    return true;
}

/* a required id: a non-negative integer, or a string of digits */
static bool get_id(json_t *obj, const char *name, int64_t *out, lk_um_problem *p)
{
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
        return problem(p, LK_UM_BLANK, "%s cannot be blank", name);
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strlen(s) != json_string_length(v) || strlen(s) > 18 || strspn(s, "0123456789") != strlen(s))
            return problem(p, LK_UM_INVALID, "%s must be a whole number", name);
        *out = strtoll(s, NULL, 10);
    } else {
        return problem(p, LK_UM_INVALID, "%s must be a whole number", name);
    }
    if (*out < 0)
        return problem(p, LK_UM_INVALID, "%s must not be negative", name);
    return true;
}

static bool read_grants(lk_arena *a, json_t *arr, lk_grant_ref **out, size_t *n, lk_um_problem *p)
{
    size_t count = json_array_size(arr);
    *out = NULL;
    *n = 0;
    if (count == 0)
        return problem(p, LK_UM_BLANK, "userRoleWorkspaces cannot be blank");
    if (count > 1000)
        return problem(p, LK_UM_INVALID, "userRoleWorkspaces has more than 1000 items");
    lk_grant_ref *g = lk_arena_alloc(a, count * sizeof *g);
    for (size_t i = 0; i < count; i++) {
        json_t *item = json_array_get(arr, i);
        if (!json_is_object(item))
            return problem(p, LK_UM_INVALID, "userRoleWorkspaces[%zu] must be an object", i);
        int64_t role, ws;
        if (!get_id(item, "accessRoleId", &role, p) || !get_id(item, "workspaceId", &ws, p))
            return false;
        g[i] = (lk_grant_ref){.role = NULL, .role_id = role, .workspace = lk_arena_printf(a, "%lld", (long long)ws)};
    }
    *out = g;
    *n = count;
    return true;
}

bool lk_um_parse_invite(lk_arena *a, const char *body, size_t len, lk_user_input *out, lk_um_problem *p)
{
    memset(out, 0, sizeof *out);
    json_t *doc = load(body, len, p);
    if (!doc)
        return false;
    bool ok = false;
    int api_only = -1;
    if (!json_is_object(doc)) {
        problem(p, LK_UM_INVALID, "the body must be a JSON object");
        goto done;
    }
    if (!get_string(a, doc, "emailAddress", true, &out->email, p) ||
        !get_string(a, doc, "firstName", true, &out->first_name, p) ||
        !get_string(a, doc, "lastName", true, &out->last_name, p))
        goto done;
    json_t *grants = json_object_get(doc, "userRoleWorkspaces");
    if (!grants || json_is_null(grants)) {
        problem(p, LK_UM_BLANK, "userRoleWorkspaces cannot be blank");
        goto done;
    }
    if (!json_is_array(grants)) {
        problem(p, LK_UM_INVALID, "userRoleWorkspaces must be an array");
        goto done;
    }
    lk_grant_ref *refs = NULL;
    if (!read_grants(a, grants, &refs, &out->n_grants, p) ||
        !get_string(a, doc, "userid", false, &out->userid, p) ||
        !get_string(a, doc, "expiresAt", false, &out->expires, p) ||
        !get_string(a, doc, "reason", false, &out->reason, p) || !get_bool(doc, "apiOnly", &api_only, p))
        goto done;
    out->grants = refs;
    out->api_only = api_only == 1;
    if (out->userid && !*out->userid)
        out->userid = NULL;
    if (out->expires && !*out->expires)
        out->expires = NULL;
    ok = true;
done:
    json_decref(doc);
    return ok;
}

bool lk_um_parse_update(lk_arena *a, const char *body, size_t len, lk_user_change *out, int *api_only,
                        lk_um_problem *p)
{
    memset(out, 0, sizeof *out);
    *api_only = -1;
    json_t *doc = load(body, len, p);
    if (!doc)
        return false;
    bool ok = false;
    if (!json_is_object(doc)) {
        problem(p, LK_UM_INVALID, "the body must be a JSON object");
        goto done;
    }
    json_t *exp = json_object_get(doc, "expiresAt");
    if (!get_string(a, doc, "emailAddress", false, &out->email, p) ||
        !get_string(a, doc, "firstName", false, &out->first_name, p) ||
        !get_string(a, doc, "lastName", false, &out->last_name, p) ||
        !get_string(a, doc, "expiresAt", false, &out->expires, p) || !get_bool(doc, "apiOnly", api_only, p))
        goto done;
    /* present and empty: a blank name or email is refused, not ignored */
    if (out->email && !*out->email) {
        problem(p, LK_UM_BLANK, "emailAddress cannot be blank");
        goto done;
    }
    if (out->first_name && !*out->first_name) {
        problem(p, LK_UM_BLANK, "firstName cannot be blank");
        goto done;
    }
    if (out->last_name && !*out->last_name) {
        problem(p, LK_UM_BLANK, "lastName cannot be blank");
        goto done;
    }
    if (exp && (json_is_null(exp) || !*out->expires))
        out->expires = "never";
    ok = true;
done:
    json_decref(doc);
    return ok;
}

bool lk_um_parse_grants(lk_arena *a, const char *body, size_t len, lk_grant_ref **out, size_t *n,
                        lk_um_problem *p)
{
    *out = NULL;
    *n = 0;
    json_t *doc = load(body, len, p);
    if (!doc)
        return false;
    json_t *arr = doc;
    if (json_is_object(doc))
        arr = json_object_get(doc, "input");
    bool ok;
    if (!arr || json_is_null(arr))
        ok = problem(p, LK_UM_BLANK, "input cannot be blank");
    else if (!json_is_array(arr))
        ok = problem(p, LK_UM_INVALID, "the body must be an array of {accessRoleId, workspaceId} or {\"input\": [...]}");
    else
        ok = read_grants(a, arr, out, n, p);
    if (!ok && p->code == LK_UM_BLANK && strstr(p->message, "userRoleWorkspaces"))
        snprintf(p->message, sizeof p->message, "input cannot be blank");
    json_decref(doc);
    return ok;
}
