// Takes the screenshots of docs/console.md (docs/img/console-*.png, 1280×800; one at a
// phone's 390×844) from a real
// server with a little data, driving the console as a person would:
//   LATCHKEY_BIN=build/latchkey node tests/e2e/browser/screenshots.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN, cli, closeBrowser, dialog, http, nav, newPage, ready, row, setupAdmin, startConsole } from './browser-lib.mjs';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/img');
fs.mkdirSync(OUT, { recursive: true });

// a stand-in for node:test's context: runs the after() callbacks at the end
const cleanups = [];
const t = { after: (fn) => cleanups.push(fn) };

async function shot(page, name) {
  const file = path.join(OUT, `console-${name}.png`);
  await page.waitForTimeout(150); // let the status line and focus rings settle
  await page.screenshot({ path: file });
  console.log(`${file} (${fs.statSync(file).size} bytes)`);
}

try {
  const { srv, db, setupLink } = await startConsole(t);
  const page = await newPage(t);
  await page.goto(setupLink);
  await ready(page);
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('First Name').fill(ADMIN.first);
  await page.getByLabel('Last Name').fill(ADMIN.last);
  await shot(page, 'setup');
  await setupAdmin(page, setupLink);
  await shot(page, 'admin');

  // some data made with the CLI, as another administrator might have
  cli(db, 'role', 'create', '--name', 'Sales Reader', '--description', 'Reads leads and companies',
    '--permission', 'Read-Only Lead', '--permission', 'Read-Only Company');
  cli(db, 'user', 'invite', '--email', 'marketing-bi@example.com', '--first', 'Marketing', '--last', 'BI',
    '--role', 'Sales Reader', '--api-only', '--reason', 'Dashboards');
  cli(db, 'user', 'invite', '--email', 'grace@example.com', '--first', 'Grace', '--last', 'Hopper', '--role', 'Admin');
  const bi = cli(db, 'service', 'create', '--name', 'BI Dashboards', '--user', 'marketing-bi@example.com',
    '--description', 'Hourly lead export');

  // New Role
  await nav(page, 'Users & Roles', 'Roles');
  await page.getByRole('button', { name: 'New Role' }).click();
  let dlg = dialog(page, 'New Role');
  await dlg.getByLabel('Role Name').fill('API Only');
  await dlg.getByLabel('Description').fill('CRM integration');
  for (const p of ['Read-Only Lead', 'Read-Write Lead', 'Read-Only Activity']) await dlg.locator(`input[name=perm][value="${p}"]`).check();
  await dlg.getByLabel('Filter permissions').fill('lead');
  await shot(page, 'new-role');
  await dlg.getByLabel('Filter permissions').fill('');
  await dlg.getByRole('button', { name: 'Create' }).click();
  await row(page, 'role', 'API Only').waitFor();
  await shot(page, 'roles');

  // Invite New User, step 2
  await page.locator('nav.tabs').getByRole('link', { name: 'Users' }).click();
  await page.getByRole('button', { name: 'Invite New User' }).click();
  dlg = dialog(page, 'Invite New User');
  await dlg.getByLabel('Email').fill('crm-sync@example.com');
  await dlg.getByLabel('First Name').fill('CRM');
  await dlg.getByLabel('Last Name').fill('Sync');
  await dlg.getByLabel('Reason').fill('Nightly CRM sync');
  await dlg.getByRole('button', { name: 'Next', exact: true }).click();
  await dlg.getByLabel('Role', { exact: true }).selectOption({ label: 'API Only (API permissions)' });
  await dlg.getByLabel('API Only', { exact: true }).check();
  await shot(page, 'invite');
  await dlg.getByRole('button', { name: 'Next', exact: true }).click();
  await dlg.getByRole('button', { name: 'Send' }).click();
  await row(page, 'email', 'crm-sync@example.com').waitFor();
  await shot(page, 'users');

  // New Service, then View Details → Get Token
  await nav(page, 'LaunchPoint');
  await page.getByRole('button', { name: 'New Service' }).click();
  dlg = dialog(page, 'New Service');
  await dlg.getByLabel('Display Name').fill('CRM Sync');
  await dlg.getByLabel('Description').fill('Nightly lead sync');
  await dlg.getByLabel('API Only User').selectOption('crm-sync@example.com');
  await dlg.getByRole('button', { name: 'Create' }).click();
  await dialog(page, 'CRM Sync').getByText('Service CRM Sync created.').waitFor();
  await shot(page, 'new-service');
  await dialog(page, 'CRM Sync').getByRole('button', { name: 'Done' }).click();
  await dialog(page, 'Copied the client secret?').getByRole('button', { name: 'Yes, I copied it' }).click();
  await row(page, 'service', 'CRM Sync').getByRole('button', { name: 'View Details' }).click();
  dlg = dialog(page, 'Details: CRM Sync');
  await dlg.getByRole('button', { name: 'Get Token' }).click();
  await dlg.locator('#access-token').waitFor();
  await shot(page, 'details');
  const token = await dlg.locator('#access-token').textContent();
  await dlg.getByRole('button', { name: 'Close', exact: true }).last().click();

  // some traffic for the chart
  for (let i = 0; i < 12; i++) await http(srv, '/rest/v1/stats/usage.json', { headers: { Authorization: `Bearer ${token}` } });
  const id = await http(srv, `/identity/oauth/token?grant_type=client_credentials&client_id=${bi.service.clientId}&client_secret=${bi.clientSecret}`);
  for (let i = 0; i < 5; i++) await http(srv, '/rest/v1/stats/errors.json', { headers: { Authorization: `Bearer ${id.json.access_token}` } });
  cli(db, 'allowlist', 'add', '10.20.0.0/16');
  cli(db, 'allowlist', 'add', '127.0.0.1');

  await nav(page, 'Web Services');
  await page.locator('#api-calls tbody tr').first().waitFor();
  await shot(page, 'webservices');
  // the Email section: where mail goes and the queue (Grace's invitation, written to the outbox)
  await page.locator('#email tbody tr[data-to="grace@example.com"]').waitFor();
  await page.locator('#email').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await shot(page, 'webservices-email');
  await page.evaluate(() => window.scrollTo(0, 0));
  await nav(page, 'Audit Trail');
  await page.locator('tbody tr[data-area]').first().waitFor();
  await shot(page, 'audit');

  // the same in German
  await page.getByLabel('Language').selectOption('de');
  await nav(page, 'Benutzer und Rollen', 'Benutzer');
  await row(page, 'email', 'crm-sync@example.com').waitFor();
  await shot(page, 'users-de');
  await page.getByLabel('Sprache').selectOption('en');

  // a phone's width: the Users list stacks its rows, every action within reach
  const phone = await newPage(t, { viewport: { width: 390, height: 844 } });
  await phone.context().addCookies(await page.context().cookies());
  await phone.goto(`${srv.url}/#/users`);
  await ready(phone);
  await row(phone, 'email', 'crm-sync@example.com').waitFor();
  await shot(phone, 'users-phone');
} finally {
  for (const fn of cleanups.reverse()) await fn();
  await closeBrowser();
}
