// The trust model over HTTP (issue 11 §1, docs/security.md): the attacks of the issue, tried
// literally against the real binary, are refused — an integration's token cannot take an Admin
// over (email change + "forgot password"), invite an Admin, add Admin to itself or anyone, or
// clear its own access expiry; a console person with only Access Users cannot make themselves
// Admin, one with only Access Roles cannot add Access Admin permissions to their role, and one
// with only Access LaunchPoint cannot hand out an API user's permissions through a service.
// Each refusal is 403 (user management API: code 603) with a message naming what is missing,
// changes nothing, and leaves a committed "Denied" audit event; the legitimate paths still work.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  USAGE, addService, assertConsoleOk, assertOk, assertUmError, assertUmOk, cli, consoleAdminCreate, consoleCall,
  consoleReadyAdmin, identity, creds, makeUmInstance, rest, startServer, token, um, umUser,
} from './server-lib.mjs';
import { count, newDb, sql } from './lib.mjs';
import { mailList, outboxMail, waitQueueSettled } from './mail-server-lib.mjs';

const PW = 'correct horse battery 1';

// every row of every table a refused call must leave alone (the mailer's own bookkeeping and
// the audit trail are looked at separately)
function state(db) {
  return ['users', 'user_roles', 'roles', 'role_permissions', 'services', 'invitations', 'password_resets']
    .map((t) => JSON.stringify(sql(db, `SELECT * FROM ${t} ORDER BY 1, 2`))).join('\n');
}

const denied = (db) => sql(db, "SELECT actor, area, action, target, details FROM audit_events WHERE area = 'Denied' ORDER BY id")
  .map((e) => ({ ...e, details: JSON.parse(e.details) }));

// a 403 of the console API with the refusal's particulars
function assertConsoleDenied(r, needle, what) {
  assert.equal(r.status, 403, `${what}: HTTP ${r.status}: ${r.text}`);
  const e = r.json?.error;
  assert.ok(e, `${what}: an error body: ${r.text}`);
  assert.equal(e.code, 'forbidden', `${what}: ${r.text}`);
  assert.match(e.message, /^Access denied: /, `${what}: ${r.text}`);
  assert.ok(e.message.includes(needle), `${what}: the message names ${needle}: ${e.message}`);
  assert.equal(e.denied?.message, e.message, `${what}: the particulars come along: ${r.text}`);
  return e;
}

/* ---------------------------------------------------------------- the user management API */

