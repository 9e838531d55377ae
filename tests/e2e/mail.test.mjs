// latchkey serve: the email it sends (issue "email for people who are not API-only").
// Invitations from the console JSON API, the CLI and the user management API; nothing for
// API-only users; password resets (by an administrator, and "forgot password"); expiry and
// administrator notices; German; the outbox folder; the durable queue through an SMTP
// outage, a server restart and a permanent refusal; STARTTLS with AUTH; and that no link
// token leaks anywhere but into the email itself.
//
// Each group starts the real binary on a fresh database with its own SMTP sink
// (tests/e2e/smtp_sink.py, aiosmtpd) on free loopback ports, or with no smtp_host (the
// outbox). Every wait is bounded (mail-lib.mjs MAIL_WAIT_MS); nothing asserts timings.
// "Exactly one" is checked once the queue has settled (`mail list` shows nothing queued),
// since a message is queued in the same transaction as the change that causes it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MAIL_WAIT_MS, extractLink, parseEml, startSmtp, waitFor } from './mail-lib.mjs';
import {
  BOSS, MAIL_FROM_ADDRESS, PW, acceptAndSignIn, acceptInvitation, auditOf, completeReset, linkOf, mailList, mailLog,
  queued, sinkTo, smtpEnv, startMailServer, tokenOf, waitMailLog, waitQueue, waitQueueSettled, waitSinkTo,
} from './mail-server-lib.mjs';
import { assertNotInDb, isoOf, lk, newDb, nowSec, secOf, sql } from './lib.mjs';
import {
  UM_PERMS, addService, assertConsoleError, assertConsoleOk, cli, consoleCall, consoleLogin, consoleSessionOf, startServer,
  token, um,
} from './server-lib.mjs';

const NEW_PW = 'a brand new passphrase 7';
const NEW_PW2 = 'yet another passphrase 8';

