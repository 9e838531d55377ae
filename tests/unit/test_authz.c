/*
 * test_authz — the trust rules of core/authz.h, through the core calls every front
 * end uses: what a console person and a token caller hold (Admin in AllZones is the
 * superuser for people only; AllZones covers every workspace, not the other way
 * round; a token holds only Access API permissions and Access Users); no grant of a
 * role whose permissions the caller lacks there; no role edit beyond the caller's
 * permissions in the workspaces where the role is held; no act on a more powerful
 * user (LaunchPoint included); never the caller's own roles, expiry or lock state.
 * Each refusal changes nothing but leaves one "Denied" audit event; the CLI (no
 * caller) may do everything; an email change tells the old address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "expect.h"
#include "fixture.h"
#include "core/authz.h"
#include "core/audit.h"
#include "core/mailq.h"
#include "core/password.h"
#include "core/role.h"
#include "core/service.h"
#include "core/user.h"
#include "core/workspace.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define PW "correct horse battery staple"

/* Roles: "API Only" (an integration's), "Integrations" (the user management API's
 * two keys and a lead permission), "Users Keeper" (Access Users), "Roles Keeper"
 * (Access Roles), "Launcher" (Access LaunchPoint), "Writer" (Read-Write Lead), and a
 * workspace "Europe". */
static void make_world(lk_fixture *f)
{
    static const char *const api_only[] = {"Read-Only Lead", "Read-Write Lead"};
    static const char *const integrations[] = {"Access User Management Api", "Access Users", "Read-Only Lead",
                                               "Read-Write Lead"};
    static const char *const users[] = {"Access Users"};
    static const char *const roles[] = {"Access Roles"};
    static const char *const launcher[] = {"Access LaunchPoint"};
    static const char *const writer[] = {"Read-Write Lead"};
    struct {
        const char *name;
        const char *const *perms;
        size_t n;
    } all[] = {
        {"API Only", api_only, 2}, {"Integrations", integrations, 4}, {"Users Keeper", users, 1},
        {"Roles Keeper", roles, 1}, {"Launcher", launcher, 1}, {"Writer", writer, 1},
    };
    lk_role r;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        lk_op *op = lk_fixture_op(f);
        expect_ok(op, lk_role_create(op, all[i].name, NULL, (const char **)all[i].perms, all[i].n, &r));
    }
    lk_workspace w;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_workspace_create(op, "Europe", NULL, &w));
}

static int setup(void **state)
{
    if (lk_fixture_setup(state) != 0)
        return -1;
    make_world(*state);
    return 0;
}

/* a fresh op acting for caller */
static lk_op *as(lk_fixture *f, const lk_caller *caller)
{
    lk_op *op = lk_fixture_op(f);
    op->caller = caller;
    op->actor = "user:caller@example.com";
    return op;
}

/* a person holding exactly these grants ("Role" or "Role@Workspace"), invited by the
 * CLI; active (as if the invitation were accepted) unless pending */
static lk_user person_as(lk_fixture *f, const char *email, const char *const *grants, size_t n, bool pending)
{
    lk_grant_ref refs[8];
    for (size_t i = 0; i < n; i++) {
        const char *at = strchr(grants[i], '@');
        refs[i] = (lk_grant_ref){.role = at ? lk_arena_strndup(&f->arena, grants[i], (size_t)(at - grants[i]))
                                            : grants[i],
                                 .workspace = at ? at + 1 : NULL};
    }
    lk_user_input in = {.email = email, .first_name = "Pat", .last_name = "Person", .grants = refs, .n_grants = n};
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    if (pending)
        return u;
    u.status = LK_STATUS_ACTIVE;
    expect_ok(op, f->store->ops->begin(f->store, &op->err));
    expect_ok(op, f->store->ops->user_update(f->store, &u, &op->err));
    expect_ok(op, f->store->ops->commit(f->store, &op->err));
    return u;
}

static lk_user person(lk_fixture *f, const char *email, const char *const *grants, size_t n)
{
    return person_as(f, email, grants, n, false);
}

static lk_caller person_caller(const lk_user *u)
{
    return (lk_caller){.kind = LK_CALLER_PERSON, .user_id = u->id};
}

