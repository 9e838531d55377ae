// latchkey workspace list|create, and workspaces in role grants (--role ROLE@WORKSPACE)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ACTOR, ISO_UTC, change, events, freshDb, lk, makeApiUser, makeRole, newDb, ok, refuse, sql,
} from './lib.mjs';

describe('workspace list (read-only, shared database)', () => {
  let db;
  before(() => { db = newDb(); });
  after(() => db?.remove());

  test('AllZones (0) and Default (1) exist from the start', () => {
    const ws = ok(db, 'workspace', 'list', '--json').json.workspaces;
    assert.deepEqual(ws.map((w) => [w.id, w.name]), [[0, 'AllZones'], [1, 'Default']]);
    for (const w of ws) {
      assert.equal(typeof w.description, 'string');
      assert.match(w.createdAt, ISO_UTC);
      assert.match(w.updatedAt, ISO_UTC);
    }
  });

  test('table: ID NAME DESCRIPTION', () => {
    const r = ok(db, 'workspace', 'list');
    assert.match(r.stdout, /ID\s+NAME\s+DESCRIPTION/);
    assert.match(r.stdout, /^\s*0\s+AllZones\b/m);
    assert.match(r.stdout, /^\s*1\s+Default\b/m);
  });
});

describe('workspace create and use', () => {
  test('create a workspace; it is listed and audited', (t) => {
    const db = freshDb(t);
    const w = change(db, 'workspace', 'create', 'EMEA', '--description', 'Europe, Middle East, Africa', '--json').json.workspace;
    assert.equal(w.name, 'EMEA');
    assert.equal(w.description, 'Europe, Middle East, Africa');
    assert.equal(typeof w.id, 'number');
    assert.ok(w.id >= 2);
    assert.match(w.createdAt, ISO_UTC);
    const ws = ok(db, 'workspace', 'list', '--json').json.workspaces;
    assert.deepEqual(ws.map((x) => x.name), ['AllZones', 'Default', 'EMEA']);
    assert.equal(sql(db, "SELECT description FROM workspaces WHERE name = 'EMEA'")[0].description, 'Europe, Middle East, Africa');
    const [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target, ev.actor], ['Workspace', 'Create', 'EMEA', ACTOR]);
  });

  test('duplicate names are refused case-insensitively, including the seeded ones', (t) => {
    const db = freshDb(t);
    change(db, 'workspace', 'create', 'EMEA');
    refuse(db, { status: 1, code: 'exists', mentions: ['emea'] }, 'workspace', 'create', 'emea');
    refuse(db, { status: 1, code: 'exists' }, 'workspace', 'create', 'allzones');
    refuse(db, { status: 1, code: 'exists' }, 'workspace', 'create', 'DEFAULT');
  });

  test('bad names are refused: missing, empty, > 255 characters, control characters', (t) => {
    const db = freshDb(t);
    refuse(db, { status: 1, code: ['usage', 'invalid'] }, 'workspace', 'create');
    refuse(db, { status: 1, code: 'invalid' }, 'workspace', 'create', '');
    refuse(db, { status: 1, code: 'invalid' }, 'workspace', 'create', 'w'.repeat(256));
    refuse(db, { status: 1, code: 'invalid' }, 'workspace', 'create', 'Line\nBreak');
    refuse(db, { status: 1, code: 'invalid' }, 'workspace', 'create', 'Ok', '--description', 'd'.repeat(1001));
  });

  test('--role ROLE@WORKSPACE by name (any case) or id; unknown workspace → exit 2', (t) => {
    const db = freshDb(t);
    const w = change(db, 'workspace', 'create', 'EMEA', '--json').json.workspace;
    const role = makeRole(db, 'Sales', ['Read-Only Lead']);
    const u = makeApiUser(db, 'api@example.com', ['Sales@emea', 'Sales@1']);
    assert.deepEqual(u.roles, [
      { role: 'Sales', roleId: role.id, workspace: 'Default', workspaceId: 1 },
      { role: 'Sales', roleId: role.id, workspace: 'EMEA', workspaceId: w.id },
    ]);
    const u2 = makeApiUser(db, 'api2@example.com', [`Sales@${w.id}`]);
    assert.deepEqual(u2.roles, [{ role: 'Sales', roleId: role.id, workspace: 'EMEA', workspaceId: w.id }]);
    assert.equal(sql(db, `SELECT count(*) AS n FROM user_roles WHERE workspace_id = ${w.id}`)[0].n, 2);
    const line = ok(db, 'user', 'list').stdout.split('\n').find((l) => l.includes('api@example.com'));
    assert.match(line, /Sales@Default, Sales@EMEA/);
    refuse(db, { status: 2, code: 'not_found', mentions: ['Nowhere'] },
      'user', 'invite', '--email', 'api3@example.com', '--first', 'A', '--last', 'B', '--role', 'Sales@Nowhere', '--api-only');
    refuse(db, { status: 2, code: 'not_found', mentions: ['42'] },
      'user', 'invite', '--email', 'api3@example.com', '--first', 'A', '--last', 'B', '--role', 'Sales@42', '--api-only');
  });

  test('a workspace name that contains "@" is refused, or usable as ROLE@WORKSPACE', (t) => {
    const db = freshDb(t);
    makeRole(db, 'Sales', ['Read-Only Lead']);
    const r = lk(db, 'workspace', 'create', 'Sales@EU', '--json');
    if (r.status !== 0) {
      assert.equal(r.status, 1, r.stderr);
      return;
    }
    const u = makeApiUser(db, 'api@example.com', ['Sales@Sales@EU']);
    assert.deepEqual(u.roles.map((g) => `${g.role}|${g.workspace}`), ['Sales|Sales@EU']);
  });

  test('names differing only by leading/trailing spaces are not new names', (t) => {
    const db = freshDb(t);
    change(db, 'workspace', 'create', 'EMEA');
    for (const name of ['EMEA ', ' EMEA', 'Default ', ' AllZones', 'EMEA\u00a0', '\u200bDefault']) {
      const r = lk(db, 'workspace', 'create', name, '--json');
      if (r.status === 0) assert.fail(`workspace create ${JSON.stringify(name).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)} created a look-alike of an existing name`);
      assert.equal(r.status, 1, `workspace create '${name}': exit ${r.status}`);
    }
  });

  test('the Admin role may be granted in AllZones only', (t) => {
    const db = freshDb(t);
    refuse(db, { status: 1, code: ['rule', 'invalid'], mentions: ['AllZones'] },
      'user', 'invite', '--email', 'boss@example.com', '--first', 'B', '--last', 'Oss', '--role', 'Admin@Default');
  });
});
