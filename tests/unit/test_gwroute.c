/*
 * test_gwroute — the gateway's route table: the pattern syntax and the path
 * decoding an attacker would bend (core/gwpath.h), matching and specificity, the
 * pick of a call's route (methods, HEAD as GET, '*'), and the table's rules through
 * core/gwroute.h (refusals that change nothing, one audit event per change, the
 * Marketo import that keeps what is there and the feed row every change writes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "expect.h"
#include "fixture.h"
#include "core/gwpath.h"
#include "core/gwroute.h"
#include "core/gwindex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- gwpath: patterns ----------------------------------------------------------- */

static void pattern_refused(const char *p, const char *needle)
{
    const char *why = NULL;
    if (lk_gwpath_pattern_ok(p, &why))
        fail_msg("pattern '%s' should be refused", p ? p : "(null)");
    if (!why || !strstr(why, needle))
        fail_msg("pattern '%s': reason '%s' should mention '%s'", p ? p : "(null)", why ? why : "", needle);
}

static void patterns(void **state)
{
    (void)state;
    const char *good[] = {"/", "/rest/v1/leads.json", "/rest/v1/lead/{id}.json", "/api/{a}/x/{b_2}", "/a/*", "/*",
                          "/rest/asset/v1/{type}/{id}/approveDraft.json", "/a/"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        const char *why = NULL;
        if (!lk_gwpath_pattern_ok(good[i], &why))
            fail_msg("pattern '%s' should be fine: %s", good[i], why);
    }
    pattern_refused(NULL, "starts with '/'");
    pattern_refused("rest/v1", "starts with '/'");
    pattern_refused("/a//b", "empty segments");
    pattern_refused("/a/../b", "'.' or '..'");
    pattern_refused("/a/./b", "'.' or '..'");
    pattern_refused("/a/*/b", "last segment");
    pattern_refused("/a/x*", "whole segment");
    pattern_refused("/a/{}", "'{name}'");
    pattern_refused("/a/{id", "'{name}'");
    pattern_refused("/a/{a-b}", "'{name}'");
    pattern_refused("/a/{x}{y}", "one parameter");
    pattern_refused("/a/%2e", "printable ASCII");
    pattern_refused("/a;b", "printable ASCII");
    pattern_refused("/a\\b", "printable ASCII");
    pattern_refused("/a b", "printable ASCII");
    pattern_refused("/a?b=1", "printable ASCII");
    pattern_refused("/a}", "printable ASCII");
    char longp[LK_GWPATTERN_MAX + 8];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    pattern_refused(longp, "512");
}

/* --- gwpath: decoding the path of a call ------------------------------------------- */

static const char *decoded(const char *raw)
{
    static char out[LK_GWPATH_MAX + 1];
    const char *why = NULL;
    if (!lk_gwpath_decode(raw, strlen(raw), out, sizeof out, &why))
        fail_msg("'%s' should decode: %s", raw, why);
    return out;
}

static void path_refused(const char *raw, const char *needle)
{
    char out[LK_GWPATH_MAX + 1];
    const char *why = NULL;
    if (lk_gwpath_decode(raw, strlen(raw), out, sizeof out, &why))
        fail_msg("'%s' should be refused, decoded to '%s'", raw, out);
    if (!why || !strstr(why, needle))
        fail_msg("'%s': reason '%s' should mention '%s'", raw, why ? why : "", needle);
}

