// Tests of the email tooling of the end-to-end tests (tests/e2e/mail-lib.mjs and
// tests/e2e/smtp_sink.py), without latchkey: messages go to the sink from a minimal SMTP
// client written here with node:net (and node:tls for STARTTLS), all on 127.0.0.1.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { describe, test } from 'node:test';
import { extractLink, parseEml, readOutbox, startSmtp, waitFor } from './mail-lib.mjs';

const REPLY_TIMEOUT_MS = 10_000;

/* ---------------------------------------------------------------- a minimal SMTP client */

class SmtpClient {
  static async connect(port) {
    const sock = net.connect({ host: '127.0.0.1', port });
    const c = new SmtpClient(sock);
    c.greeting = await c.reply();
    assert.equal(c.greeting.code, 220, `greeting: ${c.greeting.text}`);
    return c;
  }

  constructor(sock) {
    this.buf = '';
    this.waiter = null;
    this.attach(sock);
  }

  attach(sock) {
    this.sock = sock;
    this.onData = (d) => { this.buf += d.toString('latin1'); this.pump(); };
    this.onEnd = (e) => { this.ended = e || new Error('connection closed'); this.pump(); };
    sock.on('data', this.onData);
    sock.on('error', this.onEnd);
    sock.on('close', () => this.onEnd());
  }

  // a whole reply "NNN-...\r\n ... NNN ...\r\n" → {code, lines, text}
  pump() {
    if (!this.waiter) return;
    const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(this.buf);
    if (m) {
      this.buf = this.buf.slice(m[0].length);
      const lines = m[0].trimEnd().split(/\r?\n/);
      const w = this.waiter;
      this.waiter = null;
      w.resolve({ code: Number(lines[0].slice(0, 3)), lines: lines.map((l) => l.slice(4)), text: m[0].trimEnd() });
    } else if (this.ended) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(new Error(`no complete SMTP reply (${this.ended.message}); got ${JSON.stringify(this.buf)}`));
    }
  }

  reply() {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiter = null; reject(new Error(`no SMTP reply within ${REPLY_TIMEOUT_MS} ms; got ${JSON.stringify(this.buf)}`)); }, REPLY_TIMEOUT_MS);
      this.waiter = {
        resolve: (r) => { clearTimeout(timer); resolve(r); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      this.pump();
    });
  }

  cmd(line) {
    this.sock.write(`${line}\r\n`);
    return this.reply();
  }

  // sends the command and asserts the reply code
  async ok(line, code) {
    const r = await this.cmd(line);
    assert.equal(r.code, code, `${line.replace(/^(AUTH PLAIN) .*/, '$1 …')}: ${r.text}`);
    return r;
  }

  // STARTTLS, then TLS on the same socket, verified with the CA file for "localhost"
  async starttls(caFile) {
    await this.ok('STARTTLS', 220);
    this.sock.off('data', this.onData);
    this.sock.removeAllListeners('error');
    this.sock.removeAllListeners('close');
    const secure = tls.connect({ socket: this.sock, ca: fs.readFileSync(caFile), servername: 'localhost' });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no TLS handshake within 10 s')), REPLY_TIMEOUT_MS);
      secure.once('secureConnect', () => { clearTimeout(timer); resolve(); });
      secure.once('error', (e) => { clearTimeout(timer); reject(e); });
    });
    this.attach(secure);
    return secure;
  }

  // DATA with dot-stuffing; `message` uses CRLF line endings and ends with CRLF
  async data(message) {
    await this.ok('DATA', 354);
    this.sock.write(message.replace(/^\./gm, '..'));
    return this.ok('.', 250);
  }

  async quit() {
    const r = await this.cmd('QUIT');
    this.sock.destroy();
    return r;
  }

  close() { this.sock.destroy(); }
}

const plain = (user, password) => Buffer.from(`\0${user}\0${password}`).toString('base64');
const b64 = (s) => Buffer.from(s).toString('base64');

