/*
 * test_http_json — lk_json_text writes what json_dumps(JSON_COMPACT) writes: member
 * order, escapes, integers at their limits, nesting, and refuses what jansson
 * refuses (strings that are not UTF-8, a value that is neither object nor array).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shapes),
        cmocka_unit_test(escapes),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
