// A person invited in the console gets the single-use link (/invite#TOKEN) by email only
// (here: the outbox folder of a server without SMTP), chooses a password and is signed
// in; the link then works no more, nor once it has expired.
import path from 'node:path';
import { after, test } from 'node:test';
import { extractLink, readOutbox, waitFor } from '../mail-lib.mjs';
import { sql } from '../lib.mjs';
import { assert, cli, closeBrowser, dialog, http, newPage, ready, row, setupAdmin, startConsole } from './browser-lib.mjs';

after(closeBrowser);

test('accepting an invitation through the link of its email', async (t) => {
  const { srv, db, setupLink } = await startConsole(t);
  const outbox = path.join(db.dir, 'outbox'); // no smtp_host: .eml files next to the database
  // a token that is not one is refused before anything else
  const probe = await http(srv, '/admin/api/invitation', { method: 'POST', body: { token: 'x', password: 'y' } });
  assert.equal(probe.status, 401);
  const admin = await newPage(t);
  await setupAdmin(admin, setupLink);
  await admin.locator('nav.main-nav').getByRole('link', { name: 'Users & Roles' }).click();
  await admin.getByRole('button', { name: 'Invite New User' }).click();
  const dlg = dialog(admin, 'Invite New User');
  await dlg.getByLabel('Email').fill('grace@example.com');
  await dlg.getByLabel('First Name').fill('Grace');
  await dlg.getByLabel('Last Name').fill('Hopper');
  await dlg.getByRole('button', { name: 'Next', exact: true }).click();
  await dlg.getByLabel('Role', { exact: true }).selectOption({ label: 'Admin' });
  await dlg.getByRole('button', { name: 'Next', exact: true }).click();
  await dlg.getByRole('button', { name: 'Send' }).click();
  // the console says where the link went and until when it works, and never shows it
  const sent = dialog(admin, 'Invitation sent');
  await sent.getByText('An invitation email was sent to grace@example.com.').waitFor();
  assert.match(await sent.locator('#invitation-expires').textContent(), /^Its link can be used once and is valid until .*\d{4}.*\.$/);
  assert.doesNotMatch(await sent.textContent(), /\/invite#/);
  assert.equal(await sent.locator('#invitation-url').count(), 0);

  const mail = await waitFor(() => readOutbox(outbox).find((m) => m.to.includes('grace@example.com') && /invite#/.test(m.text)),
    15_000, 'the invitation email in the outbox');
  const link = extractLink(mail.text, 'invite');
  assert.ok(link && link.startsWith(`${srv.url}/invite#`), `a link to this server in: ${mail.text}`);

  const page = await newPage(t);
  await page.goto(link);
  await ready(page);
  await page.getByRole('heading', { level: 1, name: 'Accept your invitation' }).waitFor();
  await page.getByLabel('New password', { exact: true }).fill('compiler pioneer 1952');
  await page.getByLabel('Repeat new password').fill('compiler pioneer 1952');
  await page.getByRole('button', { name: 'Set password and sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Admin', exact: true }).waitFor();
  assert.equal(await page.locator('.user-email').textContent(), 'grace@example.com');

  await sent.getByRole('button', { name: 'Done' }).click();
  await admin.reload();
  await ready(admin);
  assert.equal(await row(admin, 'email', 'grace@example.com').locator('[data-col=status]').textContent(), 'Active');

  // used once: the server's explanation, which says to ask for a new invitation
  const again = await newPage(t);
  await again.goto(link);
  await ready(again);
  await again.getByLabel('New password', { exact: true }).fill('compiler pioneer 1952');
  await again.getByLabel('Repeat new password').fill('compiler pioneer 1952');
  await again.getByRole('button', { name: 'Set password and sign in' }).click();
  await again.getByText(/^This invitation link is not valid any more \(used, expired or replaced\); ask an administrator for a new invitation\.$/).waitFor();

  // a link without its token
  const bare = await newPage(t);
  await bare.goto(`${srv.url}/invite`);
  await ready(bare);
  await bare.getByText('This invitation link is incomplete. Open the whole link from the invitation email.').waitFor();
  for (const p of [admin, page, again, bare]) p.assertClean();
});

test('an expired invitation link explains itself and leaves the person pending', async (t) => {
  const { srv, db } = await startConsole(t);
  const outbox = path.join(db.dir, 'outbox');
  cli(db, 'user', 'invite', '--email', 'kay@example.com', '--first', 'Kay', '--last', 'Moore', '--role', 'Admin');
  const mail = await waitFor(() => readOutbox(outbox).find((m) => m.to.includes('kay@example.com') && /invite#/.test(m.text)),
    15_000, 'the invitation email in the outbox');
  const link = extractLink(mail.text, 'invite');
  // the link's time is up (as if invite_ttl had passed): the server reads the expiry at acceptance
  sql(db, "UPDATE invitations SET expires_at = strftime('%s','now') - 1 WHERE user_id = "
    + "(SELECT id FROM users WHERE email = 'kay@example.com')");
  const page = await newPage(t);
  await page.goto(link);
  await ready(page);
  await page.getByLabel('New password', { exact: true }).fill('ethernet inventor 1973');
  await page.getByLabel('Repeat new password').fill('ethernet inventor 1973');
  await page.getByRole('button', { name: 'Set password and sign in' }).click();
  await page.getByText(/^This invitation link is not valid any more \(used, expired or replaced\); ask an administrator for a new invitation\.$/).waitFor();
  assert.deepEqual(sql(db, "SELECT status FROM users WHERE email = 'kay@example.com'"), [{ status: 'pending' }]);
  page.assertClean();
});
