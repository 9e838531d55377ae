// The gateway scenario, run through nginx (gateway-nginx.test.mjs) and Caddy
// (gateway-caddy.test.mjs) with contrib/'s configurations: latchkey decides every
// call to a small upstream API (tests/e2e/gateway/upstream.py) by its route table —
// Marketo's map, and a plain API of the team's own — and the gateway answers the
// client as latchkey says.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { REQUEST_ID, avoidMidnight, cli, eventually, makeInstance, startServer } from './server-lib.mjs';
import { send, seen, startUpstream } from './gateway-lib.mjs';

export const READER = 'reader@example.com';     // Read-Only Lead
export const WRITER = 'writer@example.com';     // Read-Write Lead, Read-Only Opportunity
const LIMITED = 'limited@example.com';          // Read-Only Lead, 2 calls a minute
const QUOTA = 'quota@example.com';              // Read-Only Lead, 1 call a day
const COUNTER = 'counter@example.com';          // Read-Only Lead, for the usage count

// the instance: users, roles, limits and routes, and latchkey trusting the gateway
export function prepare(ctx) {
  const inst = makeInstance(ctx, { users: [READER, LIMITED, QUOTA, COUNTER] });
  cli(inst.db, 'role', 'create', '--name', 'Writer', '--permission', 'Read-Write Lead', '--permission', 'Read-Only Opportunity');
  cli(inst.db, 'user', 'invite', '--email', WRITER, '--first', 'W', '--last', 'R', '--role', 'Writer', '--api-only');
  const w = cli(inst.db, 'service', 'create', '--name', 'writer sync', '--user', WRITER);
  inst.users.push({ email: WRITER, service: { clientId: w.service.clientId, secret: w.clientSecret } });
  cli(inst.db, 'limits', 'set', '--user', LIMITED, '--rate', '2/60');
  cli(inst.db, 'limits', 'set', '--user', QUOTA, '--daily', '1');
  cli(inst.db, 'route', 'import', 'marketo');
  cli(inst.db, 'route', 'add', '/api/v2/orders/{id}', '--method', 'GET', '--permission', 'Read-Only Opportunity', '--plain');
  cli(inst.db, 'route', 'add', '/api/v2/*', '--method', 'GET', '--permission', 'none', '--plain');
  return inst;
}

export const LATCHKEY_ARGS = ['--trusted-proxies', '127.0.0.1', '--auth-fail-limit', '1000'];

// a token through the gateway's /identity location (latchkey's token endpoint)
export async function gwToken(gw, svc) {
  const q = new URLSearchParams({ grant_type: 'client_credentials', client_id: svc.clientId, client_secret: svc.secret });
  const r = await send(gw.url, { target: `/identity/oauth/token?${q}` });
  assert.equal(r.status, 200, `identity through the gateway: ${r.status} ${r.text}`);
  return r.json.access_token;
}

const bearer = (tok) => ({ Authorization: `Bearer ${tok}` });

// a Marketo refusal as the client sees it through the gateway
export function assertEnvelope(r, code, message, what) {
  assert.equal(r.status, 200, `${what}: HTTP ${r.status} ${r.text}`);
  assert.ok(r.json, `${what}: JSON body: ${r.text}`);
  assert.equal(r.json.success, false, `${what}: ${r.text}`);
  assert.match(r.json.requestId, REQUEST_ID, `${what}: requestId`);
  assert.deepEqual(r.json.errors, [{ code: String(code), message }], `${what}: ${r.text}`);
}

// a plain refusal: the HTTP status and {"errors":[{code, message}]}
export function assertPlain(r, status, code, what) {
  assert.equal(r.status, status, `${what}: HTTP ${r.status} ${r.text}`);
  assert.equal(r.json?.errors?.[0]?.code, code, `${what}: ${r.text}`);
  assert.ok(!('success' in r.json), `${what}: no envelope: ${r.text}`);
}

/*
 * The scenario against one gateway: start(ctx, {latchkey, upstream}) starts it
 * ({url}); rateHeaders: the gateway passes latchkey's RateLimit headers on.
 */
