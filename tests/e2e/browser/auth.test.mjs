// Signing in to the console: lockout after 5 failures and the admin's unlock, the forced
// change of a one-time password, API-only users who can never sign in, CSRF, and the end
// of an idle session.
import { after, test } from 'node:test';
import {
  ADMIN, announced, assert, cli, closeBrowser, dialog, http, login, nav, newPage, ready, row, setupAdmin, sleep,
  startConsole, stepper,
} from './browser-lib.mjs';

after(closeBrowser);

test('no lockout after 5 failed sign-ins: a wait, then the forced password change', async (t) => {
  const { srv, db, setupLink } = await startConsole(t);
  const admin = await newPage(t);
  await setupAdmin(admin, setupLink);
  const step = stepper(t);
  // a second administrator made with the CLI: a one-time password
  const bea = cli(db, 'admin', 'create', '--email', 'bea@example.com', '--first', 'Bea', '--last', 'Tester');
  const oneTime = bea.password;
  const page = await newPage(t);

  await step('5 wrong passwords never lock the account: further attempts are asked to wait', async () => {
    await page.goto(`${srv.url}/`);
    await ready(page);
    await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
    for (let i = 1; i <= 5; i++) {
      await login(page, srv.url, 'bea@example.com', `wrong password number ${i}`);
      await page.locator('.form-error:not([hidden])').getByText(/^Sign-in failed\./).waitFor();
      // the email stays, the password is cleared
      assert.equal(await page.getByLabel('Email').inputValue(), 'bea@example.com');
      assert.equal(await page.getByLabel('Password').inputValue(), '');
    }
    // after the 5th failure each further one waits 2 s, 4 s, 8 s …: however slow this
    // machine is, the page soon says to wait (never that the account is locked)
    let asked = false;
    for (let i = 6; i <= 12 && !asked; i++) {
      await login(page, srv.url, 'bea@example.com', `wrong password number ${i}`);
      const shown = page.locator('.form-error:not([hidden])');
      await shown.getByText(/^(Sign-in failed\.|Too many attempts)/).waitFor();
      asked = /^Too many attempts/.test(await shown.textContent());
    }
    assert.ok(asked, 'the page asked to wait');
    assert.equal(await page.locator('#logout').count(), 0);
  });

  await step('the admin sees the failures; the account is still active', async () => {
    await nav(admin, 'Users & Roles', 'Users');
    const r = row(admin, 'email', 'bea@example.com');
    await r.waitFor();
    assert.doesNotMatch(await r.locator('[data-col=status]').textContent(), /Locked/);
    await admin.locator('nav.tabs').getByRole('link', { name: 'Login History' }).click();
    await admin.getByLabel('Email', { exact: true }).fill('bea@example.com');
    await admin.getByLabel('Only Failed Logins').check();
    await admin.getByRole('button', { name: 'Apply' }).click();
    await admin.waitForFunction(() => document.querySelectorAll('tbody tr[data-success="false"]').length >= 5
      && document.querySelectorAll('tbody tr[data-success="true"]').length === 0);
    assert.deepEqual([...new Set(await admin.locator('tbody tr [data-col=email]').allTextContents())], ['bea@example.com']);
    await admin.locator('nav.tabs').getByRole('link', { name: 'Users' }).click();
  });

  await step('after the wait the one-time password works and must be changed first', async () => {
    // the wait is at most 16 s here (docs/security.md#console-sign-in)
    for (let i = 0; i < 12; i++) {
      await login(page, srv.url, 'bea@example.com', oneTime);
      const done = page.getByRole('heading', { name: 'Change password', exact: true });
      const wait = page.locator('.form-error:not([hidden])').getByText(/^Too many attempts/);
      await done.or(wait).first().waitFor();
      if (await done.count()) break;
      await sleep(3000);
    }
    await page.getByRole('heading', { name: 'Change password', exact: true }).waitFor();
    await page.getByText('You signed in with a one-time password').waitFor();
    // nothing else is offered until the password is changed
    assert.equal(await page.locator('nav.main-nav').count(), 0);
    await page.goto(`${srv.url}/#/users`);
    await ready(page);
    await page.getByRole('heading', { name: 'Change password', exact: true }).waitFor();
    const api = await page.evaluate(async () => (await fetch('/admin/api/users')).status);
    assert.equal(api, 403);
    await page.getByLabel('Current password').fill(oneTime);
    await page.getByLabel('New password', { exact: true }).fill('a much better secret 42');
    await page.getByLabel('Repeat new password').fill('a much better secret 42');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('heading', { level: 1, name: 'Admin', exact: true }).waitFor();
    await page.locator('nav.main-nav').getByRole('link', { name: 'Users & Roles' }).waitFor();
  });

  await step('an API-only user can never sign in (same message as a wrong password)', async () => {
    cli(db, 'role', 'create', '--name', 'API Only', '--permission', 'Read-Only Lead');
    cli(db, 'user', 'invite', '--email', 'robot@example.com', '--first', 'Ro', '--last', 'Bot', '--role', 'API Only', '--api-only');
    await page.locator('#logout').click();
    await login(page, srv.url, 'robot@example.com', 'whatever password 123');
    await page.locator('.form-error:not([hidden])').getByText(/^Sign-in failed\./).waitFor();
  });

  admin.assertClean();
  page.assertClean();
});

