/*
 * test_catalog — the server's catalog (runtime/catalog.h) as the change feed keeps
 * it (runtime/feed.h): a full load (services by client id and id, API users with
 * their permissions and own limits, secrets with a rotation's grace), each kind of
 * change applied by re-reading only what it names, a full load again when the feed
 * was pruned past the catalog's position (and only the entries that differ
 * replaced), memory held by replaced entries freed once no reader holds them, and
 * readers on other threads while changes are applied.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "expect.h"
#include "fixture.h"
#include "core/allowlist.h"
#include "core/limits.h"
#include "core/role.h"
#include "core/service.h"
#include "core/user.h"
#include "runtime/feed.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define N_SERVICES 300

typedef struct server {
    lk_catalog *cat;
    lk_tokens *tok;
    lk_feed *feed;
} server;

static int setup(void **state)
{
    if (lk_fixture_setup(state) != 0)
        return -1;
    lk_fixture *f = *state;
    const char *read[] = {"Read-Only Lead"};
    /* Access Users applies to tokens, Access Roles does not (core/authz.h) */
    const char *write[] = {"Read-Write Lead", "Read-Only Activity", "Access Users", "Access Roles"};
    lk_role r;
    if (lk_role_create(lk_fixture_op(f), "Reader", NULL, read, 1, &r) != LK_OK ||
        lk_role_create(lk_fixture_op(f), "Writer", NULL, write, 4, &r) != LK_OK)
        return -1;
    invite_api(f, "reader@example.com", "Reader", NULL);
    invite_api(f, "reader2@example.com", "Reader", NULL);
    invite_api(f, "writer@example.com", "Writer", NULL);
    return 0;
}

static server start(lk_fixture *f)
{
    server s = {.cat = lk_catalog_new()};
    s.tok = lk_tokens_new(s.cat, 0);
    s.feed = lk_feed_new(s.cat, s.tok);
    lk_error err = {0};
    lk_feed_stats st;
    if (lk_feed_load(s.feed, f->store, f->op.now, &st, &err) != LK_OK)
        fail_msg("load failed: %s", err.msg);
    assert_true(st.full_load);
    return s;
}

static lk_feed_stats poll(server *s, lk_fixture *f)
{
    lk_error err = {0};
    lk_feed_stats st;
    if (lk_feed_poll(s->feed, f->store, f->op.now, &st, &err) != LK_OK)
        fail_msg("poll failed: %s", err.msg);
    return st;
}

static void stop(server *s)
{
    lk_feed_free(s->feed);
    lk_tokens_free(s->tok);
    lk_catalog_free(s->cat);
}

static int64_t user_id(lk_fixture *f, const char *email)
{
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_find(op, email, &u));
    return u.id;
}

static const lk_cat_user *user_by_email(const lk_catalog *c, lk_fixture *f, const char *email)
{
    const lk_cat_user *cu = lk_catalog_user(c, user_id(f, email));
    assert_non_null(cu);
    assert_string_equal(lk_cat_user_email(cu), email);
    return cu;
}

static bool has(const lk_catalog *c, const lk_cat_user *u, const char *perm)
{
    return lk_catalog_user_has(c, u, lk_catalog_permission(c, perm));
}

