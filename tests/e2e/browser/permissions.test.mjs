// What a console user may do follows their Access Admin permissions: areas they may not
// use are not offered, their pages say "Not available", and the server refuses anyway; a
// refusal of the trust rules (docs/security.md) shows the server's reason, in German too.
import { after, test } from 'node:test';
import {
  assert, cli, closeBrowser, dialog, login, newPage, ready, row, setupAdmin, startConsole, stepper,
} from './browser-lib.mjs';

after(closeBrowser);

// signs in with a CLI-made one-time password and sets a new one; ends on Admin
async function firstSignIn(page, srv, email, oneTime, password) {
  await page.goto(`${srv.url}/`);
  await ready(page);
  await login(page, srv.url, email, oneTime);
  await page.getByLabel('Current password').fill(oneTime);
  await page.getByLabel('New password', { exact: true }).fill(password);
  await page.getByLabel('Repeat new password').fill(password);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByRole('heading', { level: 1, name: 'Admin', exact: true }).waitFor();
}

test('a user without Access Roles cannot see or reach role editing', async (t) => {
  const { srv, db, setupLink } = await startConsole(t);
  const admin = await newPage(t);
  await setupAdmin(admin, setupLink);
  cli(db, 'role', 'create', '--name', 'User Manager', '--permission', 'Access Users', '--permission', 'Access LaunchPoint');
  cli(db, 'role', 'create', '--name', 'Integrator', '--permission', 'Access LaunchPoint');
  cli(db, 'role', 'create', '--name', 'API Only', '--permission', 'Read-Only Lead');
  cli(db, 'user', 'invite', '--email', 'robot@example.com', '--first', 'Ro', '--last', 'Bot', '--role', 'API Only', '--api-only');
  const carol = cli(db, 'admin', 'create', '--email', 'carol@example.com', '--first', 'Carol', '--last', 'Keeper');
  cli(db, 'user', 'update', 'carol@example.com', '--add-role', 'User Manager', '--remove-role', 'Admin');
  const dan = cli(db, 'admin', 'create', '--email', 'dan@example.com', '--first', 'Dan', '--last', 'Builder');
  cli(db, 'user', 'update', 'dan@example.com', '--add-role', 'Integrator', '--remove-role', 'Admin');
  const step = stepper(t);
  const page = await newPage(t);

  await step('only the permitted areas are offered', async () => {
    await firstSignIn(page, srv, 'carol@example.com', carol.password, 'sturdy lantern 4711');
    const nav = await page.locator('nav.main-nav a').allTextContents();
    assert.deepEqual(nav, ['Admin', 'Users & Roles', 'LaunchPoint']);
    const cards = await page.locator('.cards > li h2').allTextContents();
    assert.deepEqual(cards, ['Users & Roles', 'LaunchPoint']);
    await page.locator('nav.main-nav').getByRole('link', { name: 'Users & Roles' }).click();
    await row(page, 'email', 'carol@example.com').waitFor();
    const tabs = await page.locator('nav.tabs a').allTextContents();
    assert.deepEqual(tabs, ['Users']);
  });

  await step('the Roles page is not reachable, and the server refuses role changes', async () => {
    await page.goto(`${srv.url}/#/roles`);
    await ready(page);
    await page.getByRole('heading', { level: 1, name: 'Not available' }).waitFor();
    await page.getByText('Your roles do not give you access to this page.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'New Role' }).count(), 0);
    for (const route of ['webservices', 'audit', 'logins']) {
      await page.goto(`${srv.url}/#/${route}`);
      await page.getByRole('heading', { level: 1, name: 'Not available' }).waitFor();
    }
    const r = await page.evaluate(async () => {
      const { csrf } = await (await fetch('/admin/api/session')).json();
      const post = await fetch('/admin/api/roles', {
        method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
        body: JSON.stringify({ name: 'Mine', permissions: ['Access Roles'] }),
      });
      const perms = await fetch('/admin/api/permissions');
      return { post: post.status, code: (await post.json()).error.code, perms: perms.status };
    });
    assert.deepEqual(r, { post: 403, code: 'forbidden', perms: 403 });
  });

  await step('inviting still offers the roles to grant, but no role editing', async () => {
    await page.goto(`${srv.url}/#/users`);
    await page.getByRole('button', { name: 'Invite New User' }).click();
    const dlg = dialog(page, 'Invite New User');
    await dlg.getByLabel('Email').fill('eve@example.com');
    await dlg.getByLabel('First Name').fill('Eve');
    await dlg.getByLabel('Last Name').fill('Example');
    await dlg.getByRole('button', { name: 'Next', exact: true }).click();
    const roles = await dlg.getByLabel('Role', { exact: true }).locator('option').allTextContents();
    assert.ok(roles.includes('API Only (API permissions)') && roles.includes('User Manager'), roles.join(' | '));
    await dlg.getByRole('button', { name: 'Cancel' }).click();
  });

  await step('LaunchPoint without Access Users: the API-only users are offered, but a service hands out the owner\'s permissions — refused with the reason', async () => {
    await page.locator('#logout').click();
    const other = await newPage(t);
    await firstSignIn(other, srv, 'dan@example.com', dan.password, 'granite window 2024');
    assert.deepEqual(await other.locator('nav.main-nav a').allTextContents(), ['Admin', 'LaunchPoint']);
    await other.locator('nav.main-nav').getByRole('link', { name: 'LaunchPoint' }).click();
    await other.getByRole('button', { name: 'New Service' }).click();
    let dlg = dialog(other, 'New Service');
    await dlg.getByLabel('Display Name').fill('Robot Feed');
    // the list comes from /admin/api/apiusers, which Access LaunchPoint may read
    await dlg.getByLabel('API Only User').selectOption('robot@example.com');
    await dlg.getByRole('button', { name: 'Create' }).click();
    // robot holds Read-Only Lead, which dan does not: the server's reason is shown
    await dlg.getByText("Access denied: you do not hold 'Read-Only Lead' in workspace 'AllZones', which robot@example.com holds").waitFor();
    await dlg.getByRole('button', { name: 'Cancel' }).click();

    // the same refusal in German
    const de = await newPage(t, { locale: 'de-DE' });
    await de.goto(`${srv.url}/`);
    await ready(de);
    await login(de, srv.url, 'dan@example.com', 'granite window 2024', { submit: 'Anmelden' });
    await de.locator('nav.main-nav').getByRole('link', { name: 'LaunchPoint' }).click();
    await de.getByRole('button', { name: 'Neuer Service' }).click();
    const deDlg = dialog(de, 'Neuer Service');
    await deDlg.getByLabel('Anzeigename').fill('Robot Feed');
    await deDlg.getByLabel('Nur-API-Benutzer').selectOption('robot@example.com');
    await deDlg.getByRole('button', { name: 'Erstellen' }).click();
    await deDlg.getByText('Zugriff verweigert: robot@example.com hat die Berechtigung „Read-Only Lead“ im Arbeitsbereich „AllZones“, Sie nicht.').waitFor();
    de.assertClean();

    // holding the owner's permissions, dan may
    cli(db, 'user', 'update', 'dan@example.com', '--add-role', 'API Only');
    await other.getByRole('button', { name: 'New Service' }).click();
    dlg = dialog(other, 'New Service');
    await dlg.getByLabel('Display Name').fill('Robot Feed');
    await dlg.getByLabel('API Only User').selectOption('robot@example.com');
    await dlg.getByRole('button', { name: 'Create' }).click();
    await dialog(other, 'Robot Feed').getByText('Service Robot Feed created.').waitFor();
    other.assertClean();
  });

  page.assertClean();
  admin.assertClean();
});
