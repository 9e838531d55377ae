// Console sign-in throttles across processes (issue 12, issue 11 §2;
// docs/security.md#console-sign-in, docs/server.md#limits-across-processes): several
// `latchkey serve` on one database count sign-ins together — a pair throttled through
// one is throttled on the others, and stays so when the process is killed and another
// starts; an address's allowance is shared; "forgot password" works for a throttled
// account on any of them, and a reset completed on one clears the throttle on all.
//
// How a test tells "shared" from "counted per process": a probe is a wrong guess from
// the throttled pair (or address), repeated until it is refused. A process that counted
// alone would check LK_SIGNIN_FREE (5) more guesses of a pair, or login_fail_limit more
// of an address, before refusing; sharing refuses at once — or after one guess that
// came before its next sync (about 200 ms; the probes are spaced by more). A burst
// spread over the processes passes at most the allowance plus a slice per process.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { count, newDb, sql } from './lib.mjs';
import {
  assertConsoleError, consoleCall, consoleReadyAdmin, consoleSessionOf, eventually, poll, sleep, startServer,
} from './server-lib.mjs';
import { parseEml } from './mail-lib.mjs';
import { BOSS, PW, completeReset, linkOf, mailLog, startMailServer, tokenOf } from './mail-server-lib.mjs';

const FREE = 5;
const from = (ip) => ({ 'X-Forwarded-For': ip });
const login = (srv, email, password, ip) => consoleCall(srv, '/login', { body: { email, password }, headers: from(ip) });
const ARGS = ['--trusted-proxies', '127.0.0.1'];

// the sum of the published sign-in counts of one kind of key ('p' pairs, 'a' addresses, 'x' resets)
const published = (db, kind) =>
  Number(sql(db, `SELECT coalesce(sum(n), 0) AS n FROM limit_counts WHERE kind = 's' AND substr(scope, 1, 1) = '${kind}'`)[0].n);

// A sign-in that waits out the slices: while other processes are alive, a process lets
// through at most a slice of a key's attempts between two syncs (one of a pair, 1/20 of
// an address's allowance) and answers 429 with Retry-After 1 meanwhile, without
// counting it. For the guesses of a test's setup, which must all be checked.
async function checkedLogin(srv, email, password, ip) {
  for (let i = 0; ; i++) {
    const r = await login(srv, email, password, ip);
    if (r.status !== 429 || r.headers.get('retry-after') !== '1' || i >= 40) return r;
    await sleep(250);
  }
}

// wrong guesses until refused: how many were checked (401) before the first 429
async function checkedBeforeRefused(srv, email, ip, max) {
  for (let checked = 0; checked <= max; checked++) {
    const r = await login(srv, email, `a wrong guess ${checked}`, ip);
    if (r.status === 429) {
      assert.match(r.headers.get('retry-after') || '', /^[1-9]\d*$/);
      return checked;
    }
    assert.equal(r.status, 401, `guess ${checked}: ${r.status} ${r.text}`);
    await sleep(400);
  }
  return max + 1;
}

