/*
 * cmd_user — `latchkey user invite|list|show|update|lock|unlock|delete|
 * resend-invite|reset-password`: people and API-only users. Invitation and reset
 * links go to the person by email only (queued here, sent by the running server;
 * `latchkey mail list`); they are never printed.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "core/mailq.h"
#include "core/password.h"
#include "core/role.h"
#include "core/user.h"


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

static lk_code user_invite(lk_cli_cmd *c)
{
    lk_config cfg;
    lk_code code = lk_cli_config(c, &cfg);
    if (code != LK_OK)
        return code;
    lk_user_input in = {
        .email = lk_cli_str(c, "email"),
        .userid = lk_cli_str(c, "userid"),
        .first_name = lk_cli_str(c, "first"),
        .last_name = lk_cli_str(c, "last"),
        .reason = lk_cli_str(c, "reason"),
        .expires = lk_cli_str(c, "expires"),
        .api_only = lk_cli_flag(c, "api-only"),
        .message = lk_cli_str(c, "message"),
        .lang = lk_cli_str(c, "lang") ? lk_cli_str(c, "lang") : cfg.mail_language,
        .invite_ttl = cfg.invite_ttl,
    };
    if (lk_cli_str(c, "lang") && !lk_mail_lang(in.lang))
        return lk_cli_usage(c, "lang", "--lang must be en or de");
    in.grants = lk_cli_grants(c, "role", &in.n_grants);
    lk_user u;
    lk_invite_token inv;
    memset(&inv, 0, sizeof inv);
    code = lk_user_invite(c->op, &in, &u, &inv);
    int64_t expires = inv.expires_at;
    memset(&inv, 0, sizeof inv);
    if (code != LK_OK)
        return code;

    if (c->json) {
        json_t *doc = json_object();
        json_object_set_new(doc, "user", lk_cli_user_json(&u, c->op->now));
        json_t *invitation = json_null();
        if (!u.api_only)
            invitation = json_pack("{s:o, s:o}", "email", lk_cli_json_str(u.email), "expiresAt",
                                   lk_cli_json_time(expires));
        json_object_set_new(doc, "invitation", invitation);
        return lk_cli_emit(doc);
    }

    const char *email = lk_cli_clean(c->arena, u.email, true);
    const char *roles = lk_cli_clean(c->arena, lk_cli_grants_text(c, &u), true);
    if (u.api_only) {
        printf("Invited API-only user '%s': %s, roles %s.\n", email,
               lk_user_status_name(u.status), roles);
        printf("No invitation is needed for an API-only user, because no email is sent.\n");
        return LK_OK;
    }
    printf("Invited '%s': %s until the invitation is accepted, roles %s.\n", email,
           lk_user_status_name(u.status), roles);
    printf("The invitation email is queued; its single-use link works until %s.\n"
           "The running server sends it ('latchkey mail list' shows the queue).\n",
           lk_cli_time(c, expires, "?"));
    return LK_OK;
}

static lk_code user_resend_invite(lk_cli_cmd *c)
{
    lk_config cfg;
    lk_code code = lk_cli_config(c, &cfg);
    lk_invitation inv;
    lk_user u;
    if (code == LK_OK)
        code = lk_user_resend_invitation(c->op, c->arg, lk_cli_str(c, "message"), cfg.invite_ttl, &inv);
    if (code == LK_OK)
        code = lk_user_find(c->op, c->arg, &u);
    if (code != LK_OK)
        return code;
    if (c->json)
        return lk_cli_emit(json_pack("{s:{s:o, s:o}}", "invitation", "email", lk_cli_json_str(u.email), "expiresAt",
                                     lk_cli_json_time(inv.expires_at)));
    printf("A new invitation email to '%s' is queued; its link works until %s, and earlier links no longer do.\n",
           lk_cli_clean(c->arena, u.email, true), lk_cli_time(c, inv.expires_at, "?"));
    return LK_OK;
}

static lk_code user_reset_password(lk_cli_cmd *c)
{
    lk_config cfg;
    lk_code code = lk_cli_config(c, &cfg);
    lk_user u;
    if (code == LK_OK)
        code = lk_password_reset_request(c->op, c->arg, cfg.reset_ttl, &u);
    if (code != LK_OK)
        return code;
    if (c->json)
        return lk_cli_emit(json_pack("{s:{s:o}}", "reset", "email", lk_cli_json_str(u.email)));
    printf("A password reset email to '%s' is queued; its single-use link works for %lld hour(s).\n",
           lk_cli_clean(c->arena, u.email, true), (long long)(cfg.reset_ttl + 3599) / 3600);
    return LK_OK;
}

/* ---- user list ---------------------------------------------------------------------- */

typedef struct user_rows {
    lk_user_filter f;
    lk_user *us;
} user_rows;

static lk_code user_fetch(lk_cli_cmd *c, void *ctx, const char *after, int64_t max, size_t *n)
{
    user_rows *r = ctx;
    r->f.after = after ? strtoll(after, NULL, 10) : 0;
    r->f.limit = max;
    return lk_user_list_page(c->op, &r->f, &r->us, n);
}

static json_t *user_row_json(lk_cli_cmd *c, void *ctx, size_t i)
{
    return lk_cli_user_json(&((user_rows *)ctx)->us[i], c->op->now);
}

