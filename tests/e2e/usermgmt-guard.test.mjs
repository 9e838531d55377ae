// latchkey serve: the guard in front of the user management API (issue 4; reference §4,
// §5, §8): the Bearer header only (the access_token query parameter is refused with
// 401/601), 601/602 → 401, both permissions `Access User Management Api` and `Access
// Users` (403/603), the IP allowlist (403/603), the limits (606/607/615 → 429), and
// that these calls count like any other REST call.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  USAGE, addService, assertOk, assertUmError, assertUmOk, cli, creds, eventually, identity, makeUmInstance, rest,
  metricsWith, sleep, startServer, token, um, umUser,
} from './server-lib.mjs';
import { count, sql } from './lib.mjs';

const INVITE = (email, roleId) => ({
  emailAddress: email, firstName: 'New', lastName: 'User', apiOnly: true,
  userRoleWorkspaces: [{ accessRoleId: roleId, workspaceId: 0 }],
});

// one read and one change of every kind
const ENDPOINTS = (target) => [
  ['GET', '/allusers.json'], ['GET', '/roles.json'], ['GET', '/workspaces.json'],
  ['GET', umUser(target, '/user.json')], ['GET', umUser(target, '/invite.json')], ['GET', umUser(target, '/roles.json')],
  ['POST', '/invite.json'], ['POST', umUser(target, '/update.json')], ['POST', umUser(target, '/delete.json')],
  ['POST', umUser(target, '/invite/delete.json')], ['POST', umUser(target, '/roles/create.json')],
  ['POST', umUser(target, '/roles/delete.json')],
];

const parseRate = (h) => Number(/"rate";r=(\d+)/.exec(h || '')?.[1]);