static void services_users_and_secrets(void **state)
{
    lk_fixture *f = *state;
    lk_service svc[N_SERVICES];
    static lk_client_secret secret[N_SERVICES];
    for (int i = 0; i < N_SERVICES; i++) {
        char name[32];
        snprintf(name, sizeof name, "Service %d", i);
        lk_op *op = lk_fixture_op(f);
        expect_ok(op, lk_service_create(op, name, NULL, i % 2 ? "reader@example.com" : "writer@example.com",
                                        &svc[i], secret[i]));
    }
    /* client ids a database may hold though latchkey never makes them: kept as text,
     * matched exactly (an upper-case UUID is another id than its lower-case spelling) */
    const char *odd[] = {"legacy client", "0A1B2C3D-0000-4000-8000-000000000001"};
    lk_error err = {0};
    assert_int_equal(f->store->ops->begin(f->store, &err), LK_OK);
    for (int i = 0; i < 2; i++) {
        lk_service o = {.name = odd[i], .user_id = svc[0].user_id, .client_id = odd[i], .secret_hash = "zz",
                        .created_at = 1, .updated_at = 1};
        assert_int_equal(f->store->ops->service_insert(f->store, &o, &err), LK_OK);
    }
    assert_int_equal(f->store->ops->commit(f->store, &err), LK_OK);

    server s = start(f);
    lk_catalog *c = s.cat;
    lk_catalog_read_begin(c);
    int64_t now = f->op.now;
    for (int i = 0; i < 2; i++) {
        const lk_cat_service *cs = lk_catalog_service_by_client(c, odd[i]);
        assert_non_null(cs);
        assert_false(cs->flags & LK_CAT_UUID);
        char buf[LK_CLIENT_ID_BUF];
        assert_string_equal(lk_cat_service_client_id(cs, buf), odd[i]);
        assert_false(lk_cat_service_secret_matches(cs, "zz", now)); /* a malformed stored hash matches nothing */
    }
    assert_null(lk_catalog_service_by_client(c, "0a1b2c3d-0000-4000-8000-000000000001"));
    assert_null(lk_catalog_service_by_client(c, "Legacy Client"));
    char upper[LK_UUID_LEN + 1];
    snprintf(upper, sizeof upper, "%s", svc[0].client_id);
    for (char *p = upper; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    if (strcmp(upper, svc[0].client_id) != 0)
        assert_null(lk_catalog_service_by_client(c, upper));
    for (int i = 0; i < N_SERVICES; i++) {
        const lk_cat_service *cs = lk_catalog_service_by_client(c, svc[i].client_id);
        assert_non_null(cs);
        assert_ptr_equal(cs, lk_catalog_service(c, svc[i].id));
        assert_int_equal(cs->id, svc[i].id);
        assert_int_equal(cs->user_id, svc[i].user_id);
        char buf[LK_CLIENT_ID_BUF];
        assert_string_equal(lk_cat_service_client_id(cs, buf), svc[i].client_id);
        assert_true(cs->flags & LK_CAT_UUID); /* kept as 16 bytes */
        assert_int_equal(cs->token_epoch, 0);
        assert_int_equal(lk_cat_service_old_secret_until(cs), 0);
        assert_true(lk_cat_service_secret_matches(cs, secret[i], now));
        assert_false(lk_cat_service_secret_matches(cs, secret[(i + 1) % N_SERVICES], now));
        assert_false(lk_cat_service_secret_matches(cs, NULL, now));
        assert_true(lk_cat_user_usable(lk_catalog_user(c, cs->user_id), now));
    }
    assert_null(lk_catalog_service_by_client(c, "00000000-0000-4000-8000-000000000000"));
    assert_null(lk_catalog_service_by_client(c, NULL));
    assert_null(lk_catalog_service(c, 0));
    assert_null(lk_catalog_user(c, 999999));

    lk_catalog_iter it = {0};
    const lk_cat_service *cs;
    size_t n = 0;
    while (lk_catalog_next_service(c, &it, &cs))
        n++;
    assert_int_equal(n, N_SERVICES + 2);
    lk_catalog_read_end(c);
    assert_int_equal(lk_catalog_count_services(c), N_SERVICES + 2);
    assert_int_equal(lk_catalog_count_users(c), 3);
    stop(&s);
}

static void permissions_and_limits(void **state)
{
    lk_fixture *f = *state;
    lk_limits_change ch = {.set_rate = true, .rate_calls = 5, .rate_seconds = 10, .set_daily = true, .daily = 70};
    lk_limits out;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_limits_set(op, "writer@example.com", &ch, &out));
    /* an API user holding no role at all */
    lk_user bare = {.email = "bare@example.com", .userid = "bare@example.com", .first_name = "B",
                    .last_name = "B", .api_only = true, .status = LK_STATUS_ACTIVE,
                    .created_at = f->op.now, .updated_at = f->op.now};
    lk_error err = {0};
    assert_int_equal(f->store->ops->begin(f->store, &err), LK_OK);
    assert_int_equal(f->store->ops->user_insert(f->store, &bare, &err), LK_OK);
    assert_int_equal(f->store->ops->commit(f->store, &err), LK_OK);
    op = lk_fixture_op(f);
    lk_user locked;
    expect_ok(op, lk_user_lock(op, "reader2@example.com", "test", &locked));

    server s = start(f);
    lk_catalog *c = s.cat;
    lk_catalog_read_begin(c);
    int read = lk_catalog_permission(c, "read-only lead");
    int rw = lk_catalog_permission(c, "Read-Write Lead");
    int act = lk_catalog_permission(c, "READ-ONLY ACTIVITY");
    assert_true(read >= 0 && rw >= 0 && act >= 0);
    assert_int_equal(lk_catalog_permission(c, "no such permission"), -1);

    const lk_cat_user *reader = user_by_email(c, f, "reader@example.com");
    const lk_cat_user *reader2 = user_by_email(c, f, "reader2@example.com");
    const lk_cat_user *writer = user_by_email(c, f, "writer@example.com");
    const lk_cat_user *b = lk_catalog_user(c, bare.id);
    assert_non_null(b);
    assert_true(lk_catalog_user_has(c, reader, read));
    assert_false(lk_catalog_user_has(c, reader, rw));
    assert_false(lk_catalog_user_has(c, reader, -1));
    assert_true(lk_catalog_user_has(c, writer, rw));
    assert_true(lk_catalog_user_has(c, writer, act));
    assert_false(lk_catalog_user_has(c, writer, read));
    /* a token holds only what applies to tokens: Access Users yes, Access Roles never */
    assert_true(has(c, writer, "Access Users"));
    assert_false(has(c, writer, "Access Roles"));
    assert_false(lk_catalog_user_has(c, b, read));
    assert_int_equal(b->n_roles, 0);

    assert_true(lk_cat_user_usable(reader, f->op.now));
    assert_false(lk_cat_user_usable(reader2, f->op.now));
    assert_true(lk_cat_user_usable(b, f->op.now));
    assert_null(lk_cat_user_limits(reader));
    const lk_limits *wl = lk_cat_user_limits(writer);
    assert_non_null(wl);
    assert_int_equal(wl->rate_calls, 5);
    assert_int_equal(wl->rate_seconds, 10);
    assert_int_equal(wl->daily, 70);
    assert_string_equal(lk_cat_user_email(writer), "writer@example.com"); /* after the limits */
    assert_int_equal(writer->n_roles, 1);
    assert_int_equal(lk_catalog_instance_limits(c)->rate_calls, 100);
    lk_catalog_read_end(c);
    stop(&s);
}

