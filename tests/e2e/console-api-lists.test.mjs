// latchkey serve: the console API's lists are paged, searched and filtered on the server
// (docs/console-api.md#lists; issue 12 "Lists that stay small"): users (with their
// filters and a role's holders), the API-only user picker, services, the audit trail,
// the login history and the email queue. Every page holds at most its limit and about
// 1 MB; a cursor pages through a list without skipping or repeating a row; totals are
// exact, or counted up to 10,000; bad parameters are a clear 400.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  assertConsoleError, assertConsoleOk, cli, consoleCall, consoleReadyAdmin, startServer,
} from './server-lib.mjs';
import { newDb, sql } from './lib.mjs';
import { benchClientId, benchEmail, seedApiUsers, sqlScript } from './seed-lib.mjs';

const PW = 'correct horse battery 1';
const BOSS = 'boss@example.com';
const BENCH = 12_000;     // API-only users bench-1 … bench-12000, a service each
const WIDE = 600;         // users with a 2,000-character reason: pages of them hit the byte budget
const MB = 1024 * 1024;
const PAGE_KEYS = ['limit', 'next', 'total', 'totalExact'];

describe('console API: lists that stay small', { concurrency: 1 }, () => {
  let db;
  let srv;
  let boss;
  const roles = {};
  const sizes = [];     // every list answer's size in bytes
  const get = async (path) => {
    const r = await boss.call(path);
    sizes.push([path, Buffer.byteLength(r.text)]);
    return r;
  };
  const page = async (path, key) => {
    const j = assertConsoleOk(await get(path), path);
    for (const k of PAGE_KEYS) assert.ok(k in j, `${path}: ${k}`);
    assert.ok(Array.isArray(j[key]), `${path}: ${key} is an array`);
    assert.ok(j[key].length <= j.limit, `${path}: no more rows than the limit`);
    return j;
  };
  // every page of a list, following next; returns the rows
  const all = async (path, key) => {
    const rows = [];
    let next = null;
    for (let guard = 0; guard < 1000; guard++) {
      const j = await page(`${path}${path.includes('?') ? '&' : '?'}${next ? `after=${encodeURIComponent(next)}` : ''}`, key);
      rows.push(...j[key]);
      if (!j.next) return rows;
      assert.ok(j[key].length > 0, `${path}: a page with a next cursor is not empty`);
      next = j.next;
    }
    assert.fail(`${path}: paging did not end`);
    return rows;
  };

  before(async () => {
    db = newDb();
    roles.api = cli(db, 'role', 'create', '--name', 'API Only', '--permission', 'Read-Only Lead').role;
    roles.console = cli(db, 'role', 'create', '--name', 'Console', '--permission', 'Access Users').role;
    seedApiUsers(db, BENCH, roles.api.id);
    const rows = [];
    for (let i = 1; i <= WIDE; i++)
      rows.push(`('wide-${i}@wide.test', 'wide-${i}@wide.test', 'Wide', 'Row ${i}', '${'x'.repeat(2000)}', 0, 'active', 1, 1)`);
    sqlScript(db, `INSERT INTO users (email, userid, first_name, last_name, reason, api_only, status, created_at, updated_at) VALUES ${rows.join(',\n')};`);
    cli(db, 'user', 'invite', '--email', 'ada@example.com', '--first', 'Ada', '--last', 'Lovelace', '--role', 'Console');
    cli(db, 'user', 'invite', '--email', 'frozen@example.com', '--first', 'Frozen', '--last', 'Robot', '--role', 'API Only', '--api-only');
    cli(db, 'user', 'lock', 'frozen@example.com', '--reason', 'test');
    cli(db, 'user', 'invite', '--email', 'expired@example.com', '--first', 'Past', '--last', 'Due', '--role', 'API Only', '--api-only');
    sql(db, "UPDATE users SET expires_at = 1000000000 WHERE email = 'expired@example.com'");
    srv = await startServer(null, db);
    boss = await consoleReadyAdmin(srv, db, BOSS, PW);
  });
  after(async () => {
    await srv?.stop();
    db?.remove();
  });
  const TOTAL = BENCH + WIDE + 4; // + ada, frozen, expired, boss

  test('users: 50 a page by default, an exact total, and a cursor through all of them without a gap', async () => {
    const first = await page('/users', 'users');
    assert.equal(first.users.length, 50);
    assert.equal(first.limit, 50);
    assert.equal(first.total, TOTAL);
    assert.equal(first.totalExact, true);
    assert.equal(first.next, String(first.users[49].id));
    const rows = await all('/users?limit=1000', 'users');
    assert.equal(rows.length, TOTAL);
    const ids = rows.map((u) => u.id);
    assert.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]), 'in id order, none twice');
    assert.equal(new Set(rows.map((u) => u.email)).size, TOTAL);
    const sql1 = sql(db, 'SELECT id FROM users ORDER BY id').map((r) => r.id);
    assert.deepEqual(ids, sql1, 'the same users as the database');
    // a page past the end is empty
    const last = await page(`/users?after=${ids[ids.length - 1]}`, 'users');
    assert.deepEqual(last.users, []);
    assert.equal(last.next, null);
  });

  test('a page stops at about 1 MB, however large its limit and rows', async () => {
    const j = await page('/users?q=wide.test&limit=1000', 'users');
    assert.ok(j.users.length > 0 && j.users.length < WIDE, `a partial page: ${j.users.length} rows`);
    assert.ok(j.next, 'more to come');
    assert.equal(j.total, WIDE);
    const rows = await all('/users?q=wide.test&limit=1000', 'users');
    assert.equal(rows.length, WIDE);
    assert.equal(rows[0].reason.length, 2000);
  });

  test('users search: words in email, user id or names, through the index; short text by scan; case-insensitive', async () => {
    let j = await page('/users?q=bench-117', 'users');
    assert.equal(j.total, 111); // bench-117, bench-1170…1179, bench-11700…11799
    assert.equal(j.totalExact, true);
    assert.ok(j.users.every((u) => u.email.startsWith('bench-117')));
    j = await page(`/users?q=${encodeURIComponent('USER 1234 bench')}`, 'users');
    assert.deepEqual(j.users.map((u) => u.email), [benchEmail(1234), benchEmail(11234)]);
    j = await page('/users?q=LOVELACE', 'users');
    assert.deepEqual(j.users.map((u) => u.email), ['ada@example.com']);
    j = await page('/users?q=CE', 'users'); // under three characters: a scan for the whole text
    assert.deepEqual(j.users.map((u) => u.email), ['ada@example.com']);
    j = await page('/users?q=nobody-has-this', 'users');
    assert.deepEqual([j.users, j.total, j.totalExact, j.next], [[], 0, true, null]);
    // a search matching more than 10,000: counted up to there
    j = await page('/users?q=bench&limit=10', 'users');
    assert.deepEqual([j.total, j.totalExact, j.users.length], [10_000, false, 10]);
    const found = await all('/users?q=bench&limit=1000', 'users');
    assert.equal(found.length, BENCH);
  });

  test('users filters: API Only, effective status, a role\'s holders', async () => {
    let j = await page('/users?apiOnly=false', 'users');
    assert.deepEqual([j.total, j.totalExact], [WIDE + 2, true]);
    const people = await all('/users?apiOnly=false&limit=1000', 'users');
    assert.deepEqual(people.map((u) => u.email).sort(),
      [BOSS, 'ada@example.com', ...Array.from({ length: WIDE }, (_, i) => `wide-${i + 1}@wide.test`)].sort());
    assert.ok(people.every((u) => u.apiOnly === false));
    j = await page('/users?status=pending', 'users');
    assert.deepEqual(j.users.map((u) => u.email), ['ada@example.com']);
    j = await page('/users?status=locked', 'users');
    assert.deepEqual(j.users.map((u) => [u.email, u.status, u.lockedReason]),
      [['frozen@example.com', 'locked', 'test'], ['expired@example.com', 'locked', 'access expired']]);
    j = await page('/users?status=locked&apiOnly=true&q=frozen', 'users');
    assert.deepEqual(j.users.map((u) => u.email), ['frozen@example.com']);
    j = await page(`/users?role=${roles.console.id}`, 'users');
    assert.deepEqual(j.users.map((u) => u.email), ['ada@example.com']);
    j = await page(`/users?role=${roles.api.id}&limit=5`, 'users');
    assert.deepEqual([j.total, j.totalExact], [10_000, false]);
    assert.deepEqual(j.users.map((u) => u.email), [1, 2, 3, 4, 5].map(benchEmail));
    j = await page(`/users?role=${roles.api.id}&q=frozen`, 'users');
    assert.deepEqual(j.users.map((u) => u.email), ['frozen@example.com']);
    j = await page(`/users?role=${roles.api.id}&after=${j.users[0].id}`, 'users');
    assert.deepEqual(j.users.map((u) => u.email), ['expired@example.com']);
    // the roles list counts holders without reading them
    const listed = assertConsoleOk(await boss.call('/roles'));
    assert.equal(listed.find((r) => r.id === roles.api.id).holders, BENCH + 2);
    assert.equal(listed.find((r) => r.id === roles.console.id).holders, 1);
    assert.equal(listed.find((r) => r.name === 'Admin').holders, 1);
  });

  test('the API-only user picker: active API-only users, searched, one page', async () => {
    let j = await page('/apiusers?limit=3', 'users');
    assert.deepEqual(j.users.map((u) => Object.keys(u).sort()), Array(3).fill(['email', 'firstName', 'id', 'lastName']));
    assert.deepEqual(j.users.map((u) => u.email), [1, 2, 3].map(benchEmail));
    assert.deepEqual([j.total, j.totalExact], [10_000, false]);
    j = await page('/apiusers?q=bench-4711', 'users');
    assert.deepEqual(j.users.map((u) => u.email), [benchEmail(4711)]);
    for (const q of ['frozen', 'expired', 'ada', 'wide-1@']) {
      j = await page(`/apiusers?q=${q}`, 'users');
      assert.deepEqual(j.users, [], `${q}: locked, expired, pending and people are not offered`);
    }
  });

  test('services: paged, searched by name, owner email or a whole client id, filtered by owner', async () => {
    let j = await page('/services?limit=1000', 'services');
    assert.deepEqual([j.services.length, j.total, j.totalExact], [1000, BENCH, true]);
    const rows = await all('/services?limit=1000', 'services');
    assert.equal(rows.length, BENCH);
    assert.equal(new Set(rows.map((s) => s.id)).size, BENCH);
    j = await page('/services?q=bench-99', 'services');
    assert.equal(j.total, 111);
    assert.ok(j.services.every((s) => s.name.startsWith('bench-99')));
    j = await page(`/services?q=${encodeURIComponent(benchEmail(321))}`, 'services');
    assert.deepEqual(j.services.map((s) => s.name), ['bench-321']);
    j = await page(`/services?q=${benchClientId(6543).toUpperCase()}`, 'services');
    assert.deepEqual(j.services.map((s) => s.name), ['bench-6543']);
    const owner = sql(db, `SELECT id FROM users WHERE email = '${benchEmail(77)}'`)[0].id;
    j = await page(`/services?user=${owner}`, 'services');
    assert.deepEqual(j.services.map((s) => [s.name, s.user]), [['bench-77', benchEmail(77)]]);
    assert.ok(!JSON.stringify(j).includes('secret_hash'));
  });

  test('bad parameters: a clear 400 naming the parameter, nothing else', async () => {
    for (const [path, field] of [
      ['/users?limit=0', 'limit'], ['/users?limit=1001', 'limit'], ['/users?limit=ten', 'limit'], ['/users?limit=-5', 'limit'],
      ['/users?after=abc', 'after'], ['/users?after=-1', 'after'], ['/users?after=1.5', 'after'], ['/users?after=0', 'after'],
      ['/users?apiOnly=yes', 'apiOnly'], ['/users?status=sleeping', 'status'], ['/users?role=abc', 'role'], ['/users?role=99999', 'role'],
      [`/users?q=${'x'.repeat(201)}`, 'q'], ['/users?q=a%01b', 'q'], ['/users?q=%FF%FE', 'q'],
      ['/apiusers?limit=1001', 'limit'], ['/services?after=x', 'after'], ['/services?user=me', 'user'], ['/services?limit=2000', 'limit'],
      ['/audit?after=12', 'after'], ['/audit?after=1.x', 'after'], ['/audit?limit=100000', 'limit'], ['/logins?after=abc.1', 'after'],
      ['/mail?after=1.2', 'after'], ['/mail?limit=1001', 'limit'], ['/mail?status=lost', 'status'],
    ]) assertConsoleError(await get(path), 400, 'invalid', field, path);
  });

  test('the audit trail, the login history and the email queue page newest first', async () => {
    // a few of each
    for (let i = 0; i < 4; i++) cli(db, 'role', 'create', '--name', `Paged ${i}`, '--permission', 'Read-Only Lead');
    for (let i = 0; i < 3; i++) await consoleCall(srv, '/login', { body: { email: 'ada@example.com', password: 'wrong password 1' } });
    // Role events only: the mailer records Email events of its own meanwhile
    const newest = sql(db, "SELECT id FROM audit_events WHERE area = 'Role' ORDER BY at DESC, id DESC").map((r) => r.id);
    const events = await all('/audit?limit=2&area=Role', 'events');
    assert.deepEqual(events.map((e) => e.id), newest);
    const j = await page('/audit?area=Role&limit=2', 'events');
    assert.deepEqual(j.events.map((e) => e.target), ['Paged 3', 'Paged 2']);
    assert.equal(j.totalExact, true);
    assert.equal(j.total, sql(db, "SELECT count(*) AS n FROM audit_events WHERE area = 'Role'")[0].n);
    assert.match(j.next, /^\d+\.\d+$/);

    const logins = await all('/logins?limit=1', 'logins');
    assert.deepEqual(logins.map((l) => l.id), sql(db, 'SELECT id FROM login_history ORDER BY at DESC, id DESC').map((r) => r.id));

    const mail = await all('/mail?limit=1', 'messages');
    assert.deepEqual(mail.map((m) => m.id), sql(db, 'SELECT id FROM mail_queue ORDER BY id DESC').map((r) => r.id));
    const m = assertConsoleOk(await get('/mail?q=ADA@'));
    assert.deepEqual(m.messages.map((x) => x.to), ['ada@example.com']);
    assert.ok(['transport', 'target', 'from'].every((k) => k in m));
  });

  test('CSV downloads come in pages: a Link to the next one, the header row on the first only', async () => {
    const rows = assertConsoleOk(await boss.call('/audit?limit=1000&area=Role&actor=')).events;
    assert.ok(rows.length >= 5);
    let url = '/audit?format=csv&limit=2&area=Role&actor=';
    const lines = [];
    let pages = 0;
    while (url) {
      const r = await boss.call(url);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type'), /^text\/csv/);
      const body = r.text.split('\r\n');
      assert.equal(body.pop(), '');
      if (pages === 0) assert.equal(body.shift(), 'time,actor,address,area,action,target,details');
      else assert.ok(!body.includes('time,actor,address,area,action,target,details'));
      assert.ok(body.length <= 2);
      lines.push(...body);
      const link = r.headers.get('link');
      if (link) {
        const m = /^<\/admin\/api(\/audit\?[^>]*)>; rel="next"$/.exec(link);
        assert.ok(m, link);
        assert.match(m[1], /format=csv&limit=2&area=Role&actor=&after=\d+\.\d+$/);
        url = m[1];
      } else url = null;
      pages++;
    }
    assert.equal(pages, Math.ceil(rows.length / 2));
    assert.equal(lines.length, rows.length);
    assert.deepEqual(lines.map((l) => /^"[^"]*","[^"]*","[^"]*","[^"]*","[^"]*","((?:[^"]|"")*)"/.exec(l)[1].replace(/""/g, '"')),
      rows.map((e) => (/^[=+\-@\t\r]/.test(e.target) ? `'${e.target}` : e.target)));
  });

  test('no list answer reached 1 MB', () => {
    assert.ok(sizes.length > 50);
    const big = sizes.filter(([, n]) => n >= MB);
    assert.deepEqual(big, []);
    assert.ok(Math.max(...sizes.map(([, n]) => n)) > 500 * 1024, 'the byte budget was reached by some page');
  });
});
