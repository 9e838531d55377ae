// The console's flow as a Marketo admin expects it (issue "Marketo fidelity and the
// console, polished"): the invite wizard refuses at step 1 an expiry in the past and at
// step 2 an API-only user without a role carrying Access API permissions (such roles are
// marked); Edit Service; Clone Role; the permission picker's filter box; the curl line's
// copy button; the "copied?" question before a secret shown once goes; the console at
// 390 px; and the German console: the server's reasons translated, dates and lifetimes,
// the audit trail's Email area, the skip link.
import { after, test } from 'node:test';
import {
  ADMIN, announced, assert, assertAccessible, cli, closeBrowser, dialog, http, nav, newPage, ready, row, setupAdmin, startConsole,
  stepper,
} from './browser-lib.mjs';

after(closeBrowser);

const API_USER = 'crm-sync@example.com';

// a console with its first administrator signed in, an API role "API Only", a role
// without Access API permissions "Readers Console", an API-only user and its service
async function seeded(t, { locale = 'en-US', viewport, setupLabels, timezoneId } = {}) {
  const { srv, db, setupLink } = await startConsole(t);
  cli(db, 'role', 'create', '--name', 'API Only', '--description', 'integrations', '--permission', 'Read-Only Lead',
    '--permission', 'Read-Write Lead');
  cli(db, 'role', 'create', '--name', 'Readers Console', '--permission', 'Access Audit Trail');
  cli(db, 'user', 'invite', '--email', API_USER, '--first', 'CRM', '--last', 'Sync', '--role', 'API Only', '--api-only');
  const svc = cli(db, 'service', 'create', '--name', 'CRM Sync', '--user', API_USER, '--description', 'nightly');
  const page = await newPage(t, { locale, viewport, timezoneId });
  await setupAdmin(page, setupLink, ADMIN, setupLabels);
  return { srv, db, page, svc };
}

test('Invite New User: step 1 refuses an expiry in the past, step 2 an API-only user without an Access API role', async (t) => {
  const { page } = await seeded(t);
  await nav(page, 'Users & Roles', 'Users');
  await page.getByRole('button', { name: 'Invite New User' }).click();
  const dlg = dialog(page, 'Invite New User');
  await dlg.getByLabel('Email').fill('bot@example.com');
  await dlg.getByLabel('First Name').fill('Bot');
  await dlg.getByLabel('Last Name').fill('One');
  // the field says from when and in which form
  const expires = dlg.getByLabel('Access Expires');
  const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  assert.match(await dlg.locator('[data-field=expiresAt] .hint').textContent(), /Earliest: .+\. Format: YYYY-MM-DD\./);
  await expires.fill('2020-01-31');
  await dlg.getByRole('button', { name: 'Next' }).click();
  await dlg.locator('[data-field=expiresAt] .field-error').getByText(/^Choose a date from .+ on: the access must end in the future\.$/).waitFor();
  assert.ok(await dlg.locator('section[data-step="1"]').isVisible(), 'still on step 1');
  await expires.fill('31/12/2030');
  await dlg.getByRole('button', { name: 'Next' }).click();
  await dlg.locator('[data-field=expiresAt] .field-error').getByText('Enter a date as YYYY-MM-DD.').waitFor();
  await expires.fill(tomorrow);
  await dlg.getByRole('button', { name: 'Next' }).click();
  await dlg.getByText('Step 2 of 3: Permissions').waitFor();
  // the roles that carry Access API permissions are marked
  const options = await dlg.getByLabel('Role', { exact: true }).locator('option').allTextContents();
  assert.ok(options.includes('API Only (API permissions)'), `options: ${options}`);
  assert.ok(options.includes('Readers Console') && options.includes('Admin'), `unmarked: ${options}`);
  await dlg.getByLabel('Role', { exact: true }).selectOption({ label: 'Readers Console' });
  await dlg.getByLabel('API Only', { exact: true }).check();
  await dlg.getByRole('button', { name: 'Next' }).click();
  await dlg.locator('[data-field=grants] > .field-error').getByText(/^An API-only user needs at least one role with Access API permissions/).waitFor();
  assert.ok(await dlg.locator('section[data-step="2"]').isVisible(), 'still on step 2');
  // another role with API permissions beside it is enough
  await dlg.getByRole('button', { name: 'Add another role' }).click();
  await dlg.getByLabel('Role', { exact: true }).last().selectOption({ label: 'API Only (API permissions)' });
  await dlg.getByRole('button', { name: 'Next' }).click();
  await dlg.getByText('Step 3 of 3: Message').waitFor();
  await dlg.getByRole('button', { name: 'Send' }).click();
  await announced(page, /API-only user bot@example.com created/);
  const r = row(page, 'email', 'bot@example.com');
  const roles = (await r.locator('[data-col=roles]').textContent()).split(', ').sort();
  assert.deepEqual(roles, ['API Only (All workspaces)', 'Readers Console (All workspaces)']);
  page.assertClean();
});

