// latchkey serve with a real Marketo REST client: node-marketo-rest (MadKudu's
// node-marketo), unchanged, configured exactly as its README says for a Marketo
// instance, only with latchkey's URLs:
//   endpoint: http://127.0.0.1:PORT/rest   identity: http://127.0.0.1:PORT/identity
//
// What the library does (lib/connection.js, lib/retry.js, lib/errors.js of 0.7.8):
// - authenticates with GET {identity}/oauth/token?grant_type=client_credentials&client_id&client_secret
//   and sends "Authorization: Bearer" on every REST call;
// - on 601 or 602 asks for a new token and retries the call (after its backoff delay);
// - on 606 waits `retry.maxDelay` (default 20 s, Marketo's window), then retries with
//   exponential backoff, `retry.maxRetries` times (default 5), then rejects with the 606;
// - retries 604/608/611, HTTP 5xx and network errors; does not retry anything else
//   (607, 610, ...): the promise rejects with an HttpError carrying Marketo's errors[].
// It never reads the RateLimit headers nor expires_in. The tests use small retry delays
// (and a server with small limits) so that they stay short; they assert what the server
// saw in its access log, never how long anything took.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Marketo from 'node-marketo-rest';
import {
  USAGE, assertRestError, avoidMidnight, cli, dayQuota, eventually, makeInstance, rest, sleep, startServer,
} from '../server-lib.mjs';

const EMAIL = 'marketo-client@example.com';
const CALL_TIMEOUT_MS = 30_000;

// a server on its own database: `limits` for `latchkey limits set` before it starts
async function setup(t, { limits = [], args = [] } = {}) {
  const inst = makeInstance(t, { users: [EMAIL] });
  if (limits.length) cli(inst.db, 'limits', 'set', ...limits);
  const srv = await startServer(t, inst.db, ['--auth-fail-limit', '1000', ...args]);
  return { inst, srv, svc: inst.user(EMAIL).service };
}

// the client as its README configures it, with latchkey's URLs
function marketo(srv, svc, retry = { initialDelay: 50, maxDelay: 500, maxRetries: 3 }, secret = svc.secret) {
  return new Marketo({
    endpoint: `${srv.url}/rest`,
    identity: `${srv.url}/identity`,
    clientId: svc.clientId,
    clientSecret: secret,
    timeout: CALL_TIMEOUT_MS,
    retry,
  });
}

// every library promise is bounded
function bounded(promise, what, ms = CALL_TIMEOUT_MS) {
  let timer;
  return Promise.race([
    Promise.resolve(promise).finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); }),
  ]);
}
const rejection = (promise, what, ms) => bounded(promise.then(() => assert.fail(`${what}: resolved, a rejection was expected`), (e) => e), what, ms);

// access-log lines of the server: REST answers with a Marketo code, identity answers
const restLines = (srv, code) => (srv.stderr().match(new RegExp(`path="/rest/[^"]*" status=200 code=${code} `, 'g')) || []).length;
const identityLines = (srv) => (srv.stderr().match(/path="\/identity\/oauth\/token" status=200 /g) || []).length;
// the access log is written as each answer goes out: wait (bounded) until it shows n lines
async function logShows(srv, what, count, pred) {
  await eventually(what, async () => count(srv), pred, { timeoutMs: 5000 });
  return count(srv);
}

