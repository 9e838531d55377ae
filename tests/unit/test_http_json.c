/*
 * test_http_json — lk_json_text writes what json_dumps(JSON_COMPACT) writes: member
 * order, escapes, integers at their limits, nesting, and refuses what jansson
 * refuses (strings that are not UTF-8, a value that is neither object nor array);
 * and the answers written without a tree (the REST envelope, its error answers, the
 * token answer's shape) are byte for byte what their jansson trees wrote.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/envelope.h"
#include "http/jsonout.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* both writers agree on v (reference stolen) */
static void same_as_jansson(json_t *v)
{
    lk_arena a = LK_ARENA_INIT;
    char *want = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    size_t len = 0;
    char *got = lk_json_text(&a, v, &len);
    assert_non_null(want);
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    free(want);
    json_decref(v);
    lk_arena_free(&a);
}

static void shapes(void **state)
{
    (void)state;
    same_as_jansson(json_object());
    same_as_jansson(json_array());
    same_as_jansson(json_pack("{s:s, s:s, s:I, s:s}", "access_token", "abc-_DEF", "token_type", "bearer",
                              "expires_in", (json_int_t)3599, "scope", "bot@example.com"));
    same_as_jansson(json_pack("{s:s, s:[{s:s, s:I, s:[]}], s:b, s:b, s:n}", "requestId", "1f#18c", "result",
                              "date", "2026-11-28", "total", (json_int_t)0, "users", "success", 1, "no", 0,
                              "nothing"));
    /* insertion order, not key order; a replaced member keeps its place */
    json_t *o = json_object();
    json_object_set_new(o, "zeta", json_integer(1));
    json_object_set_new(o, "alpha", json_integer(2));
    json_object_set_new(o, "mid", json_integer(3));
    json_object_set_new(o, "zeta", json_integer(4));
    same_as_jansson(o);
    same_as_jansson(json_pack("[I, I, I, I, I]", (json_int_t)0, (json_int_t)-1, (json_int_t)9,
                              (json_int_t)INT64_MAX, (json_int_t)INT64_MIN));
    same_as_jansson(json_pack("[f, f, f]", 0.5, 1.0, -1e300));
    json_t *deep = json_array();
    for (int i = 0; i < 50; i++)
        deep = json_pack("{s:o, s:[o]}", "k", deep, "l", json_integer(i));
    same_as_jansson(deep);
}

static void escapes(void **state)
{
    (void)state;
    same_as_jansson(json_pack("{s:s}", "q", "say \"hi\" \\ back/slash"));
    same_as_jansson(json_pack("{s:s}", "ctl", "\b\f\n\r\t\x01\x1f\x7f end"));
    same_as_jansson(json_pack("{s:s}", "utf8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8"));
    same_as_jansson(json_pack("{s:s}", "we\"ird\nkey", "v"));
    /* an embedded NUL in a string and in a key */
    json_t *o = json_object();
    json_object_setn_new(o, "a\0b", 3, json_stringn("x\0y", 3));
    same_as_jansson(o);
    /* a long string makes the buffer grow */
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    big[100] = '\n';
    same_as_jansson(json_pack("{s:s, s:s}", "big", big, "after", "end"));
}

static void refusals(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    assert_null(lk_json_text(&a, NULL, NULL));
    json_t *s = json_string("alone");
    assert_null(lk_json_text(&a, s, NULL));
    json_decref(s);
    const char *bad[] = {"\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc3"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "v", json_stringn_nocheck(bad[i], strlen(bad[i])));
        char *want = json_dumps(o, JSON_COMPACT);
        assert_null(want); /* jansson refuses it too */
        assert_null(lk_json_text(&a, o, NULL));
        json_decref(o);
    }
    lk_arena_free(&a);
}

/* the values the answers are tried with: ordinary, needing escapes, non-ASCII, and
 * not UTF-8 at all (jansson's answer then, whatever it is) */
static const char *const VALUES[] = {
    "bot@example.com",
    "",
    "say \"hi\" \\ back/slash",
    "\b\f\n\r\t\x01\x1f\x7f end",
    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8",
    "\xff not UTF-8",
    "cut \xc3",
};
#define N_VALUES (sizeof VALUES / sizeof *VALUES)

