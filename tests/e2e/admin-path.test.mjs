// PRODUCT.md §2 with the CLI: role → API-only user → custom service → audit trail.
// One database, steps in order (each step builds on the previous one).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ACTOR, HEX64, ISO_UTC, ROLE_KEYS, SECRET, SERVICE_KEYS, USER_KEYS, UUID_V4,
  assertKeys, assertNotInDb, change, count, newDb, ok, sorted, sql,
} from './lib.mjs';

describe("the administrator's path", () => {
  let db;
  let role;
  let user;
  let service;
  let secret;
  let secret2;
  before(() => { db = newDb(); });
  after(() => db?.remove());

  test('1. create role "API Only" with Access API permissions', () => {
    const perms = ['Read-Only Lead', 'Read-Write Lead', 'Read-Only Activity'];
    const r = change(db, 'role', 'create', '--name', 'API Only', '--description', 'For integrations',
      '--permission', 'Read-Only Lead', '--permission', 'Read-Write Lead', '--permission', 'Read-Only Activity', '--json');
    role = r.json.role;
    assertKeys(role, ROLE_KEYS, 'role');
    assert.equal(typeof role.id, 'number');
    assert.equal(role.name, 'API Only');
    assert.equal(role.description, 'For integrations');
    assert.equal(role.type, 'custom');
    assert.equal(role.onlyAllZones, false);
    assert.deepEqual(sorted(role.permissions), sorted(perms));
    assert.match(role.createdAt, ISO_UTC);
    assert.match(role.updatedAt, ISO_UTC);
    const rows = sql(db, `SELECT p.name FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id WHERE rp.role_id = ${role.id}`);
    assert.deepEqual(sorted(rows.map((x) => x.name)), sorted(perms));
  });

  test('2. invite an API-only user with that role: active at once, no invitation, no password', () => {
    const r = change(db, 'user', 'invite', '--email', 'sync@example.com', '--first', 'Sync', '--last', 'Bot',
      '--role', 'API Only', '--api-only', '--json');
    assert.ok('invitation' in r.json, 'the JSON has an "invitation" key');
    assert.equal(r.json.invitation, null);
    user = r.json.user;
    assertKeys(user, USER_KEYS, 'user');
    assert.equal(user.email, 'sync@example.com');
    assert.equal(user.userid, 'sync@example.com');
    assert.equal(user.firstName, 'Sync');
    assert.equal(user.lastName, 'Bot');
    assert.equal(user.reason, '');
    assert.equal(user.apiOnly, true);
    assert.equal(user.status, 'active');
    assert.equal(user.lockedReason, null);
    assert.equal(user.expiresAt, null);
    assert.equal(user.failedLogins, 0);
    assert.equal(user.lastLoginAt, null);
    assert.deepEqual(user.roles, [{ role: 'API Only', roleId: role.id, workspace: 'AllZones', workspaceId: 0 }]);
    const [row] = sql(db, "SELECT * FROM users WHERE email = 'sync@example.com'");
    assert.equal(row.api_only, 1);
    assert.equal(row.status, 'active');
    assert.equal(row.password_hash, null);
    assert.equal(count(db, 'invitations'), 0, 'no invitation row for an API-only user');
    assert.equal(count(db, 'user_roles', `user_id = ${row.id} AND role_id = ${role.id} AND workspace_id = 0`), 1);
  });

  test('2b. the table output of an API-only invite says no invitation is sent and prints no link', () => {
    // (checked on `user show` / `user list` instead of a second invite to keep the audit trail simple)
    const list = ok(db, 'user', 'list');
    assert.match(list.stdout, /EMAIL\s+NAME\s+API ONLY\s+STATUS\s+ROLES\s+EXPIRES/);
    const line = list.stdout.split('\n').find((l) => l.includes('sync@example.com'));
    assert.ok(line, list.stdout);
    assert.match(line, /active/);
    assert.match(line, /API Only@AllZones/);
  });

  test('3. create a service: UUID v4 client id, 32-character secret shown once, stored as a hash', () => {
    const r = change(db, 'service', 'create', '--name', 'Shop Sync', '--user', 'sync@example.com',
      '--description', 'Nightly sync of the shop', '--json');
    service = r.json.service;
    secret = r.json.clientSecret;
    assertKeys(service, SERVICE_KEYS, 'service');
    assert.equal(service.name, 'Shop Sync');
    assert.equal(service.description, 'Nightly sync of the shop');
    assert.equal(service.user, 'sync@example.com');
    assert.match(service.clientId, UUID_V4);
    assert.equal(service.previousSecretValidUntil, null);
    assert.match(service.createdAt, ISO_UTC);
    assert.match(secret, SECRET);
    const [row] = sql(db, `SELECT * FROM services WHERE id = ${service.id}`);
    assert.equal(row.client_id, service.clientId);
    assert.match(row.secret_hash, HEX64);
    assert.equal(row.old_secret_hash, null);
    assert.equal(row.user_id, user.id);
    assertNotInDb(db, secret, 'client secret');
  });

  test('3b. without --json, create prints the client id and the secret', () => {
    const r = change(db, 'service', 'create', '--name', 'CRM Bridge', '--user', 'SYNC@example.com');
    const ids = r.stdout.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi) || [];
    assert.equal(ids.length >= 1, true, `client id printed: ${r.stdout}`);
    const [row] = sql(db, "SELECT client_id FROM services WHERE name = 'CRM Bridge'");
    assert.ok(ids.includes(row.client_id), `the stored client id is printed: ${r.stdout}`);
    const secrets = (r.stdout.match(/(?<![A-Za-z0-9-])[A-Za-z0-9]{32}(?![A-Za-z0-9-])/g) || []);
    assert.equal(secrets.length, 1, `one 32-character secret printed: ${r.stdout}`);
    secret2 = secrets[0];
    assertNotInDb(db, secret2, 'client secret');
  });

  test('4. the secret appears nowhere afterwards: service show, service list, audit list', () => {
    for (const args of [
      ['service', 'show', 'Shop Sync'], ['service', 'show', 'Shop Sync', '--json'],
      ['service', 'show', service.clientId], ['service', 'list'], ['service', 'list', '--json'],
      ['audit', 'list'], ['audit', 'list', '--json'], ['user', 'show', 'sync@example.com', '--json'],
    ]) {
      const r = ok(db, ...args);
      for (const s of [secret, secret2]) assert.ok(!r.stdout.includes(s) && !r.stderr.includes(s), `secret shown by ${r.cmd}`);
    }
    const shown = ok(db, 'service', 'show', 'shop sync');
    assert.match(shown.stdout, /Client Secret:\s+\*{8} \(stored only as a hash; use rotate-secret for a new one\)/);
    assert.ok(shown.stdout.includes(service.clientId));
    assert.ok(shown.stdout.includes('sync@example.com'));
    const json = ok(db, 'service', 'show', service.clientId, '--json').json;
    assert.equal(json.service.name, 'Shop Sync');
    assert.ok(!('clientSecret' in json), 'show carries no clientSecret');
    const list = ok(db, 'service', 'list');
    assert.match(list.stdout, /NAME\s+CLIENT ID\s+USER\s+CREATED/);
  });

  test('5. audit list shows Role Create, User Create, Service Create by the CLI user, without secrets', () => {
    const r = ok(db, 'audit', 'list', '--json');
    const evs = r.json.events;
    assert.ok(Array.isArray(evs));
    const got = evs.slice(0, 4).map((e) => [e.area, e.action, e.target]);
    assert.deepEqual(got, [
      ['Service', 'Create', 'CRM Bridge'],
      ['Service', 'Create', 'Shop Sync'],
      ['User', 'Create', 'sync@example.com'],
      ['Role', 'Create', 'API Only'],
    ]);
    assert.equal(evs.length, count(db, 'audit_events'));
    for (const e of evs.slice(0, 4)) {
      assert.equal(e.actor, ACTOR);
      assert.equal(e.address, '');
      assert.equal(typeof e.id, 'number');
      assert.match(e.at, ISO_UTC);
      assert.ok(e.details && typeof e.details === 'object' && !Array.isArray(e.details), `details is an object: ${JSON.stringify(e)}`);
    }
    for (let i = 1; i < evs.length; i++) assert.ok(evs[i - 1].id > evs[i].id, 'newest first');
    const text = JSON.stringify(evs);
    assert.ok(!text.includes(secret) && !text.includes(secret2), 'no secret in the audit details');
    const rows = sql(db, 'SELECT details FROM audit_events');
    for (const row of rows) assert.doesNotThrow(() => JSON.parse(row.details), `details is JSON text: ${row.details}`);
    const table = ok(db, 'audit', 'list');
    assert.match(table.stdout, /TIME\s+ACTOR\s+ADDRESS\s+AREA\s+ACTION\s+TARGET\s+DETAILS/);
    assert.ok(table.stdout.includes(ACTOR));
    assert.ok(table.stdout.includes('Shop Sync'));
  });
});