static void rotation_grace(void **state)
{
    lk_fixture *f = *state;
    lk_service s;
    lk_client_secret first, second;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_service_create(op, "Rotating", NULL, "reader@example.com", &s, first));
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_rotate_secret(op, "Rotating", 3600, &s, second));

    server srv = start(f);
    lk_catalog *c = srv.cat;
    lk_catalog_read_begin(c);
    const lk_cat_service *cs = lk_catalog_service_by_client(c, s.client_id);
    assert_non_null(cs);
    int64_t until = lk_cat_service_old_secret_until(cs);
    assert_int_equal(until, s.old_secret_expires_at);
    assert_int_equal(cs->token_epoch, 1); /* the rotation moved it */
    int64_t now = f->op.now;
    assert_true(lk_cat_service_secret_matches(cs, second, now));
    assert_true(lk_cat_service_secret_matches(cs, first, now));
    assert_false(lk_cat_service_secret_matches(cs, first, until));
    assert_true(lk_cat_service_secret_matches(cs, second, until));
    /* the same answers as the core's rule over the stored record */
    assert_true(lk_service_secret_matches(&s, first, now));
    assert_false(lk_service_secret_matches(&s, first, s.old_secret_expires_at));
    lk_catalog_read_end(c);
    stop(&srv);
}

/* ---- changes, one at a time ------------------------------------------------------- */