test('Edit Service, Clone Role, the permission filter, the curl line\'s copy button and "copied?"', async (t) => {
  const { srv, db, page, svc } = await seeded(t);
  const step = stepper(t);

  await step('Edit Service: a new display name and description; the secret and the token stay', async () => {
    const tok = (await http(srv, `/identity/oauth/token?grant_type=client_credentials&client_id=${svc.service.clientId}&client_secret=${svc.clientSecret}`)).json.access_token;
    await nav(page, 'LaunchPoint');
    await row(page, 'service', 'CRM Sync').locator('[data-action=edit]').click();
    const dlg = dialog(page, 'Edit Service: CRM Sync');
    assert.equal(await dlg.getByLabel('Display Name').inputValue(), 'CRM Sync');
    await dlg.getByLabel('Display Name').fill('CRM Nightly');
    await dlg.getByLabel('Description').fill('leads, every night');
    await dlg.getByRole('button', { name: 'Save' }).click();
    await announced(page, /Service CRM Nightly saved/);
    const r = row(page, 'service', 'CRM Nightly');
    assert.equal(await r.locator('[data-col=description]').textContent(), 'leads, every night');
    const again = await http(srv, `/identity/oauth/token?grant_type=client_credentials&client_id=${svc.service.clientId}&client_secret=${svc.clientSecret}`);
    assert.equal(again.json.access_token, tok, 'the same secret gives the same token');
    // an empty name, and a name another service has, are refused next to the field, with
    // what was typed kept
    cli(db, 'service', 'create', '--name', 'ERP Sync', '--user', API_USER);
    await r.locator('[data-action=edit]').click();
    const d2 = dialog(page, 'Edit Service: CRM Nightly');
    await d2.getByLabel('Display Name').fill('');
    await d2.getByRole('button', { name: 'Save' }).click();
    await d2.locator('[data-field=name] .field-error').getByText('Please fill in this field.').waitFor();
    await d2.getByLabel('Display Name').fill('erp sync');
    await d2.getByRole('button', { name: 'Save' }).click();
    await d2.locator('[data-field=name] .field-error').getByText('This name is already in use.').waitFor();
    assert.equal(await d2.getByLabel('Display Name').inputValue(), 'erp sync');
    await d2.getByRole('button', { name: 'Cancel' }).click();
    await d2.waitFor({ state: 'detached' });
    cli(db, 'service', 'delete', 'ERP Sync');
    assert.equal(await row(page, 'service', 'CRM Nightly').locator('[data-col=description]').textContent(), 'leads, every night', 'nothing changed');
  });

  await step('View Details → Get Token: the curl line has a copy button', async () => {
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.url });
    await row(page, 'service', 'CRM Nightly').locator('[data-action=details]').click();
    const dlg = dialog(page, 'Details: CRM Nightly');
    await dlg.getByRole('button', { name: 'Get Token' }).click();
    const curl = dlg.locator('#curl-line');
    await curl.waitFor();
    const line = await curl.textContent();
    assert.match(line, /^curl -H 'Authorization: Bearer \S+' http:\/\/.+\/rest\/v1\/stats\/usage\.json$/);
    assert.match(await dlg.locator('#token-expiry').textContent(), /\((59|60) minutes left\)\.$/, 'the lifetime in minutes');
    await curl.locator('xpath=..').getByRole('button', { name: 'Copy' }).click();
    await curl.locator('xpath=..').getByText('Copied.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), line);
    await dlg.getByRole('button', { name: 'Close', exact: true }).last().click();
    await dlg.waitFor({ state: 'detached' }); // no secret was shown: it closes without asking
  });

  await step('Rotate Secret: the new secret, and "copied?" before the dialog goes (Close, ×, Esc, a close it cannot refuse)', async () => {
    await row(page, 'service', 'CRM Nightly').locator('[data-action=details]').click();
    const dlg = dialog(page, 'Details: CRM Nightly');
    await dlg.getByRole('button', { name: 'Rotate Secret' }).click();
    // the list behind the dialog reloads after a rotation: act once it has
    const reloaded = page.waitForResponse((r) => new URL(r.url()).pathname === '/admin/api/services' && r.request().method() === 'GET');
    await dlg.getByRole('button', { name: 'Rotate now' }).click();
    const secret = await dlg.locator('#new-secret').textContent();
    await reloaded;
    assert.equal(await page.evaluate(() => document.activeElement.closest('dialog')?.querySelector('h2')?.textContent),
      'Details: CRM Nightly', 'the focus stays in the dialog when the rotate form goes');
    // 'closed': what a browser does on a close request the page may not refuse (an
    // uncancelable cancel, then the close); the dialog comes back and asks, the question
    // on top (the click on its answer below is a real one: it fails when covered)
    for (const how of ['Close', '×', 'Escape', 'closed']) {
      // the buttons are activated by a click event rather than a mouse click at their
      // coordinates: the dialog grew with the new secret and the list behind it reloads,
      // and a click at a point read a moment earlier can miss under load
      if (how === 'Escape') await page.keyboard.press('Escape');
      else if (how === 'closed') await dlg.evaluate((d) => { d.dispatchEvent(new Event('cancel')); d.close(); });
      else {
        const btn = how === '×' ? dlg.locator('.dialog-x') : dlg.getByRole('button', { name: 'Close', exact: true }).last();
        await btn.waitFor();
        await btn.dispatchEvent('click');
      }
      const ask = dialog(page, 'Copied the client secret?');
      await ask.getByText('The client secret is never shown again').waitFor()
        .catch((e) => { throw new Error(`${how}: the "copied?" question did not come: ${e.message}`); });
      await ask.getByRole('button', { name: 'Back to the secret' }).click();
      await ask.waitFor({ state: 'detached' });
      assert.equal(await dlg.locator('#new-secret').textContent(), secret, `${how}: the secret is still there`);
    }
    await dlg.getByRole('button', { name: 'Close', exact: true }).last().click();
    await dialog(page, 'Copied the client secret?').getByRole('button', { name: 'Yes, I copied it' }).click();
    await dlg.waitFor({ state: 'detached' });
  });

  await step('New Service: Done asks "copied?" too', async () => {
    await page.getByRole('button', { name: 'New Service' }).click();
    const dlg = dialog(page, 'New Service');
    await dlg.getByLabel('Display Name').fill('Backfill');
    await dlg.getByLabel('API Only User', { exact: true }).selectOption(API_USER);
    await dlg.getByRole('button', { name: 'Create' }).click();
    const shown = dialog(page, 'Backfill');
    await shown.locator('#client-secret').waitFor();
    await shown.getByRole('button', { name: 'Done' }).click();
    await dialog(page, 'Copied the client secret?').getByRole('button', { name: 'Back to the secret' }).click();
    assert.ok(await shown.locator('#client-secret').isVisible());
    await shown.getByRole('button', { name: 'Done' }).click();
    await dialog(page, 'Copied the client secret?').getByRole('button', { name: 'Yes, I copied it' }).click();
    await shown.waitFor({ state: 'detached' });
    await row(page, 'service', 'Backfill').waitFor();
  });

  await step('Roles: the permission picker filters; Clone makes a new role from one', async () => {
    await nav(page, 'Users & Roles', 'Roles');
    await page.getByRole('button', { name: 'New Role' }).click();
    const dlg = dialog(page, 'New Role');
    const visible = () => dlg.locator('.perm-item:visible input[name=perm]').evaluateAll((els) => els.map((e) => e.value));
    assert.ok((await visible()).length > 30, 'every permission at first');
    // by name or description, each word
    await dlg.getByLabel('Filter permissions').fill('opportunit');
    assert.deepEqual(await visible(), ['Read-Only Opportunity', 'Read-Write Opportunity']);
    assert.ok(!await dlg.locator('fieldset[data-group=admin]').isVisible(), 'a group without a match is hidden');
    // the group's box takes what is shown
    await dlg.locator('fieldset[data-group=api] legend input').check();
    await dlg.getByLabel('Filter permissions').fill('opportunity read-only');
    assert.deepEqual(await visible(), ['Read-Only Opportunity']);
    await dlg.getByLabel('Filter permissions').fill('lead activities');
    assert.deepEqual(await visible(), ['Read-Only Activity', 'Read-Write Activity'], 'found by their descriptions');
    await dlg.getByLabel('Filter permissions').fill('no such thing');
    await dlg.getByText('No permission matches.').waitFor();
    await dlg.getByLabel('Filter permissions').press('Enter'); // filters, does not submit
    await dlg.getByLabel('Filter permissions').fill('');
    const checked = await dlg.locator('input[name=perm]:checked').evaluateAll((els) => els.map((e) => e.value));
    assert.deepEqual(checked, ['Read-Only Opportunity', 'Read-Write Opportunity']);
    await dlg.getByRole('button', { name: 'Cancel' }).click();

    await row(page, 'role', 'API Only').locator('[data-action=clone]').click();
    const clone = dialog(page, 'Clone Role: API Only');
    assert.equal(await clone.getByLabel('Role Name').inputValue(), 'Copy of API Only');
    assert.equal(await clone.getByLabel('Description').inputValue(), 'integrations');
    assert.deepEqual(await clone.locator('input[name=perm]:checked').evaluateAll((els) => els.map((e) => e.value)),
      ['Read-Only Lead', 'Read-Write Lead']);
    await clone.getByLabel('Role Name').fill('API Only (EU)');
    await clone.locator('input[name=perm][value="Read-Only Company"]').check();
    await clone.getByRole('button', { name: 'Create' }).click();
    await announced(page, /Role API Only \(EU\) created/);
    const made = (await http(srv, '/admin/api/roles', { headers: { Cookie: await cookie(page) } })).json.find((r) => r.name === 'API Only (EU)');
    assert.deepEqual([...made.permissions].sort(), ['Read-Only Company', 'Read-Only Lead', 'Read-Write Lead']);
    assert.equal(made.description, 'integrations');
    // the built-in Admin role can be cloned too (it stays read-only itself)
    await row(page, 'role', 'Admin').locator('[data-action=clone]').click();
    const adminClone = dialog(page, 'Clone Role: Admin');
    assert.equal(await adminClone.getByLabel('Role Name').isEnabled(), true);
    assert.ok(await adminClone.locator('input[name=perm][value="Access Users"]').isChecked());
    await adminClone.getByRole('button', { name: 'Cancel' }).click();
  });

  page.assertClean();
});

