/*
 * cmd_user — `latchkey user invite|list|show|update|lock|unlock|delete`: people and
 * API-only users. The invitation link of a person is printed once, by invite; its
 * token sits in the URL fragment so that it never reaches a server log.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "core/user.h"

#define DEFAULT_PUBLIC_URL "http://127.0.0.1:8080"

static void print_user(lk_cli_cmd *c, const lk_user *u)
{
    const char *reason = NULL;
    lk_user_status st = lk_user_effective_status(u, c->op->now, &reason);
    const char *status = lk_user_status_name(st);
    if (st == LK_STATUS_LOCKED && reason && *reason)
        status = lk_arena_printf(c->arena, "%s (%s)", status, reason);

    lk_cli_field(c, "ID", lk_cli_i64(c, u->id));
    lk_cli_field(c, "Email", u->email);
    lk_cli_field(c, "User ID", u->userid);
    lk_cli_field(c, "First Name", u->first_name);
    lk_cli_field(c, "Last Name", u->last_name);
    lk_cli_field(c, "Reason", u->reason);
    lk_cli_field(c, "API Only", u->api_only ? "yes" : "no");
    lk_cli_field(c, "Status", status);
    lk_cli_field(c, "Expires", lk_cli_time(c, u->expires_at, "never"));
    lk_cli_field(c, "Roles", lk_cli_grants_text(c, u));
    lk_cli_field(c, "Failed Logins", lk_cli_i64(c, u->failed_logins));
    lk_cli_field(c, "Last Login", lk_cli_time(c, u->last_login_at, "never"));
    lk_cli_field(c, "Created", lk_cli_time(c, u->created_at, ""));
    lk_cli_field(c, "Updated", lk_cli_time(c, u->updated_at, ""));
}

static lk_code user_print(lk_cli_cmd *c, const char *done, const lk_user *u)
{
    if (c->json)
        return lk_cli_emit1("user", lk_cli_user_json(u, c->op->now));
    if (done)
        printf("%s user '%s'.\n", done, lk_cli_clean(c->arena, u->email, true));
    print_user(c, u);
    return LK_OK;
}

/* $LATCHKEY_PUBLIC_URL without its trailing slashes, else the default */
static const char *public_url(lk_cli_cmd *c)
{
    const char *env = getenv("LATCHKEY_PUBLIC_URL");
    if (!env || !*env)
        return DEFAULT_PUBLIC_URL;
    size_t n = strlen(env);
    while (n > 0 && env[n - 1] == '/')
        n--;
    return n ? lk_arena_strndup(c->arena, env, n) : DEFAULT_PUBLIC_URL;
}

static lk_code user_invite(lk_cli_cmd *c)
{
    lk_user_input in = {
        .email = lk_cli_str(c, "email"),
        .userid = lk_cli_str(c, "userid"),
        .first_name = lk_cli_str(c, "first"),
        .last_name = lk_cli_str(c, "last"),
        .reason = lk_cli_str(c, "reason"),
        .expires = lk_cli_str(c, "expires"),
        .api_only = lk_cli_flag(c, "api-only"),
        .message = lk_cli_str(c, "message"),
    };
    in.grants = lk_cli_grants(c, "role", &in.n_grants);
    lk_user u;
    lk_invite_token inv;
    memset(&inv, 0, sizeof inv);
    lk_code code = lk_user_invite(c->op, &in, &u, &inv);
    if (code != LK_OK)
        return code;

    const char *link = inv.token[0]
                           ? lk_arena_printf(c->arena, "%s/invite#%s", public_url(c), inv.token)
                           : NULL;
    if (c->json) {
        json_t *doc = json_object();
        json_object_set_new(doc, "user", lk_cli_user_json(&u, c->op->now));
        json_t *invitation = link ? json_object() : json_null();
        if (link) {
            json_object_set_new(invitation, "link", lk_cli_json_str(link));
            json_object_set_new(invitation, "expiresAt", lk_cli_json_time(inv.expires_at));
        }
        json_object_set_new(doc, "invitation", invitation);
        return lk_cli_emit(doc);
    }

    const char *email = lk_cli_clean(c->arena, u.email, true);
    const char *roles = lk_cli_clean(c->arena, lk_cli_grants_text(c, &u), true);
    if (!link) {
        printf("Invited API-only user '%s': %s, roles %s.\n", email,
               lk_user_status_name(u.status), roles);
        printf("No invitation is needed for an API-only user, because no email is sent.\n");
        return LK_OK;
    }
    printf("Invited '%s': %s until the invitation is accepted, roles %s.\n", email,
           lk_user_status_name(u.status), roles);
    printf("Send this single-use link to the person; it is valid until %s:\n%s\n",
           lk_cli_time(c, inv.expires_at, "?"), link);
    return LK_OK;
}

