// latchkey serve: no outage from strangers or stalls, and clean stops (issue 11 §2, §3;
// docs/security.md#connections-and-stalls, docs/operations.md#signals).
//
// - Console password checks (Argon2id) run on their own pool: a burst of failing
//   sign-ins does not hold up a user management call.
// - One address holding many slow connections does not keep another address out
//   (per_ip_connection_limit), and a header trickled byte by byte does not hold a
//   connection past header_timeout.
// - A database locked by another process does not turn into REST outages: user
//   management calls waiting for it hold no in-flight (615) place; REST and token
//   calls go on from memory.
// - SIGTERM with counts queued behind a locked database stops in bounded time, answers
//   the calls still queued 503, and exits 3 saying what was lost; when the lock goes in
//   time, it writes them and exits 0. SIGHUP writes the counts and does not stop.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { describe, test } from 'node:test';
import {
  USAGE, assertOk, assertRestError, assertUmOk, call, cli, consoleCall, identity, creds, makeInstance, makeUmInstance,
  poll, rest, sleep, startServer, token, um, logRecords, assertClean, holdWriteLock, eventually, metricValue,
} from './server-lib.mjs';
import { sql } from './lib.mjs';

// the stored calls of the day, summed over users
const storedCalls = (db) => sql(db, 'SELECT coalesce(sum(count), 0) AS n FROM usage_daily')[0].n;

// waits (bounded) for the server's exit; {code, signal} or 'timeout'
async function exitWithin(srv, ms) {
  let timer;
  const r = await Promise.race([srv.exited, new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), ms); })]);
  clearTimeout(timer);
  return r;
}

// A token request over its own connection from a chosen loopback address.
function tokenFrom(srv, svc, localAddress) {
  return new Promise((resolve, reject) => {
    const q = new URLSearchParams(creds(svc)).toString();
    const req = http.request({ host: '127.0.0.1', port: srv.port, localAddress, path: `/identity/oauth/token?${q}`, agent: false, timeout: 15_000 }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('timeout', () => req.destroy(new Error('token request timed out')));
    req.on('error', reject);
    req.end();
  });
}

// A connection from localAddress that sends the start of a request and then nothing
// (or one header byte every trickleMs); resolves once connected or refused.
function slowConnection(srv, localAddress, { trickleMs } = {}) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: srv.port, localAddress });
    const c = { socket: s, closed: false, bytesSent: 0, timer: null };
    s.on('error', () => {});
    s.on('close', () => { c.closed = true; clearInterval(c.timer); });
    s.on('connect', () => {
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      if (trickleMs) {
        c.timer = setInterval(() => { if (!c.closed) { s.write('a'); c.bytesSent++; } }, trickleMs);
      }
      resolve(c);
    });
    s.on('close', () => resolve(c));
  });
}

