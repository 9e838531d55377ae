// Helpers for end-to-end tests of the email latchkey sends (tests/e2e/mail.test.mjs and the
// suites that need an invitation link): a server on a fresh database with an administrator,
// delivering through the SMTP sink of mail-lib.mjs or into its outbox folder, the mail queue
// as `latchkey mail list --json` shows it, and the server's "latchkey: mail: ..." log lines.
// Every wait is bounded; nothing here asserts timings.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { extractLink, MAIL_WAIT_MS, parseEml, waitFor } from './mail-lib.mjs';
import { events, newDb } from './lib.mjs';
import { cli, consoleAdminCreate, consoleCall, consoleReadyAdmin, consoleSessionOf, logRecords, startServer } from './server-lib.mjs';

export const PW = 'correct horse battery 1';
export const BOSS = 'boss@example.com';
export const MAIL_FROM = 'Latchkey Test <noreply@lk.test>';
export const MAIL_FROM_ADDRESS = 'noreply@lk.test';

/*
 * The environment of a server that delivers to the sink (plain SMTP unless `security`),
 * with the sender MAIL_FROM and a retry base of 1 s.
 */
export function smtpEnv(smtp, { security = 'none', ...extra } = {}) {
  return {
    LATCHKEY_SMTP_HOST: '127.0.0.1',
    LATCHKEY_SMTP_PORT: String(smtp.port),
    LATCHKEY_SMTP_SECURITY: security,
    LATCHKEY_SMTP_TIMEOUT: '10',
    LATCHKEY_MAIL_FROM: MAIL_FROM,
    LATCHKEY_MAIL_RETRY_BASE: '1',
    ...extra,
  };
}

/*
 * A fresh database (or `db`) prepared by prepare(db) (CLI commands, run before the
 * server starts), with the administrator BOSS made by `latchkey admin create` unless
 * admin is false, then `latchkey serve` on it: through the sink when smtp is given
 * (smtpEnv(smtp) plus env), else with no smtp_host (the outbox next to the database).
 * With an administrator, signs in as BOSS and sets the password PW.
 * Returns {db, srv, boss (the session, or null), outbox, env, restart()}; restart()
 * stops the server and starts it again on the same database with the same environment.
 * With t, the server is stopped and the folder removed when t ends.
 */
export async function startMailServer(t, { smtp, env = {}, db, prepare, admin = true, args = [] } = {}) {
  const base = db ?? newDb();
  if (t && !db) t.after(() => base.remove());
  const made = admin ? consoleAdminCreate(base, BOSS, 'Bo', 'Ss') : null;
  if (prepare) await prepare(base);
  const fullEnv = smtp ? { ...smtpEnv(smtp), ...env } : { LATCHKEY_MAIL_FROM: MAIL_FROM, LATCHKEY_MAIL_RETRY_BASE: '1', ...env };
  const it = { db: base, env: fullEnv, outbox: path.join(base.dir, 'outbox'), boss: null };
  it.srv = await startServer(t, base, args, { env: fullEnv });
  if (made) it.boss = await consoleReadyAdmin(it.srv, base, BOSS, PW, { created: made, first: 'Bo', last: 'Ss' });
  it.restart = async (over = {}) => {
    await it.srv.stop();
    it.srv = await startServer(t, base, args, { env: { ...fullEnv, ...over } });
    return it.srv;
  };
  return it;
}

/* ---------------------------------------------------------------- the queue */

// `latchkey mail list --limit 0 --json` (optionally --status): the messages, newest first
export function mailList(db, status) {
  const extra = status ? ['--status', status] : [];
  return cli(db, 'mail', 'list', '--limit', '0', ...extra).messages;
}

// waits until pred(messages) is truthy; returns the messages then
export function waitQueue(db, pred, what, timeoutMs = MAIL_WAIT_MS) {
  return waitFor(() => { const ms = mailList(db); return pred(ms) && ms; }, timeoutMs, `the mail queue: ${what}`);
}

// waits until no message is queued any more (everything sent, failed or cancelled)
export function waitQueueSettled(db, what = 'nothing queued', timeoutMs = MAIL_WAIT_MS) {
  return waitQueue(db, (ms) => ms.every((m) => m.status !== 'queued'), what, timeoutMs);
}

// the messages of the queue to one address (and of one kind)
export const queued = (db, to, kind) => mailList(db).filter((m) => m.to === to && (!kind || m.kind === kind));

/* ---------------------------------------------------------------- the server log */

