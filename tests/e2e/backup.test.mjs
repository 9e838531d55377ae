// latchkey backup FILE / latchkey restore FILE (docs/operations.md#backup-and-restore): a copy
// taken while a server writes is consistent and whole; a restore into a stopped instance brings
// back tokens, users and services; everything that must be refused is refused and changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { dump, lk, run, runAsync, sql, tempDir } from './lib.mjs';
import {
  addService, assertOk, cli, makeInstance, rest, startServer, token, USAGE,
} from './server-lib.mjs';

const WRITE_SECONDS = 8;       // the writers stop after this long (bounded; nothing asserts timings)

function folder(t) {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const sqlite = (file, query) => {
  const r = spawnSync('sqlite3', [file, query], { encoding: 'utf8' });
  assert.equal(r.status, 0, `sqlite3 ${file} ${query}: ${r.stderr}`);
  return r.stdout.trim();
};

// The server writes an issued token's record from its background thread; a backup taken
// before that would not hold it. (Where tokens verify themselves there is no such table.)
async function tokenStored(db) {
  const deadline = Date.now() + 10_000;
  const stored = () => sql(db, "SELECT count(*) AS n FROM sqlite_schema WHERE name = 'tokens'")[0].n === 0
    || sql(db, 'SELECT count(*) AS n FROM tokens')[0].n > 0;
  while (!stored() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
  assert.ok(stored(), 'the token is stored');
}

// The database as SQL text without the rows a running server writes by itself, whenever it
// likes: the usage and error counts it flushes and the limit counts it shares with other
// processes (with their times). A refused restore must leave all the rest exactly as it was.
const OWN_WRITES = /^INSERT INTO "?(usage_daily|errors_daily|limit_counts)"? /;
const ownData = (db) => dump(db).split('\n').filter((line) => !OWN_WRITES.test(line)).join('\n');

// What makes a backup file usable on its own: whole, one file, private.
function assertSelfContained(file) {
  assert.equal(sqlite(file, 'PRAGMA integrity_check'), 'ok', `${file} passes the integrity check`);
  for (const side of ['-wal', '-shm', '-journal'])
    assert.ok(!fs.existsSync(file + side), `no ${side} next to ${file}: the copy is one file`);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600, `${file} is mode 0600 (it holds secret hashes)`);
  assert.deepEqual(fs.readdirSync(path.dirname(file)).filter((f) => f.includes('.partial-')), [],
    'no temporary file is left behind');
  assert.equal(sqlite(file, 'PRAGMA journal_mode'), 'delete', 'the copy is in rollback-journal mode');
}

test('backup while a server serves and the CLI writes: every copy is consistent, whole and one file', async (t) => {
  const inst = makeInstance(t, { users: ['a@example.com'] });
  cli(inst.db, 'limits', 'set', '--rate', '1000000/20', '--daily', '100000000');
  const srv = await startServer(t, inst.db);
  const out = folder(t);
  const tok = await token(srv, inst.users[0].service);

  // writers: the CLI adds users with a service each (each command one transaction with its
  // audit event) while REST calls make the server write its counts
  const deadline = Date.now() + WRITE_SECONDS * 1000;
  let writes = 0;
  const cliWriter = (async () => {
    for (let i = 0; Date.now() < deadline && i < 200; i++) {
      const email = `w${i}@example.com`;
      const u = await runAsync(['--db', inst.db.path, 'user', 'invite', '--email', email, '--first', 'W',
        '--last', `${i}`, '--role', 'API Only', '--api-only']);
      assert.equal(u.status, 0, u.stderr);
      const s = await runAsync(['--db', inst.db.path, 'service', 'create', '--name', `svc ${i}`, '--user', email]);
      assert.equal(s.status, 0, s.stderr);
      writes++;
    }
  })();
  const restWriter = (async () => {
    while (Date.now() < deadline) assertOk(await rest(srv, USAGE, tok));
  })();
  const copies = [];
  const backups = (async () => {
    for (let i = 0; Date.now() < deadline; i++) {
      const file = path.join(out, `copy-${i}.db`);
      const r = await runAsync(['--db', inst.db.path, 'backup', file, '--json']);
      assert.equal(r.status, 0, `backup ${i}: ${r.stderr}`);
      copies.push({ file, report: JSON.parse(r.stdout).backup });
      await new Promise((res) => setTimeout(res, 300));
    }
  })();
  await Promise.all([cliWriter, restWriter, backups]);
  assert.ok(copies.length >= 2 && writes >= 2, `copies (${copies.length}) were taken while writes (${writes}) went on`);

  let grew = 0;
  for (const { file, report } of copies) {
    assertSelfContained(file);
    // consistent: a user or a service is in the copy exactly when its audit event is
    const users = sqlite(file, "SELECT group_concat(email, ' ') FROM (SELECT email FROM users ORDER BY email)");
    const created = sqlite(file, "SELECT group_concat(target, ' ') FROM (SELECT target FROM audit_events WHERE area = 'User' AND action = 'Create' ORDER BY target)");
    assert.equal(users, created, `${file}: users and their audit events agree`);
    const services = sqlite(file, "SELECT group_concat(name, ' ') FROM (SELECT name FROM services ORDER BY name)");
    const made = sqlite(file, "SELECT group_concat(target, ' ') FROM (SELECT target FROM audit_events WHERE area = 'Service' AND action = 'Create' ORDER BY target)");
    assert.equal(services, made, `${file}: services and their audit events agree`);
    // what the command reported is what the file holds
    assert.equal(report.users, Number(sqlite(file, 'SELECT count(*) FROM users')));
    assert.equal(report.services, Number(sqlite(file, 'SELECT count(*) FROM services')));
    assert.equal(report.bytes, fs.statSync(file).size);
    assert.equal(report.schemaVersion, Number(sqlite(inst.db.path, 'PRAGMA user_version')));
    grew = Math.max(grew, report.users);
  }
  assert.ok(grew > 1, 'a later copy holds users the writers added meanwhile');
  assertOk(await rest(srv, USAGE, tok), 'the server kept serving');
});

test('restore into the stopped instance: tokens, users and services are back; later changes are gone', async (t) => {
  const inst = makeInstance(t, { users: ['a@example.com', 'b@example.com'] });
  const out = folder(t);
  let srv = await startServer(t, inst.db);
  const [a, b] = inst.users;
  const tokA = await token(srv, a.service);
  assertOk(await rest(srv, USAGE, tokA));
  await tokenStored(inst.db);
  const file = path.join(out, 'drill.db');
  const report = cli(inst.db, 'backup', file).backup;
  assert.deepEqual([report.roles, report.users, report.services], [2, 2, 2], 'the copy: 2 roles (Admin, API Only), 2 users, 2 services');
  // the copy itself (the running server may write an audit event or counts into the
  // database between the backup and a dump of it)
  const before = dump(file);

  // after the backup: a service deleted (its tokens revoked), a user and a service added
  cli(inst.db, 'service', 'delete', b.service.name);
  cli(inst.db, 'user', 'invite', '--email', 'late@example.com', '--first', 'L', '--last', 'Ate', '--role', 'API Only', '--api-only');
  addService(inst.db, 'late sync', 'late@example.com');
  await srv.stop();

  const r = lk(inst.db, 'restore', file);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Restored .* from .*drill\.db \(schema version \d+\): 2 roles, 2 users, 2 services\.\n$/);
  assert.equal(sql(inst.db, 'PRAGMA integrity_check')[0].integrity_check, 'ok');
  assert.deepEqual(cli(inst.db, 'service', 'list').services.map((s) => s.name).sort(), [a.service.name, b.service.name].sort());
  assert.deepEqual(cli(inst.db, 'user', 'list').users.map((u) => u.email).sort(), ['a@example.com', 'b@example.com']);
  assert.equal(dump(inst.db), before, 'the database is exactly the backup again');

  srv = await startServer(t, inst.db);
  assertOk(await rest(srv, USAGE, tokA), 'the token issued before the backup works after the restore');
  const tokB = await token(srv, b.service);
  assertOk(await rest(srv, USAGE, tokB), "the deleted service is back, with its secret");
  await srv.stop();

  // a new machine: the copy restored where there is no database yet
  const fresh = path.join(out, 'new', 'latchkey.db');
  const r2 = run(['--db', fresh, 'restore', file, '--json'], { cwd: out });
  assert.equal(r2.status, 0, r2.stderr);
  assert.equal(fs.statSync(fresh).mode & 0o777, 0o600, 'the new database is mode 0600');
  assert.equal(fs.statSync(path.dirname(fresh)).mode & 0o777, 0o700, 'its new folder is mode 0700');
  const srv2 = await startServer(t, fresh);
  assertOk(await rest(srv2, USAGE, await token(srv2, a.service)), 'the client credentials work on the new machine');
});

