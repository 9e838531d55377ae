// Operations: liveness (/healthz), readiness (/readyz) and the Prometheus metrics
// (docs/operations.md#health, #metrics). Readiness is driven for real, one check at a
// time: another process (the sqlite3 tool) holds the database's write lock (database,
// writer), keeps user management calls waiting on the store worker (store_worker), or
// takes the change feed's table away (catalog); /readyz answers 503 with the reason, and
// 200 again once the cause is gone. Every wait is bounded; nothing asserts timings.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { run, sql } from './lib.mjs';
import {
  USAGE, assertOk, call, cli, eventually, holdWriteLock, makeInstance, makeUmInstance, metricValue, metricsWith, rest,
  startServer, token, um,
} from './server-lib.mjs';

const readyz = (srv) => call(`${srv.url}/readyz`);

describe('health and readiness', { concurrency: true }, () => {
  test('/healthz says the process is alive; /readyz says ready, with every check and no reasons', async (t) => {
    const inst = makeInstance(t);
    const srv = await startServer(t, inst.db);
    const h = await call(`${srv.url}/healthz`);
    assert.equal(h.status, 200);
    assert.deepEqual(h.json, { status: 'ok' });
    assert.equal(h.headers.get('cache-control'), 'no-store');
    // the first probe runs right after the start
    const { value: r } = await eventually('ready', () => readyz(srv), (x) => x.status === 200);
    assert.equal(r.json.status, 'ready', r.text);
    assert.deepEqual(r.json.reasons, []);
    assert.deepEqual(Object.keys(r.json.checks).sort(), ['catalog', 'database', 'store_worker', 'writer']);
    for (const [name, c] of Object.entries(r.json.checks)) {
      assert.equal(c.ok, true, `${name}: ${r.text}`);
      assert.ok(!('reason' in c), `${name} has no reason when ok`);
    }
    assert.equal(typeof r.json.checks.database.write_lock_ms, 'number');
    assert.equal(typeof r.json.checks.catalog.generation, 'number');
    assert.equal(r.json.checks.store_worker.queued, 0);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal((await call(`${srv.url}/readyz`, { method: 'POST' })).status, 405);
  });

  test('another process holding the write lock past ready_db_timeout_ms → 503 with the reason; released → 200', async (t) => {
    const inst = makeInstance(t);
    const srv = await startServer(t, inst.db, ['--ready-db-timeout-ms', '300', '--ready-writer-max-lag', '2']);
    await eventually('ready at first', () => readyz(srv), (x) => x.status === 200);
    const tok = await token(srv, inst.users[0].service);
    const lock = await holdWriteLock(t, inst.db.path);
    // a counted REST call leaves a count for the background writer, which cannot write now
    assertOk(await rest(srv, USAGE, tok));
    const { value: down } = await eventually('503 while the lock is held', () => readyz(srv),
      (x) => x.status === 503, { timeoutMs: 15_000, intervalMs: 100 });
    assert.equal(down.json.status, 'not_ready', down.text);
    assert.equal(down.json.checks.database.ok, false, down.text);
    assert.match(down.json.checks.database.reason, /write lock/, down.text);
    assert.ok(down.json.reasons.some((x) => /^database: .*write lock/.test(x)), down.text);
    // liveness is not readiness: the process still answers, and the token path still works
    assert.equal((await call(`${srv.url}/healthz`)).status, 200);
    assertOk(await rest(srv, USAGE, tok), 'a guarded call while the database is locked');
    // the writer falls behind once its write waited past ready_writer_max_lag
    const { value: behind } = await eventually('the writer behind', () => readyz(srv),
      (x) => x.json && x.json.checks.writer.ok === false, { timeoutMs: 20_000, intervalMs: 200 });
    assert.match(behind.json.checks.writer.reason, /background writer last wrote \d+ ms ago/, behind.text);
    // its write gives up after the store's busy timeout, is counted, and waits for the next try
    const { value: failing } = await eventually('a failed write counted', () => call(`${srv.url}/metrics`),
      (x) => metricValue(x.text, 'latchkey_write_failures_total') >= 1, { timeoutMs: 20_000, intervalMs: 200 });
    const m = failing.text;
    assert.equal(metricValue(m, 'latchkey_ready'), 0, 'latchkey_ready 0 while not ready');
    assert.equal(metricValue(m, 'latchkey_ready_check{check="database"}'), 0);
    assert.equal(metricValue(m, 'latchkey_database_writable'), 0);

    await lock.release();
    const { value: up } = await eventually('200 once released', () => readyz(srv),
      (x) => x.status === 200, { timeoutMs: 20_000, intervalMs: 100 });
    assert.equal(up.json.status, 'ready', up.text);
    assert.deepEqual(up.json.reasons, []);
    const m2 = (await call(`${srv.url}/metrics`)).text;
    assert.equal(metricValue(m2, 'latchkey_ready'), 1);
    // and what waited was written: the call is in the database's usage
    await eventually('the count written', async () => cli(inst.db, 'usage'), (u) => JSON.stringify(u).includes(inst.users[0].email));
  });
  test('the change feed unreadable for longer than ready_catalog_max_age → 503 naming the catalog; readable again → 200', async (t) => {
    const inst = makeInstance(t);
    const srv = await startServer(t, inst.db, ['--ready-catalog-max-age', '1']);
    await eventually('ready at first', () => readyz(srv), (x) => x.status === 200);
    // the feed's table under another name: every poll of the feed fails from now on, and
    // the catalog in memory stays as it was last found current
    sql(inst.db, 'ALTER TABLE changes RENAME TO changes_away');
    const { value: down } = await eventually('503 while the feed cannot be read', () => readyz(srv),
      (x) => x.status === 503 && x.json.checks.catalog.ok === false, { timeoutMs: 15_000, intervalMs: 100 });
    assert.equal(down.json.status, 'not_ready', down.text);
    assert.match(down.json.checks.catalog.reason, /^the catalog was last found current \d+ ms ago \(at most 1 s\)$/, down.text);
    assert.ok(down.json.checks.catalog.age_ms > 1000, down.text);
    // while the feed cannot be read, the catalog stays where it was (the changes the server
    // itself committed before the table went away may have moved it up to then)
    const { value: later } = await eventually('still 503, later', () => readyz(srv),
      (x) => x.status === 503 && x.json.checks.catalog.age_ms > down.json.checks.catalog.age_ms, { timeoutMs: 15_000, intervalMs: 100 });
    assert.equal(later.json.checks.catalog.generation, down.json.checks.catalog.generation, 'the catalog kept its place in the feed');
    assert.ok(down.json.reasons.some((x) => /^catalog: the catalog was last found current/.test(x)), down.text);
    assert.match(srv.stderr(), /could not read the change feed \(will retry\)/);
    // the tokens and the REST calls go on from the catalog in memory
    const tok = await token(srv, inst.users[0].service);
    assertOk(await rest(srv, USAGE, tok), 'a REST call while the catalog is stale');

    sql(inst.db, 'ALTER TABLE changes_away RENAME TO changes');
    const { value: up } = await eventually('200 once the feed reads again', () => readyz(srv),
      (x) => x.status === 200, { timeoutMs: 15_000, intervalMs: 100 });
    assert.equal(up.json.checks.catalog.ok, true, up.text);
    assert.deepEqual(up.json.reasons, []);
    // and the feed is followed again: a change made by the CLI reaches the server
    cli(inst.db, 'service', 'create', '--name', 'after', '--user', inst.users[0].email);
    await eventually('the new service seen', () => call(`${srv.url}/metrics`), (x) => metricValue(x.text, 'latchkey_services') === 2);
  });

  test('a store worker call waiting past ready_writer_max_lag → 503 naming store_worker; the call done → 200', async (t) => {
    const inst = makeUmInstance(t);
    // the database check's deadline far beyond this test: only the store worker falls behind
    const srv = await startServer(t, inst.db, ['--ready-writer-max-lag', '1', '--ready-db-timeout-ms', '30000']);
    await eventually('ready at first', () => readyz(srv), (x) => x.status === 200);
    const tok = await token(srv, inst.caller.service);
    const lock = await holdWriteLock(t, inst.db.path);
    // user management writes run on the store worker; each waits there for the write lock
    // (at most the store's busy timeout, longer than the 1 s allowed)
    const waiting = Array.from({ length: 2 }, (_, i) => um(srv, '/invite.json', tok, {
      body: { emailAddress: `waits${i}@example.com`, firstName: 'W', lastName: 'L', apiOnly: true,
        userRoleWorkspaces: [{ accessRoleId: inst.roles.reader.id, workspaceId: 0 }] },
    }));
    const { value: down } = await eventually('503 while the store worker waits', () => readyz(srv),
      (x) => x.status === 503 && x.json.checks.store_worker.ok === false, { timeoutMs: 15_000, intervalMs: 100 });
    assert.equal(down.json.status, 'not_ready', down.text);
    const w = down.json.checks.store_worker;
    assert.match(w.reason, /^the oldest of \d+ call\(s\) for the store worker has waited \d+ ms \(at most 1 s\)$/, down.text);
    assert.ok(w.queued >= 1 && w.oldest_ms > 1000, down.text);
    assert.ok(down.json.reasons.some((x) => /^store_worker: the oldest of/.test(x)), down.text);
    assert.equal(down.json.checks.database.ok, true, `the probe is still within its deadline: ${down.text}`);
    assert.equal((await call(`${srv.url}/healthz`)).status, 200);

    await lock.release();
    await Promise.all(waiting);
    const { value: up } = await eventually('200 once the calls are done', () => readyz(srv),
      (x) => x.status === 200, { timeoutMs: 20_000, intervalMs: 100 });
    assert.equal(up.json.checks.store_worker.ok, true, up.text);
    assert.equal(up.json.checks.store_worker.queued, 0, up.text);
    assert.deepEqual(up.json.reasons, []);
  });
});

