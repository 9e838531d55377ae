// Several `latchkey serve` processes on one database (issue 12): tokens verify
// themselves, so a token minted by one process works on every other at once; a
// revocation made through one process (or the CLI) reaches the others through the
// change feed within a second and stays after kill -9 of every process; a process
// killed right after it answered a token loses nothing; a kill -9 50 ms after a 200
// from /oauth2/revoke does not bring the token back; the token keys rotate across
// processes. Servers are killed with SIGKILL on purpose here, so they are started
// without a test context and stopped (or killed) by the tests themselves.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { lk } from './lib.mjs';
import {
  FORM_CT, TOKEN_RE, USAGE, assertOk, assertRestError, basic, call, cli, creds, eventually, form, identity,
  makeInstance, rest, restCode, sleep, startServer, token,
} from './server-lib.mjs';

// propagation through the feed: the processes poll it every 200 ms, so a change is
// normally seen within a poll; the bound here is generous on purpose (a loaded machine
// stretches it; tests never assert timings — bench/visible.py measures the figure)
const WITHIN = { timeoutMs: 10_000, intervalMs: 25 };

// n servers on the instance's database; stopped (SIGTERM, clean exit asserted) or,
// when they were killed, reaped when the test ends
async function servers(t, inst, n, args = []) {
  // no instance limits: these tests poll every process fast, and the processes share the
  // instance's rate limit (server-processes-limits.test.mjs tests that), so a poll could
  // meet 606 where it waits for 601
  cli(inst.db, 'limits', 'set', '--rate', '0', '--daily', '0', '--concurrent', '0');
  const list = [];
  for (let i = 0; i < n; i++) list.push(await startServer(null, inst.db, args));
  t.after(async () => {
    for (const s of list) {
      if (s.killed) await s.exited;
      else await s.stop();
    }
  });
  return list;
}

async function kill9(...list) {
  for (const s of list) {
    s.killed = true;
    s.kill();
  }
  for (const s of list) {
    const { signal } = await s.exited;
    assert.equal(signal, 'SIGKILL');
  }
}

const revoke = (srv, svc, tok) => call(`${srv.url}/oauth2/revoke`, {
  method: 'POST', headers: { 'Content-Type': FORM_CT, Authorization: basic(svc.clientId, svc.secret) },
  body: form({ token: tok }),
});

const introspect = async (srv, svc, tok) => (await call(`${srv.url}/oauth2/introspect`, {
  method: 'POST', headers: { 'Content-Type': FORM_CT, Authorization: basic(svc.clientId, svc.secret) },
  body: form({ token: tok }),
})).json;

// the token is refused (601) by every server, within WITHIN
async function refusedEverywhere(list, tok, what) {
  for (const [i, s] of list.entries()) {
    const { value, elapsed } = await eventually(`${what} on process ${i + 1}`, () => rest(s, USAGE, tok),
      (r) => restCode(r) !== 'ok', WITHIN);
    assertRestError(value, 601, 'Access token invalid', `${what} on process ${i + 1} (${elapsed} ms)`);
  }
}