static lk_caller token_caller(const lk_user *u)
{
    return (lk_caller){.kind = LK_CALLER_TOKEN, .user_id = u->id};
}

/* the refusal rc of op: LK_EDENIED naming needle; nothing changed but one Denied
 * event (action `attempted`, target `target`), whose details are returned (decref) */
static json_t *expect_denied_at(int line, lk_fixture *f, lk_op *op, lk_code rc, snapshot before, const char *needle,
                                const char *attempted, const char *target)
{
    expect_err_at(line, op, rc, LK_EDENIED, NULL, needle);
    if (strncmp(op->err.msg, "Access denied: ", 15) != 0)
        fail_msg("line %d: message '%s' does not start with 'Access denied: '", line, op->err.msg);
    char msg[LK_ERR_MSG];
    snprintf(msg, sizeof msg, "%s", op->err.msg); /* op is the fixture's, which the reads below reuse */
    /* every table as before, except the one Denied event */
    snapshot now = snap(f);
    for (size_t i = 0; i < N_TABLES; i++) {
        long want = before.n[i] + (strcmp(TABLES[i], "audit_events") == 0);
        if (now.n[i] != want)
            fail_msg("line %d: table %s: %ld rows, expected %ld", line, TABLES[i], now.n[i], want);
    }
    lk_audit_event ev = newest_event(f);
    if (strcmp(ev.area, "Denied") != 0 || strcmp(ev.action, attempted) != 0 || strcmp(ev.target, target) != 0)
        fail_msg("line %d: newest event %s/%s/%s, expected Denied/%s/%s", line, ev.area, ev.action, ev.target,
                 attempted, target);
    if (strcmp(ev.actor, "user:caller@example.com") != 0)
        fail_msg("line %d: the Denied event's actor is %s", line, ev.actor);
    json_t *d = json_loads(ev.details, 0, NULL);
    if (!d || strcmp(json_string_value(json_object_get(d, "message")), msg) != 0)
        fail_msg("line %d: the Denied event's details do not carry the message: %s", line, ev.details);
    return d;
}
#define expect_denied(f, op, rc, before, needle, attempted, target) \
    expect_denied_at(__LINE__, f, op, rc, before, needle, attempted, target)

/* the missing permission and workspace a Denied event names */
static void expect_missing(json_t *d, const char *perm, const char *ws)
{
    json_t *m = json_object_get(d, "missing");
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "permission")), perm);
    if (ws)
        assert_string_equal(json_string_value(json_object_get(m, "workspace")), ws);
    json_decref(d);
}

/* ---- holdings --------------------------------------------------------------------- */

