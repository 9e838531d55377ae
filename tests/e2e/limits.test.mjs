// latchkey limits show|set: the call limits of the instance and of API-only users.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ACTOR, auditCount, change, count, dump, events, freshDb, invitePerson, makeApiUser, makeStandardRoles,
  ok, refuse, run, sql,
} from './lib.mjs';

const DEFAULTS = { rateCalls: 100, rateSeconds: 20, daily: 50000, concurrent: 10 };
const show = (db) => ok(db, 'limits', 'show', '--json').json;
const setting = (db, key) => sql(db, `SELECT value FROM settings WHERE key = '${key}'`)[0].value;

// roles "API Only" and "Console", the API-only user api@example.com and a person
function setup(t) {
  const db = freshDb(t);
  makeStandardRoles(db);
  makeApiUser(db, 'api@example.com');
  invitePerson(db, 'jane@example.com');
  return db;
}

describe('limits show', () => {
  test('a new instance has the Marketo defaults and no per-user limits', (t) => {
    const db = freshDb(t);
    assert.deepEqual(show(db), { instance: DEFAULTS, users: [] });
    const table = ok(db, 'limits', 'show').stdout;
    assert.match(table, /^SCOPE\s+RATE \(CALLS\/SECONDS\)\s+DAILY\s+CONCURRENT\n/);
    assert.match(table, /\ninstance\s+100\/20\s+50000\s+10\n$/);
    assert.equal(auditCount(db), 0);
  });

  test('help describes the verbs and options', () => {
    const noun = run(['limits', '--help']);
    assert.equal(noun.status, 0);
    for (const verb of ['show', 'set']) assert.ok(noun.stdout.includes(verb), noun.stdout);
    const set = run(['limits', 'set', '--help']);
    assert.equal(set.status, 0);
    for (const opt of ['--user EMAIL', '--rate CALLS/SECONDS', '--daily N', '--concurrent N'])
      assert.ok(set.stdout.includes(opt), `limits set --help mentions ${opt}:\n${set.stdout}`);
    assert.ok(run(['--help']).stdout.includes('limits'));
  });
});

describe('limits set (instance)', () => {
  test('each change: one audit event with the new limits; what set prints is what show prints', (t) => {
    const db = freshDb(t);
    const r = change(db, 'limits', 'set', '--daily', '1000', '--json');
    assert.deepEqual(r.json, { instance: { ...DEFAULTS, daily: 1000 }, users: [] });
    assert.deepEqual(show(db), r.json);
    assert.equal(setting(db, 'limits.daily'), '1000');
    let [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target, ev.actor], ['Web Services', 'Edit Limits', 'instance', ACTOR]);
    assert.deepEqual(ev.details, { ...DEFAULTS, daily: 1000 });

    // several limits at once are still one event
    change(db, 'limits', 'set', '--rate', '50/10', '--concurrent', '5');
    assert.deepEqual(show(db).instance, { rateCalls: 50, rateSeconds: 10, daily: 1000, concurrent: 5 });
    [ev] = events(db);
    assert.deepEqual(ev.details, { rateCalls: 50, rateSeconds: 10, daily: 1000, concurrent: 5 });
    assert.equal(setting(db, 'limits.rate_calls'), '50');
    assert.equal(setting(db, 'limits.rate_seconds'), '10');
    assert.equal(setting(db, 'limits.concurrent'), '5');

    // the table form of set
    const table = change(db, 'limits', 'set', '--daily', '2000').stdout;
    assert.match(table, /\ninstance\s+50\/10\s+2000\s+5\n$/);
  });

  test('0 removes a limit: the instance becomes unlimited in that respect', (t) => {
    const db = freshDb(t);
    change(db, 'limits', 'set', '--rate', '0', '--daily', '0', '--concurrent', '0');
    assert.deepEqual(show(db).instance, { rateCalls: 0, rateSeconds: 0, daily: 0, concurrent: 0 });
    assert.match(ok(db, 'limits', 'show').stdout, /\ninstance\s+unlimited\s+unlimited\s+unlimited\n$/);
    change(db, 'limits', 'set', '--rate', '100/20');
    assert.deepEqual(show(db).instance, { rateCalls: 100, rateSeconds: 20, daily: 0, concurrent: 0 });
  });

  test('the largest values are accepted', (t) => {
    const db = freshDb(t);
    change(db, 'limits', 'set', '--rate', '1000000/86400', '--daily', '1000000000', '--concurrent', '10000');
    assert.deepEqual(show(db).instance, { rateCalls: 1000000, rateSeconds: 86400, daily: 1000000000, concurrent: 10000 });
  });

  test('setting the values they already have writes nothing and records nothing', (t) => {
    const db = freshDb(t);
    const before = dump(db);
    const r = ok(db, 'limits', 'set', '--rate', '100/20', '--daily', '50000', '--concurrent', '10', '--json');
    assert.deepEqual(r.json, { instance: DEFAULTS, users: [] });
    assert.equal(dump(db), before);
    assert.equal(auditCount(db), 0);
  });

  test('nothing to change is a usage error', (t) => {
    const db = freshDb(t);
    refuse(db, { status: 1, code: 'usage', mentions: ['nothing to change', '--rate'] }, 'limits', 'set');
    refuse(db, { status: 1, code: 'usage' }, 'limits', 'set', '--user', 'api@example.com');
  });

  test('--rate must be CALLS/SECONDS, both or neither', (t) => {
    const db = freshDb(t);
    for (const v of ['100', '100/', '/20', 'abc', '100/20/3', '-5/20', '+5/20', ' 100/20', '100 /20', '1e3/20',
      '100/20s', '99999999999999999999/20']) {
      refuse(db, { status: 1, code: 'invalid', field: /^rate$/, mentions: ['--rate', 'CALLS/SECONDS'] },
        'limits', 'set', `--rate=${v}`);
    }
    refuse(db, { status: 1, code: 'invalid', field: /^rate$/, mentions: ['both'] }, 'limits', 'set', '--rate', '100/0');
    refuse(db, { status: 1, code: 'invalid', field: /^rate$/, mentions: ['both'] }, 'limits', 'set', '--rate', '0/20');
    refuse(db, { status: 1, code: 'invalid', field: /^rate$/, mentions: ['1000000'] }, 'limits', 'set', '--rate', '1000001/20');
    refuse(db, { status: 1, code: 'invalid', field: /^rate$/, mentions: ['86400'] }, 'limits', 'set', '--rate', '10/86401');
    refuse(db, { status: 1, code: 'usage' }, 'limits', 'set', '--rate');
  });

  test('--daily and --concurrent are whole numbers within bounds; one bad option refuses all', (t) => {
    const db = freshDb(t);
    for (const v of ['abc', '-1', '1.5', '1000000001', ''])
      refuse(db, { status: 1, code: 'invalid', field: /^daily$/, mentions: ['--daily', '1000000000'] },
        'limits', 'set', `--daily=${v}`);
    for (const v of ['ten', '10001'])
      refuse(db, { status: 1, code: 'invalid', field: /^concurrent$/, mentions: ['--concurrent', '10000'] },
        'limits', 'set', '--concurrent', v);
    refuse(db, { status: 1, code: 'invalid', field: /^concurrent$/ },
      'limits', 'set', '--daily', '5', '--concurrent', 'x');
    refuse(db, { status: 1, code: 'invalid', field: /^rate$/ },
      'limits', 'set', '--rate', '5', '--daily', '5');
  });
});

