/*
 * test_store_lists — the store's lists (store.h "Lists", migration 0006): search
 * through the trigram indexes and by substring, the users' filters (API only,
 * effective status, role holders), cursors that page without skipping or repeating
 * a row, counts that stop at a cap, the role holder counts kept by triggers, and the
 * search indexes following every insert, update and delete.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"
#include "store/postgres/pg_internal.h"
#include "store/sqlite/sqlite_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPS(f) ((f)->store->ops)
#define NOW 1900000000

static void begin(lk_fixture *f)
{
    lk_error err = {0};
    assert_int_equal(OPS(f)->begin(f->store, &err), LK_OK);
}

static void commit(lk_fixture *f)
{
    lk_error err = {0};
    assert_int_equal(OPS(f)->commit(f->store, &err), LK_OK);
}

static int64_t add_role(lk_fixture *f, const char *name)
{
    lk_role r = {.name = name, .description = "", .created_at = 1000, .updated_at = 1000};
    lk_error err = {0};
    begin(f);
    assert_int_equal(OPS(f)->role_insert(f->store, &r, &err), LK_OK);
    commit(f);
    return r.id;
}

typedef struct person {
    const char *email, *first, *last;
    bool api_only;
    lk_user_status status;
    int64_t expires_at;
} person;

static int64_t add(lk_fixture *f, person p, const lk_grant *g, size_t n)
{
    lk_user u = {.email = p.email, .userid = p.email, .first_name = p.first ? p.first : "First",
                 .last_name = p.last ? p.last : "Last", .api_only = p.api_only, .status = p.status,
                 .expires_at = p.expires_at, .created_at = 2000, .updated_at = 2000, .grants = (lk_grant *)g,
                 .n_grants = n};
    lk_error err = {0};
    begin(f);
    lk_code rc = OPS(f)->user_insert(f->store, &u, &err);
    if (rc != LK_OK)
        fprintf(stderr, "add: %s\n", err.msg);
    assert_int_equal(rc, LK_OK);
    commit(f);
    return u.id;
}

static lk_user get_user(lk_fixture *f, int64_t id)
{
    lk_user u;
    lk_error err = {0};
    assert_int_equal(OPS(f)->user_get(f->store, &f->arena, id, &u, &err), LK_OK);
    return u;
}

static void update_user(lk_fixture *f, lk_user *u)
{
    lk_error err = {0};
    begin(f);
    assert_int_equal(OPS(f)->user_update(f->store, u, &err), LK_OK);
    commit(f);
}

/* the emails f lists, joined with spaces */
static const char *emails(lk_fixture *f, const lk_user_filter *flt)
{
    lk_user *us;
    size_t n;
    lk_error err = {0};
    assert_int_equal(OPS(f)->user_list(f->store, &f->arena, flt, &us, &n, &err), LK_OK);
    const char *s = "";
    for (size_t i = 0; i < n; i++)
        s = lk_arena_printf(&f->arena, "%s%s%s", s, i ? " " : "", us[i].email);
    return s;
}

static int64_t user_count(lk_fixture *f, const lk_user_filter *flt, int64_t cap)
{
    int64_t n = -1;
    lk_error err = {0};
    assert_int_equal(OPS(f)->user_count(f->store, flt, cap, &n, &err), LK_OK);
    return n;
}

static lk_user_filter search(const char *text)
{
    return (lk_user_filter){.api_only = -1, .search = text};
}

/* ---- users: search ------------------------------------------------------------------------ */

