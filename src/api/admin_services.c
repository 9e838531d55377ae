/*
 * admin_services — the console's LaunchPoint and Web Services calls
 * (docs/console-api.md): custom services, Get Token, secret rotation, the REST
 * URLs, the last 7 days of calls, the IP allowlist and the limits.
 */
#include "api/admin_internal.h"
#include "api/api.h"
#include "core/allowlist.h"
#include "core/gwroute.h"
#include "core/limits.h"
#include "core/service.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USAGE_DAYS 7

/* One page of services: ?q (name, owner's email, or a whole client id), ?user (the
 * owner's id). The total is exact without them, else counted up to LK_ADMIN_COUNT_CAP. */
void lk_admin_services(lk_admin_call *c)
{
    lk_admin_page pg;
    bool bad = false;
    lk_service_filter f = {.search = lk_admin_search(c, "q", &bad)};
    const char *user = lk_admin_query(c, "user");
    if (bad)
        return;
    if (user && *user) {
        f.user_id = strlen(user) <= 18 && strspn(user, "0123456789") == strlen(user) ? strtoll(user, NULL, 10) : 0;
        if (f.user_id <= 0)
            return lk_admin_fail(c, 400, "invalid", "user", "user must be the id of a user");
    }
    if (!lk_admin_page_begin(c, &pg, LK_CURSOR_ID))
        return;
    f.after = pg.after_id;
    f.limit = pg.limit + 1;
    int64_t cap = f.search || f.user_id ? LK_ADMIN_COUNT_CAP + 1 : 0, total = 0;
    lk_service *s = NULL;
    size_t n = 0, i = 0;
    if (lk_service_list(&c->op, &f, &s, &n) != LK_OK || lk_service_count(&c->op, &f, cap, &total) != LK_OK) {
        lk_admin_page_end(&pg);
        return lk_admin_fail_op(c);
    }
    while (i < n && lk_admin_page_take(&pg, lk_admin_service_json(&s[i])))
        i++;
    const char *next = i < n ? lk_admin_cursor_id(c, s[i - 1].id) : NULL;
    lk_admin_ok(c, lk_admin_page_json(&pg, "services", next, total, cap));
}

/* the service the path's id names: the server's snapshot (brought up to date
 * first: a service created a moment ago by the CLI) maps the id to the client id,
 * and the store gives the record — no scan of every service */
static bool service_by_id(lk_admin_call *c, lk_service *out)
{
    int64_t id = lk_admin_id(c);
    if (!id)
        return false;
    lk_runtime_refresh(c->r->rt, c->r->store);
    lk_catalog *cat = lk_runtime_catalog(c->r->rt);
    const lk_cat_service *svc = lk_catalog_service(cat, id);
    char buf[LK_CLIENT_ID_BUF];
    const char *client_id = svc ? lk_arena_strdup(&c->r->arena, lk_cat_service_client_id(svc, buf)) : NULL;
    lk_catalog_read_end(cat);
    if (!client_id) {
        lk_admin_fail(c, 404, "not_found", "", "no such service");
        return false;
    }
    if (lk_service_find(&c->op, client_id, out) != LK_OK) {
        lk_admin_fail_op(c);
        return false;
    }
    return true;
}

/* {"service","clientSecret"}: the secret is shown this once */
static void with_secret(lk_admin_call *c, const lk_service *s, lk_client_secret secret)
{
    lk_admin_ok(c, json_pack("{s:o, s:s}", "service", lk_admin_service_json(s), "clientSecret", secret));
    sodium_memzero(secret, sizeof(lk_client_secret));
}

