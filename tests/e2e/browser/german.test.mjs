// The administrator's path in German (browser language de-DE), the language switch in
// the header (remembered), and no English text left on the German pages.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import {
  ADMIN, announced, assert, closeBrowser, dialog, http, nav, newPage, ready, row, setupAdmin, startConsole, stepper,
} from './browser-lib.mjs';

after(closeBrowser);

const CONSOLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/console');
const EN = JSON.parse(fs.readFileSync(path.join(CONSOLE, 'i18n-en.json'), 'utf8'));
const DE = JSON.parse(fs.readFileSync(path.join(CONSOLE, 'i18n-de.json'), 'utf8'));
// English texts that a German page must not show (those that differ from the German ones,
// long enough not to be a name, without placeholders)
const ENGLISH_ONLY = Object.keys(EN).filter((k) => EN[k] !== DE[k] && EN[k].length >= 6 && !EN[k].includes('{'))
  .map((k) => EN[k]);

// data shown as it is in every language: permission names (the identifiers the CLI and
// the APIs use) and the descriptions of the built-in roles
async function dataTexts(page) {
  return page.evaluate(async () => {
    const perms = await (await fetch('/admin/api/permissions')).json();
    const roles = await (await fetch('/admin/api/roles')).json();
    return [...perms.map((p) => p.name), ...roles.filter((r) => r.type === 'system').map((r) => r.description)];
  });
}

async function assertNoEnglish(page, data = []) {
  const text = await page.evaluate(() => {
    const dlgs = [...document.querySelectorAll('dialog[open]')].map((d) => d.innerText);
    return [document.querySelector('#app').innerText, ...dlgs].join('\n');
  });
  const left = ENGLISH_ONLY.filter((s) => text.includes(s) && !data.some((d) => d.includes(s)));
  assert.deepEqual(left, [], `English text on a German page: ${JSON.stringify(left)}\n${text}`);
}

const API_USER = 'crm-sync@example.com';