static void users_search(void **state)
{
    lk_fixture *f = *state;
    add(f, (person){"ada@example.com", "Ada", "Lovelace", false, LK_STATUS_ACTIVE, 0}, NULL, 0);
    add(f, (person){"grace@example.org", "Grace", "Hopper", false, LK_STATUS_ACTIVE, 0}, NULL, 0);
    int64_t bot = add(f, (person){"crm-sync@example.com", "CRM", "Sync", true, LK_STATUS_ACTIVE, 0}, NULL, 0);
    add(f, (person){"jürgen@example.de", "Jürgen", "Müller", false, LK_STATUS_PENDING, 0}, NULL, 0);

    lk_user_filter q = search("example.com");
    assert_string_equal(emails(f, &q), "ada@example.com crm-sync@example.com");
    q = search("LOVELACE");                      /* case-insensitive, a last name */
    assert_string_equal(emails(f, &q), "ada@example.com");
    q = search("ada lovelace");                  /* every word, in any field */
    assert_string_equal(emails(f, &q), "ada@example.com");
    q = search("ada hopper");
    assert_string_equal(emails(f, &q), "");
    q = search("ync@exa");                       /* a substring, through the index */
    assert_string_equal(emails(f, &q), "crm-sync@example.com");
    q = search("MÜLLER");                        /* the trigram index folds more than ASCII */
    assert_string_equal(emails(f, &q), "jürgen@example.de");
    q = search("ra");                            /* shorter than a trigram: the whole text, by scan */
    assert_string_equal(emails(f, &q), "grace@example.org");
    q = search("  ");                            /* blank: everyone */
    assert_int_equal(user_count(f, &q, 0), 4);
    q = search("a\"b OR x");                     /* FTS5 syntax is taken literally */
    assert_string_equal(emails(f, &q), "");
    q = search("*");
    assert_string_equal(emails(f, &q), "");
    q = search("ex%");                           /* nor are LIKE wildcards special */
    assert_string_equal(emails(f, &q), "");

    /* an update re-indexes, a delete takes the user out */
    lk_user u = get_user(f, bot);
    u.email = "erp-feed@example.net";
    u.userid = "erp-feed@example.net";
    update_user(f, &u);
    q = search("crm-sync");
    assert_string_equal(emails(f, &q), "");
    q = search("erp-feed");
    assert_string_equal(emails(f, &q), "erp-feed@example.net");
    q = search("sync");                          /* the last name stayed */
    assert_string_equal(emails(f, &q), "erp-feed@example.net");
    lk_error err = {0};
    begin(f);
    assert_int_equal(OPS(f)->user_delete(f->store, bot, &err), LK_OK);
    commit(f);
    q = search("erp-feed");
    assert_string_equal(emails(f, &q), "");
    /* SQLite's search index is a table of its own that must lose the row too
     * (PostgreSQL's is an index of the users table itself) */
    if (!lk_fixture_pg(f))
        assert_string_equal(lk_fixture_text(f, "SELECT count(*) FROM users_search WHERE users_search MATCH '\"feed\"'"),
                            "0");
}

/* ---- users: filters --------------------------------------------------------------------- */

static void users_filters(void **state)
{
    lk_fixture *f = *state;
    int64_t role = add_role(f, "Integration"), other = add_role(f, "Reader");
    lk_grant both[] = {{.role_id = role, .workspace_id = 0}, {.role_id = role, .workspace_id = 1}};
    lk_grant reader = {.role_id = other, .workspace_id = 1};
    add(f, (person){"a@x.com", NULL, NULL, true, LK_STATUS_ACTIVE, 0}, both, 2);
    add(f, (person){"b@x.com", NULL, NULL, true, LK_STATUS_ACTIVE, NOW - 1}, both, 1); /* expired */
    add(f, (person){"c@x.com", NULL, NULL, false, LK_STATUS_PENDING, 0}, &reader, 1);
    add(f, (person){"d@x.com", NULL, NULL, false, LK_STATUS_LOCKED, 0}, both, 1);
    add(f, (person){"e@x.com", NULL, NULL, false, LK_STATUS_ACTIVE, NOW + 100}, &reader, 1);

    lk_user_filter q = {.api_only = -1, .now = NOW, .by_status = true, .status = LK_STATUS_ACTIVE};
    assert_string_equal(emails(f, &q), "a@x.com e@x.com");
    q.status = LK_STATUS_LOCKED;                 /* locked, or past the expiry */
    assert_string_equal(emails(f, &q), "b@x.com d@x.com");
    q.status = LK_STATUS_PENDING;
    assert_string_equal(emails(f, &q), "c@x.com");
    q = (lk_user_filter){.api_only = 0, .accepted_only = true};
    assert_string_equal(emails(f, &q), "d@x.com e@x.com");

    /* role holders: once each, however many workspaces */
    q = (lk_user_filter){.api_only = -1, .role_id = role};
    assert_string_equal(emails(f, &q), "a@x.com b@x.com d@x.com");
    assert_int_equal(user_count(f, &q, 0), 3);
    q.api_only = 1;
    assert_string_equal(emails(f, &q), "a@x.com b@x.com");
    q = (lk_user_filter){.api_only = -1, .role_id = role, .search = "d@x"}; /* short: by scan */
    assert_string_equal(emails(f, &q), "d@x.com");
    q = (lk_user_filter){.api_only = -1, .role_id = other, .search = "x.com"}; /* words: the index */
    assert_string_equal(emails(f, &q), "c@x.com e@x.com");
    q = (lk_user_filter){.api_only = -1, .role_id = 9999};
    assert_string_equal(emails(f, &q), "");
}

