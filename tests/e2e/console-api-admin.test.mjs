// latchkey serve: the console's JSON API, part 2 (docs/console-api.md; PRODUCT.md §2, §5; issue 5):
// the one-time password, the Access Admin permission of every call, the administrator's path
// (role → API-only user → service → Get Token → REST; rotate, lock, delete), Web Services
// (URLs, usage, allowlist, limits), and the audit trail with its filters and CSV.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CONSOLE_ROLE_KEYS, CONSOLE_SECRET_MASK, CONSOLE_SERVICE_KEYS, CONSOLE_USER_KEYS, USAGE, addService, assertConsoleError,
  assertConsoleOk, assertOk, assertRestError, avoidMidnight, cli, consoleAdminCreate, consoleCall, consoleLogin, consoleReadyAdmin, creds,
  dayQuota, dayUTC, identity, rest, startServer, token,
} from './server-lib.mjs';
import { ADMIN_PERMS, API_PERMS, ISO_UTC, SECRET, count, newDb, sql } from './lib.mjs';
import { linkOf, outboxMail, tokenOf } from './mail-server-lib.mjs';

const PW = 'correct horse battery 1';
const BOSS = 'boss@example.com';

// The mailer of the running server works on its own schedule: it records each delivery as
// an Email event by "system" and mints a fresh invitation token (token_hash) at each send
// attempt. Neither is a change made by the refused call, so both stay out of the snapshot;
// so does the Denied event a refusal leaves on purpose (counted by deniedCount).
// (Issued access tokens are not stored; revocations are, and only by a call.)
function snapshot(db) {
  const q = (s) => JSON.stringify(sql(db, s));
  return ['SELECT * FROM users ORDER BY id', 'SELECT * FROM roles ORDER BY id', 'SELECT * FROM role_permissions ORDER BY 1, 2',
    'SELECT * FROM user_roles ORDER BY 1, 2, 3', 'SELECT * FROM services ORDER BY id', 'SELECT * FROM allowlist ORDER BY id',
    "SELECT * FROM settings WHERE key NOT LIKE 'setup%' ORDER BY key", 'SELECT id, user_id, message, created_at, expires_at, accepted_at FROM invitations ORDER BY id',
    "SELECT * FROM audit_events WHERE NOT (actor = 'system' AND area = 'Email') AND area <> 'Denied' ORDER BY id", 'SELECT count(*) FROM token_revocations'].map(q).join('\n');
}

const deniedCount = (db, actor) => count(db, 'audit_events', `area = 'Denied' AND actor = 'user:${actor}'`);

// every call of docs/console-api.md that needs a permission, with a harmless body
const CALLS = (ids) => [
  ['GET', '/permissions', undefined, ['Access Roles']],
  ['GET', '/workspaces', undefined, ['Access Users', 'Access Roles']],
  ['GET', '/roles', undefined, ['Access Users', 'Access Roles']],
  ['POST', '/roles', { name: 'Denied Role', permissions: ['Read-Only Lead'] }, ['Access Roles']],
  ['PUT', `/roles/${ids.role}`, { description: 'denied' }, ['Access Roles']],
  ['DELETE', `/roles/${ids.role}`, undefined, ['Access Roles']],
  ['GET', '/users?q=api', undefined, ['Access Users']],
  ['POST', '/users', { email: 'denied@example.com', firstName: 'De', lastName: 'Nied', apiOnly: true, grants: [{ roleId: ids.role, workspaceId: 0 }] }, ['Access Users']],
  ['PUT', `/users/${ids.user}`, { firstName: 'Denied' }, ['Access Users']],
  ['POST', `/users/${ids.user}/lock`, { reason: 'denied' }, ['Access Users']],
  ['POST', `/users/${ids.user}/unlock`, {}, ['Access Users']],
  ['DELETE', `/users/${ids.user}`, undefined, ['Access Users']],
  ['GET', '/services', undefined, ['Access LaunchPoint']],
  ['POST', '/services', { name: 'Denied', userEmail: 'api@example.com' }, ['Access LaunchPoint']],
  ['GET', `/services/${ids.service}`, undefined, ['Access LaunchPoint']],
  ['POST', `/services/${ids.service}/token`, undefined, ['Access LaunchPoint']],
  ['POST', `/services/${ids.service}/rotate`, { graceSeconds: 0 }, ['Access LaunchPoint']],
  ['PUT', `/services/${ids.service}`, { description: 'denied' }, ['Access LaunchPoint']],
  ['DELETE', `/services/${ids.service}`, undefined, ['Access LaunchPoint']],
  ['GET', '/webservices', undefined, ['Access Web Services']],
  ['POST', '/allowlist', { cidr: '192.168.0.0/16' }, ['Access Web Services']],
  ['DELETE', '/allowlist?cidr=10.0.0.0/8', undefined, ['Access Web Services']],
  ['PUT', '/allowlist', { enabled: true }, ['Access Web Services']],
  ['PUT', '/limits', { rate: '5/10' }, ['Access Web Services']],
  ['GET', '/audit', undefined, ['Access Audit Trail']],
  ['GET', '/logins', undefined, ['Access Login History']],
];

/* ---------------------------------------------------------------- one-time password, permissions */

