// Helpers for the console's browser tests (tests/e2e/browser/*.test.mjs).
//
// Each test starts the real binary ($LATCHKEY_BIN) on a fresh database (server-lib.mjs),
// reads the one-time setup link it prints, and drives Debian's chromium through the
// console with playwright-core, asserting what the page shows. Every wait is bounded
// (page default timeout); nothing asserts timings. Any page error, console error or
// CSP violation fails the test (checked by page.assertClean(), run at the end).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { cli, cliRaw, sleep, startServer } from '../server-lib.mjs';
import { newDb } from '../lib.mjs';

export { assert, cli, cliRaw, sleep };

export const CHROMIUM = process.env.LATCHKEY_CHROMIUM || '/usr/bin/chromium';
export const WAIT_MS = 15_000;
export const ADMIN = { email: 'ada@example.com', first: 'Ada', last: 'Lovelace', password: 'correct horse battery staple' };

/* ---------------------------------------------------------------- server */

// A fresh database and `latchkey serve` on a free loopback port; resolves to
// {srv, db, setupLink} (setupLink: the "http://…/setup#TOKEN" URL of the file the log names).
export async function startConsole(t, { args = [], env } = {}) {
  const db = newDb();
  t.after(() => db.remove());
  const srv = await startServer(t, db, args, { env });
  const deadline = Date.now() + WAIT_MS;
  let m = null;
  // the link is in the file the log names (stderr is no terminal here)
  while (!(m = /the single-use setup link \(valid for 24 hours\) is in (\S+),/.exec(srv.stderr())) && Date.now() < deadline)
    await sleep(50);
  return { srv, db, setupLink: m ? fs.readFileSync(m[1], 'utf8').trim() : null };
}

/* ---------------------------------------------------------------- browser */

let shared = null;
// one chromium per test file; each test gets its own context (cookies, storage)
export async function browser() {
  if (!shared) {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} missing: run "sh scripts/deps.sh" (installs Debian's chromium)`);
    const args = ['--disable-dev-shm-usage', '--disable-gpu', '--no-first-run'];
    if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
    shared = await chromium.launch({ executablePath: CHROMIUM, headless: true, args, timeout: 30_000 });
  }
  return shared;
}

export async function closeBrowser() {
  if (shared) {
    const b = shared;
    shared = null;
    await b.close();
  }
}

/*
 * A new page in a new context ({locale: 'de-DE'} for German; timezoneId: the browser's
 * time zone, the host's by default); records page errors,
 * console errors and CSP reports. page.assertClean() fails on any of them.
 */
const openPages = new Set();

// what a failed step leaves behind: each open page's address, its dialogs (title, open?)
// and the errors it reported — so that a failure seen once on CI can be understood
async function diagnosis() {
  const out = [];
  for (const page of openPages) {
    const dialogs = await page.evaluate(() => [...document.querySelectorAll('dialog')]
      .map((d) => `${d.open ? 'open' : 'closed'} "${(d.querySelector('h2') || {}).textContent || ''}"`))
      .catch((e) => [`(page not readable: ${e.message})`]);
    out.push(`page ${page.url()}: dialogs [${dialogs.join(', ')}]; problems [${page.problems.join(' | ')}]`);
  }
  return out.join('\n');
}

export async function newPage(t, { locale = 'en-US', viewport = { width: 1280, height: 800 }, timezoneId } = {}) {
  const b = await browser();
  const ctx = await b.newContext({ locale, viewport, acceptDownloads: true, timezoneId });
  t.after(() => ctx.close().catch(() => {}));
  const page = await ctx.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.setDefaultNavigationTimeout(WAIT_MS);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    // a refused request logs "Failed to load resource: … 4xx": that is the API talking
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(text)) problems.push(`console ${m.type()}: ${text}`);
    if (/Content Security Policy/i.test(text)) problems.push(`CSP: ${text}`);
  });
  page.problems = problems;
  openPages.add(page);
  page.on('close', () => openPages.delete(page));
  page.allowProblem = (re) => { page.allowed = [...(page.allowed || []), re]; };
  page.assertClean = () => {
    const left = problems.filter((p) => !(page.allowed || []).some((re) => re.test(p)));
    assert.deepEqual(left, [], 'the page reported errors');
  };
  return page;
}

