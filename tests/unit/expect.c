/* expect — the unit tests' shared assertions and helpers (see expect.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "expect.h"
#include "core/session.h"
#include "util/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const TABLES[N_TABLES] = {
    "workspaces", "permissions", "roles", "role_permissions", "users",
    "user_roles", "invitations", "services", "audit_events",
};
_Static_assert(sizeof TABLES / sizeof TABLES[0] == N_TABLES, "N_TABLES counts TABLES");

snapshot snap(lk_fixture *f)
{
    snapshot s;
    for (size_t i = 0; i < N_TABLES; i++) {
        s.n[i] = lk_fixture_count(f, TABLES[i]);
        assert_true(s.n[i] >= 0);
    }
    return s;
}

void expect_unchanged_at(int line, lk_fixture *f, snapshot before)
{
    snapshot now = snap(f);
    for (size_t i = 0; i < N_TABLES; i++)
        if (now.n[i] != before.n[i])
            fail_msg("line %d: a refused call changed table %s: %ld rows -> %ld", line, TABLES[i], before.n[i],
                     now.n[i]);
}

void expect_err_at(int line, const lk_op *op, lk_code rc, lk_code want, const char *field, const char *needle)
{
    if (rc != want)
        fail_msg("line %d: expected code %d, got %d (%s)", line, (int)want, (int)rc, op->err.msg);
    if (op->err.code != want)
        fail_msg("line %d: op->err.code is %d, expected %d", line, (int)op->err.code, (int)want);
    if (op->err.msg[0] == '\0')
        fail_msg("line %d: no error message", line);
    if (field && strcmp(op->err.field, field) != 0)
        fail_msg("line %d: error field is '%s', expected '%s' (%s)", line, op->err.field, field, op->err.msg);
    if (needle && !strstr(op->err.msg, needle))
        fail_msg("line %d: message '%s' does not mention '%s'", line, op->err.msg, needle);
}

void expect_ok_at(int line, const lk_op *op, lk_code rc)
{
    if (rc != LK_OK)
        fail_msg("line %d: expected LK_OK, got %d: [%s] %s", line, (int)rc, op->err.field, op->err.msg);
}

lk_audit_event *list_events(lk_fixture *f, const lk_audit_filter *flt, size_t *n)
{
    lk_audit_event *ev = NULL;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_audit_list(op, flt, &ev, n));
    return ev;
}

lk_audit_event *all_events(lk_fixture *f, size_t *n)
{
    return list_events(f, NULL, n);
}

lk_audit_event newest_event(lk_fixture *f)
{
    size_t n = 0;
    lk_audit_event *ev = all_events(f, &n);
    assert_true(n > 0);
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (ev[i].id > ev[best].id)
            best = i;
    return ev[best];
}

json_t *expect_audit_at(int line, lk_fixture *f, long before, const char *area, const char *action,
                        const char *target)
{
    long after = lk_fixture_count(f, "audit_events");
    if (after != before + 1)
        fail_msg("line %d: expected exactly one new audit event, got %ld", line, after - before);
    lk_audit_event ev = newest_event(f);
    if (strcmp(ev.area, area) != 0 || strcmp(ev.action, action) != 0 || strcmp(ev.target, target) != 0)
        fail_msg("line %d: audit event is %s/%s '%s', expected %s/%s '%s'", line, ev.area, ev.action, ev.target,
                 area, action, target);
    if (strcmp(ev.actor, "test") != 0)
        fail_msg("line %d: audit actor is '%s', expected 'test'", line, ev.actor);
    json_error_t je = {0};
    json_t *d = json_loads(ev.details, 0, &je);
    if (!d || !json_is_object(d))
        fail_msg("line %d: audit details are not a JSON object (%s): %s", line, je.text, ev.details);
    return d;
}

const char *jstr_at(int line, const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("line %d: JSON lacks string member '%s'", line, key);
    return json_string_value(v);
}

bool jarray_has(const json_t *a, const char *s)
{
    assert_true(json_is_array(a));
    for (size_t i = 0; i < json_array_size(a); i++)
        if (json_is_string(json_array_get(a, i)) && strcmp(json_string_value(json_array_get(a, i)), s) == 0)
            return true;
    return false;
}

void expect_not_in_audit_at(int line, lk_fixture *f, const char *s)
{
    assert_true(s && *s);
    size_t n = 0;
    lk_audit_event *ev = all_events(f, &n);
    for (size_t i = 0; i < n; i++)
        if (strstr(ev[i].details, s) || strstr(ev[i].target, s))
            fail_msg("line %d: audit event %s/%s carries a secret: %s", line, ev[i].area, ev[i].action,
                     ev[i].details);
}

void expect_not_in_db_at(int line, lk_fixture *f, const char *s)
{
    const char *suffix[] = {"", "-wal"};
    for (size_t i = 0; i < 2; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s%s", f->path, suffix[i]);
        FILE *fp = fopen(path, "rb");
        if (!fp)
            continue;
        size_t cap = 1 << 16, len = 0;
        char *buf = malloc(cap);
        assert_non_null(buf);
        size_t got;
        while ((got = fread(buf + len, 1, cap - len, fp)) > 0) {
            len += got;
            if (len == cap) {
                cap *= 2;
                buf = realloc(buf, cap);
                assert_non_null(buf);
            }
        }
        fclose(fp);
        bool found = memmem(buf, len, s, strlen(s)) != NULL;
        free(buf);
        if (found)
            fail_msg("line %d: a secret is stored in clear in %s", line, path);
    }
}

char *repeat(lk_fixture *f, const char *unit, size_t n)
{
    size_t u = strlen(unit);
    char *s = lk_arena_alloc(&f->arena, u * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * u, unit, u);
    s[u * n] = '\0';
    return s;
}

bool is_alnum(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

bool is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool is_uuid_v4(const char *s)
{
    if (strlen(s) != LK_UUID_LEN)
        return false;
    for (size_t i = 0; i < LK_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (!is_lower_hex(s[i])) {
            return false;
        }
    }
    return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

/* a, b and c one after the other, in the fixture's arena */
static const char *joined(lk_fixture *f, const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = lk_arena_alloc(&f->arena, n);
    snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

void expect_names_refused_at(int line, lk_fixture *f, const char *name, const char *field, name_attempt attempt)
{
    const char *space = "must not start or end with a space";
    const struct {
        const char *text;
        const char *says;
    } bad[] = {
        {joined(f, name, " ", ""), space},
        {joined(f, " ", name, ""), space},
        {"\xc2\xa0", "cannot be blank"},
        {"\xc2\xa0\xc2\xa0\xc2\xa0", "cannot be blank"},
        {joined(f, name, "\xe2\x80\xae", name), "control characters"},
    };
    snapshot s = snap(f);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lk_op *op = lk_fixture_op(f);
        lk_code rc = attempt(op, bad[i].text);
        if (rc != LK_EINVAL)
            fail_msg("line %d: name '%s' (#%zu): expected code %d, got %d (%s)", line, bad[i].text, i, (int)LK_EINVAL,
                     (int)rc, op->err.msg);
        expect_err_at(line, op, rc, LK_EINVAL, field, bad[i].says);
    }
    expect_unchanged_at(line, f, s);
}

