// The sentences the server can put in a console error, read from the C sources (so a new
// message cannot go untranslated): the format strings of lk_fail() in src/core and in the
// storage code the console's calls reach (src/store), of lk_admin_fail() and of the sign-in
// throttle in src/api/admin*.c, and the store's foreign-key refusals (.fk_msg). A message
// may be picked by a ?: (both sides are read), or named (a #define or a static const char
// array of the same file). Used by console-static.test.mjs, which checks that
// src/console/messages-de.json translates each of them, and by german-words.test.mjs.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

// the arguments of the call whose '(' is at open, as source text, split at top-level commas
function callArgs(src, open) {
  const args = [];
  let depth = 0;
  let cur = '';
  for (let i = open + 1; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      cur += src.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === '(' || c === '{' || c === '[') depth++;
    if (c === ')' || c === '}' || c === ']') {
      if (depth === 0) {
        args.push(cur.trim());
        return args;
      }
      depth--;
    }
    if (c === ',' && depth === 0) {
      args.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  return args;
}

// a C expression made only of adjacent string literals → its text; else null
function literal(expr) {
  if (!/^("(?:[^"\\]|\\.)*"\s*)+$/.test(expr)) return null;
  return [...expr.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]).join('')
    .replace(/\\"/g, '"').replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
}

// the index of the first top-level `ch` of a C expression at or after `from`
// (outside strings and brackets; a nested ?: is skipped when looking for its ':'); -1 if none
function topLevel(expr, ch, from = 0) {
  let depth = 0;
  let nested = 0;
  for (let i = from; i < expr.length; i++) {
    const c = expr[i];
    if (c === '"' || c === "'") {
      while (expr[++i] !== c) if (expr[i] === '\\') i++;
      continue;
    }
    if ('({['.includes(c)) depth++;
    else if (')}]'.includes(c)) depth--;
    else if (depth === 0 && c === ch && nested === 0) return i;
    else if (depth === 0 && ch === ':' && c === '?') nested++;
    else if (depth === 0 && ch === ':' && c === ':') nested--;
  }
  return -1;
}

// the messages an argument can be: a literal; the format of lk_arena_printf(arena, "…",
// …); either side of cond ? A : B; a name the file defines as a literal
function messages(expr, src) {
  const e = expr.trim();
  const q = topLevel(e, '?');
  if (q >= 0) {
    const colon = topLevel(e, ':', q + 1);
    if (colon < 0) return [];
    return [...messages(e.slice(q + 1, colon), src), ...messages(e.slice(colon + 1), src)];
  }
  const lit = literal(e);
  if (lit !== null) return [lit];
  const m = /^lk_arena_printf\s*\(/.exec(e);
  if (m) return messages(callArgs(e, m[0].length - 1)[1] || '', src);
  if (/^[A-Za-z_]\w*$/.test(e)) {
    const lits = '((?:"(?:[^"\\\\]|\\\\.)*"\\s*)+)';
    const def = new RegExp(`^#define ${e}\\s+${lits}$|^static const char ${e}\\[\\] = ${lits};`, 'm').exec(src);
    const text = def ? literal((def[1] || def[2]).trim()) : null;
    return text === null ? [] : [text];
  }
  return [];
}

// a template with no word of its own ("%s", "%s: %s") carries someone else's text (the
// database's own error, a message built elsewhere): there is nothing of ours to translate
const hasWords = (t) => /[A-Za-z]{2,}/.test(t.replace(/%(?:\.\d+)?(?:ll|l|z)?[sd]/g, ''));

// the C files of a folder, subfolders included, as paths from ROOT
const cFiles = (dir) => fs.readdirSync(path.join(ROOT, dir), { recursive: true })
  .filter((f) => f.endsWith('.c')).sort().map((f) => `${dir}/${f}`);

// The storage code no console call can meet: a backup, a restore and the inspection of
// a database file are the command line's (latchkey backup/restore/doctor), and opening,
// checking and migrating a database happen before the server answers anyone. Functions
// are left out by name, so that a message in a new function is checked.
const STORE_CLI_ONLY = ['src/store/store.c', 'src/store/sqlite/sqlite_backup.c', 'src/store/sqlite/sqlite_inspect.c'];
const STORE_OPENING = new Set(['lk_store_sqlite_open', 'make_parent_dirs', 'create_private_file', 'open_failure',
  'apply_settings', 'embedded_max_version', 'apply_migration', 'migrate_locked', 'refusal', 'connect_url',
  'query_value', 'known_version']);

// the function definitions of a C file, in order: {name, start, body} (a definition opens
// with '{' on a line of its own and ends with '}' at the start of a line, as everywhere in
// latchkey's C)
const functions = (src) => [...src.matchAll(/^[A-Za-z][^;{}()]*?\b(\w+)\([^;{}]*\)\n\{([\s\S]*?)^\}/gm)]
  .map((m) => ({ name: m[1], start: m.index, body: m[2] }));

// the name of the function whose body holds src[index]
function enclosingFunction(src, index) {
  let name = '';
  for (const f of functions(src)) {
    if (f.start > index) break;
    name = f.name;
  }
  return name;
}

// the calls that carry a message, and the index of its argument (file: only there)
const CALLS = [
  { fn: 'lk_fail', at: 3 },
  { fn: 'lk_admin_fail', at: 4 },
  { fn: 'deny', at: 4, file: 'src/core/authz.c' }, // whose lk_fail passes "%s"
  { fn: 'throttled', at: 2, file: 'src/api/admin.c' }, // the sign-in throttle's 429
];

// [{file, template}] of every message in the console's reach
export function serverMessages() {
  const files = [
    ...cFiles('src/core'),
    ...cFiles('src/api').filter((f) => /\/admin[^/]*\.c$/.test(f)),
    ...cFiles('src/store').filter((f) => !STORE_CLI_ONLY.includes(f)),
  ];
  const out = new Map();
  const add = (t, file) => { if (hasWords(t) && !out.has(t)) out.set(t, file); };
  const pattern = new RegExp(`\\b(${CALLS.map((c) => c.fn).join('|')})\\s*\\(`, 'g');
  for (const file of files) {
    const src = fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const m of src.matchAll(pattern)) {
      const call = CALLS.find((c) => c.fn === m[1]);
      if (call.file && call.file !== file) continue;
      if (file.startsWith('src/store/') && STORE_OPENING.has(enclosingFunction(src, m.index))) continue;
      const line = src.slice(src.lastIndexOf('\n', m.index) + 1, m.index + 1);
      if (/^\s*(static\s+)?(lk_code|void|bool)\s/.test(line)) continue; // a definition
      const args = callArgs(src, m.index + m[0].length - 1);
      for (const t of messages(args[call.at] || '', src)) add(t, file);
    }
    // the store's refusal when a row another one needs is missing ("%s" of fk_msg)
    for (const m of src.matchAll(/\.fk_msg = ("(?:[^"\\]|\\.)*")/g)) add(literal(m[1]), file);
  }
  return [...out].map(([template, file]) => ({ file, template }));
}

// every string literal of the argument at index `at` of each call to fn in file
function literalArgs(file, fn, at) {
  const src = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const out = [];
  for (const m of src.matchAll(new RegExp(`\\b${fn}\\s*\\(`, 'g'))) {
    const arg = (callArgs(src, m.index + m[0].length - 1)[at] || '').replace(/"\s+"/g, ''); // adjacent literals are one
    for (const s of arg.matchAll(/"((?:[^"\\]|\\.)*)"/g)) out.push(s[1].replace(/\\"/g, '"'));
  }
  return out;
}

