// latchkey user|service|audit|mail list: lists of any size (docs/cli.md#lists). A default
// limit with a note on stderr when more rows match, --after to go on from there, --limit 0
// for everything (read and printed a page at a time, still one document or one table),
// --search and the filters.
import assert from 'node:assert/strict';
import { before, after as afterAll, describe, test } from 'node:test';
import { lk, makeStandardRoles, newDb, ok, refuse, sql } from './lib.mjs';
import { benchClientId, benchEmail, seedApiUsers } from './seed-lib.mjs';

const N = 1_234; // more than the CLI reads at a time (500) and than its default limit (100)
const NOTE = /^latchkey: (\d+) (users|services|events|messages) shown; more with --after (\S+) \(or --limit 0 for all\)$/;

// the document printed by --json must be exactly what one JSON document with 2-space
// indent is, even when it was printed a page at a time
function oneDocument(r) {
  assert.equal(r.stdout, `${JSON.stringify(JSON.parse(r.stdout), null, 2)}\n`, `${r.cmd}: one document`);
  return JSON.parse(r.stdout);
}

describe('list commands page, search and filter', { concurrency: 1 }, () => {
  let db;
  let roles;
  before(() => {
    db = newDb();
    roles = makeStandardRoles(db);
    seedApiUsers(db, N, roles.api.id);
    ok(db, 'user', 'invite', '--email', 'jane@example.com', '--first', 'Jane', '--last', 'Doe', '--role', 'Console');
  });
  afterAll(() => db?.remove());

  test('user list: 100 by default and a note naming --after; the next page from there', () => {
    const r = ok(db, 'user', 'list', '--json');
    const doc = oneDocument(r);
    assert.equal(doc.users.length, 100);
    assert.deepEqual(doc.users.map((u) => u.email), Array.from({ length: 100 }, (_, i) => benchEmail(i + 1)));
    assert.equal(doc.next, String(doc.users[99].id));
    const m = NOTE.exec(r.stderr.trim());
    assert.ok(m, r.stderr);
    assert.deepEqual([m[1], m[2], m[3]], ['100', 'users', doc.next]);
    const more = ok(db, 'user', 'list', '--after', doc.next, '--limit', '3', '--json');
    assert.deepEqual(oneDocument(more).users.map((u) => u.email), [101, 102, 103].map(benchEmail));
    // the table: a header row, 100 rows, the same note
    const t = ok(db, 'user', 'list');
    const lines = t.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 101);
    assert.match(lines[0], /^EMAIL\s+NAME\s+API ONLY\s+STATUS\s+ROLES\s+EXPIRES$/);
    assert.match(t.stderr.trim(), NOTE);
  });

  test('user list --limit 0: every user, in pages underneath, one document and one header', () => {
    const r = ok(db, 'user', 'list', '--limit', '0', '--json');
    const doc = oneDocument(r);
    assert.equal(doc.users.length, N + 1);
    assert.ok(!('next' in doc));
    assert.equal(r.stderr, '');
    assert.deepEqual(doc.users.map((u) => u.id), sql(db, 'SELECT id FROM users ORDER BY id').map((x) => x.id));
    const t = ok(db, 'user', 'list', '--limit', '0');
    const lines = t.stdout.trimEnd().split('\n');
    assert.equal(lines.length, N + 2);
    assert.equal(lines.filter((l) => l.startsWith('EMAIL ')).length, 1, 'one header row');
    // a limit that ends exactly with the list: no note
    const exact = ok(db, 'user', 'list', '--after', String(doc.users[N - 2].id), '--limit', '2');
    assert.equal(exact.stderr, '');
  });

  test('user list --search, --role, --status, --people', () => {
    const emails = (...args) => oneDocument(ok(db, 'user', 'list', ...args, '--json')).users.map((u) => u.email);
    assert.deepEqual(emails('--search', 'bench-123'), [123, 1230, 1231, 1232, 1233, 1234].map(benchEmail));
    assert.deepEqual(emails('--search', 'USER 1233'), [benchEmail(1233)]);
    assert.deepEqual(emails('--search', 'doe'), ['jane@example.com']);
    assert.deepEqual(emails('--role', 'Console'), ['jane@example.com']);
    assert.deepEqual(emails('--status', 'pending'), ['jane@example.com']);
    assert.deepEqual(emails('--people'), ['jane@example.com']);
    assert.equal(emails('--role', 'API Only', '--limit', '0').length, N);
    assert.deepEqual(emails('--search', 'zzz-nobody'), []);
    refuse(db, { status: 1, code: 'usage', field: /^status$/ }, 'user', 'list', '--status', 'asleep');
    refuse(db, { status: 1, code: 'usage', field: /^after$/ }, 'user', 'list', '--after', 'x1');
    refuse(db, { status: 2, code: 'not_found' }, 'user', 'list', '--role', 'No Such Role');
    refuse(db, { status: 1, code: 'invalid', field: /^limit$/ }, 'user', 'list', '--limit', '-1');
  });

  test('service list: pages, --search by name, owner or client id, --user', () => {
    const r = ok(db, 'service', 'list', '--json');
    const doc = oneDocument(r);
    assert.equal(doc.services.length, 100);
    assert.match(r.stderr.trim(), NOTE);
    const all = oneDocument(ok(db, 'service', 'list', '--limit', '0', '--json'));
    assert.equal(all.services.length, N);
    const names = (...args) => oneDocument(ok(db, 'service', 'list', ...args, '--json')).services.map((s) => s.name);
    assert.deepEqual(names('--search', 'bench-1000'), ['bench-1000']);
    assert.deepEqual(names('--search', benchClientId(77)), ['bench-77']);
    assert.deepEqual(names('--user', benchEmail(5)), ['bench-5']);
    assert.deepEqual(names('--after', doc.next, '--limit', '1'), ['bench-101']);
    refuse(db, { status: 2, code: 'not_found' }, 'service', 'list', '--user', 'nobody@example.com');
  });

  test('audit list and mail list go on with --after; mail list --search', () => {
    for (let i = 0; i < 5; i++) ok(db, 'role', 'create', '--name', `Listed ${i}`, '--permission', 'Read-Only Lead');
    const r = ok(db, 'audit', 'list', '--area', 'Role', '--limit', '2', '--json');
    const first = oneDocument(r);
    assert.deepEqual(first.events.map((e) => e.target), ['Listed 4', 'Listed 3']);
    assert.match(first.next, /^\d+\.\d+$/);
    assert.match(r.stderr.trim(), NOTE);
    const second = oneDocument(ok(db, 'audit', 'list', '--area', 'Role', '--limit', '2', '--after', first.next, '--json'));
    assert.deepEqual(second.events.map((e) => e.target), ['Listed 2', 'Listed 1']);
    refuse(db, { status: 1, code: 'usage', field: /^after$/ }, 'audit', 'list', '--after', '12');

    ok(db, 'user', 'invite', '--email', 'max@example.com', '--first', 'Max', '--last', 'Muster', '--role', 'Console');
    const m = oneDocument(ok(db, 'mail', 'list', '--limit', '1', '--json'));
    assert.deepEqual(m.messages.map((x) => x.to), ['max@example.com']);
    assert.deepEqual(oneDocument(ok(db, 'mail', 'list', '--after', m.next, '--json')).messages.map((x) => x.to), ['jane@example.com']);
    assert.deepEqual(oneDocument(ok(db, 'mail', 'list', '--search', 'JANE', '--json')).messages.map((x) => x.to), ['jane@example.com']);
    const none = lk(db, 'mail', 'list', '--after', 'abc');
    assert.equal(none.status, 1);
  });
});