describe('several processes on one database', { concurrency: true }, () => {
  test('three processes: a token minted on one works on the others at once', async (t) => {
    const inst = makeInstance(t, { users: ['a@example.com', 'b@example.com'] });
    const a = inst.user('a@example.com').service;
    const b = inst.user('b@example.com').service;
    const [p1, p2, p3] = await servers(t, inst, 3);
    const ta = await token(p1, a);
    const tb = await token(p3, b);
    for (const [i, s] of [p1, p2, p3].entries()) {
      assertOk(await rest(s, USAGE, ta), `a's token from process 1 on process ${i + 1}`);
      assertOk(await rest(s, USAGE, tb), `b's token from process 3 on process ${i + 1}`);
    }
    const seen = await introspect(p2, a, ta);
    assert.equal(seen.active, true);
    assert.equal(seen.client_id, a.clientId);
    assert.equal(seen.username, 'a@example.com');
    // each process hands out its own current token; both work everywhere
    const ta2 = await token(p2, a);
    assert.equal(await token(p2, a), ta2, 'the same token again from the same process');
    assertOk(await rest(p3, USAGE, ta2));
    assertOk(await rest(p1, USAGE, ta));
    // a token of another instance (another key) is refused
    const other = makeInstance(t, { users: ['x@example.com'] });
    const [q] = await servers(t, other, 1);
    const foreign = await token(q, other.users[0].service);
    assertRestError(await rest(p1, USAGE, foreign), 601, 'Access token invalid', 'another instance\'s token');
  });

  test('revocations on one reach all within a second and stay after kill -9 of every process', async (t) => {
    const users = ['rv@example.com', 'lk@example.com', 'dl@example.com', 'rt@example.com', 'ok@example.com'];
    const inst = makeInstance(t, { users });
    const svc = Object.fromEntries(users.map((u) => [u.split('@')[0], inst.user(u).service]));
    const list = await servers(t, inst, 3);
    const [p1, p2, p3] = list;
    const tok = {
      rv: await token(p2, svc.rv), lk: await token(p3, svc.lk), dl: await token(p1, svc.dl),
      rt: await token(p2, svc.rt), ok: await token(p3, svc.ok),
    };
    for (const s of list) for (const [k, v] of Object.entries(tok)) assertOk(await rest(s, USAGE, v), `${k} before`);

    // RFC 7009 on process 1 for a token process 2 minted: durable before the 200
    const r = await revoke(p1, svc.rv, tok.rv);
    assert.equal(r.status, 200, r.text);
    assertRestError(await rest(p1, USAGE, tok.rv), 601, 'Access token invalid', 'revoked, on the process that revoked');
    await refusedEverywhere(list, tok.rv, 'the revoked token');
    // lock, delete and rotation without grace, each by the CLI (a process of its own)
    cli(inst.db, 'user', 'lock', 'lk@example.com');
    await refusedEverywhere(list, tok.lk, 'the locked owner\'s token');
    cli(inst.db, 'service', 'delete', svc.dl.name);
    await refusedEverywhere(list, tok.dl, 'the deleted service\'s token');
    const fresh = cli(inst.db, 'service', 'rotate-secret', svc.rt.name).clientSecret;
    await refusedEverywhere(list, tok.rt, 'the token of before the rotation');
    // the bystander is untouched
    for (const s of list) assertOk(await rest(s, USAGE, tok.ok), 'the bystander');

    // every process killed; two come back
    await kill9(p1, p2, p3);
    cli(inst.db, 'user', 'unlock', 'lk@example.com');
    const again = await servers(t, inst, 2);
    for (const [i, s] of again.entries()) {
      for (const k of ['rv', 'lk', 'dl', 'rt'])
        assertRestError(await rest(s, USAGE, tok[k]), 601, 'Access token invalid', `${k} after kill -9, process ${i + 1}`);
      assertOk(await rest(s, USAGE, tok.ok), `the bystander after kill -9, process ${i + 1}`);
    }
    // the rotated service and the unlocked owner get new tokens that work
    const nrt = await token(again[0], { ...svc.rt, secret: fresh });
    assertOk(await rest(again[1], USAGE, nrt));
    const nlk = await token(again[1], svc.lk);
    assert.notEqual(nlk, tok.lk);
    assertOk(await rest(again[0], USAGE, nlk));
  });

  test('kill -9 right after a process answered a token loses nothing', async (t) => {
    const inst = makeInstance(t, { users: ['a@example.com'] });
    const a = inst.users[0].service;
    const [p1, p2] = await servers(t, inst, 2);
    const tok = await token(p1, a);
    await kill9(p1);
    assertOk(await rest(p2, USAGE, tok), 'on the other process at once');
    const [p3] = await servers(t, inst, 1);
    assertOk(await rest(p3, USAGE, tok), 'the client\'s cached token after the restart');
    const seen = await introspect(p3, a, tok);
    assert.equal(seen.active, true);
    assert.ok(seen.exp - Math.floor(Date.now() / 1000) > 3500, 'with the lifetime it was issued with');
  });

  test('a kill -9 50 ms after a 200 from /oauth2/revoke does not bring the token back', async (t) => {
    const inst = makeInstance(t, { users: ['a@example.com', 'b@example.com'] });
    const a = inst.user('a@example.com').service;
    const b = inst.user('b@example.com').service;
    const [p1, p2] = await servers(t, inst, 2);
    const ta = await token(p1, a);
    const tb = await token(p2, b);
    const r = await revoke(p1, a, ta);
    assert.equal(r.status, 200, r.text);
    await sleep(50);
    await kill9(p1, p2);
    const [q1, q2] = await servers(t, inst, 2);
    for (const s of [q1, q2]) {
      assertRestError(await rest(s, USAGE, ta), 601, 'Access token invalid', 'the revoked token after kill -9');
      assertOk(await rest(s, USAGE, tb), 'another client\'s token');
    }
    assert.equal((await introspect(q2, a, ta)).active, false);
    // a new token for the client works
    const ta2 = await token(q1, a);
    assert.notEqual(ta2, ta);
    assertOk(await rest(q2, USAGE, ta2));
  });

  test('token keys: a rotation reaches every process; old tokens verify until their key is dropped', async (t) => {
    const inst = makeInstance(t, { users: ['a@example.com', 'b@example.com', 'c@example.com'] });
    const a = inst.user('a@example.com').service;
    const b = inst.user('b@example.com').service;
    const c = inst.user('c@example.com').service;
    const list = await servers(t, inst, 2);
    const [p1, p2] = list;
    const keyFile = inst.db.keyFile;
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600, 'the key file is private');
    const before = cli(inst.db, 'key', 'list');
    assert.equal(before.keys.length, 1);
    assert.equal(before.keyFile, keyFile);
    assert.ok(!JSON.stringify(before).includes(fs.readFileSync(keyFile, 'utf8').split('\n').at(-2).split(' ')[2]),
      'key list shows no key');
    const old = await token(p1, a);

    const rotated = cli(inst.db, 'key', 'rotate');
    assert.equal(rotated.keys.length, 2);
    assert.equal(rotated.keys[0].signs, true);
    assert.equal(rotated.dropped, null);
    const kid = rotated.keys[0].id;
    // every process signs with the new key within a poll (the feed tells them) ...
    const signing = async (s) => Number((await call(`${s.url}/metrics`)).text.match(/^latchkey_token_signing_key (\d+)$/m)[1]);
    for (const s of list)
      await eventually('the new signing key', async () => ({ text: String(await signing(s)) }), (r) => r.text === String(kid), WITHIN);
    // ... so a service without a token yet gets one of the new key (a: its current one, of
    // the old key, comes back while it is valid — the same token while valid)
    const fresh = await token(p2, b);
    assert.equal(Buffer.from(fresh, 'base64url')[1], kid, 'the key id inside a new token');
    assert.equal(Buffer.from(await token(p1, c), 'base64url')[1], kid);
    assert.equal(await token(p1, a), old, 'the current token of a, of the previous key, still handed out');
    for (const s of list) {
      assertOk(await rest(s, USAGE, old), 'a token of the previous key still verifies');
      assertOk(await rest(s, USAGE, fresh), 'a token of the new key');
    }
    // a second rotation so soon would drop the key of tokens still in use: refused
    const refused = lk(inst.db, 'key', 'rotate');
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /younger than 3600 seconds/);
    assertOk(await rest(p1, USAGE, old));
    // forced: the tokens of the dropped key stop working everywhere
    const forced = cli(inst.db, 'key', 'rotate', '--force');
    assert.equal(forced.dropped, before.keys[0].id);
    await refusedEverywhere(list, old, 'a token of the dropped key');
    for (const s of list) assertOk(await rest(s, USAGE, fresh), 'a token of the kept key');
    // the rotations are in the audit trail
    const events = cli(inst.db, 'audit', 'list').events.filter((e) => e.area === 'Token Keys');
    assert.equal(events.length, 2);

    // a key file others can read is refused at start, with a clear message
    fs.chmodSync(keyFile, 0o644);
    await assert.rejects(startServer(null, inst.db), /can be read by other users/);
    fs.chmodSync(keyFile, 0o600);
  });

  test('a new process makes the key file once; processes starting together share it', async (t) => {
    const inst = makeInstance(t, { users: ['a@example.com'] });
    const a = inst.users[0].service;
    const keyFile = inst.db.keyFile;
    assert.ok(!fs.existsSync(keyFile), 'no key file before the first start');
    const list = await Promise.all([1, 2, 3].map(() => startServer(null, inst.db)));
    t.after(async () => { for (const s of list) await s.stop(); });
    const tok = await token(list[0], a);
    for (const s of list) assertOk(await rest(s, USAGE, tok));
    assert.equal(cli(inst.db, 'key', 'list').keys.length, 1);
    assert.match(tok, TOKEN_RE);
  });
});