static void each_change_rereads_what_it_names(void **state)
{
    lk_fixture *f = *state;
    lk_service a, b;
    lk_client_secret sa, sb;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_service_create(op, "A", NULL, "reader@example.com", &a, sa));
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_create(op, "B", NULL, "writer@example.com", &b, sb));
    server s = start(f);
    lk_catalog *c = s.cat;
    int64_t pos = lk_catalog_position(c);
    assert_true(pos > 0);
    lk_feed_stats st = poll(&s, f);
    assert_false(st.full_load);
    assert_int_equal(st.applied, 0); /* nothing new */

    /* a new service: one entry read */
    lk_service n;
    lk_client_secret sn;
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_create(op, "New", NULL, "reader@example.com", &n, sn));
    st = poll(&s, f);
    assert_false(st.full_load);
    assert_int_equal(st.reread, 1);
    assert_true(st.position > pos);
    lk_catalog_read_begin(c);
    assert_true(lk_cat_service_secret_matches(lk_catalog_service_by_client(c, n.client_id), sn, f->op.now));
    lk_catalog_read_end(c);

    /* a rotation: the service read again, its epoch moved, the new secret in force */
    lk_client_secret sa2;
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_rotate_secret(op, "A", 0, &a, sa2));
    st = poll(&s, f);
    assert_int_equal(st.reread, 1);
    lk_catalog_read_begin(c);
    const lk_cat_service *ca = lk_catalog_service(c, a.id);
    assert_int_equal(ca->token_epoch, 1);
    assert_true(lk_cat_service_secret_matches(ca, sa2, f->op.now));
    assert_false(lk_cat_service_secret_matches(ca, sa, f->op.now));
    lk_catalog_read_end(c);

    /* locking an owner: the user and its services */
    lk_user u;
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_lock(op, "writer@example.com", "test", &u));
    st = poll(&s, f);
    assert_int_equal(st.reread, 2);
    lk_catalog_read_begin(c);
    assert_false(lk_cat_user_usable(lk_catalog_user(c, u.id), f->op.now));
    assert_int_equal(lk_catalog_service(c, b.id)->token_epoch, 1);
    lk_catalog_read_end(c);

    /* a role's permissions: the roles, not its 2 holders */
    const char *add[] = {"Read-Only Company"};
    lk_role_change rc = {.add = add, .n_add = 1};
    lk_role r;
    op = lk_fixture_op(f);
    expect_ok(op, lk_role_update(op, "Reader", &rc, &r));
    st = poll(&s, f);
    assert_int_equal(st.reread, 0);
    lk_catalog_read_begin(c);
    assert_true(has(c, user_by_email(c, f, "reader@example.com"), "Read-Only Company"));
    assert_true(has(c, user_by_email(c, f, "reader2@example.com"), "read-only company"));
    assert_false(has(c, user_by_email(c, f, "writer@example.com"), "Read-Only Company"));
    lk_catalog_read_end(c);

    /* instance limits and the allowlist */
    lk_limits_change lc = {.set_daily = true, .daily = 5};
    lk_limits lo;
    op = lk_fixture_op(f);
    expect_ok(op, lk_limits_set(op, NULL, &lc, &lo));
    const char *canon;
    op = lk_fixture_op(f);
    expect_ok(op, lk_allowlist_add(op, "10.0.0.0/8", &canon));
    op = lk_fixture_op(f);
    expect_ok(op, lk_allowlist_enable(op, true));
    st = poll(&s, f);
    assert_int_equal(st.reread, 0);
    lk_catalog_read_begin(c);
    assert_int_equal(lk_catalog_instance_limits(c)->daily, 5);
    lk_ip in, out;
    assert_true(lk_ip_parse("10.1.2.3", &in));
    assert_true(lk_ip_parse("192.0.2.1", &out));
    assert_true(lk_catalog_allows(c, &in));
    assert_false(lk_catalog_allows(c, &out));
    lk_catalog_read_end(c);

    /* a deleted service; a user's own limits */
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_delete(op, "New"));
    lk_limits_change ulc = {.set_concurrent = true, .concurrent = 2};
    op = lk_fixture_op(f);
    expect_ok(op, lk_limits_set(op, "reader@example.com", &ulc, &lo));
    st = poll(&s, f);
    assert_int_equal(st.reread, 2);
    lk_catalog_read_begin(c);
    assert_null(lk_catalog_service(c, n.id));
    assert_null(lk_catalog_service_by_client(c, n.client_id));
    assert_int_equal(lk_cat_user_limits(user_by_email(c, f, "reader@example.com"))->concurrent, 2);
    lk_catalog_read_end(c);

    /* another process's change (the CLI), seen the same way; no full load at all */
    assert_int_equal(lk_feed_full_loads(s.feed), 1);
    stop(&s);
}

