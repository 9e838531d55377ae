// latchkey role create|list|show|update|delete
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ACTOR, ADMIN_PERMS, ISO_UTC, ROLE_KEYS, change, count, events, freshDb, invitePerson,
  makeApiUser, makeRole, newDb, ok, refuse, showRole, sorted, sql,
} from './lib.mjs';

describe('role list / show (read-only, shared database)', () => {
  let db;
  let sales;
  before(() => {
    db = newDb();
    sales = makeRole(db, 'Sales', ['Read-Only Lead', 'Access Users', 'Read-Write Lead'], 'The sales team');
  });
  after(() => db?.remove());

  test('show Admin: system role, AllZones only, every Access Admin permission', () => {
    const role = showRole(db, 'Admin');
    assertKeys(role);
    assert.equal(role.id, 1);
    assert.equal(role.name, 'Admin');
    assert.equal(role.type, 'system');
    assert.equal(role.onlyAllZones, true);
    assert.deepEqual(sorted(role.permissions), sorted(ADMIN_PERMS));
  });

  test('show JSON of a custom role; names matched case-insensitively', () => {
    const role = showRole(db, 'sALES');
    assertKeys(role);
    assert.deepEqual(norm(role), norm(sales));
    assert.equal(role.type, 'custom');
    assert.equal(role.onlyAllZones, false);
    assert.equal(role.description, 'The sales team');
    assert.deepEqual(sorted(role.permissions), sorted(['Read-Only Lead', 'Access Users', 'Read-Write Lead']));
  });

  test('show table: fields, then permissions grouped under Access Admin: and Access API:', () => {
    const out = ok(db, 'role', 'show', 'Sales').stdout;
    assert.ok(out.includes('Sales'));
    assert.ok(out.includes('The sales team'));
    const iAdmin = out.indexOf('Access Admin:');
    const iApi = out.indexOf('Access API:');
    assert.ok(iAdmin >= 0 && iApi >= 0, out);
    const iUsers = out.indexOf('Access Users');
    const iLead = out.indexOf('Read-Only Lead');
    assert.ok(iAdmin < iUsers && iUsers < iApi, `Access Users listed under Access Admin:\n${out}`);
    assert.ok(iApi < iLead, `Read-Only Lead listed under Access API:\n${out}`);
  });

  test('list JSON and table', () => {
    const roles = ok(db, 'role', 'list', '--json').json.roles;
    assert.deepEqual(roles.map((r) => r.name), ['Admin', 'Sales']);
    roles.forEach((r) => assertKeys(r));
    assert.deepEqual(norm(roles[1]), norm(sales));
    const out = ok(db, 'role', 'list').stdout;
    assert.match(out, /ID\s+NAME\s+TYPE\s+PERMISSIONS\s+DESCRIPTION/);
    assert.match(out, /^\s*1\s+Admin\s+system\s+7\b/m);
    assert.match(out, new RegExp(`^\\s*${sales.id}\\s+Sales\\s+custom\\s+3\\s+The sales team`, 'm'));
  });

  test('unknown role → exit 2 naming it', () => {
    refuse(db, { status: 2, code: 'not_found', mentions: ['Nobody'] }, 'role', 'show', 'Nobody');
    refuse(db, { status: 2, code: 'not_found', mentions: ['Nobody'] }, 'role', 'update', 'Nobody', '--description', 'x');
    refuse(db, { status: 2, code: 'not_found', mentions: ['Nobody'] }, 'role', 'delete', 'Nobody');
  });
});

const norm = (role) => ({ ...role, permissions: sorted(role.permissions) });

function assertKeys(role) {
  for (const k of ROLE_KEYS) assert.ok(k in role, `role lacks ${k}: ${JSON.stringify(role)}`);
  assert.match(role.createdAt, ISO_UTC);
  assert.match(role.updatedAt, ISO_UTC);
  assert.ok(Array.isArray(role.permissions));
}

