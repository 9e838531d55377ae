// latchkey export / import (docs/storage.md#export-and-import): an instance moved
// SQLite → PostgreSQL → SQLite comes back the same, export for export, and a service's
// secret still gets a token from a server on the PostgreSQL copy. A refused import
// (into a database holding an instance, or of a file that is no export) writes nothing.
// Runs with LATCHKEY_TEST_DB=postgres (tests/run.sh), which provides the PostgreSQL.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ON_PG, PG_ADMIN, dump, pgUrl, psql, run, tempDir } from './lib.mjs';
import { addService, cli, startServer, token, rest, assertOk, USAGE } from './server-lib.mjs';

let pgCount = 0;

function sqliteDb(t) {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return { dir, path: path.join(dir, 'latchkey.db'), keyFile: path.join(dir, 'latchkey.db.keys') };
}

function pgDb(t) {
  const name = `lk_export_${process.pid}_${++pgCount}`;
  psql(`CREATE DATABASE ${name} TEMPLATE template0`);
  const dir = tempDir();
  // dropped when the process ends, after the servers the tests stop
  process.on('exit', () => spawnSync('psql', ['-X', '-q', '-d', PG_ADMIN, '-c', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return { dir, path: pgUrl(name), pg: name, keyFile: path.join(dir, 'latchkey.keys') };
}

// the export's content, without what says when and from where it was made
function content(file) {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(doc.format, 'latchkey-export');
  assert.equal(doc.version, 1);
  delete doc.exportedAt;
  delete doc.store;
  // what every new database is made with keeps the new database's own times
  for (const r of doc.roles.filter((x) => x.system)) { delete r.createdAt; delete r.updatedAt; }
  for (const w of doc.workspaces.filter((x) => ['AllZones', 'Default'].includes(x.name))) {
    delete w.createdAt; delete w.updatedAt;
  }
  return doc;
}

describe('export and import', { skip: !ON_PG && 'runs with LATCHKEY_TEST_DB=postgres' }, () => {
  test('SQLite → PostgreSQL → SQLite: the same instance, and its secrets still work', async (t) => {
    const a = sqliteDb(t);
    cli(a, 'migrate');
    cli(a, 'workspace', 'create', 'Europe', '--description', 'EU data');
    cli(a, 'permission', 'create', '--name', 'Read Widgets');
    cli(a, 'role', 'create', '--name', 'Widgets', '--permission', 'Read Widgets', '--permission', 'Read-Only Lead');
    cli(a, 'user', 'invite', '--email', 'sync@example.com', '--first', 'Sync', '--last', 'Bot', '--role', 'Widgets@Europe',
      '--api-only');
    cli(a, 'user', 'invite', '--email', 'old@example.com', '--first', 'Old', '--last', 'Bot', '--role', 'Widgets',
      '--api-only');
    cli(a, 'admin', 'create', '--email', 'ada@example.com', '--first', 'Ada', '--last', 'Lovelace');
    const svc = addService(a, 'Widget Sync', 'sync@example.com');
    const rotated = addService(a, 'Old Sync', 'old@example.com');
    cli(a, 'service', 'rotate-secret', 'Old Sync', '--grace', '3600');
    cli(a, 'user', 'lock', 'old@example.com', '--reason', 'moved away');
    cli(a, 'limits', 'set', '--daily', '1234');
    cli(a, 'limits', 'set', '--user', 'sync@example.com', '--rate', '5/10');
    cli(a, 'allowlist', 'add', '10.0.0.0/8');
    cli(a, 'route', 'add', '/api/v2/orders/{id}', '--method', 'GET', '--permission', 'Read-Only Lead', '--plain');
    const fileA = path.join(a.dir, 'a.json');
    const e1 = cli(a, 'export', fileA);
    assert.equal(e1.export.users, 3);
    assert.equal(fs.statSync(fileA).mode & 0o777, 0o600, 'the export holds hashes: mode 0600');
    const docA = content(fileA);
    assert.ok(docA.services.find((s) => s.name === 'Old Sync').oldSecretHash, 'the grace period moves too');
    assert.ok(docA.audit.length >= 10, 'the audit trail moves');
    assert.deepEqual(docA.routes.map((r) => [r.method, r.pattern, r.permissions, r.style]),
      [['GET', '/api/v2/orders/{id}', ['Read-Only Lead'], 'plain']], 'the gateway\'s routes move');
    assert.ok(!JSON.stringify(docA).includes(svc.secret), 'no secret in the export, only hashes');

    // into PostgreSQL
    const b = pgDb(t);
    cli(b, 'migrate');
    assert.equal(cli(b, 'import', fileA).import.users, 3);
    const fileB = path.join(b.dir, 'b.json');
    cli(b, 'export', fileB);
    assert.deepEqual(content(fileB), docA, 'PostgreSQL holds what SQLite held');

    // and back into a new SQLite database
    const c = sqliteDb(t);
    cli(c, 'migrate');
    cli(c, 'import', fileB);
    const fileC = path.join(c.dir, 'c.json');
    cli(c, 'export', fileC);
    assert.deepEqual(content(fileC), docA, 'the round trip gives the instance back');

    // the secret hashes moved: the service's secret gets a token from a server on PostgreSQL
    const srv = await startServer(t, b);
    assertOk(await rest(srv, USAGE, await token(srv, svc)), 'a token of the moved service');
    assert.equal(rotated.secret.length > 0, true);
  });

  test('a refused import writes nothing', (t) => {
    const a = sqliteDb(t);
    cli(a, 'migrate');
    cli(a, 'role', 'create', '--name', 'R', '--permission', 'Read-Only Lead');
    cli(a, 'user', 'invite', '--email', 'x@example.com', '--first', 'X', '--last', 'Y', '--role', 'R', '--api-only');
    const file = path.join(a.dir, 'x.json');
    cli(a, 'export', file);
    const b = pgDb(t);
    cli(b, 'migrate');
    cli(b, 'role', 'create', '--name', 'R', '--permission', 'Read-Only Lead');
    cli(b, 'user', 'invite', '--email', 'here@example.com', '--first', 'H', '--last', 'I', '--role', 'R', '--api-only');
    const before = dump(b);
    const r = run(['import', file, '--json'], { db: b });
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stdout, /holds an instance already/);
    assert.equal(dump(b), before, 'nothing written');
    fs.writeFileSync(path.join(a.dir, 'junk.json'), '{"format": "something else"}');
    const j = run(['import', path.join(a.dir, 'junk.json')], { db: b });
    assert.notEqual(j.status, 0);
    assert.match(j.stderr, /not a latchkey export/);
    assert.equal(dump(b), before, 'nothing written');
    // a route latchkey would not accept (a pattern with two parameters in a segment), into
    // an empty database: refused, nothing written
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    doc.routes = [{ method: 'GET', pattern: '/a/{x}{y}', permissions: [], style: 'plain', createdAt: 1 }];
    fs.writeFileSync(path.join(a.dir, 'route.json'), JSON.stringify(doc));
    const c = pgDb(t);
    cli(c, 'migrate');
    const empty = dump(c);
    const bad = run(['import', path.join(a.dir, 'route.json'), '--json'], { db: c });
    assert.notEqual(bad.status, 0, bad.stdout);
    assert.match(bad.stdout, /the route GET \/a\/\{x\}\{y\} cannot be imported/);
    assert.equal(dump(c), empty, 'nothing written');
    assert.ok(PG_ADMIN);
  });
});
