// latchkey serve: the console's JSON API, part 1 (docs/console-api.md; PRODUCT.md §5; issue 5):
// the first-admin setup link, the session cookie and its attributes, sign-in and its
// refusals, the lockout, the login history, session ends (logout, idle, lock, delete),
// CSRF, tokens and cookies never crossing over, and bad input.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CONSOLE_API, CONSOLE_SESSION_TOKEN, CONSOLE_USER_KEYS, USAGE, UM, addService, assertConsoleError,
  assertConsoleOk, assertOk, assertRestError, assertUmError, call, cli, consoleAdminCreate, consoleCall,
  consoleLogin, consoleReadyAdmin, consoleSessionOf, consoleSetCookies, consoleSetupLink, consoleSetupLinks, raw, rest,
  sleep, startServer, token,
} from './server-lib.mjs';
import { ADMIN_PERMS, count, newDb, sql } from './lib.mjs';

const SETUP_LINE = 'no administrator yet';
const PW = 'correct horse battery 1';
const setupBody = (tok, over = {}) => ({ token: tok, email: 'first.admin@example.com', firstName: 'Grace', lastName: 'Hopper',
  password: PW, ...over });

// what the console can change, to compare before and after a refused call
// The mailer of the running server works on its own schedule: it records each delivery as
// an Email event by "system" and mints a fresh invitation token (token_hash) at each send
// attempt. Neither is a change made by the refused call, so both stay out of the snapshot.
function snapshot(db) {
  const q = (s) => JSON.stringify(sql(db, s));
  return ['SELECT * FROM users ORDER BY id', 'SELECT * FROM roles ORDER BY id', 'SELECT * FROM role_permissions ORDER BY 1, 2',
    'SELECT * FROM user_roles ORDER BY 1, 2, 3', 'SELECT * FROM services ORDER BY id', 'SELECT * FROM allowlist ORDER BY id',
    "SELECT * FROM settings WHERE key NOT LIKE 'setup%' ORDER BY key", 'SELECT id, user_id, message, created_at, expires_at, accepted_at FROM invitations ORDER BY id',
    'SELECT id, user_id FROM sessions ORDER BY id', "SELECT * FROM audit_events WHERE NOT (actor = 'system' AND area = 'Email') ORDER BY id"].map(q).join('\n');
}

const lastLogins = (db, n = 1) => sql(db, `SELECT email, user_id, address, success, reason FROM login_history ORDER BY id DESC LIMIT ${n}`);

/* ---------------------------------------------------------------- setup */

