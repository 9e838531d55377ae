/*
 * expect — the assertions and small helpers the core's unit tests share: a snapshot
 * of every table's row count (to show that a refused call changed nothing), checks
 * on an lk_op's result and error, on the audit trail and on the database files, and
 * string, JSON and time helpers. Include after <setjmp.h> etc. and <cmocka.h>.
 *
 * The expect_* macros report the line of the test that called them; their *_at
 * functions are not meant to be called directly. Strings returned are borrowed
 * (the fixture's arena or the audit event) unless said otherwise.
 */
#ifndef LK_TEST_EXPECT_H
#define LK_TEST_EXPECT_H

#include "fixture.h"
#include "core/audit.h"
#include "core/user.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DAY (24 * 3600)

/* ---- the tables a refused call must leave alone ----------------------------- */

#define N_TABLES 9
extern const char *const TABLES[N_TABLES];

typedef struct snapshot {
    long n[N_TABLES];
} snapshot;

/* row counts of every table */
snapshot snap(lk_fixture *f);

/* every table holds as many rows as in before */
#define expect_unchanged(f, before) expect_unchanged_at(__LINE__, f, before)
void expect_unchanged_at(int line, lk_fixture *f, snapshot before);

/* ---- results ----------------------------------------------------------------- */

/* rc is want, op->err says so, names the field (unless NULL) and contains needle (unless NULL) */
#define expect_err(op, rc, want, field, needle) expect_err_at(__LINE__, op, rc, want, field, needle)
void expect_err_at(int line, const lk_op *op, lk_code rc, lk_code want, const char *field, const char *needle);

#define expect_ok(op, rc) expect_ok_at(__LINE__, op, rc)
void expect_ok_at(int line, const lk_op *op, lk_code rc);

/* ---- the audit trail --------------------------------------------------------- */

/* the events that pass flt (NULL: every event), as listed; *n is their count */
lk_audit_event *list_events(lk_fixture *f, const lk_audit_filter *flt, size_t *n);

/* every audit event, as listed */
lk_audit_event *all_events(lk_fixture *f, size_t *n);

/* the event with the highest id (the one written last) */
lk_audit_event newest_event(lk_fixture *f);

/* Exactly one event was written since `before` (a count of audit_events), with this
 * area, action and target, by the fixture's actor; returns its parsed details
 * (caller decrefs). */
#define expect_audit(f, before, area, action, target) expect_audit_at(__LINE__, f, before, area, action, target)
json_t *expect_audit_at(int line, lk_fixture *f, long before, const char *area, const char *action,
                        const char *target);

/* no audit event mentions s anywhere (target or details) */
#define expect_not_in_audit(f, s) expect_not_in_audit_at(__LINE__, f, s)
void expect_not_in_audit_at(int line, lk_fixture *f, const char *s);

/* s occurs nowhere in the database files (main file and write-ahead log) */
#define expect_not_in_db(f, s) expect_not_in_db_at(__LINE__, f, s)
void expect_not_in_db_at(int line, lk_fixture *f, const char *s);

/* ---- names ------------------------------------------------------------------- */

/* one attempt to use name (create, rename, ...) through a fresh op */
typedef lk_code (*name_attempt)(lk_op *op, const char *name);

/* Variants of a good name that look harmless but every name check refuses -- the
 * name with a space after it and before it, U+00A0 alone and repeated, the name
 * twice with U+202E (right-to-left override) between -- are each refused by
 * attempt with LK_EINVAL naming field and saying why, and no table changes. */
#define expect_names_refused(f, name, field, attempt) expect_names_refused_at(__LINE__, f, name, field, attempt)
void expect_names_refused_at(int line, lk_fixture *f, const char *name, const char *field, name_attempt attempt);

/* ---- users ------------------------------------------------------------------- */

/* an active API-only user "Api User" holding role in AllZones, with an access expiry
 * (NULL: never); the invitation must succeed */
lk_user invite_api(lk_fixture *f, const char *email, const char *role, const char *expires);

/* the first Admin, "Ada Lovelace", active with this password, made through the
 * console's setup path (core/session.h) */
lk_user setup_admin(lk_fixture *f, const char *email, const char *password);

/* a pending person "Pat Person" holding role in workspace ws (NULL: AllZones), with an
 * invitation; the invitation must succeed */
lk_user invite_person(lk_fixture *f, const char *email, const char *role, const char *ws);

/* ---- JSON -------------------------------------------------------------------- */

/* the string member key of a JSON object (borrowed from o) */
#define jstr(o, key) jstr_at(__LINE__, o, key)
const char *jstr_at(int line, const json_t *o, const char *key);

/* true if the JSON array of strings holds s */
bool jarray_has(const json_t *a, const char *s);

/* ---- strings and time -------------------------------------------------------- */

/* a string of n copies of unit (arena) */
char *repeat(lk_fixture *f, const char *unit, size_t n);

/* true if every character of s is an ASCII letter or digit ("" included) */
bool is_alnum(const char *s);

/* '0'..'9' or 'a'..'f' */
bool is_lower_hex(char c);

/* xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx, lower-case */
bool is_uuid_v4(const char *s);

/* ISO-8601 text of an instant (arena) */
const char *iso(lk_fixture *f, int64_t t);

/* the instant of a UTC calendar date and time */
int64_t utc(int y, int mo, int d, int h, int mi, int s);

#endif
