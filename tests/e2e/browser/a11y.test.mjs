// axe-core (WCAG 2.x A and AA, best practices) on every page and every dialog of the
// console, in English (german-words.test.mjs does the same tour in German): zero
// violations. The tour is tour.mjs; the pages also report no error and no CSP violation.
import { after, test } from 'node:test';
import { assertAccessible, closeBrowser, newPage, startConsole } from './browser-lib.mjs';
import { tour } from './tour.mjs';

after(closeBrowser);

test('every page and dialog, in English: no axe-core violation', async (t) => {
  const { srv, db, setupLink } = await startConsole(t);
  const page = await newPage(t);
  const stops = [];
  await tour(page, {
    srv, db, setupLink, lang: 'en',
    stop: async (name) => {
      stops.push(name);
      await assertAccessible(page, name);
    },
  });
  t.diagnostic(`${stops.length} pages and dialogs checked`);
  page.assertClean();
});
