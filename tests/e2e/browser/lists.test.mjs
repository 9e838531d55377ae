// The console's lists in a browser (docs/console.md#lists): Users and LaunchPoint show a
// page at a time with "from–to of total", Next and Previous, a search and filters that
// the server applies; a role's holder count links to them; New Service finds its API-only
// user as the administrator types; the Audit Trail's CSV download joins the server's
// pages; the email queue is searched by recipient; the pager speaks German too.
import fs from 'node:fs';
import { after, test } from 'node:test';
import {
  assert, cli, closeBrowser, dialog, nav, newPage, row, setupAdmin, startConsole, stepper,
} from './browser-lib.mjs';
import { benchEmail, seedApiUsers } from '../seed-lib.mjs';

after(closeBrowser);

const N = 130; // API-only users bench-1 … bench-130, a service each: three pages of 50

test('paged lists: Users, role holders, LaunchPoint, the New Service picker, CSV pages, German', async (t) => {
  const { srv, db, setupLink } = await startConsole(t);
  const page = await newPage(t);
  await setupAdmin(page, setupLink);
  const role = cli(db, 'role', 'create', '--name', 'API Only', '--permission', 'Read-Only Lead').role;
  cli(db, 'role', 'create', '--name', 'Console', '--permission', 'Access Users');
  seedApiUsers(db, N, role.id);
  cli(db, 'user', 'invite', '--email', 'grace@example.com', '--first', 'Grace', '--last', 'Hopper', '--role', 'Console');
  const step = stepper(t);
  const count = () => page.locator('#user-list-count').textContent();
  const emailsShown = async () => page.locator('#user-list tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.email));

  await step('Users: the first page of 50, the total, Next and Previous', async () => {
    await nav(page, 'Users & Roles');
    await page.locator('#user-list tbody tr').first().waitFor();
    assert.equal(await count(), `1–50 of ${N + 2} users`);
    assert.deepEqual(await emailsShown(), ['ada@example.com', ...Array.from({ length: 49 }, (_, i) => benchEmail(i + 1))]);
    const pager = page.getByRole('navigation', { name: 'Pages' }).first();
    assert.equal(await pager.getByRole('button', { name: 'Previous' }).isDisabled(), true);
    await pager.getByRole('button', { name: 'Next' }).click();
    await page.getByText(`51–100 of ${N + 2} users`).waitFor();
    assert.equal((await emailsShown())[0], benchEmail(50));
    assert.equal(await pager.locator('.pager-where').textContent(), 'Page 2');
    await pager.getByRole('button', { name: 'Next' }).click();
    await page.getByText(`101–${N + 2} of ${N + 2} users`).waitFor();
    assert.equal(await pager.getByRole('button', { name: 'Next' }).isDisabled(), true);
    assert.ok((await emailsShown()).includes('grace@example.com'));
    await pager.getByRole('button', { name: 'Previous' }).click();
    await page.getByText(`51–100 of ${N + 2} users`).waitFor();
  });

  await step('Users: search and filters run on the server and start again at page 1', async () => {
    await page.getByLabel('Search users').fill('bench-12');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('11 users', { exact: true }).waitFor(); // bench-12, bench-120 … bench-129
    assert.deepEqual(await emailsShown(), [12, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129].map(benchEmail));
    assert.equal(await page.getByRole('navigation', { name: 'Pages' }).first().isHidden(), true, 'one page: no pager');
    await page.getByLabel('Search users').fill('');
    await page.locator('#user-api-only').selectOption({ label: 'People' });
    await page.getByText('2 users', { exact: true }).waitFor();
    assert.deepEqual(await emailsShown(), ['ada@example.com', 'grace@example.com']);
    await page.locator('#user-status').selectOption({ label: 'Pending' });
    await page.getByText('1 user', { exact: true }).waitFor();
    assert.deepEqual(await emailsShown(), ['grace@example.com']);
    assert.match(page.url(), /#\/users\?apiOnly=false&status=pending$/);
  });

  await step('Roles: a role\'s holder count leads to its holders, page by page', async () => {
    await page.locator('nav.tabs').getByRole('link', { name: 'Roles', exact: true }).click();
    const holders = row(page, 'role', 'API Only').locator('[data-col=holders] a');
    assert.equal(await holders.textContent(), String(N));
    await holders.click();
    await page.locator('#user-list tbody tr').first().waitFor();
    assert.equal(await count(), `1–50 of ${N} users`);
    assert.equal(await page.locator('#user-role option:checked').textContent(), 'API Only');
    assert.ok((await emailsShown()).every((e) => e.startsWith('bench-')));
  });

  await step('LaunchPoint: pages of services and a search', async () => {
    await nav(page, 'LaunchPoint');
    await page.locator('#service-list tbody tr').first().waitFor();
    assert.equal(await page.locator('#service-list-count').textContent(), `1–50 of ${N} services`);
    await page.getByLabel('Search services').fill(benchEmail(77));
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('1 service', { exact: true }).waitFor();
    assert.equal(await row(page, 'service', 'bench-77').count(), 1);
    await page.getByLabel('Search services').fill('no such service');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('No services match.').waitFor();
  });

  await step('New Service: the API-only user is found by typing, not picked from every user', async () => {
    await page.getByRole('button', { name: 'New Service' }).click();
    const dlg = dialog(page, 'New Service');
    const select = dlg.getByLabel('API Only User');
    await select.locator('option').nth(1).waitFor({ state: 'attached' });
    assert.equal(await select.locator('option').count(), 51, 'the first 50 and "Choose"');
    assert.match(await dlg.locator('#api-user-more').textContent(), /More match \(130 users in all\)/);
    await dlg.getByLabel('Find an API-only user').fill('bench-129');
    await dlg.locator('#api-user-more').waitFor({ state: 'hidden' });
    await select.locator(`option[value="${benchEmail(129)}"]`).waitFor({ state: 'attached' });
    assert.equal(await select.locator('option').count(), 2);
    await dlg.getByLabel('Find an API-only user').press('Enter'); // searches; does not submit
    await dlg.getByLabel('Display Name').fill('Found By Typing');
    await select.selectOption(benchEmail(129));
    await dlg.getByRole('button', { name: 'Create' }).click();
    await dialog(page, 'Found By Typing').getByText('Service Found By Typing created.').waitFor();
    await dialog(page, 'Found By Typing').getByRole('button', { name: 'Done' }).click();
    await dialog(page, 'Copied the client secret?').getByRole('button', { name: 'Yes, I copied it' }).click();
    const svc = cli(db, 'service', 'show', 'Found By Typing').service;
    assert.equal(svc.user, benchEmail(129));
  });

  await step('Audit Trail: the CSV download joins the server\'s pages into one file', async () => {
    await nav(page, 'Audit Trail');
    await page.locator('#audit-list tbody tr').first().waitFor();
    const total = Number(/of (\d+) events|^(\d+) events$/.exec(await page.locator('#audit-list-count').textContent()).slice(1).find(Boolean));
    assert.ok(total >= 3, `events: ${total}`);
    // the console asks for pages of 1,000; two make this download take several pages
    await page.locator('#audit-csv').evaluate((a) => { a.setAttribute('href', a.getAttribute('href').replace('limit=1000', 'limit=2')); });
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#audit-csv').click()]);
    assert.equal(download.suggestedFilename(), 'audit-trail.csv');
    const text = fs.readFileSync(await download.path(), 'utf8');
    const lines = text.split('\r\n').filter(Boolean);
    assert.equal(lines.filter((l) => l.startsWith('time,actor')).length, 1, 'one header row');
    assert.equal(lines.length - 1, total, 'every event of the period');
    assert.ok(text.includes('"Found By Typing"'));
  });

  await step('Web Services: the email queue is searched by recipient', async () => {
    await nav(page, 'Web Services');
    const sec = page.locator('#email');
    await sec.locator('#mail-count').waitFor();
    await sec.getByLabel('Search recipients').fill('GRACE@');
    await sec.getByRole('button', { name: 'Search', exact: true }).click();
    await sec.getByText('1 message', { exact: true }).waitFor();
    assert.deepEqual(await sec.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.to)), ['grace@example.com']);
    await sec.getByLabel('Search recipients').fill('nobody-here');
    await sec.getByRole('button', { name: 'Search', exact: true }).click();
    await sec.locator('td.empty').waitFor();
  });

  await step('German: the count and the pager', async () => {
    await page.getByLabel('Language').selectOption('de');
    await page.locator('nav.main-nav').getByRole('link', { name: 'LaunchPoint', exact: true }).click();
    await page.getByText(`1–50 von ${N + 1} Services`).waitFor();
    const pager = page.getByRole('navigation', { name: 'Seiten' });
    await pager.getByRole('button', { name: 'Nächste' }).click();
    await page.getByText(`51–100 von ${N + 1} Services`).waitFor();
    assert.equal(await pager.locator('.pager-where').textContent(), 'Seite 2');
    assert.equal(await pager.getByRole('button', { name: 'Vorherige' }).isDisabled(), false);
  });

  page.assertClean();
});