static void paths(void **state)
{
    (void)state;
    assert_string_equal(decoded("/rest/v1/leads.json"), "/rest/v1/leads.json");
    assert_string_equal(decoded("/rest/v1/%6Ceads.json"), "/rest/v1/leads.json");
    assert_string_equal(decoded("/a/caf%C3%A9"), "/a/caf\xc3\xa9");
    assert_string_equal(decoded("/a/"), "/a/");
    assert_string_equal(decoded("/"), "/");
    assert_string_equal(decoded("/a/b%20c"), "/a/b c");
    assert_string_equal(decoded("/a/.well/..x"), "/a/.well/..x");
    path_refused("", "not a path");
    path_refused("rest/v1", "not a path");
    path_refused("http://evil/rest/v1/leads.json", "not a path");
    path_refused("*", "not a path");
    path_refused("/a/../b", "'.' or '..'");
    path_refused("/a/./b", "'.' or '..'");
    path_refused("/a/..", "'.' or '..'");
    path_refused("/a/%2e%2e/b", "'.' or '..'");
    path_refused("/a/%2E./b", "'.' or '..'");
    path_refused("/a//b", "empty segment");
    path_refused("//a", "empty segment");
    path_refused("/a%2Fb", "encoded '/'");
    path_refused("/a%2fb", "encoded '/'");
    path_refused("/a%5Cb", "'\\'");
    path_refused("/a\\b", "'\\'");
    path_refused("/a;jsessionid=1", "';'");
    path_refused("/a%3Bb", "';'");
    path_refused("/a%252e", "encoded '/', '%'");
    path_refused("/a%3Fb", "'?'");
    path_refused("/a%23b", "'#'");
    path_refused("/a#b", "'#'");
    path_refused("/a%00", "control");
    path_refused("/a%0d%0aX: y", "control");
    path_refused("/a\tb", "control");
    path_refused("/a%7F", "control");
    path_refused("/a%", "two hex digits");
    path_refused("/a%4", "two hex digits");
    path_refused("/a%zz", "two hex digits");
    char out[8];
    const char *why = NULL;
    assert_false(lk_gwpath_decode("/abcdefgh", 9, out, sizeof out, &why));
    assert_non_null(strstr(why, "too long"));
    assert_true(lk_gwpath_decode("/abcdef", 7, out, sizeof out, &why));
}

/* --- gwpath: matching and specificity ------------------------------------------------ */

static void matching(void **state)
{
    (void)state;
    assert_true(lk_gwpath_match("/rest/v1/leads.json", "/rest/v1/leads.json"));
    assert_false(lk_gwpath_match("/rest/v1/leads.json", "/rest/v1/leads.json/"));
    assert_false(lk_gwpath_match("/rest/v1/leads.json", "/REST/v1/leads.json"));
    assert_true(lk_gwpath_match("/rest/v1/lead/{id}.json", "/rest/v1/lead/42.json"));
    assert_false(lk_gwpath_match("/rest/v1/lead/{id}.json", "/rest/v1/lead/.json"));
    assert_false(lk_gwpath_match("/rest/v1/lead/{id}.json", "/rest/v1/lead/42.xml"));
    assert_false(lk_gwpath_match("/rest/v1/lead/{id}.json", "/rest/v1/lead/4/2.json"));
    assert_true(lk_gwpath_match("/a/{x}", "/a/b"));
    assert_false(lk_gwpath_match("/a/{x}", "/a/"));
    assert_false(lk_gwpath_match("/a/{x}", "/a"));
    assert_false(lk_gwpath_match("/a/{x}", "/a/b/c"));
    assert_true(lk_gwpath_match("/a/*", "/a/b"));
    assert_true(lk_gwpath_match("/a/*", "/a/b/c/d"));
    assert_false(lk_gwpath_match("/a/*", "/a/"));
    assert_false(lk_gwpath_match("/a/*", "/a"));
    assert_false(lk_gwpath_match("/a/*", "/ab/c"));
    assert_true(lk_gwpath_match("/*", "/x"));
    assert_true(lk_gwpath_match("/", "/"));
    assert_false(lk_gwpath_match("/", "/x"));
    /* the literal start of a pattern decides alone only when it is all of it */
    assert_false(lk_gwpath_match("/a/b", "/a/b/"));
    assert_false(lk_gwpath_match("/a/b/", "/a/b"));
    assert_false(lk_gwpath_match("/a/b", "/a"));
    assert_false(lk_gwpath_match("/a/b", ""));
    assert_true(lk_gwpath_match("/a/b{x}", "/a/bc"));
    assert_false(lk_gwpath_match("/a/b{x}", "/a/b"));
    assert_false(lk_gwpath_match("/a/b{x}", "/a/c"));
    assert_true(lk_gwpath_match("/a/{x}/c", "/a/b/c"));
    assert_false(lk_gwpath_match("/a/{x}/c", "/a/b/d"));
    assert_false(lk_gwpath_match("/a/b/*", "/a/c/d"));
    assert_true(lk_gwpath_match("/a/b/*", "/a/b/d"));

    assert_true(lk_gwpath_compare("/a/b", "/a/{x}") > 0);
    assert_true(lk_gwpath_compare("/a/{x}", "/a/b") < 0);
    assert_true(lk_gwpath_compare("/a/{x}.json", "/a/{x}") > 0);
    assert_true(lk_gwpath_compare("/a/{x}", "/a/*") > 0);
    assert_true(lk_gwpath_compare("/a/b/*", "/a/*") > 0);
    assert_true(lk_gwpath_compare("/a/describe.json", "/a/{id}.json") > 0);
    assert_true(lk_gwpath_compare("/a/{x}/c", "/a/{y}/c") == 0);
    assert_true(lk_gwpath_compare("/a/b/{x}", "/a/{x}/c") > 0);
}