// The English words and phrases that messages carry as values (a field's label, a
// status, a reason, why an address is refused): messages-de.json translates them too.
export function serverWords() {
  const words = new Set([
    ...literalArgs('src/core/user.c', 'lk_check_name', 2), ...literalArgs('src/core/user.c', 'lk_check_text', 2),
    ...['role.c', 'service.c', 'permission.c', 'workspace.c'].flatMap((f) => [
      ...literalArgs(`src/core/${f}`, 'lk_check_name', 2), ...literalArgs(`src/core/${f}`, 'lk_check_text', 2)]),
    ...literalArgs('src/core/user.c', 'check_not_last_admin', 2),
    ...literalArgs('src/core/limits.c', 'check_bound', 2),
    ...literalArgs('src/core/user.c', 'lk_authz_not_self', 3),
    ...literalArgs('src/util/cidr.c', 'refuse', 2),
  ]);
  const cidr = fs.readFileSync(path.join(ROOT, 'src/util/cidr.c'), 'utf8');
  for (const m of cidr.matchAll(/\*why = "((?:[^"\\]|\\.)*)"/g)) words.add(m[1]);
  const user = fs.readFileSync(path.join(ROOT, 'src/core/user.c'), 'utf8');
  for (const m of user.matchAll(/\bwhy = (?:[^;]*: )?"([^"]+)"/g)) words.add(m[1]);
  for (const m of user.matchAll(/case LK_STATUS_\w+: return "(\w+)"/g)) words.add(m[1]);
  // the store's "a %s with that %s already exists" / "%s: the %s's %s is required": what
  // kind of record (.noun) and which unique column, '_' read as a space, as lk_sq_fail
  // and lk_pg_fail write them
  for (const file of cFiles('src/store').filter((f) => !STORE_CLI_ONLY.includes(f)))
    for (const m of fs.readFileSync(path.join(ROOT, file), 'utf8').matchAll(/\.noun = "([^"]+)"/g)) words.add(m[1]);
  for (const file of fs.readdirSync(path.join(ROOT, 'src/store'), { recursive: true }).filter((f) => f.endsWith('.sql')))
    for (const m of fs.readFileSync(path.join(ROOT, 'src/store', file), 'utf8').matchAll(/^\s*(\w+)\s[^,\n]*\bUNIQUE\b/gim))
      words.add(m[1].toLowerCase().replace(/_/g, ' '));
  // a label given as a variable ("label"), or adjacent literals read in pieces, is not a word
  return [...words].filter((w) => w && !/^%/.test(w));
}

