// Static checks of the console's files (no server, no browser): both translations are
// complete and consistent, every key the code uses exists, every message the server can
// send has its German translation, every audit area and action is offered and
// translated, every audit detail's name is labelled, German says "erstellen" only,
// nothing builds HTML from strings, nothing inline that the Content-Security-Policy
// would block, and meson embeds every file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { auditDetailKeys, serverMessages, serverWords } from './server-messages.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DIR = path.join(ROOT, 'src/console');
const read = (f) => fs.readFileSync(path.join(DIR, f), 'utf8');
const EN = JSON.parse(read('i18n-en.json'));
const DE = JSON.parse(read('i18n-de.json'));
const JS = fs.readdirSync(DIR).filter((f) => f.endsWith('.js'));
const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('English and German have the same keys, no empty text, the same placeholders', () => {
  assert.deepEqual(Object.keys(DE).sort(), Object.keys(EN).sort());
  for (const [k, v] of Object.entries(EN)) {
    assert.ok(typeof v === 'string' && v.trim(), `en ${k} empty`);
    assert.ok(typeof DE[k] === 'string' && DE[k].trim(), `de ${k} empty`);
    assert.deepEqual(placeholders(DE[k]), placeholders(v), `placeholders of ${k}`);
  }
  // the German labels the issue asks for
  for (const [k, v] of [['nav.usersRoles', 'Benutzer und Rollen'], ['invite.button', 'Neuen Benutzer einladen'],
    ['user.apiOnly', 'Nur API'], ['invite.send', 'Senden'], ['action.next', 'Weiter'], ['roles.tab', 'Rollen'],
    ['roles.new', 'Neue Rolle'], ['nav.webservices', 'Webservices'], ['nav.audit', 'Prüfpfad'], ['logins.tab', 'Anmeldeverlauf'],
    // the email actions
    ['users.resend', 'Einladung erneut senden'], ['users.deleteInvitation', 'Einladung löschen'],
    ['users.resetPassword', 'Passwort zurücksetzen'], ['login.forgot', 'Passwort vergessen?']])
    assert.equal(DE[k], v, k);
});

