// Static checks of the console's files (no server, no browser): both translations are
// complete and consistent, every key the code uses exists, nothing builds HTML from
// strings, nothing inline that the Content-Security-Policy would block, and meson
// embeds every file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

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
