// latchkey serve: the changing endpoints of the user management API (issue 4; reference
// §8; docs/api.md): invite.json, {userid}/update.json, {userid}/delete.json,
// {userid}/invite/delete.json, {userid}/roles/create.json and roles/delete.json —
// answers and shapes, both date forms, both roles body shapes, every validation failure
// (609/612/701/1003, nothing changed), 611 for a service owner, the last Admin, pending
// users through the invite endpoints only, one audit event per change with actor
// api:<email>/<service> and the caller's address, and that a role change applies to the
// user's tokens at once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  MARKETO_TIME, UM_GRANT_KEYS, UM_USER_KEYS, addService, assertUmError, assertUmOk, cli, cliRaw, creds, eventually,
  identity, makeUmInstance, sortedKeys, startServer, token, um, umUser,
} from './server-lib.mjs';
import { events, sql } from './lib.mjs';
import { outboxMail, waitQueueSettled } from './mail-server-lib.mjs';

const ACTOR = 'api:admin-api@example.com/UM sync';
const STATE_TABLES = ['users', 'user_roles', 'invitations', 'services', 'roles', 'role_permissions', 'workspaces', 'audit_events'];

// the domain tables (not usage counts or tokens, which the server writes on its own; nor
// what the mailer writes on its own schedule: its Email events and the invitation token
// hash it mints at each send attempt; nor the Denied event a refusal of the trust rules
// leaves on purpose, which the tests of those refusals count)
const STATE_QUERY = {
  invitations: 'SELECT id, user_id, message, created_at, expires_at, accepted_at FROM invitations',
  audit_events: "SELECT * FROM audit_events WHERE NOT (actor = 'system' AND area = 'Email') AND area <> 'Denied'",
};
const state = (db) => STATE_TABLES.map((t) => sql(db, STATE_QUERY[t] ?? `SELECT * FROM ${t}`).map((row) => JSON.stringify(row)).sort());
const lastEventId = (db) => sql(db, 'SELECT coalesce(max(id), 0) AS n FROM audit_events')[0].n;

// the mailer's own events (Email/Send, Give Up, Cancel by "system"), which follow an
// invitation asynchronously
const isMailerEvent = (e) => e.actor === 'system' && e.area === 'Email';

// the audit events after sinceId, oldest first, but the mailer's; asserts their
// area/action/target, the API actor and the caller's address
function assertAudit(db, sinceId, expected, what = 'audit') {
  const evs = events(db).filter((e) => e.id > sinceId && !isMailerEvent(e)).reverse();
  assert.deepEqual(evs.map((e) => ({ area: e.area, action: e.action, target: e.target })),
    expected.map(([action, target, area = 'User']) => ({ area, action, target })), `${what}: ${JSON.stringify(evs)}`);
  for (const e of evs) {
    assert.equal(e.actor, ACTOR, `${what}: actor`);
    assert.equal(e.address, '127.0.0.1', `${what}: address`);
  }
  return evs;
}

