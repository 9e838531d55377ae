// The sentences the server can put in a console error: the format strings of lk_fail()
// in src/core and of lk_admin_fail() in src/api/admin*.c, read from the C sources (so a
// new message cannot go untranslated). Used by console-static.test.mjs, which checks
// that src/console/messages-de.json translates each of them.
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

// the message of an argument: a literal, or the format of lk_arena_printf(arena, "…", …)
function message(expr) {
  const lit = literal(expr);
  if (lit !== null) return lit;
  const m = /^lk_arena_printf\s*\(/.exec(expr);
  if (!m) return null;
  return literal(callArgs(expr, m[0].length - 1)[1] || '');
}

// [{file, template}] of every lk_fail / lk_admin_fail message in the console's reach
export function serverMessages() {
  const files = [
    ...fs.readdirSync(path.join(ROOT, 'src/core')).filter((f) => f.endsWith('.c')).map((f) => `src/core/${f}`),
    ...fs.readdirSync(path.join(ROOT, 'src/api')).filter((f) => /^admin.*\.c$/.test(f)).map((f) => `src/api/${f}`),
  ];
  const out = new Map();
  for (const file of files) {
    const src = fs.readFileSync(path.join(ROOT, file), 'utf8');
    // lk_fail(err, code, field, FMT, …), lk_admin_fail(c, status, code, field, MSG, …),
    // and authz.c's deny(op, attempt, target, extra, FMT, …), whose lk_fail passes "%s"
    const FORMAT_AT = { lk_fail: 3, lk_admin_fail: 4, deny: 4 };
    for (const m of src.matchAll(/\b(lk_fail|lk_admin_fail|deny)\s*\(/g)) {
      if (m[1] === 'deny' && !file.endsWith('/authz.c')) continue;
      const line = src.slice(src.lastIndexOf('\n', m.index) + 1, m.index + 1);
      if (/^\s*(static\s+)?(lk_code|void)\s/.test(line)) continue; // a definition
      const args = callArgs(src, m.index + m[0].length - 1);
      const t = message(args[FORMAT_AT[m[1]]] || '');
      if (t && t !== '%s' && !out.has(t)) out.set(t, file);
    }
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
  // a label given as a variable ("label"), or adjacent literals read in pieces, is not a word
  return [...words].filter((w) => w && !/^%/.test(w));
}
