// latchkey serve: call limits (reference §6–7; issue 3 "Limits per instance, and per
// API user"): 606 rate, 607 daily quota, 615 calls in flight, with exact messages;
// per-user limits; which answers count; limits changed with the CLI while the server
// runs. Limits are set with `latchkey limits set` on the server's database.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import {
  QUOTA_TZ, USAGE, assertOk, assertRestError, call, cli, creds, eventually, identity, makeInstance, msToMidnight, raw,
  rest, restCode, startServer, token,
} from './server-lib.mjs';

const rate = (n, s) => `Max rate limit '${n}' exceeded with in '${s}' secs`;

// an instance with the given users, `limits set` args applied, a server, a token per user
async function setup(t, { users = ['api@example.com'], limits = [], userLimits = {}, args = [] } = {}) {
  const inst = makeInstance(t, { users });
  if (limits.length) cli(inst.db, 'limits', 'set', ...limits);
  for (const [email, l] of Object.entries(userLimits)) cli(inst.db, 'limits', 'set', '--user', email, ...l);
  const srv = await startServer(t, inst.db, ['--auth-fail-limit', '1000', ...args]);
  const tokens = {};
  for (const u of inst.users) tokens[u.email] = await token(srv, u.service);
  return { inst, srv, tokens, tok: tokens[users[0]] };
}

