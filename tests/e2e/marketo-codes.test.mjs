// Which answers count against the limits and in the usage statistics: Marketo's error
// table (reference §6.1) marks 601, 602, 604, 605, 608 and 611 as not counted. The
// server's catalog (src/http/envelope.c), every list of such codes in the docs, and a
// running server's RateLimit headers must all say the same.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  FORM_CT, USAGE, assertOk, assertRestError, assertUmError, call, makeInstance, rest, startServer, token, um,
} from './server-lib.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MARKETO_NOT_COUNTED = ['601', '602', '604', '605', '608', '611'];

test('the catalog in src/http/envelope.c marks exactly Marketo\'s uncounted codes', () => {
  const src = fs.readFileSync(path.join(ROOT, 'src/http/envelope.c'), 'utf8');
  const hdr = fs.readFileSync(path.join(ROOT, 'src/http/envelope.h'), 'utf8');
  const value = Object.fromEntries([...hdr.matchAll(/(LK_REST_\w+) = (\d+)/g)].map((m) => [m[1], m[2]]));
  const rows = [...src.matchAll(/\{(LK_REST_\w+), "[^"]*", (true|false)\}/g)].map((m) => [value[m[1]], m[2] === 'true']);
  assert.ok(rows.length >= 12, `catalog rows: ${rows.length}`);
  assert.deepEqual(rows.filter(([, counts]) => !counts).map(([c]) => c).sort(), MARKETO_NOT_COUNTED);
});

test('every list of uncounted codes in the docs is Marketo\'s', () => {
  const found = [];
  for (const file of ['docs/api.md', 'docs/server.md', 'README.md']) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    // a list of three or more codes ("601, 602, 605 or 611") next to words saying they do not count
    for (const m of text.matchAll(/\b6\d\d\b(?:(?:,\s*|,?\s+(?:or|and)\s+)\b6\d\d\b){2,}/g)) {
      // the clause the list stands in: back to the last '.', ';' or '|', on to the next
      const before = text.slice(0, m.index).split(/[.;|]/).pop().replace(/\s+/g, ' ');
      const after = text.slice(m.index + m[0].length).split(/[.;|(]/)[0].replace(/\s+/g, ' ');
      const around = `${before}${m[0]}${after}`;
      if (!/\b(not|never)\b/i.test(after) && !/\b(not|never) (be )?count/i.test(before)) continue;
      const codes = [...new Set(m[0].match(/6\d\d/g))].sort();
      found.push({ file, list: m[0] });
      assert.deepEqual(codes, MARKETO_NOT_COUNTED, `${file}: "…${around}…"`);
    }
  }
  assert.ok(found.length >= 3, `the docs state the list (found ${found.length})`);
});

test('a running server: 601, 602 and 605 leave the day as it was; 603, 610 and 612 use it up', async (t) => {
  const inst = makeInstance(t, { users: ['api@example.com'] });
  const srv = await startServer(t, inst.db, ['--token-ttl', '2']);
  const tok = await token(srv, inst.users[0].service);
  const left = (r) => Number(/"daily";r=(\d+)/.exec(r.headers.get('ratelimit') || '')?.[1]);
  const start = left(await rest(srv, USAGE, tok));
  assertRestError(await rest(srv, USAGE, 'nope'), 601);
  assertRestError(await rest(srv, USAGE, tok, { method: 'DELETE' }), 605);
  assert.equal(left(await rest(srv, USAGE, tok)), start - 1, 'only the successful call counted');
  assertRestError(await rest(srv, '/rest/v1/leads.json', tok), 610);
  // a token without the user management permissions (its role has Read-Only Lead only)
  assertUmError(await um(srv, '/allusers.json', tok), 403, 603, 'Access denied');
  assertRestError(await call(`${srv.url}${USAGE}?_method=GET`, {
    method: 'POST', headers: { Authorization: `Bearer ${tok}`, 'Content-Type': 'application/json' }, body: '{}',
  }), 612);
  const after = await call(`${srv.url}${USAGE}?_method=GET`, {
    method: 'POST', headers: { Authorization: `Bearer ${tok}`, 'Content-Type': FORM_CT }, body: 'a=1',
  });
  assertOk(after);
  assert.equal(left(after), start - 5, '603, 610, 612 and the _method=GET call counted');
  const [today] = assertOk(await rest(srv, '/rest/v1/stats/errors.json', tok));
  const byCode = Object.fromEntries(today.errors.map((e) => [e.errorCode, e.count]));
  assert.deepEqual(byCode, { 601: 1, 603: 1, 605: 1, 610: 1, 612: 1 }, 'every answered error is in the error statistics');
});