describe('console API: the first-admin setup link', { concurrency: 1 }, () => {
  test('pending on a fresh database; wrong token and password rules refused; the link works once; a restart prints none', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    let srv = await startServer(null, db);
    t.after(() => srv.stop());
    const link = await consoleSetupLink(srv);
    assert.equal(link.base, srv.url, 'the link is on this server (public URL defaults to http://LISTEN)');
    assert.match(link.token, CONSOLE_SESSION_TOKEN);
    assert.ok(!sql(db, 'SELECT value FROM settings').some((r) => r.value.includes(link.token)), 'the token is kept only as a hash');
    assertConsoleOk(await consoleCall(srv, '/setup')); // no session needed
    assert.deepEqual((await consoleCall(srv, '/setup')).json, { pending: true });

    const before = snapshot(db);
    // a wrong token, a missing one, a token with a character changed
    const flipped = link.token.slice(0, -1) + (link.token.endsWith('A') ? 'B' : 'A');
    for (const [what, tok] of [['wrong', 'x'.repeat(43)], ['missing', undefined], ['flipped', flipped], ['empty', '']]) {
      const r = await consoleCall(srv, '/setup', { body: setupBody(tok) });
      assertConsoleError(r, 401, 'unauthorized', undefined, `${what} token`);
      assert.equal(consoleSetCookies(r).length, 0, `${what} token: no cookie`);
    }
    // password rules: at least 12 characters; not containing the names or the email's local part
    for (const [what, over] of [
      ['11 characters', { password: 'abcdefghijk' }], ['blank', { password: '' }],
      ['contains the first name', { password: 'my-grace-period-is-long' }],
      ['contains the last name (other case)', { password: 'HOPPER rides again 42' }],
      ['contains the email local part', { password: 'xx first.admin yy 1234' }],
    ]) {
      const r = await consoleCall(srv, '/setup', { body: setupBody(link.token, over) });
      assertConsoleError(r, 400, 'invalid', 'password', what);
    }
    assert.equal(snapshot(db), before, 'refused setups changed nothing');
    assert.equal(count(db, 'users'), 0);
    assert.deepEqual((await consoleCall(srv, '/setup')).json, { pending: true }, 'still pending');

    // the right token: the first Admin, signed in
    const r = await consoleCall(srv, '/setup', { body: setupBody(link.token) });
    const s = consoleSessionOf(srv, r, 'setup');
    assert.deepEqual(Object.keys(r.json).sort(), ['csrf', 'mustChangePassword', 'permissions', 'user']);
    assert.equal(r.json.mustChangePassword, false);
    assert.deepEqual(Object.keys(s.user).sort(), CONSOLE_USER_KEYS);
    assert.equal(s.user.email, 'first.admin@example.com');
    assert.equal(s.user.status, 'active');
    assert.equal(s.user.apiOnly, false);
    assert.deepEqual(s.user.roles, [{ roleId: 1, role: 'Admin', workspaceId: 0, workspace: 'AllZones' }]);
    assert.deepEqual([...s.permissions].sort(), [...ADMIN_PERMS].sort(), 'the Admin holds every Access Admin permission');
    const c = s.setCookie;
    assert.equal(c.attrs.path, '/');
    assert.equal(c.attrs.httponly, true);
    assert.equal(c.attrs.samesite, 'Strict');
    assert.ok(!('secure' in c.attrs), `no Secure on plain http: ${c.raw}`);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const row = sql(db, 'SELECT email, status, api_only, must_change_password, password_hash FROM users')[0];
    assert.equal(row.status, 'active');
    assert.equal(row.must_change_password, 0);
    assert.match(row.password_hash, /^\$argon2id\$/);
    assert.ok(!row.password_hash.includes(PW));
    assert.equal(count(db, 'sessions'), 1);
    assert.ok(!sql(db, 'SELECT token_hash FROM sessions')[0].token_hash.includes(s.cookie), 'only the hash of the cookie is stored');
    assert.deepEqual(sql(db, "SELECT area, action, target FROM audit_events WHERE area = 'User'"),
      [{ area: 'User', action: 'Create', target: 'first.admin@example.com' }]);
    // the session works
    const sess = assertConsoleOk(await s.call('/session'));
    assert.equal(sess.user.email, 'first.admin@example.com');
    assert.equal(sess.csrf, s.csrf);
    assert.deepEqual((await consoleCall(srv, '/setup')).json, { pending: false }, 'pending false once an admin exists');

    // a second use of the link, with the same or other data
    for (const over of [{}, { email: 'second@example.com', firstName: 'Sec', lastName: 'Ond' }]) {
      const again = await consoleCall(srv, '/setup', { body: setupBody(link.token, over) });
      assertConsoleError(again, 401, 'unauthorized', undefined, 'second use');
      assert.equal(consoleSetCookies(again).length, 0);
    }
    assert.equal(count(db, 'users'), 1);

    // a restart with an admin: no setup line, still not pending, the old link refused
    const err = await srv.stop();
    assert.equal(consoleSetupLinks({ stderr: () => err }).length, 1, 'one setup line on the first start');
    srv = await startServer(null, db);
    assertConsoleOk(await consoleCall(srv, '/session', { session: s }), 'the session survives a restart');
    assertConsoleError(await consoleCall(srv, '/setup', { body: setupBody(link.token, { email: 'x@example.com' }) }), 401, 'unauthorized');
    assert.deepEqual((await consoleCall(srv, '/setup')).json, { pending: false });
    const err2 = await srv.stop();
    assert.ok(!err2.includes(SETUP_LINE), `no setup line after a restart with an admin:\n${err2}`);
  });

  test('a restart before setup prints a new link; the old token stops working', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    let srv = await startServer(t, db);
    const first = await consoleSetupLink(srv);
    await srv.stop();
    srv = await startServer(t, db);
    const second = await consoleSetupLink(srv);
    assert.notEqual(second.token, first.token);
    assertConsoleError(await consoleCall(srv, '/setup', { body: setupBody(first.token) }), 401, 'unauthorized', undefined, 'old token');
    assert.equal(count(db, 'users'), 0);
    consoleSessionOf(srv, await consoleCall(srv, '/setup', { body: setupBody(second.token) }), 'new token');
  });

  test('an admin made with the CLI while the link is pending: the link stops working at once', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    const srv = await startServer(t, db);
    const link = await consoleSetupLink(srv);
    assert.deepEqual((await consoleCall(srv, '/setup')).json, { pending: true });
    consoleAdminCreate(db, 'cli.admin@example.com');
    assert.deepEqual((await consoleCall(srv, '/setup')).json, { pending: false });
    assertConsoleError(await consoleCall(srv, '/setup', { body: setupBody(link.token) }), 401, 'unauthorized');
    assert.equal(count(db, 'users'), 1);
  });

  test('`latchkey admin create` before the first start: no setup line, not pending', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    consoleAdminCreate(db, 'cli.admin@example.com');
    const srv = await startServer(t, db);
    assert.deepEqual((await consoleCall(srv, '/setup')).json, { pending: false });
    assertConsoleError(await consoleCall(srv, '/setup', { body: setupBody('a'.repeat(43)) }), 401, 'unauthorized');
    const err = await srv.stop();
    assert.ok(!err.includes(SETUP_LINE), `no setup line:\n${err}`);
  });
});

/* ---------------------------------------------------------------- cookie attributes */

