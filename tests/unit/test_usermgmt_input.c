/* test_usermgmt_input — the user management API's JSON bodies, read into the core's records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "api/usermgmt_input.h"

#include <string.h>

#define PARSE_INVITE(json) lk_um_parse_invite(&a, json, strlen(json), &in, &p)

static void invite_reads_every_field(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    lk_user_input in;
    lk_um_problem p = {0};
    assert_true(PARSE_INVITE("{\"emailAddress\":\"bot@x.com\",\"firstName\":\"Bot\",\"lastName\":\"One\","
                             "\"userid\":\"login@x.com\",\"apiOnly\":true,\"expiresAt\":\"2027-12-31T23:59:59-05:00\","
                             "\"reason\":\"sync\",\"unknown\":[1,2],"
                             "\"userRoleWorkspaces\":[{\"accessRoleId\":3,\"workspaceId\":0},"
                             "{\"accessRoleId\":\"4\",\"workspaceId\":\"12\"}]}"));
    assert_string_equal(in.email, "bot@x.com");
    assert_string_equal(in.first_name, "Bot");
    assert_string_equal(in.last_name, "One");
    assert_string_equal(in.userid, "login@x.com");
    assert_string_equal(in.expires, "2027-12-31T23:59:59-05:00");
    assert_string_equal(in.reason, "sync");
    assert_true(in.api_only);
    assert_int_equal(in.n_grants, 2);
    assert_null(in.grants[0].role);
    assert_int_equal(in.grants[0].role_id, 3);
    assert_string_equal(in.grants[0].workspace, "0");
    assert_int_equal(in.grants[1].role_id, 4);
    assert_string_equal(in.grants[1].workspace, "12");
    lk_arena_free(&a);
}

static void invite_defaults(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    lk_user_input in;
    lk_um_problem p = {0};
    assert_true(PARSE_INVITE("{\"emailAddress\":\"p@x.com\",\"firstName\":\"P\",\"lastName\":\"Q\",\"userid\":\"\","
                             "\"expiresAt\":null,\"userRoleWorkspaces\":[{\"accessRoleId\":1,\"workspaceId\":0}]}"));
    assert_false(in.api_only);
    assert_null(in.userid);
    assert_null(in.expires);
    assert_null(in.reason);
    lk_arena_free(&a);
}

static void invite_problems(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        int code;
        const char *message;
    } cases[] = {
        {"{\"firstName\":", LK_UM_BAD_JSON, "Invalid JSON"},
        {"{\"a\":1,\"a\":2}", LK_UM_BAD_JSON, "Invalid JSON"},
        {"", LK_UM_BAD_JSON, "Invalid JSON"},
        {"[]", LK_UM_INVALID, "the body must be a JSON object"},
        {"{}", LK_UM_BLANK, "emailAddress cannot be blank"},
        {"{\"emailAddress\":\"a@b.c\",\"firstName\":\"\",\"lastName\":\"L\"}", LK_UM_BLANK, "firstName cannot be blank"},
        {"{\"emailAddress\":\"a@b.c\",\"firstName\":\"F\",\"lastName\":null}", LK_UM_BLANK, "lastName cannot be blank"},
        {"{\"emailAddress\":\"a@b.c\",\"firstName\":\"F\",\"lastName\":\"L\"}", LK_UM_BLANK,
         "userRoleWorkspaces cannot be blank"},
        {"{\"emailAddress\":\"a@b.c\",\"firstName\":\"F\",\"lastName\":\"L\",\"userRoleWorkspaces\":[]}", LK_UM_BLANK,
         "userRoleWorkspaces cannot be blank"},
        {"{\"emailAddress\":7,\"firstName\":\"F\",\"lastName\":\"L\"}", LK_UM_INVALID, "emailAddress must be a string"},
        {"{\"emailAddress\":\"a@b.c\",\"firstName\":\"F\",\"lastName\":\"L\",\"userRoleWorkspaces\":{}}",
         LK_UM_INVALID, "userRoleWorkspaces must be an array"},
        {"{\"emailAddress\":\"a@b.c\",\"firstName\":\"F\",\"lastName\":\"L\",\"userRoleWorkspaces\":[{\"workspaceId\":0}]}",
         LK_UM_BLANK, "accessRoleId cannot be blank"},
        {"{\"emailAddress\":\"a@b.c\",\"firstName\":\"F\",\"lastName\":\"L\",\"userRoleWorkspaces\":[{\"accessRoleId\":1}]}",
         LK_UM_BLANK, "workspaceId cannot be blank"},
        {"{\"emailAddress\":\"a@b.c\",\"firstName\":\"F\",\"lastName\":\"L\","
         "\"userRoleWorkspaces\":[{\"accessRoleId\":-1,\"workspaceId\":0}]}",
         LK_UM_INVALID, "accessRoleId must not be negative"},
        {"{\"emailAddress\":\"a@b.c\",\"firstName\":\"F\",\"lastName\":\"L\","
         "\"userRoleWorkspaces\":[{\"accessRoleId\":1.5,\"workspaceId\":0}]}",
         LK_UM_INVALID, "accessRoleId must be a whole number"},
        {"{\"emailAddress\":\"a@b.c\",\"firstName\":\"F\",\"lastName\":\"L\",\"apiOnly\":\"yes\","
         "\"userRoleWorkspaces\":[{\"accessRoleId\":1,\"workspaceId\":0}]}",
         LK_UM_INVALID, "apiOnly must be true or false"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        lk_arena a = LK_ARENA_INIT;
        lk_user_input in;
        lk_um_problem p = {0};
        assert_false(PARSE_INVITE(cases[i].json));
        assert_int_equal(p.code, cases[i].code);
        assert_string_equal(p.message, cases[i].message);
        lk_arena_free(&a);
    }
}

static void update_fields_and_clearing_expiry(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    lk_user_change ch;
    int api_only;
    lk_um_problem p = {0};
    const char *j = "{\"firstName\":\"Robo\",\"expiresAt\":null,\"apiOnly\":false}";
    assert_true(lk_um_parse_update(&a, j, strlen(j), &ch, &api_only, &p));
    assert_string_equal(ch.first_name, "Robo");
    assert_null(ch.last_name);
    assert_null(ch.email);
    assert_string_equal(ch.expires, "never");
    assert_int_equal(api_only, 0);
    j = "{\"lastName\":\"X\"}";
    assert_true(lk_um_parse_update(&a, j, strlen(j), &ch, &api_only, &p));
    assert_null(ch.expires);
    assert_int_equal(api_only, -1);
    j = "{\"emailAddress\":\"\"}";
    assert_false(lk_um_parse_update(&a, j, strlen(j), &ch, &api_only, &p));
    assert_int_equal(p.code, LK_UM_BLANK);
    assert_string_equal(p.message, "emailAddress cannot be blank");
    lk_arena_free(&a);
}

static void grants_both_shapes(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    lk_grant_ref *g;
    size_t n;
    lk_um_problem p = {0};
    const char *bare = "[{\"accessRoleId\":2,\"workspaceId\":1}]";
    assert_true(lk_um_parse_grants(&a, bare, strlen(bare), &g, &n, &p));
    assert_int_equal(n, 1);
    assert_int_equal(g[0].role_id, 2);
    assert_string_equal(g[0].workspace, "1");
    const char *wrapped = "{\"input\":[{\"accessRoleId\":2,\"workspaceId\":0},{\"accessRoleId\":5,\"workspaceId\":0}]}";
    assert_true(lk_um_parse_grants(&a, wrapped, strlen(wrapped), &g, &n, &p));
    assert_int_equal(n, 2);
    assert_int_equal(g[1].role_id, 5);
    const char *empty = "{\"input\":[]}";
    assert_false(lk_um_parse_grants(&a, empty, strlen(empty), &g, &n, &p));
    assert_int_equal(p.code, LK_UM_BLANK);
    assert_string_equal(p.message, "input cannot be blank");
    const char *scalar = "7";
    assert_false(lk_um_parse_grants(&a, scalar, strlen(scalar), &g, &n, &p));
    assert_int_equal(p.code, LK_UM_INVALID);
    lk_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(invite_reads_every_field),
        cmocka_unit_test(invite_defaults),
        cmocka_unit_test(invite_problems),
        cmocka_unit_test(update_fields_and_clearing_expiry),
        cmocka_unit_test(grants_both_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