lk_user invite_api(lk_fixture *f, const char *email, const char *role, const char *expires)
{
    lk_grant_ref g = {.role = role, .workspace = NULL};
    lk_user_input in = {
        .email = email, .first_name = "Api", .last_name = "User", .expires = expires,
        .api_only = true, .grants = &g, .n_grants = 1,
    };
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, NULL));
    return u;
}

lk_user setup_admin(lk_fixture *f, const char *email, const char *password)
{
    lk_session_token setup;
    lk_user u;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_setup_open(op, &setup));
    op = lk_fixture_op(f);
    expect_ok(op, lk_setup_complete(op, setup.token, email, "Ada", "Lovelace", password, &u));
    return u;
}

lk_user invite_person(lk_fixture *f, const char *email, const char *role, const char *ws)
{
    lk_grant_ref g = {.role = role, .workspace = ws};
    lk_user_input in = {.email = email, .first_name = "Pat", .last_name = "Person", .grants = &g, .n_grants = 1};
    lk_user u;
    lk_invite_token tok;
    lk_op *op = lk_fixture_op(f);
    expect_ok(op, lk_user_invite(op, &in, &u, &tok));
    return u;
}

const char *iso(lk_fixture *f, int64_t t)
{
    char buf[LK_TIME_BUF];
    return lk_arena_strdup(&f->arena, lk_time_format(t, buf));
}

int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s};
    return (int64_t)timegm(&tm);
}