describe('console API: the cookie behind TLS', { concurrency: 1 }, () => {
  test('--public-url https://…: the setup link uses it and the cookie is Secure (setup and login)', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    const srv = await startServer(t, db, ['--public-url', 'https://console.example.test']);
    const link = await consoleSetupLink(srv);
    assert.equal(link.base, 'https://console.example.test');
    const r = await consoleCall(srv, '/setup', { body: setupBody(link.token) });
    const s = consoleSessionOf(srv, r, 'setup');
    for (const c of [s.setCookie, (await consoleLogin(srv, 'first.admin@example.com', PW)).setCookie]) {
      assert.equal(c.attrs.secure, true, `Secure expected: ${c.raw}`);
      assert.equal(c.attrs.httponly, true);
      assert.equal(c.attrs.samesite, 'Strict');
      assert.equal(c.attrs.path, '/');
    }
    const out = await s.call('/logout', { method: 'POST' });
    assertConsoleOk(out);
    assert.equal(consoleSetCookies(out)[0].value, '');
  });

  test('behind a trusted proxy that says X-Forwarded-Proto: https the cookie is Secure; from anyone else it is not', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    const made = consoleAdminCreate(db, 'proxied@example.com');
    const srv = await startServer(t, db, ['--trusted-proxies', '127.0.0.1']);
    const r = await consoleCall(srv, '/login', { body: { email: 'proxied@example.com', password: made.password },
      headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '203.0.113.9' } });
    const c = consoleSessionOf(srv, r).setCookie;
    assert.deepEqual(lastLogins(db).map((x) => x.address), ['203.0.113.9'], 'the forwarded address is the one recorded');
    assert.equal(c.attrs.secure, true, `docs/console-api.md: Secure "behind a trusted proxy that says X-Forwarded-Proto: https"; got ${c.raw}`);

    const srv2 = await startServer(t, db, ['--trusted-proxies', '10.9.9.9']);
    const r2 = await consoleCall(srv2, '/login', { body: { email: 'proxied@example.com', password: made.password },
      headers: { 'X-Forwarded-Proto': 'https' } });
    assert.ok(!('secure' in consoleSessionOf(srv2, r2).setCookie.attrs), 'an untrusted X-Forwarded-Proto is ignored');
  });
});

/* ---------------------------------------------------------------- sign-in */

