// latchkey serve: the standard OAuth 2.0 endpoints (issue 3 "Identity"): RFC 8414
// metadata, RFC 6749 client credentials at /oauth2/token (client_secret_basic and
// client_secret_post, §5.2 errors), RFC 7662 introspection, RFC 7009 revocation, and
// tokens shared with the Marketo endpoint and the REST guard.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  FORM_CT, TOKEN_RE, USAGE, assertOAuthError, assertOk, assertRestError, basic, call, form,
  makeInstance, rest, sleep, startServer, token,
} from './server-lib.mjs';

const post = (srv, path, params, { auth, headers = {} } = {}) => call(`${srv.url}${path}`, {
  method: 'POST',
  headers: { 'Content-Type': FORM_CT, ...(auth ? { Authorization: auth } : {}), ...headers },
  body: form(params),
});
const asBasic = (svc) => basic(svc.clientId, svc.secret);
const postCreds = (svc) => ({ client_id: svc.clientId, client_secret: svc.secret });

function assertWwwAuthenticate(r, what) {
  const h = r.headers.get('www-authenticate');
  assert.ok(h && /^Basic\b/i.test(h), `${what}: WWW-Authenticate Basic on a 401, got ${h}`);
}

describe('OAuth 2.0', { concurrency: true }, () => {
  describe('one server', { concurrency: 1 }, () => {
    let inst;
    let srv;
    let a;
    let b;
    before(async () => {
      inst = makeInstance(null, { users: ['a@example.com', 'b@example.com'] });
      a = inst.user('a@example.com').service;
      b = inst.user('b@example.com').service;
      srv = await startServer(null, inst.db, ['--auth-fail-limit', '1000']);
    });
    after(async () => {
      await srv?.stop();
      inst?.remove();
    });

    test('RFC 8414 metadata: issuer is the server URL, endpoints, grant types, auth methods', async () => {
      const r = await call(`${srv.url}/.well-known/oauth-authorization-server`);
      assert.equal(r.status, 200, r.text);
      assert.match(r.headers.get('content-type'), /^application\/json/);
      const m = r.json;
      assert.equal(m.issuer, srv.url);
      assert.equal(m.token_endpoint, `${srv.url}/oauth2/token`);
      assert.equal(m.introspection_endpoint, `${srv.url}/oauth2/introspect`);
      assert.equal(m.revocation_endpoint, `${srv.url}/oauth2/revoke`);
      assert.deepEqual(m.grant_types_supported, ['client_credentials']);
      assert.deepEqual([...m.token_endpoint_auth_methods_supported].sort(), ['client_secret_basic', 'client_secret_post']);
      for (const k of ['introspection_endpoint_auth_methods_supported', 'revocation_endpoint_auth_methods_supported'])
        if (k in m) assert.deepEqual([...m[k]].sort(), ['client_secret_basic', 'client_secret_post'], k);
      const p = await call(`${srv.url}/.well-known/oauth-authorization-server`, { method: 'POST' });
      assert.equal(p.status, 405, p.text);
      assert.equal(p.headers.get('allow'), 'GET');
    });

    test('POST /oauth2/token with client_secret_basic and client_secret_post (RFC 6749 §4.4, §5.1)', async () => {
      const rb = await post(srv, '/oauth2/token', { grant_type: 'client_credentials' }, { auth: asBasic(a) });
      assert.equal(rb.status, 200, rb.text);
      assert.match(rb.json.access_token, TOKEN_RE);
      assert.equal(rb.json.token_type.toLowerCase(), 'bearer');
      assert.ok(Number.isInteger(rb.json.expires_in) && rb.json.expires_in > 3500 && rb.json.expires_in <= 3600, rb.text);
      assert.equal(rb.headers.get('cache-control'), 'no-store');
      assert.equal(rb.headers.get('pragma'), 'no-cache');
      const rp = await post(srv, '/oauth2/token', { grant_type: 'client_credentials', ...postCreds(a) });
      assert.equal(rp.status, 200, rp.text);
      assert.equal(rp.json.access_token, rb.json.access_token, 'the same service gets its current token');
      assertOk(await rest(srv, USAGE, rp.json.access_token), 'REST with the /oauth2/token token');
    });

    test('/oauth2/token errors: 401 invalid_client with WWW-Authenticate; 400 invalid_request / unsupported_grant_type', async () => {
      const wrong = basic(a.clientId, 'wrong-secret');
      const r1 = await post(srv, '/oauth2/token', { grant_type: 'client_credentials' }, { auth: wrong });
      assertOAuthError(r1, 401, 'invalid_client', undefined, 'bad Basic secret');
      assertWwwAuthenticate(r1, 'bad Basic secret');
      const r2 = await post(srv, '/oauth2/token', { grant_type: 'client_credentials', client_id: a.clientId, client_secret: 'wrong' });
      assertOAuthError(r2, 401, 'invalid_client', undefined, 'bad posted secret');
      assertWwwAuthenticate(r2, 'bad posted secret');
      const r3 = await post(srv, '/oauth2/token', { grant_type: 'client_credentials', client_id: '00000000-0000-4000-8000-000000000000', client_secret: 'x' });
      assertOAuthError(r3, 401, 'invalid_client', undefined, 'unknown client');
      const r4 = await post(srv, '/oauth2/token', { grant_type: 'client_credentials' });
      assertOAuthError(r4, 401, 'invalid_client', undefined, 'no client authentication');
      assertWwwAuthenticate(r4, 'no client authentication');
      // both Basic and a secret in the body: two methods at once
      const r5 = await post(srv, '/oauth2/token', { grant_type: 'client_credentials', client_secret: a.secret }, { auth: asBasic(a) });
      assertOAuthError(r5, 400, 'invalid_request', undefined, 'Basic and client_secret');
      const r6 = await post(srv, '/oauth2/token', postCreds(a));
      assertOAuthError(r6, 400, 'invalid_request', undefined, 'no grant_type');
      const r7 = await post(srv, '/oauth2/token', { grant_type: 'password', username: 'x', password: 'y' }, { auth: asBasic(a) });
      assertOAuthError(r7, 400, 'unsupported_grant_type', undefined, 'password grant');
      for (const r of [r1, r3, r5, r6, r7]) assert.equal(r.headers.get('cache-control'), 'no-store');
    });

    test('GET /oauth2/token → 405 with Allow: POST (also introspect and revoke)', async () => {
      for (const path of ['/oauth2/token', '/oauth2/introspect', '/oauth2/revoke']) {
        const r = await call(`${srv.url}${path}?${form({ grant_type: 'client_credentials', ...postCreds(a) })}`);
        assert.equal(r.status, 405, `${path}: ${r.text}`);
        assert.equal(r.headers.get('allow'), 'POST', path);
      }
    });

    test('introspection (RFC 7662): active token → active:true with client_id, username, exp, iat', async () => {
      const tok = await token(srv, a);
      const r = await post(srv, '/oauth2/introspect', { token: tok }, { auth: asBasic(b) });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      const j = r.json;
      assert.equal(j.active, true, r.text);
      assert.equal(j.client_id, a.clientId);
      assert.equal(j.username, 'a@example.com');
      assert.ok(Number.isInteger(j.exp) && Number.isInteger(j.iat), r.text);
      assert.equal(j.exp - j.iat, 3600, 'lifetime 3600 s');
      assert.ok(Math.abs(j.iat - Date.now() / 1000) < 3700, 'iat is a Unix time');
      assert.ok(j.exp > Date.now() / 1000, 'exp in the future');
      if ('token_type' in j) assert.equal(j.token_type.toLowerCase(), 'bearer');
      // client_secret_post works for introspection too
      const p = await post(srv, '/oauth2/introspect', { token: tok, ...postCreds(a) });
      assert.equal(p.json.active, true, p.text);
    });

    test('introspection of unknown or malformed tokens → exactly {"active":false}; unauthenticated → 401', async () => {
      for (const tok of ['unknown', 'A'.repeat(43), 'a b c', (await token(srv, a)).slice(0, -1) + '~']) {
        const r = await post(srv, '/oauth2/introspect', { token: tok }, { auth: asBasic(a) });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.text, '{"active":false}', `token ${JSON.stringify(tok)}`);
      }
      const tok = await token(srv, a);
      const none = await post(srv, '/oauth2/introspect', { token: tok });
      assertOAuthError(none, 401, 'invalid_client', undefined, 'introspect without client authentication');
      assertWwwAuthenticate(none, 'introspect without client authentication');
      const wrong = await post(srv, '/oauth2/introspect', { token: tok }, { auth: basic(a.clientId, 'nope') });
      assertOAuthError(wrong, 401, 'invalid_client', undefined, 'introspect with a bad secret');
      assert.ok(!none.text.includes(tok) && !wrong.text.includes('a@example.com'), 'nothing about the token is revealed');
      const missing = await post(srv, '/oauth2/introspect', {}, { auth: asBasic(a) });
      assertOAuthError(missing, 400, 'invalid_request', undefined, 'introspect without token');
    });

    test('revocation (RFC 7009): 200; then 601 on REST, active:false, and a new token is issued', async () => {
      const tok = await token(srv, b);
      assertOk(await rest(srv, USAGE, tok), 'before revoke');
      const r = await post(srv, '/oauth2/revoke', { token: tok, token_type_hint: 'access_token' }, { auth: asBasic(b) });
      assert.equal(r.status, 200, r.text);
      assertRestError(await rest(srv, USAGE, tok), 601, 'Access token invalid', 'REST after revoke');
      const i = await post(srv, '/oauth2/introspect', { token: tok }, { auth: asBasic(b) });
      assert.equal(i.text, '{"active":false}');
      const fresh = await token(srv, b);
      assert.notEqual(fresh, tok, 'a revoked token is not handed out again');
      assertOk(await rest(srv, USAGE, fresh), 'the new token');
      // revoking again, or an unknown token: still 200
      assert.equal((await post(srv, '/oauth2/revoke', { token: tok }, { auth: asBasic(b) })).status, 200);
      assert.equal((await post(srv, '/oauth2/revoke', { token: 'no-such-token' }, { auth: asBasic(b) })).status, 200);
      // unauthenticated revoke → 401
      const un = await post(srv, '/oauth2/revoke', { token: fresh });
      assertOAuthError(un, 401, 'invalid_client', undefined, 'revoke without client authentication');
      assertOk(await rest(srv, USAGE, fresh), 'an unauthenticated revoke changes nothing');
    });

    test("a client cannot revoke another client's token", async () => {
      const tokA = await token(srv, a);
      const r = await post(srv, '/oauth2/revoke', { token: tokA }, { auth: asBasic(b) });
      assert.ok([200, 400, 401, 403].includes(r.status), r.text);
      assertOk(await rest(srv, USAGE, tokA), "a's token still works after b tried to revoke it");
    });

    test('tokens of either endpoint work everywhere', async () => {
      // identity token → introspect active, works on REST
      const viaIdentity = await token(srv, a);
      const i = await post(srv, '/oauth2/introspect', { token: viaIdentity }, { auth: asBasic(a) });
      assert.equal(i.json.active, true);
      // after revoking it, /oauth2/token mints a fresh one that /rest accepts, and identity returns it too
      await post(srv, '/oauth2/revoke', { token: viaIdentity }, { auth: asBasic(a) });
      const o = await post(srv, '/oauth2/token', { grant_type: 'client_credentials' }, { auth: asBasic(a) });
      assert.equal(o.status, 200, o.text);
      assert.notEqual(o.json.access_token, viaIdentity);
      assertOk(await rest(srv, USAGE, o.json.access_token), '/oauth2/token token on /rest');
      assertOk(await rest(srv, USAGE, undefined, { query: { access_token: o.json.access_token } }), 'as legacy query parameter');
      assert.equal(await token(srv, a), o.json.access_token, 'identity hands out the same current token');
    });
  });

  test('--public-url sets the issuer and endpoints of the metadata', async (t) => {
    const inst = makeInstance(t, { users: ['a@example.com'] });
    const srv = await startServer(t, inst.db, ['--public-url', 'https://auth.example.test']);
    const m = (await call(`${srv.url}/.well-known/oauth-authorization-server`)).json;
    assert.equal(m.issuer, 'https://auth.example.test');
    assert.equal(m.token_endpoint, 'https://auth.example.test/oauth2/token');
  });

  test('expired tokens: introspection → {"active":false}; the REST client still sees 602 first', async (t) => {
    const inst = makeInstance(t, { users: ['a@example.com'] });
    const a = inst.users[0].service;
    const srv = await startServer(t, inst.db, ['--token-ttl', '2']);
    const tok = await token(srv, a);
    const j = (await post(srv, '/oauth2/introspect', { token: tok }, { auth: asBasic(a) })).json;
    assert.equal(j.active, true);
    assert.equal(j.exp - j.iat, 2);
    await sleep(Math.max(0, j.exp * 1000 - Date.now()) + 300);
    const r = await post(srv, '/oauth2/introspect', { token: tok }, { auth: asBasic(a) });
    assert.equal(r.text, '{"active":false}', 'expired token');
    // the introspection (a resource server's look) is not the client's first use
    assertRestError(await rest(srv, USAGE, tok), 602, 'Access token expired',
      'first REST use after expiry, after an introspection of the expired token');
  });
});
