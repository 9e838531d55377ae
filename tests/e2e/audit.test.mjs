// latchkey audit list: filters, order, and one event per change / none per refusal
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ACTOR, ISO_UTC, auditCount, change, events, freshDb, lk, makeApiUser, makeRole, makeService, newDb,
  nowSec, ok, q, refuse, sql,
} from './lib.mjs';

// synthetic events at known instants (2001), older than anything the CLI writes
const OLD = [
  ['2001-01-01T00:00:00Z', 'Role', 'Create', 'old-1'],
  ['2001-06-01T00:00:00Z', 'User', 'Edit', 'old-2'],
  ['2001-06-01T12:00:00Z', 'User', 'Lock', 'old-3'],
  ['2002-01-01T00:00:00Z', 'Service', 'Delete', 'old-4'],
];

describe('audit list filters (shared database)', () => {
  let db;
  let start;
  let realCount;
  before(() => {
    db = newDb();
    start = nowSec();
    change(db, 'workspace', 'create', 'EMEA');
    change(db, 'permission', 'create', '--name', 'Read Orders');
    makeRole(db, 'API Only', ['Read-Only Lead', 'Read Orders']);
    makeApiUser(db, 'api@example.com');
    makeService(db, 'Order Sync');
    change(db, 'service', 'rotate-secret', 'Order Sync');
    change(db, 'user', 'lock', 'api@example.com', '--reason', 'pause');
    change(db, 'user', 'unlock', 'api@example.com');
    change(db, 'role', 'update', 'API Only', '--description', 'changed');
    realCount = auditCount(db);
    assert.equal(realCount, 9);
    const values = OLD.map(([at, area, action, target]) =>
      `(${Date.parse(at) / 1000}, 'cli:someone', ${q(area)}, ${q(action)}, ${q(target)}, '{}')`).join(', ');
    sql(db, `INSERT INTO audit_events (at, actor, area, action, target, details) VALUES ${values}`);
  });
  after(() => db?.remove());

  test('all events, newest first, with the documented fields', () => {
    const evs = events(db);
    assert.equal(evs.length, realCount + OLD.length);
    assert.deepEqual(evs.slice(0, 9).map((e) => `${e.area} ${e.action}`), [
      'Role Edit', 'User Unlock', 'User Lock', 'Service Rotate Secret', 'Service Create', 'User Create',
      'Role Create', 'Permission Create', 'Workspace Create',
    ]);
    assert.deepEqual(evs.slice(9).map((e) => e.target), ['old-4', 'old-3', 'old-2', 'old-1']);
    for (const e of evs) {
      for (const k of ['id', 'at', 'actor', 'address', 'area', 'action', 'target', 'details']) assert.ok(k in e, `${k} in ${JSON.stringify(e)}`);
      assert.match(e.at, ISO_UTC);
      assert.equal(typeof e.details, 'object');
    }
    assert.ok(evs.slice(0, 9).every((e) => e.actor === ACTOR));
    assert.equal(evs[12].at, '2001-01-01T00:00:00Z');
  });

  test('--limit N gives the N newest; the default is 50; 0 means all', () => {
    const all = events(db);
    const two = ok(db, 'audit', 'list', '--limit', '2', '--json').json.events;
    assert.deepEqual(two, all.slice(0, 2));
    const one = ok(db, 'audit', 'list', '--limit=1', '--json').json.events;
    assert.deepEqual(one, all.slice(0, 1));
    assert.equal(ok(db, 'audit', 'list', '--json').json.events.length, all.length, 'fewer than 50: all of them');
    const table = ok(db, 'audit', 'list', '--limit', '1').stdout.trim().split('\n');
    assert.equal(table.length, 2, `header and one row:\n${table.join('\n')}`);
  });

  test('--since (inclusive) and --until (exclusive)', () => {
    const targets = (...f) => ok(db, 'audit', 'list', '--limit', '0', ...f, '--json').json.events.map((e) => e.target);
    assert.deepEqual(targets('--since', '2001-06-01', '--until', '2002-01-01'), ['old-3', 'old-2']);
    assert.deepEqual(targets('--since', '2001-06-01T12:00:00Z', '--until', '2001-12-31'), ['old-3']);
    assert.deepEqual(targets('--since', '2001-06-01T13:00:00+01:00', '--until', '2001-06-01T12:00:01Z'), ['old-3']);
    assert.deepEqual(targets('--until', '2001-06-01'), ['old-1']);
    const recent = ok(db, 'audit', 'list', '--limit', '0', '--since', new Date((start - 1) * 1000).toISOString(), '--json').json.events;
    assert.equal(recent.length, realCount);
    assert.deepEqual(targets('--since', '2090-01-01'), []);
  });

  test('--area and --action (case-insensitive), alone and together', () => {
    const list = (...f) => ok(db, 'audit', 'list', '--limit', '0', ...f, '--json').json.events;
    const users = list('--area', 'User');
    assert.equal(users.length, sql(db, "SELECT count(*) AS n FROM audit_events WHERE area = 'User'")[0].n);
    assert.ok(users.length >= 3 && users.every((e) => e.area === 'User'));
    assert.deepEqual(list('--area', 'user').map((e) => e.id), users.map((e) => e.id));
    const creates = list('--action', 'Create');
    assert.equal(creates.length, 6);
    assert.ok(creates.every((e) => e.action === 'Create'));
    assert.deepEqual(list('--action', 'rotate secret').map((e) => e.target), ['Order Sync']);
    assert.deepEqual(list('--area', 'Role', '--action', 'Edit').map((e) => e.target), ['API Only']);
    assert.deepEqual(list('--area', 'Service', '--action', 'Delete', '--since', '2001-01-01').map((e) => e.target), ['old-4']);
    assert.deepEqual(ok(db, 'audit', 'list', '--area', 'User', '--limit', '1', '--json').json.events, users.slice(0, 1));
  });

  test('--actor matches events whose actor contains the text', () => {
    const list = (...f) => ok(db, 'audit', 'list', '--limit', '0', ...f, '--json').json.events;
    assert.deepEqual(list('--actor', 'someone').map((e) => e.target), ['old-4', 'old-3', 'old-2', 'old-1']);
    assert.deepEqual(list('--actor', 'cli:').length, realCount + OLD.length);
    assert.equal(list('--actor', ACTOR).length, ACTOR === 'cli:someone' ? realCount + OLD.length : realCount);
    assert.deepEqual(list('--actor', 'nobody-at-all'), []);
    assert.deepEqual(list('--actor', 'someone', '--area', 'User').map((e) => e.target), ['old-3', 'old-2']);
  });

  test('bad filter values are refused', () => {
    for (const args of [['--limit', '-1'], ['--limit', 'abc'], ['--limit', ''], ['--limit', '1000001'], ['--limit', '1e3'],
      ['--since', 'yesterday'], ['--since', '2001-02-30'], ['--until', '2001-01-01T00:00:00'], ['--until', '']]) {
      refuse(db, { status: 1, code: 'invalid', field: new RegExp(`^${args[0].slice(2)}$`) }, 'audit', 'list', ...args);
    }
    refuse(db, { status: 1, code: 'usage' }, 'audit', 'list', '--limit');
    assert.equal(ok(db, 'audit', 'list', '--limit', '1000000', '--json').json.events.length, realCount + OLD.length);
  });
});