describe('no outage from strangers or stalls', { concurrency: 1 }, () => {
  test('a burst of failing sign-ins does not hold up a user management call (Argon2id on its own pool)', async (t) => {
    const inst = makeUmInstance(t);
    const srv = await startServer(t, inst.db, ['--password-threads', '1']);
    const tok = await token(srv, inst.caller.service);
    assertUmOk(await um(srv, '/allusers.json', tok), 'warm-up');
    const order = [];
    const signIns = Array.from({ length: 16 }, (_, i) =>
      consoleCall(srv, '/login', { body: { email: `nobody${i}@example.com`, password: 'wrong password 123' } })
        .then((r) => { order.push('sign-in'); return r; }));
    // the burst is queued first: each sign-in costs an Argon2id check, one at a time here
    await sleep(300);
    const umCall = um(srv, '/allusers.json', tok).then((r) => { order.push('um'); return r; });
    const [umAnswer, ...failed] = await Promise.all([umCall, ...signIns]);
    assertUmOk(umAnswer, 'the user management call');
    for (const r of failed) assert.equal(r.status, 401, r.text);
    // on the store worker it would come after the sign-ins queued before it; on its own
    // it overtakes all but the few that were done before it arrived
    assert.ok(order.indexOf('um') < 4, `the user management call does not wait for the sign-ins queued before it: ${order.join(' ')}`);
  });

  test('administration yields to requests under a full CPU: the store worker runs at background_nice (19), the password pool at password_nice (10), the writer and the request threads at the process\'s own', async (t) => {
    // name → niceness of every thread of the process, read as `ps -L -o comm,nice` shows them
    const threads = (pid) => fs.readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
        return [{ tid: Number(tid), name: fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim(), nice: Number(fields[16]) }];
      } catch (e) {
        if (e.code === 'ENOENT' || e.code === 'ESRCH') return []; // a short-lived thread gone meanwhile
        throw e;
      }
    });
    const inst = makeUmInstance(t);
    const cases = [
      [[], 19, 10],
      [['--background-nice', '0'], 0, 10],
      [['--background-nice', '5', '--password-nice', '0', '--password-threads', '3'], 5, 0],
      [['--password-nice', '19'], 19, 19],
    ];
    for (let [args, want, wantPool] of cases) {
      const srv = await startServer(t, inst.db, args);
      const tok = await token(srv, inst.caller.service);
      assertUmOk(await um(srv, '/allusers.json', tok), 'a user management call on the store worker');
      const all = threads(srv.proc.pid);
      const named = (n) => all.filter((th) => th.name === n);
      // raised to background_nice and password_nice, never below what the process was started with
      const base = all.find((th) => th.tid === srv.proc.pid).nice;
      want = Math.max(want, base);
      wantPool = Math.max(wantPool, base);
      assert.equal(named('lk-store').length, 1, JSON.stringify(all));
      assert.equal(named('lk-store')[0].nice, want, `lk-store with ${args.join(' ') || 'the defaults'}`);
      const pool = named('lk-password');
      assert.equal(pool.length, args.includes('--password-threads') ? 3 : 2, JSON.stringify(all));
      for (const th of pool) assert.equal(th.nice, wantPool, `the password pool with ${args.join(' ') || 'the defaults'}`);
      assert.equal(named('lk-writer').length, 1);
      assert.equal(named('lk-writer')[0].nice, base, 'the writer of tokens and counts keeps the process\'s niceness');
      for (const th of all.filter((x) => !x.name.startsWith('lk-'))) assert.equal(th.nice, base, `${th.name}: the other threads keep it too`);
      await srv.stop();
    }
  });

  test('one address holding 1,100 slow connections does not keep another address from getting a token', async (t) => {
    const inst = makeInstance(t);
    const srv = await startServer(t, inst.db, ['--header-timeout', '60', '--connection-timeout', '120']);
    const held = [];
    t.after(() => { for (const c of held) c.socket.destroy(); });
    for (let i = 0; i < 1100; i += 100) {
      held.push(...await Promise.all(Array.from({ length: 100 }, () => slowConnection(srv, '127.0.0.1'))));
    }
    await sleep(300);
    const open = held.filter((c) => !c.closed).length;
    assert.ok(open <= 64, `one address keeps at most per_ip_connection_limit (64) connections: ${open} open`);
    const r = await tokenFrom(srv, inst.users[0].service, '127.0.0.2');
    assert.equal(r.status, 200, `another address gets its token: ${r.status} ${r.text}`);
    for (const c of held) c.socket.destroy();
  });

  test('a trusted proxy is not capped per address (a gateway is one address for all of its clients); any other address is, and gets its places back as its connections close', async (t) => {
    const inst = makeInstance(t);
    // one HTTP thread: a connection is counted before the next is accepted, so the cap is exact
    const srv = await startServer(t, inst.db, ['--trusted-proxies', '127.0.0.1', '--per-ip-connection-limit', '4',
      '--threads', '1', '--header-timeout', '60', '--connection-timeout', '120']);
    const proxy = [], other = [];
    t.after(() => { for (const c of [...proxy, ...other]) c.socket.destroy(); });
    for (let i = 0; i < 12; i++) proxy.push(await slowConnection(srv, '127.0.0.1'));
    for (let i = 0; i < 12; i++) other.push(await slowConnection(srv, '127.0.0.2'));
    const open = (list) => list.filter((c) => !c.closed).length;
    const { ok } = await poll(() => open(other), (n) => n <= 4, { timeoutMs: 10_000, intervalMs: 100 });
    assert.ok(ok, `127.0.0.2 keeps at most per_ip_connection_limit (4) connections: ${open(other)} open`);
    await sleep(300);
    assert.equal(open(other), 4, 'the first four of 127.0.0.2 stay open');
    assert.equal(open(proxy), 12, 'the trusted proxy keeps all of its connections');
    const svc = inst.users[0].service;
    assert.equal((await tokenFrom(srv, svc, '127.0.0.1')).status, 200, 'the proxy\'s calls go on');
    const refused = await tokenFrom(srv, svc, '127.0.0.2').then((r) => r.status, (e) => e.code || e.message);
    assert.notEqual(refused, 200, 'a fifth connection of 127.0.0.2 is refused');
    // 127.0.0.2's places come back as its connections close
    for (const c of other) c.socket.destroy();
    const again = await poll(() => tokenFrom(srv, svc, '127.0.0.2').catch((e) => ({ status: e.code || e.message })),
      (r) => r.status === 200, { timeoutMs: 10_000, intervalMs: 200 });
    assert.ok(again.ok, `127.0.0.2 is served again once its connections closed: ${again.value.status}`);
  });

  test('a header trickled byte by byte does not hold a connection past header_timeout', async (t) => {
    const inst = makeInstance(t);
    const srv = await startServer(t, inst.db, ['--header-timeout', '1', '--connection-timeout', '60']);
    const c = await slowConnection(srv, '127.0.0.3', { trickleMs: 200 });
    t.after(() => c.socket.destroy());
    for (let i = 0; i < 150 && !c.closed; i++) await sleep(100); // at most 15 s of trickling
    assert.ok(c.closed, `the server closed the connection although a byte came every 200 ms (${c.bytesSent} sent)`);
    assert.ok(c.bytesSent > 0, 'it was trickling when it was closed');
    // a client that sends its request at once is served as before, keep-alive included
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    for (let i = 0; i < 2; i++) {
      const r = await new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: srv.port, path: '/healthz', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        }).on('error', reject);
      });
      assert.equal(r, 200);
    }
  });

  test('while another process holds the write lock, user management calls waiting for it take no in-flight place; REST and token calls go on', async (t) => {
    const inst = makeUmInstance(t);
    cli(inst.db, 'limits', 'set', '--concurrent', '2');
    const srv = await startServer(t, inst.db);
    const tok = await token(srv, inst.caller.service);
    assertOk(await rest(srv, USAGE, tok), 'before the lock');
    const lock = await holdWriteLock(t, inst.db.path);
    let released = false;
    t.after(() => lock.release());
    // four writes queue behind the lock (each would need the write lock)
    const waiting = Array.from({ length: 4 }, (_, i) => um(srv, '/invite.json', tok, {
      body: { emailAddress: `stall${i}@example.com`, firstName: 'S', lastName: 'T', apiOnly: true,
        userRoleWorkspaces: [{ accessRoleId: inst.roles.reader.id, workspaceId: 0 }] },
    }).then((r) => ({ r, released })));
    await sleep(300);
    for (let i = 0; i < 5; i++) {
      assertOk(await rest(srv, USAGE, tok), `REST read ${i} while the database is locked and 4 calls wait for it`);
    }
    assert.equal((await identity(srv, creds(inst.caller.service))).status, 200, 'a token while locked');
    const other = await identity(srv, { ...creds(inst.caller.service) });
    assert.equal(other.json.access_token, tok, 'the same token comes back');
    released = true;
    await lock.release();
    const answers = await Promise.all(waiting);
    for (const { r, released: after } of answers) {
      // each waited for the lock (or gave up on it: the store's busy timeout), never 615
      assert.ok(after || r.status !== 200, 'no write was acknowledged while the lock was held');
      assert.ok(r.status === 200 || r.status === 503 || r.status === 500, `${r.status} ${r.text}`);
      assert.ok(!/615/.test(r.text), r.text);
    }
    assertOk(await rest(srv, USAGE, tok), 'after the lock');
  });
});

