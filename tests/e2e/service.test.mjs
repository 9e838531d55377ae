// latchkey service create|list|show|update|rotate-secret|delete
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ACTOR, HEX64, ISO_UTC, SECRET, SERVICE_KEYS, UUID_V4, assertKeys, assertNear, assertNotInDb, change,
  count, events, freshDb, invitePerson, makeApiUser, makeService, makeStandardRoles, nowSec, ok, refuse,
  secOf, showService, sql,
} from './lib.mjs';

// roles "API Only" and "Console", and the active API-only user api@example.com
function setup(t) {
  const db = freshDb(t);
  makeStandardRoles(db);
  makeApiUser(db, 'api@example.com');
  return db;
}

describe('service create', () => {
  test('create: JSON shape, UUID v4, secret shown once and stored as a hash; one user may own several', (t) => {
    const db = setup(t);
    const a = makeService(db, 'Order Sync', 'api@example.com', ['--description', 'Orders to the CRM']);
    assertKeys(a.service, SERVICE_KEYS, 'service');
    assert.match(a.service.clientId, UUID_V4);
    assert.match(a.clientSecret, SECRET);
    assert.equal(a.service.user, 'api@example.com');
    assert.equal(a.service.description, 'Orders to the CRM');
    const b = makeService(db, 'Lead Import', 'API@example.com');
    assert.notEqual(a.service.clientId, b.service.clientId);
    assert.notEqual(a.clientSecret, b.clientSecret);
    assert.equal(b.service.description, '');
    for (const s of [a, b]) assertNotInDb(db, s.clientSecret, 'client secret');
    const rows = sql(db, 'SELECT secret_hash FROM services');
    assert.equal(rows.length, 2);
    for (const row of rows) assert.match(row.secret_hash, HEX64);
    const list = ok(db, 'service', 'list', '--json').json.services;
    assert.deepEqual(list.map((s) => s.name), ['Order Sync', 'Lead Import']);
    assert.deepEqual(list[0], a.service);
    const table = ok(db, 'service', 'list').stdout;
    assert.match(table, /NAME\s+CLIENT ID\s+USER\s+CREATED/);
    assert.ok(table.includes(a.service.clientId) && table.includes(b.service.clientId));
    const [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target, ev.actor], ['Service', 'Create', 'Lead Import', ACTOR]);
  });

  test('the owner must exist (exit 2), be API-only and be active', (t) => {
    const db = setup(t);
    refuse(db, { status: 2, code: 'not_found', mentions: ['ghost@example.com'] },
      'service', 'create', '--name', 'Sync', '--user', 'ghost@example.com');
    invitePerson(db, 'jane@example.com', ['Console', 'API Only']);
    refuse(db, { status: 1, code: 'rule', mentions: [/API.only/i] }, 'service', 'create', '--name', 'Sync', '--user', 'jane@example.com');
    makeApiUser(db, 'locked@example.com');
    change(db, 'user', 'lock', 'locked@example.com', '--reason', 'paused');
    refuse(db, { status: 1, code: 'rule', mentions: ['locked@example.com'] },
      'service', 'create', '--name', 'Sync', '--user', 'locked@example.com');
  });

  test('required options and field limits', (t) => {
    const db = setup(t);
    refuse(db, { status: 1 }, 'service', 'create', '--user', 'api@example.com');
    refuse(db, { status: 1 }, 'service', 'create', '--name', 'Sync');
    refuse(db, { status: 1, code: 'invalid' }, 'service', 'create', '--name', '', '--user', 'api@example.com');
    refuse(db, { status: 1, code: 'invalid' }, 'service', 'create', '--name', 's'.repeat(256), '--user', 'api@example.com');
    refuse(db, { status: 1, code: 'invalid' }, 'service', 'create', '--name', 'Bad\u001bEscape', '--user', 'api@example.com');
    refuse(db, { status: 1, code: 'invalid' }, 'service', 'create', '--name', 'Sync', '--user', 'api@example.com', '--description', 'd'.repeat(1001));
  });

  test('a display name shaped like a client id is refused (NAME may be a client id)', (t) => {
    const db = setup(t);
    const { service } = makeService(db, 'Order Sync');
    refuse(db, { status: 1, code: 'invalid' }, 'service', 'create', '--name', '6f1c2f3e-1111-4aaa-8bbb-123456789abc', '--user', 'api@example.com');
    refuse(db, { status: 1, code: ['invalid', 'exists'] }, 'service', 'create', '--name', service.clientId.toUpperCase(), '--user', 'api@example.com');
  });

  test('a duplicate display name is refused case-insensitively', (t) => {
    const db = setup(t);
    makeService(db, 'Order Sync');
    refuse(db, { status: 1, code: 'exists', mentions: ['ORDER SYNC'] }, 'service', 'create', '--name', 'ORDER SYNC', '--user', 'api@example.com');
  });
});

