// The German console has no English word in it: the tour of tour.mjs in German, and at
// every page and dialog every text the console shows — text, labels, options, button
// names, aria-labels, titles, placeholders, the window's title — is split into words,
// and a word of the console's English (its English dictionary, the server's messages)
// that German does not use too fails the test, unless it is a product term:
// permission names (the identifiers of the CLI and the APIs), LaunchPoint, API, ….
// Data is left out: what is marked translate="no" (emails, names, descriptions,
// addresses, as people typed them or the server keeps them), code (ids, secrets,
// tokens), and what is in another language on purpose (the language switch's
// "English", lang="en"). axe-core checks every stop too.
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { newDb } from '../lib.mjs';
import { assert, assertAccessible, cli, closeBrowser, newPage, startConsole } from './browser-lib.mjs';
import { serverMessages } from './server-messages.mjs';
import { DICT, tour } from './tour.mjs';

after(closeBrowser);

const CONSOLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/console');
const MESSAGES_DE = JSON.parse(fs.readFileSync(path.join(CONSOLE, 'messages-de.json'), 'utf8'));

// the names the product keeps in every language (phrases are taken out whole)
const PRODUCT_TERMS = ['latchkey admin create', 'LaunchPoint', 'latchkey', 'AllZones', 'API', 'REST', 'curl', 'CSV', 'IP', 'IPv4',
  'IPv6', 'CIDR', 'SMTP', 'UTF-8', 'Admin', 'Identity', 'Client-ID', 'Client-Secret', 'Token', 'Service', 'Services', 'OK',
  'Smart Campaign', 'Named Accounts', 'Named-Account-Listen', 'Assets', 'Leads', 'Lead', 'Opportunities', 'English', 'Deutsch',
  'Marketo', 'nginx', 'Caddy', 'HTTP', 'GET', 'POST'];

// Words that German writes as English does (loanwords, or the same word): each was
// checked by a person. Not derived from the German dictionary, which is what is tested.
const SHARED = ['admin', 'administrator', 'an', 'bits', 'bytes', 'client', 'db', 'details', 'eml', 'format', 'hand', 'hash',
  'host', 'id', 'in', 'integration', 'lang', 'limit', 'limits', 'link', 'links', 'mm', 'name', 'optional', 'per', 'person', 'schemas', 'secret',
  'server', 'spam', 'start', 'status', 'system', 'text', 'urls', 'was', 'gateway', 'route'];

const words = (text) => (String(text).replace(/\{\w+\}/g, ' ').match(/[A-Za-zÄÖÜäöüß]{2,}/g) || []).map((w) => w.toLowerCase());

// the English the console could show: its dictionary and the server's messages
const ENGLISH = new Set([
  ...Object.values(DICT.en).flatMap(words),
  ...serverMessages().flatMap((m) => words(m.template.replace(/%[-.\d]*[a-z]+/g, ' '))),
  ...Object.keys(MESSAGES_DE.words).flatMap(words),
]);
const ALLOWED = new Set([...SHARED, ...PRODUCT_TERMS.flatMap(words)]);

// the permissions of a fresh database, longest first ("Read-Only Custom Object Type"
// before "Read-Only Custom Object"): product terms, taken out of a text before it is split
let PERMISSIONS = [];
const productFree = (text) => [...PERMISSIONS, ...PRODUCT_TERMS].reduce((acc, p) => acc.split(p).join(' '), String(text));

// the English words of a German text: {word: the text}
function englishIn(texts) {
  const found = new Map();
  for (const text of texts) {
    // an email address or a URL is data wherever it stands
    const clean = productFree(text).replace(/\S+@\S+|https?:\/\/\S+/g, ' ');
    for (const w of words(clean)) if (ENGLISH.has(w) && !ALLOWED.has(w)) found.set(w, String(text).trim().slice(0, 120));
  }
  return [...found];
}

async function germanWordsTest(t) {
  const { srv, db, setupLink } = await startConsole(t);
  const page = await newPage(t, { locale: 'de-DE' });
  PERMISSIONS = cli(db, 'permission', 'list').permissions.map((p) => p.name).sort((a, b) => b.length - a.length);
  const stops = [];
  await tour(page, {
    srv, db, setupLink, lang: 'de',
    stop: async (name) => {
      stops.push(name);
      const texts = await page.evaluate(() => {
        const out = [document.title];
        const skip = (el) => el.closest('[translate="no"], code, script, style, [hidden], template')
          || (el.closest('[lang]') && el.closest('[lang]').getAttribute('lang') !== 'de');
        const shown = (el) => {
          const sel = el.closest('select');
          if (sel) return sel.checkVisibility(); // an option is text even while its list is closed
          return el.checkVisibility({ checkOpacity: false, checkVisibilityCSS: true });
        };
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const el = n.parentElement;
          if (!n.textContent.trim() || skip(el) || !shown(el)) continue;
          out.push(n.textContent);
        }
        for (const el of document.body.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
          if (skip(el) || !el.checkVisibility()) continue;
          for (const a of ['aria-label', 'title', 'placeholder', 'alt']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
        }
        return out;
      });
      const found = englishIn(texts);
      assert.deepEqual(found, [], `English on the German page "${name}": ${JSON.stringify(found)}`);
      await assertAccessible(page, `${name} (Deutsch)`);
    },
  });
  t.diagnostic(`${stops.length} pages and dialogs checked`);
  page.assertClean();
}

test('every German page and dialog: no English word outside the product terms, and no axe-core violation', germanWordsTest);

// the same rule on every German text, shown by the tour or not: the dictionary and the
// translations of the server's messages
test('the German dictionary and the German server messages have no English word', (t) => {
  const db = newDb();
  t.after(() => db.remove());
  PERMISSIONS = cli(db, 'permission', 'list').permissions.map((p) => p.name).sort((a, b) => b.length - a.length);
  const texts = [...Object.values(DICT.de), ...Object.values(MESSAGES_DE.templates), ...Object.values(MESSAGES_DE.words)];
  assert.deepEqual(englishIn(texts), []);
});
