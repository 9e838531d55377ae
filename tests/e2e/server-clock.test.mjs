// A wall-clock jump changes nothing that runs on time (issue 11 §3,
// docs/server.md#clocks): the real server runs under libfaketime with only its wall
// clock faked (FAKETIME_DONT_FAKE_MONOTONIC=1), and the test moves that clock an hour
// back, then a day forward, while the server runs. After each jump:
// - catalog reloads go on: a service the CLI creates can get a token at once;
// - the once-a-second writes go on: the calls made after the jump reach usage_daily;
// - the per-second rate window neither sticks nor opens: a burst past the limit is
//   refused (606) and the calls are allowed again once the window has passed.
// libfaketime is Debian's `faketime` package (scripts/deps.sh); its library is found
// through dpkg, so the test runs on any architecture. Its multi-threaded build
// (libfaketimeMT): the plain one parses the timestamp file into a buffer shared by every
// thread, unlocked, so a thread of the server could now and then read the real time (a
// token endpoint that saw it handed out the token of before the jump, already expired
// for every other thread: 601 for the rest of the test). The ASan build runs under it
// too (ASan's link-order check is turned off: the preloaded library comes first).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { sql } from './lib.mjs';
import {
  USAGE, addService, call, cli, eventually, makeInstance, rest, restCode, sleep, startServer, token,
} from './server-lib.mjs';

function findLibfaketime() {
  try {
    const files = execFileSync('dpkg', ['-L', 'libfaketime'], { encoding: 'utf8' }).split('\n');
    return files.find((f) => /\/faketime\/libfaketimeMT\.so\.1$/.test(f)) ?? null;
  } catch {
    return null;
  }
}

const LIB = findLibfaketime();

// The server's wall clock as its answers' Date header tells it (seconds); /metrics is
// not a REST call, so asking does not count against the rate limit.
async function serverWallClock(srv) {
  const r = await call(`${srv.url}/metrics`);
  return Math.floor(Date.parse(r.headers.get('date')) / 1000);
}

const RATE = 3;          // calls
const WINDOW = 2;        // seconds

// A burst of RATE + 3 calls: the first RATE go, the rest are refused (606); then,
// after the window, calls go again.
async function assertRateWindow(srv, tok, when) {
  // start from a fresh window (refused calls count in it too: wait it out between tries)
  await eventually(`${when}: calls allowed`, () => rest(srv, USAGE, tok), (r) => restCode(r) === 'ok',
    { timeoutMs: 20_000, intervalMs: WINDOW * 1000 + 500 });
  await sleep(WINDOW * 1000 + 500);
  const codes = [];
  for (let i = 0; i < RATE + 3; i++) codes.push(restCode(await rest(srv, USAGE, tok)));
  assert.ok(codes.filter((c) => c === 'ok').length <= RATE, `${when}: at most ${RATE} calls in the window: ${codes}`);
  assert.equal(codes.at(-1), '606', `${when}: the burst is refused at the end: ${codes}`);
  // the window does not stick
  await eventually(`${when}: allowed again after the window`, () => rest(srv, USAGE, tok),
    (r) => restCode(r) === 'ok', { timeoutMs: 20_000, intervalMs: WINDOW * 1000 + 500 });
}

const usageTotal = (db) => Number(sql(db, 'SELECT coalesce(sum(count), 0) AS n FROM usage_daily')[0].n);

describe('a wall-clock jump while the server runs', () => {
  test('catalog reloads, the once-a-second writes and the rate window go on after a jump back and forward',
    async (t) => {
      // not a skip: make test installs it, and a check that did not run must not pass
      assert.ok(LIB, 'libfaketime is installed (scripts/deps.sh installs faketime)');
      const inst = makeInstance(t);
      cli(inst.db, 'limits', 'set', '--rate', `${RATE}/${WINDOW}`, '--daily', '0', '--concurrent', '0');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lk-clock-'));
      t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
      const offset = path.join(dir, 'faketime');
      fs.writeFileSync(offset, '+0\n');
      const srv = await startServer(t, inst.db, [], {
        env: {
          LD_PRELOAD: LIB,
          FAKETIME_TIMESTAMP_FILE: offset,
          FAKETIME_NO_CACHE: '1',              // read the file at every clock call
          FAKETIME_DONT_FAKE_MONOTONIC: '1',   // only the wall clock moves
          FAKETIME_DONT_RESET: '1',
          ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? 'detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=86'}:verify_asan_link_order=0`,
        },
      });
      let tok = await token(srv, inst.users[0].service);
      const real = Math.floor(Date.now() / 1000);
      assert.ok(Math.abs((await serverWallClock(srv)) - real) < 30, 'the server starts on the real time');
      await assertRateWindow(srv, tok, 'before any jump');

      for (const [jump, seconds, what] of [['-1h', -3600, 'an hour back'], ['+1d', 86400, 'a day forward']]) {
        fs.writeFileSync(offset, `${jump}\n`);
        // the jump took: the server's wall clock moved by it (its Date header)
        await eventually(`the server's clock moved ${what}`, () => serverWallClock(srv),
          (s) => Math.abs(s - (Math.floor(Date.now() / 1000) + seconds)) < 30, { timeoutMs: 15_000, intervalMs: 250 });

        if (seconds > 3600) {
          // an access token's expiry is wall-clock time (docs/security.md#clocks): a day
          // later, the token of before is expired; a new one is issued
          assert.match(restCode(await rest(srv, USAGE, tok)), /^60[12]$/, `${what}: the old token has expired`);
          tok = await token(srv, inst.users[0].service);
        }

        // catalog reloads: a service the CLI creates now gets a token from the server
        const svc = addService(inst.db, `after ${what}`, inst.users[0].email);
        await eventually(`${what}: a service created by the CLI reaches the server`,
          () => token(srv, svc).then(() => true, () => false), (ok) => ok, { timeoutMs: 10_000, intervalMs: 200 });

        // the once-a-second writes: calls made now are written to the database
        const before = usageTotal(inst.db);
        await assertRateWindow(srv, tok, what);
        const counted = await eventually(`${what}: the calls reach usage_daily`, () => usageTotal(inst.db),
          (n) => n >= before + 2, { timeoutMs: 10_000, intervalMs: 250 });
        t.diagnostic(`${what}: usage_daily ${before} → ${counted.value}`);
      }
      await srv.stop();
    });
});
