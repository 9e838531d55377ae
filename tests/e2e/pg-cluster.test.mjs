// A cluster of three latchkey nodes on one PostgreSQL (issue 13; docs/deployment.md):
// a token minted on A works on B and C; a revocation through B, a lock and a rotation
// reach every node (polled, 3 s at most; the feed is woken by NOTIFY, so it is usually
// at once); the instance's rate limit holds across the nodes within the stated bound
// (docs/server.md#limits-across-nodes), its counts published in epoch seconds; a
// gateway route added or deleted through one node's CLI is what every node's auth
// check answers; kill -9 of a node loses nothing it acknowledged; PostgreSQL stopped for
// 10 s: every node keeps answering guarded calls and token requests from memory,
// refuses writes cleanly, and catches up once the database is back.
//
// The test starts a PostgreSQL cluster of its own (tests/pg/cluster.sh: a temporary
// folder, a Unix socket, nothing else) because it stops and starts it, and removes it
// at the end. Runs only with LATCHKEY_TEST_DB=postgres (tests/run.sh does).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ON_PG, ROOT, nowSec, pgUrl, psql, tempDir } from './lib.mjs';
import {
  FORM_CT, UM_PERMS, USAGE, addService, assertOk, assertRestError, assertUmOk, basic, call, cli, eventually, form,
  identity, creds, poll, rest, restCode, sleep, startServer, token, um,
} from './server-lib.mjs';

const CLUSTER = path.join(ROOT, 'tests/pg/cluster.sh');

