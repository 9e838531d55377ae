// Console sign-in throttles (docs/security.md#console-sign-in, issue 11 §2): failures
// from strangers never lock a person out; a burst of simultaneous sign-ins from one
// address cannot pass its limit (the attempt is reserved before the Argon2id check);
// "forgot password" works for a throttled account and a completed reset clears the
// throttle; the last active Admin is never locked by failures; wrong current passwords
// on a password change count as failed sign-ins.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { count, newDb, sql } from './lib.mjs';
import {
  assertConsoleError, assertConsoleOk, consoleCall, consoleReadyAdmin, consoleSessionOf, startServer,
} from './server-lib.mjs';
import { BOSS, PW, completeReset, linkOf, outboxMail, startMailServer, tokenOf } from './mail-server-lib.mjs';

const from = (ip) => ({ 'X-Forwarded-For': ip });
const login = (srv, email, password, ip) => consoleCall(srv, '/login', { body: { email, password }, headers: ip ? from(ip) : {} });
const statusOf = (db, email) => sql(db, `SELECT status FROM users WHERE email = '${email}'`)[0].status;

describe('console sign-in: strangers cannot lock anyone out', { concurrency: 1 }, () => {
  test('50 wrong passwords from 10 stranger addresses: the only Admin stays active and signs in from her own address', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    const srv = await startServer(t, db, ['--trusted-proxies', '127.0.0.1']);
    await consoleReadyAdmin(srv, db, BOSS, PW);
    const auditBefore = count(db, 'audit_events');
    const answers = { 401: 0, 429: 0 };
    for (let a = 1; a <= 10; a++) {
      for (let i = 0; i < 6; i++) {
        const r = await login(srv, BOSS, `stranger guess ${a}.${i}`, `203.0.113.${a}`);
        assert.ok(r.status === 401 || r.status === 429, `stranger ${a}, guess ${i}: ${r.status} ${r.text}`);
        answers[r.status]++;
      }
    }
    // each stranger got its free failures, and then waited; once the account was hot
    // (20 failures) the later strangers got one each
    assert.ok(answers[401] >= 20 && answers[401] <= 50, JSON.stringify(answers));
    assert.ok(answers[429] >= 10, JSON.stringify(answers));
    // the last active Admin is not locked, nothing was audited as a lock
    assert.equal(statusOf(db, BOSS), 'active');
    assert.equal(count(db, 'audit_events', "action = 'Lock'"), 0);
    assert.equal(count(db, 'audit_events'), auditBefore);
    // from her own address, the right password works at once
    const s = consoleSessionOf(srv, await login(srv, BOSS, PW, '198.51.100.7'), 'the Admin from her own address');
    assertConsoleOk(await s.call('/session'));
    // even after typos of her own: a short wait at most, never a lock
    for (let i = 0; i < 2; i++) {
      const r = await login(srv, BOSS, `a typo of mine ${i}`, '198.51.100.7');
      assert.ok(r.status === 401 || r.status === 429, `typo ${i}: ${r.status}`);
    }
    for (;;) {
      const r = await login(srv, BOSS, PW, '198.51.100.7');
      if (r.status === 200) break;
      assertConsoleError(r, 429, 'throttled', '', 'the hot account after her own typos');
      const wait = Number(r.headers.get('retry-after'));
      assert.ok(wait >= 1 && wait <= 4, `Retry-After ${wait}`);
      await new Promise((done) => setTimeout(done, wait * 1000));
    }
    assert.equal(statusOf(db, BOSS), 'active');
    // the strangers keep being slowed: two quick guesses of one of them, the second waits
    const first = await login(srv, BOSS, 'stranger again', '203.0.113.1');
    assert.ok(first.status === 401 || first.status === 429);
    assertConsoleError(await login(srv, BOSS, 'stranger again 2', '203.0.113.1'), 429, 'throttled');
  });
});