export function gatewayScenario(name, start, { rateHeaders }) {
  describe(name, () => {
    const afters = [];
    const ctx = { after: (f) => afters.push(f) };
    let inst, srv, up, gw;
    const tok = {};
    before(async () => {
      await avoidMidnight();
      inst = prepare(ctx);
      srv = await startServer(ctx, inst.db, LATCHKEY_ARGS);
      up = await startUpstream(ctx);
      gw = await start(ctx, { latchkey: srv.port, upstream: up.port });
      for (const u of inst.users) tok[u.email] = await gwToken(gw, u.service);
    });
    after(async () => { for (const f of afters.reverse()) await f(); });

    // the upstream was not called (no new line in its log) by fn
    async function notReached(what, fn) {
      const n = up.calls().length;
      const r = await fn();
      assert.equal(up.calls().length, n, `${what}: reached the upstream: ${up.calls().slice(n)}`);
      return r;
    }

    test('an allowed call reaches the upstream unchanged, with the caller\'s identity and without its token', async () => {
      const target = '/rest/v1/leads.json?filterType=id&filterValues=1,2';
      const r = await send(gw.url, { target, headers: { ...bearer(tok[READER]), 'X-Latchkey-User': 'boss@example.com',
        'X-Latchkey-User-Id': '1', 'X-Latchkey-Client-Id': 'forged' } });
      const s = seen(r, 'GET leads.json');
      assert.equal(s.method, 'GET');
      assert.equal(s.target, target, 'the target as the client sent it');
      const reader = inst.user(READER);
      assert.equal(s.headers['x-latchkey-user'], READER, 'the identity latchkey found, not the forged one');
      assert.equal(s.headers['x-latchkey-user-id'], String(reader.id));
      assert.equal(s.headers['x-latchkey-client-id'], reader.service.clientId);
      assert.match(s.headers['x-latchkey-request-id'], REQUEST_ID);
      assert.equal(s.headers['x-request-id'], s.headers['x-latchkey-request-id'], 'the upstream is given latchkey\'s request id');
      assert.equal(s.headers.authorization, undefined, 'the access token stays at the gateway');
      if (rateHeaders) {
        assert.match(r.headers.ratelimit ?? '', /"rate";r=\d+;t=\d+/, 'RateLimit passed on');
        assert.match(r.headers['ratelimit-policy'] ?? '', /"rate";q=100;w=20/, 'RateLimit-Policy passed on');
      }
    });

    test('the legacy access_token query parameter, a HEAD as a GET, a {param} route', async () => {
      const s = seen(await send(gw.url, { target: `/rest/v1/lead/42.json?access_token=${tok[READER]}` }), 'legacy token');
      assert.equal(s.headers['x-latchkey-user'], READER);
      const h = await send(gw.url, { method: 'HEAD', target: '/rest/v1/leads/describe.json', headers: bearer(tok[READER]) });
      assert.equal(h.status, 200, `HEAD: ${h.status}`);
      assert.ok(up.calls().includes('HEAD /rest/v1/leads/describe.json'), 'the HEAD reached the upstream');
    });

    test('refusals in Marketo\'s envelope: 601, 603 (permission), 605, 610 (deny by default); none reaches the upstream', async () => {
      await notReached('refusals', async () => {
        assertEnvelope(await send(gw.url, { target: '/rest/v1/leads.json' }), 601, 'Access token invalid', 'no token');
        assertEnvelope(await send(gw.url, { target: '/rest/v1/leads.json', headers: bearer('x'.repeat(64)) }), 601,
          'Access token invalid', 'a made-up token');
        assertEnvelope(await send(gw.url, { method: 'POST', target: '/rest/v1/leads.json', headers: { ...bearer(tok[READER]),
          'Content-Type': 'application/json' }, body: '{"input":[]}' }), 603, 'Access denied', 'sync leads needs Read-Write Lead');
        assertEnvelope(await send(gw.url, { method: 'DELETE', target: '/rest/v1/leads/describe.json', headers: bearer(tok[READER]) }),
          605, 'HTTP Method not supported', 'describe has no DELETE');
        assertEnvelope(await send(gw.url, { target: '/rest/v1/secrets.json', headers: bearer(tok[WRITER]) }), 610,
          'Requested resource not found', 'no route: refused');
      });
      seen(await send(gw.url, { method: 'POST', target: '/rest/v1/leads.json', headers: bearer(tok[WRITER]) }), 'the writer syncs');
    });

    test('a plain route: 401, 403 and the upstream\'s answer; its \'*\' route with permission none needs a token only', async () => {
      await notReached('plain refusals', async () => {
        assertPlain(await send(gw.url, { target: '/api/v2/orders/7' }), 401, 601, 'no token');
        assertPlain(await send(gw.url, { target: '/api/v2/orders/7', headers: bearer(tok[READER]) }), 403, 603, 'no Opportunity permission');
        assertPlain(await send(gw.url, { method: 'DELETE', target: '/api/v2/orders/7', headers: bearer(tok[WRITER]) }), 405, 605, 'no DELETE route');
        assertPlain(await send(gw.url, { target: '/api/v2/status' }), 401, 601, 'permission none still needs a token');
      });
      assert.equal(seen(await send(gw.url, { target: '/api/v2/orders/7', headers: bearer(tok[WRITER]) }), 'writer').headers['x-latchkey-user'], WRITER);
      seen(await send(gw.url, { target: '/api/v2/status', headers: bearer(tok[READER]) }), 'permission none');
    });

    test('paths an upstream could read as another path are refused, never guessed at', async () => {
      // the reader may call /api/v2/* (permission none) but not /api/v2/orders/{id}
      const targets = [
        '/api/v2/status/../orders/7', '/api/v2/status/%2e%2e/orders/7', '/api/v2/status/%2E%2E/orders/7',
        '/api/v2/status%2F..%2Forders/7', '/api/v2/status/.%2e/orders/7', '/api/v2/./orders/7', '/api/v2/orders/7;x=1',
        '/api/v2/orders;/7', '/api/v2//orders/7', '/api/v2/orders%2F7', '/api/v2/status%5C..%5Corders%5C7',
        '/api/v2/%6Frders/7', '/api/v2/orders/%37', '/api/v2/orders/7%00', '/api/v2/orders/7%2500', '/rest/v1/stats/../leads.json',
      ];
      for (const target of targets) {
        const r = await notReached(target, () => send(gw.url, { target, headers: bearer(tok[READER]) }));
        assert.ok(!(r.status === 200 && r.json?.success === true), `${target}: refused (${r.status} ${r.text})`);
      }
      // decoding comes first: an encoded letter is the letter, and the orders route decides
      assertPlain(await send(gw.url, { target: '/api/v2/%6Frders/7', headers: bearer(tok[READER]) }), 403, 603, 'encoded o');
    });

    test('a client cannot name another call: forged X-Original-* / X-Forwarded-* headers are replaced or refused', async () => {
      const forged = { 'X-Original-Method': 'GET', 'X-Forwarded-Method': 'GET', 'X-Original-URI': '/api/v2/status',
        'X-Forwarded-Uri': '/api/v2/status' };
      await notReached('forged', async () => {
        const p = await send(gw.url, { method: 'POST', target: '/rest/v1/leads.json', headers: { ...bearer(tok[READER]), ...forged } });
        assertEnvelope(p, 603, 'Access denied', 'a POST that says it is a GET');
        const g = await send(gw.url, { target: '/api/v2/orders/7', headers: { ...bearer(tok[READER]), ...forged } });
        assert.ok(g.status === 403 || g.status === 200 && g.json?.success === false, `orders named as status: ${g.status} ${g.text}`);
      });
    });

    test('_method=GET: a GET for a Marketo-style upstream, still a POST for a plain one', async () => {
      const s = seen(await send(gw.url, { method: 'POST', target: '/rest/v1/leads.json?_method=GET&filterType=id&filterValues=1',
        headers: bearer(tok[READER]) }), 'POST with _method=GET, Read-Only Lead');
      assert.equal(s.method, 'POST');
      await notReached('plain _method', async () => {
        assertPlain(await send(gw.url, { method: 'POST', target: '/api/v2/status?_method=GET', headers: bearer(tok[READER]) }),
          405, 605, 'a plain upstream does not honour _method');
      });
    });

    test('limits: 606 after the user\'s rate, 607 after its daily quota, in the envelope', async () => {
      for (let i = 0; i < 2; i++) seen(await send(gw.url, { target: '/rest/v1/leads.json', headers: bearer(tok[LIMITED]) }), `call ${i + 1}`);
      await notReached('limited', async () => {
        assertEnvelope(await send(gw.url, { target: '/rest/v1/leads.json', headers: bearer(tok[LIMITED]) }), 606,
          'Max rate limit \'2\' exceeded with in \'60\' secs', 'third call in a minute');
      });
      seen(await send(gw.url, { target: '/rest/v1/leads.json', headers: bearer(tok[QUOTA]) }), 'the day\'s call');
      await notReached('quota', async () => {
        assertEnvelope(await send(gw.url, { target: '/rest/v1/leads.json', headers: bearer(tok[QUOTA]) }), 607,
          'Daily quota reached', 'second call of the day');
      });
    });

    test('usage is counted per API user and read at /rest/v1/stats/usage.json through the gateway', async () => {
      const h = bearer(tok[COUNTER]);
      for (let i = 0; i < 3; i++) seen(await send(gw.url, { target: '/rest/v1/leads.json', headers: h }), 'counted call');
      assertEnvelope(await send(gw.url, { method: 'POST', target: '/rest/v1/leads.json', headers: h }), 603, 'Access denied', '603 counts');
      assertEnvelope(await send(gw.url, { method: 'PUT', target: '/rest/v1/leads.json', headers: h }), 605,
        'HTTP Method not supported', '605 does not count');
      await eventually('usage of the counter user', async () => {
        const r = await send(gw.url, { target: '/rest/v1/stats/usage.json', headers: h });
        return r.json?.result?.[0]?.users?.find((u) => u.userId === COUNTER)?.count;
      }, (n) => n === 4);
    });

    test('the allowlist judges the client, not the gateway (X-Forwarded-For from a trusted proxy)', async () => {
      cli(inst.db, 'allowlist', 'add', '127.0.0.1');
      cli(inst.db, 'allowlist', 'enable');
      try {
        await eventually('the allowlist in force', async () => {
          const r = await send(gw.url, { target: '/rest/v1/leads.json', headers: bearer(tok[WRITER]), localAddress: '127.0.0.2' });
          return r.json?.errors?.[0]?.code;
        }, (c) => c === '603');
        seen(await send(gw.url, { target: '/rest/v1/leads.json', headers: bearer(tok[WRITER]) }), 'from 127.0.0.1');
      } finally {
        cli(inst.db, 'allowlist', 'disable');
      }
    });

    test('without latchkey the gateway fails closed: no call reaches the upstream', async () => {
      await srv.stop();
      const r = await notReached('latchkey stopped', () => send(gw.url, { target: '/api/v2/status', headers: bearer(tok[READER]) }));
      assert.ok(r.status >= 500, `an error, not a pass: ${r.status} ${r.text}`);
    });
  });
}
