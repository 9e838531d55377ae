// Global behaviour of the CLI: help, usage errors, --json, database location, schema
// version, empty and very long arguments.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  assertErrorOutput, freshDb, runAsync, makeApiUser, makeRole, newDb, ok, refuse, run, sql, tempDir,
} from './lib.mjs';

const VERBS = {
  permission: ['list', 'create', 'delete'],
  workspace: ['list', 'create'],
  role: ['create', 'list', 'show', 'update', 'delete'],
  user: ['invite', 'list', 'show', 'update', 'lock', 'unlock', 'delete'],
  service: ['create', 'list', 'show', 'rotate-secret', 'delete'],
  audit: ['list'],
  admin: ['create'],
};

describe('help', () => {
  let cwd;
  before(() => { cwd = tempDir(); });
  after(() => fs.rmSync(cwd, { recursive: true, force: true }));

  const help = (...args) => {
    const r = run(args, { cwd });
    assert.equal(r.status, 0, `${r.cmd}: exit ${r.status}\n${r.stderr}`);
    assert.match(r.stdout, /usage/i, `${r.cmd} prints usage text:\n${r.stdout}`);
    return r.stdout;
  };

  test('latchkey --help / -h lists every noun', () => {
    for (const flag of ['--help', '-h']) {
      const out = help(flag);
      for (const noun of Object.keys(VERBS)) assert.ok(out.includes(noun), `${flag} mentions ${noun}:\n${out}`);
    }
  });

  test('NOUN --help lists its verbs', () => {
    for (const [noun, verbs] of Object.entries(VERBS)) {
      const out = help(noun, '--help');
      for (const verb of verbs) assert.ok(out.includes(verb), `${noun} --help mentions ${verb}:\n${out}`);
    }
  });

  test('NOUN VERB --help (and -h) describes the options', () => {
    for (const [noun, verbs] of Object.entries(VERBS))
      for (const verb of verbs) help(noun, verb, '--help');
    const invite = help('user', 'invite', '-h');
    for (const opt of ['--email', '--first', '--last', '--role', '--api-only', '--expires', '--userid'])
      assert.ok(invite.includes(opt), `user invite --help mentions ${opt}`);
    assert.ok(help('service', 'rotate-secret', '--help').includes('--grace'));
    // --help wins over missing arguments
    help('role', 'create', '--name', 'X', '--help');
  });

  test('help touches no database', () => {
    help('--help');
    help('user', 'invite', '--help');
    assert.ok(!fs.existsSync(path.join(cwd, 'data')), 'no ./data folder created by --help');
  });

  test('--version', () => {
    const r = run(['--version'], { cwd });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^latchkey \d+\.\d+\.\d+\n$/);
  });

  test('--help wins over any other problem and shows the deepest noun/verb named, without a database', () => {
    const roleHelp = help('role', '--help');
    assert.equal(help('role', 'frobnicate', '--help'), roleHelp);
    const inviteHelp = help('user', 'invite', '--help');
    assert.equal(help('user', 'invite', '--bogus', '--email', '--help'), inviteHelp);
    assert.equal(help('--db', '/dev/null/nowhere/x.db', 'user', 'invite', '--help'), inviteHelp);
    assert.ok(!fs.existsSync(path.join(cwd, 'data')));
  });
});