static void holdings_of_people_and_tokens(void **state)
{
    lk_fixture *f = *state;
    lk_user admin = setup_admin(f, "ada@example.com", PW);
    const char *const eu[] = {"Users Keeper@Europe", "API Only"};
    lk_user pat = person(f, "pat@example.com", eu, 2);
    lk_user bot = invite_api(f, "bot@example.com", "Integrations", NULL);
    lk_op *op = lk_fixture_op(f);

    lk_holdings h;
    expect_ok(op, lk_holdings_of(op, &admin, LK_CALLER_PERSON, &h));
    assert_true(h.superuser);
    assert_true(lk_holds(&h, "Read-Write Lead", 2));               /* Access API ones too */
    assert_true(lk_holds(&h, "access roles", LK_WORKSPACE_DEFAULT)); /* any case */
    size_t n_admin = 0;
    lk_holdings_names(op, &h, LK_GROUP_ADMIN, &n_admin);
    assert_int_equal(n_admin, 7);                                     /* every Access Admin permission */

    expect_ok(op, lk_holdings_of(op, &pat, LK_CALLER_PERSON, &h));
    assert_false(h.superuser);
    lk_workspace europe;
    expect_ok(op, lk_workspace_find(op, "Europe", &europe));
    assert_true(lk_holds(&h, "Access Users", europe.id));
    assert_false(lk_holds(&h, "Access Users", LK_WORKSPACE_DEFAULT));  /* another workspace */
    assert_false(lk_holds(&h, "Access Users", LK_WORKSPACE_ALLZONES)); /* Europe does not cover AllZones */
    assert_true(lk_holds(&h, "Access Users", LK_WORKSPACE_ANY));
    assert_true(lk_holds(&h, "Read-Only Lead", europe.id));            /* AllZones covers Europe */
    assert_false(lk_holds(&h, "Access Roles", LK_WORKSPACE_ANY));
    size_t n = 0;
    const char **names = lk_holdings_names(op, &h, LK_GROUP_ADMIN, &n);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "Access Users");

    /* a token: Access API permissions and Access Users only -- never the superuser,
     * even with the Admin role */
    lk_user_change give = {.add = &(lk_grant_ref){.role = "Admin"}, .n_add = 1};
    lk_user out;
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "bot@example.com", &give, &out));
    op = lk_fixture_op(f);
    expect_ok(op, lk_holdings_of(op, &out, LK_CALLER_TOKEN, &h));
    assert_false(h.superuser);
    assert_true(lk_holds(&h, "Access Users", LK_WORKSPACE_ALLZONES));
    assert_true(lk_holds(&h, "Access User Management Api", LK_WORKSPACE_DEFAULT));
    assert_false(lk_holds(&h, "Access Roles", LK_WORKSPACE_ANY));
    assert_false(lk_holds(&h, "Access Audit Trail", LK_WORKSPACE_ANY));
    assert_false(lk_holds(&h, "Approve Assets", LK_WORKSPACE_ANY));
    (void)bot;

    assert_true(lk_authz_applies(LK_CALLER_TOKEN, LK_GROUP_API, "Read-Only Lead"));
    assert_true(lk_authz_applies(LK_CALLER_TOKEN, LK_GROUP_ADMIN, "Access Users"));
    assert_false(lk_authz_applies(LK_CALLER_TOKEN, LK_GROUP_ADMIN, "Access Roles"));
    assert_true(lk_authz_applies(LK_CALLER_PERSON, LK_GROUP_ADMIN, "Access Roles"));
}

/* ---- a token (the user management API) ------------------------------------------- */

static void token_cannot_become_or_make_an_admin(void **state)
{
    lk_fixture *f = *state;
    setup_admin(f, "ada@example.com", PW);
    lk_user bot = invite_api(f, "bot@example.com", "Integrations", NULL);
    lk_user peer = invite_api(f, "peer@example.com", "API Only", NULL);
    lk_caller me = token_caller(&bot);

    /* invite someone with the Admin role */
    lk_grant_ref admin = {.role = "Admin"};
    lk_user_input in = {.email = "evil@example.com", .first_name = "E", .last_name = "Vil", .grants = &admin,
                        .n_grants = 1};
    lk_user out;
    snapshot s = snap(f);
    lk_op *op = as(f, &me);
    expect_missing(expect_denied(f, op, lk_user_invite(op, &in, &out, NULL), s, "'Access Audit Trail'",
                                 "User Create", "evil@example.com"),
                   "Access Audit Trail", "AllZones");

    /* roles/create.json: Admin to itself (its own roles) or to another */
    lk_user_change add = {.add = &admin, .n_add = 1};
    s = snap(f);
    op = as(f, &me);
    json_decref(expect_denied(f, op, lk_user_update(op, "bot@example.com", &add, &out), s, "your own roles",
                              "User Edit", "bot@example.com"));
    s = snap(f);
    op = as(f, &me);
    expect_missing(expect_denied(f, op, lk_user_update(op, "peer@example.com", &add, &out), s, "'Admin'",
                                 "User Edit", "peer@example.com"),
                   "Access Audit Trail", "AllZones");

    /* take over the Admin: change the email (then "forgot password"), lock, delete */
    lk_user_change email = {.email = "mine@evil.example"};
    s = snap(f);
    op = as(f, &me);
    expect_missing(expect_denied(f, op, lk_user_update(op, "ada@example.com", &email, &out), s,
                                 "ada@example.com holds", "User Edit", "ada@example.com"),
                   "Access Audit Trail", "AllZones");
    assert_string_equal(lk_fixture_text(f, "SELECT count(*) FROM mail_queue WHERE kind = 'email_changed'"), "0");
    s = snap(f);
    op = as(f, &me);
    json_decref(expect_denied(f, op, lk_user_lock(op, "ada@example.com", NULL, &out), s, "Access denied",
                              "User Lock", "ada@example.com"));
    s = snap(f);
    op = as(f, &me);
    json_decref(expect_denied(f, op, lk_user_delete_scoped(op, "ada@example.com", LK_SCOPE_ACCEPTED), s,
                              "Access denied", "User Delete", "ada@example.com"));

    /* what it holds it may give: an API user with a role of its own permissions */
    lk_grant_ref api = {.role = "API Only"};
    lk_user_input ok = {.email = "new-bot@example.com", .first_name = "N", .last_name = "B", .api_only = true,
                        .grants = &api, .n_grants = 1};
    op = as(f, &me);
    expect_ok(op, lk_user_invite(op, &ok, &out, NULL));
    lk_user_change rename = {.last_name = "Renamed"};
    op = as(f, &me);
    expect_ok(op, lk_user_update(op, "peer@example.com", &rename, &out));
    (void)peer;
}