static void full_load_when_the_feed_was_pruned(void **state)
{
    lk_fixture *f = *state;
    lk_service a, b;
    lk_client_secret sa, sb;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_service_create(op, "A", NULL, "reader@example.com", &a, sa));
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_create(op, "B", NULL, "writer@example.com", &b, sb));
    server s = start(f);
    lk_catalog *c = s.cat;
    lk_catalog_read_begin(c);
    const lk_cat_service *kept = lk_catalog_service(c, b.id);
    const lk_cat_user *kept_user = lk_catalog_user(c, b.user_id);
    lk_catalog_read_end(c);

    /* changes the process does not see before they are pruned */
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_delete(op, "A"));
    lk_user u;
    op = lk_fixture_op(f);
    expect_ok(op, lk_user_lock(op, "reader2@example.com", "gone", &u));
    lk_error err = {0};
    int64_t removed = 0;
    assert_int_equal(f->store->ops->begin(f->store, &err), LK_OK);
    assert_int_equal(f->store->ops->changes_prune(f->store, f->op.now + 10, 0, 0, &removed, &err), LK_OK);
    assert_int_equal(f->store->ops->commit(f->store, &err), LK_OK);
    assert_true(removed > 0);

    lk_feed_stats st = poll(&s, f);
    assert_true(st.full_load);
    assert_int_equal(lk_feed_full_loads(s.feed), 2);
    lk_catalog_read_begin(c);
    assert_null(lk_catalog_service(c, a.id));                 /* gone: swept */
    assert_false(lk_cat_user_usable(lk_catalog_user(c, u.id), f->op.now));
    assert_ptr_equal(lk_catalog_service(c, b.id), kept);      /* unchanged: the same entry */
    assert_ptr_equal(lk_catalog_user(c, b.user_id), kept_user);
    lk_catalog_read_end(c);
    assert_int_equal(lk_catalog_count_services(c), 1);

    /* every row is gone now: the next change is applied on its own, no load again */
    lk_limits_change ulc = {.set_daily = true, .daily = 9};
    lk_limits lo;
    op = lk_fixture_op(f);
    expect_ok(op, lk_limits_set(op, "writer@example.com", &ulc, &lo));
    st = poll(&s, f);
    assert_false(st.full_load);
    assert_int_equal(st.reread, 1);
    assert_int_equal(lk_feed_full_loads(s.feed), 2);
    stop(&s);
}

static void replaced_entries_live_while_read(void **state)
{
    lk_fixture *f = *state;
    lk_service a;
    lk_client_secret sa, sa2;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_service_create(op, "A", NULL, "reader@example.com", &a, sa));
    server s = start(f);
    lk_catalog *c = s.cat;
    lk_catalog_collect(c);
    lk_catalog_collect(c);
    assert_int_equal(lk_catalog_pending(c), 0);

    /* a reader holds the entry while the feed replaces it */
    lk_catalog_read_begin(c);
    const lk_cat_service *old = lk_catalog_service(c, a.id);
    op = lk_fixture_op(f);
    expect_ok(op, lk_service_rotate_secret(op, "A", 0, &a, sa2));
    poll(&s, f);
    lk_catalog_collect(c);
    assert_true(lk_catalog_pending(c) > 0);      /* kept for the reader */
    assert_int_equal(old->id, a.id);             /* still readable (ASan would say otherwise) */
    assert_true(lk_cat_service_secret_matches(old, sa, f->op.now));
    assert_ptr_not_equal(lk_catalog_service(c, a.id), old);
    lk_catalog_read_end(c);
    lk_catalog_collect(c);
    lk_catalog_collect(c);
    assert_int_equal(lk_catalog_pending(c), 0);  /* freed once nobody reads */
    stop(&s);
}