// the object keys a jansson json_pack() format gives, from its call's argument list
// (args[0] the format): "{s:s, s:o}", "k1", v1, "k2", v2 → the literal keys
function packKeys(args) {
  const fmt = literal(args[0] || '');
  if (fmt === null) return [];
  const keys = [];
  const stack = [];
  let arg = 1;
  let isKey = false; // the next conversion is an object's key
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i];
    if (c === '{' || c === '[') {
      stack.push(c);
      isKey = c === '{';
    } else if (c === '}' || c === ']') {
      stack.pop();
      isKey = false;
    } else if (c === ',') {
      isKey = stack.at(-1) === '{';
    } else if (c === ':') {
      isKey = false;
    } else if ('sbiIfoOn'.includes(c)) {
      let used = c === 'n' ? 0 : 1;
      while ('#%+?*'.includes(fmt[i + 1] || '_')) { // s#, s% (a length), s++ (more strings), o?, o*
        i++;
        if ('#%+'.includes(fmt[i])) used++;
      }
      if (isKey) {
        const k = literal(args[arg] || '');
        if (k !== null) keys.push(k);
      }
      arg += used;
    }
  }
  return keys;
}

// Every member name the server can write into an audit event's details: the keys of the
// json_pack() formats, of json_object_set*() and of user.c's change_field() in
// src/core, where the audit events are made. Left out: what the mail queue hands its
// templates (a function that calls enqueue() and records no audit event).
export function auditDetailKeys() {
  const keys = new Map();
  for (const file of cFiles('src/core')) {
    const src = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const mailOnly = new Set(functions(src)
      .filter((f) => /\benqueue\(/.test(f.body) && !/\blk_audit_json\(/.test(f.body)).map((f) => f.name));
    for (const m of src.matchAll(/\b(json_pack|json_object_set(?:_new)?|change_field)\s*\(/g)) {
      const line = src.slice(src.lastIndexOf('\n', m.index) + 1, m.index + 1);
      if (/^(static\s+)?(lk_code|void)\s/.test(line) || mailOnly.has(enclosingFunction(src, m.index))) continue;
      const args = callArgs(src, m.index + m[0].length - 1);
      const found = m[1] === 'json_pack' ? packKeys(args) : [literal(args[1] || '')].filter((k) => k !== null);
      for (const k of found) if (!keys.has(k)) keys.set(k, file);
    }
  }
  return [...keys].map(([key, file]) => ({ file, key }));
}