// waits for the app to have rendered (body[data-ready])
export async function ready(page) {
  await page.waitForSelector('body[data-ready="1"]', { state: 'attached' });
}

// the status line's text once it says something matching re
export async function announced(page, re) {
  await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('status')?.textContent || ''), re.source);
  return page.textContent('#status');
}

/* ---------------------------------------------------------------- flows */

// Opens the printed setup link and creates the first admin; ends on the Admin page.
export async function setupAdmin(page, link, a = ADMIN, { submit = 'Create administrator', landing = 'Admin' } = {}) {
  await page.goto(link);
  await ready(page);
  await page.getByLabel(/^(Email|E-Mail)/).fill(a.email);
  await page.getByLabel(/^(First Name|Vorname)/).fill(a.first);
  await page.getByLabel(/^(Last Name|Nachname)/).fill(a.last);
  await page.getByLabel(/^(New password|Neues Passwort)/).first().fill(a.password);
  await page.getByLabel(/^(Repeat new password|Neues Passwort wiederholen)/).fill(a.password);
  await page.getByRole('button', { name: submit }).click();
  await page.getByRole('heading', { level: 1, name: landing, exact: true }).waitFor();
}

export async function login(page, url, email, password, { submit = 'Sign in' } = {}) {
  if (!page.url().startsWith(url)) {
    await page.goto(`${url}/#/login`);
    await ready(page);
  }
  await page.getByLabel(/^(Email|E-Mail)/).fill(email);
  await page.getByLabel(/^(Password|Passwort)/).fill(password);
  await page.getByRole('button', { name: submit, exact: true }).click();
}

export async function logout(page) {
  await page.locator('#logout').click();
  await page.locator('form input[type=password]').first().waitFor();
}

// a dialog by its title
export const dialog = (page, name) => page.getByRole('dialog', { name });

// the table row that shows `text` in the list under root
export const row = (root, attr, value) => root.locator(`tbody tr[data-${attr}="${value}"]`);

// navigates through the header and (optionally) a tab, as a person clicks
export async function nav(page, link, tab) {
  await page.locator('nav.main-nav').getByRole('link', { name: link, exact: true }).click();
  if (tab) await page.locator('nav.tabs').getByRole('link', { name: tab, exact: true }).click();
}

// a JSON call to the server from Node (not the browser): {status, json, headers}
export async function http(srv, path, { method = 'GET', headers = {}, body } = {}) {
  const r = await fetch(`${srv.url}${path}`, {
    method, headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, json, text, headers: r.headers };
}

// Steps of one long flow: once a step fails, the later ones are skipped (they would
// only time out one after the other).
export function stepper(t) {
  let failed = '';
  return (name, fn) => t.test(name, { skip: failed ? `an earlier step failed: ${failed}` : false }, async (st) => {
    try {
      await fn(st);
    } catch (e) {
      failed = name;
      const seen = await diagnosis();
      if (seen && e instanceof Error) e.message += `\n-- at the failure:\n${seen}`;
      throw e;
    }
  });
}

/* ---------------------------------------------------------------- accessibility */

// axe-core (npm, test-only) runs inside the page. Its source goes in through the
// DevTools protocol, which the page's Content-Security-Policy does not govern; the
// console's own scripts stay under the CSP, whose reports still fail the test.
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/*
 * Runs axe-core on the page as it is (open dialogs included) and fails with every
 * violation: rule, impact, what it says and the elements concerned. The rules are
 * axe's defaults for WCAG 2.0/2.1/2.2 A and AA and its best practices.
 */
export async function assertAccessible(page, where) {
  if (!await page.evaluate(() => Boolean(window.axe))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      rule: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`),
    }));
  });
  assert.deepEqual(violations, [], `axe-core on ${where}:\n${JSON.stringify(violations, null, 2)}`);
}