describe('role create', () => {
  test('needs at least one permission', (t) => {
    const db = freshDb(t);
    refuse(db, { status: 1, code: ['usage', 'invalid'], mentions: ['permission'] }, 'role', 'create', '--name', 'Empty');
  });

  test('an unknown permission → exit 2 naming it; nothing created', (t) => {
    const db = freshDb(t);
    refuse(db, { status: 2, code: 'not_found', mentions: ['Fly Rockets'] },
      'role', 'create', '--name', 'Pilot', '--permission', 'Read-Only Lead', '--permission', 'Fly Rockets');
  });

  test('permission names match case-insensitively and come back in their stored spelling', (t) => {
    const db = freshDb(t);
    const role = makeRole(db, 'Readers', ['read-only LEAD']);
    assert.deepEqual(role.permissions, ['Read-Only Lead']);
    const [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target, ev.actor], ['Role', 'Create', 'Readers', ACTOR]);
  });

  test('duplicate name (case-insensitive) → exit 1, also against Admin', (t) => {
    const db = freshDb(t);
    makeRole(db, 'Sales', ['Read-Only Lead']);
    refuse(db, { status: 1, code: 'exists', mentions: ['SALES'] }, 'role', 'create', '--name', 'SALES', '--permission', 'Read-Only Lead');
    refuse(db, { status: 1, code: 'exists' }, 'role', 'create', '--name', 'admin', '--permission', 'Read-Only Lead');
  });

  test('names differing only by leading/trailing spaces are refused (no second "Admin")', (t) => {
    const db = freshDb(t);
    makeRole(db, 'Sales', ['Read-Only Lead']);
    for (const name of ['Admin ', ' Admin', 'Sales ', ' sales ']) {
      refuse(db, { status: 1, code: ['exists', 'invalid'] }, 'role', 'create', '--name', name, '--permission', 'Read-Only Lead');
    }
    // Unicode spaces at either end (no-break, zero-width, ideographic) make look-alikes just the same
    for (const name of ['Admin\u00a0', 'Admin\u200b', '\u3000Admin', '\u00a0Sales']) {
      refuse(db, { status: 1, code: ['exists', 'invalid'] }, 'role', 'create', '--name', name, '--permission', 'Read-Only Lead');
    }
    refuse(db, { status: 1, code: ['exists', 'invalid'] }, 'role', 'update', 'Sales', '--name', 'Admin ');
    // a permission too
    refuse(db, { status: 1, code: ['exists', 'invalid'] }, 'permission', 'create', '--name', 'Read-Only Lead ');
  });

  test('bad names: empty, > 255 characters, control characters; description > 1000', (t) => {
    const db = freshDb(t);
    refuse(db, { status: 1, code: 'invalid' }, 'role', 'create', '--name', '', '--permission', 'Read-Only Lead');
    refuse(db, { status: 1, code: 'invalid' }, 'role', 'create', '--name', 'r'.repeat(256), '--permission', 'Read-Only Lead');
    refuse(db, { status: 1, code: 'invalid' }, 'role', 'create', '--name', 'Tab\there', '--permission', 'Read-Only Lead');
    refuse(db, { status: 1, code: 'invalid' }, 'role', 'create', '--name', 'Ok', '--description', 'd'.repeat(1001), '--permission', 'Read-Only Lead');
    makeRole(db, 'r'.repeat(255), ['Read-Only Lead']);
  });
});

