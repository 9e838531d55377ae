// Operations: the server's log and request ids (docs/operations.md#logs). Every answer
// carries X-Request-Id (a trusted proxy's, or made), the Marketo envelope's requestId
// is the same id, the access record carries it; log_format json makes every line a
// JSON object; log_level filters; the client id of a failed token request is logged,
// never a secret.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { run } from './lib.mjs';
import {
  FORM_CT, USAGE, assertOk, call, creds, form, identity, logRecords, makeInstance, raw, rawConnection, rest,
  sleep, startServer, token,
} from './server-lib.mjs';

const MADE_ID = /^[0-9a-f]{8}#[0-9a-f]+$/;

// the access record of the request with this id (waits a little: it is written on completion)
async function accessRecord(srv, id) {
  for (let i = 0; i < 100; i++) {
    const rec = logRecords(srv.stderr()).find((r) => r.msg === 'request' && r.request_id === id);
    if (rec) return rec;
    await sleep(20);
  }
  assert.fail(`no access record with request_id ${id}:\n${srv.stderr().slice(-3000)}`);
}

describe('request ids', { concurrency: true }, () => {
  test('every answer has X-Request-Id; the envelope and the access record carry the same id', async (t) => {
    const inst = makeInstance(t);
    const srv = await startServer(t, inst.db);
    const svc = inst.users[0].service;
    const tok = await token(srv, svc);
    const answers = {
      healthz: await call(`${srv.url}/healthz`),
      console: await call(`${srv.url}/`),
      notFound: await call(`${srv.url}/nope`),
      rest: await rest(srv, USAGE, tok),
      restError: await rest(srv, USAGE, 'not-a-token'),
      um: await rest(srv, '/userservice/management/v1/users/allusers.json', 'not-a-token'),
      identity: await identity(srv, creds(svc)),
      consoleApi: await call(`${srv.url}/admin/api/session`),
      uriTooLong: await raw(srv, { path: `/healthz?pad=${'x'.repeat(9000)}` }),
    };
    const ids = new Set();
    for (const [what, r] of Object.entries(answers)) {
      const id = r.headers.get ? r.headers.get('x-request-id') : r.headers['x-request-id'];
      assert.match(id ?? '', MADE_ID, `${what}: X-Request-Id`);
      ids.add(id);
    }
    assert.equal(ids.size, Object.keys(answers).length, 'a fresh id per request');
    // Marketo's requestId is the request's id
    assert.equal(answers.rest.json.requestId, answers.rest.headers.get('x-request-id'));
    assert.equal(answers.restError.json.requestId, answers.restError.headers.get('x-request-id'));
    const rec = await accessRecord(srv, answers.rest.headers.get('x-request-id'));
    assert.equal(rec.path, USAGE);
    assert.equal(rec.status, '200');
    assert.equal(rec.user, inst.users[0].email);
    const tooLong = await accessRecord(srv, answers.uriTooLong.headers['x-request-id']);
    assert.equal(tooLong.status, '414');
  });

  test('a trusted proxy\'s X-Request-Id is used; anyone else\'s, or a malformed one, is replaced', async (t) => {
    const inst = makeInstance(t);
    const trusting = await startServer(t, inst.db, ['--trusted-proxies', '127.0.0.1']);
    const tok = await token(trusting, inst.users[0].service);
    const given = 'edge-7f3a.91:req/2@lb#1';
    const r = await rest(trusting, USAGE, tok, { headers: { 'X-Request-Id': given } });
    assert.equal(r.json.success, true, r.text);
    assert.equal(r.headers.get('x-request-id'), given);
    assert.equal(r.json.requestId, given, 'the envelope carries the proxy\'s id');
    assert.equal((await accessRecord(trusting, given)).path, USAGE);
    for (const bad of ['has space', 'x'.repeat(129), 'quote"d', 'semi;colon', 'new\tline']) {
      const b = await raw(trusting, { path: '/healthz', headers: { 'X-Request-Id': bad } });
      assert.match(b.headers['x-request-id'], MADE_ID, `a malformed id (${JSON.stringify(bad).slice(0, 20)}) is replaced`);
    }
    // a server that trusts no proxy never takes the caller's id
    const plain = await startServer(t, inst.db);
    const p = await call(`${plain.url}/healthz`, { headers: { 'X-Request-Id': 'forged-by-the-client' } });
    assert.match(p.headers.get('x-request-id'), MADE_ID);
    assert.ok(!plain.stderr().includes('forged-by-the-client'));
  });
});

