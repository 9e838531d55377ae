// latchkey permission list|create|delete
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ACTOR, ADMIN_PERMS, API_PERMS, change, count, events, freshDb, makeRole, newDb, ok, refuse,
  sorted, sql,
} from './lib.mjs';

describe('permission list (read-only, shared database)', () => {
  let db;
  before(() => { db = newDb(); });
  after(() => db?.remove());

  test('JSON: 7 Access Admin and 35 Access API built-ins, 42 in all', () => {
    const perms = ok(db, 'permission', 'list', '--json').json.permissions;
    assert.equal(perms.length, 42);
    const admin = perms.filter((p) => p.group === 'Access Admin');
    const api = perms.filter((p) => p.group === 'Access API');
    assert.deepEqual(sorted(admin.map((p) => p.name)), sorted(ADMIN_PERMS));
    assert.deepEqual(sorted(api.map((p) => p.name)), sorted(API_PERMS));
    assert.equal(API_PERMS.length, 35);
    for (const p of perms) {
      assert.equal(typeof p.id, 'number');
      assert.equal(p.builtin, true, `${p.name} is built-in`);
      assert.equal(typeof p.description, 'string');
    }
    const users = perms.find((p) => p.name === 'Access Users');
    assert.equal(users.description, 'Manage users (not roles)');
  });

  test('table: NAME GROUP TYPE DESCRIPTION, one row per permission', () => {
    const r = ok(db, 'permission', 'list');
    assert.match(r.stdout, /NAME\s+GROUP\s+TYPE\s+DESCRIPTION/);
    for (const name of [...ADMIN_PERMS, ...API_PERMS]) {
      const line = r.stdout.split('\n').find((l) => l.startsWith(name) && /^\s+Access (Admin|API)/.test(l.slice(name.length)));
      assert.ok(line, `row for ${name}:\n${r.stdout}`);
      assert.match(line, /built-in/);
      assert.match(line, ADMIN_PERMS.includes(name) ? /Access Admin/ : /Access API/);
    }
  });
});

describe('permission create / delete', () => {
  test('create a custom permission: Access API, not built-in, audited', (t) => {
    const db = freshDb(t);
    const r = change(db, 'permission', 'create', '--name', 'Read Orders', '--description', 'Read the shop orders', '--json');
    const p = r.json.permission;
    assert.equal(p.name, 'Read Orders');
    assert.equal(p.group, 'Access API');
    assert.equal(p.builtin, false);
    assert.equal(p.description, 'Read the shop orders');
    assert.equal(typeof p.id, 'number');
    const [row] = sql(db, "SELECT * FROM permissions WHERE name = 'Read Orders'");
    assert.equal(row.grp, 1);
    assert.equal(row.builtin, 0);
    assert.equal(ok(db, 'permission', 'list', '--json').json.permissions.length, 43);
    const line = ok(db, 'permission', 'list').stdout.split('\n').find((l) => l.startsWith('Read Orders'));
    assert.ok(line);
    assert.match(line, /custom/);
    assert.match(line, /Access API/);
    const [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target, ev.actor], ['Permission', 'Create', 'Read Orders', ACTOR]);
  });

  test('a custom permission can be used in a role', (t) => {
    const db = freshDb(t);
    change(db, 'permission', 'create', '--name', 'Read Orders');
    const role = makeRole(db, 'Shop', ['read orders']);
    assert.deepEqual(role.permissions, ['Read Orders']);
  });

  test('delete a custom unused permission (name matched case-insensitively)', (t) => {
    const db = freshDb(t);
    change(db, 'permission', 'create', '--name', 'Read Orders');
    const r = change(db, 'permission', 'delete', 'read orders', '--json');
    assert.equal(r.json.deleted.permission.toLowerCase(), 'read orders');
    assert.equal(count(db, 'permissions', "name = 'Read Orders'"), 0);
    assert.equal(count(db, 'permissions'), 42);
    const [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target], ['Permission', 'Delete', 'Read Orders']);
  });

  test('a built-in permission cannot be deleted', (t) => {
    const db = freshDb(t);
    refuse(db, { status: 1, code: 'rule', mentions: [/Read-Only Lead|built-in/i] }, 'permission', 'delete', 'Read-Only Lead');
    refuse(db, { status: 1, code: 'rule', mentions: [/Access Users|built-in/i] }, 'permission', 'delete', 'access users');
  });

  test('a custom permission used by a role cannot be deleted; the message names the role', (t) => {
    const db = freshDb(t);
    change(db, 'permission', 'create', '--name', 'Read Orders');
    makeRole(db, 'Shop Reader', ['Read Orders', 'Read-Only Lead']);
    refuse(db, { status: 1, code: 'in_use', mentions: ['Shop Reader'] }, 'permission', 'delete', 'Read Orders');
  });

  test('duplicate names are refused, case-insensitively, also against built-ins', (t) => {
    const db = freshDb(t);
    change(db, 'permission', 'create', '--name', 'Read Orders');
    refuse(db, { status: 1, code: 'exists', mentions: ['Read Orders'] }, 'permission', 'create', '--name', 'READ ORDERS');
    refuse(db, { status: 1, code: 'exists' }, 'permission', 'create', '--name', 'read-only lead');
    refuse(db, { status: 1, code: 'exists' }, 'permission', 'create', '--name', 'ACCESS USERS');
  });

  test('unknown permission → exit 2', (t) => {
    const db = freshDb(t);
    refuse(db, { status: 2, code: 'not_found', mentions: ['Fly Rockets'] }, 'permission', 'delete', 'Fly Rockets');
  });

  test('bad input: missing or empty name, name > 255, description > 1000, control characters', (t) => {
    const db = freshDb(t);
    refuse(db, { status: 1, code: ['usage', 'invalid'] }, 'permission', 'create');
    refuse(db, { status: 1, code: ['usage', 'invalid'] }, 'permission', 'create', '--name');
    refuse(db, { status: 1, code: 'invalid' }, 'permission', 'create', '--name', '');
    refuse(db, { status: 1, code: 'invalid' }, 'permission', 'create', '--name', 'x'.repeat(256));
    refuse(db, { status: 1, code: 'invalid' }, 'permission', 'create', '--name', 'Ok', '--description', 'd'.repeat(1001));
    refuse(db, { status: 1, code: 'invalid' }, 'permission', 'create', '--name', 'Bad\u0007Bell');
    refuse(db, { status: 1, code: ['usage', 'invalid'] }, 'permission', 'delete');
  });
});