describe('console API: one-time passwords and Access Admin permissions', { concurrency: 1 }, () => {
  let db;
  let srv;
  let boss;
  const ids = {};
  const made = {};
  before(async () => {
    db = newDb();
    ids.role = cli(db, 'role', 'create', '--name', 'API Only', '--permission', 'Read-Only Lead').role.id;
    ids.user = cli(db, 'user', 'invite', '--email', 'api@example.com', '--first', 'Api', '--last', 'User', '--role', 'API Only', '--api-only').user.id;
    addService(db, 'Sync', 'api@example.com');
    ids.service = sql(db, 'SELECT id FROM services')[0].id;
    cli(db, 'allowlist', 'add', '10.0.0.0/8');
    cli(db, 'role', 'create', '--name', 'Users Keeper', '--permission', 'Access Users');
    cli(db, 'role', 'create', '--name', 'Roles Keeper', '--permission', 'Access Roles');
    cli(db, 'role', 'create', '--name', 'All But LaunchPoint', ...ADMIN_PERMS.filter((p) => p !== 'Access LaunchPoint').flatMap((p) => ['--permission', p]));
    for (const e of ['fresh@example.com', 'users-only@example.com', 'no-launchpoint@example.com']) made[e] = consoleAdminCreate(db, e, 'Con', 'Sole');
    srv = await startServer(null, db);
    boss = await consoleReadyAdmin(srv, db, BOSS, PW);
  });
  after(async () => {
    await srv?.stop();
    db?.remove();
  });

  test('a one-time password: every call but session/password/logout → 403 password_change_required until it is changed', async () => {
    const email = 'fresh@example.com';
    const otp = made[email].password;
    assert.match(otp, /^\S{20}$/);
    const s = await consoleLogin(srv, email, otp);
    assert.equal(s.mustChangePassword, true);
    assert.deepEqual([...s.permissions].sort(), [...ADMIN_PERMS].sort());
    const other = await consoleLogin(srv, email, otp);
    const third = await consoleLogin(srv, email, otp);
    const before = snapshot(db);
    for (const [method, path, body] of CALLS(ids)) {
      assertConsoleError(await s.call(path, { method, body }), 403, 'password_change_required', undefined, `${method} ${path}`);
    }
    assert.equal(snapshot(db), before, 'nothing changed');
    const sess = assertConsoleOk(await s.call('/session'));
    assert.equal(sess.mustChangePassword, true);
    // logout is allowed too
    assert.deepEqual(assertConsoleOk(await third.call('/logout', { method: 'POST' })), { ok: true });

    // the password rules
    for (const [what, body, field] of [
      ['wrong current', { current: 'not the one-time password', password: 'a fine new password' }, 'current'],
      ['no current', { password: 'a fine new password' }, 'current'],
      ['too short', { current: otp, password: 'short pw' }, 'password'],
      ['contains the name', { current: otp, password: 'my name is console' }, 'password'],
      ['contains the email', { current: otp, password: 'Fresh@example-1234' }, 'password'],
      ['the same as before', { current: otp, password: otp }, 'password'],
    ]) {
      assertConsoleError(await s.call('/password', { body }), 400, 'invalid', field, what);
    }
    assert.equal(snapshot(db), before, 'refused password changes changed nothing');

    assert.deepEqual(assertConsoleOk(await s.call('/password', { body: { current: otp, password: PW } })), { ok: true });
    assert.equal(sql(db, `SELECT must_change_password FROM users WHERE email = '${email}'`)[0].must_change_password, 0);
    assert.equal(assertConsoleOk(await s.call('/session')).mustChangePassword, false);
    assert.ok(Array.isArray(assertConsoleOk(await s.call('/users')).users), 'work is possible now');
    assertConsoleError(await other.call('/session'), 401, 'unauthorized', '', 'the other sessions of the user ended');
    const ev = sql(db, `SELECT actor, address, area, action, target FROM audit_events WHERE action = 'Change Password' AND target = '${email}'`);
    assert.deepEqual(ev, [{ actor: `user:${email}`, address: '127.0.0.1', area: 'User', action: 'Change Password', target: email }]);
    // the one-time password is gone; the new one signs in without the flag
    assertConsoleError(await consoleCall(srv, '/login', { body: { email, password: otp } }), 401, 'unauthorized');
    assert.equal((await consoleLogin(srv, email, PW)).mustChangePassword, false);
  });

  test('a console user with only Access Users: users calls work; roles changes, services, web services, audit → 403 forbidden', async () => {
    const email = 'users-only@example.com';
    const s = await consoleReadyAdmin(srv, db, email, PW, { created: made[email] });
    cli(db, 'user', 'update', email, '--add-role', 'Users Keeper', '--remove-role', 'Admin');
    const sess = assertConsoleOk(await s.call('/session'));
    assert.deepEqual(sess.permissions, ['Access Users']);
    assert.deepEqual(sess.user.roles.map((g) => g.role), ['Users Keeper']);
    const before = snapshot(db);
    const deniedBefore = deniedCount(db, email);
    let refusals = 0;
    for (const [method, path, body, perms] of CALLS(ids)) {
      if (perms.includes('Access Users')) continue;
      const e = assertConsoleError(await s.call(path, { method, body }), 403, 'forbidden', '', `${method} ${path}`);
      assert.ok(e.message.includes(perms[0]), `${method} ${path}: the message names ${perms[0]}: ${e.message}`);
      refusals++;
    }
    assert.equal(snapshot(db), before, 'forbidden calls changed nothing');
    assert.equal(deniedCount(db, email) - deniedBefore, refusals, 'each refusal is a Denied event');
    // what Access Users allows: users calls, for users no more powerful than the keeper
    assert.ok(assertConsoleOk(await s.call('/roles')).some((r) => r.name === 'API Only'));
    assert.ok(assertConsoleOk(await s.call('/workspaces')).some((w) => w.name === 'AllZones'));
    assert.deepEqual(assertConsoleOk(await s.call('/users?q=api@')).users.map((u) => u.email), ['api@example.com']);
    // an API-only user with a role of Access API permissions the keeper does not hold: refused
    assertConsoleError(await s.call('/users', { body: { email: 'by-keeper@example.com', firstName: 'By', lastName: 'Keeper', apiOnly: true,
      grants: [{ roleId: ids.role, workspaceId: 0 }] } }), 403, 'forbidden', '');
    assert.equal(snapshot(db), before);
    cli(db, 'user', 'update', email, '--add-role', 'API Only');
    const inv = assertConsoleOk(await s.call('/users', { body: { email: 'by-keeper@example.com', firstName: 'By', lastName: 'Keeper', apiOnly: true,
      grants: [{ roleId: ids.role, workspaceId: 0 }] } }));
    assert.equal(inv.user.status, 'active');
    assert.equal(assertConsoleOk(await s.call(`/users/${inv.user.id}`, { method: 'PUT', body: { lastName: 'Keeper2' } })).lastName, 'Keeper2');
    assert.equal(assertConsoleOk(await s.call(`/users/${inv.user.id}/lock`, { body: { reason: 'test' } })).status, 'locked');
    assert.equal(assertConsoleOk(await s.call(`/users/${inv.user.id}/unlock`, { body: {} })).status, 'active');
    assert.deepEqual(assertConsoleOk(await s.call(`/users/${inv.user.id}`, { method: 'DELETE' })), { ok: true });
    const actors = sql(db, "SELECT DISTINCT actor, address FROM audit_events WHERE target = 'by-keeper@example.com'");
    assert.deepEqual(actors, [{ actor: `user:${email}`, address: '127.0.0.1' }]);

    // a permission granted with the CLI works at once, and is gone at once when removed
    cli(db, 'user', 'update', email, '--add-role', 'Roles Keeper');
    assert.equal(assertConsoleOk(await s.call('/roles', { body: { name: 'Granted Now', permissions: ['Read-Only Lead'] } })).name, 'Granted Now');
    assert.ok(assertConsoleOk(await s.call('/permissions')).length > 0);
    cli(db, 'user', 'update', email, '--remove-role', 'Roles Keeper');
    assertConsoleError(await s.call('/roles', { body: { name: 'Gone Now', permissions: ['Read-Only Lead'] } }), 403, 'forbidden');
  });

  test('a console user without Access LaunchPoint: every services call → 403 forbidden; the rest works', async () => {
    const email = 'no-launchpoint@example.com';
    const s = await consoleReadyAdmin(srv, db, email, PW, { created: made[email] });
    cli(db, 'user', 'update', email, '--add-role', 'All But LaunchPoint', '--remove-role', 'Admin');
    assert.deepEqual([...assertConsoleOk(await s.call('/session')).permissions].sort(),
      ADMIN_PERMS.filter((p) => p !== 'Access LaunchPoint').sort());
    const before = snapshot(db);
    const deniedBefore = deniedCount(db, email);
    let refusals = 0;
    for (const [method, path, body, perms] of CALLS(ids)) {
      if (!perms.includes('Access LaunchPoint')) continue;
      assertConsoleError(await s.call(path, { method, body }), 403, 'forbidden', '', `${method} ${path}`);
      refusals++;
    }
    assert.equal(snapshot(db), before);
    assert.equal(deniedCount(db, email) - deniedBefore, refusals, 'each refusal is a Denied event');
    for (const path of ['/webservices', '/audit', '/logins', '/permissions', '/users', '/roles'])
      assertConsoleOk(await s.call(path), path);
  });

  test('the last active Admin cannot delete themselves (409 last_admin), nor lock themselves or drop their own roles (403: never oneself)', async () => {
    cli(db, 'user', 'update', 'fresh@example.com', '--add-role', 'Users Keeper', '--remove-role', 'Admin');
    const admins = sql(db, "SELECT u.id FROM users u JOIN user_roles g ON g.user_id = u.id WHERE g.role_id = 1 AND u.status = 'active'");
    assert.deepEqual(admins.map((a) => a.id), [boss.id], 'boss is the last Admin here');
    assertConsoleError(await boss.call(`/users/${boss.id}`, { method: 'DELETE' }), 409, 'last_admin');
    const lock = assertConsoleError(await boss.call(`/users/${boss.id}/lock`, { body: { reason: 'oops' } }), 403, 'forbidden');
    assert.equal(lock.denied.self, 'lock state');
    const roles = assertConsoleError(await boss.call(`/users/${boss.id}`, { method: 'PUT', body: { grants: [{ roleId: ids.role, workspaceId: 0 }] } }), 403, 'forbidden');
    assert.equal(roles.denied.self, 'roles');
    assertConsoleOk(await boss.call('/session'));
  });
});