describe('limits', { concurrency: true }, () => {
  test('rate 5/20: five calls pass, the 6th → 606 with the exact message; RateLimit headers tell', async (t) => {
    const { srv, tok, inst } = await setup(t, { limits: ['--rate', '5/20'] });
    const remaining = [];
    for (let i = 1; i <= 5; i++) {
      const r = await rest(srv, USAGE, tok);
      assertOk(r, `call ${i}`);
      assert.match(r.headers.get('ratelimit-policy'), /"rate";q=5;w=20/);
      remaining.push(/"rate";r=(\d+)/.exec(r.headers.get('ratelimit'))[1] * 1);
    }
    assert.deepEqual(remaining, [4, 3, 2, 1, 0], 'remaining calls in the window');
    const sixth = await rest(srv, USAGE, tok);
    assertRestError(sixth, 606, rate(5, 20), '6th call');
    assert.match(sixth.headers.get('ratelimit') || '', /"rate";r=0;t=\d+/, 'RateLimit on the 606');
    const reset = Number(/"rate";r=0;t=(\d+)/.exec(sixth.headers.get('ratelimit'))[1]);
    assert.ok(reset >= 1 && reset <= 20, `reset in ${reset} s`);
    assertRestError(await rest(srv, '/rest/v1/stats/errors.json', tok), 606, rate(5, 20), 'every route shares the window');
    const metrics = (await call(`${srv.url}/metrics`)).text;
    assert.match(metrics, /^latchkey_limit_rejections_total\{limit="rate"\} 2$/m, 'two rate rejections in /metrics');
    // identity still answers: identity calls never count and are never limited
    assert.equal((await identity(srv, creds(inst.users[0].service))).status, 200);
  });

  test('answers 601 and 605, and identity calls, do not count', async (t) => {
    const { srv, tok, inst } = await setup(t, { limits: ['--rate', '5/20'] });
    for (let i = 0; i < 20; i++) assertRestError(await rest(srv, USAGE, `garbage${i}`), 601);
    for (let i = 0; i < 5; i++) assertRestError(await rest(srv, USAGE), 601);
    for (let i = 0; i < 5; i++) assertRestError(await rest(srv, USAGE, tok, { method: 'POST' }), 605);
    for (let i = 0; i < 5; i++) assert.equal((await identity(srv, creds(inst.users[0].service))).status, 200);
    for (let i = 1; i <= 5; i++) assertOk(await rest(srv, USAGE, tok), `valid call ${i} after the uncounted ones`);
    assertRestError(await rest(srv, USAGE, tok), 606, rate(5, 20), '6th valid call');
  });

  test('answers 610 count against the rate limit (only 601, 602, 604, 605, 608, 611 do not)', async (t) => {
    const { srv, tok } = await setup(t, { limits: ['--rate', '5/20'] });
    for (let i = 1; i <= 4; i++)
      assertRestError(await rest(srv, '/rest/v1/no-such-resource.json', tok), 610, 'Requested resource not found', `610 #${i}`);
    // the usage statistics count the four 610 answers as calls of the user...
    const [today] = assertOk(await rest(srv, USAGE, tok), '5th counted call');
    assert.equal(today.total, 4, 'usage counts the 610 answers');
    // ...so the rate limit must have counted them too: this is the 6th call in the window
    assertRestError(await rest(srv, USAGE, tok), 606, rate(5, 20), 'the 6th counted call (four 610s, one 200, this one)');
  });

  test('daily quota 8: the 9th call → 607 "Daily quota reached"', async (t) => {
    const { srv, tok } = await setup(t, { limits: ['--rate', '0', '--daily', '8'] });
    for (let i = 1; i <= 8; i++) {
      const r = await rest(srv, USAGE, tok);
      assertOk(r, `call ${i}`);
      assert.match(r.headers.get('ratelimit-policy'), /"daily";q=8;w=86400/);
      assert.ok(!/"rate"/.test(r.headers.get('ratelimit-policy')), 'no rate policy when the rate limit is off');
      assert.match(r.headers.get('ratelimit'), new RegExp(`"daily";r=${8 - i};t=\\d+`));
    }
    const ninth = await rest(srv, USAGE, tok);
    assertRestError(ninth, 607, 'Daily quota reached', '9th call');
    assertRestError(await rest(srv, USAGE, tok), 607, 'Daily quota reached', '10th call');
    // the day ends at the next midnight US Central time (quota_tz defaults to America/Chicago, as Marketo's)
    const t607 = Number(/"daily";r=0;t=(\d+)/.exec(ninth.headers.get('ratelimit'))[1]);
    const left = msToMidnight(QUOTA_TZ) / 1000;
    assert.ok(Math.abs(left - t607) <= 3, `daily reset in ${t607} s, midnight in Chicago in ${left} s`);
  });

  test('per-user limits apply only to that user\'s tokens', async (t) => {
    const { srv, tokens } = await setup(t, {
      users: ['fast@example.com', 'capped@example.com', 'free@example.com'],
      userLimits: { 'fast@example.com': ['--rate', '3/20'], 'capped@example.com': ['--daily', '2'] },
    });
    for (let i = 1; i <= 3; i++) assertOk(await rest(srv, USAGE, tokens['fast@example.com']), `fast ${i}`);
    const f = await rest(srv, USAGE, tokens['fast@example.com']);
    assertRestError(f, 606, rate(3, 20), 'fast@ 4th call');
    assert.match(f.headers.get('ratelimit-policy'), /"rate";q=3;w=20/, 'the stricter (user) policy is shown');
    for (let i = 1; i <= 2; i++) assertOk(await rest(srv, USAGE, tokens['capped@example.com']), `capped ${i}`);
    assertRestError(await rest(srv, USAGE, tokens['capped@example.com']), 607, 'Daily quota reached', 'capped@ 3rd call');
    for (let i = 1; i <= 10; i++) assertOk(await rest(srv, USAGE, tokens['free@example.com']), `free ${i}`);
  });

  test('limits changed with the CLI while the server runs take effect within a second', async (t) => {
    const { srv, tok, inst } = await setup(t);
    for (let i = 0; i < 3; i++) assertOk(await rest(srv, USAGE, tok));
    cli(inst.db, 'limits', 'set', '--rate', '5/20');
    const { value } = await eventually('the new rate policy', () => rest(srv, USAGE, tok),
      (r) => /"rate";q=5;w=20/.test(r.headers.get('ratelimit-policy') || ''));
    // the calls made so far in the window count: after the remaining ones, 606
    if (restCode(value) !== '606') {
      const left = Number(/"rate";r=(\d+)/.exec(value.headers.get('ratelimit'))[1]);
      assert.ok(left <= 1, `at least 4 calls in the window already: ${value.headers.get('ratelimit')}`);
      for (let i = 0; i < left; i++) assertOk(await rest(srv, USAGE, tok), 'within the new limit');
      assertRestError(await rest(srv, USAGE, tok), 606, rate(5, 20), 'after lowering the rate');
    } else {
      assertRestError(value, 606, rate(5, 20), 'after lowering the rate');
    }
    // a per-user limit added while running, on a user without any
    cli(inst.db, 'limits', 'set', '--rate', '0');
    await eventually('rate limit removed', () => rest(srv, USAGE, tok), (r) => restCode(r) === 'ok');
    cli(inst.db, 'limits', 'set', '--user', 'api@example.com', '--daily', '1');
    await eventually('per-user daily quota', () => rest(srv, USAGE, tok), (r) => restCode(r) === '607');
  });

  test('concurrency limit 1: a burst of simultaneous calls gets 615 "Concurrent access limit \'1\' reached" and 200s', async (t) => {
    // bursts of 40 new connections, one after the other: the server may still hold the
    // last burst's closed ones, so the per-address connection cap (64) is lifted here
    const { srv, tok } = await setup(t, { limits: ['--rate', '0', '--daily', '0', '--concurrent', '1'],
      args: ['--per-ip-connection-limit', '0'] });
    const counts = {};
    const deadline = Date.now() + 10_000;
    let seen615;
    let bursts = 0;
    while (!seen615 && Date.now() < deadline) {
      bursts++;
      const agent = new http.Agent({ keepAlive: false, maxSockets: 40 });
      const rs = await Promise.all(Array.from({ length: 40 }, () =>
        raw(srv, { path: USAGE, headers: { Authorization: `Bearer ${tok}` }, agent })));
      agent.destroy();
      for (const r of rs) {
        const c = restCode(r);
        counts[c] = (counts[c] || 0) + 1;
        if (c === '615') seen615 = r;
      }
    }
    assert.ok(seen615, `no 615 in ${bursts} bursts of 40: ${JSON.stringify(counts)}`);
    assertRestError(seen615, 615, "Concurrent access limit '1' reached");
    assert.ok(counts.ok > 0, `some calls pass: ${JSON.stringify(counts)}`);
    assert.deepEqual(Object.keys(counts).filter((c) => c !== 'ok' && c !== '615'), [], `only 200 and 615: ${JSON.stringify(counts)}`);
    const metrics = (await call(`${srv.url}/metrics`)).text;
    assert.match(metrics, new RegExp(`^latchkey_limit_rejections_total\\{limit="concurrent"\\} ${counts['615']}$`, 'm'), 'concurrent rejections in /metrics');
    // and once the burst is over, a call passes again
    assertOk(await rest(srv, USAGE, tok), 'after the burst');
  });
});
