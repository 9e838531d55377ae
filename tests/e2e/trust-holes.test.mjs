// The smaller holes of issue 11 §5, closed, on the real binary: the first-administrator setup
// link is shown on a terminal or else written to a 0600 file next to the database (never to the
// log), dies as soon as any administrator exists and does not come back when none is active; the
// access log escapes the method as it does the path; an email cut to its stored length is cut
// where a character ends (Login History keeps the row); every answer says nosniff and denies
// framing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  CONSOLE_SETUP_LINE, USAGE, consoleAdminCreate, consoleCall, consoleReadyAdmin, consoleSetupLink, identity,
  rawConnection, raw, startServer,
} from './server-lib.mjs';
import { BIN, newDb, sql } from './lib.mjs';

const PW = 'correct horse battery 1';
const setupBody = (token) => ({ token, email: 'first.admin@example.com', firstName: 'First', lastName: 'Admin', password: PW });

describe('the first-administrator setup link', () => {
  test('not on a terminal: the log names a 0600 file next to the database, never the link; the link in it works once', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    const srv = await startServer(t, db);
    const link = await consoleSetupLink(srv);
    assert.equal(link.file, `${db.path}-setup-link`);
    assert.equal(fs.statSync(link.file).mode & 0o777, 0o600);
    assert.ok(!srv.stderr().includes(link.token), 'the token is not in the log');
    assert.ok(!srv.stderr().includes('/setup#'), 'no link in the log at all');
    assert.equal((await consoleCall(srv, '/setup', { body: setupBody(link.token) })).status, 200);
    assert.equal((await consoleCall(srv, '/setup', { body: setupBody(link.token) })).status, 401, 'once');
    // a restart with an administrator removes the file and prints nothing about setup
    await srv.stop();
    const again = await startServer(t, db);
    await again.stop();
    assert.ok(!fs.existsSync(link.file), 'the leftover file is gone');
    assert.equal([...again.stderr().matchAll(CONSOLE_SETUP_LINE)].length, 0);
  });

  test('on a terminal: the link is shown there, and no file is written', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    const pidFile = path.join(db.dir, 'serve.pid');
    // `script` gives the server a pseudo-terminal; the shell notes the server's pid for the stop
    const inner = `echo $$ > ${pidFile}; exec ${BIN} serve --db ${db.path} --listen 127.0.0.1:0`;
    const p = spawn('script', ['-q', '-f', '-e', '-c', inner, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    const exited = new Promise((resolve) => p.on('exit', resolve));
    try {
      const deadline = Date.now() + 20_000;
      while (!/to create the first one/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, /no administrator yet: open http:\/\/127\.0\.0\.1:\d+\/setup#[A-Za-z0-9_-]{43} to create the first one \(valid for 24 hours\)/);
      assert.ok(!fs.existsSync(`${db.path}-setup-link`), 'no file when the link was shown');
    } finally {
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
      await exited;
    }
  });

  test('it dies once any administrator exists, and does not come back when the only Admin is no longer active', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    let srv = await startServer(t, db);
    const link = await consoleSetupLink(srv);
    consoleAdminCreate(db, 'cli.admin@example.com');
    assert.deepEqual((await consoleCall(srv, '/setup')).json, { pending: false });
    // the only Admin's access runs out (as time passes): no one is an active Admin now
    sql(db, `UPDATE users SET expires_at = ${Math.floor(Date.now() / 1000) - 60}`);
    assert.equal((await consoleCall(srv, '/setup', { body: setupBody(link.token) })).status, 401, 'the old link');
    await srv.stop();
    srv = await startServer(t, db);
    await srv.stop();
    assert.equal([...srv.stderr().matchAll(CONSOLE_SETUP_LINE)].length, 0, `no new link after a restart:\n${srv.stderr()}`);
    assert.ok(!srv.stderr().includes('/setup#'));
    assert.deepEqual(sql(db, "SELECT value FROM settings WHERE key = 'setup.token_hash'"), [{ value: '' }]);
    assert.equal(sql(db, 'SELECT count(*) AS n FROM users')[0].n, 1);
  });

  test('a person invited with the Admin role (not yet accepted) is an administrator: no setup link', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    const { cli } = await import('./server-lib.mjs');
    cli(db, 'user', 'invite', '--email', 'boss@example.com', '--first', 'B', '--last', 'S', '--role', 'Admin');
    const srv = await startServer(t, db);
    assert.deepEqual((await consoleCall(srv, '/setup')).json, { pending: false });
    await srv.stop();
    assert.equal([...srv.stderr().matchAll(CONSOLE_SETUP_LINE)].length, 0);
  });
});

