// Email in the console: invitations and password resets go only by email, over a real
// SMTP server (tests/e2e/smtp_sink.py, on loopback) or into the outbox folder of a server
// without SMTP; the console says where they went and never shows a link.
//
//  - the Done-when: an admin invites a colleague over SMTP, the email arrives (its
//    headers, text and HTML parts, the admin's message), the colleague follows the link
//    and is signed in; an API-only user made the same way gets no email; Web Services
//    shows the queue (where mail goes, the messages, the status filter);
//  - a German console sends a German invitation; forgot password and the reset page in German;
//  - Resend Invitation: a second email, the old link refused as replaced, the new one
//    works once (then refused as used); Delete Invitation;
//  - Reset Password from the Users page: the email's /reset link sets a new password and
//    signs in; the old password no longer works; a used link explains itself;
//  - Forgot password: the same answer for an unknown address, an API-only user and an
//    active user; only the active user gets an email.
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { extractLink, MAIL_WAIT_MS, readOutbox, startSmtp, waitFor } from '../mail-lib.mjs';
import { consoleReadyAdmin } from '../server-lib.mjs';
import {
  ADMIN, announced, assert, cli, closeBrowser, dialog, http, login, nav, newPage, ready, row, setupAdmin, sleep,
  startConsole, stepper,
} from './browser-lib.mjs';

after(closeBrowser);

const FROM = { name: 'Latchkey Console', address: 'console@example.com' };
// how long the mailer gets to send something that must not be sent (it sends at once)
const QUIET_MS = 2_000;

/* ---------------------------------------------------------------- servers and mailboxes */

// a console server that sends over SMTP to a fresh sink; {srv, db, setupLink, mailbox}
async function smtpConsole(t) {
  const smtp = await startSmtp(t);
  const c = await startConsole(t, {
    env: {
      LATCHKEY_SMTP_HOST: '127.0.0.1', LATCHKEY_SMTP_PORT: String(smtp.port), LATCHKEY_SMTP_SECURITY: 'none',
      LATCHKEY_MAIL_FROM: `${FROM.name} <${FROM.address}>`, LATCHKEY_MAIL_RETRY_BASE: '1',
    },
  });
  return { ...c, smtp, mailbox: { messages: () => smtp.messages(), waitFor: (pred) => smtp.waitFor(pred) } };
}

// a console server without SMTP: the emails are .eml files in <database folder>/outbox
async function outboxConsole(t) {
  const c = await startConsole(t);
  const dir = path.join(c.db.dir, 'outbox');
  return {
    ...c,
    outbox: dir,
    mailbox: {
      messages: () => readOutbox(dir),
      waitFor: (pred) => waitFor(() => readOutbox(dir).find(pred), MAIL_WAIT_MS, `a message in ${dir} matching ${pred}`),
    },
  };
}

const to = (addr) => (m) => m.to.toLowerCase().includes(`<${addr}>`) || m.to.toLowerCase() === addr;
const mailsTo = (mailbox, addr) => mailbox.messages().filter(to(addr));
// the n-th (1-based) message to addr, waiting for it
const nthMailTo = (mailbox, addr, n) => waitFor(() => mailsTo(mailbox, addr)[n - 1], MAIL_WAIT_MS, `email #${n} to ${addr}`);

/* ---------------------------------------------------------------- console flows */

const LABELS = {
  en: { users: 'Users & Roles', usersTab: 'Users', invite: 'Invite New User', email: 'Email', first: 'First Name', last: 'Last Name', next: 'Next', role: 'Role', apiOnly: 'API Only', message: 'Invitation message', send: 'Send' },
  de: { users: 'Benutzer und Rollen', usersTab: 'Benutzer', invite: 'Neuen Benutzer einladen', email: 'E-Mail', first: 'Vorname', last: 'Nachname', next: 'Weiter', role: 'Rolle', apiOnly: 'Nur API', message: 'Einladungsnachricht', send: 'Senden' },
};