describe('console API: sign-in, no lockout, login history', { concurrency: 1 }, () => {
  let db;
  let srv;
  let boss;
  const PASSWORDS = {};
  before(async () => {
    db = newDb();
    cli(db, 'role', 'create', '--name', 'API Only', '--permission', 'Read-Only Lead');
    cli(db, 'user', 'invite', '--email', 'api@example.com', '--first', 'Api', '--last', 'User', '--role', 'API Only', '--api-only');
    cli(db, 'user', 'invite', '--email', 'pending@example.com', '--first', 'Pen', '--last', 'Ding', '--role', 'API Only');
    for (const e of ['locked@example.com', 'victim@example.com', 'steady@example.com', 'expired@example.com'])
      PASSWORDS[e] = consoleAdminCreate(db, e).password;
    cli(db, 'user', 'lock', 'locked@example.com');
    srv = await startServer(null, db);
    boss = await consoleReadyAdmin(srv, db, 'boss@example.com', PW);
  });
  after(async () => {
    await srv?.stop();
    db?.remove();
  });

  test('success answers user/csrf/permissions/mustChangePassword and records the attempt', async () => {
    const r = await consoleCall(srv, '/login', { body: { email: 'boss@example.com', password: PW } });
    const s = consoleSessionOf(srv, r);
    assert.deepEqual(Object.keys(r.json).sort(), ['csrf', 'mustChangePassword', 'permissions', 'user']);
    assert.equal(s.mustChangePassword, false);
    assert.equal(s.user.email, 'boss@example.com');
    assert.match(s.user.lastLoginAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.notEqual(s.cookie, boss.cookie, 'a new session per sign-in');
    assert.notEqual(s.csrf, boss.csrf, 'a CSRF token per session');
    assert.deepEqual(lastLogins(db), [{ email: 'boss@example.com', user_id: boss.id, address: '127.0.0.1', success: 1, reason: '' }]);
    // the email is matched without regard to case
    consoleSessionOf(srv, await consoleCall(srv, '/login', { body: { email: 'BOSS@Example.com', password: PW } }), 'upper-case email');
  });

  test('every refusal is the same 401 and no cookie; each is in the login history with its reason', async () => {
    // an access end in the past (the CLI only takes future ones)
    sql(db, "UPDATE users SET expires_at = 1000 WHERE email = 'expired@example.com'");
    const cases = [
      ['nobody@example.com', PW, 'unknown email', null],
      ['boss@example.com', 'wrong password 123', 'wrong password', 'boss@example.com'],
      ['api@example.com', PW, 'API-only user', 'api@example.com'],
      ['pending@example.com', PW, 'invitation not accepted', 'pending@example.com'],
      ['locked@example.com', PASSWORDS['locked@example.com'], null, 'locked@example.com'],
      ['expired@example.com', PASSWORDS['expired@example.com'], null, 'expired@example.com'],
      ['', PW, 'unknown email', null],
    ];
    let body;
    for (const [email, password, reason, owner] of cases) {
      const r = await consoleCall(srv, '/login', { body: { email, password } });
      assertConsoleError(r, 401, 'unauthorized', '', `login ${email}`);
      assert.equal(consoleSetCookies(r).length, 0, `${email}: no cookie`);
      if (body === undefined) body = r.text;
      assert.equal(r.text, body, `${email}: the same answer as every other refusal`);
      const row = lastLogins(db)[0];
      assert.equal(row.email, email);
      assert.equal(row.success, 0);
      assert.equal(row.address, '127.0.0.1');
      assert.equal(row.user_id, owner ? sql(db, `SELECT id FROM users WHERE email = '${owner}'`)[0].id : null);
      if (reason) assert.equal(row.reason, reason, `${email}: reason`);
      else assert.notEqual(row.reason, '', `${email}: a reason`);
    }
    // no body at all, or a body without a password
    assertConsoleError(await consoleCall(srv, '/login', { body: {} }), 401, 'unauthorized');
    assertConsoleError(await consoleCall(srv, '/login', { body: { email: 'boss@example.com' } }), 401, 'unauthorized');
    // the failure on boss's account did not lock it (one wrong password)
    assert.equal(sql(db, "SELECT status FROM users WHERE email = 'boss@example.com'")[0].status, 'active');
  });

  test('wrong passwords never lock: 5 from one address slow that address down, the session goes on, nothing is audited', async () => {
    const email = 'victim@example.com';
    const right = PASSWORDS[email];
    const s = await consoleLogin(srv, email, right);
    assertConsoleOk(await s.call('/session'));
    const auditBefore = count(db, 'audit_events');
    for (let i = 1; i <= 5; i++) {
      assertConsoleError(await consoleCall(srv, '/login', { body: { email, password: `wrong password ${i}` } }), 401, 'unauthorized');
      const u = sql(db, `SELECT status, failed_logins FROM users WHERE email = '${email}'`)[0];
      assert.deepEqual([u.status, u.failed_logins], ['active', i], `after ${i} wrong passwords`);
    }
    // the 6th attempt of this (account, address) waits, whatever the password: a 429
    // before any check, not an attempt (not in the login history)
    const historyBefore = count(db, 'login_history');
    const r = await consoleCall(srv, '/login', { body: { email, password: right } });
    assertConsoleError(r, 429, 'throttled', '', 'the 6th attempt');
    const wait = Number(r.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 2, `Retry-After: ${r.headers.get('retry-after')}`);
    assert.equal(count(db, 'login_history'), historyBefore);
    // nobody locked the account and nothing was audited; the session signed in before goes on
    assert.equal(sql(db, `SELECT status FROM users WHERE email = '${email}'`)[0].status, 'active');
    assert.equal(count(db, 'audit_events'), auditBefore);
    assertConsoleOk(await s.call('/session'));
    // after the wait, the right password works (and clears the count)
    await sleep(wait * 1000 + 200);
    const back = await consoleLogin(srv, email, right);
    assertConsoleOk(await back.call('/session'));
    assert.equal(sql(db, `SELECT failed_logins FROM users WHERE email = '${email}'`)[0].failed_logins, 0);
  });

  test('a success resets the count: 4 wrong, right, 4 wrong leaves the user active', async () => {
    const email = 'steady@example.com';
    const wrong = () => consoleCall(srv, '/login', { body: { email, password: 'not the password' } });
    for (let i = 0; i < 4; i++) assertConsoleError(await wrong(), 401, 'unauthorized');
    await consoleLogin(srv, email, PASSWORDS[email]);
    assert.equal(sql(db, `SELECT failed_logins FROM users WHERE email = '${email}'`)[0].failed_logins, 0);
    for (let i = 0; i < 4; i++) assertConsoleError(await wrong(), 401, 'unauthorized');
    assert.equal(sql(db, `SELECT status FROM users WHERE email = '${email}'`)[0].status, 'active');
    await consoleLogin(srv, email, PASSWORDS[email]);
  });

  test('GET /admin/api/logins: newest first, ?failed=1, ?email=, ?limit, and CSV with a header row', async () => {
    const all = assertConsoleOk(await boss.call('/logins?limit=1000')).logins;
    const rows = sql(db, 'SELECT id, email, user_id, address, success, reason FROM login_history ORDER BY id DESC');
    assert.equal(all.length, rows.length);
    for (const [i, e] of all.entries()) {
      assert.deepEqual(Object.keys(e).sort(), ['address', 'at', 'email', 'id', 'reason', 'success', 'userId']);
      assert.deepEqual([e.id, e.email, e.userId, e.address, e.success, e.reason],
        [rows[i].id, rows[i].email, rows[i].user_id, rows[i].address, rows[i].success === 1, rows[i].reason]);
      assert.match(e.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(e.address, '127.0.0.1');
    }
    const failed = assertConsoleOk(await boss.call('/logins?failed=1&limit=1000')).logins;
    assert.equal(failed.length, rows.filter((r) => !r.success).length);
    assert.ok(failed.every((e) => e.success === false));
    const victim = assertConsoleOk(await boss.call('/logins?email=victim@example.com&limit=1000')).logins;
    assert.ok(victim.length >= 7, JSON.stringify(victim));
    assert.ok(victim.every((e) => e.email === 'victim@example.com'));
    assert.ok(victim.some((e) => e.reason === 'wrong password') && victim.some((e) => e.success));
    assert.equal(assertConsoleOk(await boss.call('/logins?limit=2')).logins.length, 2);
    assert.deepEqual(assertConsoleOk(await boss.call('/logins?since=2999-01-01')).logins, []);
    assertConsoleError(await boss.call('/logins?since=yesterday-ish'), 400, 'invalid', 'since');
    assertConsoleError(await boss.call('/logins?limit=0'), 400, 'invalid', 'limit');

    const csv = await boss.call('/logins?format=csv&limit=1000');
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type'), /^text\/csv/);
    assert.match(csv.headers.get('content-disposition') || '', /^attachment; filename="[^"]+\.csv"$/);
    const lines = csv.text.split('\r\n');
    assert.equal(lines.pop(), '', 'CRLF after the last row');
    assert.equal(lines[0], 'time,email,address,success,reason');
    assert.equal(lines.length - 1, rows.length);
    assert.match(lines[1], /^"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ","[^"]*","127\.0\.0\.1","(yes|no)","[^"]*"$/);
    // a formula-like email typed at the sign-in form is defused in the CSV
    assertConsoleError(await consoleCall(srv, '/login', { body: { email: '=HYPERLINK("http://x","y")', password: 'p' } }), 401, 'unauthorized');
    const csv2 = await boss.call('/logins?format=csv&failed=1&limit=1');
    assert.ok(csv2.text.split('\r\n')[1].includes(`,"'=HYPERLINK(""http://x"",""y"")",`), csv2.text);
  });
});

/* ---------------------------------------------------------------- sessions */

describe('console API: sessions', { concurrency: 1 }, () => {
  let db;
  let srv;
  let boss;
  before(async () => {
    db = newDb();
    srv = await startServer(null, db);
    boss = await consoleReadyAdmin(srv, db, 'boss@example.com', PW);
  });
  after(async () => {
    await srv?.stop();
    db?.remove();
  });

  test('no cookie, a garbage cookie, a well-formed unknown one → 401 unauthorized, nothing changed', async () => {
    const before = snapshot(db);
    for (const [what, cookie] of [['none', undefined], ['garbage', 'garbage'], ['empty', ''], ['unknown', 'A'.repeat(43)],
      ['longer', `${boss.cookie}x`], ['the csrf token', boss.csrf]]) {
      assertConsoleError(await consoleCall(srv, '/session', { cookie }), 401, 'unauthorized', '', `${what}: session`);
      assertConsoleError(await consoleCall(srv, '/users', { cookie }), 401, 'unauthorized', '', `${what}: users`);
      assertConsoleError(await consoleCall(srv, '/roles', { cookie, csrf: boss.csrf, body: { name: 'Sneaky', permissions: ['Read-Only Lead'] } }),
        401, 'unauthorized', '', `${what}: create role`);
    }
    // another cookie name with the right value does not count
    const other = await call(`${srv.url}${CONSOLE_API}/session`, { headers: { Cookie: `session=${boss.cookie}` } });
    assertConsoleError(other, 401, 'unauthorized');
    // the right cookie among others is found
    assertConsoleOk(await call(`${srv.url}${CONSOLE_API}/session`, { headers: { Cookie: `a=b; lk_session=${boss.cookie}; c=d` } }));
    assert.equal(snapshot(db), before);
  });

  test('logout ends the session: cookie cleared, the old cookie → 401, other sessions live on', async () => {
    const s = await consoleLogin(srv, 'boss@example.com', PW);
    const n = count(db, 'sessions');
    const r = await s.call('/logout', { method: 'POST' });
    assert.deepEqual(assertConsoleOk(r), { ok: true });
    const cleared = consoleSetCookies(r);
    assert.equal(cleared.length, 1);
    assert.equal(cleared[0].value, '');
    assert.ok(cleared[0].attrs['max-age'] === '0' || /1970/.test(cleared[0].attrs.expires || ''), cleared[0].raw);
    assert.equal(count(db, 'sessions'), n - 1);
    assertConsoleError(await s.call('/session'), 401, 'unauthorized');
    assertConsoleError(await s.call('/logout', { method: 'POST' }), 401, 'unauthorized');
    assertConsoleOk(await boss.call('/session'), 'the other session is untouched');
  });

  test('a user locked or deleted (console or CLI) loses the session at once', async () => {
    const mk = async (email) => {
      const s = await consoleReadyAdmin(srv, db, email, PW);
      assertConsoleOk(await s.call('/users')).users;
      return s;
    };
    const a = await mk('lock-by-api@example.com');
    assertConsoleOk(await boss.call(`/users/${a.id}/lock`, { body: { reason: 'left the team' } }));
    assertConsoleError(await a.call('/users'), 401, 'unauthorized', '', 'locked by the console');
    assertConsoleError(await a.call('/session'), 401, 'unauthorized');
    assertConsoleError(await consoleCall(srv, '/login', { body: { email: 'lock-by-api@example.com', password: PW } }), 401, 'unauthorized');

    const b = await mk('lock-by-cli@example.com');
    cli(db, 'user', 'lock', 'lock-by-cli@example.com');
    assertConsoleError(await b.call('/users'), 401, 'unauthorized', '', 'locked by the CLI');

    const c = await mk('delete-by-api@example.com');
    assert.deepEqual(assertConsoleOk(await boss.call(`/users/${c.id}`, { method: 'DELETE' })), { ok: true });
    assertConsoleError(await c.call('/session'), 401, 'unauthorized', '', 'deleted by the console');
    assert.equal(count(db, 'sessions', `user_id = ${c.id}`), 0);

    const d = await mk('delete-by-cli@example.com');
    cli(db, 'user', 'delete', 'delete-by-cli@example.com');
    assertConsoleError(await d.call('/session'), 401, 'unauthorized', '', 'deleted by the CLI');

    const e = await mk('expired@example.com');
    sql(db, "UPDATE users SET expires_at = 1000 WHERE email = 'expired@example.com'");
    assertConsoleError(await e.call('/session'), 401, 'unauthorized', '', 'access expired');
  });
});

describe('console API: --console-idle-timeout 5', { concurrency: true }, () => {
  let db;
  let srv;
  before(async () => {
    db = newDb();
    srv = await startServer(null, db, ['--console-idle-timeout', '5']);
    await consoleReadyAdmin(srv, db, 'boss@example.com', PW);
  });
  after(async () => {
    await srv?.stop();
    db?.remove();
  });

  test('a session idle longer than the timeout → 401, and it stays ended', async () => {
    const s = await consoleLogin(srv, 'boss@example.com', PW);
    assertConsoleOk(await s.call('/session'));
    await sleep(6500);
    assertConsoleError(await s.call('/session'), 401, 'unauthorized', '', 'after 6.5 s idle');
    assertConsoleError(await s.call('/users'), 401, 'unauthorized');
    // a new sign-in works
    assertConsoleOk(await (await consoleLogin(srv, 'boss@example.com', PW)).call('/session'));
  });

  test('a session in use does not end: a request every 1.5 s for 7.5 s keeps it', async () => {
    const s = await consoleLogin(srv, 'boss@example.com', PW);
    const start = Date.now();
    const seen = [];
    while (Date.now() - start < 7500) {
      await sleep(1500);
      const r = await s.call('/session');
      seen.push(`${Math.round((Date.now() - start) / 100) / 10}s:${r.status}`);
    }
    assert.ok(seen.every((x) => x.endsWith(':200')),
      `never more than 1.5 s idle, so the session must live on (idle timeout 5 s); got ${seen.join(' ')}`);
  });
});

/* ---------------------------------------------------------------- CSRF */

describe('console API: CSRF', { concurrency: 1 }, () => {
  let db;
  let srv;
  let boss;
  let other;
  const ids = {};
  before(async () => {
    db = newDb();
    const role = cli(db, 'role', 'create', '--name', 'API Only', '--permission', 'Read-Only Lead').role;
    const u = cli(db, 'user', 'invite', '--email', 'api@example.com', '--first', 'Api', '--last', 'User', '--role', 'API Only', '--api-only').user;
    addService(db, 'Sync', 'api@example.com');
    cli(db, 'allowlist', 'add', '10.0.0.0/8');
    srv = await startServer(null, db);
    boss = await consoleReadyAdmin(srv, db, 'boss@example.com', PW);
    other = await consoleLogin(srv, 'boss@example.com', PW);
    ids.role = role.id;
    ids.user = u.id;
    ids.service = sql(db, 'SELECT id FROM services')[0].id;
  });
  after(async () => {
    await srv?.stop();
    db?.remove();
  });

  const CHANGES = () => [
    ['POST', '/roles', { name: 'New', permissions: ['Read-Only Lead'] }],
    ['PUT', `/roles/${ids.role}`, { description: 'changed' }],
    ['DELETE', `/roles/${ids.role}`],
    ['POST', '/users', { email: 'n@example.com', firstName: 'N', lastName: 'U', apiOnly: true, grants: [{ roleId: ids.role, workspaceId: 0 }] }],
    ['PUT', `/users/${ids.user}`, { firstName: 'Changed' }],
    ['POST', `/users/${ids.user}/lock`, { reason: 'x' }],
    ['POST', `/users/${ids.user}/unlock`, {}],
    ['DELETE', `/users/${ids.user}`],
    ['POST', '/services', { name: 'Other', userEmail: 'api@example.com' }],
    ['POST', `/services/${ids.service}/token`],
    ['POST', `/services/${ids.service}/rotate`, { graceSeconds: 0 }],
    ['DELETE', `/services/${ids.service}`],
    ['POST', '/allowlist', { cidr: '192.168.0.0/16' }],
    ['DELETE', '/allowlist?cidr=10.0.0.0/8'],
    ['PUT', '/allowlist', { enabled: true }],
    ['PUT', '/limits', { rate: '5/10' }],
    ['POST', '/password', { current: PW, password: 'another long password 2' }],
    ['POST', '/logout'],
  ];

  test('every POST/PUT/DELETE without X-CSRF-Token, with a wrong one, or with another session\'s → 403 csrf, nothing changed', async () => {
    const before = snapshot(db);
    // tokens are not stored (they verify themselves): the server's count of minted ones tells
    const minted = async () => Number((await call(`${srv.url}/metrics`)).text.match(/^latchkey_tokens_issued_total (\d+)$/m)[1]);
    const tokensBefore = await minted();
    const wrong = { none: null, empty: '', zeros: '0'.repeat(64), upper: boss.csrf.toUpperCase(), short: boss.csrf.slice(0, 63),
      'the cookie': boss.cookie, "another session's": other.csrf };
    for (const [method, path, body] of CHANGES()) {
      for (const [what, csrf] of Object.entries(wrong)) {
        const r = await consoleCall(srv, path, { method, body, session: boss, csrf });
        assertConsoleError(r, 403, 'csrf', '', `${method} ${path} with ${what} CSRF token`);
        assert.equal(consoleSetCookies(r).length, 0, `${method} ${path}: the cookie is left alone`);
      }
    }
    assert.equal(snapshot(db), before, 'nothing changed');
    assert.equal(await minted(), tokensBefore, 'no token issued');
    assertConsoleOk(await boss.call('/session'), 'the session still works');
    // the right token from GET /session works
    const csrf = assertConsoleOk(await boss.call('/session')).csrf;
    assert.equal(csrf, boss.csrf);
    assert.equal(assertConsoleOk(await boss.call('/roles', { body: { name: 'With Csrf', permissions: ['Read-Only Lead'] }, csrf })).name, 'With Csrf');
  });

  test('GET needs no CSRF token; login and setup need none', async () => {
    assertConsoleOk(await boss.call('/users', { csrf: null }));
    consoleSessionOf(srv, await consoleCall(srv, '/login', { body: { email: 'boss@example.com', password: PW } }));
    assertConsoleError(await consoleCall(srv, '/setup', { body: setupBody('x'.repeat(43)) }), 401, 'unauthorized');
  });
});

/* ---------------------------------------------------------------- tokens vs cookies */

describe('console API: API tokens and console sessions never cross over', { concurrency: 1 }, () => {
  let db;
  let srv;
  let boss;
  let tok;
  before(async () => {
    db = newDb();
    // an API-only user that even holds every user management permission
    cli(db, 'role', 'create', '--name', 'Everything Api', '--permission', 'Read-Only Lead', '--permission', 'Access User Management Api',
      '--permission', 'Access Users');
    cli(db, 'user', 'invite', '--email', 'api@example.com', '--first', 'Api', '--last', 'User', '--role', 'Everything Api', '--api-only');
    const svc = addService(db, 'Sync', 'api@example.com');
    srv = await startServer(null, db);
    boss = await consoleReadyAdmin(srv, db, 'boss@example.com', PW);
    tok = await token(srv, svc);
    assertOk(await rest(srv, USAGE, tok), 'the token works on /rest');
  });
  after(async () => {
    await srv?.stop();
    db?.remove();
  });

  test('Authorization: Bearer <valid access token> without a cookie → 401 on the console API', async () => {
    const before = snapshot(db);
    for (const [method, path, body] of [['GET', '/session'], ['GET', '/users'], ['GET', '/roles'], ['GET', '/webservices'],
      ['POST', '/roles', { name: 'Via Token', permissions: ['Read-Only Lead'] }], ['POST', '/logout']]) {
      const r = await consoleCall(srv, path, { method, body, headers: { Authorization: `Bearer ${tok}` } });
      assertConsoleError(r, 401, 'unauthorized', '', `${method} ${path} with a Bearer token`);
    }
    // ?access_token= neither
    assertConsoleError(await consoleCall(srv, `/users?access_token=${tok}`), 401, 'unauthorized');
    assert.equal(snapshot(db), before);
    // with a session the Authorization header is ignored (a garbage one does not hurt)
    assertConsoleOk(await boss.call('/users', { headers: { Authorization: 'Bearer garbage' } }));
  });

  test('the session cookie → 601 on /rest and on /userservice', async () => {
    const cookie = { Cookie: `lk_session=${boss.cookie}`, 'X-CSRF-Token': boss.csrf };
    assertRestError(await rest(srv, USAGE, undefined, { headers: cookie }), 601, 'Access token invalid', 'usage with the cookie');
    assertRestError(await rest(srv, USAGE, boss.cookie), 601, 'Access token invalid', 'the cookie value as a Bearer token');
    assertRestError(await rest(srv, USAGE, undefined, { query: { access_token: boss.cookie } }), 601, 'Access token invalid', 'as ?access_token');
    assertUmError(await call(`${srv.url}${UM}/allusers.json`, { headers: cookie }), 401, 601, 'Access token invalid', 'user management with the cookie');
    assertUmError(await call(`${srv.url}${UM}/allusers.json`, { headers: { Authorization: `Bearer ${boss.cookie}` } }), 401, 601,
      'Access token invalid', 'the cookie value as a Bearer token');
  });
});

/* ---------------------------------------------------------------- bad input */

describe('console API: bad input', { concurrency: 1 }, () => {
  let db;
  let srv;
  let boss;
  before(async () => {
    db = newDb();
    srv = await startServer(null, db);
    boss = await consoleReadyAdmin(srv, db, 'boss@example.com', PW);
  });
  after(async () => {
    await srv?.stop();
    db?.remove();
  });

  test('a body that is not application/json → 415 unsupported_media_type, nothing changed', async () => {
    const before = snapshot(db);
    const body = JSON.stringify({ name: 'Typed', permissions: ['Read-Only Lead'] });
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonp', 'text/json', null]) {
      assertConsoleError(await boss.call('/roles', { body, contentType: ct }), 415, 'unsupported_media_type', '', `content type ${ct}`);
    }
    assertConsoleError(await consoleCall(srv, '/login', { body: JSON.stringify({ email: 'boss@example.com', password: PW }), contentType: 'text/plain' }),
      415, 'unsupported_media_type', '', 'login as text/plain');
    assert.equal(snapshot(db), before);
    // parameters after the type are fine
    assertConsoleOk(await boss.call('/roles', { body, contentType: 'application/json; charset=utf-8' }));
  });

  test('malformed JSON, or JSON that is not an object → 400 invalid', async () => {
    const before = snapshot(db);
    for (const body of ['{bad', '[]', '"text"', '42', 'null', '{"name":"A","name":"B"}', '{"name":"A"} trailing']) {
      assertConsoleError(await boss.call('/roles', { body }), 400, 'invalid', undefined, `body ${body}`);
    }
    for (const [what, body] of [['name not text', { name: 42 }], ['permissions not a list', { name: 'P', permissions: 'Read-Only Lead' }],
      ['a permission not text', { name: 'P', permissions: [1] }]]) {
      const e = assertConsoleError(await boss.call('/roles', { body }), 400, 'invalid', undefined, what);
      assert.ok(['name', 'permissions'].includes(e.field), `${what}: field ${e.field}`);
    }
    assertConsoleError(await consoleCall(srv, '/login', { body: '{"email":' }), 400, 'invalid', '', 'login');
    assert.equal(snapshot(db), before);
  });

  test('unknown paths → 404 not_found; a wrong method → 405; ids that are not positive numbers → 404', async () => {
    for (const path of ['/nothing', '/users/1/nothing', '/roles/1/2', '/', '/session/', '/Users']) {
      assertConsoleError(await boss.call(path), 404, 'not_found', '', `GET ${path}`);
    }
    assertConsoleError(await consoleCall(srv, '/nothing'), 404, 'not_found', '', 'without a session');
    for (const [method, path] of [['DELETE', '/session'], ['PUT', '/login'], ['GET', '/logout'], ['GET', '/password'],
      ['DELETE', '/roles'], ['GET', '/users/1/lock'], ['PUT', '/services/1/token'], ['POST', '/webservices'], ['POST', '/limits'],
      ['PATCH', '/roles/1'], ['DELETE', '/audit']]) {
      assertConsoleError(await boss.call(path, { method }), 405, 'method_not_allowed', '', `${method} ${path}`);
    }
    for (const [method, path] of [['PUT', '/roles/abc'], ['DELETE', '/roles/-1'], ['PUT', '/users/1x'], ['DELETE', '/users/0'],
      ['POST', '/users/0x1/lock'], ['GET', '/services/abc'], ['POST', '/services/1.5/token'], ['DELETE', '/services/99999999999999999999'],
      ['GET', '/services/99999'], ['DELETE', '/users/99999'], ['PUT', '/roles/99999']]) {
      assertConsoleError(await boss.call(path, { method, body: method === 'GET' || method === 'DELETE' ? undefined : {} }), 404, 'not_found', '',
        `${method} ${path}`);
    }
    // odd methods through a raw request
    const r = await raw(srv, { method: 'OPTIONS', path: `${CONSOLE_API}/session` });
    assert.ok([404, 405].includes(r.status), `OPTIONS: ${r.status} ${r.text}`);
  });
});


/* ---------------------------------------------------------------- sign-in throttle */

describe('console API: failed sign-ins per address', { concurrency: 1 }, () => {
  test('--login-fail-limit 3: the 4th attempt within the window → 429 throttled with Retry-After, even with the right password', async (t) => {
    const db = newDb();
    t.after(() => db.remove());
    const admin = consoleAdminCreate(db, 'throttle.admin@example.com');
    const srv = await startServer(t, db, ['--login-fail-limit', '3']);
    for (const email of ['nobody@example.com', 'throttle.admin@example.com', 'someone@example.com']) {
      assertConsoleError(await consoleCall(srv, '/login', { body: { email, password: 'not the password at all' } }), 401,
        'unauthorized', undefined, `failed sign-in of ${email}`);
    }
    const r = await consoleCall(srv, '/login', { body: { email: 'throttle.admin@example.com', password: admin.password } });
    assertConsoleError(r, 429, 'throttled', undefined, 'throttled');
    assert.match(r.headers.get('retry-after') || '', /^[1-9][0-9]*$/, 'Retry-After in seconds');
    // a throttled attempt is not a sign-in attempt: not in the login history, no lockout counted
    assert.equal(count(db, 'login_history'), 3);
    assert.equal(sql(db, "SELECT failed_logins AS n FROM users WHERE email = 'throttle.admin@example.com'")[0].n, 1);
  });
});