describe('user management API: changes', { concurrency: 1 }, () => {
  let inst;
  let db;
  let srv;
  let tok;
  let R; // role ids
  const grant = (accessRoleId, workspaceId = 0) => ({ accessRoleId, workspaceId });
  const inviteBody = (email, extra = {}) => ({
    emailAddress: email, firstName: 'First', lastName: 'Last', apiOnly: true, userRoleWorkspaces: [grant(R.reader)], ...extra,
  });
  const invite = async (email, extra) => assert.equal(assertUmOk(await um(srv, '/invite.json', tok, { body: inviteBody(email, extra) }), `invite ${email}`), true);
  const show = (key) => cli(db, 'user', 'show', key).user;

  // calls fn (which must be refused as expected) and asserts nothing changed
  async function refused(what, fn, status, code, message) {
    const before = state(db);
    const r = await fn();
    assertUmError(r, status, code, message, what);
    assert.deepEqual(state(db), before, `${what}: the database changed although the call was refused`);
    return r;
  }

  before(async () => {
    inst = makeUmInstance(null);
    db = inst.db;
    cli(db, 'limits', 'set', '--rate', '0'); // many calls in a few seconds
    cli(db, 'role', 'create', '--name', 'Console', '--permission', 'Access Users');
    cli(db, 'workspace', 'create', 'Sales');
    const roles = cli(db, 'role', 'list').roles;
    R = Object.fromEntries(roles.map((r) => [r.name === 'User Admin' ? 'userAdmin' : r.name.toLowerCase(), r.id]));
    srv = await startServer(null, db);
    tok = await token(srv, inst.caller.service);
  });
  after(async () => {
    await srv?.stop();
    inst?.remove();
  });

  test('invite.json: an API-only user with an API role → 200 `true`, active at once, no invitation, one audit event', async () => {
    const since = lastEventId(db);
    const r = await um(srv, '/invite.json', tok, { body: inviteBody('robot@example.com', { firstName: 'Ro', lastName: 'Bot',
      userRoleWorkspaces: [grant(R.reader), grant(R.userAdmin, 1)] }) });
    assert.equal(r.text, 'true');
    assert.equal(assertUmOk(r), true);
    const u = show('robot@example.com');
    assert.equal(u.status, 'active');
    assert.equal(u.apiOnly, true);
    assert.equal(u.userid, 'robot@example.com', 'userid defaults to the email');
    assert.equal(u.expiresAt, null, 'no expiresAt: never');
    assert.deepEqual(u.roles.map((g) => `${g.role}@${g.workspace}`).sort(), ['Reader@AllZones', 'User Admin@Default']);
    assert.equal(sql(db, `SELECT count(*) AS n FROM invitations WHERE user_id = ${u.id}`)[0].n, 0, 'no invitation');
    const [ev] = assertAudit(db, since, [['Create', 'robot@example.com']]);
    assert.equal(ev.details.apiOnly, true);
    assert.equal(ev.details.status, 'active');
    assert.equal(ev.details.invitation, false);
    // at once in the API's own lists
    const full = assertUmOk(await um(srv, umUser('robot@example.com', '/user.json'), tok));
    assert.deepEqual(sortedKeys(full), UM_USER_KEYS);
    assert.equal(full.firstName, 'Ro');
  });

  test('invite.json: a person (apiOnly absent or false) → pending with an invitation, served by the invite endpoints only', async () => {
    for (const [email, extra] of [['jane@example.com', { apiOnly: undefined }], ['joe@example.com', { apiOnly: false }]]) {
      const since = lastEventId(db);
      const body = inviteBody(email, { ...extra, userRoleWorkspaces: [grant(R.console, 1)] });
      assert.equal(assertUmOk(await um(srv, '/invite.json', tok, { body })), true);
      const u = show(email);
      assert.equal(u.status, 'pending');
      assert.equal(u.apiOnly, false);
      assert.equal(sql(db, `SELECT count(*) AS n FROM invitations WHERE user_id = ${u.id}`)[0].n, 1, 'one invitation');
      const [ev] = assertAudit(db, since, [['Create', email]]);
      assert.equal(ev.details.status, 'pending');
      assert.equal(ev.details.invitation, true);
      // the running server sends the invitation email (here into the outbox next to the
      // database); waiting for it keeps the mailer's writes out of the checks below
      const mail = await outboxMail(srv, email);
      assert.match(mail.to, new RegExp(`<${email}>`));
      await waitQueueSettled(db);
      assert.deepEqual(events(db).filter((e) => e.id > since && isMailerEvent(e)).map((e) => [e.action, e.target]), [['Send', email]]);
      // the answer carries no invitation link
      const inv = assertUmOk(await um(srv, umUser(email, '/invite.json'), tok));
      assert.equal(inv.status, 'pending');
      assert.ok(!JSON.stringify(inv).includes('#'), 'no link or token in the answer');
    }
    const email = 'jane@example.com';
    assert.ok(!assertUmOk(await um(srv, '/allusers.json', tok, { query: { pageSize: 200 } })).some((u) => u.emailAddress === email));
    await refused('user.json of a pending user', () => um(srv, umUser(email, '/user.json'), tok), 404, 1004, /has not accepted the invitation yet/);
    await refused('update of a pending user', () => um(srv, umUser(email, '/update.json'), tok, { body: { firstName: 'X' } }),
      404, 1004, /has not accepted the invitation yet/);
    await refused('roles/create of a pending user', () => um(srv, umUser(email, '/roles/create.json'), tok, { body: [grant(R.reader)] }),
      404, 1004, /has not accepted the invitation yet/);
    await refused('roles/delete of a pending user', () => um(srv, umUser(email, '/roles/delete.json'), tok, { body: [grant(R.console, 1)] }),
      404, 1004, /has not accepted the invitation yet/);
    await refused('delete.json of a pending user', () => um(srv, umUser(email, '/delete.json'), tok, { method: 'POST' }),
      409, 709, 'jane@example.com has not accepted the invitation yet; delete it as an invited user');
    // the pending user's roles can be read
    const roles = assertUmOk(await um(srv, umUser(email, '/roles.json'), tok));
    assert.deepEqual(roles, [{ accessRoleId: R.console, accessRoleName: 'Console', workspaceId: 1, workspaceName: 'Default' }]);
    // invite/delete.json: 200, empty body, gone
    const since = lastEventId(db);
    const r = await um(srv, umUser(email, '/invite/delete.json'), tok, { method: 'POST' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, '');
    assert.equal(cliRaw(db, 'user', 'show', email).status, 2, 'the user is gone');
    assert.equal(sql(db, "SELECT count(*) AS n FROM invitations i JOIN users u ON u.id = i.user_id WHERE u.email = 'jane@example.com'")[0].n, 0);
    const [ev] = assertAudit(db, since, [['Delete', email]]);
    assert.equal(ev.details.status, 'pending');
    await refused('invite.json of the deleted invitation', () => um(srv, umUser(email, '/invite.json'), tok), 404, 1004, /no user/);
    await refused('invite/delete.json again', () => um(srv, umUser(email, '/invite/delete.json'), tok, { method: 'POST' }), 404, 1004, /no user/);
  });

  test('invite.json: userid, reason and expiresAt in ISO-8601 and in both of Marketo\'s forms', async () => {
    const cases = [
      ['iso@example.com', '2031-12-31T23:59:59-05:00', '2032-01-01T04:59:59Z', '2032-01-01T04:59:59.000t+0000'],
      ['compact@example.com', '20311231T23:59:59.000t+0000', '2031-12-31T23:59:59Z', '2031-12-31T23:59:59.000t+0000'],
      ['dashes@example.com', '2031-12-31T08:00:00.000t+0000', '2031-12-31T08:00:00Z', '2031-12-31T08:00:00.000t+0000'],
      ['zulu@example.com', '2031-06-01T10:00:00Z', '2031-06-01T10:00:00Z', '2031-06-01T10:00:00.000t+0000'],
    ];
    for (const [email, expiresAt, iso, marketo] of cases) {
      const userid = `login.${email.split('@')[0]}`;
      await invite(email, { expiresAt, userid, reason: `integration ${email}` });
      const u = show(email);
      assert.equal(u.expiresAt, iso, `${expiresAt} stored`);
      assert.equal(u.userid, userid);
      assert.equal(u.reason, `integration ${email}`);
      const full = assertUmOk(await um(srv, umUser(userid, '/user.json'), tok), `by userid ${userid}`);
      assert.match(full.expiresAt, MARKETO_TIME);
      assert.equal(full.expiresAt, marketo, `${expiresAt} shown`);
      assert.equal(full.userid, userid);
      assert.equal(full.emailAddress, email);
    }
    // ids given as strings of digits are accepted too
    await invite('strids@example.com', { userRoleWorkspaces: [{ accessRoleId: String(R.reader), workspaceId: '0' }] });
    assert.deepEqual(show('strids@example.com').roles.map((g) => g.role), ['Reader']);
  });

  test('invite.json validation: 609, 612, 701 "<field> cannot be blank", 1003 (unknown role or workspace, bad values), 1005, 709 — nothing changed', async () => {
    const body = (extra) => JSON.stringify(inviteBody('new@example.com', extra));
    const post = (b, contentType) => () => um(srv, '/invite.json', tok, { body: b, contentType });
    const cases = [
      ['malformed JSON', post('{"emailAddress": "new@example.com",'), 400, 609, 'Invalid JSON'],
      ['not JSON at all', post('emailAddress=new@example.com'), 400, 609, 'Invalid JSON'],
      ['a member twice', post('{"emailAddress":"a@example.com","emailAddress":"b@example.com"}'), 400, 609, 'Invalid JSON'],
      ['empty body', post(''), 400, 609, 'Invalid JSON'],
      ['text/plain', post(body(), 'text/plain'), 415, 612, 'Invalid Content Type'],
      ['form content type', post(body(), 'application/x-www-form-urlencoded'), 415, 612, 'Invalid Content Type'],
      ['no content type', post(body(), null), 415, 612, 'Invalid Content Type'],
      ['application/jsonx', post(body(), 'application/jsonx'), 415, 612, 'Invalid Content Type'],
      ['no emailAddress', post(body({ emailAddress: undefined })), 400, 701, 'emailAddress cannot be blank'],
      ['empty emailAddress', post(body({ emailAddress: '' })), 400, 701, 'emailAddress cannot be blank'],
      ['null firstName', post(body({ firstName: null })), 400, 701, 'firstName cannot be blank'],
      ['no lastName', post(body({ lastName: undefined })), 400, 701, 'lastName cannot be blank'],
      ['no userRoleWorkspaces', post(body({ userRoleWorkspaces: undefined })), 400, 701, 'userRoleWorkspaces cannot be blank'],
      ['empty userRoleWorkspaces', post(body({ userRoleWorkspaces: [] })), 400, 701, 'userRoleWorkspaces cannot be blank'],
      ['a pair without accessRoleId', post(body({ userRoleWorkspaces: [{ workspaceId: 0 }] })), 400, 701, 'accessRoleId cannot be blank'],
      ['a pair without workspaceId', post(body({ userRoleWorkspaces: [{ accessRoleId: R.reader }] })), 400, 701, 'workspaceId cannot be blank'],
      ['unknown role id', post(body({ userRoleWorkspaces: [grant(9999)] })), 400, 1003, 'no role with id 9999'],
      ['unknown workspace id', post(body({ userRoleWorkspaces: [grant(R.reader, 9999)] })), 400, 1003, /no workspace '9999'/],
      ['one good pair, one unknown role', post(body({ userRoleWorkspaces: [grant(R.reader), grant(9999, 1)] })), 400, 1003, 'no role with id 9999'],
      ['one good pair, one unknown workspace', post(body({ userRoleWorkspaces: [grant(R.reader), grant(R.reader, 777)] })), 400, 1003, /no workspace '777'/],
      ['a negative id', post(body({ userRoleWorkspaces: [grant(-1)] })), 400, 1003, /accessRoleId/],
      ['an id that is not a number', post(body({ userRoleWorkspaces: [{ accessRoleId: 'Reader', workspaceId: 0 }] })), 400, 1003, /accessRoleId/],
      ['userRoleWorkspaces not an array', post(body({ userRoleWorkspaces: { accessRoleId: R.reader, workspaceId: 0 } })), 400, 1003, /userRoleWorkspaces/],
      ['the body an array', post('[]'), 400, 1003, /object/],
      ['firstName a number', post(body({ firstName: 7 })), 400, 1003, /firstName/],
      ['apiOnly a string', post(body({ apiOnly: 'yes' })), 400, 1003, /apiOnly/],
      ['an invalid email', post(body({ emailAddress: 'not-an-email' })), 400, 1003, /not a valid email address/],
      ['a malformed expiresAt', post(body({ expiresAt: 'next tuesday' })), 400, 1003, /next tuesday/],
      ['an expiresAt in the past', post(body({ expiresAt: '2020-01-01T00:00:00-05:00' })), 400, 1003, /not in the future/],
      ['Admin outside AllZones', post(body({ apiOnly: false, userRoleWorkspaces: [grant(R.admin, 1)] })), 400, 1003, /AllZones/],
      ['an email already taken', post(body({ emailAddress: 'ADMIN-API@example.com' })), 409, 1005, /already exists/],
      ['a userid already taken', post(body({ userid: 'admin-api@example.com' })), 409, 1005, /already/],
      ['API-only with no Access API role', post(body({ userRoleWorkspaces: [grant(R.console)] })), 409, 709,
        'an API-only user needs at least one role with an Access API permission'],
    ];
    for (const [what, fn, status, code, message] of cases) await refused(what, fn, status, code, message);
  });

  test('update.json: returns the full user object; names, expiresAt in every form (null clears), emailAddress; one audit event per change', async () => {
    await invite('upd@example.com', { firstName: 'Up', lastName: 'Date' });
    const path = umUser('upd@example.com', '/update.json');
    let since = lastEventId(db);
    let u = assertUmOk(await um(srv, path, tok, { body: { firstName: 'Upton', lastName: 'Dater' } }), 'names');
    assert.deepEqual(sortedKeys(u), UM_USER_KEYS);
    assert.equal(u.firstName, 'Upton');
    assert.equal(u.lastName, 'Dater');
    assert.equal(u.emailAddress, 'upd@example.com');
    assert.equal(show('upd@example.com').firstName, 'Upton');
    let [ev] = assertAudit(db, since, [['Edit', 'upd@example.com']]);
    assert.deepEqual(ev.details.changes.firstName, { from: 'Up', to: 'Upton' });
    assert.deepEqual(ev.details.changes.lastName, { from: 'Date', to: 'Dater' });

    for (const [given, shown] of [['2031-03-01T12:00:00+01:00', '2031-03-01T11:00:00.000t+0000'],
      ['20310302T00:00:00.000t+0000', '2031-03-02T00:00:00.000t+0000'], ['2031-03-03T08:00:00.000t+0000', '2031-03-03T08:00:00.000t+0000']]) {
      u = assertUmOk(await um(srv, path, tok, { body: { expiresAt: given } }), `expiresAt ${given}`);
      assert.equal(u.expiresAt, shown, given);
    }
    since = lastEventId(db);
    u = assertUmOk(await um(srv, path, tok, { body: { expiresAt: null } }), 'expiresAt null');
    assert.equal(u.expiresAt, null);
    assert.equal(show('upd@example.com').expiresAt, null);
    [ev] = assertAudit(db, since, [['Edit', 'upd@example.com']]);
    assert.equal(ev.details.changes.expiresAt.to, 'never');

    // nothing to change, or the values it has: the user back, no write, no audit event
    since = lastEventId(db);
    const before = state(db);
    assert.deepEqual(assertUmOk(await um(srv, path, tok, { body: {} }), '{}'), u);
    assert.deepEqual(assertUmOk(await um(srv, path, tok, { body: { firstName: 'Upton', apiOnly: true } }), 'same values'), u);
    assert.deepEqual(assertUmOk(await um(srv, path, tok, { body: { unknownMember: 1 } }), 'unknown member ignored'), u);
    assert.deepEqual(state(db), before);

    // a new email: the user id (which was the email) follows
    since = lastEventId(db);
    u = assertUmOk(await um(srv, path, tok, { body: { emailAddress: 'updated@example.com' } }), 'emailAddress');
    assert.equal(u.emailAddress, 'updated@example.com');
    assert.equal(u.userid, 'updated@example.com');
    assertAudit(db, since, [['Edit', 'updated@example.com']]);
    assertUmError(await um(srv, umUser('upd@example.com', '/user.json'), tok), 404, 1004, undefined, 'the old email');
    assert.equal(assertUmOk(await um(srv, umUser('updated@example.com', '/user.json'), tok)).id, u.id);
  });

  test('update.json validation: 609, 612, 701, 1003, 1005, 404/1004 — nothing changed', async () => {
    await invite('val@example.com');
    await invite('other@example.com');
    const path = umUser('val@example.com', '/update.json');
    const post = (b, contentType) => () => um(srv, path, tok, { body: typeof b === 'string' ? b : JSON.stringify(b), contentType });
    const cases = [
      ['malformed JSON', post('{"firstName":'), 400, 609, 'Invalid JSON'],
      ['text/plain', post({ firstName: 'X' }, 'text/plain'), 415, 612, 'Invalid Content Type'],
      ['no content type', post({ firstName: 'X' }, null), 415, 612, 'Invalid Content Type'],
      ['blank firstName', post({ firstName: '' }), 400, 701, 'firstName cannot be blank'],
      ['blank lastName', post({ lastName: '', firstName: 'X' }), 400, 701, 'lastName cannot be blank'],
      ['blank emailAddress', post({ emailAddress: '' }), 400, 701, 'emailAddress cannot be blank'],
      ['an invalid email', post({ emailAddress: 'nope' }), 400, 1003, /not a valid email address/],
      ['a taken email', post({ emailAddress: 'other@example.com' }), 409, 1005, /already exists/],
      ['a malformed expiresAt', post({ expiresAt: '31/12/2031' }), 400, 1003, /31\/12\/2031/],
      ['an expiresAt in the past', post({ expiresAt: '2021-01-01T00:00:00Z' }), 400, 1003, /not in the future/],
      ['apiOnly flipped', post({ apiOnly: false }), 400, 1003, 'apiOnly cannot be changed: val@example.com is an API-only user'],
      ['firstName a number', post({ firstName: 1 }), 400, 1003, /firstName/],
      ['the body an array', post([]), 400, 1003, /object/],
      ['an unknown user', () => um(srv, umUser('ghost@example.com', '/update.json'), tok, { body: { firstName: 'X' } }), 404, 1004,
        /no user 'ghost@example\.com'/],
    ];
    for (const [what, fn, status, code, message] of cases) await refused(what, fn, status, code, message);
  });

  test('roles/create.json and roles/delete.json: a bare array or {"input": [...]}; the full list after an add, the remaining list after a delete', async () => {
    await invite('rolly@example.com');
    const add = (body) => um(srv, umUser('rolly@example.com', '/roles/create.json'), tok, { body });
    const del = (body) => um(srv, umUser('rolly@example.com', '/roles/delete.json'), tok, { body });
    const pairs = (list) => list.map((g) => `${g.accessRoleName}@${g.workspaceName}`).sort();
    let since = lastEventId(db);
    let list = assertUmOk(await add([grant(R.userAdmin, 1)]), 'add, bare array');
    for (const g of list) assert.deepEqual(sortedKeys(g), UM_GRANT_KEYS);
    assert.deepEqual(pairs(list), ['Reader@AllZones', 'User Admin@Default']);
    let [ev] = assertAudit(db, since, [['Edit', 'rolly@example.com']]);
    assert.ok(JSON.stringify(ev.details).includes('User Admin'), JSON.stringify(ev.details));
    list = assertUmOk(await add({ input: [grant(R.console, 0), grant(R.reader, 1)] }), 'add, {"input"}');
    assert.deepEqual(pairs(list), ['Console@AllZones', 'Reader@AllZones', 'Reader@Default', 'User Admin@Default']);
    assert.deepEqual(list, assertUmOk(await um(srv, umUser('rolly@example.com', '/roles.json'), tok)), 'as roles.json says');
    // adding a pair the user holds changes nothing and records nothing
    since = lastEventId(db);
    assert.deepEqual(pairs(assertUmOk(await add([grant(R.console, 0)]), 'add again')), pairs(list));
    assertAudit(db, since, []);
    since = lastEventId(db);
    list = assertUmOk(await del([grant(R.console, 0)]), 'delete, bare array');
    assert.deepEqual(pairs(list), ['Reader@AllZones', 'Reader@Default', 'User Admin@Default']);
    list = assertUmOk(await del({ input: [grant(R.reader, 1), { accessRoleId: String(R.userAdmin), workspaceId: '1' }] }), 'delete, {"input"}');
    assert.deepEqual(pairs(list), ['Reader@AllZones']);
    assertAudit(db, since, [['Edit', 'rolly@example.com'], ['Edit', 'rolly@example.com']]);
    assert.deepEqual(show('rolly@example.com').roles.map((g) => `${g.role}@${g.workspace}`), ['Reader@AllZones']);
  });

  test('roles validation: unknown role or workspace → 400/1003 with nothing changed; pairs not held, the last pair, API-only without an API role — nothing changed', async () => {
    await invite('rv@example.com');
    const add = (body, contentType) => () => um(srv, umUser('rv@example.com', '/roles/create.json'), tok, { body, contentType });
    const del = (body) => () => um(srv, umUser('rv@example.com', '/roles/delete.json'), tok, { body });
    const cases = [
      ['add: unknown role', add([grant(9999)]), 400, 1003, 'no role with id 9999'],
      ['add: unknown workspace', add([grant(R.console, 4242)]), 400, 1003, /no workspace '4242'/],
      ['add: a good pair and an unknown role', add({ input: [grant(R.console), grant(9999)] }), 400, 1003, 'no role with id 9999'],
      ['add: a good pair and an unknown workspace', add([grant(R.console), grant(R.console, 4242)]), 400, 1003, /no workspace '4242'/],
      ['add: Admin outside AllZones', add([grant(R.admin, 1)]), 400, 1003, /AllZones/],
      ['add: empty array', add([]), 400, 701, 'input cannot be blank'],
      ['add: empty input', add({ input: [] }), 400, 701, 'input cannot be blank'],
      ['add: an object without input', add({}), 400, 701, 'input cannot be blank'],
      ['add: input not an array', add({ input: grant(R.console) }), 400, 1003, /array/],
      ['add: no accessRoleId', add([{ workspaceId: 0 }]), 400, 701, 'accessRoleId cannot be blank'],
      ['add: no workspaceId', add([{ accessRoleId: R.console }]), 400, 701, 'workspaceId cannot be blank'],
      ['add: malformed JSON', add('[{"accessRoleId":'), 400, 609, 'Invalid JSON'],
      ['add: text/plain', add(JSON.stringify([grant(R.console)]), 'text/plain'), 415, 612, 'Invalid Content Type'],
      ['delete: unknown role', del([grant(9999)]), 400, 1003, 'no role with id 9999'],
      ['delete: unknown workspace', del([grant(R.reader, 4242)]), 400, 1003, /no workspace '4242'/],
      ['delete: a pair not held', del([grant(R.console)]), 400, 1003, "rv@example.com does not hold role 'Console' in workspace 'AllZones'"],
      ['delete: the last pair', del([grant(R.reader)]), 400, 1003, 'a user needs at least one role'],
      ['delete: unknown user', () => um(srv, umUser('ghost@example.com', '/roles/delete.json'), tok, { body: [grant(R.reader)] }), 404, 1004, /no user/],
      ['add: unknown user', () => um(srv, umUser('ghost@example.com', '/roles/create.json'), tok, { body: [grant(R.reader)] }), 404, 1004, /no user/],
    ];
    for (const [what, fn, status, code, message] of cases) await refused(what, fn, status, code, message);
    // an API-only user left with roles that have no Access API permission
    assertUmOk(await add([grant(R.console)])(), 'add Console');
    await refused('delete: the only API role of an API-only user', del([grant(R.reader)]), 409, 709,
      'an API-only user needs at least one role with an Access API permission');
  });

  test('delete.json: 200 with an empty body; the user is gone from every endpoint; one audit event', async () => {
    await invite('gone@example.com', { userid: 'gone.login' });
    const since = lastEventId(db);
    const r = await um(srv, umUser('gone.login', '/delete.json'), tok, { method: 'POST' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, '');
    const [ev] = assertAudit(db, since, [['Delete', 'gone@example.com']]);
    assert.equal(ev.details.status, 'active');
    assert.equal(cliRaw(db, 'user', 'show', 'gone@example.com').status, 2);
    assertUmError(await um(srv, umUser('gone.login', '/user.json'), tok), 404, 1004, undefined, 'user.json');
    assertUmError(await um(srv, umUser('gone@example.com', '/roles.json'), tok), 404, 1004, undefined, 'roles.json');
    assert.ok(!assertUmOk(await um(srv, '/allusers.json', tok, { query: { pageSize: 200 } })).some((u) => u.emailAddress === 'gone@example.com'));
    await refused('delete again', () => um(srv, umUser('gone.login', '/delete.json'), tok, { method: 'POST' }), 404, 1004, /no user 'gone\.login'/);
    // a body is not needed, and a JSON one is ignored
    await invite('gone2@example.com');
    assert.equal((await um(srv, umUser('gone2@example.com', '/delete.json'), tok, { body: {} })).status, 200);
  });

  test('delete.json of a user who owns a service → 409 code 611 "You cannot delete an API user that is being used in API service"; after `latchkey service delete` it goes through', async () => {
    await invite('owner@example.com');
    addService(db, 'Owner svc', 'owner@example.com');
    const msg = 'You cannot delete an API user that is being used in API service';
    await refused('owner of a service', () => um(srv, umUser('owner@example.com', '/delete.json'), tok, { method: 'POST' }), 409, 611, msg);
    await refused('the caller itself', () => um(srv, umUser(inst.caller.email, '/delete.json'), tok, { method: 'POST' }), 409, 611, msg);
    cli(db, 'service', 'delete', 'Owner svc');
    const since = lastEventId(db);
    const r = await um(srv, umUser('owner@example.com', '/delete.json'), tok, { method: 'POST' });
    assert.equal(r.status, 200, r.text);
    assertAudit(db, since, [['Delete', 'owner@example.com']]);
  });

  test('invite/delete.json of an accepted user → 409 code 709; unknown users → 404 code 1004', async () => {
    await invite('acc@example.com');
    await refused('invite/delete of an active user', () => um(srv, umUser('acc@example.com', '/invite/delete.json'), tok, { method: 'POST' }),
      409, 709, 'acc@example.com has no pending invitation; delete it as a user');
    await refused('invite/delete of an unknown user', () => um(srv, umUser('nope@example.com', '/invite/delete.json'), tok, { method: 'POST' }),
      404, 1004, /no user 'nope@example\.com'/);
    await refused('delete of an unknown user', () => um(srv, umUser('nope@example.com', '/delete.json'), tok, { method: 'POST' }),
      404, 1004, /no user 'nope@example\.com'/);
  });

  test('the Admin is beyond a token: delete, role changes, expiry → 403 code 603, nothing changed (the last-Admin rule is the CLI\'s and the console\'s, 409 there)', async () => {
    cli(db, 'admin', 'create', '--email', 'boss@example.com', '--first', 'The', '--last', 'Boss');
    const boss = umUser('boss@example.com', '');
    const before = JSON.stringify(sql(db, "SELECT * FROM users WHERE email = 'boss@example.com'"));
    const beyond = /^Access denied: you do not hold '[^']+' in workspace 'AllZones', which boss@example\.com holds/;
    await refused('add a role to the Admin', () => um(srv, `${boss}/roles/create.json`, tok, { body: [grant(R.console)] }), 403, 603, beyond);
    await refused('delete the Admin', () => um(srv, `${boss}/delete.json`, tok, { method: 'POST' }), 403, 603, beyond);
    await refused('remove the Admin role', () => um(srv, `${boss}/roles/delete.json`, tok, { body: [grant(R.admin)] }), 403, 603, beyond);
    await refused('give an expiry', () => um(srv, `${boss}/update.json`, tok, { body: { expiresAt: '2031-01-01T00:00:00Z' } }), 403, 603, beyond);
    // nor can it make a second Admin
    await refused('invite an Admin', () => um(srv, '/invite.json', tok, { body: inviteBody('boss2@example.com', { apiOnly: false, userRoleWorkspaces: [grant(R.admin)] }) }),
      403, 603, /which role 'Admin' includes/);
    assert.equal(JSON.stringify(sql(db, "SELECT * FROM users WHERE email = 'boss@example.com'")), before);
    assert.deepEqual(sql(db, "SELECT action, target FROM audit_events WHERE area = 'Denied' ORDER BY id").slice(-5).map((e) => `${e.action} ${e.target}`),
      ['User Edit boss@example.com', 'User Delete boss@example.com', 'User Edit boss@example.com', 'User Edit boss@example.com',
        'User Create boss2@example.com']);
    // the rule itself holds for the CLI, which may act on the Admin
    const r = cliRaw(db, 'user', 'delete', 'boss@example.com');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /boss@example\.com is the last active Admin and cannot be deleted/);
  });

  test('a role change through the API applies to that user\'s tokens at once', async () => {
    await invite('peer@example.com', { userRoleWorkspaces: [grant(R.userAdmin), grant(R.reader)] });
    const svc = addService(db, 'Peer svc', 'peer@example.com');
    // a service made with the CLI reaches the running server within its catalog refresh
    await eventually('the new service', () => identity(srv, creds(svc)), (r) => r.status === 200);
    const peerTok = await token(srv, svc);
    assertUmOk(await um(srv, '/roles.json', peerTok), 'peer with both keys');
    const path = umUser('peer@example.com', '');
    assertUmOk(await um(srv, `${path}/roles/delete.json`, tok, { body: [grant(R.userAdmin)] }), 'take User Admin away');
    // no waiting: the server refreshes its catalog before it answers a change
    assertUmError(await um(srv, '/roles.json', peerTok), 403, 603, 'Access denied', 'the very next call');
    assertUmOk(await um(srv, `${path}/roles/create.json`, tok, { body: { input: [grant(R.userAdmin)] } }), 'give it back');
    assertUmOk(await um(srv, '/roles.json', peerTok), 'the very next call after the grant');
    // an expiry set through the API applies at once as well: the user stays usable until then
    assertUmOk(await um(srv, `${path}/update.json`, tok, { body: { expiresAt: '2031-01-01T00:00:00Z' } }));
    assertUmOk(await um(srv, '/roles.json', peerTok), 'still valid before the expiry');
  });
});
