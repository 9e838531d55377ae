// latchkey serve: the REST guard (reference §4–6; issue 3 "Guarded REST calls") on
// /rest/v1/stats/usage.json: how the token is presented, the envelope, 601/602 with
// their exact messages, 610 and 605, and the RateLimit headers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  FORM_CT, REQUEST_ID, UM, USAGE, assertOk, assertRestError, assertUmError, assertUmOk, call, cli, creds, form,
  identity, makeInstance, makeUmInstance, rest, sleep, startServer, token, um,
} from './server-lib.mjs';

// '"rate";q=100;w=20, "daily";q=50000;w=86400' -> {rate: {q: 100, w: 20}, daily: {...}}
function parseRateLimit(h) {
  const out = {};
  for (const item of (h || '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, ...params] = item.split(';');
    const o = {};
    for (const p of params) {
      const [k, v] = p.split('=');
      o[k.trim()] = Number(v);
    }
    out[name.trim().replace(/^"|"$/g, '')] = o;
  }
  return out;
}

describe('REST guard', { concurrency: true }, () => {
  describe('default configuration', { concurrency: 1 }, () => {
    let inst;
    let srv;
    let svc;
    let tok;
    before(async () => {
      inst = makeInstance(null, { users: ['api@example.com'] });
      svc = inst.users[0].service;
      srv = await startServer(null, inst.db);
      tok = await token(srv, svc);
    });
    after(async () => {
      await srv?.stop();
      inst?.remove();
    });

    test('Authorization: Bearer → the success envelope', async () => {
      const r = await rest(srv, USAGE, tok);
      assertOk(r);
      assert.match(r.headers.get('content-type'), /^application\/json/);
      assert.deepEqual(Object.keys(r.json).filter((k) => k !== 'warnings').sort(), ['requestId', 'result', 'success']);
      if ('warnings' in r.json) assert.deepEqual(r.json.warnings, []);
      // the scheme name is case-insensitive (RFC 7235)
      assertOk(await call(`${srv.url}${USAGE}`, { headers: { Authorization: `bearer ${tok}` } }), 'lower-case scheme');
      // request ids differ from call to call
      const ids = new Set();
      for (let i = 0; i < 5; i++) ids.add((await rest(srv, USAGE, tok)).json.requestId);
      assert.equal(ids.size, 5, `request ids: ${[...ids]}`);
    });

    test('the legacy access_token query parameter works by default', async () => {
      assertOk(await rest(srv, USAGE, undefined, { query: { access_token: tok } }), 'legacy query token');
    });

    test('no token → 601 "Access token invalid" in the failure envelope, HTTP 200', async () => {
      const r = await rest(srv, USAGE);
      assertRestError(r, 601, 'Access token invalid');
      assert.deepEqual(Object.keys(r.json).sort(), ['errors', 'requestId', 'success', 'warnings']);
      assert.deepEqual(r.json.warnings, []);
      assert.equal(typeof r.json.errors[0].code, 'string', 'the code is a quoted number');
      assert.match(r.headers.get('content-type'), /^application\/json/);
      // token checks come before the route: an unknown path without a token is 601 too
      assertRestError(await rest(srv, '/rest/v1/leads.json'), 601, 'Access token invalid', 'unknown path, no token');
    });

    test('garbage, malformed and foreign tokens → 601', async () => {
      const cases = {
        garbage: { Authorization: 'Bearer garbage' },
        'right length, unknown': { Authorization: `Bearer ${'A'.repeat(tok.length)}` },
        'one character changed': { Authorization: `Bearer ${tok.slice(0, -1)}${tok.endsWith('A') ? 'B' : 'A'}` },
        'with a suffix': { Authorization: `Bearer ${tok}x` },
        'not token68': { Authorization: 'Bearer a b' },
        'empty bearer': { Authorization: 'Bearer ' },
        'Basic scheme': { Authorization: `Basic ${Buffer.from(`${svc.clientId}:${svc.secret}`).toString('base64')}` },
        'other scheme': { Authorization: `Token ${tok}` },
        'client secret as token': { Authorization: `Bearer ${svc.secret}` },
      };
      for (const [what, headers] of Object.entries(cases))
        assertRestError(await call(`${srv.url}${USAGE}`, { headers }), 601, 'Access token invalid', what);
      assertRestError(await rest(srv, USAGE, undefined, { query: { access_token: 'nope' } }), 601, 'Access token invalid', 'bad legacy token');
    });

    test('unknown path under /rest with a valid token → 610 "Requested resource not found"', async () => {
      for (const path of ['/rest/v1/leads.json', '/rest/v1/stats/usage', '/rest/', '/rest/v1/stats/usage.json/x'])
        assertRestError(await rest(srv, path, tok), 610, 'Requested resource not found', path);
    });

    test('a method the route does not take → 605 "HTTP Method not supported"', async () => {
      for (const method of ['POST', 'PUT', 'DELETE'])
        assertRestError(await rest(srv, USAGE, tok, { method }), 605, 'HTTP Method not supported', method);
    });

    test('counted calls carry RateLimit-Policy and RateLimit (IETF draft); rejected ones are not counted', async () => {
      const r1 = await rest(srv, USAGE, tok);
      assertOk(r1);
      const policy = parseRateLimit(r1.headers.get('ratelimit-policy'));
      assert.deepEqual(policy.rate, { q: 100, w: 20 }, `RateLimit-Policy: ${r1.headers.get('ratelimit-policy')}`);
      assert.deepEqual(policy.daily, { q: 50000, w: 86400 }, `RateLimit-Policy: ${r1.headers.get('ratelimit-policy')}`);
      const s1 = parseRateLimit(r1.headers.get('ratelimit'));
      assert.ok(s1.rate && Number.isInteger(s1.rate.r) && s1.rate.t >= 0 && s1.rate.t <= 20, `RateLimit: ${r1.headers.get('ratelimit')}`);
      assert.ok(s1.daily && s1.daily.r < 50000 && s1.daily.t > 0 && s1.daily.t <= 86400, `RateLimit: ${r1.headers.get('ratelimit')}`);
      // 601 and 605 answers do not count: the remaining calls go down by one only
      assertRestError(await rest(srv, USAGE), 601);
      assertRestError(await rest(srv, USAGE, tok, { method: 'POST' }), 605);
      const r2 = await rest(srv, USAGE, tok);
      const s2 = parseRateLimit(r2.headers.get('ratelimit'));
      assert.equal(s2.daily.r, s1.daily.r - 1, `daily remaining: ${r1.headers.get('ratelimit')} then ${r2.headers.get('ratelimit')}`);
      assert.ok(s2.rate.r <= s1.rate.r - 1, `rate remaining: ${r1.headers.get('ratelimit')} then ${r2.headers.get('ratelimit')}`);
      // no limit headers on an uncounted 601
      const r3 = await rest(srv, USAGE);
      assert.equal(r3.headers.get('ratelimit'), null, 'no RateLimit on a 601');
    });

    test('identity calls do not count against the limits', async () => {
      const before = parseRateLimit((await rest(srv, USAGE, tok)).headers.get('ratelimit'));
      for (let i = 0; i < 5; i++) assert.equal((await identity(srv, creds(svc))).status, 200);
      const after = parseRateLimit((await rest(srv, USAGE, tok)).headers.get('ratelimit'));
      assert.equal(after.daily.r, before.daily.r - 1);
    });
  });

  test('--legacy-query-token false: the query parameter is refused with 601, the header still works', async (t) => {
    const inst = makeInstance(t, { users: ['api@example.com'] });
    const srv = await startServer(t, inst.db, ['--legacy-query-token', 'false']);
    const tok = await token(srv, inst.users[0].service);
    assertRestError(await rest(srv, USAGE, undefined, { query: { access_token: tok } }), 601, 'Access token invalid', 'legacy token off');
    assertOk(await rest(srv, USAGE, tok), 'Bearer header');
  });

  test('LATCHKEY_LEGACY_QUERY_TOKEN=false in the environment does the same', async (t) => {
    const inst = makeInstance(t, { users: ['api@example.com'] });
    const srv = await startServer(t, inst.db, [], { env: { LATCHKEY_LEGACY_QUERY_TOKEN: 'false' } });
    const tok = await token(srv, inst.users[0].service);
    assertRestError(await rest(srv, USAGE, undefined, { query: { access_token: tok } }), 601, 'Access token invalid', 'legacy token off (env)');
    assertOk(await rest(srv, USAGE, tok), 'Bearer header');
  });

  test('--token-ttl 2: first use after expiry → 602, then 601; identity then issues a new token', async (t) => {
    const inst = makeInstance(t, { users: ['api@example.com'] });
    const svc = inst.users[0].service;
    const srv = await startServer(t, inst.db, ['--token-ttl', '2']);
    const first = await identity(srv, creds(svc));
    assert.equal(first.status, 200, first.text);
    assert.ok(first.json.expires_in >= 1 && first.json.expires_in <= 2, `expires_in ${first.json.expires_in}`);
    const tok = first.json.access_token;
    assertOk(await rest(srv, USAGE, tok), 'before expiry');
    await sleep(first.json.expires_in * 1000 + 1100);
    assertRestError(await rest(srv, USAGE, tok), 602, 'Access token expired', 'first use after expiry');
    assertRestError(await rest(srv, USAGE, tok), 601, 'Access token invalid', 'second use after expiry');
    assertRestError(await rest(srv, USAGE, undefined, { query: { access_token: tok } }), 601, 'Access token invalid', 'third use');
    const again = await identity(srv, creds(svc));
    assert.equal(again.status, 200, again.text);
    assert.notEqual(again.json.access_token, tok, 'a new token after expiry');
    assert.ok(again.json.expires_in >= 1 && again.json.expires_in <= 2);
    assertOk(await rest(srv, USAGE, again.json.access_token), 'the new token');
  });

  test('expiry: a token never used after its expiry gets 602 once, whichever way it is presented', async (t) => {
    const inst = makeInstance(t, { users: ['api@example.com'] });
    const srv = await startServer(t, inst.db, ['--token-ttl', '1']);
    const tok = await token(srv, inst.users[0].service);
    await sleep(2100);
    assertRestError(await rest(srv, USAGE, undefined, { query: { access_token: tok } }), 602, 'Access token expired', 'legacy query, first use');
    assertRestError(await rest(srv, USAGE, tok), 601, 'Access token invalid', 'header, second use');
    assert.match((await rest(srv, USAGE)).json.requestId, REQUEST_ID);
  });
});

// Marketo's other ways of saying a call (reference §4–5): the cure for 414 (a POST with
// _method=GET, the query string in an x-www-form-urlencoded body) and the access token
// as a form field (`curl -F access_token=…`, Marketo's own authentication example).
describe('_method=GET and the access_token form field', { concurrency: 1 }, () => {
  let inst;
  let srv;
  let tok;
  before(async () => {
    inst = makeInstance(null, { users: ['api@example.com'] });
    srv = await startServer(null, inst.db);
    tok = await token(srv, inst.users[0].service);
  });
  after(async () => {
    await srv?.stop();
    inst?.remove();
  });
  const post = (path, body, { headers = {}, query = '' } = {}) => call(`${srv.url}${path}${query}`, {
    method: 'POST', headers: { 'Content-Type': FORM_CT, ...headers }, body,
  });
  const bearer = () => ({ Authorization: `Bearer ${tok}` });

  test('a query string too long for a URI (414) goes through as a POST with _method=GET and the query in the body', async () => {
    const params = { filterType: 'id', filterValues: Array.from({ length: 1500 }, (_, i) => 1000 + i).join(',') };
    const long = await rest(srv, USAGE, tok, { query: params });
    assert.equal(long.status, 414, `a ${form(params).length}-byte query: ${long.status}`);
    const viaUrl = await post(USAGE, form(params), { headers: bearer(), query: '?_method=GET' });
    const [today] = assertOk(viaUrl, '_method=GET in the URL');
    assert.ok(today.date && Array.isArray(today.users), viaUrl.text);
    assert.match(viaUrl.headers.get('ratelimit') || '', /"daily";r=\d+/, 'answered and counted as the GET it stands for');
    assertOk(await post(USAGE, form({ _method: 'GET', ...params }), { headers: bearer() }), '_method=GET in the body');
    assertOk(await post(USAGE, form({ _method: 'get' }), { headers: bearer() }), 'the value in any case');
    assertOk(await post(USAGE, '', { headers: bearer(), query: '?_method=GET' }), 'no body at all');
  });

  test('_method=GET on another REST route: stats/errors.json answers as its GET does', async () => {
    const ERRORS = '/rest/v1/stats/errors.json';
    assertRestError(await post(ERRORS, form({ x: '1' }), { headers: bearer() }), 605, 'HTTP Method not supported', 'a POST is a POST');
    // the 605 above is counted a moment later: wait until the GET shows it, then compare
    let viaGet;
    for (let i = 0; i < 50; i++) {
      viaGet = assertOk(await rest(srv, ERRORS, tok), 'GET');
      if (viaGet[0]?.errors.some((e) => e.errorCode === '605')) break;
      await sleep(100);
    }
    assert.ok(viaGet[0].errors.some((e) => e.errorCode === '605'), JSON.stringify(viaGet));
    assert.deepEqual(assertOk(await post(ERRORS, form({ _method: 'GET' }), { headers: bearer() }), '_method=GET in the body'), viaGet);
    assert.deepEqual(assertOk(await post(ERRORS, '', { headers: bearer(), query: '?_method=GET' }), '_method=GET in the URL'), viaGet);
  });

  test('_method=GET needs a form body; other _method values leave a POST a POST', async () => {
    const json = await call(`${srv.url}${USAGE}?_method=GET`, {
      method: 'POST', headers: { ...bearer(), 'Content-Type': 'application/json' }, body: '{"filterType":"id"}',
    });
    assertRestError(json, 612, 'Invalid Content Type', 'a JSON body');
    assertRestError(await post(USAGE, 'a=%zz', { headers: bearer(), query: '?_method=GET' }), 612, 'Invalid Content Type', 'a malformed form');
    assertRestError(await post(USAGE, form({ _method: 'DELETE' }), { headers: bearer() }), 605, 'HTTP Method not supported', '_method=DELETE');
    assertRestError(await post(USAGE, form({ x: '1' }), { headers: bearer() }), 605, 'HTTP Method not supported', 'no _method');
    assertRestError(await rest(srv, USAGE, tok, { method: 'PUT', query: { _method: 'GET' } }), 605, 'HTTP Method not supported', 'PUT with _method=GET');
  });

  test('the access_token form field is accepted where the query parameter is', async () => {
    assertOk(await post(USAGE, form({ access_token: tok, _method: 'GET' })), 'urlencoded field');
    // what curl -F sends: multipart/form-data
    const fd = new FormData();
    fd.append('access_token', tok);
    fd.append('_method', 'GET');
    fd.append('file', new Blob(['a,b\n1,2\n'], { type: 'text/csv' }), 'leads.csv');
    assertOk(await call(`${srv.url}${USAGE}`, { method: 'POST', body: fd }), 'multipart field');
    // the token is read: a POST on a GET route is now 605 (authenticated), not 601
    assertRestError(await post(USAGE, form({ access_token: tok })), 605, 'HTTP Method not supported', 'token in the body, no _method');
    assertRestError(await post(USAGE, form({ access_token: 'nope', _method: 'GET' })), 601, 'Access token invalid', 'a bad token in the body');
    // an Authorization header decides, whatever the body says
    assertRestError(await post(USAGE, form({ access_token: tok, _method: 'GET' }), { headers: { Authorization: 'Bearer nope' } }), 601,
      'Access token invalid', 'header and field');
    assertOk(await post(USAGE, form({ access_token: 'nope', _method: 'GET' }), { headers: bearer() }), 'a good header wins');
  });

  test('user management: _method=GET reads the paging from the body; the token only from the header', async (t) => {
    const ui = makeUmInstance(t);
    for (const e of ['b@example.com', 'c@example.com'])
      cli(ui.db, 'user', 'invite', '--email', e, '--first', 'B', '--last', 'C', '--role', 'Reader', '--api-only');
    const s2 = await startServer(t, ui.db);
    const t2 = await token(s2, ui.caller.service);
    const all = assertUmOk(await um(s2, '/allusers.json', t2));
    const page = await call(`${s2.url}${UM}/allusers.json?_method=GET`, {
      method: 'POST', headers: { Authorization: `Bearer ${t2}`, 'Content-Type': FORM_CT }, body: form({ pageOffset: '1', pageSize: '1' }),
    });
    assert.deepEqual(assertUmOk(page, 'allusers.json via _method=GET'), [all[1]]);
    // a read of one user, and the roles, answer as their GETs do
    const one = `${UM}/${encodeURIComponent(all[0].userid)}/user.json`;
    for (const path of [one, `${UM}/roles.json`]) {
      const viaPost = await call(`${s2.url}${path}`, {
        method: 'POST', headers: { Authorization: `Bearer ${t2}`, 'Content-Type': FORM_CT }, body: form({ _method: 'GET' }),
      });
      assert.deepEqual(assertUmOk(viaPost, `${path} via _method=GET`), assertUmOk(await um(s2, path.slice(UM.length), t2)), path);
    }
    const bodyToken = await call(`${s2.url}${UM}/allusers.json`, {
      method: 'POST', headers: { 'Content-Type': FORM_CT }, body: form({ access_token: t2, _method: 'GET' }),
    });
    assertUmError(bodyToken, 401, 601, 'Access token invalid', 'the user management API takes the header only');
    await s2.stop();
  });

  test('--legacy-query-token false turns the form field off too', async (t) => {
    const i2 = makeInstance(t, { users: ['api@example.com'] });
    const s2 = await startServer(t, i2.db, ['--legacy-query-token', 'false']);
    const t2 = await token(s2, i2.users[0].service);
    const r = await call(`${s2.url}${USAGE}`, { method: 'POST', headers: { 'Content-Type': FORM_CT }, body: form({ access_token: t2, _method: 'GET' }) });
    assertRestError(r, 601, 'Access token invalid', 'form field with the legacy parameter off');
    await s2.stop();
  });
});
