// Helpers for the end-to-end tests of `latchkey serve` (tests/e2e/server-*.test.mjs).
//
// Every server runs the real binary ($LATCHKEY_BIN) on its own database in its own
// temporary folder, prepared with the CLI (role, API-only users, services), listening
// on 127.0.0.1 (or ::1) port 0. stop() sends SIGTERM and asserts a clean exit: status
// 0 and no sanitizer report on stderr. Nothing here talks to any other host.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BIN, ON_PG, lk, newDb, sleep } from './lib.mjs';

export { sleep };

// a PostgreSQL node opens about eight connections as it starts (workers, prober, listener):
// on a loaded machine under ASan that takes longer; a bound, not a timing assertion
export const START_TIMEOUT_MS = ON_PG ? 60_000 : 20_000;
// the log record that says where the server listens (logfmt or JSON)
export const LISTENING_LINE = /listening on (https?:\/\/(\S+?):(\d+))["\s]/;
export const STOP_TIMEOUT_MS = 20_000;
export const SANITIZER_MARKS = ['ERROR: AddressSanitizer', 'LeakSanitizer', 'runtime error:'];
export const REQUEST_ID = /^[0-9a-f]+#[0-9a-f]+$/;
// an access token: LK_TOKEN_LEN (src/core/token.h) base64url characters
export const TOKEN_RE = /^[A-Za-z0-9_-]{64}$/;

const SANITIZER_ENV = {
  ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=86',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1:exitcode=87',
  LSAN_OPTIONS: 'exitcode=88',
};

// Every test signs in from 127.0.0.1, and suites that sign in wrongly on purpose share
// a server: the per-address sign-in throttle is set out of their way here (the one
// test of the throttle sets --login-fail-limit, which wins over the environment).
const TEST_DEFAULTS = { LATCHKEY_LOGIN_FAIL_LIMIT: '100000' };

function serverEnv(extra = {}) {
  const e = { ...process.env };
  for (const k of Object.keys(e)) if (k.startsWith('LATCHKEY_') && k !== 'LATCHKEY_BIN') delete e[k];
  for (const [k, v] of Object.entries(SANITIZER_ENV)) if (!e[k]) e[k] = v;
  Object.assign(e, TEST_DEFAULTS);
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete e[k];
    else e[k] = v;
  }
  return e;
}

/* ---------------------------------------------------------------- CLI fixtures */