describe('metrics', { concurrency: true }, () => {
  test('build, process and state gauges, mail by state, latency per route family', async (t) => {
    const started = Date.now() / 1000;
    const inst = makeInstance(t, { users: ['a@example.com', 'b@example.com'] });
    const srv = await startServer(t, inst.db);
    const tok = await token(srv, inst.users[0].service);
    assertOk(await rest(srv, USAGE, tok));
    // a person's invitation: queued by the CLI, written to the outbox by the server's mailer
    cli(inst.db, 'role', 'create', '--name', 'Viewer', '--permission', 'Access Users');
    cli(inst.db, 'user', 'invite', '--email', 'grace@example.com', '--first', 'Grace', '--last', 'Hopper', '--role', 'Viewer');
    const { value: r } = await eventually('the mail counted as sent', () => call(`${srv.url}/metrics`),
      (x) => metricValue(x.text, 'latchkey_mail_messages{state="sent"}') === 1, { timeoutMs: 20_000, intervalMs: 200 });
    const m = r.text;
    assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    assert.match(m, /^latchkey_build_info\{version="\d+\.\d+\.\d+",libmicrohttpd="0\.9\.\d+"\} 1$/m);
    assert.ok(metricValue(m, 'process_cpu_seconds_total') > 0);
    assert.ok(metricValue(m, 'process_resident_memory_bytes') > 1_000_000);
    assert.ok(metricValue(m, 'process_virtual_memory_bytes') >= metricValue(m, 'process_resident_memory_bytes'));
    const fds = metricValue(m, 'process_open_fds');
    assert.ok(fds >= 5 && fds < metricValue(m, 'process_max_fds'), `open fds ${fds}`);
    const st = metricValue(m, 'process_start_time_seconds');
    assert.ok(st >= started - 60 && st <= Date.now() / 1000 + 60, `start time ${st} (test began ${started})`);
    assert.equal(metricValue(m, 'latchkey_services'), 2);
    assert.equal(metricValue(m, 'latchkey_api_users'), 2);
    assert.ok(metricValue(m, 'latchkey_tokens_issued_total') >= 1);
    assert.equal(metricValue(m, 'latchkey_tokens_revoked'), 0); // issued tokens are not held: they verify themselves
    assert.equal(metricValue(m, 'latchkey_catalog_full_loads'), 1);
    assert.ok(metricValue(m, 'latchkey_catalog_generation') >= 1);
    assert.ok(metricValue(m, 'latchkey_catalog_age_seconds') >= 0);
    assert.equal(metricValue(m, 'latchkey_store_worker_queue_length'), 0);
    assert.equal(metricValue(m, 'latchkey_write_failures_total'), 0);
    assert.equal(metricValue(m, 'latchkey_peers'), 0, 'no other process on the database');
    assert.ok(metricValue(m, 'latchkey_limits_sync_seconds') >= 0, 'the limits are synced (alone, a heartbeat)');
    assert.equal(metricValue(m, 'latchkey_database_writable'), 1);
    assert.equal(metricValue(m, 'latchkey_ready'), 1);
    for (const s of ['queued', 'failed', 'cancelled'])
      assert.equal(metricValue(m, `latchkey_mail_messages{state="${s}"}`), 0, s);
    for (const f of ['token', 'rest', 'ops'])
      assert.ok(metricValue(m, `latchkey_http_request_duration_seconds_count{family="${f}"}`) >= 1, f);
    // every family is present, even with no request yet
    for (const f of ['usermgmt', 'console_api', 'console', 'none'])
      assert.ok(metricValue(m, `latchkey_http_request_duration_seconds_count{family="${f}"}`) >= 0, f);
    // each metric name has one HELP and one TYPE
    const types = [...m.matchAll(/^# TYPE (\S+) /gm)].map((x) => x[1]);
    assert.equal(new Set(types).size, types.length, 'no TYPE line twice');
    assert.ok(!m.includes(tok), 'no token in the metrics');
    // the gauges follow the database: a new service shows within the catalog's poll
    cli(inst.db, 'service', 'create', '--name', 'third', '--user', 'a@example.com');
    await eventually('3 services', () => call(`${srv.url}/metrics`), (x) => metricValue(x.text, 'latchkey_services') === 3);
  });
});

describe('management listener', { concurrency: true }, () => {
  test('--management-listen serves /metrics, /healthz and /readyz there, and no longer on the public port', async (t) => {
    const inst = makeInstance(t);
    const srv = await startServer(t, inst.db, ['--management-listen', '127.0.0.1:0']);
    const line = /serving \/metrics, \/healthz and \/readyz on (http:\/\/127\.0\.0\.1:(\d+))/.exec(srv.stderr());
    assert.ok(line, `the management address is logged:\n${srv.stderr()}`);
    const mgmt = line[1];
    assert.notEqual(Number(line[2]), srv.port);
    assert.equal((await call(`${mgmt}/healthz`)).status, 200);
    assert.equal((await call(`${mgmt}/metrics`)).status, 200);
    await eventually('ready on the management port', () => call(`${mgmt}/readyz`), (x) => x.status === 200);
    for (const p of ['/healthz', '/readyz', '/metrics']) {
      const r = await call(`${srv.url}${p}`);
      assert.equal(r.status, 404, `public ${p}: ${r.text}`);
      assert.equal(r.json.error, 'not_found');
    }
    // nothing else is served on the management port
    for (const p of ['/', '/openapi.json', USAGE, '/identity/oauth/token', '/admin/api/session', '/nope']) {
      const r = await call(`${mgmt}${p}`);
      assert.equal(r.status, 404, `management ${p}: ${r.text}`);
    }
    // the public port serves the rest as before
    const tok = await token(srv, inst.users[0].service);
    assertOk(await rest(srv, USAGE, tok));
    assert.equal((await call(`${srv.url}/openapi.json`)).status, 200);
    // requests on either port are counted in the metrics
    const m = await metricsWith(mgmt, ['latchkey_http_requests_total{route="stats_usage",status="200"}']);
    assert.ok(metricValue(m, 'latchkey_http_requests_total{route="stats_usage",status="200"}') >= 1);
    assert.ok(metricValue(m, 'latchkey_http_requests_total{route="none",status="404"}') >= 1);
  });

  test('the same address as listen, or one in use, refuses to start', async (t) => {
    const inst = makeInstance(t);
    const same = run(['serve', '--db', inst.db.path, '--listen', '127.0.0.1:18080', '--management-listen', '127.0.0.1:18080']);
    assert.equal(same.status, 1, same.stderr);
    assert.match(same.stderr, /^latchkey: management_listen: must differ from listen/);
    const srv = await startServer(t, inst.db);
    const busy = run(['serve', '--db', inst.db.path, '--listen', '127.0.0.1:0', '--management-listen', `127.0.0.1:${srv.port}`]);
    assert.equal(busy.status, 1, busy.stderr);
    assert.match(busy.stderr, new RegExp(`^latchkey: cannot listen on 127\\.0\\.0\\.1:${srv.port}`));
    assert.ok(!busy.stderr.includes('listening on'));
  });
});