describe('role update', () => {
  test('rename, describe, add and remove permissions in one change', (t) => {
    const db = freshDb(t);
    const before = makeRole(db, 'Sales', ['Read-Only Lead', 'Read-Write Lead']);
    const r = change(db, 'role', 'update', 'sales', '--name', 'Sales Ops', '--description', 'Sales operations',
      '--add-permission', 'read-only company', '--add-permission', 'Access Users', '--remove-permission', 'Read-Write Lead', '--json');
    const role = r.json.role;
    assert.equal(role.id, before.id);
    assert.equal(role.name, 'Sales Ops');
    assert.equal(role.description, 'Sales operations');
    assert.deepEqual(sorted(role.permissions), sorted(['Read-Only Lead', 'Read-Only Company', 'Access Users']));
    assert.deepEqual(norm(showRole(db, 'Sales Ops')), norm(role));
    refuse(db, { status: 2, code: 'not_found' }, 'role', 'show', 'Sales');
    const rows = sql(db, `SELECT p.name FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id WHERE role_id = ${role.id}`);
    assert.deepEqual(sorted(rows.map((x) => x.name)), sorted(role.permissions));
    const [ev] = events(db);
    assert.deepEqual([ev.area, ev.action], ['Role', 'Edit']);
    assert.ok(['Sales Ops', 'Sales'].includes(ev.target), ev.target);
  });

  test('each option alone', (t) => {
    const db = freshDb(t);
    makeRole(db, 'Sales', ['Read-Only Lead']);
    assert.equal(change(db, 'role', 'update', 'Sales', '--description', 'New text', '--json').json.role.description, 'New text');
    assert.equal(change(db, 'role', 'update', 'Sales', '--name', 'SALES', '--json').json.role.name, 'SALES');
    assert.deepEqual(sorted(change(db, 'role', 'update', 'Sales', '--add-permission', 'Read-Only Opportunity', '--json').json.role.permissions),
      ['Read-Only Lead', 'Read-Only Opportunity']);
    assert.deepEqual(change(db, 'role', 'update', 'Sales', '--remove-permission', 'read-only lead', '--json').json.role.permissions,
      ['Read-Only Opportunity']);
  });

  test('renaming onto an existing name, or adding an unknown permission, is refused', (t) => {
    const db = freshDb(t);
    makeRole(db, 'Sales', ['Read-Only Lead']);
    makeRole(db, 'Support', ['Read-Only Lead']);
    refuse(db, { status: 1, code: 'exists', mentions: ['support'] }, 'role', 'update', 'Sales', '--name', 'support');
    refuse(db, { status: 1, code: 'exists' }, 'role', 'update', 'Sales', '--name', 'ADMIN');
    refuse(db, { status: 2, code: 'not_found', mentions: ['Fly Rockets'] }, 'role', 'update', 'Sales', '--add-permission', 'Fly Rockets');
    refuse(db, { status: 1, code: 'invalid' }, 'role', 'update', 'Sales', '--name', '');
    refuse(db, { status: 1, code: 'usage', mentions: ['nothing to change'] }, 'role', 'update', 'Sales');
  });

  test('Admin cannot be updated or deleted', (t) => {
    const db = freshDb(t);
    refuse(db, { status: 1, code: 'rule', mentions: ['Admin'] }, 'role', 'update', 'Admin', '--description', 'mine now');
    refuse(db, { status: 1, code: 'rule', mentions: ['Admin'] }, 'role', 'update', 'admin', '--name', 'Boss');
    refuse(db, { status: 1, code: 'rule', mentions: ['Admin'] }, 'role', 'update', 'Admin', '--add-permission', 'Read-Only Lead');
    refuse(db, { status: 1, code: 'rule', mentions: ['Admin'] }, 'role', 'update', 'Admin', '--remove-permission', 'Access Users');
    refuse(db, { status: 1, code: ['rule', 'in_use'], mentions: ['Admin'] }, 'role', 'delete', 'Admin');
  });

  test('removing the last Access API permission from a role an API-only user holds is refused', (t) => {
    const db = freshDb(t);
    makeRole(db, 'API Only', ['Read-Only Lead', 'Read-Write Lead', 'Access Users']);
    makeApiUser(db, 'api@example.com', ['API Only']);
    // removing one of two is fine
    change(db, 'role', 'update', 'API Only', '--remove-permission', 'Read-Write Lead');
    // the last one is not, even though an Access Admin permission remains
    refuse(db, { status: 1, code: 'rule', mentions: [/api@example\.com|API-only|Access API/i] },
      'role', 'update', 'API Only', '--remove-permission', 'Read-Only Lead');
    // nor together with adding only Access Admin permissions
    refuse(db, { status: 1, code: 'rule' },
      'role', 'update', 'API Only', '--remove-permission', 'Read-Only Lead', '--add-permission', 'Access Roles');
    // swapping one Access API permission for another is fine
    const r = change(db, 'role', 'update', 'API Only', '--remove-permission', 'Read-Only Lead', '--add-permission', 'Read-Only Company', '--json');
    assert.deepEqual(sorted(r.json.role.permissions), ['Access Users', 'Read-Only Company']);
  });

  test('... but allowed when the API-only user keeps Access API through another role, or holders are people', (t) => {
    const db = freshDb(t);
    makeRole(db, 'API One', ['Read-Only Lead', 'Access Users']);
    makeRole(db, 'API Two', ['Read-Only Company']);
    makeRole(db, 'People', ['Read-Only Lead', 'Access Users']);
    makeApiUser(db, 'api@example.com', ['API One', 'API Two']);
    invitePerson(db, 'jane@example.com', ['People']);
    change(db, 'role', 'update', 'API One', '--remove-permission', 'Read-Only Lead');
    change(db, 'role', 'update', 'People', '--remove-permission', 'Read-Only Lead');
    assert.deepEqual(showRole(db, 'API One').permissions, ['Access Users']);
  });
});

describe('role delete', () => {
  test('an unused role can be deleted, and it is audited', (t) => {
    const db = freshDb(t);
    const role = makeRole(db, 'Temp', ['Read-Only Lead']);
    const r = change(db, 'role', 'delete', 'temp', '--json');
    assert.equal(r.json.deleted.role.toLowerCase(), 'temp');
    assert.equal(count(db, 'roles', `id = ${role.id}`), 0);
    assert.equal(count(db, 'role_permissions', `role_id = ${role.id}`), 0);
    refuse(db, { status: 2, code: 'not_found' }, 'role', 'show', 'Temp');
    const [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target, ev.actor], ['Role', 'Delete', 'Temp', ACTOR]);
  });

  test('a role held by users cannot be deleted; the message names them (API-only and pending people)', (t) => {
    const db = freshDb(t);
    makeRole(db, 'Shared', ['Read-Only Lead']);
    makeApiUser(db, 'api@example.com', ['Shared']);
    refuse(db, { status: 1, code: 'in_use', mentions: ['api@example.com'] }, 'role', 'delete', 'Shared');
    makeRole(db, 'Team', ['Access Users']);
    invitePerson(db, 'jane@example.com', ['Team@Default']);
    refuse(db, { status: 1, code: 'in_use', mentions: ['jane@example.com'] }, 'role', 'delete', 'Team');
  });
});