const LOG_MSG = /^mail: (\w+) #(\d+) to (\S+) (?:(sent through|written to) (.+)|not delivered \(attempt (\d+), will retry\): (.*)|failed for good after (\d+) attempt\(s\): (.*))$/s;

/*
 * The "mail: ..." log records of the server's stderr:
 * [{kind, id, to, outcome: 'sent'|'retry'|'failed', via ('smtp'|'outbox'), delivery,
 *   attempt, error, line}]
 */
export function mailLog(srv) {
  return logRecords(srv.stderr()).map((rec) => [LOG_MSG.exec(rec.msg), rec]).filter(([m]) => m).map(([m, rec]) => {
    const e = { kind: m[1], id: Number(m[2]), to: m[3], line: rec.line };
    if (m[4]) Object.assign(e, { outcome: 'sent', via: m[4] === 'sent through' ? 'smtp' : 'outbox', delivery: m[5] });
    else if (m[6]) Object.assign(e, { outcome: 'retry', attempt: Number(m[6]), error: m[7] });
    else Object.assign(e, { outcome: 'failed', attempt: Number(m[8]), error: m[9] });
    return e;
  });
}

export function waitMailLog(srv, pred, what, timeoutMs = MAIL_WAIT_MS) {
  return waitFor(() => mailLog(srv).find(pred), timeoutMs, `a mail log line: ${what}\nstderr so far:\n${srv.stderr().slice(-3000)}`);
}

/*
 * The .eml a server in outbox mode wrote for a message (kind) to `to`: waits for the log
 * line "written to FILE" (the n-th such line when n > 1), and returns
 * {file, log, ...parseEml(bytes)}.
 */
export async function outboxMail(srv, to, kind = 'invitation', n = 1) {
  const log = await waitFor(() => {
    const ls = mailLog(srv).filter((e) => e.to === to && e.kind === kind && e.outcome === 'sent' && e.via === 'outbox');
    return ls.length >= n && ls[n - 1];
  }, MAIL_WAIT_MS, `the log line of ${kind} #${n} to ${to} written to the outbox\nstderr:\n${srv.stderr().slice(-3000)}`);
  const raw = fs.readFileSync(log.delivery);
  return { file: log.delivery, log, raw, ...parseEml(raw) };
}

/* ---------------------------------------------------------------- the SMTP sink */

// the messages the sink stored for an address (RCPT TO), optionally matching pred
export const sinkTo = (smtp, addr, pred = () => true) =>
  smtp.messages().filter((m) => m.envelope.rcptTos.includes(addr) && pred(m));

// waits for the n-th message (1-based) to addr that matches pred, and returns it
export function waitSinkTo(smtp, addr, { n = 1, pred = () => true, timeoutMs = MAIL_WAIT_MS } = {}) {
  return waitFor(() => { const ms = sinkTo(smtp, addr, pred); return ms.length >= n && ms[n - 1]; }, timeoutMs,
    `message #${n} to ${addr} at the SMTP sink (port ${smtp.port})${pred.length ? ` matching ${String(pred).slice(0, 160)}` : ''}`);
}

/* ---------------------------------------------------------------- links */

// the token of a link ("…/invite#TOKEN")
export const tokenOf = (link) => link.slice(link.indexOf('#') + 1);

// the link of a message (kind 'invite' or 'reset'), asserting the text and HTML parts agree
export function linkOf(mail, kind = 'invite') {
  const link = extractLink(mail.text, kind);
  assert.ok(link, `a /${kind}# link in the text part:\n${mail.text}`);
  assert.equal(extractLink(mail.html, kind), link, 'the HTML part carries the same link');
  return link;
}

// POST /admin/api/invitation {token, password}: the raw answer
export const acceptInvitation = (srv, token, password = PW) => consoleCall(srv, '/invitation', { body: { token, password } });

// POST /admin/api/password/reset {token, password}: the raw answer
export const completeReset = (srv, token, password) => consoleCall(srv, '/password/reset', { body: { token, password } });

// accepts an invitation and asserts the sign-in; returns the session
export async function acceptAndSignIn(srv, token, password = PW, what = 'accept the invitation') {
  return consoleSessionOf(srv, await acceptInvitation(srv, token, password), what);
}

// the audit events (oldest first) matching area/action (and target)
export function auditOf(db, area, action, target) {
  return events(db).reverse().filter((e) => e.area === area && e.action === action && (target === undefined || e.target === target));
}
