// Helpers for the end-to-end tests of the latchkey admin CLI (docs/cli.md).
//
// Every test drives the real binary ($LATCHKEY_BIN, default build/latchkey) on a fresh
// database in a fresh temporary folder, and checks what a user would check: the exit
// status, the one-line message, the JSON document, and the database afterwards (read
// with the sqlite3 command-line tool). Every run also asserts that no sanitizer spoke.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.resolve(ROOT, process.env.LATCHKEY_BIN || 'build/latchkey');
export const ACTOR = `cli:${os.userInfo().username}`;
export const TIMEOUT_MS = 60_000;

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
export const SECRET = /^[A-Za-z0-9]{32}$/;
export const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
export const HEX64 = /^[0-9a-f]{64}$/i;

export const ADMIN_PERMS = [
  'Access Users', 'Access Roles', 'Access Workspaces', 'Access LaunchPoint',
  'Access Web Services', 'Access Audit Trail', 'Access Login History',
];
const MARKETO_OBJECTS = [
  'Lead', 'Activity', 'Activity Metadata', 'Assets', 'Campaign', 'Company', 'Custom Object',
  'Custom Object Type', 'Named Account', 'Named Account List', 'Opportunity', 'Sales Person',
  'Schema Standard Field', 'Schema Custom Field', 'Redirect Rules',
];
export const API_PERMS = [
  'Access User Management Api',
  ...MARKETO_OBJECTS.flatMap((o) => [`Read-Only ${o}`, `Read-Write ${o}`]),
  'Approve Assets', 'Execute Campaign', 'Activate Campaign', 'Deactivate Campaign',
];

export const USER_KEYS = ['id', 'email', 'userid', 'firstName', 'lastName', 'reason', 'apiOnly',
  'status', 'lockedReason', 'expiresAt', 'roles', 'failedLogins', 'lastLoginAt', 'createdAt', 'updatedAt'];
export const ROLE_KEYS = ['id', 'name', 'description', 'type', 'onlyAllZones', 'permissions',
  'createdAt', 'updatedAt'];
export const SERVICE_KEYS = ['id', 'name', 'description', 'user', 'clientId',
  'previousSecretValidUntil', 'createdAt', 'updatedAt'];

// The sanitizer settings of tests/run.sh, unless the caller set its own.
const SANITIZER_ENV = {
  ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=86',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1:exitcode=87',
  LSAN_OPTIONS: 'exitcode=88',
};
const SANITIZER_MARKS = ['ERROR: AddressSanitizer', 'LeakSanitizer', 'runtime error:'];

/* ---------------------------------------------------------------- databases */

export function tempDir() {
  return fs.mkdtempSync(os.tmpdir() + '/lk-e2e-');
}

