// latchkey user invite|list|show|update|lock|unlock|delete
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ACTOR, ISO_UTC, USER_KEYS, assertKeys, assertNear, assertNotInDb, change, count, events, freshDb,
  invitePerson, isoOf, lk, makeApiUser, makeRole, makeService, makeStandardRoles, nowSec, ok, q,
  refuse, run, secOf, showUser, sleep, sql,
} from './lib.mjs';
import { linkOf, mailList, outboxMail, tokenOf } from './mail-server-lib.mjs';
import { startServer } from './server-lib.mjs';

// a fresh database with the roles "API Only" (Access API) and "Console" (Access Admin only)
function setup(t) {
  const db = freshDb(t);
  makeStandardRoles(db);
  return db;
}

const inviteArgs = (email, extra = []) =>
  ['user', 'invite', '--email', email, '--first', 'Api', '--last', 'User', '--role', 'API Only', '--api-only', ...extra];

describe('user invite: people', () => {
  test('a person is pending and gets a single-use link by email; the token is stored only as a hash', async (t) => {
    const db = setup(t);
    const r = change(db, 'user', 'invite', '--email', 'jane@example.com', '--first', 'Jane', '--last', 'Doe',
      '--role', 'Console', '--reason', 'Runs the campaigns', '--message', 'Welcome aboard');
    // the CLI queues the invitation email and prints no link (the server mints it when it sends)
    assert.match(r.stdout, /invitation email is queued/i, r.stdout);
    assert.ok(!r.stdout.includes('/invite#'), `no link printed:\n${r.stdout}`);
    const [u] = sql(db, "SELECT * FROM users WHERE email = 'jane@example.com'");
    assert.equal(u.status, 'pending');
    assert.equal(u.api_only, 0);
    assert.equal(u.password_hash, null);
    assert.equal(u.reason, 'Runs the campaigns');
    const inv = sql(db, `SELECT * FROM invitations WHERE user_id = ${u.id}`);
    assert.equal(inv.length, 1);
    assert.equal(inv[0].expires_at - inv[0].created_at, 7 * 24 * 3600, 'valid for 7 days');
    assert.equal(inv[0].accepted_at, null);
    assert.deepEqual(mailList(db).map((m) => [m.kind, m.to, m.status]), [['invitation', 'jane@example.com', 'queued']]);
    // the running server sends it: the link is in the email (here the outbox next to the database)
    const srv = await startServer(t, db);
    const mail = await outboxMail(srv, 'jane@example.com');
    const link = linkOf(mail);
    assert.match(link, new RegExp(`^${srv.url.replace(/\./g, '\\.')}/invite#[A-Za-z0-9_-]+$`));
    const token = tokenOf(link);
    assert.ok(token.length >= 22, `token of at least 128 bits: ${token}`);
    assert.ok(mail.text.includes('Welcome aboard'), mail.text);
    await srv.stop();
    const [stored] = sql(db, `SELECT * FROM invitations WHERE user_id = ${u.id}`);
    assert.notEqual(stored.token_hash, token);
    assert.ok(!stored.token_hash.includes(token), 'the token is not stored as such');
    assert.equal(stored.accepted_at, null);
    assertNotInDb(db, token, 'invitation token');
    const evs = events(db).reverse().filter((e) => e.target === 'jane@example.com');
    assert.deepEqual(evs.map((e) => [e.area, e.action, e.target, e.actor]),
      [['User', 'Create', 'jane@example.com', ACTOR], ['Email', 'Send', 'jane@example.com', 'system']]);
    assert.ok(!JSON.stringify(evs).includes(token), 'no token in the audit trail');
  });

  test('JSON: user pending, invitation email and expiry in 7 days, no link', (t) => {
    const db = setup(t);
    const j = invitePerson(db, 'jane@example.com', ['Console']);
    assertKeys(j.user, USER_KEYS, 'user');
    assert.equal(j.user.status, 'pending');
    assert.equal(j.user.apiOnly, false);
    assert.equal(j.user.lockedReason, null);
    assert.deepEqual(Object.keys(j.invitation).sort(), ['email', 'expiresAt']);
    assert.equal(j.invitation.email, 'jane@example.com');
    assert.match(j.invitation.expiresAt, ISO_UTC);
    assertNear(secOf(j.invitation.expiresAt), nowSec() + 7 * 24 * 3600, 120, 'invitation expiry');
    assert.ok(!JSON.stringify(j).includes('#'), `no link or token in the answer: ${JSON.stringify(j)}`);
    const [m] = mailList(db);
    assert.deepEqual([m.kind, m.to, m.lang, m.status, m.attempts], ['invitation', 'jane@example.com', 'en', 'queued', 0]);
  });

  // the link of an invitation that a server with public_url `base` sends
  async function linkFor(t, db, email, base) {
    const a = run(['user', 'invite', '--email', email, '--first', 'A', '--last', 'B', '--role', 'Console'], { db });
    assert.equal(a.status, 0, a.stderr);
    const srv = await startServer(t, db, [], { env: { LATCHKEY_PUBLIC_URL: base } });
    const mail = await outboxMail(srv, email);
    await srv.stop();
    assert.ok(!mail.raw.toString('latin1').includes('127.0.0.1'), `public_url ${base}: no listen address in the email`);
    return linkOf(mail);
  }

  test('the link in the email honours the server\'s LATCHKEY_PUBLIC_URL (and a base path)', async (t) => {
    const db = setup(t);
    assert.match(await linkFor(t, db, 'a@example.com', 'https://latchkey.example.org'), /^https:\/\/latchkey\.example\.org\/invite#[A-Za-z0-9_-]{22,}$/);
    assert.match(await linkFor(t, db, 'd@example.com', 'https://example.org/lk'), /^https:\/\/example\.org\/lk\/invite#[A-Za-z0-9_-]{22,}$/);
  });

  // a trailing slash of public_url is dropped: one slash before invite#
  test('a trailing slash of LATCHKEY_PUBLIC_URL does not double the slash in the link', async (t) => {
      const db = setup(t);
      const link = await linkFor(t, db, 'c@example.com', 'https://latchkey.example.org/');
      assert.match(link, /^https:\/\/latchkey\.example\.org\/invite#[A-Za-z0-9_-]{22,}$/,
        `SERVER BUG: the trailing slash of public_url is not trimmed: ${link}`);
    });

  test('the invitation message is stored with the invitation; an overlong one is refused', (t) => {
    const db = setup(t);
    const j = invitePerson(db, 'jane@example.com', ['Console'], ['--message', 'Welcome to the team!']);
    assert.equal(sql(db, `SELECT message FROM invitations WHERE user_id = ${j.user.id}`)[0].message, 'Welcome to the team!');
    refuse(db, { status: 1, code: 'invalid' }, 'user', 'invite', '--email', 'joe@example.com', '--first', 'J', '--last', 'D',
      '--role', 'Console', '--message', 'm'.repeat(50_000));
  });

  test('a person may hold Access API roles too, and a role in several workspaces', (t) => {
    const db = setup(t);
    const j = invitePerson(db, 'jane@example.com', ['Console@Default', 'API Only']);
    assert.deepEqual(j.user.roles.map((g) => `${g.role}@${g.workspace}`), ['API Only@AllZones', 'Console@Default']);
  });
});

describe('user invite: API-only users and validation', () => {
  test('an API-only user needs a role with an Access API permission', (t) => {
    const db = setup(t);
    refuse(db, { status: 1, code: 'rule', mentions: ['Access API'] },
      'user', 'invite', '--email', 'api@example.com', '--first', 'A', '--last', 'B', '--role', 'Console', '--api-only');
    refuse(db, { status: 1, code: 'rule', mentions: ['Access API'] },
      'user', 'invite', '--email', 'api@example.com', '--first', 'A', '--last', 'B', '--role', 'Admin', '--api-only');
  });

  test('invite needs --email, --first, --last and at least one --role; unknown role → exit 2', (t) => {
    const db = setup(t);
    refuse(db, { status: 1 }, 'user', 'invite', '--first', 'A', '--last', 'B', '--role', 'API Only', '--api-only');
    refuse(db, { status: 1 }, 'user', 'invite', '--email', 'a@example.com', '--last', 'B', '--role', 'API Only', '--api-only');
    refuse(db, { status: 1 }, 'user', 'invite', '--email', 'a@example.com', '--first', 'A', '--role', 'API Only', '--api-only');
    refuse(db, { status: 1, mentions: ['role'] }, 'user', 'invite', '--email', 'a@example.com', '--first', 'A', '--last', 'B', '--api-only');
    refuse(db, { status: 2, code: 'not_found', mentions: ['Ghost Role'] },
      'user', 'invite', '--email', 'a@example.com', '--first', 'A', '--last', 'B', '--role', 'Ghost Role', '--api-only');
    for (const grant of ['API Only@', '@Default', '@', '']) {
      refuse(db, { status: 1, code: 'invalid', field: /^role$/ },
        'user', 'invite', '--email', 'a@example.com', '--first', 'A', '--last', 'B', '--role', grant, '--api-only');
    }
  });

  test('invalid emails are refused (field email)', (t) => {
    const db = setup(t);
    const tooLong = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`; // 260 bytes
    assert.ok(tooLong.length > 254);
    for (const email of ['', 'no-at-sign.example.com', 'a@b@example.com', 'john doe@example.com', ' api@example.com',
      'api@example.com ', '@example.com', 'api@', 'api@localhost', 'api..x@example.com', 'api@exa mple.com',
      'api\n@example.com', 'jörg@example.com', tooLong]) {
      refuse(db, { status: 1, code: 'invalid', field: /email/ }, ...inviteArgs(email));
    }
  });

  test('names: 1..255 characters of UTF-8 without control characters', (t) => {
    const db = setup(t);
    const bad = [
      ['--first', ''], ['--last', ''], ['--first', 'x'.repeat(256)], ['--last', 'é'.repeat(256)],
      ['--first', 'Jo\u0007hn'], ['--last', 'Do\ne'], ['--first', 'Tab\tbed'], ['--first', 'Del\u007f'],
      ['--first', 'C1\u0085ctl'], ['--first', 'evil\u202egnp.exe'], ['--last', 'iso\u2066late'], ['--first', '\u00a0'],
      ['--last', '\u200b\u3000'],
    ];
    for (const [opt, value] of bad) {
      refuse(db, { status: 1, code: 'invalid' },
        'user', 'invite', '--email', 'api@example.com', opt, value, ...(opt === '--first' ? ['--last', 'L'] : ['--first', 'F']),
        '--role', 'API Only', '--api-only');
    }
    // 255 characters are fine, counted as characters, not bytes
    const u = change(db, 'user', 'invite', '--email', 'api@example.com', '--first', 'x'.repeat(255), '--last', 'y'.repeat(255),
      '--role', 'API Only', '--api-only', '--json').json.user;
    assert.equal(u.firstName, 'x'.repeat(255));
    assert.equal(u.lastName, 'y'.repeat(255));
    const u2 = change(db, 'user', 'invite', '--email', 'api2@example.com', '--first', 'é'.repeat(255), '--last', 'Ünïcødé ✓',
      '--role', 'API Only', '--api-only', '--json').json.user;
    assert.equal(u2.firstName, 'é'.repeat(255));
    assert.equal(u2.lastName, 'Ünïcødé ✓');
  });

  test('invalid UTF-8 bytes in names or email are refused', (t) => {
    const db = setup(t);
    const badFirst = Buffer.from([0x4a, 0x6f, 0xff, 0x6e]); // "Jo\xffn"
    const overlong = Buffer.from([0x41, 0xc0, 0xaf]); // overlong '/'
    const surrogate = Buffer.from([0x41, 0xed, 0xa0, 0x80]); // UTF-16 surrogate
    const truncated = Buffer.from([0x41, 0xe2, 0x82]); // cut multi-byte sequence
    for (const value of [badFirst, overlong, surrogate, truncated]) {
      refuse(db, { status: 1, code: 'invalid' },
        'user', 'invite', '--email', 'api@example.com', '--first', value, '--last', 'L', '--role', 'API Only', '--api-only');
      refuse(db, { status: 1, code: 'invalid' },
        'user', 'invite', '--email', 'api@example.com', '--first', 'F', '--last', value, '--role', 'API Only', '--api-only');
    }
    refuse(db, { status: 1, code: 'invalid' }, 'user', 'invite', '--email', Buffer.concat([badFirst, Buffer.from('@example.com')]),
      '--first', 'F', '--last', 'L', '--role', 'API Only', '--api-only');
    refuse(db, { status: 1, code: 'invalid' }, ...inviteArgs('api@example.com', ['--reason', badFirst]));
  });

  test('reason: at most 1000 characters', (t) => {
    const db = setup(t);
    refuse(db, { status: 1, code: 'invalid', field: /reason/ }, ...inviteArgs('api@example.com', ['--reason', 'r'.repeat(1001)]));
    refuse(db, { status: 1, code: 'invalid' }, ...inviteArgs('api@example.com', ['--reason', 'bell\u0007']));
    const u = makeApiUser(db, 'api@example.com', ['API Only'], ['--reason', 'r'.repeat(1000)]);
    assert.equal(u.reason, 'r'.repeat(1000));
  });

  test('duplicate email is refused case-insensitively', (t) => {
    const db = setup(t);
    makeApiUser(db, 'api@example.com');
    refuse(db, { status: 1, code: 'exists', mentions: ['API@EXAMPLE.COM'] }, ...inviteArgs('API@EXAMPLE.COM'));
    refuse(db, { status: 1, code: 'exists' }, 'user', 'invite', '--email', 'Api@Example.com', '--first', 'J', '--last', 'D', '--role', 'Console');
  });

  test('an email that is another user\'s user id is refused with a message saying so', (t) => {
    const db = setup(t);
    makeApiUser(db, 'b@example.com', ['API Only'], ['--userid', 'd@example.com']);
    refuse(db, { status: 1, code: 'exists', mentions: [/user id/i] }, ...inviteArgs('D@example.com'));
  });

  test('userid defaults to the email and must be unique (also against other users\' default ids)', (t) => {
    const db = setup(t);
    const a = makeApiUser(db, 'a@example.com');
    assert.equal(a.userid, 'a@example.com');
    const b = makeApiUser(db, 'b@example.com', ['API Only'], ['--userid', 'bee']);
    assert.equal(b.userid, 'bee');
    assert.equal(showUser(db, 'BEE').email, 'b@example.com', 'user show by user id, case-insensitively');
    refuse(db, { status: 1, code: 'exists', mentions: ['BEE'] }, ...inviteArgs('c@example.com', ['--userid', 'BEE']));
    refuse(db, { status: 1, code: 'exists' }, ...inviteArgs('c@example.com', ['--userid', 'A@example.com']));
    refuse(db, { status: 1, code: 'invalid' }, ...inviteArgs('c@example.com', ['--userid', '']));
  });
});

describe('user invite: access expiry', () => {
  test('a past or malformed expiry is refused', (t) => {
    const db = setup(t);
    for (const when of ['2020-01-01', isoOf(nowSec() - 60), '2099-13-45', '2099-02-30', 'tomorrow', '2099-01-31T17:00:00',
      '31.01.2099', '2099-01-31T25:00:00Z', '']) {
      refuse(db, { status: 1, code: 'invalid', field: /expire/ }, ...inviteArgs('api@example.com', ['--expires', when]));
    }
  });

  test('date-only and offset forms are stored and shown in UTC', (t) => {
    const db = setup(t);
    const cases = [
      ['2099-01-31', '2099-01-31T00:00:00Z'],
      ['2099-01-31T17:00:00Z', '2099-01-31T17:00:00Z'],
      ['2099-01-31T17:00:00-05:00', '2099-01-31T22:00:00Z'],
      ['2099-01-31T17:00:00.000+0100', '2099-01-31T16:00:00Z'],
    ];
    cases.forEach(([input, utc], i) => {
      const email = `api${i}@example.com`;
      const u = makeApiUser(db, email, ['API Only'], ['--expires', input]);
      assert.equal(u.expiresAt, utc, `--expires ${input}`);
      assert.equal(sql(db, `SELECT expires_at FROM users WHERE email = ${q(email)}`)[0].expires_at, secOf(utc));
      assert.ok(ok(db, 'user', 'show', email).stdout.includes(utc), `user show prints ${utc}`);
    });
    const line = ok(db, 'user', 'list').stdout.split('\n').find((l) => l.includes('api2@example.com'));
    assert.ok(line.includes('2099-01-31T22:00:00Z'), line);
  });
});

describe('user list / show', () => {
  test('--api-only and --people filter the list', (t) => {
    const db = setup(t);
    makeApiUser(db, 'api1@example.com');
    invitePerson(db, 'jane@example.com', ['Console']);
    makeApiUser(db, 'api2@example.com');
    const emails = (...f) => ok(db, 'user', 'list', ...f, '--json').json.users.map((u) => u.email);
    assert.deepEqual(emails(), ['api1@example.com', 'jane@example.com', 'api2@example.com']);
    assert.deepEqual(emails('--api-only'), ['api1@example.com', 'api2@example.com']);
    assert.deepEqual(emails('--people'), ['jane@example.com']);
    const table = ok(db, 'user', 'list', '--people').stdout;
    assert.match(table, /EMAIL\s+NAME\s+API ONLY\s+STATUS\s+ROLES\s+EXPIRES/);
    assert.ok(table.includes('jane@example.com') && !table.includes('api1@example.com'));
    const line = table.split('\n').find((l) => l.includes('jane@example.com'));
    assert.match(line, /Jane Doe/);
    assert.match(line, /pending/);
    assert.match(line, /Console@AllZones/);
    refuse(db, { status: 1, code: 'usage' }, 'user', 'list', '--api-only', '--people');
    const api = ok(db, 'user', 'list', '--api-only').stdout.split('\n').find((l) => l.includes('api1@example.com'));
    assert.match(api, /\bnever\s*$/, `EXPIRES is "never" when not set: ${api}`);
  });

  test('unknown user → exit 2 for every verb', (t) => {
    const db = setup(t);
    for (const args of [['show'], ['update', '--first', 'X'], ['lock'], ['unlock'], ['delete']]) {
      const [verb, ...rest] = args;
      refuse(db, { status: 2, code: 'not_found', mentions: ['ghost@example.com'] }, 'user', verb, 'ghost@example.com', ...rest);
    }
  });
});

describe('user update', () => {
  test('names, reason, email and expiry in one change; the old email no longer finds the user', (t) => {
    const db = setup(t);
    const before = makeApiUser(db, 'api@example.com');
    const r = change(db, 'user', 'update', 'API@example.com', '--first', 'New', '--last', 'Name', '--reason', 'Order sync',
      '--email', 'sync@example.com', '--expires', '2099-06-30T12:00:00+02:00', '--json');
    const u = r.json.user;
    assert.equal(u.id, before.id);
    assert.equal(u.email, 'sync@example.com');
    assert.equal(u.firstName, 'New');
    assert.equal(u.lastName, 'Name');
    assert.equal(u.reason, 'Order sync');
    assert.equal(u.expiresAt, '2099-06-30T10:00:00Z');
    assert.equal(u.status, 'active');
    assert.deepEqual(showUser(db, 'sync@example.com'), u);
    // the user id defaulted to the email, so it follows the email; the old email finds nobody
    assert.equal(u.userid, 'sync@example.com');
    const [row] = sql(db, `SELECT email, userid FROM users WHERE id = ${u.id}`);
    assert.deepEqual(row, { email: 'sync@example.com', userid: 'sync@example.com' });
    refuse(db, { status: 2, code: 'not_found' }, 'user', 'show', 'api@example.com');
    // a user id of its own is kept
    makeApiUser(db, 'other@example.com', ['API Only'], ['--userid', 'other-login']);
    const o = change(db, 'user', 'update', 'other-login', '--email', 'renamed@example.com', '--json').json.user;
    assert.deepEqual([o.email, o.userid], ['renamed@example.com', 'other-login']);
    const [ev] = events(db);
    assert.deepEqual([ev.area, ev.action], ['User', 'Edit']);
    // clearing: --expires never, --reason ""
    const u2 = change(db, 'user', 'update', 'sync@example.com', '--expires', 'never', '--reason', '', '--json').json.user;
    assert.equal(u2.expiresAt, null);
    assert.equal(u2.reason, '');
    assert.equal(sql(db, `SELECT expires_at FROM users WHERE id = ${u.id}`)[0].expires_at, null);
  });

  test('update refuses bad values and taken emails / user ids', (t) => {
    const db = setup(t);
    makeApiUser(db, 'api@example.com');
    refuse(db, { status: 1, code: 'usage' }, 'user', 'update', 'api@example.com');
    refuse(db, { status: 1, code: 'invalid', field: /^add-role$/ }, 'user', 'update', 'api@example.com', '--add-role', 'API Only@');
    refuse(db, { status: 1, code: 'invalid', field: /^remove-role$/ }, 'user', 'update', 'api@example.com', '--remove-role', '@0');
    makeApiUser(db, 'other@example.com', ['API Only'], ['--userid', 'other']);
    refuse(db, { status: 1, code: 'exists' }, 'user', 'update', 'api@example.com', '--email', 'OTHER@example.com');
    refuse(db, { status: 1, code: 'exists' }, 'user', 'update', 'api@example.com', '--userid', 'Other');
    refuse(db, { status: 1, code: 'invalid', field: /email/ }, 'user', 'update', 'api@example.com', '--email', 'not-an-email');
    refuse(db, { status: 1, code: 'invalid', field: /expire/ }, 'user', 'update', 'api@example.com', '--expires', '2001-01-01');
    refuse(db, { status: 1, code: 'invalid' }, 'user', 'update', 'api@example.com', '--expires', 'soon');
    refuse(db, { status: 1, code: 'invalid' }, 'user', 'update', 'api@example.com', '--first', '');
    refuse(db, { status: 1, code: 'invalid' }, 'user', 'update', 'api@example.com', '--last', 'z'.repeat(256));
    refuse(db, { status: 1, code: 'invalid' }, 'user', 'update', 'api@example.com', '--reason', 'r'.repeat(1001));
  });

  test('roles: add and remove grants; at least one must remain; an API-only user keeps Access API', (t) => {
    const db = setup(t);
    makeRole(db, 'API Two', ['Read-Only Company']);
    makeApiUser(db, 'api@example.com');
    const u = change(db, 'user', 'update', 'api@example.com', '--add-role', 'API Two@Default', '--remove-role', 'api only', '--json').json.user;
    assert.deepEqual(u.roles.map((g) => `${g.role}@${g.workspace}`), ['API Two@Default']);
    assert.equal(count(db, 'user_roles', `user_id = ${u.id}`), 1);
    refuse(db, { status: 1, code: ['rule', 'invalid'] }, 'user', 'update', 'api@example.com', '--remove-role', 'API Two@Default');
    // swapping the only Access API role for an Access Admin one leaves no Access API permission
    refuse(db, { status: 1, code: 'rule', mentions: ['Access API'] },
      'user', 'update', 'api@example.com', '--remove-role', 'API Two@Default', '--add-role', 'Console');
    refuse(db, { status: 2, code: 'not_found', mentions: ['Ghost'] }, 'user', 'update', 'api@example.com', '--add-role', 'Ghost');
    const u2 = change(db, 'user', 'update', 'api@example.com', '--add-role', 'Console', '--add-role', 'API Only@1', '--json').json.user;
    assert.deepEqual(u2.roles.map((g) => `${g.role}@${g.workspace}`), ['API Only@Default', 'API Two@Default', 'Console@AllZones']);
  });

  test('pending users cannot be updated, locked or unlocked, but can be shown and deleted', (t) => {
    const db = setup(t);
    const j = invitePerson(db, 'jane@example.com', ['Console']);
    refuse(db, { status: 1, code: 'rule', mentions: ['pending'] }, 'user', 'update', 'jane@example.com', '--first', 'Janet');
    refuse(db, { status: 1, code: 'rule', mentions: ['pending'] }, 'user', 'lock', 'jane@example.com', '--reason', 'x');
    refuse(db, { status: 1, code: 'rule', mentions: ['pending'] }, 'user', 'unlock', 'jane@example.com');
    assert.equal(showUser(db, 'jane@example.com').status, 'pending');
    const r = change(db, 'user', 'delete', 'jane@example.com', '--json');
    assert.equal(r.json.deleted.user, 'jane@example.com');
    assert.equal(count(db, 'users', `id = ${j.user.id}`), 0);
    assert.equal(count(db, 'invitations', `user_id = ${j.user.id}`), 0);
    assert.equal(count(db, 'user_roles', `user_id = ${j.user.id}`), 0);
  });
});

describe('user lock / unlock / expiry', () => {
  test('lock with a reason, then unlock', (t) => {
    const db = setup(t);
    makeApiUser(db, 'api@example.com');
    const locked = change(db, 'user', 'lock', 'api@example.com', '--reason', 'Left the project', '--json').json.user;
    assert.equal(locked.status, 'locked');
    assert.equal(locked.lockedReason, 'Left the project');
    const [row] = sql(db, "SELECT status, lock_reason FROM users WHERE email = 'api@example.com'");
    assert.deepEqual(row, { status: 'locked', lock_reason: 'Left the project' });
    let [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target], ['User', 'Lock', 'api@example.com']);
    const line = ok(db, 'user', 'list').stdout.split('\n').find((l) => l.includes('api@example.com'));
    assert.match(line, /locked/);
    const unlocked = change(db, 'user', 'unlock', 'api@example.com', '--json').json.user;
    assert.equal(unlocked.status, 'active');
    assert.equal(unlocked.lockedReason, null);
    assert.equal(sql(db, "SELECT status FROM users WHERE email = 'api@example.com'")[0].status, 'active');
    [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target], ['User', 'Unlock', 'api@example.com']);
  });

  test('an expired user shows locked / "access expired"; unlock needs a new future expiry', (t) => {
    const db = setup(t);
    makeApiUser(db, 'api@example.com', ['API Only'], ['--expires', '2099-01-01']);
    sql(db, `UPDATE users SET expires_at = ${nowSec() - 3600} WHERE email = 'api@example.com'`);
    const u = showUser(db, 'api@example.com');
    assert.equal(u.status, 'locked');
    assert.equal(u.lockedReason, 'access expired');
    const line = ok(db, 'user', 'list').stdout.split('\n').find((l) => l.includes('api@example.com'));
    assert.match(line, /locked/);
    assert.equal(ok(db, 'user', 'list', '--json').json.users[0].status, 'locked');
    refuse(db, { status: 1, code: ['rule', 'invalid'], mentions: ['expire'] }, 'user', 'unlock', 'api@example.com');
    refuse(db, { status: 1, code: ['rule', 'invalid'] }, 'user', 'unlock', 'api@example.com', '--expires', isoOf(nowSec() - 60));
    // a new expiry through update would unlock without an unlock: refused, the way is unlock
    refuse(db, { status: 1, code: 'rule', mentions: ['unlock'] }, 'user', 'update', 'api@example.com', '--expires', '2098-05-01');
    refuse(db, { status: 1, code: 'rule', mentions: ['unlock'] }, 'user', 'update', 'api@example.com', '--expires', 'never');
    const r = change(db, 'user', 'unlock', 'api@example.com', '--expires', '2098-05-01T00:00:00Z', '--json').json.user;
    assert.equal(r.status, 'active');
    assert.equal(r.lockedReason, null);
    assert.equal(r.expiresAt, '2098-05-01T00:00:00Z');
    // expired again, unlocked with "never"
    sql(db, `UPDATE users SET expires_at = ${nowSec() - 10} WHERE email = 'api@example.com'`);
    const r2 = change(db, 'user', 'unlock', 'api@example.com', '--expires', 'never', '--json').json.user;
    assert.equal(r2.status, 'active');
    assert.equal(r2.expiresAt, null);
  });

  test('a user whose expiry passes while we wait becomes locked (real clock)', async (t) => {
    const db = setup(t);
    const at = nowSec() + 3;
    const u = makeApiUser(db, 'api@example.com', ['API Only'], ['--expires', isoOf(at)]);
    assert.equal(u.status, 'active');
    await sleep(Math.max(0, (at + 1) * 1000 - Date.now()) + 200);
    const later = showUser(db, 'api@example.com');
    assert.equal(later.status, 'locked');
    assert.equal(later.lockedReason, 'access expired');
  });

  test('an expired but otherwise active user cannot own a new service', (t) => {
    const db = setup(t);
    makeApiUser(db, 'api@example.com');
    sql(db, `UPDATE users SET expires_at = ${nowSec() - 60} WHERE email = 'api@example.com'`);
    refuse(db, { status: 1, code: 'rule' }, 'service', 'create', '--name', 'Sync', '--user', 'api@example.com');
  });
});

describe('user delete', () => {
  test('refused while the user owns a service (named), works once the service is gone', (t) => {
    const db = setup(t);
    const u = makeApiUser(db, 'api@example.com');
    makeService(db, 'Order Sync', 'api@example.com');
    refuse(db, { status: 1, code: 'in_use', mentions: ['Order Sync'] }, 'user', 'delete', 'api@example.com');
    change(db, 'service', 'delete', 'Order Sync');
    const r = change(db, 'user', 'delete', 'API@EXAMPLE.COM', '--json');
    assert.equal(r.json.deleted.user.toLowerCase(), 'api@example.com');
    assert.equal(count(db, 'users', `id = ${u.id}`), 0);
    assert.equal(count(db, 'user_roles', `user_id = ${u.id}`), 0);
    const [ev] = events(db);
    assert.deepEqual([ev.area, ev.action, ev.target], ['User', 'Delete', 'api@example.com']);
    refuse(db, { status: 2, code: 'not_found' }, 'user', 'show', 'api@example.com');
  });

  test('the deleted user\'s email can be invited again', (t) => {
    const db = setup(t);
    makeApiUser(db, 'api@example.com');
    change(db, 'user', 'delete', 'api@example.com');
    const again = makeApiUser(db, 'api@example.com');
    assert.equal(again.status, 'active');
    assert.equal(lk(db, 'user', 'list', '--json').json.users.length, 1);
  });
});
