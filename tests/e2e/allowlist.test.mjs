// latchkey allowlist show|add|remove|enable|disable: the IP allowlist of REST calls.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ACTOR, auditCount, change, dump, events, freshDb, ok, refuse, run, sql } from './lib.mjs';

const show = (db) => ok(db, 'allowlist', 'show', '--json').json;
const stored = (db) => sql(db, 'SELECT cidr FROM allowlist ORDER BY id').map((r) => r.cidr);
const enabledSetting = (db) => sql(db, "SELECT value FROM settings WHERE key = 'allowlist.enabled'")[0].value;

describe('allowlist show', () => {
  test('off and empty at first', (t) => {
    const db = freshDb(t);
    assert.deepEqual(show(db), { enabled: false, entries: [] });
    const text = ok(db, 'allowlist', 'show').stdout;
    assert.match(text, /^Enabled: no\b/m);
    assert.match(text, /^Entries: none$/m);
    assert.equal(enabledSetting(db), '0');
    assert.equal(auditCount(db), 0);
  });

  test('help describes the verbs', () => {
    const r = run(['allowlist', '--help']);
    assert.equal(r.status, 0);
    for (const verb of ['show', 'add', 'remove', 'enable', 'disable']) assert.ok(r.stdout.includes(verb), r.stdout);
    assert.match(run(['allowlist', 'add', '--help']).stdout, /Usage: latchkey allowlist add CIDR/);
    assert.ok(run(['--help']).stdout.includes('allowlist'));
  });
});

describe('allowlist add / remove', () => {
  test('entries are stored in canonical form; each add is one audit event with the whole list', (t) => {
    const db = freshDb(t);
    const r = change(db, 'allowlist', 'add', '10.0.0.0/8', '--json');
    assert.deepEqual(r.json, { enabled: false, entries: ['10.0.0.0/8'] });
    let [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target, ev.actor], ['IP Restrictions', 'Add', '10.0.0.0/8', ACTOR]);
    assert.deepEqual(ev.details, { allowed: ['10.0.0.0/8'], enabled: false });

    const plain = change(db, 'allowlist', 'add', '192.0.2.7');
    assert.match(plain.stdout, /^Added 192\.0\.2\.7\/32 to the IP allowlist\.$/m);
    assert.match(plain.stdout, /allowlist enable/); // how to turn it on
    change(db, 'allowlist', 'add', '2001:DB8:0::/32');
    change(db, 'allowlist', 'add', '::1');
    change(db, 'allowlist', 'add', '::ffff:198.51.100.0/120'); // IPv4-mapped: the IPv4 range
    const want = ['10.0.0.0/8', '192.0.2.7/32', '2001:db8::/32', '::1/128', '198.51.100.0/24'];
    assert.deepEqual(show(db).entries, want);
    assert.deepEqual(stored(db), want);
    [ev] = events(db);
    assert.deepEqual(ev.details, { allowed: want, enabled: false });
    const text = ok(db, 'allowlist', 'show').stdout;
    assert.match(text, /^Entries: 5$/m);
    for (const c of want) assert.ok(text.includes(`  ${c}\n`), text);
  });

  test('bad text, host bits and duplicates are refused with the reason', (t) => {
    const db = freshDb(t);
    change(db, 'allowlist', 'add', '10.0.0.0/8');
    change(db, 'allowlist', 'add', '192.0.2.7');
    refuse(db, { status: 1, code: 'invalid', field: /^cidr$/, mentions: ['10.0.0.1/8', 'did you mean 10.0.0.0/8?'] },
      'allowlist', 'add', '10.0.0.1/8');
    refuse(db, { status: 1, code: 'invalid', field: /^cidr$/, mentions: ['2001:db8::/32'] },
      'allowlist', 'add', '2001:db8::1/32');
    refuse(db, { status: 1, code: 'invalid', mentions: ['at most 32'] }, 'allowlist', 'add', '10.0.0.0/33');
    refuse(db, { status: 1, code: 'invalid', mentions: ['at most 128'] }, 'allowlist', 'add', '::/129');
    refuse(db, { status: 1, code: 'invalid', mentions: ['wildcards'] }, 'allowlist', 'add', '10.0.*.*');
    refuse(db, { status: 1, code: 'invalid', mentions: ['wildcards'] }, 'allowlist', 'add', '10.0.0.1-10.0.0.9');
    for (const bad of ['example.com', '10.0.0', '10.0.0.256', '010.0.0.1', 'fe80::1%eth0', ' 10.0.0.1', '10.0.0.0/8 ', ''])
      refuse(db, { status: 1, code: 'invalid', field: /^cidr$/ }, 'allowlist', 'add', bad);
    refuse(db, { status: 1, code: 'invalid' }, 'allowlist', 'add', 'x'.repeat(5000));
    refuse(db, { status: 1, code: 'invalid' }, 'allowlist', 'add', Buffer.from([0x31, 0xff, 0x2f, 0x38]));
    // the same range however it is written
    for (const dup of ['10.0.0.0/8', '192.0.2.7/32', '192.0.2.7', '::ffff:192.0.2.7', '::ffff:10.0.0.0/104'])
      refuse(db, { status: 1, code: 'exists', field: /^cidr$/, mentions: ['already'] }, 'allowlist', 'add', dup);
    refuse(db, { status: 1, code: 'usage', mentions: ['missing CIDR'] }, 'allowlist', 'add');
    assert.deepEqual(stored(db), ['10.0.0.0/8', '192.0.2.7/32']);
  });

  test('remove takes any text meaning the entry; absent entries are not found', (t) => {
    const db = freshDb(t);
    change(db, 'allowlist', 'add', '10.0.0.0/8');
    change(db, 'allowlist', 'add', '192.0.2.7');
    const r = change(db, 'allowlist', 'remove', '192.0.2.7');
    assert.match(r.stdout, /^Removed 192\.0\.2\.7\/32 from the IP allowlist\.$/m);
    const [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target], ['IP Restrictions', 'Remove', '192.0.2.7/32']);
    assert.deepEqual(ev.details, { allowed: ['10.0.0.0/8'], enabled: false });
    refuse(db, { status: 2, code: 'not_found', field: /^cidr$/, mentions: ['192.0.2.7/32'] }, 'allowlist', 'remove', '192.0.2.7');
    refuse(db, { status: 2, code: 'not_found' }, 'allowlist', 'remove', '10.0.0.0/9');
    refuse(db, { status: 1, code: 'invalid', mentions: ['did you mean'] }, 'allowlist', 'remove', '10.0.0.1/8');
    refuse(db, { status: 1, code: 'usage' }, 'allowlist', 'remove');
    const json = change(db, 'allowlist', 'remove', '::ffff:10.0.0.0/104', '--json').json;
    assert.deepEqual(json, { enabled: false, entries: [] });
  });
});

