// node-marketo-rest (the client of marketo-client.test.mjs, unchanged) against a team's
// Marketo-compatible API behind Debian's nginx, latchkey deciding every call with
// Marketo's route map (`latchkey route import marketo`) through the gateway configuration
// of contrib/nginx. The library is configured as for Marketo, with the gateway's URLs:
//   endpoint: http://127.0.0.1:NGINX/rest   identity: http://127.0.0.1:NGINX/identity
// Its calls to /rest/v1/leads.json reach the upstream (tests/e2e/gateway/upstream.py,
// which answers in Marketo's envelope with what it was given); the refusals it meets
// come from latchkey's auth check, rendered by nginx in Marketo's envelope, and the
// library reacts to them as it does to Marketo's: re-authentication on 601/602, backoff
// on 606, rejection on 603/607. The tests count the auth check's answers in latchkey's
// access log; they never assert timings.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Marketo from 'node-marketo-rest';
import { avoidMidnight, cli, eventually, makeInstance, sleep, startServer } from '../server-lib.mjs';
import { send, startNginx, startUpstream } from '../gateway-lib.mjs';

const EMAIL = 'marketo-gateway@example.com';
const CALL_TIMEOUT_MS = 30_000;

// latchkey trusting nginx, the upstream, nginx in front: `limits` before latchkey starts
async function setup(t, { limits = [], args = [], perms = ['Read-Only Lead'] } = {}) {
  const inst = makeInstance(t, { users: [EMAIL], perms });
  if (limits.length) cli(inst.db, 'limits', 'set', ...limits);
  cli(inst.db, 'route', 'import', 'marketo');
  const srv = await startServer(t, inst.db, ['--auth-fail-limit', '1000', '--trusted-proxies', '127.0.0.1', ...args]);
  const up = await startUpstream(t);
  const gw = await startNginx(t, { latchkey: srv.port, upstream: up.port });
  return { inst, srv, up, gw, svc: inst.user(EMAIL).service };
}

function marketo(gw, svc, retry = { initialDelay: 50, maxDelay: 500, maxRetries: 3 }, secret = svc.secret) {
  return new Marketo({
    endpoint: `${gw.url}/rest`, identity: `${gw.url}/identity`, clientId: svc.clientId, clientSecret: secret,
    timeout: CALL_TIMEOUT_MS, retry,
  });
}

function bounded(promise, what, ms = CALL_TIMEOUT_MS) {
  let timer;
  return Promise.race([
    Promise.resolve(promise).finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); }),
  ]);
}
const rejection = (promise, what) => bounded(promise.then(() => assert.fail(`${what}: resolved, a rejection was expected`), (e) => e), what);

// the auth check's refusals with this code in latchkey's access log; its token answers
const checkLines = (srv, code) => (srv.stderr().match(new RegExp(`path="/auth/check" status=40[13] code=${code} `, 'g')) || []).length;
const identityLines = (srv) => (srv.stderr().match(/path="\/identity\/oauth\/token" status=200 /g) || []).length;
async function logShows(srv, what, count, pred) {
  await eventually(what, async () => count(srv), pred, { timeoutMs: 5000 });
  return count(srv);
}

// a lead search the upstream answered: what reached it
function reached(data, what) {
  assert.equal(data.success, true, `${what}: ${JSON.stringify(data)}`);
  assert.equal(data.requestId, 'up#1', `${what}: the upstream's answer`);
  return data.result[0];
}
const findLeads = (m, what) => bounded(m.lead.find('email', ['a@example.com', 'b@example.com']), what);