static void token_cannot_extend_itself(void **state)
{
    lk_fixture *f = *state;
    lk_user bot = invite_api(f, "bot@example.com", "Integrations", "2099-01-01");
    lk_caller me = token_caller(&bot);
    lk_user out;
    lk_user_change never = {.expires = "never"};
    snapshot s = snap(f);
    lk_op *op = as(f, &me);
    json_t *d = expect_denied(f, op, lk_user_update(op, "bot@example.com", &never, &out), s,
                              "you cannot change your own access expiry", "User Edit", "bot@example.com");
    assert_string_equal(json_string_value(json_object_get(d, "self")), "access expiry");
    json_decref(d);
    lk_user_change later = {.expires = "2100-01-01"};
    s = snap(f);
    op = as(f, &me);
    json_decref(expect_denied(f, op, lk_user_update(op, "bot@example.com", &later, &out), s, "own access expiry",
                              "User Edit", "bot@example.com"));
    /* dropping a role of its own is a change of its roles too */
    lk_grant_ref own = {.role = "Integrations"};
    lk_user_change drop = {.remove = &own, .n_remove = 1, .add = &(lk_grant_ref){.role = "API Only"}, .n_add = 1};
    s = snap(f);
    op = as(f, &me);
    json_decref(expect_denied(f, op, lk_user_update(op, "bot@example.com", &drop, &out), s, "own roles",
                              "User Edit", "bot@example.com"));
    /* its names it may change; the same expiry again is no change */
    lk_user_change name = {.first_name = "Robo", .expires = "2099-01-01"};
    op = as(f, &me);
    expect_ok(op, lk_user_update(op, "bot@example.com", &name, &out));
    assert_string_equal(out.first_name, "Robo");
}

/* ---- console people ------------------------------------------------------------------ */

