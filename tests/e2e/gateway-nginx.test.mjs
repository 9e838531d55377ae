// latchkey as the authorization service of Debian's nginx (auth_request), with
// contrib/nginx/latchkey-gateway.conf; and the auth check's own rules, asked directly.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertOk, call, makeInstance, rest, sleep, startServer, token } from './server-lib.mjs';
import { send, seen, startNginx, startUpstream } from './gateway-lib.mjs';
import { LATCHKEY_ARGS, READER, assertEnvelope, gatewayScenario, gwToken, prepare } from './gateway-suite.mjs';

gatewayScenario('nginx auth_request in front of an upstream', startNginx, { rateHeaders: true });

describe('the auth check, asked directly', () => {
  test('answers trusted proxies only, and only when the call is named once and without contradiction', async (t) => {
    const inst = prepare(t);
    const srv = await startServer(t, inst.db, LATCHKEY_ARGS);
    const tok = await token(srv, inst.user(READER).service);
    const ask = (headers, localAddress) => send(srv.url, { target: '/auth/check', headers: { Authorization: `Bearer ${tok}`, ...headers }, localAddress });
    const named = { 'X-Original-Method': 'GET', 'X-Original-URI': '/rest/v1/leads.json' };
    const ok = await ask(named);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers['x-latchkey-user'], READER);
    const refusals = [
      ['not a trusted proxy', named, '127.0.0.2'],
      ['nothing named', {}],
      ['X-Original-URI and X-Forwarded-Uri disagree', { ...named, 'X-Forwarded-Uri': '/rest/v1/stats/usage.json' }],
      ['methods disagree', { ...named, 'X-Forwarded-Method': 'POST' }],
    ];
    for (const [what, headers, from] of refusals) {
      const r = await ask(headers, from);
      assert.equal(r.status, 403, `${what}: ${r.status} ${r.text}`);
      assert.equal(r.headers['x-latchkey-code'], '603', what);
      assert.equal(r.headers['x-latchkey-status'], '200', `${what}: Marketo-style by default`);
      assert.deepEqual(JSON.parse(r.headers['x-latchkey-body']).errors[0].code, '603', what);
    }
    // the same header twice (a client's and a gateway's) names nothing
    const twice = await new Promise((resolve, reject) => {
      import('node:net').then(({ default: net }) => {
        const c = net.connect(srv.port, '127.0.0.1', () => c.write(`GET /auth/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tok}\r\n`
          + 'X-Original-Method: GET\r\nX-Original-URI: /api/v2/status\r\nX-Original-URI: /rest/v1/leads.json\r\nConnection: close\r\n\r\n'));
        let text = '';
        c.on('data', (d) => { text += d; });
        c.on('end', () => resolve(text));
        c.on('error', reject);
      });
    });
    assert.match(twice, /^HTTP\/1\.1 403 /, twice);
  });

  test('the answer\'s headers: the refusal a gateway renders (status, code, message, body)', async (t) => {
    const inst = prepare(t);
    const srv = await startServer(t, inst.db, LATCHKEY_ARGS);
    const tok = await token(srv, inst.user(READER).service);
    const r = await call(`${srv.url}/auth/check`, { headers: { Authorization: `Bearer ${tok}`, 'X-Forwarded-Method': 'GET',
      'X-Forwarded-Uri': '/api/v2/orders/7?x=1' } });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.headers.get('x-latchkey-code'), '603');
    assert.equal(r.headers.get('x-latchkey-message'), 'Access denied');
    assert.equal(r.headers.get('x-latchkey-status'), '403', 'a plain route');
    assert.deepEqual(JSON.parse(r.headers.get('x-latchkey-body')), { errors: [{ code: 603, message: 'Access denied' }] });
    assert.deepEqual(r.json, { errors: [{ code: 603, message: 'Access denied' }] }, 'the body is the same');
    const none = await call(`${srv.url}/auth/check`, { headers: { 'X-Forwarded-Method': 'GET', 'X-Forwarded-Uri': '/rest/v1/leads.json' } });
    assert.equal(none.status, 401, none.text);
    assert.equal(none.headers.get('x-latchkey-code'), '601');
    assert.equal(none.headers.get('x-latchkey-status'), '200');
    assertEnvelope({ status: 200, json: JSON.parse(none.headers.get('x-latchkey-body')), text: none.text }, 601, 'Access token invalid', 'body');
    // latchkey's own REST routes are untouched by the route table
    assertOk(await rest(srv, '/rest/v1/stats/usage.json', tok), 'latchkey\'s own stats');
  });
});

describe('token expiry through nginx', () => {
  test('602 on the first use after expiry, then 601, in the envelope', async (t) => {
    const inst = prepare(t);
    const srv = await startServer(t, inst.db, [...LATCHKEY_ARGS, '--token-ttl', '2']);
    const up = await startUpstream(t);
    const gw = await startNginx(t, { latchkey: srv.port, upstream: up.port });
    const tok = await gwToken(gw, inst.user(READER).service);
    const h = { Authorization: `Bearer ${tok}` };
    seen(await send(gw.url, { target: '/rest/v1/leads.json', headers: h }), 'before expiry');
    await sleep(3100);
    assertEnvelope(await send(gw.url, { target: '/rest/v1/leads.json', headers: h }), 602, 'Access token expired', 'first use after');
    assertEnvelope(await send(gw.url, { target: '/rest/v1/leads.json', headers: h }), 601, 'Access token invalid', 'then');
  });
});
