// latchkey serve: the usage statistics endpoints (reference §9; issue 3 "Usage
// statistics"): calls per day per API user (userId = the user's email) and errors per
// day per Marketo code, for today and the last 7 days; which answers are counted; and
// `latchkey usage` agreeing with the server once it has stopped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  QUOTA_TZ, USAGE, assertOk, assertRestError, avoidMidnight, cli, creds, dateIn, dayQuota, eventually, identity,
  makeInstance, msToMidnight, rest, startServer, token,
} from './server-lib.mjs';

test('usage and errors: today per user and per code; 7-day views; CLI agrees after stop', async (t) => {
  await avoidMidnight(30);
  const inst = makeInstance(t, { users: ['a@example.com', 'b@example.com'] });
  cli(inst.db, 'limits', 'set', '--user', 'b@example.com', '--rate', '2/20');
  const srv = await startServer(t, inst.db);
  const ta = await token(srv, inst.user('a@example.com').service);
  const tb = await token(srv, inst.user('b@example.com').service);
  let a = 0;
  let b = 0;

  for (let i = 0; i < 3; i++, a++) assertOk(await rest(srv, '/rest/v1/stats/errors.json', ta), 'a: errors.json');
  assertRestError(await rest(srv, '/rest/v1/leads.json', ta), 610, 'Requested resource not found'); a++;
  assertRestError(await rest(srv, USAGE, ta, { method: 'POST' }), 605, 'HTTP Method not supported');   // not counted
  for (let i = 0; i < 5; i++) assertRestError(await rest(srv, USAGE, `garbage-${i}`), 601);            // not counted
  assertRestError(await rest(srv, USAGE), 601);                                                       // not counted
  for (let i = 0; i < 2; i++, b++) assertOk(await rest(srv, USAGE, tb), 'b: usage.json');
  assertRestError(await rest(srv, USAGE, tb), 606, "Max rate limit '2' exceeded with in '20' secs"); b++;

  const today = dayQuota(0);
  const usage = assertOk(await rest(srv, USAGE, ta), 'usage.json'); a++;
  assert.deepEqual(usage, [{
    date: today,
    total: 4 + 3,
    users: [{ userId: 'a@example.com', count: 4 }, { userId: 'b@example.com', count: 3 }],
  }], 'usage today: the 601 and 605 answers are not calls; 610 and 606 are');

  const errors = assertOk(await rest(srv, '/rest/v1/stats/errors.json', ta), 'errors.json'); a++;
  assert.deepEqual(errors, [{
    date: today,
    total: 6 + 1 + 1 + 1,
    errors: [
      { errorCode: '601', count: 6 },
      { errorCode: '605', count: 1 },
      { errorCode: '606', count: 1 },
      { errorCode: '610', count: 1 },
    ],
  }], 'errors today by code');

  // a call is counted once answered: each view shows the calls before it
  assert.equal(a, 6);
  const week = assertOk(await rest(srv, '/rest/v1/stats/usage/last7days.json', ta), 'usage/last7days.json');
  assert.equal(week.length, 7, JSON.stringify(week));
  assert.deepEqual(week.map((d) => d.date), [0, 1, 2, 3, 4, 5, 6].map(dayQuota), 'today first, then the six days before');
  assert.deepEqual(week[0], {
    date: today, total: a + b,
    users: [{ userId: 'a@example.com', count: a }, { userId: 'b@example.com', count: b }],
  });
  a++;
  for (const d of week.slice(1)) assert.deepEqual(d, { date: d.date, total: 0, users: [] });

  const eweek = assertOk(await rest(srv, '/rest/v1/stats/errors/last7days.json', ta), 'errors/last7days.json'); a++;
  assert.equal(eweek.length, 7);
  assert.deepEqual(eweek.map((d) => d.date), [0, 1, 2, 3, 4, 5, 6].map(dayQuota));
  assert.deepEqual(eweek[0], errors[0]);
  for (const d of eweek.slice(1)) assert.deepEqual(d, { date: d.date, total: 0, errors: [] });

  // stopping flushes the counts: the CLI reports what the server counted
  await srv.stop();
  const out = cli(inst.db, 'usage', '--days', '7');
  assert.equal(out.usage.length, 7);
  assert.deepEqual(out.usage[0], {
    date: today, total: a + b,
    users: [{ userId: 'a@example.com', count: a }, { userId: 'b@example.com', count: b }],
  }, 'latchkey usage after the server stopped');
  assert.deepEqual(out.errors[0], errors[0], 'latchkey usage: errors');
});