describe('the access log and stored emails', () => {
  test('a method with TAB, ESC or BEL is escaped in the access log like the path: no planted fields or escapes', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    const srv = await startServer(t, db);
    for (const method of ['G\x1bET', 'GE\x07T', 'GET\tuser=admin@example.com', 'X\x1b[31m']) {
      const c = rawConnection(srv);
      await c.write(`${method} /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const r = await c.response();
      assert.equal(r.status, 405);
      c.destroy();
    }
    await srv.stop();
    const lines = srv.stderr().split('\n').filter((l) => l.includes('path="/healthz"'));
    assert.equal(lines.length, 4, srv.stderr());
    for (const l of lines) {
      assert.ok(!/[\x00-\x1f\x7f]/.test(l), `no control character in ${JSON.stringify(l)}`);
      assert.equal((l.match(/ user=/g) || []).length, 1, `one user field: ${l}`);
    }
    assert.ok(lines.some((l) => /method="?G%1BET"? /.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /method="?GET%09user=admin@example\.com"? /.test(l)), lines.join('\n'));
  });

  test('an email longer than is kept is cut where a character ends: the failed sign-in still shows in Login History', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    const made = consoleAdminCreate(db, 'boss@example.com');
    const srv = await startServer(t, db);
    const boss = await consoleReadyAdmin(srv, db, 'boss@example.com', PW, { created: made });
    // 1 + 2 × 150 bytes: a cut at 254 bytes would split the 127th "é"
    const email = `a${'é'.repeat(150)}@example.com`;
    const r = await consoleCall(srv, '/login', { body: { email, password: 'wrong wrong wrong' } });
    assert.equal(r.status, 401);
    const stored = sql(db, "SELECT email FROM login_history WHERE success = 0 AND email LIKE 'a%'")[0].email;
    assert.equal(stored, `a${'é'.repeat(126)}`, 'cut before the character that would not fit');
    const logins = await boss.call('/logins?failed=1');
    assert.equal(logins.status, 200, logins.text);
    const rows = logins.json.logins;
    assert.ok(rows.some((x) => x.email === stored), `the row is listed: ${logins.text.slice(0, 500)}`);
  });
});

describe('headers on every answer', () => {
  test('X-Content-Type-Options: nosniff and X-Frame-Options: DENY everywhere; the console\'s CSP denies framing too', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    const srv = await startServer(t, db);
    const answers = {
      healthz: await raw(srv, { path: '/healthz' }),
      metrics: await raw(srv, { path: '/metrics' }),
      rest601: await raw(srv, { path: USAGE }),
      um401: await raw(srv, { path: '/userservice/management/v1/users/allusers.json' }),
      identity: await identity(srv, { grant_type: 'client_credentials', client_id: 'x', client_secret: 'y' }),
      metadata: await raw(srv, { path: '/.well-known/oauth-authorization-server' }),
      console401: await raw(srv, { path: '/admin/api/session' }),
      notFound: await raw(srv, { path: '/nothing/here' }),
      methodNotAllowed: await raw(srv, { method: 'DELETE', path: '/healthz' }),
      page: await raw(srv, { path: '/' }),
      asset: await raw(srv, { path: '/console/app.js' }),
    };
    for (const [what, r] of Object.entries(answers)) {
      const h = (name) => (typeof r.headers.get === 'function' ? r.headers.get(name) : r.headers[name]);
      assert.equal(h('x-content-type-options'), 'nosniff', `${what} (${r.status})`);
      assert.equal(h('x-frame-options'), 'DENY', `${what} (${r.status})`);
    }
    assert.match(answers.page.headers['content-security-policy'], /frame-ancestors 'none'/);
    // once each, not twice
    const c = rawConnection(srv);
    await c.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const page = await c.response();
    assert.equal((page.raw.match(/\r\nX-Content-Type-Options:/gi) || []).length, 1);
    assert.equal((page.raw.match(/\r\nX-Frame-Options:/gi) || []).length, 1);
    c.destroy();
  });
});
