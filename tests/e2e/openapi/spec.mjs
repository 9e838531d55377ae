// docs/openapi.yaml as a checker of real answers: find the operation a (method, path)
// belongs to, and check an answer's status, content type and body against what the
// document says (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses it). Answers on paths
// the document does not describe are allowed only when they are the server's "there is
// nothing here" answers (404, 405, Marketo's 610/605) or the HTTP layer's 413/414;
// anything else is drift.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SPEC_YAML = path.join(ROOT, 'docs/openapi.yaml');
const METHODS = ['get', 'head', 'post', 'put', 'delete', 'patch', 'options'];

// docs/openapi.yaml as JSON, converted by the build's own tool (tools/yaml2json.py)
export function loadSpec() {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lk-openapi-')), 'openapi.json');
  try {
    execFileSync('python3', [path.join(ROOT, 'tools/yaml2json.py'), SPEC_YAML, out], { stdio: ['ignore', 'ignore', 'pipe'] });
    return JSON.parse(fs.readFileSync(out, 'utf8'));
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
}

const escapePointer = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');

export class SpecChecker {
  constructor(spec) {
    this.spec = spec;
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    this.ajv.addSchema(spec, 'openapi.json');
    this.compiled = new Map();
    // literal segments before templated ones, as OpenAPI matches
    this.paths = Object.keys(spec.paths).map((p) => {
      const segs = p.split('/');
      const rx = new RegExp(`^${segs.map((s) => (/^\{[^}]+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('/')}$`);
      return { template: p, rx, literals: segs.filter((s) => !s.startsWith('{')).length };
    }).sort((a, b) => b.literals - a.literals);
    this.seen = new Set(); // "get /path" of every operation an answer was checked against
  }

  // every documented operation as "METHOD template"
  operations() {
    const ops = [];
    for (const [p, item] of Object.entries(this.spec.paths))
      for (const m of METHODS) if (item[m]) ops.push(`${m.toUpperCase()} ${p}`);
    return ops;
  }

  match(pathname) {
    return this.paths.find((x) => x.rx.test(pathname))?.template;
  }

  // a $ref'd object and its JSON pointer in the document
  resolve(obj, pointer) {
    let o = obj;
    let p = pointer;
    while (o && o.$ref) {
      p = o.$ref.slice(1);
      o = p.split('/').slice(1).reduce((x, k) => x?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], this.spec);
    }
    return { obj: o, pointer: p };
  }

  validator(pointer) {
    if (!this.compiled.has(pointer)) this.compiled.set(pointer, this.ajv.compile({ $ref: `openapi.json#${pointer}` }));
    return this.compiled.get(pointer);
  }

  // problems (an array of sentences; empty when fine) of a schema check at pointer
  checkSchema(pointer, value) {
    const v = this.validator(pointer);
    if (v(value)) return [];
    return [`body does not match ${pointer}: ${this.ajv.errorsText(v.errors, { separator: '; ' }).slice(0, 800)}`];
  }

  // the generic answers any path may get (see the document's description)
  generic(a) {
    const comp = '/components/schemas';
    const json = (name) => (a.json === undefined ? ['body is not JSON'] : this.checkSchema(`${comp}/${name}`, a.json));
    const isJson = /^application\/json/.test(a.contentType ?? '');
    // a request line or headers beyond the connection's memory: libmicrohttpd's own answer
    if ((a.status === 414 || a.status === 431) && !isJson) return [];
    if (a.status === 413 || a.status === 414) return json('Error');
    // the management listener answers 404 for everything but the operations endpoints
    if (a.status === 404 && a.json && typeof a.json.error === 'string') return json('Error');
    if (a.path.startsWith('/rest/')) return a.status === 200 ? json('RestFailure') : [`status ${a.status} under /rest/`];
    if (a.path.startsWith('/userservice/')) return a.status >= 400 ? json('UmErrors') : [`status ${a.status} under /userservice/`];
    if (a.path.startsWith('/admin/api/')) return [404, 405].includes(a.status) ? json('ConsoleError') : [`status ${a.status}`];
    if (a.status === 404 || a.status === 405) return json('Error');
    return [`status ${a.status}`];
  }

  /*
   * Checks one answer {method, path, status, contentType, body (text or null when too
   * large to keep)}; returns the problems found (empty when it is as documented).
   */
  check(answer) {
    const a = { ...answer, method: answer.method.toLowerCase() };
    if (a.body !== null && a.body !== undefined && a.body !== '') {
      try { a.json = JSON.parse(a.body); } catch { a.json = undefined; }
    }
    const where = `${a.method.toUpperCase()} ${a.path} → ${a.status}`;
    const fail = (problems) => problems.map((p) => `${where}: ${p}`);
    const template = this.match(a.path);
    const item = template && this.spec.paths[template];
    // a POST carrying _method=GET is answered as the GET it stands for (x-latchkey-method-override)
    const asMethod = item && !item[a.method] && a.method === 'post' && item.get && this.spec['x-latchkey-method-override'] ? 'get' : a.method;
    const op = item && item[asMethod];
    if (!op) {
      const problems = this.generic(a);
      if (problems.length === 0) return [];
      return fail([template ? `the document has no ${a.method.toUpperCase()} for ${template}, and this is not a generic refusal (${problems.join('; ')})`
        : `undocumented path (${problems.join('; ')})`]);
    }
    // the management listener's 404 (Error) for a route it does not serve, on any path
    if (a.status === 404 && a.json && typeof a.json.error === 'string' && this.checkSchema('/components/schemas/Error', a.json).length === 0)
      return [];
    if (asMethod === a.method) this.seen.add(`${a.method.toUpperCase()} ${template}`);
    const base = `/paths/${escapePointer(template)}/${asMethod}/responses`;
    const key = op.responses[String(a.status)] ? String(a.status)
      : op.responses[`${String(a.status)[0]}XX`] ? `${String(a.status)[0]}XX` : op.responses.default ? 'default' : null;
    if (!key) {
      // 413/414 and a method the route does not take are the HTTP layer's, on any path
      const generic = this.generic(a);
      return generic.length === 0 ? [] : fail([`status ${a.status} is not documented for ${a.method.toUpperCase()} ${template}`]);
    }
    const { obj: resp, pointer } = this.resolve(op.responses[key], `${base}/${escapePointer(key)}`);
    if (a.method === 'head') return [];
    const content = resp.content ?? {};
    const types = Object.keys(content);
    const mediaType = (a.contentType ?? '').split(';')[0].trim().toLowerCase();
    if (types.length === 0) {
      return a.body ? fail([`the document says no body, the answer has ${a.body.length} bytes (${mediaType})`]) : [];
    }
    if (!types.includes(mediaType)) return fail([`content type ${mediaType || '(none)'} not documented (${types.join(', ')})`]);
    if (a.body === null) return []; // too large to keep: its type was checked
    if (mediaType === 'application/json') {
      if (a.json === undefined) return fail(['body is not JSON']);
      return fail(this.checkSchema(`${pointer}/content/${escapePointer(mediaType)}/schema`, a.json));
    }
    return [];
  }
}

