/* test_http_parsers — urlencoded and multipart forms, the Authorization header, the REST envelope. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/auth.h"
#include "http/envelope.h"
#include "http/form.h"
#include "http/multipart.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void form_decodes(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    lk_form f = {0};
    const char *s = "grant_type=client_credentials&client_id=a%40b&client_secret=x%2By+z&flag&empty=";
    assert_true(lk_form_parse(&a, s, strlen(s), &f));
    assert_int_equal(f.n, 5);
    assert_string_equal(lk_form_get(&f, "grant_type", NULL), "client_credentials");
    assert_string_equal(lk_form_get(&f, "client_id", NULL), "a@b");
    assert_string_equal(lk_form_get(&f, "client_secret", NULL), "x+y z");
    assert_string_equal(lk_form_get(&f, "flag", NULL), "");
    assert_string_equal(lk_form_get(&f, "empty", NULL), "");
    assert_null(lk_form_get(&f, "missing", NULL));
    lk_arena_free(&a);
}

static void form_counts_repeats_and_skips_empty_pairs(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    lk_form f = {0};
    const char *s = "a=1&&a=2&b=3&";
    assert_true(lk_form_parse(&a, s, strlen(s), &f));
    int n = 0;
    assert_string_equal(lk_form_get(&f, "a", &n), "1");
    assert_int_equal(n, 2);
    assert_int_equal(f.n, 3);
    lk_arena_free(&a);
}

static void form_refuses_malformed(void **state)
{
    (void)state;
    const char *bad[] = {"a=%", "a=%4", "a=%G1", "%zz=1", "a=%00", "a%=1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lk_arena a = LK_ARENA_INIT;
        lk_form f = {0};
        if (lk_form_parse(&a, bad[i], strlen(bad[i]), &f))
            fail_msg("accepted '%s'", bad[i]);
        lk_arena_free(&a);
    }
    /* too many parameters */
    char many[LK_FORM_MAX_PARAMS * 4 + 8] = "";
    for (int i = 0; i <= LK_FORM_MAX_PARAMS; i++)
        strcat(many, "a=1&");
    lk_arena a = LK_ARENA_INIT;
    lk_form f = {0};
    assert_false(lk_form_parse(&a, many, strlen(many), &f));
    lk_arena_free(&a);
}

static void auth_bearer_and_basic(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    lk_auth r = lk_auth_parse(&a, "Bearer abc-DEF_123");
    assert_int_equal(r.scheme, LK_AUTH_BEARER);
    assert_string_equal(r.token, "abc-DEF_123");
    r = lk_auth_parse(&a, "bearer   tok");
    assert_int_equal(r.scheme, LK_AUTH_BEARER);
    assert_string_equal(r.token, "tok");
    /* "client%3Aid:se%2Bcret" → id "client:id", secret "se+cret" (RFC 6749 §2.3.1) */
    r = lk_auth_parse(&a, "Basic Y2xpZW50JTNBaWQ6c2UlMkJjcmV0");
    assert_int_equal(r.scheme, LK_AUTH_BASIC);
    assert_string_equal(r.user, "client:id");
    assert_string_equal(r.password, "se+cret");
    lk_arena_free(&a);
}

static void auth_refuses_malformed(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    assert_int_equal(lk_auth_parse(&a, NULL).scheme, LK_AUTH_NONE);
    assert_int_equal(lk_auth_parse(&a, "Bearer").scheme, LK_AUTH_OTHER);       /* no space: not the scheme */
    assert_int_equal(lk_auth_parse(&a, "Bearer ").scheme, LK_AUTH_MALFORMED);
    assert_int_equal(lk_auth_parse(&a, "Bearer a b").scheme, LK_AUTH_MALFORMED);
    assert_int_equal(lk_auth_parse(&a, "Bearer a=b").scheme, LK_AUTH_MALFORMED);
    assert_int_equal(lk_auth_parse(&a, "Basic !!!").scheme, LK_AUTH_MALFORMED);
    assert_int_equal(lk_auth_parse(&a, "Basic bm9jb2xvbg==").scheme, LK_AUTH_MALFORMED); /* "nocolon" */
    assert_int_equal(lk_auth_parse(&a, "Digest x").scheme, LK_AUTH_OTHER);
    lk_arena_free(&a);
}

