// latchkey serve: the IP allowlist (issue 3: "IP allowlist for REST calls and the
// identity endpoint (single addresses and CIDR ranges, IPv4 and IPv6), off by
// default"; reference §9: 603 "Access denied"), changed with the CLI while the
// server runs, and client addresses told by a trusted proxy in X-Forwarded-For.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  FORM_CT, USAGE, assertOAuthError, assertOk, assertRestError, basic, call, canBindIPv6, cli, creds,
  eventually, form, identity, makeInstance, rest, restCode, startServer, token,
} from './server-lib.mjs';

const denied = (r) => restCode(r) === '603';
const allowed = (r) => restCode(r) === 'ok';

async function assertIdentityDenied(srv, svc, what) {
  const r = await identity(srv, creds(svc));
  assertOAuthError(r, 403, 'access_denied', undefined, `${what}: /identity/oauth/token`);
  const o = await call(`${srv.url}/oauth2/token`, {
    method: 'POST', headers: { 'Content-Type': FORM_CT, Authorization: basic(svc.clientId, svc.secret) },
    body: form({ grant_type: 'client_credentials' }),
  });
  assertOAuthError(o, 403, 'access_denied', undefined, `${what}: /oauth2/token`);
}

describe('IP allowlist', { concurrency: true }, () => {
  test('IPv4: 10.0.0.0/8 enabled → 603 from 127.0.0.1 and 403 at identity; adding 127.0.0.1 lets it in again', async (t) => {
    const inst = makeInstance(t, { users: ['api@example.com'] });
    const svc = inst.users[0].service;
    const srv = await startServer(t, inst.db);
    const tok = await token(srv, svc);
    assertOk(await rest(srv, USAGE, tok), 'allowlist off by default');
    cli(inst.db, 'allowlist', 'add', '10.0.0.0/8');
    assertOk(await rest(srv, USAGE, tok), 'entries do nothing while the list is disabled');
    cli(inst.db, 'allowlist', 'enable');
    const { value } = await eventually('603 after allowlist enable', () => rest(srv, USAGE, tok), denied);
    assertRestError(value, 603, 'Access denied', 'REST from 127.0.0.1');
    assertRestError(await rest(srv, '/rest/v1/stats/errors.json', tok), 603, 'Access denied', 'another route');
    await assertIdentityDenied(srv, svc, '127.0.0.1 not allowed');
    // open endpoints stay open
    assert.equal((await call(`${srv.url}/healthz`)).status, 200);

    cli(inst.db, 'allowlist', 'add', '127.0.0.1');
    await eventually('allowed after adding 127.0.0.1', () => rest(srv, USAGE, tok), allowed);
    assert.equal((await identity(srv, creds(svc))).status, 200, 'identity allowed again');
    assert.equal(await token(srv, svc), tok, 'the same token: the allowlist does not revoke tokens');

    cli(inst.db, 'allowlist', 'remove', '127.0.0.1/32');
    await eventually('denied after removing 127.0.0.1', () => rest(srv, USAGE, tok), denied);
    cli(inst.db, 'allowlist', 'add', '127.0.0.0/8');
    await eventually('allowed by 127.0.0.0/8', () => rest(srv, USAGE, tok), allowed);
    cli(inst.db, 'allowlist', 'remove', '127.0.0.0/8');
    await eventually('denied again', () => rest(srv, USAGE, tok), denied);
    cli(inst.db, 'allowlist', 'disable');
    await eventually('allowed after disable', () => rest(srv, USAGE, tok), allowed);
  });

  test('outside the allowlist the client-authenticated OAuth endpoints (introspect, revoke) are refused too', async (t) => {
    const inst = makeInstance(t, { users: ['api@example.com'] });
    const svc = inst.users[0].service;
    cli(inst.db, 'allowlist', 'add', '10.0.0.0/8');
    const srv = await startServer(t, inst.db);
    const tok = await token(srv, svc);
    cli(inst.db, 'allowlist', 'enable');
    await eventually('603 after allowlist enable', () => rest(srv, USAGE, tok), denied);
    await assertIdentityDenied(srv, svc, '127.0.0.1 not allowed');
    const seen = {};
    for (const ep of ['/oauth2/introspect', '/oauth2/revoke']) {
      const r = await call(`${srv.url}${ep}`, {
        method: 'POST', headers: { 'Content-Type': FORM_CT, Authorization: basic(svc.clientId, svc.secret) },
        body: form({ token: tok }),
      });
      seen[ep] = `${r.status} ${r.json?.error ?? r.text}`;
    }
    assert.deepEqual(seen, { '/oauth2/introspect': '403 access_denied', '/oauth2/revoke': '403 access_denied' },
      'a client outside the allowlist can neither check its credentials and tokens nor revoke tokens');
    cli(inst.db, 'allowlist', 'add', '127.0.0.1');
    await eventually('allowed again', () => rest(srv, USAGE, tok), allowed);
  });

  test('IPv6: a server on [::1]: ::1/128 allows, 2001:db8::/32 and IPv4 entries do not', async (t) => {
    if (!(await canBindIPv6())) {
      t.skip('::1 cannot be bound on this machine (no IPv6 loopback): IPv6 allowlist not tested');
      return;
    }
    const inst = makeInstance(t, { users: ['api@example.com'] });
    const svc = inst.users[0].service;
    cli(inst.db, 'allowlist', 'add', '2001:db8::/32');
    cli(inst.db, 'allowlist', 'add', '127.0.0.0/8');
    const srv = await startServer(t, inst.db, [], { listen: '[::1]:0' });
    assert.match(srv.url, /^http:\/\/\[::1\]:\d+$/);
    const tok = await token(srv, svc);
    assertOk(await rest(srv, USAGE, tok), 'over IPv6, allowlist disabled');
    cli(inst.db, 'allowlist', 'enable');
    const { value } = await eventually('603 from ::1', () => rest(srv, USAGE, tok), denied);
    assertRestError(value, 603, 'Access denied', 'REST from ::1');
    await assertIdentityDenied(srv, svc, '::1 not allowed');
    cli(inst.db, 'allowlist', 'add', '::1/128');
    await eventually('allowed after adding ::1/128', () => rest(srv, USAGE, tok), allowed);
    assert.equal((await identity(srv, creds(svc))).status, 200);
    cli(inst.db, 'allowlist', 'remove', '::1/128');
    await eventually('denied after removing ::1/128', () => rest(srv, USAGE, tok), denied);
    cli(inst.db, 'allowlist', 'add', '::/0');
    await eventually('allowed by ::/0', () => rest(srv, USAGE, tok), allowed);
    assert.match(srv.stderr(), /addr=::1 method=GET path="\/rest\/v1\/stats\/usage\.json"/, 'the access log shows ::1');
  });

  test('--trusted-proxies 127.0.0.1: X-Forwarded-For decides the address', async (t) => {
    const inst = makeInstance(t, { users: ['api@example.com'] });
    const svc = inst.users[0].service;
    cli(inst.db, 'allowlist', 'add', '10.0.0.0/8');
    cli(inst.db, 'allowlist', 'enable');
    const srv = await startServer(t, inst.db, ['--trusted-proxies', '127.0.0.1']);
    const xff = (v) => ({ headers: { 'X-Forwarded-For': v } });
    await assertIdentityDenied(srv, svc, 'the proxy itself (no X-Forwarded-For)');
    const r = await identity(srv, creds(svc), xff('10.1.2.3'));
    assert.equal(r.status, 200, `identity for 10.1.2.3 through the proxy: ${r.text}`);
    const tok = r.json.access_token;
    assertOk(await rest(srv, USAGE, tok, xff('10.1.2.3')), 'REST for 10.1.2.3');
    assertRestError(await rest(srv, USAGE, tok, xff('192.0.2.7')), 603, 'Access denied', 'REST for 192.0.2.7');
    assertRestError(await rest(srv, USAGE, tok), 603, 'Access denied', 'REST from the proxy itself');
    // the right-most entry is the one the trusted proxy saw
    assertOk(await rest(srv, USAGE, tok, xff('192.0.2.7, 10.1.2.3')), 'chain ending in 10.1.2.3');
    assertRestError(await rest(srv, USAGE, tok, xff('10.1.2.3, 192.0.2.7')), 603, 'Access denied', 'chain ending in 192.0.2.7');
    assert.match(srv.stderr(), /addr=10\.1\.2\.3 method=GET path="\/rest\/v1\/stats\/usage\.json" status=200/, 'the log shows the client');
    assert.match(srv.stderr(), /addr=192\.0\.2\.7 /, 'the log shows the refused client');
  });

  test('without --trusted-proxies X-Forwarded-For is ignored', async (t) => {
    const inst = makeInstance(t, { users: ['api@example.com'] });
    const svc = inst.users[0].service;
    cli(inst.db, 'allowlist', 'add', '10.0.0.0/8');
    const srv = await startServer(t, inst.db);
    const tok = await token(srv, svc);
    cli(inst.db, 'allowlist', 'enable');
    const forged = { headers: { 'X-Forwarded-For': '10.1.2.3' } };
    const { value } = await eventually('603 despite a forged X-Forwarded-For', () => rest(srv, USAGE, tok, forged), denied);
    assertRestError(value, 603, 'Access denied');
    const r = await identity(srv, creds(svc), forged);
    assertOAuthError(r, 403, 'access_denied', undefined, 'identity with a forged X-Forwarded-For');
    assert.ok(!/addr=10\.1\.2\.3/.test(srv.stderr()), 'the forged address is not logged as the client');
  });

  test('a trusted proxy range that does not contain the peer: X-Forwarded-For is ignored', async (t) => {
    const inst = makeInstance(t, { users: ['api@example.com'] });
    const svc = inst.users[0].service;
    cli(inst.db, 'allowlist', 'add', '10.0.0.0/8');
    cli(inst.db, 'allowlist', 'enable');
    const srv = await startServer(t, inst.db, ['--trusted-proxies', '192.0.2.0/24, 198.51.100.1']);
    await assertIdentityDenied(srv, { ...svc }, 'peer 127.0.0.1 is not a trusted proxy');
    const r = await identity(srv, creds(svc), { headers: { 'X-Forwarded-For': '10.1.2.3' } });
    assertOAuthError(r, 403, 'access_denied', undefined, 'forged X-Forwarded-For from an untrusted peer');
  });
});