// Invite New User from the Users page, three steps; resolves to the server's answer
async function invite(page, { email, first, last, role = 'Admin', apiOnly = false, message, lang = 'en' }) {
  const L = LABELS[lang];
  await page.getByRole('button', { name: L.invite }).click();
  const dlg = dialog(page, L.invite);
  await dlg.getByLabel(L.email).fill(email);
  await dlg.getByLabel(L.first).fill(first);
  await dlg.getByLabel(L.last).fill(last);
  await dlg.getByRole('button', { name: L.next, exact: true }).click();
  await dlg.getByLabel(L.role, { exact: true }).selectOption({ label: role });
  if (apiOnly) await dlg.getByLabel(L.apiOnly, { exact: true }).check();
  await dlg.getByRole('button', { name: L.next, exact: true }).click();
  if (message !== undefined) await dlg.getByLabel(L.message).fill(message);
  const answer = page.waitForResponse((r) => r.url().endsWith('/admin/api/users') && r.request().method() === 'POST');
  await dlg.getByRole('button', { name: L.send, exact: true }).click();
  const res = await answer;
  assert.equal(res.status(), 200, await res.text());
  return res.json();
}

// Opens a single-use link in a fresh page (its own cookies) and sets a password there.
async function setPasswordThroughLink(t, link, password, { locale = 'en-US', heading, submit }) {
  const page = await newPage(t, { locale });
  await page.goto(link);
  await ready(page);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  await page.getByLabel(/^(New password|Neues Passwort)$/).fill(password);
  await page.getByLabel(/^(Repeat new password|Neues Passwort wiederholen)$/).fill(password);
  await page.getByRole('button', { name: submit }).click();
  return page;
}

const acceptLink = (t, link, password, o = {}) => setPasswordThroughLink(t, link, password,
  { heading: 'Accept your invitation', submit: 'Set password and sign in', ...o });
const resetLink = (t, link, password, o = {}) => setPasswordThroughLink(t, link, password,
  { heading: 'Set a new password', submit: 'Set password and sign in', ...o });

// signed in: the Admin landing page with this user in the header
async function signedInAs(page, email) {
  await page.getByRole('heading', { level: 1, name: 'Admin', exact: true }).waitFor();
  assert.equal(await page.locator('.user-email').textContent(), email);
}

