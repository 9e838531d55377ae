// Helpers of the gateway tests (tests/e2e/gateway-*.test.mjs): a small upstream API
// (tests/e2e/gateway/upstream.py), and Debian's nginx and Caddy started privately —
// a temporary folder, free loopback ports, in the foreground, stopped by the test —
// with the very configurations of contrib/, only their addresses changed.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { ROOT, sleep, tempDir } from './lib.mjs';

export const CONTRIB = path.join(ROOT, 'contrib');
const START_MS = 15_000;

// a port free on 127.0.0.1 right now
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitFor(what, pred, proc, log) {
  const end = Date.now() + START_MS;
  while (Date.now() < end) {
    if (proc.exitCode !== null) assert.fail(`${what} exited (${proc.exitCode}) before it was ready\n${log()}`);
    if (await pred()) return;
    await sleep(50);
  }
  assert.fail(`${what} not ready within ${START_MS} ms\n${log()}`);
}

const accepts = (port) => new Promise((resolve) => {
  const c = net.connect(port, '127.0.0.1');
  c.once('connect', () => { c.destroy(); resolve(true); });
  c.once('error', () => resolve(false));
});

function child(t, cmd, args, opts) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  t.after(stop);
  return { proc, log: () => out, stop };
}

/* The upstream: every call answered with what reached it ({method, target, headers,
 * body}); calls() reads the targets it was given, in order. */
export async function startUpstream(t) {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const portFile = path.join(dir, 'port');
  const c = child(t, 'python3', [path.join(ROOT, 'tests/e2e/gateway/upstream.py'), portFile]);
  await waitFor('the upstream', async () => fs.existsSync(portFile), c.proc, c.log);
  const port = Number(fs.readFileSync(portFile, 'utf8'));
  const log = `${portFile}.log`;
  return {
    port,
    calls: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
    stop: c.stop,
  };
}

// contrib's text with its example addresses replaced by the test's
function template(text, { listen, latchkey, upstream }) {
  const out = text
    .replace(/listen 127\.0\.0\.1:8000;/g, `listen 127.0.0.1:${listen};`)
    .replace(/127\.0\.0\.1:8080/g, `127.0.0.1:${latchkey}`)
    .replace(/127\.0\.0\.1:9000/g, `127.0.0.1:${upstream}`)
    .replace(/:8000\b/g, `:${listen}`);
  return out;
}

/* nginx with contrib/nginx/latchkey-gateway.conf in front of the upstream, asking
 * latchkey (its port). Returns {url, port, errorLog(), stop()}. */
export async function startNginx(t, { latchkey, upstream }) {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.chmodSync(dir, 0o755);
  const listen = await freePort();
  for (const f of ['latchkey-gateway.conf', 'latchkey-proxy.conf']) {
    const text = fs.readFileSync(path.join(CONTRIB, 'nginx', f), 'utf8');
    fs.writeFileSync(path.join(dir, f), template(text, { listen, latchkey, upstream }));
  }
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) fs.mkdirSync(path.join(dir, 'tmp', d), { recursive: true });
  const conf = `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path ${dir}/tmp/body;
    proxy_temp_path ${dir}/tmp/proxy;
    fastcgi_temp_path ${dir}/tmp/fastcgi;
    uwsgi_temp_path ${dir}/tmp/uwsgi;
    scgi_temp_path ${dir}/tmp/scgi;
    include ${dir}/latchkey-gateway.conf;
}
`;
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const check = spawnSync('nginx', ['-t', '-q', '-p', dir, '-c', `${dir}/nginx.conf`, '-e', `${dir}/error.log`], { encoding: 'utf8' });
  assert.equal(check.status, 0, `nginx -t: ${check.stderr}`);
  const c = child(t, 'nginx', ['-p', dir, '-c', `${dir}/nginx.conf`, '-e', `${dir}/error.log`]);
  const errorLog = () => (fs.existsSync(`${dir}/error.log`) ? fs.readFileSync(`${dir}/error.log`, 'utf8') : '') + c.log();
  await waitFor('nginx', () => accepts(listen), c.proc, errorLog);
  return { url: `http://127.0.0.1:${listen}`, port: listen, errorLog, stop: c.stop };
}

/* Caddy with contrib/caddy/Caddyfile, the same way. */
export async function startCaddy(t, { latchkey, upstream }) {
  const dir = tempDir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const listen = await freePort();
  const text = fs.readFileSync(path.join(CONTRIB, 'caddy', 'Caddyfile'), 'utf8');
  fs.writeFileSync(path.join(dir, 'Caddyfile'), template(text, { listen, latchkey, upstream }));
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
  const c = child(t, 'caddy', ['run', '--config', `${dir}/Caddyfile`, '--adapter', 'caddyfile'], { env, cwd: dir });
  await waitFor('caddy', () => accepts(listen), c.proc, c.log);
  return { url: `http://127.0.0.1:${listen}`, port: listen, log: c.log, stop: c.stop };
}

/* One HTTP/1.1 request written as given — the target is sent byte for byte, never
 * normalised as fetch() would — from localAddress (127.0.0.1 unless said). Resolves
 * to {status, headers (lower-case names), text, json}. */
export function send(url, { method = 'GET', target = '/', headers = {}, body, localAddress = '127.0.0.1' } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: target, headers, localAddress, agent: false,
      insecureHTTPParser: false, timeout: 15_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${target}: no answer within 15 s`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// what the upstream answered it saw (the one result of its envelope)
export function seen(r, what) {
  assert.equal(r.status, 200, `${what}: HTTP ${r.status} ${r.text}`);
  assert.equal(r.json?.success, true, `${what}: ${r.text}`);
  assert.equal(r.json.requestId, 'up#1', `${what}: the answer is the upstream's: ${r.text}`);
  return r.json.result[0];
}