static void users_keeper_cannot_raise_itself(void **state)
{
    lk_fixture *f = *state;
    setup_admin(f, "ada@example.com", PW);
    const char *const g[] = {"Users Keeper"};
    lk_user keeper = person(f, "keeper@example.com", g, 1);
    lk_caller me = person_caller(&keeper);
    lk_user out;

    /* make itself Admin, in the console's way: the full set of grants */
    lk_grant_ref want[] = {{.role = "Users Keeper"}, {.role = "Admin"}};
    lk_user_change set = {.set_grants = true, .set = want, .n_set = 2};
    snapshot s = snap(f);
    lk_op *op = as(f, &me);
    json_decref(expect_denied(f, op, lk_user_update(op, "keeper@example.com", &set, &out), s, "own roles",
                              "User Edit", "keeper@example.com"));
    /* nor through someone else it made */
    lk_grant_ref api = {.role = "API Only"}, admin = {.role = "Admin"}, same = {.role = "Users Keeper"};
    lk_user_input helper = {.email = "helper@example.com", .first_name = "H", .last_name = "P", .grants = &admin,
                            .n_grants = 1};
    s = snap(f);
    op = as(f, &me);
    json_decref(expect_denied(f, op, lk_user_invite(op, &helper, &out, NULL), s, "role 'Admin' includes",
                              "User Create", "helper@example.com"));
    /* an API-only user with an Access API role it does not hold */
    lk_user_input bot = {.email = "bot@example.com", .first_name = "B", .last_name = "O", .api_only = true,
                         .grants = &api, .n_grants = 1};
    s = snap(f);
    op = as(f, &me);
    expect_missing(expect_denied(f, op, lk_user_invite(op, &bot, &out, NULL), s, "'Read-Only Lead'", "User Create",
                                 "bot@example.com"),
                   "Read-Only Lead", "AllZones");
    /* a colleague with its own role: fine, and it may then act on them */
    helper.grants = &same;
    op = as(f, &me);
    expect_ok(op, lk_user_invite(op, &helper, &out, NULL));
    op = as(f, &me);
    lk_invitation inv;
    expect_ok(op, lk_user_resend_invitation(op, "helper@example.com", NULL, 0, &inv));
    op = as(f, &me);
    expect_ok(op, lk_user_delete_scoped(op, "helper@example.com", LK_SCOPE_PENDING));
    /* lock, unlock, reset itself: never its own lock state */
    s = snap(f);
    op = as(f, &me);
    json_decref(expect_denied(f, op, lk_user_lock(op, "keeper@example.com", NULL, &out), s, "own lock state",
                              "User Lock", "keeper@example.com"));
}

static void no_act_on_someone_more_powerful(void **state)
{
    lk_fixture *f = *state;
    lk_user ada = setup_admin(f, "ada@example.com", PW);
    const char *const k[] = {"Users Keeper"};
    lk_user keeper = person(f, "keeper@example.com", k, 1);
    const char *const w[] = {"Writer", "Users Keeper"};
    person_as(f, "writer@example.com", w, 2, true);
    lk_caller me = person_caller(&keeper);
    lk_user out;
    /* the Admin: lock, reset the password, change the email */
    snapshot s = snap(f);
    lk_op *op = as(f, &me);
    json_decref(expect_denied(f, op, lk_password_reset_request(op, "ada@example.com", 0, &out), s,
                              "ada@example.com holds", "User Reset Password", "ada@example.com"));
    /* a pending person holding a permission the keeper lacks: resend or delete the invitation */
    lk_invitation inv;
    s = snap(f);
    op = as(f, &me);
    expect_missing(expect_denied(f, op, lk_user_resend_invitation(op, "writer@example.com", NULL, 0, &inv), s,
                                 "'Read-Write Lead'", "User Resend Invitation", "writer@example.com"),
                   "Read-Write Lead", "AllZones");
    s = snap(f);
    op = as(f, &me);
    json_decref(expect_denied(f, op, lk_user_delete_scoped(op, "writer@example.com", LK_SCOPE_PENDING), s,
                              "Access denied", "User Delete Invitation", "writer@example.com"));
    /* the Admin may do all of it */
    lk_caller boss = person_caller(&ada);
    op = as(f, &boss);
    expect_ok(op, lk_user_resend_invitation(op, "writer@example.com", NULL, 0, &inv));
    op = as(f, &boss);
    expect_ok(op, lk_user_delete_scoped(op, "writer@example.com", LK_SCOPE_PENDING));
}