void lk_admin_service_create(lk_admin_call *c)
{
    bool bad = false;
    const char *name = lk_admin_str(c, "name", &bad), *desc = lk_admin_str(c, "description", &bad);
    const char *owner = lk_admin_str(c, "userEmail", &bad);
    if (bad)
        return;
    static const char *const FIELDS[][2] = {{"user", "userEmail"}, {NULL, NULL}};
    lk_service s;
    lk_client_secret secret;
    c->renames = FIELDS;
    if (lk_service_create(&c->op, name, desc, owner, &s, secret) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    with_secret(c, &s, secret);
}

void lk_admin_service_get(lk_admin_call *c)
{
    lk_service s;
    if (service_by_id(c, &s))
        lk_admin_ok(c, lk_admin_service_json(&s));
}

/* Edit Service: {name, description}, either may be absent; the credentials stay */
void lk_admin_service_update(lk_admin_call *c)
{
    lk_service s, out;
    bool bad = false;
    const char *name = lk_admin_str(c, "name", &bad), *desc = lk_admin_str(c, "description", &bad);
    if (bad || !service_by_id(c, &s))
        return;
    if (lk_service_update(&c->op, s.client_id, name, desc, &out) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    lk_admin_ok(c, lk_admin_service_json(&out));
}

void lk_admin_service_rotate(lk_admin_call *c)
{
    lk_service s, out;
    bool bad = false;
    int64_t grace = lk_admin_int(c, "graceSeconds", 0, &bad);
    if (bad || !service_by_id(c, &s))
        return;
    lk_client_secret secret;
    if (lk_service_rotate_secret(&c->op, s.name, grace, &out, secret) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    with_secret(c, &out, secret);
}

void lk_admin_service_delete(lk_admin_call *c)
{
    lk_service s;
    if (!service_by_id(c, &s))
        return;
    if (lk_service_delete(&c->op, s.name) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    lk_admin_done(c);
}

/* View Details → Get Token: the service's token, as the identity endpoint gives it */
void lk_admin_service_token(lk_admin_call *c)
{
    lk_service s;
    if (!service_by_id(c, &s))
        return;
    /* a token acts with the owner's permissions: not for an owner above the caller */
    if (lk_service_may_use(&c->op, "Service Get Token", &s) != LK_OK)
        return lk_admin_fail_op(c);
    lk_catalog *cat = lk_runtime_catalog(c->r->rt);
    const lk_cat_service *svc = lk_catalog_service(cat, s.id);
    const lk_cat_user *owner = svc ? lk_catalog_user(cat, svc->user_id) : NULL;
    if (!svc || !lk_cat_user_usable(owner, c->op.now)) {
        lk_catalog_read_end(cat);
        return lk_admin_fail(c, 409, "rule", "",
                             lk_arena_printf(&c->r->arena, "the API user %s is locked or its access expired",
                                             s.user_email ? s.user_email : ""));
    }
    char token[LK_TOKEN_LEN + 1];
    int64_t expires_at = lk_api_issue_token(c->r, svc, token);
    lk_catalog_read_end(cat);
    char when[40];
    json_t *at = lk_admin_time(expires_at);
    snprintf(when, sizeof when, "%s", json_string_value(at));
    json_decref(at);
    lk_admin_ok(c, json_pack("{s:s, s:s, s:I, s:s}", "accessToken", token, "tokenType", "bearer", "expiresIn",
                             (json_int_t)(expires_at - c->r->now), "expiresAt", when));
    sodium_memzero(token, sizeof token);
}

/* ---- Web Services --------------------------------------------------------------------- */

static json_t *allowlist_json(lk_admin_call *c)
{
    bool enabled = false;
    const char **cidrs = NULL;
    size_t n = 0;
    if (lk_allowlist_get(&c->op, &enabled, &cidrs, &n) != LK_OK)
        return NULL;
    json_t *entries = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(entries, json_string(cidrs[i]));
    return json_pack("{s:b, s:o}", "enabled", enabled, "entries", entries);
}

static json_t *limits_json(const lk_limits *l)
{
    char rate[48];
    snprintf(rate, sizeof rate, "%lld/%lld", (long long)l->rate_calls, (long long)l->rate_seconds);
    return json_pack("{s:s, s:I, s:I, s:I, s:I}", "rate", rate, "rateCalls", (json_int_t)l->rate_calls,
                     "rateSeconds", (json_int_t)l->rate_seconds, "daily", (json_int_t)l->daily, "concurrent",
                     (json_int_t)l->concurrent);
}

/* the gateway's route table, read-only here (managed with `latchkey route`) */
static json_t *routes_json(lk_admin_call *c)
{
    lk_gw_route *all = NULL;
    size_t n = 0;
    if (lk_gwroute_list(&c->op, &all, &n) != LK_OK)
        return NULL;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *perms = json_array();
        for (size_t k = 0; k < all[i].n_permissions; k++)
            json_array_append_new(perms, json_string(all[i].permissions[k]));
        json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:s}", "method", all[i].method, "pattern",
                                             all[i].pattern, "permissions", perms, "style",
                                             all[i].plain ? "plain" : "marketo"));
    }
    return arr;
}