/* ---- readers on other threads ----------------------------------------------------------- */

typedef struct reader_arg {
    lk_catalog *cat;
    int64_t service_id, user_id;
    atomic_bool *stop;
    long lookups;
} reader_arg;

static void *reader(void *p)
{
    reader_arg *r = p;
    while (!atomic_load(r->stop)) {
        lk_catalog_read_begin(r->cat);
        const lk_cat_service *s = lk_catalog_service(r->cat, r->service_id);
        const lk_cat_user *u = lk_catalog_user(r->cat, r->user_id);
        /* always whole: present in every state the writer leaves */
        char buf[LK_CLIENT_ID_BUF];
        if (!s || !u || s->id != r->service_id || s->user_id != r->user_id ||
            strlen(lk_cat_service_client_id(s, buf)) != 36 || u->id != r->user_id ||
            strcmp(lk_cat_user_email(u), "reader@example.com") != 0)
            abort();
        /* by its client id: this entry, or one version before or after it (the two
         * indexes are changed one after the other) — never nothing, never another */
        const lk_cat_service *by_client = lk_catalog_service_by_client(r->cat, buf);
        if (!by_client || by_client->id != r->service_id)
            abort();
        lk_catalog_read_end(r->cat);
        r->lookups++;
    }
    return NULL;
}

static void readers_while_changes_apply(void **state)
{
    lk_fixture *f = *state;
    lk_service a;
    lk_client_secret sa;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_service_create(op, "A", NULL, "reader@example.com", &a, sa));
    server s = start(f);
    atomic_bool done = false;
    reader_arg args[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        args[i] = (reader_arg){.cat = s.cat, .service_id = a.id, .user_id = a.user_id, .stop = &done};
        assert_int_equal(pthread_create(&th[i], NULL, reader, &args[i]), 0);
    }
    /* the service and its owner replaced over and over, other services come and go
     * (the indexes grow and shrink under the readers) */
    for (int i = 0; i < 60; i++) {
        op = lk_fixture_op(f);
        expect_ok(op, lk_service_rotate_secret(op, "A", i % 2 ? 60 : 0, &a, sa));
        for (int k = 0; k < 5; k++) {
            char name[32];
            snprintf(name, sizeof name, "T%d-%d", i, k);
            lk_service t;
            lk_client_secret st;
            op = lk_fixture_op(f);
            expect_ok(op, lk_service_create(op, name, NULL, "reader2@example.com", &t, st));
        }
        lk_limits_change ulc = {.set_concurrent = true, .concurrent = 1 + i};
        lk_limits lo;
        op = lk_fixture_op(f);
        expect_ok(op, lk_limits_set(op, "reader@example.com", &ulc, &lo));
        poll(&s, f);
        if (i % 10 == 9) {
            lk_error err = {0};
            lk_feed_stats st;
            assert_int_equal(lk_feed_load(s.feed, f->store, f->op.now, &st, &err), LK_OK);
        }
    }
    atomic_store(&done, true);
    long total = 0;
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        total += args[i].lookups;
    }
    assert_true(total > 0);
    lk_catalog_collect(s.cat);
    lk_catalog_collect(s.cat);
    assert_int_equal(lk_catalog_pending(s.cat), 0);
    assert_int_equal(lk_catalog_count_services(s.cat), 1 + 60 * 5);
    stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(services_users_and_secrets, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(permissions_and_limits, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(rotation_grace, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(each_change_rereads_what_it_names, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(full_load_when_the_feed_was_pruned, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(replaced_entries_live_while_read, setup, lk_fixture_teardown),
        cmocka_unit_test_setup_teardown(readers_while_changes_apply, setup, lk_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
