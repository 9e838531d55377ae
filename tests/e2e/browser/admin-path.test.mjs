// The administrator's path in the web console, click by click (PRODUCT.md §2, issue 5):
// first-admin setup → New Role → Invite New User (API Only) → LaunchPoint New Service →
// View Details → Get Token, and the token works on the REST API; then a normal user's
// invitation, delete refused while a service exists, lock/unlock, Web Services (allowlist,
// limits), and the Audit Trail and Login History showing each step.
import path from 'node:path';
import { after, test } from 'node:test';
import { extractLink, readOutbox, waitFor } from '../mail-lib.mjs';
import {
  ADMIN, announced, assert, closeBrowser, stepper, dialog, http, login, logout, nav, newPage, ready, row, setupAdmin, startConsole,
} from './browser-lib.mjs';

after(closeBrowser);

const API_USER = 'crm-sync@example.com';
const SECRET = /^[A-Za-z0-9]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

test('the administrator\'s path in English', async (t) => {
  const { srv, db, setupLink } = await startConsole(t);
  assert.ok(setupLink, `no setup link on stderr:\n${srv.stderr()}`);
  const outbox = path.join(db.dir, 'outbox'); // no smtp_host: the emails are .eml files there
  const page = await newPage(t);
  const step = stepper(t);
  let token;
  let clientId;
  let secret;

  await step('first admin through the printed setup link', async () => {
    // a wrong repeat keeps what was typed and says so next to the field
    await page.goto(setupLink);
    await ready(page);
    await page.getByRole('heading', { name: 'Create the first administrator' }).waitFor();
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('First Name').fill(ADMIN.first);
    await page.getByLabel('Last Name').fill(ADMIN.last);
    await page.getByLabel('New password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Repeat new password').fill('something else entirely');
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await page.locator('[data-field=password2] .field-error').getByText('The two passwords are not the same.').waitFor();
    assert.equal(await page.getByLabel('Email').inputValue(), ADMIN.email);
    // too short: the server's rule, shown next to the password
    await page.getByLabel('New password', { exact: true }).fill('short');
    await page.getByLabel('Repeat new password').fill('short');
    await page.getByRole('button', { name: 'Create administrator' }).click();
    await page.locator('[data-field=password] .field-error:not([hidden])').waitFor();
    await setupAdmin(page, setupLink);
    assert.match(await page.locator('main').textContent(), /Welcome, Ada Lovelace/);
    assert.ok(!page.url().includes('#') || !page.url().includes(setupLink.split('#')[1]), 'the token left the address bar');
    for (const area of ['Users & Roles', 'LaunchPoint', 'Web Services', 'Audit Trail'])
      await page.locator('.cards').getByRole('link', { name: area, exact: true }).waitFor();
    assert.equal((await http(srv, '/admin/api/setup')).json.pending, false);
    // the link works once
    const other = await newPage(t);
    await other.goto(setupLink);
    await ready(other);
    await other.getByText('This setup link has been used or is no longer valid').waitFor();
    other.assertClean();
  });

  await step('Users & Roles → Roles → New Role "API Only"', async () => {
    await nav(page, 'Users & Roles', 'Roles');
    const admin = row(page, 'role', 'Admin');
    await admin.waitFor();
    assert.equal(await admin.locator('[data-action=edit]').count(), 0, 'Admin is read-only');
    await admin.locator('[data-action=view]').click();
    const view = dialog(page, 'Role: Admin');
    await view.getByText('This is a system role. It cannot be edited or deleted.').waitFor();
    assert.ok(await view.locator('input[name=perm][value="Access Users"]').isDisabled());
    assert.ok(await view.locator('input[name=perm][value="Access Users"]').isChecked());
    await view.getByRole('button', { name: 'Close', exact: true }).last().click();
    // closing gives the focus back to the button that opened the dialog: wait for that
    // before moving the focus, or it lands back there and Enter opens this dialog again
    await view.waitFor({ state: 'detached' });
    await page.waitForFunction(() => !document.querySelector('dialog[open]'));
    await page.waitForFunction(() => document.activeElement?.matches('tr[data-role="Admin"] [data-action=view]'));

    // keyboard: the dialog takes the focus, Esc closes it and gives the focus back
    await page.getByRole('button', { name: 'New Role' }).focus();
    await page.waitForFunction(() => document.activeElement?.id === 'new-role');
    await page.keyboard.press('Enter');
    const dlg = dialog(page, 'New Role');
    await dlg.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.name), 'name');
    await page.keyboard.press('Escape');
    await dlg.waitFor({ state: 'detached' });
    // the focus comes back to New Role (after the dialog is gone: wait for it, bounded)
    await page.waitForFunction(() => document.activeElement?.id === 'new-role');
    await page.keyboard.press('Enter');
    await dlg.getByText('Access Admin', { exact: true }).waitFor();
    await dlg.getByText('Access API', { exact: true }).waitFor();
    await dlg.getByRole('button', { name: 'Create' }).click();
    await dlg.locator('[data-field=name] .field-error').getByText('Please fill in this field.').waitFor();
    await dlg.getByLabel('Role Name').fill('API Only');
    await dlg.getByLabel('Description').fill('Integration role');
    await dlg.locator('input[name=perm][value="Read-Only Lead"]').check();
    await dlg.locator('input[name=perm][value="Read-Write Lead"]').check();
    assert.ok(await dlg.locator('input[data-group=api]').evaluate((e) => e.indeterminate), 'the group box shows a partial choice');
    await dlg.getByRole('button', { name: 'Create' }).click();
    await announced(page, /Role API Only created/);
    const r = row(page, 'role', 'API Only');
    await r.waitFor();
    assert.match(await r.textContent(), /Integration role/);
    assert.match(await r.textContent(), /2 permissions/);
    assert.match(await r.textContent(), /Custom/);
  });

  await step('Users → Invite New User, API Only: no invitation, active at once', async () => {
    await page.locator('nav.tabs').getByRole('link', { name: 'Users' }).click();
    await page.getByRole('button', { name: 'Invite New User' }).click();
    const dlg = dialog(page, 'Invite New User');
    await dlg.getByText('Step 1 of 3: User info').waitFor();
    await dlg.getByRole('button', { name: 'Next' }).click();
    await dlg.locator('[data-field=email] .field-error').getByText('Please fill in this field.').waitFor();
    await dlg.getByLabel('Email').fill(API_USER);
    await dlg.getByLabel('First Name').fill('CRM');
    await dlg.getByLabel('Last Name').fill('Sync');
    await dlg.getByLabel('Reason').fill('Nightly CRM sync');
    await dlg.getByRole('button', { name: 'Next' }).click();
    await dlg.getByText('Step 2 of 3: Permissions').waitFor();
    await dlg.getByRole('button', { name: 'Next' }).click();
    await dlg.getByText('Choose at least one role.').waitFor();
    await dlg.getByLabel('Role', { exact: true }).selectOption({ label: 'API Only (API permissions)' });
    await dlg.getByLabel('API Only', { exact: true }).check();
    await dlg.getByRole('button', { name: 'Next' }).click();
    await dlg.getByText('Step 3 of 3: Message').waitFor();
    await dlg.getByText('An invitation is not required for API only users').waitFor();
    assert.ok(!(await dlg.getByLabel('Invitation message').isVisible()));
    // Back keeps what was typed
    await dlg.getByRole('button', { name: 'Back' }).click();
    await dlg.getByRole('button', { name: 'Back' }).click();
    assert.equal(await dlg.getByLabel('Email').inputValue(), API_USER);
    await dlg.getByRole('button', { name: 'Next' }).click();
    await dlg.getByRole('button', { name: 'Next' }).click();
    await dlg.getByRole('button', { name: 'Send' }).click();
    await announced(page, /API-only user crm-sync@example.com created/);
    await dlg.waitFor({ state: 'detached' });
    const r = row(page, 'email', API_USER);
    assert.equal(await r.locator('[data-col=apiOnly]').textContent(), 'Yes');
    assert.equal(await r.locator('[data-col=status]').textContent(), 'Active');
    assert.equal(await r.locator('[data-col=roles]').textContent(), 'API Only (All workspaces)');
    assert.equal(await r.locator('[data-col=name]').textContent(), 'CRM Sync');
    // search
    await page.getByLabel('Search users').fill('crm-');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('1 user', { exact: true }).waitFor();
    await page.getByLabel('Search users').fill('');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('2 users').waitFor();
  });

  await step('LaunchPoint → New Service: the secret is shown once', async () => {
    await nav(page, 'LaunchPoint');
    await page.getByRole('heading', { level: 1, name: 'LaunchPoint' }).waitFor();
    await page.getByText('No services yet.').waitFor();
    await page.getByRole('button', { name: 'New Service' }).click();
    const dlg = dialog(page, 'New Service');
    await dlg.getByLabel('Display Name').fill('CRM Sync');
    assert.equal(await dlg.getByLabel('Service', { exact: true }).inputValue(), 'custom');
    assert.equal(await dlg.getByLabel('Service', { exact: true }).locator('option:checked').textContent(), 'Custom');
    await dlg.getByLabel('Description').fill('Nightly lead sync');
    // only active API-only users are offered
    const options = await dlg.getByLabel('API Only User').locator('option').allTextContents();
    assert.equal(options.length, 2, options.join(' | '));
    assert.match(options[1], /crm-sync@example.com/);
    await dlg.getByLabel('API Only User').selectOption(API_USER);
    await dlg.getByRole('button', { name: 'Create' }).click();
    const done = dialog(page, 'CRM Sync');
    await done.getByText('Service CRM Sync created.').waitFor();
    await done.getByText('it is shown only this once').waitFor();
    clientId = await done.locator('#client-id').textContent();
    const secret = await done.locator('#client-secret').textContent();
    assert.match(clientId, UUID);
    assert.match(secret, SECRET);
    await done.getByRole('button', { name: 'Done' }).click();
    await dialog(page, 'Copied the client secret?').getByRole('button', { name: 'Yes, I copied it' }).click();
    const r = row(page, 'service', 'CRM Sync');
    await r.waitFor();
    assert.match(await r.textContent(), /Custom.*Nightly lead sync.*crm-sync@example.com/);
    // the secret works at the identity endpoint
    const id = await http(srv, `/identity/oauth/token?grant_type=client_credentials&client_id=${clientId}&client_secret=${secret}`);
    assert.equal(id.status, 200, id.text);
  });

  await step('View Details → Get Token; the token works on /rest/v1/stats/usage.json', async () => {
    await row(page, 'service', 'CRM Sync').getByRole('button', { name: 'View Details' }).click();
    const dlg = dialog(page, 'Details: CRM Sync');
    assert.equal(await dlg.locator('#client-id').textContent(), clientId);
    assert.equal(await dlg.locator('#client-secret').textContent(), '••••••••');
    assert.equal(await dlg.locator('#authorized-user').textContent(), API_USER);
    await dlg.getByRole('button', { name: 'Get Token' }).click();
    await dlg.locator('#access-token').waitFor();
    token = await dlg.locator('#access-token').textContent();
    assert.match(token, /^[A-Za-z0-9_-]{22,}$/);
    assert.match(await dlg.locator('#token-expiry').textContent(), /^Valid until .+ \((59|60) minutes left\)\.$/);
    const r = await http(srv, '/rest/v1/stats/usage.json', { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200);
    assert.equal(r.json.success, true, r.text);
    // Get Token again: the same token while it is valid
    await dlg.getByRole('button', { name: 'Get Token' }).click();
    await page.waitForFunction((tk) => document.querySelector('#access-token')?.textContent === tk, token);
    await dlg.getByRole('button', { name: 'Close', exact: true }).last().click();
  });

  await step('Rotate Secret with a grace period shows the new secret once', async () => {
    await row(page, 'service', 'CRM Sync').getByRole('button', { name: 'View Details' }).click();
    const dlg = dialog(page, 'Details: CRM Sync');
    await dlg.getByRole('button', { name: 'Rotate Secret' }).click();
    await dlg.getByLabel('Grace period for the old secret').selectOption({ label: '1 hour' });
    await dlg.getByRole('button', { name: 'Rotate now' }).click();
    await dlg.getByText('The secret has been rotated.').waitFor();
    secret = await dlg.locator('#new-secret').textContent();
    assert.match(secret, SECRET);
    await dlg.getByText(/The previous secret keeps working until/).first().waitFor();
    const id = await http(srv, `/identity/oauth/token?grant_type=client_credentials&client_id=${clientId}&client_secret=${secret}`);
    assert.equal(id.status, 200, id.text);
    token = id.json.access_token;
    await dlg.getByRole('button', { name: 'Close', exact: true }).last().click();
    await dialog(page, 'Copied the client secret?').getByRole('button', { name: 'Yes, I copied it' }).click();
    await dlg.waitFor({ state: 'detached' });
  });

  await step('an API-only user who owns a service cannot be deleted', async () => {
    await nav(page, 'Users & Roles', 'Users');
    await row(page, 'email', API_USER).locator('[data-action=delete]').click();
    const dlg = dialog(page, 'Delete User');
    await dlg.getByText(`Delete the user ${API_USER}?`).waitFor();
    await dlg.getByRole('button', { name: 'Delete' }).click();
    await dlg.getByText('This user still owns custom services. Delete their services in LaunchPoint first.').waitFor();
    await dlg.getByRole('button', { name: 'Cancel' }).click();
    await dlg.waitFor({ state: 'detached' });
    await row(page, 'email', API_USER).waitFor();
  });

  await step('Invite New User, a person: field errors keep what was typed; the invitation message goes by email', async () => {
    await page.getByRole('button', { name: 'Invite New User' }).click();
    const dlg = dialog(page, 'Invite New User');
    // an email already in use comes back from the server next to the Email field
    await dlg.getByLabel('Email').fill(API_USER.toUpperCase());
    await dlg.getByLabel('First Name').fill('Bob');
    await dlg.getByLabel('Last Name').fill('Builder');
    await dlg.getByRole('button', { name: 'Next' }).click();
    await dlg.getByLabel('Role', { exact: true }).selectOption({ label: 'Admin' });
    await dlg.getByRole('button', { name: 'Next' }).click();
    const msg = dlg.getByLabel('Invitation message');
    await msg.waitFor();
    assert.match(await msg.inputValue(), /^Hello Bob,/);
    await msg.fill('Hello Bob, welcome aboard.');
    await dlg.getByRole('button', { name: 'Send' }).click();
    const err = dlg.locator('[data-field=email] .field-error:not([hidden])');
    await err.waitFor();
    assert.ok((await err.textContent()).length > 0);
    await dlg.getByText('Step 1 of 3: User info').waitFor();
    assert.equal(await dlg.getByLabel('First Name').inputValue(), 'Bob');
    await dlg.getByLabel('Email').fill('bob@example.com');
    await dlg.getByRole('button', { name: 'Next' }).click();
    await dlg.getByRole('button', { name: 'Next' }).click();
    assert.equal(await dlg.getByLabel('Invitation message').inputValue(), 'Hello Bob, welcome aboard.');
    await dlg.getByRole('button', { name: 'Send' }).click();
    const sent = dialog(page, 'Invitation sent');
    await sent.getByText('An invitation email was sent to bob@example.com.').waitFor();
    await sent.getByText(/^Its link can be used once and is valid until /).waitFor();
    assert.doesNotMatch(await sent.textContent(), /\/invite#/, 'the link is never shown');
    // the edited message and the link are in Bob's email
    const mail = await waitFor(() => readOutbox(outbox).find((m) => m.to.includes('bob@example.com')), 15_000, "Bob's invitation");
    assert.match(mail.text, /Hello Bob, welcome aboard\./);
    assert.match(extractLink(mail.text, 'invite'), /^http:\/\/.+\/invite#\S+$/);
    await sent.getByRole('button', { name: 'Done' }).click();
    const r = row(page, 'email', 'bob@example.com');
    assert.equal(await r.locator('[data-col=status]').textContent(), 'Pending');
    assert.equal(await r.locator('[data-col=apiOnly]').textContent(), 'No');
  });

  await step('Lock and Unlock: a locked API user\'s token stops working', async () => {
    const r = row(page, 'email', API_USER);
    await r.locator('[data-action=lock]').click();
    const dlg = dialog(page, `Lock User: ${API_USER}`);
    await dlg.getByLabel('Reason (optional)').fill('suspicious traffic');
    await dlg.getByRole('button', { name: 'Lock' }).click();
    await announced(page, /User crm-sync@example.com locked/);
    await page.waitForFunction((e) => document.querySelector(`tr[data-email="${e}"] [data-col=status]`)?.textContent.startsWith('Locked'), API_USER);
    assert.match(await r.locator('[data-col=status]').textContent(), /Locked \(suspicious traffic\)/);
    const rest = await http(srv, '/rest/v1/stats/usage.json', { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(rest.json.success, false, rest.text);
    assert.equal(rest.json.errors[0].code, '601');
    await r.locator('[data-action=unlock]').click();
    const un = dialog(page, `Unlock User: ${API_USER}`);
    await un.getByRole('button', { name: 'Unlock' }).click();
    await announced(page, /User crm-sync@example.com unlocked/);
    await page.waitForFunction((e) => document.querySelector(`tr[data-email="${e}"] [data-col=status]`)?.textContent === 'Active', API_USER);
  });

  await step('Edit User and Edit Role', async () => {
    await row(page, 'email', API_USER).locator('[data-action=edit]').click();
    let dlg = dialog(page, `Edit User: ${API_USER}`);
    await dlg.getByText('This is an API-only user').waitFor();
    assert.equal(await dlg.getByLabel('Reason').inputValue(), 'Nightly CRM sync');
    await dlg.getByLabel('Last Name').fill('Synchroniser');
    await dlg.getByLabel('Access Expires').fill('2030-01-31');
    await dlg.getByRole('button', { name: 'Save' }).click();
    await announced(page, /User crm-sync@example.com saved/);
    await page.waitForFunction((e) => document.querySelector(`tr[data-email="${e}"] [data-col=name]`)?.textContent === 'CRM Synchroniser', API_USER);
    assert.match(await row(page, 'email', API_USER).locator('[data-col=expires]').textContent(), /2030/);
    await page.locator('nav.tabs').getByRole('link', { name: 'Roles' }).click();
    await row(page, 'role', 'API Only').locator('[data-action=edit]').click();
    dlg = dialog(page, 'Edit Role: API Only');
    assert.ok(await dlg.locator('input[name=perm][value="Read-Write Lead"]').isChecked());
    await dlg.locator('input[name=perm][value="Read-Only Activity"]').check();
    await dlg.getByRole('button', { name: 'Save' }).click();
    await announced(page, /Role API Only saved/);
    await page.waitForFunction(() => /3 permissions/.test(document.querySelector('tr[data-role="API Only"]')?.textContent || ''));
  });

  await step('Web Services: endpoints, calls, IP allowlist edit, limits', async () => {
    await nav(page, 'Web Services');
    await page.getByRole('heading', { level: 2, name: 'REST API' }).waitFor();
    assert.equal(await page.locator('#rest-endpoint').textContent(), `${srv.url}/rest`);
    assert.equal(await page.locator('#identity-endpoint').textContent(), `${srv.url}/identity`);
    assert.match(await page.locator('#calls-7d').textContent(), /^Requests in the Last 7 Days: [1-9]/);
    await page.locator(`#api-calls tr[data-user="${API_USER}"]`).waitFor();
    assert.equal(await page.locator('#api-calls svg.day-chart g').count(), 7);
    assert.equal(await page.locator('#ip-status').textContent(), 'IP restrictions are disabled');

    await page.getByRole('button', { name: 'Edit IP Restrictions' }).click();
    let dlg = dialog(page, 'Edit IP Restrictions');
    await dlg.getByLabel('Allowed addresses').fill('127.0.0.1\nnot-an-address');
    await dlg.getByLabel('Enable IP Restrictions').check();
    await dlg.getByRole('button', { name: 'Save' }).click();
    await dlg.locator('[data-field=cidr] .field-error:not([hidden])').waitFor();
    assert.equal(await dlg.getByLabel('Allowed addresses').inputValue(), '127.0.0.1\nnot-an-address');
    await dlg.getByLabel('Allowed addresses').fill('127.0.0.1\n10.0.0.0/8');
    await dlg.getByRole('button', { name: 'Save' }).click();
    await announced(page, /IP restrictions saved/);
    await page.waitForFunction(() => document.querySelector('#ip-status')?.textContent === 'IP restrictions are enabled');
    const list = await page.locator('#ip-list li').allTextContents();
    assert.equal(list.length, 2, list.join(' | '));
    assert.ok(list.some((c) => c.startsWith('127.0.0.1')), list.join(' | '));
    assert.ok(list.includes('10.0.0.0/8'), list.join(' | '));
    // the REST API still answers from 127.0.0.1 (the lock revoked the old token: a new one)
    const id = await http(srv, `/identity/oauth/token?grant_type=client_credentials&client_id=${clientId}&client_secret=${secret}`);
    assert.equal(id.status, 200, id.text);
    token = id.json.access_token;
    const rest = await http(srv, '/rest/v1/stats/usage.json', { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(rest.json.success, true, rest.text);
    // remove one entry and switch the restriction off again
    await page.getByRole('button', { name: 'Edit IP Restrictions' }).click();
    dlg = dialog(page, 'Edit IP Restrictions');
    await dlg.getByLabel('Allowed addresses').fill(list.find((c) => c.startsWith('127.0.0.1')));
    await dlg.getByLabel('Enable IP Restrictions').uncheck();
    await dlg.getByRole('button', { name: 'Save' }).click();
    await page.waitForFunction(() => document.querySelector('#ip-status')?.textContent === 'IP restrictions are disabled');
    assert.equal(await page.locator('#ip-list li').count(), 1);

    await page.getByRole('button', { name: 'Edit Limits' }).click();
    dlg = dialog(page, 'Edit Limits');
    await dlg.getByLabel('Calls', { exact: true }).fill('50');
    await dlg.getByLabel('Per seconds').fill('20');
    await dlg.getByRole('button', { name: 'Save' }).click();
    await announced(page, /Limits saved/);
    await page.waitForFunction(() => document.querySelector('[data-limit=rate]')?.textContent === '50 calls per 20 seconds');
  });

  await step('Audit Trail shows each step, filters, and downloads as CSV', async () => {
    await nav(page, 'Audit Trail');
    await page.getByRole('heading', { level: 1, name: 'Audit Trail' }).waitFor();
    const expect = [
      ['Role', 'Create', 'API Only'], ['User', 'Create', API_USER], ['Service', 'Create', 'CRM Sync'],
      ['Service', 'Rotate Secret', 'CRM Sync'], ['User', 'Create', 'bob@example.com'], ['User', 'Lock', API_USER],
      ['User', 'Unlock', API_USER], ['IP Restrictions', 'Add', '10.0.0.0/8'], ['IP Restrictions', 'Remove', '10.0.0.0/8'],
      ['Web Services', 'Edit Limits', 'instance'],
    ];
    for (const [area, action, target] of expect) {
      const r = page.locator(`tbody tr[data-area="${area}"][data-action="${action}"][data-target="${target}"]`);
      assert.ok(await r.count() >= 1, `audit row ${area}/${action}/${target}`);
      assert.match(await r.first().locator('[data-col=actor]').textContent(), /ada@example.com/);
    }
    // filter by area
    await page.getByLabel('Area').selectOption({ label: 'Service' });
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForFunction(() => [...document.querySelectorAll('tbody tr[data-area]')].every((r) => r.dataset.area === 'Service'));
    assert.equal(await page.locator('tbody tr[data-area="Service"]').count(), 2);
    const href = await page.locator('#audit-csv').getAttribute('href');
    assert.match(href, /format=csv/);
    assert.match(href, /area=Service/);
    const csv = await page.evaluate(async (u) => (await fetch(u)).text(), href);
    assert.match(csv, /CRM Sync/);
    assert.doesNotMatch(csv, /bob@example.com/);
  });

  await step('Login History: successes and failures, failed only', async () => {
    await logout(page);
    await page.getByText('You have signed out.').waitFor();
    await login(page, srv.url, ADMIN.email, 'not the password at all');
    await page.getByText(/^Sign-in failed\./).waitFor();
    await login(page, srv.url, ADMIN.email, ADMIN.password);
    await page.getByRole('heading', { level: 1, name: 'Admin', exact: true }).waitFor();
    await nav(page, 'Users & Roles', 'Login History');
    await page.locator('tbody tr[data-success="false"]').first().waitFor();
    assert.ok(await page.locator('tbody tr[data-success="true"]').count() >= 1);
    await page.getByLabel('Only Failed Logins').check();
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForFunction(() => document.querySelectorAll('tbody tr[data-success="true"]').length === 0);
    assert.equal(await page.locator('tbody tr[data-success="false"]').count(), 1);
    assert.equal(await page.locator('tbody tr[data-success="false"] [data-col=email]').textContent(), ADMIN.email);
    const csv = await page.evaluate(async (u) => (await fetch(u)).text(), await page.locator('#logins-csv').getAttribute('href'));
    assert.match(csv, /ada@example.com/);
  });

  page.assertClean();
});