function cluster(...args) {
  const r = spawnSync('sh', [CLUSTER, ...args], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `cluster.sh ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim().split('\n');
}

describe('three nodes on one PostgreSQL', { skip: !ON_PG && 'runs with LATCHKEY_TEST_DB=postgres' }, () => {
  let pgDir;
  let db;
  const nodes = {};
  let admin; // the user management caller's service
  let api;   // an API-only user's service (Read-Only Lead)
  let reader; // the role id of Reader

  before(async () => {
    const [dir, adminUrl] = cluster('start');
    pgDir = dir;
    psql('CREATE DATABASE lk_cluster TEMPLATE template0', adminUrl);
    const folder = tempDir();
    db = { dir: folder, path: pgUrl('lk_cluster', adminUrl), pg: 'lk_cluster', keyFile: path.join(folder, 'latchkey.keys'),
      remove() { fs.rmSync(folder, { recursive: true, force: true }); } };
    cli(db, 'migrate');
    cli(db, 'role', 'create', '--name', 'User Admin', ...[...UM_PERMS, 'Read-Only Lead'].flatMap((p) => ['--permission', p]));
    reader = cli(db, 'role', 'create', '--name', 'Reader', '--permission', 'Read-Only Lead').role.id;
    cli(db, 'user', 'invite', '--email', 'admin-api@example.com', '--first', 'A', '--last', 'B', '--role', 'User Admin', '--api-only');
    admin = addService(db, 'UM sync', 'admin-api@example.com');
    cli(db, 'user', 'invite', '--email', 'api@example.com', '--first', 'A', '--last', 'B', '--role', 'Reader', '--api-only');
    api = addService(db, 'Sync', 'api@example.com');
    // A first: it writes the key file every node shares; each answers a gateway's auth
    // check from 127.0.0.1
    const args = ['--auth-fail-limit', '1000', '--trusted-proxies', '127.0.0.1'];
    nodes.A = await startServer(null, db, args);
    nodes.B = await startServer(null, db, args);
    nodes.C = await startServer(null, db, args);
  });

  after(async () => {
    for (const n of Object.values(nodes)) await n.stop();
    if (pgDir) cluster('stop', pgDir);
    db?.remove();
  });

  const all = () => Object.entries(nodes).filter(([, n]) => n.proc.exitCode === null && n.proc.signalCode === null);

  // first: no REST call has been made yet, so the 20 s window starts empty
  test('the instance rate limit 5/20 s holds across the three nodes within the bound', async () => {
    const before = cli(db, 'limits', 'show');
    assert.ok(before.instance, JSON.stringify(before));
    const generation = async (n) => Number(/^latchkey_catalog_generation (\d+)$/m.exec((await call(`${n.url}/metrics`)).text)?.[1]);
    const was = {};
    for (const [name, n] of all()) was[name] = await generation(n);
    cli(db, 'limits', 'set', '--rate', '5/20', '--daily', '0', '--concurrent', '0');
    // every node has applied the change (the feed) and sees the two others, before a call
    for (const [name, n] of all()) {
      await eventually(`the new limit on ${name}`, () => generation(n), (g) => g > was[name], { timeoutMs: 10_000 });
      await eventually(`the peers of ${name}`, () => call(`${n.url}/metrics`), (r) => /^latchkey_peers 2$/m.test(r.text),
        { timeoutMs: 10_000 });
    }
    const tok = await token(nodes.A, api);
    const list = all().map(([, n]) => n);
    const counts = {};
    const end = Date.now() + 3000;
    for (let i = 0; Date.now() < end; i++) {
      const c = restCode(await rest(list[i % list.length], USAGE, tok));
      counts[c] = (counts[c] ?? 0) + 1;
      await sleep(40);
    }
    // the limit plus one slice (1/20 of it, at least 1) per node
    const bound = 5 + 3 * 1;
    assert.ok(counts.ok >= 5 && counts.ok <= bound, `between 5 and ${bound} calls through: ${JSON.stringify(counts)}`);
    assert.deepEqual(Object.keys(counts).filter((c) => c !== 'ok' && c !== '606'), [], JSON.stringify(counts));
    // nodes on different machines share no monotonic clock: the rate rows are epoch seconds
    const newest = Number(psql("SELECT max(bucket) FROM limit_counts WHERE kind = 'r'", db.path));
    assert.ok(Math.abs(newest - nowSec()) <= 5, `the newest rate second ${newest} is an epoch second (now ${nowSec()})`);
    // the other tests poll the nodes freely: no rate limit for them (the refused calls
    // above fill the window too), the rest as before
    cli(db, 'limits', 'set', '--rate', '0', '--daily', String(before.instance.daily),
      '--concurrent', String(before.instance.concurrent));
  });

  test('a token minted on A is good on B and C', async () => {
    const tok = await token(nodes.A, api);
    for (const [name, n] of all()) assertOk(await rest(n, USAGE, tok), `token of A on ${name}`);
  });

  test('a revocation through B, a lock and a rotation: refused on every node', async () => {
    // revoke (RFC 7009) through B a token minted on A
    const tok = await token(nodes.A, api);
    const r = await call(`${nodes.B.url}/oauth2/revoke`, { method: 'POST',
      headers: { 'Content-Type': FORM_CT, Authorization: basic(api.clientId, api.secret) }, body: form({ token: tok }) });
    assert.equal(r.status, 200, r.text);
    for (const [name, n] of all()) {
      const { value, elapsed } = await eventually(`revoked token on ${name}`, () => rest(n, USAGE, tok), (x) => restCode(x) !== 'ok');
      assertRestError(value, 601, 'Access token invalid', `revoked token on ${name} (${elapsed} ms)`);
    }
    // rotate the secret (a write on the shared database): the tokens of every node die
    const tok2 = await token(nodes.B, api);
    const old = api;
    api = { ...api, secret: cli(db, 'service', 'rotate-secret', 'Sync').clientSecret };
    for (const [name, n] of all()) {
      const { value } = await eventually(`token after rotation on ${name}`, () => rest(n, USAGE, tok2), (x) => restCode(x) !== 'ok');
      assertRestError(value, 601, 'Access token invalid', `after rotation on ${name}`);
      assert.equal((await identity(n, creds(old))).status, 401, `the old secret on ${name}`);
      assert.equal((await identity(n, creds(api))).status, 200, `the new secret on ${name}`);
    }
  });

  test('user lock through the CLI reaches every node', async () => {
    const svc = { ...admin };
    const tok = await token(nodes.A, svc);
    for (const [, n] of all()) assertOk(await rest(n, USAGE, tok));
    cli(db, 'user', 'lock', 'admin-api@example.com', '--reason', 'incident');
    for (const [name, n] of all()) {
      const { value } = await eventually(`token of a locked user on ${name}`, () => rest(n, USAGE, tok), (x) => restCode(x) !== 'ok');
      assertRestError(value, 601, 'Access token invalid', `locked, on ${name}`);
    }
    cli(db, 'user', 'unlock', 'admin-api@example.com');
  });

  test('a gateway route added through the CLI answers on every node; deleted, it is gone on every node', async () => {
    const tok = await token(nodes.B, api);
    const ask = (n) => call(`${n.url}/auth/check`, { headers: { Authorization: `Bearer ${tok}`, 'X-Forwarded-Method': 'GET',
      'X-Forwarded-Uri': '/api/v2/orders/7' } });
    for (const [name, n] of all()) {
      const r = await ask(n);
      assert.equal(r.headers.get('x-latchkey-code'), '610', `no route yet on ${name}: ${r.status} ${r.text}`);
    }
    cli(db, 'route', 'add', '/api/v2/orders/{id}', '--method', 'GET', '--permission', 'Read-Only Lead', '--plain');
    for (const [name, n] of all()) {
      const { value, elapsed } = await eventually(`the route on ${name}`, () => ask(n), (r) => r.status === 200);
      assert.equal(value.headers.get('x-latchkey-user'), 'api@example.com', `the route on ${name} (${elapsed} ms)`);
    }
    cli(db, 'route', 'delete', '/api/v2/orders/{id}', '--method', 'GET');
    for (const [name, n] of all()) {
      const { value } = await eventually(`the route gone on ${name}`, () => ask(n), (r) => r.status !== 200);
      assert.equal(value.headers.get('x-latchkey-code'), '610', `deleted on ${name}`);
    }
  });

  test('kill -9 of a node loses nothing it acknowledged', async () => {
    // the unlock of the test before has reached A
    await eventually('a token on A after the unlock', () => identity(nodes.A, creds(admin)), (r) => r.status === 200);
    const tok = await token(nodes.A, admin);
    const acked = [];
    for (let i = 0; i < 20; i++) {
      const email = `k${i}@example.com`;
      const r = await um(nodes.A, '/invite.json', tok, { body: { emailAddress: email, firstName: 'K', lastName: String(i),
        apiOnly: true, userRoleWorkspaces: [{ accessRoleId: reader, workspaceId: 0 }] } });
      if (r.status === 200) acked.push(email);
    }
    assert.equal(acked.length, 20, 'every invite answered 200');
    nodes.A.kill();
    await nodes.A.exited;
    delete nodes.A;
    const listed = new Set(cli(db, 'user', 'list', '--api-only').users.map((u) => u.email));
    for (const e of acked) assert.ok(listed.has(e), `${e} acknowledged by A before kill -9, and stored`);
    // and the surviving nodes know them (B answers for them through its catalog)
    const btok = await token(nodes.B, admin);
    const r = await um(nodes.B, '/k7%40example.com/user.json', btok);
    assert.equal(assertUmOk(r, 'a user written through A, read through B').emailAddress, 'k7@example.com');
  });

  test('PostgreSQL stopped for 10 s: calls answered from memory, writes refused, then all catches up', async () => {
    const tokB = await token(nodes.B, admin);
    cluster('pause', pgDir);
    // a token is minted without the database (self-verifying, signed with the shared key)
    const tokC = await token(nodes.C, api);
    for (const [name, n] of all()) assertOk(await rest(n, USAGE, tokC), `a token minted on C during the outage, on ${name}`);
    const until = Date.now() + 10_000;
    let guarded = 0;
    let refused = 0;
    while (Date.now() < until) {
      for (const [name, n] of all()) {
        assertOk(await rest(n, USAGE, tokB), `a guarded call on ${name} while the database is away`);
        guarded++;
      }
      const w = await um(nodes.B, '/invite.json', tokB, { body: { emailAddress: `down${refused}@example.com`, firstName: 'D',
        lastName: 'D', apiOnly: true, userRoleWorkspaces: [{ accessRoleId: reader, workspaceId: 0 }] } });
      assert.ok(w.status >= 500 && w.status < 600, `a write while the database is away is refused: ${w.status} ${w.text}`);
      assert.ok(w.json && Array.isArray(w.json.errors), `refused with an error body: ${w.text}`);
      refused++;
      await sleep(500);
    }
    assert.ok(guarded > 0 && refused > 0);
    cluster('resume', pgDir);
    // writes work again, and a change made now reaches every node
    const { value } = await poll(() => um(nodes.B, '/invite.json', tokB, { body: { emailAddress: 'back@example.com',
      firstName: 'B', lastName: 'B', apiOnly: true, userRoleWorkspaces: [{ accessRoleId: reader, workspaceId: 0 }] } }),
    (x) => x.status === 200, { timeoutMs: 20_000, intervalMs: 250 });
    assert.equal(value.status, 200, `a write once the database is back: ${value.text}`);
    for (let i = 0; i < refused; i++)
      assert.equal(psql(`SELECT count(*) FROM users WHERE email = 'down${i}@example.com'`, db.path), '0', 'a refused write left nothing');
    cli(db, 'user', 'lock', 'admin-api@example.com', '--reason', 'after the outage');
    for (const [name, n] of all()) {
      const { value: v } = await eventually(`a lock after the outage on ${name}`, () => rest(n, USAGE, tokB),
        (x) => restCode(x) !== 'ok', { timeoutMs: 10_000 });
      assertRestError(v, 601, 'Access token invalid', `after the outage on ${name}`);
    }
  });
});