/* --- gwroute: the pick of a call's route ---------------------------------------------- */

static const lk_gw_route TABLE[] = {
    {.id = 1, .method = "GET", .pattern = "/rest/v1/leads.json"},
    {.id = 2, .method = "POST", .pattern = "/rest/v1/leads.json"},
    {.id = 3, .method = "GET", .pattern = "/rest/asset/v1/*"},
    {.id = 4, .method = "POST", .pattern = "/rest/asset/v1/*"},
    {.id = 5, .method = "POST", .pattern = "/rest/asset/v1/{type}/{id}/approveDraft.json"},
    {.id = 6, .method = "*", .pattern = "/api/*"},
    {.id = 7, .method = "DELETE", .pattern = "/api/orders/{id}"},
    {.id = 8, .method = "HEAD", .pattern = "/api/ping"},
    {.id = 9, .method = "GET", .pattern = "/api/ping"},
    {.id = 10, .method = "GET", .pattern = "/rest/v1/lead/{id}.json"},
};
#define N_TABLE (sizeof TABLE / sizeof *TABLE)

static int64_t picked(const char *method, const char *path, lk_gw_found want)
{
    const lk_gw_route *r = NULL;
    lk_gw_found found = lk_gwroute_pick(TABLE, N_TABLE, method, path, &r);
    if (found != want)
        fail_msg("%s %s: found %d, expected %d", method, path, found, want);
    return r ? r->id : 0;
}

static void pick(void **state)
{
    (void)state;
    assert_int_equal(picked("GET", "/rest/v1/leads.json", LK_GW_MATCH), 1);
    assert_int_equal(picked("POST", "/rest/v1/leads.json", LK_GW_MATCH), 2);
    assert_int_equal(picked("HEAD", "/rest/v1/leads.json", LK_GW_MATCH), 1);
    assert_int_equal(picked("DELETE", "/rest/v1/leads.json", LK_GW_METHOD), 1);
    assert_int_equal(picked("get", "/rest/v1/leads.json", LK_GW_METHOD), 1);
    assert_int_equal(picked("GET", "/rest/v1/nothing.json", LK_GW_NONE), 0);
    assert_int_equal(picked("GET", "/rest/v1/lead/7.json", LK_GW_MATCH), 10);
    /* the most specific pattern of those with the method */
    assert_int_equal(picked("POST", "/rest/asset/v1/program/9/approveDraft.json", LK_GW_MATCH), 5);
    assert_int_equal(picked("GET", "/rest/asset/v1/program/9/approveDraft.json", LK_GW_MATCH), 3);
    assert_int_equal(picked("POST", "/rest/asset/v1/programs.json", LK_GW_MATCH), 4);
    /* a DELETE route of a path, and '*' for the rest of its methods */
    assert_int_equal(picked("DELETE", "/api/orders/7", LK_GW_MATCH), 7);
    assert_int_equal(picked("GET", "/api/orders/7", LK_GW_MATCH), 6);
    assert_int_equal(picked("PATCH", "/api/anything/else", LK_GW_MATCH), 6);
    /* the route naming the method beats GET for a HEAD, which beats '*' */
    assert_int_equal(picked("HEAD", "/api/ping", LK_GW_MATCH), 8);
    assert_int_equal(picked("GET", "/api/ping", LK_GW_MATCH), 9);
    assert_int_equal(picked("PUT", "/api/ping", LK_GW_MATCH), 6);
    const lk_gw_route *r = NULL;
    assert_int_equal(lk_gwroute_pick(NULL, 0, "GET", "/", &r), LK_GW_NONE);
    assert_null(r);
}

/* --- gwindex: the indexed pick is the pick ------------------------------------------------ */

/* both picks for every method: the same answer and the same route */
static void same_pick(const lk_gwroute_index *ix, const lk_gw_route *routes, size_t n, const char *path)
{
    static const char *methods[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "PATCH"};
    for (size_t m = 0; m < sizeof methods / sizeof *methods; m++) {
        const lk_gw_route *a = NULL, *b = NULL;
        lk_gw_found fa = lk_gwroute_pick(routes, n, methods[m], path, &a);
        lk_gw_found fb = lk_gwroute_index_pick(ix, methods[m], path, &b);
        if (fa != fb || a != b)
            fail_msg("%s %s: the scan found %d (route %lld), the index %d (route %lld)", methods[m], path, fa,
                     a ? (long long)a->id : 0LL, fb, b ? (long long)b->id : 0LL);
    }
}