describe('clean stops and SIGHUP', { concurrency: 1 }, () => {
  test('SIGTERM with counts queued behind a locked database stops in bounded time and exits 3 saying what was lost', async (t) => {
    const inst = makeUmInstance(t);
    // no test context: its stop() would assert exit status 0
    const srv = await startServer(null, inst.db, ['--stop-write-timeout', '1']);
    t.after(() => srv.kill());
    const tok = await token(srv, inst.caller.service);
    const lock = await holdWriteLock(t, inst.db.path);
    t.after(() => lock.release());
    for (let i = 0; i < 3; i++) assertOk(await rest(srv, USAGE, tok), `call ${i}`);
    // calls queued for the store worker behind the lock
    const queued = Array.from({ length: 12 }, (_, i) => call(`${srv.url}/userservice/management/v1/users/invite.json`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ emailAddress: `queued${i}@example.com`, firstName: 'Q', lastName: 'U', apiOnly: true,
        userRoleWorkspaces: [{ accessRoleId: inst.roles.reader.id, workspaceId: 0 }] }),
      timeoutMs: 60_000,
    }).catch((e) => ({ status: 0, text: String(e) })));
    // every call is with the server before the stop (the gauge counts the running one too)
    // (a connection not yet taken when the listener closes would fail, which is not the point)
    await eventually('12 calls with the store worker', () => call(`${srv.url}/metrics`),
      (m) => metricValue(m.text, 'latchkey_store_worker_queue_length') >= 12, { timeoutMs: 20_000, intervalMs: 100 });
    srv.proc.kill('SIGTERM');
    // bound: 10 s grace + one running store call (5 s busy timeout) + stop_write_timeout
    // (1 s) + one last try (5 s) — well within 40 s, whatever is queued
    const r = await exitWithin(srv, 40_000);
    assert.notEqual(r, 'timeout', `the stop is bounded:\n${srv.stderr().slice(-3000)}`);
    assert.equal(r.signal, null);
    assert.equal(r.code, 3, `exit status 3 when counts were lost:\n${srv.stderr().slice(-3000)}`);
    const recs = logRecords(srv.stderr());
    const lost = recs.find((x) => /^stopping without writing the usage counts: \d+ calls of \d+ API users and \d+ errors are lost/.test(x.msg));
    assert.ok(lost, `the log says what was lost:\n${srv.stderr().slice(-3000)}`);
    assert.equal(lost.level, 'error');
    assert.ok(recs.some((x) => /^stopped; usage counts were lost/.test(x.msg)), srv.stderr().slice(-2000));
    const answers = await Promise.all(queued);
    assert.ok(answers.some((a) => a.status === 503), `calls still queued are answered 503: ${answers.map((a) => a.status)}`);
    for (const a of answers) assert.ok([500, 503].includes(a.status), `answered, and nothing written while locked: ${a.status} ${a.text}`);
    for (const mark of ['ERROR: AddressSanitizer', 'LeakSanitizer', 'runtime error:']) assert.ok(!srv.stderr().includes(mark), srv.stderr());
    await lock.release();
    assert.equal(sql(inst.db, "SELECT count(*) AS n FROM users WHERE email LIKE 'queued%'")[0].n, 0);
  });

  test('SIGTERM while locked: once the lock goes within stop_write_timeout, the counts are written and it exits 0', async (t) => {
    const inst = makeInstance(t);
    const srv = await startServer(t, inst.db, ['--stop-write-timeout', '30']);
    const tok = await token(srv, inst.users[0].service);
    const before = storedCalls(inst.db);
    const lock = await holdWriteLock(t, inst.db.path);
    t.after(() => lock.release());
    for (let i = 0; i < 4; i++) assertOk(await rest(srv, USAGE, tok), `call ${i}`);
    srv.proc.kill('SIGTERM');
    await sleep(1500);
    await lock.release();
    const r = await exitWithin(srv, 40_000);
    assert.notEqual(r, 'timeout', srv.stderr().slice(-3000));
    assertClean(srv, r);
    assert.equal(storedCalls(inst.db) - before, 4, 'every counted call is in the database');
  });

  test('SIGHUP writes the counts and does not stop the server; a kill -9 right after loses none', async (t) => {
    const inst = makeInstance(t);
    const srv = await startServer(null, inst.db); // killed on purpose below
    t.after(() => srv.kill());
    const tok = await token(srv, inst.users[0].service);
    const before = storedCalls(inst.db);
    for (let i = 0; i < 3; i++) assertOk(await rest(srv, USAGE, tok), `call ${i}`);
    srv.proc.kill('SIGHUP');
    for (let i = 0; i < 200 && !/SIGHUP: token keys read again, usage counts written/.test(srv.stderr()); i++) await sleep(25);
    assert.match(srv.stderr(), /SIGHUP: token keys read again, usage counts written/);
    assertOk(await rest(srv, USAGE, tok), 'the server still answers after SIGHUP');
    srv.kill();
    assert.equal((await srv.exited).signal, 'SIGKILL');
    assert.ok(storedCalls(inst.db) - before >= 3, 'the calls made before SIGHUP are stored');
  });
});