test('every translation key the code uses exists', () => {
  const missing = [];
  for (const f of JS) {
    const src = read(f);
    for (const m of src.matchAll(/\btn?\('([^']+)'/g)) if (!(m[1] in EN)) missing.push(`${f}: ${m[1]}`);
    // keys handed over as values: t(n.key), confirm labels, notices
    for (const m of src.matchAll(/(?:key|Key|notice): '([a-z]+\.[A-Za-z0-9.]+)'/g)) if (!(m[1] in EN)) missing.push(`${f}: ${m[1]}`);
  }
  const dynamic = [
    ...['active', 'pending', 'locked'].map((s) => `status.${s}`),
    ...['1', '7', '30', '180', 'all'].map((p) => `filter.period.${p}`),
    ...['0', '3600', '86400', '604800'].map((g) => `services.grace.${g}`),
    ...['1', '2', '3'].map((n) => `invite.step${n}`),
    ...['1', '2', '3', '4', '5'].map((n) => `admin.path.${n}`),
    'lang.en', 'lang.de', 'login.expired', 'login.signedOut',
    // the two single-use link pages (page-auth.js tokenPage: accept.* and reset.*)
    ...['accept', 'reset'].flatMap((p) => ['title', 'intro', 'submit', 'invalid', 'noToken'].map((k) => `${p}.${k}`)),
    // the email queue (page-webservices.js)
    ...['queued', 'sent', 'failed', 'cancelled'].map((s) => `mail.status.${s}`),
    ...['invitation', 'password_reset', 'expiry_notice', 'admin_added', 'admin_removed', 'email_changed'].map((k) => `mail.kind.${k}`),
    'mail.transport.smtp', 'mail.transport.outbox', 'mail.server', 'mail.folder',
    // the audit trail's new actions (page-audit.js ACTIONS)
    ...['Resend Invitation', 'Accept Invitation', 'Reset Password', 'Forgot Password', 'Set Password'].map((a) => `audit.action.${a}`),
    'roles.desc.Admin', 'duration.minutes', 'duration.seconds', 'duration.seconds.one', 'date.format',
  ];
  for (const k of dynamic) if (!(k in EN)) missing.push(k);
  assert.deepEqual(missing, []);
});

test('no HTML is built from strings; no inline script or style', () => {
  for (const f of JS) {
    const src = read(f);
    assert.doesNotMatch(src, /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(/, f);
    assert.doesNotMatch(src, /setAttribute\(\s*'style'|\.style\.|\.style\s*=|cssText/, f);
  }
  const html = read('index.html');
  for (const m of html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)) {
    assert.match(m[0], /\bsrc="\/console\/[\w.-]+\.js"/, 'scripts come from files');
    assert.equal(m[1].trim(), '', 'no inline script');
  }
  assert.doesNotMatch(html, /\sstyle=|<style|\son\w+=/i, 'no inline style or handlers');
  // the only text of the shell is its <noscript> line
  const text = html.replace(/<noscript>[\s\S]*?<\/noscript>/, '').replace(/<title>[^<]*<\/title>/, '').replace(/<[^>]+>/g, '').trim();
  assert.equal(text, '');
});

test('meson embeds every console file; base names are unique', () => {
  const meson = fs.readFileSync(path.join(ROOT, 'meson.build'), 'utf8');
  const m = /console_files = files\(([\s\S]*?)\)/.exec(meson);
  assert.ok(m, 'console_files in meson.build');
  const listed = [...m[1].matchAll(/'src\/console\/([^']+)'/g)].map((x) => x[1]).sort();
  assert.deepEqual(listed, fs.readdirSync(DIR).sort());
  assert.equal(new Set(listed).size, listed.length);
});

test('every message the server can send the console has its German translation, reason included', () => {
  const doc = JSON.parse(read('messages-de.json'));
  const messages = serverMessages();
  assert.ok(messages.length > 100, `the sources were read (${messages.length} messages)`);
  // the shapes the server builds messages in are read: both sides of a ?:, a #define or
  // static const char array, the sign-in throttle, the store's own refusals
  const from = (file, template) => messages.some((m) => m.file === file && m.template === template);
  assert.ok(from('src/core/user.c', '%s is an API-only user: no invitation is needed, because no email is sent'), 'the ?: of user.c, its first side');
  assert.ok(from('src/core/user.c', '%s has already accepted the invitation; send a password reset instead'), 'the ?: of user.c, its second side');
  assert.ok(from('src/core/session.c', 'the session has ended; sign in again'), 'a #define');
  assert.ok(from('src/core/password.c', 'this password reset link is not valid any more (used, expired or replaced); ask for a new one on the sign-in page'), 'a static const char array');
  assert.ok(from('src/api/admin.c', 'too many failed sign-ins; try again later'), 'the sign-in throttle');
  assert.ok(messages.some((m) => m.file.startsWith('src/store/') && m.template === "no user has the email or user id '%s'"), 'the store');
  assert.ok(messages.some((m) => m.template === 'the user the service belongs to does not exist'), "the store's .fk_msg");
  assert.ok(!messages.some((m) => /^%s(: %s)*$/.test(m.template)), 'no template without words of its own');
  assert.ok(!messages.some((m) => /schema version/.test(m.template)), 'nothing of opening a database');
  const untranslated = messages.filter((m) => !(m.template in doc.templates)).map((m) => `${m.file}: ${m.template}`);
  assert.deepEqual(untranslated, [], 'messages without a German translation');
  const words = serverWords();
  assert.ok(words.length > 20, `the values were read (${words.length})`);
  assert.deepEqual(words.filter((w) => !(w in doc.words)), [], 'English values without a German translation');
  // a translation names each value the message has (runs of %s count as one), no more
  for (const [en, de] of Object.entries(doc.templates)) {
    const n = en.split(/(?:%(?:\.\d+)?(?:ll|l|z)?[sd])+/).length - 1;
    const used = [...de.matchAll(/\{(\d+)\}/g)].map((m) => Number(m[1]));
    assert.ok(used.every((i) => i >= 1 && i <= n), `${en} → ${de}: values 1..${n}`);
    assert.doesNotMatch(de, /%[sd]/, `${de}: a printf conversion left`);
  }
});

test('the audit trail offers and translates every area, action and actor the server records', () => {
  const audit = read('page-audit.js');
  const list = (name) => [...new RegExp(`const ${name} = \\[([\\s\\S]*?)\\];`).exec(audit)[1].matchAll(/'([^']+)'/g)].map((m) => m[1]);
  const areas = new Set(list('AREAS'));
  const actions = new Set(list('ACTIONS'));
  const recorded = [];
  for (const dir of ['src/core']) {
    for (const f of fs.readdirSync(path.join(ROOT, dir)).filter((x) => x.endsWith('.c'))) {
      const src = fs.readFileSync(path.join(ROOT, dir, f), 'utf8');
      for (const m of src.matchAll(/lk_audit_json\(op, "([^"]+)", "([^"]+)"/g)) recorded.push([m[1], m[2]]);
      // helpers that take the action as an argument: audit(op, "Add", …), audit_mail(op, "Cancel", …)
      const area = /lk_audit_json\(op, "([^"]+)", action/.exec(src)?.[1];
      if (area) {
        for (const m of src.matchAll(/\b(?:audit|audit_mail)\(op, (?:[^,]*\? )?"([^"]+)"(?: : "([^"]+)")?/g)) {
          recorded.push([area, m[1]]);
          if (m[2]) recorded.push([area, m[2]]);
        }
        for (const m of src.matchAll(/\baction = "([^"]+)"/g)) recorded.push([area, m[1]]);
      }
    }
  }
  assert.ok(recorded.length > 30, `the sources were read (${recorded.length})`);
  const missing = [];
  for (const [area, action] of recorded) {
    if (!areas.has(area)) missing.push(`area ${area} not in the filter`);
    if (!actions.has(action)) missing.push(`action ${action} not in the filter`);
    for (const [lang, dict] of [['en', EN], ['de', DE]]) {
      if (!(`audit.area.${area}` in dict)) missing.push(`${lang}: audit.area.${area}`);
      if (!(`audit.action.${action}` in dict)) missing.push(`${lang}: audit.action.${action}`);
    }
  }
  // Denied events: the attempt ("User Edit": an area and an action, each translated)
  const attempts = new Set();
  for (const f of fs.readdirSync(path.join(ROOT, 'src/core')).filter((x) => x.endsWith('.c')).map((x) => `src/core/${x}`).concat(
    fs.readdirSync(path.join(ROOT, 'src/api')).filter((x) => x.endsWith('.c')).map((x) => `src/api/${x}`))) {
    const src = fs.readFileSync(path.join(ROOT, f), 'utf8');
    for (const m of src.matchAll(/\b(?:lk_authz_\w+|authz_new_grants|lk_service_may_use)\((?:[^,()]|\([^()]*\))+, ([^;]*?)[,)]/g))
      for (const lit of m[1].matchAll(/"([A-Z][a-z]+ [A-Za-z ]+)"/g)) attempts.add(lit[1]);
  }
  assert.ok(attempts.has('User Edit') && attempts.has('Service Get Token'), [...attempts].join(', '));
  for (const a of attempts) {
    const [, area, action] = /^(\w+) (.+)$/.exec(a);
    for (const [lang, dict] of [['en', EN], ['de', DE]]) {
      if (!(`audit.area.${area}` in dict)) missing.push(`${lang}: audit.area.${area} (Denied ${a})`);
      if (!(`audit.action.${action}` in dict)) missing.push(`${lang}: audit.action.${action} (Denied ${a})`);
    }
  }
  // who: the actors the server names without a person ("system", "setup", …)
  const actors = new Set();
  for (const f of ['src/core/session.c', 'src/core/mailq.c', 'src/core/password.c', 'src/api/admin.c'])
    for (const m of fs.readFileSync(path.join(ROOT, f), 'utf8').matchAll(/->actor = "([^"]+)"|\.actor = "([^"]+)"/g)) actors.add(m[1] || m[2]);
  assert.ok(actors.has('system') && actors.has('setup'), [...actors].join(', '));
  for (const a of actors) for (const [lang, dict] of [['en', EN], ['de', DE]]) if (!(`audit.actor.${a}` in dict)) missing.push(`${lang}: audit.actor.${a}`);
  assert.deepEqual([...new Set(missing)], []);
  assert.ok(recorded.some(([a, x]) => a === 'Email' && x === 'Send'), 'the email area was found');
});

test("every member the server writes into an audit event's details has an English and a German label", () => {
  const keys = auditDetailKeys();
  // the reader found the builders: a snapshot (json_pack), a member set on its own, a change
  for (const [key, file] of [['pattern', 'src/core/gwroute.c'], ['droppedKey', 'src/core/token_keys.c'], ['rolesAdded', 'src/core/user.c']])
    assert.ok(keys.some((k) => k.key === key && k.file === file), `${key} of ${file} was read`);
  // the mail queue's template values are not audit details
  assert.ok(!keys.some((k) => k.key === 'subject_user'), 'the mail templates are left out');
  const missing = [];
  for (const { file, key } of keys)
    for (const [lang, dict] of [['en', EN], ['de', DE]]) if (!(`audit.detail.${key}` in dict)) missing.push(`${lang}: audit.detail.${key} (${file})`);
  assert.deepEqual(missing, []);
});

test('German uses one verb for making things: erstellen, never anlegen', () => {
  const texts = [...Object.values(DE), ...Object.values(JSON.parse(read('messages-de.json')).templates)];
  const anlegen = texts.filter((v) => /\b(anleg\w*|angeleg\w*|leg(en|t)\b.*\ban\b[.)]?$)/i.test(v) && !/\bLink\b/.test(v));
  assert.deepEqual(anlegen, []);
  assert.ok(texts.some((v) => /\berstell/.test(v)));
});