// one whole transaction; returns the EHLO reply
async function sendMail(port, { from = 'noreply@example.com', to = ['jane@example.com'], message, auth, caFile }) {
  const c = await SmtpClient.connect(port);
  try {
    let ehlo = await c.ok('EHLO client.localhost', 250);
    if (caFile) {
      await c.starttls(caFile);
      ehlo = await c.ok('EHLO client.localhost', 250);
    }
    if (auth) await c.ok(`AUTH PLAIN ${plain(auth.user, auth.password)}`, 235);
    await c.ok(`MAIL FROM:<${from}>`, 250);
    for (const rcpt of to) await c.ok(`RCPT TO:<${rcpt}>`, 250);
    await c.data(message);
    assert.equal((await c.quit()).code, 221);
    return ehlo;
  } finally {
    c.close();
  }
}

/* ---------------------------------------------------------------- a test message */

const SUBJECT = 'Einladung zu latchkey: Grüße aus Köln – ß';
const INVITE = 'http://127.0.0.1:8080/invite#tok_ABCdef-123_456xyzXYZ0987654321abcdefghijk';
const RESET = 'http://127.0.0.1:8080/reset#rst_0123456789';

// quoted-printable with soft line breaks every 76 characters at most
function qp(text) {
  const enc = [...Buffer.from(text.replace(/\r?\n/g, '\n'))].map((b) =>
    (b === 0x0a ? '\n' : (b >= 33 && b <= 126 && b !== 61) || b === 32 ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
  return enc.split('\n').map((line) => {
    const out = [];
    while (line.length > 75) {
      let cut = 75;
      if (line[cut - 1] === '=') cut -= 1; // never split "=XX"
      else if (line[cut - 2] === '=') cut -= 2;
      out.push(`${line.slice(0, cut)}=`);
      line = line.slice(cut);
    }
    out.push(line);
    return out.join('\r\n');
  }).join('\r\n');
}

const TEXT = `Hallo Jürgen,\n\nSie wurden zu latchkey eingeladen. Öffnen Sie diesen Link, um Ihr Passwort festzulegen:\n${INVITE}\n\n.Eine Zeile, die mit einem Punkt beginnt.\n`;
const HTML = `<p>Hallo Jürgen,</p>\n<p><a href="${INVITE}&amp;x=1">Einladung annehmen</a></p>\n`;

function testMessage({ textEncoding = 'quoted-printable', htmlEncoding = 'quoted-printable' } = {}) {
  const body = (s, enc) => (enc === 'base64' ? b64(s).replace(/.{1,76}/g, '$&\r\n').trimEnd() : qp(s));
  return [
    'From: =?UTF-8?Q?Latchkey_M=C3=BCller?= <noreply@example.com>',
    'To: Jane Doe <jane@example.com>',
    `Subject: =?UTF-8?B?${b64(SUBJECT)}?=`,
    'Date: Mon, 2 Mar 2026 10:00:00 +0000',
    'Message-ID: <20260302100000.1234@latchkey.localhost>',
    'X-Folded: first part,',
    '\tsecond part',
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative;',
    ' boundary="=_lk_boundary_1"',
    '',
    'This is a multi-part message in MIME format.',
    '',
    '--=_lk_boundary_1',
    'Content-Type: text/plain; charset=UTF-8',
    `Content-Transfer-Encoding: ${textEncoding}`,
    '',
    body(TEXT, textEncoding),
    '--=_lk_boundary_1',
    'Content-Type: text/html; charset="utf-8"',
    `Content-Transfer-Encoding: ${htmlEncoding}`,
    '',
    body(HTML, htmlEncoding),
    '--=_lk_boundary_1--',
    '',
  ].join('\r\n');
}

function assertTestMessage(m) {
  assert.equal(m.subject, SUBJECT);
  assert.equal(m.from, 'Latchkey Müller <noreply@example.com>');
  assert.equal(m.to, 'Jane Doe <jane@example.com>');
  assert.equal(m.date, 'Mon, 2 Mar 2026 10:00:00 +0000');
  assert.equal(m.messageId, '<20260302100000.1234@latchkey.localhost>');
  assert.equal(m.headers.get('x-FOLDED'), 'first part,\tsecond part');
  assert.equal(m.headers.get('content-type'), 'multipart/alternative; boundary="=_lk_boundary_1"');
  assert.ok(m.headers.lines.includes('\tsecond part'), 'the physical header lines keep the folding');
  assert.equal(m.text, TEXT);
  assert.equal(m.html, HTML);
  assert.equal(extractLink(m.text, 'invite'), INVITE);
  assert.equal(extractLink(m.html, 'invite'), `${INVITE}&x=1`);
  assert.equal(extractLink(m.text, 'reset'), null);
}

/* ---------------------------------------------------------------- tests */

describe('parseEml, extractLink, waitFor', () => {
  test('multipart/alternative, quoted-printable and base64, folded headers', () => {
    assertTestMessage(parseEml(testMessage()));
    assertTestMessage(parseEml(Buffer.from(testMessage({ textEncoding: 'base64', htmlEncoding: 'base64' }))));
    // LF line endings (a file written by hand) read the same
    assertTestMessage(parseEml(testMessage({ htmlEncoding: 'base64' }).replace(/\r\n/g, '\n')));
  });

  test('RFC 2047: B and Q words, adjacent words joined, other charsets, plain parts', () => {
    const m = parseEml(Buffer.concat([Buffer.from([
      'Subject: =?utf-8?q?Passwort_zur=C3=BCcksetzen?= =?UTF-8?B?IOKAkyBsYXRjaGtleQ==?= (ok)',
      'From: =?ISO-8859-1?Q?J=FCrgen?= <j@example.com>',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: 8bit',
      '',
      '',
    ].join('\r\n')), Buffer.from(`Grüße ${RESET}.\r\n`, 'latin1')]));
    assert.equal(m.subject, 'Passwort zurücksetzen – latchkey (ok)');
    assert.equal(m.from, 'Jürgen <j@example.com>');
    assert.equal(m.text, `Grüße ${RESET}.\n`, 'an 8bit ISO-8859-1 body');
    assert.equal(m.html, undefined);
    assert.equal(extractLink(m.text, 'reset'), RESET, 'a full stop after the URL is not part of it');
    assert.equal(extractLink(m.text, 'invite'), null);
    // a multi-byte character split over two encoded words
    const euro = Buffer.from('€');
    assert.equal(parseEml(`Subject: =?UTF-8?B?${euro.subarray(0, 1).toString('base64')}?=\r\n =?UTF-8?B?${euro.subarray(1).toString('base64')}?=\r\n\r\n`).subject, '€');
    assert.equal(parseEml('Subject: plain\r\n\r\nbody\r\n').text, 'body\n');
    assert.throws(() => extractLink('x', 'other'), /kind/);
  });

  test('waitFor returns the value, and names what it waited for on timeout', async () => {
    let n = 0;
    assert.equal(await waitFor(() => ++n >= 3 && 'done', 2000, 'three calls'), 'done');
    const t0 = Date.now();
    await assert.rejects(waitFor(() => { throw new Error('not yet'); }, 200, 'the impossible'),
      /timed out after 200 ms waiting for the impossible \(last error: Error: not yet/);
    assert.ok(Date.now() - t0 < 5000);
  });
});

describe('the SMTP sink', { concurrency: true }, () => {
  test('stores the exact bytes and the envelope; parseEml reads the message', async (t) => {
    const smtp = await startSmtp(t);
    assert.ok(smtp.port > 0);
    const message = testMessage();
    const ehlo = await sendMail(smtp.port, { to: ['jane@example.com', 'copy@example.com'], message });
    assert.ok(!ehlo.lines.includes('STARTTLS') && !ehlo.lines.some((l) => l.startsWith('AUTH')), ehlo.text);
    const [m] = await smtp.waitFor(1);
    assert.equal(m.file, '0001.eml');
    assert.ok(m.raw.equals(Buffer.from(message)), 'the stored bytes are the message as sent (dot-unstuffed, CRLF)');
    assert.deepEqual(m.envelope, {
      mailFrom: 'noreply@example.com', rcptTos: ['jane@example.com', 'copy@example.com'],
      peer: ['127.0.0.1', m.envelope.peer[1]], login: null, tls: false,
    });
    assertTestMessage(m);
    assert.deepEqual(readOutbox(smtp.dir).map((x) => x.file), ['0001.eml']);
    assert.deepEqual(fs.readdirSync(smtp.dir).sort(), ['0001.eml', '0001.json'], 'no temporary files left');
    assert.equal((await smtp.waitFor((x) => x.to.includes('jane@'))).file, '0001.eml');
    await assert.rejects(smtp.waitFor((x) => x.to.includes('nobody@'), 200), /timed out after 200 ms waiting for a message/);
  });

  test('--reject-rcpt answers 550 to matching recipients only', async (t) => {
    const smtp = await startSmtp(t, { rejectRcpt: 'bounce' });
    const c = await SmtpClient.connect(smtp.port);
    t.after(() => c.close());
    await c.ok('EHLO client.localhost', 250);
    await c.ok('MAIL FROM:<noreply@example.com>', 250);
    const r = await c.ok('RCPT TO:<bounce-me@example.com>', 550);
    assert.match(r.text, /^550 /);
    await c.ok('RCPT TO:<jane@example.com>', 250);
    await c.data(testMessage());
    await c.quit();
    const [m] = await smtp.waitFor(1);
    assert.deepEqual(m.envelope.rcptTos, ['jane@example.com']);
  });

  test('--auth: AUTH required; wrong credentials get 535; PLAIN and LOGIN work', async (t) => {
    const smtp = await startSmtp(t, { auth: 'mailer:s3cret:with colon' });
    assert.deepEqual(smtp.auth, { user: 'mailer', password: 's3cret:with colon' });
    const c = await SmtpClient.connect(smtp.port);
    t.after(() => c.close());
    const ehlo = await c.ok('EHLO client.localhost', 250);
    assert.ok(ehlo.lines.includes('AUTH LOGIN PLAIN'), `AUTH offered without TLS: ${ehlo.text}`);
    await c.ok('MAIL FROM:<noreply@example.com>', 530);
    await c.ok(`AUTH PLAIN ${plain('mailer', 'wrong')}`, 535);
    await c.ok(`AUTH PLAIN ${plain('other', 's3cret:with colon')}`, 535);
    await c.ok('AUTH LOGIN', 334);
    await c.ok(b64('mailer'), 334);
    await c.ok(b64('nope'), 535);
    await c.ok(`AUTH PLAIN ${plain('mailer', 's3cret:with colon')}`, 235);
    await c.ok('MAIL FROM:<noreply@example.com>', 250);
    await c.ok('RCPT TO:<jane@example.com>', 250);
    await c.data(testMessage());
    await c.quit();

    // AUTH LOGIN with the right password, on a new connection
    const d = await SmtpClient.connect(smtp.port);
    t.after(() => d.close());
    await d.ok('EHLO client.localhost', 250);
    await d.ok('AUTH LOGIN', 334);
    await d.ok(b64('mailer'), 334);
    await d.ok(b64('s3cret:with colon'), 235);
    await d.quit();

    const [m] = await smtp.waitFor(1);
    assert.equal(m.envelope.login, 'mailer');
  });

  test('STARTTLS: offered and required, verified with caFile, then AUTH', async (t) => {
    const smtp = await startSmtp(t, { starttls: true, auth: 'mailer:pw' });
    assert.ok(fs.existsSync(smtp.caFile));
    const c = await SmtpClient.connect(smtp.port);
    t.after(() => c.close());
    const before = await c.ok('EHLO client.localhost', 250);
    assert.ok(before.lines.includes('STARTTLS'), before.text);
    assert.ok(!before.lines.some((l) => l.startsWith('AUTH')), `no AUTH before TLS: ${before.text}`);
    await c.ok('MAIL FROM:<noreply@example.com>', 530);
    await c.ok(`AUTH PLAIN ${plain('mailer', 'pw')}`, 530);
    const secure = await c.starttls(smtp.caFile);
    assert.ok(secure.authorized);
    const after = await c.ok('EHLO client.localhost', 250);
    assert.ok(!after.lines.includes('STARTTLS') && after.lines.includes('AUTH LOGIN PLAIN'), after.text);
    await c.ok(`AUTH PLAIN ${plain('mailer', 'nope')}`, 535);
    await c.quit();

    await sendMail(smtp.port, { message: testMessage(), auth: smtp.auth, caFile: smtp.caFile });
    const [m] = await smtp.waitFor(1);
    assert.equal(m.envelope.tls, true);
    assert.equal(m.envelope.login, 'mailer');
    assertTestMessage(m);
  });

  test('stop() and restart() keep the port and the folder', async (t) => {
    const smtp = await startSmtp(t);
    const { port, dir } = smtp;
    await sendMail(port, { message: testMessage() });
    await smtp.waitFor(1);
    await smtp.stop();
    await smtp.stop(); // harmless twice
    await assert.rejects(SmtpClient.connect(port), /ECONNREFUSED|no complete SMTP reply/);
    await smtp.restart();
    assert.equal(smtp.port, port);
    assert.equal(smtp.dir, dir);
    await sendMail(port, { message: testMessage().replace('Mon, 2 Mar', 'Tue, 3 Mar') });
    const all = await smtp.waitFor(2);
    assert.deepEqual(all.map((m) => m.file), ['0001.eml', '0002.eml'], 'numbering continues after the restart');
    assert.match(all[1].date, /^Tue, 3 Mar/);
    assert.ok(fs.existsSync(path.join(dir, '0001.json')));
  });

  test('a fixed port; a port in use is a clear error', async (t) => {
    const first = await startSmtp(t);
    await assert.rejects(startSmtp(t, { port: first.port }), /exited \(1\) before READY[\s\S]*stderr: [\s\S]*address already in use/i);
  });

  // libcurl is what latchkey sends with: the curl tool (same library) against the sink
  const CURL = '/usr/bin/curl';
  test('curl (libcurl): STARTTLS with the CA file, AUTH, and the failures it reports', { skip: !fs.existsSync(CURL) && 'no /usr/bin/curl' }, async (t) => {
    const smtp = await startSmtp(t, { starttls: true, auth: 'mailer:pw', rejectRcpt: 'bounce' });
    const file = path.join(path.dirname(smtp.dir), 'message.eml');
    fs.writeFileSync(file, testMessage());
    const curl = (user, rcpts) => new Promise((resolve) => {
      execFile(CURL, ['-sS', '--max-time', '15', `smtp://localhost:${smtp.port}`, '--ssl-reqd', '--cacert', smtp.caFile,
        '--user', user, '--mail-from', 'noreply@example.com', ...rcpts.flatMap((r) => ['--mail-rcpt', r]),
        '--upload-file', file], { timeout: 20_000 }, (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stderr }));
    });
    const sent = await curl('mailer:pw', ['jane@example.com']);
    assert.equal(sent.code, 0, sent.stderr);
    const [m] = await smtp.waitFor(1);
    assert.ok(m.raw.equals(fs.readFileSync(file)));
    assert.deepEqual([m.envelope.tls, m.envelope.login], [true, 'mailer']);
    const denied = await curl('mailer:wrong', ['jane@example.com']);
    assert.equal(denied.code, 67, `CURLE_LOGIN_DENIED: ${denied.stderr}`);
    const bounced = await curl('mailer:pw', ['bounce@example.com']);
    assert.equal(bounced.code, 55, `CURLE_SEND_ERROR: ${bounced.stderr}`);
    assert.match(bounced.stderr, /RCPT failed: 550/);
    assert.equal(smtp.messages().length, 1);
  });
});
