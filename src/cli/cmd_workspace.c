/* cmd_workspace — `latchkey workspace list|create`: the scopes of role grants. */
#include "cli/cli.h"

#include "core/workspace.h"

static lk_code workspace_list(lk_cli_cmd *c)
{
    lk_workspace *ws;
    size_t n;
    lk_code code = lk_workspace_list(c->op, &ws, &n);
    if (code != LK_OK)
        return code;
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, lk_cli_workspace_json(&ws[i]));
        return lk_cli_emit1("workspaces", arr);
    }
    lk_table t;
    lk_table_init(&t, c->arena, 3);
    lk_table_row(&t, "ID", "NAME", "DESCRIPTION");
    for (size_t i = 0; i < n; i++)
        lk_table_row(&t, lk_cli_i64(c, ws[i].id), ws[i].name, ws[i].description);
    lk_table_print(&t, stdout);
    return LK_OK;
}

static lk_code workspace_create(lk_cli_cmd *c)
{
    lk_workspace w;
    lk_code code = lk_workspace_create(c->op, c->arg, lk_cli_str(c, "description"), &w);
    if (code != LK_OK)
        return code;
    if (c->json)
        return lk_cli_emit1("workspace", lk_cli_workspace_json(&w));
    printf("Created workspace '%s' (id %lld).\n", lk_cli_clean(c->arena, w.name, true),
           (long long)w.id);
    return LK_OK;
}

static const lk_cli_opt create_opts[] = {
    {.name = "description", .kind = LK_CLI_TEXT, .meta = "TEXT", .help = "what the workspace is for"},
    {.name = NULL},
};

static const lk_cli_verb verbs[] = {
    {.name = "list", .read_only = true, .run = workspace_list,
     .summary = "list the workspaces",
     .help = "Lists the workspaces. 0 \"AllZones\" is the global scope; \"Default\" exists\n"
             "from the start.\n"},
    {.name = "create", .arg = "NAME", .opts = create_opts, .run = workspace_create,
     .summary = "add a workspace",
     .help = "Adds a workspace, a named scope in which users are granted roles.\n"},
    {.name = NULL},
};

const lk_cli_noun lk_cli_noun_workspace = {
    .name = "workspace",
    .summary = "the named scopes in which users hold roles",
    .verbs = verbs,
};