test('counts are per API user: two services of one user add up under that user', async (t) => {
  await avoidMidnight(15);
  const inst = makeInstance(t, { users: ['a@example.com'], servicesPerUser: 2 });
  const srv = await startServer(t, inst.db);
  const [s1, s2] = inst.users[0].services;
  const t1 = await token(srv, s1);
  const t2 = await token(srv, s2);
  assert.notEqual(t1, t2, 'each service has its own token');
  for (let i = 0; i < 3; i++) assertOk(await rest(srv, USAGE, t1));
  for (let i = 0; i < 2; i++) assertOk(await rest(srv, USAGE, t2));
  const usage = assertOk(await rest(srv, USAGE, t1));
  assert.deepEqual(usage[0].users, [{ userId: 'a@example.com', count: 5 }]);
  assert.equal(usage[0].total, 5);
});

test('quota_tz defaults to America/Chicago: the day and the daily reset are Marketo\'s (12:00 AM US Central); UTC stays an option', async (t) => {
  await avoidMidnight(20, QUOTA_TZ);
  await avoidMidnight(20, 'UTC');
  const inst = makeInstance(t, { users: ['a@example.com'] });
  const srv = await startServer(t, inst.db);
  const tok = await token(srv, inst.users[0].service);
  const r = await rest(srv, USAGE, tok);
  const [today] = assertOk(r);
  assert.equal(today.date, dateIn(QUOTA_TZ), 'the date in Chicago');
  const reset = Number(/"daily";r=\d+;t=(\d+)/.exec(r.headers.get('ratelimit'))[1]);
  const left = msToMidnight(QUOTA_TZ) / 1000;
  assert.ok(Math.abs(reset - left) <= 3, `daily reset in ${reset} s; midnight in Chicago in ${left} s (UTC's in ${msToMidnight('UTC') / 1000} s)`);
  await srv.stop();
  // the CLI's usage defaults to the same zone
  assert.equal(cli(inst.db, 'usage', '--days', '1').usage[0].date, dateIn(QUOTA_TZ));
  const utc = await startServer(t, inst.db, ['--quota-tz', 'UTC']);
  const r2 = await rest(utc, USAGE, tok);
  assert.equal(assertOk(r2)[0].date, dateIn('UTC'), 'with --quota-tz UTC, the date in UTC');
  const reset2 = Number(/"daily";r=\d+;t=(\d+)/.exec(r2.headers.get('ratelimit'))[1]);
  assert.ok(Math.abs(reset2 - msToMidnight('UTC') / 1000) <= 3, `UTC reset in ${reset2} s`);
});

test('--quota-tz: days (and the daily reset) follow the configured time zone', async (t) => {
  const zone = 'Pacific/Kiritimati';   // UTC+14, no DST: its date differs from UTC's most of the day
  const inZone = (ms) => dateIn(zone, ms);
  await avoidMidnight(20, zone);
  const inst = makeInstance(t, { users: ['a@example.com'] });
  const srv = await startServer(t, inst.db, ['--quota-tz', zone]);
  const tok = await token(srv, inst.users[0].service);
  const first = await rest(srv, USAGE, tok);
  assertOk(first);
  const r = await rest(srv, USAGE, tok);
  const [today] = assertOk(r);
  assert.equal(today.date, inZone(Date.now()), `the date in ${zone}`);
  assert.deepEqual(today.users, [{ userId: 'a@example.com', count: 1 }]);
  const reset = Number(/"daily";r=\d+;t=(\d+)/.exec(r.headers.get('ratelimit'))[1]);
  assert.ok(Math.abs(reset - msToMidnight(zone) / 1000) <= 3, `daily reset in ${reset} s; midnight in ${zone} in ${msToMidnight(zone) / 1000} s`);
  const week = assertOk(await rest(srv, '/rest/v1/stats/usage/last7days.json', tok));
  assert.equal(week[1].date, inZone(Date.now() - 86400000), 'yesterday in the zone');
  await srv.stop();
  const out = cli(inst.db, 'usage', '--days', '1', '--quota-tz', zone);
  assert.deepEqual(out.usage[0], { date: inZone(Date.now()), total: 3, users: [{ userId: 'a@example.com', count: 3 }] });
});

test('an email change: the token keeps working, the scope and the counts follow the new email', async (t) => {
  await avoidMidnight(15);
  const inst = makeInstance(t, { users: ['old@example.com'] });
  const srv = await startServer(t, inst.db);
  const svc = inst.users[0].service;
  const tok = await token(srv, svc);
  for (let i = 0; i < 2; i++) assertOk(await rest(srv, USAGE, tok));
  cli(inst.db, 'user', 'update', 'old@example.com', '--email', 'new@example.com');
  // the identity scope is the owner's email: poll until the server has the new one
  await eventually('scope shows the new email', () => identity(srv, creds(svc)), (r) => r.json?.scope === 'new@example.com');
  assertOk(await rest(srv, USAGE, tok), 'the token still works after the email change');
  const [today] = assertOk(await rest(srv, USAGE, tok));
  assert.deepEqual(today.users, [{ userId: 'new@example.com', count: 3 }], 'one user, counted under its current email');
});