static lk_code user_list(lk_cli_cmd *c)
{
    bool api = lk_cli_flag(c, "api-only"), people = lk_cli_flag(c, "people");
    if (api && people)
        return lk_cli_usage(c, "", "give --api-only or --people, not both; see "
                                   "'latchkey user list --help'");
    lk_user *us;
    size_t n;
    lk_code code = lk_user_list(c->op, api ? 1 : people ? 0 : -1, &us, &n);
    if (code != LK_OK)
        return code;
    if (c->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, lk_cli_user_json(&us[i], c->op->now));
        return lk_cli_emit1("users", arr);
    }
    lk_table t;
    lk_table_init(&t, c->arena, 6);
    lk_table_row(&t, "EMAIL", "NAME", "API ONLY", "STATUS", "ROLES", "EXPIRES");
    for (size_t i = 0; i < n; i++) {
        const lk_user *u = &us[i];
        const char *reason;
        lk_user_status st = lk_user_effective_status(u, c->op->now, &reason);
        lk_table_row(&t, u->email, lk_arena_printf(c->arena, "%s %s", u->first_name, u->last_name),
                     u->api_only ? "yes" : "no", lk_user_status_name(st),
                     lk_cli_grants_text(c, u), lk_cli_time(c, u->expires_at, "never"));
    }
    lk_table_print(&t, stdout);
    return LK_OK;
}

static lk_code user_show(lk_cli_cmd *c)
{
    lk_user u;
    lk_code code = lk_user_find(c->op, c->arg, &u);
    if (code != LK_OK)
        return code;
    return user_print(c, NULL, &u);
}

static lk_code user_update(lk_cli_cmd *c)
{
    lk_user_change ch = {
        .email = lk_cli_str(c, "email"),
        .userid = lk_cli_str(c, "userid"),
        .first_name = lk_cli_str(c, "first"),
        .last_name = lk_cli_str(c, "last"),
        .reason = lk_cli_str(c, "reason"),
        .expires = lk_cli_str(c, "expires"),
    };
    ch.add = lk_cli_grants(c, "add-role", &ch.n_add);
    ch.remove = lk_cli_grants(c, "remove-role", &ch.n_remove);
    if (!ch.email && !ch.userid && !ch.first_name && !ch.last_name && !ch.reason && !ch.expires &&
        !ch.n_add && !ch.n_remove)
        return lk_cli_usage(c, "", "nothing to change; see 'latchkey user update --help'");
    lk_user u;
    lk_code code = lk_user_update(c->op, c->arg, &ch, &u);
    if (code != LK_OK)
        return code;
    return user_print(c, "Updated", &u);
}

static lk_code user_lock(lk_cli_cmd *c)
{
    lk_user u;
    lk_code code = lk_user_lock(c->op, c->arg, lk_cli_str(c, "reason"), &u);
    if (code != LK_OK)
        return code;
    return user_print(c, "Locked", &u);
}

static lk_code user_unlock(lk_cli_cmd *c)
{
    lk_user u;
    lk_code code = lk_user_unlock(c->op, c->arg, lk_cli_str(c, "expires"), &u);
    if (code != LK_OK)
        return code;
    return user_print(c, "Unlocked", &u);
}

static lk_code user_delete(lk_cli_cmd *c)
{
    lk_code code = lk_user_delete(c->op, c->arg);
    if (code != LK_OK)
        return code;
    if (c->json)
        return lk_cli_emit_deleted("user", c->arg);
    printf("Deleted user '%s'.\n", lk_cli_clean(c->arena, c->arg, true));
    return LK_OK;
}