describe('trust: a token of the user management API', { concurrency: 1 }, () => {
  let inst;
  let srv;
  let tok;
  before(async () => {
    // the caller: an API-only user holding `Access User Management Api`, `Access Users` and
    // Read-Only Lead, with an access expiry
    inst = makeUmInstance(null);
    const db = inst.db;
    cli(db, 'user', 'update', inst.caller.email, '--expires', '2099-12-31');
    consoleAdminCreate(db, 'boss@example.com', 'Bo', 'Ss');
    cli(db, 'user', 'invite', '--email', 'reader@example.com', '--first', 'Rea', '--last', 'Der', '--role', 'Reader', '--api-only');
    srv = await startServer(null, db);
    tok = await token(srv, inst.caller.service);
  });
  after(async () => {
    await srv?.stop();
    inst?.remove();
  });

  test('changing an Admin\'s email (to take the account over by "forgot password") → 403 code 603; nothing changes, no reset goes out', async () => {
    const db = inst.db;
    const before = state(db);
    const r = await um(srv, umUser('boss@example.com', '/update.json'), tok, { body: { emailAddress: 'mallory@evil.example' } });
    const e = assertUmError(r, 403, 603, /^Access denied: you do not hold '.+' in workspace 'AllZones', which boss@example\.com holds/);
    assert.ok(!e.message.includes('mallory'), e.message);
    assert.equal(state(db), before, 'the Admin is untouched');
    // the second half of the attack: "forgot password" for the address the attacker wanted
    assertConsoleOk(await consoleCall(srv, '/password/forgot', { body: { email: 'mallory@evil.example' } }));
    await waitQueueSettled(db);
    assert.equal(count(db, 'password_resets'), 0, 'no reset link for anyone');
    assert.equal(mailList(db).filter((m) => m.to === 'mallory@evil.example' && m.status === 'sent').length, 0);
    const d = denied(db).at(-1);
    assert.equal(d.actor, `api:${inst.caller.email}/UM sync`);
    assert.equal(d.action, 'User Edit');
    assert.equal(d.target, 'boss@example.com');
    assert.equal(d.details.caller, 'token');
    assert.equal(d.details.message, e.message);
    assert.equal(d.details.missing.workspace, 'AllZones');
  });

  test('inviting a user with the Admin role → 403 code 603 naming the missing permission; nobody is created', async () => {
    const db = inst.db;
    const before = state(db);
    const body = { emailAddress: 'evil@example.com', firstName: 'E', lastName: 'Vil', userRoleWorkspaces: [{ accessRoleId: 1, workspaceId: 0 }] };
    for (const apiOnly of [false, true]) {
      const r = await um(srv, '/invite.json', tok, { body: { ...body, apiOnly } });
      assertUmError(r, 403, 603, /^Access denied: you do not hold 'Access Audit Trail' in workspace 'AllZones', which role 'Admin' includes/);
    }
    assert.equal(state(db), before);
    assert.equal(count(db, 'mail_queue', "recipient = 'evil@example.com'"), 0);
    assert.deepEqual(denied(db).slice(-2).map((d) => [d.action, d.target]), [['User Create', 'evil@example.com'], ['User Create', 'evil@example.com']]);
  });

  test('roles/create.json: Admin to itself (own roles) or to anyone → 403 code 603', async () => {
    const db = inst.db;
    const before = state(db);
    const admin = [{ accessRoleId: 1, workspaceId: 0 }];
    assertUmError(await um(srv, umUser(inst.caller.email, '/roles/create.json'), tok, { body: admin }), 403, 603,
      'Access denied: you cannot change your own roles; another administrator can');
    assertUmError(await um(srv, umUser('reader@example.com', '/roles/create.json'), tok, { body: { input: admin } }), 403, 603,
      /^Access denied: you do not hold 'Access Audit Trail' in workspace 'AllZones', which role 'Admin' includes/);
    // removing its own role is changing its own roles too
    assertUmError(await um(srv, umUser(inst.caller.email, '/roles/delete.json'), tok, { body: [{ accessRoleId: inst.roles.userAdmin.id, workspaceId: 0 }] }),
      403, 603, /own roles/);
    assert.equal(state(db), before);
    // the token still works as before (no Admin, no lost role)
    assertUmOk(await um(srv, '/allusers.json', tok));
  });

  test('clearing or extending its own access expiry → 403 code 603; the expiry stays', async () => {
    const db = inst.db;
    const before = state(db);
    for (const expiresAt of [null, '2199-01-01T00:00:00Z']) {
      const body = expiresAt === null ? { expiresAt: 'never' } : { expiresAt };
      assertUmError(await um(srv, umUser(inst.caller.email, '/update.json'), tok, { body }), 403, 603,
        'Access denied: you cannot change your own access expiry; another administrator can');
    }
    assert.equal(state(db), before);
    assert.match(sql(db, `SELECT expires_at FROM users WHERE email = '${inst.caller.email}'`)[0].expires_at.toString(), /^\d+$/);
    // its own name it may change
    assert.equal(assertUmOk(await um(srv, umUser(inst.caller.email, '/update.json'), tok, { body: { firstName: 'Renamed' } })).firstName, 'Renamed');
  });

  test('what it holds it may give: an API-only user with a role of its own permissions, changed and deleted again', async () => {
    const db = inst.db;
    const reader = inst.roles.reader.id;
    assert.equal((await um(srv, '/invite.json', tok, { body: { emailAddress: 'bot2@example.com', firstName: 'B', lastName: 'T', apiOnly: true,
      userRoleWorkspaces: [{ accessRoleId: reader, workspaceId: 0 }] } })).text, 'true');
    assertUmOk(await um(srv, umUser('bot2@example.com', '/update.json'), tok, { body: { lastName: 'Two', expiresAt: '2098-01-01T00:00:00Z' } }));
    assertUmOk(await um(srv, umUser('bot2@example.com', '/roles/create.json'), tok, { body: [{ accessRoleId: inst.roles.userAdmin.id, workspaceId: 1 }] }));
    assert.equal((await um(srv, umUser('bot2@example.com', '/delete.json'), tok, { method: 'POST' })).status, 200);
    assert.equal(count(db, 'users', "email = 'bot2@example.com'"), 0);
  });
});

