// latchkey admin create, and the last-admin rule. `admin create` hashes with Argon2id,
// which is slow under ASan: one database, two admins, steps in order.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ACTOR, assertNotInDb, change, events, freshDb, invitePerson, makeRole, newDb, refuse, runAsync, showUser, sql,
} from './lib.mjs';

describe('admin create and the last active Admin', () => {
  let db;
  let password;
  before(() => {
    db = newDb();
    makeRole(db, 'Console', ['Access Users']);
  });
  after(() => db?.remove());

  test('admin create: active Admin in AllZones, one-time password of 20 characters, Argon2id-hashed', () => {
    const r = change(db, 'admin', 'create', '--email', 'root@example.com', '--first', 'Root', '--last', 'Admin', '--json');
    password = r.json.password;
    assert.match(password, /^[A-Za-z0-9]{20}$/);
    const u = r.json.user;
    assert.equal(u.email, 'root@example.com');
    assert.equal(u.status, 'active');
    assert.equal(u.apiOnly, false);
    assert.deepEqual(u.roles, [{ role: 'Admin', roleId: 1, workspace: 'AllZones', workspaceId: 0 }]);
    const [row] = sql(db, "SELECT password_hash, status FROM users WHERE email = 'root@example.com'");
    assert.ok(row.password_hash.startsWith('$argon2id$'), row.password_hash);
    assert.ok(!row.password_hash.includes(password));
    assert.equal(row.status, 'active');
    assertNotInDb(db, password, 'one-time password');
    const [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target, ev.actor], ['User', 'Create', 'root@example.com', ACTOR]);
    assert.ok(!JSON.stringify(ev).includes(password), 'no password in the audit trail');
    assert.ok(!JSON.stringify(ev).includes('$argon2id$'), 'no password hash in the audit trail');
  });

  test('the only active Admin cannot be deleted or locked', () => {
    refuse(db, { status: 1, code: 'last_admin' }, 'user', 'delete', 'root@example.com');
    refuse(db, { status: 1, code: 'last_admin' }, 'user', 'lock', 'root@example.com', '--reason', 'testing');
    // an access expiry would lock the last Admin out later, without anyone acting
    refuse(db, { status: 1, code: 'last_admin' }, 'user', 'update', 'root@example.com', '--expires', '2099-01-01');
  });

  test('... nor lose the Admin role (even while holding another role)', () => {
    change(db, 'user', 'update', 'root@example.com', '--add-role', 'Console');
    refuse(db, { status: 1, code: 'last_admin' }, 'user', 'update', 'root@example.com', '--remove-role', 'Admin');
    refuse(db, { status: 1, code: 'last_admin' }, 'user', 'update', 'root@example.com', '--remove-role', 'Admin@AllZones');
  });

  test('an invited (pending) Admin does not count', () => {
    const j = invitePerson(db, 'boss@example.com', ['Admin']);
    assert.equal(j.user.status, 'pending');
    refuse(db, { status: 1, code: 'last_admin' }, 'user', 'delete', 'root@example.com');
  });

  test('with a second active Admin it works; a locked Admin does not count', () => {
    const r = change(db, 'admin', 'create', '--email', 'second@example.com', '--first', 'Second', '--last', 'Admin');
    assert.match(r.stdout, /(?<![A-Za-z0-9])[A-Za-z0-9]{20}(?![A-Za-z0-9])/, `one-time password printed:\n${r.stdout}`);
    assert.ok(sql(db, "SELECT password_hash FROM users WHERE email = 'second@example.com'")[0].password_hash.startsWith('$argon2id$'));

    change(db, 'user', 'lock', 'second@example.com', '--reason', 'holiday');
    refuse(db, { status: 1, code: 'last_admin' }, 'user', 'delete', 'root@example.com');
    change(db, 'user', 'unlock', 'second@example.com');

    const u = change(db, 'user', 'update', 'root@example.com', '--remove-role', 'Admin', '--json').json.user;
    assert.deepEqual(u.roles.map((g) => g.role), ['Console']);
    refuse(db, { status: 1, code: 'last_admin' }, 'user', 'lock', 'second@example.com');

    change(db, 'user', 'update', 'root@example.com', '--add-role', 'Admin');
    assert.equal(change(db, 'user', 'lock', 'root@example.com', '--reason', 'rotation', '--json').json.user.status, 'locked');
    change(db, 'user', 'delete', 'root@example.com');
    refuse(db, { status: 1, code: 'last_admin' }, 'user', 'delete', 'second@example.com');
    assert.equal(showUser(db, 'second@example.com').status, 'active');
  });

  test('an expired Admin does not count either', () => {
    change(db, 'admin', 'create', '--email', 'third@example.com', '--first', 'Third', '--last', 'Admin');
    sql(db, `UPDATE users SET expires_at = ${Math.floor(Date.now() / 1000) - 60} WHERE email = 'third@example.com'`);
    refuse(db, { status: 1, code: 'last_admin' }, 'user', 'delete', 'second@example.com');
    refuse(db, { status: 1, code: 'last_admin' }, 'user', 'lock', 'second@example.com');
  });
});

describe('the last-admin rule under concurrency', () => {
  test('deleting one Admin while locking the other at the same moment leaves one active Admin', async (t) => {
    const db = freshDb(t);
    change(db, 'admin', 'create', '--email', 'a@example.com', '--first', 'A', '--last', 'Admin');
    change(db, 'admin', 'create', '--email', 'b@example.com', '--first', 'B', '--last', 'Admin');
    const [del, lock] = await Promise.all([
      runAsync(['--db', db.path, 'user', 'delete', 'a@example.com']),
      runAsync(['--db', db.path, 'user', 'lock', 'b@example.com']),
    ]);
    for (const r of [del, lock]) {
      assert.equal(r.signal, null);
      assert.ok([0, 1].includes(r.status), `exit ${r.status}: ${r.stderr}`);
      for (const mark of ['ERROR: AddressSanitizer', 'LeakSanitizer', 'runtime error:']) assert.ok(!r.stderr.includes(mark), r.stderr);
    }
    assert.equal([del.status, lock.status].filter((s) => s === 0).length, 1, 'exactly one of the two succeeds');
    assert.match(del.status === 0 ? lock.stderr : del.stderr, /last active Admin/i);
    assert.equal(sql(db, "SELECT count(*) AS n FROM users WHERE status = 'active'")[0].n, 1);
  });
});