describe('audit list default limit', () => {
  test('without --limit at most 50 events, the newest', (t) => {
    const db = freshDb(t);
    const values = Array.from({ length: 60 }, (_, i) => `(${1_000_000_000 + i}, 'cli:x', 'Role', 'Edit', 'r${i}', '{}')`).join(', ');
    sql(db, `INSERT INTO audit_events (at, actor, area, action, target, details) VALUES ${values}`);
    const evs = ok(db, 'audit', 'list', '--json').json.events;
    assert.equal(evs.length, 50);
    assert.equal(evs[0].target, 'r59');
    assert.equal(evs[49].target, 'r10');
    assert.equal(ok(db, 'audit', 'list', '--limit', '0', '--json').json.events.length, 60);
  });
});

describe('one event per change, none per refusal', () => {
  test('a sequence of changes and refusals', (t) => {
    const db = freshDb(t);
    const before = auditCount(db);
    const steps = [
      [1, 'workspace', 'create', 'EMEA'],
      [0, 'workspace', 'create', 'emea'],
      [1, 'role', 'create', '--name', 'API Only', '--permission', 'Read-Only Lead'],
      [0, 'role', 'create', '--name', 'Broken', '--permission', 'Nope'],
      [1, 'user', 'invite', '--email', 'api@example.com', '--first', 'A', '--last', 'B', '--role', 'API Only@EMEA', '--api-only'],
      [0, 'user', 'invite', '--email', 'api@example.com', '--first', 'A', '--last', 'B', '--role', 'API Only', '--api-only'],
      [1, 'service', 'create', '--name', 'Sync', '--user', 'api@example.com'],
      [0, 'user', 'delete', 'api@example.com'],
      [1, 'service', 'rotate-secret', 'Sync', '--grace', '60'],
      [0, 'service', 'rotate-secret', 'Sync', '--grace', '-5'],
      [1, 'user', 'update', 'api@example.com', '--first', 'Alpha'],
      [0, 'role', 'delete', 'API Only'],
      [1, 'service', 'delete', 'Sync'],
      [1, 'user', 'delete', 'api@example.com'],
      [1, 'role', 'delete', 'API Only'],
    ];
    let expected = before;
    for (const [delta, ...args] of steps) {
      const r = lk(db, ...args);
      assert.equal(r.status === 0, delta === 1, `${r.cmd}: exit ${r.status} ${r.stderr}`);
      expected += delta;
      assert.equal(auditCount(db), expected, `audit events after ${r.cmd}`);
    }
    // read-only commands add nothing
    for (const args of [['role', 'list'], ['user', 'list'], ['service', 'list'], ['audit', 'list'], ['permission', 'list'], ['workspace', 'list']])
      ok(db, ...args);
    assert.equal(auditCount(db), expected);
  });
});