/* ---- users: cursors and counts ------------------------------------------------------------ */

/* every page of f (limit 2) joined: no row twice, none left out */
static const char *all_pages(lk_fixture *f, lk_user_filter q)
{
    const char *s = "";
    q.limit = 2;
    q.after = 0;
    for (int guard = 0; guard < 50; guard++) {
        lk_user *us;
        size_t n;
        lk_error err = {0};
        assert_int_equal(OPS(f)->user_list(f->store, &f->arena, &q, &us, &n, &err), LK_OK);
        for (size_t i = 0; i < n; i++)
            s = lk_arena_printf(&f->arena, "%s%s%s", s, *s ? " " : "", us[i].first_name);
        if (n < 2)
            return s;
        q.after = us[n - 1].id;
    }
    fail_msg("paging did not end");
    return s;
}

static void users_cursor_and_count(void **state)
{
    lk_fixture *f = *state;
    int64_t role = add_role(f, "Integration");
    lk_grant g = {.role_id = role, .workspace_id = 0};
    const char *names[] = {"u1", "u2", "u3", "u4", "u5", "u6", "u7"};
    for (int i = 0; i < 7; i++)
        add(f, (person){lk_arena_printf(&f->arena, "%s@paging.test", names[i]), names[i], "Pager", i % 2 == 0,
                        LK_STATUS_ACTIVE, 0},
            &g, (size_t)(i != 3));
    lk_user_filter any = {.api_only = -1};
    assert_string_equal(all_pages(f, any), "u1 u2 u3 u4 u5 u6 u7");
    lk_user_filter api = {.api_only = 1};
    assert_string_equal(all_pages(f, api), "u1 u3 u5 u7");
    lk_user_filter holders = {.api_only = -1, .role_id = role};
    assert_string_equal(all_pages(f, holders), "u1 u2 u3 u5 u6 u7");
    lk_user_filter found = {.api_only = -1, .search = "paging"};
    assert_string_equal(all_pages(f, found), "u1 u2 u3 u4 u5 u6 u7");
    lk_user_filter found_holders = {.api_only = -1, .search = "pager", .role_id = role};
    assert_string_equal(all_pages(f, found_holders), "u1 u2 u3 u5 u6 u7");

    /* counts ignore cursor and limit, and stop at the cap */
    any.after = 3;
    any.limit = 1;
    assert_int_equal(user_count(f, &any, 0), 7);
    assert_int_equal(user_count(f, &any, 5), 5);
    assert_int_equal(user_count(f, &found, 0), 7);
    assert_int_equal(user_count(f, &found, 3), 3);
    assert_int_equal(user_count(f, &holders, 4), 4);
    assert_int_equal(user_count(f, &holders, 100), 6);
}