static const lk_cli_opt invite_opts[] = {
    {.name = "email", .kind = LK_CLI_TEXT, .meta = "E", .required = true,
     .help = "the email address, unique"},
    {.name = "first", .kind = LK_CLI_TEXT, .meta = "F", .required = true, .help = "first name"},
    {.name = "last", .kind = LK_CLI_TEXT, .meta = "L", .required = true, .help = "last name"},
    {.name = "role", .kind = LK_CLI_GRANTS, .meta = "ROLE[@WORKSPACE]", .required = true,
     .help = "a role; after '@' a workspace name or id, else AllZones"},
    {.name = "api-only", .kind = LK_CLI_FLAG,
     .help = "an API-only user: active at once, no password, no email"},
    {.name = "reason", .kind = LK_CLI_TEXT, .meta = "TEXT", .help = "why the user has access"},
    {.name = "expires", .kind = LK_CLI_TEXT, .meta = "WHEN",
     .help = "when access ends (2027-01-31 or 2027-01-31T17:00:00Z)"},
    {.name = "userid", .kind = LK_CLI_TEXT, .meta = "ID", .help = "the login id (default: the email)"},
    {.name = "message", .kind = LK_CLI_TEXT, .meta = "TEXT", .help = "the invitation message"},
    {.name = NULL},
};

static const lk_cli_opt list_opts[] = {
    {.name = "api-only", .kind = LK_CLI_FLAG, .help = "only API-only users"},
    {.name = "people", .kind = LK_CLI_FLAG, .help = "only people (users who are not API-only)"},
    {.name = NULL},
};

static const lk_cli_opt update_opts[] = {
    {.name = "email", .kind = LK_CLI_TEXT, .meta = "NEW", .help = "a new email address"},
    {.name = "userid", .kind = LK_CLI_TEXT, .meta = "ID", .help = "a new login id"},
    {.name = "first", .kind = LK_CLI_TEXT, .meta = "F", .help = "a new first name"},
    {.name = "last", .kind = LK_CLI_TEXT, .meta = "L", .help = "a new last name"},
    {.name = "reason", .kind = LK_CLI_TEXT, .meta = "TEXT", .help = "a new reason (\"\" clears it)"},
    {.name = "expires", .kind = LK_CLI_TEXT, .meta = "WHEN|never",
     .help = "a new end of access, or never"},
    {.name = "add-role", .kind = LK_CLI_GRANTS, .meta = "ROLE[@WORKSPACE]", .help = "a grant to add"},
    {.name = "remove-role", .kind = LK_CLI_GRANTS, .meta = "ROLE[@WORKSPACE]",
     .help = "a grant to remove"},
    {.name = NULL},
};

static const lk_cli_opt lock_opts[] = {
    {.name = "reason", .kind = LK_CLI_TEXT, .meta = "TEXT", .help = "why the user is locked"},
    {.name = NULL},
};

static const lk_cli_opt unlock_opts[] = {
    {.name = "expires", .kind = LK_CLI_TEXT, .meta = "WHEN|never",
     .help = "a new end of access; needed when the old one has passed"},
    {.name = NULL},
};

static const lk_cli_verb verbs[] = {
    {.name = "invite", .opts = invite_opts, .run = user_invite,
     .summary = "invite a person, or add an API-only user",
     .help = "Adds a user with one or more (role, workspace) grants. A person starts pending\n"
             "and gets a single-use invitation link (valid 7 days; base URL from\n"
             "$LATCHKEY_PUBLIC_URL, default " DEFAULT_PUBLIC_URL "). An API-only user\n"
             "(--api-only) is active at once and needs no invitation, because no email is\n"
             "sent; it must hold a role with an Access API permission.\n"},
    {.name = "list", .opts = list_opts, .run = user_list,
     .summary = "list the users",
     .help = "Lists the users with their effective status: past its expiry a user is locked.\n"},
    {.name = "show", .arg = "EMAIL", .run = user_show,
     .summary = "show a user",
     .help = "Shows a user, named by email or user id.\n"},
    {.name = "update", .arg = "EMAIL", .opts = update_opts, .run = user_update,
     .summary = "change a user's fields or grants",
     .help = "Changes an active or locked user (pending users can only be shown or deleted).\n"},
    {.name = "lock", .arg = "EMAIL", .opts = lock_opts, .run = user_lock,
     .summary = "lock a user (revokes its tokens)",
     .help = "Locks a user: no sign-in, and its services' tokens stop working at once.\n"},
    {.name = "unlock", .arg = "EMAIL", .opts = unlock_opts, .run = user_unlock,
     .summary = "unlock a user",
     .help = "Unlocks a user. When its access has expired, give a new --expires in the\n"
             "future or never.\n"},
    {.name = "delete", .arg = "EMAIL", .run = user_delete,
     .summary = "delete a user for good",
     .help = "Deletes a user. Refused while the user owns custom services (the message\n"
             "names them) or is the last active Admin.\n"},
    {.name = NULL},
};

const lk_cli_noun lk_cli_noun_user = {
    .name = "user",
    .summary = "people who sign in to the console, and API-only users for integrations",
    .verbs = verbs,
};