static void envelope_shapes(void **state)
{
    (void)state;
    lk_request r = {0};
    lk_rest_fail(&r, LK_REST_TOKEN_EXPIRED, NULL);
    assert_int_equal(r.status, 200);
    json_t *doc = json_loads(r.resp, 0, NULL);
    assert_non_null(doc);
    assert_false(json_is_true(json_object_get(doc, "success")));
    const char *rid = json_string_value(json_object_get(doc, "requestId"));
    assert_non_null(rid);
    assert_non_null(strchr(rid, '#'));
    json_t *e = json_array_get(json_object_get(doc, "errors"), 0);
    assert_string_equal(json_string_value(json_object_get(e, "code")), "602");
    assert_string_equal(json_string_value(json_object_get(e, "message")), "Access token expired");
    assert_string_equal(r.code, "602");
    json_decref(doc);

    lk_request ok = {0};
    lk_rest_ok(&ok, json_pack("[{s:i}]", "n", 1));
    doc = json_loads(ok.resp, 0, NULL);
    assert_true(json_is_true(json_object_get(doc, "success")));
    assert_int_equal(json_array_size(json_object_get(doc, "result")), 1);
    json_decref(doc);
    lk_arena_free(&r.arena);
    lk_arena_free(&ok.arena);
}

/* Marketo's table of response-level codes (reference §6.1): the ones it marks are
 * not counted, every other one is */
static void which_codes_count(void **state)
{
    (void)state;
    const lk_rest_error not_counted[] = {LK_REST_TOKEN_INVALID, LK_REST_TOKEN_EXPIRED, LK_REST_TIMEOUT,
                                         LK_REST_METHOD_NOT_SUPPORTED, LK_REST_UNAVAILABLE, LK_REST_SYSTEM_ERROR};
    const lk_rest_error counted[] = {LK_REST_ACCESS_DENIED, LK_REST_RATE_LIMIT, LK_REST_DAILY_QUOTA,
                                     LK_REST_INVALID_JSON, LK_REST_NOT_FOUND, LK_REST_CONTENT_TYPE,
                                     LK_REST_CONCURRENT, LK_REST_BLANK};
    for (size_t i = 0; i < sizeof not_counted / sizeof *not_counted; i++)
        assert_false(lk_rest_counts(not_counted[i]));
    for (size_t i = 0; i < sizeof counted / sizeof *counted; i++)
        assert_true(lk_rest_counts(counted[i]));
    assert_int_equal(LK_REST_TIMEOUT, 604);
    assert_int_equal(LK_REST_UNAVAILABLE, 608);
    assert_string_equal(lk_rest_message(LK_REST_TOKEN_INVALID), "Access token invalid");
    assert_string_equal(lk_rest_message(LK_REST_NOT_FOUND), "Requested resource not found");
    assert_string_equal(lk_rest_message(LK_REST_TIMEOUT), "Request time-out");
    assert_string_equal(lk_rest_message(LK_REST_UNAVAILABLE), "API Temporarily Unavailable");
}

#define CT "multipart/form-data; boundary=------------------------d74496d66958873e"
#define B "--------------------------d74496d66958873e"

