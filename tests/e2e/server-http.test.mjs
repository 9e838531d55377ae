// latchkey serve: the HTTP layer (issue 3 "Serving"; reference §5): 414 and 413,
// /healthz, /metrics, 404 outside /rest, keep-alive, `serve --help`, bad options and
// the three configuration sources (file < environment < flags).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ON_PG, dbEnv, pgUrl, run } from './lib.mjs';
import {
  FORM_CT, USAGE, assertOk, call, creds, form, identity, makeInstance, metricsWith, raw, rest, startServer, token,
} from './server-lib.mjs';

describe('HTTP', { concurrency: 1 }, () => {
  let inst;
  let srv;
  before(async () => {
    inst = makeInstance(null, { users: ['api@example.com'] });
    srv = await startServer(null, inst.db, ['--body-limit', '2048']);
  });
  after(async () => {
    await srv?.stop();
    inst?.remove();
  });

  test('/healthz → 200 {"status":"ok"}', async () => {
    const r = await call(`${srv.url}/healthz`);
    assert.equal(r.status, 200);
    assert.equal(r.text, '{"status":"ok"}');
    assert.match(r.headers.get('content-type'), /^application\/json/);
  });

  test('URI of 8192 bytes is served, 8193 bytes → 414', async () => {
    const pad = (len, base) => `${base}?pad=${'x'.repeat(len - base.length - 5)}`;
    const okUri = pad(8192, '/healthz');
    assert.equal(okUri.length, 8192);
    const r1 = await raw(srv, { path: okUri });
    assert.equal(r1.status, 200, `8192-byte URI: ${r1.text}`);
    const long = pad(8193, '/healthz');
    const r2 = await raw(srv, { path: long });
    assert.equal(r2.status, 414, `8193-byte URI: ${r2.text}`);
    assert.equal(r2.json?.error, 'uri_too_long', r2.text);
    const r3 = await raw(srv, { path: pad(20000, USAGE) });
    assert.equal(r3.status, 414, `REST URI of 20000 bytes: ${r3.text}`);
    // far beyond the limit (and libmicrohttpd's buffer): still 414
    const r4 = await raw(srv, { path: pad(60000, '/healthz') });
    assert.equal(r4.status, 414, 'URI of 60000 bytes');
    // and the server still answers
    assert.equal((await call(`${srv.url}/healthz`)).status, 200);
  });

  test('--body-limit 2048: a larger body on POST /identity/oauth/token → 413 (with Content-Length and chunked)', async () => {
    const svc = inst.users[0].service;
    const base = form(creds(svc));
    const body = (n) => `${base}&pad=${'y'.repeat(n - base.length - 5)}`;
    assert.equal(body(2048).length, 2048);
    const r0 = await raw(srv, { method: 'POST', path: '/identity/oauth/token', headers: { 'Content-Type': FORM_CT }, body: body(2048) });
    assert.equal(r0.status, 200, `2048-byte body: ${r0.text}`);
    const r1 = await raw(srv, { method: 'POST', path: '/identity/oauth/token', headers: { 'Content-Type': FORM_CT }, body: body(2049) });
    assert.equal(r1.status, 413, `2049-byte body: ${r1.text}`);
    assert.equal(r1.json?.error, 'payload_too_large', r1.text);
    // chunked: no Content-Length to refuse up front
    const r2 = await new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: srv.port, method: 'POST', path: '/identity/oauth/token',
        headers: { 'Content-Type': FORM_CT, 'Transfer-Encoding': 'chunked' }, agent: false }, (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode, text }));
      });
      req.on('error', reject);
      const b = body(5000);
      req.write(b.slice(0, 1000));
      req.write(b.slice(1000, 3000));
      req.end(b.slice(3000));
    });
    assert.equal(r2.status, 413, `chunked 5000-byte body: ${r2.text}`);
    assert.equal((await call(`${srv.url}/healthz`)).status, 200, 'still serving');
  });

  test('/metrics: Prometheus text with requests, tokens issued, limit rejections, latency histogram', async () => {
    const tok = await token(srv, inst.users[0].service);
    assertOk(await rest(srv, USAGE, tok));
    await call(`${srv.url}/healthz`);
    const r = await call(`${srv.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain/);
    const m = await metricsWith(srv.url, ['latchkey_http_requests_total{route="healthz",status="200"}',
      'latchkey_http_requests_total{route="stats_usage",status="200"}']);
    for (const name of ['latchkey_http_requests_total', 'latchkey_tokens_issued_total', 'latchkey_limit_rejections_total',
      'latchkey_http_request_duration_seconds_bucket'])
      assert.match(m, new RegExp(`^# TYPE ${name.replace(/_bucket$/, '')} (counter|histogram)$`, 'm'), `TYPE of ${name}`);
    assert.match(m, /^latchkey_http_requests_total\{route="healthz",status="200"\} [1-9]\d*$/m);
    assert.match(m, /^latchkey_http_requests_total\{route="stats_usage",status="200"\} [1-9]\d*$/m);
    assert.match(m, /^latchkey_tokens_issued_total [1-9]\d*$/m);
    for (const l of ['rate', 'daily', 'concurrent']) assert.match(m, new RegExp(`^latchkey_limit_rejections_total\\{limit="${l}"\\} \\d+$`, 'm'));
    // latency by route family: the token endpoint, the REST call and /healthz each counted in theirs
    for (const family of ['token', 'rest', 'ops']) {
      assert.match(m, new RegExp(`^latchkey_http_request_duration_seconds_bucket\\{family="${family}",le="\\+Inf"\\} [1-9]\\d*$`, 'm'), family);
      assert.match(m, new RegExp(`^latchkey_http_request_duration_seconds_count\\{family="${family}"\\} [1-9]\\d*$`, 'm'), family);
      assert.match(m, new RegExp(`^latchkey_http_request_duration_seconds_sum\\{family="${family}"\\} [0-9.]+$`, 'm'), family);
    }
    // the buckets are cumulative
    const buckets = [...m.matchAll(/^latchkey_http_request_duration_seconds_bucket\{family="rest",le="[^"]+"\} (\d+)$/gm)].map((x) => Number(x[1]));
    assert.ok(buckets.length >= 2 && buckets.every((v, i) => i === 0 || v >= buckets[i - 1]), `cumulative buckets: ${buckets}`);
    assert.ok(!m.includes(tok), 'no token in the metrics');
  });

  test('unknown paths outside /rest → 404 JSON', async () => {
    for (const p of ['/nope', '/identity/oauth', '/oauth2', '/restx/v1/stats/usage.json', '/healthz/x']) {
      const r = await call(`${srv.url}${p}`);
      assert.equal(r.status, 404, `${p}: ${r.text}`);
      assert.equal(r.json?.error, 'not_found', `${p}: ${r.text}`);
    }
  });

  test('keep-alive: two requests over one connection, no "Connection: close"', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const tok = await token(srv, inst.users[0].service);
      const r1 = await raw(srv, { path: USAGE, headers: { Authorization: `Bearer ${tok}` }, agent });
      const r2 = await raw(srv, { path: `/identity/oauth/token?${form(creds(inst.users[0].service))}`, agent });
      const r3 = await raw(srv, { method: 'POST', path: '/identity/oauth/token', headers: { 'Content-Type': FORM_CT }, body: form(creds(inst.users[0].service)), agent });
      for (const [i, r] of [r1, r2, r3].entries()) {
        assert.equal(r.status, 200, `request ${i + 1}: ${r.text}`);
        assert.notEqual((r.headers.connection || '').toLowerCase(), 'close', `request ${i + 1}: Connection: ${r.headers.connection}`);
      }
      assert.equal(r1.reusedSocket, false);
      assert.equal(r2.reusedSocket, true, 'the second request reused the connection');
      assert.equal(r3.reusedSocket, true, 'the third (with a body) reused the connection');
    } finally {
      agent.destroy();
    }
  });

  test('a second server on the port in use → exit 1 with one line', () => {
    const r = run(['serve', '--db', inst.db.path, '--listen', `127.0.0.1:${srv.port}`], { env: dbEnv(inst.db) });
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^latchkey: .*127\.0\.0\.1/);
  });
});