describe('limits set --user', () => {
  test('an API-only user gets limits of their own, listed by show', (t) => {
    const db = setup(t);
    const r = change(db, 'limits', 'set', '--user', 'API@example.com', '--rate', '10/1', '--json');
    const mine = { user: 'api@example.com', rateCalls: 10, rateSeconds: 1, daily: 0, concurrent: 0 };
    assert.deepEqual(r.json, { instance: DEFAULTS, users: [mine] });
    let [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target], ['Web Services', 'Edit Limits', 'api@example.com']);
    assert.deepEqual(ev.details, { rateCalls: 10, rateSeconds: 1, daily: 0, concurrent: 0 });
    assert.equal(count(db, 'user_limits'), 1);

    // a partial change keeps the rest; the table shows '-' for none of the user's own
    change(db, 'limits', 'set', '--user', 'api@example.com', '--daily', '500');
    [ev] = events(db);
    assert.deepEqual(ev.details, { rateCalls: 10, rateSeconds: 1, daily: 500, concurrent: 0 });
    assert.match(ok(db, 'limits', 'show').stdout, /\napi@example\.com\s+10\/1\s+500\s+-\n$/);

    // a second user, listed after the first (by id)
    makeApiUser(db, 'second@example.com');
    change(db, 'limits', 'set', '--user', 'second@example.com', '--concurrent', '2');
    assert.deepEqual(show(db).users.map((u) => u.user), ['api@example.com', 'second@example.com']);

    // the same values: nothing written
    const before = dump(db);
    ok(db, 'limits', 'set', '--user', 'api@example.com', '--daily', '500');
    assert.equal(dump(db), before);

    // all removed: the user has no limits of their own any more
    change(db, 'limits', 'set', '--user', 'api@example.com', '--rate', '0', '--daily', '0');
    assert.deepEqual(show(db).users.map((u) => u.user), ['second@example.com']);
    [ev] = events(db);
    assert.deepEqual(ev.details, { rateCalls: 0, rateSeconds: 0, daily: 0, concurrent: 0 });
    assert.deepEqual(show(db).instance, DEFAULTS);
  });

  test('a person, an unknown user, and bad values are refused', (t) => {
    const db = setup(t);
    refuse(db, { status: 1, code: 'rule', field: /^user$/, mentions: ['jane@example.com', 'API-only'] },
      'limits', 'set', '--user', 'jane@example.com', '--daily', '5');
    refuse(db, { status: 2, code: 'not_found', field: /^user$/, mentions: ['ghost@example.com'] },
      'limits', 'set', '--user', 'ghost@example.com', '--daily', '5');
    refuse(db, { status: 1, code: 'invalid' }, 'limits', 'set', '--user', '', '--daily', '5');
    refuse(db, { status: 1, code: 'invalid', field: /^daily$/ },
      'limits', 'set', '--user', 'api@example.com', '--daily', 'lots');
  });

  test('a deleted user takes their limits along', (t) => {
    const db = setup(t);
    change(db, 'limits', 'set', '--user', 'api@example.com', '--daily', '5');
    change(db, 'user', 'delete', 'api@example.com');
    assert.deepEqual(show(db).users, []);
    assert.equal(count(db, 'user_limits'), 0);
  });
});
