// The database is latchkey's alone, and reading does not write (issue 11 §4; docs/cli.md,
// docs/storage.md): another program's SQLite file is refused by every command and left byte
// for byte as it was; read-only commands never create, migrate or lock the database and work
// while another process holds a write transaction; only `latchkey migrate` and `serve` change
// the schema, everything else refuses an older one with "run latchkey migrate"; a newer one
// is refused by all; a database of an earlier latchkey (application_id 0) is adopted.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startServer } from './server-lib.mjs';
import { assertErrorOutput, freshDb, lk, ok, run, sql, tempDir } from './lib.mjs';

const APP_ID = 0x4c4b4559; // "LKEY"

// every command that only reads, with its arguments
const READS = [
  ['permission', 'list'], ['workspace', 'list'], ['role', 'list'], ['role', 'show', 'Admin'], ['user', 'list'],
  ['service', 'list'], ['audit', 'list'], ['limits', 'show'], ['allowlist', 'show'], ['usage'], ['mail', 'list'],
];
const WRITES = [['workspace', 'create', 'Sales'], ['role', 'create', '--name', 'R', '--permission', 'Read-Only Lead']];

const sha = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

// runs sqlite3 on the file and keeps its write transaction open until release() (a real
// second process holding the write lock)
async function holdWriteLock(file) {
  const p = spawn('sqlite3', [file], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stdin.write("BEGIN IMMEDIATE;\nINSERT INTO workspaces (name, description, created_at, updated_at) VALUES ('Uncommitted', '', 1, 1);\nSELECT 'held';\n");
  const deadline = Date.now() + 10_000;
  while (!out.includes('held') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(out.includes('held'), 'sqlite3 took the write lock');
  return {
    release: () => new Promise((resolve) => { p.on('exit', resolve); p.stdin.end('ROLLBACK;\n'); }),
  };
}

describe('the database is latchkey\'s alone', () => {
  test('another program\'s SQLite file: every command (migrate and serve too) refuses it, exit 3, byte for byte untouched', async (t) => {
    const dir = tempDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'notes.db');
    sql(file, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me'); PRAGMA user_version = 12;");
    const before = sha(file);
    for (const args of [...READS, ...WRITES, ['migrate']]) {
      const r = lk(file, ...args, '--json');
      assert.equal(r.status, 3, `${r.cmd}: ${r.stderr}`);
      assertErrorOutput(r, 'schema');
      assert.match(r.stderr, /notes\.db is not a latchkey database .*latchkey leaves it alone/, r.stderr);
    }
    await assert.rejects(startServer(null, file), /is not a latchkey database/);
    assert.equal(sha(file), before, 'the file is byte for byte as it was');
    assert.deepEqual(sql(file, 'SELECT name FROM sqlite_master ORDER BY name').map((r) => r.name), ['notes']);
  });

  test('a new database carries latchkey\'s application_id; one of an earlier latchkey (0) is read as is and stamped by the first change', (t) => {
    const db = freshDb(t);
    assert.equal(sql(db, 'PRAGMA application_id')[0].application_id, APP_ID);
    sql(db, 'PRAGMA application_id = 0');
    assert.equal(ok(db, 'role', 'list', '--json').json.roles.length, 1);
    assert.equal(sql(db, 'PRAGMA application_id')[0].application_id, 0, 'reading stamps nothing');
    ok(db, 'workspace', 'create', 'Sales');
    assert.equal(sql(db, 'PRAGMA application_id')[0].application_id, APP_ID);
  });
});

describe('reading does not write', () => {
  test('read-only commands work while another process holds the write lock (and write commands wait for it)', async (t) => {
    const db = freshDb(t);
    ok(db, 'role', 'create', '--name', 'Reader', '--permission', 'Read-Only Lead');
    const lock = await holdWriteLock(db.path);
    try {
      for (const args of READS) {
        const r = lk(db, ...args, '--json');
        assert.equal(r.status, 0, `${r.cmd} while the write lock is held: ${r.stderr}`);
      }
      assert.deepEqual(ok(db, 'workspace', 'list', '--json').json.workspaces.map((w) => w.name), ['AllZones', 'Default'],
        'the uncommitted change is not seen');
    } finally {
      await lock.release();
    }
    assert.equal(sql(db, "SELECT count(*) AS n FROM workspaces WHERE name = 'Uncommitted'")[0].n, 0);
  });

  test('read-only commands leave the database file byte for byte as it was', (t) => {
    const db = freshDb(t);
    ok(db, 'role', 'create', '--name', 'Reader', '--permission', 'Read-Only Lead');
    sql(db, 'PRAGMA wal_checkpoint(TRUNCATE)');
    const before = sha(db.path);
    for (const args of READS) ok(db, ...args);
    assert.equal(sha(db.path), before);
  });

  test('a mistyped --db: a read says there is no database there and creates nothing (exit 2); a change creates one', (t) => {
    const dir = tempDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const typo = path.join(dir, 'lachkey', 'latchky.db');
    const at = (file, ...args) => run(args, { db: file, cwd: dir });
    for (const args of READS) {
      const r = at(typo, ...args, '--json');
      assert.equal(r.status, 2, `${r.cmd}: ${r.stderr}`);
      assertErrorOutput(r, 'not_found');
      assert.ok(r.stderr.includes(`there is no latchkey database at ${typo}`), r.stderr);
    }
    assert.ok(!fs.existsSync(path.join(dir, 'lachkey')), 'neither the file nor its folder was created');
    // an empty file is no database either, and stays empty
    const empty = path.join(dir, 'empty.db');
    fs.writeFileSync(empty, '');
    const r = at(empty, 'user', 'list', '--json');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /the file is empty/);
    assert.equal(fs.statSync(empty).size, 0);
    // a change creates a new database (folder included), as `migrate` does
    assert.equal(at(typo, ...WRITES[0]).status, 0);
    assert.equal(sql(typo, "SELECT count(*) AS n FROM workspaces WHERE name = 'Sales'")[0].n, 1);
    assert.equal(at(empty, 'migrate').status, 0);
    assert.equal(sql(empty, 'PRAGMA application_id')[0].application_id, APP_ID);
  });
});

describe('only migrate and serve change the schema', () => {
  // the database as an older latchkey left it: the last migration not yet applied
  function older(t) {
    const db = freshDb(t);
    const last = sql(db, 'SELECT max(version) AS v FROM schema_migrations')[0].v;
    sql(db, `DELETE FROM schema_migrations WHERE version = ${last}`);
    return { db, last };
  }

  test('an older schema: every read and write refuses it with "run \'latchkey migrate\'", changing nothing', (t) => {
    const { db, last } = older(t);
    sql(db, 'PRAGMA wal_checkpoint(TRUNCATE)');
    const before = sha(db.path);
    for (const args of [...READS, ...WRITES]) {
      const r = lk(db, ...args, '--json');
      assert.equal(r.status, 3, `${r.cmd}: ${r.stderr}`);
      assertErrorOutput(r, 'schema');
      assert.match(r.stderr, /older than this latchkey's .*run 'latchkey migrate'/, r.stderr);
    }
    assert.equal(sha(db.path), before);
    assert.equal(sql(db, `SELECT count(*) AS n FROM schema_migrations WHERE version = ${last}`)[0].n, 0);
  });

  test('`latchkey migrate` brings it up to date (then says so), and the commands work again', (t) => {
    const { db, last } = older(t);
    const from = sql(db, 'SELECT max(version) AS v FROM schema_migrations')[0].v;
    const r = ok(db, 'migrate', '--json');
    assert.deepEqual(r.json, { database: db.path, result: 'migrated', from, to: last });
    assert.equal(sql(db, `SELECT count(*) AS n FROM schema_migrations WHERE version = ${last}`)[0].n, 1);
    assert.match(ok(db, 'migrate').stdout, /is up to date \(schema version \d+\)/);
    assert.equal(ok(db, 'role', 'list', '--json').json.roles.length, 1);
    ok(db, ...WRITES[0]);
  });

  test('`latchkey serve` migrates an older schema when it starts', async (t) => {
    const { db, last } = older(t);
    const srv = await startServer(t, db);
    assert.equal(sql(db, `SELECT count(*) AS n FROM schema_migrations WHERE version = ${last}`)[0].n, 1);
    await srv.stop();
    assert.equal(ok(db, 'role', 'list', '--json').json.roles.length, 1);
  });

  test('`latchkey migrate` on a new path creates the database', (t) => {
    const dir = tempDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'new', 'lk.db');
    const r = run(['migrate', '--json'], { db: file, cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.json.result, 'created');
    assert.equal(r.json.from, 0);
    assert.equal(r.json.to, sql(file, 'SELECT max(version) AS v FROM schema_migrations')[0].v);
    assert.equal((fs.statSync(file).mode & 0o777), 0o600);
  });
});