async function cookie(page) {
  return (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
}

test('at 390 px: the Users list\'s actions without sideways scrolling, a smaller header, a new token in view', async (t) => {
  const { page } = await seeded(t, { viewport: { width: 390, height: 844 } });
  const header = await page.locator('header.top').boundingBox();
  assert.ok(header.height <= 100, `the header is ${header.height} px high at 390 px`);
  await page.goto(`${page.url().split('#')[0]}#/users`);
  const r = row(page, 'email', API_USER);
  await r.waitFor();
  const fits = await page.evaluate(() => {
    const out = { page: document.documentElement.scrollWidth, wraps: [] };
    for (const w of document.querySelectorAll('.table-wrap')) out.wraps.push([w.scrollWidth, w.clientWidth]);
    out.buttons = [...document.querySelectorAll('#user-list .row-actions button')].map((b) => {
      const x = b.getBoundingClientRect();
      return [b.textContent, Math.round(x.left), Math.round(x.right)];
    });
    return out;
  });
  assert.ok(fits.page <= 390, `the page is ${fits.page} px wide`);
  for (const [sw, cw] of fits.wraps) assert.ok(sw <= cw, `a list scrolls sideways: ${sw} > ${cw}`);
  assert.ok(fits.buttons.length >= 4, JSON.stringify(fits.buttons));
  for (const [name, left, right] of fits.buttons) assert.ok(left >= 0 && right <= 390, `${name} at ${left}–${right}`);
  await assertAccessible(page, 'the Users list at 390 px');
  // each button works where it is: Edit opens its dialog
  await r.locator('[data-action=edit]').click();
  await dialog(page, `Edit User: ${API_USER}`).getByRole('button', { name: 'Cancel' }).click();

  await page.goto(`${page.url().split('#')[0]}#/launchpoint`);
  await row(page, 'service', 'CRM Sync').locator('[data-action=details]').click();
  const dlg = dialog(page, 'Details: CRM Sync');
  await dlg.getByRole('button', { name: 'Get Token' }).click();
  const tok = dlg.locator('#access-token');
  await tok.waitFor();
  await page.waitForFunction(() => {
    const b = document.getElementById('access-token').getBoundingClientRect();
    const d = document.querySelector('dialog[open]').getBoundingClientRect();
    return b.top >= Math.max(0, d.top) && b.bottom <= Math.min(window.innerHeight, d.bottom);
  });
  await assertAccessible(page, 'View Details at 390 px');
  page.assertClean();
});

test('the German console: the server\'s reasons, dates and lifetimes, the audit trail\'s Email and refusals, the skip link', async (t) => {
  // a browser in Chicago: a date typed is still that date, not the evening before in UTC
  const { srv, db, page } = await seeded(t, {
    locale: 'de-DE', timezoneId: 'America/Chicago', setupLabels: { submit: 'Administrator erstellen', landing: 'Admin' },
  });
  const step = stepper(t);

  await step('the skip link is the first Tab stop and follows the language', async () => {
    await page.reload();
    await ready(page);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'skip');
    assert.equal(await page.locator('#skip').textContent(), 'Zum Inhalt springen');
    await page.getByLabel('Sprache').selectOption('en');
    await page.locator('nav.main-nav').getByRole('link', { name: 'Users & Roles' }).waitFor();
    assert.equal(await page.locator('#skip').textContent(), 'Skip to content');
    await page.getByLabel('Language').selectOption('de');
    await page.locator('nav.main-nav').getByRole('link', { name: 'Benutzer und Rollen' }).waitFor();
    assert.equal(await page.locator('#skip').textContent(), 'Zum Inhalt springen');
  });

  await step('the guide names the role „Nur API“; the Admin role\'s description is German', async () => {
    assert.match(await page.locator('.howto').textContent(), /eine Rolle \(etwa „Nur API“\)/);
    await nav(page, 'Benutzer und Rollen', 'Rollen');
    assert.equal(await row(page, 'role', 'Admin').locator('[data-col=description]').textContent(), 'Alle Berechtigungen des Admin-Zugriffs');
  });

  await step('a server message in German keeps its reason', async () => {
    const texts = await page.evaluate(async () => {
      const { ApiError, errorText } = await import('/console/api.js');
      return [
        errorText(new ApiError(409, 'rule', 'an API-only user needs at least one role with an Access API permission', 'grants')),
        errorText(new ApiError(400, 'invalid', 'access expiry 2020-01-31T00:00:00Z is not in the future', 'expiresAt')),
        errorText(new ApiError(409, 'in_use', "role 'API Only' is held by 2 user(s) (a@example.com, b@example.com); remove it from them first", 'role')),
        errorText(new ApiError(400, 'invalid', 'first name cannot exceed 100 characters (got 120)', 'firstName')),
        errorText(new ApiError(400, 'invalid', 'a message no translation knows', '')),
      ];
    });
    assert.deepEqual(texts.slice(0, 4), [
      'Ein Nur-API-Benutzer braucht mindestens eine Rolle mit einer API-Berechtigung (API-Zugriff).',
      texts[1], // with the date in German, checked below
      'Die Rolle „API Only“ haben noch 2 Benutzer (a@example.com, b@example.com). Entziehen Sie sie ihnen zuerst.',
      'Vorname: höchstens 100 Zeichen (eingegeben: 120).',
    ]);
    assert.equal(texts[1], 'Das Zugriffsende (31.01.2020) liegt nicht in der Zukunft. Wählen Sie ein späteres Datum.');
    assert.equal(texts[4], 'Dieser Wert ist ungültig.', 'no translation: the code\'s own text, never English');
    // and on a page: the allowlist's refusal says why
    await nav(page, 'Webservices');
    await page.getByRole('button', { name: 'IP-Beschränkungen bearbeiten' }).click();
    const dlg = dialog(page, 'IP-Beschränkungen bearbeiten');
    await dlg.getByLabel('Zugelassene Adressen').fill('10.0.0.1/8');
    await dlg.getByRole('button', { name: 'Speichern' }).click();
    await dlg.locator('[data-field=cidr] .field-error').getByText(
      '„10.0.0.1/8“ ist keine Adresse und kein CIDR-Bereich: die Adresse hat Bits jenseits der Präfixlänge gesetzt (meinten Sie 10.0.0.0/8?).').waitFor();
    await dlg.getByRole('button', { name: 'Abbrechen' }).click();
    // a role change that would leave the API-only user without an API permission
    await nav(page, 'Benutzer und Rollen', 'Rollen');
    await row(page, 'role', 'API Only').locator('[data-action=edit]').click();
    const edit = dialog(page, 'Rolle bearbeiten: API Only');
    for (const p of ['Read-Only Lead', 'Read-Write Lead']) await edit.locator(`input[name=perm][value="${p}"]`).uncheck();
    await edit.locator('input[name=perm][value="Access Audit Trail"]').check();
    await edit.getByRole('button', { name: 'Speichern' }).click();
    await edit.getByText(`Die Rolle „API Only“ ließe diese Nur-API-Benutzer ohne jede API-Berechtigung: ${API_USER}.`, { exact: false }).waitFor();
    await edit.getByRole('button', { name: 'Abbrechen' }).click();
  });

  await step('dates in the console\'s language: the date field, the chart\'s days; lifetimes in minutes; no nested brackets', async () => {
    await nav(page, 'Benutzer und Rollen', 'Benutzer');
    const r = row(page, 'email', API_USER);
    assert.equal(await r.locator('[data-col=roles]').textContent(), 'API Only (Alle Arbeitsbereiche)');
    await r.locator('[data-action=edit]').click();
    const dlg = dialog(page, `Benutzer bearbeiten: ${API_USER}`);
    const field = dlg.getByLabel('Zugriff läuft ab');
    assert.equal(await field.getAttribute('placeholder'), 'TT.MM.JJJJ', 'the German form, whatever the browser would use');
    assert.match(await dlg.locator('[data-field=expiresAt] .hint').textContent(), /Frühestens: \d\d\.\d\d\.\d{4}\. Format: TT\.MM\.JJJJ\./);
    await field.fill('31.12.2030');
    await dlg.getByRole('button', { name: 'Speichern' }).click();
    await dlg.waitFor({ state: 'detached' });
    // the list reloads after the dialog goes: wait for the row to show the new date (it read
    // "Nie" now and then under load, the list not yet reloaded)
    await r.locator('[data-col=expires]').filter({ hasText: /^31\.12\.2030$/ }).waitFor()
      .catch((e) => { throw new Error(`the row's expiry: ${e.message}`); });
    assert.equal(cli(db, 'user', 'show', API_USER).user.expiresAt, '2030-12-31T00:00:00Z');
    // Get Token: the lifetime in minutes
    await nav(page, 'LaunchPoint');
    await row(page, 'service', 'CRM Sync').locator('[data-action=details]').click();
    const det = dialog(page, 'Details: CRM Sync');
    await det.getByRole('button', { name: 'Token abrufen' }).click();
    assert.match(await det.locator('#token-expiry').textContent(), /^Gültig bis .+ \(noch (59|60) Minuten\)\.$/);
    await det.getByRole('button', { name: 'Schließen', exact: true }).last().click();
    // the chart: "25.11.", not "11-25"
    await nav(page, 'Webservices');
    await page.locator('.day-chart .bar-label').first().waitFor();
    const days = await page.locator('.day-chart .bar-label').allTextContents();
    assert.equal(days.length, 7);
    for (const d of days) assert.match(d, /^\d\d\.\d\d\.$/, `a day of the chart: ${d}`);
  });

  await step('LaunchPoint\'s intro; the audit trail shows E-Mail / Senden and filters by it', async () => {
    await nav(page, 'LaunchPoint');
    assert.equal(await page.locator('main .intro').textContent(),
      'Ein benutzerdefinierter Service gibt einer Integration eine Client-ID und ein Client-Secret. Er arbeitet mit genau den API-Berechtigungen seines Nur-API-Benutzers.');
    cli(db, 'user', 'invite', '--email', 'grete@example.com', '--first', 'Grete', '--last', 'Hopper', '--role', 'Admin');
    // the running server sends the invitation (to its outbox) and records it
    let sent = false;
    for (let i = 0; i < 150 && !sent; i++) {
      sent = cli(db, 'audit', 'list', '--area', 'Email').events.some((e) => e.action === 'Send');
      if (!sent) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(sent, 'the invitation was sent');
    await nav(page, 'Prüfpfad');
    await page.getByLabel('Bereich').selectOption({ label: 'E-Mail' });
    await page.getByLabel('Aktion').selectOption({ label: 'Senden' });
    await page.getByRole('button', { name: 'Anwenden' }).click();
    const r = page.locator('#audit-list tbody tr[data-area="Email"][data-action="Send"]');
    // the unfiltered list had Email / Send rows too: wait until the filtered one replaced it
    await page.locator('#audit-list tbody tr:not([data-area="Email"][data-action="Send"])').first().waitFor({ state: 'detached' });
    await r.first().waitFor();
    assert.equal(await r.first().locator('[data-col=area]').textContent(), 'E-Mail');
    assert.equal(await r.first().locator('[data-col=action]').textContent(), 'Senden');
    assert.equal(await page.locator('#audit-list tbody tr').count(), await r.count(), 'only Email / Send');
  });

  await step('a refusal in the audit trail: what was attempted and why, in German', async () => {
    // an integration with the user management keys tries to give the Admin role: refused, a Denied event
    cli(db, 'role', 'create', '--name', 'UM', '--permission', 'Access User Management Api', '--permission', 'Access Users');
    cli(db, 'user', 'invite', '--email', 'um@example.com', '--first', 'Um', '--last', 'Api', '--role', 'UM', '--api-only');
    const um = cli(db, 'service', 'create', '--name', 'UM', '--user', 'um@example.com');
    // the running server sees the service made with the CLI within a moment
    let id;
    for (let i = 0; i < 100 && id?.status !== 200; i++) {
      if (i) await new Promise((res) => setTimeout(res, 100));
      id = await http(srv, `/identity/oauth/token?grant_type=client_credentials&client_id=${um.service.clientId}&client_secret=${um.clientSecret}`);
    }
    assert.equal(id.status, 200, id.text);
    const tok = id.json.access_token;
    const refused = await http(srv, '/userservice/management/v1/users/invite.json', {
      method: 'POST', headers: { Authorization: `Bearer ${tok}` },
      body: { emailAddress: 'boss2@example.com', firstName: 'B', lastName: 'S', userRoleWorkspaces: [{ accessRoleId: 1, workspaceId: 0 }] },
    });
    assert.equal(refused.status, 403, refused.text);
    await page.getByLabel('Bereich').selectOption({ label: 'Verweigert' });
    await page.getByLabel('Aktion').selectOption({ label: 'Alle' });
    await page.getByRole('button', { name: 'Anwenden' }).click();
    const r = page.locator('#audit-list tbody tr[data-area="Denied"]').first();
    await r.waitFor();
    assert.equal(await r.locator('[data-col=action]').textContent(), 'Benutzer: Erstellen');
    await r.locator('summary').click();
    const details = await r.locator('[data-col=details]').textContent();
    assert.match(details, /Versucht\s*Benutzer: Erstellen/);
    assert.match(details, /Aufrufer\s*Token einer Integration/);
    assert.match(details, /Zugriff verweigert: Ihnen fehlt die Berechtigung „[^“]+“ im Arbeitsbereich „AllZones“, die die Rolle „Admin“ enthält/);
    assert.doesNotMatch(details, /Access denied|you do not hold/);
  });

  page.assertClean();
});