const SUBJECT = {
  invitation: /^Welcome to latchkey$/,
  reset: /^Reset your latchkey password$/,
  adminAdded: /is now a latchkey administrator$/,
  adminRemoved: /is no longer a latchkey administrator$/,
  expiryUser: /^Your latchkey access ends /,
  expiryAdmin: /^latchkey access of .+ ends /,
};
const isInvitation = (m) => SUBJECT.invitation.test(m.subject);
const isReset = (m) => SUBJECT.reset.test(m.subject);

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December'];
// an instant as the English mail shows it: "1 December 2026 at 03:23 UTC"
function humanUtc(sec) {
  const d = new Date(sec * 1000);
  const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} at ${hm} UTC`;
}

// the shape rules of every message: CRLF only, ASCII only (RFC 2047 and quoted-printable
// carry the rest), no line over 78 characters (RFC 5322's SHOULD, which the server keeps)
function assertWellFormed(mail, what) {
  const raw = mail.raw;
  assert.ok(!raw.some((b) => b > 0x7f), `${what}: only ASCII on the wire`);
  const s = raw.toString('latin1');
  assert.ok(!/[^\r]\n/.test(s) && !/\r(?!\n)/.test(s), `${what}: CRLF line endings only`);
  const long = s.split('\r\n').filter((l) => l.length > 78);
  assert.deepEqual(long, [], `${what}: lines over 78 characters`);
}

// a console invitation body for a person (not API-only)
const personBody = (email, roleId, extra = {}) => ({
  email, firstName: 'Pat', lastName: 'Person', apiOnly: false, grants: [{ roleId, workspaceId: 0 }], lang: 'en', ...extra,
});

// asserts a refused link: 401 unauthorized on the token (docs/console-api.md)
function assertLinkRefused(r, what) {
  assertConsoleError(r, 401, 'unauthorized', 'token', what);
  assert.equal(r.headers.get('set-cookie'), null, `${what}: no session cookie`);
}

// the after() of a group with a sink and a server started without a test context
async function cleanup(it, smtp) {
  try {
    await it?.srv.stop();
  } finally {
    await smtp?.stop();
    it?.db.remove();
    if (smtp) fs.rmSync(path.dirname(smtp.dir), { recursive: true, force: true });
  }
}

/* ---------------------------------------------------------------- invitations and resets over SMTP */

describe('mail over SMTP: invitations, API-only users, German, resend, resets, forgot password, admin notices', { concurrency: 1 }, () => {
  let smtp;
  let it; // startMailServer's {db, srv, boss}
  let roles; // name → id
  let umToken;
  const links = []; // every link the sink received, for the secrecy test

  before(async () => {
    smtp = await startSmtp(null);
    let umService;
    it = await startMailServer(null, {
      smtp,
      prepare(db) {
        cli(db, 'role', 'create', '--name', 'Console', '--permission', 'Access Users');
        cli(db, 'role', 'create', '--name', 'API Only', '--permission', 'Read-Only Lead');
        // the integration holds what it hands out: the API Only role's permission too
        cli(db, 'role', 'create', '--name', 'User Admin', ...[...UM_PERMS, 'Read-Only Lead'].flatMap((p) => ['--permission', p]));
        cli(db, 'user', 'invite', '--email', 'um-api@example.com', '--first', 'Um', '--last', 'Api', '--role', 'User Admin', '--api-only');
        umService = addService(db, 'UM sync', 'um-api@example.com');
      },
    });
    roles = Object.fromEntries(cli(it.db, 'role', 'list').roles.map((r) => [r.name, r.id]));
    umToken = await token(it.srv, umService);
  });
  after(() => cleanup(it, smtp));

  // every link of the messages at the sink so far
  const collectLinks = () => {
    for (const m of smtp.messages()) {
      for (const kind of ['invite', 'reset']) {
        const l = (m.text || '').match(new RegExp(`https?://\\S+/${kind}#[A-Za-z0-9_-]+`));
        if (l && !links.includes(l[0])) links.push(l[0]);
      }
    }
  };

  test('a console invitation: one email with the right headers, the message and the link; the link signs in once', async () => {
    const { srv, boss, db } = it;
    const email = 'grace@example.com';
    const r = await boss.call('/users', { body: personBody(email, roles.Console, { firstName: 'Grâce', lastName: 'Hopper',
      message: 'Welcome aboard, Grâce!\nSee you on Monday. <b>Bring</b> snacks & "cheer".' }) });
    const j = assertConsoleOk(r, 'invite grace');
    assert.deepEqual(Object.keys(j).sort(), ['invitation', 'user']);
    assert.deepEqual(Object.keys(j.invitation).sort(), ['email', 'expiresAt']);
    assert.equal(j.invitation.email, email);
    assert.ok(!r.text.includes('#'), `no link in the answer: ${r.text}`);
    assert.equal(j.user.status, 'pending');

    const mail = await waitSinkTo(smtp, email);
    // the envelope
    assert.equal(mail.envelope.mailFrom, MAIL_FROM_ADDRESS);
    assert.deepEqual(mail.envelope.rcptTos, [email]);
    assert.equal(mail.envelope.tls, false);
    // the header
    const h = mail.headers;
    assert.match(mail.date, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4}$/, `Date: ${mail.date}`);
    assert.ok(Math.abs(Date.parse(mail.date) / 1000 - secOf(j.user.createdAt)) <= 5, `Date ${mail.date} is when the message was queued (${j.user.createdAt})`);
    assert.match(mail.messageId, /^<[0-9a-f]{32}@lk\.test>$/, `Message-ID: ${mail.messageId}`);
    assert.match(mail.from, /^"?Latchkey Test"? <noreply@lk\.test>$/, `From: ${mail.from}`);
    assert.match(mail.to, /^"?Grâce Hopper"? <grace@example\.com>$/, `To (decoded): ${mail.to}`);
    assert.match(h.get('to'), /=\?UTF-8\?[BQ]\?/i, `the non-ASCII name is RFC 2047 encoded: ${h.get('to')}`);
    assert.match(mail.subject, SUBJECT.invitation);
    assert.equal(h.get('mime-version'), '1.0');
    assert.match(h.get('content-type'), /^multipart\/alternative;\s*boundary=/i);
    for (const name of ['date', 'message-id', 'from', 'to', 'subject', 'mime-version'])
      assert.equal(h.getAll(name).length, 1, `one ${name} header`);
    assert.deepEqual(mail.parts.map((p) => p.contentType), ['text/plain', 'text/html']);
    for (const p of mail.parts) assert.equal(p.charset.toUpperCase(), 'UTF-8', `${p.contentType} charset`);
    assertWellFormed(mail, 'the invitation');
    // the body: greeting, who invited, the admin's message (both lines), the link
    assert.ok(mail.text.includes('Hello Grâce Hopper,'), mail.text);
    assert.ok(mail.text.includes('Bo Ss (boss@example.com) has invited you'), mail.text);
    assert.ok(mail.text.includes('Welcome aboard, Grâce!') && mail.text.includes('See you on Monday.'), mail.text);
    assert.ok(mail.html.includes('Welcome aboard, Grâce!'), 'the message in the HTML part');
    // the administrator's text is text: escaped in the HTML part, as typed in the plain one
    assert.ok(mail.text.includes('<b>Bring</b> snacks & "cheer".'), mail.text);
    assert.ok(mail.html.includes('&lt;b&gt;Bring&lt;/b&gt; snacks &amp;'), `escaped in HTML:\n${mail.html}`);
    assert.ok(!mail.html.includes('<b>Bring</b>'), 'no markup from the message in the HTML part');
    assert.match(mail.html, /^<!DOCTYPE html>/);
    const link = linkOf(mail);
    assert.ok(link.startsWith(`${srv.url}/invite#`), link);
    assert.match(tokenOf(link), /^[A-Za-z0-9_-]{43}$/);
    assert.ok(mail.text.includes(humanUtc(secOf(j.invitation.expiresAt))), `the link's expiry is stated: ${mail.text}`);

    // the queue and the log
    await waitQueueSettled(db);
    const [m] = queued(db, email);
    assert.deepEqual([m.kind, m.status, m.attempts, m.lastError, m.delivery, m.lang],
      ['invitation', 'sent', 1, '', `smtp 127.0.0.1:${smtp.port}`, 'en']);
    await waitMailLog(srv, (e) => e.to === email && e.outcome === 'sent' && e.via === 'smtp' && e.delivery === `smtp 127.0.0.1:${smtp.port}`, 'sent to grace');

    // accept: signed in, active; the same link again is refused
    const s = await acceptAndSignIn(srv, tokenOf(link), PW);
    assert.equal(s.user.email, email);
    assert.equal(s.user.status, 'active');
    assert.equal(s.mustChangePassword, false);
    assert.equal(cli(db, 'user', 'show', email).user.status, 'active');
    assertConsoleOk(await s.call('/session'), 'the new session works');
    assertLinkRefused(await acceptInvitation(srv, tokenOf(link), 'some other password 5'), 'the used link again');
    assertLinkRefused(await acceptInvitation(srv, 'A'.repeat(43), PW), 'a made-up token');
    assert.equal((await consoleLogin(srv, email, PW)).user.email, email, 'the chosen password signs in');

    // exactly one message
    assert.equal(sinkTo(smtp, email).length, 1, 'exactly one email to grace');
    // the audit trail
    const [create] = auditOf(db, 'User', 'Create', email);
    assert.equal(create.actor, `user:${BOSS}`);
    const [send] = auditOf(db, 'Email', 'Send', email);
    assert.equal(send.actor, 'system');
    assert.deepEqual({ kind: send.details.kind, to: send.details.to, attempts: send.details.attempts, delivery: send.details.delivery },
      { kind: 'invitation', to: email, attempts: 1, delivery: `smtp 127.0.0.1:${smtp.port}` });
    const [accepted] = auditOf(db, 'User', 'Accept Invitation', email);
    assert.equal(accepted.actor, `user:${email}`);
    assert.ok(create.id < send.id && send.id < accepted.id, 'in this order');
    // the login history: the first sign-in (the acceptance's), then the one with the password
    const logins = assertConsoleOk(await boss.call(`/logins?email=${encodeURIComponent(email)}`)).logins;
    assert.deepEqual(logins.map((l) => [l.email, l.success, l.address]), [[email, true, '127.0.0.1'], [email, true, '127.0.0.1']],
      JSON.stringify(logins));
    assert.ok(secOf(logins[1].at) >= secOf(accepted.at) - 1, 'the first sign-in is the acceptance');
    // no header injection through a name: control characters are refused, nothing is queued
    const before = mailList(db).length;
    assertConsoleError(await boss.call('/users', { body: personBody('eve@example.com', roles.Console, { firstName: 'Eve\r\nBcc: evil@example.com' }) }),
      400, 'invalid', 'firstName', 'a CRLF in the first name');
    assert.equal(mailList(db).length, before);
    collectLinks();
  });

  test('API-only users get no email: console, CLI and user management API invitations', async () => {
    const { boss, db, srv } = it;
    const before = mailList(db).length;
    const a = assertConsoleOk(await boss.call('/users', { body: { email: 'bot1@example.com', firstName: 'Bot', lastName: 'One',
      apiOnly: true, grants: [{ roleId: roles['API Only'], workspaceId: 0 }] } }));
    assert.equal(a.invitation, null);
    assert.equal(a.user.status, 'active');
    const b = cli(db, 'user', 'invite', '--email', 'bot2@example.com', '--first', 'Bot', '--last', 'Two', '--role', 'API Only', '--api-only');
    assert.equal(b.invitation, null);
    const c = await um(srv, '/invite.json', umToken, { body: { emailAddress: 'bot3@example.com', firstName: 'Bot', lastName: 'Three',
      apiOnly: true, userRoleWorkspaces: [{ accessRoleId: roles['API Only'], workspaceId: 0 }] } });
    assert.equal(c.status, 200, c.text);
    // no message queued for them (queued in the same transaction as the user, so this is final)
    const bots = ['bot1@example.com', 'bot2@example.com', 'bot3@example.com'];
    assert.deepEqual(mailList(db).filter((m) => bots.includes(m.to)), []);
    assert.equal(mailList(db).length, before, 'nothing queued at all');
    await waitQueueSettled(db);
    for (const bot of bots) assert.deepEqual(sinkTo(smtp, bot), [], `nothing at the sink for ${bot}`);
    assert.equal(sql(db, "SELECT count(*) AS n FROM invitations i JOIN users u ON u.id = i.user_id WHERE u.email LIKE 'bot%'")[0].n, 0);
  });

  test('the user management API: a person invited by an integration gets the invitation email', async () => {
    const { db, srv } = it;
    const email = 'from-api@example.com';
    const r = await um(srv, '/invite.json', umToken, { body: { emailAddress: email, firstName: 'Via', lastName: 'Api, Jr.',
      userRoleWorkspaces: [{ accessRoleId: roles.Console, workspaceId: 0 }] } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, 'true');
    const mail = await waitSinkTo(smtp, email);
    assert.match(mail.subject, SUBJECT.invitation);
    // a comma in the name is quoted, so the header still names one mailbox
    assert.equal(mail.headers.get('to'), '"Via Api, Jr." <from-api@example.com>');
    assert.ok(mail.text.includes('um-api@example.com has invited you'), `the integration's API user is named:\n${mail.text}`);
    assert.ok(linkOf(mail).startsWith(`${srv.url}/invite#`));
    await waitQueueSettled(db);
    assert.equal(sinkTo(smtp, email).length, 1);
    collectLinks();
  });

  test('German: `user invite --lang de` → a German invitation; a reset later is German too, its subject RFC 2047 encoded', async () => {
    const { db, srv } = it;
    const email = 'juergen@example.com';
    const j = cli(db, 'user', 'invite', '--email', email, '--first', 'Jürgen', '--last', 'Müller', '--role', 'Console', '--lang', 'de',
      '--message', 'Herzlich willkommen im Team!');
    assert.deepEqual(Object.keys(j.invitation).sort(), ['email', 'expiresAt']);
    assert.equal(queued(db, email)[0].lang, 'de');
    const fr = lk(db, 'user', 'invite', '--email', 'fr@example.com', '--first', 'F', '--last', 'R', '--role', 'Console', '--lang', 'fr');
    assert.notEqual(fr.status, 0, 'an unknown language is refused');
    assert.match(fr.stderr, /--lang must be en or de/);
    assert.equal(lk(db, 'user', 'show', 'fr@example.com').status, 2, 'and nothing is created');
    const mail = await waitSinkTo(smtp, email); // a CLI change: the mailer sees it within about a second
    assert.equal(mail.subject, 'Willkommen bei latchkey');
    assert.ok(mail.text.includes('Hallo Jürgen Müller,'), mail.text);
    assert.ok(mail.text.includes('Legen Sie über diesen Link Ihr Passwort fest'), mail.text);
    assert.ok(mail.text.includes('Herzlich willkommen im Team!'), mail.text);
    assert.ok(mail.text.includes('Der Link kann nur einmal verwendet werden'), mail.text);
    assert.ok(!/\b(Hello|Welcome|password)\b/.test(mail.text), `no English in the German text:\n${mail.text}`);
    assert.match(mail.html, /<html lang="de">/);
    assertWellFormed(mail, 'the German invitation');
    const s = await acceptAndSignIn(srv, tokenOf(linkOf(mail)), PW);
    assert.equal(s.user.status, 'active');

    // the person's language stays theirs: an administrator's reset (from the CLI) is German
    cli(db, 'user', 'reset-password', email);
    const reset = await waitSinkTo(smtp, email, { pred: (m) => m.subject !== 'Willkommen bei latchkey' });
    assert.equal(reset.subject, 'Passwort für latchkey zurücksetzen');
    assert.match(reset.headers.get('subject'), /^=\?UTF-8\?[BQ]\?[^?]+\?=/i, `encoded subject: ${reset.headers.get('subject')}`);
    assert.ok(!reset.headers.get('subject').includes('für'), 'not raw UTF-8');
    assert.ok(reset.text.includes('Hallo Jürgen Müller,'), reset.text);
    assertWellFormed(reset, 'the German reset');
    assert.ok(linkOf(reset, 'reset').startsWith(`${srv.url}/reset#`));
    // the console's invitation passes the page's language
    const viaConsole = 'konsole@example.com';
    assertConsoleOk(await it.boss.call('/users', { body: personBody(viaConsole, roles.Console, { lang: 'de' }) }));
    const de = await waitSinkTo(smtp, viaConsole);
    assert.equal(de.subject, 'Willkommen bei latchkey');
    assert.ok(de.text.includes('Bo Ss (boss@example.com) hat Sie zu latchkey eingeladen.'), de.text);
    await waitQueueSettled(db);
    collectLinks();
  });

  test('resend: a second email whose link works while the first is refused; resend for an active user fails', async () => {
    const { db, srv } = it;
    const email = 'rita@example.com';
    cli(db, 'user', 'invite', '--email', email, '--first', 'Rita', '--last', 'Resend', '--role', 'Console', '--message', 'First note');
    const first = await waitSinkTo(smtp, email);
    const r = lk(db, 'user', 'resend-invite', email, '--message', 'Second note');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /queued/i);
    assert.ok(!r.stdout.includes('#'), `no link printed: ${r.stdout}`);
    const second = await waitSinkTo(smtp, email, { n: 2 });
    assert.notEqual(second.messageId, first.messageId, 'a new message');
    assert.ok(second.text.includes('Second note') && !second.text.includes('First note'), second.text);
    const [l1, l2] = [linkOf(first), linkOf(second)];
    assert.notEqual(l1, l2);
    assertLinkRefused(await acceptInvitation(srv, tokenOf(l1), PW), 'the first link after a resend');
    const s = await acceptAndSignIn(srv, tokenOf(l2), PW, 'the second link');
    assert.equal(s.user.status, 'active');
    assert.equal(auditOf(db, 'User', 'Resend Invitation', email).length, 1);
    // now active: resend is refused, clearly, and queues nothing
    const before = mailList(db).length;
    const again = lk(db, 'user', 'resend-invite', email, '--json');
    assert.notEqual(again.status, 0, `resend for an active user must fail: ${again.stdout}`);
    assert.equal(again.json.error.code, 'rule', again.stdout);
    assert.match(again.stderr, /already accepted the invitation/, again.stderr);
    assert.equal(mailList(db).length, before, 'nothing queued');
    // and an API-only user has nothing to resend
    const bot = lk(db, 'user', 'resend-invite', 'bot2@example.com');
    assert.notEqual(bot.status, 0);
    assert.match(bot.stderr, /API-only/);
    await waitQueueSettled(db);
    assert.equal(sinkTo(smtp, email).length, 2, 'exactly two emails to rita');
    collectLinks();
  });

  test('console resend (POST /users/{id}/invitation), then delete (DELETE …/invitation): every emailed link dies', async () => {
    const { boss, db, srv } = it;
    const email = 'dora@example.com';
    const j = assertConsoleOk(await boss.call('/users', { body: personBody(email, roles.Console) }));
    const first = await waitSinkTo(smtp, email);
    const r = await boss.call(`/users/${j.user.id}/invitation`, { body: { message: 'Here it is again' } });
    const re = assertConsoleOk(r, 'console resend');
    assert.deepEqual(Object.keys(re).sort(), ['invitation', 'user']);
    assert.equal(re.invitation.email, email);
    assert.ok(!r.text.includes('#'), `no link in the answer: ${r.text}`);
    const second = await waitSinkTo(smtp, email, { n: 2 });
    assert.ok(second.text.includes('Here it is again'), second.text);
    assertLinkRefused(await acceptInvitation(srv, tokenOf(linkOf(first)), PW), 'the first link after the console resend');
    assert.deepEqual(assertConsoleOk(await boss.call(`/users/${j.user.id}/invitation`, { method: 'DELETE' })), { ok: true });
    assert.equal(lk(db, 'user', 'show', email).status, 2, 'the pending user is gone');
    assertLinkRefused(await acceptInvitation(srv, tokenOf(linkOf(second)), PW), 'the link of a deleted invitation');
    assertConsoleError(await boss.call(`/users/${j.user.id}/invitation`, { method: 'DELETE' }), 404, 'not_found', undefined, 'delete again');
    // an active user has no pending invitation to delete or resend
    const graceId = cli(db, 'user', 'show', 'grace@example.com').user.id;
    assertConsoleError(await boss.call(`/users/${graceId}/invitation`, { body: {} }), 409, 'rule', undefined, 'console resend for an active user');
    assertConsoleError(await boss.call(`/users/${graceId}/invitation`, { method: 'DELETE' }), 409, 'rule', undefined, 'delete the invitation of an active user');
    assert.equal(cli(db, 'user', 'show', 'grace@example.com').user.status, 'active');
    collectLinks();
  });

  test('password reset by an administrator (CLI and console): the emailed /reset# link sets a new password once', async () => {
    const { boss, db, srv } = it;
    const email = 'grace@example.com'; // active since the first test, password PW
    const earlier = await consoleLogin(srv, email, PW); // a session from before the reset
    const r = lk(db, 'user', 'reset-password', email, '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.json, { reset: { email } });
    const mail = await waitSinkTo(smtp, email, { pred: isReset });
    assert.match(mail.subject, SUBJECT.reset);
    assertWellFormed(mail, 'the reset');
    const link = linkOf(mail, 'reset');
    assert.ok(link.startsWith(`${srv.url}/reset#`), link);
    assert.equal(extractLink(mail.text, 'invite'), null, 'no invitation link in a reset');
    // set the new password: signed in
    const s = consoleSessionOf(srv, await completeReset(srv, tokenOf(link), NEW_PW), 'complete the reset');
    assert.equal(s.user.email, email);
    assert.equal(s.mustChangePassword, false);
    assertConsoleError(await consoleCall(srv, '/login', { body: { email, password: PW } }), 401, 'unauthorized', undefined, 'the old password');
    assertConsoleError(await earlier.call('/session'), 401, 'unauthorized', undefined, 'a session from before the reset ended');
    await consoleLogin(srv, email, NEW_PW);
    assertLinkRefused(await completeReset(srv, tokenOf(link), NEW_PW2), 'the used reset link again');
    assert.equal(auditOf(db, 'User', 'Reset Password', email).length, 1);
    assert.equal(auditOf(db, 'User', 'Set Password', email).at(-1).actor, `user:${email}`);

    // from the console
    const id = cli(db, 'user', 'show', email).user.id;
    const c = assertConsoleOk(await boss.call(`/users/${id}/password-reset`, { method: 'POST' }));
    assert.deepEqual(c.reset, { email });
    const mail2 = await waitSinkTo(smtp, email, { pred: isReset, n: 2 });
    assert.match(mail2.subject, SUBJECT.reset);
    const link2 = linkOf(mail2, 'reset');
    assert.notEqual(link2, link);
    consoleSessionOf(srv, await completeReset(srv, tokenOf(link2), NEW_PW2), 'complete the console reset');
    assertConsoleError(await consoleCall(srv, '/login', { body: { email, password: NEW_PW } }), 401, 'unauthorized', undefined, 'the previous password');
    await consoleLogin(srv, email, NEW_PW2);

    // refused for API-only and pending users, and nothing is queued for them
    const pending = 'pending@example.com';
    assertConsoleOk(await boss.call('/users', { body: personBody(pending, roles.Console) }));
    await waitSinkTo(smtp, pending);
    const before = mailList(db).length;
    const api = lk(db, 'user', 'reset-password', 'bot1@example.com');
    assert.notEqual(api.status, 0);
    assert.match(api.stderr, /API-only/);
    const pend = lk(db, 'user', 'reset-password', pending);
    assert.notEqual(pend.status, 0);
    assert.match(pend.stderr, /not accepted the invitation/);
    const botId = cli(db, 'user', 'show', 'bot1@example.com').user.id;
    const pendId = cli(db, 'user', 'show', pending).user.id;
    assertConsoleError(await boss.call(`/users/${botId}/password-reset`, { method: 'POST' }), 409, 'rule', undefined, 'console reset of an API-only user');
    assertConsoleError(await boss.call(`/users/${pendId}/password-reset`, { method: 'POST' }), 409, 'rule', undefined, 'console reset of a pending user');
    assert.equal(mailList(db).length, before, 'nothing queued for the refused resets');
    await waitQueueSettled(db);
    assert.equal(sinkTo(smtp, email, isReset).length, 2, 'exactly two resets to grace');
    collectLinks();
  });

  test('forgot password: the same 200 for unknown, API-only, pending and active addresses; only the active person gets one email', async () => {
    const { db, srv } = it;
    const active = 'grace@example.com';
    const resetsBefore = sinkTo(smtp, active, isReset).length;
    const asks = ['nobody@example.com', 'bot1@example.com', 'pending@example.com', active, 'GRACE@example.com'];
    const answers = [];
    for (const email of asks) {
      const r = await consoleCall(srv, '/password/forgot', { body: { email, lang: 'en' } });
      assert.equal(r.status, 200, `${email}: ${r.text}`);
      answers.push(r.text);
    }
    assert.deepEqual(JSON.parse(answers[0]), { ok: true });
    assert.deepEqual(new Set(answers).size, 1, `identical bodies: ${JSON.stringify(answers)}`);
    const mail = await waitSinkTo(smtp, active, { pred: isReset, n: resetsBefore + 1 });
    assert.ok(mail.text.includes('We received a request to reset the password'), mail.text);
    await waitQueueSettled(db);
    // nothing else: one new reset to grace (the second request within 60 s sent none), none to the others
    assert.equal(sinkTo(smtp, active, isReset).length, resetsBefore + 1, 'one email for two requests within 60 s');
    for (const email of ['nobody@example.com', 'bot1@example.com']) assert.deepEqual(sinkTo(smtp, email), [], email);
    assert.equal(sinkTo(smtp, 'pending@example.com').length, 1, 'the pending person has only the invitation');
    // every request was queued alike (the answer costs the same whoever asks); the mailer
    // cancelled those of nobody, of the API-only and the pending user, and grace's second
    for (const email of ['nobody@example.com', 'bot1@example.com', 'pending@example.com']) {
      const rows = queued(db, email, 'password_reset');
      assert.deepEqual(rows.map((m) => [m.status, m.lastError]), [['cancelled', 'no active person has this address']], email);
    }
    const forGrace = () => mailList(db).filter((m) => m.kind === 'password_reset' && m.to.toLowerCase() === active);
    assert.deepEqual(forGrace().slice(0, 2).map((m) => m.status).sort(), ['cancelled', 'sent'],
      'the newest two requests for grace: one sent, one within the minute');
    const forgot = auditOf(db, 'User', 'Forgot Password');
    assert.deepEqual(forgot.map((e) => [e.target, e.actor]), [[active, 'anonymous']]); // anyone may fill in the form
    // a third request, still within the minute: the same answer, and no email
    const again = await consoleCall(srv, '/password/forgot', { body: { email: active, lang: 'en' } });
    assert.equal(again.text, answers[0]);
    await waitQueueSettled(db);
    assert.equal(forGrace()[0].status, 'cancelled');
    assert.equal(sinkTo(smtp, active, isReset).length, resetsBefore + 1);
    // the link works
    const s = consoleSessionOf(srv, await completeReset(srv, tokenOf(linkOf(mail, 'reset')), PW), 'the forgot-password link');
    assert.equal(s.user.email, active);
    collectLinks();
  });

  test('admin notices: a new Admin (CLI, console invitation) is announced to the other active Admins; a deleted Admin too', async () => {
    const { boss, db } = it;
    const second = 'second@example.com';
    const third = 'third@example.com';
    cli(db, 'admin', 'create', '--email', second, '--first', 'Sec', '--last', 'Ond');
    const added2 = await waitSinkTo(smtp, BOSS, { pred: (m) => SUBJECT.adminAdded.test(m.subject) && m.subject.includes(second) });
    assert.equal(added2.subject, `Sec Ond (${second}) is now a latchkey administrator`);
    // inviting a third person as Admin: both active Admins hear of it; the invitee gets the invitation only
    const j = assertConsoleOk(await boss.call('/users', { body: personBody(third, 1, { firstName: 'Thi', lastName: 'Rd' }) }));
    const toBoss = await waitSinkTo(smtp, BOSS, { pred: (m) => SUBJECT.adminAdded.test(m.subject) && m.subject.includes(third) });
    const toSecond = await waitSinkTo(smtp, second, { pred: (m) => SUBJECT.adminAdded.test(m.subject) && m.subject.includes(third) });
    for (const m of [toBoss, toSecond]) {
      assert.equal(m.subject, `Thi Rd (${third}) is now a latchkey administrator`);
      assert.ok(m.text.includes('by Bo Ss (boss@example.com)'), m.text);
    }
    assert.match(toSecond.to, /^"?Sec Ond"? <second@example\.com>$/);
    await waitSinkTo(smtp, third, { pred: isInvitation });
    // deleting an Admin (second): the remaining active Admin hears of it; the pending one does not
    const secondId = cli(db, 'user', 'show', second).user.id;
    assert.deepEqual(assertConsoleOk(await boss.call(`/users/${secondId}`, { method: 'DELETE' })), { ok: true });
    const removed = await waitSinkTo(smtp, BOSS, { pred: (m) => SUBJECT.adminRemoved.test(m.subject) });
    assert.equal(removed.subject, `Sec Ond (${second}) is no longer a latchkey administrator`);
    await waitQueueSettled(db);
    const notices = (addr) => sinkTo(smtp, addr, (m) => SUBJECT.adminAdded.test(m.subject) || SUBJECT.adminRemoved.test(m.subject))
      .map((m) => m.subject);
    assert.deepEqual(notices(BOSS), [added2.subject, toBoss.subject, removed.subject]);
    assert.deepEqual(notices(second), [toSecond.subject], 'the deleted admin is not told of their own removal');
    assert.deepEqual(notices(third), [], 'a pending Admin gets no notices');
    assert.deepEqual(notices('grace@example.com'), [], 'no notices for people who are not Admins');
    assert.equal(j.user.status, 'pending');
    // getting and losing the Admin role (a console edit of the grants)
    const grace = cli(db, 'user', 'show', 'grace@example.com').user;
    assertConsoleOk(await boss.call(`/users/${grace.id}`, { method: 'PUT', body: { grants: [{ roleId: 1, workspaceId: 0 }] } }));
    const up = await waitSinkTo(smtp, BOSS, { pred: (m) => SUBJECT.adminAdded.test(m.subject) && m.subject.includes('grace@') });
    assert.equal(up.subject, 'Grâce Hopper (grace@example.com) is now a latchkey administrator');
    assertConsoleOk(await boss.call(`/users/${grace.id}`, { method: 'PUT', body: { grants: [{ roleId: roles.Console, workspaceId: 0 }] } }));
    const down = await waitSinkTo(smtp, BOSS, { pred: (m) => SUBJECT.adminRemoved.test(m.subject) && m.subject.includes('grace@') });
    assert.match(down.headers.get('subject'), /=\?UTF-8\?[BQ]\?/i, 'the name with â is encoded in the subject');
    await waitQueueSettled(db);
    assert.deepEqual(notices('grace@example.com'), [], 'not told of their own promotion or demotion');
    assert.equal(notices(BOSS).length, 5);
  });

  test('no link token in the server log, `mail list`, GET /admin/api/mail, the audit trail or the database', async () => {
    const { boss, db, srv } = it;
    await waitQueueSettled(db);
    collectLinks();
    assert.ok(links.length >= 10, `links collected: ${links.length}`);
    const list = lk(db, 'mail', 'list', '--limit', '0');
    const listJson = lk(db, 'mail', 'list', '--limit', '0', '--json');
    const api = await boss.call('/mail?limit=1000');
    const mailApi = assertConsoleOk(api);
    assert.equal(mailApi.transport, 'smtp');
    assert.equal(mailApi.from, 'Latchkey Test <noreply@lk.test>');
    assert.equal(mailApi.messages.length, mailList(db).length);
    const audit = lk(db, 'audit', 'list', '--limit', '0', '--json');
    const auditApi = await boss.call('/audit?limit=1000');
    const auditCsv = await boss.call('/audit?limit=1000&format=csv');
    const places = { 'server log': srv.stderr() + srv.stdout(), 'mail list': list.stdout, 'mail list --json': listJson.stdout,
      'GET /admin/api/mail': api.text, 'audit list': audit.stdout, 'GET /admin/api/audit': auditApi.text, 'audit CSV': auditCsv.text };
    for (const link of links) {
      const tok = tokenOf(link);
      for (const [where, text] of Object.entries(places)) assert.ok(!text.includes(tok), `the token of ${link} appears in ${where}`);
      assertNotInDb(db, tok, `token of ${link}`);
    }
    // the mailer's events name the message, never its text
    const sends = auditOf(db, 'Email', 'Send');
    assert.ok(sends.length >= 10);
    for (const e of sends) assert.deepEqual(Object.keys(e.details).sort(), ['attempts', 'delivery', 'id', 'kind', 'to']);
  });
});