describe('log format and level', { concurrency: true }, () => {
  test('logfmt (the default): records with time, level, msg; a failed token request names its client id, never the secret', async (t) => {
    const inst = makeInstance(t);
    const srv = await startServer(t, inst.db);
    const svc = inst.users[0].service;
    const wrong = await identity(srv, { ...creds(svc), client_secret: 'WrongSecretWrongSecretWrongSecr1' });
    assert.equal(wrong.status, 401);
    const rec = await accessRecord(srv, wrong.headers.get('x-request-id'));
    assert.equal(rec.client_id, svc.clientId);
    assert.equal(rec.code, 'invalid_client');
    assert.equal(rec.level, 'info');
    // POST with Basic: the id comes from the header
    const basic = await call(`${srv.url}/oauth2/token`, { method: 'POST', headers: { 'Content-Type': FORM_CT,
      Authorization: `Basic ${Buffer.from(`${svc.clientId}:nope`).toString('base64')}` }, body: form({ grant_type: 'client_credentials' }) });
    assert.equal(basic.status, 401);
    assert.equal((await accessRecord(srv, basic.headers.get('x-request-id'))).client_id, svc.clientId);
    // something that is not a client id's shape (a secret typed in the wrong field) is left out
    const swapped = await identity(srv, { grant_type: 'client_credentials', client_id: svc.secret, client_secret: svc.clientId });
    assert.equal(swapped.status, 401);
    assert.ok(!('client_id' in await accessRecord(srv, swapped.headers.get('x-request-id'))));
    // a method with control bytes cannot plant a field or a terminal escape
    for (const method of ['G\x1bET', 'GET\tuser=admin@example.com']) {
      const conn = rawConnection(srv);
      await conn.write(`${method} /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      await conn.response().catch(() => null);
      conn.destroy();
    }
    for (let i = 0; i < 100 && !/method=\S*G%1BET/.test(srv.stderr()); i++) await sleep(20);
    const stderr = await srv.stop();
    assert.ok(!stderr.includes('\x1b'), 'no escape byte in the log');
    const methods = logRecords(stderr).filter((x) => x.msg === 'request').map((x) => x.method);
    assert.ok(methods.includes('G%1BET'), methods.join(' '));
    assert.ok(methods.includes('GET%09user=admin@example.com'), methods.join(' '));
    assert.ok(!logRecords(stderr).some((x) => x.msg === 'request' && x.user === 'admin@example.com'), 'no planted user field');
    assert.ok(!stderr.includes(svc.secret), 'no secret in the log');
    for (const line of stderr.split('\n').filter(Boolean))
      assert.match(line, /^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(debug|info|warn|error) msg=/, line);
  });

  test('--log-format json: every line of the run is one JSON object', async (t) => {
    const inst = makeInstance(t);
    const srv = await startServer(t, inst.db, ['--log-format', 'json']);
    const tok = await token(srv, inst.users[0].service);
    const r = await rest(srv, `${USAGE}?x="quoted"`, tok);
    assertOk(r);
    await call(`${srv.url}/p%C3%A4th/\u00e9`);
    await identity(srv, { ...creds(inst.users[0].service), client_secret: 'x' });
    const stderr = await srv.stop();
    const lines = stderr.split('\n').filter(Boolean);
    assert.ok(lines.length >= 6, stderr);
    const recs = lines.map((l) => { try { return JSON.parse(l); } catch { return assert.fail(`not JSON: ${l}`); } });
    for (const rec of recs) {
      assert.match(rec.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(['debug', 'info', 'warn', 'error'].includes(rec.level));
      assert.equal(typeof rec.msg, 'string');
    }
    assert.ok(recs.some((x) => /^listening on http:\/\/127\.0\.0\.1:\d+$/.test(x.msg)));
    const access = recs.find((x) => x.msg === 'request' && x.request_id === r.headers.get('x-request-id'));
    assert.ok(access, 'the REST call\'s record');
    assert.equal(access.status, 200, 'numbers stay numbers');
    assert.equal(access.path, USAGE, 'the path, never the query');
    assert.equal(access.user, inst.users[0].email);
    assert.equal(typeof access.duration_ms, 'number');
    assert.ok(recs.some((x) => x.msg === 'request' && x.path === '/p%C3%A4th/%C3%A9'), 'bytes outside ASCII percent-encoded');
    assert.ok(recs.some((x) => x.msg === 'stopped'));
  });

  test('--log-level warn leaves out the access log and other info records; bad values refuse to start', async (t) => {
    const inst = makeInstance(t);
    const srv = await startServer(t, inst.db, ['--log-level', 'warn'], { env: { LATCHKEY_LOG_LEVEL: 'debug' } });
    await token(srv, inst.users[0].service);
    srv.proc.kill('SIGHUP'); // a signal: written whatever the level
    for (let i = 0; i < 100 && !srv.stderr().includes('SIGHUP'); i++) await sleep(20);
    const stderr = await srv.stop();
    const recs = logRecords(stderr);
    assert.ok(!recs.some((x) => x.msg === 'request'), stderr);
    assert.ok(!recs.some((x) => /^no smtp_host set/.test(x.msg)), stderr);
    // start, stop and signals are written whatever the level
    const always = /^(listening on |SIGTERM received|SIGHUP: |stopped$)/;
    assert.deepEqual(recs.filter((x) => always.test(x.msg)).length, 4, stderr);
    assert.ok(recs.every((x) => x.level === 'warn' || x.level === 'error' || always.test(x.msg)), stderr);
    for (const [args, want] of [
      [['--log-format', 'text'], /^latchkey: log_format: must be logfmt or json \(got 'text'\)$/],
      [['--log-level', 'loud'], /^latchkey: log_level: must be debug, info, warn or error \(got 'loud'\)$/],
    ]) {
      const r = run(['serve', '--db', inst.db.path, '--listen', '127.0.0.1:0', ...args]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr.trim(), want);
    }
  });
});