static void workspaces_bound_grants(void **state)
{
    lk_fixture *f = *state;
    setup_admin(f, "ada@example.com", PW);
    const char *const g[] = {"Users Keeper@Europe", "Writer@Europe"};
    lk_user eu = person(f, "eu@example.com", g, 2);
    lk_caller me = person_caller(&eu);
    lk_user out;
    lk_grant_ref in_allzones = {.role = "Writer"}, in_default = {.role = "Writer", .workspace = "Default"},
                 in_europe = {.role = "Writer", .workspace = "Europe"};
    lk_user_input in = {.email = "w@example.com", .first_name = "W", .last_name = "R", .grants = &in_allzones,
                        .n_grants = 1};
    snapshot s = snap(f);
    lk_op *op = as(f, &me);
    expect_missing(expect_denied(f, op, lk_user_invite(op, &in, &out, NULL), s, "in workspace 'AllZones'",
                                 "User Create", "w@example.com"),
                   "Read-Write Lead", "AllZones");
    in.grants = &in_default;
    s = snap(f);
    op = as(f, &me);
    expect_missing(expect_denied(f, op, lk_user_invite(op, &in, &out, NULL), s, "in workspace 'Default'",
                                 "User Create", "w@example.com"),
                   "Read-Write Lead", "Default");
    in.grants = &in_europe;
    op = as(f, &me);
    expect_ok(op, lk_user_invite(op, &in, &out, NULL));
    /* a user holding something in AllZones is beyond a Europe-only keeper */
    const char *const az[] = {"Writer"};
    person_as(f, "global@example.com", az, 1, true);
    s = snap(f);
    op = as(f, &me);
    json_decref(expect_denied(f, op, lk_user_delete_scoped(op, "global@example.com", LK_SCOPE_PENDING), s,
                              "in workspace 'AllZones', which global@example.com holds", "User Delete Invitation",
                              "global@example.com"));
}

static void roles_only_with_held_permissions(void **state)
{
    lk_fixture *f = *state;
    setup_admin(f, "ada@example.com", PW);
    const char *const g[] = {"Roles Keeper"};
    lk_user rk = person(f, "rk@example.com", g, 1);
    lk_caller me = person_caller(&rk);
    lk_role out;

    /* add every Access Admin permission to the role it holds */
    static const char *const more[] = {"Access Roles", "Access Users", "Access LaunchPoint"};
    lk_role_change grow = {.set_perms = true, .set = more, .n_set = 3};
    snapshot s = snap(f);
    lk_op *op = as(f, &me);
    expect_missing(expect_denied(f, op, lk_role_update(op, "Roles Keeper", &grow, &out), s,
                                 "'Access Users' in workspace 'AllZones', where role 'Roles Keeper' is held",
                                 "Role Edit", "Roles Keeper"),
                   "Access Users", "AllZones");
    lk_role_change add = {.add = (const char *[]){"Access Users"}, .n_add = 1};
    s = snap(f);
    op = as(f, &me);
    json_decref(expect_denied(f, op, lk_role_update(op, "Roles Keeper", &add, &out), s, "'Access Users'",
                              "Role Edit", "Roles Keeper"));
    /* create one with a permission it lacks */
    static const char *const lead[] = {"Read-Only Lead"};
    s = snap(f);
    op = as(f, &me);
    expect_missing(expect_denied(f, op, lk_role_create(op, "Readers", NULL, lead, 1, &out), s,
                                 "a role can only have permissions you hold", "Role Create", "Readers"),
                   "Read-Only Lead", NULL);
    /* edit or delete a role with permissions it lacks (even only removing them) */
    lk_role_change rename = {.name = "Writers"};
    s = snap(f);
    op = as(f, &me);
    json_decref(expect_denied(f, op, lk_role_update(op, "Writer", &rename, &out), s, "'Read-Write Lead'",
                              "Role Edit", "Writer"));
    s = snap(f);
    op = as(f, &me);
    json_decref(expect_denied(f, op, lk_role_delete(op, "Launcher"), s, "'Access LaunchPoint'", "Role Delete",
                              "Launcher"));
    /* its own permissions: fine */
    static const char *const own[] = {"Access Roles"};
    op = as(f, &me);
    expect_ok(op, lk_role_create(op, "Role Makers", "makes roles", own, 1, &out));
    lk_role_change describe = {.description = "makes roles, nothing else"};
    op = as(f, &me);
    expect_ok(op, lk_role_update(op, "Role Makers", &describe, &out));
    op = as(f, &me);
    expect_ok(op, lk_role_delete(op, "Role Makers"));
}