test('restore is refused while a server runs on the database; nothing changes and the server serves on', async (t) => {
  const inst = makeInstance(t);
  const srv = await startServer(t, inst.db);
  const tok = await token(srv, inst.users[0].service);
  const file = path.join(folder(t), 'copy.db');
  cli(inst.db, 'backup', file);
  cli(inst.db, 'user', 'invite', '--email', 'after@example.com', '--first', 'A', '--last', 'B', '--role', 'API Only', '--api-only');
  const before = ownData(inst.db);
  const r = lk(inst.db, 'restore', file, '--json');
  assert.equal(r.status, 1);
  assert.equal(r.json.error.code, 'in_use');
  assert.match(r.json.error.message, /a latchkey server is running on .*; stop it before restoring/);
  assert.equal(ownData(inst.db), before, 'everything but the running server\'s own counts is as it was');
  assert.equal(sql(inst.db, "SELECT count(*) AS n FROM users WHERE email = 'after@example.com'")[0].n, 1,
    'the user invited after the backup is still there');
  assertOk(await rest(srv, USAGE, tok));
});

test('a server does not start while a restore holds the database', async (t) => {
  const inst = makeInstance(t);
  // a restore's hold: an exclusive flock(2) on the database file (util-linux flock)
  const holder = spawn('flock', ['--exclusive', inst.db.path, 'sleep', '30'], { stdio: 'ignore' });
  t.after(() => holder.kill());
  await new Promise((res) => setTimeout(res, 300));
  await assert.rejects(startServer(t, inst.db), /exited \(3\) before listening[\s\S]*a restore is running on/);
});

