// latchkey serve: the read endpoints of the user management API (issue 4; reference §8;
// docs/api.md): allusers.json (paging across more than 200 users, accepted users only,
// never deleted ones), {userid}/user.json, {userid}/invite.json, {userid}/roles.json,
// roles.json, workspaces.json — exact shapes, Marketo's datetime form, 404/1004 for
// users the endpoint does not serve, 400/1003 for bad paging, 605/610.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  MARKETO_TIME, UM_BRIEF_KEYS, UM_GRANT_KEYS, UM_INVITED_KEYS, UM_ROLE_KEYS, UM_USER_KEYS, UM_WORKSPACE_KEYS,
  assertUmError, assertUmOk, cli, eventually, makeUmInstance, sortedKeys, startServer, token, um, umUser,
} from './server-lib.mjs';

// "2026-11-28T00:53:57.000t+0000" -> epoch ms
const marketoMs = (s) => Date.parse(s.replace(/\.(\d{3})t([+-]\d\d)(\d\d)$/, '.$1$2:$3'));

describe('user management API: reads', { concurrency: 1 }, () => {
  let inst;
  let srv;
  let tok;
  before(async () => {
    inst = makeUmInstance(null);
    const db = inst.db;
    // the paging test invites a few hundred users through the API itself
    cli(db, 'limits', 'set', '--rate', '0', '--daily', '0');
    cli(db, 'workspace', 'create', 'Sales', '--description', 'Sales team');
    cli(db, 'user', 'invite', '--email', 'bob@example.com', '--first', 'Bob', '--last', 'Builder',
      '--role', 'Reader', '--role', 'User Admin@Sales', '--api-only', '--userid', 'bob.login@example.com',
      '--expires', '2031-06-30T12:00:00Z', '--reason', 'reporting');
    cli(db, 'user', 'invite', '--email', 'pending@example.com', '--first', 'Pen', '--last', 'Ding', '--role', 'Reader@Sales',
      '--expires', '2031-01-31T12:00:00Z');
    cli(db, 'user', 'invite', '--email', 'locked@example.com', '--first', 'Lock', '--last', 'Ed', '--role', 'Reader', '--api-only');
    cli(db, 'user', 'lock', 'locked@example.com', '--reason', 'left the company');
    srv = await startServer(null, db);
    tok = await token(srv, inst.caller.service);
  });
  after(async () => {
    await srv?.stop();
    inst?.remove();
  });

  test('allusers.json: bare array of {userid, firstName, lastName, emailAddress, id, apiOnly}, accepted users only', async () => {
    const r = await um(srv, '/allusers.json', tok);
    const list = assertUmOk(r, 'allusers');
    assert.ok(Array.isArray(list), r.text);
    for (const u of list) assert.deepEqual(sortedKeys(u), UM_BRIEF_KEYS, JSON.stringify(u));
    const byEmail = Object.fromEntries(list.map((u) => [u.emailAddress, u]));
    assert.deepEqual(Object.keys(byEmail).sort(), ['admin-api@example.com', 'bob@example.com', 'locked@example.com'],
      'active and locked users are listed, the pending one is not');
    assert.deepEqual(byEmail['bob@example.com'], {
      userid: 'bob.login@example.com', firstName: 'Bob', lastName: 'Builder', emailAddress: 'bob@example.com',
      id: cli(inst.db, 'user', 'show', 'bob@example.com').user.id, apiOnly: true,
    });
    assert.equal(typeof byEmail['bob@example.com'].id, 'number');
    // ordered by id
    assert.deepEqual(list.map((u) => u.id), [...list.map((u) => u.id)].sort((a, b) => a - b));
    // no Marketo REST envelope: the body is the array itself
    assert.ok(r.text.startsWith('['), r.text);
  });

  test('user.json: the full user object', async () => {
    const u = assertUmOk(await um(srv, umUser('bob.login@example.com', '/user.json'), tok), 'user.json');
    assert.deepEqual(sortedKeys(u), UM_USER_KEYS);
    const show = cli(inst.db, 'user', 'show', 'bob@example.com').user;
    assert.equal(u.userid, 'bob.login@example.com');
    assert.equal(u.emailAddress, 'bob@example.com');
    assert.equal(u.firstName, 'Bob');
    assert.equal(u.lastName, 'Builder');
    assert.equal(u.id, show.id);
    assert.equal(u.apiOnly, true);
    assert.equal(u.optedIn, false);
    assert.equal(u.failedLogins, 0);
    assert.equal(u.failedDeviceCode, 0);
    assert.equal(u.isLocked, false);
    assert.equal(u.lockedReason, null);
    assert.equal(u.lastLoginAt, null);
    assert.match(u.expiresAt, MARKETO_TIME);
    assert.equal(u.expiresAt, '2031-06-30T12:00:00.000t+0000');
    assert.equal(marketoMs(u.expiresAt), Date.parse('2031-06-30T12:00:00Z'));
    for (const g of u.userRoleWorkspaces) assert.deepEqual(sortedKeys(g), UM_GRANT_KEYS);
    const pairs = u.userRoleWorkspaces.map((g) => `${g.accessRoleName}#${g.accessRoleId}@${g.workspaceName}#${g.workspaceId}`).sort();
    const salesId = cli(inst.db, 'workspace', 'list').workspaces.find((w) => w.name === 'Sales').id;
    assert.deepEqual(pairs, [
      `Reader#${inst.roles.reader.id}@AllZones#0`,
      `User Admin#${inst.roles.userAdmin.id}@Sales#${salesId}`,
    ].sort());
    // by email as well as by user id, case-insensitively, with the @ URL-encoded or not
    for (const key of ['bob@example.com', 'BOB@Example.COM', 'Bob.Login@example.com']) {
      assert.deepEqual(assertUmOk(await um(srv, umUser(key, '/user.json'), tok), key), u);
      assert.deepEqual(assertUmOk(await um(srv, `/${key}/user.json`, tok), `${key} (raw @)`), u);
    }
  });

  test('user.json: a locked user is served with isLocked and lockedReason; no expiry is null', async () => {
    const u = assertUmOk(await um(srv, umUser('locked@example.com', '/user.json'), tok), 'locked user');
    assert.deepEqual(sortedKeys(u), UM_USER_KEYS);
    assert.equal(u.isLocked, true);
    assert.equal(u.lockedReason, 'left the company');
    assert.equal(u.expiresAt, null);
  });

  test('user.json: a pending user or an unknown one → 404 code 1004', async () => {
    assertUmError(await um(srv, umUser('pending@example.com', '/user.json'), tok), 404, 1004,
      /pending@example\.com has not accepted the invitation yet/, 'pending user');
    assertUmError(await um(srv, umUser('nobody@example.com', '/user.json'), tok), 404, 1004,
      /no user 'nobody@example\.com'/, 'unknown user');
  });

  test('{userid}/invite.json: a pending user with status "pending", Marketo\'s subscriptionId, and expiresAt when the invitation lapses; accepted or unknown users → 404/1004', async () => {
    const inv = assertUmOk(await um(srv, umUser('pending@example.com', '/invite.json'), tok), 'invite.json');
    assert.deepEqual(sortedKeys(inv), UM_INVITED_KEYS);
    const show = cli(inst.db, 'user', 'show', 'pending@example.com').user;
    assert.equal(inv.id, show.id);
    assert.equal(inv.status, 'pending');
    assert.equal(inv.emailAddress, 'pending@example.com');
    assert.equal(inv.userid, 'pending@example.com');
    assert.equal(inv.userId, 'pending@example.com', 'the doc example spells it userId');
    assert.equal(inv.firstName, 'Pen');
    assert.equal(inv.lastName, 'Ding');
    assert.equal(inv.apiOnly, false);
    assert.equal(inv.subscriptionId, 1, 'subscription_id defaults to 1');
    for (const k of ['createdAt', 'updatedAt', 'expiresAt']) assert.match(inv[k], MARKETO_TIME, k);
    assert.equal(marketoMs(inv.createdAt), Date.parse(show.createdAt));
    // Marketo's meaning: the invitation lapses 7 days after it was sent, whatever the
    // access expiry (2031-01-31), which is the user record's expiresAt once accepted
    assert.equal(marketoMs(inv.expiresAt) - marketoMs(inv.createdAt), 7 * 86400 * 1000, `expiresAt ${inv.expiresAt}`);
    assert.equal(show.expiresAt, '2031-01-31T12:00:00Z', 'the access expiry is kept');
    assert.ok(!('inviteExpiresAt' in inv), 'no member outside Marketo\'s record');
    assertUmError(await um(srv, umUser('bob@example.com', '/invite.json'), tok), 404, 1004,
      'bob@example.com has no pending invitation', 'active user');
    assertUmError(await um(srv, umUser('nobody@example.com', '/invite.json'), tok), 404, 1004, undefined, 'unknown user');
  });

  test('subscription_id sets the subscriptionId of invited users', async (t) => {
    const other = await startServer(t, inst.db, ['--subscription-id', '3381']);
    const tok2 = await token(other, inst.caller.service);
    assert.equal(assertUmOk(await um(other, umUser('pending@example.com', '/invite.json'), tok2)).subscriptionId, 3381);
    await other.stop();
    const env = await startServer(t, inst.db, [], { env: { LATCHKEY_SUBSCRIPTION_ID: '42' } });
    const tok3 = await token(env, inst.caller.service);
    assert.equal(assertUmOk(await um(env, umUser('pending@example.com', '/invite.json'), tok3)).subscriptionId, 42);
    await env.stop();
  });

  test('{userid}/roles.json: the user\'s role × workspace pairs', async () => {
    const list = assertUmOk(await um(srv, umUser('bob@example.com', '/roles.json'), tok), 'roles of bob');
    const full = assertUmOk(await um(srv, umUser('bob@example.com', '/user.json'), tok));
    assert.ok(Array.isArray(list));
    for (const g of list) assert.deepEqual(sortedKeys(g), UM_GRANT_KEYS);
    assert.deepEqual(list, full.userRoleWorkspaces);
    assertUmError(await um(srv, umUser('nobody@example.com', '/roles.json'), tok), 404, 1004, undefined, 'unknown user');
  });

  test('roles.json: every role with {id, name, description, type, hidden, onlyAllZones, createdAt, updatedAt}', async () => {
    const list = assertUmOk(await um(srv, '/roles.json', tok), 'roles.json');
    const cliRoles = cli(inst.db, 'role', 'list').roles;
    assert.deepEqual(list.map((r) => r.id), cliRoles.map((r) => r.id));
    for (const r of list) {
      assert.deepEqual(sortedKeys(r), UM_ROLE_KEYS);
      const c = cliRoles.find((x) => x.id === r.id);
      assert.equal(r.name, c.name);
      assert.equal(r.description, c.description);
      assert.equal(r.type, c.type);
      assert.equal(r.hidden, false);
      assert.equal(r.isHidden, false);
      assert.equal(r.onlyAllZones, c.onlyAllZones);
      assert.equal(r.isOnlyAllZones, c.onlyAllZones);
      assert.match(r.createdAt, MARKETO_TIME);
      assert.match(r.updatedAt, MARKETO_TIME);
      assert.equal(marketoMs(r.createdAt), Date.parse(c.createdAt));
    }
    const admin = list.find((r) => r.name === 'Admin');
    assert.equal(admin.type, 'system');
    assert.equal(admin.onlyAllZones, true);
    assert.equal(list.find((r) => r.name === 'User Admin').type, 'custom');
  });

  test('workspaces.json: every workspace with {id, name, description, globalViz, status, currencyInfo, createdAt, updatedAt}', async () => {
    const list = assertUmOk(await um(srv, '/workspaces.json', tok), 'workspaces.json');
    const cliWs = cli(inst.db, 'workspace', 'list').workspaces;
    assert.deepEqual(list.map((w) => w.name), cliWs.map((w) => w.name));
    for (const w of list) {
      assert.deepEqual(sortedKeys(w), UM_WORKSPACE_KEYS);
      assert.equal(w.status, 'active');
      assert.equal(w.currencyInfo, null);
      assert.equal(typeof w.globalViz, 'number');
      assert.match(w.createdAt, MARKETO_TIME);
      assert.match(w.updatedAt, MARKETO_TIME);
    }
    assert.deepEqual(list[0], { ...list[0], id: 0, name: 'AllZones', globalViz: 1 });
    assert.ok(list.some((w) => w.name === 'Default' && w.globalViz === 0));
    assert.equal(list.find((w) => w.name === 'Sales').description, 'Sales team');
  });

  test('a workspace or role created with the CLI while the server runs shows up', async () => {
    cli(inst.db, 'workspace', 'create', 'Europe');
    cli(inst.db, 'role', 'create', '--name', 'Late Role', '--permission', 'Read-Only Lead');
    await eventually('new workspace', () => um(srv, '/workspaces.json', tok),
      (r) => r.status === 200 && r.json.some((w) => w.name === 'Europe'));
    await eventually('new role', () => um(srv, '/roles.json', tok),
      (r) => r.status === 200 && r.json.some((x) => x.name === 'Late Role'));
  });

  test('allusers.json paging: pageOffset is a record offset, pageSize default 20 and max 200, across more than 200 users; never pending or deleted users', async () => {
    const role = inst.roles.reader.id;
    const N = 215;
    const emails = Array.from({ length: N }, (_, i) => `bulk${String(i).padStart(3, '0')}@example.com`);
    // invited through the API itself, 8 at a time (the instance's in-flight limit is 10)
    for (let i = 0; i < N; i += 8) {
      const batch = emails.slice(i, i + 8).map((e, j) => um(srv, '/invite.json', tok, {
        body: { emailAddress: e, firstName: `Bulk${i + j}`, lastName: 'User', apiOnly: true,
          userRoleWorkspaces: [{ accessRoleId: role, workspaceId: 0 }] },
      }));
      for (const r of await Promise.all(batch)) assert.equal(assertUmOk(r, 'bulk invite'), true);
    }
    // a few pending people and two deleted users
    for (const e of ['p1@example.com', 'p2@example.com']) {
      assertUmOk(await um(srv, '/invite.json', tok, {
        body: { emailAddress: e, firstName: 'P', lastName: 'Q', userRoleWorkspaces: [{ accessRoleId: role, workspaceId: 0 }] },
      }));
    }
    for (const e of ['bulk007@example.com', 'bulk150@example.com'])
      assert.equal((await um(srv, umUser(e, '/delete.json'), tok, { method: 'POST' })).status, 200);

    const expected = cli(inst.db, 'user', 'list', '--limit', '0').users.filter((u) => u.status !== 'pending')
      .map((u) => u.id).sort((a, b) => a - b);
    assert.equal(expected.length, 3 + N - 2);

    // default: the first 20
    const first = assertUmOk(await um(srv, '/allusers.json', tok));
    assert.deepEqual(first.map((u) => u.id), expected.slice(0, 20));
    // pages of 200
    const p0 = assertUmOk(await um(srv, '/allusers.json', tok, { query: { pageSize: 200 } }));
    const p1 = assertUmOk(await um(srv, '/allusers.json', tok, { query: { pageOffset: 200, pageSize: 200 } }));
    const p2 = assertUmOk(await um(srv, '/allusers.json', tok, { query: { pageOffset: 400, pageSize: 200 } }));
    assert.equal(p0.length, 200);
    assert.equal(p1.length, expected.length - 200);
    assert.deepEqual(p2, []);
    assert.deepEqual([...p0, ...p1].map((u) => u.id), expected);
    for (const u of [...p0, ...p1]) assert.deepEqual(sortedKeys(u), UM_BRIEF_KEYS);
    const listed = new Set([...p0, ...p1].map((u) => u.emailAddress));
    for (const e of ['p1@example.com', 'p2@example.com', 'pending@example.com', 'bulk007@example.com', 'bulk150@example.com'])
      assert.ok(!listed.has(e), `${e} must not be listed`);
    // a record offset, not a page number
    const mid = assertUmOk(await um(srv, '/allusers.json', tok, { query: { pageOffset: 5, pageSize: 3 } }));
    assert.deepEqual(mid.map((u) => u.id), expected.slice(5, 8));
    // walking the list page by page as a client does
    const walked = [];
    for (let off = 0; ; off += 50) {
      const page = assertUmOk(await um(srv, '/allusers.json', tok, { query: { pageOffset: off, pageSize: 50 } }));
      walked.push(...page.map((u) => u.id));
      if (page.length < 50) break;
      assert.ok(off < 10_000, 'paging ends');
    }
    assert.deepEqual(walked, expected);
    // an offset past the end is an empty page
    assert.deepEqual(assertUmOk(await um(srv, '/allusers.json', tok, { query: { pageOffset: 100000 } })), []);
  });

  test('allusers.json: a pageSize outside 1..200 or a malformed paging value → 400 code 1003', async () => {
    for (const pageSize of ['0', '201', '1000', '-1', 'abc', '1.5', '20x'])
      assertUmError(await um(srv, '/allusers.json', tok, { query: { pageSize } }), 400, 1003,
        'pageSize must be a whole number from 1 to 200', `pageSize=${pageSize}`);
    for (const pageOffset of ['-1', 'abc', '2.0', '1e3'])
      assertUmError(await um(srv, '/allusers.json', tok, { query: { pageOffset } }), 400, 1003,
        /^pageOffset must be a whole number from 0 to \d+$/, `pageOffset=${pageOffset}`);
    // the limits themselves are fine
    assert.equal(assertUmOk(await um(srv, '/allusers.json', tok, { query: { pageSize: 1 } })).length, 1);
  });

  test('a method the endpoint does not take → 405 code 605; no such endpoint → 404 code 610', async () => {
    const wrong = [
      ['POST', '/allusers.json'], ['POST', '/roles.json'], ['POST', '/workspaces.json'], ['GET', '/invite.json'],
      ['POST', umUser('bob@example.com', '/user.json')], ['GET', umUser('bob@example.com', '/update.json')],
      ['GET', umUser('bob@example.com', '/delete.json')], ['GET', umUser('bob@example.com', '/roles/create.json')],
      ['DELETE', umUser('bob@example.com', '/user.json')], ['PUT', '/invite.json'],
    ];
    for (const [method, path] of wrong)
      assertUmError(await um(srv, path, tok, { method }), 405, 605, 'HTTP Method not supported', `${method} ${path}`);
    for (const path of ['/nothing.json', '/allusers', umUser('bob@example.com', '/other.json'), '/a/b/c/user.json', ''])
      assertUmError(await um(srv, path, tok), 404, 610, 'Requested resource not found', `GET ${path}`);
  });
});
