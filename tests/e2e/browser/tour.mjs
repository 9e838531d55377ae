// A tour of the console: every page and every dialog, in English or German, as an
// administrator reaches them by clicking. At each stop the caller's check runs
// (a11y.test.mjs: axe-core; german-words.test.mjs: axe-core and no English word).
// The labels come from the console's own dictionaries, so the tour is the same in
// both languages. Data typed on the way is in the tour's language too.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractLink, readOutbox, waitFor } from '../mail-lib.mjs';
import { ADMIN, cli, dialog, http, login, nav, ready, row, setupAdmin } from './browser-lib.mjs';

const CONSOLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/console');
export const DICT = {
  en: JSON.parse(fs.readFileSync(path.join(CONSOLE, 'i18n-en.json'), 'utf8')),
  de: JSON.parse(fs.readFileSync(path.join(CONSOLE, 'i18n-de.json'), 'utf8')),
};

// what the tour types, in each language
const DATA = {
  en: {
    role: 'API Only', roleDesc: 'For the integrations', service: 'CRM Sync', serviceDesc: 'Nightly lead sync',
    person: { email: 'grace@example.com', first: 'Grace', last: 'Hopper' }, message: 'Welcome aboard.',
    colleague: { email: 'alan@example.com', first: 'Alan', last: 'Turing' },
    lockReason: 'Holiday', badCidr: '10.0.0.1/8',
  },
  de: {
    role: 'Nur API', roleDesc: 'Für die Integrationen', service: 'CRM-Abgleich', serviceDesc: 'Nächtlicher Abgleich der Leads',
    person: { email: 'grete@example.com', first: 'Grete', last: 'Hopper' }, message: 'Willkommen an Bord.',
    colleague: { email: 'konrad@example.com', first: 'Konrad', last: 'Zuse' },
    lockReason: 'Urlaub', badCidr: '10.0.0.1/8',
  },
};
export const API_USER = 'crm-sync@example.com';

/*
 * Walks the console of a fresh server (srv, db, setupLink from startConsole; no SMTP
 * server, so mail goes to the outbox folder next to the database) in page, whose
 * browser language is lang; stop(name) runs at every page and dialog. Ends signed out.
 */