static void role_edits_count_where_the_role_is_held(void **state)
{
    lk_fixture *f = *state;
    setup_admin(f, "ada@example.com", PW);
    static const char *const both[] = {"Access Roles", "Read-Write Lead"};
    lk_role r;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_role_create(op, "EU Editor", NULL, both, 2, &r));
    const char *const g[] = {"EU Editor@Europe"};
    lk_user eu = person(f, "eu@example.com", g, 1);
    lk_caller me = person_caller(&eu);
    /* "Writer" is held by someone in AllZones: an edit would change them */
    const char *const w[] = {"Writer"};
    person(f, "global@example.com", w, 1);
    lk_role_change d = {.description = "changed"};
    snapshot s = snap(f);
    op = as(f, &me);
    expect_missing(expect_denied(f, op, lk_role_update(op, "Writer", &d, &r), s,
                                 "in workspace 'AllZones', where role 'Writer' is held", "Role Edit", "Writer"),
                   "Read-Write Lead", "AllZones");
    /* the same edit once it is held in Europe only */
    lk_user_change move = {.set_grants = true, .set = &(lk_grant_ref){.role = "Writer", .workspace = "Europe"},
                           .n_set = 1};
    lk_user out;
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "global@example.com", &move, &out));
    op = as(f, &me);
    expect_ok(op, lk_role_update(op, "Writer", &d, &r));
}

static void launchpoint_hands_out_the_owners_permissions(void **state)
{
    lk_fixture *f = *state;
    lk_user ada = setup_admin(f, "ada@example.com", PW);
    invite_api(f, "bot@example.com", "API Only", NULL);
    const char *const g[] = {"Launcher"};
    lk_user lp = person(f, "lp@example.com", g, 1);
    lk_caller me = person_caller(&lp), boss = person_caller(&ada);
    lk_service s;
    lk_client_secret secret;
    snapshot before = snap(f);
    lk_op *op = as(f, &me);
    expect_missing(expect_denied(f, op, lk_service_create(op, "Sync", NULL, "bot@example.com", &s, secret), before,
                                 "bot@example.com holds", "Service Create", "bot@example.com"),
                   "Read-Only Lead", "AllZones");
    /* the Admin creates it; the launcher may not rotate, delete or take a token */
    op = as(f, &boss);
    expect_ok(op, lk_service_create(op, "Sync", NULL, "bot@example.com", &s, secret));
    before = snap(f);
    op = as(f, &me);
    json_decref(expect_denied(f, op, lk_service_rotate_secret(op, "Sync", 0, &s, secret), before, "Access denied",
                              "Service Rotate Secret", "bot@example.com"));
    before = snap(f);
    op = as(f, &me);
    json_decref(expect_denied(f, op, lk_service_delete(op, "Sync"), before, "Access denied", "Service Delete",
                              "bot@example.com"));
    before = snap(f);
    op = as(f, &me);
    json_decref(expect_denied(f, op, lk_service_may_use(op, "Service Get Token", &s), before, "Access denied",
                              "Service Get Token", "bot@example.com"));
    /* with the owner's permissions the launcher may */
    lk_user_change more = {.add = &(lk_grant_ref){.role = "API Only"}, .n_add = 1};
    lk_user out;
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "lp@example.com", &more, &out));
    op = as(f, &me);
    expect_ok(op, lk_service_may_use(op, "Service Get Token", &s));
    op = as(f, &me);
    expect_ok(op, lk_service_rotate_secret(op, "Sync", 0, &s, secret));
    op = as(f, &me);
    expect_ok(op, lk_service_delete(op, "Sync"));
}

/* ---- the console's page keys --------------------------------------------------------- */

static void require_records_outside_a_transaction(void **state)
{
    lk_fixture *f = *state;
    const char *const g[] = {"Users Keeper"};
    lk_user k = person(f, "k@example.com", g, 1);
    lk_caller me = person_caller(&k);
    lk_op *op = as(f, &me);
    expect_ok(op, lk_authz_require(op, "GET /admin/api/users", "Access Users", NULL));
    op = as(f, &me);
    expect_ok(op, lk_authz_require(op, "GET /admin/api/roles", "Access Roles", "Access Users"));
    snapshot s = snap(f);
    op = as(f, &me);
    expect_missing(expect_denied(f, op, lk_authz_require(op, "GET /admin/api/audit", "Access Audit Trail", NULL), s,
                                 "you do not hold 'Access Audit Trail'", "GET /admin/api/audit", ""),
                   "Access Audit Trail", NULL);
    s = snap(f);
    op = as(f, &me);
    json_decref(expect_denied(f, op, lk_authz_require(op, "POST /admin/api/x", "Access Roles", "Access LaunchPoint"),
                              s, "neither 'Access Roles' nor 'Access LaunchPoint'", "POST /admin/api/x", ""));
    /* a caller deleted meanwhile holds nothing */
    lk_caller gone = {.kind = LK_CALLER_PERSON, .user_id = 999};
    op = as(f, &gone);
    expect_err(op, lk_authz_require(op, "GET /admin/api/users", "Access Users", NULL), LK_EDENIED, NULL,
               "Access denied");
}