describe('usage errors (shared database)', () => {
  let db;
  before(() => { db = newDb(); });
  after(() => db?.remove());

  const usage = (token, ...args) => {
    // JSON form: error.code usage
    const r = refuse(db, { status: 1, code: 'usage', mentions: [token] }, ...args);
    assert.match(r.stderr, /--help|usage|did you mean/i, `a hint in: ${r.stderr}`);
    // plain form: one line on stderr, nothing on stdout
    const p = run(args, { db });
    assert.equal(p.status, 1);
    assertErrorOutput(p);
    assert.equal(p.stdout, '', `${p.cmd}: nothing on stdout on failure`);
  };

  test('unknown noun', () => usage('frobnicate', 'frobnicate'));
  test('unknown verb', () => usage('frobnicate', 'user', 'frobnicate'));
  test('unknown option', () => usage('--bogus', 'user', 'list', '--bogus'));
  test('unknown global option', () => usage('--bogus', '--bogus', 'role', 'list'));
  test('missing value', () => usage('--name', 'role', 'create', '--permission', 'Read-Only Lead', '--name'));
  test('an option of another verb', () => usage('--grace', 'service', 'create', '--name', 'S', '--user', 'a@example.com', '--grace', '5'));
  test('extra positional argument', () => usage('extra', 'role', 'list', 'extra'));
  test('the documented usage messages, word for word', () => {
    const cases = [
      [[], "missing a command; see 'latchkey --help'"],
      [['x'], "unknown command 'x'; see 'latchkey --help'"],
      [['role'], "missing a verb for 'role'; see 'latchkey role --help'"],
      [['role', 'x'], "unknown verb 'x' for 'role'; see 'latchkey role --help'"],
      [['role', 'create', '--x'], "unknown option '--x' for 'role create'; see 'latchkey role create --help'"],
      [['role', 'create', '--name'], "option '--name' for 'role create' needs a value; see 'latchkey role create --help'"],
      [['role', 'create', '--name', '--permission', 'Read-Only Lead'], "option '--name' for 'role create' needs a value; see 'latchkey role create --help'"],
      [['user', 'list', '--api-only=yes'], "option '--api-only' for 'user list' takes no value; see 'latchkey user list --help'"],
      [['role', 'list', 'x'], "unexpected argument 'x' for 'role list'; see 'latchkey role list --help'"],
      [['role', 'show'], "missing NAME for 'role show'; see 'latchkey role show --help'"],
      [['role', 'create', '--name', 'X'], "missing --permission for 'role create'; see 'latchkey role create --help'"],
    ];
    for (const [args, message] of cases) {
      const r = refuse(db, { status: 1, code: 'usage' }, ...args);
      assert.equal(r.stderr, `latchkey: ${message}\n`, r.cmd);
      assert.equal(r.json.error.message, message, r.cmd);
    }
  });
});

describe('option syntax', () => {
  test('an option given twice takes its last value; repeatable ones accumulate', (t) => {
    const db = freshDb(t);
    const role = ok(db, 'role', 'create', '--name', 'First', '--name', 'Second', '--description', 'a', '--description', 'b',
      '--permission', 'Read-Only Lead', '--permission', 'Read-Only Company', '--json').json.role;
    assert.equal(role.name, 'Second');
    assert.equal(role.description, 'b');
    assert.deepEqual([...role.permissions].sort(), ['Read-Only Company', 'Read-Only Lead']);
    const u = ok(db, 'user', 'invite', '--email', 'x@example.com', '--email', 'api@example.com', '--first', 'A', '--first', 'Api',
      '--last', 'User', '--role', 'Second', '--api-only', '--json').json.user;
    assert.deepEqual([u.email, u.firstName], ['api@example.com', 'Api']);
    assert.equal(sql(db, 'SELECT count(*) AS n FROM users')[0].n, 1);
  });

  test('--opt=--value, and words after a lone -- are arguments', (t) => {
    const db = freshDb(t);
    const role = ok(db, 'role', 'create', '--name=-odd-', '--description=--draft--', '--permission=Read-Only Lead', '--json').json.role;
    assert.equal(role.name, '-odd-');
    assert.equal(role.description, '--draft--');
    assert.equal(ok(db, 'role', 'show', '--json', '--', '-odd-').json.role.id, role.id);
    assert.equal(ok(db, 'role', 'delete', '--json', '--', '-odd-').json.deleted.role, '-odd-');
  });
});

describe('--json', () => {
  test('accepted anywhere on the line; one document on stdout; --opt=VALUE works', (t) => {
    const db = freshDb(t);
    const a = run(['--json', '--db', db.path, 'role', 'create', '--name=Sales', '--permission=Read-Only Lead']);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.json.role.name, 'Sales');
    const b = ok(db, 'role', '--json', 'show', 'Sales').json;
    const c = run(['role', 'show', 'Sales', '--db', db.path, '--json']);
    const d = run(['role', 'show', '--db=' + db.path, 'Sales', '--json']);
    assert.deepEqual(b, c.json);
    assert.deepEqual(b, d.json);
    assert.equal(b.role.name, 'Sales');
  });

  test('an error with --json: one document with error.code/field/message, and the stderr line', (t) => {
    const db = freshDb(t);
    const r = refuse(db, { status: 2, code: 'not_found' }, 'role', 'show', 'Nobody');
    assert.deepEqual(Object.keys(r.json), ['error']);
    assert.deepEqual(Object.keys(r.json.error).sort(), ['code', 'field', 'message']);
  });
});

