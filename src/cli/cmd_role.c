/* cmd_role — `latchkey role create|list|show|update|delete`: named sets of permissions. */
#include "cli/cli.h"

#include "core/permission.h"
#include "core/role.h"

/* the fields, then the permissions under "Access Admin:" and "Access API:" */
static void print_role(lk_cli_cmd *c, const lk_role *r)
{
    lk_cli_field(c, "ID", lk_cli_i64(c, r->id));
    lk_cli_field(c, "Name", r->name);
    lk_cli_field(c, "Type", r->system ? "system" : "custom");
    lk_cli_field(c, "Description", r->description);
    lk_cli_field(c, "Only AllZones", r->only_all_zones ? "yes" : "no");
    lk_cli_field(c, "Created", lk_cli_time(c, r->created_at, ""));
    lk_cli_field(c, "Updated", lk_cli_time(c, r->updated_at, ""));

    static const lk_perm_group groups[] = {LK_GROUP_ADMIN, LK_GROUP_API};
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        printf("%s:\n", lk_perm_group_name(groups[g]));
        size_t shown = 0;
        for (size_t i = 0; i < r->n_perms; i++)
            if (r->perms[i].group == groups[g]) {
                printf("  %s\n", lk_cli_clean(c->arena, r->perms[i].name, true));
                shown++;
            }
        if (!shown)
            printf("  (none)\n");
    }
}

static lk_code role_print(lk_cli_cmd *c, const char *done, const lk_role *r)
{
    if (c->json)
        return lk_cli_emit1("role", lk_cli_role_json(r));
    if (done)
        printf("%s role '%s'.\n", done, lk_cli_clean(c->arena, r->name, true));
    print_role(c, r);
    return LK_OK;
}

static lk_code role_create(lk_cli_cmd *c)
{
    size_t n;
    const char *const *perms = lk_cli_list(c, "permission", &n);
    lk_role r;
    lk_code code = lk_role_create(c->op, lk_cli_str(c, "name"), lk_cli_str(c, "description"),
                                  perms, n, &r);
    if (code != LK_OK)
        return code;
    return role_print(c, "Created", &r);
}

static lk_code role_list(lk_cli_cmd *c)
{
    lk_role *rs;
    size_t n;
    lk_code code = lk_role_list(c->op, &rs, &n);
    if (code != LK_OK)
        return code;
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, lk_cli_role_json(&rs[i]));
        return lk_cli_emit1("roles", arr);
    }
    lk_table t;
    lk_table_init(&t, c->arena, 5);
    lk_table_row(&t, "ID", "NAME", "TYPE", "PERMISSIONS", "DESCRIPTION");
    for (size_t i = 0; i < n; i++)
        lk_table_row(&t, lk_cli_i64(c, rs[i].id), rs[i].name, rs[i].system ? "system" : "custom",
                     lk_cli_i64(c, (int64_t)rs[i].n_perms), rs[i].description);
    lk_table_print(&t, stdout);
    return LK_OK;
}

static lk_code role_show(lk_cli_cmd *c)
{
    lk_role r;
    lk_code code = lk_role_find(c->op, c->arg, &r);
    if (code != LK_OK)
        return code;
    return role_print(c, NULL, &r);
}

static lk_code role_update(lk_cli_cmd *c)
{
    lk_role_change ch = {.name = lk_cli_str(c, "name"), .description = lk_cli_str(c, "description")};
    ch.add = lk_cli_list(c, "add-permission", &ch.n_add);
    ch.remove = lk_cli_list(c, "remove-permission", &ch.n_remove);
    if (!ch.name && !ch.description && !ch.n_add && !ch.n_remove)
        return lk_cli_usage(c, "", "nothing to change: give --name, --description, "
                                   "--add-permission or --remove-permission; see "
                                   "'latchkey role update --help'");
    lk_role r;
    lk_code code = lk_role_update(c->op, c->arg, &ch, &r);
    if (code != LK_OK)
        return code;
    return role_print(c, "Updated", &r);
}

static lk_code role_delete(lk_cli_cmd *c)
{
    lk_code code = lk_role_delete(c->op, c->arg);
    if (code != LK_OK)
        return code;
    if (c->json)
        return lk_cli_emit_deleted("role", c->arg);
    printf("Deleted role '%s'.\n", lk_cli_clean(c->arena, c->arg, true));
    return LK_OK;
}

static const lk_cli_opt create_opts[] = {
    {.name = "name", .kind = LK_CLI_TEXT, .meta = "NAME", .required = true,
     .help = "the role's name, unique"},
    {.name = "description", .kind = LK_CLI_TEXT, .meta = "TEXT", .help = "what the role is for"},
    {.name = "permission", .kind = LK_CLI_LIST, .meta = "NAME", .required = true,
     .help = "a permission the role includes"},
    {.name = NULL},
};

static const lk_cli_opt update_opts[] = {
    {.name = "name", .kind = LK_CLI_TEXT, .meta = "NEW", .help = "a new name"},
    {.name = "description", .kind = LK_CLI_TEXT, .meta = "TEXT", .help = "a new description"},
    {.name = "add-permission", .kind = LK_CLI_LIST, .meta = "NAME", .help = "a permission to add"},
    {.name = "remove-permission", .kind = LK_CLI_LIST, .meta = "NAME",
     .help = "a permission to remove"},
    {.name = NULL},
};

static const lk_cli_verb verbs[] = {
    {.name = "create", .opts = create_opts, .run = role_create,
     .summary = "create a custom role from permissions",
     .help = "Creates a custom role. For an integration, give it the Access API permissions\n"
             "the integration needs (see 'latchkey permission list').\n"},
    {.name = "list", .read_only = true, .run = role_list,
     .summary = "list the roles",
     .help = "Lists the roles with the number of permissions each includes.\n"},
    {.name = "show", .read_only = true, .arg = "NAME", .run = role_show,
     .summary = "show a role and its permissions",
     .help = "Shows a role, then its permissions under Access Admin and Access API.\n"},
    {.name = "update", .arg = "NAME", .opts = update_opts, .run = role_update,
     .summary = "rename a role or change its description or permissions",
     .help = "Changes a custom role. The system role Admin cannot be changed, and removing\n"
             "permissions may not leave an API-only holder without any Access API one.\n"},
    {.name = "delete", .arg = "NAME", .run = role_delete,
     .summary = "delete a role that no user holds",
     .help = "Deletes a custom role. A role that any user holds cannot be deleted (the\n"
             "message names the users); Admin cannot be deleted.\n"},
    {.name = NULL},
};

const lk_cli_noun lk_cli_noun_role = {
    .name = "role",
    .summary = "named sets of permissions that users hold per workspace",
    .verbs = verbs,
};