// Runs a CLI command on the database and asserts success; returns the parsed --json.
export function cli(db, ...args) {
  const r = lk(db, ...args, '--json');
  assert.equal(r.status, 0, `${r.cmd}: exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.json;
}

// Runs a CLI command and returns the raw result (no assertion).
export const cliRaw = (db, ...args) => lk(db, ...args);

/*
 * A fresh database with the role "API Only" (perms), and for each entry of `users`
 * an API-only user with one service. Returns {db, users: [{email, id, service: {name,
 * clientId, secret}}], user(email), remove()}. With t (a test context) the folder is
 * removed when t ends; otherwise call remove().
 */
export function makeInstance(t, { perms = ['Read-Only Lead'], users = ['api@example.com'], servicesPerUser = 1 } = {}) {
  const db = newDb();
  if (t) t.after(() => db.remove());
  cli(db, 'role', 'create', '--name', 'API Only', ...perms.flatMap((p) => ['--permission', p]));
  const out = [];
  for (const email of users) {
    const u = cli(db, 'user', 'invite', '--email', email, '--first', 'Api', '--last', 'User',
      '--role', 'API Only', '--api-only').user;
    const services = [];
    for (let i = 0; i < servicesPerUser; i++) services.push(addService(db, `${email.split('@')[0]} sync ${i + 1}`, email));
    out.push({ email, id: u.id, service: services[0], services });
  }
  return {
    db,
    users: out,
    user: (email) => out.find((u) => u.email === email),
    remove: () => db.remove(),
  };
}

export function addService(db, name, owner) {
  const j = cli(db, 'service', 'create', '--name', name, '--user', owner);
  return { name, clientId: j.service.clientId, secret: j.clientSecret };
}

/* ---------------------------------------------------------------- the server */

const running = new Set();
process.on('exit', () => {
  for (const p of running) try { p.kill('SIGKILL'); } catch { /* gone */ }
});

/*
 * Starts `latchkey serve --db DB --listen LISTEN ...args` and waits (20 s at most, or
 * startTimeoutMs) for the stderr line "listening on http://ADDR:PORT"; bin: another
 * latchkey binary than $LATCHKEY_BIN. Returns
 *   {url, host, port, proc, stderr(), stop(), kill(), exited}
 * stop() sends SIGTERM, waits for the exit, asserts status 0 and no sanitizer report,
 * and resolves to the whole stderr. With t, stop() is registered with t.after (it is
 * harmless to call stop() earlier yourself).
 */
export async function startServer(t, db, args = [], { listen = '127.0.0.1:0', env, bin = BIN, startTimeoutMs = START_TIMEOUT_MS } = {}) {
  const dbPath = typeof db === 'string' ? db : db.path;
  const argv = ['serve', '--db', dbPath, '--listen', listen, ...args];
  // PostgreSQL: the key file every node shares is named, not found next to the database
  if (typeof db === 'object' && db.pg) env = { LATCHKEY_TOKEN_KEY_FILE: db.keyFile, ...env };
  const proc = spawn(bin, argv, { env: serverEnv(env), cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let err = '';
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => {
    // 'close', not 'exit': the process has exited and its stderr has been read to the end
    // (an 'exit' may come before the last lines, e.g. "stopped", reach stderr())
    proc.on('close', (code, signal) => { running.delete(proc); resolve({ code, signal }); });
  });
  const cmd = `latchkey ${argv.join(' ')}`;
  const bound = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd}: no "listening on" line within ${startTimeoutMs} ms\nstderr: ${err}`)), startTimeoutMs);
    proc.stderr.on('data', (d) => {
      err += d;
      const m = LISTENING_LINE.exec(err);
      if (m) { clearTimeout(timer); resolve(m); }
    });
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    // 'close' comes after the process's output is all read: the error names its last line
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${cmd}: exited (${code ?? signal}) before listening\nstderr: ${err}`));
    });
  }).catch((e) => { try { proc.kill('SIGKILL'); } catch { /* gone */ } throw e; });
  let stopped = null;
  const srv = {
    url: bound[1],
    host: bound[2],
    port: Number(bound[3]),
    proc,
    cmd,
    exited,
    stderr: () => err,
    stdout: () => out,
    // SIGTERM, then the exit status and the sanitizer check
    stop() {
      if (!stopped) {
        stopped = (async () => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
          let timer;
          const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS); });
          const r = await Promise.race([exited, timeout]);
          clearTimeout(timer);
          if (r === 'timeout') {
            proc.kill('SIGKILL');
            assert.fail(`${cmd}: did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\nstderr tail: ${err.slice(-3000)}`);
          }
          assertClean(srv, r);
          return err;
        })();
      }
      return stopped;
    },
    kill() { try { proc.kill('SIGKILL'); } catch { /* gone */ } },
  };
  if (t) t.after(() => srv.stop());
  return srv;
}

export function assertClean(srv, { code, signal }) {
  const err = srv.stderr();
  for (const mark of SANITIZER_MARKS)
    assert.ok(!err.includes(mark), `${srv.cmd}: sanitizer report (${mark}):\n${err.slice(Math.max(0, err.indexOf(mark) - 200), err.indexOf(mark) + 4000)}`);
  assert.equal(signal, null, `${srv.cmd}: killed by ${signal}\nstderr tail: ${err.slice(-3000)}`);
  assert.equal(code, 0, `${srv.cmd}: exit status ${code} after SIGTERM\nstderr tail: ${err.slice(-3000)}`);
}

// true when an IPv6 loopback socket can be bound on this machine
export function canBindIPv6() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '::1', port: 0, ipv6Only: true }, () => s.close(() => resolve(true)));
  });
}

/* ---------------------------------------------------------------- the server log */

// One log line (docs/operations.md#logs) as an object of its fields: logfmt
// (`time=… level=info msg="…" key=value`, quoted values with \" \\ \n \r \t \xNN) or
// JSON. null when the line is neither (a plain `latchkey: …` start-up failure).
export function parseLogLine(line) {
  if (line.startsWith('{')) {
    try { return JSON.parse(line); } catch { return null; }
  }
  const out = {};
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ') i++;
    const eq = line.indexOf('=', i);
    if (eq < 0) break;
    const key = line.slice(i, eq);
    if (!/^[a-z_]+$/.test(key)) return null;
    i = eq + 1;
    let value = '';
    if (line[i] === '"') {
      i++;
      const bytes = [];
      for (; i < line.length && line[i] !== '"'; i++) {
        if (line[i] !== '\\') { bytes.push(...Buffer.from(line[i])); continue; }
        const c = line[++i];
        if (c === 'x') { bytes.push(parseInt(line.slice(i + 1, i + 3), 16)); i += 2; continue; }
        bytes.push(...Buffer.from({ n: '\n', r: '\r', t: '\t' }[c] ?? c));
      }
      i++;
      value = Buffer.from(bytes).toString('utf8');
    } else {
      const end = line.indexOf(' ', i);
      value = line.slice(i, end < 0 ? line.length : end);
      i = end < 0 ? line.length : end;
    }
    out[key] = value;
  }
  return 'time' in out && 'level' in out && 'msg' in out ? out : null;
}

// every log record in a server's stderr text: [{time, level, msg, ...fields, line}]
export function logRecords(text) {
  return text.split('\n').map((line) => {
    const rec = parseLogLine(line);
    return rec && { ...rec, line };
  }).filter(Boolean);
}

/* ---------------------------------------------------------------- HTTP */

/*
 * With $LATCHKEY_CAPTURE_DIR set (tests/run.sh sets it), every answer that call() and
 * raw() receive is appended to DIR/<pid>.jsonl as {suite, method, path, status,
 * contentType, body}, so that tests/e2e/openapi/ can check real answers against
 * docs/openapi.yaml. Test-only data in a temporary folder.
 */
const CAPTURE_DIR = process.env.LATCHKEY_CAPTURE_DIR;
const CAPTURE_BODY_MAX = 256 * 1024;
function capture(method, target, status, contentType, text) {
  if (!CAPTURE_DIR) return;
  const u = new URL(target, 'http://x');
  const rec = { suite: path.basename(process.argv[1] ?? '?'), method, path: u.pathname, status, contentType: contentType ?? null,
    body: text.length <= CAPTURE_BODY_MAX ? text : null };
  fs.appendFileSync(path.join(CAPTURE_DIR, `${process.pid}.jsonl`), `${JSON.stringify(rec)}\n`);
}

// fetch() answer as {status, headers (Headers), text, json (or undefined)}
export async function call(url, { method = 'GET', headers = {}, body, timeoutMs = 15_000 } = {}) {
  const res = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  capture(method, url, res.status, res.headers.get('content-type'), text);
  return { status: res.status, headers: res.headers, text, json };
}

export const form = (obj) => new URLSearchParams(obj).toString();
export const FORM_CT = 'application/x-www-form-urlencoded';
export const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

// GET /identity/oauth/token with the parameters in the query
export function identity(srv, params, { headers } = {}) {
  return call(`${srv.url}/identity/oauth/token?${form(params)}`, { headers });
}

export const creds = (svc) => ({ grant_type: 'client_credentials', client_id: svc.clientId, client_secret: svc.secret });

// a token for the service, asserting a 200
export async function token(srv, svc, { headers } = {}) {
  const r = await identity(srv, creds(svc), { headers });
  assert.equal(r.status, 200, `identity for ${svc.clientId}: ${r.status} ${r.text}`);
  assert.match(r.json.access_token, TOKEN_RE);
  return r.json.access_token;
}

// a REST call with a Bearer token (or none); query is an object or string
export function rest(srv, path, tok, { method = 'GET', headers = {}, query, body } = {}) {
  const h = { ...headers };
  if (tok !== undefined && tok !== null) h.Authorization = `Bearer ${tok}`;
  const qs = query === undefined ? '' : `?${typeof query === 'string' ? query : form(query)}`;
  return call(`${srv.url}${path}${qs}`, { method, headers: h, body });
}

export const USAGE = '/rest/v1/stats/usage.json';

// asserts a Marketo success envelope; returns result
export function assertOk(r, what = 'REST call') {
  assert.equal(r.status, 200, `${what}: HTTP ${r.status} ${r.text}`);
  assert.ok(r.json, `${what}: body is not JSON: ${r.text}`);
  assert.equal(r.json.success, true, `${what}: ${r.text}`);
  assert.match(r.json.requestId, REQUEST_ID, `${what}: requestId`);
  assert.ok(Array.isArray(r.json.result), `${what}: result is an array: ${r.text}`);
  assert.ok(!('errors' in r.json) || r.json.errors.length === 0, `${what}: no errors expected: ${r.text}`);
  return r.json.result;
}

// asserts a Marketo failure envelope with exactly this one error (HTTP 200)
export function assertRestError(r, code, message, what = 'REST call') {
  assert.equal(r.status, 200, `${what}: HTTP ${r.status} ${r.text}`);
  assert.ok(r.json, `${what}: body is not JSON: ${r.text}`);
  assert.equal(r.json.success, false, `${what}: success:false expected: ${r.text}`);
  assert.match(r.json.requestId, REQUEST_ID, `${what}: requestId: ${r.text}`);
  assert.ok(!('result' in r.json), `${what}: no result on a failure: ${r.text}`);
  const expected = { code: String(code) };
  if (message !== undefined) expected.message = message;
  assert.equal(r.json.errors.length, 1, `${what}: one error: ${r.text}`);
  if (message === undefined) assert.equal(r.json.errors[0].code, String(code), `${what}: ${r.text}`);
  else assert.deepEqual(r.json.errors[0], expected, `${what}: ${r.text}`);
  return r.json.errors[0];
}

export const restCode = (r) => (r.json && r.json.success === false ? r.json.errors[0].code : r.json && r.json.success ? 'ok' : `http${r.status}`);

// asserts an OAuth-style error body
export function assertOAuthError(r, status, error, description, what = 'token endpoint') {
  assert.equal(r.status, status, `${what}: HTTP ${r.status} ${r.text}`);
  assert.ok(r.json, `${what}: body is not JSON: ${r.text}`);
  assert.equal(r.json.error, error, `${what}: ${r.text}`);
  assert.equal(typeof r.json.error_description, 'string', `${what}: ${r.text}`);
  if (description !== undefined) {
    if (description instanceof RegExp) assert.match(r.json.error_description, description, `${what}: ${r.text}`);
    else assert.equal(r.json.error_description, description, `${what}: ${r.text}`);
  }
  assert.deepEqual(Object.keys(r.json).sort(), ['error', 'error_description'], `${what}: only error fields: ${r.text}`);
}

/*
 * Calls fn() every intervalMs until pred(value) holds or timeoutMs passed; returns
 * {value, ok, elapsed}.
 */
export async function poll(fn, pred, { timeoutMs = 10_000, intervalMs = 50 } = {}) {
  const start = Date.now();
  let value;
  for (;;) {
    value = await fn();
    if (pred(value)) return { value, ok: true, elapsed: Date.now() - start };
    if (Date.now() - start > timeoutMs) return { value, ok: false, elapsed: Date.now() - start };
    await sleep(intervalMs);
  }
}

// The value of one sample in /metrics' text (NAME with its labels, as printed), or undefined.
export const metricValue = (text, name) => {
  const m = new RegExp(`^${name.replace(/[{}"[\]]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

// /metrics of base (a server's URL) once every sample named in `want` is there: a request
// is counted when its answer has been sent, a moment after the client read it, so the
// last one may show only in the next scrape. The text; the caller asserts on it.
export async function metricsWith(base, want, { timeoutMs = 5_000 } = {}) {
  const r = await poll(() => call(`${base}/metrics`), (x) => want.every((n) => metricValue(x.text, n) >= 1),
    { timeoutMs, intervalMs: 100 });
  return r.value.text;
}

// waits until the running server has picked up the latest CLI change: polls until
// pred holds (10 s at most: generous, as a loaded machine is slow; no timing is asserted)
// and fails with what it saw otherwise
export async function eventually(what, fn, pred, opts) {
  const r = await poll(fn, pred, opts);
  assert.ok(r.ok, `${what}: not seen within ${r.elapsed} ms; last answer: ${JSON.stringify(r.value && (r.value.text ?? r.value))}`);
  return r;
}

/*
 * A raw HTTP/1.1 request over the http module: {status, headers, text, json, socket
 * info}. Options: method, path, headers, body (string/Buffer), agent, host, port.
 */
export function raw(srv, { method = 'GET', path = '/', headers = {}, body, agent = false, timeoutMs = 15_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: srv.host.replace(/^\[|\]$/g, ''), port: srv.port, method, path, headers, agent, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        capture(method, path, res.statusCode, res.headers['content-type'], text);
        resolve({ status: res.statusCode, headers: res.headers, text, json, reusedSocket: req.reusedSocket });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

// When UTC midnight is less than `margin` seconds away, waits until it has passed,
// so that a test counting "today" sees one day throughout.
// quota_tz's default: Marketo's day ends at 12:00 AM US Central time (docs/server.md)
export const QUOTA_TZ = 'America/Chicago';

// the calendar date (YYYY-MM-DD) in zone of the instant ms; formatToParts, so that no
// locale's way of writing dates (which differs between Node builds) matters
export function dateIn(zone, ms = Date.now()) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit',
  }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

// milliseconds from ms to the next midnight in zone (a DST day has 23 or 25 hours)
export function msToMidnight(zone = QUOTA_TZ, ms = Date.now()) {
  const today = dateIn(zone, ms);
  let lo = ms;
  let hi = ms + 26 * 3600 * 1000;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (dateIn(zone, mid) === today) lo = mid;
    else hi = mid;
  }
  return hi - ms;
}

// waits past the next midnight of zone when it is less than margin seconds away
export async function avoidMidnight(margin = 20, zone = QUOTA_TZ) {
  const left = msToMidnight(zone);
  if (left < margin * 1000) await sleep(left + 500);
}

// the calendar day `back` days before today in zone (quota_tz: the usage days), YYYY-MM-DD
export function dayIn(zone, back = 0) {
  const [y, m, d] = dateIn(zone).split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d - back)).toISOString().slice(0, 10);
}

// the usage day `back` days before today, as a server with the default quota_tz counts it
export const dayQuota = (back = 0) => dayIn(QUOTA_TZ, back);

// the UTC date `back` days before today, YYYY-MM-DD
export function dayUTC(back = 0) {
  return dayIn('UTC', back);
}

/*
 * A raw TCP connection to the server: write(text) sends bytes as they are; response()
 * resolves to {status, headers (lower-case names), body, json, raw} once the server
 * has sent one complete response (by Content-Length) or closed the connection.
 */
export function rawConnection(srv) {
  const sock = net.connect({ host: srv.host.replace(/^\[|\]$/g, ''), port: srv.port });
  let buf = Buffer.alloc(0);
  let closed = false;
  const waiters = [];
  const check = () => {
    const parsed = parseResponse(buf, closed);
    if (parsed) while (waiters.length) waiters.shift().resolve(parsed);
    else if (closed) while (waiters.length) waiters.shift().reject(new Error(`connection closed; got ${JSON.stringify(buf.toString('latin1').slice(0, 300))}`));
  };
  sock.on('data', (d) => { buf = Buffer.concat([buf, d]); check(); });
  sock.on('end', () => { closed = true; check(); });
  sock.on('close', () => { closed = true; check(); });
  sock.on('error', () => { closed = true; check(); });
  const connected = new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  return {
    sock,
    connected,
    async write(text) { await connected; await new Promise((resolve, reject) => sock.write(text, (e) => (e ? reject(e) : resolve()))); },
    response(timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no complete response within ${timeoutMs} ms; got ${JSON.stringify(buf.toString('latin1').slice(0, 300))}`)), timeoutMs);
        waiters.push({ resolve: (v) => { clearTimeout(timer); resolve(v); }, reject: (e) => { clearTimeout(timer); reject(e); } });
        check();
      });
    },
    get closed() { return closed; },
    destroy() { sock.destroy(); },
  };
}

function parseResponse(buf, closed) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
  if (!m) return null;
  const headers = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body;
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (buf.length < end + 4 + n) return null;
    body = buf.subarray(end + 4, end + 4 + n).toString('utf8');
  } else if (closed) {
    body = buf.subarray(end + 4).toString('utf8');
  } else {
    return null;
  }
  let json;
  try { json = JSON.parse(body); } catch { json = undefined; }
  return { status: Number(m[1]), headers, body, json, raw: buf.toString('latin1') };
}

/* ---------------------------------------------------------------- user management API */
// Helpers for tests/e2e/usermgmt*.test.mjs (reference §8; docs/api.md).

export const UM = '/userservice/management/v1/users';
export const UM_PERMS = ['Access User Management Api', 'Access Users'];
// Marketo's datetime output, e.g. 2026-11-28T00:53:57.000t+0000 (literal lower-case t)
export const MARKETO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}t[+-]\d{4}$/;
export const UM_BRIEF_KEYS = ['apiOnly', 'emailAddress', 'firstName', 'id', 'lastName', 'userid'];
export const UM_USER_KEYS = ['apiOnly', 'emailAddress', 'expiresAt', 'failedDeviceCode', 'failedLogins', 'firstName',
  'id', 'isLocked', 'lastLoginAt', 'lastName', 'lockedReason', 'optedIn', 'userRoleWorkspaces', 'userid'];
export const UM_GRANT_KEYS = ['accessRoleId', 'accessRoleName', 'workspaceId', 'workspaceName'];
export const UM_ROLE_KEYS = ['createdAt', 'description', 'hidden', 'id', 'isHidden', 'isOnlyAllZones', 'name',
  'onlyAllZones', 'type', 'updatedAt'];
export const UM_WORKSPACE_KEYS = ['createdAt', 'currencyInfo', 'description', 'globalViz', 'id', 'name', 'status',
  'updatedAt'];
export const UM_INVITED_KEYS = ['apiOnly', 'createdAt', 'emailAddress', 'expiresAt', 'firstName', 'id',
  'lastName', 'status', 'subscriptionId', 'updatedAt', 'userId', 'userid'];

/*
 * A user management call: path is relative to UM ('/allusers.json', '/a@x.com/user.json');
 * body (object/array: sent as JSON; string: sent as is) with contentType (default
 * application/json; null sends none). Returns call()'s {status, headers, text, json}.
 */
export function um(srv, path, tok, { method, body, contentType = 'application/json', query, headers = {} } = {}) {
  const h = { ...headers };
  if (tok !== undefined && tok !== null) h.Authorization = `Bearer ${tok}`;
  let b = body;
  if (b !== undefined && typeof b !== 'string' && !Buffer.isBuffer(b)) b = JSON.stringify(b);
  if (b !== undefined && contentType) h['Content-Type'] = contentType;
  const m = method ?? (b === undefined ? 'GET' : 'POST');
  const qs = query === undefined ? '' : `?${typeof query === 'string' ? query : form(query)}`;
  return call(`${srv.url}${UM}${path}${qs}`, { method: m, headers: h, body: b });
}

// the user id as a path segment (the API takes it URL-encoded or not)
export const umUser = (userid, rest) => `/${encodeURIComponent(userid)}${rest}`;

// asserts a 200 with bare JSON (no Marketo envelope); returns the parsed body
export function assertUmOk(r, what = 'user management call') {
  assert.equal(r.status, 200, `${what}: HTTP ${r.status} ${r.text}`);
  assert.match(r.headers.get('content-type') || '', /^application\/json/, `${what}: content type`);
  assert.ok(r.json !== undefined, `${what}: body is not JSON: ${r.text}`);
  if (r.json && typeof r.json === 'object' && !Array.isArray(r.json))
    for (const k of ['success', 'requestId', 'result', 'errors'])
      assert.ok(!(k in r.json), `${what}: no envelope member "${k}" expected: ${r.text}`);
  return r.json;
}

/*
 * asserts a user management failure: HTTP status, body exactly
 * {"errors":[{"code":<integer>,"message":"..."}]}; message a string (exact) or a RegExp.
 */
export function assertUmError(r, status, code, message, what = 'user management call') {
  assert.equal(r.status, status, `${what}: HTTP ${r.status}, expected ${status}: ${r.text}`);
  assert.ok(r.json && typeof r.json === 'object', `${what}: body is not a JSON object: ${r.text}`);
  assert.deepEqual(Object.keys(r.json), ['errors'], `${what}: only "errors" expected: ${r.text}`);
  assert.equal(r.json.errors.length, 1, `${what}: one error: ${r.text}`);
  const e = r.json.errors[0];
  assert.deepEqual(Object.keys(e).sort(), ['code', 'message'], `${what}: error keys: ${r.text}`);
  assert.equal(e.code, code, `${what}: code (an integer) ${code} expected: ${r.text}`);
  assert.equal(typeof e.message, 'string', `${what}: ${r.text}`);
  if (message instanceof RegExp) assert.match(e.message, message, `${what}: ${r.text}`);
  else if (message !== undefined) assert.equal(e.message, message, `${what}: ${r.text}`);
  return e;
}

export const sortedKeys = (o) => Object.keys(o).sort();

/*
 * A fresh database prepared for the user management API: the role "User Admin"
 * (both user management permissions and Read-Only Lead, unless perms says otherwise),
 * the role "Reader" (Read-Only Lead), and the API-only user admin-api@example.com
 * holding "User Admin" with the service "UM sync". Returns makeInstance()'s object
 * plus {roles: {userAdmin, reader} (role JSON), caller: {email, id, service}}.
 */
export function makeUmInstance(t, { perms = [...UM_PERMS, 'Read-Only Lead'] } = {}) {
  const db = newDb();
  if (t) t.after(() => db.remove());
  const userAdmin = cli(db, 'role', 'create', '--name', 'User Admin', ...perms.flatMap((p) => ['--permission', p])).role;
  const reader = cli(db, 'role', 'create', '--name', 'Reader', '--permission', 'Read-Only Lead').role;
  const email = 'admin-api@example.com';
  const u = cli(db, 'user', 'invite', '--email', email, '--first', 'Admin', '--last', 'Api', '--role', 'User Admin',
    '--api-only').user;
  const service = addService(db, 'UM sync', email);
  const caller = { email, id: u.id, service };
  return { db, roles: { userAdmin, reader }, caller, users: [caller], user: (e) => (e === email ? caller : undefined),
    remove: () => db.remove() };
}

/* ---------------------------------------------------------------- the console's JSON API */
// Helpers for tests/e2e/console-api*.test.mjs (docs/console-api.md).

export const CONSOLE_API = '/admin/api';
export const CONSOLE_COOKIE = 'lk_session';
// the server's stderr is no terminal here, so the link goes to a file the log record names
export const CONSOLE_SETUP_LINE = /no administrator yet: the single-use setup link \(valid for 24 hours\) is in (\S+), readable by this user only/g;
export const CONSOLE_SETUP_LINK = /^(\S+)\/setup#([A-Za-z0-9_-]+)\n$/;
export const CONSOLE_CSRF = /^[0-9a-f]{64}$/;
export const CONSOLE_SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;
export const CONSOLE_USER_KEYS = ['apiOnly', 'createdAt', 'email', 'expiresAt', 'firstName', 'id', 'lastLoginAt',
  'lastName', 'lockedReason', 'reason', 'roles', 'status', 'userid'];
export const CONSOLE_ROLE_KEYS = ['description', 'hasApiPermission', 'holders', 'id', 'name', 'onlyAllZones', 'permissions', 'type'];
export const CONSOLE_SERVICE_KEYS = ['clientId', 'createdAt', 'description', 'id', 'name', 'previousSecretValidUntil',
  'secret', 'updatedAt', 'user'];
export const CONSOLE_SECRET_MASK = '\u2022'.repeat(8);

// every setup line the server printed so far, with the link its file holds now:
// [{base, token, file}] (the stderr itself never shows the link)
export function consoleSetupLinks(srv) {
  return [...srv.stderr().matchAll(CONSOLE_SETUP_LINE)].map((m) => {
    const text = fs.readFileSync(m[1], 'utf8');
    const link = CONSOLE_SETUP_LINK.exec(text);
    assert.ok(link, `${m[1]} holds one setup link: ${JSON.stringify(text)}`);
    return { base: link[1], token: link[2], file: m[1] };
  });
}

/*
 * A console API call: path relative to /admin/api ('/roles', '/users/3/lock').
 * body: object (sent as JSON) or string (as is), with contentType (default
 * application/json; null sends none). session: {cookie, csrf} sends the cookie and,
 * unless csrf is given (a string, or null for none), the session's CSRF token.
 * cookie: a raw cookie value instead of a session's. Returns call()'s answer.
 */
export function consoleCall(srv, path, { method, body, session, cookie, csrf, contentType = 'application/json', headers = {} } = {}) {
  const h = { ...headers };
  const value = cookie !== undefined ? cookie : session?.cookie;
  if (value !== undefined && value !== null) h.Cookie = `${CONSOLE_COOKIE}=${value}`;
  const token = csrf !== undefined ? csrf : session?.csrf;
  if (token !== undefined && token !== null) h['X-CSRF-Token'] = token;
  let b = body;
  if (b !== undefined && typeof b !== 'string' && !Buffer.isBuffer(b)) b = JSON.stringify(b);
  if (b !== undefined && contentType) h['Content-Type'] = contentType;
  const m = method ?? (b === undefined ? 'GET' : 'POST');
  return call(`${srv.url}${CONSOLE_API}${path}`, { method: m, headers: h, body: b });
}

// the Set-Cookie headers of an answer that set lk_session: [{value, attrs (lower-case
// names → value or true), raw}]
export function consoleSetCookies(r) {
  const all = typeof r.headers.getSetCookie === 'function' ? r.headers.getSetCookie()
    : [r.headers.get('set-cookie')].filter(Boolean);
  return all.filter((c) => c.startsWith(`${CONSOLE_COOKIE}=`)).map((raw) => {
    const [first, ...rest] = raw.split(';').map((s) => s.trim());
    const attrs = {};
    for (const a of rest) {
      const i = a.indexOf('=');
      if (i < 0) attrs[a.toLowerCase()] = true;
      else attrs[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
    }
    return { value: first.slice(CONSOLE_COOKIE.length + 1), attrs, raw };
  });
}

// asserts a 2xx-less console failure: status, {"error":{"code","message","field"}} and
// nothing else; field checked when given
export function assertConsoleError(r, status, code, field, what = 'console call') {
  assert.equal(r.status, status, `${what}: HTTP ${r.status}, expected ${status}: ${r.text}`);
  assert.match(r.headers.get('content-type') || '', /^application\/json/, `${what}: content type`);
  assert.ok(r.json && typeof r.json === 'object', `${what}: body is not JSON: ${r.text}`);
  assert.deepEqual(Object.keys(r.json), ['error'], `${what}: only "error" expected: ${r.text}`);
  // a refusal of the trust rules (403 forbidden) also carries its particulars, "denied"
  const keys = r.json.error.code === 'forbidden' && 'denied' in r.json.error ? ['code', 'denied', 'field', 'message'] : ['code', 'field', 'message'];
  assert.deepEqual(Object.keys(r.json.error).sort(), keys, `${what}: error keys: ${r.text}`);
  assert.equal(r.json.error.code, code, `${what}: code: ${r.text}`);
  assert.equal(typeof r.json.error.message, 'string', `${what}: ${r.text}`);
  assert.ok(r.json.error.message.length > 0, `${what}: a message: ${r.text}`);
  if (field !== undefined) assert.equal(r.json.error.field, field, `${what}: field: ${r.text}`);
  return r.json.error;
}

// asserts a 200 with JSON; returns the body
export function assertConsoleOk(r, what = 'console call') {
  assert.equal(r.status, 200, `${what}: HTTP ${r.status} ${r.text}`);
  assert.match(r.headers.get('content-type') || '', /^application\/json/, `${what}: content type`);
  assert.ok(r.json !== undefined, `${what}: body is not JSON: ${r.text}`);
  return r.json;
}

/*
 * The session of a sign-in answer (login or setup), asserting a 200 with the cookie:
 * {cookie, csrf, user, permissions, mustChangePassword, call(path, opts)}.
 */
export function consoleSessionOf(srv, r, what = 'sign-in') {
  const body = assertConsoleOk(r, what);
  const cookies = consoleSetCookies(r);
  assert.equal(cookies.length, 1, `${what}: one lk_session cookie: ${JSON.stringify(cookies)}`);
  assert.match(cookies[0].value, CONSOLE_SESSION_TOKEN, `${what}: cookie value`);
  assert.match(body.csrf, CONSOLE_CSRF, `${what}: csrf`);
  const s = { cookie: cookies[0].value, setCookie: cookies[0], csrf: body.csrf, user: body.user,
    permissions: body.permissions, mustChangePassword: body.mustChangePassword };
  s.call = (path, opts = {}) => consoleCall(srv, path, { session: s, ...opts });
  return s;
}

// POST /admin/api/login → the session (asserting success)
export async function consoleLogin(srv, email, password) {
  const r = await consoleCall(srv, '/login', { body: { email, password } });
  return consoleSessionOf(srv, r, `login ${email}`);
}

// `latchkey admin create` → {user, password (the one-time one)}
export function consoleAdminCreate(db, email, first = 'Con', last = 'Sole') {
  const j = cli(db, 'admin', 'create', '--email', email, '--first', first, '--last', last);
  assert.equal(typeof j.password, 'string', `admin create ${email}: a one-time password`);
  return { user: j.user, password: j.password };
}

/*
 * A console user ready to work: `latchkey admin create` (beforehand, on the database),
 * then sign-in with the one-time password and POST /admin/api/password with `password`.
 * Returns the session (mustChangePassword false).
 */
export async function consoleReadyAdmin(srv, db, email, password, { first = 'Con', last = 'Sole', created } = {}) {
  const made = created ?? consoleAdminCreate(db, email, first, last);
  const s = await consoleLogin(srv, email, made.password);
  assert.equal(s.mustChangePassword, true, `${email}: a one-time password must be changed`);
  const r = await s.call('/password', { body: { current: made.password, password } });
  assert.deepEqual(assertConsoleOk(r, `${email}: change password`), { ok: true });
  s.mustChangePassword = false;
  s.password = password;
  s.id = made.user.id;
  return s;
}

// waits (10 s at most) until the server has printed `count` setup lines; returns the last
export async function consoleSetupLink(srv, count = 1) {
  const r = await poll(async () => consoleSetupLinks(srv), (l) => l.length >= count, { timeoutMs: 10_000, intervalMs: 20 });
  assert.ok(r.ok, `no setup line on stderr within ${r.elapsed} ms:\n${srv.stderr()}`);
  return r.value[count - 1];
}

/* Another process holding the database's write lock (sqlite3: BEGIN IMMEDIATE; PostgreSQL:
 * psql holding the store's advisory lock, docs/storage.md#the-postgresql-store) until
 * release() (which may be called more than once). Resolves once the lock is held. */
export async function holdWriteLock(t, dbPath) {
  const pg = /^postgres(ql)?:\/\//.test(dbPath);
  const p = pg ? spawn('psql', ['-X', '-q', '-A', '-t', '-d', dbPath], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn('sqlite3', [dbPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((resolve) => p.on('exit', resolve));
  t.after(() => { try { p.kill('SIGKILL'); } catch { /* gone */ } });
  p.stdin.write(pg ? 'BEGIN;\nSELECT pg_advisory_xact_lock(1280002393);\nSELECT \'held\';\n'
    : '.timeout 10000\nBEGIN IMMEDIATE;\nSELECT \'held\';\n');
  const start = Date.now();
  while (!out.includes('held') && Date.now() - start < 15_000) {
    if (err) throw new Error(`${pg ? 'psql' : 'sqlite3'} could not take the write lock: ${err}`);
    await sleep(20);
  }
  assert.ok(out.includes('held'), `sqlite3 took the write lock: ${out} ${err}`);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      p.stdin.end(pg ? 'ROLLBACK;\n\\q\n' : 'ROLLBACK;\n.quit\n');
      await exited;
    },
  };
}
