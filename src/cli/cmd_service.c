/*
 * cmd_service — `latchkey service create|list|show|update|rotate-secret|delete`:
 * LaunchPoint custom services. The client secret is printed by create and rotate-secret only,
 * once; show prints it masked, since only its hash is stored.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "core/service.h"
#include "core/user.h"

#define GRACE_MAX (30 * 24 * 3600)

static void print_service(lk_cli_cmd *c, const lk_service *s)
{
    lk_cli_field(c, "ID", lk_cli_i64(c, s->id));
    lk_cli_field(c, "Name", s->name);
    lk_cli_field(c, "Description", s->description);
    lk_cli_field(c, "User", s->user_email);
    lk_cli_field(c, "Client Id", s->client_id);
    lk_cli_field(c, "Client Secret",
                 "******** (stored only as a hash; use rotate-secret for a new one)");
    if (s->old_secret_hash && s->old_secret_expires_at > c->op->now)
        lk_cli_field(c, "Previous Secret",
                     lk_arena_printf(c->arena, "valid until %s",
                                     lk_cli_time(c, s->old_secret_expires_at, "")));
    lk_cli_field(c, "Created", lk_cli_time(c, s->created_at, ""));
    lk_cli_field(c, "Updated", lk_cli_time(c, s->updated_at, ""));
}

/* the one place a client secret is printed; the caller wipes it afterwards */
static lk_code print_with_secret(lk_cli_cmd *c, const char *done, const lk_service *s,
                                 const char *secret)
{
    if (c->json) {
        json_t *doc = json_object();
        json_object_set_new(doc, "service", lk_cli_service_json(s, c->op->now));
        json_object_set_new(doc, "clientSecret", json_string(secret));
        return lk_cli_emit(doc);
    }
    printf("%s service '%s' for %s.\n", done, lk_cli_clean(c->arena, s->name, true),
           lk_cli_clean(c->arena, s->user_email, true));
    lk_cli_field(c, "Client Id", s->client_id);
    lk_cli_field(c, "Client Secret", secret);
    printf("The client secret is shown only this once and stored only as a hash: keep it now.\n");
    if (s->old_secret_hash && s->old_secret_expires_at > c->op->now)
        printf("The previous secret stays valid until %s.\n",
               lk_cli_time(c, s->old_secret_expires_at, ""));
    return LK_OK;
}

static lk_code service_create(lk_cli_cmd *c)
{
    lk_service s;
    lk_client_secret secret = "";
    lk_code code = lk_service_create(c->op, lk_cli_str(c, "name"), lk_cli_str(c, "description"),
                                     lk_cli_str(c, "user"), &s, secret);
    if (code == LK_OK)
        code = print_with_secret(c, "Created", &s, secret);
    explicit_bzero(secret, sizeof secret);
    return code;
}

static lk_code service_rotate(lk_cli_cmd *c)
{
    lk_service s;
    lk_client_secret secret = "";
    lk_code code = lk_service_rotate_secret(c->op, c->arg, lk_cli_num(c, "grace"), &s, secret);
    if (code == LK_OK)
        code = print_with_secret(c, "Rotated the secret of", &s, secret);
    explicit_bzero(secret, sizeof secret);
    return code;
}

typedef struct service_rows {
    lk_service_filter f;
    lk_service *ss;
} service_rows;

static lk_code service_fetch(lk_cli_cmd *c, void *ctx, const char *after, int64_t max, size_t *n)
{
    service_rows *r = ctx;
    r->f.after = after ? strtoll(after, NULL, 10) : 0;
    r->f.limit = max;
    return lk_service_list(c->op, &r->f, &r->ss, n);
}

static json_t *service_row_json(lk_cli_cmd *c, void *ctx, size_t i)
{
    return lk_cli_service_json(&((service_rows *)ctx)->ss[i], c->op->now);
}

static void service_header(lk_table *t)
{
    lk_table_row(t, "NAME", "CLIENT ID", "USER", "CREATED");
}

static void service_cells(lk_cli_cmd *c, void *ctx, size_t i, lk_table *t)
{
    const lk_service *s = &((service_rows *)ctx)->ss[i];
    lk_table_row(t, s->name, s->client_id, s->user_email, lk_cli_time(c, s->created_at, ""));
}

static const char *service_cursor(lk_cli_cmd *c, void *ctx, size_t i)
{
    return lk_cli_i64(c, ((service_rows *)ctx)->ss[i].id);
}

static const lk_cli_listing SERVICE_LIST = {
    .key = "services", .noun = "services", .ncols = 4, .header = service_header, .fetch = service_fetch,
    .json = service_row_json, .cells = service_cells, .cursor = service_cursor,
};

static lk_code service_list(lk_cli_cmd *c)
{
    service_rows rows = {.f = {.search = lk_cli_str(c, "search")}};
    const char *owner = lk_cli_str(c, "user");
    if (owner) {
        lk_user u;
        lk_code code = lk_user_find(c->op, owner, &u);
        if (code != LK_OK)
            return code;
        rows.f.user_id = u.id;
    }
    if (!lk_cli_cursor_ok(lk_cli_str(c, "after"), false))
        return lk_cli_usage(c, "after", "--after must be the id the previous list's note gave");
    return lk_cli_listing_run(c, &SERVICE_LIST, &rows, lk_cli_num(c, "limit"), lk_cli_str(c, "after"));
}