export async function tour(page, { srv, db, setupLink, lang, stop }) {
  const outbox = path.join(db.dir, 'outbox');
  const linkTo = async (email, kind) => {
    const mail = await waitFor(() => readOutbox(outbox).reverse().find((m) => m.to.includes(email) && extractLink(m.text, kind)),
      15_000, `the ${kind} email to ${email}`);
    return extractLink(mail.text, kind);
  };
  const L = DICT[lang];
  const D = DATA[lang];
  const T = (k, vars = {}) => L[k].replace(/\{(\w+)\}/g, (m, v) => (v in vars ? String(vars[v]) : m));
  const button = (root, key, vars) => root.getByRole('button', { name: T(key, vars), exact: true });
  const closeDialog = async (dlg, key = 'action.cancel') => {
    await button(dlg, key).last().click();
    await dlg.waitFor({ state: 'detached' });
  };

  // ---- before there is an administrator
  await page.goto(setupLink);
  await ready(page);
  await page.getByRole('heading', { level: 1, name: L['setup.title'] }).waitFor();
  await stop('setup');
  await setupAdmin(page, setupLink, ADMIN, { submit: L['setup.submit'], landing: L['admin.title'] });
  await stop('admin');

  // ---- Users & Roles → Roles
  await nav(page, L['nav.usersRoles'], L['roles.tab']);
  await row(page, 'role', 'Admin').waitFor();
  await stop('roles');
  await button(page, 'roles.new').click();
  let dlg = dialog(page, L['roles.new']);
  await button(dlg, 'action.create').click();
  await dlg.locator('.field-error:not([hidden])').first().waitFor();
  await stop('new role, a required field left empty');
  await dlg.getByLabel(L['roles.name']).fill(D.role);
  await dlg.getByLabel(L['roles.description']).fill(D.roleDesc);
  await dlg.getByLabel(L['roles.filter']).fill('Lead');
  await dlg.locator('input[name=perm][value="Read-Only Lead"]').check();
  await dlg.locator('input[name=perm][value="Read-Write Lead"]').check();
  await stop('new role, the permissions filtered');
  await dlg.getByLabel(L['roles.filter']).fill('');
  await dlg.locator('input[name=perm][value="Access User Management Api"]').check();
  await button(dlg, 'action.create').click();
  await dlg.waitFor({ state: 'detached' });
  await row(page, 'role', D.role).waitFor();
  await row(page, 'role', 'Admin').locator('[data-action=view]').click();
  dlg = dialog(page, T('roles.viewTitle', { name: 'Admin' }));
  await stop('view role Admin');
  await closeDialog(dlg, 'action.close');
  await row(page, 'role', 'Admin').locator('[data-action=clone]').click();
  dlg = dialog(page, T('roles.cloneTitle', { name: 'Admin' }));
  await stop('clone role Admin');
  await closeDialog(dlg);
  await row(page, 'role', D.role).locator('[data-action=edit]').click();
  dlg = dialog(page, T('roles.editTitle', { name: D.role }));
  await stop('edit role');
  await closeDialog(dlg);
  await row(page, 'role', D.role).locator('[data-action=delete]').click();
  dlg = dialog(page, L['roles.deleteTitle']);
  await stop('delete role?');
  await closeDialog(dlg);

  // ---- Users: an API-only user and a person
  await page.locator('nav.tabs').getByRole('link', { name: L['users.tab'], exact: true }).click();
  await page.locator('#user-list tbody tr').first().waitFor();
  await stop('users');
  const invite = async (who, apiOnly) => {
    await button(page, 'invite.button').click();
    const d = dialog(page, L['invite.title']);
    await d.getByLabel(L['user.email']).fill(who.email);
    await d.getByLabel(L['user.firstName']).fill(who.first);
    await d.getByLabel(L['user.lastName']).fill(who.last);
    if (apiOnly) await stop('invite, step 1');
    await button(d, 'action.next').click();
    await d.locator('section[data-step="2"]:not([hidden])').waitFor();
    await d.getByLabel(L['invite.role'], { exact: true }).selectOption({ label: T('invite.roleWithApi', { name: D.role }) });
    if (apiOnly) {
      await d.getByLabel(L['user.apiOnly'], { exact: true }).check();
      await stop('invite, step 2');
    }
    await button(d, 'action.next').click();
    await d.locator('section[data-step="3"]:not([hidden])').waitFor();
    if (!apiOnly) await d.getByLabel(L['invite.message']).fill(D.message);
    await stop(apiOnly ? 'invite, step 3 (API only)' : 'invite, step 3 (a person)');
    await button(d, 'invite.send').click();
    return d;
  };
  await (await invite({ email: API_USER, first: 'CRM', last: 'Sync' }, true)).waitFor({ state: 'detached' });
  await invite(D.person, false);
  await dialog(page, L['invite.sentTitle']).locator('#invitation-sent').waitFor();
  await stop('invitation sent');
  await closeDialog(dialog(page, L['invite.sentTitle']), 'action.done');
  const apiRow = row(page, 'email', API_USER);
  await apiRow.locator('[data-action=edit]').click();
  dlg = dialog(page, T('users.editTitle', { email: API_USER }));
  await stop('edit user');
  await closeDialog(dlg);
  await apiRow.locator('[data-action=lock]').click();
  dlg = dialog(page, T('users.lockTitle', { email: API_USER }));
  await dlg.getByLabel(L['users.lockReason']).fill(D.lockReason);
  await stop('lock user');
  await button(dlg, 'users.lock').click();
  await dlg.waitFor({ state: 'detached' });
  await apiRow.locator('[data-action=unlock]').click();
  dlg = dialog(page, T('users.unlockTitle', { email: API_USER }));
  await stop('unlock user');
  await button(dlg, 'users.unlock').click();
  await dlg.waitFor({ state: 'detached' });
  await apiRow.locator('[data-action=lock]').waitFor();
  await apiRow.locator('[data-action=delete]').click();
  dlg = dialog(page, L['users.deleteTitle']);
  await stop('delete user?');
  await closeDialog(dlg);
  const personRow = row(page, 'email', D.person.email);
  await personRow.locator('[data-action=resend]').click();
  dlg = dialog(page, T('users.resendTitle', { email: D.person.email }));
  await stop('resend invitation');
  await closeDialog(dlg);
  await personRow.locator('[data-action=delete-invitation]').click();
  dlg = dialog(page, L['users.deleteInvitation']);
  await stop('delete invitation?');
  await closeDialog(dlg);
  // a colleague made with the CLI (active, a one-time password): Reset Password
  const colleague = cli(db, 'admin', 'create', '--email', D.colleague.email, '--first', D.colleague.first, '--last', D.colleague.last);
  await page.locator('#user-search').fill(D.colleague.email);
  await page.locator('#user-search').press('Enter');
  await row(page, 'email', D.colleague.email).locator('[data-action=reset-password]').click();
  dlg = dialog(page, T('users.resetTitle', { email: D.colleague.email }));
  await stop('reset password?');
  await closeDialog(dlg);

  // ---- Login History
  await page.locator('nav.tabs').getByRole('link', { name: L['logins.tab'], exact: true }).click();
  await page.locator('#login-list tbody tr').first().waitFor();
  await stop('login history');

  // ---- LaunchPoint
  await nav(page, L['nav.launchpoint']);
  await page.locator('#service-list').waitFor();
  await button(page, 'services.new').click();
  dlg = dialog(page, L['services.new']);
  await dlg.getByLabel(L['services.name']).fill(D.service);
  await dlg.getByLabel(L['services.description']).fill(D.serviceDesc);
  await dlg.getByLabel(L['services.user'], { exact: true }).selectOption(API_USER);
  await stop('new service');
  await button(dlg, 'action.create').click();
  dlg = dialog(page, D.service);
  await dlg.locator('#client-secret').waitFor();
  await stop('new service: the secret, once');
  await button(dlg, 'action.done').click();
  let ask = dialog(page, L['services.copiedTitle']);
  await stop('copied the secret?');
  await button(ask, 'services.copiedYes').click();
  await dlg.waitFor({ state: 'detached' });
  await row(page, 'service', D.service).waitFor();
  await stop('launchpoint');
  await row(page, 'service', D.service).locator('[data-action=details]').click();
  dlg = dialog(page, T('services.detailsTitle', { name: D.service }));
  await stop('view details');
  await button(dlg, 'services.getToken').click();
  await dlg.locator('#access-token').waitFor();
  await stop('view details: a token');
  await button(dlg, 'services.rotate').click();
  await dlg.locator('.rotate-box form').waitFor();
  await stop('rotate secret');
  await button(dlg, 'services.rotateConfirm').click();
  await dlg.locator('#new-secret').waitFor();
  await stop('rotate secret: the new secret');
  await button(dlg, 'action.close').last().click();
  ask = dialog(page, L['services.copiedTitle']);
  await button(ask, 'services.copiedYes').click();
  await dlg.waitFor({ state: 'detached' });
  await row(page, 'service', D.service).locator('[data-action=edit]').click();
  dlg = dialog(page, T('services.editTitle', { name: D.service }));
  await stop('edit service');
  await closeDialog(dlg);
  await row(page, 'service', D.service).locator('[data-action=delete]').click();
  dlg = dialog(page, L['services.deleteTitle']);
  await stop('delete service?');
  await closeDialog(dlg);

  // ---- Web Services
  await nav(page, L['nav.webservices']);
  await page.locator('#calls-7d').waitFor();
  await page.locator('#mail-list tbody tr[data-kind="invitation"]').first().waitFor();
  await stop('web services');
  await button(page, 'ws.editIp').click();
  dlg = dialog(page, L['ws.editIp']);
  await dlg.getByLabel(L['ws.ipEntries']).fill(D.badCidr);
  await button(dlg, 'action.save').click();
  await dlg.locator('[data-field=cidr] .field-error:not([hidden])').waitFor();
  await stop('edit IP restrictions: the server refuses an entry');
  await closeDialog(dlg);
  await button(page, 'ws.editLimits').click();
  dlg = dialog(page, L['ws.editLimits']);
  await stop('edit limits');
  await closeDialog(dlg);

  // ---- events the console does not make, so that the Audit Trail shows their details
  // too: gateway routes and a token key rotation (made with the CLI), and a refusal with
  // the server's message (an integration tries to invite an Admin)
  cli(db, 'route', 'add', '/rest/v1/leads.json', '--method', 'GET', '--permission', 'Read-Only Lead');
  cli(db, 'route', 'import', 'marketo');
  cli(db, 'key', 'rotate');
  cli(db, 'role', 'create', '--name', 'UM', '--permission', 'Access User Management Api', '--permission', 'Access Users');
  cli(db, 'user', 'invite', '--email', 'um@example.com', '--first', 'Um', '--last', 'Api', '--role', 'UM', '--api-only');
  const um = cli(db, 'service', 'create', '--name', 'UM', '--user', 'um@example.com');
  let id; // the running server sees the service made with the CLI within a moment
  for (let i = 0; i < 100 && id?.status !== 200; i++) {
    if (i) await new Promise((res) => setTimeout(res, 100));
    id = await http(srv, `/identity/oauth/token?grant_type=client_credentials&client_id=${um.service.clientId}&client_secret=${um.clientSecret}`);
  }
  const refused = await http(srv, '/userservice/management/v1/users/invite.json', {
    method: 'POST', headers: { Authorization: `Bearer ${id.json.access_token}` },
    body: { emailAddress: 'boss@example.com', firstName: 'B', lastName: 'S', userRoleWorkspaces: [{ accessRoleId: 1, workspaceId: 0 }] },
  });
  if (refused.status !== 403) throw new Error(`the refusal for the Audit Trail: ${refused.status} ${refused.text}`);

  // ---- Audit Trail, with every detail open
  await nav(page, L['nav.audit']);
  await page.locator('#audit-list tbody tr[data-area="Email"]').first().waitFor();
  for (const area of ['Denied', 'Token Keys']) await page.locator(`#audit-list tbody tr[data-area="${area}"]`).first().waitFor();
  await page.evaluate(() => { for (const d of document.querySelectorAll('details')) d.open = true; });
  await stop('audit trail');

  // ---- Change password, then signed out
  await page.locator('header').getByRole('link', { name: L['nav.changePassword'] }).click();
  await page.getByRole('heading', { level: 1, name: L['password.title'] }).waitFor();
  await stop('change password');
  await page.locator('#logout').click();
  await page.getByRole('heading', { level: 1, name: L['login.title'], exact: true }).waitFor();
  await stop('sign in');
  await page.locator('#forgot-link').click();
  await page.getByRole('heading', { level: 1, name: L['forgot.title'] }).waitFor();
  await stop('forgot password');
  await page.getByLabel(L['user.email']).fill(D.colleague.email);
  await button(page, 'forgot.submit').click();
  await page.locator('#forgot-sent').waitFor();
  await stop('forgot password: sent');
  for (const [where, key] of [['/invite', 'accept.title'], ['/reset', 'reset.title']]) {
    await page.goto(`${srv.url}${where}`);
    await ready(page);
    await page.getByRole('heading', { level: 1, name: L[key] }).waitFor();
    await stop(`${where}, a link without its token`);
  }
  // the single-use links' pages, from the emails in the outbox (not submitted: the
  // colleague signs in with the one-time password below)
  for (const [email, kind, key] of [[D.person.email, 'invite', 'accept.title'], [D.colleague.email, 'reset', 'reset.title']]) {
    await page.goto(await linkTo(email, kind));
    await ready(page);
    await page.getByRole('heading', { level: 1, name: L[key] }).waitFor();
    await page.locator('form input[type=password]').first().waitFor();
    await stop(`${kind} link`);
  }
  // the colleague's first sign-in: a one-time password must be replaced first
  await page.goto(`${srv.url}/#/login`);
  await ready(page);
  await login(page, srv.url, D.colleague.email, colleague.password, { submit: L['login.submit'] });
  await page.getByText(L['password.forced']).waitFor();
  await stop('a one-time password to replace');
}
