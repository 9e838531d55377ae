/*
 * cmd_admin — `latchkey admin create`: an active console user holding Admin in
 * AllZones, with a one-time password printed this once (the first admin of a fresh
 * installation is made this way or through the server's setup link).
 */
#include "cli/cli.h"

#include <string.h>

#include "core/user.h"

static lk_code print_admin(lk_cli_cmd *c, const lk_user *u, const char *password)
{
    if (c->json) {
        json_t *doc = json_object();
        json_object_set_new(doc, "user", lk_cli_user_json(u, c->op->now));
        json_object_set_new(doc, "password", json_string(password));
        return lk_cli_emit(doc);
    }
    printf("Created admin '%s' (%s, roles %s).\n", lk_cli_clean(c->arena, u->email, true),
           lk_user_status_name(u->status), lk_cli_clean(c->arena, lk_cli_grants_text(c, u), true));
    printf("One-time password: %s\n", password);
    printf("It is shown only this once and must be changed at first sign-in.\n");
    return LK_OK;
}

static lk_code admin_create(lk_cli_cmd *c)
{
    lk_user u;
    char password[LK_ONETIME_PASSWORD_LEN + 1] = "";
    lk_code code = lk_admin_create(c->op, lk_cli_str(c, "email"), lk_cli_str(c, "first"),
                                   lk_cli_str(c, "last"), &u, password);
    if (code == LK_OK)
        code = print_admin(c, &u, password);
    explicit_bzero(password, sizeof password);
    return code;
}

static const lk_cli_opt create_opts[] = {
    {.name = "email", .kind = LK_CLI_TEXT, .meta = "E", .required = true,
     .help = "the email address, unique"},
    {.name = "first", .kind = LK_CLI_TEXT, .meta = "F", .required = true, .help = "first name"},
    {.name = "last", .kind = LK_CLI_TEXT, .meta = "L", .required = true, .help = "last name"},
    {.name = NULL},
};

static const lk_cli_verb verbs[] = {
    {.name = "create", .opts = create_opts, .run = admin_create,
     .summary = "create a console administrator with a one-time password",
     .help = "Creates an active console user holding the Admin role in AllZones and prints\n"
             "a one-time password (20 characters), shown this once, to be changed at first\n"
             "sign-in.\n"},
    {.name = NULL},
};

const lk_cli_noun lk_cli_noun_admin = {
    .name = "admin",
    .summary = "console administrators, who hold the Admin role",
    .verbs = verbs,
};