// LATCHKEY_TEST_DB=postgres (with LATCHKEY_TEST_PG, the URL of a PostgreSQL server's
// maintenance database: tests/run.sh starts a private cluster, tests/pg/cluster.sh)
// gives every test a fresh PostgreSQL database instead of a SQLite file.
export const PG_ADMIN = process.env.LATCHKEY_TEST_DB === 'postgres' ? process.env.LATCHKEY_TEST_PG : null;
export const ON_PG = Boolean(PG_ADMIN);
let pgDbs = 0;
const pgDrop = new Set();
process.on('exit', () => {
  for (const name of pgDrop) {
    spawnSync('psql', ['-X', '-q', '-d', PG_ADMIN, '-c', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`],
      { encoding: 'utf8', timeout: TIMEOUT_MS });
  }
});

// psql on url (the admin database by default): the first column of each row
export function psql(query, url = PG_ADMIN) {
  const r = spawnSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', query],
    { encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: 256 * 1024 * 1024 });
  assert.ok(!r.error, `psql: ${r.error}`);
  assert.equal(r.status, 0, `psql ${query}: ${r.stderr}`);
  return r.stdout.replace(/\n$/, '');
}

// what a `serve` or `key` command on db needs besides --db: PostgreSQL names its key file
export const dbEnv = (db) => (typeof db === 'object' && db.pg ? { LATCHKEY_TOKEN_KEY_FILE: db.keyFile } : {});

// url with its database replaced by name
export function pgUrl(name, base = PG_ADMIN) {
  const m = /^([a-z]+:\/\/[^/?]*)(\/[^?]*)?(\?.*)?$/.exec(base);
  return `${m[1]}/${name}${m[3] ?? ''}`;
}

// SQLite's group_concat and json_extract, which the tests' queries use, on PostgreSQL
const PG_SHIMS = `
CREATE FUNCTION lk_gc(acc text, v text, sep text) RETURNS text LANGUAGE sql IMMUTABLE AS
  $$ SELECT CASE WHEN v IS NULL THEN acc WHEN acc IS NULL THEN v ELSE acc || sep || v END $$;
CREATE FUNCTION lk_gc1(acc text, v text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lk_gc(acc, v, ',') $$;
CREATE AGGREGATE group_concat(text, text) (sfunc = lk_gc, stype = text);
CREATE AGGREGATE group_concat(text) (sfunc = lk_gc1, stype = text);
CREATE FUNCTION json_extract(d text, p text) RETURNS text LANGUAGE sql IMMUTABLE AS
  $$ SELECT (d::jsonb) #>> string_to_array(substr(p, 3), '.') $$;`;

// A database in its own temporary folder: a SQLite file, or (ON_PG) a fresh PostgreSQL
// database whose token key file lives in the folder. `init` runs `latchkey migrate` so
// that the database exists (migrations applied) before the test looks at it
// (read-only commands never create one).
export function newDb({ init = true } = {}) {
  const dir = tempDir();
  let db;
  if (ON_PG) {
    const name = `lk_e2e_${process.pid}_${++pgDbs}`;
    psql(`CREATE DATABASE ${name} TEMPLATE template0`);
    const url = pgUrl(name);
    psql(PG_SHIMS, url);
    db = {
      dir,
      path: url,
      pg: name,
      keyFile: path.join(dir, 'latchkey.keys'),
      // dropped when the test file's process ends: a server a test stops after removing its
      // database (as the SQLite tests may) still writes its last counts into it
      remove() {
        pgDrop.add(name);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } else {
    db = {
      dir,
      path: path.join(dir, 'latchkey.db'),
      keyFile: path.join(dir, 'latchkey.db.keys'),
      remove() { fs.rmSync(dir, { recursive: true, force: true }); },
    };
  }
  if (init) {
    try {
      ok(db, 'migrate');
    } catch (e) {
      db.remove();
      throw e;
    }
  }
  return db;
}

// A fresh database removed when test context t ends.
export function freshDb(t, opts) {
  const db = newDb(opts);
  t.after(() => db.remove());
  return db;
}

const dbPath = (db) => (typeof db === 'string' ? db : db.path);

/* ---------------------------------------------------------------- running */

function env(extra = {}) {
  const e = { ...process.env };
  delete e.LATCHKEY_DB;
  delete e.LATCHKEY_PUBLIC_URL;
  for (const [k, v] of Object.entries(SANITIZER_ENV)) if (!e[k]) e[k] = v;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete e[k];
    else e[k] = v;
  }
  return e;
}

const shQuote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
const shBytes = (buf) => `"$(printf '${[...buf].map((b) => '\\' + b.toString(8).padStart(3, '0')).join('')}')"`;

function show(a) {
  const s = Buffer.isBuffer(a) ? `<bytes ${a.toString('hex')}>` : String(a);
  const t = s.length > 60 ? `${s.slice(0, 40)}…(${s.length} chars)` : s;
  if (/^[\w@.:=\/+-]+$/.test(t)) return t;
  // invisible and space-like characters spelled out, so that a failure shows them
  return JSON.stringify(t).replace(/[\u007f-\u00a0\u00ad\u1680\u2000-\u206f\u3000\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/*
 * Runs latchkey with args (strings, or Buffers for raw bytes that are not UTF-8: those
 * go through /bin/sh and printf, since Node turns Buffer arguments into UTF-8 text).
 * Options: db (prepends --db PATH), env (extra variables; undefined removes one), cwd.
 * Returns {status, stdout, stderr, json, cmd}; json is the parsed stdout when --json
 * was passed (the test fails if stdout is not one JSON document).
 */
export function run(args, { db, env: extra, cwd } = {}) {
  const full = db ? ['--db', dbPath(db), ...args] : [...args];
  if (db && typeof db === 'object' && db.pg) extra = { LATCHKEY_TOKEN_KEY_FILE: db.keyFile, ...extra };
  const cmd = `latchkey ${full.map(show).join(' ')}`;
  const opts = {
    cwd: cwd ?? (db ? (typeof db === 'object' && db.dir ? db.dir : path.dirname(dbPath(db))) : os.tmpdir()),
    env: env(extra),
    timeout: TIMEOUT_MS,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  };
  let r;
  if (full.some((a) => Buffer.isBuffer(a))) {
    const script = 'exec "$LK_BIN" ' + full.map((a) => (Buffer.isBuffer(a) ? shBytes(a) : shQuote(a))).join(' ');
    r = spawnSync('/bin/sh', ['-c', script], { ...opts, env: { ...opts.env, LK_BIN: BIN } });
  } else {
    r = spawnSync(BIN, full, opts);
  }
  assert.ok(!r.error, `${cmd}: could not run or timed out: ${r.error}`);
  assert.equal(r.signal, null, `${cmd}: killed by ${r.signal}\nstderr: ${r.stderr}`);
  assert.ok(![86, 87, 88].includes(r.status), `${cmd}: sanitizer exit ${r.status}\n${r.stderr}`);
  for (const mark of SANITIZER_MARKS)
    assert.ok(!r.stderr.includes(mark), `${cmd}: sanitizer report (${mark}):\n${r.stderr}`);
  let json;
  if (full.includes('--json')) {
    try {
      json = JSON.parse(r.stdout);
    } catch (e) {
      assert.fail(`${cmd}: stdout is not one JSON document (${e.message}):\n${r.stdout}\nstderr: ${r.stderr}`);
    }
    assert.ok(r.stdout.endsWith('\n'), `${cmd}: the JSON document ends with a newline`);
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json, cmd };
}

export const lk = (db, ...args) => run(args, { db });

// Starts latchkey without waiting (for concurrency tests); resolves to {status, signal, stdout, stderr}.
export function runAsync(args, { env: extra } = {}) {
  return new Promise((resolve) => {
    const child = spawn(BIN, args, { env: env(extra), timeout: TIMEOUT_MS, cwd: os.tmpdir() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

const describeRun = (r) => `${r.cmd}\nexit ${r.status}\nstdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr.slice(0, 2000)}`;

// Runs and asserts success.
export function ok(db, ...args) {
  const r = lk(db, ...args);
  assert.equal(r.status, 0, `expected success: ${describeRun(r)}`);
  return r;
}

// Runs a command that changes something: asserts success and exactly one new audit event.
export function change(db, ...args) {
  const before = auditCount(db);
  const r = ok(db, ...args);
  assert.equal(auditCount(db) - before, 1, `exactly one audit event expected for: ${r.cmd}`);
  return r;
}

// Checks the failure output rules of docs/cli.md: one line "latchkey: ..." on stderr,
// and with --json the error document on stdout whose message is the same text.
export function assertErrorOutput(r, code) {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr expected: ${describeRun(r)}`);
  assert.match(lines[0], /^latchkey: \S/, `stderr must start with "latchkey: ": ${describeRun(r)}`);
  if (r.json !== undefined) {
    const e = r.json && r.json.error;
    assert.ok(e && typeof e === 'object', `JSON error document expected: ${describeRun(r)}`);
    assert.equal(typeof e.code, 'string', `error.code: ${describeRun(r)}`);
    assert.equal(typeof e.field, 'string', `error.field: ${describeRun(r)}`);
    assert.equal(typeof e.message, 'string', `error.message: ${describeRun(r)}`);
    // the stderr line may show control characters of the message (echoed input) as spaces
    const oneLine = e.message.replace(/[\u0000-\u001f\u007f]/g, ' ');
    assert.equal(lines[0].replace(/[\u0000-\u001f\u007f]/g, ' '), `latchkey: ${oneLine}`,
      `JSON message and stderr line differ: ${describeRun(r)}`);
    if (code !== undefined) {
      const codes = [].concat(code);
      assert.ok(codes.includes(e.code), `error.code ${e.code}, expected ${codes.join('|')}: ${describeRun(r)}`);
    }
  }
}

/*
 * Runs a command that must be refused (with --json added): asserts the exit status
 * (a number or a list of acceptable ones), error.code (optional, string or list), the
 * error field (optional regex), that the message mentions each of `mentions` (strings,
 * case-insensitive, or regexes), and that the database did not change at all.
 */
export function refuse(db, { status, code, field, mentions = [] }, ...args) {
  const before = dump(db);
  const r = lk(db, ...args, '--json');
  const statuses = [].concat(status);
  assert.ok(statuses.includes(r.status), `exit ${statuses.join('|')} expected: ${describeRun(r)}`);
  assertErrorOutput(r, code);
  if (field !== undefined)
    assert.match(r.json.error.field, field, `error.field: ${describeRun(r)}`);
  for (const m of mentions) {
    if (m instanceof RegExp) assert.match(r.stderr, m, `message should match ${m}: ${describeRun(r)}`);
    else assert.ok(r.stderr.toLowerCase().includes(m.toLowerCase()), `message should mention "${m}": ${describeRun(r)}`);
  }
  assert.equal(dump(db), before, `the database changed although the command was refused: ${r.cmd}`);
  return r;
}

/* ---------------------------------------------------------------- sqlite3 */

// a running server writes several times a second (counts, limit_counts): wait for its
// write lock as latchkey does, instead of failing with "database is locked"
export function sql(db, query) {
  if (typeof db === 'object' && db.pg) {
    // a statement that returns no rows (INSERT, UPDATE, DELETE) runs as it is
    if (!/^\s*(SELECT|WITH|VALUES)\b/i.test(query)) {
      psql(query, db.path);
      return [];
    }
    const out = psql(`SELECT coalesce(json_agg(q), '[]'::json) FROM (${query}) q`, db.path);
    return JSON.parse(out);
  }
  const r = spawnSync('sqlite3', ['-json', '-cmd', '.timeout 10000', dbPath(db), query], { encoding: 'utf8', timeout: TIMEOUT_MS });
  assert.ok(!r.error, `sqlite3: ${r.error}`);
  assert.equal(r.status, 0, `sqlite3 ${query}: ${r.stderr}`);
  return r.stdout.trim() ? JSON.parse(r.stdout) : [];
}

// The whole content of the database as SQL text (null when the file does not exist).
export function dump(db) {
  if (typeof db === 'object' && db.pg) {
    return psql(`SELECT string_agg(c.relname || ': ' || query_to_xml(format('SELECT * FROM %I t ORDER BY t::text',
      c.relname), true, false, '')::text, E'\n' ORDER BY c.relname) FROM pg_class c
      WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace`, db.path);
  }
  if (!fs.existsSync(dbPath(db))) return null;
  const r = spawnSync('sqlite3', [dbPath(db), '.dump'], { encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: 256 * 1024 * 1024 });
  assert.equal(r.status, 0, `sqlite3 .dump: ${r.stderr}`);
  return r.stdout;
}

export const count = (db, table, where = 'TRUE') => sql(db, `SELECT count(*) AS n FROM ${table} WHERE ${where}`)[0].n;
export const auditCount = (db) => count(db, 'audit_events');

// The raw bytes of the database and of its companion files (-wal, -shm, -journal).
export function dbBytes(db) {
  const p = dbPath(db);
  return Buffer.concat([p, `${p}-wal`, `${p}-shm`, `${p}-journal`]
    .filter((f) => fs.existsSync(f))
    .map((f) => fs.readFileSync(f)));
}

export function assertNotInDb(db, secret, what = 'secret') {
  assert.equal(dbBytes(db).indexOf(Buffer.from(secret)), -1, `the ${what} appears in the database files`);
}

export const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

/* ---------------------------------------------------------------- times */

export const nowSec = () => Math.floor(Date.now() / 1000);
export const isoOf = (sec) => new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
export const secOf = (iso) => Math.floor(Date.parse(iso) / 1000);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function assertNear(actualSec, expectedSec, slack, what) {
  assert.ok(Math.abs(actualSec - expectedSec) <= slack, `${what}: ${actualSec} is not within ${slack}s of ${expectedSec}`);
}

/* ---------------------------------------------------------------- fixtures */

export const permArgs = (perms) => perms.flatMap((p) => ['--permission', p]);

export function makeRole(db, name, perms, description) {
  const extra = description === undefined ? [] : ['--description', description];
  return change(db, 'role', 'create', '--name', name, ...permArgs(perms), ...extra, '--json').json.role;
}

// "API Only" (Access API permissions) and "Console" (Access Admin permissions only)
export function makeStandardRoles(db) {
  return {
    api: makeRole(db, 'API Only', ['Read-Only Lead', 'Read-Write Lead']),
    console: makeRole(db, 'Console', ['Access Users', 'Access Audit Trail']),
  };
}

export function makeApiUser(db, email = 'api@example.com', roles = ['API Only'], extra = []) {
  return change(db, 'user', 'invite', '--email', email, '--first', 'Api', '--last', 'User',
    ...roles.flatMap((r) => ['--role', r]), '--api-only', ...extra, '--json').json.user;
}

export function invitePerson(db, email = 'jane@example.com', roles = ['Console'], extra = []) {
  return change(db, 'user', 'invite', '--email', email, '--first', 'Jane', '--last', 'Doe',
    ...roles.flatMap((r) => ['--role', r]), ...extra, '--json').json;
}

export function makeService(db, name = 'Sync', owner = 'api@example.com', extra = []) {
  return change(db, 'service', 'create', '--name', name, '--user', owner, ...extra, '--json').json;
}

export const showUser = (db, key) => ok(db, 'user', 'show', key, '--json').json.user;
export const showRole = (db, name) => ok(db, 'role', 'show', name, '--json').json.role;
export const showService = (db, name) => ok(db, 'service', 'show', name, '--json').json.service;
export const events = (db, ...filters) => ok(db, 'audit', 'list', '--limit', '0', ...filters, '--json').json.events;

export function assertKeys(obj, keys, what) {
  assert.ok(obj && typeof obj === 'object', `${what} should be an object`);
  for (const k of keys) assert.ok(k in obj, `${what} lacks "${k}": ${JSON.stringify(obj)}`);
}

export const sorted = (a) => [...a].sort();