describe('node-marketo-rest through nginx, latchkey deciding with Marketo\'s route map', { concurrency: true }, () => {
  test('authenticates at the gateway\'s /identity, reads leads from the upstream, and its usage is counted', async (t) => {
    await avoidMidnight();
    const { srv, up, gw, svc } = await setup(t);
    const m = marketo(gw, svc);
    const seen = reached(await findLeads(m, 'lead.find'), 'lead.find');
    assert.equal(seen.method, 'GET');
    assert.match(seen.target, /^\/rest\/v1\/leads\.json\?/);
    assert.equal(new URL(seen.target, 'http://x').searchParams.get('filterValues'), 'a@example.com,b@example.com');
    assert.equal(seen.headers['x-latchkey-user'], EMAIL);
    assert.equal(seen.headers['x-latchkey-client-id'], svc.clientId);
    assert.equal(seen.headers.authorization, undefined, 'the token stays at the gateway');
    reached(await bounded(m.lead.describe(), 'lead.describe'), 'lead.describe');
    assert.deepEqual(up.calls().map((c) => c.split('?')[0]), ['GET /rest/v1/leads.json', 'GET /rest/v1/leads/describe.json']);
    // the usage statistics through the same gateway: two calls of this API user
    const usage = await bounded(m.stats.usage(), 'stats.usage');
    assert.equal(usage.success, true, JSON.stringify(usage));
    assert.deepEqual(usage.result[0].users, [{ userId: EMAIL, count: 2 }], JSON.stringify(usage));
    assert.equal(await logShows(srv, 'one token request', identityLines, (n) => n >= 1), 1, 'one token for all calls');
    assert.equal(checkLines(srv, '\\d+'), 0, 'no refusal at all');
  });

  test('603: a write its role does not allow is refused in Marketo\'s envelope and never reaches the upstream', async (t) => {
    const { up, gw, svc } = await setup(t);
    const m = marketo(gw, svc);
    const err = await rejection(m.lead.createOrUpdate([{ email: 'new@example.com' }]), 'lead.createOrUpdate');
    assert.equal(err.name, 'HttpError', String(err));
    assert.equal(err.code, 200, 'HTTP 200, as Marketo');
    assert.deepEqual(err.errors, [{ code: '603', message: 'Access denied' }]);
    assert.deepEqual(up.calls(), [], 'the upstream saw nothing');
  });

  test('601: after the secret was rotated it re-authenticates at the gateway and retries', async (t) => {
    const { srv, gw, svc, inst } = await setup(t);
    const m = marketo(gw, svc);
    reached(await findLeads(m, 'first call'), 'first call');
    const before = (await bounded(m.getOAuthToken(), 'token')).access_token;
    cli(inst.db, 'service', 'rotate-secret', svc.name, '--grace', '600');
    await eventually('the old token is refused at the gateway', () => send(gw.url, { target: '/rest/v1/leads.json',
      headers: { Authorization: `Bearer ${before}` } }), (r) => r.json?.errors?.[0]?.code === '601');
    const seen601 = await logShows(srv, 'the probe\'s 601', (s) => checkLines(s, 601), (n) => n >= 1);
    const tokensBefore = identityLines(srv);
    reached(await findLeads(m, 'call after rotation'), 'call after rotation');
    assert.equal(await logShows(srv, 'the library got a 601', (s) => checkLines(s, 601), (n) => n > seen601), seen601 + 1);
    assert.ok(await logShows(srv, 'a new token', identityLines, (n) => n > tokensBefore) > tokensBefore);
    assert.notEqual((await bounded(m.getOAuthToken(), 'token')).access_token, before);
  });

  test('602: when its token expired (--token-ttl 3) it re-authenticates and retries', async (t) => {
    const { srv, gw, svc } = await setup(t, { args: ['--token-ttl', '3'] });
    const m = marketo(gw, svc);
    reached(await findLeads(m, 'first call'), 'first call');
    const tok = await bounded(m.getOAuthToken(), 'token');
    await sleep((tok.expires_in + 1) * 1000);
    const tokensBefore = identityLines(srv);
    reached(await findLeads(m, 'call after expiry'), 'call after expiry');
    assert.ok(await logShows(srv, 'the library got a 602', (s) => checkLines(s, 602), (n) => n >= 1) >= 1);
    assert.ok(await logShows(srv, 'a new token', identityLines, (n) => n > tokensBefore) > tokensBefore);
  });

  test('606: over the rate limit (2 calls / 5 s) it backs off and the call reaches the upstream', async (t) => {
    const { srv, up, gw, svc } = await setup(t, { limits: ['--rate', '2/5'] });
    const m = marketo(gw, svc, { initialDelay: 50, maxDelay: 6000, maxRetries: 3 });
    reached(await findLeads(m, 'call 1'), 'call 1');
    reached(await findLeads(m, 'call 2'), 'call 2');
    reached(await findLeads(m, 'call 3 (backs off, then succeeds)'), 'call 3');
    assert.ok(await logShows(srv, 'the library got a 606', (s) => checkLines(s, 606), (n) => n >= 1) >= 1);
    assert.equal(up.calls().length, 3, 'each call reached the upstream once');
  });

  test('607 daily quota: not retried, the caller gets "Daily quota reached"', async (t) => {
    await avoidMidnight();
    const { srv, gw, svc } = await setup(t, { limits: ['--rate', '0', '--daily', '2'] });
    const m = marketo(gw, svc);
    reached(await findLeads(m, 'call 1'), 'call 1');
    reached(await findLeads(m, 'call 2'), 'call 2');
    const err = await rejection(findLeads(m, 'call 3'), 'call 3 over the quota');
    assert.deepEqual(err.errors, [{ code: '607', message: 'Daily quota reached' }]);
    assert.equal(await logShows(srv, 'the 607', (s) => checkLines(s, 607), (n) => n >= 1), 1, 'asked once');
  });
});
