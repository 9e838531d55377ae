// A large instance (issue 12, "Lists that stay small"): 1,000,000 API-only users, each
// with a custom service (bench/seed.py). The console's Users and LaunchPoint pages open in
// the browser within the ordinary waits, page, search and filter; paging through a few
// hundred thousand rows of both lists, no answer reaches 1 MB and the server's memory
// (VmRSS of /proc/PID/status) stays within 10 % of what it was at rest; the user
// management API's allusers.json still pages by offset that deep.
//
// The server here is the optimised build (build/latchkey, or $LATCHKEY_LARGE_BIN), not
// the ASan one of the other tests: AddressSanitizer keeps freed memory in quarantine
// (256 MB by default), so its RSS says nothing about the server's, and it is slower.
// $LATCHKEY_LARGE_COUNT seeds another number of users (for a quicker run by hand).
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  WAIT_MS, assert, cli, closeBrowser, dialog, login, nav, newPage, ready, sleep,
} from './browser-lib.mjs';
import { ROOT, newDb, sql } from '../lib.mjs';
import { UM, rest, startServer, token } from '../server-lib.mjs';
import { benchEmail, seedApiUsers } from '../seed-lib.mjs';

after(closeBrowser);

const COUNT = Number(process.env.LATCHKEY_LARGE_COUNT || 1_000_000);
const BIN = process.env.LATCHKEY_LARGE_BIN || path.join(ROOT, 'build/latchkey');
const MB = 1024 * 1024;
const PASSWORD = 'correct horse battery staple';
const fmt = (n) => new Intl.NumberFormat('en-GB').format(n);
const USERS = COUNT + 2;    // and the console's admin and the user management API's user
const SERVICES = COUNT + 1; // and the latter's service

function vmRss(pid) {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `VmRSS of ${pid}`);
  return Number(m[1]) * 1024;
}

// the resting figure: VmRSS once it stopped moving (the catalog rebuilt after the
// sign-in wrote the user's last sign-in) — two samples a second apart within 1 %
async function restingRss(pid) {
  let last = vmRss(pid);
  for (let i = 0; i < 120; i++) {
    await sleep(1000);
    const now = vmRss(pid);
    if (Math.abs(now - last) <= last * 0.01) return now;
    last = now;
  }
  assert.fail(`VmRSS of ${pid} did not settle within 2 minutes (last ${last})`);
  return last;
}

