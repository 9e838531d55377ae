// Limits across processes (issue 12, docs/server.md#limits-across-processes): three
// `latchkey serve` processes on one database share the instance's and a user's rate
// limit, daily quota and calls in flight within the stated bound — the limit plus one
// slice per process (a slice: 1/20 of the smallest limit in force, at least 1) — and
// the in-flight calls of a process that stopped reporting are given back once its
// rows age out (3 s).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nowSec, sql } from './lib.mjs';
import {
  USAGE, call, cli, creds, eventually, identity, makeInstance, rest, restCode, sleep, startServer, token,
} from './server-lib.mjs';

const PROCESSES = 3;
const boundOf = (limit) => limit + PROCESSES * Math.max(1, Math.ceil(limit / 20));

async function servers(t, db, n = PROCESSES) {
  const list = [];
  for (let i = 0; i < n; i++) list.push(await startServer(t, db, ['--auth-fail-limit', '1000']));
  return list;
}

// calls spread over the processes in turn, `gap` ms apart, for about `ms`: the
// answers' codes counted
async function spread(list, tok, { ms = 3000, gap = 40 } = {}) {
  const counts = {};
  const end = Date.now() + ms;
  for (let i = 0; Date.now() < end; i++) {
    const r = await rest(list[i % list.length], USAGE, tok);
    const c = restCode(r);
    counts[c] = (counts[c] ?? 0) + 1;
    await sleep(gap);
  }
  return counts;
}