test('copies that must not be restored are refused, and the database stays byte for byte', async (t) => {
  const inst = makeInstance(t);
  const out = folder(t);
  const good = path.join(out, 'good.db');
  cli(inst.db, 'backup', good);
  const before = fs.readFileSync(inst.db.path);
  const refused = (file, status, code, message) => {
    const r = lk(inst.db, 'restore', file, '--json');
    assert.equal(r.status, status, `${file}: ${r.stderr}`);
    assert.equal(r.json.error.code, code, r.stderr);
    assert.match(r.json.error.message, message);
    assert.ok(fs.readFileSync(inst.db.path).equals(before), `${file}: the database is unchanged`);
  };

  const damaged = path.join(out, 'damaged.db');
  const bytes = fs.readFileSync(good);
  bytes.fill(0x5a, 3 * 4096, 3 * 4096 + 512);   // a page in the middle, scribbled over
  fs.writeFileSync(damaged, bytes);
  refused(damaged, 3, 'schema', /damaged\.db (fails SQLite's integrity check|is not a readable SQLite database)/);

  const foreign = path.join(out, 'foreign.db');
  sqlite(foreign, 'CREATE TABLE notes (body TEXT)');
  refused(foreign, 3, 'schema', /foreign\.db is not a latchkey database/);

  const stamped = path.join(out, 'stamped.db');   // latchkey's tables, another program's id
  fs.copyFileSync(good, stamped);
  sqlite(stamped, 'PRAGMA application_id = 1179603265');
  refused(stamped, 3, 'schema', /stamped\.db is not a latchkey database/);

  const text = path.join(out, 'notes.txt');
  fs.writeFileSync(text, 'not a database at all\n'.repeat(200));
  refused(text, 3, 'schema', /notes\.txt is not a readable SQLite database/);

  const newer = path.join(out, 'newer.db');
  fs.copyFileSync(good, newer);
  sqlite(newer, "INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 0); PRAGMA user_version = 9999");
  refused(newer, 3, 'schema', /newer\.db has schema version 9999, newer than this latchkey knows/);

  refused(path.join(out, 'missing.db'), 2, 'not_found', /cannot read .*missing\.db/);
  refused(inst.db.path, 1, 'invalid', /is the database itself/);

  // and over a file at --db that is not latchkey's, nothing is written
  const other = path.join(out, 'other.db');
  sqlite(other, 'CREATE TABLE mine (x)');
  const otherBytes = fs.readFileSync(other);
  const r = lk(other, 'restore', good, '--json');
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.json.error.message, /other\.db is not a latchkey database; it is left as it is/);
  assert.ok(fs.readFileSync(other).equals(otherBytes), 'the other file is byte for byte the same');
});

test('backup: an existing file is replaced only with --force; no database, no copy', async (t) => {
  const inst = makeInstance(t);
  const out = folder(t);
  const file = path.join(out, 'nightly.db');
  fs.writeFileSync(file, 'yesterday');
  const r = lk(inst.db, 'backup', file, '--json');
  assert.equal(r.status, 1);
  assert.equal(r.json.error.code, 'exists');
  assert.match(r.json.error.message, /nightly\.db exists; give --force to replace it/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'yesterday');

  const ok = lk(inst.db, 'backup', file, '--force');
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^Backed up .* to .*nightly\.db \(\d+ bytes, schema version \d+\): 2 roles, 1 users, 1 services\.\n$/);
  assertSelfContained(file);

  const nowhere = path.join(out, 'none', 'latchkey.db');
  const r2 = run(['--db', nowhere, 'backup', path.join(out, 'x.db'), '--json'], { cwd: out });
  assert.equal(r2.status, 2);
  assert.equal(r2.json.error.code, 'not_found');
  assert.match(r2.json.error.message, /there is no database at .*none\/latchkey\.db/);
  assert.ok(!fs.existsSync(nowhere) && !fs.existsSync(path.join(out, 'x.db')), 'neither a database nor a copy was made');

  const foreign = path.join(out, 'foreign.db');
  sqlite(foreign, 'CREATE TABLE notes (body TEXT)');
  const r3 = lk(foreign, 'backup', path.join(out, 'y.db'), '--json');
  assert.equal(r3.status, 3);
  assert.match(r3.json.error.message, /foreign\.db is not a latchkey database/);
});