/* what `curl -F access_token=abc -F note=@file -F _method=GET` sends */
static void multipart_reads_text_fields(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    lk_form f = {0};
    const char *body = B "\r\n"
                       "Content-Disposition: form-data; name=\"access_token\"\r\n\r\n"
                       "abc:int\r\n" B "\r\n"
                       "Content-Disposition: form-data; name=\"note\"; filename=\"a.csv\"\r\n"
                       "Content-Type: text/csv\r\n\r\n"
                       "x,y\r\n1,2\r\n" B "\r\n"
                       "content-disposition: FORM-DATA; name=_method\r\n\r\n"
                       "GET\r\n" B "\r\n"
                       "Content-Disposition: form-data; name=\"empty\"\r\n\r\n"
                       "\r\n" B "--\r\nan epilogue";
    assert_true(lk_multipart_is(CT));
    assert_true(lk_multipart_parse(&a, CT, body, strlen(body), &f));
    assert_int_equal(f.n, 3); /* the file is skipped */
    assert_string_equal(lk_form_get(&f, "access_token", NULL), "abc:int");
    assert_string_equal(lk_form_get(&f, "_method", NULL), "GET");
    assert_string_equal(lk_form_get(&f, "empty", NULL), "");
    assert_null(lk_form_get(&f, "note", NULL));

    /* a quoted boundary, a preamble, CRLF inside a value */
    lk_form g = {0};
    const char *body2 = "a preamble\r\n--AaB03x\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n"
                        "line 1\r\nline 2\r\n--AaB03x--";
    assert_true(lk_multipart_parse(&a, "Multipart/Form-Data; charset=utf-8; boundary=\"AaB03x\"", body2,
                                   strlen(body2), &g));
    assert_int_equal(g.n, 1);
    assert_string_equal(lk_form_get(&g, "x", NULL), "line 1\r\nline 2");
    lk_arena_free(&a);
}

static void multipart_refuses_malformed(void **state)
{
    (void)state;
    const char *ok_part = "Content-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n";
    char nul_body[256];
    int nul_len = snprintf(nul_body, sizeof nul_body, "%s\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
                                                        "1X2\r\n%s--", B, B);
    nul_body[strstr(nul_body, "1X2") - nul_body + 1] = '\0';
    const struct {
        const char *ct, *body;
        size_t len;
    } bad[] = {
        {"application/json", B "\r\n", 0},
        {"multipart/form-data", B "\r\n", 0},                   /* no boundary */
        {"multipart/form-data; boundary=", B "\r\n", 0},        /* an empty one */
        {"multipart/form-data; boundary=\"abc", B "\r\n", 0},   /* an open quote */
        {CT, "no delimiter at all", 0},
        {CT, B "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1", 0},   /* never closed */
        {CT, B "\r\nContent-Disposition: form-data\r\n\r\n1\r\n" B "--", 0},  /* no name */
        {CT, B "\r\nContent-Disposition: form-data; name=\"\"\r\n\r\n1\r\n" B "--", 0},
        {CT, B "\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n1\r\n" B "--", 0},
        {CT, B "\r\nContent-Type: text/plain\r\n\r\n1\r\n" B "--", 0},            /* no disposition */
        {CT, B "\r\n\r\n1\r\n" B "--", 0},                                         /* no headers */
        {CT, B "garbage\r\n", 0},
        {CT, nul_body, (size_t)nul_len},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lk_arena a = LK_ARENA_INIT;
        lk_form f = {0};
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].body);
        assert_false(lk_multipart_parse(&a, bad[i].ct, bad[i].body, len, &f));
        lk_arena_free(&a);
    }
    /* more fields than a request may carry */
    char *many = malloc(LK_FORM_MAX_PARAMS * 128 + 128);
    size_t n = 0;
    for (int i = 0; i <= LK_FORM_MAX_PARAMS; i++)
        n += (size_t)sprintf(many + n, "%s\r\n%s", B, ok_part);
    n += (size_t)sprintf(many + n, "%s--", B);
    lk_arena a = LK_ARENA_INIT;
    lk_form f = {0};
    assert_false(lk_multipart_parse(&a, CT, many, n, &f));
    lk_arena_free(&a);
    free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(form_decodes),
        cmocka_unit_test(form_counts_repeats_and_skips_empty_pairs),
        cmocka_unit_test(form_refuses_malformed),
        cmocka_unit_test(auth_bearer_and_basic),
        cmocka_unit_test(auth_refuses_malformed),
        cmocka_unit_test(envelope_shapes),
        cmocka_unit_test(which_codes_count),
        cmocka_unit_test(multipart_reads_text_fields),
        cmocka_unit_test(multipart_refuses_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