/* ---- role holder counts ------------------------------------------------------------------- */

static int64_t holders(lk_fixture *f, int64_t role)
{
    int64_t *pairs;
    size_t n;
    lk_error err = {0};
    assert_int_equal(OPS(f)->role_holder_counts(f->store, &f->arena, &pairs, &n, &err), LK_OK);
    for (size_t i = 0; i < n; i++)
        if (pairs[2 * i] == role)
            return pairs[2 * i + 1];
    return 0;
}

static void role_holder_counts_follow_grants(void **state)
{
    lk_fixture *f = *state;
    int64_t role = add_role(f, "Integration");
    lk_grant both[] = {{.role_id = role, .workspace_id = 0}, {.role_id = role, .workspace_id = 1}};
    int64_t a = add(f, (person){"a@x.com", NULL, NULL, true, LK_STATUS_ACTIVE, 0}, both, 2);
    int64_t b = add(f, (person){"b@x.com", NULL, NULL, true, LK_STATUS_ACTIVE, 0}, both, 1);
    assert_int_equal(holders(f, role), 2);

    lk_user u = get_user(f, a);                  /* every update rewrites the grants */
    u.first_name = "Renamed";
    update_user(f, &u);
    assert_int_equal(holders(f, role), 2);
    u = get_user(f, a);
    u.n_grants = 1;                              /* one workspace left: still a holder */
    update_user(f, &u);
    assert_int_equal(holders(f, role), 2);
    u = get_user(f, a);
    u.n_grants = 0;
    update_user(f, &u);
    assert_int_equal(holders(f, role), 1);
    lk_error err = {0};
    begin(f);
    assert_int_equal(OPS(f)->user_delete(f->store, b, &err), LK_OK); /* grants go by cascade */
    commit(f);
    assert_int_equal(holders(f, role), 0);
    assert_string_equal(lk_fixture_text(f, "SELECT count(*) FROM role_holders WHERE n < 0"), "0");
    begin(f);
    assert_int_equal(OPS(f)->role_delete(f->store, role, &err), LK_OK);
    commit(f);
    assert_string_equal(lk_fixture_text(f, lk_arena_printf(&f->arena, "SELECT count(*) FROM role_holders"
                                                                      " WHERE role_id = %lld", (long long)role)),
                        "0"); /* its row went with it */
}

/* ---- services ------------------------------------------------------------------------------- */

static int64_t add_service(lk_fixture *f, const char *name, const char *client_id, int64_t user_id)
{
    lk_service s = {.name = name, .description = "d", .user_id = user_id, .client_id = client_id,
                    .secret_hash = "aa", .created_at = 3000, .updated_at = 3000};
    lk_error err = {0};
    begin(f);
    assert_int_equal(OPS(f)->service_insert(f->store, &s, &err), LK_OK);
    commit(f);
    return s.id;
}

static const char *names(lk_fixture *f, const lk_service_filter *flt)
{
    lk_service *ss;
    size_t n;
    lk_error err = {0};
    assert_int_equal(OPS(f)->service_list(f->store, &f->arena, flt, &ss, &n, &err), LK_OK);
    const char *s = "";
    for (size_t i = 0; i < n; i++)
        s = lk_arena_printf(&f->arena, "%s%s%s", s, i ? " " : "", ss[i].name);
    return s;
}

