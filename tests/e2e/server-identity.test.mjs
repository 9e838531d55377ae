// latchkey serve: the Marketo-compatible identity endpoint /identity/oauth/token
// (reference §3; issue 3 "Identity"): parameters in the query, a form body or HTTP
// Basic; the exact response; token reuse; the 401/400 answers; lock and delete while
// the server runs; throttling of failed attempts; no secret in the access log.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  FORM_CT, addService, raw, TOKEN_RE, USAGE, assertOAuthError, assertOk, basic, call, cli, creds, eventually, form,
  identity, makeInstance, rest, sleep, startServer, token,
} from './server-lib.mjs';

const USERS = ['api@example.com', 'lock@example.com', 'gone@example.com', 'other@example.com'];

describe('identity endpoint', () => {
  let inst;
  let srv;
  let api;
  const issued = [];   // every token seen, for the access-log check
  before(async () => {
    inst = makeInstance(null, { users: USERS, servicesPerUser: 1 });
    api = inst.user('api@example.com').service;
    // a high failure limit: this file's 401 cases must not throttle the other tests
    srv = await startServer(null, inst.db, ['--auth-fail-limit', '1000']);
  });
  after(async () => {
    await srv?.stop();
    inst?.remove();
  });

  function assertTokenBody(r, email, what) {
    assert.equal(r.status, 200, `${what}: ${r.status} ${r.text}`);
    assert.deepEqual(Object.keys(r.json), ['access_token', 'token_type', 'expires_in', 'scope'], `${what}: ${r.text}`);
    assert.match(r.json.access_token, TOKEN_RE, what);
    assert.equal(r.json.token_type, 'bearer', what);
    assert.equal(r.json.scope, email, what);
    assert.ok(Number.isInteger(r.json.expires_in) && r.json.expires_in > 3500 && r.json.expires_in <= 3600,
      `${what}: expires_in ${r.json.expires_in}`);
    assert.equal(r.headers.get('cache-control'), 'no-store', `${what}: Cache-Control`);
    assert.match(r.headers.get('content-type'), /^application\/json/, `${what}: Content-Type`);
    issued.push(r.json.access_token);
    return r.json;
  }

  test('GET with the parameters in the query: exactly {access_token, token_type, expires_in, scope}', async () => {
    const r = await identity(srv, creds(api));
    const body = assertTokenBody(r, 'api@example.com', 'GET query');
    // the token works on REST at once
    assertOk(await rest(srv, USAGE, body.access_token), 'usage with the new token');
  });

  test('the same token comes back while valid, expires_in counting down; POST form and Basic give it too', async () => {
    const first = assertTokenBody(await identity(srv, creds(api)), 'api@example.com', 'first');
    const post = assertTokenBody(await call(`${srv.url}/identity/oauth/token`, {
      method: 'POST', headers: { 'Content-Type': FORM_CT }, body: form(creds(api)),
    }), 'api@example.com', 'POST form body');
    assert.equal(post.access_token, first.access_token, 'POST form: the same token');
    assert.ok(post.expires_in <= first.expires_in, 'expires_in does not grow');

    const viaBasic = assertTokenBody(await call(`${srv.url}/identity/oauth/token?grant_type=client_credentials`, {
      headers: { Authorization: basic(api.clientId, api.secret) },
    }), 'api@example.com', 'GET + HTTP Basic');
    assert.equal(viaBasic.access_token, first.access_token, 'Basic: the same token');
    const postBasic = assertTokenBody(await call(`${srv.url}/identity/oauth/token`, {
      method: 'POST', headers: { 'Content-Type': FORM_CT, Authorization: basic(api.clientId, api.secret) },
      body: form({ grant_type: 'client_credentials' }),
    }), 'api@example.com', 'POST + HTTP Basic');
    assert.equal(postBasic.access_token, first.access_token);

    await sleep(1100);
    const later = assertTokenBody(await identity(srv, creds(api)), 'api@example.com', 'a second later');
    assert.equal(later.access_token, first.access_token, 'still the same token');
    assert.ok(later.expires_in < first.expires_in, `expires_in counts down: ${first.expires_in} then ${later.expires_in}`);
  });

  test('each service has its own token; scope is the owner of the service', async () => {
    const other = inst.user('other@example.com').service;
    const a = assertTokenBody(await identity(srv, creds(api)), 'api@example.com', 'api');
    const b = assertTokenBody(await identity(srv, creds(other)), 'other@example.com', 'other');
    assert.notEqual(a.access_token, b.access_token);
  });

  test('simultaneous first requests of one service all get the one same token', async () => {
    const metric = async () => Number(/^latchkey_tokens_issued_total (\d+)$/m.exec((await call(`${srv.url}/metrics`)).text)[1]);
    const svc2 = addService(inst.db, 'burst', 'other@example.com');
    const probe = addService(inst.db, 'burst probe', 'other@example.com');
    // once the server knows the probe (created later) it knows svc2, whose token is not asked for yet
    await eventually('the new services are known', () => identity(srv, creds(probe)), (r) => r.status === 200);
    const before = await metric();
    const agent = new http.Agent({ keepAlive: false, maxSockets: 30 });
    const rs = await Promise.all(Array.from({ length: 30 }, () =>
      raw(srv, { path: `/identity/oauth/token?${form(creds(svc2))}`, agent })));
    agent.destroy();
    for (const r of rs) assert.equal(r.status, 200, r.text);
    const tokens = new Set(rs.map((r) => r.json.access_token));
    assert.equal(tokens.size, 1, `one token for 30 simultaneous requests, got ${tokens.size}`);
    assert.equal(await metric(), before + 1, 'one token minted');
    issued.push(...tokens);
  });

  test('bad secret → 401 invalid_client "Bad client credentials" (no store, no token)', async () => {
    const r = await identity(srv, { ...creds(api), client_secret: 'X'.repeat(32) });
    assert.deepEqual(r.json, { error: 'invalid_client', error_description: 'Bad client credentials' });
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    // Basic with a bad secret as well
    const b = await call(`${srv.url}/identity/oauth/token?grant_type=client_credentials`, {
      headers: { Authorization: basic(api.clientId, 'wrong') },
    });
    assert.equal(b.status, 401, b.text);
    assert.deepEqual(b.json, { error: 'invalid_client', error_description: 'Bad client credentials' });
  });

  test('unknown client id → 401 unauthorized "No client with requested id: <id>"', async () => {
    const id = '6f1c2f3e-1111-4aaa-8bbb-123456789abc';
    const r = await identity(srv, { grant_type: 'client_credentials', client_id: id, client_secret: api.secret });
    assert.equal(r.status, 401, r.text);
    assert.deepEqual(r.json, { error: 'unauthorized', error_description: `No client with requested id: ${id}` });
  });

  test('missing client_id or client_secret → 401 invalid_client', async () => {
    for (const params of [
      { grant_type: 'client_credentials', client_secret: api.secret },
      { grant_type: 'client_credentials', client_id: api.clientId },
      { grant_type: 'client_credentials' },
      { grant_type: 'client_credentials', client_id: '', client_secret: '' },
    ]) {
      const r = await identity(srv, params);
      assertOAuthError(r, 401, 'invalid_client', undefined, JSON.stringify(params));
    }
  });

  test('missing grant_type → 400 invalid_request; other grant types → 400 unsupported_grant_type', async () => {
    const { grant_type: _g, ...noGrant } = creds(api);
    assertOAuthError(await identity(srv, noGrant), 400, 'invalid_request', undefined, 'no grant_type');
    assertOAuthError(await identity(srv, { ...noGrant, grant_type: '' }), 400, 'invalid_request', undefined, 'empty grant_type');
    for (const g of ['password', 'authorization_code', 'CLIENT_CREDENTIALS'])
      assertOAuthError(await identity(srv, { ...noGrant, grant_type: g }), 400, 'unsupported_grant_type', undefined, g);
    // the same in a form body
    const r = await call(`${srv.url}/identity/oauth/token`, {
      method: 'POST', headers: { 'Content-Type': FORM_CT }, body: form({ ...noGrant, grant_type: 'password' }),
    });
    assertOAuthError(r, 400, 'unsupported_grant_type', undefined, 'POST grant_type=password');
  });

  test('HTTP Basic with a different client_id in the parameters → 400 invalid_request; with the same one → 200', async () => {
    const other = inst.user('other@example.com').service;
    const diff = await call(`${srv.url}/identity/oauth/token?grant_type=client_credentials&client_id=${other.clientId}`, {
      headers: { Authorization: basic(api.clientId, api.secret) },
    });
    assertOAuthError(diff, 400, 'invalid_request', undefined, 'Basic + another client_id');
    const same = await call(`${srv.url}/identity/oauth/token?grant_type=client_credentials&client_id=${api.clientId}`, {
      headers: { Authorization: basic(api.clientId, api.secret) },
    });
    assertTokenBody(same, 'api@example.com', 'Basic + the same client_id');
    const malformed = await call(`${srv.url}/identity/oauth/token?grant_type=client_credentials`, {
      headers: { Authorization: 'Basic !!!not-base64' },
    });
    assertOAuthError(malformed, 401, 'invalid_client', undefined, 'unreadable Basic header');
  });

  test('malformed requests → 400 invalid_request (repeated parameter, body that is not a form)', async () => {
    const c = creds(api);
    const repeated = `${form(c)}&client_id=${encodeURIComponent(c.client_id)}`;
    assertOAuthError(await call(`${srv.url}/identity/oauth/token?${repeated}`), 400, 'invalid_request', undefined, 'repeated');
    const json = await call(`${srv.url}/identity/oauth/token`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(c),
    });
    assertOAuthError(json, 400, 'invalid_request', undefined, 'JSON body');
  });

  test('locking the owner with the CLI: 401 within a second; unlock: a new token', async () => {
    const svc = inst.user('lock@example.com').service;
    const before = assertTokenBody(await identity(srv, creds(svc)), 'lock@example.com', 'before lock').access_token;
    cli(inst.db, 'user', 'lock', 'lock@example.com', '--reason', 'paused');
    const { value } = await eventually('identity refused after user lock', () => identity(srv, creds(svc)), (r) => r.status === 401);
    assertOAuthError(value, 401, 'invalid_client', undefined, 'locked owner');
    cli(inst.db, 'user', 'unlock', 'lock@example.com');
    const { value: again } = await eventually('identity after unlock', () => identity(srv, creds(svc)), (r) => r.status === 200);
    const after = assertTokenBody(again, 'lock@example.com', 'after unlock').access_token;
    assert.notEqual(after, before, 'the token of before the lock is not handed out again');
  });

  test('deleting the service with the CLI: its credentials get 401 within a second', async () => {
    const svc = inst.user('gone@example.com').service;
    assertTokenBody(await identity(srv, creds(svc)), 'gone@example.com', 'before delete');
    cli(inst.db, 'service', 'delete', svc.name);
    const { value } = await eventually('identity refused after service delete', () => identity(srv, creds(svc)), (r) => r.status === 401);
    assert.ok(['unauthorized', 'invalid_client'].includes(value.json.error), value.text);
  });

  test('identity on methods other than GET/POST → 405 with Allow', async () => {
    const r = await call(`${srv.url}/identity/oauth/token?${form(creds(api))}`, { method: 'PUT' });
    assert.equal(r.status, 405, r.text);
    assert.equal(r.headers.get('allow'), 'GET, POST');
  });

  test('the access log has one line per request and never a secret or a token', async () => {
    // a REST call with the legacy query parameter, so that a token was in a URI too
    const tok = await token(srv, api);
    assertOk(await rest(srv, USAGE, undefined, { query: { access_token: tok } }), 'legacy access_token');
    await rest(srv, USAGE, 'not-a-token');
    const wrong = await identity(srv, { ...creds(api), client_secret: 'WrongSecretWrongSecretWrongSecr1' });
    assert.equal(wrong.status, 401, wrong.text);
    // a secret typed into the client id field never reaches the log
    await identity(srv, { grant_type: 'client_credentials', client_id: api.secret, client_secret: api.secret });
    await sleep(50);
    const log = srv.stderr();
    const id = api.clientId.replace(/-/g, '\\-');
    assert.match(log, new RegExp(`^time=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z level=info msg=request request_id=[0-9a-f]{8}#[0-9a-f]+ addr=127\\.0\\.0\\.1 method=GET path="/identity/oauth/token" status=200 code=- user=api@example\\.com client_id=${id} duration_ms=\\d+(\\.\\d+)?$`, 'm'),
      'time, level, request id, address, method, path, status, Marketo code, user, client id, duration');
    assert.match(log, /^time=\S+ level=info msg=request request_id=\S+ addr=127\.0\.0\.1 method=GET path="\/rest\/v1\/stats\/usage\.json" status=200 code=601 user=- duration_ms=\S+$/m,
      'a 601 is logged with its code');
    assert.match(log, /path="\/identity\/oauth\/token" status=401 code=invalid_client/);
    assert.match(log, new RegExp(`path="/identity/oauth/token" status=401 code=invalid_client user=- client_id=${id} `),
      'a failed token request names the client id it presented');
    assert.match(log, /path="\/rest\/v1\/stats\/usage\.json" status=200 code=- user=api@example\.com/);
    for (const u of inst.users)
      assert.ok(!log.includes(u.service.secret), `the secret of ${u.email} appears in the log`);
    for (const t of new Set([...issued, tok])) assert.ok(!log.includes(t), 'a token appears in the log');
    assert.ok(!log.includes('client_secret'), 'no query string in the log');
  });
});

