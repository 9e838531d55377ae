/* cmd_permission — `latchkey permission list|create|delete`: the permission catalog. */
#include "cli/cli.h"

#include "core/permission.h"

static lk_code permission_list(lk_cli_cmd *c)
{
    lk_permission *ps;
    size_t n;
    lk_code code = lk_permission_list(c->op, &ps, &n);
    if (code != LK_OK)
        return code;
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, lk_cli_permission_json(&ps[i]));
        return lk_cli_emit1("permissions", arr);
    }
    lk_table t;
    lk_table_init(&t, c->arena, 4);
    lk_table_row(&t, "NAME", "GROUP", "TYPE", "DESCRIPTION");
    for (size_t i = 0; i < n; i++)
        lk_table_row(&t, ps[i].name, lk_perm_group_name(ps[i].group),
                     ps[i].builtin ? "built-in" : "custom", ps[i].description);
    lk_table_print(&t, stdout);
    return LK_OK;
}

static lk_code permission_create(lk_cli_cmd *c)
{
    lk_permission p;
    lk_code code = lk_permission_create(c->op, lk_cli_str(c, "name"), lk_cli_str(c, "description"), &p);
    if (code != LK_OK)
        return code;
    if (c->json)
        return lk_cli_emit1("permission", lk_cli_permission_json(&p));
    printf("Created custom %s permission '%s'.\n", lk_perm_group_name(p.group),
           lk_cli_clean(c->arena, p.name, true));
    return LK_OK;
}

static lk_code permission_delete(lk_cli_cmd *c)
{
    lk_code code = lk_permission_delete(c->op, c->arg);
    if (code != LK_OK)
        return code;
    if (c->json)
        return lk_cli_emit_deleted("permission", c->arg);
    printf("Deleted permission '%s'.\n", lk_cli_clean(c->arena, c->arg, true));
    return LK_OK;
}

static const lk_cli_opt create_opts[] = {
    {.name = "name", .kind = LK_CLI_TEXT, .meta = "NAME", .required = true,
     .help = "the permission's name, unique"},
    {.name = "description", .kind = LK_CLI_TEXT, .meta = "TEXT", .help = "what it allows"},
    {.name = NULL},
};

static const lk_cli_verb verbs[] = {
    {.name = "list", .read_only = true, .run = permission_list,
     .summary = "list every permission, built-in and custom",
     .help = "Lists the Access Admin and Access API permissions, built-in and custom.\n"},
    {.name = "create", .opts = create_opts, .run = permission_create,
     .summary = "add a custom Access API permission",
     .help = "Adds a custom Access API permission, for an upstream API of your own.\n"},
    {.name = "delete", .arg = "NAME", .run = permission_delete,
     .summary = "delete a custom permission that no role includes",
     .help = "Deletes a custom permission. Built-in permissions stay, and a permission\n"
             "that a role includes cannot be deleted (the message names the roles).\n"},
    {.name = NULL},
};

const lk_cli_noun lk_cli_noun_permission = {
    .name = "permission",
    .summary = "the Access Admin and Access API rights that roles are made of",
    .verbs = verbs,
};