/* a request as the server hands it to a handler, with a request id given */
static lk_request request(const char *id)
{
    lk_request r = {0};
    r.request_id = id;
    return r;
}

/* the texts the trees wrote before (json_dumps, as lk_resp_json wrote them) */
static char *tree_text(json_t *v)
{
    char *t = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(v);
    return t ? t : strdup("{}");
}

static char *old_ok(const char *id, json_t *result)
{
    json_t *env = json_object();
    json_object_set_new(env, "requestId", json_string(id));
    json_object_set_new(env, "result", result ? result : json_array());
    json_object_set_new(env, "success", json_true());
    return tree_text(env);
}

static char *old_fail(const char *id, const char *num, const char *message)
{
    json_t *env = json_object();
    json_object_set_new(env, "requestId", json_string(id));
    json_object_set_new(env, "success", json_false());
    json_object_set_new(env, "errors", json_pack("[{s:s, s:s}]", "code", num, "message", message));
    json_object_set_new(env, "warnings", json_array());
    return tree_text(env);
}

static void same_text(const lk_request *r, int status, char *want)
{
    assert_int_equal(r->status, status);
    assert_non_null(r->resp);
    assert_string_equal(r->resp, want);
    assert_int_equal(r->resp_len, strlen(want));
    assert_string_equal(r->content_type, "application/json;charset=UTF-8");
    free(want);
}

static void envelope_ok(void **state)
{
    (void)state;
    const char *ids[] = {"0a1b2c3d#18c2f00aa11", "proxy-id_1.2:3#/+=@~"};
    for (size_t k = 0; k < 2; k++) {
        lk_request r = request(ids[k]);
        lk_rest_ok(&r, NULL);
        same_text(&r, 200, old_ok(ids[k], NULL));
        lk_arena_free(&r.arena);
        for (size_t i = 0; i < N_VALUES; i++) {
            r = request(ids[k]);
            json_t *result = json_pack("[{s:s, s:I, s:[]}]", "date", "2026-12-02", "total", (json_int_t)7, "users");
            json_array_append_new(json_object_get(json_array_get(result, 0), "users"),
                                  json_pack("{s:s?, s:I}", "userId", NULL, "count", (json_int_t)3));
            json_object_set_new(json_array_get(json_object_get(json_array_get(result, 0), "users"), 0), "userId",
                                json_stringn_nocheck(VALUES[i], strlen(VALUES[i])));
            json_incref(result);
            lk_rest_ok(&r, result);
            same_text(&r, 200, old_ok(ids[k], result));
            lk_arena_free(&r.arena);
        }
    }
}

/* the text writer with the usage answer's shape, against the tree */
static void envelope_ok_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VALUES; i++) {
        lk_request r = request("0a1b2c3d#18c2f00aa11");
        lk_jw w;
        lk_rest_ok_begin(&r, &w);
        LK_JW_LIT(&w, "[{\"date\":");
        lk_jw_str(&w, "2026-12-02");
        LK_JW_LIT(&w, ",\"total\":");
        lk_jw_int(&w, INT64_MAX);
        LK_JW_LIT(&w, ",\"users\":[{\"userId\":");
        lk_jw_str(&w, VALUES[i]);
        LK_JW_LIT(&w, ",\"count\":");
        lk_jw_int(&w, -1);
        LK_JW_LIT(&w, "}]}]");
        json_t *user = json_pack("{s:s, s:I}", "userId", VALUES[i], "count", (json_int_t)-1);
        bool utf8 = user != NULL;
        json_decref(user);
        assert_int_equal(lk_rest_ok_end(&r, &w), utf8);
        if (utf8)
            same_text(&r, 200,
                      old_ok("0a1b2c3d#18c2f00aa11",
                             json_pack("[{s:s, s:I, s:[{s:s, s:I}]}]", "date", "2026-12-02", "total",
                                       (json_int_t)INT64_MAX, "users", "userId", VALUES[i], "count", (json_int_t)-1)));
        else
            assert_int_equal(r.status, 0); /* nothing answered: the caller falls back to the tree */
        lk_arena_free(&r.arena);
    }
}