describe('database location', () => {
  test('default ./data/latchkey.db: a read finds none there and creates nothing; a change creates it, folder too', (t) => {
    const cwd = tempDir();
    t.after(() => fs.rmSync(cwd, { recursive: true, force: true }));
    const none = run(['workspace', 'list', '--json'], { cwd });
    assert.equal(none.status, 2, none.stderr);
    assertErrorOutput(none, 'not_found');
    assert.match(none.stderr, /there is no latchkey database at \.\/data\/latchkey\.db/);
    assert.ok(!fs.existsSync(path.join(cwd, 'data')), 'a read creates no folder');
    const r = run(['workspace', 'create', 'Here', '--json'], { cwd });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(cwd, 'data', 'latchkey.db')));
    assert.equal(sql(path.join(cwd, 'data', 'latchkey.db'), 'SELECT count(*) AS n FROM workspaces')[0].n, 3);
    assert.equal(run(['workspace', 'list', '--json'], { cwd }).json.workspaces.length, 3);
  });

  test('LATCHKEY_DB beats the default; --db beats LATCHKEY_DB; folders are created', (t) => {
    const cwd = tempDir();
    t.after(() => fs.rmSync(cwd, { recursive: true, force: true }));
    const envDb = path.join(cwd, 'env', 'nested', 'lk.db');
    const flagDb = path.join(cwd, 'flag', 'lk.db');
    let r = run(['role', 'create', '--name', 'FromEnv', '--permission', 'Read-Only Lead'], { cwd, env: { LATCHKEY_DB: envDb } });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.existsSync(envDb));
    assert.ok(!fs.existsSync(path.join(cwd, 'data')), 'the default is not used when LATCHKEY_DB is set');
    r = run(['--db', flagDb, 'role', 'create', '--name', 'FromFlag', '--permission', 'Read-Only Lead'], { cwd, env: { LATCHKEY_DB: envDb } });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.existsSync(flagDb));
    assert.deepEqual(sql(envDb, 'SELECT name FROM roles ORDER BY id').map((x) => x.name), ['Admin', 'FromEnv']);
    assert.deepEqual(sql(flagDb, 'SELECT name FROM roles ORDER BY id').map((x) => x.name), ['Admin', 'FromFlag']);
    assert.ok(!fs.existsSync(path.join(cwd, 'data')));
  });

  test('a database newer than the binary → exit 3 with a clear message, untouched', (t) => {
    const db = freshDb(t);
    const cols = sql(db, 'PRAGMA table_info(schema_migrations)');
    assert.ok(cols.length > 0, 'the store keeps a schema_migrations table');
    const names = cols.map((c) => c.name);
    const values = cols.map((c) => {
      if (c.name === 'version') return '9999';
      if (/INT/i.test(c.type)) return '0';
      return "'future'";
    });
    sql(db, `INSERT INTO schema_migrations (${names.join(', ')}) VALUES (${values.join(', ')})`);
    for (const args of [['role', 'list'], ['workspace', 'create', 'X'], ['migrate']]) {
      refuse(db, { status: 3, code: 'schema', mentions: [/newer|version|upgrade/i] }, ...args);
    }
  });

  test('a file that is not a database, or a folder → exit 3, file untouched', (t) => {
    const dir = tempDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const junk = path.join(dir, 'junk.db');
    const text = 'this is not a database\n'.repeat(200);
    fs.writeFileSync(junk, text);
    const r = run(['role', 'list', '--json'], { db: junk });
    assert.equal(r.status, 3, `${r.cmd}: ${r.stderr}`);
    assertErrorOutput(r, ['storage', 'schema']);
    assert.equal(fs.readFileSync(junk, 'utf8'), text);
    const r2 = run(['role', 'list', '--json'], { db: dir });
    assert.equal(r2.status, 3, `${r2.cmd}: ${r2.stderr}`);
    assertErrorOutput(r2, ['storage', 'schema']);
  });

  test('an empty --db is refused cleanly', (t) => {
    const cwd = tempDir();
    t.after(() => fs.rmSync(cwd, { recursive: true, force: true }));
    const r = run(['--db', '', 'role', 'list', '--json'], { cwd });
    assert.ok([1, 3].includes(r.status), `${r.cmd}: exit ${r.status}`);
    assertErrorOutput(r);
  });
});