/* ---------------------------------------------------------------- the outbox */

describe('mail without smtp_host: the outbox folder', { concurrency: 1 }, () => {
  test('the .eml file next to the database, named by the log line, `mail list` says sent with the file; LATCHKEY_MAIL_OUTBOX moves it', async (t) => {
    const email = 'olive@example.com';
    const it = await startMailServer(t, {
      admin: false,
      prepare(db) {
        cli(db, 'role', 'create', '--name', 'Console', '--permission', 'Access Users');
        cli(db, 'user', 'invite', '--email', email, '--first', 'Olive', '--last', 'Outbox', '--role', 'Console');
      },
    });
    const { db, srv } = it;
    assert.match(srv.stderr(), new RegExp(`no smtp_host set: mail is written as \\.eml files into ${it.outbox.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
    const log = await waitMailLog(srv, (e) => e.to === email && e.outcome === 'sent', 'written to the outbox');
    assert.equal(log.via, 'outbox');
    assert.equal(path.dirname(log.delivery), it.outbox);
    assert.match(path.basename(log.delivery), new RegExp(`^\\d{8}T\\d{6}Z-${log.id}-invitation\\.eml$`));
    assert.equal(fs.readdirSync(it.outbox).filter((f) => f.endsWith('.eml')).length, 1);
    assert.equal(fs.statSync(log.delivery).mode & 0o777, 0o600, 'the file holds a sign-in link: owner only');
    assert.equal(fs.statSync(it.outbox).mode & 0o077, 0, 'the folder: owner only');
    const [m] = queued(db, email);
    assert.deepEqual([m.status, m.attempts, m.delivery, m.lastError], ['sent', 1, log.delivery, '']);
    assert.deepEqual(Object.keys(m).sort(), ['attempts', 'createdAt', 'delivery', 'doneAt', 'id', 'kind', 'lang', 'lastError',
      'nextAttemptAt', 'status', 'to']);
    const table = lk(db, 'mail', 'list');
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^ID\s+CREATED\s+KIND\s+TO\s+STATUS\s+ATTEMPTS\s+NEXT\/DONE\s+DETAIL/);
    assert.ok(table.stdout.includes(log.delivery) && table.stdout.includes('olive@example.com'), table.stdout);
    assert.deepEqual(mailList(db, 'queued'), []);
    assert.equal(mailList(db, 'sent').length, 1);
    const bad = lk(db, 'mail', 'list', '--status', 'lost');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--status must be queued, sent, failed or cancelled/);
    const mail = parseEml(fs.readFileSync(log.delivery));
    assert.match(mail.subject, SUBJECT.invitation);
    assert.match(mail.to, /^"?Olive Outbox"? <olive@example\.com>$/);
    assert.match(mail.from, /^"?Latchkey Test"? <noreply@lk\.test>$/);
    assert.deepEqual(mail.parts.map((p) => p.contentType), ['text/plain', 'text/html']);
    const link = linkOf(mail);
    assert.ok(link.startsWith(`${srv.url}/invite#`), link);
    const s = await acceptAndSignIn(srv, tokenOf(link), PW);
    assert.equal(s.user.status, 'active');

    // another folder
    const other = path.join(db.dir, 'elsewhere', 'mail');
    await it.restart({ LATCHKEY_MAIL_OUTBOX: other });
    cli(db, 'user', 'reset-password', email);
    const log2 = await waitMailLog(it.srv, (e) => e.to === email && e.kind === 'password_reset' && e.outcome === 'sent', 'the reset written');
    assert.equal(path.dirname(log2.delivery), other);
    assert.match(parseEml(fs.readFileSync(log2.delivery)).subject, SUBJECT.reset);
    assert.equal(fs.readdirSync(it.outbox).filter((f) => f.endsWith('.eml')).length, 1, 'nothing more in the default folder');
  });
});

describe('forgot password: throttled per address, apart from sign-ins', { concurrency: 1 }, () => {
  test('with login_fail_limit 3 the fourth request from an address gets 429 throttled; sign-ins have their own allowance', async (t) => {
    const it = await startMailServer(t, { env: { LATCHKEY_LOGIN_FAIL_LIMIT: '3' } });
    const { srv } = it;
    for (let i = 0; i < 3; i++) {
      const r = await consoleCall(srv, '/password/forgot', { body: { email: `someone${i}@example.com`, lang: 'en' } });
      assert.equal(r.status, 200, `request ${i + 1}: ${r.text}`);
    }
    const r = await consoleCall(srv, '/password/forgot', { body: { email: BOSS, lang: 'en' } });
    assertConsoleError(r, 429, 'throttled', undefined, 'the fourth forgot-password request');
    assert.match(r.headers.get('retry-after') || '', /^\d+$/);
    assertConsoleOk(await consoleCall(srv, '/login', { body: { email: BOSS, password: PW } }), 'a sign-in after them');
    assert.deepEqual(queued(it.db, BOSS, 'password_reset'), [], 'the throttled request queued nothing');
  });
});

/* ---------------------------------------------------------------- the durable queue */

describe('the queue: an SMTP outage, restarts, a permanent refusal', { concurrency: 1 }, () => {
  test('SMTP down, then up: queued with the error and retried; delivered exactly once; a deleted invitation is cancelled, never sent', async (t) => {
    const smtp = await startSmtp(t);
    await smtp.stop(); // its port is known and nothing listens there now
    const it = await startMailServer(t, { smtp, prepare(db) { cli(db, 'role', 'create', '--name', 'Console', '--permission', 'Access Users'); } });
    const { db, srv, boss } = it;
    const roleId = cli(db, 'role', 'show', 'Console').role.id;
    const late = 'late@example.com';
    const gone = 'gone@example.com';
    const twice = 'twice@example.com';
    assertConsoleOk(await boss.call('/users', { body: personBody(late, roleId) }));
    const g = assertConsoleOk(await boss.call('/users', { body: personBody(gone, roleId) }));
    const tw = assertConsoleOk(await boss.call('/users', { body: personBody(twice, roleId, { message: 'first try' }) }));
    const ms = await waitQueue(db, (l) => l.some((m) => m.to === late && m.attempts >= 1 && m.lastError),
      'the first failed attempt to late@ recorded');
    const m1 = ms.find((m) => m.to === late);
    assert.equal(m1.status, 'queued');
    assert.notEqual(m1.nextAttemptAt, null);
    assert.equal(m1.delivery, '');
    await waitMailLog(srv, (e) => e.to === late && e.outcome === 'retry' && e.attempt === 1, 'attempt 1 will retry');
    // the invitation of gone@ is deleted, and the one of twice@ sent again, while their emails wait
    assert.deepEqual(assertConsoleOk(await boss.call(`/users/${g.user.id}/invitation`, { method: 'DELETE' })), { ok: true });
    assertConsoleOk(await boss.call(`/users/${tw.user.id}/invitation`, { body: { message: 'second try' } }));

    await smtp.restart();
    const mail = await waitSinkTo(smtp, late);
    const settled = await waitQueueSettled(db);
    const sent = settled.find((m) => m.to === late);
    assert.equal(sent.status, 'sent');
    assert.ok(sent.attempts >= 2, `attempts: ${sent.attempts}`);
    assert.equal(sent.lastError, '');
    assert.equal(sinkTo(smtp, late).length, 1, 'exactly one email to late@');
    // the Message-ID is the one queued (it stays the same across attempts)
    const [row] = sql(db, `SELECT message_id FROM mail_queue WHERE id = ${sent.id}`);
    assert.equal(mail.messageId, `<${row.message_id}@lk.test>`);
    const c = settled.find((m) => m.to === gone);
    assert.equal(c.status, 'cancelled');
    assert.match(c.lastError, /recipient was deleted/);
    assert.deepEqual(sinkTo(smtp, gone), [], 'nothing sent for the deleted invitation');
    assert.equal(auditOf(db, 'Email', 'Cancel', gone).length, 1);
    // twice@: the replaced message is cancelled; only the newer one arrives
    const tws = settled.filter((m) => m.to === twice).sort((a, b) => a.id - b.id);
    assert.deepEqual(tws.map((m) => m.status), ['cancelled', 'sent']);
    assert.match(tws[0].lastError, /newer invitation replaced it/);
    const twMail = await waitSinkTo(smtp, twice);
    assert.equal(sinkTo(smtp, twice).length, 1, 'one email to twice@');
    assert.ok(twMail.text.includes('second try') && !twMail.text.includes('first try'), twMail.text);
    // the link of the late email works
    const s = await acceptAndSignIn(srv, tokenOf(linkOf(mail)), PW);
    assert.equal(s.user.status, 'active');
  });

  test('restarts: mail queued by the CLI with no server is sent once the server starts, exactly once, also across a restart mid-outage', async (t) => {
    const smtp = await startSmtp(t);
    const db = newDb();
    t.after(() => db.remove());
    cli(db, 'role', 'create', '--name', 'Console', '--permission', 'Access Users');
    for (const e of ['q1@example.com', 'q2@example.com'])
      cli(db, 'user', 'invite', '--email', e, '--first', 'Que', '--last', 'Ued', '--role', 'Console');
    assert.deepEqual(mailList(db).map((m) => m.status), ['queued', 'queued']);
    const env = smtpEnv(smtp);
    let srv = await startServer(t, db, [], { env });
    await waitSinkTo(smtp, 'q1@example.com');
    await waitSinkTo(smtp, 'q2@example.com');
    await waitQueueSettled(db);
    // a restart sends nothing again: a marker queued while stopped goes out, the others do not
    await srv.stop();
    cli(db, 'user', 'invite', '--email', 'marker@example.com', '--first', 'Mar', '--last', 'Ker', '--role', 'Console');
    srv = await startServer(t, db, [], { env });
    await waitSinkTo(smtp, 'marker@example.com');
    await waitQueueSettled(db);
    assert.equal(sinkTo(smtp, 'q1@example.com').length, 1);
    assert.equal(sinkTo(smtp, 'q2@example.com').length, 1);

    // the server stops while the SMTP server is down with a message queued
    await smtp.stop();
    cli(db, 'user', 'invite', '--email', 'q3@example.com', '--first', 'Que', '--last', 'Ued', '--role', 'Console');
    await waitQueue(db, (l) => l.some((m) => m.to === 'q3@example.com' && m.attempts >= 1 && m.lastError), 'a failed attempt to q3@');
    await srv.stop();
    assert.equal(queued(db, 'q3@example.com')[0].status, 'queued', 'still queued after the stop');
    await smtp.restart();
    srv = await startServer(t, db, [], { env });
    await waitSinkTo(smtp, 'q3@example.com');
    const settled = await waitQueueSettled(db);
    assert.equal(settled.find((m) => m.to === 'q3@example.com').status, 'sent');
    assert.deepEqual(smtp.messages().map((m) => m.envelope.rcptTos[0]).sort(),
      ['marker@example.com', 'q1@example.com', 'q2@example.com', 'q3@example.com'], 'each exactly once');
  });

  test('a permanent refusal (550 on RCPT): that message fails for good after one attempt; the others are delivered', async (t) => {
    const smtp = await startSmtp(t, { rejectRcpt: 'bounce' });
    const it = await startMailServer(t, {
      smtp,
      admin: false,
      prepare(db) {
        cli(db, 'role', 'create', '--name', 'Console', '--permission', 'Access Users');
        for (const e of ['bounce@example.com', 'fine@example.com', 'fine2@example.com'])
          cli(db, 'user', 'invite', '--email', e, '--first', 'Per', '--last', 'Son', '--role', 'Console');
      },
    });
    const { db, srv } = it;
    const settled = await waitQueueSettled(db);
    const b = settled.find((m) => m.to === 'bounce@example.com');
    assert.equal(b.status, 'failed');
    assert.equal(b.attempts, 1);
    assert.match(b.lastError, /550/);
    assert.notEqual(b.doneAt, null);
    const log = await waitMailLog(srv, (e) => e.to === 'bounce@example.com' && e.outcome === 'failed', 'failed for good');
    assert.equal(log.attempt, 1);
    assert.match(log.error, /550/);
    const [giveUp] = auditOf(db, 'Email', 'Give Up', 'bounce@example.com');
    assert.equal(giveUp.actor, 'system');
    assert.match(giveUp.details.reason, /550/);
    for (const e of ['fine@example.com', 'fine2@example.com']) {
      assert.equal(settled.find((m) => m.to === e).status, 'sent');
      assert.equal(sinkTo(smtp, e).length, 1);
    }
    assert.deepEqual(sinkTo(smtp, 'bounce@example.com'), []);
    assert.equal(cli(db, 'mail', 'list', '--status', 'failed').messages.length, 1);

    // LATCHKEY_MAIL_MAX_ATTEMPTS: with the SMTP server gone, a message fails after that many attempts
    await smtp.stop();
    await it.restart({ LATCHKEY_MAIL_MAX_ATTEMPTS: '2' });
    cli(db, 'user', 'invite', '--email', 'never@example.com', '--first', 'Ne', '--last', 'Ver', '--role', 'Console');
    const done = await waitQueue(db, (l) => l.some((m) => m.to === 'never@example.com' && m.status !== 'queued'), 'never@ given up');
    const n = done.find((m) => m.to === 'never@example.com');
    assert.equal(n.status, 'failed');
    assert.equal(n.attempts, 2);
    assert.notEqual(n.lastError, '');
    const gave = await waitMailLog(it.srv, (e) => e.to === 'never@example.com' && e.outcome === 'failed', 'never@ failed for good');
    assert.equal(gave.attempt, 2);
    assert.ok(mailLog(it.srv).some((e) => e.to === 'never@example.com' && e.outcome === 'retry' && e.attempt === 1));
    assert.equal(auditOf(db, 'Email', 'Give Up', 'never@example.com').length, 1);
  });
});

/* ---------------------------------------------------------------- expiry notices */

describe('expiry notices', { concurrency: 1 }, () => {
  let smtp;
  let it;
  let exp; // email → expiry (seconds)
  const soon = 'soon@example.com';
  const sooner = 'sooner@example.com';
  const bot = 'expiring-bot@example.com';
  const admin2 = 'admin2@example.com';
  before(async () => {
    smtp = await startSmtp(null);
    const now = nowSec();
    exp = { [soon]: now + 3 * 86400, [sooner]: now + 12 * 3600, [bot]: now + 2 * 86400 };
    it = await startMailServer(null, {
      smtp,
      prepare(db) {
        cli(db, 'role', 'create', '--name', 'Console', '--permission', 'Access Users');
        cli(db, 'role', 'create', '--name', 'API Only', '--permission', 'Read-Only Lead');
        // active people (not Admins) with an expiry: made as admins, then given Console instead
        for (const [email, first] of [[soon, 'Soon'], [sooner, 'Sooner']]) {
          cli(db, 'admin', 'create', '--email', email, '--first', first, '--last', 'Gone');
          cli(db, 'user', 'update', email, '--add-role', 'Console', '--remove-role', 'Admin', '--expires', isoOf(exp[email]));
        }
        cli(db, 'user', 'invite', '--email', bot, '--first', 'Exp', '--last', 'Bot', '--role', 'API Only', '--api-only', '--expires', isoOf(exp[bot]));
        cli(db, 'admin', 'create', '--email', admin2, '--first', 'Ad', '--last', 'Two');
      },
    });
  });
  after(() => cleanup(it, smtp));

  const expiryMails = (addr) => sinkTo(smtp, addr, (m) => SUBJECT.expiryUser.test(m.subject) || SUBJECT.expiryAdmin.test(m.subject));
  // the notice (7 or 1 days ahead) a queued expiry message is, from its row
  const daysOf = (db, id) => JSON.parse(sql(db, `SELECT vars FROM mail_queue WHERE id = ${id}`)[0].vars).notice;

  test('the 3-day user gets the 7-day notice, the 12-hour user the 1-day notice only; the Admins the admin variant; API-only users none', async () => {
    const { db } = it;
    // 2 user notices + 3 subjects × 2 admins
    await waitFor(() => [soon, sooner, BOSS, admin2].reduce((n, a) => n + expiryMails(a).length, 0) >= 8, MAIL_WAIT_MS, '8 expiry notices');
    await waitQueueSettled(db);
    const rows = mailList(db).filter((m) => m.kind === 'expiry_notice');
    assert.equal(rows.length, 8, JSON.stringify(rows));

    const [u1] = expiryMails(soon);
    assert.equal(expiryMails(soon).length, 1);
    assert.match(u1.subject, SUBJECT.expiryUser);
    assert.ok(u1.text.includes(`Your access to latchkey ends on ${humanUtc(exp[soon])}`), u1.text);
    assert.equal(daysOf(db, rows.find((m) => m.to === soon).id), 7, 'the 7-day notice');

    assert.equal(expiryMails(sooner).length, 1, 'one notice only (not also the 7-day one)');
    const [u2] = expiryMails(sooner);
    assert.equal(u2.subject, 'Your latchkey access ends in 1 day');
    assert.ok(u2.text.includes(`Your access to latchkey ends on ${humanUtc(exp[sooner])}`), u2.text);
    assert.equal(daysOf(db, rows.find((m) => m.to === sooner).id), 1, 'the 1-day notice');

    assert.deepEqual(sinkTo(smtp, bot), [], 'an API-only user gets no mail');
    for (const admin of [BOSS, admin2]) {
      const got = expiryMails(admin);
      assert.equal(got.length, 3, `${admin}: ${got.map((m) => m.subject)}`);
      for (const [who, name] of [[soon, 'Soon Gone'], [sooner, 'Sooner Gone'], [bot, 'Exp Bot']]) {
        const m = got.find((x) => x.subject.includes(`${name} (${who})`));
        assert.ok(m, `${admin}: a notice about ${who}: ${got.map((x) => x.subject)}`);
        assert.match(m.subject, SUBJECT.expiryAdmin);
        assert.ok(m.text.includes(`The latchkey access of ${name} (${who}) ends on ${humanUtc(exp[who])}`), m.text);
      }
      assert.equal(got.find((x) => x.subject.includes(sooner)).subject, `latchkey access of Sooner Gone (${sooner}) ends in 1 day`);
    }
  });

  // the 7-day notice of an access that ends in 3 days says "in 3 days"
  test('the notice states the time actually left (3 days, not "in 7 days")', async () => {
    const [u1] = expiryMails(soon);
    assert.ok(u1, 'the notice to soon@ (previous test)');
    assert.ok(!/in 7 days/.test(u1.subject) && !/in 7 days/.test(u1.text),
      `an access ending on ${humanUtc(exp[soon])} (3 days) is announced as "in 7 days": ${u1.subject}\n${u1.text}`);
    assert.ok(/in 3 days/.test(u1.text), u1.text);
  });

  test('a restart sends no notice again', async () => {
    const { db } = it;
    const before = mailList(db).filter((m) => m.kind === 'expiry_notice').length;
    await it.srv.stop();
    // a marker queued while stopped: once it is sent, the start-up check has run
    cli(db, 'user', 'reset-password', BOSS);
    await it.restart();
    await waitSinkTo(smtp, BOSS, { pred: isReset });
    await waitQueueSettled(db);
    assert.equal(mailList(db).filter((m) => m.kind === 'expiry_notice').length, before);
    for (const a of [soon, sooner, BOSS, admin2]) assert.equal(expiryMails(a).length, a === soon || a === sooner ? 1 : 3, a);
  });

  test('an expiry moved closer through the console is noticed at once: the 1-day notice for the new date', async () => {
    const { db } = it;
    const boss = await consoleLogin(it.srv, BOSS, PW); // the restarted server listens on another port
    const id = cli(db, 'user', 'show', soon).user.id;
    const when = nowSec() + 10 * 3600;
    const u = assertConsoleOk(await boss.call(`/users/${id}`, { method: 'PUT', body: { expiresAt: isoOf(when) } }));
    assert.equal(u.expiresAt, isoOf(when));
    const m = await waitSinkTo(smtp, soon, { n: 2, pred: (x) => SUBJECT.expiryUser.test(x.subject) });
    assert.equal(m.subject, 'Your latchkey access ends in 1 day');
    assert.ok(m.text.includes(`Your access to latchkey ends on ${humanUtc(when)}`), m.text);
    for (const admin of [BOSS, admin2]) {
      const a = await waitSinkTo(smtp, admin, { n: 2, pred: (x) => SUBJECT.expiryAdmin.test(x.subject) && x.subject.includes(soon) });
      assert.equal(a.subject, `latchkey access of Soon Gone (${soon}) ends in 1 day`);
    }
    await waitQueueSettled(db);
    assert.equal(expiryMails(soon).length, 2);
    assert.equal(expiryMails(sooner).length, 1, 'nothing new for the others');
  });
});

/* ---------------------------------------------------------------- STARTTLS and AUTH */

describe('STARTTLS with AUTH', { concurrency: 1 }, () => {
  test('a wrong password keeps the message queued with the authentication error; the right one delivers over TLS; the password is never shown', async (t) => {
    const password = 'Sm7p-Pa55-word-xyz';
    const wrong = 'Wr0ng-Pa55-word-abc';
    const smtp = await startSmtp(t, { starttls: true, auth: `mailer:${password}` });
    const tlsEnv = (pw) => ({ LATCHKEY_SMTP_SECURITY: 'starttls', LATCHKEY_SMTP_CA_FILE: smtp.caFile, LATCHKEY_SMTP_USER: 'mailer',
      LATCHKEY_SMTP_PASSWORD: pw });
    const email = 'tls@example.com';
    const it = await startMailServer(t, {
      smtp,
      env: tlsEnv(wrong),
      prepare(db) {
        cli(db, 'role', 'create', '--name', 'Console', '--permission', 'Access Users');
        cli(db, 'user', 'invite', '--email', email, '--first', 'Tee', '--last', 'Ls', '--role', 'Console');
      },
    });
    const { db, boss } = it;
    assert.match(it.srv.stderr(), /mail goes through smtp 127\.0\.0\.1 \(starttls\)/);
    const ms = await waitQueue(db, (l) => l.some((m) => m.to === email && m.attempts >= 1 && m.lastError), 'a refused login recorded');
    const m = ms.find((x) => x.to === email);
    assert.equal(m.status, 'queued', 'a refused login is not a permanent failure');
    assert.match(m.lastError, /login denied|authentication/i, m.lastError);
    assert.match(m.lastError, /535/, m.lastError);
    await waitMailLog(it.srv, (e) => e.to === email && e.outcome === 'retry' && /login denied|authentication/i.test(e.error), 'the refused login logged');
    assert.deepEqual(smtp.messages(), []);
    const mailApi = await boss.call('/mail');
    assertConsoleOk(mailApi);
    const firstLog = it.srv.stderr();

    await it.restart(tlsEnv(password));
    const mail = await waitSinkTo(smtp, email);
    assert.equal(mail.envelope.tls, true, 'delivered over STARTTLS');
    assert.equal(mail.envelope.login, 'mailer', 'after AUTH');
    assert.equal(mail.envelope.mailFrom, MAIL_FROM_ADDRESS);
    const settled = await waitQueueSettled(db);
    assert.equal(settled.find((x) => x.to === email).status, 'sent');
    assert.equal(sinkTo(smtp, email).length, 1);
    await it.srv.stop();

    const places = { 'the first server log': firstLog, 'the second server log': it.srv.stderr(),
      'mail list': lk(db, 'mail', 'list', '--limit', '0').stdout, 'mail list --json': lk(db, 'mail', 'list', '--limit', '0', '--json').stdout,
      'GET /admin/api/mail': mailApi.text, 'audit list': lk(db, 'audit', 'list', '--limit', '0', '--json').stdout };
    for (const [where, text] of Object.entries(places))
      for (const pw of [password, wrong]) assert.ok(!text.includes(pw), `the SMTP password appears in ${where}`);
    assertNotInDb(db, password, 'SMTP password');
    assertNotInDb(db, wrong, 'wrong SMTP password');
    assert.ok(mailLog(it.srv).some((e) => e.to === email && e.outcome === 'sent'));
  });
});