/*
 * The routes the server's C sources declare, as "METHOD /path/{}" (path parameters
 * written "{}"): the table in src/http/routes.c and the console API's table in
 * src/api/admin.c. So a route nobody documented fails the test even before a suite
 * calls it.
 */
export function sourceRoutes() {
  const routesC = fs.readFileSync(path.join(ROOT, 'src/http/routes.c'), 'utf8');
  const adminC = fs.readFileSync(path.join(ROOT, 'src/api/admin.c'), 'utf8');
  const macros = Object.fromEntries([...routesC.matchAll(/^#define (\w+) "([^"]*)"/gm)].map((m) => [m[1], m[2]]));
  const out = new Set();
  const add = (methods, p) => {
    for (const m of methods.split(/\s+/).filter(Boolean)) out.add(`${m} ${p.replace(/\*/g, '{}')}`);
  };
  const table = routesC.slice(routesC.indexOf('const lk_route lk_routes[] = {'), routesC.indexOf('{NULL, NULL,'));
  for (const m of table.matchAll(/\{"([A-Z ]+)",\s*((?:\w+\s+)?"[^"]*")\s*,\s*(LK_ROUTE_\w+)/g)) {
    const [, methods, expr, kind] = m;
    const lit = expr.match(/^(?:(\w+)\s+)?"([^"]*)"$/);
    const p = (lit[1] ? macros[lit[1]] : '') + lit[2];
    if (kind === 'LK_ROUTE_ADMIN') continue; // the console API: its own table below
    add(methods, p);
  }
  const admin = adminC.slice(adminC.indexOf('static const admin_route ROUTES[] = {'));
  for (const m of admin.slice(0, admin.indexOf('};')).matchAll(/\{"([A-Z]+)",\s*"([^"]+)"/g)) add(m[1], `/admin/api/${m[2]}`);
  return out;
}

export const normalize = (op) => op.replace(/\{[^}]+\}/g, '{}');