static void services_search_filter_cursor(void **state)
{
    lk_fixture *f = *state;
    int64_t crm = add(f, (person){"crm@example.com", NULL, NULL, true, LK_STATUS_ACTIVE, 0}, NULL, 0);
    int64_t erp = add(f, (person){"erp@example.com", NULL, NULL, true, LK_STATUS_ACTIVE, 0}, NULL, 0);
    add_service(f, "CRM Sync", "11111111-1111-4111-8111-111111111111", crm);
    add_service(f, "CRM Backfill", "22222222-2222-4222-8222-222222222222", crm);
    int64_t ledger = add_service(f, "Ledger Export", "33333333-3333-4333-8333-33333333abcd", erp);

    lk_service_filter q = {.search = "crm"};
    assert_string_equal(names(f, &q), "CRM Sync CRM Backfill");
    q = (lk_service_filter){.search = "erp@example"};             /* the owner's email */
    assert_string_equal(names(f, &q), "Ledger Export");
    q = (lk_service_filter){.search = "33333333-3333-4333-8333-33333333ABCD"}; /* a whole client id */
    assert_string_equal(names(f, &q), "Ledger Export");
    q = (lk_service_filter){.search = "33333333"};                 /* not a piece of one */
    assert_string_equal(names(f, &q), "");
    q = (lk_service_filter){.search = "ll"};                       /* short: by scan */
    assert_string_equal(names(f, &q), "CRM Backfill");
    q = (lk_service_filter){.user_id = crm, .search = "sync"};
    assert_string_equal(names(f, &q), "CRM Sync");
    q = (lk_service_filter){.after = 1, .limit = 1};
    assert_string_equal(names(f, &q), "CRM Backfill");

    int64_t n = -1;
    lk_error err = {0};
    q = (lk_service_filter){.search = "example.com", .limit = 1, .after = 2};
    assert_int_equal(OPS(f)->service_count(f->store, &q, 0, &n, &err), LK_OK);
    assert_int_equal(n, 3);
    assert_int_equal(OPS(f)->service_count(f->store, &q, 2, &n, &err), LK_OK);
    assert_int_equal(n, 2);

    /* the index follows a rename, a new owner's email and a delete */
    lk_user u = get_user(f, erp);
    u.email = "finance@example.net";
    update_user(f, &u);
    q = (lk_service_filter){.search = "erp@example"};
    assert_string_equal(names(f, &q), "");
    q = (lk_service_filter){.search = "finance"};
    assert_string_equal(names(f, &q), "Ledger Export");
    lk_service s;
    assert_int_equal(OPS(f)->service_find(f->store, &f->arena, "Ledger Export", &s, &err), LK_OK);
    s.name = "General Ledger";
    begin(f);
    assert_int_equal(OPS(f)->service_update(f->store, &s, &err), LK_OK);
    commit(f);
    q = (lk_service_filter){.search = "general"};
    assert_string_equal(names(f, &q), "General Ledger");
    q = (lk_service_filter){.search = "export"};
    assert_string_equal(names(f, &q), "");
    begin(f);
    assert_int_equal(OPS(f)->service_delete(f->store, ledger, &err), LK_OK);
    commit(f);
    q = (lk_service_filter){.search = "finance"};
    assert_string_equal(names(f, &q), "");
    if (!lk_fixture_pg(f)) /* SQLite's search table (PostgreSQL has none) */
        assert_string_equal(lk_fixture_text(f, "SELECT count(*) FROM services_search"), "2");
}

/* the plan of one of the store's statements with its values, planned as the store's
 * connection plans it (each run with its values: store_pg.c) */