static const char *pick_of(const char **from, size_t n)
{
    return from[(size_t)rand() % n];
}

/* a random pattern (or, with as_path, a path) of a few segments from small
 * alphabets, so that starts, parameters and '*' overlap often */
static char *random_text(lk_arena *a, bool as_path)
{
    static const char *lit[] = {"a", "b", "ab", "rest", "v1", "x.json", "leads.json", "7.json", "x7"};
    static const char *par[] = {"{p}", "{p}.json", "x{p}", "a{p}b", "{q}"};
    static const char *path_only[] = {"", "zz", "x", ".json", "a7b", "x.json.json"};
    char buf[256] = "";
    size_t segs = 1 + (size_t)rand() % 4;
    for (size_t i = 0; i < segs; i++) {
        strcat(buf, "/");
        int k = rand() % 10;
        if (as_path)
            strcat(buf, k < 8 ? pick_of(lit, sizeof lit / sizeof *lit) : pick_of(path_only, 6));
        else if (i == segs - 1 && k == 0)
            strcat(buf, "*");
        else
            strcat(buf, k < 6 ? pick_of(lit, sizeof lit / sizeof *lit) : pick_of(par, sizeof par / sizeof *par));
    }
    return lk_arena_strdup(a, buf);
}

static void index_same_as_scan(void **state)
{
    (void)state;
    lk_arena a = LK_ARENA_INIT;
    srand(20261202);
    /* the test table and Marketo's map, with the paths of their own patterns */
    size_t n_m = 0;
    while (lk_gwroute_marketo[n_m].method)
        n_m++;
    lk_gw_route *mk = lk_arena_alloc(&a, n_m * sizeof *mk);
    for (size_t i = 0; i < n_m; i++)
        mk[i] = (lk_gw_route){.id = (int64_t)i + 1, .method = lk_gwroute_marketo[i].method,
                              .pattern = lk_gwroute_marketo[i].pattern};
    lk_gwroute_index *ix_t = lk_gwroute_index_build(&a, TABLE, N_TABLE);
    lk_gwroute_index *ix_m = lk_gwroute_index_build(&a, mk, n_m);
    for (size_t i = 0; i < n_m; i++) {
        same_pick(ix_m, mk, n_m, mk[i].pattern);
        same_pick(ix_t, TABLE, N_TABLE, mk[i].pattern);
    }
    const char *paths[] = {"/", "/rest/v1/leads.json", "/rest/v1/lead/7.json", "/rest/asset/v1/program/9/approveDraft.json",
                           "/api/ping", "/api/orders/7", "/api/", "/rest/v1/leads.jsonx", "/rest/v1/lead/.json",
                           "/rest/v1/lead/{id}.json", "/a*b", "/rest/asset/v1/"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        same_pick(ix_t, TABLE, N_TABLE, paths[i]);
        same_pick(ix_m, mk, n_m, paths[i]);
    }
    /* random tables of 1 to 200 routes (the larger ones overflow a pick's stack of
     * candidates: it must then scan), random paths */
    static const char *methods[] = {"GET", "POST", "*", "HEAD", "DELETE"};
    for (int round = 0; round < 300; round++) {
        size_t n = 1 + (size_t)rand() % (round % 10 == 9 ? 200 : 24);
        lk_gw_route *t = lk_arena_alloc(&a, n * sizeof *t);
        for (size_t i = 0; i < n; i++)
            t[i] = (lk_gw_route){.id = (int64_t)i + 1, .method = pick_of(methods, 5),
                                 .pattern = random_text(&a, false)};
        lk_gwroute_index *ix = lk_gwroute_index_build(&a, t, n);
        for (int k = 0; k < 40; k++)
            same_pick(ix, t, n, random_text(&a, true));
        for (size_t i = 0; i < n; i++)
            same_pick(ix, t, n, t[i].pattern);
    }
    /* more routes of one start than a pick holds at once */
    lk_gw_route many[100];
    for (size_t i = 0; i < 100; i++)
        many[i] = (lk_gw_route){.id = (int64_t)i + 1, .method = i == 50 ? "POST" : "*",
                                .pattern = i % 2 ? "/{p}" : "/{p}.json"};
    lk_gwroute_index *ix = lk_gwroute_index_build(&a, many, 100);
    same_pick(ix, many, 100, "/x.json");
    const lk_gw_route *r = NULL;
    assert_int_equal(lk_gwroute_index_pick(ix, "POST", "/x.json", &r), LK_GW_MATCH);
    assert_int_equal(r->id, 51);
    /* a pattern longer than a checked one could be (a table not written by latchkey) */
    char *huge = lk_arena_alloc(&a, LK_GWPATTERN_MAX + 64);
    memset(huge, 'a', LK_GWPATTERN_MAX + 62);
    huge[0] = '/';
    lk_gw_route odd[] = {{.id = 1, .method = "GET", .pattern = huge}, {.id = 2, .method = "GET", .pattern = "/{x}"}};
    lk_gwroute_index *ix_odd = lk_gwroute_index_build(&a, odd, 2);
    same_pick(ix_odd, odd, 2, huge);
    assert_int_equal(lk_gwroute_index_pick(ix_odd, "GET", huge, &r), LK_GW_MATCH);
    assert_int_equal(r->id, 1);
    /* an empty table */
    lk_gwroute_index *none = lk_gwroute_index_build(&a, NULL, 0);
    assert_int_equal(lk_gwroute_index_pick(none, "GET", "/", &r), LK_GW_NONE);
    assert_null(r);
    lk_arena_free(&a);
}