describe('user management API: the guard', { concurrency: true }, () => {
  describe('token and permissions', { concurrency: 1 }, () => {
    let inst;
    let srv;
    let tok;
    const others = {};
    before(async () => {
      inst = makeUmInstance(null);
      const db = inst.db;
      // roles with one of the two keys, and with neither
      cli(db, 'role', 'create', '--name', 'UM Api only', '--permission', 'Access User Management Api', '--permission', 'Read-Only Lead');
      cli(db, 'role', 'create', '--name', 'Users only', '--permission', 'Access Users', '--permission', 'Read-Only Lead');
      for (const [key, role] of [['apiKey', 'UM Api only'], ['usersKey', 'Users only'], ['neither', 'Reader']]) {
        const email = `${key.toLowerCase()}@example.com`;
        cli(db, 'user', 'invite', '--email', email, '--first', 'K', '--last', key, '--role', role, '--api-only');
        others[key] = { email, service: addService(db, `${key} svc`, email) };
      }
      cli(db, 'user', 'invite', '--email', 'target@example.com', '--first', 'Tar', '--last', 'Get', '--role', 'Reader', '--api-only');
      srv = await startServer(null, db);
      tok = await token(srv, inst.caller.service);
      for (const o of Object.values(others)) o.tok = await token(srv, o.service);
    });
    after(async () => {
      await srv?.stop();
      inst?.remove();
    });

    test('the Bearer header works; the access_token query parameter is refused → 401 code 601', async () => {
      assertUmOk(await um(srv, '/allusers.json', tok), 'header');
      for (const [method, path] of ENDPOINTS('target@example.com')) {
        const r = await um(srv, path, undefined, { method, query: { access_token: tok } });
        assertUmError(r, 401, 601, 'Access token invalid', `${method} ${path}?access_token=`);
      }
      // also when an Authorization header of another scheme comes along
      const r = await um(srv, '/allusers.json', undefined, { query: { access_token: tok }, headers: { Authorization: 'Basic eDp5' } });
      assertUmError(r, 401, 601, 'Access token invalid', 'Basic + query token');
      // the same token works on /rest with the query parameter (legacy_query_token on by default)
      assertOk(await rest(srv, USAGE, undefined, { query: { access_token: tok } }), 'legacy query token on /rest');
    });

    test('no token, a garbage token, a foreign scheme → 401 code 601 "Access token invalid", nothing changed', async () => {
      const users = count(inst.db, 'users');
      const cases = { none: {}, garbage: { Authorization: 'Bearer garbage' }, empty: { Authorization: 'Bearer ' },
        basic: { Authorization: `Basic ${Buffer.from(`${inst.caller.service.clientId}:${inst.caller.service.secret}`).toString('base64')}` },
        secret: { Authorization: `Bearer ${inst.caller.service.secret}` }, suffix: { Authorization: `Bearer ${tok}x` } };
      for (const [what, headers] of Object.entries(cases)) {
        assertUmError(await um(srv, '/allusers.json', undefined, { headers }), 401, 601, 'Access token invalid', what);
        assertUmError(await um(srv, '/invite.json', undefined, { headers, body: INVITE('x@example.com', inst.roles.reader.id) }),
          401, 601, 'Access token invalid', `${what} (invite)`);
      }
      // token checks come before the route
      assertUmError(await um(srv, '/nothing.json'), 401, 601, 'Access token invalid', 'unknown path, no token');
      assert.equal(count(inst.db, 'users'), users);
    });

    test('a role with only `Access User Management Api`, only `Access Users`, or neither → 403 code 603 on every endpoint', async () => {
      const users = sql(inst.db, 'SELECT * FROM users ORDER BY id');
      for (const [key, o] of Object.entries(others)) {
        for (const [method, path] of ENDPOINTS('target@example.com')) {
          const body = method === 'POST' ? (path === '/invite.json' ? INVITE(`${key}-new@example.com`, inst.roles.reader.id)
            : path.includes('/roles/') ? [{ accessRoleId: inst.roles.reader.id, workspaceId: 1 }] : { firstName: 'Changed' }) : undefined;
          const r = await um(srv, path, o.tok, { method, body });
          assertUmError(r, 403, 603, 'Access denied', `${key}: ${method} ${path}`);
        }
        // the permission check comes before the body is read
        assertUmError(await um(srv, '/invite.json', o.tok, { body: '{bad', contentType: 'text/plain' }), 403, 603, 'Access denied', `${key}: bad body`);
        // these tokens are fine for /rest
        assertOk(await rest(srv, USAGE, o.tok), `${key} on /rest`);
      }
      assert.deepEqual(sql(inst.db, 'SELECT * FROM users ORDER BY id'), users, 'nothing changed');
    });

    test('granting the missing key with the CLI lets the user in; taking it away shuts them out', async () => {
      const o = others.apiKey;
      cli(inst.db, 'user', 'update', o.email, '--add-role', 'Users only');
      await eventually('both keys', () => um(srv, '/allusers.json', o.tok), (r) => r.status === 200);
      cli(inst.db, 'user', 'update', o.email, '--remove-role', 'Users only');
      await eventually('one key again', () => um(srv, '/allusers.json', o.tok), (r) => r.status === 403);
      assertUmError(await um(srv, '/allusers.json', o.tok), 403, 603, 'Access denied');
    });

    test('a token of a service owner locked with the CLI → 401 code 601', async () => {
      const email = 'short-lived@example.com';
      cli(inst.db, 'user', 'invite', '--email', email, '--first', 'S', '--last', 'L', '--role', 'User Admin', '--api-only');
      const svc = addService(inst.db, 'short svc', email);
      await eventually('new service', () => identity(srv, creds(svc)), (r) => r.status === 200);
      const t2 = await token(srv, svc);
      assertUmOk(await um(srv, '/roles.json', t2));
      cli(inst.db, 'user', 'lock', email);
      // revocation is immediate for the CLI too (docs/server.md: within 200 ms)
      await eventually('locked', () => um(srv, '/roles.json', t2), (r) => r.status === 401);
      assertUmError(await um(srv, '/roles.json', t2), 401, 601, 'Access token invalid');
    });
  });

  test('--token-ttl 3: an expired token → 401 code 602 on first use, then 401 code 601', async (t) => {
    const inst = makeUmInstance(t);
    // 3 s, not 1: a lifetime of one second can end between the token request and the
    // first call on a loaded machine
    const srv = await startServer(t, inst.db, ['--token-ttl', '3']);
    const tok = await token(srv, inst.caller.service);
    assertUmOk(await um(srv, '/roles.json', tok), 'before expiry');
    await sleep(4100);
    assertUmError(await um(srv, '/allusers.json', tok), 401, 602, 'Access token expired', 'first use after expiry');
    assertUmError(await um(srv, '/allusers.json', tok), 401, 601, 'Access token invalid', 'second use');
    assertUmError(await um(srv, '/invite.json', tok, { body: INVITE('x@example.com', inst.roles.reader.id) }), 401, 601,
      'Access token invalid', 'third use (a change)');
    assert.equal(count(inst.db, 'users', "email = 'x@example.com'"), 0);
    assertUmOk(await um(srv, '/allusers.json', await token(srv, inst.caller.service)), 'a new token');
  });

  test('the IP allowlist: a caller outside it → 403 code 603, nothing changed; removing it lets the caller in', async (t) => {
    const inst = makeUmInstance(t);
    const srv = await startServer(t, inst.db);
    const tok = await token(srv, inst.caller.service);
    cli(inst.db, 'allowlist', 'add', '10.0.0.0/8');
    cli(inst.db, 'allowlist', 'enable');
    await eventually('allowlist on', () => um(srv, '/allusers.json', tok), (r) => r.status === 403);
    for (const [method, path] of ENDPOINTS('admin-api@example.com')) {
      const body = method === 'POST' ? (path === '/invite.json' ? INVITE('blocked@example.com', inst.roles.reader.id) : []) : undefined;
      assertUmError(await um(srv, path, tok, { method, body }), 403, 603, 'Access denied', `${method} ${path}`);
    }
    assert.equal(count(inst.db, 'users'), 1, 'nothing changed');
    cli(inst.db, 'allowlist', 'add', '127.0.0.1');
    await eventually('allowed again', () => um(srv, '/allusers.json', tok), (r) => r.status === 200);
    assert.equal(assertUmOk(await um(srv, '/invite.json', tok, { body: INVITE('allowed@example.com', inst.roles.reader.id) })), true);
  });

  test('the rate limit: over it → 429 code 606 "Max rate limit \'3\' exceeded with in \'60\' secs"; calls of /rest share the window', async (t) => {
    const inst = makeUmInstance(t);
    cli(inst.db, 'limits', 'set', '--rate', '3/60');
    const srv = await startServer(t, inst.db);
    const tok = await token(srv, inst.caller.service);
    const r1 = await um(srv, '/roles.json', tok);
    assertUmOk(r1);
    assert.match(r1.headers.get('ratelimit-policy'), /"rate";q=3;w=60/);
    assert.equal(parseRate(r1.headers.get('ratelimit')), 2);
    assertOk(await rest(srv, USAGE, tok), 'a /rest call in the same window');
    // a refused-by-validation call counts too (it is neither 601, 602, 604, 605, 608 nor 611)
    assertUmError(await um(srv, '/invite.json', tok, { body: '{bad' }), 400, 609, 'Invalid JSON');
    const r = await um(srv, '/invite.json', tok, { body: INVITE('late@example.com', inst.roles.reader.id) });
    assertUmError(r, 429, 606, "Max rate limit '3' exceeded with in '60' secs", 'fourth call');
    assert.equal(count(inst.db, 'users', "email = 'late@example.com'"), 0, 'nothing changed');
    assertUmError(await um(srv, '/allusers.json', tok), 429, 606, "Max rate limit '3' exceeded with in '60' secs");
    // uncounted refusals do not make it worse and are not limited: 601 stays 601
    assertUmError(await um(srv, '/allusers.json', 'nope'), 401, 601, 'Access token invalid');
  });

  test('a per-user rate limit applies to the user management API as well', async (t) => {
    const inst = makeUmInstance(t);
    cli(inst.db, 'limits', 'set', '--user', inst.caller.email, '--rate', '2/60');
    const srv = await startServer(t, inst.db);
    const tok = await token(srv, inst.caller.service);
    assertUmOk(await um(srv, '/roles.json', tok));
    assertUmOk(await um(srv, '/workspaces.json', tok));
    assertUmError(await um(srv, '/allusers.json', tok), 429, 606, "Max rate limit '2' exceeded with in '60' secs");
  });

  test('the daily quota: over it → 429 code 607 "Daily quota reached"', async (t) => {
    const inst = makeUmInstance(t);
    cli(inst.db, 'limits', 'set', '--daily', '2');
    const srv = await startServer(t, inst.db);
    const tok = await token(srv, inst.caller.service);
    assertUmOk(await um(srv, '/roles.json', tok));
    assertUmOk(await um(srv, '/roles.json', tok));
    assertUmError(await um(srv, '/roles.json', tok), 429, 607, 'Daily quota reached');
    assertUmError(await um(srv, umUser(inst.caller.email, '/update.json'), tok, { body: { firstName: 'X' } }), 429, 607, 'Daily quota reached');
    assert.equal(cli(inst.db, 'user', 'show', inst.caller.email).user.firstName, 'Admin', 'nothing changed');
  });

  test('calls in flight over the limit → 429 code 615 "Concurrent access limit \'1\' reached" (whenever two overlap)', async (t) => {
    const inst = makeUmInstance(t);
    cli(inst.db, 'limits', 'set', '--concurrent', '1', '--rate', '0');
    const srv = await startServer(t, inst.db);
    const tok = await token(srv, inst.caller.service);
    // whether two calls overlap is up to the scheduler: every answer must be a 200 or a
    // well-formed 615, and a lone call always passes
    const answers = await Promise.all(Array.from({ length: 24 }, () => um(srv, '/allusers.json', tok, { query: { pageSize: 200 } })));
    for (const r of answers) {
      if (r.status === 200) assertUmOk(r);
      else assertUmError(r, 429, 615, "Concurrent access limit '1' reached");
    }
    assertUmOk(await um(srv, '/roles.json', tok), 'a lone call');
  });

  test('user management calls count in the usage statistics of the API user; 601 answers do not', async (t) => {
    const inst = makeUmInstance(t);
    const srv = await startServer(t, inst.db);
    const tok = await token(srv, inst.caller.service);
    for (let i = 0; i < 3; i++) assertUmOk(await um(srv, '/roles.json', tok));
    const wrong = await um(srv, '/roles.json', tok, { method: 'POST' });
    assertUmError(wrong, 405, 605, 'HTTP Method not supported');
    assert.equal(wrong.headers.get('allow'), 'GET', 'a 405 says which methods the path takes (RFC 9110)');
    assertUmError(await um(srv, '/roles.json', 'garbage'), 401, 601);
    assertUmError(await um(srv, umUser('nobody@example.com', '/user.json'), tok), 404, 1004);
    const usage = assertOk(await rest(srv, USAGE, tok));
    const me = usage[0].users.find((u) => u.userId === inst.caller.email);
    // 3 reads + the 1004 (the stats call itself is counted once it has answered)
    assert.equal(me.count, 4, JSON.stringify(usage));
    const errs = assertOk(await rest(srv, '/rest/v1/stats/errors.json', tok))[0].errors;
    const codes = Object.fromEntries(errs.map((e) => [e.errorCode, e.count]));
    assert.equal(codes['601'], 1, JSON.stringify(errs));
    assert.equal(codes['605'], 1, JSON.stringify(errs));
    assert.equal(codes['1004'], 1, JSON.stringify(errs));
  });
});