/* ---- the CLI and the email notice ---------------------------------------------------- */

static void without_a_caller_everything_goes(void **state)
{
    lk_fixture *f = *state;
    setup_admin(f, "ada@example.com", PW);
    lk_user bot = invite_api(f, "bot@example.com", "Integrations", "2099-01-01");
    lk_user out;
    lk_user_change c = {.expires = "never", .add = &(lk_grant_ref){.role = "Admin"}, .n_add = 1};
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_update(op, "bot@example.com", &c, &out));
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_lock(op, "bot@example.com", NULL, &out));
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_unlock(op, "bot@example.com", NULL, &out));
    static const char *const all[] = {"Access Roles", "Read-Only Lead", "Approve Assets"};
    lk_role r;
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_create(op, "Everything", NULL, all, 3, &r));
    lk_service s;
    lk_client_secret secret;
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_create(op, "Sync", NULL, "bot@example.com", &s, secret));
    size_t n;
    lk_audit_filter denied = {.area = "Denied"};
    list_events(f, &denied, &n);
    assert_int_equal(n, 0);
    (void)bot;
}

static void email_change_tells_the_old_address(void **state)
{
    lk_fixture *f = *state;
    lk_user ada = setup_admin(f, "ada@example.com", PW);
    const char *const g[] = {"Users Keeper"};
    person(f, "pat@example.com", g, 1);
    invite_api(f, "bot@example.com", "API Only", NULL);
    long mails = lk_fixture_count(f, "mail_queue");

    lk_caller boss = person_caller(&ada);
    lk_user out;
    lk_user_change move = {.email = "pat@elsewhere.example"};
    lk_op *op = as(f, &boss);
    expect_ok(op, lk_user_update(op, "pat@example.com", &move, &out));
    assert_int_equal(lk_fixture_count(f, "mail_queue"), mails + 1);
    assert_string_equal(lk_fixture_text(f, "SELECT kind || ' ' || recipient || ' ' || coalesce(user_id, 0) || ' ' ||"
                                           " coalesce(link_id, 0) FROM mail_queue ORDER BY id DESC LIMIT 1"),
                        "email_changed pat@example.com 0 0");
    assert_non_null(strstr(lk_fixture_text(f, "SELECT vars FROM mail_queue ORDER BY id DESC LIMIT 1"),
                           "pat@elsewhere.example"));
    /* an API-only user gets no mail, and neither does a change to the same address */
    lk_user_change bot_move = {.email = "bot2@example.com"};
    op = as(f, &boss);
    expect_ok(op, lk_user_update(op, "bot@example.com", &bot_move, &out));
    lk_user_change same = {.email = "PAT@elsewhere.example"};
    op = as(f, &boss);
    expect_ok(op, lk_user_update(op, "pat@elsewhere.example", &same, &out));
    assert_int_equal(lk_fixture_count(f, "mail_queue"), mails + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(holdings_of_people_and_tokens, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(token_cannot_become_or_make_an_admin, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(token_cannot_extend_itself, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(users_keeper_cannot_raise_itself, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(no_act_on_someone_more_powerful, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(workspaces_bound_grants, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(roles_only_with_held_permissions, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(role_edits_count_where_the_role_is_held, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(launchpoint_hands_out_the_owners_permissions, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(require_records_outside_a_transaction, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(without_a_caller_everything_goes, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(email_change_tells_the_old_address, setup, lk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