/* ---------------------------------------------------------------- the administrator's path */

describe("console API: the administrator's path", { concurrency: 1 }, () => {
  let db;
  let srv;
  let boss;
  const st = {};
  before(async () => {
    db = newDb();
    srv = await startServer(null, db);
    boss = await consoleReadyAdmin(srv, db, BOSS, PW);
    st.auditStart = sql(db, 'SELECT max(id) AS n FROM audit_events')[0].n;
  });
  after(async () => {
    await srv?.stop();
    db?.remove();
  });

  test('permissions and workspaces', async () => {
    const perms = assertConsoleOk(await boss.call('/permissions'));
    for (const p of perms) {
      assert.ok(['admin', 'api'].includes(p.group), JSON.stringify(p));
      assert.equal(typeof p.description, 'string');
    }
    assert.deepEqual(perms.filter((p) => p.group === 'admin').map((p) => p.name).sort(), [...ADMIN_PERMS].sort());
    assert.deepEqual(perms.filter((p) => p.group === 'api').map((p) => p.name).sort(), [...API_PERMS].sort());
    const ws = assertConsoleOk(await boss.call('/workspaces'));
    assert.deepEqual(ws.map((w) => [w.id, w.name]), [[0, 'AllZones'], [1, 'Default']]);
    for (const w of ws) assert.deepEqual(Object.keys(w).sort(), ['description', 'id', 'name']);
  });

  test('role create with permission names', async () => {
    const r = assertConsoleOk(await boss.call('/roles', { body: { name: 'API Only', description: 'for integrations',
      permissions: ['Read-Only Lead', 'read-write lead'] } }));
    assert.deepEqual(Object.keys(r).sort(), CONSOLE_ROLE_KEYS);
    assert.equal(r.name, 'API Only');
    assert.equal(r.description, 'for integrations');
    assert.equal(r.type, 'custom');
    assert.equal(r.holders, 0);
    assert.deepEqual([...r.permissions].sort(), ['Read-Only Lead', 'Read-Write Lead']);
    assert.equal(r.hasApiPermission, true, 'Access API permissions: marked for Invite New User');
    const admin = assertConsoleOk(await boss.call('/roles')).find((x) => x.type === 'system');
    assert.equal(admin.hasApiPermission, false, 'Admin holds Access Admin permissions only');
    st.role = r;
    const row = sql(db, `SELECT name, description, system FROM roles WHERE id = ${r.id}`)[0];
    assert.deepEqual(row, { name: 'API Only', description: 'for integrations', system: 0 });
    assert.equal(count(db, 'role_permissions', `role_id = ${r.id}`), 2);
    // refusals
    assertConsoleError(await boss.call('/roles', { body: { name: 'api only', permissions: ['Read-Only Lead'] } }), 409, 'exists', 'name');
    // a permission the body names that does not exist is bad input (400), named by the body's member
    assertConsoleError(await boss.call('/roles', { body: { name: 'Bogus', permissions: ['No Such Permission'] } }), 400, 'invalid', 'permissions');
    assertConsoleError(await boss.call('/roles', { body: { permissions: ['Read-Only Lead'] } }), 400, 'invalid', 'name');
    const listed = assertConsoleOk(await boss.call('/roles'));
    assert.deepEqual(listed.find((x) => x.name === 'Admin'), { ...listed.find((x) => x.name === 'Admin'), id: 1, type: 'system', holders: 1 });
    assert.deepEqual(listed.find((x) => x.id === r.id), r);
  });

  test('invite an API-only user with grants by roleId/workspaceId, and a person who gets an invitation email', async () => {
    const a = assertConsoleOk(await boss.call('/users', { body: { email: 'sync@example.com', firstName: 'Sync', lastName: 'Job',
      reason: 'nightly export', apiOnly: true, grants: [{ roleId: st.role.id, workspaceId: 1 }] } }));
    assert.deepEqual(Object.keys(a).sort(), ['invitation', 'user']);
    assert.equal(a.invitation, null);
    assert.deepEqual(Object.keys(a.user).sort(), CONSOLE_USER_KEYS);
    assert.equal(a.user.status, 'active');
    assert.equal(a.user.apiOnly, true);
    assert.equal(a.user.reason, 'nightly export');
    assert.deepEqual(a.user.roles, [{ roleId: st.role.id, role: 'API Only', workspaceId: 1, workspace: 'Default' }]);
    assert.equal(count(db, 'invitations', `user_id = ${a.user.id}`), 0);
    st.api = a.user;

    const r = await boss.call('/users', { body: { email: 'person@example.com', firstName: 'Per', lastName: 'Son',
      apiOnly: false, message: 'Welcome aboard', grants: [{ roleId: st.role.id, workspaceId: 0 }] } });
    const p = assertConsoleOk(r);
    assert.equal(p.user.status, 'pending');
    assert.equal(p.user.apiOnly, false);
    // the answer says where the invitation went; the link itself goes by email only
    assert.deepEqual(Object.keys(p).sort(), ['invitation', 'user']);
    assert.deepEqual(Object.keys(p.invitation).sort(), ['email', 'expiresAt']);
    assert.equal(p.invitation.email, 'person@example.com');
    assert.match(p.invitation.expiresAt, ISO_UTC);
    assert.ok(!r.text.includes('/invite#'), `no link in the answer: ${r.text}`);
    // the server (no smtp_host) writes the email into the outbox next to the database
    const mail = await outboxMail(srv, 'person@example.com');
    assert.equal(path.dirname(mail.file), path.join(db.dir, 'outbox'));
    const link = linkOf(mail);
    assert.ok(link.startsWith(`${srv.url}/invite#`), link);
    assert.ok(mail.text.includes('Welcome aboard'), `the message is in the email:\n${mail.text}`);
    const invite = tokenOf(link);
    assert.match(invite, /^[A-Za-z0-9_-]{22,}$/);
    const rows = sql(db, `SELECT token_hash, message FROM invitations WHERE user_id = ${p.user.id}`);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].message, 'Welcome aboard');
    assert.ok(!rows[0].token_hash.includes(invite), 'only the hash of the invitation is stored');
    st.person = p.user;

    // refusals: a duplicate email, an API-only user without an API permission
    assertConsoleError(await boss.call('/users', { body: { email: 'SYNC@example.com', firstName: 'S', lastName: 'J', apiOnly: true,
      grants: [{ roleId: st.role.id, workspaceId: 1 }] } }), 409, 'exists', 'email');
    assertConsoleError(await boss.call('/users', { body: { email: 'x@example.com', firstName: 'S', lastName: 'J', apiOnly: true,
      grants: [{ roleId: 1, workspaceId: 0 }] } }), 409, 'rule');
    assertConsoleError(await boss.call('/users', { body: { email: 'not an email', firstName: 'S', lastName: 'J', apiOnly: true,
      grants: [{ roleId: st.role.id, workspaceId: 1 }] } }), 400, 'invalid', 'email');
    assertConsoleError(await boss.call('/users', { body: { email: 'y@example.com', firstName: 'S', lastName: 'J', apiOnly: true,
      grants: [{ roleId: 'API Only', workspaceId: 1 }] } }), 400, 'invalid', 'grants');

    // the list and its search (email, names; pending, active)
    const all = assertConsoleOk(await boss.call('/users')).users;
    assert.deepEqual(all.map((u) => u.email).sort(), [BOSS, 'person@example.com', 'sync@example.com']);
    assert.deepEqual(assertConsoleOk(await boss.call('/users?q=SYNC')).users.map((u) => u.email), ['sync@example.com']);
    assert.deepEqual(assertConsoleOk(await boss.call('/users?q=son')).users.map((u) => u.email), ['person@example.com']);
    assert.deepEqual(assertConsoleOk(await boss.call('/users?q=nobody-matches')).users, []);
    assert.equal(assertConsoleOk(await boss.call('/roles')).find((r) => r.id === st.role.id).holders, 2);
  });

  test('service create: the secret once, then only the mask', async () => {
    const r = await boss.call('/services', { body: { name: 'Sync', description: 'nightly', userEmail: 'sync@example.com' } });
    const j = assertConsoleOk(r);
    assert.deepEqual(Object.keys(j).sort(), ['clientSecret', 'service']);
    assert.match(j.clientSecret, SECRET);
    assert.deepEqual(Object.keys(j.service).sort(), CONSOLE_SERVICE_KEYS);
    assert.equal(j.service.secret, CONSOLE_SECRET_MASK);
    assert.equal(j.service.user, 'sync@example.com');
    assert.equal(j.service.description, 'nightly');
    assert.equal(j.service.previousSecretValidUntil, null);
    assert.match(j.service.createdAt, ISO_UTC);
    st.svc = { id: j.service.id, clientId: j.service.clientId, secret: j.clientSecret, name: 'Sync' };
    const one = await boss.call(`/services/${st.svc.id}`);
    assert.deepEqual(assertConsoleOk(one), j.service);
    const list = await boss.call('/services');
    assert.deepEqual(assertConsoleOk(list).services, [j.service]);
    for (const x of [one, list]) assert.ok(!x.text.includes(st.svc.secret), 'the secret is never shown again');
    assert.ok(!JSON.stringify(sql(db, 'SELECT * FROM services')).includes(st.svc.secret), 'only a hash is stored');
    // the secret works at the identity endpoint
    await token(srv, st.svc);
    // refusals
    assertConsoleError(await boss.call('/services', { body: { name: 'sync', userEmail: 'sync@example.com' } }), 409, 'exists', 'name');
    assertConsoleError(await boss.call('/services', { body: { name: 'For a person', userEmail: 'person@example.com' } }), 409, 'rule');
  });

  test('Get Token: the current token, which works on /rest/v1/stats/usage.json', async () => {
    const r = assertConsoleOk(await boss.call(`/services/${st.svc.id}/token`, { method: 'POST' }));
    assert.deepEqual(Object.keys(r).sort(), ['accessToken', 'expiresAt', 'expiresIn', 'tokenType']);
    assert.equal(r.tokenType, 'bearer');
    assert.ok(r.expiresIn > 0 && r.expiresIn <= 3600, `expiresIn ${r.expiresIn}`);
    assert.match(r.expiresAt, ISO_UTC);
    assertOk(await rest(srv, USAGE, r.accessToken), 'the console token on /rest');
    // while valid, the same token (as the identity endpoint does)
    assert.equal(await token(srv, st.svc), r.accessToken);
    assert.equal(assertConsoleOk(await boss.call(`/services/${st.svc.id}/token`, { method: 'POST' })).accessToken, r.accessToken);
    st.token = r.accessToken;
  });

  test('Edit Service: a new display name and description; the client id, secret and token stay', async () => {
    const before = sql(db, `SELECT client_id, secret_hash, tokens_valid_after FROM services WHERE id = ${st.svc.id}`)[0];
    const r = assertConsoleOk(await boss.call(`/services/${st.svc.id}`, { method: 'PUT', body: { name: 'Sync (edited)', description: 'hourly' } }));
    assert.deepEqual(Object.keys(r).sort(), CONSOLE_SERVICE_KEYS);
    assert.equal(r.name, 'Sync (edited)');
    assert.equal(r.description, 'hourly');
    assert.equal(r.clientId, st.svc.clientId);
    // the same client id and secret, and no token revoked (tokens_valid_after kept); no REST
    // call here: its count, written a second later, would change the next tests' snapshots
    assert.deepEqual(sql(db, `SELECT client_id, secret_hash, tokens_valid_after FROM services WHERE id = ${st.svc.id}`)[0], before);
    assert.equal(await token(srv, st.svc), st.token, 'the secret still works, and the same token comes back');
    assertConsoleError(await boss.call(`/services/${st.svc.id}`, { method: 'PUT', body: {} }), 400, 'invalid');
    assertConsoleError(await boss.call(`/services/${st.svc.id}`, { method: 'PUT', body: { name: '' } }), 400, 'invalid', 'name');
    assertConsoleError(await boss.call(`/services/${st.svc.id}`, { method: 'PUT', body: { name: 7 } }), 400, 'invalid', 'name');
    assertConsoleError(await boss.call('/services/999999', { method: 'PUT', body: { name: 'x' } }), 404, 'not_found');
    // the name of another service, in any case, is refused (made and removed with the CLI:
    // the trail of the administrator's own changes below stays as it is)
    cli(db, 'service', 'create', '--name', 'Other Sync', '--user', 'sync@example.com');
    const taken = await boss.call(`/services/${st.svc.id}`, { method: 'PUT', body: { name: 'other SYNC', description: 'x' } });
    assertConsoleError(taken, 409, 'exists', 'name');
    assert.match(taken.json.error.message, /^a service named 'Other Sync' already exists$/);
    assert.equal(assertConsoleOk(await boss.call(`/services/${st.svc.id}`)).description, 'hourly', 'nothing changed');
    cli(db, 'service', 'delete', 'Other Sync');
    assert.equal(assertConsoleOk(await boss.call(`/services/${st.svc.id}`, { method: 'PUT', body: { name: 'Sync' } })).name, 'Sync');
  });

  test('rotate: a new secret; the old one refused (no grace) and its tokens revoked; with grace the previous one works until then', async () => {
    const r = assertConsoleOk(await boss.call(`/services/${st.svc.id}/rotate`, { body: {} }));
    assert.match(r.clientSecret, SECRET);
    assert.notEqual(r.clientSecret, st.svc.secret);
    assert.equal(r.service.secret, CONSOLE_SECRET_MASK);
    assert.equal(r.service.previousSecretValidUntil, null);
    const old = { ...st.svc };
    st.svc.secret = r.clientSecret;
    assert.equal((await identity(srv, creds(old))).status, 401, 'the old secret is refused');
    assertRestError(await rest(srv, USAGE, st.token), 601, 'Access token invalid', 'the token of the old secret');
    const fresh = await token(srv, st.svc);
    assert.notEqual(fresh, st.token);

    const g = assertConsoleOk(await boss.call(`/services/${st.svc.id}/rotate`, { body: { graceSeconds: 300 } }));
    const until = Date.parse(g.service.previousSecretValidUntil);
    assert.ok(Math.abs(until - (Date.now() + 300_000)) < 60_000, `previousSecretValidUntil ${g.service.previousSecretValidUntil}`);
    assert.equal((await identity(srv, creds(st.svc))).status, 200, 'the previous secret works during the grace period');
    st.svc.secret = g.clientSecret;
    assert.equal((await identity(srv, creds(st.svc))).status, 200, 'the new secret works');
    assert.deepEqual(assertConsoleOk(await boss.call(`/services/${st.svc.id}`)).previousSecretValidUntil, g.service.previousSecretValidUntil);
    assertConsoleError(await boss.call(`/services/${st.svc.id}/rotate`, { body: { graceSeconds: -5 } }), 400, 'invalid', 'graceSeconds');
  });

  test('user update: names, reason, expiry (null clears), grants as the full new set', async () => {
    const id = st.api.id;
    let u = assertConsoleOk(await boss.call(`/users/${id}`, { method: 'PUT', body: { firstName: 'Synced', reason: 'hourly export',
      expiresAt: '2099-01-31' } }));
    assert.equal(u.firstName, 'Synced');
    assert.equal(u.reason, 'hourly export');
    assert.equal(u.expiresAt, '2099-01-31T00:00:00Z');
    u = assertConsoleOk(await boss.call(`/users/${id}`, { method: 'PUT', body: { expiresAt: null } }));
    assert.equal(u.expiresAt, null);
    assert.equal(u.firstName, 'Synced', 'members not given are kept');
    u = assertConsoleOk(await boss.call(`/users/${id}`, { method: 'PUT', body: { grants: [{ roleId: st.role.id, workspaceId: 0 },
      { roleId: st.role.id, workspaceId: 1 }] } }));
    assert.deepEqual(u.roles.map((g) => g.workspace).sort(), ['AllZones', 'Default']);
    u = assertConsoleOk(await boss.call(`/users/${id}`, { method: 'PUT', body: { grants: [{ roleId: st.role.id, workspaceId: 0 }] } }));
    assert.deepEqual(u.roles, [{ roleId: st.role.id, role: 'API Only', workspaceId: 0, workspace: 'AllZones' }]);
    assert.deepEqual(sql(db, `SELECT role_id, workspace_id FROM user_roles WHERE user_id = ${id}`), [{ role_id: st.role.id, workspace_id: 0 }]);
    assertConsoleError(await boss.call(`/users/${id}`, { method: 'PUT', body: { grants: [] } }), 400, 'invalid');
    assertConsoleError(await boss.call(`/users/${id}`, { method: 'PUT', body: { expiresAt: 'someday' } }), 400, 'invalid', 'expiresAt');
    assertOk(await rest(srv, USAGE, await token(srv, st.svc)), 'the user still works on /rest');
  });

  test('lock and unlock: the token stops at once and Get Token is refused; unlock brings both back', async () => {
    const tok = await token(srv, st.svc);
    const u = assertConsoleOk(await boss.call(`/users/${st.api.id}/lock`, { body: { reason: 'suspicious traffic' } }));
    assert.equal(u.status, 'locked');
    assert.equal(u.lockedReason, 'suspicious traffic');
    assertRestError(await rest(srv, USAGE, tok), 601, 'Access token invalid', 'a token of a locked user');
    assertConsoleError(await boss.call(`/services/${st.svc.id}/token`, { method: 'POST' }), 409, 'rule');
    assert.deepEqual(sql(db, `SELECT status, lock_reason FROM users WHERE id = ${st.api.id}`), [{ status: 'locked', lock_reason: 'suspicious traffic' }]);
    const back = assertConsoleOk(await boss.call(`/users/${st.api.id}/unlock`, { body: { expiresAt: null } }));
    assert.equal(back.status, 'active');
    assert.equal(back.lockedReason, null);
    const t2 = assertConsoleOk(await boss.call(`/services/${st.svc.id}/token`, { method: 'POST' })).accessToken;
    assertOk(await rest(srv, USAGE, t2), 'after unlock');
  });

  test('delete: a user who owns a service → 409 in_use; the service, then the user', async () => {
    const tok = await token(srv, st.svc);
    const before = snapshot(db);
    const e = assertConsoleError(await boss.call(`/users/${st.api.id}`, { method: 'DELETE' }), 409, 'in_use');
    assert.ok(e.message.includes('Sync'), e.message);
    assert.equal(snapshot(db), before);
    assert.deepEqual(assertConsoleOk(await boss.call(`/services/${st.svc.id}`, { method: 'DELETE' })), { ok: true });
    assertRestError(await rest(srv, USAGE, tok), 601, 'Access token invalid', 'a token of a deleted service');
    assert.equal((await identity(srv, creds(st.svc))).status, 401);
    assertConsoleError(await boss.call(`/services/${st.svc.id}`), 404, 'not_found');
    assert.deepEqual(assertConsoleOk(await boss.call('/services')).services, []);
    assert.deepEqual(assertConsoleOk(await boss.call(`/users/${st.api.id}`, { method: 'DELETE' })), { ok: true });
    assert.equal(count(db, 'users', `id = ${st.api.id}`), 0);
    assertConsoleError(await boss.call(`/users/${st.api.id}`, { method: 'DELETE' }), 404, 'not_found');
  });

  test('role update with a full permission set; delete refused while held (409), then done', async () => {
    let r = assertConsoleOk(await boss.call(`/roles/${st.role.id}`, { method: 'PUT', body: { name: 'API Readers', description: 'read only',
      permissions: ['Read-Only Lead', 'Read-Only Activity', 'Read-Only Company'] } }));
    assert.equal(r.name, 'API Readers');
    assert.equal(r.description, 'read only');
    assert.deepEqual([...r.permissions].sort(), ['Read-Only Activity', 'Read-Only Company', 'Read-Only Lead']);
    r = assertConsoleOk(await boss.call(`/roles/${st.role.id}`, { method: 'PUT', body: { permissions: ['Read-Only Company', 'Access Users'] } }));
    assert.deepEqual([...r.permissions].sort(), ['Access Users', 'Read-Only Company']);
    assert.equal(r.name, 'API Readers', 'name kept');
    assert.deepEqual(sql(db, `SELECT p.name FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id WHERE rp.role_id = ${st.role.id} ORDER BY p.name`)
      .map((x) => x.name), ['Access Users', 'Read-Only Company']);
    // the system Admin role is read-only
    const admin = sql(db, 'SELECT * FROM roles WHERE id = 1');
    const sys = await boss.call('/roles/1', { method: 'PUT', body: { description: 'mine now' } });
    assert.ok([403, 409].includes(sys.status), `editing Admin: ${sys.status} ${sys.text}`);
    assertConsoleError(await boss.call('/roles/1', { method: 'DELETE' }), sys.status, sys.json.error.code);
    assert.deepEqual(sql(db, 'SELECT * FROM roles WHERE id = 1'), admin);

    const held = assertConsoleError(await boss.call(`/roles/${st.role.id}`, { method: 'DELETE' }), 409, 'in_use');
    assert.ok(held.message.includes('person@example.com'), held.message);
    assert.deepEqual(assertConsoleOk(await boss.call(`/users/${st.person.id}`, { method: 'DELETE' })), { ok: true });
    assert.deepEqual(assertConsoleOk(await boss.call(`/roles/${st.role.id}`, { method: 'DELETE' })), { ok: true });
    assert.equal(count(db, 'roles', `id = ${st.role.id}`), 0);
    assert.ok(!assertConsoleOk(await boss.call('/roles')).some((x) => x.id === st.role.id));
    assertConsoleError(await boss.call(`/roles/${st.role.id}`, { method: 'DELETE' }), 404, 'not_found');
  });

  test('every change is in the audit trail with actor user:<email> and the address', async () => {
    const trail = assertConsoleOk(await boss.call(`/audit?actor=user:${BOSS}&limit=1000`)).events;
    const got = trail.filter((e) => e.id > st.auditStart).map((e) => `${e.area}/${e.action}/${e.target}`).reverse();
    assert.deepEqual(got, [
      'Role/Create/API Only',
      'User/Create/sync@example.com', 'User/Create/person@example.com',
      'Service/Create/Sync', 'Service/Edit/Sync (edited)', 'Service/Edit/Sync', 'Service/Rotate Secret/Sync',
      'Service/Rotate Secret/Sync',
      'User/Edit/sync@example.com', 'User/Edit/sync@example.com', 'User/Edit/sync@example.com', 'User/Edit/sync@example.com',
      'User/Lock/sync@example.com', 'User/Unlock/sync@example.com',
      'Service/Delete/Sync', 'User/Delete/sync@example.com',
      'Role/Edit/API Readers', 'Role/Edit/API Readers', 'User/Delete/person@example.com', 'Role/Delete/API Readers',
    ]);
    for (const e of trail) {
      assert.deepEqual(Object.keys(e).sort(), ['action', 'actor', 'address', 'area', 'at', 'details', 'id', 'target']);
      assert.equal(e.actor, `user:${BOSS}`);
      assert.equal(e.address, '127.0.0.1');
      assert.match(e.at, ISO_UTC);
      assert.equal(typeof e.details, 'object');
    }
    // no secret in any event
    for (const row of sql(db, 'SELECT details FROM audit_events')) assert.ok(!row.details.includes(st.svc.secret));
    // refused changes left no event
    assert.equal(count(db, 'audit_events', `id > ${st.auditStart} AND actor = 'user:${BOSS}'`), got.length);
  });
});

