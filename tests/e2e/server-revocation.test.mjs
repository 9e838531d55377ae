// latchkey serve: revocation by CLI changes made while the server runs (PRODUCT §3
// "Revocation"; issue 3: "take effect within one second at most"): locking the owner,
// letting its access expire, deleting the service, rotating the secret with and
// without a grace period. Each change is polled for, 3 s at most.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  USAGE, assertOAuthError, assertOk, assertRestError, cli, creds, eventually, identity, makeInstance, rest,
  restCode, sleep, startServer, token,
} from './server-lib.mjs';

const USERS = ['lock@example.com', 'gone@example.com', 'rot0@example.com', 'rot60@example.com',
  'rot2@example.com', 'expire@example.com', 'bystander@example.com'];

describe('revocation while the server runs', { concurrency: true }, () => {
  let inst;
  let srv;
  before(async () => {
    inst = makeInstance(null, { users: USERS });
    srv = await startServer(null, inst.db, ['--auth-fail-limit', '1000']);
  });
  after(async () => {
    await srv?.stop();
    inst?.remove();
  });

  const dies = (what, tok) => eventually(what, () => rest(srv, USAGE, tok), (r) => restCode(r) !== 'ok');

  test('user lock: the owner\'s token answers 601 within a second; unlock does not bring it back', async () => {
    const svc = inst.user('lock@example.com').service;
    const tok = await token(srv, svc);
    assertOk(await rest(srv, USAGE, tok));
    cli(inst.db, 'user', 'lock', 'lock@example.com', '--reason', 'incident');
    const { value, elapsed } = await dies('token after user lock', tok);
    assertRestError(value, 601, 'Access token invalid', `after lock (${elapsed} ms)`);
    assertOAuthError(await identity(srv, creds(svc)), 401, 'invalid_client', undefined, 'identity while locked');
    cli(inst.db, 'user', 'unlock', 'lock@example.com');
    const { value: fresh } = await eventually('identity after unlock', () => identity(srv, creds(svc)), (r) => r.status === 200);
    assert.notEqual(fresh.json.access_token, tok);
    assertRestError(await rest(srv, USAGE, tok), 601, 'Access token invalid', 'the old token after unlock');
    assertOk(await rest(srv, USAGE, fresh.json.access_token), 'the new token after unlock');
  });

  test('service delete: its token answers 601 within a second', async () => {
    const svc = inst.user('gone@example.com').service;
    const tok = await token(srv, svc);
    assertOk(await rest(srv, USAGE, tok));
    cli(inst.db, 'service', 'delete', svc.name);
    const { value } = await dies('token after service delete', tok);
    assertRestError(value, 601, 'Access token invalid', 'after service delete');
    assert.equal((await identity(srv, creds(svc))).status, 401);
  });

  test('rotate-secret (no grace): the token answers 601; the old secret gets 401, the new one a new token', async () => {
    const svc = inst.user('rot0@example.com').service;
    const tok = await token(srv, svc);
    assertOk(await rest(srv, USAGE, tok));
    const rotated = cli(inst.db, 'service', 'rotate-secret', svc.name);
    const secret = rotated.clientSecret;
    assert.notEqual(secret, svc.secret);
    const { value } = await dies('token after rotate-secret', tok);
    assertRestError(value, 601, 'Access token invalid', 'after rotate');
    const old = await identity(srv, creds(svc));
    assertOAuthError(old, 401, 'invalid_client', 'Bad client credentials', 'the old secret, no grace');
    const fresh = await identity(srv, { ...creds(svc), client_secret: secret });
    assert.equal(fresh.status, 200, fresh.text);
    assert.notEqual(fresh.json.access_token, tok);
    assertOk(await rest(srv, USAGE, fresh.json.access_token), 'token of the new secret');
  });

  test('rotate-secret --grace 60: old tokens die, but the old secret and the new one both get tokens', async () => {
    const svc = inst.user('rot60@example.com').service;
    const tok = await token(srv, svc);
    const secret = cli(inst.db, 'service', 'rotate-secret', svc.name, '--grace', '60').clientSecret;
    const { value } = await dies('token after rotate-secret --grace 60', tok);
    assertRestError(value, 601, 'Access token invalid', 'after rotate with grace');
    const viaOld = await identity(srv, creds(svc));
    assert.equal(viaOld.status, 200, `old secret during the grace period: ${viaOld.text}`);
    const viaNew = await identity(srv, { ...creds(svc), client_secret: secret });
    assert.equal(viaNew.status, 200, `new secret: ${viaNew.text}`);
    assert.notEqual(viaOld.json.access_token, tok);
    assertOk(await rest(srv, USAGE, viaOld.json.access_token), 'token from the old secret');
    assertOk(await rest(srv, USAGE, viaNew.json.access_token), 'token from the new secret');
  });

  test('rotate-secret --grace 3: the old secret stops working when the grace period ends', async () => {
    const svc = inst.user('rot2@example.com').service;
    const secret = cli(inst.db, 'service', 'rotate-secret', svc.name, '--grace', '3').clientSecret;
    const until = Date.parse(cli(inst.db, 'service', 'show', svc.name).service.previousSecretValidUntil);
    assert.ok(until > Date.now(), 'previousSecretValidUntil in the future');
    await eventually('the rotation is known', () => identity(srv, { ...creds(svc), client_secret: secret }), (r) => r.status === 200);
    const during = await identity(srv, creds(svc));
    if (Date.now() < until - 1000) assert.equal(during.status, 200, `old secret within the grace period: ${during.text}`);
    await sleep(until - Date.now() + 300);
    const old = await identity(srv, creds(svc));
    assertOAuthError(old, 401, 'invalid_client', 'Bad client credentials', 'old secret after the grace period');
    assert.equal((await identity(srv, { ...creds(svc), client_secret: secret })).status, 200, 'new secret');
  });

  test('access expiry: the token stops working when the owner\'s access expires', async () => {
    const svc = inst.user('expire@example.com').service;
    const tok = await token(srv, svc);
    const at = new Date(Date.now() + 3000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    cli(inst.db, 'user', 'update', 'expire@example.com', '--expires', at);
    await sleep(600);
    const early = await rest(srv, USAGE, tok);
    if (Date.now() < Date.parse(at) - 500) assertOk(early, 'before the expiry instant');
    const { value, elapsed } = await eventually('token after the owner\'s access expired', () => rest(srv, USAGE, tok),
      (r) => restCode(r) !== 'ok', { timeoutMs: 6000 });
    assert.ok(Date.now() >= Date.parse(at), `refused ${elapsed} ms in, before the expiry instant ${at}`);
    assertRestError(value, 601, 'Access token invalid', 'after access expiry');
    assert.equal((await identity(srv, creds(svc))).status, 401, 'identity after access expiry');
  });

  test('a bystander\'s token is not touched by any of this', async () => {
    const svc = inst.user('bystander@example.com').service;
    const tok = await token(srv, svc);
    for (let i = 0; i < 20; i++) {
      assertOk(await rest(srv, USAGE, tok), `bystander call ${i}`);
      await sleep(100);
    }
    assert.equal(await token(srv, svc), tok, 'same token throughout');
  });
});