describe('empty and very long arguments (shared database)', () => {
  let db;
  before(() => {
    db = newDb();
    makeRole(db, 'API Only', ['Read-Only Lead']);
    makeApiUser(db, 'api@example.com');
  });
  after(() => db?.remove());

  const big = 'x'.repeat(100 * 1024);
  const bigEmail = `${'a'.repeat(100 * 1024)}@example.com`;
  const commands = (v, email) => [
    ['permission', 'create', '--name', v],
    ['permission', 'delete', v],
    ['workspace', 'create', v],
    ['role', 'create', '--name', v, '--permission', 'Read-Only Lead'],
    ['role', 'create', '--name', 'Ok', '--permission', v],
    // an empty description or reason is valid (none); a long one is not
    ...(v ? [['role', 'create', '--name', 'Ok', '--description', v, '--permission', 'Read-Only Lead']] : []),
    ['role', 'show', v],
    ['role', 'update', 'API Only', '--name', v],
    ['role', 'update', v, '--description', 'x'],
    ['role', 'delete', v],
    ['user', 'invite', '--email', email, '--first', 'A', '--last', 'B', '--role', 'API Only', '--api-only'],
    ['user', 'invite', '--email', 'n@example.com', '--first', v, '--last', 'B', '--role', 'API Only', '--api-only'],
    ['user', 'invite', '--email', 'n@example.com', '--first', 'A', '--last', 'B', '--role', v, '--api-only'],
    ['user', 'invite', '--email', 'n@example.com', '--first', 'A', '--last', 'B', '--role', `API Only@${v}`, '--api-only'],
    ...(v ? [['user', 'invite', '--email', 'n@example.com', '--first', 'A', '--last', 'B', '--role', 'API Only', '--api-only', '--reason', v],
      ['user', 'invite', '--email', 'n@example.com', '--first', 'A', '--last', 'B', '--role', 'API Only', '--message', v]] : []),
    ['user', 'invite', '--email', 'n@example.com', '--first', 'A', '--last', 'B', '--role', 'API Only', '--api-only', '--expires', v],
    ['user', 'invite', '--email', 'n@example.com', '--first', 'A', '--last', 'B', '--role', 'API Only', '--api-only', '--userid', v],
    ['user', 'invite', '--email', 'n@example.com', '--first', 'A', '--last', 'B', '--role', 'API Only', '--api-only', '--role', v],
    ['user', 'show', v],
    ['user', 'update', 'api@example.com', '--last', v],
    ['user', 'update', 'api@example.com', '--email', email],
    ['user', 'update', 'api@example.com', '--add-role', v],
    ['user', 'lock', v],
    ['user', 'unlock', 'api@example.com', '--expires', v],
    ['user', 'delete', v],
    ['service', 'create', '--name', v, '--user', 'api@example.com'],
    ['service', 'create', '--name', 'S', '--user', v],
    ['service', 'show', v],
    ['service', 'rotate-secret', v],
    ['service', 'delete', v],
    ['audit', 'list', '--since', v],
    ['audit', 'list', '--limit', v],
    ['admin', 'create', '--email', email, '--first', 'A', '--last', 'B'],
    ['admin', 'create', '--email', 'root@example.com', '--first', v, '--last', 'B'],
  ];

  test('empty-string arguments are refused cleanly (exit 1 or 2, one line, nothing changed)', () => {
    for (const args of commands('', '')) refuse(db, { status: [1, 2] }, ...args);
  });

  test('100 KB arguments are refused cleanly without a crash', () => {
    for (const args of commands(big, bigEmail)) {
      const r = refuse(db, { status: [1, 2] }, ...args);
      assert.ok(r.stderr.length < 4096, `${r.cmd}: the message does not echo 100 KB (${r.stderr.length} bytes)`);
    }
  });

  test('a 100 KB --area / --action finds nothing or is refused, without a crash', () => {
    for (const opt of ['--area', '--action']) {
      const r = run(['audit', 'list', opt, big, '--json'], { db });
      assert.ok([0, 1].includes(r.status), `${r.cmd}: exit ${r.status}`);
      if (r.status === 0) assert.deepEqual(r.json.events, []);
    }
  });
});

describe('concurrent use', () => {
  test('parallel CLI processes on one new database: every change lands, once', async (t) => {
    const dir = tempDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const dbFile = path.join(dir, 'sub', 'latchkey.db');
    const n = 8;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => runAsync(['--db', dbFile, 'workspace', 'create', `W${i}`])));
    for (const r of results) {
      assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
      for (const mark of ['ERROR: AddressSanitizer', 'LeakSanitizer', 'runtime error:']) assert.ok(!r.stderr.includes(mark), r.stderr);
    }
    assert.equal(sql(dbFile, 'SELECT count(*) AS n FROM workspaces')[0].n, n + 2);
    assert.equal(sql(dbFile, 'SELECT count(*) AS n FROM audit_events')[0].n, n);
    assert.equal(sql(dbFile, 'SELECT count(*) AS n FROM permissions')[0].n, 42, 'seeded once');
  });
});