static const char *plan_of(lk_fixture *f, const char *statement, int n, const char *const *vals)
{
    PGconn *conn = PQconnectdb(f->path);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    PQclear(PQexec(conn, "SET plan_cache_mode = force_custom_plan"));
    char *sql = lk_arena_printf(&f->arena, "EXPLAIN %s", statement);
    PGresult *res = PQexecParams(conn, sql, n, NULL, vals, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    const char *plan = "";
    for (int i = 0; i < PQntuples(res); i++)
        plan = lk_arena_printf(&f->arena, "%s%s\n", plan, PQgetvalue(res, i, 0));
    PQclear(res);
    PQfinish(conn);
    return plan;
}

/* PostgreSQL: a users' search is answered by the trigram index users_search, not by
 * reading every user (EXPLAIN of the store's own statement, planned with its values as
 * the store's connection plans it, on 20,000 users) */
static void pg_users_search_uses_the_trigram_index(void **state)
{
    lk_fixture *f = *state;
    if (!lk_fixture_pg(f))
        skip(); /* SQLite: users_search is an FTS5 table, queried by its own MATCH */
    lk_fixture_exec(f, "INSERT INTO users (email, userid, first_name, last_name, reason, api_only, status,"
                       " created_at, updated_at) SELECT 'user' || g || '@example' || (g % 97) || '.com',"
                       " 'user' || g || '@example' || (g % 97) || '.com', 'First' || md5(g::text), 'Last' || g, '',"
                       " 0, 'active', 0, 0 FROM generate_series(1, 20000) g");
    lk_fixture_exec(f, "ANALYZE users");
    /* what user_query binds for the search "abc12 example5" */
    const char *vals[11] = {"0", "-1", "0", "-1", "0", NULL, "0", "{\"%abc12%\",\"%example5%\"}", "50", "0",
                            "%example5%"};
    const char *plan = plan_of(f, lk_pg_sql_user_list, 11, vals);
    if (!strstr(plan, "Index Scan on users_search"))
        fail_msg("the search does not use the trigram index:\n%s", plan);
    /* and the store's answer is the rows that hold both words, whatever their case */
    lk_user_filter uf = {.api_only = -1, .search = "USER12 example5"};
    lk_user *us;
    size_t n;
    lk_error err = {0};
    assert_int_equal(OPS(f)->user_list(f->store, &f->arena, &uf, &us, &n, &err), LK_OK);
    long want = atol(lk_fixture_text(f, "SELECT count(*) FROM users WHERE email LIKE '%user12%' AND email LIKE '%example5%'"));
    assert_true(want > 0);
    assert_int_equal(n, want);
    for (size_t i = 0; i < n; i++)
        assert_non_null(strstr(us[i].email, "example5"));
}

/* PostgreSQL: a services' search by a word few hold is answered through the trigram
 * index services_search (the names) and users_search (the owners), not by reading
 * every service (EXPLAIN of the store's own statement on 20,000 services of 200 owners) */
static void pg_services_search_uses_the_trigram_index(void **state)
{
    lk_fixture *f = *state;
    if (!lk_fixture_pg(f))
        skip(); /* SQLite: services_search is an FTS5 table, queried by its own MATCH */
    lk_fixture_exec(f, "INSERT INTO users (email, userid, first_name, last_name, reason, api_only, status,"
                       " created_at, updated_at) SELECT 'owner' || g || '@example.com', 'owner' || g || '@example.com',"
                       " '', '', '', 1, 'active', 0, 0 FROM generate_series(1, 200) g");
    lk_fixture_exec(f, "INSERT INTO services (name, user_id, client_id, secret_hash, created_at, updated_at)"
                       " SELECT CASE WHEN g % 1000 = 7 THEN 'Ledger Export ' ELSE 'Feed ' END || g,"
                       " (SELECT min(id) FROM users) + g % 200,"
                       " md5('c' || g), 'x', 0, 0 FROM generate_series(1, 20000) g");
    /* VACUUM: as autovacuum would, it moves the new rows from the indexes' pending lists
     * (which the planner counts as read by every search) into the indexes proper */
    lk_fixture_exec(f, "VACUUM ANALYZE users");
    lk_fixture_exec(f, "VACUUM ANALYZE services");
    /* what service_query binds for the search "export ledger" (20 names hold it) */
    const char *vals[7] = {"0", "0", NULL, NULL, "{\"%export%\",\"%ledger%\"}", "50", "%ledger%"};
    const char *plan = plan_of(f, lk_pg_sql_service_list, 7, vals);
    if (!strstr(plan, "Index Scan on services_search"))
        fail_msg("the search does not use the trigram index:\n%s", plan);
    /* the store's answers: the rows holding every word, in the name or the owner's email */
    const struct {
        const char *search, *want;
    } cases[] = {
        {"export LEDGER", "SELECT count(*) FROM services WHERE name LIKE 'Ledger Export %'"},
        {"ledger 1700", "SELECT count(*) FROM services WHERE name LIKE 'Ledger Export %1700%'"},
        {"owner7@example", "SELECT count(*) FROM services s JOIN users u ON u.id = s.user_id"
                           " WHERE u.email = 'owner7@example.com'"},
        {"owner7@ feed", "SELECT count(*) FROM services s JOIN users u ON u.id = s.user_id"
                         " WHERE u.email = 'owner7@example.com'"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lk_service_filter q = {.search = cases[c].search, .limit = 1000};
        lk_service *svcs;
        size_t n;
        lk_error err = {0};
        assert_int_equal(OPS(f)->service_list(f->store, &f->arena, &q, &svcs, &n, &err), LK_OK);
        long want = atol(lk_fixture_text(f, cases[c].want));
        assert_true(want > 0);
        assert_int_equal(n, want);
        for (size_t i = 1; i < n; i++)
            assert_true(svcs[i].id > svcs[i - 1].id);
        int64_t counted = -1;
        assert_int_equal(OPS(f)->service_count(f->store, &q, 0, &counted, &err), LK_OK);
        assert_int_equal(counted, want);
    }
}

/* ---- audit, logins, mail: newest first ------------------------------------------------------ */

static void audit_and_logins_cursor(void **state)
{
    lk_fixture *f = *state;
    lk_error err = {0};
    /* three events at one instant, then two later: a cursor must split that instant */
    int64_t ats[] = {100, 100, 100, 200, 300};
    begin(f);
    for (int i = 0; i < 5; i++) {
        lk_audit_event ev = {.at = ats[i], .actor = "cli:test", .area = "Role", .action = "Create",
                             .target = lk_arena_printf(&f->arena, "e%d", i)};
        assert_int_equal(OPS(f)->audit_insert(f->store, &ev, &err), LK_OK);
        lk_login_rec lr = {.at = ats[i], .email = lk_arena_printf(&f->arena, "l%d@x.com", i), .success = i % 2};
        assert_int_equal(OPS(f)->login_insert(f->store, &lr, &err), LK_OK);
    }
    commit(f);

    const char *seen = "";
    lk_audit_filter af = {.limit = 2};
    for (int page = 0; page < 5; page++) {
        lk_audit_event *ev;
        size_t n;
        assert_int_equal(OPS(f)->audit_list(f->store, &f->arena, &af, &ev, &n, &err), LK_OK);
        for (size_t i = 0; i < n; i++)
            seen = lk_arena_printf(&f->arena, "%s%s%s", seen, *seen ? " " : "", ev[i].target);
        if (n < 2)
            break;
        af.after_at = ev[n - 1].at;
        af.after_id = ev[n - 1].id;
    }
    assert_string_equal(seen, "e4 e3 e2 e1 e0");
    int64_t count = 0;
    lk_audit_filter since = {.since = 150, .after_at = 300, .after_id = 5, .limit = 1};
    assert_int_equal(OPS(f)->audit_count(f->store, &since, 0, &count, &err), LK_OK);
    assert_int_equal(count, 2);
    lk_audit_filter all = {0};
    assert_int_equal(OPS(f)->audit_count(f->store, &all, 4, &count, &err), LK_OK);
    assert_int_equal(count, 4);
    /* a cursor within an until */
    lk_audit_filter until = {.until = 200, .after_at = 100, .after_id = 2};
    lk_audit_event *ev;
    size_t n;
    assert_int_equal(OPS(f)->audit_list(f->store, &f->arena, &until, &ev, &n, &err), LK_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ev[0].target, "e0");

    seen = "";
    lk_login_filter lf = {.limit = 2};
    for (int page = 0; page < 5; page++) {
        lk_login_rec *r;
        assert_int_equal(OPS(f)->login_list(f->store, &f->arena, &lf, &r, &n, &err), LK_OK);
        for (size_t i = 0; i < n; i++)
            seen = lk_arena_printf(&f->arena, "%s%s%s", seen, *seen ? " " : "", r[i].email);
        if (n < 2)
            break;
        lf.after_at = r[n - 1].at;
        lf.after_id = r[n - 1].id;
    }
    assert_string_equal(seen, "l4@x.com l3@x.com l2@x.com l1@x.com l0@x.com");
    lk_login_filter failed = {.failed_only = true};
    assert_int_equal(OPS(f)->login_count(f->store, &failed, 0, &count, &err), LK_OK);
    assert_int_equal(count, 3);
    assert_int_equal(OPS(f)->login_count(f->store, &failed, 2, &count, &err), LK_OK);
    assert_int_equal(count, 2);
}

static void mail_cursor_and_search(void **state)
{
    lk_fixture *f = *state;
    lk_error err = {0};
    begin(f);
    for (int i = 0; i < 5; i++) {
        lk_mail_rec m = {.kind = "admin_added", .recipient = lk_arena_printf(&f->arena, "%s%d@x.com",
                                                                              i % 2 ? "Ops" : "dev", i),
                         .message_id = lk_arena_printf(&f->arena, "m%d", i), .created_at = 10, .next_at = 10};
        assert_int_equal(OPS(f)->mail_insert(f->store, &m, &err), LK_OK);
    }
    commit(f);
    lk_mail_filter q = {.status = -1, .limit = 2};
    lk_mail_rec *m;
    size_t n;
    assert_int_equal(OPS(f)->mail_list(f->store, &f->arena, &q, &m, &n, &err), LK_OK);
    assert_int_equal(n, 2);
    assert_string_equal(m[0].recipient, "dev4@x.com");
    q.after = m[1].id;
    assert_int_equal(OPS(f)->mail_list(f->store, &f->arena, &q, &m, &n, &err), LK_OK);
    assert_int_equal(n, 2);
    assert_string_equal(m[0].recipient, "dev2@x.com");
    assert_string_equal(m[1].recipient, "Ops1@x.com");
    q = (lk_mail_filter){.status = -1, .search = "OPS"};
    assert_int_equal(OPS(f)->mail_list(f->store, &f->arena, &q, &m, &n, &err), LK_OK);
    assert_int_equal(n, 2);
    int64_t count = 0;
    assert_int_equal(OPS(f)->mail_count(f->store, &q, 0, &count, &err), LK_OK);
    assert_int_equal(count, 2);
    q = (lk_mail_filter){.status = LK_MAIL_QUEUED};
    assert_int_equal(OPS(f)->mail_count(f->store, &q, 3, &count, &err), LK_OK);
    assert_int_equal(count, 3);
}

/* ---- the search text's rules ---------------------------------------------------------------- */

static void fts_query_words(void **state)
{
    lk_fixture *f = *state;
    assert_string_equal(lk_sq_fts_query(&f->arena, "  ada   lovelace "), "\"ada\" \"lovelace\"");
    assert_string_equal(lk_sq_fts_query(&f->arena, "say\"hi"), "\"say\"\"hi\"");
    assert_string_equal(lk_sq_fts_query(&f->arena, "Müll"), "\"Müll\"");
    assert_null(lk_sq_fts_query(&f->arena, "ada lo"));   /* a word under three characters */
    assert_null(lk_sq_fts_query(&f->arena, "äö"));
    assert_null(lk_sq_fts_query(&f->arena, "   "));
    assert_null(lk_sq_fts_query(&f->arena, NULL));
    assert_string_equal(lk_sq_search_fold(&f->arena, "  AbC d "), "abc d");
    assert_null(lk_sq_search_fold(&f->arena, " \t"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, lk_fixture_setup, lk_fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(users_search),
        T(pg_users_search_uses_the_trigram_index),
        T(users_filters),
        T(users_cursor_and_count),
        T(role_holder_counts_follow_grants),
        T(services_search_filter_cursor),
        T(pg_services_search_uses_the_trigram_index),
        T(audit_and_logins_cursor),
        T(mail_cursor_and_search),
        T(fts_query_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