describe('allowlist enable / disable', () => {
  test('an empty list cannot be enabled', (t) => {
    const db = freshDb(t);
    refuse(db, { status: 1, code: 'rule', mentions: ['empty'] }, 'allowlist', 'enable');
    assert.equal(enabledSetting(db), '0');
  });

  test('enable and disable: one event each; again, nothing is written', (t) => {
    const db = freshDb(t);
    change(db, 'allowlist', 'add', '10.0.0.0/8');
    const on = change(db, 'allowlist', 'enable', '--json');
    assert.deepEqual(on.json, { enabled: true, entries: ['10.0.0.0/8'] });
    assert.equal(enabledSetting(db), '1');
    let [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target], ['IP Restrictions', 'Enable', 'allowlist']);
    assert.deepEqual(ev.details, { allowed: ['10.0.0.0/8'], enabled: true });
    assert.match(ok(db, 'allowlist', 'show').stdout, /^Enabled: yes\b/m);

    let before = dump(db);
    const again = ok(db, 'allowlist', 'enable');
    assert.match(again.stdout, /already/);
    assert.equal(dump(db), before);

    // while enabled, entries come and go, but the last one stays
    change(db, 'allowlist', 'add', '2001:db8::/32');
    [ev] = events(db);
    assert.deepEqual(ev.details, { allowed: ['10.0.0.0/8', '2001:db8::/32'], enabled: true });
    change(db, 'allowlist', 'remove', '10.0.0.0/8');
    refuse(db, { status: 1, code: 'rule', mentions: ['2001:db8::/32', 'disable'] }, 'allowlist', 'remove', '2001:db8::/32');

    const off = change(db, 'allowlist', 'disable');
    assert.match(off.stdout, /^Disabled the IP allowlist/m);
    assert.equal(enabledSetting(db), '0');
    [ev] = events(db);
    assert.deepEqual([ev.action, ev.target], ['Disable', 'allowlist']);
    assert.deepEqual(ev.details, { allowed: ['2001:db8::/32'], enabled: false });
    before = dump(db);
    ok(db, 'allowlist', 'disable');
    assert.equal(dump(db), before);

    // disabled, the entries stay and the last one may go
    assert.deepEqual(show(db), { enabled: false, entries: ['2001:db8::/32'] });
    change(db, 'allowlist', 'remove', '2001:db8::/32');
    assert.deepEqual(show(db), { enabled: false, entries: [] });
  });

  test('enable and disable take no argument', (t) => {
    const db = freshDb(t);
    refuse(db, { status: 1, code: 'usage' }, 'allowlist', 'enable', '10.0.0.0/8');
    refuse(db, { status: 1, code: 'usage' }, 'allowlist', 'disable', 'now');
  });
});