describe('console sign-in: a burst from one address', { concurrency: 1 }, () => {
  test('80 simultaneous sign-ins from one address against login_fail_limit 20: 20 are checked, 60 get 429', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    // 160 connections at once from 127.0.0.1: above the default per-address cap
    const srv = await startServer(t, db, ['--trusted-proxies', '127.0.0.1', '--login-fail-limit', '20',
      '--per-ip-connection-limit', '1000']);
    await consoleReadyAdmin(srv, db, BOSS, PW);
    const before = count(db, 'login_history');
    const all = await Promise.all(Array.from({ length: 80 }, (_, i) => login(srv, `someone${i}@example.com`, 'a guess a guess', '203.0.113.80')));
    const by = {};
    for (const r of all) by[r.status] = (by[r.status] ?? 0) + 1;
    assert.deepEqual(by, { 401: 20, 429: 60 }, JSON.stringify(by));
    assert.equal(count(db, 'login_history') - before, 20, 'only the reserved attempts were checked');
    // 80 at once at one account from another address: its first 5 are checked
    const one = await Promise.all(Array.from({ length: 80 }, () => login(srv, BOSS, 'a guess a guess', '203.0.113.81')));
    const checked = one.filter((r) => r.status === 401).length;
    assert.equal(checked, 5, `checked: ${checked}`);
    assert.equal(one.filter((r) => r.status === 429).length, 75);
    assert.equal(statusOf(db, BOSS), 'active');
  });
});

describe('console sign-in: forgot password and password changes', { concurrency: 1 }, () => {
  test('a throttled account asks for a reset, and the completed reset clears the throttle', async (t) => {
    const it = await startMailServer(t, {});
    const { srv, db } = it;
    for (let i = 0; i < 5; i++) assertConsoleError(await login(srv, BOSS, `wrong ${i} wrong`), 401, 'unauthorized');
    assertConsoleError(await login(srv, BOSS, PW), 429, 'throttled', '', 'throttled after 5 failures');
    // forgot password works for the throttled account, from the same address
    assertConsoleOk(await consoleCall(srv, '/password/forgot', { body: { email: BOSS, lang: 'en' } }), 'forgot password');
    const mail = await outboxMail(srv, BOSS, 'password_reset');
    const fresh = 'a brand new secret 42';
    consoleSessionOf(srv, await completeReset(srv, tokenOf(linkOf(mail, 'reset')), fresh), 'the reset');
    // the throttle is gone: a sign-in right away works, and a typo is a 401 again
    consoleSessionOf(srv, await login(srv, BOSS, fresh), 'a sign-in right after the reset');
    assertConsoleError(await login(srv, BOSS, 'a typo after the reset'), 401, 'unauthorized');
    assert.equal(statusOf(db, BOSS), 'active');
  });

  test('wrong current passwords on a password change count as failed sign-ins', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    const srv = await startServer(t, db, ['--trusted-proxies', '127.0.0.1']);
    const boss = await consoleReadyAdmin(srv, db, BOSS, PW);
    const change = (current, ip = '203.0.113.9') =>
      consoleCall(srv, '/password', { session: boss, body: { current, password: 'another new secret 7' }, headers: from(ip) });
    for (let i = 0; i < 5; i++) assertConsoleError(await change(`not it ${i} at all`), 400, 'invalid', 'current');
    const r = await change(PW);
    assertConsoleError(r, 429, 'throttled', '', 'the 6th password change');
    assert.match(r.headers.get('retry-after') || '', /^[1-9]\d*$/);
    // the same (account, address) pair: a sign-in from there waits too; elsewhere it does not
    assertConsoleError(await login(srv, BOSS, PW, '203.0.113.9'), 429, 'throttled');
    consoleSessionOf(srv, await login(srv, BOSS, PW, '198.51.100.9'), 'from another address');
    assert.equal(statusOf(db, BOSS), 'active');
  });
});