describe('throttling of failed token requests', { concurrency: true }, () => {
  test('--auth-fail-limit 3: the 4th bad attempt → 429 with Retry-After; the right secret is still accepted', async (t) => {
    const inst = makeInstance(t, { users: ['api@example.com'] });
    const svc = inst.users[0].service;
    const srv = await startServer(t, inst.db, ['--auth-fail-limit', '3', '--auth-fail-window', '60']);
    const bad = { ...creds(svc), client_secret: 'not-the-secret' };
    for (let i = 1; i <= 3; i++) {
      const r = await identity(srv, bad);
      assert.equal(r.status, 401, `attempt ${i}: ${r.text}`);
    }
    const fourth = await identity(srv, bad);
    assert.equal(fourth.status, 429, `4th bad attempt: ${fourth.text}`);
    const retry = Number(fourth.headers.get('retry-after'));
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After: ${fourth.headers.get('retry-after')}`);
    assert.equal(typeof fourth.json.error, 'string');
    assert.equal(typeof fourth.json.error_description, 'string');
    // the secret is checked first: the right one is never refused by the throttle
    const good = await identity(srv, creds(svc));
    assert.equal(good.status, 200, `the right secret from the throttled pair: ${good.text}`);
    assert.match(good.json.access_token, TOKEN_RE);
    assert.equal((await identity(srv, bad)).status, 429, 'the wrong one still is');
    const o = await call(`${srv.url}/oauth2/token`, {
      method: 'POST', headers: { 'Content-Type': FORM_CT, Authorization: basic(svc.clientId, svc.secret) },
      body: form({ grant_type: 'client_credentials' }),
    });
    assert.equal(o.status, 200, `the OAuth 2.0 endpoint likewise: ${o.text}`);
    assert.ok(!srv.stderr().includes(svc.secret), 'secret not in the log');
  });

  test('the throttle ends with its window (--auth-fail-window 3)', async (t) => {
    const inst = makeInstance(t, { users: ['api@example.com'] });
    const svc = inst.users[0].service;
    const srv = await startServer(t, inst.db, ['--auth-fail-limit', '2', '--auth-fail-window', '3']);
    const bad = { ...creds(svc), client_secret: 'wrong' };
    for (let i = 0; i < 2; i++) assert.equal((await identity(srv, bad)).status, 401);
    const r = await identity(srv, bad);
    assert.equal(r.status, 429, r.text);
    const retry = Number(r.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 3, `Retry-After ${r.headers.get('retry-after')}`);
    await sleep(retry * 1000 + 1100);
    const again = await identity(srv, bad);
    assert.equal(again.status, 401, `after the window the failure is counted afresh: ${again.text}`);
  });

  test('ten wrong secrets from elsewhere never refuse the real integration; unknown ids count per address', async (t) => {
    const inst = makeInstance(t, { users: ['a@example.com', 'b@example.com'] });
    const a = inst.user('a@example.com').service;
    const b = inst.user('b@example.com').service;
    const srv = await startServer(t, inst.db, ['--auth-fail-limit', '3', '--auth-fail-window', '60',
      '--trusted-proxies', '127.0.0.1']);
    const from = (ip) => ({ headers: { 'X-Forwarded-For': ip } });
    const bad = { ...creds(a), client_secret: 'nope' };
    // ten failures of client a from ten addresses: none of those pairs reaches the limit
    for (let i = 1; i <= 10; i++)
      assert.equal((await identity(srv, bad, from(`10.0.0.${i}`))).status, 401, `stranger ${i}`);
    // ... and a stranger who keeps trying from one address is throttled there only
    for (let i = 0; i < 3; i++) await identity(srv, bad, from('10.0.0.66'));
    assert.equal((await identity(srv, bad, from('10.0.0.66'))).status, 429, 'the persistent stranger');
    // the real integration, from its own address and from the stranger's
    for (const ip of ['10.0.0.99', '10.0.0.66', '10.0.0.1']) {
      const r = await identity(srv, creds(a), from(ip));
      assert.equal(r.status, 200, `client a with its secret from ${ip}: ${r.text}`);
    }
    assert.equal((await identity(srv, bad, from('10.0.0.99'))).status, 401, 'a wrong secret from a fresh pair: 401');

    // three unknown client ids from one address: that address is throttled for unknown ids
    for (let i = 0; i < 3; i++) {
      const r = await identity(srv, { grant_type: 'client_credentials', client_id: `unknown-${i}`, client_secret: 'x' }, from('10.9.9.9'));
      assert.equal(r.status, 401, r.text);
    }
    const ru = await identity(srv, { grant_type: 'client_credentials', client_id: 'unknown-9', client_secret: 'x' }, from('10.9.9.9'));
    assert.equal(ru.status, 429, `a 4th unknown id from that address: ${ru.text}`);
    assert.ok(ru.headers.get('retry-after'));
    assert.equal((await identity(srv, { grant_type: 'client_credentials', client_id: 'unknown-9', client_secret: 'x' },
      from('10.9.9.8'))).status, 401, 'unknown ids from another address: 401');
    // known clients from that address are not throttled: b's secret works, a wrong one is its own pair
    assert.equal((await identity(srv, creds(b), from('10.9.9.9'))).status, 200, 'client b from the throttled address');
    assert.equal((await identity(srv, { ...creds(b), client_secret: 'x' }, from('10.9.9.9'))).status, 401);
  });

  test('--auth-fail-capacity 16: a full table refuses new failures (429), never lets them through uncounted', async (t) => {
    const inst = makeInstance(t, { users: ['a@example.com'] });
    const a = inst.user('a@example.com').service;
    const srv = await startServer(t, inst.db, ['--auth-fail-limit', '3', '--auth-fail-window', '60',
      '--auth-fail-capacity', '16', '--trusted-proxies', '127.0.0.1']);
    const from = (ip) => ({ headers: { 'X-Forwarded-For': ip } });
    const bad = { ...creds(a), client_secret: 'nope' };
    // 16 failing pairs fill the table
    for (let i = 1; i <= 16; i++)
      assert.equal((await identity(srv, bad, from(`10.1.0.${i}`))).status, 401, `pair ${i}`);
    // a 17th cannot be counted: refused, with Retry-After, rather than answered 401 uncounted
    const full = await identity(srv, bad, from('10.1.0.17'));
    assert.equal(full.status, 429, `a new failing pair while the table is full: ${full.text}`);
    assert.ok(full.headers.get('retry-after'));
    const unknown = await identity(srv, { grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x' },
      from('10.1.0.18'));
    assert.equal(unknown.status, 429, 'an unknown id from a new address too');
    // pairs in the table keep being counted
    for (let i = 0; i < 2; i++) assert.equal((await identity(srv, bad, from('10.1.0.1'))).status, 401);
    assert.equal((await identity(srv, bad, from('10.1.0.1'))).status, 429, 'the 4th failure of a counted pair');
    // and the right secret is accepted from anywhere, full table or not
    const good = await identity(srv, creds(a), from('10.1.0.17'));
    assert.equal(good.status, 200, good.text);
  });
});
