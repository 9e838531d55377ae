// Helpers for end-to-end tests that check the emails latchkey sends, over SMTP (to
// tests/e2e/smtp_sink.py, an aiosmtpd server run by Debian's /usr/bin/python3) or as
// .eml files in an outbox folder. Everything listens on and connects to 127.0.0.1 only,
// and every wait is bounded.
//
//   const smtp = await startSmtp(t, { starttls: true, auth: 'mailer:secret' });
//   ... run latchkey with smtp://127.0.0.1:${smtp.port}, CA file smtp.caFile ...
//   const mail = await smtp.waitFor((m) => m.to.includes('jane@example.com'));
//   assert.match(mail.subject, /Einladung/);
//   const link = extractLink(mail.text, 'invite');
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3'; // Debian's, with python3-aiosmtpd (not pyenv's)
export const SINK = path.join(path.dirname(fileURLToPath(import.meta.url)), 'smtp_sink.py');
export const SMTP_START_TIMEOUT_MS = 15_000;
export const SMTP_STOP_TIMEOUT_MS = 10_000;
export const MAIL_WAIT_MS = 15_000;
const POLL_MS = 50;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/*
 * Calls fn() (may be async) every 50 ms until it returns a truthy value, and returns that
 * value. An exception from fn counts as "not yet". After timeoutMs it throws an error
 * naming `what` (and the last exception of fn, if any).
 */
export async function waitFor(fn, timeoutMs = MAIL_WAIT_MS, what = 'a condition') {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` +
    (lastError ? ` (last error: ${lastError.stack || lastError})` : ''));
}

/* ---------------------------------------------------------------- the SMTP sink */

const running = new Set();
process.on('exit', () => {
  for (const p of running) try { p.kill('SIGKILL'); } catch { /* gone */ }
});

// A throwaway self-signed certificate for CN=localhost, IP:127.0.0.1 and DNS:localhost.
function makeCertificate(folder) {
  const certFile = path.join(folder, 'cert.pem');
  const keyFile = path.join(folder, 'key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256',
    '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', keyFile, '-out', certFile], { encoding: 'utf8', timeout: 30_000 });
  assert.ok(!r.error && r.status === 0, `openssl req could not make a certificate: ${r.error || r.stderr}`);
  return { certFile, keyFile };
}

/*
 * Starts smtp_sink.py on 127.0.0.1 (port 0 = a free one) and waits for it to listen.
 * Options: port, starttls (true: offer and require STARTTLS with a fresh self-signed
 * certificate), auth ('user:password' or {user, password}: require AUTH PLAIN/LOGIN),
 * rejectRcpt (a substring: RCPT TO containing it gets 550).
 * Returns {port, dir, caFile, certFile, keyFile, auth, messages(), waitFor(pred, timeoutMs),
 * stop(), restart(), stderr()}:
 *   messages()  every message stored so far, in arrival order: readOutbox()'s objects plus
 *               `envelope` {mailFrom, rcptTos, peer: [host, port], login (or null), tls}
 *   waitFor(pred, timeoutMs)  the first message with pred(message) truthy; with a number n
 *               instead of pred, the list once it has at least n messages
 *   stop()      SIGTERM, waits for the exit and asserts status 0 (harmless when stopped)
 *   restart()   starts it again on the same port with the same folder and options
 * With t (a test context) it is stopped and its folder removed when t ends.
 */
export async function startSmtp(t, { port = 0, starttls = false, auth, rejectRcpt } = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lk-smtp-'));
  const dir = path.join(root, 'mail');
  fs.mkdirSync(dir);
  const sink = { port, dir, caFile: undefined, certFile: undefined, keyFile: undefined, auth: undefined };
  let proc = null;
  let exited = null;
  let err = '';

  const args = ['--dir', dir, '--exit-on-eof'];
  if (starttls) {
    const c = makeCertificate(root);
    Object.assign(sink, c, { caFile: c.certFile });
    args.push('--starttls', c.certFile, c.keyFile);
  }
  if (auth !== undefined) {
    const a = typeof auth === 'string'
      ? { user: auth.slice(0, auth.indexOf(':')), password: auth.slice(auth.indexOf(':') + 1) }
      : auth;
    assert.ok(a.user && !a.user.includes(':') && typeof a.password === 'string', 'auth: "user:password"');
    sink.auth = a;
    args.push('--auth', `${a.user}:${a.password}`);
  }
  if (rejectRcpt !== undefined) args.push('--reject-rcpt', rejectRcpt);

  async function start() {
    const argv = [SINK, '--port', String(sink.port), ...args];
    const cmd = `${PYTHON} ${argv.join(' ')}`;
    err = '';
    // stdin stays an open pipe: its end (this process gone) makes the sink exit
    const p = spawn(PYTHON, argv, { stdio: ['pipe', 'pipe', 'pipe'], cwd: root });
    proc = p;
    running.add(p);
    exited = new Promise((resolve) => {
      // 'close': after the exit and the end of its stdout and stderr
      p.on('close', (code, signal) => { running.delete(p); resolve({ code, signal }); });
    });
    p.stderr.on('data', (d) => { err += d; });
    let out = '';
    const ready = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${cmd}: no READY line within ${SMTP_START_TIMEOUT_MS} ms\nstdout: ${out}\nstderr: ${err}`)), SMTP_START_TIMEOUT_MS);
      p.stdout.on('data', (d) => {
        out += d;
        const m = /^READY (\d+)\n/.exec(out);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      p.on('error', (e) => { clearTimeout(timer); reject(new Error(`${cmd}: ${e.message}`)); });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${cmd}: exited (${code ?? signal}) before READY\nstderr: ${err}`));
      });
    }).catch((e) => {
      try { p.kill('SIGKILL'); } catch { /* gone */ }
      proc = null;
      throw e;
    });
    sink.port = ready;
  }

  async function stop() {
    if (!proc) return;
    const p = proc;
    proc = null;
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    let timer;
    const r = await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), SMTP_STOP_TIMEOUT_MS); })]);
    clearTimeout(timer);
    if (r === 'timeout') {
      p.kill('SIGKILL');
      assert.fail(`smtp_sink.py did not exit within ${SMTP_STOP_TIMEOUT_MS} ms of SIGTERM\nstderr: ${err}`);
    }
    assert.ok(r.code === 0 && r.signal === null, `smtp_sink.py exit ${r.code ?? r.signal} after SIGTERM\nstderr: ${err}`);
  }

  function messages() {
    return readOutbox(dir).map((m) => {
      const meta = path.join(dir, m.file.replace(/\.eml$/, '.json'));
      return { ...m, envelope: JSON.parse(fs.readFileSync(meta, 'utf8')) };
    });
  }

  Object.assign(sink, {
    messages,
    stop,
    async restart() {
      await stop();
      await start();
    },
    waitFor(pred, timeoutMs = MAIL_WAIT_MS) {
      if (typeof pred === 'number') {
        const n = pred;
        return waitFor(() => { const all = messages(); return all.length >= n && all; }, timeoutMs,
          `${n} message(s) at the SMTP sink on port ${sink.port}`);
      }
      const p = pred ?? (() => true);
      return waitFor(() => messages().find((m) => p(m)), timeoutMs,
        `a message at the SMTP sink on port ${sink.port} matching ${String(p).slice(0, 200)}`);
    },
    stderr: () => err,
  });

  if (t) {
    t.after(async () => {
      try { await stop(); } finally { fs.rmSync(root, { recursive: true, force: true }); }
    });
  }
  try {
    await start();
  } catch (e) {
    if (!t) fs.rmSync(root, { recursive: true, force: true });
    throw e;
  }
  return sink;
}

/* ---------------------------------------------------------------- reading mail */

/*
 * The messages of a folder's *.eml files, sorted by name (none when the folder does not
 * exist): [{file, path, raw (Buffer), ...parseEml(raw)}].
 */
export function readOutbox(dir) {
  let names;
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    if (e.code === 'ENOENT') return [];
    throw e;
  }
  return names.filter((n) => n.endsWith('.eml') && !n.startsWith('.')).sort().map((file) => {
    const p = path.join(dir, file);
    const raw = fs.readFileSync(p);
    return { file, path: p, raw, ...parseEml(raw) };
  });
}

// Header fields: get(name) (case-insensitive, the first one, unfolded, not decoded),
// getAll(name), has(name), iteration over [name, value]; `raw` is the header block as
// received and `lines` its physical lines (folding kept).
class MailHeaders {
  constructor(block) {
    this.raw = block;
    this.lines = block === '' ? [] : block.split(/\r?\n/);
    this.fields = [];
    for (const line of this.lines) {
      if (/^[ \t]/.test(line) && this.fields.length) {
        // RFC 5322 unfolding: the line break goes, the whitespace stays
        this.fields[this.fields.length - 1][1] += line;
      } else {
        const i = line.indexOf(':');
        if (i > 0) this.fields.push([line.slice(0, i).trim(), line.slice(i + 1)]);
      }
    }
    this.fields = this.fields.map(([k, v]) => [k, v.trim()]);
  }
  get(name) { return this.getAll(name)[0]; }
  getAll(name) { return this.fields.filter(([k]) => k.toLowerCase() === name.toLowerCase()).map(([, v]) => v); }
  has(name) { return this.get(name) !== undefined; }
  get size() { return this.fields.length; }
  keys() { return this.fields.map(([k]) => k)[Symbol.iterator](); }
  entries() { return this.fields.map(([k, v]) => [k, v])[Symbol.iterator](); }
  [Symbol.iterator]() { return this.entries(); }
}

function decodeBytes(bytes, charset) {
  const cs = (charset || 'utf-8').trim().toLowerCase();
  try {
    return new TextDecoder(cs === 'us-ascii' ? 'utf-8' : cs).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes); // an unknown charset
  }
}

// RFC 2047 encoded words (B and Q, any charset TextDecoder knows); whitespace between two
// encoded words is dropped, and adjacent words of one charset are decoded together.
export function decodeWords(value) {
  if (value === undefined) return undefined;
  const re = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
  let out = '';
  let pending = null; // {charset, bytes: []} of adjacent encoded words
  let last = 0;
  const flush = () => { if (pending) out += decodeBytes(Buffer.concat(pending.bytes), pending.charset); pending = null; };
  for (let m; (m = re.exec(value));) {
    const between = value.slice(last, m.index);
    if (!(pending && /^[ \t\r\n]*$/.test(between))) { flush(); out += between; }
    const charset = m[1].replace(/\*.*$/, ''); // RFC 2231 language suffix
    const bytes = /b/i.test(m[2])
      ? Buffer.from(m[3], 'base64')
      : Buffer.from(m[3].replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    if (pending && pending.charset.toLowerCase() !== charset.toLowerCase()) flush();
    if (!pending) pending = { charset, bytes: [] };
    pending.bytes.push(bytes);
    last = re.lastIndex;
  }
  flush();
  return out + value.slice(last);
}

export function decodeQuotedPrintable(body) {
  const s = body.replace(/[ \t]+(?=\r?\n)/g, '').replace(/=\r?\n/g, '');
  return Buffer.from(s.replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
}

// "text/plain; charset=UTF-8; boundary="x"" → {type: 'text/plain', params: {charset, boundary}}
function parseContentType(value) {
  const [type, ...rest] = (value || 'text/plain').split(';');
  const params = {};
  const re = /([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
  for (let m; (m = re.exec(rest.join(';')));) params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  return { type: type.trim().toLowerCase() || 'text/plain', params };
}

// (a latin1 string of the message's bytes) → {headers, body (still latin1)}; the header
// block is read as UTF-8 (plain ASCII, or raw UTF-8 as RFC 6532 allows)
function splitEntity(s) {
  const m = /\r?\n\r?\n/.exec(s);
  const block = m ? s.slice(0, m.index) : s.replace(/\r?\n$/, '');
  return {
    headers: new MailHeaders(Buffer.from(block, 'latin1').toString('utf8')),
    body: m ? s.slice(m.index + m[0].length) : '',
  };
}

function splitMultipart(body, boundary) {
  const delim = `--${boundary}`;
  const parts = [];
  let cur = null;
  for (const line of body.split(/(?<=\n)/)) {
    const bare = line.replace(/\r?\n$/, '').replace(/[ \t]+$/, '');
    if (bare === delim || bare === `${delim}--`) {
      if (cur !== null) parts.push(cur.replace(/\r?\n$/, '')); // the line break belongs to the delimiter
      cur = bare === delim ? '' : null;
      if (cur === null) return parts;
    } else if (cur !== null) {
      cur += line;
    }
  }
  if (cur !== null) parts.push(cur); // no closing delimiter
  return parts;
}

// the leaf parts of an entity, depth first
function leaves(s, out = []) {
  const { headers, body } = splitEntity(s);
  const ct = parseContentType(headers.get('content-type'));
  if (ct.type.startsWith('multipart/') && ct.params.boundary) {
    for (const part of splitMultipart(body, ct.params.boundary)) leaves(part, out);
    return out;
  }
  const encoding = (headers.get('content-transfer-encoding') || '7bit').toLowerCase();
  const bytes = encoding === 'base64' ? Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64')
    : encoding === 'quoted-printable' ? decodeQuotedPrintable(body)
      : Buffer.from(body, 'latin1');
  const disposition = (headers.get('content-disposition') || '').split(';')[0].trim().toLowerCase();
  const part = { headers, contentType: ct.type, charset: ct.params.charset, encoding, disposition, bytes };
  if (ct.type.startsWith('text/')) part.text = decodeBytes(bytes, ct.params.charset).replace(/\r\n/g, '\n');
  out.push(part);
  return out;
}

/*
 * Parses a message (Buffer or string) into {headers (see MailHeaders), subject, from, to,
 * cc, date, messageId, text, html, parts}. subject/from/to/cc are unfolded and RFC 2047
 * decoded; date and messageId are the header values as they are. text and html are the
 * first text/plain and text/html parts (not attachments) after the transfer encoding
 * (quoted-printable, base64, 7bit/8bit) and the charset, with line breaks as "\n";
 * undefined when missing. parts: every leaf part {headers, contentType, charset, encoding,
 * disposition, bytes, text (text/* only)}.
 */
export function parseEml(raw) {
  const s = Buffer.isBuffer(raw) ? raw.toString('latin1') : Buffer.from(raw, 'utf8').toString('latin1');
  const { headers } = splitEntity(s);
  const hdr = (name) => decodeWords(headers.get(name));
  const parts = leaves(s);
  const body = (type) => parts.find((p) => p.contentType === type && p.disposition !== 'attachment')?.text;
  return {
    headers,
    subject: hdr('subject'),
    from: hdr('from'),
    to: hdr('to'),
    cc: hdr('cc'),
    date: headers.get('date'),
    messageId: headers.get('message-id'),
    text: body('text/plain'),
    html: body('text/html'),
    parts,
  };
}

/*
 * The first http(s) URL in text (plain text or HTML) containing "/invite#" (kind
 * 'invite') or "/reset#" (kind 'reset'); null when there is none. In HTML "&amp;" is
 * read as "&"; a trailing full stop, comma, etc. of a sentence is not part of the URL.
 */
export function extractLink(text, kind) {
  const marks = { invite: '/invite#', reset: '/reset#' };
  assert.ok(marks[kind], `extractLink: kind must be 'invite' or 'reset', not ${kind}`);
  for (const m of String(text ?? '').matchAll(/https?:\/\/[^\s<>"'`]+/g)) {
    const url = m[0].replace(/&amp;/g, '&').replace(/[.,;:!?)\]]+$/, '');
    if (url.includes(marks[kind])) return url;
  }
  return null;
}