function assertSuccess(data, what) {
  assert.equal(data.success, true, `${what}: ${JSON.stringify(data)}`);
  assert.match(data.requestId, /^[0-9a-f]+#[0-9a-f]+$/, `${what}: requestId`);
  assert.ok(Array.isArray(data.result), `${what}: result`);
  return data.result;
}

describe('node-marketo-rest against latchkey', { concurrency: true }, () => {
  test('authenticates at /identity and reads the usage statistics through its stats API', async (t) => {
    await avoidMidnight();
    const { srv, svc } = await setup(t);
    const m = marketo(srv, svc);
    const calls = [];
    m.on('apiCall', (e) => calls.push(e.apiCallCount));

    const usage = assertSuccess(await bounded(m.stats.usage(), 'stats.usage'), 'stats.usage');
    assert.equal(usage.length, 1);
    assert.equal(usage[0].date, dayQuota(), 'today, in quota_tz (America/Chicago by default)');
    const week = assertSuccess(await bounded(m.stats.usageLast7Days(), 'stats.usageLast7Days'), 'usageLast7Days');
    assert.equal(week.length, 7);
    assertSuccess(await bounded(m.stats.errors(), 'stats.errors'), 'stats.errors');
    assertSuccess(await bounded(m.stats.errorsLast7Days(), 'stats.errorsLast7Days'), 'errorsLast7Days');
    // the library's generic request method reaches the same endpoint
    const again = assertSuccess(await bounded(m._connection.get('/v1/stats/usage.json'), '_connection.get'), 'generic get');
    // four counted calls before this one, all by this API user
    assert.deepEqual(again[0].users, [{ userId: EMAIL, count: 4 }], JSON.stringify(again));
    assert.equal(calls.length, 5, 'five library calls');
    assert.equal(await logShows(srv, 'one token request', identityLines, (n) => n >= 1), 1, 'one token for all calls');

    // the token the library holds is latchkey's Marketo-shaped identity answer
    const tok = await bounded(m.getOAuthToken(), 'getOAuthToken');
    assert.equal(tok.token_type, 'bearer');
    assert.equal(tok.scope, EMAIL);
    assert.ok(tok.expires_in > 0 && tok.expires_in <= 3600, JSON.stringify(tok));
    assert.equal(restLines(srv, '\\d+'), 0, 'no REST error at all');
  });

  test('601: after the secret was rotated (with a grace period) it re-authenticates and retries', async (t) => {
    const { srv, svc, inst } = await setup(t);
    const m = marketo(srv, svc);
    assertSuccess(await bounded(m.stats.usage(), 'first call'), 'first call');
    const before = (await bounded(m.getOAuthToken(), 'token')).access_token;
    // zero-downtime rotation: tokens die at once, the old secret keeps working for 10 minutes
    cli(inst.db, 'service', 'rotate-secret', svc.name, '--grace', '600');
    await eventually('the old token is revoked', () => rest(srv, USAGE, before), (r) => r.json?.errors?.[0]?.code === '601');
    const seen601 = await logShows(srv, 'the probe\'s 601', (s) => restLines(s, 601), (n) => n >= 1);
    const tokensBefore = identityLines(srv);

    const data = await bounded(m.stats.usage(), 'call after rotation');
    assertSuccess(data, 'call after rotation');
    assert.equal(await logShows(srv, 'the library got a 601', (s) => restLines(s, 601), (n) => n > seen601), seen601 + 1,
      'the library\'s call was answered 601 once');
    assert.ok(await logShows(srv, 'a new token request', identityLines, (n) => n > tokensBefore) > tokensBefore, 'it asked for a new token');
    const after = (await bounded(m.getOAuthToken(), 'token')).access_token;
    assert.notEqual(after, before, 'it holds a new token');
    assertSuccess((await rest(srv, USAGE, after)).json, 'the new token works');
  });

  test('602: when its token expired (--token-ttl 3) it re-authenticates and retries', async (t) => {
    const { srv, svc } = await setup(t, { args: ['--token-ttl', '3'] });
    const m = marketo(srv, svc);
    assertSuccess(await bounded(m.stats.usage(), 'first call'), 'first call');
    const tok = await bounded(m.getOAuthToken(), 'token');
    assert.ok(tok.expires_in >= 1 && tok.expires_in <= 3, JSON.stringify(tok));
    await sleep((tok.expires_in + 1) * 1000); // past its expiry; the library does not look at expires_in
    const tokensBefore = identityLines(srv);

    assertSuccess(await bounded(m.stats.usage(), 'call after expiry'), 'call after expiry');
    assert.ok(await logShows(srv, 'the library got a 602', (s) => restLines(s, 602), (n) => n >= 1) >= 1, '602 on the first use after expiry');
    assert.ok(await logShows(srv, 'a new token request', identityLines, (n) => n > tokensBefore) > tokensBefore, 'it asked for a new token');
    assert.notEqual((await bounded(m.getOAuthToken(), 'token')).access_token, tok.access_token);
  });

  test('606: over the rate limit (2 calls / 5 s) it backs off and the call succeeds', async (t) => {
    const { srv, svc } = await setup(t, { limits: ['--rate', '2/5'] });
    // maxDelay is the library's wait after a 606 (20 s by default, Marketo's window); here it
    // is longer than this server's 5 s window, so the retry lands in a fresh window
    const m = marketo(srv, svc, { initialDelay: 50, maxDelay: 6000, maxRetries: 3 });
    assertSuccess(await bounded(m.stats.usage(), 'call 1'), 'call 1');
    assertSuccess(await bounded(m.stats.usage(), 'call 2'), 'call 2');
    // what the server tells a caller that is over the limit (the library does not read it)
    const probe = await rest(srv, USAGE, (await bounded(m.getOAuthToken(), 'token')).access_token);
    assertRestError(probe, 606, "Max rate limit '2' exceeded with in '5' secs", 'a direct third call');
    const waitS = Number(/"rate";r=0;t=(\d+)/.exec(probe.headers.get('ratelimit') || '')?.[1]);
    assert.ok(waitS >= 1 && waitS <= 5, `RateLimit says when: ${probe.headers.get('ratelimit')}`);

    const data = await bounded(m.stats.usage(), 'call 3 (backs off, then succeeds)');
    const result = assertSuccess(data, 'call 3');
    const n606 = await logShows(srv, 'the library got a 606', (s) => restLines(s, 606), (n) => n >= 2);
    assert.ok(n606 >= 2, 'the probe and the library were both answered 606');
    // the 606 answers count, as in Marketo: the calls before the retry are all in today's usage
    assert.ok(result[0].users[0].count >= 4, JSON.stringify(result));
  });

  test('606 that does not clear: after its retries it rejects with Marketo\'s exact error', async (t) => {
    const { srv, svc } = await setup(t, { limits: ['--rate', '1/600'] });
    const m = marketo(srv, svc, { initialDelay: 50, maxDelay: 100, maxRetries: 2 });
    assertSuccess(await bounded(m.stats.usage(), 'call 1'), 'call 1');
    const err = await rejection(m.stats.usage(), 'call 2 over the limit');
    assert.equal(err.name, 'HttpError', String(err));
    assert.equal(err.code, 200, 'HTTP 200, as Marketo');
    assert.deepEqual(err.errors, [{ code: '606', message: "Max rate limit '1' exceeded with in '600' secs" }]);
    assert.equal(err.message, "Max rate limit '1' exceeded with in '600' secs");
    assert.ok(await logShows(srv, 'the retries', (s) => restLines(s, 606), (n) => n >= 2) >= 2, 'it retried before giving up');
  });

  test('607 daily quota: not retried, the caller gets "Daily quota reached"', async (t) => {
    await avoidMidnight();
    const { srv, svc } = await setup(t, { limits: ['--rate', '0', '--daily', '2'] });
    const m = marketo(srv, svc);
    assertSuccess(await bounded(m.stats.usage(), 'call 1'), 'call 1');
    assertSuccess(await bounded(m.stats.usage(), 'call 2'), 'call 2');
    const err = await rejection(m.stats.usage(), 'call 3 over the quota');
    assert.deepEqual(err.errors, [{ code: '607', message: 'Daily quota reached' }]);
    // the library rejects only once it has given up: one 607 in the log means no retry
    assert.equal(await logShows(srv, 'the 607', (s) => restLines(s, 607), (n) => n >= 1), 1, 'asked once');
  });

  test('a wrong secret: the OAuth error body of the identity endpoint reaches the caller', async (t) => {
    const { srv, svc } = await setup(t);
    const m = marketo(srv, svc, undefined, 'not-the-secret');
    const err = await rejection(m.stats.usage(), 'call with a wrong secret');
    assert.equal(err.message, 'Authentication (invalid_client): Bad client credentials');
    assert.equal(restLines(srv, '\\d+'), 0, 'no REST call was made');
  });
});
