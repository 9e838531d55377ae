// The Web Services page shows the gateway's route table read-only (docs/gateway.md), in
// English and German: what `latchkey route` keeps, as the administrator sees it, with the
// audit trail's route events translated; accessible in both languages.
import { after, test } from 'node:test';
import {
  assert, assertAccessible, cli, closeBrowser, nav, newPage, ready, row, setupAdmin, startConsole, stepper,
} from './browser-lib.mjs';

after(closeBrowser);

// the visible cells of a route's row
const cells = async (page, method, pattern) =>
  (await page.locator(`#gateway-routes tbody tr[data-method="${method}"][data-pattern="${pattern}"] td`).allInnerTexts()).map((s) => s.trim());

test('the Web Services page lists the gateway routes, read-only, in English and German', async (t) => {
  const { srv, db, setupLink } = await startConsole(t);
  const step = stepper(t);
  const page = await newPage(t);

  await step('no routes yet: the page says every call is refused', async () => {
    await setupAdmin(page, setupLink);
    await nav(page, 'Web Services');
    await page.getByRole('heading', { level: 2, name: 'Gateway Routes' }).waitFor();
    await page.locator('#gateway-routes').getByText('No routes: a gateway asking latchkey refuses every call.').waitFor();
  });

  await step('routes added with the CLI appear with their permissions and refusal style', async () => {
    cli(db, 'route', 'import', 'marketo');
    cli(db, 'route', 'add', '/api/v2/orders/{id}', '--method', 'GET', '--permission', 'Read-Only Opportunity',
      '--permission', 'Read-Write Opportunity', '--plain');
    cli(db, 'route', 'add', '/api/v2/*', '--method', '*', '--permission', 'none', '--plain');
    await page.reload();
    await ready(page);
    await row(page.locator('#gateway-routes'), 'pattern', '/api/v2/*').waitFor();
    assert.deepEqual(await cells(page, 'GET', '/rest/v1/leads.json'),
      ['GET', '/rest/v1/leads.json', 'Read-Only Lead or Read-Write Lead', 'Marketo envelope']);
    assert.deepEqual(await cells(page, 'GET', '/api/v2/orders/{id}'),
      ['GET', '/api/v2/orders/{id}', 'Read-Only Opportunity or Read-Write Opportunity', 'HTTP status']);
    assert.deepEqual(await cells(page, '*', '/api/v2/*'), ['any', '/api/v2/*', 'none (any valid token)', 'HTTP status']);
    assert.equal(await page.locator('#gateway-routes tbody tr').count(), 111, 'Marketo\'s 109 routes and the two added');
    // read-only: no button or form in the section
    assert.equal(await page.locator('#gateway-routes button, #gateway-routes form, #gateway-routes input').count(), 0);
    await assertAccessible(page, 'Web Services with routes');
  });

  await step('the audit trail shows the route changes', async () => {
    await nav(page, 'Audit Trail');
    await page.locator('tbody tr').filter({ hasText: 'Import Routes' }).first().waitFor();
    await page.locator('tbody tr').filter({ hasText: 'Add Route' }).first().waitFor();
  });

  await step('in German', async () => {
    const de = await newPage(t, { locale: 'de-DE' });
    await de.goto(`${srv.url}/`);
    await ready(de);
    await de.getByLabel('E-Mail').fill('ada@example.com');
    await de.getByLabel('Passwort').fill('correct horse battery staple');
    await de.getByRole('button', { name: 'Anmelden' }).click();
    await nav(de, 'Webservices');
    await de.getByRole('heading', { level: 2, name: 'Gateway-Routen' }).waitFor();
    await row(de.locator('#gateway-routes'), 'pattern', '/api/v2/*').waitFor();
    assert.deepEqual(await cells(de, 'GET', '/rest/v1/leads.json'),
      ['GET', '/rest/v1/leads.json', 'Read-Only Lead oder Read-Write Lead', 'Marketo-Antwort']);
    assert.deepEqual(await cells(de, '*', '/api/v2/*'), ['alle', '/api/v2/*', 'keine (jedes gültige Token)', 'HTTP-Status']);
    const heads = (await de.locator('#gateway-routes thead th').allInnerTexts()).map((s) => s.trim());
    assert.deepEqual(heads, ['Methode', 'Pfad', 'Nötige Berechtigung', 'Ablehnungen']);
    await assertAccessible(de, 'Webservices mit Routen');
    await nav(de, 'Prüfpfad');
    await de.locator('tbody tr').filter({ hasText: 'Routen importieren' }).first().waitFor();
  });
});