test(`a large instance: ${fmt(COUNT)} API-only users and services`, { timeout: 30 * 60_000 }, async (t) => {
  assert.ok(fs.existsSync(BIN), `${BIN} missing: this test runs the optimised build ("make build")`);
  const db = newDb();
  t.after(() => db.remove());
  const role = cli(db, 'role', 'create', '--name', 'API Only', '--permission', 'Read-Only Lead').role;
  const seeded = seedApiUsers(db, COUNT, role.id);
  t.diagnostic(`seeded ${fmt(COUNT)} users and services in ${(seeded / 1000).toFixed(1)} s`);
  const admin = cli(db, 'admin', 'create', '--email', 'ada@example.com', '--first', 'Ada', '--last', 'Lovelace');
  // an integration of the user management API, to page allusers.json deep down
  cli(db, 'role', 'create', '--name', 'User Admin', '--permission', 'Access User Management Api', '--permission', 'Access Users');
  cli(db, 'user', 'invite', '--email', 'um@example.com', '--first', 'Um', '--last', 'Api', '--role', 'User Admin', '--api-only');
  const um = cli(db, 'service', 'create', '--name', 'UM', '--user', 'um@example.com');

  const started = Date.now();
  const srv = await startServer(t, db, [], { bin: BIN, startTimeoutMs: 5 * 60_000 });
  t.diagnostic(`server listening after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const pid = srv.proc.pid;

  const page = await newPage(t);
  const answers = []; // [url, bytes] of every console API answer the page received
  page.on('response', async (r) => {
    if (!r.url().includes('/admin/api/')) return;
    try { answers.push([r.url(), (await r.body()).length]); } catch { /* a navigation dropped it */ }
  });

  // first sign-in with the one-time password; then the two pages once, at rest
  await page.goto(`${srv.url}/`);
  await ready(page);
  await login(page, srv.url, 'ada@example.com', admin.password);
  await page.getByLabel('Current password').fill(admin.password);
  await page.getByLabel('New password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Repeat new password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByRole('heading', { level: 1, name: 'Admin', exact: true }).waitFor();
  await nav(page, 'Users & Roles');
  await page.locator('#user-list tbody tr').first().waitFor();
  await nav(page, 'LaunchPoint');
  await page.locator('#service-list tbody tr').first().waitFor();
  const resting = await restingRss(pid);
  t.diagnostic(`VmRSS at rest: ${(resting / MB).toFixed(0)} MB`);

  await t.test('Users opens within the ordinary waits, with the count, pages, a search and a filter', async () => {
    const opened = Date.now();
    await nav(page, 'Users & Roles');
    await page.getByText(`1–50 of ${fmt(USERS)} users`).waitFor({ timeout: WAIT_MS });
    t.diagnostic(`Users page shown ${Date.now() - opened} ms after the click`);
    assert.equal(await page.locator('#user-list tbody tr').count(), 50);
    const pager = page.getByRole('navigation', { name: 'Pages' });
    for (let i = 2; i <= 4; i++) {
      await pager.getByRole('button', { name: 'Next' }).click();
      await page.getByText(`${fmt(50 * (i - 1) + 1)}–${fmt(50 * i)} of ${fmt(USERS)} users`).waitFor();
    }
    const last = Math.max(1, COUNT - 1);
    await page.getByLabel('Search users').fill(`bench-${last}`);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator(`#user-list tbody tr[data-email="${benchEmail(last)}"]`).waitFor();
    await page.getByLabel('Search users').fill('bench');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText(/of more than 10,000 users|^[\d,]+ users$/).waitFor();
    await page.getByLabel('Search users').fill('');
    await page.locator('#user-api-only').selectOption({ label: 'People' });
    await page.getByText('1 user', { exact: true }).waitFor();
    assert.equal(await page.locator('#user-list tbody tr').getAttribute('data-email'), 'ada@example.com');
  });

  await t.test('LaunchPoint opens within the ordinary waits, pages and searches; New Service offers a page of users', async () => {
    const opened = Date.now();
    await nav(page, 'LaunchPoint');
    await page.getByText(`1–50 of ${fmt(SERVICES)} services`).waitFor({ timeout: WAIT_MS });
    t.diagnostic(`LaunchPoint page shown ${Date.now() - opened} ms after the click`);
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name: 'Next' }).click();
    await page.getByText(`51–100 of ${fmt(SERVICES)} services`).waitFor();
    await page.getByLabel('Search services').fill(benchEmail(COUNT));
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator(`#service-list tbody tr[data-service="bench-${COUNT}"]`).waitFor();
    await page.getByRole('button', { name: 'New Service' }).click();
    const dlg = dialog(page, 'New Service');
    await dlg.getByLabel('API Only User').locator('option').nth(50).waitFor({ state: 'attached' });
    assert.equal(await dlg.getByLabel('API Only User').locator('option').count(), 51);
    await dlg.getByLabel('Find an API-only user').fill(`bench-${COUNT}`);
    await dlg.getByLabel('API Only User').locator(`option[value="${benchEmail(COUNT)}"]`).waitFor({ state: 'attached' });
    await dlg.getByRole('button', { name: 'Cancel' }).click();
  });

  await t.test('the user management API pages allusers.json as deep as the last users', async () => {
    const tok = await token(srv, { clientId: um.service.clientId, secret: um.clientSecret });
    const offset = Math.floor(USERS * 0.9);
    const before = Date.now();
    const r = await rest(srv, `${UM}/allusers.json`, tok, { query: { pageOffset: offset, pageSize: 200 } });
    t.diagnostic(`allusers.json at pageOffset ${fmt(offset)}: ${Date.now() - before} ms`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.map((u) => u.id), sql(db, `SELECT id FROM users WHERE status <> 'pending' ORDER BY id LIMIT 200 OFFSET ${offset}`).map((x) => x.id));
  });

  await t.test('paging through both lists: every answer under 1 MB, memory within 10 % of rest', async () => {
    // through the page's session, 1,000 rows at a time, as far as 200 pages of each
    const walked = await page.evaluate(async ({ pages, role }) => {
      const out = [];
      for (const [path, key] of [['/admin/api/users', 'users'], ['/admin/api/services', 'services']]) {
        let next = null;
        let rows = 0;
        for (let i = 0; i < pages; i++) {
          const r = await fetch(`${path}?limit=1000${next ? `&after=${next}` : ''}`, { credentials: 'same-origin' });
          const text = await r.text();
          if (r.status !== 200) return { error: `${path}: ${r.status} ${text.slice(0, 200)}` };
          const j = JSON.parse(text);
          out.push([`${path} page ${i + 1}`, new TextEncoder().encode(text).length]);
          rows += j[key].length;
          next = j.next;
          if (!next) break;
        }
        out.push([`${path} rows`, rows]);
      }
      // deep pages and searches cost an index seek
      for (const q of ['/admin/api/users?after=999000&limit=1000', '/admin/api/services?after=999000&limit=1000',
        '/admin/api/users?q=bench-99999&limit=1000', '/admin/api/services?q=bench&limit=1000',
        `/admin/api/users?role=${role}&limit=1000`, '/admin/api/apiusers?q=bench-5&limit=1000']) {
        const r = await fetch(q, { credentials: 'same-origin' });
        const text = await r.text();
        if (r.status !== 200) return { error: `${q}: ${r.status} ${text.slice(0, 200)}` };
        out.push([q, new TextEncoder().encode(text).length]);
      }
      return { out };
    }, { pages: 200, role: role.id });
    assert.ok(!walked.error, walked.error);
    const sizes = walked.out.filter(([what]) => !what.endsWith(' rows'));
    const rows = Object.fromEntries(walked.out.filter(([what]) => what.endsWith(' rows')));
    assert.equal(rows['/admin/api/users rows'], Math.min(200_000, USERS));
    assert.equal(rows['/admin/api/services rows'], Math.min(200_000, SERVICES));
    const all = [...sizes, ...answers];
    const biggest = all.reduce((a, b) => (b[1] > a[1] ? b : a), ['', 0]);
    t.diagnostic(`${all.length} list answers, the largest ${(biggest[1] / 1024).toFixed(0)} KB (${biggest[0]})`);
    assert.deepEqual(all.filter(([, n]) => n >= MB), [], 'no answer of 1 MB or more');

    const now = vmRss(pid);
    t.diagnostic(`VmRSS after paging: ${(now / MB).toFixed(0)} MB (at rest ${(resting / MB).toFixed(0)} MB)`);
    // a smaller instance by hand is allowed the few MB a page costs whatever the size
    const bound = resting * 1.10 + (COUNT < 1_000_000 ? 8 * MB : 0);
    assert.ok(now <= bound, `VmRSS ${(now / MB).toFixed(1)} MB is more than 10 % above its resting ${(resting / MB).toFixed(1)} MB`);
  });

  page.assertClean();
});