describe('serve options', { concurrency: true }, () => {
  test('serve --help lists the options and exits 0', () => {
    const r = run(['serve', '--help']);
    assert.equal(r.status, 0, r.stderr);
    for (const opt of ['--listen', '--db', '--config', '--token-ttl', '--legacy-query-token', '--quota-tz',
      '--trusted-proxies', '--body-limit', '--uri-limit', '--auth-fail-limit', '--auth-fail-window'])
      assert.ok(r.stdout.includes(opt), `serve --help mentions ${opt}`);
    assert.match(r.stdout, /3600/, 'the default token lifetime');
    assert.match(r.stdout, /LATCHKEY_/, 'the environment variables');
    assert.equal(r.stderr, '');
  });

  test('bad options exit 1 with a one-line message and start nothing', (t) => {
    const inst = makeInstance(t, { users: [] });
    for (const args of [
      ['--bogus'],
      ['--token-ttl', '0'],
      ['--token-ttl', 'abc'],
      ['--body-limit', '-1'],
      ['--legacy-query-token', 'maybe'],
      ['--quota-tz', 'Mars/Olympus_Mons'],
      ['--trusted-proxies', '10.0.0.0/33'],
      ['--listen', 'localhost'],
      ['--listen', '127.0.0.1:99999'],
      ['stray'],
      ['--token-ttl'],
    ]) {
      const r = run(['serve', '--db', inst.db.path, ...args]);
      const what = `serve ${args.join(' ')}`;
      assert.equal(r.status, 1, `${what}: exit ${r.status}\n${r.stderr}`);
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, `${what}: one line expected:\n${r.stderr}`);
      assert.match(lines[0], /^latchkey: \S/, what);
      assert.ok(!r.stderr.includes('listening on'), what);
    }
  });

  test('a database that cannot be opened: non-zero exit, one line, nothing listening', (t) => {
    const inst = makeInstance(t, { users: [] });
    // a path under a regular file: no folder can be made there (PostgreSQL: a database
    // that does not exist)
    const where = ON_PG ? pgUrl('lk_no_such_database') : path.join(inst.db.path, 'sub', 'latchkey.db');
    const r = run(['serve', '--db', where, '--listen', '127.0.0.1:0'], { env: dbEnv(inst.db) });
    assert.notEqual(r.status, 0, r.stderr);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^latchkey: \S/);
    assert.ok(!r.stderr.includes('listening on'));
  });

  test('configuration file < LATCHKEY_* environment < flags', async (t) => {
    const inst = makeInstance(t, { users: ['api@example.com'] });
    const svc = inst.users[0].service;
    const conf = path.join(inst.db.dir, 'latchkey.conf');
    fs.writeFileSync(conf, '# test configuration\ntoken_ttl = 100\nlegacy_query_token = "false"\n');
    const ttl = async (args, env) => {
      const s = await startServer(null, inst.db, args, { env });
      try {
        const r = await identity(s, creds(svc));
        assert.equal(r.status, 200, r.text);
        const q = await rest(s, USAGE, undefined, { query: { access_token: r.json.access_token } });
        return { ttl: r.json.expires_in, legacy: q.json.success };
      } finally {
        await s.stop();
      }
    };
    // each start mints a new token (the plain text of a token is not kept across restarts)
    assert.deepEqual(await ttl(['--config', conf]), { ttl: 100, legacy: false }, 'from the file');
    assert.deepEqual(await ttl(['--config', conf], { LATCHKEY_TOKEN_TTL: '200' }), { ttl: 200, legacy: false }, 'env over file');
    assert.deepEqual(await ttl(['--config', conf, '--token-ttl', '300', '--legacy-query-token'], { LATCHKEY_TOKEN_TTL: '200' }),
      { ttl: 300, legacy: true }, 'flags over env');
    assert.deepEqual(await ttl([], { LATCHKEY_CONFIG: conf }), { ttl: 100, legacy: false }, 'LATCHKEY_CONFIG names the file');
  });
});