describe('console sign-in throttles across processes', { concurrency: 1 }, () => {
  test('a pair throttled through one process is throttled on the others, and after a kill -9 and a new process', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    // killed on purpose below: started without the test context, stopped here
    const [p1, p2, p3] = [await startServer(null, db, ARGS), await startServer(null, db, ARGS), await startServer(null, db, ARGS)];
    t.after(async () => {
      for (const p of [p1, p2, p3]) if (p.proc.exitCode === null && p.proc.signalCode === null) await p.stop();
    });
    await consoleReadyAdmin(p1, db, BOSS, PW);
    const ip = '203.0.113.5';
    for (let i = 0; i < FREE; i++) assertConsoleError(await checkedLogin(p1, BOSS, `guess ${i} wrong`, ip), 401, 'unauthorized');
    assertConsoleError(await login(p1, BOSS, PW, ip), 429, 'throttled', '', 'throttled on process 1');
    await eventually('the pair\'s failures published', () => published(db, 'p'), (n) => n >= FREE, { intervalMs: 100 });
    for (const [i, p] of [[2, p2], [3, p3]]) {
      const checked = await checkedBeforeRefused(p, BOSS, ip, FREE);
      t.diagnostic(`process ${i}: ${checked} guess(es) checked before 429 (alone: ${FREE})`);
      assert.ok(checked <= 1, `process ${i} refuses the pair (it checked ${checked} more)`);
    }
    // the person, from her own address, is not kept out on any process
    for (const p of [p1, p2, p3]) consoleSessionOf(p, await login(p, BOSS, PW, '198.51.100.7'), 'the Admin from her own address');
    // no email or address is stored in the clear
    const scopes = sql(db, "SELECT DISTINCT scope FROM limit_counts WHERE kind = 's'").map((r) => r.scope);
    assert.ok(scopes.length > 0);
    for (const s of scopes) assert.match(s, /^[afpAxy][0-9a-f]{32}([0-9a-f]{32})?$/);

    // kill -9 of every process, and a new one: the failures are still counted
    for (const p of [p1, p2, p3]) {
      p.kill();
      assert.equal((await p.exited).signal, 'SIGKILL');
    }
    const p4 = await startServer(t, db, ARGS);
    const checked = await checkedBeforeRefused(p4, BOSS, ip, FREE);
    t.diagnostic(`a new process: ${checked} guess(es) checked before 429`);
    assert.ok(checked <= 1, `the new process refuses the pair (it checked ${checked})`);
  });

  test('an address\'s allowance is shared: used up through one process, refused by the others; a burst over three stays within the bound (limit + a slice per process)', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    const LIMIT = 6;
    const args = [...ARGS, '--login-fail-limit', String(LIMIT), '--auth-fail-window', '300', '--per-ip-connection-limit', '1000'];
    const list = [await startServer(t, db, args), await startServer(t, db, args), await startServer(t, db, args)];
    const before = count(db, 'login_history');
    // the allowance used up through process 1, one guess at a time
    for (let i = 0; i < LIMIT; i++)
      assertConsoleError(await checkedLogin(list[0], `someone${i}@example.com`, 'a guess a guess', '203.0.113.80'), 401, 'unauthorized');
    const over = await checkedLogin(list[0], 'someone@example.com', 'a guess a guess', '203.0.113.80');
    assertConsoleError(over, 429, 'throttled', '', 'the address has used its allowance');
    assert.ok(Number(over.headers.get('retry-after')) > 1, `Retry-After: the window's end (${over.headers.get('retry-after')})`);
    await eventually('the address\'s attempts published', () => published(db, 'a'), (n) => n >= LIMIT, { intervalMs: 100 });
    let probes = 0;
    for (const [i, p] of [[2, list[1]], [3, list[2]]]) {
      const checked = await checkedBeforeRefused(p, 'another@example.com', '203.0.113.80', LIMIT);
      probes += checked;
      t.diagnostic(`process ${i}: ${checked} checked before 429 (alone: ${LIMIT})`);
      assert.ok(checked <= 1, `process ${i} refuses the address (it checked ${checked})`);
    }
    // another address is not concerned
    assertConsoleError(await login(list[1], 'someone@example.com', 'a guess a guess', '203.0.113.90'), 401, 'unauthorized');

    // a burst spread over the three processes at once: before they have synced, each
    // lets through a slice (1/20 of the allowance, at least 1) — the bound is
    // LIMIT + 3 slices over the window, whatever the burst
    let checkedBurst = 0;
    const end = Date.now() + 3000;
    for (let round = 0; Date.now() < end; round++) {
      const burst = await Promise.all(Array.from({ length: 30 }, (_, i) =>
        login(list[i % 3], `burst${round}.${i}@example.com`, 'a guess a guess', '203.0.113.81')));
      assert.deepEqual(burst.filter((r) => r.status !== 401 && r.status !== 429).map((r) => r.status), []);
      checkedBurst += burst.filter((r) => r.status === 401).length;
      await sleep(100);
    }
    t.diagnostic(`bursts of 30 over three processes for 3 s, limit ${LIMIT}: ${checkedBurst} checked (bound ${LIMIT + 3})`);
    assert.ok(checkedBurst >= LIMIT && checkedBurst <= LIMIT + 3, `checked: ${checkedBurst}`);
    assert.equal(count(db, 'login_history') - before, LIMIT + probes + 1 + checkedBurst,
      'only the checked attempts reached the password check');
  });

  test('forgot password works for a throttled account on another process, and a reset completed there clears the throttle on all', async (t) => {
    const it = await startMailServer(t, { args: ARGS });
    const p1 = it.srv;
    const p2 = await startServer(t, it.db, ARGS, { env: it.env });
    const ip = '203.0.113.9';
    for (let i = 0; i < FREE; i++) assertConsoleError(await checkedLogin(p1, BOSS, `wrong ${i} wrong`, ip), 401, 'unauthorized');
    assertConsoleError(await login(p1, BOSS, PW, ip), 429, 'throttled', '', 'throttled on process 1');
    await eventually('the pair\'s failures published', () => published(it.db, 'p'), (n) => n >= FREE, { intervalMs: 100 });
    assert.ok(await checkedBeforeRefused(p2, BOSS, ip, FREE) <= 1, 'process 2 refuses the pair too');
    // forgot password, on process 2, from the throttled address
    const forgot = await consoleCall(p2, '/password/forgot', { body: { email: BOSS, lang: 'en' }, headers: from(ip) });
    assert.equal(forgot.status, 200, `forgot password: ${forgot.text}`);
    // either process may deliver it
    const { value: sent, ok } = await poll(() => [p1, p2].flatMap((p) => mailLog(p))
      .find((e) => e.to === BOSS && e.kind === 'password_reset' && e.outcome === 'sent'), Boolean, { timeoutMs: 15_000, intervalMs: 200 });
    assert.ok(ok, 'the reset mail was written to the outbox');
    const mail = parseEml(fs.readFileSync(sent.delivery));
    const fresh = 'a brand new secret 42';
    consoleSessionOf(p2, await completeReset(p2, tokenOf(linkOf(mail, 'reset')), fresh), 'the reset on process 2');
    await eventually('the reset published', () => published(it.db, 'x'), (n) => n >= 1, { intervalMs: 100 });
    // process 1 counted the pair's failures itself; the reset on process 2 clears them:
    // once it has synced, the pair has its free failures again. Before its sync, the
    // first guess gets a 429 (not counted) or, the pair's delay over, is checked: then it
    // stays counted as one failure after the reset; the five before it are forgotten all
    // the same
    await eventually('process 1 checks a guess of the pair again', () => login(p1, BOSS, 'a typo after the reset', ip),
      (r) => r.status === 401, { timeoutMs: 10_000, intervalMs: 300 });
    for (let i = 1; i < FREE - 1; i++)
      assertConsoleError(await checkedLogin(p1, BOSS, `another typo ${i}`, ip), 401, 'unauthorized', undefined, `typo ${i + 1} after the reset`);
    consoleSessionOf(p1, await checkedLogin(p1, BOSS, fresh, ip), 'the new password on process 1');
  });
});
