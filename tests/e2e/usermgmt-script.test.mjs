// Issue 4, "Done when": a script written against Marketo's documented user management
// API (reference §8) runs unchanged against latchkey, and each of its changes shows up
// in `latchkey audit list`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MARKETO_TIME, UM_PERMS, addService, cli, makeUmInstance, startServer } from './server-lib.mjs';
import { run } from './lib.mjs';

// A minimal Marketo user management client, as written from Adobe's documentation:
// token from /identity/oauth/token, `Authorization: Bearer`, JSON bodies, re-authenticate
// on 601/602; failures are a non-200 status with {"errors":[{code, message}]}.
class MarketoUsers {
  constructor(base, clientId, clientSecret) {
    Object.assign(this, { base, clientId, clientSecret, token: null });
  }

  async authenticate() {
    const q = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.clientId, client_secret: this.clientSecret });
    const res = await fetch(`${this.base}/identity/oauth/token?${q}`, { signal: AbortSignal.timeout(15_000) });
    const body = await res.json();
    if (!body.access_token) throw new Error(`identity: ${JSON.stringify(body)}`);
    this.token = body.access_token;
  }

  async request(method, path, { query, body } = {}, retried = false) {
    if (!this.token) await this.authenticate();
    const url = `${this.base}/userservice/management/v1/users/${path}${query ? `?${new URLSearchParams(query)}` : ''}`;
    const headers = { Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (res.status === 200) return data;
    const err = data?.errors?.[0];
    if (!retried && err && (err.code === 601 || err.code === 602)) {
      this.token = null;
      return this.request(method, path, { query, body }, true);
    }
    const e = new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
    Object.assign(e, { status: res.status, code: err?.code, apiMessage: err?.message });
    throw e;
  }

  getUsers(pageOffset, pageSize) { return this.request('GET', 'allusers.json', { query: { pageOffset, pageSize } }); }
  getUser(userid) { return this.request('GET', `${encodeURIComponent(userid)}/user.json`); }
  getUserRoles(userid) { return this.request('GET', `${encodeURIComponent(userid)}/roles.json`); }
  getRoles() { return this.request('GET', 'roles.json'); }
  getWorkspaces() { return this.request('GET', 'workspaces.json'); }
  inviteUser(user) { return this.request('POST', 'invite.json', { body: user }); }
  updateUser(userid, attrs) { return this.request('POST', `${encodeURIComponent(userid)}/update.json`, { body: attrs }); }
  deleteUser(userid) { return this.request('POST', `${encodeURIComponent(userid)}/delete.json`); }
  addRoles(userid, pairs) { return this.request('POST', `${encodeURIComponent(userid)}/roles/create.json`, { body: pairs }); }
  deleteRoles(userid, pairs) { return this.request('POST', `${encodeURIComponent(userid)}/roles/delete.json`, { body: { input: pairs } }); }
}