describe('service show / rotate-secret / delete', () => {
  test('show by name or client id; unknown → exit 2', (t) => {
    const db = setup(t);
    const { service } = makeService(db, 'Order Sync');
    assert.deepEqual(showService(db, 'order sync'), service);
    assert.deepEqual(showService(db, service.clientId), service);
    refuse(db, { status: 2, code: 'not_found', mentions: ['Nope'] }, 'service', 'show', 'Nope');
    refuse(db, { status: 2, code: 'not_found' }, 'service', 'rotate-secret', 'Nope');
    refuse(db, { status: 2, code: 'not_found' }, 'service', 'delete', 'Nope');
    refuse(db, { status: 2, code: 'not_found' }, 'service', 'show', '00000000-0000-4000-8000-000000000000');
  });

  test('rotate-secret: a new secret, the old one revoked at once by default', (t) => {
    const db = setup(t);
    const { service, clientSecret: old } = makeService(db, 'Order Sync');
    const [before] = sql(db, `SELECT * FROM services WHERE id = ${service.id}`);
    const r = change(db, 'service', 'rotate-secret', 'Order Sync', '--json');
    assert.match(r.json.clientSecret, SECRET);
    assert.notEqual(r.json.clientSecret, old);
    assert.equal(r.json.service.clientId, service.clientId);
    assert.equal(r.json.service.previousSecretValidUntil, null);
    const [afterRow] = sql(db, `SELECT * FROM services WHERE id = ${service.id}`);
    assert.match(afterRow.secret_hash, HEX64);
    assert.notEqual(afterRow.secret_hash, before.secret_hash);
    assert.equal(afterRow.old_secret_hash, null);
    assertNotInDb(db, old, 'old secret');
    assertNotInDb(db, r.json.clientSecret, 'new secret');
    const [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target], ['Service', 'Rotate Secret', 'Order Sync']);
    assert.ok(!JSON.stringify(ev).includes(r.json.clientSecret) && !JSON.stringify(ev).includes(old));
    // table form prints the new secret
    const plain = change(db, 'service', 'rotate-secret', service.clientId);
    const printed = plain.stdout.match(/(?<![A-Za-z0-9-])[A-Za-z0-9]{32}(?![A-Za-z0-9-])/g) || [];
    assert.equal(printed.length, 1, plain.stdout);
    assert.notEqual(printed[0], r.json.clientSecret);
  });

  test('rotate-secret --grace keeps the previous secret valid for a while', (t) => {
    const db = setup(t);
    const { service } = makeService(db, 'Order Sync');
    const [before] = sql(db, `SELECT * FROM services WHERE id = ${service.id}`);
    const r = change(db, 'service', 'rotate-secret', 'Order Sync', '--grace', '3600', '--json');
    const until = r.json.service.previousSecretValidUntil;
    assert.match(until, ISO_UTC);
    assertNear(secOf(until), nowSec() + 3600, 120, 'previousSecretValidUntil');
    const [row] = sql(db, `SELECT * FROM services WHERE id = ${service.id}`);
    assert.equal(row.old_secret_hash, before.secret_hash);
    assert.equal(row.old_secret_expires_at, secOf(until));
    assert.equal(showService(db, 'Order Sync').previousSecretValidUntil, until);
    const r2 = change(db, 'service', 'rotate-secret', 'Order Sync', '--grace=600', '--json');
    assertNear(secOf(r2.json.service.previousSecretValidUntil), nowSec() + 600, 120, 'previousSecretValidUntil');
    // the maximum, 30 days
    const r3 = change(db, 'service', 'rotate-secret', 'Order Sync', '--grace', '2592000', '--json');
    assertNear(secOf(r3.json.service.previousSecretValidUntil), nowSec() + 2592000, 120, 'previousSecretValidUntil');
    // once the grace period is over, previousSecretValidUntil is null again
    sql(db, `UPDATE services SET old_secret_expires_at = ${nowSec() - 5} WHERE id = ${service.id}`);
    assert.equal(showService(db, 'Order Sync').previousSecretValidUntil, null);
    assert.equal(ok(db, 'service', 'list', '--json').json.services[0].previousSecretValidUntil, null);
  });

  test('rotate-secret refuses a negative, non-numeric or absurd --grace', (t) => {
    const db = setup(t);
    makeService(db, 'Order Sync');
    for (const g of ['-1', 'abc', '', '1.5', '10s', '99999999999999999999999', '0x10']) {
      refuse(db, { status: 1, code: 'invalid', field: /^grace$/ }, 'service', 'rotate-secret', 'Order Sync', '--grace', g);
    }
    refuse(db, { status: 1, code: 'invalid', field: /^grace$/ }, 'service', 'rotate-secret', 'Order Sync', '--grace', '2592001');
    refuse(db, { status: 1, code: 'usage' }, 'service', 'rotate-secret', 'Order Sync', '--grace');
  });

  test('update (Edit Service): a new display name or description; the credentials and the owner stay', (t) => {
    const db = setup(t);
    const a = makeService(db, 'Order Sync', 'api@example.com', ['--description', 'Orders to the CRM']);
    makeService(db, 'Lead Import');
    const hash = () => sql(db, `SELECT secret_hash, client_id FROM services WHERE id = ${a.service.id}`)[0];
    const before = hash();
    const r = change(db, 'service', 'update', 'order sync', '--name', 'Order Feed', '--description', 'Orders, hourly', '--json');
    assert.equal(r.json.service.name, 'Order Feed');
    assert.equal(r.json.service.description, 'Orders, hourly');
    assert.equal(r.json.service.clientId, a.service.clientId);
    assert.equal(r.json.service.user, 'api@example.com');
    const [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target], ['Service', 'Edit', 'Order Feed']);
    assert.deepEqual(ev.details.changes, {
      name: { from: 'Order Sync', to: 'Order Feed' }, description: { from: 'Orders to the CRM', to: 'Orders, hourly' },
    });
    assert.deepEqual(hash(), before, 'the same client id and secret');
    change(db, 'service', 'update', a.service.clientId, '--description', '');
    assert.equal(showService(db, 'Order Feed').description, '');
    refuse(db, { status: 1, code: 'usage' }, 'service', 'update', 'Order Feed');
    refuse(db, { status: 1, code: 'exists', field: /name/ }, 'service', 'update', 'Order Feed', '--name', 'LEAD IMPORT');
    refuse(db, { status: 1, code: 'invalid', field: /name/ }, 'service', 'update', 'Order Feed', '--name', a.service.clientId);
    refuse(db, { status: 2, code: 'not_found' }, 'service', 'update', 'Nope', '--name', 'X');
    // the same values: nothing written, no audit event
    const nEvents = count(db, 'audit_events');
    ok(db, 'service', 'update', 'Order Feed', '--name', 'Order Feed');
    assert.equal(count(db, 'audit_events'), nEvents);
  });

  test('delete by name or client id', (t) => {
    const db = setup(t);
    const a = makeService(db, 'Order Sync');
    const b = makeService(db, 'Lead Import');
    const r = change(db, 'service', 'delete', 'order sync', '--json');
    assert.equal(r.json.deleted.service.toLowerCase(), 'order sync');
    assert.equal(count(db, 'services', `id = ${a.service.id}`), 0);
    refuse(db, { status: 2, code: 'not_found' }, 'service', 'show', 'Order Sync');
    const [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target], ['Service', 'Delete', 'Order Sync']);
    change(db, 'service', 'delete', b.service.clientId);
    assert.equal(count(db, 'services'), 0);
    assert.deepEqual(ok(db, 'service', 'list', '--json').json.services, []);
  });
});