test('/metrics counts user management answers under their own status (409, 415 included), by route', async (t) => {
  const inst = makeUmInstance(t);
  const srv = await startServer(t, inst.db);
  const tok = await token(srv, inst.caller.service);
  assertUmError(await um(srv, umUser(inst.caller.email, '/delete.json'), tok, { method: 'POST' }), 409, 611);
  assertUmError(await um(srv, '/invite.json', tok, { body: '{}', contentType: 'text/plain' }), 415, 612);
  assertUmError(await um(srv, umUser('nobody@example.com', '/user.json'), tok), 404, 1004);
  assertUmOk(await um(srv, '/roles.json', tok));
  const lines = ['latchkey_http_requests_total{route="um_roles",status="200"} 1',
    'latchkey_http_requests_total{route="um_user",status="404"} 1',
    'latchkey_http_requests_total{route="um_delete",status="409"} 1',
    'latchkey_http_requests_total{route="um_invite",status="415"} 1'];
  const m = await metricsWith(srv.url, lines.map((l) => l.replace(/ 1$/, '')));
  for (const line of lines)
    assert.ok(m.split('\n').includes(line), `/metrics lacks ${line}:\n${m.split('\n').filter((l) => l.includes('route="um_')).join('\n')}`);
});

test('answers with 605 or 611 are not counted against the limits (PRODUCT.md §3), so a refused delete of a service owner leaves the window as it was', async (t) => {
  const inst = makeUmInstance(t);
  cli(inst.db, 'limits', 'set', '--rate', '2/60');
  const srv = await startServer(t, inst.db);
  const tok = await token(srv, inst.caller.service);
  assertUmOk(await um(srv, '/roles.json', tok), 'first counted call');
  assertUmError(await um(srv, '/roles.json', tok, { method: 'POST' }), 405, 605, 'HTTP Method not supported');
  assertUmError(await um(srv, umUser(inst.caller.email, '/delete.json'), tok, { method: 'POST' }), 409, 611,
    'You cannot delete an API user that is being used in API service');
  assertUmOk(await um(srv, '/workspaces.json', tok), 'second counted call: the 605 and the 611 did not count');
  assertUmError(await um(srv, '/allusers.json', tok), 429, 606, "Max rate limit '2' exceeded with in '60' secs", 'third counted call');
});