static void user_header(lk_table *t)
{
    lk_table_row(t, "EMAIL", "NAME", "API ONLY", "STATUS", "ROLES", "EXPIRES");
}

static void user_cells(lk_cli_cmd *c, void *ctx, size_t i, lk_table *t)
{
    const lk_user *u = &((user_rows *)ctx)->us[i];
    lk_user_status st = lk_user_effective_status(u, c->op->now, NULL);
    lk_table_row(t, u->email, lk_arena_printf(c->arena, "%s %s", u->first_name, u->last_name),
                 u->api_only ? "yes" : "no", lk_user_status_name(st), lk_cli_grants_text(c, u),
                 lk_cli_time(c, u->expires_at, "never"));
}

static const char *user_cursor(lk_cli_cmd *c, void *ctx, size_t i)
{
    return lk_cli_i64(c, ((user_rows *)ctx)->us[i].id);
}

static const lk_cli_listing USER_LIST = {
    .key = "users", .noun = "users", .ncols = 6, .header = user_header, .fetch = user_fetch,
    .json = user_row_json, .cells = user_cells, .cursor = user_cursor,
};

static lk_code user_list(lk_cli_cmd *c)
{
    bool api = lk_cli_flag(c, "api-only"), people = lk_cli_flag(c, "people");
    const char *status = lk_cli_str(c, "status"), *role = lk_cli_str(c, "role");
    if (api && people)
        return lk_cli_usage(c, "", "give --api-only or --people, not both; see "
                                   "'latchkey user list --help'");
    user_rows rows = {.f = {.api_only = api ? 1 : people ? 0 : -1, .now = c->op->now,
                            .search = lk_cli_str(c, "search")}};
    if (status) {
        static const char *const NAMES[] = {"pending", "active", "locked"};
        for (int i = 0; i < 3; i++)
            if (strcmp(status, NAMES[i]) == 0) {
                rows.f.by_status = true;
                rows.f.status = (lk_user_status)i;
            }
        if (!rows.f.by_status)
            return lk_cli_usage(c, "status", "--status must be pending, active or locked");
    }
    if (role) {
        lk_role r;
        lk_code code = lk_role_find(c->op, role, &r);
        if (code != LK_OK)
            return code;
        rows.f.role_id = r.id;
    }
    if (!lk_cli_cursor_ok(lk_cli_str(c, "after"), false))
        return lk_cli_usage(c, "after", "--after must be the id the previous list's note gave");
    return lk_cli_listing_run(c, &USER_LIST, &rows, lk_cli_num(c, "limit"), lk_cli_str(c, "after"));
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
    {.name = "lang", .kind = LK_CLI_TEXT, .meta = "en|de",
     .help = "language of the person's email (default: mail_language)"},
    {.name = NULL},
};

static const lk_cli_opt resend_opts[] = {
    {.name = "message", .kind = LK_CLI_TEXT, .meta = "TEXT",
     .help = "a new invitation message (default: the previous one)"},
    {.name = NULL},
};

static const lk_cli_opt list_opts[] = {
    {.name = "api-only", .kind = LK_CLI_FLAG, .help = "only API-only users"},
    {.name = "people", .kind = LK_CLI_FLAG, .help = "only people (users who are not API-only)"},
    {.name = "status", .kind = LK_CLI_TEXT, .meta = "STATUS", .help = "only pending, active or locked users"},
    {.name = "role", .kind = LK_CLI_TEXT, .meta = "ROLE", .help = "only the holders of this role"},
    {.name = "search", .kind = LK_CLI_TEXT, .meta = "TEXT",
     .help = "only users whose email, user id or name contains each word"},
    {.name = "limit", .kind = LK_CLI_COUNT, .meta = "N", .max = LK_CLI_LIMIT_MAX, .dflt = LK_CLI_LIMIT_DEFAULT,
     .help = "at most N users (default 100), 0 for all"},
    {.name = "after", .kind = LK_CLI_TEXT, .meta = "ID", .help = "the users after this one (the note's --after)"},
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
             "and gets an invitation email with a single-use link (valid invite_ttl, 7 days\n"
             "by default), which the running server sends. An API-only user (--api-only) is\n"
             "active at once and needs no invitation, because no email is sent; it must\n"
             "hold a role with an Access API permission.\n"},
    {.name = "list", .read_only = true, .opts = list_opts, .run = user_list,
     .summary = "list the users",
     .help = "Lists the users in the order they were created, with their effective status:\n"
             "past its expiry a user is locked. At most --limit of them (100 by default); when\n"
             "more match, a note on stderr gives the --after that lists the next ones.\n"
             "--search finds users whose email, user id, first or last name contains each of\n"
             "its words (case-insensitive).\n"},
    {.name = "show", .read_only = true, .arg = "EMAIL", .run = user_show,
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
    {.name = "resend-invite", .arg = "EMAIL", .opts = resend_opts, .run = user_resend_invite,
     .summary = "send a pending user a new invitation",
     .help = "Queues a new invitation email for a user who has not accepted yet; the earlier\n"
             "links stop working. To withdraw an invitation, delete the user.\n"},
    {.name = "reset-password", .arg = "EMAIL", .run = user_reset_password,
     .summary = "email an active person a password-reset link",
     .help = "Queues an email with a single-use link (valid reset_ttl, a day by default) with\n"
             "which the person sets a new password; the current one keeps working until then.\n"},
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