test('CSRF: a state-changing call without the token is refused', async (t) => {
  const { srv, setupLink } = await startConsole(t);
  const page = await newPage(t);
  await setupAdmin(page, setupLink);
  const body = JSON.stringify({ name: 'Sneaky', description: '', permissions: ['Read-Only Lead'] });
  const results = await page.evaluate(async (b) => {
    const post = async (headers) => {
      const r = await fetch('/admin/api/roles', { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: b });
      return { status: r.status, body: await r.json() };
    };
    const csrf = (await (await fetch('/admin/api/session')).json()).csrf;
    return { none: await post({}), wrong: await post({ 'X-CSRF-Token': 'x'.repeat(43) }), right: await post({ 'X-CSRF-Token': csrf }) };
  }, body);
  assert.equal(results.none.status, 403);
  assert.equal(results.none.body.error.code, 'csrf');
  assert.equal(results.wrong.status, 403);
  assert.equal(results.wrong.body.error.code, 'csrf');
  assert.equal(results.right.status, 200, JSON.stringify(results.right));
  // the refused calls changed nothing: one "Sneaky" role (from the call with the token)
  await nav(page, 'Users & Roles', 'Roles');
  await row(page, 'role', 'Sneaky').waitFor();
  assert.equal(await page.locator('tbody tr[data-role="Sneaky"]').count(), 1);
  // a DELETE without the token, from Node with the session cookie, is refused too
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'lk_session');
  assert.ok(session, 'a session cookie');
  assert.ok(session.httpOnly, 'HttpOnly');
  assert.equal(session.sameSite, 'Strict');
  const roles = await http(srv, '/admin/api/roles', { headers: { Cookie: `lk_session=${session.value}` } });
  const id = roles.json.find((r) => r.name === 'Sneaky').id;
  const del = await http(srv, `/admin/api/roles/${id}`, { method: 'DELETE', headers: { Cookie: `lk_session=${session.value}` } });
  assert.equal(del.status, 403);
  assert.equal(del.json.error.code, 'csrf');
  // the page itself sends the token: deleting through the UI works
  await row(page, 'role', 'Sneaky').locator('[data-action=delete]').click();
  await dialog(page, 'Delete Role').getByRole('button', { name: 'Delete' }).click();
  await announced(page, /Role Sneaky deleted/);
  page.assertClean();
});

test('an idle session ends: the page asks to sign in again and returns where it was', async (t) => {
  const { srv, setupLink } = await startConsole(t, { args: ['--console-idle-timeout', '5'] });
  const page = await newPage(t);
  await setupAdmin(page, setupLink);
  await nav(page, 'LaunchPoint');
  await page.getByRole('heading', { level: 1, name: 'LaunchPoint' }).waitFor();
  // idle for longer than the timeout (the server's clock decides; bounded below)
  let ended = false;
  for (let i = 0; i < 40 && !ended; i++) {
    await sleep(500);
    if (i >= 10) ended = (await http(srv, '/admin/api/session', { headers: { Cookie: await cookieHeader(page) } })).status === 401;
  }
  assert.ok(ended, 'the session ended within 20 s of idling with a 5 s idle timeout');
  await page.getByRole('button', { name: 'New Service' }).click();
  await page.getByText('Your session has ended. Please sign in again.').waitFor();
  await login(page, srv.url, ADMIN.email, ADMIN.password);
  await page.getByRole('heading', { level: 1, name: 'LaunchPoint' }).waitFor();
  page.assertClean();
});

async function cookieHeader(page) {
  return (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
}