static void envelope_fail(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VALUES; i++) {
        lk_request r = request("0a1b2c3d#18c2f00aa11");
        lk_rest_fail(&r, LK_REST_RATE_LIMIT, VALUES[i]);
        same_text(&r, 200, old_fail("0a1b2c3d#18c2f00aa11", "606", VALUES[i]));
        assert_string_equal(r.code, "606");
        lk_arena_free(&r.arena);
    }
    lk_request r = request("0a1b2c3d#18c2f00aa11");
    lk_rest_fail(&r, LK_REST_TOKEN_INVALID, NULL);
    same_text(&r, 200, old_fail("0a1b2c3d#18c2f00aa11", "601", "Access token invalid"));
    lk_arena_free(&r.arena);
}

static void bare_fail(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VALUES; i++) {
        lk_request r = request("0a1b2c3d#18c2f00aa11");
        lk_bare_fail(&r, 404, 610, VALUES[i]);
        same_text(&r, 404, tree_text(json_pack("{s:[{s:i, s:s}]}", "errors", "code", 610, "message", VALUES[i])));
        assert_string_equal(r.code, "610");
        lk_arena_free(&r.arena);
    }
    /* lk_rest_fail on the user management API answers the same way */
    lk_request r = request("0a1b2c3d#18c2f00aa11");
    r.bare = true;
    lk_rest_fail(&r, LK_REST_ACCESS_DENIED, NULL);
    same_text(&r, 403, tree_text(json_pack("{s:[{s:i, s:s}]}", "errors", "code", 603, "message", "Access denied")));
    lk_arena_free(&r.arena);
}

/* the token answer's shape (api/identity.c writes it so) against its tree */
static void token_shape(void **state)
{
    (void)state;
    const json_int_t expires[] = {3599, 0, -5, INT64_MAX};
    for (size_t i = 0; i < N_VALUES; i++) {
        for (size_t e = 0; e < 4; e++) {
            lk_arena a = LK_ARENA_INIT;
            lk_jw w;
            lk_jw_init(&w, &a, 16); /* small, so that it grows */
            LK_JW_LIT(&w, "{\"access_token\":");
            lk_jw_str(&w, "cdf01657-110d-4155-99a7-f986b2ff13a0:int");
            LK_JW_LIT(&w, ",\"token_type\":");
            lk_jw_str(&w, "bearer");
            LK_JW_LIT(&w, ",\"expires_in\":");
            lk_jw_int(&w, expires[e]);
            LK_JW_LIT(&w, ",\"scope\":");
            lk_jw_str(&w, VALUES[i]);
            LK_JW_LIT(&w, "}");
            size_t len = 0;
            char *got = lk_jw_finish(&w, &len);
            json_t *tree = json_pack("{s:s, s:s, s:I, s:s}", "access_token", "cdf01657-110d-4155-99a7-f986b2ff13a0:int",
                                     "token_type", "bearer", "expires_in", expires[e], "scope", VALUES[i]);
            if (!tree) {
                assert_null(got); /* not UTF-8: the caller answers with the tree's "{}" */
            } else {
                char *want = tree_text(tree);
                assert_non_null(got);
                assert_string_equal(got, want);
                assert_int_equal(len, strlen(want));
                free(want);
            }
            lk_arena_free(&a);
        }
    }
    /* NULL marks the writer bad, as json_pack refuses it */
    lk_arena a = LK_ARENA_INIT;
    lk_jw w;
    lk_jw_init(&w, &a, 0);
    lk_jw_str(&w, NULL);
    assert_null(lk_jw_finish(&w, NULL));
    lk_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shapes),
        cmocka_unit_test(escapes),
        cmocka_unit_test(refusals),
        cmocka_unit_test(envelope_ok),
        cmocka_unit_test(envelope_ok_text),
        cmocka_unit_test(envelope_fail),
        cmocka_unit_test(bare_fail),
        cmocka_unit_test(token_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
