// Operations: HTTPS served by latchkey itself (tls_cert_file, tls_key_file;
// docs/operations.md#tls): TLS 1.2 and 1.3 only, the certificate reloaded on SIGHUP
// (a broken file keeps the one in use), the console's cookie Secure, clear refusals
// at start. The certificates are made here with openssl (self-signed, for 127.0.0.1);
// clients trust exactly that certificate. Nothing talks to any other host.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run, tempDir } from './lib.mjs';
import { consoleAdminCreate, makeInstance, poll, startServer } from './server-lib.mjs';

let dir;
const certs = {};

// a self-signed P-256 certificate for 127.0.0.1 with the given common name
function makeCert(name) {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1'],
  { stdio: 'ignore' });
  return { cert, key, pem: fs.readFileSync(cert) };
}

before(() => {
  dir = tempDir();
  for (const n of ['latchkey-test-a', 'latchkey-test-b', 'latchkey-test-c']) certs[n] = makeCert(n);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const CA = () => [certs['latchkey-test-a'].pem, certs['latchkey-test-b'].pem];

/* An HTTPS request trusting the test certificates: {status, headers, text, json,
 * protocol ('TLSv1.3'…), cn (the server certificate's common name)}. */
function tlsCall(srv, p, { method = 'GET', headers = {}, body, ...tls } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: srv.port, path: p, method, headers, ca: CA(), agent: false,
      timeout: 15_000, ...tls }, (res) => {
      const protocol = res.socket.getProtocol();
      const cn = res.socket.getPeerCertificate().subject?.CN;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json, protocol, cn });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

const tlsArgs = (c) => ['--tls-cert-file', c.cert, '--tls-key-file', c.key];

describe('HTTPS', { concurrency: true }, () => {
  test('serves TLS 1.3 and 1.2 only, says https everywhere, and the console cookie is Secure', async (t) => {
    const inst = makeInstance(t);
    const admin = consoleAdminCreate(inst.db, 'tls-admin@example.com');
    const srv = await startServer(t, inst.db, tlsArgs(certs['latchkey-test-a']));
    assert.match(srv.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(srv.stderr(), /msg="TLS certificate: CN=latchkey-test-a, valid until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/);

    const r = await tlsCall(srv, '/healthz');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.protocol, 'TLSv1.3');
    assert.equal(r.cn, 'latchkey-test-a');
    assert.ok(r.headers['x-request-id'], 'a request id over TLS too');
    const r12 = await tlsCall(srv, '/healthz', { maxVersion: 'TLSv1.2' });
    assert.equal(r12.status, 200);
    assert.equal(r12.protocol, 'TLSv1.2');
    // a client willing to speak anything from TLS 1.0 up succeeds only with 1.2: the server refuses 1.1
    const old = { minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' };
    assert.equal((await tlsCall(srv, '/healthz', { ...old, maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2');
    // (refused by the server after the client's hello, not by the client itself)
    const serverRefused = (e) => e.code !== 'ERR_SSL_NO_PROTOCOLS_AVAILABLE';
    await assert.rejects(tlsCall(srv, '/healthz', { ...old, maxVersion: 'TLSv1.1' }), serverRefused, 'TLS 1.1 is refused');
    await assert.rejects(tlsCall(srv, '/healthz', { ...old, maxVersion: 'TLSv1' }), serverRefused, 'TLS 1.0 is refused');
    // plain HTTP on the TLS port gets no answer
    await assert.rejects(new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: srv.port, path: '/healthz', agent: false, timeout: 10_000 }, resolve)
        .on('timeout', function onTimeout() { this.destroy(new Error('timed out')); }).on('error', reject);
    }), 'plain HTTP');

    // the default public URL is https: the OAuth metadata and the console's links say so
    const meta = await tlsCall(srv, '/.well-known/oauth-authorization-server');
    assert.equal(meta.json.issuer, srv.url);
    assert.equal(meta.json.token_endpoint, `${srv.url}/oauth2/token`);
    // the console's session cookie is Secure, since the caller used TLS
    const login = await tlsCall(srv, '/admin/api/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'tls-admin@example.com', password: admin.password }) });
    assert.equal(login.status, 200, login.text);
    const cookie = [].concat(login.headers['set-cookie'] || []).find((c) => c.startsWith('lk_session='));
    assert.ok(cookie, `a session cookie: ${login.headers['set-cookie']}`);
    assert.match(cookie, /; Secure(;|$)/);
    assert.match(cookie, /; HttpOnly(;|$)/);
    // the handshake failures above are log records, not raw lines
    await srv.stop();
    for (const line of srv.stderr().split('\n').filter(Boolean))
      assert.match(line, /^time=\S+ level=\w+ msg=/, `every line is a log record: ${line}`);
  });

  test('SIGHUP reloads the certificate for new connections; a broken file keeps the one in use', async (t) => {
    const inst = makeInstance(t);
    const live = { cert: path.join(dir, 'live.crt'), key: path.join(dir, 'live.key') };
    const put = (c) => { fs.copyFileSync(c.cert, live.cert); fs.copyFileSync(c.key, live.key); };
    put(certs['latchkey-test-a']);
    const srv = await startServer(t, inst.db, tlsArgs(live));
    assert.equal((await tlsCall(srv, '/healthz')).cn, 'latchkey-test-a');
    // a keep-alive connection made before the reload
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: CA() });
    t.after(() => agent.destroy());
    assert.equal((await tlsCall(srv, '/healthz', { agent })).cn, 'latchkey-test-a');

    put(certs['latchkey-test-b']);
    srv.proc.kill('SIGHUP');
    const seen = await poll(async () => srv.stderr(), (e) => /SIGHUP: TLS certificate reloaded: CN=latchkey-test-b/.test(e), { timeoutMs: 10_000 });
    assert.ok(seen.ok, `the reload is logged:\n${srv.stderr()}`);
    const after1 = await tlsCall(srv, '/healthz');
    assert.equal(after1.status, 200);
    assert.equal(after1.cn, 'latchkey-test-b', 'a new connection gets the new certificate');
    const kept = await tlsCall(srv, '/healthz', { agent });
    assert.equal(kept.status, 200, 'the connection made before still works');

    // a certificate whose key does not match, then garbage: nothing changes, the server says why
    fs.copyFileSync(certs['latchkey-test-c'].cert, live.cert);
    srv.proc.kill('SIGHUP');
    const mismatch = await poll(async () => srv.stderr(), (e) => /level=warn msg="SIGHUP: TLS certificate not reloaded \(the one in use stays\): tls_key_file: .* is not the key of the certificate/.test(e), { timeoutMs: 10_000 });
    assert.ok(mismatch.ok, `a key that does not match is refused:\n${srv.stderr()}`);
    fs.writeFileSync(live.cert, 'not a certificate\n');
    srv.proc.kill('SIGHUP');
    const broken = await poll(async () => srv.stderr(), (e) => /SIGHUP: TLS certificate not reloaded \(the one in use stays\): tls_cert_file: .* holds no PEM certificate/.test(e), { timeoutMs: 10_000 });
    assert.ok(broken.ok, `a broken file is refused:\n${srv.stderr()}`);
    const still = await tlsCall(srv, '/healthz');
    assert.equal(still.status, 200);
    assert.equal(still.cn, 'latchkey-test-b', 'the certificate in use is kept');
    agent.destroy();
    await srv.stop(); // exits 0, no sanitizer report
  });

  test('SIGHUP without TLS reads the key file again, writes the counts and does not stop the server', async (t) => {
    const inst = makeInstance(t);
    const srv = await startServer(t, inst.db);
    srv.proc.kill('SIGHUP');
    const seen = await poll(async () => srv.stderr(), (e) => e.includes('SIGHUP: token keys read again, usage counts written; TLS is not configured'), { timeoutMs: 10_000 });
    assert.ok(seen.ok, srv.stderr());
    const r = await fetch(`${srv.url}/healthz`);
    assert.equal(r.status, 200);
    await srv.stop();
  });

  test('a missing, unreadable or mismatched certificate or key refuses to start with one line', (t) => {
    const inst = makeInstance(t);
    const a = certs['latchkey-test-a'];
    const cases = [
      [['--tls-cert-file', a.cert], /^latchkey: tls_cert_file is set but tls_key_file is not: TLS needs both$/],
      [['--tls-key-file', a.key], /^latchkey: tls_key_file is set but tls_cert_file is not: TLS needs both$/],
      [tlsArgs({ cert: path.join(dir, 'nope.crt'), key: a.key }), /^latchkey: tls_cert_file: cannot read .*nope\.crt/],
      [tlsArgs({ cert: a.cert, key: certs['latchkey-test-b'].key }), /^latchkey: tls_key_file: .* is not the key of the certificate in /],
      [tlsArgs({ cert: a.key, key: a.key }), /^latchkey: tls_cert_file: .* holds no PEM certificate/],
    ];
    for (const [args, want] of cases) {
      const r = run(['serve', '--db', inst.db.path, '--listen', '127.0.0.1:0', ...args]);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], want);
      assert.ok(!r.stderr.includes('listening on'));
      assert.ok(!r.stderr.includes('PRIVATE KEY'), 'no key material in the message');
    }
  });
});