// the formatting of fmtTime() in i18n.js, done by the page's own Intl (the browser's locale
// data and this machine's time zone), so that Node's ICU build does not matter
const fmtTime = (page, iso, locale = 'en-GB') => page.evaluate(([i, l]) =>
  new Intl.DateTimeFormat(l, { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(i)), [iso, locale]);

// the Email section of Web Services: its rows as {to, kind, status, cells}
async function mailRows(page) {
  return page.locator('#email tbody tr[data-mail-id]').evaluateAll((trs) => trs.map((tr) => ({
    to: tr.dataset.to, kind: tr.dataset.kind, status: tr.dataset.status,
    cells: Object.fromEntries([...tr.querySelectorAll('td[data-col]')].map((td) => [td.dataset.col, td.textContent])),
  })));
}

/* ---------------------------------------------------------------- 1. the Done-when, over SMTP */

test('Done-when: an admin invites a colleague over SMTP; an API-only user gets no email; Web Services shows the queue', async (t) => {
  const { srv, db, setupLink, smtp, mailbox } = await smtpConsole(t);
  cli(db, 'role', 'create', '--name', 'API Reader', '--permission', 'Read-Only Lead');
  const admin = await newPage(t);
  const step = stepper(t);
  const MESSAGE = 'Welcome aboard, Grace. Your first task is the Audit Trail review.';
  let res;
  let mail;

  await step('the admin invites Grace: the console says where the email went, and shows no link', async () => {
    await setupAdmin(admin, setupLink);
    await nav(admin, 'Users & Roles', 'Users');
    res = await invite(admin, { email: 'grace@example.com', first: 'Grace', last: 'Hopper', message: MESSAGE });
    assert.deepEqual(Object.keys(res).sort(), ['invitation', 'user']);
    assert.equal(res.invitation.email, 'grace@example.com');
    const days = (Date.parse(res.invitation.expiresAt) - Date.now()) / 86_400_000;
    assert.ok(days > 6.9 && days <= 7, `an invitation works 7 days by default: ${res.invitation.expiresAt}`);
    const sent = dialog(admin, 'Invitation sent');
    await sent.getByText('An invitation email was sent to grace@example.com.').waitFor();
    assert.equal(await sent.locator('#invitation-expires').textContent(),
      `Its link can be used once and is valid until ${await fmtTime(admin, res.invitation.expiresAt)}.`);
    assert.doesNotMatch(await sent.textContent(), /invite#|https?:/);
    await sent.getByRole('button', { name: 'Done' }).click();
    await row(admin, 'email', 'grace@example.com').waitFor();
    assert.equal(await row(admin, 'email', 'grace@example.com').locator('[data-col=status]').textContent(), 'Pending');
  });

  await step('the email arrives at the SMTP server: headers, text and HTML, the admin\'s message, the link', async () => {
    mail = await smtp.waitFor(to('grace@example.com'));
    assert.equal(mail.subject, 'Welcome to latchkey');
    assert.match(mail.to, /^"?Grace Hopper"? <grace@example\.com>$/);
    assert.match(mail.from, new RegExp(`^"?${FROM.name}"? <${FROM.address.replace('.', '\\.')}>$`));
    assert.match(mail.messageId, /^<[^<>@\s]+@[^<>@\s]+>$/);
    assert.ok(mail.date && !Number.isNaN(Date.parse(mail.date)), `a Date header: ${mail.date}`);
    assert.deepEqual(mail.envelope.rcptTos, ['grace@example.com']);
    assert.equal(mail.envelope.mailFrom, FROM.address);
    assert.match(mail.headers.get('content-type'), /^multipart\/alternative/i);
    assert.ok(mail.text, 'a text/plain part');
    assert.ok(mail.html, 'a text/html part');
    for (const body of [mail.text, mail.html]) {
      assert.ok(body.includes(MESSAGE), `the admin's message in:\n${body}`);
      assert.ok(body.includes('Ada Lovelace'), `who invites, in:\n${body}`);
    }
    const link = extractLink(mail.text, 'invite');
    assert.ok(link && link.startsWith(`${srv.url}/invite#`), `a link to this server: ${mail.text}`);
    assert.equal(extractLink(mail.html, 'invite'), link, 'the same link in both parts');
  });

  await step('Grace follows the link in a fresh browser, sets a password and is signed in', async () => {
    const grace = await acceptLink(t, extractLink(mail.text, 'invite'), 'compiler pioneer 1952');
    await signedInAs(grace, 'grace@example.com');
    // and her password signs her in again
    const again = await newPage(t);
    await login(again, srv.url, 'grace@example.com', 'compiler pioneer 1952');
    await signedInAs(again, 'grace@example.com');
    grace.assertClean();
    again.assertClean();
  });

  await step('an API-only user made the same way gets no email', async () => {
    await admin.reload();
    await ready(admin);
    assert.equal(await row(admin, 'email', 'grace@example.com').locator('[data-col=status]').textContent(), 'Active');
    const r = await invite(admin, { email: 'robot@example.com', first: 'Ro', last: 'Bot', role: 'API Reader (API permissions)', apiOnly: true });
    assert.equal(r.invitation, null);
    await announced(admin, /API-only user robot@example\.com created\. It is active now\./);
    assert.equal(await dialog(admin, 'Invitation sent').count(), 0);
    assert.equal(await row(admin, 'email', 'robot@example.com').locator('[data-col=status]').textContent(), 'Active');
    await sleep(QUIET_MS); // the mailer sends at once; give it the chance to do something wrong
    assert.deepEqual(mailsTo(mailbox, 'robot@example.com').map((m) => m.subject), []);
  });

  await step('Web Services → Email: where mail goes, the queue with the sent invitation, the status filter', async () => {
    await nav(admin, 'Web Services');
    const sec = admin.locator('section#email');
    await sec.getByRole('heading', { name: 'Email' }).waitFor();
    assert.equal(await sec.locator('[data-mail=transport]').textContent(), 'SMTP server');
    assert.equal(await sec.locator('[data-mail=target]').textContent(), `127.0.0.1:${smtp.port} (none)`);
    assert.equal(await sec.locator('[data-mail=from]').textContent(), `${FROM.name} <${FROM.address}>`);
    await sec.locator('tbody tr[data-to="grace@example.com"]').waitFor();
    const rows = await mailRows(admin);
    const inv = rows.find((m) => m.to === 'grace@example.com' && m.kind === 'invitation');
    assert.ok(inv, JSON.stringify(rows));
    assert.equal(inv.cells.kind, 'Invitation');
    assert.equal(inv.cells.status, 'Sent');
    assert.equal(inv.cells.attempts, '1');
    assert.match(inv.cells.when, /\d{4}/, 'when it was done');
    assert.ok(inv.cells.details.length > 0, 'the delivery');
    assert.ok(!rows.some((m) => m.to === 'robot@example.com'), `nothing for the API-only user: ${JSON.stringify(rows)}`);
    assert.equal(await sec.locator('#mail-count').textContent(), rows.length === 1 ? '1 message' : `${rows.length} messages, newest first`);
    // the API says the same (no message for the API-only user at all)
    const api = await admin.evaluate(async () => (await fetch('/admin/api/mail')).json());
    assert.ok(api.messages.some((m) => m.to === 'grace@example.com' && m.kind === 'invitation' && m.status === 'sent'));
    assert.ok(!api.messages.some((m) => m.to === 'robot@example.com'));
    // the filter: nothing failed; the sent ones again
    await sec.getByLabel('Status').selectOption({ label: 'Failed' });
    await sec.locator('td.empty').getByText('No messages.').waitFor();
    await sec.getByLabel('Status').selectOption({ label: 'Sent' });
    await sec.locator('tbody tr[data-to="grace@example.com"]').waitFor();
    assert.ok((await mailRows(admin)).every((m) => m.status === 'sent'));
  });

  admin.assertClean();
});

/* ---------------------------------------------------------------- 2. German */

const CONSOLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/console');
const EN = JSON.parse(fs.readFileSync(path.join(CONSOLE, 'i18n-en.json'), 'utf8'));
const DE = JSON.parse(fs.readFileSync(path.join(CONSOLE, 'i18n-de.json'), 'utf8'));
// English texts a German page must not show (as in german.test.mjs)
const ENGLISH_ONLY = Object.keys(EN).filter((k) => EN[k] !== DE[k] && EN[k].length >= 6 && !EN[k].includes('{')).map((k) => EN[k]);

test('a German console: the invitation email is German; forgot password and the reset page in German', async (t) => {
  const { srv, setupLink, outbox, mailbox } = await outboxConsole(t);
  const admin = await newPage(t, { locale: 'de-DE' });
  const step = stepper(t);
  let mail;

  await step('Einladung: der Dialog auf Deutsch, ohne Link', async () => {
    await setupAdmin(admin, setupLink, ADMIN, { submit: 'Administrator erstellen', landing: 'Admin' });
    await nav(admin, 'Benutzer und Rollen', 'Benutzer');
    const res = await invite(admin, { email: 'erika@example.com', first: 'Erika', last: 'Mustermann', lang: 'de' });
    const sent = dialog(admin, 'Einladung gesendet');
    await sent.getByText('Eine Einladungs-E-Mail wurde an erika@example.com gesendet.').waitFor();
    assert.equal(await sent.locator('#invitation-expires').textContent(),
      `Der Link darin kann einmal verwendet werden und ist bis ${await fmtTime(admin, res.invitation.expiresAt, 'de-DE')} gültig.`);
    assert.doesNotMatch(await sent.textContent(), /invite#/);
    await sent.getByRole('button', { name: 'Fertig' }).click();
  });

  await step('die Einladungs-E-Mail ist deutsch (Betreff, Text, HTML), mit der vorgeschlagenen Nachricht', async () => {
    mail = await mailbox.waitFor(to('erika@example.com'));
    assert.ok(path.dirname(mail.path) === outbox);
    assert.equal(mail.subject, 'Willkommen bei latchkey');
    assert.match(mail.text, /^Hallo Erika Mustermann,/m);
    assert.match(mail.text, /eingeladen/);
    // the console's German default message
    assert.ok(mail.text.includes('lädt Sie zur Verwaltungskonsole von latchkey ein'), mail.text);
    assert.match(mail.html, /<html lang="de">/);
    assert.doesNotMatch(mail.text, /\b(Hello|invited you)\b/);
  });

  await step('die Einladung annehmen, auf Deutsch', async () => {
    const erika = await setPasswordThroughLink(t, extractLink(mail.text, 'invite'), 'Sonnenblumenfeld 2026',
      { locale: 'de-DE', heading: 'Einladung annehmen', submit: 'Passwort festlegen und anmelden' });
    await erika.getByRole('heading', { level: 1, name: 'Admin', exact: true }).waitFor();
    assert.equal(await erika.locator('.user-email').textContent(), 'erika@example.com');
    erika.assertClean();
  });

  await step('Passwort vergessen? auf Deutsch: dieselbe Antwort, eine deutsche E-Mail, die Seite /reset', async () => {
    const page = await newPage(t, { locale: 'de-DE' });
    await page.goto(`${srv.url}/`);
    await ready(page);
    await page.getByRole('link', { name: 'Passwort vergessen?' }).click();
    await page.getByRole('heading', { level: 1, name: 'Passwort zurücksetzen' }).waitFor();
    await page.getByLabel('E-Mail').fill('erika@example.com');
    await page.getByRole('button', { name: 'Link senden' }).click();
    assert.equal(await page.locator('#forgot-sent').textContent(),
      'Wenn diese Adresse zu einem aktiven Benutzer gehört, haben wir eine E-Mail mit einem Link zum Festlegen eines neuen Passworts gesendet.');
    const reset = await waitFor(() => mailsTo(mailbox, 'erika@example.com').find((m) => extractLink(m.text, 'reset')), MAIL_WAIT_MS, 'the reset email');
    assert.equal(reset.subject, 'Passwort für latchkey zurücksetzen');
    const done = await setPasswordThroughLink(t, extractLink(reset.text, 'reset'), 'Kornblumenblau 2027',
      { locale: 'de-DE', heading: 'Neues Passwort festlegen', submit: 'Passwort festlegen und anmelden' });
    await done.getByRole('heading', { level: 1, name: 'Admin', exact: true }).waitFor();
    await announced(done, /Ihr neues Passwort ist festgelegt\. Sie sind angemeldet\./);
    page.assertClean();
    done.assertClean();
  });

  await step('Webservices → E-Mail auf Deutsch, ohne englischen Text', async () => {
    await nav(admin, 'Webservices');
    const sec = admin.locator('section#email');
    await sec.getByRole('heading', { name: 'E-Mail' }).waitFor();
    assert.equal(await sec.locator('[data-mail=transport]').textContent(), 'Ausgangsordner (kein SMTP-Server eingerichtet)');
    assert.equal(await sec.locator('[data-mail=target]').textContent(), outbox);
    await sec.locator('tbody tr[data-kind="password_reset"]').waitFor();
    const rows = await mailRows(admin);
    const byKind = (k) => rows.find((m) => m.to === 'erika@example.com' && m.kind === k);
    assert.equal(byKind('invitation')?.cells.kind, 'Einladung');
    assert.equal(byKind('invitation')?.cells.status, 'Gesendet');
    assert.equal(byKind('password_reset')?.cells.kind, 'Passwort zurücksetzen');
    // the delivery of an outbox message is the file written
    assert.ok(byKind('invitation').cells.details.startsWith(outbox), byKind('invitation').cells.details);
    const text = await admin.locator('#app').innerText();
    assert.deepEqual(ENGLISH_ONLY.filter((s) => text.includes(s)), [], `English text on the German page:\n${text}`);
  });

  admin.assertClean();
});

/* ---------------------------------------------------------------- 3. resend, replaced, used, delete */

test('Resend Invitation: a second email whose link works once; the first link is refused as replaced; Delete Invitation', async (t) => {
  const { srv, setupLink, mailbox } = await smtpConsole(t);
  const admin = await newPage(t);
  const step = stepper(t);
  let first;
  let second;

  await step('two invitations from the console', async () => {
    await setupAdmin(admin, setupLink);
    await nav(admin, 'Users & Roles', 'Users');
    await invite(admin, { email: 'bob@example.com', first: 'Bob', last: 'Builder', message: 'First message to Bob.' });
    await dialog(admin, 'Invitation sent').getByRole('button', { name: 'Done' }).click();
    await invite(admin, { email: 'carol@example.com', first: 'Carol', last: 'Shaw', message: 'Hello Carol, the first message.' });
    await dialog(admin, 'Invitation sent').getByRole('button', { name: 'Done' }).click();
    first = extractLink((await nthMailTo(mailbox, 'bob@example.com', 1)).text, 'invite');
    assert.ok(first);
    await nthMailTo(mailbox, 'carol@example.com', 1);
  });

  await step('a pending user\'s row offers Resend Invitation and Delete Invitation, nothing else', async () => {
    const r = row(admin, 'email', 'bob@example.com');
    assert.deepEqual(await r.locator('[data-col=actions] button').allTextContents(), ['Resend Invitation', 'Delete Invitation']);
  });

  await step('Resend Invitation with a new message: a second email with a new link', async () => {
    await row(admin, 'email', 'bob@example.com').getByRole('button', { name: 'Resend Invitation' }).click();
    const dlg = dialog(admin, 'Resend Invitation: bob@example.com');
    await dlg.getByText('bob@example.com gets a new invitation email with a new link. Links sent earlier stop working.').waitFor();
    await dlg.getByLabel('New message (optional)').fill('Second message: please use this link.');
    await dlg.getByRole('button', { name: 'Resend', exact: true }).click();
    await announced(admin, /^A new invitation email was sent to bob@example\.com\. Its link is valid until .+\.$/);
    await dlg.waitFor({ state: 'detached' });
    const mail = await nthMailTo(mailbox, 'bob@example.com', 2);
    assert.equal(mail.subject, 'Welcome to latchkey');
    assert.ok(mail.text.includes('Second message: please use this link.'), mail.text);
    assert.ok(!mail.text.includes('First message to Bob.'), mail.text);
    second = extractLink(mail.text, 'invite');
    assert.ok(second && second !== first, 'a new link');
    assert.equal(await row(admin, 'email', 'bob@example.com').locator('[data-col=status]').textContent(), 'Pending');
  });

  await step('the first link is refused as replaced, with the server\'s explanation', async () => {
    const page = await acceptLink(t, first, 'bridge engineer 1999');
    await page.locator('.form-error').getByText(
      'This invitation link is not valid any more (used, expired or replaced); ask an administrator for a new invitation.').waitFor();
    await page.getByRole('heading', { level: 1, name: 'Accept your invitation' }).waitFor();
    page.assertClean();
  });

  await step('the second link works, once', async () => {
    const page = await acceptLink(t, second, 'bridge engineer 1999');
    await signedInAs(page, 'bob@example.com');
    const again = await acceptLink(t, second, 'bridge engineer 2000');
    await again.getByText(/^This invitation link is not valid any more \(used, expired or replaced\)/).waitFor();
    // and the password set first stays
    const check = await http(srv, '/admin/api/login', { method: 'POST', body: { email: 'bob@example.com', password: 'bridge engineer 1999' } });
    assert.equal(check.status, 200, check.text);
    page.assertClean();
    again.assertClean();
  });

  await step('resending without a message sends the earlier message again', async () => {
    await admin.reload();
    await ready(admin);
    assert.equal(await row(admin, 'email', 'bob@example.com').locator('[data-col=status]').textContent(), 'Active');
    assert.equal(await row(admin, 'email', 'bob@example.com').getByRole('button', { name: 'Resend Invitation' }).count(), 0);
    await row(admin, 'email', 'carol@example.com').getByRole('button', { name: 'Resend Invitation' }).click();
    await dialog(admin, 'Resend Invitation: carol@example.com').getByRole('button', { name: 'Resend', exact: true }).click();
    await announced(admin, /A new invitation email was sent to carol@example\.com\./);
    const mail = await nthMailTo(mailbox, 'carol@example.com', 2);
    assert.ok(mail.text.includes('Hello Carol, the first message.'), mail.text);
  });

  await step('Delete Invitation: asks first; the pending user goes, and the link is refused', async () => {
    const link = extractLink(mailsTo(mailbox, 'carol@example.com')[1].text, 'invite');
    await row(admin, 'email', 'carol@example.com').getByRole('button', { name: 'Delete Invitation' }).click();
    let dlg = dialog(admin, 'Delete Invitation');
    await dlg.getByText('Delete the invitation of carol@example.com? The link in the email stops working and the pending user is removed.').waitFor();
    await dlg.getByRole('button', { name: 'Cancel' }).click();
    await dlg.waitFor({ state: 'detached' });
    await row(admin, 'email', 'carol@example.com').getByRole('button', { name: 'Delete Invitation' }).click();
    dlg = dialog(admin, 'Delete Invitation');
    await dlg.getByRole('button', { name: 'Delete Invitation' }).click();
    await announced(admin, /The invitation of carol@example\.com has been deleted\./);
    await row(admin, 'email', 'carol@example.com').waitFor({ state: 'detached' });
    const page = await acceptLink(t, link, 'chess master 1985');
    await page.getByText(/^This invitation link is not valid any more/).waitFor();
    page.assertClean();
  });

  admin.assertClean();
});

/* ---------------------------------------------------------------- 4. Reset Password by an admin */

test('Reset Password from the Users page: the email\'s link sets a new password and signs in; the old one stops', async (t) => {
  const { srv, db, setupLink, mailbox } = await outboxConsole(t);
  const admin = await newPage(t);
  const step = stepper(t);
  const OLD = 'original secret phrase 1';
  const NEW = 'brand new secret phrase 2';
  let link;

  await step('only an active person other than oneself is offered Reset Password', async () => {
    await setupAdmin(admin, setupLink);
    // Dave: an active person with a password of his own; an API-only user; a pending person
    await consoleReadyAdmin(srv, db, 'dave@example.com', OLD, { first: 'Dave', last: 'Dee' });
    cli(db, 'role', 'create', '--name', 'API Reader', '--permission', 'Read-Only Lead');
    cli(db, 'user', 'invite', '--email', 'robot@example.com', '--first', 'Ro', '--last', 'Bot', '--role', 'API Reader', '--api-only');
    cli(db, 'user', 'invite', '--email', 'pat@example.com', '--first', 'Pat', '--last', 'Pending', '--role', 'Admin');
    await nav(admin, 'Users & Roles', 'Users');
    await row(admin, 'email', 'dave@example.com').getByRole('button', { name: 'Reset Password' }).waitFor();
    for (const who of ['robot@example.com', 'pat@example.com', ADMIN.email])
      assert.equal(await row(admin, 'email', who).getByRole('button', { name: 'Reset Password' }).count(), 0, who);
  });

  await step('Reset Password asks first, then says where the email went', async () => {
    await row(admin, 'email', 'dave@example.com').getByRole('button', { name: 'Reset Password' }).click();
    const dlg = dialog(admin, 'Reset Password: dave@example.com');
    await dlg.getByText(/^Send dave@example\.com an email with a link to set a new password\?/).waitFor();
    await dlg.getByRole('button', { name: 'Send email' }).click();
    await announced(admin, /^A password reset email was sent to dave@example\.com\.$/);
    const mail = await waitFor(() => mailsTo(mailbox, 'dave@example.com').find((m) => extractLink(m.text, 'reset')), MAIL_WAIT_MS, 'the reset email');
    assert.equal(mail.subject, 'Reset your latchkey password');
    link = extractLink(mail.text, 'reset');
    assert.ok(link.startsWith(`${srv.url}/reset#`), link);
    assert.equal(extractLink(mail.html, 'reset'), link);
    // until the link is used the old password still works
    const before = await http(srv, '/admin/api/login', { method: 'POST', body: { email: 'dave@example.com', password: OLD } });
    assert.equal(before.status, 200, before.text);
  });

  await step('the /reset page: the rules, a refused password next to its field, then signed in', async () => {
    const page = await newPage(t);
    await page.goto(link);
    await ready(page);
    await page.getByRole('heading', { level: 1, name: 'Set a new password' }).waitFor();
    await page.getByText('At least 12 characters; it must not contain your name or the first part of your email address.').waitFor();
    await page.getByLabel('New password', { exact: true }).fill('dave is back again');
    await page.getByLabel('Repeat new password').fill('dave is back again');
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await page.locator('[data-field=password] .field-error:not([hidden])').waitFor();
    await page.getByLabel('New password', { exact: true }).fill(NEW);
    await page.getByLabel('Repeat new password').fill(NEW);
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await signedInAs(page, 'dave@example.com');
    await announced(page, /Your new password is set\. You are signed in\./);
    assert.ok(!page.url().includes('/reset'), `the token left the address bar: ${page.url()}`);
    page.assertClean();
  });

  await step('the old password no longer signs in; the new one does', async () => {
    const page = await newPage(t);
    await login(page, srv.url, 'dave@example.com', OLD);
    await page.getByText(/^Sign-in failed\./).waitFor();
    await login(page, srv.url, 'dave@example.com', NEW);
    await signedInAs(page, 'dave@example.com');
    page.assertClean();
  });

  await step('the used link explains itself and leads to sign-in and Forgot password', async () => {
    const page = await resetLink(t, link, 'yet another phrase 3');
    await page.locator('.form-error').getByText(
      'This password reset link is not valid any more (used, expired or replaced); ask for a new one on the sign-in page.').waitFor();
    await page.getByRole('link', { name: 'Go to sign-in' }).waitFor();
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.getByRole('heading', { level: 1, name: 'Reset your password' }).waitFor();
    // a link without a token
    const bare = await newPage(t);
    await bare.goto(`${srv.url}/reset`);
    await ready(bare);
    await bare.getByText('This password reset link is incomplete. Open the whole link from the email.').waitFor();
    page.assertClean();
    bare.assertClean();
  });

  admin.assertClean();
});

/* ---------------------------------------------------------------- 5. Forgot password */

test('Forgot password: the same answer for an unknown address, an API-only user and an active user; only the last gets an email', async (t) => {
  const { srv, db, setupLink, mailbox } = await smtpConsole(t);
  const admin = await newPage(t);
  await setupAdmin(admin, setupLink);
  await consoleReadyAdmin(srv, db, 'erin@example.com', 'first phrase of hers 1', { first: 'Erin', last: 'Moe' });
  cli(db, 'role', 'create', '--name', 'API Reader', '--permission', 'Read-Only Lead');
  cli(db, 'user', 'invite', '--email', 'robot@example.com', '--first', 'Ro', '--last', 'Bot', '--role', 'API Reader', '--api-only');
  const SAID = 'If this address belongs to an active user, we sent an email with a link to set a new password.';

  // the active user last: the mailer works in order, so once her email is there, any
  // email for the others would be there too
  const answers = [];
  for (const email of ['nobody@example.com', 'robot@example.com', 'erin@example.com']) {
    const page = await newPage(t);
    await page.goto(`${srv.url}/`);
    await ready(page);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.getByRole('heading', { level: 1, name: 'Reset your password' }).waitFor();
    await page.getByLabel('Email').fill(email);
    const sent = page.waitForResponse((r) => r.url().endsWith('/admin/api/password/forgot'));
    await page.getByRole('button', { name: 'Send link' }).click();
    const r = await sent;
    assert.equal(r.status(), 200);
    assert.deepEqual(JSON.parse(r.request().postData()), { email, lang: 'en' });
    answers.push(await page.locator('#forgot-sent').textContent());
    await page.getByRole('link', { name: 'Back to sign-in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    page.assertClean();
  }
  assert.deepEqual(answers, [SAID, SAID, SAID]);

  const mail = await mailbox.waitFor(to('erin@example.com'));
  await sleep(QUIET_MS);
  assert.equal(mail.subject, 'Reset your latchkey password');
  assert.deepEqual(mailsTo(mailbox, 'nobody@example.com'), []);
  assert.deepEqual(mailsTo(mailbox, 'robot@example.com'), []);
  assert.deepEqual(mailbox.messages().filter((m) => extractLink(m.text, 'reset')).map((m) => m.to), [mail.to]);

  // the queue shows the reset sent to Erin; the requests for the other two were queued alike
  // (the answer costs the same for every address) and cancelled: nobody active has them
  await nav(admin, 'Web Services');
  await admin.locator('#email tbody tr[data-kind="password_reset"][data-to="erin@example.com"]').waitFor();
  const rows = await mailRows(admin);
  const resets = Object.fromEntries(rows.filter((m) => m.kind === 'password_reset').map((m) => [m.to, m]));
  assert.deepEqual(Object.keys(resets).sort(), ['erin@example.com', 'nobody@example.com', 'robot@example.com']);
  assert.equal(resets['erin@example.com'].cells.status, 'Sent');
  for (const who of ['nobody@example.com', 'robot@example.com']) {
    assert.equal(resets[who].cells.status, 'Cancelled', who);
    assert.match(JSON.stringify(resets[who].cells), /no active person has this address/, who);
  }

  const page = await resetLink(t, extractLink(mail.text, 'reset'), 'second phrase of hers 2');
  await signedInAs(page, 'erin@example.com');
  page.assertClean();
  admin.assertClean();
});

test('Forgot password, sent too often from one address: the page says to wait', async (t) => {
  // every request counts against the address's sign-in allowance (login_fail_limit)
  const { srv } = await startConsole(t, { env: { LATCHKEY_LOGIN_FAIL_LIMIT: '2' } });
  const page = await newPage(t);
  await page.goto(`${srv.url}/#/forgot`);
  await ready(page);
  for (let i = 1; i <= 2; i++) {
    await page.getByRole('heading', { level: 1, name: 'Reset your password' }).waitFor();
    await page.getByLabel('Email').fill(`someone${i}@example.com`);
    await page.getByRole('button', { name: 'Send link' }).click();
    await page.locator('#forgot-sent').waitFor();
    await page.getByRole('link', { name: 'Back to sign-in' }).click();
    await page.getByRole('link', { name: 'Forgot password?' }).click();
  }
  await page.getByRole('heading', { level: 1, name: 'Reset your password' }).waitFor();
  await page.getByLabel('Email').fill('someone3@example.com');
  await page.getByRole('button', { name: 'Send link' }).click();
  await page.locator('.form-error').getByText('Too many attempts from this address. Please wait a little and try again.').waitFor();
  assert.equal(await page.getByLabel('Email').inputValue(), 'someone3@example.com', 'what was typed stays');
  page.assertClean();
});