/* ---------------------------------------------------------------- the console */

describe('trust: console people', { concurrency: 1 }, () => {
  let db;
  let srv;
  let boss;
  const made = {};
  const ids = {};
  before(async () => {
    db = newDb();
    ids.apiRole = cli(db, 'role', 'create', '--name', 'API Only', '--permission', 'Read-Only Lead', '--permission', 'Read-Write Lead').role.id;
    ids.usersKeeper = cli(db, 'role', 'create', '--name', 'Users Keeper', '--permission', 'Access Users').role.id;
    ids.rolesKeeper = cli(db, 'role', 'create', '--name', 'Roles Keeper', '--permission', 'Access Roles').role.id;
    ids.launcher = cli(db, 'role', 'create', '--name', 'Launcher', '--permission', 'Access LaunchPoint').role.id;
    ids.bot = cli(db, 'user', 'invite', '--email', 'bot@example.com', '--first', 'B', '--last', 'O', '--role', 'API Only', '--api-only').user.id;
    addService(db, 'Sync', 'bot@example.com');
    ids.service = sql(db, 'SELECT id FROM services')[0].id;
    for (const e of ['keeper@example.com', 'roles@example.com', 'launch@example.com', 'pat@example.com']) made[e] = consoleAdminCreate(db, e, 'Pat', 'Person');
    srv = await startServer(null, db, [], { env: { LATCHKEY_MAIL_RETRY_BASE: '1' } });
    boss = await consoleReadyAdmin(srv, db, 'boss@example.com', PW);
  });
  after(async () => {
    await srv?.stop();
    db?.remove();
  });

  // a signed-in person holding exactly `roles` (made Admin by the CLI, then narrowed)
  async function personWith(email, roles) {
    const s = await consoleReadyAdmin(srv, db, email, PW, { created: made[email], first: 'Pat', last: 'Person' });
    cli(db, 'user', 'update', email, ...roles.flatMap((r) => ['--add-role', r]), '--remove-role', 'Admin');
    return s;
  }

  test('only Access Users: making themselves Admin (their own roles) → 403 with the reason; so is inviting an Admin', async () => {
    const s = await personWith('keeper@example.com', ['Users Keeper']);
    const me = assertConsoleOk(await s.call('/session')).user;
    assert.deepEqual(assertConsoleOk(await s.call('/session')).permissions, ['Access Users']);
    const before = state(db);
    const grants = [{ roleId: ids.usersKeeper, workspaceId: 0 }, { roleId: 1, workspaceId: 0 }];
    const e = assertConsoleDenied(await s.call(`/users/${me.id}`, { method: 'PUT', body: { grants } }), 'your own roles', 'make myself Admin');
    assert.equal(e.denied.self, 'roles');
    assertConsoleDenied(await s.call('/users', { body: { email: 'crony@example.com', firstName: 'C', lastName: 'R', grants: [{ roleId: 1, workspaceId: 0 }] } }),
      "which role 'Admin' includes", 'invite an Admin');
    // an API-only user with an Access API role the keeper does not hold
    const api = assertConsoleDenied(await s.call('/users', { body: { email: 'bot9@example.com', firstName: 'B', lastName: 'N', apiOnly: true,
      grants: [{ roleId: ids.apiRole, workspaceId: 0 }] } }), "'Read-Only Lead' in workspace 'AllZones'", 'invite an API user');
    assert.deepEqual(api.denied.missing, { permission: 'Read-Only Lead', workspace: 'AllZones' });
    // lock, unlock, expiry of themselves; lock the Admin
    assertConsoleDenied(await s.call(`/users/${me.id}/lock`, { body: {} }), 'lock state', 'lock myself');
    assertConsoleDenied(await s.call(`/users/${me.id}`, { method: 'PUT', body: { expiresAt: '2099-01-01' } }), 'own access expiry', 'expiry');
    assertConsoleDenied(await s.call(`/users/${boss.id}/lock`, { body: {} }), 'boss@example.com holds', 'lock the Admin');
    assertConsoleDenied(await s.call(`/users/${boss.id}/password-reset`, { body: {} }), 'boss@example.com holds', 'reset the Admin');
    assertConsoleDenied(await s.call(`/users/${boss.id}`, { method: 'PUT', body: { email: 'mine@evil.example' } }), 'boss@example.com holds', 'take the Admin');
    assert.equal(state(db), before, 'nothing changed');
    const ds = denied(db).filter((d) => d.actor === 'user:keeper@example.com');
    assert.deepEqual(ds.map((d) => d.action), ['User Edit', 'User Create', 'User Create', 'User Lock', 'User Edit', 'User Lock', 'User Reset Password', 'User Edit']);
    assert.ok(ds.every((d) => d.details.caller === 'person'));
    // what it holds it may give, and it may act on that colleague
    const inv = assertConsoleOk(await s.call('/users', { body: { email: 'peer@example.com', firstName: 'Pe', lastName: 'Er', grants: [{ roleId: ids.usersKeeper, workspaceId: 1 }] } }));
    assert.equal(inv.user.status, 'pending');
    assertConsoleOk(await s.call(`/users/${inv.user.id}/invitation`, { body: {} }));
    assert.deepEqual(assertConsoleOk(await s.call(`/users/${inv.user.id}/invitation`, { method: 'DELETE' })), { ok: true });
    // its own name it may change
    assert.equal(assertConsoleOk(await s.call(`/users/${me.id}`, { method: 'PUT', body: { lastName: 'Keeper' } })).lastName, 'Keeper');
  });

  test('only Access Roles: adding Access Admin permissions to the role it holds → 403; a role of its own permission works', async () => {
    const s = await personWith('roles@example.com', ['Roles Keeper']);
    const before = state(db);
    const e = assertConsoleDenied(await s.call(`/roles/${ids.rolesKeeper}`, { method: 'PUT', body: { permissions: ['Access Roles', 'Access Users', 'Access LaunchPoint', 'Access Web Services', 'Access Audit Trail', 'Access Login History', 'Access Workspaces'] } }),
      "role 'Roles Keeper' is held", 'grow my role');
    assert.equal(e.denied.missing.permission, 'Access Users');
    assertConsoleDenied(await s.call('/roles', { body: { name: 'Everything', permissions: ['Access Roles', 'Read-Only Lead'] } }), "'Read-Only Lead'", 'create');
    assertConsoleDenied(await s.call(`/roles/${ids.apiRole}`, { method: 'PUT', body: { description: 'mine now' } }), "'Read-Only Lead'", 'edit a role beyond it');
    assertConsoleDenied(await s.call(`/roles/${ids.launcher}`, { method: 'DELETE' }), "'Access LaunchPoint'", 'delete a role beyond it');
    assert.equal(state(db), before);
    const mine = assertConsoleOk(await s.call('/roles', { body: { name: 'Role Makers', permissions: ['Access Roles'] } }));
    assert.equal(assertConsoleOk(await s.call(`/roles/${mine.id}`, { method: 'PUT', body: { description: 'makes roles' } })).description, 'makes roles');
    assert.deepEqual(assertConsoleOk(await s.call(`/roles/${mine.id}`, { method: 'DELETE' })), { ok: true });
  });

  test('only Access LaunchPoint: a service for (or a token, rotation, edit, deletion of one of) an API user with more permissions → 403', async () => {
    const s = await personWith('launch@example.com', ['Launcher']);
    const before = state(db);
    assertConsoleDenied(await s.call('/services', { body: { name: 'Mine', userEmail: 'bot@example.com' } }), 'bot@example.com holds', 'create');
    const tokenRefused = assertConsoleDenied(await s.call(`/services/${ids.service}/token`, { body: {} }), 'bot@example.com holds', 'Get Token');
    assert.ok(!('accessToken' in tokenRefused));
    assertConsoleDenied(await s.call(`/services/${ids.service}/rotate`, { body: { graceSeconds: 0 } }), 'bot@example.com holds', 'rotate');
    assertConsoleDenied(await s.call(`/services/${ids.service}`, { method: 'PUT', body: { name: 'Renamed' } }), 'bot@example.com holds', 'Edit Service');
    assertConsoleDenied(await s.call(`/services/${ids.service}`, { method: 'DELETE' }), 'bot@example.com holds', 'delete');
    assert.equal(state(db), before);
    assert.deepEqual(denied(db).filter((d) => d.actor === 'user:launch@example.com').map((d) => d.action),
      ['Service Create', 'Service Get Token', 'Service Rotate Secret', 'Service Edit', 'Service Delete']);
    // listing and viewing stay open to it
    assert.equal(assertConsoleOk(await s.call(`/services/${ids.service}`)).name, 'Sync');
    // with the API user's permissions it may
    cli(db, 'user', 'update', 'launch@example.com', '--add-role', 'API Only');
    const tok = assertConsoleOk(await s.call(`/services/${ids.service}/token`, { body: {} }));
    assertOk(await rest(srv, USAGE, tok.accessToken));
  });

  test('a page key it lacks → 403 "Access denied: you do not hold …", recorded as Denied', async () => {
    const s = await personWith('pat@example.com', ['Users Keeper']);
    const e = assertConsoleDenied(await s.call('/audit'), "you do not hold 'Access Audit Trail'", 'audit');
    assert.deepEqual(e.denied.missing, { permission: 'Access Audit Trail' });
    const d = denied(db).at(-1);
    assert.deepEqual([d.actor, d.action, d.target], ['user:pat@example.com', 'GET /admin/api/audit', '']);
  });

  test('the Admin: invites an API-only user with an API role, creates a service, gets a token that works', async () => {
    const u = assertConsoleOk(await boss.call('/users', { body: { email: 'crm@example.com', firstName: 'C', lastName: 'RM', apiOnly: true,
      grants: [{ roleId: ids.apiRole, workspaceId: 0 }] } })).user;
    assert.equal(u.status, 'active');
    const svc = assertConsoleOk(await boss.call('/services', { body: { name: 'CRM', userEmail: 'crm@example.com' } }));
    const r = await identity(srv, creds({ clientId: svc.service.clientId, secret: svc.clientSecret }));
    assert.equal(r.status, 200, r.text);
    const tok = assertConsoleOk(await boss.call(`/services/${svc.service.id}/token`, { body: {} }));
    assertOk(await rest(srv, USAGE, tok.accessToken));
  });

  test('an email change of a person tells the old address (no link); an API-only user gets nothing', async () => {
    const pat = sql(db, "SELECT id FROM users WHERE email = 'pat@example.com'")[0].id;
    assertConsoleOk(await boss.call(`/users/${pat}`, { method: 'PUT', body: { email: 'pat@new.example' } }));
    const m = await outboxMail(srv, 'pat@example.com', 'email_changed');
    assert.equal(m.to, '"Pat Person" <pat@example.com>');
    assert.match(m.subject, /email address was changed/);
    assert.ok(m.text.includes('pat@new.example'), m.text);
    assert.ok(m.text.includes('boss@example.com'), `names who did it: ${m.text}`);
    assert.ok(!/https?:\/\/\S+#/.test(m.text), `no link with a token: ${m.text}`);
    assertConsoleOk(await boss.call(`/users/${ids.bot}`, { method: 'PUT', body: { email: 'bot-new@example.com' } }));
    await waitQueueSettled(db);
    assert.deepEqual(mailList(db).filter((x) => x.kind === 'email_changed').map((x) => x.to), ['pat@example.com']);
  });
});
