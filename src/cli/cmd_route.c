/*
 * cmd_route — `latchkey route list|add|delete|import`: the gateway's route table,
 * which Access API permission a call to an upstream API needs (core/gwroute.h,
 * docs/gateway.md). A change reaches running servers through the change feed.
 */
#include "cli/cli.h"

#include "core/gwroute.h"

#include <string.h>

static json_t *route_json(const lk_gw_route *r)
{
    json_t *perms = json_array();
    for (size_t i = 0; i < r->n_permissions; i++)
        json_array_append_new(perms, lk_cli_json_str(r->permissions[i]));
    json_t *doc = json_object();
    json_object_set_new(doc, "id", json_integer(r->id));
    json_object_set_new(doc, "method", lk_cli_json_str(r->method));
    json_object_set_new(doc, "pattern", lk_cli_json_str(r->pattern));
    json_object_set_new(doc, "permissions", perms);
    json_object_set_new(doc, "style", json_string(r->plain ? "plain" : "marketo"));
    return doc;
}

/* "A or B", "none (any valid token)" */
static const char *perms_text(lk_cli_cmd *c, const lk_gw_route *r)
{
    if (!r->n_permissions)
        return "none (any valid token)";
    const char *out = "";
    for (size_t i = 0; i < r->n_permissions; i++)
        out = lk_arena_printf(c->arena, "%s%s%s", out, i ? " or " : "", r->permissions[i]);
    return out;
}

static lk_code route_list(lk_cli_cmd *c)
{
    lk_gw_route *all = NULL;
    size_t n = 0;
    lk_code code = lk_gwroute_list(c->op, &all, &n);
    if (code != LK_OK)
        return code;
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, route_json(&all[i]));
        return lk_cli_emit1("routes", arr);
    }
    if (!n) {
        printf("No routes: the auth check refuses every call (see 'route add', 'route import marketo').\n");
        return LK_OK;
    }
    lk_table t;
    lk_table_init(&t, c->arena, 4);
    lk_table_row(&t, "METHOD", "PATTERN", "PERMISSION", "STYLE");
    for (size_t i = 0; i < n; i++)
        lk_table_row(&t, all[i].method, all[i].pattern, perms_text(c, &all[i]), all[i].plain ? "plain" : "marketo");
    lk_table_print(&t, stdout);
    return LK_OK;
}

static lk_code route_add(lk_cli_cmd *c)
{
    size_t n = 0;
    const char *const *perms = lk_cli_list(c, "permission", &n);
    bool none = n == 1 && strcmp(perms[0], "none") == 0;
    for (size_t i = 0; i < n && !none; i++)
        if (strcmp(perms[i], "none") == 0)
            return lk_cli_usage(c, "permission", "--permission none stands alone: it means no permission is needed");
    lk_gw_route r = {
        .method = lk_cli_str(c, "method"),
        .pattern = c->arg,
        .permissions = (const char **)perms,
        .n_permissions = none ? 0 : n,
        .plain = lk_cli_flag(c, "plain"),
    };
    lk_code code = lk_gwroute_add(c->op, &r);
    if (code != LK_OK)
        return code;
    if (c->json)
        return lk_cli_emit1("route", route_json(&r));
    printf("Added the route %s %s: %s, refusals %s.\n", r.method, r.pattern, perms_text(c, &r),
           r.plain ? "as plain HTTP statuses" : "in Marketo's envelope");
    return LK_OK;
}

static lk_code route_delete(lk_cli_cmd *c)
{
    lk_gw_route gone;
    const char *method = lk_cli_str(c, "method");
    lk_code code = lk_gwroute_delete(c->op, method, c->arg, &gone);
    if (code != LK_OK)
        return code;
    if (c->json)
        return lk_cli_emit_deleted("route", lk_arena_printf(c->arena, "%s %s", method, c->arg));
    printf("Deleted the route %s %s.\n", method, c->arg);
    return LK_OK;
}

static lk_code route_import(lk_cli_cmd *c)
{
    if (strcmp(c->arg, "marketo") != 0)
        return lk_cli_usage(c, "map", "no built-in map named '%.40s'; there is: marketo", c->arg);
    size_t added = 0, kept = 0;
    lk_code code = lk_gwroute_import_marketo(c->op, &added, &kept);
    if (code != LK_OK)
        return code;
    if (c->json)
        return lk_cli_emit(json_pack("{s:s, s:I, s:I}", "map", "marketo", "added", (json_int_t)added, "kept",
                                     (json_int_t)kept));
    printf("Imported Marketo's REST paths: %zu %s added, %zu already in the table kept as they are.\n", added,
           added == 1 ? "route" : "routes", kept);
    return LK_OK;
}

static const lk_cli_opt add_opts[] = {
    {.name = "method", .kind = LK_CLI_TEXT, .meta = "METHOD", .required = true,
     .help = "GET, POST, PUT, PATCH, DELETE, ... or '*' for any (a HEAD is checked as a GET)"},
    {.name = "permission", .kind = LK_CLI_LIST, .meta = "NAME", .required = true,
     .help = "an Access API permission of which the caller needs any one (repeat), or 'none'"},
    {.name = "plain", .kind = LK_CLI_FLAG,
     .help = "the upstream is not Marketo-style: refusals as HTTP 401/403/404/405/429"},
    {.name = NULL},
};

static const lk_cli_opt delete_opts[] = {
    {.name = "method", .kind = LK_CLI_TEXT, .meta = "METHOD", .required = true, .help = "the route's method"},
    {.name = NULL},
};

static const lk_cli_verb verbs[] = {
    {.name = "list", .read_only = true, .run = route_list,
     .summary = "list the routes and the permission each needs",
     .help = "Lists the gateway's routes: method, path pattern, the permissions of which a\n"
             "caller needs any one, and how a refusal is answered.\n"},
    {.name = "add", .arg = "PATTERN", .opts = add_opts, .run = route_add,
     .summary = "say which permission calls to a path need",
     .help = "Adds a route. A pattern is '/'-separated segments: literal text, a parameter\n"
             "'{name}' matching a non-empty part of one segment ('/lead/{id}.json'), or a\n"
             "last segment '*' matching the rest of the path ('/rest/asset/v1/*'). Of the\n"
             "routes matching a call, the most specific pattern wins (a literal segment\n"
             "beats a parameter, which beats '*'). A path no route matches is refused.\n"
             "Example:\n"
             "  latchkey route add '/api/v2/orders/{id}' --method GET \\\n"
             "      --permission 'Read-Only Opportunity' --permission 'Read-Write Opportunity' --plain\n"},
    {.name = "delete", .arg = "PATTERN", .opts = delete_opts, .run = route_delete,
     .summary = "delete the route of a method and pattern",
     .help = "Deletes a route; calls it covered are refused from then on unless another\n"
             "route matches them.\n"},
    {.name = "import", .arg = "MAP", .run = route_import,
     .summary = "load a built-in map (marketo)",
     .help = "Adds the routes of a built-in map that the table does not have yet for their\n"
             "method and pattern; routes already there are kept as they are.\n"
             "  marketo   Marketo's REST paths and the Access API permissions Marketo asks\n"
             "            for each (GET /rest/v1/leads.json: Read-Only Lead or Read-Write Lead)\n"},
    {.name = NULL},
};

const lk_cli_noun lk_cli_noun_route = {
    .name = "route",
    .summary = "the gateway's routes: which permission a call to an upstream API needs",
    .verbs = verbs,
};
