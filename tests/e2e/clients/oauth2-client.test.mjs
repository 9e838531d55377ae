// latchkey serve with a real OAuth 2.0 client library: openid-client v6 (on top of
// oauth4webapi), unchanged, configured only with latchkey's base URL. It discovers
// the RFC 8414 metadata, obtains a token with client_credentials (client_secret_basic
// and client_secret_post), calls the REST API with it as a Bearer token, introspects
// it (RFC 7662) and revokes it (RFC 7009).
//
// latchkey serves plain http on loopback here, so every configuration gets the
// library's documented `allowInsecureRequests` (its default refuses http, checked once).
// Requests are watched through the library's documented `customFetch` hook.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { TOKEN_RE, USAGE, makeInstance, startServer } from '../server-lib.mjs';

const TIMEOUT = { timeout: 30 }; // seconds, the library's own per-request bound

// discovery of latchkey's metadata with one client authentication method; every
// request the library sends afterwards is recorded in `seen`
async function configure(srv, svc, auth) {
  const config = await client.discovery(new URL(srv.url), svc.clientId, undefined, auth,
    { algorithm: 'oauth2', execute: [client.allowInsecureRequests], ...TIMEOUT });
  const seen = [];
  config[client.customFetch] = (url, options) => {
    seen.push({ url: String(url), headers: new Headers(options.headers), body: options.body === undefined ? '' : String(options.body) });
    return fetch(url, options);
  };
  return { config, seen };
}

// GET a REST path with the token through the library; the Marketo envelope
async function restCall(config, srv, path, token) {
  const res = await client.fetchProtectedResource(config, token, new URL(`${srv.url}${path}`), 'GET');
  assert.equal(res.status, 200, `${path}: HTTP ${res.status}`);
  return res.json();
}