test('Done when: a script written against Marketo\'s documented user management API invites an API-only user with two grants and an expiry, pages the users, reads, updates, adds and removes a role, is refused deleting a service owner, deletes it once the service is gone — and every step is in `latchkey audit list`', async (t) => {
  // the integration holds what it hands out (no one grants what they do not hold, docs/security.md)
  const inst = makeUmInstance(t, { perms: [...UM_PERMS, 'Read-Only Lead', 'Read-Write Lead'] });
  const db = inst.db;
  cli(db, 'role', 'create', '--name', 'Lead Writer', '--permission', 'Read-Write Lead');
  cli(db, 'workspace', 'create', 'Sales');
  for (let i = 1; i <= 4; i++)
    cli(db, 'user', 'invite', '--email', `existing${i}@example.com`, '--first', 'Ex', '--last', `${i}`, '--role', 'Reader', '--api-only');
  const srv = await startServer(t, db);
  const api = new MarketoUsers(srv.url, inst.caller.service.clientId, inst.caller.service.secret);

  // look the ids up, as a script does
  const roles = await api.getRoles();
  const workspaces = await api.getWorkspaces();
  const roleId = (name) => roles.find((r) => r.name === name).id;
  const wsId = (name) => workspaces.find((w) => w.name === name).id;

  // 1. invite an API-only user with two role/workspace grants and an expiry
  const email = 'crm-sync@example.com';
  const invited = await api.inviteUser({
    emailAddress: email, firstName: 'Crm', lastName: 'Sync', apiOnly: true, reason: 'CRM integration',
    expiresAt: '2031-12-31T23:59:59-05:00',
    userRoleWorkspaces: [{ accessRoleId: roleId('Reader'), workspaceId: wsId('AllZones') },
      { accessRoleId: roleId('Lead Writer'), workspaceId: wsId('Sales') }],
  });
  assert.equal(invited, true);

  // 2. list the users page by page
  const seen = [];
  for (let offset = 0; ; offset += 2) {
    const page = await api.getUsers(offset, 2);
    seen.push(...page);
    if (page.length < 2) break;
    assert.ok(offset < 100, 'paging ends');
  }
  assert.deepEqual(seen.map((u) => u.emailAddress),
    ['admin-api@example.com', 'existing1@example.com', 'existing2@example.com', 'existing3@example.com', 'existing4@example.com', email]);
  const listed = seen.find((u) => u.emailAddress === email);
  assert.deepEqual(listed, { userid: email, firstName: 'Crm', lastName: 'Sync', emailAddress: email, id: listed.id, apiOnly: true });

  // 3. read the user back
  const user = await api.getUser(email);
  assert.equal(user.id, listed.id);
  assert.equal(user.apiOnly, true);
  assert.equal(user.isLocked, false);
  assert.equal(user.expiresAt, '2032-01-01T04:59:59.000t+0000');
  assert.match(user.expiresAt, MARKETO_TIME);
  assert.deepEqual(user.userRoleWorkspaces.map((g) => `${g.accessRoleName}@${g.workspaceName}`).sort(), ['Lead Writer@Sales', 'Reader@AllZones']);

  // 4. update the name
  const updated = await api.updateUser(email, { firstName: 'CRM', lastName: 'Synchronizer' });
  assert.equal(updated.firstName, 'CRM');
  assert.equal(updated.lastName, 'Synchronizer');
  assert.equal(updated.expiresAt, user.expiresAt);

  // 5. add a role, then remove one
  const afterAdd = await api.addRoles(email, [{ accessRoleId: roleId('Lead Writer'), workspaceId: wsId('Default') }]);
  assert.deepEqual(afterAdd.map((g) => `${g.accessRoleName}@${g.workspaceName}`).sort(), ['Lead Writer@Default', 'Lead Writer@Sales', 'Reader@AllZones']);
  const afterDelete = await api.deleteRoles(email, [{ accessRoleId: roleId('Lead Writer'), workspaceId: wsId('Sales') }]);
  assert.deepEqual(afterDelete.map((g) => `${g.accessRoleName}@${g.workspaceName}`).sort(), ['Lead Writer@Default', 'Reader@AllZones']);
  assert.deepEqual(await api.getUserRoles(email), afterDelete);

  // 6. the integration gets its service; deleting its user is refused while it exists
  addService(db, 'CRM sync', email);
  await assert.rejects(api.deleteUser(email), (e) => {
    assert.equal(e.status, 409);
    assert.equal(e.code, 611);
    assert.equal(e.apiMessage, 'You cannot delete an API user that is being used in API service');
    return true;
  });
  assert.equal((await api.getUser(email)).id, user.id, 'still there');

  // 7. once the service is gone, the delete goes through
  cli(db, 'service', 'delete', 'CRM sync');
  assert.equal(await api.deleteUser(email), null, '200 with an empty body');
  await assert.rejects(api.getUser(email), (e) => e.status === 404 && e.code === 1004);
  assert.ok(!(await api.getUsers(0, 200)).some((u) => u.emailAddress === email));

  // every step in the audit trail, in order, with the API caller and its address
  const evs = cli(db, 'audit', 'list', '--limit', '0').events.filter((e) => e.target === email || e.target === 'CRM sync').reverse();
  const apiActor = 'api:admin-api@example.com/UM sync';
  assert.deepEqual(evs.map((e) => [e.area, e.action, e.target, e.actor.startsWith('cli:') ? 'cli' : e.actor, e.address]), [
    ['User', 'Create', email, apiActor, '127.0.0.1'],
    ['User', 'Edit', email, apiActor, '127.0.0.1'],
    ['User', 'Edit', email, apiActor, '127.0.0.1'],
    ['User', 'Edit', email, apiActor, '127.0.0.1'],
    ['Service', 'Create', 'CRM sync', 'cli', ''],
    ['Service', 'Delete', 'CRM sync', 'cli', ''],
    ['User', 'Delete', email, apiActor, '127.0.0.1'],
  ]);
  assert.equal(evs[0].details.expiresAt, '2032-01-01T04:59:59Z');
  assert.equal(evs[0].details.apiOnly, true);
  assert.deepEqual(evs[1].details.changes.firstName, { from: 'Crm', to: 'CRM' });
  // the table of `latchkey audit list --actor api:` shows the same steps
  const table = run(['audit', 'list', '--actor', 'api:', '--limit', '0'], { db });
  assert.equal(table.status, 0, table.stderr);
  const lines = table.stdout.split('\n').filter((l) => l.includes(email));
  assert.equal(lines.length, 5, table.stdout);
  for (const l of lines) assert.match(l, /api:admin-api@example\.com\/UM sync\s+127\.0\.0\.1\s+User\s+(Create|Edit|Delete)\s/);
});