/* ---------------------------------------------------------------- Web Services */

describe('console API: Web Services (URLs, usage, allowlist, limits)', { concurrency: 1 }, () => {
  let db;
  let srv;
  let boss;
  let svc;
  before(async () => {
    db = newDb();
    cli(db, 'role', 'create', '--name', 'API Only', '--permission', 'Read-Only Lead');
    cli(db, 'user', 'invite', '--email', 'api@example.com', '--first', 'Api', '--last', 'User', '--role', 'API Only', '--api-only');
    svc = addService(db, 'Sync', 'api@example.com');
    srv = await startServer(null, db);
    boss = await consoleReadyAdmin(srv, db, BOSS, PW);
  });
  after(async () => {
    await srv?.stop();
    db?.remove();
  });

  test('GET /webservices: the URLs, 7 days of usage oldest first with today\'s calls, the allowlist, the limits', async () => {
    await avoidMidnight();
    const tok = await token(srv, svc);
    for (let i = 0; i < 3; i++) assertOk(await rest(srv, USAGE, tok));
    const w = assertConsoleOk(await boss.call('/webservices'));
    assert.deepEqual(Object.keys(w).sort(), ['allowlist', 'identityEndpoint', 'limits', 'restEndpoint', 'routes', 'usage']);
    assert.deepEqual(w.routes, [], 'no gateway routes (docs/gateway.md) in a new database');
    assert.equal(w.restEndpoint, `${srv.url}/rest`);
    assert.equal(w.identityEndpoint, `${srv.url}/identity`);
    assert.deepEqual(w.usage.map((d) => d.date), [6, 5, 4, 3, 2, 1, 0].map((b) => dayQuota(b)), 'the days of quota_tz, America/Chicago by default');
    for (const d of w.usage.slice(0, 6)) assert.deepEqual(d, { date: d.date, total: 0, users: [] });
    const today = w.usage[6];
    assert.equal(today.total, 3, JSON.stringify(today));
    // userId is the API user's userid (its email), as in Marketo's usage.json
    assert.deepEqual(today.users, [{ userId: 'api@example.com', count: 3 }]);
    assert.deepEqual(w.allowlist, { enabled: false, entries: [] });
    assert.deepEqual(w.limits, { rate: '100/20', rateCalls: 100, rateSeconds: 20, daily: 50000, concurrent: 10 });
  });

  test('allowlist: add, enable (then /rest from 127.0.0.1 → 603), add 127.0.0.1, remove it, disable', async () => {
    const tok = await token(srv, svc);
    assert.deepEqual(assertConsoleOk(await boss.call('/allowlist', { body: { cidr: '10.0.0.0/8' } })), { enabled: false, entries: ['10.0.0.0/8'] });
    assertConsoleError(await boss.call('/allowlist', { body: { cidr: 'not-an-address' } }), 400, 'invalid', 'cidr');
    assertConsoleError(await boss.call('/allowlist', { body: { cidr: '10.0.0.0/8' } }), 409, 'exists');
    assertConsoleError(await boss.call('/allowlist', { method: 'PUT', body: {} }), 400, 'invalid', 'enabled');
    assertConsoleError(await boss.call('/allowlist', { method: 'PUT', body: { enabled: 'yes' } }), 400, 'invalid', 'enabled');
    assertOk(await rest(srv, USAGE, tok), 'not enforced while disabled');
    assert.deepEqual(assertConsoleOk(await boss.call('/allowlist', { method: 'PUT', body: { enabled: true } })), { enabled: true, entries: ['10.0.0.0/8'] });
    assertRestError(await rest(srv, USAGE, tok), 603, undefined, '127.0.0.1 is not on the enabled allowlist');
    assertConsoleOk(await boss.call('/webservices'), 'the console itself is not behind the allowlist');
    const added = assertConsoleOk(await boss.call('/allowlist', { body: { cidr: '127.0.0.1' } }));
    assert.equal(added.enabled, true);
    assert.deepEqual([...added.entries].sort(), ['10.0.0.0/8', '127.0.0.1/32']);
    assertOk(await rest(srv, USAGE, tok), '127.0.0.1 listed');
    const removed = assertConsoleOk(await boss.call(`/allowlist?cidr=${encodeURIComponent('127.0.0.1/32')}`, { method: 'DELETE' }));
    assert.deepEqual(removed, { enabled: true, entries: ['10.0.0.0/8'] });
    assertRestError(await rest(srv, USAGE, tok), 603, undefined, 'removed again');
    assertConsoleError(await boss.call('/allowlist?cidr=192.0.2.0/24', { method: 'DELETE' }), 404, 'not_found', 'cidr');
    assert.deepEqual(assertConsoleOk(await boss.call('/allowlist', { method: 'PUT', body: { enabled: false } })), { enabled: false, entries: ['10.0.0.0/8'] });
    assertOk(await rest(srv, USAGE, tok), 'disabled again');
    assert.deepEqual(sql(db, 'SELECT cidr FROM allowlist'), [{ cidr: '10.0.0.0/8' }]);
    assert.deepEqual(assertConsoleOk(await boss.call('/webservices')).allowlist, { enabled: false, entries: ['10.0.0.0/8'] });
    const ev = assertConsoleOk(await boss.call('/audit?area=IP Restrictions')).events;
    assert.ok(ev.every((e) => e.actor === `user:${BOSS}` && e.address === '127.0.0.1'));
    assert.deepEqual(ev.map((e) => e.action).reverse(), ['Add', 'Enable', 'Add', 'Remove', 'Disable']);
    assert.deepEqual(ev.filter((e) => e.action === 'Add' || e.action === 'Remove').map((e) => e.target).reverse(),
      ['10.0.0.0/8', '127.0.0.1/32', '127.0.0.1/32']);
  });

  test('limits: rate "5/10" is enforced on /rest (606); 0 removes a limit; bad values → 400', async () => {
    const tok = await token(srv, svc);
    const set = assertConsoleOk(await boss.call('/limits', { method: 'PUT', body: { rate: '5/10' } }));
    assert.deepEqual(set, { rate: '5/10', rateCalls: 5, rateSeconds: 10, daily: 50000, concurrent: 10 });
    const codes = [];
    for (let i = 0; i < 6 && !codes.includes('606'); i++) {
      const r = await rest(srv, USAGE, tok);
      codes.push(r.json.success ? 'ok' : r.json.errors[0].code);
      if (r.json.success) assert.match(r.headers.get('ratelimit-policy') || '', /"rate";q=5;w=10/);
      else assertRestError(r, 606, "Max rate limit '5' exceeded with in '10' secs");
    }
    assert.ok(codes.includes('606'), `606 within 6 calls at 5 per 10 s: ${codes.join(' ')}`);
    const more = assertConsoleOk(await boss.call('/limits', { method: 'PUT', body: { rate: '0', daily: 1000, concurrent: '3' } }));
    assert.deepEqual(more, { rate: '0/0', rateCalls: 0, rateSeconds: 0, daily: 1000, concurrent: 3 });
    assertOk(await rest(srv, USAGE, tok), 'no rate limit any more');
    assert.deepEqual(assertConsoleOk(await boss.call('/webservices')).limits, more);
    // the token taken above is written on the server's own schedule: not part of the check
    const before = snapshot(db);
    for (const [body, field] of [[{ rate: 'abc' }, 'rate'], [{ rate: '5/' }, 'rate'], [{ rate: '5' }, 'rate'], [{ rate: '-1/10' }, 'rate'],
      [{ daily: -1 }, 'daily'], [{ daily: 'x' }, 'daily'], [{ concurrent: true }, 'concurrent'], [{ rate: 5 }, 'rate']]) {
      assertConsoleError(await boss.call('/limits', { method: 'PUT', body }), 400, 'invalid', field, JSON.stringify(body));
    }
    assert.equal(snapshot(db), before);
    const ev = assertConsoleOk(await boss.call('/audit?area=Web Services&action=Edit Limits')).events;
    assert.equal(ev.length, 2);
    assert.ok(ev.every((e) => e.actor === `user:${BOSS}` && e.address === '127.0.0.1' && e.target === 'instance'));
    assert.deepEqual(ev[0].details, { rateCalls: 0, rateSeconds: 0, daily: 1000, concurrent: 3 });
  });
});