/* --- gwroute: the table ----------------------------------------------------------------- */

/* the routes in id order as one text (SQL of the fixture's store) */
static const char *routes_text(lk_fixture *f)
{
    if (lk_fixture_pg(f))
        return lk_fixture_text(f, "SELECT coalesce(string_agg(method || ' ' || pattern || ' [' || replace(permissions, chr(10),"
                                  " '|') || '] ' || style, ';' ORDER BY id), '') FROM gateway_routes");
    return lk_fixture_text(f, "SELECT coalesce(group_concat(method || ' ' || pattern || ' [' || replace(permissions, char(10), '|')"
                              " || '] ' || style, ';'), '') FROM (SELECT * FROM gateway_routes ORDER BY id)");
}

static long feed_rows(lk_fixture *f)
{
    return atol(lk_fixture_text(f, "SELECT count(*) FROM changes WHERE kind = 'settings'"));
}

static lk_code add(lk_fixture *f, const char *method, const char *pattern, const char **perms, size_t n, bool plain)
{
    lk_gw_route r = {.method = method, .pattern = pattern, .permissions = perms, .n_permissions = n, .plain = plain};
    lk_op *op = lk_fixture_op(f);
    lk_code rc = lk_gwroute_add(op, &r);
    f->op.err = op->err;
    return rc;
}

#define expect_refused(f, rc_expr, want, field, needle)                                  \
    do {                                                                                 \
        snapshot before_ = snap(f);                                                      \
        char *state_ = lk_arena_strdup(&(f)->arena, routes_text(f));                     \
        lk_code rc_ = (rc_expr);                                                         \
        expect_err(&(f)->op, rc_, want, field, needle);                                  \
        expect_unchanged(f, before_);                                                    \
        assert_string_equal(routes_text(f), state_);                                     \
    } while (0)