static lk_code service_show(lk_cli_cmd *c)
{
    lk_service s;
    lk_code code = lk_service_find(c->op, c->arg, &s);
    if (code != LK_OK)
        return code;
    if (c->json)
        return lk_cli_emit1("service", lk_cli_service_json(&s, c->op->now));
    print_service(c, &s);
    return LK_OK;
}

static lk_code service_update(lk_cli_cmd *c)
{
    const char *name = lk_cli_str(c, "name"), *desc = lk_cli_str(c, "description");
    if (!name && !desc)
        return lk_cli_usage(c, "", "nothing to change: give --name or --description; see "
                                   "'latchkey service update --help'");
    lk_service s;
    lk_code code = lk_service_update(c->op, c->arg, name, desc, &s);
    if (code != LK_OK)
        return code;
    if (c->json)
        return lk_cli_emit1("service", lk_cli_service_json(&s, c->op->now));
    printf("Updated service '%s'.\n", lk_cli_clean(c->arena, s.name, true));
    print_service(c, &s);
    return LK_OK;
}

static lk_code service_delete(lk_cli_cmd *c)
{
    lk_code code = lk_service_delete(c->op, c->arg);
    if (code != LK_OK)
        return code;
    if (c->json)
        return lk_cli_emit_deleted("service", c->arg);
    printf("Deleted service '%s'; its tokens no longer work.\n",
           lk_cli_clean(c->arena, c->arg, true));
    return LK_OK;
}

static const lk_cli_opt create_opts[] = {
    {.name = "name", .kind = LK_CLI_TEXT, .meta = "NAME", .required = true,
     .help = "the display name, unique"},
    {.name = "user", .kind = LK_CLI_TEXT, .meta = "EMAIL", .required = true,
     .help = "the owning API-only user (email or user id)"},
    {.name = "description", .kind = LK_CLI_TEXT, .meta = "TEXT", .help = "what the service is for"},
    {.name = NULL},
};

static const lk_cli_opt list_opts[] = {
    {.name = "search", .kind = LK_CLI_TEXT, .meta = "TEXT",
     .help = "only services whose name or owner's email contains each word, or with this client id"},
    {.name = "user", .kind = LK_CLI_TEXT, .meta = "EMAIL", .help = "only the services of this API-only user"},
    {.name = "limit", .kind = LK_CLI_COUNT, .meta = "N", .max = LK_CLI_LIMIT_MAX, .dflt = LK_CLI_LIMIT_DEFAULT,
     .help = "at most N services (default 100), 0 for all"},
    {.name = "after", .kind = LK_CLI_TEXT, .meta = "ID", .help = "the services after this one (the note's --after)"},
    {.name = NULL},
};

static const lk_cli_opt update_opts[] = {
    {.name = "name", .kind = LK_CLI_TEXT, .meta = "NEW", .help = "a new display name, unique"},
    {.name = "description", .kind = LK_CLI_TEXT, .meta = "TEXT", .help = "a new description"},
    {.name = NULL},
};

static const lk_cli_opt rotate_opts[] = {
    {.name = "grace", .kind = LK_CLI_COUNT, .meta = "SECONDS", .max = GRACE_MAX, .dflt = 0,
     .help = "how long the previous secret stays valid"},
    {.name = NULL},
};

static const lk_cli_verb verbs[] = {
    {.name = "create", .opts = create_opts, .run = service_create,
     .summary = "create a custom service and print its client id and secret",
     .help = "Creates a custom service owned by an active API-only user; the service acts\n"
             "with exactly that user's Access API permissions. Prints the client id and the\n"
             "client secret: the secret is shown this once and stored only as a hash.\n"},
    {.name = "list", .read_only = true, .opts = list_opts, .run = service_list,
     .summary = "list the custom services",
     .help = "Lists the custom services with their client ids and owners, in the order they\n"
             "were created: at most --limit of them (100 by default); when more match, a note\n"
             "on stderr gives the --after that lists the next ones.\n"},
    {.name = "show", .read_only = true, .arg = "NAME", .run = service_show,
     .summary = "show a service (the secret masked)",
     .help = "Shows a service, named by display name or client id. The secret is masked:\n"
             "only its hash is stored; use rotate-secret for a new one.\n"},
    {.name = "update", .arg = "NAME", .opts = update_opts, .run = service_update,
     .summary = "rename a service or change its description",
     .help = "Changes a service's display name or description (Edit Service). Its client id,\n"
             "secret, owner and tokens stay as they are.\n"},
    {.name = "rotate-secret", .arg = "NAME", .opts = rotate_opts, .run = service_rotate,
     .summary = "give a service a new client secret",
     .help = "Gives a service a new client secret and prints it, this once. The previous\n"
             "secret stops working at once, or after --grace seconds (at most 30 days).\n"},
    {.name = "delete", .arg = "NAME", .run = service_delete,
     .summary = "delete a service (revokes its tokens)",
     .help = "Deletes a service; its tokens stop working at once.\n"},
    {.name = NULL},
};

const lk_cli_noun lk_cli_noun_service = {
    .name = "service",
    .summary = "LaunchPoint custom services, each a client id and secret for an "
               "integration",
    .verbs = verbs,
};