describe('limits across three processes on one database', { concurrency: true }, () => {
  test('the instance rate limit 5/20 s lets at most the bound through across three processes', async (t) => {
    const inst = makeInstance(t);
    cli(inst.db, 'limits', 'set', '--rate', '5/20', '--daily', '0', '--concurrent', '0');
    const list = await servers(t, inst.db);
    const tok = await token(list[0], inst.users[0].service);
    const counts = await spread(list, tok);
    t.diagnostic(`instance rate 5/20 s: ${JSON.stringify(counts)}`);
    assert.ok(counts.ok <= boundOf(5), `at most ${boundOf(5)} calls through: ${JSON.stringify(counts)}`);
    assert.ok(counts.ok >= 5, `the budget is usable across processes: ${JSON.stringify(counts)}`);
    assert.deepEqual(Object.keys(counts).filter((c) => c !== 'ok' && c !== '606'), [], JSON.stringify(counts));
    // the processes publish their counts in the database, each under its own id
    const ids = sql(inst.db, "SELECT DISTINCT process FROM limit_counts WHERE scope = '' AND kind = 'c'");
    assert.equal(ids.length, PROCESSES, JSON.stringify(ids));
    // and each sees the two others (/metrics)
    for (const [i, s] of list.entries()) {
      const m = (await call(`${s.url}/metrics`)).text;
      assert.match(m, /^latchkey_peers 2$/m, `process ${i + 1}: ${m.split('\n').filter((l) => l.startsWith('latchkey_peers'))}`);
    }
  });

  test('the daily quota 5 holds across three processes, and a user\'s own rate limit too', async (t) => {
    const inst = makeInstance(t, { users: ['a@example.com', 'b@example.com'] });
    cli(inst.db, 'limits', 'set', '--rate', '0', '--daily', '5', '--concurrent', '0');
    cli(inst.db, 'limits', 'set', '--user', 'b@example.com', '--rate', '3/30');
    const list = await servers(t, inst.db);
    const ta = await token(list[0], inst.user('a@example.com').service);
    const daily = await spread(list, ta, { ms: 2500 });
    t.diagnostic(`daily 5: ${JSON.stringify(daily)}`);
    assert.ok(daily.ok <= boundOf(5), `daily: at most ${boundOf(5)}: ${JSON.stringify(daily)}`);
    assert.ok(daily.ok >= 5, `daily: the quota is usable: ${JSON.stringify(daily)}`);
    assert.deepEqual(Object.keys(daily).filter((c) => c !== 'ok' && c !== '607'), [], JSON.stringify(daily));
    // every process refuses now
    for (const s of list) assert.equal(restCode(await rest(s, USAGE, ta)), '607');
  });

  test('a user\'s rate limit 3/30 across three processes', async (t) => {
    const inst = makeInstance(t, { users: ['b@example.com'] });
    cli(inst.db, 'limits', 'set', '--rate', '0', '--daily', '0', '--concurrent', '0');
    cli(inst.db, 'limits', 'set', '--user', 'b@example.com', '--rate', '3/30');
    const list = await servers(t, inst.db);
    const tb = await token(list[1], inst.users[0].service);
    const counts = await spread(list, tb, { ms: 2500 });
    t.diagnostic(`user rate 3/30 s: ${JSON.stringify(counts)}`);
    assert.ok(counts.ok <= boundOf(3) && counts.ok >= 3, `user rate: between 3 and ${boundOf(3)}: ${JSON.stringify(counts)}`);
    assert.deepEqual(Object.keys(counts).filter((c) => c !== 'ok' && c !== '606'), [], JSON.stringify(counts));
  });

  test('calls in flight: another process\'s are counted, and given back when it stops reporting', async (t) => {
    const inst = makeInstance(t);
    cli(inst.db, 'limits', 'set', '--rate', '0', '--daily', '0', '--concurrent', '2');
    const [p] = await servers(t, inst.db, 1);
    const tok = await token(p, inst.users[0].service);
    assert.equal(restCode(await rest(p, USAGE, tok)), 'ok');
    // a process that vanished (kill -9) with 2 calls in flight: its last report, which
    // stays fresh for 2 s more and then ages out like any silent process's
    const at = nowSec() + 2;
    sql(inst.db, `INSERT INTO limit_counts (scope, kind, bucket, process, n, at) VALUES
      ('', 'c', 0, 'vanished', 1, ${at}), ('i', 'c', 0, 'vanished', 2, ${at})`);
    const busy = await eventually('its calls in flight are counted', () => rest(p, USAGE, tok),
      (r) => restCode(r) === '615', { timeoutMs: 3000, intervalMs: 50 });
    assert.equal(busy.value.json.errors[0].message, "Concurrent access limit '2' reached");
    // reclaimed: once its report is older than 3 s, the slots are free again
    await eventually('its slots given back', () => rest(p, USAGE, tok), (r) => restCode(r) === 'ok',
      { timeoutMs: 10_000, intervalMs: 100 });
  });

  test('stats answer the totals of all processes, the same from each within the stated lag', async (t) => {
    const inst = makeInstance(t, { users: ['a@example.com', 'b@example.com'] });
    cli(inst.db, 'limits', 'set', '--rate', '0', '--daily', '0', '--concurrent', '0');
    const list = await servers(t, inst.db);
    const ta = await token(list[0], inst.user('a@example.com').service);
    const tb = await token(list[0], inst.user('b@example.com').service);
    const plan = [2, 3, 1]; // a's calls on process 1, 2, 3
    for (const [i, n] of plan.entries())
      for (let k = 0; k < n; k++) assert.equal(restCode(await rest(list[i], '/rest/v1/stats/errors.json', ta)), 'ok');
    assert.equal(restCode(await rest(list[2], '/rest/v1/leads.json', ta)), '610'); // a counted call, and a 610
    const countOf = (r, email) => (r.json.result[0].users.find((u) => u.userId === email) ?? { count: 0 }).count;
    const errorOf = (r, code) => (r.json.result[0].errors.find((e) => e.errorCode === code) ?? { count: 0 }).count;
    for (const [i, s] of list.entries()) {
      const { elapsed } = await eventually(`a's 7 calls in the stats of process ${i + 1}`, () => rest(s, USAGE, tb),
        (r) => restCode(r) === 'ok' && countOf(r, 'a@example.com') === 7, { timeoutMs: 5000, intervalMs: 100 });
      t.diagnostic(`process ${i + 1}: a's calls of the other processes seen after ${elapsed} ms`);
      await eventually(`the 610 in the errors of process ${i + 1}`, () => rest(s, '/rest/v1/stats/errors.json', tb),
        (r) => restCode(r) === 'ok' && errorOf(r, '610') === 1, { timeoutMs: 5000, intervalMs: 100 });
    }
  });

  test('a token-endpoint throttle tripped on one process holds on another; the right secret still works there', async (t) => {
    const inst = makeInstance(t);
    const svc = inst.users[0].service;
    const args = ['--auth-fail-limit', '3', '--auth-fail-window', '60'];
    const p1 = await startServer(t, inst.db, args);
    const p2 = await startServer(t, inst.db, args);
    const bad = { ...creds(svc), client_secret: 'not the secret' };
    for (let i = 0; i < 3; i++) assert.equal((await identity(p1, bad)).status, 401, `wrong secret ${i + 1} on process 1`);
    assert.equal((await identity(p1, bad)).status, 429, 'throttled on process 1');
    // process 2 never saw a failure of this pair itself
    const { value, elapsed } = await eventually('the pair throttled on process 2', () => identity(p2, bad),
      (r) => r.status === 429, { timeoutMs: 3000, intervalMs: 100 });
    t.diagnostic(`throttled on process 2 after ${elapsed} ms`);
    assert.match(value.headers.get('retry-after') || '', /^[1-9]\d*$/);
    assert.equal((await identity(p2, creds(svc))).status, 200, 'the right secret on process 2');
    assert.equal((await identity(p1, creds(svc))).status, 200, 'the right secret on process 1');
  });
});