static void table(void **state)
{
    lk_fixture *f = *state;
    long events = lk_fixture_count(f, "audit_events");
    long rows = feed_rows(f);
    const char *ro[] = {"read-only lead", "Read-Write Lead", "Read-Only Lead"};
    expect_ok(&f->op, add(f, "GET", "/rest/v1/leads.json", ro, 3, false));
    /* names as the permission table spells them, each once */
    assert_string_equal(routes_text(f), "GET /rest/v1/leads.json [Read-Only Lead|Read-Write Lead] marketo");
    assert_int_equal(lk_fixture_count(f, "audit_events"), events + 1);
    assert_true(feed_rows(f) > rows);
    assert_string_equal(lk_fixture_text(f, "SELECT area || '/' || action || '/' || target FROM audit_events ORDER BY id DESC LIMIT 1"),
                        "Web Services/Add Route/GET /rest/v1/leads.json");
    expect_ok(&f->op, add(f, "*", "/api/*", NULL, 0, true));

    const char *none[] = {"Nope"};
    expect_refused(f, add(f, "GET", "/rest/v1/leads.json", ro, 1, false), LK_EEXISTS, "pattern", "exists already");
    expect_refused(f, add(f, "get", "/x", ro, 1, false), LK_EINVAL, "method", "not a method");
    expect_refused(f, add(f, "GETTINGTOOLONGMETHOD", "/x", ro, 1, false), LK_EINVAL, "method", "not a method");
    expect_refused(f, add(f, "GET", "/x/../y", ro, 1, false), LK_EINVAL, "pattern", "'.' or '..'");
    expect_refused(f, add(f, "GET", "/x", none, 1, false), LK_ENOTFOUND, "permission", "no permission named 'Nope'");
    const char *admin[] = {"Read-Only Lead", "Access Roles"};
    expect_refused(f, add(f, "GET", "/x", admin, 2, false), LK_EINVAL, "permission", "not an Access API permission");
    const char *nine[] = {"Read-Only Lead", "Read-Only Lead", "Read-Only Lead", "Read-Only Lead", "Read-Only Lead",
                          "Read-Only Lead", "Read-Only Lead", "Read-Only Lead", "Read-Only Lead"};
    expect_refused(f, add(f, "GET", "/x", nine, 9, false), LK_EINVAL, "permission", "at most");

    lk_gw_route gone;
    lk_op *op = lk_fixture_op(f);
    expect_refused(f, lk_gwroute_delete(op, "POST", "/rest/v1/leads.json", NULL), LK_ENOTFOUND, "route", "no route");
    op = lk_fixture_op(f);
    expect_ok(op, lk_gwroute_delete(op, "GET", "/rest/v1/leads.json", &gone));
    assert_string_equal(gone.pattern, "/rest/v1/leads.json");
    assert_int_equal(gone.n_permissions, 2);
    assert_string_equal(routes_text(f), "* /api/* [] plain");
    assert_string_equal(lk_fixture_text(f, "SELECT action || ' ' || details FROM audit_events ORDER BY id DESC LIMIT 1"),
                        "Delete Route {\"method\":\"GET\",\"pattern\":\"/rest/v1/leads.json\",\"permissions\":"
                        "[\"Read-Only Lead\",\"Read-Write Lead\"],\"style\":\"marketo\"}");
}

static void import_marketo(void **state)
{
    lk_fixture *f = *state;
    size_t n_map = 0;
    for (const lk_gwroute_builtin *b = lk_gwroute_marketo; b->method; b++)
        n_map++;
    assert_true(n_map > 100);
    const char *rw[] = {"Read-Write Lead"};
    expect_ok(&f->op, add(f, "GET", "/rest/v1/leads.json", rw, 1, true));
    size_t added = 0, kept = 0;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_gwroute_import_marketo(op, &added, &kept));
    assert_int_equal(kept, 1);
    assert_int_equal(added, n_map - 1);
    assert_int_equal(lk_fixture_count(f, "gateway_routes"), (long)n_map);
    /* the route already there is kept as it was */
    assert_string_equal(lk_fixture_text(f, "SELECT permissions || ' ' || style FROM gateway_routes WHERE method = 'GET'"
                                           " AND pattern = '/rest/v1/leads.json'"), "Read-Write Lead plain");
    assert_string_equal(lk_fixture_text(f, lk_fixture_pg(f) ? "SELECT replace(permissions, chr(10), '|') FROM gateway_routes"
                                                              " WHERE method = 'POST' AND pattern = '/rest/v1/campaigns/{id}/trigger.json'"
                                                            : "SELECT replace(permissions, char(10), '|') FROM gateway_routes"
                                                              " WHERE method = 'POST' AND pattern = '/rest/v1/campaigns/{id}/trigger.json'"),
                        "Execute Campaign");
    long events = lk_fixture_count(f, "audit_events");
    op = lk_fixture_op(f);
    expect_ok(op, lk_gwroute_import_marketo(op, &added, &kept));
    assert_int_equal(added, 0);
    assert_int_equal(kept, n_map);
    assert_int_equal(lk_fixture_count(f, "audit_events"), events);  /* nothing added: no event */
    /* every pattern of the map is well-formed, every method too */
    for (const lk_gwroute_builtin *b = lk_gwroute_marketo; b->method; b++) {
        assert_true(lk_gwroute_method_ok(b->method));
        assert_true(lk_gwpath_pattern_ok(b->pattern, NULL));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(patterns),
        cmocka_unit_test(paths),
        cmocka_unit_test(matching),
        cmocka_unit_test(pick),
        cmocka_unit_test(index_same_as_scan),
#define T(fn) cmocka_unit_test_setup_teardown(fn, lk_fixture_setup, lk_fixture_teardown)
        T(table),
        T(import_marketo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