describe('openid-client against latchkey', { concurrency: 1 }, () => {
  let inst;
  let srv;
  let svc;
  const EMAIL = 'oauth-client@example.com';
  before(async () => {
    inst = makeInstance(null, { users: [EMAIL] });
    svc = inst.user(EMAIL).service;
    srv = await startServer(null, inst.db, ['--auth-fail-limit', '1000']);
  });
  after(async () => {
    await srv?.stop();
    inst?.remove();
  });

  test('discovery reads /.well-known/oauth-authorization-server (algorithm "oauth2")', async () => {
    // the library refuses plain http unless told otherwise: the option is needed, not decoration
    await assert.rejects(
      client.discovery(new URL(srv.url), svc.clientId, undefined, client.ClientSecretBasic(svc.secret), { algorithm: 'oauth2', ...TIMEOUT }),
      (e) => e.code === 'OAUTH_HTTP_REQUEST_FORBIDDEN');
    const { config } = await configure(srv, svc, client.ClientSecretBasic(svc.secret));
    const m = config.serverMetadata();
    assert.equal(m.issuer, srv.url, 'the issuer matches the URL discovery started from');
    assert.equal(m.token_endpoint, `${srv.url}/oauth2/token`);
    assert.equal(m.introspection_endpoint, `${srv.url}/oauth2/introspect`);
    assert.equal(m.revocation_endpoint, `${srv.url}/oauth2/revoke`);
    assert.ok(m.grant_types_supported.includes('client_credentials'));
    for (const method of ['client_secret_basic', 'client_secret_post'])
      assert.ok(m.token_endpoint_auth_methods_supported.includes(method), method);
    assert.equal(config.clientMetadata().client_id, svc.clientId);
  });

  test('client_credentials with client_secret_basic: a token that works on the REST API', async () => {
    const { config, seen } = await configure(srv, svc, client.ClientSecretBasic(svc.secret));
    const tokens = await client.clientCredentialsGrant(config);
    assert.match(tokens.access_token, TOKEN_RE);
    assert.equal(tokens.token_type, 'bearer');
    assert.ok(tokens.expiresIn() > 0 && tokens.expiresIn() <= 3600, `expiresIn ${tokens.expiresIn()}`);
    assert.equal(tokens.scope, EMAIL, 'scope is the API user, as Marketo does');
    // what the library sent: HTTP Basic, no secret in the body
    assert.equal(seen.length, 1);
    assert.equal(seen[0].url, `${srv.url}/oauth2/token`);
    assert.match(seen[0].headers.get('authorization') || '', /^Basic /);
    assert.equal(new URLSearchParams(seen[0].body).get('grant_type'), 'client_credentials');
    assert.ok(!new URLSearchParams(seen[0].body).has('client_secret'), 'no secret in the body');
    const body = await restCall(config, srv, USAGE, tokens.access_token);
    assert.equal(body.success, true, JSON.stringify(body));
    assert.ok(Array.isArray(body.result) && body.result.length === 1, JSON.stringify(body));
    assert.equal(seen.at(-1).headers.get('authorization'), `Bearer ${tokens.access_token}`);
  });

  test('client_credentials with client_secret_post: the service\'s current token, usable on REST', async () => {
    const basic = await client.clientCredentialsGrant((await configure(srv, svc, client.ClientSecretBasic(svc.secret))).config);
    const { config, seen } = await configure(srv, svc, client.ClientSecretPost(svc.secret));
    const tokens = await client.clientCredentialsGrant(config);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].headers.get('authorization'), null, 'no Authorization header');
    const sent = new URLSearchParams(seen[0].body);
    assert.equal(sent.get('client_id'), svc.clientId);
    assert.equal(sent.get('client_secret'), svc.secret);
    assert.equal(tokens.access_token, basic.access_token, 'while valid, the same token comes back');
    assert.equal((await restCall(config, srv, USAGE, tokens.access_token)).success, true);
  });

  test('a wrong secret: the library reports the 401 challenge and the RFC 6749 §5.2 body', async () => {
    for (const auth of [client.ClientSecretBasic('wrong-secret'), client.ClientSecretPost('wrong-secret')]) {
      const { config } = await configure(srv, svc, auth);
      const err = await client.clientCredentialsGrant(config).then(() => assert.fail('a token with a wrong secret'), (e) => e);
      assert.equal(err.code, 'OAUTH_WWW_AUTHENTICATE_CHALLENGE', `${err.name}: ${err.message}`);
      assert.equal(err.status, 401);
      assert.equal(err.cause[0].scheme, 'basic');
      assert.deepEqual(await err.response.json(), { error: 'invalid_client', error_description: 'Bad client credentials' });
    }
  });

  test('introspection (RFC 7662) says active, with the client, the user and the lifetime', async () => {
    const { config, seen } = await configure(srv, svc, client.ClientSecretBasic(svc.secret));
    const { access_token: token } = await client.clientCredentialsGrant(config);
    const now = Math.floor(Date.now() / 1000);
    const i = await client.tokenIntrospection(config, token);
    assert.equal(seen.at(-1).url, `${srv.url}/oauth2/introspect`);
    assert.equal(i.active, true, JSON.stringify(i));
    assert.equal(i.client_id, svc.clientId);
    assert.equal(i.username, EMAIL);
    assert.equal(i.sub, EMAIL);
    assert.equal(i.scope, EMAIL);
    assert.equal(i.token_type.toLowerCase(), 'bearer');
    assert.ok(Number.isInteger(i.iat) && Number.isInteger(i.exp), JSON.stringify(i));
    assert.equal(i.exp - i.iat, 3600, 'the default lifetime');
    assert.ok(i.exp > now, 'not expired');
    // client_secret_post works for introspection too
    const viaPost = await client.tokenIntrospection((await configure(srv, svc, client.ClientSecretPost(svc.secret))).config, token);
    assert.equal(viaPost.active, true);
  });

  test('revocation (RFC 7009): inactive on introspection, 601 on REST, and a new token after', async () => {
    const { config, seen } = await configure(srv, svc, client.ClientSecretBasic(svc.secret));
    const { access_token: token } = await client.clientCredentialsGrant(config);
    assert.equal((await restCall(config, srv, USAGE, token)).success, true, 'usable before revocation');
    assert.equal(await client.tokenRevocation(config, token), undefined, 'the library accepts the 200');
    assert.equal(seen.at(-1).url, `${srv.url}/oauth2/revoke`);
    assert.equal(new URLSearchParams(seen.at(-1).body).get('token'), token);
    assert.deepEqual(await client.tokenIntrospection(config, token), { active: false });
    const denied = await restCall(config, srv, USAGE, token);
    assert.equal(denied.success, false, JSON.stringify(denied));
    assert.deepEqual(denied.errors, [{ code: '601', message: 'Access token invalid' }]);
    // the client simply asks again
    const fresh = await client.clientCredentialsGrant(config);
    assert.notEqual(fresh.access_token, token, 'a revoked token is not handed out again');
    assert.equal((await client.tokenIntrospection(config, fresh.access_token)).active, true);
    assert.equal((await restCall(config, srv, USAGE, fresh.access_token)).success, true);
  });
});
