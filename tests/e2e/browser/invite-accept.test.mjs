// A person invited in the console opens the single-use link (/invite#TOKEN), chooses a
// password and is signed in; the link then works no more.
import { after, test } from 'node:test';
import { assert, closeBrowser, dialog, http, newPage, ready, row, setupAdmin, startConsole } from './browser-lib.mjs';

after(closeBrowser);

test('accepting an invitation through its link', async (t) => {
  const { srv, setupLink } = await startConsole(t);
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
  const link = await dialog(admin, 'Invitation sent').locator('#invitation-url').textContent();

  const page = await newPage(t);
  await page.goto(link);
  await ready(page);
  await page.getByRole('heading', { level: 1, name: 'Accept your invitation' }).waitFor();
  await page.getByLabel('New password', { exact: true }).fill('compiler pioneer 1952');
  await page.getByLabel('Repeat new password').fill('compiler pioneer 1952');
  await page.getByRole('button', { name: 'Set password and sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Admin', exact: true }).waitFor();
  assert.equal(await page.locator('.user-email').textContent(), 'grace@example.com');

  await dialog(admin, 'Invitation sent').getByRole('button', { name: 'Done' }).click();
  await admin.reload();
  await ready(admin);
  assert.equal(await row(admin, 'email', 'grace@example.com').locator('[data-col=status]').textContent(), 'Active');

  const again = await newPage(t);
  await again.goto(link);
  await ready(again);
  await again.getByLabel('New password', { exact: true }).fill('compiler pioneer 1952');
  await again.getByLabel('Repeat new password').fill('compiler pioneer 1952');
  await again.getByRole('button', { name: 'Set password and sign in' }).click();
  await again.getByText(/^This invitation link is not valid/).waitFor();
  for (const p of [admin, page, again]) p.assertClean();
});