void lk_admin_webservices(lk_admin_call *c)
{
    const char *base = lk_runtime_config(c->r->rt)->public_url;
    json_t *usage = json_array();
    for (int back = USAGE_DAYS - 1; back >= 0; back--) {
        char day[LK_DAY_LEN + 1];
        lk_runtime_day_text(c->r->rt, c->op.now, back, day);
        json_array_append_new(usage, lk_api_stats_usage_item(c->r, day));
    }
    lk_limits lim;
    json_t *allow = allowlist_json(c);
    json_t *routes = allow ? routes_json(c) : NULL;
    if (!allow || !routes || lk_limits_instance(&c->op, &lim) != LK_OK) {
        json_decref(usage);
        json_decref(allow);
        json_decref(routes);
        return lk_admin_fail_op(c);
    }
    lk_admin_ok(c, json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "restEndpoint",
                             lk_arena_printf(&c->r->arena, "%s/rest", base), "identityEndpoint",
                             lk_arena_printf(&c->r->arena, "%s/identity", base), "usage", usage, "allowlist", allow,
                             "limits", limits_json(&lim), "routes", routes));
}

static void answer_allowlist(lk_admin_call *c)
{
    json_t *allow = allowlist_json(c);
    if (!allow)
        return lk_admin_fail_op(c);
    lk_admin_ok(c, allow);
}

void lk_admin_allowlist_add(lk_admin_call *c)
{
    bool bad = false;
    const char *cidr = lk_admin_str(c, "cidr", &bad), *stored = NULL;
    if (bad)
        return;
    if (lk_allowlist_add(&c->op, cidr, &stored) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    answer_allowlist(c);
}

void lk_admin_allowlist_remove(lk_admin_call *c)
{
    if (lk_allowlist_remove(&c->op, lk_admin_query(c, "cidr")) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    answer_allowlist(c);
}

void lk_admin_allowlist_switch(lk_admin_call *c)
{
    bool bad = false;
    json_t *v = c->body ? json_object_get(c->body, "enabled") : NULL;
    bool on = lk_admin_bool(c, "enabled", false, &bad);
    if (bad)
        return;
    if (!v)
        return lk_admin_fail(c, 400, "invalid", "enabled", "enabled must be true or false");
    if (lk_allowlist_enable(&c->op, on) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    answer_allowlist(c);
}

void lk_admin_limits_set(lk_admin_call *c)
{
    bool bad = false;
    lk_limits_change ch = {0};
    const char *rate = lk_admin_str(c, "rate", &bad);
    ch.set_daily = c->body && json_object_get(c->body, "daily");
    ch.daily = lk_admin_int(c, "daily", 0, &bad);
    ch.set_concurrent = c->body && json_object_get(c->body, "concurrent");
    ch.concurrent = lk_admin_int(c, "concurrent", 0, &bad);
    if (bad)
        return;
    if (rate) {
        /* CALLS/SECONDS in digits only, or "0" to remove the rate limit */
        size_t nc = strspn(rate, "0123456789");
        size_t ns = rate[nc] == '/' ? strspn(rate + nc + 1, "0123456789") : 0;
        bool ok = nc > 0 && nc <= 9 && ((rate[nc] == '/' && ns > 0 && ns <= 9 && rate[nc + 1 + ns] == '\0') ||
                                        (rate[nc] == '\0' && strtoll(rate, NULL, 10) == 0));
        long long calls = ok ? strtoll(rate, NULL, 10) : 0, secs = ok && ns ? strtoll(rate + nc + 1, NULL, 10) : 0;
        if (!ok)
            return lk_admin_fail(c, 400, "invalid", "rate", "rate must be CALLS/SECONDS, e.g. 100/20 (0 removes it)");
        ch.set_rate = true;
        ch.rate_calls = calls;
        ch.rate_seconds = secs;
    }
    lk_limits out;
    if (lk_limits_set(&c->op, NULL, &ch, &out) != LK_OK)
        return lk_admin_fail_op(c);
    c->changed = true;
    lk_admin_ok(c, limits_json(&out));
}
