// Many API-only users, each with one custom service, written straight into a database
// by bench/seed.py (the rows the CLI writes; thousands in a second where the CLI would
// take minutes). Users are bench-N@bench.test (first name "Bench", last name "User N"),
// services bench-N, client ids b0000000-0000-4000-8000-<N in 12 digits>.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib.mjs';

export const benchEmail = (n) => `bench-${n}@bench.test`;
export const benchClientId = (n) => `b0000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

// seeds `count` API-only users holding role `roleId` in AllZones, with a service each;
// returns how long it took (ms). The server must not be running on db meanwhile.
export function seedApiUsers(db, count, roleId, { timeoutMs = 30 * 60_000 } = {}) {
  const start = Date.now();
  const sqlFile = path.join(db.dir, 'seed.sql');
  const creds = path.join(db.dir, 'seed.creds');
  let r = spawnSync('python3', [path.join(ROOT, 'bench/seed.py'), String(count), String(roleId), sqlFile, creds],
    { encoding: 'utf8', timeout: timeoutMs });
  assert.equal(r.status, 0, `seed.py: ${r.stderr || r.error}`);
  r = spawnSync('sh', ['-c', 'sqlite3 "$1" < "$2"', 'sh', db.path, sqlFile], { encoding: 'utf8', timeout: timeoutMs });
  assert.equal(r.status, 0, `sqlite3 < seed.sql: ${r.stderr || r.error}`);
  fs.rmSync(sqlFile, { force: true });
  fs.rmSync(creds, { force: true });
  return Date.now() - start;
}

// runs SQL text (many statements) on db through the sqlite3 tool
export function sqlScript(db, text) {
  const r = spawnSync('sqlite3', [db.path], { input: text, encoding: 'utf8', timeout: 10 * 60_000 });
  assert.equal(r.status, 0, `sqlite3 script: ${r.stderr || r.error}`);
}