test('the administrator\'s path in German', async (t) => {
  const { srv, setupLink } = await startConsole(t);
  const page = await newPage(t, { locale: 'de-DE' });
  const step = stepper(t);
  const data = ['API Only', 'CRM Sync', 'Nightly lead sync', API_USER];

  await step('Einrichtung des ersten Administrators', async () => {
    await page.goto(setupLink);
    await ready(page);
    assert.equal(await page.getAttribute('html', 'lang'), 'de');
    await page.getByRole('heading', { name: 'Ersten Administrator erstellen' }).waitFor();
    await assertNoEnglish(page, data);
    await setupAdmin(page, setupLink, ADMIN, { submit: 'Administrator erstellen', landing: 'Admin' });
    await page.getByText('Willkommen, Ada Lovelace.').waitFor();
    await page.locator('.cards').getByRole('link', { name: 'Benutzer und Rollen', exact: true }).waitFor();
    await page.locator('.cards').getByRole('link', { name: 'Prüfpfad', exact: true }).waitFor();
    await assertNoEnglish(page, data);
  });

  await step('Benutzer und Rollen → Rollen → Neue Rolle', async () => {
    data.push(...await dataTexts(page));
    await nav(page, 'Benutzer und Rollen', 'Rollen');
    await page.getByRole('button', { name: 'Neue Rolle' }).click();
    const dlg = dialog(page, 'Neue Rolle');
    await dlg.getByText('Admin-Zugriff', { exact: true }).waitFor();
    await dlg.getByText('API-Zugriff', { exact: true }).waitFor();
    await dlg.getByRole('button', { name: 'Erstellen' }).click();
    await dlg.getByText('Bitte füllen Sie dieses Feld aus.').waitFor();
    await dlg.getByLabel('Rollenname').fill('API Only');
    await dlg.locator('input[name=perm][value="Read-Only Lead"]').check();
    await assertNoEnglish(page, data);
    await dlg.getByRole('button', { name: 'Erstellen' }).click();
    await announced(page, /Rolle API Only erstellt/);
    assert.match(await row(page, 'role', 'API Only').textContent(), /Benutzerdefiniert/);
    await assertNoEnglish(page, data);
  });

  await step('Benutzer → Neuen Benutzer einladen, Nur API', async () => {
    await page.locator('nav.tabs').getByRole('link', { name: 'Benutzer', exact: true }).click();
    await page.getByRole('button', { name: 'Neuen Benutzer einladen' }).click();
    const dlg = dialog(page, 'Neuen Benutzer einladen');
    await dlg.getByText('Schritt 1 von 3: Benutzerinformationen').waitFor();
    await dlg.getByLabel('E-Mail').fill(API_USER);
    await dlg.getByLabel('Vorname').fill('CRM');
    await dlg.getByLabel('Nachname').fill('Sync');
    await assertNoEnglish(page, data);
    await dlg.getByRole('button', { name: 'Weiter', exact: true }).click();
    await dlg.getByText('Schritt 2 von 3: Berechtigungen').waitFor();
    await dlg.getByLabel('Rolle', { exact: true }).selectOption({ label: 'API Only (API-Berechtigungen)' });
    await dlg.getByLabel('Nur API', { exact: true }).check();
    await assertNoEnglish(page, data);
    await dlg.getByRole('button', { name: 'Weiter', exact: true }).click();
    await dlg.getByText('Für Nur-API-Benutzer ist keine Einladung erforderlich').waitFor();
    await assertNoEnglish(page, data);
    await dlg.getByRole('button', { name: 'Senden' }).click();
    await announced(page, /Nur-API-Benutzer crm-sync@example.com erstellt/);
    const r = row(page, 'email', API_USER);
    assert.equal(await r.locator('[data-col=apiOnly]').textContent(), 'Ja');
    assert.equal(await r.locator('[data-col=status]').textContent(), 'Aktiv');
    await page.getByRole('columnheader', { name: 'Nur API' }).waitFor();
    await page.getByRole('columnheader', { name: 'Letzte Anmeldung' }).waitFor();
    await assertNoEnglish(page, data);
  });

  let clientId;
  await step('LaunchPoint → Neuer Service → Details anzeigen → Token abrufen', async () => {
    await nav(page, 'LaunchPoint');
    await page.getByRole('button', { name: 'Neuer Service' }).click();
    const dlg = dialog(page, 'Neuer Service');
    await dlg.getByLabel('Anzeigename').fill('CRM Sync');
    assert.equal(await dlg.getByLabel('Service', { exact: true }).locator('option:checked').textContent(), 'Benutzerdefiniert');
    await dlg.getByLabel('Beschreibung').fill('Nightly lead sync');
    await dlg.getByLabel('Nur-API-Benutzer').selectOption(API_USER);
    await assertNoEnglish(page, data);
    await dlg.getByRole('button', { name: 'Erstellen' }).click();
    const done = dialog(page, 'CRM Sync');
    await done.getByText('Service CRM Sync erstellt.').waitFor();
    await done.getByText('Kopieren Sie das Client-Secret jetzt').waitFor();
    clientId = await done.locator('#client-id').textContent();
    await assertNoEnglish(page, data);
    await done.getByRole('button', { name: 'Fertig' }).click();
    await dialog(page, 'Client-Secret kopiert?').getByRole('button', { name: 'Ja, kopiert' }).click();
    await row(page, 'service', 'CRM Sync').getByRole('button', { name: 'Details anzeigen' }).click();
    const det = dialog(page, 'Details: CRM Sync');
    assert.equal(await det.locator('#client-id').textContent(), clientId);
    await det.getByRole('button', { name: 'Token abrufen' }).click();
    await det.locator('#access-token').waitFor();
    assert.match(await det.locator('#token-expiry').textContent(), /^Gültig bis .+ \(noch \d+ Minuten\)\.$/);
    await assertNoEnglish(page, data);
    const token = await det.locator('#access-token').textContent();
    const r = await http(srv, '/rest/v1/stats/usage.json', { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(r.json.success, true, r.text);
    await det.getByRole('button', { name: 'Schließen', exact: true }).last().click();
  });

  await step('Webservices, Prüfpfad, Anmeldeverlauf', async () => {
    await nav(page, 'Webservices');
    await page.getByRole('heading', { name: 'REST-API' }).waitFor();
    assert.match(await page.locator('#calls-7d').textContent(), /^Anfragen in den letzten 7 Tagen: [1-9]/);
    assert.equal(await page.locator('#ip-status').textContent(), 'IP-Beschränkungen sind deaktiviert');
    await page.getByRole('button', { name: 'IP-Beschränkungen bearbeiten' }).click();
    await dialog(page, 'IP-Beschränkungen bearbeiten').getByLabel('Zugelassene Adressen').waitFor();
    await assertNoEnglish(page, data);
    await dialog(page, 'IP-Beschränkungen bearbeiten').getByRole('button', { name: 'Abbrechen' }).click();
    await assertNoEnglish(page, data);

    await nav(page, 'Prüfpfad');
    await page.getByRole('heading', { level: 1, name: 'Prüfpfad' }).waitFor();
    const r = page.locator('tbody tr[data-area="Service"][data-action="Create"]');
    await r.waitFor();
    assert.equal(await r.locator('[data-col=area]').textContent(), 'Service');
    assert.equal(await r.locator('[data-col=action]').textContent(), 'Erstellen');
    assert.equal(await page.locator('tbody tr[data-area="User"] [data-col=area]').first().textContent(), 'Benutzer');
    await assertNoEnglish(page, data);

    await nav(page, 'Benutzer und Rollen', 'Anmeldeverlauf');
    await page.locator('tbody tr[data-success="true"] [data-col=result]').getByText('Erfolgreich').first().waitFor();
    await assertNoEnglish(page, data);
  });

  await step('die Sprache wechseln: English, gemerkt über das Neuladen hinaus', async () => {
    await page.getByLabel('Sprache').selectOption('en');
    await page.locator('nav.tabs').getByRole('link', { name: 'Login History' }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.reload();
    await ready(page);
    await page.locator('nav.main-nav').getByRole('link', { name: 'Users & Roles' }).waitFor();
    await page.getByLabel('Language').selectOption('de');
    await page.locator('nav.main-nav').getByRole('link', { name: 'Benutzer und Rollen' }).waitFor();
  });

  page.assertClean();
});

test('the language follows the browser: English for en-US, German for de-AT', async (t) => {
  const { srv } = await startConsole(t);
  for (const [locale, heading] of [['en-US', 'Sign in'], ['de-AT', 'Anmelden'], ['fr-FR', 'Sign in']]) {
    const page = await newPage(t, { locale });
    await page.goto(`${srv.url}/`);
    await ready(page);
    await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
    page.assertClean();
  }
});