/* ---------------------------------------------------------------- the audit trail */

describe('console API: the audit trail, its filters and CSV', { concurrency: 1 }, () => {
  let db;
  let srv;
  let boss;
  before(async () => {
    db = newDb();
    cli(db, 'role', 'create', '--name', 'By Cli', '--permission', 'Read-Only Lead');
    srv = await startServer(null, db);
    boss = await consoleReadyAdmin(srv, db, BOSS, PW);
    for (const name of ['=SUM(A1:A2)', '+Plus', '-Minus', '@At', 'Plain "quoted", role'])
      assertConsoleOk(await boss.call('/roles', { body: { name, permissions: ['Read-Only Lead'] } }), name);
  });
  after(async () => {
    await srv?.stop();
    db?.remove();
  });

  test('filters: area, action, actor, since/until, limit; bad values → 400', async () => {
    const all = assertConsoleOk(await boss.call('/audit?limit=1000')).events;
    const rows = sql(db, 'SELECT id, actor, area, action, target FROM audit_events ORDER BY id DESC');
    assert.deepEqual(all.map((e) => [e.id, e.actor, e.area, e.action, e.target]), rows.map((r) => [r.id, r.actor, r.area, r.action, r.target]),
      'everything, newest first');
    const roles = assertConsoleOk(await boss.call('/audit?area=Role')).events;
    assert.equal(roles.length, 6);
    assert.ok(roles.every((e) => e.area === 'Role' && e.action === 'Create'));
    assert.deepEqual(assertConsoleOk(await boss.call(`/audit?actor=user:${BOSS}&area=Role`)).events.map((e) => e.target).reverse(),
      ['=SUM(A1:A2)', '+Plus', '-Minus', '@At', 'Plain "quoted", role']);
    const cliActor = rows.find((r) => r.target === 'By Cli').actor;
    assert.match(cliActor, /^cli:/);
    assert.deepEqual(assertConsoleOk(await boss.call(`/audit?actor=${encodeURIComponent(cliActor)}&area=Role`)).events.map((e) => e.target), ['By Cli']);
    assert.ok(assertConsoleOk(await boss.call('/audit?action=Change Password')).events.every((e) => e.action === 'Change Password'));
    assert.equal(assertConsoleOk(await boss.call('/audit?action=Change%20Password')).events.length, 1);
    assert.deepEqual(assertConsoleOk(await boss.call('/audit?area=Nothing')).events, []);
    assert.deepEqual(assertConsoleOk(await boss.call(`/audit?since=${dayUTC(-1)}`)).events, [], 'since tomorrow');
    assert.deepEqual(assertConsoleOk(await boss.call('/audit?until=2000-01-01T00:00:00Z')).events, [], 'until 2000');
    assert.equal(assertConsoleOk(await boss.call(`/audit?since=${dayUTC(1)}&until=${encodeURIComponent('2999-01-01T00:00:00+02:00')}&limit=1000`)).events.length, rows.length);
    const two = assertConsoleOk(await boss.call('/audit?limit=2')).events;
    assert.deepEqual(two.map((e) => e.id), rows.slice(0, 2).map((r) => r.id));
    for (const [q, field] of [['since=yesterday', 'since'], ['until=31.01.2027', 'until'], ['limit=0', 'limit'], ['limit=abc', 'limit'],
      ['limit=1001', 'limit'], ['after=x', 'after'], ['after=12', 'after']]) {
      assertConsoleError(await boss.call(`/audit?${q}`), 400, 'invalid', field, q);
    }
  });

  test('CSV: a header row, one row per event, formula-like cells prefixed with a quote', async () => {
    const json = assertConsoleOk(await boss.call('/audit?area=Role')).events;
    const r = await boss.call('/audit?area=Role&format=csv');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/csv/);
    assert.match(r.headers.get('content-disposition') || '', /^attachment; filename="[^"]+\.csv"$/);
    const lines = r.text.split('\r\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines[0], 'time,actor,address,area,action,target,details');
    assert.equal(lines.length - 1, json.length);
    const targets = lines.slice(1).map((l) => /^"[^"]*","[^"]*","[^"]*","Role","Create","((?:[^"]|"")*)",/.exec(l)?.[1]);
    assert.deepEqual(targets.reverse(), ['By Cli', "'=SUM(A1:A2)", "'+Plus", "'-Minus", "'@At", 'Plain ""quoted"", role']);
    assert.ok(lines.slice(1).every((l) => /^"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",/.test(l)));
    assert.ok(lines.some((l) => l.includes(`"user:${BOSS}","127.0.0.1","Role"`)));
  });
});

/* ---------------------------------------------------------------- error fields */

describe('console API: error fields name the console input at fault', { concurrency: 1 }, () => {
  test('field is the body member the page shows the message next to (docs/console-api.md, Errors)', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    const role = cli(db, 'role', 'create', '--name', 'API Only', '--permission', 'Read-Only Lead').role;
    const srv = await startServer(t, db);
    const boss = await consoleReadyAdmin(srv, db, BOSS, PW);
    const invite = (over) => ({ email: 'n@example.com', firstName: 'N', lastName: 'U', apiOnly: true, grants: [{ roleId: role.id, workspaceId: 0 }], ...over });
    const cases = [
      ['POST /roles, unknown permission', '/roles', { name: 'R', permissions: ['No Such'] }, 'permissions'],
      ['POST /services, unknown userEmail', '/services', { name: 'S', userEmail: 'nobody@example.com' }, 'userEmail'],
      ['POST /users, unknown roleId', '/users', invite({ grants: [{ roleId: 999, workspaceId: 0 }] }), 'grants'],
      ['POST /users, unknown workspaceId', '/users', invite({ grants: [{ roleId: role.id, workspaceId: 999 }] }), 'grants'],
      ['POST /users, no grants', '/users', invite({ grants: [] }), 'grants'],
    ];
    const wrong = [];
    for (const [what, path, body, field] of cases) {
      const r = await boss.call(path, { body });
      assert.ok(r.status >= 400 && r.status < 500, `${what}: ${r.status} ${r.text}`);
      if (r.json?.error?.field !== field) wrong.push(`${what}: field "${r.json?.error?.field}" (${r.status} ${r.json?.error?.code}), expected "${field}"`);
    }
    assert.deepEqual(wrong, []);
  });
});
